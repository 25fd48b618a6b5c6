// Benchmark (not a test): the event store's reads at scale (issue 4: "indexes
// that keep them fast at tens of millions of events"), each beside the
// machine's raw limit for the same amount of data, measured in the same run.
//
//   build/tests/bench/store_scale_bench [--events 20000000] [--runs 3] [--reps 5] [--chunk 1000000]
//                                       [--collation C.UTF-8] [--pause 1]
//
// The store: a throwaway PostgreSQL (tests/support, default settings: 128 MB
// shared_buffers, fsync on), `events` created by eventstore::PgStore (the real
// migrations) in a database with the C collation (the test cluster's), or with
// --collation's (a database of that locale is created), filled with --events
// realistic events in sessions of ~55,000:
// - market data: the real quotes and trades of ../shared/data (IBM quotes and
//   trades merged by time for live sessions; IBM quotes, EURUSD quotes, BTCUSDT
//   quotes and trades, IBM trades for backtests), encoded as the feed encodes
//   them, market time moved so that each session lies on one day (two sessions
//   a day, so the store spans months);
// - around them what the pipeline records: session.started/ended, every
//   worker's worker.started (one, the recorder's, before the session opens, as
//   in a real run), risk.state, an order every 40 market data events
//   (order.submit on trading.orders and trading.orders.approved, three
//   execution_reports, client_order_id "ma_cross-<symbol>-<n>", n from 1 in
//   each session as the strategy numbers them), performance.metrics every 120,
//   a final performance.report;
// - one live session ("EVENTS:<seq>" msg_ids, one stream across all live
//   sessions) in eight; the others are backtests, each with its own sandbox
//   stream ("SBX<16 hex>:<seq>"), so the newest events are backtest events, as
//   after a user's backtests; the live session nearest the middle of the log
//   runs for --events / 1,000,000 days (at least 2) and holds about a tenth of
//   the events, as a long live session would;
// - type, ts_event and client_order_id derived from each payload by
//   codec::Decoder::peek, as the recorder derives them.
// Loading 20M events through PgStore::append would take most of an hour, so the
// load is a bulk path: positions 1..N and the hash chain are computed here with
// the store's own functions (eventstore::detail::jsonb_text and
// append_hash_input, Sha256, bytea_literal), the rows are COPYed in transactions of --chunk
// events with the statement triggers on (schema/004's chain check, so every
// statement is checked as any writer's is, and schema/005's summaries), and the
// secondary indexes are dropped before the load and
// created again after it from their own definitions (pg_get_indexdef /
// pg_get_constraintdef, i.e. exactly what the migrations created), then VACUUM
// ANALYZE (what autovacuum would do). Indexes built at once are denser than
// indexes grown by appends, so reads through them may be a little faster than
// on a store grown event by event.
//
// Each run times every read the store serves through the real EventStore API
// (PgStore): "cold-ish" = the first call after a PostgreSQL restart (shared
// buffers empty; the OS page cache is not dropped), "warm" = the median of the
// next --reps calls. Beside each, the raw limit for the same amount of data on
// the same server, cold-ish and warm alike: a primary-key range read of as many
// rows (reads that return events or sessions; the same columns as an event), an
// index-only scan of the primary key over as many entries as the read counts
// (count_by_type, count), or the newest row by primary key (reads that return
// one event). With --pause 1 it stops after loading and prints the database's
// URL, to look at plans by hand, until Enter. After the last run,
// the plan of every read slower than 50 ms is logged with EXPLAIN ANALYZE and
// BUFFERS (auto_explain, so it is the statement PgStore sends) and printed.

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

#include <fmt/format.h>
#include <pqxx/pqxx>

#include "bench_util.hpp"
#include "codec/codec.hpp"
#include "eventstore/detail.hpp"
#include "eventstore/event_store.hpp"
#include "eventstore/migrations.hpp"
#include "marketdata/reader.hpp"
#include "servers.hpp"
#include "subjects/subjects.hpp"

namespace {

using bench::Clock;
using bench::arg;
using bench::loadavg;
using bench::seconds_since;
using core::TimestampNs;
constexpr TimestampNs kDay = 86'400'000'000'000;
constexpr TimestampNs kFirstDay = 1'381'190'400'000'000'000;  // 2013-10-08T00:00:00Z

// ---- the data --------------------------------------------------------------------------

std::vector<core::MarketData> read_file(const std::string& name) {
  std::vector<core::MarketData> out;
  marketdata::Reader reader(testsupport::shared_data_dir() + "/" + name);
  while (auto r = reader.next())
    if (*r) out.push_back(r->value());
  if (out.empty()) throw std::runtime_error("no records in " + name);
  return out;
}

TimestampNs ts_of(const core::MarketData& md) {
  return std::visit([](const auto& x) { return x.ts_event; }, md);
}

/// a and b merged by ts_event (stable: a first on ties).
std::vector<core::MarketData> merged(const std::vector<core::MarketData>& a, const std::vector<core::MarketData>& b) {
  std::vector<core::MarketData> out;
  std::merge(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out),
             [](const auto& x, const auto& y) { return ts_of(x) < ts_of(y); });
  return out;
}

