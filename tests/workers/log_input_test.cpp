// decode_market: its results are those of a fresh decode, whatever it decoded before on
// the same thread (it keeps recent results by content, so that the workers of the
// in-process engine decode each quote once).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include <fmt/format.h>

#include "codec/codec.hpp"
#include "workers/log_input.hpp"

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
  return outcome(services::decode_market(dec, natsio::Message{subject, data, {}}));
}

}  // namespace

TEST_CASE("decode_market gives a fresh decode's result, whatever it decoded before on the thread") {
  codec::Decoder dec;
  auto decode = [&](std::string_view subject, std::string_view data) {
    return outcome(services::decode_market(dec, natsio::Message{subject, data, {}}));
  };
  const auto ibm = quote_json("IBM", 7);

  SECTION("the same bytes on another subject are refused on symbol, and accepted again on their own") {
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

  SECTION("many more messages than it keeps, in and out of order") {
    std::vector<std::string> msgs;
    for (int i = 0; i < 20'000; ++i) msgs.push_back(quote_json(i % 2 == 0 ? "IBM" : "BAC", i));
    std::vector<std::string> want;
    for (const auto& m : msgs)
      want.push_back(fresh(m.find("IBM") != std::string::npos ? "market.data.IBM" : "market.data.BAC", m));
    auto subject = [&](std::size_t i) { return i % 2 == 0 ? "market.data.IBM" : "market.data.BAC"; };
    for (int round = 0; round < 2; ++round)
      for (std::size_t i = 0; i < msgs.size(); ++i) REQUIRE(decode(subject(i), msgs[i]) == want[i]);
    for (std::size_t i = msgs.size(); i-- > 0;) REQUIRE(decode(subject(i), msgs[i]) == want[i]);
    // Each message right after a different one with the same slot or none: as a worker
    // four places behind another sees them.
    for (std::size_t i = 4; i < msgs.size(); ++i) {
      REQUIRE(decode(subject(i), msgs[i]) == want[i]);
      REQUIRE(decode(subject(i - 4), msgs[i - 4]) == want[i - 4]);
    }
  }
}
