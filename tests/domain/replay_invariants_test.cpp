// Long run on real data: MaCross -> RiskEngine -> PaperBroker -> Portfolio over every
// EURUSD quote of 2014-05-06 (shared/data), checking invariants that must hold at every step,
// with the default broker and with a simulated venue (latency, slippage, commissions).
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "helpers.hpp"
#include "matching/paper_broker.hpp"
#include "portfolio/portfolio.hpp"
#include "risk/pre_trade.hpp"
#include "strategy/ma_cross.hpp"

using core::ExecType;
using core::OrderStatus;
using core::Side;
using domain_test::dec;

namespace {

struct OrderTrack {
  core::Quantity quantity;
  core::Quantity cum_qty;
  __int128 notional_e16 = 0;  ///< sum of last_px.raw x last_qty.raw
  int terminal_reports = 0;
};

/// The exact volume-weighted price, half-even to 8 digits.
core::Price vwap(__int128 notional_e16, core::Quantity qty) {
  const std::int64_t d = qty.raw();
  __int128 q = notional_e16 / d;
  const __int128 r = notional_e16 % d;
  if (2 * r > d || (2 * r == d && (q & 1) != 0)) ++q;
  return core::Price::from_raw(static_cast<std::int64_t>(q));
}

struct Run {
  std::size_t orders = 0, denied = 0, fills = 0, rejected = 0;
  core::PerformanceReport final_report;
};

/// Replays every quote through the pipeline and checks invariants on every report.
/// `on_index` may change the risk state at quote i (halt / reduce / resume).
template <class OnIndex>
Run replay(const std::vector<core::Quote>& quotes, strategy::MaCrossConfig cfg, risk::Limits limits,
           OnIndex on_index, const matching::BrokerConfig& broker_cfg = {}) {
  strategy::MaCross strat{cfg};
  risk::RiskEngine risk{limits};
  matching::PaperBroker broker(broker_cfg);
  portfolio::Portfolio book;

  std::map<std::string, OrderTrack> orders;
  std::map<std::string, int> exec_ids;
  Run run;
  // Independent bookkeeping: cash flow and position from the fills list, equity = cash + pos x mark.
  core::Money cash;
  core::Quantity pos;
  core::Money gross;
  core::Price mark;
  core::Money peak, max_dd;
  auto check_equity = [&] {
    const core::Money equity = cash + mul(pos, mark);
    peak = max(peak, equity);
    max_dd = max(max_dd, peak - equity);
  };

  auto dispatch = [&](const core::ExecutionReport& r) {
    INFO("report " << r.exec_id << " " << core::to_string(r.exec_type) << " " << r.text);
    ++exec_ids[r.exec_id];
    REQUIRE(exec_ids[r.exec_id] == 1);  // exec_ids are unique
    auto& t = orders[r.client_order_id];
    CHECK(r.quantity == t.quantity);
    CHECK(r.cum_qty <= r.quantity);
    if (core::is_terminal(r.order_status)) {
      CHECK(r.leaves_qty.is_zero());
      ++t.terminal_reports;
    } else {
      CHECK(r.cum_qty + r.leaves_qty == r.quantity);
    }
    if (r.exec_type == ExecType::fill || r.exec_type == ExecType::partial_fill) {
      ++run.fills;
      t.cum_qty += r.last_qty;
      t.notional_e16 += static_cast<__int128>(r.last_px.raw()) * r.last_qty.raw();
      CHECK(r.cum_qty == t.cum_qty);
      CHECK(r.avg_px == vwap(t.notional_e16, t.cum_qty));
      if (r.commission) cash -= *r.commission;
      const core::Money value = mul(r.last_qty, r.last_px);
      gross += value;
      if (r.side == Side::buy) {
        pos += r.last_qty;
        cash -= value;
      } else {
        pos -= r.last_qty;
        cash += value;
      }
    }
    if (r.exec_type == ExecType::rejected) ++run.rejected;
    risk.on_execution(r);
    strat.on_execution(r);
    book.on_execution(r);
    if (r.last_qty.is_positive()) check_equity();
  };

  for (std::size_t i = 0; i < quotes.size(); ++i) {
    const auto& q = quotes[i];
    on_index(i, risk, q.ts_event);
    for (const auto& r : broker.on_quote(q)) dispatch(r);
    risk.on_quote(q);
    book.on_quote(q);
    mark = div(q.bid + q.ask, core::Decimal::from_int(2));
    check_equity();
    const auto o = strat.on_quote(q);
    if (!o) continue;
    ++run.orders;
    REQUIRE_FALSE(orders.contains(o->client_order_id));
    orders[o->client_order_id].quantity = o->quantity;
    const auto d = risk.check(*o);
    if (!d.approved) {
      ++run.denied;
      dispatch(risk::denied_report(*o, d.reason, q.ts_event));
    } else {
      for (const auto& r : broker.on_submit(*o, q.ts_event)) dispatch(r);
    }
    // IOC / denied: terminal at once without latency; with it, at the next quote.
    if (broker_cfg.latency_ns == 0) REQUIRE_FALSE(strat.in_flight(q.symbol).has_value());
  }

  for (const auto& [id, t] : orders) {
    INFO("order " << id);
    // Only an order sent on the very last quote may still be on its way.
    CHECK((t.terminal_reports == 1 || (broker.in_flight() == 1 && t.terminal_reports == 0)));
    CHECK(t.cum_qty <= t.quantity);
  }
  CHECK(broker.open_orders() == 0);
  if (broker_cfg.latency_ns == 0) CHECK(broker.in_flight() == 0);

  const auto s = book.snapshot(true);
  REQUIRE(s.positions.size() == 1);
  const auto& p = s.positions[0];
  CHECK(p.quantity == pos);
  CHECK(risk.position("EURUSD") == pos);
  CHECK(strat.position("EURUSD") == pos);
  CHECK(p.mark_px == mark);
  // Equity identity: total = cash + position x mark; realized = cash + position x avg_px
  // (the open cost of the FIFO lots; the crossover always holds one lot, opened by one
  // fill, so position x avg_px is that cost exactly).
  CHECK(s.total_pnl == cash + mul(pos, mark));
  CHECK(s.realized_pnl == cash + mul(pos, p.avg_px));
  CHECK(s.unrealized_pnl == mul(mark - p.avg_px, pos));
  CHECK(s.peak_pnl == peak);
  CHECK(s.max_drawdown == max_dd);
  CHECK(s.max_drawdown >= core::Money{});
  CHECK(s.peak_pnl >= s.total_pnl);
  CHECK(s.gross_notional_traded == gross);
  CHECK(s.fills == static_cast<std::int64_t>(run.fills));
  CHECK(s.orders == static_cast<std::int64_t>(run.orders));
  CHECK(s.orders_denied == static_cast<std::int64_t>(run.denied));
  CHECK(s.orders_rejected == static_cast<std::int64_t>(run.rejected));
  CHECK(s.ts_event == quotes.back().ts_event);
  run.final_report = s;
  return run;
}

}  // namespace

