#include "workers/execution.hpp"

#include <algorithm>
#include <utility>

#include <fmt/format.h>
#include <cstdlib>
#include <filesystem>

#include "subjects/subjects.hpp"
#include "workers/instruments_file.hpp"

namespace services {

ExecutionService::ExecutionService(Runtime& rt, matching::BrokerConfig cfg, eventstore::EventStore* store,
                                   std::string stream)
    : rt_(rt),
      broker_(std::move(cfg)),
      in_(rt, {{"risk-state", {kStageRisk}, {}}}, reacts({kStageRoot, kStageRisk}, kStageExecution), true) {
  // The history in event-time order, as it was handled the first time (the progress
  // markers in it release it the same way); what it leaves waiting is handled live.
  const auto own_progress = subjects::progress(rt_.worker());
  history_ = follow_log(
      rt_, store, stream, in_, live_, [this](auto seq, auto subject, auto data, bool replay) { on_event(seq, subject, data, replay); },
      [this, &own_progress](const LogEvent& ev) {
        // Its own reports in the log, in stream order: those the rebuild produced were
        // published before; one it has not produced yet will not be published again when it is.
        if (ev.subject == subjects::kTradingExecutions) {
          if (auto r = dec_.decode_execution_report(ev.data)) redecide_.in_log(r->exec_id);
        } else if (ev.subject == own_progress) {
          redecide_.own_marker();
        }
      });
  for (const auto& out : redecide_.finish()) {
    rt_.publish(subjects::kTradingExecutions, out);
    ++republished_;
  }
  in_.publish_progress();
  working_orders_.store(static_cast<std::int64_t>(broker_.open_orders()), std::memory_order_relaxed);
  live_->open(history_.last_seq);
  metrics_ = rt_.add_metrics([this](obs::Exposition& x) {
    x.family("trader_execution_reports_total", "counter",
             "Execution reports by exec_type: those its rebuild produced again, and every new one.");
    for (std::size_t i = 0; i < reports_by_exec_type_.size(); ++i)
      x.sample("trader_execution_reports_total",
               {{"worker", rt_.worker()}, {"exec_type", core::to_string(static_cast<core::ExecType>(i))}},
               reports_by_exec_type_[i].load(std::memory_order_relaxed));
    x.family("trader_orders_working", "gauge",
             "Working orders at the paper broker: resting limits, working market rests, untriggered stops.");
    x.sample("trader_orders_working", {{"worker", rt_.worker()}}, working_orders_.load(std::memory_order_relaxed));
    x.family("trader_orders_by_status", "gauge",
             "Orders the paper broker has reported on, by the order_status of each one's newest report.");
    for (std::size_t i = 0; i < orders_by_status_.size(); ++i)
      x.sample("trader_orders_by_status",
               {{"worker", rt_.worker()}, {"order_status", core::to_string(static_cast<core::OrderStatus>(i))}},
               orders_by_status_[i].load(std::memory_order_relaxed));
  });
}

void ExecutionService::emit(std::vector<core::ExecutionReport> reports) {
  if (!reports.empty()) working_orders_.store(static_cast<std::int64_t>(broker_.open_orders()), std::memory_order_relaxed);
  for (auto& er : reports) {
    if (const auto i = static_cast<std::size_t>(er.exec_type); i < reports_by_exec_type_.size())
      reports_by_exec_type_[i].fetch_add(1, std::memory_order_relaxed);
    if (const auto now = static_cast<std::size_t>(er.order_status); now < orders_by_status_.size()) {
      auto [it, fresh] = latest_status_.try_emplace(er.client_order_id, er.order_status);
      if (!fresh) {
        orders_by_status_[static_cast<std::size_t>(it->second)].fetch_sub(1, std::memory_order_relaxed);
        it->second = er.order_status;
      }
      orders_by_status_[now].fetch_add(1, std::memory_order_relaxed);
    }
    er.cause_seq = cause_;  // what it reacts to: the approved command, or the market data it happened on
    if (auto out = redecide_.produced(er.exec_id, [&] { return codec::encode(er); }))
      rt_.publish(subjects::kTradingExecutions, *out);
  }
}

void ExecutionService::on_event(std::uint64_t seq, std::string_view subject, std::string_view data, bool replay) {
  const natsio::Message m{subject, data, {}};
  cause_ = seq;
  if (subject.starts_with(subjects::kMarketDataPrefix)) {
    if (!replay) rt_.count_in();
    const auto& r = decode_market(dec_, m);
    if (!r) {
      if (auto st = dec_.decode_instrument_status(data); st && subject.substr(subjects::kMarketDataPrefix.size()) == st->symbol) {
        if (st->ts_event == 0) st->ts_event = market_ts_;  // hand-typed: the latest market time
        return emit(broker_.on_status(*st));
      }
      if (auto a = corporate_action_of(dec_, m)) return emit(broker_.on_action(*a));
      if (!replay) rt_.refuse(m, r.error());  // reported once, live
      return;
    }
    if (auto why = check_.check(*r)) {  // never filled against, nor kept as the book
      if (!replay) rt_.flag(m.subject, *why);
      return;
    }
    market_ts_ = std::max(market_ts_, market_ts(*r));
    emit(std::visit(overloaded{[&](const core::Quote& q) { return broker_.on_quote(q); },
                               [&](const core::Trade& t) { return broker_.on_trade(t); },
                               [&](const core::Bar& b) { return broker_.on_bar(b); }},
                    *r));
  } else if (subject == subjects::kTradingOrdersApproved) {
    if (!replay) rt_.count_in();
    auto r = dec_.decode_order_command(data);
    if (!r) {
      if (!replay) rt_.refuse(m, r.error());
      return;
    }
    emit(std::visit(overloaded{[&](const core::OrderSubmit& o) { return broker_.on_submit(o, o.ts_event); },
                               [&](const core::OrderCancel& c) { return broker_.on_cancel(c, c.ts_event); },
                               [&](const core::OrderReplace& c) { return broker_.on_replace(c, c.ts_event); }},
                    *r));
  }
}

// ---------------------------------------------------------------- settings


std::vector<config::Option> execution_options() {
  return {{"commission_per_unit", "EXECUTION_COMMISSION_PER_UNIT", "0", "quote currency per unit filled"},
          {"commission_bps", "EXECUTION_COMMISSION_BPS", "0", "basis points of each fill's notional"},
          {"commission_min_per_order", "EXECUTION_COMMISSION_MIN_PER_ORDER", "0", "minimum per order"},
          {"latency_us", "EXECUTION_LATENCY_US", "0", "event-time delay from receipt to the simulated market, microseconds"},
          {"slippage_bps", "EXECUTION_SLIPPAGE_BPS", "0", "market and triggered-stop fills this many bps worse than the touch"},
          {"prob_slippage", "EXECUTION_PROB_SLIPPAGE", "0", "probability (0..1) that such a fill slips one more tick"},
          {"prob_fill_on_limit", "EXECUTION_PROB_FILL_ON_LIMIT", "1", "probability (0..1) that a limit touched exactly at its price fills"},
          {"random_seed", "EXECUTION_RANDOM_SEED", "0", "seed of the fill model's generator (same seed + same log = same fills)"},
          {"stream", "EXECUTION_STREAM", "EVENTS", "JetStream stream of the event log (input and history)"}};
}

matching::BrokerConfig broker_config_from(const config::Settings& s) {
  matching::BrokerConfig b{.commission_per_unit = s.get_decimal("commission_per_unit"),
                           .commission_bps = s.get_decimal("commission_bps"),
                           .commission_min_per_order = s.get_decimal("commission_min_per_order")};
  b.instruments = instruments_from(s);
  b.latency_ns = s.get_int("latency_us") * 1'000;
  if (b.latency_ns < 0) throw config::ConfigError("latency_us: must not be negative");
  b.slippage_bps = s.get_decimal("slippage_bps");
  b.prob_slippage = s.get_decimal("prob_slippage");
  b.prob_fill_on_limit = s.get_decimal("prob_fill_on_limit");
  const auto seed = s.get_int("random_seed");
  if (seed < 0) throw config::ConfigError("random_seed: must not be negative");
  b.random_seed = static_cast<std::uint64_t>(seed);
  if (const auto err = matching::validate(b)) throw config::ConfigError(*err);
  return b;
}


}  // namespace services
