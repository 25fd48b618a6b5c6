#include "analytics/analytics.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <tuple>
#include <utility>

#include <fmt/format.h>

#include "codec/codec.hpp"
#include "subjects/subjects.hpp"

namespace analytics {

double ratio(core::Decimal a, core::Decimal b) {
  return static_cast<double>(a.raw()) / static_cast<double>(b.raw());
}

namespace {

template <class... F>
struct overloaded : F... {
  using F::operator()...;
};
template <class... F>
overloaded(F...) -> overloaded<F...>;

const std::string kManual = "manual";

std::int64_t day_of(core::TimestampNs ts) {
  return ts >= 0 ? ts / core::kNsPerDay : -((-ts + core::kNsPerDay - 1) / core::kNsPerDay);
}

/// Crypto trades through the weekend; FX opens on Sunday evening UTC (docs/statistics.md).
bool weekend_trading(core::TimestampNs ts) {
  const std::int64_t d = day_of(ts);
  const std::int64_t dow = ((d + 4) % 7 + 7) % 7;  // 1970-01-01 was a Thursday; 0 = Sunday
  const core::DurationNs in_day = ts - d * core::kNsPerDay;
  return dow == 6 || (dow == 0 && in_day < 17 * 3600 * core::kNsPerSecond);
}

core::Price mid(core::Price a, core::Price b) { return div(a + b, core::Decimal::from_int(2)); }

/// x times a multiplier (exact when it is 1).
core::Money notional_sign(core::Money x, core::Decimal multiplier) {
  return multiplier == core::Decimal::from_int(1) ? x : mul(x, multiplier);
}

/// One scope: the totals, a symbol or a strategy_id.
struct Scope {
  portfolio::Portfolio pf;
  core::Money slippage;
  core::Money equity;  ///< capital + total P&L as of the latest event that touched it
  core::Money peak;
  core::TimestampNs peak_ts = 0;
  bool in_dd = false;
  bool episode_has_max = false;
  core::Money max_dd;
  core::TimestampNs max_dd_peak_ts = 0;
  core::DurationNs max_dd_duration = 0;
  double max_dd_pct = 0;
  std::vector<core::Money> closes;  ///< equity at the close of each UTC day with events
  std::map<std::string, bool> open;  ///< symbol -> position non-zero
  int nonzero = 0;
  core::TimestampNs in_since = 0;
  core::DurationNs in_market_ns = 0;
  std::set<std::string> traded;  ///< symbols it has had a fill in
  bool started = false;

  Scope(core::Money capital, const portfolio::Valuation& v) : pf(v), equity(capital), peak(capital) {}

  void touch(core::TimestampNs ts, core::Money capital) {
    equity = capital + pf.snapshot(false).total_pnl;
    if (!started) {
      started = true;
      peak_ts = ts;
    }
    if (equity >= peak) {
      if (in_dd && episode_has_max) max_dd_duration = ts - max_dd_peak_ts;
      in_dd = false;
      peak = equity;
      peak_ts = ts;
      return;
    }
    if (!in_dd) {
      in_dd = true;
      episode_has_max = false;
    }
    const core::Money dd = portfolio::drawdown(peak, equity);
    max_dd_pct = std::max(max_dd_pct, ratio(dd, peak));
    if (dd > max_dd) {
      max_dd = dd;
      max_dd_peak_ts = peak_ts;
      episode_has_max = true;
    }
  }

  void position_changed(const std::string& symbol, core::TimestampNs ts) {
    const bool now = !pf.position(symbol).is_zero();
    bool& was = open[symbol];
    if (now == was) return;
    was = now;
    if (now) {
      if (nonzero++ == 0) in_since = ts;
    } else if (--nonzero == 0) {
      in_market_ns += ts - in_since;
    }
  }
};

struct Touch {
  std::optional<core::Price> bid, ask;
};

struct OpenTrip {
  bool is_long = true;
  core::Quantity entry_qty, exit_qty;
  core::Money entry_notional, exit_notional, commission, dividends;
  core::TimestampNs entry_ts = 0;
};

struct TripState {
  core::Quantity position;  ///< signed
  std::optional<OpenTrip> trip;
};

std::optional<double> fail(std::string* why, std::string text) {
  if (why) *why = std::move(text);
  return std::nullopt;
}

}  // namespace

std::optional<double> sharpe_ratio(const std::vector<double>& r, int n, double rf, std::string* why) {
  if (r.size() < 2)
    return fail(why, fmt::format("needs at least 2 daily returns, has {}", r.size()));
  const double per = rf / n;
  double mean = 0;
  for (double x : r) mean += x - per;
  mean /= static_cast<double>(r.size());
  double ss = 0;
  for (double x : r) ss += (x - per - mean) * (x - per - mean);
  const double sd = std::sqrt(ss / static_cast<double>(r.size() - 1));
  if (!(sd > 0)) return fail(why, "the daily returns do not vary (standard deviation 0)");
  return mean / sd * std::sqrt(static_cast<double>(n));
}

std::optional<double> sortino_ratio(const std::vector<double>& r, int n, double rf, std::string* why) {
  if (r.size() < 2)
    return fail(why, fmt::format("needs at least 2 daily returns, has {}", r.size()));
  const double target = rf / n;
  double mean = 0, down = 0;
  for (double x : r) {
    mean += x;
    const double d = std::min(0.0, x - target);
    down += d * d;
  }
  mean /= static_cast<double>(r.size());
  const double dd = std::sqrt(down / static_cast<double>(r.size()));
  if (!(dd > 0)) return fail(why, "no daily return is below the target (downside deviation 0)");
  return (mean - target) / dd * std::sqrt(static_cast<double>(n));
}

std::optional<double> annualized_return(core::Money start, core::Money end, std::int64_t periods, int n) {
  if (periods < 2 || !start.is_positive() || end.is_negative()) return std::nullopt;
  return std::pow(ratio(end, start), static_cast<double>(n) / static_cast<double>(periods)) - 1.0;
}

struct Analyzer::Impl {
  Settings settings;
  core::MarketCheck check;
  codec::Decoder dec;
  Scope total;
  std::map<std::string, Scope> by_symbol;
  std::map<std::string, Scope> by_strategy;
  std::map<std::string, Touch> touch;
  std::map<std::pair<std::string, std::string>, TripState> trips;  ///< (strategy_id, symbol)
  std::map<std::string, bool> quoted;  ///< symbol -> has had a quote (marks as portfolio)
  std::map<std::string, std::optional<core::Price>> bid_close, ask_close;
  std::vector<RoundTrip> round_trips;
  /// Latest usable market data per (symbol, kind): 0 trade, 1 trade/mid bar, 2 quote,
  /// 3 bid bar, 4 ask bar (a new strategy scope starts from these marks).
  std::map<std::pair<std::string, int>, core::MarketData> last_md;
  std::map<std::pair<std::string, std::string>, std::int64_t> rejections;
  std::vector<EquityPoint> curve;
  std::vector<PositionPoint> positions;
  std::vector<FillRow> fills;
  std::vector<PricePoint> prices;
  DataQuality dq;
  bool ended = false;
  bool weekend = false;
  bool any = false;
  core::TimestampNs first_ts = 0, last_ts = 0;
  std::int64_t day = 0;
  std::int64_t days_closed = 0;
  std::int64_t flagged = 0, undecodable = 0;
  std::string first_flag, first_bad;
  std::vector<std::string> extra_warnings;
  std::set<std::string> unconverted;  ///< currencies of fills or trips valued without a rate

