#include "servers.hpp"

#include "auth/auth.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libpq-fe.h>

#include <random>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <utility>

#include "eventstore/event_store.hpp"
#include "eventstore/research.hpp"

extern char** environ;

namespace testsupport {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

[[noreturn]] void throw_errno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

/// Closes a file descriptor on scope exit.
class Fd {
 public:
  explicit Fd(int fd = -1) noexcept : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const noexcept { return fd_; }
  void reset(int fd = -1) noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

struct UserIds {
  uid_t uid;
  gid_t gid;
  std::vector<gid_t> groups;
};

UserIds lookup_user(const std::string& name) {
  std::vector<char> buf(16384);
  passwd pw{};
  passwd* found = nullptr;
  if (getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found) != 0 || found == nullptr) {
    throw std::runtime_error("testsupport: no such user: " + name);
  }
  UserIds ids{pw.pw_uid, pw.pw_gid, {}};
  int n = 64;
  ids.groups.resize(n);
  if (getgrouplist(name.c_str(), pw.pw_gid, ids.groups.data(), &n) < 0) {
    ids.groups.resize(n);
    getgrouplist(name.c_str(), pw.pw_gid, ids.groups.data(), &n);
  }
  ids.groups.resize(n);
  return ids;
}

std::string env_or(const char* name, std::string fallback) {
  const char* v = std::getenv(name);
  return (v != nullptr && *v != '\0') ? std::string(v) : fallback;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// True when a TCP client on 127.0.0.1:port receives a line starting with "INFO".
/// A TCP connection to 127.0.0.1:port with 1 s send and receive timeouts; an invalid Fd
/// (get() < 0) if it cannot be made.
Fd connect_local(int port) {
  Fd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (s.get() < 0) return s;
  timeval tv{1, 0};
  setsockopt(s.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(s.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return Fd(-1);
  return s;
}

bool nats_says_info(int port) {
  const Fd s = connect_local(port);
  if (s.get() < 0) return false;
  char buf[4];
  std::size_t got = 0;
  while (got < sizeof buf) {
    const ssize_t n = ::recv(s.get(), buf + got, sizeof buf - got, 0);
    if (n <= 0) return false;
    got += static_cast<std::size_t>(n);
  }
  return std::string_view(buf, 4) == "INFO";
}

bool log_says_port_in_use(const std::string& log) {
  return log.find("address already in use") != std::string::npos ||
         log.find("Address already in use") != std::string::npos;
}

/// The body of `GET path` from 127.0.0.1:port (HTTP/1.0, 1 s timeouts); "" if it fails.
std::string http_get_local(int port, const std::string& path) {
  const Fd s = connect_local(port);
  if (s.get() < 0) return "";
  const std::string req = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  if (::send(s.get(), req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) return "";
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::recv(s.get(), buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  const auto body = out.find("\r\n\r\n");
  return body == std::string::npos ? "" : out.substr(body + 4);
}

void remove_tree(const std::string& dir) noexcept {
  if (dir.empty()) return;
  std::error_code ec;
  fs::remove_all(dir, ec);
}

ProcessOptions options(std::vector<std::pair<std::string, std::string>> env, std::string log_path,
                       std::string run_as_user = "", std::string cwd = "", int parent_death_signal = SIGTERM) {
  ProcessOptions o;
  o.env = std::move(env);
  o.log_path = std::move(log_path);
  o.run_as_user = std::move(run_as_user);
  o.cwd = std::move(cwd);
  o.parent_death_signal = parent_death_signal;
  return o;
}

}  // namespace

// ---- free functions -----------------------------------------------------------

int free_tcp_port() {
  Fd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (s.get() < 0) throw_errno("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) throw_errno("bind 127.0.0.1:0");
  socklen_t len = sizeof addr;
  if (::getsockname(s.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) throw_errno("getsockname");
  return ntohs(addr.sin_port);
}

std::string make_temp_dir(std::string_view prefix) {
  std::string base = env_or("TMPDIR", "/tmp");
  while (base.size() > 1 && base.back() == '/') base.pop_back();
  std::string tmpl = base + "/" + std::string(prefix) + "XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) throw_errno("mkdtemp " + tmpl);
  if (::chmod(tmpl.c_str(), 0755) != 0) throw_errno("chmod " + tmpl);
  return tmpl;
}

std::string source_dir() { return TRADER_SOURCE_DIR; }
std::string build_dir() { return TRADER_BUILD_DIR; }

std::string shared_data_dir() {
  const std::string dir = env_or("TRADER_SHARED_DATA", source_dir() + "/../shared/data");
  return fs::path(dir).lexically_normal().string();
}

std::string file_tail(const std::string& path, std::size_t max_lines) {
  std::ifstream in(path);
  std::deque<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    lines.push_back(std::move(line));
    if (lines.size() > max_lines) lines.pop_front();
  }
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

KeyPair make_checkpoint_keys(const std::string& dir) {
  KeyPair k{dir + "/checkpoint.key", dir + "/checkpoint.pub"};
  for (const auto& argv : {std::vector<std::string>{"openssl", "genpkey", "-algorithm", "ed25519", "-out", k.private_key},
                           std::vector<std::string>{"openssl", "pkey", "-in", k.private_key, "-pubout", "-out",
                                                    k.public_key}}) {
    Process p(argv);
    if (p.wait() != 0) throw std::runtime_error("testsupport: " + argv[1] + " failed: " + p.log());
  }
  if (::chmod(k.private_key.c_str(), 0600) != 0) throw_errno("chmod " + k.private_key);
  return k;
}

// ---- Process ------------------------------------------------------------------

Process::Process(std::vector<std::string> argv, std::vector<std::pair<std::string, std::string>> env,
                 std::string log_path)
    : Process(std::move(argv), options(std::move(env), std::move(log_path))) {}

Process::Process(std::vector<std::string> argv, ProcessOptions opt) {
  if (argv.empty()) throw std::runtime_error("testsupport::Process: empty argv");
  if (opt.log_path.empty()) {
    owned_log_dir_ = make_temp_dir("trader-proc-");
    log_path_ = owned_log_dir_ + "/output.log";
  } else {
    log_path_ = opt.log_path;
  }
  try {
    Fd log_fd(::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
    if (log_fd.get() < 0) throw_errno("open log " + log_path_);
    Fd null_fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    if (null_fd.get() < 0) throw_errno("open /dev/null");

    std::optional<UserIds> user;
    if (!opt.run_as_user.empty()) user = lookup_user(opt.run_as_user);

    // Everything the child needs is prepared before fork: after fork only
    // async-signal-safe calls are made.
    std::vector<std::string> env_strings;
    for (char** e = environ; *e != nullptr; ++e) {
      const std::string_view kv(*e);
      const auto key = kv.substr(0, kv.find('='));
      const bool overridden = std::any_of(opt.env.begin(), opt.env.end(),
                                          [&](const auto& p) { return p.first == key; });
      if (!overridden) env_strings.emplace_back(kv);
    }
    for (const auto& [k, v] : opt.env) env_strings.push_back(k + "=" + v);
    std::vector<char*> envp;
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);

    int pipefd[2];
    if (::pipe2(pipefd, O_CLOEXEC) != 0) throw_errno("pipe2");
    Fd rd(pipefd[0]), wr(pipefd[1]);
    const pid_t parent = ::getpid();
    const int death_sig = opt.parent_death_signal;
    const char* cwd = opt.cwd.empty() ? nullptr : opt.cwd.c_str();

    const pid_t pid = ::fork();
    if (pid < 0) throw_errno("fork");
    if (pid == 0) {
      // child: report {stage, errno} on the pipe if anything fails.
      auto fail = [&](int stage) {
        const int msg[2] = {stage, errno};
        [[maybe_unused]] auto n = ::write(wr.get(), msg, sizeof msg);
        ::_exit(127);
      };
      ::setpgid(0, 0);
      sigset_t all;
      sigemptyset(&all);
      ::sigprocmask(SIG_SETMASK, &all, nullptr);
      for (int sig = 1; sig < NSIG; ++sig) {
        if (sig != SIGKILL && sig != SIGSTOP) ::signal(sig, SIG_DFL);
      }
      if (::dup2(null_fd.get(), 0) < 0 || ::dup2(log_fd.get(), 1) < 0 || ::dup2(log_fd.get(), 2) < 0) fail(1);
      if (user) {
        if (::setgroups(user->groups.size(), user->groups.data()) != 0) fail(2);
        if (::setgid(user->gid) != 0) fail(2);
        if (::setuid(user->uid) != 0) fail(2);
      }
      if (cwd != nullptr && ::chdir(cwd) != 0) fail(3);
      // After the credential change, which clears it.
      if (death_sig != 0) {
        if (::prctl(PR_SET_PDEATHSIG, death_sig) != 0) fail(4);
        if (::getppid() != parent) ::_exit(127);  // parent already gone
      }
      ::execvpe(args[0], args.data(), envp.data());
      fail(5);
    }
    pid_ = pid;
    wr.reset();
    int msg[2];
    ssize_t n;
    do {
      n = ::read(rd.get(), msg, sizeof msg);
    } while (n < 0 && errno == EINTR);
    if (n == static_cast<ssize_t>(sizeof msg)) {
      int status = 0;
      ::waitpid(pid_, &status, 0);
      reaped(status);
      static constexpr const char* kStage[] = {"", "redirect", "set user", "chdir", "prctl", "exec"};
      throw std::runtime_error("testsupport::Process: " + std::string(kStage[msg[0]]) + " failed for " +
                               argv[0] + ": " + std::strerror(msg[1]));
    }
  } catch (...) {
    remove_tree(owned_log_dir_);
    throw;
  }
}

Process::~Process() {
  terminate();
  remove_tree(owned_log_dir_);
}

void Process::reaped(int status) noexcept {
  reaped_ = true;
  if (WIFEXITED(status)) {
    exit_code_ = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    exit_code_ = 128 + WTERMSIG(status);
  } else {
    exit_code_ = -1;
  }
}

int Process::wait() {
  while (!reaped_) {
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, 0);
    if (r == pid_) {
      reaped(status);
    } else if (r < 0 && errno != EINTR) {
      reaped_ = true;  // not our child any more (should not happen)
      exit_code_ = -1;
    }
  }
  return exit_code_;
}

std::optional<int> Process::wait_for(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (running()) {
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(5ms);
  }
  return exit_code_;
}

bool Process::running() {
  if (reaped_) return false;
  int status = 0;
  const pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    reaped(status);
    return false;
  }
  if (r < 0 && errno == ECHILD) {
    reaped_ = true;
    return false;
  }
  return true;
}

void Process::signal(int sig) noexcept {
  if (!reaped_ && pid_ > 0) ::kill(pid_, sig);
}

void Process::terminate(std::chrono::milliseconds grace) noexcept {
  if (reaped_ || pid_ <= 0) return;
  signal(SIGTERM);
  try {
    if (wait_for(grace)) return;
  } catch (...) {
  }
  kill_hard();
}

void Process::kill_hard() noexcept {
  if (reaped_ || pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &status, 0);
  } while (r < 0 && errno == EINTR);
  if (r == pid_) {
    reaped(status);
  } else {
    reaped_ = true;
  }
}

std::string Process::log() const { return read_file(log_path_); }

// ---- NatsServer ---------------------------------------------------------------

NatsServer::NatsServer(bool jetstream, bool auth) : jetstream_(jetstream), auth_(auth) {
  dir_ = make_temp_dir("trader-nats-");
  log_path_ = dir_ + "/nats-server.log";
  try {
    if (auth_) passwords_ = auth::init_dir(dir_ + "/creds", auth::identities(auth::Deployment{}), 4);
    launch();
  } catch (...) {
    proc_.reset();
    remove_tree(dir_);
    throw;
  }
}

NatsServer::~NatsServer() {
  stop();
  remove_tree(dir_);
}

std::string NatsServer::anonymous_url() const { return "nats://127.0.0.1:" + std::to_string(port_); }

std::string NatsServer::url() const { return auth_ ? url("admin") : anonymous_url(); }

std::string NatsServer::url(std::string_view user) const {
  return auth::url("127.0.0.1:" + std::to_string(port_), user, passwords_.at(std::string(user)));
}

pid_t NatsServer::pid() const noexcept { return proc_ ? proc_->pid() : -1; }

std::string NatsServer::log_tail(std::size_t max_lines) const { return file_tail(log_path_, max_lines); }

void NatsServer::stop() noexcept {
  if (proc_) proc_->terminate();
  proc_.reset();
}

void NatsServer::start() {
  if (!proc_) launch();
}

void NatsServer::launch() {
  const bool first = port_ == 0;
  const std::string binary = env_or("TRADER_NATS_SERVER", "nats-server");
  for (int attempt = 0;; ++attempt) {
    if (first) port_ = free_tcp_port();
    std::vector<std::string> argv{binary, "-a", "127.0.0.1", "-p", std::to_string(port_)};
    if (auth_) {
      const auto conf = dir_ + "/nats-server.conf";
      std::ofstream(conf) << auth::server_config("127.0.0.1", port_, jetstream_ ? dir_ : "",
                                                 "creds/nats-accounts.conf");
      argv = {binary, "-c", conf};
    } else if (jetstream_) {
      argv.insert(argv.end(), {"-js", "-sd", dir_});
    }
    const auto log_start = fs::exists(log_path_) ? fs::file_size(log_path_) : 0;
    proc_ = std::make_unique<Process>(argv, options({}, log_path_, "", dir_));
    const auto deadline = Clock::now() + 10s;
    bool ready = false;
    while (Clock::now() < deadline) {
      if (!proc_->running()) break;
      if (nats_says_info(port_)) {
        ready = true;
        break;
      }
      std::this_thread::sleep_for(20ms);
    }
    if (ready) return;
    const bool exited = !proc_->running();
    proc_->terminate();
    proc_.reset();
    const std::string this_run = read_file(log_path_).substr(log_start);
    if (first && exited && log_says_port_in_use(this_run) && attempt < 3) continue;
    throw std::runtime_error("nats-server on port " + std::to_string(port_) +
                             (exited ? " exited during startup" : " did not accept connections within 10 s") +
                             "; log tail:\n" + file_tail(log_path_));
  }
}

// ---- NatsCluster ----------------------------------------------------------------

NatsCluster::NatsCluster(int nodes) {
  if (nodes < 1) throw std::invalid_argument("NatsCluster: at least one node");
  dir_ = make_temp_dir("trader-nats-cluster-");
  try {
    passwords_ = auth::init_dir(dir_ + "/creds", auth::identities(auth::Deployment{}), 4);
    const std::string route_password = auth::new_password();
    nodes_.resize(static_cast<std::size_t>(nodes));
    std::vector<std::string> routes;
    for (int i = 0; i < nodes; ++i) {
      auto& n = nodes_[static_cast<std::size_t>(i)];
      n.name = "n" + std::to_string(i + 1);
      n.dir = dir_ + "/" + n.name;
      fs::create_directories(n.dir);
      n.log_path = n.dir + "/nats-server.log";
      n.port = free_tcp_port();
      n.route_port = free_tcp_port();
      n.monitor_port = free_tcp_port();
      routes.push_back("127.0.0.1:" + std::to_string(n.route_port));
    }
    for (auto& n : nodes_) {
      auth::ClusterNode c;
      c.server_name = n.name;
      c.route_port = n.route_port;
      c.route_password = route_password;
      c.route_host_ports = routes;
      n.conf = n.dir + "/nats-server.conf";
      // the accounts block is shared (nats-server resolves an include from the file's dir)
      std::ofstream(n.conf) << auth::server_config("127.0.0.1", n.port, n.dir + "/js", "../creds/nats-accounts.conf", c,
                                                   n.monitor_port);
    }
    for (auto& n : nodes_) launch(n);
    // JetStream in a cluster answers once its meta group has a leader: nats-server's
    // /healthz says "ok" only then (and once its streams and consumers are current).
    for (int i = 0; i < nodes; ++i)
      if (!wait_healthy(i))
        throw std::runtime_error("nats cluster: " + server_name(i) + " not healthy within 30 s; log tail:\n" + log_tail(i));
  } catch (...) {
    for (auto& n : nodes_) n.proc.reset();
    remove_tree(dir_);
    throw;
  }
}

NatsCluster::~NatsCluster() {
  for (auto& n : nodes_) n.proc.reset();  // ~Process: SIGTERM, SIGKILL after 5 s, reap
  remove_tree(dir_);
}

std::string NatsCluster::url(std::string_view user) const {
  std::string out;
  for (int i = 0; i < size(); ++i) {
    if (!out.empty()) out += ',';
    out += node_url(i, user);
  }
  return out;
}

std::string NatsCluster::node_url(int i, std::string_view user) const {
  return auth::url("127.0.0.1:" + std::to_string(port(i)), user, passwords_.at(std::string(user)));
}

std::string NatsCluster::server_name(int i) const { return nodes_.at(static_cast<std::size_t>(i)).name; }

int NatsCluster::index_of(std::string_view name) const noexcept {
  for (int i = 0; i < size(); ++i)
    if (nodes_[static_cast<std::size_t>(i)].name == name) return i;
  return -1;
}

pid_t NatsCluster::pid(int i) const noexcept {
  const auto& n = nodes_.at(static_cast<std::size_t>(i));
  return n.proc ? n.proc->pid() : -1;
}

bool NatsCluster::running(int i) const noexcept { return nodes_.at(static_cast<std::size_t>(i)).proc != nullptr; }

void NatsCluster::stop(int i) noexcept {
  auto& n = nodes_.at(static_cast<std::size_t>(i));
  if (n.proc) n.proc->terminate();
  n.proc.reset();
}

void NatsCluster::kill(int i) noexcept {
  auto& n = nodes_.at(static_cast<std::size_t>(i));
  if (n.proc) n.proc->kill_hard();
  n.proc.reset();
}

void NatsCluster::start(int i) {
  auto& n = nodes_.at(static_cast<std::size_t>(i));
  if (!n.proc) launch(n);
}

bool NatsCluster::wait_healthy(int i, std::chrono::milliseconds timeout) const {
  const auto& n = nodes_.at(static_cast<std::size_t>(i));
  const auto deadline = Clock::now() + timeout;
  while (http_get_local(n.monitor_port, "/healthz").find("\"ok\"") == std::string::npos) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(50ms);
  }
  return true;
}

std::string NatsCluster::log_tail(int i, std::size_t max_lines) const {
  return file_tail(nodes_.at(static_cast<std::size_t>(i)).log_path, max_lines);
}

void NatsCluster::launch(Node& n) {
  const std::string binary = env_or("TRADER_NATS_SERVER", "nats-server");
  n.proc = std::make_unique<Process>(std::vector<std::string>{binary, "-c", n.conf}, options({}, n.log_path, "", n.dir));
  const auto deadline = Clock::now() + 10s;
  while (Clock::now() < deadline) {
    if (!n.proc->running()) break;
    if (nats_says_info(n.port)) return;
    std::this_thread::sleep_for(20ms);
  }
  const bool exited = !n.proc->running();
  n.proc.reset();
  throw std::runtime_error("nats-server " + n.name + " on port " + std::to_string(n.port) +
                           (exited ? " exited during startup" : " did not accept connections within 10 s") +
                           "; log tail:\n" + file_tail(n.log_path));
}

// ---- PgServer -----------------------------------------------------------------

std::string PgServer::bin_dir() {
  if (const char* env = std::getenv("TRADER_PG_BIN"); env != nullptr && *env != '\0') return env;
  std::string best;
  int best_version = -1;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    const std::string name = entry.path().filename().string();
    char* end = nullptr;
    const long v = std::strtol(name.c_str(), &end, 10);
    if (end == name.c_str() || *end != '\0') continue;
    if (!fs::exists(entry.path() / "bin" / "postgres")) continue;
    if (v > best_version) {
      best_version = static_cast<int>(v);
      best = (entry.path() / "bin").string();
    }
  }
  if (best.empty()) {
    throw std::runtime_error("testsupport: no PostgreSQL found in /usr/lib/postgresql/*/bin (set TRADER_PG_BIN)");
  }
  return best;
}

namespace {

/// 48 random hex digits (as `openssl rand -hex 24`).
std::string random_password() {
  std::random_device rd;
  std::string out;
  for (int i = 0; i < 48; ++i) out += "0123456789abcdef"[rd() % 16];
  return out;
}

/// Writes `text` to a new file of mode 0600 (owned by `owner` when set).
void write_secret(const std::string& path, const std::string& text, const std::optional<UserIds>& owner) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (fd.get() < 0) throw_errno("open " + path);
  if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) throw_errno("write " + path);
  if (owner && ::fchown(fd.get(), owner->uid, owner->gid) != 0) throw_errno("chown " + path);
}

}  // namespace

