#include "marketdata/derive.hpp"

#include <algorithm>

#include <fmt/format.h>


namespace marketdata {

std::string to_string(const DerivedInstrument& d) {
  return fmt::format("{} tick {}, lot {}", d.symbol, d.tick_size, d.lot_size ? d.lot_size->to_string() : "none");
}

int fractional_digits(core::Decimal d) noexcept {
  auto raw = d.raw();
  if (raw < 0) raw = -raw;
  int digits = core::Decimal::kScale;
  while (digits > 0 && raw % 10 == 0) {
    raw /= 10;
    --digits;
  }
  return digits;
}

namespace {
/// 10^-digits as an exact decimal (digits 0..8).
core::Decimal step(int digits) {
  core::Decimal::Raw raw = core::Decimal::kOne;
  for (int i = 0; i < digits; ++i) raw /= 10;
  return core::Decimal::from_raw(raw);
}
}  // namespace

void InstrumentDeriver::add(const core::MarketData& md) {
  std::visit(
      [&](const auto& x) {
        auto& s = seen_[x.symbol];
        auto price = [&](core::Decimal p) { s.price = std::max(s.price, fractional_digits(p)); };
        auto size = [&](core::Decimal q) { s.size = std::max(s.size.value_or(0), fractional_digits(q)); };
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, core::Quote>) {
          price(x.bid);
          price(x.ask);
          if (x.bid_size) size(*x.bid_size);
          if (x.ask_size) size(*x.ask_size);
        } else if constexpr (std::is_same_v<T, core::Trade>) {
          price(x.price);
          size(x.size);
        } else {
          for (const auto p : {x.open, x.high, x.low, x.close}) price(p);
          if (x.volume) size(*x.volume);
        }
      },
      md);
}

std::vector<DerivedInstrument> InstrumentDeriver::instruments() const {
  std::vector<DerivedInstrument> out;
  out.reserve(seen_.size());
  for (const auto& [symbol, s] : seen_) {
    DerivedInstrument d{.symbol = symbol, .tick_size = step(s.price), .price_decimals = s.price, .size_decimals = s.size};
    if (s.size) d.lot_size = step(*s.size);
    out.push_back(std::move(d));
  }
  return out;
}

std::vector<DerivedInstrument> derive_instruments(const std::string& path, std::int64_t limit,
                                                  const quality::Policy& policy) {
  quality::CheckedReader reader(path, policy);
  InstrumentDeriver deriver;
  std::int64_t n = 0;
  while (limit == 0 || n < limit) {
    auto row = reader.next();
    if (!row) break;
    for (const auto& md : row->records) {
      if (limit != 0 && n >= limit) break;
      deriver.add(md);
      ++n;
    }
  }
  return deriver.instruments();
}

}  // namespace marketdata
