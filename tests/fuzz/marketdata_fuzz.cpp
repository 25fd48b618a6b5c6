// Fuzz harness "marketdata": marketdata::Reader over a fuzzed file (docs/fuzzing.md).
//
// Input: the file's content. It is written to a memfd and read record by record
// to the end. Input that starts with the gzip magic is read as it is (so the
// fuzzer also reaches corrupt and truncated gzip streams). Otherwise, for half of
// the inputs (odd sizes) it is also gzip-compressed by the harness, read again,
// and the two reads compared. (Readers start with a 64-byte line buffer and zlib's
// default 8 KB buffer: the defaults' 600 KB made every input cost ~13 ms under ASan.)
//
// Properties checked (a failure traps, so libFuzzer keeps the input):
//  - the reader never crashes, hits a sanitizer report or throws anything but its
//    documented std::runtime_error from the constructor (no header, bad header);
//  - plain and gzip'd input read the same: the same records, errors and counts
//    (reader.hpp: "data.csv and data.csv.gz read the same");
//  - every record the reader gives is a message the codec accepts unchanged:
//    decode_market_data(encode(record)) == record (the feed publishes what it reads).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include <fmt/format.h>

#include "codec/codec.hpp"
#include "fuzz_support.hpp"
#include "marketdata/quality.hpp"
#include "marketdata/reader.hpp"

namespace {

using fuzz::check;
using fuzz::fail;

/// One call of Reader::next() that gave something.
struct Record {
  std::optional<core::MarketData> data;  ///< nullopt: an error
  std::string field, message;            ///< the error
  std::int64_t line = 0;
  bool operator==(const Record&) const = default;
};

struct ReadAll {
  bool opened = false;
  std::optional<marketdata::Format> format;
  bool compressed = false;
  std::vector<Record> records;
  std::int64_t rows_ok = 0, rows_bad = 0;
};

/// The feed publishes what it reads: the codec must take every record back unchanged.
void check_codec_accepts(const core::MarketData& md, std::int64_t line, codec::Decoder& dec) {
  const std::string json = codec::encode(md);
  auto again = dec.decode_market_data(json);
  if (!again) fail(fmt::format("the codec refuses a record the reader gave (line {}): {}\n{}", line, again.error().to_string(), json));
  check(*again == md, fmt::format("the codec changes a record the reader gave (line {}):\n{}\n{}", line, json, codec::encode(*again)));
}

ReadAll read_all(const std::string& content, codec::Decoder& dec) {
  const fuzz::MemFile file(content);
  ReadAll out;
  std::optional<marketdata::Reader> reader;
  try {
    // Small buffers: the line buffer's growth path runs on nearly every input, and
    // no large allocation per input (the defaults cost ~13 ms an input under ASan).
    reader.emplace(file.path(), marketdata::Reader::Buffers{.line = 64, .zlib = 0});
  } catch (const std::runtime_error&) {
    return out;  // documented: cannot read, empty file, unrecognised header
  }
  out.opened = true;
  out.format = reader->format();
  out.compressed = reader->compressed();
  std::int64_t last_line = reader->line();
  // The feed's data-quality checks over the same rows (marketdata/quality.hpp): every
  // finding names its line, and the counts add up.
  marketdata::quality::Check quality(marketdata::quality::Policy::parse("outlier_window=2"));
  std::int64_t findings = 0;
  auto expect_line = [&](const marketdata::quality::Finding& f, std::int64_t line) {
    ++findings;
    check(f.line == line && f.message.starts_with(fmt::format("line {}: ", line)),
          fmt::format("a finding of line {} says: {}", line, f.message));
  };
  std::vector<core::MarketData> row;
  std::int64_t row_line = 0;
  auto flush_row = [&] {
    if (row.empty()) return;
    if (auto f = quality.check_row(row, row_line)) expect_line(*f, row_line);
    row.clear();
  };
  while (auto r = reader->next()) {
    Record rec;
    rec.line = reader->line();
    check(rec.line >= last_line, fmt::format("line() went back from {} to {}", last_line, rec.line));
    last_line = rec.line;
    if (rec.line != row_line) flush_row();
    if (r->ok()) {
      rec.data = r->value();
      check_codec_accepts(*rec.data, rec.line, dec);
      row_line = rec.line;
      row.push_back(*rec.data);
    } else {
      rec.field = r->error().field;
      rec.message = r->error().message;
      if (reader->last_bad_row() == marketdata::Reader::BadRow::non_positive_price)
        expect_line(quality.non_positive(r->error(), rec.line), rec.line);
    }
    out.records.push_back(std::move(rec));
  }
  flush_row();
  check(quality.counts().total() == findings, "the data-quality counts do not add up to the findings");
  check(!reader->next(), "next() gave a record after end of file");
  out.rows_ok = reader->rows_ok();
  out.rows_bad = reader->rows_bad();
  return out;
}

std::string describe(const ReadAll& r) {
  std::string s = fmt::format("opened={} records={} ok={} bad={}", r.opened, r.records.size(), r.rows_ok, r.rows_bad);
  for (const auto& rec : r.records)
    s += rec.data ? fmt::format("\n  line {}: {}", rec.line, codec::encode(*rec.data))
                  : fmt::format("\n  line {}: error {}: {}", rec.line, rec.field, rec.message);
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string content(reinterpret_cast<const char*>(data), size);
  static codec::Decoder dec;
  const ReadAll plain = read_all(content, dec);
  if (fuzz::is_gzip(content) || size % 2 == 0) return 0;
  check(!plain.opened || !plain.compressed, "plain text read as compressed");
  const ReadAll gz = read_all(fuzz::gzip(content), dec);
  check(!gz.opened || gz.compressed, "gzip read as plain text");
  const bool same = plain.opened == gz.opened && plain.format == gz.format && plain.records == gz.records &&
                    plain.rows_ok == gz.rows_ok && plain.rows_bad == gz.rows_bad;
  if (!same) fail(fmt::format("plain and gzip read differently\nplain: {}\ngzip:  {}", describe(plain), describe(gz)));
  return 0;
}
