#include "workers/event_log.hpp"

#include <algorithm>
#include <chrono>
#include <thread>

#include <charconv>
#include <limits>
#include <optional>
#include <variant>

#include <fmt/format.h>

#include "codec/codec.hpp"
#include "core/messages.hpp"
#include "subjects/subjects.hpp"
#include "workers/input_set.hpp"

namespace services {
namespace {

/// Reads the store from the stream's first event on (locate), delivering its events with a
/// sequence in (st.last_seq, until_seq] in order; stops at the first later one.
///
/// A session that names an input set (input_set.hpp) leaves its inputs out of the store:
/// its stored events have gaps after its session.started, and the k-th gap is the set's
/// k-th input. The cursor counts the inputs of every sequence it sees, stored or delivered
/// by the stream (note_stream), and puts the set's inputs back into the gaps:
/// - a gap between two stored events is always inputs (the recorder stores in order);
/// - a gap after the last stored event only with `gone`: the stream no longer holds
///   those sequences, so the recorder acknowledged them, and it acknowledges in order,
///   after committing what it stores. A fresh read of the store that does not find them
///   means they are inputs it left to the set.
class StoreCursor {
 public:
  StoreCursor(eventstore::EventStore* store, const std::string& stream) : store_(store), prefix_(stream + ":") {}

  bool usable() const noexcept { return store_ != nullptr && problem_.empty(); }
  const std::string& problem() const noexcept { return problem_; }

