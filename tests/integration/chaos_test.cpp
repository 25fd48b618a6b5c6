// Issue 11, chaos: every worker, the strategy included, is killed with SIGKILL in turn
// in the middle of a real-data session and started again. Trading goes on: the
// strategy numbers its orders after the last one it sent (once its ids started again
// at 1 and risk-state denied every later order as a duplicate), every order is
// decided, nothing is lost or doubled in the store, and the chain verifies.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "codec/codec.hpp"
#include "marketdata/reader.hpp"
#include "stack.hpp"

namespace {

/// The first `n` quote lines of the real IBM file, as the feed publishes them.
std::vector<std::string> ibm_quotes(std::size_t n) {
  std::vector<std::string> out;
  marketdata::Reader reader(testsupport::shared_data_dir() + "/quotes_IBM_2013-10-08.csv");
  while (out.size() < n) {
    auto r = reader.next();
    if (!r) break;
    if (*r && std::holds_alternative<core::Quote>(r->value()))
      out.push_back(codec::encode(std::get<core::Quote>(r->value())));
  }
  return out;
}

}  // namespace

TEST_CASE("kill -9 of every worker in turn, the strategy included: trading goes on, nothing is lost or doubled "
          "(issue 11)",
          "[integration][chaos]") {
  itest::nats_library();
  itest::Stack stack(std::vector<std::pair<std::string, std::string>>{
      {"STRATEGY_FAST", "3"}, {"STRATEGY_SLOW", "8"}, {"STRATEGY_QUANTITY", "100"}});
  stack.start();
  natsio::Connection feed({.url = stack.nats_url("feed"), .name = "chaos-feed"});
  const auto quotes = ibm_quotes(7000);
  REQUIRE(quotes.size() == 7000);
  const std::vector<std::string> victims = {"strategy", "risk-state", "execution", "reporter", "recorder", "ops",
                                            "strategy"};
  const std::size_t chunk = quotes.size() / (victims.size() + 1);
  std::size_t sent = 0;
  auto send = [&](std::size_t n) {
    for (std::size_t i = 0; i < n && sent < quotes.size(); ++i, ++sent)
      REQUIRE(feed.publish("market.data.IBM", quotes[sent]));
    feed.flush();
    REQUIRE(stack.run({itest::bin("traderctl"), "wait-idle", "--quiet-ms", "500", "--timeout-s", "120"}) == 0);
  };
  for (const auto& w : victims) {
    send(chunk);
    INFO("killing " << w);
    stack.worker(w).kill_hard();
    stack.restart(w);
  }
  send(quotes.size());

  eventstore::PgStore store(stack.reader_url());
  itest::wait_recorded(stack, store);
  std::map<std::string, int> submits;            // the strategy's order ids
  std::set<std::string> decided;                 // ids with an execution report
  std::map<std::string, int> exec_ids;
  int duplicate_denials = 0, quotes_stored = 0;
  for (const auto& e : itest::read_all(store)) {
    if (e.subject == "market.data.IBM") ++quotes_stored;
    if (e.subject == "trading.orders" && e.type == "order.submit") ++submits[e.client_order_id.value_or("")];
    if (e.type == "execution_report") {
      decided.insert(e.client_order_id.value_or(""));
      const auto er = codec::decode_execution_report(e.payload);
      if (er) ++exec_ids[er->exec_id];
      duplicate_denials += itest::payload_has(e.payload, "exec_type", "denied") &&
                           e.payload.find("duplicate client_order_id") != std::string::npos;
    }
  }
  CHECK(quotes_stored == 7000);  // nothing lost, nothing twice
  for (const auto& [id, n] : exec_ids) {
    INFO(id);
    CHECK(n == 1);  // no report twice (none filled twice)
  }
  REQUIRE(submits.size() >= 10);  // the strategy traded
  CHECK(duplicate_denials == 0);
  for (const auto& [id, n] : submits) {
    INFO(id);
    CHECK(n == 1);                   // a restarted strategy never reuses an id
    CHECK(decided.contains(id));     // and every order was decided
  }
  // The strategy numbered on after each restart: its last order is numbered by the count.
  CHECK(submits.contains(fmt::format("ma_cross-IBM-{}", submits.size())));
  CHECK_THAT(stack.worker("strategy").log(), Catch::Contains("orders not final"));  // "rebuilt from ...; N orders not final"
  for (const auto* w : {"recorder", "ops", "risk-state", "execution", "reporter", "strategy"}) {
    INFO(w);
    CHECK(stack.worker(w).running());
  }
  std::string out;
  const int rc = stack.run({itest::bin("traderctl"), "verify"}, &out);
  INFO(out);
  CHECK(rc == 0);
}

