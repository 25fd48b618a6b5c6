#include "workers/instruments_file.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

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
  std::vector<std::string> columns;  // the header's
  while (std::getline(in, line)) {
    ++n;
    line = trim(line);
    if (line.empty() || line.front() == '#') continue;
    const auto f = split(line);
    if (columns.empty()) {
      // symbol,tick_size,lot_size, then any of quote_currency, multiplier, base_currency.
      const bool ok = f.size() >= 3 && f[0] == "symbol" && f[1] == "tick_size" && f[2] == "lot_size" &&
                      std::all_of(f.begin() + 3, f.end(), [&](const std::string& c) {
                        return (c == "quote_currency" || c == "multiplier" || c == "base_currency") &&
                               std::count(f.begin(), f.end(), c) == 1;
                      });
      if (!ok)
        throw config::ConfigError(fmt::format(
            "{}:{}: header must be symbol,tick_size,lot_size[,quote_currency][,multiplier][,base_currency]", path, n));
      columns = f;
      continue;
    }
    if (f.size() != columns.size() || f[0].empty())
      throw config::ConfigError(fmt::format("{}:{}: expected {} fields ({})", path, n, columns.size(),
                                            fmt::join(columns, ",")));
    matching::Instrument inst{.symbol = f[0]};
    auto decimal = [&](const std::string& field, const std::string& text) -> std::optional<core::Decimal> {
      if (text.empty()) return std::nullopt;
      const auto d = core::Decimal::parse(text);
      if (!d) throw config::ConfigError(fmt::format("{}:{}: {} \"{}\" is not a decimal", path, n, field, text));
      return d;
    };
    for (std::size_t i = 1; i < columns.size(); ++i) {
      const std::string& c = columns[i];
      if (c == "tick_size") inst.tick_size = decimal(c, f[i]);
      else if (c == "lot_size") inst.lot_size = decimal(c, f[i]);
      else if (c == "multiplier") inst.multiplier = decimal(c, f[i]);
      else if (c == "quote_currency") inst.quote_currency = f[i];
      else if (c == "base_currency") inst.base_currency = f[i];
    }
    if (!out.emplace(inst.symbol, inst).second)
      throw config::ConfigError(fmt::format("{}:{}: symbol {} listed twice", path, n, inst.symbol));
  }
  if (const auto err = matching::validate(out)) throw config::ConfigError(fmt::format("{}: {}", path, *err));
  // Currency codes and pairs are checked as valuation reads them.
  if (const auto err = valuation_from(out, "", {}).check())
    throw config::ConfigError(fmt::format("{}: {}", path, *err));
  return out;
}

portfolio::Valuation valuation_from(const matching::Instruments& instruments, std::string base_currency,
                                    std::map<std::string, core::Decimal> rates) {
  portfolio::Valuation v{.base_currency = std::move(base_currency), .symbols = {}, .rates = std::move(rates)};
  for (const auto& [symbol, inst] : instruments) {
    if (inst.quote_currency.empty() && !inst.multiplier && inst.base_currency.empty()) continue;
    v.symbols.emplace(symbol, portfolio::SymbolTerms{.currency = inst.quote_currency,
                                                     .multiplier = inst.multiplier.value_or(core::Decimal::from_int(1)),
                                                     .asset_currency = inst.base_currency});
  }
  return v;
}

std::string resolve_beside_config(const std::string& path) {
  const std::filesystem::path p(path);
  const char* conf = std::getenv("TRADER_CONFIG");
  if (p.is_absolute() || std::filesystem::exists(p) || conf == nullptr || *conf == '\0') return path;
  return (std::filesystem::path(conf).parent_path() / p).string();
}

matching::Instruments instruments_from(const config::Settings& s) {
  const auto& path = s.get("instruments");
  return path.empty() ? matching::Instruments{} : load_instruments(resolve_beside_config(path));
}

portfolio::Valuation valuation_from(const config::Settings& s, const matching::Instruments& instruments) {
  std::map<std::string, core::Decimal> rates;
  try {
    rates = portfolio::parse_rates(s.get("fx_rates"));
  } catch (const std::invalid_argument& e) {
    throw config::ConfigError(fmt::format("fx_rates: {}", e.what()));
  }
  auto v = valuation_from(instruments, s.get("base_currency"), std::move(rates));
  if (v.base_currency.empty()) throw config::ConfigError("base_currency: must not be empty");
  if (const auto err = v.check()) throw config::ConfigError(fmt::format("instruments/base_currency/fx_rates: {}", *err));
  return v;
}

}  // namespace services
