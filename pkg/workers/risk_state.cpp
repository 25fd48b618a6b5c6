#include "workers/risk_state.hpp"

#include <algorithm>
#include <utility>
#include <chrono>

#include <fmt/format.h>

#include "strategy/strategy.hpp"
#include "subjects/subjects.hpp"

namespace services {

// ---------------------------------------------------------------- risk-state

RiskService::RiskService(Runtime& rt, risk::RiskPolicy configured, eventstore::EventStore* store,
                         std::string stream, portfolio::Valuation valuation)
    : rt_(rt),
      engine_(configured.defaults, std::move(valuation)),
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
  // Only people's: a strategy's trading.orders goes to the event stream through a
  // natsio::LogPublisher, whose reply subject waits for the stream's confirmation, not
  // for risk-state (docs/scaling.md).
  auto core = [this](const natsio::Message& m) { on_request(m); };
  subs_.push_back(sub(rt_, subjects::kTradingOrdersByAll, core));
  subs_.push_back(sub(rt_, subjects::kRiskManagementByAll, core));
  rt_.bus().flush();
  end_ = rt_.bus().log_end(stream);
  // The live consumer from end + 1 first (LogFollower), then the history up to end.
  live_ = rt_.bus().follow(rt_, store, stream, end_, [this](const LogEvent& ev) { on_log(ev); });
  // The history in event-time order, as the previous instances handled it, held back at
  // their own progress markers: what is released has its recorded decisions pushed
  // before it, so an input released without one was never decided, and is decided
  // there, against the state it had in the uninterrupted run (not the end's).
  engine_.set_replaying(true);
  in_.order().hold_at_own_progress(true);
  history_ = rt_.bus().read_history(store, stream, 0, end_, [this](const LogEvent& ev) {
    guarded(rt_, ev, [&] { note_recorded(ev); });
    in_.on_log(ev, [&](std::uint64_t seq, std::string_view subject, std::string_view data) {
      guarded(rt_, LogEvent{seq, subject, data, true}, [&] { on_released(seq, subject, data); });
    }, false);
  });
  // Every decision the log holds is known now: the rest of the history is released in
  // key order, with the automatic transitions evaluated as it goes (those the log holds
  // are not published again).
  phase_ = Phase::tail;
  in_.order().hold_at_own_progress(false);
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
  in_.drain([this](std::uint64_t seq, std::string_view subject, std::string_view data) {
    guarded(rt_, LogEvent{seq, subject, data, true}, [&] { on_released(seq, subject, data); });
  });
  settle_undecided(std::nullopt);  // the last inputs of the history: nothing after them to wait for
  phase_ = Phase::live;
  publish_transitions();
  in_.publish_progress();
  note_state();
  live_->open(history_.last_seq);
  metrics_ = rt_.add_metrics([this](obs::Exposition& x) {
    const auto state = static_cast<core::TradingState>(trading_state_.load(std::memory_order_relaxed));
    x.family("trader_trading_state", "gauge", "The trading state: 1 for the one in force (active, reducing, halted).");
    for (const auto st : {core::TradingState::active, core::TradingState::reducing, core::TradingState::halted})
      x.sample("trader_trading_state", {{"worker", rt_.worker()}, {"state", core::to_string(st)}},
               std::int64_t{st == state ? 1 : 0});
    x.family("trader_open_orders", "gauge", "Orders risk-state approved that are not final yet (its max_open_orders count).");
    x.sample("trader_open_orders", {{"worker", rt_.worker()}}, open_orders_.load(std::memory_order_relaxed));
  });
}

void RiskService::note_state() noexcept {
  trading_state_.store(static_cast<int>(engine_.state()), std::memory_order_relaxed);
  open_orders_.store(engine_.open_orders(), std::memory_order_relaxed);
}

RiskService::~RiskService() {
  metrics_.reset();
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
    on_released(seq, subject, data);
  }, true);
  note_state();
}

