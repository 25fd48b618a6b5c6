// JSON encoding: appends straight into a std::string (fmt::format_int for
// integers, Decimal::write for decimals); no format-string parsing per field.
#include <algorithm>
#include <cassert>
#include <cstring>

#include <fmt/format.h>

#include "codec/codec.hpp"

namespace codec {
namespace {

constexpr char kHex[] = "0123456789abcdef";

// Length of the valid UTF-8 sequence starting at s[i], or 0 if invalid
// (overlong forms, surrogates and code points above U+10FFFF are invalid).
std::size_t utf8_length(std::string_view s, std::size_t i) noexcept {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  const std::size_t left = s.size() - i;
  const auto cont = [&](std::size_t k) { return (b(k) & 0xC0) == 0x80; };
  if (c >= 0xC2 && c <= 0xDF) return left >= 2 && cont(i + 1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (left < 3 || !cont(i + 1) || !cont(i + 2)) return 0;
    if (c == 0xE0 && b(i + 1) < 0xA0) return 0;   // overlong
    if (c == 0xED && b(i + 1) >= 0xA0) return 0;  // UTF-16 surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (left < 4 || !cont(i + 1) || !cont(i + 2) || !cont(i + 3)) return 0;
    if (c == 0xF0 && b(i + 1) < 0x90) return 0;   // overlong
    if (c == 0xF4 && b(i + 1) >= 0x90) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

/// Appends to a std::string through a raw cursor: one capacity check per
/// field instead of one per character. `out` keeps its capacity between
/// messages, so a reused buffer does not allocate.
class Buffer {
 public:
  /// Writes over `out` from the start, or after its current text when `append`.
  explicit Buffer(std::string& out, bool append = false) : out_(out), n_(append ? out.size() : 0) {
    out_.resize(out_.capacity());
  }
  ~Buffer() { out_.resize(n_); }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  /// Room for `k` more bytes; returns where they go. Call done(k') after writing k' <= k.
  char* room(std::size_t k) {
    if (n_ + k > out_.size()) out_.resize(std::max(2 * out_.size(), n_ + k + 256));
    return out_.data() + n_;
  }
  void done(std::size_t k) noexcept { n_ += k; }
  void put(std::string_view s) {
    std::memcpy(room(s.size()), s.data(), s.size());
    n_ += s.size();
  }
  void put(char c) {
    *room(1) = c;
    ++n_;
  }

 private:
  std::string& out_;
  std::size_t n_;
};

/// Writes s as a JSON string (see append_json_string).
void put_json_string(Buffer& b, std::string_view s) {
  // Worst case: every byte becomes a 6-byte \uXXXX escape.
  char* const start = b.room(s.size() * 6 + 2);
  char* p = start;
  *p++ = '"';
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
      *p++ = static_cast<char>(c);
      ++i;
      continue;
    }
    if (c >= 0x80) {
      if (const std::size_t n = utf8_length(s, i); n != 0) {
        std::memcpy(p, s.data() + i, n);
        p += n;
        i += n;
      } else {
        std::memcpy(p, "\\ufffd", 6);
        p += 6;
        ++i;
      }
      continue;
    }
    *p++ = '\\';
    switch (c) {
      case '"': *p++ = '"'; break;
      case '\\': *p++ = '\\'; break;
      case '\n': *p++ = 'n'; break;
      case '\r': *p++ = 'r'; break;
      case '\t': *p++ = 't'; break;
      case '\b': *p++ = 'b'; break;
      case '\f': *p++ = 'f'; break;
      default:
        *p++ = 'u';
        *p++ = '0';
        *p++ = '0';
        *p++ = kHex[c >> 4];
        *p++ = kHex[c & 0xF];
    }
    ++i;
  }
  *p++ = '"';
  b.done(static_cast<std::size_t>(p - start));
}

/// Writes one JSON object field by field. The first key must be "type".
class Writer {
 public:
  explicit Writer(std::string& out) : b_(out) {}

