#include "workers/instruments_file.hpp"

#include <fstream>
#include <vector>

#include <fmt/format.h>

#include "config/config.hpp"

namespace services {
namespace {

std::string trim(std::string s) {
  const auto b = s.find_first_not_of(" \t\r");
  const auto e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    const auto comma = line.find(',', start);
    out.push_back(trim(line.substr(start, comma == std::string::npos ? std::string::npos : comma - start)));
    if (comma == std::string::npos) return out;
    start = comma + 1;
  }
}

}  // namespace

matching::Instruments load_instruments(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw config::ConfigError(fmt::format("instruments: cannot read {}", path));
  matching::Instruments out;
  std::string line;
  int n = 0;
  bool header = false;
  while (std::getline(in, line)) {
    ++n;
    line = trim(line);
    if (line.empty() || line.front() == '#') continue;
    const auto f = split(line);
    if (!header) {
      if (f != std::vector<std::string>{"symbol", "tick_size", "lot_size"})
        throw config::ConfigError(fmt::format("{}:{}: header must be symbol,tick_size,lot_size", path, n));
      header = true;
      continue;
    }
    if (f.size() != 3 || f[0].empty())
      throw config::ConfigError(fmt::format("{}:{}: expected symbol,tick_size,lot_size", path, n));
    matching::Instrument inst{.symbol = f[0]};
    auto decimal = [&](const std::string& field, const std::string& text) -> std::optional<core::Decimal> {
      if (text.empty()) return std::nullopt;
      const auto d = core::Decimal::parse(text);
      if (!d) throw config::ConfigError(fmt::format("{}:{}: {} \"{}\" is not a decimal", path, n, field, text));
      return d;
    };
    inst.tick_size = decimal("tick_size", f[1]);
    inst.lot_size = decimal("lot_size", f[2]);
    if (!out.emplace(inst.symbol, inst).second)
      throw config::ConfigError(fmt::format("{}:{}: symbol {} listed twice", path, n, inst.symbol));
  }
  if (const auto err = matching::validate(out)) throw config::ConfigError(fmt::format("{}: {}", path, *err));
  return out;
}

}  // namespace services
