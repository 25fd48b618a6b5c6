#include "services/services.hpp"

#include <algorithm>
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
void guarded(Runtime& rt, const natsio::Message& m, F&& f) noexcept {
  try {
    f();
  } catch (const std::exception& e) {
    rt.quarantine(m.subject, e.what(), m.data, m.reply);
  } catch (...) {
    rt.quarantine(m.subject, "unknown exception", m.data, m.reply);
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

// ---------------------------------------------------------------- risk-state

RiskService::RiskService(Runtime& rt, risk::RiskPolicy configured, eventstore::EventStore* store,
                         std::string stream)
    : rt_(rt), engine_(configured.defaults) {
  engine_.set_policy(configured);
  auto on = [this](HandlerFn fn) { return [this, fn](const natsio::Message& m) { deliver(m, fn); }; };
  subs_.push_back(sub(rt_, subjects::kMarketDataAll, on(&RiskService::on_market)));
  subs_.push_back(sub(rt_, subjects::kTradingExecutions, on(&RiskService::on_execution)));
  subs_.push_back(sub(rt_, subjects::kRiskManagement, on(&RiskService::on_command)));
  subs_.push_back(sub(rt_, subjects::kTradingOrders, on(&RiskService::on_order)));
  rt_.conn().flush();  // subscribed at the server: from here on nothing is missed, only buffered
  natsio::JetStream js(rt_.conn());
  // Everything stored in the stream up to here was published before our
  // subscriptions existed or while they did: read it as history. Events after
  // overlap_after_ may also sit in the buffer; they are matched and dropped there.
  overlap_after_ = js.last_sequence(stream);
  engine_.set_replaying(true);
  history_ = read_history(store, rt_.conn(), stream, 0, overlap_after_,
                          [this](const LogEvent& ev) { guarded(rt_, ev, [&] { replay(ev); }); });
  // A message published just before we subscribed may have been stored after
  // that read: read on to the stream's end now (raw bytes, for the overlap match).
  const auto tail = read_history(nullptr, rt_.conn(), stream, history_.last_seq, js.last_sequence(stream),
                                 [this](const LogEvent& ev) { guarded(rt_, ev, [&] { replay(ev); }); });
  history_.from_stream += tail.from_stream;
  history_.last_seq = tail.last_seq;
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
  drain_buffer();
}

void RiskService::deliver(const natsio::Message& m, HandlerFn fn) {
  std::lock_guard lock(mu_);
  if (!live_) {
    buffer_.push_back({std::string(m.subject), std::string(m.data), std::string(m.reply)});
    return;
  }
  (this->*fn)(m);
}

void RiskService::pending_add(std::string key, std::uint64_t seq, std::string_view data) {
  pending_.emplace(seq, std::string(data));
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
  if (ev.seq > overlap_after_ && !ev.from_store)
    ++overlap_[fmt::format("{}\n{}", ev.subject, ev.data)];
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
  } else if (ev.subject == subjects::kTradingOrders) {
    // An input: undecided until its decision shows up later in the log.
    auto r = dec_.decode_order_command(ev.data);
    if (!r) return;  // answered with a dead letter when it arrived
    std::visit(overloaded{[&](const core::OrderSubmit& o) { pending_add("S:" + o.client_order_id, ev.seq, ev.data); },
                          [&](const core::OrderCancel& c) { pending_add("C:" + c.client_order_id, ev.seq, ev.data); },
                          [&](const core::OrderReplace& c) { pending_add("R:" + c.client_order_id, ev.seq, ev.data); }},
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
                            // A start-up announcement repeats the state in force; restoring
                            // it would only rewrite the reason (and nest it at every restart).
                            if (c.source == "startup" && c.trading_state == engine_.state()) return;
                            engine_.restore(c);
                          },
                          [&](const core::RiskPolicyChanged& p) {
                            if (!risk::validate(p.policy)) engine_.set_policy(p.policy);
                            if (p.source == "startup") last_startup_policy_ = p;
                          }},
               *r);
  } else if (ev.subject == subjects::kRiskManagement) {
    // A command's effect is recorded as a risk.state / risk.policy event, which
    // restores it; applying the command too covers one sent while we were down.
    auto r = dec_.decode_risk_management(ev.data, engine_.policy());
    if (!r) return;
    const auto ts = ingress_time();
    std::visit(overloaded{[&](const core::SetTradingState& c) {
                            (void)engine_.set_state(c.trading_state,
                                                    c.reason.empty() ? std::string("set by command") : c.reason,
                                                    "manual", c.ts_event != 0 ? c.ts_event : ts);
                          },
                          [&](const core::SetRiskPolicy& c) {
                            if (!risk::validate(c.policy)) engine_.set_policy(c.policy);
                          }},
               *r);
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
  // In log order; nobody waits for a reply any more.
  const auto pending = std::move(pending_);
  pending_.clear();
  pending_by_key_.clear();
  for (const auto& [seq, data] : pending) {
    const natsio::Message m{subjects::kTradingOrders, data, {}};
    guarded(rt_, m, [&] { on_order(m); });
    ++decided_late_;
  }
}

