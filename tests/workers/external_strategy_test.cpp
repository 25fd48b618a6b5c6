// An external strategy (workers/external_strategy.hpp) against a real nats-server with
// the deployment's permissions (pkg/auth): the worker's side connects as `strategy`, a
// C++ responder stands for the user's program as `strategy-ext`. Checks the request
// envelope byte for byte, that the host stamps the commands, that bad replies are
// dead-lettered naming the field and counted (and the worker goes on), that every new
// strategy (a worker's start, so every rebuild) begins with strategy.reset, that an
// unanswered request is asked again with the same n, and that stop() ends the wait.
#include <catch2/catch.hpp>

#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "auth/auth.hpp"
#include "codec/codec.hpp"
#include "natsio/natsio.hpp"
#include "servers.hpp"
#include "strategy/registry.hpp"
#include "workers/external_strategy.hpp"
#include "workers/runtime.hpp"

namespace {

constexpr core::TimestampNs kT0 = 1'582'329'600'000'000'000;  // 2020-02-22T00:00:00Z

core::Decimal dec(std::string_view s) { return *core::Decimal::parse(s); }

core::Quote quote(core::TimestampNs ts) {
  return core::Quote{.symbol = "BTCUSDT", .bid = dec("9700.1"), .ask = dec("9700.2"), .ts_event = ts};
}

/// The user's program, scripted: answers each request with the next reply of `script`
/// ("" = no answer to that request), and keeps every request it saw.
class Responder {
 public:
  Responder(const testsupport::NatsServer& server, std::deque<std::string> script)
      : conn_({.url = server.url("strategy-ext"), .name = "strategy-ext"}),
        script_(std::move(script)),
        sub_(conn_, "strategy.external.>", [this](const natsio::Message& m) {
          std::string reply;
          {
            std::lock_guard lock(mu_);
            seen_.emplace_back(m.data);
            subjects_.emplace_back(m.subject);
            if (!script_.empty()) {
              reply = std::move(script_.front());
              script_.pop_front();
            }
          }
          if (!reply.empty()) conn_.publish(m.reply, reply);  // allow_responses: the reply subject only
        }) {
    conn_.flush();
  }
  std::vector<std::string> seen() const {
    std::lock_guard lock(mu_);
    return seen_;
  }
  std::vector<std::string> subjects() const {
    std::lock_guard lock(mu_);
    return subjects_;
  }

 private:
  natsio::Connection conn_;
  mutable std::mutex mu_;
  std::deque<std::string> script_;
  std::vector<std::string> seen_, subjects_;
  natsio::Subscription sub_;  // last: stops before the rest goes
};

/// The worker's side: a Runtime on a connection as `strategy`, with its own inbox prefix.
struct Worker {
  explicit Worker(const testsupport::NatsServer& server)
      : conn({.url = server.url("strategy"), .name = "strategy", .inbox_prefix = auth::inbox_prefix("strategy")}),
        rt(conn, "strategy", clock, 1000, "EVENTS"),
        link(std::make_shared<services::ExternalLink>(rt)),
        registry(services::with_external(strategy::builtin_registry(), link)) {}
  strategy::Runner runner(std::string id, strategy::Params p = {}) {
    return strategy::Runner(id, registry.create({.name = "external", .strategy_id = id, .params = std::move(p)}));
  }
  core::SystemClock clock;
  natsio::Connection conn;
  services::Runtime rt;
  std::shared_ptr<services::ExternalLink> link;
  strategy::Registry registry;
};

services::ExternalStrategy& external(strategy::Runner& r) {
  return dynamic_cast<services::ExternalStrategy&>(r.strategy());
}

const std::string kSubmit =
    R"({"type":"order.submit","symbol":"BTCUSDT","side":"buy","order_type":"market","quantity":"0.01",)"
    R"("time_in_force":"ioc","strategy_id":"forged","ts_event":5,"cause_seq":99})";

}  // namespace

