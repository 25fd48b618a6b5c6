#include "natsio/natsio.hpp"

#include <nats/nats.h>

#include <cstdio>
#include <cstring>
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

// The only C entry point for subscriptions; nothing escapes into C.
void on_msg(natsConnection*, natsSubscription*, natsMsg* m, void* closure) noexcept {
  MsgPtr owned{m};
  auto* st = static_cast<Subscription::State*>(closure);
  try {
    const char* reply = natsMsg_GetReply(m);
    Message msg{natsMsg_GetSubject(m),
                std::string_view(natsMsg_GetData(m), static_cast<std::size_t>(natsMsg_GetDataLength(m))),
                reply ? std::string_view(reply) : std::string_view()};
    st->handler(msg);
  } catch (const std::exception& e) {
    ++st->errors;
    std::fprintf(stderr, "natsio: handler for %s threw: %s\n", st->subject.c_str(), e.what());
  } catch (...) {
    ++st->errors;
    std::fprintf(stderr, "natsio: handler for %s threw a non-standard exception\n", st->subject.c_str());
  }
}

}  // namespace

Library::Library() {
  check(nats_Open(-1), "nats_Open");
  // One delivery thread for every subscription of the process: single writer.
  check(nats_SetMessageDeliveryPoolSize(1), "nats_SetMessageDeliveryPoolSize");
}

