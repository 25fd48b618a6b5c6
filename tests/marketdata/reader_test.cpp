#include "marketdata/reader.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <fmt/format.h>

namespace fs = std::filesystem;
using core::AggressorSide;
using core::Bar;
using core::Decimal;
using core::MarketData;
using core::PriceType;
using core::Quote;
using core::Trade;
using marketdata::Format;
using marketdata::Reader;

namespace {

std::string describe(const MarketData& m) {
  auto opt_dec = [](const std::optional<Decimal>& d) { return d ? fmt::format("{}", *d) : "-"; };
  auto opt_ts = [](const std::optional<core::TimestampNs>& t) { return t ? fmt::format("{}", *t) : "-"; };
  if (const auto* q = std::get_if<Quote>(&m)) {
    return fmt::format("Quote{{{} ts_event={} bid={} bid_size={} ask={} ask_size={} ts_recv={}}}", q->symbol,
                       q->ts_event, q->bid, opt_dec(q->bid_size), q->ask, opt_dec(q->ask_size),
                       opt_ts(q->ts_recv));
  }
  if (const auto* t = std::get_if<Trade>(&m)) {
    return fmt::format("Trade{{{} ts_event={} price={} size={} aggressor_side={} trade_id={} ts_recv={}}}",
                       t->symbol, t->ts_event, t->price, t->size, t->aggressor_side,
                       t->trade_id.value_or("-"), opt_ts(t->ts_recv));
  }
  const auto& b = std::get<Bar>(m);
  return fmt::format("Bar{{{} {} ts_start={} ts_event={} o={} h={} l={} c={} volume={}}}", b.symbol,
                     b.price_type, opt_ts(b.ts_start), b.ts_event, b.open, b.high, b.low, b.close,
                     opt_dec(b.volume));
}

}  // namespace

namespace Catch {
template <>
struct StringMaker<MarketData> {
  static std::string convert(const MarketData& m) { return describe(m); }
};
template <>
struct StringMaker<core::Error> {
  static std::string convert(const core::Error& e) { return fmt::format("{{{}, {}}}", e.field, e.message); }
};
}  // namespace Catch

