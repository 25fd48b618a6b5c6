#include <catch2/catch.hpp>

#include "core/time.hpp"

using namespace core;

TEST_CASE("format_iso8601 prints UTC with milliseconds and Z", "[core][time]") {
  CHECK(format_iso8601(0) == "1970-01-01T00:00:00.000Z");
  // First EURUSD quote in shared/data.
  CHECK(format_iso8601(1399334400158000000) == "2014-05-06T00:00:00.158Z");
  // shared/data/README.md: 1381239000123000000 = 2013-10-08T13:30:00.123Z
  CHECK(format_iso8601(1381239000123000000) == "2013-10-08T13:30:00.123Z");
  CHECK(format_iso8601(1582329601096000000) == "2020-02-22T00:00:01.096Z");
}

TEST_CASE("format_iso8601 truncates below the millisecond", "[core][time]") {
  CHECK(format_iso8601(1'999'999) == "1970-01-01T00:00:00.001Z");
  CHECK(format_iso8601(kNsPerDay - 1) == "1970-01-01T23:59:59.999Z");
}

TEST_CASE("format_iso8601 floors times before 1970", "[core][time]") {
  CHECK(format_iso8601(-1) == "1969-12-31T23:59:59.999Z");
  CHECK(format_iso8601(-kNsPerDay) == "1969-12-31T00:00:00.000Z");
}

TEST_CASE("format_iso8601 handles leap days and year ends", "[core][time]") {
  CHECK(format_iso8601(days_from_civil_ns(2000, 2, 29)) == "2000-02-29T00:00:00.000Z");
  CHECK(format_iso8601(days_from_civil_ns(2020, 12, 31) + kNsPerDay) == "2021-01-01T00:00:00.000Z");
  CHECK(format_iso8601(days_from_civil_ns(2262, 4, 11)) == "2262-04-11T00:00:00.000Z");
}

TEST_CASE("days_from_civil_ns gives midnight UTC of a civil date", "[core][time]") {
  CHECK(days_from_civil_ns(1970, 1, 1) == 0);
  CHECK(days_from_civil_ns(1970, 1, 2) == kNsPerDay);
  CHECK(days_from_civil_ns(2014, 5, 6) == 1399334400LL * kNsPerSecond);
  // GBPUSD bar file starts 2012-02-01T00:00Z = 1328054400 s.
  CHECK(days_from_civil_ns(2012, 2, 1) == 1328054400LL * kNsPerSecond);
  CHECK(days_from_civil_ns(1969, 12, 31) == -kNsPerDay);
  CHECK(days_from_civil_ns(2000, 3, 1) - days_from_civil_ns(2000, 2, 28) == 2 * kNsPerDay);
  CHECK(days_from_civil_ns(1900, 3, 1) - days_from_civil_ns(1900, 2, 28) == 1 * kNsPerDay);
}

TEST_CASE("SystemClock reads a plausible wall time that does not go backwards much", "[core][time]") {
  const SystemClock clock;
  const Clock& c = clock;
  const auto a = c.now();
  const auto b = c.now();
  CHECK(a > days_from_civil_ns(2020, 1, 1));
  CHECK(b >= a - kNsPerSecond);
}
