/// @file report_page.hpp
/// @brief The self-contained HTML report page of a backtest or session (issue 14;
/// docs/report-page.md), rendered from the analysis JSON that analytics::to_json writes
/// (the contract: docs/report-page.md, "Input").
///
/// The page is one file that works offline: Chart.js (Debian's libjs-chart.js, inlined at
/// build time), the page's style and script are inline; it refers to no URL, and its
/// Content-Security-Policy (a <meta>) allows only those inline scripts (by SHA-256) and that
/// style, nothing else: no network, no other script. The analysis is embedded as it was
/// given, in a `<script type="application/json">` element, with `<`, `>`, `&`, U+2028 and
/// U+2029 written as JSON \u escapes, so no string in it can end that element; the page's
/// script reads it with JSON.parse and puts every string into the DOM as text
/// (textContent), never as markup.
///
/// What the page shows: the title and status (final or interim), the settings and span,
/// the statistics (totals, per symbol, per strategy), rejections by reason, warnings,
/// data quality, and charts: equity, drawdown, positions over time (net per symbol,
/// stepped), price per symbol with its fills (buys and sells marked apart); and the
/// round trips (the first kMaxRoundTripsShown, saying how many there are).
///
/// Errors: the analysis is validated here first (simdjson: JSON syntax and UTF-8, then the
/// shape the page reads: "type" = "analysis", "v" = 1, each known key's JSON type, each
/// chart point's fields, each decimal an exact decimal string). Unknown keys are ignored
/// (forward compatible). What is wrong is named by its path, e.g.
/// `fills[3].price: must be a decimal string, got "1,38"`. try_render returns it as a
/// core::Error; render throws it as InvalidAnalysis. Neither writes a page for an invalid
/// analysis: the caller (traderctl) says what is wrong and exits non-zero. Should the page
/// nonetheless meet data it cannot read (an analysis edited by hand after rendering), it
/// shows an error text instead of charts.
///
/// Thread-safety: both functions are thread-safe (no shared mutable state).
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace reportpage {

/// The page lists at most this many round trips (the first ones, in exit order as given),
/// and says how many there are.
inline constexpr std::size_t kMaxRoundTripsShown = 200;

/// Thrown by render for an analysis the page cannot show; error() names the field.
class InvalidAnalysis : public std::invalid_argument {
 public:
  explicit InvalidAnalysis(core::Error error)
      : std::invalid_argument("invalid analysis JSON: " + error.to_string()), error_(std::move(error)) {}
  const core::Error& error() const noexcept { return error_; }

 private:
  core::Error error_;
};

/// The whole HTML page (UTF-8) for analysis_json (the analysis JSON, docs/report-page.md),
/// or the first problem found in it (field = its path, "" for the whole document).
/// Never throws, except std::bad_alloc.
core::Result<std::string> try_render(std::string_view analysis_json);

/// As try_render, but throws InvalidAnalysis for an invalid analysis.
std::string render(std::string_view analysis_json);

/// The version of the inlined Chart.js, e.g. "3.9.1".
std::string_view chartjs_version();

}  // namespace reportpage
