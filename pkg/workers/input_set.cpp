#include "workers/input_set.hpp"

#include <charconv>
#include <utility>
#include <variant>

#include "codec/codec.hpp"
#include "subjects/subjects.hpp"
#include "workers/manifest.hpp"

namespace services {

std::optional<std::uint64_t> stream_seq_of(std::string_view msg_id) {
  const auto colon = msg_id.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::uint64_t seq = 0;
  const auto* end = msg_id.data() + msg_id.size();
  const auto r = std::from_chars(msg_id.data() + colon + 1, end, seq);
  if (r.ec != std::errc() || r.ptr != end) return std::nullopt;
  return seq;
}

std::string input_set_of(std::string_view payload) {
  auto l = codec::decode_session_lifecycle(payload);
  if (!l) return {};
  const auto* s = std::get_if<core::SessionStarted>(&*l);
  return s != nullptr ? s->input_set : std::string();
}

std::string input_digest(std::string_view subject, std::string_view payload) {
  Sha256 h;
  constexpr char nul = '\0';
  h.update(subject);
  h.update(&nul, 1);
  h.update(payload);
  h.update(&nul, 1);
  return h.hex();
}

bool is_set_input(std::string_view subject) noexcept { return subject.starts_with(subjects::kMarketDataPrefix); }

InputSetInputs::InputSetInputs(eventstore::EventStore& store, std::string set, std::size_t page)
    : set_(std::move(set)), reader_(store.open_reader({.session_id = set_, .limit = page == 0 ? 10'000 : page})) {}

eventstore::StoredEvent* InputSetInputs::take() {
  for (;;) {
    if (next_ == buf_.size()) {
      buf_ = reader_->next();
      next_ = 0;
      if (buf_.empty()) return nullptr;
    }
    auto& in = buf_[next_++];
    if (is_set_input(in.subject)) {  // (not its session.started / session.ended)
      ++taken_;
      return &in;
    }
  }
}

}  // namespace services
