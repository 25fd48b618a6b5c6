/// @file natsio.hpp
/// @brief RAII over nats.c 3.4.1: library lifetime, connections, subscriptions, JetStream.
///
/// This directory is the only code that includes <nats/nats.h> (STYLE.md section 1).
/// Errors: constructors and setup calls throw `NatsError` (the natsStatus text
/// plus nats_GetLastError). Publishing returns a natsStatus-derived bool instead
/// of throwing, so a hot path never unwinds. C callbacks are noexcept and never
/// let an exception escape into C.
///
/// Threading model: `Library` sets the global message-delivery pool to ONE
/// thread and every `Connection` opts into it, so all async subscription
/// callbacks of a process run on that single thread, in arrival order. A worker
/// that owns state therefore has a single writer without locks. Publishing is
/// thread-safe (nats.c locks internally).
///
/// Logging: a connection logs through the obs::Logger of its NatsConfig (one record per
/// line, pkg/obs/log.hpp), from nats.c's threads: disconnects (warn), reconnects (info,
/// with the URL's password replaced by ***), an unexpected close (warn), asynchronous
/// errors (error) and handlers that threw (error). Its subscriptions use the same logger.
///
/// Stopping: destroying a Subscription or OrderedSubscription returns only once its
/// handler is not running and will not run again (nats.c's on-complete callback; see
/// ~Subscription), so what the handler uses may be destroyed right after it. Destroy a
/// subscription before the objects its handler refers to (declare it after them).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "obs/log.hpp"

struct __natsConnection;
struct __natsSubscription;
struct __natsMsg;
struct __jsCtx;

