// Paper broker, issue 3: stop and stop_limit orders, gtd, every order type with every
// time in force, cancel/replace, and fills bounded by displayed and traded size.
#include "matching/paper_broker.hpp"

#include <optional>
#include <string>
#include <vector>

#include "helpers.hpp"

using core::ExecType;
using core::OrderStatus;
using core::OrderType;
using core::Side;
using core::TimeInForce;
using domain_test::types;
using domain_test::check_quantities;
using domain_test::dec;
using domain_test::kDay0;
using domain_test::kSec;
using domain_test::quote;

namespace {

constexpr core::TimestampNs kExpire = kDay0 + 3600 * kSec;  // 01:00 of day 0

struct Spec {
  OrderType type = OrderType::market;
  TimeInForce tif = TimeInForce::day;
  std::optional<std::string_view> limit;
  std::optional<std::string_view> stop;
};

core::OrderSubmit order(std::string id, Side side, std::string_view qty, Spec s) {
  core::OrderSubmit o{.client_order_id = std::move(id),
                      .symbol = "EURUSD",
                      .side = side,
                      .order_type = s.type,
                      .quantity = dec(qty),
                      .time_in_force = s.tif,
                      .strategy_id = "test"};
  if (s.limit) o.limit_price = dec(*s.limit);
  if (s.stop) o.stop_price = dec(*s.stop);
  if (s.tif == TimeInForce::gtd) o.expire_time = kExpire;
  return o;
}

core::Quote sized(std::string_view bid, std::string_view ask, std::string_view bid_size, std::string_view ask_size,
                  core::TimestampNs ts) {
  auto q = quote("EURUSD", bid, ask, ts);
  q.bid_size = dec(bid_size);
  q.ask_size = dec(ask_size);
  return q;
}

core::Trade print(std::string_view px, std::string_view size, core::TimestampNs ts) {
  return core::Trade{.symbol = "EURUSD", .price = dec(px), .size = dec(size), .ts_event = ts};
}

Spec gtc_limit(std::string_view px) { return {.type = OrderType::limit, .tif = TimeInForce::gtc, .limit = px}; }
Spec market_spec(TimeInForce tif) { return {.type = OrderType::market, .tif = tif}; }

const auto kAllTifs = {TimeInForce::day, TimeInForce::gtc, TimeInForce::ioc, TimeInForce::fok, TimeInForce::gtd};

bool immediate(TimeInForce t) { return t == TimeInForce::ioc || t == TimeInForce::fok; }

}  // namespace

// ---- every order type x every time in force ----------------------------------------------

TEST_CASE("every order type marketable (or triggered) on arrival fills at the touch for every time in force",
          "[matching][order-types]") {
  const auto tif = GENERATE(values(kAllTifs));
  const auto spec = GENERATE(Spec{.type = OrderType::market}, Spec{.type = OrderType::limit, .limit = "1.02"},
                             Spec{.type = OrderType::stop, .stop = "1.005"},
                             Spec{.type = OrderType::stop_limit, .limit = "1.02", .stop = "1.005"});
  CAPTURE(tif, spec.type);
  matching::PaperBroker broker;
  (void)broker.on_quote(quote("EURUSD", "1.00", "1.01", kDay0));
  auto s = spec;
  s.tif = tif;

  const auto out = broker.on_submit(order("o1", Side::buy, "1000", s), kDay0 + kSec);

  CHECK(types(out) == std::vector{ExecType::new_, ExecType::fill});
  REQUIRE(out.size() == 2);
  CHECK(out[1].last_px == dec("1.01"));
  CHECK(out[1].order_type == spec.type);
  CHECK(out[1].time_in_force == tif);
  CHECK(out[1].stop_price == (spec.stop ? std::optional(dec(*spec.stop)) : std::nullopt));
  CHECK(out[1].expire_time == (tif == TimeInForce::gtd ? std::optional(kExpire) : std::nullopt));
  check_quantities(out);
  CHECK(broker.open_orders() == 0);
}

