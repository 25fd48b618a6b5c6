#include "strategy/strategy.hpp"

#include <algorithm>
#include <charconv>
#include <stdexcept>
#include <type_traits>

#include <fmt/format.h>

namespace strategy {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' || s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> words(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
    const auto start = i;
    while (i < s.size() && !(s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

std::invalid_argument bad(const std::string& key, const std::string& what) {
  return std::invalid_argument(fmt::format("param '{}': {}", key, what));
}

/// Adds "k=v" to `c`; strategy_id goes to c.strategy_id.
void add_param(Choice& c, std::string_view kv) {
  const auto eq = kv.find('=');
  if (eq == std::string_view::npos || eq == 0)
    throw std::invalid_argument(fmt::format("strategy {}: param '{}': expected key=value", c.name, kv));
  const std::string key(kv.substr(0, eq));
  std::string value(kv.substr(eq + 1));
  if (key == "strategy_id") {
    if (value.empty()) throw std::invalid_argument(fmt::format("strategy {}: param 'strategy_id': empty", c.name));
    c.strategy_id = std::move(value);
    return;
  }
  if (c.params.has(key)) throw std::invalid_argument(fmt::format("strategy {}: param '{}' given twice", c.name, key));
  c.params.set(key, std::move(value));
}

}  // namespace

// ---------------------------------------------------------------- params

const std::string& Params::text(const std::string& key) const {
  const auto it = values_.find(key);
  if (it == values_.end()) throw bad(key, "missing");
  return it->second;
}

std::int64_t Params::integer(const std::string& key, std::int64_t min) const {
  const auto& t = text(key);
  std::int64_t v = 0;
  const auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (t.empty() || ec != std::errc() || p != t.data() + t.size()) throw bad(key, fmt::format("not an integer: '{}'", t));
  if (v < min) throw bad(key, fmt::format("must be >= {}, got {}", min, v));
  return v;
}

core::Decimal Params::decimal(const std::string& key) const {
  const auto& t = text(key);
  const auto d = core::Decimal::parse(t);
  if (!d) throw bad(key, fmt::format("not a decimal number: '{}'", t));
  return *d;
}

core::Decimal Params::positive(const std::string& key) const {
  const auto d = decimal(key);
  if (!d.is_positive()) throw bad(key, fmt::format("must be > 0, got {}", d));
  return d;
}

core::DurationNs Params::duration(const std::string& key) const {
  const auto& t = text(key);
  std::int64_t v = 0;
  const auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (t.empty() || ec != std::errc() || v < 0) throw bad(key, fmt::format("not a duration >= 0 (e.g. 90s, 5m): '{}'", t));
  const std::string_view unit(p, static_cast<std::size_t>(t.data() + t.size() - p));
  std::int64_t mult = 0;
  if (unit.empty() || unit == "ns") mult = 1;
  else if (unit == "us") mult = 1'000;
  else if (unit == "ms") mult = 1'000'000;
  else if (unit == "s") mult = core::kNsPerSecond;
  else if (unit == "m") mult = 60 * core::kNsPerSecond;
  else if (unit == "h") mult = 3600 * core::kNsPerSecond;
  else throw bad(key, fmt::format("unknown unit '{}' (ns, us, ms, s, m, h): '{}'", unit, t));
  if (v > INT64_MAX / mult) throw bad(key, fmt::format("too long: '{}'", t));
  return v * mult;
}

std::string Params::describe() const {
  std::string out;
  for (const auto& [k, v] : values_) {
    if (!out.empty()) out += ' ';
    out += k + "=" + v;
  }
  return out;
}

// ---------------------------------------------------------------- choices

std::vector<Choice> parse_choices(std::string_view text) {
  std::vector<Choice> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find(';', start);
    if (end == std::string_view::npos) end = text.size();
    const auto part = trim(text.substr(start, end - start));
    start = end + 1;
    if (part.empty()) {
      if (end == text.size()) break;
      throw std::invalid_argument(fmt::format("strategies: an empty choice between ';' in '{}'", text));
    }
    const auto w = words(part);
    Choice c{.name = std::string(w[0]), .strategy_id = std::string(w[0]), .params = {}};
    if (c.name.find('=') != std::string::npos)
      throw std::invalid_argument(fmt::format("strategies: '{}' is a param, a strategy name must come first", c.name));
    for (std::size_t i = 1; i < w.size(); ++i) add_param(c, w[i]);
    out.push_back(std::move(c));
  }
  return out;
}

std::string format_choices(const std::vector<Choice>& choices) {
  std::string out;
  for (const auto& c : choices) {
    if (!out.empty()) out += "; ";
    out += c.name;
    if (c.strategy_id != c.name) out += " strategy_id=" + c.strategy_id;
    for (const auto& [k, v] : c.params.values()) out += " " + k + "=" + v;
  }
  return out;
}

std::vector<Choice> choices_from_args(const std::vector<std::string>& args) {
  std::vector<Choice> out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto& f = args[i];
    if (f != "--strategy" && f != "--param") throw std::invalid_argument("unexpected argument " + f);
    if (i + 1 >= args.size()) throw std::invalid_argument(f + " needs a value");
    const auto& v = args[++i];
    if (f == "--strategy") {
      if (v.empty() || v.find_first_of(" ;=") != std::string::npos)
        throw std::invalid_argument(fmt::format("--strategy: not a strategy name: '{}'", v));
      out.push_back(Choice{.name = v, .strategy_id = v, .params = {}});
    } else {
      if (out.empty()) throw std::invalid_argument("--param " + v + " comes before any --strategy");
      if (v.find_first_of(" ;") != std::string::npos)
        throw std::invalid_argument(fmt::format("--param: no spaces or ';' in '{}'", v));
      add_param(out.back(), v);
    }
  }
  return out;
}