std::string PgServer::role_name(PgRole role) {
  switch (role) {
    case PgRole::superuser: return "postgres";
    case PgRole::owner: return "trader_owner";
    case PgRole::writer: return "trader_recorder";
    case PgRole::reader: return "trader_readonly";
  }
  return "";
}

PgServer::PgServer(PgSchema schema) {
  for (auto& pw : passwords_) pw = random_password();
  root_ = make_temp_dir("trader-pg-");
  data_dir_ = root_ + "/data";
  sock_dir_ = root_ + "/sock";
  log_path_ = root_ + "/postgres.log";
  try {
    for (const auto& d : {data_dir_, sock_dir_}) {
      if (::mkdir(d.c_str(), 0700) != 0) throw_errno("mkdir " + d);
    }
    if (::geteuid() == 0) {
      // initdb and postgres refuse to run as root. We drop to `postgres` in the
      // forked child rather than use runuser, whose watching parent would hide
      // the postmaster PID and turn our SIGINT (fast) into SIGTERM (smart).
      run_as_ = "postgres";
      const UserIds pg = lookup_user(run_as_);
      for (const auto& d : {data_dir_, sock_dir_}) {
        if (::chown(d.c_str(), pg.uid, pg.gid) != 0) throw_errno("chown " + d);
      }
    }
    // The superuser's password for initdb; every pg_hba.conf line is scram-sha-256.
    const std::string pwfile = root_ + "/superuser.password";
    write_secret(pwfile, passwords_[static_cast<int>(PgRole::superuser)],
                 run_as_.empty() ? std::nullopt : std::optional<UserIds>(lookup_user(run_as_)));
    const std::string initdb_log = root_ + "/initdb.log";
    {
      Process initdb({bin_dir() + "/initdb", "-D", data_dir_, "-U", "postgres", "--auth=scram-sha-256",
                      "--pwfile=" + pwfile, "-E", "UTF8", "--locale=C", "-N"},
                     options({{"LC_ALL", "C"}}, initdb_log, run_as_, root_));
      const auto code = initdb.wait_for(120s);
      if (code != 0) {
        initdb.terminate();
        throw std::runtime_error("initdb failed (" + (code ? "exit " + std::to_string(*code) : "timeout") +
                                 "); log tail:\n" + file_tail(initdb_log));
      }
    }
    ::unlink(pwfile.c_str());
    launch();
    create_database("trader", schema);
  } catch (...) {
    stop();
    remove_tree(root_);
    throw;
  }
}

