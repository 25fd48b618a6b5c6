/// @file detail.hpp
/// @brief Internal constants and helpers shared by the PostgreSQL parts of eventstore.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <openssl/types.h>
#include <pqxx/pqxx>

#include "eventstore/event_store.hpp"

namespace eventstore::detail {

/// pg_advisory_xact_lock key held while migrating ("trdr-mig").
constexpr std::int64_t kMigrationLockKey = 0x747264722d6d6967;
/// pg_advisory_xact_lock key held by every append ("trdr-app"): writers commit
/// one at a time, so position order equals commit order. schema/002_hash_chain.sql
/// and schema/004_chain_checked_per_statement.sql spell the same key in decimal
/// (8390879497295065200): keep them equal.
constexpr std::int64_t kAppendLockKey = 0x747264722d617070;
/// True for a libpq connection failure that is the server's "no" to this login
/// (wrong or missing password, unknown role or database, no pg_hba.conf entry),
/// not an outage: retrying won't help, so it is not StoreUnavailable. Pure.
bool is_login_refused(std::string_view libpq_message);

/// Runs fn(connection) on a connection of its own to `url` and turns libpqxx's errors
/// into the store's: a refused login (is_login_refused) and any SQL error into
/// std::runtime_error, anything else about the connection into StoreUnavailable, each
/// prefixed "eventstore: <what>: ". For the one-shot calls (migrate, research.hpp).
template <class Fn>
auto with_connection(const std::string& url, std::string_view what, Fn&& fn) {
  try {
    pqxx::connection c(url);
    return fn(c);
  } catch (const pqxx::broken_connection& e) {
    std::string_view why = e.what();
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.remove_suffix(1);
    if (is_login_refused(why))
      throw std::runtime_error(fmt::format("eventstore: {}: the server refused the login: {}", what, why));
    throw StoreUnavailable(fmt::format("eventstore: {}: database unavailable: {}", what, why));
  } catch (const pqxx::sql_error& e) {
    throw std::runtime_error(fmt::format("eventstore: {}: {}", what, e.what()));
  }
}

/// apply_migrations / migrate, for the live store (research = false: the common
/// migrations; a research store is refused) or a research store (research.hpp:
/// the common migrations, then research_migrations()).
std::size_t apply_migrations(pqxx::connection_base& conn, bool research);
std::size_t migrate(const std::string& owner_url, bool research);

/// SQLSTATE (integrity_constraint_violation) with which the chain check of
/// schema/004_chain_checked_per_statement.sql rejects a statement.
constexpr std::string_view kChainRejectedState = "23000";

/// The text PostgreSQL gives for `json_text::jsonb::text` (jsonb's rendering:
/// keys ordered by length then bytes, the last of duplicate keys kept, ", " and
/// ": " separators, strings re-escaped, numbers as `numeric` prints them), or
/// nullopt when `json_text` is not JSON or is outside what this function is sure
/// to render exactly (numbers with more than 1000 digits or an exponent beyond
/// +-1000, \u0000, unpaired surrogates, nesting deeper than 1000): ask the
/// database then. Needs UTF-8 text. Pure, thread-safe, never throws but bad_alloc.
std::optional<std::string> jsonb_text(std::string_view json_text);

/// Appends to `out` the bytes of schema/004's events_hash_input(position,
/// msg_id, subject, type, client_order_id, ts_event, payload, session_id) for
/// UTF-8 text, given the payload's jsonb rendering (jsonb_text). Pure.
void append_hash_input(std::string& out, std::int64_t position, std::string_view msg_id, std::string_view subject,
                       std::string_view type, const std::optional<std::string>& client_order_id,
                       std::optional<std::int64_t> ts_event, std::string_view payload_jsonb_text,
                       const std::optional<std::string>& session_id);

/// A SHA-256 digest (the `hash` and `prev_hash` columns).
constexpr std::size_t kHashSize = 32;
using Hash = std::array<unsigned char, kHashSize>;

/// The digest's bytes, for hashing further or storing.
inline std::string_view view(const Hash& h) { return {reinterpret_cast<const char*>(h.data()), h.size()}; }

/// SHA-256 through OpenSSL's EVP interface: the digest is fetched once and the
/// context reused (OpenSSL 3 fetches the implementation again on every
/// EVP_DigestInit_ex(EVP_sha256()), which costs more than hashing an event).
/// Throws std::runtime_error if OpenSSL has no SHA-256 or hashing fails. Not
/// thread-safe: one per thread.
class Sha256 {
 public:
  Sha256();
  /// sha256(a || b): the chain's hash = sha256(prev_hash || events_hash_input).
  Hash operator()(std::string_view a, std::string_view b);

 private:
  struct FreeMd {
    void operator()(EVP_MD* p) const noexcept;
  };
  struct FreeCtx {
    void operator()(EVP_MD_CTX* p) const noexcept;
  };
  std::unique_ptr<EVP_MD, FreeMd> md_;
  std::unique_ptr<EVP_MD_CTX, FreeCtx> ctx_;
};

/// A bytea of up to kHashSize bytes in COPY's text form, NUL-terminated: \x and
/// lowercase hex (pqxx::stream_to escapes the backslash). Longer input is cut. Pure.
using HashLiteral = std::array<char, 3 + 2 * kHashSize>;
HashLiteral bytea_literal(std::string_view bytes);

}  // namespace eventstore::detail
