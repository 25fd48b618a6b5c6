/// @file bench_util.hpp
/// @brief Benchmarks only: the small helpers every benchmark program needs
///        (flag parsing, elapsed seconds, the machine's load).
/// Not thread-safe where noted; nothing here touches NATS or PostgreSQL.
#pragma once

#include <chrono>
#include <cstring>
#include <fstream>
#include <string>

namespace bench {

using Clock = std::chrono::steady_clock;

/// Seconds (wall, monotonic) since `t0`.
inline double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

/// The value after flag `name` in argv ("--runs 3"), or `dflt` when absent.
inline std::string arg(int argc, char** argv, const char* name, const std::string& dflt) {
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], name) == 0) return argv[i + 1];
  return dflt;
}

/// The 1, 5 and 15 minute load averages, as /proc/loadavg shows them ("1.52 1.92 2.23").
inline std::string loadavg() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

}  // namespace bench
