// Benchmark (not a test): how fast a backlog of a JetStream stream is read back from
// sequence 1, the way a worker catches up on the event log after a (re)start.
//
//   build/tests/bench/stream_read_bench [--msgs 70000] [--runs 1] [--batch 256] [--work-us 0]
//                                       [--auth 0|1] [--reader execution] [--puller recorder]
//
// A throwaway nats-server (JetStream) on a free port; a fresh file stream (limits
// retention) holding --msgs quote-sized JSON messages (~260 B) on market.data.EURUSD,
// published with core NATS and flushes, as the workers publish. Without --auth: no
// authentication, stream BENCH. With --auth 1: the deployment's accounts and
// permissions (pkg/auth), stream EVENTS; `admin` publishes, the ordered reads run as
// --reader and the pull as --puller (any identity of auth::identities()).
// Then each run reads the whole backlog from sequence 1 with:
//   ordered   natsio::OrderedSubscription (ordered push consumer, delivery thread)
//   reader    natsio::StreamReader (ordered consumer read with next() on this thread)
//   pull      a durable pull consumer through natsio::JetStream::fetch (batch --batch,
//             the last message of each batch acknowledged: AckAll), the method of
//             ../shared/limits (js_bench fetch), the machine's limit for this read.
// --work-us busy-waits that long per message in the handler (a worker's own work).
// For each: msgs/s, the gaps between consecutive messages (largest, and how many were
// longer than 100 ms: a stall shows there, not in the average) and the CPU seconds
// nats-server used meanwhile (a stalled consumer leaves it idle, a busy server not).
// Every read checks that it got sequences 1..N in order, exactly once.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <sstream>
#include <unistd.h>
#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <nats/nats.h>

#include "auth/auth.hpp"
#include "bench_util.hpp"
#include "natsio/natsio.hpp"
#include "servers.hpp"