TEST_CASE("a non-marketable limit: ioc and fok cancel at once, day gtc and gtd work until the market reaches it",
          "[matching][order-types]") {
  const auto tif = GENERATE(values(kAllTifs));
  const auto side = GENERATE(Side::buy, Side::sell);
  CAPTURE(tif, side);
  matching::PaperBroker broker;
  (void)broker.on_quote(quote("EURUSD", "1.00", "1.01", kDay0));
  const Spec s{.type = OrderType::limit, .tif = tif, .limit = side == Side::buy ? "0.99" : "1.02"};

  const auto out = broker.on_submit(order("o1", side, "1000", s), kDay0 + kSec);

  if (immediate(tif)) {
    CHECK(types(out) == std::vector{ExecType::new_, ExecType::canceled});
    CHECK(out.back().text == fmt::format("{}: not immediately marketable", tif));
    CHECK(broker.open_orders() == 0);
    return;
  }
  CHECK(types(out) == std::vector{ExecType::new_});
  const auto later = side == Side::buy ? quote("EURUSD", "0.97", "0.98", kDay0 + 2 * kSec)
                                       : quote("EURUSD", "1.03", "1.04", kDay0 + 2 * kSec);
  const auto fill = broker.on_quote(later);
  REQUIRE(fill.size() == 1);
  CHECK(fill[0].exec_type == ExecType::fill);
  CHECK(fill[0].last_px == dec(side == Side::buy ? "0.98" : "1.03"));
  check_quantities(fill);
}

TEST_CASE("a stop rests untriggered for every time in force and fills as a market order once the touch reaches it",
          "[matching][order-types][stop]") {
  const auto tif = GENERATE(values(kAllTifs));
  const auto side = GENERATE(Side::buy, Side::sell);
  CAPTURE(tif, side);
  matching::PaperBroker broker;
  (void)broker.on_quote(quote("EURUSD", "1.00", "1.01", kDay0));
  const Spec s{.type = OrderType::stop, .tif = tif, .stop = side == Side::buy ? "1.05" : "0.95"};

  const auto out = broker.on_submit(order("s1", side, "1000", s), kDay0 + kSec);
  CHECK(types(out) == std::vector{ExecType::new_});
  CHECK(broker.open_orders() == 1);

  // Close but not there: buy needs ask >= 1.05, sell needs bid <= 0.95.
  CHECK(broker.on_quote(quote("EURUSD", "0.96", "1.04", kDay0 + 2 * kSec)).empty());
  // Reached (exactly at the stop): fills at the touch, whatever the time in force.
  const auto fill = side == Side::buy ? broker.on_quote(quote("EURUSD", "1.04", "1.05", kDay0 + 3 * kSec))
                                      : broker.on_quote(quote("EURUSD", "0.95", "0.96", kDay0 + 3 * kSec));
  REQUIRE(fill.size() == 1);
  CHECK(fill[0].exec_type == ExecType::fill);
  CHECK(fill[0].last_px == dec(side == Side::buy ? "1.05" : "0.95"));
  CHECK(fill[0].stop_price == dec(side == Side::buy ? "1.05" : "0.95"));
  check_quantities(fill);
  CHECK(broker.open_orders() == 0);
}

TEST_CASE("a triggered stop_limit acts as a limit: ioc and fok cancel when not marketable, others rest at the limit",
          "[matching][order-types][stop]") {
  const auto tif = GENERATE(values(kAllTifs));
  CAPTURE(tif);
  matching::PaperBroker broker;
  (void)broker.on_quote(quote("EURUSD", "1.00", "1.01", kDay0));
  const Spec s{.type = OrderType::stop_limit, .tif = tif, .limit = "1.055", .stop = "1.05"};
  CHECK(types(broker.on_submit(order("sl", Side::buy, "1000", s), kDay0 + kSec)) == std::vector{ExecType::new_});

  // The ask jumps through the stop AND the limit: triggered, but not marketable.
  const auto jump = broker.on_quote(quote("EURUSD", "1.05", "1.06", kDay0 + 2 * kSec));
  if (immediate(tif)) {
    CHECK(types(jump) == std::vector{ExecType::canceled});
    CHECK(jump[0].text == fmt::format("{}: not immediately marketable", tif));
    CHECK(broker.open_orders() == 0);
    return;
  }
  CHECK(jump.empty());
  // Triggered stays triggered: the ask falling back under the stop fills it as a limit.
  const auto fill = broker.on_quote(quote("EURUSD", "1.03", "1.04", kDay0 + 3 * kSec));
  REQUIRE(fill.size() == 1);
  CHECK(fill[0].exec_type == ExecType::fill);
  CHECK(fill[0].last_px == dec("1.04"));
  CHECK(fill[0].limit_price == dec("1.055"));
}

