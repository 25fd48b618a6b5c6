/// @file json_check.hpp
/// @brief Internal: JSON text validation with PostgreSQL jsonb's rules (simdjson's DOM
///        parser validates; jsonb's extra refusals are checked on top), so
///        MemoryStore refuses exactly the payloads PgStore's database refuses.
#pragma once

#include <string_view>

namespace eventstore::detail {

/// True if `text` is one RFC 8259 JSON value (surrounding whitespace allowed),
/// valid UTF-8, without "\u0000" or unpaired surrogate escapes (jsonb rejects
/// both), nested at most 6400 levels. Pure, thread-safe, never throws.
bool is_valid_json(std::string_view text) noexcept;

}  // namespace eventstore::detail
