#include "core/time.hpp"

#include <time.h>

#include <cstdio>

namespace core {
namespace {

// Howard Hinnant, "chrono-Compatible Low-Level Date Algorithms"
// (howardhinnant.github.io/date_algorithms.html): proleptic Gregorian, exact for
// every int64 day count we can hold.
constexpr std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);                // [0, 399]
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;      // [0, 365]
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;               // [0, 146096]
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct Civil {
  std::int64_t year;
  unsigned month;
  unsigned day;
};

constexpr Civil civil_from_days(std::int64_t z) noexcept {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);                  // [0, 146096]
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;    // [0, 399]
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                  // [0, 365]
  const unsigned mp = (5 * doy + 2) / 153;                                       // [0, 11]
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;                               // [1, 31]
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;                                  // [1, 12]
  return {y + (m <= 2), m, d};
}

static_assert(days_from_civil(1970, 1, 1) == 0);
static_assert(days_from_civil(2000, 3, 1) == 11017);
static_assert(civil_from_days(11017).month == 3);

// Floor division: timestamps before 1970 still land on the right day and millisecond.
constexpr std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept {
  const std::int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

}  // namespace

std::string format_iso8601(TimestampNs ts) {
  const std::int64_t days = floor_div(ts, kNsPerDay);
  const std::int64_t ns_of_day = ts - days * kNsPerDay;  // [0, kNsPerDay)
  const Civil c = civil_from_days(days);
  const std::int64_t ms_of_day = ns_of_day / 1'000'000;
  const int hh = static_cast<int>(ms_of_day / 3'600'000);
  const int mm = static_cast<int>(ms_of_day / 60'000 % 60);
  const int ss = static_cast<int>(ms_of_day / 1000 % 60);
  const int ms = static_cast<int>(ms_of_day % 1000);
  char buf[48];
  const int n = std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02d:%02d:%02d.%03dZ",
                              static_cast<long long>(c.year), c.month, c.day, hh, mm, ss, ms);
  return std::string(buf, static_cast<std::size_t>(n));
}

TimestampNs days_from_civil_ns(int year, unsigned month, unsigned day) {
  return days_from_civil(year, month, day) * kNsPerDay;
}

TimestampNs SystemClock::now() const noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<TimestampNs>(ts.tv_sec) * kNsPerSecond + ts.tv_nsec;
}

}  // namespace core
