#include "marketdata/actions.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string_view>

#include <fmt/format.h>

#include "core/time.hpp"
#include "subjects/subjects.hpp"

namespace marketdata {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.back() == '\r' || s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

std::vector<std::string_view> split_csv(std::string_view line) {
  std::vector<std::string_view> out;
  for (;;) {
    const auto comma = line.find(',');
    out.push_back(trim(line.substr(0, comma)));
    if (comma == std::string_view::npos) break;
    line.remove_prefix(comma + 1);
  }
  return out;
}

/// Strict YYYY-MM-DD, 1970-01-01 .. 2099-12-31, to 00:00 UTC in ns.
std::optional<core::TimestampNs> parse_date(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  int y = 0, m = 0, d = 0;
  auto digits = [&](std::size_t pos, std::size_t n, int& v) {
    if (s[pos] < '0' || s[pos] > '9') return false;
    const auto [p, ec] = std::from_chars(s.data() + pos, s.data() + pos + n, v);
    return ec == std::errc{} && p == s.data() + pos + n;
  };
  if (!digits(0, 4, y) || !digits(5, 2, m) || !digits(8, 2, d)) return std::nullopt;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (y < 1970 || y > 2099 || m < 1 || m > 12 || d < 1 || d > kDays[m - 1] + (m == 2 && leap ? 1 : 0))
    return std::nullopt;
  return core::days_from_civil_ns(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
}

std::optional<core::Decimal> positive_wire(std::string_view s) {
  auto d = core::Decimal::parse(s);
  if (!d || !d->is_positive() || !d->in_wire_range()) return std::nullopt;
  return d;
}

}  // namespace

std::optional<core::Decimal> parse_split_ratio(std::string_view text) {
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) return positive_wire(text);
  const auto n = positive_wire(text.substr(0, colon));
  const auto m = positive_wire(text.substr(colon + 1));
  if (!n || !m) return std::nullopt;
  try {
    const core::Decimal r = div(*n, *m);
    if (mul(r, *m) != *n || !r.is_positive() || !r.in_wire_range()) return std::nullopt;  // not exact in 8 digits
    return r;
  } catch (const core::ArithmeticError&) {
    return std::nullopt;
  }
}

std::vector<core::CorporateAction> read_actions(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  auto fail = [&](std::int64_t line, std::string_view col, const std::string& why) -> std::runtime_error {
    return std::runtime_error(fmt::format("{}: line {}: {}{}{}", path, line, col, col.empty() ? "" : ": ", why));
  };
  std::string raw;
  std::int64_t line = 0;
  int c_date = -1, c_symbol = -1, c_action = -1, c_value = -1;
  std::size_t columns = 0;
  std::vector<core::CorporateAction> out;
  while (std::getline(in, raw)) {
    ++line;
    if (raw.size() > 4096) throw fail(line, "", "line longer than 4096 bytes");
    const auto text = trim(raw);
    if (text.empty() || text.front() == '#') continue;
    const auto cells = split_csv(text);
    if (columns == 0) {  // the header
      for (std::size_t i = 0; i < cells.size(); ++i) {
        int* slot = cells[i] == "date" ? &c_date : cells[i] == "symbol" ? &c_symbol
                  : cells[i] == "action" ? &c_action : cells[i] == "value" ? &c_value : nullptr;
        if (slot == nullptr) continue;
        if (*slot >= 0) throw fail(line, cells[i], "column named twice");
        *slot = static_cast<int>(i);
      }
      for (auto [c, name] : {std::pair{c_date, "date"}, {c_symbol, "symbol"}, {c_action, "action"}, {c_value, "value"}})
        if (c < 0) throw fail(line, name, "missing from the header (need date,symbol,action,value)");
      columns = cells.size();
      continue;
    }
    if (cells.size() != columns)
      throw fail(line, "", fmt::format("{} columns, the header has {}", cells.size(), columns));
    core::CorporateAction a;
    const auto date = parse_date(cells[c_date]);
    if (!date) throw fail(line, "date", fmt::format("must be a date YYYY-MM-DD from 1970-01-01 to 2099-12-31, got {:?}", cells[c_date]));
    a.ts_event = *date;
    if (!subjects::is_valid_symbol(cells[c_symbol]))
      throw fail(line, "symbol", fmt::format("must be 1-64 characters from A-Z a-z 0-9 _ -, got {:?}", cells[c_symbol]));
    a.symbol = std::string(cells[c_symbol]);
    const auto kind = core::parse_action_kind(cells[c_action]);
    if (!kind) throw fail(line, "action", fmt::format("must be split or dividend, got {:?}", cells[c_action]));
    a.action = *kind;
    if (a.action == core::ActionKind::split) {
      a.ratio = parse_split_ratio(cells[c_value]);
      if (!a.ratio)
        throw fail(line, "value", fmt::format("a split ratio must be N:M (exact in 8 decimals) or a decimal > 0, got {:?}",
                                              cells[c_value]));
    } else {
      a.amount = positive_wire(cells[c_value]);
      if (!a.amount) throw fail(line, "value", fmt::format("a dividend must be a decimal > 0, got {:?}", cells[c_value]));
    }
    out.push_back(std::move(a));
  }
  if (columns == 0) throw fail(line, "", "no header (need date,symbol,action,value)");
  std::stable_sort(out.begin(), out.end(), [](const auto& x, const auto& y) { return x.ts_event < y.ts_event; });
  return out;
}

