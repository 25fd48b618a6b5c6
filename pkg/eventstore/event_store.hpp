/// @file event_store.hpp
/// @brief The append-only event store: one `EventStore` interface, a
///        PostgreSQL backend (`PgStore`) and an in-memory one (`MemoryStore`).
///
/// Every event has a global `position` (from 1, ascending in order of append) and
/// a unique `msg_id` (e.g. "EVENTS:12345", the JetStream stream:sequence).
/// Appending an event whose msg_id is already stored does nothing, so a
/// redelivered message, or a retried batch, is stored exactly once.
/// Events are never updated or deleted (PostgreSQL enforces it by trigger).
///
/// Errors (STYLE.md section 6):
/// - `StoreUnavailable`: the database can't be reached, the connection broke,
///   or a commit's outcome is unknown. Nothing or everything of the batch was
///   committed; retry the same batch later (msg_id dedup makes it safe).
/// - `std::runtime_error`: anything else (e.g. a payload that is not JSON, a
///   wrong password, a schema that needs `traderctl migrate`); nothing of the
///   batch was committed and retrying won't help. A recorder appends with
///   append_or_quarantine instead, which stores a placeholder for each event the
///   store refuses, so that no message can stop it.
///
/// What both stores refuse (storable.hpp): payloads that are not JSON or that
/// jsonb refuses (e.g. "\u0000" in a string); a NUL byte in any field; invalid
/// UTF-8 in msg_id, subject, type, client_order_id or session_id; any of these
/// longer than 2048 bytes (each is indexed; PostgreSQL refuses index entries
/// over 2704 bytes).
///
/// This header does not include libpqxx; see migrations.hpp for the schema and
/// pkg/eventstore/roles.sql for the roles a deployment connects as.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "core/time.hpp"

namespace eventstore {

/// An event to append. The store copies what it needs; the caller keeps ownership.
struct NewEvent {
  std::string msg_id;                          ///< unique id; duplicates are skipped
  std::string subject;                         ///< NATS subject it was published on
  std::string type;                            ///< the payload's "type"
  std::optional<std::string> client_order_id;  ///< for reads by order, if the message has one
  std::optional<core::TimestampNs> ts_event;   ///< from the payload, if it has one
  std::string payload;                         ///< JSON text; must be valid JSON
  /// The session the event belongs to (assigned by the recorder, see
  /// schema/003_sessions.sql); nullopt outside any session.
  std::optional<std::string> session_id;
};

/// An event as stored.
struct StoredEvent {
  std::int64_t position = 0;                   ///< global, ascending in order of append, from 1
  std::string msg_id;
  std::string subject;
  std::string type;
  std::optional<std::string> client_order_id;
  std::optional<core::TimestampNs> ts_event;
  /// JSON text. PgStore returns PostgreSQL's jsonb rendering (same value, but
  /// key order and whitespace may differ from what was appended); MemoryStore
  /// returns the appended bytes.
  std::string payload;
  std::optional<std::string> session_id;       ///< nullopt outside any session
  friend bool operator==(const StoredEvent&, const StoredEvent&) = default;
};

/// A filtered read: every set field must match; results ascend by position.
/// Indexes (PgStore, schema/007): (session_id, position), (type, position) for
/// every type but market data (quote, trade, bar: frequent, found by walking the
/// primary key), client_order_id. subject and the ts_event range are filtered
/// within what the other fields select (a session's index, or the primary key).
struct EventQuery {
  std::optional<std::string> session_id;
  std::optional<std::string> subject;          ///< exact subject, e.g. "trading.executions"
  std::optional<std::string> type;             ///< exact type, e.g. "execution_report"
  std::optional<std::string> client_order_id;
  std::optional<core::TimestampNs> ts_from;    ///< ts_event >= ts_from (events without ts_event never match)
  std::optional<core::TimestampNs> ts_to;      ///< ts_event < ts_to
  std::int64_t after_position = 0;             ///< page on: the last position already read
  std::size_t limit = 10'000;
};

/// One session as the store holds it (events with that session_id).
struct SessionSummary {
  std::string session_id;
  std::int64_t first_position = 0;             ///< of its first event (normally session.started)
  std::int64_t last_position = 0;
  std::int64_t events = 0;
  std::optional<core::TimestampNs> first_ts_event, last_ts_event;  ///< market time span, ns UTC
  friend bool operator==(const SessionSummary&, const SessionSummary&) = default;
};

/// A read of everything one EventQuery selects, in position order, a page at a
/// time (EventStore::open_reader). Thread-safety: use it from one thread at a
/// time. It does not use the store's own connection (PgStore: it has its own), so
/// several readers may be open at once and the store stays usable meanwhile.
class EventReader {
 public:
  virtual ~EventReader() = default;
  /// The next page: up to the query's `limit` events (10,000 when 0), ascending by
  /// position; empty once everything was read.
  /// @throws StoreUnavailable, std::runtime_error as EventStore::query.
  virtual std::vector<StoredEvent> next() = 0;
};

/// The database can't be reached (connection refused or lost, server shutting
/// down) or a commit's outcome is unknown. The caller retries later.
class StoreUnavailable : public std::runtime_error {
 public:
  using runtime_error::runtime_error;
};

/// An event the store refused, stored as a placeholder (append_or_quarantine).
struct QuarantinedEvent {
  std::string msg_id;
  std::string reason;  ///< PostgreSQL's error text, or the store's own rule (storable.hpp)
  friend bool operator==(const QuarantinedEvent&, const QuarantinedEvent&) = default;
};

/// What append_or_quarantine did with a batch.
struct AppendReport {
  std::size_t stored = 0;                      ///< events newly stored, placeholders included
  std::vector<QuarantinedEvent> quarantined;   ///< in batch order; each is among `stored`
};

/// Append-only event log. Implementations document their thread-safety.
class EventStore {
 public:
  virtual ~EventStore() = default;

