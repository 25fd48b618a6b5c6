/// @file diff.hpp
/// @brief `traderctl diff A B`: compares two recorded sessions event by event
/// and reports the first divergence, with both events side by side.
///
/// What is compared: every event of each session, except the session's own
/// metadata (session.started, session.ended, worker.started: wall-clock times,
/// ids and process ids that differ between any two runs by nature; feed.summary: a
/// session whose inputs traderctl published itself has none), the feed's
/// reports on its file (is_feed_report), progress
/// markers (core::Progress), and a worker's start-up announcements that change no
/// state (is_restart_announcement: a worker restarted halfway announces itself
/// again, a run without the restart does not), step by step, in canonical order
/// (the session's first risk.policy, when it is the policy risk-state started with,
/// "startup" in a fresh log or "restored" in one with history, is compared by its
/// policy alone, before everything else: a replay of a live session starts from a
/// fresh log, the live stack may not have)
/// (docs/architecture.md, "Event time"):
///  - a step is one root input (market.data.*, risk.management, a person's order on
///    trading.orders.by.<user>) and what it caused: a message that names its cause
///    (cause_seq) belongs to its cause's step, at its stage (services::EventTimeOrder);
///    one that names none, to the step of the input before it in the log;
///  - within a step: by stage, then stably by subject (workers that react in parallel
///    to the same input reach the log in either order, while each subject keeps its own);
///  - trading events (everything but performance.* and reports.*) first: the first
///    difference among them is reported before any among the metrics.
/// Stream sequences differ between two runs of the same inputs, so `cause_seq` and
/// `stream_seq` in a payload are compared as "#<canonical position>" of what they name, counted among the trading events (metrics do not count).
/// Each session is held in memory (about its payload bytes). For each pair: subject,
/// type, client_order_id, ts_event and payload.
/// Payloads are compared as the store returns them (PostgreSQL's jsonb text),
/// i.e. as JSON values: a different key order or whitespace would not count,
/// a different value, key or number does, except a dead_letter's `ts` (the wall-clock
/// time its worker refused something, e.g. the feed's data-quality reports: not compared). Positions and msg_ids are where an
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
  std::int64_t compared = 0;       ///< pairs found equal before the first divergence (or in all)
  std::int64_t events_a = 0;       ///< comparable events in a
  std::int64_t events_b = 0;       ///< comparable events in b
  bool identical = true;
  /// At the first divergence: the index among the trading (or, if `metrics`, the
  /// metrics) events in canonical order (from 0), and
  /// the events there (nullopt on the side that had already ended).
  std::int64_t index = -1;
  std::optional<eventstore::StoredEvent> at_a, at_b;
  std::vector<std::string> fields;  ///< which fields differ ("subject", "type", ..., "missing in b")
  /// The divergence is among metrics (performance.*, reports.*): the trading events
  /// (market data, orders, decisions, reports, risk.state) are all equal.
  bool metrics = false;
};

/// True for the session metadata types that diff skips.
bool is_session_metadata(std::string_view type) noexcept;

/// True for a dead_letter of the feed: its report of a bad or dropped/flagged row of its
/// data file (workers/feed.hpp). It is about the file, not derived from the log: a replay
/// of the session, or a backtest whose inputs traderctl publishes itself (--lockstep,
/// --chaos-restart), has none. diff skips it. Pure.
bool is_feed_report(const eventstore::StoredEvent& e);

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
/// The same with each session read from its own store (a live session against a
/// research one: tooling/stores.hpp).
SessionDiff diff_sessions(eventstore::EventStore& store_a, const std::string& a, eventstore::EventStore& store_b,
                          const std::string& b);

/// The human-readable report of `d` (what `traderctl diff` prints).
std::string format_diff(const SessionDiff& d, const std::string& a, const std::string& b);

}  // namespace services
