/// @file stack.hpp
/// @brief Test fixture: real nats-server + PostgreSQL + every worker binary, as a user runs them.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "eventstore/event_store.hpp"
#include "natsio/natsio.hpp"
#include "servers.hpp"
#include "tooling/input_sets.hpp"

namespace itest {

/// One natsio::Library for the whole test process (nats_CloseAndWait runs once, at exit).
natsio::Library& nats_library();

/// Path of a built binary, e.g. bin("feed").
std::string bin(const std::string& name);

/// Servers plus the long-running workers (recorder, ops, risk-state, execution,
/// reporter, strategy), started in that order, each logging to <tmp>/<worker>.log.
/// NATS runs with authentication (pkg/auth), as every deployment does: each worker
/// connects as its own identity (NATS_URL = nats_url(<worker>)); start() first
/// creates the event stream and the recorder's consumer as `admin`
/// (services::bootstrap_event_stream), as `traderctl stream-init` does; run()
/// (traderctl) connects as `operator` (DESK), a person.
/// Each connects to PostgreSQL as a deployment's would: the recorder as the
/// writer (DATABASE_URL = writer_url()), every other worker as the reader;
/// run() (traderctl) gets the reader's URL as DATABASE_URL and the writer's as
/// TRADER_WRITER_DATABASE_URL. The recorder signs checkpoints with a key pair made
/// in dir() (RECORDER_CHECKPOINT_KEY, RECORDER_CHECKPOINT_FILE), and run() gets
/// TRADER_CHECKPOINT_FILE and TRADER_CHECKPOINT_PUBKEY, so `traderctl verify`
/// checks them, as deploy/local sets it up.
class Stack {
 public:
  /// Starts the servers and, as the admin, creates the event stream and the recorder's
  /// consumer. `extra_env` is added to every worker's environment (e.g. RISK_MAX_ORDER_QTY).
  explicit Stack(std::vector<std::pair<std::string, std::string>> extra_env = {});
  /// The same on a NATS cluster of `nats_nodes` nodes (testsupport::NatsCluster; 1 = one
  /// nats-server, as above): the event stream has min(3, nodes) replicas, and every URL
  /// (workers', run()'s, nats_url()) is the list of all nodes.
  Stack(int nats_nodes, std::vector<std::pair<std::string, std::string>> extra_env);
  /// Starts the workers in order and waits until each sends heartbeats. Throws with their logs if not.
  void start(std::vector<std::string> workers = {"recorder", "ops", "risk-state", "execution", "reporter",
                                                 "strategy"});
  ~Stack();
  /// The admin's URL (anything in TRADING: taps, test publishers standing for a worker).
  std::string nats_url() const { return nats_url("admin"); }
  /// Identity `user`'s URL, e.g. nats_url("operator") for a person, nats_url("feed").
  std::string nats_url(std::string_view user) const { return cluster_ ? cluster_->url(user) : nats_->url(user); }
  /// The environment a worker binary runs with as identity `user` (e.g. the feed).
  std::vector<std::pair<std::string, std::string>> env_for(const std::string& user) const;
  /// trader_readonly: traderctl, risk-state, execution, and the tests' own reads.
  std::string reader_url() const { return pg_.reader_url(); }
  /// trader_recorder: the recorder.
  std::string writer_url() const { return pg_.writer_url(); }
  /// The research store ("trader_research": backtests, replays, imports) as the
  /// reader, for the tests' reads of what traderctl backtest/replay recorded.
  std::string research_reader_url() const { return pg_.research_url(testsupport::PgRole::reader); }
  /// postgres: only for tests that tamper with the store on purpose.
  std::string superuser_url() const { return pg_.superuser_url(); }
  /// The environment of run(): a person (NATS_URL of `operator`, the reader's DATABASE_URL).
  std::vector<std::pair<std::string, std::string>> env() const;
  /// The recorder's environment: env() with the writer's DATABASE_URL.
  std::vector<std::pair<std::string, std::string>> recorder_env() const;
  /// Runs a binary to completion with the stack's environment; returns its exit code. Output in `log`.
  int run(const std::vector<std::string>& argv, std::string* output = nullptr) const;
  /// The same as identity `user` (e.g. "feed" for the feed binary).
  int run_as(const std::string& user, const std::vector<std::string>& argv, std::string* output = nullptr) const;
  testsupport::Process& worker(const std::string& name) { return *workers_.at(name); }
  /// Starts (again) one worker, e.g. after kill_hard(), and waits for its heartbeat.
  void restart(const std::string& name);
  testsupport::PgServer& pg() { return pg_; }
  /// The nats-server, for outage tests (stop() and start() keep its port and store).
  /// std::logic_error on a cluster's stack.
  testsupport::NatsServer& nats();
  /// The cluster (node failures); std::logic_error on a one-server stack.
  testsupport::NatsCluster& cluster();
  const std::string& dir() const { return dir_; }
  /// The recorder's checkpoint file and the public key that checks it.
  std::string checkpoint_file() const { return dir_ + "/checkpoints.jsonl"; }
  const std::string& checkpoint_pubkey() const { return keys_.public_key; }