void RiskService::drain_buffer() {
  std::lock_guard lock(mu_);
  // Messages buffered during the rebuild, in arrival order, minus those the history held.
  static const std::map<std::string_view, HandlerFn> kHandlers{
      {subjects::kTradingOrders, &RiskService::on_order},
      {subjects::kTradingExecutions, &RiskService::on_execution},
      {subjects::kRiskManagement, &RiskService::on_command}};
  for (const auto& b : buffer_) {
    const auto key = fmt::format("{}\n{}", b.subject, b.data);
    if (const auto it = overlap_.find(key); it != overlap_.end()) {
      if (--it->second == 0) overlap_.erase(it);
      continue;
    }
    const natsio::Message m{b.subject, b.data, b.reply};
    const auto h = kHandlers.find(b.subject);
    guarded(rt_, m, [&] { (this->*(h != kHandlers.end() ? h->second : &RiskService::on_market))(m); });
  }
  buffer_.clear();
  buffer_.shrink_to_fit();
  overlap_.clear();
  live_ = true;
}

core::TimestampNs RiskService::ingress_time() const {
  return market_ts_;
}

void RiskService::on_market(const natsio::Message& m) {
  rt_.count_in();
  auto r = decode_market(dec_, m);
  if (!r && is_instrument_status(dec_, m)) return;
  if (!r) return rt_.dead_letter(m.subject, r.error(), m.data);
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
  if (!r) return rt_.dead_letter(m.subject, r.error(), m.data);
  engine_.on_execution(*r);
  publish_transitions();
}

void RiskService::publish_transitions() {
  // Crisis mode: automatic state changes on a daily loss or a drawdown.
  for (const auto& ev : engine_.take_transitions()) rt_.publish(subjects::kRiskState, codec::encode(ev));
}

