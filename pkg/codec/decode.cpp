// JSON decoding with simdjson ondemand (3.0.1).
//
// Shape of every decode: `Impl::walk` copies the payload into the padded
// buffer, checks that it is one JSON object, finds "type" and hands every
// other field to a per-message Builder in ONE pass over the object (when
// "type" comes first, as our encoder writes it). A hand-typed message whose
// "type" comes later costs a second pass after a rewind. Each Builder switches
// on the key, reads the value once, and records which required fields it saw;
// `finish()` reports the first missing one and checks cross-field rules.
#include <simdjson.h>

#include <algorithm>
#include <limits>
#include <map>
#include <set>
#include <type_traits>
#include <utility>
#include <variant>
#include <charconv>
#include <cstring>

#include <fmt/format.h>

#include "codec/codec.hpp"
#include "subjects/subjects.hpp"

namespace codec {
namespace {

namespace od = simdjson::ondemand;
using core::Error;
using Err = std::optional<Error>;  // nullopt = fine

constexpr std::size_t kMaxClientOrderIdLen = 64;
constexpr std::size_t kMaxTextLen = 1024;
constexpr std::size_t kMaxLongTextLen = 4096;
constexpr std::size_t kMaxRawLen = 65536;
/// Latest accepted time: 2100-01-01T00:00:00Z in ns. Keeps every sum of a time and a
/// duration (latency, rate window, expiry) far from int64 overflow.
constexpr std::int64_t kMaxTimestampNs = 4'102'444'800'000'000'000;
constexpr std::size_t kMaxShown = 64;  // longest input excerpt quoted in an error

// ---- error text ---------------------------------------------------------------------

Error make(std::string_view field, std::string message) {
  return Error{std::string(field), std::move(message)};
}

Error json_error(simdjson::error_code code) {
  return make("", fmt::format("not valid JSON: {}", simdjson::error_message(code)));
}

std::string_view trim_right(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

std::string shorten(std::string_view s) {
  if (s.size() <= kMaxShown) return std::string(s);
  return fmt::format("{}...", s.substr(0, kMaxShown));
}

/// `"text"` with JSON escapes, shortened: how a string value is shown in errors.
std::string shown(std::string_view s) {
  std::string out;
  append_json_string(out, s.size() <= kMaxShown ? s : s.substr(0, kMaxShown));
  if (s.size() > kMaxShown) out.insert(out.size() - 1, "...");
  return out;
}

/// The value as the sender wrote it, for "got ..." (does not consume it).
std::string describe(od::value& v, od::json_type t) {
  switch (t) {
    case od::json_type::object: return "an object";
    case od::json_type::array: return "an array";
    default: return shorten(trim_right(v.raw_json_token()));
  }
}

std::string kind_name(od::json_type t) {
  switch (t) {
    case od::json_type::object: return "an object";
    case od::json_type::array: return "an array";
    case od::json_type::string: return "a string";
    case od::json_type::number: return "a number";
    case od::json_type::boolean: return "a boolean";
    case od::json_type::null: return "null";
  }
  return "something else";
}

Error missing(std::string_view field) { return make(field, "is required"); }

/// Prefixes a nested error's field: "quantity" -> "positions[2].quantity".
Error nested(std::string_view array, std::size_t index, Error e) {
  e.field = e.field.empty() ? fmt::format("{}[{}]", array, index)
                            : fmt::format("{}[{}].{}", array, index, e.field);
  return e;
}

/// The key of a field without unescaping it. Keys we know contain no escapes,
/// so an escaped key ends at a backslash-quote and can never match one of
/// them (it is then ignored like any unknown field). Stage 1 has already
/// checked that every string is closed, so the scan stops inside the input.
std::string_view key_of(const od::field& f) {
  const char* p = f.key().raw();
  std::size_t n = 0;
  while (p[n] != '"') ++n;
  return std::string_view(p, n);
}

// ---- value readers: each reads one value, or says what is wrong with it ---------------

/// What a string field may hold (codec.hpp, "Strings"): a length in bytes and a
/// character class. The input is valid UTF-8 (simdjson checks the whole document).
struct StringRule {
  enum class Chars {
    identifier,  ///< visible ASCII only, 0x21-0x7E: no space, no control character
    text,        ///< any UTF-8 but control characters (U+0000-U+001F, U+007F-U+009F)
    any,         ///< anything (a copy of somebody else's bytes, e.g. a dead letter's payload)
  };
  std::size_t max_bytes;
  Chars chars;
  bool nonempty = false;
};
constexpr StringRule kIdRule{kMaxClientOrderIdLen, StringRule::Chars::identifier, true};
constexpr StringRule kOptIdRule{kMaxClientOrderIdLen, StringRule::Chars::identifier, false};
constexpr StringRule kExecIdRule{2 * kMaxClientOrderIdLen, StringRule::Chars::identifier, true};
constexpr StringRule kNameRule{128, StringRule::Chars::identifier, true};       // worker, instance, version, type
constexpr StringRule kTextRule{kMaxTextLen, StringRule::Chars::text, false};     // reason, text, status, error
constexpr StringRule kLongTextRule{kMaxLongTextLen, StringRule::Chars::text, false};  // paths, settings
constexpr StringRule kRawRule{kMaxRawLen, StringRule::Chars::any, false};        // dead_letter.payload
constexpr StringRule kTypeRule{64, StringRule::Chars::identifier, true};         // "type"

/// The first control character in `s` (valid UTF-8), or npos.
std::size_t find_control(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7F) return i;
    // C1 controls U+0080-U+009F are encoded C2 80 .. C2 9F.
    if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) <= 0x9F) return i;
  }
  return std::string_view::npos;
}

Err check_string(std::string_view key, std::string_view s, const StringRule& rule) {
  if (rule.nonempty && s.empty()) return make(key, "must not be empty");
  if (s.size() > rule.max_bytes)
    return make(key, fmt::format("must be at most {} {}, got {}", rule.max_bytes,
                                 rule.chars == StringRule::Chars::identifier ? "characters" : "bytes", s.size()));
  if (rule.chars == StringRule::Chars::identifier) {
    const bool ok = std::all_of(s.begin(), s.end(), [](char c) { return c > 0x20 && c < 0x7F; });
    if (!ok)
      return make(key, fmt::format("must be visible ASCII characters only (no spaces or control characters), "
                                   "got {}", shown(s)));
  } else if (rule.chars == StringRule::Chars::text && find_control(s) != std::string_view::npos) {
    return make(key, fmt::format("must not contain control characters, got {}", shown(s)));
  }
  return {};
}

/// A JSON string, whatever it holds (only for the checked readers below).
Err read_json_string(od::value& v, std::string_view key, std::string_view& out) {
  od::json_type t;
  if (auto e = v.type().get(t)) return json_error(e);
  if (t != od::json_type::string) return make(key, "must be a string, got " + describe(v, t));
  if (auto e = v.get_string().get(out)) return json_error(e);
  return {};
}

/// A string that follows `rule`.
Err read_string(od::value& v, std::string_view key, std::string& out, const StringRule& rule) {
  std::string_view s;
  if (auto e = read_json_string(v, key, s)) return e;
  if (auto e = check_string(key, s, rule)) return e;
  out.assign(s.data(), s.size());
  return {};
}

Err read_symbol(od::value& v, std::string_view key, std::string& out) {
  std::string_view s;
  if (auto e = read_json_string(v, key, s)) return e;
  out.assign(s.data(), std::min<std::size_t>(s.size(), 65));  // longer is refused just below
  if (!subjects::is_valid_symbol(out)) {
    return make(key, fmt::format("must be 1-64 characters from A-Z a-z 0-9 _ -, got {}", shown(out)));
  }
  return {};
}

Err read_nonempty_string(od::value& v, std::string_view key, std::string& out) {
  return read_string(v, key, out, kNameRule);
}

Err read_session_id(od::value& v, std::string_view key, std::string& out) {
  if (auto e = read_string(v, key, out, StringRule{kMaxLongTextLen, StringRule::Chars::any, false})) return e;
  if (!subjects::is_valid_session_id(out)) {
    return make(key, fmt::format("must be 1-128 characters from A-Z a-z 0-9 _ . : -, got {}", shown(out)));
  }
  return {};
}

/// A SHA-256 digest as written by sha256sum: exactly 64 lowercase hex digits.
Err read_sha256(od::value& v, std::string_view key, std::string& out) {
  if (auto e = read_string(v, key, out, StringRule{kMaxLongTextLen, StringRule::Chars::any, false})) return e;
  const bool ok = out.size() == 64 && std::all_of(out.begin(), out.end(), [](char c) {
                    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
                  });
  if (!ok) return make(key, fmt::format("must be 64 lowercase hex digits (a SHA-256), got {}", shown(out)));
  return {};
}

Err read_session_kind(od::value& v, std::string_view key, std::string& out) {
  constexpr std::string_view kOneOf = "live|replay|backtest|inputs";
  od::json_type t;
  if (auto e = v.type().get(t)) return json_error(e);
  if (t != od::json_type::string) return make(key, fmt::format("must be one of {}, got {}", kOneOf, describe(v, t)));
  std::string_view s;
  if (auto e = v.get_string().get(s)) return json_error(e);
  const auto& kinds = core::SessionStarted::kKinds;
  if (std::find(std::begin(kinds), std::end(kinds), s) == std::end(kinds)) {
    return make(key, fmt::format("must be one of {}, got {}", kOneOf, shown(s)));
  }
  out.assign(s.data(), s.size());
  return {};
}

/// A JSON array of strings; element errors are reported as "<key>[i]".
Err read_string_array(od::value& v, std::string_view key, std::vector<std::string>& out) {
  od::json_type t;
  if (auto e = v.type().get(t)) return json_error(e);
  if (t != od::json_type::array) return make(key, "must be an array of strings, got " + describe(v, t));
  od::array arr;
  if (auto e = v.get_array().get(arr)) return json_error(e);
  out.clear();
  for (auto er : arr) {
    od::value ev;
    if (auto e = std::move(er).get(ev)) return json_error(e);
    const std::string path = fmt::format("{}[{}]", key, out.size());
    if (out.size() >= 256) return make(key, "must have at most 256 elements");
    if (auto e = read_string(ev, path, out.emplace_back(), kLongTextRule)) return e;
  }
  return {};
}

