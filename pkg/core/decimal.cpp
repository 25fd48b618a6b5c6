#include "core/decimal.hpp"

namespace core {
namespace {

using Raw = Decimal::Raw;
using U128 = unsigned __int128;
using U64 = std::uint64_t;

constexpr U128 kMaxMag = static_cast<U128>(Decimal::kMaxRaw);
constexpr U64 kOne64 = static_cast<U64>(Decimal::kOne);

[[noreturn]] void overflow(const char* op) {
  throw ArithmeticError(fmt::format("core::Decimal: {} out of range (about +-1.7e30 with 8 fractional digits)", op));
}

U128 magnitude(Raw v) noexcept { return v < 0 ? static_cast<U128>(-v) : static_cast<U128>(v); }

/// A 256-bit unsigned value as hi * 2^128 + lo.
struct U256 {
  U128 hi = 0, lo = 0;
};

U256 mul_u128(U128 a, U128 b) noexcept {
  const U64 a0 = static_cast<U64>(a), a1 = static_cast<U64>(a >> 64);
  const U64 b0 = static_cast<U64>(b), b1 = static_cast<U64>(b >> 64);
  const U128 p00 = static_cast<U128>(a0) * b0;
  const U128 p01 = static_cast<U128>(a0) * b1;
  const U128 p10 = static_cast<U128>(a1) * b0;
  const U128 p11 = static_cast<U128>(a1) * b1;
  const U128 mid = (p00 >> 64) + static_cast<U64>(p01) + static_cast<U64>(p10);
  U256 r;
  r.lo = (mid << 64) | static_cast<U64>(p00);
  r.hi = p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64);
  return r;
}

/// n / d for a 64-bit divisor: quotient (256-bit) and remainder.
U256 div_u64(U256 n, U64 d, U64& rem) noexcept {
  const U64 limbs[4] = {static_cast<U64>(n.hi >> 64), static_cast<U64>(n.hi), static_cast<U64>(n.lo >> 64),
                        static_cast<U64>(n.lo)};
  U64 q[4];
  U128 r = 0;
  for (int i = 0; i < 4; ++i) {
    const U128 cur = (r << 64) | limbs[i];
    q[i] = static_cast<U64>(cur / d);
    r = cur % d;
  }
  rem = static_cast<U64>(r);
  return U256{(static_cast<U128>(q[0]) << 64) | q[1], (static_cast<U128>(q[2]) << 64) | q[3]};
}

/// n / d for a 128-bit divisor (d != 0) by shift and subtract: quotient and remainder.
/// Only for operands beyond 128 bits (the rare slow path of div).
U256 div_u128(U256 n, U128 d, U128& rem) noexcept {
  U256 q;
  U128 r = 0;
  for (int bit = 255; bit >= 0; --bit) {
    const bool carry = (r >> 127) != 0;
    const U128 next = bit >= 128 ? (n.hi >> (bit - 128)) & 1 : (n.lo >> bit) & 1;
    r = (r << 1) | next;
    if (carry || r >= d) {
      r -= d;
      if (bit >= 128) q.hi |= static_cast<U128>(1) << (bit - 128);
      else q.lo |= static_cast<U128>(1) << bit;
    }
  }
  rem = r;
  return q;
}

/// Rounds quotient q (remainder r of divisor d) half to even; returns the signed
/// result, throwing if it leaves the range.
Raw finish(U256 q, U128 r, U128 d, bool negative, const char* op) {
  if (q.hi != 0 || q.lo > kMaxMag) overflow(op);
  U128 mag = q.lo;
  // Compare 2r with d without overflow: r < d, so 2r > d <=> r > d - r.
  const U128 other = d - r;
  if (r > other || (r == other && (mag & 1) != 0)) ++mag;
  if (mag > kMaxMag) overflow(op);
  return negative ? -static_cast<Raw>(mag) : static_cast<Raw>(mag);
}

}  // namespace

std::optional<Decimal> Decimal::parse(std::string_view text) noexcept {
  std::size_t i = 0;
  bool negative = false;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) {
    negative = text[i] == '-';
    ++i;
  }
  // Integer part: at least one digit. Built in unsigned 128-bit; every step is
  // bounded by the range, so nothing wraps.
  constexpr U128 kMaxWhole = kMaxMag / kOne64;
  U128 mag = 0;
  const std::size_t int_start = i;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
    mag = mag * 10 + static_cast<unsigned>(text[i] - '0');
    if (mag > kMaxWhole) return std::nullopt;
  }
  if (i == int_start) return std::nullopt;
  mag *= kOne64;
  if (i < text.size() && text[i] == '.') {
    ++i;
    const std::size_t frac_start = i;
    U64 scale = kOne64;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
      if (i - frac_start == kScale) return std::nullopt;  // a 9th digit: never round silently
      scale /= 10;
      mag += static_cast<U128>(static_cast<unsigned>(text[i] - '0')) * scale;
    }
    if (i == frac_start) return std::nullopt;  // "1." has no fraction digits
  }
  if (i != text.size()) return std::nullopt;  // exponents, spaces, junk
  if (mag > kMaxMag) return std::nullopt;
  return from_raw(negative ? -static_cast<Raw>(mag) : static_cast<Raw>(mag));
}

