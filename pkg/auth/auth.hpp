/// @file auth.hpp
/// @brief Who may say what on the bus: the identities of a deployment, their NATS
///        accounts and permissions, and the nats-server configuration that enforces them.
///
/// Issue 11: an anonymous message could bypass risk, forge a fill or purge the event
/// stream. Every deployment (deploy/local, the compose stack, the test harness,
/// `traderctl replay/backtest` sandboxes) now runs nats-server with the accounts block
/// this library renders, and without an anonymous user. The table below is the bus
/// contract's "publishers" column made law; subjects/README.md ("Identities") is its
/// text for people, and tests/auth/auth_test.cpp checks that the two agree (and the permission table itself);
/// tests/integration/auth_test.cpp checks that a real nats-server enforces it.
///
/// Accounts:
///  - **TRADING** (JetStream enabled): the workers, each with its own user and only
///    the subjects it owns, and `admin` (bootstrap and repair: creates the stream and
///    the recorder's consumer; the only identity that may purge, delete or reconfigure
///    the stream or delete a consumer).
///  - **DESK_<user>**, one per person (`operator` by default; more with --operators)
///    and one for `desk-replay` (the replay tool's hand, in sandboxes). A person reaches
///    TRADING only through the services TRADING exports, and their account imports
///    trading.orders and risk.management as "<subject>.by.<user>": the
///    person types `nats pub trading.orders ...`, and TRADING receives, and the event
///    store records, `trading.orders.by.<user>`. The sender is thus part of the subject,
///    which the server writes and nobody else can (subjects::sender_of); no worker takes
///    it from a field the sender writes. (nats-server 2.9.10 also stamps a
///    `Nats-Request-Info` header on such messages, but mangles its name when a stream
///    captures the subject, and streams do not keep it: it is not used.) A person
///    sees the events through stream imports (market.data.>, trading.executions,
///    trading.orders.approved, risk.state, performance.>, reports.>, session.>,
///    ops.dead_letter, ops.heartbeat.>). No stream import overlaps a service import: the
///    overlap would loop a person's message back into TRADING a second time.
///
/// | identity | account | publishes (besides its heartbeat, manifest and dead letters) |
/// |---|---|---|
/// | feed | TRADING | market.data.> |
/// | replay | TRADING | market.data.> (sandbox inputs), ops.ping.*, ops.status, ops.report requests |
/// | strategy | TRADING | trading.orders, strategy.external.> (requests to external strategies) |
/// | strategy-ext | TRADING | nothing but one reply to each request it received (allow_responses); subscribes strategy.external.> only |
/// | risk-state | TRADING | trading.orders.approved, trading.executions (denials), risk.state; its lease |
/// | execution | TRADING | trading.executions; its lease |
/// | reporter | TRADING | performance.metrics, reports.performance |
/// | ops | TRADING | session.lifecycle |
/// | recorder | TRADING | (JetStream: its own durable consumer only); its lease |
/// | admin | TRADING | anything |
/// | operator, desk-replay | DESK_<user> | trading.orders, risk.management (both arriving as <subject>.by.<user>), ops.status, ops.report, ops.risk.policy, ops.sessions, ops.session and ops.session.report requests |
///
/// Every worker may publish ops.heartbeat.<itself>, session.workers.<itself> and
/// ops.dead_letter, subscribe ops.ping.<itself>, and answer requests: people's (reply
/// subjects `_R_.>`, made by the server for a service import) and pings from ops and
/// replay (`_INBOX_ops.>`, `_INBOX_replay.>`). No worker gets allow_responses (admin
/// may publish anything anyway): with it nats-server tracks the reply subject of every
/// JetStream delivery it receives, and a burst or a backlog read made that quadratic
/// (auth.cpp, worker() and admin). Only `strategy-ext`, the user's external strategy
/// program (workers/external_strategy.hpp), has it: it receives no JetStream deliveries,
/// only the strategy worker's requests, and may publish nothing but their answers.
/// Workers that rebuild from the event log (risk-state, execution, strategy) may read
/// the stream's info and create ephemeral (ordered) consumers on it; ops, the recorder
/// and replay may read the stream's info; none may
/// purge, delete or update the stream, and none may delete or update a consumer. The
/// recorder may create its durable consumer and fetch and acknowledge from it only.
/// The single writers (execution, risk-state, the recorder) may each read and write their
/// own lease only: key <worker> of the bucket `trader_leases` ($KV.trader_leases.<worker>,
/// the direct get of that subject, and the bucket's info); only admin creates the bucket,
/// and no other identity may write a lease.
/// Inboxes are per identity (`_INBOX_<user>.>`, natsOptions_SetCustomInboxPrefix), so a
/// worker cannot read another one's replies.
///
/// Passwords are random (32 hex digits from the OS), kept one per file, mode 0600, and
/// the server configuration holds only their bcrypt hashes.
/// Errors: file functions throw std::runtime_error naming the path. Thread-safety: the
/// pure functions are reentrant; the file functions are not safe against concurrent
/// writers of the same directory.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace auth {

