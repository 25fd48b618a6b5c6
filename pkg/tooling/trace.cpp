#include "tooling/trace.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <variant>

#include <fmt/format.h>

#include "codec/codec.hpp"
#include "core/enums.hpp"
#include "subjects/subjects.hpp"
#include "workers/log_input.hpp"  // overloaded

namespace services {

namespace {

constexpr std::size_t kMaxIds = 100;


std::string describe_submit(const core::OrderSubmit& o) {
  std::string s = fmt::format("{} {} {} {}", core::to_string(o.side), o.quantity.to_string(), o.symbol,
                              core::to_string(o.order_type));
  if (o.limit_price) s += fmt::format(" limit_price {}", o.limit_price->to_string());
  if (o.stop_price) s += fmt::format(" stop_price {}", o.stop_price->to_string());
  s += fmt::format(" {}", core::to_string(o.time_in_force));
  if (!o.strategy_id.empty()) s += fmt::format(" (strategy {})", o.strategy_id);
  return s;
}

/// The line's words, and the other ids it names (orig_client_order_id).
std::string describe(const eventstore::StoredEvent& e, std::set<std::string>& linked) {
  const bool approved = e.subject == subjects::kTradingOrdersApproved;
  if (e.type == core::ExecutionReport::kType) {
    const auto r = codec::decode_execution_report(e.payload);
    if (!r) return "execution_report (unreadable: " + r.error().to_string() + ")";
    if (r->orig_client_order_id) linked.insert(*r->orig_client_order_id);
    std::string s = fmt::format("{} -> {}", core::to_string(r->exec_type), core::to_string(r->order_status));
    if (!r->last_qty.is_zero()) s += fmt::format(", filled {} @ {}", r->last_qty.to_string(), r->last_px.to_string());
    s += fmt::format(", cum_qty {} leaves_qty {}", r->cum_qty.to_string(), r->leaves_qty.to_string());
    if (!r->avg_px.is_zero()) s += fmt::format(" avg_px {}", r->avg_px.to_string());
    if (r->orig_client_order_id) s += fmt::format(" (replaces {})", *r->orig_client_order_id);
    if (!r->text.empty()) s += fmt::format(": {}", r->text);
    if (r->exec_type == core::ExecType::denied) s = "risk-state denied: " + s;
    return s;
  }
  if (e.type == core::OrderSubmit::kType || e.type == core::OrderCancel::kType || e.type == core::OrderReplace::kType) {
    const auto c = codec::decode_order_command(e.payload);
    if (!c) return e.type + " (unreadable: " + c.error().to_string() + ")";
    const std::string prefix = approved ? "risk-state approved: " : "";
    return prefix + std::visit(overloaded{[](const core::OrderSubmit& o) { return "submit " + describe_submit(o); },
                                          [](const core::OrderCancel&) { return std::string("cancel"); },
                                          [&](const core::OrderReplace& o) {
                                            linked.insert(o.orig_client_order_id);
                                            std::string s = fmt::format("replace {} by {}", o.orig_client_order_id,
                                                                        o.client_order_id);
                                            if (o.quantity) s += fmt::format(", quantity {}", o.quantity->to_string());
                                            if (o.limit_price) s += fmt::format(", limit_price {}", o.limit_price->to_string());
                                            if (o.stop_price) s += fmt::format(", stop_price {}", o.stop_price->to_string());
                                            return s;
                                          }},
                               *c);
  }
  return e.type;
}

std::vector<eventstore::StoredEvent> read_all(eventstore::EventStore& store, eventstore::EventQuery q) {
  std::vector<eventstore::StoredEvent> out;
  auto reader = store.open_reader(q);
  for (auto page = reader->next(); !page.empty(); page = reader->next())
    for (auto& e : page) out.push_back(std::move(e));
  return out;
}

}  // namespace

std::vector<TraceLine> trace_order(eventstore::EventStore& store, const std::string& client_order_id) {
  std::map<std::int64_t, TraceLine> lines;  // by position
  std::set<std::string> ids{client_order_id}, done, scanned;
  std::multimap<std::string, std::string> replaced_by;  // orig_client_order_id -> the id that replaced it
  while (ids.size() > done.size() && done.size() < kMaxIds) {
    const auto id = *std::find_if(ids.begin(), ids.end(), [&](const auto& i) { return !done.contains(i); });
    done.insert(id);
    std::set<std::string> linked;
    for (const auto& e : read_all(store, {.client_order_id = id})) {
      // Orders that replaced another name it as orig_client_order_id, under their own id:
      // each session's replaces are read once.
      if (e.session_id && scanned.insert(*e.session_id).second)
        for (const auto& r : read_all(store, {.session_id = e.session_id, .type = std::string(core::OrderReplace::kType)}))
          if (const auto c = codec::decode_order_command(r.payload))
            if (const auto* rep = std::get_if<core::OrderReplace>(&*c))
              replaced_by.emplace(rep->orig_client_order_id, rep->client_order_id);
      auto what = describe(e, linked);
      lines.try_emplace(e.position, TraceLine{e.position, e.session_id, e.ts_event, e.subject,
                                              e.client_order_id.value_or(""), std::move(what)});
    }
    for (auto [it, end] = replaced_by.equal_range(id); it != end; ++it) linked.insert(it->second);
    for (const auto& l : linked)
      if (!l.empty()) ids.insert(l);
  }
  std::vector<TraceLine> out;
  for (auto& [pos, l] : lines) out.push_back(std::move(l));
  return out;
}

std::string format_trace(const std::string& client_order_id, const std::vector<TraceLine>& lines,
                         std::string_view store_name) {
  std::set<std::string> chain;
  for (const auto& l : lines)
    if (!l.client_order_id.empty() && l.client_order_id != client_order_id) chain.insert(l.client_order_id);
  std::string out = fmt::format("Order {}{} in the {} store: {} events\n", client_order_id,
                                chain.empty() ? "" : fmt::format(" (with {})", fmt::join(chain, ", ")), store_name,
                                lines.size());
  out += fmt::format("  {:>9}  {:<24}  {:<28}  {:<16}  {}\n", "position", "market time", "subject", "client_order_id",
                     "what");
  for (const auto& l : lines)
    out += fmt::format("  {:>9}  {:<24}  {:<28}  {:<16}  {}\n", l.position,
                       l.ts_event ? core::format_iso8601(*l.ts_event) : std::string("-"), l.subject, l.client_order_id,
                       l.what);
  return out;
}

}  // namespace services
