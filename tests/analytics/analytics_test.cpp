// pkg/analytics: every statistic against an example computed by hand (the arithmetic is
// in the comments), with the formula's source (docs/statistics.md).
#include <catch2/catch.hpp>

#include <cmath>
#include <optional>
#include <set>
#include <string>

#include <simdjson.h>

#include "analytics/analytics.hpp"
#include "codec/codec.hpp"

namespace {

using core::Decimal;
using core::TimestampNs;

Decimal D(const char* s) { return *Decimal::parse(s); }

constexpr core::DurationNs kHour = 3600 * core::kNsPerSecond;
// 2024-01-02 is a Tuesday: d1..d4 are Tuesday..Friday.
const TimestampNs d1 = core::days_from_civil_ns(2024, 1, 2);
const TimestampNs d2 = d1 + core::kNsPerDay, d3 = d2 + core::kNsPerDay, d4 = d3 + core::kNsPerDay;

core::Quote quote(const std::string& symbol, const char* bid, const char* ask, TimestampNs ts) {
  return core::Quote{.symbol = symbol, .bid = D(bid), .ask = D(ask), .ts_event = ts};
}
/// A locked quote: bid = ask = mid.
core::Quote at(const std::string& symbol, const char* px, TimestampNs ts) { return quote(symbol, px, px, ts); }

int g_exec = 0;

core::ExecutionReport fill(const std::string& symbol, core::Side side, const char* qty, const char* px, TimestampNs ts,
                           const std::string& strategy = "s1", std::optional<const char*> commission = std::nullopt) {
  core::ExecutionReport r;
  r.client_order_id = strategy + "-" + std::to_string(++g_exec);
  r.exec_id = r.client_order_id + "-1";
  r.exec_type = core::ExecType::fill;
  r.order_status = core::OrderStatus::filled;
  r.symbol = symbol;
  r.side = side;
  r.quantity = D(qty);
  r.last_qty = D(qty);
  r.last_px = D(px);
  r.cum_qty = D(qty);
  r.avg_px = D(px);
  r.strategy_id = strategy;
  r.ts_event = ts;
  if (commission) r.commission = D(*commission);
  return r;
}

core::ExecutionReport refused(core::ExecType t, const std::string& symbol, const std::string& text, TimestampNs ts) {
  core::ExecutionReport r;
  r.client_order_id = "r-" + std::to_string(++g_exec);
  r.exec_id = r.client_order_id + "-1";
  r.exec_type = t;
  r.order_status = t == core::ExecType::denied ? core::OrderStatus::denied : core::OrderStatus::rejected;
  r.symbol = symbol;
  r.quantity = D("1");
  r.text = text;
  r.strategy_id = "s1";
  r.ts_event = ts;
  return r;
}

bool has_warning(const analytics::Analysis& an, const std::string& text) {
  for (const auto& w : an.warnings)
    if (w.find(text) != std::string::npos) return true;
  return false;
}

analytics::Settings capital(const char* c) {
  analytics::Settings s;
  s.starting_capital = D(c);
  return s;
}

/// The four-day example of the Sharpe, Sortino, Calmar and drawdown tests. Capital 1000;
/// long 10 X from 10; equity = 1000 + 10 x (mid - 10). Daily closes 1010, 999.9,
/// 1019.898, 1009.69902: returns +1 %, -1 %, +2 %, -1 %.
analytics::Analyzer four_days() {
  analytics::Analyzer a(capital("1000"));
  a.on_market_data(at("X", "10", d1 + 9 * kHour));
  a.on_execution(fill("X", core::Side::buy, "10", "10", d1 + 9 * kHour));
  a.on_market_data(at("X", "11", d1 + 12 * kHour));         // equity 1010
  a.on_market_data(at("X", "9.99", d2 + 12 * kHour));       // 999.9  (1010 x 0.99)
  a.on_market_data(at("X", "11.9898", d3 + 12 * kHour));    // 1019.898 (999.9 x 1.02)
  a.on_market_data(at("X", "10.969902", d4 + 12 * kHour));  // 1009.69902 (1019.898 x 0.99)
  a.on_execution(fill("X", core::Side::sell, "10", "10.969902", d4 + 16 * kHour));
  a.on_market_data(at("X", "10.5", d4 + 18 * kHour));       // flat: equity stays 1009.69902
  return a;
}

}  // namespace

