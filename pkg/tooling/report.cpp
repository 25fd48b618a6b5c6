#include "tooling/report.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <tuple>

#include <fmt/format.h>
#include <simdjson.h>

#include "codec/codec.hpp"
#include "reportpage/report_page.hpp"
#include "subjects/subjects.hpp"
#include "tooling/input_sets.hpp"
#include "workers/event_time.hpp"
#include "workers/input_set.hpp"

namespace services {

namespace {
constexpr std::string_view kFeedSummary = "feed.summary";
constexpr int kStageOther = 5;  // after the cascade of the latest root
}  // namespace

EventTimeLog::EventTimeLog()
    : order_(std::make_unique<EventTimeOrder>("analytics", std::vector<EventTimeOrder::Upstream>{},
                                              [](int) { return std::optional<int>{}; })) {
  order_->keep_all_keys();  // a cause may come any number of events earlier
}

EventTimeLog::~EventTimeLog() = default;

void EventTimeLog::add(std::uint64_t seq, std::string_view subject, std::string_view data) {
  if (subject.starts_with(subjects::kProgressPrefix)) return;
  const auto role = order_->note(seq, subject, data);
  Item it{.root = last_root_, .stage = kStageOther, .seq = seq, .subject = std::string(subject), .data = {}};
  if (role == LogRole::root || role == LogRole::derived) {
    const auto k = *order_->key_of(seq);
    it.root = k.root;
    it.stage = k.stage;
    if (role == LogRole::root) last_root_ = std::max(last_root_, seq);
  } else if (subject != subjects::kSessionLifecycle && subject != subjects::kTradingExecutions) {
    // Only market data, execution reports and the session's end count (and feed.summary).
    if (data.find(kFeedSummary) != std::string_view::npos) {
      const auto env = codec::peek(data);
      if (env && env->type == kFeedSummary) feed_summary_ = std::string(data);
    }
    return;
  }
  if (!subject.starts_with(subjects::kMarketDataPrefix) && subject != subjects::kTradingExecutions &&
      subject != subjects::kSessionLifecycle)
    return;  // orders, approvals, risk.state: keyed (a later cause may name them), not analyzed
  it.data = std::string(data);
  items_.push_back(std::move(it));
}

void EventTimeLog::feed(analytics::Analyzer& a) const {
  std::vector<const Item*> sorted;
  sorted.reserve(items_.size());
  for (const auto& it : items_) sorted.push_back(&it);
  std::stable_sort(sorted.begin(), sorted.end(), [](const Item* x, const Item* y) {
    return std::tie(x->root, x->stage, x->seq) < std::tie(y->root, y->stage, y->seq);
  });
  for (const auto* it : sorted) a.on_event(it->subject, it->data);
  if (!feed_summary_.empty()) a.set_data_quality(data_quality_of(feed_summary_));
}

analytics::DataQuality data_quality_of(std::string_view json) {
  analytics::DataQuality dq;
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  if (parser.parse(json.data(), json.size()).get(e)) return dq;
  std::int64_t n = 0;
  if (!e["dropped"].get_int64().get(n)) dq.dropped = n;
  if (!e["flagged"].get_int64().get(n)) dq.flagged = n;
  simdjson::dom::array kinds;
  if (!e["by_kind"].get_array().get(kinds)) {
    for (auto k : kinds) {
      analytics::DataQualityKind out;
      std::string_view s;
      if (!k["kind"].get_string().get(s)) out.kind = std::string(s);
      if (!k["count"].get_int64().get(n)) out.count = n;
      simdjson::dom::array lines;
      if (!k["lines"].get_array().get(lines))
        for (auto l : lines)
          if (!l.get_int64().get(n)) out.lines.push_back(n);
      dq.by_kind.push_back(std::move(out));
    }
  }
  return dq;
}

analytics::Analysis analyze_session(eventstore::EventStore& store, const std::string& session_id,
                                    const analytics::Settings& settings) {
  EventTimeLog log;
  std::uint64_t fallback = 0;
  std::string title = session_id;
  codec::Decoder dec;
  bool any = false;
  for_each_session_event(store, session_id, [&](eventstore::StoredEvent& e) {
    any = true;
    const auto seq = stream_seq_of(e.msg_id);
    fallback = seq ? std::max(fallback, *seq) : fallback + 1;
    if (e.type == core::SessionStarted::kType) {
      if (auto l = dec.decode_session_lifecycle(e.payload))
        if (auto* s = std::get_if<core::SessionStarted>(&*l))
          title = s->data_source.empty() ? fmt::format("{} session {}", s->kind, session_id)
                                         : fmt::format("{} of {}", s->kind,
                                                       std::filesystem::path(s->data_source).filename().string());
    }
    log.add(seq ? *seq : fallback, e.subject, e.payload);
  });
  if (!any) throw std::runtime_error(fmt::format("unknown session {}: the store holds no event of it", session_id));
  analytics::Analyzer an(settings);
  log.feed(an);
  return an.analysis(title, session_id);
}

void use_valuation(analytics::Settings& s, const portfolio::Valuation& v) {
  s.valuation = v;
  if (!v.base_currency.empty()) s.base_currency = v.base_currency;
}

bool parse_report_flag(const std::vector<std::string>& rest, std::size_t& i, ReportFlags& f) {
  const auto& flag = rest[i];
  if (flag != "--json" && flag != "--trades-csv" && flag != "--equity-csv" && flag != "--html" &&
      flag != "--capital" && flag != "--periods-per-year")
    return false;
  if (i + 1 >= rest.size()) throw std::invalid_argument(flag + " needs a value");
  const auto& v = rest[++i];
  if (flag == "--json") {
    f.json = v;
  } else if (flag == "--trades-csv") {
    f.trades_csv = v;
  } else if (flag == "--equity-csv") {
    f.equity_csv = v;
  } else if (flag == "--html") {
    f.html = v;
  } else if (flag == "--capital") {
    const auto d = core::Decimal::parse(v);
    if (!d || !d->is_positive() || !d->in_wire_range())
      throw std::invalid_argument("--capital: a positive decimal (e.g. 1000000), got " + v);
    f.settings.starting_capital = *d;
  } else {
    char* end = nullptr;
    const long n = std::strtol(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0' || n < 0 || n > 100'000)
      throw std::invalid_argument("--periods-per-year: an integer 0..100000 (0 = auto: 365 or 252), got " + v);
    f.settings.periods_per_year = static_cast<int>(n);
  }
  return true;
}

namespace {

void write_file(const std::string& path, const std::string& text) {
  if (path == "-") {
    fmt::print("{}", text);
    std::fflush(stdout);
    return;
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) throw std::runtime_error("cannot write " + path);
}

}  // namespace

void emit_analysis(const analytics::Analysis& a, const ReportFlags& f) {
  fmt::print(f.text(), "{}", analytics::to_text(a));
  std::fflush(f.text());
  const std::string json = f.json.empty() && f.html.empty() ? std::string() : analytics::to_json(a);
  if (!f.json.empty()) write_file(f.json, json + "\n");
  if (!f.trades_csv.empty()) write_file(f.trades_csv, analytics::trades_csv(a));
  if (!f.equity_csv.empty()) write_file(f.equity_csv, analytics::equity_csv(a));
  if (!f.html.empty()) write_file(f.html, reportpage::render(json));
  if (!f.json.empty() && f.json != "-") fmt::print(f.text(), "analysis JSON written to {}\n", f.json);
  if (!f.html.empty() && f.html != "-") fmt::print(f.text(), "report page written to {}\n", f.html);
}

}  // namespace services
