// reporter: positions and P&L marked to market; performance.metrics and reports.performance.
#include <fmt/format.h>

#include "workers/instruments_file.hpp"
#include "workers/reporter.hpp"
#include "workers/worker_main.hpp"

int main(int argc, char** argv) {
  return services::run_log_worker(
      {.name = "reporter",
       .summary = "Positions and P&L: performance.metrics during the run, reports.performance at the end.",
       .options = services::reporter_options(),
       .validate = [](const config::Settings& s) { services::metrics_interval_from(s); },
       .start = [](services::Runtime& rt, const config::Settings& s, eventstore::EventStore* store) {
         auto svc = std::make_shared<services::ReporterService>(rt, services::metrics_interval_from(s), store,
                                                                s.get("stream"),
                                                                services::valuation_from(s, services::instruments_from(s)));
         const auto& h = svc->history();
         auto said = "rebuilt from " + services::describe_history(h.from_store, h.from_stream, h.store_problem);
         // The final report goes out when the reporter stops.
         return services::LogWorker::Started{svc, std::move(said), [svc] { svc->publish_final(); }};
       }},
      argc, argv);
}
