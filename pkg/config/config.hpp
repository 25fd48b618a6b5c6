/// @file config.hpp
/// @brief Layered worker settings: defaults < config file < environment < flags.
///
/// Each worker declares its options (key, environment variable, default, help).
/// A key `max_order_qty` is `--max-order-qty` on the command line,
/// `max_order_qty = 100` in the config file (one `key = value` per line, `#`
/// comments; given with `--config FILE` or the TRADER_CONFIG environment
/// variable), and the named environment variable (e.g. RISK_MAX_ORDER_QTY).
/// One file serves the whole stack: keys before any section apply to every
/// worker (so they must be common ones, e.g. nats_url), keys under `[risk-state]`
/// only to the worker of that name; other workers skip that section.
/// Only cmd/ uses this (STYLE.md section 8); libraries get plain structs.
/// Errors: `ConfigError` naming the key and the problem. Not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "core/decimal.hpp"

namespace config {

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Option {
  std::string key;            ///< snake_case
  std::string env;            ///< environment variable, "" for none
  std::string default_value;  ///< "" = empty/unset
  std::string help;
  bool is_flag = false;       ///< boolean switch: `--key` alone means true
};

/// Options every worker has: nats_url (NATS_URL), database_url (DATABASE_URL).
std::vector<Option> common_options();

class Settings {
 public:
  Settings(std::string program, std::string summary, std::vector<Option> options);
  /// Parses argv and the environment. Throws ConfigError on an unknown flag, a
  /// missing value, an unreadable file or an unknown key in the file.
  /// Positional arguments (not starting with --) are collected in positional().
  void parse(int argc, char** argv);
  /// true when --help was given (help() has the text) or --check-config.
  bool help_requested() const noexcept { return help_; }
  bool check_only() const noexcept { return check_; }
  std::string help() const;

  const std::string& get(const std::string& key) const;   ///< throws ConfigError for an undeclared key
  std::int64_t get_int(const std::string& key) const;      ///< throws ConfigError naming key if not an integer
  double get_double(const std::string& key) const;         ///< for non-money settings (speed factors)
  core::Decimal get_decimal(const std::string& key) const; ///< exact; throws ConfigError
  bool get_bool(const std::string& key) const;             ///< true/false/1/0/yes/no
  const std::vector<std::string>& positional() const noexcept { return positional_; }
  /// Every declared key with its value, sorted by key (for the session manifest).
  std::vector<std::pair<std::string, std::string>> values() const { return {values_.begin(), values_.end()}; }
  /// Every key with its value and where it came from, for --check-config.
  std::string describe() const;

 private:
  void set(const std::string& key, std::string value, std::string source);
  std::string program_, summary_;
  std::vector<Option> options_;
  std::map<std::string, std::string> values_;
  std::map<std::string, std::string> sources_;
  std::vector<std::string> positional_;
  bool help_ = false, check_ = false;
};

}  // namespace config