// ---------------------------------------------------------------- context

Context::Context(std::string strategy_id) : strategy_id_(std::move(strategy_id)), prefix_(strategy_id_ + "-") {}

core::Quantity Context::position(const std::string& symbol) const {
  const auto it = positions_.find(symbol);
  return it == positions_.end() ? core::Quantity{} : it->second;
}

std::vector<const WorkingOrder*> Context::orders_of(const std::string& symbol, std::optional<core::Side> side) const {
  std::vector<const WorkingOrder*> out;
  for (const auto& [id, o] : orders_)
    if (o.symbol == symbol && (!side || o.side == *side)) out.push_back(&o);
  return out;
}

const WorkingOrder* Context::order(const std::string& client_order_id) const {
  const auto it = orders_.find(client_order_id);
  return it == orders_.end() ? nullptr : &it->second;
}

std::string Context::next_id() { return fmt::format("{}{}", prefix_, ++ids_); }

std::string Context::submit(core::OrderSubmit o) {
  if (o.client_order_id.empty()) {
    o.client_order_id = next_id();
  } else {
    const auto& id = o.client_order_id;
    if (!id.starts_with(prefix_) || id.size() == prefix_.size())
      throw std::logic_error(fmt::format("strategy {}: client_order_id '{}' must start with '{}'", strategy_id_, id, prefix_));
    const auto rest = std::string_view(id).substr(prefix_.size());
    if (std::all_of(rest.begin(), rest.end(), [](char ch) { return ch >= '0' && ch <= '9'; }))
      throw std::logic_error(
          fmt::format("strategy {}: client_order_id '{}' has the framework's form '{}<n>'", strategy_id_, id, prefix_));
    if (!chosen_ids_.insert(id).second)
      throw std::logic_error(fmt::format("strategy {}: client_order_id '{}' used twice", strategy_id_, id));
  }
  o.strategy_id = strategy_id_;
  WorkingOrder w{.client_order_id = o.client_order_id,
                 .symbol = o.symbol,
                 .side = o.side,
                 .order_type = o.order_type,
                 .time_in_force = o.time_in_force,
                 .quantity = o.quantity,
                 .limit_price = o.limit_price,
                 .stop_price = o.stop_price};
  orders_.insert_or_assign(o.client_order_id, std::move(w));
  auto id = o.client_order_id;
  outbox_.emplace_back(std::move(o));
  return id;
}

bool Context::cancel(const std::string& client_order_id) {
  const auto it = orders_.find(client_order_id);
  if (it == orders_.end() || it->second.busy()) return false;
  it->second.cancel_pending = true;
  outbox_.emplace_back(core::OrderCancel{.client_order_id = client_order_id});
  return true;
}

std::optional<std::string> Context::replace(const std::string& orig, std::optional<core::Quantity> quantity,
                                            std::optional<core::Price> limit_price,
                                            std::optional<core::Price> stop_price) {
  const auto it = orders_.find(orig);
  if (it == orders_.end() || it->second.busy()) return std::nullopt;
  auto id = next_id();
  it->second.replace_pending = id;
  outbox_.emplace_back(core::OrderReplace{.client_order_id = id,
                                          .orig_client_order_id = orig,
                                          .quantity = quantity,
                                          .limit_price = limit_price,
                                          .stop_price = stop_price});
  return id;
}

void Context::set_timer(core::TimestampNs at, std::string tag) { timers_.emplace(at, std::move(tag)); }

// ---------------------------------------------------------------- runner

Runner::Runner(std::string strategy_id, std::unique_ptr<Strategy> strategy)
    : ctx_(std::move(strategy_id)), strategy_(std::move(strategy)) {
  if (ctx_.strategy_id_.empty()) throw std::invalid_argument("strategy_id: empty");
  if (!strategy_) throw std::invalid_argument("strategy " + ctx_.strategy_id_ + ": no strategy");
}

