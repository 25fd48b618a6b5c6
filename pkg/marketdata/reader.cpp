#include "marketdata/reader.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <span>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "subjects/subjects.hpp"

namespace marketdata {

std::string_view to_string(Format f) noexcept {
  switch (f) {
    case Format::quotes: return "quotes";
    case Format::quotes_with_sizes: return "quotes_with_sizes";
    case Format::trades: return "trades";
    case Format::bars_bid_ask: return "bars_bid_ask";
    case Format::bars: return "bars";
    case Format::daily_bars: return "daily_bars";
  }
  return "unknown";
}

namespace {

constexpr std::size_t kMaxShownValue = 64;    // longest offending value quoted in an error
constexpr std::size_t kMaxShownHeader = 512;  // longest header quoted in an error

struct GzClose {
  void operator()(gzFile f) const noexcept { gzclose(f); }
};
using GzPtr = std::unique_ptr<gzFile_s, GzClose>;

/// `"value"` for an error message: truncated, with quotes, backslashes and
/// non-printable bytes escaped so a binary line cannot garble a log.
std::string quoted(std::string_view v, std::size_t max_shown = kMaxShownValue) {
  std::string out = "\"";
  const bool cut = v.size() > max_shown;
  if (cut) v = v.substr(0, max_shown);
  for (const char c : v) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u >= 0x7f) {
      out += fmt::format("\\x{:02x}", u);
    } else {
      out += c;
    }
  }
  out += cut ? "\"..." : "\"";
  return out;
}

/// Base-10 int64, optional leading '-', nothing else. Timestamps have 19 digits, so
/// this is the hot path: up to 19 digits accumulate in a uint64 without overflow.
bool parse_int64(std::string_view s, std::int64_t& out) noexcept {
  const char* p = s.data();
  const char* const e = p + s.size();
  const bool negative = p != e && *p == '-';
  if (negative) ++p;
  if (p == e) return false;
  if (e - p > 19) {  // leading zeros or out of range: let the library decide
    const auto [q, ec] = std::from_chars(s.data(), e, out);
    return ec == std::errc{} && q == e;
  }
  std::uint64_t v = 0;
  for (; p != e; ++p) {
    const auto d = static_cast<unsigned>(static_cast<unsigned char>(*p) - '0');
    if (d > 9) return false;
    v = v * 10 + d;
  }
  constexpr auto kMax = static_cast<std::uint64_t>(INT64_MAX);
  if (v > kMax + (negative ? 1 : 0)) return false;
  out = negative ? static_cast<std::int64_t>(0 - v) : static_cast<std::int64_t>(v);
  return true;
}

/// A decimal in the wire range (decimal.hpp), whatever its sign.
bool parse_wire_decimal(std::string_view s, core::Decimal& out) noexcept {
  const auto d = core::Decimal::parse(s);
  if (!d || !d->in_wire_range()) return false;
  out = *d;
  return true;
}

/// A price: in the wire range and > 0 (a quote with a bid of -5 or an ask of 0 is
/// a bad row, as the decoders refuse it on the bus: issue 11).
bool parse_decimal(std::string_view s, core::Decimal& out) noexcept {
  return parse_wire_decimal(s, out) && out.is_positive();
}

bool parse_non_negative(std::string_view s, core::Decimal& out) noexcept {
  return parse_wire_decimal(s, out) && !out.is_negative();
}

/// A timestamp: an int64 of ns UTC, 0 .. 2100-01-01 (the decoders' range).
bool parse_ts(std::string_view s, std::int64_t& out) noexcept {
  return parse_int64(s, out) && out >= 0 && out <= 4'102'444'800'000'000'000;
}

