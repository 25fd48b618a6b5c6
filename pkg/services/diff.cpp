#include "services/diff.hpp"

#include <algorithm>
#include <memory>
#include <stdexcept>

#include <fmt/format.h>

#include "codec/codec.hpp"

namespace services {
namespace {

/// Reads a session's comparable events in position order, through one reader
/// (two cursors are open at once, one per session: each reader has its own connection).
class Cursor {
 public:
  Cursor(eventstore::EventStore& store, const std::string& session)
      : reader_(store.open_reader({.session_id = session, .limit = 5'000})), page_(reader_->next()) {
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
      if (!is_session_metadata(e.type) && !is_restart_announcement(e)) return std::move(e);
    }
  }

 private:
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
  return type == "session.started" || type == "session.ended" || type == "worker.started";
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

/// An input from outside the pipeline: it starts a step.
bool is_step_input(const eventstore::StoredEvent& e) {
  return e.subject.starts_with("market.data.") || e.subject == "risk.management";
}

/// Reads a session step by step: one input and the events after it up to the
/// next input, the derived events stably ordered by subject (see diff.hpp).
class Steps {
 public:
  explicit Steps(Cursor& c) : c_(c), ahead_(c_.next()) {}
  /// The next step's events in canonical order; empty at the end.
  std::vector<eventstore::StoredEvent> next() {
    std::vector<eventstore::StoredEvent> step;
    if (!ahead_) return step;
    step.push_back(std::move(*ahead_));
    for (ahead_ = c_.next(); ahead_ && !is_step_input(*ahead_); ahead_ = c_.next()) step.push_back(std::move(*ahead_));
    std::stable_sort(step.begin() + 1, step.end(),
                     [](const auto& x, const auto& y) { return x.subject < y.subject; });
    return step;
  }

 private:
  Cursor& c_;
  std::optional<eventstore::StoredEvent> ahead_;
};

}  // namespace

SessionDiff diff_sessions(eventstore::EventStore& store, const std::string& a, const std::string& b) {
  Cursor ca(store, a), cb(store, b);
  Steps sa(ca), sb(cb);
  SessionDiff d;
  for (;;) {
    auto step_a = sa.next();
    auto step_b = sb.next();
    if (step_a.empty() && step_b.empty()) break;
    d.events_a += static_cast<std::int64_t>(step_a.size());
    d.events_b += static_cast<std::int64_t>(step_b.size());
    if (!d.identical) continue;  // only counting now
    for (std::size_t i = 0; i < std::max(step_a.size(), step_b.size()); ++i) {
      std::optional<eventstore::StoredEvent> ea, eb;
      if (i < step_a.size()) ea = std::move(step_a[i]);
      if (i < step_b.size()) eb = std::move(step_b[i]);
      std::vector<std::string> fields;
      if (!ea) fields.push_back("missing in a");
      else if (!eb) fields.push_back("missing in b");
      else {
        if (ea->subject != eb->subject) fields.push_back("subject");
        if (ea->type != eb->type) fields.push_back("type");
        if (ea->client_order_id != eb->client_order_id) fields.push_back("client_order_id");
        if (ea->ts_event != eb->ts_event) fields.push_back("ts_event");
        if (ea->payload != eb->payload) fields.push_back("payload");
      }
      if (fields.empty()) {
        ++d.compared;
        continue;
      }
      d.identical = false;
      d.index = d.compared;
      d.at_a = std::move(ea);
      d.at_b = std::move(eb);
      d.fields = std::move(fields);
      break;
    }
  }
  return d;
}

std::string format_diff(const SessionDiff& d, const std::string& a, const std::string& b) {
  if (d.identical)
    return fmt::format("identical: {} events compared (session metadata and start-up announcements skipped)\n  a {}\n  b {}\n", d.compared, a, b);
  std::string fields;
  for (const auto& f : d.fields) fields += (fields.empty() ? "" : ", ") + f;
  return fmt::format(
      "DIFFERENT: first divergence at event {} (after {} identical events; a has {}, b has {} comparable events)\n"
      "  differs in: {}\n  a {}\n    {}\n  b {}\n    {}\n",
      d.index, d.compared, d.events_a, d.events_b, fields, a, show(d.at_a), b, show(d.at_b));
}

}  // namespace services
