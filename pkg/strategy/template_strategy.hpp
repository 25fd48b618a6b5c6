/// @file template_strategy.hpp
/// @brief TEMPLATE for your own strategy (docs/strategies.md): copy this file and
/// template_strategy.cpp, rename the class and the registration, change the rule.
/// Registered as `template` so that it is compiled, run and tested
/// (tests/domain/strategy_template_test.cpp) and stays valid.
///
/// Rule (a toy, to show the API, not to make money): the first market event of each
/// symbol buys `quantity` at market (ioc) and sets a market-time timer `hold` later; when
/// the timer fires (at the first market event at or after that time) it sells back what
/// it holds on that symbol, at market. Once per symbol.
///
/// Params: quantity (1, > 0), hold (60s: a duration, ns or with a unit ns/us/ms/s/m/h).
/// Pure: no clock, no I/O; the Context gives the time and the position. Thread-safety:
/// none (one owner thread).
#pragma once

#include <set>
#include <string>

#include "strategy/registry.hpp"
#include "strategy/strategy.hpp"

namespace strategy {

class TemplateStrategy : public Strategy {
 public:
  /// Throws std::invalid_argument naming a bad param (the registry adds the strategy's name).
  TemplateStrategy(const Params& p, const std::string& strategy_id);
  void on_quote(const core::Quote& q, Context& ctx) override { first_seen(q.symbol, ctx); }
  void on_trade(const core::Trade& t, Context& ctx) override { first_seen(t.symbol, ctx); }
  void on_bar(const core::Bar& b, Context& ctx) override { first_seen(b.symbol, ctx); }
  void on_timer(const Timer& t, Context& ctx) override;

 private:
  void first_seen(const std::string& symbol, Context& ctx);
  core::Quantity quantity_;
  core::DurationNs hold_ns_;
  std::set<std::string> seen_;  ///< symbols already bought once
};

/// `template` for the registry: the one line that makes a strategy known by name.
Registration template_registration();

}  // namespace strategy
