#include "core/decimal.hpp"

#include <cstdio>
#include <cstdlib>
#include <limits>

namespace core {
namespace {

constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();

// A broken invariant (STYLE.md section 6): a wrapped price would be worse than a crash.
[[noreturn]] void overflow(const char* op) noexcept {
  std::fprintf(stderr, "core::Decimal: %s out of range (int64 with 8 fractional digits)\n", op);
  std::abort();
}

std::int64_t checked(__int128 v, const char* op) noexcept {
  if (v > kMax || v < kMin) overflow(op);
  return static_cast<std::int64_t>(v);
}

// n / d rounded half to even. d != 0.
__int128 div_half_even(__int128 n, __int128 d) noexcept {
  __int128 q = n / d;  // truncates toward zero
  const __int128 r = n % d;
  if (r == 0) return q;
  const __int128 abs_r2 = (r < 0 ? -r : r) * 2;
  const __int128 abs_d = d < 0 ? -d : d;
  const bool away = abs_r2 > abs_d || (abs_r2 == abs_d && (q % 2 != 0));
  if (away) q += ((n < 0) != (d < 0)) ? -1 : 1;
  return q;
}

}  // namespace

Decimal Decimal::from_int(std::int64_t units) {
  std::int64_t raw;
  if (__builtin_mul_overflow(units, kOne, &raw)) overflow("from_int");
  return from_raw(raw);
}

std::optional<Decimal> Decimal::parse(std::string_view text) noexcept {
  std::size_t i = 0;
  bool negative = false;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) {
    negative = text[i] == '-';
    ++i;
  }
  // Integer part: at least one digit. The magnitude is built in unsigned 128-bit
  // and compared against 2^63 at the end, so int64's minimum is reachable.
  unsigned __int128 mag = 0;
  const std::size_t int_start = i;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
    mag = mag * 10 + static_cast<unsigned>(text[i] - '0');
    if (mag > static_cast<unsigned __int128>(kMax) / kOne + 1) return std::nullopt;
  }
  if (i == int_start) return std::nullopt;
  mag *= kOne;
  if (i < text.size() && text[i] == '.') {
    ++i;
    const std::size_t frac_start = i;
    std::int64_t scale = kOne;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
      if (i - frac_start == kScale) return std::nullopt;  // a 9th digit: never round silently
      scale /= 10;
      mag += static_cast<unsigned>(text[i] - '0') * static_cast<unsigned __int128>(scale);
    }
    if (i == frac_start) return std::nullopt;  // "1." has no fraction digits
  }
  if (i != text.size()) return std::nullopt;  // exponents, spaces, junk
  const unsigned __int128 limit = static_cast<unsigned __int128>(kMax) + (negative ? 1 : 0);
  if (mag > limit) return std::nullopt;
  if (negative) return from_raw(static_cast<std::int64_t>(-static_cast<__int128>(mag)));
  return from_raw(static_cast<std::int64_t>(mag));
}

std::size_t Decimal::write(char* out) const noexcept {
  std::size_t n = 0;
  // Unsigned magnitude so that int64's minimum has no special case.
  std::uint64_t mag = raw_ < 0 ? 0 - static_cast<std::uint64_t>(raw_) : static_cast<std::uint64_t>(raw_);
  if (raw_ < 0) out[n++] = '-';
  std::uint64_t whole = mag / kOne;
  std::uint64_t frac = mag % kOne;
  char tmp[24];
  int t = 0;
  do {
    tmp[t++] = static_cast<char>('0' + whole % 10);
    whole /= 10;
  } while (whole != 0);
  while (t > 0) out[n++] = tmp[--t];
  if (frac != 0) {
    out[n++] = '.';
    int digits = kScale;
    while (frac % 10 == 0) {
      frac /= 10;
      --digits;
    }
    for (int k = digits - 1; k >= 0; --k) {
      out[n + k] = static_cast<char>('0' + frac % 10);
      frac /= 10;
    }
    n += static_cast<std::size_t>(digits);
  }
  return n;
}

std::string Decimal::to_string() const {
  char buf[32];
  return std::string(buf, write(buf));
}

Decimal operator+(Decimal a, Decimal b) {
  std::int64_t r;
  if (__builtin_add_overflow(a.raw_, b.raw_, &r)) overflow("a + b");
  return Decimal::from_raw(r);
}

Decimal operator-(Decimal a, Decimal b) {
  std::int64_t r;
  if (__builtin_sub_overflow(a.raw_, b.raw_, &r)) overflow("a - b");
  return Decimal::from_raw(r);
}

Decimal operator-(Decimal a) {
  if (a.raw_ == kMin) overflow("-a");
  return Decimal::from_raw(-a.raw_);
}

Decimal mul(Decimal a, Decimal b) {
  const __int128 p = static_cast<__int128>(a.raw_) * b.raw_;
  return Decimal::from_raw(checked(div_half_even(p, Decimal::kOne), "mul(a, b)"));
}

Decimal div(Decimal a, Decimal b) {
  if (b.raw_ == 0) {
    std::fprintf(stderr, "core::Decimal: division by zero\n");
    std::abort();
  }
  const __int128 n = static_cast<__int128>(a.raw_) * Decimal::kOne;
  return Decimal::from_raw(checked(div_half_even(n, b.raw_), "div(a, b)"));
}

Decimal mul_int(Decimal a, std::int64_t n) {
  std::int64_t r;
  if (__builtin_mul_overflow(a.raw_, n, &r)) overflow("mul_int(a, n)");
  return Decimal::from_raw(r);
}

Decimal abs(Decimal a) { return a.raw_ < 0 ? -a : a; }

}  // namespace core