void RiskService::on_order(const natsio::Message& m) {
  rt_.count_in();
  auto r = dec_.decode_order_command(m.data);
  if (!r) return rt_.dead_letter(m.subject, r.error(), m.data, m.reply);
  // Hand-typed orders carry no time: stamp them at ingress (ingress_time). From
  // here on the stamped time is data, recorded with the approved order.
  const auto now = ingress_time();
  std::visit([&](auto& c) { if (c.ts_event == 0) c.ts_event = now; }, *r);
  auto forward = [&] {
    const auto out = codec::encode(*r);
    rt_.publish(subjects::kTradingOrdersApproved, out);
    if (!m.reply.empty()) rt_.conn().publish(m.reply, out);
  };
  auto answer = [&](const core::ExecutionReport& er) {
    const auto out = codec::encode(er);
    rt_.publish(subjects::kTradingExecutions, out);
    if (!m.reply.empty()) rt_.conn().publish(m.reply, out);
  };
  // Cancels always pass: a halted desk must still be able to pull orders.
  if (std::holds_alternative<core::OrderCancel>(*r)) return forward();
  if (auto* rep = std::get_if<core::OrderReplace>(&*r)) {
    const auto d = engine_.decide_replace(*rep);
    if (d.approved) return forward();
    if (d.duplicate) return rt_.dead_letter(m.subject, core::Error{"client_order_id", d.reason}, m.data, m.reply);
    const auto orig = engine_.order(rep->orig_client_order_id);
    if (!orig) return rt_.dead_letter(m.subject, core::Error{"orig_client_order_id", d.reason}, m.data, m.reply);
    return answer(risk::denied_replace_report(*rep, d.reason, rep->ts_event, *orig, d.exec_id));
  }
  const auto& order = std::get<core::OrderSubmit>(*r);
  const auto d = engine_.decide(order);  // records approvals (open orders, rate window, decided ids)
  if (d.approved) return forward();
  // An identical resend is not executed twice; the sender learns why on its reply / ops.dead_letter.
  if (d.duplicate) return rt_.dead_letter(m.subject, core::Error{"client_order_id", d.reason}, m.data, m.reply);
  answer(risk::denied_report(order, d, order.ts_event));
}

void RiskService::on_command(const natsio::Message& m) {
  rt_.count_in();
  auto r = dec_.decode_risk_management(m.data, engine_.policy());
  if (!r) return rt_.dead_letter(m.subject, r.error(), m.data, m.reply);
  if (auto* p = std::get_if<core::SetRiskPolicy>(&*r)) {
    if (const auto err = risk::validate(p->policy)) return rt_.dead_letter(m.subject, *err, m.data, m.reply);
    const auto ts = p->ts_event != 0 ? p->ts_event : ingress_time();
    engine_.set_policy(p->policy);
    const core::RiskPolicyChanged ev{.policy = engine_.policy(),
                                     .reason = p->reason.empty() ? std::string("set by command") : p->reason,
                                     .source = "manual",
                                     .ts_event = ts};
    const auto out = codec::encode(ev);
    rt_.publish(subjects::kRiskState, out);
    if (!m.reply.empty()) rt_.conn().publish(m.reply, out);
    publish_transitions();  // a tighter limit may trip a trigger at the next evaluation
    return;
  }
  const auto& c = std::get<core::SetTradingState>(*r);
  const auto ts = c.ts_event != 0 ? c.ts_event : ingress_time();
  const auto reason = c.reason.empty() ? std::string("set by command") : c.reason;
  const auto ev = engine_.set_state(c.trading_state, reason, "manual", ts);
  if (ev) rt_.publish(subjects::kRiskState, codec::encode(*ev));
  if (!m.reply.empty()) {
    const core::RiskStateChanged now{.trading_state = engine_.state(),
                                     .previous_state = ev ? ev->previous_state : engine_.state(),
                                     .reason = engine_.state_reason(),
                                     .source = "manual",
                                     .ts_event = ts};
    rt_.conn().publish(m.reply, codec::encode(now));
  }
}

// ---------------------------------------------------------------- execution

ExecutionService::ExecutionService(Runtime& rt, matching::BrokerConfig cfg, eventstore::EventStore* store,
                                   std::string stream)
    : rt_(rt), broker_(std::move(cfg)) {
  natsio::JetStream js(rt_.conn());
  const std::uint64_t end = js.last_sequence(stream);
  history_ = read_history(store, rt_.conn(), stream, 0, end, [this](const LogEvent& ev) {
    guarded(rt_, ev, [&] { on_event(ev.seq, ev.subject, ev.data, true); });
  });
  replaying_ = false;
  for (const auto& id : pending_order_) {
    const auto it = pending_.find(id);
    if (it == pending_.end()) continue;
    rt_.publish(subjects::kTradingExecutions, it->second);
    ++republished_;
  }
  pending_.clear();
  pending_order_.clear();
  rt_.set_log_seq(history_.last_seq);
  // log_seq counts every stream message (the consumer is unfiltered), also those
  // execution ignores, so the lock-step barrier can compare it with the stream's
  // last sequence. Set before handling: a pong runs on this same delivery thread,
  // so it never sees the new value before the message was handled.
  live_ = std::make_unique<natsio::OrderedSubscription>(
      rt_.conn(), stream, history_.last_seq + 1, [this](const natsio::StreamMessage& m) {
        rt_.set_log_seq(m.seq);
        guarded(rt_, LogEvent{m.seq, m.subject, m.data, false}, [&] { on_event(m.seq, m.subject, m.data, false); });
      });
}