  void begin(std::string_view type) {
    b_.put("{\"type\":");
    put_json_string(b_, type);
    b_.put(",\"v\":");
    integer_value(core::kSchemaVersion);
  }
  void end() { b_.put('}'); }

  void str(std::string_view key, std::string_view v) {
    this->key(key);
    put_json_string(b_, v);
  }
  /// Omitted when "" (optional text fields of the session messages).
  void opt_str(std::string_view key, std::string_view v) {
    if (!v.empty()) str(key, v);
  }
  /// `"key":{"k1":"v1",...}` in the given order; keys come from data (escaped).
  void string_object(std::string_view key, const std::vector<std::pair<std::string, std::string>>& items) {
    this->key(key);
    b_.put('{');
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (i != 0) b_.put(',');
      put_json_string(b_, items[i].first);
      b_.put(':');
      put_json_string(b_, items[i].second);
    }
    b_.put('}');
  }
  /// `"key":["a","b",...]`.
  void string_array(std::string_view key, const std::vector<std::string>& items) {
    this->key(key);
    b_.put('[');
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (i != 0) b_.put(',');
      put_json_string(b_, items[i]);
    }
    b_.put(']');
  }
  /// `"key":[1,2,...]`.
  void integer_array(std::string_view key, const std::vector<std::int64_t>& items) {
    this->key(key);
    b_.put('[');
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (i != 0) b_.put(',');
      integer_value(items[i]);
    }
    b_.put(']');
  }
  void dec(std::string_view key, core::Decimal d) {
    this->key(key);
    char* p = b_.room(core::Decimal::kMaxChars + 2);
    *p = '"';
    const std::size_t n = d.write(p + 1);
    p[n + 1] = '"';
    b_.done(n + 2);
  }
  void opt_dec(std::string_view key, const std::optional<core::Decimal>& d) {
    if (d) dec(key, *d);
  }
  /// The decimal, or JSON null when empty (risk policies: null = limit off).
  void dec_or_null(std::string_view key, const std::optional<core::Decimal>& d) {
    if (d) {
      dec(key, *d);
    } else {
      this->key(key);
      b_.put("null");
    }
  }
  /// `"key":{` ... `}` around fields written by `each(Writer&)`.
  template <class Fn>
  void object(std::string_view key, Fn each) {
    this->key(key);
    b_.put('{');
    first_ = true;
    each(*this);
    b_.put('}');
    first_ = false;
  }
  /// Like object(), for a key that comes from data (escaped as a JSON string).
  template <class Fn>
  void object_at(std::string_view data_key, Fn each) {
    if (!first_) b_.put(',');
    put_json_string(b_, data_key);
    b_.put(':');
    b_.put('{');
    first_ = true;
    each(*this);
    b_.put('}');
    first_ = false;
  }
  void integer(std::string_view key, std::int64_t v) {
    this->key(key);
    integer_value(v);
  }
  void opt_integer(std::string_view key, const std::optional<std::int64_t>& v) {
    if (v) integer(key, *v);
  }
  /// A stream sequence (cause_seq, log_seq, stream_seq), left out when 0 (none).
  void opt_seq(std::string_view key, std::uint64_t v) {
    if (v != 0) integer(key, static_cast<std::int64_t>(v));
  }
  void boolean(std::string_view key, bool v) {
    this->key(key);
    b_.put(v ? std::string_view("true") : std::string_view("false"));
  }
  template <class E>
  void enumeration(std::string_view key, E e) {
    this->key(key);
    const std::string_view name = core::to_string(e);  // plain lowercase ASCII
    char* p = b_.room(name.size() + 2);
    *p = '"';
    std::memcpy(p + 1, name.data(), name.size());
    p[name.size() + 1] = '"';
    b_.done(name.size() + 2);
  }

  /// `"key":[` then one object per element written by `each(Writer&, const T&)`.
  template <class T, class Fn>
  void array_of_objects(std::string_view key, const std::vector<T>& items, Fn each) {
    this->key(key);
    b_.put('[');
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (i != 0) b_.put(',');
      b_.put('{');
      first_ = true;
      each(*this, items[i]);
      b_.put('}');
    }
    b_.put(']');
    first_ = false;
  }

 private:
  /// `,"key":` (keys are our own snake_case literals: nothing to escape).
  void key(std::string_view k) {
    char* const start = b_.room(k.size() + 4);
    char* p = start;
    if (!first_) *p++ = ',';
    first_ = false;
    *p++ = '"';
    std::memcpy(p, k.data(), k.size());
    p += k.size();
    *p++ = '"';
    *p++ = ':';
    b_.done(static_cast<std::size_t>(p - start));
  }
  void integer_value(std::int64_t v) {
    const fmt::format_int f(v);
    b_.put(std::string_view(f.data(), f.size()));
  }

  Buffer b_;
  bool first_ = false;  // true right after '{' of a nested object
};

