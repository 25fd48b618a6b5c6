// The report page (pkg/reportpage, issue 14): what render writes, and what it refuses.
// The page in a browser is tests/js/report_browser.mjs (ctest -R reportpage.browser).
#include <catch2/catch.hpp>

#include <fstream>
#include <iterator>
#include <string>

#include <simdjson.h>

#include "reportpage/assets.hpp"
#include "reportpage/report_page.hpp"

namespace {

std::string fixture() {
  std::ifstream in(TRADER_SOURCE_DIR "/tests/fixtures/report/analysis.json", std::ios::binary);
  REQUIRE(in);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::size_t occurrences(const std::string& text, std::string_view what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// The text of the page's JSON script element.
std::string embedded(const std::string& page) {
  const std::string open = "<script type=\"application/json\" id=\"analysis\">";
  const auto begin = page.find(open);
  REQUIRE(begin != std::string::npos);
  const auto end = page.find("</script>", begin);
  REQUIRE(end != std::string::npos);
  return page.substr(begin + open.size(), end - begin - open.size());
}

// A minimal valid analysis with `extra` spliced in as top-level members.
std::string analysis(std::string_view extra = "") {
  std::string json = R"({"type": "analysis", "v": 1)";
  if (!extra.empty()) json += ", " + std::string(extra);
  return json + "}";
}

}  // namespace

TEST_CASE("the report page inlines Chart.js and refers to no URL", "[reportpage]") {
  const std::string page = reportpage::render(fixture());
  CHECK(reportpage::chartjs_version() == "3.9.1");
  const std::string_view library = reportpage::detail::chartjs();
  REQUIRE(library.size() > 100000);
  const auto at = page.find(library);
  REQUIRE(at != std::string::npos);
  CHECK(page.find("Chart.js v3.9.1") != std::string::npos);
  // Outside the library (whose header comments name its web site) and the analysis (whose
  // strings may say anything, as text: the fixture's hostile ones say src=), no URL at all.
  std::string rest = page;
  rest.erase(at, library.size());
  const std::string data = embedded(rest);
  rest.erase(rest.find(data), data.size());
  for (const std::string_view url : {"http:", "https:", "src=", "href=", "url(", "@import", "ftp:", "ws:", "wss:"}) {
    INFO(url);
    CHECK(rest.find(url) == std::string::npos);
  }
  // The library itself loads nothing: its only URLs are the two in its comments.
  const std::string lib(library);
  CHECK(occurrences(lib, "http") == 2);
  CHECK(lib.find("* https://www.chartjs.org") != std::string::npos);
  for (const std::string_view load : {"src=", "href=", "url(", "XMLHttpRequest", "fetch(", "import("}) {
    INFO(load);
    CHECK(lib.find(load) == std::string::npos);
  }
  CHECK(occurrences(page, "<script") == 3);  // the analysis, Chart.js, the page's script
}

TEST_CASE("the report page's Content-Security-Policy allows only its own inline scripts and style", "[reportpage]") {
  const std::string page = reportpage::render(analysis());
  const auto meta = page.find("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; ");
  REQUIRE(meta != std::string::npos);
  CHECK(meta < page.find("<script"));
  CHECK(meta < page.find("<style"));
  const std::string policy = page.substr(meta, page.find('>', meta) - meta);
  CHECK(occurrences(policy, "'sha256-") == 3);  // two scripts, one style
  CHECK(policy.find("unsafe") == std::string::npos);
  CHECK(policy.find("base-uri 'none'") != std::string::npos);
}

TEST_CASE("a hostile string cannot end the analysis' script element", "[reportpage][hostile]") {
  const std::string hostile =
      "</script><img src=x onerror=alert(1)><!-- <script>alert(2)</script> & \xE2\x80\xA8 \xE2\x80\xA9 >";
  std::string escaped;  // as a JSON string: only " and \ need escaping in this one
  for (char c : hostile) escaped += (c == '"' || c == '\\') ? std::string("\\") + c : std::string(1, c);
  const std::string page = reportpage::render(
      analysis(R"("title": ")" + escaped + R"(", "rejections": [{"exec_type": "rejected", "reason": ")" + escaped +
               R"(", "count": 1}])"));
  CHECK(occurrences(page, "<script") == 3);
  CHECK(occurrences(page, "</script") == 3);
  CHECK(page.find("<img") == std::string::npos);
  CHECK(page.find("<!--") == std::string::npos);
  CHECK(page.find("\xE2\x80\xA8") == std::string::npos);
  CHECK(page.find("\xE2\x80\xA9") == std::string::npos);
  const std::string data = embedded(page);
  CHECK(data.find_first_of("<>&") == std::string::npos);
  CHECK(data.find("\\u003c/script\\u003e\\u003cimg") != std::string::npos);
  CHECK(data.find("\\u0026 \\u2028 \\u2029 \\u003e") != std::string::npos);

