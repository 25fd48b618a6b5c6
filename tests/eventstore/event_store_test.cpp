// Behaviour of the event store. Each behaviour is one templated body run
// against MemoryStore (unit) and PgStore on a real PostgreSQL (integration).
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <fmt/format.h>
#include <pqxx/pqxx>

#include "eventstore/event_store.hpp"
#include "eventstore/migrations.hpp"
#include "eventstore/storable.hpp"
#include "servers.hpp"

using eventstore::EventStore;
using eventstore::MemoryStore;
using eventstore::NewEvent;
using eventstore::PgStore;
using eventstore::StoredEvent;
using eventstore::StoreUnavailable;

namespace Catch {
template <>
struct StringMaker<StoredEvent> {
  static std::string convert(const StoredEvent& e) {
    return fmt::format("{} coid={} ts={} payload={}", e, e.client_order_id.value_or("-"),
                       e.ts_event ? std::to_string(*e.ts_event) : "-", e.payload);
  }
};
}  // namespace Catch

namespace {

// ---- fixtures -------------------------------------------------------------------

using testsupport::PgRole;
using testsupport::PgSchema;

/// One PostgreSQL per test process; every test gets its own database.
testsupport::PgServer& shared_pg() {
  static testsupport::PgServer pg;
  return pg;
}

/// A new database on shared_pg(), owned by trader_owner, migrated unless `schema`
/// says otherwise; returns its name.
std::string fresh_database(PgSchema schema = PgSchema::migrated) {
  static std::atomic<int> n{0};
  const auto name = fmt::format("es_test_{}", ++n);
  shared_pg().create_database(name, schema);
  return name;
}

std::string url(const std::string& db, PgRole role) { return shared_pg().url_for(db, role); }

/// The store as a deployment uses it: it appends as the writer (trader_recorder,
/// INSERT only) and reads as the reader (trader_readonly, SELECT only).
/// last_msg_id() and last_event() are asked of both, the writer answering
/// through schema/006's SECURITY DEFINER functions: they must agree.
class PgPair final : public EventStore {
 public:
  PgPair(const testsupport::PgServer& pg, const std::string& db)
      : writer_(pg.url_for(db, PgRole::writer)), reader_(pg.url_for(db, PgRole::reader)) {}
  explicit PgPair(const std::string& db) : PgPair(shared_pg(), db) {}
  PgStore& writer() { return writer_; }
  PgStore& reader() { return reader_; }

  std::size_t append(const std::vector<NewEvent>& batch) override { return writer_.append(batch); }
  eventstore::AppendReport append_or_quarantine(const std::vector<NewEvent>& batch) override {
    return writer_.append_or_quarantine(batch);
  }
  std::vector<StoredEvent> read(std::int64_t after, std::size_t limit) override { return reader_.read(after, limit); }
  std::vector<StoredEvent> query(const eventstore::EventQuery& q) override { return reader_.query(q); }
  std::unique_ptr<eventstore::EventReader> open_reader(const eventstore::EventQuery& q) override {
    return reader_.open_reader(q);
  }
  std::vector<std::pair<std::string, std::int64_t>> count_by_type() override { return reader_.count_by_type(); }
  std::vector<std::pair<std::string, std::int64_t>> count_by_type(const std::string& id) override {
    return reader_.count_by_type(id);
  }
  std::vector<eventstore::SessionSummary> sessions() override { return reader_.sessions(); }
  std::optional<StoredEvent> last_event(std::string_view prefix) override {
    auto w = writer_.last_event(prefix);
    auto r = reader_.last_event(prefix);
    if (w != r) throw std::logic_error(fmt::format("last_event({:?}): the writer and the reader disagree", prefix));
    return r;
  }
  std::vector<std::pair<std::string, std::int64_t>> count_by_subject() override { return reader_.count_by_subject(); }
  std::int64_t count() override { return reader_.count(); }
  std::optional<std::string> last_msg_id(std::string_view prefix) override {
    auto w = writer_.last_msg_id(prefix);
    auto r = reader_.last_msg_id(prefix);
    if (w != r) throw std::logic_error(fmt::format("last_msg_id({:?}): the writer and the reader disagree", prefix));
    return r;
  }
  std::optional<std::int64_t> position_of(std::string_view msg_id) override { return reader_.position_of(msg_id); }

 private:
  PgStore writer_, reader_;
};

/// Payloads are written the way jsonb prints them (keys by length, ", " and
/// ": "), so PgStore returns them byte for byte and both backends compare equal.
NewEvent event(std::string msg_id, std::string type = "order.submit", std::string subject = "trading.orders") {
  NewEvent e;
  e.payload = fmt::format(R"({{"v": 1, "id": "{}", "type": "{}"}})", msg_id, type);
  e.msg_id = std::move(msg_id);
  e.subject = std::move(subject);
  e.type = std::move(type);
  e.client_order_id = "c-" + e.msg_id;
  e.ts_event = 1'399'334'400'158'000'000;
  return e;
}

StoredEvent stored(std::int64_t position, const NewEvent& e) {
  return StoredEvent{.position = position,
                     .msg_id = e.msg_id,
                     .subject = e.subject,
                     .type = e.type,
                     .client_order_id = e.client_order_id,
                     .ts_event = e.ts_event,
                     .payload = e.payload};
}

std::vector<std::string> msg_ids(const std::vector<StoredEvent>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e.msg_id);
  return out;
}

void require_consecutive(const std::vector<StoredEvent>& events) {
  for (std::size_t i = 1; i < events.size(); ++i) {
    REQUIRE(events[i].position == events[i - 1].position + 1);
  }
}

using Counts = std::vector<std::pair<std::string, std::int64_t>>;

