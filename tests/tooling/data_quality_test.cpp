// Issue 14 through the in-process engine (tooling/in_process.hpp): the feed's data-quality
// findings with their file lines and counts, on a fixture made from real quotes; and files
// whose symbol has no instrument definition trade, on instruments derived from the data.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "codec/codec.hpp"
#include "support/servers.hpp"
#include "tooling/derived_instruments.hpp"
#include "tooling/in_process.hpp"
#include "workers/instruments_file.hpp"

namespace fs = std::filesystem;

namespace {

core::Decimal dec(std::string_view text) {
  const auto d = core::Decimal::parse(text);
  REQUIRE(d.has_value());
  return *d;
}

services::InProcessConfig test_config(const std::string& path) {
  services::InProcessConfig c;
  c.data_path = path;
  c.policy.defaults.max_order_qty = core::Decimal::from_int(1'000'000);
  c.policy.defaults.max_order_notional = core::Decimal::from_int(10'000'000);
  c.strategies = {{.name = "ma_cross", .strategy_id = "ma_cross", .params = {{"fast", "3"}, {"slow", "12"}}}};
  c.metrics_interval_ns = 10 * core::kNsPerSecond;
  // The instruments file of the stack: EURUSD, IBM, BTCUSDT... but not the symbols below.
  c.broker.instruments = services::load_instruments(testsupport::source_dir() + "/deploy/config/instruments.csv");
  return c;
}

/// The first `lines` lines of a real file (header included) with `from` renamed `to`, in
/// the temp directory; removed when the test ends.
class Renamed {
 public:
  Renamed(const std::string& file, std::size_t lines, const std::string& from, const std::string& to) {
    std::ifstream in(testsupport::shared_data_dir() + "/" + file);
    REQUIRE(in);
    path_ = fs::temp_directory_path() / fmt::format("data_quality_test_{}_{}.csv", ::getpid(), to);
    std::ofstream out(path_);
    std::string line;
    for (std::size_t n = 0; n < lines && std::getline(in, line); ++n) {
      if (const auto at = line.find("," + from + ","); at != std::string::npos) line.replace(at + 1, from.size(), to);
      out << line << '\n';
    }
    REQUIRE(out.good());
  }
  ~Renamed() {
    std::error_code ec;
    fs::remove(path_, ec);
  }
  Renamed(const Renamed&) = delete;
  Renamed& operator=(const Renamed&) = delete;
  std::string path() const { return path_.string(); }

 private:
  fs::path path_;
};

/// A small data file in the temp directory; removed when the test ends.
class TempData {
 public:
  explicit TempData(std::string_view content) {
    static int counter = 0;
    path_ = fs::temp_directory_path() / fmt::format("data_quality_test_{}_{}.csv", ::getpid(), ++counter);
    std::ofstream out(path_);
    out << content;
    REQUIRE(out.good());
  }
  ~TempData() {
    std::error_code ec;
    fs::remove(path_, ec);
  }
  TempData(const TempData&) = delete;
  TempData& operator=(const TempData&) = delete;
  std::string path() const { return path_.string(); }

 private:
  fs::path path_;
};

}  // namespace

