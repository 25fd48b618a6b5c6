// execution: the paper broker. Fills approved orders against the market data,
// consuming the event log in stream order; rebuilds its state from it at start.
#include <cstdlib>
#include <filesystem>

#include <fmt/format.h>

#include "workers/instruments_file.hpp"
#include "workers/recorder.hpp"
#include "workers/execution.hpp"
#include "workers/manifest.hpp"
#include "workers/worker_main.hpp"

namespace {

/// A relative instruments path is read beside the settings file (TRADER_CONFIG) when
/// it is not found from the working directory, so the stack's file can name its neighbour.
std::string resolve(const std::string& path) {
  const std::filesystem::path p(path);
  const char* conf = std::getenv("TRADER_CONFIG");
  if (p.is_absolute() || std::filesystem::exists(p) || conf == nullptr || *conf == '\0') return path;
  return (std::filesystem::path(conf).parent_path() / p).string();
}

matching::BrokerConfig broker_config(const config::Settings& s) {
  matching::BrokerConfig b{.commission_per_unit = s.get_decimal("commission_per_unit"),
                           .commission_bps = s.get_decimal("commission_bps"),
                           .commission_min_per_order = s.get_decimal("commission_min_per_order")};
  if (!s.get("instruments").empty()) b.instruments = services::load_instruments(resolve(s.get("instruments")));
  b.latency_ns = s.get_int("latency_us") * 1'000;
  if (b.latency_ns < 0) throw config::ConfigError("latency_us: must not be negative");
  b.slippage_bps = s.get_decimal("slippage_bps");
  b.prob_slippage = s.get_decimal("prob_slippage");
  b.prob_fill_on_limit = s.get_decimal("prob_fill_on_limit");
  const auto seed = s.get_int("random_seed");
  if (seed < 0) throw config::ConfigError("random_seed: must not be negative");
  b.random_seed = static_cast<std::uint64_t>(seed);
  if (const auto err = matching::validate(b)) throw config::ConfigError(*err);
  return b;
}

}  // namespace

int main(int argc, char** argv) try {
  services::block_termination_signals();
  const auto s = services::load_settings(
      "execution", "Paper broker: fills orders from trading.orders.approved against the market data.",
      {{"commission_per_unit", "EXECUTION_COMMISSION_PER_UNIT", "0", "quote currency per unit filled"},
       {"commission_bps", "EXECUTION_COMMISSION_BPS", "0", "basis points of each fill's notional"},
       {"commission_min_per_order", "EXECUTION_COMMISSION_MIN_PER_ORDER", "0", "minimum per order"},
       {"instruments", "EXECUTION_INSTRUMENTS", "",
        "instrument reference data CSV (symbol,tick_size,lot_size); \"\" = any symbol, no checks"},
       {"latency_us", "EXECUTION_LATENCY_US", "0", "event-time delay from receipt to the simulated market, microseconds"},
       {"slippage_bps", "EXECUTION_SLIPPAGE_BPS", "0", "market and triggered-stop fills this many bps worse than the touch"},
       {"prob_slippage", "EXECUTION_PROB_SLIPPAGE", "0", "probability (0..1) that such a fill slips one more tick"},
       {"prob_fill_on_limit", "EXECUTION_PROB_FILL_ON_LIMIT", "1", "probability (0..1) that a limit touched exactly at its price fills"},
       {"random_seed", "EXECUTION_RANDOM_SEED", "0", "seed of the fill model's generator (same seed + same log = same fills)"},
       {"stream", "EXECUTION_STREAM", "EVENTS", "JetStream stream of the event log (input and history)"}},
      argc, argv, [](const config::Settings& st) { broker_config(st); });
  if (!s) return 0;
  natsio::Library lib;
  natsio::Connection conn(services::worker_nats(*s, "execution"));
  core::SystemClock clock;
  services::Runtime rt(conn, "execution", clock, s->get_int("heartbeat_ms"));
  const auto broker = broker_config(*s);
  const auto store = services::open_history_store(*s, "execution");
  services::wait_for_event_stream(conn, s->get("stream"));
  const services::Announcement announcement(rt, *s);  // records random_seed with the session
  services::ExecutionService svc(rt, broker, store.get(), s->get("stream"));
  const auto& h = svc.history();
  fmt::print(stderr, "execution: rebuilt from {} events ({} from the store, {} from the stream{}{}); {} reports republished\n",
             h.from_store + h.from_stream, h.from_store, h.from_stream, h.store_problem.empty() ? "" : "; store: ",
             h.store_problem, svc.republished());
  conn.flush();
  rt.start_heartbeat();
  fmt::print(stderr, "execution: ready ({}, stream {} from sequence {}; latency {} ns, slippage {} bps, random_seed {})\n",
             services::redact_secrets(s->get("nats_url")), s->get("stream"), h.last_seq + 1, broker.latency_ns, broker.slippage_bps.to_string(),
             broker.random_seed);
  services::wait_for_termination();
  return 0;
} catch (const std::exception& e) {
  fmt::print(stderr, "execution: {}\n", e.what());
  return 1;
}
