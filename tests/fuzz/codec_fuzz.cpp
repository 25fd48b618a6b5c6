// Fuzz harness "codec": every decoder of codec::Decoder (docs/fuzzing.md).
//
// Input: one selector byte, then the payload. The selector modulo 16 picks the
// decoder (kDecoders below; the corpus uses '@' 'A'..'O', i.e. 64..79). Selector
// 6 ('F') is decode_risk_management against a fuzzed current policy: the payload
// is "<current policy JSON>\0<command JSON>". Selector 15 ('O') is peek and
// decode_strategy_reply (an external strategy's answer).
//
// Properties checked (a failure traps, so libFuzzer keeps the input):
//  - decoders never crash, throw or hit a sanitizer report, whatever the bytes;
//  - every decoded value round-trips: decode(encode(v)) == v (encoders and
//    decoders agree), and encode_into gives the same bytes as encode;
//  - peek reads the encoded message's type (the recorder files every message by it).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include <fmt/format.h>

#include "codec/codec.hpp"
#include "fuzz_support.hpp"
#include "policy_support.hpp"

namespace {

using fuzz::check;
using fuzz::fail;
using fuzz::fixed_policy;

// ---- the JSON "type" an encoder writes for a value -----------------------------

template <class T>
std::string_view type_of(const T&) {
  return T::kType;
}
std::string_view type_of(const core::PerformanceReport& r) {
  return r.final_report ? core::PerformanceReport::kReportType : core::PerformanceReport::kMetricsType;
}
template <class... Ts>
std::string_view type_of(const std::variant<Ts...>& v) {
  return std::visit([](const auto& x) { return type_of(x); }, v);
}

// ---- the round trip ------------------------------------------------------------

/// encode(v), decoded again by `decode`, must give v back; encode_into must write
/// the same bytes as encode; peek must read the encoded type. `input` is what v was
/// decoded from (shown when a property fails).
template <class T, class Decode>
void round_trip(std::string_view input, const T& v, Decode decode) {
  const std::string json = codec::encode(v);
  static std::string into = "stale bytes from an earlier message";  // reused, as the workers do
  codec::encode_into(into, v);
  check(into == json, fmt::format("encode_into differs from encode\ninput:  {}\nencode: {}\ninto:   {}", input, json, into));
  auto again = decode(json);
  if (!again) fail(fmt::format("re-decoding the encoder's output fails: {}\ninput:   {}\nencoded: {}", again.error().to_string(), input, json));
  if (!(*again == v))
    fail(fmt::format("round trip differs\ninput:     {}\nencoded:   {}\nre-encoded: {}", input, json, codec::encode(*again)));
  auto env = codec::peek(json);
  if (!env) fail(fmt::format("peek refuses the encoder's output: {}\nencoded: {}", env.error().to_string(), json));
  check(env->type == type_of(v), fmt::format("peek reads type {} from {}", env->type, json));
}

// RiskEvent has no encode of its own: each alternative has.
void round_trip_risk_event(std::string_view input, const codec::RiskEvent& ev) {
  std::visit([&](const auto& x) {
    round_trip(input, x, [](std::string_view j) -> core::Result<std::decay_t<decltype(x)>> {
      auto r = codec::decode_risk_event(j);
      if (!r) return r.error();
      if (!std::holds_alternative<std::decay_t<decltype(x)>>(*r)) return core::make_error("type", "other alternative");
      return std::get<std::decay_t<decltype(x)>>(*r);
    });
  }, ev);
}

/// A risk.policy.set encodes the whole policy; decoded against an empty policy
/// it must give the same command back (codec.hpp).
core::Result<core::RiskCommand> decode_command(std::string_view json) {
  return codec::decode_risk_management(json, core::RiskPolicy{});
}

constexpr int kDecoders = 16;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const int which = data[0] % kDecoders;
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  static codec::Decoder dec;  // one per handler, reused across messages, as in the workers
  switch (which) {
    case 0:
      if (auto r = dec.decode_market_data(in)) round_trip(in, *r, [](auto j) { return codec::decode_market_data(j); });
      break;
    case 1:
      if (auto r = dec.decode_order_command(in)) round_trip(in, *r, [](auto j) { return codec::decode_order_command(j); });
      break;
    case 2:
      if (auto r = dec.decode_execution_report(in))
        round_trip(in, *r, [](auto j) { return codec::decode_execution_report(j); });
      break;
    case 3:
      if (auto r = dec.decode_risk_state(in)) round_trip(in, *r, [](auto j) { return codec::decode_risk_state(j); });
      break;
    case 4:
      if (auto r = dec.decode_risk_command(in)) round_trip(in, *r, [](auto j) { return codec::decode_risk_command(j); });
      break;
    case 5:
      if (auto r = dec.decode_risk_management(in, fixed_policy())) round_trip(in, *r, decode_command);
      break;
    case 6: {
      const auto [current, cmd] = fuzz::split_policy_input(dec, in);
      if (auto r = dec.decode_risk_management(cmd, current)) round_trip(cmd, *r, decode_command);
      break;
    }
    case 7:
      if (auto r = dec.decode_risk_event(in)) round_trip_risk_event(in, *r);
      break;
    case 8:
      if (auto r = dec.decode_instrument_status(in))
        round_trip(in, *r, [](auto j) { return codec::decode_instrument_status(j); });
      break;
    case 9:
      if (auto r = dec.decode_performance(in)) round_trip(in, *r, [](auto j) { return codec::decode_performance(j); });
      break;
    case 10:
      if (auto r = dec.decode_heartbeat(in)) round_trip(in, *r, [](auto j) { return codec::decode_heartbeat(j); });
      break;
    case 11:
      if (auto r = dec.decode_dead_letter(in)) round_trip(in, *r, [](auto j) { return codec::decode_dead_letter(j); });
      break;
    case 12:
      if (auto r = dec.decode_ops_status(in)) round_trip(in, *r, [](auto j) { return codec::decode_ops_status(j); });
      break;
    case 13:
      if (auto r = dec.decode_session_lifecycle(in))
        round_trip(in, *r, [](auto j) { return codec::decode_session_lifecycle(j); });
      break;
    case 14:
      if (auto r = dec.decode_worker_started(in))
        round_trip(in, *r, [](auto j) { return codec::decode_worker_started(j); });
      break;
    case 15:
      // peek has no encoder: it must agree with itself on a fresh Decoder.
      if (auto r = dec.peek(in)) {
        auto again = codec::peek(in);
        check(again && *again == *r, fmt::format("peek differs between a reused and a fresh Decoder: {}", in));
      }
      // Nor has an external strategy's reply (workers/external_strategy.hpp): it must not
      // crash, and a decoded command whose id is given round-trips as trading.orders does.
      if (auto r = dec.decode_strategy_reply(in)) {
        check(r->commands.size() <= 10'000 && r->timers.size() <= 10'000, "strategy reply: more than 10,000 items");
        for (const auto& c : r->commands) {
          const bool has_id = std::visit([](const auto& x) { return !x.client_order_id.empty(); }, c);
          if (has_id) round_trip(in, c, [](auto j) { return codec::decode_order_command(j); });
        }
      }
      break;
  }
  return 0;
}
