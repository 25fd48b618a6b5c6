/// @file reply_router.hpp
/// @brief Pairs the two copies of a request that risk-state receives: the core NATS
///        copy, which carries the requester's reply subject, and the event stream's
///        copy, which risk-state decides in log order.
///
/// risk-state decides orders and commands as the event stream orders them
/// (LogFollower), so that every run of a log decides them at the same point of the
/// market, and so that nothing sent while it was disconnected is missed. The stream
/// does not keep a message's reply subject, so risk-state also subscribes to the same
/// subjects on core NATS, only to learn who waits for an answer. Within one
/// nats-server the core copy reaches risk-state first: the server queues it while it
/// handles the publish, and the stream stores and pushes its copy only afterwards.
/// The router does not rely on that: if the stream copy is decided first, its answers
/// are kept until the core copy comes (or for `ttl_ms`).
///
/// Copies are matched by subject and content (SHA-256 of the payload), first in,
/// first out, so two identical requests get their answers in order. Entries live at
/// most `ttl_ms` (wall-clock bookkeeping only: no decision depends on it) and at most
/// `max_entries` of each kind are kept, oldest dropped first: a hostile burst cannot
/// grow it without bound (a copy of a 1 MiB payload costs its 64-character hash).
///
/// Thread-safety: none; risk-state calls it from the delivery thread only.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace services {

class ReplyRouter {
 public:
  explicit ReplyRouter(std::int64_t ttl_ms = 10'000, std::size_t max_entries = 100'000)
      : ttl_ms_(ttl_ms), max_entries_(max_entries) {}

  /// The key of a message: its subject and the SHA-256 of its payload.
  static std::string key(std::string_view subject, std::string_view data);

  /// The core copy of `key` arrived with reply subject `reply` ("" = a plain publish).
  /// Returns the answers already given to its stream copy, to be sent on `reply`
  /// (none if the stream copy was not decided yet: the reply is then remembered).
  std::vector<std::string> on_core(const std::string& key, std::string_view reply, std::int64_t now_ms);

  /// The stream copy of `key` is about to be decided. Returns the reply subject its
  /// core copy brought ("" when it brought none: nobody waits), or nullopt when the
  /// core copy has not arrived: the caller then passes the answers to keep().
  std::optional<std::string> on_stream(const std::string& key, std::int64_t now_ms);

  /// The answers given to a stream copy whose core copy has not arrived yet.
  void keep(const std::string& key, std::vector<std::string> answers, std::int64_t now_ms);

  /// Entries held (replies waiting for their stream copy, answers waiting for their core copy).
  std::size_t replies_waiting() const noexcept { return replies_.size; }
  std::size_t answers_waiting() const noexcept { return answers_.size; }
  /// Bookkeeping slots held (one per entry put and not yet purged, taken or not): never
  /// more than `max_entries` of each kind after a call returns.
  std::size_t slots() const noexcept { return replies_.fifo.size() + answers_.fifo.size(); }
  /// Entries dropped by age or by the bound, since construction.
  std::int64_t expired() const noexcept { return expired_; }

 private:
  template <class T>
  struct Table {
    struct Entry {
      std::uint64_t id;
      std::int64_t at_ms;
      T value;
    };
    std::map<std::string, std::deque<Entry>> by_key;
    std::deque<std::pair<std::uint64_t, std::string>> fifo;  ///< (id, key), oldest first
    std::size_t size = 0;
  };
  template <class T>
  void purge(Table<T>& t, std::int64_t now_ms);
  template <class T>
  std::optional<T> take(Table<T>& t, const std::string& key);
  template <class T>
  void put(Table<T>& t, const std::string& key, T value, std::int64_t now_ms);

  std::int64_t ttl_ms_;
  std::size_t max_entries_;
  std::uint64_t next_id_ = 0;
  std::int64_t expired_ = 0;
  Table<std::string> replies_;
  Table<std::vector<std::string>> answers_;
};

}  // namespace services
