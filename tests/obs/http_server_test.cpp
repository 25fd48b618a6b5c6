// obs::HttpServer: GET routes on a real socket, refusals, a hostile request, a port
// in use, and streamed responses (Server-Sent Events).
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include <fmt/format.h>

#include <httplib.h>

#include "obs/http_server.hpp"

TEST_CASE("the server answers its GET routes, refuses the rest, survives a hostile request and stops") {
  std::atomic<int> calls{0};
  auto server = std::make_unique<obs::HttpServer>(
      "127.0.0.1", 0,
      std::vector<obs::HttpServer::Route>{
          {"GET", "/health/live",
           [&](const obs::HttpRequest&) {
             ++calls;
             return obs::HttpResponse{200, "application/json", "{\"status\":\"live\"}\n", {}};
           }},
          {"GET", "/boom", [](const obs::HttpRequest&) -> obs::HttpResponse { throw std::runtime_error("secret detail"); }},
          {"PUT", R"(/things/([a-z]+))",
           [](const obs::HttpRequest& r) {
             return obs::HttpResponse{201, "text/plain", r.method + " " + r.matches.at(1) + " " + r.body + " " +
                                                             r.header("x-TOKEN"),
                                      {{"X-Seen", "yes"}}};
           }}});
  REQUIRE(server->port() > 0);
  httplib::Client c("127.0.0.1", server->port());
  c.set_connection_timeout(5, 0);
  c.set_read_timeout(5, 0);

  auto r = c.Get("/health/live");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->body == "{\"status\":\"live\"}\n");
  CHECK(r->get_header_value("Content-Type") == "application/json");

  // A pattern route: its group, the method, body and a header (any case), extra headers back.
  auto put = c.Put("/things/abc", httplib::Headers{{"X-Token", "t1"}}, "payload", "text/plain");
  REQUIRE(put);
  CHECK(put->status == 201);
  CHECK(put->body == "PUT abc payload t1");
  CHECK(put->get_header_value("X-Seen") == "yes");
  auto unmatched = c.Put("/things/ABC", "x", "text/plain");  // the pattern must match the whole path
  REQUIRE(unmatched);
  CHECK(unmatched->status == 404);

  auto missing = c.Get("/nope");
  REQUIRE(missing);
  CHECK(missing->status == 404);
  auto post = c.Post("/health/live", "x", "text/plain");
  REQUIRE(post);
  CHECK(post->status >= 400);

  auto boom = c.Get("/boom");  // a handler that throws: 500, and no detail leaks
  REQUIRE(boom);
  CHECK(boom->status == 500);
  CHECK(boom->body.find("secret") == std::string::npos);

  // A path of 100 KB and a body over the limit: refused, and the server goes on.
  auto huge = c.Get("/" + std::string(100'000, 'a'));
  if (huge) CHECK(huge->status >= 400);
  auto big = c.Post("/health/live", std::string(1 << 20, 'x'), "text/plain");
  if (big) CHECK(big->status >= 400);
  httplib::Client c2("127.0.0.1", server->port());
  auto again = c2.Get("/health/live");
  REQUIRE(again);
  CHECK(again->status == 200);
  CHECK(calls.load() == 2);

  // The same port cannot be bound twice.
  CHECK_THROWS_AS(obs::HttpServer("127.0.0.1", server->port(), std::vector<obs::HttpServer::Route>{}), std::runtime_error);
  const int port = server->port();
  server.reset();  // stops and joins
  httplib::Client c3("127.0.0.1", port);
  c3.set_connection_timeout(1, 0);
  CHECK_FALSE(c3.Get("/health/live"));
}

TEST_CASE("a streamed response is sent as it is written, is never compressed, and ends when the server stops") {
  std::atomic<bool> streaming{false};
  std::atomic<int> destroyed{0};
  struct Guard {
    explicit Guard(std::atomic<int>& count) : n(count) {}
    ~Guard() { ++n; }
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;
    std::atomic<int>& n;
  };
  auto server = std::make_unique<obs::HttpServer>(
      "127.0.0.1", 0,
      std::vector<obs::HttpServer::Route>{
          {"GET", "/three",
           [&](const obs::HttpRequest&) {
             auto left = std::make_shared<int>(3);
             obs::HttpResponse r{200, "text/event-stream", "", {{"Cache-Control", "no-store"}}};
             r.stream = [left, guard = std::make_shared<Guard>(destroyed)](obs::HttpStreamSink& sink) {
               if (*left == 0) return false;
               return sink.write(fmt::format("data: {}\n\n", (*left)--));
             };
             return r;
           }},
          {"GET", "/forever",
           [&](const obs::HttpRequest&) {
             obs::HttpResponse r{200, "text/event-stream", "", {}};
             r.stream = [&](obs::HttpStreamSink& sink) {
               if (!streaming.exchange(true) && !sink.write(": hello\n\n")) return false;
               std::this_thread::sleep_for(std::chrono::milliseconds(20));
               return !sink.stopping();
             };
             return r;
           }}},
      obs::HttpServer::Options{.threads = 3});
  httplib::Client c("127.0.0.1", server->port());
  c.set_read_timeout(5, 0);
  // Asks for gzip: a stream must not be compressed (it would be held back in the compressor).
  auto r = c.Get("/three", httplib::Headers{{"Accept-Encoding", "gzip, deflate, br"}});
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->body == "data: 3\n\ndata: 2\n\ndata: 1\n\n");
  CHECK(r->get_header_value("Content-Type") == "text/event-stream");
  CHECK(r->get_header_value("Content-Encoding").empty());
  CHECK(r->get_header_value("Cache-Control") == "no-store");
  // The stream (and what it held) is gone with its response: right after the last chunk
  // was sent, on the server's thread (the client may see the end first).
  for (int i = 0; i < 500 && destroyed.load() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  CHECK(destroyed.load() == 1);

  // A stream that never ends by itself: stopping the server ends it.
  std::string got;
  std::thread client([&] {
    httplib::Client c2("127.0.0.1", server->port());
    c2.set_read_timeout(5, 0);
    c2.Get("/forever", [&](const char* data, std::size_t n) {
      got.append(data, n);
      return true;
    });
  });
  for (int i = 0; i < 500 && !streaming.load(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  REQUIRE(streaming.load());
  auto other = c.Get("/three");  // the other threads still serve
  REQUIRE(other);
  CHECK(other->status == 200);
  server.reset();  // returns: the stream saw stopping()
  client.join();
  CHECK(got == ": hello\n\n");
}
