#include "workers/bus.hpp"

#include <utility>

#include "workers/event_log.hpp"

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
