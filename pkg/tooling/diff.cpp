#include "tooling/diff.hpp"
#include "tooling/input_sets.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <regex>
#include <stdexcept>
#include <tuple>

#include <fmt/format.h>

#include "codec/codec.hpp"
#include "workers/event_time.hpp"

namespace services {
namespace {

/// Reads a session's comparable events in position order, through one reader
/// (two cursors are open at once, one per session: each reader has its own connection).
class Cursor {
 public:
  Cursor(eventstore::EventStore& store, const std::string& session)
      : reader_(open_session(store, session, 5'000)), page_(reader_->next()) {  // its inputs included
    if (page_.empty()) throw std::runtime_error(fmt::format("unknown session {}: the store holds no event of it", session));
  }
  /// The next comparable event, nullopt at the end.
  std::optional<eventstore::StoredEvent> next() {
    for (;;) {
      if (i_ == page_.size()) {
        page_ = reader_->next();
        i_ = 0;
        if (page_.empty()) return std::nullopt;
      }
      auto& e = page_[i_++];
      if (is_session_metadata(e.type) || is_feed_report(e)) continue;
      if (e.type == core::RiskPolicyChanged::kType && !seen_policy_) {
        // The session's first policy: the one in force when it began. Whether risk-state
        // announced it as "startup" (a fresh log: a sandbox) or "restored" (a log with
        // history: a live stack started again) says where it ran, not what it decided
        // with: compared by content (start_policy), not as an event.
        seen_policy_ = true;
        const auto r = codec::decode_risk_event(e.payload);
        const auto* p = r ? std::get_if<core::RiskPolicyChanged>(&*r) : nullptr;
        if (p != nullptr && (p->source == "startup" || p->source == "restored")) {
          start_policy_ = std::move(e);
          continue;
        }
      }
      if (!is_restart_announcement(e)) return std::move(e);
    }
  }
  /// The policy in force when the session began (see next()), once it has been read.
  const std::optional<eventstore::StoredEvent>& start_policy() const noexcept { return start_policy_; }

 private:
  bool seen_policy_ = false;
  std::optional<eventstore::StoredEvent> start_policy_;
  std::unique_ptr<eventstore::EventReader> reader_;
  std::vector<eventstore::StoredEvent> page_;
  std::size_t i_ = 0;
};

std::string show(const std::optional<eventstore::StoredEvent>& e) {
  if (!e) return "(no more events)";
  return fmt::format("position {}  {}  {}{}{}\n      {}", e->position, e->subject, e->type,
                     e->client_order_id ? "  client_order_id " + *e->client_order_id : "",
                     e->ts_event ? fmt::format("  ts_event {}", *e->ts_event) : "", e->payload);
}

}  // namespace

bool is_session_metadata(std::string_view type) noexcept {
  return type == "session.started" || type == "session.ended" || type == "worker.started" || type == "feed.summary";
}

bool is_feed_report(const eventstore::StoredEvent& e) {
  static const std::regex kFeed(R"re("worker": ?"feed")re");
  return e.type == "dead_letter" && std::regex_search(e.payload, kFeed);
}

bool is_restart_announcement(const eventstore::StoredEvent& e) {
  if (e.type != "risk.state" && e.type != "risk.policy") return false;
  const auto r = codec::decode_risk_event(e.payload);
  if (!r) return false;
  if (const auto* c = std::get_if<core::RiskStateChanged>(&*r))
    return c->source == "startup" && c->trading_state == c->previous_state;
  const auto& p = std::get<core::RiskPolicyChanged>(*r);
  return p.source == "restored";
}

namespace {

bool is_metrics(const eventstore::StoredEvent& e) {
  return e.subject.starts_with("performance.") || e.subject.starts_with("reports.");
}

/// One session's comparable events in canonical order (see diff.hpp), with cause_seq
/// and stream_seq rewritten as canonical positions.
using Canonical = std::vector<std::pair<std::uint64_t, eventstore::StoredEvent>>;  ///< (step, event)

Canonical canonical(eventstore::EventStore& store, const std::string& session,
                    std::optional<eventstore::StoredEvent>& start_policy) {
  Cursor c(store, session);
  struct Item {
    std::uint64_t root_ordinal = 0;
    int rank = 0;
    std::string subject;
    std::uint64_t seq = 0;
    eventstore::StoredEvent e;
  };
  std::vector<Item> items;
  EventTimeOrder order("diff", {}, [](int) { return std::optional<int>{}; });
  order.keep_all_keys();  // no progress to go by: a cause may come any number of events earlier
  codec::Decoder dec;
  std::map<std::uint64_t, std::uint64_t> ordinal_of_root;  // root's stream seq -> its ordinal
  std::uint64_t current_root = 0;  // ordinal of the latest root in stream order
  std::uint64_t fallback_seq = 0;
  while (auto e = c.next()) {
    if (e->type == core::Progress::kType) continue;  // the pipeline's own bookkeeping
    const auto parsed = stream_seq_of(e->msg_id);
    const std::uint64_t seq = parsed ? *parsed : ++fallback_seq;
    const bool input = e->subject.starts_with("market.data.") || e->subject.starts_with("risk.management") ||
                       e->subject.starts_with("trading.orders.by.");
    const auto role = order.note(seq, e->subject, e->payload);
    Item it{current_root, 6, e->subject, seq, std::move(*e)};
    if (role == LogRole::root && input) {
      ordinal_of_root[seq] = ++current_root;
      it.root_ordinal = current_root;
      it.rank = 0;
    } else if (role == LogRole::derived) {
      const auto k = *order.key_of(seq);
      const auto r = ordinal_of_root.upper_bound(k.root);  // the root, or (unknown) the latest before it
      it.root_ordinal = r == ordinal_of_root.begin() ? 0 : std::prev(r)->second;
      it.rank = k.stage;
    } else if (is_metrics(it.e)) {
      const auto env = dec.peek(it.e.payload);
      if (env && env->cause_seq != 0) {
        if (const auto k = order.key_of(env->cause_seq)) {
          const auto r = ordinal_of_root.upper_bound(k->root);
          it.root_ordinal = r == ordinal_of_root.begin() ? 0 : std::prev(r)->second;
          it.rank = 5;
        }
      }
    }
    items.push_back(std::move(it));
  }
  start_policy = c.start_policy();
  std::stable_sort(items.begin(), items.end(), [](const Item& x, const Item& y) {
    return std::tie(x.root_ordinal, x.rank, x.subject) < std::tie(y.root_ordinal, y.rank, y.subject);
  });
  // Stream sequences differ between runs: a reference to one becomes "#<canonical position>",
  // counted among the trading events only. What they refer to (market data, orders,
  // decisions, reports) is one of them, and a metrics event that sits elsewhere in one
  // run (it is compared after the trading events) must not shift every reference after it.
  std::map<std::uint64_t, std::size_t> position_of;
  for (std::size_t i = 0, n = 0; i < items.size(); ++i)
    if (!is_metrics(items[i].e)) position_of[items[i].seq] = n++;
  static const std::regex kRef(R"re("(cause_seq|stream_seq)": ?"?([0-9]+)"?)re");
  Canonical out;
  out.reserve(items.size());
  for (auto& it : items) {
    auto& p = it.e.payload;
    if (p.find("_seq") != std::string::npos) {
      std::string rewritten;
      auto last = p.cbegin();
      for (std::sregex_iterator m(p.begin(), p.end(), kRef), end; m != end; ++m) {
        rewritten.append(last, (*m)[0].first);
        const auto seq = std::stoull((*m)[2].str());
        const auto at = position_of.find(seq);
        rewritten += fmt::format("\"{}\": \"#{}\"", (*m)[1].str(),
                                 at == position_of.end() ? std::string("?") : std::to_string(at->second));
        last = (*m)[0].second;
      }
      rewritten.append(last, p.cend());
      p = std::move(rewritten);
    }
    out.emplace_back(it.root_ordinal, std::move(it.e));
  }
  return out;
}

/// A replay republishes the people's inputs of the session it replays as the sandbox's
/// `desk-replay` identity (it cannot publish as them: pkg/auth), so nats-server files
/// them under trading.orders.by.desk-replay / risk.management.by.desk-replay and
/// risk-state stamps `sender` "desk-replay". Who sent a person's input is compared,
/// except against desk-replay, which stands for whoever sent it in the session replayed.
constexpr std::string_view kReplayDesk = "desk-replay";

bool same_sender_subject(std::string_view a, std::string_view b) {
  if (a == b) return true;
  for (const std::string_view prefix : {"trading.orders.by.", "risk.management.by."}) {
    if (!a.starts_with(prefix) || !b.starts_with(prefix)) continue;
    return a.substr(prefix.size()) == kReplayDesk || b.substr(prefix.size()) == kReplayDesk;
  }
  return false;
}

/// `payload` with the value of its "sender" (as jsonb prints it) emptied.
std::string without_sender(std::string payload) {
  static const std::regex kSender(R"re("sender": ?"[^"]*")re");
  return std::regex_replace(payload, kSender, R"("sender": "")");
}

/// A dead_letter's `payload` with its "ts" (when the worker refused it: wall-clock time,
/// which differs between any two runs by nature) set to 0.
std::string without_wall_ts(std::string payload) {
  static const std::regex kTs(R"re("ts": ?[0-9]+)re");
  return std::regex_replace(payload, kTs, R"("ts": 0)");
}

bool same_payload(const std::string& a_in, const std::string& b_in) {
  if (a_in == b_in) return true;
  static const std::regex kDeadLetter(R"re("type": ?"dead_letter")re");
  const bool dead = std::regex_search(a_in, kDeadLetter) && std::regex_search(b_in, kDeadLetter);
  const std::string a = dead ? without_wall_ts(a_in) : a_in;
  const std::string b = dead ? without_wall_ts(b_in) : b_in;
  if (a == b) return true;
  const bool replayed = a.find("\"sender\": \"desk-replay\"") != std::string::npos ||
                        b.find("\"sender\": \"desk-replay\"") != std::string::npos;
  return replayed && without_sender(a) == without_sender(b);
}

/// The first difference, step by step (a step: one input and what it caused), among
/// the trading events or (`metrics`) the metrics: within a step pair by pair, an extra
/// event on one side is missing on the other.
void first_divergence(const Canonical& a, const Canonical& b, bool metrics, SessionDiff& d) {
  std::size_t ia = 0, ib = 0;
  std::int64_t index = 0;
  auto skip = [&](const Canonical& v, std::size_t& i) {
    while (i < v.size() && is_metrics(v[i].second) != metrics) ++i;
  };
  for (;;) {
    skip(a, ia);
    skip(b, ib);
    if (ia == a.size() && ib == b.size()) return;
    const eventstore::StoredEvent* ea = nullptr;
    const eventstore::StoredEvent* eb = nullptr;
    if (ia < a.size() && (ib == b.size() || a[ia].first <= b[ib].first)) ea = &a[ia].second;
    if (ib < b.size() && (ia == a.size() || b[ib].first <= a[ia].first)) eb = &b[ib].second;
    std::vector<std::string> fields;
    if (!ea) fields.push_back("missing in a");
    else if (!eb) fields.push_back("missing in b");
    else {
      if (!same_sender_subject(ea->subject, eb->subject)) fields.push_back("subject");
      if (ea->type != eb->type) fields.push_back("type");
      if (ea->client_order_id != eb->client_order_id) fields.push_back("client_order_id");
      if (ea->ts_event != eb->ts_event) fields.push_back("ts_event");
      if (!same_payload(ea->payload, eb->payload)) fields.push_back("payload");
    }
    if (!fields.empty()) {
      d.identical = false;
      d.index = index;
      d.metrics = metrics;
      if (ea) d.at_a = *ea;
      if (eb) d.at_b = *eb;
      d.fields = std::move(fields);
      return;
    }
    ++d.compared;
    ++index;
    ++ia;
    ++ib;
  }
}

}  // namespace

SessionDiff diff_sessions(eventstore::EventStore& store, const std::string& a, const std::string& b) {
  return diff_sessions(store, a, store, b);
}

SessionDiff diff_sessions(eventstore::EventStore& store_a, const std::string& a, eventstore::EventStore& store_b,
                          const std::string& b) {
  std::optional<eventstore::StoredEvent> pa, pb;
  const auto ea = canonical(store_a, a, pa);
  const auto eb = canonical(store_b, b, pb);
  SessionDiff d;
  d.events_a = static_cast<std::int64_t>(ea.size());
  d.events_b = static_cast<std::int64_t>(eb.size());
  // The policy each session began with, by content, before anything it decided.
  auto policy_of = [](const std::optional<eventstore::StoredEvent>& e) -> std::optional<core::RiskPolicy> {
    if (!e) return std::nullopt;
    const auto r = codec::decode_risk_event(e->payload);
    return std::get<core::RiskPolicyChanged>(*r).policy;  // decoded once already (Cursor::next)
  };
  if (policy_of(pa) != policy_of(pb)) {
    d.identical = false;
    d.index = 0;
    d.at_a = pa;
    d.at_b = pb;
    d.fields = {!pa ? "missing in a" : !pb ? "missing in b" : "the risk policy in force at the start"};
    return d;
  }
  // What traders act on first (orders, decisions, fills, market data), metrics after.
  first_divergence(ea, eb, false, d);
  if (d.identical) first_divergence(ea, eb, true, d);
  return d;
}

std::string format_diff(const SessionDiff& d, const std::string& a, const std::string& b) {
  if (d.identical)
    return fmt::format("identical: {} events compared (session metadata and start-up announcements skipped)\n  a {}\n  b {}\n", d.compared, a, b);
  std::string fields;
  for (const auto& f : d.fields) fields += (fields.empty() ? "" : ", ") + f;
  return fmt::format(
      "DIFFERENT: first divergence at {} {} (after {} identical; a has {}, b has {} comparable events)\n"
      "  differs in: {}\n  a {}\n    {}\n  b {}\n    {}\n",
      d.metrics ? "metrics event" : "trading event", d.index, d.compared, d.events_a, d.events_b, fields, a,
      show(d.at_a), b, show(d.at_b));
}

}  // namespace services
