#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <variant>

#include <fmt/format.h>

#include "codec/codec.hpp"
#include "samples.hpp"

namespace fs = std::filesystem;
using samples::dec;

namespace {

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  REQUIRE(in.good());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

const fs::path kRoot = TRADER_SOURCE_DIR;

/// Which decoder a subject uses.
enum class On { market_data, orders, executions, risk_state, risk_management, performance, heartbeat,
                dead_letter, ops_status, peek, risk_policy, risk_event, instrument_status, corporate_action, session_lifecycle,
                worker_started, progress, feed_summary };

/// Decodes `json` as a message on `on` and returns the error (or "" / "<ok>").
core::Error decode_error(On on, std::string_view json) {
  codec::Decoder d;
  const auto err = [](const auto& r) -> core::Error {
    if (r.ok()) return {"<ok>", "decoded without error"};
    return r.error();
  };
  switch (on) {
    case On::market_data: return err(d.decode_market_data(json));
    case On::orders: return err(d.decode_order_command(json));
    case On::executions: return err(d.decode_execution_report(json));
    case On::risk_state: return err(d.decode_risk_state(json));
    case On::risk_management: return err(d.decode_risk_command(json));
    case On::performance: return err(d.decode_performance(json));
    case On::heartbeat: return err(d.decode_heartbeat(json));
    case On::dead_letter: return err(d.decode_dead_letter(json));
    case On::ops_status: return err(d.decode_ops_status(json));
    case On::peek: return err(d.peek(json));
    case On::risk_policy: return err(d.decode_risk_management(json, core::RiskPolicy{}));
    case On::risk_event: return err(d.decode_risk_event(json));
    case On::instrument_status: return err(d.decode_instrument_status(json));
    case On::corporate_action: return err(d.decode_corporate_action(json));
    case On::session_lifecycle: return err(d.decode_session_lifecycle(json));
    case On::worker_started: return err(d.decode_worker_started(json));
    case On::progress: return err(d.decode_progress(json));
    case On::feed_summary: return err(d.decode_feed_summary(json));
  }
  return {};
}

core::OrderSubmit submit(std::string_view json) {
  auto r = codec::decode_order_command(json);
  INFO(json);
  if (!r.ok()) INFO(r.error().to_string());
  REQUIRE(r.ok());
  REQUIRE(std::holds_alternative<core::OrderSubmit>(*r));
  return std::get<core::OrderSubmit>(*r);
}

template <class T>
void check_round_trip(const T& original, core::Result<T> (codec::Decoder::*decode)(std::string_view)) {
  const std::string json = codec::encode(original);
  INFO(json);
  codec::Decoder d;
  auto back = (d.*decode)(json);
  if (!back.ok()) INFO(back.error().to_string());
  REQUIRE(back.ok());
  CHECK(*back == original);
  CHECK(codec::encode(*back) == json);
}

}  // namespace

// ---- round trips ------------------------------------------------------------------------

TEST_CASE("every market data message survives encode then decode unchanged", "[codec][round-trip]") {
  for (const core::MarketData& m : {core::MarketData{samples::quote_full()}, core::MarketData{samples::quote_fx()},
                                    core::MarketData{samples::trade_full()}, core::MarketData{samples::trade_min()},
                                    core::MarketData{samples::bar_full()}, core::MarketData{samples::bar_daily()}}) {
    check_round_trip(m, &codec::Decoder::decode_market_data);
  }
}

TEST_CASE("order commands survive encode then decode unchanged", "[codec][round-trip]") {
  for (const core::OrderCommand& m : {core::OrderCommand{samples::order_limit()},
                                      core::OrderCommand{samples::order_market()},
                                      core::OrderCommand{samples::order_stop()},
                                      core::OrderCommand{samples::order_stop_limit_gtd()},
                                      core::OrderCommand{samples::cancel()},
                                      core::OrderCommand{samples::replace()},
                                      core::OrderCommand{samples::replace_min()}}) {
    check_round_trip(m, &codec::Decoder::decode_order_command);
  }
}

TEST_CASE("execution reports survive encode then decode unchanged", "[codec][round-trip]") {
  check_round_trip(samples::exec_fill(), &codec::Decoder::decode_execution_report);
  check_round_trip(samples::exec_denied(), &codec::Decoder::decode_execution_report);
  check_round_trip(samples::exec_replaced(), &codec::Decoder::decode_execution_report);
  check_round_trip(samples::exec_fill_commission(), &codec::Decoder::decode_execution_report);
  check_round_trip(samples::exec_cancel_rejected_unknown(), &codec::Decoder::decode_execution_report);
  CHECK(codec::encode(samples::exec_fill_commission()).find(R"(,"commission":"2.77396"})") != std::string::npos);
}

TEST_CASE("stop, stop_limit, gtd and replace fields are written in a fixed order and only when set", "[codec][encode]") {
  CHECK(codec::encode(samples::order_stop()) ==
        R"({"type":"order.submit","v":1,"client_order_id":"manual-stop-1","symbol":"EURUSD","side":"buy",)"
        R"("order_type":"stop","quantity":"100000","time_in_force":"gtc","strategy_id":"","ts_event":0,)"
        R"("stop_price":"1.388"})");
  CHECK(codec::encode(samples::replace_min()) ==
        R"({"type":"order.replace","v":1,"client_order_id":"manual-2b","orig_client_order_id":"manual-2",)"
        R"("ts_event":0})");
  const auto gtd = codec::encode(samples::order_stop_limit_gtd());
  CHECK(gtd.find(R"("time_in_force":"gtd")") != std::string::npos);
  CHECK(gtd.find(R"("expire_time":1399420800000000000)") != std::string::npos);
  CHECK(codec::encode(samples::exec_fill()).find("orig_client_order_id") == std::string::npos);
  CHECK(codec::encode(samples::exec_replaced()).find(R"("orig_client_order_id":"manual-2")") != std::string::npos);
}

TEST_CASE("hand-typed order.replace with only a new price decodes, quantity stays unset", "[codec][decode]") {
  auto r = codec::decode_order_command(
      R"({"type":"order.replace","client_order_id":"manual-2b","orig_client_order_id":"manual-2","limit_price":1.385})");
  REQUIRE(r.ok());
  REQUIRE(std::holds_alternative<core::OrderReplace>(*r));
  const auto& rep = std::get<core::OrderReplace>(*r);
  CHECK(rep.limit_price == dec("1.385"));
  CHECK_FALSE(rep.quantity.has_value());
  CHECK_FALSE(rep.stop_price.has_value());
  CHECK(rep.ts_event == 0);
}

TEST_CASE("risk state, trading state commands and ops messages survive a round trip", "[codec][round-trip]") {
  check_round_trip(samples::risk_state(), &codec::Decoder::decode_risk_state);
  check_round_trip(samples::set_state(), &codec::Decoder::decode_risk_command);
  check_round_trip(samples::heartbeat(), &codec::Decoder::decode_heartbeat);
  check_round_trip(samples::dead_letter(), &codec::Decoder::decode_dead_letter);
  check_round_trip(samples::ops_status(), &codec::Decoder::decode_ops_status);
  check_round_trip(core::OpsStatus{.ts = 5}, &codec::Decoder::decode_ops_status);
}

TEST_CASE("heartbeat log_seq is written only when set and survives a round trip", "[codec][round-trip]") {
  auto hb = samples::heartbeat();
  CHECK(codec::encode(hb).find("log_seq") == std::string::npos);  // 0: not a stream consumer
  hb.log_seq = 9'007'199'254'740'993ULL;                            // beyond a double's exact range
  const auto json = codec::encode(hb);
  CHECK(json.ends_with(R"("ts":1763712005000000000,"log_seq":9007199254740993})"));
  check_round_trip(hb, &codec::Decoder::decode_heartbeat);
  codec::Decoder d;
  auto s = d.decode_heartbeat(R"({"type":"heartbeat","worker":"execution","instance":"h:1","status":"ok","ts":1,"log_seq":"42"})");
  REQUIRE(s);
  CHECK(s->log_seq == 42);
  auto bad = d.decode_heartbeat(R"({"type":"heartbeat","worker":"execution","instance":"h:1","status":"ok","ts":1,"log_seq":-1})");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().field == "log_seq");
}

TEST_CASE("cause_seq is written only when set, survives a round trip and is read by peek", "[codec][round-trip]") {
  auto fill = samples::exec_fill();
  CHECK(codec::encode(fill).find("cause_seq") == std::string::npos);
  fill.cause_seq = 9'007'199'254'740'993ULL;  // beyond a double's exact range
  check_round_trip(fill, &codec::Decoder::decode_execution_report);
  const auto env = codec::peek(codec::encode(fill));
  REQUIRE(env);
  CHECK(env->cause_seq == 9'007'199'254'740'993ULL);
  core::OrderSubmit o{.client_order_id = "s-1", .symbol = "EURUSD", .quantity = dec("1"), .ts_event = 5, .cause_seq = 7};
  CHECK(codec::encode(o).ends_with(R"("ts_event":5,"cause_seq":7})"));
  auto back = codec::decode_order_command(codec::encode(o));
  REQUIRE(back);
  CHECK(std::get<core::OrderSubmit>(*back) == o);
  codec::Decoder d;
  auto bad = d.decode_order_command(R"({"type":"order.cancel","client_order_id":"x","cause_seq":-3})");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().field == "cause_seq");
  CHECK(codec::peek(R"({"type":"order.cancel","cause_seq":"x"})")->cause_seq == 0);  // not a sequence: absent
}

TEST_CASE("progress markers survive a round trip and name their missing field", "[codec][round-trip]") {
  check_round_trip(samples::progress(), &codec::Decoder::decode_progress);
  codec::Decoder d;
  auto bad = d.decode_progress(R"({"type":"progress","worker":"execution","stage":3})");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().field == "root_seq");
}

TEST_CASE("performance metrics and the final report keep their type through a round trip", "[codec][round-trip]") {
  check_round_trip(samples::performance(false), &codec::Decoder::decode_performance);
  check_round_trip(samples::performance(true), &codec::Decoder::decode_performance);
  check_round_trip(samples::performance_empty(), &codec::Decoder::decode_performance);
  CHECK(codec::encode(samples::performance(false)).rfind(R"({"type":"performance.metrics","v":1,)", 0) == 0);
  CHECK(codec::encode(samples::performance(true)).rfind(R"({"type":"performance.report","v":1,)", 0) == 0);
  CHECK(codec::encode(samples::performance_empty()).find(R"("positions":[])") != std::string::npos);
  CHECK(codec::encode(samples::performance(true)).find(R"("gross_notional_traded":"356208","commission":"2.5",)") !=
        std::string::npos);
  CHECK(codec::encode(samples::performance(true)).find(R"("unrealized_pnl":"-7","commission":"1",)") !=
        std::string::npos);
}

TEST_CASE("performance messages recorded before commissions existed decode with commission 0", "[codec][decode]") {
  auto r = codec::decode_performance(
      R"({"type":"performance.report","realized_pnl":"24","unrealized_pnl":"0","total_pnl":"24","peak_pnl":"24",)"
      R"("max_drawdown":"0","gross_notional_traded":"10","fills":1,"orders":1,"orders_denied":0,"orders_rejected":0,)"
      R"("positions":[{"symbol":"EURUSD","quantity":"0","avg_px":"0","mark_px":"1","realized_pnl":"24",)"
      R"("unrealized_pnl":"0","bought_qty":"5","sold_qty":"5"}],"ts_event":1})");
  REQUIRE(r.ok());
  CHECK(r->commission.is_zero());
  CHECK(r->positions.at(0).commission.is_zero());
}

// ---- risk policies and instrument status ------------------------------------------------------