template <class T>
std::string encode_new(const T& m) {
  std::string out;
  out.reserve(256);
  encode_into(out, m);
  return out;
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
  Buffer b(out, /*append=*/true);
  put_json_string(b, s);
}

void encode_into(std::string& out, const core::Quote& m) {
  Writer w(out);
  w.begin(core::Quote::kType);
  w.str("symbol", m.symbol);
  w.dec("bid", m.bid);
  w.dec("ask", m.ask);
  w.opt_dec("bid_size", m.bid_size);
  w.opt_dec("ask_size", m.ask_size);
  w.integer("ts_event", m.ts_event);
  w.opt_integer("ts_recv", m.ts_recv);
  w.end();
}

void encode_into(std::string& out, const core::Trade& m) {
  Writer w(out);
  w.begin(core::Trade::kType);
  w.str("symbol", m.symbol);
  w.dec("price", m.price);
  w.dec("size", m.size);
  w.enumeration("aggressor_side", m.aggressor_side);
  if (m.trade_id) w.str("trade_id", *m.trade_id);
  w.integer("ts_event", m.ts_event);
  w.opt_integer("ts_recv", m.ts_recv);
  w.end();
}

void encode_into(std::string& out, const core::Bar& m) {
  Writer w(out);
  w.begin(core::Bar::kType);
  w.str("symbol", m.symbol);
  w.dec("open", m.open);
  w.dec("high", m.high);
  w.dec("low", m.low);
  w.dec("close", m.close);
  w.opt_dec("volume", m.volume);
  w.enumeration("price_type", m.price_type);
  w.opt_integer("ts_start", m.ts_start);
  w.integer("ts_event", m.ts_event);
  w.end();
}

void encode_into(std::string& out, const core::MarketData& m) {
  std::visit([&](const auto& x) { encode_into(out, x); }, m);
}

void encode_into(std::string& out, const core::OrderSubmit& m) {
  Writer w(out);
  w.begin(core::OrderSubmit::kType);
  w.str("client_order_id", m.client_order_id);
  w.str("symbol", m.symbol);
  w.enumeration("side", m.side);
  w.enumeration("order_type", m.order_type);
  w.dec("quantity", m.quantity);
  w.opt_dec("limit_price", m.limit_price);
  w.enumeration("time_in_force", m.time_in_force);
  w.str("strategy_id", m.strategy_id);
  w.integer("ts_event", m.ts_event);
  w.opt_dec("stop_price", m.stop_price);
  w.opt_integer("expire_time", m.expire_time);
  w.opt_seq("cause_seq", m.cause_seq);
  w.end();
}

void encode_into(std::string& out, const core::OrderCancel& m) {
  Writer w(out);
  w.begin(core::OrderCancel::kType);
  w.str("client_order_id", m.client_order_id);
  w.integer("ts_event", m.ts_event);
  w.opt_seq("cause_seq", m.cause_seq);
  w.end();
}

