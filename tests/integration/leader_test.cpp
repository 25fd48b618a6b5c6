// One writer per role (issue 15), with the real binaries: a second execution or recorder
// started with standby=refuse exits at once naming the holder while the first goes on;
// a second execution started as a hot standby is not ready, says "standby" in ops.status,
// publishes nothing, and when the first is SIGKILLed mid-session takes over and the
// session goes on with every approved order executed exactly once (the reports equal
// those of a broker that never crashed, one by one: no fill twice, none lost).
#include <catch2/catch.hpp>

#include <httplib.h>

#include <atomic>
#include <map>
#include <regex>
#include <set>
#include <thread>
#include <tuple>

#include <fmt/format.h>

#include "codec/codec.hpp"
#include "log_check.hpp"
#include "stack.hpp"

namespace {

using namespace std::chrono_literals;
using itest::ibm_quotes;

/// Hand-typed orders cycling through order types and times in force (as crash_test.cpp).
std::string order_json(int k, const core::Quote& q) {
  const auto id = fmt::format("s-{}", k);
  const auto bid = q.bid.to_string(), ask = q.ask.to_string();
  switch (k % 6) {
    case 0: return fmt::format(R"({{"type":"order.submit","client_order_id":"{}","symbol":"IBM","side":"buy","order_type":"market","quantity":"300","time_in_force":"ioc"}})", id);
    case 1: return fmt::format(R"({{"type":"order.submit","client_order_id":"{}","symbol":"IBM","side":"sell","order_type":"limit","quantity":"200","limit_price":"{}","time_in_force":"day"}})", id, ask);
    case 2: return fmt::format(R"({{"type":"order.submit","client_order_id":"{}","symbol":"IBM","side":"sell","order_type":"market","quantity":"700","time_in_force":"day"}})", id);
    case 3: return fmt::format(R"({{"type":"order.submit","client_order_id":"{}","symbol":"IBM","side":"buy","order_type":"limit","quantity":"500","limit_price":"{}","time_in_force":"gtc"}})", id, bid);
    case 4: return fmt::format(R"({{"type":"order.cancel","client_order_id":"s-{}"}})", k - 1);
    default: return fmt::format(R"({{"type":"order.submit","client_order_id":"{}","symbol":"IBM","side":"buy","order_type":"stop","quantity":"100","stop_price":"{}","time_in_force":"gtc"}})", id, ask);
  }
}

/// ops.status as a person asks it.
core::OpsStatus ops_status(const itest::Stack& stack) {
  natsio::Connection person({.url = stack.nats_url("operator"), .name = "person"});
  auto st = codec::decode_ops_status(person.request("ops.status", "", 5'000));
  REQUIRE(st);
  return *st;
}

/// The instance "<host>:<pid>" of `p` as ops lists it, if it does.
std::optional<core::WorkerStatus> instance_of(const core::OpsStatus& st, const std::string& worker, pid_t pid) {
  for (const auto& w : st.workers)
    if (w.worker == worker && w.instance.ends_with(fmt::format(":{}", pid))) return w;
  return std::nullopt;
}

int http_port_in(const std::string& log) {
  static const std::regex re(R"(health and metrics on http://127\.0\.0\.1:(\d+)/)");
  std::smatch m;
  return std::regex_search(log, m, re) ? std::stoi(m[1]) : 0;
}

}  // namespace

TEST_CASE("a second execution or recorder with standby=refuse exits 1 naming the holder, the first goes on (issue 15)",
          "[integration][leader]") {
  itest::nats_library();
  itest::Stack stack;
  stack.start({"recorder", "ops", "risk-state", "execution"});
  for (const std::string w : {"execution", "recorder"}) {
    INFO(w);
    auto env = w == "recorder" ? stack.recorder_env() : stack.env_for(w);
    env.emplace_back("TRADER_STANDBY", "refuse");
    testsupport::Process second({itest::bin(w)}, env, stack.dir() + "/" + w + "-second.log");
    const auto rc = second.wait_for(60s);
    REQUIRE(rc);
    CHECK(*rc == 1);
    const auto pid = stack.worker(w).pid();
    CHECK_THAT(second.log(), Catch::Contains(fmt::format("another instance holds the {} lease ({} at ", w, w)) &&
                                 Catch::Contains(fmt::format(":{}); standby=refuse: not starting", pid)));
    CHECK(stack.worker(w).running());
    CHECK(itest::worker_status(stack, w) == "ok");
  }
}

TEST_CASE("a hot standby execution publishes nothing, is not ready, says standby, when the writer is SIGKILLed "
          "mid-session it takes over and every order is executed exactly once (issue 15)",
          "[integration][leader]") {
  itest::nats_library();
  itest::Stack stack({{"RISK_MAX_POSITION", "1000000"}, {"HTTP_PORT", "0"}});
  stack.start({"recorder", "ops", "risk-state", "execution"});
  testsupport::Process standby({itest::bin("execution")}, stack.env_for("execution"),
                               stack.dir() + "/execution-standby.log");
  REQUIRE(itest::until(30s, [&] { return standby.log().find("\"msg\":\"standby: the execution lease is held by") !=
                                         std::string::npos; }));

  // While a standby: not ready (503, saying why), listed by ops as a standby that has
  // published nothing, and the stack is ok (neither degraded nor down because of it).
  const int port = http_port_in(standby.log());
  REQUIRE(port > 0);
  httplib::Client http("127.0.0.1", port);
  const auto ready = http.Get("/health/ready");
  REQUIRE(ready);
  CHECK(ready->status == 503);
  CHECK_THAT(ready->body, Catch::Contains("standby: the execution lease is held by execution at"));
  CHECK_THAT(ready->body, !Catch::Contains("starting"));
  const auto metrics = http.Get("/metrics");
  REQUIRE(metrics);
  CHECK_THAT(metrics->body, Catch::Contains("trader_standby{worker=\"execution\"} 1"));
  std::optional<core::WorkerStatus> listed;
  REQUIRE(itest::until(30s, [&] { return (listed = instance_of(ops_status(stack), "execution", standby.pid())).has_value(); }));
  CHECK(listed->alive);
  CHECK_THAT(listed->status, Catch::StartsWith("standby: the execution lease is held by execution at"));
  CHECK(ops_status(stack).status == "ok");

  const auto quotes = ibm_quotes(5'000);
  REQUIRE(quotes.size() == 5'000);
  std::atomic<std::size_t> sent{0};
  int orders = 0;
  std::thread driver([&] {
    natsio::Connection feed({.url = stack.nats_url(), .name = "test-feed"});
    for (std::size_t i = 0; i < quotes.size(); ++i) {
      feed.publish("market.data.IBM", codec::encode(quotes[i]));
      if (i % 15 == 7) feed.publish("trading.orders", order_json(orders++, quotes[i]));
      sent = i + 1;
      std::this_thread::sleep_for(1ms);
    }
    feed.flush();
  });
  while (sent < 1'500) std::this_thread::sleep_for(10ms);
  // The standby has still published nothing: the writer alone answers the orders so far.
  const auto before = instance_of(ops_status(stack), "execution", standby.pid());
  REQUIRE(before);
  CHECK(before->msgs_out == 0);
  CHECK_THAT(before->status, Catch::StartsWith("standby"));
  stack.worker("execution").kill_hard();
  REQUIRE(itest::until(60s, [&] { return standby.log().find("took over the execution lease") != std::string::npos; }));
  REQUIRE(itest::until(60s, [&] { return standby.log().find("\"msg\":\"ready (") != std::string::npos; }));
  driver.join();
  CHECK(standby.running());
  CHECK_THAT(standby.log(), Catch::Contains("rebuilt from"));
  REQUIRE(stack.run({itest::bin("traderctl"), "wait-idle", "--quiet-ms", "1000", "--timeout-s", "120"}) == 0);
  const auto after = http.Get("/health/ready");
  REQUIRE(after);
  CHECK(after->status == 200);
  const auto metrics_after = http.Get("/metrics");
  REQUIRE(metrics_after);
  CHECK_THAT(metrics_after->body, Catch::Contains("trader_standby{worker=\"execution\"} 0"));
  const auto writer = instance_of(ops_status(stack), "execution", standby.pid());
  REQUIRE(writer);
  CHECK(writer->status == "ok");
  CHECK(writer->msgs_out > 0);

  eventstore::PgStore store(stack.reader_url());
  itest::wait_recorded(stack, store);
  const auto events = itest::read_all(store);

  // Every order got one decision; the reports equal those of a broker that never
  // crashed, fed the same log in event-time order (log_check.hpp, as crash_test.cpp).
  const auto outcome = itest::check_log(events, static_cast<std::size_t>(orders - orders / 6));  // every 6th: a cancel
  CHECK(outcome.reports > 10);  // the session did trade, before and after the takeover
}

TEST_CASE("a writer stopped with SIGTERM hands its lease over at once: risk-state and recorder standbys take over "
          "and the session goes on, every event recorded once (issue 15)",
          "[integration][leader]") {
  itest::nats_library();
  itest::Stack stack;
  itest::Tap tap(stack.nats_url());
  stack.start({"recorder", "ops", "risk-state", "execution"});
  testsupport::Process risk({itest::bin("risk-state")}, stack.env_for("risk-state"), stack.dir() + "/risk-standby.log");
  testsupport::Process recorder({itest::bin("recorder")}, stack.recorder_env(), stack.dir() + "/recorder-standby.log");
  for (auto* p : {&risk, &recorder})
    REQUIRE(itest::until(30s, [&] { return p->log().find("\"msg\":\"standby: the ") != std::string::npos; }));
  const auto old_risk = stack.worker("risk-state").pid(), old_recorder = stack.worker("recorder").pid();

  // SIGTERM: each writer stops, then deletes its key; its standby takes over without
  // waiting for a TTL (the log says who it was held by: the stopped writer).
  stack.worker("risk-state").terminate();
  stack.worker("recorder").terminate();
  CHECK(stack.worker("risk-state").wait() == 0);
  CHECK(stack.worker("recorder").wait() == 0);
  for (auto [p, role, pid] : {std::tuple{&risk, "risk-state", old_risk}, std::tuple{&recorder, "recorder", old_recorder}}) {
    INFO(role);
    REQUIRE(itest::until(60s, [&] { return p->log().find("\"msg\":\"ready (") != std::string::npos; }));
    CHECK_THAT(p->log(), Catch::Contains(fmt::format("took over the {} lease (was held by {} at ", role, role)) &&
                             Catch::Contains(fmt::format(":{}); starting as the writer", pid)));
    CHECK(p->running());
  }

  // The new risk-state decides, execution fills, the new recorder records it all once.
  const auto quote = ibm_quotes(1).at(0);
  natsio::Connection feed({.url = stack.nats_url("feed"), .name = "test-feed", .inbox_prefix = "_INBOX_feed"});
  REQUIRE(feed.publish("market.data.IBM", codec::encode(quote)));
  feed.flush();
  natsio::Connection person({.url = stack.nats_url("operator"), .name = "person", .inbox_prefix = "_INBOX_operator"});
  REQUIRE(person.publish("trading.orders", R"({"type":"order.submit","client_order_id":"handover-1","symbol":"IBM",)"
                                           R"("side":"buy","order_type":"market","quantity":"100"})"));
  person.flush();
  CHECK_FALSE(tap.wait_for("trading.orders.approved", {"\"client_order_id\":\"handover-1\""}).empty());
  CHECK_FALSE(tap.wait_for("trading.executions", {"\"client_order_id\":\"handover-1\"", "\"exec_type\":\"fill\""}).empty());
  eventstore::PgStore store(stack.reader_url());
  const auto n = itest::wait_recorded(stack, store);
  std::set<std::string> msg_ids;
  for (const auto& ev : itest::read_all(store)) CHECK(msg_ids.insert(ev.msg_id).second);
  CHECK(static_cast<std::int64_t>(msg_ids.size()) == n);
}