constexpr bool is_leap(int y) noexcept { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

/// Strict "YYYY-MM-DD" (1970-01-01 .. 2099-12-31, the range of the decoders' times) to
/// midnight UTC in ns.
bool parse_date(std::string_view s, core::TimestampNs& out) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  int y = 0, m = 0, d = 0;
  auto digits = [&](std::size_t pos, std::size_t n, int& v) {
    const auto [p, ec] = std::from_chars(s.data() + pos, s.data() + pos + n, v);
    return ec == std::errc{} && p == s.data() + pos + n && s[pos] != '-' && s[pos] != '+';
  };
  if (!digits(0, 4, y) || !digits(5, 2, m) || !digits(8, 2, d)) return false;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (y < 1970 || y > 2099 || m < 1 || m > 12 || d < 1) return false;
  if (d > kDays[m - 1] + (m == 2 && is_leap(y) ? 1 : 0)) return false;
  out = core::days_from_civil_ns(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
  return true;
}

constexpr std::string_view kTsText =
    "must be an integer count of nanoseconds since 1970 (UTC), at most 4102444800000000000 (2100-01-01)";
constexpr std::string_view kDecimalText =
    "must be a positive decimal with at most 8 fractional digits, at most 92233720368.54775807";
constexpr std::string_view kNonNegativeText =
    "must be a non-negative decimal with at most 8 fractional digits, at most 92233720368.54775807";
constexpr std::string_view kSymbolText = "must be 1 to 64 characters from [A-Za-z0-9_-]";
constexpr std::string_view kDateText = "must be a date YYYY-MM-DD from 1970-01-01 to 2099-12-31";
constexpr std::string_view kAggressorText = "must be buy, sell, none or empty";
constexpr std::string_view kTradeIdText =
    "must be at most 64 visible ASCII characters (no spaces, control characters or non-ASCII bytes)";

// Column slots. The header maps each known name to its column index.
enum Col : int {
  c_ts_event, c_ts_start, c_ts_recv, c_date, c_symbol,
  c_bid, c_ask, c_bid_size, c_ask_size,
  c_price, c_size, c_aggressor_side, c_trade_id,
  c_open, c_high, c_low, c_close, c_volume,
  c_bid_open, c_bid_high, c_bid_low, c_bid_close,
  c_ask_open, c_ask_high, c_ask_low, c_ask_close,
  c_count
};

constexpr std::string_view kColName[c_count] = {
    "ts_event", "ts_start", "ts_recv", "date", "symbol",
    "bid", "ask", "bid_size", "ask_size",
    "price", "size", "aggressor_side", "trade_id",
    "open", "high", "low", "close", "volume",
    "bid_open", "bid_high", "bid_low", "bid_close",
    "ask_open", "ask_high", "ask_low", "ask_close",
};

constexpr Col kBarsBidAskCols[] = {c_ts_event, c_symbol,   c_bid_open, c_bid_high, c_bid_low,
                                   c_bid_close, c_ask_open, c_ask_high, c_ask_low,  c_ask_close};
constexpr Col kDailyBarsCols[] = {c_date, c_symbol, c_open, c_high, c_low, c_close};
constexpr Col kBarsCols[] = {c_ts_event, c_symbol, c_open, c_high, c_low, c_close};
constexpr Col kTradesCols[] = {c_ts_event, c_symbol, c_price, c_size};
constexpr Col kQuotesWithSizesCols[] = {c_ts_event, c_symbol, c_bid, c_bid_size, c_ask, c_ask_size};
constexpr Col kQuotesCols[] = {c_ts_event, c_symbol, c_bid, c_ask};

struct FormatSpec {
  Format format;
  Col marker;  // a column that, when present, selects this format (first match wins)
  std::span<const Col> required;
};

// Tried in order: the first spec whose marker column is present decides the format.
constexpr FormatSpec kSpecs[] = {
    {Format::bars_bid_ask, c_bid_open, kBarsBidAskCols},
    {Format::daily_bars, c_date, kDailyBarsCols},
    {Format::bars, c_open, kBarsCols},
    {Format::trades, c_price, kTradesCols},
    {Format::quotes_with_sizes, c_bid_size, kQuotesWithSizesCols},
    {Format::quotes_with_sizes, c_ask_size, kQuotesWithSizesCols},
    {Format::quotes, c_bid, kQuotesCols},
    {Format::quotes, c_ask, kQuotesCols},
};

}  // namespace

struct Reader::Impl {
  enum class LineStatus { line, too_long, eof, error };

  std::string path;
  GzPtr gz;
  Format format = Format::quotes;
  bool compressed = false;
  bool done = false;

  // Input buffer: bytes [begin, end) are read but not yet consumed.
  std::vector<char> buf;
  std::size_t begin = 0;
  std::size_t end = 0;
  bool eof = false;
  bool skipping = false;  // discarding the rest of an over-long line

