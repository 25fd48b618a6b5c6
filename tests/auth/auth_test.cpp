// pkg/auth: the identities of a deployment and the nats-server configuration that
// enforces them. These tests check the permission table itself (who may publish
// what); tests/integration/auth_test.cpp checks that a real nats-server enforces it.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "auth/auth.hpp"
#include "subjects/subjects.hpp"

namespace {

namespace fs = std::filesystem;

bool may_publish(const auth::Identity& id, std::string_view subject) {
  const auto& p = id.permissions;
  const bool allowed = std::any_of(p.publish_allow.begin(), p.publish_allow.end(),
                                   [&](const auto& a) { return subjects::matches(a, subject); });
  const bool denied = std::any_of(p.publish_deny.begin(), p.publish_deny.end(),
                                  [&](const auto& d) { return subjects::matches(d, subject); });
  return allowed && !denied;
}

std::vector<std::string> publishers(const std::vector<auth::Identity>& ids, std::string_view subject) {
  std::vector<std::string> out;
  for (const auto& id : ids)
    if (id.user != "admin" && may_publish(id, subject)) out.push_back(id.user);
  std::sort(out.begin(), out.end());
  return out;
}

using Names = std::vector<std::string>;

}  // namespace

TEST_CASE("each subject has only the publishers the bus contract names", "[auth]") {
  const auto ids = auth::identities({});
  CHECK(publishers(ids, "market.data.EURUSD") == Names{"feed", "replay"});
  CHECK(publishers(ids, "trading.orders") == Names{"desk-replay", "operator", "strategy"});
  CHECK(publishers(ids, "trading.orders.approved") == Names{"risk-state"});
  CHECK(publishers(ids, "risk.state") == Names{"risk-state"});
  CHECK(publishers(ids, "trading.executions") == Names{"execution", "risk-state"});
  CHECK(publishers(ids, "risk.management") == Names{"desk-replay", "operator"});
  CHECK(publishers(ids, "session.lifecycle") == Names{"ops"});
  CHECK(publishers(ids, "performance.metrics") == Names{"reporter"});
  CHECK(publishers(ids, "reports.performance") == Names{"reporter"});
  // Nobody writes another's name: the .by. subjects are written by the server (imports).
  CHECK(publishers(ids, "trading.orders.by.operator").empty());
  CHECK(publishers(ids, "risk.management.by.operator").empty());
  // Heartbeats and manifests only under one's own name.
  CHECK(publishers(ids, "ops.heartbeat.execution") == Names{"execution"});
  CHECK(publishers(ids, "session.workers.recorder") == Names{"recorder"});
}

TEST_CASE("each single writer may write and read its own lease only, no one else may write a lease (issue 15)",
          "[auth]") {
  const auto ids = auth::identities({});
  CHECK(publishers(ids, "$KV.trader_leases.execution") == Names{"execution"});
  CHECK(publishers(ids, "$KV.trader_leases.risk-state") == Names{"risk-state"});
  CHECK(publishers(ids, "$KV.trader_leases.recorder") == Names{"recorder"});
  CHECK(publishers(ids, "$KV.trader_leases.strategy").empty());
  CHECK(publishers(ids, "$JS.API.DIRECT.GET.KV_trader_leases.$KV.trader_leases.execution") == Names{"execution"});
  CHECK(publishers(ids, "$JS.API.DIRECT.GET.KV_trader_leases").empty());  // the any-subject form: no one
  CHECK(publishers(ids, "$JS.API.STREAM.INFO.KV_trader_leases") == Names{"execution", "recorder", "risk-state"});
  // Only admin creates, changes, purges or deletes the bucket.
  for (const auto* api : {"$JS.API.STREAM.CREATE.KV_trader_leases", "$JS.API.STREAM.UPDATE.KV_trader_leases",
                          "$JS.API.STREAM.PURGE.KV_trader_leases", "$JS.API.STREAM.DELETE.KV_trader_leases",
                          "$JS.API.STREAM.MSG.DELETE.KV_trader_leases"}) {
    INFO(api);
    CHECK(publishers(ids, api).empty());
  }
}

