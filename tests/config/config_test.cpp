#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "config/config.hpp"

namespace {

std::vector<config::Option> opts() {
  return {{"nats_url", "TEST_NATS_URL", "nats://127.0.0.1:4222", "url"},
          {"max_order_qty", "TEST_MAX_ORDER_QTY", "100", "qty"},
          {"verbose", "", "false", "switch", true}};
}

struct Argv {
  explicit Argv(std::vector<std::string> a) : args(std::move(a)) {
    for (auto& s : args) ptrs.push_back(s.data());
  }
  int argc() { return static_cast<int>(ptrs.size()); }
  char** argv() { return ptrs.data(); }
  std::vector<std::string> args;
  std::vector<char*> ptrs;
};

std::string write_file(const std::string& text) {
  const std::string path = "/tmp/trader_config_test_" + std::to_string(::getpid()) + ".conf";
  std::ofstream(path) << text;
  return path;
}

}  // namespace

TEST_CASE("settings come from defaults, then the file, then the environment, then flags", "[config]") {
  const auto file = write_file("nats_url = nats://file:1\nmax_order_qty = 200\n");
  ::unsetenv("TEST_MAX_ORDER_QTY");
  {
    config::Settings s("risk-state", "", opts());
    Argv a({"risk-state", "--config", file});
    s.parse(a.argc(), a.argv());
    CHECK(s.get("nats_url") == "nats://file:1");
    CHECK(s.get_decimal("max_order_qty") == core::Decimal::from_int(200));
  }
  ::setenv("TEST_MAX_ORDER_QTY", "300", 1);
  {
    config::Settings s("risk-state", "", opts());
    Argv a({"risk-state", "--config", file});
    s.parse(a.argc(), a.argv());
    CHECK(s.get_int("max_order_qty") == 300);
  }
  {
    config::Settings s("risk-state", "", opts());
    Argv a({"risk-state", "--config=" + file, "--max-order-qty", "400", "--verbose"});
    s.parse(a.argc(), a.argv());
    CHECK(s.get_int("max_order_qty") == 400);
    CHECK(s.get_bool("verbose"));
  }
  ::unsetenv("TEST_MAX_ORDER_QTY");
  std::remove(file.c_str());
}

TEST_CASE("a config file section applies only to the worker of that name", "[config]") {
  const auto file = write_file("nats_url = nats://all:1\n[strategy]\nfast = 5\n[risk-state]\nmax_order_qty = 7\n");
  config::Settings s("risk-state", "", opts());
  Argv a({"risk-state", "--config", file});
  s.parse(a.argc(), a.argv());
  CHECK(s.get("nats_url") == "nats://all:1");
  CHECK(s.get_int("max_order_qty") == 7);
  std::remove(file.c_str());
}

TEST_CASE("bad settings are refused with the key and the problem", "[config]") {
  config::Settings s("risk-state", "", opts());
  SECTION("unknown flag") {
    Argv a({"risk-state", "--max-order-qtty", "5"});
    CHECK_THROWS_WITH(s.parse(a.argc(), a.argv()), Catch::Contains("unknown option --max-order-qtty"));
  }
  SECTION("flag without a value") {
    Argv a({"risk-state", "--max-order-qty"});
    CHECK_THROWS_WITH(s.parse(a.argc(), a.argv()), Catch::Contains("needs a value"));
  }
  SECTION("unknown key in the worker's part of the file") {
    const auto file = write_file("[risk-state]\nmax_qty = 5\n");
    Argv a({"risk-state", "--config", file});
    CHECK_THROWS_WITH(s.parse(a.argc(), a.argv()), Catch::Contains(":2: unknown key 'max_qty'"));
    std::remove(file.c_str());
  }
  SECTION("missing file") {
    Argv a({"risk-state", "--config", "/nonexistent/trader.conf"});
    CHECK_THROWS_WITH(s.parse(a.argc(), a.argv()), Catch::Contains("cannot read /nonexistent/trader.conf"));
  }
  SECTION("values of the wrong kind") {
    Argv a({"risk-state", "--max-order-qty", "1.123456789"});
    s.parse(a.argc(), a.argv());
    CHECK_THROWS_WITH(s.get_decimal("max_order_qty"), Catch::Contains("max_order_qty: must be a decimal"));
    CHECK_THROWS_WITH(s.get_int("max_order_qty"), Catch::Contains("max_order_qty: must be an integer"));
  }
}

TEST_CASE("help and check-config are recognised and positional arguments kept", "[config]") {
  config::Settings s("feed", "summary", opts());
  Argv a({"feed", "--check-config", "data.csv", "--help"});
  s.parse(a.argc(), a.argv());
  CHECK(s.check_only());
  CHECK(s.help_requested());
  CHECK(s.positional() == std::vector<std::string>{"data.csv"});
  CHECK_THAT(s.help(), Catch::Contains("--max-order-qty V") && Catch::Contains("TEST_MAX_ORDER_QTY"));
  CHECK_THAT(s.describe(), Catch::Contains("max_order_qty = 100    # from default"));
}
