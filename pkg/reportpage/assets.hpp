/// @file assets.hpp
/// @brief The report page's inlined assets (internal to pkg/reportpage): generated at build
/// time by embed_assets.cmake from Chart.js (Debian's libjs-chart.js) and report.css,
/// report_body.html, report.js. Each is static text; thread-safe.
#pragma once

#include <string_view>

namespace reportpage::detail {

std::string_view chartjs();          ///< Chart.js's minified UMD build, as installed
std::string_view chartjs_version();  ///< its version, from its header ("3.9.1")
std::string_view style();            ///< report.css
std::string_view body();             ///< report_body.html: the page's markup, empty sections
std::string_view script();           ///< report.js: fills the sections and draws the charts

}  // namespace reportpage::detail
