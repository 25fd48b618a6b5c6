/// @file registry.hpp
/// @brief Strategies by name: a Registry maps a name to a factory (Params, strategy_id)
/// -> std::unique_ptr<Strategy>, with the params it accepts and their defaults.
///
/// There is no global registry (STYLE.md section 8): builtin_registry() returns a new
/// Registry value listing the built-ins (ma_cross, mean_reversion, market_maker,
/// template). A program that has its own strategy adds it to that value, in one line:
///
///     auto reg = strategy::builtin_registry();
///     reg.add({"my_strat", "what it does", {{"quantity", "1", "order size"}},
///              [](const strategy::Params& p, const std::string& id) { return std::make_unique<MyStrat>(p, id); }});
///
/// and hands `reg` to what runs strategies (services::StrategyService, the in-process
/// engine's InProcessConfig::registry). To have the strategy worker and `traderctl
/// backtest` know it too, add that line to builtin_registry() in registry.cpp
/// (docs/strategies.md).
///
/// Errors: std::invalid_argument with a message naming the strategy and the param
/// ("strategy ma_cross: unknown param 'fsat' (its params: fast, min_events_between_orders,
/// quantity, slow)"). Thread-safety: a Registry is a value; const members may be called
/// from several threads at once if the factories allow it (the built-ins do).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "strategy/strategy.hpp"

namespace strategy {

/// One param a strategy accepts: its key, default text ("" = required) and help.
struct ParamSpec {
  std::string key;
  std::string default_value;
  std::string help;
};

using Factory = std::function<std::unique_ptr<Strategy>(const Params& params, const std::string& strategy_id)>;

struct Registration {
  std::string name;                ///< e.g. "ma_cross": letters, digits, '_'
  std::string summary;             ///< one line, with the source of its rule
  std::vector<ParamSpec> params;   ///< every key it accepts (strategy_id is always accepted)
  Factory make;                    ///< may throw std::invalid_argument naming a param
};

class Registry {
 public:
  /// Throws std::invalid_argument if the name is empty, not [A-Za-z0-9_]+, or taken, or
  /// `make` is empty.
  void add(Registration r);
  /// nullptr if unknown.
  const Registration* find(std::string_view name) const;
  const std::vector<Registration>& all() const noexcept { return entries_; }

  /// `c.params` with the defaults filled in. Throws std::invalid_argument: unknown
  /// strategy name (listing the known ones), unknown param key (listing the strategy's),
  /// a required param missing.
  Params resolve(const Choice& c) const;
  /// resolve(), then the factory. Its std::invalid_argument gets "strategy NAME: " in
  /// front (e.g. "strategy ma_cross: param 'slow': must be > fast").
  std::unique_ptr<Strategy> create(const Choice& c) const;
  /// Each of `choices` with its params resolved; checks the whole list: at least one,
  /// each creatable (the factory runs once), strategy_ids distinct and none of them
  /// "<another>-..." (client_order_id prefixes must not overlap). Throws
  /// std::invalid_argument naming the problem.
  std::vector<Choice> check(const std::vector<Choice>& choices) const;

 private:
  std::vector<Registration> entries_;
};

/// A new Registry holding the built-in strategies.
Registry builtin_registry();

}  // namespace strategy
