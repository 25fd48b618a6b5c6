/// @file helpers.hpp
/// @brief Small builders shared by the domain tests (test-only, not a library).
#pragma once

#include <charconv>
#include <fstream>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include "core/decimal.hpp"
#include "core/messages.hpp"
#include "core/time.hpp"

namespace domain_test {

/// The shared/data directory, with a trailing '/': $TRADER_SHARED_DATA if set,
/// else TRADER_SOURCE_DIR "/../shared/data/". Domain tests read real data with
/// this tiny splitter, not pkg/marketdata, so they depend on pure code only.
inline std::string shared_data_dir() {
  if (const char* env = std::getenv("TRADER_SHARED_DATA"); env && *env) {
    std::string dir = env;
    if (dir.back() != '/') dir += '/';
    return dir;
  }
  return std::string(TRADER_SOURCE_DIR) + "/../shared/data/";
}

/// Splits one CSV line (no quoting) at commas.
inline std::vector<std::string_view> split_csv(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= line.size(); ++i) {
    if (i == line.size() || line[i] == ',') {
      out.push_back(line.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

/// Exact decimal from text; aborts on a typo in a test literal.
inline core::Decimal dec(std::string_view text) {
  const auto d = core::Decimal::parse(text);
  if (!d) std::abort();
  return *d;
}

/// 2014-05-06T00:00:00Z, the EURUSD file's day.
inline constexpr core::TimestampNs kDay0 = 1'399'334'400'000'000'000;
inline constexpr core::TimestampNs kSec = core::kNsPerSecond;

inline core::Quote quote(std::string symbol, std::string_view bid, std::string_view ask,
                         core::TimestampNs ts) {
  return core::Quote{.symbol = std::move(symbol), .bid = dec(bid), .ask = dec(ask), .ts_event = ts};
}

inline core::Trade trade(std::string symbol, std::string_view price, core::TimestampNs ts) {
  return core::Trade{.symbol = std::move(symbol), .price = dec(price), .size = dec("1"), .ts_event = ts};
}

inline core::Bar bar(std::string symbol, std::string_view close, core::PriceType type,
                     core::TimestampNs ts) {
  const auto c = dec(close);
  return core::Bar{.symbol = std::move(symbol), .open = c, .high = c, .low = c, .close = c,
                   .price_type = type, .ts_event = ts};
}

/// A fill report as the broker would send it (only the fields portfolio/risk/strategy read).
inline core::ExecutionReport fill(std::string client_order_id, std::string symbol, core::Side side,
                                  std::string_view qty, std::string_view px, core::TimestampNs ts,
                                  std::string strategy_id = "") {
  return core::ExecutionReport{.client_order_id = std::move(client_order_id),
                               .exec_id = "x",
                               .exec_type = core::ExecType::fill,
                               .order_status = core::OrderStatus::filled,
                               .symbol = std::move(symbol),
                               .side = side,
                               .quantity = dec(qty),
                               .last_qty = dec(qty),
                               .last_px = dec(px),
                               .cum_qty = dec(qty),
                               .avg_px = dec(px),
                               .strategy_id = std::move(strategy_id),
                               .ts_event = ts};
}

/// The exec_types of a run of reports, in order (compared against a list in CHECKs).
inline std::vector<core::ExecType> types(const std::vector<core::ExecutionReport>& out) {
  std::vector<core::ExecType> t;
  for (const auto& r : out) t.push_back(r.exec_type);
  return t;
}

/// FIX quantity invariants on every report: cum_qty never above quantity,
/// cum_qty + leaves_qty == quantity while live, leaves_qty == 0 once terminal.
inline void check_quantities(const std::vector<core::ExecutionReport>& out) {
  for (const auto& r : out) {
    INFO(r.exec_id << " " << core::to_string(r.exec_type));
    CHECK(r.cum_qty <= r.quantity);
    if (core::is_terminal(r.order_status)) {
      CHECK(r.leaves_qty.is_zero());
    } else {
      CHECK(r.cum_qty + r.leaves_qty == r.quantity);
    }
  }
}

/// Quotes from a shared/data CSV with the header ts_event,symbol,bid,ask (REQUIREs each row).
inline std::vector<core::Quote> read_quotes(const std::string& path) {
  std::ifstream in(path);
  INFO("reading " << path << " (set TRADER_SHARED_DATA to the shared/data directory)");
  REQUIRE(in.is_open());
  std::vector<core::Quote> quotes;
  std::string line;
  std::getline(in, line);
  REQUIRE(line == "ts_event,symbol,bid,ask");
  while (std::getline(in, line)) {
    const auto f = domain_test::split_csv(line);
    REQUIRE(f.size() == 4);
    core::Quote q;
    const auto [p, ec] = std::from_chars(f[0].data(), f[0].data() + f[0].size(), q.ts_event);
    REQUIRE(ec == std::errc{});
    q.symbol = std::string(f[1]);
    q.bid = dec(f[2]);
    q.ask = dec(f[3]);
    quotes.push_back(std::move(q));
  }
  return quotes;
}

}  // namespace domain_test

/// Prints a list of exec_types in failed CHECKs as "[new fill ]".
namespace Catch {
template <>
struct StringMaker<std::vector<core::ExecType>> {
  static std::string convert(const std::vector<core::ExecType>& v) {
    std::string s = "[";
    for (auto e : v) s += std::string(core::to_string(e)) + " ";
    return s + "]";
  }
};
}  // namespace Catch

namespace Catch {
template <>
struct StringMaker<core::Decimal> {
  static std::string convert(core::Decimal d) { return d.to_string(); }
};
#define DOMAIN_TEST_ENUM_STRING(E) \
  template <>                      \
  struct StringMaker<E> {          \
    static std::string convert(E e) { return std::string(core::to_string(e)); } \
  };
DOMAIN_TEST_ENUM_STRING(core::Side)
DOMAIN_TEST_ENUM_STRING(core::OrderType)
DOMAIN_TEST_ENUM_STRING(core::TimeInForce)
DOMAIN_TEST_ENUM_STRING(core::ExecType)
DOMAIN_TEST_ENUM_STRING(core::OrderStatus)
DOMAIN_TEST_ENUM_STRING(core::TradingState)
#undef DOMAIN_TEST_ENUM_STRING
}  // namespace Catch
