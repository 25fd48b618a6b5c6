#include "tooling/derived_instruments.hpp"

#include <fmt/format.h>

#include "codec/codec.hpp"
#include "portfolio/fx.hpp"
#include "subjects/subjects.hpp"

namespace services {

namespace {
std::vector<marketdata::DerivedInstrument> merge(matching::Instruments& instruments,
                                                 std::vector<marketdata::DerivedInstrument> derived) {
  std::vector<marketdata::DerivedInstrument> added;
  for (auto& d : derived) {
    if (instruments.contains(d.symbol)) continue;
    matching::Instrument inst{.symbol = d.symbol, .tick_size = d.tick_size, .lot_size = d.lot_size};
    // A currency pair by its name (USDJPY: JPY-quoted, base USD), so its P&L is converted.
    if (const auto pair = portfolio::split_pair(d.symbol)) {
      inst.base_currency = pair->first;
      inst.quote_currency = pair->second;
    }
    instruments.emplace(d.symbol, std::move(inst));
    added.push_back(std::move(d));
  }
  return added;
}
}  // namespace

std::vector<marketdata::DerivedInstrument> add_derived_instruments(matching::Instruments& instruments,
                                                                   const std::string& data_path, std::int64_t limit,
                                                                   const marketdata::quality::Policy& policy) {
  if (instruments.empty()) return {};
  return merge(instruments, marketdata::derive_instruments(data_path, limit, policy));
}

std::vector<marketdata::DerivedInstrument> add_derived_instruments(matching::Instruments& instruments,
                                                                   const std::vector<ReplayInput>& inputs) {
  if (instruments.empty()) return {};
  marketdata::InstrumentDeriver deriver;
  codec::Decoder dec;
  for (const auto& in : inputs) {
    if (!in.subject.starts_with(subjects::kMarketDataPrefix)) continue;
    if (auto md = dec.decode_market_data(in.payload)) deriver.add(*md);
  }
  return merge(instruments, deriver.instruments());
}

std::string describe_derived(const std::vector<marketdata::DerivedInstrument>& derived) {
  if (derived.empty()) return {};
  std::string out = "derived instruments (not in instruments.csv): ";
  for (std::size_t i = 0; i < derived.size(); ++i) out += (i ? "; " : "") + marketdata::to_string(derived[i]);
  return out;
}

std::string instruments_csv(const matching::Instruments& instruments) {
  std::string out = "symbol,tick_size,lot_size,quote_currency,multiplier,base_currency\n";
  for (const auto& [symbol, inst] : instruments)
    out += fmt::format("{},{},{},{},{},{}\n", symbol, inst.tick_size ? inst.tick_size->to_string() : "",
                       inst.lot_size ? inst.lot_size->to_string() : "", inst.quote_currency,
                       inst.multiplier ? inst.multiplier->to_string() : "", inst.base_currency);
  return out;
}

}  // namespace services
