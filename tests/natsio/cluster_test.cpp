// natsio on a real 3-node NATS cluster (testsupport::NatsCluster): server lists, a
// replicated (R3) stream, and failover when the stream's leader is SIGKILLed.
#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "natsio/log_publisher.hpp"
#include "natsio/natsio.hpp"
#include "servers.hpp"

namespace {

using namespace std::chrono_literals;

/// The stream's leader as the cluster names it, waiting (up to 30 s) until it has one.
std::string wait_for_leader(natsio::JetStream& js, const std::string& stream) {
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  for (;;) {
    try {
      if (auto st = js.stream_state(stream); !st.leader.empty()) return st.leader;
    } catch (const natsio::NatsError&) {
      // no leader yet: the request times out or the server says so
    }
    if (std::chrono::steady_clock::now() > deadline) return "";
    std::this_thread::sleep_for(100ms);
  }
}

/// Every message of `stream` from sequence 1, read until `n` arrived or 20 s passed. Right
/// after an election the new leader may not answer the consumer's creation yet (a
/// timeout): the reader is created again, as a client would.
std::vector<std::string> read_all(natsio::Connection& conn, const std::string& stream, std::size_t n) {
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  for (;;) {
    try {
      std::vector<std::string> out;
      natsio::StreamReader reader(conn, stream, 1);
      natsio::StreamMessage m;
      while (out.size() < n && std::chrono::steady_clock::now() < deadline)
        if (reader.next(m, 500)) out.emplace_back(m.data);
      return out;
    } catch (const natsio::NatsError& e) {
      if (std::chrono::steady_clock::now() > deadline) throw;
      WARN("stream reader: " << e.what() << "; again");
      std::this_thread::sleep_for(200ms);
    }
  }
}

}  // namespace

TEST_CASE("natsio: server lists are split, trimmed and redacted URL by URL", "[natsio]") {
  CHECK(natsio::server_list("nats://a:1") == std::vector<std::string>{"nats://a:1"});
  CHECK(natsio::server_list(" nats://u:p@a:1 ,nats://u:p@b:2,, ") ==
        std::vector<std::string>{"nats://u:p@a:1", "nats://u:p@b:2"});
  CHECK(natsio::server_list("").empty());
  CHECK(natsio::url_without_credentials("nats://u:p@a:1,nats://u:q@b:2") == "nats://a:1,nats://b:2");
  CHECK(natsio::url_without_credentials("nats://a:1") == "nats://a:1");
}

TEST_CASE("natsio: an R3 stream keeps every stored message when its leader is SIGKILLed, and a client with the "
          "server list carries on through another node",
          "[integration][natsio][cluster]") {
  testsupport::NatsCluster cluster(3);
  natsio::Library lib;
  // The client's list names every node; it is connected to one of them at random.
  natsio::Connection conn({.url = cluster.url(), .name = "cluster-test", .reconnect_wait_ms = 100});
  natsio::JetStream js(conn);
  js.ensure_stream("R3TEST", {"r3.>"}, {.interest = false, .replicas = 3});
  const auto st = js.stream_state("R3TEST");
  CHECK(st.replicas == 3);
  const std::string leader = wait_for_leader(js, "R3TEST");
  REQUIRE(cluster.index_of(leader) >= 0);

  for (int i = 0; i < 100; ++i) REQUIRE(conn.publish("r3.x", std::to_string(i)));
  conn.flush();
  // Stored once a majority has it: wait until the stream says so.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (js.stream_state("R3TEST").last_seq < 100 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  REQUIRE(js.stream_state("R3TEST").last_seq == 100);

  cluster.kill(cluster.index_of(leader));
  const std::string next = wait_for_leader(js, "R3TEST");
  INFO("old leader " << leader << ", new leader " << next);
  REQUIRE(!next.empty());
  CHECK(next != leader);
  CHECK(conn.connected());  // on another node (it reconnected if it was on the dead one)

  // Every message survived, in order, and the stream takes new ones.
  const auto got = read_all(conn, "R3TEST", 100);
  REQUIRE(got.size() == 100);
  for (int i = 0; i < 100; ++i) CHECK(got[static_cast<std::size_t>(i)] == std::to_string(i));
  REQUIRE(conn.publish("r3.x", "after"));
  conn.flush();
  const auto deadline2 = std::chrono::steady_clock::now() + 10s;
  while (js.stream_state("R3TEST").last_seq < 101 && std::chrono::steady_clock::now() < deadline2)
    std::this_thread::sleep_for(20ms);
  CHECK(js.stream_state("R3TEST").last_seq == 101);

  // The dead node comes back and catches up.
  cluster.start(cluster.index_of(leader));
  CHECK(cluster.wait_healthy(cluster.index_of(leader)));
}

TEST_CASE("natsio: a LogPublisher's messages are all stored once, in publish order, across the SIGKILL of the "
          "stream's leader",
          "[integration][natsio][cluster]") {
  testsupport::NatsCluster cluster(3);
  natsio::Library lib;
  natsio::Connection conn({.url = cluster.url(), .name = "log-pub-test", .reconnect_wait_ms = 100});
  natsio::JetStream js(conn);
  js.ensure_stream("R3PUB", {"pub.>"}, {.interest = false, .replicas = 3, .no_ack = false});
  const std::string leader = wait_for_leader(js, "R3PUB");
  REQUIRE(cluster.index_of(leader) >= 0);
  constexpr int kMessages = 3'000;
  natsio::LogPublisher::Stats stats;
  {
    natsio::LogPublisher pub(conn, {.window = 256, .ack_timeout_ms = 1'000, .retry_wait_ms = 50});
    for (int i = 0; i < kMessages; ++i) {
      REQUIRE(pub.publish("pub.x", std::to_string(i)));
      if (i == 500) cluster.kill(cluster.index_of(leader));  // mid-stream: no leader for seconds
      std::this_thread::sleep_for(1ms);
    }
    CHECK(pub.flush(60'000));
    stats = pub.stats();
  }
  INFO("refused " << stats.refused << ", resent " << stats.resent << ", duplicates " << stats.duplicates);
  CHECK(stats.published == kMessages);
  CHECK(stats.confirmed == kMessages);
  CHECK(stats.refused > 0);  // the election really happened while it published
  CHECK(stats.reordered == 0);
  const auto got = read_all(conn, "R3PUB", kMessages + 1);  // one more than sent: a copy would show
  REQUIRE(got.size() == kMessages);
  for (int i = 0; i < kMessages; ++i) REQUIRE(got[static_cast<std::size_t>(i)] == std::to_string(i));
}
