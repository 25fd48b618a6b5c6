#include "tooling/sandbox.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <thread>
#include <tuple>
#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "auth/auth.hpp"
#include "codec/codec.hpp"
#include "workers/recorder.hpp"
#include "subjects/subjects.hpp"

extern char** environ;

namespace services {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

std::string file_tail(const std::string& path, std::size_t max_lines) {
  std::ifstream in(path);
  std::deque<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    lines.push_back(std::move(line));
    if (lines.size() > max_lines) lines.pop_front();
  }
  std::string out;
  for (const auto& l : lines) out += "    " + l + "\n";
  return out;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

int free_tcp_port() {
  const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) throw SandboxError(fmt::format("socket: {}", std::strerror(errno)));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  const bool ok = ::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
                  ::getsockname(s, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  const int err = errno;
  ::close(s);
  if (!ok) throw SandboxError(fmt::format("no free port on 127.0.0.1: {}", std::strerror(err)));
  return ntohs(addr.sin_port);
}

/// True when a TCP client on 127.0.0.1:port receives "INFO" (nats-server is up).
bool nats_says_info(int port) {
  const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return false;
  timeval tv{1, 0};
  setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  char buf[4];
  std::size_t got = 0;
  if (::connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    while (got < sizeof buf) {
      const ssize_t n = ::recv(s, buf + got, sizeof buf - got, 0);
      if (n <= 0) break;
      got += static_cast<std::size_t>(n);
    }
  }
  ::close(s);
  return got == sizeof buf && std::string_view(buf, 4) == "INFO";
}

std::string make_temp_dir() {
  const char* t = std::getenv("TMPDIR");
  std::string tmpl = std::string(t && *t ? t : "/tmp") + "/trader-sandbox-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) throw SandboxError(fmt::format("mkdtemp {}: {}", tmpl, std::strerror(errno)));
  return tmpl;
}

}  // namespace

std::string random_hex(int digits) {
  std::random_device rd;  // ids and stream names are metadata, never domain data
  std::string out;
  while (static_cast<int>(out.size()) < digits) out += fmt::format("{:08x}", rd());
  return out.substr(0, static_cast<std::size_t>(digits));
}

/// "<kind>-20261121T093015Z-1a2b", as ops names live sessions.
std::string new_session_id(const std::string& kind) {
  const auto secs = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{}-{:04}{:02}{:02}T{:02}{:02}{:02}Z-{}", kind, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, random_hex(4));
}

std::string executable_dir() {
  std::error_code ec;
  const auto exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) throw SandboxError("cannot read /proc/self/exe: " + ec.message());
  return exe.parent_path().string();
}

// ---- ChildProcess ---------------------------------------------------------------

ChildProcess::ChildProcess(std::string name, std::vector<std::string> argv,
                           const std::vector<std::pair<std::string, std::string>>& env, std::string log_path)
    : name_(std::move(name)), log_path_(std::move(log_path)) {
  if (argv.empty()) throw SandboxError(name_ + ": empty command");
  // Everything the child needs is prepared before fork (only async-signal-safe calls after it).
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view kv(*e);
    const auto key = kv.substr(0, kv.find('='));
    bool overridden = false;
    for (const auto& [k, v] : env) overridden = overridden || k == key;
    if (!overridden) env_strings.emplace_back(kv);
  }
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp, args;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  for (auto& s : argv) args.push_back(s.data());
  args.push_back(nullptr);

  const int log_fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) throw SandboxError(fmt::format("{}: cannot open log {}: {}", name_, log_path_, std::strerror(errno)));
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  int err_pipe[2];
  if (null_fd < 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0) {
    ::close(log_fd);
    if (null_fd >= 0) ::close(null_fd);
    throw SandboxError(fmt::format("{}: pipe: {}", name_, std::strerror(errno)));
  }
  const pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ == 0) {
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(127);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::dup2(null_fd, 0);
    ::dup2(log_fd, 1);
    ::dup2(log_fd, 2);
    if (std::strchr(args[0], '/') != nullptr) ::execve(args[0], args.data(), envp.data());
    else {
      environ = envp.data();
      ::execvp(args[0], args.data());
    }
    const int e = errno;
    (void)!::write(err_pipe[1], &e, sizeof e);
    ::_exit(127);
  }
  const int fork_errno = errno;
  ::close(err_pipe[1]);
  ::close(log_fd);
  ::close(null_fd);
  if (pid_ < 0) {
    ::close(err_pipe[0]);
    throw SandboxError(fmt::format("{}: fork: {}", name_, std::strerror(fork_errno)));
  }
  int child_errno = 0;
  const auto n = ::read(err_pipe[0], &child_errno, sizeof child_errno);
  ::close(err_pipe[0]);
  if (n == sizeof child_errno) {
    ::waitpid(pid_, nullptr, 0);
    code_ = 127;
    throw SandboxError(fmt::format("{}: cannot run {}: {}", name_, argv[0], std::strerror(child_errno)));
  }
}

