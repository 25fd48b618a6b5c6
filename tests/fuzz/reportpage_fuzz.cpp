// Fuzz harness "reportpage": reportpage::try_render of the input as the analysis JSON
// (docs/fuzzing.md, docs/report-page.md). Input: the bytes of an analysis JSON document.
//
// Properties checked (a failure traps, so libFuzzer keeps the input):
//  - try_render never crashes or throws, whatever the bytes; a refusal names a reason;
//  - render throws reportpage::InvalidAnalysis exactly when try_render refuses, with the
//    same field;
//  - an accepted input's page has exactly its three script elements (the analysis,
//    Chart.js, the page's script: no string can end one or open another) and no "<!--";
//    the embedded analysis holds no raw <, >, &, U+2028 or U+2029, and is the input with
//    just those written as \u escapes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_support.hpp"
#include "reportpage/report_page.hpp"

namespace {

using fuzz::check;

std::size_t occurrences(std::string_view text, std::string_view what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string_view::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// The input with the page's five escapes applied, written out plainly: a valid JSON
// document has these characters only inside strings, where the escapes mean the same.
std::string escaped(std::string_view in) {
  std::string out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    const std::string_view rest = in.substr(i);
    if (rest[0] == '<') out += "\\u003c";
    else if (rest[0] == '>') out += "\\u003e";
    else if (rest[0] == '&') out += "\\u0026";
    else if (rest.substr(0, 3) == "\xE2\x80\xA8") out += "\\u2028", i += 2;
    else if (rest.substr(0, 3) == "\xE2\x80\xA9") out += "\\u2029", i += 2;
    else out += rest[0];
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto page = reportpage::try_render(input);
  std::string thrown_field = "(nothing thrown)";
  try {
    (void)reportpage::render(input);
  } catch (const reportpage::InvalidAnalysis& e) {
    thrown_field = e.error().field;
  }
  if (!page.ok()) {
    check(!page.error().message.empty(), "a refusal without a message");
    check(thrown_field == page.error().field, "render and try_render disagree about a refused input");
    return 0;
  }
  check(thrown_field == "(nothing thrown)", "render refused what try_render accepted");
  const std::string& html = page.value();
  check(occurrences(html, "<script") == 3, "the page has other than three <script");
  check(occurrences(html, "</script") == 3, "the page has other than three </script");
  check(html.find("<!--") == std::string::npos, "the page has <!--");
  const std::string_view open = "<script type=\"application/json\" id=\"analysis\">";
  const auto begin = html.find(open);
  check(begin != std::string::npos, "the analysis element is missing");
  const auto end = html.find("</script>", begin);
  const std::string embedded = html.substr(begin + open.size(), end - begin - open.size());
  check(embedded.find_first_of("<>&") == std::string::npos, "a raw <, > or & in the embedded analysis");
  check(embedded.find("\xE2\x80\xA8") == std::string::npos && embedded.find("\xE2\x80\xA9") == std::string::npos,
        "a raw U+2028 or U+2029 in the embedded analysis");
  check(embedded == escaped(input), "the embedded analysis is not the input with its <, >, &, U+2028, U+2029 escaped");
  return 0;
}