namespace {

fs::path shared_data_dir() {
  if (const char* env = std::getenv("TRADER_SHARED_DATA"); env != nullptr && *env != '\0') return env;
  return fs::path(TRADER_SOURCE_DIR "/../shared/data");
}

fs::path bundled_eurusd() { return fs::path(TRADER_SOURCE_DIR "/deploy/data/quotes_EURUSD_2014-05-06.csv.gz"); }

Decimal dec(std::string_view text) {
  const auto d = Decimal::parse(text);
  REQUIRE(d.has_value());
  return *d;
}

core::TimestampNs ts_event_of(const MarketData& m) {
  return std::visit([](const auto& x) { return x.ts_event; }, m);
}

/// A file in the temp directory, removed when the test ends.
class TempFile {
 public:
  explicit TempFile(std::string_view content) {
    static int counter = 0;
    path_ = fs::temp_directory_path() / fmt::format("marketdata_test_{}_{}.csv", ::getpid(), ++counter);
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

struct ReadAll {
  std::vector<MarketData> messages;
  std::vector<std::pair<std::int64_t, core::Error>> errors;  // line(), error
};

ReadAll read_all(Reader& r) {
  ReadAll out;
  while (auto rec = r.next()) {
    if (rec->ok()) {
      out.messages.push_back(std::move(*rec).value());
    } else {
      out.errors.emplace_back(r.line(), rec->error());
    }
  }
  return out;
}

struct FileCase {
  std::string file;
  Format format;
  std::int64_t rows;
  std::int64_t messages;
  MarketData first;
  MarketData last;
};

// First and last records, copied by hand from `head -2` and `tail -1` of each file.
// Daily-bar times: `date -u -d 1998-01-02 +%s` etc.
std::vector<FileCase> file_cases() {
  constexpr core::TimestampNs kDay = core::kNsPerDay;
  return {
      {"quotes_IBM_2013-10-08.csv", Format::quotes_with_sizes, 62'875, 62'875,
       Quote{.symbol = "IBM", .bid = dec("180.01"), .ask = dec("182.62"), .bid_size = dec("200"),
             .ask_size = dec("100"), .ts_event = 1381219200640000000},
       Quote{.symbol = "IBM", .bid = dec("179.05"), .ask = dec("185.00"), .bid_size = dec("100"),
             .ask_size = dec("100"), .ts_event = 1381276800646000000}},
      {"trades_IBM_2013-10-08.csv", Format::trades, 33'381, 33'381,
       Trade{.symbol = "IBM", .price = dec("182.10"), .size = dec("300"), .ts_event = 1381236469457000000},
       Trade{.symbol = "IBM", .price = dec("179.55"), .size = dec("200"), .ts_event = 1381274636822000000}},
      {"quotes_EURUSD_2014-05-06.csv", Format::quotes, 44'864, 44'864,
       Quote{.symbol = "EURUSD", .bid = dec("1.38742"), .ask = dec("1.38755"), .ts_event = 1399334400158000000},
       Quote{.symbol = "EURUSD", .bid = dec("1.39287"), .ask = dec("1.39298"), .ts_event = 1399420796706000000}},
      {"quotes_BTCUSDT_2020-02-22.csv", Format::quotes_with_sizes, 9'999, 9'999,
       Quote{.symbol = "BTCUSDT", .bid = dec("9681.92"), .ask = dec("9682"), .bid_size = dec("0.67"),
             .ask_size = dec("0.84"), .ts_event = 1582329601096000000, .ts_recv = 1582329603502092000},
       Quote{.symbol = "BTCUSDT", .bid = dec("9671.19"), .ask = dec("9672.09"), .bid_size = dec("0.012"),
             .ask_size = dec("0.031"), .ts_event = 1582329827061000000, .ts_recv = 1582329827181582000}},
      {"trades_BTCUSDT_2020-02-22.csv", Format::trades, 9'999, 9'999,
       Trade{.symbol = "BTCUSDT", .price = dec("9682"), .size = dec("0.132"), .aggressor_side = AggressorSide::buy,
             .trade_id = "42377944", .ts_event = 1582329602111000000, .ts_recv = 1582329602418379000},
       Trade{.symbol = "BTCUSDT", .price = dec("9666.84"), .size = dec("0.07"), .aggressor_side = AggressorSide::sell,
             .trade_id = "42387942", .ts_event = 1582337147728000000, .ts_recv = 1582337147852384000}},
      {"bars_1m_GBPUSD_2012-02-01_to_14.csv", Format::bars_bid_ask, 14'339, 28'678,
       Bar{.symbol = "GBPUSD", .open = dec("1.57597"), .high = dec("1.57606"), .low = dec("1.57576"),
           .close = dec("1.57576"), .price_type = PriceType::bid, .ts_start = 1328054400000000000,
           .ts_event = 1328054460000000000},
       Bar{.symbol = "GBPUSD", .open = dec("1.56901"), .high = dec("1.56910"), .low = dec("1.56898"),
           .close = dec("1.56910"), .price_type = PriceType::ask, .ts_start = 1329263940000000000,
           .ts_event = 1329264000000000000}},
      {"bars_1d_SPY_IBM_BAC_1998-2021.csv", Format::daily_bars, 17'547, 17'547,
       Bar{.symbol = "BAC", .open = dec("73.25"), .high = dec("73.94"), .low = dec("72.06"), .close = dec("73.63"),
           .volume = dec("919900"), .ts_start = 883699200000000000, .ts_event = 883699200000000000 + kDay},
       Bar{.symbol = "SPY", .open = dec("395.35"), .high = dec("398.00"), .low = dec("395.33"),
           .close = dec("396.33"), .volume = dec("90673494"), .ts_start = 1617148800000000000,
           .ts_event = 1617148800000000000 + kDay}},
      {"bars_1d_MSFT_2000-09-27_to_2001-09-27.csv", Format::daily_bars, 249, 249,
       Bar{.symbol = "MSFT", .open = dec("63.4375"), .high = dec("63.5625"), .low = dec("59.8125"),
           .close = dec("60.625"), .volume = dec("53077800"), .ts_start = 970012800000000000,
           .ts_event = 970012800000000000 + kDay},
       Bar{.symbol = "MSFT", .open = dec("50.10"), .high = dec("50.68"), .low = dec("48.00"), .close = dec("49.96"),
           .volume = dec("40595600"), .ts_start = 1001548800000000000, .ts_event = 1001548800000000000 + kDay}},
  };
}

}  // namespace

// ---- every recorded file ------------------------------------------------------

TEST_CASE("every CSV file in shared/data has an expectation in this test", "[marketdata][shared_data]") {
  const auto dir = shared_data_dir();
  REQUIRE(fs::is_directory(dir));
  std::set<std::string> expected;
  for (const auto& c : file_cases()) expected.insert(c.file);
  std::set<std::string> present;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".csv") present.insert(e.path().filename().string());
  }
  CHECK(present == expected);
}

