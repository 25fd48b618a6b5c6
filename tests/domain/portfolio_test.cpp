// Portfolio: given fills and marks -> positions, P&L and drawdown (numbers worked by hand).
#include "portfolio/portfolio.hpp"

#include "helpers.hpp"

using core::ExecType;
using core::Side;
using domain_test::dec;
using domain_test::fill;
using domain_test::kDay0;

TEST_CASE("derived terms: notional, mark_to_market and drawdown", "[portfolio]") {
  CHECK(portfolio::notional(dec("-100"), dec("12.5")) == dec("1250"));
  CHECK(portfolio::notional(dec("1000"), dec("1.38755")) == dec("1387.55"));
  CHECK(portfolio::mark_to_market(dec("150"), dec("1650"), dec("14")) == dec("450"));  // 14 x 150 - 1650
  CHECK(portfolio::mark_to_market(dec("-50"), dec("-600"), dec("11")) == dec("50"));   // 11 x -50 + 600
  CHECK(portfolio::mark_to_market(dec("0"), dec("0"), dec("11")).is_zero());
  CHECK(portfolio::drawdown(dec("200"), dec("150")) == dec("50"));
}

TEST_CASE("long position: FIFO lots on adds, realized P&L per closed lot, unrealized at the mark", "[portfolio]") {
  portfolio::Portfolio p;
  p.on_fill(fill("o1", "AAPL", Side::buy, "100", "10", kDay0 + 1));
  p.on_fill(fill("o2", "AAPL", Side::buy, "100", "12", kDay0 + 2));
  auto s = p.snapshot(false);
  REQUIRE(s.positions.size() == 1);
  CHECK(s.positions[0].quantity == dec("200"));
  CHECK(s.positions[0].avg_px == dec("11"));  // (100x10 + 100x12) / 200

  p.on_fill(fill("o3", "AAPL", Side::sell, "50", "13", kDay0 + 3));
  s = p.snapshot(false);
  CHECK(s.positions[0].quantity == dec("150"));
  CHECK(s.positions[0].avg_px == dec("11.33333333"));  // lots 50@10 + 100@12: 1700 / 150, display only
  CHECK(s.positions[0].realized_pnl == dec("150"));    // the oldest lot closes first: (13 - 10) x 50

  p.mark("AAPL", dec("14"), kDay0 + 4);
  s = p.snapshot(false);
  CHECK(s.positions[0].mark_px == dec("14"));
  CHECK(s.positions[0].unrealized_pnl == dec("400"));  // 14 x 150 - (50 x 10 + 100 x 12)
  CHECK(s.unrealized_pnl == dec("400"));
  CHECK(s.total_pnl == dec("550"));

  p.on_fill(fill("o4", "AAPL", Side::sell, "150", "10", kDay0 + 5));
  s = p.snapshot(true);
  CHECK(s.final_report);
  CHECK(s.positions[0].quantity.is_zero());
  CHECK(s.positions[0].avg_px.is_zero());
  CHECK(s.positions[0].realized_pnl == dec("-50"));  // 150 + (10 - 10) x 50 + (10 - 12) x 100
  CHECK(s.positions[0].unrealized_pnl.is_zero());
  CHECK(s.positions[0].bought_qty == dec("200"));
  CHECK(s.positions[0].sold_qty == dec("200"));
  CHECK(s.realized_pnl == dec("-50"));
  CHECK(s.total_pnl == dec("-50"));
  CHECK(s.gross_notional_traded == dec("4350"));  // 1000 + 1200 + 650 + 1500
  CHECK(s.fills == 4);
  CHECK(s.ts_event == kDay0 + 5);
}

TEST_CASE("short position: realized P&L is the lot price minus the fill price", "[portfolio]") {
  portfolio::Portfolio p;
  p.on_fill(fill("o1", "BTCUSDT", Side::sell, "100", "20", kDay0));
  p.on_fill(fill("o2", "BTCUSDT", Side::buy, "40", "18", kDay0));
  auto s = p.snapshot(false);
  CHECK(s.positions[0].quantity == dec("-60"));
  CHECK(s.positions[0].avg_px == dec("20"));
  CHECK(s.realized_pnl == dec("80"));  // (20 - 18) x 40

  p.on_fill(fill("o3", "BTCUSDT", Side::sell, "60", "21", kDay0));
  s = p.snapshot(false);
  CHECK(s.positions[0].quantity == dec("-120"));
  CHECK(s.positions[0].avg_px == dec("20.5"));  // (60x20 + 60x21) / 120

  p.mark("BTCUSDT", dec("22"), kDay0);
  CHECK(p.snapshot(false).unrealized_pnl == dec("-180"));  // 22 x -120 + (60 x 20 + 60 x 21)

  p.on_fill(fill("o4", "BTCUSDT", Side::buy, "120", "19", kDay0));
  s = p.snapshot(false);
  CHECK(s.positions[0].quantity.is_zero());
  CHECK(s.realized_pnl == dec("260"));  // 80 + (20 - 19) x 60 + (21 - 19) x 60
  CHECK(s.unrealized_pnl.is_zero());
}

