// Paper broker: every order type with every time in force, as one table. For each
// (order type, scenario) the table gives the reports on arrival and on a later quote
// that reaches the order, for ioc, for fok, and for the resting times in force (day,
// gtc, gtd, each run); then resting orders that are not reached expire by their time
// in force.
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
using domain_test::types;
using domain_test::dec;
using domain_test::kDay0;
using domain_test::kSec;
using domain_test::quote;

namespace {

constexpr core::TimestampNs kExpire = kDay0 + 3600 * kSec;

enum class Scenario {
  marketable,  ///< marketable (stops: triggered) on arrival, unlimited size
  partial,     ///< marketable on arrival, but only 4 of 10 displayed
  resting,     ///< not marketable (stops: not triggered) on arrival
  no_data,     ///< no market data yet on arrival
};

struct Row {
  OrderType type;
  Scenario scenario;
  // Expected exec_types: on arrival and on the later quote, per time-in-force class.
  std::vector<ExecType> ioc_arrival, ioc_later;
  std::vector<ExecType> fok_arrival, fok_later;
  std::vector<ExecType> rest_arrival, rest_later;  ///< day, gtc and gtd alike
};

constexpr auto N = ExecType::new_;
constexpr auto F = ExecType::fill;
constexpr auto P = ExecType::partial_fill;
constexpr auto C = ExecType::canceled;
constexpr auto R = ExecType::rejected;
using V = std::vector<ExecType>;

// clang-format off
const Row kTable[] = {
  //  type                    scenario              ioc: arrival, later   fok: arrival, later   day/gtc/gtd: arrival, later
  {OrderType::market,     Scenario::marketable, V{N, F},    V{},  V{N, F}, V{},  V{N, F}, V{}},
  {OrderType::market,     Scenario::partial,    V{N, P, C}, V{},  V{N, C}, V{},  V{N, P}, V{F}},
  {OrderType::market,     Scenario::no_data,    V{R},       V{},  V{R},    V{},  V{R},    V{}},
  {OrderType::limit,      Scenario::marketable, V{N, F},    V{},  V{N, F}, V{},  V{N, F}, V{}},
  {OrderType::limit,      Scenario::partial,    V{N, P, C}, V{},  V{N, C}, V{},  V{N, P}, V{F}},
  {OrderType::limit,      Scenario::resting,    V{N, C},    V{},  V{N, C}, V{},  V{N},    V{F}},
  {OrderType::limit,      Scenario::no_data,    V{N, C},    V{},  V{N, C}, V{},  V{N},    V{F}},
  {OrderType::stop,       Scenario::marketable, V{N, F},    V{},  V{N, F}, V{},  V{N, F}, V{}},
  {OrderType::stop,       Scenario::partial,    V{N, P, C}, V{},  V{N, C}, V{},  V{N, P}, V{F}},
  {OrderType::stop,       Scenario::resting,    V{N},       V{F}, V{N},    V{F}, V{N},    V{F}},
  {OrderType::stop,       Scenario::no_data,    V{N},       V{F}, V{N},    V{F}, V{N},    V{F}},
  {OrderType::stop_limit, Scenario::marketable, V{N, F},    V{},  V{N, F}, V{},  V{N, F}, V{}},
  {OrderType::stop_limit, Scenario::partial,    V{N, P, C}, V{},  V{N, C}, V{},  V{N, P}, V{F}},
  {OrderType::stop_limit, Scenario::resting,    V{N},       V{F}, V{N},    V{F}, V{N},    V{F}},
  {OrderType::stop_limit, Scenario::no_data,    V{N},       V{F}, V{N},    V{F}, V{N},    V{F}},
};
// clang-format on

/// A buy of 10. Marketable prices against bid 1.00 / ask 1.01: limit 1.02, stop 1.005;
/// resting ones: limit 0.99, stop 1.05 (stop_limit: stop 1.05, limit 1.06).
core::OrderSubmit buy(OrderType type, TimeInForce tif, Scenario sc) {
  core::OrderSubmit o{.client_order_id = "o", .symbol = "EURUSD", .side = Side::buy, .order_type = type,
                      .quantity = dec("10"), .time_in_force = tif, .strategy_id = "table"};
  const bool rest = sc == Scenario::resting;
  if (type == OrderType::limit) o.limit_price = dec(rest ? "0.99" : "1.02");
  if (type == OrderType::stop) o.stop_price = dec(rest ? "1.05" : "1.005");
  if (type == OrderType::stop_limit) {
    o.stop_price = dec(rest ? "1.05" : "1.005");
    o.limit_price = dec(rest ? "1.06" : "1.02");
  }
  if (tif == TimeInForce::gtd) o.expire_time = kExpire;
  return o;
}

/// The later quote that reaches the order (fills its rest or triggers it).
core::Quote later_quote(OrderType type, Scenario sc, core::TimestampNs ts) {
  if (sc != Scenario::resting) return quote("EURUSD", "1.00", "1.01", ts);
  switch (type) {
    case OrderType::limit: return quote("EURUSD", "0.97", "0.98", ts);
    case OrderType::stop: return quote("EURUSD", "1.04", "1.05", ts);
    default: return quote("EURUSD", "1.045", "1.055", ts);
  }
}

/// A quote that reaches no buy order of the table (ask above every limit, below every stop).
core::Quote idle_quote(core::TimestampNs ts) { return quote("EURUSD", "1.0299", "1.03", ts); }

std::string_view name(Scenario s) {
  switch (s) {
    case Scenario::marketable: return "marketable";
    case Scenario::partial: return "partial";
    case Scenario::resting: return "resting";
    case Scenario::no_data: return "no_data";
  }
  return "?";
}

}  // namespace

