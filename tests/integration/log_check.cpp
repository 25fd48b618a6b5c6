#include "log_check.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <optional>
#include <set>
#include <utility>
#include <variant>

#include "codec/codec.hpp"
#include "core/market_check.hpp"
#include "marketdata/reader.hpp"
#include "matching/paper_broker.hpp"
#include "servers.hpp"
#include "workers/event_time.hpp"

namespace itest {

namespace {
template <class... Ts>
struct overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
overloaded(Ts...) -> overloaded<Ts...>;
}  // namespace

std::vector<core::Quote> ibm_quotes(std::size_t n) {
  std::vector<core::Quote> out;
  marketdata::Reader reader(testsupport::shared_data_dir() + "/quotes_IBM_2013-10-08.csv");
  while (out.size() < n) {
    auto r = reader.next();
    if (!r) break;
    if (*r && std::holds_alternative<core::Quote>(r->value())) out.push_back(std::get<core::Quote>(r->value()));
  }
  return out;
}

LogOutcome check_log(const std::vector<eventstore::StoredEvent>& events, std::size_t submits) {
  LogOutcome out;
  auto& position = out.position;
  auto& latest = out.latest;
  // 1. Every order sent got exactly one decision: approved or denied.
  codec::Decoder dec;
  std::map<std::string, int> sent_ids, decided;
  std::vector<core::ExecutionReport> recorded;  // the broker's reports, in log order
  matching::PaperBroker reference;               // a broker that never crashed, fed the same log
  core::MarketCheck check;                       // what execution does not use (crossed, back in time)
  std::vector<core::ExecutionReport> expected;
  auto take = [&](std::vector<core::ExecutionReport> rs) { expected.insert(expected.end(), rs.begin(), rs.end()); };
  for (const auto& ev : events) {
    if (ev.subject == "trading.orders") {
      auto r = dec.decode_order_command(ev.payload);
      REQUIRE(r);
      if (auto* o = std::get_if<core::OrderSubmit>(&*r)) ++sent_ids[o->client_order_id];
    } else if (ev.subject == "trading.orders.approved") {
      auto r = dec.decode_order_command(ev.payload);
      REQUIRE(r);
      if (auto* o = std::get_if<core::OrderSubmit>(&*r)) ++decided[o->client_order_id];
    } else if (ev.subject == "trading.executions") {
      auto r = dec.decode_execution_report(ev.payload);
      REQUIRE(r);
      if (r->exec_type == core::ExecType::denied) ++decided[r->client_order_id];
      else recorded.push_back(*r);
    }
  }
  // The reference broker reads the log as execution does: in event-time order (each
  // approval right after the input that caused it), not in stream order.
  services::EventTimeOrder order("reference", {}, [](int) { return std::optional<int>{}; });
  std::vector<std::pair<services::EventKey, const eventstore::StoredEvent*>> by_key;
  for (const auto& ev : events) {
    const auto seq = std::stoull(ev.msg_id.substr(ev.msg_id.rfind(':') + 1));
    if (order.note(seq, ev.subject, ev.payload) == services::LogRole::other) continue;
    by_key.emplace_back(*order.key_of(seq), &ev);
  }
  std::sort(by_key.begin(), by_key.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
  for (const auto& [key, ev] : by_key) {
    if (ev->subject == "trading.orders.approved") {
      auto r = dec.decode_order_command(ev->payload);
      REQUIRE(r);
      take(std::visit(overloaded{[&](const core::OrderSubmit& o) { return reference.on_submit(o, o.ts_event); },
                                 [&](const core::OrderCancel& c) { return reference.on_cancel(c, c.ts_event); },
                                 [&](const core::OrderReplace& c) { return reference.on_replace(c, c.ts_event); }},
                      *r));
    } else if (ev->subject == "market.data.IBM") {
      auto r = dec.decode_market_data(ev->payload);
      REQUIRE(r);
      if (!check.check(*r)) take(reference.on_quote(std::get<core::Quote>(*r)));
    }
  }
  REQUIRE(sent_ids.size() == submits);
  for (const auto& [id, n] : sent_ids) {
    INFO(id);
    CHECK(n == 1);
    CHECK(decided[id] == 1);
  }

  // 2. The reports equal those of a broker that never crashed, one by one, in order:
  //    nothing lost, nothing twice, the same fills at the same prices.
  if (recorded.size() != expected.size()) {  // say where they part: the first report that differs
    std::size_t i = 0;
    for (; i < std::min(recorded.size(), expected.size()); ++i) {
      auto r = recorded[i];
      r.cause_seq = 0;
      if (codec::encode(r) != codec::encode(expected[i])) break;
    }
    INFO("first difference at report " << i << ": recorded "
                                      << (i < recorded.size() ? codec::encode(recorded[i]) : std::string("(none)"))
                                      << "\nexpected " << (i < expected.size() ? codec::encode(expected[i]) : "(none)"));
    REQUIRE(recorded.size() == expected.size());
  }
  for (std::size_t i = 0; i < recorded.size(); ++i) {
    INFO("report " << i);
    CHECK(recorded[i].cause_seq != 0);  // every report names its cause (the reference broker knows none)
    auto r = recorded[i];
    r.cause_seq = 0;
    REQUIRE(codec::encode(r) == codec::encode(expected[i]));
  }

  // 3. Invariants over the recorded reports; positions from the fills.
  std::set<std::string> exec_ids;
  std::map<std::string, core::Quantity> filled;  // by client_order_id
  for (const auto& r : recorded) {
    latest[r.client_order_id] = r;
    if (r.exec_type == core::ExecType::replaced && r.orig_client_order_id) latest.erase(*r.orig_client_order_id);
    CHECK(exec_ids.insert(r.exec_id).second);
    CHECK(r.cum_qty <= r.quantity);
    if (!core::is_terminal(r.order_status)) CHECK(r.cum_qty + r.leaves_qty == r.quantity);
    if (r.last_qty.is_zero()) continue;
    filled[r.client_order_id] = filled[r.client_order_id] + r.last_qty;
    CHECK(filled[r.client_order_id] <= r.cum_qty);
    position = r.side == core::Side::buy ? position + r.last_qty : position - r.last_qty;
  }

  out.reports = recorded.size();
  return out;
}


}  // namespace itest