namespace {

using bench::arg;
using bench::Clock;

/// The stream read (EVENTS under --auth: the deployment's name, which the workers' permissions name).
std::string g_stream = "BENCH";
/// Handler cost to emulate per message (busy wait), microseconds.
int g_work_us = 0;

void work() {
  if (g_work_us <= 0) return;
  const auto until = Clock::now() + std::chrono::microseconds(g_work_us);
  while (Clock::now() < until) {
  }
}

/// CPU seconds (user + system) process `pid` has used so far (0 if unreadable).
double cpu_seconds(long pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(in, line);
  const auto rp = line.rfind(')');
  if (rp == std::string::npos) return 0;
  std::istringstream rest(line.substr(rp + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {  // fields 14 and 15: utime, stime (clock ticks)
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}
long g_server_pid = -1;

/// Arrival-gap statistics of one read.
struct Gaps {
  Clock::time_point last{};
  double max_s = 0;
  int over_100ms = 0;
  double stalled_s = 0;  ///< sum of the gaps over 100 ms
  void tick() {
    const auto now = Clock::now();
    if (last != Clock::time_point{}) {
      const double g = std::chrono::duration<double>(now - last).count();
      if (g > max_s) max_s = g;
      if (g > 0.1) {
        ++over_100ms;
        stalled_s += g;
      }
    }
    last = now;
  }
};

struct Result {
  double seconds = 0;
  double server_cpu = 0;  ///< nats-server CPU seconds during the read (set by measure())
  std::uint64_t got = 0;
  Gaps gaps;
};

template <typename F>
Result measure(F&& read) {
  const double c0 = cpu_seconds(g_server_pid);
  Result r = read();
  r.server_cpu = cpu_seconds(g_server_pid) - c0;
  return r;
}

void print(const char* what, std::uint64_t n, const Result& r) {
  fmt::print("  {:<8} {:>8} msgs in {:>7.2f} s = {:>9.0f} msgs/s   max gap {:>6.3f} s, {} gaps > 100 ms ({:.1f} s); "
             "nats-server CPU {:.1f} s\n",
             what, r.got, r.seconds, static_cast<double>(r.got) / r.seconds, r.gaps.max_s, r.gaps.over_100ms,
             r.gaps.stalled_s, r.server_cpu);
  if (r.got != n) fmt::print("  {:<8} INCOMPLETE: {} of {}\n", what, r.got, n);
}

void check_seq(std::uint64_t seq, std::uint64_t expected, const char* what) {
  if (seq != expected) throw std::runtime_error(fmt::format("{}: sequence {} where {} was expected", what, seq, expected));
}

Result read_ordered(natsio::Connection& conn, std::uint64_t n) {
  Result r;
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  std::string error;
  const auto t0 = Clock::now();
  {
    natsio::OrderedSubscription sub(conn, g_stream, 1, [&](const natsio::StreamMessage& m) {
      if (m.seq != r.got + 1 && error.empty()) error = fmt::format("sequence {} where {} was expected", m.seq, r.got + 1);
      ++r.got;
      r.gaps.tick();
      work();
      if (r.got == n) {
        std::lock_guard lk(mu);
        done = true;
        cv.notify_one();
      }
    });
    std::unique_lock lk(mu);
    cv.wait_for(lk, std::chrono::seconds(600), [&] { return done; });
    r.seconds = bench::seconds_since(t0);
  }
  if (!error.empty()) throw std::runtime_error("ordered: " + error);
  return r;
}

Result read_reader(natsio::Connection& conn, std::uint64_t n) {
  Result r;
  const auto t0 = Clock::now();
  natsio::StreamReader reader(conn, g_stream, 1);
  natsio::StreamMessage m;
  while (r.got < n && reader.next(m, 30'000)) {
    check_seq(m.seq, r.got + 1, "reader");
    ++r.got;
    r.gaps.tick();
    work();
  }
  r.seconds = bench::seconds_since(t0);
  return r;
}

Result read_pull(natsio::Connection& conn, const std::string& durable, std::uint64_t n, int batch) {
  Result r;
  natsio::JetStream js(conn);
  const auto t0 = Clock::now();
  js.ensure_durable(g_stream, durable, 30'000, -1);
  js.bind_pull(g_stream, durable);
  while (r.got < n) {
    // Never more than is left: a request for more waits for its whole timeout at the end.
    auto msgs = js.fetch(static_cast<int>(std::min<std::uint64_t>(batch, n - r.got)), 5'000);
    if (msgs.empty()) break;
    for (auto& m : msgs) {
      check_seq(m.stream_sequence(), r.got + 1, "pull");
      ++r.got;
      r.gaps.tick();
      work();
    }
    if (!msgs.back().ack_sync()) throw std::runtime_error("pull: ack failed");
  }
  r.seconds = bench::seconds_since(t0);
  return r;
}

}  // namespace

int main(int argc, char** argv) try {
  const auto n = std::stoull(arg(argc, argv, "--msgs", "70000"));
  const int runs = std::stoi(arg(argc, argv, "--runs", "1"));
  const int batch = std::stoi(arg(argc, argv, "--batch", "256"));

  const bool with_auth = arg(argc, argv, "--auth", "0") != "0";
  g_work_us = std::stoi(arg(argc, argv, "--work-us", "0"));
  if (with_auth) g_stream = auth::Deployment{}.stream;

  testsupport::NatsServer nats(true, with_auth);
  g_server_pid = nats.pid();
  natsio::Library lib;
  // Publishes, creates the stream and the pull consumer: `admin` under --auth.
  natsio::Connection conn({.url = nats.url(), .name = "stream-read-bench", .send_asap = false});
  // Reads with the ordered consumers: under --auth a worker (execution), as deployed.
  const std::string worker = arg(argc, argv, "--reader", "execution");
  natsio::Connection rconn({.url = with_auth ? nats.url(worker) : nats.url(), .name = "stream-read-bench-reader",
                            .inbox_prefix = with_auth ? auth::inbox_prefix(worker) : ""});
  // The pull consumer: under --auth the recorder, the one identity that reads with one.
  const std::string puller = arg(argc, argv, "--puller", "recorder");
  natsio::Connection pconn({.url = with_auth ? nats.url(puller) : nats.url(), .name = "stream-read-bench-pull",
                            .inbox_prefix = with_auth ? auth::inbox_prefix(puller) : ""});
  {
    natsio::JetStream js(conn);
    js.ensure_stream(g_stream, {"bench.>", "market.data.>"}, {.interest = false});
  }
  // Quote-sized JSON, as the feed publishes market data to the event log.
  std::size_t bytes = 0;
  const auto t0 = Clock::now();
  for (std::uint64_t i = 0; i < n; ++i) {
    const auto payload = fmt::format(
        R"({{"type":"quote","msg_id":"bench-feed:{}","session_id":"bench-session","symbol":"EURUSD",)"
        R"("bid":"1.39{:04d}","ask":"1.39{:04d}","bid_size":"{}","ask_size":"{}",)"
        R"("ts_event":{},"ts_recv":{},"source":"stream_read_bench"}})",
        i + 1, i % 10'000, (i + 3) % 10'000, 1'000'000 + i % 977, 2'000'000 + i % 1'013,
        1'399'334'400'000'000'000ULL + i * 1'000'000ULL, 1'399'334'400'000'050'000ULL + i * 1'000'000ULL);
    bytes += payload.size();
    while (!conn.publish("market.data.EURUSD", payload)) conn.flush(30'000);  // full buffer: drain and retry
    if (i % 10'000 == 9'999) conn.flush(30'000);
  }
  conn.flush(30'000);
  natsio::JetStream js(conn);
  // NoAck publishes: wait until the stream has stored them all.
  while (js.last_sequence(g_stream) < n) {
    if (bench::seconds_since(t0) > 120) throw std::runtime_error("the stream did not store every message");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  fmt::print("stream_read_bench: {} msgs ({:.0f} B average) stored in {:.2f} s, nats-server {} (pid {}), auth {}, handler work {} us, load {}\n", n,
             static_cast<double>(bytes) / static_cast<double>(n), bench::seconds_since(t0), nats.anonymous_url(), nats.pid(), with_auth ? "on (reader: " + worker + ")" : "off", g_work_us,
             bench::loadavg());

  for (int run = 1; run <= runs; ++run) {
    fmt::print("run {}\n", run);
    print("ordered", n, measure([&] { return read_ordered(rconn, n); }));
    print("reader", n, measure([&] { return read_reader(rconn, n); }));
    // Under --auth the recorder's identity may use one durable only: remove it between runs.
    const auto durable = with_auth ? auth::Deployment{}.recorder_durable : fmt::format("bench-pull-{}", run);
    if (with_auth) {
      jsCtx* js = nullptr;
      jsErrCode err{};
      if (natsConnection_JetStream(&js, conn.get(), nullptr) == NATS_OK) {
        js_DeleteConsumer(js, g_stream.c_str(), durable.c_str(), nullptr, &err);  // absent in run 1
        jsCtx_Destroy(js);
      }
    }
    print("pull", n, measure([&] { return read_pull(pconn, durable, n, batch); }));
  }
  return 0;
} catch (const std::exception& e) {
  fmt::print(stderr, "stream_read_bench: {}\n", e.what());
  return 1;
}
