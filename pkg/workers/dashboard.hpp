/// @file dashboard.hpp
/// @brief The web dashboard ops serves (issue 13): GET /dashboard, one self-contained
/// page (dashboard.html, embedded at build time), and GET /dashboard/events, its live
/// feed as Server-Sent Events. Both need a person's credentials, as the Ops API does
/// (OpsHttpApi::refusal); the page's halt and resume buttons call the Ops API.
///
/// What the page shows is kept here (DashboardModel), rebuilt from the event log as the
/// workers rebuild their state (DashboardFeed: the history from the event store, then
/// the stream, then the live tail, in stream order): a restarted ops shows the same
/// working orders, positions, trading state and policy as before. Positions and P&L are
/// kept with the reporter's own library (pkg/portfolio), from the same events (market
/// data, execution reports), so they move with each fill and quote; the reporter's
/// performance.metrics come only every REPORTER_METRICS_INTERVAL_S of event time. Only
/// health comes from ops itself (OpsService::status, its heartbeats).
///
/// The feed's events (`event: <name>`, `data:` one JSON object):
/// - `snapshot` on connect: {"meta", "pnl", "orders", "trading", "health"}, each as below;
/// - then `meta`, `pnl`, `orders`, `trading`, `health`: a section again, whole, when it
///   changed (at most 4 a second per section; health once a second at most);
/// - a comment line (`: keep-alive`) after 15 s without an event.
/// Sections: meta {"rebuilt": bool, "events": n, "log_seq": n}; pnl
/// {"metrics": the portfolio as a performance.metrics message (positions per symbol,
/// realized, unrealized and total P&L, peak, drawdown, fills...; null before the first
/// fill), "equity": {"points": [[ts_ms, "total_pnl"], ...], "min": "...", "max": "..."}}
/// (a point per fill and per mark after it: event time in ms, exact P&L); orders {"orders": [...], "more": n} (working orders, by
/// client_order_id, at most kMaxOrdersShown); trading {"state": risk.state or null,
/// "policy": risk.policy or null}, as recorded; health: ops.status. Money and
/// quantities are decimal strings, as on the bus.
///
/// Thread-safety: every public method is thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "codec/codec.hpp"
#include "core/market_check.hpp"
#include "core/messages.hpp"
#include "eventstore/event_store.hpp"
#include "obs/http_server.hpp"
#include "portfolio/portfolio.hpp"
#include "workers/bus.hpp"

namespace services {

class OpsHttpApi;
class Runtime;

/// The page's state, from the events of the log. Pure of I/O.
class DashboardModel {
 public:
  static constexpr std::size_t kMaxOrdersShown = 500;
  /// `max_points`: the equity chart's bound (>= 4): past it, every other point is dropped
  /// and only every 2nd (then 4th...) candidate (a fill, a mark after the first fill) adds
  /// one, so the points stay evenly spread over the events; the latest value is always
  /// the last point.
  /// `valuation`: the currencies the P&L is valued in (portfolio/fx.hpp).
  explicit DashboardModel(std::size_t max_points = 600, portfolio::Valuation valuation = {});

  enum Section { kMeta, kPnl, kOrders, kTrading, kHealth, kSections };
  static std::string_view name(Section s);

  /// One event of the log, in stream order: trading.executions (execution_report),
  /// risk.state (risk.state, risk.policy) and market.data.<symbol> (marks, taken as the
  /// reporter takes them: an implausible one is skipped, core::MarketCheck); anything
  /// else (and what does not decode: the workers refuse it too) is ignored. Returns true
  /// if the page changed. Throws core::ArithmeticError for a fill whose values overflow
  /// the portfolio's arithmetic (the caller quarantines it, log_input.hpp guarded).
  bool on_event(std::uint64_t seq, std::string_view subject, std::string_view data);
  /// The rebuild from the history is done.
  void set_rebuilt();
  /// Health: ops.status as JSON (codec::encode). Changes its section if different.
  void set_health(std::string json);

  /// A section as JSON, and its version (bumped on each change).
  std::string json(Section s) const;
  std::uint64_t version(Section s) const;
  /// All versions' sum: grows on every change.
  std::uint64_t changes() const;
  /// Waits until changes() != `seen`, or `timeout_ms`; returns changes().
  std::uint64_t wait_change(std::uint64_t seen, int timeout_ms) const;
  /// Wakes every waiter (the server stops).
  void wake() const;

