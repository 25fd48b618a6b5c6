// Paper broker: resends and races. An identical resend of an order is answered by
// nothing; cancels and replaces that cross fills, partial fills and each other.
#include <optional>
#include <string>
#include <vector>

#include "helpers.hpp"
#include "matching/paper_broker.hpp"

using core::ExecType;
using core::OrderStatus;
using core::OrderType;
using core::Side;
using core::TimeInForce;
using domain_test::dec;
using domain_test::kDay0;
using domain_test::kSec;
using domain_test::quote;

namespace {

core::OrderSubmit limit(std::string id, Side side, std::string_view qty, std::string_view px,
                        TimeInForce tif = TimeInForce::gtc) {
  return core::OrderSubmit{.client_order_id = std::move(id), .symbol = "EURUSD", .side = side,
                           .order_type = OrderType::limit, .quantity = dec(qty), .limit_price = dec(px),
                           .time_in_force = tif, .strategy_id = "test", .ts_event = kDay0};
}

core::OrderSubmit market(std::string id, Side side, std::string_view qty, TimeInForce tif = TimeInForce::ioc) {
  return core::OrderSubmit{.client_order_id = std::move(id), .symbol = "EURUSD", .side = side,
                           .order_type = OrderType::market, .quantity = dec(qty), .time_in_force = tif,
                           .strategy_id = "test", .ts_event = kDay0};
}

core::Quote sized(std::string_view bid, std::string_view ask, std::string_view bid_size, std::string_view ask_size,
                  core::TimestampNs ts) {
  auto q = quote("EURUSD", bid, ask, ts);
  q.bid_size = dec(bid_size);
  q.ask_size = dec(ask_size);
  return q;
}

core::OrderReplace replace(std::string id, std::string orig, std::optional<std::string_view> qty,
                           std::optional<std::string_view> px = std::nullopt) {
  core::OrderReplace r{.client_order_id = std::move(id), .orig_client_order_id = std::move(orig)};
  if (qty) r.quantity = dec(*qty);
  if (px) r.limit_price = dec(*px);
  return r;
}

std::vector<ExecType> types(const std::vector<core::ExecutionReport>& out) {
  std::vector<ExecType> t;
  for (const auto& r : out) t.push_back(r.exec_type);
  return t;
}

void check_quantities(const std::vector<core::ExecutionReport>& out) {
  for (const auto& r : out) {
    INFO(r.exec_id << " " << core::to_string(r.exec_type));
    CHECK(r.cum_qty <= r.quantity);
    if (core::is_terminal(r.order_status)) {
      CHECK(r.leaves_qty.is_zero());
    } else {
      CHECK(r.cum_qty + r.leaves_qty == r.quantity);
    }
  }
}

}  // namespace

namespace Catch {
template <>
struct StringMaker<std::vector<ExecType>> {
  static std::string convert(const std::vector<ExecType>& v) {
    std::string s = "[";
    for (auto e : v) s += std::string(core::to_string(e)) + " ";
    return s + "]";
  }
};
}  // namespace Catch

// ---- idempotent client_order_id -----------------------------------------------------------

