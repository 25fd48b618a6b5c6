#include "obs/log.hpp"

#include <chrono>
#include <cstdint>
#include <ctime>
#include <mutex>

#include <fmt/format.h>
#include <spdlog/formatter.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

namespace obs {

namespace {

/// Length of the UTF-8 sequence at s[i] if it is a valid one (no overlong form, no
/// surrogate, at most U+10FFFF), else 0.
std::size_t utf8_length(std::string_view s, std::size_t i) noexcept {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const auto cont = [&](std::size_t k) { return i + k < s.size() && (b(k) & 0xC0) == 0x80; };
  const unsigned char c = b(0);
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    if (c == 0xE0 && b(1) < 0xA0) return 0;   // overlong
    if (c == 0xED && b(1) >= 0xA0) return 0;  // UTF-16 surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if (c == 0xF0 && b(1) < 0x90) return 0;   // overlong
    if (c == 0xF4 && b(1) >= 0x90) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

/// `s` cut to `max` bytes at a character boundary; `cut` tells whether it was.
std::string_view clipped(std::string_view s, std::size_t max, bool& cut) noexcept {
  cut = s.size() > max;
  if (!cut) return s;
  std::size_t n = max;
  // Back off over continuation bytes (at most 3) so a character is not split.
  for (int k = 0; k < 3 && n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80; ++k) --n;
  return s.substr(0, n);
}

/// Escapes `s` (JSON string escapes; invalid UTF-8 -> U+FFFD) without quotes, cut to
/// `max` input bytes with the truncation marker.
void append_escaped(std::string& out, std::string_view s, std::size_t max) {
  bool cut = false;
  const auto kept = clipped(s, max, cut);
  out.reserve(out.size() + kept.size() + 2);
  for (std::size_t i = 0; i < kept.size();) {
    const unsigned char c = static_cast<unsigned char>(kept[i]);
    switch (c) {
      case '"': out += "\\\""; ++i; continue;
      case '\\': out += "\\\\"; ++i; continue;
      case '\n': out += "\\n"; ++i; continue;
      case '\r': out += "\\r"; ++i; continue;
      case '\t': out += "\\t"; ++i; continue;
      case '\b': out += "\\b"; ++i; continue;
      case '\f': out += "\\f"; ++i; continue;
      default: break;
    }
    if (c < 0x20 || c == 0x7F) {
      out += fmt::format("\\u{:04x}", c);
      ++i;
      continue;
    }
    const auto len = utf8_length(kept, i);
    if (len == 0) {
      out += "\\ufffd";
      ++i;
      continue;
    }
    out.append(kept.data() + i, len);
    i += len;
  }
  if (cut) out += fmt::format("...[truncated, {} bytes]", s.size());
}

spdlog::level::level_enum to_spdlog(LogLevel level) noexcept {
  switch (level) {
    case LogLevel::debug: return spdlog::level::debug;
    case LogLevel::info: return spdlog::level::info;
    case LogLevel::warn: return spdlog::level::warn;
    case LogLevel::error: return spdlog::level::err;
  }
  return spdlog::level::err;
}

std::string_view level_name(spdlog::level::level_enum level) noexcept {
  switch (level) {
    case spdlog::level::trace:
    case spdlog::level::debug: return "debug";
    case spdlog::level::info: return "info";
    case spdlog::level::warn: return "warn";
    default: return "error";
  }
}

/// Writes the stamp and level spdlog recorded, around the body Logger::log built
/// ("worker":...,"msg":... for JSON; "worker: msg k=v" for text).
class RecordFormatter final : public spdlog::formatter {
 public:
  explicit RecordFormatter(LogFormat format) : format_(format) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(msg.time.time_since_epoch()).count();
    auto secs = static_cast<std::time_t>(ns / 1'000'000'000);
    auto frac = ns % 1'000'000'000;
    if (frac < 0) {
      frac += 1'000'000'000;
      --secs;
    }
    std::tm tm{};
    gmtime_r(&secs, &tm);
    const auto level = level_name(msg.level);
    if (format_ == LogFormat::json) {
      fmt::format_to(std::back_inserter(dest), "{{\"ts\":\"{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z\",\"level\":\"{}\",",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac, level);
      dest.append(msg.payload.data(), msg.payload.data() + msg.payload.size());
      dest.push_back('}');
    } else {
      std::string upper(level);
      for (auto& ch : upper) ch = static_cast<char>(ch - 'a' + 'A');
      fmt::format_to(std::back_inserter(dest), "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z {:<5} ", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac, upper);
      dest.append(msg.payload.data(), msg.payload.data() + msg.payload.size());
    }
    dest.push_back('\n');
  }

  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<RecordFormatter>(format_); }

 private:
  LogFormat format_;
};

/// A sink handing each formatted record (without its newline) to a function.
class LineSinkAdapter final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit LineSinkAdapter(Logger::LineSink fn) : fn_(std::move(fn)) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t buf;
    formatter_->format(msg, buf);
    std::string_view line(buf.data(), buf.size());
    if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
    fn_(line);
  }
  void flush_() override {}