TEST_CASE("a fill through zero closes the position and opens the rest at the fill price", "[portfolio]") {
  portfolio::Portfolio p;
  p.on_fill(fill("o1", "MSFT", Side::buy, "100", "10", kDay0));
  p.on_fill(fill("o2", "MSFT", Side::sell, "150", "12", kDay0));
  auto s = p.snapshot(false);
  CHECK(s.positions[0].quantity == dec("-50"));
  CHECK(s.positions[0].avg_px == dec("12"));
  CHECK(s.realized_pnl == dec("200"));  // (12 - 10) x 100

  p.mark("MSFT", dec("11"), kDay0);
  s = p.snapshot(false);
  CHECK(s.unrealized_pnl == dec("50"));  // (11 - 12) x -50
  CHECK(s.total_pnl == dec("250"));

  p.on_fill(fill("o3", "MSFT", Side::buy, "80", "11", kDay0));
  s = p.snapshot(false);
  CHECK(s.positions[0].quantity == dec("30"));
  CHECK(s.positions[0].avg_px == dec("11"));
  CHECK(s.realized_pnl == dec("250"));  // 200 + (12 - 11) x 50
  CHECK(s.unrealized_pnl.is_zero());    // mark 11 == avg 11
}

TEST_CASE("drawdown follows the peak of total P&L over marks and fills", "[portfolio]") {
  portfolio::Portfolio p;
  p.on_fill(fill("o1", "AAPL", Side::buy, "100", "10", kDay0));
  struct Step { const char* mark; const char* total; const char* peak; const char* max_dd; };
  const Step steps[] = {
      {"11", "100", "100", "0"},
      {"9", "-100", "100", "200"},
      {"12", "200", "200", "200"},
      {"11.5", "150", "200", "200"},
  };
  for (const auto& st : steps) {
    p.mark("AAPL", dec(st.mark), kDay0);
    const auto s = p.snapshot(false);
    INFO("mark " << st.mark);
    CHECK(s.total_pnl == dec(st.total));
    CHECK(s.peak_pnl == dec(st.peak));
    CHECK(s.max_drawdown == dec(st.max_dd));
  }
  p.on_fill(fill("o2", "AAPL", Side::sell, "100", "8", kDay0));
  const auto s = p.snapshot(false);
  CHECK(s.total_pnl == dec("-200"));
  CHECK(s.realized_pnl == dec("-200"));
  CHECK(s.peak_pnl == dec("200"));
  CHECK(s.max_drawdown == dec("400"));
}

TEST_CASE("drawdown counts a loss from the starting equity of zero", "[portfolio]") {
  portfolio::Portfolio p;
  p.on_fill(fill("o1", "AAPL", Side::buy, "100", "10", kDay0));
  p.mark("AAPL", dec("9"), kDay0);
  const auto s = p.snapshot(false);
  CHECK(s.peak_pnl.is_zero());
  CHECK(s.max_drawdown == dec("100"));
}

TEST_CASE("on_execution counts orders, denials, rejections and fills", "[portfolio]") {
  portfolio::Portfolio p;
  auto accepted = fill("o1", "AAPL", Side::buy, "0", "0", kDay0);
  accepted.exec_type = ExecType::new_;
  accepted.order_status = core::OrderStatus::new_;
  auto denied = accepted;
  denied.client_order_id = "o2";
  denied.exec_type = ExecType::denied;
  auto rejected = accepted;
  rejected.client_order_id = "o3";
  rejected.exec_type = ExecType::rejected;
  auto unknown_cancel = accepted;
  unknown_cancel.client_order_id = "o4";
  unknown_cancel.exec_type = ExecType::cancel_rejected;

  p.on_execution(accepted);
  p.on_execution(fill("o1", "AAPL", Side::buy, "10", "150", kDay0 + 7));
  p.on_execution(denied);
  p.on_execution(rejected);
  p.on_execution(unknown_cancel);

  const auto s = p.snapshot(false);
  CHECK(s.orders == 3);
  CHECK(s.orders_denied == 1);
  CHECK(s.orders_rejected == 1);
  CHECK(s.fills == 1);
  CHECK(s.gross_notional_traded == dec("1500"));
  CHECK(s.ts_event == kDay0 + 7);
  CHECK(p.position("AAPL") == dec("10"));
}

