// decode_market: a fresh decode's result, or, for the event being handled in-process,
// the one the bus decoded once for every worker; and the bus's shared events.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include <fmt/format.h>

#include "codec/codec.hpp"
#include "workers/log_input.hpp"
#include "core/time.hpp"
#include "workers/memory_bus.hpp"
#include "workers/runtime.hpp"

namespace {

std::string quote_json(const std::string& symbol, int i) {
  return fmt::format(R"({{"type":"quote","v":1,"symbol":"{}","bid":"{}.{:02}","ask":"{}.{:02}","ts_event":{}}})",
                     symbol, 100 + i / 100, i % 100, 101 + i / 100, i % 100, 1381219200000000000LL + i);
}

/// decode_market's answer as text, for comparing: the data, or the error's field.
std::string outcome(const core::Result<core::MarketData>& r) {
  if (!r) return "error on " + r.error().field;
  return std::visit([](const auto& x) { return codec::encode(x); }, *r);
}

/// What a decoder that has seen nothing else answers.
std::string fresh(std::string_view subject, std::string_view data) {
  codec::Decoder dec;
  return outcome(services::decode_market_value(dec, natsio::Message{subject, data, {}}));
}

}  // namespace

TEST_CASE("decode_market refuses market data whose symbol is not the subject's, and names a bad field") {
  codec::Decoder dec;
  auto decode = [&](std::string_view subject, std::string_view data) {
    return outcome(services::decode_market(dec, natsio::Message{subject, data, {}}));
  };
  const auto ibm = quote_json("IBM", 7);

  SECTION("the same bytes on another subject are refused on symbol, and accepted on their own") {
    const auto first = decode("market.data.IBM", ibm);
    CHECK(first.starts_with(R"({"type":"quote")"));
    CHECK(decode("market.data.MSFT", ibm) == "error on symbol");
    CHECK(decode("market.data.IBM", ibm) == first);
    CHECK(decode("market.data.MSFT", ibm) == "error on symbol");
  }

  SECTION("a refused message stays refused, with its field") {
    const std::string bad = R"({"type":"quote","v":1,"symbol":"IBM","bid":"abc","ask":"1","ts_event":1})";
    const auto want = fresh("market.data.IBM", bad);
    CHECK(want == "error on bid");
    CHECK(decode("market.data.IBM", bad) == want);
    CHECK(decode("market.data.IBM", bad) == want);
    CHECK(decode("market.data.IBM", "{") == fresh("market.data.IBM", "{"));
  }
}

TEST_CASE("decode_market takes the bus's decode of the very event being handled, and parses anything else") {
  codec::Decoder dec;
  const auto json = quote_json("IBM", 3);
  // A planted result, different from what the bytes say: seeing it proves the bytes were not parsed.
  services::SharedEvent ev{"market.data.IBM", json, core::Result<core::MarketData>(core::make_error("planted", "x"))};
  const natsio::Message own{ev.subject, ev.data, {}};
  const std::string copy = json;  // equal bytes elsewhere
  const natsio::Message other{ev.subject, copy, {}};
  {
    const services::HandlingShared scope(&ev);
    CHECK(outcome(services::decode_market(dec, own)) == "error on planted");
    CHECK(outcome(services::decode_market(dec, other)) == fresh(ev.subject, json));
    {
      const services::HandlingShared inner(nullptr);  // nested: nothing handled
      CHECK(outcome(services::decode_market(dec, own)) == fresh(ev.subject, json));
    }
    CHECK(outcome(services::decode_market(dec, own)) == "error on planted");
  }
  CHECK(outcome(services::decode_market(dec, own)) == fresh(ev.subject, json));
  services::SharedEvent undecoded{"market.data.IBM", json, std::nullopt};
  const services::HandlingShared scope(&undecoded);
  CHECK(outcome(services::decode_market(dec, natsio::Message{undecoded.subject, undecoded.data, {}})) ==
        fresh(ev.subject, json));
}

TEST_CASE("the in-process bus hands every follower one shared copy, market data decoded as a worker would") {
  services::MemoryBus bus(true);
  core::SystemClock clock;
  services::Runtime rt(bus, "test", clock, 0);
  std::vector<std::shared_ptr<const services::SharedEvent>> held;
  auto keep = [&](const services::LogEvent& e) {
    // What a follower is handed views the shared copy.
    CHECK(e.subject.data() == e.shared->subject.data());
    CHECK(e.data.data() == e.shared->data.data());
    held.push_back(e.shared);
  };
  auto a = bus.follow(rt, nullptr, "EVENTS", 0, keep);
  auto b = bus.follow(rt, nullptr, "EVENTS", 0, keep);
  a->open(0);
  b->open(0);
  const auto good = quote_json("IBM", 1);
  const std::string bad = R"({"type":"quote","v":1,"symbol":"IBM","bid":"-","ask":"1","ts_event":1})";
  bus.publish("market.data.IBM", good);
  bus.publish("market.data.BAC", good);  // the symbol does not match the subject
  bus.publish("market.data.IBM", bad);
  bus.publish("trading.orders", R"({"type":"order.submit"})");
  bus.run();
  REQUIRE(held.size() == 8);
  for (std::size_t i = 0; i < 4; ++i) CHECK(held[2 * i] == held[2 * i + 1]);  // one copy for both followers
  auto market = [&](std::size_t i) { return outcome(*held[2 * i]->market); };
  CHECK(market(0) == fresh("market.data.IBM", good));
  CHECK(market(1) == "error on symbol");
  CHECK(market(2) == fresh("market.data.IBM", bad));
  CHECK_FALSE(held[6]->market);
  CHECK(held[6]->data == R"({"type":"order.submit"})");
}
