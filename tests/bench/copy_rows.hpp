/// @file copy_rows.hpp
/// @brief Benchmarks only: stored `events` rows read back as text and COPYed
///        again (the raw-COPY limit of recorder_bench and backtest_bench).
///
/// A Row holds every column the store writes, position, prev_hash and hash
/// included, so a COPY of the rows of a whole database, in position order, into
/// `events` of a fresh database with the same migrations continues the hash
/// chain exactly and passes schema/004's check and PgStore::verify().
/// Functions throw what libpqxx throws. Not thread-safe (one connection each).
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include <pqxx/pqxx>

namespace benchrows {

/// A stored row, as text in kCopyColumns order (nullopt = NULL).
using Row = std::vector<std::optional<std::string>>;

/// The columns a writer supplies (recorded_at takes its default).
inline const std::vector<std::string> kCopyColumns{"position", "msg_id",  "subject",    "type",      "client_order_id",
                                                   "ts_event", "payload", "session_id", "prev_hash", "hash"};
enum Column { kPosition, kMsgId, kSubject, kType, kClientOrderId, kTsEvent, kPayload, kSessionId, kPrevHash, kHash };

/// The first `limit` rows of `events` at `url` in position order (every row if
/// nullopt). payload is jsonb's text; prev_hash and hash are bytea in COPY's
/// text form ("\x" + hex).
inline std::vector<Row> export_rows(const std::string& url, std::optional<std::size_t> limit = std::nullopt) {
  pqxx::connection c(url);
  pqxx::read_transaction t(c);
  const auto r = t.exec(
      "SELECT position::text, msg_id, subject, type, client_order_id, ts_event::text, payload::text, session_id, "
      "'\\x' || encode(prev_hash, 'hex'), '\\x' || encode(hash, 'hex') FROM events e ORDER BY e.position" +
      (limit ? " LIMIT " + std::to_string(*limit) : std::string()));
  std::vector<Row> rows;
  rows.reserve(r.size());
  for (const auto& row : r) {
    Row out;
    for (const auto& f : row) out.push_back(f.is_null() ? std::nullopt : std::optional<std::string>(f.c_str()));
    rows.push_back(std::move(out));
  }
  return rows;
}

inline const char* c_str(const std::optional<std::string>& s) { return s ? s->c_str() : nullptr; }

/// One COPY (pqxx::stream_to) of `rows` into `table` in one transaction, after a
/// CHECKPOINT. Returns the seconds from BEGIN to COMMIT.
inline double copy_rows(const std::string& url, const std::string& table, const std::vector<Row>& rows) {
  pqxx::connection c(url);
  {
    pqxx::nontransaction t(c);
    t.exec("CHECKPOINT");
  }
  const auto t0 = std::chrono::steady_clock::now();
  pqxx::work w(c);
  pqxx::stream_to s(w, table, kCopyColumns);
  for (const auto& r : rows)
    s << std::make_tuple(c_str(r[0]), c_str(r[1]), c_str(r[2]), c_str(r[3]), c_str(r[4]), c_str(r[5]), c_str(r[6]),
                         c_str(r[7]), c_str(r[8]), c_str(r[9]));
  s.complete();
  w.commit();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace benchrows
