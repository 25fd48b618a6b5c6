/// @file ops.hpp
/// @brief The ops worker (cmd/ops): heartbeats and ops.status.
#pragma once

#include <map>
#include <mutex>
#include <utility>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "codec/codec.hpp"
#include "core/market_check.hpp"
#include "workers/log_input.hpp"

namespace services {

/// ops: collects heartbeats and answers ops.status with every worker's health.
class OpsService {
 public:
  /// `heartbeat_ms`: the workers' heartbeat interval; an instance is down once its
  /// latest heartbeat is older than 3 intervals. `expire_ms`: how long an instance that
  /// stopped (its last heartbeat says "stopped") or that was replaced (another instance
  /// of the worker is alive) stays listed before it is forgotten.
  OpsService(Runtime& rt, std::int64_t heartbeat_ms, std::int64_t expire_ms = 60'000);
  /// Every instance heard from, with the whole stack's status (core::OpsStatus::status).
  /// Thread-safe (forgets expired instances as it goes).
  core::OpsStatus status();

 private:
  void on_heartbeat(const natsio::Message& m);
  void on_status(const natsio::Message& m);
  Runtime& rt_;
  codec::Decoder dec_;
  std::int64_t heartbeat_ms_;
  std::int64_t expire_ms_;
  mutable std::mutex mu_;
  struct Seen {
    core::Heartbeat hb;
    core::TimestampNs received = 0;
  };
  std::map<std::pair<std::string, std::string>, Seen> seen_;  ///< (worker, instance)
  std::vector<std::unique_ptr<BusSubscription>> subs_;
};

}  // namespace services