TEST_CASE("risk policies, policy commands and instrument status survive a round trip", "[codec][round-trip]") {
  const auto policy_set = [](std::string_view json) -> core::Result<core::SetRiskPolicy> {
    auto r = codec::decode_risk_management(json, core::RiskPolicy{});
    if (!r) return r.error();
    REQUIRE(std::holds_alternative<core::SetRiskPolicy>(*r));
    return std::get<core::SetRiskPolicy>(*r);
  };
  for (const auto& m : {samples::set_policy(), samples::set_policy_default()}) {
    const auto json = codec::encode(m);
    INFO(json);
    auto back = policy_set(json);
    if (!back) INFO(back.error().to_string());
    REQUIRE(back.ok());
    CHECK(*back == m);
    CHECK(codec::encode(*back) == json);
    CHECK(codec::encode(core::RiskCommand{m}) == json);
  }
  for (const auto& m : {samples::policy_changed(), samples::policy_changed_startup()}) {
    const auto json = codec::encode(m);
    INFO(json);
    auto back = codec::decode_risk_event(json);
    if (!back) INFO(back.error().to_string());
    REQUIRE(back.ok());
    REQUIRE(std::holds_alternative<core::RiskPolicyChanged>(*back));
    CHECK(std::get<core::RiskPolicyChanged>(*back) == m);
  }
  auto state = codec::decode_risk_event(codec::encode(samples::risk_state()));
  REQUIRE(state.ok());
  CHECK(std::get<core::RiskStateChanged>(*state) == samples::risk_state());
  // A per-symbol entry without any override is kept exactly in a risk.policy event.
  core::RiskPolicyChanged empty_entry{.policy = {.per_symbol = {{"MSFT", {}}}}, .source = "startup", .ts_event = 3};
  auto e = codec::decode_risk_event(codec::encode(empty_entry));
  REQUIRE(e.ok());
  CHECK(std::get<core::RiskPolicyChanged>(*e) == empty_entry);
  check_round_trip(samples::instrument_halted(), &codec::Decoder::decode_instrument_status);
  check_round_trip(samples::instrument_trading(), &codec::Decoder::decode_instrument_status);
  check_round_trip(samples::split_ibm(), &codec::Decoder::decode_corporate_action);
  check_round_trip(samples::dividend_spy(), &codec::Decoder::decode_corporate_action);
}

TEST_CASE("a risk policy is written with every limit and null for off", "[codec][encode]") {
  core::RiskPolicyChanged m{.policy = {.defaults = {.max_position = dec("1000"), .max_open_orders = 5},
                                       .per_symbol = {{"IBM", {.max_order_qty = dec("100")}}}},
                            .reason = "r", .source = "manual", .ts_event = 7};
  CHECK(codec::encode(m) ==
        R"({"type":"risk.policy","v":1,"defaults":{"max_order_qty":"1000000","max_order_notional":"10000000",)"
        R"("max_position":"1000","max_gross_exposure":null,"max_open_orders":5,"price_band_bps":null,)"
        R"("max_orders_per_window":0,"rate_window_ns":1000000000,"daily_loss_limit":null,"max_drawdown":null,)"
        R"("drawdown_action":"reducing"},)"
        R"("per_symbol":{"IBM":{"max_order_qty":"100","max_order_notional":null,"max_position":null,)"
        R"("price_band_bps":null}},"reason":"r","source":"manual","ts_event":7})");
  CHECK(codec::encode(core::SetRiskPolicy{.ts_event = 2}).find(R"("per_symbol":{},"reason":"","ts_event":2})") !=
        std::string::npos);
  CHECK(codec::encode(samples::instrument_halted()) ==
        R"({"type":"instrument_status","v":1,"symbol":"IBM","status":"halted","reason":"LULD pause",)"
        R"("ts_event":1381244400000000000})");
}

TEST_CASE("risk.policy.set patches the current policy: present fields change, null switches off", "[codec][decode]") {
  const core::RiskPolicy current = samples::policy_full();
  const auto patch = [&](std::string_view json) {
    INFO(json);
    auto r = codec::decode_risk_management(json, current);
    if (!r) INFO(r.error().to_string());
    REQUIRE(r.ok());
    REQUIRE(std::holds_alternative<core::SetRiskPolicy>(*r));
    return std::get<core::SetRiskPolicy>(*r);
  };
  // Nothing named: the current policy comes back unchanged.
  CHECK(patch(R"({"type":"risk.policy.set","defaults":{}})").policy == current);
  CHECK(patch(R"({"type":"risk.policy.set","per_symbol":{}})").policy == current);

  const auto a = patch(R"({"type":"risk.policy.set","defaults":{"max_position":1500,"price_band_bps":null,)"
                       R"("max_open_orders":null,"max_order_qty":"7.5","rate_window_ms":1500},"reason":"desk","ts_event":"9"})");
  core::RiskPolicy want = current;
  want.defaults.max_position = dec("1500");
  want.defaults.price_band_bps.reset();
  want.defaults.max_open_orders = 0;
  want.defaults.max_order_qty = dec("7.5");
  want.defaults.rate_window_ns = 1'500'000'000;
  CHECK(a.policy == want);
  CHECK(a.reason == "desk");
  CHECK(a.ts_event == 9);

  // Per symbol: patch one field, remove one override, remove a symbol, add a symbol.
  const auto b = patch(R"({"per_symbol":{"BTCUSDT":{"max_order_qty":3,"price_band_bps":null},"IBM":null,)"
                       R"("GBPUSD":{"max_position":"250000"}},"type":"risk.policy.set"})");
  want = current;
  want.per_symbol["BTCUSDT"].max_order_qty = dec("3");
  want.per_symbol["BTCUSDT"].price_band_bps.reset();
  want.per_symbol.erase("IBM");
  want.per_symbol["GBPUSD"] = {.max_position = dec("250000")};
  CHECK(b.policy == want);
  CHECK(b.reason.empty());
  CHECK(b.ts_event == 0);
  // An entry left without any override disappears; removing an unknown symbol is fine.
  const auto c = patch(R"({"type":"risk.policy.set","per_symbol":{"IBM":{"max_position":null},"NOPE":null}})");
  want = current;
  want.per_symbol.erase("IBM");
  CHECK(c.policy == want);
  // Every limit can be set, decimals as strings or numbers; rate_window_ns in ns.
  const auto d = patch(R"({"type":"risk.policy.set","defaults":{"max_order_qty":1,"max_order_notional":"2",)"
                       R"("max_position":3,"max_gross_exposure":"4","max_open_orders":5,"price_band_bps":6.5,)"
                       R"("max_orders_per_window":7,"rate_window_ns":8,"daily_loss_limit":9,"max_drawdown":"10",)"
                       R"("drawdown_action":"reducing"}})");
  CHECK(d.policy.defaults == core::Limits{.max_order_qty = dec("1"), .max_order_notional = dec("2"),
                                          .max_position = dec("3"), .max_gross_exposure = dec("4"),
                                          .max_open_orders = 5, .price_band_bps = dec("6.5"),
                                          .max_orders_per_window = 7, .rate_window_ns = 8,
                                          .daily_loss_limit = dec("9"), .max_drawdown = dec("10"),
                                          .drawdown_action = core::TradingState::reducing});
  CHECK(d.policy.per_symbol == current.per_symbol);
  // Shape only: values that risk::validate refuses (0, negative) still decode.
  CHECK(patch(R"({"type":"risk.policy.set","defaults":{"max_position":0,"daily_loss_limit":-5}})")
            .policy.defaults.daily_loss_limit == dec("-5"));
}

TEST_CASE("risk.policy.set patches drawdown_action: halted or reducing, null resets it to reducing",
          "[codec][decode]") {
  const auto patch = [](std::string_view json, const core::RiskPolicy& current) {
    INFO(json);
    auto r = codec::decode_risk_management(json, current);
    if (!r) INFO(r.error().to_string());
    REQUIRE(r.ok());
    REQUIRE(std::holds_alternative<core::SetRiskPolicy>(*r));
    return std::get<core::SetRiskPolicy>(*r).policy;
  };
  const core::RiskPolicy reducing{.defaults = {.max_drawdown = dec("20")}};
  core::RiskPolicy halted = reducing;
  halted.defaults.drawdown_action = core::TradingState::halted;
  CHECK(patch(R"({"type":"risk.policy.set","defaults":{"drawdown_action":"halted"}})", reducing) == halted);
  CHECK(patch(R"({"type":"risk.policy.set","defaults":{"drawdown_action":"reducing"}})", halted) == reducing);
  CHECK(patch(R"({"type":"risk.policy.set","defaults":{"drawdown_action":null}})", halted) == reducing);
  // Absent: the current action is kept, whatever else changes.
  const auto kept = patch(R"({"type":"risk.policy.set","defaults":{"max_drawdown":"30"}})", halted);
  CHECK(kept.defaults.drawdown_action == core::TradingState::halted);
  CHECK(kept.defaults.max_drawdown == dec("30"));
  // Both spellings survive a round trip in a risk.policy event.
  for (const auto& p : {reducing, halted}) {
    const core::RiskPolicyChanged m{.policy = p, .reason = "r", .source = "manual", .ts_event = 5};
    const auto json = codec::encode(m);
    INFO(json);
    CHECK_THAT(json, Catch::Contains(fmt::format(R"("drawdown_action":"{}")", p.defaults.drawdown_action)));
    auto back = codec::decode_risk_event(json);
    REQUIRE(back.ok());
    CHECK(std::get<core::RiskPolicyChanged>(*back) == m);
  }
}

TEST_CASE("a risk.policy event recorded before drawdown_action existed reads as reducing", "[codec][decode]") {
  auto r = codec::decode_risk_event(
      R"({"type":"risk.policy","v":1,"defaults":{"max_order_qty":"1000000","max_order_notional":"10000000",)"
      R"("max_position":null,"max_gross_exposure":null,"max_open_orders":0,"price_band_bps":null,)"
      R"("max_orders_per_window":0,"rate_window_ns":1000000000,"daily_loss_limit":null,"max_drawdown":"20"},)"
      R"("per_symbol":{},"reason":"","source":"startup","ts_event":1})");
  if (!r) INFO(r.error().to_string());
  REQUIRE(r.ok());
  const auto& p = std::get<core::RiskPolicyChanged>(*r).policy;
  CHECK(p.defaults.drawdown_action == core::TradingState::reducing);
  CHECK(p.defaults.max_drawdown == dec("20"));
}

TEST_CASE("decode_risk_management reads trading_state.set, halt and resume too", "[codec][decode]") {
  const core::RiskPolicy current = samples::policy_full();
  auto h = codec::decode_risk_management(R"({"type":"halt","reason":"news"})", current);
  REQUIRE(h.ok());
  CHECK(std::get<core::SetTradingState>(*h) ==
        core::SetTradingState{.trading_state = core::TradingState::halted, .reason = "news"});
  auto r = codec::decode_risk_management(R"({"type":"resume","trading_state":"halted"})", current);
  REQUIRE(r.ok());
  CHECK(std::get<core::SetTradingState>(*r).trading_state == core::TradingState::active);
  auto s = codec::decode_risk_management(codec::encode(samples::set_state()), current);
  REQUIRE(s.ok());
  CHECK(std::get<core::SetTradingState>(*s) == samples::set_state());
  // The old decoder still refuses the new type: it only knows trading states.
  CHECK_FALSE(codec::decode_risk_command(codec::encode(samples::set_policy())).ok());
}

TEST_CASE("instrument_status defaults reason to empty and ts_event to 0", "[codec][decode]") {
  auto s = codec::decode_instrument_status(R"({"status":"halted","symbol":"BTCUSDT","type":"instrument_status"})");
  REQUIRE(s.ok());
  CHECK(*s == core::InstrumentStatus{.symbol = "BTCUSDT", .status = core::InstrumentState::halted});
  auto p = codec::peek(codec::encode(samples::instrument_halted()));
  REQUIRE(p.ok());
  CHECK(p->type == "instrument_status");
  CHECK(p->ts_event == 1381244400000000000);
}

// ---- sessions (issue 4) -------------------------------------------------------------------

TEST_CASE("session lifecycle messages and worker manifests survive a round trip", "[codec][round-trip]") {
  for (const core::SessionLifecycle& m : {core::SessionLifecycle{samples::session_started_replay()},
                                          core::SessionLifecycle{samples::session_started_live()},
                                          core::SessionLifecycle{samples::session_ended()},
                                          core::SessionLifecycle{samples::session_ended_min()}}) {
    check_round_trip(m, &codec::Decoder::decode_session_lifecycle);
  }
  check_round_trip(samples::worker_started(), &codec::Decoder::decode_worker_started);
  check_round_trip(samples::worker_started_min(), &codec::Decoder::decode_worker_started);
  // Config keys and values are data: escaped on the wire and unescaped again.
  auto odd = samples::worker_started_min();
  odd.config = {{"a\"quoted\" key", "tab\there"}, {"b\\slash", ""}, {"caf\xc3\xa9", "\xe2\x82\xac"}};
  odd.args = {"", "--x"};
  check_round_trip(odd, &codec::Decoder::decode_worker_started);
  std::string buf = "stale";
  codec::encode_into(buf, core::SessionLifecycle{samples::session_ended()});
  CHECK(buf == codec::encode(samples::session_ended()));
}

