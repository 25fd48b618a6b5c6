// Issue 11, chaos: every worker, the strategy included, is killed with SIGKILL in turn
// in the middle of a real-data session and started again. Trading goes on: the
// strategy numbers its orders after the last one it sent (once its ids started again
// at 1 and risk-state denied every later order as a duplicate), every order is
// decided, nothing is lost or doubled in the store, and the chain verifies.
#include <catch2/catch.hpp>

#include <map>
#include <set>

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

bool has(const std::string& payload, const std::string& key, const std::string& value) {
  return payload.find(fmt::format(R"("{}": "{}")", key, value)) != std::string::npos ||
         payload.find(fmt::format(R"("{}":"{}")", key, value)) != std::string::npos;
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
      duplicate_denials += has(e.payload, "exec_type", "denied") &&
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
  CHECK_THAT(stack.worker("strategy").log(), Catch::Contains("IBM: "));  // "rebuilt ...; IBM: N orders sent"
  for (const auto* w : {"recorder", "ops", "risk-state", "execution", "reporter", "strategy"}) {
    INFO(w);
    CHECK(stack.worker(w).running());
  }
  std::string out;
  const int rc = stack.run({itest::bin("traderctl"), "verify"}, &out);
  INFO(out);
  CHECK(rc == 0);
}
