/// @file sessions.hpp
/// @brief Recorded sessions as people use them: what a session was (its
/// manifest, counts, P&L), and moving a session between stores as a gzip'd
/// JSON Lines file (`traderctl sessions`, `export`, `import`).
///
/// A session is every event with its session_id (schema/003_sessions.sql):
/// session.started, the workers' worker.started manifests, the market data,
/// orders, reports and risk events recorded while it was open, session.ended.
/// Functions here read and append through eventstore::EventStore, so they
/// throw what it throws (StoreUnavailable, std::runtime_error); they are not
/// thread-safe (one store per thread).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/messages.hpp"
#include "eventstore/event_store.hpp"

namespace services {

/// What `traderctl sessions show ID` prints.
struct SessionInfo {
  eventstore::SessionSummary summary;
  std::optional<core::SessionStarted> started;   ///< nullopt if its session.started is not in the store
  std::optional<core::SessionEnded> ended;       ///< nullopt while open (or if it never ended)
  /// The newest worker.started of each worker within the session, sorted by worker.
  std::vector<core::WorkerStarted> workers;
  std::vector<std::pair<std::string, std::int64_t>> counts_by_type;
  /// The newest performance.report (final) in the session, else the newest
  /// performance.metrics; nullopt if the reporter published neither.
  std::optional<core::PerformanceReport> report;
};

/// Reads everything about one session. Throws std::runtime_error("unknown
/// session ...") if the store holds no event of it.
SessionInfo describe_session(eventstore::EventStore& store, const std::string& session_id);

/// Writes every event of the session, in position order, to `path` as gzip'd
/// JSON Lines: one header line {"type":"session.export","v":1,"session_id":...},
/// one line per event {"msg_id","session_id","subject","type",
/// "client_order_id"|null,"ts_event"|null,"payload":<the payload as stored>},
/// and a trailer {"type":"session.export.end","events":N} that import checks, so
/// a truncated file is refused. Returns N. Throws std::runtime_error for an
/// unknown session or a file that cannot be written.
std::int64_t export_session(eventstore::EventStore& store, const std::string& session_id, const std::string& path);

struct ImportSummary {
  std::string session_id;
  std::int64_t events = 0;   ///< events in the file
  std::int64_t stored = 0;   ///< newly stored (less than events only when an earlier import was cut short)
};

/// Loads a file written by export_session into `store`, in the file's order.
/// Each event keeps its session_id, subject, type, client_order_id, ts_event
/// and payload; its msg_id becomes "import:<msg_id>" (unless it already starts
/// with "import:"), so it cannot collide with the store's own stream events,
/// and running the same import again stores nothing twice. The whole file is
/// read and checked before anything is appended. Refused (std::runtime_error
/// naming the line and field) for a malformed or truncated file, for a file
/// that repeats a msg_id (an export never does, and the store would keep only
/// the first: `FILE:3: msg_id: "m1" repeats line 2`), or when the
/// store already holds events of that session from elsewhere (a session is
/// never mixed with another copy of itself). `reader` is read for the session's
/// events already stored and `writer` appends: in a deployment the reader's and
/// the writer's roles (traderctl import: DATABASE_URL, TRADER_WRITER_DATABASE_URL);
/// they may be the same store. `check_session`, when set, is called with the
/// file's session id after the file is checked and before anything is read or
/// appended; it refuses the import by throwing (traderctl: a session the live
/// store holds is never imported into the research store).
ImportSummary import_session(eventstore::EventStore& reader, eventstore::EventStore& writer, const std::string& path,
                             const std::function<void(const std::string&)>& check_session = {});
inline ImportSummary import_session(eventstore::EventStore& store, const std::string& path) {
  return import_session(store, store, path);
}

}  // namespace services
