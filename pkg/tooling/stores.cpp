#include "tooling/stores.hpp"

#include <cstdlib>
#include <stdexcept>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "eventstore/research.hpp"

namespace services {
namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

}  // namespace

bool says_no_such_database(std::string_view what) {
  return what.find("database \"") != std::string_view::npos && what.find("does not exist") != std::string_view::npos;
}

std::string missing_research_store(const std::string& url) {
  return fmt::format("the research store (database {}) does not exist: create it with pkg/eventstore/roles.sql "
                     "(deploy/local/up and the compose stack run it; it creates TRADER_PG_DB and "
                     "TRADER_PG_RESEARCH_DB) and run `traderctl migrate`, or set TRADER_RESEARCH_DB to an existing one",
                     eventstore::database_of(url));
}

StoreUrls StoreUrls::from_environment() {
  return StoreUrls{.reader = env("DATABASE_URL"),
                   .writer = env("TRADER_WRITER_DATABASE_URL"),
                   .owner = env("TRADER_OWNER_DATABASE_URL"),
                   .research_db = env("TRADER_RESEARCH_DB")};
}

std::string StoreUrls::live_reader() const {
  if (reader.empty()) throw std::runtime_error("DATABASE_URL is not set");
  return reader;
}

std::string StoreUrls::research_reader() const { return eventstore::research_url(live_reader(), research_db); }

std::string StoreUrls::research_writer(const std::string& command) const {
  if (writer.empty())
    throw std::runtime_error("TRADER_WRITER_DATABASE_URL is not set (" + command +
                             " writes to the research store: the writer's URL, trader_recorder, of the live store; "
                             "the research database is found from it)");
  return eventstore::research_url(writer, research_db);
}

std::string StoreUrls::research_owner() const {
  if (owner.empty())
    throw std::runtime_error("TRADER_OWNER_DATABASE_URL is not set (migrations run as the schema's owner, trader_owner)");
  return eventstore::research_url(owner, research_db);
}

const char* to_string(StoreKind k) noexcept { return k == StoreKind::live ? "live" : "research"; }

SessionStores::SessionStores(StoreUrls urls) : urls_(std::move(urls)), live_(urls_.live_reader()) {}

eventstore::PgStore* SessionStores::research() {
  if (!research_tried_) {
    research_tried_ = true;
    const auto url = urls_.research_reader();
    try {
      research_ = std::make_unique<eventstore::PgStore>(url);
    } catch (const eventstore::StoreUnavailable&) {
      throw;
    } catch (const std::runtime_error& e) {
      if (!says_no_such_database(e.what())) throw;
      research_missing_ = missing_research_store(url);
      fmt::print(stderr, "traderctl: note: {}\n", research_missing_);
    }
  }
  return research_.get();
}

eventstore::PgStore& SessionStores::research_or_throw() {
  if (auto* r = research()) return *r;
  throw std::runtime_error(research_missing_);
}

bool SessionStores::holds(eventstore::EventStore& store, const std::string& id) {
  return !store.query({.session_id = id, .limit = 1}).empty();
}

SessionStores::Found SessionStores::find(const std::string& id) {
  if (holds(live_, id)) return {live_, StoreKind::live};
  if (auto* r = research(); r != nullptr && holds(*r, id)) return {*r, StoreKind::research};
  throw std::runtime_error(fmt::format("unknown session {}: neither the live store nor the research store holds an "
                                       "event of it (traderctl sessions lists both)", id));
}

void require_research_store(const std::string& url) {
  bool research = false;
  try {
    research = eventstore::is_research_store(url);
  } catch (const eventstore::StoreUnavailable&) {
    throw;
  } catch (const std::runtime_error& e) {
    if (!says_no_such_database(e.what())) throw;
    throw std::runtime_error(missing_research_store(url));
  }
  if (!research)
    throw std::runtime_error(fmt::format(
        "database {} is not a research store: run `traderctl migrate` (as the owner) to make it one, or set "
        "TRADER_RESEARCH_DB to the research database; a backtest or replay never writes into the live store",
        eventstore::database_of(url)));
}

}  // namespace services
