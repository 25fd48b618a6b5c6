/// @file log_input.hpp
/// @brief What the workers that follow the event log share: decoding market data as
/// they take it, their side of the event-time contract (EventTimeInput), their
/// start-up (follow_log), and the guard that turns an exception escaping a handler
/// into a quarantined message.
///
/// Thread-safety: as each function says; a worker calls them from its delivery thread
/// (or its follower's mutex).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>
#include <variant>

#include "codec/codec.hpp"
#include "core/market_check.hpp"
#include "natsio/natsio.hpp"
#include "workers/event_log.hpp"
#include "workers/event_time.hpp"
#include "workers/runtime.hpp"

namespace services {

template <class... Ts>
struct overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
overloaded(Ts...) -> overloaded<Ts...>;

/// Runs `f` for message `m`; whatever escapes it (core::ArithmeticError on an
/// absurd value, std::bad_alloc) quarantines the message instead of reaching
/// natsio's last-resort catch: the worker goes on, and says it is degraded.
template <class F>
void guarded(Runtime& rt, const natsio::Message& m, F&& f, std::uint64_t stream_seq = 0) noexcept {
  const Runtime::HandlingTimer timer(rt);
  try {
    f();
  } catch (const std::exception& e) {
    rt.quarantine(m.subject, e.what(), m.data, m.reply, stream_seq);
  } catch (...) {
    rt.quarantine(m.subject, "unknown exception", m.data, m.reply, stream_seq);
  }
}

/// The same for an event of the log being replayed at start (quarantined with its
/// stream sequence): a worker never crash-loops while rebuilding from its own log.
template <class F>
void guarded(Runtime& rt, const LogEvent& ev, F&& f) noexcept {
  const Runtime::HandlingTimer timer(rt);
  try {
    f();
  } catch (const std::exception& e) {
    rt.quarantine(ev.subject, e.what(), ev.data, {}, ev.seq);
  } catch (...) {
    rt.quarantine(ev.subject, "unknown exception", ev.data, {}, ev.seq);
  }
}


/// A core subscription whose handler is guarded (a message that throws is quarantined).
template <class F>
std::unique_ptr<BusSubscription> sub(Runtime& rt, std::string_view subject, F&& f) {
  return rt.bus().subscribe(subject,
                            [&rt, f = std::forward<F>(f)](const natsio::Message& m) { guarded(rt, m, [&] { f(m); }); });
}

/// The event time of a market data message (ns UTC).
inline core::TimestampNs market_ts(const core::MarketData& md) {
  return std::visit([](const auto& x) { return x.ts_event; }, md);
}

/// Decodes a market.data.<symbol> message and checks that the payload's symbol matches
/// the subject's last token (market_result). Always parses. Thread-safety: as `dec`.
core::Result<core::MarketData> decode_market_value(codec::Decoder& dec, const natsio::Message& m);
/// `md` if its symbol is the last token of `subject` (market.data.<symbol>), else an
/// error on "symbol". Pure.
core::Result<core::MarketData> market_result(std::string_view subject, core::MarketData md);

/// decode_market_value's result, without parsing again when the message is the event
/// being handled on this thread (HandlingShared) and the bus decoded it already (the
/// in-process engine: one decode per quote for all four workers). The reference stays
/// valid until the next decode_market or take_market call on this thread, or the end of
/// the handling. Thread-safety: per thread.
const core::Result<core::MarketData>& decode_market(codec::Decoder& dec, const natsio::Message& m);

/// While it lives, `ev` (nullptr: none) is the event being handled on this thread, for
/// decode_market. EventTimeInput sets it around each handler call; scopes nest.
class HandlingShared {
 public:
  explicit HandlingShared(const SharedEvent* ev) noexcept;
  ~HandlingShared();
  HandlingShared(const HandlingShared&) = delete;
  HandlingShared& operator=(const HandlingShared&) = delete;

