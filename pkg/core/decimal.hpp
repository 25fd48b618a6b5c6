/// @file decimal.hpp
/// @brief Exact fixed-point decimal for prices, quantities and money.
///
/// A `Decimal` is an int64 count of 10^-8 units (8 fractional digits), like
/// Liquibook's integer `Price` and NautilusTrader's `Price{raw, precision}`.
/// Eight digits hold every price and size in shared/data (FX: 5, BTC sizes: 3,
/// equities: 4) and leave +-92,233,720,368 whole units of range.
/// Money is never a double: there is no conversion from or to floating point.
///
/// Errors: `parse` returns std::nullopt for anything that is not an exact
/// decimal within range (more than 8 fractional digits is an error, never a
/// silent rounding). Arithmetic overflow is a broken invariant and aborts
/// (STYLE.md section 6), since a wrapped price would be worse than a crash.
/// Thread-safety: a value type; all functions are pure and reentrant.
#pragma once

#include <cstdint>
#include <compare>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace core {

class Decimal {
 public:
  static constexpr int kScale = 8;                       ///< fractional digits
  static constexpr std::int64_t kOne = 100'000'000;      ///< raw value of 1

  constexpr Decimal() noexcept = default;
  /// From a raw count of 10^-8 units.
  static constexpr Decimal from_raw(std::int64_t raw) noexcept { Decimal d; d.raw_ = raw; return d; }
  /// From a whole number of units; aborts if out of range.
  static Decimal from_int(std::int64_t units);
  /// Parses "-12.345", "+1", "0.00000001", "1e-3" is NOT accepted (no exponents).
  /// Leading/trailing spaces are not accepted. Returns nullopt on any error.
  static std::optional<Decimal> parse(std::string_view text) noexcept;

  constexpr std::int64_t raw() const noexcept { return raw_; }
  /// Shortest exact text: no trailing fractional zeros, "0" for zero, "-" sign.
  std::string to_string() const;
  /// Writes to_string() into out (no allocation if out has capacity); returns chars written.
  std::size_t write(char* out) const noexcept;  // out needs >= 32 bytes

  constexpr bool is_zero() const noexcept { return raw_ == 0; }
  constexpr bool is_positive() const noexcept { return raw_ > 0; }
  constexpr bool is_negative() const noexcept { return raw_ < 0; }
  /// True when this value is an exact multiple of `step` (step > 0).
  constexpr bool is_multiple_of(Decimal step) const noexcept { return step.raw_ > 0 && raw_ % step.raw_ == 0; }

  friend constexpr auto operator<=>(Decimal, Decimal) noexcept = default;
  friend constexpr bool operator==(Decimal, Decimal) noexcept = default;

  friend Decimal operator+(Decimal a, Decimal b);   ///< aborts on overflow
  friend Decimal operator-(Decimal a, Decimal b);   ///< aborts on overflow
  friend Decimal operator-(Decimal a);
  Decimal& operator+=(Decimal b) { return *this = *this + b; }
  Decimal& operator-=(Decimal b) { return *this = *this - b; }

  /// a*b rounded half-to-even to 8 digits (exact for prices x quantities in our data).
  /// Uses a 128-bit intermediate; aborts if the result is out of range.
  friend Decimal mul(Decimal a, Decimal b);
  /// a/b rounded half-to-even to 8 digits; aborts if b is zero or out of range.
  friend Decimal div(Decimal a, Decimal b);
  /// a * n for an integer n; aborts on overflow.
  friend Decimal mul_int(Decimal a, std::int64_t n);
  friend Decimal abs(Decimal a);
  friend Decimal min(Decimal a, Decimal b) { return a < b ? a : b; }
  friend Decimal max(Decimal a, Decimal b) { return a < b ? b : a; }

 private:
  std::int64_t raw_ = 0;
};

// The friends above are "hidden": found only by ADL. Declaring them at namespace
// scope too makes qualified calls such as core::mul(qty, px) compile.
Decimal mul(Decimal a, Decimal b);
Decimal div(Decimal a, Decimal b);
Decimal mul_int(Decimal a, std::int64_t n);
Decimal abs(Decimal a);
Decimal min(Decimal a, Decimal b);
Decimal max(Decimal a, Decimal b);

/// Names that say which kind of number a field holds. They are the same type on
/// purpose: price x quantity = money needs no casts; the names document units.
using Price = Decimal;     ///< quote currency per unit of the instrument
using Quantity = Decimal;  ///< instrument units (shares, BTC, EUR)
using Money = Decimal;     ///< quote currency

}  // namespace core

template <>
struct fmt::formatter<core::Decimal> : fmt::formatter<std::string_view> {
  template <class Ctx>
  auto format(core::Decimal d, Ctx& ctx) const {
    char buf[32];
    const auto n = d.write(buf);
    return fmt::formatter<std::string_view>::format(std::string_view(buf, n), ctx);
  }
};
