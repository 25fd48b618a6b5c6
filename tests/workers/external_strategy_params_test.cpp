// The external strategy's params (workers/external_strategy.hpp), without a server.
#include <catch2/catch.hpp>

#include "strategy/registry.hpp"
#include "workers/external_strategy.hpp"

namespace {
core::Quote quote(core::TimestampNs ts) {
  return core::Quote{.symbol = "BTCUSDT", .bid = *core::Decimal::parse("9700.1"), .ask = *core::Decimal::parse("9700.2"),
                     .ts_event = ts};
}
constexpr core::TimestampNs kT0 = 1'582'329'600'000'000'000;
}  // namespace

TEST_CASE("the external strategy's params are checked, and one made without NATS refuses to run", "[workers][external]") {
  const auto reg = services::with_external(strategy::builtin_registry(), nullptr);
  CHECK_NOTHROW(reg.check({{.name = "external", .strategy_id = "js", .params = {}}}));
  CHECK_THROWS_WITH(reg.create({.name = "external", .strategy_id = "js", .params = {{"subject", "trading.orders"}}}),
                    Catch::Contains("param 'subject'"));
  CHECK_THROWS_WITH(reg.create({.name = "external", .strategy_id = "js", .params = {{"subject", "strategy.external.>"}}}),
                    Catch::Contains("param 'subject'"));
  CHECK_THROWS_WITH(reg.create({.name = "external", .strategy_id = "a.b", .params = {}}),
                    Catch::Contains("param 'subject'"));
  CHECK_THROWS_WITH(reg.create({.name = "external", .strategy_id = "js", .params = {{"timeout", "0s"}}}),
                    Catch::Contains("param 'timeout'"));
  auto ok = reg.create({.name = "external", .strategy_id = "js", .params = {{"subject", "strategy.external.team.js"}}});
  CHECK(dynamic_cast<services::ExternalStrategy&>(*ok).subject() == "strategy.external.team.js");
  strategy::Runner run("js", std::move(ok));
  CHECK_THROWS_AS(run.on_market(quote(kT0), 1), std::logic_error);
}
