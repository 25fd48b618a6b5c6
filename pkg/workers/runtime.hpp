/// @file runtime.hpp
/// @brief What every worker shares: counters, heartbeats, dead letters, signals.
///
/// A worker publishes `heartbeat` on ops.heartbeat.<worker> every
/// `heartbeat_ms` (wall clock: this is ops data, never domain data) and answers
/// bad input on ops.dead_letter with the field and the problem, counting it.
/// From start_heartbeat() on it also answers requests on ops.ping.<worker> with
/// its heartbeat, on the process's delivery thread: the reply comes after every
/// message the worker received before the request has been handled and what it
/// published has been sent (one connection, in order). traderctl's lock-step
/// barrier is built on that (docs/architecture.md, "Determinism"). A ping is
/// not counted in msgs_in.
/// Thread-safety: counters are atomics; publish/dead_letter may be called from
/// any thread (nats.c publishing is thread-safe).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/messages.hpp"
#include "core/result.hpp"
#include "core/time.hpp"
#include "natsio/natsio.hpp"
#include "obs/log.hpp"
#include "obs/metrics.hpp"
#include "workers/bus.hpp"

namespace services {

/// Blocks SIGINT and SIGTERM in the calling thread. Call first thing in main(),
/// before any thread exists, so every thread inherits the mask and
/// `wait_for_termination` receives the signal.
void block_termination_signals();
/// Waits for SIGINT or SIGTERM; returns the signal number.
int wait_for_termination();
/// Sends SIGTERM to this process (wakes wait_for_termination), e.g. when a worker's own loop fails.
void request_termination();
/// True if SIGINT or SIGTERM is pending (blocked by block_termination_signals and not
/// taken by wait_for_termination yet): a long wait on a worker thread, such as an
/// external strategy's during the rebuild, can give up. Thread-safe.
bool termination_pending() noexcept;

/// Keeps the session of `log`'s records (obs::Logger::set_session) in step with a
/// message seen on the bus or in the event log: on session.lifecycle, a session.started
/// makes its session_id the logger's session, and a session.ended of that session clears
/// it. Anything else (another subject, a payload that does not decode) changes nothing.
/// Thread-safe.
void note_session(obs::Logger& log, std::string_view subject, std::string_view payload);

class Runtime {
 public:
  /// A worker on NATS: a NatsBus over `conn` (which must outlive the Runtime), whose
  /// event log is the JetStream stream `stream` (its `stream` setting: `EVENTS`, or a
  /// sandbox's own): the bus asks that stream whether it confirms publishes.
  Runtime(natsio::Connection& conn, std::string worker, const core::Clock& clock, std::int64_t heartbeat_ms,
          std::string stream);
  /// A worker on `bus` (e.g. a MemoryBus, memory_bus.hpp), which must outlive the Runtime.
  /// `log`: where it logs; nullptr = obs::default_logger(worker) (text on stderr).
  Runtime(Bus& bus, std::string worker, const core::Clock& clock, std::int64_t heartbeat_ms,
          std::shared_ptr<obs::Logger> log = nullptr);
  ~Runtime();  ///< stops the heartbeat thread
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  const std::string& worker() const noexcept { return worker_; }
  /// The worker's log (obs/log.hpp): the connection's logger on NATS. Thread-safe.
  obs::Logger& log() const noexcept { return *log_; }
  /// "<host>:<pid>", as in heartbeats.
  const std::string& instance() const noexcept { return instance_; }
  const core::Clock& clock() const noexcept { return clock_; }
  /// The bus the worker runs on.
  Bus& bus() noexcept { return bus_; }
  /// The NATS connection under the bus; throws std::logic_error on an in-process bus
  /// (for what only NATS has: JetStream, the recorder, the feed).
  natsio::Connection& conn();

  /// Publishes and counts msgs_out; a failed publish is logged and counted as an error.
  void publish(std::string_view subject, std::string_view payload);
  /// The same for market data (Bus::publish_market: `payload` is codec::encode(md)).
  void publish_market(std::string_view subject, const core::MarketData& md, std::string_view payload);
  /// Counts one input message and, once start_heartbeat() ran, stamps its wall time
  /// (heartbeat last_input_ns). Without heartbeats (the in-process engine) nobody reads
  /// that time, and the clock is not read for every input.
  void count_in() noexcept;
  /// Answers a request on its reply subject `to` ("" = a plain publish, nobody waits:
  /// nothing is sent). Not counted in msgs_out (the answer repeats what was published).
  /// `to` == kDeferredReply: the answer is collected by the ReplyCapture active on this
  /// thread (dropped if none): risk-state decides a request from the event stream,
  /// whose copy does not carry the reply subject, and may learn it only afterwards
  /// (reply_router.hpp). Thread-safe.
  void reply(std::string_view to, std::string_view payload);
  /// A reply subject no client can have (the NATS protocol has no newline in a subject).
  static constexpr std::string_view kDeferredReply = "\n";
  /// While alive, answers sent to kDeferredReply on this thread are appended to `into`.
  class ReplyCapture {
   public:
    explicit ReplyCapture(std::vector<std::string>& into);
    ~ReplyCapture();
    ReplyCapture(const ReplyCapture&) = delete;
    ReplyCapture& operator=(const ReplyCapture&) = delete;

