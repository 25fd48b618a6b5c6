#include "auth/auth.hpp"
#include "config/files.hpp"

#include <crypt.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

namespace auth {
namespace {

using Strings = std::vector<std::string>;

/// What every TRADING worker may do besides its own subjects.
Permissions worker(std::string_view w, Strings pub, Strings sub) {
  Permissions p;
  p.publish_allow = {fmt::format("ops.heartbeat.{}", w), fmt::format("session.workers.{}", w), "ops.dead_letter",
                     fmt::format("progress.{}", w)};
  p.publish_allow.insert(p.publish_allow.end(), pub.begin(), pub.end());
  // session.lifecycle: a worker announces its manifest again when a session starts.
  p.subscribe_allow = {fmt::format("ops.ping.{}", w), inbox_prefix(w) + ".>", "session.lifecycle"};
  p.subscribe_allow.insert(p.subscribe_allow.end(), sub.begin(), sub.end());
  // Replies, without allow_responses: with it nats-server (2.9) remembers the reply
  // subject of every message the worker receives, and every JetStream delivery has one
  // ($JS.ACK...). Past 4,096 remembered subjects it scans all of them on each delivery,
  // and as nobody answers an ordered consumer's deliveries they stay two minutes: a
  // burst of 45,000 quotes then kept the server busy for minutes, stalling every
  // consumer and the recorder's acknowledgements. A worker answers requests from two
  // places only, so it may publish there: people's requests, which reach TRADING
  // through a service import with a reply subject `_R_.<token>...` the server makes
  // up, and pings from ops and from a replay sandbox, whose inboxes are
  // `_INBOX_ops.>` and `_INBOX_replay.>`. Never another worker's inbox.
  for (auto r : {std::string("_R_.>"), inbox_prefix("ops") + ".>", inbox_prefix("replay") + ".>"})
    p.publish_allow.push_back(std::move(r));
  return p;
}

/// Reading the event log: the stream's info, ephemeral (ordered) consumers, their info
/// (read-only: a log follower asks whether its consumer is stuck, event_log.hpp) and
/// their flow control. Never the recorder's durable, never a delete, purge or update.
void log_reader(Permissions& p, const Deployment& d) {
  const auto& s = d.stream;
  for (auto x : {fmt::format("$JS.API.STREAM.INFO.{}", s), fmt::format("$JS.API.CONSUMER.INFO.{}.*", s),
                 fmt::format("$JS.API.CONSUMER.CREATE.{}", s),
                 fmt::format("$JS.API.CONSUMER.CREATE.{}.*", s), fmt::format("$JS.API.CONSUMER.CREATE.{}.*.>", s),
                 fmt::format("$JS.FC.{}.>", s)})
    p.publish_allow.push_back(std::move(x));
  p.publish_deny.push_back(fmt::format("$JS.API.CONSUMER.CREATE.{}.{}", s, d.recorder_durable));
  p.publish_deny.push_back(fmt::format("$JS.API.CONSUMER.CREATE.{}.{}.>", s, d.recorder_durable));
}

/// A single writer's lease (workers/lease.hpp): key `role` of the leases' bucket and
/// nothing else. Writing it ($KV.<bucket>.<role>: create, renew and delete are all
/// publishes there, acknowledged into the worker's own inbox), reading it (the direct
/// get of that one subject) and the bucket's info (binding, its TTL). Never another
/// role's key, never the bucket's configuration, a purge or a delete of the stream.
void lease_holder(Permissions& p, const Deployment& d, std::string_view role) {
  const auto& b = d.lease_bucket;
  for (auto x : {fmt::format("$KV.{}.{}", b, role), fmt::format("$JS.API.STREAM.INFO.KV_{}", b),
                 fmt::format("$JS.API.DIRECT.GET.KV_{}.$KV.{}.{}", b, b, role)})
    p.publish_allow.push_back(std::move(x));
}

bool valid_operator(std::string_view u) {
  return !u.empty() && u.size() <= 64 && std::all_of(u.begin(), u.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

/// A quoted string for the nats-server configuration (its syntax is JSON-like; our
/// values are subjects, user names and bcrypt hashes: no quotes or backslashes).
std::string q(std::string_view s) {
  if (s.find_first_of("\"\\\n") != std::string_view::npos)
    throw std::invalid_argument(fmt::format("auth: cannot quote {:?} in a server configuration", s));
  return fmt::format("\"{}\"", s);
}

std::string list(const Strings& xs) {
  std::string out = "[";
  for (std::size_t i = 0; i < xs.size(); ++i) out += (i ? ", " : "") + q(xs[i]);
  return out + "]";
}

/// Services TRADING exports for people. The first two carry the sender: each
/// person's account imports "<base>.by.<user>" as "<base>" (desk_imports), so the person
/// publishes on "<base>" and TRADING receives "<base>.by.<user>".
const Strings& services() {
  static const Strings kServices = {"trading.orders.by.*", "risk.management.by.*", "ops.status",
                                    "ops.report", "ops.risk.policy", "ops.sessions", "ops.session",
                                    "ops.session.report"};
  return kServices;
}
/// Streams of events TRADING exports and people import to watch them. None may overlap
/// a service a person imports: a message TRADING exports on trading.orders would reach
/// the person's account and, matching its import of trading.orders, go back into
/// TRADING a second time (a loop nats-server does not break). So people see
/// trading.executions and trading.orders.approved, not trading.orders.
const Strings& streams() {
  static const Strings kStreams = {"market.data.>",   "trading.executions", "trading.orders.approved",
                                   "risk.state",      "performance.>",      "reports.>",
                                   "session.>",       "ops.dead_letter",    "ops.heartbeat.>"};
  return kStreams;
}

void write_private(const std::string& path, const std::string& text) {
  try {
    config::write_file_durably(path, text);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(fmt::format("auth: {}", e.what()));
  }
}

}  // namespace

std::string inbox_prefix(std::string_view user) { return fmt::format("_INBOX_{}", user); }

std::vector<Identity> identities(const Deployment& d) {
  const std::string t(kTradingAccount);
  std::vector<Identity> out;
  auto add = [&](std::string user, std::string account, Permissions p) {
    out.push_back(Identity{std::move(user), std::move(account), std::move(p)});
  };
  {
    Permissions p;
    p.publish_allow = {">"};
    p.subscribe_allow = {">"};
    // No allow_responses: publishing ">" already covers every reply subject, and with it
    // nats-server 2.9 remembers the reply subject ($JS.ACK...) of every JetStream delivery
    // admin receives and, past 4,096 of them (kept 2 minutes), scans them all on each
    // delivery: an ordered consumer read 70,000 messages of a backlog at ~1,400/s with
    // nats-server on a full core (tests/bench/stream_read_bench --auth 1 --reader admin),
    // ~340,000/s without it. Test taps and bootstrap tools read the log as admin.
    add("admin", t, std::move(p));
  }
  {
    // The stream's info: whether it acknowledges publishes (workers/bus.hpp, NatsBus).
    auto p = worker("feed", {"market.data.>"}, {});
    p.publish_allow.push_back(fmt::format("$JS.API.STREAM.INFO.{}", d.stream));
    add("feed", t, std::move(p));
  }
  if (d.replay) {
    auto p = worker("replay", {"market.data.>", "ops.ping.*", "ops.status", "ops.report"}, {});
    p.publish_allow.push_back(fmt::format("$JS.API.STREAM.INFO.{}", d.stream));
    add("replay", t, std::move(p));
  }
  {
    // strategy.external.>: the requests of an external strategy (workers/external_strategy.hpp).
    auto p = worker("strategy", {"trading.orders", "strategy.external.>"}, {"market.data.>", "trading.executions"});
    log_reader(p, d);
    add("strategy", t, std::move(p));
  }
  {
    // The user's own strategy program (docs/strategies.md, "Strategies in any language"):
    // it answers the strategy worker's requests and says nothing else. Its replies go to
    // the reply subject of a request it received, once (allow_responses): never into
    // `_INBOX_strategy.>` at large, where the worker's own log deliveries arrive. The
    // cost that keeps allow_responses from the workers (nats-server remembering the reply
    // subject of every JetStream delivery) does not arise: it gets no JetStream deliveries.
    // Its inbox (`_INBOX_strategy-ext.>`) for a client library's own requests, which
    // it may not publish anyway: subscribing to it is harmless.
    Permissions p;
    p.subscribe_allow = {"strategy.external.>", inbox_prefix("strategy-ext") + ".>"};
    p.allow_responses = true;
    add("strategy-ext", t, std::move(p));
  }
  {
    auto p = worker("risk-state", {"trading.orders.approved", "trading.executions", "risk.state"},
                    {"trading.orders", "trading.orders.by.*", "market.data.>", "trading.executions",
                     "risk.management.by.*"});
    log_reader(p, d);
    lease_holder(p, d, "risk-state");
    add("risk-state", t, std::move(p));
  }
  {
    auto p = worker("execution", {"trading.executions"}, {});
    log_reader(p, d);
    lease_holder(p, d, "execution");
    add("execution", t, std::move(p));
  }
  {
    auto p = worker("reporter", {"performance.metrics", "reports.performance"},
                    {"market.data.>", "trading.executions", "ops.report"});
    log_reader(p, d);  // it follows the log in event-time order
    add("reporter", t, std::move(p));
  }
  {
    auto p = worker("ops", {"session.lifecycle"},
                    {"ops.heartbeat.>", "ops.status", "ops.risk.policy", "ops.sessions", "ops.session",
                     "ops.session.report"});
    log_reader(p, d);  // the dashboard's model follows the log (workers/dashboard.hpp)
    add("ops", t, std::move(p));
  }
  {
    auto p = worker("recorder", {}, {});
    const auto& s = d.stream;
    const auto& c = d.recorder_durable;
    // STREAM.MSG.GET: a sequence its consumer does not deliver is read directly (recorder.hpp).
    for (auto x : {fmt::format("$JS.API.STREAM.INFO.{}", s), fmt::format("$JS.API.STREAM.MSG.GET.{}", s),
                   fmt::format("$JS.API.CONSUMER.INFO.{}.{}", s, c),
                   fmt::format("$JS.API.CONSUMER.DURABLE.CREATE.{}.{}", s, c),
                   fmt::format("$JS.API.CONSUMER.CREATE.{}.{}", s, c),
                   fmt::format("$JS.API.CONSUMER.CREATE.{}.{}.>", s, c),
                   fmt::format("$JS.API.CONSUMER.MSG.NEXT.{}.{}", s, c), fmt::format("$JS.ACK.{}.{}.>", s, c)})
      p.publish_allow.push_back(std::move(x));
    lease_holder(p, d, "recorder");
    add("recorder", t, std::move(p));
  }
  std::set<std::string> taken;
  for (const auto& i : out) taken.insert(i.user);
  auto desk_user = [&](const std::string& u) {
    Permissions p;
    p.publish_allow = {"trading.orders",  "risk.management", "ops.status",  "ops.report",
                       "ops.risk.policy", "ops.sessions",    "ops.session", "ops.session.report"};
    p.subscribe_allow = streams();
    p.subscribe_allow.insert(p.subscribe_allow.begin(), "_INBOX.>");
    add(u, desk_account(u), std::move(p));
  };
  for (const auto& u : d.operators) {
    if (!valid_operator(u))
      throw std::invalid_argument(fmt::format("operator name {:?}: 1-64 characters from a-z 0-9 _ -", u));
    if (!taken.insert(u).second) throw std::invalid_argument(fmt::format("operator name {:?} is taken", u));
    desk_user(u);
  }
  if (d.replay) {
    if (!taken.insert("desk-replay").second) throw std::invalid_argument("operator name \"desk-replay\" is taken");
    desk_user("desk-replay");
  }
  return out;
}

std::string desk_account(std::string_view user) { return fmt::format("{}{}", kDeskAccountPrefix, user); }

std::string accounts_config(const std::vector<Identity>& ids, const std::map<std::string, std::string>& hashes) {
  std::ostringstream o;
  o << "# Generated by `traderctl auth init` (pkg/auth): one user per identity, each with\n"
       "# its own permissions; each person in an account of their own. Regenerate it rather\n"
       "# than edit it. No anonymous user.\n"
       "accounts {\n";
  auto user_line = [&](const Identity& id) {
    const auto h = hashes.find(id.user);
    if (h == hashes.end()) throw std::invalid_argument("auth: no password for " + id.user);
    const auto& p = id.permissions;
    o << "      { user: " << q(id.user) << ", password: " << q(h->second) << ", permissions: {\n"
      << "          publish: { allow: " << list(p.publish_allow);
    if (!p.publish_deny.empty()) o << ", deny: " << list(p.publish_deny);
    o << " }\n          subscribe: { allow: " << list(p.subscribe_allow) << " }\n";
    if (p.allow_responses) o << "          allow_responses: true\n";
    o << "      } }\n";
  };
  o << "  " << kTradingAccount << " {\n    jetstream: enabled\n    users = [\n";
  for (const auto& id : ids)
    if (id.account == kTradingAccount) user_line(id);
  o << "    ]\n    exports = [\n";
  for (const auto& s : services()) o << "      { service: " << q(s) << " }\n";
  for (const auto& s : streams()) o << "      { stream: " << q(s) << " }\n";
  o << "    ]\n  }\n";
  for (const auto& id : ids) {
    if (id.account == kTradingAccount) continue;
    o << "  " << q(id.account) << " {\n    users = [\n";
    user_line(id);
    o << "    ]\n    imports = [\n";
    // The person's sends reach TRADING with their name in the subject (subjects::kByToken).
    for (const auto base : {"trading.orders", "risk.management"})
      o << "      { service: { account: " << kTradingAccount << ", subject: " << q(fmt::format("{}.by.{}", base, id.user))
        << " }, to: " << q(base) << " }\n";
    for (const auto base : {"ops.status", "ops.report", "ops.risk.policy", "ops.sessions", "ops.session",
                             "ops.session.report"})
      o << "      { service: { account: " << kTradingAccount << ", subject: " << q(base) << " } }\n";
    for (const auto& s : streams())
      o << "      { stream: { account: " << kTradingAccount << ", subject: " << q(s) << " } }\n";
    o << "    ]\n  }\n";
  }
  o << "}\n";
  return o.str();
}

std::string server_config(std::string_view host, int port, const std::string& store_dir,
                          const std::string& accounts_file, int monitor_port) {
  std::string out = fmt::format("# nats-server configuration (pkg/auth): every client authenticates, no anonymous user.\n"
                                "listen: {}\n",
                                q(fmt::format("{}:{}", host, port)));
  if (monitor_port > 0) out += fmt::format("http: {}\n", q(fmt::format("{}:{}", host, monitor_port)));
  if (!store_dir.empty()) out += fmt::format("jetstream {{ store_dir: {} }}\n", q(store_dir));
  out += fmt::format("include {}\n", q(accounts_file));
  return out;
}

std::string server_config(std::string_view host, int port, const std::string& store_dir,
                          const std::string& accounts_file, const ClusterNode& node, int monitor_port) {
  if (node.server_name.empty() || node.route_port <= 0 || node.route_password.empty())
    throw std::invalid_argument("auth: a cluster node needs a server_name, a route port and a route password");
  std::string out = fmt::format("server_name: {}\n", q(node.server_name));
  out += server_config(host, port, store_dir, accounts_file, monitor_port);
  out += fmt::format("cluster {{\n  name: {}\n  listen: {}\n  authorization {{ user: {}, password: {} }}\n  routes: [\n",
                     q(node.cluster), q(fmt::format("{}:{}", node.route_host, node.route_port)), q(node.route_user),
                     q(node.route_password));
  for (const auto& hp : node.route_host_ports)
    out += fmt::format("    {}\n", q(fmt::format("nats-route://{}:{}@{}", node.route_user, node.route_password, hp)));
  out += "  ]\n}\n";
  return out;
}

std::string new_password() {
  std::random_device rd;  // the OS's source: credentials, never domain data
  std::string out;
  while (out.size() < 32) out += fmt::format("{:08x}", rd());
  return out.substr(0, 32);
}

std::string bcrypt(const std::string& password, int cost) {
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  if (crypt_gensalt_rn("$2b$", static_cast<unsigned long>(cost), nullptr, 0, salt, sizeof salt) == nullptr)
    throw std::runtime_error(fmt::format("auth: bcrypt salt: {}", std::strerror(errno)));
  crypt_data data{};
  const char* h = crypt_r(password.c_str(), salt, &data);
  if (h == nullptr || h[0] != '$') throw std::runtime_error("auth: bcrypt is not available in libcrypt");
  return h;
}

std::string url(std::string_view host_port, std::string_view user, std::string_view password) {
  return fmt::format("nats://{}:{}@{}", user, password, host_port);
}

std::map<std::string, std::string> init_dir(const std::string& dir, const std::vector<Identity>& ids, int bcrypt_cost) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw std::runtime_error(fmt::format("auth: cannot create {}: {}", dir, ec.message()));
  ::chmod(dir.c_str(), 0700);
  std::map<std::string, std::string> passwords, hashes;
  for (const auto& id : ids) {
    const auto path = fmt::format("{}/nats-{}.password", dir, id.user);
    std::string pw;
    if (std::ifstream in(path); in) std::getline(in, pw);
    if (pw.size() < 16 || pw.find_first_not_of("0123456789abcdef") != std::string::npos) {
      pw = new_password();
      write_private(path, pw + "\n");
    }
    passwords[id.user] = pw;
    hashes[id.user] = bcrypt(pw, bcrypt_cost);
  }
  write_private(dir + "/nats-accounts.conf", accounts_config(ids, hashes));
  return passwords;
}

}  // namespace auth