  std::int64_t line = 0;
  std::int64_t ok = 0;
  std::int64_t bad = 0;
  BadRow bad_kind = BadRow::malformed;

  std::size_t ncols = 0;
  int col[c_count];                    // column index per slot, -1 if absent
  std::vector<std::string_view> fields;  // reused per row
  std::optional<core::Bar> pending;      // the ask bar of a bars_bid_ask row

  [[noreturn]] void fail(std::string_view what, std::string_view why) const {
    throw std::runtime_error(fmt::format("{}: {}: {}", path, what, why));
  }

  int zlib_code() const noexcept {
    int code = Z_OK;
    gzerror(gz.get(), &code);
    return code;
  }

  std::string zlib_error() const {
    int code = Z_OK;
    const char* msg = gzerror(gz.get(), &code);
    if (code == Z_ERRNO) return std::generic_category().message(errno);
    std::string_view text = msg != nullptr ? msg : "unknown zlib error";
    // zlib prefixes its own name for the stream ("<fd:3>: "); the caller names the file.
    if (text.substr(0, 4) == "<fd:") {
      if (const auto colon = text.find(": "); colon != std::string_view::npos) text.remove_prefix(colon + 2);
    }
    return std::string(text);
  }

  /// Next line without its "\n" (and "\r"), valid until the next call.
  LineStatus read_line(std::string_view& out) {
    for (;;) {
      const char* base = buf.data();
      const void* nl = begin < end ? std::memchr(base + begin, '\n', end - begin) : nullptr;
      if (nl != nullptr) {
        const auto pos = static_cast<std::size_t>(static_cast<const char*>(nl) - base);
        out = std::string_view(base + begin, pos - begin);
        begin = pos + 1;
        ++line;
        if (skipping) {
          skipping = false;
          return LineStatus::too_long;
        }
        if (!out.empty() && out.back() == '\r') out.remove_suffix(1);
        return LineStatus::line;
      }
      if (eof) {
        if (begin == end && !skipping) return LineStatus::eof;
        out = std::string_view(base + begin, end - begin);
        begin = end;
        ++line;
        if (skipping) {
          skipping = false;
          return LineStatus::too_long;
        }
        if (!out.empty() && out.back() == '\r') out.remove_suffix(1);
        return LineStatus::line;
      }
      // No complete line buffered: keep the partial line, make room, read more.
      if (begin > 0) {
        std::memmove(buf.data(), buf.data() + begin, end - begin);
        end -= begin;
        begin = 0;
      }
      if (end == buf.size()) {
        if (buf.size() < kMaxLineBytes + 1) {
          buf.resize(std::min(buf.size() * 2, kMaxLineBytes + 1));
        } else {
          skipping = true;  // drop what we have; keep dropping up to the next newline
          begin = end = 0;
        }
      }
      const int n = gzread(gz.get(), buf.data() + end, static_cast<unsigned>(buf.size() - end));
      if (n < 0) return LineStatus::error;
      if (n == 0) {
        // gzread reports a truncated gzip stream as a plain end of file; only the
        // error state tells them apart. Never hand out the cut-off last line.
        if (zlib_code() != Z_OK) return LineStatus::error;
        eof = true;
      } else {
        end += static_cast<std::size_t>(n);
      }
    }
  }

