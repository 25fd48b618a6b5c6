#include "workers/reply_router.hpp"

#include "workers/manifest.hpp"

namespace services {

std::string ReplyRouter::key(std::string_view subject, std::string_view data) {
  std::string k(subject);
  k += ' ';
  k += sha256_hex(data);
  return k;
}

template <class T>
void ReplyRouter::purge(Table<T>& t, std::int64_t now_ms) {
  while (!t.fifo.empty()) {
    const auto& [id, key] = t.fifo.front();
    const auto it = t.by_key.find(key);
    // Taken already (its entry left by_key): only the FIFO slot remains.
    if (it == t.by_key.end() || it->second.front().id != id) {
      t.fifo.pop_front();
      continue;
    }
    if (now_ms - it->second.front().at_ms <= ttl_ms_ && t.fifo.size() <= max_entries_) break;
    it->second.pop_front();
    if (it->second.empty()) t.by_key.erase(it);
    --t.size;
    ++expired_;
    t.fifo.pop_front();
  }
}

template <class T>
std::optional<T> ReplyRouter::take(Table<T>& t, const std::string& key) {
  const auto it = t.by_key.find(key);
  if (it == t.by_key.end()) return std::nullopt;
  T value = std::move(it->second.front().value);
  it->second.pop_front();
  if (it->second.empty()) t.by_key.erase(it);
  --t.size;
  return value;
}

template <class T>
void ReplyRouter::put(Table<T>& t, const std::string& key, T value, std::int64_t now_ms) {
  const auto id = next_id_++;
  t.by_key[key].push_back({id, now_ms, std::move(value)});
  t.fifo.emplace_back(id, key);
  ++t.size;
  purge(t, now_ms);
}

std::vector<std::string> ReplyRouter::on_core(const std::string& key, std::string_view reply, std::int64_t now_ms) {
  purge(answers_, now_ms);
  if (auto answers = take(answers_, key)) return std::move(*answers);
  put(replies_, key, std::string(reply), now_ms);
  return {};
}

std::optional<std::string> ReplyRouter::on_stream(const std::string& key, std::int64_t now_ms) {
  purge(replies_, now_ms);
  return take(replies_, key);
}

void ReplyRouter::keep(const std::string& key, std::vector<std::string> answers, std::int64_t now_ms) {
  put(answers_, key, std::move(answers), now_ms);
}

}  // namespace services
