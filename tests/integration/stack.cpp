#include "stack.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <regex>

#include <fmt/format.h>

#include "codec/codec.hpp"
#include "workers/recorder.hpp"
#include "subjects/subjects.hpp"

namespace itest {

natsio::Library& nats_library() {
  static natsio::Library lib;
  return lib;
}

std::string bin(const std::string& name) { return testsupport::build_dir() + "/cmd/" + name; }

Stack::Stack(std::vector<std::pair<std::string, std::string>> extra_env)
    : nats_(std::make_unique<testsupport::NatsServer>()),
      dir_(testsupport::make_temp_dir("trader-stack-")),
      keys_(testsupport::make_checkpoint_keys(dir_)) {
  init(std::move(extra_env), 1);
}

Stack::Stack(int nats_nodes, std::vector<std::pair<std::string, std::string>> extra_env)
    : nats_(nats_nodes > 1 ? nullptr : std::make_unique<testsupport::NatsServer>()),
      cluster_(nats_nodes > 1 ? std::make_unique<testsupport::NatsCluster>(nats_nodes) : nullptr),
      dir_(testsupport::make_temp_dir("trader-stack-")),
      keys_(testsupport::make_checkpoint_keys(dir_)) {
  init(std::move(extra_env), std::min(nats_nodes, 3));
}

testsupport::NatsServer& Stack::nats() {
  if (!nats_) throw std::logic_error("this stack runs on a NATS cluster: use cluster()");
  return *nats_;
}

testsupport::NatsCluster& Stack::cluster() {
  if (!cluster_) throw std::logic_error("this stack runs on one nats-server: use nats()");
  return *cluster_;
}

void Stack::init(std::vector<std::pair<std::string, std::string>> extra_env, int replicas) {
  env_ = {{"NATS_URL", nats_url("operator")},
          {"DATABASE_URL", pg_.reader_url()},
          {"TRADER_WRITER_DATABASE_URL", pg_.writer_url()},
          {"TRADER_CHECKPOINT_FILE", checkpoint_file()},
          {"TRADER_CHECKPOINT_PUBKEY", keys_.public_key},
          {"HEARTBEAT_MS", "200"}};
  env_.insert(env_.end(), extra_env.begin(), extra_env.end());
  // The admin's bootstrap: nobody may publish before the stream and the recorder's consumer exist.
  natsio::Connection admin({.url = nats_url(), .name = "test-admin"});
  services::bootstrap_event_stream(admin, services::EventStreamConfig{.replicas = replicas});
}

void Stack::start(std::vector<std::string> workers) {
  order_ = std::move(workers);
  for (const auto& w : order_) {
    workers_[w] = std::make_unique<testsupport::Process>(std::vector<std::string>{bin(w)},
                                                         w == "recorder" ? recorder_env() : env_for(w),
                                                         dir_ + "/" + w + ".log");
  }
  std::vector<std::string> argv{bin("traderctl"), "wait-ready", "--timeout-s", "30"};
  argv.insert(argv.end(), order_.begin(), order_.end());
  std::string out;
  if (run(argv, &out) != 0) {
    std::string logs;
    for (const auto& [n, p] : workers_) logs += "--- " + n + "\n" + p->log();
    throw std::runtime_error("workers not ready: " + out + "\n" + logs);
  }
}

void Stack::restart(const std::string& name) {
  // Its "ready (...)" records (JSON lines, obs/log.hpp: "msg":"ready (nats://...)").
  auto count_ready = [](const std::string& log) {
    constexpr std::string_view kReady = "\"msg\":\"ready (";
    std::size_t n = 0;
    for (auto at = log.find(kReady); at != std::string::npos; at = log.find(kReady, at + 1)) ++n;
    return n;
  };
  const auto before = workers_[name] ? count_ready(workers_[name]->log()) : 0;
  workers_[name].reset();
  workers_[name] = std::make_unique<testsupport::Process>(std::vector<std::string>{bin(name)},
                                                          name == "recorder" ? recorder_env() : env_for(name),
                                                          dir_ + "/" + name + ".log");
  // The killed instance's last heartbeat still counts as alive for a moment: wait
  // for the NEW instance's "ready" line (it rebuilds its state first).
  for (int i = 0; i < 600 && count_ready(workers_[name]->log()) <= before; ++i) {
    if (!workers_[name]->running()) throw std::runtime_error(name + " exited after restart: " + workers_[name]->log());
    usleep(50'000);
  }
  std::string out;
  if (run({bin("traderctl"), "wait-ready", "--timeout-s", "30", name}, &out) != 0)
    throw std::runtime_error(name + " not ready after restart: " + out + "\n" + workers_[name]->log());
}

Stack::~Stack() {
  for (auto it = order_.rbegin(); it != order_.rend(); ++it) workers_.erase(*it);  // strategy first, recorder last
  // The workers' logs stay when a REQUIRE is unwinding the test, or on request
  // (TRADER_KEEP_TEST_DIRS=1); otherwise the directory goes, so runs leave nothing.
  const char* keep = std::getenv("TRADER_KEEP_TEST_DIRS");
  if (std::uncaught_exceptions() > 0 || (keep && *keep && std::string_view(keep) != "0")) {
    std::fprintf(stderr, "stack: logs kept in %s\n", dir_.c_str());
    return;
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::vector<std::pair<std::string, std::string>> Stack::env() const { return env_; }

std::vector<std::pair<std::string, std::string>> Stack::env_for(const std::string& user) const {
  auto env = env_;
  for (auto& [k, v] : env)
    if (k == "NATS_URL") v = nats_url(user);
  return env;
}

std::vector<std::pair<std::string, std::string>> Stack::recorder_env() const {
  auto env = env_for("recorder");
  for (auto& [k, v] : env)
    if (k == "DATABASE_URL") v = pg_.writer_url();
  env.emplace_back("RECORDER_CHECKPOINT_KEY", keys_.private_key);
  env.emplace_back("RECORDER_CHECKPOINT_FILE", checkpoint_file());
  return env;
}

int Stack::run(const std::vector<std::string>& argv, std::string* output) const {
  return run_as("operator", argv, output);
}

int Stack::run_as(const std::string& user, const std::vector<std::string>& argv, std::string* output) const {
  static int n = 0;
  const auto log = dir_ + "/run-" + std::to_string(++n) + ".log";
  testsupport::Process p(argv, env_for(user), log);
  const int rc = p.wait();
  if (output) *output = p.log();
  return rc;
}

StreamTap::StreamTap(const std::string& admin_url, std::string stream)
    : conn_({.url = admin_url, .name = "test-stream-tap"}) {
  sub_ = std::make_unique<natsio::OrderedSubscription>(conn_, stream, 1, [this](const natsio::StreamMessage& m) {
    std::lock_guard lock(mu_);
    msgs_.push_back({m.seq, std::string(m.subject), std::string(m.data)});
  });
}

std::vector<StreamTap::Msg> StreamTap::wait_for(std::size_t n) const {
  for (int i = 0; i < 300; ++i) {
    {
      std::lock_guard lock(mu_);
      if (msgs_.size() >= n) return msgs_;
    }
    usleep(100'000);
  }
  std::lock_guard lock(mu_);
  return msgs_;
}

Tap::Tap(const std::string& nats_url) : conn_({.url = nats_url, .name = "test-tap"}) {
  for (const auto subject : subjects::kCapturedSubjects) {
    subs_.push_back(std::make_unique<natsio::Subscription>(conn_, subject, [this](const natsio::Message& m) {
      std::lock_guard lock(mu_);
      msgs_.push_back({std::string(m.subject), std::string(m.data)});
    }));
  }
  conn_.flush();
}

std::string Tap::wait_for(const std::string& subject, const std::vector<std::string>& needles) const {
  for (int i = 0; i < 200; ++i) {
    for (const auto& m : messages()) {
      if (m.subject != subject) continue;
      bool all = true;
      for (const auto& n : needles) all = all && m.data.find(n) != std::string::npos;
      if (all) return m.data;
    }
    usleep(50'000);
  }
  return {};
}

std::vector<Tap::Msg> Tap::messages() const {
  std::lock_guard lock(mu_);
  return msgs_;
}

std::size_t Tap::size() const {
  std::lock_guard lock(mu_);
  return msgs_.size();
}

std::map<std::string, std::int64_t> Tap::count_by_subject() const {
  std::lock_guard lock(mu_);
  std::map<std::string, std::int64_t> out;
  for (const auto& m : msgs_) ++out[m.subject];
  return out;
}

std::int64_t wait_recorded(const Stack& stack, eventstore::EventStore& store) {
  natsio::Connection conn({.url = stack.nats_url(), .name = "test-js"});
  natsio::JetStream js(conn);
  std::int64_t last = -1, count = -1;
  for (int i = 0; i < 600; ++i) {
    last = static_cast<std::int64_t>(js.last_sequence("EVENTS"));
    count = store.count();
    if (count == last) return last;
    usleep(100'000);
  }
  // Where each stands, for the post-mortem: the stream's range and leader, the store's newest msg_id.
  std::string where;
  try {
    const auto st = js.stream_state("EVENTS");
    where = fmt::format("; stream {}..{} ({} messages, leader {:?}), store's newest {}", st.first_seq, st.last_seq,
                        st.msgs, st.leader, store.last_msg_id("EVENTS:").value_or("none"));
  } catch (const std::exception& e) {
    where = std::string("; ") + e.what();
  }
  throw std::runtime_error("recorder did not catch up: store " + std::to_string(count) + ", stream " +
                           std::to_string(last) + where);
}

std::vector<eventstore::StoredEvent> read_all(eventstore::EventStore& store) {
  std::vector<eventstore::StoredEvent> out;
  for (std::int64_t after = 0;;) {
    auto page = store.read(after, 10'000);
    if (page.empty()) return out;
    after = page.back().position;
    for (auto& e : page) out.push_back(std::move(e));
  }
}

int http_port_of(Stack& stack, const std::string& worker) {
  static const std::regex re(R"(health and metrics on http://127\.0\.0\.1:(\d+)/)");
  const auto log = stack.worker(worker).log();
  int port = 0;  // the newest instance's: a restarted worker appends to the same log
  for (auto it = std::sregex_iterator(log.begin(), log.end(), re); it != std::sregex_iterator(); ++it)
    port = std::stoi((*it)[1]);
  if (port == 0) throw std::runtime_error(worker + " did not say its HTTP port:\n" + log);
  return port;
}

std::string password_of(const std::string& url) {
  const auto user_end = url.find(':', url.find("://") + 3);
  return url.substr(user_end + 1, url.rfind('@') - user_end - 1);
}

NodeRun run_node(const Stack& stack, const std::string& script, const std::vector<std::pair<std::string, std::string>>& env) {
  testsupport::Process node({"node", testsupport::source_dir() + "/tests/js/" + script}, env,
                            stack.dir() + "/" + script + ".log");
  const int rc = node.wait();
  return {rc, node.log()};
}

std::string worker_status(const Stack& stack, const std::string& worker) {
  std::string out;
  if (const int rc = stack.run({bin("traderctl"), "status", "--json"}, &out); rc != 0 && rc != 1)
    return fmt::format("traderctl status exited {}: {}", rc, out);
  const auto st = codec::decode_ops_status(out);
  if (!st) return "bad ops.status: " + out;
  for (const auto& w : st->workers)
    if (w.worker == worker && w.alive) return w.status;
  return worker + " not alive in ops.status: " + out;
}

bool payload_has(const std::string& payload, const std::string& key, const std::string& value) {
  return payload.find(fmt::format(R"("{}": "{}")", key, value)) != std::string::npos ||
         payload.find(fmt::format(R"("{}":"{}")", key, value)) != std::string::npos;
}

}  // namespace itest
