// Benchmark (not a test): the recorder's sustained rate from the bus into
// PostgreSQL, beside a raw COPY of the same rows into the same table and into a
// plain table, measured in the same run on the same servers.
//
//   build/tests/bench/recorder_bench [--events 200000] [--batch 500] [--recorder PATH]
//
// --batch sets RECORDER_BATCH (the recorder's default when absent); --recorder
// runs another recorder binary (default: build/cmd/recorder). Each --variant SQL
// (repeatable; for exploring what the table costs) measures (b) once more on a
// fresh migrated database after running SQL there as the superuser.
//
// (a) recorder: N real messages are published on the bus before the recorder
//     starts: a session.started on session.lifecycle, N-2 quotes on
//     market.data.<symbol> (real quotes from ../shared/data, IBM, EURUSD and
//     BTCUSDT, read again from the start when they run out), and a session.ended.
//     The JetStream stream EVENTS captures them (checked: exactly N stored). Then
//     the real `recorder` binary starts on an empty PostgreSQL database and
//     drains the stream: the time runs from starting its process (connect and
//     migrate included) until the newest stored event is EVENTS:N. The rate over
//     the steady middle part (from 10% to 90% of N stored) is reported too.
//     Afterwards: no loss and no duplicates (N rows, N distinct msg_ids, stream
//     sequences 1..N, every event in the session) and PgStore::verify() passes.
//     (The recorder announces itself on session.workers.recorder at start; the
//     stream captures that too, as sequence N+1: it is stored but not counted.)
// (b) raw COPY: the same N rows as stored by (a) (every column the store writes,
//     including position, prev_hash and hash) with one pqxx::stream_to in one
//     transaction into `events` of a fresh database with the same migrations, so
//     its indexes and triggers work as for the recorder; verify() passes after.
// (c) raw COPY of the same rows into a plain table with the same columns and no
//     index, trigger or constraint: the machine's limit (../shared/limits, 5d).
// Each COPY is timed from BEGIN to COMMIT, after a CHECKPOINT.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include <fmt/format.h>
#include <pqxx/pqxx>

#include "bench_util.hpp"
#include "codec/codec.hpp"
#include "copy_rows.hpp"
#include "eventstore/event_store.hpp"
#include "marketdata/reader.hpp"
#include "natsio/natsio.hpp"
#include "servers.hpp"
#include "workers/recorder.hpp"
#include "subjects/subjects.hpp"

namespace {

using bench::Clock;
using bench::arg;
using bench::seconds_since;

struct Message {
  std::string subject, payload;
};

/// N messages: session.started, N-2 real quotes (files read again from the start
/// when they run out), session.ended.
std::vector<Message> messages(std::size_t n, const std::string& session_id) {
  std::vector<Message> quotes;
  for (const char* f : {"quotes_IBM_2013-10-08.csv", "quotes_EURUSD_2014-05-06.csv", "quotes_BTCUSDT_2020-02-22.csv"}) {
    marketdata::Reader reader(testsupport::shared_data_dir() + "/" + f);
    while (auto r = reader.next()) {
      if (*r && std::holds_alternative<core::Quote>(r->value())) {
        const auto& q = std::get<core::Quote>(r->value());
        quotes.push_back({subjects::market_data(q.symbol), codec::encode(q)});
      }
    }
  }
  if (quotes.empty()) throw std::runtime_error("no quotes in " + testsupport::shared_data_dir());
  std::vector<Message> out;
  out.reserve(n);
  const std::string lifecycle(subjects::kSessionLifecycle);
  out.push_back({lifecycle, codec::encode(core::SessionStarted{.session_id = session_id, .kind = "replay",
                                                               .started_by = "recorder_bench", .version = "bench",
                                                               .ts_wall = 1})});
  for (std::size_t i = 0; out.size() + 1 < n; ++i) out.push_back(quotes[i % quotes.size()]);
  out.push_back({lifecycle, codec::encode(core::SessionEnded{.session_id = session_id, .ts_wall = 2})});
  return out;
}

/// Stream sequence of the newest stored event (0 if none yet or the table does not exist yet).
std::int64_t newest_seq(pqxx::connection& c) {
  try {
    pqxx::nontransaction t(c);
    const auto r = t.exec("SELECT msg_id FROM events ORDER BY position DESC LIMIT 1");
    if (r.empty()) return 0;
    const std::string id = r[0][0].c_str();
    return std::stoll(id.substr(id.find(':') + 1));
  } catch (const pqxx::sql_error&) {  // before the recorder's migrations
    return 0;
  }
}

}  // namespace