PgServer::~PgServer() {
  stop();
  remove_tree(root_);
}

pid_t PgServer::pid() const noexcept { return proc_ ? proc_->pid() : -1; }

std::string PgServer::log_tail(std::size_t max_lines) const { return file_tail(log_path_, max_lines); }

std::string PgServer::url_for(std::string_view db, PgRole role) const {
  return "postgresql://" + role_name(role) + ":" + passwords_[static_cast<int>(role)] + "@127.0.0.1:" +
         std::to_string(port_) + "/" + std::string(db);
}

void PgServer::create_database(std::string_view name, PgSchema schema) {
  const bool plain = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
  if (!plain) throw std::invalid_argument("PgServer::create_database: not a plain identifier: " + std::string(name));
  // roles.sql, through psql, as deploy/local/lib.sh and the compose image run it.
  const std::string log = root_ + "/roles-" + std::string(name) + ".log";
  Process psql({bin_dir() + "/psql", "-X", "-q", "-h", "127.0.0.1", "-p", std::to_string(port_), "-U", "postgres",
                "-d", "postgres", "-f", source_dir() + "/pkg/eventstore/roles.sql"},
               options({{"PGPASSWORD", passwords_[static_cast<int>(PgRole::superuser)]},
                        {"TRADER_PG_DB", std::string(name)},
                        {"TRADER_PG_OWNER_PASSWORD", passwords_[static_cast<int>(PgRole::owner)]},
                        {"TRADER_PG_WRITER_PASSWORD", passwords_[static_cast<int>(PgRole::writer)]},
                        {"TRADER_PG_READER_PASSWORD", passwords_[static_cast<int>(PgRole::reader)]}},
                       log));
  const auto code = psql.wait_for(60s);
  if (code != 0) {
    psql.terminate();
    throw std::runtime_error("PgServer: roles.sql for database " + std::string(name) + " failed; log tail:\n" +
                             file_tail(log));
  }
  if (schema == PgSchema::migrated) {
    eventstore::migrate(url_for(name, PgRole::owner));
    eventstore::migrate_research(url_for(std::string(name) + "_research", PgRole::owner));
  }
}

