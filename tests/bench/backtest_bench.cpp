// Benchmark (not a test): `traderctl backtest FILE` end to end (issue 4): events
// per second through the whole pipeline, recording included, beside the
// machine's raw limits for the same events, measured in the same run.
//
//   build/tests/bench/backtest_bench [--file F] [--runs 3] [--traderctl PATH]
//
// F defaults to ../shared/data/quotes_IBM_2013-10-08.csv (62,875 quotes, the
// largest real data file). Each run, on one throwaway PostgreSQL (tests/support,
// default settings, fsync on):
//
// (p) pipeline: the real `traderctl backtest F` binary, as a user runs it, with
//     DATABASE_URL = a fresh, already migrated database and TRADER_BIN_DIR = the
//     build's cmd/ (the workers: recorder, ops, risk-state, execution, reporter,
//     strategy, then the feed); it starts its own nats-server (the Sandbox). Timed
//     from starting its process to its exit; its output is kept (the final report,
//     the session id). The phases come from its output lines, seen by polling its
//     log every 5 ms: start-up (until "sandbox ready"), streaming (until "feed
//     done"), draining (until exit). The recorder's progress comes from the store
//     afterwards (recorded_at of each event: the start of its transaction), so
//     polling costs nothing during the run.
//     Checked after: the session's events by type; every record of F stored
//     once, in file order, as market data of the session (each stored payload
//     decoded and encoded again equals the record encoded as the feed does);
//     the sandbox stream's sequences 1..N each stored exactly once.
// (a) raw JetStream: every row the backtest stored (subjects and payloads as
//     read back from the store: jsonb's text), published by plain nats.c
//     js_PublishAsync (MaxPending 4000, ../shared/limits 4) into a fresh file
//     stream on the benchmark's own nats-server -js, timed until
//     js_PublishAsyncComplete.
// (b) raw COPY: the same rows, every column the store writes, with one
//     pqxx::stream_to in one transaction into `events` of another fresh database
//     with the same migrations (indexes and the chain check as for the recorder),
//     after a CHECKPOINT, from BEGIN to COMMIT; PgStore::verify() passes after.
// (c) raw JetStream publish-and-consume: the same rows published as in (a) into a
//     fresh stream while an ordered consumer (natsio::OrderedSubscription, as the
//     workers read the log) reads them back; timed from the first publish until the
//     consumer has the last one. Issue 12's baseline for the pipeline: one hop of the
//     bus, with nothing done to the messages.
// (i) in-process: the real `traderctl backtest F --in-process` (the same worker code
//     on an in-memory bus, tooling/in_process.hpp), timed by itself (its own line) and
//     from process start to exit; its report must equal the pipeline's (checked).
// (r) replay: the real `traderctl replay <the backtest's session>`, the same inputs read
//     from the store instead of the file, through the same pipeline, recorded as a new
//     session; timed from process start to exit. Issue 12 asks a replay end to end for
//     at least 0.9x the rate of the backtest from the file: reported as backtest wall
//     time / replay wall time (the same number of inputs). Its report must equal the
//     backtest's (checked).
// (s) shared inputs, as a user runs it: `traderctl backtest F` with the market data in an
//     input set (docs/architecture.md, "Input sets"; (p) keeps them in its session with
//     TRADER_SHARE_INPUTS=0 for its checks). A first run stores the set, a second shares
//     it (timed, and reported as the stream's events / its wall time against (c)), then a
//     replay of the second shares it too. All three reports must equal (p)'s.
// (c4) as (c) with four ordered consumers, each on its own connection: the fan-out of the
//     pipeline's bus alone (strategy, risk-state, execution and the reporter each follow
//     the whole log), the ceiling of (s) on this machine whatever the workers do.
// The pipeline's recorded events/s is reported as a ratio to the slower of (a)
// and (b), the bottleneck limit, and to (c).
#include <nats/nats.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <regex>
#include <stdexcept>
#include <sstream>
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
#include "marketdata/quality.hpp"
#include "marketdata/reader.hpp"
#include "natsio/natsio.hpp"
#include "servers.hpp"
#include "subjects/subjects.hpp"