TEST_CASE("the feed's summary survives a round trip, its line numbers as an array", "[codec][round-trip]") {
  check_round_trip(samples::feed_summary(), &codec::Decoder::decode_feed_summary);
  check_round_trip(samples::feed_summary_min(), &codec::Decoder::decode_feed_summary);
  CHECK(codec::encode(samples::feed_summary_min()) ==
        R"({"type":"feed.summary","v":1,"data_source":"data.csv","format":"trades","published":0,"quotes":0,)"
        R"("trades":0,"bars":0,"bad_rows":0,"dropped":0,"flagged":0,"by_kind":[]})");
  CHECK(codec::encode(samples::feed_summary()).find(R"("by_kind":[{"kind":"non_positive","count":1,"lines":[17]},)"
                                                    R"({"kind":"crossed","count":1,"lines":[29]}])") != std::string::npos);
  const auto bad = [](std::string_view json) { return codec::decode_feed_summary(json).error().to_string(); };
  const std::string head = R"({"type":"feed.summary","data_source":"d.csv","format":"quotes","published":1,)";
  CHECK_THAT(bad(head + R"("by_kind":[{"kind":"crossed","count":1,"lines":[0]}]})"),
             Catch::Contains("by_kind[0].lines[0]: must be a line number >= 1"));
  CHECK_THAT(bad(head + R"("by_kind":[{"kind":"crossed","count":1,"lines":"17"}]})"),
             Catch::Contains("by_kind[0].lines: must be an array of line numbers"));
  CHECK_THAT(bad(head + R"("by_kind":[{"kind":"crossed","lines":[1]}]})"), Catch::Contains("by_kind[0].count"));
  CHECK_THAT(bad(R"({"type":"feed.summary","data_source":"d.csv","format":"quotes","by_kind":[]})"),
             Catch::Contains("published"));
  CHECK_THAT(bad(head + R"("dropped":-1,"by_kind":[]})"), Catch::Contains("dropped: must not be negative"));
}

TEST_CASE("session messages write optional strings only when set, config as an object and args always",
          "[codec][encode]") {
  CHECK(codec::encode(samples::session_started_live()) ==
        R"({"type":"session.started","v":1,"session_id":"live-20251121T075500Z-trader-1","kind":"live",)"
        R"("started_by":"ops","version":"0.4.0","ts_wall":1763711700000000000})");
  CHECK(codec::encode(samples::session_ended_min()) ==
        R"({"type":"session.ended","v":1,"session_id":"live-20251121T075500Z-trader-1","ts_wall":1763740800000000000})");
  CHECK(codec::encode(samples::worker_started_min()) ==
        R"({"type":"worker.started","v":1,"worker":"ops","instance":"trader-1:4180","version":"0.4.0","ts_wall":1,)"
        R"("config":{},"config_hash":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","args":[]})");
  const auto full = codec::encode(samples::worker_started());
  CHECK(full.find(R"("config":{"file":"","heartbeat_ms":"1000","limit":"0","nats_url":"nats://127.0.0.1:4222",)"
                  R"("speed":"600","strategy_params":"{\"fast\":5,\"slow\":20}"},"config_hash":)") != std::string::npos);
  CHECK(full.find(R"("args":["deploy/data/quotes_EURUSD_2014-05-06.csv.gz","caf)") != std::string::npos);
  CHECK(codec::encode(samples::session_started_replay())
            .find(R"("source_session_id":"live-20251121T075500Z-trader-1","data_source":)") != std::string::npos);
  CHECK(codec::encode(samples::session_started_replay())
            .ends_with(R"(,"input_set":"inputs-0123456789abcdef0123456789abcdef"})"));
  CHECK(codec::encode(samples::session_started_live()).find("input_set") == std::string::npos);  // "" is left out
}

TEST_CASE("worker.started sorts config by key, reads absent args as none and accepts ts_wall in a string",
          "[codec][decode]") {
  auto w = codec::decode_worker_started(
      R"({"config_hash":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","type":"worker.started",)"
      R"("worker":"risk-state","instance":"h:1","version":"v1","ts_wall":"1763711700000000000",)"
      R"("config":{"random_seed":"42","daily_loss_limit":"5000","b\u00e9":"x","nats_url":"nats://n:4222"},"future":[1]})");
  INFO((w.ok() ? std::string() : w.error().to_string()));
  REQUIRE(w.ok());
  const std::vector<std::pair<std::string, std::string>> want = {
      {"b\xc3\xa9", "x"}, {"daily_loss_limit", "5000"}, {"nats_url", "nats://n:4222"}, {"random_seed", "42"}};
  // Sorted by key bytes: "b\xc3\xa9" < "daily..." < "nats_url" < "random_seed".
  CHECK(w->config == want);
  CHECK(w->args.empty());
  CHECK(w->ts_wall == 1763711700000000000);
  CHECK(w->data_source.empty());
  CHECK(w->data_sha256.empty());
  // Re-encoded in key order.
  CHECK(codec::encode(*w).find(R"("config":{"bé":"x","daily_loss_limit":"5000","nats_url":"nats://n:4222",)"
                               R"("random_seed":"42"})") != std::string::npos);
}

TEST_CASE("session.lifecycle decodes both types, hand-typed input may leave optional fields out", "[codec][decode]") {
  auto s = codec::decode_session_lifecycle(
      R"({"kind":"backtest","session_id":"bt-1","started_by":"traderctl","version":"dev","ts_wall":5,"type":"session.started"})");
  REQUIRE(s.ok());
  REQUIRE(std::holds_alternative<core::SessionStarted>(*s));
  CHECK(std::get<core::SessionStarted>(*s) ==
        core::SessionStarted{.session_id = "bt-1", .kind = "backtest", .started_by = "traderctl", .version = "dev",
                             .ts_wall = 5});
  auto e = codec::decode_session_lifecycle(R"({"type":"session.ended","session_id":"bt-1","ts_wall":9})");
  REQUIRE(e.ok());
  CHECK(std::get<core::SessionEnded>(*e) == core::SessionEnded{.session_id = "bt-1", .ts_wall = 9});
  // The recorder stores them like any other message: peek finds the type, and no ts_event.
  auto p = codec::peek(codec::encode(samples::session_started_replay()));
  REQUIRE(p.ok());
  CHECK(p->type == "session.started");
  CHECK_FALSE(p->ts_event.has_value());
}

// ---- encoder format ----------------------------------------------------------------------

TEST_CASE("encode writes type first, v second, decimals as strings and omits empty optionals", "[codec][encode]") {
  CHECK(codec::encode(samples::quote_fx()) ==
        R"({"type":"quote","v":1,"symbol":"EURUSD","bid":"1.38742","ask":"1.38755","ts_event":1399334400158000000})");
  CHECK(codec::encode(samples::order_market()) ==
        R"({"type":"order.submit","v":1,"client_order_id":"manual-1","symbol":"BTCUSDT","side":"sell",)"
        R"("order_type":"market","quantity":"0.005","time_in_force":"day","strategy_id":"","ts_event":0})");
  CHECK(codec::encode(samples::cancel()) ==
        R"({"type":"order.cancel","v":1,"client_order_id":"ma_cross-EURUSD-000001","ts_event":1399334402130000000})");
}

TEST_CASE("encode_into reuses the caller's buffer and gives the same bytes as encode", "[codec][encode]") {
  std::string buf = "stale content that must disappear";
  codec::encode_into(buf, samples::trade_full());
  CHECK(buf == codec::encode(samples::trade_full()));
  codec::encode_into(buf, core::MarketData{samples::quote_fx()});
  CHECK(buf == codec::encode(samples::quote_fx()));
}

TEST_CASE("strings are JSON-escaped and invalid UTF-8 becomes U+FFFD", "[codec][encode]") {
  std::string out;
  codec::append_json_string(out, "a\"b\\c\nd\te\x01\x1f/");
  CHECK(out == R"("a\"b\\c\nd\te\u0001\u001f/")");
  out.clear();
  codec::append_json_string(out, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\x88");  // valid UTF-8 is kept
  CHECK(out == "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\x88\"");
  out.clear();
  // lone continuation byte, truncated sequence, overlong '/', UTF-16 surrogate, above U+10FFFF
  codec::append_json_string(out, "x\x80y\xe2\x82z\xc0\xafw\xed\xa0\x80v\xf4\x90\x80\x80");
  CHECK(out == R"("x\ufffdy\ufffd\ufffdz\ufffd\ufffdw\ufffd\ufffd\ufffdv\ufffd\ufffd\ufffd\ufffd")");
}

TEST_CASE("a dead letter carrying invalid UTF-8 still encodes to valid JSON", "[codec][encode]") {
  core::DeadLetter dl{.worker = "feed", .error = "not valid JSON", .payload = "\xff\xfe{", .ts = 1};
  const auto json = codec::encode(dl);
  auto back = codec::decode_dead_letter(json);
  REQUIRE(back.ok());
  CHECK(back->payload == "\xef\xbf\xbd\xef\xbf\xbd{");
}

// ---- golden examples and fixtures ---------------------------------------------------------

TEST_CASE("every golden example in subjects/examples decodes and re-encodes to its fixture", "[codec][golden]") {
  const std::pair<std::string_view, On> kOn[] = {
      {"quote", On::market_data},           {"trade", On::market_data},
      {"bar", On::market_data},             {"order.submit", On::orders},
      {"order.cancel", On::orders},         {"execution_report", On::executions},
      {"order.replace", On::orders},
      {"risk.state", On::risk_state},       {"trading_state.set", On::risk_management},
      {"halt", On::risk_management},        {"resume", On::risk_management},
      {"performance.metrics", On::performance}, {"performance.report", On::performance},
      {"heartbeat", On::heartbeat},         {"dead_letter", On::dead_letter},
      {"ops.status", On::ops_status},
      {"risk.policy.set", On::risk_policy},  {"risk.policy", On::risk_event},
      {"instrument_status", On::instrument_status}, {"corporate_action", On::corporate_action},
      {"session.started", On::session_lifecycle}, {"session.ended", On::session_lifecycle},
      {"worker.started", On::worker_started}, {"progress", On::progress},
      {"feed.summary", On::feed_summary}};
  int seen = 0;
  for (const auto& entry : fs::directory_iterator(kRoot / "subjects" / "examples")) {
    if (entry.path().extension() != ".json") continue;
    const std::string type = entry.path().stem().string();
    const std::string json = read_file(entry.path());
    INFO("example " << entry.path().filename().string());
    const auto it = std::find_if(std::begin(kOn), std::end(kOn), [&](auto& p) { return p.first == type; });
    REQUIRE(it != std::end(kOn));
    const auto e = decode_error(it->second, json);
    INFO(e.to_string());
    CHECK(e.field == "<ok>");
    auto env = codec::peek(json);
    REQUIRE(env.ok());
    CHECK(env->type == type);
    ++seen;

    const fs::path fixture = kRoot / "tests" / "fixtures" / "codec" / (type + ".json");
    if (type == "halt" || type == "resume") {
      CHECK_FALSE(fs::exists(fixture));
      continue;
    }
    REQUIRE(fs::exists(fixture));
    codec::Decoder d;
    std::string again;
    switch (it->second) {
      case On::market_data: again = codec::encode(*d.decode_market_data(json)); break;
      case On::orders: again = codec::encode(*d.decode_order_command(json)); break;
      case On::executions: again = codec::encode(*d.decode_execution_report(json)); break;
      case On::risk_state: again = codec::encode(*d.decode_risk_state(json)); break;
      case On::risk_management: again = codec::encode(*d.decode_risk_command(json)); break;
      case On::performance: again = codec::encode(*d.decode_performance(json)); break;
      case On::heartbeat: again = codec::encode(*d.decode_heartbeat(json)); break;
      case On::dead_letter: again = codec::encode(*d.decode_dead_letter(json)); break;
      case On::ops_status: again = codec::encode(*d.decode_ops_status(json)); break;
      case On::peek: break;
      case On::risk_policy: again = codec::encode(*d.decode_risk_management(json, core::RiskPolicy{})); break;
      case On::risk_event: again = std::visit([](const auto& x) { return codec::encode(x); }, *d.decode_risk_event(json)); break;
      case On::instrument_status: again = codec::encode(*d.decode_instrument_status(json)); break;
      case On::corporate_action: again = codec::encode(*d.decode_corporate_action(json)); break;
      case On::session_lifecycle: again = codec::encode(*d.decode_session_lifecycle(json)); break;
      case On::worker_started: again = codec::encode(*d.decode_worker_started(json)); break;
      case On::progress: again = codec::encode(*d.decode_progress(json)); break;
      case On::feed_summary: again = codec::encode(*d.decode_feed_summary(json)); break;
    }
    CHECK(again == trim(read_file(fixture)));
  }
  CHECK(seen == static_cast<int>(std::size(kOn)));
}

TEST_CASE("the halt and resume examples decode to trading_state.set commands", "[codec][golden]") {
  auto halt = codec::decode_risk_command(read_file(kRoot / "subjects" / "examples" / "halt.json"));
  REQUIRE(halt.ok());
  CHECK(halt->trading_state == core::TradingState::halted);
  CHECK(halt->reason == "news at 14:30");
  auto resume = codec::decode_risk_command(read_file(kRoot / "subjects" / "examples" / "resume.json"));
  REQUIRE(resume.ok());
  CHECK(resume->trading_state == core::TradingState::active);
  CHECK(resume->reason.empty());
}

// ---- lenient input ------------------------------------------------------------------------

TEST_CASE("plain JSON numbers are accepted for decimals and read exactly", "[codec][decode]") {
  const auto o = submit(R"({"type":"order.submit","client_order_id":"m1","symbol":"EURUSD","side":"buy",)"
                        R"("order_type":"limit","quantity":100,"limit_price":1.5})");
  CHECK(o.quantity == dec("100"));
  CHECK(o.limit_price == dec("1.5"));
  // Values a double cannot hold exactly stay exact.
  const auto p = submit(R"({"type":"order.submit","client_order_id":"m2","symbol":"X","side":"sell",)"
                        R"("order_type":"limit","quantity":0.1,"limit_price":92233720368.54775807})");
  CHECK(p.quantity.raw() == 10'000'000);
  CHECK(p.limit_price->raw() == 9'223'372'036'854'775'807);
  auto q = codec::decode_market_data(R"({"type":"quote","symbol":"IBM","bid":180.01,"ask":180.5,"bid_size":200,"ts_event":1})");
  REQUIRE(q.ok());
  CHECK(std::get<core::Quote>(*q).ask == dec("180.5"));
}

TEST_CASE("hand-typed order.submit gets defaults for time_in_force, strategy_id and ts_event", "[codec][decode]") {
  const auto o = submit(R"({"type":"order.submit","client_order_id":"manual-1","symbol":"EURUSD","side":"buy",)"
                        R"("order_type":"market","quantity":"100000"})");
  CHECK(o.time_in_force == core::TimeInForce::day);
  CHECK(o.strategy_id.empty());
  CHECK(o.ts_event == 0);
  CHECK_FALSE(o.limit_price.has_value());
}

TEST_CASE("type may come after other fields, v may be omitted and unknown fields are ignored", "[codec][decode]") {
  const auto o = submit(R"({ "client_order_id" : "m1", "symbol": "EURUSD", "future_field": {"a": [1, {"b": null}]},
                             "side": "sell", "order_type": "limit", "quantity": "1", "limit_price": "2",
                             "note": "x", "type": "order.submit" })");
  CHECK(o.client_order_id == "m1");
  CHECK(o.side == core::Side::sell);
  CHECK(o.limit_price == dec("2"));
  auto c = codec::decode_order_command(R"({"client_order_id":"m1","type":"order.cancel","v":1})");
  REQUIRE(c.ok());
  CHECK(std::get<core::OrderCancel>(*c).client_order_id == "m1");
}

TEST_CASE("timestamps are accepted as integers or integers in strings", "[codec][decode]") {
  auto q = codec::decode_market_data(R"({"type":"quote","symbol":"EURUSD","bid":"1","ask":"2","ts_event":"1399334400158000000","ts_recv":5})");
  REQUIRE(q.ok());
  CHECK(std::get<core::Quote>(*q).ts_event == 1399334400158000000);
  CHECK(std::get<core::Quote>(*q).ts_recv == 5);
}

TEST_CASE("a crossed quote (ask below bid) is valid market data", "[codec][decode]") {
  auto q = codec::decode_market_data(R"({"type":"quote","symbol":"IBM","bid":"180.05","ask":"180.01","ts_event":1})");
  REQUIRE(q.ok());
}

TEST_CASE("escaped strings are unescaped", "[codec][decode]") {
  auto dl = codec::decode_dead_letter(
      R"({"type":"dead_letter","worker":"feed","error":"bad \"x\" \u00e9","payload":"a\nb\u0000","ts":1})");
  REQUIRE(dl.ok());
  CHECK(dl->error == "bad \"x\" \xc3\xa9");
  CHECK(dl->payload == std::string("a\nb\0", 4));  // a payload is somebody's raw bytes: anything goes
}