   private:
    std::vector<std::string>* prev_;
  };
  /// Publishes a dead_letter naming the field and the problem (and `sender`, the
  /// stamped identity of whoever sent the message, when known), logs it (warn, with the
  /// payload's client_order_id if it has one),
  /// counts it in `errors`; and if `reply` is non-empty also answers the sender
  /// with the same dead_letter.
  /// `stream_seq` > 0: the refused message's sequence in the event log (risk-state, which
  /// decides its inputs from the log, names it, so a rebuild knows the input was answered).
  void dead_letter(std::string_view subject, const core::Error& err, std::string_view payload,
                   std::string_view reply = {}, std::string_view sender = {}, std::uint64_t stream_seq = 0);
  /// dead_letter for a received message: its subject, payload, reply subject and its
  /// sender, the person the server named in the subject (subjects::sender_of).
  void refuse(const natsio::Message& m, const core::Error& err);
  /// A message the worker accepted but could not apply: an exception escaped the
  /// domain code (core::ArithmeticError on an absurd value, std::bad_alloc), or an
  /// event of its own log could not be replayed while rebuilding (`stream_seq` > 0).
  /// The worker goes on without it, and never crash-loops on it. Counted in
  /// `quarantined` (and `errors`), logged, dead-lettered with field "" and error
  /// "not applied (quarantined): <what>", answered to `reply` if any; from then on
  /// the status reads "degraded: N messages quarantined (latest: ...)" until the
  /// process restarts. Thread-safe.
  void quarantine(std::string_view subject, std::string_view what, std::string_view payload,
                  std::string_view reply = {}, std::uint64_t stream_seq = 0);
  /// Market data the worker did not use because core::MarketCheck flagged it.
  /// Counted in `flagged`; logged with the reason (the first 20, then every
  /// 10,000th, so a flood cannot fill the disk). Not an error. Thread-safe.
  void flag(std::string_view subject, std::string_view reason);
  /// Health text shown by ops.status ("ok" unless set otherwise). What quarantine()
  /// adds is kept beside it: heartbeat().status is "<status>" or, after a
  /// quarantine, "degraded: ..." (joined with "; " when `status` is degraded too).
  void set_status(std::string status);
  /// The status of the last heartbeat, sent as the Runtime is destroyed:
  /// core::kStoppedStatus ("stopped", the default: a service that stops is down until
  /// ops forgets it) or core::kFinishedStatus ("finished": a one-shot tool such as the
  /// feed that did its work; not down). Thread-safe.
  void set_exit_status(std::string_view status);
  /// The last JetStream stream sequence this worker processed (the log followers,
  /// risk-state and execution, for every message of their ordered consumer; see
  /// LogFollower); reported as heartbeat log_seq.
  void set_log_seq(std::uint64_t seq) noexcept { log_seq_.store(seq, std::memory_order_relaxed); }
  core::Heartbeat heartbeat() const;
  /// Starts the heartbeat thread (unless start_standby_heartbeat did) and subscribes to
  /// ops.ping.<worker>. Call once the worker is ready (a pong therefore also means
  /// "ready"). Throws natsio::NatsError if the subscription fails.
  void start_heartbeat();
  /// Starts only the heartbeat thread: a hot standby (lease.hpp) reports its status
  /// ("standby: ...") to ops but answers no ping (it has handled nothing) and is not
  /// ready. start_heartbeat() later keeps this thread. Idempotent.
  void start_standby_heartbeat();
  /// One writer per role (lease.hpp): from now on publish() and publish_market() ask
  /// `may_write()` first and send only if it says true; a publish it refuses is dropped,
  /// counted as an error and logged (the first one). `may_write` may block the publishing
  /// thread (the lease's wait_held, while NATS does not answer); it must be thread-safe
  /// and cheap when it does not block (it runs per publish). Set it before the worker
  /// subscribes to anything, from one thread. Heartbeats, replies and dead letters are
  /// not fenced.
  void set_write_fence(std::function<bool()> may_write);

