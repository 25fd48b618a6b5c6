#include "eventstore/json_check.hpp"

#include <simdjson.h>

namespace eventstore::detail {
namespace {

/// True if the text holds the escape \u0000 (an odd run of backslashes before "u0000").
bool has_nul_escape(std::string_view text) noexcept {
  for (auto pos = text.find("u0000"); pos != std::string_view::npos; pos = text.find("u0000", pos + 1)) {
    std::size_t slashes = 0;
    while (slashes < pos && text[pos - 1 - slashes] == '\\') ++slashes;
    if (slashes % 2 == 1) return true;
  }
  return false;
}

}  // namespace

bool is_valid_json(std::string_view text) noexcept {
  // simdjson's DOM parser validates the whole document (grammar and UTF-8).
  // jsonb additionally refuses \u0000; its nesting limit is about 6400 levels.
  constexpr std::size_t kMaxDepth = 6400;
  try {
    simdjson::dom::parser parser;
    if (parser.allocate(text.size() + 1, kMaxDepth) != simdjson::SUCCESS) return false;
    const simdjson::padded_string padded(text);
    if (parser.parse(padded).error() != simdjson::SUCCESS) return false;
  } catch (...) {  // allocation failure
    return false;
  }
  return !has_nul_escape(text);
}

}  // namespace eventstore::detail
