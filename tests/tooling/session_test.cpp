// Session assignment (the recorder's rule, schema/003_sessions.sql) and the
// worker.started manifest's pure parts: redaction, SHA-256, canonical config.
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "workers/manifest.hpp"
#include "workers/recorder.hpp"

#include <fmt/format.h>

using services::SessionAssigner;

namespace {

using Opt = std::optional<std::string>;

eventstore::StoredEvent stored(std::string type, Opt session) {
  eventstore::StoredEvent e;
  e.type = std::move(type);
  e.session_id = std::move(session);
  return e;
}

}  // namespace

TEST_CASE("events between session.started and session.ended belong to that session", "[sessions]") {
  SessionAssigner a(std::nullopt);
  CHECK(a.assign("quote", std::nullopt) == std::nullopt);  // before any session
  CHECK(a.assign("session.started", Opt("s1")) == Opt("s1"));
  CHECK(a.assign("quote", std::nullopt) == Opt("s1"));
  CHECK(a.assign("worker.started", std::nullopt) == Opt("s1"));
  CHECK(a.assign("session.ended", Opt("s1")) == Opt("s1"));  // the end belongs to its session
  CHECK(a.open() == std::nullopt);
  CHECK(a.assign("execution_report", std::nullopt) == std::nullopt);  // after it
}

TEST_CASE("a new session.started switches sessions, an end naming another session closes nothing", "[sessions]") {
  SessionAssigner a(std::nullopt);
  a.assign("session.started", Opt("s1"));
  CHECK(a.assign("session.started", Opt("s2")) == Opt("s2"));  // s1's ops was killed: no end
  CHECK(a.assign("session.ended", Opt("s1")) == Opt("s1"));    // a late end of s1 is filed under s1
  CHECK(a.open() == Opt("s2"));
  CHECK(a.assign("quote", std::nullopt) == Opt("s2"));
  CHECK(a.assign("session.started", Opt("s2")) == Opt("s2"));  // a restarted ops continues s2
  CHECK(a.open() == Opt("s2"));
}

TEST_CASE("a lifecycle message without a decodable session id belongs to the open session", "[sessions]") {
  SessionAssigner a(std::nullopt);
  a.assign("session.started", Opt("s1"));
  CHECK(a.assign("session.ended", std::nullopt) == Opt("s1"));
  CHECK(a.open() == Opt("s1"));  // not closed by a message it could not read
}

TEST_CASE("the recorder resumes the session of the newest stored event", "[sessions]") {
  CHECK(SessionAssigner(stored("quote", Opt("s1"))).open() == Opt("s1"));
  CHECK(SessionAssigner(stored("session.ended", Opt("s1"))).open() == std::nullopt);
  CHECK(SessionAssigner(stored("quote", std::nullopt)).open() == std::nullopt);
  CHECK(SessionAssigner(std::nullopt).open() == std::nullopt);
}

TEST_CASE("passwords are redacted from settings before they are hashed or published", "[manifest]") {
  using services::redact_secrets;
  CHECK(redact_secrets("postgresql://trader:s3cret@db:5432/trader") == "postgresql://trader:***@db:5432/trader");
  CHECK(redact_secrets("nats://u:p@127.0.0.1:4222") == "nats://u:***@127.0.0.1:4222");
  CHECK(redact_secrets("postgresql://postgres@127.0.0.1:55432/trader") == "postgresql://postgres@127.0.0.1:55432/trader");
  CHECK(redact_secrets("host=db user=t password=abc dbname=x") == "host=db user=t password=*** dbname=x");
  CHECK(redact_secrets("password=abc") == "password=***");
  CHECK(redact_secrets("http://host/a:b@c") == "http://host/a:b@c");  // '@' after the path: not a userinfo
  CHECK(redact_secrets("1.5") == "1.5");
  // a cluster's server list: every URL's password
  CHECK(redact_secrets("nats://u:p1@10.0.0.1:4222,nats://u:p2@10.0.0.2:4222, nats://u:p3@h3") ==
        "nats://u:***@10.0.0.1:4222,nats://u:***@10.0.0.2:4222, nats://u:***@h3");
  CHECK(redact_secrets("nats://10.0.0.1:4222,nats://u:p2@10.0.0.2:4222") == "nats://10.0.0.1:4222,nats://u:***@10.0.0.2:4222");
}