TEST_CASE("a zero ask and a crossed quote in real quotes are dropped, reported with their lines and counted",
          "[in_process][quality]") {
  // Lines 2-41 of quotes_EURUSD_2014-05-06.csv; line 17's ask set to 0.00, line 29's bid
  // and ask swapped (bid 1.38746 above ask 1.38733).
  auto c = test_config(testsupport::source_dir() + "/tests/fixtures/marketdata/quotes_EURUSD_bad_rows.csv");
  std::vector<std::string> dead_letters, summaries;
  c.session = core::SessionStarted{
      .session_id = "backtest-q", .kind = "backtest", .started_by = "test", .version = "test", .ts_wall = 1, .reason = "t"};
  c.on_logged = [&](std::uint64_t, std::string_view subject, std::string_view json) {
    if (subject == "ops.dead_letter") dead_letters.emplace_back(json);
    if (subject == "session.workers.feed" && json.find("feed.summary") != std::string_view::npos)
      summaries.emplace_back(json);
  };
  const auto res = services::run_in_process(c);
  CHECK(res.feed.published == 38);
  CHECK(res.feed.bad_rows == 0);
  using marketdata::quality::Kind;
  CHECK(res.feed.quality[Kind::non_positive] == 1);
  CHECK(res.feed.quality[Kind::crossed] == 1);
  CHECK(res.feed.quality.dropped == 2);
  CHECK(res.feed.quality.flagged == 0);
  CHECK(res.feed.quality.first_lines[static_cast<std::size_t>(Kind::non_positive)] == std::vector<std::int64_t>{17});
  CHECK(res.feed.quality.first_lines[static_cast<std::size_t>(Kind::crossed)] == std::vector<std::int64_t>{29});
  CHECK(res.feed.quality.to_string() == "non_positive 1 (line 17), crossed 1 (line 29); dropped 2, flagged 0");
  REQUIRE(dead_letters.size() == 2);
  CHECK_THAT(dead_letters[0], Catch::Contains(R"("field":"ask")"));
  CHECK_THAT(dead_letters[0], Catch::Contains("line 17: non-positive price: ask 0.00 (dropped)"));
  CHECK_THAT(dead_letters[1], Catch::Contains(R"("field":"bid")"));
  CHECK_THAT(dead_letters[1], Catch::Contains("line 29: crossed quote: bid 1.38746 above ask 1.38733 (dropped)"));
  CHECK(res.derived.empty());  // EURUSD is defined
  // The counts are recorded with the session: the feed's summary event at its end.
  REQUIRE(summaries.size() == 1);
  const auto ev = codec::decode_feed_summary(summaries[0]);
  REQUIRE(ev.ok());
  CHECK(ev->data_source == c.data_path);
  CHECK(ev->format == "quotes");
  CHECK(ev->published == 38);
  CHECK(ev->dropped == 2);
  CHECK(ev->by_kind == std::vector<core::FeedFindings>{{.kind = "non_positive", .count = 1, .lines = {17}},
                                                         {.kind = "crossed", .count = 1, .lines = {29}}});
  CHECK(ev->ts_event == 1399334591862000000);  // line 41, the last record published
}

TEST_CASE("the same rows flagged instead are published, and still reported", "[in_process][quality]") {
  auto c = test_config(testsupport::source_dir() + "/tests/fixtures/marketdata/quotes_EURUSD_bad_rows.csv");
  c.quality = marketdata::quality::Policy::parse("crossed=flag");
  const auto res = services::run_in_process(c);
  CHECK(res.feed.published == 39);  // the crossed quote too; a zero ask can never be
  CHECK(res.feed.quality.to_string() == "non_positive 1 (line 17), crossed 1 (line 29); dropped 1, flagged 1");
}

