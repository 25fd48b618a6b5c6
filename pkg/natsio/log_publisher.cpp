#include "natsio/log_publisher.hpp"

#include <nats/nats.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <random>

#include <fmt/format.h>

namespace natsio {
namespace {

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string nonce() {
  std::random_device rd;  // the OS's source: an id that no other publisher uses, not domain data
  return fmt::format("{:08x}{:08x}", rd(), rd());
}

}  // namespace

LogPublisher::LogPublisher(Connection& conn) : LogPublisher(conn, Options{}) {}

LogPublisher::LogPublisher(Connection& conn, Options options) : conn_(conn), opt_(options) {
  if (opt_.window == 0) opt_.window = 1;
  const auto n = nonce();
  id_prefix_ = fmt::format("{}.{}.", conn.name().empty() ? "pub" : conn.name(), n);
  ack_prefix_ = fmt::format("{}.{}.", conn.inbox_prefix(), n);
  const std::string subject = ack_prefix_ + "*";
  const natsStatus s = natsConnection_SubscribeSync(&sub_, conn.get(), subject.c_str());
  if (s != NATS_OK) throw NatsError(fmt::format("log publisher: subscribe {}: {}", subject, natsStatus_GetText(s)));
  natsSubscription_SetPendingLimits(sub_, -1, -1);
  thread_ = std::thread([this] { run(); });
}

LogPublisher::~LogPublisher() {
  const bool all = flush(5'000);
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    if (!all)
      conn_.log().error(fmt::format("log publisher: {} messages not confirmed by the stream at exit", pending_.size()));
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  natsSubscription_Unsubscribe(sub_);
  natsSubscription_Destroy(sub_);
}

bool LogPublisher::publish(std::string_view subject, std::string_view data) {
  if (subject.empty() || subject.size() > 255) return false;
  std::unique_lock lock(mu_);
  cv_.wait(lock, [this] { return stopping_ || pending_.size() < opt_.window; });
  if (stopping_) return false;
  pending_.push_back(Pending{.n = next_n_++, .subject = std::string(subject), .data = std::string(data)});
  ++stats_.published;
  if (!repairing_) send(pending_.back());
  return true;
}

bool LogPublisher::flush(std::int64_t timeout_ms) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [this] { return pending_.empty(); });
}

LogPublisher::Stats LogPublisher::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void LogPublisher::send(Pending& p) {
  const std::string reply = ack_prefix_ + std::to_string(p.n);
  const std::string id = id_prefix_ + std::to_string(p.n);
  natsMsg* m = nullptr;
  natsStatus s = natsMsg_Create(&m, p.subject.c_str(), reply.c_str(), p.data.data(), static_cast<int>(p.data.size()));
  if (s == NATS_OK) s = natsMsgHeader_Set(m, "Nats-Msg-Id", id.c_str());
  if (s == NATS_OK) s = natsConnection_PublishMsg(conn_.get(), m);
  natsMsg_Destroy(m);
  if (p.sent || p.failed) ++stats_.resent;
  p.sent_at_ms = now_ms();
  if (s == NATS_OK) {
    p.sent = true;
    p.failed = false;
    p.refused = false;
  } else {  // the connection is closed (reconnects buffer): try again in the repair
    p.sent = false;
    p.failed = true;
    ++stats_.refused;
    repairing_ = true;
  }
}

void LogPublisher::on_answer(std::uint64_t n, bool stored, bool duplicate) {
  auto it = std::find_if(pending_.begin(), pending_.end(), [n](const Pending& p) { return p.n == n; });
  if (it == pending_.end()) return;  // a late answer for a message confirmed already
  if (!stored) {
    it->sent = false;
    it->failed = true;
    it->refused = true;
    ++stats_.refused;
    repairing_ = true;
    return;
  }
  // Stored while an earlier message was refused (not merely unanswered): the stream holds
  // them out of publish order (see the file comment).
  for (auto e = pending_.begin(); e != it; ++e)
    if (e->refused) {
      ++stats_.reordered;
      conn_.log().error(fmt::format("log publisher: message {} on {} was stored before message {} on {}, which the "
                                    "stream refused (a leader elected between them): the log holds them out of order",
                                    it->n, it->subject, e->n, e->subject));
      break;
    }
  ++stats_.confirmed;
  if (duplicate) ++stats_.duplicates;
  pending_.erase(it);
  if (repairing_ && std::none_of(pending_.begin(), pending_.end(), [](const Pending& p) { return p.sent; })) {
    // The stream stores again: what waits goes out in order, windowed.
    repairing_ = false;
    for (auto& p : pending_)
      if (!repairing_) send(p);
  }
}

void LogPublisher::run() {
  for (;;) {
    natsMsg* m = nullptr;
    const natsStatus s = natsSubscription_NextMsg(&m, sub_, 50);
    std::unique_lock lock(mu_);
    if (s == NATS_OK && m != nullptr) {
      const std::string_view subject = natsMsg_GetSubject(m);
      std::uint64_t n = 0;
      if (subject.size() > ack_prefix_.size() && subject.substr(0, ack_prefix_.size()) == ack_prefix_) {
        const auto digits = subject.substr(ack_prefix_.size());
        std::from_chars(digits.data(), digits.data() + digits.size(), n);
      }
      const std::string_view data(natsMsg_GetData(m) ? natsMsg_GetData(m) : "",
                                  static_cast<std::size_t>(natsMsg_GetDataLength(m)));
      // A PubAck: {"stream":"EVENTS","seq":12} (+ "duplicate":true); an error: {"error":{...}};
      // no leader: a 503 status without a body.
      const bool stored = !natsMsg_IsNoResponders(m) && data.find("\"error\"") == std::string_view::npos &&
                          data.find("\"seq\"") != std::string_view::npos;
      const bool duplicate = data.find("\"duplicate\":true") != std::string_view::npos;
      natsMsg_Destroy(m);
      if (n != 0) on_answer(n, stored, duplicate);
    }
    const auto now = now_ms();
    // Unanswered too long: it goes again. Messages in flight were sent in deque order (a
    // repair sends one at a time, then the rest in order), so the first one in flight that
    // is not late ends the scan: this runs for every acknowledgement, over up to `window`.
    for (auto& p : pending_) {
      if (!p.sent) continue;
      if (now - p.sent_at_ms <= opt_.ack_timeout_ms) break;
      p.sent = false;
      p.failed = true;
      ++stats_.refused;
      repairing_ = true;
    }
    if (repairing_ && !pending_.empty() &&
        std::none_of(pending_.begin(), pending_.end(), [](const Pending& p) { return p.sent; })) {
      // Nothing in flight: the oldest unconfirmed message goes alone, until it is stored.
      auto& front = pending_.front();
      if (now - front.sent_at_ms >= opt_.retry_wait_ms) send(front);
    }
    if (repairing_ && pending_.empty()) repairing_ = false;
    const bool done = stopping_;
    lock.unlock();
    cv_.notify_all();
    if (done) return;
  }
}

}  // namespace natsio
