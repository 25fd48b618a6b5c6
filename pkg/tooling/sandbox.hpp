/// @file sandbox.hpp
/// @brief A private, throwaway copy of the pipeline for `traderctl replay` and
/// `traderctl backtest`, so that a replay never touches live state.
///
/// A Sandbox starts its own `nats-server -js` on a free 127.0.0.1 port (JetStream
/// store in a fresh temp dir), then the workers recorder, ops, risk-state,
/// execution, reporter and strategy from `bin_dir`, all on that server, with:
/// - DATABASE_URL = the research store (tooling/stores.hpp; traderctl passes
///   it), so the new session is recorded for research and never in the live
///   append-only log: the recorder gets `database_url` (the writer's URL), every
///   other worker `reader_database_url` (the reader's). RECORDER_CHECKPOINT_KEY
///   and RECORDER_CHECKPOINT_FILE are cleared: the sandbox's recorder never signs
///   checkpoints (they are the live store's);
/// - one stream name of its own, "SBX" + 16 random hex digits, for every worker
///   (RECORDER_STREAM, RISK_STREAM, EXECUTION_STREAM, OPS_STREAM): its msg_ids
///   ("SBX...:<seq>") never collide with the live stream's, so neither the live
///   recorder nor a live worker's rebuild ever sees a sandbox event, and the
///   sandbox's execution and risk-state rebuild from nothing;
/// - ops opening a session of its own: TRADER_SESSION = session_id()
///   ("<kind>-<UTC time>-<4 hex>"), OPS_SESSION_KIND, OPS_SESSION_SOURCE,
///   OPS_SESSION_DATA.
/// Every other environment variable (TRADER_CONFIG, RISK_*, EXECUTION_*, ...) is
/// inherited, so a backtest runs with the user's configuration.
///
/// Lifetime: every child is owned by the Sandbox and stopped by PID in its
/// destructor (SIGTERM, SIGKILL after 5 s), nats-server last, then the temp dir
/// is removed. Children get PR_SET_PDEATHSIG(SIGTERM), so they die with the
/// thread that created the Sandbox: create it on a thread that outlives it
/// (main). Children run in their own process group (a terminal's Ctrl-C reaches
/// only the caller, which then tears down in order) with an empty signal mask.
/// Worker output goes to `<dir()>/<worker>.log`.
///
/// Errors: the constructor and every wait throw SandboxError naming what failed
/// (which worker, its exit code, the tail of its log). Requires a natsio::Library
/// alive in the process. Thread-safety: not thread-safe; use from one thread.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "core/messages.hpp"
#include "eventstore/event_store.hpp"
#include "natsio/natsio.hpp"

namespace services {

class SandboxError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A child process: fork + execv, own process group, empty signal mask,
/// PR_SET_PDEATHSIG(SIGTERM), stdin /dev/null, stdout+stderr appended to a log
/// file. The destructor terminates (SIGTERM, SIGKILL after 5 s) and reaps it.
class ChildProcess {
 public:
  /// `argv[0]` is a path (or a name searched in PATH). `env` is added to (or
  /// replaces in) this process's environment. Throws SandboxError if the log
  /// cannot be opened or exec fails (the child's errno comes back through a pipe).
  ChildProcess(std::string name, std::vector<std::string> argv, const std::vector<std::pair<std::string, std::string>>& env,
               std::string log_path);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  const std::string& name() const noexcept { return name_; }
  pid_t pid() const noexcept { return pid_; }
  /// True while the child has not exited (reaps it if it just did).
  bool running() noexcept;
  /// Exit code (128 + signal if killed); nullopt while running.
  std::optional<int> exit_code() noexcept;
  /// Waits up to `timeout`; the exit code, or nullopt if still running.
  std::optional<int> wait_for(std::chrono::milliseconds timeout) noexcept;
  void signal(int sig) noexcept;
  /// SIGTERM, wait up to `grace`, then SIGKILL; always reaps.
  void terminate(std::chrono::milliseconds grace = std::chrono::seconds(5)) noexcept;
  const std::string& log_path() const noexcept { return log_path_; }
  /// The last `lines` lines of its log.
  std::string log_tail(std::size_t lines = 20) const;