int main(int argc, char** argv) try {
  const auto n = static_cast<std::size_t>(std::stoul(arg(argc, argv, "--events", "200000")));
  const std::string batch = arg(argc, argv, "--batch", "");
  const std::string recorder_bin = arg(argc, argv, "--recorder", testsupport::build_dir() + "/cmd/recorder");
  if (n < 10) throw std::runtime_error("--events must be >= 10");
  const std::string session_id = "bench-recorder-1";
  const auto msgs = messages(n, session_id);

  testsupport::NatsServer nats(true);
  testsupport::PgServer pg;
  natsio::Library lib;

  // ---- the bus: N messages in the stream EVENTS before the recorder starts
  double publish_s = 0;
  {
    natsio::Connection pub({.url = nats.url(), .name = "bench-pub", .send_asap = false});
    services::bootstrap_event_stream(pub, services::EventStreamConfig{});
    const auto t0 = Clock::now();
    for (std::size_t i = 0; i < msgs.size(); ++i) {
      if (!pub.publish(msgs[i].subject, msgs[i].payload)) throw std::runtime_error("publish: " + pub.last_error());
      if (i % 10'000 == 9'999) pub.flush(30'000);
    }
    pub.flush(30'000);
    natsio::JetStream js(pub);
    for (int w = 0; w < 100 && js.last_sequence("EVENTS") < n; ++w) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    publish_s = seconds_since(t0);
    if (const auto last = js.last_sequence("EVENTS"); last != n)
      throw std::runtime_error(fmt::format("stream EVENTS holds {} messages, published {}", last, n));
  }

  // ---- (a) the recorder drains the stream into an empty database
  std::vector<std::pair<double, std::int64_t>> progress;  // (seconds since start, newest stored sequence)
  double recorder_s = 0;
  {
    std::vector<std::pair<std::string, std::string>> env{
        {"NATS_URL", nats.url("recorder")}, {"DATABASE_URL", pg.writer_url()}, {"HEARTBEAT_MS", "1000"}, {"TRADER_CONFIG", ""}};
    if (!batch.empty()) env.emplace_back("RECORDER_BATCH", batch);
    pqxx::connection poll(pg.reader_url());
    const auto t0 = Clock::now();
    testsupport::Process recorder({recorder_bin}, env);
    for (;;) {
      const auto seq = newest_seq(poll);
      const double t = seconds_since(t0);
      if (progress.empty() || progress.back().second != seq) progress.emplace_back(t, seq);
      if (seq >= static_cast<std::int64_t>(n)) break;
      if (!recorder.running()) throw std::runtime_error("recorder exited: " + recorder.log_tail());
      if (t > 1800) throw std::runtime_error("recorder: not done after 30 min: " + recorder.log_tail());
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    recorder_s = progress.back().first;
    recorder.terminate();
  }
  const auto at = [&](double share) {  // first time the newest stored sequence reached share * N
    const auto want = static_cast<std::int64_t>(share * static_cast<double>(n));
    return std::find_if(progress.begin(), progress.end(), [&](const auto& p) { return p.second >= want; })->first;
  };
  const double steady_s = at(0.9) - at(0.1);

  // No loss, no duplicates, every event in the session, the chain intact.
  {
    pqxx::connection c(pg.reader_url());
    pqxx::read_transaction t(c);
    const auto r = t.exec(
        "SELECT count(*), count(DISTINCT msg_id), min(split_part(msg_id, ':', 2)::bigint), "
        "max(split_part(msg_id, ':', 2)::bigint), count(*) FILTER (WHERE session_id IS DISTINCT FROM " +
        t.quote(session_id) + "), max(position) FROM events WHERE split_part(msg_id, ':', 2)::bigint <= " +
        std::to_string(n))[0];
    const auto count = r[0].as<std::int64_t>(), distinct = r[1].as<std::int64_t>();
    const auto min_seq = r[2].as<std::int64_t>(), max_seq = r[3].as<std::int64_t>();
    const auto outside = r[4].as<std::int64_t>(), max_position = r[5].as<std::int64_t>();
    if (count != static_cast<std::int64_t>(n) || distinct != count || min_seq != 1 || max_seq != count || outside != 0 ||
        max_position != count)
      throw std::runtime_error(fmt::format("recorder: stored {} events ({} distinct, sequences {}..{}, {} outside the "
                                           "session, up to position {}), want {} (1..{})",
                                           count, distinct, min_seq, max_seq, outside, max_position, n, n));
  }
  eventstore::PgStore store_a(pg.reader_url());
  const auto verify_t0 = Clock::now();
  const auto va = store_a.verify();
  const double verify_s = seconds_since(verify_t0);
  if (!va.ok || va.events < static_cast<std::int64_t>(n))
    throw std::runtime_error(fmt::format("recorder: verify failed at {}: {}", va.first_bad_position, va.problem));
  const auto rows = benchrows::export_rows(pg.reader_url(), n);
  const std::string head_n = rows.back()[9]->substr(2);  // hash of event N

  // ---- (b) raw COPY of the same rows into `events` of a fresh database
  // The raw limits are PostgreSQL's, measured as its superuser (copy_rows CHECKPOINTs).
  pg.create_database("raw_copy");
  const std::string url_b = pg.url_for("raw_copy", testsupport::PgRole::superuser);
  const double copy_events_s = benchrows::copy_rows(url_b, "events", rows);
  {
    eventstore::PgStore store_b(pg.url_for("raw_copy", testsupport::PgRole::reader));
    const auto vb = store_b.verify();
      if (!vb.ok || vb.events != static_cast<std::int64_t>(n) || vb.head_hash != head_n)
      throw std::runtime_error(fmt::format("raw COPY: verify failed at {}: {}", vb.first_bad_position, vb.problem));
  }

  // ---- (c) raw COPY of the same rows into a plain table: same columns, nothing else
  {
    pqxx::connection c(url_b);
    pqxx::nontransaction t(c);
    t.exec(
        "CREATE TABLE events_plain (position bigint, msg_id text, subject text, type text, client_order_id text, "
        "ts_event bigint, payload jsonb, recorded_at timestamptz DEFAULT now(), prev_hash bytea, hash bytea, "
        "session_id text)");
  }
  const double copy_plain_s = benchrows::copy_rows(url_b, "events_plain", rows);

  // ---- (v) exploration: (b) again, on a fresh database, after each --variant SQL
  std::vector<std::pair<std::string, double>> variants;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--variant") != 0) continue;
    const std::string db = fmt::format("variant_{}", variants.size());
    pg.create_database(db);
    const std::string url = pg.url_for(db, testsupport::PgRole::superuser);
    {
      pqxx::connection c(url);
      pqxx::nontransaction t(c);
      t.exec(argv[i + 1]);
    }
    variants.emplace_back(argv[i + 1], benchrows::copy_rows(url, "events", rows));
  }

  const auto rate = [&](double s) { return s > 0 ? static_cast<double>(n) / s : 0.0; };
  const double rec = rate(recorder_s), steady = steady_s > 0 ? 0.8 * static_cast<double>(n) / steady_s : 0.0;
  const double raw_b = rate(copy_events_s), raw_c = rate(copy_plain_s);
  fmt::print("recorder: {} real messages (session.started, {} quotes, session.ended) from JetStream stream EVENTS "
             "into PostgreSQL; batch {}\n",
             n, n - 2, batch.empty() ? "default" : batch);
  fmt::print("published into the stream beforehand in {:.2f} s; PgStore::verify() of the {} events: {:.2f} s, ok\n",
             publish_s, va.events, verify_s);
  fmt::print("| path | events | seconds | events/s | recorder / this |\n|---|---:|---:|---:|---:|\n");
  fmt::print("| (a) recorder, from process start | {} | {:.2f} | {:.0f} | |\n", n, recorder_s, rec);
  fmt::print("| (a) recorder, steady 10%..90% | {} | {:.2f} | {:.0f} | |\n", static_cast<std::size_t>(0.8 * n), steady_s,
             steady);
  fmt::print("| (b) raw COPY into events (same schema) | {} | {:.2f} | {:.0f} | {:.2f} (steady {:.2f}) |\n", n,
             copy_events_s, raw_b, rec / raw_b, steady / raw_b);
  fmt::print("| (c) raw COPY into a plain table | {} | {:.2f} | {:.0f} | {:.2f} (steady {:.2f}) |\n", n, copy_plain_s,
             raw_c, rec / raw_c, steady / raw_c);
  for (const auto& [sql, s] : variants)
    fmt::print("| (v) raw COPY into events after `{}` | {} | {:.2f} | {:.0f} | {:.2f} |\n", sql, n, s, rate(s), rec / rate(s));
  fmt::print("no loss, no duplicates: {} events, stream sequences 1..{}, each once\n", n, n);
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "recorder_bench: %s\n", e.what());
  return 1;
}