TEST_CASE("halt and resume shorthands set the trading state, trading_state.set needs it", "[codec][decode]") {
  auto h = codec::decode_risk_command(R"({"type":"halt"})");
  REQUIRE(h.ok());
  CHECK(h->trading_state == core::TradingState::halted);
  auto r = codec::decode_risk_command(R"({"reason":"all clear","type":"resume","ts_event":7})");
  REQUIRE(r.ok());
  CHECK(r->trading_state == core::TradingState::active);
  CHECK(r->reason == "all clear");
  CHECK(r->ts_event == 7);
  auto s = codec::decode_risk_command(R"({"type":"trading_state.set","trading_state":"reducing"})");
  REQUIRE(s.ok());
  CHECK(s->trading_state == core::TradingState::reducing);
}

TEST_CASE("peek reads type, ts_event and client_order_id from any message", "[codec][peek]") {
  auto e = codec::peek(codec::encode(samples::exec_fill()));
  REQUIRE(e.ok());
  CHECK(e->type == "execution_report");
  CHECK(e->ts_event == 1399334403771000000);
  CHECK(e->client_order_id == "ma_cross-EURUSD-000001");
  auto q = codec::peek(R"({"ts_event":"12","type":"something.new","v":9})");
  REQUIRE(q.ok());
  CHECK(q->type == "something.new");
  CHECK(q->ts_event == 12);
  CHECK_FALSE(q->client_order_id.has_value());
  auto bad_ts = codec::peek(R"({"type":"x","ts_event":1.5,"client_order_id":7})");
  REQUIRE(bad_ts.ok());
  CHECK_FALSE(bad_ts->ts_event.has_value());
  CHECK_FALSE(bad_ts->client_order_id.has_value());
}

TEST_CASE("one Decoder decodes many messages of different sizes and results own their data", "[codec][decode]") {
  codec::Decoder d;
  std::vector<core::MarketData> out;
  for (int i = 0; i < 200; ++i) {
    const std::string sym = "S" + std::string(static_cast<std::size_t>(i % 60), 'x');
    core::Quote q{.symbol = sym, .bid = core::Decimal::from_int(i + 1), .ask = core::Decimal::from_int(i + 2),
                  .ts_event = i};
    auto r = d.decode_market_data(codec::encode(q));
    REQUIRE(r.ok());
    out.push_back(std::move(*r));
    if (i % 7 == 0) CHECK_FALSE(d.decode_market_data("{").ok());  // errors do not poison the decoder
  }
  for (int i = 0; i < 200; ++i) {
    const auto& q = std::get<core::Quote>(out[static_cast<std::size_t>(i)]);
    CHECK(q.symbol.size() == static_cast<std::size_t>(1 + i % 60));
    CHECK(q.ts_event == i);
  }
  codec::Decoder moved = std::move(d);
  CHECK(moved.decode_market_data(codec::encode(samples::quote_fx())).ok());
}

// ---- malformed input: exact field and message -----------------------------------------------

