/// @file enums.hpp
/// @brief Trading enumerations with their wire spelling (FIX names in snake_case).
///
/// `to_string` gives the exact JSON spelling; `parse_*` accepts exactly that
/// spelling (lowercase) and returns nullopt otherwise. Pure and thread-safe.
#pragma once

#include <optional>
#include <string_view>

#include <fmt/format.h>

namespace core {

enum class Side { buy, sell };                                  ///< FIX 54
/// FIX 40. `stop`: a market order once triggered; `stop_limit`: a limit order once triggered
/// (buy: ask >= stop_price, sell: bid <= stop_price).
enum class OrderType { market, limit, stop, stop_limit };
/// FIX 59. `gtd` works until `expire_time` (good till date).
enum class TimeInForce { day, gtc, ioc, fok, gtd };
/// FIX 150. `denied` is our pre-trade risk refusing the order (FIX: Rejected
/// with OrdRejReason=99 "other"); `rejected` is the (paper) venue refusing it;
/// `cancel_rejected` answers a cancel or replace that could not be done (FIX 35=9);
/// `replaced` confirms a cancel/replace (reported on the NEW client_order_id);
/// `pending_cancel` acknowledges a cancel before it is done: the paper broker sends it
/// when it has latency (BrokerConfig::latency_ns > 0), then `canceled` once the cancel
/// reaches the simulated market.
enum class ExecType {
  new_, partial_fill, fill, canceled, rejected, denied, expired, cancel_rejected, replaced, pending_cancel
};
/// FIX 39.
enum class OrderStatus { new_, partially_filled, filled, canceled, rejected, denied, expired };
enum class TradingState { active, reducing, halted };
/// An instrument's status at the (paper) venue: `halted` = the venue accepts no
/// new orders and fills nothing on that symbol (e.g. a LULD pause, a news halt).
enum class InstrumentState { trading, halted };
/// A corporate action (core::CorporateAction): a stock split (or reverse split), or a
/// cash dividend.
enum class ActionKind { split, dividend };
enum class AggressorSide { none, buy, sell };
/// What a bar's prices are: trades (default), the bid side or the ask side.
enum class PriceType { trade, bid, ask, mid };

std::string_view to_string(Side) noexcept;
std::string_view to_string(OrderType) noexcept;
std::string_view to_string(TimeInForce) noexcept;
std::string_view to_string(ExecType) noexcept;      ///< new_ -> "new"
std::string_view to_string(OrderStatus) noexcept;   ///< new_ -> "new"
std::string_view to_string(TradingState) noexcept;
std::string_view to_string(InstrumentState) noexcept;
std::string_view to_string(ActionKind) noexcept;
std::string_view to_string(AggressorSide) noexcept;
std::string_view to_string(PriceType) noexcept;

std::optional<Side> parse_side(std::string_view) noexcept;
std::optional<OrderType> parse_order_type(std::string_view) noexcept;
std::optional<TimeInForce> parse_time_in_force(std::string_view) noexcept;
std::optional<ExecType> parse_exec_type(std::string_view) noexcept;
std::optional<OrderStatus> parse_order_status(std::string_view) noexcept;
std::optional<TradingState> parse_trading_state(std::string_view) noexcept;
std::optional<InstrumentState> parse_instrument_state(std::string_view) noexcept;
std::optional<ActionKind> parse_action_kind(std::string_view) noexcept;
std::optional<AggressorSide> parse_aggressor_side(std::string_view) noexcept;
std::optional<PriceType> parse_price_type(std::string_view) noexcept;

/// True for an order status after which nothing more happens to the order.
constexpr bool is_terminal(OrderStatus s) noexcept {
  return s == OrderStatus::filled || s == OrderStatus::canceled || s == OrderStatus::rejected ||
         s == OrderStatus::denied || s == OrderStatus::expired;
}

}  // namespace core

#define TRADER_ENUM_FORMATTER(E)                                                   \
  template <>                                                                      \
  struct fmt::formatter<E> : fmt::formatter<std::string_view> {                    \
    template <class Ctx>                                                           \
    auto format(E e, Ctx& ctx) const {                                             \
      return fmt::formatter<std::string_view>::format(core::to_string(e), ctx);    \
    }                                                                              \
  };
TRADER_ENUM_FORMATTER(core::Side)
TRADER_ENUM_FORMATTER(core::OrderType)
TRADER_ENUM_FORMATTER(core::TimeInForce)
TRADER_ENUM_FORMATTER(core::ExecType)
TRADER_ENUM_FORMATTER(core::OrderStatus)
TRADER_ENUM_FORMATTER(core::TradingState)
TRADER_ENUM_FORMATTER(core::InstrumentState)
TRADER_ENUM_FORMATTER(core::ActionKind)
TRADER_ENUM_FORMATTER(core::AggressorSide)
TRADER_ENUM_FORMATTER(core::PriceType)
#undef TRADER_ENUM_FORMATTER