// ---- shared behaviour -------------------------------------------------------------

template <class Store>
void appends_and_reads_in_order(Store& store) {
  const std::vector<NewEvent> first{event("EVENTS:1"), event("EVENTS:2", "execution_report", "trading.executions"),
                                    event("EVENTS:3"), event("EVENTS:4"), event("EVENTS:5")};
  CHECK(store.append(first) == 5);
  const auto got = store.read(0, 100);
  REQUIRE(got.size() == 5);
  CHECK(got[0].position >= 1);
  require_consecutive(got);
  for (std::size_t i = 0; i < first.size(); ++i) {
    CHECK(got[i] == stored(got[0].position + static_cast<std::int64_t>(i), first[i]));
  }

  const std::vector<NewEvent> second{event("EVENTS:6"), event("EVENTS:7"), event("EVENTS:8")};
  CHECK(store.append(second) == 3);
  const auto all = store.read(0, 100);
  REQUIRE(all.size() == 8);
  require_consecutive(all);
  CHECK(msg_ids(all) == std::vector<std::string>{"EVENTS:1", "EVENTS:2", "EVENTS:3", "EVENTS:4", "EVENTS:5",
                                                 "EVENTS:6", "EVENTS:7", "EVENTS:8"});
  CHECK(store.count() == 8);
}

template <class Store>
void skips_duplicates_within_a_batch(Store& store) {
  auto a_again = event("A");
  a_again.payload = R"({"v": 2, "id": "A", "type": "order.submit"})";
  CHECK(store.append({event("A"), event("B"), a_again, event("C"), event("B")}) == 3);
  const auto got = store.read(0, 100);
  CHECK(msg_ids(got) == std::vector<std::string>{"A", "B", "C"});
  require_consecutive(got);
  CHECK(got.at(0).payload == event("A").payload);  // the first occurrence wins
}

template <class Store>
void skips_duplicates_across_batches(Store& store) {
  CHECK(store.append({event("A"), event("B")}) == 2);
  CHECK(store.append({event("B"), event("C"), event("A")}) == 1);  // redelivery of A and B
  CHECK(store.append({event("A"), event("B"), event("C")}) == 0);
  CHECK(store.append({event("D")}) == 1);
  const auto got = store.read(0, 100);
  CHECK(msg_ids(got) == std::vector<std::string>{"A", "B", "C", "D"});
  require_consecutive(got);  // skipped duplicates consume no positions
  CHECK(store.count() == 4);
}

template <class Store>
void pages_with_after_position_and_limit(Store& store) {
  std::vector<NewEvent> batch;
  for (int i = 0; i < 25; ++i) batch.push_back(event(fmt::format("M{:02}", i)));
  REQUIRE(store.append(batch) == 25);
  std::vector<StoredEvent> all;
  std::int64_t after = 0;
  for (int guard = 0; guard < 100; ++guard) {
    const auto page = store.read(after, 10);
    if (page.empty()) break;
    CHECK(page.size() <= 10);
    CHECK(page.front().position > after);
    after = page.back().position;
    all.insert(all.end(), page.begin(), page.end());
  }
  REQUIRE(all.size() == 25);
  require_consecutive(all);
  CHECK(all[7].msg_id == "M07");
  CHECK(store.read(all.back().position, 10).empty());
  CHECK(store.read(all[20].position, 0).empty());
  CHECK(msg_ids(store.read(all[20].position, 1000)) == std::vector<std::string>{"M21", "M22", "M23", "M24"});
  CHECK(store.read(-5, 1).at(0).msg_id == "M00");
}

template <class Store>
void counts_by_type_and_subject(Store& store) {
  CHECK(store.count() == 0);
  CHECK(store.count_by_type().empty());
  CHECK(store.count_by_subject().empty());
  store.append({event("1", "order.submit", "trading.orders"), event("2", "execution_report", "trading.executions"),
                event("3", "execution_report", "trading.executions"), event("4", "Zeta", "market.data.IBM"),
                event("5", "order.submit", "trading.orders.approved"), event("6", "zeta", "market.data.BTCUSDT")});
  CHECK(store.count() == 6);
  CHECK(store.count_by_type() ==
        Counts{{"Zeta", 1}, {"execution_report", 2}, {"order.submit", 2}, {"zeta", 1}});  // bytewise
  CHECK(store.count_by_subject() == Counts{{"market.data.BTCUSDT", 1},
                                           {"market.data.IBM", 1},
                                           {"trading.executions", 2},
                                           {"trading.orders", 1},
                                           {"trading.orders.approved", 1}});
}

template <class Store>
void stores_nothing_for_an_empty_batch(Store& store) {
  CHECK(store.append({}) == 0);
  CHECK(store.count() == 0);
  CHECK(store.read(0, 10).empty());
}

template <class Store>
void rejects_invalid_json_atomically(Store& store) {
  REQUIRE(store.append({event("before")}) == 1);
  auto bad = event("bad");
  bad.payload = R"({"v": 1, "type": )";
  try {
    store.append({event("good"), bad, event("after")});
    FAIL("append accepted invalid JSON");
  } catch (const StoreUnavailable& e) {
    FAIL("invalid JSON reported as StoreUnavailable: " << e.what());
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()).find("eventstore") != std::string::npos);
  }
  CHECK(store.count() == 1);
  CHECK(msg_ids(store.read(0, 10)) == std::vector<std::string>{"before"});
  CHECK(store.append({event("good")}) == 1);  // the store is still usable
}

