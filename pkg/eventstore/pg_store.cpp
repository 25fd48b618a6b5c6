#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <memory>
#include <string_view>
#include <tuple>
#include <unordered_set>
#include <utility>

#include <fmt/format.h>
#include <openssl/evp.h>
#include <pqxx/pqxx>

#include "eventstore/detail.hpp"
#include "eventstore/event_store.hpp"
#include "eventstore/migrations.hpp"
#include "eventstore/storable.hpp"

namespace eventstore {
namespace {

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

/// SQLSTATEs with which PostgreSQL refuses an event's contents, so that
/// append_or_quarantine stores a placeholder instead: class 22 (data exception:
/// jsonb's "unsupported Unicode escape sequence", invalid encoding, ...) and 54000
/// (program_limit_exceeded: "index row requires N bytes, maximum size is 8191").
bool is_refusal_state(const std::string& s) { return s.starts_with("22") || s == "54000"; }

/// libpq messages end in a newline; exception texts should not.
std::string_view trimmed(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// ---- append: the hash chain, computed here and checked by the database ---------------

using detail::bytea_literal;
using detail::Hash;
using detail::HashLiteral;
using detail::Sha256;
using detail::view;

/// Appends `s` as one element of a PostgreSQL array literal: in double quotes,
/// with '"' and '\\' escaped by a backslash.
void array_element(std::string_view s, std::string& out) {
  out += '"';
  for (const char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

/// Bytes of lowercase or uppercase hex text (as encode(..., 'hex') returns).
std::string from_hex(std::string_view hex) {
  const auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    throw std::runtime_error("eventstore: bad hex from the database");
  };
  if (hex.size() % 2 != 0) throw std::runtime_error("eventstore: bad hex from the database");
  std::string out(hex.size() / 2, '\0');
  for (std::size_t i = 0; i < out.size(); ++i)
    out[i] = static_cast<char>(nibble(hex[2 * i]) << 4 | nibble(hex[2 * i + 1]));
  return out;
}

/// Characters of valid UTF-8 text (what PostgreSQL's length() counts in a UTF8 database).
std::size_t utf8_length(std::string_view s) {
  std::size_t n = 0;
  for (const unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

/// JSON text -> jsonb's rendering of it, or failure when unsure (see detail::jsonb_text).
class JsonbRenderer {
 public:
  explicit JsonbRenderer(std::string_view in) : in_(in) {}

  bool render(std::string& out) {
    ws();
    if (!value(out, 0)) return false;
    ws();
    return at_ == in_.size();
  }

 private:
  static constexpr int kMaxDepth = 1000;
  static constexpr std::size_t kMaxNumberDigits = 1000;
  static constexpr int kMaxExponent = 1000;

  void ws() {
    while (at_ < in_.size() && (in_[at_] == ' ' || in_[at_] == '\t' || in_[at_] == '\n' || in_[at_] == '\r')) ++at_;
  }
  bool eat(char c) {
    if (at_ < in_.size() && in_[at_] == c) {
      ++at_;
      return true;
    }
    return false;
  }
  bool literal(std::string_view word, std::string& out) {
    if (in_.substr(at_, word.size()) != word) return false;
    at_ += word.size();
    out += word;
    return true;
  }

  bool value(std::string& out, int depth) {
    if (at_ >= in_.size() || depth > kMaxDepth) return false;
    switch (in_[at_]) {
      case '{': return object(out, depth + 1);
      case '[': return array(out, depth + 1);
      case '"': {
        std::string s;
        if (!string(s)) return false;
        escaped(s, out);
        return true;
      }
      case 't': return literal("true", out);
      case 'f': return literal("false", out);
      case 'n': return literal("null", out);
      default: return number(out);
    }
  }

  bool object(std::string& out, int depth) {
    ++at_;  // '{'
    struct Pair {
      std::string key;
      std::size_t value_from, value_to;  // in `values`
      std::size_t order;
    };
    std::vector<Pair> pairs;
    std::string values;  // every rendered value, one after the other
    ws();
    if (!eat('}')) {
      for (;;) {
        ws();
        Pair p{{}, values.size(), 0, pairs.size()};
        if (at_ >= in_.size() || in_[at_] != '"' || !string(p.key)) return false;
        ws();
        if (!eat(':')) return false;
        ws();
        if (!value(values, depth)) return false;
        p.value_to = values.size();
        pairs.push_back(std::move(p));
        ws();
        if (eat('}')) break;
        if (!eat(',')) return false;
      }
    }
    // jsonb orders keys by length, then bytewise; of equal keys the last one stays.
    std::sort(pairs.begin(), pairs.end(), [](const Pair& a, const Pair& b) {
      if (a.key.size() != b.key.size()) return a.key.size() < b.key.size();
      if (const int c = std::memcmp(a.key.data(), b.key.data(), a.key.size()); c != 0) return c < 0;
      return a.order > b.order;
    });
    out += '{';
    bool first = true;
    for (std::size_t i = 0; i < pairs.size(); ++i) {
      if (i > 0 && pairs[i].key == pairs[i - 1].key) continue;
      if (!first) out += ", ";
      first = false;
      escaped(pairs[i].key, out);
      out += ": ";
      out.append(values, pairs[i].value_from, pairs[i].value_to - pairs[i].value_from);
    }
    out += '}';
    return true;
  }

  bool array(std::string& out, int depth) {
    ++at_;  // '['
    out += '[';
    ws();
    if (eat(']')) {
      out += ']';
      return true;
    }
    for (bool first = true;; first = false) {
      ws();
      if (!first) out += ", ";
      if (!value(out, depth)) return false;
      ws();
      if (eat(']')) break;
      if (!eat(',')) return false;
    }
    out += ']';
    return true;
  }

  static int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }
  bool hex4(unsigned& cp) {
    if (at_ + 4 > in_.size()) return false;
    cp = 0;
    for (int i = 0; i < 4; ++i) {
      const int d = hex_digit(in_[at_++]);
      if (d < 0) return false;
      cp = cp << 4 | static_cast<unsigned>(d);
    }
    return true;
  }
  static void utf8(unsigned cp, std::string& out) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | cp >> 6);
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | cp >> 12);
      out += static_cast<char>(0x80 | (cp >> 6 & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | cp >> 18);
      out += static_cast<char>(0x80 | (cp >> 12 & 0x3F));
      out += static_cast<char>(0x80 | (cp >> 6 & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  /// A JSON string at in_[at_] == '"', unescaped into `s` (UTF-8).
  bool string(std::string& s) {
    ++at_;  // '"'
    while (at_ < in_.size()) {
      const char c = in_[at_++];
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) return false;  // must be escaped
      if (c != '\\') {
        s += c;
        continue;
      }
      if (at_ >= in_.size()) return false;
      switch (in_[at_++]) {
        case '"': s += '"'; break;
        case '\\': s += '\\'; break;
        case '/': s += '/'; break;
        case 'b': s += '\b'; break;
        case 'f': s += '\f'; break;
        case 'n': s += '\n'; break;
        case 'r': s += '\r'; break;
        case 't': s += '\t'; break;
        case 'u': {
          unsigned cp = 0;
          if (!hex4(cp) || cp == 0) return false;  // jsonb refuses \u0000
          if (cp >= 0xDC00 && cp <= 0xDFFF) return false;
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            unsigned low = 0;
            if (!eat('\\') || !eat('u') || !hex4(low) || low < 0xDC00 || low > 0xDFFF) return false;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          utf8(cp, s);
          break;
        }
        default: return false;
      }
    }
    return false;
  }

  /// jsonb's escape_json().
  static void escaped(std::string_view s, std::string& out) {
    out += '"';
    for (const char c : s) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
          if (static_cast<unsigned char>(c) < 0x20) {
            out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
          } else {
            out += c;
          }
      }
    }
    out += '"';
  }

  /// A JSON number, written as PostgreSQL's numeric prints it: numeric_in keeps
  /// max(0, fraction digits - exponent) decimals; there is no negative zero.
  bool number(std::string& out) {
    const bool negative = eat('-');
    const auto digits_from = [&](std::size_t from) { return in_.substr(from, at_ - from); };
    auto is_digit = [&] { return at_ < in_.size() && in_[at_] >= '0' && in_[at_] <= '9'; };
    const std::size_t int_from = at_;
    if (!is_digit()) return false;
    if (in_[at_] == '0') {
      ++at_;
    } else {
      while (is_digit()) ++at_;
    }
    const std::string_view int_digits = digits_from(int_from);
    std::string_view frac_digits;
    if (eat('.')) {
      const std::size_t from = at_;
      while (is_digit()) ++at_;
      frac_digits = digits_from(from);
      if (frac_digits.empty()) return false;
    }
    long exponent = 0;
    if (at_ < in_.size() && (in_[at_] == 'e' || in_[at_] == 'E')) {
      ++at_;
      const bool exp_negative = eat('-');
      if (!exp_negative) eat('+');
      const std::size_t from = at_;
      while (is_digit()) ++at_;
      const std::string_view exp_digits = digits_from(from);
      if (exp_digits.empty() || exp_digits.size() > 6) return false;
      for (const char c : exp_digits) exponent = exponent * 10 + (c - '0');
      if (exp_negative) exponent = -exponent;
    }
    if (int_digits.size() + frac_digits.size() > kMaxNumberDigits || exponent > kMaxExponent ||
        exponent < -kMaxExponent) {
      return false;
    }
    // value = digits * 10^(exponent - frac), printed with `scale` decimals.
    std::string digits(int_digits);
    digits += frac_digits;
    const long shift = exponent - static_cast<long>(frac_digits.size());
    const long scale = std::max(0L, -shift);
    if (shift > 0) digits.append(static_cast<std::size_t>(shift), '0');
    if (static_cast<long>(digits.size()) <= scale) digits.insert(0, static_cast<std::size_t>(scale + 1) - digits.size(), '0');
    const std::size_t int_len = digits.size() - static_cast<std::size_t>(scale);
    std::size_t lead = 0;  // leading zeros of the integer part, keeping one digit
    while (lead + 1 < int_len && digits[lead] == '0') ++lead;
    if (negative && digits.find_first_not_of('0') != std::string::npos) out += '-';
    out.append(digits, lead, int_len - lead);
    if (scale > 0) {
      out += '.';
      out.append(digits, int_len, std::string::npos);
    }
    return true;
  }

  std::string_view in_;
  std::size_t at_ = 0;
};

}  // namespace

namespace detail {

std::optional<std::string> jsonb_text(std::string_view json_text) {
  std::string out;
  out.reserve(json_text.size() + json_text.size() / 8);
  if (!JsonbRenderer(json_text).render(out)) return std::nullopt;
  return out;
}

void append_hash_input(std::string& out, std::int64_t position, std::string_view msg_id, std::string_view subject,
                       std::string_view type, const std::optional<std::string>& client_order_id,
                       std::optional<std::int64_t> ts_event, std::string_view payload_jsonb_text,
                       const std::optional<std::string>& session_id) {
  // schema/004: position|len:msg_id|len:subject|len:type|len:client_order_id or -|ts_event or -|payload[|slen:session_id]
  const auto counted = [&](std::string_view s) { fmt::format_to(std::back_inserter(out), "{}:{}", utf8_length(s), s); };
  fmt::format_to(std::back_inserter(out), "{}|", position);
  counted(msg_id);
  out += '|';
  counted(subject);
  out += '|';
  counted(type);
  out += '|';
  if (client_order_id) {
    counted(*client_order_id);
  } else {
    out += '-';
  }
  out += '|';
  if (ts_event) {
    fmt::format_to(std::back_inserter(out), "{}", *ts_event);
  } else {
    out += '-';
  }
  out += '|';
  out += payload_jsonb_text;
  if (session_id) {
    out += "|s";
    counted(*session_id);
  }
}

Sha256::Sha256() : md_(EVP_MD_fetch(nullptr, "SHA256", nullptr)), ctx_(EVP_MD_CTX_new()) {
  if (!md_ || !ctx_) throw std::runtime_error("eventstore: OpenSSL has no SHA-256");
}

Hash Sha256::operator()(std::string_view a, std::string_view b) {
  Hash out{};
  unsigned int len = 0;
  if (EVP_DigestInit_ex2(ctx_.get(), md_.get(), nullptr) != 1 || EVP_DigestUpdate(ctx_.get(), a.data(), a.size()) != 1 ||
      EVP_DigestUpdate(ctx_.get(), b.data(), b.size()) != 1 || EVP_DigestFinal_ex(ctx_.get(), out.data(), &len) != 1 ||
      len != kHashSize) {
    throw std::runtime_error("eventstore: SHA-256 failed");
  }
  return out;
}

void Sha256::FreeMd::operator()(EVP_MD* p) const noexcept { EVP_MD_free(p); }
void Sha256::FreeCtx::operator()(EVP_MD_CTX* p) const noexcept { EVP_MD_CTX_free(p); }

HashLiteral bytea_literal(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  HashLiteral out{};
  out[0] = '\\';
  out[1] = 'x';
  char* p = out.data() + 2;
  for (const unsigned char c : bytes.substr(0, kHashSize)) {
    *p++ = kHex[c >> 4];
    *p++ = kHex[c & 0xf];
  }
  *p = '\0';
  return out;
}

}  // namespace detail


struct PgStore::Impl {
  std::string url;
  std::unique_ptr<pqxx::connection> conn;
  std::string sql;  // reused statement buffer
  std::unique_ptr<Sha256> sha256;  // created by the first append

