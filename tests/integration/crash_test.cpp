// State from events: execution and risk-state are killed with SIGKILL in the
// middle of a busy real-data session and restarted. Afterwards no order is lost,
// none is filled twice, every report equals what a crash-free broker makes of the
// same log, and risk-state's rebuilt position and trading state are the true ones.
#include <catch2/catch.hpp>

#include <atomic>
#include <map>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "codec/codec.hpp"
#include "core/market_check.hpp"
#include "marketdata/reader.hpp"
#include "matching/paper_broker.hpp"
#include "natsio/log_publisher.hpp"
#include "workers/event_time.hpp"
#include "stack.hpp"

namespace {

using namespace std::chrono_literals;

/// The first `n` quotes of the real IBM file (displayed sizes: orders fill partly).
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

/// Hand-typed order JSON (no ts_event: risk-state stamps it), cycling through
/// the order types and times in force, with cancels and replaces of earlier orders.
std::string order_json(int k, const core::Quote& q) {
  const auto id = fmt::format("k-{}", k);
  const auto bid = q.bid.to_string(), ask = q.ask.to_string();
  switch (k % 8) {
    case 0: return fmt::format(R"({{"type":"order.submit","client_order_id":"{}","symbol":"IBM","side":"buy","order_type":"market","quantity":"300","time_in_force":"ioc"}})", id);
    case 1: return fmt::format(R"({{"type":"order.submit","client_order_id":"{}","symbol":"IBM","side":"sell","order_type":"limit","quantity":"200","limit_price":"{}","time_in_force":"day"}})", id, ask);
    case 2: return fmt::format(R"({{"type":"order.submit","client_order_id":"{}","symbol":"IBM","side":"sell","order_type":"market","quantity":"700","time_in_force":"day"}})", id);
    case 3: return fmt::format(R"({{"type":"order.submit","client_order_id":"{}","symbol":"IBM","side":"buy","order_type":"limit","quantity":"500","limit_price":"{}","time_in_force":"gtc"}})", id, bid);
    case 4: return fmt::format(R"({{"type":"order.cancel","client_order_id":"k-{}"}})", k - 3);
    case 5: return fmt::format(R"({{"type":"order.replace","client_order_id":"{}","orig_client_order_id":"k-{}","quantity":"800"}})", id, k - 2);
    case 6: return fmt::format(R"({{"type":"order.submit","client_order_id":"{}","symbol":"IBM","side":"buy","order_type":"stop","quantity":"100","stop_price":"{}","time_in_force":"gtc"}})", id, ask);
    default: return fmt::format(R"({{"type":"order.submit","client_order_id":"{}","symbol":"IBM","side":"sell","order_type":"limit","quantity":"400","limit_price":"{}","time_in_force":"fok"}})", id, bid);
  }
}

template <class... Ts>
struct overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
overloaded(Ts...) -> overloaded<Ts...>;

/// Publishes `quotes` on market.data.IBM (as the feed would) and, after every 15th, an
/// order command (as a strategy would), about 1,000 quotes a second; `sent` counts the
/// quotes published so far. As the workers do (services::NatsBus), it publishes through a
/// natsio::LogPublisher: each message is confirmed by the event stream, and sent again
/// until it is.
void drive(const itest::Stack& stack, const std::vector<core::Quote>& quotes, std::atomic<std::size_t>& sent) {
  natsio::Connection feed({.url = stack.nats_url(), .name = "test-feed"});
  natsio::LogPublisher log(feed);
  int orders = 0;
  for (std::size_t i = 0; i < quotes.size(); ++i) {
    REQUIRE(log.publish("market.data.IBM", codec::encode(quotes[i])));
    if (i % 15 == 7) REQUIRE(log.publish("trading.orders", order_json(orders++, quotes[i])));
    sent = i + 1;
    std::this_thread::sleep_for(1ms);  // about 1,000 quotes a second with ~65 orders
  }
  REQUIRE(log.flush(60'000));
}

/// What the log of a session driven by drive() must show, however its workers or nodes
/// failed on the way (checks 1-3), and what it adds up to: the position and each order's
/// newest report.
struct LogOutcome {
  core::Quantity position;
  std::map<std::string, core::ExecutionReport> latest;  // by client_order_id: its newest report
};

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
  REQUIRE(recorded.size() == expected.size());
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

  return out;
}

}  // namespace

TEST_CASE("execution and risk-state killed mid-session lose no order, fill none twice and rebuild the same state",
          "[integration][crash]") {
  itest::nats_library();
  itest::Stack stack(std::vector<std::pair<std::string, std::string>>{{"RISK_MAX_POSITION", "1000000"}});
  itest::Tap tap(stack.nats_url());
  stack.start({"recorder", "ops", "risk-state", "execution", "reporter"});

  const auto quotes = ibm_quotes(6'000);
  REQUIRE(quotes.size() == 6'000);
  std::atomic<std::size_t> sent{0};
  std::thread driver([&] { drive(stack, quotes, sent); });
  // SIGKILL each worker while quotes and orders flow; orders keep arriving while it is down.
  while (sent < 1'500) std::this_thread::sleep_for(10ms);
  stack.worker("execution").kill_hard();
  std::this_thread::sleep_for(300ms);
  stack.restart("execution");
  while (sent < 3'500) std::this_thread::sleep_for(10ms);
  stack.worker("risk-state").kill_hard();
  std::this_thread::sleep_for(300ms);
  stack.restart("risk-state");
  driver.join();
  REQUIRE(stack.run({itest::bin("traderctl"), "wait-idle", "--quiet-ms", "1000", "--timeout-s", "120"}) == 0);
  CHECK_THAT(stack.worker("execution").log(), Catch::Contains("rebuilt from"));
  CHECK_THAT(stack.worker("risk-state").log(), Catch::Contains("rebuilt from"));

  eventstore::PgStore store(stack.reader_url());
  itest::wait_recorded(stack, store);
  const auto [position, latest] = check_log(itest::read_all(store), 300);  // 400 commands, 6 in 8 of them submits

  // 4. The reporter (never killed) holds the same position.
  natsio::Connection person({.url = stack.nats_url("operator"), .name = "person"});
  CHECK_THAT(person.request("ops.report", "", 5000),
             Catch::Contains(fmt::format(R"("symbol":"IBM","quantity":"{}")", position.to_string())));

  // 5. Risk-state's rebuilt position and working orders are the true ones: with
  //    max_position set to |position| + 1 by a run-time policy update, 2 more units
  //    the same way are denied, naming exactly position + working orders on that side
  //    +/- 2 (risk counts working orders, issue 11; works for a flat position too).
  core::Quantity working_buy, working_sell;  // leaves of the orders still open, from the recorded reports
  for (const auto& [id, r] : latest)
    if (!core::is_terminal(r.order_status)) (r.side == core::Side::buy ? working_buy : working_sell) += r.leaves_qty;
  const auto one = core::Decimal::from_int(1), two = core::Decimal::from_int(2);
  const auto limit = abs(position) + one;
  const auto update = person.request(
      "risk.management",
      fmt::format(R"({{"type":"risk.policy.set","defaults":{{"max_position":"{}"}},"reason":"cap at the position"}})",
                  limit.to_string()),
      5000);
  CHECK_THAT(update, Catch::Contains(R"("type":"risk.policy")") && Catch::Contains(R"("source":"manual")"));
  const bool short_pos = position.is_negative();
  const auto denied = person.request(
      "trading.orders",
      fmt::format(R"({{"type":"order.submit","client_order_id":"after-1","symbol":"IBM","side":"{}","order_type":"market","quantity":"2"}})",
                  short_pos ? "sell" : "buy"),
      5000);
  const auto working = short_pos ? working_sell : working_buy;
  const auto after = short_pos ? position - working - two : position + working + two;
  INFO("position " << position.to_string() << ", working buy " << working_buy.to_string() << ", sell "
                   << working_sell.to_string());
  CHECK_THAT(denied, Catch::Contains(R"("exec_type":"denied")") &&
                         Catch::Contains(fmt::format("max_position: position {}after fill {} exceeds limit {}",
                                                     working.is_zero() ? "" : "with working orders ",
                                                     after.to_string(), limit.to_string())));
}

TEST_CASE("a halt and a run-time policy survive a risk-state SIGKILL", "[integration][crash]") {
  itest::nats_library();
  itest::Stack stack;
  itest::Tap tap(stack.nats_url());
  stack.start({"recorder", "ops", "risk-state", "execution"});
  natsio::Connection person({.url = stack.nats_url("operator"), .name = "person"});
  natsio::Connection feed({.url = stack.nats_url("feed"), .name = "feed"});
  feed.publish("market.data.EURUSD",
               R"({"type":"quote","symbol":"EURUSD","bid":"1.38742","ask":"1.38755","ts_event":1399334400158000000})");
  feed.flush();
  const auto policy = person.request(
      "risk.management", R"({"type":"risk.policy.set","defaults":{"max_order_qty":"5000"},"reason":"desk limit"})", 5000);
  CHECK_THAT(policy, Catch::Contains(R"("max_order_qty":"5000")"));
  const auto halt = person.request("risk.management",
                                   R"({"type":"trading_state.set","trading_state":"halted","reason":"desk halt"})", 5000);
  CHECK_THAT(halt, Catch::Contains(R"("trading_state":"halted")"));
  {
    eventstore::PgStore store(stack.reader_url());
    itest::wait_recorded(stack, store);  // the halt is in the store before the kill
  }

  stack.worker("risk-state").kill_hard();
  stack.restart("risk-state");
  INFO(stack.worker("risk-state").log());
  const auto denied = person.request(
      "trading.orders",
      R"({"type":"order.submit","client_order_id":"h-1","symbol":"EURUSD","side":"buy","order_type":"market","quantity":"1000"})",
      5000);
  CHECK_THAT(denied, Catch::Contains(R"("exec_type":"denied")") && Catch::Contains("trading halted: desk halt"));
  // The restart announced the restored state and policy on risk.state.
  CHECK_FALSE(tap.wait_for("risk.state", {R"("source":"restored")", R"("max_order_qty":"5000")"}).empty());

  person.request("risk.management", R"({"type":"resume","reason":"all clear"})", 5000);
  const auto too_big = person.request(
      "trading.orders",
      R"({"type":"order.submit","client_order_id":"h-2","symbol":"EURUSD","side":"buy","order_type":"market","quantity":"6000"})",
      5000);
  CHECK_THAT(too_big, Catch::Contains("max_order_qty: quantity 6000 exceeds limit 5000"));
  // An identical resend is not executed twice: the sender is told, nothing is forwarded.
  const std::string ok = R"({"type":"order.submit","client_order_id":"h-3","symbol":"EURUSD","side":"buy","order_type":"market","quantity":"1000"})";
  CHECK_THAT(person.request("trading.orders", ok, 5000), Catch::Contains(R"("type":"order.submit")"));
  CHECK_THAT(person.request("trading.orders", ok, 5000), Catch::Contains("resend of h-3"));

  // The resend was answered when it came (a dead letter, in the log): a restart does not
  // decide it again, nor answer it a second time.
  {
    eventstore::PgStore store(stack.reader_url());
    itest::wait_recorded(stack, store);
  }
  stack.worker("risk-state").kill_hard();
  stack.restart("risk-state");
  {
    const auto log = stack.worker("risk-state").log();
    const auto last_start = log.substr(log.rfind("rebuilt from"));
    INFO(last_start);
    CHECK(last_start.find("; 0 orders decided late") != std::string::npos);
  }
  CHECK(person.request("trading.orders",
                       R"({"type":"order.submit","client_order_id":"h-4","symbol":"EURUSD","side":"buy","order_type":"market","quantity":"1"})",
                       5000)
            .find(R"("type":"order.submit")") != std::string::npos);  // everything before it was handled
  int resend_answers = 0;
  for (const auto& m : tap.messages())
    resend_answers += m.subject == "ops.dead_letter" && m.data.find("resend of h-3") != std::string::npos;
  CHECK(resend_answers == 1);
}

TEST_CASE("the whole stack runs on a 3-node NATS cluster with an R3 event stream: every event of a real-data "
          "session is recorded once and the reports equal a reference broker's",
          "[integration][cluster]") {
  itest::nats_library();
  itest::Stack stack(3, {{"RISK_MAX_POSITION", "1000000"}});
  stack.start({"recorder", "ops", "risk-state", "execution", "reporter"});
  natsio::Connection admin({.url = stack.nats_url(), .name = "test-admin"});
  const auto st = natsio::JetStream(admin).stream_state("EVENTS");
  CHECK(st.replicas == 3);
  CHECK(stack.cluster().index_of(st.leader) >= 0);

  const auto quotes = ibm_quotes(3'000);
  REQUIRE(quotes.size() == 3'000);
  std::atomic<std::size_t> sent{0};
  drive(stack, quotes, sent);
  REQUIRE(stack.run({itest::bin("traderctl"), "wait-idle", "--quiet-ms", "1000", "--timeout-s", "120"}) == 0);
  eventstore::PgStore store(stack.reader_url());
  itest::wait_recorded(stack, store);
  const auto events = itest::read_all(store);
  std::size_t stored_quotes = 0;
  std::set<std::string> msg_ids;
  for (const auto& ev : events) {
    stored_quotes += ev.subject == "market.data.IBM";
    CHECK(msg_ids.insert(ev.msg_id).second);
  }
  CHECK(stored_quotes == quotes.size());
  check_log(events, 150);  // 200 commands, 6 in 8 of them submits
  CHECK(store.verify().ok);
  // Every worker is ok (each connected to a node it picked at random from the list).
  std::string status;
  CHECK(stack.run({itest::bin("traderctl"), "status"}, &status) == 0);
  INFO(status);
}

TEST_CASE("on a 3-node NATS cluster, SIGKILL of the event stream's leader mid-session loses no event, doubles none, "
          "and every worker and the recorder carry on",
          "[integration][crash][cluster]") {
  itest::nats_library();
  itest::Stack stack(3, {{"RISK_MAX_POSITION", "1000000"}});
  stack.start({"recorder", "ops", "risk-state", "execution", "reporter"});
  natsio::Connection admin({.url = stack.nats_url(), .name = "test-admin"});
  natsio::JetStream js(admin);
  REQUIRE(js.stream_state("EVENTS").replicas == 3);

  const auto quotes = ibm_quotes(6'000);
  REQUIRE(quotes.size() == 6'000);
  std::atomic<std::size_t> sent{0};
  std::thread driver([&] { drive(stack, quotes, sent); });
  while (sent < 2'000) std::this_thread::sleep_for(10ms);
  const std::string leader = js.stream_state("EVENTS").leader;
  const int node = stack.cluster().index_of(leader);
  REQUIRE(node >= 0);
  stack.cluster().kill(node);
  driver.join();
  // A worker whose ordered consumer died with the leader sits still until its watchdog
  // makes a new one (event_log.cpp: a few seconds), which counts as quiet: wait for a
  // longer quiet than that.
  REQUIRE(stack.run({itest::bin("traderctl"), "wait-idle", "--quiet-ms", "15000", "--timeout-s", "180"}) == 0);

  eventstore::PgStore store(stack.reader_url());
  itest::wait_recorded(stack, store);
  const auto events = itest::read_all(store);
  std::size_t stored_quotes = 0;
  for (const auto& ev : events) stored_quotes += ev.subject == "market.data.IBM";
  // Every worker carried on (none died or was restarted), and the stack is ok.
  for (const auto* w : {"recorder", "ops", "risk-state", "execution", "reporter"}) {
    INFO(w);
    CHECK(stack.worker(w).running());
  }
  std::string status;
  CHECK(stack.run({itest::bin("traderctl"), "status"}, &status) == 0);
  INFO(status);
  CHECK(stored_quotes == quotes.size());
  CHECK(store.verify().ok);
  check_log(events, 300);  // 400 commands, 6 in 8 of them submits
  // The killed node comes back and catches up; the stack is whole again.
  stack.cluster().start(node);
  CHECK(stack.cluster().wait_healthy(node));
}