struct Template {
  std::string kind, data_source;
  std::vector<core::MarketData> md;
  TimestampNs day0 = 0;  // UTC midnight of its first event
};

core::Decimal dec(std::string_view s) { return *core::Decimal::parse(s); }

/// What the benchmark remembers of each session to choose the reads' parameters.
struct SessionInfo {
  std::string id, stream, symbol;
  bool live = false;
  int days = 1;  // of market data (a long live session has several)
  std::int64_t first_position = 0, last_position = 0, events = 0, p90_position = 0;
  TimestampNs day = 0;  // UTC midnight of its market day
};

/// Writes the chained rows into `events` with COPY, one transaction per `chunk` rows.
class Loader {
 public:
  Loader(pqxx::connection& c, std::size_t chunk) : c_(c), chunk_(chunk) {}

  /// Appends one event with the next position; returns that position.
  std::int64_t add(const std::string& msg_id, const std::string& subject, const std::string& payload,
                   const std::optional<std::string>& session_id) {
    auto env = decoder_.peek(payload);
    if (!env) throw std::runtime_error("payload does not decode: " + payload);
    std::optional<TimestampNs> ts;
    if (env->ts_event && *env->ts_event > 0) ts = env->ts_event;  // as the recorder stores it
    const std::int64_t position = ++position_;
    const auto jsonb = eventstore::detail::jsonb_text(payload);
    if (!jsonb) throw std::runtime_error("payload outside jsonb_text's range: " + payload);
    input_.clear();
    eventstore::detail::append_hash_input(input_, position, msg_id, subject, env->type, env->client_order_id, ts,
                                          *jsonb, session_id);
    const auto hash = sha_(prev_, input_);
    const auto hash_literal = eventstore::detail::bytea_literal(eventstore::detail::view(hash));
    if (!copy_) {
      work_.emplace(c_);
      copy_.emplace(*work_, "events", kColumns);
    }
    const std::string ts_text = ts ? std::to_string(*ts) : std::string();
    *copy_ << std::make_tuple(position, msg_id, subject, env->type,
                              env->client_order_id ? env->client_order_id->c_str() : nullptr,
                              ts ? ts_text.c_str() : nullptr, payload, session_id ? session_id->c_str() : nullptr,
                              prev_literal_.data(), hash_literal.data());
    prev_.assign(eventstore::detail::view(hash));
    prev_literal_ = hash_literal;
    if (++in_chunk_ == chunk_) commit();
    return position;
  }

  void commit() {
    if (!copy_) return;
    copy_->complete();  // the chain check of schema/004 runs here
    copy_.reset();
    work_->commit();
    work_.reset();
    in_chunk_ = 0;
  }

  std::int64_t position() const { return position_; }

 private:
  inline static const std::vector<std::string> kColumns{"position", "msg_id",  "subject",    "type",      "client_order_id",
                                                        "ts_event", "payload", "session_id", "prev_hash", "hash"};
  pqxx::connection& c_;
  std::size_t chunk_;
  std::size_t in_chunk_ = 0;
  std::int64_t position_ = 0;
  std::string prev_, input_;
  eventstore::detail::HashLiteral prev_literal_ = eventstore::detail::bytea_literal({});
  eventstore::detail::Sha256 sha_;
  codec::Decoder decoder_;
  std::optional<pqxx::work> work_;
  std::optional<pqxx::stream_to> copy_;
};

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9;
  x = (x ^ (x >> 27)) * 0x94d049bb133111eb;
  return x ^ (x >> 31);
}

core::WorkerStarted manifest(const std::string& worker, const std::string& stream, const SessionInfo& s,
                             TimestampNs wall, const std::string& data_source) {
  core::WorkerStarted w{.worker = worker,
                        .instance = fmt::format("vm:{}", 20000 + splitmix64(wall) % 40000),
                        .version = "0.1.0+g500d2f213dcc",
                        .ts_wall = wall,
                        .config = {{"database_url", "postgresql://trader@127.0.0.1:5432/trader"},
                                   {"heartbeat_ms", "200"},
                                   {"nats_url", "nats://127.0.0.1:4222"},
                                   {"stream", stream}},
                        .config_hash = fmt::format("{:016x}{:016x}{:016x}{:016x}", splitmix64(wall), splitmix64(wall + 1),
                                                   splitmix64(wall + 2), splitmix64(wall + 3))};
  if (worker == "feed") {
    w.args = {data_source};
    w.data_source = data_source;
    w.data_sha256 = w.config_hash;
  }
  if (worker == "ops") w.config.emplace_back("session", s.id);
  std::sort(w.config.begin(), w.config.end());
  return w;
}