  explicit Impl(Settings s) : settings(with_base(std::move(s))), total(settings.starting_capital, settings.valuation) {}

  static Settings with_base(Settings s) {
    s.valuation.base_currency = s.base_currency;
    return s;
  }

  /// `amount` of `currency` in the base currency at the rate now; unconverted (and counted)
  /// when there is no rate.
  core::Money to_base(core::Money amount, const std::string& currency) {
    if (const auto b = total.pf.fx().to_base(amount, currency)) return *b;
    unconverted.insert(currency);
    return amount;
  }

  Scope& scope(std::map<std::string, Scope>& m, const std::string& key) {
    auto it = m.find(key);
    if (it == m.end()) {
      it = m.emplace(key, Scope(settings.starting_capital, settings.valuation)).first;
      if (&m == &by_strategy) {
        // A new strategy's portfolio learns the marks the total has (latest market data
        // of each symbol: trades first, then quotes and bid/ask bars, as marks override).
        for (int pass = 0; pass < 2; ++pass)
          for (const auto& [k, md] : last_md)
            if ((k.second >= 2) == (pass == 1)) feed(it->second.pf, md);
      }
      // Days closed before it existed: flat at the starting capital (one calendar for all).
      it->second.closes.assign(static_cast<std::size_t>(days_closed), settings.starting_capital);
    }
    return it->second;
  }

  static void feed(portfolio::Portfolio& pf, const core::MarketData& md) {
    std::visit(overloaded{[&](const core::Quote& q) { pf.on_quote(q); },
                          [&](const core::Trade& t) { pf.on_trade(t); },
                          [&](const core::Bar& b) { pf.on_bar(b); }},
               md);
  }

  void close_day() {
    total.closes.push_back(total.equity);
    for (auto& [k, s] : by_symbol) s.closes.push_back(s.equity);
    for (auto& [k, s] : by_strategy) s.closes.push_back(s.equity);
    ++days_closed;
  }

  void advance(core::TimestampNs ts) {
    if (!any) {
      any = true;
      first_ts = last_ts = ts;
      day = day_of(ts);
      return;
    }
    if (ts > last_ts) last_ts = ts;
    const auto d = day_of(ts);
    if (d > day) {
      close_day();
      day = d;
    }
  }

  void record_equity(core::TimestampNs ts, bool fill) {
    const core::Money pnl = total.equity - settings.starting_capital;
    if (!fill && !curve.empty() && curve.back().equity == total.equity) return;
    const core::Money dd = portfolio::drawdown(total.peak, total.equity);
    curve.push_back({.ts = ts, .equity = total.equity, .pnl = pnl, .drawdown = dd,
                     .drawdown_pct = ratio(dd, total.peak)});
  }

  void price(core::TimestampNs ts, const std::string& symbol, core::Price p) {
    prices.push_back({.ts = ts, .symbol = symbol, .price = p});
  }

