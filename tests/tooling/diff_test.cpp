// traderctl diff: the first divergence between two sessions, metadata skipped.
#include <catch2/catch.hpp>

#include <optional>
#include <string>

#include <fmt/format.h>

#include "codec/codec.hpp"
#include "tooling/diff.hpp"

namespace {

eventstore::NewEvent ev(int n, std::string session, std::string type, std::string payload) {
  return {.msg_id = fmt::format("EVENTS:{}", n), .subject = type == "quote" ? "market.data.IBM" : "trading.executions",
          .type = std::move(type), .ts_event = 1'000 + n % 100,  // base is a multiple of 100: equal in both sessions
          .payload = std::move(payload),
          .session_id = std::move(session)};
}

/// Session `id`: its metadata (with wall-clock values that differ by run), 50 quotes, 3 reports.
void record(eventstore::EventStore& store, int base, const std::string& id, const std::string& third_report) {
  std::vector<eventstore::NewEvent> batch{
      ev(base, id, "session.started", fmt::format(R"({{"session_id":"{}","ts_wall":{}}})", id, base)),
      ev(base + 1, id, "worker.started", fmt::format(R"({{"instance":"h:{}"}})", base))};
  for (int i = 0; i < 50; ++i) batch.push_back(ev(base + 2 + i, id, "quote", fmt::format(R"({{"bid":"{}"}})", i)));
  batch.push_back(ev(base + 52, id, "execution_report", R"({"exec_id":"a-1"})"));
  batch.push_back(ev(base + 53, id, "execution_report", R"({"exec_id":"a-2"})"));
  batch.push_back(ev(base + 54, id, "execution_report", third_report));
  store.append(batch);
}

}  // namespace

TEST_CASE("diff finds two sessions identical when only their metadata differ", "[diff]") {
  eventstore::MemoryStore store;
  record(store, 0, "a", R"({"exec_id":"a-3","last_px":"1.5"})");
  record(store, 100, "b", R"({"exec_id":"a-3","last_px":"1.5"})");
  const auto d = services::diff_sessions(store, "a", "b");
  CHECK(d.identical);
  CHECK(d.compared == 53);
  CHECK(d.events_a == 53);
  CHECK(d.events_b == 53);
  CHECK_THAT(services::format_diff(d, "a", "b"), Catch::StartsWith("identical: 53 events compared"));
}

TEST_CASE("diff reports the first divergence with both events side by side", "[diff]") {
  eventstore::MemoryStore store;
  record(store, 0, "a", R"({"exec_id":"a-3","last_px":"1.5"})");
  record(store, 100, "b", R"({"exec_id":"a-3","last_px":"1.6"})");
  const auto d = services::diff_sessions(store, "a", "b");
  CHECK_FALSE(d.identical);
  CHECK(d.index == 52);
  CHECK(d.compared == 52);
  CHECK(d.fields == std::vector<std::string>{"payload"});
  REQUIRE(d.at_a);
  REQUIRE(d.at_b);
  CHECK(d.at_a->position == 55);
  CHECK(d.at_b->position == 110);
  const auto text = services::format_diff(d, "a", "b");
  CHECK_THAT(text, Catch::Contains("first divergence at trading event 52"));
  CHECK_THAT(text, Catch::Contains(R"("last_px":"1.5")"));
  CHECK_THAT(text, Catch::Contains(R"("last_px":"1.6")"));
}

TEST_CASE("diff reports a session that stops early", "[diff]") {
  eventstore::MemoryStore store;
  record(store, 0, "a", R"({"exec_id":"a-3"})");
  store.append({ev(60, "a", "execution_report", R"({"exec_id":"a-4"})")});
  record(store, 100, "b", R"({"exec_id":"a-3"})");
  const auto d = services::diff_sessions(store, "a", "b");
  CHECK_FALSE(d.identical);
  CHECK(d.fields == std::vector<std::string>{"missing in b"});
  CHECK(d.events_a == 54);
  CHECK(d.events_b == 53);
  CHECK_FALSE(d.at_b);
  CHECK_THAT(services::format_diff(d, "a", "b"), Catch::Contains("(no more events)"));
}

