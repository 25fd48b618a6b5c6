#include "tooling/input_sets.hpp"

#include <stdexcept>
#include <utility>

#include <fmt/format.h>

#include "codec/codec.hpp"
#include "core/time.hpp"
#include "subjects/subjects.hpp"
#include "workers/manifest.hpp"

namespace services {
namespace {

/// A session read with its input set's inputs back in its gaps (input_sets.hpp).
class SessionReader final : public eventstore::EventReader {
 public:
  SessionReader(eventstore::EventStore& store, std::string session_id, std::size_t page)
      : store_(store),
        id_(std::move(session_id)),
        page_(page == 0 ? 10'000 : page),
        own_(store.open_reader({.session_id = id_, .limit = page_})) {}

  std::vector<eventstore::StoredEvent> next() override {
    std::vector<eventstore::StoredEvent> out;
    while (out.size() < page_) {
      if (i_ == buf_.size()) {
        buf_ = own_->next();
        i_ = 0;
        if (buf_.empty()) break;
      }
      auto& e = buf_[i_];
      const auto seq = stream_seq_of(e.msg_id);
      if (set_ && next_seq_ && seq && *seq > *next_seq_) {  // a gap: the set's next input
        out.push_back(next_input(e.msg_id.substr(0, e.msg_id.rfind(':') + 1) + std::to_string(*next_seq_)));
        ++*next_seq_;
        continue;
      }
      if (!started_ && e.type == core::SessionStarted::kType) {
        started_ = true;
        if (const auto set = input_set_of(e.payload); !set.empty()) set_.emplace(store_, set, page_);
      }
      if (set_ && next_seq_ && is_set_input(e.subject)) pass_input();  // stored itself: it takes its ordinal
      if (seq && started_) next_seq_ = *seq + 1;
      out.push_back(std::move(e));
      ++i_;
    }
    return out;
  }

 private:
  /// The set's next input, as the session's event `msg_id` (a gap).
  eventstore::StoredEvent next_input(std::string msg_id) {
    auto* in = set_->take();
    if (in == nullptr)
      throw std::runtime_error(fmt::format(
          "session {}: its input set {} holds fewer inputs than the session has gaps ({} inputs read from it; "
          "is the set missing from this store, or was it removed?)", id_, set_->id(), set_->taken()));
    in->msg_id = std::move(msg_id);
    in->session_id = id_;
    return std::move(*in);
  }
  /// An input the session stored itself: it takes the set's next ordinal (if the set has it).
  void pass_input() { (void)set_->take(); }

  eventstore::EventStore& store_;
  std::string id_;
  std::size_t page_;
  std::unique_ptr<eventstore::EventReader> own_;
  std::vector<eventstore::StoredEvent> buf_;
  std::size_t i_ = 0;
  bool started_ = false;
  std::optional<std::uint64_t> next_seq_;  ///< the stream sequence expected next (after session.started)
  std::optional<InputSetInputs> set_;
};

}  // namespace

std::string input_set_id(const std::vector<ReplayInput>& inputs) {
  Sha256 h;
  constexpr char nul = '\0';
  for (const auto& in : inputs) {
    h.update(in.subject);
    h.update(&nul, 1);
    h.update(in.payload);
    h.update(&nul, 1);
  }
  return "inputs-" + h.hex().substr(0, 32);
}

std::vector<std::string> input_digests(const std::vector<ReplayInput>& inputs) {
  std::vector<std::string> out;
  out.reserve(inputs.size());
  for (const auto& in : inputs) out.push_back(input_digest(in.subject, in.payload));
  return out;
}

std::int64_t ensure_input_set(eventstore::EventStore& reader, eventstore::EventStore& writer, const std::string& set,
                              const std::vector<ReplayInput>& inputs, const std::string& data_source,
                              const std::string& version) {
  if (!reader.query({.session_id = set, .type = std::string(core::SessionEnded::kType), .limit = 1}).empty()) return 0;
  const auto now = core::SystemClock().now();
  std::vector<eventstore::NewEvent> batch;
  std::int64_t appended = 0;
  auto add = [&](std::uint64_t k, std::string subject, std::string type, std::optional<core::TimestampNs> ts,
                 std::string payload) {
    batch.push_back({.msg_id = fmt::format("{}:{}", set, k),
                     .subject = std::move(subject),
                     .type = std::move(type),
                     .ts_event = ts,
                     .payload = std::move(payload),
                     .session_id = set});
    if (batch.size() >= 5'000) {
      appended += static_cast<std::int64_t>(writer.append(batch));
      batch.clear();
    }
  };
  add(0, std::string(subjects::kSessionLifecycle), std::string(core::SessionStarted::kType), std::nullopt,
      codec::encode(core::SessionStarted{
          .session_id = set,
          .kind = "inputs",
          .data_source = data_source,
          .started_by = "traderctl",
          .version = version,
          .ts_wall = now,
          .reason = fmt::format("{} inputs, stored once for every session that names this set", inputs.size())}));
  codec::Decoder dec;
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    const auto& in = inputs[k];
    const auto env = dec.peek(in.payload);
    if (!env) throw std::runtime_error(fmt::format("input set {}: input {} is not a message: {}", set, k + 1,
                                                   env.error().to_string()));
    std::optional<core::TimestampNs> ts;
    if (env->ts_event && *env->ts_event > 0) ts = env->ts_event;
    add(k + 1, in.subject, env->type, ts, in.payload);
  }
  add(inputs.size() + 1, std::string(subjects::kSessionLifecycle), std::string(core::SessionEnded::kType),
      std::nullopt,
      codec::encode(core::SessionEnded{.session_id = set, .ts_wall = now, .reason = "input set complete"}));
  if (!batch.empty()) appended += static_cast<std::int64_t>(writer.append(batch));
  return appended;
}

bool input_set_holds(eventstore::EventStore& store, const std::string& set, const std::vector<ReplayInput>& inputs) {
  if (store.query({.session_id = set, .type = std::string(core::SessionEnded::kType), .limit = 1}).empty())
    return false;
  InputSetInputs in(store, set);
  for (const auto& want : inputs) {
    const auto* got = in.take();
    if (got == nullptr || got->subject != want.subject || got->payload != want.payload) return false;
  }
  return in.take() == nullptr;
}

std::unique_ptr<eventstore::EventReader> open_session(eventstore::EventStore& store, const std::string& session_id,
                                                      std::size_t page) {
  return std::make_unique<SessionReader>(store, session_id, page);
}

void for_each_session_event(eventstore::EventStore& store, const std::string& session_id,
                            const std::function<void(eventstore::StoredEvent&)>& fn) {
  const auto reader = open_session(store, session_id);
  for (auto page = reader->next(); !page.empty(); page = reader->next())
    for (auto& e : page) fn(e);
}

std::vector<std::string> sessions_using_input_set(eventstore::EventStore& store, const std::string& set) {
  std::vector<std::string> out;
  eventstore::for_each(store, {.type = std::string(core::SessionStarted::kType)},
                       [&](const eventstore::StoredEvent& e) {
                         if (e.session_id && *e.session_id != set && input_set_of(e.payload) == set) out.push_back(*e.session_id);
                       });
  return out;
}

}  // namespace services