TEST_CASE("NATS stopped for 60 s mid-session: every worker reconnects, nothing accepted is lost, every order is "
          "decided and the recorder catches up (issue 11)",
          "[integration][chaos][outage]") {
  itest::nats_library();
  itest::Stack stack(std::vector<std::pair<std::string, std::string>>{
      {"STRATEGY_FAST", "3"}, {"STRATEGY_SLOW", "8"}, {"STRATEGY_QUANTITY", "100"}});
  stack.start();
  const auto quotes = ibm_quotes(4000);
  REQUIRE(quotes.size() == 4000);
  auto send = [&](std::size_t from, std::size_t to) {
    natsio::Connection feed({.url = stack.nats_url("feed"), .name = "outage-feed"});
    for (std::size_t i = from; i < to; ++i) REQUIRE(feed.publish("market.data.IBM", quotes[i]));
    feed.flush();
    REQUIRE(stack.run({itest::bin("traderctl"), "wait-idle", "--quiet-ms", "500", "--timeout-s", "120"}) == 0);
  };
  send(0, 2000);

  stack.nats().stop();
  std::this_thread::sleep_for(std::chrono::seconds(60));
  stack.nats().start();
  // Every worker is back: ops hears each one's heartbeat again.
  int rc = -1;
  std::string out;
  for (int i = 0; i < 600 && rc != 0; ++i) {
    rc = stack.run({itest::bin("traderctl"), "status"}, &out);
    if (rc != 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  INFO(out);
  REQUIRE(rc == 0);
  // JetStream is back too: a person's order is captured by the INPUTS stream, and one
  // published while that stream is not yet recovered is lost unanswered (a known limit,
  // docs/scaling.md): a person sees no answer to `nats req` and sends it again.
  {
    natsio::Connection admin({.url = stack.nats_url(), .name = "test-admin"});
    natsio::JetStream js(admin);
    REQUIRE(itest::until(std::chrono::seconds(60), [&] {
      try {
        (void)js.stream_state("INPUTS");
        (void)js.stream_state("EVENTS");
        return true;
      } catch (const natsio::NatsError&) {
        return false;
      }
    }));
  }
  // A person's order right after the outage is decided; so is everything after it.
  REQUIRE(stack.run({itest::bin("traderctl"), "pub", "trading.orders",
                     R"({"type":"order.submit","client_order_id":"after-outage","symbol":"IBM","side":"buy","order_type":"market","quantity":"100"})"}) == 0);
  send(2000, 4000);

  eventstore::PgStore store(stack.reader_url());
  itest::wait_recorded(stack, store);
  int quotes_stored = 0, person_reports = 0;
  std::map<std::string, int> submits;
  std::set<std::string> decided;
  for (const auto& e : itest::read_all(store)) {
    if (e.subject == "market.data.IBM") ++quotes_stored;
    if (e.subject == "trading.orders" && e.type == "order.submit") ++submits[e.client_order_id.value_or("")];
    if (e.type == "execution_report") {
      decided.insert(e.client_order_id.value_or(""));
      person_reports += e.client_order_id == std::optional<std::string>("after-outage");
    }
  }
  CHECK(quotes_stored == 4000);
  CHECK(person_reports >= 1);
  REQUIRE(submits.size() >= 2);
  for (const auto& [id, n] : submits) {
    INFO(id);
    CHECK(n == 1);
    CHECK(decided.contains(id));
  }
  for (const auto* w : {"recorder", "ops", "risk-state", "execution", "reporter", "strategy"}) {
    INFO(w);
    CHECK(stack.worker(w).running());
    CHECK_THAT(stack.worker(w).log(), Catch::Contains("NATS reconnected"));
  }
  const int vrc = stack.run({itest::bin("traderctl"), "verify"}, &out);
  INFO(out);
  CHECK(vrc == 0);
}

namespace {

/// VmRSS of process `pid` in KiB (0 if unknown).
long rss_kib(pid_t pid) {
  std::ifstream in(fmt::format("/proc/{}/status", pid));
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  return 0;
}

}  // namespace

TEST_CASE("a burst of 100,000 hostile messages stops no worker, and RSS before and after is reported (issue 11)",
          "[integration][chaos][burst]") {
  itest::nats_library();
  itest::Stack stack;
  stack.start();
  const std::vector<std::string> workers = {"recorder", "ops", "risk-state", "execution", "reporter", "strategy"};
  std::map<std::string, long> before;
  for (const auto& w : workers) before[w] = rss_kib(stack.worker(w).pid());

  // 50,000 from a person on trading.orders, 50,000 from the feed's identity on market data:
  // malformed JSON, wrong types, huge and negative numbers, long and control-character ids,
  // crossed and backward quotes, 64 KiB strings.
  natsio::Connection person({.url = stack.nats_url("operator"), .name = "burst-person"});
  natsio::Connection feed({.url = stack.nats_url("feed"), .name = "burst-feed"});
  const std::string big(60'000, 'x');
  for (int i = 0; i < 50'000; ++i) {
    std::string order;
    switch (i % 6) {
      case 0: order = "{not json"; break;
      case 1: order = fmt::format(R"({{"type":"order.submit","client_order_id":"b-{}","symbol":"IBM","side":"buy","order_type":"market","quantity":"90000000000000"}})", i); break;
      case 2: order = fmt::format(R"({{"type":"order.submit","client_order_id":"{}","symbol":"IBM","side":"buy","order_type":"market","quantity":"1"}})", big); break;
      case 3: order = fmt::format(R"({{"type":"order.submit","client_order_id":"b\u0001{}","symbol":"IBM","side":"buy","order_type":"market","quantity":"1"}})", i); break;
      case 4: order = fmt::format(R"({{"type":"order.cancel","client_order_id":"nope-{}"}})", i); break;
      default: order = fmt::format(R"({{"type":"order.submit","client_order_id":"b-{}","symbol":"IBM","side":"sideways","order_type":"market","quantity":-1}})", i);
    }
    REQUIRE(person.publish("trading.orders", order));
    std::string quote;
    switch (i % 5) {
      case 0: quote = R"({"type":"quote","symbol":"IBM","bid":"-5","ask":"-4","ts_event":1381237200000000000})"; break;
      case 1: quote = R"({"type":"quote","symbol":"IBM","bid":"20","ask":"10","ts_event":1381237200000000000})"; break;
      case 2: quote = fmt::format(R"({{"type":"quote","symbol":"IBM","bid":"180","ask":"181","ts_event":{}}})", 1381237200000000000 - i); break;
      case 3: quote = R"({"type":"quote","symbol":"IBM","bid":"1e400","ask":[],"ts_event":"soon"})"; break;
      default: quote = fmt::format(R"({{"type":"trade","symbol":"IBM","price":"180","size":"1","trade_id":"{}","ts_event":1}})", big);
    }
    REQUIRE(feed.publish("market.data.IBM", quote));
  }
  person.flush();
  feed.flush();
  REQUIRE(stack.run({itest::bin("traderctl"), "wait-idle", "--quiet-ms", "1000", "--timeout-s", "300"}) == 0);
  std::string report = "RSS (KiB) before -> after 100,000 hostile messages:";
  for (const auto& w : workers) {
    INFO(w);
    CHECK(stack.worker(w).running());
    report += fmt::format(" {} {} -> {};", w, before[w], rss_kib(stack.worker(w).pid()));
  }
  WARN(report);
  std::string out;
  CHECK(stack.run({itest::bin("traderctl"), "status"}, &out) == 0);  // refused, flagged: nothing quarantined
  INFO(out);
}

TEST_CASE("risk-state cut off the bus while orders arrive decides each of them once it is back, at its place in the "
          "log, without a restart (issue 11)",
          "[integration][chaos][partition]") {
  itest::nats_library();
  itest::Stack stack(std::vector<std::pair<std::string, std::string>>{{"RISK_MAX_ORDER_QTY", "1000"}});
  stack.start({"recorder", "ops", "execution", "reporter"});
  // risk-state reaches nats-server through a proxy we can cut: a partition of
  // risk-state alone, while the server, the stream and every other client go on.
  testsupport::TcpProxy proxy(stack.nats().port());
  auto env = stack.env_for("risk-state");
  for (auto& [k, v] : env)
    if (k == "NATS_URL") v.replace(v.rfind(':'), std::string::npos, fmt::format(":{}", proxy.port()));
  testsupport::Process risk({itest::bin("risk-state")}, env, stack.dir() + "/risk-state-proxied.log");
  natsio::Connection admin({.url = stack.nats_url(), .name = "partition-admin"});
  for (int i = 0; i < 300; ++i) {
    try {
      (void)admin.request("ops.ping.risk-state", "", 200);
      break;
    } catch (const natsio::NatsError&) {
      REQUIRE(risk.running());
    }
  }
  itest::Tap tap(stack.nats_url());
  natsio::Connection feed({.url = stack.nats_url("feed"), .name = "partition-feed"});
  natsio::Connection desk({.url = stack.nats_url("operator"), .name = "partition-desk"});
  const auto quotes = ibm_quotes(30);
  REQUIRE(quotes.size() == 30);
  auto order = [](const std::string& id, int qty) {
    return fmt::format(R"({{"type":"order.submit","client_order_id":"{}","symbol":"IBM","side":"buy",)"
                       R"("order_type":"market","quantity":"{}"}})",
                       id, qty);
  };
  for (int i = 0; i < 10; ++i) REQUIRE(feed.publish("market.data.IBM", quotes[i]));
  feed.flush();
  REQUIRE(desk.publish("trading.orders", order("before-cut", 100)));
  desk.flush();
  REQUIRE(!tap.wait_for("trading.orders.approved", {"before-cut"}).empty());

  proxy.cut();
  for (int i = 10; i < 20; ++i) REQUIRE(feed.publish("market.data.IBM", quotes[i]));
  feed.flush();
  REQUIRE(desk.publish("trading.orders", order("during-cut-1", 100)));
  REQUIRE(desk.publish("trading.orders", order("during-cut-2", 5000)));  // over max_order_qty: denied
  desk.flush();
  for (int i = 20; i < 30; ++i) REQUIRE(feed.publish("market.data.IBM", quotes[i]));
  feed.flush();
  // Long enough for the server to drop risk-state's connection and its ordered
  // consumer (inactive), and for the recorder to store and acknowledge the orders.
  std::this_thread::sleep_for(std::chrono::seconds(8));
  for (const auto& m : tap.messages()) {
    INFO(m.subject << " " << m.data);
    const bool decided_while_cut = m.data.find("during-cut") != std::string::npos && m.subject != "trading.orders.by.operator";
    CHECK_FALSE(decided_while_cut);
  }
  proxy.restore();

  // Each is decided once risk-state is back, stamped with the market time of the
  // last quote before it in the log (quote 20), not of what came after.
  const auto restored_at = std::chrono::steady_clock::now();
  auto wait_long = [&](const std::string& subject, const std::vector<std::string>& needles) {
    std::string found;
    for (int i = 0; i < 6 && found.empty(); ++i) found = tap.wait_for(subject, needles);  // 10 s each
    return found;
  };
  const auto approved = wait_long("trading.orders.approved", {"during-cut-1"});
  const auto denied = wait_long("trading.executions", {"during-cut-2", "\"denied\""});
  WARN("decided " << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - restored_at).count()
                  << " ms after the partition ended");
  INFO(risk.log());
  REQUIRE(!approved.empty());
  REQUIRE(!denied.empty());
  codec::Decoder dec;
  const auto q20 = dec.decode_market_data(quotes[19]);
  REQUIRE(q20);
  const auto q20_ts = std::get<core::Quote>(*q20).ts_event;
  const auto a = dec.decode_order_command(approved);
  REQUIRE(a);
  CHECK(std::get<core::OrderSubmit>(*a).ts_event == q20_ts);
  // A request after the partition gets its answer (its reply subject travels on core
  // NATS, the decision on the stream).
  const auto reply = desk.request("trading.orders", order("after-cut", 100), 10'000);
  CHECK_THAT(reply, Catch::Contains("after-cut") && Catch::Contains("order.submit"));
  // Once each, by the same process: it reconnected, it did not restart.
  int approvals = 0;
  for (const auto& m : tap.messages())
    if (m.subject == "trading.orders.approved" && m.data.find("during-cut-1") != std::string::npos) ++approvals;
  CHECK(approvals == 1);
  CHECK(risk.running());
  CHECK_THAT(risk.log(), Catch::Contains("NATS reconnected to nats://risk-state:***@"));
  // The password is never logged (it was, in the reconnect line).
  const auto url = stack.nats_url("risk-state");
  const auto password = url.substr(url.find(':', 7) + 1, url.rfind('@') - url.find(':', 7) - 1);
  REQUIRE(password.size() >= 16);
  CHECK(risk.log().find(password) == std::string::npos);
  CHECK(proxy.accepted() >= 2);
  risk.terminate();
}
