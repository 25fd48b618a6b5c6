#include "services/services.hpp"

#include <algorithm>
#include <charconv>
#include <limits>
#include <optional>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "subjects/subjects.hpp"

namespace services {
namespace {

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
  try {
    f();
  } catch (const std::exception& e) {
    rt.quarantine(ev.subject, e.what(), ev.data, {}, ev.seq);
  } catch (...) {
    rt.quarantine(ev.subject, "unknown exception", ev.data, {}, ev.seq);
  }
}

template <class F>
std::unique_ptr<natsio::Subscription> sub(Runtime& rt, std::string_view subject, F&& f) {
  return std::make_unique<natsio::Subscription>(
      rt.conn(), subject, [&rt, f = std::forward<F>(f)](const natsio::Message& m) { guarded(rt, m, [&] { f(m); }); });
}

core::TimestampNs market_ts(const core::MarketData& md) {
  return std::visit([](const auto& x) { return x.ts_event; }, md);
}

}  // namespace

core::Result<core::MarketData> decode_market(codec::Decoder& dec, const natsio::Message& m) {
  auto r = dec.decode_market_data(m.data);
  if (!r) return r;
  const auto& symbol = std::visit([](const auto& x) -> const std::string& { return x.symbol; }, *r);
  const auto token = m.subject.substr(std::min(m.subject.size(), subjects::kMarketDataPrefix.size()));
  if (token != symbol)
    return core::make_error("symbol", fmt::format("\"{}\" does not match the subject {}", symbol, m.subject));
  return r;
}

bool is_instrument_status(codec::Decoder& dec, const natsio::Message& m) {
  const auto env = dec.peek(m.data);
  return env && env->type == core::InstrumentStatus::kType && static_cast<bool>(dec.decode_instrument_status(m.data));
}

/// Market data as the strategy and the reporter take it: counted (live), decoded (one
/// that cannot be read is refused, unless it is an instrument status, which only
/// execution uses), checked (an implausible one is flagged, not used). nullopt: not to
/// be used. While replaying nothing is counted, refused or flagged again.
std::optional<core::MarketData> take_market(Runtime& rt, codec::Decoder& dec, core::MarketCheck& check,
                                            const natsio::Message& m, bool replay) {
  if (!replay) rt.count_in();
  auto r = decode_market(dec, m);
  if (!r) {
    if (!replay && !is_instrument_status(dec, m)) rt.refuse(m, r.error());
    return std::nullopt;
  }
  if (auto why = check.check(*r)) {
    if (!replay) rt.flag(m.subject, *why);
    return std::nullopt;
  }
  return std::move(*r);
}

// ---------------------------------------------------------------- event time

EventTimeInput::EventTimeInput(Runtime& rt, std::vector<EventTimeOrder::Upstream> upstream,
                               std::function<std::optional<int>(int)> out_stage, bool publishes)
    : rt_(rt), order_(rt.worker(), std::move(upstream), std::move(out_stage)), publishes_(publishes) {}

void EventTimeInput::drain(const Handler& handle) {
  while (auto r = order_.pop()) handle(r->key.seq, r->subject, r->data);
}

