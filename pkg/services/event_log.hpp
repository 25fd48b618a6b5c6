/// @file event_log.hpp
/// @brief Reading the event log (the JetStream stream EVENTS and its copy in the
///        PostgreSQL event store) in the one order every replay sees.
///
/// The stream is the bus's total order: every captured message has a sequence
/// number, and the recorder stores it in the event store as msg_id
/// "<stream>:<sequence>" in that order. Workers that keep state (execution,
/// risk-state) rebuild it at start by reading this history: from the store (the
/// permanent record) as far as it goes, then from the stream for what the
/// recorder has not stored yet. Payloads read from PostgreSQL are its jsonb
/// rendering (same values, other key order); every decoder accepts any key order.
///
/// Thread-safety: the functions run on the calling thread and call `fn` there.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "eventstore/event_store.hpp"
#include "natsio/natsio.hpp"

namespace services {

/// One event of the log.
struct LogEvent {
  std::uint64_t seq = 0;       ///< stream sequence
  std::string_view subject;
  std::string_view data;       ///< JSON; valid only during the callback
  bool from_store = false;     ///< true: read from PostgreSQL (jsonb rendering), false: raw bytes from the stream
};

/// What read_history did, for the start-up log line.
struct HistoryStats {
  std::uint64_t last_seq = 0;      ///< highest sequence delivered (`after` = none)
  std::int64_t from_store = 0;
  std::int64_t from_stream = 0;
  std::string store_problem;       ///< why the store was skipped ("" = it was read)
};

/// Calls `fn` for every event of `stream` with sequence `after`+1..`up_to`, in
/// sequence order, exactly once: first the events stored in `store` (nullptr = no store),
/// then the rest from the stream itself. The stream keeps only what the store has
/// not confirmed (interest retention, recorder.hpp): when the stream skips sequences
/// (the recorder stored and acknowledged them meanwhile) they are read from the store.
/// If the store cannot be read (eventstore::StoreUnavailable) `store_problem` says
/// why and the stream is read alone, which works as long as it still holds
/// everything after `after`. Events whose msg_id belongs to another stream are
/// skipped. Throws natsio::NatsError if the stream cannot be read, or if sequences
/// are in neither the stream nor a readable store (the worker then cannot rebuild:
/// it exits, and its supervisor starts it again once the store is back), and
/// whatever `fn` throws.
HistoryStats read_history(eventstore::EventStore* store, natsio::Connection& conn, const std::string& stream,
                          std::uint64_t after, std::uint64_t up_to, const std::function<void(const LogEvent&)>& fn);

}  // namespace services