void PgServer::stop() noexcept {
  if (!proc_) return;
  proc_->signal(SIGINT);  // fast shutdown: abort transactions, close connections, checkpoint
  try {
    if (!proc_->wait_for(60s)) {
      proc_->signal(SIGQUIT);  // immediate shutdown
      if (!proc_->wait_for(5s)) proc_->kill_hard();
    }
  } catch (...) {
    proc_->kill_hard();
  }
  proc_.reset();
}

void PgServer::start() {
  if (!proc_) launch();
}

void PgServer::launch() {
  const bool first = port_ == 0;
  for (int attempt = 0;; ++attempt) {
    if (first) port_ = free_tcp_port();
    const auto log_start = fs::exists(log_path_) ? fs::file_size(log_path_) : 0;
    proc_ = std::make_unique<Process>(
        std::vector<std::string>{bin_dir() + "/postgres", "-D", data_dir_, "-c", "listen_addresses=127.0.0.1", "-c",
                                 "port=" + std::to_string(port_), "-c", "unix_socket_directories=" + sock_dir_},
        options({{"LC_ALL", "C"}}, log_path_, run_as_, root_, SIGQUIT));
    try {
      wait_ready(30s);
      return;
    } catch (const std::runtime_error&) {
      const bool exited = !proc_->running();
      proc_->kill_hard();
      proc_.reset();
      const std::string this_run = read_file(log_path_).substr(log_start);
      if (first && exited && log_says_port_in_use(this_run) && attempt < 3) continue;
      throw;
    }
  }
}