TEST_CASE("diff of an unknown session says so", "[diff]") {
  eventstore::MemoryStore store;
  record(store, 0, "a", "{}");
  CHECK_THROWS_WITH(services::diff_sessions(store, "a", "zz"), Catch::Contains("unknown session zz"));
}

TEST_CASE("diff accepts parallel reactions to one input in either order, not across inputs", "[diff]") {
  const auto e = [](int n, std::string session, std::string subject, std::string type) {
    return eventstore::NewEvent{.msg_id = fmt::format("E:{}", n), .subject = std::move(subject), .type = type,
                                .ts_event = 5, .payload = fmt::format(R"({{"t":"{}"}})", type),
                                .session_id = std::move(session)};
  };
  eventstore::MemoryStore store;
  store.append({e(1, "a", "market.data.IBM", "quote"), e(2, "a", "performance.metrics", "performance.metrics"),
                e(3, "a", "trading.orders", "order.submit"), e(4, "a", "market.data.IBM", "quote2"),
                e(5, "b", "market.data.IBM", "quote"), e(6, "b", "trading.orders", "order.submit"),
                e(7, "b", "performance.metrics", "performance.metrics"), e(8, "b", "market.data.IBM", "quote2"),
                // c: the order moved past the next quote (a different step): a real divergence
                e(9, "c", "market.data.IBM", "quote"), e(10, "c", "performance.metrics", "performance.metrics"),
                e(11, "c", "market.data.IBM", "quote2"), e(12, "c", "trading.orders", "order.submit")});
  CHECK(services::diff_sessions(store, "a", "b").identical);
  const auto d = services::diff_sessions(store, "a", "c");
  CHECK_FALSE(d.identical);
  CHECK(d.compared == 1);  // the first quote; metrics are compared after the trading events
  CHECK_FALSE(d.metrics);
  CHECK(d.fields == std::vector<std::string>{"missing in b"});
}

