/// @file time.hpp
/// @brief Timestamps: int64 nanoseconds since the Unix epoch, UTC.
///
/// Domain code receives time from events (`ts_event`) and never reads a clock,
/// so a replay is deterministic. Only adapters at the edge (heartbeats, the
/// ingress stamp `ts_recv`) read the wall clock, through `Clock`.
#pragma once

#include <cstdint>
#include <string>

namespace core {

using TimestampNs = std::int64_t;  ///< ns since 1970-01-01T00:00:00Z
using DurationNs = std::int64_t;

constexpr DurationNs kNsPerSecond = 1'000'000'000;
constexpr DurationNs kNsPerDay = 86'400 * kNsPerSecond;

/// ISO-8601 UTC text with milliseconds, e.g. "2014-05-06T00:00:00.158Z". Pure.
std::string format_iso8601(TimestampNs ts);
/// Midnight UTC of the given civil date (proleptic Gregorian). Pure.
TimestampNs days_from_civil_ns(int year, unsigned month, unsigned day);

/// Injected wall clock for adapters; domain code never sees it.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimestampNs now() const noexcept = 0;
};

/// CLOCK_REALTIME. Thread-safe.
class SystemClock final : public Clock {
 public:
  TimestampNs now() const noexcept override;
};

}  // namespace core
