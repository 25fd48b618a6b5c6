#include "portfolio/portfolio.hpp"

namespace portfolio {

namespace {
const core::Decimal kOne = core::Decimal::from_int(1);
}  // namespace

core::Money notional(core::Quantity q, core::Price p, core::Decimal multiplier) {
  const core::Money n = mul(abs(q), p);
  return multiplier == kOne ? n : mul(n, multiplier);
}

core::Money mark_to_market(core::Quantity qty, core::Money open_cost, core::Price mark_px, core::Decimal multiplier) {
  const core::Money value = mul(mark_px, qty);
  return (multiplier == kOne ? value : mul(value, multiplier)) - open_cost;
}

Portfolio::Portfolio(Valuation v) : valuation_(std::move(v)), fx_(valuation_) {}

Portfolio::Position& Portfolio::position_of(const std::string& symbol) {
  auto [it, inserted] = positions_.try_emplace(symbol);
  if (inserted) {
    Position& p = it->second;
    p.currency = valuation_.currency_of(symbol);
    p.multiplier = valuation_.multiplier_of(symbol);
    p.one = p.multiplier == kOne;
  }
  return it->second;
}

core::Money Portfolio::cost(const Position& p, core::Price px, core::Quantity q) const {
  const core::Money c = mul(px, q);
  return p.one ? c : mul(c, p.multiplier);
}

Portfolio::BaseTotals Portfolio::base_totals() const {
  BaseTotals b;
  for (const auto& [ccy, t] : totals_) {
    if (ccy == valuation_.base_currency) {
      b.realized += t.realized;
      b.unrealized += t.unrealized;
      b.commission += t.commission;
      b.dividends += t.dividends;
      continue;
    }
    const auto r = fx_.rate(ccy);
    if (!r) continue;  // no rate yet: left out (named in the report's currencies)
    b.realized += mul(t.realized, *r);
    b.unrealized += mul(t.unrealized, *r);
    b.commission += mul(t.commission, *r);
    b.dividends += mul(t.dividends, *r);
  }
  return b;
}

core::Money Portfolio::total_pnl() const {
  const BaseTotals b = base_totals();
  return b.realized + b.unrealized;
}

core::Money Portfolio::dividends() const { return base_totals().dividends; }

core::Money drawdown(core::Money peak, core::Money current) { return peak - current; }

void Portfolio::seen(core::TimestampNs ts) {
  if (ts > ts_event_) ts_event_ = ts;
}

void Portfolio::revalue(Position& p) {
  const core::Money u = p.mark_px ? mark_to_market(p.quantity, p.open_cost, *p.mark_px, p.multiplier) : core::Money{};
  if (u != p.unrealized_pnl) totals_[p.currency].unrealized += u - p.unrealized_pnl;
  p.unrealized_pnl = u;
}

void Portfolio::update_drawdown() {
  const core::Money total = total_pnl();
  peak_pnl_ = max(peak_pnl_, total);
  max_drawdown_ = max(max_drawdown_, drawdown(peak_pnl_, total));
}

void Portfolio::on_execution(const core::ExecutionReport& r) {
  seen(r.ts_event);
  // A cancel_rejected may name an id that never was an order ("unknown client_order_id").
  if (r.exec_type != core::ExecType::cancel_rejected && !r.client_order_id.empty()) {
    order_ids_.insert(r.client_order_id);
  }
  switch (r.exec_type) {
    case core::ExecType::denied:
      ++orders_denied_;
      break;
    case core::ExecType::rejected:
      ++orders_rejected_;
      break;
    case core::ExecType::fill:
    case core::ExecType::partial_fill:
      on_fill(r);
      break;
    default:
      break;
  }
}

void Portfolio::on_fill(const core::ExecutionReport& r) {
  if (r.last_qty.is_zero()) return;
  seen(r.ts_event);
  Position& p = position_of(r.symbol);
  Totals& t = totals_[p.currency];
  p.traded = true;
  ++fills_;
  const core::Money fill_notional = notional(r.last_qty, r.last_px, p.multiplier);
  t.gross_notional += fill_notional;
  if (const auto b = fx_.to_base(fill_notional, p.currency)) gross_notional_ += *b;

  const core::Quantity q = abs(r.last_qty);
  const core::Quantity signed_q = r.side == core::Side::buy ? q : -q;
  if (r.side == core::Side::buy) {
    p.bought_qty += q;
  } else {
    p.sold_qty += q;
  }

  const bool opens = p.quantity.is_zero() || (p.quantity.is_positive() == signed_q.is_positive());
  core::Quantity opening = q;  // what opens a new lot: all of an adding fill, the rest of a flip
  if (!opens) {
    // Reducing: close the oldest lots first, realizing each at its own price.
    const bool long_pos = p.quantity.is_positive();
    core::Quantity rest = q;
    while (rest.is_positive() && !p.lots.empty()) {
      Lot& lot = p.lots.front();
      const core::Quantity closed = min(rest, lot.qty);
      // A whole lot leaves with its exact cost; a part of one at its price (exact unless
      // a split made that price inexact).
      const core::Money lot_cost = closed == lot.qty ? lot.cost : cost(p, lot.px, closed);
      const core::Money proceeds = cost(p, r.last_px, closed);
      const core::Money realized = long_pos ? proceeds - lot_cost : lot_cost - proceeds;
      lot.cost -= lot_cost;
      p.open_cost -= long_pos ? lot_cost : -lot_cost;
      p.realized_pnl += realized;
      t.realized += realized;
      p.quantity += long_pos ? -closed : closed;
      lot.qty -= closed;
      rest -= closed;
      if (lot.qty.is_zero()) p.lots.pop_front();
    }
    opening = rest;
    if (p.lots.empty()) p.open_cost = core::Money{};  // flat: no rounding residue can survive
  }
  if (opening.is_positive()) {
    const core::Money c = cost(p, r.last_px, opening);
    p.lots.push_back(Lot{opening, r.last_px, c});
    p.open_cost += signed_q.is_positive() ? c : -c;
    p.quantity += signed_q.is_positive() ? opening : -opening;
  }
  // Display only: no P&L figure is derived from the rounded average.
  p.avg_px = p.quantity.is_zero() ? core::Price{}
                                  : p.one ? div(abs(p.open_cost), abs(p.quantity))
                                          : div(abs(p.open_cost), mul(abs(p.quantity), p.multiplier));
  if (r.commission) {
    // realized = closed-lot P&L - commissions (a cost of the fill, opening fills included).
    p.commission += *r.commission;
    p.realized_pnl -= *r.commission;
    t.realized -= *r.commission;
    t.commission += *r.commission;
  }
  if (!p.mark_px) p.mark_px = r.last_px;
  revalue(p);
  update_drawdown();
}

void Portfolio::mark(const std::string& symbol, core::Price mark_px, core::TimestampNs ts) {
  seen(ts);
  Position& p = position_of(symbol);
  p.mark_px = mark_px;
  revalue(p);
  // A pair with the base currency moves its currency's rate (its slot looked up once).
  if (p.fx_slot == -2) p.fx_slot = fx_.slot(symbol);
  if (p.fx_slot >= 0) fx_.observe_slot(p.fx_slot, mark_px);
  update_drawdown();
}

void Portfolio::on_action(const core::CorporateAction& a) {
  seen(a.ts_event);
  Position& p = position_of(a.symbol);
  if (a.action == core::ActionKind::split && a.ratio && a.ratio->is_positive()) {
    const core::Decimal ratio = *a.ratio;
    for (Lot& lot : p.lots) {
      lot.qty = mul(lot.qty, ratio);
      if (lot.qty.is_positive()) lot.px = div(lot.cost, p.one ? lot.qty : mul(lot.qty, p.multiplier));
    }
    std::erase_if(p.lots, [](const Lot& l) { return !l.qty.is_positive(); });
    p.quantity = mul(p.quantity, ratio);
    if (p.lots.empty()) {
      p.quantity = core::Quantity{};
      p.open_cost = core::Money{};
    }
    p.avg_px = p.quantity.is_zero() ? core::Price{}
                                    : p.one ? div(abs(p.open_cost), abs(p.quantity))
                                            : div(abs(p.open_cost), mul(abs(p.quantity), p.multiplier));
    if (p.mark_px) p.mark_px = div(*p.mark_px, ratio);
    if (p.bid_close) p.bid_close = div(*p.bid_close, ratio);
    if (p.ask_close) p.ask_close = div(*p.ask_close, ratio);
  } else if (a.action == core::ActionKind::dividend && a.amount && !p.quantity.is_zero()) {
    const core::Money cash = cost(p, *a.amount, p.quantity);  // signed: a short position pays
    p.realized_pnl += cash;
    totals_[p.currency].realized += cash;
    totals_[p.currency].dividends += cash;
  }
  revalue(p);
  update_drawdown();
}

void Portfolio::on_quote(const core::Quote& q) {
  position_of(q.symbol).has_quote = true;
  mark(q.symbol, div(q.bid + q.ask, core::Decimal::from_int(2)), q.ts_event);
}

void Portfolio::on_trade(const core::Trade& t) {
  if (position_of(t.symbol).has_quote) {
    seen(t.ts_event);
    return;
  }
  mark(t.symbol, t.price, t.ts_event);
}

void Portfolio::on_bar(const core::Bar& b) {
  Position& p = position_of(b.symbol);
  switch (b.price_type) {
    case core::PriceType::bid:
    case core::PriceType::ask: {
      (b.price_type == core::PriceType::bid ? p.bid_close : p.ask_close) = b.close;
      p.has_quote = true;
      const core::Price m = p.bid_close && p.ask_close
                                ? div(*p.bid_close + *p.ask_close, core::Decimal::from_int(2))
                                : b.close;
      mark(b.symbol, m, b.ts_event);
      break;
    }
    case core::PriceType::trade:
    case core::PriceType::mid:
      if (p.has_quote) {
        seen(b.ts_event);
      } else {
        mark(b.symbol, b.close, b.ts_event);
      }
      break;
  }
}

core::PerformanceReport Portfolio::snapshot(bool final_report) const {
  core::PerformanceReport rep;
  rep.final_report = final_report;
  for (const auto& [symbol, p] : positions_) {
    if (!p.traded) continue;
    rep.positions.push_back(core::PositionSnapshot{.symbol = symbol,
                                                   .quantity = p.quantity,
                                                   .avg_px = p.avg_px,
                                                   .mark_px = p.mark_px.value_or(core::Price{}),
                                                   .realized_pnl = p.realized_pnl,
                                                   .unrealized_pnl = p.unrealized_pnl,
                                                   .bought_qty = p.bought_qty,
                                                   .sold_qty = p.sold_qty,
                                                   .commission = p.commission,
                                                   .currency = p.currency});
  }
  const BaseTotals b = base_totals();
  rep.realized_pnl = b.realized;
  rep.unrealized_pnl = b.unrealized;
  rep.total_pnl = b.realized + b.unrealized;
  rep.base_currency = valuation_.base_currency;
  if (!rep.base_currency.empty()) {
    for (const auto& [ccy, t] : totals_) {
      core::CurrencyPnl c{.currency = ccy,
                          .realized_pnl = t.realized,
                          .unrealized_pnl = t.unrealized,
                          .total_pnl = t.realized + t.unrealized,
                          .commission = t.commission,
                          .gross_notional_traded = t.gross_notional,
                          .rate = fx_.rate(ccy),
                          .total_pnl_base = fx_.to_base(t.realized + t.unrealized, ccy)};
      rep.currencies.push_back(std::move(c));
    }
  }
  rep.peak_pnl = peak_pnl_;
  rep.max_drawdown = max_drawdown_;
  rep.gross_notional_traded = gross_notional_;
  rep.fills = fills_;
  rep.orders = static_cast<std::int64_t>(order_ids_.size());
  rep.orders_denied = orders_denied_;
  rep.orders_rejected = orders_rejected_;
  rep.ts_event = ts_event_;
  rep.commission = b.commission;
  return rep;
}

core::Quantity Portfolio::position(const std::string& symbol) const {
  const auto it = positions_.find(symbol);
  return it == positions_.end() ? core::Quantity{} : it->second.quantity;
}

core::Money Portfolio::commission() const { return base_totals().commission; }

core::Money Portfolio::commission(const std::string& symbol) const {
  const auto it = positions_.find(symbol);
  return it == positions_.end() ? core::Money{} : it->second.commission;
}

}  // namespace portfolio