namespace natsio {

class NatsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// `url` without the user and password it may carry: "nats://user:pw@host:port" ->
/// "nats://host:port"; a comma-separated list loses every URL's. Pure.
std::string url_without_credentials(std::string_view url);

/// The URLs of a server list: `urls` split at commas, each trimmed of spaces, empty
/// ones dropped ("nats://a:4222, nats://b:4222" -> two). One URL gives itself. Pure.
std::vector<std::string> server_list(std::string_view urls);

/// Owns nats.c's global state. Declare it first in main(), before any
/// Connection: its destructor calls nats_CloseAndWait, which must run last.
class Library {
 public:
  Library();
  ~Library();
  Library(const Library&) = delete;
  Library& operator=(const Library&) = delete;
};

struct NatsConfig {
  /// One server or a cluster's list, comma-separated ("nats://u:p@h1:4222,nats://u:p@h2:4222"),
  /// each URL with the credentials to use there. The connection picks one at random, and
  /// after a disconnect tries the others (and those the cluster announces) until one
  /// answers: that is how a worker fails over to another node (docs/scaling.md).
  std::string url = "nats://127.0.0.1:4222";
  std::string name;                 ///< connection name shown by the server (worker name)
  /// Write each publish to the socket at once. nats.c otherwise batches through
  /// a flusher thread that adds ~1 ms per hop (shared/limits, pipeline test).
  /// Keep true for workers on the trading path; bulk publishers may turn it off.
  bool send_asap = true;
  /// Keep reconnecting forever (-1) so a nats-server restart does not kill a worker.
  int max_reconnect = -1;
  std::int64_t reconnect_wait_ms = 250;
  /// Retry the first connect for this long before giving up (0 = fail at once).
  std::int64_t connect_retry_ms = 10'000;
  /// Prefix of this connection's inboxes (request replies, JetStream deliveries):
  /// "" = nats.c's "_INBOX". Each worker uses its own (auth::inbox_prefix), which
  /// its permissions bind it to, so no identity can read another one's replies.
  std::string inbox_prefix;
  /// Credentials given apart from the URL (natsOptions_SetUserInfo): "" = those of the
  /// URL, if any. Used where they come from someone else (the Ops API's HTTP callers).
  std::string user;
  std::string password;
  /// Called (on a nats.c thread) after the connection came back from a disconnect;
  /// its subscriptions are resumed by nats.c. Disconnects and reconnects are logged
  /// ("NATS disconnected ...", warn; "NATS reconnected to ...", info) whether or not
  /// this is set. Must not throw, must not block for long.
  std::function<void()> on_reconnect;
  /// Where the connection and its subscriptions log (shared: nats.c's last callback
  /// may come after the Connection is gone). nullptr = obs::default_logger(name): text
  /// on stderr, as traderctl wants.
  std::shared_ptr<obs::Logger> log;
};

/// A received message. Views point into the nats.c message and are valid only
/// during the callback that received it.
struct Message {
  std::string_view subject;
  std::string_view data;
  std::string_view reply;  ///< empty unless the sender expects a reply
};

class Connection {
 public:
  explicit Connection(const NatsConfig& cfg);  ///< throws NatsError (e.g. "Authorization Violation")
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  /// Core NATS publish. Thread-safe. Returns false (and sets `last_error`) on
  /// failure, e.g. while disconnected with a full reconnect buffer.
  bool publish(std::string_view subject, std::string_view data) noexcept;
  /// Request-reply. Returns the reply payload; throws NatsError on timeout or
  /// "no responders".
  std::string request(std::string_view subject, std::string_view data, std::int64_t timeout_ms);
  /// Round trip to the server: every earlier publish has reached it. Throws on timeout.
  void flush(std::int64_t timeout_ms = 5'000);
  /// True while connected (not reconnecting/closed).
  bool connected() const noexcept;
  __natsConnection* get() const noexcept { return nc_; }
  /// The prefix of this connection's inboxes (NatsConfig::inbox_prefix, "_INBOX" by default).
  const std::string& inbox_prefix() const noexcept { return inbox_prefix_; }
  std::string last_error() const;
  const std::string& name() const noexcept { return state_->name; }
  /// The connection's logger (NatsConfig::log, or the default one). Thread-safe.
  obs::Logger& log() const noexcept { return *state_->log; }
  const std::shared_ptr<obs::Logger>& log_ptr() const noexcept { return state_->log; }


  /// What the nats.c callbacks need. nats.c calls them on its own thread, the
  /// "closed" one last, possibly after this object is gone: so the state is shared
  /// by the Connection and that last callback, and whichever lets go last frees it.
  struct State {
    std::string name;
    std::function<void()> on_reconnect;
    std::shared_ptr<obs::Logger> log;  ///< never null
    std::atomic<bool> closing{false};  ///< set by ~Connection: the close is ours, say nothing
    std::atomic<int> refs{1};          ///< the Connection, plus nats.c once connected
  };

 private:
  void connect(const NatsConfig& cfg);
  __natsConnection* nc_ = nullptr;
  State* state_ = nullptr;
  std::string inbox_prefix_ = "_INBOX";
};

using Handler = std::function<void(const Message&)>;

namespace detail {
/// How an async subscription's destructor learns that its handler is done: shared with
/// nats.c's on-complete callback, which runs on the delivery thread once the
/// subscription is closed and its last handler call has returned (natsio.cpp,
/// await_handlers()).
struct Completion {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;      ///< the on-complete callback ran: no handler runs or will run
  bool orphaned = false;  ///< the destructor returned first: the callback frees the State
  /// Set by the destructor: natsio's trampolines call the handler no more, even for a
  /// message nats.c still delivers (a subscription retire() could not close).
  std::atomic<bool> stopped{false};
};
}  // namespace detail

/// Async subscription; the handler runs on the process's single delivery
/// thread. An exception escaping the handler is caught, counted in
/// `handler_errors()` and logged (error, with the subject and the exception's `error`); the
/// subscription keeps going.
class Subscription {
 public:
  Subscription(Connection& conn, std::string_view subject, Handler handler);  ///< throws NatsError
  /// Unsubscribes (retire() in natsio.cpp) and returns only once the handler is not
  /// running and will not be called again: nats.c 3.4.1's Unsubscribe/Destroy do not wait
  /// for a callback already running on the delivery thread, so this waits for the
  /// subscription's on-complete callback, which nats.c runs on that thread after the last
  /// handler call. Exceptions, where it does not wait (natsio.cpp, await_handlers()):
  /// - called on the delivery thread itself (from a handler, this one's or another's):
  ///   waiting would deadlock. No handler of this subscription runs then (one thread), and
  ///   none is called again once it is closed; the handler object (State) is freed later
  ///   on that thread by the on-complete callback, so a handler may destroy its own
  ///   subscription. The handler's own captures (the State) are destroyed then, on that
  ///   thread, not here: what a handler refers to needs to outlive only the handler call
  ///   that destroys its own subscription;
  /// - the handler still runs 5 s after the subscription was closed (e.g. it waits for
  ///   something the destroying thread holds): this logs an alarm (error) and returns,
  ///   leaving the State to the on-complete callback; that one call may still be running;
  /// - NATS unreachable and the subscription could not be closed (an OrderedSubscription
  ///   that delivered nothing): returns after retire()'s failed round trip (5 s) without
  ///   waiting. The handler is not called again, but a call that started in that very
  ///   moment is not waited for.
  /// In every case the handler is not called again once this has returned.
  ~Subscription();
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;
  /// Messages dropped because the client-side pending buffer overflowed.
  std::int64_t dropped() const noexcept;
  std::int64_t handler_errors() const noexcept { return state_->errors; }