ChildProcess::~ChildProcess() { terminate(); }

std::optional<int> ChildProcess::exit_code() noexcept {
  if (!code_ && pid_ > 0) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_)
      code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  return code_;
}

bool ChildProcess::running() noexcept { return !exit_code().has_value(); }

std::optional<int> ChildProcess::wait_for(std::chrono::milliseconds timeout) noexcept {
  const auto deadline = SteadyClock::now() + timeout;
  while (running()) {
    if (SteadyClock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(10ms);
  }
  return code_;
}

void ChildProcess::signal(int sig) noexcept {
  if (running()) ::kill(pid_, sig);
}

void ChildProcess::terminate(std::chrono::milliseconds grace) noexcept {
  if (!running()) return;
  ::kill(pid_, SIGTERM);
  if (wait_for(grace)) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  code_ = 128 + SIGKILL;
}

std::string ChildProcess::log_tail(std::size_t lines) const { return file_tail(log_path_, lines); }

// ---- Sandbox ----------------------------------------------------------------------

Sandbox::Sandbox(SandboxConfig cfg) : cfg_(std::move(cfg)) {
  if (cfg_.database_url.empty()) throw SandboxError("sandbox: DATABASE_URL is not set");
  if (cfg_.kind != "replay" && cfg_.kind != "backtest")
    throw SandboxError("sandbox: kind must be replay or backtest, got " + cfg_.kind);
  for (const auto& w : cfg_.workers)
    if (!fs::exists(cfg_.bin_dir + "/" + w))
      throw SandboxError(fmt::format("sandbox: no {} binary in {} (set TRADER_BIN_DIR)", w, cfg_.bin_dir));
  dir_ = make_temp_dir();
  stream_ = "SBX" + random_hex(16);
  session_id_ = new_session_id(cfg_.kind);
  try {
    // Authentication as every deployment runs (pkg/auth): each worker its own
    // identity, no anonymous user. Throwaway credentials, so bcrypt's cheapest cost.
    const auto ids = auth::identities(auth::Deployment{.stream = stream_});
    passwords_ = auth::init_dir(dir_ + "/creds", ids, 4);
    // nats-server with JetStream on a free port; retry when another process takes the port first.
    for (int attempt = 0;; ++attempt) {
      const int port = free_tcp_port();
      const auto log = dir_ + "/nats-server.log";
      const auto log_start = fs::exists(log) ? fs::file_size(log) : 0;
      const auto conf = dir_ + "/nats-server.conf";
      std::ofstream(conf) << auth::server_config("127.0.0.1", port, dir_ + "/jetstream", "creds/nats-accounts.conf");
      nats_ = std::make_unique<ChildProcess>("nats-server", std::vector<std::string>{cfg_.nats_server, "-c", conf},
                                             std::vector<std::pair<std::string, std::string>>{}, log);
      const auto deadline = SteadyClock::now() + std::chrono::milliseconds(cfg_.ready_timeout_ms);
      bool up = false;
      while (!up && nats_->running() && SteadyClock::now() < deadline) {
        up = nats_says_info(port);
        if (!up) std::this_thread::sleep_for(20ms);
      }
      if (up) {
        host_port_ = fmt::format("127.0.0.1:{}", port);
        nats_url_ = "nats://" + host_port_;
        break;
      }
      const bool exited = !nats_->running();
      nats_->terminate();
      const auto this_run = read_file(log).substr(log_start);
      if (exited && this_run.find("already in use") != std::string::npos && attempt < 3) continue;
      throw SandboxError(fmt::format("sandbox: nats-server {}; log tail:\n{}",
                                     exited ? "exited during startup" : "did not accept connections",
                                     nats_->log_tail()));
    }
    {  // the admin's bootstrap: the stream and the recorder's consumer before anyone publishes
      natsio::Connection admin(natsio::NatsConfig{
          .url = nats_url("admin"), .name = "traderctl-sandbox-admin", .max_reconnect = 0, .connect_retry_ms = 0});
      bootstrap_event_stream(admin, EventStreamConfig{.stream = stream_});
    }
    env_ = {{"DATABASE_URL", cfg_.database_url},
            {"HEARTBEAT_MS", std::to_string(cfg_.heartbeat_ms)},
            {"RECORDER_STREAM", stream_},
            {"RISK_STREAM", stream_},
            {"EXECUTION_STREAM", stream_},
            {"OPS_STREAM", stream_},
            {"FEED_STREAM", stream_},
            {"STRATEGY_STREAM", stream_},
            {"REPORTER_STREAM", stream_},
            {"TRADER_SESSION", session_id_},
            {"OPS_SESSION_KIND", cfg_.kind},
            {"OPS_SESSION_SOURCE", cfg_.source_session},
            {"OPS_SESSION_DATA", cfg_.data_source},
            {"OPS_SESSION_INPUT_SET", cfg_.input_set},
            {"RECORDER_INPUT_DIGESTS", cfg_.input_set.empty() ? "" : dir_ + "/input-digests.txt"},
            {"RECORDER_INPUT_STATE", cfg_.input_set.empty() ? "" : dir_ + "/recorder-inputs.state"},
            {"RECORDER_CHECKPOINT_KEY", ""},
            {"RECORDER_CHECKPOINT_FILE", ""}};
    if (!cfg_.instruments_csv.empty()) {  // the configured instruments and those derived from the data
      const auto path = dir_ + "/instruments.csv";
      std::ofstream out(path);
      out << cfg_.instruments_csv;
      if (!out.flush()) throw SandboxError("sandbox: cannot write " + path);
      env_.emplace_back("TRADER_INSTRUMENTS", path);
    }
    env_.insert(env_.end(), cfg_.env.begin(), cfg_.env.end());
    // The replay tool: market data, pings and ops requests as `replay` (TRADING);
    // replayed people's orders and commands as `desk-replay` (DESK), which stamps them.
    conn_ = std::make_unique<natsio::Connection>(natsio::NatsConfig{.url = nats_url("replay"),
                                                                    .name = "traderctl-sandbox",
                                                                    .send_asap = false,
                                                                    .max_reconnect = 0,
                                                                    .connect_retry_ms = 0,
                                                                    .inbox_prefix = auth::inbox_prefix("replay")});
    desk_ = std::make_unique<natsio::Connection>(natsio::NatsConfig{.url = nats_url("desk-replay"),
                                                                    .name = "traderctl-sandbox-desk",
                                                                    .send_asap = false,
                                                                    .max_reconnect = 0,
                                                                    .connect_retry_ms = 0});
    if (!cfg_.input_set.empty()) {  // what the recorder leaves to the input set (RecorderConfig::input_digests)
      std::ofstream digests(dir_ + "/input-digests.txt", std::ios::trunc);
      for (const auto& d : cfg_.input_digests) digests << d << '\n';
      if (!digests.flush()) throw SandboxError("sandbox: cannot write " + dir_ + "/input-digests.txt");
    }
    if (!cfg_.strategy_cmd.empty()) {
      // The user's program: its own identity and nothing of the sandbox's environment or
      // credentials (least privilege); inherited variables that hold secrets are emptied.
      std::vector<std::pair<std::string, std::string>> env;
      for (char** e = environ; *e != nullptr; ++e) {
        const std::string_view kv(*e);
        const std::string key(kv.substr(0, kv.find('=')));
        if (key.find("DATABASE_URL") != std::string::npos || key == "PGPASSWORD" || key == "RECORDER_CHECKPOINT_KEY")
          env.emplace_back(key, "");
      }
      env.insert(env.end(), cfg_.strategy_cmd_env.begin(), cfg_.strategy_cmd_env.end());
      env.emplace_back("NATS_URL", nats_url("strategy-ext"));
      strategy_cmd_ = std::make_unique<ChildProcess>("strategy-cmd",
                                                     std::vector<std::string>{"/bin/sh", "-c", cfg_.strategy_cmd}, env,
                                                     dir_ + "/strategy-cmd.log");
    }
    for (const auto& w : cfg_.workers) start_worker(w);
    wait_ready();
  } catch (...) {
    stop_all();
    throw;
  }
}

Sandbox::~Sandbox() { stop_all(); }

void Sandbox::stop_all() noexcept {
  stop_workers();
  workers_.clear();
  strategy_cmd_.reset();  // after the strategy worker, which asks it
  js_.reset();
  desk_.reset();
  conn_.reset();
  if (nats_) nats_->terminate();
  nats_.reset();
  if (!dir_.empty()) {
    // TRADER_SANDBOX_KEEP=1 keeps the sandbox's logs and nats-server store for a post-mortem.
    const char* keep = std::getenv("TRADER_SANDBOX_KEEP");
    if (keep != nullptr && std::string_view(keep) == "1") {
      fmt::print(stderr, "sandbox: kept {}\n", dir_);
      return;
    }
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
}

ChildProcess* Sandbox::find(const std::string& name) {
  for (auto& w : workers_)
    if (w->name() == name) return w.get();
  return nullptr;
}

std::vector<std::pair<std::string, std::string>> Sandbox::env_for(const std::string& name) const {
  auto env = env_;
  env.emplace_back("NATS_URL", nats_url(name));
  if (name == "recorder" || cfg_.reader_database_url.empty()) return env;
  for (auto& [k, v] : env)
    if (k == "DATABASE_URL") v = cfg_.reader_database_url;
  return env;
}

std::string Sandbox::nats_url(const std::string& identity) const {
  return auth::url(host_port_, identity, passwords_.at(identity));
}

void Sandbox::start_worker(const std::string& name) {
  workers_.push_back(std::make_unique<ChildProcess>(name, std::vector<std::string>{cfg_.bin_dir + "/" + name},
                                                    env_for(name), dir_ + "/" + name + ".log"));
  // ops opens the session (session.started): wait for it before anyone publishes,
  // so that every worker's first event (risk-state's start-up state and policy) is
  // inside the session. (The stream and the recorder's consumer exist already.)
  if (name != "ops") return;
  auto& w = *workers_.back();
  const auto deadline = SteadyClock::now() + std::chrono::milliseconds(cfg_.ready_timeout_ms);
  // Its "ready (...)" record: a JSON line (obs/log.hpp, the default) or, with LOG_FORMAT=text, "ops: ready (".
  const auto ready = [&] {
    const auto log = read_file(w.log_path());
    return log.find("\"msg\":\"ready (") != std::string::npos || log.find(name + ": ready (") != std::string::npos;
  };
  while (!ready()) {
    check_alive();
    if (SteadyClock::now() >= deadline)
      throw SandboxError(fmt::format("sandbox: {} not ready; log tail:\n{}", name, w.log_tail()));
    std::this_thread::sleep_for(20ms);
  }
}

void Sandbox::check_alive() {
  if (nats_ && !nats_->running())
    throw SandboxError(fmt::format("sandbox: nats-server exited (code {}); log tail:\n{}", *nats_->exit_code(),
                                   nats_->log_tail()));
  for (auto& w : workers_)
    if (!w->running())
      throw SandboxError(fmt::format("sandbox: worker {} exited (code {}); log tail ({}):\n{}", w->name(),
                                     *w->exit_code(), w->log_path(), w->log_tail()));
  if (strategy_cmd_ && !strategy_cmd_->running())
    throw SandboxError(fmt::format("sandbox: the strategy program (--strategy-cmd {:?}) exited (code {}); log tail:\n{}",
                                   cfg_.strategy_cmd, *strategy_cmd_->exit_code(), strategy_cmd_->log_tail()));
}

namespace {
/// The stacks of every thread of process `pid` (gdb -batch, at most 30 s), for a worker
/// that does not become ready: where it waits. "" when gdb is not installed.
std::string thread_stacks(pid_t pid) {
  if (::access("/usr/bin/gdb", X_OK) != 0 || ::access("/usr/bin/timeout", X_OK) != 0) return {};
  const auto cmd = fmt::format("/usr/bin/timeout 30 /usr/bin/gdb -p {} -batch -ex 'thread apply all bt' 2>&1", pid);
  std::unique_ptr<FILE, int (*)(FILE*)> p(::popen(cmd.c_str(), "r"), ::pclose);
  if (!p) return {};
  std::string out;
  char buf[4096];
  while (const auto n = std::fread(buf, 1, sizeof buf, p.get())) out.append(buf, n);
  // The frames only: gdb's chatter about symbols and threads is noise here.
  std::string frames;
  std::size_t at = 0;
  while (at < out.size()) {
    const auto end = std::min(out.find('\n', at), out.size());
    const std::string_view line(out.data() + at, end - at);
    if (line.starts_with("Thread ") || line.starts_with("#")) frames.append(line).push_back('\n');
    at = end + 1;
  }
  return frames;
}
}  // namespace

void Sandbox::wait_ready() {
  const auto deadline = SteadyClock::now() + std::chrono::milliseconds(cfg_.ready_timeout_ms);
  codec::Decoder dec;
  std::set<std::string> missing;
  for (;;) {
    check_alive();
    missing = {cfg_.workers.begin(), cfg_.workers.end()};
    try {
      if (auto st = codec::decode_ops_status(conn_->request(subjects::kOpsStatus, "", 1'000)))
        for (const auto& w : st->workers)
          if (w.alive) missing.erase(w.worker);
    } catch (const natsio::NatsError&) {  // ops not up yet
    }
    if (missing.empty()) return;
    if (SteadyClock::now() >= deadline) break;
    std::this_thread::sleep_for(50ms);
  }
  std::string logs;
  for (const auto& m : missing)
    if (auto* w = find(m)) {
      logs += fmt::format("--- {} ({}):\n{}", m, w->log_path(), w->log_tail());
      if (const auto stacks = thread_stacks(w->pid()); !stacks.empty())
        logs += fmt::format("--- {}: where its threads wait (gdb):\n{}", m, stacks);
    }
  throw SandboxError(fmt::format("sandbox: workers not ready after {} ms: {}\n{}", cfg_.ready_timeout_ms,
                                 fmt::join(missing, ", "), logs));
}

int Sandbox::run(const std::string& program, const std::vector<std::string>& args, const std::atomic<bool>* stop) {
  std::vector<std::string> argv{cfg_.bin_dir + "/" + program};
  argv.insert(argv.end(), args.begin(), args.end());
  ChildProcess p(program, argv, env_for(program), dir_ + "/" + program + ".log");
  for (;;) {
    if (auto code = p.wait_for(100ms)) {
      if (*code != 0)
        throw SandboxError(fmt::format("sandbox: {} failed (code {}); log tail:\n{}", program, *code, p.log_tail()));
      return 0;
    }
    check_alive();
    if (stop && *stop) {
      p.terminate();
      return *p.exit_code();
    }
  }
}

void Sandbox::wait_idle(std::int64_t quiet_ms, std::int64_t timeout_ms) {
  const auto start = SteadyClock::now();
  const auto deadline = start + std::chrono::milliseconds(timeout_ms);
  std::map<std::string, std::pair<std::int64_t, std::int64_t>> last;
  auto quiet_since = start;
  while (SteadyClock::now() < deadline) {
    check_alive();
    std::map<std::string, std::pair<std::int64_t, std::int64_t>> now;
    auto st = codec::decode_ops_status(conn_->request(subjects::kOpsStatus, "", 2'000));
    if (!st) throw SandboxError("sandbox: bad ops.status reply: " + st.error().to_string());
    for (const auto& w : st->workers)
      if (w.alive && w.worker != "ops") now[w.worker + "/" + w.instance] = {w.msgs_in, w.msgs_out};
    const auto t = SteadyClock::now();
    if (now != last) {
      last = std::move(now);
      quiet_since = t;
    } else if (t - quiet_since >= std::chrono::milliseconds(quiet_ms)) {
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(std::max<std::int64_t>(cfg_.heartbeat_ms / 2, 20)));
  }
  throw SandboxError(fmt::format("sandbox: pipeline still busy after {} ms", timeout_ms));
}

core::Heartbeat Sandbox::ping(const std::string& worker, std::int64_t timeout_ms) {
  const auto reply = conn_->request(subjects::ops_ping(worker), "", timeout_ms);
  auto hb = codec::decode_heartbeat(reply);
  if (!hb) throw SandboxError(fmt::format("sandbox: bad ops.ping reply from {}: {}", worker, hb.error().to_string()));
  return *hb;
}

// Why two quiet rounds mean "nothing in flight" (the lock-step barrier).
//
// Core NATS keeps the order of messages per connection, and each worker handles
// everything (subscriptions, its stream consumer, pings) on one delivery thread
// in arrival order, publishing on one connection. So:
// - An input published on conn_ before a ping on conn_ is delivered to a worker
//   before that ping; the pong therefore comes after the worker handled it.
// - A message M that worker A published before its pong of round r reached the
//   server before that pong, so the server queued M for every subscriber B
//   before we received A's pong, hence before we sent B's ping of round r+1:
//   B has handled M when it answers round r+1.
// Suppose rounds r and r+1 return the same msgs_in/msgs_out/errors for every
// worker. A message published before A's round-r pong and handled by B only
// after B's round-r pong would have raised B's msgs_in by round r+1; one
// published after A's round-r pong would have raised A's msgs_out. Neither
// happened, so no core message between the workers is in flight.
// The JetStream push to the four log followers (strategy, risk-state, execution,
// reporter) is not ordered with core pings (the stream stores and pushes on its own
// schedule), hence their log_seq: the stream's last sequence read after the pongs,
// equal in both rounds and equal to the log_seq each reported, means each has handled
// everything the stream holds (their
// consumers are unfiltered, so they see every stream message, their own reports and
// the reporter's metrics included). Every recorded message is on the
// stream, so the next input is stored after all derived events of this one.
// What remains unordered is the stream's own inbound queue: a message the server
// has queued for the stream but not stored yet is not in last_sequence. The two
// rounds make that window small, not zero (see docs/architecture.md).
std::uint64_t Sandbox::wait_quiescent(std::int64_t timeout_ms) {
  static constexpr const char* kTradingPath[] = {"strategy", "risk-state", "execution", "reporter"};
  std::vector<std::string> workers;
  for (const auto* w : kTradingPath)
    if (find(w)) workers.emplace_back(w);
  if (!js_) js_ = std::make_unique<natsio::JetStream>(*conn_);
  struct Round {
    std::vector<std::tuple<std::int64_t, std::int64_t, std::int64_t>> counters;
    std::uint64_t last_seq = 0;
    std::vector<std::uint64_t> log_seqs;  ///< of the log followers (all four)
    bool operator==(const Round&) const = default;
  };
  std::optional<Round> prev;
  int behind = 0;  // rounds in a row that found a worker behind the stream
  const auto deadline = SteadyClock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    Round r;
    for (const auto& w : workers) {
      core::Heartbeat hb;
      try {
        hb = ping(w, 5'000);
      } catch (const natsio::NatsError& e) {
        check_alive();
        throw SandboxError(fmt::format("sandbox: barrier: {} does not answer ops.ping: {}", w, e.what()));
      }
      r.counters.emplace_back(hb.msgs_in, hb.msgs_out, hb.errors);
      r.log_seqs.push_back(hb.log_seq);  // all four follow the log
    }
    r.last_seq = js_->last_sequence(stream_);
    ++rounds_;
    const bool caught_up =
        std::all_of(r.log_seqs.begin(), r.log_seqs.end(), [&](std::uint64_t s) { return s == r.last_seq; });
    if (caught_up && prev && *prev == r) return r.last_seq;
    if (SteadyClock::now() >= deadline) {
      check_alive();
      throw SandboxError(fmt::format("sandbox: pipeline not quiescent after {} ms (stream at {}, strategy, "
                                     "risk-state, execution and reporter at {})",
                                     timeout_ms, r.last_seq, fmt::join(r.log_seqs, ", ")));
    }
    if (caught_up) {
      prev = std::move(r);
      behind = 0;
    } else {
      prev.reset();
      // Still working: ask again soon, but not in a tight loop whose pings take CPU from
      // the workers it waits for (two cores; the end of a full-speed backtest of 62,875
      // quotes: traderctl 1.1 -> 0.7 CPU s, nats-server 4.1 -> 3.0-3.7). A lock-step
      // barrier usually passes within the first rounds, before any pause.
      if (++behind > 2) std::this_thread::sleep_for(std::chrono::milliseconds(std::min(20, 1 << (behind - 3))));
    }
  }
}

void Sandbox::restart(const std::string& name) {
  auto it = std::find_if(workers_.begin(), workers_.end(), [&](const auto& w) { return w->name() == name; });
  if (it == workers_.end()) throw SandboxError("sandbox: restart: no worker " + name);
  (*it)->signal(SIGKILL);
  if (!(*it)->wait_for(10s)) throw SandboxError("sandbox: restart: " + name + " did not die of SIGKILL");
  const auto log = (*it)->log_path();
  { std::ofstream(log, std::ios::app) << "---- sandbox: SIGKILLed; starting again ----\n"; }
  *it = std::make_unique<ChildProcess>(name, std::vector<std::string>{cfg_.bin_dir + "/" + name}, env_for(name), log);
  const auto deadline = SteadyClock::now() + std::chrono::milliseconds(cfg_.ready_timeout_ms);
  for (;;) {
    check_alive();
    try {
      ping(name, 500);
      return;
    } catch (const natsio::NatsError&) {  // not subscribed yet: rebuilding
    }
    if (SteadyClock::now() >= deadline)
      throw SandboxError(fmt::format("sandbox: restarted {} not ready after {} ms; log tail:\n{}", name,
                                     cfg_.ready_timeout_ms, (*it)->log_tail()));
    std::this_thread::sleep_for(20ms);  // "no responders" comes back at once
  }
}

std::string Sandbox::report(std::int64_t timeout_ms) { return conn_->request(subjects::kOpsReport, "", timeout_ms); }

void Sandbox::finish(eventstore::EventStore& store, std::int64_t timeout_ms, bool quiescent) {
  const auto deadline = SteadyClock::now() + std::chrono::milliseconds(timeout_ms);
  // After wait_quiescent nothing is in flight on the trading path, and 600 ms of quiet
  // would add nothing but 0.6-1 s to every run.
  if (!quiescent) wait_idle(600, timeout_ms);
  if (auto* ops = find("ops")) {
    ops->signal(SIGTERM);  // publishes session.ended
    if (!ops->wait_for(10s)) throw SandboxError("sandbox: ops did not stop; log tail:\n" + ops->log_tail());
  }
  // The other workers stop next, all at once (what they publish as they stop, their
  // last progress markers, is on the stream too); the recorder last, once the store's
  // newest "<stream>:<seq>" reaches the stream's last sequence: it stored everything.
  auto* rec = find("recorder");
  for (const auto& w : workers_)
    if (w.get() != rec) w->signal(SIGTERM);
  for (const auto& w : workers_)
    if (w.get() != rec) w->terminate();
  natsio::JetStream js(*conn_);
  const std::string prefix = stream_ + ":";
  std::uint64_t last = 0, stored = 0;
  for (;;) {
    last = js.last_sequence(stream_);
    const auto id = store.last_msg_id(prefix);
    stored = id ? std::stoull(id->substr(prefix.size())) : 0;
    if (stored >= last) break;
    if (rec && !rec->running())
      throw SandboxError(fmt::format("sandbox: recorder exited (code {}) with {} of {} events stored; log tail:\n{}",
                                     *rec->exit_code(), stored, last, rec->log_tail()));
    if (SteadyClock::now() >= deadline)
      throw SandboxError(fmt::format("sandbox: recorder stored {} of {} events in time; log tail:\n{}", stored, last,
                                     rec ? rec->log_tail() : ""));
    std::this_thread::sleep_for(10ms);  // one indexed lookup per round
  }
  stop_workers();
  workers_.clear();
  strategy_cmd_.reset();
}

void Sandbox::stop_workers() noexcept {
  // All asked at once, then each waited for: their orderly stops overlap.
  for (auto it = workers_.rbegin(); it != workers_.rend(); ++it) (*it)->signal(SIGTERM);
  for (auto it = workers_.rbegin(); it != workers_.rend(); ++it) (*it)->terminate();
}

}  // namespace services
