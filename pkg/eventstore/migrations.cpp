#include "eventstore/migrations.hpp"

#include <map>
#include <stdexcept>
#include <string>

#include <fmt/format.h>
#include <pqxx/pqxx>

#include "eventstore/detail.hpp"

namespace eventstore {

std::size_t apply_migrations(pqxx::connection_base& conn) {
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

  std::size_t count = 0;
  for (const Migration& m : embedded_migrations()) {
    if (const auto it = applied.find(m.version); it != applied.end()) {
      if (it->second != m.name) {
        throw std::runtime_error(fmt::format(
            "eventstore: database has migration {} named '{}', this binary has '{}'", m.version, it->second, m.name));
      }
      continue;
    }
    w.exec(std::string(m.sql), std::string(m.name));
    w.exec_params("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.version, std::string(m.name));
    ++count;
  }
  w.commit();
  return count;
}

}  // namespace eventstore
