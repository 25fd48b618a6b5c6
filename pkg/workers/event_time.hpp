/// @file event_time.hpp
/// @brief The order in which a worker handles the event log: event-time order, by
/// cause, not the order in which messages happened to reach the stream
/// (docs/architecture.md, "Event time").
///
/// Every message of the log gets an ordering key (root, stage, seq):
///  - a *root* input (market data, a person's order on trading.orders.by.<user>, a
///    risk.management command) is its own root: key (seq, 0, seq);
///  - a *derived* message names its cause (`cause_seq`, the stream sequence of the
///    message it reacts to) and takes its cause's root, with the stage of the worker
///    that published it: strategy orders 1, risk-state decisions 2 (approvals on
///    trading.orders.approved, denials on trading.executions, risk.state caused by a
///    root or an order), execution reports 3, risk.state caused by a report 4.
/// Handling a root's whole cascade (orders, decisions, reports) before the next root is
/// what lock-step did with a barrier per input; here it is what the keys say.
///
/// A worker cannot know from silence that an upstream worker has nothing more to say
/// about a root: each of strategy, risk-state and execution publishes a *progress
/// marker* (core::Progress on progress.<worker>, captured by the stream after the
/// messages it vouches for): "every message I will still publish has a key >= (root_seq,
/// stage)". EventTimeOrder buffers the log and releases the smallest key once no
/// upstream that matters can still publish something smaller: conservative parallel
/// discrete-event simulation (Chandy and Misra, "Distributed Simulation: A Case Study in
/// Design and Verification of Distributed Programs", IEEE TSE 5(5), 1979) with null
/// messages, and the watermarks of stream processors (Akidau et al., "The Dataflow
/// Model", VLDB 2015).
///
/// Which upstream matters is the caller's domain knowledge (Upstream::relevant): the
/// strategy waits for reports only while it has an order that is not final; risk-state
/// waits for execution only while an approved order is not final. With nothing in
/// flight every worker runs ahead at the speed of the log, with no round trip per input.
///
/// Pure: no I/O, no clock. Thread-safety: none (one owner thread).
#pragma once

#include <array>
#include <compare>
#include <deque>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "codec/codec.hpp"
#include "core/messages.hpp"

namespace services {

/// Stages of the pipeline (see above). A worker's outputs all carry its stage, except
/// risk-state's reactions to execution reports (kStageRiskAfterFill).
inline constexpr int kStageRoot = 0;
inline constexpr int kStageStrategy = 1;
inline constexpr int kStageRisk = 2;
inline constexpr int kStageExecution = 3;
inline constexpr int kStageRiskAfterFill = 4;

/// An event of the log as an in-process bus holds it (MemoryBus): one copy, shared by
/// every worker that buffers it, with its market data decoded once. A worker handling
/// it is handed views of `subject` and `data`; decode_market (log_input.hpp) then takes
/// `market` instead of parsing `data` again. On NATS there is none (each worker is its
/// own process and decodes what it receives). Immutable once built.
struct SharedEvent {
  std::string subject;
  std::string data;
  /// For market.data.<symbol>: decode_market's result for `subject` and `data`
  /// (computed by the bus, with the same code); nullopt for other subjects.
  std::optional<core::Result<core::MarketData>> market;
};

/// Ordering key of a log message. Compared lexicographically.
struct EventKey {
  std::uint64_t root = 0;  ///< stream sequence of the root input whose cascade it belongs to
  int stage = 0;           ///< kStage*
  std::uint64_t seq = 0;   ///< its own stream sequence (publish order within one worker)
  auto operator<=>(const EventKey&) const = default;
};

/// A worker's progress marker as a lower bound: every message it will still publish
/// has a key >= (root, stage, 0).
struct Floor {
  std::uint64_t root = 0;
  int stage = 0;
  auto operator<=>(const Floor&) const = default;
};

/// How a message of the log takes part in the ordering.
enum class LogRole {
  root,     ///< a root input (ordered)
  derived,  ///< a derived message with a known stage (ordered)
  progress, ///< a progress marker (updates a floor; never handed to the caller)
  other,    ///< everything else (session metadata, dead letters, metrics, risk.state without a cause):
            ///< handed to the caller at once, in stream order
};

/// Buffers the log and hands it to `handle` in event-time order. See the file comment.
class EventTimeOrder {
 public:
  /// One upstream worker whose messages this worker consumes.
  struct Upstream {
    std::string worker;                ///< as in its progress markers ("strategy", "risk-state", "execution")
    std::vector<int> stages;           ///< the stages of its messages this worker consumes
    std::function<bool()> relevant;    ///< may it still send something that matters now? (empty = always)
  };
  /// `self`: this worker's name (its own progress markers are ignored). `out_stage`:
  /// the stage of what this worker publishes in reaction to an input of a stage
  /// (nullopt: nothing, until the next root), for its own floor; a function of the
  /// stage alone (it is tabulated here once). `handle`: called once
  /// per released (or `other`) message, in order.
  EventTimeOrder(std::string self, std::vector<Upstream> upstream, std::function<std::optional<int>(int)> out_stage);

