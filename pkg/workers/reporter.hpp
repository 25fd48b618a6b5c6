/// @file reporter.hpp
/// @brief The reporter worker (cmd/reporter): positions, P&L and performance reports.
#pragma once

#include <mutex>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "codec/codec.hpp"
#include "core/market_check.hpp"
#include "workers/log_input.hpp"
#include "portfolio/portfolio.hpp"

namespace services {

/// reporter: positions and P&L marked to market. Consumes the event log (market data,
/// execution reports) with a LogFollower in event-time order (EventTimeInput: a root
/// input is handled only once every report that sorts before it is in), so marks and
/// fills interleave the same way at any speed. Publishes performance.metrics every
/// `metrics_interval_ns` of EVENT time (cause_seq: the message that crossed the
/// interval), and the final report on reports.performance when asked on ops.report
/// and when it stops.
///
/// Restarts are harmless: at start it handles the whole history again (store, then
/// stream) with its metrics held back, and publishes only those the log does not hold.
///
/// Prometheus (Runtime::metrics_text): the portfolio as of the scrape, marked to the
/// latest market data handled: per symbol trader_position, trader_avg_px,
/// trader_mark_px, trader_realized_pnl, trader_unrealized_pnl, trader_commission; and
/// trader_pnl{kind=realized|unrealized|total}, trader_peak_pnl, trader_max_drawdown,
/// trader_gross_notional_traded, trader_fills, trader_orders{outcome=seen|denied|rejected}.
/// Prices and money as their exact decimals (no double), in the instrument's currency.
class ReporterService {
 public:
  /// Throws natsio::NatsError if the stream cannot be read or consumed.
  /// `valuation`: the base currency the totals are in, each symbol's quote currency and
  /// multiplier, configured rates (portfolio/fx.hpp; services::valuation_from).
  ReporterService(Runtime& rt, core::DurationNs metrics_interval_ns, eventstore::EventStore* store,
                  const std::string& stream, portfolio::Valuation valuation = {});
  ~ReporterService();
  /// Publishes the final report on reports.performance and returns it. Thread-safe.
  core::PerformanceReport publish_final();
  const HistoryStats& history() const noexcept { return history_; }

 private:
  void on_event(std::uint64_t seq, std::string_view subject, std::string_view data, bool replay);
  void on_report_request(const natsio::Message& m);
  void maybe_publish_metrics(core::TimestampNs ts, std::uint64_t cause);
  Runtime& rt_;
  codec::Decoder dec_;
  core::MarketCheck check_;
  std::mutex mu_;  ///< guards portfolio_: delivery thread vs publish_final from main
  portfolio::Portfolio portfolio_;
  core::DurationNs interval_;
  core::TimestampNs last_metrics_ts_ = 0;
  EventTimeInput in_;
  Redecide<std::uint64_t> redecide_;  ///< its metrics, by cause_seq, produced again vs in the log
  HistoryStats history_;
  std::vector<std::unique_ptr<BusSubscription>> subs_;
  std::unique_ptr<LogTail> live_;  ///< destroyed (delivery stopped) before what it uses
  std::unique_ptr<Runtime::MetricsRegistration> metrics_;  ///< last: no scrape reads it once it goes
};

/// The portfolio's Prometheus families (see ReporterService) of report `p`.
void write_portfolio_metrics(obs::Exposition& x, const std::string& worker, const core::PerformanceReport& p);

/// reporter's settings (REPORTER_* environment variables).
std::vector<config::Option> reporter_options();
/// metrics_interval_s in ns of event time (0 = no performance.metrics). Throws
/// config::ConfigError if negative.
core::DurationNs metrics_interval_from(const config::Settings& s);

}  // namespace services
