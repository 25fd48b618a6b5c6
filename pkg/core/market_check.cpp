#include "core/market_check.hpp"

#include <fmt/format.h>

namespace core {
namespace {

std::optional<std::string> prices(const Quote& q) {
  if (q.bid > q.ask) return fmt::format("crossed quote: bid {} above ask {}", q.bid, q.ask);
  return std::nullopt;
}

std::optional<std::string> prices(const Trade&) { return std::nullopt; }

std::optional<std::string> prices(const Bar& b) {
  if (b.high < b.low) return fmt::format("inconsistent bar: high {} below low {}", b.high, b.low);
  if (b.open > b.high) return fmt::format("inconsistent bar: open {} above high {}", b.open, b.high);
  if (b.open < b.low) return fmt::format("inconsistent bar: open {} below low {}", b.open, b.low);
  if (b.close > b.high) return fmt::format("inconsistent bar: close {} above high {}", b.close, b.high);
  if (b.close < b.low) return fmt::format("inconsistent bar: close {} below low {}", b.close, b.low);
  return std::nullopt;
}

}  // namespace

std::optional<std::string> MarketCheck::check(const MarketData& md) {
  return std::visit(
      [&](const auto& x) -> std::optional<std::string> {
        auto [it, fresh] = last_ts_.try_emplace(x.symbol, x.ts_event);
        if (!fresh) {
          if (x.ts_event < it->second)
            return fmt::format("ts_event {} steps back from {} ({})", x.ts_event, it->second, x.symbol);
          it->second = x.ts_event;
        }
        return prices(x);
      },
      md);
}

}  // namespace core
