#include <algorithm>
#include <iterator>
#include <limits>
#include <memory>
#include <string_view>

#include <fmt/format.h>

#include "eventstore/event_store.hpp"
#include "eventstore/storable.hpp"

namespace eventstore {
namespace {

template <class Map>
std::vector<std::pair<std::string, std::int64_t>> to_pairs(const Map& m) {
  return {m.begin(), m.end()};  // std::map<std::string, ...> iterates bytewise-sorted
}

}  // namespace

void MemoryStore::check_available() const {
  if (unavailable_) throw StoreUnavailable("eventstore: memory store marked unavailable");
}

void MemoryStore::set_unavailable(bool unavailable) {
  const std::lock_guard lock(mu_);
  unavailable_ = unavailable;
}

void MemoryStore::store(const NewEvent& e) {
  events_.push_back(StoredEvent{.position = static_cast<std::int64_t>(events_.size()) + 1,
                                .msg_id = e.msg_id,
                                .subject = e.subject,
                                .type = e.type,
                                .client_order_id = e.client_order_id,
                                .ts_event = e.ts_event,
                                .payload = e.payload,
                                .session_id = e.session_id});
  msg_ids_.insert(e.msg_id);
  ++by_type_[e.type];
  ++by_subject_[e.subject];
}

std::size_t MemoryStore::append(const std::vector<NewEvent>& batch) {
  const std::lock_guard lock(mu_);
  check_available();
  // Validate everything first: a batch is all or nothing.
  std::vector<const NewEvent*> fresh;
  std::unordered_set<std::string_view> in_batch;
  for (const auto& e : batch) {
    if (msg_ids_.contains(e.msg_id) || !in_batch.insert(e.msg_id).second) continue;
    // Like PgStore, only events that would be stored are checked.
    if (std::string reason; !detail::storable_in_memory(e, &reason)) {
      throw std::runtime_error(fmt::format("eventstore: append: {}: {}", e.msg_id, reason));
    }
    fresh.push_back(&e);
  }
  events_.reserve(events_.size() + fresh.size());
  msg_ids_.reserve(msg_ids_.size() + fresh.size());
  for (const NewEvent* e : fresh) store(*e);
  return fresh.size();
}

AppendReport MemoryStore::append_or_quarantine(const std::vector<NewEvent>& batch) {
  const std::lock_guard lock(mu_);
  check_available();
  std::vector<const NewEvent*> fresh;
  std::unordered_set<std::string_view> in_batch;
  for (const auto& e : batch) {
    if (msg_ids_.contains(e.msg_id) || !in_batch.insert(e.msg_id).second) continue;
    fresh.push_back(&e);
  }
  // Placeholders first, so that nothing is stored if one can't be (all or nothing).
  std::vector<std::optional<NewEvent>> placeholders(fresh.size());
  AppendReport report;
  for (std::size_t i = 0; i < fresh.size(); ++i) {
    std::string reason;
    if (detail::storable_in_memory(*fresh[i], &reason)) continue;
    placeholders[i] = detail::quarantine_placeholder(*fresh[i], reason);
    if (std::string why; !detail::storable_in_memory(*placeholders[i], &why))
      throw std::runtime_error(fmt::format("eventstore: append: {} can't be quarantined: {}", fresh[i]->msg_id, why));
    report.quarantined.push_back({fresh[i]->msg_id, reason});
  }
  for (std::size_t i = 0, k = 0; i < fresh.size(); ++i) {
    if (!placeholders[i]) {
      store(*fresh[i]);
      continue;
    }
    store(*placeholders[i]);
    quarantine_.push_back({.msg_id = fresh[i]->msg_id,
                           .subject = placeholders[i]->subject,
                           .reason = report.quarantined[k++].reason,
                           .raw = fresh[i]->payload});
  }
  report.stored = fresh.size();
  return report;
}

std::vector<QuarantineRecord> MemoryStore::quarantine() const {
  const std::lock_guard lock(mu_);
  return quarantine_;
}

std::vector<StoredEvent> MemoryStore::read(std::int64_t after_position, std::size_t limit) {
  const std::lock_guard lock(mu_);
  check_available();
  const auto total = static_cast<std::int64_t>(events_.size());
  const std::int64_t first = std::clamp<std::int64_t>(after_position, 0, total);  // index of position first+1
  const std::size_t n = std::min<std::size_t>(limit, static_cast<std::size_t>(total - first));
  return {events_.begin() + first, events_.begin() + first + static_cast<std::ptrdiff_t>(n)};
}

std::vector<std::pair<std::string, std::int64_t>> MemoryStore::count_by_type() {
  const std::lock_guard lock(mu_);
  check_available();
  return to_pairs(by_type_);
}

std::vector<StoredEvent> MemoryStore::query(const EventQuery& q) {
  const std::lock_guard lock(mu_);
  check_available();
  std::vector<StoredEvent> out;
  const auto total = static_cast<std::int64_t>(events_.size());
  for (std::int64_t i = std::clamp<std::int64_t>(q.after_position, 0, total); i < total && out.size() < q.limit;
       ++i) {
    const StoredEvent& e = events_[static_cast<std::size_t>(i)];
    if (q.session_id && e.session_id != q.session_id) continue;
    if (q.subject && e.subject != *q.subject) continue;
    if (q.type && e.type != *q.type) continue;
    if (q.client_order_id && e.client_order_id != q.client_order_id) continue;
    if ((q.ts_from || q.ts_to) && !e.ts_event) continue;
    if (q.ts_from && *e.ts_event < *q.ts_from) continue;
    if (q.ts_to && *e.ts_event >= *q.ts_to) continue;
    out.push_back(e);
  }
  return out;
}

namespace {

/// A copy of the selected events taken at open (PgStore's snapshot), served a page at a time.
class MemoryReader final : public EventReader {
 public:
  MemoryReader(std::vector<StoredEvent> events, std::size_t page) : events_(std::move(events)), page_(page) {}
  std::vector<StoredEvent> next() override {
    const std::size_t n = std::min(page_, events_.size() - at_);
    std::vector<StoredEvent> out(std::make_move_iterator(events_.begin() + static_cast<std::ptrdiff_t>(at_)),
                                 std::make_move_iterator(events_.begin() + static_cast<std::ptrdiff_t>(at_ + n)));
    at_ += n;
    return out;
  }