TEST_CASE("each shared data file reads completely with its README row count and exact first and last records",
          "[marketdata][shared_data]") {
  for (const auto& c : file_cases()) {
    DYNAMIC_SECTION(c.file) {
      Reader r((shared_data_dir() / c.file).string());
      CHECK(r.format() == c.format);
      CHECK_FALSE(r.compressed());
      CHECK(r.line() == 1);

      std::int64_t count = 0;
      std::int64_t out_of_order = 0;
      std::int64_t bad = 0;
      core::TimestampNs prev = INT64_MIN;
      std::optional<MarketData> first, last;
      while (auto rec = r.next()) {
        if (!rec->ok()) {
          ++bad;
          if (bad <= 3) FAIL_CHECK(rec->error().to_string());
          continue;
        }
        const auto ts = ts_event_of(rec->value());
        if (ts < prev) ++out_of_order;
        prev = ts;
        if (!first) first = rec->value();
        last = std::move(*rec).value();
        ++count;
      }
      CHECK(bad == 0);
      CHECK(r.rows_bad() == 0);
      CHECK(r.rows_ok() == c.rows);
      CHECK(count == c.messages);
      CHECK(r.line() == c.rows + 1);
      CHECK(out_of_order == 0);
      REQUIRE(first.has_value());
      CHECK(*first == c.first);
      CHECK(*last == c.last);
      CHECK_FALSE(r.next().has_value());  // stays at end
    }
  }
}

