/// @file recorder.hpp
/// @brief Captures every message on the trading subjects into the event store.
///
/// The JetStream stream EVENTS captures the subjects in
/// subjects::kCapturedSubjects (market.data.>, trading.>, risk.>, performance.>,
/// reports.>, session.>) on the server. The recorder reads it through a
/// durable pull consumer ("recorder", AckAll) in batches, appends each batch to
/// PostgreSQL in one transaction, and acknowledges the batch's last message
/// only after the commit. The store is the checkpoint: at start the recorder
/// (re)creates its consumer to deliver from the stream sequence after the newest
/// one stored, so messages a killed recorder fetched but never committed are
/// fetched again, in stream order (an AckAll from a newer batch could otherwise
/// acknowledge them unseen). While PostgreSQL is down the same batch is retried;
/// the event's msg_id ("EVENTS:<stream sequence>") is UNIQUE in the store, so a
/// retried or redelivered message is stored once. Nothing is lost; nothing is
/// stored twice; positions follow the stream's order. Each event is filed
/// under its session by SessionAssigner (below).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "eventstore/checkpoint.hpp"
#include "eventstore/event_store.hpp"
#include "services/runtime.hpp"

namespace services {

struct RecorderConfig {
  std::string stream = "EVENTS";
  std::string durable = "recorder";
  int batch = 500;                       ///< messages per fetch and per transaction
  std::int64_t fetch_timeout_ms = 200;
  std::int64_t ack_wait_ms = 30'000;     ///< redelivery if not acked by then
  std::int64_t retry_ms = 500;           ///< wait between attempts while the store is down
};

/// Which session each recorded event belongs to, decided in bus (stream)
/// order, as schema/003_sessions.sql describes: a `session.started` opens its
/// session, every later event belongs to the open session, and a
/// `session.ended` belongs to the session it names and closes it if it is the
/// open one. A second `session.started` while one is open switches to the new
/// session (the first one was left without its end, e.g. ops was killed).
/// Pure; not thread-safe (the recorder's loop owns it).
class SessionAssigner {
 public:
  /// Resumes where the store stops: `last` is the newest stored event (nullopt
  /// for an empty store). Its session is open unless it is a session.ended.
  explicit SessionAssigner(const std::optional<eventstore::StoredEvent>& last);
  /// The session of the next event. `lifecycle_session` is the `session_id` of
  /// a session.started / session.ended payload (nullopt for other types, or a
  /// lifecycle message that did not decode: it then belongs to the open session).
  std::optional<std::string> assign(std::string_view type, const std::optional<std::string>& lifecycle_session);
  /// The open session, nullopt between sessions.
  const std::optional<std::string>& open() const noexcept { return open_; }

 private:
  std::optional<std::string> open_;
};

/// Creates/updates the stream (call before any publisher starts). Throws natsio::NatsError.
void ensure_event_stream(natsio::Connection& conn, const std::string& stream);

/// Signed checkpoints of the store's head (eventstore/checkpoint.hpp), written by
/// the recorder after committed appends: at most one per `every_events` events
/// or per `every_ms` of wall time, whichever comes first (the first append of a
/// run always writes one), and one at shutdown (flush). The head comes from the
/// store (`head`, e.g. PgStore::head through the writer's SECURITY DEFINER
/// function), never from what the recorder believes it wrote.
/// Not thread-safe: the recorder's loop owns it.
class RecorderCheckpoints {
 public:
  RecorderCheckpoints(std::function<eventstore::StoreHead()> head, eventstore::CheckpointSigner signer,
                      std::string path, std::int64_t every_events, std::int64_t every_ms, const core::Clock& clock);
  /// After a commit that stored `stored` new events: writes a checkpoint if one is
  /// due. Returns nullopt, or what failed (reading the head, writing the file);
  /// the next call tries again.
  std::optional<std::string> after_append(std::int64_t stored);
  /// Writes a checkpoint of the head as it is now (at shutdown), unless the store
  /// is empty. Returns as after_append.
  std::optional<std::string> flush();
  /// Checkpoints written so far.
  std::int64_t written() const noexcept { return written_; }
  /// The signing key's id (checkpoint.hpp).
  const std::string& key_id() const noexcept { return signer_.key_id(); }

 private:
  std::optional<std::string> write();
  std::function<eventstore::StoreHead()> head_;
  eventstore::CheckpointSigner signer_;
  std::string path_;
  std::int64_t every_events_, every_ms_;
  const core::Clock& clock_;
  std::int64_t pending_ = 0;                        // events stored since the last checkpoint
  std::optional<core::TimestampNs> last_;           // when the last one was written
  std::int64_t written_ = 0;
};

/// Longest client_order_id the recorder puts in the indexed column, in characters.
constexpr std::size_t kMaxIndexedClientOrderId = 64;

/// The client_order_id to store in the indexed column for a message's
/// `client_order_id`: itself if it is valid UTF-8 of at most
/// kMaxIndexedClientOrderId characters without control characters (U+0000-001F,
/// U+007F-009F), else nullopt (the payload still holds it, so the event is
/// stored; only reads by that id miss it). A hostile id thus never makes the
/// store refuse an event. Pure.
std::optional<std::string> indexed_client_order_id(const std::optional<std::string>& client_order_id);

/// Runs until `stop`; returns the number of events stored by this run.
/// Appends with EventStore::append_or_quarantine: an event the store refuses is
/// stored as a placeholder (and in its quarantine), logged with its msg_id and
/// the reason, counted as an error (a dead_letter on ops.dead_letter), and the
/// status becomes "degraded: N events quarantined" (N over this run).
/// With `checkpoints`, a checkpoint follows committed appends as it says, and one
/// is written when the loop ends; a checkpoint that fails is logged and shown in
/// the status ("degraded: checkpoint: ..."), and recording goes on.
/// Throws natsio::NatsError if JetStream fails for good, std::runtime_error for
/// a store failure that is not about an event (e.g. no INSERT privilege).
std::int64_t run_recorder(Runtime& rt, eventstore::EventStore& store, const RecorderConfig& cfg,
                          const std::atomic<bool>& stop, RecorderCheckpoints* checkpoints = nullptr);

}  // namespace services