TEST_CASE("sharpe is the mean excess daily return over its sample deviation times sqrt(N) (Sharpe 1994)",
          "[analytics][sharpe]") {
  const auto an = four_days().analysis();
  // r = 0.01, -0.01, 0.02, -0.01; mean 0.0025; deviations 0.0075, -0.0125, 0.0175, -0.0125;
  // squares 0.00005625 + 0.00015625 + 0.00030625 + 0.00015625 = 0.000675; / (4 - 1) = 0.000225;
  // sd 0.015; 0.0025 / 0.015 = 1/6; x sqrt(252) = 2.6457513...
  REQUIRE(an.totals.daily_returns == 4);
  REQUIRE(an.settings.periods_per_year == 252);
  REQUIRE(an.totals.sharpe);
  CHECK(*an.totals.sharpe == Approx(std::sqrt(252.0) / 6.0).epsilon(1e-9));
  // With a risk-free rate of 2.52 % a year: 0.0001 a day; excess mean 0.0024, same sd:
  // 0.0024 / 0.015 = 0.16; x sqrt(252) = 2.5399...
  const auto s = analytics::sharpe_ratio({0.01, -0.01, 0.02, -0.01}, 252, 0.0252);
  REQUIRE(s);
  CHECK(*s == Approx(0.16 * std::sqrt(252.0)).epsilon(1e-9));
}

TEST_CASE("sortino divides by the downside deviation over all periods (Sortino and Price 1994)",
          "[analytics][sortino]") {
  const auto an = four_days().analysis();
  // Target 0: min(0, r) = 0, -0.01, 0, -0.01; squares 0.0001 + 0.0001 = 0.0002; / 4 (ALL
  // periods) = 0.00005; DD = sqrt(0.00005) = 0.00707106...; 0.0025 / DD = 0.35355339...;
  // x sqrt(252) = 5.6124861...
  REQUIRE(an.totals.sortino);
  CHECK(*an.totals.sortino == Approx(0.0025 / std::sqrt(0.00005) * std::sqrt(252.0)).epsilon(1e-9));
  CHECK(*an.totals.sortino == Approx(5.6124861).epsilon(1e-7));
}

TEST_CASE("calmar is the annualized return over the whole span divided by the max drawdown (Young 1991)",
          "[analytics][calmar]") {
  const auto an = four_days().analysis();
  // return_pct = 9.69902 / 1000 = 0.00969902. Annualized over 4 daily returns with N = 252:
  // 1.00969902^(252/4) - 1 = 1.00969902^63 - 1 = 0.83697...
  // max drawdown pct = max(10.1 / 1010, 10.19898 / 1019.898) = 0.01; Calmar = 83.697...
  REQUIRE(an.totals.return_pct);
  CHECK(*an.totals.return_pct == Approx(0.00969902).epsilon(1e-12));
  REQUIRE(an.totals.annualized_return_pct);
  CHECK(*an.totals.annualized_return_pct == Approx(std::pow(1.00969902, 63.0) - 1.0).epsilon(1e-9));
  CHECK(an.totals.max_drawdown_pct == Approx(0.01).epsilon(1e-12));
  REQUIRE(an.totals.calmar);
  CHECK(*an.totals.calmar == Approx((std::pow(1.00969902, 63.0) - 1.0) / 0.01).epsilon(1e-9));
}

TEST_CASE("max drawdown is in money and as a fraction of the peak, with its duration to the end when not recovered",
          "[analytics][drawdown]") {
  const auto an = four_days().analysis();
  // Episodes: peak 1010 (d1 12:00) -> 999.9 (dd 10.1) -> recovered d3 12:00;
  // peak 1019.898 (d3 12:00) -> 1009.69902 (dd 10.19898), never recovered: the max,
  // lasting from d3 12:00 to the end of the span (d4 18:00) = 30 h.
  CHECK(an.totals.max_drawdown == D("10.19898"));
  CHECK(an.totals.max_drawdown_duration_ns == 30 * kHour);
  CHECK(an.totals.pnl_total == D("9.69902"));
  CHECK(an.totals.pnl_realized == D("9.69902"));
  CHECK(an.totals.pnl_unrealized == D("0"));
}

