// The hash chain catches changes made behind the store's back: a superuser
// disables the append-only trigger and changes, deletes or moves events.
#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <pqxx/pqxx>

#include "eventstore/detail.hpp"
#include "eventstore/event_store.hpp"
#include "eventstore/migrations.hpp"
#include "servers.hpp"

namespace {

std::vector<eventstore::NewEvent> batch(int from, int n) {
  std::vector<eventstore::NewEvent> out;
  for (int i = from; i < from + n; ++i) {
    out.push_back({.msg_id = "EVENTS:" + std::to_string(i),
                   .subject = "trading.orders",
                   .type = "order.submit",
                   .client_order_id = "c-" + std::to_string(i),
                   .ts_event = 1'399'334'400'000'000'000 + i,
                   .payload = R"({"type":"order.submit","quantity":")" + std::to_string(i) + R"("})",
                   // every other event in a session, so both forms of the hash input are chained
                   .session_id = i % 2 == 0 ? std::optional<std::string>("s-1") : std::nullopt});
  }
  return out;
}

/// Runs `sql` as the superuser with the append-only trigger switched off, as an attacker would.
void tamper(const std::string& url, const std::string& sql) {
  pqxx::connection c(url);
  pqxx::work w(c);
  w.exec("ALTER TABLE events DISABLE TRIGGER events_no_update_delete");
  w.exec(sql);
  w.exec("ALTER TABLE events ENABLE TRIGGER events_no_update_delete");
  w.commit();
}

}  // namespace

TEST_CASE("verify accepts an untouched store and names the first tampered event", "[.integration][eventstore][verify]") {
  testsupport::PgServer pg;
  eventstore::PgStore writer(pg.writer_url());  // the recorder
  eventstore::PgStore store(pg.reader_url());   // traderctl verify
  CHECK(store.verify().ok);  // empty
  REQUIRE(writer.append(batch(1, 30)) == 30);
  REQUIRE(writer.append(batch(31, 20)) == 20);  // chained across batches
  const auto clean = store.verify();
  CHECK(clean.ok);
  CHECK(clean.events == 50);
  CHECK(clean.head_hash.size() == 64);

  SECTION("a changed payload") {
    tamper(pg.superuser_url(), R"(UPDATE events SET payload = '{"type":"order.submit","quantity":"9999"}' WHERE position = 17)");
    const auto v = store.verify();
    CHECK_FALSE(v.ok);
    CHECK(v.first_bad_position == 17);
    CHECK_THAT(v.problem, Catch::Contains("do not match its hash"));
  }
  SECTION("a deleted event") {
    tamper(pg.superuser_url(), "DELETE FROM events WHERE position = 23");
    const auto v = store.verify();
    CHECK_FALSE(v.ok);
    CHECK(v.first_bad_position == 24);
    CHECK_THAT(v.problem, Catch::Contains("link to the previous event is broken"));
  }
  SECTION("two events swapped, each with its hashes") {
    // position is GENERATED ALWAYS, so a reordering moves the contents instead.
    tamper(pg.superuser_url(), "UPDATE events e SET payload = o.payload, client_order_id = o.client_order_id, "
                     "ts_event = o.ts_event, hash = o.hash, prev_hash = o.prev_hash "
                     "FROM events o WHERE (e.position, o.position) IN ((5, 6), (6, 5))");
    const auto v = store.verify();
    CHECK_FALSE(v.ok);
    CHECK(v.first_bad_position == 5);
  }
  SECTION("a changed subject, with the hash recomputed for that row alone") {
    tamper(pg.superuser_url(), "UPDATE events SET subject = 'trading.executions', "
                     "hash = sha256(prev_hash || events_hash_input(position, msg_id, 'trading.executions', type, "
                     "client_order_id, ts_event, payload, session_id)) WHERE position = 40");
    const auto v = store.verify();
    CHECK_FALSE(v.ok);
    CHECK(v.first_bad_position == 41);  // the next event still links to the old hash
  }
  SECTION("an event moved to another session") {
    tamper(pg.superuser_url(), "UPDATE events SET session_id = 's-2' WHERE position = 30");
    const auto v = store.verify();
    CHECK_FALSE(v.ok);
    CHECK(v.first_bad_position == 30);
    CHECK_THAT(v.problem, Catch::Contains("do not match its hash"));
  }
  SECTION("an event taken out of its session") {
    tamper(pg.superuser_url(), "UPDATE events SET session_id = NULL WHERE position = 12");
    const auto v = store.verify();
    CHECK_FALSE(v.ok);
    CHECK(v.first_bad_position == 12);
  }
  SECTION("appending after a clean verify keeps the chain whole") {
    REQUIRE(writer.append(batch(51, 5)) == 5);
    const auto v = store.verify();
    CHECK(v.ok);
    CHECK(v.events == 55);
    CHECK(v.head_hash != clean.head_hash);
  }
}

