#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <pqxx/pqxx>
#include <string>

#include "servers.hpp"

namespace fs = std::filesystem;
using testsupport::NatsServer;
using testsupport::PgServer;
using testsupport::Process;

namespace {

/// Connects to 127.0.0.1:port and returns what the server sends first: up to
/// `n` bytes or the first line ("" on failure).
std::string first_bytes(int port, std::size_t n) {
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{5, 0};
  setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string out;
  if (::connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    char buf[256];
    while (out.size() < n) {
      const auto got = ::recv(s, buf, sizeof buf, 0);
      if (got <= 0) break;
      out.append(buf, static_cast<std::size_t>(got));
      if (out.find('\n') != std::string::npos) break;
    }
  }
  ::close(s);
  return out;
}

bool pid_alive(pid_t pid) { return ::kill(pid, 0) == 0; }

}  // namespace

TEST_CASE("free_tcp_port returns a bindable port", "[testsupport]") {
  const int port = testsupport::free_tcp_port();
  CHECK(port > 0);
  CHECK(port < 65536);
}

TEST_CASE("make_temp_dir creates a fresh 0755 directory", "[testsupport]") {
  const auto a = testsupport::make_temp_dir("ts-test-");
  const auto b = testsupport::make_temp_dir("ts-test-");
  CHECK(a != b);
  struct stat st {};
  REQUIRE(::stat(a.c_str(), &st) == 0);
  CHECK(S_ISDIR(st.st_mode));
  CHECK((st.st_mode & 0777) == 0755);
  fs::remove_all(a);
  fs::remove_all(b);
}

TEST_CASE("source, build and shared data directories are known", "[testsupport]") {
  CHECK(fs::exists(fs::path(testsupport::source_dir()) / "CMakeLists.txt"));
  CHECK(fs::exists(testsupport::build_dir()));
  CHECK(testsupport::shared_data_dir().ends_with("shared/data"));
}

TEST_CASE("Process reports the exit code, environment and output", "[testsupport]") {
  Process p({"sh", "-c", "echo hello $GREETING; echo oops >&2; exit 3"}, {{"GREETING", "world"}});
  CHECK(p.wait() == 3);
  CHECK(p.wait() == 3);
  CHECK_FALSE(p.running());
  CHECK(p.log().find("hello world") != std::string::npos);
  CHECK(p.log().find("oops") != std::string::npos);
}

TEST_CASE("Process terminate stops a running child and reaps it", "[testsupport]") {
  Process p({"sleep", "30"});
  const pid_t pid = p.pid();
  CHECK(p.running());
  CHECK_FALSE(p.wait_for(std::chrono::milliseconds(50)).has_value());
  p.terminate();
  CHECK_FALSE(p.running());
  CHECK(p.wait() == 128 + SIGTERM);
  CHECK_FALSE(pid_alive(pid));
}

TEST_CASE("Process kill_hard sends SIGKILL", "[testsupport]") {
  Process p({"sh", "-c", "trap '' TERM; sleep 30"});
  p.kill_hard();
  CHECK(p.wait() == 128 + SIGKILL);
}

TEST_CASE("Process throws when the program does not exist", "[testsupport]") {
  CHECK_THROWS_WITH(Process({"/nonexistent/program"}), Catch::Contains("exec failed"));
}

TEST_CASE("Process destructor leaves no child behind", "[testsupport]") {
  pid_t pid = -1;
  {
    Process p({"sleep", "30"});
    pid = p.pid();
    REQUIRE(pid_alive(pid));
  }
  CHECK_FALSE(pid_alive(pid));
}

TEST_CASE("NatsServer accepts a TCP connection and sends INFO", "[.integration][testsupport]") {
  NatsServer nats;
  CHECK(nats.anonymous_url() == "nats://127.0.0.1:" + std::to_string(nats.port()));
  CHECK(nats.url().rfind("nats://admin:", 0) == 0);  // with auth (the default): the admin's URL
  CHECK(nats.url("feed").rfind("nats://feed:", 0) == 0);
  const auto info = first_bytes(nats.port(), 5);
  CHECK(info.rfind("INFO ", 0) == 0);
  CHECK(first_bytes(nats.port(), 512).find("\"jetstream\":true") != std::string::npos);
  CHECK(first_bytes(nats.port(), 512).find("\"auth_required\":true") != std::string::npos);
  NatsServer open(true, false);
  CHECK(open.url() == open.anonymous_url());
  CHECK(first_bytes(open.port(), 512).find("\"auth_required\":true") == std::string::npos);
}