  /// What the handler needs; nats.c's on-complete callback frees it if the destructor
  /// could not wait (see ~Subscription).
  struct State {
    Handler handler;
    std::int64_t errors = 0;
    std::string subject;
    std::shared_ptr<obs::Logger> log;  ///< the connection's
    detail::Completion completion;
  };

 private:
  __natsConnection* nc_ = nullptr;
  __natsSubscription* sub_ = nullptr;
  std::unique_ptr<State> state_;
};

/// A JetStream message fetched from a pull consumer. Owns the natsMsg.
class JsMessage {
 public:
  /// `nc`: the connection acknowledgements go out on.
  JsMessage(__natsMsg* m, __natsConnection* nc) noexcept : m_(m), nc_(nc) {}
  ~JsMessage();
  JsMessage(JsMessage&& o) noexcept : m_(o.m_), nc_(o.nc_) { o.m_ = nullptr; }
  JsMessage& operator=(JsMessage&&) = delete;
  JsMessage(const JsMessage&) = delete;
  std::string_view subject() const noexcept;
  std::string_view data() const noexcept;
  std::uint64_t stream_sequence() const;  ///< from the reply-subject metadata; throws NatsError
  /// Messages of the stream after this one not yet delivered to the consumer (the
  /// reply-subject metadata's pending count). Throws NatsError.
  std::uint64_t pending() const;
  /// Acknowledge (with AckAll policy: this and every earlier message). Waits
  /// for the server's confirmation; returns false if it could not be sent.
  bool ack_sync() noexcept;
  /// Negative acknowledgement: redeliver this message after `delay_ms`. False if it
  /// could not be sent.
  bool nak(std::int64_t delay_ms) noexcept;

