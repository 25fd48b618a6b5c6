/// @file stores.hpp
/// @brief The two event stores traderctl works with: the live store (the
/// append-only audit log the live recorder writes) and the research store
/// (backtests, replays, imports; eventstore/research.hpp).
///
/// Where each is:
///   live      DATABASE_URL (as the reader), TRADER_WRITER_DATABASE_URL (the writer),
///             TRADER_OWNER_DATABASE_URL (the owner: migrate)
///   research  the same URLs with the database swapped for TRADER_RESEARCH_DB,
///             by default "<live database>_research" (eventstore::research_url)
///
/// What goes where: `backtest` and `replay` record their sandbox's session in the
/// research store, `backtest --in-process --record` and `import` write there too;
/// nothing traderctl runs writes the live store. Commands that read a session
/// (`sessions show`, `export`, `diff`, `replay ID`, `backtest --session ID`) look
/// in the live store first, then in the research store; `sessions` lists both;
/// `sessions rm ID` removes a research session and refuses a live one.
///
/// Errors: std::runtime_error naming the variable to set or the session not
/// found; what PgStore throws. Thread-safety: not thread-safe (PgStore).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "eventstore/event_store.hpp"

namespace services {

/// The store URLs of the environment (see the file comment).
struct StoreUrls {
  std::string reader;       ///< DATABASE_URL
  std::string writer;       ///< TRADER_WRITER_DATABASE_URL ("" = not set)
  std::string owner;        ///< TRADER_OWNER_DATABASE_URL ("" = not set)
  std::string research_db;  ///< TRADER_RESEARCH_DB ("" = "<live database>_research")

  static StoreUrls from_environment();

  /// The live reader's URL; throws std::runtime_error("DATABASE_URL is not set").
  std::string live_reader() const;
  /// The research store as the reader (from DATABASE_URL).
  std::string research_reader() const;
  /// The research store as the writer (from TRADER_WRITER_DATABASE_URL); throws
  /// std::runtime_error naming the variable and `command` when it is not set.
  std::string research_writer(const std::string& command) const;
  /// The research store as the owner (from TRADER_OWNER_DATABASE_URL).
  std::string research_owner() const;
};

/// Which store a session was found in.
enum class StoreKind { live, research };
const char* to_string(StoreKind k) noexcept;

/// The live store and (when it exists) the research store, both as the reader.
class SessionStores {
 public:
  /// Opens the live store (DATABASE_URL) at once; the research store on first use.
  explicit SessionStores(StoreUrls urls);

  eventstore::PgStore& live() { return live_; }
  /// The research store, or nullptr when its database does not exist (a
  /// deployment provisioned before it had one: a note on stderr says how to
  /// create it). Other errors propagate.
  eventstore::PgStore* research();
  /// The research store, or std::runtime_error saying how to create it.
  eventstore::PgStore& research_or_throw();

  struct Found {
    eventstore::PgStore& store;
    StoreKind kind;
  };
  /// The store that holds an event of session `id` (live first). Throws
  /// std::runtime_error("unknown session ID: ...") when neither does.
  Found find(const std::string& id);
  /// True if `store` holds at least one event of session `id`.
  static bool holds(eventstore::EventStore& store, const std::string& id);

  const StoreUrls& urls() const noexcept { return urls_; }

 private:
  StoreUrls urls_;
  eventstore::PgStore live_;
  std::unique_ptr<eventstore::PgStore> research_;
  bool research_tried_ = false;
  std::string research_missing_;  ///< why research() is null
};

/// True for a PostgreSQL error text saying a database does not exist.
bool says_no_such_database(std::string_view what);
/// What traderctl says when the research store's database (at `url`) does not exist:
/// which database, and how to create it.
std::string missing_research_store(const std::string& url);

/// Throws std::runtime_error unless the database at `url` is a research store
/// (eventstore::is_research_store): a misconfigured TRADER_RESEARCH_DB must never
/// let a backtest write into a live store.
void require_research_store(const std::string& url);

}  // namespace services