TEST_CASE("an external strategy gets strategy.reset, then every event in its envelope, and the host stamps its commands",
          "[integration][external]") {
  natsio::Library lib;
  testsupport::NatsServer server(/*jetstream=*/false, /*auth=*/true);
  Responder program(server, {"{}", R"({"commands":[)" + kSubmit + R"(]})",
                             R"({"timers":[{"at":)" + std::to_string(kT0 + 10) + R"(,"tag":"later"}]})", "{}", "{}"});
  Worker w(server);
  auto run = w.runner("js");

  // A quote: reset first, then the event; the program's submit comes back stamped by the host.
  const auto out = run.on_market(quote(kT0), 7);
  REQUIRE(out.size() == 1);
  const auto& s = std::get<core::OrderSubmit>(out[0]);
  CHECK(s.client_order_id == "js-1");  // assigned: the program left it out
  CHECK(s.strategy_id == "js");        // not "forged"
  CHECK(s.ts_event == kT0);            // not 5
  CHECK(s.cause_seq == 7);             // not 99
  CHECK(s.quantity == dec("0.01"));
  CHECK(s.time_in_force == core::TimeInForce::ioc);

  // Its fill: the envelope shows the position the fill made, no working order; the
  // program answers with a timer.
  auto fill = core::ExecutionReport{.client_order_id = "js-1", .exec_id = "js-1-2", .exec_type = core::ExecType::fill,
                                    .order_status = core::OrderStatus::filled, .symbol = "BTCUSDT",
                                    .side = core::Side::buy, .order_type = core::OrderType::market,
                                    .quantity = dec("0.01"), .last_qty = dec("0.01"), .last_px = dec("9700.2"),
                                    .cum_qty = dec("0.01"), .avg_px = dec("9700.2"), .strategy_id = "js",
                                    .ts_event = kT0 + 1};
  run.on_execution(fill);
  // The next quote, after the timer's time: the timer first, then the quote.
  CHECK(run.on_market(quote(kT0 + 20), 9).empty());

  const auto seen = program.seen();
  REQUIRE(seen.size() == 5);
  CHECK(seen[0] == R"({"type":"strategy.reset","v":1,"strategy_id":"js"})");
  CHECK(seen[1] == fmt::format(R"({{"type":"strategy.event","v":1,"strategy_id":"js","n":1,"now":{},"event":{},)"
                               R"("positions":{{}},"orders":[]}})",
                               kT0, codec::encode(quote(kT0))));
  CHECK(seen[2] == fmt::format(R"({{"type":"strategy.event","v":1,"strategy_id":"js","n":2,"now":{},"event":{},)"
                               R"("positions":{{"BTCUSDT":"0.01"}},"orders":[]}})",
                               kT0 + 1, codec::encode(fill)));
  CHECK(seen[3] == fmt::format(R"({{"type":"strategy.event","v":1,"strategy_id":"js","n":3,"now":{},)"
                               R"("event":{{"type":"timer","at":{},"tag":"later"}},)"
                               R"("positions":{{"BTCUSDT":"0.01"}},"orders":[]}})",
                               kT0 + 20, kT0 + 10));
  CHECK(seen[4].find(R"("n":4,)") != std::string::npos);
  for (const auto& subj : program.subjects()) CHECK(subj == "strategy.external.js");
  CHECK(external(run).events() == 4);
  CHECK(external(run).bad_replies() == 0);
  CHECK(external(run).retries() == 0);
}

TEST_CASE("an external strategy's working orders are in its envelope", "[integration][external]") {
  natsio::Library lib;
  testsupport::NatsServer server(false, true);
  const std::string limit =
      R"({"commands":[{"type":"order.submit","client_order_id":"js-bid","symbol":"BTCUSDT","side":"buy",)"
      R"("order_type":"limit","limit_price":"9600","quantity":"0.5","time_in_force":"gtc"}]})";
  Responder program(server, {"{}", limit, "{}"});
  Worker w(server);
  auto run = w.runner("js");
  REQUIRE(run.on_market(quote(kT0), 1).size() == 1);
  run.on_market(quote(kT0 + 1), 2);
  const auto seen = program.seen();
  REQUIRE(seen.size() == 3);
  CHECK(seen[2].ends_with(
      R"("orders":[{"client_order_id":"js-bid","symbol":"BTCUSDT","side":"buy","order_type":"limit",)"
      R"("time_in_force":"gtc","quantity":"0.5","limit_price":"9600","cum_qty":"0","leaves_qty":"0.5",)"
      R"("cancel_pending":false}]})"));
}

