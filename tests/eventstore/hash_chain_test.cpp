// The hash chain catches changes made behind the store's back: a superuser
// disables the append-only trigger and changes, deletes or moves events.
#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

#include <pqxx/pqxx>

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
