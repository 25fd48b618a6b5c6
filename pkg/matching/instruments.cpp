#include "matching/instruments.hpp"

#include <fmt/format.h>

namespace matching {

std::optional<std::string> check_tick(std::string_view field, core::Price px, const Instrument& inst) {
  if (!inst.tick_size || px.is_multiple_of(*inst.tick_size)) return std::nullopt;
  return fmt::format("{} {} is not a multiple of tick size {}", field, px, *inst.tick_size);
}

std::optional<std::string> check_lot(core::Quantity qty, const Instrument& inst) {
  if (!inst.lot_size || qty.is_multiple_of(*inst.lot_size)) return std::nullopt;
  return fmt::format("quantity {} is not a multiple of lot size {}", qty, *inst.lot_size);
}

std::optional<std::string> validate(const Instruments& instruments) {
  for (const auto& [key, inst] : instruments) {
    if (key.empty()) return std::string("instruments: empty symbol");
    if (!inst.symbol.empty() && inst.symbol != key) {
      return fmt::format("instruments: key {} holds symbol {}", key, inst.symbol);
    }
    if (inst.tick_size && !inst.tick_size->is_positive()) {
      return fmt::format("instruments: {} tick_size {} must be positive", key, *inst.tick_size);
    }
    if (inst.multiplier && !inst.multiplier->is_positive()) {
      return fmt::format("instruments: {} multiplier {} must be positive", key, *inst.multiplier);
    }
    if (inst.lot_size && !inst.lot_size->is_positive()) {
      return fmt::format("instruments: {} lot_size {} must be positive", key, *inst.lot_size);
    }
  }
  return std::nullopt;
}

}  // namespace matching
