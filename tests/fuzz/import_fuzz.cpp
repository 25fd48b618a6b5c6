// Fuzz harness "import": `traderctl import FILE`, i.e. services::import_session
// into an eventstore::MemoryStore (docs/fuzzing.md).
//
// Input: the JSON Lines text of a session export. The harness gzips it (as
// export_session writes it) into a memfd and imports that; input that already
// starts with the gzip magic is written as it is, so the fuzzer also reaches
// corrupt gzip streams (and import reads plain text too: gzread is transparent).
//
// Properties checked (a failure traps, so libFuzzer keeps the input):
//  - import never crashes, hits a sanitizer report or throws anything but the
//    std::runtime_error it documents for a refused file;
//  - an accepted file stores every event once: importing it again stores nothing;
//  - export_session of the imported session, imported into a fresh store, gives
//    the same events (msg_id, subject, type, client_order_id, ts_event, payload).
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "eventstore/event_store.hpp"
#include "fuzz_support.hpp"
#include "tooling/sessions.hpp"

namespace {

using fuzz::check;
using fuzz::fail;

std::vector<eventstore::StoredEvent> session_events(eventstore::EventStore& store, const std::string& session_id) {
  std::vector<eventstore::StoredEvent> out;
  eventstore::for_each(store, {.session_id = session_id}, [&](eventstore::StoredEvent& e) { out.push_back(std::move(e)); });
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const fuzz::MemFile file(fuzz::is_gzip(in) ? std::string(in) : fuzz::gzip(in));
  eventstore::MemoryStore store;
  services::ImportSummary sum;
  try {
    sum = services::import_session(store, file.path());
  } catch (const std::runtime_error&) {
    return 0;  // a refused file: documented
  }
  // A file that repeats a msg_id is refused (finding F2, fixed): a fresh store takes every event.
  check(sum.stored == sum.events && store.count() == sum.stored,
        fmt::format("a fresh store took {} of {} events (count {})", sum.stored, sum.events, store.count()));
  const auto first = session_events(store, sum.session_id);
  check(static_cast<std::int64_t>(first.size()) == sum.stored, "the session holds another number of events than were stored");

  // Running the same import again stores nothing twice.
  services::ImportSummary again;
  try {
    again = services::import_session(store, file.path());
  } catch (const std::exception& e) {
    fail(fmt::format("importing an accepted file again fails: {}", e.what()));
  }
  check(again.stored == 0 && again.events == sum.events && again.session_id == sum.session_id,
        fmt::format("importing again stored {} of {} events", again.stored, again.events));
  if (sum.stored == 0) return 0;  // export needs a session with events

  // export, then import into a fresh store: the same events.
  const fuzz::MemFile exported;
  eventstore::MemoryStore copy;
  try {
    const auto n = services::export_session(store, sum.session_id, exported.path());
    check(n == sum.stored, fmt::format("export wrote {} of {} events", n, sum.stored));
    const auto back = services::import_session(copy, exported.path());
    check(back.session_id == sum.session_id && back.stored == sum.stored, "re-import of the export differs in its summary");
  } catch (const std::exception& e) {
    fail(fmt::format("export and re-import of an accepted file fails: {}", e.what()));
  }
  const auto second = session_events(copy, sum.session_id);
  check(second == first, "export and re-import changes the events");
  return 0;
}
