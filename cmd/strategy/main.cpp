// strategy: runs the chosen strategies (Strategy API, pkg/strategy; docs/strategies.md) and
// sends their orders, cancels and replaces on trading.orders.
#include <fmt/format.h>

#include <string>
#include <vector>

#include "strategy/registry.hpp"
#include "workers/strategy.hpp"
#include "workers/worker_main.hpp"

namespace {

/// `--strategy NAME --param k=v ...` become one `--strategies "NAME k=v; ..."` (the
/// setting every other source uses). Returns the new argv strings, or an error text.
std::vector<std::string> fold_strategy_flags(int argc, char** argv, std::string& error) {
  std::vector<std::string> out{argv[0]}, picked;
  bool direct = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--strategy" || a == "--param") {
      picked.push_back(a);
      if (i + 1 < argc) picked.emplace_back(argv[++i]);
    } else {
      direct = direct || a == "--strategies" || a.starts_with("--strategies=");
      out.push_back(a);
    }
  }
  if (picked.empty()) return out;
  if (direct) {
    error = "give either --strategies or --strategy/--param, not both";
    return out;
  }
  try {
    out.push_back("--strategies");
    out.push_back(strategy::format_choices(strategy::choices_from_args(picked)));
  } catch (const std::invalid_argument& e) {
    error = e.what();
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::string error;
  auto args = fold_strategy_flags(argc, argv, error);
  if (!error.empty()) {
    fmt::print(stderr, "strategy: {}\n", error);
    return 2;
  }
  std::vector<char*> args_c;
  for (auto& a : args) args_c.push_back(a.data());
  args_c.push_back(nullptr);
  // "external" here only checks its params; StrategyService binds it to the connection.
  const auto registry = services::with_external(strategy::builtin_registry(), nullptr);
  return services::run_log_worker(
      {.name = "strategy",
       .summary = "Runs the chosen strategies (--strategy NAME --param k=v ..., or the `strategies` setting; "
                  "default: the moving-average crossover). docs/strategies.md",
       .options = services::strategy_options(),
       .validate = [&registry](const config::Settings& s) { services::strategy_choices_from(s, registry); },
       .start = [&registry](services::Runtime& rt, const config::Settings& s, eventstore::EventStore* store) {
         const auto choices = services::strategy_choices_from(s, registry);
         auto svc = std::make_shared<services::StrategyService>(rt, choices, registry, store, s.get("stream"));
         const auto& h = svc->history();
         auto said = fmt::format("running {}; rebuilt from {}; {} orders not final, {} commands published now "
                                 "(the log did not hold them)",
                                 strategy::format_choices(choices),
                                 services::describe_history(h.from_store, h.from_stream, h.store_problem),
                                 svc->live_orders(), svc->republished());
         return services::LogWorker::Started{svc, std::move(said), {}};
       }},
      static_cast<int>(args_c.size() - 1), args_c.data());
}