TEST_CASE("market orders with no market data are rejected for every time in force, stops wait for data",
          "[matching][order-types]") {
  const auto tif = GENERATE(values(kAllTifs));
  CAPTURE(tif);
  matching::PaperBroker broker;
  const auto m = broker.on_submit(order("m", Side::buy, "1", {.type = OrderType::market, .tif = tif}), kDay0);
  CHECK(types(m) == std::vector{ExecType::rejected});
  CHECK(m[0].text == "no market data for EURUSD");
  const Spec stop{.type = OrderType::stop, .tif = tif, .stop = "1"};
  const auto s = broker.on_submit(order("s", Side::buy, "1", stop), kDay0);
  CHECK(types(s) == std::vector{ExecType::new_});
  const auto fill = broker.on_quote(quote("EURUSD", "1.00", "1.01", kDay0 + 1));
  REQUIRE(fill.size() == 1);
  CHECK(fill[0].exec_type == ExecType::fill);
}

TEST_CASE("resting orders expire by time in force: day at the next UTC date, gtd at expire_time, gtc never",
          "[matching][order-types][expiry]") {
  const auto type = GENERATE(OrderType::limit, OrderType::stop, OrderType::stop_limit);
  CAPTURE(type);
  matching::PaperBroker broker;
  (void)broker.on_quote(quote("EURUSD", "1.00", "1.01", kDay0));
  const auto spec = [&](TimeInForce tif) {
    Spec s{.type = type, .tif = tif};
    if (type != OrderType::stop) s.limit = "0.90";
    if (type != OrderType::limit) s.stop = "1.50";
    return s;
  };
  (void)broker.on_submit(order("day", Side::buy, "1", spec(TimeInForce::day)), kDay0 + 1);
  (void)broker.on_submit(order("gtc", Side::buy, "1", spec(TimeInForce::gtc)), kDay0 + 1);
  (void)broker.on_submit(order("gtd", Side::buy, "1", spec(TimeInForce::gtd)), kDay0 + 1);
  REQUIRE(broker.open_orders() == 3);

  CHECK(broker.on_quote(quote("EURUSD", "1.00", "1.01", kExpire - 1)).empty());
  const auto at = broker.on_quote(quote("EURUSD", "1.00", "1.01", kExpire));  // ts_event == expire_time
  REQUIRE(at.size() == 1);
  CHECK(at[0].client_order_id == "gtd");
  CHECK(at[0].exec_type == ExecType::expired);
  CHECK(at[0].order_status == OrderStatus::expired);
  CHECK(at[0].text == "gtd order expired at expire_time");
  CHECK(at[0].expire_time == kExpire);
  CHECK(at[0].leaves_qty.is_zero());

  const auto next_day = broker.on_quote(quote("EURUSD", "1.00", "1.01", kDay0 + core::kNsPerDay));
  REQUIRE(next_day.size() == 1);
  CHECK(next_day[0].client_order_id == "day");
  CHECK(next_day[0].exec_type == ExecType::expired);
  CHECK(broker.order_status("gtc") == OrderStatus::new_);
  CHECK(broker.open_orders() == 1);
}

TEST_CASE("a gtd order expires instead of filling on an event at or after expire_time", "[matching][expiry]") {
  matching::PaperBroker broker;
  (void)broker.on_quote(quote("EURUSD", "1.00", "1.01", kDay0));
  const Spec gtd{.type = OrderType::limit, .tif = TimeInForce::gtd, .limit = "0.99"};
  (void)broker.on_submit(order("g", Side::buy, "1", gtd), kDay0);
  const auto out = broker.on_quote(quote("EURUSD", "0.90", "0.91", kExpire + 5));
  REQUIRE(out.size() == 1);
  CHECK(out[0].exec_type == ExecType::expired);
}

