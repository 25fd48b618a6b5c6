// The report page: validates the analysis JSON (the shape report.js reads), then assembles
// the page from the inlined assets (report_page.hpp, docs/report-page.md).
#include "reportpage/report_page.hpp"

#include <array>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <vector>

#include <fmt/format.h>
#include <openssl/evp.h>
#include <simdjson.h>

#include "core/decimal.hpp"
#include "reportpage/assets.hpp"

namespace reportpage {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

// What a value must be. The composite kinds name the contract's structures.
enum class Kind {
  kString, kStatus, kSide, kInt, kIntOrNull, kNumberOrNull, kDecimal, kDecimalOrNull,
  kSettings, kSpan, kStats, kSymbolStatsList, kStrategyStatsList, kRejections, kStrings,
  kDataQuality, kByKind, kInts, kEquityCurve, kPositions, kFills, kPrices, kRoundTrips,
};

struct Field {
  std::string_view key;
  Kind kind;
  bool required;
};

// STATS (the same keys in totals, per_symbol and per_strategy entries); all optional: a
// missing one shows as "—".
constexpr Field kStatsFields[] = {
    {"pnl_total", Kind::kDecimalOrNull, false},       {"pnl_realized", Kind::kDecimalOrNull, false},
    {"pnl_unrealized", Kind::kDecimalOrNull, false},  {"commission", Kind::kDecimalOrNull, false},
    {"slippage", Kind::kDecimalOrNull, false},        {"gross_notional_traded", Kind::kDecimalOrNull, false},
    {"turnover", Kind::kNumberOrNull, false},         {"return_pct", Kind::kNumberOrNull, false},
    {"annualized_return_pct", Kind::kNumberOrNull, false}, {"sharpe", Kind::kNumberOrNull, false},
    {"sortino", Kind::kNumberOrNull, false},          {"calmar", Kind::kNumberOrNull, false},
    {"max_drawdown", Kind::kDecimalOrNull, false},    {"max_drawdown_pct", Kind::kNumberOrNull, false},
    {"max_drawdown_duration_ns", Kind::kIntOrNull, false}, {"round_trips", Kind::kIntOrNull, false},
    {"wins", Kind::kIntOrNull, false},                {"losses", Kind::kIntOrNull, false},
    {"win_rate", Kind::kNumberOrNull, false},         {"profit_factor", Kind::kNumberOrNull, false},
    {"expectancy", Kind::kDecimalOrNull, false},      {"avg_win", Kind::kDecimalOrNull, false},
    {"avg_loss", Kind::kDecimalOrNull, false},        {"time_in_market_pct", Kind::kNumberOrNull, false},
    {"fills", Kind::kIntOrNull, false},               {"orders", Kind::kIntOrNull, false},
    {"orders_denied", Kind::kIntOrNull, false},       {"orders_rejected", Kind::kIntOrNull, false},
    {"daily_returns", Kind::kIntOrNull, false},  // written by analytics::to_json, beyond the contract's list
};
constexpr Field kSymbolKey[] = {{"symbol", Kind::kString, true}};
constexpr Field kStrategyKey[] = {{"strategy_id", Kind::kString, true}};

constexpr Field kTopFields[] = {
    {"type", Kind::kString, true},  // checked = "analysis" below
    {"v", Kind::kInt, true},        // checked = 1 below
    {"title", Kind::kString, false},
    {"session_id", Kind::kString, false},
    {"status", Kind::kStatus, false},
    {"settings", Kind::kSettings, false},
    {"span", Kind::kSpan, false},
    {"totals", Kind::kStats, false},
    {"per_symbol", Kind::kSymbolStatsList, false},
    {"per_strategy", Kind::kStrategyStatsList, false},
    {"rejections", Kind::kRejections, false},
    {"warnings", Kind::kStrings, false},
    {"data_quality", Kind::kDataQuality, false},
    {"equity_curve", Kind::kEquityCurve, false},
    {"positions", Kind::kPositions, false},
    {"fills", Kind::kFills, false},
    {"prices", Kind::kPrices, false},
    {"round_trips", Kind::kRoundTrips, false},
};
constexpr Field kSettingsFields[] = {
    {"starting_capital", Kind::kDecimalOrNull, false}, {"base_currency", Kind::kString, false},
    {"periods_per_year", Kind::kNumberOrNull, false},  {"risk_free_rate", Kind::kNumberOrNull, false},
    {"return_period", Kind::kString, false},
};
constexpr Field kSpanFields[] = {{"first_ts", Kind::kIntOrNull, false}, {"last_ts", Kind::kIntOrNull, false}};
constexpr Field kRejectionFields[] = {
    {"exec_type", Kind::kString, false}, {"reason", Kind::kString, true}, {"count", Kind::kInt, true}};
constexpr Field kDataQualityFields[] = {
    {"dropped", Kind::kIntOrNull, false}, {"flagged", Kind::kIntOrNull, false}, {"by_kind", Kind::kByKind, false}};
constexpr Field kByKindFields[] = {
    {"kind", Kind::kString, true}, {"count", Kind::kInt, true}, {"lines", Kind::kInts, false}};
constexpr Field kEquityFields[] = {
    {"ts", Kind::kInt, true},       {"equity", Kind::kDecimal, true},   {"pnl", Kind::kDecimal, false},
    {"drawdown", Kind::kDecimal, true}, {"drawdown_pct", Kind::kNumberOrNull, false}};
constexpr Field kPositionFields[] = {
    {"ts", Kind::kInt, true}, {"symbol", Kind::kString, true}, {"strategy_id", Kind::kString, false},
    {"quantity", Kind::kDecimal, true}};
constexpr Field kFillFields[] = {
    {"ts", Kind::kInt, true},          {"symbol", Kind::kString, true},
    {"strategy_id", Kind::kString, false}, {"client_order_id", Kind::kString, false},
    {"side", Kind::kSide, true},       {"quantity", Kind::kDecimal, true},
    {"price", Kind::kDecimal, true},   {"commission", Kind::kDecimalOrNull, false},
    {"slippage", Kind::kDecimalOrNull, false}};
constexpr Field kPriceFields[] = {
    {"ts", Kind::kInt, true}, {"symbol", Kind::kString, true}, {"price", Kind::kDecimal, true}};
constexpr Field kRoundTripFields[] = {
    {"symbol", Kind::kString, true},      {"strategy_id", Kind::kString, false},
    {"direction", Kind::kString, false},  {"quantity", Kind::kDecimal, true},
    {"entry_ts", Kind::kInt, true},       {"exit_ts", Kind::kInt, true},
    {"entry_px", Kind::kDecimal, true},   {"exit_px", Kind::kDecimal, true},
    {"pnl", Kind::kDecimal, true},        {"commission", Kind::kDecimalOrNull, false},
    {"holding_ns", Kind::kIntOrNull, false}};

// A value quoted in an error message: at most 40 bytes, control characters as '?'.
std::string quote(element el) {
  std::string text;
  if (std::string_view s; el.get_string().get(s) == simdjson::SUCCESS) {
    text = "\"" + std::string(s.substr(0, 40)) + (s.size() > 40 ? "...\"" : "\"");
  } else {
    switch (el.type()) {
      case element_type::ARRAY: text = "an array"; break;
      case element_type::OBJECT: text = "an object"; break;
      case element_type::NULL_VALUE: text = "null"; break;
      case element_type::BOOL: text = el.get_bool().value_unsafe() ? "true" : "false"; break;
      default: text = simdjson::minify(el); break;
    }
  }
  for (char& c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return text;
}

bool is_int(element el) { return el.type() == element_type::INT64 || el.type() == element_type::UINT64; }
bool is_number(element el) { return is_int(el) || el.type() == element_type::DOUBLE; }

core::Error wrong(std::string path, element el, std::string_view what) {
  return core::Error{std::move(path), fmt::format("must be {}, got {}", what, quote(el))};
}

std::optional<core::Error> check_fields(element el, const std::string& path,
                                        std::initializer_list<std::span<const Field>> specs);

std::optional<core::Error> check_list(element el, const std::string& path,
                                      std::initializer_list<std::span<const Field>> specs) {
  simdjson::dom::array arr;
  if (el.get_array().get(arr) != simdjson::SUCCESS) return wrong(path, el, "an array");
  std::size_t i = 0;
  for (element item : arr) {
    if (auto e = check_fields(item, fmt::format("{}[{}]", path, i), specs)) return e;
    ++i;
  }
  return std::nullopt;
}

std::optional<core::Error> check_value(element el, const std::string& path, Kind kind) {
  const bool null = el.type() == element_type::NULL_VALUE;
  std::string_view s;
  const bool string = el.get_string().get(s) == simdjson::SUCCESS;
  switch (kind) {
    case Kind::kString:
      if (!string) return wrong(path, el, "a string");
      return std::nullopt;
    case Kind::kStatus:
      if (!string || (s != "final" && s != "interim")) return wrong(path, el, "\"final\" or \"interim\"");
      return std::nullopt;
    case Kind::kSide:
      if (!string || (s != "buy" && s != "sell")) return wrong(path, el, "\"buy\" or \"sell\"");
      return std::nullopt;
    case Kind::kInt:
      if (!is_int(el)) return wrong(path, el, "an integer");
      return std::nullopt;
    case Kind::kIntOrNull:
      if (!is_int(el) && !null) return wrong(path, el, "an integer or null");
      return std::nullopt;
    case Kind::kNumberOrNull:
      if (!is_number(el) && !null) return wrong(path, el, "a number or null");
      return std::nullopt;
    case Kind::kDecimal:
    case Kind::kDecimalOrNull:
      if (null && kind == Kind::kDecimalOrNull) return std::nullopt;
      if (!string || !core::Decimal::parse(s)) {
        return wrong(path, el, kind == Kind::kDecimal ? "a decimal string" : "a decimal string or null");
      }
      return std::nullopt;
    case Kind::kSettings: return check_fields(el, path, {kSettingsFields});
    case Kind::kSpan: return check_fields(el, path, {kSpanFields});
    case Kind::kStats: return check_fields(el, path, {kStatsFields});
    case Kind::kSymbolStatsList: return check_list(el, path, {kSymbolKey, kStatsFields});
    case Kind::kStrategyStatsList: return check_list(el, path, {kStrategyKey, kStatsFields});
    case Kind::kRejections: return check_list(el, path, {kRejectionFields});
    case Kind::kDataQuality: return check_fields(el, path, {kDataQualityFields});
    case Kind::kByKind: return check_list(el, path, {kByKindFields});
    case Kind::kEquityCurve: return check_list(el, path, {kEquityFields});
    case Kind::kPositions: return check_list(el, path, {kPositionFields});
    case Kind::kFills: return check_list(el, path, {kFillFields});
    case Kind::kPrices: return check_list(el, path, {kPriceFields});
    case Kind::kRoundTrips: return check_list(el, path, {kRoundTripFields});
    case Kind::kStrings:
    case Kind::kInts: {
      simdjson::dom::array arr;
      if (el.get_array().get(arr) != simdjson::SUCCESS) return wrong(path, el, "an array");
      std::size_t i = 0;
      for (element item : arr) {
        const Kind each = kind == Kind::kStrings ? Kind::kString : Kind::kInt;
        if (auto e = check_value(item, fmt::format("{}[{}]", path, i), each)) return e;
        ++i;
      }
      return std::nullopt;
    }
  }
  return std::nullopt;
}

// Checks an object's known keys (each at most once: JSON.parse would keep the last of two,
// simdjson's lookup the first) and that the required ones are present; ignores the others.
std::optional<core::Error> check_fields(element el, const std::string& path,
                                        std::initializer_list<std::span<const Field>> specs) {
  simdjson::dom::object obj;
  if (el.get_object().get(obj) != simdjson::SUCCESS) return wrong(path, el, "an object");
  const auto name = [&](std::string_view key) {
    return path.empty() ? std::string(key) : fmt::format("{}.{}", path, key);
  };
  std::vector<const Field*> seen;
  for (auto [key, value] : obj) {
    for (const auto& spec : specs) {
      for (const Field& f : spec) {
        if (f.key != key) continue;
        for (const Field* s : seen) {
          if (s == &f) return core::Error{name(key), "appears twice"};
        }
        seen.push_back(&f);
        if (auto e = check_value(value, name(key), f.kind)) return e;
      }
    }
  }
  for (const auto& spec : specs) {
    for (const Field& f : spec) {
      if (!f.required) continue;
      bool found = false;
      for (const Field* s : seen) found = found || s == &f;
      if (!found) return core::Error{name(f.key), "is missing"};
    }
  }
  return std::nullopt;
}

std::optional<core::Error> validate(std::string_view json) {
  simdjson::dom::parser parser;
  const simdjson::padded_string padded(json);
  element doc;
  if (const auto err = parser.parse(padded).get(doc); err != simdjson::SUCCESS) {
    return core::Error{"", fmt::format("not valid JSON: {}", simdjson::error_message(err))};
  }
  if (doc.type() != element_type::OBJECT) return wrong("", doc, "a JSON object (the analysis)");
  if (auto e = check_fields(doc, "", {kTopFields})) return e;
  std::string_view type;
  if (doc["type"].get_string().get(type) != simdjson::SUCCESS || type != "analysis") {
    return wrong("type", doc["type"].value_unsafe(), "\"analysis\"");
  }
  std::int64_t v = 0;
  if (doc["v"].get_int64().get(v) != simdjson::SUCCESS || v != 1) {
    return wrong("v", doc["v"].value_unsafe(), "1 (the version this page reads)");
  }
  return std::nullopt;
}

// JSON text inside <script type="application/json">: <, >, & and the two JavaScript line
// terminators as \u escapes. A valid JSON document has them only inside strings, where the
// escapes mean the same characters, so JSON.parse reads the same value.
std::string embeddable(std::string_view json) {
  std::string out;
  out.reserve(json.size() + json.size() / 16);
  for (std::size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    if (c == '<') {
      out += "\\u003c";
    } else if (c == '>') {
      out += "\\u003e";
    } else if (c == '&') {
      out += "\\u0026";
    } else if (c == '\xE2' && i + 2 < json.size() && json[i + 1] == '\x80' &&
               (json[i + 2] == '\xA8' || json[i + 2] == '\xA9')) {
      out += json[i + 2] == '\xA8' ? "\\u2028" : "\\u2029";
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

// 'sha256-<base64>' of an inline script or style, as CSP matches it.
std::string csp_hash(std::string_view text) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  if (EVP_Digest(text.data(), text.size(), digest.data(), &size, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("reportpage: SHA-256 failed (libcrypto)");
  }
  std::array<unsigned char, 4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1> b64{};
  const int n = EVP_EncodeBlock(b64.data(), digest.data(), static_cast<int>(size));
  return fmt::format("'sha256-{}'", std::string_view(reinterpret_cast<const char*>(b64.data()), n));
}

// Everything the page may load or run: its two inline scripts and its style, by hash.
const std::string& content_security_policy() {
  static const std::string kPolicy = fmt::format(
      "default-src 'none'; script-src {} {}; style-src {}; base-uri 'none'; form-action 'none'",
      csp_hash(detail::chartjs()), csp_hash(detail::script()), csp_hash(detail::style()));
  return kPolicy;
}

}  // namespace

core::Result<std::string> try_render(std::string_view analysis_json) {
  if (auto e = validate(analysis_json)) return std::move(*e);
  std::string page;
  page.reserve(detail::chartjs().size() + detail::script().size() + detail::style().size() +
               detail::body().size() + analysis_json.size() * 11 / 10 + 1024);
  page += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  page += "<meta http-equiv=\"Content-Security-Policy\" content=\"" + content_security_policy() + "\">\n";
  page += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  page += fmt::format("<meta name=\"generator\" content=\"trader reportpage, Chart.js {}\">\n", detail::chartjs_version());
  page += "<title>Report</title>\n<style>";
  page += detail::style();
  page += "</style>\n</head>\n<body>\n";
  page += detail::body();
  page += "\n<script type=\"application/json\" id=\"analysis\">";
  page += embeddable(analysis_json);
  page += "</script>\n<script>";
  page += detail::chartjs();
  page += "</script>\n<script>";
  page += detail::script();
  page += "</script>\n</body>\n</html>\n";
  return page;
}

std::string render(std::string_view analysis_json) {
  auto page = try_render(analysis_json);
  if (!page) throw InvalidAnalysis(page.error());
  return std::move(page).value();
}

std::string_view chartjs_version() { return detail::chartjs_version(); }

}  // namespace reportpage
