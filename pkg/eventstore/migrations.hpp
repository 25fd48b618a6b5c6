/// @file migrations.hpp
/// @brief Versioned schema migrations for the PostgreSQL event store.
///
/// Migrations are the files pkg/eventstore/schema/NNN_<name>.sql, embedded
/// into the library at build time (the binary never reads the source tree).
/// They are applied in version order, each exactly once per database, and
/// recorded in
/// `schema_migrations(version int PRIMARY KEY, name text, applied_at timestamptz)`.
///
/// Migrations are a step of their own, run as the schema's owner
/// (`traderctl migrate` with TRADER_OWNER_DATABASE_URL, i.e. eventstore::migrate):
/// PgStore only checks that the schema is current (require_current_schema).
///
/// Roles (schema/006_least_privilege.sql; provisioned by pkg/eventstore/roles.sql):
/// trader_owner owns everything; trader_writer (the recorder logs in as its
/// member trader_recorder) may only INSERT events and call three SECURITY
/// DEFINER functions; trader_reader (trader_readonly) may only SELECT.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

#include <pqxx/connection>

namespace eventstore {

/// One embedded migration file.
struct Migration {
  int version;            ///< NNN from the file name
  std::string_view name;  ///< file name without ".sql", e.g. "001_events"
  std::string_view sql;   ///< the file's text
};

/// All embedded migrations, ascending by version (versions are unique).
/// Static storage; thread-safe.
std::span<const Migration> embedded_migrations() noexcept;

/// Applies the embedded migrations that `conn`'s database lacks, in order,
/// in ONE transaction (all or nothing) that first takes
/// `pg_advisory_xact_lock`, so concurrent migrators of the same database
/// serialise and the second applies nothing. Creates schema_migrations when
/// missing. When the schema is already current it only reads
/// schema_migrations (no CREATE privilege needed).
/// The caller owns `conn`; it must have no open transaction.
/// @return the number of migrations applied (0 = schema was current).
/// @throws pqxx::broken_connection (and other pqxx errors) as libpqxx does;
///         std::runtime_error if the database records a version with a
///         different name than the embedded one (a renamed or foreign
///         migration). Versions the binary doesn't know are allowed (a newer
///         binary migrated the database).
std::size_t apply_migrations(pqxx::connection_base& conn);

/// Throws std::runtime_error unless `conn`'s database holds every embedded
/// migration: "event store schema is at migration N, this binary needs M: run
/// `traderctl migrate` with the owner's URL (TRADER_OWNER_DATABASE_URL)", or the
/// name mismatch apply_migrations reports. Reads schema_migrations only (every
/// role of roles.sql may). Migrations the binary doesn't know are allowed.
/// @throws pqxx errors as libpqxx does.
void require_current_schema(pqxx::connection_base& conn);

}  // namespace eventstore
