#include "core/risk_policy.hpp"

namespace core {

Limits RiskPolicy::for_symbol(const std::string& symbol) const {
  Limits l = defaults;
  const auto it = per_symbol.find(symbol);
  if (it == per_symbol.end()) return l;
  const SymbolLimits& s = it->second;
  if (s.max_order_qty) l.max_order_qty = *s.max_order_qty;
  if (s.max_order_notional) l.max_order_notional = *s.max_order_notional;
  if (s.max_position) l.max_position = s.max_position;
  if (s.price_band_bps) l.price_band_bps = s.price_band_bps;
  return l;
}

}  // namespace core
