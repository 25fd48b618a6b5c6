/// @file sql_attempt.hpp
/// @brief For tests of what a role may do: run SQL as a given login and report the refusal.
#pragma once

#include <string>

#include <pqxx/pqxx>

namespace estest {

/// Runs `sql` on `url` in a transaction of its own and commits: "" when that
/// worked, else "<SQLSTATE>: <message>" (42501 for a privilege refusal).
inline std::string attempt_sql(const std::string& url, const std::string& sql) {
  pqxx::connection c(url);
  try {
    pqxx::work w(c);
    w.exec(sql);
    w.commit();
    return "";
  } catch (const pqxx::insufficient_privilege& e) {  // libpqxx 6.4 leaves its sqlstate() empty
    return std::string("42501: ") + e.what();
  } catch (const pqxx::sql_error& e) {
    return e.sqlstate() + ": " + e.what();
  }
}

}  // namespace estest
