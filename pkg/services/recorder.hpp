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
#include <optional>
#include <string>
#include <string_view>

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

/// Runs until `stop`; returns the number of events stored by this run.
/// Throws natsio::NatsError if JetStream fails for good.
std::int64_t run_recorder(Runtime& rt, eventstore::EventStore& store, const RecorderConfig& cfg,
                          const std::atomic<bool>& stop);

}  // namespace services
