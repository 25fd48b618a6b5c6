// Data quality (marketdata/quality.hpp), in memory: each kind with its line number, the
// policy, the outlier rule's edges; and the CheckedReader on small files.
#include "marketdata/quality.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <fmt/format.h>

namespace fs = std::filesystem;
using namespace marketdata::quality;
using core::Bar;
using core::Decimal;
using core::MarketData;
using core::PriceType;
using core::Quote;
using core::Trade;

namespace {

Decimal dec(std::string_view text) {
  const auto d = Decimal::parse(text);
  REQUIRE(d.has_value());
  return *d;
}

MarketData quote(const char* bid, const char* ask, core::TimestampNs ts, std::string symbol = "EURUSD") {
  return Quote{.symbol = std::move(symbol), .bid = dec(bid), .ask = dec(ask), .ts_event = ts};
}

MarketData trade(const char* price, core::TimestampNs ts, std::string symbol = "BTCUSDT") {
  return Trade{.symbol = std::move(symbol), .price = dec(price), .size = dec("1"), .ts_event = ts};
}

Bar bar(const char* o, const char* h, const char* l, const char* c, core::TimestampNs ts,
        PriceType type = PriceType::trade) {
  return Bar{.symbol = "GBPUSD", .open = dec(o), .high = dec(h), .low = dec(l), .close = dec(c), .price_type = type,
             .ts_event = ts};
}

std::optional<Finding> one(Check& c, const MarketData& md, std::int64_t line) {
  return c.check_row(std::span<const MarketData>(&md, 1), line);
}

/// The next line's trade (its ts_event = its line).
std::optional<Finding> next_trade(Check& c, std::int64_t& line, const char* price) {
  ++line;
  return one(c, trade(price, line), line);
}

/// The next line's quote (its ts_event = its line).
std::optional<Finding> next_quote(Check& c, std::int64_t& line, const char* bid, const char* ask) {
  ++line;
  return one(c, quote(bid, ask, line), line);
}

/// A file in the temp directory, removed when the test ends.
class TempFile {
 public:
  explicit TempFile(std::string_view content) {
    static int counter = 0;
    path_ = fs::temp_directory_path() / fmt::format("quality_test_{}_{}.csv", ::getpid(), ++counter);
    std::ofstream out(path_, std::ios::binary);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    REQUIRE(out.good());
  }
  ~TempFile() {
    std::error_code ec;
    fs::remove(path_, ec);
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  std::string path() const { return path_.string(); }

 private:
  fs::path path_;
};

}  // namespace

TEST_CASE("a quote with its bid above its ask is a crossed finding with its line, dropped by default", "[quality]") {
  Check c;
  CHECK_FALSE(one(c, quote("10", "20", 1), 2));
  CHECK_FALSE(one(c, quote("15", "15", 2), 3));  // locked is normal
  const auto f = one(c, quote("20", "10", 3), 4);
  REQUIRE(f);
  CHECK(f->kind == Kind::crossed);
  CHECK(f->action == Action::drop);
  CHECK(f->line == 4);
  CHECK(f->field == "bid");
  CHECK(f->message == "line 4: crossed quote: bid 20 above ask 10 (dropped)");
  CHECK(c.counts()[Kind::crossed] == 1);
  CHECK(c.counts().first_lines[static_cast<std::size_t>(Kind::crossed)] == std::vector<std::int64_t>{4});
  CHECK(c.counts().dropped == 1);
  CHECK(c.counts().flagged == 0);
}

TEST_CASE("a bar with high below low, or open or close outside [low, high], is inconsistent, naming the column",
          "[quality]") {
  Check c;
  MarketData good = bar("10", "12", "9", "11", 60);
  CHECK_FALSE(one(c, good, 2));
  MarketData low_above_high = bar("10", "9", "12", "10", 120);
  auto f = one(c, low_above_high, 3);
  REQUIRE(f);
  CHECK(f->kind == Kind::inconsistent);
  CHECK(f->field == "high");
  CHECK(f->message == "line 3: inconsistent bar: high 9 below low 12 (dropped)");
  MarketData close_above = bar("10", "11", "9", "12", 180);
  f = one(c, close_above, 4);
  REQUIRE(f);
  CHECK(f->field == "close");
  CHECK(f->message == "line 4: inconsistent bar: close 12 above high 11 (dropped)");
  MarketData open_below = bar("8", "11", "9", "10", 240);
  f = one(c, open_below, 5);
  REQUIRE(f);
  CHECK(f->field == "open");
  CHECK(c.counts()[Kind::inconsistent] == 3);
}

TEST_CASE("a bid/ask bar row whose bid close is above its ask close is crossed, and a bad ask bar names ask_ columns",
          "[quality]") {
  Check c;
  std::vector<MarketData> row = {bar("1.1", "1.2", "1.0", "1.15", 60, PriceType::bid),
                                 bar("1.1", "1.2", "1.0", "1.16", 60, PriceType::ask)};
  CHECK_FALSE(c.check_row(row, 2));
  row = {bar("1.1", "1.2", "1.0", "1.17", 120, PriceType::bid), bar("1.1", "1.2", "1.0", "1.16", 120, PriceType::ask)};
  auto f = c.check_row(row, 3);
  REQUIRE(f);
  CHECK(f->kind == Kind::crossed);
  CHECK(f->field == "bid_close");
  CHECK(f->message == "line 3: crossed bar: bid close 1.17 above ask close 1.16 (dropped)");
  row = {bar("1.1", "1.2", "1.0", "1.15", 180, PriceType::bid), bar("1.1", "1.2", "1.0", "1.25", 180, PriceType::ask)};
  f = c.check_row(row, 4);
  REQUIRE(f);
  CHECK(f->kind == Kind::inconsistent);
  CHECK(f->field == "ask_close");
  CHECK(f->message == "line 4: inconsistent ask bar: close 1.25 above high 1.2 (dropped)");
}

TEST_CASE("time that steps back within a symbol is backward, but equal times and other symbols are not", "[quality]") {
  Check c;
  CHECK_FALSE(one(c, quote("1", "2", 100), 2));
  CHECK_FALSE(one(c, quote("1", "2", 100), 3));             // equal: normal
  CHECK_FALSE(one(c, quote("1", "2", 50, "USDJPY"), 4));    // another symbol's own clock
  const auto f = one(c, quote("1", "2", 99), 5);
  REQUIRE(f);
  CHECK(f->kind == Kind::backward);
  CHECK(f->field == "ts_event");
  CHECK(f->message == "line 5: ts_event 99 steps back from 100 (EURUSD) (dropped)");
  // A backward row does not move the clock; a crossed row does (its time is right).
  CHECK_FALSE(one(c, quote("1", "2", 100), 6));
  CHECK(one(c, quote("3", "2", 200), 7)->kind == Kind::crossed);
  CHECK(one(c, quote("1", "2", 150), 8)->kind == Kind::backward);
  CHECK(c.counts()[Kind::backward] == 2);
  CHECK(c.counts().first_lines[static_cast<std::size_t>(Kind::backward)] == std::vector<std::int64_t>{5, 8});
  // Daily bars name their time column "date".
  Check daily({}, "date");
  CHECK_FALSE(one(daily, trade("10", 100), 2));
  CHECK(one(daily, trade("10", 50), 3)->field == "date");
}

TEST_CASE("a lone price spike after the warm-up is one outlier, flagged by default, and the next good price is not",
          "[quality]") {
  Policy p;
  p.outlier.window = 10;
  Check c(p);
  // Warm-up: 10 returns of exactly 1% alternating (the mean |return| is about 1%).
  const char* prices[] = {"100", "101", "100", "101", "100", "101", "100", "101", "100", "101", "100"};
  std::int64_t line = 1;
  for (const auto* px : prices) CHECK_FALSE(next_trade(c, line, px));
  // 5% is within 10 x ~1%; 30% is not.
  CHECK_FALSE(next_trade(c, line, "105"));
  const auto spike_line = ++line;
  const auto f = one(c, trade("136.5", spike_line), spike_line);
  REQUIRE(f);
  CHECK(f->kind == Kind::outlier);
  CHECK(f->action == Action::flag);
  CHECK(f->field == "price");
  CHECK_THAT(f->message, Catch::StartsWith(fmt::format("line {}: outlier: BTCUSDT price 136.5 moves 30% from 105", spike_line)));
  CHECK_THAT(f->message, Catch::EndsWith("(flagged)"));
  // Back to the old level: measured against 105, the last good price, so not an outlier.
  CHECK_FALSE(next_trade(c, line, "104"));
  CHECK(c.counts()[Kind::outlier] == 1);
  CHECK(c.counts().flagged == 1);
  CHECK(c.counts().dropped == 0);
}

TEST_CASE("a level shift (a split in unadjusted bars) is one outlier: the next price confirms the new level",
          "[quality]") {
  Policy p;
  p.outlier.window = 5;
  Check c(p);
  std::int64_t line = 1;
  for (const auto* px : {"700", "707", "700", "707", "700", "707"}) CHECK_FALSE(next_trade(c, line, px));
  CHECK(next_trade(c, line, "100")->kind == Kind::outlier);  // 7:1
  CHECK_FALSE(next_trade(c, line, "101"));
  CHECK_FALSE(next_trade(c, line, "100"));
  CHECK(c.counts()[Kind::outlier] == 1);
}

TEST_CASE("no outlier during the warm-up, and a flat stretch is held to the floor, not to zero", "[quality]") {
  Policy p;
  p.outlier.window = 4;
  Check c(p);
  std::int64_t line = 1;
  // Warm-up: 4 returns, whatever their size.
  for (const auto* px : {"100", "200", "100", "100", "100"}) CHECK_FALSE(next_trade(c, line, px));
  CHECK(c.counts().total() == 0);
  Check flat(p);
  line = 1;
  for (int i = 0; i < 6; ++i) CHECK_FALSE(next_trade(flat, line, "100"));
  // mean |return| 0 -> floor 1 bp, limit 10 bp: 0.05% passes; then 0.25% is above 10 x 1.25 bp.
  CHECK_FALSE(next_trade(flat, line, "100.05"));
  CHECK(next_trade(flat, line, "100.3")->kind == Kind::outlier);
}

TEST_CASE("quotes are checked on their mid, and the field is the side that moved", "[quality]") {
  Policy p;
  p.outlier.window = 3;
  Check c(p);
  std::int64_t line = 1;
  for (const auto* bid : {"1.0000", "1.0001", "1.0000", "1.0001"}) {
    const auto ask = fmt::format("{}", dec(bid) + dec("0.0002"));
    CHECK_FALSE(next_quote(c, line, bid, ask.c_str()));
  }
  const auto f = next_quote(c, line, "1.0001", "1.2003");
  REQUIRE(f);
  CHECK(f->kind == Kind::outlier);
  CHECK(f->field == "ask");
}

TEST_CASE("the policy parses kind=drop|flag and the outlier parameters, and refuses what it cannot do",
          "[quality]") {
  const auto d = Policy::parse("");
  CHECK(d == Policy{});
  CHECK(d[Kind::crossed] == Action::drop);
  CHECK(d[Kind::outlier] == Action::flag);
  CHECK(d.to_string() ==
        "non_positive=drop,crossed=drop,inconsistent=drop,backward=drop,outlier=flag,outlier_window=50,outlier_k=10,"
        "outlier_floor_bps=1");
  const auto p = Policy::parse("outlier=drop, crossed=flag,outlier_window=20,outlier_k=7.5,outlier_floor_bps=0");
  CHECK(p[Kind::outlier] == Action::drop);
  CHECK(p[Kind::crossed] == Action::flag);
  CHECK(p[Kind::backward] == Action::drop);
  CHECK(p.outlier == OutlierRule{.window = 20, .k = 7.5, .floor_bps = 0});
  CHECK(Policy::parse(p.to_string()) == p);
  CHECK_THROWS_WITH(Policy::parse("crossed=keep"), Catch::Contains("the action must be drop or flag, got \"crossed=keep\""));
  CHECK_THROWS_WITH(Policy::parse("spikes=drop"), Catch::Contains("unknown item \"spikes=drop\""));
  CHECK_THROWS_WITH(Policy::parse("non_positive=flag"), Catch::Contains("non_positive is always drop"));
  CHECK_THROWS_AS(Policy::parse("outlier_window=0"), std::invalid_argument);
  CHECK_THROWS_AS(Policy::parse("outlier_k=-1"), std::invalid_argument);
  CHECK_THROWS_AS(Policy::parse("outlier_k=nan"), std::invalid_argument);
  CHECK_THROWS_AS(Policy::parse("crossed"), std::invalid_argument);
}

TEST_CASE("a flagged row is published and a dropped one is not, both with the reason", "[quality]") {
  Check c(Policy::parse("crossed=flag"));
  const auto f = one(c, quote("20", "10", 3), 9);
  REQUIRE(f);
  CHECK(f->action == Action::flag);
  CHECK(f->message == "line 9: crossed quote: bid 20 above ask 10 (flagged)");
  CHECK(c.counts().flagged == 1);
}

TEST_CASE("the counts name each kind with its first lines", "[quality]") {
  Check c;
  CHECK(c.counts().to_string() == "none");
  for (std::int64_t line = 2; line < 9; ++line) one(c, quote("2", "1", line), line);
  one(c, quote("1", "2", 1), 20);
  CHECK(c.counts().to_string() == "crossed 7 (lines 2, 3, 4, 5, 6, ...), backward 1 (line 20); dropped 8, flagged 0");
}

TEST_CASE("the checked reader reports a zero price and a crossed quote with their file lines, and publishes the rest",
          "[quality]") {
  const TempFile f(
      "ts_event,symbol,bid,ask\n"
      "1,EURUSD,1.38742,1.38755\n"
      "2,EURUSD,1.38745,0.00\n"
      "3,EURUSD,1.38746,1.38733\n"
      "x,EURUSD,1.38746,1.38733\n"
      "4,EURUSD,1.38742,1.38755\n");
  CheckedReader r(f.path(), {});
  std::vector<Row> rows;
  while (auto row = r.next()) rows.push_back(std::move(*row));
  REQUIRE(rows.size() == 5);
  CHECK(rows[0].records.size() == 1);
  REQUIRE(rows[1].finding);
  CHECK(rows[1].finding->kind == Kind::non_positive);
  CHECK(rows[1].finding->field == "ask");
  CHECK(rows[1].finding->message == "line 3: non-positive price: ask 0.00 (dropped)");
  CHECK(rows[1].records.empty());
  REQUIRE(rows[2].finding);
  CHECK(rows[2].finding->message == "line 4: crossed quote: bid 1.38746 above ask 1.38733 (dropped)");
  CHECK(rows[2].records.empty());
  REQUIRE(rows[3].error);  // malformed: not a quality finding
  CHECK_FALSE(rows[3].finding);
  CHECK(rows[3].error->field == "ts_event");
  CHECK(rows[4].records.size() == 1);
  CHECK(r.check().counts().to_string() == "non_positive 1 (line 3), crossed 1 (line 4); dropped 2, flagged 0");
}

TEST_CASE("the checked reader gives both bars of a bid/ask bar row, or neither", "[quality]") {
  const TempFile f(
      "ts_start,ts_event,symbol,bid_open,bid_high,bid_low,bid_close,ask_open,ask_high,ask_low,ask_close\n"
      "0,60,GBPUSD,1.5,1.6,1.4,1.55,1.5,1.6,1.4,1.56\n"
      "60,120,GBPUSD,1.5,1.6,1.4,1.57,1.5,1.6,1.4,1.56\n"
      "120,180,GBPUSD,1.5,1.6,1.4,1.55,1.5,1.6,1.4,1.56\n");
  CheckedReader r(f.path(), {});
  std::vector<std::size_t> sizes;
  while (auto row = r.next()) sizes.push_back(row->records.size());
  CHECK(sizes == std::vector<std::size_t>{2, 0, 2});
  CHECK(r.check().counts()[Kind::crossed] == 1);
  CHECK(r.check().counts().first_lines[static_cast<std::size_t>(Kind::crossed)] == std::vector<std::int64_t>{3});
}
