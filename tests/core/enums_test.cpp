#include <catch2/catch.hpp>

#include <fmt/format.h>

#include "core/enums.hpp"

using namespace core;

TEST_CASE("new_ enumerators are spelled \"new\" on the wire", "[core][enums]") {
  CHECK(to_string(ExecType::new_) == "new");
  CHECK(to_string(OrderStatus::new_) == "new");
  CHECK(parse_exec_type("new") == ExecType::new_);
  CHECK(parse_order_status("new") == OrderStatus::new_);
  CHECK_FALSE(parse_exec_type("new_").has_value());
}

TEST_CASE("every enumerator round-trips through its wire spelling", "[core][enums]") {
  for (auto e : {ExecType::new_, ExecType::partial_fill, ExecType::fill, ExecType::canceled,
                 ExecType::rejected, ExecType::denied, ExecType::expired, ExecType::cancel_rejected,
                 ExecType::replaced, ExecType::pending_cancel}) {
    CHECK(parse_exec_type(to_string(e)) == e);
  }
  for (auto e : {OrderStatus::new_, OrderStatus::partially_filled, OrderStatus::filled,
                 OrderStatus::canceled, OrderStatus::rejected, OrderStatus::denied,
                 OrderStatus::expired}) {
    CHECK(parse_order_status(to_string(e)) == e);
  }
  for (auto e : {Side::buy, Side::sell}) CHECK(parse_side(to_string(e)) == e);
  for (auto e : {OrderType::market, OrderType::limit, OrderType::stop, OrderType::stop_limit}) CHECK(parse_order_type(to_string(e)) == e);
  for (auto e : {TimeInForce::day, TimeInForce::gtc, TimeInForce::ioc, TimeInForce::fok, TimeInForce::gtd}) {
    CHECK(parse_time_in_force(to_string(e)) == e);
  }
  for (auto e : {TradingState::active, TradingState::reducing, TradingState::halted}) {
    CHECK(parse_trading_state(to_string(e)) == e);
  }
  for (auto e : {AggressorSide::none, AggressorSide::buy, AggressorSide::sell}) {
    CHECK(parse_aggressor_side(to_string(e)) == e);
  }
  for (auto e : {PriceType::trade, PriceType::bid, PriceType::ask, PriceType::mid}) {
    CHECK(parse_price_type(to_string(e)) == e);
  }
}

TEST_CASE("wire spellings are the FIX names in snake_case", "[core][enums]") {
  CHECK(to_string(ExecType::partial_fill) == "partial_fill");
  CHECK(to_string(ExecType::cancel_rejected) == "cancel_rejected");
  CHECK(to_string(OrderStatus::partially_filled) == "partially_filled");
  CHECK(to_string(TimeInForce::gtc) == "gtc");
  CHECK(to_string(TimeInForce::gtd) == "gtd");
  CHECK(to_string(OrderType::stop_limit) == "stop_limit");
  CHECK(to_string(ExecType::replaced) == "replaced");
  CHECK(to_string(ExecType::pending_cancel) == "pending_cancel");
  CHECK(to_string(TradingState::halted) == "halted");
  CHECK(to_string(AggressorSide::none) == "none");
  CHECK(to_string(PriceType::mid) == "mid");
}

TEST_CASE("parsing is exact: no other case, no spaces, no abbreviations", "[core][enums]") {
  CHECK_FALSE(parse_side("BUY").has_value());
  CHECK_FALSE(parse_side("Buy").has_value());
  CHECK_FALSE(parse_side(" buy").has_value());
  CHECK_FALSE(parse_side("b").has_value());
  CHECK_FALSE(parse_side("").has_value());
  CHECK_FALSE(parse_order_type("stop-limit").has_value());
  CHECK_FALSE(parse_order_type("stoplimit").has_value());
  CHECK_FALSE(parse_time_in_force("GTD").has_value());
  CHECK_FALSE(parse_trading_state("halt").has_value());
  CHECK_FALSE(parse_order_status("cancelled").has_value());
}

TEST_CASE("enums format with fmt as their wire spelling", "[core][enums]") {
  CHECK(fmt::format("{}", Side::sell) == "sell");
  CHECK(fmt::format("{}/{}", ExecType::new_, OrderStatus::partially_filled) == "new/partially_filled");
  CHECK(fmt::format("[{:<7}]", TradingState::active) == "[active ]");
}

TEST_CASE("terminal order statuses are exactly the ones after which nothing happens", "[core][enums]") {
  CHECK_FALSE(is_terminal(OrderStatus::new_));
  CHECK_FALSE(is_terminal(OrderStatus::partially_filled));
  CHECK(is_terminal(OrderStatus::filled));
  CHECK(is_terminal(OrderStatus::canceled));
  CHECK(is_terminal(OrderStatus::rejected));
  CHECK(is_terminal(OrderStatus::denied));
  CHECK(is_terminal(OrderStatus::expired));
}