TEST_CASE("replay of a day of EURUSD quotes keeps order, position and P&L invariants", "[replay][matching][risk][portfolio][strategy]") {
  const auto quotes = domain_test::read_quotes(domain_test::shared_data_dir() + "quotes_EURUSD_2014-05-06.csv");
  REQUIRE(quotes.size() == 44'864);

  SECTION("default limits, always active") {
    const auto run = replay(quotes, {}, {}, [](std::size_t, risk::RiskEngine&, core::TimestampNs) {});
    CHECK(run.orders > 10);
    CHECK(run.fills == run.orders);  // every market IOC fills in full
    CHECK(run.denied == 0);
    CHECK(run.rejected == 0);
  }

  SECTION("halt, reducing and resume in the middle of the day, with order spacing") {
    auto state = [](std::size_t i, risk::RiskEngine& r, core::TimestampNs ts) {
      if (i == 10'000) REQUIRE(r.set_state(core::TradingState::halted, "drill", "manual", ts));
      if (i == 20'000) REQUIRE(r.set_state(core::TradingState::reducing, "drill", "manual", ts));
      if (i == 30'000) REQUIRE(r.set_state(core::TradingState::active, "", "manual", ts));
    };
    const auto run = replay(quotes, {.fast = 10, .slow = 50, .min_events_between_orders = 25},
                            {.max_order_qty = dec("1000000")}, state);
    CHECK(run.denied > 0);
    CHECK(run.fills > 0);
    CHECK(run.orders == run.fills + run.denied);
  }

  SECTION("a simulated venue: latency, slippage, commissions, tick and lot sizes") {
    matching::BrokerConfig venue{.commission_bps = dec("0.2"),
                                 .latency_ns = 250'000'000,  // 250 ms: the order meets the next quote
                                 .slippage_bps = dec("0.1"),
                                 .prob_slippage = dec("0.5"),
                                 .random_seed = 20140506};
    venue.instruments["EURUSD"] = {.tick_size = dec("0.00001"), .lot_size = dec("1")};
    const auto run = replay(quotes, {}, {}, [](std::size_t, risk::RiskEngine&, core::TimestampNs) {}, venue);
    CHECK(run.orders > 10);
    CHECK(run.fills >= run.orders - 1);  // every market IOC fills in full (the last may be in flight)
    CHECK(run.denied == 0);
    CHECK(run.rejected == 0);
    const auto plain = replay(quotes, {}, {}, [](std::size_t, risk::RiskEngine&, core::TimestampNs) {});
    // Latency and slippage cost money: the same signals trade worse.
    CHECK(run.final_report.realized_pnl < plain.final_report.realized_pnl);
  }

  SECTION("notional limit below a flip denies every flip") {
    // 2000 EUR x ~1.39 > 2000 USD; 1000 EUR x ~1.39 < 2000 USD: only the first order passes.
    const auto run = replay(quotes, {}, {.max_order_notional = dec("2000")},
                            [](std::size_t, risk::RiskEngine&, core::TimestampNs) {});
    CHECK(run.fills == 1);
    CHECK(run.denied == run.orders - 1);
    CHECK(run.final_report.positions[0].quantity.is_zero() == false);
  }
}
