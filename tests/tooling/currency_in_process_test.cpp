// Issue 14: "JPY P&L is converted, not added", through the in-process engine (the workers'
// own code) on a file made from real quotes. The first 3,000 EURUSD quotes of 2014-05-06
// (shared/data) are renamed USDJPY and scaled by 100 (1.38742 -> 138.742), so the run
// trades a JPY-quoted pair whose own mid converts its P&L into a USD account.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include <fmt/format.h>

#include "analytics/analytics.hpp"
#include "support/servers.hpp"
#include "tooling/in_process.hpp"
#include "tooling/report.hpp"
#include "workers/instruments_file.hpp"
#include "workers/risk_state.hpp"

namespace fs = std::filesystem;

namespace {

/// quotes_EURUSD_2014-05-06.csv's first `lines` lines as USDJPY x 100, in the temp directory.
class YenQuotes {
 public:
  explicit YenQuotes(std::size_t lines) {
    std::ifstream in(testsupport::shared_data_dir() + "/quotes_EURUSD_2014-05-06.csv");
    REQUIRE(in);
    path_ = fs::temp_directory_path() / fmt::format("currency_test_{}_USDJPY.csv", ::getpid());
    std::ofstream out(path_);
    std::string line;
    std::getline(in, line);
    out << line << '\n';  // ts_event,symbol,bid,ask
    const auto hundred = core::Decimal::from_int(100);
    for (std::size_t n = 1; n < lines && std::getline(in, line); ++n) {
      const auto c1 = line.find(','), c2 = line.find(',', c1 + 1), c3 = line.find(',', c2 + 1);
      const auto bid = core::Decimal::parse(line.substr(c2 + 1, c3 - c2 - 1));
      const auto ask = core::Decimal::parse(line.substr(c3 + 1));
      REQUIRE((bid && ask));
      out << line.substr(0, c1) << ",USDJPY," << mul(*bid, hundred).to_string() << ',' << mul(*ask, hundred).to_string() << '\n';
    }
    REQUIRE(out.good());
  }
  ~YenQuotes() {
    std::error_code ec;
    fs::remove(path_, ec);
  }
  YenQuotes(const YenQuotes&) = delete;
  YenQuotes& operator=(const YenQuotes&) = delete;
  std::string path() const { return path_.string(); }

 private:
  fs::path path_;
};

}  // namespace

TEST_CASE("JPY P&L of a real-data backtest is converted into the USD account, not added", "[in_process][fx]") {
  const YenQuotes data(3000);
  services::InProcessConfig c;
  c.data_path = data.path();
  c.strategies = {{.name = "ma_cross", .strategy_id = "ma_cross", .params = {{"fast", "3"}, {"slow", "12"}}}};
  // The stack's instruments (USDJPY is not among them: derived, JPY-quoted by its name).
  c.broker.instruments = services::load_instruments(testsupport::source_dir() + "/deploy/config/instruments.csv");
  c.valuation = services::valuation_from(c.broker.instruments, "USD", {});
  services::EventTimeLog log;
  c.on_logged = [&log](std::uint64_t seq, std::string_view subject, std::string_view json) {
    log.add(seq, subject, json);
  };
  const auto res = services::run_in_process(c);
  const auto& r = res.report;
  REQUIRE(r.fills > 0);
  CHECK(r.orders_rejected == 0);
  CHECK(r.base_currency == "USD");
  REQUIRE(r.positions.size() == 1);
  CHECK(r.positions[0].currency == "JPY");
  REQUIRE(r.currencies.size() == 1);
  const auto& jpy = r.currencies[0];
  CHECK(jpy.currency == "JPY");
  REQUIRE(!jpy.total_pnl.is_zero());
  REQUIRE(jpy.rate);
  REQUIRE(jpy.total_pnl_base);
  // The rate is the pair's own last mid, inverted: 1 JPY = 1 / mid USD.
  const auto last_mid = r.positions[0].mark_px;
  CHECK(*jpy.rate == div(core::Decimal::from_int(1), last_mid));
  CHECK(*jpy.total_pnl_base == mul(jpy.total_pnl, *jpy.rate));
  CHECK(r.total_pnl == *jpy.total_pnl_base);
  CHECK(r.total_pnl != jpy.total_pnl);  // converted, never taken as USD
  CHECK(abs(r.total_pnl) < abs(jpy.total_pnl));
  // The statistics value the same way (their totals equal the reporter's) and say so.
  analytics::Settings settings;
  services::use_valuation(settings, c.valuation);
  analytics::Analyzer an(settings);
  log.feed(an);
  an.on_session_ended();
  const auto a = an.analysis();
  CHECK(a.totals.pnl_total == r.total_pnl);
  REQUIRE(a.totals.currencies.size() == 1);
  CHECK(a.totals.currencies[0].total_pnl == jpy.total_pnl);
  CHECK_THAT(analytics::to_text(a), Catch::Contains("P&L in JPY: " + jpy.total_pnl.to_string()));
  REQUIRE(!a.round_trips.empty());
  CHECK(a.round_trips[0].currency == "JPY");
}

