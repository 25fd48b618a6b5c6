#include "workers/dashboard.hpp"

#include <algorithm>
#include <thread>
#include <utility>

#include <fmt/format.h>

#include "subjects/subjects.hpp"
#include "workers/log_input.hpp"
#include "workers/ops_http.hpp"
#include "workers/runtime.hpp"

namespace services {

namespace {

using SteadyClock = std::chrono::steady_clock;
/// A section changed more often than this is sent at most this often.
constexpr auto kMinInterval = std::chrono::milliseconds(250);
/// A comment line after this long without an event (proxies and browsers drop idle streams).
constexpr auto kKeepAlive = std::chrono::seconds(15);
constexpr auto kHealthEvery = std::chrono::seconds(1);

obs::HttpResponse json_error(int status, std::string_view message) {
  std::string body = "{\"error\":";
  codec::append_json_string(body, message);
  body += ",\"field\":\"\"}\n";
  return obs::HttpResponse{status, "application/json", std::move(body), {}};
}

}  // namespace

// ---------------------------------------------------------------- model

DashboardModel::DashboardModel(std::size_t max_points, portfolio::Valuation valuation)
    : max_points_(std::max<std::size_t>(max_points, 4)), portfolio_(std::move(valuation)) {}

std::string_view DashboardModel::name(Section s) {
  switch (s) {
    case kMeta: return "meta";
    case kPnl: return "pnl";
    case kOrders: return "orders";
    case kTrading: return "trading";
    case kHealth: return "health";
    case kSections: break;
  }
  return "?";
}

void DashboardModel::bump(Section s) {
  ++versions_[s];
  ++changes_;
  cv_.notify_all();
}

void DashboardModel::add_point(core::TimestampNs ts) {
  const Point p{ts / 1'000'000, portfolio_.snapshot(false).total_pnl};
  latest_point_ = p;
  if (points_seen_++ % stride_ != 0) return;
  equity_.push_back(p);
  if (equity_.size() <= max_points_) return;
  // Every other point, and from now on one every 2nd (4th ...) candidate.
  std::vector<Point> kept;
  for (std::size_t i = 0; i < equity_.size(); i += 2) kept.push_back(equity_[i]);
  equity_ = std::move(kept);
  stride_ *= 2;
  points_seen_ = 1;  // the last point kept starts the next stride
}

bool DashboardModel::on_event(std::uint64_t seq, std::string_view subject, std::string_view data) {
  std::lock_guard lock(mu_);
  ++events_;
  log_seq_ = std::max(log_seq_, seq);
  bool changed = false;
  if (subject == subjects::kTradingExecutions) {
    auto r = dec_.decode_execution_report(data);
    if (!r) return false;
    // Positions and P&L, as the reporter keeps them (pkg/portfolio: every report).
    portfolio_.on_execution(*r);
    bump(kPnl);
    changed = true;
    if (r->last_qty.is_positive()) {
      traded_ = true;
      add_point(r->ts_event);
    }
    // A refused cancel or replace changes no order (its id may be the replace's new one).
    if (r->exec_type == core::ExecType::cancel_rejected) {
      if (rebuilt_) bump(kMeta);
      return changed;
    }
    if (r->exec_type == core::ExecType::replaced && r->orig_client_order_id) working_.erase(*r->orig_client_order_id);
    if (core::is_terminal(r->order_status)) working_.erase(r->client_order_id);
    else working_[r->client_order_id] = std::move(*r);
    bump(kOrders);
    changed = true;
  } else if (subject == subjects::kRiskState) {
    auto r = dec_.decode_risk_event(data);
    if (!r) return false;
    if (auto* st = std::get_if<core::RiskStateChanged>(&*r)) state_ = std::move(*st);
    else policy_ = std::move(std::get<core::RiskPolicyChanged>(*r));
    bump(kTrading);
    changed = true;
  } else if (subject.starts_with(subjects::kMarketDataPrefix)) {
    // Marks, as the reporter takes them: decoded, the symbol its subject's, plausible.
    auto r = dec_.decode_market_data(data);
    if (!r) {
      const natsio::Message m{subject, data, {}};
      auto a = corporate_action_of(dec_, m);
      if (!a) return false;  // an instrument status, or bad input the workers refuse
      portfolio_.on_action(*a);
      if (!traded_) return false;
      add_point(a->ts_event);
      bump(kPnl);
      changed = true;
      if (rebuilt_) bump(kMeta);
      return changed;
    }
    auto md = market_result(subject, std::move(*r));
    if (!md || check_.check(*md)) return false;
    std::visit(overloaded{[&](const core::Quote& q) { portfolio_.on_quote(q); },
                          [&](const core::Trade& t) { portfolio_.on_trade(t); },
                          [&](const core::Bar& b) { portfolio_.on_bar(b); }},
               *md);
    // Nothing to show before the first fill: a mark moves no P&L then.
    if (!traded_) return false;
    add_point(market_ts(*md));
    bump(kPnl);
    changed = true;
  }
  if (rebuilt_ && changed) bump(kMeta);
  return changed;
}

void DashboardModel::set_rebuilt() {
  std::lock_guard lock(mu_);
  rebuilt_ = true;
  bump(kMeta);
}

void DashboardModel::set_health(std::string json) {
  std::lock_guard lock(mu_);
  if (json == health_) return;
  health_ = std::move(json);
  bump(kHealth);
}

std::string DashboardModel::pnl_json() const {
  std::string out = "{\"metrics\":";
  out += traded_ ? codec::encode(portfolio_.snapshot(false)) : std::string("null");
  out += ",\"equity\":{\"points\":[";
  std::vector<Point> points = equity_;
  if (latest_point_ && (points.empty() || points.back().ts_ms != latest_point_->ts_ms ||
                        points.back().pnl != latest_point_->pnl))
    points.push_back(*latest_point_);
  std::optional<core::Money> lo, hi;
  for (std::size_t i = 0; i < points.size(); ++i) {
    out += fmt::format("{}[{},\"{}\"]", i ? "," : "", points[i].ts_ms, points[i].pnl.to_string());
    if (!lo || points[i].pnl < *lo) lo = points[i].pnl;
    if (!hi || points[i].pnl > *hi) hi = points[i].pnl;
  }
  out += "],\"min\":";
  out += lo ? fmt::format("\"{}\"", lo->to_string()) : std::string("null");
  out += ",\"max\":";
  out += hi ? fmt::format("\"{}\"", hi->to_string()) : std::string("null");
  out += "}}";
  return out;
}

std::string DashboardModel::orders_json() const {
  std::string out = "{\"orders\":[";
  std::size_t n = 0;
  for (const auto& [id, r] : working_) {
    if (n == kMaxOrdersShown) break;
    if (n++) out += ',';
    out += codec::encode(r);
  }
  out += fmt::format("],\"more\":{}}}", working_.size() - n);
  return out;
}

std::string DashboardModel::trading_json() const {
  return fmt::format("{{\"state\":{},\"policy\":{}}}", state_ ? codec::encode(*state_) : std::string("null"),
                     policy_ ? codec::encode(*policy_) : std::string("null"));
}

std::string DashboardModel::json(Section s) const {
  std::lock_guard lock(mu_);
  switch (s) {
    case kMeta:
      return fmt::format("{{\"rebuilt\":{},\"events\":{},\"log_seq\":{}}}", rebuilt_, events_, log_seq_);
    case kPnl: return pnl_json();
    case kOrders: return orders_json();
    case kTrading: return trading_json();
    case kHealth: return health_;
    case kSections: break;
  }
  return "null";
}

std::uint64_t DashboardModel::version(Section s) const {
  std::lock_guard lock(mu_);
  return versions_[s];
}

std::uint64_t DashboardModel::changes() const {
  std::lock_guard lock(mu_);
  return changes_;
}

std::uint64_t DashboardModel::wait_change(std::uint64_t seen, int timeout_ms) const {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return changes_ != seen; });
  return changes_;
}

