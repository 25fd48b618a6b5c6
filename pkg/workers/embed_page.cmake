# Writes OUT, a C++ source defining services::dashboard_page() as the text of IN (the
# dashboard's page), as a raw string literal: the page stays one file to edit as HTML,
# and the binary needs nothing at run time. Run at build time (CMakeLists.txt).
file(READ ${IN} PAGE)
string(FIND "${PAGE}" ")dashboard_html\"" CLASH)
if(NOT CLASH EQUAL -1)
  message(FATAL_ERROR "${IN} may not contain )dashboard_html\" (the end of the raw string)")
endif()
set(TEXT "// Generated from pkg/workers/dashboard.html by embed_page.cmake: edit that file.\n")
string(APPEND TEXT "#include \"workers/dashboard.hpp\"\n\nnamespace services {\n\n")
string(APPEND TEXT "std::string_view dashboard_page() {\n  static constexpr std::string_view kPage = R\"dashboard_html(")
string(APPEND TEXT "${PAGE}")
string(APPEND TEXT ")dashboard_html\";\n  return kPage;\n}\n\n}  // namespace services\n")
# Written only when different, so that an unchanged page recompiles nothing.
if(EXISTS ${OUT})
  file(READ ${OUT} OLD)
endif()
if(NOT "${OLD}" STREQUAL "${TEXT}")
  file(WRITE ${OUT} "${TEXT}")
endif()