 private:
  std::vector<StoredEvent> events_;
  std::size_t page_;
  std::size_t at_ = 0;
};

}  // namespace

std::unique_ptr<EventReader> MemoryStore::open_reader(const EventQuery& q) {
  EventQuery all = q;
  all.limit = std::numeric_limits<std::size_t>::max();
  return std::make_unique<MemoryReader>(query(all), q.limit == 0 ? 10'000 : q.limit);
}

std::vector<std::pair<std::string, std::int64_t>> MemoryStore::count_by_type(const std::string& session_id) {
  const std::lock_guard lock(mu_);
  check_available();
  std::map<std::string, std::int64_t> counts;
  for (const auto& e : events_)
    if (e.session_id == session_id) ++counts[e.type];
  return to_pairs(counts);
}

std::vector<SessionSummary> MemoryStore::sessions() {
  const std::lock_guard lock(mu_);
  check_available();
  std::vector<SessionSummary> out;
  std::map<std::string, std::size_t> index;  // session_id -> out[i]
  for (const auto& e : events_) {
    if (!e.session_id) continue;
    auto [it, fresh] = index.try_emplace(*e.session_id, out.size());
    if (fresh) out.push_back(SessionSummary{.session_id = *e.session_id, .first_position = e.position});
    SessionSummary& s = out[it->second];
    s.last_position = e.position;
    ++s.events;
    if (e.ts_event) {
      s.first_ts_event = s.first_ts_event ? std::min(*s.first_ts_event, *e.ts_event) : *e.ts_event;
      s.last_ts_event = s.last_ts_event ? std::max(*s.last_ts_event, *e.ts_event) : *e.ts_event;
    }
  }
  return out;
}

std::optional<StoredEvent> MemoryStore::last_event(std::string_view msg_id_prefix) {
  const std::lock_guard lock(mu_);
  check_available();
  for (auto it = events_.rbegin(); it != events_.rend(); ++it)
    if (it->msg_id.starts_with(msg_id_prefix)) return *it;
  return std::nullopt;
}

std::vector<std::pair<std::string, std::int64_t>> MemoryStore::count_by_subject() {
  const std::lock_guard lock(mu_);
  check_available();
  return to_pairs(by_subject_);
}

std::int64_t MemoryStore::count() {
  const std::lock_guard lock(mu_);
  check_available();
  return static_cast<std::int64_t>(events_.size());
}

std::optional<std::int64_t> MemoryStore::position_of(std::string_view msg_id) {
  const std::lock_guard lock(mu_);
  check_available();
  for (const auto& e : events_)
    if (e.msg_id == msg_id) return e.position;
  return std::nullopt;
}

std::optional<std::string> MemoryStore::last_msg_id(std::string_view prefix) {
  const std::lock_guard lock(mu_);
  check_available();
  for (auto it = events_.rbegin(); it != events_.rend(); ++it)
    if (it->msg_id.starts_with(prefix)) return it->msg_id;
  return std::nullopt;
}

}  // namespace eventstore