TEST_CASE("SHA-256 matches the FIPS 180-2 test vectors", "[manifest]") {
  // FIPS 180-2, appendix B.1 and B.2.
  CHECK(services::sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(services::sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(services::sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  const std::string path = "/tmp/trader_sha256_test.txt";
  std::ofstream(path, std::ios::binary) << "abc";
  CHECK(services::sha256_file(path) == services::sha256_hex("abc"));
  std::remove(path.c_str());
  CHECK_THROWS_WITH(services::sha256_file("/nonexistent/file"), Catch::Contains("/nonexistent/file"));
}

TEST_CASE("the canonical config text lists settings then arguments, one per line", "[manifest]") {
  core::WorkerStarted m;
  m.config = {{"nats_url", "nats://x"}, {"speed", "30"}};
  m.args = {"quotes.csv"};
  CHECK(services::canonical_config(m) == "nats_url=nats://x\nspeed=30\narg=quotes.csv\n");
}

// ---- export / import ---------------------------------------------------------------

#include <unistd.h>

#include <zlib.h>

#include "tooling/sessions.hpp"

namespace {

std::string temp_path(std::string_view name) { return fmt::format("/tmp/trader_{}_{}", getpid(), name); }

eventstore::NewEvent ev(std::string msg_id, std::string type, std::string subject, Opt session, std::string payload,
                        Opt coid = std::nullopt, std::optional<std::int64_t> ts = std::nullopt) {
  return {.msg_id = std::move(msg_id), .subject = std::move(subject), .type = std::move(type),
          .client_order_id = std::move(coid), .ts_event = ts, .payload = std::move(payload),
          .session_id = std::move(session)};
}

/// A store with session s1 (awkward text included), an event outside it, and session s2.
void fill(eventstore::EventStore& store) {
  store.append({ev("EVENTS:1", "quote", "market.data.IBM", std::nullopt, R"({"type":"quote"})"),
                ev("EVENTS:2", "session.started", "session.lifecycle", Opt("s1"),
                   R"({"type":"session.started","v":1,"session_id":"s1","kind":"live","started_by":"ops","version":"t","ts_wall":1})"),
                ev("EVENTS:3", "order.submit", "trading.orders", Opt("s1"),
                   R"({"type":"order.submit","client_order_id":"a \"q\" é\n","n":[1,2.5,null]})", Opt("a \"q\" é\n"),
                   1'399'334'400'000'000'000),
                ev("EVENTS:4", "quote", "market.data.IBM", Opt("s2"), R"({"type":"quote","x":1})"),
                ev("EVENTS:5", "session.ended", "session.lifecycle", Opt("s1"),
                   R"({"type":"session.ended","v":1,"session_id":"s1","ts_wall":2})")});
}

/// The fields an export carries, in order (everything but position; msg_id without the import prefix).
std::vector<std::string> fields(eventstore::EventStore& store, const std::string& session) {
  std::vector<std::string> out;
  for (const auto& e : store.query({.session_id = session})) {
    const std::string id = e.msg_id.starts_with("import:") ? e.msg_id.substr(7) : e.msg_id;
    out.push_back(fmt::format("{}|{}|{}|{}|{}|{}|{}", id, e.session_id.value_or("-"), e.subject, e.type,
                              e.client_order_id.value_or("-"), e.ts_event ? std::to_string(*e.ts_event) : "-",
                              e.payload));
  }
  return out;
}

void write_gz(const std::string& path, const std::string& text) {
  gzFile f = gzopen(path.c_str(), "wb");
  gzwrite(f, text.data(), static_cast<unsigned>(text.size()));
  gzclose(f);
}

std::string read_gz_text(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  std::string text;
  char buf[4096];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0) text.append(buf, static_cast<std::size_t>(n));
  gzclose(f);
  return text;
}

}  // namespace

TEST_CASE("an exported and re-imported session is identical event by event", "[sessions][export]") {
  eventstore::MemoryStore a, b;
  fill(a);
  const auto path = temp_path("s1.jsonl.gz");
  CHECK(services::export_session(a, "s1", path) == 3);
  const auto sum = services::import_session(b, path);
  CHECK(sum.session_id == "s1");
  CHECK(sum.events == 3);
  CHECK(sum.stored == 3);
  CHECK(fields(b, "s1") == fields(a, "s1"));
  CHECK(b.count() == 3);  // nothing of s2 or outside the session
  CHECK(b.query({}).at(0).msg_id == "import:EVENTS:2");

  SECTION("importing the same file again stores nothing twice") {
    CHECK(services::import_session(b, path).stored == 0);
    CHECK(b.count() == 3);
  }
  SECTION("a re-export of the imported copy is the same file") {
    const auto again = temp_path("s1-again.jsonl.gz");
    CHECK(services::export_session(b, "s1", again) == 3);
    eventstore::MemoryStore c;
    services::import_session(c, again);
    CHECK(fields(c, "s1") == fields(a, "s1"));
    CHECK(c.query({}).at(0).msg_id == "import:EVENTS:2");  // the prefix is not stacked
    std::remove(again.c_str());
  }
  SECTION("a store that already holds the session from elsewhere refuses it") {
    CHECK_THROWS_WITH(services::import_session(a, path), Catch::Contains("already in this store"));
    CHECK(a.count() == 5);
  }
  std::remove(path.c_str());
}

