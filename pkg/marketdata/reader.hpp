/// @file reader.hpp
/// @brief Streaming reader for the recorded market data CSV files (shared/data/README.md).
///
/// The format is recognised from the header line. Columns are found by name, so
/// their order and any extra columns do not matter:
///
/// | Format              | required columns                                   | optional columns                  | messages per row |
/// |---------------------|----------------------------------------------------|-----------------------------------|------------------|
/// | `quotes_with_sizes` | ts_event symbol bid bid_size ask ask_size          | ts_recv                           | 1 `Quote`        |
/// | `quotes`            | ts_event symbol bid ask                            | ts_recv                           | 1 `Quote`        |
/// | `trades`            | ts_event symbol price size                         | aggressor_side trade_id ts_recv   | 1 `Trade`        |
/// | `bars_bid_ask`      | ts_event symbol bid_open bid_high bid_low bid_close ask_open ask_high ask_low ask_close | ts_start | 2 `Bar`: bid, then ask |
/// | `bars`              | ts_event symbol open high low close                | ts_start volume                   | 1 `Bar` (trade)  |
/// | `daily_bars`        | date symbol open high low close                    | volume                            | 1 `Bar` (trade)  |
///
/// One column decides the format, tried in this order: `bid_open` -> bars_bid_ask,
/// `date` -> daily_bars, `open` -> bars, `price` -> trades, `bid_size` or `ask_size` ->
/// quotes_with_sizes, `bid` or `ask` -> quotes. The format's other required columns
/// must then be present; names are exact (lowercase) and must not repeat.
///
/// Daily bars: `date` is the exchange-local trading date (YYYY-MM-DD). The bar gets
/// `ts_start` = midnight UTC of that date and `ts_event` = `ts_start` + 1 day (the
/// bar's end, so a replay never publishes it before its day is over). The exchange's
/// local close time (16:00 New York for US equities) is NOT modelled.
///
/// Input: plain text or gzip. zlib recognises gzip by its magic bytes (1f 8b) and
/// reads anything else as it is, so `data.csv` and `data.csv.gz` read the same.
/// Reading streams through a fixed buffer: memory stays constant whatever the file
/// size (a single line may be at most `Reader::kMaxLineBytes` long).
/// Lines end with "\n" (a trailing "\r" is dropped); blank lines are skipped.
/// Fields are not quoted (the recorded files never need quoting).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "core/messages.hpp"
#include "core/result.hpp"

namespace marketdata {

/// Which kind of file a `Reader` recognised (see the table above).
enum class Format { quotes, quotes_with_sizes, trades, bars_bid_ask, bars, daily_bars };

/// The enumerator's name, e.g. "bars_bid_ask". Pure, thread-safe.
std::string_view to_string(Format) noexcept;

/// Reads one recorded market data file record by record.
///
/// RAII over a zlib `gzFile`: the constructor opens the file and reads its header,
/// the destructor closes it. Move-only; a moved-from Reader may only be destroyed or
/// assigned to. Not thread-safe: use one Reader per thread.
///
/// Validation per row (a bad row is reported and skipped, never thrown):
/// - the row has exactly as many columns as the header;
/// - timestamps (`ts_event`, `ts_start`, `ts_recv`) are base-10 int64 nanoseconds
///   from 0 to 4102444800000000000 (2100-01-01), the range every decoder accepts;
/// - `date` is a valid `YYYY-MM-DD` from 1970-01-01 to 2099-12-31;
/// - `symbol` passes `subjects::is_valid_symbol`;
/// - prices are exact decimals (`core::Decimal::parse`, never via double), > 0 and
///   in the wire range (|x| <= 92233720368.54775807, core::Decimal::in_wire_range):
///   a zero or negative price is a bad row, as the decoders refuse it on the bus, of its
///   own kind (last_bad_row() == BadRow::non_positive_price, message
///   "line 17: non-positive price: ask 0.00"; the feed counts it as data quality,
///   marketdata/quality.hpp);
///   sizes and volumes are exact decimals >= 0 in the wire range;
/// - `aggressor_side` is "buy", "sell", "none" or empty (none);
/// - `trade_id` is empty (absent) or at most 64 visible ASCII characters, 0x21-0x7E
///   (the decoders' rule for identifiers: no spaces, control characters or non-ASCII).
/// Nothing else is checked here: crossed quotes, out-of-order times and odd OHLC
/// values are real data (shared/data/README.md lists some) and are passed through;
/// the feed drops or flags them by its policy (marketdata/quality.hpp), and the workers
/// flag whatever still reaches them (core/market_check.hpp) and never fill against it.
class Reader {
 public:
  /// Longest accepted line, newline excluded. A longer line is reported as a bad row.
  static constexpr std::size_t kMaxLineBytes = 1 << 20;

