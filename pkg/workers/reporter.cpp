#include "workers/reporter.hpp"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "subjects/subjects.hpp"

namespace services {

// ---------------------------------------------------------------- reporter

ReporterService::ReporterService(Runtime& rt, core::DurationNs metrics_interval_ns, eventstore::EventStore* store,
                                 const std::string& stream)
    : rt_(rt),
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
}

ReporterService::~ReporterService() { live_.reset(); }

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