  void open(const std::string& p, const Reader::Buffers& sizes) {
    path = p;
    const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) fail("cannot open", std::generic_category().message(errno));
    struct stat st {};
    if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
      ::close(fd);
      fail("cannot open", std::generic_category().message(EISDIR));
    }
    gz.reset(gzdopen(fd, "rb"));  // takes ownership of fd on success
    if (!gz) {
      ::close(fd);
      fail("cannot open", "zlib could not allocate its state");
    }
    if (sizes.zlib != 0) gzbuffer(gz.get(), sizes.zlib);
    buf.resize(std::clamp<std::size_t>(sizes.line, 2, kMaxLineBytes + 1));
  }

  void read_header() {
    std::string_view header;
    switch (read_line(header)) {
      case LineStatus::eof: fail("unrecognised header", "the file is empty");
      case LineStatus::error: fail("cannot read", zlib_error());
      case LineStatus::too_long:
        fail("unrecognised header", fmt::format("line 1 is longer than {} bytes", kMaxLineBytes));
      case LineStatus::line: break;
    }
    compressed = gzdirect(gz.get()) == 0;
    if (header.substr(0, 3) == "\xEF\xBB\xBF") header.remove_prefix(3);  // UTF-8 BOM
    const std::string shown = quoted(header, kMaxShownHeader);

    std::fill(std::begin(col), std::end(col), -1);
    std::vector<std::string_view> names;
    for (std::size_t p = 0;;) {
      const auto c = header.find(',', p);
      names.push_back(header.substr(p, c == std::string_view::npos ? c : c - p));
      if (c == std::string_view::npos) break;
      p = c + 1;
    }
    ncols = names.size();
    for (std::size_t i = 0; i < names.size(); ++i) {
      for (std::size_t j = 0; j < i; ++j) {
        if (!names[i].empty() && names[i] == names[j]) {
          fail("unrecognised header", fmt::format("{}: column {} appears twice", shown, quoted(names[i])));
        }
      }
      for (int k = 0; k < c_count; ++k) {
        if (names[i] == kColName[k]) col[k] = static_cast<int>(i);
      }
    }
    for (const auto& spec : kSpecs) {
      if (col[spec.marker] < 0) continue;
      std::string missing;
      for (const Col c : spec.required) {
        if (col[c] >= 0) continue;
        if (!missing.empty()) missing += ", ";
        missing += kColName[c];
      }
      if (!missing.empty()) {
        fail("unrecognised header",
             fmt::format("{}: looks like {} but lacks column(s) {}", shown, to_string(spec.format), missing));
      }
      format = spec.format;
      fields.resize(ncols);
      return;
    }
    fail("unrecognised header",
         fmt::format("{}: expected the columns of quotes (ts_event,symbol,bid,ask[,bid_size,ask_size]), "
                     "trades (ts_event,symbol,price,size), bars (ts_event,symbol,open,high,low,close), "
                     "bid/ask bars (ts_event,symbol,bid_open..ask_close) or daily bars "
                     "(date,symbol,open,high,low,close)",
                     shown));
  }

  // ---- rows ------------------------------------------------------------------
  // Records are built in place inside the returned optional<Result<MarketData>>
  // (one object per call, returned by NRVO), so a row costs no variant moves.

  using Record = std::optional<core::Result<core::MarketData>>;

  void set_bad_row(Record& out, std::string_view field, std::string message) {
    ++bad;
    bad_kind = BadRow::malformed;
    out.emplace(core::Error{std::string(field), std::move(message)});
  }

  void set_bad_value(Record& out, Col c, std::string_view text) {
    std::string_view what;
    switch (c) {
      case c_ts_event: case c_ts_start: case c_ts_recv: what = kTsText; break;
      case c_date: what = kDateText; break;
      case c_symbol: what = kSymbolText; break;
      case c_aggressor_side: what = kAggressorText; break;
      case c_trade_id: what = kTradeIdText; break;
      case c_bid_size: case c_ask_size: case c_size: case c_volume: what = kNonNegativeText; break;
      default: what = kDecimalText; break;
    }
    set_bad_row(out, kColName[c], fmt::format("line {}: {}, got {}", line, what, quoted(text)));
  }

  /// A price that is not a positive decimal: "line 17: non-positive price: ask 0.00" when it
  /// is a decimal <= 0 (BadRow::non_positive_price), else as set_bad_value.
  void set_bad_price(Record& out, Col c, std::string_view text) {
    core::Decimal d;
    if (!parse_wire_decimal(text, d) || d.is_positive()) return set_bad_value(out, c, text);
    set_bad_row(out, kColName[c], fmt::format("line {}: non-positive price: {} {}", line, kColName[c], text));
    bad_kind = BadRow::non_positive_price;
  }

  /// Makes `out` hold a default T and returns it for filling in.
  template <class T>
  static T& emplace(Record& out) {
    return std::get<T>(out.emplace(core::MarketData{std::in_place_type<T>}).value());
  }

  std::string_view field(Col c) const { return fields[static_cast<std::size_t>(col[c])]; }
  bool has(Col c) const { return col[c] >= 0; }

  /// Splits `row` into `fields`; returns the number of columns found.
  std::size_t split(std::string_view row) {
    std::size_t n = 0;
    const char* p = row.data();
    const char* const e = p + row.size();
    for (;;) {
      const auto* c = static_cast<const char*>(std::memchr(p, ',', static_cast<std::size_t>(e - p)));
      const char* stop = c != nullptr ? c : e;
      if (n < ncols) fields[n] = std::string_view(p, static_cast<std::size_t>(stop - p));
      ++n;
      if (c == nullptr) return n;
      p = c + 1;
    }
  }

  static bool parse_symbol(std::string_view s, std::string& out) {
    if (!subjects::is_valid_symbol(s)) return false;
    out.assign(s);
    return true;
  }

  /// A trade id as the decoders take one (codec decode.cpp's rule for identifiers):
  /// at most 64 characters, each visible ASCII (0x21-0x7E). The feed publishes what it
  /// reads, so anything else is a bad row: invalid UTF-8 would be published as U+FFFD
  /// (fuzz finding F3), a space or a control character refused by every worker.
  static bool parse_trade_id(std::string_view s, std::string& out) {
    constexpr std::size_t kMaxTradeIdLen = 64;
    if (s.size() > kMaxTradeIdLen || !std::all_of(s.begin(), s.end(), [](char c) { return c > 0x20 && c < 0x7F; }))
      return false;
    out.assign(s);
    return true;
  }