std::size_t Decimal::write(char* out) const noexcept {
  std::size_t n = 0;
  const U128 mag = magnitude(raw_);
  if (raw_ < 0) out[n++] = '-';
  U128 whole = mag / kOne64;
  U64 frac = static_cast<U64>(mag % kOne64);
  // Whole part in chunks of 19 digits (u64), most significant first.
  constexpr U64 kChunk = 10'000'000'000'000'000'000ULL;
  U64 chunks[3];
  int c = 0;
  do {
    chunks[c++] = static_cast<U64>(whole % kChunk);
    whole /= kChunk;
  } while (whole != 0);
  for (int k = c - 1; k >= 0; --k) {
    char tmp[20];
    int t = 0;
    U64 v = chunks[k];
    do {
      tmp[t++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0);
    if (k != c - 1)
      for (int pad = t; pad < 19; ++pad) out[n++] = '0';
    while (t > 0) out[n++] = tmp[--t];
  }
  if (frac != 0) {
    out[n++] = '.';
    int digits = kScale;
    while (frac % 10 == 0) {
      frac /= 10;
      --digits;
    }
    for (int k = digits - 1; k >= 0; --k) {
      out[n + static_cast<std::size_t>(k)] = static_cast<char>('0' + frac % 10);
      frac /= 10;
    }
    n += static_cast<std::size_t>(digits);
  }
  return n;
}

std::string Decimal::to_string() const {
  char buf[kMaxChars];
  return std::string(buf, write(buf));
}

Decimal operator+(Decimal a, Decimal b) {
  Raw r;
  if (__builtin_add_overflow(a.raw_, b.raw_, &r) || r > Decimal::kMaxRaw || r < -Decimal::kMaxRaw) overflow("a + b");
  return Decimal::from_raw(r);
}

Decimal operator-(Decimal a, Decimal b) {
  Raw r;
  if (__builtin_sub_overflow(a.raw_, b.raw_, &r) || r > Decimal::kMaxRaw || r < -Decimal::kMaxRaw) overflow("a - b");
  return Decimal::from_raw(r);
}

Decimal mul(Decimal a, Decimal b) {
  const bool negative = (a.raw_ < 0) != (b.raw_ < 0);
  const U128 ma = magnitude(a.raw_), mb = magnitude(b.raw_);
  // Fast path: both within 64 bits, the product fits 128 bits.
  if ((ma >> 64) == 0 && (mb >> 64) == 0) {
    const U128 p = ma * mb;
    return Decimal::from_raw(finish(U256{0, p / kOne64}, p % kOne64, kOne64, negative, "mul(a, b)"));
  }
  U64 rem = 0;
  const U256 q = div_u64(mul_u128(ma, mb), kOne64, rem);
  return Decimal::from_raw(finish(q, rem, kOne64, negative, "mul(a, b)"));
}

Decimal div(Decimal a, Decimal b) {
  if (b.raw_ == 0) throw ArithmeticError("core::Decimal: division by zero");
  const bool negative = (a.raw_ < 0) != (b.raw_ < 0);
  const U128 ma = magnitude(a.raw_), mb = magnitude(b.raw_);
  // Fast path: a x 10^8 fits 128 bits.
  if (ma <= kMaxMag / kOne64) {
    const U128 n = ma * kOne64;
    return Decimal::from_raw(finish(U256{0, n / mb}, n % mb, mb, negative, "div(a, b)"));
  }
  U128 rem = 0;
  const U256 q = div_u128(mul_u128(ma, kOne64), mb, rem);
  return Decimal::from_raw(finish(q, rem, mb, negative, "div(a, b)"));
}

Decimal mul_int(Decimal a, std::int64_t n) {
  Raw r;
  if (__builtin_mul_overflow(a.raw_, static_cast<Raw>(n), &r) || r > Decimal::kMaxRaw || r < -Decimal::kMaxRaw)
    overflow("mul_int(a, n)");
  return Decimal::from_raw(r);
}

}  // namespace core