ActionSchedule::ActionSchedule(std::vector<core::CorporateAction> actions) : actions_(std::move(actions)) {
  std::stable_sort(actions_.begin(), actions_.end(), [](const auto& x, const auto& y) { return x.ts_event < y.ts_event; });
  for (const auto& a : actions_)
    if (a.action == core::ActionKind::split) splits_.emplace(a.symbol, a.ts_event);
}

std::vector<core::CorporateAction> ActionSchedule::due(core::TimestampNs ts) {
  std::vector<core::CorporateAction> out;
  while (next_ < actions_.size() && actions_[next_].ts_event < ts) out.push_back(actions_[next_++]);
  return out;
}

bool ActionSchedule::has_split(const std::string& symbol, core::TimestampNs day_start) const {
  return splits_.contains({symbol, day_start});
}

std::optional<std::string> SplitDetector::on_record(const core::MarketData& md) {
  const auto* b = std::get_if<core::Bar>(&md);
  if (b == nullptr || b->price_type != core::PriceType::trade || !b->ts_start ||
      b->ts_event - *b->ts_start < core::kNsPerDay)
    return std::nullopt;
  std::optional<std::string> warning;
  const auto it = last_close_.find(b->symbol);
  if (it != last_close_.end() && b->open.is_positive() &&
      !(schedule_ != nullptr && schedule_->has_split(b->symbol, *b->ts_start))) {
    struct Factor { const char* text; core::Decimal value; };
    static const Factor kFactors[] = {{"3:2", *core::Decimal::parse("1.5")}, {"2:1", core::Decimal::from_int(2)},
                                      {"3:1", core::Decimal::from_int(3)},   {"4:1", core::Decimal::from_int(4)},
                                      {"5:1", core::Decimal::from_int(5)},   {"7:1", core::Decimal::from_int(7)},
                                      {"8:1", core::Decimal::from_int(8)},   {"10:1", core::Decimal::from_int(10)},
                                      {"15:1", core::Decimal::from_int(15)}, {"20:1", core::Decimal::from_int(20)}};
    const core::Decimal tolerance = *core::Decimal::parse("0.05");
    const core::Decimal down = div(it->second, b->open);  // close / open: a split makes it about N:1
    const core::Decimal up = div(b->open, it->second);    // a reverse split
    for (const auto& f : kFactors) {
      const core::Decimal band = mul(f.value, tolerance);
      const bool forward = abs(down - f.value) <= band;
      if (!forward && abs(up - f.value) > band) continue;
      std::string ratio = f.text;
      if (!forward) ratio = ratio.substr(ratio.find(':') + 1) + ":" + ratio.substr(0, ratio.find(':'));
      warning = fmt::format(
          "suspected {} split of {} on {}: close {} then open {}; prices are not adjusted, so P&L across it is "
          "wrong unless an actions file declares it (docs/data-quality.md#corporate-actions); a crash or a jump "
          "that large looks the same",
          ratio, b->symbol, core::format_iso8601(*b->ts_start).substr(0, 10), it->second, b->open);
      break;
    }
  }
  last_close_[b->symbol] = b->close;
  return warning;
}

}  // namespace marketdata
