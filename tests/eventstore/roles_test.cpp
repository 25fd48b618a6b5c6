// Issue 11, least privilege: the writer (the recorder) may only append, the reader
// (traderctl, risk-state, execution) may only read, neither can switch the guards
// off, and nobody gets in without the right password. Against a PostgreSQL
// provisioned as a deployment is (tests/support PgServer: SCRAM, roles.sql, migrate).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include <fmt/format.h>
#include <pqxx/pqxx>

#include "eventstore/event_store.hpp"
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

NewEvent event(int i) {
  return {.msg_id = fmt::format("EVENTS:{}", i),
          .subject = "trading.orders",
          .type = "order.submit",
          .client_order_id = fmt::format("c-{}", i),
          .payload = fmt::format(R"({{"type": "order.submit", "i": {}}})", i),
          .session_id = "s-1"};
}

/// Runs `sql` as `role` (estest::attempt_sql): "" when that worked, else "<SQLSTATE>: <message>".
std::string attempt(PgRole role, const std::string& sql) { return estest::attempt_sql(pg().url_for("trader", role), sql); }

/// Statements that would read, change or unguard the record (or the summaries
/// and the quarantine) behind the store's back.
const std::vector<std::string> kTampering{
    "UPDATE events SET type = 'x'",
    "DELETE FROM events",
    "TRUNCATE events",
    "UPDATE events_quarantine SET reason = ''",
    "DELETE FROM events_quarantine",
    "TRUNCATE events_quarantine",
    "UPDATE event_totals SET events = 0",
    "INSERT INTO event_streams (stream, last_position) VALUES ('FORGED', 1)",
    "UPDATE event_sessions SET events = 0",
    "ALTER TABLE events DISABLE TRIGGER events_chain",
    "ALTER TABLE events DISABLE TRIGGER ALL",
    "SET session_replication_role = replica",
    "CREATE OR REPLACE FUNCTION events_chain() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$",
    "ALTER FUNCTION events_head() SECURITY INVOKER",
    "DROP TABLE events",
    "CREATE TABLE sneaky (x int)",
    "CREATE TEMP TABLE sneaky (x int)",
    "SELECT setval('events_position_seq', 1)",
};

}  // namespace

TEST_CASE("the writer appends and resumes, and can neither read nor change nor unguard events",
          "[.integration][eventstore][roles]") {
  PgStore writer(pg().writer_url());
  REQUIRE(writer.append({event(1), event(2), event(3)}) == 3);
  // What the recorder needs, through SECURITY DEFINER functions.
  CHECK(writer.last_msg_id("EVENTS:") == std::optional<std::string>("EVENTS:3"));
  CHECK(writer.last_event("EVENTS:")->session_id == std::optional<std::string>("s-1"));
  CHECK(writer.head().events == 3);
  CHECK(writer.head().hash.size() == 64);
  CHECK(writer.append({event(3), event(4)}) == 1);  // dedup without reading events

  std::vector<std::string> statements = kTampering;
  for (const char* read : {"SELECT count(*) FROM events", "SELECT payload FROM events WHERE msg_id = 'EVENTS:1'",
                           "SELECT * FROM events_quarantine", "SELECT * FROM event_sessions",
                           "SELECT * FROM event_streams", "SELECT * FROM event_totals",
                           "SELECT nextval('events_position_seq')"})
    statements.emplace_back(read);
  for (const auto& sql : statements) {
    INFO(sql);
    CHECK_THAT(attempt(PgRole::writer, sql), Catch::StartsWith("42501"));  // insufficient_privilege
  }
  // What it may insert must continue the chain: a forged event is refused whole.
  CHECK_THAT(attempt(PgRole::writer,
                     "INSERT INTO events (position, msg_id, subject, type, payload, prev_hash, hash) "
                     "OVERRIDING SYSTEM VALUE VALUES (1000, 'FORGED:1', 'trading.orders', 'order.submit', '{}', "
                     "'\\x00', '\\x00')"),
             Catch::StartsWith("23000"));
  CHECK(PgStore(pg().reader_url()).verify().ok);
  CHECK(PgStore(pg().reader_url()).last_msg_id("EVENTS:") == std::optional<std::string>("EVENTS:4"));
}

