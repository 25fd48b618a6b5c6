/// @file servers.hpp
/// @brief Test harness: real nats-server and PostgreSQL instances on free
///        127.0.0.1 ports with throwaway data directories, plus a RAII child process.
///
/// Everything here is for tests and developer tools only (it reads the
/// environment, forks, and may drop root privileges to user `postgres`).
/// Every server is owned by one object and stopped by PID in its destructor,
/// so a throwing test leaves no server behind. If the test process dies
/// without unwinding (abort, SIGKILL), each child still gets a parent-death
/// signal (Linux `PR_SET_PDEATHSIG`); only its temp directory may remain.
///
/// Thread-safety: none of the objects are thread-safe; use each from one
/// thread. PR_SET_PDEATHSIG fires when the *thread* that started the child
/// exits, so start servers from a thread that outlives them (e.g. main).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <csignal>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace testsupport {

/// A TCP port that was free on 127.0.0.1 a moment ago (bind to port 0, read
/// it back, close). Another process may take it before you bind: servers
/// below retry with a new port when that happens. Throws std::system_error.
int free_tcp_port();

/// Creates a new empty directory `<$TMPDIR or /tmp>/<prefix>XXXXXX` (mkdtemp)
/// with mode 0755 so that user postgres can traverse it. The caller owns it
/// and removes it. Throws std::system_error.
std::string make_temp_dir(std::string_view prefix);

/// `$TRADER_SHARED_DATA` if set, else `<source_dir()>/../shared/data` (normalised).
std::string shared_data_dir();
/// The project source directory (compile definition TRADER_SOURCE_DIR).
std::string source_dir();
/// The CMake build directory (compile definition TRADER_BUILD_DIR).
std::string build_dir();

/// An Ed25519 key pair as deploy/local makes it for the recorder's signed
/// checkpoints: `openssl genpkey -algorithm ed25519` into `<dir>/checkpoint.key`
/// (mode 0600) and its public half into `<dir>/checkpoint.pub`. Throws
/// std::runtime_error if openssl fails.
struct KeyPair {
  std::string private_key, public_key;  ///< paths
};
KeyPair make_checkpoint_keys(const std::string& dir);

/// The last `max_lines` lines of a text file ("" if it can't be read).
std::string file_tail(const std::string& path, std::size_t max_lines = 30);

/// How to start a child Process beyond argv. Set the fields by name
/// (`ProcessOptions o; o.log_path = ...;`); it has a constructor on purpose, so
/// that `Process(argv, {{"KEY", "value"}})` unambiguously means env.
struct ProcessOptions {
  ProcessOptions() = default;
  /// Added to (or replacing) the parent's environment.
  std::vector<std::pair<std::string, std::string>> env;
  /// stdout and stderr are appended here; "" = a temp file removed with the Process.
  std::string log_path;
  /// Run as this user (setgid/setgroups/setuid in the child; needs root).
  /// "" = the current user.
  std::string run_as_user;
  /// Working directory of the child; "" = inherit.
  std::string cwd;
  /// Sent to the child if the thread that created it dies (0 = none).
  int parent_death_signal = SIGTERM;
};

/// A child process (fork + execvp) in its own process group, stdin from
/// /dev/null, stdout+stderr to a log file. The destructor terminates it
/// (SIGTERM, SIGKILL after 5 s) and reaps it, so no zombie is left.
class Process {
 public:
  /// Starts argv[0] (searched in PATH). Throws std::runtime_error if argv is
  /// empty, the log can't be opened, the user doesn't exist, or exec fails
  /// (the child's errno is reported back through a close-on-exec pipe).
  Process(std::vector<std::string> argv, std::vector<std::pair<std::string, std::string>> env = {},
          std::string log_path = "");
  Process(std::vector<std::string> argv, ProcessOptions options);
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  /// The child's PID (valid until it has been reaped; then still returned).
  pid_t pid() const noexcept { return pid_; }
  /// Blocks until the child exits; returns its exit code, or 128+signal if it
  /// was killed by a signal. Idempotent: later calls return the same code.
  int wait();
  /// Like wait() but gives up after `timeout` (returns nullopt, child left running).
  std::optional<int> wait_for(std::chrono::milliseconds timeout);
  /// True while the child has not exited (reaps it if it just did).
  bool running();
  /// Sends `sig` if the child is still running. No-op otherwise.
  void signal(int sig) noexcept;
  /// SIGTERM, wait up to `grace`, then SIGKILL; always reaps. noexcept.
  void terminate(std::chrono::milliseconds grace = std::chrono::seconds(5)) noexcept;
  /// SIGKILL and reap.
  void kill_hard() noexcept;
  /// Everything the child wrote so far to stdout/stderr.
  std::string log() const;
  /// The last lines of log().
  std::string log_tail(std::size_t max_lines = 30) const { return file_tail(log_path_, max_lines); }
  const std::string& log_path() const noexcept { return log_path_; }

 private:
  void reaped(int status) noexcept;
  pid_t pid_ = -1;
  bool reaped_ = false;
  int exit_code_ = -1;
  std::string log_path_;
  std::string owned_log_dir_;  // removed in the destructor when we created the log
};