TEST_CASE("every order type with every time in force, on arrival and on a later quote (table)",
          "[matching][order-types][table]") {
  std::size_t runs = 0;
  for (const auto& row : kTable) {
    for (const auto tif : {TimeInForce::day, TimeInForce::gtc, TimeInForce::ioc, TimeInForce::fok, TimeInForce::gtd}) {
      INFO(core::to_string(row.type) << " " << core::to_string(tif) << " " << name(row.scenario));
      const auto& want_arrival = tif == TimeInForce::ioc   ? row.ioc_arrival
                                 : tif == TimeInForce::fok ? row.fok_arrival
                                                           : row.rest_arrival;
      const auto& want_later = tif == TimeInForce::ioc   ? row.ioc_later
                               : tif == TimeInForce::fok ? row.fok_later
                                                         : row.rest_later;
      matching::PaperBroker broker;
      if (row.scenario != Scenario::no_data) {
        auto q0 = quote("EURUSD", "1.00", "1.01", kDay0);
        if (row.scenario == Scenario::partial) {
          q0.bid_size = dec("100");
          q0.ask_size = dec("4");
        }
        (void)broker.on_quote(q0);
      }
      const auto o = buy(row.type, tif, row.scenario);
      const auto arrival = broker.on_submit(o, kDay0 + kSec);
      const auto later = broker.on_quote(later_quote(row.type, row.scenario, kDay0 + 2 * kSec));
      CHECK(types(arrival) == want_arrival);
      CHECK(types(later) == want_later);

      std::vector<core::ExecutionReport> all = arrival;
      all.insert(all.end(), later.begin(), later.end());
      int seq = 0;
      core::Quantity cum;
      for (const auto& r : all) {
        CHECK(r.exec_id == fmt::format("o-{}", ++seq));
        CHECK(r.order_type == row.type);
        CHECK(r.time_in_force == tif);
        CHECK(r.quantity == dec("10"));
        CHECK(r.limit_price == o.limit_price);
        CHECK(r.stop_price == o.stop_price);
        CHECK(r.expire_time == o.expire_time);
        cum += r.last_qty;
        CHECK(r.cum_qty == cum);
        if (core::is_terminal(r.order_status)) {
          CHECK(r.leaves_qty.is_zero());
        } else {
          CHECK(r.cum_qty + r.leaves_qty == r.quantity);
        }
        if (r.exec_type == F || r.exec_type == P) {
          // buys never fill above their limit; fills are at the touch of the time
          if (o.limit_price) CHECK(r.last_px <= *o.limit_price);
          CHECK(r.avg_px.is_positive());
        }
      }
      const bool ends_working = !all.empty() && !core::is_terminal(all.back().order_status);
      CHECK(broker.open_orders() == (ends_working ? 1U : 0U));
      if (!all.empty() && all.back().exec_type == F) CHECK(broker.order_status("o") == OrderStatus::filled);
      ++runs;
    }
  }
  CHECK(runs == std::size(kTable) * 5);
}

TEST_CASE("orders the market does not reach expire by time in force: day at the next UTC date, gtd at "
          "expire_time, gtc and untriggered ioc/fok stops never",
          "[matching][order-types][table][expiry]") {
  for (const auto type : {OrderType::limit, OrderType::stop, OrderType::stop_limit}) {
    for (const auto tif : {TimeInForce::day, TimeInForce::gtc, TimeInForce::ioc, TimeInForce::fok, TimeInForce::gtd}) {
      CAPTURE(type, tif);
      matching::PaperBroker broker;
      (void)broker.on_quote(quote("EURUSD", "1.00", "1.01", kDay0));
      const auto arrival = broker.on_submit(buy(type, tif, Scenario::resting), kDay0 + kSec);
      const bool rests = type != OrderType::limit || (tif != TimeInForce::ioc && tif != TimeInForce::fok);
      CHECK(broker.open_orders() == (rests ? 1U : 0U));
      CHECK(broker.on_quote(idle_quote(kExpire - 1)).empty());
      const auto at_expire = broker.on_quote(idle_quote(kExpire));
      const auto next_day = broker.on_quote(idle_quote(kDay0 + core::kNsPerDay));
      CHECK(types(at_expire) == (rests && tif == TimeInForce::gtd ? V{ExecType::expired} : V{}));
      CHECK(types(next_day) == (rests && tif == TimeInForce::day ? V{ExecType::expired} : V{}));
      const bool still = rests && tif != TimeInForce::day && tif != TimeInForce::gtd;
      CHECK(broker.open_orders() == (still ? 1U : 0U));
      (void)arrival;
    }
  }
}