TEST_CASE("quotes of a symbol with no instrument definition trade on an instrument derived from the data",
          "[in_process][instruments]") {
  const Renamed file("quotes_EURUSD_2014-05-06.csv", 3'000, "EURUSD", "NZDUSD");
  auto c = test_config(file.path());
  REQUIRE_FALSE(c.broker.instruments.contains("NZDUSD"));
  c.derive_instruments = false;  // as live trading: unknown symbol
  const auto before = services::run_in_process(c);
  CHECK(before.report.orders > 0);
  CHECK(before.report.orders_rejected == before.report.orders);
  CHECK(before.report.fills == 0);
  c.derive_instruments = true;
  const auto after = services::run_in_process(c);
  CHECK(after.report.orders > 0);
  CHECK(after.report.fills > 0);
  CHECK(after.report.orders_rejected == 0);
  REQUIRE(after.derived.size() == 1);
  CHECK(after.derived[0] == marketdata::DerivedInstrument{.symbol = "NZDUSD", .tick_size = dec("0.00001"),
                                                           .price_decimals = 5});
  CHECK(services::describe_derived(after.derived) ==
        "derived instruments (not in instruments.csv): NZDUSD tick 0.00001, lot none");
}

TEST_CASE("trades of a symbol with no instrument definition trade on a derived tick and lot", "[in_process][instruments]") {
  const Renamed file("trades_BTCUSDT_2020-02-22.csv", 3'000, "BTCUSDT", "XRPETH");
  auto c = test_config(file.path());
  c.strategies[0].params.set("quantity", "0.01");
  c.derive_instruments = false;
  const auto before = services::run_in_process(c);
  CHECK(before.report.orders > 0);
  CHECK(before.report.orders_rejected == before.report.orders);
  c.derive_instruments = true;
  const auto after = services::run_in_process(c);
  CHECK(after.report.fills > 0);
  CHECK(after.report.orders_rejected == 0);
  REQUIRE(after.derived.size() == 1);
  CHECK(marketdata::to_string(after.derived[0]) == "XRPETH tick 0.01, lot 0.001");
  // An order off the derived lot is still rejected, as with a configured one.
  c.strategies[0].params.set("quantity", "0.0105");
  CHECK(services::run_in_process(c).report.orders_rejected > 0);
}

TEST_CASE("no instruments file: nothing is derived and every symbol trades as before", "[in_process][instruments]") {
  matching::Instruments none;
  CHECK(services::add_derived_instruments(none, testsupport::shared_data_dir() + "/quotes_EURUSD_2014-05-06.csv", 100)
            .empty());
  CHECK(none.empty());
  matching::Instruments some{{"IBM", {.symbol = "IBM", .tick_size = dec("0.01")}}};
  const auto added =
      services::add_derived_instruments(some, testsupport::shared_data_dir() + "/bars_1d_SPY_IBM_BAC_1998-2021.csv", 0);
  REQUIRE(added.size() == 2);  // BAC and SPY; IBM keeps its configured tick
  CHECK(some.at("IBM").tick_size == dec("0.01"));
  CHECK(some.at("BAC").tick_size == dec("0.0001"));
  CHECK(some.at("SPY").lot_size == dec("1"));
  CHECK(services::instruments_csv(some) ==
        "symbol,tick_size,lot_size,quote_currency,multiplier,base_currency\nBAC,0.0001,1,,,\nIBM,0.01,,,,\nSPY,0.0001,1,,,\n");
  CHECK(some.at("SPY").quote_currency.empty());  // not a pair: the account currency
  // A pair of two major currencies gets them, so its P&L is converted (portfolio::split_pair).
  matching::Instruments pairs{{"IBM", {.symbol = "IBM"}}};
  REQUIRE(services::add_derived_instruments(pairs, testsupport::shared_data_dir() + "/quotes_EURUSD_2014-05-06.csv",
                                            100)
              .size() == 1);
  CHECK(pairs.at("EURUSD").base_currency == "EUR");
  CHECK(pairs.at("EURUSD").quote_currency == "USD");
}

TEST_CASE("a pipeline backtest derives from the inputs it publishes what the in-process engine derives from the file",
          "[in_process][instruments]") {
  const std::string path = testsupport::source_dir() + "/tests/fixtures/marketdata/quotes_EURUSD_bad_rows.csv";
  // The file's published records (the zero ask and the crossed quote dropped), as inputs.
  std::vector<services::ReplayInput> inputs;
  marketdata::quality::CheckedReader reader(path, {});
  while (auto row = reader.next())
    for (const auto& md : row->records)
      std::visit([&](const auto& x) { inputs.push_back({.subject = "market.data.EURUSD", .payload = codec::encode(x)}); },
                 md);
  inputs.push_back({.subject = "trading.orders.by.operator", .payload = "{}"});  // not market data: left out
  matching::Instruments from_inputs{{"IBM", {.symbol = "IBM"}}};
  matching::Instruments from_file = from_inputs;
  const auto a = services::add_derived_instruments(from_inputs, inputs);
  const auto b = services::add_derived_instruments(from_file, path, 0);
  REQUIRE(a.size() == 1);
  CHECK(a == b);
  CHECK(from_inputs == from_file);
  CHECK(marketdata::to_string(a[0]) == "EURUSD tick 0.00001, lot none");
}

TEST_CASE("a dropped row does not count toward the derived tick, and the limit counts published records",
          "[instruments]") {
  const TempData f("ts_event,symbol,price,size\n1,X,10.5,1\n2,X,10.123,1\n1,X,10.12345,0.5\n3,X,10.25,2\n");
  // Line 4 steps back in time: dropped by default, so its 5 decimals and its lot 0.5 are not seen.
  auto d = marketdata::derive_instruments(f.path());
  REQUIRE(d.size() == 1);
  CHECK(marketdata::to_string(d[0]) == "X tick 0.001, lot 1");
  d = marketdata::derive_instruments(f.path(), 0, marketdata::quality::Policy::parse("backward=flag"));
  CHECK(marketdata::to_string(d[0]) == "X tick 0.00001, lot 0.1");
  d = marketdata::derive_instruments(f.path(), 1);
  CHECK(marketdata::to_string(d[0]) == "X tick 0.1, lot 1");
}
