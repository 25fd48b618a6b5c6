// obs::Logger: every record is one JSON object on one line with its fields, escaped
// whatever the input; huge values are cut; levels filter; the text format; threads.
#include <catch2/catch.hpp>

#include <mutex>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "log_lines.hpp"
#include "obs/log.hpp"

namespace {

/// A logger writing into `lines`.
struct Captured {
  std::mutex mu;
  std::vector<std::string> lines;
  obs::Logger log;
  explicit Captured(obs::LogOptions opts)
      : log(std::move(opts), [this](std::string_view line) {
          std::lock_guard lock(mu);
          lines.emplace_back(line);
        }) {}
};

std::map<std::string, std::string> record(const std::string& line) {
  INFO(line);
  const auto r = testsupport::parse_log_record(line);
  REQUIRE(r);
  return *r;
}

const std::regex kRfc3339Nanos(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z)");

}  // namespace

TEST_CASE("a JSON record has ts, level, worker, msg, the session once set and the call's fields, in order", "[obs][log]") {
  Captured c({.worker = "risk-state"});
  c.log.info("ready (nats://risk-state:***@127.0.0.1:4222)");
  c.log.set_session("live-20261207T110000Z-1a2b");
  c.log.warn("rejected message on trading.orders: quantity: must be > 0",
             {{"client_order_id", "o-42"}, {"subject", "trading.orders"}, {"field", "quantity"}});
  REQUIRE(c.lines.size() == 2);
  CHECK(c.lines[0].find('\n') == std::string::npos);

  const auto first = record(c.lines[0]);
  CHECK(std::regex_match(first.at("ts"), kRfc3339Nanos));
  CHECK(first.at("level") == "info");
  CHECK(first.at("worker") == "risk-state");
  CHECK(first.at("msg") == "ready (nats://risk-state:***@127.0.0.1:4222)");
  CHECK_FALSE(first.contains("session"));  // not known yet: omitted
  CHECK(first.size() == 4);

  const auto second = record(c.lines[1]);
  CHECK(second.at("level") == "warn");
  CHECK(second.at("session") == "live-20261207T110000Z-1a2b");
  CHECK(second.at("client_order_id") == "o-42");
  CHECK(second.at("subject") == "trading.orders");
  CHECK(second.at("field") == "quantity");
  // Keys in the documented order: ts, level, worker, session, msg, then the fields.
  CHECK_THAT(c.lines[1], Catch::StartsWith("{\"ts\":\""));
  const auto pos = [&](const char* key) { return c.lines[1].find(std::string("\"") + key + "\":"); };
  CHECK(pos("level") < pos("worker"));
  CHECK(pos("worker") < pos("session"));
  CHECK(pos("session") < pos("msg"));
  CHECK(pos("msg") < pos("client_order_id"));
  CHECK(pos("client_order_id") < pos("subject"));

  c.log.set_session("");
  c.log.error("x");
  CHECK_FALSE(record(c.lines.back()).contains("session"));
}

TEST_CASE("every string of a record is escaped: quotes, backslashes, newlines, control characters, invalid UTF-8",
          "[obs][log]") {
  Captured c({.worker = "we\"ird\nworker"});
  const std::string nasty = std::string("a\"b\\c\nd\re\tf\bg\fh") + '\x01' + '\x1f' + '\x7f' + "i" + '\0' + "j";
  const std::string bad_utf8 = std::string("k") + '\xff' + "l" + '\xc0' + '\xaf' +  // a stray byte, an overlong '/'
                               '\xed' + '\xa0' + '\x80' +                           // a UTF-16 surrogate
                               '\xe2' + '\x82' + "m";                                // a sequence cut short
  const std::string good_utf8 = "\xe2\x82\xac \xf0\x9f\x98\x80 \xc3\xa9";            // euro sign, emoji, e-acute
  c.log.set_session("s\"1");
  c.log.error(nasty, {{"subject", bad_utf8}, {"note", good_utf8}, {"k\"ey", "v"}});
  REQUIRE(c.lines.size() == 1);
  const auto& line = c.lines[0];
  INFO(line);
  CHECK(line.find('\n') == std::string::npos);
  CHECK(line.find('\r') == std::string::npos);
  for (const char ch : line) CHECK(static_cast<unsigned char>(ch) >= 0x20);
  const auto r = record(line);  // simdjson's parse checks the UTF-8 too
  CHECK(r.at("worker") == "we\"ird\nworker");
  CHECK(r.at("session") == "s\"1");
  CHECK(r.at("msg") == nasty);  // every byte comes back, NUL included
  const std::string fffd = "\xef\xbf\xbd";
  CHECK(r.at("subject") == "k" + fffd + "l" + fffd + fffd + fffd + fffd + fffd + fffd + fffd + "m");
  CHECK(r.at("note") == good_utf8);
  CHECK(r.at("k\"ey") == "v");
  CHECK(line.find("\\u0001") != std::string::npos);
  CHECK(line.find("\\u007f") != std::string::npos);
}

