/// @file worker_main.hpp
/// @brief The few lines every cmd/<worker>/main.cpp shares: settings with the
/// common options, --help/--check-config handling, and the run loop.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <memory>

#include "config/config.hpp"
#include "eventstore/event_store.hpp"
#include "natsio/natsio.hpp"
#include "obs/http_server.hpp"
#include "obs/log.hpp"
#include "workers/runtime.hpp"

namespace services {

/// Settings for `program` with the common options (nats_url, database_url,
/// heartbeat_ms, http_address, http_port, log_format, log_level) plus `extra`, parsed from
/// argv/env/file. Returns nullopt when
/// the program should exit 0 at once (--help printed, or --check-config
/// printed the settings after `validate` succeeded). Throws config::ConfigError.
std::optional<config::Settings> load_settings(const std::string& program, const std::string& summary,
                                              std::vector<config::Option> extra, int argc, char** argv,
                                              const std::function<void(const config::Settings&)>& validate = {});

/// The worker's log (obs/log.hpp) on stderr, named `name`, as the settings say:
/// `log_format` (LOG_FORMAT: json, the default, one JSON object per line; or text, one
/// readable line per record, for a person at a terminal) and `log_level` (LOG_LEVEL:
/// debug, info (default), warn, error). Throws config::ConfigError for another value.
std::shared_ptr<obs::Logger> worker_log(const config::Settings& s, const std::string& name);

/// How worker `name` connects to NATS: the `nats_url` setting (NATS_URL, carrying the
/// worker's own identity: nats://<name>:<password>@host:port, pkg/auth), its own
/// inbox prefix (auth::inbox_prefix(name): its permissions let it read only those),
/// the connection named after the worker, `send_asap` (see natsio::NatsConfig), and the
/// worker's log `log` (nullptr: worker_log(s, name)), which the Runtime on that
/// connection shares.
natsio::NatsConfig worker_nats(const config::Settings& s, const std::string& name, bool send_asap = true,
                               std::shared_ptr<obs::Logger> log = nullptr);

/// What a worker's main() does with the exception that ends it: logs "<what>" (error)
/// through `log`, or, when the failure came before there was one (bad settings), through
/// a JSON logger with the default options. Returns 1, the exit code.
int log_failure(const std::string& name, const std::exception& e, const std::shared_ptr<obs::Logger>& log) noexcept;

/// The event store a worker rebuilds its state from at start: a PgStore on the
/// `database_url` setting, or nullptr when that is empty or the store cannot be
/// reached (logged as a warning to `log`; the worker then rebuilds from the stream alone).
/// A deployment gives it the reader's URL (trader_readonly: SELECT only).
/// Throws std::runtime_error for failures other than unavailability (e.g. a
/// refused login, or a schema that needs `traderctl migrate`).
std::unique_ptr<eventstore::PgStore> open_history_store(const config::Settings& s, obs::Logger& log);

/// The worker's HTTP endpoint (docs/operations.md, "Health and metrics") on the
/// `http_address`:`http_port` settings (HTTP_ADDRESS, default 127.0.0.1; HTTP_PORT,
/// default "" = none): GET /health/live (200 while the process serves), GET
/// /health/ready (200 when rt.ready(), else 503 with the reasons), GET /metrics
/// (rt.metrics_text()). Start it right after the Runtime, before the rebuild, so that a
/// probe sees "live, not ready" meanwhile. Logs its URL. Returns nullptr
/// without a port. Throws std::runtime_error if the port cannot be bound, and
/// config::ConfigError for a port outside 0..65535.
/// `extra`: further routes on the same server (ops: the Ops API, ops_http.hpp, and the
/// dashboard, dashboard.hpp); `options`: the server's (ops: more threads for the
/// dashboard's streams).
std::unique_ptr<obs::HttpServer> serve_http(Runtime& rt, const config::Settings& s,
                                            std::vector<obs::HttpServer::Route> extra = {},
                                            obs::HttpServer::Options options = {});

/// The start-up skeleton of a worker that follows the event log (risk-state, execution,
/// strategy, reporter: cmd/<name>/main.cpp is this call and its worker's start).
struct LogWorker {
  std::string name;                  ///< the binary's name, its NATS identity and its worker name
  std::string summary;               ///< first line of --help
  std::vector<config::Option> options;  ///< its own settings (besides the common ones); must include "stream"
  std::function<void(const config::Settings&)> validate;  ///< --check-config and start: throws config::ConfigError
  /// One writer per role (lease.hpp): the worker takes the lease named `name` before it
  /// rebuilds anything, and has the `standby` (wait | refuse: when another instance holds
  /// it) and `lease_ttl_ms` settings (lease_options). execution and risk-state.
  bool single_writer = false;
  /// What start() returns: the worker (kept alive until SIGTERM), its start-up line
  /// ("rebuilt from ..."), and what to do after SIGTERM, before it is destroyed (e.g. the
  /// reporter's final report; may be empty).
  struct Started {
    std::shared_ptr<void> worker;
    std::string said;
    std::function<void()> at_stop;
  };
  /// Builds the worker (it rebuilds its state from `store`, nullptr = none, and the
  /// stream, and subscribes).
  std::function<Started(Runtime& rt, const config::Settings& s, eventstore::EventStore* store)> start;
};

/// main() of a LogWorker: blocks SIGINT/SIGTERM, reads the settings (argv, environment,
/// TRADER_CONFIG; --help, --check-config), connects as `name` (worker_nats),
/// takes its lease if it is a single writer (take_lease: waits as a standby, or refuses),
/// opens the history store (open_history_store), waits for the event stream, announces
/// its manifest (Announcement), starts the worker, prints its line and "ready", starts the
/// heartbeat (a pong now means "ready"), waits for SIGTERM, stops. Logs through
/// worker_log(); the session of its log records is the one the event log or
/// session.lifecycle says is open (the log followers' NatsBus, Announcement). Returns
/// the exit code: 0, or 1 after logging "<what>" for an exception (a configuration
/// error, NATS or the store unreachable at start, a lease refused with standby=refuse:
/// the supervisor restarts it), or 1 at once when it lost its lease.
int run_log_worker(const LogWorker& w, int argc, char** argv);

/// "<n> events (<a> from the store, <b> from the stream[; store: <problem>])", for start-up lines.
std::string describe_history(std::int64_t from_store, std::int64_t from_stream, const std::string& store_problem);

}  // namespace services
