/// @file detail.hpp
/// @brief Internal constants shared by the PostgreSQL parts of eventstore.
#pragma once

#include <cstdint>

namespace eventstore::detail {

/// pg_advisory_xact_lock key held while migrating ("trdr-mig").
constexpr std::int64_t kMigrationLockKey = 0x747264722d6d6967;
/// pg_advisory_xact_lock key held by every append ("trdr-app"): writers commit
/// one at a time, so position order equals commit order. schema/002_hash_chain.sql
/// spells the same key in decimal (8390879497295065200): keep them equal.
constexpr std::int64_t kAppendLockKey = 0x747264722d617070;

}  // namespace eventstore::detail
