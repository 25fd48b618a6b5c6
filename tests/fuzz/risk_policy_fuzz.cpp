// Fuzz harness "risk_policy": the run-time risk-policy patch as risk-state applies
// it (docs/fuzzing.md): codec decode_risk_management against the policy in force,
// then risk::validate, then installing the policy in a risk::RiskEngine.
//
// Input: "<current policy JSON>\0<command JSON>", or just "<command JSON>" to
// patch a fixed policy (policy_support.hpp). The current policy is a risk.policy
// event (what risk-state restores at start) or a risk.policy.set applied to the
// fixed policy.
//
// Properties checked (a failure traps, so libFuzzer keeps the input):
//  - nothing crashes, throws or hits a sanitizer report;
//  - a valid policy installs as it is (RiskEngine::policy() == it), and
//    for_symbol gives each per-symbol override, else the default;
//  - the risk.policy event that announces a valid policy decodes back to the same
//    policy, which validates again (risk-state restores it from that event).
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <fmt/format.h>

#include "codec/codec.hpp"
#include "fuzz_support.hpp"
#include "policy_support.hpp"
#include "risk/pre_trade.hpp"

namespace {

using fuzz::check;
using fuzz::fail;

/// A small limit order on `symbol` (qty 1 at 1.5: no arithmetic on it can overflow).
core::OrderSubmit order_on(const std::string& symbol) {
  static const core::OrderSubmit order = [] {
    auto r = codec::decode_order_command(
        R"({"type":"order.submit","client_order_id":"fuzz-1","symbol":"EURUSD","side":"buy",)"
        R"("order_type":"limit","quantity":"1","limit_price":"1.5","time_in_force":"gtc"})");
    if (!r || !std::holds_alternative<core::OrderSubmit>(*r)) fail("risk_policy_fuzz: the fixed order no longer decodes");
    return std::get<core::OrderSubmit>(*r);
  }();
  core::OrderSubmit o = order;
  o.symbol = symbol;
  return o;
}

template <class T>
void check_override(const std::optional<T>& override_value, const T& effective, const T& default_value,
                    std::string_view symbol, std::string_view field) {
  check(effective == (override_value ? *override_value : default_value),
        fmt::format("for_symbol({}).{} is neither the override nor the default", symbol, field));
}
template <class T>
void check_override(const std::optional<T>& override_value, const std::optional<T>& effective,
                    const std::optional<T>& default_value, std::string_view symbol, std::string_view field) {
  check(effective == (override_value ? override_value : default_value),
        fmt::format("for_symbol({}).{} is neither the override nor the default", symbol, field));
}

void check_installed(const core::SetRiskPolicy& cmd, std::string_view input) {
  const core::RiskPolicy& p = cmd.policy;
  risk::RiskEngine engine{core::Limits{}};
  engine.set_policy(p);
  check(engine.policy() == p, "RiskEngine::set_policy did not install the policy as it is");
  check(p.for_symbol("NOT-IN-POLICY") == p.defaults || p.per_symbol.contains("NOT-IN-POLICY"),
        "for_symbol of a symbol without overrides is not the defaults");
  int checked = 0;
  for (const auto& [symbol, s] : p.per_symbol) {
    const core::Limits lim = p.for_symbol(symbol);
    check_override(s.max_order_qty, lim.max_order_qty, p.defaults.max_order_qty, symbol, "max_order_qty");
    check_override(s.max_order_notional, lim.max_order_notional, p.defaults.max_order_notional, symbol, "max_order_notional");
    check_override(s.max_position, lim.max_position, p.defaults.max_position, symbol, "max_position");
    check_override(s.price_band_bps, lim.price_band_bps, p.defaults.price_band_bps, symbol, "price_band_bps");
    if (checked++ < 4) (void)engine.check(order_on(symbol));
  }
  (void)engine.check(order_on("EURUSD"));

  // risk-state announces the policy on risk.state and restores it from that event.
  const core::RiskPolicyChanged announced{.policy = p, .reason = cmd.reason, .source = "manual", .ts_event = cmd.ts_event};
  const std::string json = codec::encode(announced);
  auto restored = codec::decode_risk_event(json);
  if (!restored || !std::holds_alternative<core::RiskPolicyChanged>(*restored))
    fail(fmt::format("the risk.policy event of a valid policy does not decode: {}\ninput: {}\nevent: {}",
                     restored ? "other type" : restored.error().to_string(), input, json));
  const auto& back = std::get<core::RiskPolicyChanged>(*restored);
  check(back == announced, fmt::format("the risk.policy event restores another policy\ninput: {}\nevent: {}\nback:  {}",
                                       input, json, codec::encode(back)));
  if (auto e = risk::validate(back.policy))
    fail(fmt::format("a restored policy no longer validates: {}\nevent: {}", e->to_string(), json));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  static codec::Decoder dec;  // risk-state's handler owns one and reuses it
  const auto [current, cmd] = fuzz::split_policy_input(dec, in);
  (void)risk::validate(current);  // the current policy may be invalid (a fuzzed event): must not matter
  auto r = dec.decode_risk_management(cmd, current);
  if (!r) return 0;
  const auto* set = std::get_if<core::SetRiskPolicy>(&*r);
  if (!set) return 0;
  if (!risk::validate(set->policy)) check_installed(*set, cmd);
  return 0;
}
