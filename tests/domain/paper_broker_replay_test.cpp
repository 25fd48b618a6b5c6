// Long runs on real data (shared/data) through the paper broker with a seeded stream of
// orders of every type and time in force, cancels, replaces, off-grid orders and
// instrument halts: BTCUSDT quotes (with sizes) and trades, a full day of IBM quotes and
// trades, two weeks of GBPUSD 1-minute bid and ask bars. Each runs with the default
// broker and with a "venue" broker (latency, slippage, the seeded fill model, tick and
// lot sizes). Checked on every report: quantities, exec_id uniqueness, cum_qty = the
// sum of the fills, avg_px = their exact volume-weighted price, limits never worse,
// nothing after a terminal report; at the end positions = the signed sum of the fills
// (and the portfolio's), working orders = open_orders(). The venue runs reproduce
// byte-identical reports with the same seed and differ with another.
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
#include "portfolio/portfolio.hpp"

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

std::ifstream open_data(const std::string& name, std::string_view header_prefix) {
  std::ifstream in(domain_test::shared_data_dir() + name);
  INFO("reading " << name << " (set TRADER_SHARED_DATA to the shared/data directory)");
  REQUIRE(in.is_open());
  std::string line;
  std::getline(in, line);
  REQUIRE(line.rfind(header_prefix, 0) == 0);
  return in;
}

