#include <algorithm>
#include <string_view>

#include <fmt/format.h>

#include "eventstore/event_store.hpp"
#include "eventstore/json_check.hpp"

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

std::size_t MemoryStore::append(const std::vector<NewEvent>& batch) {
  const std::lock_guard lock(mu_);
  check_available();
  // Validate everything first: a batch is all or nothing.
  std::vector<const NewEvent*> fresh;
  std::unordered_set<std::string_view> in_batch;
  for (const auto& e : batch) {
    if (msg_ids_.contains(e.msg_id) || !in_batch.insert(e.msg_id).second) continue;
    // Like PgStore, only events that would be stored are checked.
    if (!detail::is_valid_json(e.payload)) {
      throw std::runtime_error(fmt::format("eventstore: append: payload of {} is not valid JSON", e.msg_id));
    }
    fresh.push_back(&e);
  }
  events_.reserve(events_.size() + fresh.size());
  msg_ids_.reserve(msg_ids_.size() + fresh.size());
  for (const NewEvent* e : fresh) {
    events_.push_back(StoredEvent{.position = static_cast<std::int64_t>(events_.size()) + 1,
                                  .msg_id = e->msg_id,
                                  .subject = e->subject,
                                  .type = e->type,
                                  .client_order_id = e->client_order_id,
                                  .ts_event = e->ts_event,
                                  .payload = e->payload});
    msg_ids_.insert(e->msg_id);
    ++by_type_[e->type];
    ++by_subject_[e->subject];
  }
  return fresh.size();
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

std::optional<std::string> MemoryStore::last_msg_id(std::string_view prefix) {
  const std::lock_guard lock(mu_);
  check_available();
  for (auto it = events_.rbegin(); it != events_.rend(); ++it)
    if (it->msg_id.starts_with(prefix)) return it->msg_id;
  return std::nullopt;
}

}  // namespace eventstore
