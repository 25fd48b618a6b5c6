// strategy: example moving-average crossover that sends order.submit on trading.orders.
#include <fmt/format.h>

#include "workers/strategy.hpp"
#include "workers/worker_main.hpp"

int main(int argc, char** argv) {
  return services::run_log_worker(
      {.name = "strategy",
       .summary = "Example strategy: simple moving-average crossover on quote mids (documented in docs/).",
       .options = services::strategy_options(),
       .validate = [](const config::Settings& s) { services::strategy_config_from(s); },
       .start = [](services::Runtime& rt, const config::Settings& s, eventstore::EventStore* store) {
         auto svc = std::make_shared<services::StrategyService>(rt, services::strategy_config_from(s), store,
                                                                s.get("stream"));
         const auto& h = svc->history();
         auto said = fmt::format("rebuilt from {}; {} orders not final, {} published now (the log did not hold them)",
                            services::describe_history(h.from_store, h.from_stream, h.store_problem),
                            svc->live_orders(), svc->republished());
         return services::LogWorker::Started{svc, std::move(said), {}};
       }},
      argc, argv);
}