  void market(const core::MarketData& md) {
    if (auto why = check.check(md)) {
      if (flagged++ == 0) first_flag = *why;
      return;
    }
    const auto ts = std::visit([](const auto& x) { return x.ts_event; }, md);
    const auto& symbol = std::visit([](const auto& x) -> const std::string& { return x.symbol; }, md);
    // A bar's ts_event is its END: a Friday's daily bar ends at Saturday 00:00.
    const core::TimestampNs traded_at = std::visit(
        overloaded{[](const core::Bar& b) { return b.ts_start.value_or(b.ts_event - 1); },
                   [](const auto& x) { return x.ts_event; }},
        md);
    if (weekend_trading(traded_at)) weekend = true;
    advance(ts);
    Scope& sym = scope(by_symbol, symbol);
    feed(total.pf, md);
    feed(sym.pf, md);
    for (auto& [id, s] : by_strategy) feed(s.pf, md);
    const int kind = std::visit(overloaded{[](const core::Quote&) { return 2; }, [](const core::Trade&) { return 0; },
                                           [](const core::Bar& b) {
                                             return b.price_type == core::PriceType::bid   ? 3
                                                    : b.price_type == core::PriceType::ask ? 4
                                                                                           : 1;
                                           }},
                                md);
    last_md.insert_or_assign({symbol, kind}, md);
    // Touch and mark, as the portfolio marks.
    std::visit(overloaded{[&](const core::Quote& q) {
                            touch[symbol] = {q.bid, q.ask};
                            quoted[symbol] = true;
                            price(ts, symbol, mid(q.bid, q.ask));
                          },
                          [&](const core::Trade& t) {
                            if (!quoted[symbol]) price(ts, symbol, t.price);
                          },
                          [&](const core::Bar& b) {
                            if (b.price_type == core::PriceType::bid || b.price_type == core::PriceType::ask) {
                              auto& t = touch[symbol];
                              (b.price_type == core::PriceType::bid ? t.bid : t.ask) = b.close;
                              quoted[symbol] = true;
                              price(ts, symbol, t.bid && t.ask ? mid(*t.bid, *t.ask) : b.close);
                            } else if (!quoted[symbol]) {
                              price(ts, symbol, b.close);
                            }
                          }},
               md);
    total.touch(ts, settings.starting_capital);
    sym.touch(ts, settings.starting_capital);
    for (auto& [id, s] : by_strategy)
      if (s.traded.contains(symbol)) s.touch(ts, settings.starting_capital);
    record_equity(ts, false);
  }

  void action(const core::CorporateAction& a) {
    advance(a.ts_event);
    Scope& sym = scope(by_symbol, a.symbol);
    total.pf.on_action(a);
    sym.pf.on_action(a);
    for (auto& [id, s] : by_strategy) s.pf.on_action(a);
    const bool split = a.action == core::ActionKind::split && a.ratio && a.ratio->is_positive();
    const bool dividend = a.action == core::ActionKind::dividend && a.amount;
    if (split) {
      // Pre-split prices, as the portfolio's marks (its touch follows).
      if (auto t = touch.find(a.symbol); t != touch.end()) {
        if (t->second.bid) t->second.bid = div(*t->second.bid, *a.ratio);
        if (t->second.ask) t->second.ask = div(*t->second.ask, *a.ratio);
      }
    }
    for (auto& [key, st] : trips) {
      if (key.second != a.symbol || st.position.is_zero() || !st.trip) continue;
      if (split) {
        st.position = mul(st.position, *a.ratio);
        st.trip->entry_qty = mul(st.trip->entry_qty, *a.ratio);
        st.trip->exit_qty = mul(st.trip->exit_qty, *a.ratio);
        if (st.position.is_zero()) st.trip.reset();  // a reverse split rounded it away (as the portfolio)
      } else if (dividend) {
        st.trip->dividends += mul(st.position, *a.amount);  // signed: a short pays
      }
    }
    total.touch(a.ts_event, settings.starting_capital);
    sym.touch(a.ts_event, settings.starting_capital);
    for (auto& [id, s] : by_strategy)
      if (s.traded.contains(a.symbol)) s.touch(a.ts_event, settings.starting_capital);
    record_equity(a.ts_event, false);
  }

  void execution(const core::ExecutionReport& r) {
    advance(r.ts_event);
    const std::string& strategy = r.strategy_id.empty() ? kManual : r.strategy_id;
    const bool is_fill = (r.exec_type == core::ExecType::fill || r.exec_type == core::ExecType::partial_fill) &&
                         !r.last_qty.is_zero();
    if (r.exec_type == core::ExecType::denied || r.exec_type == core::ExecType::rejected)
      ++rejections[{std::string(core::to_string(r.exec_type)), r.text}];
    // A cancel_rejected may carry no symbol (an unknown order): the totals only.
    const bool has_symbol = !r.symbol.empty();
    Scope* sym = has_symbol ? &scope(by_symbol, r.symbol) : nullptr;
    Scope& strat = scope(by_strategy, strategy);
    if (is_fill && !strat.traded.contains(r.symbol)) {
      // Its portfolio has had every mark of the symbol (market() feeds all strategies).
      strat.traded.insert(r.symbol);
    }
    total.pf.on_execution(r);
    if (sym) sym->pf.on_execution(r);
    strat.pf.on_execution(r);
    if (!is_fill) return;

    const core::Quantity q = abs(r.last_qty);
    const portfolio::SymbolTerms terms = settings.valuation.terms_of(r.symbol);
    core::Money slip;
    if (const auto t = touch.find(r.symbol); t != touch.end()) {
      if (r.side == core::Side::buy && t->second.ask) slip = mul(r.last_px - *t->second.ask, q);
      if (r.side == core::Side::sell && t->second.bid) slip = mul(*t->second.bid - r.last_px, q);
    }
    // In the base currency, as the portfolio's figures: x multiplier, at the rate now.
    if (!slip.is_zero()) slip = to_base(notional_sign(slip, terms.multiplier), settings.valuation.currency_of(r.symbol));
    const core::Money commission = r.commission.value_or(core::Money{});
    for (Scope* s : {&total, sym, &strat}) {
      if (!s) continue;
      s->slippage += slip;
      s->traded.insert(r.symbol);
      s->position_changed(r.symbol, r.ts_event);
      s->touch(r.ts_event, settings.starting_capital);
    }
    record_equity(r.ts_event, true);
    fills.push_back({.ts = r.ts_event, .symbol = r.symbol, .strategy_id = strategy,
                     .client_order_id = r.client_order_id, .side = r.side, .quantity = q, .price = r.last_px,
                     .commission = commission, .slippage = slip});
    round_trip(strategy, r.symbol, r.side, q, r.last_px, commission, r.ts_event);
  }

