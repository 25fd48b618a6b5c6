#include "workers/memory_bus.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>

#include "subjects/subjects.hpp"
#include "workers/log_input.hpp"

namespace services {

namespace {
bool captured(std::string_view subject) {
  for (const auto pattern : subjects::kCapturedSubjects)
    if (subjects::matches(pattern, subject)) return true;
  return false;
}

template <class T>
void forget(std::vector<T*>& v, T* p) {
  for (auto& x : v)
    if (x == p) x = nullptr;  // compacted when nothing iterates (MemoryBus::run)
}
}  // namespace

struct MemoryBus::Follower final : LogTail {
  Follower(MemoryBus& bus, std::uint64_t end, std::function<void(const LogEvent&)> fn)
      : bus_(&bus), handled(end), fn(std::move(fn)) {
    bus.followers_.push_back(this);
  }
  ~Follower() override {
    if (bus_) forget(bus_->followers_, this);
  }
  void open(std::uint64_t h) override {
    handled = std::max(handled, h);
    opened = true;
  }
  MemoryBus* bus_;
  std::uint64_t handled;
  bool opened = false;
  std::function<void(const LogEvent&)> fn;
};

struct MemoryBus::Sub final : BusSubscription {
  Sub(MemoryBus& bus, std::string pattern, Handler fn) : bus_(&bus), pattern(std::move(pattern)), fn(std::move(fn)) {
    bus.subs_.push_back(this);
  }
  ~Sub() override {
    if (bus_) forget(bus_->subs_, this);
  }
  MemoryBus* bus_;
  std::string pattern;
  Handler fn;
};

MemoryBus::MemoryBus(bool keep_log, LogSink on_logged) : keep_log_(keep_log), on_logged_(std::move(on_logged)) {}

MemoryBus::~MemoryBus() {
  // Workers outliving the bus must not reach back into it.
  for (auto* f : followers_)
    if (f) f->bus_ = nullptr;
  for (auto* s : subs_)
    if (s) s->bus_ = nullptr;
}

bool MemoryBus::publish(std::string_view subject, std::string_view payload) {
  queue_.push_back(Entry{std::string(subject), std::string(payload), std::nullopt});
  return true;
}

bool MemoryBus::publish_market(std::string_view subject, const core::MarketData& md, std::string_view payload) {
  queue_.push_back(Entry{std::string(subject), std::string(payload), md});
  return true;
}

std::unique_ptr<BusSubscription> MemoryBus::subscribe(std::string_view pattern, Handler fn) {
  return std::make_unique<Sub>(*this, std::string(pattern), std::move(fn));
}

std::uint64_t MemoryBus::log_end(const std::string&) { return seq_; }

HistoryStats MemoryBus::read_history(eventstore::EventStore*, const std::string&, std::uint64_t after,
                                     std::uint64_t up_to, const std::function<void(const LogEvent&)>& fn) {
  HistoryStats st;
  st.last_seq = after;
  if (after >= up_to) return st;
  if (!keep_log_ || up_to > log_.size())
    throw std::logic_error(fmt::format("in-process log: sequences {}..{} are not kept", after + 1, up_to));
  for (std::uint64_t seq = after + 1; seq <= up_to; ++seq) {
    const auto& e = log_[seq - 1];
    fn(LogEvent{seq, e->subject, e->data, false, false, e});
    st.last_seq = seq;
    ++st.from_stream;
  }
  return st;
}

std::unique_ptr<LogTail> MemoryBus::follow(Runtime&, eventstore::EventStore*, const std::string&, std::uint64_t end,
                                           std::function<void(const LogEvent&)> fn) {
  return std::make_unique<Follower>(*this, end, std::move(fn));
}

void MemoryBus::deliver(Entry entry) {
  ++delivered_;
  for (std::size_t i = 0; i < subs_.size(); ++i)
    if (auto* s = subs_[i]; s && subjects::matches(s->pattern, entry.subject))
      s->fn(natsio::Message{entry.subject, entry.data, {}});
  if (!captured(entry.subject)) return;
  const auto seq = ++seq_;
  auto ev = std::make_shared<SharedEvent>();
  ev->subject = std::move(entry.subject);
  ev->data = std::move(entry.data);
  if (ev->subject.starts_with(subjects::kMarketDataPrefix)) {
    // What every worker's decode_market would answer: the publisher's message (Bus::
    // publish_market), or a decode of the bytes. Should that throw (an absurd value),
    // each worker decodes it itself and quarantines it, as on NATS.
    try {
      if (entry.market) ev->market.emplace(market_result(ev->subject, std::move(*entry.market)));
      else ev->market.emplace(decode_market_value(dec_, natsio::Message{ev->subject, ev->data, {}}));
    } catch (...) {
      ev->market.reset();
    }
  }
  std::shared_ptr<const SharedEvent> e = std::move(ev);
  if (keep_log_) log_.push_back(e);
  if (on_logged_) on_logged_(seq, e->subject, e->data);
  const bool caught_up = queue_.empty();
  for (std::size_t i = 0; i < followers_.size(); ++i) {
    auto* f = followers_[i];
    if (!f || !f->opened || seq <= f->handled) continue;
    f->handled = seq;
    f->fn(LogEvent{seq, e->subject, e->data, false, caught_up, e});
  }
}

void MemoryBus::run() {
  if (running_) return;
  running_ = true;
  struct Done {
    MemoryBus& bus;
    ~Done() {
      bus.running_ = false;
      std::erase(bus.followers_, nullptr);
      std::erase(bus.subs_, nullptr);
    }
  } done{*this};
  while (!queue_.empty()) {
    Entry e = std::move(queue_.front());
    queue_.pop_front();
    deliver(std::move(e));
  }
}

}  // namespace services