void DashboardModel::wake() const { cv_.notify_all(); }

// ---------------------------------------------------------------- HTTP

Dashboard::Dashboard(OpsHttpApi& api, portfolio::Valuation valuation)
    : api_(api), model_(600, std::move(valuation)) {}
Dashboard::~Dashboard() = default;

void Dashboard::set_health_source(std::function<std::string()> source) {
  std::lock_guard lock(health_mu_);
  health_source_ = std::move(source);
  health_asked_ = {};
}

void Dashboard::refresh_health() {
  std::lock_guard lock(health_mu_);
  if (!health_source_ || SteadyClock::now() - health_asked_ < kHealthEvery) return;
  health_asked_ = SteadyClock::now();
  model_.set_health(health_source_());
}

obs::HttpResponse Dashboard::page(const obs::HttpRequest& req) {
  if (auto refused = api_.refusal(req)) return std::move(*refused);
  obs::HttpResponse r{200, "text/html; charset=utf-8", std::string(dashboard_page()), {}};
  // Everything the page uses is its own (no CDN); it may not be framed (clickjacking of
  // the halt button), and it runs no script but its own.
  r.headers["Content-Security-Policy"] =
      "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; "
      "img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
  r.headers["X-Frame-Options"] = "DENY";
  r.headers["Cache-Control"] = "no-store";
  return r;
}