/// A JSON object whose values are all strings, e.g. a worker's settings. Keys are
/// unescaped (they are data); the result is sorted by key. A bad value or a repeated
/// key is reported as "<key>.<name>".
Err read_string_object(od::value& v, std::string_view key, std::vector<std::pair<std::string, std::string>>& out) {
  od::json_type t;
  if (auto e = v.type().get(t)) return json_error(e);
  if (t != od::json_type::object) return make(key, "must be an object of strings, got " + describe(v, t));
  od::object obj;
  if (auto e = v.get_object().get(obj)) return json_error(e);
  out.clear();
  for (auto fr : obj) {
    od::field f;
    if (auto e = std::move(fr).get(f)) return json_error(e);
    std::string_view k;
    if (auto e = f.unescaped_key().get(k)) return json_error(e);
    std::string name(k);
    if (name.empty()) return make(key, "keys must not be empty");
    if (auto e = check_string(fmt::format("{}.<key>", key), name, StringRule{128, StringRule::Chars::text, true}))
      return e;
    if (out.size() >= 256) return make(key, "must have at most 256 keys");
    std::string value;
    // A setting's value is reported as the worker read it (a path, a URL, a number):
    // any text up to 4096 bytes.
    if (auto e = read_string(f.value(), fmt::format("{}.{}", key, name), value,
                             StringRule{kMaxLongTextLen, StringRule::Chars::any, false}))
      return e;
    out.emplace_back(std::move(name), std::move(value));
  }
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  const auto dup = std::adjacent_find(out.begin(), out.end(),
                                      [](const auto& a, const auto& b) { return a.first == b.first; });
  if (dup != out.end()) return make(fmt::format("{}.{}", key, dup->first), "appears more than once");
  return {};
}

Err read_client_order_id(od::value& v, std::string_view key, std::string& out) {
  return read_string(v, key, out, kIdRule);
}

/// JSON forbids leading zeros ("01"); Decimal::parse would accept them.
bool json_number_shape(std::string_view s) {
  if (!s.empty() && s.front() == '-') s.remove_prefix(1);
  return !(s.size() >= 2 && s[0] == '0' && s[1] >= '0' && s[1] <= '9');
}

/// True if `s` has the decimal grammar [+-]digits[.1-8 digits], whatever its size.
bool decimal_shape(std::string_view s) {
  std::size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  const std::size_t whole = i;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  if (i == whole) return false;
  if (i == s.size()) return true;
  if (s[i] != '.') return false;
  const std::size_t frac = ++i;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  return i == s.size() && i > frac && i - frac <= static_cast<std::size_t>(core::Decimal::kScale);
}

Err bad_decimal(std::string_view key, std::string_view text, std::string shown_text) {
  if (decimal_shape(text)) {
    return make(key, fmt::format("is out of range (magnitude at most 92233720368.54775807), got {}",
                                 shown_text));
  }
  return make(key, fmt::format("must be a decimal with at most 8 fractional digits, got {}", shown_text));
}

/// Which decimals a field accepts: every input is in the wire range (decimal.hpp);
/// only the accumulated money of a performance report may go beyond it.
enum class Range { wire, wide };

/// A decimal as a JSON string ("1.38742") or a plain JSON number (1.38742),
/// parsed exactly from its text; never through double.
Err read_decimal(od::value& v, std::string_view key, core::Decimal& out, Range range = Range::wire) {
  od::json_type t;
  if (auto e = v.type().get(t)) return json_error(e);
  std::string_view text;
  std::optional<core::Decimal> d;
  if (t == od::json_type::string) {
    if (auto e = v.get_string().get(text)) return json_error(e);
    d = core::Decimal::parse(text);
    if (d && range == Range::wire && !d->in_wire_range()) d.reset();
    if (!d) return bad_decimal(key, text, shown(text));
  } else if (t == od::json_type::number) {
    text = trim_right(v.raw_json_token());
    if (json_number_shape(text)) d = core::Decimal::parse(text);
    if (d && range == Range::wire && !d->in_wire_range()) d.reset();
    if (!d) return bad_decimal(key, json_number_shape(text) ? text : "", shorten(text));
  } else {
    return make(key, "must be a decimal string or number, got " + describe(v, t));
  }
  out = *d;
  return {};
}

/// Accumulated money and quantities of a performance report (P&L, notional traded,
/// positions): the arithmetic range.
Err read_wide_decimal(od::value& v, std::string_view key, core::Decimal& out) {
  return read_decimal(v, key, out, Range::wide);
}

/// A price: > 0 (issue 11: a quote with a bid of -5 was filled at -4).
Err read_positive_decimal(od::value& v, std::string_view key, core::Decimal& out) {
  if (auto e = read_decimal(v, key, out)) return e;
  if (!out.is_positive()) return make(key, fmt::format("must be positive, got \"{}\"", out));
  return {};
}

/// A size or quantity that may be zero: >= 0.
Err read_nonneg_decimal(od::value& v, std::string_view key, core::Decimal& out) {
  if (auto e = read_decimal(v, key, out)) return e;
  if (out.is_negative()) return make(key, fmt::format("must not be negative, got \"{}\"", out));
  return {};
}

Err read_opt_decimal(od::value& v, std::string_view key, std::optional<core::Decimal>& out) {
  core::Decimal d;
  if (auto e = read_decimal(v, key, d)) return e;
  out = d;
  return {};
}

Err read_opt_wide_decimal(od::value& v, std::string_view key, std::optional<core::Decimal>& out) {
  core::Decimal d;
  if (auto e = read_wide_decimal(v, key, d)) return e;
  out = d;
  return {};
}

Err read_opt_nonneg_decimal(od::value& v, std::string_view key, std::optional<core::Decimal>& out) {
  core::Decimal d;
  if (auto e = read_nonneg_decimal(v, key, d)) return e;
  out = d;
  return {};
}

Err read_opt_positive_decimal(od::value& v, std::string_view key, std::optional<core::Decimal>& out) {
  core::Decimal d;
  if (auto e = read_positive_decimal(v, key, d)) return e;
  out = d;
  return {};
}

/// A JSON integer, or an integer in a string ("1399334400158000000").
Err read_int(od::value& v, std::string_view key, std::int64_t& out, std::string_view what) {
  od::json_type t;
  if (auto e = v.type().get(t)) return json_error(e);
  if (t == od::json_type::number) {
    if (!v.get_int64().get(out)) return {};
    return make(key, fmt::format("must be {}, got {}", what, describe(v, t)));
  }
  if (t == od::json_type::string) {
    std::string_view s;
    if (auto e = v.get_string().get(s)) return json_error(e);
    const char* end = s.data() + s.size();
    const auto [p, ec] = std::from_chars(s.data(), end, out);
    if (ec == std::errc() && p == end && !s.empty()) return {};
    return make(key, fmt::format("must be {}, got {}", what, shown(s)));
  }
  return make(key, fmt::format("must be {}, got {}", what, describe(v, t)));
}

Err read_count(od::value& v, std::string_view key, std::int64_t& out) {
  if (auto e = read_int(v, key, out, "an integer")) return e;
  if (out < 0) return make(key, fmt::format("must not be negative, got {}", out));
  return {};
}

/// A stream sequence (cause_seq, root_seq): a non-negative integer.
Err read_seq(od::value& v, std::string_view key, std::uint64_t& out) {
  std::int64_t n = 0;
  if (auto e = read_count(v, key, n)) return e;
  out = static_cast<std::uint64_t>(n);
  return {};
}

Err read_ts(od::value& v, std::string_view key, std::int64_t& out) {
  if (auto e = read_int(v, key, out, "an integer (ns since the Unix epoch, UTC)")) return e;
  if (out < 0) return make(key, fmt::format("must not be negative, got {}", out));
  if (out > kMaxTimestampNs)
    return make(key, fmt::format("must be at most {} (2100-01-01T00:00:00Z), got {}", kMaxTimestampNs, out));
  return {};
}

Err read_opt_ts(od::value& v, std::string_view key, std::optional<std::int64_t>& out) {
  std::int64_t ts = 0;
  if (auto e = read_ts(v, key, ts)) return e;
  out = ts;
  return {};
}

Err read_bool(od::value& v, std::string_view key, bool& out) {
  od::json_type t;
  if (auto e = v.type().get(t)) return json_error(e);
  if (t != od::json_type::boolean) return make(key, "must be true or false, got " + describe(v, t));
  if (auto e = v.get_bool().get(out)) return json_error(e);
  return {};
}

template <class E>
Err read_enum(od::value& v, std::string_view key, E& out,
              std::optional<E> (*parse)(std::string_view) noexcept, std::string_view one_of) {
  od::json_type t;
  if (auto e = v.type().get(t)) return json_error(e);
  if (t != od::json_type::string) {
    return make(key, fmt::format("must be one of {}, got {}", one_of, describe(v, t)));
  }
  std::string_view s;
  if (auto e = v.get_string().get(s)) return json_error(e);
  const auto parsed = parse(s);
  if (!parsed) return make(key, fmt::format("must be one of {}, got {}", one_of, shown(s)));
  out = *parsed;
  return {};
}

Err read_side(od::value& v, std::string_view k, core::Side& o) {
  return read_enum(v, k, o, core::parse_side, "buy|sell");
}
Err read_order_type(od::value& v, std::string_view k, core::OrderType& o) {
  return read_enum(v, k, o, core::parse_order_type, "market|limit|stop|stop_limit");
}
Err read_tif(od::value& v, std::string_view k, core::TimeInForce& o) {
  return read_enum(v, k, o, core::parse_time_in_force, "day|gtc|ioc|fok|gtd");
}
Err read_exec_type(od::value& v, std::string_view k, core::ExecType& o) {
  return read_enum(v, k, o, core::parse_exec_type,
                   "new|partial_fill|fill|canceled|rejected|denied|expired|cancel_rejected|replaced|"
                   "pending_cancel");
}
Err read_order_status(od::value& v, std::string_view k, core::OrderStatus& o) {
  return read_enum(v, k, o, core::parse_order_status,
                   "new|partially_filled|filled|canceled|rejected|denied|expired");
}
Err read_trading_state(od::value& v, std::string_view k, core::TradingState& o) {
  return read_enum(v, k, o, core::parse_trading_state, "active|reducing|halted");
}
Err read_instrument_state(od::value& v, std::string_view k, core::InstrumentState& o) {
  return read_enum(v, k, o, core::parse_instrument_state, "trading|halted");
}
Err read_action_kind(od::value& v, std::string_view k, core::ActionKind& o) {
  return read_enum(v, k, o, core::parse_action_kind, "split|dividend");
}
Err read_aggressor(od::value& v, std::string_view k, core::AggressorSide& o) {
  return read_enum(v, k, o, core::parse_aggressor_side, "none|buy|sell");
}
Err read_price_type(od::value& v, std::string_view k, core::PriceType& o) {
  return read_enum(v, k, o, core::parse_price_type, "trade|bid|ask|mid");
}