TEST_CASE("a market gtd order whose size is not displayed keeps working until expire_time", "[matching][expiry]") {
  matching::PaperBroker broker;
  (void)broker.on_quote(sized("1.00", "1.01", "5", "2", kDay0));
  const auto out = broker.on_submit(order("mg", Side::buy, "5", market_spec(TimeInForce::gtd)),
                                    kDay0 + 1);
  CHECK(types(out) == std::vector{ExecType::new_, ExecType::partial_fill});
  const auto exp = broker.on_quote(sized("1.00", "1.01", "5", "2", kExpire));
  CHECK(types(exp) == std::vector{ExecType::expired});
  CHECK(exp[0].cum_qty == dec("2"));
  CHECK(exp[0].leaves_qty.is_zero());
}

TEST_CASE("broker-side checks reject stop and gtd orders the codec would also refuse", "[matching][order-types]") {
  matching::PaperBroker broker;
  (void)broker.on_quote(quote("EURUSD", "1.00", "1.01", kDay0));
  auto no_stop = order("a", Side::buy, "1", {.type = OrderType::stop, .stop = "1"});
  no_stop.stop_price.reset();
  auto bad_stop = order("b", Side::buy, "1", {.type = OrderType::stop_limit, .limit = "1", .stop = "0"});
  auto no_limit = order("c", Side::buy, "1", {.type = OrderType::stop_limit, .limit = "1", .stop = "1"});
  no_limit.limit_price.reset();
  auto no_expire = order("d", Side::buy, "1", market_spec(TimeInForce::gtd));
  no_expire.expire_time.reset();
  auto past = order("e", Side::buy, "1", market_spec(TimeInForce::gtd));

  CHECK(broker.on_submit(no_stop, kDay0).at(0).text == "stop order without stop_price");
  CHECK(broker.on_submit(bad_stop, kDay0).at(0).text == "stop_price must be positive");
  CHECK(broker.on_submit(no_limit, kDay0).at(0).text == "stop_limit order without limit_price");
  CHECK(broker.on_submit(no_expire, kDay0).at(0).text == "gtd order without expire_time");
  const auto p = broker.on_submit(past, kExpire);
  CHECK(p.at(0).exec_type == ExecType::rejected);
  CHECK(p.at(0).text == fmt::format("expire_time {} is not after the order time {}", kExpire, kExpire));
  CHECK(broker.open_orders() == 0);
}

// ---- displayed size and partial fills -----------------------------------------------------

TEST_CASE("a market ioc fills the displayed size and cancels the rest", "[matching][size]") {
  matching::PaperBroker broker;
  (void)broker.on_quote(sized("1.00", "1.01", "7", "4", kDay0));

  const auto out = broker.on_submit(order("i", Side::buy, "10", market_spec(TimeInForce::ioc)),
                                    kDay0 + 1);

  CHECK(types(out) == std::vector{ExecType::new_, ExecType::partial_fill, ExecType::canceled});
  CHECK(out[1].order_status == OrderStatus::partially_filled);
  CHECK(out[1].last_qty == dec("4"));
  CHECK(out[1].leaves_qty == dec("6"));
  CHECK(out[2].text == "ioc: unfilled rest canceled");
  CHECK(out[2].cum_qty == dec("4"));
  CHECK(out[2].avg_px == dec("1.01"));
  check_quantities(out);
}

TEST_CASE("fok fills only when the displayed size covers the whole quantity", "[matching][size]") {
  matching::PaperBroker broker;
  (void)broker.on_quote(sized("1.00", "1.01", "7", "4", kDay0));
  const auto too_big = broker.on_submit(order("f1", Side::sell, "8", market_spec(TimeInForce::fok)),
                                        kDay0 + 1);
  CHECK(types(too_big) == std::vector{ExecType::new_, ExecType::canceled});
  CHECK(too_big[1].text == "fok: displayed size 7 does not cover quantity 8");
  CHECK(too_big[1].cum_qty.is_zero());
  const auto fits = broker.on_submit(order("f2", Side::sell, "7", {.type = OrderType::limit, .tif = TimeInForce::fok,
                                                                   .limit = "1.00"}),
                                     kDay0 + 2);
  CHECK(types(fits) == std::vector{ExecType::new_, ExecType::fill});
}

