// Issue 11, "Forgery" and "Risk bypass": the bus is authenticated (pkg/auth). Each
// case once worked with no credentials at all; now it is sent as a person would send
// it (the operator, over the raw NATS protocol, as `nats pub` does), as a worker that
// does not own the subject, or anonymously, and the real nats-server refuses it. The
// store stays consistent and `traderctl verify` passes; what a person may do (halt,
// resume, send an order) still works and records who did it.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include <fmt/format.h>

#include "codec/codec.hpp"
#include "stack.hpp"

namespace {

using namespace std::chrono_literals;

/// A minimal client of the NATS text protocol (what `nats pub` sends), with
/// verbose acknowledgements: each PUB is answered by +OK or by -ERR with the reason.
/// Independent of nats.c, so the server's verdict is seen as a person sees it.
class RawClient {
 public:
  /// Connects to `url` ("nats://[user:pass@]host:port"); connected() says whether the
  /// server accepted the CONNECT, error() what it said otherwise.
  explicit RawClient(const std::string& url) {
    auto rest = url.substr(url.find("://") + 3);
    std::string user, pass;
    if (const auto at = rest.rfind('@'); at != std::string::npos) {
      const auto cred = rest.substr(0, at);
      user = cred.substr(0, cred.find(':'));
      pass = cred.substr(cred.find(':') + 1);
      rest = rest.substr(at + 1);
    }
    const auto colon = rest.rfind(':');
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(std::stoi(rest.substr(colon + 1))));
    ::inet_pton(AF_INET, rest.substr(0, colon).c_str(), &addr.sin_addr);
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd_ >= 0);
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    const auto info = line();
    REQUIRE(info.rfind("INFO ", 0) == 0);
    std::string connect = R"(CONNECT {"verbose":true,"pedantic":false,"lang":"raw","version":"1","protocol":1)";
    if (!user.empty()) connect += fmt::format(R"(,"user":"{}","pass":"{}")", user, pass);
    send(connect + "}\r\nPING\r\n");
    const auto ack = line();
    if (ack == "+OK") {
      connected_ = line() == "PONG";
    } else {
      error_ = ack;
    }
  }
  ~RawClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool connected() const { return connected_; }
  const std::string& error() const { return error_; }

  /// PUB; returns "+OK" or the server's "-ERR '...'" line ("" if it said nothing in 5 s).
  std::string pub(const std::string& subject, const std::string& payload) {
    send(fmt::format("PUB {} {}\r\n{}\r\n", subject, payload.size(), payload));
    return line();
  }

 private:
  void send(const std::string& s) {
    std::size_t done = 0;
    while (done < s.size()) {
      const auto n = ::write(fd_, s.data() + done, s.size() - done);
      REQUIRE(n > 0);
      done += static_cast<std::size_t>(n);
    }
  }
  /// The next protocol line, without CRLF; PINGs from the server are answered.
  std::string line() {
    for (;;) {
      if (const auto nl = buf_.find("\r\n"); nl != std::string::npos) {
        auto out = buf_.substr(0, nl);
        buf_.erase(0, nl + 2);
        if (out == "PING") {
          send("PONG\r\n");
          continue;
        }
        return out;
      }
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 5000) <= 0) return "";
      char tmp[4096];
      const auto n = ::read(fd_, tmp, sizeof tmp);
      if (n <= 0) return buf_.empty() ? std::string("(closed)") : std::exchange(buf_, std::string());
      buf_.append(tmp, static_cast<std::size_t>(n));
    }
  }

  int fd_ = -1;
  std::string buf_;
  bool connected_ = false;
  std::string error_;
};


bool refused(const std::string& verdict) { return verdict.find("Permissions Violation") != std::string::npos; }

const std::string kForgedFill =
    R"({"type":"execution_report","client_order_id":"forged-1","exec_id":"forged-1-1","exec_type":"fill",)"
    R"("order_status":"filled","symbol":"EURUSD","side":"sell","order_type":"market","quantity":"5000000",)"
    R"("last_qty":"5000000","last_px":"2","cum_qty":"5000000","leaves_qty":"0","avg_px":"2",)"
    R"("ts_event":1399334400000000001})";