namespace {

std::string risk_state(core::TradingState s, core::TradingState prev, std::string source) {
  return codec::encode(core::RiskStateChanged{
      .trading_state = s, .previous_state = prev, .reason = "r", .source = std::move(source), .ts_event = 1'000});
}

std::string risk_policy(std::string source) {
  return codec::encode(core::RiskPolicyChanged{.policy = {}, .reason = "r", .source = std::move(source), .ts_event = 1'000});
}

/// Session `id`: risk-state's first start, 20 quotes, `extra` after the 10th (a restart or a transition), 10 more.
void record_with(eventstore::EventStore& store, int base, const std::string& id,
                 const std::vector<std::pair<std::string, std::string>>& extra,
                 const std::string& first_policy = risk_policy("startup")) {
  using core::TradingState;
  int n = base;
  std::vector<eventstore::NewEvent> batch{
      ev(n++, id, "risk.policy", first_policy),
      ev(n++, id, "risk.state", risk_state(TradingState::active, TradingState::active, "startup"))};
  for (int i = 0; i < 20; ++i) {
    batch.push_back(ev(n++, id, "quote", fmt::format(R"({{"bid":"{}"}})", i)));
    batch.back().ts_event = 1'000 + i;  // the same in every session, whatever was recorded before
    if (i == 9)
      for (const auto& [type, payload] : extra) batch.push_back(ev(n++, id, type, payload));
  }
  store.append(batch);
}

}  // namespace

TEST_CASE("diff orders events by cause and compares causes by position, not by stream sequence", "[diff]") {
  // Two runs of one pipeline: the strategy's order for quote 1 reached the stream after
  // quote 2 in run b, and the stream sequences differ; what each message says is the same.
  const auto e = [](int seq, std::string session, std::string subject, std::string type, std::string payload) {
    return eventstore::NewEvent{.msg_id = fmt::format("SBX{}:{}", session, seq), .subject = std::move(subject),
                                .type = std::move(type), .ts_event = 5, .payload = std::move(payload),
                                .session_id = std::move(session)};
  };
  eventstore::MemoryStore store;
  store.append({e(1, "a", "market.data.IBM", "quote", R"({"q":1})"),
                e(2, "a", "trading.orders", "order.submit", R"({"type":"order.submit","cause_seq":1})"),
                e(3, "a", "market.data.IBM", "quote", R"({"q":2})"),
                e(4, "a", "progress.strategy", "progress", R"({"type":"progress"})"),
                e(5, "a", "trading.orders.approved", "order.submit", R"({"type":"order.submit","cause_seq":2})"),
                e(6, "a", "performance.metrics", "performance.metrics", R"({"type":"performance.metrics","cause_seq":3})")});
  store.append({e(11, "b", "market.data.IBM", "quote", R"({"q":1})"),
                e(12, "b", "market.data.IBM", "quote", R"({"q":2})"),
                e(13, "b", "performance.metrics", "performance.metrics", R"({"type":"performance.metrics","cause_seq":12})"),
                e(14, "b", "trading.orders", "order.submit", R"({"type":"order.submit","cause_seq":11})"),
                e(15, "b", "trading.orders.approved", "order.submit", R"({"type":"order.submit","cause_seq":14})")});
  const auto same = services::diff_sessions(store, "a", "b");
  INFO(services::format_diff(same, "a", "b"));
  CHECK(same.identical);
  CHECK(same.events_a == 5);  // the progress marker is skipped
  CHECK(same.events_b == 5);
  // c: the approval names the wrong cause (the quote, not the order).
  store.append({e(21, "c", "market.data.IBM", "quote", R"({"q":1})"),
                e(22, "c", "trading.orders", "order.submit", R"({"type":"order.submit","cause_seq":21})"),
                e(23, "c", "market.data.IBM", "quote", R"({"q":2})"),
                e(24, "c", "trading.orders.approved", "order.submit", R"({"type":"order.submit","cause_seq":21})"),
                e(25, "c", "performance.metrics", "performance.metrics", R"({"type":"performance.metrics","cause_seq":22})")});
  const auto wrong = services::diff_sessions(store, "a", "c");
  CHECK_FALSE(wrong.identical);
  CHECK_FALSE(wrong.metrics);  // the trading difference is reported first, though the metrics differ too
  CHECK(wrong.fields == std::vector<std::string>{"payload"});
  REQUIRE(wrong.at_b);
  CHECK(wrong.at_b->subject == "trading.orders.approved");

  // f and g: the same, but g has a metrics event without a cause, which sits in the step
  // it arrived in (the first), before quote 2. A metrics difference only: the reference
  // to quote 2 after it (the second order's cause) still compares equal.
  const auto two_orders = [&](std::string session, int base, bool extra_metrics) {
    std::vector<eventstore::NewEvent> v{e(base + 1, session, "market.data.IBM", "quote", R"({"q":1})")};
    if (extra_metrics)
      v.push_back(e(base + 2, session, "performance.metrics", "performance.metrics", R"({"type":"performance.metrics"})"));
    v.push_back(e(base + 3, session, "market.data.IBM", "quote", R"({"q":2})"));
    v.push_back(e(base + 4, session, "trading.orders", "order.submit",
                  fmt::format(R"({{"type":"order.submit","cause_seq":{}}})", base + 3)));
    store.append(v);
  };
  two_orders("f", 40, false);
  two_orders("g", 50, true);
  const auto extra = services::diff_sessions(store, "f", "g");
  INFO(services::format_diff(extra, "f", "g"));
  CHECK_FALSE(extra.identical);
  CHECK(extra.metrics);  // only the metrics differ
}

TEST_CASE("diff places a reaction by its cause however many events later it reached the stream", "[diff]") {
  // 5,000 quotes; an order for quote 4,000. In a it is sent, approved and filled at
  // once; in b the order reaches the stream 50 quotes later, and the approval and the
  // report 900 quotes later, past the 4,096th event (where a reader with upstreams
  // forgets old keys; diff must not).
  const auto e = [](std::uint64_t seq, const std::string& session, std::string subject, std::string type,
                    std::string payload) {
    return eventstore::NewEvent{.msg_id = fmt::format("SBX{}:{}", session, seq), .subject = std::move(subject),
                                .type = std::move(type), .ts_event = 5, .payload = std::move(payload),
                                .session_id = session};
  };
  eventstore::MemoryStore store;
  for (const auto& [session, delay] : std::vector<std::pair<std::string, int>>{{"a", 0}, {"b", 900}}) {
    std::vector<eventstore::NewEvent> v;
    std::uint64_t seq = 0, quote_seq = 0, order_seq = 0, approval_seq = 0;
    for (int q = 1; q <= 5000; ++q) {
      v.push_back(e(++seq, session, "market.data.IBM", "quote", fmt::format(R"({{"q":{}}})", q)));
      if (q == 4000) quote_seq = seq;
      if (q == 4000 + delay / 18) {
        order_seq = ++seq;
        v.push_back(e(order_seq, session, "trading.orders", "order.submit",
                      fmt::format(R"({{"type":"order.submit","cause_seq":{}}})", quote_seq)));
      }
      if (q == 4000 + delay) {
        approval_seq = ++seq;
        v.push_back(e(approval_seq, session, "trading.orders.approved", "order.submit",
                      fmt::format(R"({{"type":"order.submit","cause_seq":{}}})", order_seq)));
        v.push_back(e(++seq, session, "trading.executions", "execution_report",
                      fmt::format(R"({{"type":"execution_report","cause_seq":{}}})", approval_seq)));
      }
    }
    store.append(v);
  }
  const auto d = services::diff_sessions(store, "a", "b");
  INFO(services::format_diff(d, "a", "b"));
  CHECK(d.identical);
  CHECK(d.events_a == 5003);
}

TEST_CASE("diff skips a restarted worker's start-up announcements, not its decisions", "[diff]") {
  using core::TradingState;
  eventstore::MemoryStore store;
  record_with(store, 0, "a", {});
  // b: risk-state restarted after the 10th quote: it announces the state and the kept policy again.
  record_with(store, 100, "b", {{"risk.policy", risk_policy("restored")},
                                {"risk.state", risk_state(TradingState::active, TradingState::active, "startup")}});
  const auto same = services::diff_sessions(store, "a", "b");
  CHECK(same.identical);
  CHECK(same.compared == 20);  // 20 quotes (the policy at the start is compared by content)

  // c: a restart with a changed configuration installs another policy: a difference.
  record_with(store, 200, "c", {{"risk.policy", risk_policy("startup")}});
  const auto changed = services::diff_sessions(store, "a", "c");
  CHECK_FALSE(changed.identical);
  CHECK(changed.fields == std::vector<std::string>{"missing in a"});

  // d: an automatic transition is a decision: a difference.
  record_with(store, 300, "d", {{"risk.state", risk_state(TradingState::halted, TradingState::active, "auto")}});
  const auto transition = services::diff_sessions(store, "a", "d");
  CHECK_FALSE(transition.identical);
  REQUIRE(transition.at_b);
  CHECK(transition.at_b->type == "risk.state");

  CHECK_FALSE(services::is_restart_announcement(
      {.type = "risk.state", .payload = risk_state(TradingState::halted, TradingState::active, "startup")}));
  CHECK_FALSE(services::is_restart_announcement({.type = "risk.state", .payload = "not json"}));
}

TEST_CASE("diff compares the policy a session began with by content, however risk-state announced it", "[diff]") {
  eventstore::MemoryStore store;
  record_with(store, 0, "replay", {});  // a sandbox: a fresh log, so the configured policy is "startup"
  // The live session it replays: risk-state started on a log with history and kept the same policy.
  record_with(store, 100, "live", {}, risk_policy("restored"));
  const auto same = services::diff_sessions(store, "live", "replay");
  CHECK(same.identical);
  CHECK(same.compared == 20);

  // Another configured policy at the start is a difference, reported before anything else.
  core::RiskPolicy tighter;
  tighter.defaults.max_order_qty = core::Decimal::from_int(5);
  record_with(store, 200, "tight", {},
              codec::encode(core::RiskPolicyChanged{.policy = tighter, .reason = "r", .source = "startup", .ts_event = 1'000}));
  const auto other = services::diff_sessions(store, "replay", "tight");
  CHECK_FALSE(other.identical);
  CHECK(other.index == 0);
  CHECK(other.fields == std::vector<std::string>{"the risk policy in force at the start"});
  REQUIRE(other.at_b);
  CHECK(other.at_b->type == "risk.policy");
}
