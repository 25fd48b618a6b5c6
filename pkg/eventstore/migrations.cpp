#include "eventstore/migrations.hpp"

#include <map>
#include <stdexcept>
#include <string>

#include <fmt/format.h>
#include <pqxx/pqxx>

#include "eventstore/detail.hpp"
#include "eventstore/event_store.hpp"
#include "eventstore/research.hpp"

namespace eventstore {

namespace detail {

std::size_t apply_migrations(pqxx::connection_base& conn, bool research) {
  pqxx::work w(conn, "apply_migrations");
  w.exec("SET LOCAL client_min_messages = warning");
  w.exec(fmt::format("SELECT pg_advisory_xact_lock({})", detail::kMigrationLockKey));

  std::map<int, std::string> applied;
  if (w.exec("SELECT to_regclass('schema_migrations')")[0][0].is_null()) {
    w.exec(
        "CREATE TABLE schema_migrations ("
        " version int PRIMARY KEY,"
        " name text NOT NULL,"
        " applied_at timestamptz NOT NULL DEFAULT now())");
  } else {
    for (const auto& row : w.exec("SELECT version, name FROM schema_migrations")) {
      applied.emplace(row[0].as<int>(), row[1].as<std::string>());
    }
  }
  // A research store is never migrated as the live one (nor the other way round,
  // which the research migration itself refuses for a database holding events).
  if (!research && applied.contains(kResearchStoreVersion)) {
    throw std::runtime_error(fmt::format(
        "eventstore: database {} is a research store (schema_migrations has {}): it is migrated with the research "
        "migrations, by `traderctl migrate` through the live store's URL",
        w.exec("SELECT current_database()")[0][0].c_str(), kResearchStoreVersion));
  }

  std::size_t count = 0;
  auto apply = [&](std::span<const Migration> list) {
    for (const Migration& m : list) {
      if (const auto it = applied.find(m.version); it != applied.end()) {
        if (it->second != m.name) {
          throw std::runtime_error(fmt::format("eventstore: database has migration {} named '{}', this binary has '{}'",
                                               m.version, it->second, m.name));
        }
        continue;
      }
      w.exec(std::string(m.sql), std::string(m.name));
      w.exec_params("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.version, std::string(m.name));
      ++count;
    }
  };
  apply(embedded_migrations());
  if (research) apply(research_migrations());
  w.commit();
  return count;
}

}  // namespace detail

std::size_t apply_migrations(pqxx::connection_base& conn) { return detail::apply_migrations(conn, false); }

namespace detail {

bool is_login_refused(std::string_view message) {
  for (const std::string_view s : {"authentication failed", "no password supplied", "does not exist",
                                   "no pg_hba.conf entry", "permission denied for database",
                                   "is not permitted to log in", "password is required"})
    if (message.find(s) != std::string_view::npos) return true;
  return false;
}

}  // namespace detail

void require_current_schema(pqxx::connection_base& conn) {
  pqxx::nontransaction t(conn, "schema_check");
  std::map<int, std::string> applied;
  if (!t.exec("SELECT to_regclass('schema_migrations')")[0][0].is_null()) {
    for (const auto& row : t.exec("SELECT version, name FROM schema_migrations"))
      applied.emplace(row[0].as<int>(), row[1].as<std::string>());
  }
  const auto embedded = embedded_migrations();
  for (const Migration& m : embedded) {
    const auto it = applied.find(m.version);
    if (it == applied.end()) {
      throw std::runtime_error(fmt::format(
          "event store schema is at migration {}, this binary needs {}: run `traderctl migrate` with the owner's URL "
          "(TRADER_OWNER_DATABASE_URL)",
          applied.empty() ? 0 : applied.rbegin()->first, embedded.back().version));
    }
    if (it->second != m.name) {
      throw std::runtime_error(fmt::format("eventstore: database has migration {} named '{}', this binary has '{}'",
                                           m.version, it->second, m.name));
    }
  }
}

namespace detail {

std::size_t migrate(const std::string& owner_url, bool research) {
  return with_connection(owner_url, "migrate", [research](pqxx::connection& c) { return apply_migrations(c, research); });
}

}  // namespace detail

std::size_t migrate(const std::string& owner_url) { return detail::migrate(owner_url, false); }

}  // namespace eventstore