 private:
  Logger::LineSink fn_;
};

/// A text-format value: bare if it has no space, quote, '=' or escape, else quoted.
void append_text_value(std::string& out, std::string_view v) {
  std::string escaped;
  append_escaped(escaped, v, kMaxValueBytes);
  const bool bare = !v.empty() && escaped.size() == v.size() && escaped.find_first_of(" \"=") == std::string::npos;
  if (bare) {
    out += escaped;
  } else {
    out += '"';
    out += escaped;
    out += '"';
  }
}

}  // namespace

std::string_view to_string(LogLevel level) noexcept { return level_name(to_spdlog(level)); }

std::optional<LogLevel> parse_log_level(std::string_view s) noexcept {
  if (s == "debug") return LogLevel::debug;
  if (s == "info") return LogLevel::info;
  if (s == "warn" || s == "warning") return LogLevel::warn;
  if (s == "error") return LogLevel::error;
  return std::nullopt;
}

std::optional<LogFormat> parse_log_format(std::string_view s) noexcept {
  if (s == "json") return LogFormat::json;
  if (s == "text") return LogFormat::text;
  return std::nullopt;
}

void append_log_json_string(std::string& out, std::string_view s, std::size_t max) {
  out += '"';
  append_escaped(out, s, max);
  out += '"';
}

struct Logger::Impl {
  LogOptions opts;
  std::shared_ptr<spdlog::logger> logger;
  mutable std::mutex mu;
  std::string session;  // under mu

  Impl(LogOptions o, spdlog::sink_ptr sink) : opts(std::move(o)) {
    sink->set_formatter(std::make_unique<RecordFormatter>(opts.format));
    logger = std::make_shared<spdlog::logger>(opts.worker, std::move(sink));  // not registered: no global state
    logger->set_level(to_spdlog(opts.level));
    logger->flush_on(spdlog::level::trace);  // every record reaches stderr at once (a crash loses none)
  }
};

Logger::Logger(LogOptions opts)
    : impl_(std::make_unique<Impl>(std::move(opts), std::make_shared<spdlog::sinks::stderr_sink_mt>())) {}

Logger::Logger(LogOptions opts, LineSink sink)
    : impl_(std::make_unique<Impl>(std::move(opts), std::make_shared<LineSinkAdapter>(std::move(sink)))) {}

Logger::~Logger() = default;

const std::string& Logger::worker() const noexcept { return impl_->opts.worker; }

LogFormat Logger::format() const noexcept { return impl_->opts.format; }

void Logger::set_session(std::string session) {
  std::lock_guard lock(impl_->mu);
  impl_->session = std::move(session);
}

std::string Logger::session() const {
  std::lock_guard lock(impl_->mu);
  return impl_->session;
}

bool Logger::enabled(LogLevel level) const noexcept { return impl_->logger->should_log(to_spdlog(level)); }

void Logger::write(LogLevel level, std::string_view msg, std::span<const LogField> fields) noexcept {
  if (!enabled(level)) return;
  try {
    const auto session = this->session();
    std::string body;
    body.reserve(96 + msg.size());
    if (impl_->opts.format == LogFormat::json) {
      body += "\"worker\":";
      append_log_json_string(body, impl_->opts.worker);
      if (!session.empty()) {
        body += ",\"session\":";
        append_log_json_string(body, session);
      }
      body += ",\"msg\":";
      append_log_json_string(body, msg);
      for (const auto& f : fields) {
        body += ',';
        append_log_json_string(body, f.key, 64);
        body += ':';
        append_log_json_string(body, f.value);
      }
    } else {
      append_escaped(body, impl_->opts.worker, kMaxValueBytes);
      body += ": ";
      append_escaped(body, msg, kMaxValueBytes);
      if (!session.empty()) {
        body += " session=";
        append_text_value(body, session);
      }
      for (const auto& f : fields) {
        body += ' ';
        append_escaped(body, f.key, 64);
        body += '=';
        append_text_value(body, f.value);
      }
    }
    impl_->logger->log(to_spdlog(level), spdlog::string_view_t(body.data(), body.size()));
  } catch (...) {  // out of memory: the record is lost, the caller goes on
  }
}

std::shared_ptr<Logger> default_logger(std::string worker) {
  return std::make_shared<Logger>(LogOptions{.worker = std::move(worker), .format = LogFormat::text, .level = LogLevel::info});
}

}  // namespace obs
