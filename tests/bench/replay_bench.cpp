// Benchmark (not a test): events per second that `traderctl replay` publishes at
// full speed, beside a raw nats.c publisher of the same messages, measured in the
// same run on the same nats-server.
//
//   build/tests/bench/replay_bench [--events 300000] [--runs 3] [--file F] [--pg 1]
//
// The recorded session: real quotes (by default ../shared/data/quotes_EURUSD_2014-05-06.csv,
// 44,864 quotes, repeated with shifted ts_event up to --events), encoded as the
// feed encodes them, in a MemoryStore as one session on market.data.<symbol>.
// Ours: services::replay_session (the loop traderctl replay runs), which reads and
// selects the session's inputs from the store, then publishes them; its publish
// phase is timed alone and with the load. Raw: natsConnection_Publish of the same
// subjects and payloads, held in memory, from a plain nats.c connection with the
// default options (both connections batch through nats.c's flusher: natsio's
// send_asap=false, as traderctl replay uses at full speed). Both end with a
// flush (a round trip: every message reached the server). nats-server runs with
// JetStream, as a sandbox's does, and no stream: the server's own cost is the
// same for both.
//
// With --pg 1 (the default) the same session is also appended to a throwaway
// PostgreSQL (PgStore, the store traderctl replay reads) and each run also times
// replay_session reading from it: the end-to-end rate a user sees.
#include <nats/nats.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "bench_util.hpp"
#include "codec/codec.hpp"
#include "eventstore/event_store.hpp"
#include "marketdata/reader.hpp"
#include "natsio/natsio.hpp"
#include "servers.hpp"
#include "tooling/replay.hpp"
#include "subjects/subjects.hpp"