std::vector<core::OrderCommand> Runner::on_market(const core::MarketData& md, std::uint64_t cause_seq) {
  const auto ts = std::visit([](const auto& x) { return x.ts_event; }, md);
  ctx_.now_ = ts;
  // Timers due now: taken out first, so one set while firing waits for the next event.
  std::vector<Timer> due;
  while (!ctx_.timers_.empty() && ctx_.timers_.begin()->first <= ts) {
    auto node = ctx_.timers_.extract(ctx_.timers_.begin());
    due.push_back(Timer{.at = node.key(), .tag = std::move(node.mapped())});
  }
  for (const auto& t : due) strategy_->on_timer(t, ctx_);
  std::visit([&](const auto& x) {
    using T = std::decay_t<decltype(x)>;
    if constexpr (std::is_same_v<T, core::Quote>) strategy_->on_quote(x, ctx_);
    else if constexpr (std::is_same_v<T, core::Trade>) strategy_->on_trade(x, ctx_);
    else strategy_->on_bar(x, ctx_);
  }, md);
  std::vector<core::OrderCommand> out;
  out.swap(ctx_.outbox_);
  for (auto& c : out)
    std::visit([&](auto& x) {
      x.ts_event = ts;
      x.cause_seq = cause_seq;
    }, c);
  return out;
}

std::vector<core::OrderCommand> Runner::on_action(const core::CorporateAction& a, std::uint64_t cause_seq) {
  ctx_.now_ = a.ts_event;
  if (a.action == core::ActionKind::split && a.ratio && a.ratio->is_positive())
    if (auto it = ctx_.positions_.find(a.symbol); it != ctx_.positions_.end()) it->second = mul(it->second, *a.ratio);
  strategy_->on_corporate_action(a, ctx_);
  std::vector<core::OrderCommand> out;
  out.swap(ctx_.outbox_);
  for (auto& c : out)
    std::visit([&](auto& x) {
      x.ts_event = a.ts_event;
      x.cause_seq = cause_seq;
    }, c);
  return out;
}

void Runner::track(const core::ExecutionReport& r) {
  auto& orders = ctx_.orders_;
  if (r.last_qty.is_positive()) {
    auto& pos = ctx_.positions_[r.symbol];
    pos = r.side == core::Side::buy ? pos + r.last_qty : pos - r.last_qty;
  }
  if (r.exec_type == core::ExecType::replaced && r.orig_client_order_id) {
    std::optional<WorkingOrder> old;
    if (auto node = orders.extract(*r.orig_client_order_id)) old = std::move(node.mapped());
    WorkingOrder w = old.value_or(WorkingOrder{});
    w.client_order_id = r.client_order_id;
    w.symbol = r.symbol;
    w.side = r.side;
    w.order_type = r.order_type;
    w.time_in_force = r.time_in_force;
    w.quantity = r.quantity;
    w.limit_price = r.limit_price;
    w.stop_price = r.stop_price;
    w.cum_qty = r.cum_qty;
    w.status = r.order_status;
    w.cancel_pending = false;
    w.replace_pending.reset();
    if (!core::is_terminal(r.order_status)) orders.insert_or_assign(r.client_order_id, std::move(w));
    return;
  }
  if (r.exec_type == core::ExecType::cancel_rejected) {
    // A refused replace names the order it was for; a refused cancel is about the order itself.
    const auto& target = r.orig_client_order_id ? *r.orig_client_order_id : r.client_order_id;
    const auto it = orders.find(target);
    if (it == orders.end()) return;
    if (r.orig_client_order_id) {
      if (it->second.replace_pending == r.client_order_id) it->second.replace_pending.reset();
    } else {
      it->second.cancel_pending = false;
    }
    if (core::is_terminal(r.order_status)) orders.erase(it);
    return;
  }
  const auto it = orders.find(r.client_order_id);
  if (it == orders.end()) return;
  if (core::is_terminal(r.order_status)) {
    orders.erase(it);
    return;
  }
  it->second.status = r.order_status;
  it->second.cum_qty = r.cum_qty;
}

void Runner::on_execution(const core::ExecutionReport& r) {
  ctx_.now_ = r.ts_event;
  track(r);
  strategy_->on_execution(r, ctx_);
}

core::Decimal floor_to(core::Decimal x, core::Decimal step) noexcept {
  if (!step.is_positive()) return x;
  auto m = x.raw() % step.raw();
  if (m < 0) m += step.raw();
  return core::Decimal::from_raw(x.raw() - m);
}

core::Decimal ceil_to(core::Decimal x, core::Decimal step) noexcept {
  const auto f = floor_to(x, step);
  return f == x || !step.is_positive() ? x : core::Decimal::from_raw(f.raw() + step.raw());
}

std::string command_key(std::string_view type, std::string_view client_order_id, std::uint64_t cause_seq) {
  return fmt::format("{}:{}:{}", type, client_order_id, cause_seq);
}

std::string command_key(const core::OrderCommand& c) {
  return std::visit([](const auto& x) { return command_key(std::decay_t<decltype(x)>::kType, x.client_order_id, x.cause_seq); },
                    c);
}

}  // namespace strategy
