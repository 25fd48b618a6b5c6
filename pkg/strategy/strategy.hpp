/// @file strategy.hpp
/// @brief The Strategy API: what a trading strategy implements (Strategy), what it is
/// handed (Context: event time, its positions and working orders, and submit / cancel /
/// replace), how it is configured (Params) and chosen (Choice), and the framework side
/// that runs one strategy on events (Runner). The registry of strategies by name is in
/// registry.hpp; docs/strategies.md shows how to write, register, test and backtest one.
///
/// Event-time contract (docs/architecture.md, "Event time"): a strategy's decisions must
/// be a function of the events it is handed, in order, never of the wall clock, of
/// randomness or of anything outside. The strategy worker (workers/strategy.hpp) hands
/// every strategy the market data (quotes, trades, bars) and its own execution reports
/// in event-time order, so the commands are the same at any speed and across a restart
/// (the worker rebuilds by handing the whole log again and publishes only what the log
/// lacks). Concretely:
///  - Commands emitted while handling a market event (or a timer it fires) are stamped
///    with that event: ts_event = its ts_event (ns UTC), cause_seq = its stream sequence.
///  - Commands emitted in on_execution are held and go out at the next market event,
///    stamped with that event (before its timers and handler): a strategy's commands are
///    reactions to market data (stage 1 of the pipeline), never to reports.
///  - A timer set for time T fires once, when the first market event with ts_event >= T
///    is handled, before that event's handler (so in market time: a backtest at full
///    speed and a live run fire it at the same event). A timer whose T is not after the
///    current event's time fires at the next market event. Timers due at one event fire
///    in (T, order set) order.
///
/// client_order_id: Context::submit assigns "<strategy_id>-<n>" (n = 1, 2, ... per
/// strategy, also used for the new id of a replace) when the order's id is empty. A
/// strategy may choose its own id instead (the built-in ma_cross uses
/// "<strategy_id>-<symbol>-<n>"): it must start with "<strategy_id>-", must not be of the
/// framework's form "<strategy_id>-<digits>", and must not have been used before
/// (std::logic_error otherwise: a bug in the strategy). Ids are deterministic: a restarted
/// worker numbers them again the same way.
///
/// Orders the framework tracks (Context::orders): every order this strategy submitted
/// that is not final, by client_order_id, updated from its execution reports (status,
/// cum_qty; a `replaced` report moves it to its new id; a terminal order_status removes
/// it). Position per symbol: the signed sum of its own fills (last_qty, + buy, - sell).
///
/// Errors: Params getters throw std::invalid_argument naming the key; Context throws
/// std::logic_error for an id that breaks the rules above. Whatever escapes a handler
/// reaches the worker, which quarantines the event that caused it (the run goes on).
/// Thread-safety: none; a Runner and its strategy belong to one thread.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "core/decimal.hpp"
#include "core/messages.hpp"
#include "core/time.hpp"

namespace strategy {

// ---------------------------------------------------------------- params

/// A strategy's parameters: key -> text, as given on the command line
/// (`--param fast=5`) or in the `strategies` setting. Typed getters parse on each call.
/// Which keys a strategy accepts, with their defaults, is declared where it is
/// registered (registry.hpp ParamSpec): the registry refuses unknown keys and fills in
/// the defaults before the strategy's factory sees the Params.
class Params {
 public:
  Params() = default;
  Params(std::initializer_list<std::pair<const std::string, std::string>> kv) : values_(kv) {}
  explicit Params(std::map<std::string, std::string> kv) : values_(std::move(kv)) {}

  void set(const std::string& key, std::string value) { values_[key] = std::move(value); }
  bool has(const std::string& key) const { return values_.contains(key); }
  /// The text of `key`. Throws std::invalid_argument "param 'key': missing".
  const std::string& text(const std::string& key) const;
  /// An integer (decimal digits, optional '-') >= `min`. Throws std::invalid_argument
  /// naming the key and the text ("param 'fast': not an integer: 'x'", "... must be >= 1").
  std::int64_t integer(const std::string& key, std::int64_t min = INT64_MIN) const;
  /// An exact decimal (core::Decimal::parse). Throws std::invalid_argument naming the key.
  core::Decimal decimal(const std::string& key) const;
  /// A decimal > 0. Throws std::invalid_argument naming the key.
  core::Decimal positive(const std::string& key) const;
  /// A duration in ns: an integer with an optional unit ns, us, ms, s, m, h ("90s",
  /// "5m"; none = ns), >= 0. Throws std::invalid_argument naming the key.
  core::DurationNs duration(const std::string& key) const;