// Parses column C with FN into OUT, or makes `out` the row's error and returns.
#define MD_FIELD(C, FN, OUT)                \
  if (!FN(field(C), OUT)) {                 \
    set_bad_value(out, C, field(C));        \
    return;                                 \
  }
// The same for a price: a decimal <= 0 is a bad row of its own kind (BadRow::non_positive_price).
#define MD_PRICE(C, OUT)                    \
  if (!parse_decimal(field(C), OUT)) {      \
    set_bad_price(out, C, field(C));        \
    return;                                 \
  }

  /// Parses one non-blank row into `out` (a record, or an Error counted in `bad`).
  void parse_row(std::string_view row, Record& out) {
    const std::size_t n = split(row);
    if (n != ncols) {
      set_bad_row(out, "", fmt::format("line {}: expected {} columns, got {}", line, ncols, n));
      return;
    }
    switch (format) {
      case Format::quotes:
      case Format::quotes_with_sizes: {
        auto& q = emplace<core::Quote>(out);
        MD_FIELD(c_ts_event, parse_ts, q.ts_event);
        MD_FIELD(c_symbol, parse_symbol, q.symbol);
        MD_PRICE(c_bid, q.bid);
        if (format == Format::quotes_with_sizes) {
          MD_FIELD(c_bid_size, parse_non_negative, q.bid_size.emplace());
        }
        MD_PRICE(c_ask, q.ask);
        if (format == Format::quotes_with_sizes) {
          MD_FIELD(c_ask_size, parse_non_negative, q.ask_size.emplace());
        }
        if (has(c_ts_recv)) {
          MD_FIELD(c_ts_recv, parse_ts, q.ts_recv.emplace());
        }
        break;
      }
      case Format::trades: {
        auto& t = emplace<core::Trade>(out);
        MD_FIELD(c_ts_event, parse_ts, t.ts_event);
        MD_FIELD(c_symbol, parse_symbol, t.symbol);
        MD_PRICE(c_price, t.price);
        MD_FIELD(c_size, parse_non_negative, t.size);
        if (has(c_aggressor_side) && !field(c_aggressor_side).empty()) {
          const auto side = core::parse_aggressor_side(field(c_aggressor_side));
          if (!side) {
            set_bad_value(out, c_aggressor_side, field(c_aggressor_side));
            return;
          }
          t.aggressor_side = *side;
        }
        if (has(c_trade_id) && !field(c_trade_id).empty()) {
          MD_FIELD(c_trade_id, parse_trade_id, t.trade_id.emplace());
        }
        if (has(c_ts_recv)) {
          MD_FIELD(c_ts_recv, parse_ts, t.ts_recv.emplace());
        }
        break;
      }
      case Format::bars: {
        auto& b = emplace<core::Bar>(out);
        if (has(c_ts_start)) {
          MD_FIELD(c_ts_start, parse_ts, b.ts_start.emplace());
        }
        MD_FIELD(c_ts_event, parse_ts, b.ts_event);
        MD_FIELD(c_symbol, parse_symbol, b.symbol);
        MD_PRICE(c_open, b.open);
        MD_PRICE(c_high, b.high);
        MD_PRICE(c_low, b.low);
        MD_PRICE(c_close, b.close);
        if (has(c_volume)) {
          MD_FIELD(c_volume, parse_non_negative, b.volume.emplace());
        }
        break;
      }
      case Format::daily_bars: {
        auto& b = emplace<core::Bar>(out);
        MD_FIELD(c_date, parse_date, b.ts_start.emplace());
        b.ts_event = *b.ts_start + core::kNsPerDay;
        MD_FIELD(c_symbol, parse_symbol, b.symbol);
        MD_PRICE(c_open, b.open);
        MD_PRICE(c_high, b.high);
        MD_PRICE(c_low, b.low);
        MD_PRICE(c_close, b.close);
        if (has(c_volume)) {
          MD_FIELD(c_volume, parse_non_negative, b.volume.emplace());
        }
        break;
      }
      case Format::bars_bid_ask: {
        // Validate the whole row before anything is handed out: a bad row gives no bar.
        auto& bid = emplace<core::Bar>(out);
        bid.price_type = core::PriceType::bid;
        if (has(c_ts_start)) {
          MD_FIELD(c_ts_start, parse_ts, bid.ts_start.emplace());
        }
        MD_FIELD(c_ts_event, parse_ts, bid.ts_event);
        MD_FIELD(c_symbol, parse_symbol, bid.symbol);
        MD_PRICE(c_bid_open, bid.open);
        MD_PRICE(c_bid_high, bid.high);
        MD_PRICE(c_bid_low, bid.low);
        MD_PRICE(c_bid_close, bid.close);
        core::Bar ask;
        MD_PRICE(c_ask_open, ask.open);
        MD_PRICE(c_ask_high, ask.high);
        MD_PRICE(c_ask_low, ask.low);
        MD_PRICE(c_ask_close, ask.close);
        ask.symbol = bid.symbol;
        ask.price_type = core::PriceType::ask;
        ask.ts_start = bid.ts_start;
        ask.ts_event = bid.ts_event;
        pending.emplace(std::move(ask));
        break;
      }
    }
    ++ok;
  }
