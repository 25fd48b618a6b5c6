#include "workers/runtime.hpp"

#include "workers/version.hpp"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <stdexcept>
#include <unistd.h>

#include <fmt/format.h>

#include "codec/codec.hpp"
#include "core/text.hpp"
#include "subjects/subjects.hpp"
#include "workers/version.hpp"

namespace services {

void block_termination_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int wait_for_termination() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  int sig = 0;
  sigwait(&set, &sig);
  return sig;
}

void request_termination() { kill(getpid(), SIGTERM); }

bool termination_pending() noexcept {
  sigset_t pending;
  if (sigpending(&pending) != 0) return false;
  return sigismember(&pending, SIGTERM) == 1 || sigismember(&pending, SIGINT) == 1;
}

void note_session(obs::Logger& log, std::string_view subject, std::string_view payload) {
  if (subject != subjects::kSessionLifecycle) return;
  const auto l = codec::decode_session_lifecycle(payload);
  if (!l) return;
  if (const auto* started = std::get_if<core::SessionStarted>(&*l)) {
    if (started->kind != "inputs") log.set_session(started->session_id);
  } else if (const auto* ended = std::get_if<core::SessionEnded>(&*l); ended && log.session() == ended->session_id) {
    log.set_session("");
  }
}

Runtime::Runtime(natsio::Connection& conn, std::string worker, const core::Clock& clock, std::int64_t heartbeat_ms,
                 std::string stream)
    : Runtime(std::make_unique<NatsBus>(conn, std::move(stream)), nullptr, std::move(worker), clock, heartbeat_ms, conn.log_ptr()) {}

Runtime::Runtime(Bus& bus, std::string worker, const core::Clock& clock, std::int64_t heartbeat_ms,
                 std::shared_ptr<obs::Logger> log)
    : Runtime(nullptr, &bus, std::move(worker), clock, heartbeat_ms, std::move(log)) {}

Runtime::Runtime(std::unique_ptr<NatsBus> owned, Bus* bus, std::string worker, const core::Clock& clock,
                 std::int64_t heartbeat_ms, std::shared_ptr<obs::Logger> log)
    : owned_bus_(std::move(owned)),
      bus_(bus ? *bus : *owned_bus_),
      log_(log ? std::move(log) : obs::default_logger(worker)),
      worker_(std::move(worker)),
      clock_(clock),
      heartbeat_ms_(heartbeat_ms),
      started_ns_(clock.now()) {
  char host[128] = {};
  gethostname(host, sizeof host - 1);
  instance_ = fmt::format("{}:{}", host, getpid());
}