template <class Store>
void round_trips_optional_fields_and_awkward_text(Store& store) {
  NewEvent bare{.msg_id = "bare", .subject = "ops.heartbeat.x", .type = "heartbeat", .payload = "{}"};
  NewEvent odd = event("it's \"odd\" \\ msg_id");
  odd.subject = "market.data.EUR/USD";
  odd.type = "quote'; DROP TABLE events; --";
  odd.client_order_id = "c'1\"\\\n2 é€😀";
  odd.ts_event = -1;
  odd.payload = R"({"s": "it's a \"quote\", a \\ backslash, a tab\t and é€😀", "v": 1, "n": [1, 2.5, -3e-7, null, true], "id": "x"})";
  NewEvent big = event("big");
  big.ts_event = std::numeric_limits<std::int64_t>::max();
  REQUIRE(store.append({bare, odd, big}) == 3);
  const auto got = store.read(0, 10);
  REQUIRE(got.size() == 3);
  CHECK(got[0].msg_id == "bare");
  CHECK_FALSE(got[0].client_order_id.has_value());
  CHECK_FALSE(got[0].ts_event.has_value());
  CHECK(got[0].payload == "{}");
  CHECK(got[1].msg_id == odd.msg_id);
  CHECK(got[1].subject == odd.subject);
  CHECK(got[1].type == odd.type);
  CHECK(got[1].client_order_id == odd.client_order_id);
  CHECK(got[1].ts_event == -1);
  CHECK(got[1].payload.find(R"(it's a \"quote\", a \\ backslash, a tab\t and é€😀)") != std::string::npos);
  CHECK(got[2].ts_event == std::numeric_limits<std::int64_t>::max());
}

template <class Store>
void finds_the_newest_msg_id_of_a_stream(Store& store) {
  CHECK_FALSE(store.last_msg_id("EVENTS:").has_value());
  CHECK(store.append({event("EVENTS:1"), event("EVENTS:2"), event("IMPORT:7"), event("EVENTS:10"), event("IMPORT:8")}) ==
        5);
  CHECK(store.last_msg_id("EVENTS:") == std::optional<std::string>("EVENTS:10"));  // newest by position
  CHECK(store.last_msg_id("IMPORT:") == std::optional<std::string>("IMPORT:8"));
  CHECK_FALSE(store.last_msg_id("OTHER:").has_value());
  // An exact msg_id's position: where a reader of one stream starts.
  const auto all = store.read(0, 10);
  REQUIRE(all.size() == 5);
  CHECK(store.position_of("IMPORT:7") == std::optional<std::int64_t>(all[2].position));
  CHECK(store.position_of("EVENTS:1") == std::optional<std::int64_t>(all[0].position));
  CHECK_FALSE(store.position_of("EVENTS:").has_value());  // exact, not a prefix
  CHECK_FALSE(store.position_of("EVENTS:3").has_value());
}

/// Two sessions, events outside any session, and every filter of query().
template <class Store>
void reads_by_session_subject_type_order_and_time(Store& store) {
  CHECK(store.sessions().empty());
  CHECK_FALSE(store.last_event("").has_value());
  const auto at = [](std::string id, std::string type, std::string subject, std::optional<std::string> session,
                     std::int64_t ts) {
    NewEvent e = event(std::move(id), std::move(type), std::move(subject));
    e.session_id = std::move(session);
    e.ts_event = ts;
    return e;
  };
  REQUIRE(store.append({at("1", "quote", "market.data.IBM", std::nullopt, 50),
                        at("2", "session.started", "session.lifecycle", "s-a", 100),
                        at("3", "quote", "market.data.IBM", "s-a", 110),
                        at("4", "execution_report", "trading.executions", "s-a", 120),
                        at("5", "session.started", "session.lifecycle", "s-b", 10),
                        at("6", "execution_report", "trading.executions", "s-b", 20),
                        at("7", "execution_report", "trading.executions", "s-a", 130)}) == 7);
  const auto all = store.read(0, 100);
  REQUIRE(all.size() == 7);
  CHECK(all[0].session_id == std::nullopt);
  CHECK(all[2].session_id == std::optional<std::string>("s-a"));
  const auto p = [&](std::size_t i) { return all[i].position; };

  CHECK(store.sessions() ==
        std::vector<eventstore::SessionSummary>{{"s-a", p(1), p(6), 4, 100, 130}, {"s-b", p(4), p(5), 2, 10, 20}});
  CHECK(store.count_by_type("s-a") == Counts{{"execution_report", 2}, {"quote", 1}, {"session.started", 1}});
  CHECK(store.count_by_type("none").empty());
  CHECK(store.last_event("") == std::optional<StoredEvent>(all[6]));
  CHECK(store.last_event("4") == std::optional<StoredEvent>(all[3]));
  CHECK_FALSE(store.last_event("EVENTS:").has_value());

  eventstore::EventQuery q;
  q.session_id = "s-a";
  CHECK(msg_ids(store.query(q)) == std::vector<std::string>{"2", "3", "4", "7"});
  q.type = "execution_report";
  CHECK(msg_ids(store.query(q)) == std::vector<std::string>{"4", "7"});
  q.after_position = p(3);  // paging on
  CHECK(msg_ids(store.query(q)) == std::vector<std::string>{"7"});
  eventstore::EventQuery by_subject{.subject = "market.data.IBM"};
  CHECK(msg_ids(store.query(by_subject)) == std::vector<std::string>{"1", "3"});
  eventstore::EventQuery by_order{.client_order_id = "c-6"};
  CHECK(store.query(by_order) == std::vector<StoredEvent>{all[5]});
  eventstore::EventQuery by_time{.ts_from = 20, .ts_to = 110};  // [20, 110)
  CHECK(msg_ids(store.query(by_time)) == std::vector<std::string>{"1", "2", "6"});
  eventstore::EventQuery limited{.limit = 2};
  CHECK(msg_ids(store.query(limited)) == std::vector<std::string>{"1", "2"});
}