TEST_CASE("a large market day order fills across several quotes with avg_px over all fills", "[matching][size]") {
  const auto tif = GENERATE(TimeInForce::day, TimeInForce::gtc);
  CAPTURE(tif);
  matching::PaperBroker broker;
  (void)broker.on_quote(sized("1.00", "1.01", "1", "4", kDay0));
  std::vector<core::ExecutionReport> all = broker.on_submit(order("big", Side::buy, "10", market_spec(tif)),
                                                            kDay0 + 1);
  CHECK(types(all) == std::vector{ExecType::new_, ExecType::partial_fill});
  const auto q2 = broker.on_quote(sized("1.00", "1.02", "1", "3", kDay0 + 2));
  const auto q3 = broker.on_quote(sized("1.00", "1.04", "1", "50", kDay0 + 3));
  CHECK(types(q2) == std::vector{ExecType::partial_fill});
  CHECK(types(q3) == std::vector{ExecType::fill});
  all.insert(all.end(), q2.begin(), q2.end());
  all.insert(all.end(), q3.begin(), q3.end());
  CHECK(q3[0].last_qty == dec("3"));
  CHECK(q3[0].cum_qty == dec("10"));
  // (4 x 1.01 + 3 x 1.02 + 3 x 1.04) / 10
  CHECK(q3[0].avg_px == dec("1.022"));
  check_quantities(all);
  CHECK(broker.open_orders() == 0);
}

TEST_CASE("orders on one quote share its displayed size in arrival order", "[matching][size]") {
  matching::PaperBroker broker;
  (void)broker.on_quote(quote("EURUSD", "1.00", "1.01", kDay0));
  (void)broker.on_submit(order("a", Side::buy, "3", gtc_limit("0.99")), kDay0);
  (void)broker.on_submit(order("b", Side::buy, "3", gtc_limit("0.99")), kDay0);

  const auto out = broker.on_quote(sized("0.98", "0.99", "1", "4", kDay0 + 1));
  CHECK(types(out) == std::vector{ExecType::fill, ExecType::partial_fill});
  CHECK(out[0].client_order_id == "a");
  CHECK(out[1].client_order_id == "b");
  CHECK(out[1].last_qty == dec("1"));
  // The size is used up: a new arrival on the same quote gets nothing, ioc cancels.
  const auto late = broker.on_submit(order("c", Side::buy, "1", market_spec(TimeInForce::ioc)), kDay0 + 2);
  CHECK(types(late) == std::vector{ExecType::new_, ExecType::canceled});
  CHECK(late[1].text == "ioc: not immediately marketable");
}

TEST_CASE("a quote without sizes (FX) fills in full", "[matching][size]") {
  matching::PaperBroker broker;
  (void)broker.on_quote(quote("EURUSD", "1.38742", "1.38755", kDay0));
  const auto out = broker.on_submit(order("fx", Side::sell, "5000000", market_spec(TimeInForce::ioc)), kDay0);
  CHECK(types(out) == std::vector{ExecType::new_, ExecType::fill});
}

TEST_CASE("a trade through working limits fills them at their limit, bounded by the trade's size",
          "[matching][trades]") {
  matching::PaperBroker broker;
  (void)broker.on_quote(quote("EURUSD", "1.00", "1.01", kDay0));
  (void)broker.on_submit(order("b1", Side::buy, "3", gtc_limit("0.99")), kDay0);
  (void)broker.on_submit(order("b2", Side::buy, "3", gtc_limit("0.995")), kDay0);
  (void)broker.on_submit(order("s1", Side::sell, "3", gtc_limit("1.05")), kDay0);

  CHECK(broker.on_trade(print("0.996", "10", kDay0 + 1)).empty());  // above both buy limits
  const auto at = broker.on_trade(print("0.995", "2", kDay0 + 2));  // at b2's limit only
  REQUIRE(at.size() == 1);
  CHECK(at[0].client_order_id == "b2");
  CHECK(at[0].exec_type == ExecType::partial_fill);
  CHECK(at[0].last_qty == dec("2"));
  CHECK(at[0].last_px == dec("0.995"));
  const auto through = broker.on_trade(print("0.98", "2", kDay0 + 3));  // through both: 2 in all
  REQUIRE(through.size() == 1);
  CHECK(through[0].client_order_id == "b1");  // arrival order
  CHECK(through[0].last_px == dec("0.99"));   // at the limit, not the print
  CHECK(through[0].last_qty == dec("2"));
  const auto more = broker.on_trade(print("0.95", "100", kDay0 + 4));
  CHECK(types(more) == std::vector{ExecType::fill, ExecType::fill});
  CHECK(broker.order_status("s1") == OrderStatus::new_);
  check_quantities(at);
  check_quantities(through);
  check_quantities(more);
}

