#include "matching/paper_broker.hpp"

#include <fmt/format.h>

#include <array>
#include <cstdlib>
#include <limits>
#include <stdexcept>
#include <utility>

namespace matching {
namespace {

/// floor(ts / 1 day): the UTC calendar day number (negative times round down).
std::int64_t utc_day(core::TimestampNs ts) {
  std::int64_t d = ts / core::kNsPerDay;
  if (ts % core::kNsPerDay < 0) --d;
  return d;
}

bool has_limit(core::OrderType t) { return t == core::OrderType::limit || t == core::OrderType::stop_limit; }
bool has_stop(core::OrderType t) { return t == core::OrderType::stop || t == core::OrderType::stop_limit; }
bool immediate(core::TimeInForce t) { return t == core::TimeInForce::ioc || t == core::TimeInForce::fok; }

/// n / d (d > 0) rounded half-to-even to an integer, as a Price of that many raw units.
core::Price div_half_even(__int128 n, __int128 d) {
  __int128 q = n / d;
  __int128 r = n % d;
  if (r < 0) {  // floor division
    r += d;
    --q;
  }
  if (r > d - r || (r == d - r && (q & 1) != 0)) ++q;
  return core::Price::from_raw(q);
}

std::optional<core::Quantity>& left_at(std::optional<core::Quantity>& bid_left,
                                       std::optional<core::Quantity>& ask_left, core::Side side) {
  return side == core::Side::buy ? ask_left : bid_left;
}

}  // namespace

std::optional<std::string> validate(const BrokerConfig& cfg) {
  if (cfg.commission_per_unit.is_negative()) return std::string("commission_per_unit must not be negative");
  if (cfg.commission_bps.is_negative()) return std::string("commission_bps must not be negative");
  if (cfg.commission_min_per_order.is_negative()) return std::string("commission_min_per_order must not be negative");
  if (cfg.latency_ns < 0) return fmt::format("latency_ns {} must not be negative", cfg.latency_ns);
  if (cfg.slippage_bps.is_negative() || cfg.slippage_bps >= core::Decimal::from_int(10'000)) {
    return fmt::format("slippage_bps {} must be at least 0 and below 10000", cfg.slippage_bps);
  }
  const auto one = core::Decimal::from_int(1);
  if (cfg.prob_slippage.is_negative() || cfg.prob_slippage > one) {
    return fmt::format("prob_slippage {} must be between 0 and 1", cfg.prob_slippage);
  }
  if (cfg.prob_fill_on_limit.is_negative() || cfg.prob_fill_on_limit > one) {
    return fmt::format("prob_fill_on_limit {} must be between 0 and 1", cfg.prob_fill_on_limit);
  }
  return validate(cfg.instruments);
}

PaperBroker::PaperBroker(BrokerConfig cfg)
    : cfg_(std::move(cfg)),
      fill_model_(cfg_.slippage_bps, cfg_.prob_slippage, cfg_.prob_fill_on_limit, cfg_.random_seed) {
  if (const auto problem = validate(cfg_)) throw std::invalid_argument(*problem);
}

const Instrument* PaperBroker::instrument(const std::string& symbol) const {
  const auto it = cfg_.instruments.find(symbol);
  return it == cfg_.instruments.end() ? nullptr : &it->second;
}

std::optional<std::string> PaperBroker::halted(const Book& book, const std::string& symbol) {
  if (!book.halted) return std::nullopt;
  return book.halt_reason.empty() ? fmt::format("symbol {} is halted", symbol)
                                  : fmt::format("symbol {} is halted: {}", symbol, book.halt_reason);
}

std::string PaperBroker::next_exec_id(const std::string& client_order_id) {
  return fmt::format("{}-{}", client_order_id, ++exec_seq_[client_order_id]);
}

core::ExecutionReport PaperBroker::report(const core::OrderSubmit& o, core::ExecType type,
                                          core::OrderStatus status, core::TimestampNs ts) {
  core::ExecutionReport r;
  r.client_order_id = o.client_order_id;
  r.exec_id = next_exec_id(o.client_order_id);
  r.exec_type = type;
  r.order_status = status;
  r.symbol = o.symbol;
  r.side = o.side;
  r.order_type = o.order_type;
  r.time_in_force = o.time_in_force;
  r.quantity = o.quantity;
  r.limit_price = o.limit_price;
  r.strategy_id = o.strategy_id;
  r.ts_event = ts;
  r.stop_price = o.stop_price;
  r.expire_time = o.expire_time;
  return r;
}

core::ExecutionReport PaperBroker::report(Order& ord, core::ExecType type, core::OrderStatus status,
                                          core::TimestampNs ts, std::string text) {
  ord.status = status;
  auto r = report(ord.submit, type, status, ts);
  r.cum_qty = ord.cum_qty;
  r.leaves_qty = core::is_terminal(status) ? core::Quantity{} : ord.submit.quantity - ord.cum_qty;
  r.avg_px = ord.avg_px;
  r.text = std::move(text);
  return r;
}

core::ExecutionReport PaperBroker::fill(Order& ord, core::Quantity qty, core::Price px,
                                        core::TimestampNs ts) {
  const core::Quantity new_cum = ord.cum_qty + qty;
  // Volume-weighted average over every fill, from the exact notional: rounded once,
  // half-even to 8 digits (no rounding error carried from fill to fill).
  // px and qty are wire values (|raw| < 2^63, a slipped price at most twice that), so
  // each product fits; the running sum is bounded by max price x quantity. Checked
  // anyway: a value out of range throws core::ArithmeticError, never wraps.
  __int128 product = 0;
  if (__builtin_mul_overflow(px.raw(), qty.raw(), &product) ||
      __builtin_add_overflow(ord.notional_e16, product, &ord.notional_e16))
    throw core::ArithmeticError("matching: notional of the order's fills out of range");
  ord.avg_px = div_half_even(ord.notional_e16, new_cum.raw());
  ord.cum_qty = new_cum;
  const bool done = new_cum == ord.submit.quantity;
  auto r = report(ord, done ? core::ExecType::fill : core::ExecType::partial_fill,
                  done ? core::OrderStatus::filled : core::OrderStatus::partially_filled, ts);
  r.last_qty = qty;
  r.last_px = px;
  if (cfg_.charges_commission()) {
    ord.commission_raw += mul(cfg_.commission_per_unit, qty) +
                          div(mul(mul(qty, px), cfg_.commission_bps), core::Decimal::from_int(10'000));
    const core::Money total = max(ord.commission_raw, cfg_.commission_min_per_order);
    r.commission = total - ord.commission_paid;
    ord.commission_paid = total;
  }
  return r;
}

bool PaperBroker::work(Order& ord, Book& book, core::TimestampNs ts, std::vector<core::ExecutionReport>& out,
                       bool resting, std::optional<core::Price> from, bool maker_at_limit) {
  const auto& o = ord.submit;
  const bool buy = o.side == core::Side::buy;
  const auto touch = book.top.touch(o.side);
  // The first price of this pass on the order's side: where a continuous move began,
  // else the touch itself.
  std::optional<core::Price> start = from ? from : touch;
  const bool was_triggered = ord.triggered;
  if (!ord.triggered) {
    if (!touch) return true;
    const core::Price stop = *o.stop_price;
    const auto reached = [&](core::Price p) { return buy ? p >= stop : p <= stop; };
    if (!reached(*touch) && !(from && reached(*from))) return true;
    ord.triggered = true;
    // Crossed on a continuous path: triggered at the stop price itself; jumped there
    // (a quote, a trade, a bar's open): at the touch.
    if (from && !reached(*from)) start = stop;
  }
  const auto tif = o.time_in_force;
  const core::Quantity leaves = o.quantity - ord.cum_qty;
  auto& left = left_at(book.bid_left, book.ask_left, o.side);
  // The first price along start -> touch at which the order can trade.
  std::optional<core::Price> px;
  bool at_limit = false;  // the market reached the limit exactly, not through it
  if (touch) {
    if (!has_limit(o.order_type)) {
      px = start;
    } else {
      const core::Price lim = *o.limit_price;
      const auto ok = [&](core::Price p) { return buy ? p <= lim : p >= lim; };
      if (ok(*start)) {
        px = start;
      } else if (ok(*touch)) {
        px = lim;  // the path crossed the limit
      }
      at_limit = px && (buy ? min(*start, *touch) : max(*start, *touch)) == lim;
      // Bars: a limit that was resting fills at its limit, never better (a gap in its favour included).
      if (px && maker_at_limit && resting && was_triggered) px = lim;
    }
  }
  if (px) {
    const core::Quantity qty = left ? min(leaves, *left) : leaves;
    if (tif == core::TimeInForce::fok && qty < leaves) {
      out.push_back(report(ord, core::ExecType::canceled, core::OrderStatus::canceled, ts,
                           fmt::format("fok: displayed size {} does not cover quantity {}", *left, leaves)));
      return false;
    }
    // A limit that was resting (queue position unknown) and the market only touched
    // its price: it fills with probability prob_fill_on_limit.
    const bool queued = has_limit(o.order_type) && resting && was_triggered && at_limit;
    if (qty.is_positive() && (!queued || fill_model_.fill_at_limit())) {
      if (left) *left -= qty;
      // Liquidity takers (market orders, triggered stops) slip; limit prices are a promise.
      if (!has_limit(o.order_type)) {
        const Instrument* inst = instrument(o.symbol);
        px = fill_model_.slip(*px, o.side, inst ? inst->tick_size : std::nullopt);
      }
      out.push_back(fill(ord, qty, *px, ts));
      if (ord.status == core::OrderStatus::filled) return false;
    }
  }
  if (!immediate(tif)) return true;
  const bool none = ord.cum_qty.is_zero();
  out.push_back(report(ord, core::ExecType::canceled, core::OrderStatus::canceled, ts,
                       none ? fmt::format("{}: not immediately marketable", tif) : std::string(kTextIocRest)));
  return false;
}

std::vector<core::ExecutionReport> PaperBroker::on_submit(const core::OrderSubmit& o,
                                                          core::TimestampNs ts) {
  std::vector<core::ExecutionReport> out;
  auto reject = [&](std::string text) {
    auto r = report(o, core::ExecType::rejected, core::OrderStatus::rejected, ts);
    r.text = std::move(text);
    out.push_back(std::move(r));
    return out;
  };
  if (const auto it = orders_.find(o.client_order_id); it != orders_.end()) {
    // An identical resend (only ts_event and cause_seq may differ) of an order we have:
    // no answer, no change.
    auto resend = o;
    resend.ts_event = it->second.submit.ts_event;
    resend.cause_seq = it->second.submit.cause_seq;
    if (!it->second.via_replace && resend == it->second.submit) return out;
    return reject(std::string(kTextDuplicate));
  }
  if (reserved_.contains(o.client_order_id)) return reject(std::string(kTextDuplicate));

  Order& ord = orders_[o.client_order_id];
  ord.submit = o;
  ord.accept_day = utc_day(ts + cfg_.latency_ns);
  auto reject_order = [&](std::string text) {
    out.push_back(report(ord, core::ExecType::rejected, core::OrderStatus::rejected, ts, std::move(text)));
    return out;
  };
  const Instrument* inst = instrument(o.symbol);
  if (!cfg_.instruments.empty() && !inst) return reject_order(fmt::format("unknown symbol {}", o.symbol));
  if (!o.quantity.is_positive()) return reject_order(std::string(kTextNonPositiveQty));
  if (inst) {
    if (auto bad = check_lot(o.quantity, *inst)) return reject_order(std::move(*bad));
  }
  if (has_limit(o.order_type)) {
    if (!o.limit_price) {
      return reject_order(o.order_type == core::OrderType::limit
                              ? std::string(kTextLimitWithoutPrice)
                              : fmt::format("{} order without limit_price", o.order_type));
    }
    if (!o.limit_price->is_positive()) return reject_order(std::string(kTextNonPositiveLimit));
    if (inst) {
      if (auto bad = check_tick("limit_price", *o.limit_price, *inst)) return reject_order(std::move(*bad));
    }
  }
  if (has_stop(o.order_type)) {
    if (!o.stop_price) return reject_order(std::string(kTextStopWithoutPrice));
    if (!o.stop_price->is_positive()) return reject_order(std::string(kTextNonPositiveStop));
    if (inst) {
      if (auto bad = check_tick("stop_price", *o.stop_price, *inst)) return reject_order(std::move(*bad));
    }
  }
  if (o.time_in_force == core::TimeInForce::gtd) {
    if (!o.expire_time) return reject_order(std::string(kTextGtdWithoutExpire));
    if (*o.expire_time <= ts) {
      return reject_order(fmt::format("expire_time {} is not after the order time {}", *o.expire_time, ts));
    }
  }
  if (cfg_.latency_ns == 0) {
    arrive(ord, ts, ts, out);
    return out;
  }
  ord.in_flight = true;
  books_[o.symbol].in_flight.push_back({SubmitRef{o.client_order_id}, ts + cfg_.latency_ns});
  return out;
}

void PaperBroker::arrive(Order& ord, core::TimestampNs ts, core::TimestampNs arrival,
                         std::vector<core::ExecutionReport>& out) {
  ord.in_flight = false;
  const auto& o = ord.submit;
  Book& book = books_[o.symbol];
  if (auto h = halted(book, o.symbol)) {
    out.push_back(report(ord, core::ExecType::rejected, core::OrderStatus::rejected, ts, std::move(*h)));
    return;
  }
  if (o.order_type == core::OrderType::market && !book.top.touch(o.side)) {
    out.push_back(report(ord, core::ExecType::rejected, core::OrderStatus::rejected, ts,
                         fmt::format("no market data for {}", o.symbol)));
    return;
  }
  ord.triggered = !has_stop(o.order_type);
  out.push_back(report(ord, core::ExecType::new_, core::OrderStatus::new_, ts));
  if (o.time_in_force == core::TimeInForce::gtd && *o.expire_time <= arrival) {
    // Only with latency: it reached the market after its expire_time.
    out.push_back(report(ord, core::ExecType::expired, core::OrderStatus::expired, ts, std::string(kTextGtdExpired)));
    return;
  }
  if (work(ord, book, ts, out, /*resting=*/false)) {
    ord.seq = ++arrival_seq_;
    book.resting.emplace(ord.seq, o.client_order_id);
  }
}

std::vector<core::ExecutionReport> PaperBroker::on_cancel(const core::OrderCancel& c,
                                                          core::TimestampNs ts) {
  std::vector<core::ExecutionReport> out;
  if (cfg_.latency_ns == 0) {
    do_cancel(c, ts, out);
    return out;
  }
  const auto it = orders_.find(c.client_order_id);
  if (it == orders_.end()) {
    if (const auto r = reserved_.find(c.client_order_id); r != reserved_.end()) {
      // The new id of a replace still in flight: the cancel follows it to the market.
      books_[r->second].in_flight.push_back({c, ts + cfg_.latency_ns});
      return out;
    }
    do_cancel(c, ts, out);  // unknown: answered at once
    return out;
  }
  Order& ord = it->second;
  if (core::is_terminal(ord.status) || ord.replaced_by) {
    do_cancel(c, ts, out);  // nothing can bring it back: answered at once
    return out;
  }
  // FIX: pending_cancel now (status unchanged), canceled or cancel_rejected when it
  // reaches the market. An order still in flight has no status yet: the cancel just
  // follows it (it cannot overtake it).
  if (!ord.in_flight) out.push_back(report(ord, core::ExecType::pending_cancel, ord.status, ts));
  books_[ord.submit.symbol].in_flight.push_back({c, ts + cfg_.latency_ns});
  return out;
}

void PaperBroker::do_cancel(const core::OrderCancel& c, core::TimestampNs ts,
                            std::vector<core::ExecutionReport>& out) {
  const auto it = orders_.find(c.client_order_id);
  if (it == orders_.end()) {
    core::ExecutionReport r;
    r.client_order_id = c.client_order_id;
    r.exec_id = next_exec_id(c.client_order_id);
    r.exec_type = core::ExecType::cancel_rejected;
    r.order_status = core::OrderStatus::rejected;
    r.text = std::string(kTextUnknownOrder);
    r.ts_event = ts;
    out.push_back(std::move(r));
    return;
  }
  Order& ord = it->second;
  if (core::is_terminal(ord.status) || ord.replaced_by) {
    const auto text = ord.replaced_by ? fmt::format("order was replaced by {}", *ord.replaced_by)
                                      : fmt::format("order is already {}", ord.status);
    out.push_back(report(ord, core::ExecType::cancel_rejected, ord.status, ts, text));
    return;
  }
  books_[ord.submit.symbol].resting.erase(ord.seq);
  out.push_back(report(ord, core::ExecType::canceled, core::OrderStatus::canceled, ts,
                       std::string(kTextCanceledOnRequest)));
}

bool PaperBroker::replace_refused(const core::OrderReplace& rq, core::TimestampNs ts, bool at_market,
                                  std::vector<core::ExecutionReport>& out) {
  const auto it = orders_.find(rq.orig_client_order_id);
  auto cancel_rejected = [&](core::OrderStatus status, std::string text, const Order* ord) {
    core::ExecutionReport r;
    if (ord) {
      r = report(ord->submit, core::ExecType::cancel_rejected, status, ts);
      r.cum_qty = ord->cum_qty;
      r.leaves_qty = core::is_terminal(status) || ord->replaced_by ? core::Quantity{}
                                                                   : ord->submit.quantity - ord->cum_qty;
      r.avg_px = ord->avg_px;
    }
    r.client_order_id = rq.client_order_id;
    r.exec_id = next_exec_id(rq.client_order_id);
    r.exec_type = core::ExecType::cancel_rejected;
    r.order_status = status;
    r.orig_client_order_id = rq.orig_client_order_id;
    r.text = std::move(text);
    r.ts_event = ts;
    out.push_back(std::move(r));
    return true;
  };
  if (it == orders_.end()) return cancel_rejected(core::OrderStatus::rejected, std::string(kTextUnknownOrig), nullptr);
  const Order& old = it->second;
  const auto& o = old.submit;
  if (old.replaced_by) {
    return cancel_rejected(old.status, fmt::format("order was replaced by {}", *old.replaced_by), &old);
  }
  if (core::is_terminal(old.status)) {
    return cancel_rejected(old.status, fmt::format("order is already {}", old.status), &old);
  }
  if (orders_.contains(rq.client_order_id) || reserved_.contains(rq.client_order_id)) {
    return cancel_rejected(old.status, std::string(kTextDuplicate), &old);
  }
  if (rq.quantity && !rq.quantity->is_positive()) {
    return cancel_rejected(old.status, std::string(kTextNonPositiveQty), &old);
  }
  if (rq.quantity && *rq.quantity <= old.cum_qty) {
    return cancel_rejected(
        old.status, fmt::format("quantity {} is not above the filled quantity {}", *rq.quantity, old.cum_qty), &old);
  }
  if (rq.limit_price && !has_limit(o.order_type)) {
    return cancel_rejected(old.status, fmt::format("limit_price does not apply to a {} order", o.order_type), &old);
  }
  if (rq.limit_price && !rq.limit_price->is_positive()) {
    return cancel_rejected(old.status, std::string(kTextNonPositiveLimit), &old);
  }
  if (rq.stop_price && !has_stop(o.order_type)) {
    return cancel_rejected(old.status, fmt::format("stop_price does not apply to a {} order", o.order_type), &old);
  }
  if (rq.stop_price && !rq.stop_price->is_positive()) {
    return cancel_rejected(old.status, std::string(kTextNonPositiveStop), &old);
  }
  if (const Instrument* inst = instrument(o.symbol)) {
    std::optional<std::string> bad;
    if (rq.quantity) bad = check_lot(*rq.quantity, *inst);
    if (!bad && rq.limit_price) bad = check_tick("limit_price", *rq.limit_price, *inst);
    if (!bad && rq.stop_price) bad = check_tick("stop_price", *rq.stop_price, *inst);
    if (bad) return cancel_rejected(old.status, std::move(*bad), &old);
  }
  if (at_market) {
    if (auto h = halted(books_[o.symbol], o.symbol)) return cancel_rejected(old.status, std::move(*h), &old);
  }
  return false;
}

std::vector<core::ExecutionReport> PaperBroker::on_replace(const core::OrderReplace& rq,
                                                           core::TimestampNs ts) {
  std::vector<core::ExecutionReport> out;
  if (cfg_.latency_ns == 0) {
    do_replace(rq, ts, out);
    return out;
  }
  // Latency: what the market cannot change is answered at once; the rest is checked
  // again when the replace reaches the market (the order may fill meanwhile).
  std::string symbol;
  if (const auto r = reserved_.find(rq.orig_client_order_id); r != reserved_.end() &&
                                                              !orders_.contains(rq.orig_client_order_id)) {
    symbol = r->second;  // replacing the new id of a replace still in flight: follow it
    if (orders_.contains(rq.client_order_id) || reserved_.contains(rq.client_order_id)) {
      core::ExecutionReport rej;  // the order it names is not at the market yet: no order fields
      rej.client_order_id = rq.client_order_id;
      rej.exec_id = next_exec_id(rq.client_order_id);
      rej.exec_type = core::ExecType::cancel_rejected;
      rej.order_status = core::OrderStatus::rejected;
      rej.orig_client_order_id = rq.orig_client_order_id;
      rej.text = std::string(kTextDuplicate);
      rej.ts_event = ts;
      out.push_back(std::move(rej));
      return out;
    }
  } else {
    if (replace_refused(rq, ts, /*at_market=*/false, out)) return out;
    symbol = orders_.at(rq.orig_client_order_id).submit.symbol;
  }
  reserved_[rq.client_order_id] = symbol;
  books_[symbol].in_flight.push_back({rq, ts + cfg_.latency_ns});
  return out;
}

void PaperBroker::do_replace(const core::OrderReplace& rq, core::TimestampNs ts,
                             std::vector<core::ExecutionReport>& out) {
  reserved_.erase(rq.client_order_id);
  if (replace_refused(rq, ts, /*at_market=*/true, out)) return;
  Order& old = orders_.at(rq.orig_client_order_id);
  const core::OrderSubmit o = old.submit;
  Book& book = books_[o.symbol];
  Order& neu = orders_[rq.client_order_id];  // std::map: `old` stays valid
  neu = old;
  neu.submit.client_order_id = rq.client_order_id;
  neu.via_replace = true;
  if (rq.quantity) neu.submit.quantity = *rq.quantity;
  if (rq.limit_price) neu.submit.limit_price = *rq.limit_price;
  if (rq.stop_price) neu.submit.stop_price = *rq.stop_price;
  old.replaced_by = rq.client_order_id;
  // Priority: kept when only the quantity goes down, lost otherwise (as on most venues).
  const bool keeps_priority = (!rq.quantity || *rq.quantity <= o.quantity) &&
                              (!rq.limit_price || *rq.limit_price == o.limit_price) &&
                              (!rq.stop_price || *rq.stop_price == o.stop_price);
  book.resting.erase(old.seq);
  if (!keeps_priority) neu.seq = ++arrival_seq_;

  auto r = report(neu, core::ExecType::replaced, neu.status, ts);
  r.orig_client_order_id = rq.orig_client_order_id;
  out.push_back(std::move(r));
  // An order that keeps its place is the same resting order; one that lost it arrives anew.
  if (work(neu, book, ts, out, /*resting=*/keeps_priority)) book.resting.emplace(neu.seq, rq.client_order_id);
}

void PaperBroker::deliver(const std::string& symbol, core::TimestampNs ts, std::vector<core::ExecutionReport>& out) {
  auto& queue = books_[symbol].in_flight;
  while (!queue.empty() && queue.front().due <= ts) {
    InFlight f = std::move(queue.front());
    queue.pop_front();
    if (const auto* s = std::get_if<SubmitRef>(&f.cmd)) {
      arrive(orders_.at(s->client_order_id), ts, f.due, out);
    } else if (const auto* c = std::get_if<core::OrderCancel>(&f.cmd)) {
      do_cancel(*c, ts, out);
    } else {
      do_replace(std::get<core::OrderReplace>(f.cmd), ts, out);
    }
  }
}

void PaperBroker::match(Book& book, core::TimestampNs ts, const Step& step, std::vector<core::ExecutionReport>& out) {
  const std::int64_t today = utc_day(ts);
  std::optional<core::Quantity> print_left = step.print_size;
  for (auto it = book.resting.begin(); it != book.resting.end();) {
    Order& ord = orders_.at(it->second);
    const auto& o = ord.submit;
    if (step.expire) {
      if (o.time_in_force == core::TimeInForce::day && today > ord.accept_day) {
        out.push_back(report(ord, core::ExecType::expired, core::OrderStatus::expired, ts,
                             std::string(kTextDayExpired)));
        it = book.resting.erase(it);
        continue;
      }
      if (o.time_in_force == core::TimeInForce::gtd && ts >= *o.expire_time) {
        out.push_back(report(ord, core::ExecType::expired, core::OrderStatus::expired, ts,
                             std::string(kTextGtdExpired)));
        it = book.resting.erase(it);
        continue;
      }
    }
    if (book.halted) {  // nothing triggers or fills while halted
      ++it;
      continue;
    }
    const bool buy = o.side == core::Side::buy;
    bool working = true;
    if (buy ? step.buys : step.sells) {
      working = work(ord, book, ts, out, /*resting=*/true, buy ? step.ask_from : step.bid_from, step.bar);
    }
    // A print at or through a working limit on a quoted symbol fills it at the limit.
    if (working && step.print && book.top.has_quote && ord.triggered && has_limit(o.order_type) &&
        (!print_left || print_left->is_positive())) {
      const core::Price lim = *o.limit_price;
      const bool reached = buy ? *step.print <= lim : *step.print >= lim;
      if (reached && (*step.print != lim || fill_model_.fill_at_limit())) {
        const core::Quantity leaves = o.quantity - ord.cum_qty;
        const core::Quantity qty = print_left ? min(leaves, *print_left) : leaves;
        if (print_left) *print_left -= qty;
        out.push_back(fill(ord, qty, lim, ts));
        working = ord.status != core::OrderStatus::filled;
      }
    }
    it = working ? std::next(it) : book.resting.erase(it);
  }
}

// Market data first, then arrivals: the event updates the book and matches what was
// already working (time priority), then the commands due by it reach the market against
// the book it left (docs/fill-models.md, Latency).
std::vector<core::ExecutionReport> PaperBroker::on_quote(const core::Quote& q) {
  std::vector<core::ExecutionReport> out;
  Book& book = books_[q.symbol];
  book.top.on_quote(q);
  book.bid_left = q.bid_size;
  book.ask_left = q.ask_size;
  match(book, q.ts_event, Step{}, out);
  deliver(q.symbol, q.ts_event, out);
  return out;
}

std::vector<core::ExecutionReport> PaperBroker::on_trade(const core::Trade& t) {
  std::vector<core::ExecutionReport> out;
  Book& book = books_[t.symbol];
  book.top.on_trade(t);
  if (!book.top.has_quote) {
    book.bid_left = t.size;
    book.ask_left = t.size;
  }
  match(book, t.ts_event, Step{.print = t.price, .print_size = t.size}, out);
  deliver(t.symbol, t.ts_event, out);
  return out;
}

std::vector<core::ExecutionReport> PaperBroker::on_bar(const core::Bar& b) {
  std::vector<core::ExecutionReport> out;
  Book& book = books_[b.symbol];
  // The path: open, the nearer of high and low (ties: high), the other one, close.
  const bool high_first = b.high - b.open <= b.open - b.low;
  const std::array<core::Price, 4> path{b.open, high_first ? b.high : b.low, high_first ? b.low : b.high, b.close};
  const bool is_print = b.price_type == core::PriceType::trade || b.price_type == core::PriceType::mid;
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (i > 0 && path[i] == path[i - 1]) continue;  // no move, nothing new
    const auto bid_before = book.top.bid;
    const auto ask_before = book.top.ask;
    const bool had_quote = book.top.has_quote;
    core::Bar point = b;
    point.open = point.high = point.low = point.close = path[i];
    book.top.on_bar(point);
    // Bars carry no displayed size: the sides they set are unlimited.
    if (b.price_type == core::PriceType::bid) book.bid_left.reset();
    if (b.price_type == core::PriceType::ask) book.ask_left.reset();
    if (!had_quote && !book.top.has_quote) {
      book.bid_left.reset();
      book.ask_left.reset();
    }
    Step step{.expire = i == 0, .bar = true};
    if (i == 0) {
      // Commands due by the bar's end reach the market during the bar: at its open.
      deliver(b.symbol, b.ts_event, out);
    } else {
      // After the open the price moves continuously from point to point: only the
      // orders on a side that moved are matched, along the segment it moved.
      step.sells = book.top.bid != bid_before;
      step.buys = book.top.ask != ask_before;
      if (step.sells) step.bid_from = bid_before;
      if (step.buys) step.ask_from = ask_before;
    }
    if (is_print) step.print = path[i];  // unlimited size; fills limits only on a quoted symbol
    match(book, b.ts_event, step, out);
  }
  return out;
}

std::vector<core::ExecutionReport> PaperBroker::on_status(const core::InstrumentStatus& s) {
  std::vector<core::ExecutionReport> out;
  Book& book = books_[s.symbol];
  book.halted = s.status == core::InstrumentState::halted;
  book.halt_reason = book.halted ? s.reason : std::string();
  match(book, s.ts_event, Step{}, out);
  deliver(s.symbol, s.ts_event, out);
  return out;
}

std::vector<core::ExecutionReport> PaperBroker::on_action(const core::CorporateAction& a) {
  std::vector<core::ExecutionReport> out;
  Book& book = books_[a.symbol];
  deliver(a.symbol, a.ts_event, out);
  if (a.action != core::ActionKind::split) return out;
  const std::string text = fmt::format("canceled: {} split, ratio {}", a.symbol, a.ratio.value_or(core::Decimal{}));
  for (const auto& [seq, id] : book.resting) {
    const auto it = orders_.find(id);
    if (it == orders_.end()) continue;
    out.push_back(report(it->second, core::ExecType::canceled, core::OrderStatus::canceled, a.ts_event, text));
  }
  book.resting.clear();
  // The last prices and sizes in post-split units, until the next market data.
  const core::Decimal ratio = a.ratio.value_or(core::Decimal::from_int(1));
  if (book.top.bid) book.top.bid = div(*book.top.bid, ratio);
  if (book.top.ask) book.top.ask = div(*book.top.ask, ratio);
  if (book.bid_left) book.bid_left = mul(*book.bid_left, ratio);
  if (book.ask_left) book.ask_left = mul(*book.ask_left, ratio);
  return out;
}

std::size_t PaperBroker::in_flight() const {
  std::size_t n = 0;
  for (const auto& [symbol, book] : books_) n += book.in_flight.size();
  return n;
}

std::size_t PaperBroker::open_orders() const {
  std::size_t n = 0;
  for (const auto& [symbol, book] : books_) n += book.resting.size();
  return n;
}

std::optional<core::OrderStatus> PaperBroker::order_status(const std::string& client_order_id) const {
  const auto it = orders_.find(client_order_id);
  if (it == orders_.end() || it->second.in_flight) return std::nullopt;
  return it->second.status;
}

std::optional<std::string> PaperBroker::replaced_by(const std::string& client_order_id) const {
  const auto it = orders_.find(client_order_id);
  if (it == orders_.end()) return std::nullopt;
  return it->second.replaced_by;
}

}  // namespace matching
