/// @file input_sets.hpp
/// @brief Inputs stored once (issue 12): a backtest's inputs live in an *input set*, a
/// research session of kind "inputs" keyed by their content hash, and every backtest of
/// the same inputs refers to it instead of storing them again.
///
/// Shape. An input set `inputs-<32 hex>` holds, in the research store: its
/// session.started (kind "inputs", msg_id "<set>:0"), the inputs in publish order (msg_id
/// "<set>:<k>", k = 1..n, subject market.data.<symbol>, the feed's JSON), and its
/// session.ended ("<set>:<n+1>", written last: a set with it is complete). A session that
/// uses the set names it in its session.started (`input_set`) and stores every event of
/// its log except the inputs the set holds, each with its stream sequence in its msg_id
/// ("<stream>:<seq>"). Its inputs are then the gaps of those sequences: the k-th gap after
/// its session.started is the set's k-th input (an input the session stored itself, e.g.
/// one that differed from the set's, takes its ordinal too).
///
/// Reading. open_session() reads a session as if it stored its inputs: the set's inputs
/// are put back into the gaps, with the msg_id of their place ("<stream>:<seq>") and the
/// session's id (their `position` is the set event's). Every traderctl command that reads
/// a session (show, export, diff, replay, backtest --session) reads it so. A session that
/// stores its inputs itself (an import of an export) reads as stored, its set present or not.
///
/// Thread-safety: none (one thread per reader, as eventstore::EventReader).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "eventstore/event_store.hpp"
#include "tooling/replay.hpp"
#include "workers/input_set.hpp"  // stream_seq_of, input_set_of, InputSetInputs

namespace services {

/// The id of the input set holding exactly `inputs`, in order: "inputs-" followed by
/// the first 32 hex digits of SHA-256 over each input's subject, a NUL, its payload and
/// a NUL. Pure.
std::string input_set_id(const std::vector<ReplayInput>& inputs);

/// Each input's digest as the recorder compares it: workers/input_set.hpp input_digest(). Pure.
std::vector<std::string> input_digests(const std::vector<ReplayInput>& inputs);

/// Makes sure the research store holds the input set `set` with `inputs`: if `reader`
/// (the store as the reader) finds it incomplete, appends through `writer` (the same
/// store as the writer, which may not read) whatever of it is missing, in order (its
/// session.started naming `data_source` and `version`, the inputs, its session.ended).
/// Idempotent (msg_id), so concurrent callers and a caller killed halfway are safe.
/// Returns the number of events appended (0: it was complete).
/// @throws eventstore::StoreUnavailable, std::runtime_error as EventStore::append.
std::int64_t ensure_input_set(eventstore::EventStore& reader, eventstore::EventStore& writer, const std::string& set,
                              const std::vector<ReplayInput>& inputs, const std::string& data_source,
                              const std::string& version);

/// True if `store` holds input set `set` complete (its session.ended written) and its
/// inputs are exactly `inputs` (subjects and payload bytes, in order): a replay of a
/// session that names `set` and publishes all of its inputs as read then shares it.
/// @throws eventstore::StoreUnavailable as EventStore::query.
bool input_set_holds(eventstore::EventStore& store, const std::string& set, const std::vector<ReplayInput>& inputs);

/// Reads session `session_id` in position order, a page of `page` events at a time,
/// with its input set's inputs back in its gaps (see the file comment). A session
/// without an input set is read as stored.
/// @throws std::runtime_error when the session has gaps its input set cannot fill (the
/// set is missing or shorter), naming both; StoreUnavailable as EventStore::query.
std::unique_ptr<eventstore::EventReader> open_session(eventstore::EventStore& store, const std::string& session_id,
                                                      std::size_t page = 10'000);

/// Calls `fn` for every event of the session as open_session() reads it.
void for_each_session_event(eventstore::EventStore& store, const std::string& session_id,
                            const std::function<void(eventstore::StoredEvent&)>& fn);

/// Sessions of `store` whose session.started names `set` as their input set.
std::vector<std::string> sessions_using_input_set(eventstore::EventStore& store, const std::string& set);

}  // namespace services
