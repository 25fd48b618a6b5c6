// Issue 11, "Health does not tell the truth": a dead worker showed alive=NO with status
// ok, `traderctl status` exited 0, and instances that exited stayed listed for good.
// Now a worker whose heartbeat is overdue is down, and traderctl status exits 2; one
// that stopped says so; an instance that stopped or was replaced leaves the list after
// OPS_INSTANCE_EXPIRE_MS; a heartbeat that claims another worker is refused.
#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

#include <fmt/format.h>

#include "codec/codec.hpp"
#include "stack.hpp"

namespace {

using namespace std::chrono_literals;

struct Status {
  int rc = -1;
  core::OpsStatus st;
  std::string text;
};

Status status(const itest::Stack& stack) {
  Status s;
  s.rc = stack.run({itest::bin("traderctl"), "status", "--json"}, &s.text);
  if (auto r = codec::decode_ops_status(s.text.substr(0, s.text.find('\n')))) s.st = *r;
  return s;
}

/// Polls traderctl status (every 100 ms, up to 15 s) until `pred` holds; returns the last answer.
template <class Pred>
Status until(const itest::Stack& stack, Pred pred) {
  Status s;
  for (int i = 0; i < 150; ++i) {
    s = status(stack);
    if (pred(s)) return s;
    std::this_thread::sleep_for(100ms);
  }
  return s;
}

int instances(const Status& s, const std::string& worker) {
  int n = 0;
  for (const auto& w : s.st.workers) n += w.worker == worker;
  return n;
}

const core::WorkerStatus* find(const Status& s, const std::string& worker, bool alive) {
  for (const auto& w : s.st.workers)
    if (w.worker == worker && w.alive == alive) return &w;
  return nullptr;
}

}  // namespace

TEST_CASE("traderctl status says down for a dead worker and exits 2, forgets replaced or stopped instances, "
          "and refuses a heartbeat that claims another worker (issue 11)",
          "[integration][health]") {
  itest::nats_library();
  itest::Stack stack(std::vector<std::pair<std::string, std::string>>{{"OPS_INSTANCE_EXPIRE_MS", "1500"}});
  stack.start();
  auto s = until(stack, [](const Status& x) { return x.rc == 0; });
  REQUIRE(s.rc == 0);
  CHECK(s.st.status == "ok");

  // A one-shot tool that did its work (the feed) is "finished": listed, not down.
  REQUIRE(stack.run_as("feed", {itest::bin("feed"), "--limit", "20",
                                testsupport::shared_data_dir() + "/quotes_EURUSD_2014-05-06.csv"}) == 0);
  s = until(stack, [](const Status& x) { return find(x, "feed", false) != nullptr; });
  INFO(s.text);
  REQUIRE(find(s, "feed", false) != nullptr);
  CHECK(find(s, "feed", false)->status == "finished");
  CHECK(s.rc == 0);
  CHECK(s.st.status == "ok");

  // kill -9: no last heartbeat. Within 3 intervals (600 ms) it is down, and stays down.
  stack.worker("reporter").kill_hard();
  s = until(stack, [](const Status& x) { return x.rc == 2; });
  INFO(s.text);
  REQUIRE(s.rc == 2);
  CHECK(s.st.status == "down");
  const auto* dead = find(s, "reporter", false);
  REQUIRE(dead != nullptr);
  CHECK_THAT(dead->status, Catch::StartsWith("down: no heartbeat for"));
  std::this_thread::sleep_for(2s);  // past the expiry: a worker with no instance alive is not forgotten
  s = status(stack);
  CHECK(s.rc == 2);
  CHECK(find(s, "reporter", false) != nullptr);
  {
    std::string table;
    CHECK(stack.run({itest::bin("traderctl"), "status"}, &table) == 2);
    CHECK_THAT(table, Catch::Contains("stack: down"));
  }

  // Restarted: the new instance is alive, the dead one leaves the list after the expiry.
  stack.restart("reporter");
  s = until(stack, [](const Status& x) { return x.rc == 0; });
  INFO(s.text);
  CHECK(s.rc == 0);
  CHECK(instances(s, "reporter") == 1);

  // Stopped on purpose (SIGTERM): "stopped", down until it expires; then forgotten.
  stack.worker("strategy").terminate();
  s = until(stack, [](const Status& x) {
    const auto* w = find(x, "strategy", false);
    return w != nullptr && w->status == "stopped";
  });
  INFO(s.text);
  CHECK(s.rc == 2);
  s = until(stack, [](const Status& x) { return x.rc == 0; });
  CHECK(instances(s, "strategy") == 0);

  // A heartbeat on ops.heartbeat.execution that names risk-state: refused (the server
  // lets only execution publish there; the admin stands in for a compromised one).
  itest::Tap tap(stack.nats_url());
  natsio::Connection admin({.url = stack.nats_url(), .name = "forger"});
  admin.publish("ops.heartbeat.execution",
                R"({"type":"heartbeat","worker":"risk-state","instance":"forged:1","status":"ok","ts":1})");
  admin.flush();
  const auto dl = tap.wait_for("ops.dead_letter", {R"("field":"worker")", "ops.heartbeat.execution"});
  CHECK_FALSE(dl.empty());
  s = status(stack);
  for (const auto& w : s.st.workers) CHECK(w.instance != "forged:1");
}
