/// @file stack.hpp
/// @brief Test fixture: real nats-server + PostgreSQL + every worker binary, as a user runs them.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "eventstore/event_store.hpp"
#include "natsio/natsio.hpp"
#include "servers.hpp"

namespace itest {

/// One natsio::Library for the whole test process (nats_CloseAndWait runs once, at exit).
natsio::Library& nats_library();

/// Path of a built binary, e.g. bin("feed").
std::string bin(const std::string& name);

/// Servers plus the long-running workers (recorder, ops, risk-state, execution,
/// reporter, strategy), started in that order, each logging to <tmp>/<worker>.log.
class Stack {
 public:
  /// Starts the servers. `extra_env` is added to every worker's environment (e.g. RISK_MAX_ORDER_QTY).
  explicit Stack(std::vector<std::pair<std::string, std::string>> extra_env = {});
  /// Starts the workers in order and waits until each sends heartbeats. Throws with their logs if not.
  void start(std::vector<std::string> workers = {"recorder", "ops", "risk-state", "execution", "reporter",
                                                 "strategy"});
  ~Stack();
  std::string nats_url() const { return nats_.url(); }
  std::string database_url() const { return pg_.url(); }
  std::vector<std::pair<std::string, std::string>> env() const;
  /// Runs a binary to completion with the stack's environment; returns its exit code. Output in `log`.
  int run(const std::vector<std::string>& argv, std::string* output = nullptr) const;
  testsupport::Process& worker(const std::string& name) { return *workers_.at(name); }
  /// Starts (again) one worker, e.g. after kill_hard(), and waits for its heartbeat.
  void restart(const std::string& name);
  testsupport::PgServer& pg() { return pg_; }
  const std::string& dir() const { return dir_; }

 private:
  testsupport::NatsServer nats_;
  testsupport::PgServer pg_;
  std::string dir_;
  std::vector<std::pair<std::string, std::string>> env_;
  std::vector<std::string> order_;
  std::map<std::string, std::unique_ptr<testsupport::Process>> workers_;
};

/// Subscribes to every captured subject and keeps every message, in arrival order.
class Tap {
 public:
  explicit Tap(const std::string& nats_url);
  struct Msg {
    std::string subject, data;
  };
  std::vector<Msg> messages() const;
  std::map<std::string, std::int64_t> count_by_subject() const;
  std::size_t size() const;
  /// Waits up to 10 s for a message on `subject` whose text contains every needle;
  /// returns it, or "" on timeout.
  std::string wait_for(const std::string& subject, const std::vector<std::string>& needles) const;

 private:
  natsio::Connection conn_;
  mutable std::mutex mu_;
  std::vector<Msg> msgs_;
  std::vector<std::unique_ptr<natsio::Subscription>> subs_;
};

/// Waits (up to 60 s) until the event store holds as many events as the
/// JetStream stream EVENTS captured; returns that number. Throws on timeout.
std::int64_t wait_recorded(const Stack& stack, eventstore::EventStore& store);

/// Every stored event, in position order.
std::vector<eventstore::StoredEvent> read_all(eventstore::EventStore& store);

/// Every event of session `id`, in position order (one reader).
inline std::vector<eventstore::StoredEvent> session_events(eventstore::EventStore& store, const std::string& id) {
  std::vector<eventstore::StoredEvent> out;
  eventstore::for_each(store, {.session_id = id}, [&](eventstore::StoredEvent& e) { out.push_back(std::move(e)); });
  return out;
}

}  // namespace itest
