#include "core/enums.hpp"

#include <array>
#include <utility>

namespace core {
namespace {

// One table per enum, indexed by the enumerator's value: the wire spelling is
// written once and both directions use it.
constexpr std::array<std::string_view, 2> kSide{"buy", "sell"};
constexpr std::array<std::string_view, 4> kOrderType{"market", "limit", "stop", "stop_limit"};
constexpr std::array<std::string_view, 5> kTimeInForce{"day", "gtc", "ioc", "fok", "gtd"};
constexpr std::array<std::string_view, 10> kExecType{
    "new",     "partial_fill", "fill",           "canceled", "rejected",
    "denied",  "expired",      "cancel_rejected", "replaced", "pending_cancel"};
constexpr std::array<std::string_view, 7> kOrderStatus{
    "new", "partially_filled", "filled", "canceled", "rejected", "denied", "expired"};
constexpr std::array<std::string_view, 3> kTradingState{"active", "reducing", "halted"};
constexpr std::array<std::string_view, 2> kInstrumentState{"trading", "halted"};
constexpr std::array<std::string_view, 2> kActionKind{"split", "dividend"};
constexpr std::array<std::string_view, 3> kAggressorSide{"none", "buy", "sell"};
constexpr std::array<std::string_view, 4> kPriceType{"trade", "bid", "ask", "mid"};

template <class E, std::size_t N>
std::string_view name_of(const std::array<std::string_view, N>& names, E e) noexcept {
  const auto i = static_cast<std::size_t>(e);
  return i < N ? names[i] : std::string_view("?");
}

template <class E, std::size_t N>
std::optional<E> lookup(const std::array<std::string_view, N>& names, std::string_view s) noexcept {
  for (std::size_t i = 0; i < N; ++i) {
    if (names[i] == s) return static_cast<E>(i);
  }
  return std::nullopt;
}

static_assert(static_cast<int>(ExecType::pending_cancel) == 9);
static_assert(static_cast<int>(OrderType::stop_limit) == 3);
static_assert(static_cast<int>(TimeInForce::gtd) == 4);
static_assert(static_cast<int>(OrderStatus::expired) == 6);
static_assert(static_cast<int>(PriceType::mid) == 3);

}  // namespace

std::string_view to_string(Side e) noexcept { return name_of(kSide, e); }
std::string_view to_string(OrderType e) noexcept { return name_of(kOrderType, e); }
std::string_view to_string(TimeInForce e) noexcept { return name_of(kTimeInForce, e); }
std::string_view to_string(ExecType e) noexcept { return name_of(kExecType, e); }
std::string_view to_string(OrderStatus e) noexcept { return name_of(kOrderStatus, e); }
std::string_view to_string(TradingState e) noexcept { return name_of(kTradingState, e); }
std::string_view to_string(InstrumentState e) noexcept { return name_of(kInstrumentState, e); }
std::string_view to_string(ActionKind e) noexcept { return name_of(kActionKind, e); }
std::string_view to_string(AggressorSide e) noexcept { return name_of(kAggressorSide, e); }
std::string_view to_string(PriceType e) noexcept { return name_of(kPriceType, e); }

std::optional<Side> parse_side(std::string_view s) noexcept { return lookup<Side>(kSide, s); }
std::optional<OrderType> parse_order_type(std::string_view s) noexcept {
  return lookup<OrderType>(kOrderType, s);
}
std::optional<TimeInForce> parse_time_in_force(std::string_view s) noexcept {
  return lookup<TimeInForce>(kTimeInForce, s);
}
std::optional<ExecType> parse_exec_type(std::string_view s) noexcept {
  return lookup<ExecType>(kExecType, s);
}
std::optional<OrderStatus> parse_order_status(std::string_view s) noexcept {
  return lookup<OrderStatus>(kOrderStatus, s);
}
std::optional<TradingState> parse_trading_state(std::string_view s) noexcept {
  return lookup<TradingState>(kTradingState, s);
}
std::optional<InstrumentState> parse_instrument_state(std::string_view s) noexcept {
  return lookup<InstrumentState>(kInstrumentState, s);
}
std::optional<ActionKind> parse_action_kind(std::string_view s) noexcept {
  return lookup<ActionKind>(kActionKind, s);
}
std::optional<AggressorSide> parse_aggressor_side(std::string_view s) noexcept {
  return lookup<AggressorSide>(kAggressorSide, s);
}
std::optional<PriceType> parse_price_type(std::string_view s) noexcept {
  return lookup<PriceType>(kPriceType, s);
}

}  // namespace core