  /// Classifies one message of the log (its stream sequence, subject and JSON) and
  /// either buffers it (root, derived), applies it (progress), or returns it as
  /// `other`. Call for every message in stream order, each exactly once. Returns the
  /// role. Never throws on bad JSON (a message that cannot be read is `other`: the
  /// handler refuses it in stream order).
  LogRole push(std::uint64_t seq, std::string_view subject, std::string_view data);
  /// As push, but a message that pop() would release at once (nothing is buffered, and
  /// no upstream blocks its key) is not copied into the buffer: `passed` is true and the
  /// caller handles it now, from its own views, before it pops anything. The same
  /// order as push then pop, without the copy (the common case: nothing in flight).
  struct Pushed {
    LogRole role;
    bool passed = false;
  };
  /// `shared`: the bus's shared copy of the message (in-process), which the buffer then
  /// keeps instead of copying `subject` and `data` (they must be views of it).
  Pushed push_or_pass(std::uint64_t seq, std::string_view subject, std::string_view data,
                      std::shared_ptr<const SharedEvent> shared = {});
  /// As push, but the message is not buffered: it was handled otherwise (risk-state
  /// restores its history from recorded decisions). Its key and progress are learnt.
  LogRole note(std::uint64_t seq, std::string_view subject, std::string_view data);

  /// Never forgets a key. By default the keys of messages before every upstream's
  /// progress are dropped every 4,096 messages, since no later message can name them
  /// as its cause. A reader without upstreams (traderctl diff reading a whole session)
  /// has no progress to go by and must keep them all: memory grows with the session
  /// (a few dozen bytes per message).
  void keep_all_keys() noexcept { prune_ = false; }

  /// While a worker rebuilds from its own log (risk-state): holds back every message
  /// whose reactions' place, (its root, out_stage of its stage; the next stage for a
  /// message it does not react to), is not below the highest progress this worker itself
  /// published in the log (its own markers, ignored otherwise; a marker with root_seq 0,
  /// an orderly stop, moves nothing). A marker reaches the log after everything it
  /// vouches for, so when a message is released while holding, everything the worker
  /// published in reaction to it is already pushed: an input released with no answer
  /// pushed was never answered.
  /// `hold(false)` at the end of the history releases the rest in key order, as usual.
  void hold_at_own_progress(bool hold) noexcept { hold_ = hold; }
  /// The highest own progress seen while holding ((0, 0) if none).
  Floor own_progress() const noexcept { return own_; }

  /// Pops the next message that may be handled now, or nullopt if none may (the buffer
  /// is empty, or its smallest key waits for an upstream's progress). The views stay
  /// valid until the next pop() (its storage is then reused for a later message: the
  /// buffer allocates nothing per message once warm).
  struct Ready {
    EventKey key;
    std::string_view subject;
    std::string_view data;
    const SharedEvent* shared = nullptr;  ///< the bus's copy, if it came with one (subject and data view it)
  };
  std::optional<Ready> pop();

