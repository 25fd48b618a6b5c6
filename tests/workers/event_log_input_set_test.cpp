// services::read_history over a stream whose session names an input set (issue 12,
// workers/input_set.hpp), against a real nats-server (an interest stream the way the
// event stream is made) and a real PostgreSQL. The recorder of such a session stores every
// message except the inputs its set holds; once it has acknowledged them, the stream no
// longer holds them either. A worker that rebuilds then must read them from the set, each
// at its own stream sequence: between stored events, after the last one, before `after`
// (only counted), and with the rest of the log still in the stream.
#include <catch2/catch.hpp>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "codec/codec.hpp"
#include "core/messages.hpp"
#include "eventstore/event_store.hpp"
#include "natsio/natsio.hpp"
#include "servers.hpp"
#include "subjects/subjects.hpp"
#include "workers/event_log.hpp"

namespace {

struct Msg {
  std::string subject;
  std::string payload;
  bool in_set = false;  ///< an input the set holds (the recorder leaves it out)
};

std::string tagged(std::string_view type, std::string_view tag) {
  return fmt::format(R"({{"type":"{}","tag":"{}"}})", type, tag);
}

std::string started(const std::string& set) {
  return codec::encode(core::SessionStarted{.session_id = "backtest-1",
                                            .kind = "backtest",
                                            .started_by = "ops",
                                            .version = "test",
                                            .ts_wall = 1,
                                            .input_set = set});
}

/// The log of a backtest: a message before the session, its session.started naming `set`,
/// inputs and outputs. Input q4 is stored by the session itself (it differs from the set's
/// 4th input, as a recorder that compares digests does): it takes the set's 4th ordinal.
std::vector<Msg> backtest_log(const std::string& set) {
  std::vector<Msg> log{{"trading.orders", tagged("note", "before"), false},
                       {std::string(subjects::kSessionLifecycle), started(set), false}};
  const std::vector<std::pair<std::string, bool>> order = {{"q1", true},  {"q2", true}, {"o1", false},
                                                           {"q3", true},  {"q4", false}, {"q5", true},
                                                           {"o2", false}, {"q6", true}, {"q7", true}};
  for (const auto& [tag, in_set] : order) {
    if (tag[0] == 'q') log.push_back({"market.data.IBM", tagged("quote", tag), in_set});
    else log.push_back({"trading.orders", tagged("order.submit", tag), false});
  }
  return log;
}

/// The set's inputs: the log's inputs in order, except the 4th, which differs.
void store_set(eventstore::EventStore& writer, const std::string& set, const std::vector<Msg>& log) {
  std::vector<eventstore::NewEvent> evs{{.msg_id = set + ":0",
                                         .subject = std::string(subjects::kSessionLifecycle),
                                         .type = "session.started",
                                         .payload = codec::encode(core::SessionStarted{
                                             .session_id = set, .kind = "inputs", .started_by = "traderctl",
                                             .version = "test", .ts_wall = 1}),
                                         .session_id = set}};
  std::uint64_t k = 0;
  for (const auto& m : log) {
    if (!m.subject.starts_with("market.data.")) continue;
    ++k;
    evs.push_back({.msg_id = fmt::format("{}:{}", set, k),
                   .subject = m.subject,
                   .type = "quote",
                   .payload = k == 4 ? tagged("quote", "set-q4") : m.payload,
                   .session_id = set});
  }
  writer.append(evs);
}

/// Publishes `log` on a fresh interest stream `stream` of `server`, and records it as the
/// recorder does: everything but the set's inputs, as "<stream>:<seq>", acknowledged up
/// to `ack_through` (the stream then holds only what follows).
void publish_and_record(testsupport::NatsServer& server, eventstore::EventStore& writer, const std::string& stream,
                        const std::vector<Msg>& log, std::uint64_t ack_through) {
  natsio::Connection admin({.url = server.url(), .name = "admin"});
  natsio::JetStream js(admin);
  js.ensure_stream(stream, {"market.data.>", "trading.orders", std::string(subjects::kSessionLifecycle)},
                   {.interest = true});
  js.ensure_durable(stream, "REC", 30'000, 1'000);
  for (const auto& m : log) REQUIRE(admin.publish(m.subject, m.payload));
  admin.flush();
  REQUIRE(js.last_sequence(stream) == log.size());
  js.bind_pull(stream, "REC");
  std::vector<eventstore::NewEvent> stored;
  std::vector<natsio::JsMessage> got;
  while (got.size() < ack_through) {
    auto batch = js.fetch(static_cast<int>(ack_through - got.size()), 2'000);
    REQUIRE(!batch.empty());
    for (auto& m : batch) got.push_back(std::move(m));
  }
  for (const auto& m : got) {
    const auto seq = m.stream_sequence();
    const auto& msg = log[seq - 1];
    if (msg.in_set) continue;
    stored.push_back({.msg_id = fmt::format("{}:{}", stream, seq),
                      .subject = msg.subject,
                      .type = std::string(codec::peek(msg.payload)->type),
                      .payload = msg.payload});
  }
  writer.append(stored);
  REQUIRE(got.back().ack_sync());
}

/// read_history's events as sequence -> (subject, tag).
std::map<std::uint64_t, std::pair<std::string, std::string>> history(eventstore::EventStore& reader,
                                                                     testsupport::NatsServer& server,
                                                                     const std::string& stream, std::uint64_t after,
                                                                     std::uint64_t up_to) {
  natsio::Connection conn({.url = server.url(), .name = "worker"});
  std::map<std::uint64_t, std::pair<std::string, std::string>> out;
  std::uint64_t next = after + 1;
  services::read_history(&reader, conn, stream, after, up_to, [&](const services::LogEvent& ev) {
    CHECK(ev.seq == next);  // in order, each once
    next = ev.seq + 1;
    std::string tag;
    if (const auto at = ev.data.find("\"tag\""); at != std::string_view::npos) {
      const auto open = ev.data.find('"', ev.data.find(':', at) + 1);
      tag = std::string(ev.data.substr(open + 1, ev.data.find('"', open + 1) - open - 1));
    } else {
      tag = std::string(codec::peek(ev.data)->type);
    }
    out.emplace(ev.seq, std::pair{std::string(ev.subject), tag});
  });
  return out;
}

/// What the uninterrupted log holds from `after`+1 on, as history() reports it.
std::map<std::uint64_t, std::pair<std::string, std::string>> expected(const std::vector<Msg>& log,
                                                                      std::uint64_t after) {
  std::map<std::uint64_t, std::pair<std::string, std::string>> out;
  for (std::uint64_t seq = after + 1; seq <= log.size(); ++seq) {
    const auto& m = log[seq - 1];
    const auto at = m.payload.find("\"tag\":\"");
    out.emplace(seq, std::pair{m.subject, at == std::string::npos
                                              ? std::string(codec::peek(m.payload)->type)
                                              : m.payload.substr(at + 7, m.payload.find('"', at + 7) - at - 7)});
  }
  return out;
}

}  // namespace

TEST_CASE("a worker's rebuild puts an input set's inputs back at their stream sequences", "[integration][event_log]") {
  testsupport::PgServer pg;
  eventstore::PgStore writer(pg.writer_url());
  eventstore::PgStore reader(pg.reader_url());
  natsio::Library lib;
  const auto log = backtest_log("inputs-t");
  store_set(writer, "inputs-t", log);

  SECTION("everything acknowledged: the stream is empty, the gaps and the tail come from the set") {
    testsupport::NatsServer server(/*jetstream=*/true, /*auth=*/false);
    publish_and_record(server, writer, "S1", log, log.size());
    {
      natsio::Connection c({.url = server.url(), .name = "c"});
      const auto st = natsio::JetStream(c).stream_state("S1");
      REQUIRE(st.msgs == 0);  // the tail (q6, q7) is in neither the stream nor the session
    }
    CHECK(history(reader, server, "S1", 0, log.size()) == expected(log, 0));
    // A restart past the middle: the inputs before `after` are only counted.
    for (std::uint64_t after : {1, 3, 5, 7, 9})
      CHECK(history(reader, server, "S1", after, log.size()) == expected(log, after));
  }

  SECTION("the recorder acknowledged part: the rest comes from the stream, counted on") {
    testsupport::NatsServer server(/*jetstream=*/true, /*auth=*/false);
    // Acknowledged through q5 (sequence 8); o2, q6 and q7 are still in the stream.
    publish_and_record(server, writer, "S2", log, 8);
    CHECK(history(reader, server, "S2", 0, log.size()) == expected(log, 0));
    CHECK(history(reader, server, "S2", 6, log.size()) == expected(log, 6));
  }

  SECTION("a set this store lacks: the rebuild stops and says which") {
    testsupport::NatsServer server(/*jetstream=*/true, /*auth=*/false);
    const auto other = backtest_log("inputs-missing");
    publish_and_record(server, writer, "S3", other, other.size());
    try {
      (void)history(reader, server, "S3", 0, other.size());
      FAIL("read_history read a log whose inputs are nowhere");
    } catch (const natsio::NatsError& e) {
      INFO(e.what());
      CHECK(std::string(e.what()).find("inputs-missing") != std::string::npos);
    }
  }
}
