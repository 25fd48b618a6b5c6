// One writer per role (issue 15): services::Lease against a real nats-server with the
// deployment's permissions (pkg/auth). A lease is taken by one holder only, kept past
// its TTL by renewing it, handed over at once on release, taken over once a dead
// holder stopped renewing it, and lost (on_lost, held() false) when the key moves on
// under its holder, whose release then leaves the new holder's key alone. A worker's
// identity may not take another role's lease. The tests wait for events (the lease
// free, on_lost called), never assert a duration.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>

#include "natsio/kv.hpp"
#include "natsio/natsio.hpp"
#include "servers.hpp"
#include "workers/lease.hpp"

namespace {

using namespace std::chrono_literals;

template <class Pred>
bool until(std::chrono::milliseconds limit, Pred pred) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return pred();
}

/// What a Lease's on_lost was told.
struct Lost {
  std::mutex mu;
  std::string why;
  std::atomic<bool> called{false};
  services::Lease::LostHandler handler() {
    return [this](const std::string& w) {
      std::lock_guard lock(mu);
      why = w;
      called = true;
    };
  }
};

natsio::NatsConfig as(const testsupport::NatsServer& server, const std::string& user) {
  return {.url = server.url(user), .name = user, .inbox_prefix = "_INBOX_" + user};
}

}  // namespace

TEST_CASE("a lease has one holder: renewed past its TTL, handed over at once on release (issue 15)",
          "[integration][lease]") {
  testsupport::NatsServer server;
  natsio::Library lib;
  natsio::Connection admin({.url = server.url(), .name = "admin"});
  services::bootstrap_leases(admin);
  services::bootstrap_leases(admin);  // again: the same settings change nothing
  natsio::Connection c1(as(server, "execution")), c2(as(server, "execution"));
  Lost lost1, lost2;
  services::Lease first(c1, "execution", "first", 1'500, lost1.handler());
  services::Lease second(c2, "execution", "second", 1'500, lost2.handler());

  REQUIRE(first.try_acquire());
  CHECK(first.held());
  CHECK(first.wait_held());
  CHECK_FALSE(second.try_acquire());
  CHECK_FALSE(second.held());
  CHECK(second.holder() == "first");

  // Three TTLs later the first still holds it: the second, trying all along, saw it renewed.
  for (int i = 0; i < 30; ++i) {
    CHECK_FALSE(second.try_acquire());
    std::this_thread::sleep_for(150ms);
  }
  CHECK(second.holder() == "first");
  CHECK(first.held());
  CHECK_FALSE(lost1.called);

  // A clean stop deletes the key: the second takes over at once, not after a TTL.
  first.release();
  CHECK_FALSE(first.held());
  CHECK(second.holder() == std::nullopt);
  REQUIRE(second.try_acquire());
  CHECK(second.holder() == "second");
  CHECK_FALSE(first.try_acquire());
  CHECK_FALSE(lost2.called);
}

TEST_CASE("a holder that died keeps its lease until it was seen unrenewed for a TTL, then a waiting instance takes it",
          "[integration][lease]") {
  testsupport::NatsServer server;
  natsio::Library lib;
  natsio::Connection admin({.url = server.url(), .name = "admin"});
  services::bootstrap_leases(admin);
  {
    // A holder that takes the lease and dies: it never renews nor deletes it.
    natsio::Connection dead(as(server, "risk-state"));
    natsio::KeyValue kv(dead, "trader_leases");
    REQUIRE(kv.create("risk-state", "dead"));
  }
  natsio::Connection c(as(server, "risk-state"));
  Lost lost;
  services::Lease standby(c, "risk-state", "standby", 1'000, lost.handler());
  CHECK_FALSE(standby.try_acquire());
  CHECK(standby.holder() == "dead");
  const auto seen = standby.seen_revision();
  CHECK(seen > 0);
  REQUIRE(until(30s, [&] { return standby.try_acquire(); }));
  CHECK(standby.seen_revision() == seen);  // taken over from the revision it saw, with a compare-and-set
  CHECK(standby.held());
  CHECK(standby.holder() == "standby");
}

TEST_CASE("a holder whose key moved on has lost the lease: on_lost says so, held() is false, and its release "
          "leaves the new holder's key alone",
          "[integration][lease]") {
  testsupport::NatsServer server;
  natsio::Library lib;
  natsio::Connection admin({.url = server.url(), .name = "admin"});
  services::bootstrap_leases(admin);
  natsio::Connection c(as(server, "recorder"));
  Lost lost;
  services::Lease lease(c, "recorder", "mine", 1'500, lost.handler());
  REQUIRE(lease.try_acquire());

  // Someone else writes the key (as a holder that took over after an expiry would).
  natsio::KeyValue kv(admin, "trader_leases");
  const auto now = kv.get("recorder");
  REQUIRE(now);
  REQUIRE(kv.update("recorder", "intruder", now->revision));

  REQUIRE(until(30s, [&] { return lost.called.load(); }));
  {
    std::lock_guard lock(lost.mu);
    CHECK_THAT(lost.why, Catch::Contains("recorder lease moved on"));
  }
  CHECK_FALSE(lease.held());
  CHECK_FALSE(lease.wait_held());  // a write held back by the fence is never sent
  lease.release();
  const auto after = kv.get("recorder");
  REQUIRE(after);
  CHECK(after->value == "intruder");
  CHECK(lease.holder() == "intruder");

  // The key-value wrapper's compare-and-set: a stale revision neither updates nor deletes.
  CHECK_FALSE(kv.update("recorder", "stale", now->revision));
  CHECK_FALSE(kv.erase("recorder", now->revision));
  CHECK(kv.erase("recorder", after->revision));
  CHECK(kv.get("recorder") == std::nullopt);
  CHECK(kv.create("recorder", "again"));
  CHECK_FALSE(kv.create("recorder", "twice"));
}

TEST_CASE("a worker's identity may take its own lease only, never another role's, other identities none (issue 15)",
          "[integration][lease][auth]") {
  testsupport::NatsServer server;
  natsio::Library lib;
  natsio::Connection admin({.url = server.url(), .name = "admin"});
  services::bootstrap_leases(admin);
  natsio::Connection exec(as(server, "execution"));
  Lost lost;
  // execution may bind to the bucket, but not write, nor read, risk-state's key.
  services::Lease theirs(exec, "risk-state", "execution pretending", 1'500, lost.handler());
  CHECK_THROWS_AS(theirs.try_acquire(), natsio::NatsError);
  CHECK_THROWS_AS(theirs.holder(), natsio::NatsError);
  natsio::KeyValue kv(admin, "trader_leases");
  CHECK(kv.get("risk-state") == std::nullopt);
  services::Lease own(exec, "execution", "execution", 1'500, lost.handler());
  CHECK(own.try_acquire());

  // An identity that holds no lease (the strategy, the feed) may not even bind to the bucket.
  for (const auto* user : {"strategy", "feed", "reporter"}) {
    INFO(user);
    natsio::Connection other(as(server, user));
    CHECK_THROWS_AS(services::Lease(other, "execution", user, 1'500, lost.handler(), "trader_leases", 0),
                    natsio::NatsError);
  }
  // A worker may not create the bucket (only admin does, with the stream).
  CHECK_THROWS_AS(natsio::KeyValue::ensure(exec, "trader_leases_2"), natsio::NatsError);
  CHECK_FALSE(lost.called);
}
