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

using itest::password_of;

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
  const auto check = itest::run_node(stack, "openapi_check.mjs", env);
  INFO(check.log);
  CHECK(check.passed());

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

TEST_CASE("the Ops API's operations work over NATS request-reply as well, for people only",
          "[integration][ops_api]") {
  itest::nats_library();
  itest::Stack stack(std::vector<std::pair<std::string, std::string>>{{"HTTP_PORT", "0"}});
  stack.start();
  // As the person "operator" (traderctl req: what `nats req` does).
  auto req = [&](const std::string& subject, const std::string& body) {
    std::string out;
    const int rc = stack.run({itest::bin("traderctl"), "req", subject, body}, &out);
    INFO(subject << " " << body << " -> " << out);
    CHECK(rc == 0);
    return out;
  };
  // The live session, once the recorder stored its start.
  std::string sessions;
  REQUIRE(itest::until(std::chrono::seconds(30), [&] {
    sessions = req("ops.sessions", "");
    return sessions.find("\"session_id\":\"live-") != std::string::npos;
  }));
  CHECK(sessions.rfind("{\"sessions\":[{", 0) == 0);
  const auto at = sessions.find("\"session_id\":\"live-") + 14;
  const auto id = sessions.substr(at, sessions.find('"', at) - at);
  INFO("session " << id);
  const auto one = req("ops.session", "{\"session_id\":\"" + id + "\"}");
  CHECK_THAT(one, Catch::Contains("\"session_id\":\"" + id + "\"") && Catch::Contains("\"events_by_type\":{") &&
                      Catch::Contains("\"session.started\":1"));
  CHECK_THAT(req("ops.session", R"({"session_id":"no-such-session"})"),
             Catch::Contains("\"error\":\"no session no-such-session in the live store\"") &&
                 Catch::Contains("\"field\":\"id\""));
  CHECK_THAT(req("ops.session.report", "{\"session_id\":\"" + id + "\"}"),
             Catch::Contains("holds no performance report") && Catch::Contains("\"field\":\"id\""));
  // A body it does not take: a dead letter naming the field, as the reply.
  CHECK_THAT(req("ops.session", "{}"), Catch::Contains("\"type\":\"dead_letter\"") &&
                                           Catch::Contains("\"field\":\"session_id\""));
  CHECK_THAT(req("ops.session", R"({"session_id":"a b"})"), Catch::Contains("\"field\":\"session_id\""));
  CHECK_THAT(req("ops.session", R"({"session_id":"x","more":1})"), Catch::Contains("\"field\":\"more\""));
  CHECK_THAT(req("ops.session", "not json"), Catch::Contains("\"field\":\"body\""));
  // As the store keeps it (jsonb: its own spacing), as GET /risk/policy answers.
  CHECK_THAT(req("ops.risk.policy", ""), Catch::Contains("\"risk.policy\"") && Catch::Contains("\"max_order_qty\""));
  // State changes are requests to risk-state on risk.management; the answer names the sender.
  const auto halted = req("risk.management", R"({"type":"trading_state.set","trading_state":"halted","reason":"nats req"})");
  CHECK_THAT(halted, Catch::Contains("\"trading_state\":\"halted\"") && Catch::Contains("\"sender\":\"operator\""));
  CHECK_THAT(req("risk.management", R"({"type":"trading_state.set","trading_state":"active","reason":"nats req"})"),
             Catch::Contains("\"trading_state\":\"active\""));
  // A service's identity may not ask: nats-server refuses the request.
  std::string out;
  CHECK(stack.run_as("feed", {itest::bin("traderctl"), "req", "ops.sessions", ""}, &out) != 0);
  CHECK_THAT(out, Catch::Contains("Not Permitted"));
}