 private:
  std::string name_, log_path_;
  pid_t pid_ = -1;
  std::optional<int> code_;
};

struct SandboxConfig {
  std::string kind = "replay";              ///< session kind: "replay" | "backtest"
  std::string source_session;               ///< OPS_SESSION_SOURCE ("" = none)
  std::string data_source;                  ///< OPS_SESSION_DATA ("" = none)
  /// The input set holding the session's market data (OPS_SESSION_INPUT_SET; "" = none)
  /// and its inputs' digests, which the sandbox gives its recorder (RECORDER_INPUT_DIGESTS):
  /// tooling/input_sets.hpp.
  std::string input_set;
  std::vector<std::string> input_digests;
  /// Set: written to dir()/instruments.csv and given to every worker (TRADER_INSTRUMENTS),
  /// in place of the configured file: a backtest's configured instruments plus those
  /// derived from its data (tooling/derived_instruments.hpp). "" = the configured file.
  std::string instruments_csv;
  std::string database_url;                 ///< the research store as the writer, for the recorder (required)
  std::string reader_database_url;          ///< as the reader, for the other workers ("" = database_url)
  std::string bin_dir;                      ///< directory of the worker binaries (required)
  std::string nats_server = "nats-server";  ///< path, or a name searched in PATH
  std::vector<std::string> workers = {"recorder", "ops", "risk-state", "execution", "reporter", "strategy"};
  std::int64_t ready_timeout_ms = 30'000;   ///< for nats-server and each worker to come up
  std::int64_t heartbeat_ms = 200;          ///< HEARTBEAT_MS of the sandbox's workers (idle detection)
  /// More environment for every sandbox process, after (overriding) the above, e.g.
  /// STRATEGY_STRATEGIES for `traderctl backtest --strategy ...`.
  std::vector<std::pair<std::string, std::string>> env;
  /// A user's external strategy program (`traderctl backtest --strategy-cmd CMD`; "" =
  /// none): run as `/bin/sh -c CMD` in this process's working directory once nats-server
  /// is up, before the workers, logging to dir()/strategy-cmd.log, and stopped after
  /// them. Its environment: this process's, plus strategy_cmd_env, plus NATS_URL as
  /// identity `strategy-ext` (it may subscribe strategy.external.> and answer requests,
  /// nothing else: pkg/auth), with every *DATABASE_URL* variable, PGPASSWORD and
  /// RECORDER_CHECKPOINT_KEY emptied (it gets no other credentials). None of `env`
  /// above reaches it. If it exits, the sandbox is broken (check_alive throws).
  std::string strategy_cmd;
  std::vector<std::pair<std::string, std::string>> strategy_cmd_env;  ///< e.g. STRATEGY_ID, STRATEGY_SUBJECT
};

class Sandbox {
 public:
  /// Starts nats-server and the workers and waits until every worker sends
  /// heartbeats (ops.status). Throws SandboxError (with the failing worker's log
  /// tail, and for a worker that is alive but not ready, where its threads wait:
  /// their stacks, when gdb is installed); everything started so far is stopped
  /// before it propagates.
  explicit Sandbox(SandboxConfig cfg);
  /// Stops everything still running (by PID, in reverse order; nats-server
  /// last) and removes dir(). noexcept.
  ~Sandbox();
  Sandbox(const Sandbox&) = delete;
  Sandbox& operator=(const Sandbox&) = delete;

  const std::string& session_id() const noexcept { return session_id_; }
  const std::string& stream() const noexcept { return stream_; }
  /// "nats://127.0.0.1:<port>": the server, without credentials (for messages).
  const std::string& nats_url() const noexcept { return nats_url_; }
  const std::string& dir() const noexcept { return dir_; }
  /// A connection to the sandbox's server as `replay` (TRADING: market data, pings,
  /// ops requests; send_asap off: a bulk publisher).
  natsio::Connection& conn() noexcept { return *conn_; }
  /// A connection as `desk-replay` (DESK): replayed people's orders and commands go
  /// through it, so nats-server stamps their sender as it does for a live operator.
  natsio::Connection& desk() noexcept { return *desk_; }
  /// The URL of sandbox identity `identity` (pkg/auth; std::out_of_range if unknown).
  std::string nats_url(const std::string& identity) const;
  /// The environment every sandbox process gets on top of this process's.
  const std::vector<std::pair<std::string, std::string>>& env() const noexcept { return env_; }

  /// Runs `bin_dir/<program> args...` against the sandbox to completion (e.g.
  /// the feed, connecting as the identity of that name), logging to
  /// dir()/<program>.log; returns its exit code. While it
  /// runs, a dead worker throws SandboxError; `stop` (if set) ends it early.
  int run(const std::string& program, const std::vector<std::string>& args, const std::atomic<bool>* stop = nullptr);