  // The escapes read back as the same strings.
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  const simdjson::padded_string padded(data);
  REQUIRE(parser.parse(padded).get(doc) == simdjson::SUCCESS);
  std::string_view title;
  REQUIRE(doc["title"].get_string().get(title) == simdjson::SUCCESS);
  CHECK(title == hostile);
}

TEST_CASE("the fixture's analysis is embedded as given, apart from the escapes", "[reportpage]") {
  const std::string json = fixture();
  const std::string data = embedded(reportpage::render(json));
  std::string unescaped = data;
  for (const auto& [from, to] : {std::pair<std::string, std::string>{"\\u003c", "<"}, {"\\u003e", ">"},
                                 {"\\u0026", "&"}, {"\\u2028", "\xE2\x80\xA8"}, {"\\u2029", "\xE2\x80\xA9"}}) {
    for (auto at = unescaped.find(from); at != std::string::npos; at = unescaped.find(from, at + to.size())) {
      unescaped.replace(at, from.size(), to);
    }
  }
  CHECK(unescaped == json);
}

TEST_CASE("an analysis with keys the page does not know renders", "[reportpage]") {
  const auto page = reportpage::try_render(
      analysis(R"("from_a_newer_writer": {"x": [1, 2]}, "totals": {"pnl_total": "1", "new_stat": 3},
                  "settings": {"starting_capital": "1000", "new_setting": "x"})"));
  REQUIRE(page.ok());
  CHECK(page.value().find("from_a_newer_writer") != std::string::npos);
}

TEST_CASE("an analysis the page cannot show is refused, naming what is wrong", "[reportpage][hostile]") {
  struct Case {
    std::string json;
    std::string field;
    std::string message_part;
  };
  const std::string deep = std::string(5000, '[') + std::string(5000, ']');
  const Case cases[] = {
      {"", "", "not valid JSON"},
      {"{\"type\": \"analysis\", \"v\": 1", "", "not valid JSON"},
      {"not json at all", "", "not valid JSON"},
      {deep, "", "not valid JSON"},
      {"{\"type\": \"analysis\", \"v\": 1, \"title\": \"\xFF\xFE\"}", "", "not valid JSON"},  // not UTF-8
      {"[1, 2]", "", "must be a JSON object"},
      {"{\"v\": 1}", "type", "is missing"},
      {"{\"type\": \"analysis\"}", "v", "is missing"},
      {"{\"type\": \"orders\", \"v\": 1}", "type", "must be \"analysis\", got \"orders\""},
      {"{\"type\": \"analysis\", \"v\": 2}", "v", "must be 1"},
      {"{\"type\": \"analysis\", \"v\": \"1\"}", "v", "must be an integer"},
      {analysis(R"("status": "done")"), "status", R"(must be "final" or "interim", got "done")"},
      {analysis(R"("title": 5)"), "title", "must be a string, got 5"},
      {analysis(R"("equity_curve": {"ts": 1})"), "equity_curve", "must be an array, got an object"},
      {analysis(R"("equity_curve": [{"ts": 1, "equity": "1", "drawdown": "0"}, 7])"), "equity_curve[1]",
       "must be an object, got 7"},
      {analysis(R"("equity_curve": [{"ts": 1.5, "equity": "1", "drawdown": "0"}])"), "equity_curve[0].ts",
       "must be an integer, got 1.5"},
      {analysis(R"("equity_curve": [{"ts": 1, "drawdown": "0"}])"), "equity_curve[0].equity", "is missing"},
      {analysis(R"("fills": [{"ts": 1, "symbol": "X", "side": "buy", "quantity": "1", "price": "1,38"}])"),
       "fills[0].price", R"(must be a decimal string, got "1,38")"},
      {analysis(R"("fills": [{"ts": 1, "symbol": "X", "side": "hold", "quantity": "1", "price": "1"}])"),
       "fills[0].side", R"(must be "buy" or "sell")"},
      {analysis(R"("prices": [{"ts": 1, "symbol": "X", "price": 1.38}])"), "prices[0].price",
       "must be a decimal string, got 1.38"},
      {analysis(R"("per_symbol": [{"symbol": "X", "sharpe": "high"}])"), "per_symbol[0].sharpe",
       "must be a number or null"},
      {analysis(R"("per_strategy": [{"sharpe": 1}])"), "per_strategy[0].strategy_id", "is missing"},
      {analysis(R"("warnings": ["ok", {"no": 1}])"), "warnings[1]", "must be a string"},
      {analysis(R"("data_quality": {"by_kind": [{"kind": "x", "count": 1, "lines": [1, "2"]}]})"),
       "data_quality.by_kind[0].lines[1]", "must be an integer"},
      // JSON.parse keeps the last of two equal keys, simdjson's lookup the first: refused.
      {analysis(R"("status": "final", "status": "interim")"), "status", "appears twice"},
      {analysis(R"("title": "a very long title with a control character \u0001 and more than forty bytes in it", "v": 1)"),
       "v", "appears twice"},
  };
  for (const auto& c : cases) {
    INFO(c.json.substr(0, 200));
    const auto page = reportpage::try_render(c.json);
    REQUIRE_FALSE(page.ok());
    CHECK(page.error().field == c.field);
    CHECK_THAT(page.error().message, Catch::Contains(c.message_part));
    CHECK_THROWS_MATCHES(reportpage::render(c.json), reportpage::InvalidAnalysis,
                         Catch::Matchers::Predicate<reportpage::InvalidAnalysis>(
                             [&](const auto& e) { return e.error().field == c.field; }, "names " + c.field));
  }
}

TEST_CASE("a refused value is quoted short and without control characters", "[reportpage][hostile]") {
  const auto page = reportpage::try_render(
      analysis(R"("status": "\u001b[31mred and a very long status text that goes on and on and on")"));
  REQUIRE_FALSE(page.ok());
  const std::string& message = page.error().message;
  CHECK(message.find('\x1b') == std::string::npos);
  CHECK_THAT(message, Catch::Contains("?[31mred") && Catch::Contains("...\""));
  CHECK(message.size() < 120);
}

TEST_CASE("the page's script shows as many round trips as the header says", "[reportpage]") {
  const std::string_view script = reportpage::detail::script();
  CHECK(script.find("const MAX_ROUND_TRIPS = " + std::to_string(reportpage::kMaxRoundTripsShown) + ";") !=
        std::string_view::npos);
  // Strings from the analysis reach the DOM as text only.
  CHECK(script.find("innerHTML") == std::string_view::npos);
  CHECK(script.find("outerHTML") == std::string_view::npos);
  CHECK(script.find("insertAdjacentHTML") == std::string_view::npos);
  CHECK(script.find("document.write") == std::string_view::npos);
}