  /// Appends `batch` atomically (all or nothing), in the given order. Events
  /// whose msg_id is already stored, or repeats an earlier msg_id of the same
  /// batch, are skipped. Positions of the stored events increase in batch order.
  /// @return how many events were newly stored (0 for an empty batch).
  /// @throws StoreUnavailable the store can't be reached; nothing was committed,
  ///         or the commit outcome is unknown. Retry the same batch.
  /// @throws std::runtime_error any other failure (e.g. invalid JSON payload);
  ///         nothing was committed.
  virtual std::size_t append(const std::vector<NewEvent>& batch) = 0;

  /// Appends `batch` like append(), but an event the store refuses (see the top
  /// of this file) does not fail the batch: every other event is stored as
  /// append() would, in batch order, and in place of each refused one, in the
  /// same transaction,
  ///   (a) a placeholder event with the same msg_id, ts_event, subject and
  ///       session_id (each when storable), type "quarantined", no client_order_id
  ///       and an ASCII JSON payload naming the reason and holding the raw
  ///       payload base64'd (cut to 64 KiB; storable.hpp), so the hash chain
  ///       covers it and msg_id dedup and the recorder's resume point still work;
  ///   (b) a record of the raw payload and the reason (PgStore: a row of
  ///       events_quarantine; MemoryStore: quarantine()).
  /// Costs what append() costs when nothing is refused; otherwise the batch is
  /// stored event by event (PgStore: a savepoint each).
  /// @return events stored and the refused ones, with the reasons.
  /// @throws StoreUnavailable as append(): retry the same batch.
  /// @throws std::runtime_error a failure that is not about an event (e.g. no
  ///         INSERT privilege, disk full) or a msg_id that can't be stored.
  virtual AppendReport append_or_quarantine(const std::vector<NewEvent>& batch) = 0;

  /// Up to `limit` events with position > `after_position`, ascending by position.
  /// Read from 0 to start at the beginning; continue from the last position read.
  /// @throws StoreUnavailable, std::runtime_error as append.
  virtual std::vector<StoredEvent> read(std::int64_t after_position, std::size_t limit) = 0;