TEST_CASE("migrating a store recorded before the hash chain chains its events", "[.integration][eventstore][verify]") {
  testsupport::PgServer pg(testsupport::PgSchema::empty);
  {  // a database at schema version 1, with events in it
    pqxx::connection c(pg.owner_url());
    pqxx::work w(c);
    w.exec("CREATE TABLE schema_migrations (version int PRIMARY KEY, name text NOT NULL, "
           "applied_at timestamptz NOT NULL DEFAULT now())");
    const auto first = eventstore::embedded_migrations().front();
    REQUIRE(first.version == 1);
    w.exec(std::string(first.sql));
    w.exec("INSERT INTO schema_migrations (version, name) VALUES (1, " + w.quote(std::string(first.name)) + ")");
    for (const auto& e : batch(1, 10)) {
      w.exec("INSERT INTO events (msg_id, subject, type, client_order_id, ts_event, payload) VALUES (" +
             w.quote(e.msg_id) + "," + w.quote(e.subject) + "," + w.quote(e.type) + "," + w.quote(*e.client_order_id) +
             "," + std::to_string(*e.ts_event) + "," + w.quote(e.payload) + ")");
    }
    w.commit();
  }
  CHECK(eventstore::migrate(pg.owner_url()) == eventstore::embedded_migrations().size() - 1);  // 002 chains them
  REQUIRE(eventstore::PgStore(pg.writer_url()).append(batch(11, 5)) == 5);
  const auto v = eventstore::PgStore(pg.reader_url()).verify();
  CHECK(v.ok);
  CHECK(v.events == 15);
}

namespace {

/// The SQLSTATE of what `sql` raises when `role` runs it at `url`, "" when it succeeds.
std::string sqlstate_of(const std::string& url, const std::string& sql) {
  try {
    pqxx::connection c(url);
    pqxx::work w(c);
    w.exec(sql);
    w.commit();
    return "";
  } catch (const pqxx::sql_error& e) {
    return e.sqlstate();
  }
}

/// An INSERT of one event chained in SQL as 004 describes (the append lock, a
/// position and the head's hash through the writer's functions), with `hash_sql`
/// as the hash (h: the head's hash, hi: the right hash input) and `prev_sql` as prev_hash.
std::string chained_insert(const std::string& msg_id, const std::string& prev_sql, const std::string& hash_sql) {
  return fmt::format(
      "INSERT INTO events (position, msg_id, subject, type, payload, prev_hash, hash) OVERRIDING SYSTEM VALUE "
      "SELECT p, '{0}', 'trading.orders', 'order.submit', j, {1}, {2} FROM (SELECT p, j, h, "
      "events_hash_input(p, '{0}', 'trading.orders', 'order.submit', NULL, NULL, j, NULL) AS hi FROM ("
      "SELECT (SELECT value::bigint FROM events_append_state(ARRAY['NOT:STORED']) WHERE kind = 'p') AS p, "
      "'{{\"type\": \"order.submit\"}}'::jsonb AS j, "
      "coalesce(decode((SELECT head_hash FROM events_head()), 'hex'), '\\x'::bytea) AS h) x) y",
      msg_id, prev_sql, hash_sql);
}

}  // namespace

