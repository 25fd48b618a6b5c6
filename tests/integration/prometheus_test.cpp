// Issue 13: a real Prometheus (Debian's) scrapes every worker of a real stack with the
// configuration deploy/local/up writes (prometheus_config in deploy/local/lib.sh, here with
// the workers' actual ports) and evaluates the stack's alert rules
// (deploy/prometheus/alerts.yml): every target is up, the metrics arrive, and a halt
// fires TradingHalted.
#include <catch2/catch.hpp>

#include <chrono>
#include <fstream>
#include <map>
#include <regex>
#include <string>
#include <thread>

#include <fmt/format.h>
#include <httplib.h>

#include "stack.hpp"

namespace {

using namespace std::chrono_literals;
const std::vector<std::string> kWorkers = {"recorder", "ops", "risk-state", "execution", "reporter", "strategy"};

std::string get(int port, const std::string& path) {
  httplib::Client c("127.0.0.1", port);
  c.set_connection_timeout(5, 0);
  c.set_read_timeout(5, 0);
  auto r = c.Get(path);
  return r && r->status == 200 ? r->body : std::string();
}

using itest::until;

/// How many times `needle` occurs in `hay`.
std::size_t count(const std::string& hay, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = hay.find(needle); at != std::string::npos; at = hay.find(needle, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("Prometheus scrapes every worker of a real stack and a halt fires TradingHalted",
          "[integration][http][prometheus]") {
  itest::nats_library();
  itest::Stack stack(std::vector<std::pair<std::string, std::string>>{{"HTTP_PORT", "0"}});
  stack.start();
  std::map<std::string, int> port;
  for (const auto& w : kWorkers) port[w] = itest::http_port_of(stack, w);

  // deploy/local/up's configuration, with these ports in place of its fixed ones.
  std::string config;
  {
    const auto lib = std::string(TRADER_SOURCE_DIR) + "/deploy/local/lib.sh";
    testsupport::Process gen({"bash", "-c", "source '" + lib + "' && prometheus_config"}, {},
                             stack.dir() + "/prometheus-config.out");
    REQUIRE(gen.wait() == 0);
    config = gen.log();
  }
  for (std::size_t i = 0; i < kWorkers.size(); ++i) {
    const auto fixed = fmt::format("127.0.0.1:{}", 9460 + i);
    REQUIRE(config.find(fixed) != std::string::npos);
    config.replace(config.find(fixed), fixed.size(), fmt::format("127.0.0.1:{}", port[kWorkers[i]]));
  }
  config = std::regex_replace(config, std::regex("scrape_interval: 5s, evaluation_interval: 5s"),
                              "scrape_interval: 1s, evaluation_interval: 1s");
  const auto config_path = stack.dir() + "/prometheus.yml";
  std::ofstream(config_path) << config;
  const int prom_port = testsupport::free_tcp_port();
  testsupport::Process prometheus({"prometheus", "--config.file=" + config_path,
                                   "--storage.tsdb.path=" + stack.dir() + "/prometheus",
                                   fmt::format("--web.listen-address=127.0.0.1:{}", prom_port)},
                                  {}, stack.dir() + "/prometheus.log");
  REQUIRE(until(30s, [&] { return !get(prom_port, "/-/ready").empty(); }));

  // Every target up, each with its worker label.
  INFO(prometheus.log_tail());
  CHECK(until(30s, [&] { return count(get(prom_port, "/api/v1/targets"), "\"health\":\"up\"") == kWorkers.size(); }));
  const auto targets = get(prom_port, "/api/v1/targets");
  for (const auto& w : kWorkers) CHECK(targets.find(fmt::format("\"worker\":\"{}\"", w)) != std::string::npos);

  // Their metrics arrive, with their own labels (no exported_worker).
  CHECK(until(30s, [&] {
    return count(get(prom_port, "/api/v1/query?query=trader_ready%3D%3D1"), "\"worker\":") == kWorkers.size();
  }));
  CHECK(get(prom_port, "/api/v1/query?query=trader_ready").find("exported_worker") == std::string::npos);
  CHECK(get(prom_port, "/api/v1/alerts").find("TradingHalted") == std::string::npos);

  // A person's halt fires TradingHalted; a resume ends it.
  REQUIRE(stack.run({itest::bin("traderctl"), "halt", "prometheus test"}) == 0);
  CHECK(until(30s, [&] {
    const auto alerts = get(prom_port, "/api/v1/alerts");
    return alerts.find("\"alertname\":\"TradingHalted\"") != std::string::npos &&
           alerts.find("\"state\":\"firing\"") != std::string::npos;
  }));
  REQUIRE(stack.run({itest::bin("traderctl"), "resume"}) == 0);
  CHECK(until(30s, [&] { return get(prom_port, "/api/v1/alerts").find("TradingHalted") == std::string::npos; }));
}