 private:
  void bump(Section s);  ///< mu_ held
  std::string pnl_json() const;
  std::string orders_json() const;
  std::string trading_json() const;

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  codec::Decoder dec_;  ///< under mu_
  std::size_t max_points_;
  std::uint64_t versions_[kSections] = {};
  std::uint64_t changes_ = 0;
  bool rebuilt_ = false;
  std::uint64_t events_ = 0;
  std::uint64_t log_seq_ = 0;
  portfolio::Portfolio portfolio_;
  core::MarketCheck check_;
  bool traded_ = false;  ///< a fill was seen: from then on the chart follows the P&L
  struct Point {
    std::int64_t ts_ms;
    core::Money pnl;
  };
  /// A candidate point: total P&L now, at event time `ts`.
  void add_point(core::TimestampNs ts);  ///< mu_ held
  std::vector<Point> equity_;
  std::optional<Point> latest_point_;  ///< the latest, even if the stride skipped it
  std::uint64_t points_seen_ = 0;
  std::uint64_t stride_ = 1;
  std::map<std::string, core::ExecutionReport> working_;  ///< by client_order_id
  std::optional<core::RiskStateChanged> state_;
  std::optional<core::RiskPolicyChanged> policy_;
  std::string health_ = "null";
};

/// The dashboard's HTTP side: its routes, and the model they show. Create it before the
/// HTTP server (its routes use it) and destroy it after.
class Dashboard {
 public:
  /// At most this many feeds at once (each holds one of the server's threads): past it,
  /// GET /dashboard/events answers 503.
  static constexpr int kMaxStreams = 4;
  /// The server's threads a dashboard needs: the streams, and as many for the Ops API,
  /// health and metrics (browsers keep idle connections open, each holding a thread
  /// until the server's 5 s read timeout).
  static constexpr int kServerThreads = 2 * kMaxStreams;

  /// `api` authenticates (OpsHttpApi::refusal); it must outlive this.
  /// `valuation`: as DashboardModel's.
  explicit Dashboard(OpsHttpApi& api, portfolio::Valuation valuation = {});
  ~Dashboard();
  Dashboard(const Dashboard&) = delete;
  Dashboard& operator=(const Dashboard&) = delete;

  /// GET /dashboard and GET /dashboard/events, for obs::HttpServer.
  std::vector<obs::HttpServer::Route> routes();
  DashboardModel& model() noexcept { return model_; }
  /// Where health comes from (ops: OpsService::status, encoded); empty: none (its
  /// source is gone). Thread-safe.
  void set_health_source(std::function<std::string()> source);
  /// Streams open now.
  int streams() const noexcept { return streams_.load(); }

 private:
  obs::HttpResponse page(const obs::HttpRequest& req);
  obs::HttpResponse events(const obs::HttpRequest& req);
  /// Asks the health source, at most once a second.
  void refresh_health();

  OpsHttpApi& api_;
  DashboardModel model_;
  std::atomic<int> streams_{0};
  std::mutex health_mu_;
  std::function<std::string()> health_source_;                 ///< under health_mu_
  std::chrono::steady_clock::time_point health_asked_{};        ///< under health_mu_
};

/// Feeds a Dashboard's model from the event log: at construction the history (the store
/// `store`, nullptr = none, then `stream`: Bus::read_history) from the start, then the
/// live tail (Bus::follow), in stream order; and health from `health` (called at most
/// once a second, on the server's threads, while this lives). Throws what read_history
/// and follow throw (ops cannot start without its log, as the other workers).
/// Destroying it stops the tail and detaches the health source.
class DashboardFeed {
 public:
  DashboardFeed(Dashboard& dashboard, Runtime& rt, eventstore::EventStore* store, const std::string& stream,
                std::function<core::OpsStatus()> health);
  ~DashboardFeed();
  DashboardFeed(const DashboardFeed&) = delete;
  DashboardFeed& operator=(const DashboardFeed&) = delete;
  /// What the rebuild read, for ops' start-up line.
  const HistoryStats& history() const noexcept { return history_; }

 private:
  Dashboard& dashboard_;
  HistoryStats history_;
  std::unique_ptr<LogTail> live_;
};

/// The page (dashboard.html, embedded into the binary at build time).
std::string_view dashboard_page();

}  // namespace services