namespace {

using bench::Clock;
using bench::arg;
using bench::loadavg;
using bench::seconds_since;

/// Every record of the file the feed publishes (those its default data-quality policy
/// keeps: marketdata/quality.hpp), encoded as it publishes them, in file order.
struct Inputs {
  std::vector<std::string> payloads;
  std::int64_t bad_rows = 0;
};

Inputs read_inputs(const std::string& path) {
  Inputs in;
  marketdata::quality::CheckedReader reader(path, {});
  while (auto row = reader.next()) {
    if (row->error) ++in.bad_rows;
    for (const auto& md : row->records) in.payloads.push_back(codec::encode(md));
  }
  return in;
}

struct Pipeline {
  double wall_s = 0, ready_s = 0, feed_done_s = 0;  // since the process started
  std::string session_id, stream, output;
};

/// How traderctl runs against the benchmark's store: reader and writer URLs, the build's
/// workers, no settings file; output to `log_path`.
/// `share`: as a user runs it, the market data in an input set (architecture, "Input
/// sets"); otherwise kept in the session (TRADER_SHARE_INPUTS=0): the checks of (p) read
/// every stream sequence and every record of the file from it, and time the recorder's
/// appends of them.
testsupport::ProcessOptions ctl_options(const std::string& db_url, const std::string& writer_url,
                                        const std::string& log_path, bool share = false) {
  testsupport::ProcessOptions o;
  o.env = {{"DATABASE_URL", db_url},
           {"TRADER_WRITER_DATABASE_URL", writer_url},
           {"TRADER_BIN_DIR", testsupport::build_dir() + "/cmd"},
           {"TRADER_CONFIG", ""},
           {"TRADER_SHARE_INPUTS", share ? "1" : "0"}};
  o.log_path = log_path;
  return o;
}

/// Runs `traderctl backtest file` against `db_url`; throws if it fails or hangs.
Pipeline run_backtest(const std::string& traderctl, const std::string& file, const std::string& db_url,
                      const std::string& writer_url, const std::string& log_path, bool share = false) {
  const auto o = ctl_options(db_url, writer_url, log_path, share);
  Pipeline p;
  const auto t0 = Clock::now();
  testsupport::Process ctl({traderctl, "backtest", file}, o);
  // The phases' ends, seen in its log every 5 ms; once the feed is done the log is
  // no longer read (the benchmark should not compete with the draining recorder).
  constexpr double kLimitS = 1800;
  std::optional<int> code;
  while (!code && p.feed_done_s == 0 && seconds_since(t0) < kLimitS) {
    code = ctl.wait_for(std::chrono::milliseconds(5));
    const double t = seconds_since(t0);
    const std::string log = ctl.log();
    if (p.ready_s == 0 && log.find("sandbox ready") != std::string::npos) p.ready_s = t;
    if (log.find("feed done in") != std::string::npos) p.feed_done_s = t;
  }
  if (!code)
    code = ctl.wait_for(std::chrono::milliseconds(static_cast<std::int64_t>(std::max(0.0, kLimitS - seconds_since(t0)) * 1000)));
  p.wall_s = seconds_since(t0);
  if (!code) throw std::runtime_error("traderctl backtest: not done after 30 min (hanging?):\n" + ctl.log_tail(60));
  const std::string log = ctl.log();
  if (*code != 0) throw std::runtime_error(fmt::format("traderctl backtest exited {}:\n{}", *code, log));
  p.output = log;
  std::smatch m;
  static const std::regex session(R"(session (backtest-\S+) \(backtest\))");
  static const std::regex ready(R"(sandbox ready \(nats \S+, stream (SBX[0-9a-f]+)\))");
  if (!std::regex_search(log, m, session)) throw std::runtime_error("no session id in traderctl's output:\n" + log);
  p.session_id = m[1].str();
  if (!std::regex_search(log, m, ready)) throw std::runtime_error("no stream name in traderctl's output:\n" + log);
  p.stream = m[1].str();
  if (log.find("Performance report (final)") == std::string::npos)
    throw std::runtime_error("no final report in traderctl's output:\n" + log);
  return p;
}

/// What the store holds of the backtest, checked against the file. Throws on loss or duplicates.
struct Recorded {
  std::int64_t session_events = 0, outside_session = 0, market_data = 0;
  std::map<std::string, std::int64_t> by_type;
  // Seconds since the process started at which the recorder's transactions began
  // (recorded_at): first event, 10% and 90% of the session's events, the last
  // market data event, the last event.
  double first_s = 0, p10_s = 0, p90_s = 0, last_input_s = 0, last_s = 0;
  std::int64_t recorded_by_feed_done = 0;  // session events stored before the feed finished
};

Recorded check_store(const std::string& url, const Pipeline& p, const Inputs& in, double start_epoch_s) {
  pqxx::connection c(url);
  pqxx::read_transaction t(c);
  Recorded r;
  for (const auto& row : t.exec_params(
           "SELECT type, count(*) FROM events WHERE session_id = $1 GROUP BY type ORDER BY type COLLATE \"C\"",
           p.session_id)) {
    r.by_type[row[0].c_str()] = row[1].as<std::int64_t>();
    r.session_events += row[1].as<std::int64_t>();
  }
  r.outside_session = t.exec_params("SELECT count(*) FROM events WHERE session_id IS DISTINCT FROM $1", p.session_id)[0][0]
                          .as<std::int64_t>();

  // The sandbox stream: sequences 1..N, each stored once (msg_id is UNIQUE; count = max = N means no gap).
  const auto s = t.exec_params(
      "SELECT count(*), min(split_part(msg_id, ':', 2)::bigint), max(split_part(msg_id, ':', 2)::bigint), "
      "(SELECT count(*) FROM events) FROM events WHERE starts_with(msg_id, $1)",
      p.stream + ":")[0];
  const auto n = s[0].as<std::int64_t>(), all = s[3].as<std::int64_t>();
  if (n == 0 || s[1].as<std::int64_t>() != 1 || s[2].as<std::int64_t>() != n || all != n)
    throw std::runtime_error(fmt::format("stream {}: {} events stored, sequences {}..{}, {} rows in the store: "
                                         "events lost or foreign",
                                         p.stream, n, s[1].c_str(), s[2].c_str(), all));

  // Every record of the file, once, in file order.
  std::size_t i = 0;
  for (const auto& row : t.exec_params(
           "SELECT payload::text FROM events WHERE session_id = $1 AND starts_with(subject, 'market.data.') "
           "ORDER BY position",
           p.session_id)) {
    auto md = codec::decode_market_data(row[0].c_str());
    if (!md) throw std::runtime_error(fmt::format("stored market data #{} does not decode: {}", i + 1, row[0].c_str()));
    if (i >= in.payloads.size())
      throw std::runtime_error(fmt::format("more market data stored than the file has ({})", in.payloads.size()));
    if (codec::encode(*md) != in.payloads[i])
      throw std::runtime_error(fmt::format("stored market data #{} differs from record #{} of the file:\n  {}\n  {}",
                                           i + 1, i + 1, codec::encode(*md), in.payloads[i]));
    ++i;
  }
  r.market_data = static_cast<std::int64_t>(i);
  if (i != in.payloads.size())
    throw std::runtime_error(fmt::format("{} of the file's {} records stored as market data", i, in.payloads.size()));

  // The recorder's progress, from recorded_at (the start of each append's transaction).
  std::vector<double> at;
  at.reserve(static_cast<std::size_t>(r.session_events));
  for (const auto& row : t.exec_params(
           "SELECT extract(epoch FROM recorded_at)::float8, starts_with(subject, 'market.data.') FROM events "
           "WHERE session_id = $1 ORDER BY position",
           p.session_id)) {
    at.push_back(row[0].as<double>() - start_epoch_s);
    if (row[1].as<bool>()) r.last_input_s = at.back();
  }
  const auto share = [&](double f) { return at[std::min(at.size() - 1, static_cast<std::size_t>(f * static_cast<double>(at.size())))]; };
  r.first_s = at.front();
  r.p10_s = share(0.1);
  r.p90_s = share(0.9);
  r.last_s = at.back();
  r.recorded_by_feed_done = std::count_if(at.begin(), at.end(), [&](double x) { return x <= p.feed_done_s; });
  return r;
}

/// A plain nats.c connection with a JetStream context (PublishAsync MaxPending 4000, as
/// ../shared/limits 4) and a fresh file stream `name` on the pipeline's subjects; the
/// stream is deleted with it. Throws std::runtime_error naming the failed call.
class RawStream {
 public:
  RawStream(const std::string& url, std::string name, std::string what) : name_(std::move(name)), what_(std::move(what)) {
    check(natsConnection_ConnectTo(&nc_, url.c_str()), "connect");
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.PublishAsync.MaxPending = 4000;
    check(natsConnection_JetStream(&js_, nc_, &jo), "context");
    std::vector<const char*> subj;
    for (const auto s : subjects::kCapturedSubjects) subj.push_back(s.data());  // string literals: NUL-terminated
    jsStreamConfig sc;
    jsStreamConfig_Init(&sc);
    sc.Name = name_.c_str();
    sc.Subjects = subj.data();
    sc.SubjectsLen = static_cast<int>(subj.size());
    sc.Storage = js_FileStorage;
    jsStreamInfo* si = nullptr;
    check(js_AddStream(&si, js_, &sc, nullptr, &jerr_), "add stream");
    jsStreamInfo_Destroy(si);
  }
  ~RawStream() {
    js_DeleteStream(js_, name_.c_str(), nullptr, &jerr_);
    jsCtx_Destroy(js_);
    natsConnection_Destroy(nc_);
  }
  RawStream(const RawStream&) = delete;
  RawStream& operator=(const RawStream&) = delete;
  /// js_PublishAsync of every row's subject and payload.
  void publish(const std::vector<benchrows::Row>& rows) {
    for (const auto& r : rows) {
      const auto& payload = *r[benchrows::kPayload];
      check(js_PublishAsync(js_, r[benchrows::kSubject]->c_str(), payload.data(), static_cast<int>(payload.size()),
                            nullptr),
            "js_PublishAsync");
    }
  }
  /// Waits for every PubAck (60 s at most).
  void complete() {
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = 60'000;
    check(js_PublishAsyncComplete(js_, &po), "js_PublishAsyncComplete");
  }
  /// Messages the stream holds.
  std::uint64_t stored() {
    jsStreamInfo* si = nullptr;
    check(js_GetStreamInfo(&si, js_, name_.c_str(), nullptr, &jerr_), "stream info");
    const auto n = si->State.Msgs;
    jsStreamInfo_Destroy(si);
    return n;
  }

