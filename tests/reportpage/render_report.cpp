// render_report ANALYSIS_JSON HTML_OUT: writes the report page of an analysis JSON file
// (reportpage::render), for the page's tests (reportpage_browser.mjs). Exits 1 with the
// reason on stderr for an unreadable file or an invalid analysis, writing nothing.
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "reportpage/report_page.hpp"

int main(int argc, char** argv) try {
  if (argc != 3) {
    std::cerr << "usage: render_report ANALYSIS_JSON HTML_OUT\n";
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  if (!in) {
    std::cerr << "render_report: cannot read " << argv[1] << "\n";
    return 1;
  }
  const std::string json((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string page = reportpage::render(json);
  std::ofstream out(argv[2], std::ios::binary | std::ios::trunc);
  out << page;
  out.close();
  if (!out) {
    std::cerr << "render_report: cannot write " << argv[2] << "\n";
    return 1;
  }
  return 0;
} catch (const std::exception& e) {
  std::cerr << "render_report: " << argv[1] << ": " << e.what() << "\n";
  return 1;
}
