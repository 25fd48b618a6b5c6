#include "strategy/registry.hpp"

#include <algorithm>
#include <set>
#include <stdexcept>

#include <fmt/format.h>

#include "strategy/ma_cross.hpp"
#include "strategy/market_maker.hpp"
#include "strategy/mean_reversion.hpp"
#include "strategy/template_strategy.hpp"

namespace strategy {

void Registry::add(Registration r) {
  const bool ok_name = !r.name.empty() && std::all_of(r.name.begin(), r.name.end(), [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_';
  });
  if (!ok_name) throw std::invalid_argument(fmt::format("strategy name '{}': letters, digits and '_' only", r.name));
  if (find(r.name)) throw std::invalid_argument(fmt::format("strategy {}: registered twice", r.name));
  if (!r.make) throw std::invalid_argument(fmt::format("strategy {}: no factory", r.name));
  entries_.push_back(std::move(r));
}

const Registration* Registry::find(std::string_view name) const {
  for (const auto& e : entries_)
    if (e.name == name) return &e;
  return nullptr;
}

Params Registry::resolve(const Choice& c) const {
  const auto* e = find(c.name);
  if (!e) {
    std::vector<std::string> names;
    for (const auto& x : entries_) names.push_back(x.name);
    throw std::invalid_argument(fmt::format("unknown strategy '{}' (known: {})", c.name, fmt::join(names, ", ")));
  }
  Params out;
  for (const auto& [k, v] : c.params.values()) {
    const bool known = std::any_of(e->params.begin(), e->params.end(), [&](const ParamSpec& s) { return s.key == k; });
    if (!known) {
      std::vector<std::string> keys;
      for (const auto& s : e->params) keys.push_back(s.key);
      std::sort(keys.begin(), keys.end());
      throw std::invalid_argument(fmt::format("strategy {}: unknown param '{}' (its params: {})", c.name, k,
                                              keys.empty() ? std::string("none") : fmt::format("{}", fmt::join(keys, ", "))));
    }
    out.set(k, v);
  }
  for (const auto& s : e->params) {
    if (out.has(s.key)) continue;
    if (s.default_value.empty())
      throw std::invalid_argument(fmt::format("strategy {}: param '{}' is required ({})", c.name, s.key, s.help));
    out.set(s.key, s.default_value);
  }
  return out;
}

std::unique_ptr<Strategy> Registry::create(const Choice& c) const {
  const auto params = resolve(c);
  if (c.strategy_id.empty()) throw std::invalid_argument(fmt::format("strategy {}: empty strategy_id", c.name));
  try {
    return find(c.name)->make(params, c.strategy_id);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(fmt::format("strategy {}: {}", c.name, e.what()));
  }
}

std::vector<Choice> Registry::check(const std::vector<Choice>& choices) const {
  if (choices.empty()) throw std::invalid_argument("no strategy chosen");
  std::vector<Choice> out;
  std::set<std::string> ids;
  for (const auto& c : choices) {
    (void)create(c);
    for (const auto& other : ids) {
      if (other == c.strategy_id)
        throw std::invalid_argument(fmt::format("two strategies with strategy_id '{}' (give one --param strategy_id=...)",
                                                c.strategy_id));
      if (c.strategy_id.starts_with(other + "-") || other.starts_with(c.strategy_id + "-"))
        throw std::invalid_argument(fmt::format(
            "strategy_ids '{}' and '{}' overlap (one is the other's client_order_id prefix)", other, c.strategy_id));
    }
    ids.insert(c.strategy_id);
    out.push_back(Choice{.name = c.name, .strategy_id = c.strategy_id, .params = resolve(c)});
  }
  return out;
}

Registry builtin_registry() {
  Registry r;
  r.add(ma_cross_registration());
  r.add(mean_reversion_registration());
  r.add(market_maker_registration());
  r.add(template_registration());
  return r;
}

}  // namespace strategy
