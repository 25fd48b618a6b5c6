#include "services/services.hpp"

#include <algorithm>
#include <tuple>

#include <fmt/format.h>

#include "subjects/subjects.hpp"

namespace services {
namespace {

template <class... Ts>
struct overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
overloaded(Ts...) -> overloaded<Ts...>;

template <class F>
std::unique_ptr<natsio::Subscription> sub(Runtime& rt, std::string_view subject, F&& f) {
  return std::make_unique<natsio::Subscription>(rt.conn(), subject, std::forward<F>(f));
}

core::TimestampNs market_ts(const core::MarketData& md) {
  return std::visit([](const auto& x) { return x.ts_event; }, md);
}

}  // namespace

core::Result<core::MarketData> decode_market(codec::Decoder& dec, const natsio::Message& m) {
  auto r = dec.decode_market_data(m.data);
  if (!r) return r;
  const auto& symbol = std::visit([](const auto& x) -> const std::string& { return x.symbol; }, *r);
  const auto token = m.subject.substr(std::min(m.subject.size(), subjects::kMarketDataPrefix.size()));
  if (token != symbol)
    return core::make_error("symbol", fmt::format("\"{}\" does not match the subject {}", symbol, m.subject));
  return r;
}

// ---------------------------------------------------------------- risk-state

RiskService::RiskService(Runtime& rt, risk::RiskPolicy policy) : rt_(rt), engine_(policy.defaults) {
  engine_.set_policy(std::move(policy));
  subs_.push_back(sub(rt_, subjects::kMarketDataAll, [this](const natsio::Message& m) { on_market(m); }));
  subs_.push_back(sub(rt_, subjects::kTradingExecutions, [this](const natsio::Message& m) { on_execution(m); }));
  subs_.push_back(sub(rt_, subjects::kRiskManagement, [this](const natsio::Message& m) { on_command(m); }));
  subs_.push_back(sub(rt_, subjects::kTradingOrders, [this](const natsio::Message& m) { on_order(m); }));
}

void RiskService::announce() {
  core::RiskStateChanged ev{.trading_state = engine_.state(),
                            .previous_state = engine_.state(),
                            .reason = "risk-state started",
                            .source = "startup",
                            .ts_event = rt_.clock().now()};
  rt_.publish(subjects::kRiskState, codec::encode(ev));
}

core::TimestampNs RiskService::ingress_time() const {
  return market_ts_ != 0 ? market_ts_ : rt_.clock().now();
}

void RiskService::on_market(const natsio::Message& m) {
  rt_.count_in();
  auto r = decode_market(dec_, m);
  if (!r) return rt_.dead_letter(m.subject, r.error(), m.data);
  market_ts_ = std::max(market_ts_, market_ts(*r));
  std::visit(overloaded{[&](const core::Quote& q) { engine_.on_quote(q); },
                        [&](const core::Trade& t) { engine_.on_trade(t); },
                        [&](const core::Bar& b) { engine_.on_bar(b); }},
             *r);
  publish_transitions();  // marks move equity
}

void RiskService::on_execution(const natsio::Message& m) {
  rt_.count_in();
  auto r = dec_.decode_execution_report(m.data);
  if (!r) return rt_.dead_letter(m.subject, r.error(), m.data);
  engine_.on_execution(*r);
  publish_transitions();
}

void RiskService::publish_transitions() {
  // Crisis mode: automatic state changes on a daily loss or a drawdown.
  for (const auto& ev : engine_.take_transitions()) rt_.publish(subjects::kRiskState, codec::encode(ev));
}

void RiskService::on_order(const natsio::Message& m) {
  rt_.count_in();
  auto r = dec_.decode_order_command(m.data);
  if (!r) return rt_.dead_letter(m.subject, r.error(), m.data, m.reply);
  // Hand-typed orders carry no time: stamp them at ingress (ingress_time). From
  // here on the stamped time is data, recorded with the approved order.
  const auto now = ingress_time();
  // Cancels and replaces pass without a check: a halted desk must still be able
  // to pull and shrink orders. Pre-trade checks on replaces that add quantity or
  // move the price need the order's state in risk-state; they come later (issue 3).
  if (!std::holds_alternative<core::OrderSubmit>(*r)) {
    std::visit([&](auto& c) { if (c.ts_event == 0) c.ts_event = now; }, *r);
    const auto out = codec::encode(*r);
    rt_.publish(subjects::kTradingOrdersApproved, out);
    if (!m.reply.empty()) rt_.conn().publish(m.reply, out);
    return;
  }
  auto& order = std::get<core::OrderSubmit>(*r);
  if (order.ts_event == 0) order.ts_event = now;
  const auto decision = engine_.decide(order);  // records approvals (open orders, rate window)
  if (decision.approved) {
    const auto out = codec::encode(order);
    rt_.publish(subjects::kTradingOrdersApproved, out);
    if (!m.reply.empty()) rt_.conn().publish(m.reply, out);
    return;
  }
  const auto denied = risk::denied_report(order, decision.reason, order.ts_event);
  const auto out = codec::encode(denied);
  rt_.publish(subjects::kTradingExecutions, out);
  if (!m.reply.empty()) rt_.conn().publish(m.reply, out);
}

void RiskService::on_command(const natsio::Message& m) {
  rt_.count_in();
  auto r = dec_.decode_risk_command(m.data);
  if (!r) return rt_.dead_letter(m.subject, r.error(), m.data, m.reply);
  const auto ts = r->ts_event != 0 ? r->ts_event : ingress_time();
  const auto reason = r->reason.empty() ? std::string("set by command") : r->reason;
  const auto ev = engine_.set_state(r->trading_state, reason, "manual", ts);
  if (ev) rt_.publish(subjects::kRiskState, codec::encode(*ev));
  if (!m.reply.empty()) {
    const core::RiskStateChanged now{.trading_state = engine_.state(),
                                     .previous_state = ev ? ev->previous_state : engine_.state(),
                                     .reason = engine_.state_reason(),
                                     .source = "manual",
                                     .ts_event = ts};
    rt_.conn().publish(m.reply, codec::encode(now));
  }
}

// ---------------------------------------------------------------- execution

ExecutionService::ExecutionService(Runtime& rt, matching::BrokerConfig cfg, eventstore::EventStore* store,
                                   std::string stream)
    : rt_(rt), broker_(std::move(cfg)) {
  natsio::JetStream js(rt_.conn());
  const std::uint64_t end = js.last_sequence(stream);
  history_ = read_history(store, rt_.conn(), stream, end, [this](const LogEvent& ev) {
    on_event(ev.seq, ev.subject, ev.data, true);
  });
  replaying_ = false;
  for (const auto& id : pending_order_) {
    const auto it = pending_.find(id);
    if (it == pending_.end()) continue;
    rt_.publish(subjects::kTradingExecutions, it->second);
    ++republished_;
  }
  pending_.clear();
  pending_order_.clear();
  live_ = std::make_unique<natsio::OrderedSubscription>(
      rt_.conn(), stream, history_.last_seq + 1,
      [this](const natsio::StreamMessage& m) { on_event(m.seq, m.subject, m.data, false); });
}

void ExecutionService::emit(const std::vector<core::ExecutionReport>& reports) {
  for (const auto& er : reports) {
    auto out = codec::encode(er);
    if (!replaying_) {
      rt_.publish(subjects::kTradingExecutions, out);
      continue;
    }
    pending_order_.push_back(er.exec_id);
    pending_.emplace(er.exec_id, std::move(out));
  }
}

void ExecutionService::on_event(std::uint64_t, std::string_view subject, std::string_view data, bool replay) {
  const natsio::Message m{subject, data, {}};
  if (subject.starts_with(subjects::kMarketDataPrefix)) {
    if (!replay) rt_.count_in();
    auto r = decode_market(dec_, m);
    if (!r) {
      if (!replay) rt_.dead_letter(m.subject, r.error(), m.data);  // reported once, live
      return;
    }
    emit(std::visit(overloaded{[&](const core::Quote& q) { return broker_.on_quote(q); },
                               [&](const core::Trade& t) { return broker_.on_trade(t); },
                               [&](const core::Bar& b) { return broker_.on_bar(b); }},
                    *r));
  } else if (subject == subjects::kTradingOrdersApproved) {
    if (!replay) rt_.count_in();
    auto r = dec_.decode_order_command(data);
    if (!r) {
      if (!replay) rt_.dead_letter(m.subject, r.error(), m.data);
      return;
    }
    emit(std::visit(overloaded{[&](const core::OrderSubmit& o) { return broker_.on_submit(o, o.ts_event); },
                               [&](const core::OrderCancel& c) { return broker_.on_cancel(c, c.ts_event); },
                               [&](const core::OrderReplace& c) { return broker_.on_replace(c, c.ts_event); }},
                    *r));
  } else if (replaying_ && subject == subjects::kTradingExecutions) {
    // A report in the log: if the replay produced it, it was published before.
    auto r = dec_.decode_execution_report(data);
    if (r && pending_.erase(r->exec_id) > 0 && pending_.empty()) pending_order_.clear();
  }
}

// ---------------------------------------------------------------- strategy

StrategyService::StrategyService(Runtime& rt, strategy::MaCrossConfig cfg) : rt_(rt), strategy_(std::move(cfg)) {
  subs_.push_back(sub(rt_, subjects::kTradingExecutions, [this](const natsio::Message& m) { on_execution(m); }));
  subs_.push_back(sub(rt_, subjects::kMarketDataAll, [this](const natsio::Message& m) { on_market(m); }));
}

void StrategyService::on_market(const natsio::Message& m) {
  rt_.count_in();
  auto r = decode_market(dec_, m);
  if (!r) return rt_.dead_letter(m.subject, r.error(), m.data);
  const auto order = std::visit(overloaded{[&](const core::Quote& q) { return strategy_.on_quote(q); },
                                           [&](const core::Trade& t) { return strategy_.on_trade(t); },
                                           [&](const core::Bar& b) { return strategy_.on_bar(b); }},
                                *r);
  if (order) rt_.publish(subjects::kTradingOrders, codec::encode(*order));
}

void StrategyService::on_execution(const natsio::Message& m) {
  rt_.count_in();
  auto r = dec_.decode_execution_report(m.data);
  if (!r) return rt_.dead_letter(m.subject, r.error(), m.data);
  strategy_.on_execution(*r);
}

// ---------------------------------------------------------------- reporter

ReporterService::ReporterService(Runtime& rt, core::DurationNs metrics_interval_ns)
    : rt_(rt), interval_(metrics_interval_ns) {
  subs_.push_back(sub(rt_, subjects::kMarketDataAll, [this](const natsio::Message& m) { on_market(m); }));
  subs_.push_back(sub(rt_, subjects::kTradingExecutions, [this](const natsio::Message& m) { on_execution(m); }));
  subs_.push_back(sub(rt_, subjects::kOpsReport, [this](const natsio::Message& m) { on_report_request(m); }));
}

void ReporterService::maybe_publish_metrics(core::TimestampNs ts) {
  if (interval_ <= 0) return;
  if (last_metrics_ts_ == 0) last_metrics_ts_ = ts;
  if (ts - last_metrics_ts_ < interval_) return;
  last_metrics_ts_ = ts;
  rt_.publish(subjects::kPerformanceMetrics, codec::encode(portfolio_.snapshot(false)));
}

void ReporterService::on_market(const natsio::Message& m) {
  rt_.count_in();
  auto r = decode_market(dec_, m);
  if (!r) return rt_.dead_letter(m.subject, r.error(), m.data);
  std::lock_guard lock(mu_);
  std::visit(overloaded{[&](const core::Quote& q) { portfolio_.on_quote(q); },
                        [&](const core::Trade& t) { portfolio_.on_trade(t); },
                        [&](const core::Bar& b) { portfolio_.on_bar(b); }},
             *r);
  maybe_publish_metrics(market_ts(*r));
}

void ReporterService::on_execution(const natsio::Message& m) {
  rt_.count_in();
  auto r = dec_.decode_execution_report(m.data);
  if (!r) return rt_.dead_letter(m.subject, r.error(), m.data);
  std::lock_guard lock(mu_);
  portfolio_.on_execution(*r);
  maybe_publish_metrics(r->ts_event);
}

core::PerformanceReport ReporterService::publish_final() {
  std::lock_guard lock(mu_);
  auto report = portfolio_.snapshot(true);
  rt_.publish(subjects::kReportsPerformance, codec::encode(report));
  return report;
}

void ReporterService::on_report_request(const natsio::Message& m) {
  rt_.count_in();
  const auto report = publish_final();
  if (!m.reply.empty()) rt_.conn().publish(m.reply, codec::encode(report));
}

// ---------------------------------------------------------------- ops

OpsService::OpsService(Runtime& rt, std::int64_t heartbeat_ms) : rt_(rt), heartbeat_ms_(heartbeat_ms) {
  subs_.push_back(sub(rt_, subjects::kOpsHeartbeatAll, [this](const natsio::Message& m) { on_heartbeat(m); }));
  subs_.push_back(sub(rt_, subjects::kOpsStatus, [this](const natsio::Message& m) { on_status(m); }));
}

void OpsService::on_heartbeat(const natsio::Message& m) {
  rt_.count_in();
  auto r = dec_.decode_heartbeat(m.data);
  if (!r) return rt_.dead_letter(m.subject, r.error(), m.data);
  std::lock_guard lock(mu_);
  seen_[{r->worker, r->instance}] = Seen{*r, rt_.clock().now()};
}

core::OpsStatus OpsService::status() const {
  const auto now = rt_.clock().now();
  core::OpsStatus st{.ts = now};
  std::lock_guard lock(mu_);
  // Ops itself, then every worker heard from; sorted by worker, then instance.
  const auto self = rt_.heartbeat();
  st.workers.push_back({.worker = self.worker, .instance = self.instance, .status = self.status, .alive = true,
                        .age_ms = 0, .msgs_in = self.msgs_in, .msgs_out = self.msgs_out, .errors = self.errors});
  for (const auto& [key, seen] : seen_) {
    if (key.first == self.worker && key.second == self.instance) continue;
    const auto age_ms = (now - seen.received) / 1'000'000;
    st.workers.push_back({.worker = seen.hb.worker,
                          .instance = seen.hb.instance,
                          .status = seen.hb.status,
                          .alive = age_ms <= 3 * heartbeat_ms_,
                          .age_ms = age_ms,
                          .msgs_in = seen.hb.msgs_in,
                          .msgs_out = seen.hb.msgs_out,
                          .errors = seen.hb.errors});
  }
  std::sort(st.workers.begin(), st.workers.end(), [](const auto& a, const auto& b) {
    return std::tie(a.worker, a.instance) < std::tie(b.worker, b.instance);
  });
  return st;
}

void OpsService::on_status(const natsio::Message& m) {
  rt_.count_in();
  if (m.reply.empty()) return;  // a publish without reply subject has nobody to answer
  rt_.conn().publish(m.reply, codec::encode(status()));
}

}  // namespace services