 private:
  const SharedEvent* prev_;
};

/// True if a market.data message that decode_market refused is a valid
/// instrument_status (workers other than execution take no action on it, and it
/// is not bad input). Called on the error path only, so quotes pay nothing.
bool is_instrument_status(codec::Decoder& dec, const natsio::Message& m);

/// The corporate action a market.data message carries (core::CorporateAction), when it
/// is a valid one whose symbol is the subject's; nullopt otherwise (then it is market
/// data, an instrument status, or bad input). Every worker that keeps positions or
/// orders applies it; none refuses it. Cheap for quotes: it peeks at the type first.
std::optional<core::CorporateAction> corporate_action_of(codec::Decoder& dec, const natsio::Message& m);

/// Market data as the strategy and the reporter take it: counted (live), decoded (one
/// that cannot be read is refused, unless it is an instrument status, which only
/// execution uses), checked (an implausible one is flagged, not used). nullopt: not to
/// be used. While replaying nothing is counted, refused or flagged again. The pointer
/// (to decode_market's result) stays valid as decode_market's reference does.
const core::MarketData* take_market(Runtime& rt, codec::Decoder& dec, core::MarketCheck& check,
                                    const natsio::Message& m, bool replay);

/// An execution report as the strategy and the reporter take it: counted (live), decoded
/// (one that cannot be read is refused, live). nullopt: not to be used. While replaying
/// nothing is counted or refused again.
std::optional<core::ExecutionReport> take_report(Runtime& rt, codec::Decoder& dec, const natsio::Message& m,
                                                 bool replay);

/// A worker's side of the event-time contract (event_time.hpp, docs/architecture.md
/// "Event time"): its EventTimeOrder, and its progress markers on progress.<worker>.
///
/// Progress is published when the floor moved and: the message it waits on changed (it
/// is blocked on something new, or has nothing left), or it caught up with its queue
/// and reached a later root, or it ran 256 roots ahead of the last marker.
/// Thread-safety: the owner's (its delivery thread, or the follower's mutex).
class EventTimeInput {
 public:
  using Handler = std::function<void(std::uint64_t seq, std::string_view subject, std::string_view data)>;
  /// `publishes`: strategy, risk-state and execution publish progress; the reporter
  /// (nobody consumes what it says) does not.
  EventTimeInput(Runtime& rt, std::vector<EventTimeOrder::Upstream> upstream,
                 std::function<std::optional<int>(int)> out_stage, bool publishes);
  /// Takes one message of the log: `handle` runs for it at once if it is not ordered
  /// (LogRole::other), then for every message the order releases. `live`: publish
  /// progress as above (false while rebuilding).
  void on_log(const LogEvent& ev, const Handler& handle, bool live);
  /// Releases what may be released (after a change of relevance, e.g. at the end of a rebuild).
  void drain(const Handler& handle);
  /// Publishes the floor now, whatever the batching says (e.g. at the end of a rebuild).
  void publish_progress();
  /// Says the worker takes no part any more (progress root_seq 0): at an orderly stop.
  void leave();
  EventTimeOrder& order() noexcept { return order_; }

 private:
  void send(std::uint64_t root_seq, int stage);
  Runtime& rt_;
  EventTimeOrder order_;
  bool publishes_;
  Floor published_{};
  std::optional<EventKey> last_head_;
};

/// out_stage for a worker that reacts to the stages `inputs`, at stage `own`.
std::function<std::optional<int>(int)> reacts(std::vector<int> inputs, int own);

/// The start-up of a worker that follows the log in event-time order (execution,
/// strategy, reporter). The live follower first, from the stream's end, so that the
/// stream keeps what comes meanwhile; then the history, each message fed to `in` (which
/// hands what it releases to `on_event`, guarded: one that throws is quarantined), after
/// `own_output` saw it (the worker's own messages, for its Redecide). The caller then
/// publishes what the rebuild owes and opens `live` at the returned last_seq.
HistoryStats follow_log(Runtime& rt, eventstore::EventStore* store, const std::string& stream, EventTimeInput& in,
                        std::unique_ptr<LogTail>& live,
                        std::function<void(std::uint64_t, std::string_view, std::string_view, bool)> on_event,
                        const std::function<void(const LogEvent&)>& own_output);

}  // namespace services