void ExecutionService::emit(const std::vector<core::ExecutionReport>& reports) {
  for (const auto& er : reports) {
    auto out = codec::encode(er);
    if (!replaying_) {
      rt_.publish(subjects::kTradingExecutions, out);
      continue;
    }
    pending_order_.push_back(er.exec_id);
    pending_.emplace(er.exec_id, std::move(out));
  }
}

void ExecutionService::on_event(std::uint64_t, std::string_view subject, std::string_view data, bool replay) {
  const natsio::Message m{subject, data, {}};
  if (subject.starts_with(subjects::kMarketDataPrefix)) {
    if (!replay) rt_.count_in();
    auto r = decode_market(dec_, m);
    if (!r) {
      if (auto st = dec_.decode_instrument_status(data); st && subject.substr(subjects::kMarketDataPrefix.size()) == st->symbol) {
        if (st->ts_event == 0) st->ts_event = market_ts_;  // hand-typed: the latest market time
        return emit(broker_.on_status(*st));
      }
      if (!replay) rt_.dead_letter(m.subject, r.error(), m.data);  // reported once, live
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
      if (!replay) rt_.dead_letter(m.subject, r.error(), m.data);
      return;
    }
    emit(std::visit(overloaded{[&](const core::OrderSubmit& o) { return broker_.on_submit(o, o.ts_event); },
                               [&](const core::OrderCancel& c) { return broker_.on_cancel(c, c.ts_event); },
                               [&](const core::OrderReplace& c) { return broker_.on_replace(c, c.ts_event); }},
                    *r));
  } else if (replaying_ && subject == subjects::kTradingExecutions) {
    // A report in the log: if the replay produced it, it was published before.
    auto r = dec_.decode_execution_report(data);
    if (r && pending_.erase(r->exec_id) > 0 && pending_.empty()) pending_order_.clear();
  }
}

// ---------------------------------------------------------------- strategy

StrategyService::StrategyService(Runtime& rt, strategy::MaCrossConfig cfg) : rt_(rt), strategy_(std::move(cfg)) {
  subs_.push_back(sub(rt_, subjects::kTradingExecutions, [this](const natsio::Message& m) { on_execution(m); }));
  subs_.push_back(sub(rt_, subjects::kMarketDataAll, [this](const natsio::Message& m) { on_market(m); }));
}

void StrategyService::on_market(const natsio::Message& m) {
  rt_.count_in();
  auto r = decode_market(dec_, m);
  if (!r && is_instrument_status(dec_, m)) return;
  if (!r) return rt_.dead_letter(m.subject, r.error(), m.data);
  if (auto why = check_.check(*r)) return rt_.flag(m.subject, *why);
  const auto order = std::visit(overloaded{[&](const core::Quote& q) { return strategy_.on_quote(q); },
                                           [&](const core::Trade& t) { return strategy_.on_trade(t); },
                                           [&](const core::Bar& b) { return strategy_.on_bar(b); }},
                                *r);
  if (order) rt_.publish(subjects::kTradingOrders, codec::encode(*order));
}

void StrategyService::on_execution(const natsio::Message& m) {
  rt_.count_in();
  auto r = dec_.decode_execution_report(m.data);
  if (!r) return rt_.dead_letter(m.subject, r.error(), m.data);
  strategy_.on_execution(*r);
}

// ---------------------------------------------------------------- reporter

