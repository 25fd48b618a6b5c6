// execution: the paper broker. Fills approved orders against the market data,
// consuming the event log in stream order; rebuilds its state from it at start.
#include <fmt/format.h>

#include "workers/execution.hpp"
#include "workers/worker_main.hpp"

int main(int argc, char** argv) {
  return services::run_log_worker(
      {.name = "execution",
       .summary = "Paper broker: fills orders from trading.orders.approved against the market data.",
       .options = services::execution_options(),
       .validate = [](const config::Settings& s) { services::broker_config_from(s); },
       .single_writer = true,
       .start = [](services::Runtime& rt, const config::Settings& s, eventstore::EventStore* store) {
         const auto broker = services::broker_config_from(s);
         auto svc = std::make_shared<services::ExecutionService>(rt, broker, store, s.get("stream"));
         const auto& h = svc->history();
         auto said = fmt::format("rebuilt from {}; {} reports republished; stream {} from sequence {}; latency {} ns, "
                            "slippage {} bps, random_seed {}",
                            services::describe_history(h.from_store, h.from_stream, h.store_problem),
                            svc->republished(), s.get("stream"), h.last_seq + 1, broker.latency_ns,
                            broker.slippage_bps.to_string(), broker.random_seed);
         return services::LogWorker::Started{svc, std::move(said), {}};
       }},
      argc, argv);
}
