#include "eventstore/research.hpp"

#include <libpq-fe.h>

#include <memory>
#include <stdexcept>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <pqxx/pqxx>

#include "eventstore/detail.hpp"
#include "eventstore/event_store.hpp"

namespace eventstore {
namespace {

struct ConninfoFree {
  void operator()(PQconninfoOption* o) const noexcept { PQconninfoFree(o); }
};

/// libpq's own parse of `url` (URI or key=value): every keyword it knows, with
/// the value given (nullptr when not given). No defaults from the environment.
std::unique_ptr<PQconninfoOption, ConninfoFree> parse_conninfo(const std::string& url) {
  char* err = nullptr;
  std::unique_ptr<PQconninfoOption, ConninfoFree> opts(PQconninfoParse(url.c_str(), &err));
  if (!opts) {
    std::string why = err ? err : "out of memory";
    if (err) PQfreemem(err);
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    throw std::invalid_argument("eventstore: not a PostgreSQL connection string: " + why);
  }
  return opts;
}

/// A value quoted for a key=value conninfo string (libpq: single quotes, with
/// backslash escaping ' and \).
std::string quoted(std::string_view v) {
  std::string out = "'";
  for (const char c : v) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

bool plain_identifier(std::string_view s) {
  if (s.empty() || s.size() > 63 || (s[0] >= '0' && s[0] <= '9')) return false;
  for (const char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}

bool research_marked(pqxx::connection& c) {
  pqxx::nontransaction t(c, "is_research_store");
  if (t.exec("SELECT to_regclass('schema_migrations')")[0][0].is_null()) return false;
  return t.exec_params("SELECT EXISTS (SELECT FROM schema_migrations WHERE version = $1)", kResearchStoreVersion)[0][0]
      .as<bool>();
}

}  // namespace

std::string database_of(const std::string& url) {
  const auto opts = parse_conninfo(url);
  std::string db, user;
  for (auto* o = opts.get(); o->keyword != nullptr; ++o) {
    if (o->val == nullptr || *o->val == '\0') continue;
    if (std::string_view(o->keyword) == "dbname") db = o->val;
    if (std::string_view(o->keyword) == "user") user = o->val;
  }
  if (!db.empty()) return db;
  if (!user.empty()) return user;  // libpq's default database is the user's name
  throw std::invalid_argument("eventstore: the connection string names neither a database nor a user");
}

std::string with_database(const std::string& url, const std::string& db) {
  const auto opts = parse_conninfo(url);
  std::string out;
  for (auto* o = opts.get(); o->keyword != nullptr; ++o) {
    const std::string_view key = o->keyword;
    if (key == "dbname" || o->val == nullptr) continue;
    if (!out.empty()) out += ' ';
    out += fmt::format("{}={}", key, quoted(o->val));
  }
  if (!out.empty()) out += ' ';
  return out + "dbname=" + quoted(db);
}

std::string research_database(const std::string& live_url, const std::string& configured) {
  const auto live = database_of(live_url);
  const auto db = configured.empty() ? live + "_research" : configured;
  if (!plain_identifier(db))
    throw std::invalid_argument(fmt::format(
        "eventstore: research store database '{}' is not a plain lowercase name ([a-z_][a-z0-9_]*, at most 63 "
        "characters; TRADER_RESEARCH_DB)", db));
  if (db == live)
    throw std::invalid_argument(fmt::format(
        "eventstore: the research store cannot be the live store's database '{}' (TRADER_RESEARCH_DB): backtests and "
        "replays never go into the live append-only log", db));
  return db;
}

std::string research_url(const std::string& live_url, const std::string& configured) {
  return with_database(live_url, research_database(live_url, configured));
}

std::size_t migrate_research(const std::string& owner_url) { return detail::migrate(owner_url, true); }

bool is_research_store(const std::string& url) {
  return detail::with_connection(url, "is_research_store", [](pqxx::connection& c) { return research_marked(c); });
}

std::int64_t remove_research_session(const std::string& writer_url, const std::string& session_id) {
  return detail::with_connection(writer_url, "remove session", [&](pqxx::connection& c) -> std::int64_t {
    if (!research_marked(c))
      throw std::runtime_error(fmt::format(
          "eventstore: database {} is not a research store: the live store is append-only, and no session can be "
          "removed from it", c.dbname()));
    pqxx::work w(c, "remove_research_session");  // READ COMMITTED, as the function requires
    const auto n = w.exec_params("SELECT research_remove_session($1)", session_id)[0][0].as<std::int64_t>();
    w.commit();
    return n;
  });
}

}  // namespace eventstore
