#include "natsio/natsio.hpp"

#include <nats/nats.h>

#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <fmt/format.h>

namespace natsio {
namespace {

[[noreturn]] void throw_status(std::string_view what, natsStatus s) {
  const char* last = nats_GetLastError(nullptr);
  throw NatsError(fmt::format("{}: {}{}{}", what, natsStatus_GetText(s), last && *last ? ": " : "",
                              last ? last : ""));
}

void check(natsStatus s, std::string_view what) {
  if (s != NATS_OK) throw_status(what, s);
}

struct OptionsDeleter {
  void operator()(natsOptions* o) const noexcept { natsOptions_Destroy(o); }
};
struct MsgDeleter {
  void operator()(natsMsg* m) const noexcept { natsMsg_Destroy(m); }
};
using MsgPtr = std::unique_ptr<natsMsg, MsgDeleter>;

/// One URL without its user and password: "nats://user:pw@host:port" -> "nats://host:port".
std::string one_without_credentials(std::string_view url) {
  const auto scheme = url.find("://");
  const auto at = url.rfind('@');
  if (scheme == std::string_view::npos || at == std::string_view::npos || at < scheme) return std::string(url);
  return std::string(url.substr(0, scheme + 3)) + std::string(url.substr(at + 1));
}

/// `url` (one URL or a comma-separated list) without the credentials of any of them.
std::string without_credentials(std::string_view url) {
  std::string out;
  for (const auto& one : server_list(url)) {
    if (!out.empty()) out += ',';
    out += one_without_credentials(one);
  }
  return out.empty() ? std::string(url) : out;
}

/// The user and password of a URL, if it names them ("nats://user:pw@host").
std::optional<std::pair<std::string, std::string>> credentials_of(std::string_view url) {
  const auto scheme = url.find("://");
  const auto at = url.rfind('@');
  if (scheme == std::string_view::npos || at == std::string_view::npos || at < scheme) return std::nullopt;
  const auto creds = url.substr(scheme + 3, at - scheme - 3);
  const auto colon = creds.find(':');
  if (colon == std::string_view::npos) return std::pair{std::string(creds), std::string()};
  return std::pair{std::string(creds.substr(0, colon)), std::string(creds.substr(colon + 1))};
}

/// The user named in `url` (the first of a list that names one; "anonymous" if none).
std::string user_of(std::string_view url) {
  for (const auto& one : server_list(url))
    if (auto c = credentials_of(one)) return c->first;
  return "anonymous";
}

// ---------------------------------------------------------------- letting go of a subscription
//
// nats.c 3.4.1 (Debian 12's) has a use-after-free on every subscription the server may
// still be sending to when it is destroyed (nats.c issue #637, fixed in 3.6.1 by PR #638):
// its reader thread looks the subscription of an incoming message up in the connection's
// table, lets go of the table's lock, and only then locks and fills the subscription,
// without holding a reference. natsSubscription_Destroy from another thread can free it in
// between; the reader thread then locks a freed mutex and links the message into freed
// memory. That corrupted the heap of a worker started again after a kill -9: its history
// read (StreamReader, an ordered consumer that goes on pushing the stream's tail) was
// destroyed right after its last message, while the next ones arrived ("rebuilt from ...",
// then glibc's "malloc_consolidate(): unaligned fastbin chunk detected"). With an
// ASan-built nats.c 3.4.1 a loop of StreamReaders over a stream being published to shows
// it in seconds (heap-use-after-free in natsConn_processMsg, freed by ~StreamReader).
//
// So a subscription is let go of in three steps, by retire():
// 1. it leaves the connection's table while our reference keeps it alive. A core
//    subscription: natsSubscription_Unsubscribe. A JetStream one: Unsubscribe would also
//    ask JetStream to delete its consumer, which a worker may not do (pkg/auth; it would
//    wait 5 s for an answer that never comes), so natsSubscription_AutoUnsubscribe with a
//    maximum it has already delivered, which removes it at once without that request;
// 2. a round trip to the server (flush): the reader thread handles the socket in order, so
//    once it has read the PONG it is done with every message it read before, and those
//    after find no subscription;
// 3. only then natsSubscription_Destroy lets go of our reference.
// If the round trip fails (NATS away) the subscription is left allocated: a few hundred
// bytes, rather than memory the reader thread may still write to.
//
// One case is narrower than airtight: a JetStream subscription that delivered nothing gets
// AutoUnsubscribe(1), which the server honours at once only if it has sent it anything
// (a heartbeat every 5 s: an ordered consumer idle that long has); otherwise at most one
// more message may race with the final Destroy, as before this fix.
//
// ---------------------------------------------------------------- waiting for the handler
//
// None of these steps waits for a message callback that is already running on the
// delivery thread: in nats.c 3.4.1 Unsubscribe/AutoUnsubscribe/Destroy only mark the
// subscription closed (natsSub_close, src/sub.c) and post a control message to the
// delivery worker (natsLib_msgDeliveryPostControlMsg). So the owner of an async
// subscription (Subscription, OrderedSubscription; StreamReader and the pull inbox are
// synchronous, nothing runs for them on the delivery thread) could free what its handler
// uses while the handler still ran (ThreadSanitizer: ops's Announcement decoder, freed
// while a session.lifecycle callback read it). nats.c's remedy is the on-complete
// callback (natsSubscription_SetOnCompleteCB, set at construction). What 3.4.1 does
// (src/nats.c, _deliverMsgs, the shared delivery pool that Library selects):
// - once a subscription is closed, a message for it still queued is dropped, never
//   delivered (the check of sub->closed, made under the worker's lock, which natsSub_close
//   holds too): after the close at most the callback already under way runs;
// - the control message that the close posted is handled in queue order, after that
//   callback returned, and calls the on-complete callback (then releases the
//   subscription). The per-subscription delivery thread does the same (src/sub.c,
//   natsSub_deliverMsgs), so it holds with or without the pool;
// - every way a subscription closes goes through natsSub_close: Unsubscribe, Destroy,
//   AutoUnsubscribe with a maximum already reached (natsSub_setMax refuses it and the
//   subscription is removed at once: retire() for a JetStream subscription that
//   delivered something), the maximum reached by a delivery (removed after that
//   callback), and the connection closing (_removeAllSubscriptions, conn.c). A JetStream
//   ordered consumer is one natsSubscription for its whole life (a reset after a gap
//   gives it a new sid and deliver subject, jsSub_resetOrderedConsumer in js.c), and
//   uses the pool like any async subscription (natsConn_subscribeImpl with
//   preventUseOfLibDlvPool false).
// So after retire() the destructor waits until the on-complete callback ran
// (await_handlers()). It does not wait when the subscription is still open (retire() left
// it allocated and open: NATS away, a JetStream one that delivered nothing; the callback
// comes when the connection closes), nor on the delivery thread itself (the callback
// runs there, after the current one), nor longer than kHandlerWait; in those cases the
// State goes to the on-complete callback, which frees it, and its `stopped` flag keeps
// the trampolines from calling the handler again.

/// What each live subscription is for, by handle: the async error handler names it from
/// here, never by asking nats.c about a handle that may be freed already (3.4.1 passes the
/// handler a subscription it does not hold a reference to: nats.c PR #659, in 3.7.0).
std::mutex g_labels_mu;
std::unordered_map<const natsSubscription*, std::string> g_labels;

void remember(const natsSubscription* sub, std::string label) {
  std::lock_guard lock(g_labels_mu);
  g_labels[sub] = std::move(label);
}

std::string label_of(const natsSubscription* sub) {
  std::lock_guard lock(g_labels_mu);
  const auto it = g_labels.find(sub);
  return it == g_labels.end() ? std::string() : it->second;
}

/// Returns true if the subscription is closed now (an async one's on-complete callback
/// has run or is queued), false if it was left allocated and still open (NATS away).
bool retire(natsConnection* nc, natsSubscription* sub, bool jetstream) noexcept {
  if (sub == nullptr) return true;
  {
    std::lock_guard lock(g_labels_mu);
    g_labels.erase(sub);
  }
  if (natsConnection_IsClosed(nc)) {  // no reader thread any more: nothing can race
    natsSubscription_Destroy(sub);    // closed with the connection already
    return true;
  }
  if (jetstream) {
    int64_t delivered = 0;
    if (natsSubscription_GetDelivered(sub, &delivered) != NATS_OK) delivered = 0;  // closed already
    natsSubscription_AutoUnsubscribe(sub, delivered <= 0 ? 1 : static_cast<int>(std::min<int64_t>(delivered, INT_MAX)));
  } else {
    natsSubscription_Unsubscribe(sub);
  }
  if (natsConnection_FlushTimeout(nc, 5'000) != NATS_OK && !natsConnection_IsClosed(nc))
    return !natsSubscription_IsValid(sub);  // left allocated on purpose (see above); our reference keeps it
  natsSubscription_Destroy(sub);  // closes it if the steps above did not (Unsubscribe inside)
  return true;
}

/// Depth of natsio message callbacks running on this thread (the delivery thread while a
/// handler runs; 0 elsewhere).
thread_local int t_in_callback = 0;

struct InCallback {
  InCallback() noexcept { ++t_in_callback; }
  ~InCallback() { --t_in_callback; }
  InCallback(const InCallback&) = delete;
  InCallback& operator=(const InCallback&) = delete;
};

/// How long a destructor waits for a running handler to return (see await_handlers()).
constexpr auto kHandlerWait = std::chrono::seconds(5);

/// nats.c's on-complete callback (natsSubscription_SetOnCompleteCB), on the delivery
/// thread: the subscription is closed and no handler runs or will run for it.
template <class State>
void on_complete(void* closure) noexcept {
  auto* st = static_cast<State*>(closure);
  bool orphaned = false;
  {
    std::lock_guard lock(st->completion.mu);
    st->completion.done = true;
    orphaned = st->completion.orphaned;
    // Notified under the lock: the waiter frees `st` as soon as it can take it.
    if (!orphaned) st->completion.cv.notify_all();
  }
  if (orphaned) delete st;
}

/// Registers on_complete for `sub`; on failure retires it and throws (the State must
/// not be freed while a handler might run, so it is left to nats.c then).
template <class State>
void arm_completion(natsConnection* nc, natsSubscription* sub, std::unique_ptr<State>& st, bool jetstream) {
  const natsStatus s = natsSubscription_SetOnCompleteCB(sub, &on_complete<State>, st.get());
  if (s == NATS_OK) return;
  const std::string what = fmt::format("natsSubscription_SetOnCompleteCB: {}", natsStatus_GetText(s));
  retire(nc, sub, jetstream);
  (void)st.release();  // no on-complete callback will free it: a few bytes, never a handler's freed state
  throw NatsError(what);
}

/// The destructor's last step, after retire(): returns once no handler of the
/// subscription runs or will run, and frees the State (via `owned`), or hands the State
/// to on_complete without waiting, where waiting cannot end or would deadlock:
/// - `closed` false: retire() left the subscription open (NATS away); its callback comes
///   only when the connection closes;
/// - on the delivery thread (t_in_callback): the callback runs there, after the current
///   handler. No other handler runs meanwhile (one thread), and a closed subscription's
///   queued messages are dropped;
/// - past kHandlerWait: a handler blocked on something the destroying thread holds, or a
///   delivery thread stuck elsewhere. Logged (error); the handler may still run.
template <class State>
void await_handlers(std::unique_ptr<State>& owned, bool closed, const std::string& what) noexcept {
  State* st = owned.get();
  if (st == nullptr) return;
  auto& c = st->completion;
  c.stopped.store(true);  // no handler call starts from here on (the trampolines look)
  std::unique_lock lock(c.mu);
  if (c.done) return;  // `owned` frees it after the lock is let go (the callback is over)
  if (closed && t_in_callback == 0) {
    if (c.cv.wait_for(lock, kHandlerWait, [&c] { return c.done; })) return;
    try {
      st->log->error(fmt::format("natsio: ALARM: a handler of {} still runs {} s after its subscription was closed; "
                                 "destroying it anyway (what the handler uses may be freed under it)",
                                 what, kHandlerWait.count()));
    } catch (...) {  // fmt out of memory: nothing to say it with
    }
  }
  c.orphaned = true;
  (void)owned.release();  // on_complete frees it
}

void release(Connection::State* st) noexcept {
  if (st->refs.fetch_sub(1) == 1) delete st;
}

void on_disconnected(natsConnection* nc, void* closure) noexcept {
  auto* st = static_cast<Connection::State*>(closure);
  if (st->closing) return;
  const char* err = nullptr;
  natsConnection_GetLastError(nc, &err);
  std::string msg = "NATS disconnected";
  try {
    if (err && *err) msg += std::string(": ") + err;
    msg += "; reconnecting";
  } catch (...) {
  }
  st->log->warn(msg);
}

void on_reconnected(natsConnection* nc, void* closure) noexcept {
  auto* st = static_cast<Connection::State*>(closure);
  char url[256] = {};
  natsConnection_GetConnectedUrl(nc, url, sizeof url);
  // The URL carries the password ("nats://user:password@host:port"): log "user:***".
  std::string shown(url);
  if (const auto at = shown.rfind('@'); at != std::string::npos) {
    const auto scheme = shown.find("://");
    const auto colon = shown.find(':', scheme == std::string::npos ? 0 : scheme + 3);
    if (colon != std::string::npos && colon < at) shown.replace(colon + 1, at - colon - 1, "***");
  }
  try {
    st->log->info("NATS reconnected to " + shown + "; subscriptions resumed");
  } catch (...) {  // out of memory: not said
  }
  if (st->on_reconnect) {
    try {
      st->on_reconnect();
    } catch (...) {
      st->log->error("reconnect handler threw");
    }
  }
}

/// The last callback nats.c makes for a connection: it lets go of the state.
void on_closed(natsConnection*, void* closure) noexcept {
  auto* st = static_cast<Connection::State*>(closure);
  if (!st->closing) st->log->warn("NATS connection closed");
  release(st);
}

void on_async_error(natsConnection*, natsSubscription* sub, natsStatus s, void* closure) noexcept {
  auto* st = static_cast<Connection::State*>(closure);
  // Not natsSubscription_GetSubject(sub): `sub` may be freed by now (see g_labels).
  std::string label;
  try {
    label = sub ? label_of(sub) : std::string();
  } catch (...) {
  }
  try {
    st->log->error(fmt::format("NATS error{}{}: {}", label.empty() ? "" : " on ", label, natsStatus_GetText(s)),
                   {{"subject", label}});
  } catch (...) {
  }
}

// The only C entry point for subscriptions; nothing escapes into C.
void on_msg(natsConnection*, natsSubscription*, natsMsg* m, void* closure) noexcept {
  MsgPtr owned{m};
  const InCallback in_callback;
  auto* st = static_cast<Subscription::State*>(closure);
  if (st->completion.stopped.load()) return;  // its owner is gone (await_handlers())
  try {
    const char* reply = natsMsg_GetReply(m);
    Message msg{natsMsg_GetSubject(m),
                std::string_view(natsMsg_GetData(m), static_cast<std::size_t>(natsMsg_GetDataLength(m))),
                reply ? std::string_view(reply) : std::string_view()};
    st->handler(msg);
  } catch (const std::exception& e) {
    ++st->errors;
    st->log->error("natsio: handler threw", {{"subject", st->subject}, {"error", e.what()}});  // allocates nothing here
  } catch (...) {
    ++st->errors;
    st->log->error("natsio: handler threw a non-standard exception", {{"subject", st->subject}});
  }
}

}  // namespace

Library::Library() {
  check(nats_Open(-1), "nats_Open");
  // One delivery thread for every subscription of the process: single writer.
  check(nats_SetMessageDeliveryPoolSize(1), "nats_SetMessageDeliveryPoolSize");
}

Library::~Library() { nats_CloseAndWait(2'000); }

Connection::Connection(const NatsConfig& cfg)
    : state_(new State{.name = cfg.name.empty() ? std::string("nats") : cfg.name,
                       .on_reconnect = cfg.on_reconnect,
                       .log = cfg.log ? cfg.log : obs::default_logger(cfg.name.empty() ? std::string("nats") : cfg.name)}) {
  try {
    connect(cfg);
  } catch (...) {
    state_->closing = true;
    release(state_);  // nats.c's share, if it took one, is left to it (a failed connect)
    throw;
  }
}

void Connection::connect(const NatsConfig& cfg) {
  natsOptions* raw = nullptr;
  check(natsOptions_Create(&raw), "natsOptions_Create");
  std::unique_ptr<natsOptions, OptionsDeleter> opts{raw};
  // One URL or a list ("nats://u:p@h1:4222,nats://u:p@h2:4222"): nats.c tries them in random
  // order and, once connected, also the servers the cluster announces. Those come without
  // credentials, so the first URL's user and password are also set as the connection's
  // (nats.c uses a URL's own credentials first, then these).
  const auto servers = server_list(cfg.url);
  if (servers.empty()) throw NatsError("no NATS server URL given (NATS_URL is empty)");
  std::vector<const char*> server_ptrs;
  for (const auto& one : servers) server_ptrs.push_back(one.c_str());
  check(natsOptions_SetServers(raw, server_ptrs.data(), static_cast<int>(server_ptrs.size())), "natsOptions_SetServers");
  if (cfg.user.empty()) {
    for (const auto& one : servers)
      if (auto c = credentials_of(one)) {
        check(natsOptions_SetUserInfo(raw, c->first.c_str(), c->second.c_str()), "natsOptions_SetUserInfo");
        break;
      }
  }
  if (!cfg.name.empty()) check(natsOptions_SetName(raw, cfg.name.c_str()), "natsOptions_SetName");
  check(natsOptions_SetSendAsap(raw, cfg.send_asap), "natsOptions_SetSendAsap");
  if (!cfg.user.empty())
    check(natsOptions_SetUserInfo(raw, cfg.user.c_str(), cfg.password.c_str()), "natsOptions_SetUserInfo");
  check(natsOptions_UseGlobalMessageDelivery(raw, true), "natsOptions_UseGlobalMessageDelivery");
  check(natsOptions_SetMaxReconnect(raw, cfg.max_reconnect), "natsOptions_SetMaxReconnect");
  check(natsOptions_SetReconnectWait(raw, cfg.reconnect_wait_ms), "natsOptions_SetReconnectWait");
  // Large reconnect buffer: publishes made while reconnecting are kept, not lost.
  check(natsOptions_SetReconnectBufSize(raw, 64 * 1024 * 1024), "natsOptions_SetReconnectBufSize");
  // Unlimited client-side pending: a slow handler must not drop messages here.
  check(natsOptions_SetMaxPendingMsgs(raw, 10'000'000), "natsOptions_SetMaxPendingMsgs");
  if (!cfg.inbox_prefix.empty()) {
    check(natsOptions_SetCustomInboxPrefix(raw, cfg.inbox_prefix.c_str()), "natsOptions_SetCustomInboxPrefix");
    inbox_prefix_ = cfg.inbox_prefix;
  }
  check(natsOptions_SetDisconnectedCB(raw, &on_disconnected, state_), "natsOptions_SetDisconnectedCB");
  check(natsOptions_SetReconnectedCB(raw, &on_reconnected, state_), "natsOptions_SetReconnectedCB");
  check(natsOptions_SetClosedCB(raw, &on_closed, state_), "natsOptions_SetClosedCB");
  check(natsOptions_SetErrorHandler(raw, &on_async_error, state_), "natsOptions_SetErrorHandler");
  state_->refs.fetch_add(1);  // nats.c's share: released by on_closed, its last callback
  natsStatus s = NATS_OK;
  const std::int64_t step = 250;
  std::int64_t waited = 0;
  for (;;) {
    s = natsConnection_Connect(&nc_, raw);
    if (s == NATS_OK || waited >= cfg.connect_retry_ms) break;
    nats_Sleep(step);
    waited += step;
  }
  if (s != NATS_OK)
    throw_status(fmt::format("connect to {} as {}", without_credentials(cfg.url), cfg.user.empty() ? user_of(cfg.url) : cfg.user),
                 s);
}

std::string url_without_credentials(std::string_view url) { return without_credentials(url); }

std::vector<std::string> server_list(std::string_view urls) {
  std::vector<std::string> out;
  std::size_t begin = 0;
  while (begin <= urls.size()) {
    auto end = urls.find(',', begin);
    if (end == std::string_view::npos) end = urls.size();
    auto one = urls.substr(begin, end - begin);
    while (!one.empty() && (one.front() == ' ' || one.front() == '\t')) one.remove_prefix(1);
    while (!one.empty() && (one.back() == ' ' || one.back() == '\t')) one.remove_suffix(1);
    if (!one.empty()) out.emplace_back(one);
    begin = end + 1;
  }
  return out;
}

Connection::~Connection() {
  state_->closing = true;
  if (nc_) {
    natsConnection_FlushTimeout(nc_, 2'000);
    natsConnection_Destroy(nc_);  // nats.c calls on_closed later, which releases its share
  }
  release(state_);
}

bool Connection::publish(std::string_view subject, std::string_view data) noexcept {
  // nats.c needs a NUL-terminated subject; subjects are short, so a stack copy.
  char buf[256];
  if (subject.size() >= sizeof buf) return false;
  std::memcpy(buf, subject.data(), subject.size());
  buf[subject.size()] = '\0';
  return natsConnection_Publish(nc_, buf, data.data(), static_cast<int>(data.size())) == NATS_OK;
}

std::string Connection::request(std::string_view subject, std::string_view data, std::int64_t timeout_ms) {
  natsMsg* reply = nullptr;
  const std::string subj(subject);
  const natsStatus s =
      natsConnection_Request(&reply, nc_, subj.c_str(), data.data(), static_cast<int>(data.size()), timeout_ms);
  if (s != NATS_OK) throw_status(fmt::format("request {}", subj), s);
  MsgPtr owned{reply};
  return std::string(natsMsg_GetData(reply), static_cast<std::size_t>(natsMsg_GetDataLength(reply)));
}

void Connection::flush(std::int64_t timeout_ms) { check(natsConnection_FlushTimeout(nc_, timeout_ms), "flush"); }

bool Connection::connected() const noexcept { return natsConnection_Status(nc_) == NATS_CONN_STATUS_CONNECTED; }

std::string Connection::last_error() const {
  const char* text = nullptr;
  natsConnection_GetLastError(nc_, &text);
  return text ? text : "";
}

Subscription::Subscription(Connection& conn, std::string_view subject, Handler handler)
    : nc_(conn.get()), state_(std::make_unique<State>()) {
  state_->handler = std::move(handler);
  state_->subject = std::string(subject);
  state_->log = conn.log_ptr();
  check(natsConnection_Subscribe(&sub_, conn.get(), state_->subject.c_str(), &on_msg, state_.get()),
        fmt::format("subscribe {}", subject));
  remember(sub_, state_->subject);
  arm_completion(nc_, sub_, state_, false);
  // No client-side limit: the server's slow-consumer protection still applies.
  const natsStatus s = natsSubscription_SetPendingLimits(sub_, -1, -1);
  if (s != NATS_OK) {
    await_handlers(state_, retire(nc_, sub_, false), state_->subject);
    throw_status("natsSubscription_SetPendingLimits", s);
  }
}

Subscription::~Subscription() { await_handlers(state_, retire(nc_, sub_, false), state_->subject); }

std::int64_t Subscription::dropped() const noexcept {
  int64_t n = 0;
  if (natsSubscription_GetDropped(sub_, &n) != NATS_OK) return -1;
  return n;
}

JsMessage::~JsMessage() {
  if (m_) natsMsg_Destroy(m_);
}

std::string_view JsMessage::subject() const noexcept { return natsMsg_GetSubject(m_); }
std::string_view JsMessage::data() const noexcept {
  return {natsMsg_GetData(m_), static_cast<std::size_t>(natsMsg_GetDataLength(m_))};
}

namespace {
struct MetaDeleter {
  void operator()(jsMsgMetaData* m) const noexcept { jsMsgMetaData_Destroy(m); }
};
}  // namespace

std::uint64_t JsMessage::stream_sequence() const {
  jsMsgMetaData* meta = nullptr;
  check(natsMsg_GetMetaData(&meta, m_), "natsMsg_GetMetaData");
  std::unique_ptr<jsMsgMetaData, MetaDeleter> owned{meta};
  return meta->Sequence.Stream;
}

std::uint64_t JsMessage::pending() const {
  jsMsgMetaData* meta = nullptr;
  check(natsMsg_GetMetaData(&meta, m_), "natsMsg_GetMetaData");
  std::unique_ptr<jsMsgMetaData, MetaDeleter> owned{meta};
  return meta->NumPending;
}

// Acknowledgements by hand (the JetStream ack protocol: "+ACK", "-NAK {"delay":ns}" to
// the message's $JS.ACK reply subject): natsMsg_AckSync needs a message of a nats.c
// JetStream subscription, and fetch() reads from a plain one (see fetch()).
bool JsMessage::ack_sync() noexcept {
  const char* reply = natsMsg_GetReply(m_);
  if (reply == nullptr || *reply == '\0') return false;
  natsMsg* answer = nullptr;
  const natsStatus s = natsConnection_RequestString(&answer, nc_, reply, "+ACK", 5'000);
  if (answer) natsMsg_Destroy(answer);
  return s == NATS_OK;
}

bool JsMessage::nak(std::int64_t delay_ms) noexcept {
  const char* reply = natsMsg_GetReply(m_);
  if (reply == nullptr || *reply == '\0') return false;
  char body[64];
  std::snprintf(body, sizeof body, "-NAK {\"delay\":%lld}", static_cast<long long>(delay_ms) * 1'000'000LL);
  return natsConnection_PublishString(nc_, reply, body) == NATS_OK;
}

JetStream::JetStream(Connection& conn) : nc_(conn.get()), inbox_prefix_(conn.inbox_prefix()) {
  check(natsConnection_JetStream(&js_, conn.get(), nullptr), "natsConnection_JetStream");
}

JetStream::~JetStream() {
  retire(nc_, pull_, false);  // a plain subscription: keeps the durable consumer on the server
  if (js_) jsCtx_Destroy(js_);
}

void JetStream::ensure_stream(const std::string& name, const std::vector<std::string>& subjects,
                              const StreamLimits& limits) {
  std::vector<const char*> subj;
  for (const auto& s : subjects) subj.push_back(s.c_str());
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = name.c_str();
  cfg.Subjects = subj.data();
  cfg.SubjectsLen = static_cast<int>(subj.size());
  cfg.Storage = js_FileStorage;
  cfg.Retention = limits.interest ? js_InterestPolicy : js_LimitsPolicy;
  cfg.Discard = limits.discard_new ? js_DiscardNew : js_DiscardOld;
  if (limits.max_bytes > 0) cfg.MaxBytes = limits.max_bytes;
  if (limits.max_msgs > 0) cfg.MaxMsgs = limits.max_msgs;
  if (limits.max_msg_size > 0) cfg.MaxMsgSize = limits.max_msg_size;
  cfg.Replicas = limits.replicas > 0 ? limits.replicas : 1;
  // Core publishers: without NoAck the stream would answer a `nats req` on a captured
  // subject (trading.orders, risk.management) with its PubAck before the worker could reply.
  cfg.NoAck = limits.no_ack;
  if (limits.max_age_ms > 0) cfg.MaxAge = limits.max_age_ms * 1'000'000;            // ns
  if (limits.duplicate_window_ms > 0) cfg.Duplicates = limits.duplicate_window_ms * 1'000'000;  // ns
  std::vector<jsStreamSource> sources(limits.sources.size());
  std::vector<jsStreamSource*> source_ptrs;
  for (std::size_t i = 0; i < limits.sources.size(); ++i) {
    sources[i] = jsStreamSource{};
    sources[i].Name = limits.sources[i].c_str();
    source_ptrs.push_back(&sources[i]);
  }
  if (!source_ptrs.empty()) {
    cfg.Sources = source_ptrs.data();
    cfg.SourcesLen = static_cast<int>(source_ptrs.size());
  }
  jsStreamInfo* si = nullptr;
  jsErrCode err = static_cast<jsErrCode>(0);
  natsStatus s = js_AddStream(&si, js_, &cfg, nullptr, &err);
  if (s != NATS_OK && err == JSStreamNameExistErr) {
    if (si) jsStreamInfo_Destroy(si);
    si = nullptr;
    err = static_cast<jsErrCode>(0);
    s = js_UpdateStream(&si, js_, &cfg, nullptr, &err);
  }
  if (si) jsStreamInfo_Destroy(si);
  if (s != NATS_OK)
    throw_status(fmt::format("ensure stream {} ({} retention; jetstream error {})", name,
                             limits.interest ? "interest" : "limits", static_cast<int>(err)), s);
}

bool JetStream::stream_exists(const std::string& name) {
  jsStreamInfo* si = nullptr;
  jsErrCode err = static_cast<jsErrCode>(0);
  const natsStatus s = js_GetStreamInfo(&si, js_, name.c_str(), nullptr, &err);
  if (si) jsStreamInfo_Destroy(si);
  if (s == NATS_OK) return true;
  if (s == NATS_NOT_FOUND || err == JSStreamNotFoundErr) return false;
  throw_status(fmt::format("stream info {} (jetstream error {})", name, static_cast<int>(err)), s);
}

bool JetStream::ensure_durable(const std::string& stream, const std::string& durable, std::int64_t ack_wait_ms,
                               std::int64_t max_ack_pending) {
  if (ack_floor(stream, durable)) return false;
  jsConsumerConfig cc;
  jsConsumerConfig_Init(&cc);
  cc.Durable = durable.c_str();
  cc.AckPolicy = js_AckAll;
  cc.DeliverPolicy = js_DeliverAll;
  cc.AckWait = ack_wait_ms * 1'000'000;  // ns
  cc.MaxAckPending = max_ack_pending;
  cc.MaxWaiting = 512;
  jsConsumerInfo* ci = nullptr;
  jsErrCode err = static_cast<jsErrCode>(0);
  const natsStatus s = js_AddConsumer(&ci, js_, stream.c_str(), &cc, nullptr, &err);
  if (ci) jsConsumerInfo_Destroy(ci);
  if (s != NATS_OK)
    throw_status(fmt::format("create consumer {} on {} (jetstream error {})", durable, stream, static_cast<int>(err)), s);
  return true;
}

std::optional<std::uint64_t> JetStream::ack_floor(const std::string& stream, const std::string& durable) {
  jsConsumerInfo* ci = nullptr;
  jsErrCode err = static_cast<jsErrCode>(0);
  const natsStatus s = js_GetConsumerInfo(&ci, js_, stream.c_str(), durable.c_str(), nullptr, &err);
  if (s == NATS_NOT_FOUND || err == JSConsumerNotFoundErr) {
    if (ci) jsConsumerInfo_Destroy(ci);
    return std::nullopt;
  }
  if (s != NATS_OK) {
    if (ci) jsConsumerInfo_Destroy(ci);
    throw_status(fmt::format("consumer info {} on {} (jetstream error {})", durable, stream, static_cast<int>(err)), s);
  }
  const std::uint64_t floor = ci->AckFloor.Stream;
  jsConsumerInfo_Destroy(ci);
  return floor;
}

void JetStream::bind_pull(const std::string& stream, const std::string& durable) {
  if (pull_) {
    retire(nc_, pull_, false);  // a plain subscription: keeps the durable consumer on the server
    pull_ = nullptr;
  }
  if (!ack_floor(stream, durable))
    throw NatsError(fmt::format("bind to consumer {} on {}: the consumer does not exist", durable, stream));
  // An inbox of our own prefix (the identity may subscribe to nothing else), unique per
  // bind, so that deliveries for a previous binding's requests never reach this one.
  pull_inbox_ = fmt::format("{}.pull.{}.{}", inbox_prefix_, static_cast<const void*>(this), ++pulls_);
  pull_next_ = fmt::format("$JS.API.CONSUMER.MSG.NEXT.{}.{}", stream, durable);
  check(natsConnection_SubscribeSync(&pull_, nc_, pull_inbox_.c_str()), "subscribe to the pull inbox");
  remember(pull_, pull_inbox_);
  check(natsSubscription_SetPendingLimits(pull_, -1, -1), "natsSubscription_SetPendingLimits");
}

namespace {

/// A status message of the pull protocol ("Status" header: 100 heartbeat or flow
/// control, 404 no messages, 408 request expired, 409 e.g. Exceeded MaxWaiting, 503 no
/// responders);
/// "" for a stream message.
std::string pull_status(natsMsg* m, std::string* description) {
  if (natsMsg_GetDataLength(m) > 0) return {};
  const char* v = nullptr;
  if (natsMsgHeader_Get(m, "Status", &v) != NATS_OK || v == nullptr) return {};
  const char* d = nullptr;
  if (description && natsMsgHeader_Get(m, "Description", &d) == NATS_OK && d) *description = d;
  return v;
}

}  // namespace

std::vector<JsMessage> JetStream::fetch(int batch, std::int64_t timeout_ms) {
  if (pull_ == nullptr) throw NatsError("fetch: not bound to a consumer (bind_pull)");
  std::vector<JsMessage> out;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  // One message, waiting at most `wait_ms`; false on timeout. A status message ends
  // the current request (true, `ended`), a stream message is kept.
  bool ended = false;
  auto next = [&](std::int64_t wait_ms) {
    natsMsg* m = nullptr;
    const natsStatus s = natsSubscription_NextMsg(&m, pull_, wait_ms);
    if (s == NATS_TIMEOUT) return false;
    check(s, "fetch");
    MsgPtr owned{m};
    std::string description;
    const std::string status = pull_status(m, &description);
    if (status.empty()) {
      out.emplace_back(owned.release(), nc_);
    } else if (status == "409" || status == "503") {
      // 409: e.g. Exceeded MaxWaiting, Consumer Deleted; 503: no responders (the consumer
      // or JetStream is gone). The caller binds again, which says if the consumer is missing.
      throw NatsError(fmt::format("fetch: {} {}", status, description.empty() ? "no responders" : description));
    } else if (status != "100") {
      ended = true;  // 404 / 408: this request is over
    }
    return true;
  };
  // Late deliveries for an earlier request first (valid messages, in order).
  while (static_cast<int>(out.size()) < batch && next(0)) {
  }
  if (static_cast<int>(out.size()) >= batch) return out;
  const auto left_ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
  if (left_ms <= 0) return out;
  const auto request = fmt::format(R"({{"batch":{},"expires":{}}})", batch - static_cast<int>(out.size()),
                                   left_ms * 1'000'000LL);
  check(natsConnection_PublishRequestString(nc_, pull_next_.c_str(), pull_inbox_.c_str(), request.c_str()),
        "fetch request");
  ended = false;
  while (static_cast<int>(out.size()) < batch && !ended) {
    const auto wait_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    if (wait_ms <= 0 || !next(wait_ms)) break;
  }
  return out;
}

namespace {

std::uint64_t stream_seq_of(natsMsg* m) {
  jsMsgMetaData* meta = nullptr;
  check(natsMsg_GetMetaData(&meta, m), "natsMsg_GetMetaData");
  std::unique_ptr<jsMsgMetaData, MetaDeleter> owned{meta};
  return meta->Sequence.Stream;
}

void on_stream_msg(natsConnection*, natsSubscription* sub, natsMsg* m, void* closure) noexcept {
  MsgPtr owned{m};
  const InCallback in_callback;
  auto* st = static_cast<OrderedSubscription::State*>(closure);
  if (st->completion.stopped.load()) return;  // its owner is gone (await_handlers())
  try {
    StreamMessage msg{stream_seq_of(m), natsMsg_GetSubject(m),
                      std::string_view(natsMsg_GetData(m), static_cast<std::size_t>(natsMsg_GetDataLength(m)))};
    int queued = 0;
    if (natsSubscription_GetPending(sub, &queued, nullptr) == NATS_OK) msg.more_queued = queued > 0;
    st->handler(msg);
  } catch (const std::exception& e) {
    ++st->errors;
    st->log->error("natsio: ordered consumer handler threw", {{"stream", st->stream}, {"error", e.what()}});
  } catch (...) {
    ++st->errors;
    st->log->error("natsio: ordered consumer handler threw a non-standard exception", {{"stream", st->stream}});
  }
}

void ordered_options(jsSubOptions& so, const std::string& stream, std::uint64_t start_seq) {
  jsSubOptions_Init(&so);
  so.Stream = stream.c_str();
  so.Ordered = true;
  if (start_seq <= 1) {
    so.Config.DeliverPolicy = js_DeliverAll;
  } else {
    so.Config.DeliverPolicy = js_DeliverByStartSequence;
    so.Config.OptStartSeq = start_seq;
  }
}

}  // namespace

OrderedSubscription::OrderedSubscription(Connection& conn, const std::string& stream, std::uint64_t start_seq,
                                         StreamHandler handler)
    : nc_(conn.get()), state_(std::make_unique<State>()) {
  state_->handler = std::move(handler);
  state_->stream = stream;
  state_->log = conn.log_ptr();
  check(natsConnection_JetStream(&js_, conn.get(), nullptr), "natsConnection_JetStream");
  jsSubOptions so;
  ordered_options(so, stream, start_seq);
  jsErrCode err = static_cast<jsErrCode>(0);
  const natsStatus s = js_Subscribe(&sub_, js_, ">", &on_stream_msg, state_.get(), nullptr, &so, &err);
  if (s != NATS_OK) {
    jsCtx_Destroy(js_);
    throw_status(fmt::format("ordered consumer on {} from {} (jetstream error {})", stream, start_seq,
                             static_cast<int>(err)), s);
  }
  remember(sub_, "ordered consumer on " + stream);
  try {
    arm_completion(nc_, sub_, state_, true);
  } catch (...) {
    jsCtx_Destroy(js_);
    throw;
  }
  const natsStatus ps = natsSubscription_SetPendingLimits(sub_, -1, -1);
  if (ps != NATS_OK) {
    await_handlers(state_, retire(nc_, sub_, true), "ordered consumer on " + stream);
    jsCtx_Destroy(js_);
    throw_status("natsSubscription_SetPendingLimits", ps);
  }
}

std::optional<OrderedSubscription::ConsumerState> OrderedSubscription::consumer_state() noexcept {
  jsConsumerInfo* ci = nullptr;
  jsErrCode err = static_cast<jsErrCode>(0);
  if (natsSubscription_GetConsumerInfo(&ci, sub_, nullptr, &err) != NATS_OK || ci == nullptr) {
    if (ci) jsConsumerInfo_Destroy(ci);
    return std::nullopt;
  }
  const ConsumerState st{ci->NumPending, ci->Delivered.Stream};
  jsConsumerInfo_Destroy(ci);
  return st;
}

OrderedSubscription::~OrderedSubscription() {
  // retire() removes the interest without asking JetStream to delete the ephemeral
  // consumer (a worker may not: pkg/auth); the server removes it once it sees no interest.
  const bool closed = retire(nc_, sub_, true);
  await_handlers(state_, closed, "ordered consumer on " + state_->stream);
  if (js_) jsCtx_Destroy(js_);
}

StreamReader::StreamReader(Connection& conn, const std::string& stream, std::uint64_t start_seq) : nc_(conn.get()) {
  check(natsConnection_JetStream(&js_, conn.get(), nullptr), "natsConnection_JetStream");
  jsSubOptions so;
  ordered_options(so, stream, start_seq);
  jsErrCode err = static_cast<jsErrCode>(0);
  const natsStatus s = js_SubscribeSync(&sub_, js_, ">", nullptr, &so, &err);
  if (s != NATS_OK) {
    jsCtx_Destroy(js_);
    throw_status(fmt::format("stream reader on {} from {} (jetstream error {})", stream, start_seq,
                             static_cast<int>(err)), s);
  }
  remember(sub_, "stream reader on " + stream);
}

StreamReader::~StreamReader() {
  if (current_) natsMsg_Destroy(current_);
  // The server goes on pushing the stream's tail to this consumer after the last message
  // read: this is the subscription whose plain Destroy corrupted the heap (retire()).
  retire(nc_, sub_, true);
  if (js_) jsCtx_Destroy(js_);
}

bool StreamReader::next(StreamMessage& out, std::int64_t timeout_ms) {
  if (current_) {
    natsMsg_Destroy(current_);
    current_ = nullptr;
  }
  natsMsg* m = nullptr;
  const natsStatus s = natsSubscription_NextMsg(&m, sub_, timeout_ms);
  if (s == NATS_TIMEOUT) return false;
  check(s, "stream reader next");
  current_ = m;
  out.seq = stream_seq_of(m);
  out.subject = natsMsg_GetSubject(m);
  out.data = std::string_view(natsMsg_GetData(m), static_cast<std::size_t>(natsMsg_GetDataLength(m)));
  return true;
}

JetStream::StreamState JetStream::stream_state(const std::string& stream) {
  jsStreamInfo* si = nullptr;
  jsErrCode err = static_cast<jsErrCode>(0);
  check(js_GetStreamInfo(&si, js_, stream.c_str(), nullptr, &err), fmt::format("stream info {}", stream));
  StreamState st{.first_seq = si->State.FirstSeq, .last_seq = si->State.LastSeq, .msgs = si->State.Msgs,
                 .bytes = si->State.Bytes, .max_bytes = si->Config ? si->Config->MaxBytes : 0,
                 .max_msgs = si->Config ? si->Config->MaxMsgs : 0,
                 .replicas = si->Config ? static_cast<int>(si->Config->Replicas) : 1,
                 .no_ack = si->Config ? si->Config->NoAck : false,
                 .leader = si->Cluster && si->Cluster->Leader ? si->Cluster->Leader : ""};
  jsStreamInfo_Destroy(si);
  return st;
}

std::uint64_t JetStream::last_sequence(const std::string& stream) {
  jsStreamInfo* si = nullptr;
  jsErrCode err = static_cast<jsErrCode>(0);
  check(js_GetStreamInfo(&si, js_, stream.c_str(), nullptr, &err), fmt::format("stream info {}", stream));
  const std::uint64_t last = si->State.LastSeq;
  jsStreamInfo_Destroy(si);
  return last;
}

std::optional<JetStream::StoredMessage> JetStream::get_message(const std::string& stream, std::uint64_t seq) {
  natsMsg* m = nullptr;
  jsErrCode err = static_cast<jsErrCode>(0);
  const natsStatus s = js_GetMsg(&m, js_, stream.c_str(), seq, nullptr, &err);
  if (s == NATS_NOT_FOUND || err == JSNoMessageFoundErr) return std::nullopt;
  check(s, fmt::format("get message {} of stream {}", seq, stream));
  StoredMessage out{.subject = natsMsg_GetSubject(m) ? natsMsg_GetSubject(m) : "",
                    .data = std::string(natsMsg_GetData(m) ? natsMsg_GetData(m) : "",
                                        static_cast<std::size_t>(natsMsg_GetDataLength(m)))};
  natsMsg_Destroy(m);
  return out;
}

}  // namespace natsio