/// sessions() and the newest event of a stream stay right across appends (PgStore
/// reads summaries that each append updates, schema/005): sessions spread over
/// batches, repeats, a rejected batch, events without ts_event, msg_ids without a
/// ':', and prefixes that are "<stream>:" and that are not.
template <class Store>
void keeps_sessions_and_stream_ends_across_appends(Store& store) {
  const auto at = [](std::string id, std::optional<std::string> session, std::optional<std::int64_t> ts) {
    NewEvent e = event(std::move(id));
    e.session_id = std::move(session);
    e.ts_event = ts;
    return e;
  };
  REQUIRE(store.append({at("EVENTS:1", "s-a", std::nullopt), at("SBX1:1", "s-b", 500), at("EVENTS:2", "s-a", 300)}) ==
          3);
  REQUIRE(store.append({at("SBX1:2", "s-b", 400), at("X:1", std::nullopt, 7), at("import:EVENTS:9", "s-c", std::nullopt),
                        at("X", std::nullopt, 8)}) == 4);
  REQUIRE(store.append({at("EVENTS:3", "s-a", 200), at("EVENTS:2", "s-a", 1)}) == 1);  // the repeat adds nothing
  auto bad = at("EVENTS:4", "s-a", 100);
  bad.payload = "{";
  CHECK_THROWS_AS(store.append({at("SBX1:3", "s-b", 1), bad}), std::runtime_error);  // nothing of it is stored
  const auto all = store.read(0, 100);
  REQUIRE(all.size() == 8);
  const auto p = [&](std::size_t i) { return all[i].position; };

  CHECK(store.sessions() == std::vector<eventstore::SessionSummary>{{"s-a", p(0), p(7), 3, 200, 300},
                                                                    {"s-b", p(1), p(3), 2, 400, 500},
                                                                    {"s-c", p(5), p(5), 1, std::nullopt, std::nullopt}});
  using Id = std::optional<std::string>;
  CHECK(store.last_msg_id("EVENTS:") == Id("EVENTS:3"));
  CHECK(store.last_event("EVENTS:") == std::optional<StoredEvent>(all[7]));
  CHECK(store.last_msg_id("SBX1:") == Id("SBX1:2"));
  CHECK(store.last_event("SBX1:") == std::optional<StoredEvent>(all[3]));
  CHECK(store.last_msg_id("X:") == Id("X:1"));  // not "X", which is newer but has no ':'
  CHECK(store.last_msg_id("X") == Id("X"));
  CHECK(store.last_msg_id("import:") == Id("import:EVENTS:9"));
  CHECK(store.last_msg_id("import:EVENTS:") == Id("import:EVENTS:9"));
  CHECK(store.last_msg_id("EVENTS:2") == Id("EVENTS:2"));
  CHECK(store.last_msg_id("EVENTS") == Id("EVENTS:3"));
  CHECK(store.last_msg_id("SBX") == Id("SBX1:2"));
  CHECK(store.last_msg_id("") == Id("EVENTS:3"));
  CHECK_FALSE(store.last_msg_id("SBX2:").has_value());
  CHECK_FALSE(store.last_event("SBX2:").has_value());
  CHECK_FALSE(store.last_msg_id(":").has_value());

  REQUIRE(store.append({at("SBX2:1", "s-d", 50), at("SBX1:3", "s-b", 600)}) == 2);
  const auto last = store.read(0, 100);
  REQUIRE(last.size() == 10);
  CHECK(store.sessions().back() == eventstore::SessionSummary{"s-d", last[8].position, last[8].position, 1, 50, 50});
  CHECK(store.sessions()[1] == eventstore::SessionSummary{"s-b", p(1), last[9].position, 3, 400, 600});
  CHECK(store.last_msg_id("SBX2:") == Id("SBX2:1"));
  CHECK(store.last_msg_id("SBX1:") == Id("SBX1:3"));
}

// Runs `body` on a fresh MemoryStore (unit) and a fresh PgStore (integration).
#define STORE_BEHAVIOUR(sentence, body)                                              \
  TEST_CASE("MemoryStore " sentence, "[eventstore][memory]") {                       \
    MemoryStore store;                                                               \
    body(store);                                                                     \
  }                                                                                  \
  TEST_CASE("PgStore " sentence, "[.integration][eventstore][postgres]") {           \
    PgPair store(fresh_database());                                                  \
    body(store);                                                                     \
  }

}  // namespace

STORE_BEHAVIOUR("appends batches and reads them back in order with consecutive positions", appends_and_reads_in_order)
STORE_BEHAVIOUR("stores a msg_id repeated within a batch once, keeping the first", skips_duplicates_within_a_batch)
STORE_BEHAVIOUR("skips redelivered msg_ids across batches without using positions", skips_duplicates_across_batches)
STORE_BEHAVIOUR("reads pages after a position up to a limit", pages_with_after_position_and_limit)
STORE_BEHAVIOUR("counts events by type and by subject, sorted bytewise", counts_by_type_and_subject)
STORE_BEHAVIOUR("stores nothing for an empty batch", stores_nothing_for_an_empty_batch)
STORE_BEHAVIOUR("rejects a batch with an invalid JSON payload as a whole", rejects_invalid_json_atomically)
STORE_BEHAVIOUR("finds the newest msg_id with a prefix, the recorder's checkpoint", finds_the_newest_msg_id_of_a_stream)
STORE_BEHAVIOUR("reads by session, subject, type, client_order_id and time range, and lists sessions",
                reads_by_session_subject_type_order_and_time)
