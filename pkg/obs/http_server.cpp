#include "obs/http_server.hpp"

#include <stdexcept>

#include <fmt/format.h>
#include <httplib.h>

namespace obs {

struct HttpServer::Impl {
  httplib::Server server;
};

HttpServer::HttpServer(const std::string& address, int port, std::map<std::string, Handler> routes)
    : impl_(std::make_unique<Impl>()) {
  auto& s = impl_->server;
  s.new_task_queue = [] { return new httplib::ThreadPool(2); };
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
  for (auto& [path, handler] : routes) {
    s.Get(path, [h = std::move(handler)](const httplib::Request&, httplib::Response& res) {
      HttpResponse r;
      try {
        r = h();
      } catch (const std::exception& e) {
        r = HttpResponse{500, "application/json", fmt::format("{{\"error\":\"{}\"}}\n", "internal error")};
      }
      res.status = r.status;
      res.set_content(r.body, r.content_type.c_str());
    });
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
  impl_->server.stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace obs