namespace {

struct Bad {
  On on;
  std::string_view json;
  std::string_view field;
  std::string_view message;  // substring of the error message
};

constexpr std::string_view kOk = R"("client_order_id":"m1","symbol":"EURUSD","side":"buy","order_type":"market","quantity":"5")";

const Bad kBad[] = {
    // not JSON / not an object
    {On::orders, "", "", "not valid JSON: empty message"},
    {On::orders, "   \n", "", "not valid JSON"},
    {On::orders, "hello", "", "not valid JSON"},
    {On::orders, "{", "", "not valid JSON"},
    {On::orders, R"({"type":"order.cancel","client_order_id":"m1")", "", "not valid JSON"},
    {On::orders, R"({"type":"order.cancel","client_order_id":"m1",})", "", "not valid JSON"},
    {On::orders, R"({"type":"order.cancel" "client_order_id":"m1"})", "", "not valid JSON"},
    {On::orders, R"({"type":"order.cancel","client_order_id":"m1"} trailing)", "", "not valid JSON"},
    {On::orders, R"({"type":"order.cancel","client_order_id":"m1"}{})", "", "not valid JSON"},
    {On::orders, R"({"type":"order.cancel","client_order_id":"m1\x"})", "", "not valid JSON"},
    {On::orders, "{\"type\":\"order.cancel\",\"client_order_id\":\"\xff\"}", "", "not valid JSON"},
    {On::orders, R"([1,2])", "", "must be a JSON object, got an array"},
    {On::orders, R"("order.submit")", "", "must be a JSON object, got a string"},
    {On::orders, R"(42)", "", "must be a JSON object, got a number"},
    {On::orders, R"(null)", "", "must be a JSON object, got null"},
    // type
    {On::orders, R"({"client_order_id":"m1"})", "type", "is required"},
    {On::orders, R"({})", "type", "is required"},
    {On::orders, R"({"type":5})", "type", "must be a string, got 5"},
    {On::orders, R"({"type":"foo"})", "type", R"(unknown message type "foo" on this subject (expected order.submit, order.cancel or order.replace))"},
    {On::orders, R"({"type":"quote","symbol":"X"})", "type", R"(unknown message type "quote" on this subject)"},
    {On::orders, R"({"type":"order.cancel","type":"order.cancel","client_order_id":"m1"})", "type", "appears more than once"},
    {On::market_data, R"({"type":"order.submit"})", "type", "(expected quote, trade or bar)"},
    {On::executions, R"({"type":"order.submit"})", "type", "(expected execution_report)"},
    {On::risk_management, R"({"type":"stop"})", "type", "(expected trading_state.set, halt or resume)"},
    {On::performance, R"({"type":"perf"})", "type", "(expected performance.metrics or performance.report)"},
    // v
    {On::orders, R"({"type":"order.cancel","v":2,"client_order_id":"m1"})", "v", "must be 1"},
    {On::orders, R"({"type":"order.cancel","v":"1","client_order_id":"m1"})", "v", R"(got "1")"},
    // required fields
    {On::orders, R"({"type":"order.submit","symbol":"EURUSD","side":"buy","order_type":"market","quantity":"5"})", "client_order_id", "is required"},
    {On::orders, R"({"type":"order.submit","client_order_id":"m1","symbol":"EURUSD","side":"buy","order_type":"market"})", "quantity", "is required"},
    {On::orders, R"({"type":"order.submit","client_order_id":"m1","symbol":"EURUSD","order_type":"market","quantity":"5"})", "side", "is required"},
    {On::orders, R"({"type":"order.submit","client_order_id":"m1","symbol":"EURUSD","side":"buy","quantity":"5"})", "order_type", "is required"},
    {On::orders, R"({"type":"order.submit","client_order_id":"m1","side":"buy","order_type":"market","quantity":"5"})", "symbol", "is required"},
    {On::orders, R"({"type":"order.cancel"})", "client_order_id", "is required"},
    // decimals
    {On::orders, R"({"type":"order.submit","client_order_id":"m1","symbol":"EURUSD","side":"buy","order_type":"market","quantity":true})", "quantity", "must be a decimal string or number, got true"},
    {On::orders, R"({"type":"order.submit","client_order_id":"m1","symbol":"EURUSD","side":"buy","order_type":"market","quantity":null})", "quantity", "must be a decimal string or number, got null"},
    {On::orders, R"({"type":"order.submit","client_order_id":"m1","symbol":"EURUSD","side":"buy","order_type":"market","quantity":[5]})", "quantity", "must be a decimal string or number, got an array"},
    {On::orders, R"({"type":"order.submit","client_order_id":"m1","symbol":"EURUSD","side":"buy","order_type":"market","quantity":"1.2.3"})", "quantity", R"(must be a decimal with at most 8 fractional digits, got "1.2.3")"},
    {On::orders, R"({"type":"order.submit","client_order_id":"m1","symbol":"EURUSD","side":"buy","order_type":"market","quantity":1e3})", "quantity", "must be a decimal with at most 8 fractional digits, got 1e3"},
    {On::orders, R"({"type":"order.submit","client_order_id":"m1","symbol":"EURUSD","side":"buy","order_type":"market","quantity":"1e3"})", "quantity", R"(got "1e3")"},
    {On::orders, R"({"type":"order.submit","client_order_id":"m1","symbol":"EURUSD","side":"buy","order_type":"market","quantity":0.123456789})", "quantity", "at most 8 fractional digits, got 0.123456789"},
    {On::orders, R"({"type":"order.submit","client_order_id":"m1","symbol":"EURUSD","side":"buy","order_type":"market","quantity":" 5"})", "quantity", R"(got " 5")"},
    {On::orders, R"({"type":"order.submit","client_order_id":"m1","symbol":"EURUSD","side":"buy","order_type":"market","quantity":""})", "quantity", R"(got "")"},
    {On::orders, R"({"type":"order.submit","client_order_id":"m1","symbol":"EURUSD","side":"buy","order_type":"market","quantity":"99999999999"})", "quantity", R"(is out of range (magnitude at most 92233720368.54775807), got "99999999999")"},
    {On::orders, R"({"type":"order.submit","client_order_id":"m1","symbol":"EURUSD","side":"buy","order_type":"market","quantity":01})", "quantity", "got 01"},
    {On::orders, R"({"type":"order.submit","client_order_id":"m1","symbol":"EURUSD","side":"buy","order_type":"market","quantity":"-5"})", "quantity", R"(must be positive, got "-5")"},
    {On::orders, R"({"type":"order.submit","client_order_id":"m1","symbol":"EURUSD","side":"buy","order_type":"market","quantity":0})", "quantity", R"(must be positive, got "0")"},
    // enums
    {On::orders, R"({"type":"order.submit","client_order_id":"m1","symbol":"EURUSD","side":"hold","order_type":"market","quantity":"5"})", "side", R"(must be one of buy|sell, got "hold")"},
    {On::orders, R"({"type":"order.submit","client_order_id":"m1","symbol":"EURUSD","side":"BUY","order_type":"market","quantity":"5"})", "side", R"(got "BUY")"},
    {On::orders, R"({"type":"order.submit","client_order_id":"m1","symbol":"EURUSD","side":1,"order_type":"market","quantity":"5"})", "side", "must be one of buy|sell, got 1"},
    {On::orders, R"({"type":"order.submit","client_order_id":"m1","symbol":"EURUSD","side":"buy","order_type":"trailing_stop","quantity":"5"})", "order_type", R"(must be one of market|limit|stop|stop_limit, got "trailing_stop")"},
    {On::orders, R"({"type":"order.submit","client_order_id":"m1","symbol":"EURUSD","side":"buy","order_type":"market","quantity":"5","time_in_force":"gtx"})", "time_in_force", R"(must be one of day|gtc|ioc|fok|gtd, got "gtx")"},
    // stop price rules (issue 3)
    {On::orders, R"({"type":"order.submit","client_order_id":"m1","symbol":"EURUSD","side":"buy","order_type":"stop","quantity":"5"})", "stop_price", "is required when order_type is stop"},
    {On::orders, R"({"type":"order.submit","client_order_id":"m1","symbol":"EURUSD","side":"buy","order_type":"stop_limit","quantity":"5","limit_price":"1.4"})", "stop_price", "is required when order_type is stop_limit"},
    {On::orders, R"({"type":"order.submit","client_order_id":"m1","symbol":"EURUSD","side":"buy","order_type":"stop_limit","quantity":"5","stop_price":"1.4"})", "limit_price", "is required when order_type is stop_limit"},
    {On::orders, R"({"type":"order.submit","client_order_id":"m1","symbol":"EURUSD","side":"buy","order_type":"market","quantity":"5","stop_price":"1.4"})", "stop_price", R"(must be absent when order_type is market, got "1.4")"},
    {On::orders, R"({"type":"order.submit","client_order_id":"m1","symbol":"EURUSD","side":"buy","order_type":"limit","quantity":"5","limit_price":"1.3","stop_price":"1.4"})", "stop_price", "must be absent when order_type is limit"},
    {On::orders, R"({"type":"order.submit","client_order_id":"m1","symbol":"EURUSD","side":"buy","order_type":"stop","quantity":"5","stop_price":"1.4","limit_price":"1.5"})", "limit_price", "must be absent when order_type is stop"},
    {On::orders, R"({"type":"order.submit","client_order_id":"m1","symbol":"EURUSD","side":"sell","order_type":"stop","quantity":"5","stop_price":"-1.4"})", "stop_price", R"(must be positive, got "-1.4")"},
    {On::orders, R"({"type":"order.submit","client_order_id":"m1","symbol":"EURUSD","side":"sell","order_type":"stop","quantity":"5","stop_price":"abc"})", "stop_price", R"(got "abc")"},
    // expire_time rules (issue 3)
    {On::orders, R"({"type":"order.submit","client_order_id":"m1","symbol":"EURUSD","side":"buy","order_type":"market","quantity":"5","time_in_force":"gtd"})", "expire_time", "is required when time_in_force is gtd"},
    {On::orders, R"({"type":"order.submit","client_order_id":"m1","symbol":"EURUSD","side":"buy","order_type":"market","quantity":"5","expire_time":1399334400000000000})", "expire_time", "must be absent when time_in_force is day, got 1399334400000000000"},
    {On::orders, R"({"type":"order.submit","client_order_id":"m1","symbol":"EURUSD","side":"buy","order_type":"market","quantity":"5","time_in_force":"ioc","expire_time":1})", "expire_time", "must be absent when time_in_force is ioc"},
    {On::orders, R"({"type":"order.submit","client_order_id":"m1","symbol":"EURUSD","side":"buy","order_type":"market","quantity":"5","time_in_force":"gtd","expire_time":"tomorrow"})", "expire_time", R"(must be an integer (ns since the Unix epoch, UTC), got "tomorrow")"},
    {On::orders, R"({"type":"order.submit","client_order_id":"m1","symbol":"EURUSD","side":"buy","order_type":"market","quantity":"5","time_in_force":"gtd","expire_time":-5})", "expire_time", "must not be negative"},
    // order.replace (issue 3)
    {On::orders, R"({"type":"order.replace","client_order_id":"m2","quantity":"5"})", "orig_client_order_id", "is required"},
    {On::orders, R"({"type":"order.replace","orig_client_order_id":"m1","quantity":"5"})", "client_order_id", "is required"},
    {On::orders, R"({"type":"order.replace","client_order_id":"m1","orig_client_order_id":"m1","quantity":"5"})", "client_order_id", R"(must differ from orig_client_order_id (a replace needs a new id), got "m1")"},
    {On::orders, R"({"type":"order.replace","client_order_id":"m2","orig_client_order_id":"m1","quantity":"0"})", "quantity", R"(must be positive, got "0")"},
    {On::orders, R"({"type":"order.replace","client_order_id":"m2","orig_client_order_id":"m1","limit_price":"-1"})", "limit_price", R"(must be positive, got "-1")"},
    {On::orders, R"({"type":"order.replace","client_order_id":"m2","orig_client_order_id":"m1","stop_price":true})", "stop_price", "must be a decimal string or number, got true"},
    {On::orders, R"({"type":"order.replace","client_order_id":"m2","orig_client_order_id":""})", "orig_client_order_id", "must not be empty"},
    {On::orders, R"({"type":"order.replace","client_order_id":"m2","orig_client_order_id":"m1","ts_event":1.5})", "ts_event", "must be an integer"},
    {On::executions, R"({"type":"execution_report","client_order_id":"m1","exec_id":"m1-1","exec_type":"replace","order_status":"new","symbol":"X","side":"buy","order_type":"limit","quantity":"1","last_qty":"0","last_px":"0","cum_qty":"0","leaves_qty":"1","avg_px":"0","ts_event":1})", "exec_type", R"(|replaced|pending_cancel, got "replace")"},
    {On::executions, R"({"type":"execution_report","client_order_id":"m1","exec_id":"m1-1","exec_type":"fill","order_status":"filled","symbol":"X","side":"buy","order_type":"market","quantity":"1","last_qty":"1","last_px":"1","cum_qty":"1","leaves_qty":"0","avg_px":"1","ts_event":1,"commission":"free"})", "commission", R"(got "free")"},
    {On::executions, R"({"type":"execution_report","client_order_id":"m1","exec_id":"m1-1","exec_type":"replaced","order_status":"new","symbol":"X","side":"buy","order_type":"limit","quantity":"1","last_qty":"0","last_px":"0","cum_qty":"0","leaves_qty":"1","avg_px":"0","ts_event":1,"orig_client_order_id":7})", "orig_client_order_id", "must be a string, got 7"},
    // limit price rules
    {On::orders, R"({"type":"order.submit","client_order_id":"m1","symbol":"EURUSD","side":"buy","order_type":"limit","quantity":"5"})", "limit_price", "is required when order_type is limit"},
    {On::orders, R"({"type":"order.submit","client_order_id":"m1","symbol":"EURUSD","side":"buy","order_type":"market","quantity":"5","limit_price":"1.2"})", "limit_price", "must be absent when order_type is market"},
    {On::orders, R"({"type":"order.submit","client_order_id":"m1","symbol":"EURUSD","side":"buy","order_type":"limit","quantity":"5","limit_price":"-1.2"})", "limit_price", R"(must be positive, got "-1.2")"},
    // symbol and client_order_id
    {On::orders, R"({"type":"order.submit","client_order_id":"m1","symbol":"EUR/USD","side":"buy","order_type":"market","quantity":"5"})", "symbol", R"(got "EUR/USD")"},
    {On::orders, R"({"type":"order.submit","client_order_id":"m1","symbol":"market.data.>","side":"buy","order_type":"market","quantity":"5"})", "symbol", "must be 1-64 characters from A-Z a-z 0-9 _ -"},
    {On::orders, R"({"type":"order.submit","client_order_id":"m1","symbol":"","side":"buy","order_type":"market","quantity":"5"})", "symbol", R"(got "")"},
    {On::orders, R"({"type":"order.submit","client_order_id":"m1","symbol":7,"side":"buy","order_type":"market","quantity":"5"})", "symbol", "must be a string, got 7"},
    {On::orders, R"({"type":"order.submit","client_order_id":"","symbol":"EURUSD","side":"buy","order_type":"market","quantity":"5"})", "client_order_id", "must not be empty"},
    {On::orders, R"({"type":"order.cancel","client_order_id":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"})", "client_order_id", "must be at most 64 characters, got 65"},
    {On::orders, R"({"type":"order.cancel","client_order_id":42})", "client_order_id", "must be a string, got 42"},
    // timestamps
    {On::orders, R"({"type":"order.cancel","client_order_id":"m1","ts_event":1.5})", "ts_event", "must be an integer (ns since the Unix epoch, UTC), got 1.5"},
    {On::orders, R"({"type":"order.cancel","client_order_id":"m1","ts_event":"soon"})", "ts_event", R"(got "soon")"},
    {On::orders, R"({"type":"order.cancel","client_order_id":"m1","ts_event":-1})", "ts_event", "must not be negative, got -1"},
    {On::orders, R"({"type":"order.cancel","client_order_id":"m1","ts_event":99999999999999999999})", "ts_event", "must be an integer"},
    {On::market_data, R"({"type":"quote","symbol":"EURUSD","bid":"1","ask":"2"})", "ts_event", "is required"},
    // other subjects
    {On::market_data, R"({"type":"quote","symbol":"EURUSD","ask":"2","ts_event":1})", "bid", "is required"},
    {On::market_data, R"({"type":"trade","symbol":"BTCUSDT","price":"1","size":"1","aggressor_side":"up","ts_event":1})", "aggressor_side", R"(must be one of none|buy|sell, got "up")"},
    {On::market_data, R"({"type":"bar","symbol":"GBPUSD","open":"1","high":"1","low":"1","ts_event":1})", "close", "is required"},
    {On::market_data, R"({"type":"bar","symbol":"GBPUSD","open":"1","high":"1","low":"1","close":"1","price_type":"last","ts_event":1})", "price_type", "must be one of trade|bid|ask|mid"},
    {On::executions, R"({"type":"execution_report","client_order_id":"m1"})", "exec_id", "is required"},
    {On::executions, R"({"type":"execution_report","client_order_id":"m1","exec_id":"m1-1","exec_type":"fill","order_status":"filled","symbol":"","side":"buy","order_type":"market","quantity":"1","last_qty":"1","last_px":"1","cum_qty":"1","leaves_qty":"0","avg_px":"1","ts_event":1})", "symbol", R"(must be 1-64 characters from A-Z a-z 0-9 _ -, got "")"},
    {On::executions, R"({"type":"execution_report","client_order_id":"m1","exec_id":"m1-1","exec_type":"cancel_rejected","order_status":"rejected","symbol":"EUR/USD","side":"buy","order_type":"market","quantity":"0","last_qty":"0","last_px":"0","cum_qty":"0","leaves_qty":"0","avg_px":"0","ts_event":1})", "symbol", R"(got "EUR/USD")"},
    {On::risk_state, R"({"type":"risk.state","trading_state":"paused","previous_state":"active","ts_event":1})", "trading_state", R"(must be one of active|reducing|halted, got "paused")"},
    {On::risk_management, R"({"type":"trading_state.set","reason":"x"})", "trading_state", "is required"},
    {On::risk_management, R"({"type":"trading_state.set","trading_state":"halt"})", "trading_state", R"(got "halt")"},
    {On::risk_management, R"({"type":"halt","reason":5})", "reason", "must be a string, got 5"},
    {On::performance, R"({"type":"performance.metrics","realized_pnl":"0","unrealized_pnl":"0","total_pnl":"0","peak_pnl":"0","max_drawdown":"0","gross_notional_traded":"0","fills":0,"orders":0,"orders_denied":0,"orders_rejected":0,"positions":{},"ts_event":1})", "positions", "must be an array, got an object"},
    {On::performance, R"({"type":"performance.metrics","realized_pnl":"0","unrealized_pnl":"0","total_pnl":"0","peak_pnl":"0","max_drawdown":"0","gross_notional_traded":"0","fills":-1})", "fills", "must not be negative, got -1"},
    {On::performance, R"({"type":"performance.report","positions":[{"symbol":"EURUSD","quantity":"1","avg_px":"1","mark_px":"x"}]})", "positions[0].mark_px", R"(got "x")"},
    {On::performance, R"({"type":"performance.report","positions":[{"symbol":"EURUSD","quantity":"1","avg_px":"1","mark_px":"1","realized_pnl":"0","unrealized_pnl":"0","bought_qty":"1","sold_qty":"0"},{"symbol":"GBPUSD"}]})", "positions[1].quantity", "is required"},
    {On::performance, R"({"type":"performance.report","positions":[3]})", "positions[0]", "must be an object, got 3"},
    {On::performance, R"({"type":"performance.report","commission":"lots"})", "commission", R"(got "lots")"},
    {On::performance, R"({"type":"performance.report","positions":[{"commission":true}]})", "positions[0].commission", "must be a decimal string or number, got true"},
    {On::heartbeat, R"({"type":"heartbeat","worker":"feed","instance":"h:1","status":"ok"})", "ts", "is required"},
    {On::heartbeat, R"({"type":"heartbeat","worker":"feed","instance":"h:1","status":"ok","msgs_in":"many","ts":1})", "msgs_in", R"(must be an integer, got "many")"},
    {On::dead_letter, R"({"type":"dead_letter","worker":"feed","ts":1})", "error", "is required"},
    {On::ops_status, R"({"type":"ops.status","workers":[{"worker":"feed","status":"ok","alive":"yes"}],"ts":1})", "workers[0].alive", R"(must be true or false, got "yes")"},
    {On::ops_status, R"({"type":"ops.status","ts":1})", "workers", "is required"},
    // risk.policy.set (paths name the nested field)
    {On::risk_policy, R"({"type":"risk.policy.set","reason":"nothing"})", "", "needs defaults, per_symbol or per_strategy"},
    {On::risk_policy, R"({"type":"risk.policy.set","default":{"max_position":1}})", "", "needs defaults, per_symbol or per_strategy"},
    {On::risk_policy, R"({"type":"risk.policy.set","defaults":{"max_postion":"1000"}})", "defaults.max_postion", "is not a risk limit (known: max_order_qty, "},
    {On::risk_policy, R"({"type":"risk.policy.set","defaults":{"max_position":"abc"}})", "defaults.max_position", R"(must be a decimal with at most 8 fractional digits, got "abc")"},
    {On::risk_policy, R"({"type":"risk.policy.set","defaults":{"max_position":true}})", "defaults.max_position", "must be a decimal string or number, got true"},
    {On::risk_policy, R"({"type":"risk.policy.set","defaults":{"max_order_qty":null}})", "defaults.max_order_qty", "must not be null (max_order_qty cannot be switched off; set a large value)"},
    {On::risk_policy, R"({"type":"risk.policy.set","defaults":{"max_order_notional":null}})", "defaults.max_order_notional", "must not be null"},
    {On::risk_policy, R"({"type":"risk.policy.set","defaults":{"rate_window_ns":null}})", "defaults.rate_window_ns", "must not be null"},
    {On::risk_policy, R"({"type":"risk.policy.set","defaults":{"max_open_orders":2.5}})", "defaults.max_open_orders", "must be an integer, got 2.5"},
    {On::risk_policy, R"({"type":"risk.policy.set","defaults":{"max_open_orders":"5"}})", "<ok>", ""},
    {On::risk_policy, R"({"type":"risk.policy.set","defaults":{"max_orders_per_window":-1}})", "defaults.max_orders_per_window", "must not be negative, got -1"},
    {On::risk_policy, R"({"type":"risk.policy.set","defaults":{"rate_window_ns":"1s"}})", "defaults.rate_window_ns", R"(must be an integer (nanoseconds), got "1s")"},
    {On::risk_policy, R"({"type":"risk.policy.set","defaults":{"rate_window_ms":0.5}})", "defaults.rate_window_ms", "must be an integer (milliseconds), got 0.5"},
    {On::risk_policy, R"({"type":"risk.policy.set","defaults":{"rate_window_ms":9223372036855}})", "defaults.rate_window_ms", "is out of range, got 9223372036855"},
    {On::risk_policy, R"({"type":"risk.policy.set","defaults":{"rate_window_ns":1000,"rate_window_ms":1}})", "defaults.rate_window_ms", "give rate_window_ns or rate_window_ms, once"},
    {On::risk_policy, R"({"type":"risk.policy.set","defaults":{"max_position":1,"max_position":2}})", "defaults.max_position", "appears more than once"},
    {On::risk_policy, R"({"type":"risk.policy.set","defaults":[1]})", "defaults", "must be an object, got an array"},
    {On::risk_policy, R"({"type":"risk.policy.set","defaults":null})", "defaults", "must be an object, got null"},
    {On::risk_policy, R"({"type":"risk.policy.set","defaults":{},"defaults":{}})", "defaults", "appears more than once"},
    {On::risk_policy, R"({"type":"risk.policy.set","per_symbol":{"IBM":{"max_order_qty":"x"}}})", "per_symbol.IBM.max_order_qty", R"(got "x")"},
    {On::risk_policy, R"({"type":"risk.policy.set","per_symbol":{"IBM":{"max_ordr_qty":1}}})", "per_symbol.IBM.max_ordr_qty", "is not a per-symbol limit (known: max_order_qty, max_order_notional, max_position, price_band_bps)"},
    {On::risk_policy, R"({"type":"risk.policy.set","per_symbol":{"IBM":{"max_drawdown":1}}})", "per_symbol.IBM.max_drawdown", "is not a per-symbol limit"},
    {On::risk_policy, R"({"type":"risk.policy.set","defaults":{"drawdown_action":"active"}})", "defaults.drawdown_action", R"(must be one of reducing|halted, got "active")"},
    {On::risk_policy, R"({"type":"risk.policy.set","defaults":{"drawdown_action":"liquidate"}})", "defaults.drawdown_action", R"(must be one of reducing|halted, got "liquidate")"},
    {On::risk_policy, R"({"type":"risk.policy.set","defaults":{"drawdown_action":"HALTED"}})", "defaults.drawdown_action", R"(got "HALTED")"},
    {On::risk_policy, R"({"type":"risk.policy.set","defaults":{"drawdown_action":2}})", "defaults.drawdown_action", "must be one of reducing|halted, got 2"},
    {On::risk_policy, R"({"type":"risk.policy.set","defaults":{"drawdown_action":"halted","drawdown_action":null}})", "defaults.drawdown_action", "appears more than once"},
    {On::risk_policy, R"({"type":"risk.policy.set","per_symbol":{"IBM":{"drawdown_action":"halted"}}})", "per_symbol.IBM.drawdown_action", "is not a per-symbol limit"},
    {On::risk_policy, R"({"type":"risk.policy.set","defaults":{"drawdown_action":"halted"}})", "<ok>", ""},
    {On::risk_policy, R"({"type":"risk.policy.set","per_symbol":{"IBM":5}})", "per_symbol.IBM", "must be an object, got 5"},
    {On::risk_policy, R"({"type":"risk.policy.set","per_symbol":{"EUR/USD":{}}})", "per_symbol", R"(keys must be symbols (1-64 characters from A-Z a-z 0-9 _ -), got "EUR/USD")"},
    {On::risk_policy, R"({"type":"risk.policy.set","per_symbol":{"IBM":null,"IBM":{}}})", "per_symbol.IBM", "appears more than once"},
    {On::risk_policy, R"({"type":"risk.policy.set","per_symbol":[]})", "per_symbol", "must be an object, got an array"},
    {On::risk_policy, R"({"type":"risk.policy.set","per_symbol":{},"reason":7})", "reason", "must be a string, got 7"},
    {On::risk_policy, R"({"type":"risk.policy","per_symbol":{}})", "type", R"(unknown message type "risk.policy" on this subject (expected trading_state.set, halt, resume or risk.policy.set))"},
    {On::risk_policy, R"({"type":"trading_state.set"})", "trading_state", "is required"},
    // risk.state events
    {On::risk_event, R"({"type":"risk.policy","per_symbol":{},"ts_event":1})", "defaults", "is required"},
    {On::risk_event, R"({"type":"risk.policy","defaults":{"max_order_qty":"1"},"per_symbol":{},"ts_event":1})", "defaults.max_order_notional", "is required"},
    {On::risk_event, R"({"type":"risk.policy","defaults":{"max_order_qty":"1","max_order_notional":"1","max_position":null,"max_gross_exposure":null,"max_open_orders":0,"price_band_bps":null,"max_orders_per_window":0,"rate_window_ns":1,"daily_loss_limit":null,"max_drawdown":null},"per_symbol":{"IBM":null},"ts_event":1})", "per_symbol.IBM", "must be an object, got null"},
    {On::risk_event, R"({"type":"risk.policy","defaults":{"max_order_qty":"1","max_order_notional":"1","max_position":null,"max_gross_exposure":null,"max_open_orders":0,"price_band_bps":null,"max_orders_per_window":0,"rate_window_ns":1,"daily_loss_limit":null,"max_drawdown":null,"drawdown_action":null},"per_symbol":{},"ts_event":1})", "defaults.drawdown_action", "must be one of reducing|halted, got null"},
    {On::risk_event, R"({"type":"risk.policy","defaults":{"max_order_qty":"1","max_order_notional":"1","max_position":null,"max_gross_exposure":null,"max_open_orders":0,"price_band_bps":null,"max_orders_per_window":0,"rate_window_ns":1,"daily_loss_limit":null,"max_drawdown":null,"drawdown_action":"active"},"per_symbol":{},"ts_event":1})", "defaults.drawdown_action", R"(must be one of reducing|halted, got "active")"},
    {On::risk_event, R"({"type":"risk.policy.set","defaults":{}})", "type", "(expected risk.state or risk.policy)"},
    {On::risk_event, R"({"type":"risk.state","trading_state":"halted","previous_state":"on","ts_event":1})", "previous_state", R"(got "on")"},
    // instrument_status
    {On::instrument_status, R"({"type":"instrument_status","symbol":"IBM"})", "status", "is required"},
    {On::instrument_status, R"({"type":"instrument_status","symbol":"IBM","status":"paused"})", "status", R"(must be one of trading|halted, got "paused")"},
    {On::instrument_status, R"({"type":"instrument_status","status":"halted"})", "symbol", "is required"},
    {On::instrument_status, R"({"type":"instrument_status","symbol":"IBM","status":"halted","ts_event":-3})", "ts_event", "must not be negative"},
    {On::instrument_status, R"({"type":"quote","symbol":"IBM","bid":"1","ask":"1","ts_event":1})", "type", "(expected instrument_status)"},
    {On::market_data, R"({"type":"instrument_status","symbol":"IBM","status":"halted"})", "type", "(expected quote, trade or bar)"},
    // corporate_action
    {On::corporate_action, R"({"type":"corporate_action","symbol":"IBM","action":"split","ts_event":1})", "ratio", "is required for a split"},
    {On::corporate_action, R"({"type":"corporate_action","symbol":"IBM","action":"split","ratio":"0","ts_event":1})", "ratio", "must be positive, got \"0\""},
    {On::corporate_action, R"({"type":"corporate_action","symbol":"IBM","action":"split","ratio":"2","amount":"1","ts_event":1})", "amount", "is not allowed for a split"},
    {On::corporate_action, R"({"type":"corporate_action","symbol":"SPY","action":"dividend","ts_event":1})", "amount", "is required for a dividend"},
    {On::corporate_action, R"({"type":"corporate_action","symbol":"SPY","action":"dividend","amount":"-1","ts_event":1})", "amount", "must be positive, got \"-1\""},
    {On::corporate_action, R"({"type":"corporate_action","symbol":"SPY","action":"merger","amount":"1","ts_event":1})", "action", R"(must be one of split|dividend, got "merger")"},
    {On::corporate_action, R"({"type":"corporate_action","symbol":"SPY","action":"split","ratio":"2"})", "ts_event", "is required"},
    {On::corporate_action, R"({"type":"corporate_action","symbol":"SPY","action":"split","ratio":"1e3","ts_event":1})", "ratio", "must be a decimal"},
    // session.lifecycle (issue 4)
    {On::session_lifecycle, R"({"type":"session.started","kind":"live","started_by":"ops","version":"1","ts_wall":1})", "session_id", "is required"},
    {On::session_lifecycle, R"({"type":"session.started","session_id":"s1","started_by":"ops","version":"1","ts_wall":1})", "kind", "is required"},
    {On::session_lifecycle, R"({"type":"session.started","session_id":"s1","kind":"live","version":"1","ts_wall":1})", "started_by", "is required"},
    {On::session_lifecycle, R"({"type":"session.started","session_id":"s1","kind":"live","started_by":"ops","ts_wall":1})", "version", "is required"},
    {On::session_lifecycle, R"({"type":"session.started","session_id":"s1","kind":"live","started_by":"ops","version":"1"})", "ts_wall", "is required"},
    {On::session_lifecycle, R"({"type":"session.started","session_id":"","kind":"live","started_by":"ops","version":"1","ts_wall":1})", "session_id", R"(must be 1-128 characters from A-Z a-z 0-9 _ . : -, got "")"},
    {On::session_lifecycle, R"({"type":"session.started","session_id":"my session","kind":"live","started_by":"ops","version":"1","ts_wall":1})", "session_id", R"(got "my session")"},
    {On::session_lifecycle, R"({"type":"session.started","session_id":"a/b","kind":"live","started_by":"ops","version":"1","ts_wall":1})", "session_id", R"(got "a/b")"},
    {On::session_lifecycle, R"({"type":"session.started","session_id":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx","kind":"live","started_by":"ops","version":"1","ts_wall":1})", "session_id", "must be 1-128 characters"},
    {On::session_lifecycle, R"({"type":"session.started","session_id":7,"kind":"live","started_by":"ops","version":"1","ts_wall":1})", "session_id", "must be a string, got 7"},
    {On::session_lifecycle, R"({"type":"session.started","session_id":"s1","kind":"paper","started_by":"ops","version":"1","ts_wall":1})", "kind", R"(must be one of live|replay|backtest|inputs, got "paper")"},
    {On::session_lifecycle, R"({"type":"session.started","session_id":"s1","kind":"LIVE","started_by":"ops","version":"1","ts_wall":1})", "kind", R"(got "LIVE")"},
    {On::session_lifecycle, R"({"type":"session.started","session_id":"s1","kind":1,"started_by":"ops","version":"1","ts_wall":1})", "kind", "must be one of live|replay|backtest|inputs, got 1"},
    {On::session_lifecycle, R"({"type":"session.started","session_id":"s1","kind":"live","started_by":"","version":"1","ts_wall":1})", "started_by", "must not be empty"},
    {On::session_lifecycle, R"({"type":"session.started","session_id":"s1","kind":"live","started_by":"ops","version":"","ts_wall":1})", "version", "must not be empty"},
    {On::session_lifecycle, R"({"type":"session.started","session_id":"s1","kind":"live","started_by":"ops","version":2,"ts_wall":1})", "version", "must be a string, got 2"},
    {On::session_lifecycle, R"({"type":"session.started","session_id":"s1","kind":"live","started_by":"ops","version":"1","ts_wall":1.5})", "ts_wall", "must be an integer (ns since the Unix epoch, UTC), got 1.5"},
    {On::session_lifecycle, R"({"type":"session.started","session_id":"s1","kind":"live","started_by":"ops","version":"1","ts_wall":-1})", "ts_wall", "must not be negative, got -1"},
    {On::session_lifecycle, R"({"type":"session.started","session_id":"s1","kind":"live","started_by":"ops","version":"1","ts_wall":"now"})", "ts_wall", R"(got "now")"},
    {On::session_lifecycle, R"({"type":"session.started","session_id":"s1","kind":"replay","source_session_id":"","started_by":"ops","version":"1","ts_wall":1})", "source_session_id", R"(must be 1-128 characters from A-Z a-z 0-9 _ . : -, got "")"},
    {On::session_lifecycle, R"({"type":"session.started","session_id":"s1","kind":"replay","source_session_id":"s*","started_by":"ops","version":"1","ts_wall":1})", "source_session_id", R"(got "s*")"},
    {On::session_lifecycle, R"({"type":"session.started","session_id":"s1","kind":"replay","data_source":["f.csv"],"started_by":"ops","version":"1","ts_wall":1})", "data_source", "must be a string, got an array"},
    {On::session_lifecycle, R"({"type":"session.started","session_id":"s1","kind":"live","started_by":"ops","version":"1","ts_wall":1,"reason":null})", "reason", "must be a string, got null"},
    {On::session_lifecycle, R"({"type":"session.started","v":2,"session_id":"s1","kind":"live","started_by":"ops","version":"1","ts_wall":1})", "v", "must be 1"},
    {On::session_lifecycle, R"({"type":"session.ended","session_id":"s1"})", "ts_wall", "is required"},
    {On::session_lifecycle, R"({"type":"session.ended","ts_wall":1})", "session_id", "is required"},
    {On::session_lifecycle, R"({"type":"session.ended","session_id":"s>","ts_wall":1})", "session_id", R"(got "s>")"},
    {On::session_lifecycle, R"({"type":"session.ended","session_id":"s1","ts_wall":1,"reason":5})", "reason", "must be a string, got 5"},
    {On::session_lifecycle, R"({"type":"session.start","session_id":"s1"})", "type", R"(unknown message type "session.start" on this subject (expected session.started or session.ended))"},
    {On::session_lifecycle, R"({"type":"worker.started"})", "type", "(expected session.started or session.ended)"},
    {On::session_lifecycle, R"({"session_id":"s1","ts_wall":1})", "type", "is required"},
    // session.workers.<worker> (issue 4)
    {On::worker_started, R"({"type":"worker.started","instance":"h:1","version":"1","ts_wall":1,"config":{},"config_hash":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"})", "worker", "is required"},
    {On::worker_started, R"({"type":"worker.started","worker":"feed","version":"1","ts_wall":1,"config":{},"config_hash":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"})", "instance", "is required"},
    {On::worker_started, R"({"type":"worker.started","worker":"feed","instance":"h:1","ts_wall":1,"config":{},"config_hash":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"})", "version", "is required"},
    {On::worker_started, R"({"type":"worker.started","worker":"feed","instance":"h:1","version":"1","config":{},"config_hash":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"})", "ts_wall", "is required"},
    {On::worker_started, R"({"type":"worker.started","worker":"feed","instance":"h:1","version":"1","ts_wall":1,"config_hash":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"})", "config", "is required"},
    {On::worker_started, R"({"type":"worker.started","worker":"feed","instance":"h:1","version":"1","ts_wall":1,"config":{}})", "config_hash", "is required"},
    {On::worker_started, R"({"type":"worker.started","worker":"risk state","instance":"h:1","version":"1","ts_wall":1,"config":{},"config_hash":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"})", "worker", R"(must be 1-64 characters from A-Z a-z 0-9 _ -, got "risk state")"},
    {On::worker_started, R"({"type":"worker.started","worker":"feed","instance":"","version":"1","ts_wall":1,"config":{},"config_hash":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"})", "instance", "must not be empty"},
    {On::worker_started, R"({"type":"worker.started","worker":"feed","instance":"h:1","version":"1","ts_wall":"x","config":{},"config_hash":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"})", "ts_wall", R"(must be an integer (ns since the Unix epoch, UTC), got "x")"},
    {On::worker_started, R"({"type":"worker.started","worker":"feed","instance":"h:1","version":"1","ts_wall":1,"config":{"speed":"600","random_seed":42},"config_hash":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"})", "config.random_seed", "must be a string, got 42"},
    {On::worker_started, R"({"type":"worker.started","worker":"feed","instance":"h:1","version":"1","ts_wall":1,"config":{"paper":true},"config_hash":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"})", "config.paper", "must be a string, got true"},
    {On::worker_started, R"({"type":"worker.started","worker":"feed","instance":"h:1","version":"1","ts_wall":1,"config":{"limits":{"max":"1"}},"config_hash":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"})", "config.limits", "must be a string, got an object"},
    {On::worker_started, R"({"type":"worker.started","worker":"feed","instance":"h:1","version":"1","ts_wall":1,"config":{"speed":"1","speed":"2"},"config_hash":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"})", "config.speed", "appears more than once"},
    {On::worker_started, R"({"type":"worker.started","worker":"feed","instance":"h:1","version":"1","ts_wall":1,"config":{"":"x"},"config_hash":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"})", "config", "keys must not be empty"},
    {On::worker_started, R"({"type":"worker.started","worker":"feed","instance":"h:1","version":"1","ts_wall":1,"config":["speed=600"],"config_hash":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"})", "config", "must be an object of strings, got an array"},
    {On::worker_started, R"({"type":"worker.started","worker":"feed","instance":"h:1","version":"1","ts_wall":1,"config":null,"config_hash":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"})", "config", "must be an object of strings, got null"},
    {On::worker_started, R"({"type":"worker.started","worker":"feed","instance":"h:1","version":"1","ts_wall":1,"config":{},"config_hash":"E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"})", "config_hash", R"(must be 64 lowercase hex digits (a SHA-256), got "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855")"},
    {On::worker_started, R"({"type":"worker.started","worker":"feed","instance":"h:1","version":"1","ts_wall":1,"config":{},"config_hash":"e3b0c442"})", "config_hash", R"(got "e3b0c442")"},
    {On::worker_started, R"({"type":"worker.started","worker":"feed","instance":"h:1","version":"1","ts_wall":1,"config":{},"config_hash":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855aa"})", "config_hash", "must be 64 lowercase hex digits"},
    {On::worker_started, R"({"type":"worker.started","worker":"feed","instance":"h:1","version":"1","ts_wall":1,"config":{},"config_hash":"g3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"})", "config_hash", "must be 64 lowercase hex digits"},
    {On::worker_started, R"({"type":"worker.started","worker":"feed","instance":"h:1","version":"1","ts_wall":1,"config":{},"config_hash":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","data_sha256":""})", "data_sha256", R"(must be 64 lowercase hex digits (a SHA-256), got "")"},
    {On::worker_started, R"({"type":"worker.started","worker":"feed","instance":"h:1","version":"1","ts_wall":1,"config":{},"config_hash":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","args":"data.csv"})", "args", R"(must be an array of strings, got "data.csv")"},
    {On::worker_started, R"({"type":"worker.started","worker":"feed","instance":"h:1","version":"1","ts_wall":1,"config":{},"config_hash":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","args":["a.csv",3]})", "args[1]", "must be a string, got 3"},
    {On::worker_started, R"({"type":"worker.started","worker":"feed","instance":"h:1","version":"1","ts_wall":1,"config":{},"config_hash":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","data_source":7})", "data_source", "must be a string, got 7"},
    {On::worker_started, R"({"type":"heartbeat","worker":"feed"})", "type", "(expected worker.started)"},
    {On::peek, R"({"ts_event":1})", "type", "is required"},
    {On::peek, R"({"type":"x"} x)", "", "not valid JSON"},
    {On::peek, R"([])", "", "must be a JSON object"},
    // issue 11: every decoded number is range-checked; identifiers and texts have limits
    {On::market_data, R"({"type":"quote","symbol":"EURUSD","bid":"-5","ask":"-4","ts_event":1})", "bid", R"(must be positive, got "-5")"},
    {On::market_data, R"({"type":"quote","symbol":"EURUSD","bid":"1","ask":0,"ts_event":1})", "ask", R"(must be positive, got "0")"},
    {On::market_data, R"({"type":"quote","symbol":"EURUSD","bid":"90000000000","ask":"92233720368.54775808","ts_event":1})", "ask", "is out of range (magnitude at most 92233720368.54775807)"},
    {On::market_data, R"({"type":"quote","symbol":"EURUSD","bid":"1","ask":"2","bid_size":"-1","ts_event":1})", "bid_size", R"(must not be negative, got "-1")"},
    {On::market_data, R"({"type":"quote","symbol":"EURUSD","bid":"1","ask":"2","ts_event":9223372036854775807})", "ts_event", "must be at most 4102444800000000000 (2100-01-01T00:00:00Z)"},
    {On::market_data, R"({"type":"trade","symbol":"IBM","price":"0","size":"1","ts_event":1})", "price", "must be positive"},
    {On::market_data, R"({"type":"trade","symbol":"IBM","price":"1","size":"-1","ts_event":1})", "size", "must not be negative"},
    {On::market_data, R"({"type":"trade","symbol":"IBM","price":"1","size":"1","trade_id":"a b","ts_event":1})", "trade_id", "must be visible ASCII characters only"},
    {On::market_data, R"({"type":"bar","symbol":"IBM","open":"1","high":"2","low":"-1","close":"1","ts_event":1})", "low", "must be positive"},
    {On::orders, R"({"type":"order.cancel","client_order_id":"a\u0000b"})", "client_order_id", R"(must be visible ASCII characters only (no spaces or control characters), got "a\u0000b")"},
    {On::orders, R"({"type":"order.cancel","client_order_id":"my order"})", "client_order_id", "must be visible ASCII characters only"},
    {On::orders, R"({"type":"order.cancel","client_order_id":"caf\u00e9"})", "client_order_id", "must be visible ASCII characters only"},
    {On::orders, R"({"type":"order.submit",)" R"("client_order_id":"m1","symbol":"EURUSD","side":"buy","order_type":"market","quantity":"5","strategy_id":"x\ty"})", "strategy_id", "must be visible ASCII characters only"},
    {On::orders, R"({"type":"order.submit",)" R"("client_order_id":"m1","symbol":"EURUSD","side":"buy","order_type":"market","quantity":"5","ts_event":4102444800000000001})", "ts_event", "must be at most 4102444800000000000"},
    {On::orders, R"({"type":"order.submit",)" R"("client_order_id":"m1","symbol":"EURUSD","side":"buy","order_type":"market","quantity":"5","time_in_force":"gtd","expire_time":"9223372036854775807"})", "expire_time", "must be at most"},
    {On::executions, R"({"type":"execution_report","client_order_id":"m1","exec_id":"m1-1","exec_type":"fill","order_status":"filled","symbol":"EURUSD","side":"buy","order_type":"market","quantity":"1","last_qty":"-1","last_px":"1","cum_qty":"1","leaves_qty":"0","avg_px":"1","ts_event":1})", "last_qty", "must not be negative"},
    {On::executions, R"({"type":"execution_report","client_order_id":"m1","exec_id":"m1-1","exec_type":"fill","order_status":"filled","symbol":"EURUSD","side":"buy","order_type":"market","quantity":"1","last_qty":"90000000000","last_px":"90000000000","cum_qty":"1","leaves_qty":"0","avg_px":"1","text":"x\u0007","ts_event":1})", "text", "must not contain control characters"},
    {On::risk_management, R"({"type":"halt","reason":"line\nbreak"})", "reason", "must not contain control characters"},
    {On::risk_management, R"({"type":"halt","reason":"\u0085"})", "reason", "must not contain control characters"},
    {On::heartbeat, R"({"type":"heartbeat","worker":"a b","instance":"h:1","status":"ok","ts":1})", "worker", "must be visible ASCII characters only"},
    {On::peek, R"({"type":"order submit"})", "type", "must be visible ASCII characters only"},
};

}  // namespace

