// risk-state: pre-trade checks and the trading state (active | reducing | halted).
#include <fmt/format.h>

#include "workers/recorder.hpp"

#include "workers/risk_state.hpp"
#include "workers/manifest.hpp"
#include "workers/worker_main.hpp"

namespace {

std::optional<core::Decimal> optional_decimal(const config::Settings& s, const std::string& key) {
  if (s.get(key).empty()) return std::nullopt;  // "" = this limit is off
  return s.get_decimal(key);
}

/// drawdown_action: what a max_drawdown breach does, "reducing" or "halted".
core::TradingState drawdown_action(const config::Settings& s) {
  const std::string& v = s.get("drawdown_action");
  if (v == "reducing") return core::TradingState::reducing;
  if (v == "halted") return core::TradingState::halted;
  throw config::ConfigError(fmt::format("drawdown_action: must be \"reducing\" or \"halted\", got \"{}\"", v));
}

risk::RiskPolicy policy_from(const config::Settings& s) {
  risk::RiskPolicy p;
  auto& lim = p.defaults;
  lim.max_order_qty = s.get_decimal("max_order_qty");
  lim.max_order_notional = s.get_decimal("max_order_notional");
  lim.max_position = optional_decimal(s, "max_position");
  lim.max_gross_exposure = optional_decimal(s, "max_gross_exposure");
  lim.max_open_orders = s.get_int("max_open_orders");
  lim.price_band_bps = optional_decimal(s, "price_band_bps");
  lim.max_orders_per_window = s.get_int("max_orders_per_window");
  lim.rate_window_ns = s.get_int("rate_window_ms") * 1'000'000;
  lim.daily_loss_limit = optional_decimal(s, "daily_loss_limit");
  lim.max_drawdown = optional_decimal(s, "max_drawdown");
  lim.drawdown_action = drawdown_action(s);
  if (const auto err = risk::validate(p)) throw config::ConfigError(err->to_string());
  return p;
}

}  // namespace

int main(int argc, char** argv) try {
  services::block_termination_signals();
  const auto s = services::load_settings(
      "risk-state", "Checks every order on trading.orders before it reaches the broker (docs/trading-rules.md).",
      {{"max_order_qty", "RISK_MAX_ORDER_QTY", "1000000", "largest quantity of one order"},
       {"max_order_notional", "RISK_MAX_ORDER_NOTIONAL", "10000000", "largest quantity x price of one order"},
       {"max_position", "RISK_MAX_POSITION", "", "largest |position| per symbol after a fill, working orders on its side included (\"\" = off)"},
       {"max_gross_exposure", "RISK_MAX_GROSS_EXPOSURE", "", "largest sum of worst-case |position| x price, working orders included (\"\" = off)"},
       {"max_open_orders", "RISK_MAX_OPEN_ORDERS", "0", "orders approved and not yet done (0 = off)"},
       {"price_band_bps", "RISK_PRICE_BAND_BPS", "", "fat-finger band around the mid, basis points (\"\" = off)"},
       {"max_orders_per_window", "RISK_MAX_ORDERS_PER_WINDOW", "0", "orders per strategy per window (0 = off)"},
       {"rate_window_ms", "RISK_RATE_WINDOW_MS", "1000", "the order-rate window, event time"},
       {"daily_loss_limit", "RISK_DAILY_LOSS_LIMIT", "", "loss in a UTC day that halts trading (\"\" = off)"},
       {"max_drawdown", "RISK_MAX_DRAWDOWN", "", "drawdown from peak equity that trips drawdown_action (\"\" = off)"},
       {"drawdown_action", "RISK_DRAWDOWN_ACTION", "reducing", "what a max_drawdown breach does: reducing or halted"},
       {"stream", "RISK_STREAM", "EVENTS", "JetStream stream of the event log (history at start)"}},
      argc, argv, [](const config::Settings& st) { policy_from(st); });
  if (!s) return 0;
  natsio::Library lib;
  natsio::Connection conn(services::worker_nats(*s, "risk-state"));
  core::SystemClock clock;
  services::Runtime rt(conn, "risk-state", clock, s->get_int("heartbeat_ms"));
  const auto store = services::open_history_store(*s, "risk-state");
  services::wait_for_event_stream(conn, s->get("stream"));
  const services::Announcement announcement(rt, *s);
  services::RiskService svc(rt, policy_from(*s), store.get(), s->get("stream"));
  const auto& h = svc.history();
  fmt::print(stderr, "risk-state: rebuilt from {} events ({} from the store, {} from the stream{}{}); {} orders decided late\n",
             h.from_store + h.from_stream, h.from_store, h.from_stream, h.store_problem.empty() ? "" : "; store: ",
             h.store_problem, svc.decided_late());
  conn.flush();
  rt.start_heartbeat();
  fmt::print(stderr, "risk-state: ready ({})\n", services::redact_secrets(s->get("nats_url")));
  services::wait_for_termination();
  return 0;
} catch (const std::exception& e) {
  fmt::print(stderr, "risk-state: {}\n", e.what());
  return 1;
}
