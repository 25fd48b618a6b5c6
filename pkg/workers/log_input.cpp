#include "workers/log_input.hpp"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "subjects/subjects.hpp"

namespace services {

core::Result<core::MarketData> market_result(std::string_view subject, core::MarketData md) {
  const auto& symbol = std::visit([](const auto& x) -> const std::string& { return x.symbol; }, md);
  const auto token = subject.substr(std::min(subject.size(), subjects::kMarketDataPrefix.size()));
  if (token != symbol)
    return core::make_error("symbol", fmt::format("\"{}\" does not match the subject {}", symbol, subject));
  return md;
}

core::Result<core::MarketData> decode_market_value(codec::Decoder& dec, const natsio::Message& m) {
  auto r = dec.decode_market_data(m.data);
  if (!r) return r;
  return market_result(m.subject, std::move(*r));
}

namespace {
thread_local const SharedEvent* tl_handling = nullptr;  ///< HandlingShared
}  // namespace

HandlingShared::HandlingShared(const SharedEvent* ev) noexcept : prev_(tl_handling) { tl_handling = ev; }
HandlingShared::~HandlingShared() { tl_handling = prev_; }

const core::Result<core::MarketData>& decode_market(codec::Decoder& dec, const natsio::Message& m) {
  // The event being handled, as the bus decoded it: the very bytes (not merely equal ones).
  if (const auto* ev = tl_handling; ev != nullptr && ev->market && ev->data.data() == m.data.data() &&
                                    ev->data.size() == m.data.size() && ev->subject == m.subject)
    return *ev->market;
  thread_local std::optional<core::Result<core::MarketData>> last;
  last.reset();  // an exception below leaves nothing stale
  last.emplace(decode_market_value(dec, m));
  return *last;
}

bool is_instrument_status(codec::Decoder& dec, const natsio::Message& m) {
  const auto env = dec.peek(m.data);
  return env && env->type == core::InstrumentStatus::kType && static_cast<bool>(dec.decode_instrument_status(m.data));
}

std::optional<core::CorporateAction> corporate_action_of(codec::Decoder& dec, const natsio::Message& m) {
  const auto env = dec.peek(m.data);
  if (!env || env->type != core::CorporateAction::kType) return std::nullopt;
  auto a = dec.decode_corporate_action(m.data);
  if (!a || m.subject.substr(std::min(m.subject.size(), subjects::kMarketDataPrefix.size())) != a->symbol)
    return std::nullopt;
  return std::move(*a);
}

/// Market data as the strategy and the reporter take it: counted (live), decoded (one
/// that cannot be read is refused, unless it is an instrument status, which only
/// execution uses), checked (an implausible one is flagged, not used). nullopt: not to
const core::MarketData* take_market(Runtime& rt, codec::Decoder& dec, core::MarketCheck& check,
                                    const natsio::Message& m, bool replay) {
  if (!replay) rt.count_in();
  const auto& r = decode_market(dec, m);
  if (!r) {
    if (!replay && !is_instrument_status(dec, m) && !corporate_action_of(dec, m)) rt.refuse(m, r.error());
    return nullptr;
  }
  if (auto why = check.check(*r)) {
    if (!replay) rt.flag(m.subject, *why);
    return nullptr;
  }
  return &*r;
}

std::optional<core::ExecutionReport> take_report(Runtime& rt, codec::Decoder& dec, const natsio::Message& m,
                                                 bool replay) {
  if (!replay) rt.count_in();
  auto r = dec.decode_execution_report(m.data);
  if (!r) {
    if (!replay) rt.refuse(m, r.error());
    return std::nullopt;
  }
  return std::move(*r);
}

// ---------------------------------------------------------------- event time

EventTimeInput::EventTimeInput(Runtime& rt, std::vector<EventTimeOrder::Upstream> upstream,
                               std::function<std::optional<int>(int)> out_stage, bool publishes)
    : rt_(rt), order_(rt.worker(), std::move(upstream), std::move(out_stage)), publishes_(publishes) {}

void EventTimeInput::drain(const Handler& handle) {
  while (auto r = order_.pop()) {
    const HandlingShared scope(r->shared);
    handle(r->key.seq, r->subject, r->data);
  }
}

void EventTimeInput::on_log(const LogEvent& ev, const Handler& handle, bool live) {
  const auto pushed = order_.push_or_pass(ev.seq, ev.subject, ev.data, ev.shared);
  if (pushed.role == LogRole::other || pushed.passed) {
    const HandlingShared scope(ev.shared.get());
    handle(ev.seq, ev.subject, ev.data);
  }
  drain(handle);
  if (!live || !publishes_) return;
  const auto head = order_.head();
  const auto f = order_.floor();
  if (f <= published_) return;
  // Not once per message: when the message it waits on changed (it may be blocked on
  // something new, or have nothing left), when it caught up with its queue and reached
  // a later root (a change of stage alone, while idle, would only answer the others'
  // markers with markers), or every 256 roots.
  if (head != last_head_ || (ev.caught_up && f.root > published_.root) || f.root >= published_.root + 256)
    publish_progress();
  last_head_ = head;
}

void EventTimeInput::publish_progress() {
  if (!publishes_) return;
  published_ = order_.floor();
  send(published_.root, published_.stage);
}

void EventTimeInput::leave() {
  if (publishes_) send(0, 0);
}

void EventTimeInput::send(std::uint64_t root_seq, int stage) {
  rt_.publish(subjects::progress(rt_.worker()),
              codec::encode(core::Progress{.worker = rt_.worker(), .root_seq = root_seq, .stage = stage}));
}

std::function<std::optional<int>(int)> reacts(std::vector<int> inputs, int own) {
  return [inputs = std::move(inputs), own](int stage) -> std::optional<int> {
    for (const int i : inputs)
      if (i == stage) return own;
    return std::nullopt;
  };
}

HistoryStats follow_log(Runtime& rt, eventstore::EventStore* store, const std::string& stream, EventTimeInput& in,
                        std::unique_ptr<LogTail>& live,
                        std::function<void(std::uint64_t, std::string_view, std::string_view, bool)> on_event,
                        const std::function<void(const LogEvent&)>& own_output) {
  const std::uint64_t end = rt.bus().log_end(stream);
  auto feed = [&rt, &in, on_event = std::move(on_event)](const LogEvent& ev, bool replay) {
    in.on_log(ev, [&](std::uint64_t seq, std::string_view subject, std::string_view data) {
      guarded(rt, LogEvent{seq, subject, data, ev.from_store}, [&] { on_event(seq, subject, data, replay); });
    }, !replay);
  };
  // log_seq counts every stream message (the consumer is unfiltered), also those the
  // worker ignores, so the lock-step barrier can compare it with the stream's last sequence.
  live = rt.bus().follow(rt, store, stream, end, [feed](const LogEvent& ev) { feed(ev, false); });
  return rt.bus().read_history(store, stream, 0, end, [&](const LogEvent& ev) {
    own_output(ev);
    feed(ev, true);
  });
}


}  // namespace services