TEST_CASE("snapshot lists every traded symbol sorted, flat ones included", "[portfolio]") {
  portfolio::Portfolio p;
  p.on_fill(fill("a", "MSFT", Side::buy, "1", "10", kDay0));
  p.on_fill(fill("b", "MSFT", Side::sell, "1", "11", kDay0));
  p.on_fill(fill("c", "AAPL", Side::buy, "2", "5", kDay0));
  p.mark("ZZZ", dec("1"), kDay0);  // marked but never traded: not listed
  const auto s = p.snapshot(false);
  REQUIRE(s.positions.size() == 2);
  CHECK(s.positions[0].symbol == "AAPL");
  CHECK(s.positions[1].symbol == "MSFT");
  CHECK(s.positions[1].quantity.is_zero());
  CHECK(s.positions[1].realized_pnl == dec("1"));
}

TEST_CASE("quotes mark at the mid and trades mark only while the symbol has no quote", "[portfolio]") {
  portfolio::Portfolio p;
  p.on_fill(fill("o1", "EURUSD", Side::buy, "1000", "1.38755", kDay0));
  p.on_trade(domain_test::trade("EURUSD", "1.38800", kDay0 + 1));
  CHECK(p.snapshot(false).positions[0].mark_px == dec("1.388"));
  CHECK(p.snapshot(false).unrealized_pnl == dec("0.45"));  // (1.388 - 1.38755) x 1000

  p.on_quote(domain_test::quote("EURUSD", "1.38742", "1.38755", kDay0 + 2));
  auto s = p.snapshot(false);
  CHECK(s.positions[0].mark_px == dec("1.387485"));
  CHECK(s.unrealized_pnl == dec("-0.065"));  // (1.387485 - 1.38755) x 1000
  p.on_trade(domain_test::trade("EURUSD", "2", kDay0 + 3));
  s = p.snapshot(false);
  CHECK(s.positions[0].mark_px == dec("1.387485"));
  CHECK(s.ts_event == kDay0 + 3);
}

TEST_CASE("bars mark at the close, bid and ask bars at the mid of their closes", "[portfolio]") {
  portfolio::Portfolio p;
  p.on_fill(fill("o1", "SPY", Side::buy, "10", "100", kDay0));
  p.on_bar(domain_test::bar("SPY", "101", core::PriceType::trade, kDay0 + 1));
  CHECK(p.snapshot(false).unrealized_pnl == dec("10"));

  p.on_fill(fill("o2", "GBPUSD", Side::sell, "1000", "1.5760", kDay0));
  p.on_bar(domain_test::bar("GBPUSD", "1.5750", core::PriceType::bid, kDay0 + 60));
  CHECK(p.snapshot(false).positions[0].mark_px == dec("1.575"));  // one side only so far
  p.on_bar(domain_test::bar("GBPUSD", "1.5752", core::PriceType::ask, kDay0 + 60));
  auto s = p.snapshot(false);
  CHECK(s.positions[0].symbol == "GBPUSD");
  CHECK(s.positions[0].mark_px == dec("1.5751"));
  CHECK(s.positions[0].unrealized_pnl == dec("0.9"));  // (1.5751 - 1.576) x -1000
  p.on_bar(domain_test::bar("GBPUSD", "9", core::PriceType::trade, kDay0 + 120));
  CHECK(p.snapshot(false).positions[0].mark_px == dec("1.5751"));
}

TEST_CASE("reports without a fill quantity do not change positions", "[portfolio]") {
  portfolio::Portfolio p;
  p.on_fill(fill("o1", "AAPL", Side::buy, "0", "10", kDay0));
  const auto s = p.snapshot(false);
  CHECK(s.fills == 0);
  CHECK(s.positions.empty());
}

