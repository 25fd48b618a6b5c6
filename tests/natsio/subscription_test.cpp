// Destroying a natsio subscription while its handler runs on the delivery thread.
//
// nats.c 3.4.1's natsSubscription_Unsubscribe/Destroy do not wait for a callback that is
// already running on the delivery thread, so a worker that stopped could free what its
// handler still used (ThreadSanitizer: ops's Announcement decoder freed while a
// session.lifecycle callback read it). ~Subscription and ~OrderedSubscription now wait
// for nats.c's on-complete callback (natsio.cpp, await_handlers()). These tests hold a
// handler inside its callback and check the ORDER of events, not a duration: the
// destructor must not return before the handler did. The sleeps only give a destructor
// that does not wait the chance to return early (which is what failed before the fix).
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "natsio/natsio.hpp"
#include "servers.hpp"

namespace {

using namespace std::chrono_literals;

/// A one-shot latch with a timeout, so that a broken build fails instead of hanging.
class Gate {
 public:
  void open() {
    {
      std::lock_guard lock(mu_);
      open_ = true;
    }
    cv_.notify_all();
  }
  bool wait(std::chrono::milliseconds timeout = 20s) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [this] { return open_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

/// The delivery thread is free: a new subscription still gets its messages.
bool delivery_goes_on(natsio::Connection& conn) {
  Gate got;
  natsio::Subscription other(conn, "after.x", [&](const natsio::Message&) { got.open(); });
  conn.flush();
  return conn.publish("after.x", "1") && got.wait();
}

/// A handler held inside its callback: `entered` opens when it started, it then waits
/// for `release` and sets `finished` just before it returns.
struct HeldHandler {
  Gate entered, release;
  std::atomic<bool> finished{false};
  std::atomic<int> calls{0};
  void run() {
    if (calls.fetch_add(1) > 0) return;  // only the first message is held
    entered.open();
    release.wait();
    std::this_thread::sleep_for(20ms);  // still inside the callback a little after the release
    finished = true;
  }
};

/// Destroys `owner` on this thread while `h` is held in its callback, and releases the
/// handler from a third thread a moment later. True if the destructor returned only
/// after the handler had finished.
template <class Owner>
bool destroyed_after_handler(std::unique_ptr<Owner>& owner, HeldHandler& h) {
  REQUIRE(h.entered.wait());
  std::thread releaser([&] {
    std::this_thread::sleep_for(300ms);
    h.release.open();
  });
  owner.reset();  // must not return while the handler runs
  const bool finished_first = h.finished.load();
  releaser.join();
  return finished_first;
}

}  // namespace

TEST_CASE("natsio: ~Subscription returns only after a handler running on the delivery thread has returned",
          "[integration][natsio]") {
  testsupport::NatsServer server(/*jetstream=*/false, /*auth=*/false);
  natsio::Library lib;
  natsio::Connection conn({.url = server.url(), .name = "natsio-test"});
  for (int round = 0; round < 3; ++round) {
    // Shared with the handler: without the fix it is still running when this round ends.
    auto h = std::make_shared<HeldHandler>();
    auto sub = std::make_unique<natsio::Subscription>(conn, "held.x", [h](const natsio::Message&) { h->run(); });
    conn.flush();
    REQUIRE(conn.publish("held.x", "1"));
    REQUIRE(conn.publish("held.x", "2"));  // queued behind the held one: dropped, never delivered after
    conn.flush();
    CHECK(destroyed_after_handler(sub, *h));
    CHECK(h->calls.load() == 1);
  }
  // The delivery thread goes on serving other subscriptions.
  CHECK(delivery_goes_on(conn));
}

TEST_CASE("natsio: ~OrderedSubscription returns only after a handler running on the delivery thread has returned",
          "[integration][natsio]") {
  testsupport::NatsServer server(/*jetstream=*/true, /*auth=*/false);
  natsio::Library lib;
  natsio::Connection conn({.url = server.url(), .name = "natsio-test"});
  natsio::JetStream(conn).ensure_stream("HELD", {"held.>"}, {.interest = false});
  for (int i = 0; i < 5; ++i) REQUIRE(conn.publish("held.x", std::to_string(i)));
  conn.flush();
  for (int round = 0; round < 3; ++round) {
    auto h = std::make_shared<HeldHandler>();
    auto sub = std::make_unique<natsio::OrderedSubscription>(conn, "HELD", 1,
                                                             [h](const natsio::StreamMessage&) { h->run(); });
    CHECK(destroyed_after_handler(sub, *h));
  }
}

TEST_CASE("natsio: a handler that destroys its own subscription, or another one, on the delivery thread does not "
          "deadlock",
          "[integration][natsio]") {
  testsupport::NatsServer server(/*jetstream=*/true, /*auth=*/false);
  natsio::Library lib;
  natsio::Connection conn({.url = server.url(), .name = "natsio-test"});

  SECTION("a core subscription destroys itself") {
    std::unique_ptr<natsio::Subscription> self;
    Gate done;
    std::atomic<int> calls{0};
    self = std::make_unique<natsio::Subscription>(conn, "self.x", [&](const natsio::Message&) {
      ++calls;
      self.reset();  // from inside its own handler
      done.open();
    });
    conn.flush();
    for (int i = 0; i < 3; ++i) REQUIRE(conn.publish("self.x", "x"));
    conn.flush();
    REQUIRE(done.wait());
    // The delivery thread is free: another subscription still gets its messages.
    CHECK(delivery_goes_on(conn));
    CHECK(calls.load() == 1);
  }

  SECTION("a core subscription destroys another one whose handler is waiting in the queue") {
    std::unique_ptr<natsio::Subscription> victim;
    std::atomic<int> victim_calls{0};
    Gate done;
    victim = std::make_unique<natsio::Subscription>(conn, "victim.x", [&](const natsio::Message&) { ++victim_calls; });
    natsio::Subscription killer(conn, "killer.x", [&](const natsio::Message&) {
      victim.reset();
      done.open();
    });
    conn.flush();
    REQUIRE(conn.publish("killer.x", "x"));
    REQUIRE(done.wait());
    CHECK(delivery_goes_on(conn));
  }

  SECTION("an ordered consumer destroys itself") {
    natsio::JetStream(conn).ensure_stream("SELF", {"selfjs.>"}, {.interest = false});
    for (int i = 0; i < 5; ++i) REQUIRE(conn.publish("selfjs.x", std::to_string(i)));
    conn.flush();
    std::unique_ptr<natsio::OrderedSubscription> self;
    Gate assigned, done;
    std::atomic<int> calls{0};
    self = std::make_unique<natsio::OrderedSubscription>(conn, "SELF", 1, [&](const natsio::StreamMessage&) {
      assigned.wait();  // deliveries start inside the constructor, before `self` holds it
      ++calls;
      self.reset();
      done.open();
    });
    assigned.open();
    REQUIRE(done.wait());
    CHECK(delivery_goes_on(conn));
    CHECK(calls.load() == 1);
  }
}

TEST_CASE("natsio: subscriptions are destroyed while NATS is away without hanging", "[integration][natsio]") {
  testsupport::NatsServer server(/*jetstream=*/true, /*auth=*/false);
  natsio::Library lib;
  natsio::Connection conn({.url = server.url(), .name = "natsio-test", .connect_retry_ms = 0});
  natsio::JetStream(conn).ensure_stream("AWAY", {"away.>"}, {.interest = false});
  std::atomic<int> calls{0};
  auto core = std::make_unique<natsio::Subscription>(conn, "away.core", [&](const natsio::Message&) { ++calls; });
  // An ordered consumer that delivered nothing: retire() can only AutoUnsubscribe(1) it.
  auto ordered = std::make_unique<natsio::OrderedSubscription>(conn, "AWAY", 1,
                                                               [&](const natsio::StreamMessage&) { ++calls; });
  conn.flush();
  server.stop();
  // Each returns after retire()'s failed round trip (5 s) at most, not never.
  core.reset();
  ordered.reset();
  CHECK(calls.load() == 0);
}