 private:
  __natsMsg* m_ = nullptr;
  __natsConnection* nc_ = nullptr;
};

/// JetStream context plus a durable pull consumer, as the recorder uses it.
class JetStream {
 public:
  explicit JetStream(Connection& conn);  ///< throws NatsError
  ~JetStream();
  JetStream(const JetStream&) = delete;
  JetStream& operator=(const JetStream&) = delete;
  /// Creates the stream or updates its subjects and limits if it exists (an admin's
  /// call: workers may not). File storage; the publishers use core NATS (NoAck).
  /// Retention: `interest`, kept until every consumer acknowledged a message (the
  /// recorder's durable, after the store committed it), so the stream only holds what
  /// the store has not confirmed; or `limits` (kept until a limit). Limits that are
  /// 0 are off; with `discard_new` a full stream refuses new messages rather than
  /// drop old ones (never an unrecorded event). Throws NatsError, naming the
  /// stream, also when an existing stream's retention differs (JetStream cannot
  /// change it).
  struct StreamLimits {
    bool interest = true;
    std::int64_t max_bytes = 0;
    std::int64_t max_msgs = 0;
    std::int32_t max_msg_size = 0;
    bool discard_new = true;
    /// Copies of the stream on a cluster's nodes (1 on a single server; 3 survives the
    /// loss of any one node: a message is stored once a majority has it). Changing it
    /// on an existing stream is allowed (JetStream moves the copies).
    int replicas = 1;
    /// The stream answers no publish (core publishers, and `nats req` on a captured subject
    /// gets the worker's answer, not the stream's receipt). False: it acknowledges every
    /// publish that has a reply subject (what LogPublisher needs).
    bool no_ack = true;
    /// Messages older than this are dropped (0 = kept until another limit).
    std::int64_t max_age_ms = 0;
    /// How long the stream remembers each `Nats-Msg-Id` to drop a second copy (0 =
    /// JetStream's default, 2 minutes). LogPublisher's resends rely on it.
    std::int64_t duplicate_window_ms = 0;
    /// Streams whose messages this one copies in as they come (JetStream sources), in
    /// their own order, interleaved with what is published to it directly.
    std::vector<std::string> sources;
  };
  void ensure_stream(const std::string& name, const std::vector<std::string>& subjects, const StreamLimits& limits);
  /// True if the stream exists. Throws NatsError for other failures (e.g. a
  /// permissions violation, no JetStream).
  bool stream_exists(const std::string& name);
  /// Creates the durable pull consumer `durable` on `stream` (AckAll, deliver all,
  /// `ack_wait_ms`, at most `max_ack_pending` unacknowledged) unless it exists. Never
  /// deletes or changes one that exists. Returns true if it created it.
  bool ensure_durable(const std::string& stream, const std::string& durable, std::int64_t ack_wait_ms,
                      std::int64_t max_ack_pending);
  /// The consumer's acknowledgement floor (stream sequence), nullopt if it does not exist.
  std::optional<std::uint64_t> ack_floor(const std::string& stream, const std::string& durable);
  /// Binds to the existing durable pull consumer (see ensure_durable) for fetch():
  /// a subscription on an inbox of this connection's prefix. Throws NatsError if the
  /// consumer does not exist or the subscription fails.
  void bind_pull(const std::string& stream, const std::string& durable);
  /// Up to `batch` messages, waiting at most timeout_ms. Empty on timeout.
  /// Throws NatsError on other failures (e.g. connection closed, a 409 status such
  /// as "Exceeded MaxWaiting" or "Consumer Deleted", or 503 no responders: the
  /// consumer is gone).
  ///
  /// The pull protocol is spoken here, not through natsSubscription_Fetch: Debian's
  /// nats.c 3.4.1 writes past its message array when more than half a batch is already
  /// queued on the subscription (late deliveries for an earlier, timed-out request),
  /// which corrupted the recorder's heap after restarts (nats.c PR #749, fixed in
  /// 3.10). First what is queued (late deliveries, kept: they are valid), then one
  /// request `{"batch":N,"expires":T}` on $JS.API.CONSUMER.MSG.NEXT.<stream>.<durable>,
  /// read until N messages, a status that ends it (404, 408, 409) or the timeout.
  std::vector<JsMessage> fetch(int batch, std::int64_t timeout_ms);
  /// Last sequence number stored in `stream` (0 if empty). Throws NatsError.
  std::uint64_t last_sequence(const std::string& stream);
  /// One stored message, read by its sequence ($JS.API.STREAM.MSG.GET.<stream>, which
  /// the caller's identity must be allowed): its subject and payload.
  struct StoredMessage {
    std::string subject, data;
  };
  /// The message at `seq` of `stream`; nullopt if the stream does not hold it (never
  /// stored, deleted, or removed once acknowledged). Throws NatsError for anything else
  /// (no answer, not allowed: the request times out).
  std::optional<StoredMessage> get_message(const std::string& stream, std::uint64_t seq);
  /// The stream's state: first and last sequence, messages and bytes held.
  struct StreamState {
    std::uint64_t first_seq = 0, last_seq = 0, msgs = 0, bytes = 0;
    std::int64_t max_bytes = 0, max_msgs = 0;  ///< configured limits (0 = none)
    int replicas = 1;                          ///< configured copies
    bool no_ack = false;                       ///< it acknowledges no publish (StreamLimits::no_ack)
    std::string leader;                        ///< server_name of the node that leads it ("" on a single server)
  };
  StreamState stream_state(const std::string& stream);

