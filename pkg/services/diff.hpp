/// @file diff.hpp
/// @brief `traderctl diff A B`: compares two recorded sessions event by event
/// and reports the first divergence, with both events side by side.
///
/// What is compared: every event of each session, except the session's own
/// metadata (session.started, session.ended, worker.started: wall-clock times,
/// ids and process ids that differ between any two runs by nature) and a
/// worker's start-up announcements that change no state (is_restart_announcement:
/// a worker restarted halfway announces itself again, a run without the restart
/// does not), step by step. A step is one input from outside the pipeline (market.data.*,
/// risk.management) and the events recorded after it up to the next input.
/// Inputs and steps are compared in position order; within a step the derived
/// events are compared in a canonical order, stably sorted by subject: workers
/// that react in parallel to the same input (the reporter's performance.metrics
/// and the strategy's order for one quote) reach the log in either order, while
/// each subject keeps its own order. For each pair: subject, type,
/// client_order_id, ts_event and payload.
/// Payloads are compared as the store returns them (PostgreSQL's jsonb text),
/// i.e. as JSON values: a different key order or whitespace would not count,
/// a different value, key or number does. Positions and msg_ids are where an
/// event was stored, not what it says, and are not compared.
///
/// Reads through eventstore::EventStore and throws what it throws; not thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "eventstore/event_store.hpp"

namespace services {

/// The result of comparing session `a` with session `b`.
struct SessionDiff {
  std::int64_t compared = 0;       ///< pairs found equal before the first divergence (or in all), canonical order
  std::int64_t events_a = 0;       ///< comparable events in a
  std::int64_t events_b = 0;       ///< comparable events in b
  bool identical = true;
  /// At the first divergence: the index among comparable events (from 0), and
  /// the events there (nullopt on the side that had already ended).
  std::int64_t index = -1;
  std::optional<eventstore::StoredEvent> at_a, at_b;
  std::vector<std::string> fields;  ///< which fields differ ("subject", "type", ..., "missing in b")
};

/// True for the session metadata types that diff skips.
bool is_session_metadata(std::string_view type) noexcept;

/// True for an announcement a worker makes each time it starts, which changes no
/// state, and which diff therefore skips: risk-state's `risk.state` with source
/// "startup" (trading_state always equals previous_state: it repeats the state
/// in force) and its `risk.policy` with source "restored" (the policy in force
/// before a restart, kept because the configuration is unchanged). A `risk.policy`
/// with source "startup" installs the configured policy and is compared; so is
/// every risk.state with another source (a transition). An event whose payload
/// does not decode is not an announcement (it is compared). Pure.
bool is_restart_announcement(const eventstore::StoredEvent& e);

/// Compares sessions `a` and `b` (see the file comment). Throws
/// std::runtime_error("unknown session ...") if the store holds no event of either.
SessionDiff diff_sessions(eventstore::EventStore& store, const std::string& a, const std::string& b);

/// The human-readable report of `d` (what `traderctl diff` prints).
std::string format_diff(const SessionDiff& d, const std::string& a, const std::string& b);

}  // namespace services