namespace {

core::ExecutionReport fill_with_commission(std::string id, std::string symbol, Side side, std::string_view qty,
                                           std::string_view px, std::string_view commission, core::TimestampNs ts) {
  auto r = fill(std::move(id), std::move(symbol), side, qty, px, ts);
  r.commission = dec(commission);
  return r;
}

}  // namespace

TEST_CASE("commissions are deducted from realized P&L, opening fills included", "[portfolio][commission]") {
  // EURUSD at 0.5 bps of notional (matching::BrokerConfig commission_bps = 0.5):
  // buy 100000 @ 1.38755 pays 6.93775, sell 100000 @ 1.388 pays 6.94.
  portfolio::Portfolio p;
  p.on_execution(fill_with_commission("b1", "EURUSD", Side::buy, "100000", "1.38755", "6.93775", kDay0 + 1));
  auto s = p.snapshot(false);
  REQUIRE(s.positions.size() == 1);
  CHECK(s.positions[0].avg_px == dec("1.38755"));          // entry price excludes the commission
  CHECK(s.positions[0].realized_pnl == dec("-6.93775"));   // the cost is realized at once
  CHECK(s.positions[0].unrealized_pnl.is_zero());          // marked at the fill price
  CHECK(s.realized_pnl == dec("-6.93775"));
  CHECK(s.total_pnl == dec("-6.93775"));
  CHECK(s.peak_pnl.is_zero());
  CHECK(s.max_drawdown == dec("6.93775"));
  CHECK(p.commission() == dec("6.93775"));

  p.mark("EURUSD", dec("1.3879"), kDay0 + 2);  // +35 unrealized
  s = p.snapshot(false);
  CHECK(s.unrealized_pnl == dec("35"));
  CHECK(s.total_pnl == dec("28.06225"));

  p.on_execution(fill_with_commission("s1", "EURUSD", Side::sell, "100000", "1.388", "6.94", kDay0 + 3));
  s = p.snapshot(true);
  // realized = closed-lot P&L (1.388 - 1.38755) x 100000 = 45, minus 6.93775 + 6.94 of commissions
  CHECK(s.positions[0].quantity.is_zero());
  CHECK(s.positions[0].realized_pnl == dec("31.12225"));
  CHECK(s.realized_pnl == dec("31.12225"));
  CHECK(s.unrealized_pnl.is_zero());
  CHECK(s.total_pnl == dec("31.12225"));
  CHECK(s.peak_pnl == dec("31.12225"));
  CHECK(s.max_drawdown == dec("6.93775"));
  CHECK(s.gross_notional_traded == dec("277555"));  // 138755 + 138800: commissions are not traded notional
  CHECK(p.commission() == dec("13.87775"));
  CHECK(p.commission("EURUSD") == dec("13.87775"));
  CHECK(s.commission == dec("13.87775"));
  CHECK(s.positions[0].commission == dec("13.87775"));
  CHECK(p.commission("IBM").is_zero());
}

TEST_CASE("commissions on partial fills, a flip and a rebate, per symbol and in total", "[portfolio][commission]") {
  portfolio::Portfolio p;
  // IBM: per-unit 0.005 with a 1.00 minimum per order: 120 shares pay 1 (minimum), the next 180 pay 0.5 more.
  p.on_fill(fill_with_commission("i1", "IBM", Side::buy, "120", "182.10", "1", kDay0 + 1));
  p.on_fill(fill_with_commission("i1", "IBM", Side::buy, "180", "182.20", "0.5", kDay0 + 2));
  // Flip: sell 500 @ 182.50 closes 300 (avg 182.16) and opens 200 short; commission 2.5.
  p.on_fill(fill_with_commission("i2", "IBM", Side::sell, "500", "182.50", "2.5", kDay0 + 3));
  // BTCUSDT: a maker rebate (negative commission) adds to realized P&L.
  p.on_fill(fill_with_commission("c1", "BTCUSDT", Side::sell, "0.5", "9682", "-0.4841", kDay0 + 4));
  // A fill without a commission costs nothing.
  p.on_fill(fill("c2", "BTCUSDT", Side::buy, "0.5", "9680", kDay0 + 5));
  const auto s = p.snapshot(false);
  REQUIRE(s.positions.size() == 2);
  const auto& btc = s.positions[0];
  const auto& ibm = s.positions[1];
  CHECK(ibm.symbol == "IBM");
  CHECK(ibm.quantity == dec("-200"));
  CHECK(ibm.avg_px == dec("182.5"));
  // closed: (182.50 - 182.16) x 300 = 102; commissions 1 + 0.5 + 2.5 = 4
  CHECK(ibm.realized_pnl == dec("98"));
  CHECK(p.commission("IBM") == dec("4"));
  CHECK(btc.symbol == "BTCUSDT");
  CHECK(btc.quantity.is_zero());
  // closed: (9682 - 9680) x 0.5 = 1; rebate +0.4841
  CHECK(btc.realized_pnl == dec("1.4841"));
  CHECK(p.commission("BTCUSDT") == dec("-0.4841"));
  CHECK(p.commission() == dec("3.5159"));
  CHECK(s.realized_pnl == dec("99.4841"));
  CHECK(s.realized_pnl == ibm.realized_pnl + btc.realized_pnl);
  CHECK(ibm.commission == dec("4"));
  CHECK(btc.commission == dec("-0.4841"));
  CHECK(s.commission == dec("3.5159"));
  // Cash identity: total = cash flow of the fills - commissions + position x mark.
  const core::Money cash = -mul(dec("120"), dec("182.10")) - mul(dec("180"), dec("182.20")) +
                           mul(dec("500"), dec("182.50")) + mul(dec("0.5"), dec("9682")) -
                           mul(dec("0.5"), dec("9680"));
  CHECK(s.total_pnl == cash - p.commission() + mul(ibm.quantity, ibm.mark_px));
}