/// Quotes (ts_event,symbol,bid,bid_size,ask,ask_size,...) and trades
/// (ts_event,symbol,price,size,...), merged by ts_event (file order on ties, quotes first).
std::vector<core::MarketData> read_quotes_and_trades(const std::string& quotes, const std::string& trades) {
  std::multimap<core::TimestampNs, core::MarketData> by_ts;
  std::string line;
  {
    auto in = open_data(quotes, "ts_event,symbol,bid,bid_size,ask,ask_size");
    while (std::getline(in, line)) {
      const auto f = domain_test::split_csv(line);
      REQUIRE(f.size() >= 6);
      core::Quote q{.symbol = std::string(f[1]), .bid = dec(f[2]), .ask = dec(f[4]), .bid_size = dec(f[3]),
                    .ask_size = dec(f[5]), .ts_event = to_int(f[0])};
      by_ts.emplace(q.ts_event, std::move(q));
    }
  }
  {
    auto in = open_data(trades, "ts_event,symbol,price,size");
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

/// ts_start,ts_event,symbol,bid_open,bid_high,bid_low,bid_close,ask_open,ask_high,ask_low,ask_close:
/// a bid bar then an ask bar per row.
std::vector<core::MarketData> read_gbpusd_bars() {
  auto in = open_data("bars_1m_GBPUSD_2012-02-01_to_14.csv", "ts_start,ts_event,symbol,bid_open");
  std::vector<core::MarketData> out;
  std::string line;
  while (std::getline(in, line)) {
    const auto f = domain_test::split_csv(line);
    REQUIRE(f.size() == 11);
    for (const auto type : {core::PriceType::bid, core::PriceType::ask}) {
      const std::size_t o = type == core::PriceType::bid ? 3 : 7;
      out.push_back(core::Bar{.symbol = std::string(f[2]), .open = dec(f[o]), .high = dec(f[o + 1]),
                              .low = dec(f[o + 2]), .close = dec(f[o + 3]), .price_type = type,
                              .ts_start = to_int(f[0]), .ts_event = to_int(f[1])});
    }
  }
  return out;
}

/// The exact volume-weighted price, rounded half-even to 8 digits (independent of the broker's code).
core::Price vwap(__int128 notional_e16, core::Quantity qty) {
  const std::int64_t d = qty.raw();
  __int128 q = notional_e16 / d;
  const __int128 r = notional_e16 % d;  // notional and qty are positive here
  if (2 * r > d || (2 * r == d && (q & 1) != 0)) ++q;
  return core::Price::from_raw(static_cast<std::int64_t>(q));
}

/// What a run is about: the symbol, how far apart order prices are, the order sizes.
struct Market {
  std::string symbol;
  core::Price step;           ///< price offsets are multiples of this
  core::Quantity lot;         ///< quantities are multiples of this
  std::int64_t max_lots = 0;  ///< up to this many lots per order
  bool sized = false;         ///< quotes and trades carry sizes (fills are bounded by them)
};

struct Track {
  core::OrderSubmit order;
  core::Quantity cum_qty;
  __int128 notional_e16 = 0;
  bool acked = false;  ///< the market acknowledged it (new / replaced)
  bool done = false;
};

struct Stats {
  std::size_t reports = 0, fills = 0, partials = 0, replaces = 0, expiries = 0, stop_fills = 0, pending_cancels = 0,
              grid_rejects = 0, halt_rejects = 0, halts = 0, slipped = 0;
};

struct Result {
  std::vector<core::ExecutionReport> reports;
  Stats stats;
};

Result run(const std::vector<core::MarketData>& data, const matching::BrokerConfig& cfg, const Market& m,
           std::uint64_t order_seed) {
  matching::PaperBroker broker(cfg);
  portfolio::Portfolio book;
  const auto inst_it = cfg.instruments.find(m.symbol);
  const std::optional<core::Price> tick = inst_it != cfg.instruments.end() ? inst_it->second.tick_size : std::nullopt;
  const std::optional<core::Quantity> lot = inst_it != cfg.instruments.end() ? inst_it->second.lot_size : std::nullopt;
  std::uint64_t rng = order_seed;
  const auto next = [&](std::uint64_t n) {
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (rng >> 33) % n;
  };
  Result res;
  Stats& st = res.stats;
  std::map<std::string, Track> tracks;
  std::vector<std::string> live;  // ids that may still be working
  std::set<std::string> exec_ids;
  std::map<std::string, core::Quantity> position;  // signed sum of fills, by symbol
  std::optional<core::Price> bid, ask, last;
  core::Quantity buy_budget, sell_budget, bought, sold;  // displayed + traded size since the last quote
  bool halted = false;
  int n = 0;

  const auto check = [&](const std::vector<core::ExecutionReport>& out, bool fills_allowed) {
    for (const auto& r : out) {
      ++st.reports;
      res.reports.push_back(r);
      book.on_execution(r);
      INFO(r.exec_id << " " << core::to_string(r.exec_type) << " " << core::to_string(r.order_status) << " "
                     << r.text);
      CHECK(exec_ids.insert(r.exec_id).second);
      CHECK(r.cum_qty <= r.quantity);
      if (core::is_terminal(r.order_status)) {
        CHECK(r.leaves_qty.is_zero());
      } else {
        CHECK(r.cum_qty + r.leaves_qty == r.quantity);
      }
      if (r.exec_type == ExecType::cancel_rejected) continue;
      if (r.exec_type == ExecType::pending_cancel) {
        ++st.pending_cancels;
        CHECK(cfg.latency_ns > 0);
        CHECK_FALSE(core::is_terminal(r.order_status));
        continue;
      }
      auto it = tracks.find(r.client_order_id);
      if (r.exec_type == ExecType::replaced) {
        ++st.replaces;
        REQUIRE(r.orig_client_order_id.has_value());
        Track& old = tracks.at(*r.orig_client_order_id);
        CHECK_FALSE(old.done);
        CHECK(old.acked);
        old.done = true;
        Track t = old;
        t.done = false;
        t.order.client_order_id = r.client_order_id;
        t.order.quantity = r.quantity;
        t.order.limit_price = r.limit_price;
        t.order.stop_price = r.stop_price;
        tracks.insert_or_assign(r.client_order_id, t);
        live.push_back(r.client_order_id);
        CHECK(r.cum_qty == t.cum_qty);
        CHECK(r.avg_px == (t.cum_qty.is_zero() ? core::Price{} : vwap(t.notional_e16, t.cum_qty)));
        continue;
      }
      REQUIRE(it != tracks.end());
      Track& t = it->second;
      CHECK_FALSE(t.done);  // nothing after a terminal report
      if (r.exec_type == ExecType::new_) {
        CHECK_FALSE(t.acked);
        t.acked = true;
      }
      if (r.exec_type == ExecType::rejected) {
        if (r.text.find("not a multiple") != std::string::npos) ++st.grid_rejects;
        if (r.text.find("is halted") != std::string::npos) ++st.halt_rejects;
      }
      if (r.exec_type == ExecType::fill || r.exec_type == ExecType::partial_fill) {
        CHECK(fills_allowed);
        ++st.fills;
        if (r.exec_type == ExecType::partial_fill) ++st.partials;
        CHECK(t.acked);
        CHECK(r.last_qty.is_positive());
        CHECK(r.last_px.is_positive());
        t.cum_qty += r.last_qty;
        t.notional_e16 += static_cast<__int128>(r.last_px.raw()) * r.last_qty.raw();
        CHECK(r.avg_px == vwap(t.notional_e16, t.cum_qty));
        if (t.order.limit_price) {  // never worse than the limit
          if (r.side == Side::buy) CHECK(r.last_px <= *t.order.limit_price);
          else CHECK(r.last_px >= *t.order.limit_price);
        } else if (tick && cfg.slippage_bps.is_positive()) {
          CHECK(r.last_px.is_multiple_of(*tick));  // slipped prices are rounded to the tick
        }
        if (t.order.stop_price) ++st.stop_fills;
        (r.side == Side::buy ? bought : sold) += r.last_qty;
        position[r.symbol] += r.side == Side::buy ? r.last_qty : -r.last_qty;
      }
      CHECK(r.cum_qty == t.cum_qty);
      if (r.exec_type == ExecType::expired) ++st.expiries;
      if (core::is_terminal(r.order_status)) t.done = true;
    }
    // Fills since the last quote never exceed what it showed plus what traded (with
    // latency, arrivals use the size the previous quote left: not comparable).
    if (m.sized && cfg.latency_ns == 0) {
      CHECK(bought <= buy_budget);
      CHECK(sold <= sell_budget);
    }
  };

  for (const auto& md : data) {
    const auto ts = std::visit([](const auto& x) { return x.ts_event; }, md);
    ++n;
    // Instrument halts: every 2500 events the symbol halts for 150.
    if (n % 2500 == 0 || (halted && n % 2500 == 150)) {
      halted = !halted;
      st.halts += halted ? 1 : 0;
      check(broker.on_status({.symbol = m.symbol,
                              .status = halted ? core::InstrumentState::halted : core::InstrumentState::trading,
                              .reason = halted ? "drill" : "",
                              .ts_event = ts}),
            true);  // what arrives before the halt applies may still fill
    }
    if (const auto* q = std::get_if<core::Quote>(&md)) {
      bid = q->bid;
      ask = q->ask;
      buy_budget = q->ask_size.value_or(core::Quantity{});
      sell_budget = q->bid_size.value_or(core::Quantity{});
      bought = sold = core::Quantity{};
      book.on_quote(*q);
      check(broker.on_quote(*q), !halted);
    } else if (const auto* t = std::get_if<core::Trade>(&md)) {
      last = t->price;
      buy_budget += t->size;
      sell_budget += t->size;
      book.on_trade(*t);
      check(broker.on_trade(*t), !halted);
    } else {
      const auto& b = std::get<core::Bar>(md);
      (b.price_type == core::PriceType::bid ? bid : ask) = b.close;
      book.on_bar(b);
      check(broker.on_bar(b), !halted);
    }
    if (n % 7 != 0) continue;
    std::optional<core::Price> ref;
    if (bid && ask) ref = div(*bid + *ask, dec("2"));
    else ref = last;
    if (!ref) continue;
    const auto at = [&](std::int64_t steps) {
      auto px = *ref + mul_int(m.step, steps);
      if (tick) px = matching::round_down_to(px, *tick);
      return px.is_positive() ? px : m.step;
    };
    const auto action = next(10);
    if (action < 6 || live.empty()) {
      const auto id = fmt::format("o{}", n);
      const Side side = next(2) ? Side::buy : Side::sell;
      const auto type = static_cast<OrderType>(next(4));
      const auto tif = static_cast<TimeInForce>(next(5));
      const int dir = side == Side::buy ? 1 : -1;
      core::OrderSubmit o{.client_order_id = id, .symbol = m.symbol, .side = side, .order_type = type,
                          .quantity = mul_int(m.lot, 1 + static_cast<std::int64_t>(next(m.max_lots))),
                          .time_in_force = tif, .strategy_id = "replay", .ts_event = ts};
      if (type == OrderType::limit || type == OrderType::stop_limit) {
        o.limit_price = at(dir * (static_cast<int>(next(21)) - 10));
      }
      if (type == OrderType::stop || type == OrderType::stop_limit) {
        o.stop_price = at(dir * static_cast<int>(next(10)));
      }
      if (tif == TimeInForce::gtd) {
        o.expire_time = ts + static_cast<core::TimestampNs>(1 + next(600)) * core::kNsPerSecond;
      }
      // One order in 40 is off the venue's grid (when it has one).
      if (next(40) == 0) {
        if (lot) o.quantity += core::Quantity::from_raw(lot->raw() / 2);
        else if (tick && o.limit_price) *o.limit_price += core::Price::from_raw(tick->raw() / 2);
      }
      tracks[id] = Track{.order = o};
      live.push_back(id);
      check(broker.on_submit(o, ts), !halted);
      if (next(50) == 0) CHECK(broker.on_submit(o, ts).empty());  // an identical resend
    } else {
      const auto pick = next(live.size());
      const auto id = live[pick];
      live.erase(live.begin() + static_cast<std::ptrdiff_t>(pick));
      if (action < 8) {
        check(broker.on_cancel({.client_order_id = id, .ts_event = ts}, ts), !halted);
      } else {
        const Track& t = tracks.at(id);
        core::OrderReplace rq{.client_order_id = fmt::format("{}r{}", id, n), .orig_client_order_id = id,
                              .quantity = t.order.quantity +
                                          mul_int(m.lot, static_cast<std::int64_t>(next(2 * m.max_lots / 3 + 1)) -
                                                             m.max_lots / 3)};
        if (t.order.limit_price) rq.limit_price = at(static_cast<int>(next(21)) - 10);
        check(broker.on_replace(rq, ts), !halted);
      }
    }
  }

  // Positions are the signed sum of the fills, for the portfolio too.
  for (const auto& [symbol, qty] : position) CHECK(book.position(symbol) == qty);
  CHECK(book.snapshot(true).fills == static_cast<std::int64_t>(st.fills));
  // Every acknowledged order that is not done is working at the broker.
  std::size_t working = 0;
  for (const auto& [id, t] : tracks) working += t.acked && !t.done ? 1 : 0;
  CHECK(broker.open_orders() == working);
  if (cfg.latency_ns == 0) CHECK(broker.in_flight() == 0);
  return res;
}

matching::BrokerConfig venue(std::string symbol, std::string_view tick, std::string_view lot, std::uint64_t seed) {
  matching::BrokerConfig cfg{.commission_bps = dec("0.5"),
                             .latency_ns = 50'000'000,  // 50 ms
                             .slippage_bps = dec("0.5"),
                             .prob_slippage = dec("0.3"),
                             .prob_fill_on_limit = dec("0.6"),
                             .random_seed = seed};
  cfg.instruments[symbol] = {.symbol = symbol, .tick_size = dec(tick), .lot_size = dec(lot)};
  return cfg;
}

void report(const Stats& s, std::size_t min_replaces = 50) {
  INFO("reports " << s.reports << ", fills " << s.fills << ", partial " << s.partials << ", replaces " << s.replaces
                  << ", expiries " << s.expiries << ", stop fills " << s.stop_fills << ", pending_cancel "
                  << s.pending_cancels << ", off-grid rejects " << s.grid_rejects << ", halt rejects "
                  << s.halt_rejects << ", halts " << s.halts);
  CHECK(s.fills > 300);
  CHECK(s.replaces > min_replaces);
  CHECK(s.expiries > 5);
  CHECK(s.stop_fills > 20);
  CHECK(s.halts > 2);
}

}  // namespace

TEST_CASE("BTCUSDT quotes and trades with random orders keep every invariant, plain and with a simulated venue",
          "[matching][replay]") {
  const auto data = read_quotes_and_trades("quotes_BTCUSDT_2020-02-22.csv", "trades_BTCUSDT_2020-02-22.csv");
  REQUIRE(data.size() > 19000);
  const Market m{.symbol = "BTCUSDT", .step = dec("0.5"), .lot = dec("0.001"), .max_lots = 3000, .sized = true};

  SECTION("default broker") {
    const auto res = run(data, {}, m, 20200222);
    report(res.stats);
    CHECK(res.stats.partials > 50);
    CHECK(res.stats.pending_cancels == 0);
  }
  SECTION("latency, slippage, fill model, tick and lot sizes; byte-identical with the same seed") {
    const auto a = run(data, venue("BTCUSDT", "0.01", "0.001", 1), m, 20200222);
    report(a.stats);
    CHECK(a.stats.partials > 50);
    CHECK(a.stats.pending_cancels > 50);
    CHECK(a.stats.grid_rejects > 5);
    const auto again = run(data, venue("BTCUSDT", "0.01", "0.001", 1), m, 20200222);
    CHECK(a.reports == again.reports);
    const auto other = run(data, venue("BTCUSDT", "0.01", "0.001", 2), m, 20200222);
    CHECK(a.reports != other.reports);
    CHECK(a.reports.size() > 5'000);
  }
}

TEST_CASE("a day of IBM quotes and trades with random orders keeps every invariant, plain and with a simulated venue",
          "[matching][replay]") {
  const auto data = read_quotes_and_trades("quotes_IBM_2013-10-08.csv", "trades_IBM_2013-10-08.csv");
  REQUIRE(data.size() == 62'875 + 33'381);
  const Market m{.symbol = "IBM", .step = dec("0.01"), .lot = dec("100"), .max_lots = 10, .sized = true};
  SECTION("default broker") {
    const auto res = run(data, {}, m, 20131008);
    report(res.stats);
    CHECK(res.stats.partials > 50);
  }
  SECTION("latency, slippage, fill model, tick and lot sizes") {
    const auto res = run(data, venue("IBM", "0.01", "100", 7), m, 20131008);
    report(res.stats);
    CHECK(res.stats.pending_cancels > 50);
    CHECK(res.stats.grid_rejects > 5);
    CHECK(res.stats.halt_rejects > 0);
  }
}

TEST_CASE("two weeks of GBPUSD 1-minute bid and ask bars with random orders keep every invariant",
          "[matching][replay][bars]") {
  const auto data = read_gbpusd_bars();
  REQUIRE(data.size() == 2 * 14'339);
  const Market m{.symbol = "GBPUSD", .step = dec("0.0002"), .lot = dec("1000"), .max_lots = 100};
  SECTION("default broker") {
    const auto res = run(data, {}, m, 2012);
    report(res.stats, 30);
  }
  SECTION("latency, slippage, fill model, tick and lot sizes; byte-identical with the same seed") {
    const auto a = run(data, venue("GBPUSD", "0.00001", "1000", 3), m, 2012);
    report(a.stats, 30);
    CHECK(a.stats.grid_rejects > 5);
    const auto again = run(data, venue("GBPUSD", "0.00001", "1000", 3), m, 2012);
    CHECK(a.reports == again.reports);
  }
}