TEST_CASE("NatsServer without JetStream does not advertise it", "[.integration][testsupport]") {
  NatsServer nats(false);
  const auto info = first_bytes(nats.port(), 512);
  CHECK(info.rfind("INFO ", 0) == 0);
  CHECK(info.find("\"jetstream\":true") == std::string::npos);
}

TEST_CASE("NatsServer stops and restarts on the same port and its destructor kills it", "[.integration][testsupport]") {
  pid_t pid = -1;
  {
    NatsServer nats;
    const int port = nats.port();
    nats.stop();
    CHECK(first_bytes(port, 4).empty());
    nats.start();
    CHECK(nats.port() == port);
    CHECK(first_bytes(port, 4).rfind("INFO", 0) == 0);
    pid = nats.pid();
    REQUIRE(pid_alive(pid));
  }
  CHECK_FALSE(pid_alive(pid));
}

TEST_CASE("PgServer accepts a pqxx connection to database trader", "[.integration][testsupport]") {
  std::string root;
  pid_t pid = -1;
  {
    PgServer pg;
    pid = pg.pid();
    CHECK(pg.superuser_url().starts_with("postgresql://postgres:"));
    CHECK(pg.superuser_url().ends_with("@127.0.0.1:" + std::to_string(pg.port()) + "/trader"));
    pqxx::connection c(pg.superuser_url());
    pqxx::work w(c);
    CHECK(w.exec("SELECT current_database()")[0][0].as<std::string>() == "trader");
    // Provisioned as a deployment is: SCRAM only, the database owned by trader_owner, migrated.
    CHECK(w.exec("SELECT count(*) FROM pg_hba_file_rules WHERE auth_method <> 'scram-sha-256'")[0][0].as<int>() == 0);
    CHECK(w.exec("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'trader'")[0][0].as<std::string>() ==
          "trader_owner");
    CHECK(w.exec("SELECT count(*) FROM pg_authid WHERE rolname IN ('trader_owner', 'trader_recorder', "
                 "'trader_readonly') AND rolcanlogin AND rolpassword LIKE 'SCRAM-SHA-256$%'")[0][0]
              .as<int>() == 3);
    CHECK(w.exec("SELECT to_regclass('events') IS NOT NULL")[0][0].as<bool>());
    CHECK(w.exec("SELECT current_setting('fsync')")[0][0].as<std::string>() == "on");
    CHECK(w.exec("SELECT current_setting('listen_addresses')")[0][0].as<std::string>() == "127.0.0.1");
  }
  CHECK_FALSE(pid_alive(pid));
}

TEST_CASE("PgServer survives stop and start with its data", "[.integration][testsupport]") {
  PgServer pg;
  {
    pqxx::connection c(pg.owner_url());
    pqxx::work w(c);
    w.exec("CREATE TABLE t (x int); INSERT INTO t VALUES (42)");
    w.commit();
  }
  const int port = pg.port();
  pg.stop();
  CHECK_FALSE(pg.running());
  CHECK_THROWS_AS(pqxx::connection(pg.owner_url()), pqxx::broken_connection);
  pg.start();
  CHECK(pg.port() == port);
  pqxx::connection c(pg.owner_url());
  pqxx::work w(c);
  CHECK(w.exec("SELECT x FROM t")[0][0].as<int>() == 42);
}

TEST_CASE("PgServer creates extra databases", "[.integration][testsupport]") {
  PgServer pg(testsupport::PgSchema::empty);
  pg.create_database("other_db");
  pqxx::connection c(pg.url_for("other_db", testsupport::PgRole::reader));
  CHECK(std::string(c.dbname()) == "other_db");
  pqxx::work w(c);
  CHECK(w.exec("SELECT count(*) FROM events")[0][0].as<int>() == 0);  // migrated, readable by the reader
  pqxx::connection trader(pg.owner_url());
  pqxx::work t(trader);
  CHECK(t.exec("SELECT to_regclass('events') IS NULL")[0][0].as<bool>());  // PgSchema::empty
  CHECK_THROWS_AS(pg.create_database("bad name; DROP"), std::invalid_argument);
}
