/// @file worker_main.hpp
/// @brief The few lines every cmd/<worker>/main.cpp shares: settings with the
/// common options, --help/--check-config handling, and the run loop.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <memory>

#include "config/config.hpp"
#include "eventstore/event_store.hpp"
#include "natsio/natsio.hpp"

namespace services {

/// Settings for `program` with the common options (nats_url, database_url,
/// heartbeat_ms) plus `extra`, parsed from argv/env/file. Returns nullopt when
/// the program should exit 0 at once (--help printed, or --check-config
/// printed the settings after `validate` succeeded). Throws config::ConfigError.
std::optional<config::Settings> load_settings(const std::string& program, const std::string& summary,
                                              std::vector<config::Option> extra, int argc, char** argv,
                                              const std::function<void(const config::Settings&)>& validate = {});

/// How worker `name` connects to NATS: the `nats_url` setting (NATS_URL, carrying the
/// worker's own identity: nats://<name>:<password>@host:port, pkg/auth), its own
/// inbox prefix (auth::inbox_prefix(name): its permissions let it read only those),
/// the connection named after the worker, and `send_asap` (see natsio::NatsConfig).
natsio::NatsConfig worker_nats(const config::Settings& s, const std::string& name, bool send_asap = true);

/// The event store a worker rebuilds its state from at start: a PgStore on the
/// `database_url` setting, or nullptr when that is empty or the store cannot be
/// reached (said on stderr; the worker then rebuilds from the stream alone).
/// A deployment gives it the reader's URL (trader_readonly: SELECT only).
/// Throws std::runtime_error for failures other than unavailability (e.g. a
/// refused login, or a schema that needs `traderctl migrate`).
std::unique_ptr<eventstore::PgStore> open_history_store(const config::Settings& s, const std::string& worker);

}  // namespace services