// ---- cancel / replace ---------------------------------------------------------------------

namespace {

core::OrderReplace replace(std::string id, std::string orig, std::optional<std::string_view> qty,
                           std::optional<std::string_view> limit = std::nullopt,
                           std::optional<std::string_view> stop = std::nullopt) {
  core::OrderReplace r{.client_order_id = std::move(id), .orig_client_order_id = std::move(orig)};
  if (qty) r.quantity = dec(*qty);
  if (limit) r.limit_price = dec(*limit);
  if (stop) r.stop_price = dec(*stop);
  return r;
}

const Spec kRestingBuy = gtc_limit("0.99");

}  // namespace

TEST_CASE("replace answers replaced on the new id with the filled part carried over, the old id is done",
          "[matching][replace]") {
  matching::PaperBroker broker;
  (void)broker.on_quote(quote("EURUSD", "1.00", "1.01", kDay0));
  (void)broker.on_submit(order("r1", Side::buy, "10", kRestingBuy), kDay0);
  (void)broker.on_quote(sized("0.98", "0.99", "1", "4", kDay0 + 1));  // 4 of 10 fill
  (void)broker.on_quote(quote("EURUSD", "1.00", "1.01", kDay0 + 2));

  const auto out = broker.on_replace(replace("r2", "r1", "20", "0.985"), kDay0 + 3);

  REQUIRE(out.size() == 1);
  const auto& r = out[0];
  CHECK(r.exec_type == ExecType::replaced);
  CHECK(r.order_status == OrderStatus::partially_filled);
  CHECK(r.client_order_id == "r2");
  CHECK(r.orig_client_order_id == std::optional<std::string>("r1"));
  CHECK(r.exec_id == "r2-1");
  CHECK(r.quantity == dec("20"));
  CHECK(r.limit_price == dec("0.985"));
  CHECK(r.cum_qty == dec("4"));
  CHECK(r.leaves_qty == dec("16"));
  CHECK(r.avg_px == dec("0.99"));
  CHECK(r.ts_event == kDay0 + 3);
  CHECK(broker.replaced_by("r1") == std::optional<std::string>("r2"));
  CHECK(broker.open_orders() == 1);

  const auto cancel_old = broker.on_cancel({.client_order_id = "r1"}, kDay0 + 4);
  CHECK(types(cancel_old) == std::vector{ExecType::cancel_rejected});
  CHECK(cancel_old[0].text == "order was replaced by r2");
  const auto again = broker.on_replace(replace("r3", "r1", "5"), kDay0 + 4);
  CHECK(types(again) == std::vector{ExecType::cancel_rejected});
  CHECK(again[0].text == "order was replaced by r2");
  CHECK(again[0].client_order_id == "r3");

  // The new id fills at its new limit and can be canceled.
  const auto fill = broker.on_quote(quote("EURUSD", "0.98", "0.985", kDay0 + 5));
  REQUIRE(fill.size() == 1);
  CHECK(fill[0].client_order_id == "r2");
  CHECK(fill[0].exec_type == ExecType::fill);
  CHECK(fill[0].last_qty == dec("16"));
  CHECK(fill[0].cum_qty == dec("20"));
  check_quantities(out);
  check_quantities(fill);
}

TEST_CASE("a replace that makes the order marketable fills at once", "[matching][replace]") {
  matching::PaperBroker broker;
  (void)broker.on_quote(quote("EURUSD", "1.00", "1.01", kDay0));
  (void)broker.on_submit(order("r1", Side::buy, "10", kRestingBuy), kDay0);
  const auto out = broker.on_replace(replace("r2", "r1", std::nullopt, "1.02"), kDay0 + 1);
  CHECK(types(out) == std::vector{ExecType::replaced, ExecType::fill});
  CHECK(out[1].client_order_id == "r2");
  CHECK(out[1].last_px == dec("1.01"));
  CHECK(out[0].quantity == dec("10"));
  CHECK(broker.open_orders() == 0);
}