Runtime::~Runtime() {
  ping_.reset();  // returns once no pong is being answered (natsio::Subscription waits for its handler)
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

natsio::Connection& Runtime::conn() {
  if (auto* c = bus_.nats()) return *c;
  throw std::logic_error(fmt::format("{}: no NATS connection (in-process bus)", worker_));
}

void Runtime::set_write_fence(std::function<bool()> may_write) { may_write_ = std::move(may_write); }

bool Runtime::fenced(std::string_view subject) {
  if (!may_write_ || may_write_()) return false;
  errors_.fetch_add(1, std::memory_order_relaxed);
  if (!fenced_said_.exchange(true))
    log_->error(fmt::format("not publishing on {}: this instance does not hold its lease (one writer per role)", subject),
                {{"subject", subject}});
  return true;
}

void Runtime::publish(std::string_view subject, std::string_view payload) {
  if (fenced(subject)) return;
  sent(subject, bus_.publish(subject, payload));
}

void Runtime::publish_market(std::string_view subject, const core::MarketData& md, std::string_view payload) {
  if (fenced(subject)) return;
  sent(subject, bus_.publish_market(subject, md, payload));
}

void Runtime::sent(std::string_view subject, bool ok) {
  if (ok) {
    msgs_out_.fetch_add(1, std::memory_order_relaxed);
  } else {
    errors_.fetch_add(1, std::memory_order_relaxed);
    log_->error(fmt::format("publish on {} failed: {}", subject, bus_.last_error()), {{"subject", subject}});
  }
}

void Runtime::count_in() noexcept {
  msgs_in_.fetch_add(1, std::memory_order_relaxed);
  if (watched_.load(std::memory_order_relaxed)) last_input_ns_.store(clock_.now(), std::memory_order_relaxed);
}

namespace {

/// At most `max` bytes of `s`, for log lines and dead letters (never splits a
/// UTF-8 sequence in a way that matters: the encoder repairs invalid UTF-8).
std::string_view clip(std::string_view s, std::size_t max) { return s.substr(0, std::min(s.size(), max)); }

/// Text for a message's free-text field: one line, no control characters, at most
/// `max` bytes (core::one_line; decoders refuse control characters there).
std::string text(std::string_view s, std::size_t max) { return core::one_line(clip(s, max)); }

/// The fields of a log record about a refused or quarantined message: `base` (those
/// with a value), its stream sequence if any, and the client_order_id its payload
/// carries, if it is JSON with one (codec::peek: a valid id, whatever the message's
/// other faults), so that `jq 'select(.client_order_id=="...")'` finds the record. A
/// payload over 64 KiB is not read for it (a flood of huge messages stays cheap).
class OrderFields {
 public:
  OrderFields(std::string_view payload, std::initializer_list<obs::LogField> base, std::uint64_t stream_seq) {
    for (const auto& f : base)
      if (!f.value.empty()) fields_.push_back(f);
    if (stream_seq != 0) {
      seq_ = std::to_string(stream_seq);
      fields_.push_back({"seq", seq_});
    }
    if (!payload.empty() && payload.size() <= 64 * 1024) {
      if (auto env = codec::peek(payload); env && env->client_order_id) {
        id_ = std::move(*env->client_order_id);
        fields_.insert(fields_.begin(), obs::LogField{"client_order_id", id_});
      }
    }
  }
  OrderFields(const OrderFields&) = delete;
  OrderFields& operator=(const OrderFields&) = delete;
  const std::vector<obs::LogField>& fields() const noexcept { return fields_; }

 private:
  std::string seq_, id_;
  std::vector<obs::LogField> fields_;
};

}  // namespace

void Runtime::dead_letter(std::string_view subject, const core::Error& err, std::string_view payload,
                          std::string_view reply, std::string_view sender, std::uint64_t stream_seq) {
  errors_.fetch_add(1, std::memory_order_relaxed);
  dead_letters_by_field_.add(err.field.empty() ? std::string_view("(none)") : clip(err.field, 64));
  core::DeadLetter dl{.worker = worker_,
                      .subject = text(subject, 1024),
                      .field = text(err.field, 512),
                      .error = text(err.message, 1000),
                      .payload = std::string(clip(payload, 4096)),
                      .ts = clock_.now(),
                      .sender = std::string(sender),
                      .stream_seq = stream_seq};
  log_->write(obs::LogLevel::warn,
              fmt::format("rejected message on {}{}{}: {}", text(subject, 200), sender.empty() ? "" : " from ", sender,
                          text(err.to_string(), 500)),
              OrderFields(payload, {{"subject", subject}, {"field", err.field}, {"sender", sender}}, stream_seq).fields());
  const auto encoded = codec::encode(dl);
  bus_.publish(subjects::kOpsDeadLetter, encoded);
  this->reply(reply, encoded);
}

namespace {
thread_local std::vector<std::string>* t_reply_capture = nullptr;
}  // namespace

Runtime::ReplyCapture::ReplyCapture(std::vector<std::string>& into) : prev_(t_reply_capture) {
  t_reply_capture = &into;
}

Runtime::ReplyCapture::~ReplyCapture() { t_reply_capture = prev_; }

void Runtime::reply(std::string_view to, std::string_view payload) {
  if (to.empty()) return;
  if (to == kDeferredReply) {
    if (t_reply_capture != nullptr) t_reply_capture->emplace_back(payload);
    return;
  }
  bus_.publish(to, payload);
}

void Runtime::refuse(const natsio::Message& m, const core::Error& err) {
  dead_letter(m.subject, err, m.data, m.reply, subjects::sender_of(m.subject));
}

void Runtime::quarantine(std::string_view subject, std::string_view what, std::string_view payload,
                         std::string_view reply, std::uint64_t stream_seq) {
  const auto n = quarantined_.fetch_add(1, std::memory_order_relaxed) + 1;
  errors_.fetch_add(1, std::memory_order_relaxed);
  {
    std::lock_guard lock(mu_);
    last_quarantine_ = text(what, 300);
  }
  core::DeadLetter dl{.worker = worker_,
                      .subject = text(subject, 1024),
                      .field = "",
                      .error = "not applied (quarantined): " + text(what, 900),
                      .payload = std::string(clip(payload, 4096)),
                      .ts = clock_.now(),
                      .stream_seq = stream_seq};
  log_->write(obs::LogLevel::error,
              fmt::format("ALARM: quarantined message #{} on {}{}: {}", n, text(subject, 200),
                          stream_seq ? fmt::format(" (stream sequence {})", stream_seq) : std::string(), text(what, 500)),
              OrderFields(payload, {{"subject", subject}}, stream_seq).fields());
  const auto encoded = codec::encode(dl);
  bus_.publish(subjects::kOpsDeadLetter, encoded);
  this->reply(reply, encoded);
}

void Runtime::flag(std::string_view subject, std::string_view reason) {
  const auto n = flagged_.fetch_add(1, std::memory_order_relaxed) + 1;
  if (n <= 20 || n % 10'000 == 0)
    log_->warn(fmt::format("market data not used (#{} flagged) on {}: {}", n, text(subject, 200), text(reason, 300)),
               {{"subject", subject}});
}

void Runtime::set_exit_status(std::string_view status) {
  std::lock_guard lock(mu_);
  exit_status_ = std::string(status);
}

void Runtime::set_status(std::string status) {
  auto clean = text(status, 900);
  std::lock_guard lock(mu_);
  status_ = std::move(clean);
}

core::Heartbeat Runtime::heartbeat() const {
  core::Heartbeat hb{.worker = worker_, .instance = instance_};
  hb.quarantined = quarantined_.load(std::memory_order_relaxed);
  hb.flagged = flagged_.load(std::memory_order_relaxed);
  {
    std::lock_guard lock(mu_);
    hb.status = status_;
    if (hb.quarantined > 0) {
      auto q = fmt::format("degraded: {} message{} quarantined (latest: {})", hb.quarantined,
                           hb.quarantined == 1 ? "" : "s", last_quarantine_);
      hb.status = hb.status == "ok" ? std::move(q) : fmt::format("{}; {}", hb.status, q);
    }
  }
  hb.msgs_in = msgs_in_.load();
  hb.msgs_out = msgs_out_.load();
  hb.errors = errors_.load();
  hb.last_input_ns = last_input_ns_.load();
  hb.started_ns = started_ns_;
  hb.ts = clock_.now();
  hb.log_seq = log_seq_.load(std::memory_order_relaxed);
  return hb;
}

void Runtime::start_heartbeat() {
  watched_.store(true, std::memory_order_relaxed);
  // On the delivery thread, like every handler of this process: the pong is
  // published after everything that arrived before the ping was handled.
  ping_ = bus_.subscribe(subjects::ops_ping(worker_), [this](const natsio::Message& m) {
    if (!m.reply.empty()) bus_.publish(m.reply, codec::encode(heartbeat()));
  });
  start_standby_heartbeat();
}

void Runtime::start_standby_heartbeat() {
  if (!thread_.joinable()) thread_ = std::thread([this] { heartbeat_loop(); });
}

void Runtime::heartbeat_loop() {
  const auto subject = subjects::ops_heartbeat(worker_);
  std::unique_lock lock(mu_);
  while (!stop_) {
    lock.unlock();
    bus_.publish(subject, codec::encode(heartbeat()));
    lock.lock();
    cv_.wait_for(lock, std::chrono::milliseconds(heartbeat_ms_), [this] { return stop_; });
  }
  lock.unlock();
  // The final one, so ops sees the latest counters, and that this instance exited on
  // purpose (status "stopped" or "finished", set_exit_status), not that it died; ops
  // forgets it after its expiry time.
  auto last = heartbeat();
  {
    std::lock_guard again(mu_);
    last.status = exit_status_;
  }
  bus_.publish(subject, codec::encode(last));
  try {
    bus_.flush(1'000);
  } catch (const std::exception&) {
    // NATS is away: the last heartbeat is lost, and ops says "down" instead of "stopped".
  }
}



// ---------------------------------------------------------------- health and metrics

bool Runtime::ready(std::vector<std::string>* why) const {
  bool ok = true;
  auto no = [&](std::string reason) {
    ok = false;
    if (why) why->push_back(std::move(reason));
  };
  std::lock_guard lock(mu_);
  // A hot standby (lease.hpp) is not starting: it waits, and its status says for what.
  const bool standby = status_.starts_with(core::kStandbyStatus);
  if (!watched_.load(std::memory_order_relaxed) && !standby) no("starting: rebuilding its state");
  if (const auto* nats = const_cast<Bus&>(bus_).nats(); nats != nullptr && !nats->connected())
    no("not connected to NATS");
  if (status_ != "ok") no(status_);
  return ok;
}

std::unique_ptr<Runtime::MetricsRegistration> Runtime::add_metrics(std::function<void(obs::Exposition&)> write) {
  std::lock_guard lock(metrics_mu_);
  const auto id = next_writer_++;
  metric_writers_.emplace(id, std::move(write));
  return std::make_unique<MetricsRegistration>(*this, id);
}

Runtime::MetricsRegistration::~MetricsRegistration() {
  std::lock_guard lock(rt_.metrics_mu_);
  rt_.metric_writers_.erase(id_);
}

std::string Runtime::metrics_text() const {
  obs::Exposition x;
  const obs::Labels w{{"worker", worker_}};
  // Text format 0.0.4: a counter's family is named as its sample, _total included.
  auto counter = [&](const char* name, const char* help, std::int64_t v) {
    x.family(name, "counter", help);
    x.sample(name, w, v);
  };
  counter("trader_messages_in_total", "Input messages handled (live; not those replayed at start).",
          msgs_in_.load(std::memory_order_relaxed));
  counter("trader_messages_out_total", "Messages published.", msgs_out_.load(std::memory_order_relaxed));
  counter("trader_errors_total", "Errors: refused input, failed publishes, quarantined messages.",
          errors_.load(std::memory_order_relaxed));
  counter("trader_flagged_total", "Market data not used because a plausibility check flagged it.",
          flagged_.load(std::memory_order_relaxed));
  counter("trader_quarantined_total", "Accepted messages that could not be applied (the worker is degraded).",
          quarantined_.load(std::memory_order_relaxed));
  x.family("trader_dead_letters_total", "counter",
           "Messages answered on ops.dead_letter, by the field the error names (at most 64 fields, then \"other\").");
  for (const auto& [field, n] : dead_letters_by_field_.snapshot())
    x.sample("trader_dead_letters_total", {{"worker", worker_}, {"field", field}}, n);
  x.family("trader_handling_seconds", "histogram", "Time to handle one input message, live (wall clock).");
  x.histogram("trader_handling_seconds", w, handling_);
  x.family("trader_ready", "gauge", "1 if the worker is ready (state rebuilt, NATS connected, status ok).");
  x.sample("trader_ready", w, std::int64_t{ready() ? 1 : 0});
  {
    std::lock_guard lock(mu_);
    x.family("trader_standby", "gauge",
             "1 while the worker is a hot standby waiting for its lease (one writer per role): not ready, by design.");
    x.sample("trader_standby", w, std::int64_t{status_.starts_with(core::kStandbyStatus) ? 1 : 0});
  }
  x.family("trader_log_seq", "gauge", "The last event-stream sequence the worker handled (log followers).");
  x.sample("trader_log_seq", w, static_cast<std::uint64_t>(log_seq_.load(std::memory_order_relaxed)));
  x.family("trader_build_info", "gauge", "Always 1; the version label says which build runs (with its commit).");
  x.sample("trader_build_info", {{"worker", worker_}, {"version", std::string(version())}}, std::int64_t{1});
  x.family("trader_start_time_seconds", "gauge", "When the worker started (Unix time, seconds).");
  x.sample("trader_start_time_seconds", w, static_cast<double>(started_ns_) / 1e9);
  std::lock_guard lock(metrics_mu_);  // a registration going away waits for this scrape
  for (const auto& [id, write] : metric_writers_) write(x);
  return x.text();
}

Runtime::HandlingTimer::HandlingTimer(Runtime& rt) noexcept
    : rt_(rt.watched_.load(std::memory_order_relaxed) ? &rt : nullptr) {
  if (rt_) t0_ = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

Runtime::HandlingTimer::~HandlingTimer() {
  if (!rt_) return;
  const auto t1 = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
  rt_->handling_.observe_ns(t1 - t0_);
}

}  // namespace services
