/// @file decimal.hpp
/// @brief Exact fixed-point decimal for prices, quantities and money.
///
/// A `Decimal` is a signed 128-bit count of 10^-8 units (8 fractional digits), like
/// Liquibook's integer `Price` and NautilusTrader's `Price{raw, precision}` (whose
/// high-precision mode is 128-bit too). Eight digits hold every price and size in
/// shared/data (FX: 5, BTC sizes: 3, equities: 4).
///
/// Two ranges:
///  - the **wire range**, |x| <= 92,233,720,368.54775807 (2^63 - 1 raw units): every
///    value a decoder accepts from outside (a message, a file, a setting) is in it
///    (`in_wire_range`, checked by pkg/codec and pkg/marketdata);
///  - the **arithmetic range**, |x| <= (2^127 - 1) x 10^-8, about 1.7 x 10^30 units:
///    what sums and products may reach. The product of two wire values is below
///    8.6 x 10^21, so notional, P&L, positions and running totals of accepted inputs
///    stay far inside it (10^8 fills of the largest possible notional still fit).
///
/// Money is never a double: there is no conversion from or to floating point.
///
/// Errors: `parse` returns std::nullopt for anything that is not an exact decimal
/// within the arithmetic range (more than 8 fractional digits is an error, never a
/// silent rounding). Arithmetic that leaves the arithmetic range, and division by
/// zero, throw `core::ArithmeticError` (never abort, never wrap): a value that came
/// from outside must never stop a worker (STYLE.md section 6). Workers handle such a
/// message as bad input (dead letter, or quarantine while rebuilding) and go on.
/// Thread-safety: a value type; all functions are pure and reentrant.
#pragma once

#include <cstdint>
#include <compare>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace core {

/// Thrown by Decimal arithmetic that leaves the arithmetic range, or divides by zero.
/// The message names the operation, e.g. "core::Decimal: mul(a, b) out of range".
class ArithmeticError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Decimal {
 public:
  using Raw = __int128;
  static constexpr int kScale = 8;                       ///< fractional digits
  static constexpr Raw kOne = 100'000'000;               ///< raw value of 1
  /// Largest raw magnitude (2^127 - 1); -kMaxRaw is the smallest value. The 128-bit
  /// minimum (-2^127) is not a Decimal, so negation and abs never overflow.
  static constexpr Raw kMaxRaw = static_cast<Raw>((static_cast<unsigned __int128>(1) << 127) - 1);
  /// Largest raw magnitude accepted from outside (2^63 - 1: 92233720368.54775807).
  static constexpr Raw kWireMaxRaw = std::numeric_limits<std::int64_t>::max();
  /// Longest text `write` produces: sign, 31 whole digits, point, 8 fraction digits.
  static constexpr std::size_t kMaxChars = 48;

  constexpr Decimal() noexcept = default;
  /// From a raw count of 10^-8 units. Precondition: |raw| <= kMaxRaw (not checked:
  /// for constants and internal conversions; external values go through parse).
  static constexpr Decimal from_raw(Raw raw) noexcept { Decimal d; d.raw_ = raw; return d; }
  /// From a whole number of units (always in range).
  static constexpr Decimal from_int(std::int64_t units) noexcept { return from_raw(static_cast<Raw>(units) * kOne); }
  /// Parses "-12.345", "+1", "0.00000001"; "1e-3" is NOT accepted (no exponents).
  /// Leading/trailing spaces are not accepted. Returns nullopt on any error,
  /// including a magnitude beyond the arithmetic range.
  static std::optional<Decimal> parse(std::string_view text) noexcept;
  /// The largest wire value, 92233720368.54775807.
  static constexpr Decimal wire_max() noexcept { return from_raw(kWireMaxRaw); }

  constexpr Raw raw() const noexcept { return raw_; }
  /// |x| <= 92233720368.54775807: a value a decoder may accept.
  constexpr bool in_wire_range() const noexcept { return raw_ <= kWireMaxRaw && raw_ >= -kWireMaxRaw - 1; }
  /// Shortest exact text: no trailing fractional zeros, "0" for zero, "-" sign.
  std::string to_string() const;
  /// Writes to_string() into out (no allocation); returns chars written.
  /// Precondition: `out` has room for kMaxChars bytes.
  std::size_t write(char* out) const noexcept;

  constexpr bool is_zero() const noexcept { return raw_ == 0; }
  constexpr bool is_positive() const noexcept { return raw_ > 0; }
  constexpr bool is_negative() const noexcept { return raw_ < 0; }
  /// True when this value is an exact multiple of `step` (step > 0).
  constexpr bool is_multiple_of(Decimal step) const noexcept { return step.raw_ > 0 && raw_ % step.raw_ == 0; }

  friend constexpr bool operator==(Decimal a, Decimal b) noexcept { return a.raw_ == b.raw_; }
  friend constexpr std::strong_ordering operator<=>(Decimal a, Decimal b) noexcept {
    return a.raw_ < b.raw_ ? std::strong_ordering::less
                           : (a.raw_ > b.raw_ ? std::strong_ordering::greater : std::strong_ordering::equal);
  }

  friend Decimal operator+(Decimal a, Decimal b);   ///< throws ArithmeticError out of range
  friend Decimal operator-(Decimal a, Decimal b);   ///< throws ArithmeticError out of range
  friend Decimal operator-(Decimal a) noexcept { return from_raw(-a.raw_); }
  Decimal& operator+=(Decimal b) { return *this = *this + b; }
  Decimal& operator-=(Decimal b) { return *this = *this - b; }

  /// a*b rounded half-to-even to 8 digits, from the exact 256-bit product.
  /// Throws ArithmeticError if the result is out of range.
  friend Decimal mul(Decimal a, Decimal b);
  /// a/b rounded half-to-even to 8 digits. Throws ArithmeticError if b is zero or
  /// the result is out of range.
  friend Decimal div(Decimal a, Decimal b);
  /// a * n for an integer n; throws ArithmeticError out of range.
  friend Decimal mul_int(Decimal a, std::int64_t n);
  friend Decimal abs(Decimal a) noexcept { return a.raw_ < 0 ? from_raw(-a.raw_) : a; }
  friend Decimal min(Decimal a, Decimal b) noexcept { return a < b ? a : b; }
  friend Decimal max(Decimal a, Decimal b) noexcept { return a < b ? b : a; }

 private:
  Raw raw_ = 0;
};

// The friends above are "hidden": found only by ADL. Declaring them at namespace
// scope too makes qualified calls such as core::mul(qty, px) compile.
Decimal mul(Decimal a, Decimal b);
Decimal div(Decimal a, Decimal b);
Decimal mul_int(Decimal a, std::int64_t n);
Decimal abs(Decimal a) noexcept;
Decimal min(Decimal a, Decimal b) noexcept;
Decimal max(Decimal a, Decimal b) noexcept;

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
    char buf[core::Decimal::kMaxChars];
    const auto n = d.write(buf);
    return fmt::formatter<std::string_view>::format(std::string_view(buf, n), ctx);
  }
};
