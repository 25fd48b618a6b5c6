#include "services/event_log.hpp"

#include <charconv>

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
    if (!reader.next(m, 10'000))
      throw natsio::NatsError(fmt::format("reading {} history: no message after sequence {} (expected up to {})",
                                          stream, st.last_seq, up_to));
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

}  // namespace services