/// Walks a nested array of objects, giving each object's fields to a fresh B.
/// Errors inside are reported as "<key>[i].<field>".
template <class B, class T>
Err read_object_array(od::value& v, std::string_view key, std::vector<T>& out) {
  od::json_type t;
  if (auto e = v.type().get(t)) return json_error(e);
  if (t != od::json_type::array) return make(key, "must be an array, got " + describe(v, t));
  od::array arr;
  if (auto e = v.get_array().get(arr)) return json_error(e);
  out.clear();
  std::size_t i = 0;
  for (auto er : arr) {
    od::value ev;
    if (auto e = std::move(er).get(ev)) return json_error(e);
    if (auto e = ev.type().get(t)) return json_error(e);
    if (t != od::json_type::object) {
      return nested(key, i, make("", "must be an object, got " + describe(ev, t)));
    }
    od::object obj;
    if (auto e = ev.get_object().get(obj)) return json_error(e);
    B b;
    for (auto fr : obj) {
      od::field f;
      if (auto e = std::move(fr).get(f)) return json_error(e);
      if (auto e = b.field(key_of(f), f.value())) return nested(key, i, std::move(*e));
    }
    if (auto e = b.finish()) return nested(key, i, std::move(*e));
    out.push_back(std::move(b.m));
    ++i;
  }
  return {};
}

/// Required-field bookkeeping: each Builder numbers its required keys 0..n-1
/// in its kRequired array.
class Seen {
 public:
  /// Records that required key `index` was present; passes the read's result through.
  Err required(unsigned index, Err read_result) noexcept {
    bits_ |= 1u << index;
    return read_result;
  }
  /// The first required key (in `names` order) that was not seen.
  template <std::size_t N>
  Err check(const std::string_view (&names)[N]) const {
    for (std::size_t i = 0; i < N; ++i) {
      if (!(bits_ & (1u << i))) return missing(names[i]);
    }
    return {};
  }

 private:
  unsigned bits_ = 0;
};

// ---- one Builder per message ----------------------------------------------------------
// field(): read a known key (unknown keys are ignored); finish(): required and
// cross-field checks. The key comparisons are cheap: size first, then bytes.

struct QuoteBuilder {
  core::Quote m;
  Seen seen;
  static constexpr std::string_view kRequired[] = {"symbol", "bid", "ask", "ts_event"};
  Err field(std::string_view k, od::value& v) {
    if (k == "symbol") return seen.required(0, read_symbol(v, k, m.symbol));
    if (k == "bid") return seen.required(1, read_positive_decimal(v, k, m.bid));
    if (k == "ask") return seen.required(2, read_positive_decimal(v, k, m.ask));
    if (k == "ts_event") return seen.required(3, read_ts(v, k, m.ts_event));
    if (k == "bid_size") return read_opt_nonneg_decimal(v, k, m.bid_size);
    if (k == "ask_size") return read_opt_nonneg_decimal(v, k, m.ask_size);
    if (k == "ts_recv") return read_opt_ts(v, k, m.ts_recv);
    return {};
  }
  Err finish() { return seen.check(kRequired); }  // ask < bid is fine: real feeds cross
};

struct TradeBuilder {
  core::Trade m;
  Seen seen;
  static constexpr std::string_view kRequired[] = {"symbol", "price", "size", "ts_event"};
  Err field(std::string_view k, od::value& v) {
    if (k == "symbol") return seen.required(0, read_symbol(v, k, m.symbol));
    if (k == "price") return seen.required(1, read_positive_decimal(v, k, m.price));
    if (k == "size") return seen.required(2, read_nonneg_decimal(v, k, m.size));
    if (k == "ts_event") return seen.required(3, read_ts(v, k, m.ts_event));
    if (k == "aggressor_side") return read_aggressor(v, k, m.aggressor_side);
    if (k == "trade_id") return read_string(v, k, m.trade_id.emplace(), kOptIdRule);
    if (k == "ts_recv") return read_opt_ts(v, k, m.ts_recv);
    return {};
  }
  Err finish() { return seen.check(kRequired); }
};

struct BarBuilder {
  core::Bar m;
  Seen seen;
  static constexpr std::string_view kRequired[] = {"symbol", "open", "high", "low", "close", "ts_event"};
  Err field(std::string_view k, od::value& v) {
    if (k == "symbol") return seen.required(0, read_symbol(v, k, m.symbol));
    if (k == "open") return seen.required(1, read_positive_decimal(v, k, m.open));
    if (k == "high") return seen.required(2, read_positive_decimal(v, k, m.high));
    if (k == "low") return seen.required(3, read_positive_decimal(v, k, m.low));
    if (k == "close") return seen.required(4, read_positive_decimal(v, k, m.close));
    if (k == "ts_event") return seen.required(5, read_ts(v, k, m.ts_event));
    if (k == "volume") return read_opt_nonneg_decimal(v, k, m.volume);
    if (k == "price_type") return read_price_type(v, k, m.price_type);
    if (k == "ts_start") return read_opt_ts(v, k, m.ts_start);
    return {};
  }
  Err finish() { return seen.check(kRequired); }
};

struct OrderSubmitBuilder {
  core::OrderSubmit m;
  Seen seen;
  static constexpr std::string_view kRequired[] = {"client_order_id", "symbol", "side", "order_type",
                                                   "quantity"};
  Err field(std::string_view k, od::value& v) {
    if (k == "client_order_id") return seen.required(0, read_client_order_id(v, k, m.client_order_id));
    if (k == "symbol") return seen.required(1, read_symbol(v, k, m.symbol));
    if (k == "side") return seen.required(2, read_side(v, k, m.side));
    if (k == "order_type") return seen.required(3, read_order_type(v, k, m.order_type));
    if (k == "quantity") return seen.required(4, read_positive_decimal(v, k, m.quantity));
    if (k == "limit_price") return read_positive_decimal(v, k, m.limit_price.emplace());
    if (k == "time_in_force") return read_tif(v, k, m.time_in_force);
    if (k == "strategy_id") return read_string(v, k, m.strategy_id, kOptIdRule);
    if (k == "ts_event") return read_ts(v, k, m.ts_event);
    if (k == "stop_price") return read_positive_decimal(v, k, m.stop_price.emplace());
    if (k == "expire_time") return read_ts(v, k, m.expire_time.emplace());
    if (k == "cause_seq") return read_seq(v, k, m.cause_seq);
    return {};
  }
  Err finish() {
    if (auto e = seen.check(kRequired)) return e;
    const bool wants_limit = m.order_type == core::OrderType::limit || m.order_type == core::OrderType::stop_limit;
    const bool wants_stop = m.order_type == core::OrderType::stop || m.order_type == core::OrderType::stop_limit;
    if (wants_limit && !m.limit_price) {
      return make("limit_price", fmt::format("is required when order_type is {}", m.order_type));
    }
    if (!wants_limit && m.limit_price) {
      return make("limit_price", fmt::format("must be absent when order_type is {}, got \"{}\"", m.order_type,
                                             *m.limit_price));
    }
    if (wants_stop && !m.stop_price) {
      return make("stop_price", fmt::format("is required when order_type is {}", m.order_type));
    }
    if (!wants_stop && m.stop_price) {
      return make("stop_price", fmt::format("must be absent when order_type is {}, got \"{}\"", m.order_type,
                                            *m.stop_price));
    }
    const bool gtd = m.time_in_force == core::TimeInForce::gtd;
    if (gtd && !m.expire_time) return make("expire_time", "is required when time_in_force is gtd");
    if (!gtd && m.expire_time) {
      return make("expire_time", fmt::format("must be absent when time_in_force is {}, got {}", m.time_in_force,
                                             *m.expire_time));
    }
    return {};
  }
};

struct OrderReplaceBuilder {
  core::OrderReplace m;
  Seen seen;
  static constexpr std::string_view kRequired[] = {"client_order_id", "orig_client_order_id"};
  Err field(std::string_view k, od::value& v) {
    if (k == "client_order_id") return seen.required(0, read_client_order_id(v, k, m.client_order_id));
    if (k == "orig_client_order_id") return seen.required(1, read_client_order_id(v, k, m.orig_client_order_id));
    if (k == "quantity") return read_positive_decimal(v, k, m.quantity.emplace());
    if (k == "limit_price") return read_positive_decimal(v, k, m.limit_price.emplace());
    if (k == "stop_price") return read_positive_decimal(v, k, m.stop_price.emplace());
    if (k == "ts_event") return read_ts(v, k, m.ts_event);
    if (k == "cause_seq") return read_seq(v, k, m.cause_seq);
    return {};
  }
  Err finish() {
    if (auto e = seen.check(kRequired)) return e;
    if (m.client_order_id == m.orig_client_order_id) {
      return make("client_order_id", fmt::format("must differ from orig_client_order_id (a replace needs a new "
                                                 "id), got \"{}\"", m.client_order_id));
    }
    return {};
  }
};

struct OrderCancelBuilder {
  core::OrderCancel m;
  Seen seen;
  static constexpr std::string_view kRequired[] = {"client_order_id"};
  Err field(std::string_view k, od::value& v) {
    if (k == "client_order_id") return seen.required(0, read_client_order_id(v, k, m.client_order_id));
    if (k == "ts_event") return read_ts(v, k, m.ts_event);
    if (k == "cause_seq") return read_seq(v, k, m.cause_seq);
    return {};
  }
  Err finish() { return seen.check(kRequired); }
};

struct ExecutionReportBuilder {
  core::ExecutionReport m;
  Seen seen;
  static constexpr std::string_view kRequired[] = {
      "client_order_id", "exec_id", "exec_type", "order_status", "symbol",     "side",
      "order_type",      "quantity", "last_qty", "last_px",      "cum_qty",    "leaves_qty",
      "avg_px",          "ts_event"};
  Err field(std::string_view k, od::value& v) {
    if (k == "client_order_id") return seen.required(0, read_client_order_id(v, k, m.client_order_id));
    if (k == "exec_id") return seen.required(1, read_string(v, k, m.exec_id, kExecIdRule));
    if (k == "exec_type") return seen.required(2, read_exec_type(v, k, m.exec_type));
    if (k == "order_status") return seen.required(3, read_order_status(v, k, m.order_status));
    // "" is allowed on a cancel_rejected for an order the venue does not know (checked in finish).
    if (k == "symbol") return seen.required(4, read_string(v, k, m.symbol, StringRule{64, StringRule::Chars::any, false}));
    if (k == "side") return seen.required(5, read_side(v, k, m.side));
    if (k == "order_type") return seen.required(6, read_order_type(v, k, m.order_type));
    if (k == "quantity") return seen.required(7, read_nonneg_decimal(v, k, m.quantity));
    if (k == "last_qty") return seen.required(8, read_nonneg_decimal(v, k, m.last_qty));
    if (k == "last_px") return seen.required(9, read_nonneg_decimal(v, k, m.last_px));
    if (k == "cum_qty") return seen.required(10, read_nonneg_decimal(v, k, m.cum_qty));
    if (k == "leaves_qty") return seen.required(11, read_nonneg_decimal(v, k, m.leaves_qty));
    if (k == "avg_px") return seen.required(12, read_nonneg_decimal(v, k, m.avg_px));
    if (k == "ts_event") return seen.required(13, read_ts(v, k, m.ts_event));
    if (k == "time_in_force") return read_tif(v, k, m.time_in_force);
    if (k == "limit_price") return read_opt_positive_decimal(v, k, m.limit_price);
    if (k == "text") return read_string(v, k, m.text, kTextRule);
    if (k == "strategy_id") return read_string(v, k, m.strategy_id, kOptIdRule);
    if (k == "stop_price") return read_opt_positive_decimal(v, k, m.stop_price);
    if (k == "expire_time") return read_opt_ts(v, k, m.expire_time);
    if (k == "orig_client_order_id") return read_client_order_id(v, k, m.orig_client_order_id.emplace());
    if (k == "commission") return read_opt_decimal(v, k, m.commission);
    if (k == "cause_seq") return read_seq(v, k, m.cause_seq);
    return {};
  }
  Err finish() {
    if (auto e = seen.check(kRequired)) return e;
    const bool unknown_order = m.symbol.empty() && m.exec_type == core::ExecType::cancel_rejected;
    if (!unknown_order && !subjects::is_valid_symbol(m.symbol)) {
      return make("symbol", fmt::format("must be 1-64 characters from A-Z a-z 0-9 _ -, got {}", shown(m.symbol)));
    }
    return {};
  }
};

