#include "obs/http_server.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include <fmt/format.h>
#include <httplib.h>

namespace obs {

struct HttpServer::Impl {
  httplib::Server server;
};

namespace {

/// HttpStreamSink over httplib's DataSink, for one call of a stream.
class Sink final : public HttpStreamSink {
 public:
  Sink(httplib::DataSink& sink, const std::atomic<bool>& stopping) : sink_(sink), stopping_(stopping) {}
  bool write(std::string_view data) override {
    if (data.empty()) return true;  // an empty chunk would end the response
    return sink_.write(data.data(), data.size());
  }
  bool stopping() const override { return stopping_.load(); }

 private:
  httplib::DataSink& sink_;
  const std::atomic<bool>& stopping_;
};

}  // namespace

std::string HttpRequest::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (k.size() == name.size() &&
        std::equal(k.begin(), k.end(), name.begin(), [](char a, char b) { return std::tolower(a) == std::tolower(b); }))
      return v;
  return {};
}

HttpServer::HttpServer(const std::string& address, int port, std::vector<Route> routes, Options options)
    : impl_(std::make_unique<Impl>()) {
  if (options.threads < 1) throw std::invalid_argument("http: threads must be >= 1");
  auto& s = impl_->server;
  s.new_task_queue = [n = static_cast<std::size_t>(options.threads)] { return new httplib::ThreadPool(n); };
  s.set_read_timeout(5, 0);
  s.set_write_timeout(5, 0);
  s.set_payload_max_length(8 * 1024);
  s.set_keep_alive_max_count(10);
  // httplib's default also sets SO_REUSEPORT, which lets a second process bind the same
  // port and take half the scrapes: two workers given one port must fail instead.
  s.set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  for (auto& route : routes) {
    auto serve = [this, h = std::move(route.handler)](const httplib::Request& req, httplib::Response& res) {
      HttpRequest in{req.method, req.path, req.body, {}, {}};
      for (const auto& [k, v] : req.headers) in.headers.emplace(k, v);
      for (const auto& m : req.matches) in.matches.push_back(m.str());
      HttpResponse r;
      try {
        r = h(in);
      } catch (const std::exception&) {
        r = HttpResponse{500, "application/json", "{\"error\":\"internal error\"}\n", {}};
      }
      res.status = r.status;
      for (const auto& [k, v] : r.headers) res.set_header(k.c_str(), v);
      if (!r.stream) return res.set_content(r.body, r.content_type.c_str());
      // httplib copies the provider: the stream (and what it captured) is shared, and
      // destroyed with the response once the stream ended.
      auto stream = std::make_shared<std::function<bool(HttpStreamSink&)>>(std::move(r.stream));
      res.set_chunked_content_provider(r.content_type, [this, stream](std::size_t, httplib::DataSink& sink) {
        Sink out(sink, stopping_);
        if (!out.stopping() && (*stream)(out)) return true;
        sink.done();  // the last chunk: the response ends cleanly
        return true;
      });
    };
    if (route.method == "GET") s.Get(route.path, std::move(serve));
    else if (route.method == "POST") s.Post(route.path, std::move(serve));
    else if (route.method == "PUT") s.Put(route.path, std::move(serve));
    else throw std::invalid_argument("http: unknown method " + route.method);
  }
  if (port == 0) {
    port_ = s.bind_to_any_port(address.c_str());
    if (port_ <= 0) throw std::runtime_error(fmt::format("http: cannot bind {} (any port)", address));
  } else {
    if (!s.bind_to_port(address.c_str(), port))
      throw std::runtime_error(fmt::format("http: cannot bind {}:{} (in use, or not an address of this host)", address, port));
    port_ = port;
  }
  thread_ = std::thread([this] { impl_->server.listen_after_bind(); });
}

HttpServer::~HttpServer() {
  stopping_ = true;
  impl_->server.stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace obs
