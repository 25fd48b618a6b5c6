// Currencies and multipliers (issue 14, portfolio/fx.hpp): P&L per quote currency,
// converted into the account's base currency at the data's pair mids or configured rates,
// never added across currencies; notional limits in the base currency.
#include <stdexcept>

#include "portfolio/fx.hpp"
#include "portfolio/portfolio.hpp"
#include "risk/pre_trade.hpp"

#include "helpers.hpp"

using core::Side;
using namespace domain_test;

namespace {

/// A USD account; TOYOTA quoted in JPY; ES a USD future with multiplier 50. USDJPY (and
/// EURUSD) are not listed: their terms come from their names (Valuation::terms_of).
portfolio::Valuation usd_account(std::map<std::string, core::Decimal> rates = {}) {
  return portfolio::Valuation{.base_currency = "USD",
                              .symbols = {{"TOYOTA", {.currency = "JPY"}},
                                          {"ES", {.currency = "USD", .multiplier = dec("50")}}},
                              .rates = std::move(rates)};
}

const core::CurrencyPnl* currency(const core::PerformanceReport& r, const std::string& c) {
  for (const auto& x : r.currencies)
    if (x.currency == c) return &x;
  return nullptr;
}

}  // namespace

TEST_CASE("rates: a pair with the base currency gives its rate, the reciprocal when the base is its asset",
          "[fx]") {
  portfolio::FxRates fx(usd_account({{"JPY", dec("0.0067")}, {"CHF", dec("1.1")}}));
  CHECK(fx.rate("USD") == dec("1"));
  CHECK(fx.rate("JPY") == dec("0.0067"));  // configured, until the data has the pair
  CHECK(fx.rate("EUR") == std::nullopt);
  CHECK_FALSE(fx.observe("TOYOTA", dec("2000")));  // not a pair
  CHECK(fx.observe("USDJPY", dec("125")));         // USD is the asset: 1 JPY = 1/125 USD
  CHECK(fx.rate("JPY") == dec("0.008"));
  CHECK_FALSE(fx.observe("USDJPY", dec("125")));   // unchanged
  CHECK(fx.observe("EURUSD", dec("1.38748")));     // USD is the quote: 1 EUR = 1.38748 USD
  CHECK(fx.rate("EUR") == dec("1.38748"));
  CHECK(fx.rate("CHF") == dec("1.1"));
  CHECK(fx.to_base(dec("1000"), "JPY") == dec("8"));
  CHECK(fx.to_base(dec("1000"), "GBP") == std::nullopt);
  CHECK_FALSE(fx.observe("USDJPY", dec("0")));  // a non-positive mark is no rate
  CHECK(fx.rate("JPY") == dec("0.008"));
  CHECK(portfolio::split_pair("USDJPY") == std::pair<std::string, std::string>{"USD", "JPY"});
  CHECK(portfolio::split_pair("BTCUSDT") == std::nullopt);  // not two fiat currencies
  CHECK(portfolio::split_pair("USDUSD") == std::nullopt);
  CHECK(portfolio::split_pair("IBM") == std::nullopt);
}

TEST_CASE("configured rates parse and name the bad part", "[fx]") {
  CHECK(portfolio::parse_rates("JPY=0.0067, USDT=1").size() == 2);
  CHECK(portfolio::parse_rates("").empty());
  CHECK_THROWS_WITH(portfolio::parse_rates("JPY"), Catch::Contains("\"JPY\": expected CURRENCY=RATE"));
  CHECK_THROWS_WITH(portfolio::parse_rates("JPY=-1"), Catch::Contains("rate must be a positive decimal"));
  CHECK_THROWS_WITH(portfolio::parse_rates("jpy=1"), Catch::Contains("A-Z 0-9"));
  CHECK_THROWS_WITH(portfolio::parse_rates("JPY=1 JPY=2"), Catch::Contains("JPY given twice"));
  auto v = usd_account();
  CHECK_FALSE(v.check());
  v.symbols["ES"].multiplier = dec("0");
  CHECK(v.check() == "ES: multiplier 0 must be positive");
}

TEST_CASE("JPY P&L is converted into the base currency, not added", "[fx][portfolio]") {
  portfolio::Portfolio p(usd_account());
  p.on_quote(quote("USDJPY", "99.99", "100.01", kDay0));  // 1 JPY = 0.01 USD
  p.on_fill(fill("t1", "TOYOTA", Side::buy, "100", "2000", kDay0 + 1));
  p.on_fill(fill("i1", "IBM", Side::buy, "10", "100", kDay0 + 2));
  p.mark("TOYOTA", dec("2100"), kDay0 + 3);  // +10,000 JPY
  p.mark("IBM", dec("105"), kDay0 + 4);      // +50 USD
  auto s = p.snapshot(false);
  CHECK(s.base_currency == "USD");
  REQUIRE(s.currencies.size() == 2);
  const auto* jpy = currency(s, "JPY");
  REQUIRE(jpy != nullptr);
  CHECK(jpy->total_pnl == dec("10000"));  // exact, in JPY
  CHECK(jpy->rate == dec("0.01"));
  CHECK(jpy->total_pnl_base == dec("100"));
  CHECK(jpy->gross_notional_traded == dec("200000"));
  CHECK(currency(s, "USD")->total_pnl == dec("50"));
  CHECK(s.total_pnl == dec("150"));  // 100 USD + 50 USD, not 10,050
  CHECK(s.unrealized_pnl == dec("150"));
  CHECK(s.gross_notional_traded == dec("3000"));  // 200,000 JPY at 0.01 + 1,000 USD
  REQUIRE(s.positions.size() == 2);
  CHECK(s.positions[0].symbol == "IBM");
  CHECK(s.positions[0].currency == "USD");
  CHECK(s.positions[1].currency == "JPY");
  CHECK(s.positions[1].unrealized_pnl == dec("10000"));  // per position: its own currency

  // The yen weakens: the same 10,000 JPY are worth 80 USD. Equity and drawdown follow.
  p.on_quote(quote("USDJPY", "124.99", "125.01", kDay0 + 5));
  s = p.snapshot(false);
  CHECK(currency(s, "JPY")->total_pnl == dec("10000"));
  CHECK(s.total_pnl == dec("130"));
  CHECK(s.peak_pnl == dec("150"));
  CHECK(s.max_drawdown == dec("20"));
  CHECK(p.total_pnl() == dec("130"));

  // Realized JPY is held in JPY and revalued too (a multi-currency account's cash).
  p.on_fill(fill("t2", "TOYOTA", Side::sell, "100", "2100", kDay0 + 6));
  s = p.snapshot(false);
  CHECK(currency(s, "JPY")->realized_pnl == dec("10000"));
  CHECK(s.realized_pnl == dec("80"));
}