TEST_CASE("replace of a stop moves the stop price", "[matching][replace][stop]") {
  matching::PaperBroker broker;
  (void)broker.on_quote(quote("EURUSD", "1.00", "1.01", kDay0));
  const Spec stop{.type = OrderType::stop, .tif = TimeInForce::gtc, .stop = "0.95"};
  (void)broker.on_submit(order("s1", Side::sell, "10", stop), kDay0);
  const auto out = broker.on_replace(replace("s2", "s1", std::nullopt, std::nullopt, "0.98"), kDay0 + 1);
  CHECK(types(out) == std::vector{ExecType::replaced});
  CHECK(out[0].stop_price == dec("0.98"));
  const auto fill = broker.on_quote(quote("EURUSD", "0.98", "0.99", kDay0 + 2));
  CHECK(types(fill) == std::vector{ExecType::fill});
}

TEST_CASE("replace below the filled quantity, of a finished, unknown or mismatched order is cancel_rejected",
          "[matching][replace]") {
  matching::PaperBroker broker;
  (void)broker.on_quote(quote("EURUSD", "1.00", "1.01", kDay0));
  (void)broker.on_submit(order("m1", Side::buy, "1", market_spec(TimeInForce::ioc)), kDay0);
  (void)broker.on_submit(order("r1", Side::buy, "10", kRestingBuy), kDay0);
  (void)broker.on_quote(sized("0.98", "0.99", "1", "4", kDay0 + 1));  // 4 filled
  (void)broker.on_submit(order("other", Side::buy, "1", kRestingBuy), kDay0 + 2);

  struct Case {
    core::OrderReplace rq;
    std::string_view text;
    OrderStatus status;
  };
  const Case cases[] = {
      {replace("n1", "r1", "3"), "quantity 3 is not above the filled quantity 4", OrderStatus::partially_filled},
      {replace("n2", "r1", "4"), "quantity 4 is not above the filled quantity 4", OrderStatus::partially_filled},
      {replace("n3", "m1", "5"), "order is already filled", OrderStatus::filled},
      {replace("n4", "nope", "5"), "unknown orig_client_order_id", OrderStatus::rejected},
      {replace("other", "r1", "5"), "duplicate client_order_id", OrderStatus::partially_filled},
      {replace("n5", "r1", std::nullopt, std::nullopt, "1"), "stop_price does not apply to a limit order",
       OrderStatus::partially_filled},
      {replace("n6", "r1", "0"), "quantity must be positive", OrderStatus::partially_filled},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    const auto out = broker.on_replace(c.rq, kDay0 + 3);
    REQUIRE(out.size() == 1);
    CHECK(out[0].exec_type == ExecType::cancel_rejected);
    CHECK(out[0].text == c.text);
    CHECK(out[0].order_status == c.status);
    CHECK(out[0].client_order_id == c.rq.client_order_id);
    CHECK(out[0].orig_client_order_id == std::optional(c.rq.orig_client_order_id));
  }
  // Nothing changed: r1 still works with its 4 filled, the new ids were not taken.
  CHECK(broker.order_status("r1") == OrderStatus::partially_filled);
  CHECK_FALSE(broker.order_status("n1").has_value());
  CHECK(broker.open_orders() == 2);
  const auto rm = broker.on_replace(replace("m2", "m1", std::nullopt, "1"), kDay0 + 4);
  CHECK(rm[0].text == "order is already filled");
}

TEST_CASE("replace keeps priority when only the quantity goes down and loses it otherwise", "[matching][replace]") {
  matching::PaperBroker broker;
  (void)broker.on_quote(quote("EURUSD", "1.00", "1.01", kDay0));
  (void)broker.on_submit(order("a", Side::buy, "5", kRestingBuy), kDay0);
  (void)broker.on_submit(order("b", Side::buy, "5", kRestingBuy), kDay0);
  (void)broker.on_submit(order("c", Side::buy, "5", kRestingBuy), kDay0);
  (void)broker.on_replace(replace("a2", "a", "4"), kDay0 + 1);  // down: stays first
  (void)broker.on_replace(replace("b2", "b", "6"), kDay0 + 1);  // up: goes last

  const auto out = broker.on_quote(quote("EURUSD", "0.98", "0.99", kDay0 + 2));
  REQUIRE(out.size() == 3);
  CHECK(out[0].client_order_id == "a2");
  CHECK(out[1].client_order_id == "c");
  CHECK(out[2].client_order_id == "b2");
}

