// services::read_history against a real nats-server while the stream keeps growing: the
// way every log worker rebuilds at start (the reporter after the chaos test's kill -9).
// Its StreamReader (an ordered push consumer) is destroyed right after the last sequence
// it needs, while the server goes on pushing the stream's tail to it. nats.c 3.4.1's
// reader thread then wrote into the freed subscription (nats.c issue #637): the restarted
// reporter aborted with "malloc_consolidate(): unaligned fastbin chunk detected".
// natsio now lets go of a subscription only after a round trip (natsio.cpp, retire()).
//
// Freed memory is overwritten here (glibc's M_PERTURB), so a write into a freed
// subscription aborts or crashes this process within a few dozen reads instead of
// corrupting the heap silently; under an ASan-built nats.c 3.4.1 it is reported as a
// heap-use-after-free in natsConn_processMsg.
#include <catch2/catch.hpp>

#include <malloc.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <string>
#include <thread>

#include "natsio/natsio.hpp"
#include "servers.hpp"
#include "workers/event_log.hpp"

TEST_CASE("read_history while the stream grows: the reader destroyed under the server's pushes leaves the heap "
          "intact (nats.c 3.4.1 issue #637)",
          "[integration][event_log]") {
  testsupport::NatsServer server(/*jetstream=*/true, /*auth=*/false);
  natsio::Library lib;
  {
    natsio::Connection admin({.url = server.url(), .name = "admin"});
    natsio::JetStream(admin).ensure_stream("HISTORY", {"history.>"}, {.interest = false});
    natsio::Connection feed({.url = server.url(), .name = "feed"});
    natsio::Connection reader({.url = server.url(), .name = "reader"});
    const std::string payload(200, 'x');
    for (int i = 0; i < 20; ++i) REQUIRE(feed.publish("history.x", payload));
    feed.flush();

    // The stream keeps growing while the history is read, as a live session's does.
    std::atomic<bool> stop{false};
    std::thread publisher([&] {
      while (!stop.load()) {
        for (int i = 0; i < 50; ++i) feed.publish("history.x", payload);
        try {
          feed.flush();
        } catch (const natsio::NatsError&) {
        }
      }
    });
    mallopt(M_PERTURB, 0xa5);
    std::uint64_t handled = 0, expected = 0;
    for (int i = 0; i < 300; ++i) {
      const auto end = natsio::JetStream(reader).last_sequence("HISTORY");
      const auto after = end - std::min<std::uint64_t>(end, 3);  // a few from the stream, as at a restart
      std::uint64_t next = after + 1;
      const auto st = services::read_history(nullptr, reader, "HISTORY", after, end,
                                             [&](const services::LogEvent& ev) {
                                               CHECK(ev.seq == next);
                                               ++next;
                                               ++handled;
                                             });
      CHECK(st.last_seq == end);
      expected += end - after;
    }
    mallopt(M_PERTURB, 0);
    stop = true;
    publisher.join();
    CHECK(handled == expected);
  }
}
