#include "workers/event_log.hpp"

#include <chrono>
#include <thread>

#include <charconv>
#include <limits>
#include <optional>

#include <fmt/format.h>

namespace services {
namespace {

/// Reads the store on from `after_position`, delivering this stream's events with a
/// sequence in (st.last_seq, until_seq] in order; stops at the first later one.
class StoreCursor {
 public:
  StoreCursor(eventstore::EventStore* store, const std::string& stream) : store_(store), prefix_(stream + ":") {}

  bool usable() const noexcept { return store_ != nullptr && problem_.empty(); }
  const std::string& problem() const noexcept { return problem_; }

  /// Delivers what the store holds up to `until_seq`; false if the store could not be read.
  bool read_until(std::uint64_t until_seq, HistoryStats& st, const std::function<void(const LogEvent&)>& fn) {
    if (!usable()) return false;
    try {
      for (;;) {
        if (page_.empty() || next_ == page_.size()) {
          page_ = store_->read(after_, 5'000);
          next_ = 0;
          if (page_.empty()) return true;
        }
        for (; next_ < page_.size(); ++next_) {
          const auto& ev = page_[next_];
          std::uint64_t seq = 0;
          if (ev.msg_id.compare(0, prefix_.size(), prefix_) != 0 ||
              std::from_chars(ev.msg_id.data() + prefix_.size(), ev.msg_id.data() + ev.msg_id.size(), seq).ec !=
                  std::errc{} ||
              seq <= st.last_seq) {
            after_ = ev.position;
            continue;
          }
          if (seq > until_seq) return true;  // not consumed: the next call starts here
          after_ = ev.position;
          fn(LogEvent{seq, ev.subject, ev.payload, true});
          st.last_seq = seq;
          ++st.from_store;
        }
      }
    } catch (const eventstore::StoreUnavailable& e) {
      problem_ = e.what();
      return false;
    }
  }

 private:
  eventstore::EventStore* store_;
  std::string prefix_;
  std::string problem_;
  std::int64_t after_ = 0;                      // last store position consumed
  std::vector<eventstore::StoredEvent> page_;   // the page being read
  std::size_t next_ = 0;                        // its next event
};

}  // namespace

HistoryStats read_history(eventstore::EventStore* store, natsio::Connection& conn, const std::string& stream,
                          std::uint64_t after, std::uint64_t up_to,
                          const std::function<void(const LogEvent&)>& fn) {
  HistoryStats st;
  st.last_seq = after;
  if (up_to <= after) return st;
  StoreCursor cursor(store, stream);
  // The store first, as far as it goes. If it fails half-way, the stream continues
  // after the last sequence delivered: nothing twice, nothing skipped.
  cursor.read_until(up_to, st, fn);
  st.store_problem = store == nullptr ? "no event store configured" : cursor.problem();
  if (st.last_seq >= up_to) return st;
  natsio::StreamReader reader(conn, stream, st.last_seq + 1);
  natsio::StreamMessage m;
  while (st.last_seq < up_to) {
    if (!reader.next(m, 10'000)) {
      // Nothing more in the stream: the rest was stored and acknowledged meanwhile (on an
      // interest stream a new consumer starts past what every consumer acknowledged),
      // so the store has it now.
      cursor.read_until(up_to, st, fn);
      if (st.last_seq >= up_to) break;
      throw natsio::NatsError(fmt::format("reading {} history: no message after sequence {} (expected up to {})",
                                          stream, st.last_seq, up_to));
    }
    if (m.seq <= st.last_seq) continue;
    if (m.seq > st.last_seq + 1) {
      // The stream keeps only what the store has not confirmed (interest retention):
      // these were stored and acknowledged meanwhile, so the store has them now.
      cursor.read_until(m.seq - 1, st, fn);
      if (st.last_seq + 1 < m.seq)
        throw natsio::NatsError(fmt::format(
            "reading {} history: sequences {}..{} are no longer in the stream and the event store {}", stream,
            st.last_seq + 1, m.seq - 1,
            cursor.usable() ? "does not hold them" : "cannot be read (" + st.store_problem + cursor.problem() + ")"));
    }
    fn(LogEvent{m.seq, m.subject, m.data, false});
    st.last_seq = m.seq;
    ++st.from_stream;
  }
  return st;
}

LogFollower::LogFollower(Runtime& rt, eventstore::EventStore* store, std::string stream, std::uint64_t end,
                         std::function<void(const LogEvent&)> fn)
    : rt_(rt), store_(store), stream_(std::move(stream)), fn_(std::move(fn)) {
  sub_ = std::make_unique<natsio::OrderedSubscription>(rt_.conn(), stream_, end + 1,
                                                       [this](const natsio::StreamMessage& m) { on_message(m); });
  watchdog_ = std::thread([this] { watchdog(); });
}

LogFollower::~LogFollower() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
    if (!open_) {  // the rebuild threw: let a waiting callback return without handling
      open_ = true;
      handled_ = std::numeric_limits<std::uint64_t>::max();
    }
  }
  cv_.notify_all();
  watchdog_.join();
  sub_.reset();
}

void LogFollower::open(std::uint64_t handled) {
  rt_.set_log_seq(handled);
  {
    std::lock_guard lock(mu_);
    handled_ = handled;
    open_ = true;
  }
  cv_.notify_all();
}

void LogFollower::on_message(const natsio::StreamMessage& m) {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [this] { return open_; });
  if (m.seq <= handled_) return;  // a consumer reset delivering again what was handled
  if (m.seq > handled_ + 1) fill_gap(handled_ + 1, m.seq - 1);
  handled_ = m.seq;
  // Set before handling: a pong runs on this same delivery thread, so it never
  // reports a sequence before its message was handled.
  rt_.set_log_seq(m.seq);
  fn_(LogEvent{m.seq, m.subject, m.data, false, !m.more_queued});
}

