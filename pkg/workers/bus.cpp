#include "workers/bus.hpp"

#include <utility>

#include "workers/event_log.hpp"

#include <fmt/format.h>

#include "subjects/subjects.hpp"

namespace services {

namespace {
class NatsSubscription final : public BusSubscription {
 public:
  NatsSubscription(natsio::Connection& conn, std::string_view pattern, Bus::Handler fn)
      : sub_(conn, pattern, std::move(fn)) {}

 private:
  natsio::Subscription sub_;
};
}  // namespace

NatsBus::~NatsBus() = default;

natsio::LogPublisher* NatsBus::log_publisher() {
  std::lock_guard lock(mu_);
  if (!checked_) {
    checked_ = true;
    try {
      if (natsio::JetStream(conn_).stream_state(stream_).no_ack)
        conn_.log().warn(fmt::format("the event stream {} acknowledges no publish (made before issue 15): publishing "
                                     "without confirmation; `traderctl stream-init` updates it",
                                     stream_));
      else
        log_pub_ = std::make_unique<natsio::LogPublisher>(conn_);
    } catch (const natsio::NatsError& e) {
      conn_.log().warn(fmt::format("cannot ask the event stream {} whether it acknowledges publishes ({}): publishing "
                                   "without confirmation",
                                   stream_, e.what()));
    }
  }
  return log_pub_.get();
}

bool NatsBus::publish(std::string_view subject, std::string_view payload) {
  if (subjects::published_to_event_stream(subject))
    if (auto* pub = log_publisher()) return pub->publish(subject, payload);
  return conn_.publish(subject, payload);
}

void NatsBus::flush(std::int64_t timeout_ms) {
  natsio::LogPublisher* pub = nullptr;
  {
    std::lock_guard lock(mu_);
    pub = log_pub_.get();
  }
  if (pub && !pub->flush(timeout_ms))
    throw natsio::NatsError(fmt::format("the event stream {} did not confirm every message within {} ms", stream_,
                                        timeout_ms));
  conn_.flush(timeout_ms);
}

std::unique_ptr<BusSubscription> NatsBus::subscribe(std::string_view pattern, Handler fn) {
  return std::make_unique<NatsSubscription>(conn_, pattern, std::move(fn));
}

std::uint64_t NatsBus::log_end(const std::string& stream) { return natsio::JetStream(conn_).last_sequence(stream); }

HistoryStats NatsBus::read_history(eventstore::EventStore* store, const std::string& stream, std::uint64_t after,
                                   std::uint64_t up_to, const std::function<void(const LogEvent&)>& fn) {
  // The log's session.lifecycle events say which session the worker's records are in.
  return services::read_history(store, conn_, stream, after, up_to, [this, &fn](const LogEvent& ev) {
    note_session(conn_.log(), ev.subject, ev.data);
    fn(ev);
  });
}

std::unique_ptr<LogTail> NatsBus::follow(Runtime& rt, eventstore::EventStore* store, const std::string& stream,
                                         std::uint64_t end, std::function<void(const LogEvent&)> fn) {
  return std::make_unique<LogFollower>(rt, store, stream, end, std::move(fn));
}

}  // namespace services
