// Issue 13: the web dashboard ops serves (pkg/workers/dashboard.hpp), on a real stack.
// 1. tests/js/dashboard_feed.mjs (Node, no browser): the page and its live feed refuse a
//    caller without credentials (401); the feed starts with a snapshot, then sends a
//    section when it changes; at most 4 feeds at once (503).
// 2. tests/js/dashboard_browser.mjs: headless Chromium (Debian's chromium, puppeteer-core)
//    loads the page; a hand-typed order's fill and a working order appear on it; the Halt
//    button halts trading on the bus (as the person), Resume resumes. Its screenshots are
//    kept in <build>/test-artifacts/dashboard/ (the test prints where).
// 3. ops restarts mid-session: its new feed's snapshot, rebuilt from the event log, still
//    holds the working order, the position and the trading state (a halt made just before).
#include <catch2/catch.hpp>

#include <filesystem>
#include <regex>
#include <string>

#include <fmt/format.h>
#include <httplib.h>

#include "stack.hpp"

namespace {

/// The first event of ops' dashboard feed (the snapshot), as text.
std::string first_feed_event(int port, const std::string& user, const std::string& password) {
  httplib::Client c("127.0.0.1", port);
  c.set_basic_auth(user.c_str(), password.c_str());
  c.set_read_timeout(10, 0);
  std::string text;
  c.Get("/dashboard/events", [&](const char* data, std::size_t n) {
    text.append(data, n);
    return text.find("\n\n") == std::string::npos;  // enough: cancel
  });
  return text;
}

}  // namespace

TEST_CASE("the dashboard shows a hand-typed order's fill in a real browser, and its halt button halts trading",
          "[integration][http][dashboard]") {
  itest::nats_library();
  itest::Stack stack(std::vector<std::pair<std::string, std::string>>{{"HTTP_PORT", "0"}});
  stack.start();
  const std::string user = "operator";
  const std::string password = itest::password_of(stack.nats_url(user));
  auto env = stack.env();
  env.emplace_back("OPS_URL", fmt::format("http://127.0.0.1:{}", itest::http_port_of(stack, "ops")));
  env.emplace_back("OPS_USER", user);
  env.emplace_back("OPS_PASSWORD", password);
  env.emplace_back("FEED_NATS_URL", stack.nats_url("feed"));
  const std::string artifacts = std::string(TRADER_BINARY_DIR) + "/test-artifacts/dashboard";
  std::filesystem::remove_all(artifacts);
  env.emplace_back("ARTIFACTS_DIR", artifacts);

  {
    const auto feed = itest::run_node(stack, "dashboard_feed.mjs", env);
    INFO(feed.log);
    CHECK(feed.passed());
  }
  {
    const auto browser = itest::run_node(stack, "dashboard_browser.mjs", env);
    INFO(browser.log);
    CHECK(browser.passed());
    fmt::print(stderr, "dashboard screenshots: {}\n", artifacts);
    CHECK(std::filesystem::exists(artifacts + "/3-halted.png"));
  }

  // A halt just before ops restarts; the new ops rebuilds its model from the log.
  {
    httplib::Client c("127.0.0.1", itest::http_port_of(stack, "ops"));
    c.set_basic_auth(user.c_str(), password.c_str());
    c.set_read_timeout(10, 0);
    const auto r = c.Post("/halt", R"({"reason":"before the restart"})", "application/json");
    REQUIRE(r);
    REQUIRE(r->status == 200);
  }
  // Until the feed shows it (ops follows the stream: a moment).
  REQUIRE(itest::until(std::chrono::seconds(20), [&] {
    return first_feed_event(itest::http_port_of(stack, "ops"), user, password).find("before the restart") != std::string::npos;
  }));
  stack.restart("ops");
  const auto snap = first_feed_event(itest::http_port_of(stack, "ops"), user, password);
  INFO(snap);
  CHECK(snap.rfind("retry: 3000\nevent: snapshot\ndata: {", 0) == 0);
  CHECK(snap.find(R"("rebuilt":true)") != std::string::npos);
  // The working order (the browser test's limit order), the position of its fill, the halt.
  CHECK(snap.find(R"("client_order_id":"dash-2")") != std::string::npos);
  CHECK(snap.find(R"("client_order_id":"dash-1")") == std::string::npos);
  CHECK(std::regex_search(snap, std::regex(R"re(\{"symbol":"EURUSD","quantity":"1000",)re")));
  CHECK(std::regex_search(snap, std::regex(R"re("state":\{"type":"risk.state","v":1,"trading_state":"halted"[^}]*"reason":"before the restart")re")));
  CHECK(std::regex_search(snap, std::regex(R"re("sender":"operator")re")));
}
