#include "config/config.hpp"

#include <charconv>
#include <cstdlib>
#include <fstream>

#include <fmt/format.h>

namespace config {
namespace {

std::string flag_name(const std::string& key) {
  std::string f = "--";
  for (char c : key) f.push_back(c == '_' ? '-' : c);
  return f;
}

std::string trim(std::string s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

}  // namespace

std::vector<Option> common_options() {
  return {
      {"nats_url", "NATS_URL", "nats://127.0.0.1:4222", "NATS server URL, or a cluster's comma-separated list (each with its credentials)"},
      {"database_url", "DATABASE_URL", "", "PostgreSQL URL (event store), e.g. postgresql://trader@127.0.0.1:5432/trader"},
  };
}

Settings::Settings(std::string program, std::string summary, std::vector<Option> options)
    : program_(std::move(program)), summary_(std::move(summary)), options_(std::move(options)) {
  for (const auto& o : options_) set(o.key, o.default_value, "default");
}

void Settings::set(const std::string& key, std::string value, std::string source) {
  values_[key] = std::move(value);
  sources_[key] = std::move(source);
}

void Settings::parse(int argc, char** argv) {
  // 1. find --config first (file < env < flags)
  std::string file;
  if (const char* e = std::getenv("TRADER_CONFIG"); e && *e) file = e;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--config" && i + 1 < argc) file = argv[i + 1];
    else if (a.rfind("--config=", 0) == 0) file = a.substr(9);
  }
  if (!file.empty()) {
    std::ifstream in(file);
    if (!in) throw ConfigError(fmt::format("--config: cannot read {}", file));
    std::string line, section;
    int n = 0;
    while (std::getline(in, line)) {
      ++n;
      if (const auto h = line.find('#'); h != std::string::npos) line.resize(h);
      line = trim(line);
      if (line.empty()) continue;
      if (line.front() == '[' && line.back() == ']') {  // [worker]: keys for that worker only
        section = trim(line.substr(1, line.size() - 2));
        continue;
      }
      if (!section.empty() && section != program_) continue;
      const auto eq = line.find('=');
      if (eq == std::string::npos) throw ConfigError(fmt::format("{}:{}: expected key = value", file, n));
      const std::string key = trim(line.substr(0, eq));
      std::string value = trim(line.substr(eq + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
      if (!values_.count(key)) throw ConfigError(fmt::format("{}:{}: unknown key '{}'", file, n, key));
      set(key, value, file);
    }
  }
  // 2. environment
  for (const auto& o : options_) {
    if (o.env.empty()) continue;
    if (const char* e = std::getenv(o.env.c_str()); e && *e) set(o.key, e, "env " + o.env);
  }
  // 3. flags
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") { help_ = true; continue; }
    if (a == "--check-config") { check_ = true; continue; }
    if (a == "--config") { ++i; continue; }
    if (a.rfind("--config=", 0) == 0) continue;
    if (a.rfind("--", 0) != 0 || a == "--") { positional_.push_back(a); continue; }
    std::string value;
    bool has_value = false;
    if (const auto eq = a.find('='); eq != std::string::npos) {
      value = a.substr(eq + 1);
      a.resize(eq);
      has_value = true;
    }
    const Option* opt = nullptr;
    for (const auto& o : options_)
      if (flag_name(o.key) == a) opt = &o;
    if (!opt) throw ConfigError(fmt::format("unknown option {} (see --help)", a));
    if (!has_value) {
      if (opt->is_flag) value = "true";
      else if (i + 1 < argc) value = argv[++i];
      else throw ConfigError(fmt::format("{} needs a value", a));
    }
    set(opt->key, value, "flag");
  }
}

const std::string& Settings::get(const std::string& key) const {
  const auto it = values_.find(key);
  if (it == values_.end()) throw ConfigError(fmt::format("undeclared setting '{}'", key));
  return it->second;
}

std::int64_t Settings::get_int(const std::string& key) const {
  const auto& v = get(key);
  std::int64_t out = 0;
  const auto r = std::from_chars(v.data(), v.data() + v.size(), out);
  if (r.ec != std::errc() || r.ptr != v.data() + v.size())
    throw ConfigError(fmt::format("{}: must be an integer, got \"{}\"", key, v));
  return out;
}

double Settings::get_double(const std::string& key) const {
  const auto& v = get(key);
  char* end = nullptr;
  const double d = std::strtod(v.c_str(), &end);
  if (v.empty() || *end != '\0') throw ConfigError(fmt::format("{}: must be a number, got \"{}\"", key, v));
  return d;
}

core::Decimal Settings::get_decimal(const std::string& key) const {
  const auto& v = get(key);
  const auto d = core::Decimal::parse(v);
  if (!d) throw ConfigError(fmt::format("{}: must be a decimal with at most 8 fractional digits, got \"{}\"", key, v));
  return *d;
}

bool Settings::get_bool(const std::string& key) const {
  const auto& v = get(key);
  if (v == "true" || v == "1" || v == "yes" || v == "on") return true;
  if (v == "false" || v == "0" || v == "no" || v == "off" || v.empty()) return false;
  throw ConfigError(fmt::format("{}: must be true or false, got \"{}\"", key, v));
}

std::string Settings::help() const {
  std::string out = fmt::format("usage: {} [options]\n{}\n\noptions (flag | environment | default):\n", program_, summary_);
  for (const auto& o : options_) {
    out += fmt::format("  {:<24} {:<22} {:<24} {}\n", flag_name(o.key) + (o.is_flag ? "" : " V"),
                       o.env.empty() ? "-" : o.env, o.default_value.empty() ? "\"\"" : o.default_value, o.help);
  }
  out += "  --config FILE            TRADER_CONFIG          key = value lines, overridden by env and flags\n"
         "  --check-config           validate the settings, print them and exit\n";
  return out;
}

std::string Settings::describe() const {
  std::string out;
  for (const auto& o : options_) {
    out += fmt::format("{} = {}    # from {}\n", o.key, values_.at(o.key), sources_.at(o.key));
  }
  return out;
}

}  // namespace config
