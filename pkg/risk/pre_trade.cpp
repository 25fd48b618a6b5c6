#include "risk/pre_trade.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <iterator>
#include <utility>

namespace risk {

namespace {

constexpr core::Decimal::Raw kRawPerCentiBps = core::Decimal::kOne / 100;  // 0.01 in raw units

/// Rounds a non-negative value up to 2 decimals (for display only).
core::Decimal ceil_2dp(core::Decimal d) {
  const core::Decimal::Raw raw = d.raw();
  if (raw <= 0) return d;
  return core::Decimal::from_raw(raw / kRawPerCentiBps * kRawPerCentiBps + (raw % kRawPerCentiBps != 0 ? kRawPerCentiBps : 0));
}

/// "1s", "250ms", "10us" or "7ns": the largest unit that divides the duration exactly.
std::string format_window(core::DurationNs ns) {
  if (ns != 0 && ns % core::kNsPerSecond == 0) return fmt::format("{}s", ns / core::kNsPerSecond);
  if (ns != 0 && ns % 1'000'000 == 0) return fmt::format("{}ms", ns / 1'000'000);
  if (ns != 0 && ns % 1'000 == 0) return fmt::format("{}us", ns / 1'000);
  return fmt::format("{}ns", ns);
}

std::int64_t floor_day(core::TimestampNs ts) {
  std::int64_t d = ts / core::kNsPerDay;
  if (ts % core::kNsPerDay < 0) --d;
  return d;
}

std::optional<core::Error> positive(const std::string& path, std::string_view field,
                                    std::optional<core::Decimal> v) {
  if (v && !v->is_positive()) {
    return core::make_error(fmt::format("{}.{}", path, field), fmt::format("must be > 0, got {}", *v));
  }
  return std::nullopt;
}

/// Every field equal except ts_event and cause_seq (when and in reaction to what it
/// was sent): a resend of the same order.
bool same_order(const core::OrderSubmit& a, const core::OrderSubmit& b) {
  core::OrderSubmit x = a;
  x.ts_event = b.ts_event;
  x.cause_seq = b.cause_seq;
  return x == b;
}

bool same_replace(const core::OrderReplace& a, const core::OrderReplace& b) {
  core::OrderReplace x = a;
  x.ts_event = b.ts_event;
  x.cause_seq = b.cause_seq;
  return x == b;
}

/// The denial ordinal n of risk's own report: exec_id "<id>-denied" -> 1,
/// "<id>-denied-<n>" -> n; 0 if the exec_id is not of that form.
std::int64_t denial_ordinal(const core::ExecutionReport& r) {
  const std::string_view id = r.client_order_id;
  std::string_view x = r.exec_id;
  if (x.size() < id.size() || x.substr(0, id.size()) != id) return 0;
  x.remove_prefix(id.size());
  constexpr std::string_view kSuffix = "-denied";
  if (x.substr(0, kSuffix.size()) != kSuffix) return 0;
  x.remove_prefix(kSuffix.size());
  if (x.empty()) return 1;
  if (x.front() != '-' || x.size() < 2) return 0;
  x.remove_prefix(1);
  std::int64_t n = 0;
  const auto [p, ec] = std::from_chars(x.data(), x.data() + x.size(), n);
  if (ec != std::errc() || p != x.data() + x.size() || n < 1) return 0;
  return n;
}

std::string denial_exec_id(const std::string& id, std::int64_t n) {
  return n <= 1 ? fmt::format("{}-denied", id) : fmt::format("{}-denied-{}", id, n);
}

/// The order's terms as an execution report carries them.
core::OrderSubmit terms_of(const core::ExecutionReport& r) {
  return core::OrderSubmit{.client_order_id = r.client_order_id,
                           .symbol = r.symbol,
                           .side = r.side,
                           .order_type = r.order_type,
                           .quantity = r.quantity,
                           .limit_price = r.limit_price,
                           .time_in_force = r.time_in_force,
                           .strategy_id = r.strategy_id,
                           .ts_event = r.ts_event,
                           .stop_price = r.stop_price,
                           .expire_time = r.expire_time};
}

core::Quantity after_fill(core::Quantity pos, core::Side side, core::Quantity qty) {
  return side == core::Side::buy ? pos + qty : pos - qty;
}

}  // namespace

// ---------------------------------------------------------------- policy

std::optional<core::Error> validate(const RiskPolicy& p) {
  const Limits& d = p.defaults;
  const std::string def = "defaults";
  for (auto e : {positive(def, "max_order_qty", d.max_order_qty),
                 positive(def, "max_order_notional", d.max_order_notional),
                 positive(def, "max_position", d.max_position),
                 positive(def, "max_gross_exposure", d.max_gross_exposure),
                 positive(def, "price_band_bps", d.price_band_bps),
                 positive(def, "daily_loss_limit", d.daily_loss_limit),
                 positive(def, "max_drawdown", d.max_drawdown)}) {
    if (e) return e;
  }
  if (d.max_open_orders < 0) {
    return core::make_error("defaults.max_open_orders", fmt::format("must be >= 0, got {}", d.max_open_orders));
  }
  if (d.max_orders_per_window < 0) {
    return core::make_error("defaults.max_orders_per_window",
                            fmt::format("must be >= 0, got {}", d.max_orders_per_window));
  }
  if (d.rate_window_ns <= 0) {
    return core::make_error("defaults.rate_window_ns", fmt::format("must be > 0, got {}", d.rate_window_ns));
  }
  if (d.drawdown_action != core::TradingState::reducing && d.drawdown_action != core::TradingState::halted) {
    return core::make_error("defaults.drawdown_action",
                            fmt::format("must be \"reducing\" or \"halted\", got \"{}\"", d.drawdown_action));
  }
  for (const auto& [symbol, s] : p.per_symbol) {
    const std::string path = fmt::format("per_symbol.{}", symbol);
    for (auto e : {positive(path, "max_order_qty", s.max_order_qty),
                   positive(path, "max_order_notional", s.max_order_notional),
                   positive(path, "max_position", s.max_position),
                   positive(path, "price_band_bps", s.price_band_bps)}) {
      if (e) return e;
    }
  }
  for (const auto& [id, s] : p.per_strategy) {
    const std::string path = fmt::format("per_strategy.{}", id);
    for (auto e : {positive(path, "max_order_qty", s.max_order_qty),
                   positive(path, "max_order_notional", s.max_order_notional),
                   positive(path, "max_position", s.max_position)}) {
      if (e) return e;
    }
  }
  return std::nullopt;
}

// ---------------------------------------------------------------- checks

RiskEngine::RiskEngine(Limits limits, portfolio::Valuation valuation)
    : policy_{.defaults = limits, .per_symbol = {}}, pnl_(std::move(valuation)) {}

std::optional<core::Price> RiskEngine::reference_price(const core::OrderSubmit& o) const {
  // Limit and stop-limit orders are priced at their limit; market and stop at the touch.
  if (o.limit_price) return o.limit_price;
  const auto it = refs_.find(o.symbol);
  if (it == refs_.end()) return std::nullopt;
  return it->second.touch(o.side);
}

std::optional<core::Price> RiskEngine::mid(const std::string& symbol) const {
  const auto it = refs_.find(symbol);
  if (it == refs_.end()) return std::nullopt;
  const core::TopOfBook& b = it->second;
  if (b.bid && b.ask) return div(*b.bid + *b.ask, core::Decimal::from_int(2));
  if (b.bid) return b.bid;
  return b.ask;
}

std::optional<core::Price> RiskEngine::market_mark(const std::string& symbol) const {
  if (auto m = mid(symbol)) return m;
  const auto it = last_fill_px_.find(symbol);
  if (it == last_fill_px_.end()) return std::nullopt;
  return it->second;
}

std::optional<core::Price> RiskEngine::working_px(const std::string& symbol) const {
  const auto it = working_.find(symbol);
  if (it == working_.end() || it->second.limit_px.empty()) return std::nullopt;
  return *it->second.limit_px.rbegin();
}

Decision RiskEngine::deny(const std::string& id, std::string reason) const {
  const auto it = orders_.find(id);
  const std::int64_t n = (it == orders_.end() ? 0 : it->second.denials) + 1;
  return Decision{.approved = false, .reason = std::move(reason), .duplicate = false,
                  .exec_id = denial_exec_id(id, n)};
}

std::optional<std::string> RiskEngine::band_check(const std::string& symbol, core::Price limit_price,
                                                  const Limits& lim) const {
  if (!lim.price_band_bps) return std::nullopt;
  const auto m = mid(symbol);
  if (!m || !m->is_positive()) return fmt::format("price_band: no reference mid for {}", symbol);
  const core::Decimal bps = div(mul(abs(limit_price - *m), core::Decimal::from_int(10'000)), *m);
  if (bps > *lim.price_band_bps) {
    return fmt::format("price_band: limit_price {} is {} bps from mid {}, band {} bps", limit_price, ceil_2dp(bps),
                       *m, *lim.price_band_bps);
  }
  return std::nullopt;
}

core::Result<core::Money> RiskEngine::base_notional(std::string_view check, const std::string& symbol,
                                                    core::Quantity q, core::Price px) const {
  const portfolio::Valuation& v = pnl_.valuation();
  const std::string ccy = v.currency_of(symbol);
  if (auto n = pnl_.fx().to_base(portfolio::notional(q, px, v.multiplier_of(symbol)), ccy)) return *n;
  return core::make_error(std::string(check),
                          fmt::format("no {} rate to value {} in {} (configure fx_rates or trade the pair)", ccy,
                                      symbol, v.base_currency));
}

std::optional<std::string> RiskEngine::notional_check(const std::string& symbol, core::Quantity q, core::Price px,
                                                      const Limits& lim) const {
  const auto n = base_notional("max_order_notional", symbol, q, px);
  if (!n) return n.error().to_string();
  if (*n > lim.max_order_notional) {
    const portfolio::Valuation& v = pnl_.valuation();
    const std::string ccy = v.currency_of(symbol);
    if (ccy == v.base_currency)
      return fmt::format("max_order_notional: notional {} exceeds limit {}", *n, lim.max_order_notional);
    return fmt::format("max_order_notional: notional {} {} = {} {} exceeds limit {}",
                       portfolio::notional(q, px, v.multiplier_of(symbol)), ccy, *n, v.base_currency,
                       lim.max_order_notional);
  }
  return std::nullopt;
}

std::optional<std::string> RiskEngine::exposure_check(const std::string& symbol, core::Side side, core::Quantity qty,
                                                      core::Price order_px, const Limits& lim) const {
  const bool buy = side == core::Side::buy;
  const SymbolExposure own = exposure(symbol);
  // 7. position: the worst case of the order's side, before and after the order
  const core::Quantity working = buy ? own.working_buy : own.working_sell;
  const core::Quantity before = buy ? own.worst_long() : own.worst_short();
  const core::Quantity after = after_fill(before, side, qty);
  if (lim.max_position && abs(after) > *lim.max_position && abs(after) > abs(before)) {
    return fmt::format("max_position: position {}after fill {} exceeds limit {}",
                       working.is_zero() ? "" : "with working orders ", after, *lim.max_position);
  }
  // 8. gross exposure: per symbol the larger worst case at the mark
  if (const auto& max_gross = policy_.defaults.max_gross_exposure) {
    const auto worst = [](const SymbolExposure& x) { return max(abs(x.worst_long()), abs(x.worst_short())); };
    bool with_working = !own.working_buy.is_zero() || !own.working_sell.is_zero();
    core::Money others;
    std::optional<std::string> unvalued;  // a symbol whose currency has no rate
    const auto add = [&](const std::string& sym) {
      const SymbolExposure x = exposure(sym);
      with_working = with_working || !x.working_buy.is_zero() || !x.working_sell.is_zero();
      const core::Quantity q = worst(x);
      if (q.is_zero()) return;
      auto m = market_mark(sym);
      if (!m) m = working_px(sym);
      if (!m) return;
      auto n = base_notional("max_gross_exposure", sym, q, *m);
      if (n) {
        others += *n;
      } else if (!unvalued) {
        unvalued = n.error().to_string();
      }
    };
    for (const auto& entry : positions_) {
      if (entry.first != symbol) add(entry.first);
    }
    for (const auto& entry : working_) {
      if (entry.first != symbol && !positions_.contains(entry.first)) add(entry.first);
    }
    core::Price own_px = order_px;
    if (const auto m = market_mark(symbol)) {
      own_px = *m;
    } else if (const auto w = working_px(symbol)) {
      own_px = max(order_px, *w);
    }
    SymbolExposure next = own;
    (buy ? next.working_buy : next.working_sell) += qty;
    if (unvalued) return unvalued;
    const auto own_before = base_notional("max_gross_exposure", symbol, worst(own), own_px);
    const auto own_after = base_notional("max_gross_exposure", symbol, worst(next), own_px);
    if (!own_after) return own_after.error().to_string();
    const core::Money gross_before = others + (own_before ? *own_before : core::Money{});
    const core::Money gross = others + *own_after;
    if (gross > *max_gross && gross > gross_before) {
      return fmt::format("max_gross_exposure: gross exposure {}after fill {} exceeds limit {}",
                         with_working ? "with working orders " : "", gross, *max_gross);
    }
  }
  return std::nullopt;
}

std::optional<std::string> RiskEngine::strategy_check(const std::string& strategy_id, const std::string& symbol,
                                                      core::Side side, core::Quantity order_qty, core::Quantity added,
                                                      core::Price px) const {
  const auto it = policy_.per_strategy.find(strategy_id);
  if (it == policy_.per_strategy.end()) return std::nullopt;
  const core::StrategyLimits& s = it->second;
  if (s.max_order_qty && order_qty > *s.max_order_qty) {
    return fmt::format("max_order_qty: quantity {} exceeds strategy {}'s limit {}", order_qty, strategy_id,
                       *s.max_order_qty);
  }
  if (s.max_order_notional && order_qty.is_positive()) {
    const auto n = base_notional("max_order_notional", symbol, order_qty, px);
    if (!n) return n.error().to_string();
    if (*n > *s.max_order_notional) {
      return fmt::format("max_order_notional: notional {} exceeds strategy {}'s limit {}", *n, strategy_id,
                         *s.max_order_notional);
    }
  }
  if (s.max_position && added.is_positive()) {
    const SymbolExposure own = strategy_exposure(strategy_id, symbol);
    const bool buy = side == core::Side::buy;
    const core::Quantity working = buy ? own.working_buy : own.working_sell;
    const core::Quantity before = buy ? own.worst_long() : own.worst_short();
    const core::Quantity after = after_fill(before, side, added);
    if (abs(after) > *s.max_position && abs(after) > abs(before)) {
      return fmt::format("max_position: strategy {}'s position {}after fill {} exceeds its limit {}", strategy_id,
                         working.is_zero() ? "" : "with working orders ", after, *s.max_position);
    }
  }
  return std::nullopt;
}

SymbolExposure RiskEngine::strategy_exposure(const std::string& strategy_id, const std::string& symbol) const {
  const auto it = strategy_exposure_.find({strategy_id, symbol});
  return it == strategy_exposure_.end() ? SymbolExposure{} : it->second;
}

std::optional<std::string> RiskEngine::rate_check(const std::string& strategy_id, core::TimestampNs ts) const {
  const Limits& acct = policy_.defaults;
  if (acct.max_orders_per_window <= 0) return std::nullopt;
  std::int64_t n = 1;
  const auto it = rate_.find(strategy_id);
  if (it != rate_.end()) {
    const auto& seen = it->second;
    n += std::distance(seen.upper_bound(ts - acct.rate_window_ns), seen.upper_bound(ts));
  }
  if (n > acct.max_orders_per_window) {
    return fmt::format("max_orders_per_window: {} orders in {} for strategy {}, limit {}", n,
                       format_window(acct.rate_window_ns), strategy_id.empty() ? std::string("manual") : strategy_id,
                       acct.max_orders_per_window);
  }
  return std::nullopt;
}

Decision RiskEngine::evaluate(const core::OrderSubmit& o) const {
  // 0. client_order_id already used
  if (const auto it = orders_.find(o.client_order_id); it != orders_.end()) {
    const Entry& e = it->second;
    if (e.kind == Entry::Kind::submit && e.submit && same_order(*e.submit, o)) {
      return Decision{.approved = false,
                      .reason = fmt::format("resend of {} ignored: already {}", o.client_order_id,
                                            e.approved ? "approved" : "denied"),
                      .duplicate = true};
    }
    return deny(o.client_order_id,
                fmt::format("duplicate client_order_id: {} is already used by another order", o.client_order_id));
  }
  const Limits lim = policy_.for_symbol(o.symbol);
  // 1. state
  if (state_ == core::TradingState::halted) return deny(o.client_order_id, fmt::format("trading halted: {}", state_reason_));
  // 2. quantity
  if (o.quantity > lim.max_order_qty) {
    return deny(o.client_order_id,
                fmt::format("max_order_qty: quantity {} exceeds limit {}", o.quantity, lim.max_order_qty));
  }
  // 3. reference price
  const auto px = reference_price(o);
  if (!px) return deny(o.client_order_id, fmt::format("no reference price for {}", o.symbol));
  // 4. notional, in the base currency
  if (auto why = notional_check(o.symbol, o.quantity, *px, lim)) return deny(o.client_order_id, std::move(*why));
  // 5. price band (fat finger): limit and stop_limit
  if (o.limit_price) {
    if (auto why = band_check(o.symbol, *o.limit_price, lim)) return deny(o.client_order_id, std::move(*why));
  }
  // 6. reducing
  const core::Quantity pos = position(o.symbol);
  if (state_ == core::TradingState::reducing) {
    const bool opposite = (pos.is_positive() && o.side == core::Side::sell) ||
                          (pos.is_negative() && o.side == core::Side::buy);
    if (!opposite) return deny(o.client_order_id, "reducing: order would increase position");
    if (o.quantity > abs(pos)) return deny(o.client_order_id, "reducing: order would flip position");
  }
  // 7. position, 8. gross exposure
  if (auto why = exposure_check(o.symbol, o.side, o.quantity, *px, lim)) {
    return deny(o.client_order_id, std::move(*why));
  }
  // 9. open orders
  const Limits& acct = policy_.defaults;
  if (acct.max_open_orders > 0 && open_count_ + 1 > acct.max_open_orders) {
    return deny(o.client_order_id, fmt::format("max_open_orders: open orders after approval {} exceeds limit {}",
                                               open_count_ + 1, acct.max_open_orders));
  }
  // 10. order rate per strategy
  if (auto why = rate_check(o.strategy_id, o.ts_event)) return deny(o.client_order_id, std::move(*why));
  // 11. the strategy's own limits
  if (auto why = strategy_check(o.strategy_id, o.symbol, o.side, o.quantity, o.quantity, *px)) {
    return deny(o.client_order_id, std::move(*why));
  }
  return Decision{.approved = true, .reason = ""};
}

Decision RiskEngine::evaluate_replace(const core::OrderReplace& r) const {
  const auto nit = orders_.find(r.client_order_id);
  // 0. identical resend
  if (nit != orders_.end()) {
    const Entry& n = nit->second;
    const bool same = n.kind == Entry::Kind::replace && n.replace &&
                      (n.replace_known ? same_replace(*n.replace, r)
                                       : n.replace->orig_client_order_id == r.orig_client_order_id);
    if (same) {
      return Decision{.approved = false,
                      .reason = fmt::format("resend of {} ignored: already {}", r.client_order_id,
                                            n.approved ? "approved" : "denied"),
                      .duplicate = true};
    }
  }
  // 1. unknown original: the venue answers
  const auto oit = orders_.find(r.orig_client_order_id);
  if (oit == orders_.end() || !oit->second.terms) return Decision{.approved = true, .reason = ""};
  // 2. new id already used
  if (nit != orders_.end()) {
    return deny(r.client_order_id, fmt::format("duplicate client_order_id: {} is already used by another order",
                                               r.client_order_id));
  }
  // 3. state
  if (state_ == core::TradingState::halted) {
    return deny(r.client_order_id, fmt::format("trading halted: {}", state_reason_));
  }
  // 4. finished original: the venue answers
  const Entry& o = oit->second;
  if (o.done || core::is_terminal(o.status)) return Decision{.approved = true, .reason = ""};
  const core::OrderSubmit& t = *o.terms;
  const Limits lim = policy_.for_symbol(t.symbol);
  const core::Quantity qty = r.quantity.value_or(t.quantity);
  // 5. quantity
  if (r.quantity && qty > lim.max_order_qty) {
    return deny(r.client_order_id, fmt::format("max_order_qty: quantity {} exceeds limit {}", qty, lim.max_order_qty));
  }
  // 6. notional at the new (or kept) limit price, else the reference price
  core::OrderSubmit next = t;
  next.quantity = qty;
  if (r.limit_price) next.limit_price = r.limit_price;
  const auto px = reference_price(next);
  if (r.quantity || r.limit_price) {
    if (!px) return deny(r.client_order_id, fmt::format("no reference price for {}", t.symbol));
    if (auto why = notional_check(t.symbol, qty, *px, lim)) return deny(r.client_order_id, std::move(*why));
  }
  // 7. price band on a new limit price
  if (r.limit_price) {
    if (auto why = band_check(t.symbol, *r.limit_price, lim)) return deny(r.client_order_id, std::move(*why));
  }
  const core::Quantity increase = qty - t.quantity;
  if (increase.is_positive()) {
    // 8. reducing
    if (state_ == core::TradingState::reducing) {
      return deny(r.client_order_id, "reducing: replace would increase quantity");
    }
    // 9. position and gross exposure of the added quantity only
    const core::Price order_px = px.value_or(next.limit_price.value_or(core::Price{}));
    if (auto why = exposure_check(t.symbol, t.side, increase, order_px, lim)) {
      return deny(r.client_order_id, std::move(*why));
    }
  }
  // 10. rate
  if (auto why = rate_check(t.strategy_id, r.ts_event)) return deny(r.client_order_id, std::move(*why));
  // 11. the strategy's own limits: a new quantity, its notional, the added quantity's position
  if (r.quantity || r.limit_price || increase.is_positive()) {
    const core::Price order_px = px.value_or(next.limit_price.value_or(core::Price{}));
    if (auto why = strategy_check(t.strategy_id, t.symbol, t.side, r.quantity || r.limit_price ? qty : core::Quantity{},
                                  max(increase, core::Quantity{}), order_px)) {
      return deny(r.client_order_id, std::move(*why));
    }
  }
  return Decision{.approved = true, .reason = ""};
}

Decision RiskEngine::check(const core::OrderSubmit& o) const { return evaluate(o); }
Decision RiskEngine::check_replace(const core::OrderReplace& r) const { return evaluate_replace(r); }

void RiskEngine::record_denial(const std::string& id, Entry fresh) {
  // A reused id keeps its owner; only its denial count moves (deny() numbered the
  // Decision's exec_id with the count + 1).
  auto it = orders_.try_emplace(id, std::move(fresh)).first;
  ++it->second.denials;
}

Decision RiskEngine::decide(const core::OrderSubmit& o) {
  Decision d = evaluate(o);
  if (d.duplicate) return d;
  if (d.approved) {
    on_approved(o);
    return d;
  }
  Entry e;
  e.kind = Entry::Kind::submit;
  e.submit = o;
  e.terms = o;
  e.status = core::OrderStatus::denied;
  e.done = true;
  record_denial(o.client_order_id, std::move(e));
  return d;
}

Decision RiskEngine::decide_replace(const core::OrderReplace& r) {
  Decision d = evaluate_replace(r);
  if (d.duplicate) return d;
  if (d.approved) {
    on_approved_replace(r);
    return d;
  }
  Entry e;
  e.kind = Entry::Kind::replace;
  e.replace = r;
  // Its report carries the original order's terms, not the replace's: a rebuild knows
  // only the ids. Judge resends by the ids here too, so a restart changes no answer.
  e.replace_known = false;
  e.done = true;
  record_denial(r.client_order_id, std::move(e));
  return d;
}

void RiskEngine::add_rate(const std::string& strategy_id, core::TimestampNs ts) {
  auto& seen = rate_[strategy_id];
  seen.insert(ts);
  // Entries at or before (newest - window) can no longer fall in any window that
  // ends at or after the newest order.
  const core::TimestampNs horizon = *seen.rbegin() - policy_.defaults.rate_window_ns;
  seen.erase(seen.begin(), seen.upper_bound(horizon));
}

void RiskEngine::on_approved(const core::OrderSubmit& o) {
  auto [it, inserted] = orders_.try_emplace(o.client_order_id);
  if (!inserted) return;  // idempotent: the first decision about an id stands
  Entry& e = it->second;
  e.kind = Entry::Kind::submit;
  e.approved = true;
  e.submit = o;
  e.terms = o;
  e.open = true;
  ++open_count_;
  sync_working(e);
  add_rate(o.strategy_id, o.ts_event);
}

void RiskEngine::on_approved_replace(const core::OrderReplace& r) {
  auto [it, inserted] = orders_.try_emplace(r.client_order_id);
  if (!inserted) return;
  Entry& e = it->second;
  e.kind = Entry::Kind::replace;
  e.approved = true;
  e.replace = r;
  const auto oit = orders_.find(r.orig_client_order_id);
  if (oit != orders_.end() && oit->second.terms && !oit->second.done && !core::is_terminal(oit->second.status)) {
    add_rate(oit->second.terms->strategy_id, r.ts_event);
  }
}

// ---------------------------------------------------------------- events

void RiskEngine::roll_day(core::TimestampNs ts) {
  const std::int64_t d = floor_day(ts);
  if (!day_ || d > *day_) {
    day_ = d;
    day_start_equity_ = equity_;
  }
}

void RiskEngine::revalue(bool changed, core::TimestampNs ts) {
  if (changed) {
    const auto snap = pnl_.snapshot(false);
    equity_ = snap.total_pnl;
    peak_ = snap.peak_pnl;
  }
  if (replaying_) return;  // the recorded risk.state events say what happened
  const Limits& l = policy_.defaults;
  if (l.daily_loss_limit && daily_armed_ && state_ != core::TradingState::halted) {
    const core::Money loss = day_start_equity_ - equity_;
    if (loss >= *l.daily_loss_limit) {
      daily_armed_ = false;
      transition(core::TradingState::halted,
                 fmt::format("daily_loss_limit: loss {} since {} reaches limit {}", loss,
                             core::format_iso8601(*day_ * core::kNsPerDay), *l.daily_loss_limit),
                 ts);
    }
  }
  // The action `reducing` tightens an active desk only; `halted` an active or reducing one.
  const bool tightens = l.drawdown_action == core::TradingState::halted ? state_ != core::TradingState::halted
                                                                        : state_ == core::TradingState::active;
  if (l.max_drawdown && drawdown_armed_ && tightens) {
    const core::Money dd = portfolio::drawdown(peak_, equity_);
    if (dd >= *l.max_drawdown) {
      drawdown_armed_ = false;
      transition(l.drawdown_action,
                 fmt::format("max_drawdown: drawdown {} from peak equity {} reaches limit {}", dd, peak_,
                             *l.max_drawdown),
                 ts);
    }
  }
}

void RiskEngine::transition(core::TradingState s, std::string reason, core::TimestampNs ts) {
  pending_.push_back(core::RiskStateChanged{
      .trading_state = s, .previous_state = state_, .reason = reason, .source = "auto", .ts_event = ts});
  state_ = s;
  state_reason_ = std::move(reason);
}

void RiskEngine::on_quote(const core::Quote& q) {
  roll_day(q.ts_event);
  refs_[q.symbol].on_quote(q);
  pnl_.on_quote(q);
  revalue(!position(q.symbol).is_zero(), q.ts_event);
}

void RiskEngine::on_trade(const core::Trade& t) {
  roll_day(t.ts_event);
  refs_[t.symbol].on_trade(t);
  pnl_.on_trade(t);
  revalue(!position(t.symbol).is_zero(), t.ts_event);
}

void RiskEngine::on_bar(const core::Bar& b) {
  roll_day(b.ts_event);
  refs_[b.symbol].on_bar(b);
  pnl_.on_bar(b);
  revalue(!position(b.symbol).is_zero(), b.ts_event);
}

void RiskEngine::on_action(const core::CorporateAction& a) {
  roll_day(a.ts_event);
  if (a.action == core::ActionKind::split && a.ratio && a.ratio->is_positive()) {
    const core::Decimal ratio = *a.ratio;
    if (const auto it = positions_.find(a.symbol); it != positions_.end()) it->second = mul(it->second, ratio);
    if (const auto it = refs_.find(a.symbol); it != refs_.end()) {
      if (it->second.bid) it->second.bid = div(*it->second.bid, ratio);
      if (it->second.ask) it->second.ask = div(*it->second.ask, ratio);
    }
    if (const auto it = last_fill_px_.find(a.symbol); it != last_fill_px_.end()) it->second = div(it->second, ratio);
  }
  pnl_.on_action(a);
  revalue(true, a.ts_event);
}

void RiskEngine::close(Entry& e) {
  if (e.open) {
    e.open = false;
    --open_count_;
  }
  e.done = true;
}

void RiskEngine::sync_working(Entry& e) {
  // What the order should count: its leaves while open (and their limit price), else nothing.
  core::Quantity leaves;
  std::optional<core::Price> px;
  if (e.open && e.terms) {
    leaves = max(core::Quantity{}, e.terms->quantity - e.cum_qty);
    if (leaves.is_positive()) px = e.terms->limit_price;
  }
  if (leaves == e.working && px == e.working_px) return;
  // Something is or was counted, so the terms are known; they never change once set.
  Working& w = working_[e.terms->symbol];
  core::Quantity& total = e.terms->side == core::Side::buy ? w.buy : w.sell;
  total = total - e.working + leaves;
  SymbolExposure& own = strategy_exposure_[{e.terms->strategy_id, e.terms->symbol}];
  core::Quantity& own_total = e.terms->side == core::Side::buy ? own.working_buy : own.working_sell;
  own_total = own_total - e.working + leaves;
  if (e.working_px) w.limit_px.erase(w.limit_px.find(*e.working_px));
  if (px) w.limit_px.insert(*px);
  e.working = leaves;
  e.working_px = px;
}

void RiskEngine::on_replaced(const core::ExecutionReport& r, Entry& n) {
  if (n.terms) return;  // already moved (a repeated report)
  const auto oit = orders_.find(*r.orig_client_order_id);
  Entry* o = oit == orders_.end() ? nullptr : &oit->second;
  core::OrderSubmit t = o && o->terms ? *o->terms : terms_of(r);
  t.client_order_id = r.client_order_id;
  t.quantity = r.quantity;
  t.limit_price = r.limit_price;
  t.stop_price = r.stop_price;
  n.terms = std::move(t);
  bool slot = false;  // the original's open-order slot moves to the new id
  if (o) {
    n.cum_qty = max(n.cum_qty, o->cum_qty);
    n.avg_px = o->avg_px;
    slot = o->open;
    o->open = false;
    o->done = true;
    o->replaced_by = r.client_order_id;
    sync_working(*o);  // its leaves move to the new id (on_execution syncs that one)
  }
  if (slot || n.approved) {
    n.open = true;
    if (!slot) ++open_count_;
  }
}

void RiskEngine::on_execution(const core::ExecutionReport& r) {
  // Risk's own reports: the id is decided (denied); no order changes.
  const std::int64_t own = r.exec_type == core::ExecType::denied ? std::max<std::int64_t>(1, denial_ordinal(r))
                           : r.exec_type == core::ExecType::cancel_rejected ? denial_ordinal(r)
                                                                             : 0;
  if (own > 0) {
    auto [it, inserted] = orders_.try_emplace(r.client_order_id);
    Entry& e = it->second;
    if (inserted) {
      e.done = true;
      if (r.exec_type == core::ExecType::denied) {
        e.kind = Entry::Kind::submit;
        e.submit = terms_of(r);
        e.terms = e.submit;
        e.status = core::OrderStatus::denied;
      } else {
        e.kind = Entry::Kind::replace;
        e.replace = core::OrderReplace{.client_order_id = r.client_order_id,
                                       .orig_client_order_id = r.orig_client_order_id.value_or("")};
        e.replace_known = false;  // the report carries the original's terms, not the replace's
      }
    }
    e.denials = std::max(e.denials, own);
    return;
  }
  if (r.exec_type == core::ExecType::cancel_rejected) return;  // nothing changed at the venue

  auto [it, inserted] = orders_.try_emplace(r.client_order_id);
  Entry& e = it->second;
  const bool replaced = r.exec_type == core::ExecType::replaced && r.orig_client_order_id;
  if (replaced) {
    on_replaced(r, e);
  } else if (inserted) {
    e.terms = terms_of(r);  // seen on reports only: never approved here, never open
  }

  const bool fresh_fill = r.last_qty.is_positive() && r.cum_qty > e.cum_qty;
  if (!e.done && r.cum_qty >= e.cum_qty) {
    e.cum_qty = r.cum_qty;
    e.avg_px = r.avg_px;
    e.status = r.order_status;
    if (core::is_terminal(r.order_status)) close(e);
  } else if (fresh_fill) {
    e.cum_qty = r.cum_qty;  // a fill reported after the order was closed still counts once
  }
  sync_working(e);  // a fill moves its quantity from working to the position below
  if (!fresh_fill) return;
  roll_day(r.ts_event);
  auto& pos = positions_[r.symbol];
  // The strategy's share: the order's (its terms name it), else the report's.
  auto& share = strategy_exposure_[{e.terms ? e.terms->strategy_id : r.strategy_id, r.symbol}].position;
  if (r.side == core::Side::buy) {
    pos += r.last_qty;
    share += r.last_qty;
  } else {
    pos -= r.last_qty;
    share -= r.last_qty;
  }
  last_fill_px_[r.symbol] = r.last_px;
  pnl_.on_fill(r);
  revalue(true, r.ts_event);
}

std::vector<core::RiskStateChanged> RiskEngine::take_transitions() {
  std::vector<core::RiskStateChanged> out;
  out.swap(pending_);
  return out;
}

std::optional<core::RiskStateChanged> RiskEngine::set_state(core::TradingState s, std::string reason,
                                                            std::string source, core::TimestampNs ts) {
  if (s == core::TradingState::active) {
    daily_armed_ = true;
    drawdown_armed_ = true;
  }
  if (s == state_) return std::nullopt;
  core::RiskStateChanged ev{.trading_state = s,
                            .previous_state = state_,
                            .reason = reason,
                            .source = std::move(source),
                            .ts_event = ts};
  state_ = s;
  state_reason_ = std::move(reason);
  return ev;
}

void RiskEngine::restore(const core::RiskStateChanged& ev) {
  state_ = ev.trading_state;
  state_reason_ = ev.reason;
  if (ev.trading_state == core::TradingState::active) {
    daily_armed_ = true;
    drawdown_armed_ = true;
  } else if (ev.source == "auto") {
    if (ev.reason.starts_with("daily_loss_limit")) daily_armed_ = false;
    if (ev.reason.starts_with("max_drawdown")) drawdown_armed_ = false;
  }
}

void RiskEngine::set_replaying(bool replaying, std::optional<core::TimestampNs> evaluate_at) {
  replaying_ = replaying;
  if (!replaying_ && evaluate_at) evaluate(*evaluate_at);
}

bool RiskEngine::replaying() const { return replaying_; }

void RiskEngine::evaluate(core::TimestampNs ts) {
  if (replaying_) return;
  roll_day(ts);
  revalue(false, ts);
}

void RiskEngine::set_policy(RiskPolicy p) { policy_ = std::move(p); }
const RiskPolicy& RiskEngine::policy() const { return policy_; }

core::TradingState RiskEngine::state() const { return state_; }
const std::string& RiskEngine::state_reason() const { return state_reason_; }
const Limits& RiskEngine::limits() const { return policy_.defaults; }
std::int64_t RiskEngine::open_orders() const { return open_count_; }
core::Money RiskEngine::equity() const { return equity_; }
core::Money RiskEngine::peak_equity() const { return peak_; }
core::Money RiskEngine::day_start_equity() const { return day_start_equity_; }
const std::map<std::string, core::Quantity>& RiskEngine::positions() const { return positions_; }

std::vector<std::string> RiskEngine::open_order_ids() const {
  std::vector<std::string> out;
  for (const auto& [id, e] : orders_) {
    if (e.open) out.push_back(id);
  }
  return out;
}

std::optional<OrderState> RiskEngine::order(const std::string& client_order_id) const {
  const auto it = orders_.find(client_order_id);
  if (it == orders_.end() || !it->second.terms) return std::nullopt;
  const Entry& e = it->second;
  return OrderState{.order = *e.terms,
                    .cum_qty = e.cum_qty,
                    .avg_px = e.avg_px,
                    .status = e.status,
                    .approved = e.approved,
                    .open = e.open,
                    .working_qty = e.working,
                    .replaced_by = e.replaced_by};
}

core::Quantity RiskEngine::position(const std::string& symbol) const {
  const auto it = positions_.find(symbol);
  return it == positions_.end() ? core::Quantity{} : it->second;
}

core::Quantity RiskEngine::working_qty(const std::string& symbol, core::Side side) const {
  const auto it = working_.find(symbol);
  if (it == working_.end()) return core::Quantity{};
  return side == core::Side::buy ? it->second.buy : it->second.sell;
}

SymbolExposure RiskEngine::exposure(const std::string& symbol) const {
  return SymbolExposure{.position = position(symbol),
                        .working_buy = working_qty(symbol, core::Side::buy),
                        .working_sell = working_qty(symbol, core::Side::sell)};
}

std::map<std::string, SymbolExposure> RiskEngine::exposures() const {
  std::map<std::string, SymbolExposure> out;
  for (const auto& entry : positions_) out.emplace(entry.first, exposure(entry.first));
  for (const auto& entry : working_) out.emplace(entry.first, exposure(entry.first));
  return out;
}

core::ExecutionReport denied_report(const core::OrderSubmit& o, std::string reason,
                                    core::TimestampNs ts) {
  core::ExecutionReport r;
  r.client_order_id = o.client_order_id;
  r.exec_id = fmt::format("{}-denied", o.client_order_id);
  r.exec_type = core::ExecType::denied;
  r.order_status = core::OrderStatus::denied;
  r.symbol = o.symbol;
  r.side = o.side;
  r.order_type = o.order_type;
  r.time_in_force = o.time_in_force;
  r.quantity = o.quantity;
  r.limit_price = o.limit_price;
  r.text = std::move(reason);
  r.strategy_id = o.strategy_id;
  r.ts_event = ts;
  r.stop_price = o.stop_price;
  r.expire_time = o.expire_time;
  return r;
}

core::ExecutionReport denied_report(const core::OrderSubmit& o, const Decision& d, core::TimestampNs ts) {
  core::ExecutionReport r = denied_report(o, d.reason, ts);
  if (!d.exec_id.empty()) r.exec_id = d.exec_id;
  return r;
}

core::ExecutionReport denied_replace_report(const core::OrderReplace& rq, std::string reason, core::TimestampNs ts,
                                            const OrderState& orig, std::string exec_id) {
  const core::OrderSubmit& o = orig.order;
  core::ExecutionReport r;
  r.client_order_id = rq.client_order_id;
  r.exec_id = exec_id.empty() ? fmt::format("{}-denied", rq.client_order_id) : std::move(exec_id);
  r.exec_type = core::ExecType::cancel_rejected;
  r.order_status = orig.status;
  r.symbol = o.symbol;
  r.side = o.side;
  r.order_type = o.order_type;
  r.time_in_force = o.time_in_force;
  r.quantity = o.quantity;
  r.limit_price = o.limit_price;
  r.cum_qty = orig.cum_qty;
  r.leaves_qty = core::is_terminal(orig.status) || orig.replaced_by ? core::Quantity{} : o.quantity - orig.cum_qty;
  r.avg_px = orig.avg_px;
  r.text = std::move(reason);
  r.strategy_id = o.strategy_id;
  r.ts_event = ts;
  r.stop_price = o.stop_price;
  r.expire_time = o.expire_time;
  r.orig_client_order_id = rq.orig_client_order_id;
  return r;
}

}  // namespace risk
