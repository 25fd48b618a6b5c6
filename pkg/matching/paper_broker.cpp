#include "matching/paper_broker.hpp"

#include <fmt/format.h>

#include <utility>

namespace matching {
namespace {

/// floor(ts / 1 day): the UTC calendar day number (negative times round down).
std::int64_t utc_day(core::TimestampNs ts) {
  std::int64_t d = ts / core::kNsPerDay;
  if (ts % core::kNsPerDay < 0) --d;
  return d;
}

}  // namespace

PaperBroker::PaperBroker(BrokerConfig cfg) : cfg_(cfg) {}

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
  // Volume-weighted average: (avg * cum + px * qty) / new_cum, half-even to 8 digits.
  ord.avg_px = div(mul(ord.avg_px, ord.cum_qty) + mul(px, qty), new_cum);
  ord.cum_qty = new_cum;
  const bool done = new_cum == ord.submit.quantity;
  auto r = report(ord, done ? core::ExecType::fill : core::ExecType::partial_fill,
                  done ? core::OrderStatus::filled : core::OrderStatus::partially_filled, ts);
  r.last_qty = qty;
  r.last_px = px;
  return r;
}

std::optional<core::Price> PaperBroker::marketable_price(const Order& ord, const Book& book) const {
  const auto& o = ord.submit;
  const auto px = book.top.touch(o.side);
  if (!px || o.order_type == core::OrderType::market) return px;
  const bool marketable = o.side == core::Side::buy ? *px <= *o.limit_price : *px >= *o.limit_price;
  return marketable ? px : std::nullopt;
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
  if (orders_.contains(o.client_order_id)) return reject(std::string(kTextDuplicate));

  Order& ord = orders_[o.client_order_id];
  ord.submit = o;
  ord.accept_day = utc_day(ts);
  auto reject_order = [&](std::string text) {
    out.push_back(report(ord, core::ExecType::rejected, core::OrderStatus::rejected, ts, std::move(text)));
    return out;
  };
  if (!o.quantity.is_positive()) return reject_order(std::string(kTextNonPositiveQty));
  if (o.order_type == core::OrderType::limit) {
    if (!o.limit_price) return reject_order(std::string(kTextLimitWithoutPrice));
    if (!o.limit_price->is_positive()) return reject_order(std::string(kTextNonPositiveLimit));
  }
  Book& book = books_[o.symbol];
  const auto px = marketable_price(ord, book);
  if (o.order_type == core::OrderType::market && !px) {
    return reject_order(fmt::format("no market data for {}", o.symbol));
  }

  out.push_back(report(ord, core::ExecType::new_, core::OrderStatus::new_, ts));
  if (px) {
    out.push_back(fill(ord, o.quantity - ord.cum_qty, *px, ts));
  } else if (o.time_in_force == core::TimeInForce::ioc || o.time_in_force == core::TimeInForce::fok) {
    out.push_back(report(ord, core::ExecType::canceled, core::OrderStatus::canceled, ts,
                         fmt::format("{}: not immediately marketable", o.time_in_force)));
  } else {
    book.resting.emplace(++arrival_seq_, o.client_order_id);
  }
  return out;
}

std::vector<core::ExecutionReport> PaperBroker::on_cancel(const core::OrderCancel& c,
                                                          core::TimestampNs ts) {
  std::vector<core::ExecutionReport> out;
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
    return out;
  }
  Order& ord = it->second;
  if (core::is_terminal(ord.status)) {
    auto r = report(ord, core::ExecType::cancel_rejected, ord.status, ts,
                    fmt::format("order is already {}", ord.status));
    out.push_back(std::move(r));
    return out;
  }
  auto& resting = books_[ord.submit.symbol].resting;
  for (auto r = resting.begin(); r != resting.end(); ++r) {
    if (r->second == c.client_order_id) {
      resting.erase(r);
      break;
    }
  }
  out.push_back(report(ord, core::ExecType::canceled, core::OrderStatus::canceled, ts,
                       std::string(kTextCanceledOnRequest)));
  return out;
}

std::vector<core::ExecutionReport> PaperBroker::on_market(const std::string& symbol,
                                                          core::TimestampNs ts) {
  std::vector<core::ExecutionReport> out;
  Book& book = books_[symbol];
  const std::int64_t today = utc_day(ts);
  for (auto it = book.resting.begin(); it != book.resting.end();) {
    Order& ord = orders_.at(it->second);
    if (ord.submit.time_in_force == core::TimeInForce::day && today > ord.accept_day) {
      out.push_back(report(ord, core::ExecType::expired, core::OrderStatus::expired, ts,
                           std::string(kTextDayExpired)));
      it = book.resting.erase(it);
    } else if (const auto px = marketable_price(ord, book)) {
      out.push_back(fill(ord, ord.submit.quantity - ord.cum_qty, *px, ts));
      it = book.resting.erase(it);
    } else {
      ++it;
    }
  }
  return out;
}

std::vector<core::ExecutionReport> PaperBroker::on_quote(const core::Quote& q) {
  books_[q.symbol].top.on_quote(q);
  return on_market(q.symbol, q.ts_event);
}

std::vector<core::ExecutionReport> PaperBroker::on_trade(const core::Trade& t) {
  books_[t.symbol].top.on_trade(t);
  return on_market(t.symbol, t.ts_event);
}

std::vector<core::ExecutionReport> PaperBroker::on_bar(const core::Bar& b) {
  books_[b.symbol].top.on_bar(b);
  return on_market(b.symbol, b.ts_event);
}

std::size_t PaperBroker::open_orders() const {
  std::size_t n = 0;
  for (const auto& [symbol, book] : books_) n += book.resting.size();
  return n;
}

std::optional<core::OrderStatus> PaperBroker::order_status(const std::string& client_order_id) const {
  const auto it = orders_.find(client_order_id);
  if (it == orders_.end()) return std::nullopt;
  return it->second.status;
}

}  // namespace matching
