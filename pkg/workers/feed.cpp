#include "workers/feed.hpp"

#include <chrono>
#include <thread>

#include <fmt/format.h>

#include "codec/codec.hpp"
#include "marketdata/actions.hpp"
#include "marketdata/reader.hpp"
#include "subjects/subjects.hpp"

namespace services {

FeedSummary run_feed(Runtime& rt, const FeedConfig& cfg, const std::atomic<bool>& stop) {
  marketdata::Reader reader(cfg.path);
  marketdata::ActionSchedule actions(cfg.actions_path.empty() ? std::vector<core::CorporateAction>{}
                                                              : marketdata::read_actions(cfg.actions_path));
  marketdata::SplitDetector splits(&actions);
  FeedSummary sum;
  sum.format = std::string(marketdata::to_string(reader.format()));
  const auto wall_start = std::chrono::steady_clock::now();
  core::TimestampNs first_ts = 0;
  std::string subject;
  const std::string source = "file:" + cfg.path;
  while (!stop.load(std::memory_order_relaxed)) {
    auto rec = reader.next();
    if (!rec) break;
    if (!*rec) {
      ++sum.bad_rows;
      rt.dead_letter(source, rec->error(), "");
      continue;
    }
    const auto& md = rec->value();
    const auto ts = std::visit([](const auto& x) { return x.ts_event; }, md);
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
    if (cfg.limit > 0 && sum.published >= cfg.limit) break;
  }
  rt.bus().flush(30'000);
  sum.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  return sum;
}

}  // namespace services
