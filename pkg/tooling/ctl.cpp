#include "tooling/ctl.hpp"

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <fmt/format.h>

#include "codec/codec.hpp"
#include "eventstore/checkpoint.hpp"
#include "eventstore/event_store.hpp"
#include "marketdata/actions.hpp"
#include "marketdata/quality.hpp"
#include "marketdata/reader.hpp"
#include "natsio/natsio.hpp"
#include "auth/auth.hpp"
#include "strategy/registry.hpp"
#include "workers/recorder.hpp"
#include "workers/strategy.hpp"
#include "workers/worker_main.hpp"
#include "workers/version.hpp"
#include "tooling/replay.hpp"
#include "tooling/sandbox.hpp"
#include "tooling/derived_instruments.hpp"
#include "tooling/diff.hpp"
#include "tooling/in_process.hpp"
#include "tooling/input_sets.hpp"
#include "tooling/report.hpp"
#include "tooling/sessions.hpp"
#include "tooling/sweep.hpp"
#include "tooling/stores.hpp"
#include "tooling/trace.hpp"
#include "eventstore/research.hpp"
#include "subjects/subjects.hpp"

namespace services {
namespace {

constexpr const char* kUsage = R"(usage: traderctl COMMAND [options]
Environment: NATS_URL (default nats://127.0.0.1:4222); DATABASE_URL, the live event store as
the reader (trader_readonly: events, verify, sessions, export, diff, replay, backtest);
TRADER_WRITER_DATABASE_URL, as the writer (trader_recorder: the recorder of a replay or
backtest, --record and import write the research store through it); TRADER_OWNER_DATABASE_URL,
as the schema's owner (trader_owner: migrate). The research store (backtests, replays, imports;
never the live append-only log) is the same server with the database TRADER_RESEARCH_DB,
default <live database>_research: the same URLs reach it with only the database changed.
commands:
  status                          ask ops.status: every worker's health; exits 0 ok, 1 degraded (or no answer), 2 down
  report                          ask the running reporter (ops.report) for its performance report so
                                  far (interim: the session is still running)
  report SESSION [--json FILE|-] [--trades-csv FILE] [--equity-csv FILE] [--html FILE]
         [--capital X] [--periods-per-year N]   the statistics of a recorded session (either store), from its
                                  events: P&L, Sharpe, Sortino, Calmar, drawdown, round trips, win
                                  rate, slippage, rejections by reason (docs/statistics.md); final
                                  if the session ended, else interim. --json writes the analysis
                                  (- = stdout, the table then goes to stderr); the CSVs are the
                                  round trips and the equity curve; --html the report page
                                  (docs/report-page.md); --capital (default 1000000)
                                  and --periods-per-year (0 = auto: 365 with weekend trading, 252)
  events                          count recorded events by type and by subject (event store)
  verify [--checkpoints FILE --pubkey FILE]
                                  check the event store's hash chain; exit 1 if any event was
                                  changed, deleted or reordered behind the store's back. With the
                                  recorder's signed checkpoints (or TRADER_CHECKPOINT_FILE and
                                  TRADER_CHECKPOINT_PUBKEY) also every checkpoint's signature, that
                                  the store still holds each signed head and is not shorter than
                                  the newest: a truncated tail or a re-chained history fails too
  auth init DIR [--operators A,B] [--cost N]
                                  write the NATS credentials of every identity into DIR
                                  (nats-<user>.password, mode 0600; existing ones are kept) and
                                  the server's accounts block with their bcrypt hashes
                                  (nats-accounts.conf): docs/architecture.md, "Who may say what"
  stream-init [--stream NAME] [--max-bytes N] [--replicas R]
                                  as the admin (NATS_URL): create or update the event stream
                                  (interest retention: it keeps what the store has not confirmed)
                                  and the recorder's consumer, before any worker starts; R copies
                                  on a NATS cluster (1..5, default TRADER_STREAM_REPLICAS or 1)
  migrate                         apply the pending schema migrations of the live store and of the
                                  research store, as the owner (TRADER_OWNER_DATABASE_URL); workers
                                  and traderctl never migrate otherwise
  sessions [list]                 every recorded session of both stores: id, store, kind, events,
                                  market time span
  sessions show ID                one session: manifest (versions, config hashes, random seed,
                                  data file), counts by type, P&L summary
  sessions rm ID                  remove a research session (backtest, replay, import) whole; the
                                  live store is append-only and refuses
  export ID FILE                  write session ID to FILE as gzip'd JSON Lines
  import FILE                     load an exported session into the research store
  trace CLIENT_ORDER_ID           an order's whole life from the event store (live, else research):
                                  its command, risk-state's decision, every execution report,
                                  replaces and cancels (following orig_client_order_id both ways)
  diff A B                        compare sessions A and B event by event (session metadata
                                  skipped); print the first divergence side by side; exit 1 if
                                  they differ
  halt [REASON]                   risk.management trading_state.set halted
  reduce [REASON]                 risk.management trading_state.set reducing
  resume [REASON]                 risk.management trading_state.set active
  pub SUBJECT JSON                publish one message (like `nats pub`)
  req SUBJECT JSON                request and print the reply (like `nats req`)
  wait-ready [--timeout-s N] WORKER...    wait until these workers send heartbeats (a hot standby does not count)
  wait-idle [--quiet-ms N] [--timeout-s N] wait until no worker's counters move for N ms and
                                  every log follower is at the same stream sequence
  replay ID [--speed X] [--symbol SYM]... [--subject SUBJ]... [--from TS] [--to TS]
                                  publish session ID's inputs (market data, people's orders and
                                  risk commands) into a private sandbox pipeline (own nats-server,
                                  own stream; live state untouched), recorded as a new session of
                                  kind replay linked to ID; prints the summary, the final report
                                  and the new session id. --speed 0 (default) = as fast as
                                  possible, X = recorded pace x X. TS = ns UTC or ISO-8601 UTC.
  backtest FILE [--speed X] [--limit N]   the whole pipeline in a sandbox over a data file (feed),
                                  as fast as possible, in event-time order: the derived events are a
                                  function of the inputs (traderctl diff A B); prints the final report
                                  and the new session id
  backtest FILE --in-process [--limit N] [--record]   the same worker code in this process over
                                  an in-memory bus (no NATS, no PostgreSQL needed): the same report,
                                  far faster; --record stores it as a session (traderctl diff it with
                                  the pipeline's)
  backtest FILE --actions FILE2   (either way) with the corporate actions of FILE2 (splits,
                                  dividends: docs/data-quality.md#corporate-actions); without it,
                                  suspected splits in daily bars are warned of
  sweep FILE --strategy NAME --param KEY=V1,V2,... [--param ...] [--rank STAT] [--csv FILE|-]
        [--jobs N] [--limit N] [--actions FILE] [--capital X] [--periods-per-year N]
                                  in-process backtests of every combination, in parallel on every
                                  core; prints them ranked by STAT (default sharpe; also sortino,
                                  calmar, pnl_total, return_pct, win_rate, profit_factor, expectancy,
                                  max_drawdown, ...) and writes the table as CSV (default
                                  sweep-NAME.csv)
  replay/backtest [--json FILE|-] [--trades-csv FILE] [--equity-csv FILE] [--html FILE]
                  [--capital X] [--periods-per-year N]   after the report, the session's statistics as `report
                                  SESSION` prints them (and writes them where asked)
  backtest --session ID [--speed X] [filters as replay]   the same over a recorded session's inputs
  backtest FILE --strategy-cmd CMD   a strategy in any language: the sandbox runs CMD (/bin/sh -c)
                                  as NATS identity strategy-ext, and its strategy worker asks it on
                                  strategy.external.<strategy_id> for each event (pipeline only;
                                  docs/strategies.md, "Strategies in any language")
  backtest ... --strategy NAME [--param KEY=VALUE]...   the strategies to run (repeat --strategy for
                                  several; each --param belongs to the preceding --strategy;
                                  --param strategy_id=X sets its id). Default: the strategy worker's
                                  settings (ma_cross). Built-ins: ma_cross, mean_reversion,
                                  market_maker, template (docs/strategies.md)
  replay/backtest --chaos-restart WORKER   SIGKILL that sandbox worker once half of the inputs are
                                  published, start it again, wait until it has rebuilt, go on
  replay/backtest --lockstep      a cross-check: publish one input, wait until the sandbox pipeline is
                                  quiescent (ops.ping barrier), then the next (about 300 inputs/s)
options: --json prints raw JSON replies instead of tables (report SESSION, replay, backtest:
  --json FILE|- writes the analysis)
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
    const bool analysis = a.command == "report" || a.command == "backtest" || a.command == "replay";
    if (s == "--json" && analysis && i + 1 < argc &&
        (std::string_view(argv[i + 1]) == "-" || !std::string_view(argv[i + 1]).starts_with("--"))) {
      a.rest.push_back(s);  // --json FILE|-: the analysis (tooling/report.hpp)
      a.rest.push_back(argv[++i]);
    } else if (s == "--json") a.json = true;
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
  if (!st.status.empty()) fmt::print("stack: {}\n", st.status);
  fmt::print("{:<12} {:<28} {:<6} {:>8} {:>10} {:>10} {:>7}  {}\n", "worker", "instance", "alive", "age_ms",
             "msgs_in", "msgs_out", "errors", "status");
  for (const auto& w : st.workers)
    fmt::print("{:<12} {:<28} {:<6} {:>8} {:>10} {:>10} {:>7}  {}\n", w.worker, w.instance, w.alive ? "yes" : "NO",
               w.age_ms, w.msgs_in, w.msgs_out, w.errors, w.status);
}

/// The reporter's report. `status`: "final" once the session ended, "interim" while it
/// runs (the reporter answers ops.report with type performance.report at any time: the
/// label comes from the session, not the message type).
void print_report(const core::PerformanceReport& r, std::string_view status, std::FILE* out = stdout) {
  fmt::print(out, "Performance report ({}) at {}\n", status,
             r.ts_event ? core::format_iso8601(r.ts_event) : std::string("-"));
  fmt::print(out, "  orders {} (denied {}, rejected {}), fills {}, gross notional traded {}, commission {}\n", r.orders,
             r.orders_denied, r.orders_rejected, r.fills, r.gross_notional_traded, r.commission);
  fmt::print(out, "  realized P&L {} (net of commission)  unrealized P&L {}  total P&L {}  peak {}  max drawdown {}{}\n",
             r.realized_pnl, r.unrealized_pnl, r.total_pnl, r.peak_pnl, r.max_drawdown,
             r.base_currency.empty() ? std::string() : fmt::format("  (in {})", r.base_currency));
  // Another currency than the account's: each one's P&L and what it converts to.
  if (std::any_of(r.currencies.begin(), r.currencies.end(),
                  [&](const core::CurrencyPnl& c) { return c.currency != r.base_currency; }))
    for (const auto& c : r.currencies)
      fmt::print(out, "  P&L in {}: {}{}\n", c.currency, c.total_pnl,
                 c.currency == r.base_currency ? std::string()
                 : c.rate ? fmt::format(" x rate {} = {} {}", *c.rate, *c.total_pnl_base, r.base_currency)
                          : fmt::format(" (no rate: not in the {} totals)", r.base_currency));
  if (r.positions.empty()) return;
  fmt::print(out, "  {:<10} {:>14} {:>12} {:>12} {:>14} {:>14} {:>12} {:>12} {}\n", "symbol", "position", "avg_px",
             "mark_px", "realized", "unrealized", "bought", "sold", r.base_currency.empty() ? "" : "currency");
  for (const auto& p : r.positions)
    fmt::print(out, "  {:<10} {:>14} {:>12} {:>12} {:>14} {:>14} {:>12} {:>12} {}\n", p.symbol, p.quantity, p.avg_px,
               p.mark_px, p.realized_pnl, p.unrealized_pnl, p.bought_qty, p.sold_qty, p.currency);
}

int wait_ready(natsio::Connection& conn, const Args& a) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(a.timeout_s);
  std::set<std::string> missing(a.rest.begin(), a.rest.end());
  while (std::chrono::steady_clock::now() < deadline) {
    try {
      // A hot standby (one writer per role) is alive but not ready: it waits for the lease.
      for (const auto& w : ask_status(conn).workers)
        if (w.alive && !w.status.starts_with(core::kStandbyStatus)) missing.erase(w.worker);
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
  std::map<std::string, std::tuple<std::int64_t, std::int64_t, std::uint64_t>> last;
  std::string behind;  // the log followers not at the newest sequence, at the latest look
  auto quiet_since = start;
  while (std::chrono::steady_clock::now() < deadline) {
    std::map<std::string, std::tuple<std::int64_t, std::int64_t, std::uint64_t>> now;
    // Idle also means caught up: every log follower (the whole stream each) at the same
    // sequence. A follower whose consumer went with a NATS node sits still until its
    // watchdog makes a new one: its counters do not move, but it is behind.
    std::vector<std::pair<std::string, std::uint64_t>> followers;
    std::uint64_t newest = 0;
    for (const auto& w : ask_status(conn).workers) {
      if (!w.alive || w.status.starts_with(core::kStandbyStatus)) continue;
      if (w.log_seq != 0) {
        followers.emplace_back(w.worker + "/" + w.instance, w.log_seq);
        newest = std::max(newest, w.log_seq);
      }
      if (w.worker != "ops") now[w.worker + "/" + w.instance] = {w.msgs_in, w.msgs_out, w.log_seq};
    }
    behind.clear();
    for (const auto& [key, seq] : followers)
      if (seq != newest) behind += fmt::format(" {} at {} of {};", key, seq, newest);
    const auto t = std::chrono::steady_clock::now();
    if (now != last || !behind.empty()) {
      last = std::move(now);
      quiet_since = t;
    } else if (t - quiet_since >= std::chrono::milliseconds(a.quiet_ms)) {
      return 0;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  fmt::print(stderr, "traderctl: still busy after {} s{}{}\n", a.timeout_s, behind.empty() ? "" : "; behind the log:",
             behind);
  return 1;
}

std::string ts_or_dash(std::optional<core::TimestampNs> ts) { return ts ? core::format_iso8601(*ts) : "-"; }

int sessions_list(SessionStores& stores, const Args& a) {
  std::vector<std::pair<StoreKind, eventstore::SessionSummary>> all;
  for (const auto& s : stores.live().sessions()) all.emplace_back(StoreKind::live, s);
  if (auto* research = stores.research())
    for (const auto& s : research->sessions()) all.emplace_back(StoreKind::research, s);
  if (a.json) {
    std::string out = "[";
    for (const auto& [where, s] : all) {
      if (out.size() > 1) out += ',';
      out += R"({"session_id":)";
      codec::append_json_string(out, s.session_id);
      out += fmt::format(R"(,"store":"{}")", to_string(where));
      out += fmt::format(R"(,"events":{},"first_position":{},"last_position":{},"first_ts_event":{},"last_ts_event":{}}})",
                         s.events, s.first_position, s.last_position,
                         s.first_ts_event ? std::to_string(*s.first_ts_event) : "null",
                         s.last_ts_event ? std::to_string(*s.last_ts_event) : "null");
    }
    fmt::print("{}]\n", out);
    return 0;
  }
  // Kinds and ends from the lifecycle events, read by type (indexed), not session by session.
  std::map<std::string, std::string> kind;
  std::set<std::string> ended;
  codec::Decoder dec;
  auto lifecycles = [&](eventstore::EventStore& store) {
    for (const auto type : {core::SessionStarted::kType, core::SessionEnded::kType}) {
      eventstore::for_each(store, {.type = std::string(type)}, [&](const eventstore::StoredEvent& e) {
        auto l = dec.decode_session_lifecycle(e.payload);
        if (!l) return;
        if (auto* st = std::get_if<core::SessionStarted>(&*l)) kind.try_emplace(st->session_id, st->kind);
        else ended.insert(std::get<core::SessionEnded>(*l).session_id);
      });
    }
  };
  lifecycles(stores.live());
  if (auto* research = stores.research()) lifecycles(*research);
  fmt::print("{:<36} {:<8} {:<9} {:>10}  {:<30} {:<30} {}\n", "session", "store", "kind", "events", "market from",
             "market to", "ended");
  for (const auto& [where, s] : all) {
    const auto k = kind.find(s.session_id);
    fmt::print("{:<36} {:<8} {:<9} {:>10}  {:<30} {:<30} {}\n", s.session_id, to_string(where),
               k == kind.end() ? "-" : k->second, s.events, ts_or_dash(s.first_ts_event), ts_or_dash(s.last_ts_event),
               ended.contains(s.session_id) ? "yes" : "no");
  }
  if (all.empty()) fmt::print("(no sessions recorded)\n");
  return 0;
}

std::string config_value(const core::WorkerStarted& w, std::string_view key) {
  for (const auto& [k, v] : w.config)
    if (k == key) return v;
  return "";
}

int sessions_show(SessionStores& stores, const std::string& id) {
  const auto found = stores.find(id);
  const auto info = describe_session(found.store, id);
  const auto& s = info.summary;
  fmt::print("Session {} (in the {} store)\n", id, to_string(found.kind));
  if (info.started) {
    const auto& st = *info.started;
    fmt::print("  kind {}, started by {} at {} (wall clock), version {}\n", st.kind, st.started_by,
               core::format_iso8601(st.ts_wall), st.version);
    if (!st.source_session_id.empty()) fmt::print("  made from session {}\n", st.source_session_id);
    if (!st.data_source.empty()) fmt::print("  data source {}\n", st.data_source);
    if (!st.input_set.empty())
      fmt::print("  inputs stored once, in input set {} (shared; counted in below)\n", st.input_set);
  } else {
    fmt::print("  (its session.started is not in this store)\n");
  }
  if (info.ended) fmt::print("  ended at {} (wall clock): {}\n", core::format_iso8601(info.ended->ts_wall), info.ended->reason);
  else fmt::print("  not ended (still open, or its ops worker was killed)\n");
  fmt::print("  events {} stored (positions {}..{}), market time {} .. {}\n", s.events, s.first_position, s.last_position,
             ts_or_dash(s.first_ts_event), ts_or_dash(s.last_ts_event));
  fmt::print("Workers\n  {:<11} {:<28} {:<64}  {}\n", "worker", "version", "config_hash", "notes");
  for (const auto& w : info.workers) {
    std::string notes;
    if (w.worker == "execution") notes = "random_seed " + config_value(w, "random_seed");
    if (!w.data_source.empty()) notes = fmt::format("data {} sha256 {}", w.data_source, w.data_sha256);
    fmt::print("  {:<11} {:<28} {:<64}  {}\n", w.worker, w.version, w.config_hash, notes);
  }
  fmt::print("Events by type\n");
  for (const auto& [type, n] : info.counts_by_type) fmt::print("  {:<24} {:>10}\n", type, n);
  if (info.report) print_report(*info.report, info.ended ? "final" : "interim");
  else fmt::print("(no performance report in this session)\n");
  return 0;
}

/// The live event store as the reader (DATABASE_URL).
eventstore::PgStore open_store() { return eventstore::PgStore(StoreUrls::from_environment().live_reader()); }

/// The research store as the writer (TRADER_WRITER_DATABASE_URL with the research
/// database), checked to be a research store.
std::string research_writer_url(const std::string& command) {
  const auto url = StoreUrls::from_environment().research_writer(command);
  require_research_store(url);
  return url;
}

/// `traderctl sessions rm ID`: a research session, whole. A live session is refused
/// (the live store is append-only), and so is an id neither store holds.
int sessions_rm(SessionStores& stores, const std::string& id) {
  if (SessionStores::holds(stores.live(), id)) {
    fmt::print(stderr, "traderctl sessions rm: {} is a live session: the live store is append-only and keeps every "
               "event; only research sessions (backtests, replays, imports) can be removed\n", id);
    return 1;
  }
  const auto url = research_writer_url("sessions rm");
  // An input set stays while a session reads its inputs from it (tooling/input_sets.hpp).
  if (const auto users = sessions_using_input_set(stores.research_or_throw(), id); !users.empty()) {
    fmt::print(stderr, "traderctl sessions rm: {} is the input set of {} session(s) ({}{}): remove them first\n", id,
               users.size(), users.front(), users.size() > 1 ? ", ..." : "");
    return 1;
  }
  const auto removed = eventstore::remove_research_session(url, id);
  if (removed == 0) {
    fmt::print(stderr, "traderctl sessions rm: unknown research session {}: the research store ({}) holds no event "
               "of it\n", id, eventstore::database_of(url));
    return 1;
  }
  fmt::print("removed research session {}: {} events (research store {})\n", id, removed,
             eventstore::database_of(url));
  return 0;
}

int migrate() {
  const auto urls = StoreUrls::from_environment();
  if (urls.owner.empty())
    throw std::runtime_error("TRADER_OWNER_DATABASE_URL is not set (migrations run as the schema's owner, trader_owner)");
  const auto applied = eventstore::migrate(urls.owner);
  fmt::print("event store schema is current ({} migration{} applied now)\n", applied, applied == 1 ? "" : "s");
  const auto research = urls.research_owner();
  std::size_t research_applied = 0;
  try {
    research_applied = eventstore::migrate_research(research);
  } catch (const std::runtime_error& e) {
    if (!says_no_such_database(e.what())) throw;
    throw std::runtime_error(missing_research_store(research));
  }
  fmt::print("research store {} is current ({} migration{} applied now)\n", eventstore::database_of(research),
             research_applied, research_applied == 1 ? "" : "s");
  return 0;
}

/// traderctl verify: the hash chain, then (when given) the signed checkpoints.
int verify(const Args& a) {
  std::string file = env_or("TRADER_CHECKPOINT_FILE", ""), pubkey = env_or("TRADER_CHECKPOINT_PUBKEY", "");
  for (std::size_t i = 0; i < a.rest.size(); ++i) {
    const auto& f = a.rest[i];
    if ((f == "--checkpoints" || f == "--pubkey") && i + 1 < a.rest.size()) {
      (f == "--checkpoints" ? file : pubkey) = a.rest[++i];
    } else {
      fmt::print(stderr, "traderctl verify: unknown argument {}\nusage: traderctl verify [--checkpoints FILE --pubkey FILE]\n", f);
      return 2;
    }
  }
  if (file.empty() != pubkey.empty()) {
    fmt::print(stderr, "traderctl verify: give both the checkpoint file and the public key (--checkpoints, --pubkey, "
               "or TRADER_CHECKPOINT_FILE, TRADER_CHECKPOINT_PUBKEY)\n");
    return 2;
  }
  auto store = open_store();
  const auto v = store.verify();
  bool ok = v.ok;
  if (v.ok) {
    fmt::print("ok: {} events, hash chain intact; head hash {}\n", v.events, v.head_hash.empty() ? "-" : v.head_hash);
  } else {
    fmt::print("TAMPERED: event at position {}: {} ({} events checked)\n", v.first_bad_position, v.problem, v.events);
  }
  if (file.empty()) {
    fmt::print("note: no signed checkpoints given (TRADER_CHECKPOINT_FILE, TRADER_CHECKPOINT_PUBKEY): a truncated "
               "tail or a rewritten and re-chained history cannot be detected\n");
    return ok ? 0 : 1;
  }
  const eventstore::CheckpointVerifier key(pubkey);
  if (!std::filesystem::exists(file)) {
    fmt::print("CHECKPOINTS MISSING: {} does not exist, and checkpoints are expected (the file was deleted or moved)\n",
               file);
    return 1;
  }
  const auto r = eventstore::check_checkpoints(store, eventstore::read_checkpoints(file), key);
  for (const auto& p : r.problems) fmt::print("{}\n", p);
  if (r.ok) {
    if (r.newest)
      fmt::print("ok: {} checkpoint{} signed by key {} hold; the newest (position {}, {} events) is in the store, "
                 "whose head is at position {}\n", r.checkpoints, r.checkpoints == 1 ? "" : "s", key.key_id(),
                 r.newest->position, r.newest->events, r.head.position);
    else
      fmt::print("ok: no checkpoint yet, and the store is empty\n");
  } else {
    fmt::print("CHECKPOINTS FAIL: {} problem{} ({} valid checkpoints, key {}, file {})\n", r.problems.size(),
               r.problems.size() == 1 ? "" : "s", r.checkpoints, key.key_id(), file);
  }
  return ok && r.ok ? 0 : 1;
}

int set_state(natsio::Connection& conn, const Args& a, core::TradingState st) {
  std::string reason;
  for (const auto& r : a.rest) reason += (reason.empty() ? "" : " ") + r;
  const core::SetTradingState cmd{.trading_state = st, .reason = reason.empty() ? "traderctl" : reason};
  const auto reply = conn.request(subjects::kRiskManagement, codec::encode(cmd), 2'000);
  fmt::print("{}\n", reply);
  // risk-state answers with the state now in force, or with a dead letter saying why not.
  const auto env = codec::peek(reply);
  return env && env->type == core::RiskStateChanged::kType ? 0 : 1;
}


// ---- auth init / stream-init ------------------------------------------------------

/// The value after `flag` in `rest`, or `dflt`; throws std::invalid_argument for a
/// flag without a value or an unknown flag (any other "--...").
std::string flag_value(const std::vector<std::string>& rest, const std::string& flag, const std::string& dflt,
                       const std::vector<std::string>& known) {
  std::string out = dflt;
  for (std::size_t i = 0; i < rest.size(); ++i) {
    if (!rest[i].starts_with("--")) continue;
    if (std::find(known.begin(), known.end(), rest[i]) == known.end())
      throw std::invalid_argument("unknown option " + rest[i]);
    if (i + 1 >= rest.size()) throw std::invalid_argument(rest[i] + " needs a value");
    if (rest[i] == flag) out = rest[i + 1];
    ++i;
  }
  return out;
}

int auth_cmd(const Args& a) {
  const std::vector<std::string> known{"--operators", "--cost"};
  try {
    if (a.rest.size() < 2 || a.rest[0] != "init" || a.rest[1].starts_with("--"))
      throw std::invalid_argument("usage: traderctl auth init DIR [--operators A,B] [--cost N]");
    auth::Deployment d;
    const auto ops = flag_value(a.rest, "--operators", "operator", known);
    d.operators.clear();
    for (std::size_t from = 0; from <= ops.size();) {
      const auto to = std::min(ops.find(',', from), ops.size());
      if (to > from) d.operators.push_back(ops.substr(from, to - from));
      from = to + 1;
    }
    const int cost = std::stoi(flag_value(a.rest, "--cost", "10", known));
    if (cost < 4 || cost > 16) throw std::invalid_argument("--cost: 4..16");
    const auto ids = auth::identities(d);
    auth::init_dir(a.rest[1], ids, cost);
    fmt::print("credentials of {} identities in {} (nats-<user>.password); accounts in {}/nats-accounts.conf\n",
               ids.size(), a.rest[1], a.rest[1]);
    return 0;
  } catch (const std::invalid_argument& e) {
    fmt::print(stderr, "traderctl auth: {}\n", e.what());
    return 2;
  }
}

int stream_init(const Args& a) {
  EventStreamConfig cfg;
  try {
    const std::vector<std::string> known{"--stream", "--max-bytes", "--replicas"};
    cfg.stream = flag_value(a.rest, "--stream", cfg.stream, known);
    cfg.max_bytes = std::stoll(flag_value(a.rest, "--max-bytes", std::to_string(cfg.max_bytes), known));
    if (cfg.max_bytes < 0) throw std::invalid_argument("--max-bytes: >= 0 (0 = no limit)");
    cfg.replicas = std::stoi(flag_value(a.rest, "--replicas", env_or("TRADER_STREAM_REPLICAS", "1"), known));
    if (cfg.replicas < 1 || cfg.replicas > 5) throw std::invalid_argument("--replicas: 1..5 (JetStream's range)");
  } catch (const std::exception& e) {
    fmt::print(stderr,
               "traderctl stream-init: {}\nusage: traderctl stream-init [--stream NAME] [--max-bytes N] [--replicas R]\n",
               e.what());
    return 2;
  }
  natsio::Library lib;
  natsio::Connection admin({.url = env_or("NATS_URL", "nats://127.0.0.1:4222"), .name = "traderctl-admin",
                            .max_reconnect = 0, .connect_retry_ms = 0});
  bootstrap_event_stream(admin, cfg);
  fmt::print("stream {} (interest retention, at most {} bytes, {} replica{}) and consumer {} ready\n", cfg.stream,
             cfg.max_bytes, cfg.replicas, cfg.replicas == 1 ? "" : "s", cfg.durable);
  return 0;
}

// ---- replay / backtest ----------------------------------------------------------

/// Ctrl-C / SIGTERM during a replay or backtest: construct it before any thread
/// exists (it blocks the signals in this thread, and every later thread inherits
/// the mask); its thread receives them and sets `stop`, so the command tears the
/// sandbox down in order instead of dying with children left running.
class InterruptWatch {
 public:
  InterruptWatch() {
    sigset_t set = signals();
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    thread_ = std::thread([this, set] {
      int sig = 0;
      sigwait(&set, &sig);
      if (sig != SIGUSR1) {
        signal_ = sig;
        stop = true;
        fmt::print(stderr, "traderctl: signal {}: stopping and cleaning up the sandbox\n", sig);
      }
    });
  }
  ~InterruptWatch() {
    if (!stop) pthread_kill(thread_.native_handle(), SIGUSR1);
    thread_.join();
  }
  InterruptWatch(const InterruptWatch&) = delete;
  InterruptWatch& operator=(const InterruptWatch&) = delete;
  std::atomic<bool> stop{false};
  int signal_number() const { return signal_; }

 private:
  static sigset_t signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGUSR1);
    return set;
  }
  std::atomic<int> signal_{0};
  std::thread thread_;
};

struct RunArgs {
  std::string session;        // replay ID / backtest --session ID
  std::string file;           // backtest FILE
  double speed = 0;
  ReplayFilter filter;
  std::int64_t limit = 0;     // backtest FILE: at most this many records (0 = all)
  std::string actions;        // backtest FILE --actions FILE: corporate actions (marketdata/actions.hpp)
  bool lockstep = false;
  bool in_process = false;    // backtest FILE --in-process
  bool record = false;        // ... --record
  std::string chaos_restart;  // sandbox worker to SIGKILL and restart halfway ("" = none)
  ReportFlags report;         // --json, --trades-csv, --equity-csv, --capital, --periods-per-year
  std::vector<strategy::Choice> strategies;  // backtest --strategy/--param, checked (empty = the worker's settings)
  std::string strategy_cmd;   // backtest --strategy-cmd CMD: the user's external strategy program
};

/// The strategies traderctl knows: the built-ins and "external" (checked here, run by the
/// sandbox's strategy worker on NATS).
strategy::Registry known_strategies() { return with_external(strategy::builtin_registry(), nullptr); }

/// Parses `rest` of replay/backtest; throws std::invalid_argument with the bad flag.
RunArgs parse_run_args(const std::vector<std::string>& rest, bool backtest) {
  RunArgs r;
  std::vector<std::string> positional;
  std::vector<std::string> strategy_args;  // --strategy/--param in order
  for (std::size_t i = 0; i < rest.size(); ++i) {
    const auto& f = rest[i];
    auto value = [&]() -> const std::string& {
      if (i + 1 >= rest.size()) throw std::invalid_argument(f + " needs a value");
      return rest[++i];
    };
    if (parse_report_flag(rest, i, r.report)) {
      continue;
    } else if (f == "--speed") {
      const auto& v = value();
      char* end = nullptr;
      r.speed = std::strtod(v.c_str(), &end);
      if (v.empty() || *end != '\0' || !(r.speed >= 0)) throw std::invalid_argument("--speed: a number >= 0, got " + v);
    } else if (f == "--symbol") {
      r.filter.symbols.push_back(value());
    } else if (f == "--subject") {
      r.filter.subjects.push_back(value());
    } else if (f == "--from" || f == "--to") {
      const auto& v = value();
      const auto ts = parse_time_arg(v);
      if (!ts) throw std::invalid_argument(f + ": ns UTC or ISO-8601 (2020-02-22T10:00:00Z), got " + v);
      (f == "--from" ? r.filter.from : r.filter.to) = ts;
    } else if (f == "--session" && backtest) {
      r.session = value();
    } else if (f == "--limit" && backtest) {
      const auto& v = value();
      char* end = nullptr;
      r.limit = std::strtoll(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || r.limit < 0) throw std::invalid_argument("--limit: an integer >= 0, got " + v);
    } else if (f == "--actions" && backtest) {
      r.actions = std::filesystem::absolute(value()).string();
    } else if (f == "--lockstep") {
      r.lockstep = true;
    } else if (f == "--in-process" && backtest) {
      r.in_process = true;
    } else if (f == "--record" && backtest) {
      r.record = true;
    } else if (f == "--chaos-restart") {
      r.chaos_restart = value();
    } else if (f == "--strategy-cmd" && backtest) {
      r.strategy_cmd = value();
      if (r.strategy_cmd.empty()) throw std::invalid_argument("--strategy-cmd: an empty command");
    } else if ((f == "--strategy" || f == "--param") && backtest) {
      strategy_args.push_back(f);
      strategy_args.push_back(value());
    } else if (f.starts_with("--")) {
      throw std::invalid_argument("unknown option " + f);
    } else {
      positional.push_back(f);
    }
  }
  if (backtest) {
    if (r.session.empty() == (positional.size() != 1))
      throw std::invalid_argument("give either FILE or --session ID");
    if (!positional.empty()) r.file = positional[0];
    const bool filters = !r.filter.symbols.empty() || !r.filter.subjects.empty() || r.filter.from || r.filter.to;
    if (!r.file.empty() && filters) throw std::invalid_argument("--symbol/--subject/--from/--to need --session");
    if (r.file.empty() && r.limit) throw std::invalid_argument("--limit needs FILE");
    if (r.file.empty() && !r.actions.empty()) throw std::invalid_argument("--actions needs FILE");
    if (r.in_process && (r.file.empty() || r.lockstep || !r.chaos_restart.empty() || r.speed != 0))
      throw std::invalid_argument("--in-process needs FILE, and takes neither --speed, --lockstep nor --chaos-restart");
    if (r.record && !r.in_process) throw std::invalid_argument("--record goes with --in-process (the pipeline always records)");
  } else {
    if (positional.size() != 1) throw std::invalid_argument("give exactly one session ID");
    r.session = positional[0];
  }
  if (!r.chaos_restart.empty() && r.chaos_restart != "execution" && r.chaos_restart != "risk-state" &&
      r.chaos_restart != "strategy" && r.chaos_restart != "reporter" && r.chaos_restart != "recorder")
    throw std::invalid_argument("--chaos-restart: a sandbox worker (execution, risk-state, strategy, reporter, "
                                "recorder), got " + r.chaos_restart);
  if (!r.session.empty() && !subjects::is_valid_session_id(r.session))
    throw std::invalid_argument("not a session id: " + r.session);
  // An unknown strategy or a bad param fails here, before anything runs (exit 2).
  if (!strategy_args.empty()) r.strategies = known_strategies().check(strategy::choices_from_args(strategy_args));
  const auto externals = std::count_if(r.strategies.begin(), r.strategies.end(),
                                       [](const auto& c) { return c.name == kExternalStrategyName; });
  if (r.in_process && (externals > 0 || !r.strategy_cmd.empty()))
    throw std::invalid_argument("an external strategy (--strategy-cmd, --strategy external) needs NATS: it runs in the "
                                "pipeline backtest only (leave out --in-process)");
  if (!r.strategy_cmd.empty()) {
    // --strategy-cmd CMD serves one external strategy: the one chosen, or "external" added.
    if (externals > 1) throw std::invalid_argument("--strategy-cmd serves one --strategy external, not several");
    if (externals == 0) {
      r.strategies.push_back(strategy::Choice{.name = std::string(kExternalStrategyName),
                                              .strategy_id = std::string(kExternalStrategyName),
                                              .params = {}});
      r.strategies = known_strategies().check(r.strategies);
    }
  } else if (externals > 0) {
    throw std::invalid_argument("--strategy external needs --strategy-cmd CMD (the program the sandbox starts)");
  }
  return r;
}

/// TRADER_SHARE_INPUTS=0 keeps a pipeline backtest's or replay's market data in its own
/// session instead of an input set (tooling/input_sets.hpp): the benchmark times the
/// recorder storing them.
bool share_inputs() { return env_or("TRADER_SHARE_INPUTS", "1") != std::string("0"); }

/// Makes sure the research store holds `inputs` once, in the input set keyed by their
/// content (tooling/input_sets.hpp), says whether it stored them now or shares them, and
/// returns the set's id.
std::string store_input_set(eventstore::EventStore& reader, eventstore::EventStore& writer,
                            const std::vector<ReplayInput>& inputs, const std::string& source, const char* what) {
  const auto set = input_set_id(inputs);
  const auto added = ensure_input_set(reader, writer, set, inputs, source, std::string(version()));
  fmt::print(stderr, "{}: market data in input set {} ({})\n", what, set,
             added > 0 ? fmt::format("stored now, {} events", added) : std::string("stored before: shared"));
  return set;
}

/// The sandbox records into the research store: its recorder as the writer, every other
/// worker (the rebuilds of risk-state and execution) as the reader.
SandboxConfig sandbox_config(const std::string& kind, const std::string& source, const std::string& data,
                             std::string input_set = {}, std::vector<std::string> input_digests = {}) {
  return SandboxConfig{.kind = kind,
                       .source_session = source,
                       .data_source = data,
                       .input_set = std::move(input_set),
                       .input_digests = std::move(input_digests),
                       .database_url = research_writer_url(kind),
                       .reader_database_url = StoreUrls::from_environment().research_reader(),
                       .bin_dir = env_or("TRADER_BIN_DIR", executable_dir().c_str()),
                       .nats_server = env_or("TRADER_NATS_SERVER", "nats-server"),
                       .ready_timeout_ms = 60'000};
}

void print_progress(const char* what, const ReplayProgress& p) {
  fmt::print(stderr, "{}: {}/{} inputs ({:.0f}%), {:.0f} events/s, market time {}\n", what, p.published, p.total,
             p.total ? 100.0 * static_cast<double>(p.published) / static_cast<double>(p.total) : 100.0,
             p.seconds > 0 ? static_cast<double>(p.published) / p.seconds : 0.0,
             p.market_ts ? core::format_iso8601(p.market_ts) : std::string("-"));
}

/// backtest FILE: the file's records as inputs (what the feed would publish, in file
/// order: rows dropped by the data-quality `policy` are not, as the feed's are not; the
/// corporate actions of `actions_path` slotted in as the feed slots them), at most `limit`
/// (0 = all). Bad rows are skipped and counted on stderr, with the data-quality counts and
/// the feed's warnings (suspected splits) unless `print_warnings` is false.
std::vector<ReplayInput> read_file_inputs(const std::string& path, std::int64_t limit, const char* what,
                                          const marketdata::quality::Policy& policy,
                                          const std::string& actions_path = {}, bool print_warnings = true) {
  marketdata::quality::CheckedReader reader(path, policy);
  marketdata::ActionSchedule actions(actions_path.empty() ? std::vector<core::CorporateAction>{}
                                                          : marketdata::read_actions(actions_path));
  marketdata::SplitDetector splits(&actions);
  std::vector<ReplayInput> out;
  std::int64_t bad = 0;
  bool full = false;
  while (!full) {
    auto row = reader.next();
    if (!row) break;
    if (row->error) ++bad;
    for (const auto& md : row->records) {
      if ((full = limit != 0 && static_cast<std::int64_t>(out.size()) >= limit)) break;
      const auto ts = std::visit([](const auto& x) { return x.ts_event; }, md);
      for (const auto& a : actions.due(ts))
        out.push_back({.subject = subjects::market_data(a.symbol), .payload = codec::encode(a), .market_ts = a.ts_event,
                       .position = row->line});
      if (auto w = splits.on_record(md); w && print_warnings) fmt::print(stderr, "{}: warning: {}\n", what, *w);
      std::visit([&](const auto& x) {
        out.push_back({.subject = subjects::market_data(x.symbol), .payload = codec::encode(x), .market_ts = x.ts_event,
                       .position = row->line});
      }, md);
    }
  }
  fmt::print(stderr, "{}: {}: {} records to publish ({}, {} bad rows skipped)\n", what, path, out.size(),
             marketdata::to_string(reader.reader().format()), bad);
  if (print_warnings) fmt::print(stderr, "{}: data quality: {}\n", what, reader.check().counts().to_string());
  return out;
}

/// The end shared by replay and backtest: idle, final report, orderly stop (or,
/// after Ctrl-C, a short orderly stop), the new session's id.
int finish_run(Sandbox& sb, eventstore::EventStore& store, const InterruptWatch& watch, const char* what,
               const ReportFlags& flags) {
  if (watch.stop) {
    try {
      sb.finish(store, 15'000);  // session.ended is recorded; the partial session stays readable
    } catch (const std::exception& e) {
      fmt::print(stderr, "{}: {}\n", what, e.what());
    }
    fmt::print(stderr, "{}: interrupted; partial session {} (traderctl sessions show {})\n", what, sb.session_id(),
               sb.session_id());
    return 128 + (watch.signal_number() ? watch.signal_number() : SIGINT);
  }
  // The end: every log follower has handled the whole stream and nothing moved for two
  // rounds (the event-time order leaves nothing waiting once the inputs stopped).
  sb.wait_quiescent(600'000);
  const auto reply = sb.report();
  auto r = codec::decode_performance(reply);
  if (!r) throw std::runtime_error("report reply: " + r.error().to_string());
  print_report(*r, "final", flags.text());
  sb.finish(store, 120'000, /*quiescent=*/true);
  // The statistics, from the session as recorded (session.ended included: final).
  emit_analysis(analyze_session(store, sb.session_id(), flags.settings), flags);
  fmt::print(flags.text(), "session {} ({})\n  traderctl sessions show {}\n", sb.session_id(), what, sb.session_id());
  return 0;
}

/// Prints which strategies a backtest runs, with their params.
/// On stderr, as the run's other progress lines: stdout may be the analysis' JSON (--json -).
void print_strategies(const std::vector<strategy::Choice>& choices) {
  for (const auto& c : choices)
    fmt::print(stderr, "backtest: strategy {} (strategy_id {}): {}\n", c.name, c.strategy_id, c.params.describe());
}

/// The strategies a pipeline backtest runs: its --strategy choices, else what the
/// strategy worker's settings choose (environment, TRADER_CONFIG). Throws
/// config::ConfigError for bad settings.
std::vector<strategy::Choice> backtest_strategies(const RunArgs& r) {
  if (!r.strategies.empty()) return r.strategies;
  std::string arg0 = "strategy";
  char* argv[] = {arg0.data(), nullptr};
  auto s = load_settings("strategy", "traderctl", strategy_options(), 1, argv);
  return s ? strategy_choices_from(*s, known_strategies()) : std::vector<strategy::Choice>{};
}

/// backtest FILE --in-process [--record]: tooling/in_process.hpp. With --record the run
/// is stored as a session of kind backtest, as the pipeline's recorder stores one: every
/// event of the in-process log, msg_id "INP<16 hex>:<seq>", filed under the session,
/// except its inputs, stored once in an input set (tooling/input_sets.hpp).
int backtest_in_process(const RunArgs& r) {
  const auto data = std::filesystem::absolute(r.file).string();
  if (!std::filesystem::exists(data)) throw std::runtime_error("no such data file: " + data);
  // --strategy: the strategy worker's `strategies` setting, as a pipeline sandbox gets it,
  // so that its manifest (worker.started) names what ran.
  if (!r.strategies.empty()) ::setenv("STRATEGY_STRATEGIES", strategy::format_choices(r.strategies).c_str(), 1);
  auto cfg = in_process_config_from_environment(data, r.limit);
  cfg.actions_path = r.actions;
  print_strategies(cfg.strategies);
  std::unique_ptr<eventstore::PgStore> writer;
  std::vector<eventstore::NewEvent> batch;
  std::int64_t stored = 0;
  const std::string stream = "INP" + random_hex(16);
  codec::Decoder dec;
  SessionAssigner sessions(std::nullopt);
  auto append = [&] {
    if (batch.empty()) return;
    stored += static_cast<std::int64_t>(writer->append_or_quarantine(batch).stored);
    batch.clear();
  };
  // The file's inputs are stored once, in an input set keyed by their content hash
  // (tooling/input_sets.hpp); the session stores everything else and names the set.
  std::vector<ReplayInput> inputs;
  std::size_t input_k = 0;  // inputs the run has published so far
  std::int64_t shared = 0;
  if (r.record) {
    writer = std::make_unique<eventstore::PgStore>(research_writer_url("backtest --record"));
    inputs = read_file_inputs(data, r.limit, "backtest", cfg.quality, r.actions, false);
    eventstore::PgStore reader(StoreUrls::from_environment().research_reader());
    const auto set = store_input_set(reader, *writer, inputs, data, "backtest");
    cfg.session = core::SessionStarted{.session_id = new_session_id("backtest"),
                                       .kind = "backtest",
                                       .data_source = data,
                                       .started_by = "traderctl",
                                       .version = std::string(version()),
                                       .ts_wall = core::SystemClock().now(),
                                       .reason = "traderctl backtest --in-process --record",
                                       .input_set = set};
    cfg.on_logged = [&](std::uint64_t seq, std::string_view subject, std::string_view json) {
      if (subject.starts_with(subjects::kMarketDataPrefix)) {
        // The k-th input: in the set, unless it differs from the set's (then stored here).
        const auto k = input_k++;
        if (k < inputs.size() && inputs[k].subject == subject && inputs[k].payload == json) {
          ++shared;
          return;
        }
      }
      batch.push_back(recorded_event(dec, sessions, stream, seq, subject, json));
      if (batch.size() >= 2'000) append();
    };
  }
  // The log for the statistics (tooling/report.hpp), besides the recording (if any).
  EventTimeLog log;
  cfg.on_logged = [&log, record = std::move(cfg.on_logged)](std::uint64_t seq, std::string_view subject,
                                                            std::string_view json) {
    log.add(seq, subject, json);
    if (record) record(seq, subject, json);
  };
  fmt::print(stderr, "backtest: in-process (one thread, in-memory bus, the workers' own code), in event-time order{}\n",
             r.record ? ", recorded" : "");
  const auto res = run_in_process(cfg);
  if (r.record) append();
  std::FILE* out = r.report.text();
  fmt::print(out, "backtest: in-process: {} inputs of {} ({}, {} bad rows) in {:.3f} s ({:.0f} inputs/s), {} events in "
             "the log\n",
             res.feed.published, data, res.feed.format, res.feed.bad_rows, res.feed.seconds,
             res.feed.seconds > 0 ? static_cast<double>(res.feed.published) / res.feed.seconds : 0.0, res.log_events);
  fmt::print(out, "backtest: data quality: {}\n", res.feed.quality.to_string());
  if (!res.derived.empty()) fmt::print(out, "backtest: {}\n", describe_derived(res.derived));
  if (res.feed.actions > 0) fmt::print(out, "backtest: {} corporate actions from {}\n", res.feed.actions, r.actions);
  for (const auto& w : res.feed.warnings) fmt::print(out, "backtest: warning: {}\n", w);
  print_report(res.report, "final", out);
  {
    auto settings = r.report.settings;
    use_valuation(settings, cfg.valuation);
    analytics::Analyzer an(settings);
    log.feed(an);
    an.on_session_ended();  // the run is over (a session.ended is in the log only with --record)
    for (const auto& w : res.feed.warnings) an.add_warning("feed: " + w);
    if (!res.derived.empty()) an.add_warning(describe_derived(res.derived));
    emit_analysis(an.analysis("backtest of " + std::filesystem::path(data).filename().string(),
                              r.record ? cfg.session->session_id : ""),
                  r.report);
  }
  if (!r.record) {
    fmt::print(out, "session none (backtest, in-process: not recorded; --record stores it)\n");
    return 0;
  }
  fmt::print(out, "session {} (backtest)\n  traderctl sessions show {}\n", cfg.session->session_id,
             cfg.session->session_id);
  fmt::print(stderr, "backtest: stored {} events in the research store; {} inputs shared from its input set\n", stored,
             shared);
  return 0;
}

int replay_or_backtest(const Args& a) {
  const bool backtest = a.command == "backtest";
  const char* what = backtest ? "backtest" : "replay";
  RunArgs r;
  try {
    r = parse_run_args(a.rest, backtest);
  } catch (const std::invalid_argument& e) {
    fmt::print(stderr, "traderctl {}: {}\nusage: traderctl replay ID [--speed X] [--symbol SYM]... [--subject SUBJ]... "
               "[--from TS] [--to TS] [--lockstep [--chaos-restart WORKER]]\n"
               "       traderctl backtest FILE [--speed X] [--limit N] | backtest FILE --in-process [--limit N] [--record]\n"
               "       traderctl backtest --session ID [--speed X] [filters]\n"
               "       (backtest: [--strategy NAME [--param KEY=VALUE]...]... [--strategy-cmd CMD])\n"
               "       (backtest too: [--lockstep [--chaos-restart WORKER]])\n"
               "       (both: [--json FILE|-] [--trades-csv FILE] [--equity-csv FILE] [--html FILE] [--capital X] "
               "[--periods-per-year N])\n", what, e.what());
    return 2;
  }
  if (r.in_process) return backtest_in_process(r);
  InterruptWatch watch;  // before any thread
  natsio::Library lib;
  SessionStores stores(StoreUrls::from_environment());
  auto& store = stores.research_or_throw();  // where the sandbox records
  ReplayPlan plan;
  if (!r.session.empty()) {
    // The source may be live or research; an unknown session fails here, before any sandbox.
    plan = load_replay_plan(stores.find(r.session).store, r.session, r.filter);
    fmt::print(stderr, "{}: session {}: {} inputs to publish ({} events read; {} orders of strategy '{}' left out, "
               "{} inputs filtered out)\n", what, r.session, plan.inputs.size(), plan.session_events,
               plan.strategy_orders, plan.strategy_id, plan.filtered_out);
  }
  std::string data = r.file.empty() ? "" : std::filesystem::absolute(r.file).string();
  if (!data.empty() && !std::filesystem::exists(data)) throw std::runtime_error("no such data file: " + data);
  const auto source = data.empty() ? "session:" + r.session : data;
  // Its market data is stored once, in an input set keyed by its content, which the
  // sandbox's recorder does not store again (tooling/input_sets.hpp).
  const bool self_publish = r.lockstep || !r.chaos_restart.empty();
  // The feed's data-quality policy and execution's instruments, as the sandbox's workers read them.
  auto workers_cfg = in_process_config_from_environment(data, r.limit);
  if (!data.empty()) plan.inputs = read_file_inputs(data, r.limit, what, workers_cfg.quality, r.actions);
  std::string instruments;  // a backtest's symbols the instruments file lacks: derived (tooling/derived_instruments.hpp)
  if (const auto derived = backtest ? add_derived_instruments(workers_cfg.broker.instruments, plan.inputs)
                                    : std::vector<marketdata::DerivedInstrument>{};
      !derived.empty()) {
    fmt::print("{}: {}\n", what, describe_derived(derived));
    instruments = instruments_csv(workers_cfg.broker.instruments);
  }
  std::vector<ReplayInput> market;
  for (const auto& in : plan.inputs)
    if (in.subject.starts_with(subjects::kMarketDataPrefix)) market.push_back(in);
  std::string input_set;
  std::vector<std::string> digests;
  if (!market.empty() && share_inputs()) {
    if (!plan.input_set.empty() && input_set_holds(stores.find(r.session).store, plan.input_set, market)) {
      // A replay of all of its source's inputs, as its input set holds them: that set.
      input_set = plan.input_set;
      fmt::print(stderr, "{}: market data in input set {} (its source's: shared)\n", what, input_set);
    } else {
      eventstore::PgStore writer(research_writer_url(what));
      input_set = store_input_set(store, writer, market, source, what);
    }
    digests = input_digests(market);
  }
  auto sandbox_cfg = sandbox_config(backtest ? "backtest" : "replay", r.session, source, input_set, std::move(digests));
  sandbox_cfg.instruments_csv = std::move(instruments);
  if (backtest) {  // its strategy worker runs them (STRATEGY_STRATEGIES overrides the user's own)
    const auto choices = backtest_strategies(r);
    print_strategies(choices);
    sandbox_cfg.env.emplace_back("STRATEGY_STRATEGIES", strategy::format_choices(choices));
    for (const auto& c : choices)
      if (c.name == kExternalStrategyName && !r.strategy_cmd.empty()) {  // the program that answers it
        const ExternalStrategy ext(c.params, c.strategy_id, nullptr);
        sandbox_cfg.strategy_cmd = r.strategy_cmd;
        sandbox_cfg.strategy_cmd_env = {{"STRATEGY_ID", c.strategy_id}, {"STRATEGY_SUBJECT", ext.subject()}};
        fmt::print(stderr, "backtest: strategy program: /bin/sh -c {:?} (STRATEGY_SUBJECT={})\n", r.strategy_cmd,
                   ext.subject());
      }
  }
  Sandbox sb(std::move(sandbox_cfg));
  fmt::print(stderr, "{}: sandbox ready (nats {}, stream {}), new session {}\n", what, sb.nats_url(), sb.stream(),
             sb.session_id());
  if (!r.lockstep)
    fmt::print(stderr, "{}: full speed, in event-time order: every worker handles the log by cause, whatever order "
               "it reached the stream in (docs/architecture.md, \"Event time\")\n", what);
  // The file's records go through the feed, unless traderctl must act between them
  // (a barrier per input, or a worker to restart halfway): then it publishes them itself.
  if (!data.empty() && !self_publish) {
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::string> feed_args{data, "--speed", fmt::format("{}", r.speed)};
    if (r.limit) feed_args.insert(feed_args.end(), {"--limit", std::to_string(r.limit)});
    if (!r.actions.empty()) feed_args.insert(feed_args.end(), {"--actions", r.actions});
    sb.run("feed", feed_args, &watch.stop);
    fmt::print(stderr, "{}: feed done in {:.3f} s\n", what,
               std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  } else {
    ReplayOptions opt{.speed = r.speed,
                      .on_progress = [what](const ReplayProgress& p) { print_progress(what, p); },
                      .stop = &watch.stop};
    const auto total = static_cast<std::int64_t>(plan.inputs.size());
    std::int64_t done = 0;
    if (r.lockstep) {
      sb.wait_quiescent();  // start-up events (risk.state, risk.policy) are in the stream before the first input
    }
    if (self_publish) {
      opt.after_each = [&](const ReplayInput&) {
        if (r.lockstep) sb.wait_quiescent();
        if (++done != total / 2 || r.chaos_restart.empty()) return;
        fmt::print(stderr, "{}: chaos: SIGKILL {} after {} of {} inputs, starting it again\n", what,
                   r.chaos_restart, done, total);
        sb.restart(r.chaos_restart);
        if (r.lockstep) sb.wait_quiescent();
        fmt::print(stderr, "{}: chaos: {} restarted and ready\n", what, r.chaos_restart);
      };
    }
    const auto sum = publish_inputs(sb.conn(), plan.inputs, opt, &sb.desk());
    if (r.lockstep)
      fmt::print(r.report.text(), "{}: lock-step: {} barrier rounds for {} inputs{}\n", what, sb.barrier_rounds(), sum.published,
                 r.chaos_restart.empty() ? "" : fmt::format(", {} restarted halfway", r.chaos_restart));
    fmt::print(r.report.text(), "{}: published {} events of {} in {:.3f} s ({:.0f} events/s), market time {} .. {}\n", what,
               sum.published, r.session.empty() ? data : "session " + r.session, sum.publish_seconds,
               sum.publish_seconds > 0 ? static_cast<double>(sum.published) / sum.publish_seconds : 0.0,
               sum.first_market_ts ? core::format_iso8601(sum.first_market_ts) : "-",
               sum.last_market_ts ? core::format_iso8601(sum.last_market_ts) : "-");
  }
  auto flags = r.report;  // the statistics value as the sandbox's workers do
  use_valuation(flags.settings, workers_cfg.valuation);
  return finish_run(sb, store, watch, what, flags);
}
/// `traderctl report SESSION [flags]`: the statistics of a recorded session (tooling/report.hpp).
/// nullopt: no SESSION given, the running reporter is asked (`flags` then says where --json goes).
std::optional<int> report_cmd(const Args& a, ReportFlags& flags) {
  std::vector<std::string> positional;
  try {
    for (std::size_t i = 0; i < a.rest.size(); ++i) {
      if (parse_report_flag(a.rest, i, flags)) continue;
      if (a.rest[i].starts_with("--")) throw std::invalid_argument("unknown option " + a.rest[i]);
      positional.push_back(a.rest[i]);
    }
    if (positional.empty()) {
      if (!flags.trades_csv.empty() || !flags.equity_csv.empty() || !flags.html.empty())
        throw std::invalid_argument("--trades-csv, --equity-csv and --html need a SESSION");
      return std::nullopt;
    }
    if (positional.size() != 1) throw std::invalid_argument("give one SESSION (without one: the running reporter's report)");
    if (!subjects::is_valid_session_id(positional[0])) throw std::invalid_argument("not a session id: " + positional[0]);
  } catch (const std::invalid_argument& e) {
    fmt::print(stderr, "traderctl report: {}\nusage: traderctl report [SESSION [--json FILE|-] [--trades-csv FILE] "
               "[--equity-csv FILE] [--html FILE] [--capital X] [--periods-per-year N]]\n", e.what());
    return 2;
  }
  if (a.json && flags.json.empty()) flags.json = "-";  // `report SESSION --json`: the JSON on stdout
  SessionStores stores(StoreUrls::from_environment());
  const auto found = stores.find(positional[0]);
  use_valuation(flags.settings, valuation_from_environment());
  emit_analysis(analyze_session(found.store, positional[0], flags.settings), flags);
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
    if (a.command == "sessions") {
      SessionStores stores(StoreUrls::from_environment());
      if (a.rest.empty() || (a.rest.size() == 1 && a.rest[0] == "list")) return sessions_list(stores, a);
      if (a.rest.size() == 2 && a.rest[0] == "show") return sessions_show(stores, a.rest[1]);
      if (a.rest.size() == 2 && a.rest[0] == "rm") return sessions_rm(stores, a.rest[1]);
      fmt::print(stderr, "traderctl: usage: sessions [list] | sessions show ID | sessions rm ID\n");
      return 2;
    }
    if (a.command == "export" && a.rest.size() == 2) {
      SessionStores stores(StoreUrls::from_environment());
      const auto n = export_session(stores.find(a.rest[0]).store, a.rest[0], a.rest[1]);
      fmt::print("exported session {}: {} events to {}\n", a.rest[0], n, a.rest[1]);
      return 0;
    }
    if (a.command == "migrate" && a.rest.empty()) return migrate();
    if (a.command == "auth") return auth_cmd(a);
    if (a.command == "stream-init") return stream_init(a);
    if (a.command == "import" && a.rest.size() == 1) {
      // Into the research store: an imported session is research, never part of the live audit log.
      SessionStores stores(StoreUrls::from_environment());
      eventstore::PgStore writer(research_writer_url("import"));
      const auto sum = import_session(stores.research_or_throw(), writer, a.rest[0], [&](const std::string& id) {
        if (SessionStores::holds(stores.live(), id))
          throw std::runtime_error("session " + id + " is in the live store already: importing a copy would give "
                                   "one session id two histories");
      });
      fmt::print("imported session {} into the research store: {} events, {} newly stored\n", sum.session_id,
                 sum.events, sum.stored);
      return 0;
    }
    if (a.command == "events") {
      auto store = open_store();
      fmt::print("Recorded events: {}\n  {:<24} {:>10}\n", store.count(), "type", "count");
      for (const auto& [type, n] : store.count_by_type()) fmt::print("  {:<24} {:>10}\n", type, n);
      fmt::print("  {:<24} {:>10}\n", "subject", "count");
      for (const auto& [subject, n] : store.count_by_subject()) fmt::print("  {:<24} {:>10}\n", subject, n);
      return 0;
    }
    if (a.command == "verify") return verify(a);
    if (a.command == "trace" && a.rest.size() == 1) {
      SessionStores stores(StoreUrls::from_environment());
      auto lines = trace_order(stores.live(), a.rest[0]);
      std::string_view where = "live";
      if (lines.empty())
        if (auto* research = stores.research()) {
          lines = trace_order(*research, a.rest[0]);
          where = "research";
        }
      if (lines.empty()) {
        fmt::print(stderr, "traderctl trace: no event with client_order_id {} in the live or the research store\n",
                   a.rest[0]);
        return 1;
      }
      fmt::print("{}", format_trace(a.rest[0], lines, where));
      return 0;
    }
    if (a.command == "diff" && a.rest.size() == 2) {
      SessionStores stores(StoreUrls::from_environment());
      const auto d = diff_sessions(stores.find(a.rest[0]).store, a.rest[0], stores.find(a.rest[1]).store, a.rest[1]);
      fmt::print("{}", format_diff(d, a.rest[0], a.rest[1]));
      return d.identical ? 0 : 1;
    }
    if (a.command == "replay" || a.command == "backtest") return replay_or_backtest(a);
    if (a.command == "sweep") {
      try {
        return sweep_command(a.rest);
      } catch (const std::invalid_argument& e) {
        fmt::print(stderr, "sweep: {}\nusage: traderctl sweep FILE --strategy NAME --param KEY=V1,V2,... [--param ...] "
                           "[--rank STAT] [--csv FILE|-] [--jobs N] [--limit N] [--actions FILE] [--capital X]\n",
                   e.what());
        return 2;
      }
    }
    ReportFlags live_report;  // report without SESSION: --json FILE|- takes the reporter's reply
    if (a.command == "report")
      if (const auto rc = report_cmd(a, live_report)) return *rc;
    natsio::Library lib;
    natsio::Connection conn({.url = env_or("NATS_URL", "nats://127.0.0.1:4222"), .name = "traderctl",
                             .max_reconnect = 0, .connect_retry_ms = 0});
    if (a.command == "status") {
      // Exit status as monitoring plugins do: 0 ok, 1 degraded, 2 down (a worker's
      // heartbeat is overdue or it stopped); no answer from ops is an error (exit 1, below).
      const auto reply = conn.request(subjects::kOpsStatus, "", 2'000);
      auto st = codec::decode_ops_status(reply);
      if (!st) throw std::runtime_error("ops.status reply: " + st.error().to_string());
      if (a.json) fmt::print("{}\n", reply);
      else print_status(*st);
      return st->status == "down" ? 2 : st->status == "degraded" ? 1 : 0;
    }
    if (a.command == "report") {
      const auto reply = conn.request(subjects::kOpsReport, "", 5'000);
      if (a.json || live_report.json == "-") { fmt::print("{}\n", reply); return 0; }
      if (!live_report.json.empty()) {
        std::ofstream(live_report.json) << reply << '\n';
        fmt::print("report written to {}\n", live_report.json);
      }
      auto r = codec::decode_performance(reply);
      if (!r) throw std::runtime_error("report reply: " + r.error().to_string());
      // The reporter answers while the session runs: what it has so far (interim), even
      // though its message type is performance.report.
      print_report(*r, "interim");
      fmt::print("  (interim: the session is running; traderctl report SESSION for its statistics)\n");
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