STORE_BEHAVIOUR("round-trips absent optional fields, extreme timestamps and awkward text",
                round_trips_optional_fields_and_awkward_text)
STORE_BEHAVIOUR("keeps the sessions and each stream's newest event right across appends",
                keeps_sessions_and_stream_ends_across_appends)

// ---- MemoryStore only ------------------------------------------------------------------

TEST_CASE("MemoryStore throws StoreUnavailable while marked unavailable", "[eventstore][memory]") {
  MemoryStore store;
  REQUIRE(store.append({event("A")}) == 1);
  store.set_unavailable(true);
  CHECK_THROWS_AS(store.append({event("B")}), StoreUnavailable);
  CHECK_THROWS_AS(store.read(0, 10), StoreUnavailable);
  CHECK_THROWS_AS(store.count(), StoreUnavailable);
  CHECK_THROWS_AS(store.count_by_type(), StoreUnavailable);
  CHECK_THROWS_AS(store.count_by_subject(), StoreUnavailable);
  store.set_unavailable(false);
  CHECK(store.append({event("A"), event("B")}) == 1);
  CHECK(store.count() == 2);
}

TEST_CASE("MemoryStore appends from several threads without losing or repeating events", "[eventstore][memory]") {
  MemoryStore store;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&store, t] {
      for (int i = 0; i < 250; ++i) store.append({event(fmt::format("{}", (t * 250 + i) % 600))});
    });
  }
  for (auto& th : threads) th.join();
  const auto all = store.read(0, 10'000);
  CHECK(all.size() == 600);
  require_consecutive(all);
}

// ---- PgStore only ----------------------------------------------------------------------

TEST_CASE("PgStore throws StoreUnavailable when no server listens", "[eventstore][postgres]") {
  const int port = testsupport::free_tcp_port();
  CHECK_THROWS_AS(PgStore(fmt::format("postgresql://postgres@127.0.0.1:{}/trader", port)), StoreUnavailable);
}

TEST_CASE("migrate applies the embedded migrations once per database, as the owner",
          "[.integration][eventstore][postgres]") {
  const auto migrations = eventstore::embedded_migrations();
  REQUIRE_FALSE(migrations.empty());
  CHECK(migrations.front().name == "001_events");
  for (std::size_t i = 1; i < migrations.size(); ++i) CHECK(migrations[i - 1].version < migrations[i].version);

  const auto db = fresh_database(PgSchema::empty);
  CHECK(eventstore::migrate(url(db, PgRole::owner)) == migrations.size());

  pqxx::connection c(url(db, PgRole::owner));
  const auto applied_at = [&] {
    pqxx::work w(c);
    return w.exec("SELECT string_agg(version || ':' || name || '@' || applied_at, ',' ORDER BY version) "
                  "FROM schema_migrations")[0][0]
        .as<std::string>();
  };
  const auto before = applied_at();
  CHECK(before.starts_with("1:001_events@"));

  CHECK(eventstore::migrate(url(db, PgRole::owner)) == 0);
  CHECK(eventstore::apply_migrations(c) == 0);
  CHECK(applied_at() == before);
  PgStore writer(url(db, PgRole::writer));  // current: no complaint

  // The table is what the migrations say: 001_events (6 indexes, 2 guard
  // triggers, the writer role), 002_hash_chain (the chain trigger), 003_sessions
  // (3 indexes by session), 005 (the summaries' trigger and tables), 006
  // (the total and the quarantine, everything owned by trader_owner) and 007
  // (5 indexes left: msg_id unique by (length, msg_id), type for all but market data).
  pqxx::work w(c);
  CHECK(w.exec("SELECT string_agg(indexname, ' ' ORDER BY indexname) FROM pg_indexes WHERE tablename = 'events'")[0][0]
            .as<std::string>() ==
        "events_client_order_id_idx events_msg_id_key events_pkey events_session_position_idx events_type_position_idx");
  CHECK(w.exec("SELECT indisunique FROM pg_index WHERE indexrelid = 'events_msg_id_key'::regclass")[0][0].as<bool>());
  CHECK(w.exec("SELECT count(*) FROM pg_trigger WHERE tgrelid = 'events'::regclass AND NOT tgisinternal")[0][0]
            .as<int>() == 4);
  CHECK(w.exec("SELECT count(*) FROM pg_tables WHERE tablename IN ('event_sessions', 'event_streams', "
               "'event_totals', 'events_quarantine') AND tableowner = 'trader_owner'")[0][0]
            .as<int>() == 4);
  CHECK(w.exec("SELECT count(*) FROM pg_roles WHERE rolname IN ('trader_writer', 'trader_reader') AND NOT rolcanlogin")
            [0][0].as<int>() == 2);
}

