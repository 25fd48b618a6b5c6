/// @file bus.hpp
/// @brief The bus a worker runs on: NATS (NatsBus: the deployed system, the sandbox
/// of `traderctl backtest`) or one process (MemoryBus, memory_bus.hpp: `traderctl
/// backtest --in-process`). The workers (risk_state, execution, strategy, reporter)
/// are written against this interface only, so both run the same worker code.
///
/// What a worker needs of a bus:
/// - publish a message on a subject, and subscribe to subjects (core messages:
///   requests, ops);
/// - the event log: one total order of every captured message (subjects::
///   kCapturedSubjects), each with its sequence from 1. A worker reads the log's
///   history at start (read_history) and then follows its live tail (follow), from
///   the sequence after the history's end.
///
/// Errors: NatsBus throws natsio::NatsError where the nats.c call fails (see each
/// method); MemoryBus never fails. Thread-safety: as each implementation says.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "eventstore/event_store.hpp"
#include "natsio/log_publisher.hpp"
#include "natsio/natsio.hpp"
#include "workers/event_time.hpp"

namespace services {

class Runtime;

/// One event of the log.
struct LogEvent {
  std::uint64_t seq = 0;       ///< its sequence in the log (JetStream: the stream sequence)
  std::string_view subject;
  std::string_view data;       ///< JSON; valid only during the callback
  bool from_store = false;     ///< true: read from PostgreSQL (jsonb rendering), false: raw bytes from the stream
  /// Live delivery only: nothing else waits in the client's queue after it (the
  /// follower caught up with what the server sent). A worker publishes its progress
  /// then (event_time.hpp). False while reading history.
  bool caught_up = false;
  /// In-process only (MemoryBus): the bus's one copy of the event, which `subject` and
  /// `data` view, with its market data decoded once for every worker. nullptr on NATS.
  std::shared_ptr<const SharedEvent> shared;
};

/// What read_history did, for the start-up log line.
struct HistoryStats {
  std::uint64_t last_seq = 0;      ///< highest sequence delivered (`after` = none)
  std::int64_t from_store = 0;
  std::int64_t from_stream = 0;    ///< from the bus's log (JetStream stream, or MemoryBus's log)
  std::string store_problem;       ///< why the store was skipped ("" = it was read)
};

/// A subscription to core messages. Destroying it stops delivery and returns only once
/// its handler is not running and will not run again (NATS: natsio::Subscription waits
/// for nats.c's on-complete callback; MemoryBus: one thread does everything), so what
/// the handler uses may be destroyed right after. Exceptions (NATS, natsio.hpp
/// ~Subscription): destroyed from a handler on the delivery thread, where no other
/// handler runs meanwhile anyway, and a handler still running after 5 s (an alarm in
/// the connection's log; it returns then).
class BusSubscription {
 public:
  virtual ~BusSubscription() = default;
};

/// The live tail of the event log a worker follows after its rebuild. Delivery
/// waits until open(); destroying it stops delivery and, as for BusSubscription,
/// returns only once its callback is not running and will not run again.
class LogTail {
 public:
  virtual ~LogTail() = default;
  /// The rebuild is done and handled every sequence up to `handled`: live delivery
  /// starts after it.
  virtual void open(std::uint64_t handled) = 0;
};

class Bus {
 public:
  using Handler = std::function<void(const natsio::Message&)>;
  virtual ~Bus() = default;

