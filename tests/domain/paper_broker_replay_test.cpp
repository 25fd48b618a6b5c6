// Long run on real data: every BTCUSDT quote (with sizes) and trade of 2020-02-22
// (shared/data) through the paper broker, with a seeded stream of orders of every type
// and time in force, cancels and replaces. Checks the invariants of issue 3 on every report.
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "helpers.hpp"
#include "matching/paper_broker.hpp"

using core::ExecType;
using core::OrderStatus;
using core::OrderType;
using core::Side;
using core::TimeInForce;
using domain_test::dec;

namespace {

std::int64_t to_int(std::string_view s) {
  std::int64_t v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  REQUIRE(ec == std::errc{});
  return v;
}

/// Quotes (ts_event,symbol,bid,bid_size,ask,ask_size,ts_recv) and trades
/// (ts_event,symbol,price,size,aggressor_side,trade_id,ts_recv), merged by ts_event.
std::vector<core::MarketData> read_btc() {
  std::multimap<core::TimestampNs, core::MarketData> by_ts;
  std::string line;
  {
    std::ifstream in(domain_test::shared_data_dir() + "quotes_BTCUSDT_2020-02-22.csv");
    INFO("set TRADER_SHARED_DATA to the shared/data directory");
    REQUIRE(in.is_open());
    std::getline(in, line);
    REQUIRE(line == "ts_event,symbol,bid,bid_size,ask,ask_size,ts_recv");
    while (std::getline(in, line)) {
      const auto f = domain_test::split_csv(line);
      REQUIRE(f.size() == 7);
      core::Quote q{.symbol = std::string(f[1]), .bid = dec(f[2]), .ask = dec(f[4]), .bid_size = dec(f[3]),
                    .ask_size = dec(f[5]), .ts_event = to_int(f[0])};
      by_ts.emplace(q.ts_event, std::move(q));
    }
  }
  {
    std::ifstream in(domain_test::shared_data_dir() + "trades_BTCUSDT_2020-02-22.csv");
    REQUIRE(in.is_open());
    std::getline(in, line);
    REQUIRE(line.rfind("ts_event,symbol,price,size", 0) == 0);
    while (std::getline(in, line)) {
      const auto f = domain_test::split_csv(line);
      REQUIRE(f.size() >= 4);
      core::Trade t{.symbol = std::string(f[1]), .price = dec(f[2]), .size = dec(f[3]), .ts_event = to_int(f[0])};
      by_ts.emplace(t.ts_event, std::move(t));
    }
  }
  std::vector<core::MarketData> out;
  for (auto& [ts, md] : by_ts) out.push_back(std::move(md));
  return out;
}

struct Track {
  core::OrderSubmit order;
  core::Quantity cum_qty;
  core::Money notional;  ///< sum of last_qty x last_px
  core::Price min_px, max_px;
  bool done = false;
};

}  // namespace

