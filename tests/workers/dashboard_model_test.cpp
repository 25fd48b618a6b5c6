// services::DashboardModel (pkg/workers/dashboard.hpp): what ops' dashboard shows, from
// events of the log given as the bus carries them.
#include <catch2/catch.hpp>

#include <string>

#include <fmt/format.h>

#include "codec/codec.hpp"
#include "workers/dashboard.hpp"

namespace {

core::Decimal d(std::string_view s) { return *core::Decimal::parse(s); }

core::ExecutionReport report(std::string id, core::ExecType et, core::OrderStatus st, std::string_view leaves) {
  return core::ExecutionReport{.client_order_id = std::move(id),
                               .exec_id = "x",
                               .exec_type = et,
                               .order_status = st,
                               .symbol = "EURUSD",
                               .side = core::Side::buy,
                               .order_type = core::OrderType::limit,
                               .quantity = d("1000"),
                               .limit_price = d("1.2"),
                               .leaves_qty = d(leaves),
                               .ts_event = 1'399'334'400'000'000'000};
}

bool has(const std::string& json, std::string_view s) { return json.find(s) != std::string::npos; }

}  // namespace

TEST_CASE("the dashboard lists an order while it works, and drops it once final or replaced", "[workers][dashboard]") {
  services::DashboardModel m;
  const auto v0 = m.version(services::DashboardModel::kOrders);
  CHECK(m.on_event(1, "trading.executions", codec::encode(report("a", core::ExecType::new_, core::OrderStatus::new_, "1000"))));
  CHECK(m.version(services::DashboardModel::kOrders) == v0 + 1);
  CHECK(has(m.json(services::DashboardModel::kOrders), R"("client_order_id":"a")"));
  m.on_event(2, "trading.executions",
             codec::encode(report("a", core::ExecType::partial_fill, core::OrderStatus::partially_filled, "400")));
  CHECK(has(m.json(services::DashboardModel::kOrders), R"("leaves_qty":"400")"));
  // A replace answers on the new id and retires the old one.
  auto replaced = report("b", core::ExecType::replaced, core::OrderStatus::partially_filled, "300");
  replaced.orig_client_order_id = "a";
  m.on_event(3, "trading.executions", codec::encode(replaced));
  auto orders = m.json(services::DashboardModel::kOrders);
  CHECK_FALSE(has(orders, R"("client_order_id":"a")"));
  CHECK(has(orders, R"("client_order_id":"b")"));
  // A refused cancel or replace changes nothing, even under another id.
  auto refused = report("c", core::ExecType::cancel_rejected, core::OrderStatus::new_, "0");
  refused.orig_client_order_id = "b";
  m.on_event(4, "trading.executions", codec::encode(refused));
  CHECK(m.json(services::DashboardModel::kOrders) == orders);
  m.on_event(5, "trading.executions", codec::encode(report("b", core::ExecType::fill, core::OrderStatus::filled, "0")));
  CHECK(m.json(services::DashboardModel::kOrders) == R"({"orders":[],"more":0})");
  // Not the dashboard's, or not readable: ignored.
  CHECK_FALSE(m.on_event(6, "market.data.EURUSD", R"({"type":"quote"})"));
  CHECK_FALSE(m.on_event(7, "trading.executions", "{not json"));
  CHECK(has(m.json(services::DashboardModel::kMeta), R"("log_seq":7)"));
}

TEST_CASE("the dashboard shows the latest trading state and policy as recorded", "[workers][dashboard]") {
  services::DashboardModel m;
  CHECK(m.json(services::DashboardModel::kTrading) == R"({"state":null,"policy":null})");
  const core::RiskStateChanged halt{.trading_state = core::TradingState::halted,
                                    .previous_state = core::TradingState::active,
                                    .reason = "news <b>",
                                    .source = "manual",
                                    .ts_event = 5,
                                    .sender = "operator"};
  CHECK(m.on_event(1, "risk.state", codec::encode(halt)));
  core::RiskPolicyChanged policy{.reason = "start", .source = "startup"};
  policy.policy.defaults.max_order_qty = d("5000");
  policy.policy.defaults.max_order_notional = d("100000");
  CHECK(m.on_event(2, "risk.state", codec::encode(policy)));
  CHECK(m.json(services::DashboardModel::kTrading) ==
        fmt::format(R"({{"state":{},"policy":{}}})", codec::encode(halt), codec::encode(policy)));
}

