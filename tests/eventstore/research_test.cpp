// Issue 12, "Research stays out of the audit log": the research store beside the
// live one (eventstore/research.hpp, schema/research/901_research_store.sql).
// URL rewriting is pure (libpq's parser); the rest runs against a PostgreSQL
// provisioned as a deployment is (tests/support PgServer: roles.sql creates
// "trader" and "trader_research", migrate and migrate_research).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include <fmt/format.h>
#include <pqxx/pqxx>

#include "eventstore/event_store.hpp"
#include "eventstore/research.hpp"
#include "servers.hpp"
#include "sql_attempt.hpp"

namespace {

using eventstore::NewEvent;
using eventstore::PgStore;
using testsupport::PgRole;

testsupport::PgServer& pg() {
  static testsupport::PgServer server;
  return server;
}

NewEvent event(const std::string& stream, int i, const std::string& session) {
  return {.msg_id = fmt::format("{}:{}", stream, i),
          .subject = "trading.orders",
          .type = "order.submit",
          .client_order_id = fmt::format("c-{}-{}", stream, i),
          .payload = fmt::format(R"({{"type": "order.submit", "i": {}}})", i),
          .session_id = session};
}

/// Runs `sql` on database `db` as `role` (estest::attempt_sql): "" or "<SQLSTATE>: <message>".
std::string attempt(const std::string& db, PgRole role, const std::string& sql) {
  return estest::attempt_sql(pg().url_for(db, role), sql);
}

std::int64_t scalar(const std::string& db, const std::string& sql) {
  pqxx::connection c(pg().url_for(db, PgRole::superuser));
  pqxx::nontransaction t(c);
  return t.exec(sql)[0][0].as<std::int64_t>();
}

}  // namespace

TEST_CASE("the research store's URL is the live store's with only the database changed", "[eventstore][research]") {
  using eventstore::database_of;
  using eventstore::research_database;
  using eventstore::research_url;
  const std::string uri = "postgresql://trader_readonly:p%40ss@127.0.0.1:5433/trader?connect_timeout=5";
  CHECK(database_of(uri) == "trader");
  CHECK(research_database(uri, "") == "trader_research");
  CHECK(research_database(uri, "lab") == "lab");
  const auto r = research_url(uri, "");
  CHECK(database_of(r) == "trader_research");
  // Every other parameter is kept, the password decoded once and quoted for key=value.
  CHECK(r.find("user='trader_readonly'") != std::string::npos);
  CHECK(r.find("password='p@ss'") != std::string::npos);
  CHECK(r.find("host='127.0.0.1'") != std::string::npos);
  CHECK(r.find("port='5433'") != std::string::npos);
  CHECK(r.find("connect_timeout='5'") != std::string::npos);
  // key=value strings too, with quotes and backslashes in values; no dbname: the user's name.
  CHECK(database_of(R"(host=db user=alice password='it\'s')") == "alice");
  const auto kv = research_url(R"(host=db user=alice password='it\'s' dbname=desk)", "");
  CHECK(database_of(kv) == "desk_research");
  CHECK(kv.find(R"(password='it\'s')") != std::string::npos);
  // Never the live database, never a name roles.sql could not create.
  CHECK_THROWS_WITH(research_database(uri, "trader"), Catch::Contains("cannot be the live store's database"));
  CHECK_THROWS_WITH(research_database(uri, "Lab; DROP"), Catch::Contains("not a plain lowercase name"));
  CHECK_THROWS_WITH(research_database(uri, std::string(64, 'a')), Catch::Contains("not a plain lowercase name"));
  CHECK_THROWS_AS(database_of("postgresql://[bad"), std::invalid_argument);
  CHECK_THROWS_AS(database_of("host=db"), std::invalid_argument);  // no database, no user
}