TEST_CASE("a day of BTCUSDT quotes and trades with random orders, cancels and replaces keeps every invariant",
          "[matching][replay]") {
  const auto data = read_btc();
  REQUIRE(data.size() > 19000);
  matching::PaperBroker broker;
  std::uint64_t rng = 20200222;  // seeded: the run is the same every time
  const auto next = [&](std::uint64_t n) {
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (rng >> 33) % n;
  };
  std::map<std::string, Track> tracks;
  std::vector<std::string> live;  // ids that may still be working
  std::optional<core::Quote> last_quote;
  core::Quantity buy_budget, sell_budget;  // displayed + traded size since the last quote
  core::Quantity bought, sold;             // filled since the last quote
  std::size_t reports = 0, fills = 0, partials = 0, replaces = 0, expiries = 0, triggered_stops = 0;
  int n = 0;

  const auto check = [&](const std::vector<core::ExecutionReport>& out) {
    for (const auto& r : out) {
      ++reports;
      INFO(r.exec_id << " " << core::to_string(r.exec_type) << " " << core::to_string(r.order_status));
      CHECK(r.cum_qty <= r.quantity);
      if (core::is_terminal(r.order_status)) {
        CHECK(r.leaves_qty.is_zero());
      } else {
        CHECK(r.cum_qty + r.leaves_qty == r.quantity);
      }
      if (r.exec_type == ExecType::cancel_rejected) continue;
      auto it = tracks.find(r.client_order_id);
      if (r.exec_type == ExecType::replaced) {
        ++replaces;
        REQUIRE(r.orig_client_order_id.has_value());
        Track& old = tracks.at(*r.orig_client_order_id);
        CHECK_FALSE(old.done);
        old.done = true;
        Track t = old;
        t.done = false;
        t.order.client_order_id = r.client_order_id;
        t.order.quantity = r.quantity;
        t.order.limit_price = r.limit_price;
        t.order.stop_price = r.stop_price;
        it = tracks.insert_or_assign(r.client_order_id, t).first;
        live.push_back(r.client_order_id);
        CHECK(r.cum_qty == t.cum_qty);
        continue;
      }
      REQUIRE(it != tracks.end());
      Track& t = it->second;
      CHECK_FALSE(t.done);  // nothing after a terminal report
      if (r.exec_type == ExecType::fill || r.exec_type == ExecType::partial_fill) {
        ++fills;
        if (r.exec_type == ExecType::partial_fill) ++partials;
        CHECK(r.last_qty.is_positive());
        t.cum_qty += r.last_qty;
        t.notional += mul(r.last_qty, r.last_px);
        t.min_px = t.min_px.is_zero() ? r.last_px : min(t.min_px, r.last_px);
        t.max_px = max(t.max_px, r.last_px);
        CHECK(r.cum_qty == t.cum_qty);
        CHECK(r.avg_px >= t.min_px);
        CHECK(r.avg_px <= t.max_px);
        if (t.order.limit_price) {  // never worse than the limit
          if (r.side == Side::buy) CHECK(r.last_px <= *t.order.limit_price);
          else CHECK(r.last_px >= *t.order.limit_price);
        }
        if (t.order.stop_price) ++triggered_stops;
        (r.side == Side::buy ? bought : sold) += r.last_qty;
      }
      CHECK(r.cum_qty == t.cum_qty);
      if (r.exec_type == ExecType::expired) ++expiries;
      if (core::is_terminal(r.order_status)) t.done = true;
    }
    // Fills since the last quote never exceed what the quote showed plus what traded.
    CHECK(bought <= buy_budget);
    CHECK(sold <= sell_budget);
  };

  for (const auto& md : data) {
    if (const auto* q = std::get_if<core::Quote>(&md)) {
      last_quote = *q;
      buy_budget = *q->ask_size;
      sell_budget = *q->bid_size;
      bought = sold = core::Quantity{};
      check(broker.on_quote(*q));
    } else {
      const auto& t = std::get<core::Trade>(md);
      buy_budget += t.size;
      sell_budget += t.size;
      check(broker.on_trade(t));
    }
    if (!last_quote || ++n % 7 != 0) continue;
    const auto ts = std::visit([](const auto& x) { return x.ts_event; }, md);
    const auto mid = div(last_quote->bid + last_quote->ask, dec("2"));
    const auto offset = [&](int ticks) { return mid + mul_int(dec("0.5"), ticks); };
    const auto action = next(10);
    if (action < 6 || live.empty()) {
      const auto id = fmt::format("o{}", n);
      const Side side = next(2) ? Side::buy : Side::sell;
      const auto type = static_cast<OrderType>(next(4));
      const auto tif = static_cast<TimeInForce>(next(5));
      const int dir = side == Side::buy ? 1 : -1;
      core::OrderSubmit o{.client_order_id = id, .symbol = "BTCUSDT", .side = side, .order_type = type,
                          .quantity = mul_int(dec("0.001"), 1 + static_cast<std::int64_t>(next(3000))),
                          .time_in_force = tif, .strategy_id = "replay"};
      if (type == OrderType::limit || type == OrderType::stop_limit) {
        o.limit_price = offset(dir * (static_cast<int>(next(21)) - 10));
      }
      if (type == OrderType::stop || type == OrderType::stop_limit) {
        o.stop_price = offset(dir * static_cast<int>(next(10)));
      }
      if (tif == TimeInForce::gtd) {
        o.expire_time = ts + static_cast<core::TimestampNs>(1 + next(600)) * core::kNsPerSecond;
      }
      tracks[id] = Track{.order = o};
      live.push_back(id);
      check(broker.on_submit(o, ts));
    } else {
      const auto pick = next(live.size());
      const auto id = live[pick];
      live.erase(live.begin() + static_cast<std::ptrdiff_t>(pick));
      if (action < 8) {
        check(broker.on_cancel({.client_order_id = id}, ts));
      } else {
        const Track& t = tracks.at(id);
        core::OrderReplace rq{.client_order_id = fmt::format("{}r{}", id, n), .orig_client_order_id = id,
                              .quantity = t.order.quantity +
                                          mul_int(dec("0.001"), static_cast<std::int64_t>(next(2001)) - 1000)};
        if (t.order.limit_price) rq.limit_price = offset(static_cast<int>(next(21)) - 10);
        check(broker.on_replace(rq, ts));
      }
    }
  }
  INFO("reports " << reports << ", fills " << fills << ", partial " << partials << ", replaces " << replaces
                  << ", expiries " << expiries << ", stop fills " << triggered_stops);
  // The run exercises what it claims to.
  CHECK(fills > 300);
  CHECK(partials > 50);
  CHECK(replaces > 50);
  CHECK(expiries > 5);
  CHECK(triggered_stops > 20);
}
