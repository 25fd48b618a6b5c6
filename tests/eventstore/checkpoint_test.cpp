// Signed checkpoints of the store's head (issue 11): what a superuser can do to
// PostgreSQL (truncate the tail, rewrite and re-chain history) they cannot do to
// a file of Ed25519-signed heads they have no key for.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <pqxx/pqxx>

#include "eventstore/checkpoint.hpp"
#include "eventstore/event_store.hpp"
#include "servers.hpp"

namespace {

using eventstore::Checkpoint;
using eventstore::CheckpointSigner;
using eventstore::CheckpointVerifier;

/// A temp dir with a key pair, removed at the end.
struct Keys {
  std::string dir = testsupport::make_temp_dir("trader-keys-");
  testsupport::KeyPair pair = testsupport::make_checkpoint_keys(dir);
  ~Keys() { std::filesystem::remove_all(dir); }
};

const eventstore::StoreHead kHead{.position = 812, .hash = std::string(64, 'a'), .events = 800};

std::string read(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), {}};
}

}  // namespace

TEST_CASE("a checkpoint signed with the private key verifies with the public key, and nothing else does",
          "[eventstore][checkpoint]") {
  Keys keys;
  const CheckpointSigner signer(keys.pair.private_key);
  const CheckpointVerifier verifier(keys.pair.public_key);
  CHECK(signer.key_id() == verifier.key_id());
  CHECK(signer.key_id().size() == 16);
  CHECK(CheckpointVerifier(keys.pair.private_key).key_id() == signer.key_id());  // a private key holds the public one

  const Checkpoint cp = signer.sign(kHead, 1'790'000'000'000'000'000);
  CHECK(cp.position == 812);
  CHECK(cp.events == 800);
  CHECK(cp.sig.size() == 128);
  CHECK(verifier.verify(cp));

  // The JSON line parses back to the same checkpoint.
  const auto line = eventstore::to_json_line(cp);
  CHECK(line.find('\n') == std::string::npos);
  const auto parsed = eventstore::parse_checkpoint_line(line, 1);
  REQUIRE(parsed.checkpoint);
  CHECK(*parsed.checkpoint == cp);

  // Any change to a signed field breaks the signature.
  for (const auto& change : std::vector<std::function<void(Checkpoint&)>>{
           [](Checkpoint& c) { c.position += 1; }, [](Checkpoint& c) { c.hash[10] = 'b'; },
           [](Checkpoint& c) { c.events -= 1; }, [](Checkpoint& c) { c.ts_wall += 1; },
           [](Checkpoint& c) { c.sig[0] = c.sig[0] == '0' ? '1' : '0'; }}) {
    Checkpoint forged = cp;
    change(forged);
    CHECK_FALSE(verifier.verify(forged));
  }
  // Another key's checkpoint, even passed off under this key's id.
  Keys other;
  Checkpoint foreign = CheckpointSigner(other.pair.private_key).sign(kHead, cp.ts_wall);
  CHECK_FALSE(verifier.verify(foreign));
  foreign.key_id = verifier.key_id();
  CHECK_FALSE(verifier.verify(foreign));
}

TEST_CASE("checkpoint lines that are not well-formed are named, not trusted", "[eventstore][checkpoint]") {
  for (const char* text : {"", "not json", R"({"type":"other","v":1})", R"({"type":"checkpoint","v":2})",
                           R"({"type":"checkpoint","v":1,"position":"1","hash":"","events":1,"ts_wall":1,"key_id":"","sig":""})",
                           R"({"type":"checkpoint","v":1,"position":-1,"hash":"aa","events":1,"ts_wall":1,"key_id":"aa","sig":"aa"})",
                           R"({"type":"checkpoint","v":1,"position":1,"hash":"AA","events":1,"ts_wall":1,"key_id":"aa","sig":"aa"})"}) {
    INFO(text);
    const auto l = eventstore::parse_checkpoint_line(text, 7);
    CHECK_FALSE(l.checkpoint.has_value());
    CHECK_FALSE(l.error.empty());
    CHECK(l.line == 7);
  }
}

