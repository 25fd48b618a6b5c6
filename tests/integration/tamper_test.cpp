// Issue 11, nothing on the bus can break or forge the record:
// - the recorder stores what PostgreSQL refuses as placeholders (quarantine) and keeps running;
// - `traderctl verify` with the recorder's signed checkpoints catches what a superuser
//   can do that the hash chain alone cannot see: a truncated tail, a re-chained history.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <pqxx/pqxx>

#include "codec/codec.hpp"
#include "eventstore/checkpoint.hpp"
#include "stack.hpp"

namespace {

/// traderctl verify ARGS with the stack's environment, `unset` variables emptied; exit code and output.
std::pair<int, std::string> verify(const itest::Stack& stack, std::vector<std::string> args = {},
                                   const std::vector<std::string>& unset = {}) {
  testsupport::ProcessOptions o;
  o.env = stack.env();
  for (auto& [k, v] : o.env)
    for (const auto& u : unset)
      if (k == u) v = "";
  static int n = 0;
  o.log_path = fmt::format("{}/verify-{}.log", stack.dir(), ++n);
  args.insert(args.begin(), {itest::bin("traderctl"), "verify"});
  testsupport::Process p(args, o);
  const int rc = p.wait();
  return {rc, p.log()};
}

/// As the superuser with the append-only trigger off: what someone holding the database's keys can do.
void tamper(const itest::Stack& stack, const std::string& sql) {
  pqxx::connection c(stack.superuser_url());
  pqxx::work w(c);
  w.exec("ALTER TABLE events DISABLE TRIGGER events_no_update_delete");
  w.exec(sql);
  w.exec("ALTER TABLE events ENABLE TRIGGER events_no_update_delete");
  w.commit();
}

std::string hex(std::string_view s) {
  std::string out;
  for (const unsigned char c : s) out += fmt::format("{:02x}", c);
  return out;
}

}  // namespace

