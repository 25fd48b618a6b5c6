// Issue 13, structured logs: the real worker binaries on the harness's real nats-server
// write one JSON record per line on stderr (obs/log.hpp); the session appears once they
// know it; a NATS outage is a warn record when it starts and an info record when the
// connection comes back; a refused hand-typed order names its client_order_id.
#include <catch2/catch.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "log_lines.hpp"
#include "stack.hpp"

namespace {

using Record = std::map<std::string, std::string>;

/// Every line of `log` as a record; a line that is not one fails the test.
std::vector<Record> records(const std::string& worker, const std::string& log) {
  static const std::regex ts(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z)");
  static const std::set<std::string> levels{"debug", "info", "warn", "error"};
  std::vector<Record> out;
  for (const auto& line : testsupport::log_lines(log)) {
    INFO(worker << " wrote: " << line);
    const auto r = testsupport::parse_log_record(line);
    REQUIRE(r);
    REQUIRE(r->contains("ts"));
    REQUIRE(r->contains("level"));
    REQUIRE(r->contains("worker"));
    REQUIRE(r->contains("msg"));
    CHECK(std::regex_match(r->at("ts"), ts));
    CHECK(levels.contains(r->at("level")));
    CHECK(r->at("worker") == worker);
    CHECK_FALSE(r->at("msg").empty());
    out.push_back(*r);
  }
  return out;
}

/// The first record of `worker`'s log that `pred` accepts, waiting up to 60 s for it.
Record wait_record(itest::Stack& stack, const std::string& worker, const std::function<bool(const Record&)>& pred) {
  for (int i = 0; i < 600; ++i) {
    // Only whole lines: the worker may be writing the last one.
    auto log = stack.worker(worker).log();
    log.erase(log.rfind('\n') == std::string::npos ? 0 : log.rfind('\n') + 1);
    for (const auto& r : records(worker, log))
      if (pred(r)) return r;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  FAIL("no such record from " << worker << ":\n" << stack.worker(worker).log());
  return {};
}

bool has(const Record& r, const std::string& key, const std::string& value) {
  const auto it = r.find(key);
  return it != r.end() && it->second == value;
}

bool says(const Record& r, const std::string& text) { return r.at("msg").find(text) != std::string::npos; }

}  // namespace

TEST_CASE("workers log JSON lines with their session, a NATS outage as warn then info, and a refused order with "
          "its client_order_id (issue 13)",
          "[integration][logs]") {
  itest::nats_library();
  itest::Stack stack;
  stack.start({"recorder", "ops"});
  // risk-state starts once ops has opened the session (Stack::start starts its workers at
  // once): it learns the session from the event log while it rebuilds, so its "ready"
  // record already carries it.
  stack.restart("risk-state");

  const auto ops_ready = wait_record(stack, "ops", [](const Record& r) { return says(r, "ready ("); });
  REQUIRE(ops_ready.contains("session"));
  const auto session = ops_ready.at("session");
  CHECK(says(ops_ready, "session " + session));
  const auto risk_ready = wait_record(stack, "risk-state", [](const Record& r) { return says(r, "ready ("); });
  CHECK(has(risk_ready, "level", "info"));
  CHECK(has(risk_ready, "session", session));
  // The recorder, started before ops, learns the session as it comes, live or from what it
  // records (whether its "ready" comes before or after is a race): its records during the
  // outage below carry it.

  // A hand-typed order risk-state refuses (a negative quantity): its record names the order.
  REQUIRE(stack.run({itest::bin("traderctl"), "pub", "trading.orders",
                     R"({"type":"order.submit","client_order_id":"log-bad-qty","symbol":"IBM","side":"buy",)"
                     R"("order_type":"market","quantity":"-5"})"}) == 0);
  const auto refused =
      wait_record(stack, "risk-state", [](const Record& r) { return has(r, "client_order_id", "log-bad-qty"); });
  CHECK(has(refused, "level", "warn"));
  CHECK(has(refused, "field", "quantity"));
  CHECK(has(refused, "session", session));
  CHECK(says(refused, "rejected message on trading.orders"));
  CHECK(refused.contains("subject"));

  // The workers start at once: the recorder may subscribe to session.lifecycle only after
  // ops opened the session; then it knows it once it has recorded the session.started.
  eventstore::PgStore store(stack.reader_url());
  itest::wait_recorded(stack, store);

  // NATS goes away and comes back: warn, then info with the redacted URL.
  stack.nats().stop();
  const auto down = wait_record(stack, "risk-state", [](const Record& r) { return says(r, "NATS disconnected"); });
  CHECK(has(down, "level", "warn"));
  CHECK(has(down, "session", session));
  stack.nats().start();
  const auto back = wait_record(stack, "risk-state", [](const Record& r) { return says(r, "NATS reconnected to"); });
  CHECK(has(back, "level", "info"));
  CHECK(has(back, "session", session));
  CHECK(says(back, "nats://risk-state:***@"));
  for (const auto* w : {"recorder", "ops"}) {
    INFO(w);
    const auto w_down = wait_record(stack, w, [](const Record& r) { return says(r, "NATS disconnected"); });
    CHECK(has(w_down, "level", "warn"));
    CHECK(has(w_down, "session", session));
    const auto w_back = wait_record(stack, w, [](const Record& r) { return says(r, "NATS reconnected to"); });
    CHECK(has(w_back, "level", "info"));
    CHECK(has(w_back, "session", session));
  }

  // Stopped, each has written only records (its last ones included), and no password.
  // risk-state stops first, inside the session: once a record of its carries the
  // session, every later one does. (ops then ends the session, and its own and the
  // recorder's records after that carry none.)
  std::map<std::string, std::string> logs;
  for (const auto* w : {"risk-state", "ops", "recorder"}) {
    stack.worker(w).terminate();
    logs[w] = stack.worker(w).log();
  }
  for (const auto& [w, log] : logs) {
    INFO(w);
    const auto all = records(w, log);
    CHECK(all.size() >= 3);
    const auto url = stack.nats_url(w);
    const auto password = url.substr(url.find(':', 7) + 1, url.rfind('@') - url.find(':', 7) - 1);
    REQUIRE(password.size() >= 16);
    CHECK(log.find(password) == std::string::npos);
    bool known = false;
    for (const auto& r : all) {
      INFO(r.at("msg"));
      if (known && w == "risk-state") CHECK(has(r, "session", session));
      known = known || r.contains("session");
    }
    CHECK(known);
  }
  bool ended = false;
  for (const auto& r : records("ops", logs["ops"])) ended = ended || says(r, "session " + session + " ended");
  CHECK(ended);
}
