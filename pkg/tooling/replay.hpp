/// @file replay.hpp
/// @brief Publishing a recorded session's inputs back onto NATS (`traderctl
/// replay`, `traderctl backtest --session`).
///
/// A session's *inputs* are what came into the pipeline from outside it: market
/// data (market.data.<symbol>: quotes, trades, bars, instrument_status) and the
/// commands people sent (risk.management, and trading.orders messages that the
/// session's own strategy did not send). The strategy's orders are recognised by
/// their client_order_id, which starts with "<strategy_id>-", for each strategy_id
/// the strategy's worker.started manifest in that session names (its `strategies`
/// setting, else its `strategy_id`: workers/strategy.hpp); they
/// are left out because a fresh strategy regenerates them. Everything else
/// (approved orders, execution reports, risk.state, reports, session metadata)
/// is derived and is left out too.
///
/// Inputs are published on their recorded subjects with the payload as the
/// store holds it (PgStore: PostgreSQL's jsonb rendering of the recorded bytes;
/// every decoder accepts any key order), in position order.
///
/// Thread-safety: functions run on the calling thread (callbacks too); a store
/// is used from one thread (PgStore is not thread-safe).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/time.hpp"
#include "eventstore/event_store.hpp"
#include "natsio/natsio.hpp"

namespace services {

/// Which inputs to publish. Every set criterion must hold; empty = all.
struct ReplayFilter {
  /// Symbols: market.data.<symbol> of these only; orders only on these symbols
  /// (order.submit's symbol; cancels and replaces follow the order they name).
  /// risk.management commands are kept.
  std::vector<std::string> symbols;
  /// NATS subject patterns ("market.data.EURUSD", "market.data.*", "trading.>"):
  /// an input is kept if its subject matches any of them.
  std::vector<std::string> subjects;
  /// Market time window [from, to), ns UTC, on ts_event. An input without
  /// ts_event (or 0: a hand-typed order, a risk command) has the market time of
  /// the session's latest event before it that had one (none yet: before any
  /// window that has a `from`).
  std::optional<core::TimestampNs> from, to;
};

/// One input to publish.
struct ReplayInput {
  std::string subject;
  std::string payload;
  core::TimestampNs market_ts = 0;  ///< its ts_event, or the market time then (see ReplayFilter::from); 0 = none yet
  std::int64_t position = 0;        ///< in the source store
};

/// The inputs of a session, selected.
struct ReplayPlan {
  std::string session_id;
  std::string strategy_id;                  ///< its strategies' ids, comma-separated; "" if no strategy manifest
  std::vector<ReplayInput> inputs;          ///< in position order, filters applied
  std::int64_t session_events = 0;          ///< events read
  std::int64_t strategy_orders = 0;         ///< trading.orders left out as the strategy's own
  std::int64_t filtered_out = 0;            ///< inputs the filter left out
  std::string input_set;                    ///< the input set the session names ("" = none; input_sets.hpp)
};

/// Reads session `session_id` page by page (EventQuery by session, position
/// order) and selects its inputs. Holds the selected inputs in memory (about
/// their payload bytes). Throws std::runtime_error("unknown session ...") if the
/// store holds no event of it, and what the store throws.
ReplayPlan load_replay_plan(eventstore::EventStore& store, const std::string& session_id, const ReplayFilter& filter);

struct ReplayProgress {
  std::int64_t published = 0;
  std::int64_t total = 0;
  double seconds = 0;                       ///< since publishing began (steady clock)
  core::TimestampNs market_ts = 0;          ///< of the last published input
};

struct ReplayOptions {
  /// 0 = as fast as possible; X > 0 = the recorded pace (market_ts gaps) / X.
  double speed = 0;
  /// Called on the calling thread about every `progress_ms` while publishing (not at all if empty).
  std::function<void(const ReplayProgress&)> on_progress;
  std::int64_t progress_ms = 1'000;
  /// Called after each input is published, before the next (e.g. to wait until
  /// the pipeline is quiescent: lock-step). May throw; the loop stops.
  std::function<void(const ReplayInput&)> after_each;
  /// Polled between inputs; publishing stops early when it becomes true.
  const std::atomic<bool>* stop = nullptr;
};

struct ReplaySummary {
  std::int64_t published = 0;
  double load_seconds = 0;                  ///< reading and selecting (replay_session only)
  double publish_seconds = 0;               ///< publishing, including the final flush
  bool interrupted = false;                 ///< `stop` ended it early
  core::TimestampNs first_market_ts = 0, last_market_ts = 0;
};

/// True for the inputs people send: trading.orders and risk.management, as recorded
/// with their sender (trading.orders.by.<user>, pkg/auth) or not.
bool is_desk_input(std::string_view subject) noexcept;

/// Publishes `inputs` in order, paced per `opt`, then flushes (every message has
/// reached the server): market data on `conn`; people's orders and commands
/// (is_desk_input) on `desk` when it is given, on their base subject (the server
/// names the desk identity as their sender), each flushed before the next input so
/// that the order of the inputs holds across the two connections. Throws
/// natsio::NatsError if a publish or a flush fails (naming the input), and
/// whatever the callbacks throw.
ReplaySummary publish_inputs(natsio::Connection& conn, const std::vector<ReplayInput>& inputs, const ReplayOptions& opt,
                             natsio::Connection* desk = nullptr);

/// load_replay_plan + publish_inputs. `plan_out`, if set, receives the plan.
ReplaySummary replay_session(natsio::Connection& conn, eventstore::EventStore& store, const std::string& session_id,
                             const ReplayFilter& filter, const ReplayOptions& opt, ReplayPlan* plan_out = nullptr,
                             natsio::Connection* desk = nullptr);

/// Parses a time for --from/--to: integer ns UTC, or ISO-8601 UTC
/// "YYYY-MM-DDTHH:MM:SS[.fraction][Z]" (also "YYYY-MM-DD"). nullopt if neither.
std::optional<core::TimestampNs> parse_time_arg(std::string_view text);

}  // namespace services