namespace {

using bench::Clock;
using bench::arg;

double raw_publish(const std::string& url, const std::vector<services::ReplayInput>& inputs) {
  natsOptions* opts = nullptr;
  natsConnection* nc = nullptr;
  if (natsOptions_Create(&opts) != NATS_OK || natsOptions_SetURL(opts, url.c_str()) != NATS_OK ||
      natsConnection_Connect(&nc, opts) != NATS_OK)
    throw std::runtime_error(std::string("raw connect: ") + nats_GetLastError(nullptr));
  const auto t0 = Clock::now();
  for (const auto& in : inputs)
    if (natsConnection_Publish(nc, in.subject.c_str(), in.payload.data(), static_cast<int>(in.payload.size())) != NATS_OK)
      throw std::runtime_error(std::string("raw publish: ") + nats_GetLastError(nullptr));
  if (natsConnection_FlushTimeout(nc, 30'000) != NATS_OK) throw std::runtime_error("raw flush failed");
  const double s = std::chrono::duration<double>(Clock::now() - t0).count();
  natsConnection_Destroy(nc);
  natsOptions_Destroy(opts);
  return s;
}

}  // namespace

int main(int argc, char** argv) try {
  const auto events = std::stoul(arg(argc, argv, "--events", "300000"));
  const int runs = std::stoi(arg(argc, argv, "--runs", "3"));
  const auto file = arg(argc, argv, "--file", testsupport::shared_data_dir() + "/quotes_EURUSD_2014-05-06.csv");

  std::vector<core::Quote> quotes;
  marketdata::Reader reader(file);
  for (auto r = reader.next(); r; r = reader.next())
    if (*r && std::holds_alternative<core::Quote>(r->value())) quotes.push_back(std::get<core::Quote>(r->value()));
  if (quotes.empty()) throw std::runtime_error("no quotes in " + file);
  const auto span = quotes.back().ts_event - quotes.front().ts_event + 1;

  eventstore::MemoryStore store;
  std::vector<eventstore::NewEvent> batch;
  for (std::size_t i = 0; i < events; ++i) {
    auto q = quotes[i % quotes.size()];
    q.ts_event += static_cast<core::TimestampNs>(i / quotes.size()) * span;
    batch.push_back({.msg_id = fmt::format("EVENTS:{}", i + 1), .subject = subjects::market_data(q.symbol),
                     .type = "quote", .ts_event = q.ts_event, .payload = codec::encode(q), .session_id = "bench-src"});
  }
  store.append(batch);
  const bool with_pg = arg(argc, argv, "--pg", "1") != "0";
  std::unique_ptr<testsupport::PgServer> pg;
  std::unique_ptr<eventstore::PgStore> pg_store;
  if (with_pg) {
    pg = std::make_unique<testsupport::PgServer>();
    eventstore::PgStore writer(pg->writer_url());
    pg_store = std::make_unique<eventstore::PgStore>(pg->reader_url());
    const auto t0 = Clock::now();
    for (std::size_t i = 0; i < batch.size(); i += 5'000)
      writer.append({batch.begin() + static_cast<std::ptrdiff_t>(i),
                        batch.begin() + static_cast<std::ptrdiff_t>(std::min(batch.size(), i + 5'000))});
    fmt::print("replay_bench: {} events appended to PostgreSQL in {:.1f} s\n", batch.size(),
               std::chrono::duration<double>(Clock::now() - t0).count());
  }
  batch.clear();
  const auto plan = services::load_replay_plan(store, "bench-src", {});
  std::size_t bytes = 0;
  for (const auto& in : plan.inputs) bytes += in.payload.size();

  testsupport::NatsServer nats(true);
  natsio::Library lib;
  fmt::print("replay_bench: {} quote events from {} ({:.0f} B average payload), nats-server {}\n", plan.inputs.size(),
             file, static_cast<double>(bytes) / static_cast<double>(plan.inputs.size()), nats.url());
  fmt::print("{:>3}  {:>14}  {:>20}  {:>6}  {:>17}  {:>6}  {:>15}  {:>6}\n", "run", "raw nats.c ev/s",
             "replay publish ev/s", "ratio", "+memory read ev/s", "ratio", "+PG read ev/s", "ratio");
  for (int run = 1; run <= runs; ++run) {
    double ours_pub = 0, ours_all = 0;
    {
      natsio::Connection conn({.url = nats.url(), .name = "bench-replay", .send_asap = false});
      const auto t0 = Clock::now();
      const auto sum = services::replay_session(conn, store, "bench-src", {}, {});
      ours_all = std::chrono::duration<double>(Clock::now() - t0).count();
      ours_pub = sum.publish_seconds;
      if (sum.published != static_cast<std::int64_t>(plan.inputs.size())) throw std::runtime_error("replay published too few");
    }
    double ours_pg = 0;
    if (pg_store) {
      natsio::Connection conn({.url = nats.url(), .name = "bench-replay-pg", .send_asap = false});
      const auto t0 = Clock::now();
      const auto sum = services::replay_session(conn, *pg_store, "bench-src", {}, {});
      ours_pg = std::chrono::duration<double>(Clock::now() - t0).count();
      if (sum.published != static_cast<std::int64_t>(plan.inputs.size())) throw std::runtime_error("PG replay published too few");
    }
    const double raw = raw_publish(nats.url(), plan.inputs);
    const double n = static_cast<double>(plan.inputs.size());
    fmt::print("{:>3}  {:>15.0f}  {:>20.0f}  {:>5.2f}x  {:>17.0f}  {:>5.2f}x  {:>15}  {:>6}\n", run, n / raw,
               n / ours_pub, raw / ours_pub, n / ours_all, raw / ours_all,
               ours_pg > 0 ? fmt::format("{:.0f}", n / ours_pg) : "-",
               ours_pg > 0 ? fmt::format("{:.2f}x", raw / ours_pg) : "-");
  }
  return 0;
} catch (const std::exception& e) {
  fmt::print(stderr, "replay_bench: {}\n", e.what());
  return 1;
}