TEST_CASE("the reader reads and verifies, and can neither append nor change nor unguard events",
          "[.integration][eventstore][roles]") {
  REQUIRE(PgStore(pg().writer_url()).append({event(101), event(102)}) == 2);
  PgStore reader(pg().reader_url());
  const auto before = reader.count();
  CHECK(before >= 2);
  CHECK(reader.read(0, 1000).size() == static_cast<std::size_t>(before));
  CHECK(reader.sessions().size() == 1);
  CHECK(reader.last_msg_id("EVENTS:") == std::optional<std::string>("EVENTS:102"));
  CHECK(reader.head() == PgStore(pg().writer_url()).head());
  CHECK(reader.verify().ok);
  try {
    reader.append({event(103)});
    FAIL("the reader appended");
  } catch (const eventstore::StoreUnavailable& e) {
    FAIL("reported as StoreUnavailable: " << e.what());
  } catch (const std::runtime_error& e) {
    CHECK_THAT(e.what(), Catch::Contains("permission denied"));
  }

  std::vector<std::string> statements = kTampering;
  for (const char* write : {"INSERT INTO events (msg_id, subject, type, payload) VALUES ('X:1', 's', 't', '{}')",
                            "INSERT INTO events_quarantine (msg_id, subject, reason, raw) VALUES ('X:1', 's', 'r', '')",
                            "SELECT * FROM events_head()", "SELECT * FROM events_newest('EVENTS:')",
                            "SELECT * FROM events_append_state('{X:1}')"})
    statements.emplace_back(write);
  for (const auto& sql : statements) {
    INFO(sql);
    CHECK_THAT(attempt(PgRole::reader, sql), Catch::StartsWith("42501"));
  }
  CHECK(reader.count() == before);
}

TEST_CASE("a connection without the right password is refused, and PgStore says so without retrying",
          "[.integration][eventstore][roles]") {
  const auto port = std::to_string(pg().port());
  for (const auto role : {PgRole::superuser, PgRole::owner, PgRole::writer, PgRole::reader}) {
    const auto name = testsupport::PgServer::role_name(role);
    INFO(name);
    CHECK_THROWS_WITH(pqxx::connection("postgresql://" + name + "@127.0.0.1:" + port + "/trader"),
                      Catch::Contains("password"));
    CHECK_THROWS_WITH(pqxx::connection("postgresql://" + name + ":wrong-password@127.0.0.1:" + port + "/trader"),
                      Catch::Contains("password authentication failed"));
    try {
      PgStore store("postgresql://" + name + ":wrong-password@127.0.0.1:" + port + "/trader");
      FAIL("PgStore connected with a wrong password");
    } catch (const eventstore::StoreUnavailable& e) {
      FAIL("a refused login reported as StoreUnavailable (the recorder would retry forever): " << e.what());
    } catch (const std::runtime_error& e) {
      CHECK_THAT(e.what(), Catch::Contains("refused the login"));
    }
  }
  // Every rule of pg_hba.conf asks for a SCRAM password; no trust, no md5.
  pqxx::connection c(pg().superuser_url());
  pqxx::work w(c);
  CHECK(w.exec("SELECT count(*) FROM pg_hba_file_rules WHERE auth_method <> 'scram-sha-256'")[0][0].as<int>() == 0);
  // And the service roles are neither superusers nor able to create roles or databases.
  CHECK(w.exec("SELECT count(*) FROM pg_roles WHERE rolname LIKE 'trader\\_%' AND (rolsuper OR rolcreaterole OR "
               "rolcreatedb OR rolbypassrls)")[0][0].as<int>() == 0);
}