// Issue 14: "Cent-priced BAC traded in whole shares gives totals such as -2.5000003",
// because P&L was computed from an average price rounded to 8 digits.
TEST_CASE("issue 14: whole shares at cent prices give whole-cent P&L (exact cost sums)", "[portfolio][exact]") {
  portfolio::Portfolio p;
  p.on_fill(fill("o1", "BAC", Side::buy, "1", "10.00", kDay0 + 1));
  p.on_fill(fill("o2", "BAC", Side::buy, "2", "10.01", kDay0 + 2));
  auto s = p.snapshot(false);
  CHECK(s.positions[0].avg_px == dec("10.00666667"));  // 30.02 / 3, rounded: display only
  p.mark("BAC", dec("10.02"), kDay0 + 3);
  CHECK(p.snapshot(false).unrealized_pnl == dec("0.04"));  // 10.02 x 3 - 30.02
  p.on_fill(fill("o3", "BAC", Side::sell, "3", "10.02", kDay0 + 4));
  s = p.snapshot(false);
  // From the rounded average: (10.02 - 10.00666667) x 3 = 0.03999999. From the lots:
  CHECK(s.realized_pnl == dec("0.04"));  // (10.02 - 10.00) x 1 + (10.02 - 10.01) x 2
  CHECK(s.total_pnl == dec("0.04"));
}

TEST_CASE("issue 14: thousands of random whole-share fills at cent prices stay whole-cent and add up to the cash flows",
          "[portfolio][exact]") {
  // A deterministic generator (no seed from the clock): fills of 1..500 shares at
  // 5.00..25.00, either side, through zero and back, with whole-cent marks between.
  std::uint64_t x = 88172645463325252ULL;
  auto next = [&x] { x ^= x << 13; x ^= x >> 7; x ^= x << 17; return x; };
  portfolio::Portfolio p;
  core::Money cash;       // - sum of signed qty x px: what the fills paid and received
  core::Quantity qty;
  core::Price mark;
  const core::Money cent = dec("0.01");
  for (int i = 0; i < 5000; ++i) {
    const auto shares = core::Decimal::from_int(static_cast<std::int64_t>(next() % 500 + 1));
    const auto px = core::Decimal::from_raw(static_cast<core::Decimal::Raw>(500 + next() % 2001) * 1'000'000);  // cents
    const bool buy = next() % 2 == 0;
    p.on_fill(fill("o" + std::to_string(i), "BAC", buy ? Side::buy : Side::sell, shares.to_string(), px.to_string(),
                   kDay0 + i));
    cash -= buy ? mul(shares, px) : -mul(shares, px);
    qty += buy ? shares : -shares;
    mark = core::Decimal::from_raw(static_cast<core::Decimal::Raw>(500 + next() % 2001) * 1'000'000);
    p.mark("BAC", mark, kDay0 + i);
    const auto s = p.snapshot(false);
    INFO("fill " << i);
    REQUIRE(s.realized_pnl.is_multiple_of(cent));
    REQUIRE(s.unrealized_pnl.is_multiple_of(cent));
    REQUIRE(s.total_pnl == cash + mul(mark, qty));  // P&L = cash flows + the position at the mark
  }
}