  const std::map<std::string, std::string>& values() const noexcept { return values_; }
  /// "k1=v1 k2=v2" in key order ("" if none).
  std::string describe() const;
  friend bool operator==(const Params&, const Params&) = default;

 private:
  std::map<std::string, std::string> values_;
};

/// One strategy chosen to run: the registered name, its strategy_id (default: the name)
/// and its params (without strategy_id).
struct Choice {
  std::string name;
  std::string strategy_id;
  Params params;
  friend bool operator==(const Choice&, const Choice&) = default;
};

/// Parses the `strategies` setting: choices separated by ';', each "NAME k=v k=v ..."
/// (whitespace-separated; a value has no spaces or ';'). `strategy_id=X` sets the id
/// (default NAME). Empty text gives an empty list. Throws std::invalid_argument naming
/// the bad part (a key without '=', a key given twice, an empty name).
std::vector<Choice> parse_choices(std::string_view text);
/// The inverse: "NAME strategy_id=X k=v ...; NAME2 ..." (strategy_id left out when it
/// equals the name). parse_choices(format_choices(c)) == c.
std::string format_choices(const std::vector<Choice>& choices);
/// The command-line form: `--strategy NAME` starts a choice, each `--param k=v` belongs
/// to the preceding --strategy. `args` holds only those flags and their values. Throws
/// std::invalid_argument: a --param before any --strategy, a missing value, no '=' in a
/// param, another flag.
std::vector<Choice> choices_from_args(const std::vector<std::string>& args);

// ---------------------------------------------------------------- context

/// An order of this strategy that is not final, as its reports say so far.
struct WorkingOrder {
  std::string client_order_id;
  std::string symbol;
  core::Side side = core::Side::buy;
  core::OrderType order_type = core::OrderType::market;
  core::TimeInForce time_in_force = core::TimeInForce::day;
  core::Quantity quantity;                   ///< order quantity (after replaces)
  std::optional<core::Price> limit_price;
  std::optional<core::Price> stop_price;
  core::Quantity cum_qty;                    ///< filled so far
  std::optional<core::OrderStatus> status;   ///< nullopt: sent, no report yet
  bool cancel_pending = false;               ///< a cancel was sent, not answered yet
  std::optional<std::string> replace_pending;  ///< the new id of a replace sent, not answered yet
  core::Quantity leaves() const { return quantity - cum_qty; }
  /// A cancel or replace is in flight: the framework refuses another until it is answered.
  bool busy() const noexcept { return cancel_pending || replace_pending.has_value(); }
};

/// A market-time timer (Context::set_timer), as handed back to Strategy::on_timer.
struct Timer {
  core::TimestampNs at = 0;  ///< ns UTC, the time it was set for
  std::string tag;           ///< the strategy's own label
};

class Runner;

/// What a strategy's handlers are handed: the time and its state, and the way to send
/// commands. Owned by the Runner; valid during the handler call.
class Context {
 public:
  const std::string& strategy_id() const noexcept { return strategy_id_; }
  /// ts_event (ns UTC) of the event being handled (market event, or the report in
  /// on_execution).
  core::TimestampNs now() const noexcept { return now_; }
  /// Signed position on `symbol` from this strategy's own fills (0 if none).
  core::Quantity position(const std::string& symbol) const;
  const std::map<std::string, core::Quantity>& positions() const noexcept { return positions_; }
  /// Every own order not final, by client_order_id.
  const std::map<std::string, WorkingOrder>& orders() const noexcept { return orders_; }
  /// The working orders on `symbol` (optionally one side), in client_order_id order.
  std::vector<const WorkingOrder*> orders_of(const std::string& symbol,
                                             std::optional<core::Side> side = std::nullopt) const;
  /// The working order `client_order_id`, or nullptr.
  const WorkingOrder* order(const std::string& client_order_id) const;

  /// Sends a new order. Fills client_order_id if empty (see the file comment),
  /// strategy_id, ts_event and cause_seq (at hand-out). Returns the client_order_id.
  /// Throws std::logic_error for an id that breaks the file comment's rules.
  std::string submit(core::OrderSubmit order);
  /// Asks to cancel working order `client_order_id`. false (nothing sent) if it is not
  /// a working order of this strategy or a cancel/replace of it is in flight.
  bool cancel(const std::string& client_order_id);
  /// Asks to replace working order `orig` (FIX 35=G): new total quantity (including the
  /// filled part) and/or prices; omitted fields keep their value. Returns the new
  /// client_order_id, or nullopt (nothing sent) if `orig` is not a working order or a
  /// cancel/replace of it is in flight.
  std::optional<std::string> replace(const std::string& orig, std::optional<core::Quantity> quantity,
                                     std::optional<core::Price> limit_price,
                                     std::optional<core::Price> stop_price = std::nullopt);
  /// A timer at market time `at` (ns UTC) with a label; see the file comment.
  void set_timer(core::TimestampNs at, std::string tag = {});
  /// Timers set and not fired yet.
  std::size_t timers() const noexcept { return timers_.size(); }

