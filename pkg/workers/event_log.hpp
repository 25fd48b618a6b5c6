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

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "eventstore/event_store.hpp"
#include "natsio/natsio.hpp"
#include "workers/bus.hpp"
#include "workers/runtime.hpp"

namespace services {

/// Calls `fn` for every event of `stream` with sequence `after`+1..`up_to`, in
/// sequence order, exactly once: first the events stored in `store` (nullptr = no store),
/// then the rest from the stream itself. The stream keeps only what the store has
/// not confirmed (interest retention, recorder.hpp): when the stream skips sequences,
/// or holds nothing more before `up_to` (the recorder stored and acknowledged them
/// meanwhile), they are read from the store.
/// If the store cannot be read (eventstore::StoreUnavailable) `store_problem` says
/// why and the stream is read alone, which works as long as it still holds
/// everything after `after`. Events whose msg_id belongs to another stream are
/// skipped, and so are the events stored before the stream's first one ("<stream>:1",
/// EventStore::position_of). A session that names an input set (input_set.hpp) has its
/// inputs put back from the set at their sequences: the gaps between its stored events,
/// and those after the last one that the stream no longer holds (it asks the stream
/// where it starts: the recorder acknowledges in order, after committing).
/// Throws natsio::NatsError if the stream cannot be read, or if sequences
/// are in neither the stream nor a readable store (the worker then cannot rebuild:
/// it exits, and its supervisor starts it again once the store is back), and
/// whatever `fn` throws.
HistoryStats read_history(eventstore::EventStore* store, natsio::Connection& conn, const std::string& stream,
                          std::uint64_t after, std::uint64_t up_to, const std::function<void(const LogEvent&)>& fn);

/// Follows the event log live, in stream order, after a rebuild from its history:
/// how execution and risk-state consume their inputs (issue 11: a worker that was
/// disconnected, or whose consumer the server removed meanwhile, misses nothing).
///
/// Create it before reading the history up to `end` (the stream's last sequence
/// read just before): it consumes the stream from `end`+1 with an ordered consumer,
/// so the stream keeps everything after `end` for it (interest retention), even what
/// the recorder acknowledges while the history is read. Its callback waits until
/// open(); then `fn` runs once per sequence, in order:
/// - a consumer reset that delivers again what was handled is skipped;
/// - sequences the consumer skipped (no longer in the stream: after a disconnect long
///   enough for the server to remove the consumer, nats.c creates a new one from the
///   next sequence, but the recorder may have stored and acknowledged those meanwhile)
///   are read from `store` and handled as live (LogEvent::from_store), before the
///   next message the consumer delivers; if they cannot be read they are quarantined
///   (an alarm on ops.dead_letter);
/// - if nothing arrived for 2 s although the stream has moved past the last sequence
///   handled, and the server says our consumer has nothing pending and delivered up to
///   the stream's end (a consumer nats.c created again after a disconnect, which the
///   server started past what the other consumers had acknowledged), a watchdog thread
///   that looks once a second reads the rest of the log (store, then stream) itself. A
///   consumer that still has messages pending is only slow and is left alone.
/// The heartbeat's log_seq (Runtime::set_log_seq) is set to each sequence before
/// `fn` runs, so the lock-step barrier (sandbox.hpp) sees what was handled.
/// Exceptions from `fn` are the caller's to catch (services wrap `fn` in guarded()).
///
/// Thread-safety: `fn` runs on the nats.c delivery thread, or for a gap on the
/// watchdog thread, never two at once (one mutex). open() from any thread, once.
/// Destroying it stops delivery and the watchdog, and returns only once `fn` is not
/// running and will not run again (natsio::OrderedSubscription waits for its handler);
/// if it was never opened (the rebuild threw) a callback waiting at the gate returns
/// without calling `fn`.
/// Whatever `fn` refers to must outlive it.
class LogFollower final : public LogTail {
 public:
  /// Throws natsio::NatsError if the consumer cannot be created.
  LogFollower(Runtime& rt, eventstore::EventStore* store, std::string stream, std::uint64_t end,
              std::function<void(const LogEvent&)> fn);
  ~LogFollower();
  LogFollower(const LogFollower&) = delete;
  LogFollower& operator=(const LogFollower&) = delete;
  /// The rebuild is done and handled every sequence up to `handled` (>= `end`):
  /// live delivery starts after it.
  void open(std::uint64_t handled) override;

 private:
  void on_message(const natsio::StreamMessage& m);
  void fill_gap(std::uint64_t from, std::uint64_t to);  ///< mu_ held
  void watchdog();
  Runtime& rt_;
  eventstore::EventStore* store_;
  std::string stream_;
  std::function<void(const LogEvent&)> fn_;
  std::mutex mu_;  ///< the gate, handled_, and every call of fn_
  std::condition_variable cv_;
  bool open_ = false;
  bool stop_ = false;
  std::uint64_t handled_ = 0;  ///< the last sequence handled (history or live)
  std::thread watchdog_;
  std::unique_ptr<natsio::OrderedSubscription> sub_;  ///< last: destroyed first
};

/// Rebuilding by deciding again (strategy, execution, reporter). While a worker reads
/// its history it produces again what its previous instance published; this matches
/// those outputs, by `Key` (an order's client_order_id, a report's exec_id, a metrics
/// event's cause_seq), against its own messages found in the log, so that none is
/// published twice and none its previous instance owed (decided, then killed before it
/// published) is lost.
///
/// Use: in_log() for each of its own outputs in the history, in stream order, and
/// own_marker() for each of its own progress markers; produced() for each output while
/// replaying and live; finish() once the history is read, and publish what it returns.
/// Not thread-safe: call under the worker's own lock (or on one thread).
template <class Key>
class Redecide {
 public:
  /// One of its own outputs found in the log.
  void in_log(const Key& k) {
    if (pending_.erase(k) == 0) logged_.insert(k);
  }
  /// Its own progress marker in the log: everything it published before the marker
  /// was produced again by now, so a logged output not matched yet never will be.
  void own_marker() { logged_.clear(); }
  /// An output just produced (`encode()` gives its JSON, called only if needed). Returns
  /// the JSON to publish now, or nullopt: the log holds it already (the previous
  /// instance published it), or the history is still being read (held until finish()).
  template <class Encode>
  std::optional<std::string> produced(const Key& k, Encode&& encode) {
    if (logged_.erase(k) > 0) return std::nullopt;
    if (!replaying_) return std::forward<Encode>(encode)();
    order_.push_back(k);
    pending_.emplace(k, std::forward<Encode>(encode)());
    return std::nullopt;
  }
  bool replaying() const noexcept { return replaying_; }
  /// The history is read: returns the outputs produced again that the log did not hold,
  /// in production order (to publish now); from here on produced() is live.
  std::vector<std::string> finish() {
    replaying_ = false;
    std::vector<std::string> out;
    for (const auto& k : order_)
      if (auto node = pending_.extract(k)) out.push_back(std::move(node.mapped()));
    pending_.clear();
    order_.clear();
    return out;
  }

 private:
  bool replaying_ = true;
  std::map<Key, std::string> pending_;  ///< produced while replaying, not (yet) seen in the log
  std::set<Key> logged_;                ///< in the log, not produced (yet): never published again
  std::vector<Key> order_;              ///< production order of pending_
};

}  // namespace services
