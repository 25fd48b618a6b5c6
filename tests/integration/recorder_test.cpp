// The recorder loses nothing and stores nothing twice while PostgreSQL or the
// recorder itself goes away in the middle of a real-data session.
#include <catch2/catch.hpp>

#include <charconv>
#include <thread>

#include "stack.hpp"

namespace {

using namespace std::chrono_literals;

/// JetStream sequence number from a msg_id "EVENTS:<seq>".
std::int64_t seq_of(const std::string& msg_id) {
  std::int64_t n = -1;
  const auto colon = msg_id.find(':');
  std::from_chars(msg_id.data() + colon + 1, msg_id.data() + msg_id.size(), n);
  return n;
}

/// Every message on the bus is in the store exactly once, in bus order.
void check_store_matches_bus(itest::Stack& stack, const itest::Tap& tap) {
  eventstore::PgStore store(stack.database_url());
  const auto stored = itest::wait_recorded(stack, store);
  const auto events = itest::read_all(store);
  REQUIRE(static_cast<std::int64_t>(events.size()) == stored);
  CHECK(stored == static_cast<std::int64_t>(tap.size()));
  const auto by_subject = store.count_by_subject();
  CHECK(std::map<std::string, std::int64_t>(by_subject.begin(), by_subject.end()) == tap.count_by_subject());
  // Stream sequences 1..N, each once, in position order: nothing lost, nothing twice, no reordering.
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (seq_of(events[i].msg_id) != static_cast<std::int64_t>(i + 1)) {
      FAIL_CHECK("event at position " << events[i].position << " is " << events[i].msg_id << ", expected EVENTS:"
                                      << i + 1);
      break;
    }
  }
}

std::vector<std::string> paced_feed() {
  // 9,999 real BTCUSDT quotes over 3 min 46 s of market time, replayed in ~7.5 s.
  return {itest::bin("feed"), "--speed", "30", testsupport::shared_data_dir() + "/quotes_BTCUSDT_2020-02-22.csv"};
}

}  // namespace

TEST_CASE("the event store holds every message exactly once after PostgreSQL stops mid-session",
          "[integration][recorder]") {
  itest::nats_library();
  itest::Stack stack;
  itest::Tap tap(stack.nats_url());
  stack.start();
  testsupport::Process feed(paced_feed(), stack.env(), stack.dir() + "/feed.log");
  std::this_thread::sleep_for(2s);
  stack.pg().stop();
  std::this_thread::sleep_for(3s);  // the session goes on; the recorder retries, acks nothing
  stack.pg().start();
  REQUIRE(feed.wait() == 0);
  CHECK(stack.worker("recorder").log().find("event store unavailable") != std::string::npos);
  REQUIRE(stack.run({itest::bin("traderctl"), "wait-idle", "--quiet-ms", "1000", "--timeout-s", "120"}) == 0);
  check_store_matches_bus(stack, tap);
}

TEST_CASE("the event store holds every message exactly once after the recorder is killed mid-session, three times",
          "[integration][recorder]") {
  itest::nats_library();
  itest::Stack stack;
  itest::Tap tap(stack.nats_url());
  stack.start();
  testsupport::Process feed(paced_feed(), stack.env(), stack.dir() + "/feed.log");
  // SIGKILL three times while quotes flow: a batch may be fetched and not stored,
  // or stored and not acknowledged (regression: a restarted recorder's AckAll once
  // acknowledged a batch its killed predecessor had fetched, and it was lost).
  for (int kill = 0; kill < 3; ++kill) {
    std::this_thread::sleep_for(1500ms);
    stack.worker("recorder").kill_hard();
    std::this_thread::sleep_for(500ms);
    stack.restart("recorder");
  }
  REQUIRE(feed.wait() == 0);
  REQUIRE(stack.run({itest::bin("traderctl"), "wait-idle", "--quiet-ms", "1000", "--timeout-s", "120"}) == 0);
  check_store_matches_bus(stack, tap);
}