TEST_CASE("cancel after a fill and replace after a cancel are refused", "[matching][replace]") {
  matching::PaperBroker broker;
  (void)broker.on_quote(quote("EURUSD", "1.00", "1.01", kDay0));
  (void)broker.on_submit(order("a", Side::buy, "5", kRestingBuy), kDay0);
  CHECK(types(broker.on_cancel({.client_order_id = "a"}, kDay0 + 1)) == std::vector{ExecType::canceled});
  const auto out = broker.on_replace(replace("a2", "a", "6"), kDay0 + 2);
  CHECK(types(out) == std::vector{ExecType::cancel_rejected});
  CHECK(out[0].text == "order is already canceled");
  CHECK(out[0].order_status == OrderStatus::canceled);
}

// ---- commissions ----------------------------------------------------------------------------

TEST_CASE("without commission settings fill reports carry no commission", "[matching][commission]") {
  matching::PaperBroker broker;
  (void)broker.on_quote(quote("EURUSD", "1.00", "1.01", kDay0));
  const auto out = broker.on_submit(order("a", Side::buy, "100", {.type = OrderType::market}), kDay0);
  REQUIRE(out.size() == 2);
  CHECK_FALSE(out[0].commission.has_value());
  CHECK_FALSE(out[1].commission.has_value());
}

TEST_CASE("commission is per unit plus basis points of notional, with a minimum per order", "[matching][commission]") {
  matching::PaperBroker broker(matching::BrokerConfig{.commission_per_unit = dec("0.005"),
                                                      .commission_bps = dec("2"),
                                                      .commission_min_per_order = dec("1")});
  (void)broker.on_quote(sized("9.99", "10", "1000", "300", kDay0));

  // 100 x 0.005 + 100 x 10 x 2 / 10000 = 0.5 + 0.2 = 0.7, below the minimum: pays 1.
  const auto small = broker.on_submit(order("s", Side::buy, "100", {.type = OrderType::market}), kDay0);
  REQUIRE(small.size() == 2);
  CHECK_FALSE(small[0].commission.has_value());  // not a fill
  CHECK(small[1].commission == dec("1"));

  // 200 left at the ask: 200 x 0.005 + 2000 x 0.0002 = 1.4 (above the minimum), then the
  // rest on the next quote: 300 x 0.005 + 3000 x 0.0002 = 2.1; total 3.5 over the order.
  const auto big = broker.on_submit(order("b", Side::buy, "500", market_spec(TimeInForce::gtc)),
                                    kDay0 + 1);
  REQUIRE(big.size() == 2);
  CHECK(big[1].last_qty == dec("200"));
  CHECK(big[1].commission == dec("1.4"));
  const auto rest = broker.on_quote(quote("EURUSD", "9.99", "10", kDay0 + 2));
  REQUIRE(rest.size() == 1);
  CHECK(rest[0].commission == dec("2.1"));

  // A minimum met only across fills: the first fill pays the minimum, the next only the excess.
  matching::PaperBroker min_only(matching::BrokerConfig{.commission_per_unit = dec("0.01"),
                                                        .commission_min_per_order = dec("1")});
  (void)min_only.on_quote(sized("9.99", "10", "1000", "60", kDay0));
  const auto first = min_only.on_submit(order("m", Side::buy, "150", {.type = OrderType::market}), kDay0);
  REQUIRE(first.size() == 2);
  CHECK(first[1].commission == dec("1"));  // 0.6 raised to the minimum
  const auto second = min_only.on_quote(sized("9.99", "10", "1000", "90", kDay0 + 1));
  REQUIRE(second.size() == 1);
  CHECK(second[0].commission == dec("0.5"));  // 1.5 in all, 1 already paid
}
