#include "eventstore/storable.hpp"

#include <simdjson.h>

#include <fmt/format.h>

#include "eventstore/json_check.hpp"

namespace eventstore::detail {
namespace {

std::optional<std::string> text_refusal(std::string_view field, std::string_view s) {
  if (s.find('\0') != std::string_view::npos) return fmt::format("a NUL byte in {}", field);
  if (!simdjson::validate_utf8(s.data(), s.size())) return fmt::format("{} is not valid UTF-8", field);
  if (s.size() > kMaxIndexedTextBytes)
    return fmt::format("{} is {} bytes long, more than the {} an index entry may hold", field, s.size(),
                       kMaxIndexedTextBytes);
  return std::nullopt;
}

/// A JSON string literal of `s`, printable ASCII only, cut to `max` input bytes.
void ascii_json_string(std::string& out, std::string_view s, std::size_t max) {
  out += '"';
  for (const unsigned char c : s.substr(0, max)) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == 0) {
      out += "\\ufffd";
    } else if (c < 0x20 || c >= 0x7f) {
      fmt::format_to(std::back_inserter(out), "\\u{:04x}", static_cast<unsigned>(c));
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
}

/// `s` if text_refusal has nothing to say about it, else printable ASCII of it.
std::string storable_text(std::string_view field, std::string_view s) {
  if (!text_refusal(field, s)) return std::string(s);
  return printable_ascii(s, 256);
}

}  // namespace

std::optional<std::string> refusal(const NewEvent& e) {
  if (auto r = text_refusal("msg_id", e.msg_id)) return r;
  if (auto r = text_refusal("subject", e.subject)) return r;
  if (auto r = text_refusal("type", e.type)) return r;
  if (e.client_order_id)
    if (auto r = text_refusal("client_order_id", *e.client_order_id)) return r;
  if (e.session_id)
    if (auto r = text_refusal("session_id", *e.session_id)) return r;
  if (e.payload.find('\0') != std::string::npos) return std::string("a NUL byte in payload");
  return std::nullopt;
}

bool storable_in_memory(const NewEvent& e, std::string* reason) {
  auto r = refusal(e);
  if (!r && !is_valid_json(e.payload)) r = "payload is not JSON that jsonb accepts";
  if (r && reason) *reason = *r;
  return !r;
}

NewEvent quarantine_placeholder(const NewEvent& refused, std::string_view reason) {
  NewEvent p;
  p.msg_id = refused.msg_id;
  p.subject = storable_text("subject", refused.subject);
  p.type = "quarantined";
  p.ts_event = refused.ts_event;
  if (refused.session_id) p.session_id = storable_text("session_id", *refused.session_id);
  const std::string_view raw(refused.payload);
  const std::string_view kept = raw.substr(0, kPlaceholderRawBytes);
  p.payload.reserve(200 + reason.size() + kept.size() * 4 / 3);
  p.payload += R"({"type":"quarantined","v":1,"reason":)";
  ascii_json_string(p.payload, reason, 1000);
  p.payload += R"(,"original_type":)";
  ascii_json_string(p.payload, refused.type, 128);
  fmt::format_to(std::back_inserter(p.payload), R"(,"raw_bytes":{},"raw_base64":")", raw.size());
  p.payload += base64(kept);
  p.payload += kept.size() < raw.size() ? R"(","raw_truncated":true})" : R"(","raw_truncated":false})";
  return p;
}

std::string printable_ascii(std::string_view s, std::size_t max) {
  std::string out(s.substr(0, max));
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
  return out;
}

std::string base64(std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const unsigned v = static_cast<unsigned char>(bytes[i]) << 16 | static_cast<unsigned char>(bytes[i + 1]) << 8 |
                       static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[v >> 18 & 63];
    out += kAlphabet[v >> 12 & 63];
    out += kAlphabet[v >> 6 & 63];
    out += kAlphabet[v & 63];
  }
  if (const std::size_t rest = bytes.size() - i; rest > 0) {
    unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
    if (rest == 2) v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    out += kAlphabet[v >> 18 & 63];
    out += kAlphabet[v >> 12 & 63];
    out += rest == 2 ? kAlphabet[v >> 6 & 63] : '=';
    out += '=';
  }
  return out;
}

}  // namespace eventstore::detail