TEST_CASE("bid/ask bar rows give a bid bar then an ask bar with the same times", "[marketdata][shared_data]") {
  Reader r((shared_data_dir() / "bars_1m_GBPUSD_2012-02-01_to_14.csv").string());
  REQUIRE(r.format() == Format::bars_bid_ask);
  std::int64_t rows = 0;
  std::int64_t negative_close_spread = 0;
  while (auto bid = r.next()) {
    auto ask = r.next();
    REQUIRE(bid->ok());
    REQUIRE(ask.has_value());
    REQUIRE(ask->ok());
    const auto& b = std::get<Bar>(bid->value());
    const auto& a = std::get<Bar>(ask->value());
    REQUIRE(b.price_type == PriceType::bid);
    REQUIRE(a.price_type == PriceType::ask);
    REQUIRE(a.symbol == b.symbol);
    REQUIRE(a.ts_start == b.ts_start);
    REQUIRE(a.ts_event == b.ts_event);
    REQUIRE(b.ts_start.has_value());
    REQUIRE(b.ts_event - *b.ts_start == 60 * core::kNsPerSecond);
    REQUIRE_FALSE(b.volume.has_value());
    if (b.close > a.close) ++negative_close_spread;
    ++rows;
  }
  CHECK(rows == 14'339);
  CHECK(negative_close_spread == 235);  // README: "In 235 bars bid_close > ask_close"
}

TEST_CASE("BTCUSDT trades carry the README's aggressor counts and IBM trades have no aggressor",
          "[marketdata][shared_data]") {
  auto count_sides = [](const std::string& file) {
    Reader r((shared_data_dir() / file).string());
    std::map<AggressorSide, int> n;
    while (auto rec = r.next()) {
      REQUIRE(rec->ok());
      ++n[std::get<Trade>(rec->value()).aggressor_side];
    }
    return n;
  };
  const auto btc = count_sides("trades_BTCUSDT_2020-02-22.csv");
  CHECK(btc.at(AggressorSide::buy) == 5'267);
  CHECK(btc.at(AggressorSide::sell) == 4'732);
  CHECK(btc.count(AggressorSide::none) == 0);
  const auto ibm = count_sides("trades_IBM_2013-10-08.csv");
  CHECK(ibm.at(AggressorSide::none) == 33'381);
  CHECK(ibm.size() == 1);
}

TEST_CASE("EURUSD quotes have no sizes and no ts_recv", "[marketdata][shared_data]") {
  Reader r((shared_data_dir() / "quotes_EURUSD_2014-05-06.csv").string());
  while (auto rec = r.next()) {
    REQUIRE(rec->ok());
    const auto& q = std::get<Quote>(rec->value());
    REQUIRE_FALSE(q.bid_size.has_value());
    REQUIRE_FALSE(q.ask_size.has_value());
    REQUIRE_FALSE(q.ts_recv.has_value());
    REQUIRE(q.bid < q.ask);  // README: 0 crossed, 0 locked rows
  }
}

TEST_CASE("the bundled gzip EURUSD file gives exactly the messages of the plain shared file", "[marketdata][gzip]") {
  Reader gz(bundled_eurusd().string());
  Reader plain((shared_data_dir() / "quotes_EURUSD_2014-05-06.csv").string());
  CHECK(gz.compressed());
  CHECK_FALSE(plain.compressed());
  CHECK(gz.format() == Format::quotes);
  std::int64_t n = 0;
  for (;;) {
    auto a = gz.next();
    auto b = plain.next();
    REQUIRE(a.has_value() == b.has_value());
    if (!a) break;
    REQUIRE(a->ok());
    REQUIRE(b->ok());
    REQUIRE(a->value() == b->value());
    REQUIRE(gz.line() == plain.line());
    ++n;
  }
  CHECK(n == 44'864);
  CHECK(gz.rows_ok() == 44'864);
  CHECK(gz.rows_bad() == 0);
}

TEST_CASE("a truncated gzip file yields its readable rows, then one read error, then the end", "[marketdata][gzip]") {
  std::ifstream in(bundled_eurusd(), std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  REQUIRE(bytes.size() > 100'000);
  const TempFile f(std::string_view(bytes).substr(0, bytes.size() / 2));
  Reader r(f.path());
  CHECK(r.compressed());
  const auto all = read_all(r);
  CHECK(all.messages.size() > 10'000);
  CHECK(all.messages.size() < 44'864);
  REQUIRE(all.errors.size() == 1);
  CHECK(all.errors[0].second.field.empty());
  CHECK_THAT(all.errors[0].second.message, Catch::Contains("read error"));
  CHECK(r.rows_bad() == 1);
  CHECK_FALSE(r.next().has_value());
}

// ---- malformed input --------------------------------------------------------------

namespace {

struct BadRowCase {
  std::string name;
  std::string content;        // header + rows; the bad row is line 3, between two good rows
  std::string field;          // expected Error::field
  std::string message;        // expected Error::message, exactly
};

}  // namespace

TEST_CASE("a malformed row gives an error naming its column and line, and reading continues", "[marketdata][errors]") {
  const std::string q = "ts_event,symbol,bid,ask\n1,EURUSD,1.1,1.2\n";
  const std::string q_end = "3,EURUSD,1.1,1.2\n";
  const std::string qs = "ts_event,symbol,bid,bid_size,ask,ask_size,ts_recv\n1,BTCUSDT,1,2,3,4,5\n";
  const std::string qs_end = "3,BTCUSDT,1,2,3,4,5\n";
  const std::string t = "ts_event,symbol,price,size,aggressor_side,trade_id\n1,BTCUSDT,1,2,buy,7\n";
  const std::string t_end = "3,BTCUSDT,1,2,sell,8\n";
  const std::string d = "date,symbol,open,high,low,close,volume\n2000-01-03,MSFT,1,2,0.5,1.5,100\n";
  const std::string d_end = "2000-01-05,MSFT,1,2,0.5,1.5,100\n";
  const std::string m = "ts_event,symbol,open,high,low,close\n60,X,1,2,0.5,1.5\n";
  const std::string m_end = "180,X,1,2,0.5,1.5\n";
  const std::string ba =
      "ts_start,ts_event,symbol,bid_open,bid_high,bid_low,bid_close,ask_open,ask_high,ask_low,ask_close\n"
      "0,60,GBPUSD,1,2,0.5,1.5,1.1,2.1,0.6,1.6\n";
  const std::string ba_end = "120,180,GBPUSD,1,2,0.5,1.5,1.1,2.1,0.6,1.6\n";
  const std::string kDec =
      "must be a positive decimal with at most 8 fractional digits, at most 92233720368.54775807, got ";
  const std::string kNonNeg =
      "must be a non-negative decimal with at most 8 fractional digits, at most 92233720368.54775807, got ";
  const std::string kTs =
      "must be an integer count of nanoseconds since 1970 (UTC), at most 4102444800000000000 (2100-01-01), got ";
  const std::string kSym = "must be 1 to 64 characters from [A-Za-z0-9_-], got ";
  const std::string kDate = "must be a date YYYY-MM-DD from 1970-01-01 to 2099-12-31, got ";

  const std::vector<BadRowCase> cases = {
      {"bad decimal", q + "2,EURUSD,abc,1.2\n" + q_end, "bid", "line 3: " + kDec + "\"abc\""},
      {"too many fractional digits", q + "2,EURUSD,1.1,1.123456789\n" + q_end, "ask",
       "line 3: " + kDec + "\"1.123456789\""},
      {"exponent", q + "2,EURUSD,1e-3,1.2\n" + q_end, "bid", "line 3: " + kDec + "\"1e-3\""},
      {"empty price", q + "2,EURUSD,,1.2\n" + q_end, "bid", "line 3: " + kDec + "\"\""},
      {"padded price", q + "2,EURUSD, 1.1,1.2\n" + q_end, "bid", "line 3: " + kDec + "\" 1.1\""},
      {"missing column", q + "2,EURUSD,1.1\n" + q_end, "", "line 3: expected 4 columns, got 3"},
      {"extra column", q + "2,EURUSD,1.1,1.2,9\n" + q_end, "", "line 3: expected 4 columns, got 5"},
      {"bad ts", q + "2x,EURUSD,1.1,1.2\n" + q_end, "ts_event", "line 3: " + kTs + "\"2x\""},
      {"fractional ts", q + "2.5,EURUSD,1.1,1.2\n" + q_end, "ts_event", "line 3: " + kTs + "\"2.5\""},
      {"ts overflow", q + "9223372036854775808,EURUSD,1.1,1.2\n" + q_end, "ts_event",
       "line 3: " + kTs + "\"9223372036854775808\""},
      {"plus-signed ts", q + "+2,EURUSD,1.1,1.2\n" + q_end, "ts_event", "line 3: " + kTs + "\"+2\""},
      {"lone minus ts", q + "-,EURUSD,1.1,1.2\n" + q_end, "ts_event", "line 3: " + kTs + "\"-\""},
      {"ts underflow", q + "-9223372036854775809,EURUSD,1.1,1.2\n" + q_end, "ts_event",
       "line 3: " + kTs + "\"-9223372036854775809\""},
      {"bad symbol", q + "2,EUR.USD,1.1,1.2\n" + q_end, "symbol", "line 3: " + kSym + "\"EUR.USD\""},
      {"empty symbol", q + "2,,1.1,1.2\n" + q_end, "symbol", "line 3: " + kSym + "\"\""},
      {"control byte in symbol", q + "2,EUR\x01USD,1.1,1.2\n" + q_end, "symbol",
       "line 3: " + kSym + "\"EUR\\x01USD\""},
      {"negative size", qs + "2,BTCUSDT,1,-2,3,4,5\n" + qs_end, "bid_size", "line 3: " + kNonNeg + "\"-2\""},
      {"bad ts_recv", qs + "2,BTCUSDT,1,2,3,4,x\n" + qs_end, "ts_recv", "line 3: " + kTs + "\"x\""},
      {"bad aggressor side", t + "2,BTCUSDT,1,2,BUYER,9\n" + t_end, "aggressor_side",
       "line 3: must be buy, sell, none or empty, got \"BUYER\""},
      {"negative trade size", t + "2,BTCUSDT,1,-0.5,buy,9\n" + t_end, "size", "line 3: " + kNonNeg + "\"-0.5\""},
      {"impossible date", d + "2001-02-29,MSFT,1,2,0.5,1.5,100\n" + d_end, "date",
       "line 3: " + kDate + "\"2001-02-29\""},
      {"date with time", d + "2001-02-01T00:00,MSFT,1,2,0.5,1.5,100\n" + d_end, "date",
       "line 3: " + kDate + "\"2001-02-01T00:00\""},
      {"negative volume", d + "2000-01-04,MSFT,1,2,0.5,1.5,-100\n" + d_end, "volume",
       "line 3: " + kNonNeg + "\"-100\""},
      {"bad bar close", m + "120,X,1,2,0.5,?\n" + m_end, "close", "line 3: " + kDec + "\"?\""},
      {"bad ask close in a bid/ask bar", ba + "60,120,GBPUSD,1,2,0.5,1.5,1.1,2.1,0.6,x\n" + ba_end, "ask_close",
       "line 3: " + kDec + "\"x\""},
      {"bad ts_start in a bid/ask bar", ba + "6o,120,GBPUSD,1,2,0.5,1.5,1.1,2.1,0.6,1.6\n" + ba_end, "ts_start",
       "line 3: " + kTs + "\"6o\""},
  };
  for (const auto& c : cases) {
    DYNAMIC_SECTION(c.name) {
      const TempFile f(c.content);
      Reader r(f.path());
      const auto per_row = r.format() == Format::bars_bid_ask ? 2u : 1u;
      const auto all = read_all(r);
      REQUIRE(all.errors.size() == 1);
      CHECK(all.errors[0].first == 3);
      CHECK(all.errors[0].second.field == c.field);
      CHECK(all.errors[0].second.message == c.message);
      CHECK(all.messages.size() == 2 * per_row);  // the rows before and after the bad one
      CHECK(ts_event_of(all.messages.back()) > ts_event_of(all.messages.front()));
      CHECK(r.rows_ok() == 2);
      CHECK(r.rows_bad() == 1);
      CHECK(r.line() == 4);
    }
  }
}

TEST_CASE("an unusable file or header throws naming the path and the problem", "[marketdata][errors]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "unrecognised header: the file is empty"},
      {"\n", "unrecognised header: \"\": expected the columns of quotes"},
      {"foo,bar\n1,2\n", "unrecognised header: \"foo,bar\": expected the columns of quotes"},
      {"ts_event,symbol,bid\n", "unrecognised header: \"ts_event,symbol,bid\": looks like quotes but lacks column(s) ask"},
      {"ts_event,symbol,bid,bid_size,ask\n",
       "looks like quotes_with_sizes but lacks column(s) ask_size"},
      {"symbol,price,size\n", "looks like trades but lacks column(s) ts_event"},
      {"date,symbol,open,close\n", "looks like daily_bars but lacks column(s) high, low"},
      {"ts_event,symbol,bid,ask,bid\n", "column \"bid\" appears twice"},
      {"TS_EVENT,SYMBOL,BID,ASK\n", "expected the columns of quotes"},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const auto& [content, message] = cases[i];
    DYNAMIC_SECTION("header case " << i << ": " << message) {
      const TempFile f(content);
      CHECK_THROWS_WITH(Reader(f.path()), Catch::StartsWith(f.path() + ": ") && Catch::Contains(message));
    }
  }
  SECTION("a missing file") {
    const auto path = (fs::temp_directory_path() / "marketdata_test_no_such_file.csv").string();
    CHECK_THROWS_WITH(Reader(path), path + ": cannot open: No such file or directory");
  }
  SECTION("a directory") {
    const auto path = fs::temp_directory_path().string();
    CHECK_THROWS_WITH(Reader(path), path + ": cannot open: Is a directory");
  }
}

// ---- layout tolerance -----------------------------------------------------------------

TEST_CASE("columns are found by name whatever their order, and extra columns are ignored", "[marketdata]") {
  const TempFile f("note,ask,symbol,ts_recv,ts_event,bid\nhello,1.2,EURUSD,11,10,1.1\n");
  Reader r(f.path());
  CHECK(r.format() == Format::quotes);
  auto rec = r.next();
  REQUIRE(rec.has_value());
  REQUIRE(rec->ok());
  CHECK(rec->value() == MarketData{Quote{.symbol = "EURUSD", .bid = dec("1.1"), .ask = dec("1.2"),
                                         .ts_event = 10, .ts_recv = 11}});
  CHECK_FALSE(r.next().has_value());
}

TEST_CASE("timestamps are accepted from 1970 to 2100, the range every decoder accepts (issue 11)", "[marketdata]") {
  const TempFile f(
      "ts_event,symbol,bid,ask\n4102444800000000000,A,1,2\n9223372036854775807,A,1,2\n0,A,1,2\n"
      "-1,A,1,2\n000000000000000000000042,A,1,2\n-9223372036854775808,A,1,2\n4102444800000000001,A,1,2\n");
  Reader r(f.path());
  const auto all = read_all(r);
  REQUIRE(all.messages.size() == 3);
  CHECK(ts_event_of(all.messages[0]) == 4'102'444'800'000'000'000);
  CHECK(ts_event_of(all.messages[1]) == 0);
  CHECK(ts_event_of(all.messages[2]) == 42);
  REQUIRE(all.errors.size() == 4);
  for (const auto& [line, e] : all.errors) CHECK(e.field == "ts_event");
}

TEST_CASE("a zero, negative or huge price is a bad row: the bus would refuse it (issue 11)", "[marketdata]") {
  const TempFile f("ts_event,symbol,bid,ask\n1,A,1,2\n2,A,0,2\n3,A,-5,-4\n4,A,1,99999999999\n5,A,1,2\n");
  Reader r(f.path());
  const auto all = read_all(r);
  CHECK(all.messages.size() == 2);
  REQUIRE(all.errors.size() == 3);
  CHECK(all.errors[0].second.field == "bid");
  CHECK(all.errors[1].second.field == "bid");
  CHECK(all.errors[2].second.field == "ask");
}

TEST_CASE("CRLF line ends, blank lines and a last line without a newline are read", "[marketdata]") {
  const TempFile f("ts_event,symbol,price,size\r\n1,IBM,10,100\r\n\r\n\n2,IBM,10.5,200");
  Reader r(f.path());
  CHECK(r.format() == Format::trades);
  const auto all = read_all(r);
  CHECK(all.errors.empty());
  REQUIRE(all.messages.size() == 2);
  CHECK(all.messages[1] == MarketData{Trade{.symbol = "IBM", .price = dec("10.5"), .size = dec("200"), .ts_event = 2}});
  CHECK(r.line() == 5);
  CHECK(r.rows_ok() == 2);
  CHECK(r.rows_bad() == 0);
}

TEST_CASE("trades without aggressor or trade id columns, or with them empty, have neither", "[marketdata]") {
  const TempFile f("ts_event,symbol,price,size,aggressor_side,trade_id\n1,X,1,1,,\n2,X,1,1,none,\n");
  Reader r(f.path());
  const auto all = read_all(r);
  REQUIRE(all.messages.size() == 2);
  for (const auto& m : all.messages) {
    CHECK(std::get<Trade>(m).aggressor_side == AggressorSide::none);
    CHECK_FALSE(std::get<Trade>(m).trade_id.has_value());
  }
}

TEST_CASE("a trade_id that is not 1-64 visible ASCII characters is a bad row naming trade_id (fuzz finding F3)",
          "[marketdata][errors]") {
  // The decoders' rule for identifiers: what the feed publishes must come back unchanged.
  const std::string kText =
      "must be at most 64 visible ASCII characters (no spaces, control characters or non-ASCII bytes), got ";
  const std::string id64(64, 'x');
  const TempFile f("ts_event,symbol,price,size,trade_id\n"
                   "1,BTCUSDT,9682,0.5,\xab" "42\n"        // line 2: not UTF-8 (F3's reproducer)
                   "2,BTCUSDT,9682,0.5,\xc3\xa9t\xc3\xa9\n"  // line 3: UTF-8, not ASCII
                   "3,BTCUSDT,9682,0.5,4\x01" "2\n"        // line 4: a control character
                   "4,BTCUSDT,9682,0.5,4 2\n"              // line 5: a space
                   "5,BTCUSDT,9682,0.5,4\x7f\n"            // line 6: DEL
                   "6,BTCUSDT,9682,0.5," + id64 + "x\n" +   // line 7: 65 characters
                   "7,BTCUSDT,9682,0.5," + id64 + "\n" +    // line 8: 64, fine
                   "8,BTCUSDT,9682,0.5,!~\"\\{}\n"         // line 9: visible punctuation, fine
                   "9,BTCUSDT,9682,0.5,\n");               // line 10: empty, no trade id
  Reader r(f.path());
  const auto all = read_all(r);
  REQUIRE(all.errors.size() == 6);
  const std::vector<std::pair<std::int64_t, std::string>> expected = {
      {2, "\"\\xab42\""}, {3, "\"\\xc3\\xa9t\\xc3\\xa9\""}, {4, "\"4\\x012\""},
      {5, "\"4 2\""},     {6, "\"4\\x7f\""},              {7, "\"" + id64 + "\"..."},
  };
  for (std::size_t i = 0; i < expected.size(); ++i) {
    CHECK(all.errors[i].first == expected[i].first);
    CHECK(all.errors[i].second.field == "trade_id");
    CHECK(all.errors[i].second.message == fmt::format("line {}: {}{}", expected[i].first, kText, expected[i].second));
  }
  REQUIRE(all.messages.size() == 3);
  CHECK(std::get<Trade>(all.messages[0]).trade_id == id64);
  CHECK(std::get<Trade>(all.messages[1]).trade_id == "!~\"\\{}");
  CHECK_FALSE(std::get<Trade>(all.messages[2]).trade_id.has_value());
  CHECK(r.rows_ok() == 3);
  CHECK(r.rows_bad() == 6);
}

TEST_CASE("plain OHLC bars with ts_event give trade bars, with ts_start and volume when present", "[marketdata]") {
  SECTION("ts_event only") {
    const TempFile f("ts_event,symbol,open,high,low,close\n60,SPY,1,2,0.5,1.5\n");
    Reader r(f.path());
    CHECK(r.format() == Format::bars);
    auto rec = r.next();
    REQUIRE(rec->ok());
    CHECK(rec->value() == MarketData{Bar{.symbol = "SPY", .open = dec("1"), .high = dec("2"), .low = dec("0.5"),
                                         .close = dec("1.5"), .price_type = PriceType::trade, .ts_event = 60}});
  }
  SECTION("with ts_start and volume") {
    const TempFile f("ts_start,ts_event,symbol,open,high,low,close,volume\n0,60,SPY,1,2,0.5,1.5,300\n");
    Reader r(f.path());
    CHECK(r.format() == Format::bars);
    auto rec = r.next();
    REQUIRE(rec->ok());
    CHECK(rec->value() == MarketData{Bar{.symbol = "SPY", .open = dec("1"), .high = dec("2"), .low = dec("0.5"),
                                         .close = dec("1.5"), .volume = dec("300"), .ts_start = 0, .ts_event = 60}});
  }
}

TEST_CASE("daily bars start at midnight UTC of their date and end one day later", "[marketdata]") {
  const TempFile f("symbol,date,close,low,high,open\nX,2000-02-29,4,1,5,2\nX,1970-01-01,4,1,5,2\n");
  Reader r(f.path());
  CHECK(r.format() == Format::daily_bars);
  const auto all = read_all(r);
  REQUIRE(all.errors.empty());
  REQUIRE(all.messages.size() == 2);
  const auto& leap = std::get<Bar>(all.messages[0]);
  CHECK(leap.ts_start == 951782400LL * core::kNsPerSecond);  // date -u -d 2000-02-29 +%s
  CHECK(leap.ts_event == 951782400LL * core::kNsPerSecond + core::kNsPerDay);
  CHECK(leap.open == dec("2"));
  CHECK(leap.high == dec("5"));
  CHECK_FALSE(leap.volume.has_value());
  CHECK(std::get<Bar>(all.messages[1]).ts_start == 0);
}

TEST_CASE("a line longer than the limit is one bad row and reading continues", "[marketdata][errors]") {
  std::string content = "ts_event,symbol,bid,ask\n1,EURUSD,1.1,1.2\n";
  content += "2,EURUSD,1.1,";
  content.append(Reader::kMaxLineBytes + 10, '1');
  content += "\n3,EURUSD,1.1,1.2\n";
  const TempFile f(content);
  Reader r(f.path());
  const auto all = read_all(r);
  REQUIRE(all.errors.size() == 1);
  CHECK(all.errors[0].first == 3);
  CHECK(all.errors[0].second.message == fmt::format("line 3: longer than {} bytes", Reader::kMaxLineBytes));
  CHECK(all.messages.size() == 2);
  CHECK(r.rows_bad() == 1);
}

TEST_CASE("a line just under the limit is read", "[marketdata]") {
  std::string content = "ts_event,symbol,bid,ask,note\n";
  const std::string head = "1,EURUSD,1.1,1.2,";
  content += head;
  content.append(Reader::kMaxLineBytes - head.size(), 'x');
  content += "\n2,EURUSD,1.1,1.2,y\n";
  const TempFile f(content);
  Reader r(f.path());
  const auto all = read_all(r);
  CHECK(all.errors.empty());
  CHECK(all.messages.size() == 2);
}

TEST_CASE("a moved Reader keeps reading where the original stopped", "[marketdata]") {
  const TempFile f("ts_event,symbol,bid,ask\n1,A,1,2\n2,B,1,2\n");
  Reader a(f.path());
  REQUIRE(a.next()->ok());
  Reader b(std::move(a));
  auto rec = b.next();
  REQUIRE(rec->ok());
  CHECK(std::get<Quote>(rec->value()).symbol == "B");
  CHECK(b.line() == 3);
  CHECK_FALSE(b.next().has_value());
}

TEST_CASE("formats have their enumerator names as text", "[marketdata]") {
  CHECK(marketdata::to_string(Format::quotes) == "quotes");
  CHECK(marketdata::to_string(Format::quotes_with_sizes) == "quotes_with_sizes");
  CHECK(marketdata::to_string(Format::trades) == "trades");
  CHECK(marketdata::to_string(Format::bars_bid_ask) == "bars_bid_ask");
  CHECK(marketdata::to_string(Format::bars) == "bars");
  CHECK(fmt::format("{:>12}", Format::daily_bars) == "  daily_bars");
}

TEST_CASE("tiny buffers read every shared data file exactly as the defaults do", "[marketdata][shared_data]") {
  // A 2-byte line buffer grows on nearly every line; zlib at its default buffer.
  for (const auto& c : file_cases()) {
    DYNAMIC_SECTION(c.file) {
      const auto path = (shared_data_dir() / c.file).string();
      Reader big(path);
      Reader tiny(path, Reader::Buffers{.line = 2, .zlib = 0});
      std::int64_t n = 0;
      for (;;) {
        auto a = big.next();
        auto b = tiny.next();
        REQUIRE(a.has_value() == b.has_value());
        if (!a) break;
        REQUIRE(static_cast<bool>(*a) == static_cast<bool>(*b));
        if (*a) REQUIRE(describe(a->value()) == describe(b->value()));
        else REQUIRE(a->error().message == b->error().message);
        REQUIRE(big.line() == tiny.line());
        ++n;
      }
      CHECK(n > 0);
      CHECK(n == c.messages);
    }
  }
}