struct RiskStateBuilder {
  core::RiskStateChanged m;
  Seen seen;
  static constexpr std::string_view kRequired[] = {"trading_state", "previous_state", "ts_event"};
  Err field(std::string_view k, od::value& v) {
    if (k == "trading_state") return seen.required(0, read_trading_state(v, k, m.trading_state));
    if (k == "previous_state") return seen.required(1, read_trading_state(v, k, m.previous_state));
    if (k == "ts_event") return seen.required(2, read_ts(v, k, m.ts_event));
    if (k == "reason") return read_string(v, k, m.reason, kTextRule);
    if (k == "source") return read_string(v, k, m.source, kTextRule);
    if (k == "sender") return read_string(v, k, m.sender, kNameRule);
    if (k == "cause_seq") return read_seq(v, k, m.cause_seq);
    return {};
  }
  Err finish() { return seen.check(kRequired); }
};

/// trading_state.set, or a halt/resume shorthand (then trading_state is implied).
struct SetTradingStateBuilder {
  core::SetTradingState m;
  Seen seen;
  bool shorthand = false;
  static constexpr std::string_view kRequired[] = {"trading_state"};
  Err field(std::string_view k, od::value& v) {
    if (k == "trading_state" && !shorthand) return seen.required(0, read_trading_state(v, k, m.trading_state));
    if (k == "reason") return read_string(v, k, m.reason, kTextRule);
    if (k == "ts_event") return read_ts(v, k, m.ts_event);
    return {};
  }
  Err finish() { return shorthand ? Err{} : seen.check(kRequired); }
};

struct InstrumentStatusBuilder {
  core::InstrumentStatus m;
  Seen seen;
  static constexpr std::string_view kRequired[] = {"symbol", "status"};
  Err field(std::string_view k, od::value& v) {
    if (k == "symbol") return seen.required(0, read_symbol(v, k, m.symbol));
    if (k == "status") return seen.required(1, read_instrument_state(v, k, m.status));
    if (k == "reason") return read_string(v, k, m.reason, kTextRule);
    if (k == "ts_event") return read_ts(v, k, m.ts_event);
    return {};
  }
  Err finish() { return seen.check(kRequired); }
};

struct CorporateActionBuilder {
  core::CorporateAction m;
  Seen seen;
  static constexpr std::string_view kRequired[] = {"symbol", "action", "ts_event"};
  Err field(std::string_view k, od::value& v) {
    if (k == "symbol") return seen.required(0, read_symbol(v, k, m.symbol));
    if (k == "action") return seen.required(1, read_action_kind(v, k, m.action));
    if (k == "ts_event") return seen.required(2, read_ts(v, k, m.ts_event));
    if (k == "ratio") return read_opt_positive_decimal(v, k, m.ratio);
    if (k == "amount") return read_opt_positive_decimal(v, k, m.amount);
    return {};
  }
  Err finish() {
    if (auto e = seen.check(kRequired)) return e;
    if (m.action == core::ActionKind::split) {
      if (!m.ratio) return make("ratio", "is required for a split");
      if (m.amount) return make("amount", "is not allowed for a split");
    } else {
      if (!m.amount) return make("amount", "is required for a dividend");
      if (m.ratio) return make("ratio", "is not allowed for a dividend");
    }
    return {};
  }
};

// ---- risk policies: nested objects with a closed set of keys ------------------------------

bool is_null(od::value& v, Err& err) {
  od::json_type t;
  if (auto e = v.type().get(t)) {
    err = json_error(e);
    return false;
  }
  return t == od::json_type::null;
}

/// Calls `on_field(key, value)` for every field of the object `v` (error "<path>:
/// must be an object" otherwise). Keys are raw (see key_of).
template <class OnField>
Err for_each_field(od::value& v, const std::string& path, OnField&& on_field) {
  od::json_type t;
  if (auto e = v.type().get(t)) return json_error(e);
  if (t != od::json_type::object) return make(path, "must be an object, got " + describe(v, t));
  od::object obj;
  if (auto e = v.get_object().get(obj)) return json_error(e);
  for (auto fr : obj) {
    od::field f;
    if (auto e = std::move(fr).get(f)) return json_error(e);
    if (auto e = on_field(key_of(f), f.value())) return e;
  }
  return {};
}

/// A decimal, or null -> empty.
Err read_nullable_decimal(od::value& v, const std::string& path, std::optional<core::Decimal>& out) {
  Err err;
  if (is_null(v, err)) {
    out.reset();
    return {};
  }
  if (err) return err;
  core::Decimal d;
  if (auto e = read_decimal(v, path, d)) return e;
  out = d;
  return {};
}

/// A count, or null -> 0 (off).
Err read_nullable_count(od::value& v, const std::string& path, std::int64_t& out) {
  Err err;
  if (is_null(v, err)) {
    out = 0;
    return {};
  }
  if (err) return err;
  return read_count(v, path, out);
}

/// The actions a drawdown may take (core::Limits::drawdown_action): a trading state but `active`.
std::optional<core::TradingState> parse_drawdown_action(std::string_view s) noexcept {
  const auto t = core::parse_trading_state(s);
  if (t == core::TradingState::active) return std::nullopt;
  return t;
}

/// drawdown_action: "reducing" or "halted"; `nullable` (a patch): null resets it to reducing.
Err read_drawdown_action(od::value& v, const std::string& path, core::TradingState& out, bool nullable) {
  Err err;
  if (nullable && is_null(v, err)) {
    out = core::TradingState::reducing;
    return {};
  }
  if (err) return err;
  return read_enum(v, path, out, parse_drawdown_action, "reducing|halted");
}

Err no_null(od::value& v, const std::string& path, std::string_view why) {
  Err err;
  if (is_null(v, err)) return make(path, fmt::format("must not be null ({})", why));
  return err;
}

constexpr std::string_view kLimitKeys =
    "max_order_qty, max_order_notional, max_position, max_gross_exposure, max_open_orders, price_band_bps, "
    "max_orders_per_window, rate_window_ns, rate_window_ms, daily_loss_limit, max_drawdown, drawdown_action";
constexpr std::string_view kSymbolLimitKeys = "max_order_qty, max_order_notional, max_position, price_band_bps";

/// Reads the `defaults` object into `m` (fields absent keep their value).
/// `full`: every limit must be present (risk.policy events), except drawdown_action:
/// an event recorded before it existed has none (= reducing, the value kept in `m`).
Err read_limits(od::value& v, const std::string& path, core::Limits& m, bool full) {
  // Bit i: the i-th limit was given (rate_window_ns and rate_window_ms share bit 7).
  static constexpr std::string_view kNames[] = {"max_order_qty",     "max_order_notional", "max_position",
                                                "max_gross_exposure", "max_open_orders",   "price_band_bps",
                                                "max_orders_per_window", "rate_window_ns", "daily_loss_limit",
                                                "max_drawdown",       "drawdown_action"};
  constexpr std::size_t kDrawdownAction = 10;
  unsigned seen = 0;
  Err e = for_each_field(v, path, [&](std::string_view k, od::value& x) -> Err {
    const std::string p = fmt::format("{}.{}", path, k);
    std::size_t i = 0;
    if (k == "rate_window_ms") {
      i = 7;
    } else {
      while (i < std::size(kNames) && kNames[i] != k) ++i;
      if (i == std::size(kNames)) return make(p, fmt::format("is not a risk limit (known: {})", kLimitKeys));
    }
    if (seen & (1u << i)) {
      return make(p, i == 7 ? "give rate_window_ns or rate_window_ms, once" : "appears more than once");
    }
    seen |= 1u << i;
    switch (i) {
      case 0:
        if (auto n = no_null(x, p, "max_order_qty cannot be switched off; set a large value")) return n;
        return read_decimal(x, p, m.max_order_qty);
      case 1:
        if (auto n = no_null(x, p, "max_order_notional cannot be switched off; set a large value")) return n;
        return read_decimal(x, p, m.max_order_notional);
      case 2: return read_nullable_decimal(x, p, m.max_position);
      case 3: return read_nullable_decimal(x, p, m.max_gross_exposure);
      case 4: return read_nullable_count(x, p, m.max_open_orders);
      case 5: return read_nullable_decimal(x, p, m.price_band_bps);
      case 6: return read_nullable_count(x, p, m.max_orders_per_window);
      case 7: {
        if (auto n = no_null(x, p, "the rate window cannot be switched off; max_orders_per_window 0 does that")) {
          return n;
        }
        if (k == "rate_window_ns") return read_int(x, p, m.rate_window_ns, "an integer (nanoseconds)");
        std::int64_t ms = 0;
        if (auto r = read_int(x, p, ms, "an integer (milliseconds)")) return r;
        constexpr std::int64_t kNsPerMs = 1'000'000;
        if (ms > std::numeric_limits<std::int64_t>::max() / kNsPerMs ||
            ms < std::numeric_limits<std::int64_t>::min() / kNsPerMs) {
          return make(p, fmt::format("is out of range, got {}", ms));
        }
        m.rate_window_ns = ms * kNsPerMs;
        return {};
      }
      case 8: return read_nullable_decimal(x, p, m.daily_loss_limit);
      case 9: return read_nullable_decimal(x, p, m.max_drawdown);
      default: return read_drawdown_action(x, p, m.drawdown_action, !full);
    }
  });
  if (e) return e;
  if (full) {
    for (std::size_t i = 0; i < std::size(kNames); ++i) {
      if (!(seen & (1u << i)) && i != kDrawdownAction) return missing(fmt::format("{}.{}", path, kNames[i]));
    }
  }
  return {};
}

