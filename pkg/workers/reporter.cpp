#include "workers/reporter.hpp"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "subjects/subjects.hpp"

namespace services {

// ---------------------------------------------------------------- reporter

ReporterService::ReporterService(Runtime& rt, core::DurationNs metrics_interval_ns, eventstore::EventStore* store,
                                 const std::string& stream, portfolio::Valuation valuation)
    : rt_(rt),
      portfolio_(std::move(valuation)),
      interval_(metrics_interval_ns),
      in_(rt, {{"risk-state", {kStageRisk}, {}}, {"execution", {kStageExecution}, {}}},
          [](int) { return std::optional<int>{}; }, false) {
  history_ = follow_log(
      rt_, store, stream, in_, live_, [this](auto seq, auto subject, auto data, bool replay) { on_event(seq, subject, data, replay); },
      [this](const LogEvent& ev) {
        // Its own metrics in the log, in stream order (as execution's reports), by cause.
        if (ev.subject != subjects::kPerformanceMetrics) return;
        const auto env = dec_.peek(ev.data);
        std::lock_guard lock(mu_);
        if (env && env->cause_seq != 0) redecide_.in_log(env->cause_seq);
      });
  {
    std::lock_guard lock(mu_);
    for (const auto& out : redecide_.finish()) rt_.publish(subjects::kPerformanceMetrics, out);
  }
  subs_.push_back(sub(rt_, subjects::kOpsReport, [this](const natsio::Message& m) { on_report_request(m); }));
  live_->open(history_.last_seq);
  metrics_ = rt_.add_metrics([this](obs::Exposition& x) {
    core::PerformanceReport p;
    {
      std::lock_guard lock(mu_);
      p = portfolio_.snapshot(false);
    }
    write_portfolio_metrics(x, rt_.worker(), p);
  });
}

ReporterService::~ReporterService() {
  metrics_.reset();
  live_.reset();
}

void write_portfolio_metrics(obs::Exposition& x, const std::string& worker, const core::PerformanceReport& p) {
  struct PerSymbol {
    const char* name;
    const char* help;
    core::Decimal core::PositionSnapshot::*field;
  };
  static const PerSymbol per_symbol[] = {
      {"trader_position", "Signed position (+ long, - short), in units of the instrument.", &core::PositionSnapshot::quantity},
      {"trader_avg_px", "Average entry price of the open position.", &core::PositionSnapshot::avg_px},
      {"trader_mark_px", "Last mark: quote mid, else last trade or bar close.", &core::PositionSnapshot::mark_px},
      {"trader_realized_pnl", "Realized P&L of the symbol, commissions deducted.", &core::PositionSnapshot::realized_pnl},
      {"trader_unrealized_pnl", "Unrealized P&L of the open position, marked to market.", &core::PositionSnapshot::unrealized_pnl},
      {"trader_commission", "Commissions paid on the symbol.", &core::PositionSnapshot::commission}};
  for (const auto& f : per_symbol) {
    x.family(f.name, "gauge", f.help);
    for (const auto& pos : p.positions)
      x.sample_number(f.name, {{"worker", worker}, {"symbol", pos.symbol}}, (pos.*f.field).to_string());
  }
  x.family("trader_pnl", "gauge", "P&L of the whole portfolio, by kind (realized, unrealized, total).");
  x.sample_number("trader_pnl", {{"worker", worker}, {"kind", "realized"}}, p.realized_pnl.to_string());
  x.sample_number("trader_pnl", {{"worker", worker}, {"kind", "unrealized"}}, p.unrealized_pnl.to_string());
  x.sample_number("trader_pnl", {{"worker", worker}, {"kind", "total"}}, p.total_pnl.to_string());
  auto one = [&](const char* name, const char* help, const core::Decimal& v) {
    x.family(name, "gauge", help);
    x.sample_number(name, {{"worker", worker}}, v.to_string());
  };
  one("trader_peak_pnl", "Highest total P&L seen.", p.peak_pnl);
  one("trader_max_drawdown", "Largest fall of total P&L from its peak.", p.max_drawdown);
  one("trader_gross_notional_traded", "Sum of |last_qty x last_px| over all fills.", p.gross_notional_traded);
  x.family("trader_fills", "gauge", "Fills in the portfolio's history (the session so far).");
  x.sample("trader_fills", {{"worker", worker}}, p.fills);
  x.family("trader_orders", "gauge", "Orders in the portfolio's history: every client_order_id seen, and those denied or rejected.");
  x.sample("trader_orders", {{"worker", worker}, {"outcome", "seen"}}, p.orders);
  x.sample("trader_orders", {{"worker", worker}, {"outcome", "denied"}}, p.orders_denied);
  x.sample("trader_orders", {{"worker", worker}, {"outcome", "rejected"}}, p.orders_rejected);
}

void ReporterService::maybe_publish_metrics(core::TimestampNs ts, std::uint64_t cause) {
  if (interval_ <= 0) return;
  if (last_metrics_ts_ == 0) last_metrics_ts_ = ts;
  if (ts - last_metrics_ts_ < interval_) return;
  last_metrics_ts_ = ts;
  auto out = redecide_.produced(cause, [&] {
    auto snap = portfolio_.snapshot(false);
    snap.cause_seq = cause;
    return codec::encode(snap);
  });
  if (out) rt_.publish(subjects::kPerformanceMetrics, *out);
}

void ReporterService::on_event(std::uint64_t seq, std::string_view subject, std::string_view data, bool replay) {
  const natsio::Message m{subject, data, {}};
  if (subject.starts_with(subjects::kMarketDataPrefix)) {
    if (auto a = corporate_action_of(dec_, m)) {  // a split or dividend moves positions and cash
      if (!replay) rt_.count_in();
      std::lock_guard lock(mu_);
      portfolio_.on_action(*a);
      maybe_publish_metrics(a->ts_event, seq);
      return;
    }
    auto r = take_market(rt_, dec_, check_, m, replay);
    if (!r) return;
    std::lock_guard lock(mu_);
    std::visit(overloaded{[&](const core::Quote& q) { portfolio_.on_quote(q); },
                          [&](const core::Trade& t) { portfolio_.on_trade(t); },
                          [&](const core::Bar& b) { portfolio_.on_bar(b); }},
               *r);
    maybe_publish_metrics(market_ts(*r), seq);
  } else if (subject == subjects::kTradingExecutions) {
    auto r = take_report(rt_, dec_, m, replay);
    if (!r) return;
    std::lock_guard lock(mu_);
    portfolio_.on_execution(*r);
    maybe_publish_metrics(r->ts_event, seq);
  }
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
  if (!m.reply.empty()) rt_.bus().publish(m.reply, codec::encode(report));
}

// ---------------------------------------------------------------- settings

std::vector<config::Option> reporter_options() {
  return {{"metrics_interval_s", "REPORTER_METRICS_INTERVAL_S", "60",
           "publish performance.metrics every this many seconds of EVENT time (0 = never)"},
          {"stream", "REPORTER_STREAM", "EVENTS", "JetStream stream of the event log (its state at start)"}};
}

core::DurationNs metrics_interval_from(const config::Settings& s) {
  const auto s_ = s.get_int("metrics_interval_s");
  if (s_ < 0) throw config::ConfigError("metrics_interval_s: must not be negative");
  return s_ * core::kNsPerSecond;
}

}  // namespace services