TEST_CASE("a 20,000-character client_order_id is refused, and peek leaves it out of the index (issue 11)",
          "[codec][malformed]") {
  const std::string id(20'000, 'x');
  auto r = codec::decode_order_command(R"({"type":"order.cancel","client_order_id":")" + id + R"("})");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().to_string() == "client_order_id: must be at most 64 characters, got 20000");
  auto env = codec::peek(R"({"type":"order.cancel","client_order_id":")" + id + R"("})");
  REQUIRE(env.ok());
  CHECK_FALSE(env->client_order_id.has_value());
  auto nul = codec::peek(R"({"type":"order.cancel","client_order_id":"a\u0000b"})");
  REQUIRE(nul.ok());
  CHECK_FALSE(nul->client_order_id.has_value());
  auto huge_type = codec::peek(R"({"type":")" + id + R"("})");
  REQUIRE_FALSE(huge_type.ok());
  CHECK(huge_type.error().field == "type");
}

TEST_CASE("decimals of accumulated money in a report may go beyond the wire range", "[codec][decode]") {
  core::PerformanceReport rep;
  rep.realized_pnl = mul(*core::Decimal::parse("90000000000"), *core::Decimal::parse("90000000000"));
  rep.total_pnl = rep.realized_pnl;
  auto back = codec::decode_performance(codec::encode(rep));
  REQUIRE(back.ok());
  CHECK(back->realized_pnl.to_string() == "8100000000000000000000");
}