TEST_CASE("the max drawdown's duration runs from its peak to the recovery of that peak", "[analytics][drawdown]") {
  analytics::Analyzer a(capital("1000"));
  a.on_market_data(at("X", "10", d1));
  a.on_execution(fill("X", core::Side::buy, "1", "10", d1));
  a.on_market_data(at("X", "20", d1 + 1 * kHour));  // equity 1010: the peak
  a.on_market_data(at("X", "0.00000001", d1 + 2 * kHour));  // 990.00000001: dd 19.99999999
  a.on_market_data(at("X", "20", d1 + 5 * kHour));  // 1010 again: recovered after 4 h
  a.on_market_data(at("X", "15", d1 + 6 * kHour));  // dd 5: not the max
  const auto an = a.analysis();
  // dd = 1010 - (1000 + 0.00000001 - 10) = 19.99999999; pct 19.99999999 / 1010.
  CHECK(an.totals.max_drawdown == D("19.99999999"));
  CHECK(an.totals.max_drawdown_pct == Approx(19.99999999 / 1010).epsilon(1e-12));
  CHECK(an.totals.max_drawdown_duration_ns == 4 * kHour);
}

TEST_CASE("turnover, time in the market and the span come from the fills and the event times",
          "[analytics][turnover]") {
  const auto an = four_days().analysis();
  // Gross notional 10 x 10 + 10 x 10.969902 = 209.69902; / 1000 = 0.20969902.
  CHECK(an.totals.gross_notional_traded == D("209.69902"));
  CHECK(an.totals.turnover == Approx(0.20969902).epsilon(1e-12));
  // In the market d1 09:00 .. d4 16:00 = 79 h of the span d1 09:00 .. d4 18:00 = 81 h.
  CHECK(an.totals.time_in_market_pct == Approx(79.0 / 81.0).epsilon(1e-12));
  CHECK(an.first_ts == d1 + 9 * kHour);
  CHECK(an.last_ts == d4 + 18 * kHour);
}

