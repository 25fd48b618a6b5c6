// obs::HttpServer: GET routes on a real socket, refusals, a hostile request, and a port
// in use.
#include <catch2/catch.hpp>

#include <atomic>
#include <string>

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