TEST_CASE("bad replies of an external strategy are dead-lettered naming the field, counted, and taken as no commands",
          "[integration][external]") {
  natsio::Library lib;
  testsupport::NatsServer server(false, true);
  Responder program(server,
                    {"{}",
                     "not json",
                     R"({"commands":[{"type":"order.submit","symbol":"BTCUSDT","side":"buy","order_type":"market",)"
                     R"("quantity":"-5"}]})",
                     R"({"commands":[{"type":"order.explode"}]})",
                     R"({"commands":{"type":"order.cancel"}})",
                     R"({"timers":[{"tag":"no time"}]})",
                     // a good reply whose commands the Context refuses, and one it takes
                     R"({"commands":[{"type":"order.submit","client_order_id":"other-1","symbol":"BTCUSDT",)"
                     R"("side":"buy","order_type":"market","quantity":"1"},)"
                     R"({"type":"order.cancel","client_order_id":"js-99"},)"
                     R"({"type":"order.replace","client_order_id":"js-new","orig_client_order_id":"js-1"},)" +
                         kSubmit + "]}"});
  Worker w(server);
  auto run = w.runner("js");
  for (int i = 0; i < 5; ++i) {
    INFO("event " << i);
    CHECK(run.on_market(quote(kT0 + i), static_cast<std::uint64_t>(i + 1)).empty());
  }
  const auto out = run.on_market(quote(kT0 + 9), 10);
  REQUIRE(out.size() == 1);  // the one good command
  CHECK(std::get<core::OrderSubmit>(out[0]).client_order_id == "js-1");
  auto& ext = external(run);
  CHECK(ext.bad_replies() == 5);
  CHECK(ext.refused_commands() == 3);
  const auto metrics = w.rt.metrics_text();
  INFO(metrics);
  for (const auto* field : {"(none)", "commands[0].quantity", "commands[0].type", "commands", "timers[0].at",
                            "commands[0].client_order_id", "commands[1].client_order_id",
                            "commands[2].client_order_id"})
    CHECK(metrics.find(fmt::format("field=\"{}\"", field)) != std::string::npos);
}

TEST_CASE("each new external strategy, as a worker's start or rebuild makes, begins with strategy.reset",
          "[integration][external]") {
  natsio::Library lib;
  testsupport::NatsServer server(false, true);
  Responder program(server, {"{}", "{}", "{}", "{}"});
  Worker w(server);
  {
    auto first = w.runner("js");
    first.on_market(quote(kT0), 1);
  }
  auto again = w.runner("js");  // the worker started again: the whole log once more
  again.on_market(quote(kT0), 1);
  const auto seen = program.seen();
  REQUIRE(seen.size() == 4);
  CHECK(seen[0] == R"({"type":"strategy.reset","v":1,"strategy_id":"js"})");
  CHECK(seen[2] == seen[0]);
  CHECK(seen[3] == seen[1]);  // the same event, the same request: n counts from the reset
}

TEST_CASE("an unanswered request is asked again with the same n and never skipped, and stop() ends the wait",
          "[integration][external]") {
  natsio::Library lib;
  testsupport::NatsServer server(false, true);
  Worker w(server);
  SECTION("no responder yet, then one that ignores the first ask") {
    auto run = w.runner("js", {{"timeout", "100ms"}});
    std::size_t commands = 0;
    std::thread t([&] { commands = run.on_market(quote(kT0), 1).size(); });
    // The program comes up only while the worker is asking (no responders meanwhile,
    // retried); it then leaves one event request unanswered (timeout, asked again).
    while (external(run).retries() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    Responder program(server, {"{}", "", R"({"commands":[)" + kSubmit + "]}"});
    t.join();
    CHECK(commands == 1);
    const auto seen = program.seen();
    REQUIRE(seen.size() == 3);
    CHECK(seen[1] == seen[2]);  // the same request again: the same n
    CHECK(seen[1].find(R"("n":1,)") != std::string::npos);
    CHECK(external(run).retries() >= 2);
  }
  SECTION("stop() while nobody answers") {
    auto run = w.runner("js", {{"timeout", "100ms"}});
    bool stopped = false;
    std::thread t([&] {
      try {
        run.on_market(quote(kT0), 1);
      } catch (const services::ExternalStopped&) {
        stopped = true;
      }
    });
    w.link->stop();
    t.join();
    CHECK(stopped);
  }
}