  /// One attempt of append() for `rows` (msg_ids unique), in one transaction.
  /// `server_input`: let the database build every hash input instead of this process.
  std::size_t append_chained(pqxx::connection& c, const std::vector<const NewEvent*>& rows, bool& committing,
                             bool server_input);

  /// false for a role without SELECT on events (the writer): last_event,
  /// last_msg_id and head then call schema/006's SECURITY DEFINER functions.
  bool can_read_events = true;

  /// Positions, the newest hash and the msg_ids of `rows` already stored, read
  /// under the append lock (which this takes) in `w`, a READ COMMITTED transaction.
  struct AppendState {
    std::unordered_set<std::string> stored;
    std::vector<std::int64_t> positions;  // ascending, one per row not stored
    std::string prev;                     // the newest hash ('' for an empty store)
  };
  AppendState append_state(pqxx::transaction_base& w, const std::vector<const NewEvent*>& rows);

  /// append_or_quarantine's slow path: one transaction, each event under a
  /// savepoint; a refused one is replaced by its placeholder and a row of
  /// events_quarantine.
  AppendReport append_isolating(pqxx::connection& c, const std::vector<const NewEvent*>& rows, bool& committing);

  pqxx::connection& connection() {
    if (!conn) {
      try {
        conn = std::make_unique<pqxx::connection>(url);
      } catch (const pqxx::broken_connection& e) {
        if (detail::is_login_refused(e.what()))
          throw std::runtime_error(fmt::format("eventstore: the server refused the login: {}", trimmed(e.what())));
        throw;
      }
    }
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
  impl_->can_read_events = impl_->run("connect", [](pqxx::connection& c, bool&) {
    require_current_schema(c);
    pqxx::nontransaction t(c, "connect");
    return t.exec("SELECT has_table_privilege('events', 'SELECT')")[0][0].as<bool>();
  });
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
  // What the database would refuse anyway (text can't hold NUL, and COPY would
  // cut a value short at one), and what MemoryStore refuses too (storable.hpp).
  for (const NewEvent* e : rows) {
    if (const auto why = detail::refusal(*e))
      throw std::runtime_error(fmt::format("eventstore: append: event {:?}: {}", detail::printable_ascii(e->msg_id, 100), *why));
  }

  return impl_->run("append", [&](pqxx::connection& c, bool& committing) {
    try {
      return impl_->append_chained(c, rows, committing, false);
    } catch (const pqxx::sql_error& e) {
      if (committing || e.sqlstate() != detail::kChainRejectedState) throw;
    }
    // The database computed another hash than this process: a payload whose
    // jsonb rendering detail::jsonb_text got wrong. Nothing was committed; this
    // time the database builds every hash input.
    return impl_->append_chained(c, rows, committing, true);
  });
}

std::size_t PgStore::Impl::append_chained(pqxx::connection& c, const std::vector<const NewEvent*>& rows,
                                          bool& committing, bool server_input) {
  // schema/004: this process chains the events under the append lock and COPYs
  // them with position, prev_hash and hash; the database checks the chain of
  // the whole statement (and takes the same lock) before the commit.
  pqxx::work w(c, "append");

  auto [stored, positions, prev] = append_state(w, rows);
  std::vector<const NewEvent*> fresh;
  fresh.reserve(rows.size());
  for (const NewEvent* e : rows) {
    if (!stored.contains(e->msg_id)) fresh.push_back(e);
  }
  if (fresh.size() != positions.size()) throw std::runtime_error("eventstore: append: positions do not match the batch");
  if (fresh.empty()) {
    committing = true;
    w.commit();
    return 0;
  }

  // Each event's events_hash_input: built here from the payload's jsonb rendering
  // when this process knows it exactly, else by the database.
  std::vector<std::string> inputs(fresh.size());
  std::vector<std::size_t> ask;
  const bool utf8 = c.get_client_encoding() == "UTF8";
  for (std::size_t i = 0; i < fresh.size(); ++i) {
    const NewEvent& e = *fresh[i];
    std::optional<std::string> payload_text;
    if (!server_input && utf8) payload_text = detail::jsonb_text(e.payload);
    if (!payload_text) {
      ask.push_back(i);
      continue;
    }
    detail::append_hash_input(inputs[i], positions[i], e.msg_id, e.subject, e.type, e.client_order_id, e.ts_event,
                              *payload_text, e.session_id);
  }
  if (!ask.empty()) {
    sql.clear();
    sql +=
        "SELECT encode(events_hash_input(v.p, v.m, v.s, v.t, v.c, v.ts, v.j::jsonb, v.sid), 'hex') "
        "FROM (VALUES ";
    for (std::size_t k = 0; k < ask.size(); ++k) {
      const NewEvent& e = *fresh[ask[k]];
      if (k != 0) sql += ',';
      fmt::format_to(std::back_inserter(sql), "({},{}::bigint,{}::text,{}::text,{}::text,{}::text,{}::bigint,{}::text,{}::text)",
                     k, positions[ask[k]], w.quote(e.msg_id), w.quote(e.subject), w.quote(e.type),
                     e.client_order_id ? w.quote(*e.client_order_id) : "NULL",
                     e.ts_event ? std::to_string(*e.ts_event) : "NULL", w.quote(e.payload),
                     e.session_id ? w.quote(*e.session_id) : "NULL");
    }
    sql += ") AS v (k, p, m, s, t, c, ts, j, sid) ORDER BY v.k";
    const pqxx::result r = w.exec(sql);
    for (std::size_t k = 0; k < ask.size(); ++k) inputs[ask[k]] = from_hex(r[static_cast<int>(k)][0].c_str());
  }

  // The chain: hash = sha256(prev_hash || input), one event after the other.
  if (!sha256) sha256 = std::make_unique<Sha256>();
  static const std::vector<std::string> kColumns{"position", "msg_id",     "subject",   "type", "client_order_id",
                                                 "ts_event", "payload",    "session_id", "prev_hash", "hash"};
  pqxx::stream_to copy(w, "events", kColumns);
  HashLiteral prev_literal = bytea_literal(prev);
  for (std::size_t i = 0; i < fresh.size(); ++i) {
    const NewEvent& e = *fresh[i];
    const Hash hash = (*sha256)(prev, inputs[i]);
    const HashLiteral hash_literal = bytea_literal(view(hash));
    const std::string ts = e.ts_event ? std::to_string(*e.ts_event) : std::string();
    copy << std::make_tuple(positions[i], e.msg_id, e.subject, e.type,
                            e.client_order_id ? e.client_order_id->c_str() : nullptr, e.ts_event ? ts.c_str() : nullptr,
                            e.payload, e.session_id ? e.session_id->c_str() : nullptr, prev_literal.data(),
                            hash_literal.data());
    prev.assign(view(hash));
    prev_literal = hash_literal;
  }
  copy.complete();  // the database checks the chain here
  committing = true;
  w.commit();
  return fresh.size();
}

PgStore::Impl::AppendState PgStore::Impl::append_state(pqxx::transaction_base& w,
                                                       const std::vector<const NewEvent*>& rows) {
  // One round trip: READ COMMITTED (the chain check needs it), the append lock,
  // then schema/006's events_append_state: which msg_ids are stored already, a
  // position for each of the others (from the owner's sequence) and the newest
  // hash, which the chain continues from. A SECURITY DEFINER function, since the
  // writer may not read events.
  std::string ids = "{";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (i != 0) ids += ',';
    array_element(rows[i]->msg_id, ids);
  }
  ids += '}';
  sql.clear();
  fmt::format_to(std::back_inserter(sql),
                 "SET TRANSACTION ISOLATION LEVEL READ COMMITTED; SELECT pg_advisory_xact_lock({}); "
                 "SELECT kind, value FROM events_append_state({}::text[])",
                 detail::kAppendLockKey, w.quote(ids));
  AppendState st;
  st.positions.reserve(rows.size());
  for (const auto& row : w.exec(sql)) {
    const char kind = row[0].c_str()[0];
    if (kind == 's') {
      st.stored.insert(text(row[1]));
    } else if (kind == 'p') {
      st.positions.push_back(row[1].as<std::int64_t>());
    } else if (!row[1].is_null()) {
      st.prev = from_hex(row[1].c_str());
    }
  }
  std::sort(st.positions.begin(), st.positions.end());
  return st;
}

AppendReport PgStore::Impl::append_isolating(pqxx::connection& c, const std::vector<const NewEvent*>& rows,
                                             bool& committing) {
  pqxx::work w(c, "append");
  auto [stored, positions, prev] = append_state(w, rows);
  std::vector<const NewEvent*> fresh;
  for (const NewEvent* e : rows)
    if (!stored.contains(e->msg_id)) fresh.push_back(e);
  if (fresh.size() != positions.size()) throw std::runtime_error("eventstore: append: positions do not match the batch");
  if (!sha256) sha256 = std::make_unique<Sha256>();

  // One event as one INSERT, its hash input built by the database (which refuses
  // a bad payload right there); the chain check runs per statement.
  const auto insert = [&](pqxx::transaction_base& t, std::int64_t position, const NewEvent& e) {
    const auto opt = [](const std::optional<std::string>& v) { return v ? v->c_str() : nullptr; };
    const std::string ts = e.ts_event ? std::to_string(*e.ts_event) : std::string();
    const pqxx::result in = t.exec_params(
        "SELECT encode(events_hash_input($1, $2, $3, $4, $5, $6::bigint, $7::jsonb, $8), 'hex')", position, e.msg_id,
        e.subject, e.type, opt(e.client_order_id), e.ts_event ? ts.c_str() : nullptr, e.payload, opt(e.session_id));
    const Hash hash = (*sha256)(prev, from_hex(in[0][0].c_str()));
    const HashLiteral prev_literal = bytea_literal(prev), hash_literal = bytea_literal(view(hash));
    t.exec_params(
        "INSERT INTO events (position, msg_id, subject, type, client_order_id, ts_event, payload, session_id, "
        "prev_hash, hash) OVERRIDING SYSTEM VALUE VALUES ($1, $2, $3, $4, $5, $6::bigint, $7::jsonb, $8, $9::bytea, "
        "$10::bytea)",
        position, e.msg_id, e.subject, e.type, opt(e.client_order_id), e.ts_event ? ts.c_str() : nullptr, e.payload,
        opt(e.session_id), prev_literal.data(), hash_literal.data());
    prev.assign(view(hash));
  };

  AppendReport report;
  for (std::size_t i = 0; i < fresh.size(); ++i) {
    const NewEvent& e = *fresh[i];
    std::optional<std::string> reason = detail::refusal(e);
    if (!reason) {
      // A savepoint per event (plain SQL: libpqxx 6.4's subtransaction did not
      // roll back to it after a failed statement).
      const std::string before = prev;
      w.exec("SAVEPOINT event");
      try {
        insert(w, positions[i], e);
        w.exec("RELEASE SAVEPOINT event");
        continue;
      } catch (const pqxx::sql_error& err) {
        // Not about this event (no privilege, disk full, an outage): the caller hears of it.
        if (!is_refusal_state(err.sqlstate())) throw;
        reason = std::string(trimmed(err.what()));
        prev = before;
      }
      w.exec("ROLLBACK TO SAVEPOINT event");
    }
    if (const auto why = detail::refusal(NewEvent{.msg_id = e.msg_id}))
      throw std::runtime_error(fmt::format("eventstore: append: {:?} can't be quarantined: {}",
                                           detail::printable_ascii(e.msg_id, 100), *why));
    const NewEvent placeholder = detail::quarantine_placeholder(e, *reason);
    insert(w, positions[i], placeholder);
    std::string raw_hex = "\\x";
    raw_hex.reserve(2 + 2 * e.payload.size());
    for (const unsigned char ch : e.payload) fmt::format_to(std::back_inserter(raw_hex), "{:02x}", ch);
    w.exec_params("INSERT INTO events_quarantine (msg_id, subject, reason, raw) VALUES ($1, $2, $3, $4::bytea)",
                  e.msg_id, placeholder.subject, *reason, raw_hex);
    report.quarantined.push_back({e.msg_id, std::move(*reason)});
  }
  committing = true;
  w.commit();
  report.stored = fresh.size();
  return report;
}

AppendReport PgStore::append_or_quarantine(const std::vector<NewEvent>& batch) {
  try {
    return AppendReport{.stored = append(batch)};
  } catch (const StoreUnavailable&) {
    throw;
  } catch (const std::runtime_error&) {
    // Something in the batch was refused, or the failure is not about an event:
    // event by event, append_isolating tells which.
  }
  std::vector<const NewEvent*> rows;
  std::unordered_set<std::string_view> seen;
  for (const auto& e : batch)
    if (seen.insert(e.msg_id).second) rows.push_back(&e);
  return impl_->run("append", [&](pqxx::connection& c, bool& committing) {
    return impl_->append_isolating(c, rows, committing);
  });
}

namespace {

/// Columns of a StoredEvent, in the order event_from_row reads them.
constexpr std::string_view kEventColumns =
    "position, msg_id, subject, type, client_order_id, ts_event, payload::text, session_id";
/// The same columns from schema/006's events_newest (its payload is text already).
constexpr std::string_view kDefinerColumns =
    "position, msg_id, subject, type, client_order_id, ts_event, payload, session_id";

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

namespace {

/// The WHERE condition selecting `q`'s events (after q.after_position). Values are
/// quoted by libpq (t.quote), never pasted raw.
std::string where_of(pqxx::transaction_base& t, const EventQuery& q) {
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
  return where;
}

/// EventStore::open_reader for PostgreSQL: its own connection, one read-only
/// REPEATABLE READ transaction, one NO SCROLL cursor FETCHed a page at a time.
/// Errors as Impl::run translates them, without its retry (a cursor does not
/// survive a reconnect): a lost connection is StoreUnavailable, any other
/// failure std::runtime_error.
class PgReader final : public EventReader {
 public:
  PgReader(const std::string& url, const EventQuery& q) : page_(q.limit == 0 ? 10'000 : q.limit) {
    guard("open_reader", [&] {
      conn_ = std::make_unique<pqxx::connection>(url);
      tx_ = std::make_unique<Tx>(*conn_, "reader");
      tx_->exec(fmt::format("DECLARE events_reader NO SCROLL CURSOR FOR SELECT {} FROM events WHERE {} ORDER BY position",
                            kEventColumns, where_of(*tx_, q)));
      return 0;
    });
  }
  std::vector<StoredEvent> next() override {
    if (done_) return {};
    auto page = guard("read", [&] {
      return events_from(tx_->exec(fmt::format("FETCH FORWARD {} FROM events_reader", clamp_limit(page_))));
    });
    done_ = page.size() < page_;
    return page;
  }