/// `nats-server -a 127.0.0.1 -p PORT [-js -sd DIR]` on a free port.
class NatsServer {
 public:
  /// Starts the server and waits until it sends its INFO line to a TCP client.
  /// With `auth` (the default, as every deployment runs: pkg/auth), the server has
  /// the TRADING and DESK accounts with every identity of auth::identities()
  /// (passwords in the server's temp dir, bcrypt cost 4 to keep tests quick) and no
  /// anonymous user; without it, anyone may connect (only for tests of the harness
  /// itself and benchmarks of raw NATS).
  /// Throws std::runtime_error (with the server's log tail) if it doesn't
  /// within 10 s.
  explicit NatsServer(bool jetstream = true, bool auth = true);
  /// SIGTERM, reap (SIGKILL after 5 s), remove the data dir. noexcept.
  ~NatsServer();
  NatsServer(const NatsServer&) = delete;
  NatsServer& operator=(const NatsServer&) = delete;

  /// "nats://127.0.0.1:PORT" without auth; with auth the `admin` identity's URL
  /// (anything in TRADING: bootstrap, taps, test publishers standing for a worker).
  std::string url() const;
  /// "nats://<user>:<password>@127.0.0.1:PORT" for identity `user` (auth only;
  /// std::out_of_range for an unknown user).
  std::string url(std::string_view user) const;
  /// "nats://127.0.0.1:PORT": no credentials (an anonymous client, refused with auth).
  std::string anonymous_url() const;
  bool auth() const noexcept { return auth_; }
  int port() const noexcept { return port_; }
  /// PID of the running server, -1 while stopped.
  pid_t pid() const noexcept;
  /// Stops the server (SIGTERM + reap). JetStream data stays for start().
  void stop() noexcept;
  /// Restarts a stopped server on the same port and store dir (outage tests).
  /// Throws std::runtime_error as the constructor does.
  void start();
  bool running() const noexcept { return proc_ != nullptr; }
  /// The server's log so far (all runs).
  std::string log_tail(std::size_t max_lines = 30) const;

 private:
  void launch();
  bool jetstream_;
  bool auth_;
  int port_ = 0;
  std::string dir_;
  std::string log_path_;
  std::map<std::string, std::string> passwords_;  ///< user -> password (auth)
  std::unique_ptr<Process> proc_;
};

/// A NATS cluster of `nodes` nats-servers on 127.0.0.1 (docs/scaling.md): each with
/// JetStream (its own store dir), the accounts and identities of NatsServer(auth), a
/// unique server_name ("n1", "n2", ...) and routes to every other node on free ports
/// (route user and password generated). For tests of failover: stop, kill or start any
/// node; a node started again keeps its ports and store.
class NatsCluster {
 public:
  /// Starts every node and waits until each sends INFO and says it is healthy (its
  /// monitoring port's /healthz: JetStream has a meta leader). Throws std::runtime_error (with the
  /// logs' tails) if that takes more than 30 s.
  explicit NatsCluster(int nodes = 3);
  /// Stops every node (SIGTERM, SIGKILL after 5 s), removes the dirs. noexcept.
  ~NatsCluster();
  NatsCluster(const NatsCluster&) = delete;
  NatsCluster& operator=(const NatsCluster&) = delete;

  int size() const noexcept { return static_cast<int>(nodes_.size()); }
  /// The server list for identity `user`, every node's URL with its credentials,
  /// comma-separated: what a worker's NATS_URL holds. url() is admin's.
  std::string url(std::string_view user = "admin") const;
  /// One node's URL for `user` (a client pinned to node `i`, 0-based).
  std::string node_url(int i, std::string_view user = "admin") const;
  /// "n1", "n2", ...: the server_name of node `i` (what stream info names as leader).
  std::string server_name(int i) const;
  /// The node whose server_name is `name`, -1 if none.
  int index_of(std::string_view name) const noexcept;
  int port(int i) const { return nodes_.at(static_cast<std::size_t>(i)).port; }
  pid_t pid(int i) const noexcept;
  bool running(int i) const noexcept;
  /// SIGTERM and reap (nats-server shuts down in order).
  void stop(int i) noexcept;
  /// SIGKILL and reap: the node dies without a word, as a crashed machine would.
  void kill(int i) noexcept;
  /// Starts a stopped node again (same ports, same store) and waits for its INFO (not
  /// for it to catch up: wait_healthy(i) does).
  /// Throws std::runtime_error as the constructor does.
  void start(int i);
  std::string log_tail(int i, std::size_t max_lines = 30) const;
  /// Waits until node `i`'s /healthz says ok (JetStream current on it), at most `timeout`.
  /// Returns false if it did not.
  bool wait_healthy(int i, std::chrono::milliseconds timeout = std::chrono::seconds(30)) const;

 private:
  struct Node {
    std::string name, dir, log_path, conf;
    int port = 0, route_port = 0, monitor_port = 0;
    std::unique_ptr<Process> proc;
  };
  void launch(Node& n);
  std::string dir_;
  std::map<std::string, std::string> passwords_;
  std::vector<Node> nodes_;
};