TEST_CASE("malformed inputs are refused with the offending field and a clear message", "[codec][malformed]") {
  // The template of the table's good order is itself fine.
  CHECK(decode_error(On::orders, fmt::format(R"({{"type":"order.submit",{}}})", kOk)).field == "<ok>");
  for (const auto& bad : kBad) {
    INFO("input: " << bad.json);
    const core::Error e = decode_error(bad.on, bad.json);
    INFO("got: {" << e.field << ", " << e.message << "}");
    CHECK(e.field == bad.field);
    CHECK_THAT(e.message, Catch::Contains(std::string(bad.message)));
  }
}

TEST_CASE("error text is Error::to_string's \"field: message\"", "[codec][malformed]") {
  auto r = codec::decode_order_command(fmt::format(R"({{"type":"order.submit",{},"side":"hold"}})", kOk));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().to_string() == R"(side: must be one of buy|sell, got "hold")");
}

TEST_CASE("long bad values are shortened in error messages", "[codec][malformed]") {
  const std::string sym(500, '/');
  auto r = codec::decode_market_data(R"({"type":"quote","symbol":")" + sym + R"(","bid":"1","ask":"1","ts_event":1})");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().field == "symbol");
  CHECK(r.error().message.size() < 160);
  CHECK_THAT(r.error().message, Catch::EndsWith(R"(...")"));
}