 private:
  void init(std::vector<std::pair<std::string, std::string>> extra_env, int replicas);
  std::unique_ptr<testsupport::NatsServer> nats_;    ///< one server, or
  std::unique_ptr<testsupport::NatsCluster> cluster_;  ///< a cluster
  testsupport::PgServer pg_;
  std::string dir_;
  testsupport::KeyPair keys_;
  std::vector<std::pair<std::string, std::string>> env_;
  std::vector<std::string> order_;
  std::map<std::string, std::unique_ptr<testsupport::Process>> workers_;
};

/// Every message of the event stream in stream order, as execution consumes it: an
/// ordered consumer from sequence 1, created before anything is published (construct
/// it right after the Stack). The stream keeps only what the store has not confirmed
/// (interest retention), but nothing a consumer has not received, so this sees all of it.
class StreamTap {
 public:
  explicit StreamTap(const std::string& admin_url, std::string stream = "EVENTS");
  struct Msg {
    std::uint64_t seq = 0;
    std::string subject, data;
  };
  /// Waits (up to 30 s) until `n` messages arrived; returns what arrived.
  std::vector<Msg> wait_for(std::size_t n) const;

 private:
  natsio::Connection conn_;
  mutable std::mutex mu_;
  std::vector<Msg> msgs_;
  std::unique_ptr<natsio::OrderedSubscription> sub_;
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

/// The status of `worker`'s alive instance as `traderctl status --json` (an operator)
/// reports it, or a text saying why there is none (exit 2 or no reply, not alive).
/// Exit 1 (the stack degraded) is an answer: some tests expect it.
std::string worker_status(const Stack& stack, const std::string& worker);

/// Whether a payload has `"key":"value"`, as the wire writes it or as PostgreSQL's
/// jsonb gives it back (`"key": "value"`).
bool payload_has(const std::string& payload, const std::string& key, const std::string& value);

/// Waits (up to 60 s) until the event store holds as many events as the
/// JetStream stream EVENTS captured; returns that number. Throws on timeout.
std::int64_t wait_recorded(const Stack& stack, eventstore::EventStore& store);

/// Every stored event, in position order.
std::vector<eventstore::StoredEvent> read_all(eventstore::EventStore& store);

/// Polls `pred` every `step` until it holds or `limit` passed; returns its last answer.
template <class Pred>
bool until(std::chrono::milliseconds limit, Pred pred, std::chrono::milliseconds step = std::chrono::milliseconds(100)) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(step);
  }
  return pred();
}

/// The port worker `worker` of `stack` serves health and metrics on, as its log says
/// ("health and metrics on http://127.0.0.1:<port>/"; the stack started with HTTP_PORT);
/// the newest instance's after a restart. Throws std::runtime_error if the log does not say.
int http_port_of(Stack& stack, const std::string& worker);

/// The password inside "nats://<user>:<password>@host:port" (Stack::nats_url).
std::string password_of(const std::string& url);

/// What a Node.js check script of tests/js printed, and its exit code. Each script prints
/// "all checks passed" last only when every check held.
struct NodeRun {
  int rc = -1;
  std::string log;
  bool passed() const { return rc == 0 && log.find("all checks passed") != std::string::npos; }
};
/// Runs `node tests/js/<script>` with `env` and waits for it; its output is kept in the
/// stack's directory (<script>.log).
NodeRun run_node(const Stack& stack, const std::string& script, const std::vector<std::pair<std::string, std::string>>& env);

/// Every event of session `id`, in position order, as traderctl reads it: with the
/// inputs of its input set, if it names one, back in place (tooling/input_sets.hpp).
inline std::vector<eventstore::StoredEvent> session_events(eventstore::EventStore& store, const std::string& id) {
  std::vector<eventstore::StoredEvent> out;
  services::for_each_session_event(store, id, [&](eventstore::StoredEvent& e) { out.push_back(std::move(e)); });
  return out;
}

}  // namespace itest
