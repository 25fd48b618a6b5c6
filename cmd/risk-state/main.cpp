// risk-state: pre-trade checks and the trading state (active | reducing | halted).
#include <fmt/format.h>

#include "workers/instruments_file.hpp"
#include "workers/risk_state.hpp"
#include "workers/worker_main.hpp"

int main(int argc, char** argv) {
  return services::run_log_worker(
      {.name = "risk-state",
       .summary = "Checks every order on trading.orders before it reaches the broker (docs/trading-rules.md).",
       .options = services::risk_state_options(),
       .validate = [](const config::Settings& s) { services::risk_policy_from(s); },
       .single_writer = true,
       .start = [](services::Runtime& rt, const config::Settings& s, eventstore::EventStore* store) {
         auto svc = std::make_shared<services::RiskService>(rt, services::risk_policy_from(s), store, s.get("stream"),
                                                            services::valuation_from(s, services::instruments_from(s)));
         const auto& h = svc->history();
         auto said = fmt::format("rebuilt from {}; {} orders decided late",
                            services::describe_history(h.from_store, h.from_stream, h.store_problem),
                            svc->decided_late());
         return services::LogWorker::Started{svc, std::move(said), {}};
       }},
      argc, argv);
}
