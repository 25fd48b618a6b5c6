/// @file report.hpp
/// @brief `traderctl report SESSION` and the analysis printed after a backtest: a
/// session's log, in event-time order, through analytics::Analyzer (issue 14;
/// docs/statistics.md).
///
/// Order: the recorder stores the log in the order it reached the stream; the workers
/// handle it by cause (docs/architecture.md, "Event time"). EventTimeLog sorts the whole
/// log by the key services::EventTimeOrder gives each message (root, stage, seq), so
/// marks and fills reach the Analyzer in the order the reporter handled them and its
/// totals are the reporter's. A message without a place in that order (session
/// metadata, metrics, a report recorded before causes existed) keeps its place after
/// the latest root before it.
///
/// Errors: what the store throws (StoreUnavailable, std::runtime_error "unknown session
/// ..."); std::runtime_error naming the file that cannot be written; std::invalid_argument
/// naming a bad flag. Thread-safety: none (one thread per call).
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "analytics/analytics.hpp"
#include "eventstore/event_store.hpp"

namespace services {

class EventTimeOrder;

/// A log held in memory (its bytes) until it is fed to an Analyzer in event-time order.
class EventTimeLog {
 public:
  EventTimeLog();
  ~EventTimeLog();
  /// One message of the log, in stream order: its stream sequence, subject and JSON.
  /// Progress markers are dropped (bookkeeping); a feed.summary is kept for its data quality.
  void add(std::uint64_t seq, std::string_view subject, std::string_view data);
  /// Feeds every message to `a` sorted by its event-time key (see the file comment), and
  /// the feed.summary's counts (if any) as its data quality.
  void feed(analytics::Analyzer& a) const;
  std::size_t size() const noexcept { return items_.size(); }

 private:
  struct Item {
    std::uint64_t root = 0;
    int stage = 0;
    std::uint64_t seq = 0;
    std::string subject;
    std::string data;
  };
  std::vector<Item> items_;
  std::unique_ptr<EventTimeOrder> order_;  ///< classifies (keys) each message, keeps every key
  std::uint64_t last_root_ = 0;
  std::string feed_summary_;
};

/// The analysis of a stored session (either store: the caller finds it), its inputs read
/// from its input set (tooling/input_sets.hpp). Title "<kind> of <data source>" from its
/// session.started (else the id); "final" iff it has a session.ended.
analytics::Analysis analyze_session(eventstore::EventStore& store, const std::string& session_id,
                                    const analytics::Settings& settings);

/// data_quality from a feed.summary payload: {"dropped":N,"flagged":N,"by_kind":[{"kind":
/// "...","count":N,"lines":[...]}]}; absent or malformed fields count 0. Never throws
/// (except std::bad_alloc).
analytics::DataQuality data_quality_of(std::string_view feed_summary_json);

/// The reporting flags of `report SESSION`, `backtest` and `replay`.
struct ReportFlags {
  std::string json;        ///< --json FILE ("-" = stdout; then the text goes to stderr); "" = none
  std::string trades_csv;  ///< --trades-csv FILE
  std::string equity_csv;  ///< --equity-csv FILE
  std::string html;        ///< --html FILE: the report page (pkg/reportpage, docs/report-page.md)
  analytics::Settings settings;  ///< --capital X, --periods-per-year N
  /// Where the text goes: stderr when the JSON goes to stdout, else stdout.
  std::FILE* text() const noexcept { return json == "-" ? stderr : stdout; }
};

/// If rest[i] is one of the reporting flags, reads it and its value (advancing i) and
/// returns true; else false. Throws std::invalid_argument for a missing or bad value
/// ("--capital: a positive decimal, got x").
/// `s` valuing in `v` (its base currency, quote currencies, multipliers, rates).
void use_valuation(analytics::Settings& s, const portfolio::Valuation& v);

bool parse_report_flag(const std::vector<std::string>& rest, std::size_t& i, ReportFlags& f);

/// Prints the analysis as text (to f.text()) and writes the JSON, the CSVs and the report
/// page where asked. Throws std::runtime_error naming a file it cannot write, or the
/// analysis the page refuses (reportpage::InvalidAnalysis).
void emit_analysis(const analytics::Analysis& a, const ReportFlags& f);

}  // namespace services