void encode_into(std::string& out, const core::OrderReplace& m) {
  Writer w(out);
  w.begin(core::OrderReplace::kType);
  w.str("client_order_id", m.client_order_id);
  w.str("orig_client_order_id", m.orig_client_order_id);
  w.opt_dec("quantity", m.quantity);
  w.opt_dec("limit_price", m.limit_price);
  w.opt_dec("stop_price", m.stop_price);
  w.integer("ts_event", m.ts_event);
  w.opt_seq("cause_seq", m.cause_seq);
  w.end();
}

void encode_into(std::string& out, const core::OrderCommand& m) {
  std::visit([&](const auto& x) { encode_into(out, x); }, m);
}

void encode_into(std::string& out, const core::ExecutionReport& m) {
  Writer w(out);
  w.begin(core::ExecutionReport::kType);
  w.str("client_order_id", m.client_order_id);
  w.str("exec_id", m.exec_id);
  w.enumeration("exec_type", m.exec_type);
  w.enumeration("order_status", m.order_status);
  w.str("symbol", m.symbol);
  w.enumeration("side", m.side);
  w.enumeration("order_type", m.order_type);
  w.enumeration("time_in_force", m.time_in_force);
  w.dec("quantity", m.quantity);
  w.opt_dec("limit_price", m.limit_price);
  w.dec("last_qty", m.last_qty);
  w.dec("last_px", m.last_px);
  w.dec("cum_qty", m.cum_qty);
  w.dec("leaves_qty", m.leaves_qty);
  w.dec("avg_px", m.avg_px);
  w.str("text", m.text);
  w.str("strategy_id", m.strategy_id);
  w.integer("ts_event", m.ts_event);
  w.opt_dec("stop_price", m.stop_price);
  w.opt_integer("expire_time", m.expire_time);
  if (m.orig_client_order_id) w.str("orig_client_order_id", *m.orig_client_order_id);
  w.opt_dec("commission", m.commission);
  w.opt_seq("cause_seq", m.cause_seq);
  w.end();
}

void encode_into(std::string& out, const core::RiskStateChanged& m) {
  Writer w(out);
  w.begin(core::RiskStateChanged::kType);
  w.enumeration("trading_state", m.trading_state);
  w.enumeration("previous_state", m.previous_state);
  w.str("reason", m.reason);
  w.str("source", m.source);
  w.integer("ts_event", m.ts_event);
  w.opt_str("sender", m.sender);
  w.opt_seq("cause_seq", m.cause_seq);
  w.end();
}

void encode_into(std::string& out, const core::SetTradingState& m) {
  Writer w(out);
  w.begin(core::SetTradingState::kType);
  w.enumeration("trading_state", m.trading_state);
  w.str("reason", m.reason);
  w.integer("ts_event", m.ts_event);
  w.end();
}

namespace {

/// "defaults":{...},"per_symbol":{...}[,"per_strategy":{...}]: every limit, null = off / no override.
void put_policy(Writer& w, const core::RiskPolicy& p) {
  w.object("defaults", [&](Writer& o) {
    const core::Limits& d = p.defaults;
    o.dec("max_order_qty", d.max_order_qty);
    o.dec("max_order_notional", d.max_order_notional);
    o.dec_or_null("max_position", d.max_position);
    o.dec_or_null("max_gross_exposure", d.max_gross_exposure);
    o.integer("max_open_orders", d.max_open_orders);
    o.dec_or_null("price_band_bps", d.price_band_bps);
    o.integer("max_orders_per_window", d.max_orders_per_window);
    o.integer("rate_window_ns", d.rate_window_ns);
    o.dec_or_null("daily_loss_limit", d.daily_loss_limit);
    o.dec_or_null("max_drawdown", d.max_drawdown);
    o.enumeration("drawdown_action", d.drawdown_action);
  });
  w.object("per_symbol", [&](Writer& o) {
    for (const auto& [symbol, s] : p.per_symbol) {  // std::map: sorted by symbol
      o.object_at(symbol, [&](Writer& e) {
        e.dec_or_null("max_order_qty", s.max_order_qty);
        e.dec_or_null("max_order_notional", s.max_order_notional);
        e.dec_or_null("max_position", s.max_position);
        e.dec_or_null("price_band_bps", s.price_band_bps);
      });
    }
  });
  if (p.per_strategy.empty()) return;  // written only when set (messages before it existed had none)
  w.object("per_strategy", [&](Writer& o) {
    for (const auto& [id, s] : p.per_strategy) {  // std::map: sorted by strategy_id
      o.object_at(id, [&](Writer& e) {
        e.dec_or_null("max_order_qty", s.max_order_qty);
        e.dec_or_null("max_order_notional", s.max_order_notional);
        e.dec_or_null("max_position", s.max_position);
      });
    }
  });
}

}  // namespace

