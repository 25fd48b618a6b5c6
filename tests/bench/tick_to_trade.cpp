// Benchmark (not a test): tick-to-trade latency through strategy -> risk-state ->
// execution, beside a raw nats.c relay of the same hops and message sizes,
// measured in the same run on the same nats-server.
//
//   build/tests/bench/tick_to_trade [--rate 10000] [--seconds 6] [--file F] [--fast 2] [--slow 5]
//
// Tick-to-trade: from this program publishing a quote on market.data.<symbol> to it
// receiving the first execution_report of the order that quote caused, on
// trading.executions. Both clock readings are taken in this process
// (steady_clock), so no cross-process clock is involved. Quotes are real (by default
// ../shared/data/quotes_IBM_2013-10-08.csv); their ts_event is rewritten to
// first_ts + i so each report maps back to the quote that caused it (the strategy
// stamps its order with the quote's ts_event, and execution its reports with the
// order's). The strategy runs with short SMAs so that many quotes cause orders.
//
// The raw limit, measured right after on the same server: 3 relay processes
// (nats.c, SendAsap, no decoding) that, like our three workers, each receive every
// quote, and relay q -> o -> a -> e exactly the quotes that caused an order in our
// run: the same 4 publish->deliver hops, payloads padded to our message sizes, the
// same quote rate and the same number of samples.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "bench_util.hpp"
#include "codec/codec.hpp"
#include "marketdata/reader.hpp"
#include "natsio/natsio.hpp"
#include "servers.hpp"
#include "workers/recorder.hpp"
#include "subjects/subjects.hpp"

namespace {

using bench::Clock;
using bench::arg;

struct Stats {
  std::size_t n = 0;
  double p50 = 0, p99 = 0, p999 = 0, max = 0;
};

Stats stats(std::vector<double> us) {
  Stats s;
  s.n = us.size();
  if (us.empty()) return s;
  std::sort(us.begin(), us.end());
  auto at = [&](double q) { return us[std::min(us.size() - 1, static_cast<std::size_t>(q * us.size()))]; };
  s.p50 = at(0.50);
  s.p99 = at(0.99);
  s.p999 = at(0.999);
  s.max = us.back();
  return s;
}

// relay mode: like a worker, receive every quote on bench.q; relay IN -> OUT,
// republishing the first token of each payload padded to SIZE bytes. IN may be
// bench.q itself: then only quotes whose token ends in '*' are relayed (the ones
// that, in our pipeline, cause an order).
int relay(const std::string& url, const std::string& in, const std::string& out, std::size_t size) {
  natsio::Library lib;
  natsio::Connection conn({.url = url, .name = "bench-relay", .send_asap = true});
  std::string buf;
  auto forward = [&](const natsio::Message& m) {
    buf.assign(m.data.substr(0, m.data.find(' ')));
    buf.resize(std::max(size, buf.size()), ' ');
    conn.publish(out, buf);
  };
  std::vector<std::unique_ptr<natsio::Subscription>> subs;
  std::unique_ptr<natsio::OrderedSubscription> log_sub;
  if (in.starts_with("log:")) {
    // Like execution: every message of the stream RAWLOG (quotes included), in stream order.
    const std::string want = in.substr(4);
    log_sub = std::make_unique<natsio::OrderedSubscription>(conn, "RAWLOG", 1, [&, want](const natsio::StreamMessage& m) {
      if (m.subject == want) forward(natsio::Message{m.subject, m.data, {}});
    });
  } else if (in == "bench.q") {
    subs.push_back(std::make_unique<natsio::Subscription>(conn, "bench.q", [&](const natsio::Message& m) {
      const auto token = m.data.substr(0, m.data.find(' '));
      if (!token.empty() && token.back() == '*') forward(m);
    }));
  } else {
    subs.push_back(std::make_unique<natsio::Subscription>(conn, "bench.q", [](const natsio::Message&) {}));
    subs.push_back(std::make_unique<natsio::Subscription>(conn, in, forward));
  }
  conn.flush();
  std::printf("READY\n");
  std::fflush(stdout);
  std::this_thread::sleep_for(std::chrono::hours(1));  // killed by the parent
  return 0;
}

/// Publishes `n` payloads at `rate`/s on `subject`; make(i) builds payload i; sent[i] = send time.
template <class Make>
void paced_publish(natsio::Connection& conn, const std::string& subject, std::size_t n, double rate, Make&& make,
                   std::vector<Clock::time_point>& sent) {
  const auto start = Clock::now();
  const auto period = std::chrono::nanoseconds(static_cast<std::int64_t>(1e9 / rate));
  for (std::size_t i = 0; i < n; ++i) {
    std::this_thread::sleep_until(start + period * static_cast<std::int64_t>(i));
    const std::string payload = make(i);
    sent[i] = Clock::now();
    conn.publish(subject, payload);
  }
}

}  // namespace