TEST_CASE("a research session is removed whole by the writer, and everything else stays append-only",
          "[.integration][eventstore][research]") {
  const std::string research = "trader_research";
  REQUIRE(eventstore::is_research_store(pg().research_url(PgRole::reader)));
  REQUIRE_FALSE(eventstore::is_research_store(pg().reader_url()));

  PgStore live(pg().writer_url());
  REQUIRE(live.append({event("EVENTS", 1, "live-1"), event("EVENTS", 2, "live-1")}) == 2);
  PgStore writer(pg().research_url(PgRole::writer));
  // Two backtests, interleaved with a third, so that removing one leaves gaps in the middle.
  std::vector<NewEvent> batch;
  for (int i = 1; i <= 6; ++i) batch.push_back(event("SBXA", i, "backtest-a"));
  for (int i = 1; i <= 3; ++i) batch.push_back(event("SBXB", i, "backtest-b"));
  for (int i = 7; i <= 8; ++i) batch.push_back(event("SBXA", i, "backtest-a"));
  REQUIRE(writer.append(batch) == 11);
  REQUIRE(writer.append_or_quarantine({event("SBXB", 4, "backtest-b"),
                                       NewEvent{.msg_id = "SBXB:5", .subject = "trading.orders", .type = "order.submit",
                                                .payload = std::string("{\"type\":\"order.submit\",\"s\":\"\\u0000\"}"),
                                                .session_id = "backtest-b"}})
              .quarantined.size() == 1);
  PgStore reader(pg().research_url(PgRole::reader));
  REQUIRE(reader.count() == 13);

  // Nothing can be removed from the live store, and nobody deletes research rows directly.
  CHECK_THROWS_WITH(eventstore::remove_research_session(pg().writer_url(), "live-1"),
                    Catch::Contains("not a research store: the live store is append-only"));
  CHECK(attempt(research, PgRole::writer, "DELETE FROM events WHERE session_id = 'backtest-b'").starts_with("42501"));
  CHECK(attempt(research, PgRole::reader, "SELECT research_remove_session('backtest-b')").starts_with("42501"));
  for (const auto* sql : {"DELETE FROM events WHERE session_id = 'backtest-b'", "UPDATE events SET type = 'x'",
                          "TRUNCATE events", "DELETE FROM events_quarantine"}) {
    INFO(sql);
    CHECK(attempt(research, PgRole::owner, sql).find("append-only") != std::string::npos);
  }
  // Not even with the setting the function uses, for another session's rows.
  CHECK(attempt(research, PgRole::owner,
                "SELECT set_config('trader.removing_session', 'backtest-b', true); "
                "DELETE FROM events WHERE session_id = 'backtest-a'")
            .find("append-only") != std::string::npos);

  CHECK(eventstore::remove_research_session(pg().research_url(PgRole::writer), "no-such-session") == 0);
  CHECK(eventstore::remove_research_session(pg().research_url(PgRole::writer), "backtest-b") == 5);
  CHECK(reader.count() == 8);
  CHECK(reader.query({.session_id = "backtest-b"}).empty());
  CHECK(reader.query({.session_id = "backtest-a"}).size() == 8);
  CHECK(scalar(research, "SELECT count(*) FROM events_quarantine") == 0);
  // The summaries as if backtest-b had never been appended.
  const auto sessions = reader.sessions();
  REQUIRE(sessions.size() == 1);
  CHECK(sessions[0].session_id == "backtest-a");
  CHECK(sessions[0].events == 8);
  CHECK_FALSE(reader.last_msg_id("SBXB:").has_value());
  CHECK(reader.last_msg_id("SBXA:") == "SBXA:8");
  CHECK(reader.head().events == 8);
  CHECK(scalar(research, "SELECT count(*) FROM research_removals WHERE session_id = 'backtest-b' AND events = 5 "
                         "AND removed_by = 'trader_recorder'") == 1);
  // Appends go on, chained to the newest event left.
  REQUIRE(writer.append({event("SBXC", 1, "backtest-c")}) == 1);
  CHECK(reader.count() == 9);
  // Removing the newest session leaves a store that takes appends again.
  CHECK(eventstore::remove_research_session(pg().research_url(PgRole::writer), "backtest-c") == 1);
  REQUIRE(writer.append({event("SBXD", 1, "backtest-d")}) == 1);
  CHECK(reader.query({.session_id = "backtest-d"}).size() == 1);

  // The live store is untouched and its chain intact.
  PgStore live_reader(pg().reader_url());
  CHECK(live_reader.count() == 2);
  CHECK(live_reader.verify().ok);
}

TEST_CASE("migrations keep the two stores apart", "[.integration][eventstore][research]") {
  // A database that holds events is never turned into a research store...
  pg().create_database("lab", testsupport::PgSchema::empty);
  eventstore::migrate(pg().url_for("lab", PgRole::owner));
  {
    PgStore w(pg().url_for("lab", PgRole::writer));
    REQUIRE(w.append({event("EVENTS", 1, "live-1")}) == 1);
  }
  CHECK_THROWS_WITH(eventstore::migrate_research(pg().url_for("lab", PgRole::owner)),
                    Catch::Contains("already holds events: a research store is made from a new, empty database"));
  CHECK_FALSE(eventstore::is_research_store(pg().url_for("lab", PgRole::reader)));
  // ...a research store is never migrated as a live one, and migrating it again applies nothing.
  CHECK_THROWS_WITH(eventstore::migrate(pg().research_url(PgRole::owner)), Catch::Contains("is a research store"));
  CHECK(eventstore::migrate_research(pg().research_url(PgRole::owner)) == 0);
  // A new empty database becomes one, with every common migration first.
  CHECK(eventstore::migrate_research(pg().url_for("lab_research", PgRole::owner)) ==
        eventstore::embedded_migrations().size() + eventstore::research_migrations().size());
  CHECK(eventstore::is_research_store(pg().url_for("lab_research", PgRole::reader)));
}