TEST_CASE("only admin may purge, delete or reconfigure the stream or delete a consumer", "[auth]") {
  const auto ids = auth::identities({.stream = "EVENTS", .recorder_durable = "recorder"});
  for (const auto* api : {"$JS.API.STREAM.PURGE.EVENTS", "$JS.API.STREAM.DELETE.EVENTS",
                          "$JS.API.STREAM.UPDATE.EVENTS", "$JS.API.STREAM.CREATE.EVENTS",
                          "$JS.API.CONSUMER.DELETE.EVENTS.recorder", "$JS.API.STREAM.MSG.DELETE.EVENTS",
                          "$JS.API.CONSUMER.DURABLE.CREATE.EVENTS.x"}) {
    INFO(api);
    CHECK(publishers(ids, api).empty());
  }
  // Readers of the log create ephemeral consumers; never the recorder's durable.
  for (const auto* w : {"strategy", "risk-state", "execution", "reporter"}) {
    const auto it = std::find_if(ids.begin(), ids.end(), [&](const auto& i) { return i.user == w; });
    REQUIRE(it != ids.end());
    INFO(w);
    CHECK(may_publish(*it, "$JS.API.CONSUMER.CREATE.EVENTS"));
    CHECK(may_publish(*it, "$JS.API.STREAM.INFO.EVENTS"));
    CHECK_FALSE(may_publish(*it, "$JS.API.CONSUMER.CREATE.EVENTS.recorder"));
    CHECK_FALSE(may_publish(*it, "$JS.API.CONSUMER.CREATE.EVENTS.recorder.>"));
    CHECK_FALSE(may_publish(*it, "$JS.ACK.EVENTS.recorder.1.1.1.1.1"));
  }
  CHECK(publishers(ids, "$JS.API.CONSUMER.MSG.NEXT.EVENTS.recorder") == Names{"recorder"});
  CHECK(publishers(ids, "$JS.ACK.EVENTS.recorder.1.5.5.0.1") == Names{"recorder"});
}

TEST_CASE("workers answer people and pings without allow_responses, never into another worker's inbox", "[auth]") {
  // allow_responses makes nats-server 2.9 track the reply subject of every JetStream
  // delivery a worker gets, which a burst turned quadratic (auth.cpp, worker()).
  const auto ids = auth::identities({});
  for (const auto& id : ids) {
    // strategy-ext is no worker: the next test case.
    if (id.account != auth::kTradingAccount || id.user == "admin" || id.user == "strategy-ext") continue;
    INFO(id.user);
    CHECK_FALSE(id.permissions.allow_responses);
    CHECK(may_publish(id, "_R_.aBcDeF.GhIjK"));      // a person's request, through the import
    CHECK(may_publish(id, "_INBOX_ops.x1y2z3"));     // ops pings every worker
    CHECK(may_publish(id, "_INBOX_replay.x1y2z3"));  // so does a replay sandbox
    for (const auto* other : {"_INBOX_execution.x", "_INBOX_risk-state.x", "_INBOX_recorder.x", "_INBOX.x",
                              "_INBOX_operator.x"})
      CHECK_FALSE(may_publish(id, other));
  }
  // Nor admin (it may publish anything anyway): test taps and bootstrap tools read the
  // log as admin, and with it a 70,000-message backlog read at ~1,400 msgs/s
  // (tests/bench/stream_read_bench --auth 1 --reader admin).
  const auto admin = std::find_if(ids.begin(), ids.end(), [](const auto& i) { return i.user == "admin"; });
  REQUIRE(admin != ids.end());
  CHECK_FALSE(admin->permissions.allow_responses);
  // People still get replies: their inbox is theirs, in their own account.
  const auto person = std::find_if(ids.begin(), ids.end(), [](const auto& i) { return i.user == "operator"; });
  REQUIRE(person != ids.end());
  CHECK(std::find(person->permissions.subscribe_allow.begin(), person->permissions.subscribe_allow.end(),
                  "_INBOX.>") != person->permissions.subscribe_allow.end());
}