TEST_CASE("the recorder stores hostile orders, quarantines what PostgreSQL refuses, and keeps running across a restart",
          "[integration][recorder][quarantine]") {
  itest::nats_library();
  itest::Stack stack;
  stack.start();
  // Raw publishes: what any client on the bus can send.
  natsio::Connection pub({.url = stack.nats_url(), .name = "test-hostile"});
  std::string long_id;
  for (int i = 0; i < 20'000; ++i) long_id += "0123456789abcdefghijklmnopqrstuvwxyz"[(i * 7919 + i / 36) % 36];
  const auto submit = [](const std::string& id_json) {
    return R"({"type":"order.submit","client_order_id":)" + id_json +
           R"(,"symbol":"EURUSD","side":"buy","order_type":"limit","quantity":1000,"limit_price":"1.2","time_in_force":"gtc"})";
  };
  const std::string long_order = submit("\"" + long_id + "\"");
  const std::string nul_order = submit(R"("nul\u0000id")");
  REQUIRE(pub.publish("trading.orders", long_order));
  REQUIRE(pub.publish("trading.orders", nul_order));
  for (int i = 0; i < 5; ++i)
    REQUIRE(pub.publish("market.data.EURUSD", fmt::format(R"({{"type":"quote","symbol":"EURUSD","bid":"1.3","ask":"1.3002","ts_event":{}}})",
                                                         1'399'334'400'000'000'000 + i)));
  REQUIRE(pub.publish("trading.orders", submit(R"("plain-1")")));
  pub.flush();
  REQUIRE(stack.run({itest::bin("traderctl"), "wait-idle", "--quiet-ms", "1000", "--timeout-s", "60"}) == 0);

  eventstore::PgStore store(stack.reader_url());
  const auto total = itest::wait_recorded(stack, store);  // every message of the stream is in the store
  CHECK(stack.worker("recorder").running());
  const auto orders = store.query({.subject = "trading.orders"});
  REQUIRE(orders.size() == 3);
  // The long id: an ordinary event, the id kept in the payload but out of the index.
  CHECK(orders[0].type == "order.submit");
  CHECK_FALSE(orders[0].client_order_id.has_value());
  CHECK(orders[0].payload.find(long_id) != std::string::npos);
  // The \u0000: a placeholder, with the raw bytes in events_quarantine.
  CHECK(orders[1].type == "quarantined");
  CHECK_FALSE(orders[1].client_order_id.has_value());
  CHECK(orders[2].type == "order.submit");
  CHECK(orders[2].client_order_id == std::optional<std::string>("plain-1"));

  pqxx::connection c(stack.reader_url());
  std::int64_t quarantined_rows = 0;
  {
    pqxx::work w(c);
    const auto r = w.exec_params("SELECT reason, encode(raw, 'hex') FROM events_quarantine WHERE msg_id = $1",
                                 orders[1].msg_id);
    REQUIRE(r.size() == 1);
    CHECK_THAT(r[0][0].as<std::string>(), Catch::Contains("unsupported Unicode escape sequence"));
    CHECK(r[0][1].as<std::string>() == hex(nul_order));
    quarantined_rows = w.exec("SELECT count(*) FROM events_quarantine")[0][0].as<std::int64_t>();
  }
  // Whatever else echoed the bad id (execution reports) is quarantined the same way.
  std::int64_t placeholders = 0;
  for (const auto& e : itest::read_all(store)) placeholders += e.type == "quarantined";
  CHECK(placeholders == quarantined_rows);
  CHECK(stack.worker("recorder").log().find("the store refused " + orders[1].msg_id) != std::string::npos);
  CHECK_THAT(itest::worker_status(stack, "recorder"),
             Catch::StartsWith(fmt::format("degraded: {} message{} quarantined", quarantined_rows,
                                           quarantined_rows == 1 ? "" : "s")));
  {
    const auto [rc, out] = verify(stack);
    INFO(out);
    CHECK(rc == 0);
  }

  // A restart does not fail on the same messages: it resumes after them.
  stack.worker("recorder").kill_hard();
  stack.restart("recorder");
  REQUIRE(pub.publish("trading.orders", submit(R"("plain-2")")));
  pub.flush();
  REQUIRE(stack.run({itest::bin("traderctl"), "wait-idle", "--quiet-ms", "1000", "--timeout-s", "60"}) == 0);
  CHECK(itest::wait_recorded(stack, store) > total);
  CHECK(stack.worker("recorder").running());
  CHECK(store.query({.client_order_id = "plain-2"}).size() >= 1);
  {
    pqxx::work w(c);
    CHECK(w.exec("SELECT count(*) FROM events_quarantine")[0][0].as<std::int64_t>() == quarantined_rows);
  }
  CHECK(itest::worker_status(stack, "recorder") == "ok");  // this run quarantined nothing
  const auto [rc, out] = verify(stack);
  INFO(out);
  CHECK(rc == 0);
}

TEST_CASE("traderctl verify with signed checkpoints catches a truncated tail, a re-chained history, and a forged or "
          "missing checkpoint file",
          "[integration][verify]") {
  itest::nats_library();
  itest::Stack stack(std::vector<std::pair<std::string, std::string>>{{"RECORDER_CHECKPOINT_EVERY", "40"}});
  stack.start();
  // Three rounds of 110 quotes, each recorded before the next: at least three appends of
  // 40 events or more, so at least three checkpoints whatever batches the recorder fetches.
  for (int round = 0; round < 3; ++round) {
    REQUIRE(stack.run_as("feed", {itest::bin("feed"), "--limit", "110",
                         testsupport::shared_data_dir() + "/quotes_BTCUSDT_2020-02-22.csv"}) == 0);
    REQUIRE(stack.run({itest::bin("traderctl"), "wait-idle", "--quiet-ms", "1000", "--timeout-s", "120"}) == 0);
    eventstore::PgStore store(stack.reader_url());
    itest::wait_recorded(stack, store);
  }
  stack.worker("recorder").terminate();  // its last checkpoint is the head: nothing is recorded after it
  eventstore::PgStore store(stack.reader_url());
  const auto head = store.head();
  REQUIRE(head.position > 300);
  const auto lines = eventstore::read_checkpoints(stack.checkpoint_file());
  REQUIRE(lines.size() >= 3);
  REQUIRE(lines.back().checkpoint);
  CHECK(lines.back().checkpoint->position == head.position);

  {  // untouched
    const auto [rc, out] = verify(stack);
    INFO(out);
    CHECK(rc == 0);
    CHECK_THAT(out, Catch::Contains(fmt::format("{} checkpoints signed by key", lines.size())));
    const auto [rc2, out2] = verify(stack, {}, {"TRADER_CHECKPOINT_FILE", "TRADER_CHECKPOINT_PUBKEY"});
    CHECK(rc2 == 0);
    CHECK_THAT(out2, Catch::Contains("cannot be detected"));
  }
  {  // (c) a checkpoint line edited: a signature that no longer matches
    std::ifstream in(stack.checkpoint_file());
    std::string text((std::istreambuf_iterator<char>(in)), {});
    const auto at = text.find("\"hash\":\"", text.find('\n') + 1) + 8;  // in the second line
    text[at] = text[at] == '0' ? '1' : '0';
    const auto forged = stack.dir() + "/forged.jsonl";
    std::ofstream(forged) << text;
    const auto [rc, out] = verify(stack, {"--checkpoints", forged, "--pubkey", stack.checkpoint_pubkey()});
    INFO(out);
    CHECK(rc == 1);
    CHECK_THAT(out, Catch::Contains("FORGED: line 2"));
  }
  {  // the checkpoint file deleted (here: a path with no file), while the settings expect one
    const auto [rc, out] = verify(stack, {"--checkpoints", stack.dir() + "/deleted.jsonl", "--pubkey",
                                          stack.checkpoint_pubkey()});
    INFO(out);
    CHECK(rc == 1);
    CHECK_THAT(out, Catch::Contains("CHECKPOINTS MISSING"));
  }
  {  // (a) the newest events deleted with the triggers off, then put back
    tamper(stack, fmt::format("CREATE TABLE saved AS SELECT * FROM events WHERE position > {}; "
                              "DELETE FROM events WHERE position > {}", head.position - 5, head.position - 5));
    const auto [rc, out] = verify(stack);
    INFO(out);
    CHECK(rc == 1);
    CHECK_THAT(out, Catch::Contains("TRUNCATED"));
    CHECK_THAT(out, Catch::Contains("ok: "));  // the chain alone is intact
    tamper(stack, "INSERT INTO events OVERRIDING SYSTEM VALUE SELECT * FROM saved ORDER BY position; DROP TABLE saved");
    const auto [rc2, out2] = verify(stack);
    INFO(out2);
    CHECK(rc2 == 0);
  }
  {  // (b) an early event (the first checkpoint's) rewritten and every later one re-chained: a consistent
     // chain, another history
    const auto first = lines.front().checkpoint->position;
    tamper(stack, fmt::format(R"(
      UPDATE events SET payload = jsonb_set(payload, '{{type}}', '"rewritten"') WHERE position = {0};
      DO $$
      DECLARE r record; last bytea;
      BEGIN
        SELECT hash INTO last FROM events WHERE position < {0} ORDER BY position DESC LIMIT 1;
        last := coalesce(last, '\x'::bytea);
        FOR r IN SELECT * FROM events WHERE position >= {0} ORDER BY position LOOP
          UPDATE events SET prev_hash = last,
                 hash = sha256(last || events_hash_input(r.position, r.msg_id, r.subject, r.type, r.client_order_id,
                                                         r.ts_event, r.payload, r.session_id))
           WHERE position = r.position RETURNING hash INTO last;
        END LOOP;
      END $$;)", first));
    const auto [rc, out] = verify(stack, {}, {"TRADER_CHECKPOINT_FILE", "TRADER_CHECKPOINT_PUBKEY"});
    CHECK(rc == 0);  // the hash chain alone is fooled
    const auto [rc2, out2] = verify(stack);
    INFO(out2);
    CHECK(rc2 == 1);
    CHECK_THAT(out2, Catch::Contains(fmt::format("REWRITTEN: line 1: the event at position {}", first)));
  }
}