TEST_CASE("import refuses truncated or malformed files before appending anything", "[sessions][export]") {
  eventstore::MemoryStore a;
  fill(a);
  const auto path = temp_path("s1.jsonl.gz");
  services::export_session(a, "s1", path);
  const auto text = read_gz_text(path);
  const auto bad_path = temp_path("bad.jsonl.gz");
  eventstore::MemoryStore b;

  SECTION("the end line is missing") {
    write_gz(bad_path, text.substr(0, text.rfind("{\"type\":\"session.export.end\"")));
    CHECK_THROWS_WITH(services::import_session(b, bad_path), Catch::Contains("truncated"));
  }
  SECTION("an event line is missing") {
    const auto cut = text.find('\n', text.find('\n') + 1);  // drop the first event line
    write_gz(bad_path, text.substr(0, text.find('\n') + 1) + text.substr(cut + 1));
    CHECK_THROWS_WITH(services::import_session(b, bad_path), Catch::Contains("says 3 events, the file holds 2"));
  }
  SECTION("a field has the wrong type") {
    auto broken = text;
    broken.replace(broken.find("\"ts_event\":1399334400000000000"), 30, "\"ts_event\":\"x\"");
    write_gz(bad_path, broken);
    CHECK_THROWS_WITH(services::import_session(b, bad_path), Catch::Contains(":3: ts_event: not an integer"));
  }
  SECTION("not an export") {
    write_gz(bad_path, "{\"type\":\"quote\"}\n");
    CHECK_THROWS_WITH(services::import_session(b, bad_path), Catch::Contains("not a session export"));
  }
  CHECK(b.count() == 0);
  CHECK_THROWS_WITH(services::export_session(a, "nope", bad_path), Catch::Contains("unknown session nope"));
  std::remove(path.c_str());
  std::remove(bad_path.c_str());
}

TEST_CASE("import refuses a file that repeats a msg_id, naming the line and the id (fuzz finding F2)",
          "[sessions][export]") {
  // An export never repeats a msg_id; the store would keep the first event and drop
  // the other without a word (exactly-once recording), so the file is refused.
  const auto event = [](std::string_view id, std::string_view coid, int ts) {
    return fmt::format(R"({{"msg_id":"{}","session_id":"s1","subject":"trading.orders","type":"order.cancel",)"
                       R"("client_order_id":"{}","ts_event":{},"payload":{{"type":"order.cancel","client_order_id":"{}"}}}})",
                       id, coid, ts, coid) + "\n";
  };
  const std::string head = "{\"type\":\"session.export\",\"v\":1,\"session_id\":\"s1\"}\n";
  const std::string end3 = "{\"type\":\"session.export.end\",\"events\":3}\n";
  const auto path = temp_path("repeat.jsonl.gz");
  eventstore::MemoryStore b;

  SECTION("the same msg_id on two lines") {
    write_gz(path, head + event("m1", "a", 1) + event("m2", "b", 2) + event("m1", "c", 3) + end3);
    CHECK_THROWS_WITH(services::import_session(b, path), Catch::Contains(path + ":4: msg_id: \"m1\" repeats line 2"));
    CHECK(b.count() == 0);  // nothing imported
  }
  SECTION("one msg_id written with and without the import prefix: both would be stored as import:m1") {
    write_gz(path, head + event("m1", "a", 1) + event("m2", "b", 2) + event("import:m1", "c", 3) + end3);
    CHECK_THROWS_WITH(services::import_session(b, path),
                      Catch::Contains(":4: msg_id: \"import:m1\" repeats line 2 (\"m1\", both imported as \"import:m1\")"));
    CHECK(b.count() == 0);
  }
  SECTION("distinct msg_ids are imported") {
    write_gz(path, head + event("m1", "a", 1) + event("m2", "b", 2) + event("m3", "c", 3) + end3);
    const auto sum = services::import_session(b, path);
    CHECK(sum.events == 3);
    CHECK(sum.stored == 3);
    CHECK(b.count() == 3);
  }
  std::remove(path.c_str());
}

TEST_CASE("describe_session gathers the manifest, counts and the newest report", "[sessions]") {
  eventstore::MemoryStore store;
  fill(store);
  store.append({ev("EVENTS:6", "worker.started", "session.workers.execution", Opt("s2"),
                   R"({"type":"worker.started","v":1,"worker":"execution","instance":"h:1","version":"t","ts_wall":3,)"
                   R"("config":{"random_seed":"42"},"config_hash":")" + std::string(64, 'a') + R"("})")});
  const auto s1 = services::describe_session(store, "s1");
  REQUIRE(s1.started);
  CHECK(s1.started->kind == "live");
  REQUIRE(s1.ended);
  CHECK(s1.summary.events == 3);
  CHECK(s1.counts_by_type == std::vector<std::pair<std::string, std::int64_t>>{
                                 {"order.submit", 1}, {"session.ended", 1}, {"session.started", 1}});
  const auto s2 = services::describe_session(store, "s2");
  CHECK_FALSE(s2.started);
  REQUIRE(s2.workers.size() == 1);
  CHECK(s2.workers[0].config == std::vector<std::pair<std::string, std::string>>{{"random_seed", "42"}});
  CHECK_FALSE(s2.report);
  CHECK_THROWS_WITH(services::describe_session(store, "s3"), Catch::Contains("unknown session s3"));
}
