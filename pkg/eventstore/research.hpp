/// @file research.hpp
/// @brief The research store: where backtests, replays and imported sessions are
/// written, so that they never enter the live append-only audit log.
///
/// By default it is a second database on the same PostgreSQL server, named after
/// the live one with "_research" appended ("trader" -> "trader_research");
/// TRADER_RESEARCH_DB names another (the tools read that variable; this header
/// only takes the name). pkg/eventstore/roles.sql creates it, owned by
/// trader_owner with the same roles as the live database, and `traderctl
/// migrate` (migrate_research) gives it the common schema plus
/// schema/research/9NN_*.sql. So every URL of the live store (owner, writer,
/// reader) reaches the research store with only its database changed
/// (research_url), and the same roles keep the same rights there, plus one: the
/// writer may remove a whole research session (remove_research_session).
///
/// Errors: std::invalid_argument for a URL or name that can't be used,
/// StoreUnavailable when the server can't be reached, std::runtime_error for
/// everything the database refuses (with PostgreSQL's text). Every function
/// opens its own connection: thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "eventstore/migrations.hpp"

namespace eventstore {

/// The version whose row in schema_migrations marks a research store
/// (schema/research/901_research_store.sql).
inline constexpr int kResearchStoreVersion = 901;

/// The research store's own migrations (schema/research/*.sql), ascending by
/// version; applied after embedded_migrations(). Static storage; thread-safe.
std::span<const Migration> research_migrations() noexcept;

/// The database `url` connects to, as libpq decides it: its dbname, else its
/// user name (libpq's default). `url` is a libpq URI
/// ("postgresql://user:pw@host:port/db?...") or a key=value string.
/// @throws std::invalid_argument if libpq can't parse it, or it names neither.
std::string database_of(const std::string& url);

/// `url` with its database replaced by `db`, every other parameter kept (user,
/// password, host, port, options), as a libpq key=value string.
/// @throws std::invalid_argument if libpq can't parse `url`.
std::string with_database(const std::string& url, const std::string& db);

/// The research store's database for the live store at `live_url`: `configured`
/// when it is not empty (TRADER_RESEARCH_DB), else database_of(live_url) + "_research".
/// @throws std::invalid_argument if the name is not a plain lowercase identifier
///         ([a-z_][a-z0-9_]*, at most 63 characters, as roles.sql requires), or
///         is the live store's own database: research must never go into it.
std::string research_database(const std::string& live_url, const std::string& configured);

/// with_database(live_url, research_database(live_url, configured)): the same
/// role on the research store.
std::string research_url(const std::string& live_url, const std::string& configured);

/// `traderctl migrate` for the research store: applies the common migrations and
/// then research_migrations() that the database at `owner_url` lacks, in one
/// transaction, as apply_migrations does. The research migration refuses a
/// database that already holds events (it was not made for research).
/// @return the number of migrations applied (0: current).
/// @throws StoreUnavailable, std::runtime_error as migrate().
std::size_t migrate_research(const std::string& owner_url);

/// True if the database at `url` is a research store (schema_migrations holds
/// kResearchStoreVersion). Any role of roles.sql may ask.
/// @throws StoreUnavailable, std::runtime_error (refused login, no such database).
bool is_research_store(const std::string& url);

/// Removes every event of research session `session_id` from the research store
/// at `writer_url` (the writer or the owner), with their quarantine rows, in one
/// transaction under the append lock, keeping the summaries true and recording
/// the removal (schema/research/901). Sessions are removed whole, never in part.
/// @return the number of events removed; 0 when the store holds no event of it.
/// @throws std::runtime_error if the database is not a research store (the live
///         store is append-only: nothing can be removed from it), or as above.
std::int64_t remove_research_session(const std::string& writer_url, const std::string& session_id);

}  // namespace eventstore
