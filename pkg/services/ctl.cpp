#include "services/ctl.hpp"

#include <chrono>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "codec/codec.hpp"
#include "eventstore/event_store.hpp"
#include "natsio/natsio.hpp"
#include "subjects/subjects.hpp"

namespace services {
namespace {

constexpr const char* kUsage = R"(usage: traderctl COMMAND [options]
Environment: NATS_URL (default nats://127.0.0.1:4222), DATABASE_URL (for `events`).
commands:
  status                          ask ops.status: every worker's health
  report                          ask the reporter (ops.report) for the final performance report
  events                          count recorded events by type and by subject (event store)
  verify                          check the event store's hash chain; exit 1 if any event was
                                  changed, deleted or reordered behind the store's back
  halt [REASON]                   risk.management trading_state.set halted
  reduce [REASON]                 risk.management trading_state.set reducing
  resume [REASON]                 risk.management trading_state.set active
  pub SUBJECT JSON                publish one message (like `nats pub`)
  req SUBJECT JSON                request and print the reply (like `nats req`)
  wait-ready [--timeout-s N] WORKER...    wait until these workers send heartbeats
  wait-idle [--quiet-ms N] [--timeout-s N] wait until no worker's counters move for N ms
options: --json prints raw JSON replies instead of tables
)";

std::string env_or(const char* name, const char* dflt) {
  const char* v = std::getenv(name);
  return v && *v ? v : dflt;
}

struct Args {
  std::string command;
  std::vector<std::string> rest;
  bool json = false;
  std::int64_t timeout_s = 30;
  std::int64_t quiet_ms = 1000;
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string s = argv[i];
    if (s == "--json") a.json = true;
    else if (s == "--timeout-s" && i + 1 < argc) a.timeout_s = std::atoll(argv[++i]);
    else if (s == "--quiet-ms" && i + 1 < argc) a.quiet_ms = std::atoll(argv[++i]);
    else if (a.command.empty()) a.command = s;
    else a.rest.push_back(s);
  }
  return a;
}

core::OpsStatus ask_status(natsio::Connection& conn) {
  auto r = codec::decode_ops_status(conn.request(subjects::kOpsStatus, "", 2'000));
  if (!r) throw std::runtime_error("ops.status reply: " + r.error().to_string());
  return *r;
}

void print_status(const core::OpsStatus& st) {
  fmt::print("{:<12} {:<28} {:<6} {:>8} {:>10} {:>10} {:>7}  {}\n", "worker", "instance", "alive", "age_ms",
             "msgs_in", "msgs_out", "errors", "status");
  for (const auto& w : st.workers)
    fmt::print("{:<12} {:<28} {:<6} {:>8} {:>10} {:>10} {:>7}  {}\n", w.worker, w.instance, w.alive ? "yes" : "NO",
               w.age_ms, w.msgs_in, w.msgs_out, w.errors, w.status);
}

void print_report(const core::PerformanceReport& r) {
  fmt::print("Performance report ({}) at {}\n", r.final_report ? "final" : "interim",
             r.ts_event ? core::format_iso8601(r.ts_event) : std::string("-"));
  fmt::print("  orders {} (denied {}, rejected {}), fills {}, gross notional traded {}\n", r.orders, r.orders_denied,
             r.orders_rejected, r.fills, r.gross_notional_traded);
  fmt::print("  realized P&L {}  unrealized P&L {}  total P&L {}  peak {}  max drawdown {}\n", r.realized_pnl,
             r.unrealized_pnl, r.total_pnl, r.peak_pnl, r.max_drawdown);
  if (r.positions.empty()) return;
  fmt::print("  {:<10} {:>14} {:>12} {:>12} {:>14} {:>14} {:>12} {:>12}\n", "symbol", "position", "avg_px", "mark_px",
             "realized", "unrealized", "bought", "sold");
  for (const auto& p : r.positions)
    fmt::print("  {:<10} {:>14} {:>12} {:>12} {:>14} {:>14} {:>12} {:>12}\n", p.symbol, p.quantity, p.avg_px,
               p.mark_px, p.realized_pnl, p.unrealized_pnl, p.bought_qty, p.sold_qty);
}

int wait_ready(natsio::Connection& conn, const Args& a) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(a.timeout_s);
  std::set<std::string> missing(a.rest.begin(), a.rest.end());
  while (std::chrono::steady_clock::now() < deadline) {
    try {
      for (const auto& w : ask_status(conn).workers)
        if (w.alive) missing.erase(w.worker);
      if (missing.empty()) return 0;
    } catch (const natsio::NatsError&) {  // ops not up yet
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  fmt::print(stderr, "traderctl: not ready after {} s:", a.timeout_s);
  for (const auto& m : missing) fmt::print(stderr, " {}", m);
  fmt::print(stderr, "\n");
  return 1;
}

int wait_idle(natsio::Connection& conn, const Args& a) {
  const auto start = std::chrono::steady_clock::now();
  const auto deadline = start + std::chrono::seconds(a.timeout_s);
  std::map<std::string, std::pair<std::int64_t, std::int64_t>> last;
  auto quiet_since = start;
  while (std::chrono::steady_clock::now() < deadline) {
    std::map<std::string, std::pair<std::int64_t, std::int64_t>> now;
    for (const auto& w : ask_status(conn).workers)
      if (w.alive && w.worker != "ops") now[w.worker + "/" + w.instance] = {w.msgs_in, w.msgs_out};
    const auto t = std::chrono::steady_clock::now();
    if (now != last) {
      last = std::move(now);
      quiet_since = t;
    } else if (t - quiet_since >= std::chrono::milliseconds(a.quiet_ms)) {
      return 0;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  fmt::print(stderr, "traderctl: still busy after {} s\n", a.timeout_s);
  return 1;
}

int set_state(natsio::Connection& conn, const Args& a, core::TradingState st) {
  std::string reason;
  for (const auto& r : a.rest) reason += (reason.empty() ? "" : " ") + r;
  const core::SetTradingState cmd{.trading_state = st, .reason = reason.empty() ? "traderctl" : reason};
  const auto reply = conn.request(subjects::kRiskManagement, codec::encode(cmd), 2'000);
  fmt::print("{}\n", reply);
  return 0;
}

}  // namespace

int run_ctl(int argc, char** argv) {
  const auto a = parse(argc, argv);
  if (a.command.empty() || a.command == "help" || a.command == "--help") {
    fmt::print("{}", kUsage);
    return a.command.empty() ? 2 : 0;
  }
  try {
    if (a.command == "events") {
      const auto url = env_or("DATABASE_URL", "");
      if (url.empty()) throw std::runtime_error("DATABASE_URL is not set");
      eventstore::PgStore store(url);
      fmt::print("Recorded events: {}\n  {:<24} {:>10}\n", store.count(), "type", "count");
      for (const auto& [type, n] : store.count_by_type()) fmt::print("  {:<24} {:>10}\n", type, n);
      fmt::print("  {:<24} {:>10}\n", "subject", "count");
      for (const auto& [subject, n] : store.count_by_subject()) fmt::print("  {:<24} {:>10}\n", subject, n);
      return 0;
    }
    if (a.command == "verify") {
      const auto url = env_or("DATABASE_URL", "");
      if (url.empty()) throw std::runtime_error("DATABASE_URL is not set");
      eventstore::PgStore store(url);
      const auto v = store.verify();
      if (v.ok) {
        fmt::print("ok: {} events, hash chain intact; head hash {}\n", v.events, v.head_hash.empty() ? "-" : v.head_hash);
        return 0;
      }
      fmt::print("TAMPERED: event at position {}: {} ({} events checked)\n", v.first_bad_position, v.problem, v.events);
      return 1;
    }
    natsio::Library lib;
    natsio::Connection conn({.url = env_or("NATS_URL", "nats://127.0.0.1:4222"), .name = "traderctl",
                             .max_reconnect = 0, .connect_retry_ms = 0});
    if (a.command == "status") {
      if (a.json) fmt::print("{}\n", conn.request(subjects::kOpsStatus, "", 2'000));
      else print_status(ask_status(conn));
      return 0;
    }
    if (a.command == "report") {
      const auto reply = conn.request(subjects::kOpsReport, "", 5'000);
      if (a.json) { fmt::print("{}\n", reply); return 0; }
      auto r = codec::decode_performance(reply);
      if (!r) throw std::runtime_error("report reply: " + r.error().to_string());
      print_report(*r);
      return 0;
    }
    if (a.command == "halt") return set_state(conn, a, core::TradingState::halted);
    if (a.command == "reduce") return set_state(conn, a, core::TradingState::reducing);
    if (a.command == "resume") return set_state(conn, a, core::TradingState::active);
    if ((a.command == "pub" || a.command == "req") && a.rest.size() == 2) {
      if (a.command == "pub") {
        if (!conn.publish(a.rest[0], a.rest[1])) throw std::runtime_error("publish failed");
        conn.flush();
      } else {
        fmt::print("{}\n", conn.request(a.rest[0], a.rest[1], 5'000));
      }
      return 0;
    }
    if (a.command == "wait-ready") return wait_ready(conn, a);
    if (a.command == "wait-idle") return wait_idle(conn, a);
    fmt::print(stderr, "traderctl: unknown command or arguments: {}\n{}", a.command, kUsage);
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "traderctl {}: {}\n", a.command, e.what());
    return 1;
  }
}

}  // namespace services
