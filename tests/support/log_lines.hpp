/// @file log_lines.hpp
/// @brief Reading a worker's log (obs/log.hpp) back in tests: each line as a JSON
/// object of string values, parsed strictly with simdjson's DOM parser (the whole line
/// must be one valid JSON document, UTF-8 included). Header-only; link simdjson.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

namespace testsupport {

/// One log record: key -> value. nullopt if `line` is not one JSON object whose values
/// are all strings, or repeats a key.
inline std::optional<std::map<std::string, std::string>> parse_log_record(std::string_view line) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(line);
  simdjson::dom::element doc;
  if (parser.parse(padded).get(doc) != simdjson::SUCCESS) return std::nullopt;
  simdjson::dom::object obj;
  if (doc.get(obj) != simdjson::SUCCESS) return std::nullopt;
  std::map<std::string, std::string> out;
  for (auto field : obj) {
    std::string_view value;
    if (field.value.get(value) != simdjson::SUCCESS) return std::nullopt;
    if (!out.emplace(std::string(field.key), std::string(value)).second) return std::nullopt;
  }
  return out;
}

/// The lines of `text` (without their newlines; a last line without one included).
inline std::vector<std::string> log_lines(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    out.emplace_back(text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return out;
}

}  // namespace testsupport