  /// Events matching every set field of `q`, ascending by position, at most q.limit.
  /// @throws StoreUnavailable, std::runtime_error as append.
  virtual std::vector<StoredEvent> query(const EventQuery& q) = 0;

  /// Opens a read of every event matching `q` with position > q.after_position, in
  /// position order, q.limit per EventReader::next (0 = 10,000). Read a whole
  /// session (replay, export, diff) this way rather than by paging with query():
  /// PgStore runs ONE statement through a server-side cursor, in a read-only
  /// REPEATABLE READ transaction on a connection of its own (a snapshot: events
  /// appended after opening are not seen), so the whole read costs one plan
  /// whatever the planner estimates. Paging with query() plans every page anew: for
  /// a session appended after the table's last ANALYZE, PostgreSQL 15 estimated a
  /// few hundred rows and chose, for every page, a bitmap scan plus a sort of all
  /// the session's remaining events, quadratic in the session's size (300,000
  /// events read at about 30,000/s; tests/bench/replay_bench).
  /// @throws StoreUnavailable, std::runtime_error as query().
  virtual std::unique_ptr<EventReader> open_reader(const EventQuery& q) = 0;

  /// (type, number of events) for every type, sorted by type (bytewise).
  virtual std::vector<std::pair<std::string, std::int64_t>> count_by_type() = 0;

  /// (type, number of events) within one session, sorted by type (bytewise).
  virtual std::vector<std::pair<std::string, std::int64_t>> count_by_type(const std::string& session_id) = 0;

  /// Every session, in order of its first event.
  virtual std::vector<SessionSummary> sessions() = 0;

  /// The newest event (highest position) whose msg_id starts with
  /// `msg_id_prefix` ("" for any), nullopt if there is none. The recorder
  /// resumes its session assignment from the newest "EVENTS:" event.
  virtual std::optional<StoredEvent> last_event(std::string_view msg_id_prefix) = 0;

  /// (subject, number of events) for every subject, sorted by subject (bytewise).
  virtual std::vector<std::pair<std::string, std::int64_t>> count_by_subject() = 0;

  /// Number of stored events.
  virtual std::int64_t count() = 0;

  /// msg_id of the newest event (highest position) whose msg_id starts with
  /// `prefix`, e.g. "EVENTS:" -> "EVENTS:10478"; nullopt if there is none.
  /// The recorder resumes its stream right after it.
  virtual std::optional<std::string> last_msg_id(std::string_view prefix) = 0;

