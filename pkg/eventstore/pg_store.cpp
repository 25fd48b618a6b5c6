#include <algorithm>
#include <limits>
#include <string_view>
#include <unordered_set>

#include <fmt/format.h>
#include <pqxx/pqxx>

#include "eventstore/detail.hpp"
#include "eventstore/event_store.hpp"
#include "eventstore/migrations.hpp"

namespace eventstore {
namespace {

/// Rows per INSERT statement (shared/limits: 500 rows/statement ~ 80k events/s).
constexpr std::size_t kRowsPerStatement = 500;

/// SQLSTATEs that mean "the server or the connection is gone": class 08
/// (connection exception), 57P01 admin_shutdown, 57P02 crash_shutdown,
/// 57P03 cannot_connect_now.
bool is_unavailable_state(const std::string& s) {
  return s.starts_with("08") || s == "57P01" || s == "57P02" || s == "57P03";
}

std::optional<std::string> opt_text(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return std::string(f.c_str(), f.size());
}

std::string text(const pqxx::field& f) { return std::string(f.c_str(), f.size()); }

/// libpq messages end in a newline; exception texts should not.
std::string_view trimmed(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

struct PgStore::Impl {
  std::string url;
  std::unique_ptr<pqxx::connection> conn;
  std::string sql;  // reused statement buffer

  pqxx::connection& connection() {
    if (!conn) conn = std::make_unique<pqxx::connection>(url);
    return *conn;
  }

  /// Runs `f(connection, committing)` and translates libpqxx errors
  /// (STYLE.md section 6). A connection that broke while idle (e.g. a server
  /// restart between calls) is replaced and `f` retried once, unless `f` had
  /// started to commit (`committing` set): then the outcome is unknown and the
  /// caller decides.
  template <class F>
  auto run(std::string_view what, F&& f) -> decltype(f(std::declval<pqxx::connection&>(), std::declval<bool&>())) {
    for (int attempt = 0;; ++attempt) {
      const bool reused = conn != nullptr;
      bool committing = false;
      std::string error;
      try {
        return f(connection(), committing);
      } catch (const pqxx::in_doubt_error& e) {
        conn.reset();
        throw StoreUnavailable(fmt::format("eventstore: {}: commit outcome unknown: {}", what, trimmed(e.what())));
      } catch (const pqxx::broken_connection& e) {
        error = e.what();
      } catch (const pqxx::sql_error& e) {
        if (!is_unavailable_state(e.sqlstate())) {
          throw std::runtime_error(fmt::format("eventstore: {}: {}", what, trimmed(e.what())));
        }
        error = e.what();
      } catch (const pqxx::failure& e) {
        if (conn && conn->is_open()) throw std::runtime_error(fmt::format("eventstore: {}: {}", what, trimmed(e.what())));
        error = e.what();
      }
      conn.reset();
      if (committing) {
        throw StoreUnavailable(fmt::format("eventstore: {}: commit outcome unknown: {}", what, trimmed(error)));
      }
      if (!(reused && attempt == 0)) {
        throw StoreUnavailable(fmt::format("eventstore: {}: database unavailable: {}", what, trimmed(error)));
      }
    }
  }
};

PgStore::PgStore(std::string url) : impl_(std::make_unique<Impl>()) {
  impl_->url = std::move(url);
  migrations_applied_ = impl_->run("connect", [](pqxx::connection& c, bool&) { return apply_migrations(c); });
}

PgStore::~PgStore() = default;
PgStore::PgStore(PgStore&&) noexcept = default;
PgStore& PgStore::operator=(PgStore&&) noexcept = default;

std::size_t PgStore::append(const std::vector<NewEvent>& batch) {
  // The first occurrence of a msg_id wins; later repeats in the batch are skipped.
  std::vector<const NewEvent*> rows;
  rows.reserve(batch.size());
  std::unordered_set<std::string_view> seen;
  seen.reserve(batch.size());
  for (const auto& e : batch) {
    if (seen.insert(e.msg_id).second) rows.push_back(&e);
  }
  if (rows.empty()) return 0;

  return impl_->run("append", [&](pqxx::connection& c, bool& committing) {
    pqxx::work w(c, "append");
    w.exec(fmt::format("SELECT pg_advisory_xact_lock({})", detail::kAppendLockKey));
    std::size_t stored = 0;
    std::string& sql = impl_->sql;
    for (std::size_t begin = 0; begin < rows.size(); begin += kRowsPerStatement) {
      const std::size_t end = std::min(rows.size(), begin + kRowsPerStatement);
      sql.clear();
      sql +=
          "INSERT INTO events (msg_id, subject, type, client_order_id, ts_event, payload, session_id) "
          "SELECT b.msg_id, b.subject, b.type, b.client_order_id::text, b.ts_event::bigint, b.payload::jsonb, "
          "b.session_id::text "
          "FROM (VALUES ";
      for (std::size_t i = begin; i < end; ++i) {
        const NewEvent& e = *rows[i];
        if (i != begin) sql += ',';
        sql += '(';
        sql += std::to_string(i);
        sql += ',';
        sql += w.quote(e.msg_id);
        sql += ',';
        sql += w.quote(e.subject);
        sql += ',';
        sql += w.quote(e.type);
        sql += ',';
        sql += e.client_order_id ? w.quote(*e.client_order_id) : std::string("NULL");
        sql += ',';
        sql += e.ts_event ? std::to_string(*e.ts_event) : std::string("NULL");
        sql += ',';
        sql += w.quote(e.payload);
        sql += ',';
        sql += e.session_id ? w.quote(*e.session_id) : std::string("NULL");
        sql += ')';
      }
      // NOT EXISTS keeps already-stored msg_ids from consuming positions;
      // ON CONFLICT covers a writer that bypasses the append lock.
      sql +=
          ") AS b (ord, msg_id, subject, type, client_order_id, ts_event, payload, session_id) "
          "WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.msg_id = b.msg_id) "
          "ORDER BY b.ord "
          "ON CONFLICT (msg_id) DO NOTHING";
      stored += static_cast<std::size_t>(w.exec(sql).affected_rows());
    }
    committing = true;
    w.commit();
    return stored;
  });
}

namespace {

/// Columns of a StoredEvent, in the order event_from_row reads them.
constexpr std::string_view kEventColumns =
    "position, msg_id, subject, type, client_order_id, ts_event, payload::text, session_id";

StoredEvent event_from_row(const pqxx::row& row) {
  StoredEvent e;
  e.position = row[0].as<std::int64_t>();
  e.msg_id = text(row[1]);
  e.subject = text(row[2]);
  e.type = text(row[3]);
  e.client_order_id = opt_text(row[4]);
  if (!row[5].is_null()) e.ts_event = row[5].as<std::int64_t>();
  e.payload = text(row[6]);
  e.session_id = opt_text(row[7]);
  return e;
}

std::vector<StoredEvent> events_from(const pqxx::result& r) {
  std::vector<StoredEvent> out;
  out.reserve(r.size());
  for (const auto& row : r) out.push_back(event_from_row(row));
  return out;
}

std::int64_t clamp_limit(std::size_t limit) {
  return static_cast<std::int64_t>(std::min<std::size_t>(limit, std::numeric_limits<std::int64_t>::max()));
}

}  // namespace

std::vector<StoredEvent> PgStore::read(std::int64_t after_position, std::size_t limit) {
  if (limit == 0) return {};
  return impl_->run("read", [&](pqxx::connection& c, bool&) {
    pqxx::nontransaction t(c, "read");
    return events_from(t.exec_params(
        fmt::format("SELECT {} FROM events WHERE position > $1 ORDER BY position LIMIT $2", kEventColumns),
        after_position, clamp_limit(limit)));
  });
}

std::vector<StoredEvent> PgStore::query(const EventQuery& q) {
  if (q.limit == 0) return {};
  return impl_->run("query", [&](pqxx::connection& c, bool&) {
    pqxx::nontransaction t(c, "query");
    // Values are quoted by libpq (conn.quote), never pasted raw.
    std::string where = fmt::format("position > {}", q.after_position);
    const auto eq = [&](std::string_view column, const std::optional<std::string>& v) {
      if (v) where += fmt::format(" AND {} = {}", column, t.quote(*v));
    };
    eq("session_id", q.session_id);
    eq("subject", q.subject);
    eq("type", q.type);
    eq("client_order_id", q.client_order_id);
    if (q.ts_from) where += fmt::format(" AND ts_event >= {}", *q.ts_from);
    if (q.ts_to) where += fmt::format(" AND ts_event < {}", *q.ts_to);
    return events_from(t.exec(fmt::format("SELECT {} FROM events WHERE {} ORDER BY position LIMIT {}", kEventColumns,
                                          where, clamp_limit(q.limit))));
  });
}

std::optional<StoredEvent> PgStore::last_event(std::string_view msg_id_prefix) {
  return impl_->run("last_event", [&](pqxx::connection& c, bool&) -> std::optional<StoredEvent> {
    pqxx::nontransaction t(c, "last_event");
    const auto r = t.exec_params(
        fmt::format("SELECT {} FROM events WHERE starts_with(msg_id, $1) ORDER BY position DESC LIMIT 1", kEventColumns),
        std::string(msg_id_prefix));
    if (r.empty()) return std::nullopt;
    return event_from_row(r[0]);
  });
}

std::vector<SessionSummary> PgStore::sessions() {
  return impl_->run("sessions", [&](pqxx::connection& c, bool&) {
    pqxx::nontransaction t(c, "sessions");
    const auto r = t.exec(
        "SELECT session_id, min(position), max(position), count(*), min(ts_event), max(ts_event) "
        "FROM events WHERE session_id IS NOT NULL GROUP BY session_id ORDER BY min(position)");
    std::vector<SessionSummary> out;
    out.reserve(r.size());
    for (const auto& row : r) {
      SessionSummary s;
      s.session_id = text(row[0]);
      s.first_position = row[1].as<std::int64_t>();
      s.last_position = row[2].as<std::int64_t>();
      s.events = row[3].as<std::int64_t>();
      if (!row[4].is_null()) s.first_ts_event = row[4].as<std::int64_t>();
      if (!row[5].is_null()) s.last_ts_event = row[5].as<std::int64_t>();
      out.push_back(std::move(s));
    }
    return out;
  });
}

namespace {

std::vector<std::pair<std::string, std::int64_t>> pairs(const pqxx::result& r) {
  std::vector<std::pair<std::string, std::int64_t>> out;
  out.reserve(r.size());
  for (const auto& row : r) out.emplace_back(text(row[0]), row[1].as<std::int64_t>());
  return out;
}

}  // namespace

std::vector<std::pair<std::string, std::int64_t>> PgStore::count_by_type() {
  return impl_->run("count_by_type", [](pqxx::connection& c, bool&) {
    pqxx::nontransaction t(c, "count_by_type");
    return pairs(t.exec("SELECT type, count(*) FROM events GROUP BY type ORDER BY type COLLATE \"C\""));
  });
}

std::vector<std::pair<std::string, std::int64_t>> PgStore::count_by_type(const std::string& session_id) {
  return impl_->run("count_by_type", [&](pqxx::connection& c, bool&) {
    pqxx::nontransaction t(c, "count_by_type");
    return pairs(t.exec_params(
        "SELECT type, count(*) FROM events WHERE session_id = $1 GROUP BY type ORDER BY type COLLATE \"C\"",
        session_id));
  });
}

std::vector<std::pair<std::string, std::int64_t>> PgStore::count_by_subject() {
  return impl_->run("count_by_subject", [](pqxx::connection& c, bool&) {
    pqxx::nontransaction t(c, "count_by_subject");
    return pairs(t.exec("SELECT subject, count(*) FROM events GROUP BY subject ORDER BY subject COLLATE \"C\""));
  });
}

std::int64_t PgStore::count() {
  return impl_->run("count", [](pqxx::connection& c, bool&) {
    pqxx::nontransaction t(c, "count");
    return t.exec("SELECT count(*) FROM events")[0][0].as<std::int64_t>();
  });
}

std::optional<std::string> PgStore::last_msg_id(std::string_view prefix) {
  return impl_->run("last_msg_id", [&](pqxx::connection& c, bool&) -> std::optional<std::string> {
    pqxx::nontransaction t(c, "last_msg_id");
    // Walks the primary key backwards; the newest events normally match at once.
    const pqxx::result r = t.exec_params(
        "SELECT msg_id FROM events WHERE starts_with(msg_id, $1) ORDER BY position DESC LIMIT 1", std::string(prefix));
    if (r.empty()) return std::nullopt;
    return text(r[0][0]);
  });
}

VerifyResult PgStore::verify() {
  return impl_->run("verify", [](pqxx::connection& c, bool&) {
    pqxx::read_transaction t(c, "verify");
    // One pass in position order: each event's own hash, and its link to the one before.
    const pqxx::result r = t.exec(R"(
      WITH checked AS (
        SELECT position,
               hash = sha256(prev_hash || events_hash_input(position, msg_id, subject, type,
                                                            client_order_id, ts_event, payload,
                                                            session_id)) AS self_ok,
               prev_hash = coalesce(lag(hash) OVER (ORDER BY position), '\x'::bytea) AS link_ok
          FROM events)
      SELECT (SELECT count(*) FROM events),
             (SELECT encode(hash, 'hex') FROM events ORDER BY position DESC LIMIT 1),
             bad.position, bad.self_ok, bad.link_ok
        FROM (SELECT 1) one
        LEFT JOIN LATERAL (SELECT * FROM checked WHERE NOT (self_ok AND link_ok)
                            ORDER BY position LIMIT 1) bad ON true)");
    VerifyResult v;
    v.events = r[0][0].as<std::int64_t>();
    if (!r[0][1].is_null()) v.head_hash = r[0][1].c_str();
    if (!r[0][2].is_null()) {
      v.ok = false;
      v.first_bad_position = r[0][2].as<std::int64_t>();
      const bool self_ok = r[0][3].as<bool>();
      v.problem = self_ok ? "its link to the previous event is broken (an event before it was deleted or moved)"
                          : "its contents do not match its hash (the event was changed or moved)";
    }
    return v;
  });
}

}  // namespace eventstore
