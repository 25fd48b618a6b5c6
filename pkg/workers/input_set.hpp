/// @file input_set.hpp
/// @brief Reading an *input set*: inputs stored once in the event store and shared by
/// every session that names the set (issue 12; the shape is described in
/// pkg/tooling/input_sets.hpp, which writes them).
///
/// A session that uses a set stores every event of its stream except the inputs the set
/// holds, each with its stream sequence in its msg_id ("<stream>:<seq>"). Its inputs are
/// the gaps of those sequences after its session.started: the k-th gap is the set's k-th
/// input, and an input the session stored itself takes its ordinal too. Two readers put
/// them back: traderctl's (tooling::open_session, a session by id) and the workers'
/// rebuild from the log (event_log.hpp, a stream by sequence).
///
/// Thread-safety: none (one thread per object, as eventstore::EventReader).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "eventstore/event_store.hpp"

namespace services {

/// The stream sequence in a msg_id "<stream>:<seq>" (nullopt if it has none). Pure.
std::optional<std::uint64_t> stream_seq_of(std::string_view msg_id);

/// The input set a session.started's JSON (`payload`) names ("" if none, or if it is
/// not a session.started).
std::string input_set_of(std::string_view payload);

/// One input's digest: the lowercase hex SHA-256 of its subject, a NUL, its payload and a
/// NUL (the bytes an input set's id hashes, one input at a time). How traderctl tells the
/// sandbox's recorder which inputs a set holds (RecorderConfig::input_digests). Pure.
std::string input_digest(std::string_view subject, std::string_view payload);

/// True for the subjects an input set holds: market.data.<symbol>.
bool is_set_input(std::string_view subject) noexcept;

/// The inputs of input set `set` in `store`, in order (its session.started and
/// session.ended are not inputs), read a page at a time.
class InputSetInputs {
 public:
  InputSetInputs(eventstore::EventStore& store, std::string set, std::size_t page = 10'000);
  const std::string& id() const noexcept { return set_; }
  /// The next input, moved out (valid until the next call); nullptr once the set has no
  /// more. @throws eventstore::StoreUnavailable as EventReader::next.
  eventstore::StoredEvent* take();
  /// How many inputs take() has returned.
  std::int64_t taken() const noexcept { return taken_; }

 private:
  std::string set_;
  std::unique_ptr<eventstore::EventReader> reader_;
  std::vector<eventstore::StoredEvent> buf_;
  std::size_t next_ = 0;
  std::int64_t taken_ = 0;
};

}  // namespace services
