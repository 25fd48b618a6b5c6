#include "tooling/replay.hpp"

#include "strategy/strategy.hpp"
#include "tooling/input_sets.hpp"

#include <charconv>
#include <chrono>
#include <map>
#include <set>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>

#include "codec/codec.hpp"
#include "subjects/subjects.hpp"

namespace services {
namespace {

using SteadyClock = std::chrono::steady_clock;

double seconds_since(SteadyClock::time_point t0) {
  return std::chrono::duration<double>(SteadyClock::now() - t0).count();
}

bool is_input_subject(std::string_view subject) {
  return subject.starts_with(subjects::kMarketDataPrefix) || subjects::is_risk_management(subject) ||
         subjects::is_orders(subject);
}

}  // namespace

ReplayPlan load_replay_plan(eventstore::EventStore& store, const std::string& session_id, const ReplayFilter& filter) {
  ReplayPlan plan{.session_id = session_id};
  const std::set<std::string> symbols(filter.symbols.begin(), filter.symbols.end());
  std::set<std::string> strategy_prefixes;
  std::map<std::string, std::string> order_symbol;  // client_order_id -> symbol, from the session's orders
  codec::Decoder dec;
  core::TimestampNs market_ts = 0;
  for_each_session_event(store, session_id, [&](eventstore::StoredEvent& e) {  // its inputs included
    ++plan.session_events;
    if (plan.input_set.empty() && e.type == core::SessionStarted::kType) plan.input_set = input_set_of(e.payload);
    if (e.ts_event && *e.ts_event > 0 && e.subject.starts_with(subjects::kMarketDataPrefix)) market_ts = *e.ts_event;
    if (e.subject == std::string(subjects::kSessionWorkersPrefix) + "strategy") {
      if (auto w = dec.decode_worker_started(e.payload)) {
        // Its strategies: the `strategies` setting when given (workers/strategy.hpp), else
        // the single ma_cross's strategy_id.
        std::string single, several;
        for (const auto& [k, v] : w->config) {
          if (k == "strategy_id") single = v;
          if (k == "strategies") several = v;
        }
        std::vector<std::string> ids;
        if (!several.empty()) {
          try {
            for (const auto& c : strategy::parse_choices(several)) ids.push_back(c.strategy_id);
          } catch (const std::invalid_argument&) {
            // a worker that started with it parsed it; an unreadable one names no strategy
          }
        } else if (!single.empty()) {
          ids.push_back(single);
        }
        for (const auto& id : ids) strategy_prefixes.insert(id + "-");
        if (!ids.empty()) plan.strategy_id = fmt::format("{}", fmt::join(ids, ","));
      }
      return;
    }
    if (!is_input_subject(e.subject)) return;
    std::string symbol;
    if (e.subject.starts_with(subjects::kMarketDataPrefix)) {
      symbol = e.subject.substr(subjects::kMarketDataPrefix.size());
    } else if (subjects::is_orders(e.subject)) {
      const std::string coid = e.client_order_id.value_or("");
      bool own = false;  // the strategy's own orders come from inside TRADING, on trading.orders itself
      if (e.subject == subjects::kTradingOrders)
        for (const auto& p : strategy_prefixes) own = own || coid.starts_with(p);
      if (own) {
        ++plan.strategy_orders;
        return;
      }
      if (!symbols.empty()) {
        if (auto cmd = dec.decode_order_command(e.payload)) {
          if (auto* s = std::get_if<core::OrderSubmit>(&*cmd)) order_symbol[s->client_order_id] = s->symbol;
          else if (auto* r = std::get_if<core::OrderReplace>(&*cmd))
            order_symbol[r->client_order_id] = order_symbol[r->orig_client_order_id];
          const auto it = order_symbol.find(coid);
          if (it != order_symbol.end()) symbol = it->second;
        }
      }
    }
    const core::TimestampNs ts = e.ts_event && *e.ts_event > 0 ? *e.ts_event : market_ts;
    bool keep = symbols.empty() || subjects::is_risk_management(e.subject) || symbols.contains(symbol);
    if (keep && !filter.subjects.empty()) {
      bool any = false;
      for (const auto& p : filter.subjects) any = any || subjects::matches(p, e.subject);
      keep = any;
    }
    if (keep && filter.from) keep = ts != 0 && ts >= *filter.from;
    if (keep && filter.to) keep = ts < *filter.to;
    if (!keep) {
      ++plan.filtered_out;
      return;
    }
    plan.inputs.push_back({.subject = std::move(e.subject), .payload = std::move(e.payload), .market_ts = ts,
                           .position = e.position});
  });
  if (plan.session_events == 0) throw std::runtime_error("unknown session " + session_id + ": no event of it in the store");
  return plan;
}

bool is_desk_input(std::string_view subject) noexcept {
  return subjects::is_orders(subject) || subjects::is_risk_management(subject);
}

ReplaySummary publish_inputs(natsio::Connection& conn, const std::vector<ReplayInput>& inputs,
                             const ReplayOptions& opt, natsio::Connection* desk) {
  ReplaySummary sum;
  const auto t0 = SteadyClock::now();
  auto next_progress = t0 + std::chrono::milliseconds(opt.progress_ms);
  core::TimestampNs first_ts = 0;  // market time paced from
  const auto total = static_cast<std::int64_t>(inputs.size());
  for (const auto& in : inputs) {
    if (opt.stop && opt.stop->load(std::memory_order_relaxed)) {
      sum.interrupted = true;
      break;
    }
    if (opt.speed > 0 && in.market_ts > 0) {
      if (first_ts == 0) first_ts = in.market_ts;
      const auto due = t0 + std::chrono::nanoseconds(static_cast<std::int64_t>(
                                static_cast<double>(in.market_ts - first_ts) / opt.speed));
      // Sleep in slices so that progress and Ctrl-C stay responsive during long gaps.
      while (SteadyClock::now() < due && !(opt.stop && opt.stop->load(std::memory_order_relaxed))) {
        std::this_thread::sleep_until(std::min(due, SteadyClock::now() + std::chrono::milliseconds(100)));
        if (opt.on_progress && SteadyClock::now() >= next_progress) {
          opt.on_progress({sum.published, total, seconds_since(t0), sum.last_market_ts});
          next_progress = SteadyClock::now() + std::chrono::milliseconds(opt.progress_ms);
        }
      }
    }
    const bool by_desk = desk != nullptr && is_desk_input(in.subject);
    natsio::Connection& via = by_desk ? *desk : conn;
    // Everything sent on `conn` before it has been handled by the server first.
    if (by_desk) conn.flush(30'000);
    // A person's input is sent as a person sends it: on the base subject (the server
    // adds ".by.<user>"; in the sandbox the user is desk-replay).
    if (!via.publish(by_desk ? subjects::base_of(in.subject) : std::string_view(in.subject), in.payload))
      throw natsio::NatsError(fmt::format("publishing input #{} ({} at position {}): {}", sum.published + 1, in.subject,
                                          in.position, via.last_error()));
    // The server has handled it before anything later is sent on `conn`: the order of
    // the inputs holds across the two connections (and the lock-step barrier's pings,
    // sent on `conn`, come after it).
    if (&via != &conn) via.flush(30'000);
    ++sum.published;
    if (in.market_ts > 0) {
      if (sum.first_market_ts == 0) sum.first_market_ts = in.market_ts;
      sum.last_market_ts = in.market_ts;
    }
    if (opt.after_each) opt.after_each(in);
    if (opt.on_progress && (sum.published & 1023) == 0 && SteadyClock::now() >= next_progress) {
      opt.on_progress({sum.published, total, seconds_since(t0), sum.last_market_ts});
      next_progress = SteadyClock::now() + std::chrono::milliseconds(opt.progress_ms);
    }
  }
  conn.flush(30'000);
  sum.publish_seconds = seconds_since(t0);
  return sum;
}

ReplaySummary replay_session(natsio::Connection& conn, eventstore::EventStore& store, const std::string& session_id,
                             const ReplayFilter& filter, const ReplayOptions& opt, ReplayPlan* plan_out,
                             natsio::Connection* desk) {
  const auto t0 = SteadyClock::now();
  auto plan = load_replay_plan(store, session_id, filter);
  const double load = seconds_since(t0);
  auto sum = publish_inputs(conn, plan.inputs, opt, desk);
  sum.load_seconds = load;
  if (plan_out) *plan_out = std::move(plan);
  return sum;
}

std::optional<core::TimestampNs> parse_time_arg(std::string_view t) {
  if (t.empty()) return std::nullopt;
  core::TimestampNs ns = 0;
  if (auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), ns); ec == std::errc{} && p == t.data() + t.size())
    return ns;
  auto num = [&](std::size_t at, std::size_t len, int& out) {
    if (t.size() < at + len) return false;
    auto [p, ec] = std::from_chars(t.data() + at, t.data() + at + len, out);
    return ec == std::errc{} && p == t.data() + at + len;
  };
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  if (!num(0, 4, y) || t.size() < 10 || t[4] != '-' || !num(5, 2, mo) || t[7] != '-' || !num(8, 2, d)) return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 || d > 31) return std::nullopt;
  std::size_t at = 10;
  if (t.size() > at) {
    if (t[at] != 'T' && t[at] != ' ') return std::nullopt;
    if (!num(at + 1, 2, h) || t.size() < at + 9 || t[at + 3] != ':' || !num(at + 4, 2, mi) || t[at + 6] != ':' ||
        !num(at + 7, 2, s) || h > 23 || mi > 59 || s > 60)
      return std::nullopt;
    at += 9;
  }
  std::int64_t frac = 0;
  if (at < t.size() && t[at] == '.') {
    std::int64_t scale = 100'000'000;
    ++at;
    const auto start = at;
    for (; at < t.size() && t[at] >= '0' && t[at] <= '9'; ++at) {
      frac += (t[at] - '0') * scale;
      scale /= 10;
    }
    if (at == start) return std::nullopt;
  }
  if (at < t.size() && t[at] == 'Z') ++at;
  if (at != t.size()) return std::nullopt;
  return core::days_from_civil_ns(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) +
         (std::int64_t{h} * 3600 + mi * 60 + s) * 1'000'000'000 + frac;
}

}  // namespace services
