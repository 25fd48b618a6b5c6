#include "workers/strategy.hpp"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "subjects/subjects.hpp"

namespace services {

// ---------------------------------------------------------------- strategy

namespace {
/// The strategies of `choices`; "external" bound to `link` on NATS, refused elsewhere.
std::vector<strategy::Runner> make_runners(Runtime& rt, const std::vector<strategy::Choice>& choices,
                                           const strategy::Registry& registry, const std::shared_ptr<ExternalLink>& link) {
  const bool nats = dynamic_cast<NatsBus*>(&rt.bus()) != nullptr;
  if (!nats)
    for (const auto& c : choices)
      if (c.name == kExternalStrategyName)
        throw std::invalid_argument(fmt::format(
            "strategy {}: an external strategy needs NATS (the strategy worker, or traderctl backtest without "
            "--in-process)", c.strategy_id));
  const auto reg = nats ? with_external(registry, link) : registry;
  std::vector<strategy::Runner> out;
  for (const auto& c : reg.check(choices)) out.emplace_back(c.strategy_id, reg.create(c));
  return out;
}
}  // namespace

StrategyService::StrategyService(Runtime& rt, const std::vector<strategy::Choice>& choices,
                                 const strategy::Registry& registry, eventstore::EventStore* store,
                                 const std::string& stream)
    : rt_(rt),
      external_(std::make_shared<ExternalLink>(rt)),
      runners_(make_runners(rt, choices, registry, external_)),
      any_external_(std::any_of(choices.begin(), choices.end(),
                                [](const strategy::Choice& c) { return c.name == kExternalStrategyName; })),
      in_(rt,
          {{"risk-state", {kStageRisk}, [this] { return any_open(); }},
           {"execution", {kStageExecution}, [this] { return any_open(); }}},
          reacts({kStageRoot}, kStageStrategy), true) {
  const auto own_progress = subjects::progress(rt_.worker());
  history_ = follow_log(
      rt_, store, stream, in_, live_, [this](auto seq, auto subject, auto data, bool replay) { on_event(seq, subject, data, replay); },
      [this, &own_progress](const LogEvent& ev) {
        // Its own commands in the log, in stream order (as execution's reports).
        if (ev.subject == subjects::kTradingOrders) {
          const auto env = dec_.peek(ev.data);
          if (!env || !env->client_order_id) return;
          const auto& id = *env->client_order_id;
          if (std::any_of(runners_.begin(), runners_.end(), [&](const auto& r) { return r.owns(id); }))
            redecide_.in_log(strategy::command_key(env->type, id, env->cause_seq));
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
  external_->stop();  // a handler waiting for an external strategy's answer gives up
  live_.reset();      // no more deliveries
  in_.leave();
}

std::size_t StrategyService::live_orders() const noexcept {
  std::size_t n = 0;
  for (const auto& r : runners_) n += r.context().orders().size();
  return n;
}

bool StrategyService::any_open() const noexcept {
  return std::any_of(runners_.begin(), runners_.end(), [](const auto& r) { return r.has_open_orders(); });
}

strategy::Runner* StrategyService::route(const core::ExecutionReport& r) {
  for (auto& run : runners_)
    if (!r.strategy_id.empty() && run.strategy_id() == r.strategy_id) return &run;
  for (auto& run : runners_)
    if (run.owns(r.client_order_id) || (r.orig_client_order_id && run.owns(*r.orig_client_order_id))) return &run;
  return nullptr;
}

void StrategyService::on_event(std::uint64_t seq, std::string_view subject, std::string_view data, bool replay) {
  if (stopped_) return;
  try {
    handle(seq, subject, data, replay);
  } catch (const ExternalStopped& e) {
    stopped_ = true;  // the worker is stopping: no event is handled any more
    rt_.log().info(fmt::format("{}; events from stream sequence {} on are left to the next start", e.what(), seq));
  }
}

void StrategyService::handle(std::uint64_t seq, std::string_view subject, std::string_view data, bool replay) {
  if (any_external_ && termination_pending()) external_->stop();  // SIGTERM during the rebuild: end external waits
  const natsio::Message m{subject, data, {}};
  if (subject.starts_with(subjects::kMarketDataPrefix)) {
    if (auto a = corporate_action_of(dec_, m)) {  // a split restates positions and prices
      if (!replay) rt_.count_in();
      for (auto& run : runners_)
        for (const auto& cmd : run.on_action(*a, seq))
          if (auto out = redecide_.produced(strategy::command_key(cmd), [&] { return codec::encode(cmd); }))
            rt_.publish(subjects::kTradingOrders, *out);
      return;
    }
    const auto* md = take_market(rt_, dec_, check_, m, replay);
    if (!md) return;
    for (auto& run : runners_) {
      // ts_event: that market data's time; cause_seq: its stream sequence.
      for (const auto& cmd : run.on_market(*md, seq)) {
        if (auto out = redecide_.produced(strategy::command_key(cmd), [&] { return codec::encode(cmd); }))
          rt_.publish(subjects::kTradingOrders, *out);
      }
    }
  } else if (subject == subjects::kTradingExecutions) {
    auto r = take_report(rt_, dec_, m, replay);
    if (!r) return;
    if (auto* run = route(*r)) run->on_execution(*r);
  }
}

// ---------------------------------------------------------------- settings

std::vector<config::Option> strategy_options() {
  return {{"strategies", "STRATEGY_STRATEGIES", "",
           "strategies to run: 'NAME k=v ...; NAME2 k=v ...' (strategy_id=X sets the id; docs/strategies.md); "
           "empty: ma_cross with the four settings below"},
          {"fast", "STRATEGY_FAST", "20", "ma_cross when `strategies` is empty: fast SMA length (events)"},
          {"slow", "STRATEGY_SLOW", "100", "ma_cross when `strategies` is empty: slow SMA length (events)"},
          {"quantity", "STRATEGY_QUANTITY", "1000", "ma_cross when `strategies` is empty: target position size"},
          {"strategy_id", "STRATEGY_ID", "ma_cross",
           "ma_cross when `strategies` is empty: strategy_id on its orders; prefix of client_order_id"},
          {"stream", "STRATEGY_STREAM", "EVENTS", "JetStream stream of the event log (its state at start)"}};
}

std::vector<strategy::Choice> strategy_choices_from(const config::Settings& s, const strategy::Registry& registry) {
  std::vector<strategy::Choice> choices;
  try {
    if (!s.get("strategies").empty()) {
      choices = strategy::parse_choices(s.get("strategies"));
    } else {
      if (s.get("strategy_id").empty()) throw config::ConfigError("strategy_id: must not be empty");
      choices.push_back(strategy::Choice{.name = "ma_cross",
                                         .strategy_id = s.get("strategy_id"),
                                         .params = {{"fast", s.get("fast")},
                                                    {"slow", s.get("slow")},
                                                    {"quantity", s.get("quantity")}}});
    }
    return registry.check(choices);
  } catch (const std::invalid_argument& e) {
    throw config::ConfigError(fmt::format("{}: {}", s.get("strategies").empty() ? "fast/slow/quantity" : "strategies",
                                          e.what()));
  }
}

}  // namespace services