  /// The position of the event with this exact msg_id, nullopt if none is stored (PgStore:
  /// one lookup in the msg_id index; needs SELECT, i.e. not the writer). A reader of one
  /// stream starts there instead of at the beginning of the log (the stream's
  /// "<stream>:1" is its first event): workers/event_log.cpp.
  /// @throws StoreUnavailable, std::runtime_error as query().
  virtual std::optional<std::int64_t> position_of(std::string_view msg_id) = 0;
};

/// Calls fn(StoredEvent&) for every event that store.open_reader(q) reads, in
/// position order; fn may move out of the event (it is not used again). Throws
/// what they throw.
template <class Fn>
void for_each(EventStore& store, const EventQuery& q, Fn&& fn) {
  const auto reader = store.open_reader(q);
  for (auto page = reader->next(); !page.empty(); page = reader->next())
    for (auto& e : page) fn(e);
}

/// Result of checking the hash chain (see schema/002_hash_chain.sql).
struct VerifyResult {
  std::int64_t events = 0;               ///< events checked
  bool ok = true;
  std::int64_t first_bad_position = 0;   ///< 0 when ok
  std::string problem;                   ///< what is wrong there, "" when ok
  std::string head_hash;                 ///< hex SHA-256 of the newest event ("" if empty)
};

/// The newest event and how many events are stored (PgStore::head): what a
/// signed checkpoint (checkpoint.hpp) covers. position 0 and hash "" when empty.
struct StoreHead {
  std::int64_t position = 0;
  std::string hash;          ///< hex SHA-256 of the newest event
  std::int64_t events = 0;
  friend bool operator==(const StoreHead&, const StoreHead&) = default;
};

/// Applies the embedded migrations that the database at `owner_url` lacks
/// (migrations.hpp), connecting as the schema's owner (trader_owner; roles.sql).
/// This is `traderctl migrate`; PgStore never migrates. Thread-safe (its own
/// connection); concurrent migrators serialise and the second applies nothing.
/// @return how many migrations were applied (0: the schema was current).
/// @throws StoreUnavailable if the server can't be reached.
/// @throws std::runtime_error a failed migration, a wrong password, or a
///         database holding a migration under another name than this binary's.
std::size_t migrate(const std::string& owner_url);

/// PostgreSQL backend: one connection, opened lazily again after it breaks.
///
/// Positions come from an identity column. append() holds a transaction-level
/// advisory lock, so concurrent writers (any process) commit one at a time, in
/// position order: a reader that follows positions never skips an event that
/// commits late. Positions may have gaps (a failed or concurrent transaction
/// consumes sequence values); readers must not assume contiguity.
///
/// append() takes the append lock, skips msg_ids already stored, computes
/// positions and the hash chain itself (SHA-256, OpenSSL) and sends the batch as
/// one COPY in one transaction; schema/004 checks the chain once per statement.
///
/// Reads: query() and read() use the indexes listed at EventQuery; open_reader()
/// reads a whole query through one cursor. sessions(),
/// and last_event() / last_msg_id() for a prefix of the form "<stream>:" (no
/// other ':'), read summaries that the appending statement keeps up to date
/// (schema/005), so they cost the same at any size of the log; another prefix
/// walks the primary key back from the newest event until one matches.
/// count(), count_by_type() and count_by_subject() read an index of every event.
///
/// Roles (schema/006_least_privilege.sql): a store connected as the writer
/// (trader_recorder) may append and call last_msg_id(), last_event() and head(),
/// which it serves through SECURITY DEFINER functions since the writer can't
/// SELECT events; every other read needs SELECT (the reader, trader_readonly).
/// A store connected as the reader can't append.
///
/// Thread-safety: NOT thread-safe; use one PgStore per thread.
class PgStore final : public EventStore {
 public:
  /// Connects to `url` (libpq URI or key=value string) and checks that the
  /// schema has every migration this binary embeds. Creates or alters nothing.
  /// @throws StoreUnavailable if the server can't be reached.
  /// @throws std::runtime_error if the server refuses the login (wrong password,
  ///         unknown role or database), if the schema is behind ("event store
  ///         schema is at migration N, this binary needs M: run `traderctl
  ///         migrate` with the owner's URL"), or if the database holds a
  ///         migration with a different name than this binary's.
  explicit PgStore(std::string url);
  ~PgStore() override;
  PgStore(const PgStore&) = delete;
  PgStore& operator=(const PgStore&) = delete;
  /// A moved-from PgStore may only be destroyed or assigned to.
  PgStore(PgStore&&) noexcept;
  PgStore& operator=(PgStore&&) noexcept;

  std::size_t append(const std::vector<NewEvent>& batch) override;
  AppendReport append_or_quarantine(const std::vector<NewEvent>& batch) override;
  std::vector<StoredEvent> read(std::int64_t after_position, std::size_t limit) override;
  std::vector<StoredEvent> query(const EventQuery& q) override;
  std::unique_ptr<EventReader> open_reader(const EventQuery& q) override;
  std::vector<std::pair<std::string, std::int64_t>> count_by_type() override;
  std::vector<std::pair<std::string, std::int64_t>> count_by_type(const std::string& session_id) override;
  std::vector<SessionSummary> sessions() override;
  std::optional<StoredEvent> last_event(std::string_view msg_id_prefix) override;
  std::vector<std::pair<std::string, std::int64_t>> count_by_subject() override;
  std::int64_t count() override;
  std::optional<std::string> last_msg_id(std::string_view prefix) override;
  std::optional<std::int64_t> position_of(std::string_view msg_id) override;