TEST_CASE("round trips go flat to flat with partial closes, a flip and commissions (LEAN FlatToFlat)",
          "[analytics][round_trips]") {
  analytics::Analyzer a(capital("100000"));
  const TimestampNs t = d1;
  a.on_execution(fill("X", core::Side::buy, "100", "10", t + 1, "s1", "1"));
  a.on_execution(fill("X", core::Side::buy, "50", "11", t + 2, "s1", "0.5"));    // long 150
  a.on_execution(fill("X", core::Side::sell, "100", "12", t + 3, "s1", "1"));    // long 50: partial close
  a.on_execution(fill("X", core::Side::sell, "80", "13", t + 4, "s1", "0.8"));   // flip: closes 50, short 30
  a.on_execution(fill("X", core::Side::buy, "30", "12.5", t + 5, "s1", "0.3"));  // flat
  a.on_execution(fill("X", core::Side::buy, "10", "12", t + 6));
  a.on_execution(fill("X", core::Side::sell, "10", "11", t + 7));
  const auto an = a.analysis();
  REQUIRE(an.round_trips.size() == 3);
  // Trip 1: long 150; entry 100 x 10 + 50 x 11 = 1550 (px 1550 / 150 = 10.33333333);
  // exit 100 x 12 + 50 x 13 = 1850 (px 12.33333333); gross 300; the flip's commission 0.8
  // split by quantity: 0.8 x 50 / 80 = 0.5 here, 0.3 to trip 2; commission 1 + 0.5 + 1 +
  // 0.5 = 3; pnl 297.
  const auto& r1 = an.round_trips[0];
  CHECK(r1.is_long);
  CHECK(r1.quantity == D("150"));
  CHECK(r1.entry_px == D("10.33333333"));
  CHECK(r1.exit_px == D("12.33333333"));
  CHECK(r1.commission == D("3"));
  CHECK(r1.pnl == D("297"));
  CHECK(r1.entry_ts == t + 1);
  CHECK(r1.exit_ts == t + 4);
  CHECK(r1.holding_ns == 3);
  // Trip 2: short 30 from 13 (the flip), covered at 12.5: 30 x 0.5 = 15 - (0.3 + 0.3) = 14.4.
  const auto& r2 = an.round_trips[1];
  CHECK_FALSE(r2.is_long);
  CHECK(r2.quantity == D("30"));
  CHECK(r2.entry_px == D("13"));
  CHECK(r2.exit_px == D("12.5"));
  CHECK(r2.commission == D("0.6"));
  CHECK(r2.pnl == D("14.4"));
  CHECK(r2.entry_ts == t + 4);
  // Trip 3: long 10, 12 -> 11: -10.
  CHECK(an.round_trips[2].pnl == D("-10"));
  // wins 2, losses 1; win rate 2/3; profit factor (297 + 14.4) / 10 = 31.14;
  // expectancy (297 + 14.4 - 10) / 3 = 100.4666666... -> 100.46666667 (8 digits, half-even);
  // avg win 311.4 / 2 = 155.7; avg loss -10.
  const auto& s = an.totals;
  CHECK(s.round_trips == 3);
  CHECK(s.wins == 2);
  CHECK(s.losses == 1);
  CHECK(*s.win_rate == Approx(2.0 / 3.0));
  CHECK(*s.profit_factor == Approx(31.14).epsilon(1e-12));
  CHECK(s.expectancy == D("100.46666667"));
  CHECK(s.avg_win == D("155.7"));
  CHECK(s.avg_loss == D("-10"));
  CHECK(s.commission == D("3.6"));
  // Realized before commissions (the portfolio's): 300 + 15 - 10 = 305, net 305 - 3.6 =
  // 301.4; average cost rounds 1550 / 150 to 10.33333333, so the portfolio may be off by
  // its rounding (305.00000035) where the round trips' notional sums are exact.
  CHECK(abs(s.pnl_realized_gross - D("305")) <= D("0.000001"));
  CHECK(s.pnl_realized_gross - s.pnl_realized == D("3.6"));
  REQUIRE(an.positions.size() == 7);
  CHECK(an.positions[3].quantity == D("-30"));
}

TEST_CASE("round trips are grouped per strategy_id: two strategies on one symbol do not net",
          "[analytics][round_trips]") {
  analytics::Analyzer a(capital("100000"));
  a.on_execution(fill("X", core::Side::buy, "10", "10", d1 + 1, "a"));
  a.on_execution(fill("X", core::Side::sell, "10", "11", d1 + 2, "b"));  // b opens a short; a is still long
  a.on_execution(fill("X", core::Side::sell, "10", "12", d1 + 3, "a"));  // a: +20
  a.on_execution(fill("X", core::Side::buy, "10", "10", d1 + 4, "b"));   // b: +10
  const auto an = a.analysis();
  REQUIRE(an.round_trips.size() == 2);
  CHECK(an.round_trips[0].strategy_id == "a");
  CHECK(an.round_trips[0].pnl == D("20"));
  CHECK(an.round_trips[1].strategy_id == "b");
  CHECK(an.round_trips[1].pnl == D("10"));
  REQUIRE(an.per_strategy.size() == 2);
  CHECK(an.per_strategy[0].stats.pnl_total == D("20"));
  CHECK(an.per_strategy[1].stats.pnl_total == D("10"));
  CHECK(an.totals.pnl_total == D("30"));
  REQUIRE(an.per_symbol.size() == 1);
  CHECK(an.per_symbol[0].stats.round_trips == 2);
}