TEST_CASE("the signer refuses a private key others can read, and keys that are not Ed25519",
          "[eventstore][checkpoint]") {
  Keys keys;
  REQUIRE(::chmod(keys.pair.private_key.c_str(), 0640) == 0);
  CHECK_THROWS_WITH(CheckpointSigner(keys.pair.private_key), Catch::Contains("chmod 600"));
  REQUIRE(::chmod(keys.pair.private_key.c_str(), 0600) == 0);
  CHECK_NOTHROW(CheckpointSigner(keys.pair.private_key));
  CHECK_THROWS_WITH(CheckpointSigner(keys.dir + "/missing.key"), Catch::Contains("cannot be read"));
  const auto rsa = keys.dir + "/rsa.key";
  testsupport::Process gen({"openssl", "genpkey", "-algorithm", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", rsa});
  REQUIRE(gen.wait() == 0);
  REQUIRE(::chmod(rsa.c_str(), 0600) == 0);
  CHECK_THROWS_WITH(CheckpointSigner(rsa), Catch::Contains("not an Ed25519 key"));
  CHECK_THROWS_WITH(CheckpointVerifier(rsa), Catch::Contains("not an Ed25519 key"));
}

TEST_CASE("append_checkpoint adds one durable line per checkpoint", "[eventstore][checkpoint]") {
  Keys keys;
  const CheckpointSigner signer(keys.pair.private_key);
  const auto path = keys.dir + "/checkpoints.jsonl";
  eventstore::append_checkpoint(path, signer.sign(kHead, 1));
  eventstore::append_checkpoint(path, signer.sign({.position = 900, .hash = std::string(64, 'c'), .events = 880}, 2));
  const auto lines = eventstore::read_checkpoints(path);
  REQUIRE(lines.size() == 2);
  CHECK(lines[1].line == 2);
  CHECK(lines[1].checkpoint->position == 900);
  CHECK(read(path).size() == eventstore::to_json_line(*lines[0].checkpoint).size() +
                                 eventstore::to_json_line(*lines[1].checkpoint).size() + 2);
  CHECK_THROWS_AS(eventstore::read_checkpoints(keys.dir + "/none.jsonl"), std::runtime_error);
  CHECK_THROWS_AS(eventstore::append_checkpoint(keys.dir + "/no/such/dir/x.jsonl", lines[0].checkpoint.value()),
                  std::runtime_error);
}

namespace {

std::vector<eventstore::NewEvent> events(int from, int n) {
  std::vector<eventstore::NewEvent> out;
  for (int i = from; i < from + n; ++i)
    out.push_back({.msg_id = fmt::format("EVENTS:{}", i),
                   .subject = "trading.orders",
                   .type = "order.submit",
                   .payload = fmt::format(R"({{"type": "order.submit", "i": {}}})", i)});
  return out;
}

/// As the superuser, with the append-only trigger off: what an attacker with the database's keys does.
void tamper(const std::string& url, const std::string& sql) {
  pqxx::connection c(url);
  pqxx::work w(c);
  w.exec("ALTER TABLE events DISABLE TRIGGER events_no_update_delete");
  w.exec(sql);
  w.exec("ALTER TABLE events ENABLE TRIGGER events_no_update_delete");
  w.commit();
}

/// Rewrites event `position`'s payload and recomputes every hash from it on: the chain stays consistent.
std::string rewrite_and_rechain(std::int64_t position) {
  return fmt::format(R"(
    UPDATE events SET payload = '{{"type": "order.submit", "i": "rewritten"}}' WHERE position = {0};
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
    END $$;)",
                     position);
}

}  // namespace

TEST_CASE("checkpoints catch a truncated tail and a re-chained history that the hash chain alone accepts",
          "[.integration][eventstore][checkpoint]") {
  Keys keys;
  testsupport::PgServer pg;
  eventstore::PgStore writer(pg.writer_url());
  eventstore::PgStore reader(pg.reader_url());
  const CheckpointSigner signer(keys.pair.private_key);
  const CheckpointVerifier verifier(keys.pair.public_key);
  const auto path = keys.dir + "/checkpoints.jsonl";
  const auto checkpoint = [&] { eventstore::append_checkpoint(path, signer.sign(writer.head(), 1)); };
  const auto check = [&] { return eventstore::check_checkpoints(reader, eventstore::read_checkpoints(path), verifier); };

  {  // an empty store with no checkpoint is fine; events without any checkpoint are not
    std::ofstream(path).flush();
    CHECK(check().ok);
  }
  REQUIRE(writer.append(events(1, 20)) == 20);
  CHECK_FALSE(check().ok);
  checkpoint();  // at 20
  REQUIRE(writer.append(events(21, 20)) == 20);
  checkpoint();  // at 40
  REQUIRE(writer.append(events(41, 5)) == 5);  // after the newest checkpoint: allowed
  const auto clean = check();
  INFO(fmt::format("{}", fmt::join(clean.problems, "\n")));
  CHECK(clean.ok);
  CHECK(clean.checkpoints == 2);
  CHECK(clean.newest->position == 40);
  CHECK(clean.head.position == 45);

  SECTION("the newest events deleted") {
    tamper(pg.superuser_url(), "DELETE FROM events WHERE position > 35");
    CHECK(reader.verify().ok);  // the chain alone sees nothing wrong
    const auto r = check();
    CHECK_FALSE(r.ok);
    CHECK_THAT(fmt::format("{}", fmt::join(r.problems, "\n")), Catch::Contains("TRUNCATED"));
  }
  SECTION("an old event rewritten and every later one re-chained") {
    tamper(pg.superuser_url(), rewrite_and_rechain(10));
    CHECK(reader.verify().ok);  // self-consistent again
    const auto r = check();
    CHECK_FALSE(r.ok);
    REQUIRE(r.problems.size() == 2);  // both checkpoints come after it
    CHECK_THAT(r.problems[0], Catch::StartsWith("REWRITTEN: line 1: the event at position 20"));
  }
  SECTION("a middle event deleted and the rest re-chained") {
    tamper(pg.superuser_url(), "DELETE FROM events WHERE position = 30; " + rewrite_and_rechain(31));
    CHECK(reader.verify().ok);  // positions may have gaps: the chain alone accepts it
    const auto r = check();
    CHECK_FALSE(r.ok);
    CHECK_THAT(r.problems.at(0), Catch::StartsWith("REWRITTEN: line 2: the event at position 40"));
  }
  SECTION("a checkpoint line edited") {
    auto text = read(path);
    const auto at = text.find("\"events\":40");
    REQUIRE(at != std::string::npos);
    text.replace(at, 11, "\"events\":41");
    std::ofstream(path, std::ios::trunc) << text;
    const auto r = check();
    CHECK_FALSE(r.ok);
    CHECK_THAT(r.problems.at(0), Catch::StartsWith("FORGED: line 2"));
  }
}
