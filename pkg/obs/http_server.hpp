/// @file http_server.hpp
/// @brief A worker's HTTP endpoint (health and metrics, docs/operations.md), on
/// cpp-httplib (Debian's libcpp-httplib-dev; docs/dependencies.md): we configure it,
/// we do not write a server.
///
/// Each route is a method and a path pattern (see Route), and a function that builds the
/// whole response from the request. Anything else (an unknown path, another method) gets
/// httplib's 404. Hostile clients are
/// bounded: requests up to 8 KiB, 5 s to read or write, a pool of 2 threads by default
/// (a scrape and a probe at once; more wait; Options::threads), keep-alive for at most 10
/// requests. A response may be a stream (HttpResponse::stream: Server-Sent Events), which
/// holds one of the threads for as long as the client stays: a server that streams needs
/// more threads than it lets streams take (the caller bounds them, e.g. ops' dashboard). The socket has
/// SO_REUSEADDR but not httplib's default SO_REUSEPORT: a port in use is an error,
/// never shared with another process.
///
/// Thread-safety: the handlers run on the server's threads, concurrently with the
/// worker: they must only read what is safe to read from another thread (the Runtime's
/// atomics and locked state).
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>
#include <string_view>

namespace obs {

/// Where a streamed response writes (HttpResponse::stream).
class HttpStreamSink {
 public:
  virtual ~HttpStreamSink() = default;
  /// Sends `data` to the client at once (one HTTP chunk). False: the client is gone, or a
  /// write took longer than the server's write timeout; the stream then ends.
  virtual bool write(std::string_view data) = 0;
  /// True once the server is stopping: the stream should end (return false) promptly.
  virtual bool stopping() const = 0;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::map<std::string, std::string> headers;  ///< extra headers (e.g. WWW-Authenticate)
  /// If set, the body is this stream instead of `body` (chunked transfer encoding, never
  /// compressed): the server calls it again and again on the request's thread, until it
  /// returns false, a write fails, or the server stops. Each call should write what it has
  /// (or wait for something, at most about a second, checking sink.stopping()) and return:
  /// a call that never returns keeps the server from stopping. Destroyed (with whatever
  /// it captured) when the stream ends.
  std::function<bool(HttpStreamSink&)> stream;
};

/// What a handler sees of a request.
struct HttpRequest {
  std::string method;
  std::string path;
  std::string body;                            ///< at most the server's limit (8 KiB)
  std::map<std::string, std::string> headers;  ///< names as sent (httplib compares them case-insensitively)
  std::vector<std::string> matches;            ///< the route's capture groups (matches[0]: the whole path)
  /// A header's value, looked up without regard to case ("" if absent).
  std::string header(std::string_view name) const;
};

/// How an HttpServer serves (outside the class: a default argument cannot use a nested
/// type's default member initializers).
struct HttpServerOptions {
  int threads = 2;  ///< the pool serving requests (each open stream holds one)
};

class HttpServer {
 public:
  using RequestHandler = std::function<HttpResponse(const HttpRequest&)>;
  /// A route: "GET", "POST" or "PUT", and a path: an ECMAScript regular expression the
  /// whole path must match (a plain path matches itself); its groups are in
  /// HttpRequest::matches.
  struct Route {
    std::string method;
    std::string path;
    RequestHandler handler;
  };
  using Options = HttpServerOptions;
  /// Binds `address`:`port` (port 0: any free port, see port()) and serves `routes`
  /// on a thread of its own until destroyed. A handler that throws gets a 500 with no
  /// detail. Throws std::runtime_error if the address cannot be bound (in use, not
  /// local, no rights), std::invalid_argument for a method it does not know.
  HttpServer(const std::string& address, int port, std::vector<Route> routes, Options options = {});
  /// Stops accepting, tells the streams to stop (HttpStreamSink::stopping), waits for the
  /// handlers and streams running to finish.
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;
  /// The port bound.
  int port() const noexcept { return port_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace obs
