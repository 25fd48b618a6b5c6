#include "workers/event_time.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "subjects/subjects.hpp"

namespace services {


EventTimeOrder::EventTimeOrder(std::string self, std::vector<Upstream> upstream,
                               std::function<std::optional<int>(int)> out_stage)
    : self_(std::move(self)),
      upstream_(std::move(upstream)),
      out_stage_(std::move(out_stage)),
      up_floor_(upstream_.size()) {
  for (int st = 0; st <= kStageRiskAfterFill; ++st) out_table_[static_cast<std::size_t>(st)] = out_stage_(st);
}

void EventTimeOrder::insert(const EventKey& k, std::string_view subject, std::string_view data,
                            std::shared_ptr<const SharedEvent> shared) {
  std::uint32_t slot = 0;
  if (free_slots_.empty()) {
    slot = static_cast<std::uint32_t>(slots_.size());
    slots_.emplace_back();
  } else {
    slot = free_slots_.back();
    free_slots_.pop_back();
  }
  auto& sl = slots_[slot];
  if (shared) {
    sl.shared = std::move(shared);
  } else {
    sl.subject.assign(subject);
    sl.data.assign(data);
  }
  // Keys are unique (each has its own stream sequence). The usual case appends.
  if (buffer_.empty() || buffer_.back().first < k) {
    buffer_.emplace_back(k, slot);
    return;
  }
  const auto it = std::upper_bound(buffer_.begin(), buffer_.end(), k,
                                   [](const EventKey& a, const auto& e) { return a < e.first; });
  buffer_.emplace(it, k, slot);
}

LogRole EventTimeOrder::push(std::uint64_t seq, std::string_view subject, std::string_view data) {
  return classify(seq, subject, data, Mode::keep);
}

EventTimeOrder::Pushed EventTimeOrder::push_or_pass(std::uint64_t seq, std::string_view subject,
                                                    std::string_view data, std::shared_ptr<const SharedEvent> shared) {
  passed_ = false;
  const auto role = classify(seq, subject, data, Mode::pass, std::move(shared));
  return {role, passed_};
}

LogRole EventTimeOrder::note(std::uint64_t seq, std::string_view subject, std::string_view data) {
  return classify(seq, subject, data, Mode::note);
}

void EventTimeOrder::remember(std::uint64_t seq, Known k) {
  if (known_.empty() || known_.back().first < seq) {
    known_.emplace_back(seq, k);  // the usual case: the log comes in stream order
    return;
  }
  const auto it = std::lower_bound(known_.begin(), known_.end(), seq,
                                   [](const auto& e, std::uint64_t s) { return e.first < s; });
  if (it != known_.end() && it->first == seq) it->second = k;
  else known_.insert(it, {seq, k});
}

const EventTimeOrder::Known* EventTimeOrder::find_known(std::uint64_t seq) const {
  const auto it = std::lower_bound(known_.begin(), known_.end(), seq,
                                   [](const auto& e, std::uint64_t s) { return e.first < s; });
  return it != known_.end() && it->first == seq ? &it->second : nullptr;
}

LogRole EventTimeOrder::classify(std::uint64_t seq, std::string_view subject, std::string_view data, Mode mode,
                                 std::shared_ptr<const SharedEvent> shared) {
  if (++pushed_ % 4096 == 0 && prune_) prune();
  // Progress markers do not move the bound on roots not seen yet (floor()): markers
  // answering markers would never end.
  if (!subject.starts_with(subjects::kProgressPrefix)) last_seq_ = std::max(last_seq_, seq);
  auto buffer = [&](EventKey k, bool order) {
    remember(seq, Known{k.root, k.stage, order});
    if (mode == Mode::note) return;
    // Passed: nothing waits before it and nothing blocks it, so pop() would release it
    // next; the caller handles it from its own views, without a copy.
    if (mode == Mode::pass && buffer_.empty() && blocker(k) == nullptr) {
      passed_ = true;
      return;
    }
    insert(k, subject, data, std::move(shared));
  };
  if (subject.starts_with(subjects::kMarketDataPrefix)) {
    buffer({seq, kStageRoot, seq}, false);
    return LogRole::root;
  }
  // trading.orders.by.<user>: a person's order (the server names the sender).
  const bool person_order = subjects::is_orders(subject) && !subjects::sender_of(subject).empty();
  if (person_order || subjects::is_risk_management(subject)) {
    buffer({seq, kStageRoot, seq}, person_order);
    return LogRole::root;
  }
  if (subject.starts_with(subjects::kProgressPrefix)) {
    auto p = dec_.decode_progress(data);
    if (!p || subject.substr(subjects::kProgressPrefix.size()) != p->worker) return LogRole::other;
    if (p->worker == self_) {  // its own: only a floor to hold at while rebuilding (root_seq 0: it stopped)
      if (hold_ && p->root_seq != 0) own_ = std::max(own_, Floor{p->root_seq, static_cast<int>(p->stage)});
      return LogRole::other;
    }
    std::optional<Floor> f;  // nullopt: it stopped, it takes no part any more
    if (p->root_seq != 0) f = Floor{p->root_seq, static_cast<int>(p->stage)};
    if (f) progress_[p->worker] = *f;
    else progress_.erase(p->worker);
    for (std::size_t i = 0; i < upstream_.size(); ++i)
      if (upstream_[i].worker == p->worker) up_floor_[i] = f;
    return LogRole::progress;
  }
  const bool orders = subject == subjects::kTradingOrders;
  const bool approved = subject == subjects::kTradingOrdersApproved;
  const bool reports = subject == subjects::kTradingExecutions;
  const bool risk = subject == subjects::kRiskState;
  if (!orders && !approved && !reports && !risk) return LogRole::other;
  const auto env = dec_.peek(data);
  if (!env) return LogRole::other;  // refused by the handler, in stream order
  if (env->cause_seq == 0 || env->cause_seq >= seq) {
    // No cause: a strategy order is then a root of its own; anything else (recorded
    // before causes existed, or a start-up announcement) is handled as it comes.
    if (orders) {
      buffer({seq, kStageRoot, seq}, true);
      return LogRole::root;
    }
    return LogRole::other;
  }
  const auto* cause = find_known(env->cause_seq);
  const Known c = cause != nullptr ? *cause : Known{env->cause_seq, kStageRoot, false};
  int stage = kStageRoot;
  if (orders) stage = kStageStrategy;
  else if (approved) stage = kStageRisk;
  else if (reports) stage = c.order ? kStageRisk : kStageExecution;  // a denial answers an order
  else stage = c.stage == kStageExecution ? kStageRiskAfterFill : kStageRisk;
  buffer({c.root, stage, seq}, orders);
  return LogRole::derived;
}

EventKey EventTimeOrder::next_of(const Floor& f, int stage) {
  if (f.stage <= stage) return {f.root, stage, 0};
  return {f.root + 1, stage, 0};
}

const EventTimeOrder::Upstream* EventTimeOrder::blocker(const EventKey& k) const {
  // Holding: released once its own reactions' place, (root, the stage it publishes at),
  // lies before its own progress (a message it does not react to: the next stage).
  if (hold_ && !(Floor{k.root, out_of(k.stage).value_or(k.stage + 1)} < own_)) return &own_gate_;
  for (std::size_t i = 0; i < upstream_.size(); ++i) {
    const auto& p = up_floor_[i];
    if (!p) continue;  // never heard from (not taking part), or it left
    const auto& u = upstream_[i];
    if (u.relevant && !u.relevant()) continue;
    for (const int s : u.stages)
      if (!(k < next_of(*p, s))) return &u;
  }
  return nullptr;
}

std::optional<EventTimeOrder::Ready> EventTimeOrder::pop() {
  if (popped_) {  // the caller is done with the last one: its slot serves a later message
    slots_[*popped_].shared.reset();
    free_slots_.push_back(*popped_);
    popped_.reset();
  }
  if (buffer_.empty()) return std::nullopt;
  const auto [key, slot] = buffer_.front();
  if (blocker(key) != nullptr) return std::nullopt;
  buffer_.pop_front();
  popped_ = slot;
  const auto& sl = slots_[slot];
  if (sl.shared) return Ready{key, sl.shared->subject, sl.shared->data, sl.shared.get()};
  return Ready{key, sl.subject, sl.data};
}

std::string EventTimeOrder::waiting_for() const {
  if (buffer_.empty()) return {};
  const auto& k = buffer_.front().first;
  const auto* u = blocker(k);
  if (u == nullptr) return {};
  const auto& f = u == &own_gate_ ? own_ : *up_floor_[static_cast<std::size_t>(u - upstream_.data())];
  return fmt::format("({}, {}, {}) waits for {} at ({}, {})", k.root, k.stage, k.seq, u->worker, f.root, f.stage);
}

Floor EventTimeOrder::floor() const {
  // What this worker will still publish reacts to a message it has not handled yet:
  // one in the buffer, one an upstream may still send (if it matters now), or a root
  // not seen yet. Inputs it never reacts to (out_stage nullopt) bound nothing.
  Floor f{last_seq_ + 1, out_of(kStageRoot).value_or(kStageRoot)};  // (a reader that publishes nothing: diff)
  std::optional<std::uint64_t> group;
  for (const auto& [k, slot] : buffer_) {
    if (group && k.root != *group) break;
    const auto s = out_of(k.stage);
    if (!s) continue;
    group = k.root;
    f = std::min(f, Floor{k.root, *s});
  }
  for (std::size_t i = 0; i < upstream_.size(); ++i) {
    const auto& p = up_floor_[i];
    const auto& u = upstream_[i];
    if (!p || (u.relevant && !u.relevant())) continue;
    for (const int st : u.stages)
      if (const auto s = out_of(st)) f = std::min(f, Floor{next_of(*p, st).root, *s});
  }
  return f;
}

std::optional<EventKey> EventTimeOrder::key_of(std::uint64_t seq) const {
  const auto* k = find_known(seq);
  if (k == nullptr) return std::nullopt;
  return EventKey{k->root, k->stage, seq};
}

std::optional<Floor> EventTimeOrder::progress_of(const std::string& worker) const {
  const auto it = progress_.find(worker);
  if (it == progress_.end()) return std::nullopt;
  return it->second;
}

void EventTimeOrder::prune() {
  // A later message's cause has a root at or after every publisher's progress (and
  // this worker's own): what lies before can no longer be named.
  std::uint64_t bound = floor().root;
  for (const auto& [w, f] : progress_) bound = std::min(bound, f.root);
  if (!buffer_.empty()) bound = std::min(bound, buffer_.front().first.root);
  known_.erase(known_.begin(), std::lower_bound(known_.begin(), known_.end(), bound,
                                                [](const auto& e, std::uint64_t s) { return e.first < s; }));
}

}  // namespace services