  /// Flat-to-flat grouping (see the header).
  void round_trip(const std::string& strategy, const std::string& symbol, core::Side side, core::Quantity q,
                  core::Price px, core::Money commission, core::TimestampNs ts) {
    TripState& st = trips[{strategy, symbol}];
    const core::Quantity signed_q = side == core::Side::buy ? q : -q;
    auto open = [&](core::Quantity qty, core::Money c) {
      st.trip = OpenTrip{.is_long = side == core::Side::buy, .entry_qty = qty, .entry_notional = mul(qty, px),
                         .commission = c, .entry_ts = ts};
    };
    if (st.position.is_zero() || st.position.is_positive() == signed_q.is_positive()) {
      if (!st.trip) {
        open(q, commission);
      } else {
        st.trip->entry_qty += q;
        st.trip->entry_notional += mul(q, px);
        st.trip->commission += commission;
      }
      st.position += signed_q;
    } else {
      const core::Quantity closed = min(q, abs(st.position));
      const core::Quantity rest = q - closed;
      const core::Money c_close = rest.is_zero() ? commission : div(mul(commission, closed), q);
      auto& t = *st.trip;
      t.exit_qty += closed;
      t.exit_notional += mul(closed, px);
      t.commission += c_close;
      st.position += side == core::Side::buy ? closed : -closed;
      if (st.position.is_zero()) {
        const core::Money gross = t.is_long ? t.exit_notional - t.entry_notional : t.entry_notional - t.exit_notional;
        // Prices x quantities x multiplier, in the quote currency; then converted at the exit.
        const core::Decimal m = settings.valuation.multiplier_of(symbol);
        const std::string ccy = settings.valuation.currency_of(symbol);
        const core::Money in_ccy = notional_sign(gross + t.dividends, m) - t.commission;
        round_trips.push_back({.symbol = symbol, .strategy_id = strategy, .is_long = t.is_long, .quantity = t.entry_qty,
                               .entry_ts = t.entry_ts, .exit_ts = ts, .entry_px = div(t.entry_notional, t.entry_qty),
                               .exit_px = div(t.exit_notional, t.exit_qty),
                               .pnl = to_base(in_ccy, ccy),
                               .commission = to_base(t.commission, ccy), .holding_ns = ts - t.entry_ts,
                               .currency = ccy, .pnl_in_currency = in_ccy});
        st.trip.reset();
        if (!rest.is_zero()) {
          open(rest, commission - c_close);
          st.position = signed_q.is_positive() ? rest : -rest;
        }
      }
    }
    positions.push_back({.ts = ts, .symbol = symbol, .strategy_id = strategy, .quantity = st.position});
  }

  int periods() const { return settings.periods_per_year > 0 ? settings.periods_per_year : (weekend ? 365 : 252); }

