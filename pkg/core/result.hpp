/// @file result.hpp
/// @brief `Result<T>`: a value or an `Error` naming the field and the problem.
///
/// Used for everything that can be wrong with inbound bytes (STYLE.md section 6).
/// Decoders never throw; they return an Error such as
/// `{field: "quantity", message: "must be a positive decimal, got \"-5\""}`.
/// Thread-safety: value types.
#pragma once

#include <string>
#include <utility>
#include <variant>

#include <fmt/format.h>

namespace core {

/// What was wrong with an input. `field` is the JSON key (or CSV column, or
/// "" when the whole input is at fault, e.g. not JSON at all).
struct Error {
  std::string field;
  std::string message;
  /// "field: message", or just message when field is empty.
  std::string to_string() const {
    return field.empty() ? message : fmt::format("{}: {}", field, message);
  }
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}          // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}      // NOLINT
  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }
  /// Precondition: ok(). Calling it on an error is a bug (std::bad_variant_access).
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  /// Precondition: !ok().
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

inline Error make_error(std::string field, std::string message) {
  return Error{std::move(field), std::move(message)};
}

}  // namespace core
