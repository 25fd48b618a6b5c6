// A person typing `nats pub` / `nats req`: an independent client (nats.js from npm)
// publishes hand-written JSON and checks what comes back.
#include <catch2/catch.hpp>

#include "stack.hpp"

TEST_CASE("hand-written orders from nats.js get the expected execution reports, denials and errors",
          "[integration][manual]") {
  itest::nats_library();
  itest::Stack stack({{"RISK_MAX_ORDER_QTY", "100000"}, {"RISK_MAX_ORDER_NOTIONAL", "1000000"}});
  stack.start({"recorder", "ops", "risk-state", "execution", "reporter"});
  auto env = stack.env();
  env.emplace_back("FEED_NATS_URL", stack.nats_url("feed"));
  const auto node = itest::run_node(stack, "manual_order.mjs", env);
  INFO(node.log);
  CHECK(node.passed());
}