TEST_CASE("truncated and mutated messages never crash: every decode is a value or an error", "[codec][malformed]") {
  const std::string inputs[] = {codec::encode(samples::order_limit()), codec::encode(samples::exec_fill()),
                                codec::encode(samples::performance(true)), codec::encode(samples::quote_full()),
                                codec::encode(samples::ops_status()), codec::encode(samples::dead_letter()),
                                codec::encode(samples::worker_started()), codec::encode(samples::session_started_replay())};
  const char kBytes[] = {'"', '\\', '{', '}', '[', ']', ',', ':', '0', '-', 'e', '.', ' ', 'x', '\0', '\x80'};
  std::uint64_t rng = 42;
  const auto next = [&] { return rng = rng * 6364136223846793005ULL + 1442695040888963407ULL, rng >> 33; };
  codec::Decoder d;
  std::size_t ok = 0, errors = 0;
  const auto decode_all = [&](std::string_view s) {
    for (On on : {On::market_data, On::orders, On::executions, On::performance, On::ops_status,
                  On::dead_letter, On::peek, On::session_lifecycle, On::worker_started}) {
      (decode_error(on, s).field == "<ok>" ? ok : errors)++;
    }
    (d.decode_order_command(s).ok() ? ok : errors)++;
  };
  for (const auto& in : inputs) {
    for (std::size_t n = 0; n < in.size(); ++n) decode_all(std::string_view(in).substr(0, n));
    for (int k = 0; k < 300; ++k) {
      std::string m = in;
      for (int flips = 1 + static_cast<int>(next() % 3); flips > 0; --flips) {
        m[next() % m.size()] = kBytes[next() % sizeof kBytes];
      }
      decode_all(m);
    }
  }
  CHECK(errors > 0);
  CHECK(ok > 0);  // some mutations land in values and still decode
}

TEST_CASE("an external strategy's reply: commands in the trading.orders shape and timers, errors naming the path",
          "[codec][strategy]") {
  codec::Decoder dec;
  const auto ok = dec.decode_strategy_reply(
      R"({"commands":[{"type":"order.submit","symbol":"EURUSD","side":"buy","order_type":"limit","quantity":"1000",)"
      R"("limit_price":"1.38700","time_in_force":"day"},{"type":"order.cancel","client_order_id":"s-1",)"
      R"("orig_client_order_id":"s-1","symbol":"EURUSD","side":"buy"}],"timers":[{"at":1399334400000000000,"tag":"x"}]})");
  REQUIRE(ok);
  REQUIRE(ok->commands.size() == 2);
  const auto* submit = std::get_if<core::OrderSubmit>(&ok->commands[0]);
  REQUIRE(submit != nullptr);
  CHECK(submit->client_order_id.empty());  // the host assigns it
  CHECK(submit->limit_price == core::Decimal::parse("1.387"));
  REQUIRE(ok->timers.size() == 1);
  CHECK(ok->timers[0].at == 1399334400000000000);
  CHECK(ok->timers[0].tag == "x");
  CHECK(dec.decode_strategy_reply("{}"));  // nothing to do
  const auto bad = [&](std::string_view json) {
    const auto r = dec.decode_strategy_reply(json);
    REQUIRE_FALSE(r);
    return r.error().field;
  };
  CHECK(bad(R"({"commands":[{"type":"order.submit","symbol":"EURUSD","side":"buy","order_type":"market","quantity":"1"},)"
            R"({"type":"order.submit","symbol":"EURUSD","side":"buy","order_type":"market","quantity":"-5"}]})") ==
        "commands[1].quantity");
  CHECK(bad(R"({"commands":[{"type":"order.teleport"}]})") == "commands[0].type");
  CHECK(bad(R"({"timers":[{"at":"soon"}]})") == "timers[0].at");
  CHECK_FALSE(dec.decode_strategy_reply("not json"));
  CHECK_FALSE(dec.decode_strategy_reply(R"({"commands":{}})"));
}

TEST_CASE("per-strategy limits: risk.policy.set patches them, risk.policy carries them, both round-trip",
          "[codec][strategy]") {
  core::RiskPolicy current;
  auto r = codec::decode_risk_management(
      R"({"type":"risk.policy.set","per_strategy":{"mm":{"max_order_qty":"5000","max_position":10000}}})", current);
  REQUIRE(r);
  auto set = std::get<core::SetRiskPolicy>(*r);
  REQUIRE(set.policy.per_strategy.size() == 1);
  CHECK(set.policy.per_strategy.at("mm").max_order_qty == core::Decimal::parse("5000"));
  CHECK(set.policy.per_strategy.at("mm").max_position == core::Decimal::parse("10000"));
  CHECK_FALSE(set.policy.per_strategy.at("mm").max_order_notional);
  // Encoded with the policy (per_strategy after per_symbol), and read back whole.
  const core::RiskPolicyChanged ev{.policy = set.policy, .reason = "r", .source = "manual", .ts_event = 5};
  const auto json = codec::encode(ev);
  CHECK_THAT(json, Catch::Contains(R"("per_strategy":{"mm":{"max_order_qty":"5000","max_order_notional":null,"max_position":"10000"}})"));
  const auto back = codec::decode_risk_event(json);
  REQUIRE(back);
  CHECK(std::get<core::RiskPolicyChanged>(*back).policy == set.policy);
  // A patch switches one limit off; null removes the strategy's entry.
  current = set.policy;
  r = codec::decode_risk_management(R"({"type":"risk.policy.set","per_strategy":{"mm":{"max_order_qty":null}}})", current);
  REQUIRE(r);
  CHECK_FALSE(std::get<core::SetRiskPolicy>(*r).policy.per_strategy.at("mm").max_order_qty);
  r = codec::decode_risk_management(R"({"type":"risk.policy.set","per_strategy":{"mm":null}})", current);
  REQUIRE(r);
  CHECK(std::get<core::SetRiskPolicy>(*r).policy.per_strategy.empty());
  // Without per_strategy nothing is written (messages before it existed read the same).
  CHECK(codec::encode(core::RiskPolicyChanged{.ts_event = 5}).find("per_strategy") == std::string::npos);
  // Errors name the field.
  const auto bad = [&](std::string_view json) {
    const auto e = codec::decode_risk_management(json, core::RiskPolicy{});
    REQUIRE_FALSE(e);
    return e.error().to_string();
  };
  CHECK_THAT(bad(R"({"type":"risk.policy.set","per_strategy":{"mm":{"price_band_bps":5}}})"),
             Catch::Contains("per_strategy.mm.price_band_bps: is not a per-strategy limit"));
  CHECK_THAT(bad(R"({"type":"risk.policy.set","per_strategy":{"a b":{}}})"), Catch::Contains("keys must be strategy_ids"));
  CHECK_THAT(bad(R"({"type":"risk.policy.set","per_strategy":{"mm":{"max_position":"x"}}})"),
             Catch::Contains("per_strategy.mm.max_position"));
}