  Stats stats(const Scope& s, const std::vector<const RoundTrip*>& rts, std::vector<std::string>* warnings) const {
    Stats out;
    const auto snap = s.pf.snapshot(false);
    const core::Money capital = settings.starting_capital;
    out.pnl_total = snap.total_pnl;
    out.pnl_realized = snap.realized_pnl;
    out.pnl_unrealized = snap.unrealized_pnl;
    out.pnl_realized_gross = snap.realized_pnl + snap.commission;
    out.dividends = s.pf.dividends();
    out.commission = snap.commission;
    out.slippage = s.slippage;
    out.gross_notional_traded = snap.gross_notional_traded;
    out.turnover = ratio(snap.gross_notional_traded, capital);
    out.return_pct = ratio(snap.total_pnl, capital);
    out.fills = snap.fills;
    out.orders = snap.orders;
    out.orders_denied = snap.orders_denied;
    out.orders_rejected = snap.orders_rejected;
    out.max_drawdown = s.max_dd;
    out.max_drawdown_pct = s.max_dd_pct;
    out.max_drawdown_duration_ns = s.in_dd && s.episode_has_max ? last_ts - s.max_dd_peak_ts : s.max_dd_duration;

    // Daily returns: the closed days, then today's (the latest equity) as the last close.
    std::vector<core::Money> closes = s.closes;
    if (any) closes.push_back(s.equity);
    std::vector<double> returns;
    core::Money prev = capital;
    for (const auto& c : closes) {
      returns.push_back(prev.is_zero() ? 0.0 : ratio(c - prev, prev));
      prev = c;
    }
    out.daily_returns = static_cast<std::int64_t>(returns.size());
    out.currencies = snap.currencies;
    const int n = periods();
    std::string why;
    out.sharpe = sharpe_ratio(returns, n, settings.risk_free_rate, &why);
    if (!out.sharpe && warnings) warnings->push_back("sharpe is null: " + why);
    out.sortino = sortino_ratio(returns, n, settings.risk_free_rate, &why);
    if (!out.sortino && warnings) warnings->push_back("sortino is null: " + why);
    out.annualized_return_pct = annualized_return(capital, s.equity, out.daily_returns, n);
    if (!out.annualized_return_pct) {
      if (warnings)
        warnings->push_back(fmt::format("annualized_return_pct and calmar are null: need at least 2 daily returns "
                                        "(UTC days with events), have {}, and an equity that is not negative",
                                        out.daily_returns));
    } else if (out.max_drawdown_pct > 0) {
      out.calmar = *out.annualized_return_pct / out.max_drawdown_pct;
    } else if (warnings) {
      warnings->push_back("calmar is null: no drawdown");
    }
    core::DurationNs in = s.in_market_ns;
    if (s.nonzero > 0) in += last_ts - s.in_since;
    out.time_in_market_pct = last_ts > first_ts ? static_cast<double>(in) / static_cast<double>(last_ts - first_ts) : 0;

    core::Money sum, gross_win, gross_loss;
    for (const auto* t : rts) {
      ++out.round_trips;
      sum += t->pnl;
      if (t->pnl.is_positive()) {
        ++out.wins;
        gross_win += t->pnl;
      } else if (t->pnl.is_negative()) {
        ++out.losses;
        gross_loss += t->pnl;
      }
    }
    if (out.round_trips > 0) {
      out.win_rate = static_cast<double>(out.wins) / static_cast<double>(out.round_trips);
      out.expectancy = div(sum, core::Decimal::from_int(out.round_trips));
    }
    if (out.wins > 0) out.avg_win = div(gross_win, core::Decimal::from_int(out.wins));
    if (out.losses > 0) {
      out.avg_loss = div(gross_loss, core::Decimal::from_int(out.losses));
      out.profit_factor = ratio(gross_win, abs(gross_loss));
    }
    return out;
  }
};

Analyzer::Analyzer(Settings s) {
  if (!s.starting_capital.is_positive()) throw std::invalid_argument("starting_capital: must be positive");
  if (s.periods_per_year < 0) throw std::invalid_argument("periods_per_year: must be >= 0 (0 = auto)");
  impl_ = std::make_unique<Impl>(std::move(s));
}
Analyzer::~Analyzer() = default;
Analyzer::Analyzer(Analyzer&&) noexcept = default;
Analyzer& Analyzer::operator=(Analyzer&&) noexcept = default;

void Analyzer::on_market_data(const core::MarketData& md) { impl_->market(md); }
void Analyzer::on_execution(const core::ExecutionReport& r) { impl_->execution(r); }
void Analyzer::on_session_ended() { impl_->ended = true; }
void Analyzer::on_corporate_action(const core::CorporateAction& a) { impl_->action(a); }
void Analyzer::add_warning(std::string w) { impl_->extra_warnings.push_back(std::move(w)); }
void Analyzer::set_data_quality(DataQuality dq) { impl_->dq = std::move(dq); }

void Analyzer::on_event(std::string_view subject, std::string_view json) {
  auto bad = [&](const core::Error& e) {
    if (impl_->undecodable++ == 0) impl_->first_bad = fmt::format("{}: {}", subject, e.to_string());
  };
  if (subject.starts_with(subjects::kMarketDataPrefix)) {
    auto md = impl_->dec.decode_market_data(json);
    if (md) return impl_->market(*md);
    const auto env = impl_->dec.peek(json);
    if (env && env->type == core::InstrumentStatus::kType) return;
    if (env && env->type == core::CorporateAction::kType) {
      // As the workers take it (workers/log_input.hpp corporate_action_of): valid, and for
      // the subject's symbol.
      auto a = impl_->dec.decode_corporate_action(json);
      if (!a) return bad(a.error());
      if (subject.substr(subjects::kMarketDataPrefix.size()) != a->symbol)
        return bad(core::Error{"symbol", "is not the subject's"});
      return impl_->action(*a);
    }
    bad(md.error());
  } else if (subject == subjects::kTradingExecutions) {
    auto r = impl_->dec.decode_execution_report(json);
    if (r) return impl_->execution(*r);
    bad(r.error());
  } else if (subject == subjects::kSessionLifecycle) {
    const auto env = impl_->dec.peek(json);
    if (env && env->type == core::SessionEnded::kType) impl_->ended = true;
  }
}

Analysis Analyzer::analysis(std::string title, std::string session_id) const {
  const Impl& m = *impl_;
  Analysis a;
  a.title = std::move(title);
  a.session_id = std::move(session_id);
  a.is_final = m.ended;
  a.settings = m.settings;
  a.settings.periods_per_year = m.periods();
  a.first_ts = m.first_ts;
  a.last_ts = m.last_ts;
  std::vector<const RoundTrip*> all;
  for (const auto& t : m.round_trips) all.push_back(&t);
  a.totals = m.stats(m.total, all, &a.warnings);
  for (const auto& [symbol, s] : m.by_symbol) {
    std::vector<const RoundTrip*> mine;
    for (const auto& t : m.round_trips)
      if (t.symbol == symbol) mine.push_back(&t);
    a.per_symbol.push_back({symbol, m.stats(s, mine, nullptr)});
  }
  for (const auto& [id, s] : m.by_strategy) {
    std::vector<const RoundTrip*> mine;
    for (const auto& t : m.round_trips)
      if (t.strategy_id == id) mine.push_back(&t);
    a.per_strategy.push_back({id, m.stats(s, mine, nullptr)});
  }
  for (const auto& [k, n] : m.rejections) a.rejections.push_back({k.first, k.second, n});
  std::stable_sort(a.rejections.begin(), a.rejections.end(), [](const Rejection& x, const Rejection& y) {
    return std::tie(x.exec_type, y.count, x.reason) < std::tie(y.exec_type, x.count, y.reason);
  });
  if (m.flagged > 0)
    a.warnings.push_back(fmt::format("{} market data messages flagged and not used (core::MarketCheck; first: {})",
                                     m.flagged, m.first_flag));
  if (m.undecodable > 0)
    a.warnings.push_back(fmt::format("{} events did not decode and were skipped (first: {})", m.undecodable, m.first_bad));
  for (const auto& [key, st] : m.trips)
    if (!st.position.is_zero())
      a.warnings.push_back(fmt::format("{} ({}): position {} still open at the end: not a round trip", key.second,
                                       key.first, st.position));
  if (!m.any) a.warnings.push_back("no market data or execution report: nothing to analyze");
  for (const auto& c : a.totals.currencies)
    if (!c.rate)
      a.warnings.push_back(fmt::format("{} P&L {} is not in the {} totals: no {} rate (trade the pair or configure "
                                       "fx_rates, e.g. {}=...)",
                                       c.currency, c.total_pnl, a.settings.base_currency, c.currency, c.currency));
  for (const auto& c : m.unconverted)
    a.warnings.push_back(fmt::format("slippage or round trips in {} counted unconverted: no {} rate at the time",
                                     c, c));
  a.warnings.insert(a.warnings.end(), m.extra_warnings.begin(), m.extra_warnings.end());
  a.data_quality = m.dq;
  a.equity_curve = m.curve;
  a.positions = m.positions;
  a.fills = m.fills;
  a.prices = m.prices;
  a.round_trips = m.round_trips;
  return a;
}

// ---- output ------------------------------------------------------------------------

namespace {

void key(std::string& out, std::string_view k) {
  out += '"';
  out += k;
  out += "\":";
}

void dec(std::string& out, std::string_view k, core::Decimal d) {
  key(out, k);
  out += '"';
  char buf[core::Decimal::kMaxChars];
  out.append(buf, d.write(buf));
  out += "\",";
}

void num(std::string& out, std::string_view k, std::optional<double> v) {
  key(out, k);
  if (v && std::isfinite(*v)) out += fmt::format("{}", *v);
  else out += "null";
  out += ',';
}

void integer(std::string& out, std::string_view k, std::int64_t v) {
  key(out, k);
  out += std::to_string(v);
  out += ',';
}

void str(std::string& out, std::string_view k, std::string_view v) {
  key(out, k);
  codec::append_json_string(out, v);
  out += ',';
}

void null_field(std::string& out, std::string_view k) {
  key(out, k);
  out += "null,";
}

void close(std::string& out, char c) {
  if (!out.empty() && out.back() == ',') out.back() = c;
  else out += c;
}

void stats_fields(std::string& out, const Stats& s) {
  dec(out, "pnl_total", s.pnl_total);
  dec(out, "pnl_realized", s.pnl_realized);
  dec(out, "pnl_unrealized", s.pnl_unrealized);
  dec(out, "pnl_realized_gross", s.pnl_realized_gross);
  dec(out, "dividends", s.dividends);
  dec(out, "commission", s.commission);
  dec(out, "slippage", s.slippage);
  dec(out, "gross_notional_traded", s.gross_notional_traded);
  num(out, "turnover", s.turnover);
  num(out, "return_pct", s.return_pct);
  num(out, "annualized_return_pct", s.annualized_return_pct);
  num(out, "sharpe", s.sharpe);
  num(out, "sortino", s.sortino);
  num(out, "calmar", s.calmar);
  dec(out, "max_drawdown", s.max_drawdown);
  num(out, "max_drawdown_pct", s.max_drawdown_pct);
  integer(out, "max_drawdown_duration_ns", s.max_drawdown_duration_ns);
  integer(out, "round_trips", s.round_trips);
  integer(out, "wins", s.wins);
  integer(out, "losses", s.losses);
  num(out, "win_rate", s.win_rate);
  key(out, "currencies");
  out += '[';
  for (const auto& c : s.currencies) {
    out += '{';
    str(out, "currency", c.currency);
    dec(out, "pnl_total", c.total_pnl);
    dec(out, "pnl_realized", c.realized_pnl);
    dec(out, "pnl_unrealized", c.unrealized_pnl);
    dec(out, "commission", c.commission);
    dec(out, "gross_notional_traded", c.gross_notional_traded);
    if (c.rate) dec(out, "rate", *c.rate);
    else null_field(out, "rate");
    if (c.total_pnl_base) dec(out, "pnl_total_base", *c.total_pnl_base);
    else null_field(out, "pnl_total_base");
    close(out, '}');
    out += ',';
  }
  close(out, ']');
  out += ',';
  num(out, "profit_factor", s.profit_factor);
  dec(out, "expectancy", s.expectancy);
  dec(out, "avg_win", s.avg_win);
  dec(out, "avg_loss", s.avg_loss);
  num(out, "time_in_market_pct", s.time_in_market_pct);
  integer(out, "fills", s.fills);
  integer(out, "orders", s.orders);
  integer(out, "orders_denied", s.orders_denied);
  integer(out, "orders_rejected", s.orders_rejected);
  integer(out, "daily_returns", s.daily_returns);
}

/// Indices of `ts` to keep: all when n <= max, else the first, the last, every `must`
/// time and an even stride of the rest.
std::vector<std::size_t> downsample(const std::vector<core::TimestampNs>& ts, std::size_t max,
                                    const std::set<core::TimestampNs>& must) {
  std::vector<std::size_t> out;
  const std::size_t n = ts.size();
  if (n <= max) {
    for (std::size_t i = 0; i < n; ++i) out.push_back(i);
    return out;
  }
  std::size_t required = 0;
  for (std::size_t i = 0; i < n; ++i)
    if (i == 0 || i + 1 == n || must.contains(ts[i])) ++required;
  const std::size_t budget = max > required ? max - required : 0;
  const std::size_t rest = n - required;
  const std::size_t stride = budget == 0 ? 0 : (rest + budget - 1) / budget;
  std::size_t k = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (i == 0 || i + 1 == n || must.contains(ts[i])) {
      out.push_back(i);
    } else {
      if (stride != 0 && k % stride == 0) out.push_back(i);
      ++k;
    }
  }
  return out;
}

std::string_view direction(const RoundTrip& t) { return t.is_long ? "long" : "short"; }

}  // namespace