TEST_CASE("a dividend while a round trip is open counts in its pnl and a split scales its quantities",
          "[analytics][round_trips][corporate_actions]") {
  analytics::Analyzer a(capital("100000"));
  a.on_market_data(at("X", "100", d1));
  a.on_execution(fill("X", core::Side::buy, "10", "100", d1 + 1));
  a.on_event("market.data.X", codec::encode(core::CorporateAction{
                                  .symbol = "X", .action = core::ActionKind::dividend, .amount = D("0.5"), .ts_event = d2}));
  a.on_corporate_action({.symbol = "X", .action = core::ActionKind::split, .ratio = D("2"), .ts_event = d3});
  a.on_market_data(at("X", "55", d3 + kHour));
  a.on_execution(fill("X", core::Side::sell, "20", "55", d3 + 2 * kHour));
  const auto an = a.analysis();
  // Dividend 10 x 0.5 = 5; after the 2-for-1 split the position is 20 from 1000 / 20 = 50;
  // sold at 55: 20 x 55 - 1000 = 100; the round trip: 100 + 5 = 105.
  REQUIRE(an.round_trips.size() == 1);
  CHECK(an.round_trips[0].quantity == D("20"));
  CHECK(an.round_trips[0].entry_px == D("50"));
  CHECK(an.round_trips[0].exit_px == D("55"));
  CHECK(an.round_trips[0].pnl == D("105"));
  CHECK(an.totals.dividends == D("5"));
  CHECK(an.totals.pnl_total == D("105"));
  CHECK(an.per_strategy[0].stats.pnl_total == D("105"));
  CHECK(an.per_symbol[0].stats.pnl_total == D("105"));
}

TEST_CASE("slippage is paid against the touch at fill time, and is 0 without a quote", "[analytics][slippage]") {
  analytics::Analyzer a(capital("100000"));
  a.on_market_data(quote("X", "9.99", "10.01", d1));
  a.on_execution(fill("X", core::Side::buy, "100", "10.02", d1 + 1));   // (10.02 - 10.01) x 100 = 1
  a.on_execution(fill("X", core::Side::sell, "100", "9.98", d1 + 2));   // (9.99 - 9.98) x 100 = 1
  a.on_market_data(core::Trade{.symbol = "Y", .price = D("50"), .size = D("1"), .ts_event = d1 + 3});
  a.on_execution(fill("Y", core::Side::buy, "1", "51", d1 + 4));        // no quote of Y: 0
  const auto an = a.analysis();
  CHECK(an.totals.slippage == D("2"));
  REQUIRE(an.per_symbol.size() == 2);
  CHECK(an.per_symbol[0].stats.slippage == D("2"));
  CHECK(an.per_symbol[1].stats.slippage == D("0"));
  REQUIRE(an.fills.size() == 3);
  CHECK(an.fills[0].slippage == D("1"));
}

TEST_CASE("rejections and denials are counted by reason", "[analytics][rejections]") {
  analytics::Analyzer a;
  for (int i = 0; i < 16; ++i)
    a.on_execution(refused(core::ExecType::rejected, "NZDUSD", "unknown symbol NZDUSD", d1 + i));
  a.on_execution(refused(core::ExecType::denied, "EURUSD", "trading halted: desk", d1 + 20));
  a.on_execution(refused(core::ExecType::denied, "EURUSD", "trading halted: desk", d1 + 21));
  a.on_execution(refused(core::ExecType::denied, "EURUSD", "max_order_qty exceeded", d1 + 22));
  const auto an = a.analysis();
  REQUIRE(an.rejections.size() == 3);
  CHECK(an.rejections[0].exec_type == "denied");
  CHECK(an.rejections[0].reason == "trading halted: desk");
  CHECK(an.rejections[0].count == 2);
  CHECK(an.rejections[2].exec_type == "rejected");
  CHECK(an.rejections[2].count == 16);
  CHECK(an.totals.orders_rejected == 16);
  CHECK(an.totals.orders_denied == 3);
  CHECK(an.totals.orders == 19);
  CHECK_THAT(analytics::to_text(an), Catch::Contains("rejected 16: unknown symbol NZDUSD"));
}

