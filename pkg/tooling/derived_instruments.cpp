#include "tooling/derived_instruments.hpp"

#include <fmt/format.h>

namespace services {

std::vector<marketdata::DerivedInstrument> add_derived_instruments(matching::Instruments& instruments,
                                                                   const std::string& data_path, std::int64_t limit) {
  std::vector<marketdata::DerivedInstrument> added;
  if (instruments.empty()) return added;
  for (auto& d : marketdata::derive_instruments(data_path, limit)) {
    if (instruments.contains(d.symbol)) continue;
    instruments.emplace(d.symbol, matching::Instrument{.symbol = d.symbol, .tick_size = d.tick_size, .lot_size = d.lot_size});
    added.push_back(std::move(d));
  }
  return added;
}

std::string describe_derived(const std::vector<marketdata::DerivedInstrument>& derived) {
  if (derived.empty()) return {};
  std::string out = "derived instruments (not in instruments.csv): ";
  for (std::size_t i = 0; i < derived.size(); ++i) out += (i ? "; " : "") + marketdata::to_string(derived[i]);
  return out;
}

std::string instruments_csv(const matching::Instruments& instruments) {
  std::string out = "symbol,tick_size,lot_size\n";
  for (const auto& [symbol, inst] : instruments)
    out += fmt::format("{},{},{}\n", symbol, inst.tick_size ? inst.tick_size->to_string() : "",
                       inst.lot_size ? inst.lot_size->to_string() : "");
  return out;
}

}  // namespace services