std::string to_json(const Analysis& a) {
  std::string o;
  o.reserve(1 << 16);
  o += '{';
  str(o, "type", "analysis");
  integer(o, "v", 1);
  str(o, "title", a.title);
  str(o, "session_id", a.session_id);
  str(o, "status", a.is_final ? "final" : "interim");
  key(o, "settings");
  o += '{';
  dec(o, "starting_capital", a.settings.starting_capital);
  str(o, "base_currency", a.settings.base_currency);
  integer(o, "periods_per_year", a.settings.periods_per_year);
  num(o, "risk_free_rate", a.settings.risk_free_rate);
  str(o, "return_period", "1d");
  close(o, '}');
  o += ',';
  key(o, "span");
  o += '{';
  integer(o, "first_ts", a.first_ts);
  integer(o, "last_ts", a.last_ts);
  close(o, '}');
  o += ',';
  key(o, "totals");
  o += '{';
  stats_fields(o, a.totals);
  close(o, '}');
  o += ',';
  key(o, "per_symbol");
  o += '[';
  for (const auto& s : a.per_symbol) {
    o += '{';
    str(o, "symbol", s.symbol);
    stats_fields(o, s.stats);
    close(o, '}');
    o += ',';
  }
  close(o, ']');
  o += ',';
  key(o, "per_strategy");
  o += '[';
  for (const auto& s : a.per_strategy) {
    o += '{';
    str(o, "strategy_id", s.strategy_id);
    stats_fields(o, s.stats);
    close(o, '}');
    o += ',';
  }
  close(o, ']');
  o += ',';
  key(o, "rejections");
  o += '[';
  for (const auto& r : a.rejections) {
    o += '{';
    str(o, "exec_type", r.exec_type);
    str(o, "reason", r.reason);
    integer(o, "count", r.count);
    close(o, '}');
    o += ',';
  }
  close(o, ']');
  o += ',';
  key(o, "warnings");
  o += '[';
  for (const auto& w : a.warnings) {
    codec::append_json_string(o, w);
    o += ',';
  }
  close(o, ']');
  o += ',';
  key(o, "data_quality");
  o += '{';
  integer(o, "dropped", a.data_quality.dropped);
  integer(o, "flagged", a.data_quality.flagged);
  key(o, "by_kind");
  o += '[';
  for (const auto& k : a.data_quality.by_kind) {
    o += '{';
    str(o, "kind", k.kind);
    integer(o, "count", k.count);
    key(o, "lines");
    o += '[';
    for (auto l : k.lines) o += std::to_string(l) + ',';
    close(o, ']');
    close(o, '}');
    o += ',';
  }
  close(o, ']');
  close(o, '}');
  o += ',';

  std::set<core::TimestampNs> fill_ts;
  for (const auto& f : a.fills) fill_ts.insert(f.ts);
  key(o, "equity_curve");
  o += '[';
  {
    std::vector<core::TimestampNs> ts;
    for (const auto& p : a.equity_curve) ts.push_back(p.ts);
    for (auto i : downsample(ts, 5000, fill_ts)) {
      const auto& p = a.equity_curve[i];
      o += '{';
      integer(o, "ts", p.ts);
      dec(o, "equity", p.equity);
      dec(o, "pnl", p.pnl);
      dec(o, "drawdown", p.drawdown);
      num(o, "drawdown_pct", p.drawdown_pct);
      close(o, '}');
      o += ',';
    }
  }
  close(o, ']');
  o += ',';
  key(o, "positions");
  o += '[';
  for (const auto& p : a.positions) {
    o += '{';
    integer(o, "ts", p.ts);
    str(o, "symbol", p.symbol);
    str(o, "strategy_id", p.strategy_id);
    dec(o, "quantity", p.quantity);
    close(o, '}');
    o += ',';
  }
  close(o, ']');
  o += ',';
  key(o, "fills");
  o += '[';
  for (const auto& f : a.fills) {
    o += '{';
    integer(o, "ts", f.ts);
    str(o, "symbol", f.symbol);
    str(o, "strategy_id", f.strategy_id);
    str(o, "client_order_id", f.client_order_id);
    str(o, "side", core::to_string(f.side));
    dec(o, "quantity", f.quantity);
    dec(o, "price", f.price);
    dec(o, "commission", f.commission);
    dec(o, "slippage", f.slippage);
    close(o, '}');
    o += ',';
  }
  close(o, ']');
  o += ',';
  key(o, "prices");
  o += '[';
  {
    // Per symbol at most 2000 points, then merged back in event-time order.
    std::map<std::string, std::vector<std::size_t>> idx;
    for (std::size_t i = 0; i < a.prices.size(); ++i) idx[a.prices[i].symbol].push_back(i);
    std::vector<std::size_t> keep;
    for (const auto& [symbol, is] : idx) {
      std::set<core::TimestampNs> must;
      for (const auto& f : a.fills)
        if (f.symbol == symbol) must.insert(f.ts);
      std::vector<core::TimestampNs> ts;
      for (auto i : is) ts.push_back(a.prices[i].ts);
      for (auto j : downsample(ts, 2000, must)) keep.push_back(is[j]);
    }
    std::sort(keep.begin(), keep.end());
    for (auto i : keep) {
      const auto& p = a.prices[i];
      o += '{';
      integer(o, "ts", p.ts);
      str(o, "symbol", p.symbol);
      dec(o, "price", p.price);
      close(o, '}');
      o += ',';
    }
  }
  close(o, ']');
  o += ',';
  key(o, "round_trips");
  o += '[';
  for (const auto& t : a.round_trips) {
    o += '{';
    str(o, "symbol", t.symbol);
    str(o, "strategy_id", t.strategy_id);
    str(o, "direction", direction(t));
    dec(o, "quantity", t.quantity);
    integer(o, "entry_ts", t.entry_ts);
    integer(o, "exit_ts", t.exit_ts);
    dec(o, "entry_px", t.entry_px);
    dec(o, "exit_px", t.exit_px);
    dec(o, "pnl", t.pnl);
    dec(o, "commission", t.commission);
    integer(o, "holding_ns", t.holding_ns);
    str(o, "currency", t.currency);
    dec(o, "pnl_in_currency", t.pnl_in_currency);
    close(o, '}');
    o += ',';
  }
  close(o, ']');
  o += '}';
  return o;
}

