/// @file external_strategy.hpp
/// @brief A strategy in any language: the Strategy API (strategy/strategy.hpp) over NATS
/// request-reply. ExternalStrategy hands each event to a program of the user's, which
/// answers with commands and timers; the strategy worker runs it like any other strategy
/// (registered as "external": external_registration, with_external). The contract for the
/// program's author is docs/strategies.md, "Strategies in any language"; in brief:
///
/// Subject: `strategy.external.<strategy_id>` (param `subject`, which must start with
/// "strategy.external."). The worker (NATS identity `strategy`) requests; the program
/// (identity `strategy-ext`, pkg/auth: it may subscribe strategy.external.> and publish
/// only one answer to each request it received) replies.
///
/// Requests (JSON objects, one per event, in the worker's event-time order):
///  - `{"type":"strategy.reset","v":1,"strategy_id":ID}`: forget everything. Sent before
///    the first event a worker hands the strategy, so after every start of the worker,
///    which then hands it the whole log again (the rebuild): the program decides the
///    same again. The reply's content is ignored ({} will do).
///  - `{"type":"strategy.event","v":1,"strategy_id":ID,"n":N,"now":NS,"event":E,
///    "positions":{SYMBOL:"qty",...},"orders":[O,...]}`: N counts the events since the
///    reset (1, 2, ...); a request sent again after a timeout carries the same N, and the
///    program must answer it again without applying the event twice. NS is the event's
///    ts_event (ns UTC). E is the event exactly as on the bus (codec::encode): a
///    `quote`, `trade`, `bar`, `corporate_action` or one of the strategy's own
///    `execution_report`s, or a timer `{"type":"timer","at":NS,"tag":"..."}`. positions
///    and orders are the Context's (strategy::Context::positions, ::orders) as the event
///    is handed over: each O is {client_order_id, symbol, side, order_type,
///    time_in_force, quantity, limit_price?, stop_price?, cum_qty, leaves_qty, status?
///    (absent: no report yet), cancel_pending, replace_pending? (the new id)}.
///    Decimals are JSON strings, times JSON integers (ns UTC).
///
/// Reply: `{"commands":[C,...],"timers":[{"at":NS,"tag":"..."},...]}` (both optional),
/// read by codec::decode_strategy_reply. Each C is an order.submit, order.cancel or
/// order.replace in the shape of trading.orders; the host stamps strategy_id, ts_event
/// and cause_seq itself (whatever the program wrote there is ignored). client_order_id:
/// order.submit may leave it out (the host assigns "<strategy_id>-<n>") or give its own
/// "<strategy_id>-<name>" (strategy::Context's rules); order.replace must leave it out
/// (the host assigns the new id). Commands are applied in order through the Context.
///
/// Hostile or broken replies never stop the worker: a reply that does not decode (bad
/// JSON, an unknown command type, a bad field) is dead-lettered on ops.dead_letter
/// naming the field ("commands[1].quantity"), logged, counted (bad_replies()), and taken
/// as "no commands"; a command the Context refuses (an id that breaks its rules, a
/// cancel or replace of an order that is not working or is busy) is dead-lettered
/// naming its field and skipped (refused_commands()), the others are applied.
///
/// No answer: a request that times out (param `timeout`, default 5s) or finds no
/// responder is sent again, with the same N, until it is answered: an event is never
/// skipped, since a skipped event would make two runs decide differently. Each retry is
/// counted (retries()) and logged (warn; attempts 1, 2, 4, 8, ... so a long wait logs
/// a line now and then); after "no responders" it waits 250 ms (or `timeout`, if
/// shorter) before asking again. ExternalLink::stop() ends the wait: the handler then
/// throws ExternalStopped, and the StrategyService drops the event (it is stopping).
///
/// Thread-safety: an ExternalStrategy belongs to its Runner's thread (the worker's
/// delivery thread, or its constructor's while rebuilding); it blocks that thread
/// during each request. ExternalLink::stop() may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>

#include "codec/codec.hpp"
#include "strategy/registry.hpp"
#include "strategy/strategy.hpp"
#include "workers/runtime.hpp"