  /// Opens `path` (plain or gzip) and recognises its format from the header line.
  /// Throws std::runtime_error:
  /// - "<path>: cannot open: <errno text>" if the file cannot be opened (or is a directory);
  /// - "<path>: cannot read: <zlib text>" if reading the header fails;
  /// - "<path>: unrecognised header: <why>" if the file is empty or the header matches
  ///   no format (names the header line and what is missing or duplicated).
  explicit Reader(const std::string& path);
  /// Buffer sizes (bytes). The defaults suit large files; the line buffer grows (doubling,
  /// up to kMaxLineBytes + 1) whatever it starts at, so smaller ones only mean more reads.
  /// The fuzz harness starts small: every Reader zero-fills its line buffer and zlib
  /// allocates twice `zlib_buffer`, which under AddressSanitizer cost ~13 ms per input.
  struct Buffers {
    std::size_t line = 256 * 1024;  ///< initial line buffer (>= 2)
    unsigned zlib = 128 * 1024;     ///< zlib's gzbuffer (>= 8192 is zlib's advice; 0 = zlib's default 8192)
  };
  /// The same, with buffer sizes other than the defaults.
  Reader(const std::string& path, Buffers buffers);
  ~Reader();
  Reader(Reader&&) noexcept;
  Reader& operator=(Reader&&) noexcept;
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  /// The format recognised from the header.
  Format format() const noexcept;
  /// The path given to the constructor.
  const std::string& path() const noexcept;
  /// True if the input is gzip-compressed, false if it is plain text.
  bool compressed() const noexcept;

  /// The next record, in file order; std::nullopt at end of file (and on every call after).
  /// A `bars_bid_ask` row gives two records: its bid Bar, then its ask Bar.
  /// A bad row gives an Error and reading continues with the next row. The Error's
  /// `field` is the offending column's name ("" when the row as a whole is wrong,
  /// e.g. a wrong number of columns) and its message starts with the line number:
  /// `{field: "bid", message: "line 17: must be a decimal with at most 8 fractional digits, got \"abc\""}`.
  /// When a row has several bad fields, only the first is reported.
  /// If the data cannot be read (a corrupt or truncated gzip stream) the Error has
  /// field "" and a "read error" message, counts as a bad row, and ends the stream.
  /// Never throws except std::bad_alloc.
  std::optional<core::Result<core::MarketData>> next();

  /// 1-based number of the line the latest record came from (1, the header, before
  /// the first `next()`).
  std::int64_t line() const noexcept;
  /// Data rows read so far that gave records (a bars_bid_ask row counts once).
  std::int64_t rows_ok() const noexcept;
  /// Data rows read so far that gave an Error (blank lines are not rows).
  std::int64_t rows_bad() const noexcept;

  /// What made a row bad: a price that is a decimal <= 0, or anything else.
  enum class BadRow { malformed, non_positive_price };
  /// The kind of the latest Error next() gave (malformed before any).
  BadRow last_bad_row() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace marketdata

template <>
struct fmt::formatter<marketdata::Format> : fmt::formatter<std::string_view> {
  template <class Ctx>
  auto format(marketdata::Format f, Ctx& ctx) const {
    return fmt::formatter<std::string_view>::format(marketdata::to_string(f), ctx);
  }
};