/// Writes one session (and the recorder's announcement before it). Returns what the reads need.
SessionInfo write_session(Loader& load, const Template& t, std::size_t k, std::uint64_t& live_seq, int days) {
  SessionInfo s;
  s.live = t.kind == "live";
  s.days = days;
  const TimestampNs wall = 1'790'000'000'000'000'000 + static_cast<TimestampNs>(k) * 3'600'000'000'000;  // 2026, hourly
  s.day = kFirstDay + static_cast<TimestampNs>(k / 2) * kDay;
  const TimestampNs shift = s.day - t.day0;
  s.id = fmt::format("{}-s{:04}-{:04x}", t.kind, k, splitmix64(k) & 0xffff);
  s.stream = s.live ? "EVENTS" : fmt::format("SBX{:016x}", splitmix64(k + 1'000'000));
  std::uint64_t sbx_seq = 0;
  const auto next_id = [&] { return fmt::format("{}:{}", s.stream, s.live ? ++live_seq : ++sbx_seq); };
  const std::optional<std::string> sid = s.id;

  load.add(next_id(), "session.workers.recorder", codec::encode(manifest("recorder", s.stream, s, wall, "")), std::nullopt);
  s.first_position = load.add(next_id(), std::string(subjects::kSessionLifecycle),
                              codec::encode(core::SessionStarted{.session_id = s.id,
                                                                 .kind = t.kind,
                                                                 .data_source = t.data_source,
                                                                 .started_by = "ops",
                                                                 .version = "0.1.0+g500d2f213dcc",
                                                                 .ts_wall = wall,
                                                                 .reason = "ops started"}),
                              sid);
  std::vector<std::string> workers{"ops", "recorder", "strategy", "reporter", "execution", "risk-state"};
  if (!s.live) workers.push_back("feed");
  for (const auto& w : workers)
    load.add(next_id(), "session.workers." + w, codec::encode(manifest(w, s.stream, s, wall + 1000, t.data_source)), sid);
  load.add(next_id(), "risk.state",
           codec::encode(core::RiskStateChanged{.reason = "risk-state started", .source = "startup"}), sid);

  std::int64_t orders = 0, md_count = 0;
  core::PerformanceReport perf{.positions = {}, .realized_pnl = dec("0"), .unrealized_pnl = dec("0"),
                               .total_pnl = dec("0"), .peak_pnl = dec("0"), .max_drawdown = dec("0"),
                               .gross_notional_traded = dec("0"), .commission = dec("0")};
  TimestampNs last_ts = 0;
  const auto total_md = static_cast<std::int64_t>(t.md.size()) * days;
  for (std::int64_t i = 0; i < total_md; ++i) {
    const TimestampNs day_shift = shift + (i / static_cast<std::int64_t>(t.md.size())) * kDay;
    core::MarketData md = t.md[static_cast<std::size_t>(i) % t.md.size()];
    std::string symbol;
    core::Price px;
    std::visit(
        [&](auto& x) {
          x.ts_event += day_shift;
          last_ts = x.ts_event;
          symbol = x.symbol;
          using X = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<X, core::Quote>) px = x.ask;
          else if constexpr (std::is_same_v<X, core::Trade>) px = x.price;
          else px = x.close;
        },
        md);
    s.symbol = symbol;
    load.add(next_id(), subjects::market_data(symbol), codec::encode(md), sid);
    ++md_count;
    if (md_count % 40 == 0) {
      const core::Side side = orders % 2 == 0 ? core::Side::buy : core::Side::sell;
      core::OrderSubmit o{.client_order_id = fmt::format("ma_cross-{}-{}", symbol, ++orders),
                          .symbol = symbol,
                          .side = side,
                          .quantity = dec("1000"),
                          .time_in_force = core::TimeInForce::ioc,
                          .strategy_id = "ma_cross",
                          .ts_event = last_ts};
      const std::string order = codec::encode(o);
      load.add(next_id(), "trading.orders", order, sid);
      load.add(next_id(), "trading.orders.approved", order, sid);
      core::ExecutionReport r{.client_order_id = o.client_order_id,
                              .exec_id = o.client_order_id + "-1",
                              .symbol = symbol,
                              .side = side,
                              .time_in_force = core::TimeInForce::ioc,
                              .quantity = o.quantity,
                              .last_qty = dec("0"),
                              .last_px = dec("0"),
                              .cum_qty = dec("0"),
                              .leaves_qty = o.quantity,
                              .avg_px = dec("0"),
                              .strategy_id = "ma_cross",
                              .ts_event = last_ts};
      load.add(next_id(), "trading.executions", codec::encode(r), sid);
      r.exec_id = o.client_order_id + "-2";
      r.exec_type = core::ExecType::partial_fill;
      r.order_status = core::OrderStatus::partially_filled;
      r.last_qty = r.cum_qty = dec("100");
      r.leaves_qty = dec("900");
      r.last_px = r.avg_px = px;
      load.add(next_id(), "trading.executions", codec::encode(r), sid);
      r.exec_id = o.client_order_id + "-3";
      r.exec_type = core::ExecType::canceled;
      r.order_status = core::OrderStatus::canceled;
      r.last_qty = r.last_px = dec("0");
      r.leaves_qty = dec("0");
      r.text = "ioc: unfilled rest canceled";
      load.add(next_id(), "trading.executions", codec::encode(r), sid);
    }
    if (md_count % 120 == 0) {
      perf.orders = perf.fills = orders;
      perf.ts_event = last_ts;
      perf.positions = {core::PositionSnapshot{.symbol = symbol, .quantity = dec("100"), .avg_px = px, .mark_px = px,
                                               .realized_pnl = dec("-12.5"), .unrealized_pnl = dec("3.25"),
                                               .bought_qty = dec("100"), .sold_qty = dec("0"), .commission = dec("0")}};
      load.add(next_id(), "performance.metrics", codec::encode(perf), sid);
    }
    if (md_count == total_md * 9 / 10) s.p90_position = load.position();
  }
  perf.final_report = true;
  load.add(next_id(), "reports.performance", codec::encode(perf), sid);
  s.last_position = load.add(
      next_id(), std::string(subjects::kSessionLifecycle),
      codec::encode(core::SessionEnded{.session_id = s.id, .ts_wall = wall + 600'000'000'000, .reason = "ops stopped"}),
      sid);
  s.events = s.last_position - s.first_position + 1;
  if (s.p90_position == 0) s.p90_position = s.first_position;
  return s;
}

struct Loaded {
  std::vector<SessionInfo> sessions;
  std::int64_t events = 0;
  double copy_s = 0, index_s = 0, vacuum_s = 0;
  std::vector<std::pair<std::string, double>> index_build_s;
};

Loaded load_store(const std::string& url, std::int64_t target, std::size_t chunk) {
  // The templates: real data files as the feed reads them.
  std::vector<Template> templates;
  const auto ibm_q = read_file("quotes_IBM_2013-10-08.csv"), ibm_t = read_file("trades_IBM_2013-10-08.csv");
  const auto eur_q = read_file("quotes_EURUSD_2014-05-06.csv");
  const auto btc = merged(read_file("quotes_BTCUSDT_2020-02-22.csv"), read_file("trades_BTCUSDT_2020-02-22.csv"));
  const std::string data = testsupport::shared_data_dir() + "/";
  templates.push_back({"live", "", merged(ibm_q, ibm_t)});
  templates.push_back({"backtest", data + "quotes_IBM_2013-10-08.csv", ibm_q});
  templates.push_back({"backtest", data + "quotes_EURUSD_2014-05-06.csv", eur_q});
  templates.push_back({"backtest", data + "quotes_BTCUSDT_2020-02-22.csv", btc});
  templates.push_back({"backtest", data + "trades_IBM_2013-10-08.csv", ibm_t});
  for (auto& t : templates) t.day0 = ts_of(t.md.front()) / kDay * kDay;
  static constexpr std::size_t kCycle[] = {0, 1, 2, 3, 1, 4, 2, 1};  // one live session in eight

  Loaded out;
  pqxx::connection c(url);
  pqxx::nontransaction admin(c);
  // The secondary indexes and the UNIQUE(msg_id) constraint, as the migrations made them.
  struct Index {
    std::string name, definition;
    bool constraint;
  };
  std::vector<Index> indexes;
  for (const auto& row : admin.exec(
           "SELECT ic.relname, coalesce(pg_get_constraintdef(con.oid), pg_get_indexdef(i.indexrelid)), con.conname "
           "FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid "
           "LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid "
           "WHERE i.indrelid = 'events'::regclass AND NOT i.indisprimary ORDER BY ic.relname")) {
    indexes.push_back({row[2].is_null() ? row[0].c_str() : row[2].c_str(), row[1].c_str(), !row[2].is_null()});
  }
  for (const auto& ix : indexes)
    admin.exec(ix.constraint ? "ALTER TABLE events DROP CONSTRAINT " + admin.quote_name(ix.name)
                             : "DROP INDEX " + admin.quote_name(ix.name));

  const auto t0 = Clock::now();
  {
    pqxx::connection cc(url);
    Loader load(cc, chunk);
    std::uint64_t live_seq = 0;
    // One live session near the middle of the log runs for several days: about a tenth of the events.
    const auto long_days = static_cast<int>(std::max<std::int64_t>(2, target / 1'000'000));
    const auto long_k = static_cast<std::size_t>(target / 55'000 / 2 / 8 * 8);
    for (std::size_t k = 0; load.position() < target; ++k) {
      out.sessions.push_back(
          write_session(load, templates[kCycle[k % std::size(kCycle)]], k, live_seq, k == long_k ? long_days : 1));
      if (k % 20 == 19)
        fmt::print(stderr, "store_scale_bench: {} sessions, {} events, {:.0f} s\n", k + 1, load.position(),
                   seconds_since(t0));
    }
    load.commit();
    out.events = load.position();
  }
  out.copy_s = seconds_since(t0);
  admin.exec(fmt::format("SELECT setval('events_position_seq', {})", out.events));

  const auto t1 = Clock::now();
  admin.exec("SET maintenance_work_mem = '1GB'");
  for (const auto& ix : indexes) {
    const auto ti = Clock::now();
    admin.exec(ix.constraint ? "ALTER TABLE events ADD CONSTRAINT " + admin.quote_name(ix.name) + " " + ix.definition
                             : ix.definition);
    out.index_build_s.emplace_back(ix.name, seconds_since(ti));
  }
  out.index_s = seconds_since(t1);
  const auto t2 = Clock::now();
  admin.exec("VACUUM (ANALYZE) events");
  admin.exec("CHECKPOINT");
  out.vacuum_s = seconds_since(t2);
  return out;
}

// ---- the reads -------------------------------------------------------------------------

/// What a read is compared with: the same amount of data, read the cheapest way.
enum class RawKind { range, index_only, newest };

struct Read {
  std::string name;
  std::function<std::size_t(eventstore::PgStore&)> run;  // returns the rows (or entries) it returns
  RawKind raw = RawKind::range;
  std::int64_t raw_entries = 0;  // index_only: the entries the read aggregates; range: 0 = as many rows as returned
};

struct Timing {
  double cold_ms = 0, warm_ms = 0;
  std::size_t rows = 0;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

/// The raw limit as one pqxx statement.
std::string raw_sql(RawKind kind, std::int64_t entries, std::int64_t from) {
  switch (kind) {
    case RawKind::range:
      return fmt::format(
          "SELECT position, msg_id, subject, type, client_order_id, ts_event, payload::text, session_id FROM events "
          "WHERE position > {} ORDER BY position LIMIT {}",
          from, entries);
    case RawKind::index_only:
      return fmt::format("SELECT count(*) FROM (SELECT position FROM events WHERE position > {} ORDER BY position LIMIT {}) e",
                         from, entries);
    case RawKind::newest:
      return "SELECT position, msg_id, subject, type, client_order_id, ts_event, payload::text, session_id FROM events "
             "ORDER BY position DESC LIMIT 1";
  }
  return "";
}

std::size_t touch(const pqxx::result& r) { return r.size(); }  // libpq has received every row already

}  // namespace

int main(int argc, char** argv) try {
  const auto target = std::stoll(arg(argc, argv, "--events", "20000000"));
  const int runs = std::stoi(arg(argc, argv, "--runs", "3"));
  const int reps = std::stoi(arg(argc, argv, "--reps", "5"));
  const auto chunk = static_cast<std::size_t>(std::stoul(arg(argc, argv, "--chunk", "1000000")));
  if (target < 100'000) throw std::runtime_error("--events must be >= 100000");

  const std::string collation = arg(argc, argv, "--collation", "");

  testsupport::PgServer pg;
  std::string db = "trader";  // the cluster's locale: C
  if (!collation.empty()) {    // e.g. C.UTF-8 or en_US.UTF-8, as initdb gives a database by default elsewhere
    pqxx::connection c(pg.url_for("postgres", testsupport::PgRole::superuser));
    pqxx::nontransaction t(c);
    t.exec("CREATE DATABASE scale TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE " + t.quote(collation) +
           " LC_CTYPE " + t.quote(collation));
    db = "scale";
    pg.create_database(db);  // roles.sql (owner, grants) and the migrations
  }
  const std::size_t migrations = eventstore::embedded_migrations().size();
  // The loader drops and rebuilds indexes and COPYs with the triggers' checks, as
  // the superuser; every read below is the reader's (trader_readonly), as traderctl's.
  const std::string admin_url = pg.url_for(db, testsupport::PgRole::superuser);
  const std::string url = pg.url_for(db, testsupport::PgRole::reader);
  fmt::print("store_scale_bench: loading {} events into a database with collation {} (loadavg {})\n", target,
             collation.empty() ? "C" : collation, loadavg());
  const auto loaded = load_store(admin_url, target, chunk);
  const auto n = loaded.events;
  std::int64_t live_sessions = 0;
  for (const auto& s : loaded.sessions) live_sessions += s.live;
  fmt::print("loaded {} events in {} sessions ({} live, {} backtests; {} migrations): COPY {:.0f} s ({:.0f} events/s, "
             "chain checked per {} events), indexes {:.0f} s, VACUUM ANALYZE {:.0f} s\n",
             n, loaded.sessions.size(), live_sessions, loaded.sessions.size() - live_sessions, migrations,
             loaded.copy_s, static_cast<double>(n) / loaded.copy_s, chunk, loaded.index_s, loaded.vacuum_s);
  for (const auto& [name, s] : loaded.index_build_s) fmt::print("  built {} in {:.1f} s\n", name, s);

  // Sizes.
  {
    pqxx::connection c(admin_url);
    pqxx::nontransaction t(c);
    const auto sz = t.exec(
        "SELECT pg_size_pretty(pg_relation_size('events')), pg_size_pretty(pg_table_size('events')), "
        "pg_size_pretty(pg_indexes_size('events')), pg_size_pretty(pg_total_relation_size('events')), "
        "pg_size_pretty(pg_database_size(current_database()))")[0];
    fmt::print("| relation | size |\n|---|---:|\n| events heap | {} |\n| events heap + TOAST | {} |\n", sz[0].c_str(),
               sz[1].c_str());
    for (const auto& row : t.exec(
             "SELECT indexrelname, pg_size_pretty(pg_relation_size(indexrelid)) FROM pg_stat_user_indexes "
             "WHERE relname = 'events' ORDER BY pg_relation_size(indexrelid) DESC"))
      fmt::print("| index {} | {} |\n", row[0].c_str(), row[1].c_str());
    fmt::print("| all indexes | {} |\n| total | {} |\n| database | {} |\n", sz[2].c_str(), sz[3].c_str(), sz[4].c_str());
  }

  // The reads' parameters: a session in the middle, the hour 14:00-15:00 UTC of its day, a late position.
  const auto& mid = loaded.sessions[loaded.sessions.size() / 2];
  const SessionInfo* mid_ibm = &mid;
  for (std::size_t i = loaded.sessions.size() / 2; i < loaded.sessions.size(); ++i)
    if (loaded.sessions[i].symbol == "IBM") {
      mid_ibm = &loaded.sessions[i];
      break;
    }
  const SessionInfo* long_live = &mid;
  for (const auto& s : loaded.sessions)
    if (s.days > 1) long_live = &s;
  const SessionInfo* last_live = nullptr;
  for (const auto& s : loaded.sessions)
    if (s.live) last_live = &s;
  const std::int64_t after_live = last_live ? n - last_live->last_position : 0;
  const auto& newest = loaded.sessions.back();
  const std::int64_t deep = n * 9 / 10;
  const TimestampNs hour_from = mid_ibm->day + 14 * 3'600'000'000'000, hour_to = hour_from + 3'600'000'000'000;
  const std::string coid = "ma_cross-IBM-26";
  fmt::print("parameters: session {} ({} events from position {}), deep page after position {}, one hour {}..{} of "
             "session {}'s day, client_order_id {}; newest live event {} events before the end; newest stream {}\n",
             mid.id, mid.events, mid.first_position, deep, core::format_iso8601(hour_from),
             core::format_iso8601(hour_to), mid_ibm->id, coid, after_live, newest.stream);

  using Q = eventstore::EventQuery;
  // Deep pages of the client_order_id and time-range reads start after half of their matches.
  const auto middle_match = [&](Q query) -> std::int64_t {
    eventstore::PgStore store(url);
    query.limit = 10'000'000;
    const auto all_matches = store.query(query);
    return all_matches.empty() ? 0 : all_matches[all_matches.size() / 2].position;
  };
  const std::int64_t coid_middle = middle_match(Q{.client_order_id = coid});
  const std::int64_t hour_middle = middle_match(Q{.ts_from = hour_from, .ts_to = hour_to});
  fmt::print("deep pages of the client_order_id and time-range reads: after positions {} and {} (half their matches)\n",
             coid_middle, hour_middle);
  fmt::print("long live session {}: {} days, {} events ({:.1f}% of the log) from position {}\n", long_live->id,
             long_live->days, long_live->events, 100.0 * static_cast<double>(long_live->events) / static_cast<double>(n),
             long_live->first_position);
  if (arg(argc, argv, "--pause", "0") != "0") {
    fmt::print("paused: the store is {} ; press Enter to go on\n", url);
    std::fflush(stdout);
    std::getchar();
  }
  const auto q = [](Q query) {
    return [query](eventstore::PgStore& s) { return s.query(query).size(); };
  };
  std::vector<Read> reads{
      {"query session, first page", q(Q{.session_id = mid.id})},
      {"query session, deep page", q(Q{.session_id = mid.id, .after_position = mid.p90_position})},
      {"query long live session, first page", q(Q{.session_id = long_live->id})},
      {"query long live session, deep page", q(Q{.session_id = long_live->id, .after_position = long_live->p90_position})},
      {"query subject trading.executions, first page", q(Q{.subject = "trading.executions"})},
      {"query subject trading.executions, deep page", q(Q{.subject = "trading.executions", .after_position = deep})},
      {"query subject market.data.IBM, deep page", q(Q{.subject = "market.data.IBM", .after_position = deep})},
      {"query type execution_report, first page", q(Q{.type = "execution_report"})},
      {"query type execution_report, deep page", q(Q{.type = "execution_report", .after_position = deep})},
      {"query type quote, deep page", q(Q{.type = "quote", .after_position = deep})},
      {"query client_order_id (every session)", q(Q{.client_order_id = coid})},
      {"query client_order_id, deep page", q(Q{.client_order_id = coid, .after_position = coid_middle})},
      {"query session + type session.started (sessions show)", q(Q{.session_id = mid.id, .type = "session.started"})},
      {"query session + type execution_report", q(Q{.session_id = mid.id, .type = "execution_report"})},
      {"query session + client_order_id", q(Q{.session_id = mid_ibm->id, .client_order_id = coid})},
      {"query ts_event range (1 h), first page", q(Q{.ts_from = hour_from, .ts_to = hour_to})},
      {"query ts_event range (1 h), deep page", q(Q{.ts_from = hour_from, .ts_to = hour_to, .after_position = hour_middle})},
      {"query session + ts_event range (1 h)", q(Q{.session_id = mid_ibm->id, .ts_from = hour_from, .ts_to = hour_to})},
      {"read(deep, 10000)", [&](eventstore::PgStore& s) { return s.read(deep, 10'000).size(); }},
      {"sessions()", [](eventstore::PgStore& s) { return s.sessions().size(); }},
      {"count_by_type(session)", [&](eventstore::PgStore& s) { return s.count_by_type(mid.id).size(); },
       RawKind::index_only, mid.events},
      {"count_by_type(long live session)", [&](eventstore::PgStore& s) { return s.count_by_type(long_live->id).size(); },
       RawKind::index_only, long_live->events},
      {"last_event(\"EVENTS:\")", [](eventstore::PgStore& s) { return s.last_event("EVENTS:") ? 1 : 0; },
       RawKind::newest},
      {"last_msg_id(\"EVENTS:\")", [](eventstore::PgStore& s) { return s.last_msg_id("EVENTS:") ? 1 : 0; },
       RawKind::newest},
      {"last_msg_id(newest backtest stream)",
       [&](eventstore::PgStore& s) { return s.last_msg_id(newest.stream + ":") ? 1 : 0; }, RawKind::newest},
      {"last_msg_id(new stream): a sandbox recorder's start",
       [](eventstore::PgStore& s) { return s.last_msg_id("SBX0000000000000000:") ? 1 : 0; }, RawKind::newest},
      {"last_event(new stream): a sandbox recorder's start",
       [](eventstore::PgStore& s) { return s.last_event("SBX0000000000000000:") ? 1 : 0; }, RawKind::newest},
      {"count()", [](eventstore::PgStore& s) { return static_cast<std::size_t>(s.count() > 0); }, RawKind::index_only, n},
      {"count_by_type()", [](eventstore::PgStore& s) { return s.count_by_type().size(); }, RawKind::index_only, n},
      {"count_by_subject()", [](eventstore::PgStore& s) { return s.count_by_subject().size(); }, RawKind::index_only, n},
  };

  const auto restart = [&] {
    pg.stop();
    pg.start();
  };
  const auto time_ms = [](const std::function<void()>& f) {
    const auto t0 = Clock::now();
    f();
    return seconds_since(t0) * 1000;
  };
  std::vector<std::vector<std::pair<Timing, Timing>>> all(reads.size());  // [read][run] -> (ours, raw)
  for (int run = 1; run <= runs; ++run) {
    const std::string load = loadavg();
    fmt::print("\n--- run {} (loadavg before: {}), milliseconds; cold-ish = first call after a PostgreSQL restart, "
               "warm = median of {}\n",
               run, load, reps);
    fmt::print("| read | rows | ours cold | ours warm | raw limit | raw cold | raw warm | warm ratio |\n"
               "|---|---:|---:|---:|---|---:|---:|---:|\n");
    for (std::size_t i = 0; i < reads.size(); ++i) {
      const auto& r = reads[i];
      Timing ours, raw;
      restart();
      {
        eventstore::PgStore store(url);
        ours.cold_ms = time_ms([&] { ours.rows = r.run(store); });
        std::vector<double> w;
        for (int k = 0; k < reps; ++k) w.push_back(time_ms([&] { r.run(store); }));
        ours.warm_ms = median(w);
      }
      const std::int64_t entries =
          r.raw == RawKind::index_only ? r.raw_entries : std::max<std::int64_t>(1, static_cast<std::int64_t>(ours.rows));
      const std::string sql = raw_sql(r.raw, entries, r.raw == RawKind::index_only ? 0 : n / 2);
      restart();
      {
        pqxx::connection c(url);
        pqxx::nontransaction t(c);
        raw.cold_ms = time_ms([&] { raw.rows = touch(t.exec(sql)); });
        std::vector<double> w;
        for (int k = 0; k < reps; ++k) w.push_back(time_ms([&] { touch(t.exec(sql)); }));
        raw.warm_ms = median(w);
      }
      const std::string raw_name = r.raw == RawKind::range        ? fmt::format("PK range, {} rows", entries)
                                   : r.raw == RawKind::index_only ? fmt::format("PK index-only, {} entries", entries)
                                                                  : "newest row by PK";
      fmt::print("| {} | {} | {:.1f} | {:.1f} | {} | {:.1f} | {:.1f} | {:.1f} |\n", r.name, ours.rows, ours.cold_ms,
                 ours.warm_ms, raw_name, raw.cold_ms, raw.warm_ms, ours.warm_ms / std::max(raw.warm_ms, 0.001));
      all[i].emplace_back(ours, raw);
    }
  }

  // Every run side by side: min-max over the runs.
  fmt::print("\nsummary over {} runs (ms, min-max): \n| read | rows | ours cold | ours warm | raw cold | raw warm | warm ratio |\n"
             "|---|---:|---:|---:|---:|---:|---:|\n",
             runs);
  for (std::size_t i = 0; i < reads.size(); ++i) {
    const auto span = [&](auto get, int decimals) {
      double lo = 1e300, hi = 0;
      for (const auto& x : all[i]) {
        lo = std::min(lo, get(x));
        hi = std::max(hi, get(x));
      }
      return decimals == 0 ? fmt::format("{:.0f}-{:.0f}", lo, hi) : fmt::format("{:.1f}-{:.1f}", lo, hi);
    };
    using P = std::pair<Timing, Timing>;
    fmt::print("| {} | {} | {} | {} | {} | {} | {} |\n", reads[i].name, all[i].front().first.rows,
               span([](const P& x) { return x.first.cold_ms; }, 1), span([](const P& x) { return x.first.warm_ms; }, 1),
               span([](const P& x) { return x.second.cold_ms; }, 1), span([](const P& x) { return x.second.warm_ms; }, 1),
               span([](const P& x) { return x.first.warm_ms / std::max(x.second.warm_ms, 0.001); }, 1));
  }

  // Plans of the slow reads (> 50 ms cold-ish or warm in any run), as PostgreSQL ran them.
  std::vector<std::size_t> slow;
  for (std::size_t i = 0; i < reads.size(); ++i)
    for (const auto& [ours, raw] : all[i])
      if (ours.cold_ms > 50 || ours.warm_ms > 50) {
        slow.push_back(i);
        break;
      }
  fmt::print("\n{} reads slower than 50 ms; their plans (warm, EXPLAIN ANALYZE BUFFERS via auto_explain):\n",
             slow.size());
  if (!slow.empty()) {
    restart();
    ::setenv("PGOPTIONS",
             "-c session_preload_libraries=auto_explain -c auto_explain.log_min_duration=0 "
             "-c auto_explain.log_analyze=on -c auto_explain.log_buffers=on -c auto_explain.log_timing=on",
             1);
    {
      eventstore::PgStore store(url);
      for (const auto i : slow) {
        reads[i].run(store);  // warm up
        reads[i].run(store);
        const std::string log = pg.log_tail(400);
        const auto at = log.rfind("duration:");
        fmt::print("\n### {}\n{}\n", reads[i].name,
                   at == std::string::npos ? std::string("(no plan in the log)") : log.substr(log.rfind('\n', at) + 1));
      }
    }
    ::unsetenv("PGOPTIONS");
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "store_scale_bench: %s\n", e.what());
  return 1;
}