  // ---- health and metrics (docs/operations.md, "Health and metrics") ----

  /// Ready to serve: started (start_heartbeat ran: its state is rebuilt), connected
  /// to NATS (a NATS bus), and its own status "ok" (not degraded: e.g. the recorder
  /// with its store unavailable). Otherwise false, and `why` (if given) says which.
  /// Thread-safe.
  bool ready(std::vector<std::string>* why = nullptr) const;
  /// The Prometheus text exposition of this worker (obs/metrics.hpp): its counters,
  /// dead letters by field, handling latency, readiness, and whatever the worker adds
  /// (add_metrics). Thread-safe (a scrape runs on the HTTP server's thread).
  std::string metrics_text() const;
  /// Adds a worker's own metric families to metrics_text(): `write` runs at every
  /// scrape, on the HTTP server's thread, and must read only what is safe to read
  /// from there. Until the returned registration is destroyed; its destructor waits
  /// for a scrape that is running it. Thread-safe.
  class MetricsRegistration {
   public:
    MetricsRegistration(Runtime& rt, std::uint64_t id) noexcept : rt_(rt), id_(id) {}
    ~MetricsRegistration();
    MetricsRegistration(const MetricsRegistration&) = delete;
    MetricsRegistration& operator=(const MetricsRegistration&) = delete;

   private:
    Runtime& rt_;
    std::uint64_t id_;
  };
  [[nodiscard]] std::unique_ptr<MetricsRegistration> add_metrics(std::function<void(obs::Exposition&)> write);
  /// Times the handling of one message (the workers' guarded handlers): from
  /// construction to destruction, into the handling-latency histogram; only once
  /// start_heartbeat() ran (live, not while rebuilding, and never in-process, where
  /// nobody scrapes: no clock read per message there).
  class HandlingTimer {
   public:
    explicit HandlingTimer(Runtime& rt) noexcept;
    ~HandlingTimer();
    HandlingTimer(const HandlingTimer&) = delete;
    HandlingTimer& operator=(const HandlingTimer&) = delete;

   private:
    Runtime* rt_;          ///< nullptr: not timed
    std::int64_t t0_ = 0;  ///< steady clock, ns
  };

 private:
  Runtime(std::unique_ptr<NatsBus> owned, Bus* bus, std::string worker, const core::Clock& clock,
          std::int64_t heartbeat_ms, std::shared_ptr<obs::Logger> log);
  void heartbeat_loop();
  /// Counts a publish on `subject`: msgs_out, or an error (logged).
  void sent(std::string_view subject, bool ok);
  /// True (counted, logged once) if the write fence refuses a publish on `subject`.
  bool fenced(std::string_view subject);
  std::unique_ptr<NatsBus> owned_bus_;  ///< the NatsBus of the first constructor
  Bus& bus_;
  std::shared_ptr<obs::Logger> log_;  ///< never null
  std::string worker_, instance_;
  const core::Clock& clock_;
  std::int64_t heartbeat_ms_;
  std::int64_t started_ns_;
  std::atomic<std::int64_t> msgs_in_{0}, msgs_out_{0}, errors_{0}, last_input_ns_{0}, flagged_{0}, quarantined_{0};
  std::atomic<std::uint64_t> log_seq_{0};
  std::atomic<bool> watched_{false};  ///< start_heartbeat() ran: count_in stamps last_input_ns
  std::function<bool()> may_write_;   ///< set_write_fence; empty = always
  std::atomic<bool> fenced_said_{false};  ///< the first publish the fence dropped was logged
  obs::Histogram handling_{obs::Histogram::latency_bounds()};  ///< HandlingTimer
  obs::LabelCounter dead_letters_by_field_;                     ///< dead_letter, by the field it names
  mutable std::mutex metrics_mu_;  ///< metric_writers_; held while a scrape runs them
  std::map<std::uint64_t, std::function<void(obs::Exposition&)>> metric_writers_;  ///< add_metrics, by id
  std::uint64_t next_writer_ = 0;
  mutable std::mutex mu_;
  std::string status_ = "ok";
  std::string exit_status_{core::kStoppedStatus};
  std::string last_quarantine_;  ///< why the latest message was quarantined (under mu_)
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
  std::unique_ptr<BusSubscription> ping_;  ///< ops.ping.<worker>; destroyed first
};

}  // namespace services