  /// This worker's own progress: every message it will still publish in reaction to the
  /// log has a key >= the result, given what it has been handed so far.
  Floor floor() const;

  /// The key of a message pushed earlier (nullopt if unknown or forgotten).
  std::optional<EventKey> key_of(std::uint64_t seq) const;
  /// Latest progress of `worker` (nullopt if none seen, or it left).
  std::optional<Floor> progress_of(const std::string& worker) const;
  /// The smallest buffered key (nullopt = empty).
  std::optional<EventKey> head() const {
    if (buffer_.empty()) return std::nullopt;
    return buffer_.front().first;
  }
  /// Messages waiting in the buffer.
  std::size_t buffered() const noexcept { return buffer_.size(); }
  /// Why the smallest buffered message waits ("" if it does not, or the buffer is empty):
  /// the upstream and its floor, for logs and tests.
  std::string waiting_for() const;
  /// Highest stream sequence pushed.
  std::uint64_t last_seq() const noexcept { return last_seq_; }

 private:
  struct Known {
    std::uint64_t root = 0;
    int stage = 0;
    bool order = false;     ///< an order command (its decision is risk-state's: stage 2)
  };
  enum class Mode { keep, pass, note };
  LogRole classify(std::uint64_t seq, std::string_view subject, std::string_view data, Mode mode,
                   std::shared_ptr<const SharedEvent> shared = {});
  void remember(std::uint64_t seq, Known k);
  const Known* find_known(std::uint64_t seq) const;
  /// The key upstream `u` may still publish at stage `stage`, given its floor.
  static EventKey next_of(const Floor& f, int stage);
  /// First upstream (relevant, with progress) that blocks `k`, or nullptr.
  const Upstream* blocker(const EventKey& k) const;
  void prune();

  std::string self_;
  std::vector<Upstream> upstream_;
  std::function<std::optional<int>(int)> out_stage_;
  std::array<std::optional<int>, kStageRiskAfterFill + 1> out_table_{};  ///< out_stage_ of each stage
  std::optional<int> out_of(int stage) const {
    return stage >= 0 && stage <= kStageRiskAfterFill ? out_table_[static_cast<std::size_t>(stage)] : out_stage_(stage);
  }
  codec::Decoder dec_;
  void insert(const EventKey& k, std::string_view subject, std::string_view data,
              std::shared_ptr<const SharedEvent> shared);
  /// A buffered message: the bus's shared copy, or its own copy of the bytes. Slots are
  /// reused (their strings keep their capacity), so the buffer allocates nothing per
  /// message once warm.
  struct Slot {
    std::string subject;
    std::string data;
    std::shared_ptr<const SharedEvent> shared;  ///< if set, subject and data are unused
  };
  /// The buffer: (key, slot) ascending by key. A deque, not a map: roots come in
  /// ascending order and are appended, pops take the front, and only a derived message
  /// (a few percent of the log) lands in the middle.
  std::deque<std::pair<EventKey, std::uint32_t>> buffer_;
  std::vector<Slot> slots_;
  std::vector<std::uint32_t> free_slots_;
  std::optional<std::uint32_t> popped_;  ///< the slot the last pop() handed out (its views)
  /// Latest progress of each upstream_[i] (nullopt: none seen, or it left): what
  /// blocker() and floor() read for every message, without a lookup by name.
  std::vector<std::optional<Floor>> up_floor_;
  /// seq -> key parts, for the causes of later messages; ascending by seq (the log comes
  /// in stream order), a prefix dropped by prune().
  std::deque<std::pair<std::uint64_t, Known>> known_;
  bool passed_ = false;  ///< set by classify in Mode::pass
  std::map<std::string, Floor> progress_;  ///< worker -> latest progress marker
  std::uint64_t last_seq_ = 0;
  std::uint64_t pushed_ = 0;
  bool prune_ = true;
  bool hold_ = false;                       ///< hold_at_own_progress
  Floor own_{};                             ///< its own highest progress in the log (while holding)
  Upstream own_gate_{self_, {}, {}};        ///< what blocker() names when holding blocks a key
};

}  // namespace services