 private:
  void check(natsStatus s, const char* call) {
    if (s != NATS_OK)
      throw std::runtime_error(fmt::format("{}: {}: {} (jetstream error {}) {}", what_, call, natsStatus_GetText(s),
                                           static_cast<int>(jerr_), nats_GetLastError(nullptr)));
  }
  std::string name_, what_;
  natsConnection* nc_ = nullptr;
  jsCtx* js_ = nullptr;
  jsErrCode jerr_ = static_cast<jsErrCode>(0);
};

/// (a): js_PublishAsync of every row's subject and payload into a fresh file
/// stream `name` capturing the pipeline's subjects. Seconds until every PubAck.
double raw_jetstream(const std::string& url, const std::string& name, const std::vector<benchrows::Row>& rows) {
  RawStream raw(url, name, "raw jetstream");
  const auto t0 = Clock::now();
  raw.publish(rows);
  raw.complete();
  const double s = seconds_since(t0);
  if (const auto stored = raw.stored(); stored != rows.size())
    throw std::runtime_error(fmt::format("raw jetstream: stream holds {} of {} messages", stored, rows.size()));
  return s;
}

/// (c): js_PublishAsync of every row into a fresh stream `name` while `consumers` ordered
/// consumers (each on its own connection, as each worker has) read it from sequence 1.
/// Seconds from the first publish until every consumer has all.
double raw_publish_consume(const std::string& url, const std::string& name, const std::vector<benchrows::Row>& rows,
                           int consumers = 1) {
  RawStream raw(url, name, "raw publish+consume");
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::uint64_t> got(static_cast<std::size_t>(consumers), 0);
  const std::uint64_t want = rows.size();
  const auto all = [&] { return std::all_of(got.begin(), got.end(), [&](std::uint64_t g) { return g == want; }); };
  std::vector<std::unique_ptr<natsio::Connection>> readers;
  std::vector<std::unique_ptr<natsio::OrderedSubscription>> subs;
  for (int i = 0; i < consumers; ++i) {
    readers.push_back(std::make_unique<natsio::Connection>(
        natsio::NatsConfig{.url = url, .name = fmt::format("bench-consumer-{}", i)}));
    subs.push_back(std::make_unique<natsio::OrderedSubscription>(
        *readers.back(), name, 1, [&, i](const natsio::StreamMessage& m) {
          std::lock_guard lock(mu);
          auto& g = got[static_cast<std::size_t>(i)];
          if (m.seq == g + 1) ++g;
          if (g == want && all()) cv.notify_all();
        }));
  }
  const auto t0 = Clock::now();
  raw.publish(rows);
  std::unique_lock lock(mu);
  if (!cv.wait_for(lock, std::chrono::minutes(10), all))
    throw std::runtime_error(fmt::format("raw publish+consume: consumed {} of {}", fmt::join(got, ", "), want));
  const double s = seconds_since(t0);
  lock.unlock();
  raw.complete();
  return s;
}

/// (r): `traderctl replay session` against the same store; seconds from start to exit, and
/// its output.
std::pair<double, std::string> run_replay(const std::string& traderctl, const std::string& session,
                                          const std::string& db_url, const std::string& writer_url,
                                          const std::string& log_path, bool share = false) {
  const auto o = ctl_options(db_url, writer_url, log_path, share);
  const auto t0 = Clock::now();
  testsupport::Process ctl({traderctl, "replay", session}, o);
  const auto code = ctl.wait_for(std::chrono::minutes(30));
  const double s = seconds_since(t0);
  const std::string log = ctl.log();
  if (!code || *code != 0) throw std::runtime_error("traderctl replay failed:\n" + log);
  return {s, log};
}

/// (i): `traderctl backtest file --in-process`, no servers.
struct InProcess {
  double wall_s = 0;         ///< process start to exit
  double run_s = 0;          ///< as it reports itself (the run, without process start-up)
  std::int64_t inputs = 0;
  std::string report;        ///< its report lines
};

/// The lines of traderctl's output from "Performance report" to the session line.
std::string report_of(const std::string& out) {
  const auto a = out.find("Performance report");
  const auto b = out.find("\nsession ", a);
  if (a == std::string::npos || b == std::string::npos) throw std::runtime_error("no report in:\n" + out);
  // The figures only: the analysis title names the source (a file, a session), and the
  // data-quality line is the file's (a replay's inputs are already clean).
  std::string kept;
  std::istringstream lines(out.substr(a, b - a));
  for (std::string line; std::getline(lines, line);)
    if (!line.starts_with("Analysis (final) of ") && !line.starts_with("  data quality: ")) kept += line + '\n';
  return kept;
}

InProcess run_in_process(const std::string& traderctl, const std::string& file, const std::string& log_path) {
  testsupport::ProcessOptions o;
  o.env = {{"NATS_URL", ""}, {"DATABASE_URL", ""}, {"TRADER_CONFIG", ""}};
  o.log_path = log_path;
  InProcess x;
  const auto t0 = Clock::now();
  testsupport::Process ctl({traderctl, "backtest", file, "--in-process"}, o);
  const auto code = ctl.wait_for(std::chrono::minutes(10));
  x.wall_s = seconds_since(t0);
  const std::string log = ctl.log();
  if (!code || *code != 0) throw std::runtime_error("traderctl backtest --in-process failed:\n" + log);
  std::smatch m;
  static const std::regex line(R"(in-process: ([0-9]+) inputs of .* in ([0-9.]+) s)");
  if (!std::regex_search(log, m, line)) throw std::runtime_error("no in-process line in:\n" + log);
  x.inputs = std::stoll(m[1].str());
  x.run_s = std::stod(m[2].str());
  x.report = report_of(log);
  return x;
}

struct RunResult {
  std::string load;
  Pipeline p;
  Recorded r;
  InProcess ip;
  std::size_t rows = 0;
  double raw_js_s = 0, raw_copy_s = 0, raw_pc_s = 0, raw_pc4_s = 0, replay_s = 0;
  Pipeline shared_first, shared;  ///< (s) with the inputs in an input set: storing it, then sharing it
  double shared_replay_s = 0;
};

}  // namespace