void encode_into(std::string& out, const core::SetRiskPolicy& m) {
  Writer w(out);
  w.begin(core::SetRiskPolicy::kType);
  put_policy(w, m.policy);
  w.str("reason", m.reason);
  w.integer("ts_event", m.ts_event);
  w.end();
}

void encode_into(std::string& out, const core::RiskCommand& m) {
  std::visit([&](const auto& x) { encode_into(out, x); }, m);
}

void encode_into(std::string& out, const core::RiskPolicyChanged& m) {
  Writer w(out);
  w.begin(core::RiskPolicyChanged::kType);
  put_policy(w, m.policy);
  w.str("reason", m.reason);
  w.str("source", m.source);
  w.integer("ts_event", m.ts_event);
  w.opt_str("sender", m.sender);
  w.opt_seq("cause_seq", m.cause_seq);
  w.end();
}

void encode_into(std::string& out, const core::InstrumentStatus& m) {
  Writer w(out);
  w.begin(core::InstrumentStatus::kType);
  w.str("symbol", m.symbol);
  w.enumeration("status", m.status);
  w.str("reason", m.reason);
  w.integer("ts_event", m.ts_event);
  w.end();
}

void encode_into(std::string& out, const core::CorporateAction& m) {
  Writer w(out);
  w.begin(core::CorporateAction::kType);
  w.str("symbol", m.symbol);
  w.enumeration("action", m.action);
  if (m.ratio) w.dec("ratio", *m.ratio);
  if (m.amount) w.dec("amount", *m.amount);
  w.integer("ts_event", m.ts_event);
  w.end();
}

void encode_into(std::string& out, const core::PerformanceReport& m) {
  Writer w(out);
  w.begin(m.final_report ? core::PerformanceReport::kReportType
                         : core::PerformanceReport::kMetricsType);
  w.dec("realized_pnl", m.realized_pnl);
  w.dec("unrealized_pnl", m.unrealized_pnl);
  w.dec("total_pnl", m.total_pnl);
  w.dec("peak_pnl", m.peak_pnl);
  w.dec("max_drawdown", m.max_drawdown);
  w.dec("gross_notional_traded", m.gross_notional_traded);
  w.dec("commission", m.commission);
  w.integer("fills", m.fills);
  w.integer("orders", m.orders);
  w.integer("orders_denied", m.orders_denied);
  w.integer("orders_rejected", m.orders_rejected);
  w.array_of_objects("positions", m.positions, [](Writer& p, const core::PositionSnapshot& s) {
    p.str("symbol", s.symbol);
    p.dec("quantity", s.quantity);
    p.dec("avg_px", s.avg_px);
    p.dec("mark_px", s.mark_px);
    p.dec("realized_pnl", s.realized_pnl);
    p.dec("unrealized_pnl", s.unrealized_pnl);
    p.dec("commission", s.commission);
    p.dec("bought_qty", s.bought_qty);
    p.dec("sold_qty", s.sold_qty);
    if (!s.currency.empty()) p.str("currency", s.currency);
  });
  if (!m.base_currency.empty()) {
    w.str("base_currency", m.base_currency);
    w.array_of_objects("currencies", m.currencies, [](Writer& c, const core::CurrencyPnl& x) {
      c.str("currency", x.currency);
      c.dec("realized_pnl", x.realized_pnl);
      c.dec("unrealized_pnl", x.unrealized_pnl);
      c.dec("total_pnl", x.total_pnl);
      c.dec("commission", x.commission);
      c.dec("gross_notional_traded", x.gross_notional_traded);
      c.opt_dec("rate", x.rate);
      c.opt_dec("total_pnl_base", x.total_pnl_base);
    });
  }
  w.integer("ts_event", m.ts_event);
  w.opt_seq("cause_seq", m.cause_seq);
  w.end();
}

