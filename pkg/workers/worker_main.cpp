#include "workers/worker_main.hpp"

#include <map>
#include <string_view>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "auth/auth.hpp"
#include "codec/codec.hpp"
#include "workers/instruments_file.hpp"
#include "workers/lease.hpp"
#include "workers/manifest.hpp"
#include "workers/recorder.hpp"

namespace services {

namespace {
/// The logger options the settings give (load_settings checks them at start).
obs::LogOptions log_options(const config::Settings& s, const std::string& name) {
  const auto format = obs::parse_log_format(s.get("log_format"));
  if (!format) throw config::ConfigError("log_format: must be json or text, got " + s.get("log_format"));
  const auto level = obs::parse_log_level(s.get("log_level"));
  if (!level) throw config::ConfigError("log_level: must be debug, info, warn or error, got " + s.get("log_level"));
  return obs::LogOptions{.worker = name, .format = *format, .level = *level};
}
}  // namespace

std::optional<config::Settings> load_settings(const std::string& program, const std::string& summary,
                                              std::vector<config::Option> extra, int argc, char** argv,
                                              const std::function<void(const config::Settings&)>& validate) {
  auto opts = config::common_options();
  opts.push_back({"heartbeat_ms", "HEARTBEAT_MS", "1000", "heartbeat interval on ops.heartbeat.<worker>"});
  opts.push_back({"http_address", "HTTP_ADDRESS", "127.0.0.1", "address of the health and metrics endpoint"});
  opts.push_back({"http_port", "HTTP_PORT", "", "port of the health and metrics endpoint (empty: none; 0: any free port)"});
  opts.push_back({"log_format", "LOG_FORMAT", "json", "json (one JSON object per line) | text (one readable line per record)"});
  opts.push_back({"log_level", "LOG_LEVEL", "info", "debug | info | warn | error: the least severe records written"});
  // Reference data and the account's currency: every worker that values or checks orders
  // reads the same (execution: tick and lot sizes; risk-state, reporter, ops: quote
  // currencies, multipliers and rates). portfolio/fx.hpp.
  opts.push_back({"instruments", "TRADER_INSTRUMENTS", "",
                  "instrument reference data CSV (symbol,tick_size,lot_size[,quote_currency][,multiplier]"
                  "[,base_currency]); \"\" = any symbol, no checks, all in the base currency"});
  opts.push_back({"base_currency", "TRADER_BASE_CURRENCY", "USD", "the account currency P&L totals and notional limits are in"});
  opts.push_back({"fx_rates", "TRADER_FX_RATES", "",
                  "configured rates into the base currency, e.g. \"JPY=0.0067,USDT=1\" (the data's pair quotes take precedence)"});
  opts.insert(opts.end(), extra.begin(), extra.end());
  config::Settings s(program, summary, std::move(opts));
  s.parse(argc, argv);
  if (s.help_requested()) {
    fmt::print("{}", s.help());
    return std::nullopt;
  }
  s.get_int("heartbeat_ms");
  (void)log_options(s, program);
  if (const auto port = s.get("http_port"); !port.empty()) {
    const auto p = s.get_int("http_port");
    if (p < 0 || p > 65535) throw config::ConfigError("http_port: must be 0..65535 (or empty: no endpoint)");
  }
  (void)valuation_from(s, instruments_from(s));  // a bad file, currency or rate fails at start
  if (validate) validate(s);
  if (s.check_only()) {
    fmt::print("{}config ok\n", s.describe());
    return std::nullopt;
  }
  return s;
}

std::shared_ptr<obs::Logger> worker_log(const config::Settings& s, const std::string& name) {
  return std::make_shared<obs::Logger>(log_options(s, name));
}

natsio::NatsConfig worker_nats(const config::Settings& s, const std::string& name, bool send_asap,
                               std::shared_ptr<obs::Logger> log) {
  return natsio::NatsConfig{.url = s.get("nats_url"),
                            .name = name,
                            .send_asap = send_asap,
                            .inbox_prefix = auth::inbox_prefix(name),
                            .log = log ? std::move(log) : worker_log(s, name)};
}

int log_failure(const std::string& name, const std::exception& e, const std::shared_ptr<obs::Logger>& log) noexcept {
  try {
    if (log) {
      log->error(e.what());
    } else {
      obs::Logger(obs::LogOptions{.worker = name}).error(e.what());
    }
  } catch (...) {  // no logger could be built: the exit code says it
  }
  return 1;
}

std::unique_ptr<eventstore::PgStore> open_history_store(const config::Settings& s, obs::Logger& log) {
  if (s.get("database_url").empty()) return nullptr;
  try {
    return std::make_unique<eventstore::PgStore>(s.get("database_url"));
  } catch (const eventstore::StoreUnavailable& e) {
    log.warn(fmt::format("event store unavailable, rebuilding from the stream alone: {}", e.what()));
    return nullptr;
  }
}

namespace {
std::string json_text(std::string_view s) {
  std::string out;
  codec::append_json_string(out, s);
  return out;
}
}  // namespace

std::unique_ptr<obs::HttpServer> serve_http(Runtime& rt, const config::Settings& s,
                                            std::vector<obs::HttpServer::Route> extra,
                                            obs::HttpServer::Options options) {
  if (s.get("http_port").empty()) return nullptr;
  const auto worker = rt.worker();
  std::vector<obs::HttpServer::Route> routes = std::move(extra);
  auto get = [&](std::string path, std::function<obs::HttpResponse()> h) {
    routes.push_back({"GET", std::move(path), [h = std::move(h)](const obs::HttpRequest&) { return h(); }});
  };
  get("/health/live", [worker] {
    return obs::HttpResponse{200, "application/json", fmt::format("{{\"status\":\"live\",\"worker\":{}}}\n", json_text(worker)), {}};
  });
  get("/health/ready", [&rt, worker] {
    std::vector<std::string> why;
    const bool ok = rt.ready(&why);
    std::vector<std::string> quoted;
    for (const auto& w : why) quoted.push_back(json_text(w));
    return obs::HttpResponse{ok ? 200 : 503, "application/json",
                             fmt::format("{{\"status\":\"{}\",\"worker\":{},\"reasons\":[{}]}}\n",
                                         ok ? "ready" : "not ready", json_text(worker), fmt::join(quoted, ",")), {}};
  });
  get("/metrics", [&rt] { return obs::HttpResponse{200, std::string(obs::kContentType), rt.metrics_text(), {}}; });
  auto server = std::make_unique<obs::HttpServer>(s.get("http_address"), static_cast<int>(s.get_int("http_port")),
                                                  std::move(routes), options);
  rt.log().info(fmt::format("health and metrics on http://{}:{}/ (/health/live, /health/ready, /metrics)",
                            s.get("http_address"), server->port()));
  return server;
}

std::string describe_history(std::int64_t from_store, std::int64_t from_stream, const std::string& store_problem) {
  return fmt::format("{} events ({} from the store, {} from the stream{}{})", from_store + from_stream, from_store,
                     from_stream, store_problem.empty() ? "" : "; store: ", store_problem);
}

int run_log_worker(const LogWorker& w, int argc, char** argv) {
  std::shared_ptr<obs::Logger> log;
  try {
    block_termination_signals();
    auto options = w.options;
    if (w.single_writer) for (auto& o : lease_options()) options.push_back(std::move(o));
    const auto s = load_settings(w.name, w.summary, std::move(options), argc, argv, [&w](const config::Settings& st) {
      if (w.single_writer) (void)standby_mode_from(st);
      if (w.validate) w.validate(st);
    });
    if (!s) return 0;
    log = worker_log(*s, w.name);
    natsio::Library lib;
    natsio::Connection conn(worker_nats(*s, w.name, true, log));
    core::SystemClock clock;
    Runtime rt(conn, w.name, clock, s->get_int("heartbeat_ms"), s->get("stream"));
    const auto http = serve_http(rt, *s);
    // A standby holds nothing open but NATS while it waits (no store connection that
    // could go stale over days); it opens the store and rebuilds once it is the writer.
    std::unique_ptr<Lease> lease;  // destroyed after the worker (declared before it): released last
    if (w.single_writer) {
      lease = take_lease(rt, conn, w.name, standby_mode_from(*s), s->get_int("lease_ttl_ms"));
      if (!lease) return 0;  // SIGTERM while a standby
    }
    const auto store = open_history_store(*s, *log);
    wait_for_event_stream(conn, s->get("stream"));
    const Announcement announcement(rt, *s);  // its manifest (settings, random_seed) with the session
    const auto started = w.start(rt, *s, store.get());
    log->info(started.said);
    conn.flush();
    rt.start_heartbeat();
    log->info(fmt::format("ready ({})", redact_secrets(s->get("nats_url"))));
    wait_for_termination();
    if (started.at_stop) started.at_stop();
    return 0;
  } catch (const std::exception& e) {
    return log_failure(w.name, e, log);
  }
}

}  // namespace services
