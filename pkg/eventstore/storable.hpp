/// @file storable.hpp
/// @brief Internal: what both stores refuse before PostgreSQL would, and the
///        placeholder that stands in for a refused event (EventStore::append_or_quarantine).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "eventstore/event_store.hpp"

namespace eventstore::detail {

/// Longest msg_id, subject, type, client_order_id or session_id either store
/// accepts, in bytes. Each is indexed, and PostgreSQL refuses a btree entry over
/// 2704 bytes (after compression, which a caller can't predict: "index row size
/// ... exceeds btree version 4 maximum 2704", or "index row requires N bytes,
/// maximum size is 8191" further up); 2048 bytes of text plus a position always
/// fit. Refusing longer text in the store itself makes MemoryStore and PgStore agree.
constexpr std::size_t kMaxIndexedTextBytes = 2048;

/// At most this many bytes of a refused payload are kept, base64'd, in its
/// placeholder event; events_quarantine keeps all of them.
constexpr std::size_t kPlaceholderRawBytes = 64 * 1024;

/// Why the store refuses `e` by its own rules, or nullopt: a NUL byte in any
/// field (text can't hold one), invalid UTF-8 in msg_id, subject, type,
/// client_order_id or session_id (the database is UTF-8), or one of them longer
/// than kMaxIndexedTextBytes. The payload's JSON is not checked here (PgStore's
/// database does that, MemoryStore uses is_valid_json). Pure, thread-safe.
std::optional<std::string> refusal(const NewEvent& e);

/// True when the payload is JSON that jsonb accepts (see json_check.hpp) and
/// refusal() has nothing to say: MemoryStore's whole rule.
bool storable_in_memory(const NewEvent& e, std::string* reason);

/// The event stored instead of `refused`: same msg_id, ts_event and (when
/// storable, else printable ASCII, cut to 256 bytes) subject and session_id; type
/// "quarantined", no client_order_id, and an ASCII JSON payload that any store
/// accepts:
///   {"type":"quarantined","v":1,"reason":R,"original_type":T,"raw_bytes":N,
///    "raw_base64":B,"raw_truncated":bool}
/// R (cut to 1000 bytes) and T (cut to 128 bytes) with every byte outside
/// printable ASCII written as \u00XX (NUL as \ufffd); B = base64 of the first
/// kPlaceholderRawBytes bytes of the payload. Pure, thread-safe.
NewEvent quarantine_placeholder(const NewEvent& refused, std::string_view reason);

/// `s` with bytes outside printable ASCII replaced by '?', cut to `max` bytes.
std::string printable_ascii(std::string_view s, std::size_t max);

/// Standard base64 (RFC 4648, with padding). Pure.
std::string base64(std::string_view bytes);

}  // namespace eventstore::detail