/// Reads one per-symbol entry into `m` (fields absent keep their value).
Err read_symbol_limits(od::value& v, const std::string& path, core::SymbolLimits& m) {
  unsigned seen = 0;
  return for_each_field(v, path, [&](std::string_view k, od::value& x) -> Err {
    const std::string p = fmt::format("{}.{}", path, k);
    std::optional<core::Decimal>* target = nullptr;
    unsigned bit = 0;
    if (k == "max_order_qty") target = &m.max_order_qty, bit = 1;
    else if (k == "max_order_notional") target = &m.max_order_notional, bit = 2;
    else if (k == "max_position") target = &m.max_position, bit = 4;
    else if (k == "price_band_bps") target = &m.price_band_bps, bit = 8;
    else return make(p, fmt::format("is not a per-symbol limit (known: {})", kSymbolLimitKeys));
    if (seen & bit) return make(p, "appears more than once");
    seen |= bit;
    return read_nullable_decimal(x, p, *target);
  });
}

bool empty_limits(const core::SymbolLimits& s) {
  return !s.max_order_qty && !s.max_order_notional && !s.max_position && !s.price_band_bps;
}

/// Reads `per_symbol` into `out`. `patch`: entries patch the existing ones, null
/// removes one, entries left empty are removed; otherwise (risk.policy events)
/// each entry is exactly what is written.
Err read_per_symbol(od::value& v, std::map<std::string, core::SymbolLimits>& out, bool patch) {
  std::set<std::string, std::less<>> named;
  Err e = for_each_field(v, "per_symbol", [&](std::string_view k, od::value& x) -> Err {
    std::string symbol(k);
    const std::string p = fmt::format("per_symbol.{}", symbol);
    if (!subjects::is_valid_symbol(symbol)) {
      return make("per_symbol", fmt::format("keys must be symbols (1-64 characters from A-Z a-z 0-9 _ -), got {}",
                                            shown(symbol)));
    }
    if (!named.insert(symbol).second) return make(p, "appears more than once");
    Err err;
    if (is_null(x, err)) {
      if (!patch) return make(p, "must be an object, got null");
      out.erase(symbol);
      return {};
    }
    if (err) return err;
    core::SymbolLimits s = patch ? out[symbol] : core::SymbolLimits{};
    if (auto r = read_symbol_limits(x, p, s)) return r;
    if (patch && empty_limits(s)) {
      out.erase(symbol);
    } else {
      out[symbol] = s;
    }
    return {};
  });
  return e;
}

constexpr std::string_view kStrategyLimitKeys = "max_order_qty, max_order_notional, max_position";

/// Reads one per-strategy entry into `m` (fields absent keep their value).
Err read_strategy_limits(od::value& v, const std::string& path, core::StrategyLimits& m) {
  unsigned seen = 0;
  return for_each_field(v, path, [&](std::string_view k, od::value& x) -> Err {
    const std::string p = fmt::format("{}.{}", path, k);
    std::optional<core::Decimal>* target = nullptr;
    unsigned bit = 0;
    if (k == "max_order_qty") target = &m.max_order_qty, bit = 1;
    else if (k == "max_order_notional") target = &m.max_order_notional, bit = 2;
    else if (k == "max_position") target = &m.max_position, bit = 4;
    else return make(p, fmt::format("is not a per-strategy limit (known: {})", kStrategyLimitKeys));
    if (seen & bit) return make(p, "appears more than once");
    seen |= bit;
    return read_nullable_decimal(x, p, *target);
  });
}

/// Reads `per_strategy` (keys: strategy_ids, one subject token each) as read_per_symbol
/// reads `per_symbol`.
Err read_per_strategy(od::value& v, std::map<std::string, core::StrategyLimits>& out, bool patch) {
  std::set<std::string, std::less<>> named;
  return for_each_field(v, "per_strategy", [&](std::string_view k, od::value& x) -> Err {
    std::string id(k);
    const std::string p = fmt::format("per_strategy.{}", id);
    if (!subjects::is_valid_symbol(id)) {
      return make("per_strategy",
                  fmt::format("keys must be strategy_ids (1-64 characters from A-Z a-z 0-9 _ -), got {}", shown(id)));
    }
    if (!named.insert(id).second) return make(p, "appears more than once");
    Err err;
    if (is_null(x, err)) {
      if (!patch) return make(p, "must be an object, got null");
      out.erase(id);
      return {};
    }
    if (err) return err;
    core::StrategyLimits s = patch ? out[id] : core::StrategyLimits{};
    if (auto r = read_strategy_limits(x, p, s)) return r;
    if (patch && s == core::StrategyLimits{}) {
      out.erase(id);
    } else {
      out[id] = s;
    }
    return {};
  });
}

/// risk.policy.set: patches a copy of the current policy.
struct SetRiskPolicyBuilder {
  core::SetRiskPolicy m;
  bool have_defaults = false;
  bool have_per_symbol = false;
  bool have_per_strategy = false;
  Err field(std::string_view k, od::value& v) {
    if (k == "defaults") {
      if (have_defaults) return make(k, "appears more than once");
      have_defaults = true;
      return read_limits(v, "defaults", m.policy.defaults, false);
    }
    if (k == "per_symbol") {
      if (have_per_symbol) return make(k, "appears more than once");
      have_per_symbol = true;
      return read_per_symbol(v, m.policy.per_symbol, true);
    }
    if (k == "per_strategy") {
      if (have_per_strategy) return make(k, "appears more than once");
      have_per_strategy = true;
      return read_per_strategy(v, m.policy.per_strategy, true);
    }
    if (k == "reason") return read_string(v, k, m.reason, kTextRule);
    if (k == "ts_event") return read_ts(v, k, m.ts_event);
    return {};
  }
  Err finish() {
    if (!have_defaults && !have_per_symbol && !have_per_strategy)
      return make("", "needs defaults, per_symbol or per_strategy (nothing to change)");
    return {};
  }
};

/// risk.policy event: the whole policy as written.
struct RiskPolicyChangedBuilder {
  core::RiskPolicyChanged m;
  Seen seen;
  static constexpr std::string_view kRequired[] = {"defaults", "per_symbol", "ts_event"};
  Err field(std::string_view k, od::value& v) {
    if (k == "defaults") return seen.required(0, read_limits(v, "defaults", m.policy.defaults, true));
    if (k == "per_symbol") return seen.required(1, read_per_symbol(v, m.policy.per_symbol, false));
    if (k == "per_strategy") return read_per_strategy(v, m.policy.per_strategy, false);  // absent: none
    if (k == "ts_event") return seen.required(2, read_ts(v, k, m.ts_event));
    if (k == "reason") return read_string(v, k, m.reason, kTextRule);
    if (k == "source") return read_string(v, k, m.source, kTextRule);
    if (k == "sender") return read_string(v, k, m.sender, kNameRule);
    if (k == "cause_seq") return read_seq(v, k, m.cause_seq);
    return {};
  }
  Err finish() { return seen.check(kRequired); }
};

struct PositionBuilder {
  core::PositionSnapshot m;
  Seen seen;
  static constexpr std::string_view kRequired[] = {"symbol",       "quantity",       "avg_px",
                                                   "mark_px",      "realized_pnl",   "unrealized_pnl",
                                                   "bought_qty",   "sold_qty"};
  Err field(std::string_view k, od::value& v) {
    if (k == "symbol") return seen.required(0, read_symbol(v, k, m.symbol));
    if (k == "quantity") return seen.required(1, read_wide_decimal(v, k, m.quantity));
    if (k == "avg_px") return seen.required(2, read_wide_decimal(v, k, m.avg_px));
    if (k == "mark_px") return seen.required(3, read_wide_decimal(v, k, m.mark_px));
    if (k == "realized_pnl") return seen.required(4, read_wide_decimal(v, k, m.realized_pnl));
    if (k == "unrealized_pnl") return seen.required(5, read_wide_decimal(v, k, m.unrealized_pnl));
    if (k == "bought_qty") return seen.required(6, read_wide_decimal(v, k, m.bought_qty));
    if (k == "sold_qty") return seen.required(7, read_wide_decimal(v, k, m.sold_qty));
    if (k == "commission") return read_wide_decimal(v, k, m.commission);  // absent (recorded before it existed) = 0
    if (k == "currency") return read_symbol(v, k, m.currency);  // absent (no base currency named) = ""
    return {};
  }
  Err finish() { return seen.check(kRequired); }
};

struct CurrencyPnlBuilder {
  core::CurrencyPnl m;
  Seen seen;
  static constexpr std::string_view kRequired[] = {"currency",   "realized_pnl", "unrealized_pnl",
                                                   "total_pnl",  "commission",   "gross_notional_traded"};
  Err field(std::string_view k, od::value& v) {
    if (k == "currency") return seen.required(0, read_symbol(v, k, m.currency));
    if (k == "realized_pnl") return seen.required(1, read_wide_decimal(v, k, m.realized_pnl));
    if (k == "unrealized_pnl") return seen.required(2, read_wide_decimal(v, k, m.unrealized_pnl));
    if (k == "total_pnl") return seen.required(3, read_wide_decimal(v, k, m.total_pnl));
    if (k == "commission") return seen.required(4, read_wide_decimal(v, k, m.commission));
    if (k == "gross_notional_traded") return seen.required(5, read_wide_decimal(v, k, m.gross_notional_traded));
    if (k == "rate") return read_opt_positive_decimal(v, k, m.rate);
    if (k == "total_pnl_base") return read_opt_wide_decimal(v, k, m.total_pnl_base);
    return {};
  }
  Err finish() { return seen.check(kRequired); }
};

struct PerformanceBuilder {
  core::PerformanceReport m;
  Seen seen;
  static constexpr std::string_view kRequired[] = {
      "realized_pnl", "unrealized_pnl", "total_pnl",     "peak_pnl",        "max_drawdown",
      "gross_notional_traded",          "fills",         "orders",          "orders_denied",
      "orders_rejected",                "positions",     "ts_event"};
  Err field(std::string_view k, od::value& v) {
    if (k == "realized_pnl") return seen.required(0, read_wide_decimal(v, k, m.realized_pnl));
    if (k == "unrealized_pnl") return seen.required(1, read_wide_decimal(v, k, m.unrealized_pnl));
    if (k == "total_pnl") return seen.required(2, read_wide_decimal(v, k, m.total_pnl));
    if (k == "peak_pnl") return seen.required(3, read_wide_decimal(v, k, m.peak_pnl));
    if (k == "max_drawdown") return seen.required(4, read_wide_decimal(v, k, m.max_drawdown));
    if (k == "gross_notional_traded") return seen.required(5, read_wide_decimal(v, k, m.gross_notional_traded));
    if (k == "fills") return seen.required(6, read_count(v, k, m.fills));
    if (k == "orders") return seen.required(7, read_count(v, k, m.orders));
    if (k == "orders_denied") return seen.required(8, read_count(v, k, m.orders_denied));
    if (k == "orders_rejected") return seen.required(9, read_count(v, k, m.orders_rejected));
    if (k == "commission") return read_wide_decimal(v, k, m.commission);  // absent (recorded before it existed) = 0
    if (k == "positions") return seen.required(10, read_object_array<PositionBuilder>(v, k, m.positions));
    if (k == "base_currency") return read_symbol(v, k, m.base_currency);
    if (k == "currencies") return read_object_array<CurrencyPnlBuilder>(v, k, m.currencies);
    if (k == "ts_event") return seen.required(11, read_ts(v, k, m.ts_event));
    if (k == "cause_seq") return read_seq(v, k, m.cause_seq);
    return {};
  }
  Err finish() { return seen.check(kRequired); }
};