void encode_into(std::string& out, const core::Progress& m) {
  Writer w(out);
  w.begin(core::Progress::kType);
  w.str("worker", m.worker);
  w.integer("root_seq", static_cast<std::int64_t>(m.root_seq));  // 0 is meaningful here: always written
  w.integer("stage", m.stage);
  w.end();
}

void encode_into(std::string& out, const core::Heartbeat& m) {
  Writer w(out);
  w.begin(core::Heartbeat::kType);
  w.str("worker", m.worker);
  w.str("instance", m.instance);
  w.str("status", m.status);
  w.integer("msgs_in", m.msgs_in);
  w.integer("msgs_out", m.msgs_out);
  w.integer("errors", m.errors);
  w.integer("last_input_ns", m.last_input_ns);
  w.integer("started_ns", m.started_ns);
  w.integer("ts", m.ts);
  w.opt_seq("log_seq", m.log_seq);
  if (m.flagged != 0) w.integer("flagged", m.flagged);
  if (m.quarantined != 0) w.integer("quarantined", m.quarantined);
  w.end();
}

void encode_into(std::string& out, const core::DeadLetter& m) {
  Writer w(out);
  w.begin(core::DeadLetter::kType);
  w.str("worker", m.worker);
  w.str("subject", m.subject);
  w.str("field", m.field);
  w.str("error", m.error);
  w.str("payload", m.payload);
  w.integer("ts", m.ts);
  w.opt_str("sender", m.sender);
  w.opt_seq("stream_seq", m.stream_seq);
  w.end();
}

void encode_into(std::string& out, const core::OpsStatus& m) {
  Writer w(out);
  w.begin(core::OpsStatus::kType);
  w.array_of_objects("workers", m.workers, [](Writer& p, const core::WorkerStatus& s) {
    p.str("worker", s.worker);
    p.str("instance", s.instance);
    p.str("status", s.status);
    p.boolean("alive", s.alive);
    p.integer("age_ms", s.age_ms);
    p.integer("msgs_in", s.msgs_in);
    p.integer("msgs_out", s.msgs_out);
    p.integer("errors", s.errors);
    if (s.flagged != 0) p.integer("flagged", s.flagged);
    if (s.quarantined != 0) p.integer("quarantined", s.quarantined);
    p.opt_seq("log_seq", s.log_seq);
  });
  w.integer("ts", m.ts);
  if (!m.status.empty()) w.str("status", m.status);
  w.end();
}

void encode_into(std::string& out, const core::SessionStarted& m) {
  Writer w(out);
  w.begin(core::SessionStarted::kType);
  w.str("session_id", m.session_id);
  w.str("kind", m.kind);
  w.opt_str("source_session_id", m.source_session_id);
  w.opt_str("data_source", m.data_source);
  w.str("started_by", m.started_by);
  w.str("version", m.version);
  w.integer("ts_wall", m.ts_wall);
  w.opt_str("reason", m.reason);
  w.opt_str("input_set", m.input_set);
  w.end();
}