void RiskService::on_released(std::uint64_t seq, std::string_view subject, std::string_view data) {
  if (!undecided_.empty())
    if (const auto k = in_.order().key_of(seq)) settle_undecided(*k);
  if (seq > end_) {
    const bool from_store = from_store_.erase(seq) > 0;
    return handle(LogEvent{seq, subject, data, from_store});
  }
  from_history(seq, subject, data);
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
  // A worker's (a strategy's) trading.orders: nobody waits for an answer.
  if (subjects::sender_of(ev.subject).empty()) return decide();
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

namespace {
/// The key a decision without cause_seq (recorded before causes existed) names its order by.
std::string client_key(std::string_view type, std::string_view client_order_id) {
  const char* kind = type == core::OrderCancel::kType ? "C:" : type == core::OrderReplace::kType ? "R:" : "S:";
  return kind + std::string(client_order_id);
}
std::string client_key(const core::OrderCommand& c) {
  return std::visit([](const auto& x) { return client_key(std::decay_t<decltype(x)>::kType, x.client_order_id); }, c);
}
}  // namespace

void RiskService::note_recorded(const LogEvent& ev) {
  // In stream order, before the event-time order sees it: which inputs the previous
  // instances answered (their decisions and transitions name their cause; a dead letter
  // its input's stream sequence).
  auto note = [&](std::uint64_t cause, std::string key) {
    if (cause != 0) recorded_causes_.insert(cause);
    else if (!key.empty()) recorded_keys_.insert(std::move(key));
  };
  if (ev.subject == subjects::kTradingOrdersApproved) {
    // The envelope says enough (the approval is decoded once, when it is released).
    const auto env = dec_.peek(ev.data);
    if (!env || (env->cause_seq == 0 && !env->client_order_id)) return;
    note(env->cause_seq, env->client_order_id ? client_key(env->type, *env->client_order_id) : std::string());
  } else if (ev.subject == subjects::kTradingExecutions) {
    auto r = dec_.decode_execution_report(ev.data);
    if (!r) return;
    // risk-state's answers: a denial, or a denied replace (cancel_rejected naming the
    // replace; execution's own cancel_rejected names an approved command, never an input).
    if (r->exec_type == core::ExecType::denied) note(r->cause_seq, "S:" + r->client_order_id);
    else if (r->exec_type == core::ExecType::cancel_rejected && r->orig_client_order_id)
      note(r->cause_seq, "R:" + r->client_order_id);
  } else if (ev.subject == subjects::kRiskState) {
    const auto env = dec_.peek(ev.data);
    if (!env) return;
    if (env->cause_seq != 0) {
      recorded_causes_.insert(env->cause_seq);
      return;
    }
    auto r = dec_.decode_risk_event(ev.data);  // no cause: a start-up announcement, or recorded before causes
    if (r && std::visit([](const auto& e) { return e.source == "manual"; }, *r))
      manual_without_cause_ = ev.seq;  // recorded before causes: commands before it were decided
  } else if (ev.subject == subjects::kOpsDeadLetter) {
    // An input risk-state refused or quarantined (an identical resend, a bad policy, ...)
    // was answered then: not decided, nor answered, again.
    auto r = dec_.decode_dead_letter(ev.data);
    if (r && r->worker == rt_.worker() && r->stream_seq != 0) recorded_causes_.insert(r->stream_seq);
  }
}

void RiskService::settle_undecided(std::optional<EventKey> before) {
  // An input no decision follows is decided where the uninterrupted run decided it:
  // once the order moves past its decisions' place, (its root, stage 2).
  while (!undecided_.empty()) {
    const auto it = undecided_.begin();
    if (before && !(Floor{it->first.root, kStageRisk} < Floor{before->root, before->stage})) return;
    const auto [seq, msg] = std::move(it->second);
    undecided_.erase(it);
    ++decided_late_;
    handle(LogEvent{seq, msg.first, msg.second, true});  // nobody waits for the answer any more
  }
}

void RiskService::from_history(std::uint64_t seq, std::string_view subject, std::string_view data) {
  const natsio::Message m{subject, data, {}};
  // Does the log hold its answer (a decision, a transition, a dead letter)?
  const bool answered = recorded_causes_.erase(seq) > 0;
  // After the history's own progress (phase tail or live) a market event or a report may
  // not have been handled before: its transitions are published, unless the log has them.
  auto transitions = [&] {
    if (phase_ == Phase::holding) return;
    cause_ = seq;
    if (answered) (void)engine_.take_transitions();  // restored as recorded
    else publish_transitions();
  };
  if (subject.starts_with(subjects::kMarketDataPrefix)) {
    const auto& r = decode_market(dec_, m);
    if (!r) return;
    if (check_.check(*r)) return;  // flagged when it arrived (counted then)
    market_ts_ = std::max(market_ts_, market_ts(*r));
    std::visit(overloaded{[&](const core::Quote& q) { engine_.on_quote(q); },
                          [&](const core::Trade& t) { engine_.on_trade(t); },
                          [&](const core::Bar& b) { engine_.on_bar(b); }},
               *r);
    transitions();
  } else if (subjects::is_orders(subject) || subjects::is_risk_management(subject)) {
    // An input: decided if the log holds its answer; if not, decided by settle_undecided
    // at its place (or now, once live: nothing of the history is left before it).
    bool decided = answered;
    if (subjects::is_orders(subject)) {
      if (auto r = dec_.decode_order_command(data)) decided = recorded_keys_.erase(client_key(*r)) > 0 || decided;
    } else if (seq < manual_without_cause_) {
      decided = true;
    }
    if (decided) return;
    if (phase_ == Phase::live) {
      ++decided_late_;
      return handle(LogEvent{seq, subject, data, true});
    }
    const auto k = in_.order().key_of(seq).value_or(EventKey{seq, kStageRoot, seq});
    undecided_.emplace(k, std::pair{seq, std::pair{std::string(subject), std::string(data)}});
  } else if (subject == subjects::kTradingOrdersApproved) {
    auto r = dec_.decode_order_command(data);
    if (!r) return;
    std::visit(overloaded{[&](const core::OrderSubmit& o) { engine_.on_approved(o); }, [](const core::OrderCancel&) {},
                          [&](const core::OrderReplace& c) { engine_.on_approved_replace(c); }},
               *r);
  } else if (subject == subjects::kTradingExecutions) {
    auto r = dec_.decode_execution_report(data);
    if (!r) return;
    engine_.on_execution(*r);
    transitions();
  } else if (subject == subjects::kRiskState) {
    auto r = dec_.decode_risk_event(data);
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

void RiskService::refuse(const natsio::Message& m, const core::Error& err) {
  rt_.dead_letter(m.subject, err, m.data, m.reply, subjects::sender_of(m.subject), in_seq_);
}

core::TimestampNs RiskService::ingress_time() const {
  return market_ts_;
}

void RiskService::on_market(const natsio::Message& m) {
  rt_.count_in();
  const auto& r = decode_market(dec_, m);
  if (!r) {
    if (auto a = corporate_action_of(dec_, m)) {
      engine_.on_action(*a);
      return publish_transitions();  // a dividend moves equity
    }
  }
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

// ---------------------------------------------------------------- settings

namespace {
std::optional<core::Decimal> optional_decimal(const config::Settings& s, const std::string& key) {
  if (s.get(key).empty()) return std::nullopt;  // "" = this limit is off
  return s.get_decimal(key);
}

/// drawdown_action: what a max_drawdown breach does, "reducing" or "halted".
core::TradingState drawdown_action(const config::Settings& s) {
  const std::string& v = s.get("drawdown_action");
  if (v == "reducing") return core::TradingState::reducing;
  if (v == "halted") return core::TradingState::halted;
  throw config::ConfigError(fmt::format("drawdown_action: must be \"reducing\" or \"halted\", got \"{}\"", v));
}

}  // namespace

std::vector<config::Option> risk_state_options() {
  return {{"max_order_qty", "RISK_MAX_ORDER_QTY", "1000000", "largest quantity of one order"},
          {"max_order_notional", "RISK_MAX_ORDER_NOTIONAL", "10000000", "largest quantity x price of one order"},
          {"max_position", "RISK_MAX_POSITION", "", "largest |position| per symbol after a fill, working orders on its side included (\"\" = off)"},
          {"max_gross_exposure", "RISK_MAX_GROSS_EXPOSURE", "", "largest sum of worst-case |position| x price, working orders included (\"\" = off)"},
          {"max_open_orders", "RISK_MAX_OPEN_ORDERS", "0", "orders approved and not yet done (0 = off)"},
          {"price_band_bps", "RISK_PRICE_BAND_BPS", "", "fat-finger band around the mid, basis points (\"\" = off)"},
          {"max_orders_per_window", "RISK_MAX_ORDERS_PER_WINDOW", "0", "orders per strategy per window (0 = off)"},
          {"rate_window_ms", "RISK_RATE_WINDOW_MS", "1000", "the order-rate window, event time"},
          {"daily_loss_limit", "RISK_DAILY_LOSS_LIMIT", "", "loss in a UTC day that halts trading (\"\" = off)"},
          {"max_drawdown", "RISK_MAX_DRAWDOWN", "", "drawdown from peak equity that trips drawdown_action (\"\" = off)"},
          {"drawdown_action", "RISK_DRAWDOWN_ACTION", "reducing", "what a max_drawdown breach does: reducing or halted"},
          {"per_strategy", "RISK_PER_STRATEGY", "",
           "each strategy's own limits: \"mm max_position=10000 max_order_qty=5000; ma_cross max_order_notional=100000\" "
           "(keys max_order_qty, max_order_notional, max_position; \"\" = none)"},
          {"stream", "RISK_STREAM", "EVENTS", "JetStream stream of the event log (history at start)"}};
}

risk::RiskPolicy risk_policy_from(const config::Settings& s) {
  risk::RiskPolicy p;
  auto& lim = p.defaults;
  lim.max_order_qty = s.get_decimal("max_order_qty");
  lim.max_order_notional = s.get_decimal("max_order_notional");
  lim.max_position = optional_decimal(s, "max_position");
  lim.max_gross_exposure = optional_decimal(s, "max_gross_exposure");
  lim.max_open_orders = s.get_int("max_open_orders");
  lim.price_band_bps = optional_decimal(s, "price_band_bps");
  lim.max_orders_per_window = s.get_int("max_orders_per_window");
  lim.rate_window_ns = s.get_int("rate_window_ms") * 1'000'000;
  lim.daily_loss_limit = optional_decimal(s, "daily_loss_limit");
  lim.max_drawdown = optional_decimal(s, "max_drawdown");
  lim.drawdown_action = drawdown_action(s);
  try {  // "ID k=v ...; ID2 ...", as the strategy worker's `strategies` reads
    for (const auto& c : strategy::parse_choices(s.get("per_strategy"))) {
      if (!subjects::is_valid_symbol(c.name) || p.per_strategy.contains(c.name))
        throw std::invalid_argument(fmt::format("strategy_id {:?}: one token (A-Z a-z 0-9 _ -), named once", c.name));
      core::StrategyLimits& l = p.per_strategy[c.name];
      if (c.strategy_id != c.name) throw std::invalid_argument("strategy_id= is not a limit: name the strategy first");
      for (const auto& [k, v] : c.params.values()) {
        const auto d = core::Decimal::parse(v);
        if (!d) throw std::invalid_argument(fmt::format("{}.{}: not a decimal: {:?}", c.name, k, v));
        if (k == "max_order_qty") l.max_order_qty = d;
        else if (k == "max_order_notional") l.max_order_notional = d;
        else if (k == "max_position") l.max_position = d;
        else throw std::invalid_argument(fmt::format("{}.{}: not a per-strategy limit (max_order_qty, "
                                                     "max_order_notional, max_position)", c.name, k));
      }
    }
  } catch (const std::invalid_argument& e) {
    throw config::ConfigError(fmt::format("per_strategy: {}", e.what()));
  }
  if (const auto err = risk::validate(p)) throw config::ConfigError(err->to_string());
  return p;
}


}  // namespace services