 private:
  using Tx = pqxx::transaction<pqxx::repeatable_read, pqxx::read_only>;
  template <class F>
  static auto guard(std::string_view what, F&& f) -> decltype(f()) {
    try {
      return f();
    } catch (const pqxx::broken_connection& e) {
      throw StoreUnavailable(fmt::format("eventstore: {}: database unavailable: {}", what, trimmed(e.what())));
    } catch (const pqxx::sql_error& e) {
      if (is_unavailable_state(e.sqlstate()))
        throw StoreUnavailable(fmt::format("eventstore: {}: database unavailable: {}", what, trimmed(e.what())));
      throw std::runtime_error(fmt::format("eventstore: {}: {}", what, trimmed(e.what())));
    } catch (const pqxx::failure& e) {
      throw std::runtime_error(fmt::format("eventstore: {}: {}", what, trimmed(e.what())));
    }
  }
  std::size_t page_;
  bool done_ = false;
  std::unique_ptr<pqxx::connection> conn_;  // declared before tx_: destroyed after it
  std::unique_ptr<Tx> tx_;
};

}  // namespace

std::vector<StoredEvent> PgStore::query(const EventQuery& q) {
  if (q.limit == 0) return {};
  return impl_->run("query", [&](pqxx::connection& c, bool&) {
    pqxx::nontransaction t(c, "query");
    const std::string where = where_of(t, q);
    // One equality filter on session_id, subject or type alone: the page's
    // positions come from an index-only scan of its (column, position) index, then
    // the events by primary key. As one plain statement PostgreSQL may instead walk
    // the primary key from after_position and filter, as if the matches were spread
    // evenly over the log: a session's events are one block, so for a session
    // holding more than a few percent of the log that read every event before it
    // (docs/benchmarks.md, "Reads at scale").
    const int indexed = q.session_id.has_value() + q.subject.has_value() + q.type.has_value();
    if (indexed == 1 && !q.client_order_id && !q.ts_from && !q.ts_to) {
      return events_from(t.exec(fmt::format(
          "SELECT {} FROM events WHERE position = ANY (ARRAY(SELECT position FROM events WHERE {} ORDER BY position "
          "LIMIT {})) ORDER BY position",
          kEventColumns, where, clamp_limit(q.limit))));
    }
    return events_from(t.exec(fmt::format("SELECT {} FROM events WHERE {} ORDER BY position LIMIT {}", kEventColumns,
                                          where, clamp_limit(q.limit))));
  });
}

std::unique_ptr<EventReader> PgStore::open_reader(const EventQuery& q) {
  return std::make_unique<PgReader>(impl_->url, q);
}

namespace {

/// The stream of a prefix "<stream>:" (no other ':'), whose newest event
/// schema/005's event_streams names; nullopt for any other prefix.
std::optional<std::string> stream_of(std::string_view prefix) {
  if (prefix.empty() || prefix.find(':') != prefix.size() - 1) return std::nullopt;
  return std::string(prefix.substr(0, prefix.size() - 1));
}

/// The statement for the newest event whose msg_id starts with `prefix` ($1),
/// selecting `columns`: through event_streams for "<stream>:" (an index lookup
/// whatever the log's size), else by walking the primary key backwards.
std::string newest_with_prefix(std::string_view prefix, std::string_view columns) {
  if (stream_of(prefix))
    return fmt::format(
        "SELECT {} FROM events WHERE position = (SELECT last_position FROM event_streams WHERE stream = $1)", columns);
  return fmt::format("SELECT {} FROM events WHERE starts_with(msg_id, $1) ORDER BY position DESC LIMIT 1", columns);
}

}  // namespace

std::optional<StoredEvent> PgStore::last_event(std::string_view msg_id_prefix) {
  return impl_->run("last_event", [&](pqxx::connection& c, bool&) -> std::optional<StoredEvent> {
    pqxx::nontransaction t(c, "last_event");
    const auto r = impl_->can_read_events
                       ? t.exec_params(newest_with_prefix(msg_id_prefix, kEventColumns),
                                       stream_of(msg_id_prefix).value_or(std::string(msg_id_prefix)))
                       : t.exec_params(fmt::format("SELECT {} FROM events_newest($1)", kDefinerColumns),
                                       std::string(msg_id_prefix));
    if (r.empty()) return std::nullopt;
    return event_from_row(r[0]);
  });
}

std::vector<SessionSummary> PgStore::sessions() {
  return impl_->run("sessions", [&](pqxx::connection& c, bool&) {
    pqxx::nontransaction t(c, "sessions");
    // schema/005: kept per session by the statement that appends its events.
    const auto r = t.exec(
        "SELECT session_id, first_position, last_position, events, first_ts_event, last_ts_event "
        "FROM event_sessions ORDER BY first_position");
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

std::optional<std::int64_t> PgStore::position_of(std::string_view msg_id) {
  return impl_->run("position_of", [&](pqxx::connection& c, bool&) -> std::optional<std::int64_t> {
    pqxx::nontransaction t(c, "position_of");
    const pqxx::result r = t.exec_params(
        "SELECT position FROM events WHERE length(msg_id) = length($1) AND msg_id = $1",  // schema/007's index
        std::string(msg_id));
    if (r.empty()) return std::nullopt;
    return r[0][0].as<std::int64_t>();
  });
}

std::optional<std::string> PgStore::last_msg_id(std::string_view prefix) {
  return impl_->run("last_msg_id", [&](pqxx::connection& c, bool&) -> std::optional<std::string> {
    pqxx::nontransaction t(c, "last_msg_id");
    const pqxx::result r =
        impl_->can_read_events
            ? t.exec_params(newest_with_prefix(prefix, "msg_id"), stream_of(prefix).value_or(std::string(prefix)))
            : t.exec_params("SELECT msg_id FROM events_newest($1)", std::string(prefix));
    if (r.empty()) return std::nullopt;
    return text(r[0][0]);
  });
}

StoreHead PgStore::head() {
  return impl_->run("head", [&](pqxx::connection& c, bool&) {
    pqxx::read_transaction t(c, "head");  // one snapshot for both
    const pqxx::result r = t.exec(
        impl_->can_read_events
            ? "SELECT h.position, encode(h.hash, 'hex'), t.events FROM event_totals t LEFT JOIN LATERAL "
              "(SELECT position, hash FROM events ORDER BY position DESC LIMIT 1) h ON true"
            : "SELECT head_position, head_hash, events FROM events_head()");
    StoreHead h;
    if (r.empty()) return h;
    if (!r[0][0].is_null()) h.position = r[0][0].as<std::int64_t>();
    if (!r[0][1].is_null()) h.hash = text(r[0][1]);
    h.events = r[0][2].as<std::int64_t>();
    return h;
  });
}

std::map<std::int64_t, std::string> PgStore::hashes_at(const std::vector<std::int64_t>& positions) {
  return impl_->run("hashes_at", [&](pqxx::connection& c, bool&) {
    std::string list = "{";
    for (std::size_t i = 0; i < positions.size(); ++i) list += (i ? "," : "") + std::to_string(positions[i]);
    list += '}';
    pqxx::nontransaction t(c, "hashes_at");
    std::map<std::int64_t, std::string> out;
    for (const auto& row : t.exec_params(
             "SELECT position, encode(hash, 'hex') FROM events WHERE position = ANY ($1::bigint[])", list))
      out.emplace(row[0].as<std::int64_t>(), text(row[1]));
    return out;
  });
}

std::int64_t PgStore::count_through(std::int64_t position) {
  return impl_->run("count_through", [&](pqxx::connection& c, bool&) {
    pqxx::nontransaction t(c, "count_through");
    return t.exec_params("SELECT count(*) FROM events WHERE position <= $1", position)[0][0].as<std::int64_t>();
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