namespace {

/// CSV field: quoted when it holds a comma, quote or line break (RFC 4180).
std::string csv(std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + '"';
}

}  // namespace

std::string trades_csv(const Analysis& a) {
  std::string o =
      "symbol,strategy_id,direction,quantity,entry_ts,exit_ts,entry_px,exit_px,pnl,commission,holding_ns,currency,"
      "pnl_in_currency\n";
  for (const auto& t : a.round_trips)
    o += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{}\n", csv(t.symbol), csv(t.strategy_id), direction(t),
                     t.quantity, t.entry_ts, t.exit_ts, t.entry_px, t.exit_px, t.pnl, t.commission, t.holding_ns,
                     csv(t.currency), t.pnl_in_currency);
  return o;
}

std::string equity_csv(const Analysis& a) {
  std::string o = "ts,equity,pnl,drawdown,drawdown_pct\n";
  for (const auto& p : a.equity_curve)
    o += fmt::format("{},{},{},{},{}\n", p.ts, p.equity, p.pnl, p.drawdown, p.drawdown_pct);
  return o;
}

namespace {

std::string opt(std::optional<double> v, const char* f = "{:.2f}") {
  return v && std::isfinite(*v) ? fmt::format(fmt::runtime(f), *v) : std::string("-");
}

std::string pct(double v) { return fmt::format("{:.3f}%", v * 100); }

std::string duration(core::DurationNs ns) {
  const auto s = ns / core::kNsPerSecond;
  if (s >= 86'400) return fmt::format("{}d{:02}h", s / 86'400, s % 86'400 / 3600);
  return fmt::format("{:02}:{:02}:{:02}", s / 3600, s % 3600 / 60, s % 60);
}

void row(std::string& o, std::string_view name, const Stats& s) {
  o += fmt::format("  {:<14} {:>14} {:>12} {:>10} {:>9} {:>7} {:>7} {:>7} {:>12} {:>8} {:>6} {:>7} {:>7} {:>12} {:>7} "
                   "{:>11} {:>6}\n",
                   name, s.pnl_total, s.commission, s.slippage, pct(s.return_pct.value_or(0)), opt(s.sharpe),
                   opt(s.sortino), opt(s.calmar), s.max_drawdown, pct(s.max_drawdown_pct),
                   s.round_trips, s.win_rate ? pct(*s.win_rate) : "-", opt(s.profit_factor), s.expectancy,
                   pct(s.time_in_market_pct), fmt::format("{:.4f}", s.turnover), s.fills);
}

void header(std::string& o, std::string_view first) {
  o += fmt::format("  {:<14} {:>14} {:>12} {:>10} {:>9} {:>7} {:>7} {:>7} {:>12} {:>8} {:>6} {:>7} {:>7} {:>12} {:>7} "
                   "{:>11} {:>6}\n",
                   first, "pnl_total", "commission", "slippage", "return", "sharpe", "sortino", "calmar", "max_dd",
                   "max_dd%", "trips", "win", "pf", "expectancy", "in_mkt", "turnover", "fills");
}

}  // namespace

std::string to_text(const Analysis& a) {
  std::string o;
  o += fmt::format("Analysis ({}){}{}: {} .. {}\n", a.is_final ? "final" : "interim",
                   a.title.empty() ? "" : " of ", a.title, a.first_ts ? core::format_iso8601(a.first_ts) : "-",
                   a.last_ts ? core::format_iso8601(a.last_ts) : "-");
  o += fmt::format("  capital {} {}, daily returns ({} of them), {} periods per year, risk-free rate {}\n",
                   a.settings.starting_capital, a.settings.base_currency, a.totals.daily_returns,
                   a.settings.periods_per_year, a.settings.risk_free_rate);
  const auto& t = a.totals;
  o += fmt::format("  orders {} (denied {}, rejected {}), fills {}, round trips {} (wins {}, losses {}), avg win {}, "
                   "avg loss {}, max drawdown duration {}\n",
                   t.orders, t.orders_denied, t.orders_rejected, t.fills, t.round_trips, t.wins, t.losses, t.avg_win,
                   t.avg_loss, duration(t.max_drawdown_duration_ns));
  o += fmt::format("  realized P&L {} (before commission {}), unrealized {}{}\n", t.pnl_realized, t.pnl_realized_gross,
                   t.pnl_unrealized, t.dividends.is_zero() ? std::string() : fmt::format(", dividends {}", t.dividends));
  // P&L by currency, when any is not the base currency: what each converts to.
  if (std::any_of(t.currencies.begin(), t.currencies.end(),
                  [&](const core::CurrencyPnl& c) { return c.currency != a.settings.base_currency; })) {
    for (const auto& c : t.currencies)
      o += fmt::format("  P&L in {}: {} (realized {}, unrealized {}, commission {}){}\n", c.currency, c.total_pnl,
                       c.realized_pnl, c.unrealized_pnl, c.commission,
                       c.currency == a.settings.base_currency ? std::string()
                       : c.rate ? fmt::format(" x rate {} = {} {}", *c.rate, *c.total_pnl_base, a.settings.base_currency)
                                : fmt::format(" (no rate: not in the {} totals)", a.settings.base_currency));
  }
  header(o, "");
  row(o, "total", t);
  if (!a.per_symbol.empty()) {
    header(o, "symbol");
    for (const auto& s : a.per_symbol) row(o, s.symbol, s.stats);
  }
  if (!a.per_strategy.empty()) {
    header(o, "strategy_id");
    for (const auto& s : a.per_strategy) row(o, s.strategy_id, s.stats);
  }
  for (const auto& r : a.rejections) o += fmt::format("  {} {}: {}\n", r.exec_type, r.count, r.reason);
  if (a.data_quality.dropped || a.data_quality.flagged)
    o += fmt::format("  data quality: {} dropped, {} flagged\n", a.data_quality.dropped, a.data_quality.flagged);
  for (const auto& w : a.warnings) o += fmt::format("  warning: {}\n", w);
  return o;
}

}  // namespace analytics