 private:
  __jsCtx* js_ = nullptr;
  __natsConnection* nc_ = nullptr;
  std::string inbox_prefix_;
  __natsSubscription* pull_ = nullptr;  ///< plain sync subscription on pull_inbox_
  std::string pull_inbox_, pull_next_;  ///< our inbox; $JS.API.CONSUMER.MSG.NEXT.<stream>.<durable>
  std::uint64_t pulls_ = 0;             ///< binds so far (each gets its own inbox)
};

/// A message of a stream, delivered by an OrderedSubscription or a StreamReader.
/// Views valid only during the callback (OrderedSubscription) or while the
/// owning JsMessage lives (StreamReader).
struct StreamMessage {
  std::uint64_t seq = 0;  ///< the stream sequence (1, 2, ...; no gaps in an unfiltered read)
  std::string_view subject;
  std::string_view data;
  /// Ordered consumers: more messages wait in the client's queue after this one
  /// (false = the consumer has caught up with what the server sent so far).
  bool more_queued = false;
};

using StreamHandler = std::function<void(const StreamMessage&)>;

/// Every message of `stream` from sequence `start_seq` on, in stream order,
/// exactly once, on the process's single delivery thread: a JetStream ordered
/// push consumer (ephemeral, no acks, flow control and heartbeats; nats.c
/// recreates it from the last delivered sequence if it detects a gap). This is
/// how a worker consumes the event log in the one order that every replay
/// will see. An exception escaping the handler is caught and counted, as for
/// Subscription. Throws NatsError if the consumer cannot be created.
/// Speed: read as an identity without nats-server's `allow_responses` (pkg/auth gives
/// it to none). With it the server (2.9) remembers the reply subject of every delivery
/// for 2 minutes and, past 4,096, scans them all on each delivery: a 70,000-message
/// backlog then reads at ~1,400 msgs/s instead of ~300,000 (tests/bench/stream_read_bench).
/// The same holds for StreamReader and JetStream::fetch.
class OrderedSubscription {
 public:
  OrderedSubscription(Connection& conn, const std::string& stream, std::uint64_t start_seq, StreamHandler handler);
  /// Removes the interest (the server removes the ephemeral consumer soon after) and,
  /// as ~Subscription, returns only once the handler is not running and will not be
  /// called again, with the same exceptions (on the delivery thread; a handler still
  /// running after 5 s; NATS unreachable).
  ~OrderedSubscription();
  OrderedSubscription(const OrderedSubscription&) = delete;
  OrderedSubscription& operator=(const OrderedSubscription&) = delete;
  std::int64_t handler_errors() const noexcept { return state_->errors; }
  /// The server's view of this consumer: messages it still has to deliver, and the
  /// stream sequence it delivered last. nullopt if it cannot be asked (the consumer
  /// is being reset, NATS is away). Thread-safe (a request on the connection).
  struct ConsumerState {
    std::uint64_t num_pending = 0, delivered_stream_seq = 0;
  };
  std::optional<ConsumerState> consumer_state() noexcept;

  struct State {
    StreamHandler handler;
    std::int64_t errors = 0;
    std::string stream;
    std::shared_ptr<obs::Logger> log;  ///< the connection's
    detail::Completion completion;
  };

 private:
  __natsConnection* nc_ = nullptr;
  __jsCtx* js_ = nullptr;
  __natsSubscription* sub_ = nullptr;
  std::unique_ptr<State> state_;
};

/// Synchronous in-order read of `stream` from `start_seq` (an ordered consumer
/// read with NextMsg on the calling thread; no delivery thread involved).
/// Throws NatsError on failures other than a timeout.
class StreamReader {
 public:
  StreamReader(Connection& conn, const std::string& stream, std::uint64_t start_seq);
  ~StreamReader();
  StreamReader(const StreamReader&) = delete;
  StreamReader& operator=(const StreamReader&) = delete;
  /// Waits up to `timeout_ms` for the next message.
  /// @return false on timeout; true and fills `out` (seq, subject, data valid
  ///         until the next call) otherwise.
  bool next(StreamMessage& out, std::int64_t timeout_ms);

 private:
  __natsConnection* nc_ = nullptr;
  __jsCtx* js_ = nullptr;
  __natsSubscription* sub_ = nullptr;
  __natsMsg* current_ = nullptr;
};

}  // namespace natsio