void LogFollower::fill_gap(std::uint64_t from, std::uint64_t to) {
  fmt::print(stderr, "{}: stream sequences {}..{} come from the log (the consumer skipped them or delivers nothing)\n", rt_.worker(), from,
             to);
  // A sequence can be in neither place for a moment: the recorder acknowledged it (so the
  // interest stream dropped it) while the store read above had not seen it committed yet.
  // Read again from where it stopped, for up to 2 s, before giving up on it.
  const auto start = handled_;
  for (int attempt = 0;; ++attempt) {
    try {
      read_history(store_, rt_.conn(), stream_, std::max(handled_, from - 1), to, [this](const LogEvent& ev) {
        handled_ = ev.seq;
        rt_.set_log_seq(ev.seq);
        fn_(ev);
      });
      break;
    } catch (const std::exception& e) {
      if (attempt < 20 && store_ != nullptr) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        continue;
      }
      // Nothing to handle them with: say so loudly; a restart rebuilds once the store answers.
      rt_.quarantine(stream_, fmt::format("stream sequences {}..{} could not be read: {}",
                                          std::max(start + 1, from), to, e.what()), "");
      break;
    }
  }
  handled_ = std::max(handled_, to);
}

void LogFollower::watchdog() {
  std::optional<natsio::JetStream> js;
  std::uint64_t seen = 0;  // handled_ at the previous look
  int stalled = 0;         // looks in a row that found handled_ unchanged
  std::unique_lock lock(mu_);
  while (!cv_.wait_for(lock, std::chrono::seconds(1), [this] { return stop_; })) {
    if (!open_) continue;
    stalled = handled_ == seen ? stalled + 1 : 0;
    seen = handled_;
    if (stalled < 2 || !rt_.conn().connected()) continue;
    const auto handled = handled_;
    lock.unlock();  // the request must not hold up delivery
    std::optional<natsio::JetStream::StreamState> st;
    try {
      if (!js) js.emplace(rt_.conn());
      st = js->stream_state(stream_);
    } catch (const std::exception&) {  // NATS away: the next look tries again
    }
    // Our consumer as the server sees it. Only one that believes it delivered everything
    // (nothing pending, delivered at or past the stream's end) while we have not handled
    // it is stuck: after a disconnect nats.c creates a new consumer from the next
    // sequence, and on an interest stream the server may start it past what the other
    // consumers already acknowledged. A consumer with messages pending is only slow
    // (flow control, a busy delivery thread): it is left alone.
    const auto cs = st && st->last_seq > handled ? sub_->consumer_state() : std::nullopt;
    lock.lock();
    if (!st || !cs || stop_ || handled_ != handled || st->last_seq <= handled_) continue;
    if (cs->num_pending > 0 || cs->delivered_stream_seq < st->last_seq) continue;
    // Read on from the log (store, then stream) ourselves.
    fill_gap(handled_ + 1, st->last_seq);
    seen = handled_;
    stalled = 0;
  }
}

}  // namespace services
