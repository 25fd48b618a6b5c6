// Instruments derived from data (marketdata/derive.hpp): in memory, and on the real files
// (expected decimals counted independently with Python's decimal module).
#include "marketdata/derive.hpp"

#include <cstdlib>
#include <filesystem>

#include <catch2/catch.hpp>

using core::Decimal;
using marketdata::DerivedInstrument;

namespace {

Decimal dec(std::string_view text) {
  const auto d = Decimal::parse(text);
  REQUIRE(d.has_value());
  return *d;
}

std::string shared(const char* file) {
  if (const char* env = std::getenv("TRADER_SHARED_DATA"); env != nullptr && *env != '\0')
    return std::string(env) + "/" + file;
  return std::string(TRADER_SOURCE_DIR "/../shared/data/") + file;
}

}  // namespace

TEST_CASE("fractional digits are those of the exact value, trailing zeros aside", "[derive]") {
  CHECK(marketdata::fractional_digits(dec("1.38725")) == 5);
  CHECK(marketdata::fractional_digits(dec("1.50000")) == 1);
  CHECK(marketdata::fractional_digits(dec("9682")) == 0);
  CHECK(marketdata::fractional_digits(dec("0.00000001")) == 8);
  CHECK(marketdata::fractional_digits(dec("-0.25")) == 2);
  CHECK(marketdata::fractional_digits(dec("0")) == 0);
}

TEST_CASE("a symbol's tick is 10^-d of its most precise price, its lot 10^-d of its sizes, none without sizes",
          "[derive]") {
  marketdata::InstrumentDeriver d;
  d.add(core::Quote{.symbol = "NZDUSD", .bid = dec("0.8612"), .ask = dec("0.86135"), .ts_event = 1});
  d.add(core::Trade{.symbol = "XRPETH", .price = dec("0.0011"), .size = dec("150"), .ts_event = 1});
  d.add(core::Trade{.symbol = "XRPETH", .price = dec("0.00112"), .size = dec("20.5"), .ts_event = 2});
  d.add(core::Bar{.symbol = "AAPL", .open = dec("120"), .high = dec("121.5"), .low = dec("119.25"),
                  .close = dec("120"), .volume = dec("1000"), .ts_event = 1});
  d.add(core::Quote{.symbol = "IBM", .bid = dec("178"), .ask = dec("178.01"), .bid_size = dec("100"),
                    .ask_size = dec("300"), .ts_event = 1});
  const auto got = d.instruments();
  REQUIRE(got.size() == 4);
  CHECK(got[0] == DerivedInstrument{.symbol = "AAPL", .tick_size = dec("0.01"), .lot_size = dec("1"),
                                    .price_decimals = 2, .size_decimals = 0});
  CHECK(got[1] == DerivedInstrument{.symbol = "IBM", .tick_size = dec("0.01"), .lot_size = dec("1"),
                                    .price_decimals = 2, .size_decimals = 0});
  CHECK(got[2] == DerivedInstrument{.symbol = "NZDUSD", .tick_size = dec("0.00001"), .price_decimals = 5});
  CHECK(got[3] == DerivedInstrument{.symbol = "XRPETH", .tick_size = dec("0.00001"), .lot_size = dec("0.1"),
                                    .price_decimals = 5, .size_decimals = 1});
  CHECK(marketdata::to_string(got[2]) == "NZDUSD tick 0.00001, lot none");
  CHECK(marketdata::to_string(got[3]) == "XRPETH tick 0.00001, lot 0.1");
}

TEST_CASE("instruments derived from the real files have the decimals the files show", "[derive]") {
  const auto eur = marketdata::derive_instruments(shared("quotes_EURUSD_2014-05-06.csv"));
  REQUIRE(eur.size() == 1);
  CHECK(marketdata::to_string(eur[0]) == "EURUSD tick 0.00001, lot none");
  const auto btc = marketdata::derive_instruments(shared("trades_BTCUSDT_2020-02-22.csv"));
  REQUIRE(btc.size() == 1);
  CHECK(marketdata::to_string(btc[0]) == "BTCUSDT tick 0.01, lot 0.001");
  const auto gbp = marketdata::derive_instruments(shared("bars_1m_GBPUSD_2012-02-01_to_14.csv"));
  REQUIRE(gbp.size() == 1);
  CHECK(marketdata::to_string(gbp[0]) == "GBPUSD tick 0.00001, lot none");
  const auto daily = marketdata::derive_instruments(shared("bars_1d_SPY_IBM_BAC_1998-2021.csv"));
  REQUIRE(daily.size() == 3);
  for (const auto& d : daily) CHECK(marketdata::to_string(d) == d.symbol + " tick 0.0001, lot 1");
  const auto ibm = marketdata::derive_instruments(shared("quotes_IBM_2013-10-08.csv"));
  REQUIRE(ibm.size() == 1);
  CHECK(marketdata::to_string(ibm[0]) == "IBM tick 0.01, lot 1");
}