TEST_CASE("concurrent migrators of a fresh database apply the migrations exactly once",
          "[.integration][eventstore][postgres]") {
  const auto db = fresh_database(PgSchema::empty);
  std::atomic<std::size_t> applied{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      try {
        applied += eventstore::migrate(url(db, PgRole::owner));
      } catch (...) {
        ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(failures == 0);
  CHECK(applied == eventstore::embedded_migrations().size());
}

TEST_CASE("PgStore refuses a schema that is behind and says to run traderctl migrate",
          "[.integration][eventstore][postgres]") {
  const auto db = fresh_database(PgSchema::empty);
  const auto latest = eventstore::embedded_migrations().back().version;
  const auto refused = [&](int at) {
    try {
      PgStore store(url(db, PgRole::writer));
      FAIL("PgStore accepted a schema at migration " << at);
    } catch (const StoreUnavailable& e) {
      FAIL("reported as StoreUnavailable: " << e.what());
    } catch (const std::runtime_error& e) {
      CHECK_THAT(e.what(), Catch::Contains(fmt::format("event store schema is at migration {}, this binary needs {}: "
                                                       "run `traderctl migrate` with the owner's URL",
                                                       at, latest)));
    }
  };
  refused(0);  // not even schema_migrations
  {
    pqxx::connection c(url(db, PgRole::owner));
    pqxx::work w(c);
    w.exec("CREATE TABLE schema_migrations (version int PRIMARY KEY, name text NOT NULL, "
           "applied_at timestamptz NOT NULL DEFAULT now())");
    w.exec("GRANT SELECT ON schema_migrations TO trader_writer, trader_reader");
    for (const auto& m : eventstore::embedded_migrations()) {
      if (m.version > 3) break;
      w.exec(std::string(m.sql));
      w.exec_params("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.version, std::string(m.name));
    }
    w.commit();
  }
  refused(3);
  {  // nothing was created or altered by those attempts
    pqxx::connection c(url(db, PgRole::owner));
    pqxx::work w(c);
    CHECK(w.exec("SELECT max(version) FROM schema_migrations")[0][0].as<int>() == 3);
    CHECK(w.exec("SELECT to_regclass('event_streams') IS NULL")[0][0].as<bool>());
  }
  CHECK(eventstore::migrate(url(db, PgRole::owner)) == eventstore::embedded_migrations().size() - 3);
  PgStore store(url(db, PgRole::writer));
  CHECK(store.append({event("A")}) == 1);
}

TEST_CASE("UPDATE, DELETE and TRUNCATE on events fail as append-only even for a superuser",
          "[.integration][eventstore][postgres]") {
  const auto db = fresh_database();
  PgPair store(db);
  REQUIRE(store.append({event("A"), event("B")}) == 2);
  pqxx::connection c(url(db, PgRole::superuser));
  for (const char* sql : {"UPDATE events SET type = 'x'", "DELETE FROM events", "TRUNCATE events",
                          "UPDATE events SET payload = '{}' WHERE msg_id = 'A'"}) {
    INFO(sql);
    pqxx::work w(c);
    CHECK_THROWS_WITH(w.exec(sql), Catch::Contains("events is append-only"));
  }
  CHECK(store.count() == 2);
  pqxx::work w(c);
  CHECK(w.exec("SELECT jsonb_typeof(payload) || '/' || (payload->>'type') FROM events WHERE msg_id = 'A'")[0][0]
            .as<std::string>() == "object/order.submit");
}

TEST_CASE("PgStore throws StoreUnavailable during an outage and resumes after restart without duplicates",
          "[.integration][eventstore][postgres]") {
  testsupport::PgServer pg;  // its own server: this test stops it
  PgPair store(pg, "trader");
  REQUIRE(store.append({event("A"), event("B")}) == 2);

  pg.stop();
  CHECK_THROWS_AS(store.append({event("C")}), StoreUnavailable);
  CHECK_THROWS_AS(store.append_or_quarantine({event("C")}), StoreUnavailable);
  CHECK_THROWS_AS(store.read(0, 10), StoreUnavailable);
  CHECK_THROWS_AS(store.count(), StoreUnavailable);
  CHECK_THROWS_AS(PgStore(pg.writer_url()), StoreUnavailable);

  pg.start();
  CHECK(store.append({event("B"), event("C")}) == 1);  // the caller's retry: B is not stored twice
  CHECK(msg_ids(store.read(0, 10)) == std::vector<std::string>{"A", "B", "C"});

  // A connection that broke while idle is replaced without a spurious failure.
  pg.stop();
  pg.start();
  CHECK(store.append({event("C"), event("D")}) == 1);
  const auto all = store.read(0, 10);
  CHECK(msg_ids(all) == std::vector<std::string>{"A", "B", "C", "D"});
  CHECK(store.count() == 4);
}

TEST_CASE("PgStore reports SQL errors that are not outages as runtime_error", "[.integration][eventstore][postgres]") {
  PgStore store(url(fresh_database(), PgRole::writer));
  NewEvent nul = event("nul");
  nul.payload = R"({"s": "\u0000"})";  // jsonb rejects \u0000
  try {
    store.append({nul});
    FAIL("accepted \\u0000");
  } catch (const StoreUnavailable&) {
    FAIL("reported as StoreUnavailable");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()).find("eventstore: append") != std::string::npos);
  }
  CHECK(store.append({event("ok")}) == 1);
}

TEST_CASE("migrating a store recorded before the summaries fills them from its events",
          "[.integration][eventstore][postgres]") {
  const auto db = fresh_database(PgSchema::empty);
  {  // a database at schema version 4, with events in it, chained in SQL as 004 describes
    pqxx::connection c(url(db, PgRole::owner));
    pqxx::work w(c);
    w.exec("CREATE TABLE schema_migrations (version int PRIMARY KEY, name text NOT NULL, "
           "applied_at timestamptz NOT NULL DEFAULT now())");
    for (const auto& m : eventstore::embedded_migrations()) {
      if (m.version > 4) break;
      w.exec(std::string(m.sql));
      w.exec_params("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.version, std::string(m.name));
    }
    w.commit();
    const std::vector<std::tuple<std::string, std::optional<std::string>, std::optional<std::int64_t>>> rows{
        {"EVENTS:1", "s-a", 30}, {"EVENTS:2", std::nullopt, std::nullopt}, {"SBX9:1", "s-b", 10},
        {"EVENTS:3", "s-a", 20}};
    for (const auto& [id, session, ts] : rows) {
      pqxx::work a(c);
      a.exec("SELECT pg_advisory_xact_lock(8390879497295065200)");
      a.exec_params(
          "INSERT INTO events (position, msg_id, subject, type, ts_event, payload, session_id, prev_hash, hash) "
          "OVERRIDING SYSTEM VALUE SELECT p, $1::text, 'trading.orders', 'order.submit', ts, j, sid, h, "
          "sha256(h || events_hash_input(p, $1::text, 'trading.orders', 'order.submit', NULL, ts, j, sid)) "
          "FROM (SELECT nextval('events_position_seq') AS p, '{\"type\": \"order.submit\"}'::jsonb AS j, "
          "NULLIF($2, '')::bigint AS ts, NULLIF($3, '') AS sid, "
          "coalesce((SELECT hash FROM events ORDER BY position DESC LIMIT 1), '\\x'::bytea) AS h) x",
          id, ts ? std::to_string(*ts) : std::string(), session.value_or(""));
      a.commit();
    }
  }
  CHECK(eventstore::migrate(url(db, PgRole::owner)) == eventstore::embedded_migrations().size() - 4);  // 005 on
  PgPair store(db);
  const auto all = store.read(0, 10);
  REQUIRE(all.size() == 4);
  CHECK(store.sessions() == std::vector<eventstore::SessionSummary>{{"s-a", all[0].position, all[3].position, 2, 20, 30},
                                                                    {"s-b", all[2].position, all[2].position, 1, 10, 10}});
  CHECK(store.last_msg_id("EVENTS:") == std::optional<std::string>("EVENTS:3"));
  CHECK(store.last_msg_id("SBX9:") == std::optional<std::string>("SBX9:1"));
  REQUIRE(store.append({event("SBX9:2")}) == 1);  // and appends keep them up to date
  CHECK(store.last_msg_id("SBX9:") == std::optional<std::string>("SBX9:2"));
  CHECK(store.reader().verify().ok);
  CHECK(store.writer().head() == store.reader().head());
  CHECK(store.reader().head().events == 5);
}

namespace {

/// open_reader: every matching event once, in order, a page at a time; a snapshot
/// taken at open; several readers at once while the store keeps appending.
template <class Store>
void reads_a_whole_session_through_a_reader(Store& store) {
  std::vector<NewEvent> batch;
  for (int i = 1; i <= 30; ++i) {
    auto e = event(fmt::format("EVENTS:{}", i), i % 3 == 0 ? "quote" : "order.submit");
    e.session_id = i % 2 == 0 ? "a" : "b";
    batch.push_back(std::move(e));
  }
  store.append(batch);
  auto a = store.open_reader({.session_id = "a", .limit = 4});
  auto b = store.open_reader({.session_id = "b", .type = "quote", .limit = 0});
  auto late = event("EVENTS:31");
  late.session_id = "a";
  store.append({late});  // after opening: not in a's snapshot

  std::vector<std::int64_t> got_a;
  std::vector<std::size_t> pages;
  auto bpage = b->next();  // interleaved with a
  for (auto page = a->next(); !page.empty(); page = a->next()) {
    pages.push_back(page.size());
    for (const auto& e : page) {
      CHECK(e.session_id == std::optional<std::string>("a"));
      got_a.push_back(e.position);
    }
  }
  CHECK(pages == std::vector<std::size_t>{4, 4, 4, 3});
  std::vector<std::int64_t> want_a;
  for (std::int64_t p = 2; p <= 30; p += 2) want_a.push_back(p);
  CHECK(got_a == want_a);
  CHECK(a->next().empty());  // stays ended

  std::vector<std::int64_t> got_b;
  for (; !bpage.empty(); bpage = b->next())
    for (const auto& e : bpage) got_b.push_back(e.position);
  CHECK(got_b == std::vector<std::int64_t>{3, 9, 15, 21, 27});

  std::int64_t n = 0;
  eventstore::for_each(store, {.session_id = "a", .after_position = 20, .limit = 2},
                       [&](const StoredEvent& e) { n += e.position > 20 ? 1 : 100; });
  CHECK(n == 6);  // 22..30 and the late 31
}

}  // namespace

STORE_BEHAVIOUR("reads a whole session through a reader: in order, a page at a time, a snapshot",
                reads_a_whole_session_through_a_reader)

// ---- quarantine (issue 11: nothing on the bus can stop the recorder) ------------------

namespace {

/// Events PostgreSQL refuses, each for another reason, among events it takes.
struct HostileBatch {
  std::vector<NewEvent> events;
  std::vector<std::string> refused;  // msg_ids, in batch order
};

HostileBatch hostile_batch() {
  HostileBatch b;
  auto nul = event("EVENTS:2");
  nul.payload = R"({"type": "order.submit", "client_order_id": "a\u0000b"})";  // jsonb refuses \u0000
  auto long_id = event("EVENTS:4");
  long_id.client_order_id = std::string(20'000, 'k');  // longer than an index entry may be
  long_id.payload = R"({"type": "order.submit", "client_order_id": ")" + *long_id.client_order_id + R"("})";
  auto not_json = event("EVENTS:5");
  not_json.payload = R"({"type": "order.submit", )";
  auto huge = event("EVENTS:6");  // refused, and bigger than a placeholder keeps
  huge.payload = R"({"s": "\u0000", "pad": ")" + std::string(70'000, 'p') + R"("})";
  auto bad_subject = event("EVENTS:8", "quote", "market.data.\xff\xfe");  // not UTF-8
  bad_subject.session_id = "s-q";
  b.events = {event("EVENTS:1"), nul, event("EVENTS:3"), long_id, not_json, huge, event("EVENTS:7"), bad_subject,
              event("EVENTS:1")};
  b.refused = {"EVENTS:2", "EVENTS:4", "EVENTS:5", "EVENTS:6", "EVENTS:8"};
  return b;
}

template <class Store>
void quarantines_refused_events_and_stores_the_rest(Store& store) {
  const auto b = hostile_batch();
  CHECK_THROWS_AS(store.append(b.events), std::runtime_error);  // append itself still refuses the batch
  CHECK(store.count() == 0);

  const auto report = store.append_or_quarantine(b.events);
  CHECK(report.stored == 8);
  std::vector<std::string> refused;
  for (const auto& q : report.quarantined) {
    refused.push_back(q.msg_id);
    CHECK_FALSE(q.reason.empty());
  }
  CHECK(refused == b.refused);

  const auto all = store.read(0, 100);
  REQUIRE(all.size() == 8);
  require_consecutive(all);
  CHECK(msg_ids(all) == std::vector<std::string>{"EVENTS:1", "EVENTS:2", "EVENTS:3", "EVENTS:4", "EVENTS:5",
                                                 "EVENTS:6", "EVENTS:7", "EVENTS:8"});
  for (std::size_t i = 0; i < all.size(); ++i) {
    const auto& got = all[i];
    const auto& sent = b.events[i];
    INFO(got.msg_id);
    const bool was_refused = std::find(b.refused.begin(), b.refused.end(), got.msg_id) != b.refused.end();
    if (!was_refused) {
      CHECK(got.type == sent.type);
      CHECK(got.client_order_id == sent.client_order_id);
      continue;
    }
    CHECK(got.type == "quarantined");
    CHECK_FALSE(got.client_order_id.has_value());
    CHECK(got.ts_event == sent.ts_event);
    CHECK(got.session_id == sent.session_id);
    const auto raw = std::string_view(sent.payload).substr(0, eventstore::detail::kPlaceholderRawBytes);
    CHECK(got.payload.find(eventstore::detail::base64(raw)) != std::string::npos);
    CHECK(got.payload.find(sent.payload.size() > raw.size() ? "true" : "false") != std::string::npos);
    const bool ascii = std::all_of(got.payload.begin(), got.payload.end(),
                                   [](unsigned char c) { return c >= 0x20 && c < 0x7f; });
    CHECK(ascii);  // printable ASCII, whatever came in
  }
  CHECK(all[7].subject == "market.data.??");  // not storable as sent: printable ASCII of it
  CHECK(all[1].subject == "trading.orders");  // storable: as sent

  // Redelivered: stored once, quarantined once.
  const auto again = store.append_or_quarantine(b.events);
  CHECK(again.stored == 0);
  CHECK(again.quarantined.empty());
  CHECK(store.last_msg_id("EVENTS:") == std::optional<std::string>("EVENTS:8"));
  CHECK(store.last_event("EVENTS:")->type == "quarantined");
  CHECK(store.append_or_quarantine({event("EVENTS:9")}).stored == 1);
  CHECK(store.count() == 9);
}

}  // namespace

STORE_BEHAVIOUR("stores a placeholder for each event it refuses and every other event of the batch, in order",
                quarantines_refused_events_and_stores_the_rest)

TEST_CASE("MemoryStore keeps each refused event's raw payload and reason", "[eventstore][memory]") {
  MemoryStore store;
  const auto b = hostile_batch();
  store.append_or_quarantine(b.events);
  const auto q = store.quarantine();
  REQUIRE(q.size() == b.refused.size());
  CHECK(q[0] == eventstore::QuarantineRecord{.msg_id = "EVENTS:2",
                                             .subject = "trading.orders",
                                             .reason = "payload is not JSON that jsonb accepts",
                                             .raw = b.events[1].payload});
  CHECK_THAT(q[1].reason, Catch::Contains("client_order_id is 20000 bytes long"));
  CHECK(q[3].raw == b.events[5].payload);  // whole, though the placeholder keeps 64 KiB
  CHECK(q[4].subject == "market.data.??");
}

TEST_CASE("PgStore quarantines in events_quarantine with PostgreSQL's reason, inside the hash chain",
          "[.integration][eventstore][postgres]") {
  const auto db = fresh_database();
  PgPair store(db);
  const auto b = hostile_batch();
  const auto report = store.append_or_quarantine(b.events);
  REQUIRE(report.quarantined.size() == 5);
  CHECK_THAT(report.quarantined[0].reason, Catch::Contains("unsupported Unicode escape sequence"));
  CHECK_THAT(report.quarantined[2].reason, Catch::Contains("invalid input syntax for type json"));

  pqxx::connection c(url(db, PgRole::reader));
  pqxx::work w(c);
  const auto rows = w.exec("SELECT msg_id, subject, reason, encode(raw, 'hex'), recorded_at IS NOT NULL "
                           "FROM events_quarantine ORDER BY msg_id");
  REQUIRE(rows.size() == 5);
  const auto hex = [](std::string_view s) {
    std::string out;
    for (const unsigned char ch : s) out += fmt::format("{:02x}", ch);
    return out;
  };
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& sent = *std::find_if(b.events.begin(), b.events.end(),
                                     [&](const NewEvent& e) { return e.msg_id == rows[static_cast<int>(i)][0].c_str(); });
    INFO(sent.msg_id);
    CHECK(rows[static_cast<int>(i)][2].as<std::string>() == report.quarantined[i].reason);
    CHECK(rows[static_cast<int>(i)][3].as<std::string>() == hex(sent.payload));
    CHECK(rows[static_cast<int>(i)][4].as<bool>());
  }
  CHECK(rows[4][1].as<std::string>() == "market.data.??");
  CHECK(store.reader().verify().ok);  // the placeholders are chained like any event
  CHECK(store.reader().head().events == 8);
}