TEST_CASE("the analysis is interim until the session has a session.ended event", "[analytics][status]") {
  analytics::Analyzer a;
  a.on_event("market.data.X", codec::encode(at("X", "10", d1)));
  CHECK_FALSE(a.analysis().is_final);
  CHECK_THAT(analytics::to_json(a.analysis()), Catch::Contains(R"("status":"interim")"));
  CHECK_THAT(analytics::to_text(a.analysis()), Catch::Contains("Analysis (interim)"));
  a.on_event("session.lifecycle", codec::encode(core::SessionEnded{.session_id = "s", .ts_wall = 1}));
  CHECK(a.analysis().is_final);
  CHECK_THAT(analytics::to_json(a.analysis()), Catch::Contains(R"("status":"final")"));
}

TEST_CASE("logged events are decoded (market data, execution reports) and bad payloads are skipped with a warning",
          "[analytics][events]") {
  analytics::Analyzer a(capital("1000"));
  a.on_event("market.data.X", codec::encode(at("X", "10", d1)));
  a.on_event("trading.executions", codec::encode(fill("X", core::Side::buy, "1", "10", d1 + 1)));
  a.on_event("market.data.X", codec::encode(at("X", "12", d1 + 2)));
  a.on_event("market.data.X", R"({"type":"quote","symbol":"X","bid":"-1"})");
  a.on_event("trading.orders", R"({"type":"order.submit"})");  // not analyzed
  const auto an = a.analysis();
  CHECK(an.totals.pnl_total == D("2"));
  CHECK(an.totals.fills == 1);
  CHECK(has_warning(an, "1 events did not decode"));
}

TEST_CASE("periods_per_year is 365 with weekend trading (crypto), else 252, unless set", "[analytics][periods]") {
  const TimestampNs saturday = core::days_from_civil_ns(2020, 2, 22);  // BTCUSDT file's day
  const TimestampNs sunday = core::days_from_civil_ns(2012, 2, 5);
  {
    analytics::Analyzer a;
    a.on_market_data(at("BTCUSDT", "9700", saturday + kHour));
    CHECK(a.analysis().settings.periods_per_year == 365);
  }
  {
    analytics::Analyzer a;  // the FX week opens on Sunday evening UTC: not weekend trading
    a.on_market_data(at("GBPUSD", "1.57", sunday + 22 * kHour));
    a.on_market_data(at("GBPUSD", "1.57", sunday + 26 * kHour));
    CHECK(a.analysis().settings.periods_per_year == 252);
  }
  {
    analytics::Analyzer a;  // Sunday morning: crypto
    a.on_market_data(at("BTCUSDT", "9700", sunday + 10 * kHour));
    CHECK(a.analysis().settings.periods_per_year == 365);
  }
  {
    analytics::Analyzer a;  // a Friday's daily bar ends at Saturday 00:00: not weekend trading
    a.on_market_data(core::Bar{.symbol = "SPY", .open = D("1"), .high = D("1"), .low = D("1"), .close = D("1"),
                               .ts_event = core::days_from_civil_ns(1998, 1, 3)});
    CHECK(a.analysis().settings.periods_per_year == 252);
  }
  {
    analytics::Settings s;
    s.periods_per_year = 260;
    analytics::Analyzer a(s);
    a.on_market_data(at("BTCUSDT", "9700", saturday + kHour));
    CHECK(a.analysis().settings.periods_per_year == 260);
  }
}

TEST_CASE("one day of data has one daily return: sharpe, sortino, calmar are null and a warning says why",
          "[analytics][warnings]") {
  analytics::Analyzer a(capital("1000"));
  a.on_market_data(at("X", "10", d1));
  a.on_execution(fill("X", core::Side::buy, "1", "10", d1));
  a.on_market_data(at("X", "11", d1 + kHour));
  const auto an = a.analysis();
  CHECK(an.totals.daily_returns == 1);
  CHECK_FALSE(an.totals.sharpe);
  CHECK_FALSE(an.totals.sortino);
  CHECK_FALSE(an.totals.calmar);
  CHECK_FALSE(an.totals.annualized_return_pct);
  CHECK(has_warning(an, "sharpe is null: needs at least 2 daily returns, has 1"));
  CHECK(has_warning(an, "X (s1): position 1 still open at the end"));
  const auto json = analytics::to_json(an);
  CHECK_THAT(json, Catch::Contains(R"("sharpe":null)"));
}

