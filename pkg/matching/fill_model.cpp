#include "matching/fill_model.hpp"

#include <cstdlib>
#include <limits>

namespace matching {
namespace {

using i128 = __int128;

i128 floor_div(i128 a, i128 b) {  // b > 0
  i128 q = a / b;
  if (a % b != 0 && a < 0) --q;
  return q;
}
i128 ceil_div(i128 a, i128 b) {  // b > 0
  i128 q = a / b;
  if (a % b != 0 && a > 0) ++q;
  return q;
}

/// A raw result as a Price; throws core::ArithmeticError beyond the Decimal range
/// (never wraps: decimal.hpp).
core::Price checked(i128 raw) {
  if (raw > core::Decimal::kMaxRaw || raw < -core::Decimal::kMaxRaw)
    throw core::ArithmeticError("matching: price out of range");
  return core::Price::from_raw(raw);
}

/// a * b of two raw values, throwing instead of wrapping.
i128 mul_raw(i128 a, i128 b) {
  i128 r;
  if (__builtin_mul_overflow(a, b, &r)) throw core::ArithmeticError("matching: price x factor out of range");
  return r;
}

}  // namespace

core::Price round_up_to(core::Price px, core::Price step) {
  return checked(mul_raw(ceil_div(px.raw(), step.raw()), step.raw()));
}

core::Price round_down_to(core::Price px, core::Price step) {
  return checked(mul_raw(floor_div(px.raw(), step.raw()), step.raw()));
}

FillModel::FillModel(core::Decimal slippage_bps, core::Decimal prob_slippage, core::Decimal prob_fill_on_limit,
                     std::uint64_t seed) noexcept
    : slippage_bps_(slippage_bps), prob_slippage_(prob_slippage), prob_fill_on_limit_(prob_fill_on_limit), rng_(seed) {}

bool FillModel::chance(core::Decimal p) {
  if (!p.is_positive()) return false;
  if (p.raw() >= core::Decimal::kOne) return true;
  // P(draw < p x 2^64) = p, exactly up to the 10^-8 resolution of p.
  const auto threshold =
      static_cast<std::uint64_t>((static_cast<unsigned __int128>(p.raw()) << 64) / core::Decimal::kOne);
  ++draws_;
  return rng_.next() < threshold;
}

bool FillModel::fill_at_limit() { return chance(prob_fill_on_limit_); }

core::Price FillModel::slip(core::Price px, core::Side side, std::optional<core::Price> tick) {
  const bool buy = side == core::Side::buy;
  i128 raw = px.raw();
  if (slippage_bps_.is_positive()) {
    // offset = px x bps / 10000, exact as a fraction of raw units; rounded away from the trader.
    const i128 num = mul_raw(px.raw(), slippage_bps_.raw());
    const i128 den = static_cast<i128>(core::Decimal::kOne) * 10'000;
    const i128 offset = ceil_div(num < 0 ? -num : num, den);
    raw = buy ? raw + offset : raw - offset;
    if (tick)
      raw = mul_raw(buy ? ceil_div(raw, tick->raw()) : floor_div(raw, tick->raw()), tick->raw());
  }
  if (tick && chance(prob_slippage_)) raw += buy ? tick->raw() : -tick->raw();
  if (px.is_positive() && raw <= 0) raw = tick ? tick->raw() : 1;
  return checked(raw);
}

}  // namespace matching
