// ReplyRouter: pairing the core copy of a request (reply subject) with its stream
// copy (the decision), in either order, bounded in age and count.
#include <catch2/catch.hpp>

#include "workers/reply_router.hpp"

using services::ReplyRouter;

namespace {
const std::string kOrder = R"({"type":"order.submit","client_order_id":"a-1"})";
}

TEST_CASE("a request's core copy first: its stream copy gets the reply subject", "[reply_router]") {
  ReplyRouter r;
  const auto k = ReplyRouter::key("trading.orders.by.alice", kOrder);
  CHECK(r.on_core(k, "_INBOX.x.1", 0).empty());
  CHECK(r.replies_waiting() == 1);
  const auto reply = r.on_stream(k, 1);
  REQUIRE(reply);
  CHECK(*reply == "_INBOX.x.1");
  CHECK(r.replies_waiting() == 0);
  CHECK_FALSE(r.on_stream(k, 2));  // taken once
}

TEST_CASE("a plain publish pairs too: its stream copy learns that nobody waits", "[reply_router]") {
  ReplyRouter r;
  const auto k = ReplyRouter::key("trading.orders", kOrder);
  (void)r.on_core(k, "", 0);
  const auto reply = r.on_stream(k, 1);
  REQUIRE(reply);
  CHECK(reply->empty());
  CHECK(r.answers_waiting() == 0);
}

TEST_CASE("the stream copy decided first: its answers wait for the core copy", "[reply_router]") {
  ReplyRouter r;
  const auto k = ReplyRouter::key("risk.management.by.bob", R"({"type":"halt"})");
  CHECK_FALSE(r.on_stream(k, 0));
  r.keep(k, {"answer-1"}, 0);
  CHECK(r.answers_waiting() == 1);
  CHECK(r.on_core(k, "_INBOX.y", 1) == std::vector<std::string>{"answer-1"});
  CHECK(r.answers_waiting() == 0);
  CHECK(r.replies_waiting() == 0);  // paired: nothing left to wait for
}

TEST_CASE("identical requests are paired first in, first out", "[reply_router]") {
  ReplyRouter r;
  const auto k = ReplyRouter::key("trading.orders.by.alice", kOrder);
  (void)r.on_core(k, "_INBOX.1", 0);
  (void)r.on_core(k, "_INBOX.2", 0);
  CHECK(*r.on_stream(k, 1) == "_INBOX.1");
  CHECK(*r.on_stream(k, 1) == "_INBOX.2");
}

TEST_CASE("the key is the subject and the payload's content", "[reply_router]") {
  CHECK(ReplyRouter::key("trading.orders", "a") != ReplyRouter::key("trading.orders", "b"));
  CHECK(ReplyRouter::key("trading.orders.by.alice", "a") != ReplyRouter::key("trading.orders.by.bob", "a"));
  // A 1 MiB payload costs its hash, not its size.
  CHECK(ReplyRouter::key("trading.orders", std::string(1 << 20, 'x')).size() == std::string("trading.orders").size() + 65);
  ReplyRouter r;
  (void)r.on_core(ReplyRouter::key("trading.orders", "a"), "_INBOX.a", 0);
  CHECK_FALSE(r.on_stream(ReplyRouter::key("trading.orders", "b"), 0));
}

TEST_CASE("entries expire after the time to live, and a burst is bounded", "[reply_router]") {
  ReplyRouter r(/*ttl_ms=*/1'000, /*max_entries=*/100);
  const auto k = ReplyRouter::key("trading.orders", kOrder);
  (void)r.on_core(k, "_INBOX.old", 0);  // its stream copy never comes (e.g. the stream was full)
  CHECK_FALSE(r.on_stream(ReplyRouter::key("trading.orders", "other"), 1'001));  // purges on the way
  CHECK(r.replies_waiting() == 0);
  CHECK(r.expired() == 1);
  r.keep(k, {"late"}, 2'000);
  CHECK(r.on_core(ReplyRouter::key("trading.orders", "x"), "", 3'001).empty());
  CHECK(r.answers_waiting() == 0);  // the kept answers expired too
  for (int i = 0; i < 1'000; ++i) (void)r.on_core(ReplyRouter::key("trading.orders", std::to_string(i)), "_INBOX", 5'000);
  CHECK(r.replies_waiting() <= 100);
  // The newest ones are kept.
  CHECK(r.on_stream(ReplyRouter::key("trading.orders", "999"), 5'000));
  CHECK_FALSE(r.on_stream(ReplyRouter::key("trading.orders", "0"), 5'000));
}

TEST_CASE("a long flow of paired copies keeps the bookkeeping within the bound", "[reply_router]") {
  ReplyRouter r(/*ttl_ms=*/1'000'000, /*max_entries=*/10);
  const auto held = ReplyRouter::key("trading.orders", "held");
  (void)r.on_core(held, "_INBOX.held", 0);  // its stream copy never comes
  for (int i = 0; i < 1'000; ++i) {  // a normal flow: each core copy is taken by its stream copy
    const auto k = ReplyRouter::key("trading.orders", std::to_string(i));
    (void)r.on_core(k, "", i);
    REQUIRE(r.on_stream(k, i));
    REQUIRE(r.slots() <= 10);  // taken entries' slots are purged, not kept for the time to live
  }
  // The bound counts slots, so under the flow the unpaired entry went (counted as expired).
  CHECK(r.replies_waiting() == 0);
  CHECK(r.expired() == 1);
}
