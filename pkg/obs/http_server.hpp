/// @file http_server.hpp
/// @brief A worker's HTTP endpoint (health and metrics, docs/operations.md), on
/// cpp-httplib (Debian's libcpp-httplib-dev; docs/dependencies.md): we configure it,
/// we do not write a server.
///
/// GET only: each route is a function that builds the whole response. Anything else
/// (another method, an unknown path) gets httplib's 404/405. Hostile clients are
/// bounded: requests up to 8 KiB, 5 s to read or write, a pool of 2 threads (a scrape
/// and a probe at once; more wait), keep-alive for at most 10 requests. The socket has
/// SO_REUSEADDR but not httplib's default SO_REUSEPORT: a port in use is an error,
/// never shared with another process.
///
/// Thread-safety: the handlers run on the server's threads, concurrently with the
/// worker: they must only read what is safe to read from another thread (the Runtime's
/// atomics and locked state).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>

namespace obs {

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

class HttpServer {
 public:
  using Handler = std::function<HttpResponse()>;
  /// Binds `address`:`port` (port 0: any free port, see port()) and serves `routes`
  /// (path -> handler) on a thread of its own until destroyed. Throws
  /// std::runtime_error if the address cannot be bound (in use, not local, no rights).
  HttpServer(const std::string& address, int port, std::map<std::string, Handler> routes);
  /// Stops accepting, waits for the handlers running to finish.
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;
  /// The port bound.
  int port() const noexcept { return port_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
  std::thread thread_;
};

}  // namespace obs
