/// @file feed.hpp
/// @brief Publishes a recorded market data file on market.data.<symbol>.
///
/// Reads any format of shared/data (marketdata::Reader: header-driven, plain
/// or gzip) and publishes each record in file order (the source's own
/// tie-break for equal timestamps), either as fast as possible (speed <= 0) or
/// paced at recorded time divided by `speed` (speed 1 = real time, 60 = a
/// minute per second). Bad rows go to ops.dead_letter with line and column and
/// are counted; the feed goes on. Not thread-safe; runs on the calling thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "workers/runtime.hpp"

namespace services {

struct FeedConfig {
  std::string path;             ///< data file (.csv or .csv.gz)
  double speed = 0;             ///< <= 0: as fast as possible; else recorded pace x speed
  std::int64_t limit = 0;       ///< stop after this many messages (0 = all)
  /// Called after each message is published (set: the in-process engine runs its bus
  /// there, so every input is handled before the next; tooling/in_process.hpp).
  std::function<void()> after_each;
  /// A corporate-actions file (marketdata/actions.hpp; "" = none): each action is
  /// published on market.data.<symbol> before the first record after its ex-date.
  /// Without one, trade bars are watched for suspected splits (FeedSummary::warnings).
  std::string actions_path;
};

struct FeedSummary {
  std::int64_t published = 0, quotes = 0, trades = 0, bars = 0, bad_rows = 0;
  std::int64_t actions = 0;           ///< corporate actions published (counted in `published` too)
  std::vector<std::string> warnings;  ///< e.g. suspected splits (marketdata::SplitDetector), in data order
  double seconds = 0;
  std::string format;
};

/// Publishes the file; returns the counts. Throws std::runtime_error if the
/// file cannot be opened or its header is not a known format, or the actions file is
/// bad (before anything is published), natsio::NatsError if
/// the final flush fails; and what after_each throws. Stops early when `stop` becomes true.
FeedSummary run_feed(Runtime& rt, const FeedConfig& cfg, const std::atomic<bool>& stop);

}  // namespace services