TEST_CASE("the instruments file carries quote currency, multiplier and a pair's base currency", "[instruments][fx]") {
  const auto path = fs::temp_directory_path() / fmt::format("currency_test_{}_instruments.csv", ::getpid());
  const auto write = [&](std::string_view text) {
    std::ofstream out(path);
    out << text;
  };
  write("# reference data\nsymbol,tick_size,lot_size,multiplier,quote_currency,base_currency\n"
        "ES,0.25,1,50,USD,\nUSDJPY,0.001,,,JPY,USD\nIBM,0.01,1,,,\n");
  const auto inst = services::load_instruments(path.string());
  CHECK(inst.at("ES").multiplier == core::Decimal::from_int(50));
  CHECK(inst.at("USDJPY").quote_currency == "JPY");
  CHECK(inst.at("USDJPY").base_currency == "USD");
  CHECK(inst.at("IBM").quote_currency.empty());
  const auto v = services::valuation_from(inst, "USD", {});
  CHECK(v.currency_of("IBM") == "USD");
  CHECK(v.currency_of("USDJPY") == "JPY");
  CHECK(v.multiplier_of("ES") == core::Decimal::from_int(50));
  // The old three columns still read.
  write("symbol,tick_size,lot_size\nIBM,0.01,1\n");
  CHECK(services::load_instruments(path.string()).at("IBM").quote_currency.empty());
  // Errors name the file, the line and the field.
  write("symbol,tick_size,lot_size,currency\nIBM,0.01,1,USD\n");
  CHECK_THROWS_WITH(services::load_instruments(path.string()), Catch::Contains(":1: header must be symbol,tick_size,lot_size"));
  write("symbol,tick_size,lot_size,quote_currency\nIBM,0.01,1\n");
  CHECK_THROWS_WITH(services::load_instruments(path.string()), Catch::Contains(":2: expected 4 fields"));
  write("symbol,tick_size,lot_size,quote_currency\nIBM,0.01,1,usd\n");
  CHECK_THROWS_WITH(services::load_instruments(path.string()), Catch::Contains("IBM: quote_currency \"usd\""));
  write("symbol,tick_size,lot_size,multiplier\nES,0.25,1,0\n");
  CHECK_THROWS_WITH(services::load_instruments(path.string()), Catch::Contains("ES multiplier 0 must be positive"));
  std::error_code ec;
  fs::remove(path, ec);
}

TEST_CASE("per-strategy limits from RISK_PER_STRATEGY hold one strategy of a real-data backtest, not the other",
          "[in_process][risk][strategy]") {
  ::setenv("RISK_PER_STRATEGY", "slow max_position=500; fast max_order_notional=100000000", 1);
  config::Settings s("risk-state", "", services::risk_state_options());
  char arg0[] = "risk-state";
  char* argv[] = {arg0, nullptr};
  s.parse(1, argv);
  ::unsetenv("RISK_PER_STRATEGY");
  services::InProcessConfig c;
  c.data_path = testsupport::shared_data_dir() + "/quotes_EURUSD_2014-05-06.csv";
  c.limit = 3000;
  c.policy = services::risk_policy_from(s);
  REQUIRE(c.policy.per_strategy.size() == 2);
  CHECK(c.policy.per_strategy.at("slow").max_position == core::Decimal::from_int(500));
  // Two crossovers trading 1000 each: "slow" may hold 500 at most, so all its orders are denied.
  c.strategies = {{.name = "ma_cross", .strategy_id = "fast", .params = {{"fast", "3"}, {"slow", "12"}}},
                  {.name = "ma_cross", .strategy_id = "slow", .params = {{"fast", "5"}, {"slow", "20"}}}};
  services::EventTimeLog log;
  c.on_logged = [&log](std::uint64_t seq, std::string_view subject, std::string_view json) {
    log.add(seq, subject, json);
  };
  const auto res = services::run_in_process(c);
  analytics::Analyzer an;
  log.feed(an);
  const auto a = an.analysis();
  REQUIRE(a.per_strategy.size() == 2);
  const auto& fast = a.per_strategy[0].stats;
  const auto& slow = a.per_strategy[1].stats;
  CHECK(a.per_strategy[1].strategy_id == "slow");
  CHECK(fast.fills > 0);
  CHECK(fast.orders_denied == 0);
  CHECK(slow.fills == 0);
  CHECK(slow.orders_denied > 0);
  CHECK(slow.orders_denied == slow.orders);
  bool named = false;
  for (const auto& r : a.rejections)
    named = named || r.reason == "max_position: strategy slow's position after fill 1000 exceeds its limit 500" ||
            r.reason == "max_position: strategy slow's position after fill -1000 exceeds its limit 500";
  CHECK(named);
  // A bad setting names itself.
  ::setenv("RISK_PER_STRATEGY", "slow max_positon=5", 1);
  config::Settings bad("risk-state", "", services::risk_state_options());
  bad.parse(1, argv);
  ::unsetenv("RISK_PER_STRATEGY");
  CHECK_THROWS_WITH(services::risk_policy_from(bad), Catch::Contains("per_strategy: slow.max_positon: not a per-strategy limit"));
}
