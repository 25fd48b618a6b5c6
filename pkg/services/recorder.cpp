#include "services/recorder.hpp"

#include <algorithm>
#include <chrono>
#include <thread>

#include <fmt/format.h>

#include "codec/codec.hpp"
#include "subjects/subjects.hpp"

namespace services {

void ensure_event_stream(natsio::Connection& conn, const std::string& stream) {
  natsio::JetStream js(conn);
  std::vector<std::string> subj(std::begin(subjects::kCapturedSubjects), std::end(subjects::kCapturedSubjects));
  js.ensure_stream(stream, subj);
}

SessionAssigner::SessionAssigner(const std::optional<eventstore::StoredEvent>& last) {
  if (last && last->type != "session.ended") open_ = last->session_id;
}

std::optional<std::string> SessionAssigner::assign(std::string_view type,
                                                   const std::optional<std::string>& lifecycle_session) {
  if (type == "session.started" && lifecycle_session) {
    open_ = lifecycle_session;
    return open_;
  }
  if (type == "session.ended" && lifecycle_session) {
    if (open_ == lifecycle_session) open_.reset();
    return lifecycle_session;
  }
  return open_;
}

RecorderCheckpoints::RecorderCheckpoints(std::function<eventstore::StoreHead()> head,
                                         eventstore::CheckpointSigner signer, std::string path,
                                         std::int64_t every_events, std::int64_t every_ms, const core::Clock& clock)
    : head_(std::move(head)),
      signer_(std::move(signer)),
      path_(std::move(path)),
      every_events_(every_events),
      every_ms_(every_ms),
      clock_(clock) {}

std::optional<std::string> RecorderCheckpoints::after_append(std::int64_t stored) {
  pending_ += stored;
  if (pending_ == 0) return std::nullopt;
  const bool due = !last_ || pending_ >= every_events_ || clock_.now() - *last_ >= every_ms_ * 1'000'000;
  return due ? write() : std::nullopt;
}

std::optional<std::string> RecorderCheckpoints::flush() { return write(); }

std::optional<std::string> RecorderCheckpoints::write() {
  try {
    const auto head = head_();
    if (head.position == 0) return std::nullopt;  // nothing to sign yet
    const auto now = clock_.now();
    eventstore::append_checkpoint(path_, signer_.sign(head, now));
    pending_ = 0;
    last_ = now;
    ++written_;
    return std::nullopt;
  } catch (const std::exception& e) {
    return std::string(e.what());
  }
}

std::optional<std::string> indexed_client_order_id(const std::optional<std::string>& client_order_id) {
  if (!client_order_id) return std::nullopt;
  const std::string_view s = *client_order_id;
  std::size_t chars = 0;
  for (std::size_t i = 0; i < s.size(); ++chars) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) return std::nullopt;
    const std::size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    if (n == 0 || i + n > s.size() || (n == 2 && c < 0xC2)) return std::nullopt;  // invalid or overlong lead byte
    unsigned cp = n == 1 ? c : c & (0x7F >> n);
    for (std::size_t k = 1; k < n; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return std::nullopt;
      cp = cp << 6 | (cc & 0x3F);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
      return std::nullopt;
    if (cp >= 0x80 && cp <= 0x9F) return std::nullopt;  // C1 controls
    i += n;
  }
  if (chars > kMaxIndexedClientOrderId) return std::nullopt;
  return client_order_id;
}

namespace {

/// JSON string literal of arbitrary bytes, for storing a payload that is not JSON.
std::string json_string(std::string_view raw) {
  std::string out = "\"";
  for (unsigned char c : raw) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c >= 0x7f) out += fmt::format("\\u{:04x}", c);
        else out.push_back(static_cast<char>(c));
    }
  }
  out += "\"";
  return out;
}

}  // namespace

