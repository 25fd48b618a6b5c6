#include <catch2/catch.hpp>

#include <limits>
#include <string>

#include <fmt/format.h>

#include "core/decimal.hpp"

using core::Decimal;

namespace {

Decimal d(std::string_view s) {
  const auto v = Decimal::parse(s);
  REQUIRE(v.has_value());
  return *v;
}

constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
constexpr auto kMin = std::numeric_limits<std::int64_t>::min();
constexpr Decimal::Raw kMaxRaw = Decimal::kMaxRaw;
/// The largest Decimal as text: (2^127 - 1) x 10^-8.
constexpr std::string_view kMaxText = "1701411834604692317316873037158.84105727";

}  // namespace

TEST_CASE("parse reads sign, whole digits and up to 8 fraction digits exactly", "[core][decimal]") {
  CHECK(d("0").raw() == 0);
  CHECK(d("1").raw() == 100'000'000);
  CHECK(d("+1").raw() == 100'000'000);
  CHECK(d("-1").raw() == -100'000'000);
  CHECK(d("1.38742").raw() == 138'742'000);
  CHECK(d("-12.345").raw() == -1'234'500'000);
  CHECK(d("0.00000001").raw() == 1);
  CHECK(d("-0.00000001").raw() == -1);
  CHECK(d("9682").raw() == 968'200'000'000);
  CHECK(d("182.10").raw() == 18'210'000'000);
  CHECK(d("007.50").raw() == 750'000'000);
  CHECK(d("-0").raw() == 0);
  CHECK(d("1.00000000").raw() == 100'000'000);
}

TEST_CASE("parse accepts the extremes of the wire and of the arithmetic range", "[core][decimal]") {
  CHECK(d("92233720368.54775807").raw() == kMax);
  CHECK(d("92233720368.54775807") == Decimal::wire_max());
  CHECK(d("92233720368.54775807").in_wire_range());
  CHECK(d("-92233720368.54775808").raw() == kMin);
  CHECK(d("-92233720368.54775808").in_wire_range());
  CHECK_FALSE(d("92233720368.54775808").in_wire_range());
  CHECK_FALSE(d("-92233720368.54775809").in_wire_range());
  CHECK(d("92233720368").raw() == 9'223'372'036'800'000'000);
  CHECK(d(kMaxText).raw() == kMaxRaw);
  CHECK(d(std::string("-") + std::string(kMaxText)).raw() == -kMaxRaw);
}

TEST_CASE("parse rejects anything that is not an exact in-range decimal", "[core][decimal]") {
  const char* bad[] = {
      "",          ".",          "-",          "+",          "1.",        ".5",
      "-.5",       "1e3",        "1E3",        "1.5e-2",     " 1",        "1 ",
      "1 .5",      "1.2.3",      "--1",        "+-1",        "0x10",      "1,5",
      "abc",       "1.5a",       "nan",        "inf",        "1.000000001",  // 9 fraction digits
      "1701411834604692317316873037158.84105728",    // arithmetic max + 1 unit
      "-1701411834604692317316873037158.84105728",   // below -max
      "1701411834604692317316873037159",             // whole part too large
      "100000000000000000000000000000000000000000",
  };
  for (const char* s : bad) {
    INFO("input: \"" << s << "\"");
    CHECK_FALSE(Decimal::parse(s).has_value());
  }
}

TEST_CASE("to_string gives the shortest exact text", "[core][decimal]") {
  CHECK(Decimal{}.to_string() == "0");
  CHECK(d("1.50").to_string() == "1.5");
  CHECK(d("1.38742").to_string() == "1.38742");
  CHECK(d("100").to_string() == "100");
  CHECK(d("-0.00000001").to_string() == "-0.00000001");
  CHECK(d("0.1").to_string() == "0.1");
  CHECK(d("-12.345").to_string() == "-12.345");
  CHECK(d("10.00000010").to_string() == "10.0000001");
  CHECK(Decimal::from_raw(kMax).to_string() == "92233720368.54775807");
  CHECK(Decimal::from_raw(kMin).to_string() == "-92233720368.54775808");
  CHECK(Decimal::from_raw(kMaxRaw).to_string() == kMaxText);
  CHECK(Decimal::from_raw(-kMaxRaw).to_string() == "-" + std::string(kMaxText));
  CHECK(Decimal::from_raw(Decimal::Raw(10'000'000'000'000'000'000ULL) * 100'000'000).to_string() ==
        "10000000000000000000");
  CHECK(d("12345678901234567890123.00000001").to_string() == "12345678901234567890123.00000001");
}

TEST_CASE("to_string and parse round-trip every sample exactly", "[core][decimal]") {
  const Decimal::Raw raws[] = {0, 1, -1, 7, 10, 99, 100'000'000, 123'456'789, -987'654'321'012,
                                kMax, kMin, kMax - 1, kMin + 1, 50'000'000, 1'000'000'000'000'000,
                                kMaxRaw, -kMaxRaw, kMaxRaw / 3, Decimal::Raw(kMax) * 1'000'000'007};
  for (auto raw : raws) {
    const auto v = Decimal::from_raw(raw);
    INFO("text " << v.to_string());
    CHECK(Decimal::parse(v.to_string()) == v);
  }
}

TEST_CASE("write fills the caller's buffer and fmt prints the same text", "[core][decimal]") {
  char buf[Decimal::kMaxChars];
  const auto v = d("-1234.5678");
  CHECK(std::string(buf, v.write(buf)) == "-1234.5678");
  CHECK(fmt::format("{}", v) == "-1234.5678");
  CHECK(fmt::format("[{:>8}]", d("1.5")) == "[     1.5]");
}

TEST_CASE("from_int scales whole units", "[core][decimal]") {
  CHECK(Decimal::from_int(0).raw() == 0);
  CHECK(Decimal::from_int(-3) == d("-3"));
  CHECK(Decimal::from_int(92'233'720'368).to_string() == "92233720368");
}

TEST_CASE("addition, subtraction and negation are exact", "[core][decimal]") {
  CHECK(d("0.1") + d("0.2") == d("0.3"));
  CHECK(d("1.38755") - d("1.38742") == d("0.00013"));
  CHECK(-d("5") == d("-5"));
  auto x = d("1");
  x += d("0.5");
  x -= d("2");
  CHECK(x == d("-0.5"));
  CHECK(abs(d("-2.5")) == d("2.5"));
  CHECK(abs(d("2.5")) == d("2.5"));
  CHECK(min(d("1"), d("2")) == d("1"));
  CHECK(max(d("1"), d("2")) == d("2"));
}

TEST_CASE("comparison orders by value", "[core][decimal]") {
  CHECK(d("1.5") < d("1.50000001"));
  CHECK(d("-1") < d("0"));
  CHECK(d("2.0") == d("2"));
  CHECK(d("0").is_zero());
  CHECK(d("0.00000001").is_positive());
  CHECK(d("-0.00000001").is_negative());
}

TEST_CASE("mul gives price times quantity exactly", "[core][decimal]") {
  CHECK(mul(d("1.38742"), d("100000")) == d("138742"));
  CHECK(mul(d("182.10"), d("300")) == d("54630"));
  CHECK(mul(d("9682"), d("0.132")) == d("1278.024"));
  CHECK(mul(d("-1.5"), d("2")) == d("-3"));
  CHECK(mul(d("-1.5"), d("-2")) == d("3"));
  CHECK(mul(d("0"), d("123.45")) == d("0"));
  // Intermediate beyond int64, result in range: the 128-bit product keeps it exact.
  CHECK(mul(d("90000000000"), d("1")) == d("90000000000"));
  CHECK(mul(d("3000000"), d("30000")) == d("90000000000"));
}

TEST_CASE("mul rounds half to even at the 8th digit", "[core][decimal]") {
  // 0.00000001 * 0.5 = 0.000000005 -> tie -> even (0)
  CHECK(mul(d("0.00000001"), d("0.5")) == d("0"));
  // 0.00000003 * 0.5 = 0.000000015 -> tie -> even (0.00000002)
  CHECK(mul(d("0.00000003"), d("0.5")) == d("0.00000002"));
  // 0.00000001 * 0.6 = 0.000000006 -> up
  CHECK(mul(d("0.00000001"), d("0.6")) == d("0.00000001"));
  // 0.00000001 * 0.4 = 0.000000004 -> down
  CHECK(mul(d("0.00000001"), d("0.4")) == d("0"));
  // negative ties go to even too, symmetric with positive ones
  CHECK(mul(d("-0.00000001"), d("0.5")) == d("0"));
  CHECK(mul(d("-0.00000003"), d("0.5")) == d("-0.00000002"));
  CHECK(mul(d("-0.00000001"), d("0.6")) == d("-0.00000001"));
}

TEST_CASE("div rounds half to even at the 8th digit", "[core][decimal]") {
  CHECK(div(d("1"), d("3")) == d("0.33333333"));
  CHECK(div(d("2"), d("3")) == d("0.66666667"));
  CHECK(div(d("-2"), d("3")) == d("-0.66666667"));
  CHECK(div(d("10"), d("4")) == d("2.5"));
  CHECK(div(d("1"), d("-8")) == d("-0.125"));
  // 0.00000005 / 2 = 0.000000025 -> tie -> even (0.00000002)
  CHECK(div(d("0.00000005"), d("2")) == d("0.00000002"));
  // 0.00000007 / 2 = 0.000000035 -> tie -> even (0.00000004)
  CHECK(div(d("0.00000007"), d("2")) == d("0.00000004"));
  CHECK(div(d("-0.00000007"), d("2")) == d("-0.00000004"));
  // average price: 54630 / 300
  CHECK(div(d("54630"), d("300")) == d("182.1"));
}

TEST_CASE("mul_int and is_multiple_of work in raw units", "[core][decimal]") {
  CHECK(mul_int(d("0.25"), 4) == d("1"));
  CHECK(mul_int(d("-1.5"), -3) == d("4.5"));
  CHECK(d("1.38745").is_multiple_of(d("0.00005")));
  CHECK_FALSE(d("1.38742").is_multiple_of(d("0.00005")));
  CHECK_FALSE(d("1").is_multiple_of(d("0")));
  CHECK_FALSE(d("1").is_multiple_of(d("-1")));
}

TEST_CASE("sums and products of wire values never overflow (issue 11: poison quote and fill)", "[core][decimal]") {
  // A quote with a bid of 90000000000 and a fill with last_qty = last_px = 90000000000
  // made risk-state, reporter and strategy abort while the range was 64-bit.
  const auto big = d("90000000000");
  CHECK(big + big == d("180000000000"));
  CHECK(mul(big, big) == d("8100000000000000000000"));
  const auto w = Decimal::wire_max();
  CHECK(mul(w, w) == d("8507059173023461584739.69077842"));
  CHECK(mul(-w, w) == -mul(w, w));
  // 10^8 fills of the largest notional still add up without leaving the range.
  CHECK(mul_int(mul(w, w), 100'000'000).is_positive());
  CHECK(div(mul(big, big), big) == big);
}

TEST_CASE("operations at the very edge of the range are exact", "[core][decimal]") {
  const auto max = Decimal::from_raw(kMaxRaw);
  const auto min = Decimal::from_raw(-kMaxRaw);
  CHECK((max - Decimal::from_raw(1)) + Decimal::from_raw(1) == max);
  CHECK(min + max == Decimal{});
  CHECK(-max == min);
  CHECK(abs(min) == max);
  CHECK(mul(max, d("1")) == max);
  CHECK(mul(min, d("1")) == min);
  CHECK(mul(max, d("-1")) == min);
  CHECK(mul(max, d("0.5")) == Decimal::from_raw(kMaxRaw / 2 + 1));  // half of an odd raw: tie -> even
  CHECK(div(max, d("1")) == max);
  CHECK(div(min, d("-1.00000001")).is_positive());
  CHECK(div(max, max) == d("1"));
  CHECK(div(max, d("3")) == Decimal::from_raw(kMaxRaw / 3));
  CHECK(mul_int(Decimal::from_raw(kMaxRaw / 2), 2) == Decimal::from_raw(kMaxRaw - 1));
}

TEST_CASE("arithmetic beyond the range throws ArithmeticError instead of aborting", "[core][decimal]") {
  const auto max = Decimal::from_raw(kMaxRaw);
  const auto min = Decimal::from_raw(-kMaxRaw);
  const auto one = Decimal::from_raw(1);
  CHECK_THROWS_AS(max + one, core::ArithmeticError);
  CHECK_THROWS_AS(min - one, core::ArithmeticError);
  CHECK_THROWS_AS(mul(max, d("1.00000001")), core::ArithmeticError);
  CHECK_THROWS_AS(mul(d("100000000000000000"), d("100000000000000000")), core::ArithmeticError);
  CHECK_THROWS_AS(div(max, d("0.5")), core::ArithmeticError);
  CHECK_THROWS_WITH(div(d("1"), Decimal{}), Catch::Contains("division by zero"));
  CHECK_THROWS_AS(mul_int(max, 2), core::ArithmeticError);
  CHECK_THROWS_WITH(mul(max, max), Catch::Contains("mul(a, b) out of range"));
  auto x = max;
  CHECK_THROWS_AS(x += one, core::ArithmeticError);
  CHECK(x == max);  // unchanged by the failed operation
}

TEST_CASE("arithmetic helpers can be called qualified as well as through ADL", "[core][decimal]") {
  CHECK(core::mul(d("2"), d("3")) == d("6"));
  CHECK(core::div(d("3"), d("2")) == d("1.5"));
  CHECK(core::mul_int(d("2"), 3) == d("6"));
  CHECK(core::abs(d("-1")) == d("1"));
  CHECK(core::min(d("1"), d("2")) == d("1"));
  CHECK(core::max(d("1"), d("2")) == d("2"));
}