TEST_CASE("a 1 MB hostile value is cut to kMaxValueBytes with a marker, at a character boundary", "[obs][log]") {
  Captured c({.worker = "execution"});
  const std::string quotes(1 << 20, '"');  // escaping doubles it: the worst printable case
  const std::string controls(1 << 20, '\x01');  // six bytes each once escaped
  std::string euros;
  while (euros.size() < (1 << 20)) euros += "\xe2\x82\xac";
  euros += "x";  // kMaxValueBytes (4096) is not a multiple of 3: the cut falls inside a character
  c.log.error(quotes, {{"payload", controls}, {"client_order_id", euros}});
  REQUIRE(c.lines.size() == 1);
  const auto& line = c.lines[0];
  CHECK(line.size() < 6 * obs::kMaxValueBytes + 3 * obs::kMaxValueBytes + 2 * obs::kMaxValueBytes + 512);
  const auto r = record(line);
  CHECK(r.at("msg") == std::string(obs::kMaxValueBytes, '"') + "...[truncated, 1048576 bytes]");
  CHECK(r.at("payload") == std::string(obs::kMaxValueBytes, '\x01') + "...[truncated, 1048576 bytes]");
  const auto& id = r.at("client_order_id");
  REQUIRE_THAT(id, Catch::EndsWith(fmt::format("...[truncated, {} bytes]", euros.size())));
  const auto kept = id.substr(0, id.find("..."));
  CHECK(kept.size() == obs::kMaxValueBytes / 3 * 3);  // whole characters only
  CHECK(kept.size() <= obs::kMaxValueBytes);
  CHECK(kept.find("\xef\xbf\xbd") == std::string::npos);  // no character was split into U+FFFD

  // The helper on its own, at its limit exactly: not cut.
  std::string out;
  obs::append_log_json_string(out, std::string(10, 'a'), 10);
  CHECK(out == "\"aaaaaaaaaa\"");
  out.clear();
  obs::append_log_json_string(out, std::string(11, 'a'), 10);
  CHECK(out == "\"aaaaaaaaaa...[truncated, 11 bytes]\"");
}

TEST_CASE("records below the level are dropped", "[obs][log]") {
  Captured c({.worker = "w", .level = obs::LogLevel::warn});
  CHECK_FALSE(c.log.enabled(obs::LogLevel::debug));
  CHECK_FALSE(c.log.enabled(obs::LogLevel::info));
  CHECK(c.log.enabled(obs::LogLevel::warn));
  c.log.debug("d");
  c.log.info("i");
  c.log.warn("w");
  c.log.error("e");
  REQUIRE(c.lines.size() == 2);
  CHECK(record(c.lines[0]).at("level") == "warn");
  CHECK(record(c.lines[1]).at("level") == "error");

  Captured all({.worker = "w", .level = obs::LogLevel::debug});
  all.log.debug("d");
  REQUIRE(all.lines.size() == 1);
  CHECK(record(all.lines[0]).at("level") == "debug");
}

TEST_CASE("levels and formats are parsed from their names only", "[obs][log]") {
  CHECK(obs::parse_log_level("debug") == obs::LogLevel::debug);
  CHECK(obs::parse_log_level("info") == obs::LogLevel::info);
  CHECK(obs::parse_log_level("warn") == obs::LogLevel::warn);
  CHECK(obs::parse_log_level("warning") == obs::LogLevel::warn);
  CHECK(obs::parse_log_level("error") == obs::LogLevel::error);
  CHECK_FALSE(obs::parse_log_level("INFO"));
  CHECK_FALSE(obs::parse_log_level(""));
  CHECK_FALSE(obs::parse_log_level("trace"));
  CHECK(obs::parse_log_format("json") == obs::LogFormat::json);
  CHECK(obs::parse_log_format("text") == obs::LogFormat::text);
  CHECK_FALSE(obs::parse_log_format("logfmt"));
  for (const auto l : {obs::LogLevel::debug, obs::LogLevel::info, obs::LogLevel::warn, obs::LogLevel::error})
    CHECK(obs::parse_log_level(obs::to_string(l)) == l);
}

TEST_CASE("the text format is one readable line per record: stamp, level, worker: msg, then key=value", "[obs][log]") {
  Captured c({.worker = "risk-state", .format = obs::LogFormat::text});
  c.log.set_session("live-1");
  c.log.warn("NATS disconnected: Connection refused; reconnecting",
             {{"client_order_id", "o-1"}, {"subject", "a b"}, {"empty", ""}});
  c.log.info("two\nlines \"quoted\"\x01");
  REQUIRE(c.lines.size() == 2);
  static const std::regex first(
      R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z WARN  risk-state: NATS disconnected: Connection refused; reconnecting )"
      R"(session=live-1 client_order_id=o-1 subject="a b" empty="")");
  CHECK(std::regex_match(c.lines[0], first));
  CHECK_THAT(c.lines[1], Catch::Contains(" INFO  risk-state: two\\nlines \\\"quoted\\\"\\u0001 session=live-1"));
  CHECK(c.lines[1].find('\n') == std::string::npos);
  CHECK_FALSE(testsupport::parse_log_record(c.lines[0]));  // not JSON
}

TEST_CASE("records logged from many threads at once come out whole, one per line", "[obs][log]") {
  Captured c({.worker = "natsio"});
  constexpr int kThreads = 4, kEach = 500;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&c, t] {
      for (int i = 0; i < kEach; ++i) {
        c.log.set_session("s" + std::to_string(t));
        c.log.info("record", {{"thread", std::to_string(t)}, {"i", std::to_string(i)}});
      }
    });
  for (auto& t : threads) t.join();
  REQUIRE(c.lines.size() == kThreads * kEach);
  std::map<std::string, int> per_thread;
  for (const auto& line : c.lines) {
    const auto r = record(line);
    CHECK(r.at("msg") == "record");
    CHECK(r.at("session").starts_with("s"));
    ++per_thread[r.at("thread")];
  }
  CHECK(per_thread.size() == static_cast<std::size_t>(kThreads));
  for (const auto& [t, n] : per_thread) CHECK(n == kEach);
}

TEST_CASE("default_logger writes text, at info", "[obs][log]") {
  const auto log = obs::default_logger("traderctl");
  CHECK(log->worker() == "traderctl");
  CHECK(log->format() == obs::LogFormat::text);
  CHECK_FALSE(log->enabled(obs::LogLevel::debug));
  CHECK(log->enabled(obs::LogLevel::info));
}