Library::~Library() { nats_CloseAndWait(2'000); }

Connection::Connection(const NatsConfig& cfg) {
  natsOptions* raw = nullptr;
  check(natsOptions_Create(&raw), "natsOptions_Create");
  std::unique_ptr<natsOptions, OptionsDeleter> opts{raw};
  check(natsOptions_SetURL(raw, cfg.url.c_str()), "natsOptions_SetURL");
  if (!cfg.name.empty()) check(natsOptions_SetName(raw, cfg.name.c_str()), "natsOptions_SetName");
  check(natsOptions_SetSendAsap(raw, cfg.send_asap), "natsOptions_SetSendAsap");
  check(natsOptions_UseGlobalMessageDelivery(raw, true), "natsOptions_UseGlobalMessageDelivery");
  check(natsOptions_SetMaxReconnect(raw, cfg.max_reconnect), "natsOptions_SetMaxReconnect");
  check(natsOptions_SetReconnectWait(raw, cfg.reconnect_wait_ms), "natsOptions_SetReconnectWait");
  // Large reconnect buffer: publishes made while reconnecting are kept, not lost.
  check(natsOptions_SetReconnectBufSize(raw, 64 * 1024 * 1024), "natsOptions_SetReconnectBufSize");
  // Unlimited client-side pending: a slow handler must not drop messages here.
  check(natsOptions_SetMaxPendingMsgs(raw, 10'000'000), "natsOptions_SetMaxPendingMsgs");
  natsStatus s = NATS_OK;
  const std::int64_t step = 250;
  std::int64_t waited = 0;
  for (;;) {
    s = natsConnection_Connect(&nc_, raw);
    if (s == NATS_OK || waited >= cfg.connect_retry_ms) break;
    nats_Sleep(step);
    waited += step;
  }
  if (s != NATS_OK) throw_status(fmt::format("connect to {}", cfg.url), s);
}

Connection::~Connection() {
  if (nc_) {
    natsConnection_FlushTimeout(nc_, 2'000);
    natsConnection_Destroy(nc_);
  }
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
    : state_(std::make_unique<State>(State{std::move(handler), 0, std::string(subject)})) {
  check(natsConnection_Subscribe(&sub_, conn.get(), state_->subject.c_str(), &on_msg, state_.get()),
        fmt::format("subscribe {}", subject));
  // No client-side limit: the server's slow-consumer protection still applies.
  check(natsSubscription_SetPendingLimits(sub_, -1, -1), "natsSubscription_SetPendingLimits");
}

Subscription::~Subscription() {
  if (sub_) {
    natsSubscription_Unsubscribe(sub_);
    natsSubscription_Destroy(sub_);
  }
}

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

bool JsMessage::ack_sync() noexcept { return natsMsg_AckSync(m_, nullptr, nullptr) == NATS_OK; }

JetStream::JetStream(Connection& conn) {
  check(natsConnection_JetStream(&js_, conn.get(), nullptr), "natsConnection_JetStream");
}

JetStream::~JetStream() {
  if (pull_) natsSubscription_Destroy(pull_);  // keeps the durable consumer on the server
  if (js_) jsCtx_Destroy(js_);
}

void JetStream::ensure_stream(const std::string& name, const std::vector<std::string>& subjects) {
  std::vector<const char*> subj;
  for (const auto& s : subjects) subj.push_back(s.c_str());
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = name.c_str();
  cfg.Subjects = subj.data();
  cfg.SubjectsLen = static_cast<int>(subj.size());
  cfg.Storage = js_FileStorage;
  // Publishers use core NATS; without NoAck the stream would answer a `nats req`
  // on a captured subject (trading.orders, risk.management) with its PubAck
  // before the worker could reply.
  cfg.NoAck = true;
  jsStreamInfo* si = nullptr;
  jsErrCode err = static_cast<jsErrCode>(0);
  natsStatus s = js_AddStream(&si, js_, &cfg, nullptr, &err);
  if (s != NATS_OK && err == JSStreamNameExistErr) s = js_UpdateStream(&si, js_, &cfg, nullptr, &err);
  if (si) jsStreamInfo_Destroy(si);
  if (s != NATS_OK) throw_status(fmt::format("ensure stream {} (jetstream error {})", name, static_cast<int>(err)), s);
}

void JetStream::pull_subscribe(const std::string& stream, const std::string& durable, std::int64_t ack_wait_ms,
                               std::uint64_t start_seq) {
  jsErrCode err = static_cast<jsErrCode>(0);
  const natsStatus del = js_DeleteConsumer(js_, stream.c_str(), durable.c_str(), nullptr, &err);
  if (del != NATS_OK && err != JSConsumerNotFoundErr && del != NATS_NOT_FOUND)
    throw_status(fmt::format("delete consumer {} on {} (jetstream error {})", durable, stream, static_cast<int>(err)), del);
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = stream.c_str();
  so.Config.AckPolicy = js_AckAll;
  if (start_seq <= 1) {
    so.Config.DeliverPolicy = js_DeliverAll;
  } else {
    so.Config.DeliverPolicy = js_DeliverByStartSequence;
    so.Config.OptStartSeq = start_seq;
  }
  so.Config.AckWait = ack_wait_ms * 1'000'000;  // ns
  so.Config.MaxAckPending = -1;
  so.Config.MaxWaiting = 4;
  err = static_cast<jsErrCode>(0);
  const natsStatus s = js_PullSubscribe(&pull_, js_, ">", durable.c_str(), nullptr, &so, &err);
  if (s != NATS_OK) throw_status(fmt::format("pull subscribe {} on {} (jetstream error {})", durable, stream, static_cast<int>(err)), s);
}

std::vector<JsMessage> JetStream::fetch(int batch, std::int64_t timeout_ms) {
  natsMsgList list{nullptr, 0};
  jsErrCode err = static_cast<jsErrCode>(0);
  const natsStatus s = natsSubscription_Fetch(&list, pull_, batch, timeout_ms, &err);
  std::vector<JsMessage> out;
  if (s == NATS_TIMEOUT) return out;
  if (s != NATS_OK) throw_status(fmt::format("fetch (jetstream error {})", static_cast<int>(err)), s);
  out.reserve(static_cast<std::size_t>(list.Count));
  for (int i = 0; i < list.Count; ++i) {
    out.emplace_back(list.Msgs[i]);
    list.Msgs[i] = nullptr;  // ownership moved
  }
  natsMsgList_Destroy(&list);
  return out;
}

namespace {

std::uint64_t stream_seq_of(natsMsg* m) {
  jsMsgMetaData* meta = nullptr;
  check(natsMsg_GetMetaData(&meta, m), "natsMsg_GetMetaData");
  std::unique_ptr<jsMsgMetaData, MetaDeleter> owned{meta};
  return meta->Sequence.Stream;
}

void on_stream_msg(natsConnection*, natsSubscription*, natsMsg* m, void* closure) noexcept {
  MsgPtr owned{m};
  auto* st = static_cast<OrderedSubscription::State*>(closure);
  try {
    StreamMessage msg{stream_seq_of(m), natsMsg_GetSubject(m),
                      std::string_view(natsMsg_GetData(m), static_cast<std::size_t>(natsMsg_GetDataLength(m)))};
    st->handler(msg);
  } catch (const std::exception& e) {
    ++st->errors;
    std::fprintf(stderr, "natsio: ordered consumer handler on %s threw: %s\n", st->stream.c_str(), e.what());
  } catch (...) {
    ++st->errors;
    std::fprintf(stderr, "natsio: ordered consumer handler on %s threw a non-standard exception\n",
                 st->stream.c_str());
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
    : state_(std::make_unique<State>(State{std::move(handler), 0, stream})) {
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
  check(natsSubscription_SetPendingLimits(sub_, -1, -1), "natsSubscription_SetPendingLimits");
}

OrderedSubscription::~OrderedSubscription() {
  if (sub_) {
    natsSubscription_Unsubscribe(sub_);
    natsSubscription_Destroy(sub_);
  }
  if (js_) jsCtx_Destroy(js_);
}

StreamReader::StreamReader(Connection& conn, const std::string& stream, std::uint64_t start_seq) {
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
}

StreamReader::~StreamReader() {
  if (current_) natsMsg_Destroy(current_);
  if (sub_) {
    natsSubscription_Unsubscribe(sub_);
    natsSubscription_Destroy(sub_);
  }
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

std::uint64_t JetStream::last_sequence(const std::string& stream) {
  jsStreamInfo* si = nullptr;
  jsErrCode err = static_cast<jsErrCode>(0);
  check(js_GetStreamInfo(&si, js_, stream.c_str(), nullptr, &err), fmt::format("stream info {}", stream));
  const std::uint64_t last = si->State.LastSeq;
  jsStreamInfo_Destroy(si);
  return last;
}

}  // namespace natsio