void PgServer::wait_ready(std::chrono::seconds timeout) {
  const std::string conninfo =
      "host=127.0.0.1 port=" + std::to_string(port_) + " user=postgres dbname=postgres connect_timeout=2";
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (!proc_->running()) {
      throw std::runtime_error("postgres on port " + std::to_string(port_) + " exited during startup; log tail:\n" +
                               file_tail(log_path_));
    }
    if (PQping(conninfo.c_str()) == PQPING_OK) return;
    std::this_thread::sleep_for(20ms);
  }
  throw std::runtime_error("postgres on port " + std::to_string(port_) + " not ready within " +
                           std::to_string(timeout.count()) + " s; log tail:\n" + file_tail(log_path_));
}

// ---------------------------------------------------------------- TcpProxy

TcpProxy::TcpProxy(int target_port) : target_port_(target_port) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) throw std::system_error(errno, std::generic_category(), "TcpProxy: socket");
  const int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listen_fd_, 16) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    const int e = errno;
    ::close(listen_fd_);
    throw std::system_error(e, std::generic_category(), "TcpProxy: listen");
  }
  port_ = ntohs(addr.sin_port);
  if (::pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) {
    const int e = errno;
    ::close(listen_fd_);
    throw std::system_error(e, std::generic_category(), "TcpProxy: pipe");
  }
  thread_ = std::thread([this] { loop(); });
}

