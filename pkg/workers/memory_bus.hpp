/// @file memory_bus.hpp
/// @brief The bus in one process: what `traderctl backtest --in-process` runs the
/// workers on (tooling/in_process.hpp). No NATS server, no PostgreSQL.
///
/// It behaves as the deployed bus does, as far as a worker can tell:
/// - publish() queues the message. run() then delivers the queue in publish order: each
///   message to every core subscriber whose pattern matches (in subscription order),
///   and, when its subject is captured by the event stream (subjects::
///   kCapturedSubjects), it is appended to the event log (sequence 1, 2, ...) and
///   handed to every open log follower (in the order they were created). What a
///   handler publishes is queued behind. The log is one total order, as the JetStream
///   stream is; every worker sees every captured message, as an unfiltered ordered
///   consumer does.
/// - The workers' event-time order (event_time.hpp) makes what they publish a function
///   of the log's causes, not of delivery order, so the results are those of the NATS
///   pipeline (docs/architecture.md, "Event time").
/// - Reply subjects: a request published with a reply subject is not modelled; a core
///   subscriber gets natsio::Message::reply empty.
/// - Each captured event is held once (SharedEvent) and handed to the followers with
///   LogEvent::shared: a worker that buffers it keeps that copy, and decode_market takes
///   the market data the bus decoded once (log_input.hpp) instead of parsing the bytes
///   again in every worker. What a worker sees is what it would decode itself.
///
/// Memory: with `keep_log` the log keeps every event (read_history then works from
/// sequence 1, and log() gives it); without it an event is dropped once delivered, so
/// a run over a file of any size takes memory for its queue only. `on_logged` sees
/// every event as it is appended either way (e.g. to record it).
///
/// Thread-safety: none. One thread publishes, runs and owns every worker on it (the
/// workers' Runtime must not start its heartbeat thread: no start_heartbeat()).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "workers/bus.hpp"

namespace services {

class MemoryBus final : public Bus {
 public:
  struct Entry {
    std::string subject;
    std::string data;
    std::optional<core::MarketData> market;  ///< publish_market: the message `data` encodes
  };
  /// Sees each event appended to the log: its sequence, subject and JSON.
  using LogSink = std::function<void(std::uint64_t seq, std::string_view subject, std::string_view data)>;

  explicit MemoryBus(bool keep_log = false, LogSink on_logged = {});
  ~MemoryBus() override;
  MemoryBus(const MemoryBus&) = delete;
  MemoryBus& operator=(const MemoryBus&) = delete;

  /// Queues the message (copied); never fails.
  bool publish(std::string_view subject, std::string_view payload) override;
  /// As publish; `md` becomes the event's SharedEvent::market (with decode_market's
  /// symbol check) instead of a decode of `payload`.
  bool publish_market(std::string_view subject, const core::MarketData& md, std::string_view payload) override;
  std::string last_error() const override { return {}; }
  std::unique_ptr<BusSubscription> subscribe(std::string_view pattern, Handler fn) override;
  void flush(std::int64_t) override {}
  /// The log's last sequence (whatever `stream` names: there is one log).
  std::uint64_t log_end(const std::string& stream) override;
  /// The log's events `after`+1..`up_to` (from_stream counts them). Throws
  /// std::logic_error if the log does not keep them (keep_log false).
  HistoryStats read_history(eventstore::EventStore* store, const std::string& stream, std::uint64_t after,
                            std::uint64_t up_to, const std::function<void(const LogEvent&)>& fn) override;
  /// A follower of the log from `end`+1, delivered by run() once opened.
  std::unique_ptr<LogTail> follow(Runtime& rt, eventstore::EventStore* store, const std::string& stream,
                                  std::uint64_t end, std::function<void(const LogEvent&)> fn) override;

  /// Delivers everything queued, and what that publishes, until nothing is left.
  /// Exceptions from handlers propagate (the workers guard their own). Not reentrant:
  /// a call from within a handler returns at once.
  void run();
  /// Stops keeping the log (and drops what it kept): from here on memory holds the
  /// queue only, and read_history throws. E.g. once every worker has started.
  void stop_keeping_log() {
    keep_log_ = false;
    log_.clear();
  }
  /// Messages delivered so far (captured or not).
  std::uint64_t delivered() const noexcept { return delivered_; }
  /// The log as kept (keep_log; else empty). Event i has sequence i + 1.
  const std::deque<std::shared_ptr<const SharedEvent>>& log() const noexcept { return log_; }

  struct Follower;
  struct Sub;

 private:
  void deliver(Entry e);
  bool keep_log_;
  LogSink on_logged_;
  std::deque<Entry> queue_;
  std::deque<std::shared_ptr<const SharedEvent>> log_;
  codec::Decoder dec_;  ///< decodes each market data event once (SharedEvent::market)
  std::uint64_t seq_ = 0;
  std::uint64_t delivered_ = 0;
  bool running_ = false;
  std::vector<Follower*> followers_;  ///< in creation order; each removes itself when destroyed
  std::vector<Sub*> subs_;            ///< in subscription order; likewise
};

}  // namespace services