TEST_CASE("flagged market data is not used, as every worker's MarketCheck", "[analytics][events]") {
  analytics::Analyzer a(capital("1000"));
  a.on_market_data(at("X", "10", d1));
  a.on_execution(fill("X", core::Side::buy, "1", "10", d1));
  a.on_market_data(quote("X", "30", "20", d1 + 1));  // crossed: would mark at 25
  const auto an = a.analysis();
  CHECK(an.totals.pnl_total == D("0"));
  CHECK(has_warning(an, "1 market data messages flagged and not used (core::MarketCheck; first: crossed quote"));
}

TEST_CASE("to_json writes the contract's keys, exact decimals as strings, and escapes every string",
          "[analytics][json]") {
  auto a = four_days();
  a.on_execution(refused(core::ExecType::rejected, "X", "bad \"<script>\" reason\n", d4 + 19 * kHour));
  const auto json = analytics::to_json(a.analysis("backtest of \"x\"", "backtest-1"));
  simdjson::ondemand::parser parser;
  simdjson::padded_string padded(json);
  auto doc = parser.iterate(padded);
  simdjson::ondemand::object root;
  REQUIRE_FALSE(doc.get_object().get(root));
  std::set<std::string> keys;
  for (auto field : root) {
    std::string_view k;
    REQUIRE_FALSE(field.unescaped_key().get(k));
    keys.insert(std::string(k));
  }
  for (const char* k : {"type", "v", "title", "session_id", "status", "settings", "span", "totals", "per_symbol",
                        "per_strategy", "rejections", "warnings", "data_quality", "equity_curve", "positions",
                        "fills", "prices", "round_trips"})
    CHECK(keys.contains(k));
  // Read back with the DOM API: values and types.
  simdjson::dom::parser dom;
  simdjson::dom::element e;
  REQUIRE_FALSE(dom.parse(json).get(e));
  CHECK(std::string_view(e["title"]) == "backtest of \"x\"");
  CHECK(std::string_view(e["settings"]["starting_capital"]) == "1000");
  CHECK(std::string_view(e["settings"]["return_period"]) == "1d");
  CHECK(int64_t(e["settings"]["periods_per_year"]) == 252);
  CHECK(std::string_view(e["totals"]["pnl_total"]) == "9.69902");
  CHECK(double(e["totals"]["sharpe"]) == Approx(std::sqrt(252.0) / 6.0).epsilon(1e-9));
  for (const char* k : {"pnl_total", "pnl_realized", "pnl_unrealized", "commission", "slippage",
                        "gross_notional_traded", "turnover", "return_pct", "annualized_return_pct", "sharpe",
                        "sortino", "calmar", "max_drawdown", "max_drawdown_pct", "max_drawdown_duration_ns",
                        "round_trips", "wins", "losses", "win_rate", "profit_factor", "expectancy", "avg_win",
                        "avg_loss", "time_in_market_pct", "fills", "orders", "orders_denied", "orders_rejected"}) {
    INFO(k);
    CHECK(e["totals"][k].error() == simdjson::SUCCESS);
    CHECK(e["per_symbol"].at(0)[k].error() == simdjson::SUCCESS);
    CHECK(e["per_strategy"].at(0)[k].error() == simdjson::SUCCESS);
  }
  CHECK(std::string_view(e["per_symbol"].at(0)["symbol"]) == "X");
  CHECK(std::string_view(e["per_strategy"].at(0)["strategy_id"]) == "s1");
  CHECK(std::string_view(e["rejections"].at(0)["reason"]) == "bad \"<script>\" reason\n");
  CHECK(std::string_view(e["round_trips"].at(0)["direction"]) == "long");
  CHECK(std::string_view(e["round_trips"].at(0)["exit_px"]) == "10.969902");
  CHECK(std::string_view(e["fills"].at(1)["side"]) == "sell");
  CHECK(int64_t(e["data_quality"]["dropped"]) == 0);
  // Every change of equity and every fill's time: 1000 (first), 1000 (buy), 1010, 999.9,
  // 1019.898, 1009.69902, 1009.69902 (sell).
  CHECK(e["equity_curve"].get_array().size() == 7);
  CHECK(e["prices"].get_array().size() == 6);
  CHECK(e["positions"].get_array().size() == 2);
}