TEST_CASE("strategy-ext, a user's strategy program, may only answer the strategy worker's requests", "[auth]") {
  const auto ids = auth::identities({});
  const auto ext = std::find_if(ids.begin(), ids.end(), [](const auto& i) { return i.user == "strategy-ext"; });
  REQUIRE(ext != ids.end());
  CHECK(ext->account == auth::kTradingAccount);
  // Its answers go to the reply subject of a request it received, once: nowhere else.
  CHECK(ext->permissions.allow_responses);
  CHECK(ext->permissions.publish_allow.empty());
  for (const auto* subject : {"trading.orders", "trading.orders.approved", "trading.executions", "market.data.EURUSD",
                              "risk.management", "risk.state", "session.lifecycle", "ops.dead_letter",
                              "ops.heartbeat.strategy", "progress.strategy", "strategy.external.js",
                              "_INBOX_strategy.x1y2z3", "$JS.API.STREAM.INFO.EVENTS"}) {
    INFO(subject);
    CHECK_FALSE(may_publish(*ext, subject));
  }
  CHECK(ext->permissions.subscribe_allow == Names{"strategy.external.>", "_INBOX_strategy-ext.>"});
  // The strategy worker asks it; nobody else may.
  CHECK(publishers(ids, "strategy.external.js") == Names{"strategy"});
}

TEST_CASE("every person has an account of their own, names are checked", "[auth]") {
  const auto ids = auth::identities({.operators = {"alice", "bob"}, .replay = false});
  std::vector<std::string> accounts;
  for (const auto& i : ids)
    if (i.account != auth::kTradingAccount) accounts.push_back(i.account);
  CHECK(accounts == Names{"DESK_alice", "DESK_bob"});
  CHECK_THROWS_AS(auth::identities({.operators = {"execution"}}), std::invalid_argument);  // a worker's name
  CHECK_THROWS_AS(auth::identities({.operators = {"Alice"}}), std::invalid_argument);
  CHECK_THROWS_AS(auth::identities({.operators = {"a.b"}}), std::invalid_argument);  // would be a subject token
  CHECK_THROWS_AS(auth::identities({.operators = {""}}), std::invalid_argument);
  CHECK_THROWS_AS(auth::identities({.operators = {std::string(65, 'a')}}), std::invalid_argument);
}

TEST_CASE("the accounts block maps a person's sends to subjects that name them", "[auth]") {
  const auto ids = auth::identities({.operators = {"alice"}, .replay = false});
  std::map<std::string, std::string> pw;
  for (const auto& i : ids) pw[i.user] = "pw-" + i.user;
  const auto conf = auth::accounts_config(ids, pw);
  CHECK(conf.find(R"({ service: { account: TRADING, subject: "trading.orders.by.alice" }, to: "trading.orders" })") !=
        std::string::npos);
  CHECK(conf.find(R"({ service: { account: TRADING, subject: "risk.management.by.alice" }, to: "risk.management" })") !=
        std::string::npos);
  CHECK(conf.find("no_auth_user") == std::string::npos);
  CHECK(conf.find("jetstream: enabled") != std::string::npos);
  pw.erase("alice");
  CHECK_THROWS_AS(auth::accounts_config(ids, pw), std::invalid_argument);
}

TEST_CASE("init_dir keeps passwords across runs, writes them 0600 and only hashes into the config", "[auth]") {
  const auto dir = fs::temp_directory_path() / fs::path("auth-test-" + auth::new_password());
  const auto ids = auth::identities({.operators = {"operator"}, .replay = false});
  const auto first = auth::init_dir(dir.string(), ids, 4);
  const auto second = auth::init_dir(dir.string(), ids, 4);
  CHECK(first == second);
  CHECK(first.size() == ids.size());
  struct stat st {};
  REQUIRE(::stat((dir / "nats-operator.password").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  REQUIRE(::stat((dir / "nats-accounts.conf").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  std::ifstream in(dir / "nats-accounts.conf");
  std::stringstream conf;
  conf << in.rdbuf();
  for (const auto& [user, password] : first) {
    INFO(user);
    CHECK(password.size() == 32);
    CHECK(conf.str().find(password) == std::string::npos);  // only the bcrypt hash
  }
  CHECK(conf.str().find("$2b$04$") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("subjects/README.md lists every identity", "[auth]") {
  std::ifstream in(fs::path(TRADER_SOURCE_DIR) / "subjects" / "README.md");
  std::stringstream readme;
  readme << in.rdbuf();
  const auto text = readme.str();
  const auto section = text.substr(text.find("## Identities"));
  for (const auto& i : auth::identities({})) {
    INFO(i.user);
    CHECK(section.find("| `" + i.user + "`") != std::string::npos);
  }
}
