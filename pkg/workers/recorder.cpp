#include "workers/recorder.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "codec/codec.hpp"
#include "config/files.hpp"
#include "subjects/subjects.hpp"
#include "workers/input_set.hpp"
#include "workers/lease.hpp"

namespace services {

void bootstrap_event_stream(natsio::Connection& admin, const EventStreamConfig& cfg) {
  natsio::JetStream js(admin);
  const std::vector<std::string> direct(std::begin(subjects::kEventStreamSubjects),
                                        std::end(subjects::kEventStreamSubjects));
  const std::vector<std::string> inputs(std::begin(subjects::kInputStreamSubjects),
                                        std::end(subjects::kInputStreamSubjects));
  natsio::JetStream::StreamLimits events{.interest = true,
                                         .max_bytes = cfg.max_bytes,
                                         .max_msg_size = cfg.max_msg_size,
                                         .discard_new = true,
                                         .replicas = cfg.replicas,
                                         .no_ack = false,
                                         .duplicate_window_ms = cfg.duplicate_window_ms};
  // First the event stream on its own subjects (a stream made before issue 15 captured
  // trading.> and risk.>, which would overlap the input stream's), then the input stream,
  // then the event stream again, copying the input stream in.
  js.ensure_stream(cfg.stream, direct, events);
  js.ensure_stream(cfg.input_stream, inputs,
                   {.interest = false,
                    .max_bytes = cfg.max_bytes,
                    .max_msg_size = cfg.max_msg_size,
                    .discard_new = false,
                    .replicas = cfg.replicas,
                    .no_ack = true,
                    .max_age_ms = cfg.input_max_age_ms});
  events.sources = {cfg.input_stream};
  js.ensure_stream(cfg.stream, direct, events);
  js.ensure_durable(cfg.stream, cfg.durable, cfg.ack_wait_ms, cfg.max_ack_pending);
  bootstrap_leases(admin, {.replicas = cfg.replicas});
}

void wait_for_event_stream(natsio::Connection& conn, const std::string& stream, std::int64_t timeout_ms) {
  natsio::JetStream js(conn);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (bool said = false;; said = true) {
    if (js.stream_exists(stream)) return;
    if (std::chrono::steady_clock::now() >= deadline)
      throw natsio::NatsError(fmt::format("the event stream {} does not exist: run `traderctl stream-init` with the "
                                          "admin credentials", stream));
    if (!said) conn.log().info(fmt::format("waiting for the event stream {} (traderctl stream-init)", stream));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
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

eventstore::NewEvent recorded_event(codec::Decoder& dec, SessionAssigner& sessions, std::string_view stream,
                                    std::uint64_t seq, std::string_view subject, std::string_view data) {
  eventstore::NewEvent ev;
  ev.msg_id = fmt::format("{}:{}", stream, seq);
  ev.subject = std::string(subject);
  auto env = dec.peek(data);
  if (env) {
    ev.type = env->type;
    // 0 means "no market time yet" (e.g. risk-state's start-up state before any
    // market data): stored as no time, so time-range reads and spans skip it.
    if (env->ts_event && *env->ts_event > 0) ev.ts_event = env->ts_event;
    ev.client_order_id = env->client_order_id;  // a valid id only (codec peek): never too long to index
    ev.payload = std::string(data);
    std::optional<std::string> lifecycle;
    if (ev.type == core::SessionStarted::kType || ev.type == core::SessionEnded::kType) {
      if (auto l = dec.decode_session_lifecycle(data))
        lifecycle = std::visit([](const auto& x) { return x.session_id; }, *l);
    }
    ev.session_id = sessions.assign(ev.type, lifecycle);
  } else {
    // Not a valid message: keep it (nothing accepted is lost), marked as such.
    ev.type = "invalid";
    ev.payload = fmt::format("{{\"error\":{},\"raw\":{}}}", json_string(env.error().to_string()), json_string(data));
    ev.session_id = sessions.assign(ev.type, std::nullopt);
  }
  return ev;
}

namespace {

/// Input-set mode (RecorderConfig::input_digests): which inputs the stream's session
/// leaves to its input set, counted across restarts.
class InputSkipper {
 public:
  explicit InputSkipper(const RecorderConfig& cfg) : state_path_(cfg.input_state) {
    if (cfg.input_digests.empty()) return;
    if (state_path_.empty()) throw std::runtime_error("recorder: input_state is required with input_digests");
    std::ifstream in(cfg.input_digests);
    if (!in) throw std::runtime_error(fmt::format("recorder: cannot read the input digests {}", cfg.input_digests));
    for (std::string line; std::getline(in, line);)
      if (!line.empty()) digests_.push_back(line);
    on_ = true;
    std::ifstream st(state_path_);
    if (st) {
      // Written whole or not at all (save): anything else is not ours to guess at.
      int started = 0;
      std::string rest;
      if (!(st >> accounted_ >> counted_ >> started) || (started != 0 && started != 1) || (st >> rest))
        throw std::runtime_error(fmt::format("recorder: the input state {} is not \"<accounted> <counted> <0|1>\"",
                                             state_path_));
      started_ = started == 1;
    }
  }
  bool on() const noexcept { return on_; }
  /// Stream sequences up to here are counted (a restart resumes after them at least).
  std::uint64_t accounted() const noexcept { return accounted_; }
  /// Message `seq` in stream order: true if it is an input its set holds (not to be stored).
  bool skip(std::uint64_t seq, std::string_view subject, std::string_view data) {
    if (!on_ || seq <= accounted_) return false;
    accounted_ = seq;
    // Readers count a session's inputs from its session.started (workers/input_set.hpp).
    if (subject == subjects::kSessionLifecycle) {
      const auto env = codec::peek(data);
      if (env && env->type == core::SessionStarted::kType) started_ = true;
    }
    if (!started_ || !is_set_input(subject)) return false;
    const auto k = counted_++;
    if (k >= digests_.size()) return false;
    return input_digest(subject, data) == digests_[k];
  }
  /// How far it has counted: what save() makes durable.
  struct State {
    std::uint64_t accounted = 0, counted = 0;
    bool started = false;
  };
  State state() const noexcept { return {accounted_, counted_, started_}; }
  /// Makes `st` durable (after the commit, before the acknowledgement): written to a
  /// temporary file, fsync'd, renamed over the state, and the directory fsync'd, so
  /// that after a crash the state is the old one or the new one, never a torn one.
  /// `st` is the state as it was after the batch just committed: the recorder may have
  /// counted the next batch already, which is not committed yet.
  void save(const State& st) const {
    if (!on_) return;
    const auto tmp = state_path_ + ".tmp";
    const auto text = fmt::format("{} {} {}\n", st.accounted, st.counted, st.started ? 1 : 0);
    try {
      config::write_file_durably(tmp, text);
      std::filesystem::rename(tmp, state_path_);
      config::sync_directory(std::filesystem::path(state_path_).parent_path().string());
    } catch (const std::exception& e) {
      throw std::runtime_error(fmt::format("recorder: input state: {}", e.what()));
    }
  }

 private:
  std::string state_path_;
  std::vector<std::string> digests_;
  bool on_ = false;
  std::uint64_t accounted_ = 0;
  std::uint64_t counted_ = 0;
  bool started_ = false;  ///< the session.started is counted
};

}  // namespace

std::int64_t run_recorder(Runtime& rt, eventstore::EventStore& store, const RecorderConfig& cfg,
                          const std::atomic<bool>& stop, RecorderCheckpoints* checkpoints) {
  InputSkipper inputs(cfg);
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
  // Input-set mode: what it acknowledged without storing were inputs it skipped.
  if (inputs.on()) start_seq = std::max<std::uint64_t>(start_seq, inputs.accounted() + 1);
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
  // The admin created the consumer with the stream; never delete it (with interest
  // retention that would drop every message not yet stored).
  if (js.ensure_durable(cfg.stream, cfg.durable, EventStreamConfig{}.ack_wait_ms, EventStreamConfig{}.max_ack_pending)) {
    rt.quarantine(cfg.stream, fmt::format("the recorder's consumer {} was missing and was created again: messages "
                                          "published while it was missing are not in the stream", cfg.durable),
                  "");
  }
  if (const auto floor = js.ack_floor(cfg.stream, cfg.durable); floor && *floor >= start_seq) {
    rt.quarantine(cfg.stream, fmt::format("the store's newest event from {} is sequence {}, but the consumer "
                                          "acknowledged up to {}: sequences {}..{} are missing from the store",
                                          cfg.stream, start_seq - 1, *floor, start_seq, *floor),
                  "");
  }
  js.bind_pull(cfg.stream, cfg.durable);
  // The session of its log records: the store's open one (a recorder started mid-session),
  // unless the live session.lifecycle said one already (Announcement, note_session); then
  // each change it records (a recorder that lags catches up to the live one).
  std::optional<std::string> logged_open = sessions->open();
  if (logged_open && rt.log().session().empty()) rt.log().set_session(*logged_open);
  rt.log().info(fmt::format("resuming {} after stream sequence {} (open session: {})", cfg.stream, start_seq - 1,
                            sessions->open().value_or("none")));
  codec::Decoder dec;
  std::int64_t stored = 0;
  // For Prometheus (read by a scrape on the HTTP thread): how far the store is, and how
  // much of the stream the consumer has not fetched yet (the pending count the server
  // sends with each message; 0 once caught up).
  std::atomic<std::uint64_t> stored_total{0}, last_stored_seq{start_seq - 1}, pending{0};
  const auto metrics = rt.add_metrics([&](obs::Exposition& x) {
    const obs::Labels w{{"worker", rt.worker()}};
    x.family("trader_recorder_stored_total", "counter", "Events this recorder stored (inputs left to an input set not counted).");
    x.sample("trader_recorder_stored_total", w, stored_total.load(std::memory_order_relaxed));
    x.family("trader_recorder_last_stored_seq", "gauge", "The stream sequence up to which the store holds everything.");
    x.sample("trader_recorder_last_stored_seq", w, last_stored_seq.load(std::memory_order_relaxed));
    x.family("trader_recorder_lag_messages", "gauge",
             "Messages of the stream not fetched yet, as of the last fetch: the recorder's lag behind the stream.");
    x.sample("trader_recorder_lag_messages", w, pending.load(std::memory_order_relaxed));
  });
  std::optional<std::string> checkpoint_error;
  // Two batches overlap: while one is appended (and its commit waits for the disk), the
  // next is fetched and built. Appends still run one at a time and in stream order, and
  // a batch is acknowledged only after its own commit and every earlier one's: the
  // fetched one waits for the one in flight to finish before its own append starts.
  struct InFlight {
    std::vector<natsio::JsMessage> msgs;         // owned until acknowledged
    natsio::JsMessage* last_in_order = nullptr;  // in msgs (a vector's move keeps its elements)
    std::vector<eventstore::NewEvent> batch;
    std::uint64_t last_seq = 0;                  // the stream sequence up to which it completes the store
    InputSkipper::State input_state;             // as counted through this batch
    std::future<std::optional<eventstore::AppendReport>> appended;  // nullopt: stopped before a commit
  };
  const auto append_until_committed = [&](const std::vector<eventstore::NewEvent>& batch)
      -> std::optional<eventstore::AppendReport> {
    for (;;) {  // append until committed; msg_id makes retries idempotent
      try {
        return store.append_or_quarantine(batch);
      } catch (const eventstore::StoreUnavailable& e) {
        rt.set_status(fmt::format("degraded: event store unavailable: {}", e.what()));
        rt.log().warn(fmt::format("event store unavailable, retrying: {}", e.what()));
        if (stop.load()) return std::nullopt;  // not acked: redelivered to the next run
        std::this_thread::sleep_for(std::chrono::milliseconds(cfg.retry_ms));
      }
    }
  };
  // Waits for `f`'s append and, once it committed, reports it (and writes a checkpoint
  // when one is due: that reads the store, so no other append may run meanwhile).
  // false: stopped before it committed (then nothing of it is acknowledged).
  const auto await_commit = [&](InFlight& f) -> bool {
    if (!f.appended.valid()) return true;  // nothing to store
    const auto report = f.appended.get();  // rethrows what the append threw
    if (!report) return false;
    stored += static_cast<std::int64_t>(report->stored);
    for (const auto& q : report->quarantined) {
      const auto it = std::find_if(f.batch.begin(), f.batch.end(), [&](const auto& e) { return e.msg_id == q.msg_id; });
      rt.quarantine(it == f.batch.end() ? std::string_view() : std::string_view(it->subject),
                    fmt::format("the store refused {} (stored as a placeholder): {}", q.msg_id, q.reason),
                    it == f.batch.end() ? std::string_view() : std::string_view(it->payload));
    }
    if (checkpoints && (checkpoint_error = checkpoints->after_append(static_cast<std::int64_t>(report->stored))))
      rt.log().error(fmt::format("checkpoint failed: {}", *checkpoint_error));
    rt.set_status(checkpoint_error ? fmt::format("degraded: checkpoint: {}", *checkpoint_error) : "ok");
    return true;
  };
  // After await_commit(f): counts it, saves the input state, acknowledges it.
  const auto acknowledge = [&](InFlight& f) {
    if (f.last_seq != 0) {
      last_stored_seq.store(f.last_seq, std::memory_order_relaxed);
      rt.set_log_seq(f.last_seq);  // heartbeats: how far the store holds the stream (traderctl wait-idle)
    }
    if (f.last_in_order) {
      try {
        pending.store(f.last_in_order->pending(), std::memory_order_relaxed);
      } catch (const natsio::NatsError&) {  // no metadata: keep the last figure
      }
    }
    stored_total.store(static_cast<std::uint64_t>(stored), std::memory_order_relaxed);
    inputs.save(f.input_state);  // before the acknowledgement: what it acknowledges is counted
    // AckAll: acknowledging the last message in order acknowledges all before it.
    for (int attempt = 0; f.last_in_order && attempt < 10 && !f.last_in_order->ack_sync(); ++attempt)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
  };
  std::optional<InFlight> in_flight;
  bool stopped_uncommitted = false;
  // Finishes the batch in flight, if any; false if it was stopped before its commit.
  const auto settle = [&]() -> bool {
    if (!in_flight) return true;
    if (!await_commit(*in_flight)) {
      in_flight.reset();
      stopped_uncommitted = true;
      return false;
    }
    acknowledge(*in_flight);
    in_flight.reset();
    return true;
  };
  std::int64_t backoff_ms = 0;
  std::optional<std::string> nats_problem;
  // Stream sequences from..to (from == start_seq), which the consumer did not deliver
  // in order, read from the stream and added to `into` in order; one the stream no longer
  // holds is said (error, a dead letter, the status degraded) and skipped: nothing can
  // record it now. False if NATS did not answer (start_seq then says how far it got).
  const auto read_from_stream = [&](std::uint64_t from, std::uint64_t to, auto& into) -> bool {
    rt.log().warn(fmt::format("stream sequences {}..{} of {} not delivered in order by the consumer: read from the "
                              "stream",
                              from, to, cfg.stream));
    for (auto want = from; want <= to; ++want) {
      std::optional<natsio::JetStream::StoredMessage> got;
      try {
        got = js.get_message(cfg.stream, want);
      } catch (const natsio::NatsError& e) {
        rt.log().warn(fmt::format("cannot read stream sequence {} of {}: {}", want, cfg.stream, e.what()));
        return false;
      }
      start_seq = want + 1;
      if (!got) {
        rt.quarantine(cfg.stream,
                      fmt::format("stream sequence {} of {} is not in the stream: lost before it was recorded", want,
                                  cfg.stream),
                      "");
        continue;
      }
      rt.count_in();
      if (!inputs.skip(want, got->subject, got->data))
        into.batch.push_back(recorded_event(dec, *sessions, cfg.stream, want, got->subject, got->data));
    }
    return true;
  };
  while (!stop.load()) {
    std::vector<natsio::JsMessage> msgs;
    try {
      // The consumer delivers at most max_ack_pending unacknowledged messages: with a
      // batch in flight, ask for no more than the rest (else the fetch waits out its timeout).
      const auto room = EventStreamConfig{}.max_ack_pending -
                        static_cast<std::int64_t>(in_flight ? in_flight->msgs.size() : 0);
      msgs = js.fetch(static_cast<int>(std::clamp<std::int64_t>(room, 1, cfg.batch)), cfg.fetch_timeout_ms);
      if (nats_problem) {
        rt.log().info(fmt::format("fetching from {} again", cfg.stream));
        nats_problem.reset();
        rt.set_status("ok");
      }
      backoff_ms = 0;
    } catch (const natsio::NatsError& e) {
      // An outage, a reconnect, "Exceeded MaxWaiting": wait and fetch again; the
      // consumer keeps everything not acknowledged.
      if (!settle()) break;
      if (!nats_problem) rt.log().warn(fmt::format("fetch failed, retrying: {}", e.what()));
      nats_problem = e.what();
      rt.set_status(fmt::format("degraded: cannot fetch from {}: {}", cfg.stream, e.what()));
      backoff_ms = std::min<std::int64_t>(std::max<std::int64_t>(backoff_ms * 2, 100), 5'000);
      std::this_thread::sleep_for(std::chrono::milliseconds(backoff_ms));
      if (rt.conn().connected()) {
        try {
          js.bind_pull(cfg.stream, cfg.durable);
        } catch (const natsio::NatsError&) {  // tried again after the next failure
        }
      }
      continue;
    }
    if (msgs.empty()) {
      if (!settle()) break;
      pending.store(0, std::memory_order_relaxed);  // nothing came within the fetch timeout: caught up
      continue;
    }
    // In stream order, and only the run that continues the store: after a restart the
    // consumer may deliver newer messages before it redelivers what the previous run
    // fetched and never acknowledged. A message after a gap is sent back (a short
    // negative acknowledgement) until the missing ones have come and been stored.
    InFlight next;
    std::vector<std::pair<std::uint64_t, natsio::JsMessage*>> order;
    order.reserve(msgs.size());
    for (auto& m : msgs) order.emplace_back(m.stream_sequence(), &m);
    std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    next.batch.reserve(msgs.size());
    for (const auto& [seq, mp] : order) {
      const auto& m = *mp;
      rt.count_in();
      if (seq > start_seq) {
        // A gap: the consumer delivered this before start_seq..seq-1 (after a restart it
        // may deliver newer messages before it redelivers what an earlier run fetched and
        // never acknowledged; after a NATS node's restart its state on the new leader may
        // have lost a message it had delivered, which it then never delivers again). They
        // are read from the stream itself, in order, at once: one the consumer will not
        // deliver again would otherwise be waited for without end. What follows is not sent
        // back either (it used to be, with a delay, until the gap filled). If NATS does not
        // answer, what follows is neither stored nor acknowledged: it comes again after the
        // consumer's ack wait.
        if (!read_from_stream(start_seq, seq - 1, next)) break;
      }
      next.last_in_order = mp;  // acknowledging it acknowledges everything up to it (AckAll)
      const bool skip = inputs.skip(seq, m.subject(), m.data());  // counted once, whether stored before or not
      if (seq < start_seq) continue;  // stored by an earlier run: acknowledged below, not appended
      start_seq = seq + 1;
      if (skip) continue;  // its input set holds it: acknowledged below, not stored
      next.batch.push_back(recorded_event(dec, *sessions, cfg.stream, seq, m.subject(), m.data()));
    }
    next.last_seq = start_seq - 1;
    next.input_state = inputs.state();
    next.msgs = std::move(msgs);
    if (sessions->open() != logged_open) {
      logged_open = sessions->open();
      rt.log().set_session(logged_open.value_or(""));
    }
    // The one before commits first; its acknowledgement goes while this one is appended.
    std::optional<InFlight> done;
    if (in_flight) {
      if (!await_commit(*in_flight)) {
        stopped_uncommitted = true;
        break;
      }
      done.emplace(std::move(*in_flight));
    }
    in_flight.emplace(std::move(next));
    if (!in_flight->batch.empty())  // the batch where it stays until finished
      in_flight->appended = std::async(std::launch::async, append_until_committed, std::cref(in_flight->batch));
    if (done) acknowledge(*done);
  }
  if (!stopped_uncommitted) settle();
  if (checkpoints) {
    if (const auto error = checkpoints->flush()) rt.log().error(fmt::format("checkpoint at shutdown failed: {}", *error));
  }
  return stored;
}

}  // namespace services
