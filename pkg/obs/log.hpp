/// @file log.hpp
/// @brief A worker's log: one record per line on stderr, as JSON (the default for
/// the worker binaries) or as a human-readable one-liner, through spdlog.
///
/// A JSON record is one object on one line, keys in this order:
///
///     {"ts":"2026-12-07T11:03:41.123456789Z","level":"warn","worker":"risk-state",
///      "session":"live-20261207-...","msg":"NATS disconnected: ...; reconnecting",
///      "client_order_id":"o-42","subject":"trading.orders"}
///
/// - `ts`: wall-clock time of the record, RFC 3339 UTC with nanoseconds (log stamps
///   are ops data: domain time rules do not apply to them);
/// - `level`: "debug", "info", "warn" or "error";
/// - `worker`: the process's worker name;
/// - `session`: the session the worker is in (set_session), omitted while unknown;
/// - `msg`: the human message (the text the worker printed before JSON logs);
/// - then the call's own fields (LogField), in the order given: `client_order_id`
///   where the record concerns an order, `subject`, `field`, `seq`, ... Values are
///   strings.
///
/// The text format (LOG_FORMAT=text, for a person at a terminal) says the same thing:
///
///     2026-12-07T11:03:41.123456789Z WARN  risk-state: NATS disconnected ...; reconnecting session=... subject=...
///
/// Every string is escaped (JSON: quotes, backslashes, control characters as \n, \t
/// or \u00XX; bytes that are not UTF-8 become U+FFFD; text: the same escapes, so a
/// record stays on one line) and cut to kMaxValueBytes bytes, at a character boundary,
/// with the marker "...[truncated, N bytes]" (N: the original size), so that hostile
/// input cannot write huge lines.
///
/// No global state: main() makes one Logger (worker_main's worker_log(), from the
/// settings log_format / LOG_FORMAT and log_level / LOG_LEVEL) and hands it to the NATS
/// connection and the Runtime; nothing is registered in spdlog's registry.
#pragma once

#include <cstddef>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace obs {

enum class LogLevel { debug, info, warn, error };
enum class LogFormat { json, text };

/// "debug" | "info" | "warn" | "error".
std::string_view to_string(LogLevel level) noexcept;
/// The level named `s` ("debug", "info", "warn" or "warning", "error"), nullopt otherwise.
std::optional<LogLevel> parse_log_level(std::string_view s) noexcept;
/// The format named `s` ("json" or "text"), nullopt otherwise.
std::optional<LogFormat> parse_log_format(std::string_view s) noexcept;

/// One extra field of a record. `key` is the program's constant (snake_case, e.g.
/// "client_order_id"; written as given); `value` is any bytes (escaped, cut).
struct LogField {
  std::string_view key;
  std::string_view value;
};
using LogFields = std::initializer_list<LogField>;

/// How much of one string value (msg, session, a field) a record keeps, in bytes of
/// the input; the rest is replaced by the truncation marker.
inline constexpr std::size_t kMaxValueBytes = 4096;

struct LogOptions {
  std::string worker;                 ///< the `worker` field; "" is written as ""
  LogFormat format = LogFormat::json;
  LogLevel level = LogLevel::info;    ///< records below it are dropped (not formatted)
};

/// The log of one process. Thread-safe: every member may be called from any thread
/// (nats.c's callback threads, the delivery thread, the HTTP server's); records are
/// written whole, one line each, in the order their calls took spdlog's sink lock.
/// Logging never throws: a record that cannot be formatted (out of memory) is dropped.
class Logger {
 public:
  /// Where a LineSink logger writes: one record, without its newline. Called under the
  /// logger's lock (one call at a time); must not log to the same logger.
  using LineSink = std::function<void(std::string_view line)>;

  /// A logger writing to stderr (spdlog's stderr_sink_mt), flushed after every record.
  /// Throws std::bad_alloc / spdlog::spdlog_ex only if it cannot be built.
  explicit Logger(LogOptions opts);
  /// A logger writing through `sink` (tests; nothing reaches stderr).
  Logger(LogOptions opts, LineSink sink);
  ~Logger();
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;

  const std::string& worker() const noexcept;
  LogFormat format() const noexcept;
  /// The session written in later records ("" = none: the field is omitted).
  void set_session(std::string session);
  std::string session() const;
  /// Whether a record of `level` would be written (for callers that build costly fields).
  bool enabled(LogLevel level) const noexcept;

  /// Writes one record (if `level` is enabled).
  void log(LogLevel level, std::string_view msg, LogFields fields = {}) noexcept {
    write(level, msg, std::span<const LogField>(fields.begin(), fields.size()));
  }
  /// The same, with fields built at run time.
  void write(LogLevel level, std::string_view msg, std::span<const LogField> fields) noexcept;
  void debug(std::string_view msg, LogFields fields = {}) noexcept { log(LogLevel::debug, msg, fields); }
  void info(std::string_view msg, LogFields fields = {}) noexcept { log(LogLevel::info, msg, fields); }
  void warn(std::string_view msg, LogFields fields = {}) noexcept { log(LogLevel::warn, msg, fields); }
  void error(std::string_view msg, LogFields fields = {}) noexcept { log(LogLevel::error, msg, fields); }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// A logger for code that was given none (a natsio::Connection or Runtime built by
/// traderctl or a test): text format, level info, on stderr, named `worker`.
std::shared_ptr<Logger> default_logger(std::string worker);

/// Appends `s` to `out` as a quoted JSON string, escaped as described above and cut to
/// `max` bytes of input with the truncation marker. Pure; exposed for the tests.
void append_log_json_string(std::string& out, std::string_view s, std::size_t max = kMaxValueBytes);

}  // namespace obs