obs::HttpResponse Dashboard::events(const obs::HttpRequest& req) {
  if (auto refused = api_.refusal(req)) return std::move(*refused);
  // A slot for the stream's life: taken here, given back when the stream (and so this
  // lambda's copy of the slot) is destroyed.
  struct Slot {
    explicit Slot(std::atomic<int>& count) : n(count) {}
    ~Slot() { --n; }
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    std::atomic<int>& n;
  };
  if (++streams_ > kMaxStreams) {
    --streams_;
    auto r = json_error(503, fmt::format("the dashboard serves at most {} live feeds at once; try again later",
                                         kMaxStreams));
    r.headers["Retry-After"] = "5";
    return r;
  }
  auto slot = std::make_shared<Slot>(streams_);
  struct State {
    bool started = false;
    std::uint64_t sent[DashboardModel::kSections] = {};
    SteadyClock::time_point last_write = SteadyClock::now();
    SteadyClock::time_point last_send{};
  };
  auto st = std::make_shared<State>();
  obs::HttpResponse r{200, "text/event-stream", "", {{"Cache-Control", "no-store"}, {"X-Accel-Buffering", "no"}}};
  r.stream = [this, slot, st](obs::HttpStreamSink& sink) -> bool {
    refresh_health();
    if (!st->started) {
      st->started = true;
      std::string out = "retry: 3000\nevent: snapshot\ndata: {";
      for (int s = 0; s < DashboardModel::kSections; ++s) {
        const auto sec = static_cast<DashboardModel::Section>(s);
        st->sent[s] = model_.version(sec);  // read before the JSON: a change meanwhile is sent again
        out += fmt::format("{}\"{}\":{}", s ? "," : "", DashboardModel::name(sec), model_.json(sec));
      }
      out += "}\n\n";
      st->last_write = st->last_send = SteadyClock::now();
      return sink.write(out);
    }
    // At most one round of updates per kMinInterval; wait for a change up to a second
    // (then look at health and the keep-alive again, and at whether the server stops).
    const auto since = SteadyClock::now() - st->last_send;
    if (since < kMinInterval) std::this_thread::sleep_for(kMinInterval - since);
    if (sink.stopping()) return false;
    std::uint64_t seen = 0;
    for (int s = 0; s < DashboardModel::kSections; ++s) seen += st->sent[s];
    model_.wait_change(seen, 1000);
    if (sink.stopping()) return false;
    refresh_health();
    std::string out;
    for (int s = 0; s < DashboardModel::kSections; ++s) {
      const auto sec = static_cast<DashboardModel::Section>(s);
      const auto v = model_.version(sec);
      if (v == st->sent[s]) continue;
      st->sent[s] = v;
      out += fmt::format("event: {}\ndata: {}\n\n", DashboardModel::name(sec), model_.json(sec));
    }
    const auto now = SteadyClock::now();
    if (!out.empty()) st->last_send = now;
    else if (now - st->last_write >= kKeepAlive) out = ": keep-alive\n\n";
    if (out.empty()) return true;
    st->last_write = now;
    return sink.write(out);
  };
  return r;
}

std::vector<obs::HttpServer::Route> Dashboard::routes() {
  return {
      {"GET", "/dashboard", [this](const obs::HttpRequest& r) { return page(r); }},
      {"GET", "/dashboard/events", [this](const obs::HttpRequest& r) { return events(r); }},
  };
}

// ---------------------------------------------------------------- feed

DashboardFeed::DashboardFeed(Dashboard& dashboard, Runtime& rt, eventstore::EventStore* store,
                             const std::string& stream, std::function<core::OpsStatus()> health)
    : dashboard_(dashboard) {
  auto& model = dashboard_.model();
  // An event the model cannot take (an absurd value: core::ArithmeticError) is
  // quarantined, as the workers do: ops never crash-loops on its own log.
  auto fn = [&model, &rt](const LogEvent& ev) {
    guarded(rt, ev, [&] { model.on_event(ev.seq, ev.subject, ev.data); });
  };
  // As the workers do (event_log.hpp): the live tail from end + 1 first, then the history
  // up to end, then the tail opens after what the history delivered.
  const auto end = rt.bus().log_end(stream);
  live_ = rt.bus().follow(rt, store, stream, end, fn);
  history_ = rt.bus().read_history(store, stream, 0, end, fn);
  model.set_rebuilt();
  dashboard_.set_health_source([health = std::move(health)] { return codec::encode(health()); });
  live_->open(history_.last_seq);
}

DashboardFeed::~DashboardFeed() {
  dashboard_.set_health_source({});
  live_.reset();
}

}  // namespace services
