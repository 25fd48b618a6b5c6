// Issue 13: the Ops API over HTTP. An independent client (Node's fetch, ajv) calls every
// operation of docs/openapi.json on a real stack's ops and checks each answer against the
// document (tests/js/openapi_check.mjs): no or wrong credentials are refused (401), a
// service's identity too (403), bad bodies name their field (400). Then the event store
// must hold the halt the client made, recorded with the authenticated person as sender.
#include <catch2/catch.hpp>

#include <string>

#include "codec/codec.hpp"
#include "eventstore/event_store.hpp"
#include "stack.hpp"

namespace {
/// The password inside "nats://<user>:<password>@host:port".
std::string password_of(const std::string& url) {
  const auto user_end = url.find(':', url.find("://") + 3);
  return url.substr(user_end + 1, url.rfind('@') - user_end - 1);
}
}  // namespace

TEST_CASE("the Ops API answers as docs/openapi.json says, and records who changed the trading state",
          "[integration][http][ops_api]") {
  itest::nats_library();
  itest::Stack stack(std::vector<std::pair<std::string, std::string>>{{"HTTP_PORT", "0"}});
  stack.start();
  auto env = stack.env();
  env.emplace_back("OPS_URL", "http://127.0.0.1:" + std::to_string(itest::http_port_of(stack, "ops")));
  env.emplace_back("OPS_USER", "operator");
  env.emplace_back("OPS_PASSWORD", password_of(stack.nats_url("operator")));
  env.emplace_back("SERVICE_USER", "execution");
  env.emplace_back("SERVICE_PASSWORD", password_of(stack.nats_url("execution")));
  testsupport::Process node({"node", testsupport::source_dir() + "/tests/js/openapi_check.mjs"}, env,
                            stack.dir() + "/openapi_check.log");
  const int rc = node.wait();
  INFO(node.log());
  CHECK(rc == 0);
  CHECK(node.log().find("all checks passed") != std::string::npos);

  // The halt, as the store recorded it: the person's command (its subject names them) and
  // risk-state's answer with the person as sender.
  REQUIRE(stack.run({itest::bin("traderctl"), "wait-idle", "--quiet-ms", "800", "--timeout-s", "60"}) == 0);
  eventstore::PgStore store(stack.reader_url());
  itest::wait_recorded(stack, store);
  bool command = false, answer = false;
  for (const auto& e : itest::read_all(store)) {
    if (e.subject == "risk.management.by.operator" && e.payload.find("openapi check") != std::string::npos) command = true;
    if (e.type == "risk.state") {
      const auto r = codec::decode_risk_state(e.payload);
      REQUIRE(r);
      if (r->reason == "openapi check" && r->trading_state == core::TradingState::halted && r->sender == "operator")
        answer = true;
    }
  }
  CHECK(command);
  CHECK(answer);
}