struct ProgressBuilder {
  core::Progress m;
  Seen seen;
  static constexpr std::string_view kRequired[] = {"worker", "root_seq", "stage"};
  Err field(std::string_view k, od::value& v) {
    if (k == "worker") return seen.required(0, read_string(v, k, m.worker, kNameRule));
    if (k == "root_seq") return seen.required(1, read_seq(v, k, m.root_seq));
    if (k == "stage") return seen.required(2, read_count(v, k, m.stage));
    return {};
  }
  Err finish() { return seen.check(kRequired); }
};

struct HeartbeatBuilder {
  core::Heartbeat m;
  Seen seen;
  static constexpr std::string_view kRequired[] = {"worker", "instance", "status", "ts"};
  Err field(std::string_view k, od::value& v) {
    if (k == "worker") return seen.required(0, read_string(v, k, m.worker, kNameRule));
    if (k == "instance") return seen.required(1, read_string(v, k, m.instance, kNameRule));
    if (k == "status") return seen.required(2, read_string(v, k, m.status, kTextRule));
    if (k == "ts") return seen.required(3, read_ts(v, k, m.ts));
    if (k == "msgs_in") return read_count(v, k, m.msgs_in);
    if (k == "msgs_out") return read_count(v, k, m.msgs_out);
    if (k == "errors") return read_count(v, k, m.errors);
    if (k == "last_input_ns") return read_ts(v, k, m.last_input_ns);
    if (k == "started_ns") return read_ts(v, k, m.started_ns);
    if (k == "log_seq") return read_seq(v, k, m.log_seq);
    if (k == "flagged") return read_count(v, k, m.flagged);
    if (k == "quarantined") return read_count(v, k, m.quarantined);
    return {};
  }
  Err finish() { return seen.check(kRequired); }
};

struct DeadLetterBuilder {
  core::DeadLetter m;
  Seen seen;
  static constexpr std::string_view kRequired[] = {"worker", "error", "ts"};
  Err field(std::string_view k, od::value& v) {
    if (k == "worker") return seen.required(0, read_string(v, k, m.worker, kNameRule));
    if (k == "error") return seen.required(1, read_string(v, k, m.error, kTextRule));
    if (k == "ts") return seen.required(2, read_ts(v, k, m.ts));
    if (k == "subject") return read_string(v, k, m.subject, kLongTextRule);
    if (k == "field") return read_string(v, k, m.field, kTextRule);
    if (k == "payload") return read_string(v, k, m.payload, kRawRule);
    if (k == "sender") return read_string(v, k, m.sender, StringRule{128, StringRule::Chars::identifier, false});
    if (k == "stream_seq") return read_seq(v, k, m.stream_seq);
    return {};
  }
  Err finish() { return seen.check(kRequired); }
};

struct WorkerStatusBuilder {
  core::WorkerStatus m;
  Seen seen;
  static constexpr std::string_view kRequired[] = {"worker", "status", "alive"};
  Err field(std::string_view k, od::value& v) {
    if (k == "worker") return seen.required(0, read_string(v, k, m.worker, kNameRule));
    if (k == "status") return seen.required(1, read_string(v, k, m.status, kTextRule));
    if (k == "alive") return seen.required(2, read_bool(v, k, m.alive));
    if (k == "instance") return read_string(v, k, m.instance, StringRule{128, StringRule::Chars::identifier, false});
    if (k == "age_ms") return read_count(v, k, m.age_ms);
    if (k == "msgs_in") return read_count(v, k, m.msgs_in);
    if (k == "msgs_out") return read_count(v, k, m.msgs_out);
    if (k == "errors") return read_count(v, k, m.errors);
    if (k == "flagged") return read_count(v, k, m.flagged);
    if (k == "quarantined") return read_count(v, k, m.quarantined);
    if (k == "log_seq") return read_seq(v, k, m.log_seq);
    return {};
  }
  Err finish() { return seen.check(kRequired); }
};

struct OpsStatusBuilder {
  core::OpsStatus m;
  Seen seen;
  static constexpr std::string_view kRequired[] = {"workers", "ts"};
  Err field(std::string_view k, od::value& v) {
    if (k == "workers") return seen.required(0, read_object_array<WorkerStatusBuilder>(v, k, m.workers));
    if (k == "ts") return seen.required(1, read_ts(v, k, m.ts));
    if (k == "status") return read_string(v, k, m.status, kNameRule);
    return {};
  }
  Err finish() { return seen.check(kRequired); }
};

// ---- session.lifecycle / session.workers.<worker> -----------------------------------------

struct SessionStartedBuilder {
  core::SessionStarted m;
  Seen seen;
  static constexpr std::string_view kRequired[] = {"session_id", "kind", "started_by", "version", "ts_wall"};
  Err field(std::string_view k, od::value& v) {
    if (k == "session_id") return seen.required(0, read_session_id(v, k, m.session_id));
    if (k == "kind") return seen.required(1, read_session_kind(v, k, m.kind));
    if (k == "started_by") return seen.required(2, read_nonempty_string(v, k, m.started_by));
    if (k == "version") return seen.required(3, read_nonempty_string(v, k, m.version));
    if (k == "ts_wall") return seen.required(4, read_ts(v, k, m.ts_wall));
    if (k == "source_session_id") return read_session_id(v, k, m.source_session_id);
    if (k == "data_source") return read_string(v, k, m.data_source, kLongTextRule);
    if (k == "reason") return read_string(v, k, m.reason, kTextRule);
    if (k == "input_set") return read_session_id(v, k, m.input_set);
    return {};
  }
  Err finish() { return seen.check(kRequired); }
};

struct SessionEndedBuilder {
  core::SessionEnded m;
  Seen seen;
  static constexpr std::string_view kRequired[] = {"session_id", "ts_wall"};
  Err field(std::string_view k, od::value& v) {
    if (k == "session_id") return seen.required(0, read_session_id(v, k, m.session_id));
    if (k == "ts_wall") return seen.required(1, read_ts(v, k, m.ts_wall));
    if (k == "reason") return read_string(v, k, m.reason, kTextRule);
    return {};
  }
  Err finish() { return seen.check(kRequired); }
};

/// A JSON array of file line numbers (integers >= 1), at most 64; element errors are
/// reported as "<key>[i]".
Err read_line_array(od::value& v, std::string_view key, std::vector<std::int64_t>& out) {
  od::json_type t;
  if (auto e = v.type().get(t)) return json_error(e);
  if (t != od::json_type::array) return make(key, "must be an array of line numbers, got " + describe(v, t));
  od::array arr;
  if (auto e = v.get_array().get(arr)) return json_error(e);
  out.clear();
  for (auto er : arr) {
    od::value ev;
    if (auto e = std::move(er).get(ev)) return json_error(e);
    const std::string path = fmt::format("{}[{}]", key, out.size());
    if (out.size() >= 64) return make(key, "must have at most 64 elements");
    if (auto e = read_count(ev, path, out.emplace_back())) return e;
    if (out.back() < 1) return make(path, "must be a line number >= 1, got 0");
  }
  return {};
}

struct FeedFindingsBuilder {
  core::FeedFindings m;
  Seen seen;
  static constexpr std::string_view kRequired[] = {"kind", "count", "lines"};
  Err field(std::string_view k, od::value& v) {
    if (k == "kind") return seen.required(0, read_string(v, k, m.kind, kNameRule));
    if (k == "count") return seen.required(1, read_count(v, k, m.count));
    if (k == "lines") return seen.required(2, read_line_array(v, k, m.lines));
    return {};
  }
  Err finish() { return seen.check(kRequired); }
};

struct FeedSummaryBuilder {
  core::FeedSummaryEvent m;
  Seen seen;
  static constexpr std::string_view kRequired[] = {"data_source", "format", "published", "by_kind"};
  Err field(std::string_view k, od::value& v) {
    if (k == "data_source") return seen.required(0, read_string(v, k, m.data_source, kLongTextRule));
    if (k == "format") return seen.required(1, read_string(v, k, m.format, kNameRule));
    if (k == "published") return seen.required(2, read_count(v, k, m.published));
    if (k == "by_kind") return seen.required(3, read_object_array<FeedFindingsBuilder>(v, k, m.by_kind));
    if (k == "quotes") return read_count(v, k, m.quotes);
    if (k == "trades") return read_count(v, k, m.trades);
    if (k == "bars") return read_count(v, k, m.bars);
    if (k == "bad_rows") return read_count(v, k, m.bad_rows);
    if (k == "dropped") return read_count(v, k, m.dropped);
    if (k == "flagged") return read_count(v, k, m.flagged);
    if (k == "policy") return read_string(v, k, m.policy, kLongTextRule);
    if (k == "ts_event") return read_ts(v, k, m.ts_event);
    return {};
  }
  Err finish() { return seen.check(kRequired); }
};

struct WorkerStartedBuilder {
  core::WorkerStarted m;
  Seen seen;
  static constexpr std::string_view kRequired[] = {"worker",  "instance", "version",
                                                   "ts_wall", "config",   "config_hash"};
  Err field(std::string_view k, od::value& v) {
    if (k == "worker") return seen.required(0, read_symbol(v, k, m.worker));
    if (k == "instance") return seen.required(1, read_nonempty_string(v, k, m.instance));
    if (k == "version") return seen.required(2, read_nonempty_string(v, k, m.version));
    if (k == "ts_wall") return seen.required(3, read_ts(v, k, m.ts_wall));
    if (k == "config") return seen.required(4, read_string_object(v, k, m.config));
    if (k == "config_hash") return seen.required(5, read_sha256(v, k, m.config_hash));
    if (k == "args") return read_string_array(v, k, m.args);
    if (k == "data_source") return read_string(v, k, m.data_source, kLongTextRule);
    if (k == "data_sha256") return read_sha256(v, k, m.data_sha256);
    return {};
  }
  Err finish() { return seen.check(kRequired); }
};

Error unknown_type(std::string_view type, std::string_view expected) {
  return make("type", fmt::format("unknown message type {} on this subject (expected {})",
                                  shown(type), expected));
}

}  // namespace

// ---- Decoder ---------------------------------------------------------------------------

struct Decoder::Impl {
  od::parser parser;
  od::document doc;
  std::unique_ptr<char[]> buf;
  std::size_t cap = 0;