TEST_CASE("an identical resend of an order is answered by nothing and changes nothing, in every state",
          "[matching][resend]") {
  matching::PaperBroker broker;
  (void)broker.on_quote(sized("1.00", "1.01", "10", "4", kDay0));
  const auto working = limit("w", Side::buy, "10", "0.99");
  const auto partial = limit("p", Side::buy, "10", "1.01");  // 4 fill, 6 work
  const auto filled = market("f", Side::sell, "2");
  auto bad = limit("bad", Side::buy, "0", "1");  // rejected
  const auto canceled = limit("c", Side::sell, "1", "1.05");
  REQUIRE(types(broker.on_submit(working, kDay0)) == std::vector{ExecType::new_});
  REQUIRE(types(broker.on_submit(partial, kDay0)) == std::vector{ExecType::new_, ExecType::partial_fill});
  REQUIRE(types(broker.on_submit(filled, kDay0)) == std::vector{ExecType::new_, ExecType::fill});
  REQUIRE(types(broker.on_submit(bad, kDay0)) == std::vector{ExecType::rejected});
  REQUIRE(types(broker.on_submit(canceled, kDay0)) == std::vector{ExecType::new_});
  REQUIRE(types(broker.on_cancel({.client_order_id = "c"}, kDay0)) == std::vector{ExecType::canceled});
  REQUIRE(broker.open_orders() == 2);

  for (const auto& o : {working, partial, filled, bad, canceled}) {
    INFO(o.client_order_id);
    const auto status = broker.order_status(o.client_order_id);
    CHECK(broker.on_submit(o, kDay0 + kSec).empty());
    auto later = o;
    later.ts_event = kDay0 + 99 * kSec;  // a resend stamped later is still the same order
    CHECK(broker.on_submit(later, kDay0 + 2 * kSec).empty());
    CHECK(broker.order_status(o.client_order_id) == status);
  }
  CHECK(broker.open_orders() == 2);
  // Nothing was filled twice, and exec_ids continue where they were.
  const auto next = broker.on_quote(sized("0.98", "0.99", "10", "100", kDay0 + 3 * kSec));
  REQUIRE(next.size() == 2);
  CHECK(next[0].client_order_id == "w");
  CHECK(next[0].exec_id == "w-2");
  CHECK(next[0].last_qty == dec("10"));
  CHECK(next[1].client_order_id == "p");
  CHECK(next[1].exec_id == "p-3");
  CHECK(next[1].last_qty == dec("6"));
  CHECK(next[1].cum_qty == dec("10"));
}

TEST_CASE("a reuse of a client_order_id with different content is still rejected as a duplicate",
          "[matching][resend]") {
  matching::PaperBroker broker;
  (void)broker.on_quote(quote("EURUSD", "1.00", "1.01", kDay0));
  const auto o = limit("x", Side::buy, "10", "0.99");
  (void)broker.on_submit(o, kDay0);

  auto qty = o;
  qty.quantity = dec("11");
  auto px = o;
  px.limit_price = dec("0.98");
  auto side = o;
  side.side = Side::sell;
  auto tif = o;
  tif.time_in_force = TimeInForce::day;
  auto strategy = o;
  strategy.strategy_id = "other";
  auto symbol = o;
  symbol.symbol = "GBPUSD";
  int n = 0;
  for (const auto& d : {qty, px, side, tif, strategy, symbol}) {
    const auto out = broker.on_submit(d, kDay0 + kSec);
    REQUIRE(out.size() == 1);
    CHECK(out[0].exec_type == ExecType::rejected);
    CHECK(out[0].text == "duplicate client_order_id");
    CHECK(out[0].exec_id == fmt::format("x-{}", 2 + n++));
  }
  CHECK(broker.order_status("x") == OrderStatus::new_);
  CHECK(broker.open_orders() == 1);
}

TEST_CASE("the new id of a replace is not a resend: an order.submit with it is a duplicate", "[matching][resend]") {
  matching::PaperBroker broker;
  (void)broker.on_quote(quote("EURUSD", "1.00", "1.01", kDay0));
  const auto o = limit("a", Side::buy, "10", "0.99");
  (void)broker.on_submit(o, kDay0);
  REQUIRE(types(broker.on_replace(replace("b", "a", "5"), kDay0)) == std::vector{ExecType::replaced});
  auto as_b = o;
  as_b.client_order_id = "b";
  as_b.quantity = dec("5");
  const auto out = broker.on_submit(as_b, kDay0 + 1);
  REQUIRE(out.size() == 1);
  CHECK(out[0].text == "duplicate client_order_id");
  // The original order.submit of the replaced id is a resend: nothing.
  CHECK(broker.on_submit(o, kDay0 + 2).empty());
  CHECK(broker.open_orders() == 1);
}