std::int64_t run_recorder(Runtime& rt, eventstore::EventStore& store, const RecorderConfig& cfg,
                          const std::atomic<bool>& stop, RecorderCheckpoints* checkpoints) {
  // The event store is the checkpoint: resume right after the newest event stored
  // from this stream. A batch that a killed recorder fetched but never committed
  // is fetched again, in stream order; acks only tidy the server's state.
  const std::string prefix = cfg.stream + ":";
  std::uint64_t start_seq = 1;
  for (;;) {
    try {
      if (const auto last = store.last_msg_id(prefix)) start_seq = std::stoull(last->substr(prefix.size())) + 1;
      break;
    } catch (const eventstore::StoreUnavailable& e) {
      rt.set_status(fmt::format("degraded: event store unavailable: {}", e.what()));
      if (stop.load()) return 0;
      std::this_thread::sleep_for(std::chrono::milliseconds(cfg.retry_ms));
    }
  }
  // Sessions continue where the store stops (the newest event from this stream).
  std::optional<SessionAssigner> sessions;
  while (!sessions) {
    try {
      sessions.emplace(store.last_event(prefix));
    } catch (const eventstore::StoreUnavailable& e) {
      rt.set_status(fmt::format("degraded: event store unavailable: {}", e.what()));
      if (stop.load()) return 0;
      std::this_thread::sleep_for(std::chrono::milliseconds(cfg.retry_ms));
    }
  }
  natsio::JetStream js(rt.conn());
  js.pull_subscribe(cfg.stream, cfg.durable, cfg.ack_wait_ms, start_seq);
  fmt::print(stderr, "recorder: resuming {} at stream sequence {} (open session: {})\n", cfg.stream, start_seq,
             sessions->open().value_or("none"));
  codec::Decoder dec;
  std::int64_t stored = 0, quarantined = 0;
  std::optional<std::string> checkpoint_error;
  std::vector<eventstore::NewEvent> batch;
  while (!stop.load()) {
    auto msgs = js.fetch(cfg.batch, cfg.fetch_timeout_ms);
    if (msgs.empty()) continue;
    batch.clear();
    batch.reserve(msgs.size());
    for (const auto& m : msgs) {
      rt.count_in();
      eventstore::NewEvent ev;
      ev.msg_id = fmt::format("{}:{}", cfg.stream, m.stream_sequence());
      ev.subject = std::string(m.subject());
      auto env = dec.peek(m.data());
      if (env) {
        ev.type = env->type;
        // 0 means "no market time yet" (e.g. risk-state's start-up state before any
        // market data): stored as no time, so time-range reads and spans skip it.
        if (env->ts_event && *env->ts_event > 0) ev.ts_event = env->ts_event;
        ev.client_order_id = indexed_client_order_id(env->client_order_id);
        ev.payload = std::string(m.data());
        std::optional<std::string> lifecycle;
        if (ev.type == core::SessionStarted::kType || ev.type == core::SessionEnded::kType) {
          if (auto l = dec.decode_session_lifecycle(m.data()))
            lifecycle = std::visit([](const auto& x) { return x.session_id; }, *l);
        }
        ev.session_id = sessions->assign(ev.type, lifecycle);
      } else {
        // Not a valid message: keep it (nothing accepted is lost), marked as such.
        ev.type = "invalid";
        ev.payload = fmt::format("{{\"error\":{},\"raw\":{}}}", json_string(env.error().to_string()),
                                 json_string(m.data()));
        ev.session_id = sessions->assign(ev.type, std::nullopt);
      }
      batch.push_back(std::move(ev));
    }
    bool committed = false;
    for (;;) {  // append until committed; msg_id makes retries idempotent
      try {
        const auto report = store.append_or_quarantine(batch);
        stored += static_cast<std::int64_t>(report.stored);
        for (const auto& q : report.quarantined) {
          ++quarantined;
          const auto it = std::find_if(batch.begin(), batch.end(), [&](const auto& e) { return e.msg_id == q.msg_id; });
          rt.dead_letter(it == batch.end() ? "" : it->subject,
                         core::Error{.field = "", .message = fmt::format("quarantined {} (stored as a placeholder): {}",
                                                                         q.msg_id, q.reason)},
                         it == batch.end() ? "" : it->payload);
        }
        if (checkpoints && (checkpoint_error = checkpoints->after_append(static_cast<std::int64_t>(report.stored))))
          fmt::print(stderr, "recorder: checkpoint failed: {}\n", *checkpoint_error);
        rt.set_status(quarantined         ? fmt::format("degraded: {} events quarantined", quarantined)
                      : checkpoint_error ? fmt::format("degraded: checkpoint: {}", *checkpoint_error)
                                         : "ok");
        committed = true;
        break;
      } catch (const eventstore::StoreUnavailable& e) {
        rt.set_status(fmt::format("degraded: event store unavailable: {}", e.what()));
        fmt::print(stderr, "recorder: event store unavailable, retrying: {}\n", e.what());
        if (stop.load()) break;  // not acked: redelivered to the next run
        std::this_thread::sleep_for(std::chrono::milliseconds(cfg.retry_ms));
      }
    }
    if (stop.load() && !committed) break;
    // AckAll: acknowledging the last message acknowledges the whole batch.
    for (int attempt = 0; attempt < 10 && !msgs.back().ack_sync(); ++attempt)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (checkpoints) {
    if (const auto error = checkpoints->flush()) fmt::print(stderr, "recorder: checkpoint at shutdown failed: {}\n", *error);
  }
  return stored;
}

}  // namespace services