constexpr std::string_view kTradingAccount = "TRADING";
/// A person's account is "DESK_<user>" (desk_account).
constexpr std::string_view kDeskAccountPrefix = "DESK_";

struct Permissions {
  std::vector<std::string> publish_allow;
  std::vector<std::string> publish_deny;
  std::vector<std::string> subscribe_allow;
  bool allow_responses = false;  ///< may publish to the reply subject of a request it received (once)
  friend bool operator==(const Permissions&, const Permissions&) = default;
};

struct Identity {
  std::string user;      ///< NATS user name, also the worker name for workers
  std::string account;   ///< kTradingAccount, or desk_account(user) for a person
  Permissions permissions;
  friend bool operator==(const Identity&, const Identity&) = default;
};

/// What a deployment needs.
struct Deployment {
  std::string stream = "EVENTS";                     ///< the event stream's name
  std::string recorder_durable = "recorder";         ///< the recorder's durable consumer
  /// The single writers' leases (workers/lease.hpp): the JetStream key-value bucket.
  std::string lease_bucket = "trader_leases";
  std::vector<std::string> operators = {"operator"};  ///< DESK users for people
  /// The replay tool's identities (`replay`, `desk-replay`): sandboxes, and tests
  /// that stand for it.
  bool replay = true;
};

/// Names of the worker identities, in start order.
inline const std::vector<std::string>& worker_names() {
  static const std::vector<std::string> kWorkers = {"recorder", "ops", "risk-state", "execution",
                                                    "reporter", "strategy", "feed"};
  return kWorkers;
}

/// The account of person `user`: "DESK_<user>".
std::string desk_account(std::string_view user);

/// The custom inbox prefix of `user`: "_INBOX_<user>" (its inboxes are "<prefix>.<nuid>").
std::string inbox_prefix(std::string_view user);

/// Every identity of `d`, TRADING first, then the people. Pure.
/// Throws std::invalid_argument for an operator name that is not 1-64 characters from
/// [a-z0-9_-] or that collides with a worker or replay identity.
std::vector<Identity> identities(const Deployment& d);

/// The nats-server `accounts { ... }` block (no listen or JetStream settings: the
/// caller's file includes it). `password_hashes`: user -> bcrypt hash (or a plain
/// password, for tests that want none); every identity must have one, else
/// std::invalid_argument. Pure.
std::string accounts_config(const std::vector<Identity>& ids, const std::map<std::string, std::string>& password_hashes);

/// A whole nats-server configuration file's text: listen on `host`:`port`, JetStream
/// with its store in `store_dir` ("" = no JetStream), HTTP monitoring on
/// `monitor_port` (0 = off), and `include` of `accounts_file` (the accounts block,
/// e.g. init_dir's nats-accounts.conf; a path relative to the configuration file's
/// directory: nats-server resolves every include from there, absolute ones too).
/// Pure.
std::string server_config(std::string_view host, int port, const std::string& store_dir,
                          const std::string& accounts_file, int monitor_port = 0);

/// One node of a NATS cluster (docs/scaling.md): JetStream needs a unique `server_name`
/// per node; the nodes reach each other over routes on `route_port`, which accept only
/// `route_user`/`route_password` (so no client can pose as a node), and each node is
/// given every node's route URL (its own is ignored by nats-server).
struct ClusterNode {
  std::string cluster = "trader";             ///< the cluster's name, the same on every node
  std::string server_name;                    ///< unique per node, e.g. "n1"
  std::string route_host = "127.0.0.1";
  int route_port = 0;
  std::string route_user = "route";
  std::string route_password;                 ///< shared by the nodes (new_password())
  std::vector<std::string> route_host_ports;  ///< "host:port" of every node's routes
};

/// server_config for a cluster node: the same, plus `server_name` and the `cluster`
/// block of `node`. Throws std::invalid_argument for a node without a name, route port
/// or route password. Pure.
std::string server_config(std::string_view host, int port, const std::string& store_dir,
                          const std::string& accounts_file, const ClusterNode& node, int monitor_port = 0);

/// A new random password: 32 lowercase hex digits from std::random_device (the OS).
std::string new_password();
/// The bcrypt hash ("$2b$<cost>$...") of `password` (libcrypt). Throws
/// std::runtime_error if libcrypt cannot hash (e.g. no bcrypt support).
std::string bcrypt(const std::string& password, int cost = 10);
/// "nats://<user>:<password>@<host_port>" (passwords are hex: nothing to escape).
std::string url(std::string_view host_port, std::string_view user, std::string_view password);

/// Credentials of a deployment kept in directory `dir` (created 0700 if missing):
/// `nats-<user>.password` (0600) per identity, created with new_password() when
/// missing and kept otherwise (re-running keeps every password), and
/// `nats-accounts.conf` (0600), the accounts block with bcrypt hashes, rewritten each
/// time. Returns user -> password.
std::map<std::string, std::string> init_dir(const std::string& dir, const std::vector<Identity>& ids,
                                            int bcrypt_cost = 10);

}  // namespace auth