TEST_CASE("a store chained before 007_lean_write_path verifies after it, and its write path refuses what it refused",
          "[.integration][eventstore][verify]") {
  testsupport::PgServer pg(testsupport::PgSchema::empty);
  // Events chained at schema version 6 by 006's events_hash_input, with awkward
  // values: multi-byte text (lengths count characters), a client_order_id, no
  // ts_event, sessions and none, payloads jsonb renders otherwise than written,
  // and msg_ids whose text order is not their sequence order ("EVENTS:10" < "EVENTS:9").
  struct Old {
    std::string msg_id, subject, type, payload;
    std::optional<std::string> client_order_id, session_id;
    std::optional<std::int64_t> ts_event;
  };
  const std::vector<Old> old{
      {"EVENTS:9", "trading.orders", "order.submit", R"({"b":1.50,"a":[1e3,-0.0,"\u00e9\n"],"type":"order.submit"})",
       "c-\u00e7\u00e9", "s-\u00fc", 5},
      {"EVENTS:10", "market.data.IBM", "quote", R"({"type":"quote","bid_px":"185.25"})", std::nullopt, "s-\u00fc",
       1'381'238'400'000'000'000},
      {"SBX\u20ac:1", "session.lifecycle", "session.started", R"({"x":{"z":null,"y":true},"type":"session.started"})",
       std::nullopt, std::nullopt, std::nullopt},
      {"EVENTS:11", "risk.state", "risk.state", R"({"type":"risk.state","s":"\ud83d\ude00 \"q\""})", std::nullopt,
       std::nullopt, -1},
  };
  {
    pqxx::connection c(pg.owner_url());
    pqxx::work w(c);
    w.exec("CREATE TABLE schema_migrations (version int PRIMARY KEY, name text NOT NULL, "
           "applied_at timestamptz NOT NULL DEFAULT now())");
    for (const auto& m : eventstore::embedded_migrations()) {
      if (m.version > 6) break;
      w.exec(std::string(m.sql));
      w.exec_params("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.version, std::string(m.name));
    }
    w.commit();
    for (const auto& e : old) {
      pqxx::work a(c);
      a.exec("SELECT pg_advisory_xact_lock(8390879497295065200)");
      a.exec_params(
          "INSERT INTO events (position, msg_id, subject, type, client_order_id, ts_event, payload, session_id, "
          "prev_hash, hash) OVERRIDING SYSTEM VALUE SELECT p, $1, $2, $3, $4, $5::bigint, j, $7, h, "
          "sha256(h || events_hash_input(p, $1, $2, $3, $4, $5::bigint, j, $7)) "
          "FROM (SELECT nextval('events_position_seq') AS p, $6::jsonb AS j, "
          "coalesce((SELECT hash FROM events ORDER BY position DESC LIMIT 1), '\\x'::bytea) AS h) x",
          e.msg_id, e.subject, e.type, e.client_order_id, e.ts_event, e.payload, e.session_id);
      a.commit();
    }
  }
  const auto hashes = [&] {
    pqxx::connection c(pg.reader_url());
    pqxx::read_transaction t(c);
    std::vector<std::string> out;
    for (const auto& row : t.exec("SELECT position || ' ' || encode(hash, 'hex') FROM events ORDER BY position"))
      out.emplace_back(row[0].c_str());
    return out;
  };
  const auto before = hashes();
  REQUIRE(before.size() == old.size());

  REQUIRE(eventstore::migrate(pg.owner_url()) == eventstore::embedded_migrations().size() - 6);  // 007 on
  CHECK(hashes() == before);
  eventstore::PgStore reader(pg.reader_url());
  CHECK(reader.verify().ok);  // 007's events_hash_input gives the old rows' bytes

  // New appends continue the old chain; a redelivered old msg_id is stored once.
  eventstore::PgStore writer(pg.writer_url());
  std::vector<eventstore::NewEvent> more;
  for (const auto& e : old)
    more.push_back({.msg_id = e.msg_id, .subject = e.subject, .type = e.type, .client_order_id = e.client_order_id,
                    .ts_event = e.ts_event, .payload = e.payload, .session_id = e.session_id});
  more.push_back({.msg_id = "EVENTS:100", .subject = "trading.orders", .type = "order.submit",
                  .client_order_id = "c-\u00e7", .payload = R"({"type":"order.submit","q":"1"})", .session_id = "s-\u00fc"});
  more.push_back({.msg_id = "EVENTS:12", .subject = "market.data.IBM", .type = "quote", .ts_event = 7,
                  .payload = R"({"type":"quote","n":[0.10,2E-2]})"});
  CHECK(writer.append(more) == 2);
  CHECK(writer.append(more) == 0);
  CHECK(reader.count() == 6);
  CHECK(reader.position_of("EVENTS:9") == std::optional<std::int64_t>(1));
  CHECK(reader.position_of("EVENTS:12") == std::optional<std::int64_t>(6));
  CHECK(reader.position_of("EVENTS:1") == std::nullopt);
  const auto v = reader.verify();
  CHECK(v.ok);
  CHECK(v.events == 6);
  {  // and the database builds, for every event, the input this process builds
    pqxx::connection c(pg.reader_url());
    pqxx::read_transaction t(c);
    for (const auto& row : t.exec(
             "SELECT position, msg_id, subject, type, client_order_id, ts_event, payload::text, session_id, "
             "encode(events_hash_input(position, msg_id, subject, type, client_order_id, ts_event, payload, "
             "session_id), 'hex') FROM events ORDER BY position")) {
      const auto opt = [](const pqxx::field& f) {
        return f.is_null() ? std::nullopt : std::optional<std::string>(f.c_str());
      };
      std::string mine;
      eventstore::detail::append_hash_input(
          mine, row[0].as<std::int64_t>(), row[1].c_str(), row[2].c_str(), row[3].c_str(), opt(row[4]),
          row[5].is_null() ? std::nullopt : std::optional<std::int64_t>(row[5].as<std::int64_t>()),
          *eventstore::detail::jsonb_text(row[6].c_str()), opt(row[7]));
      std::string hex;
      for (const unsigned char ch : mine) hex += fmt::format("{:02x}", ch);
      INFO(row[1].c_str());
      CHECK(hex == row[8].c_str());
    }
  }

  // The writer's own INSERTs: only one that continues the chain gets in.
  const std::string w = pg.writer_url();
  CHECK(sqlstate_of(w, chained_insert("EVENTS:9", "h", "sha256(h || hi)")) == "23505");  // msg_id stored already
  CHECK(sqlstate_of(w, chained_insert("IMPORT:1", "h", "sha256(hi)")) == "23000");       // a wrong hash
  CHECK(sqlstate_of(w, chained_insert("IMPORT:1", "'\\x'::bytea", "sha256(hi)")) == "23000");  // not after the head
  CHECK(sqlstate_of(w, chained_insert("IMPORT:1", "h", "sha256(h || hi)")).empty());     // right: stored
  CHECK(reader.count() == 7);
  CHECK(reader.verify().ok);
}