TEST_CASE("the dashboard keeps positions and P&L from fills and marks, its chart bounded and ending at the latest P&L",
          "[workers][dashboard]") {
  services::DashboardModel m(8);
  // Before any fill: no P&L, no chart, and a quote changes nothing shown.
  CHECK_FALSE(m.on_event(1, "market.data.EURUSD", codec::encode(core::MarketData{core::Quote{
                                                       .symbol = "EURUSD", .bid = d("1.3874"), .ask = d("1.3875"), .ts_event = 1'000'000'000}})));
  CHECK(m.json(services::DashboardModel::kPnl) == R"({"metrics":null,"equity":{"points":[],"min":null,"max":null}})");
  auto fill = report("a", core::ExecType::fill, core::OrderStatus::filled, "0");
  fill.order_type = core::OrderType::market;
  fill.limit_price.reset();
  fill.last_qty = d("1000");
  fill.last_px = d("1.3875");
  fill.cum_qty = d("1000");
  fill.avg_px = d("1.3875");
  fill.ts_event = 2'000'000'000;
  CHECK(m.on_event(2, "trading.executions", codec::encode(fill)));
  CHECK(has(m.json(services::DashboardModel::kPnl), R"("symbol":"EURUSD","quantity":"1000","avg_px":"1.3875")"));
  // Then each quote marks it: mid = 1.3875 + i * 0.0001, so unrealized P&L = i * 0.1.
  for (int i = 1; i <= 100; ++i) {
    const auto mid = d("1.3875") + core::Decimal::from_raw(10'000LL * i);  // 0.0001 * i
    m.on_event(static_cast<std::uint64_t>(i + 2), "market.data.EURUSD",
               codec::encode(core::MarketData{core::Quote{.symbol = "EURUSD",
                                                          .bid = mid - d("0.00005"),
                                                          .ask = mid + d("0.00005"),
                                                          .ts_event = 1'000'000'000LL * (i + 2)}}));
  }
  // A quote whose symbol is not its subject's is not a mark.
  CHECK_FALSE(m.on_event(200, "market.data.EURUSD", codec::encode(core::MarketData{core::Quote{
                                                         .symbol = "GBPUSD", .bid = d("9"), .ask = d("10"), .ts_event = 200'000'000'000}})));
  const auto pnl = m.json(services::DashboardModel::kPnl);
  INFO(pnl);
  std::size_t points = 0;
  for (auto at = pnl.find("],["); at != std::string::npos; at = pnl.find("],[", at + 1)) ++points;
  ++points;
  CHECK(points <= 9);  // at most 8 kept, plus the latest
  CHECK(points >= 4);
  CHECK(has(pnl, R"({"points":[[2000,"-0.05"],)"));  // the fill's point (marked at the quote before) stays first
  CHECK(has(pnl, R"([102000,"10"]])"));          // the last is the latest
  CHECK(has(pnl, R"("min":"-0.05")"));
  CHECK(has(pnl, R"("max":"10")"));
  CHECK(has(pnl, R"("unrealized_pnl":"10","total_pnl":"10")"));
  CHECK(has(pnl, R"("mark_px":"1.3975")"));
}

TEST_CASE("the dashboard's changes wake a waiting feed", "[workers][dashboard]") {
  services::DashboardModel m;
  const auto seen = m.changes();
  CHECK(m.wait_change(seen, 10) == seen);  // nothing: times out
  m.set_health(R"({"type":"ops.status"})");
  CHECK(m.wait_change(seen, 1000) == seen + 1);
  m.set_health(R"({"type":"ops.status"})");  // the same: no change
  CHECK(m.changes() == seen + 1);
  m.set_rebuilt();
  CHECK(has(m.json(services::DashboardModel::kMeta), R"("rebuilt":true)"));
}