#undef MD_FIELD
#undef MD_PRICE

  Record next() {
    Record out;  // every path returns this object, so it is constructed in the caller
    if (pending) {
      out.emplace(core::MarketData{std::move(*pending)});
      pending.reset();
      return out;
    }
    while (!done) {
      std::string_view row;
      switch (read_line(row)) {
        case LineStatus::eof:
          done = true;
          return out;
        case LineStatus::error:
          done = true;
          set_bad_row(out, "", fmt::format("line {}: read error: {}", line + 1, zlib_error()));
          return out;
        case LineStatus::too_long:
          set_bad_row(out, "", fmt::format("line {}: longer than {} bytes", line, kMaxLineBytes));
          return out;
        case LineStatus::line:
          if (row.empty()) continue;  // blank line
          parse_row(row, out);
          return out;
      }
    }
    return out;
  }
};

Reader::Reader(const std::string& path) : Reader(path, Buffers{}) {}

Reader::Reader(const std::string& path, Buffers buffers) : impl_(std::make_unique<Impl>()) {
  impl_->open(path, buffers);
  impl_->read_header();
}

Reader::~Reader() = default;
Reader::Reader(Reader&&) noexcept = default;
Reader& Reader::operator=(Reader&&) noexcept = default;

Format Reader::format() const noexcept { return impl_->format; }
const std::string& Reader::path() const noexcept { return impl_->path; }
bool Reader::compressed() const noexcept { return impl_->compressed; }
std::optional<core::Result<core::MarketData>> Reader::next() { return impl_->next(); }
std::int64_t Reader::line() const noexcept { return impl_->line; }
std::int64_t Reader::rows_ok() const noexcept { return impl_->ok; }
std::int64_t Reader::rows_bad() const noexcept { return impl_->bad; }
Reader::BadRow Reader::last_bad_row() const noexcept { return impl_->bad_kind; }

}  // namespace marketdata
