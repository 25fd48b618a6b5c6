#include "eventstore/json_check.hpp"

#include <cstdint>
#include <vector>

namespace eventstore::detail {
namespace {

class Checker {
 public:
  explicit Checker(std::string_view s) noexcept : s_(s) {}

  bool document() {
    ws();
    if (!value()) return false;
    ws();
    return i_ == s_.size();
  }

 private:
  static constexpr int kMaxDepth = 6400;

  bool at_end() const noexcept { return i_ >= s_.size(); }
  char peek() const noexcept { return at_end() ? '\0' : s_[i_]; }
  void ws() noexcept {
    while (!at_end() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  bool literal(std::string_view word) noexcept {
    if (s_.substr(i_, word.size()) != word) return false;
    i_ += word.size();
    return true;
  }

  // Iterative over containers so deep nesting can't overflow the stack.
  bool value() {
    std::vector<char> stack;  // '{' or '['
    for (;;) {
      // parse one value start
      ws();
      const char c = peek();
      if (c == '{' || c == '[') {
        if (static_cast<int>(stack.size()) >= kMaxDepth) return false;
        ++i_;
        ws();
        const char close = c == '{' ? '}' : ']';
        if (peek() == close) {
          ++i_;  // empty container: a complete value
        } else {
          stack.push_back(c);
          if (c == '{' && !member_key()) return false;
          continue;  // parse the first element
        }
      } else if (c == '"') {
        if (!string()) return false;
      } else if (c == 't') {
        if (!literal("true")) return false;
      } else if (c == 'f') {
        if (!literal("false")) return false;
      } else if (c == 'n') {
        if (!literal("null")) return false;
      } else if (c == '-' || (c >= '0' && c <= '9')) {
        if (!number()) return false;
      } else {
        return false;
      }
      // a value is complete: close containers or move to the next element
      for (;;) {
        if (stack.empty()) return true;
        ws();
        const char open = stack.back();
        const char close = open == '{' ? '}' : ']';
        if (peek() == ',') {
          ++i_;
          if (open == '{' && !member_key()) return false;
          break;  // parse the next element
        }
        if (peek() != close) return false;
        ++i_;
        stack.pop_back();
      }
    }
  }

  bool member_key() noexcept {
    ws();
    if (peek() != '"' || !string()) return false;
    ws();
    if (peek() != ':') return false;
    ++i_;
    return true;
  }

  bool number() noexcept {
    if (peek() == '-') ++i_;
    if (peek() == '0') {
      ++i_;
    } else if (peek() >= '1' && peek() <= '9') {
      while (peek() >= '0' && peek() <= '9') ++i_;
    } else {
      return false;
    }
    if (peek() == '.') {
      ++i_;
      if (!(peek() >= '0' && peek() <= '9')) return false;
      while (peek() >= '0' && peek() <= '9') ++i_;
    }
    if (peek() == 'e' || peek() == 'E') {
      ++i_;
      if (peek() == '+' || peek() == '-') ++i_;
      if (!(peek() >= '0' && peek() <= '9')) return false;
      while (peek() >= '0' && peek() <= '9') ++i_;
    }
    return true;
  }

  bool hex4(std::uint32_t& out) noexcept {
    if (s_.size() - i_ < 4) return false;
    out = 0;
    for (int k = 0; k < 4; ++k) {
      const char h = s_[i_++];
      out <<= 4;
      if (h >= '0' && h <= '9') out |= static_cast<std::uint32_t>(h - '0');
      else if (h >= 'a' && h <= 'f') out |= static_cast<std::uint32_t>(h - 'a' + 10);
      else if (h >= 'A' && h <= 'F') out |= static_cast<std::uint32_t>(h - 'A' + 10);
      else return false;
    }
    return true;
  }

  bool string() noexcept {
    ++i_;  // opening quote
    while (!at_end()) {
      const auto c = static_cast<unsigned char>(s_[i_]);
      if (c == '"') {
        ++i_;
        return true;
      }
      if (c < 0x20) return false;
      if (c == '\\') {
        ++i_;
        if (at_end()) return false;
        const char e = s_[i_++];
        if (e == 'u') {
          std::uint32_t cp = 0;
          if (!hex4(cp) || cp == 0) return false;
          if (cp >= 0xDC00 && cp <= 0xDFFF) return false;  // lone low surrogate
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            std::uint32_t lo = 0;
            if (!literal("\\u") || !hex4(lo) || lo < 0xDC00 || lo > 0xDFFF) return false;
          }
        } else if (e != '"' && e != '\\' && e != '/' && e != 'b' && e != 'f' && e != 'n' && e != 'r' &&
                   e != 't') {
          return false;
        }
        continue;
      }
      if (c < 0x80) {
        ++i_;
        continue;
      }
      if (!utf8_sequence()) return false;
    }
    return false;  // unterminated
  }

  // One multi-byte UTF-8 sequence at i_ (RFC 3629: no overlongs, no surrogates, <= U+10FFFF).
  bool utf8_sequence() noexcept {
    const auto b0 = static_cast<unsigned char>(s_[i_]);
    int len;
    std::uint32_t cp;
    if (b0 >= 0xC2 && b0 <= 0xDF) { len = 2; cp = b0 & 0x1F; }
    else if (b0 >= 0xE0 && b0 <= 0xEF) { len = 3; cp = b0 & 0x0F; }
    else if (b0 >= 0xF0 && b0 <= 0xF4) { len = 4; cp = b0 & 0x07; }
    else return false;
    if (s_.size() - i_ < static_cast<std::size_t>(len)) return false;
    for (int k = 1; k < len; ++k) {
      const auto b = static_cast<unsigned char>(s_[i_ + k]);
      if ((b & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (b & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i_ += len;
    return true;
  }

  std::string_view s_;
  std::size_t i_ = 0;
};

}  // namespace

bool is_valid_json(std::string_view text) noexcept {
  try {
    return Checker(text).document();
  } catch (...) {  // std::bad_alloc from the nesting stack
    return false;
  }
}

}  // namespace eventstore::detail
