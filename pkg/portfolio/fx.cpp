#include "portfolio/fx.hpp"

#include <array>
#include <stdexcept>

#include <fmt/format.h>

namespace portfolio {
namespace {

bool valid_code(std::string_view c) {
  if (c.empty() || c.size() > 16) return false;
  for (const char ch : c) {
    if (!((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))) return false;
  }
  return true;
}

constexpr std::array<std::string_view, 27> kFiat = {"USD", "EUR", "JPY", "GBP", "CNY", "AUD", "CAD",
                                                    "CHF", "HKD", "SGD", "SEK", "KRW", "NOK", "NZD",
                                                    "INR", "MXN", "TWD", "ZAR", "BRL", "DKK", "PLN",
                                                    "THB", "ILS", "IDR", "CZK", "HUF", "TRY"};

bool fiat(std::string_view c) {
  for (const auto f : kFiat) {
    if (f == c) return true;
  }
  return false;
}

}  // namespace

SymbolTerms Valuation::terms_of(const std::string& symbol) const {
  if (const auto it = symbols.find(symbol); it != symbols.end()) return it->second;
  if (!base_currency.empty()) {
    if (auto pair = split_pair(symbol))
      return SymbolTerms{.currency = std::move(pair->second), .asset_currency = std::move(pair->first)};
  }
  return SymbolTerms{};
}

std::string Valuation::currency_of(const std::string& symbol) const {
  std::string c = terms_of(symbol).currency;
  return c.empty() ? base_currency : c;
}

core::Decimal Valuation::multiplier_of(const std::string& symbol) const { return terms_of(symbol).multiplier; }

std::optional<std::string> Valuation::check() const {
  if (!base_currency.empty() && !valid_code(base_currency))
    return fmt::format("base_currency {:?}: 1-16 characters from A-Z 0-9", base_currency);
  for (const auto& [symbol, t] : symbols) {
    if (!t.multiplier.is_positive()) return fmt::format("{}: multiplier {} must be positive", symbol, t.multiplier);
    if (!t.currency.empty() && !valid_code(t.currency))
      return fmt::format("{}: quote_currency {:?}: 1-16 characters from A-Z 0-9", symbol, t.currency);
    if (!t.asset_currency.empty() && !valid_code(t.asset_currency))
      return fmt::format("{}: base_currency {:?}: 1-16 characters from A-Z 0-9", symbol, t.asset_currency);
    if (!t.asset_currency.empty() && t.asset_currency == currency_of(symbol))
      return fmt::format("{}: a pair of {} against itself", symbol, t.asset_currency);
  }
  for (const auto& [c, r] : rates) {
    if (!valid_code(c)) return fmt::format("rate {:?}: a currency is 1-16 characters from A-Z 0-9", c);
    if (!r.is_positive()) return fmt::format("rate {}={}: must be positive", c, r);
  }
  return std::nullopt;
}

std::map<std::string, core::Decimal> parse_rates(std::string_view text) {
  std::map<std::string, core::Decimal> out;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ',' || text[i] == ' ' || text[i] == '\t')) ++i;
    if (i >= text.size()) break;
    std::size_t j = i;
    while (j < text.size() && text[j] != ',' && text[j] != ' ' && text[j] != '\t') ++j;
    const std::string_view part = text.substr(i, j - i);
    i = j;
    const auto eq = part.find('=');
    if (eq == std::string_view::npos)
      throw std::invalid_argument(fmt::format("fx rate {:?}: expected CURRENCY=RATE", part));
    const std::string code(part.substr(0, eq));
    if (!valid_code(code))
      throw std::invalid_argument(fmt::format("fx rate {:?}: currency 1-16 characters from A-Z 0-9", part));
    const auto rate = core::Decimal::parse(part.substr(eq + 1));
    if (!rate || !rate->is_positive())
      throw std::invalid_argument(fmt::format("fx rate {:?}: rate must be a positive decimal", part));
    if (!out.emplace(code, *rate).second)
      throw std::invalid_argument(fmt::format("fx rate {:?}: {} given twice", part, code));
  }
  return out;
}

FxRates::FxRates(const Valuation& v) : base_(v.base_currency), defined_(v.symbols) {
  for (const auto& [c, r] : v.rates) configured_.emplace(c, r);
}

int FxRates::slot(const std::string& symbol) {
  if (const auto it = slots_.find(symbol); it != slots_.end()) return it->second;
  int& s = slots_.emplace(symbol, -1).first->second;
  if (base_.empty()) return s;
  // First look at this symbol: is it a pair with the base currency (Valuation::terms_of)?
  SymbolTerms t;
  if (const auto d = defined_.find(symbol); d != defined_.end()) {
    t = d->second;
  } else if (auto pair = split_pair(symbol)) {
    t = SymbolTerms{.currency = std::move(pair->second), .asset_currency = std::move(pair->first)};
  }
  if (t.asset_currency.empty()) return s;
  const std::string quote = t.currency.empty() ? base_ : t.currency;
  if (quote == base_ && t.asset_currency != base_) {
    pairs_.push_back(Pair{t.asset_currency, false});
  } else if (t.asset_currency == base_ && quote != base_) {
    pairs_.push_back(Pair{quote, true});
  } else {
    return s;
  }
  s = static_cast<int>(pairs_.size()) - 1;
  return s;
}

bool FxRates::observe_slot(int slot, core::Price mark) {
  if (slot < 0 || static_cast<std::size_t>(slot) >= pairs_.size() || !mark.is_positive()) return false;
  Pair& pair = pairs_[static_cast<std::size_t>(slot)];
  const core::Decimal r = pair.inverse ? div(core::Decimal::from_int(1), mark) : mark;
  if (!r.is_positive()) return false;  // 1 / a huge mark rounds to 0: keep the last usable rate
  if (pair.rate == r) return false;
  pair.rate = r;
  pair.changed = ++changes_;
  return true;
}

bool FxRates::observe(const std::string& symbol, core::Price mark) {
  if (base_.empty() || !mark.is_positive()) return false;
  return observe_slot(slot(symbol), mark);
}

std::optional<core::Decimal> FxRates::rate(std::string_view currency) const {
  if (currency == base_) return core::Decimal::from_int(1);
  const Pair* latest = nullptr;  // the pair of `currency` whose rate changed last
  for (const auto& p : pairs_)
    if (p.rate && p.other == currency && (!latest || p.changed > latest->changed)) latest = &p;
  if (latest) return latest->rate;
  if (const auto it = configured_.find(currency); it != configured_.end()) return it->second;
  return std::nullopt;
}

std::optional<core::Decimal> FxRates::to_base(core::Decimal amount, std::string_view currency) const {
  if (currency == base_) return amount;
  const auto r = rate(currency);
  if (!r) return std::nullopt;
  return mul(amount, *r);
}

std::optional<std::pair<std::string, std::string>> split_pair(std::string_view symbol) {
  if (symbol.size() != 6) return std::nullopt;
  const auto a = symbol.substr(0, 3), q = symbol.substr(3);
  if (a == q || !fiat(a) || !fiat(q)) return std::nullopt;
  return std::pair{std::string(a), std::string(q)};
}

}  // namespace portfolio
