#include "services/event_log.hpp"

#include <charconv>

#include <fmt/format.h>

namespace services {

HistoryStats read_history(eventstore::EventStore* store, natsio::Connection& conn, const std::string& stream,
                          std::uint64_t after, std::uint64_t up_to,
                          const std::function<void(const LogEvent&)>& fn) {
  HistoryStats st;
  st.last_seq = after;
  if (up_to <= after) return st;
  const std::string prefix = stream + ":";
  if (store != nullptr) {
    // Page by page. If the store fails half-way, the stream continues after the
    // last sequence delivered: nothing twice, nothing skipped.
    try {
      std::int64_t after = 0;
      bool done = false;
      while (!done) {
        const auto page = store->read(after, 5'000);
        if (page.empty()) break;
        for (const auto& ev : page) {
          after = ev.position;
          if (ev.msg_id.compare(0, prefix.size(), prefix) != 0) continue;
          std::uint64_t seq = 0;
          const char* b = ev.msg_id.data() + prefix.size();
          const char* e = ev.msg_id.data() + ev.msg_id.size();
          if (std::from_chars(b, e, seq).ec != std::errc{} || seq <= st.last_seq) continue;
          if (seq > up_to) {
            done = true;
            break;
          }
          fn(LogEvent{seq, ev.subject, ev.payload, true});
          st.last_seq = seq;
          ++st.from_store;
        }
      }
    } catch (const eventstore::StoreUnavailable& e) {
      st.store_problem = e.what();
    }
  } else {
    st.store_problem = "no event store configured";
  }
  if (st.last_seq >= up_to) return st;
  natsio::StreamReader reader(conn, stream, st.last_seq + 1);
  natsio::StreamMessage m;
  while (st.last_seq < up_to) {
    if (!reader.next(m, 10'000))
      throw natsio::NatsError(fmt::format("reading {} history: no message after sequence {} (expected up to {})",
                                          stream, st.last_seq, up_to));
    if (m.seq <= st.last_seq) continue;
    fn(LogEvent{m.seq, m.subject, m.data, false});
    st.last_seq = m.seq;
    ++st.from_stream;
  }
  return st;
}

}  // namespace services