  /// Copies `json` into the padded buffer and starts a document over it.
  Err load(std::string_view json) {
    if (json.find_first_not_of(" \t\r\n") == std::string_view::npos) {
      return make("", "not valid JSON: empty message");
    }
    const std::size_t need = json.size() + simdjson::SIMDJSON_PADDING;
    if (cap < need) {
      cap = std::max(need, std::max<std::size_t>(2 * cap, 1024));
      buf.reset(new char[cap]);
    }
    std::memcpy(buf.get(), json.data(), json.size());
    std::memset(buf.get() + json.size(), 0, simdjson::SIMDJSON_PADDING);
    if (auto e = parser.iterate(buf.get(), json.size(), cap).get(doc)) return json_error(e);
    return {};
  }

  Err open_object(od::object& obj) {
    od::json_type t;
    if (auto e = doc.type().get(t)) return json_error(e);
    if (t != od::json_type::object) return make("", "must be a JSON object, got " + kind_name(t));
    if (auto e = doc.get_object().get(obj)) return json_error(e);
    return {};
  }

  /// After the object: nothing but whitespace may follow. current_location()
  /// fails only when the iterator is alive and at the end of the input.
  Err check_end() {
    if (!doc.current_location().error()) {
      return make("", "not valid JSON: unexpected content after the object");
    }
    return {};
  }

  static Err check_version(od::value& v) {
    od::json_type t;
    if (auto e = v.type().get(t)) return json_error(e);
    std::int64_t n = 0;
    if (t == od::json_type::number && !v.get_int64().get(n) && n == core::kSchemaVersion) return {};
    return make("v", fmt::format("must be {} (the only schema version this build reads), got {}",
                                 core::kSchemaVersion, describe(v, t)));
  }

  /// One pass over the object: on_type(type) once, then on_field(key, value)
  /// for every field except "type" and "v". See the file comment.
  template <class OnType, class OnField>
  Err walk(std::string_view json, OnType&& on_type, OnField&& on_field) {
    if (auto e = load(json)) return e;
    od::object obj;
    if (auto e = open_object(obj)) return e;
    bool have_type = false;
    bool late = false;  // fields came before "type": hand them over in a second pass
    for (auto fr : obj) {
      od::field f;
      if (auto e = std::move(fr).get(f)) return json_error(e);
      const std::string_view key = key_of(f);
      od::value& v = f.value();
      if (key == "type") {
        if (have_type) return make("type", "appears more than once");
        od::json_type t;
        if (auto e = v.type().get(t)) return json_error(e);
        if (t != od::json_type::string) return make("type", "must be a string, got " + describe(v, t));
        std::string_view type;
        if (auto e = v.get_string().get(type)) return json_error(e);
        if (auto e = on_type(type)) return e;
        have_type = true;
      } else if (key == "v") {
        if (auto e = check_version(v)) return e;
      } else if (!have_type) {
        late = true;
      } else if (!late) {
        if (auto e = on_field(key, v)) return e;
      }
    }
    if (auto e = check_end()) return e;
    if (!have_type) return missing("type");
    if (!late) return {};
    doc.rewind();
    if (auto e = doc.get_object().get(obj)) return json_error(e);
    for (auto fr : obj) {
      od::field f;
      if (auto e = std::move(fr).get(f)) return json_error(e);
      const std::string_view key = key_of(f);
      if (key == "type" || key == "v") continue;
      if (auto e = on_field(key, f.value())) return e;
    }
    return {};
  }

  /// For subjects that carry exactly one message type.
  template <class B>
  core::Result<decltype(B::m)> decode_one(std::string_view json, std::string_view type) {
    B b;
    Err e = walk(
        json,
        [&](std::string_view t) -> Err {
          if (t != type) return unknown_type(t, type);
          return {};
        },
        [&](std::string_view k, od::value& v) { return b.field(k, v); });
    if (!e) e = b.finish();
    if (e) return std::move(*e);
    return std::move(b.m);
  }
};

Decoder::Decoder() : impl_(std::make_unique<Impl>()) {}
Decoder::~Decoder() = default;
Decoder::Decoder(Decoder&&) noexcept = default;
Decoder& Decoder::operator=(Decoder&&) noexcept = default;

core::Result<core::MarketData> Decoder::decode_market_data(std::string_view json) {
  std::variant<std::monostate, QuoteBuilder, TradeBuilder, BarBuilder> b;
  Err e = impl_->walk(
      json,
      [&](std::string_view t) -> Err {
        if (t == core::Quote::kType) b.emplace<QuoteBuilder>();
        else if (t == core::Trade::kType) b.emplace<TradeBuilder>();
        else if (t == core::Bar::kType) b.emplace<BarBuilder>();
        else return unknown_type(t, "quote, trade or bar");
        return {};
      },
      [&](std::string_view k, od::value& v) -> Err {
        return std::visit(
            [&](auto& x) -> Err {
              if constexpr (std::is_same_v<std::decay_t<decltype(x)>, std::monostate>) return {};
              else return x.field(k, v);
            },
            b);
      });
  if (e) return std::move(*e);
  return std::visit(
      [](auto& x) -> core::Result<core::MarketData> {
        if constexpr (std::is_same_v<std::decay_t<decltype(x)>, std::monostate>) {
          return missing("type");  // unreachable: walk() requires a type
        } else {
          if (auto err = x.finish()) return std::move(*err);
          return core::MarketData{std::move(x.m)};
        }
      },
      b);
}

core::Result<core::OrderCommand> Decoder::decode_order_command(std::string_view json) {
  return order_command(json, false);
}

core::Result<core::OrderCommand> Decoder::order_command(std::string_view json, bool host_assigns_ids) {
  std::variant<std::monostate, OrderSubmitBuilder, OrderCancelBuilder, OrderReplaceBuilder> b;
  Err e = impl_->walk(
      json,
      [&](std::string_view t) -> Err {
        // host_assigns_ids: client_order_id counts as given (empty) unless present.
        if (t == core::OrderSubmit::kType) {
          auto& s = b.emplace<OrderSubmitBuilder>();
          if (host_assigns_ids) s.seen.required(0, {});
        } else if (t == core::OrderCancel::kType) {
          b.emplace<OrderCancelBuilder>();
        } else if (t == core::OrderReplace::kType) {
          auto& r = b.emplace<OrderReplaceBuilder>();
          if (host_assigns_ids) r.seen.required(0, {});
        } else {
          return unknown_type(t, "order.submit, order.cancel or order.replace");
        }
        return {};
      },
      [&](std::string_view k, od::value& v) -> Err {
        if (host_assigns_ids && k == "client_order_id") {
          if (auto* s = std::get_if<OrderSubmitBuilder>(&b)) return read_string(v, k, s->m.client_order_id, kOptIdRule);
          if (auto* r = std::get_if<OrderReplaceBuilder>(&b)) return read_string(v, k, r->m.client_order_id, kOptIdRule);
        }
        if (auto* s = std::get_if<OrderSubmitBuilder>(&b)) return s->field(k, v);
        if (auto* c = std::get_if<OrderCancelBuilder>(&b)) return c->field(k, v);
        if (auto* r = std::get_if<OrderReplaceBuilder>(&b)) return r->field(k, v);
        return {};
      });
  if (e) return std::move(*e);
  if (auto* s = std::get_if<OrderSubmitBuilder>(&b)) {
    if (auto err = s->finish()) return std::move(*err);
    return core::OrderCommand{std::move(s->m)};
  }
  if (auto* r = std::get_if<OrderReplaceBuilder>(&b)) {
    if (auto err = r->finish()) return std::move(*err);
    return core::OrderCommand{std::move(r->m)};
  }
  auto& c = std::get<OrderCancelBuilder>(b);
  if (auto err = c.finish()) return std::move(*err);
  return core::OrderCommand{std::move(c.m)};
}

core::Result<core::ExecutionReport> Decoder::decode_execution_report(std::string_view json) {
  return impl_->decode_one<ExecutionReportBuilder>(json, core::ExecutionReport::kType);
}

core::Result<core::RiskStateChanged> Decoder::decode_risk_state(std::string_view json) {
  return impl_->decode_one<RiskStateBuilder>(json, core::RiskStateChanged::kType);
}

core::Result<core::SetTradingState> Decoder::decode_risk_command(std::string_view json) {
  SetTradingStateBuilder b;
  Err e = impl_->walk(
      json,
      [&](std::string_view t) -> Err {
        if (t == core::SetTradingState::kType) return {};
        if (t == "halt") {
          b.shorthand = true;
          b.m.trading_state = core::TradingState::halted;
          return {};
        }
        if (t == "resume") {
          b.shorthand = true;
          b.m.trading_state = core::TradingState::active;
          return {};
        }
        return unknown_type(t, "trading_state.set, halt or resume");
      },
      [&](std::string_view k, od::value& v) { return b.field(k, v); });
  if (!e) e = b.finish();
  if (e) return std::move(*e);
  return std::move(b.m);
}

core::Result<core::RiskCommand> Decoder::decode_risk_management(std::string_view json,
                                                                const core::RiskPolicy& current) {
  std::variant<std::monostate, SetTradingStateBuilder, SetRiskPolicyBuilder> b;
  Err e = impl_->walk(
      json,
      [&](std::string_view t) -> Err {
        if (t == core::SetRiskPolicy::kType) {
          b.emplace<SetRiskPolicyBuilder>().m.policy = current;
          return {};
        }
        auto& s = b.emplace<SetTradingStateBuilder>();
        if (t == core::SetTradingState::kType) return {};
        s.shorthand = true;
        if (t == "halt") {
          s.m.trading_state = core::TradingState::halted;
          return {};
        }
        if (t == "resume") {
          s.m.trading_state = core::TradingState::active;
          return {};
        }
        return unknown_type(t, "trading_state.set, halt, resume or risk.policy.set");
      },
      [&](std::string_view k, od::value& v) -> Err {
        if (auto* s = std::get_if<SetTradingStateBuilder>(&b)) return s->field(k, v);
        if (auto* p = std::get_if<SetRiskPolicyBuilder>(&b)) return p->field(k, v);
        return {};
      });
  if (e) return std::move(*e);
  if (auto* p = std::get_if<SetRiskPolicyBuilder>(&b)) {
    if (auto err = p->finish()) return std::move(*err);
    return core::RiskCommand{std::move(p->m)};
  }
  auto& s = std::get<SetTradingStateBuilder>(b);
  if (auto err = s.finish()) return std::move(*err);
  return core::RiskCommand{std::move(s.m)};
}