  /// Throws SandboxError naming the first worker that exited (or the strategy program),
  /// with its log tail.
  void check_alive();
  /// Waits until no worker's counters (ops.status msgs_in/msgs_out) moved for
  /// `quiet_ms`. Throws SandboxError after `timeout_ms` or if a worker died.
  void wait_idle(std::int64_t quiet_ms = 600, std::int64_t timeout_ms = 600'000);
  /// Asks `worker` for its heartbeat on ops.ping.<worker>, over conn() (so after
  /// everything published on conn() before). Throws natsio::NatsError on timeout
  /// or no responders, SandboxError on a bad reply.
  core::Heartbeat ping(const std::string& worker, std::int64_t timeout_ms = 5'000);

  /// The lock-step barrier: returns once the sandbox pipeline is quiescent, i.e.
  /// two consecutive rounds in which every worker on the trading path
  /// (strategy, risk-state, execution, reporter; those of cfg.workers) answers
  /// ops.ping with the same msgs_in/msgs_out/errors, the stream's last sequence
  /// is the same, and the log_seq of risk-state and execution equals it. Returns that sequence. Why
  /// this is sound is argued in sandbox.cpp and docs/architecture.md
  /// ("Determinism"). Each round is a request per worker plus one stream-info
  /// request; after three rounds in a row that found a worker behind, it pauses
  /// 1, 2, 4 ... up to 20 ms between rounds (a pause never decides the outcome). Throws SandboxError after `timeout_ms` (naming what
  /// still moved) or if a process died.
  std::uint64_t wait_quiescent(std::int64_t timeout_ms = 60'000);
  /// Rounds the barrier has taken so far (for the summary).
  std::int64_t barrier_rounds() const noexcept { return rounds_; }

  /// SIGKILLs worker `name` (no chance to clean up), starts it again with the
  /// same command and environment (logging to the same file), and waits until
  /// the new instance answers ops.ping (it answers only once it has rebuilt its
  /// state and subscribed). Throws SandboxError if `name` is not a sandbox
  /// worker, or the new instance dies or is not ready within ready_timeout_ms.
  void restart(const std::string& name);

  /// Asks the reporter (ops.report) for the final report; returns the JSON reply.
  /// Throws natsio::NatsError on timeout.
  std::string report(std::int64_t timeout_ms = 10'000);
  /// The orderly end: waits idle (600 ms without a counter moving in ops.status; not
  /// when the caller has just seen the pipeline `quiescent`, wait_quiescent), SIGTERMs
  /// ops (session.ended), stops the other workers but the recorder (SIGTERM to all at
  /// once, then each waited for), waits until the recorder stored everything the stream
  /// holds (the store's newest "<stream>:<seq>" reaches the stream's last sequence),
  /// then stops the recorder. Throws SandboxError on timeout or a dead recorder.
  void finish(eventstore::EventStore& store, std::int64_t timeout_ms = 120'000, bool quiescent = false);
  /// Immediate teardown (what the destructor does), e.g. after Ctrl-C. noexcept.
  void stop_all() noexcept;

 private:
  void start_worker(const std::string& name);
  /// SIGTERM to every worker, then each waited for (SIGKILL after its grace).
  void stop_workers() noexcept;
  /// env_ with the DATABASE_URL that worker `name` gets.
  std::vector<std::pair<std::string, std::string>> env_for(const std::string& name) const;
  void wait_ready();
  ChildProcess* find(const std::string& name);

  SandboxConfig cfg_;
  std::string dir_, stream_, session_id_, nats_url_;
  std::vector<std::pair<std::string, std::string>> env_;
  std::unique_ptr<ChildProcess> nats_;
  std::vector<std::unique_ptr<ChildProcess>> workers_;  // in start order
  std::unique_ptr<ChildProcess> strategy_cmd_;          ///< cfg_.strategy_cmd, if any
  std::unique_ptr<natsio::Connection> conn_;
  std::unique_ptr<natsio::Connection> desk_;
  std::string host_port_;                       ///< 127.0.0.1:<port> of the sandbox's server
  std::map<std::string, std::string> passwords_;  ///< identity -> password (pkg/auth)
  std::unique_ptr<natsio::JetStream> js_;  ///< on conn_, for the barrier's stream info
  std::int64_t rounds_ = 0;
};

/// `digits` random hex digits (std::random_device): for ids and stream names, which are
/// metadata, never domain data.
std::string random_hex(int digits);
/// A new session id "<kind>-<UTC time>-<4 hex>", e.g. "backtest-20261121T093015Z-1a2b",
/// as ops names live sessions.
std::string new_session_id(const std::string& kind);

/// Directory of the running executable (/proc/self/exe). Throws SandboxError.
std::string executable_dir();

}  // namespace services
