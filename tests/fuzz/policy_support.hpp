/// @file policy_support.hpp
/// @brief The current risk policies the harnesses patch: a fixed one, and one
/// decoded from fuzzed bytes (codec_fuzz selector 6, risk_policy_fuzz).
#pragma once

#include <string_view>
#include <utility>
#include <variant>

#include <fmt/format.h>

#include "codec/codec.hpp"
#include "fuzz_support.hpp"

namespace fuzz {

/// The policy every "fixed current" patch is applied to: defaults that differ
/// from core::Limits{} and three per-symbol entries (so patches that keep,
/// replace and remove entries all have something to work on). Decoded from
/// JSON rather than built, so the harness depends on the wire format only.
inline constexpr std::string_view kFixedPolicyJson = R"({"type":"risk.policy","v":1,
  "defaults":{"max_order_qty":"5000","max_order_notional":"250000.5","max_position":"20000",
    "max_gross_exposure":"1000000","max_open_orders":20,"price_band_bps":"150",
    "max_orders_per_window":50,"rate_window_ns":1000000000,"daily_loss_limit":"5000",
    "max_drawdown":"20000","drawdown_action":"halted"},
  "per_symbol":{
    "BTCUSDT":{"max_order_qty":"2","max_order_notional":null,"max_position":"10","price_band_bps":"50"},
    "EURUSD":{"max_order_qty":"1000000","max_order_notional":"2000000","max_position":null,"price_band_bps":null},
    "IBM":{"max_order_qty":null,"max_order_notional":null,"max_position":"500","price_band_bps":"25"}},
  "reason":"fuzz fixed policy","source":"startup","ts_event":1399386000000000000})";

inline const core::RiskPolicy& fixed_policy() {
  static const core::RiskPolicy policy = [] {
    auto r = codec::decode_risk_event(kFixedPolicyJson);
    if (!r || !std::holds_alternative<core::RiskPolicyChanged>(*r))
      fail(fmt::format("fuzz: the fixed policy no longer decodes: {}", r ? "not a risk.policy" : r.error().to_string()));
    return std::get<core::RiskPolicyChanged>(*r).policy;
  }();
  return policy;
}

/// A current policy from fuzzed bytes: a risk.policy event (what risk-state
/// restores at start), else a risk.policy.set applied to the fixed policy, else
/// the fixed policy.
inline core::RiskPolicy policy_from(codec::Decoder& dec, std::string_view json) {
  if (auto e = dec.decode_risk_event(json); e && std::holds_alternative<core::RiskPolicyChanged>(*e))
    return std::get<core::RiskPolicyChanged>(*e).policy;
  if (auto c = dec.decode_risk_management(json, fixed_policy()); c && std::holds_alternative<core::SetRiskPolicy>(*c))
    return std::get<core::SetRiskPolicy>(*c).policy;
  return fixed_policy();
}

/// Splits "<current policy JSON>\0<command JSON>": the current policy (policy_from
/// the part before the first NUL byte; the fixed policy when there is none) and the command.
inline std::pair<core::RiskPolicy, std::string_view> split_policy_input(codec::Decoder& dec, std::string_view in) {
  const auto nul = in.find('\0');
  if (nul == std::string_view::npos) return {fixed_policy(), in};
  return {policy_from(dec, in.substr(0, nul)), in.substr(nul + 1)};
}

}  // namespace fuzz