const std::string kBypass =
    R"({"type":"order.submit","client_order_id":"bypass-1","symbol":"EURUSD","side":"buy","order_type":"market",)"
    R"("quantity":"5000000"})";

}  // namespace

TEST_CASE("no identity can bypass risk, forge a fill, a session end or a heartbeat, or touch the event stream, "
          "and nobody connects anonymously (issue 11)",
          "[integration][auth]") {
  itest::nats_library();
  itest::Stack stack(std::vector<std::pair<std::string, std::string>>{{"RISK_MAX_ORDER_QTY", "1000000"}});
  stack.start();
  const auto file = testsupport::shared_data_dir() + "/quotes_EURUSD_2014-05-06.csv";
  REQUIRE(stack.run_as("feed", {itest::bin("feed"), "--limit", "300", file}) == 0);
  REQUIRE(stack.run({itest::bin("traderctl"), "halt", "auth test"}) == 0);

  // Anonymous and wrong-password clients are refused at CONNECT.
  {
    RawClient anon(stack.nats_url("operator").substr(0, 7) +
                   stack.nats_url("operator").substr(stack.nats_url("operator").rfind('@') + 1));
    CHECK_FALSE(anon.connected());
    CHECK_THAT(anon.error(), Catch::Contains("Authorization Violation"));
    RawClient wrong("nats://operator:not-the-password@" +
                    stack.nats_url("operator").substr(stack.nats_url("operator").rfind('@') + 1));
    CHECK_FALSE(wrong.connected());
    CHECK_THAT(wrong.error(), Catch::Contains("Authorization Violation"));
  }

  // A person: may send orders and commands, nothing that a worker owns.
  RawClient person(stack.nats_url("operator"));
  REQUIRE(person.connected());
  struct Case {
    const char* what;
    std::string subject, payload;
  };
  const std::vector<Case> person_cases = {
      {"risk bypass", "trading.orders.approved", kBypass},
      {"forged fill", "trading.executions", kForgedFill},
      {"forged session.ended", "session.lifecycle",
       R"({"type":"session.ended","session_id":"x","ts_wall":1,"reason":"forged"})"},
      {"forged heartbeat", "ops.heartbeat.execution",
       R"({"type":"heartbeat","worker":"execution","instance":"x","ts":1,"status":"ok"})"},
      {"forged market data", "market.data.EURUSD",
       R"({"type":"quote","symbol":"EURUSD","bid":"1","ask":"2","ts_event":1399334400000000000})"},
      {"forged decision", "risk.state", R"({"type":"risk.state","trading_state":"active"})"},
      {"a name not one's own", "risk.management.by.execution", R"({"type":"resume"})"},
      {"stream purge", "$JS.API.STREAM.PURGE.EVENTS", ""},
      {"consumer delete", "$JS.API.CONSUMER.DELETE.EVENTS.recorder", ""},
  };
  for (const auto& c : person_cases) {
    INFO("operator: " << c.what << " on " << c.subject);
    CHECK(refused(person.pub(c.subject, c.payload)));
  }
  // Workers: only their own subjects.
  const std::vector<std::pair<std::string, Case>> worker_cases = {
      {"strategy", {"risk bypass", "trading.orders.approved", kBypass}},
      {"strategy", {"forged fill", "trading.executions", kForgedFill}},
      {"strategy", {"a command", "risk.management", R"({"type":"resume"})"}},
      {"strategy", {"another's heartbeat", "ops.heartbeat.execution", "{}"}},
      {"feed", {"an order", "trading.orders", kBypass}},
      {"reporter", {"forged fill", "trading.executions", kForgedFill}},
      {"execution", {"consumer delete", "$JS.API.CONSUMER.DELETE.EVENTS.recorder", ""}},
      {"execution", {"stream purge", "$JS.API.STREAM.PURGE.EVENTS", ""}},
      {"risk-state", {"stream delete", "$JS.API.STREAM.DELETE.EVENTS", ""}},
      {"recorder", {"stream update", "$JS.API.STREAM.UPDATE.EVENTS", "{}"}},
      {"ops", {"forged fill", "trading.executions", kForgedFill}},
      // Workers answer requests without allow_responses (pkg/auth): into ops' and
      // replay's inboxes and people's reply subjects only, never another worker's inbox.
      {"strategy", {"a forged JetStream delivery", "_INBOX_risk-state.ABCDEF", kBypass}},
      {"reporter", {"a forged reply", "_INBOX_execution.ABCDEF", "{}"}},
      // A user's strategy program answers the strategy worker's requests, nothing else.
      {"strategy-ext", {"an order", "trading.orders", kBypass}},
      {"strategy-ext", {"risk bypass", "trading.orders.approved", kBypass}},
      {"strategy-ext", {"forged fill", "trading.executions", kForgedFill}},
      {"strategy-ext", {"forged market data", "market.data.EURUSD",
                        R"({"type":"quote","symbol":"EURUSD","bid":"1","ask":"2","ts_event":1399334400000000000})"}},
      {"strategy-ext", {"a forged delivery into the strategy worker's inbox", "_INBOX_strategy.ABCDEF", kForgedFill}},
      {"strategy-ext", {"a request to another external strategy", "strategy.external.other", "{}"}},
      {"strategy-ext", {"a command", "risk.management", R"({"type":"resume"})"}},
  };
  for (const auto& [who, c] : worker_cases) {
    RawClient w(stack.nats_url(who));
    REQUIRE(w.connected());
    INFO(who << ": " << c.what << " on " << c.subject);
    CHECK(refused(w.pub(c.subject, c.payload)));
  }

  // What a person may do still works, and says who did it.
  CHECK(person.pub("trading.orders", kBypass) == "+OK");  // denied: halted (and above max_order_qty)
  CHECK(person.pub("risk.management", R"({"type":"resume","reason":"auth test over"})") == "+OK");
  REQUIRE(stack.run({itest::bin("traderctl"), "wait-idle", "--quiet-ms", "800", "--timeout-s", "60"}) == 0);

  eventstore::PgStore store(stack.reader_url());
  itest::wait_recorded(stack, store);
  int person_orders = 0, commands = 0, decisions_by_operator = 0, forged = 0, ended = 0, bypass_reports = 0,
      bypass_denied = 0;
  for (const auto& e : itest::read_all(store)) {
    person_orders += e.subject == "trading.orders.by.operator";
    commands += e.subject == "risk.management.by.operator";
    decisions_by_operator +=
        e.subject == "risk.state" && itest::payload_has(e.payload, "sender", "operator");
    forged += e.payload.find("forged") != std::string::npos;
    ended += e.type == "session.ended";
    if (e.type == "execution_report" && e.client_order_id == std::optional<std::string>("bypass-1")) {
      ++bypass_reports;
      bypass_denied += itest::payload_has(e.payload, "exec_type", "denied");
    }
  }
  CHECK(person_orders == 1);
  CHECK(commands == 2);                 // the halt (traderctl) and the resume (raw)
  CHECK(decisions_by_operator == 2);    // halted, then active: each records its sender
  CHECK(forged == 0);                   // no forged fill, session end or heartbeat reached the log
  CHECK(ended == 0);                    // the live session is still open
  // The person's order was denied (halted, and over max_order_qty): one denial, never a fill.
  CHECK(bypass_reports == 1);
  CHECK(bypass_denied == 1);
  // The stream and the recorder's consumer are intact, and the chain verifies.
  for (const auto* w : {"recorder", "ops", "risk-state", "execution", "reporter", "strategy"}) {
    INFO(w);
    CHECK(stack.worker(w).running());
  }
  const auto [rc, verify] = [&] {
    std::string o;
    const int r = stack.run({itest::bin("traderctl"), "verify"}, &o);
    return std::pair{r, o};
  }();
  INFO(verify);
  CHECK(rc == 0);
}