namespace services {

/// The name of the external strategy in a Registry.
inline constexpr std::string_view kExternalStrategyName = "external";

/// Thrown by an ExternalStrategy's handler when ExternalLink::stop() ended its wait.
class ExternalStopped : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// What the external strategies of one strategy worker share: the worker's Runtime (its
/// NATS connection: requests; its log; its dead letters) and the stop signal.
/// Thread-safe.
class ExternalLink {
 public:
  /// `rt` must run on NATS (rt.conn(), else std::logic_error at the first request) and
  /// outlive the link's strategies.
  explicit ExternalLink(Runtime& rt) noexcept : rt_(rt) {}
  Runtime& runtime() const noexcept { return rt_; }
  /// Ends every wait for an answer, now and later (their handlers throw ExternalStopped).
  void stop() noexcept;
  bool stopping() const noexcept { return stopping_.load(); }
  /// Waits `d`, or less if stop() comes. Returns false if stopping.
  bool pause(std::chrono::milliseconds d);

 private:
  Runtime& rt_;
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::condition_variable cv_;
};

/// One external strategy (see the file comment). Params: `subject` ("auto" = the default,
/// strategy.external.<strategy_id>) and `timeout` (a duration > 0, strategy::Params::duration).
class ExternalStrategy final : public strategy::Strategy {
 public:
  /// Throws std::invalid_argument naming the param: a subject not under
  /// "strategy.external." (or with wildcards or empty tokens), a strategy_id that is not
  /// one subject token (for the default subject), a timeout of 0 or above 1 h.
  /// `link` nullptr: the strategy can only be checked (a configuration's --check-config),
  /// not run: its handlers throw std::logic_error. Sends nothing.
  ExternalStrategy(const strategy::Params& p, const std::string& strategy_id, std::shared_ptr<ExternalLink> link);

  void on_quote(const core::Quote& q, strategy::Context& ctx) override;
  void on_trade(const core::Trade& t, strategy::Context& ctx) override;
  void on_bar(const core::Bar& b, strategy::Context& ctx) override;
  void on_execution(const core::ExecutionReport& r, strategy::Context& ctx) override;
  void on_timer(const strategy::Timer& t, strategy::Context& ctx) override;
  void on_corporate_action(const core::CorporateAction& a, strategy::Context& ctx) override;

  const std::string& subject() const noexcept { return subject_; }
  std::chrono::milliseconds timeout() const noexcept { return timeout_; }
  /// Events handed to the program since the reset (its last N).
  std::uint64_t events() const noexcept { return n_; }
  /// Requests sent again (no answer in time, or no responders). Thread-safe.
  std::int64_t retries() const noexcept { return retries_.load(); }
  /// Replies that did not decode (taken as "no commands").
  std::int64_t bad_replies() const noexcept { return bad_replies_; }
  /// Commands of good replies that the Context refused.
  std::int64_t refused_commands() const noexcept { return refused_; }

 private:
  /// Sends the reset if not sent yet, then the event; applies the reply.
  void exchange(const std::string& event_json, strategy::Context& ctx);
  /// The request's answer, asked again until there is one. Throws ExternalStopped.
  std::string ask(const std::string& payload, std::string_view what);
  void apply(const std::string& reply, strategy::Context& ctx);
  void refuse(const std::string& field, const std::string& why, const std::string& reply, bool whole_reply);
  Runtime& rt() const;

  std::string strategy_id_;
  std::string subject_;
  std::chrono::milliseconds timeout_;
  std::shared_ptr<ExternalLink> link_;
  codec::Decoder dec_;
  bool reset_sent_ = false;
  std::uint64_t n_ = 0;
  std::atomic<std::int64_t> retries_{0};  ///< read from other threads (tests, metrics)
  std::int64_t bad_replies_ = 0, refused_ = 0;
};

/// The registration of "external" (params `subject`, `timeout`), whose strategies use
/// `link` (nullptr: strategies that can be created and checked, not run; see
/// ExternalStrategy).
strategy::Registration external_registration(std::shared_ptr<ExternalLink> link);
/// `registry` with "external" added, or replaced, by external_registration(link).
strategy::Registry with_external(const strategy::Registry& registry, std::shared_ptr<ExternalLink> link);

}  // namespace services
