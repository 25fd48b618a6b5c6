/// @file log_publisher.hpp
/// @brief Confirmed publishing into a JetStream stream: every message is stored exactly
///        once and in publish order, across a stream leader's death (issue 15,
///        docs/scaling.md).
///
/// A core NATS publish to a stream's subject is dropped without a word while the stream
/// has no leader (on an R3 stream, for the seconds an election takes after its leader
/// died). LogPublisher instead sends each message with a `Nats-Msg-Id` header and a reply
/// subject, and waits for the stream's acknowledgement (a PubAck, so the stream must not be
/// `NoAck`). A message the stream refused, did not answer within `ack_timeout_ms`, or that
/// found no leader (a 503 "no responders" status) is sent again, with the same id, until it
/// is stored; the stream drops the copy of one it already holds (its duplicate window, 2
/// minutes by default, must be longer than any outage this is to survive).
///
/// Order: messages go out in publish order, at most `window` of them unconfirmed. After a
/// failure nothing new is sent: once every message in flight is answered, the unconfirmed
/// ones are sent again, one at a time, each only after the one before it is stored, and only
/// then do new messages go out again. So the stream holds them in publish order, unless a
/// new leader was elected in the instant between two messages of one burst (the earlier
/// one found no leader, the later one did): that is counted (`Stats::reordered`) and logged
/// as an error.
///
/// Thread-safety: publish(), flush() and stats() may be called from any thread. publish()
/// blocks while `window` messages are unconfirmed (back-pressure), so do not call it from
/// a thread that the acknowledgements need: they are read by this object's own thread, on
/// a synchronous subscription, never on nats.c's delivery thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "natsio/natsio.hpp"

namespace natsio {

class LogPublisher {
 public:
  struct Options {
    /// At most this many messages sent and not yet confirmed; publish() blocks beyond.
    std::size_t window = 4096;
    /// A message unanswered this long is sent again (it may have been stored: the
    /// stream drops the copy).
    std::int64_t ack_timeout_ms = 2'000;
    /// Pause between two attempts at a message the stream refused (no leader yet).
    std::int64_t retry_wait_ms = 100;
  };

  /// Subscribes to its acknowledgement inbox (`<inbox prefix>.<random>.*`, within the
  /// connection's inbox prefix, which its identity may read) and starts its thread.
  /// Throws NatsError if the subscription fails.
  explicit LogPublisher(Connection& conn);
  LogPublisher(Connection& conn, Options options);
  /// Waits up to 5 s for what is unconfirmed (flush), then stops its thread. What is still
  /// unconfirmed then is logged (error) with its count. noexcept.
  ~LogPublisher();
  LogPublisher(const LogPublisher&) = delete;
  LogPublisher& operator=(const LogPublisher&) = delete;

  /// Queues `data` for `subject` and sends it (unless a failure is being repaired or the
  /// window is full: then it waits, see above). Returns false only for a subject that
  /// nats.c refuses (longer than 255 bytes) or after the destructor began.
  bool publish(std::string_view subject, std::string_view data);
  /// Waits until every message published so far is confirmed; false after `timeout_ms`.
  bool flush(std::int64_t timeout_ms);

  struct Stats {
    std::uint64_t published = 0;   ///< publish() calls accepted
    std::uint64_t confirmed = 0;   ///< stored (or found stored: a duplicate)
    std::uint64_t duplicates = 0;  ///< confirmations that said the stream already held it
    std::uint64_t resent = 0;      ///< sends after the first, of any message
    std::uint64_t refused = 0;     ///< answers that were not a confirmation (no leader, an error) and timeouts
    std::uint64_t reordered = 0;   ///< messages confirmed while an earlier one was not (see the file comment)
  };
  Stats stats() const;

 private:
  struct Pending {
    std::uint64_t n = 0;  ///< this publisher's number of the message (its id's last part)
    std::string subject, data;
    bool sent = false;        ///< sent and not answered yet
    bool failed = false;      ///< its last attempt failed: it goes again in the repair
    bool refused = false;     ///< the stream said it did not store it (not merely no answer yet)
    std::int64_t sent_at_ms = 0;
  };
  void send(Pending& p);  ///< with mu_ held
  void run();              ///< the acknowledgement thread
  void on_answer(std::uint64_t n, bool stored, bool duplicate);

  Connection& conn_;
  Options opt_;
  std::string id_prefix_;    ///< "<connection name>.<random>."
  std::string ack_prefix_;   ///< "<inbox prefix>.<random>."
  __natsSubscription* sub_ = nullptr;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> pending_;  ///< unconfirmed, in publish order (front = oldest)
  std::uint64_t next_n_ = 1;
  bool repairing_ = false;       ///< a failure is being repaired: nothing new goes out
  bool stopping_ = false;
  Stats stats_;
  std::thread thread_;
};

}  // namespace natsio