  /// Delivers what the store holds up to `until_seq` (and, with `gone`, the input set's
  /// inputs up to it, see above); false if the store or the set could not be read.
  bool read_until(std::uint64_t until_seq, HistoryStats& st, const std::function<void(const LogEvent&)>& fn,
                  bool gone = false) {
    if (!usable()) return false;
    try {
      for (;;) {
        if (page_.empty() || next_ == page_.size()) {
          page_ = locate() ? store_->read(after_, 5'000) : std::vector<eventstore::StoredEvent>{};
          next_ = 0;
          if (page_.empty()) return !gone || until_seq <= acct_ || fill(until_seq, st, fn);
        }
        for (; next_ < page_.size(); ++next_) {
          const auto& ev = page_[next_];
          std::uint64_t seq = 0;
          if (ev.msg_id.compare(0, prefix_.size(), prefix_) != 0 ||
              std::from_chars(ev.msg_id.data() + prefix_.size(), ev.msg_id.data() + ev.msg_id.size(), seq).ec !=
                  std::errc{} ||
              seq <= acct_) {  // another stream's, or counted and delivered (or skipped) already
            after_ = ev.position;
            continue;
          }
          if (seq > acct_ + 1 && set_) {  // a gap before it: the set's inputs
            if (!fill(std::min(seq - 1, until_seq), st, fn)) return false;
            if (acct_ + 1 < seq) return true;  // stopped inside the gap: it is consumed next time
          }
          if (seq > until_seq && seq > st.last_seq) return true;  // not consumed: the next call starts here
          after_ = ev.position;
          count(seq, ev.subject, ev.type == core::SessionStarted::kType, ev.payload);
          if (seq <= st.last_seq) continue;
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

  /// An event the stream delivered (`seq` = st.last_seq, just handled): counted.
  void note_stream(std::uint64_t seq, std::string_view subject, std::string_view data) {
    if (seq <= acct_) return;
    if (seq > acct_ + 1 && set_) lost_ = fmt::format("sequences {}..{} were never read", acct_ + 1, seq - 1);
    const bool started = subject == subjects::kSessionLifecycle &&
                         data.find(core::SessionStarted::kType) != std::string_view::npos;
    count(seq, subject, started, data);
  }

 private:
  /// Whether the store holds any of this stream, and if so where it starts: at its first
  /// event, "<stream>:1" (the log before it, other streams' and sessions', is not read:
  /// a sandbox's workers start on a stream that is new in a store holding every earlier
  /// backtest). Two index lookups; asked again on each read until the stream is found.
  bool locate() {
    if (located_) return true;
    if (!store_->last_msg_id(prefix_)) return false;
    if (const auto first = store_->position_of(prefix_ + "1")) after_ = std::max(after_, *first - 1);
    located_ = true;
    return true;
  }

  /// Sequence `seq` (one after acct_, or the first seen) is counted: a session.started
  /// opens its input set (if it names one); an input takes the set's next ordinal.
  void count(std::uint64_t seq, std::string_view subject, bool maybe_started, std::string_view payload) {
    acct_ = seq;
    if (maybe_started && subject == subjects::kSessionLifecycle) {
      const auto l = codec::decode_session_lifecycle(payload);
      if (const auto* started = l ? std::get_if<core::SessionStarted>(&*l) : nullptr) {
        set_.reset();  // a new session: its own set, or none
        lost_.clear();
        if (!started->input_set.empty()) set_.emplace(*store_, started->input_set);
      }
      return;
    }
    if (set_ && is_set_input(subject)) (void)set_->take();  // stored itself: it takes its ordinal
  }

  /// Delivers the set's inputs as sequences acct_+1..to (those up to st.last_seq were
  /// handled before this read: only counted). False if the set cannot fill them.
  bool fill(std::uint64_t to, HistoryStats& st, const std::function<void(const LogEvent&)>& fn) {
    if (!set_) return true;  // no input set: nothing to put back (the stream or the caller says what is missing)
    if (!lost_.empty()) {
      problem_ = fmt::format("cannot put input set {}'s inputs back: {}", set_->id(), lost_);
      return false;
    }
    for (auto g = acct_ + 1; g <= to; ++g) {
      auto* in = set_->take();
      if (in == nullptr) {
        problem_ = fmt::format("input set {} holds fewer inputs ({}) than the stream has gaps (sequence {}): is it "
                               "missing from this store?", set_->id(), set_->taken(), g);
        return false;
      }
      acct_ = g;
      if (g <= st.last_seq) continue;
      fn(LogEvent{g, in->subject, in->payload, true});
      st.last_seq = g;
      ++st.from_store;
    }
    return true;
  }

  eventstore::EventStore* store_;
  std::string prefix_;
  std::string problem_;
  bool located_ = false;                        // the store holds some of the stream; after_ is set
  std::int64_t after_ = 0;                      // last store position consumed
  std::vector<eventstore::StoredEvent> page_;   // the page being read
  std::size_t next_ = 0;                        // its next event
  std::uint64_t acct_ = 0;                      // every sequence up to here is counted (inputs' ordinals)
  std::optional<InputSetInputs> set_;           // the open session's input set, if it names one
  std::string lost_;                            // why the inputs' ordinals are unknown ("" = known)
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
  // Sequences the stream no longer holds must come from the store (or the input set).
  const auto missing = [&](std::uint64_t from, std::uint64_t to) {
    return natsio::NatsError(fmt::format(
        "reading {} history: sequences {}..{} are no longer in the stream and the event store {}", stream, from, to,
        cursor.usable() ? "does not hold them" : "cannot be read (" + st.store_problem + cursor.problem() + ")"));
  };
  // What the stream no longer holds (interest retention: everything the recorder
  // acknowledged) is in the store, or is the input set's (StoreCursor). Asking where
  // the stream starts spares waiting for a message that is not coming.
  std::uint64_t first = 0;
  try {
    first = natsio::JetStream(conn).stream_state(stream).first_seq;
  } catch (const natsio::NatsError&) {  // not allowed or not answered: the reader below finds out
  }
  if (first > st.last_seq + 1) {
    const auto gone_to = std::min(first - 1, up_to);
    cursor.read_until(gone_to, st, fn, /*gone=*/true);
    if (st.last_seq >= up_to) return st;
    if (st.last_seq < gone_to) throw missing(st.last_seq + 1, gone_to);
  }
  natsio::StreamReader reader(conn, stream, st.last_seq + 1);
  natsio::StreamMessage m;
  while (st.last_seq < up_to) {
    if (!reader.next(m, 10'000)) {
      // Nothing more in the stream: the rest was stored (or left to the input set) and
      // acknowledged meanwhile (on an interest stream a new consumer starts past what
      // every consumer acknowledged).
      cursor.read_until(up_to, st, fn, /*gone=*/true);
      if (st.last_seq >= up_to) break;
      throw natsio::NatsError(fmt::format("reading {} history: no message after sequence {} (expected up to {}){}",
                                          stream, st.last_seq, up_to,
                                          cursor.problem().empty() ? "" : "; the event store: " + cursor.problem()));
    }
    if (m.seq <= st.last_seq) continue;
    if (m.seq > st.last_seq + 1) {
      // The stream keeps only what the store has not confirmed (interest retention):
      // these were stored (or left to the input set) and acknowledged meanwhile.
      cursor.read_until(m.seq - 1, st, fn, /*gone=*/true);
      if (st.last_seq + 1 < m.seq) throw missing(st.last_seq + 1, m.seq - 1);
    }
    fn(LogEvent{m.seq, m.subject, m.data, false});
    st.last_seq = m.seq;
    ++st.from_stream;
    cursor.note_stream(m.seq, m.subject, m.data);
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
  note_session(rt_.log(), m.subject, m.data);
  fn_(LogEvent{m.seq, m.subject, m.data, false, !m.more_queued});
}

void LogFollower::fill_gap(std::uint64_t from, std::uint64_t to) {
  rt_.log().warn(fmt::format("stream sequences {}..{} come from the log (the consumer skipped them or delivers nothing)",
                             from, to));
  // A sequence can be in neither place for a moment: the recorder acknowledged it (so the
  // interest stream dropped it) while the store read above had not seen it committed yet.
  // Read again from where it stopped, for up to 2 s, before giving up on it.
  const auto start = handled_;
  for (int attempt = 0;; ++attempt) {
    try {
      read_history(store_, rt_.conn(), stream_, std::max(handled_, from - 1), to, [this](const LogEvent& ev) {
        handled_ = ev.seq;
        rt_.set_log_seq(ev.seq);
        note_session(rt_.log(), ev.subject, ev.data);
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
  int frozen = 0;          // stalled looks in a row at which the server's delivered sequence did not move
  std::uint64_t last_delivered = 0;
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
    // A consumer whose delivered sequence does not move while we handle nothing and the
    // stream is ahead is stuck (after a stream leader's death: a flow-control exchange
    // lost with its node), however much it says is pending.
    frozen = cs && cs->delivered_stream_seq == last_delivered ? frozen + 1 : 0;
    last_delivered = cs ? cs->delivered_stream_seq : 0;
    if (st && st->last_seq > handled && (!cs || frozen >= 3) && rt_.conn().connected()) {
      // The server does not know our consumer although it answers about the stream (it
      // was on a node that died: an ordered consumer has one copy, on the stream leader's
      // node, and nats.c's own reset can fail while the stream elects a new leader), or
      // it is stuck. A new one from the next sequence; the old one is let go after (what
      // both deliver is handled once: on_message skips a sequence already handled).
      frozen = 0;
      try {
        auto fresh = std::make_unique<natsio::OrderedSubscription>(
            rt_.conn(), stream_, handled + 1, [this](const natsio::StreamMessage& m) { on_message(m); });
        rt_.log().warn(fmt::format("the ordered consumer on {} is {} (its node died?): following again from "
                                   "sequence {}",
                                   stream_, cs ? "stuck" : "gone", handled + 1));
        sub_.swap(fresh);  // only this thread and the destructor (after joining it) touch sub_
      } catch (const std::exception& e) {
        rt_.log().warn(fmt::format("the ordered consumer on {} is gone and cannot be made again yet: {}", stream_,
                                   e.what()));
      }
      lock.lock();
      seen = handled_;
      stalled = 0;
      continue;
    }
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