TcpProxy::~TcpProxy() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  (void)!::write(wake_[1], "x", 1);
  thread_.join();
  ::close(listen_fd_);
  ::close(wake_[0]);
  ::close(wake_[1]);
}

void TcpProxy::cut() {
  {
    std::lock_guard lock(mu_);
    cut_ = true;
    cut_pending_ = true;
  }
  (void)!::write(wake_[1], "x", 1);
  // Wait until the thread has closed every connection.
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (!cut_pending_) return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

void TcpProxy::restore() {
  std::lock_guard lock(mu_);
  cut_ = false;
}

int TcpProxy::accepted() const {
  std::lock_guard lock(mu_);
  return accepted_;
}

void TcpProxy::loop() {
  struct Pair {
    int client, server;
  };
  std::vector<Pair> pairs;
  auto close_all = [&] {
    for (const auto& p : pairs) {
      ::close(p.client);
      ::close(p.server);
    }
    pairs.clear();
  };
  for (;;) {
    bool cut = false;
    {
      std::lock_guard lock(mu_);
      if (stop_) break;
      cut = cut_;
      if (cut_pending_) {
        close_all();
        cut_pending_ = false;
      }
    }
    std::vector<pollfd> fds{{listen_fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    for (const auto& p : pairs) {
      fds.push_back({p.client, POLLIN, 0});
      fds.push_back({p.server, POLLIN, 0});
    }
    if (::poll(fds.data(), fds.size(), 200) < 0 && errno != EINTR) break;
    if (fds[1].revents != 0) {
      char buf[64];
      while (::read(wake_[0], buf, sizeof buf) > 0) {
      }
    }
    if (fds[0].revents & POLLIN) {
      const int c = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c >= 0) {
        if (cut) {
          ::close(c);  // refused while cut
        } else {
          const int srv = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
          sockaddr_in addr{};
          addr.sin_family = AF_INET;
          addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
          addr.sin_port = htons(static_cast<std::uint16_t>(target_port_));
          if (srv >= 0 && ::connect(srv, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
            pairs.push_back({c, srv});
            std::lock_guard lock(mu_);
            ++accepted_;
          } else {
            if (srv >= 0) ::close(srv);
            ::close(c);
          }
        }
      }
    }
    // Forward what arrived; a closed side closes the pair. (Blocking writes: loopback,
    // and a test's traffic is small enough for the socket buffers.)
    std::vector<std::size_t> dead;
    for (std::size_t i = 0; i < pairs.size(); ++i) {
      const auto& from_client = fds[2 + 2 * i];
      const auto& from_server = fds[3 + 2 * i];
      bool ok = true;
      auto pump = [&](int from, int to) {
        char buf[65536];
        const auto n = ::read(from, buf, sizeof buf);
        if (n <= 0) return false;
        for (ssize_t off = 0; off < n;) {
          const auto w = ::write(to, buf + off, static_cast<std::size_t>(n - off));
          if (w <= 0) return false;
          off += w;
        }
        return true;
      };
      if (from_client.revents & (POLLIN | POLLHUP | POLLERR)) ok = pump(pairs[i].client, pairs[i].server);
      if (ok && (from_server.revents & (POLLIN | POLLHUP | POLLERR))) ok = pump(pairs[i].server, pairs[i].client);
      if (!ok) dead.push_back(i);
    }
    for (auto it = dead.rbegin(); it != dead.rend(); ++it) {
      ::close(pairs[*it].client);
      ::close(pairs[*it].server);
      pairs.erase(pairs.begin() + static_cast<std::ptrdiff_t>(*it));
    }
  }
  close_all();
}

}  // namespace testsupport
