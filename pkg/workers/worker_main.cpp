#include "workers/worker_main.hpp"

#include <fmt/format.h>

#include "auth/auth.hpp"

namespace services {

std::optional<config::Settings> load_settings(const std::string& program, const std::string& summary,
                                              std::vector<config::Option> extra, int argc, char** argv,
                                              const std::function<void(const config::Settings&)>& validate) {
  auto opts = config::common_options();
  opts.push_back({"heartbeat_ms", "HEARTBEAT_MS", "1000", "heartbeat interval on ops.heartbeat.<worker>"});
  opts.insert(opts.end(), extra.begin(), extra.end());
  config::Settings s(program, summary, std::move(opts));
  s.parse(argc, argv);
  if (s.help_requested()) {
    fmt::print("{}", s.help());
    return std::nullopt;
  }
  s.get_int("heartbeat_ms");
  if (validate) validate(s);
  if (s.check_only()) {
    fmt::print("{}config ok\n", s.describe());
    return std::nullopt;
  }
  return s;
}

natsio::NatsConfig worker_nats(const config::Settings& s, const std::string& name, bool send_asap) {
  return natsio::NatsConfig{
      .url = s.get("nats_url"), .name = name, .send_asap = send_asap, .inbox_prefix = auth::inbox_prefix(name)};
}

std::unique_ptr<eventstore::PgStore> open_history_store(const config::Settings& s, const std::string& worker) {
  if (s.get("database_url").empty()) return nullptr;
  try {
    return std::make_unique<eventstore::PgStore>(s.get("database_url"));
  } catch (const eventstore::StoreUnavailable& e) {
    fmt::print(stderr, "{}: event store unavailable, rebuilding from the stream alone: {}\n", worker, e.what());
    return nullptr;
  }
}

}  // namespace services