ReporterService::ReporterService(Runtime& rt, core::DurationNs metrics_interval_ns)
    : rt_(rt), interval_(metrics_interval_ns) {
  subs_.push_back(sub(rt_, subjects::kMarketDataAll, [this](const natsio::Message& m) { on_market(m); }));
  subs_.push_back(sub(rt_, subjects::kTradingExecutions, [this](const natsio::Message& m) { on_execution(m); }));
  subs_.push_back(sub(rt_, subjects::kOpsReport, [this](const natsio::Message& m) { on_report_request(m); }));
}

void ReporterService::maybe_publish_metrics(core::TimestampNs ts) {
  if (interval_ <= 0) return;
  if (last_metrics_ts_ == 0) last_metrics_ts_ = ts;
  if (ts - last_metrics_ts_ < interval_) return;
  last_metrics_ts_ = ts;
  rt_.publish(subjects::kPerformanceMetrics, codec::encode(portfolio_.snapshot(false)));
}

void ReporterService::on_market(const natsio::Message& m) {
  rt_.count_in();
  auto r = decode_market(dec_, m);
  if (!r && is_instrument_status(dec_, m)) return;
  if (!r) return rt_.dead_letter(m.subject, r.error(), m.data);
  if (auto why = check_.check(*r)) return rt_.flag(m.subject, *why);
  std::lock_guard lock(mu_);
  std::visit(overloaded{[&](const core::Quote& q) { portfolio_.on_quote(q); },
                        [&](const core::Trade& t) { portfolio_.on_trade(t); },
                        [&](const core::Bar& b) { portfolio_.on_bar(b); }},
             *r);
  maybe_publish_metrics(market_ts(*r));
}

void ReporterService::on_execution(const natsio::Message& m) {
  rt_.count_in();
  auto r = dec_.decode_execution_report(m.data);
  if (!r) return rt_.dead_letter(m.subject, r.error(), m.data);
  std::lock_guard lock(mu_);
  portfolio_.on_execution(*r);
  maybe_publish_metrics(r->ts_event);
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

OpsService::OpsService(Runtime& rt, std::int64_t heartbeat_ms) : rt_(rt), heartbeat_ms_(heartbeat_ms) {
  subs_.push_back(sub(rt_, subjects::kOpsHeartbeatAll, [this](const natsio::Message& m) { on_heartbeat(m); }));
  subs_.push_back(sub(rt_, subjects::kOpsStatus, [this](const natsio::Message& m) { on_status(m); }));
}

void OpsService::on_heartbeat(const natsio::Message& m) {
  rt_.count_in();
  auto r = dec_.decode_heartbeat(m.data);
  if (!r) return rt_.dead_letter(m.subject, r.error(), m.data);
  std::lock_guard lock(mu_);
  seen_[{r->worker, r->instance}] = Seen{*r, rt_.clock().now()};
}

core::OpsStatus OpsService::status() const {
  const auto now = rt_.clock().now();
  core::OpsStatus st{.ts = now};
  std::lock_guard lock(mu_);
  // Ops itself, then every worker heard from; sorted by worker, then instance.
  const auto self = rt_.heartbeat();
  st.workers.push_back({.worker = self.worker, .instance = self.instance, .status = self.status, .alive = true,
                        .age_ms = 0, .msgs_in = self.msgs_in, .msgs_out = self.msgs_out, .errors = self.errors,
                        .flagged = self.flagged, .quarantined = self.quarantined});
  for (const auto& [key, seen] : seen_) {
    if (key.first == self.worker && key.second == self.instance) continue;
    const auto age_ms = (now - seen.received) / 1'000'000;
    st.workers.push_back({.worker = seen.hb.worker,
                          .instance = seen.hb.instance,
                          .status = seen.hb.status,
                          .alive = age_ms <= 3 * heartbeat_ms_,
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
  return st;
}

void OpsService::on_status(const natsio::Message& m) {
  rt_.count_in();
  if (m.reply.empty()) return;  // a publish without reply subject has nobody to answer
  rt_.conn().publish(m.reply, codec::encode(status()));
}

}  // namespace services