int main(int argc, char** argv) try {
  const std::string file = arg(argc, argv, "--file", testsupport::shared_data_dir() + "/quotes_IBM_2013-10-08.csv");
  const int runs = std::stoi(arg(argc, argv, "--runs", "3"));
  const std::string traderctl = arg(argc, argv, "--traderctl", testsupport::build_dir() + "/cmd/traderctl");
  const auto in = read_inputs(file);
  if (in.payloads.empty()) throw std::runtime_error("no records in " + file);

  testsupport::PgServer pg;
  testsupport::NatsServer nats(true);  // for (a) only; the backtest starts its own
  natsio::Library lib;
  const std::string logs = testsupport::make_temp_dir("backtest_bench_");
  fmt::print("backtest_bench: traderctl backtest {} ({} records, {} bad rows); {} runs\n", file, in.payloads.size(),
             in.bad_rows, runs);

  std::vector<RunResult> results;
  for (int run = 1; run <= runs; ++run) {
    RunResult x;
    x.load = loadavg();
    const std::string db = fmt::format("backtest_{}", run);
    pg.create_database(db);  // a user's store exists already: migrations are not timed
    const std::string url = pg.url_for(db, testsupport::PgRole::reader);
    const double start_epoch_s =
        std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    x.p = run_backtest(traderctl, file, url, pg.url_for(db, testsupport::PgRole::writer),
                       fmt::format("{}/traderctl_{}.log", logs, run));
    // traderctl records the backtest in the research store beside `db` (eventstore/research.hpp).
    const std::string research = pg.url_for(db + "_research", testsupport::PgRole::reader);
    x.r = check_store(research, x.p, in, start_epoch_s);

    const auto rows = benchrows::export_rows(research);
    x.rows = rows.size();
    x.raw_js_s = raw_jetstream(nats.url(), fmt::format("RAW{}", run), rows);
    x.raw_pc_s = raw_publish_consume(nats.url(), fmt::format("RAWPC{}", run), rows);
    x.raw_pc4_s = raw_publish_consume(nats.url(), fmt::format("RAWPC4{}", run), rows, 4);
    x.ip = run_in_process(traderctl, file, fmt::format("{}/in_process_{}.log", logs, run));
    if (x.ip.report != report_of(x.p.output))
      throw std::runtime_error("in-process report differs from the pipeline's:\n" + x.ip.report + "\nvs\n" +
                               report_of(x.p.output));
    // The raw limit is PostgreSQL's, measured as its superuser (copy_rows CHECKPOINTs).
    pg.create_database(fmt::format("raw_copy_{}", run));
    x.raw_copy_s =
        benchrows::copy_rows(pg.url_for(fmt::format("raw_copy_{}", run), testsupport::PgRole::superuser), "events", rows);
    {
      eventstore::PgStore store_b(pg.url_for(fmt::format("raw_copy_{}", run), testsupport::PgRole::reader));
      const auto v = store_b.verify();
      if (!v.ok || v.events != static_cast<std::int64_t>(rows.size()))
        throw std::runtime_error(fmt::format("raw COPY: verify failed at {}: {}", v.first_bad_position, v.problem));
    }

    // (r) after the rows were exported: the replay adds its own session to the store.
    {
      auto [secs, out] = run_replay(traderctl, x.p.session_id, url, pg.url_for(db, testsupport::PgRole::writer),
                                    fmt::format("{}/replay_{}.log", logs, run));
      x.replay_s = secs;
      if (report_of(out) != report_of(x.p.output))
        throw std::runtime_error("replay report differs from the backtest's:\n" + out);
    }
    // (s) as a user runs it: the inputs in an input set, stored by the first run, shared
    // by the second and by a replay of it (the same reports).
    x.shared_first = run_backtest(traderctl, file, url, pg.url_for(db, testsupport::PgRole::writer),
                                  fmt::format("{}/shared_first_{}.log", logs, run), true);
    x.shared = run_backtest(traderctl, file, url, pg.url_for(db, testsupport::PgRole::writer),
                            fmt::format("{}/shared_{}.log", logs, run), true);
    if (x.shared_first.output.find("(stored now,") == std::string::npos ||
        x.shared.output.find("(stored before: shared)") == std::string::npos)
      throw std::runtime_error("the shared runs did not store, then share, an input set:\n" + x.shared.output);
    for (const auto* s : {&x.shared_first, &x.shared})
      if (report_of(s->output) != report_of(x.p.output))
        throw std::runtime_error("a shared-input backtest's report differs:\n" + s->output);
    {
      auto [secs, out] = run_replay(traderctl, x.shared.session_id, url, pg.url_for(db, testsupport::PgRole::writer),
                                    fmt::format("{}/shared_replay_{}.log", logs, run), true);
      x.shared_replay_s = secs;
      if (out.find("(its source's: shared)") == std::string::npos || report_of(out) != report_of(x.p.output))
        throw std::runtime_error("the replay of the shared-input backtest:\n" + out);
    }
    const auto& p = x.p;
    const auto& r = x.r;
    const double quotes = static_cast<double>(r.market_data), events = static_cast<double>(r.session_events);
    const double js_rate = static_cast<double>(x.rows) / x.raw_js_s, copy_rate = static_cast<double>(x.rows) / x.raw_copy_s;
    const double limit = std::min(js_rate, copy_rate);
    const double steady = 0.8 * events / (r.p90_s - r.p10_s);
    fmt::print("\n--- run {} (loadavg before: {}) session {}\n", run, x.load, p.session_id);
    fmt::print("traderctl output:\n{}", p.output);
    fmt::print("session events by type:");
    for (const auto& [type, count] : r.by_type) fmt::print(" {} {},", type, count);
    fmt::print(" total {}; outside the session {}\n", r.session_events, r.outside_session);
    fmt::print("checked: {} records of the file stored once each, in file order; stream {} sequences 1..{} each once\n",
               r.market_data, p.stream, x.rows);
    fmt::print("phases (s since start): sandbox ready {:.2f}, feed done {:.2f}, exit {:.2f}; recorder: first {:.2f}, "
               "10% {:.2f}, 90% {:.2f}, last input {:.2f}, last {:.2f}; {} of {} stored when the feed was done\n",
               p.ready_s, p.feed_done_s, p.wall_s, r.first_s, r.p10_s, r.p90_s, r.last_input_s, r.last_s,
               r.recorded_by_feed_done, r.session_events);
    fmt::print("| measure | value |\n|---|---:|\n");
    fmt::print("| wall time, process start to exit (s) | {:.2f} |\n", p.wall_s);
    fmt::print("| input events/s (records / wall time) | {:.0f} |\n", quotes / p.wall_s);
    fmt::print("| recorded events/s (session events / wall time) | {:.0f} |\n", events / p.wall_s);
    fmt::print("| recorded events/s, steady (10%..90% of the session stored) | {:.0f} |\n", steady);
    fmt::print("| (a) raw js_PublishAsync of the {} stored events, events/s | {:.0f} |\n", x.rows, js_rate);
    fmt::print("| (b) raw COPY into events, events/s | {:.0f} |\n", copy_rate);
    fmt::print("| ratio recorded / min(a, b) (whole; steady) | {:.2f}; {:.2f} |\n", events / p.wall_s / limit,
               steady / limit);
    const double pc_rate = static_cast<double>(x.rows) / x.raw_pc_s;
    fmt::print("| (c) raw JetStream publish-and-consume, events/s | {:.0f} |\n", pc_rate);
    fmt::print("| ratio recorded / (c) (whole; steady) | {:.2f}; {:.2f} |\n", events / p.wall_s / pc_rate,
               steady / pc_rate);
    fmt::print("| (i) in-process input events/s (run; process start to exit) | {:.0f}; {:.0f} |\n",
               static_cast<double>(x.ip.inputs) / x.ip.run_s, static_cast<double>(x.ip.inputs) / x.ip.wall_s);
    fmt::print("| (i) in-process report equals the pipeline's | yes |\n");
    fmt::print("| (r) replay of the session, wall s; backtest wall / replay wall | {:.2f}; {:.2f} |\n", x.replay_s,
               p.wall_s / x.replay_s);
    const auto& sh = x.shared;
    fmt::print("| (s) shared inputs: first run (stores the set), wall s | {:.2f} |\n", x.shared_first.wall_s);
    fmt::print("| (s) shared inputs: second run, wall s (ready, feed done) | {:.2f} ({:.2f}, {:.2f}) |\n", sh.wall_s,
               sh.ready_s, sh.feed_done_s);
    fmt::print("| (s) log events/s ({} stream events / wall); ratio to (c) | {:.0f}; {:.2f} |\n", x.rows,
               static_cast<double>(x.rows) / sh.wall_s, static_cast<double>(x.rows) / sh.wall_s / pc_rate);
    fmt::print("| (s) replay of it, wall s; backtest wall / replay wall | {:.2f}; {:.2f} |\n", x.shared_replay_s,
               sh.wall_s / x.shared_replay_s);
    fmt::print("| (c4) raw publish with 4 ordered consumers (the log followers' fan-out), events/s; (s) / (c4) | "
               "{:.0f}; {:.2f} |\n", static_cast<double>(x.rows) / x.raw_pc4_s, x.raw_pc4_s / sh.wall_s);
    results.push_back(std::move(x));
  }

  fmt::print("\nbacktest_bench summary ({} records of {}):\n", in.payloads.size(), file);
  fmt::print("| run | loadavg before | wall s | start-up s | streaming s | draining s | input ev/s | recorded ev/s | "
             "steady ev/s | (a) raw JetStream ev/s | (b) raw COPY ev/s | recorded/min(a,b) | steady/min(a,b) | "
             "(c) raw publish+consume ev/s | recorded/(c) | steady/(c) | (i) in-process inputs/s | (r) replay wall s | "
             "replay rate / backtest rate |\n");
  fmt::print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (std::size_t i = 0; i < results.size(); ++i) {
    const auto& x = results[i];
    const double events = static_cast<double>(x.r.session_events);
    const double js_rate = static_cast<double>(x.rows) / x.raw_js_s, copy_rate = static_cast<double>(x.rows) / x.raw_copy_s;
    const double limit = std::min(js_rate, copy_rate), steady = 0.8 * events / (x.r.p90_s - x.r.p10_s);
    const double pc_rate = static_cast<double>(x.rows) / x.raw_pc_s;
    fmt::print("| {} | {} | {:.2f} | {:.2f} | {:.2f} | {:.2f} | {:.0f} | {:.0f} | {:.0f} | {:.0f} | {:.0f} | {:.2f} | "
               "{:.2f} | {:.0f} | {:.2f} | {:.2f} | {:.0f} | {:.2f} | {:.2f} |\n",
               i + 1, x.load, x.p.wall_s,
               x.p.ready_s, x.p.feed_done_s - x.p.ready_s, x.p.wall_s - x.p.feed_done_s,
               static_cast<double>(x.r.market_data) / x.p.wall_s, events / x.p.wall_s, steady, js_rate, copy_rate,
               events / x.p.wall_s / limit, steady / limit, pc_rate, events / x.p.wall_s / pc_rate, steady / pc_rate,
               static_cast<double>(x.ip.inputs) / x.ip.run_s, x.replay_s, x.p.wall_s / x.replay_s);
  }
  fmt::print("\nshared inputs, as a user runs it (s):\n| run | first run wall s | wall s | start-up s | streaming s | "
             "draining s | log ev/s | log ev/s / (c) | (c4) 4 consumers ev/s | log ev/s / (c4) | replay wall s | "
             "replay rate / backtest rate |\n"
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (std::size_t i = 0; i < results.size(); ++i) {
    const auto& x = results[i];
    const auto& sh = x.shared;
    const double log_rate = static_cast<double>(x.rows) / sh.wall_s;
    const double pc4_rate = static_cast<double>(x.rows) / x.raw_pc4_s;
    fmt::print("| {} | {:.2f} | {:.2f} | {:.2f} | {:.2f} | {:.2f} | {:.0f} | {:.2f} | {:.0f} | {:.2f} | {:.2f} | {:.2f} |\n",
               i + 1, x.shared_first.wall_s, sh.wall_s, sh.ready_s, sh.feed_done_s - sh.ready_s,
               sh.wall_s - sh.feed_done_s, log_rate, log_rate / (static_cast<double>(x.rows) / x.raw_pc_s), pc4_rate,
               log_rate / pc4_rate, x.shared_replay_s, sh.wall_s / x.shared_replay_s);
  }
  std::error_code ec;
  std::filesystem::remove_all(logs, ec);
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "backtest_bench: %s\n", e.what());
  return 1;
}