TEST_CASE("to_json keeps at most 5000 equity points and 2000 prices per symbol, first, last and fills kept",
          "[analytics][json]") {
  analytics::Analyzer a(capital("1000000"));
  a.on_market_data(at("X", "100", d1));
  a.on_execution(fill("X", core::Side::buy, "1", "100", d1));
  for (int i = 1; i <= 20'000; ++i) {
    const std::string px = std::to_string(100 + i % 7) + "." + std::to_string(i % 10);
    a.on_market_data(at("X", px.c_str(), d1 + i * core::kNsPerSecond));
  }
  a.on_execution(fill("X", core::Side::sell, "1", "101", d1 + 12'345 * core::kNsPerSecond + 1));
  const auto an = a.analysis();
  simdjson::dom::parser dom;
  simdjson::dom::element e;
  REQUIRE_FALSE(dom.parse(analytics::to_json(an)).get(e));
  const auto curve = e["equity_curve"].get_array().value();
  CHECK(curve.size() <= 5000);
  CHECK(curve.size() > 4000);
  CHECK(int64_t(curve.at(0)["ts"]) == d1);
  CHECK(int64_t(curve.at(curve.size() - 1)["ts"]) == an.equity_curve.back().ts);
  bool fill_kept = false;
  for (auto p : curve) fill_kept |= int64_t(p["ts"]) == d1 + 12'345 * core::kNsPerSecond + 1;
  CHECK(fill_kept);
  const auto prices = e["prices"].get_array().value();
  CHECK(prices.size() <= 2000);
  CHECK(int64_t(prices.at(prices.size() - 1)["ts"]) == d1 + 20'000 * core::kNsPerSecond);
  // The CSV has the whole curve.
  const auto csv = analytics::equity_csv(an);
  CHECK(static_cast<std::size_t>(std::count(csv.begin(), csv.end(), '\n')) == an.equity_curve.size() + 1);
}

TEST_CASE("trades_csv lists the round trips and equity_csv the curve, with a header line", "[analytics][csv]") {
  const auto an = four_days().analysis();
  CHECK(analytics::trades_csv(an) ==
        "symbol,strategy_id,direction,quantity,entry_ts,exit_ts,entry_px,exit_px,pnl,commission,holding_ns,currency,"
        "pnl_in_currency\n"
        "X,s1,long,10," + std::to_string(d1 + 9 * kHour) + "," + std::to_string(d4 + 16 * kHour) +
            ",10,10.969902,9.69902,0," + std::to_string(d4 + 16 * kHour - d1 - 9 * kHour) + ",USD,9.69902\n");
  const auto eq = analytics::equity_csv(an);
  CHECK(eq.starts_with("ts,equity,pnl,drawdown,drawdown_pct\n" + std::to_string(d1 + 9 * kHour) + ",1000,0,0,0\n"));
  CHECK_THAT(eq, Catch::Contains(std::to_string(d2 + 12 * kHour) + ",999.9,-0.1,10.1,0.0"));
}

TEST_CASE("a strategy's figures start from the marks the totals already have", "[analytics][per_strategy]") {
  analytics::Analyzer a(capital("1000"));
  a.on_market_data(quote("X", "9", "11", d1));  // mid 10
  a.on_execution(fill("X", core::Side::buy, "1", "11", d1 + 1, "late"));
  const auto an = a.analysis();
  // Marked at the mid 10, not at the fill price: unrealized -1 for the total and the strategy.
  CHECK(an.totals.pnl_unrealized == D("-1"));
  REQUIRE(an.per_strategy.size() == 1);
  CHECK(an.per_strategy[0].stats.pnl_unrealized == D("-1"));
}

TEST_CASE("the analyzer refuses a starting capital that is not positive", "[analytics]") {
  CHECK_THROWS_AS(analytics::Analyzer(capital("0")), std::invalid_argument);
}