  /// The newest event's position and hash and the number of stored events, read
  /// in one snapshot (the writer: through events_head(); a role with SELECT:
  /// directly). What the recorder signs in a checkpoint.
  /// @throws StoreUnavailable, std::runtime_error as read().
  StoreHead head();

  /// Hex hash of the event at each of `positions` that holds one (position ->
  /// hash), for checking signed checkpoints. Needs SELECT on events.
  /// @throws StoreUnavailable, std::runtime_error as read().
  std::map<std::int64_t, std::string> hashes_at(const std::vector<std::int64_t>& positions);

  /// Number of events at or before `position` (counted, not from a summary).
  /// Needs SELECT on events. @throws as read().
  std::int64_t count_through(std::int64_t position);

  /// Recomputes every event's hash and its link to the previous event, in one
  /// server-side pass, and reports the first event where either fails: a changed
  /// column breaks its own hash, a deleted event breaks the next one's link, a
  /// moved position breaks both. Keep `head_hash` somewhere else to catch a
  /// truncated tail or a rewritten chain.
  /// @throws StoreUnavailable, std::runtime_error as read().
  VerifyResult verify();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// One refused event as MemoryStore::quarantine() keeps it (PgStore: a row of events_quarantine).
struct QuarantineRecord {
  std::string msg_id;
  std::string subject;  ///< the placeholder's
  std::string reason;
  std::string raw;      ///< the payload as given, whole
  friend bool operator==(const QuarantineRecord&, const QuarantineRecord&) = default;
};

/// In-memory backend with PgStore's semantics (atomic batches, msg_id dedup,
/// what is refused, quarantine, positions from 1 without gaps), for tests.
///
/// Thread-safety: thread-safe (one mutex).
class MemoryStore final : public EventStore {
 public:
  MemoryStore() = default;

  std::size_t append(const std::vector<NewEvent>& batch) override;
  AppendReport append_or_quarantine(const std::vector<NewEvent>& batch) override;
  /// Every event refused by append_or_quarantine, in order of append.
  std::vector<QuarantineRecord> quarantine() const;
  std::vector<StoredEvent> read(std::int64_t after_position, std::size_t limit) override;
  std::vector<StoredEvent> query(const EventQuery& q) override;
  std::unique_ptr<EventReader> open_reader(const EventQuery& q) override;
  std::vector<std::pair<std::string, std::int64_t>> count_by_type() override;
  std::vector<std::pair<std::string, std::int64_t>> count_by_type(const std::string& session_id) override;
  std::vector<SessionSummary> sessions() override;
  std::optional<StoredEvent> last_event(std::string_view msg_id_prefix) override;
  std::vector<std::pair<std::string, std::int64_t>> count_by_subject() override;
  std::int64_t count() override;
  std::optional<std::string> last_msg_id(std::string_view prefix) override;
  std::optional<std::int64_t> position_of(std::string_view msg_id) override;

  /// Test hook: while true, every call throws StoreUnavailable (an outage).
  void set_unavailable(bool unavailable);

 private:
  void check_available() const;
  mutable std::mutex mu_;
  bool unavailable_ = false;
  void store(const NewEvent& e);  // with mu_ held
  std::vector<StoredEvent> events_;  // events_[i].position == i + 1
  std::vector<QuarantineRecord> quarantine_;
  std::unordered_set<std::string> msg_ids_;
  std::map<std::string, std::int64_t> by_type_;
  std::map<std::string, std::int64_t> by_subject_;
};

}  // namespace eventstore

/// For logs: `#12 EVENTS:5 trading.orders order.submit` (never the payload).
template <>
struct fmt::formatter<eventstore::StoredEvent> : fmt::formatter<std::string_view> {
  template <class Ctx>
  auto format(const eventstore::StoredEvent& e, Ctx& ctx) const {
    return fmt::format_to(ctx.out(), "#{} {} {} {}", e.position, e.msg_id, e.subject, e.type);
  }
};
