#include "tooling/sessions.hpp"
#include "tooling/input_sets.hpp"

#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <unordered_map>

#include <fmt/format.h>
#include <simdjson.h>
#include <zlib.h>

#include "codec/codec.hpp"

namespace services {
namespace {

constexpr std::string_view kImportPrefix = "import:";

struct GzCloser {
  void operator()(gzFile f) const noexcept { gzclose(f); }
};
using Gz = std::unique_ptr<std::remove_pointer_t<gzFile>, GzCloser>;

}  // namespace

SessionInfo describe_session(eventstore::EventStore& store, const std::string& session_id) {
  SessionInfo info;
  bool found = false;
  for (const auto& s : store.sessions()) {
    if (s.session_id == session_id) {
      info.summary = s;
      found = true;
    }
  }
  if (!found) throw std::runtime_error(fmt::format("unknown session {}: the store holds no event of it", session_id));
  codec::Decoder dec;
  eventstore::EventQuery q{.session_id = session_id, .type = "session.started"};
  eventstore::for_each(store, q, [&](const eventstore::StoredEvent& e) {
    if (auto l = dec.decode_session_lifecycle(e.payload))
      if (auto* s = std::get_if<core::SessionStarted>(&*l); s && !info.started) info.started = *s;
  });
  q.type = "session.ended";
  eventstore::for_each(store, q, [&](const eventstore::StoredEvent& e) {
    if (auto l = dec.decode_session_lifecycle(e.payload))
      if (auto* s = std::get_if<core::SessionEnded>(&*l)) info.ended = *s;
  });
  if (info.started && !info.started->input_set.empty()) {
    // Its inputs are in its input set: counted as the session reads them (input_sets.hpp).
    std::map<std::string, std::int64_t> counts;
    for_each_session_event(store, session_id, [&](const eventstore::StoredEvent& e) { ++counts[e.type]; });
    info.counts_by_type.assign(counts.begin(), counts.end());
  } else {
    info.counts_by_type = store.count_by_type(session_id);
  }
  std::map<std::string, core::WorkerStarted> workers;
  q.type = "worker.started";
  eventstore::for_each(store, q, [&](const eventstore::StoredEvent& e) {
    if (auto w = dec.decode_worker_started(e.payload)) workers[w->worker] = *w;
  });
  for (auto& [name, w] : workers) info.workers.push_back(std::move(w));
  // The newest final report, else the newest interim metrics.
  for (const auto type : {core::PerformanceReport::kReportType, core::PerformanceReport::kMetricsType}) {
    q.type = std::string(type);
    eventstore::for_each(store, q, [&](const eventstore::StoredEvent& e) {
      if (auto r = dec.decode_performance(e.payload)) info.report = *r;
    });
    if (info.report) break;
  }
  return info;
}

std::int64_t export_session(eventstore::EventStore& store, const std::string& session_id, const std::string& path) {
  if (store.query({.session_id = session_id, .limit = 1}).empty())
    throw std::runtime_error(fmt::format("unknown session {}: the store holds no event of it", session_id));
  Gz out(gzopen(path.c_str(), "wb6"));
  if (!out) throw std::runtime_error(fmt::format("cannot write {}", path));
  std::string line;
  const auto write = [&] {
    line += '\n';
    if (gzwrite(out.get(), line.data(), static_cast<unsigned>(line.size())) != static_cast<int>(line.size()))
      throw std::runtime_error(fmt::format("cannot write {}", path));
    line.clear();
  };
  line = R"({"type":"session.export","v":1,"session_id":)";
  codec::append_json_string(line, session_id);
  line += '}';
  write();
  std::int64_t n = 0;
  for_each_session_event(store, session_id, [&](const eventstore::StoredEvent& e) {  // its inputs included
    line += R"({"msg_id":)";
    codec::append_json_string(line, e.msg_id);
    line += R"(,"session_id":)";
    codec::append_json_string(line, session_id);
    line += R"(,"subject":)";
    codec::append_json_string(line, e.subject);
    line += R"(,"type":)";
    codec::append_json_string(line, e.type);
    line += R"(,"client_order_id":)";
    if (e.client_order_id) codec::append_json_string(line, *e.client_order_id);
    else line += "null";
    line += R"(,"ts_event":)";
    line += e.ts_event ? std::to_string(*e.ts_event) : std::string("null");
    line += R"(,"payload":)";
    line += e.payload;
    line += '}';
    write();
    ++n;
  });
  line = fmt::format(R"({{"type":"session.export.end","events":{}}})", n);
  write();
  if (gzclose(out.release()) != Z_OK) throw std::runtime_error(fmt::format("cannot write {}", path));
  return n;
}

namespace {

std::string read_gz(const std::string& path) {
  Gz in(gzopen(path.c_str(), "rb"));
  if (!in) throw std::runtime_error(fmt::format("cannot read {}", path));
  std::string text;
  char buf[1 << 16];
  int n;
  while ((n = gzread(in.get(), buf, sizeof buf)) > 0) text.append(buf, static_cast<std::size_t>(n));
  if (n < 0) throw std::runtime_error(fmt::format("{}: not a readable gzip file", path));
  return text;
}

/// Throws "FILE:LINE: field: problem".
[[noreturn]] void bad(const std::string& path, std::size_t line, std::string_view field, std::string_view problem) {
  throw std::runtime_error(fmt::format("{}:{}: {}: {}", path, line, field, problem));
}

/// Where import first read a msg_id: its line, and whether the file wrote it with
/// the import prefix ("import:m1") or without ("m1").
struct FirstSeen {
  std::size_t line;
  bool prefixed;
};

/// `"m1" repeats line 2`, for a msg_id (`stored`, with the import prefix) read again;
/// `prefixed`: how this line writes it.
std::string repeated_msg_id(std::string_view stored, bool prefixed, const FirstSeen& first) {
  const auto as_written = [&](bool p) { return p ? stored : stored.substr(kImportPrefix.size()); };
  std::string out;
  codec::append_json_string(out, as_written(prefixed));
  out += fmt::format(" repeats line {}", first.line);
  if (first.prefixed != prefixed) {
    out += " (";
    codec::append_json_string(out, as_written(first.prefixed));
    out += ", both imported as ";
    codec::append_json_string(out, stored);
    out += ')';
  }
  return out;
}

}  // namespace

ImportSummary import_session(eventstore::EventStore& reader, eventstore::EventStore& writer, const std::string& path,
                             const std::function<void(const std::string&)>& check_session) {
  const std::string text = read_gz(path);
  simdjson::ondemand::parser parser;
  ImportSummary sum;
  std::vector<eventstore::NewEvent> events;
  // Stored msg_id -> where it was first read. An export never repeats one; the store
  // would keep the first event and drop the repeat without a word.
  std::unordered_map<std::string, FirstSeen> first_seen;
  bool ended = false;
  std::size_t lineno = 0;
  for (std::size_t begin = 0; begin < text.size();) {
    auto end = text.find('\n', begin);
    if (end == std::string::npos) end = text.size();
    const std::string_view raw(text.data() + begin, end - begin);
    begin = end + 1;
    ++lineno;
    if (raw.empty()) continue;
    if (ended) bad(path, lineno, "", "text after the end line");
    const simdjson::padded_string padded(raw);
    auto doc = parser.iterate(padded);
    simdjson::ondemand::object obj;
    if (doc.get_object().get(obj)) bad(path, lineno, "", "not a JSON object");
    const auto str = [&](std::string_view field) -> std::string {
      std::string_view v;
      if (obj[field].get_string().get(v)) bad(path, lineno, field, "missing or not a string");
      return std::string(v);
    };
    if (lineno == 1) {
      if (str("type") != "session.export") bad(path, lineno, "type", "not a session export (expected session.export)");
      sum.session_id = str("session_id");
      continue;
    }
    // Event lines have no "type" first; the end line does.
    std::string_view first_key;
    {
      auto it = obj.begin();
      if (it == obj.end()) bad(path, lineno, "", "empty object");
      auto field = *it;
      if (field.error()) bad(path, lineno, "", "malformed JSON");
      first_key = field.unescaped_key().value_unsafe();
    }
    obj.reset();
    if (first_key == "type") {
      std::int64_t n = 0;
      if (str("type") != "session.export.end") bad(path, lineno, "type", "expected session.export.end");
      if (obj["events"].get_int64().get(n)) bad(path, lineno, "events", "missing or not an integer");
      if (n != static_cast<std::int64_t>(events.size()))
        bad(path, lineno, "events", fmt::format("says {} events, the file holds {}", n, events.size()));
      ended = true;
      continue;
    }
    eventstore::NewEvent e;
    e.msg_id = str("msg_id");
    const bool prefixed = e.msg_id.starts_with(kImportPrefix);
    if (!prefixed) e.msg_id.insert(0, kImportPrefix);
    if (const auto [it, fresh] = first_seen.try_emplace(e.msg_id, FirstSeen{lineno, prefixed}); !fresh)
      bad(path, lineno, "msg_id", repeated_msg_id(e.msg_id, prefixed, it->second));
    e.session_id = str("session_id");
    if (*e.session_id != sum.session_id) bad(path, lineno, "session_id", fmt::format("is not {}", sum.session_id));
    e.subject = str("subject");
    e.type = str("type");
    {
      auto v = obj["client_order_id"];
      bool is_null = false;
      if (v.is_null().get(is_null)) bad(path, lineno, "client_order_id", "missing");
      if (!is_null) e.client_order_id = str("client_order_id");
    }
    {
      auto v = obj["ts_event"];
      bool is_null = false;
      if (v.is_null().get(is_null)) bad(path, lineno, "ts_event", "missing");
      if (!is_null) {
        std::int64_t ts = 0;
        if (obj["ts_event"].get_int64().get(ts)) bad(path, lineno, "ts_event", "not an integer");
        e.ts_event = ts;
      }
    }
    std::string_view payload;
    simdjson::ondemand::object payload_obj;
    if (obj["payload"].get_object().get(payload_obj) || payload_obj.raw_json().get(payload))
      bad(path, lineno, "payload", "missing or not a JSON object");
    e.payload = std::string(payload);
    events.push_back(std::move(e));
  }
  if (sum.session_id.empty()) bad(path, 1, "", "empty file (no session.export header)");
  if (!ended) bad(path, lineno, "", "truncated: no session.export.end line");
  sum.events = static_cast<std::int64_t>(events.size());

  if (check_session) check_session(sum.session_id);
  // Never mix two copies of a session: events of it already in the store must
  // come from an earlier run of this same import.
  std::set<std::string_view> ours;
  for (const auto& e : events) ours.insert(e.msg_id);
  eventstore::for_each(reader, {.session_id = sum.session_id}, [&](const eventstore::StoredEvent& e) {
    if (!ours.contains(e.msg_id))
      throw std::runtime_error(fmt::format("session {} is already in this store (event {}); not imported again",
                                           sum.session_id, e.msg_id));
  });
  for (std::size_t i = 0; i < events.size(); i += 500) {
    const std::vector<eventstore::NewEvent> batch(events.begin() + static_cast<std::ptrdiff_t>(i),
                                                  events.begin() + static_cast<std::ptrdiff_t>(std::min(events.size(), i + 500)));
    sum.stored += static_cast<std::int64_t>(writer.append(batch));
  }
  return sum;
}

}  // namespace services