TEST_CASE("a currency without a rate is left out of the totals and shown without one", "[fx][portfolio]") {
  portfolio::Portfolio p(usd_account());
  p.on_fill(fill("t1", "TOYOTA", Side::buy, "100", "2000", kDay0 + 1));
  p.mark("TOYOTA", dec("2100"), kDay0 + 2);
  auto s = p.snapshot(false);
  const auto* jpy = currency(s, "JPY");
  REQUIRE(jpy != nullptr);
  CHECK(jpy->total_pnl == dec("10000"));
  CHECK_FALSE(jpy->rate);
  CHECK_FALSE(jpy->total_pnl_base);
  CHECK(s.total_pnl.is_zero());  // never 10,000 "USD"

  portfolio::Portfolio q(usd_account({{"JPY", dec("0.0067")}}));  // a configured rate
  q.on_fill(fill("t1", "TOYOTA", Side::buy, "100", "2000", kDay0 + 1));
  q.mark("TOYOTA", dec("2100"), kDay0 + 2);
  CHECK(q.snapshot(false).total_pnl == dec("67"));
}

TEST_CASE("a multiplier scales notional and P&L, not prices", "[fx][portfolio]") {
  portfolio::Portfolio p(usd_account());
  p.on_fill(fill("e1", "ES", Side::buy, "2", "4000.25", kDay0 + 1));
  p.mark("ES", dec("4001.5"), kDay0 + 2);
  auto s = p.snapshot(false);
  REQUIRE(s.positions.size() == 1);
  CHECK(s.positions[0].avg_px == dec("4000.25"));  // a price, per unit
  CHECK(s.positions[0].unrealized_pnl == dec("125"));  // 1.25 x 2 x 50
  CHECK(s.gross_notional_traded == dec("400025"));
  p.on_fill(fill("e2", "ES", Side::sell, "1", "4002", kDay0 + 3));
  s = p.snapshot(false);
  CHECK(s.positions[0].realized_pnl == dec("87.5"));  // 1.75 x 1 x 50
  CHECK(portfolio::notional(dec("2"), dec("4000.25"), dec("50")) == dec("400025"));
}

TEST_CASE("without a named base currency nothing is converted, as before", "[fx][portfolio]") {
  portfolio::Portfolio p;
  p.on_quote(quote("USDJPY", "99.99", "100.01", kDay0));
  p.on_fill(fill("u1", "USDJPY", Side::buy, "1000", "100", kDay0 + 1));
  p.mark("USDJPY", dec("101"), kDay0 + 2);
  const auto s = p.snapshot(false);
  CHECK(s.base_currency.empty());
  CHECK(s.currencies.empty());
  CHECK(s.total_pnl == dec("1000"));
  CHECK(s.positions[0].currency.empty());
}

TEST_CASE("notional limits are in the account currency", "[fx][risk]") {
  risk::Limits lim{.max_order_qty = dec("1000000"), .max_order_notional = dec("10000")};
  risk::RiskEngine e(lim, usd_account());
  e.on_quote(quote("TOYOTA", "1999", "2001", kDay0));
  const auto order = [](std::string id, std::string_view qty) {
    return core::OrderSubmit{.client_order_id = std::move(id), .symbol = "TOYOTA", .side = Side::buy,
                             .order_type = core::OrderType::limit, .quantity = dec(qty),
                             .limit_price = dec("2000"), .ts_event = kDay0 + 1};
  };
  // No USDJPY yet and no configured rate: the limit cannot be evaluated, so it denies.
  auto d = e.check(order("a", "1"));
  CHECK_FALSE(d.approved);
  CHECK(d.reason == "max_order_notional: no JPY rate to value TOYOTA in USD (configure fx_rates or trade the pair)");
  e.on_quote(quote("USDJPY", "99.99", "100.01", kDay0 + 2));  // 1 JPY = 0.01 USD
  // 400 x 2000 = 800,000 JPY = 8,000 USD: under 10,000 USD (it would be over as JPY).
  CHECK(e.check(order("b", "400")).approved);
  d = e.check(order("c", "600"));  // 1,200,000 JPY = 12,000 USD
  CHECK_FALSE(d.approved);
  CHECK(d.reason == "max_order_notional: notional 1200000 JPY = 12000 USD exceeds limit 10000");
  // A USD future: quantity x price x multiplier.
  e.on_quote(quote("ES", "4000", "4000.25", kDay0 + 3));
  auto es = order("d", "1");
  es.symbol = "ES";
  es.limit_price = dec("4000");
  d = e.check(es);  // 1 x 4000 x 50 = 200,000 USD
  CHECK_FALSE(d.approved);
  CHECK(d.reason == "max_order_notional: notional 200000 exceeds limit 10000");
}