core::Result<RiskEvent> Decoder::decode_risk_event(std::string_view json) {
  std::variant<std::monostate, RiskStateBuilder, RiskPolicyChangedBuilder> b;
  Err e = impl_->walk(
      json,
      [&](std::string_view t) -> Err {
        if (t == core::RiskStateChanged::kType) b.emplace<RiskStateBuilder>();
        else if (t == core::RiskPolicyChanged::kType) b.emplace<RiskPolicyChangedBuilder>();
        else return unknown_type(t, "risk.state or risk.policy");
        return {};
      },
      [&](std::string_view k, od::value& v) -> Err {
        if (auto* s = std::get_if<RiskStateBuilder>(&b)) return s->field(k, v);
        if (auto* p = std::get_if<RiskPolicyChangedBuilder>(&b)) return p->field(k, v);
        return {};
      });
  if (e) return std::move(*e);
  if (auto* p = std::get_if<RiskPolicyChangedBuilder>(&b)) {
    if (auto err = p->finish()) return std::move(*err);
    return RiskEvent{std::move(p->m)};
  }
  auto& s = std::get<RiskStateBuilder>(b);
  if (auto err = s.finish()) return std::move(*err);
  return RiskEvent{std::move(s.m)};
}

core::Result<core::InstrumentStatus> Decoder::decode_instrument_status(std::string_view json) {
  return impl_->decode_one<InstrumentStatusBuilder>(json, core::InstrumentStatus::kType);
}

core::Result<core::CorporateAction> Decoder::decode_corporate_action(std::string_view json) {
  return impl_->decode_one<CorporateActionBuilder>(json, core::CorporateAction::kType);
}

core::Result<core::PerformanceReport> Decoder::decode_performance(std::string_view json) {
  PerformanceBuilder b;
  Err e = impl_->walk(
      json,
      [&](std::string_view t) -> Err {
        if (t == core::PerformanceReport::kMetricsType) b.m.final_report = false;
        else if (t == core::PerformanceReport::kReportType) b.m.final_report = true;
        else return unknown_type(t, "performance.metrics or performance.report");
        return {};
      },
      [&](std::string_view k, od::value& v) { return b.field(k, v); });
  if (!e) e = b.finish();
  if (e) return std::move(*e);
  return std::move(b.m);
}

core::Result<core::Progress> Decoder::decode_progress(std::string_view json) {
  return impl_->decode_one<ProgressBuilder>(json, core::Progress::kType);
}

core::Result<core::Heartbeat> Decoder::decode_heartbeat(std::string_view json) {
  return impl_->decode_one<HeartbeatBuilder>(json, core::Heartbeat::kType);
}

core::Result<core::DeadLetter> Decoder::decode_dead_letter(std::string_view json) {
  return impl_->decode_one<DeadLetterBuilder>(json, core::DeadLetter::kType);
}

core::Result<core::OpsStatus> Decoder::decode_ops_status(std::string_view json) {
  return impl_->decode_one<OpsStatusBuilder>(json, core::OpsStatus::kType);
}

core::Result<core::SessionLifecycle> Decoder::decode_session_lifecycle(std::string_view json) {
  std::variant<std::monostate, SessionStartedBuilder, SessionEndedBuilder> b;
  Err e = impl_->walk(
      json,
      [&](std::string_view t) -> Err {
        if (t == core::SessionStarted::kType) b.emplace<SessionStartedBuilder>();
        else if (t == core::SessionEnded::kType) b.emplace<SessionEndedBuilder>();
        else return unknown_type(t, "session.started or session.ended");
        return {};
      },
      [&](std::string_view k, od::value& v) -> Err {
        if (auto* s = std::get_if<SessionStartedBuilder>(&b)) return s->field(k, v);
        if (auto* n = std::get_if<SessionEndedBuilder>(&b)) return n->field(k, v);
        return {};
      });
  if (e) return std::move(*e);
  if (auto* s = std::get_if<SessionStartedBuilder>(&b)) {
    if (auto err = s->finish()) return std::move(*err);
    return core::SessionLifecycle{std::move(s->m)};
  }
  auto& n = std::get<SessionEndedBuilder>(b);
  if (auto err = n.finish()) return std::move(*err);
  return core::SessionLifecycle{std::move(n.m)};
}

core::Result<core::WorkerStarted> Decoder::decode_worker_started(std::string_view json) {
  return impl_->decode_one<WorkerStartedBuilder>(json, core::WorkerStarted::kType);
}

core::Result<core::FeedSummaryEvent> Decoder::decode_feed_summary(std::string_view json) {
  return impl_->decode_one<FeedSummaryBuilder>(json, core::FeedSummaryEvent::kType);
}

core::Result<Envelope> Decoder::peek(std::string_view json) {
  auto& s = *impl_;
  if (auto e = s.load(json)) return std::move(*e);
  od::object obj;
  if (auto e = s.open_object(obj)) return std::move(*e);
  Envelope env;
  bool have_type = false;
  for (auto fr : obj) {
    od::field f;
    if (auto e = std::move(fr).get(f)) return json_error(e);
    const std::string_view key = key_of(f);
    od::value& v = f.value();
    if (key == "type") {
      if (have_type) return make("type", "appears more than once");
      if (auto e = read_string(v, key, env.type, kTypeRule)) return std::move(*e);
      have_type = true;
    } else if (key == "ts_event") {
      std::int64_t ts = 0;
      if (!read_ts(v, key, ts)) env.ts_event = ts;
    } else if (key == "cause_seq") {
      std::uint64_t seq = 0;
      if (!read_seq(v, key, seq)) env.cause_seq = seq;
    } else if (key == "client_order_id") {
      std::string id;  // only a valid id: the store indexes it (a hostile one stays in the payload)
      if (!read_string(v, key, id, kIdRule)) env.client_order_id = std::move(id);
    }
  }
  if (auto e = s.check_end()) return std::move(*e);
  if (!have_type) return missing("type");
  return env;
}

core::Result<StrategyReply> Decoder::decode_strategy_reply(std::string_view json) {
  constexpr std::size_t kMaxItems = 10'000;
  auto& s = *impl_;
  if (auto e = s.load(json)) return std::move(*e);
  od::object obj;
  if (auto e = s.open_object(obj)) return std::move(*e);
  StrategyReply out;
  std::vector<std::string> commands;  // each command's text, decoded after this pass
  bool have_commands = false, have_timers = false;
  for (auto fr : obj) {
    od::field f;
    if (auto e = std::move(fr).get(f)) return json_error(e);
    const std::string_view key = key_of(f);
    od::value& v = f.value();
    od::json_type t;
    if (key != "type" && key != "commands" && key != "timers") continue;
    if (auto e = v.type().get(t)) return json_error(e);
    if (key == "type") {
      std::string type;
      if (auto e = read_string(v, key, type, kTypeRule)) return std::move(*e);
      if (type != "strategy.reply") return unknown_type(type, "strategy.reply");
      continue;
    }
    if ((key == "commands" && std::exchange(have_commands, true)) || (key == "timers" && std::exchange(have_timers, true)))
      return make(key, "appears more than once");
    if (t != od::json_type::array) return make(key, "must be an array, got " + describe(v, t));
    od::array arr;
    if (auto e = v.get_array().get(arr)) return json_error(e);
    std::size_t i = 0;
    for (auto er : arr) {
      od::value el;
      if (auto e = std::move(er).get(el)) return json_error(e);
      if (i >= kMaxItems) return make(key, fmt::format("must have at most {} items", kMaxItems));
      od::json_type et;
      if (auto e = el.type().get(et)) return json_error(e);
      if (et != od::json_type::object) return nested(key, i, make("", "must be an object, got " + describe(el, et)));
      od::object item;
      if (auto e = el.get_object().get(item)) return json_error(e);
      if (key == "commands") {
        std::string_view raw;
        if (auto e = item.raw_json().get(raw)) return json_error(e);
        commands.emplace_back(raw);
      } else {
        StrategyTimer timer;
        bool have_at = false;
        for (auto tr : item) {
          od::field tf;
          if (auto e = std::move(tr).get(tf)) return json_error(e);
          const std::string_view tk = key_of(tf);
          if (tk == "at") {
            if (auto e = read_ts(tf.value(), tk, timer.at)) return nested(key, i, std::move(*e));
            have_at = true;
          } else if (tk == "tag") {
            if (auto e = read_string(tf.value(), tk, timer.tag, kTextRule)) return nested(key, i, std::move(*e));
          }
        }
        if (!have_at) return nested(key, i, missing("at"));
        out.timers.push_back(std::move(timer));
      }
      ++i;
    }
  }
  if (auto e = s.check_end()) return std::move(*e);
  for (std::size_t i = 0; i < commands.size(); ++i) {
    auto c = order_command(commands[i], true);
    if (!c) return nested("commands", i, c.error());
    out.commands.push_back(std::move(*c));
  }
  return out;
}

// ---- one-shot forms ---------------------------------------------------------------------

core::Result<core::MarketData> decode_market_data(std::string_view json) {
  return Decoder().decode_market_data(json);
}
core::Result<core::OrderCommand> decode_order_command(std::string_view json) {
  return Decoder().decode_order_command(json);
}
core::Result<core::ExecutionReport> decode_execution_report(std::string_view json) {
  return Decoder().decode_execution_report(json);
}
core::Result<core::RiskStateChanged> decode_risk_state(std::string_view json) {
  return Decoder().decode_risk_state(json);
}
core::Result<core::SetTradingState> decode_risk_command(std::string_view json) {
  return Decoder().decode_risk_command(json);
}
core::Result<core::RiskCommand> decode_risk_management(std::string_view json, const core::RiskPolicy& current) {
  return Decoder().decode_risk_management(json, current);
}
core::Result<RiskEvent> decode_risk_event(std::string_view json) { return Decoder().decode_risk_event(json); }
core::Result<core::InstrumentStatus> decode_instrument_status(std::string_view json) {
  return Decoder().decode_instrument_status(json);
}
core::Result<core::CorporateAction> decode_corporate_action(std::string_view json) {
  return Decoder().decode_corporate_action(json);
}
core::Result<core::PerformanceReport> decode_performance(std::string_view json) {
  return Decoder().decode_performance(json);
}
core::Result<core::Progress> decode_progress(std::string_view json) { return Decoder().decode_progress(json); }
core::Result<core::Heartbeat> decode_heartbeat(std::string_view json) {
  return Decoder().decode_heartbeat(json);
}
core::Result<core::DeadLetter> decode_dead_letter(std::string_view json) {
  return Decoder().decode_dead_letter(json);
}
core::Result<core::OpsStatus> decode_ops_status(std::string_view json) {
  return Decoder().decode_ops_status(json);
}
core::Result<core::SessionLifecycle> decode_session_lifecycle(std::string_view json) {
  return Decoder().decode_session_lifecycle(json);
}
core::Result<core::FeedSummaryEvent> decode_feed_summary(std::string_view json) {
  return Decoder().decode_feed_summary(json);
}
core::Result<core::WorkerStarted> decode_worker_started(std::string_view json) {
  return Decoder().decode_worker_started(json);
}
core::Result<Envelope> peek(std::string_view json) { return Decoder().peek(json); }
core::Result<StrategyReply> decode_strategy_reply(std::string_view json) {
  return Decoder().decode_strategy_reply(json);
}

}  // namespace codec