  /// Publishes `payload` on `subject`. Returns false if it could not be sent
  /// (last_error() says why); never throws.
  virtual bool publish(std::string_view subject, std::string_view payload) = 0;
  /// Publishes market data: `payload` must be codec::encode(md). The same as
  /// publish(subject, payload), except that an in-process bus takes `md` as the decoded
  /// message instead of parsing `payload` again (the codec gives back every record the
  /// feed's reader yields unchanged: tests/fuzz/marketdata_fuzz.cpp checks
  /// decode(encode(record)) == record). Never throws.
  virtual bool publish_market(std::string_view subject, const core::MarketData& md, std::string_view payload) {
    (void)md;
    return publish(subject, payload);
  }
  /// Why the latest publish failed.
  virtual std::string last_error() const = 0;
  /// Calls `fn` for every core message on a subject matching `pattern` (NATS
  /// wildcards). Throws natsio::NatsError (NatsBus) if the subscription fails.
  virtual std::unique_ptr<BusSubscription> subscribe(std::string_view pattern, Handler fn) = 0;
  /// Returns once everything published so far reached the server (NatsBus; throws
  /// natsio::NatsError after `timeout_ms`). MemoryBus: returns at once.
  virtual void flush(std::int64_t timeout_ms = 5'000) = 0;

  /// The last sequence of the event log `stream` (0 = empty). Throws natsio::NatsError
  /// (NatsBus) if the stream cannot be asked.
  virtual std::uint64_t log_end(const std::string& stream) = 0;
  /// Calls `fn` for every event of the log with sequence `after`+1..`up_to`, in order,
  /// exactly once (NatsBus: services::read_history, event_log.hpp: the store first,
  /// then the stream; MemoryBus: its own log, `store` unused). Throws what
  /// read_history throws, and whatever `fn` throws.
  virtual HistoryStats read_history(eventstore::EventStore* store, const std::string& stream, std::uint64_t after,
                                    std::uint64_t up_to, const std::function<void(const LogEvent&)>& fn) = 0;
  /// Follows the log from `end`+1 (NatsBus: a LogFollower, event_log.hpp). Create it
  /// before reading the history up to `end`; `fn` runs once per sequence after open().
  virtual std::unique_ptr<LogTail> follow(Runtime& rt, eventstore::EventStore* store, const std::string& stream,
                                          std::uint64_t end, std::function<void(const LogEvent&)> fn) = 0;

  /// The NATS connection under this bus; nullptr for an in-process bus. For what only
  /// NATS has (JetStream administration, the recorder, the feed).
  virtual natsio::Connection* nats() noexcept { return nullptr; }
};

/// The bus over one nats.c connection (which it does not own). Thread-safety: as
/// natsio::Connection (publishing is thread-safe; handlers run on the delivery thread).
///
/// What goes to the event stream directly (subjects::published_to_event_stream) is sent
/// through a natsio::LogPublisher, so the stream confirms each message and a leader's
/// death loses none (docs/scaling.md); publish() then blocks while 4,096 messages wait
/// for their confirmation. Everything else (heartbeats, replies, requests) is core NATS.
/// The publisher is made at the first such publish, if the stream acknowledges publishes
/// (a stream made before issue 15 does not: then core NATS, with a warning, until
/// `traderctl stream-init` updates it).
class NatsBus final : public Bus {
 public:
  /// `stream`: the event log's JetStream stream, asked once whether it confirms publishes.
  NatsBus(natsio::Connection& conn, std::string stream) noexcept
      : conn_(conn), stream_(std::move(stream)) {}
  /// Waits up to 5 s for the stream to confirm what was published (LogPublisher's destructor).
  ~NatsBus() override;
  bool publish(std::string_view subject, std::string_view payload) override;
  std::string last_error() const override { return conn_.last_error(); }
  std::unique_ptr<BusSubscription> subscribe(std::string_view pattern, Handler fn) override;
  /// Also waits until the stream confirmed every message published to it (throws
  /// natsio::NatsError if not within `timeout_ms`).
  void flush(std::int64_t timeout_ms) override;
  std::uint64_t log_end(const std::string& stream) override;
  HistoryStats read_history(eventstore::EventStore* store, const std::string& stream, std::uint64_t after,
                            std::uint64_t up_to, const std::function<void(const LogEvent&)>& fn) override;
  std::unique_ptr<LogTail> follow(Runtime& rt, eventstore::EventStore* store, const std::string& stream,
                                  std::uint64_t end, std::function<void(const LogEvent&)> fn) override;
  natsio::Connection* nats() noexcept override { return &conn_; }

 private:
  natsio::LogPublisher* log_publisher();  ///< nullptr: the stream does not acknowledge
  natsio::Connection& conn_;
  std::string stream_;
  std::mutex mu_;                         ///< guards the lazy start below
  bool checked_ = false;                  ///< asked the stream whether it acknowledges
  std::unique_ptr<natsio::LogPublisher> log_pub_;
};

}  // namespace services
