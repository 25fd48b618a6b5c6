/// @file text.hpp
/// @brief Text that is safe to put in a message: one line, no control characters.
///
/// Every decoder refuses a free-text field (reason, text, status, error) that holds
/// a control character (codec.hpp, "Strings"), so a producer must never write one:
/// text that comes from elsewhere (an exception from libpq, a peer's error) goes
/// through one_line before it is put in a message or a log line.
/// Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace core {

/// `s` with every control character (U+0000-U+001F, U+007F, U+0080-U+009F, i.e. also
/// newlines and tabs) replaced by one space, runs of spaces that this makes collapsed,
/// and trailing spaces dropped. Invalid UTF-8 is left as it is (encoders repair it).
std::string one_line(std::string_view s);

}  // namespace core