void encode_into(std::string& out, const core::SessionEnded& m) {
  Writer w(out);
  w.begin(core::SessionEnded::kType);
  w.str("session_id", m.session_id);
  w.integer("ts_wall", m.ts_wall);
  w.opt_str("reason", m.reason);
  w.end();
}

void encode_into(std::string& out, const core::SessionLifecycle& m) {
  std::visit([&](const auto& x) { encode_into(out, x); }, m);
}

void encode_into(std::string& out, const core::WorkerStarted& m) {
  // The caller's canonical form: sorted by key, keys unique (config_hash is computed over it).
  assert(std::adjacent_find(m.config.begin(), m.config.end(),
                            [](const auto& a, const auto& b) { return a.first >= b.first; }) == m.config.end());
  Writer w(out);
  w.begin(core::WorkerStarted::kType);
  w.str("worker", m.worker);
  w.str("instance", m.instance);
  w.str("version", m.version);
  w.integer("ts_wall", m.ts_wall);
  w.string_object("config", m.config);
  w.str("config_hash", m.config_hash);
  w.string_array("args", m.args);
  w.opt_str("data_source", m.data_source);
  w.opt_str("data_sha256", m.data_sha256);
  w.end();
}

void encode_into(std::string& out, const core::FeedSummaryEvent& m) {
  Writer w(out);
  w.begin(core::FeedSummaryEvent::kType);
  w.str("data_source", m.data_source);
  w.str("format", m.format);
  w.integer("published", m.published);
  w.integer("quotes", m.quotes);
  w.integer("trades", m.trades);
  w.integer("bars", m.bars);
  w.integer("bad_rows", m.bad_rows);
  w.integer("dropped", m.dropped);
  w.integer("flagged", m.flagged);
  w.array_of_objects("by_kind", m.by_kind, [](Writer& p, const core::FeedFindings& f) {
    p.str("kind", f.kind);
    p.integer("count", f.count);
    p.integer_array("lines", f.lines);
  });
  w.opt_str("policy", m.policy);
  if (m.ts_event != 0) w.integer("ts_event", m.ts_event);
  w.end();
}

std::string encode(const core::Progress& m) { return encode_new(m); }
std::string encode(const core::Quote& m) { return encode_new(m); }
std::string encode(const core::Trade& m) { return encode_new(m); }
std::string encode(const core::Bar& m) { return encode_new(m); }
std::string encode(const core::MarketData& m) { return encode_new(m); }
std::string encode(const core::OrderSubmit& m) { return encode_new(m); }
std::string encode(const core::OrderCancel& m) { return encode_new(m); }
std::string encode(const core::OrderReplace& m) { return encode_new(m); }
std::string encode(const core::OrderCommand& m) { return encode_new(m); }
std::string encode(const core::ExecutionReport& m) { return encode_new(m); }
std::string encode(const core::RiskStateChanged& m) { return encode_new(m); }
std::string encode(const core::SetTradingState& m) { return encode_new(m); }
std::string encode(const core::SetRiskPolicy& m) { return encode_new(m); }
std::string encode(const core::RiskCommand& m) { return encode_new(m); }
std::string encode(const core::RiskPolicyChanged& m) { return encode_new(m); }
std::string encode(const core::InstrumentStatus& m) { return encode_new(m); }
std::string encode(const core::CorporateAction& m) { return encode_new(m); }
std::string encode(const core::PerformanceReport& m) { return encode_new(m); }
std::string encode(const core::Heartbeat& m) { return encode_new(m); }
std::string encode(const core::DeadLetter& m) { return encode_new(m); }
std::string encode(const core::OpsStatus& m) { return encode_new(m); }
std::string encode(const core::SessionStarted& m) { return encode_new(m); }
std::string encode(const core::SessionEnded& m) { return encode_new(m); }
std::string encode(const core::SessionLifecycle& m) { return encode_new(m); }
std::string encode(const core::WorkerStarted& m) { return encode_new(m); }
std::string encode(const core::FeedSummaryEvent& m) { return encode_new(m); }

}  // namespace codec
