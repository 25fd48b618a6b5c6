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
/// under its session by SessionAssigner (below). Two batches overlap: while one
/// is appended (on a thread of its own, its commit waiting for the disk), the
/// next is fetched and built; appends still run one at a time in stream order,
/// and a batch is acknowledged only once it and every batch before it committed.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "eventstore/checkpoint.hpp"
#include "eventstore/event_store.hpp"
#include "codec/codec.hpp"
#include "subjects/subjects.hpp"
#include "workers/runtime.hpp"

namespace services {

struct RecorderConfig {
  std::string stream = "EVENTS";
  std::string durable = "recorder";
  int batch = 500;                       ///< messages per fetch and per transaction
  std::int64_t fetch_timeout_ms = 200;
  std::int64_t retry_ms = 500;           ///< wait between attempts while the store is down
  /// Input-set mode (traderctl's sandboxes; pkg/tooling/input_sets.hpp): a file of the
  /// session's inputs' digests, one lowercase hex SHA-256 of subject, NUL, payload per
  /// line, in publish order. The k-th market.data.* message of the stream after its
  /// session.started whose digest equals line k is acknowledged and not stored (its
  /// input set holds it; the session's gap at its sequence is where readers put it
  /// back, workers/input_set.hpp); any other is stored. "" = store everything.
  std::string input_digests;
  /// With input_digests: the file where it keeps (the last stream sequence counted, the
  /// inputs counted, whether the session.started was seen), written after each commit and before the acknowledgement, so a
  /// restarted recorder counts on from there (what it acknowledged without storing is
  /// an input it skipped; what it did not acknowledge comes again and is counted then).
  std::string input_state;
};

/// The event stream as an admin creates it (bootstrap_event_stream).
struct EventStreamConfig {
  std::string stream = "EVENTS";
  std::string durable = "recorder";      ///< the recorder's durable pull consumer
  /// Unacknowledged messages are redelivered after this (a restarted recorder gets the
  /// batch its predecessor fetched but never acknowledged again after at most this).
  std::int64_t ack_wait_ms = 5'000;
  /// At most this many messages delivered and not acknowledged: the recorder holds at
  /// most two batches (one being appended, the next fetched) and never asks for more
  /// than this in all, so a redelivery comes before anything newer (stream order).
  std::int64_t max_ack_pending = 1'000;
  /// The stream holds only what the store has not confirmed (interest retention); this
  /// bounds it during a long outage of the recorder or the store. When full, new
  /// messages are refused (DiscardNew), never an unrecorded one dropped, and ops.status
  /// says so. 0 = no limit.
  std::int64_t max_bytes = 4LL << 30;
  std::int32_t max_msg_size = 1 << 20;   ///< NATS' own default max_payload
  /// Copies of the stream (and of the recorder's consumer, and of the single writers'
  /// leases: lease.hpp, their bucket is created with the stream) on a cluster's nodes: 1 on
  /// one nats-server, 3 on a 3-node cluster (survives the loss of any one node). At most
  /// the number of nodes with JetStream, else the server refuses the stream.
  int replicas = 1;
  /// How long the event stream remembers a message's `Nats-Msg-Id` to drop a second copy
  /// of it (natsio::LogPublisher sends a message again when unsure it was stored): longer
  /// than a leader election (about 7 s measured, docs/scaling.md) plus a publisher's
  /// acknowledgement timeout. The stream keeps one entry per message of the window.
  std::int64_t duplicate_window_ms = 30'000;
  /// The stream of what people send (subjects::kInputStreamSubjects, not acknowledged),
  /// copied into the event stream; it keeps a message this long (the copy is made at once).
  std::string input_stream = std::string(subjects::kInputStream);
  std::int64_t input_max_age_ms = 24LL * 3600 * 1000;
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

/// The event the recorder stores for message `seq` of `stream`: msg_id "<stream>:<seq>",
/// subject, and from the payload its type, client_order_id and ts_event (0 = none), its
/// session from `sessions`; a payload that is not a valid message is kept as type
/// "invalid" with the error and the raw bytes (nothing accepted is lost). Also what
/// `traderctl backtest --in-process --record` stores. Not thread-safe (`dec`, `sessions`).
eventstore::NewEvent recorded_event(codec::Decoder& dec, SessionAssigner& sessions, std::string_view stream,
                                    std::uint64_t seq, std::string_view subject, std::string_view data);

/// The admin's bootstrap (`traderctl stream-init`, the test harness, sandboxes): creates
/// or updates the event stream on subjects::kCapturedSubjects with interest retention
/// and the limits of `cfg`, and the recorder's durable consumer, before any worker
/// starts: a message published while no consumer exists is not kept (interest
/// retention), so the recorder's consumer must exist first; and the bucket of the single
/// writers' leases (bootstrap_leases, lease.hpp). Needs admin rights
/// (pkg/auth). Throws natsio::NatsError naming what failed, e.g. an existing stream
/// with another retention (JetStream cannot change it).
void bootstrap_event_stream(natsio::Connection& admin, const EventStreamConfig& cfg);

/// What every worker that uses the stream calls at start instead of creating it
/// (workers may not): waits until `stream` exists, up to `timeout_ms`, logging once (the
/// connection's log) that it waits. Throws natsio::NatsError if it never appears ("run traderctl
/// stream-init with the admin credentials").
void wait_for_event_stream(natsio::Connection& conn, const std::string& stream, std::int64_t timeout_ms = 60'000);

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

/// Runs until `stop`; returns the number of events stored by this run.
/// Binds to the durable consumer the admin created (bootstrap_event_stream); if it is
/// missing (an admin deleted it) it creates it, with an ALARM: what was published
/// meanwhile is not in the stream. The consumer redelivers what a previous run fetched
/// and never acknowledged; messages at or below the newest stream sequence the store
/// holds are acknowledged without being appended again (they are stored), and an
/// acknowledgement floor above it (the store lost events the stream no longer holds)
/// is an ALARM and a degraded status.
/// Appends with EventStore::append_or_quarantine: an event the store refuses is
/// stored as a placeholder (and in its quarantine), and quarantined in the Runtime
/// (logged with its msg_id and the reason, dead-lettered, counted, status degraded).
/// A NATS failure (an outage of any length, "Exceeded MaxWaiting") is logged and
/// retried with a back-off up to 5 s; the loop never ends because of it.
/// With `checkpoints`, a checkpoint follows committed appends as it says, and one
/// is written when the loop ends; a checkpoint that fails is logged and shown in
/// the status ("degraded: checkpoint: ..."), and recording goes on.
/// Throws std::runtime_error for a store failure that is not about an event (e.g.
/// no INSERT privilege), natsio::NatsError if the consumer cannot be bound at start.
std::int64_t run_recorder(Runtime& rt, eventstore::EventStore& store, const RecorderConfig& cfg,
                          const std::atomic<bool>& stop, RecorderCheckpoints* checkpoints = nullptr);

}  // namespace services