/// The roles a deployment connects as (pkg/eventstore/roles.sql,
/// schema/006_least_privilege.sql).
enum class PgRole {
  superuser,  ///< postgres: for tests that tamper with the store on purpose
  owner,      ///< trader_owner: migrations only
  writer,     ///< trader_recorder (member of trader_writer): the recorder; INSERT only
  reader,     ///< trader_readonly (member of trader_reader): traderctl, risk-state, execution; SELECT only
};

/// Whether a database gets the event store's migrations (as trader_owner).
enum class PgSchema { migrated, empty };

/// A throwaway PostgreSQL cluster (highest /usr/lib/postgresql/<v>/bin, or
/// $TRADER_PG_BIN) on a free 127.0.0.1 port, provisioned as a deployment is:
/// SCRAM-SHA-256 passwords for every connection, local and TCP (no trust), a
/// random password per role, the roles and the database "trader" created by
/// pkg/eventstore/roles.sql (through psql, as deploy/local does; it also creates
/// the research store "trader_research"), then the migrations applied as
/// trader_owner (eventstore::migrate, eventstore::migrate_research). Server settings
/// are the defaults (fsync on); only initdb skips its final sync (-N).
/// When running as root, initdb and postgres run as user `postgres`.
class PgServer {
 public:
  /// initdb + start + roles.sql + (unless PgSchema::empty) migrations. Throws
  /// std::runtime_error with the log tail if any step fails or the server isn't
  /// ready within 30 s.
  explicit PgServer(PgSchema schema = PgSchema::migrated);
  /// Fast shutdown (SIGINT to the postmaster), reap, rm -rf the cluster. noexcept.
  ~PgServer();
  PgServer(const PgServer&) = delete;
  PgServer& operator=(const PgServer&) = delete;

  /// "postgresql://<role>:<password>@127.0.0.1:PORT/trader"
  std::string superuser_url() const { return url_for("trader", PgRole::superuser); }
  std::string owner_url() const { return url_for("trader", PgRole::owner); }
  std::string writer_url() const { return url_for("trader", PgRole::writer); }
  std::string reader_url() const { return url_for("trader", PgRole::reader); }
  /// The research store beside "trader" ("trader_research", eventstore/research.hpp), as `role`.
  std::string research_url(PgRole role) const { return url_for("trader_research", role); }
  /// Same server, another database (which must exist; see create_database), as `role`.
  std::string url_for(std::string_view db, PgRole role) const;
  /// The login name of `role` (postgres, trader_owner, trader_recorder, trader_readonly).
  static std::string role_name(PgRole role);
  /// Creates database `name` (a plain identifier) and its research store
  /// `name`_research, both owned by trader_owner, with roles.sql, and migrates
  /// them (the research one with the research migrations too) unless `schema` is
  /// PgSchema::empty. Throws
  /// std::invalid_argument for a bad name, std::runtime_error if a step fails.
  void create_database(std::string_view name, PgSchema schema = PgSchema::migrated);
  /// Fast shutdown; connections break. The cluster stays for start(). noexcept.
  void stop() noexcept;
  /// Restarts the stopped cluster on the same port. Throws std::runtime_error.
  void start();
  bool running() const noexcept { return proc_ != nullptr; }
  int port() const noexcept { return port_; }
  /// Postmaster PID, -1 while stopped.
  pid_t pid() const noexcept;
  /// The server log so far.
  std::string log_tail(std::size_t max_lines = 30) const;
  /// Directory holding the postgres binaries in use.
  static std::string bin_dir();

 private:
  void launch();
  void wait_ready(std::chrono::seconds timeout);
  int port_ = 0;
  std::string passwords_[4];  // by PgRole
  std::string root_;      // temp dir: data/, sock/, *.log
  std::string data_dir_;
  std::string sock_dir_;
  std::string log_path_;
  std::string run_as_;    // "postgres" when we are root, else ""
  std::unique_ptr<Process> proc_;
};

/// A TCP proxy on a free 127.0.0.1 port to `target_port`, for cutting one client
/// off a server that keeps running (a network partition of that client alone).
/// A thread forwards bytes both ways for every accepted connection. cut() closes
/// every connection and refuses new ones (accepted and closed at once) until
/// restore(). Throws std::system_error if it cannot listen. Thread-safe.
class TcpProxy {
 public:
  explicit TcpProxy(int target_port);
  ~TcpProxy();  ///< closes everything and joins the thread
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;
  int port() const noexcept { return port_; }
  void cut();
  void restore();
  /// Connections accepted and forwarded so far (refused ones not counted).
  int accepted() const;

 private:
  void loop();
  int target_port_;
  int port_ = 0;
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};  ///< self-pipe: wakes poll() for cut() and the destructor
  mutable std::mutex mu_;
  bool cut_ = false, stop_ = false, cut_pending_ = false;
  int accepted_ = 0;
  std::thread thread_;
};

}  // namespace testsupport
