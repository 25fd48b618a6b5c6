#include "workers/feed.hpp"

#include <chrono>
#include <thread>

#include <fmt/format.h>

#include "codec/codec.hpp"
#include "marketdata/actions.hpp"
#include "marketdata/reader.hpp"
#include "subjects/subjects.hpp"

namespace services {

std::vector<config::Option> feed_options() {
  return {{"quality", "FEED_QUALITY", "",
           "data-quality policy: kind=drop|flag,... (kinds non_positive, crossed, inconsistent, backward, outlier; "
           "outlier_window=N, outlier_k=X, outlier_floor_bps=X); \"\" = drop all but outliers, flag outliers"}};
}

marketdata::quality::Policy quality_policy_from(const config::Settings& s) {
  try {
    return marketdata::quality::Policy::parse(s.get("quality"));
  } catch (const std::invalid_argument& e) {
    throw config::ConfigError(e.what());
  }
}

core::FeedSummaryEvent summary_event(const FeedSummary& sum, const FeedConfig& cfg, core::TimestampNs last_ts) {
  core::FeedSummaryEvent e{.data_source = cfg.path,
                           .format = sum.format,
                           .published = sum.published,
                           .quotes = sum.quotes,
                           .trades = sum.trades,
                           .bars = sum.bars,
                           .bad_rows = sum.bad_rows,
                           .dropped = sum.quality.dropped,
                           .flagged = sum.quality.flagged,
                           .policy = cfg.quality.to_string(),
                           .ts_event = last_ts};
  for (std::size_t i = 0; i < marketdata::quality::kKinds; ++i) {
    if (sum.quality.count[i] == 0) continue;
    e.by_kind.push_back({.kind = std::string(marketdata::quality::to_string(static_cast<marketdata::quality::Kind>(i))),
                          .count = sum.quality.count[i],
                          .lines = sum.quality.first_lines[i]});
  }
  return e;
}

FeedSummary run_feed(Runtime& rt, const FeedConfig& cfg, const std::atomic<bool>& stop) {
  marketdata::quality::CheckedReader reader(cfg.path, cfg.quality);
  marketdata::ActionSchedule actions(cfg.actions_path.empty() ? std::vector<core::CorporateAction>{}
                                                              : marketdata::read_actions(cfg.actions_path));
  marketdata::SplitDetector splits(&actions);
  FeedSummary sum;
  sum.format = std::string(marketdata::to_string(reader.reader().format()));
  const auto wall_start = std::chrono::steady_clock::now();
  core::TimestampNs first_ts = 0, last_ts = 0;
  std::string subject;
  const std::string source = "file:" + cfg.path;
  // Publishes one record; true when the limit is reached.
  auto publish = [&](const core::MarketData& md) {
    const auto ts = std::visit([](const auto& x) { return x.ts_event; }, md);
    last_ts = ts;
    if (cfg.speed > 0) {
      if (first_ts == 0) first_ts = ts;
      const auto offset = std::chrono::nanoseconds(static_cast<std::int64_t>(static_cast<double>(ts - first_ts) / cfg.speed));
      std::this_thread::sleep_until(wall_start + offset);
    }
    for (const auto& a : actions.due(ts)) {
      subject.assign(subjects::kMarketDataPrefix);
      subject.append(a.symbol);
      rt.publish(subject, codec::encode(a));
      ++sum.actions;
      ++sum.published;
      if (cfg.after_each) cfg.after_each();
    }
    if (auto w = splits.on_record(md)) {
      rt.log().warn(*w);
      sum.warnings.push_back(std::move(*w));
    }
    const auto& symbol = std::visit([](const auto& x) -> const std::string& { return x.symbol; }, md);
    subject.assign(subjects::kMarketDataPrefix);
    subject.append(symbol);
    std::visit([&](const auto& x) { rt.publish_market(subject, md, codec::encode(x)); }, md);
    ++sum.published;
    if (cfg.after_each) cfg.after_each();
    switch (md.index()) {
      case 0: ++sum.quotes; break;
      case 1: ++sum.trades; break;
      default: ++sum.bars; break;
    }
    return cfg.limit > 0 && sum.published >= cfg.limit;
  };
  bool done = false;
  while (!done && !stop.load(std::memory_order_relaxed)) {
    auto row = reader.next();
    if (!row) break;
    if (row->error) {
      ++sum.bad_rows;
      rt.dead_letter(source, *row->error, "");
      continue;
    }
    // Dropped or flagged: reported with its line (a flagged row is published next).
    if (row->finding) rt.dead_letter(source, core::Error{row->finding->field, row->finding->message}, "");
    for (const auto& md : row->records)
      if ((done = publish(md))) break;
  }
  sum.quality = reader.check().counts();
  rt.publish(subjects::session_worker(rt.worker()), codec::encode(summary_event(sum, cfg, last_ts)));
  rt.bus().flush(30'000);
  sum.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  return sum;
}

}  // namespace services