void EventTimeInput::on_log(const LogEvent& ev, const Handler& handle, bool live) {
  if (order_.push(ev.seq, ev.subject, ev.data) == LogRole::other) handle(ev.seq, ev.subject, ev.data);
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

// ---------------------------------------------------------------- risk-state

RiskService::RiskService(Runtime& rt, risk::RiskPolicy configured, eventstore::EventStore* store,
                         std::string stream)
    : rt_(rt),
      engine_(configured.defaults),
      in_(rt,
          {{"strategy", {kStageStrategy}, {}},
           {"execution", {kStageExecution}, [this] { return engine_.open_orders() > 0; }}},
          // Its progress speaks for its decisions (stage 2), which execution and the
          // strategy wait for. Its reactions to reports (risk.state, stage 4) nobody waits
          // for: counting them would tie its progress to execution's and execution's to
          // its own, and the two would climb one root per exchange of markers.
          [](int stage) -> std::optional<int> {
            if (stage == kStageRoot || stage == kStageStrategy) return kStageRisk;
            return std::nullopt;
          },
          true) {
  engine_.set_policy(configured);
  // The core copies of requests, for their reply subjects only (reply_router.hpp);
  // subscribed before the stream's end is read, so every request the live consumer
  // delivers had its core copy seen too (unless risk-state was disconnected then).
  auto core = [this](const natsio::Message& m) { on_request(m); };
  subs_.push_back(sub(rt_, subjects::kTradingOrders, core));
  subs_.push_back(sub(rt_, subjects::kTradingOrdersByAll, core));
  subs_.push_back(sub(rt_, subjects::kRiskManagementByAll, core));
  rt_.conn().flush();
  natsio::JetStream js(rt_.conn());
  const std::uint64_t end = js.last_sequence(stream);
  // The live consumer from end + 1 first (LogFollower), then the history up to end.
  live_ = std::make_unique<LogFollower>(rt_, store, stream, end, [this](const LogEvent& ev) { on_log(ev); });
  engine_.set_replaying(true);
  // The history restores the recorded decisions (replay); the event-time order only
  // learns each message's key and the progress markers, for what is decided from now on.
  history_ = read_history(store, rt_.conn(), stream, 0, end, [this](const LogEvent& ev) {
    in_.order().note(ev.seq, ev.subject, ev.data);
    guarded(rt_, ev, [&] { replay(ev); });
  });
  engine_.set_replaying(false, market_ts_);
  (void)engine_.take_transitions();
  settle_policy(configured);
  // The state as rebuilt (a halt survives a restart), then what the history left undone.
  core::RiskStateChanged ev{.trading_state = engine_.state(),
                            .previous_state = engine_.state(),
                            .reason = engine_.state_reason().empty()
                                          ? std::string("risk-state started")
                                          : fmt::format("risk-state started; {}", engine_.state_reason()),
                            .source = "startup",
                            .ts_event = ingress_time()};
  rt_.publish(subjects::kRiskState, codec::encode(ev));
  decide_pending();
  publish_transitions();
  in_.publish_progress();
  live_->open(history_.last_seq);
}

RiskService::~RiskService() {
  live_.reset();  // no more deliveries
  in_.leave();
}

namespace {
std::int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace

void RiskService::on_request(const natsio::Message& m) {
  // Bookkeeping only: the decision comes with the stream copy (on_log).
  for (const auto& answer : replies_.on_core(ReplyRouter::key(m.subject, m.data), m.reply, steady_ms()))
    rt_.reply(m.reply, answer);
}

void RiskService::on_log(const LogEvent& ev) {
  if (ev.from_store) from_store_.insert(ev.seq);
  in_.on_log(ev, [this](std::uint64_t seq, std::string_view subject, std::string_view data) {
    const bool from_store = from_store_.erase(seq) > 0;
    handle(LogEvent{seq, subject, data, from_store});
  }, true);
}

void RiskService::handle(const LogEvent& ev) {
  natsio::Message m{ev.subject, ev.data, {}};
  cause_ = ev.seq;
  if (ev.subject.starts_with(subjects::kMarketDataPrefix)) return guarded(rt_, m, [&] { on_market(m); });
  if (ev.subject == subjects::kTradingExecutions) return guarded(rt_, m, [&] { on_execution(m); });
  const bool order = subjects::is_orders(ev.subject);
  if (!order && !subjects::is_risk_management(ev.subject)) return;  // not an input of risk-state
  // The decision (or the dead letter) names the input's sequence in the log.
  in_seq_ = ev.seq;
  struct Reset {
    std::uint64_t& seq;
    ~Reset() { seq = 0; }
  } reset{in_seq_};
  auto decide = [&] { guarded(rt_, m, [&] { order ? on_order(m) : on_command(m); }, ev.seq); };
  // Filled in from the store after a gap (maybe on the follower's watchdog thread):
  // long past, its requester no longer waits, and the router is the delivery thread's.
  if (ev.from_store) return decide();
  const auto key = ReplyRouter::key(ev.subject, ev.data);
  if (const auto reply = replies_.on_stream(key, steady_ms())) {
    m.reply = *reply;  // "" = a plain publish: nobody waits
    return decide();
  }
  // The core copy has not come (yet): keep the answers for it.
  std::vector<std::string> answers;
  {
    const Runtime::ReplyCapture capture(answers);
    m.reply = Runtime::kDeferredReply;
    decide();
  }
  replies_.keep(key, std::move(answers), steady_ms());
}

void RiskService::pending_add(std::string key, std::uint64_t seq, std::string_view subject, std::string_view data) {
  pending_.emplace(seq, std::pair{std::string(subject), std::string(data)});
  pending_by_key_[std::move(key)].push_back(seq);
}

void RiskService::pending_remove(const std::string& key) {
  const auto it = pending_by_key_.find(key);
  if (it == pending_by_key_.end()) return;
  pending_.erase(it->second.front());
  it->second.erase(it->second.begin());
  if (it->second.empty()) pending_by_key_.erase(it);
}

void RiskService::replay(const LogEvent& ev) {
  const natsio::Message m{ev.subject, ev.data, {}};
  if (ev.subject.starts_with(subjects::kMarketDataPrefix)) {
    auto r = decode_market(dec_, m);
    if (!r) return;
    if (check_.check(*r)) return;  // flagged when it arrived (counted then)
    market_ts_ = std::max(market_ts_, market_ts(*r));
    std::visit(overloaded{[&](const core::Quote& q) { engine_.on_quote(q); },
                          [&](const core::Trade& t) { engine_.on_trade(t); },
                          [&](const core::Bar& b) { engine_.on_bar(b); }},
               *r);
  } else if (subjects::is_orders(ev.subject)) {
    // An input: undecided until its decision shows up later in the log.
    auto r = dec_.decode_order_command(ev.data);
    if (!r) return;  // answered with a dead letter when it arrived
    std::visit(
        overloaded{[&](const core::OrderSubmit& o) { pending_add("S:" + o.client_order_id, ev.seq, ev.subject, ev.data); },
                   [&](const core::OrderCancel& c) { pending_add("C:" + c.client_order_id, ev.seq, ev.subject, ev.data); },
                   [&](const core::OrderReplace& c) { pending_add("R:" + c.client_order_id, ev.seq, ev.subject, ev.data); }},
        *r);
  } else if (ev.subject == subjects::kTradingOrdersApproved) {
    auto r = dec_.decode_order_command(ev.data);
    if (!r) return;
    std::visit(overloaded{[&](const core::OrderSubmit& o) {
                            engine_.on_approved(o);
                            pending_remove("S:" + o.client_order_id);
                          },
                          [&](const core::OrderCancel& c) { pending_remove("C:" + c.client_order_id); },
                          [&](const core::OrderReplace& c) {
                            engine_.on_approved_replace(c);
                            pending_remove("R:" + c.client_order_id);
                          }},
               *r);
  } else if (ev.subject == subjects::kTradingExecutions) {
    auto r = dec_.decode_execution_report(ev.data);
    if (!r) return;
    engine_.on_execution(*r);
    if (r->exec_type == core::ExecType::denied) pending_remove("S:" + r->client_order_id);
    if (r->exec_type == core::ExecType::cancel_rejected && r->orig_client_order_id)
      pending_remove("R:" + r->client_order_id);
  } else if (ev.subject == subjects::kRiskState) {
    auto r = dec_.decode_risk_event(ev.data);
    if (!r) return;
    std::visit(overloaded{[&](const core::RiskStateChanged& c) {
                            if (c.source == "manual") unanswered_commands_.clear();  // decided up to here
                            // A start-up announcement repeats the state in force; restoring
                            // it would only rewrite the reason (and nest it at every restart).
                            if (c.source == "startup" && c.trading_state == engine_.state()) return;
                            engine_.restore(c);
                          },
                          [&](const core::RiskPolicyChanged& p) {
                            if (p.source == "manual") unanswered_commands_.clear();
                            if (!risk::validate(p.policy)) engine_.set_policy(p.policy);
                            if (p.source == "startup") last_startup_policy_ = p;
                          }},
               *r);
  } else if (ev.subject == subjects::kOpsDeadLetter) {
    // An input risk-state refused or quarantined was answered then (an identical resend,
    // a bad policy, ...): the dead letter names its log sequence, so it is not decided,
    // nor answered, again.
    auto r = dec_.decode_dead_letter(ev.data);
    if (!r || r->worker != rt_.worker() || r->stream_seq == 0) return;
    unanswered_commands_.erase(r->stream_seq);
    if (pending_.erase(r->stream_seq) == 0) return;
    for (auto it = pending_by_key_.begin(); it != pending_by_key_.end(); ++it) {
      auto& seqs = it->second;
      if (const auto pos = std::find(seqs.begin(), seqs.end(), r->stream_seq); pos != seqs.end()) {
        seqs.erase(pos);
        if (seqs.empty()) pending_by_key_.erase(it);
        break;
      }
    }
  } else if (subjects::is_risk_management(ev.subject)) {
    // A command's effect is recorded as a risk.state / risk.policy event (source
    // manual), which restores it. One that no decision follows was sent while
    // risk-state was down: it is decided after the rebuild, in log order with the
    // undecided orders, and its sender is in its subject (risk.management.by.<user>).
    unanswered_commands_.emplace(ev.seq, std::pair{std::string(ev.subject), std::string(ev.data)});
  }
}

void RiskService::publish_policy(std::string reason, std::string source, core::TimestampNs ts) {
  const core::RiskPolicyChanged ev{.policy = engine_.policy(), .reason = std::move(reason),
                                   .source = std::move(source), .ts_event = ts};
  rt_.publish(subjects::kRiskState, codec::encode(ev));
}

void RiskService::settle_policy(const risk::RiskPolicy& configured) {
  const auto ts = ingress_time();
  if (last_startup_policy_ && last_startup_policy_->policy == configured) {
    publish_policy("configuration unchanged: the policy in force before the restart is kept", "restored", ts);
    return;
  }
  engine_.set_policy(configured);
  publish_policy(last_startup_policy_ ? "configuration changed since the last start" : "configured at start-up",
                 "startup", ts);
}

void RiskService::decide_pending() {
  // Orders and commands the log holds and no decision follows: decided now, in
  // event-time order with what comes next; nobody waits for a reply any more.
  auto pending = std::move(pending_);
  pending.merge(std::move(unanswered_commands_));
  pending_.clear();
  pending_by_key_.clear();
  unanswered_commands_.clear();
  for (const auto& [seq, msg] : pending) {
    in_.order().push(seq, msg.first, msg.second);
    from_store_.insert(seq);  // no reply: whoever asked has given up
    ++decided_late_;
  }
  in_.drain([this](std::uint64_t seq, std::string_view subject, std::string_view data) {
    const bool from_store = from_store_.erase(seq) > 0;
    handle(LogEvent{seq, subject, data, from_store});
  });
}

void RiskService::refuse(const natsio::Message& m, const core::Error& err) {
  rt_.dead_letter(m.subject, err, m.data, m.reply, subjects::sender_of(m.subject), in_seq_);
}

core::TimestampNs RiskService::ingress_time() const {
  return market_ts_;
}

void RiskService::on_market(const natsio::Message& m) {
  rt_.count_in();
  auto r = decode_market(dec_, m);
  if (!r && is_instrument_status(dec_, m)) return;
  if (!r) return refuse(m, r.error());
  if (auto why = check_.check(*r)) return rt_.flag(m.subject, *why);
  market_ts_ = std::max(market_ts_, market_ts(*r));
  std::visit(overloaded{[&](const core::Quote& q) { engine_.on_quote(q); },
                        [&](const core::Trade& t) { engine_.on_trade(t); },
                        [&](const core::Bar& b) { engine_.on_bar(b); }},
             *r);
  publish_transitions();  // marks move equity
}

void RiskService::on_execution(const natsio::Message& m) {
  rt_.count_in();
  auto r = dec_.decode_execution_report(m.data);
  if (!r) return refuse(m, r.error());
  engine_.on_execution(*r);
  publish_transitions();
}

void RiskService::publish_transitions() {
  // Crisis mode: automatic state changes on a daily loss or a drawdown, caused by the
  // market data, report or command being handled.
  for (auto& ev : engine_.take_transitions()) {
    ev.cause_seq = cause_;
    rt_.publish(subjects::kRiskState, codec::encode(ev));
  }
}

void RiskService::on_order(const natsio::Message& m) {
  rt_.count_in();
  auto r = dec_.decode_order_command(m.data);
  if (!r) return refuse(m, r.error());
  // Hand-typed orders carry no time: stamp them at ingress (ingress_time). From
  // here on the stamped time is data, recorded with the approved order.
  const auto now = ingress_time();
  std::visit([&](auto& c) {
    if (c.ts_event == 0) c.ts_event = now;
    c.cause_seq = in_seq_;  // the approval names the order it approves
  }, *r);
  auto forward = [&] {
    const auto out = codec::encode(*r);
    rt_.publish(subjects::kTradingOrdersApproved, out);
    rt_.reply(m.reply, out);
  };
  auto answer = [&](core::ExecutionReport er) {
    er.cause_seq = in_seq_;  // the denial names the order it denies
    const auto out = codec::encode(er);
    rt_.publish(subjects::kTradingExecutions, out);
    rt_.reply(m.reply, out);
  };
  // Cancels always pass: a halted desk must still be able to pull orders.
  if (std::holds_alternative<core::OrderCancel>(*r)) return forward();
  if (auto* rep = std::get_if<core::OrderReplace>(&*r)) {
    const auto d = engine_.decide_replace(*rep);
    if (d.approved) return forward();
    if (d.duplicate) return refuse(m, core::Error{"client_order_id", d.reason});
    const auto orig = engine_.order(rep->orig_client_order_id);
    if (!orig) return refuse(m, core::Error{"orig_client_order_id", d.reason});
    return answer(risk::denied_replace_report(*rep, d.reason, rep->ts_event, *orig, d.exec_id));
  }
  const auto& order = std::get<core::OrderSubmit>(*r);
  const auto d = engine_.decide(order);  // records approvals (open orders, rate window, decided ids)
  if (d.approved) return forward();
  // An identical resend is not executed twice; the sender learns why on its reply / ops.dead_letter.
  if (d.duplicate) return refuse(m, core::Error{"client_order_id", d.reason});
  answer(risk::denied_report(order, d, order.ts_event));
}

void RiskService::on_command(const natsio::Message& m) {
  rt_.count_in();
  // A decision records who made it: the identity nats-server stamped on the command
  // (only DESK identities reach risk.management, through a shared service import).
  const std::string sender(subjects::sender_of(m.subject));
  if (sender.empty())
    return refuse(m, core::Error{"", "a command needs a sender the server names: send it on risk.management as "
                                         "an operator (e.g. with the operator credentials file)"});
  auto r = dec_.decode_risk_management(m.data, engine_.policy());
  if (!r) return refuse(m, r.error());
  if (auto* p = std::get_if<core::SetRiskPolicy>(&*r)) {
    if (const auto err = risk::validate(p->policy)) return refuse(m, *err);
    const auto ts = p->ts_event != 0 ? p->ts_event : ingress_time();
    engine_.set_policy(p->policy);
    const core::RiskPolicyChanged ev{.policy = engine_.policy(),
                                     .reason = p->reason.empty() ? std::string("set by command") : p->reason,
                                     .source = "manual",
                                     .ts_event = ts,
                                     .sender = sender,
                                     .cause_seq = in_seq_};
    const auto out = codec::encode(ev);
    rt_.publish(subjects::kRiskState, out);
    rt_.reply(m.reply, out);
    publish_transitions();  // a tighter limit may trip a trigger at the next evaluation
    return;
  }
  const auto& c = std::get<core::SetTradingState>(*r);
  const auto ts = c.ts_event != 0 ? c.ts_event : ingress_time();
  const auto reason = c.reason.empty() ? std::string("set by command") : c.reason;
  auto ev = engine_.set_state(c.trading_state, reason, "manual", ts);
  if (ev) {
    ev->sender = sender;
    ev->cause_seq = in_seq_;
    rt_.publish(subjects::kRiskState, codec::encode(*ev));
  }
  if (!m.reply.empty()) {  // kDeferredReply included
    const core::RiskStateChanged now{.trading_state = engine_.state(),
                                     .previous_state = ev ? ev->previous_state : engine_.state(),
                                     .reason = engine_.state_reason(),
                                     .source = "manual",
                                     .ts_event = ts,
                                     .sender = sender};
    rt_.reply(m.reply, codec::encode(now));
  }
}

// ---------------------------------------------------------------- execution

namespace {
/// out_stage for a worker that reacts to roots and to `consumed` (one stage), at `own`.
std::function<std::optional<int>(int)> reacts(std::vector<int> inputs, int own) {
  return [inputs = std::move(inputs), own](int stage) -> std::optional<int> {
    for (const int i : inputs)
      if (i == stage) return own;
    return std::nullopt;
  };
}
}  // namespace

namespace {

/// The start-up of a worker that follows the log in event-time order (execution,
/// strategy, reporter). The live follower first, from the stream's end, so that the
/// stream keeps what comes meanwhile; then the history, each message fed to `in` (which
/// hands what it releases to `on_event`, guarded: one that throws is quarantined), after
/// `own_output` saw it (the worker's own messages, for its Redecide). The caller then
/// publishes what the rebuild owes and opens `live` at the returned last_seq.
HistoryStats follow_log(Runtime& rt, eventstore::EventStore* store, const std::string& stream, EventTimeInput& in,
                        std::unique_ptr<LogFollower>& live,
                        std::function<void(std::uint64_t, std::string_view, std::string_view, bool)> on_event,
                        const std::function<void(const LogEvent&)>& own_output) {
  natsio::JetStream js(rt.conn());
  const std::uint64_t end = js.last_sequence(stream);
  auto feed = [&rt, &in, on_event = std::move(on_event)](const LogEvent& ev, bool replay) {
    in.on_log(ev, [&](std::uint64_t seq, std::string_view subject, std::string_view data) {
      guarded(rt, LogEvent{seq, subject, data, ev.from_store}, [&] { on_event(seq, subject, data, replay); });
    }, !replay);
  };
  // log_seq counts every stream message (the consumer is unfiltered), also those the
  // worker ignores, so the lock-step barrier can compare it with the stream's last sequence.
  live = std::make_unique<LogFollower>(rt, store, stream, end, [feed](const LogEvent& ev) { feed(ev, false); });
  return read_history(store, rt.conn(), stream, 0, end, [&](const LogEvent& ev) {
    own_output(ev);
    feed(ev, true);
  });
}

}  // namespace

ExecutionService::ExecutionService(Runtime& rt, matching::BrokerConfig cfg, eventstore::EventStore* store,
                                   std::string stream)
    : rt_(rt),
      broker_(std::move(cfg)),
      in_(rt, {{"risk-state", {kStageRisk}, {}}}, reacts({kStageRoot, kStageRisk}, kStageExecution), true) {
  // The history in event-time order, as it was handled the first time (the progress
  // markers in it release it the same way); what it leaves waiting is handled live.
  const auto own_progress = subjects::progress(rt_.worker());
  history_ = follow_log(
      rt_, store, stream, in_, live_, [this](auto seq, auto subject, auto data, bool replay) { on_event(seq, subject, data, replay); },
      [this, &own_progress](const LogEvent& ev) {
        // Its own reports in the log, in stream order: those the rebuild produced were
        // published before; one it has not produced yet will not be published again when it is.
        if (ev.subject == subjects::kTradingExecutions) {
          if (auto r = dec_.decode_execution_report(ev.data)) redecide_.in_log(r->exec_id);
        } else if (ev.subject == own_progress) {
          redecide_.own_marker();
        }
      });
  for (const auto& out : redecide_.finish()) {
    rt_.publish(subjects::kTradingExecutions, out);
    ++republished_;
  }
  in_.publish_progress();
  live_->open(history_.last_seq);
}

void ExecutionService::emit(std::vector<core::ExecutionReport> reports) {
  for (auto& er : reports) {
    er.cause_seq = cause_;  // what it reacts to: the approved command, or the market data it happened on
    if (auto out = redecide_.produced(er.exec_id, [&] { return codec::encode(er); }))
      rt_.publish(subjects::kTradingExecutions, *out);
  }
}

void ExecutionService::on_event(std::uint64_t seq, std::string_view subject, std::string_view data, bool replay) {
  const natsio::Message m{subject, data, {}};
  cause_ = seq;
  if (subject.starts_with(subjects::kMarketDataPrefix)) {
    if (!replay) rt_.count_in();
    auto r = decode_market(dec_, m);
    if (!r) {
      if (auto st = dec_.decode_instrument_status(data); st && subject.substr(subjects::kMarketDataPrefix.size()) == st->symbol) {
        if (st->ts_event == 0) st->ts_event = market_ts_;  // hand-typed: the latest market time
        return emit(broker_.on_status(*st));
      }
      if (!replay) rt_.refuse(m, r.error());  // reported once, live
      return;
    }
    if (auto why = check_.check(*r)) {  // never filled against, nor kept as the book
      if (!replay) rt_.flag(m.subject, *why);
      return;
    }
    market_ts_ = std::max(market_ts_, market_ts(*r));
    emit(std::visit(overloaded{[&](const core::Quote& q) { return broker_.on_quote(q); },
                               [&](const core::Trade& t) { return broker_.on_trade(t); },
                               [&](const core::Bar& b) { return broker_.on_bar(b); }},
                    *r));
  } else if (subject == subjects::kTradingOrdersApproved) {
    if (!replay) rt_.count_in();
    auto r = dec_.decode_order_command(data);
    if (!r) {
      if (!replay) rt_.refuse(m, r.error());
      return;
    }
    emit(std::visit(overloaded{[&](const core::OrderSubmit& o) { return broker_.on_submit(o, o.ts_event); },
                               [&](const core::OrderCancel& c) { return broker_.on_cancel(c, c.ts_event); },
                               [&](const core::OrderReplace& c) { return broker_.on_replace(c, c.ts_event); }},
                    *r));
  }
}

// ---------------------------------------------------------------- strategy

StrategyService::StrategyService(Runtime& rt, strategy::MaCrossConfig cfg, eventstore::EventStore* store,
                                 const std::string& stream)
    : rt_(rt),
      strategy_(cfg),
      own_prefix_(cfg.strategy_id + "-"),
      in_(rt,
          {{"risk-state", {kStageRisk}, [this] { return !live_ids_.empty(); }},
           {"execution", {kStageExecution}, [this] { return !live_ids_.empty(); }}},
          reacts({kStageRoot}, kStageStrategy), true) {
  const auto own_progress = subjects::progress(rt_.worker());
  history_ = follow_log(
      rt_, store, stream, in_, live_, [this](auto seq, auto subject, auto data, bool replay) { on_event(seq, subject, data, replay); },
      [this, &own_progress](const LogEvent& ev) {
        // Its own orders in the log, in stream order (as execution's reports).
        if (ev.subject == subjects::kTradingOrders) {
          const auto env = dec_.peek(ev.data);
          if (env && env->client_order_id && env->client_order_id->starts_with(own_prefix_))
            redecide_.in_log(*env->client_order_id);
        } else if (ev.subject == own_progress) {
          redecide_.own_marker();
        }
      });
  for (const auto& out : redecide_.finish()) {
    rt_.publish(subjects::kTradingOrders, out);
    ++republished_;
  }
  in_.publish_progress();
  live_->open(history_.last_seq);
}

StrategyService::~StrategyService() {
  live_.reset();  // no more deliveries
  in_.leave();
}

void StrategyService::on_event(std::uint64_t seq, std::string_view subject, std::string_view data, bool replay) {
  const natsio::Message m{subject, data, {}};
  if (subject.starts_with(subjects::kMarketDataPrefix)) {
    auto r = take_market(rt_, dec_, check_, m, replay);
    if (!r) return;
    auto order = std::visit(overloaded{[&](const core::Quote& q) { return strategy_.on_quote(q); },
                                       [&](const core::Trade& t) { return strategy_.on_trade(t); },
                                       [&](const core::Bar& b) { return strategy_.on_bar(b); }},
                            *r);
    if (!order) return;
    order->cause_seq = seq;  // ts_event is already that market data's time
    live_ids_.insert(order->client_order_id);
    if (auto out = redecide_.produced(order->client_order_id, [&] { return codec::encode(*order); }))
      rt_.publish(subjects::kTradingOrders, *out);
  } else if (subject == subjects::kTradingExecutions) {
    if (!replay) rt_.count_in();
    auto r = dec_.decode_execution_report(data);
    if (!r) {
      if (!replay) rt_.refuse(m, r.error());
      return;
    }
    strategy_.on_execution(*r);
    if (core::is_terminal(r->order_status)) live_ids_.erase(r->client_order_id);
  }
}

// ---------------------------------------------------------------- reporter

ReporterService::ReporterService(Runtime& rt, core::DurationNs metrics_interval_ns, eventstore::EventStore* store,
                                 const std::string& stream)
    : rt_(rt),
      interval_(metrics_interval_ns),
      in_(rt, {{"risk-state", {kStageRisk}, {}}, {"execution", {kStageExecution}, {}}},
          [](int) { return std::optional<int>{}; }, false) {
  history_ = follow_log(
      rt_, store, stream, in_, live_, [this](auto seq, auto subject, auto data, bool replay) { on_event(seq, subject, data, replay); },
      [this](const LogEvent& ev) {
        // Its own metrics in the log, in stream order (as execution's reports), by cause.
        if (ev.subject != subjects::kPerformanceMetrics) return;
        const auto env = dec_.peek(ev.data);
        std::lock_guard lock(mu_);
        if (env && env->cause_seq != 0) redecide_.in_log(env->cause_seq);
      });
  {
    std::lock_guard lock(mu_);
    for (const auto& out : redecide_.finish()) rt_.publish(subjects::kPerformanceMetrics, out);
  }
  subs_.push_back(sub(rt_, subjects::kOpsReport, [this](const natsio::Message& m) { on_report_request(m); }));
  live_->open(history_.last_seq);
}

ReporterService::~ReporterService() { live_.reset(); }

void ReporterService::maybe_publish_metrics(core::TimestampNs ts, std::uint64_t cause) {
  if (interval_ <= 0) return;
  if (last_metrics_ts_ == 0) last_metrics_ts_ = ts;
  if (ts - last_metrics_ts_ < interval_) return;
  last_metrics_ts_ = ts;
  auto out = redecide_.produced(cause, [&] {
    auto snap = portfolio_.snapshot(false);
    snap.cause_seq = cause;
    return codec::encode(snap);
  });
  if (out) rt_.publish(subjects::kPerformanceMetrics, *out);
}

void ReporterService::on_event(std::uint64_t seq, std::string_view subject, std::string_view data, bool replay) {
  const natsio::Message m{subject, data, {}};
  if (subject.starts_with(subjects::kMarketDataPrefix)) {
    auto r = take_market(rt_, dec_, check_, m, replay);
    if (!r) return;
    std::lock_guard lock(mu_);
    std::visit(overloaded{[&](const core::Quote& q) { portfolio_.on_quote(q); },
                          [&](const core::Trade& t) { portfolio_.on_trade(t); },
                          [&](const core::Bar& b) { portfolio_.on_bar(b); }},
               *r);
    maybe_publish_metrics(market_ts(*r), seq);
  } else if (subject == subjects::kTradingExecutions) {
    if (!replay) rt_.count_in();
    auto r = dec_.decode_execution_report(data);
    if (!r) {
      if (!replay) rt_.refuse(m, r.error());
      return;
    }
    std::lock_guard lock(mu_);
    portfolio_.on_execution(*r);
    maybe_publish_metrics(r->ts_event, seq);
  }
}

core::PerformanceReport ReporterService::publish_final() {
  std::lock_guard lock(mu_);
  auto report = portfolio_.snapshot(true);
  rt_.publish(subjects::kReportsPerformance, codec::encode(report));
  return report;
}

void ReporterService::on_report_request(const natsio::Message& m) {
  rt_.count_in();
  const auto report = publish_final();
  if (!m.reply.empty()) rt_.conn().publish(m.reply, codec::encode(report));
}

// ---------------------------------------------------------------- ops

OpsService::OpsService(Runtime& rt, std::int64_t heartbeat_ms, std::int64_t expire_ms)
    : rt_(rt), heartbeat_ms_(heartbeat_ms), expire_ms_(expire_ms) {
  subs_.push_back(sub(rt_, subjects::kOpsHeartbeatAll, [this](const natsio::Message& m) { on_heartbeat(m); }));
  subs_.push_back(sub(rt_, subjects::kOpsStatus, [this](const natsio::Message& m) { on_status(m); }));
}

void OpsService::on_heartbeat(const natsio::Message& m) {
  rt_.count_in();
  auto r = dec_.decode_heartbeat(m.data);
  if (!r) return rt_.refuse(m, r.error());
  // A heartbeat speaks for the worker its subject names, which the server lets only that
  // worker's identity publish (pkg/auth): one that claims another worker is forged.
  if (m.subject != subjects::ops_heartbeat(r->worker))
    return rt_.refuse(m, core::Error{"worker", fmt::format("a heartbeat on {} may only be of worker {:?}", m.subject,
                                                           m.subject.substr(subjects::kOpsHeartbeatPrefix.size()))});
  std::lock_guard lock(mu_);
  seen_[{r->worker, r->instance}] = Seen{*r, rt_.clock().now()};
}

core::OpsStatus OpsService::status() {
  const auto now = rt_.clock().now();
  core::OpsStatus st{.ts = now};
  std::lock_guard lock(mu_);
  const auto self = rt_.heartbeat();
  const auto overdue_ms = 3 * heartbeat_ms_;
  auto exited = [](const Seen& s) {
    return s.hb.status == core::kStoppedStatus || s.hb.status == core::kFinishedStatus;
  };
  auto alive = [&](const Seen& s) { return (now - s.received) / 1'000'000 <= overdue_ms && !exited(s); };
  // Forget instances gone for longer than expire_ms_ when they stopped on purpose, or
  // when another instance of the same worker is alive (it was restarted). A worker
  // whose every instance died stays listed as down: a missing worker is never
  // forgotten silently.
  std::set<std::string> running;
  for (const auto& [key, seen] : seen_)
    if (alive(seen)) running.insert(key.first);
  for (auto it = seen_.begin(); it != seen_.end();) {
    const auto gone_ms = (now - it->second.received) / 1'000'000;
    const bool replaced = running.contains(it->first.first) && !alive(it->second);
    if (gone_ms > expire_ms_ && (exited(it->second) || replaced)) it = seen_.erase(it);
    else ++it;
  }
  // Ops itself, then every worker heard from; sorted by worker, then instance.
  st.workers.push_back({.worker = self.worker, .instance = self.instance, .status = self.status, .alive = true,
                        .age_ms = 0, .msgs_in = self.msgs_in, .msgs_out = self.msgs_out, .errors = self.errors,
                        .flagged = self.flagged, .quarantined = self.quarantined});
  for (const auto& [key, seen] : seen_) {
    if (key.first == self.worker && key.second == self.instance) continue;
    const auto age_ms = (now - seen.received) / 1'000'000;
    std::string status = seen.hb.status;
    if (!exited(seen) && age_ms > overdue_ms)
      status = fmt::format("down: no heartbeat for {} ms (last status: {})", age_ms, seen.hb.status);
    st.workers.push_back({.worker = seen.hb.worker,
                          .instance = seen.hb.instance,
                          .status = std::move(status),
                          .alive = alive(seen),
                          .age_ms = age_ms,
                          .msgs_in = seen.hb.msgs_in,
                          .msgs_out = seen.hb.msgs_out,
                          .errors = seen.hb.errors,
                          .flagged = seen.hb.flagged,
                          .quarantined = seen.hb.quarantined});
  }
  std::sort(st.workers.begin(), st.workers.end(), [](const auto& a, const auto& b) {
    return std::tie(a.worker, a.instance) < std::tie(b.worker, b.instance);
  });
  // The stack: down if a worker has no instance alive (a one-shot tool that finished
  // aside); else degraded if an alive instance says so; a dead instance whose worker
  // was restarted is listed (until it expires) but does not make the stack down.
  std::map<std::string, bool> worker_up;
  for (const auto& w : st.workers) {
    if (w.status == core::kFinishedStatus) continue;
    worker_up[w.worker] = worker_up[w.worker] || w.alive;
  }
  st.status = "ok";
  for (const auto& [worker, up] : worker_up)
    if (!up) st.status = "down";
  if (st.status == "ok")
    for (const auto& w : st.workers)
      if (w.alive && w.status != "ok") st.status = "degraded";
  return st;
}

void OpsService::on_status(const natsio::Message& m) {
  rt_.count_in();
  if (m.reply.empty()) return;  // a publish without reply subject has nobody to answer
  rt_.conn().publish(m.reply, codec::encode(status()));
}

}  // namespace services