 private:
  friend class Runner;
  explicit Context(std::string strategy_id);
  std::string next_id();
  std::string strategy_id_;
  std::string prefix_;  ///< "<strategy_id>-"
  core::TimestampNs now_ = 0;
  std::map<std::string, core::Quantity> positions_;
  std::map<std::string, WorkingOrder> orders_;
  std::uint64_t ids_ = 0;                  ///< framework ids handed out
  std::set<std::string> chosen_ids_;       ///< ids the strategy chose itself
  std::multimap<core::TimestampNs, std::string> timers_;
  std::vector<core::OrderCommand> outbox_;  ///< not handed out yet
};

// ---------------------------------------------------------------- strategy

/// What a strategy implements. Every handler has a default that does nothing. Market
/// data reaches every strategy of a worker (all symbols); reports only the strategy
/// whose strategy_id they carry. The Context already reflects the report when
/// on_execution runs (orders, position).
class Strategy {
 public:
  virtual ~Strategy() = default;
  virtual void on_quote(const core::Quote&, Context&) {}
  virtual void on_trade(const core::Trade&, Context&) {}
  virtual void on_bar(const core::Bar&, Context&) {}
  virtual void on_execution(const core::ExecutionReport&, Context&) {}
  virtual void on_timer(const Timer&, Context&) {}
  /// A split or dividend of a symbol (core::CorporateAction), at its ex-date. The Context's
  /// position is already adjusted (a split multiplies it by the ratio); the venue cancels
  /// the symbol's working orders on a split (their reports follow). Override it to restate
  /// what the strategy keeps in prices (indicator windows: divide by the ratio), or a
  /// split looks like a crash to it. Commands are stamped with the action's event.
  virtual void on_corporate_action(const core::CorporateAction&, Context&) {}
};

/// The framework side of one strategy: feeds it events, keeps its Context, hands out its
/// commands stamped. The strategy worker holds one per chosen strategy; unit tests use it
/// directly (given events -> expected commands).
class Runner {
 public:
  Runner(std::string strategy_id, std::unique_ptr<Strategy> strategy);

  /// One market event (its stream sequence `cause_seq`; 0 in unit tests): the commands
  /// held from reports, the timers now due, then the handler. Returns the commands, in
  /// order, stamped (ts_event = the event's, cause_seq).
  std::vector<core::OrderCommand> on_market(const core::MarketData& md, std::uint64_t cause_seq = 0);
  /// A corporate action (its stream sequence `cause_seq`): a split multiplies the
  /// Context's position in the symbol by its ratio, then on_corporate_action runs; its
  /// commands (and those held from reports) come back stamped as on_market's.
  std::vector<core::OrderCommand> on_action(const core::CorporateAction& a, std::uint64_t cause_seq = 0);
  /// One of its own execution reports: updates orders and position, then calls
  /// on_execution. Commands it emits are held for the next market event.
  void on_execution(const core::ExecutionReport& r);

  /// Is `client_order_id` of this strategy's form ("<strategy_id>-...")?
  bool owns(std::string_view client_order_id) const noexcept { return client_order_id.starts_with(ctx_.prefix_); }
  /// An order not final (the worker then waits for risk-state's and execution's answers).
  bool has_open_orders() const noexcept { return !ctx_.orders_.empty(); }
  const std::string& strategy_id() const noexcept { return ctx_.strategy_id_; }
  const Context& context() const noexcept { return ctx_; }
  Strategy& strategy() noexcept { return *strategy_; }

 private:
  void track(const core::ExecutionReport& r);
  Context ctx_;
  std::unique_ptr<Strategy> strategy_;
};

/// `x` rounded down (floor_to) or up (ceil_to) to a multiple of `step` (> 0; else `x`
/// unchanged). Exact (on the raw Decimal). For prices on a tick grid.
core::Decimal floor_to(core::Decimal x, core::Decimal step) noexcept;
core::Decimal ceil_to(core::Decimal x, core::Decimal step) noexcept;

/// The key under which a command is matched against the log when the worker rebuilds
/// (services::Redecide): "<type>:<client_order_id>:<cause_seq>". The framework never sends
/// two commands of one type for one id at one event.
std::string command_key(std::string_view type, std::string_view client_order_id, std::uint64_t cause_seq);
std::string command_key(const core::OrderCommand& c);

}  // namespace strategy
