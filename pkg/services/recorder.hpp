/// @file recorder.hpp
/// @brief Captures every message on the trading subjects into the event store.
///
/// The JetStream stream EVENTS captures market.data.>, trading.>, risk.>,
/// performance.> and reports.> on the server. The recorder reads it through a
/// durable pull consumer ("recorder", AckAll) in batches, appends each batch to
/// PostgreSQL in one transaction, and acknowledges the batch's last message
/// only after the commit. The store is the checkpoint: at start the recorder
/// (re)creates its consumer to deliver from the stream sequence after the newest
/// one stored, so messages a killed recorder fetched but never committed are
/// fetched again, in stream order (an AckAll from a newer batch could otherwise
/// acknowledge them unseen). While PostgreSQL is down the same batch is retried;
/// the event's msg_id ("EVENTS:<stream sequence>") is UNIQUE in the store, so a
/// retried or redelivered message is stored once. Nothing is lost; nothing is
/// stored twice; positions follow the stream's order.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

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

/// Creates/updates the stream (call before any publisher starts). Throws natsio::NatsError.
void ensure_event_stream(natsio::Connection& conn, const std::string& stream);

/// Runs until `stop`; returns the number of events stored by this run.
/// Throws natsio::NatsError if JetStream fails for good.
std::int64_t run_recorder(Runtime& rt, eventstore::EventStore& store, const RecorderConfig& cfg,
                          const std::atomic<bool>& stop);

}  // namespace services