int main(int argc, char** argv) try {
  if (argc >= 2 && std::string(argv[1]) == "relay")
    return relay(argv[2], argv[3], argv[4], static_cast<std::size_t>(std::stoul(argv[5])));

  const double rate = std::stod(arg(argc, argv, "--rate", "10000"));
  const double seconds = std::stod(arg(argc, argv, "--seconds", "6"));
  const std::string file = arg(argc, argv, "--file", testsupport::shared_data_dir() + "/quotes_IBM_2013-10-08.csv");
  const std::string fast = arg(argc, argv, "--fast", "2"), slow = arg(argc, argv, "--slow", "5");

  // Real quotes, rewritten to unique ts_event.
  std::vector<core::Quote> quotes;
  marketdata::Reader reader(file);
  const std::size_t want = static_cast<std::size_t>(rate * seconds);
  while (quotes.size() < want) {
    auto r = reader.next();
    if (!r) break;
    if (*r && std::holds_alternative<core::Quote>(r->value())) quotes.push_back(std::get<core::Quote>(r->value()));
  }
  if (quotes.empty()) throw std::runtime_error("no quotes in " + file);
  const core::TimestampNs base = quotes.front().ts_event;
  for (std::size_t i = 0; i < quotes.size(); ++i) quotes[i].ts_event = base + static_cast<core::TimestampNs>(i);
  const std::string symbol = quotes.front().symbol;
  const std::string md_subject = subjects::market_data(symbol);

  testsupport::NatsServer nats(true);  // execution consumes the JetStream event log
  natsio::Library lib;
  natsio::Connection pub({.url = nats.url(), .name = "bench-pub", .send_asap = true});
  natsio::Connection sub_conn({.url = nats.url(), .name = "bench-sub", .send_asap = true});

  // Message sizes on each hop of our pipeline, for the raw relay.
  core::OrderSubmit sample_order{.client_order_id = "ma_cross-" + symbol + "-12345", .symbol = symbol,
                                 .quantity = core::Decimal::from_int(1), .time_in_force = core::TimeInForce::ioc,
                                 .strategy_id = "ma_cross", .ts_event = base};
  core::ExecutionReport sample_report{.client_order_id = sample_order.client_order_id,
                                      .exec_id = sample_order.client_order_id + "-1", .symbol = symbol,
                                      .quantity = sample_order.quantity, .ts_event = base};
  const std::size_t q_size = codec::encode(quotes.front()).size();
  const std::size_t o_size = codec::encode(sample_order).size();
  const std::size_t e_size = codec::encode(sample_report).size();

  // ---- our pipeline: strategy -> risk-state -> execution
  std::vector<double> ours_us;
  std::size_t orders = 0;
  // Per order: when this process saw it on each subject; hop_us: quote -> order, order -> approved, approved -> report.
  std::map<std::string, Clock::time_point> order_at, approved_at;
  std::map<std::string, std::pair<std::size_t, Clock::time_point>> report_at;
  std::vector<double> hop_us[3];
  std::vector<bool> caused(quotes.size(), false);  // quote i caused an order
  {
    // As a deployment runs them: the admin creates the event stream and the
    // recorder's consumer, and each worker connects as its own identity.
    services::bootstrap_event_stream(sub_conn, services::EventStreamConfig{});
    auto env_as = [&](const std::string& user) {
      return std::vector<std::pair<std::string, std::string>>{
          {"NATS_URL", nats.url(user)}, {"STRATEGY_FAST", fast}, {"STRATEGY_SLOW", slow}, {"STRATEGY_QUANTITY", "1"},
          {"HEARTBEAT_MS", "200"}, {"TRADER_CONFIG", ""}};
    };
    const std::string bin = testsupport::build_dir() + "/cmd/";
    std::vector<std::unique_ptr<testsupport::Process>> workers;
    for (const char* w : {"ops", "execution", "risk-state", "strategy"})
      workers.push_back(std::make_unique<testsupport::Process>(std::vector<std::string>{bin + w}, env_as(w)));
    testsupport::Process ready({bin + "traderctl", "wait-ready", "--timeout-s", "30", "ops", "execution", "risk-state",
                                "strategy"},
                               env_as("operator"));
    if (ready.wait() != 0) throw std::runtime_error("workers not ready: " + ready.log());

    std::vector<Clock::time_point> sent(quotes.size());
    std::mutex mu;
    std::map<std::string, bool> seen;
    codec::Decoder dec, dec_hops;
    natsio::Subscription s(sub_conn, subjects::kTradingExecutions, [&](const natsio::Message& m) {
      const auto now = Clock::now();
      auto r = dec.decode_execution_report(m.data);
      if (!r) return;
      std::lock_guard lock(mu);
      if (!seen.emplace(r->client_order_id, true).second) return;  // first report of each order
      const auto i = static_cast<std::size_t>(r->ts_event - base);
      if (i < sent.size()) {
        ours_us.push_back(std::chrono::duration<double, std::micro>(now - sent[i]).count());
        caused[i] = true;
        report_at.emplace(r->client_order_id, std::make_pair(i, now));
      }
    });
    // Where the time goes: this process also sees each order on trading.orders (the
    // strategy's) and on trading.orders.approved (risk-state's), when the next worker does.
    auto hop_sub = [&](const char* subject, std::map<std::string, Clock::time_point>& at) {
      return natsio::Subscription(sub_conn, subject, [&, subject](const natsio::Message& m) {
        const auto now = Clock::now();
        auto r = dec_hops.decode_order_command(m.data);
        if (!r) return;
        if (const auto* o = std::get_if<core::OrderSubmit>(&*r)) {
          std::lock_guard lock(mu);
          at.emplace(o->client_order_id, now);
        }
      });
    };
    auto s_orders = hop_sub(subjects::kTradingOrders.data(), order_at);
    auto s_approved = hop_sub(subjects::kTradingOrdersApproved.data(), approved_at);
    sub_conn.flush();
    paced_publish(pub, md_subject, quotes.size(), rate, [&](std::size_t i) { return codec::encode(quotes[i]); }, sent);
    std::this_thread::sleep_for(std::chrono::seconds(1));
    std::lock_guard lock(mu);
    orders = seen.size();
    for (const auto& [id, ir] : report_at) {
      const auto o = order_at.find(id), a = approved_at.find(id);
      if (o == order_at.end() || a == approved_at.end()) continue;
      const auto us = [](auto from, auto to) { return std::chrono::duration<double, std::micro>(to - from).count(); };
      hop_us[0].push_back(us(sent[ir.first], o->second));
      hop_us[1].push_back(us(o->second, a->second));
      hop_us[2].push_back(us(a->second, ir.second));
    }
  }

  // ---- raw relay: q -> o -> a -> e; with_log: every message is also stored in a
  // JetStream stream and the last relay reads a -> e from it, as execution does.
  auto raw_relay = [&](bool with_log) {
    std::vector<double> us;
    const std::string self = argv[0];
    if (with_log) {
      natsio::JetStream js(sub_conn);
      // The same kind of stream as the event log (interest retention would drop what
      // has no consumer yet: limits, as a raw stream without a recorder keeps it all).
      js.ensure_stream("RAWLOG", {"bench.>"}, {.interest = false, .discard_new = false});
    }
    std::vector<std::unique_ptr<testsupport::Process>> relays;
    // Every relay receives every quote, as strategy, risk-state and execution do;
    // the quotes that caused an order in our run travel the whole chain.
    const std::vector<std::tuple<std::string, std::string, std::size_t>> hops{
        {"bench.q", "bench.o", o_size}, {"bench.o", "bench.a", o_size},
        {with_log ? "log:bench.a" : "bench.a", "bench.e", e_size}};
    for (const auto& [in, out, size] : hops) {
      relays.push_back(std::make_unique<testsupport::Process>(
          std::vector<std::string>{self, "relay", nats.url(), in, out, std::to_string(size)}));
      while (relays.back()->log().find("READY") == std::string::npos) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::vector<Clock::time_point> sent(quotes.size());
    std::mutex mu;
    std::atomic<std::size_t> got{0};
    natsio::Subscription s(sub_conn, "bench.e", [&](const natsio::Message& m) {
      const auto now = Clock::now();
      const auto i = std::stoul(std::string(m.data.substr(0, m.data.find_first_of(" *"))));
      std::lock_guard lock(mu);
      us.push_back(std::chrono::duration<double, std::micro>(now - sent[i]).count());
      ++got;
    });
    sub_conn.flush();
    paced_publish(pub, "bench.q", quotes.size(), rate, [&](std::size_t i) {
      std::string p = std::to_string(i);
      if (caused[i]) p += '*';
      p.resize(q_size, ' ');
      return p;
    }, sent);
    const auto expected = static_cast<std::size_t>(std::count(caused.begin(), caused.end(), true));
    for (int w = 0; w < 50 && got < expected; ++w) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    std::lock_guard lock(mu);
    return us;
  };
  const std::vector<double> raw_us = raw_relay(false);
  const std::vector<double> raw_log_us = raw_relay(true);

  const auto raw = stats(raw_us), ours = stats(ours_us);
  fmt::print("tick-to-trade, {} real {} quotes from {} at {:.0f}/s ({} hops: quote {} B, order {} B, report {} B)\n",
             quotes.size(), symbol, file.substr(file.rfind('/') + 1), rate, 4, q_size, o_size, e_size);
  fmt::print("| path | samples | p50 us | p99 us | p99.9 us | max us |\n|---|---:|---:|---:|---:|---:|\n");
  fmt::print("| raw nats.c relay, 4 hops | {} | {:.0f} | {:.0f} | {:.0f} | {:.0f} |\n", raw.n, raw.p50, raw.p99, raw.p999,
             raw.max);
  const auto raw_log = stats(raw_log_us);
  fmt::print("| raw relay, 4 hops, all stored in a stream, last hop read from it | {} | {:.0f} | {:.0f} | {:.0f} | {:.0f} |\n",
             raw_log.n, raw_log.p50, raw_log.p99, raw_log.p999, raw_log.max);
  fmt::print("| strategy -> risk-state -> execution | {} | {:.0f} | {:.0f} | {:.0f} | {:.0f} |\n", ours.n, ours.p50,
             ours.p99, ours.p999, ours.max);
  fmt::print("ratio to the raw relay: p50 {:.2f}x, p99 {:.2f}x (orders: {})\n", raw.p50 > 0 ? ours.p50 / raw.p50 : 0.0,
             raw.p99 > 0 ? ours.p99 / raw.p99 : 0.0, orders);
  fmt::print("ratio to the raw relay with the stream: p50 {:.2f}x, p99 {:.2f}x\n",
             raw_log.p50 > 0 ? ours.p50 / raw_log.p50 : 0.0, raw_log.p99 > 0 ? ours.p99 / raw_log.p99 : 0.0);
  fmt::print("\nwhere the time goes (seen from this process; each hop = publish, deliver, the worker's work):\n"
             "| hop | samples | p50 us | p99 us | p99.9 us |\n|---|---:|---:|---:|---:|\n");
  const char* hop_names[3] = {"quote -> order (strategy)", "order -> approved (risk-state)",
                              "approved -> report (JetStream + execution)"};
  for (int h = 0; h < 3; ++h) {
    const auto st = stats(hop_us[h]);
    fmt::print("| {} | {} | {:.0f} | {:.0f} | {:.0f} |\n", hop_names[h], st.n, st.p50, st.p99, st.p999);
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "tick_to_trade: %s\n", e.what());
  return 1;
}