TEST_CASE("issue 14: a 2-for-1 split doubles the position, keeps its cost, and leaves P&L continuous",
          "[portfolio][corporate_action]") {
  portfolio::Portfolio p;
  // IBM's real closes around its 1999-05-27 split (shared/data bars_1d_SPY_IBM_BAC).
  p.on_fill(fill("o1", "IBM", Side::buy, "100", "221.13", kDay0));
  p.mark("IBM", dec("235.50"), kDay0 + 1);  // the 26th's close
  auto s = p.snapshot(false);
  CHECK(s.total_pnl == dec("1437"));  // (235.50 - 221.13) x 100
  p.on_action({.symbol = "IBM", .action = core::ActionKind::split, .ratio = dec("2"), .ts_event = kDay0 + 2});
  s = p.snapshot(false);
  CHECK(s.positions[0].quantity == dec("200"));
  CHECK(s.positions[0].avg_px == dec("110.565"));  // 22113 / 200
  CHECK(s.positions[0].mark_px == dec("117.75"));  // 235.50 / 2 until the next price
  CHECK(s.total_pnl == dec("1437"));               // nothing moved
  CHECK(s.max_drawdown.is_zero());
  p.mark("IBM", dec("116.06"), kDay0 + 3);  // the 27th's close: a real loss of 1.69 x 200
  CHECK(p.snapshot(false).total_pnl == dec("1099"));
  p.on_fill(fill("o2", "IBM", Side::sell, "200", "116.06", kDay0 + 4));
  s = p.snapshot(false);
  CHECK(s.realized_pnl == dec("1099"));  // 200 x 116.06 - 22113, exact
  CHECK(s.positions[0].quantity.is_zero());
  // Without the action the same data books a fake loss of ~11,900:
  portfolio::Portfolio raw;
  raw.on_fill(fill("o1", "IBM", Side::buy, "100", "221.13", kDay0));
  raw.mark("IBM", dec("235.50"), kDay0 + 1);
  raw.mark("IBM", dec("116.06"), kDay0 + 3);
  CHECK(raw.snapshot(false).total_pnl == dec("-10507"));  // (116.06 - 221.13) x 100
}

TEST_CASE("a reverse split and a split of a short position, partly closed after", "[portfolio][corporate_action]") {
  portfolio::Portfolio p;
  p.on_fill(fill("o1", "XYZ", Side::sell, "1000", "1.20", kDay0));
  p.on_action({.symbol = "XYZ", .action = core::ActionKind::split, .ratio = dec("0.1"), .ts_event = kDay0 + 1});
  auto s = p.snapshot(false);
  CHECK(s.positions[0].quantity == dec("-100"));
  CHECK(s.positions[0].avg_px == dec("12"));
  CHECK(s.positions[0].mark_px == dec("12"));
  CHECK(s.total_pnl.is_zero());
  p.on_fill(fill("o2", "XYZ", Side::buy, "40", "11", kDay0 + 2));
  CHECK(p.snapshot(false).realized_pnl == dec("40"));  // (12 - 11) x 40
}

TEST_CASE("a dividend pays holders quantity x amount and charges short sellers", "[portfolio][corporate_action]") {
  portfolio::Portfolio p;
  p.on_fill(fill("o1", "SPY", Side::buy, "300", "370.00", kDay0));
  p.on_fill(fill("o2", "IWM", Side::sell, "100", "190.00", kDay0));
  p.on_action({.symbol = "SPY", .action = core::ActionKind::dividend, .amount = dec("1.5762"), .ts_event = kDay0 + 1});
  p.on_action({.symbol = "IWM", .action = core::ActionKind::dividend, .amount = dec("0.61"), .ts_event = kDay0 + 1});
  p.on_action({.symbol = "QQQ", .action = core::ActionKind::dividend, .amount = dec("0.38"), .ts_event = kDay0 + 1});
  const auto s = p.snapshot(false);
  CHECK(p.dividends() == dec("411.86"));  // 300 x 1.5762 - 100 x 0.61
  CHECK(s.realized_pnl == dec("411.86"));
  CHECK(s.positions.size() == 2);  // QQQ, never traded, is not a position
}
