#include "marketdata/quality.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <stdexcept>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace marketdata::quality {

std::string_view to_string(Kind k) noexcept {
  switch (k) {
    case Kind::non_positive: return "non_positive";
    case Kind::crossed: return "crossed";
    case Kind::inconsistent: return "inconsistent";
    case Kind::backward: return "backward";
    case Kind::outlier: return "outlier";
  }
  return "unknown";
}

std::string_view to_string(Action a) noexcept { return a == Action::drop ? "drop" : "flag"; }

namespace {

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

constexpr std::array<Kind, kKinds> kAllKinds = {Kind::non_positive, Kind::crossed, Kind::inconsistent, Kind::backward,
                                                Kind::outlier};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

/// A finite double from the whole of `s` (strtod: from_chars for doubles is not in every
/// standard library the project builds with).
std::optional<double> parse_double(std::string_view s) {
  if (s.empty() || s.size() > 32) return std::nullopt;
  const std::string text(s);
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

double to_double(core::Decimal d) { return static_cast<double>(d.raw()) / static_cast<double>(core::Decimal::kOne); }

/// The bar column's name: "close", or "bid_close" / "ask_close" in a bid/ask bar file.
std::string bar_field(const core::Bar& b, std::string_view column) {
  switch (b.price_type) {
    case core::PriceType::bid: return fmt::format("bid_{}", column);
    case core::PriceType::ask: return fmt::format("ask_{}", column);
    default: return std::string(column);
  }
}

/// The first inconsistency of a bar (the texts of core::MarketCheck), with its column.
std::optional<std::pair<std::string, std::string>> inconsistent(const core::Bar& b) {
  const auto side = b.price_type == core::PriceType::bid   ? "bid "
                    : b.price_type == core::PriceType::ask ? "ask "
                                                           : "";
  if (b.high < b.low)
    return std::pair{bar_field(b, "high"), fmt::format("inconsistent {}bar: high {} below low {}", side, b.high, b.low)};
  if (b.open > b.high)
    return std::pair{bar_field(b, "open"), fmt::format("inconsistent {}bar: open {} above high {}", side, b.open, b.high)};
  if (b.open < b.low)
    return std::pair{bar_field(b, "open"), fmt::format("inconsistent {}bar: open {} below low {}", side, b.open, b.low)};
  if (b.close > b.high)
    return std::pair{bar_field(b, "close"),
                     fmt::format("inconsistent {}bar: close {} above high {}", side, b.close, b.high)};
  if (b.close < b.low)
    return std::pair{bar_field(b, "close"),
                     fmt::format("inconsistent {}bar: close {} below low {}", side, b.close, b.low)};
  return std::nullopt;
}

}  // namespace

Policy Policy::parse(std::string_view spec) {
  Policy p;
  auto bad = [&](std::string_view item, std::string_view why) {
    throw std::invalid_argument(fmt::format("quality: {} \"{}\" (items: non_positive|crossed|inconsistent|backward|"
                                            "outlier=drop|flag, outlier_window=N, outlier_k=X, outlier_floor_bps=X)",
                                            why, item));
  };
  while (!spec.empty()) {
    const auto comma = spec.find(',');
    const auto item = trim(spec.substr(0, comma));
    spec = comma == std::string_view::npos ? std::string_view() : spec.substr(comma + 1);
    if (item.empty()) continue;
    const auto eq = item.find('=');
    if (eq == std::string_view::npos) bad(item, "expected key=value, got");
    const auto key = trim(item.substr(0, eq));
    const auto value = trim(item.substr(eq + 1));
    if (key == "outlier_window") {
      int w = 0;
      const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), w);
      if (ec != std::errc{} || ptr != value.data() + value.size() || w < 1 || w > 100'000)
        bad(item, "outlier_window must be an integer from 1 to 100000, got");
      p.outlier.window = w;
      continue;
    }
    if (key == "outlier_k") {
      const auto k = parse_double(value);
      if (!k || *k <= 0) bad(item, "outlier_k must be a number > 0, got");
      p.outlier.k = *k;
      continue;
    }
    if (key == "outlier_floor_bps") {
      const auto f = parse_double(value);
      if (!f || *f < 0) bad(item, "outlier_floor_bps must be a number >= 0, got");
      p.outlier.floor_bps = *f;
      continue;
    }
    const auto kind = std::find_if(kAllKinds.begin(), kAllKinds.end(), [&](Kind k) { return quality::to_string(k) == key; });
    if (kind == kAllKinds.end()) bad(item, "unknown item");
    Action a = Action::drop;
    if (value == "drop") {
      a = Action::drop;
    } else if (value == "flag") {
      a = Action::flag;
    } else {
      bad(item, "the action must be drop or flag, got");
    }
    if (*kind == Kind::non_positive && a == Action::flag)
      bad(item, "a price <= 0 cannot be published (the decoders refuse it): non_positive is always drop, got");
    p.action[static_cast<std::size_t>(*kind)] = a;
  }
  return p;
}

std::string Policy::to_string() const {
  std::string out;
  for (const auto k : kAllKinds) out += fmt::format("{}={},", quality::to_string(k), quality::to_string((*this)[k]));
  out += fmt::format("outlier_window={},outlier_k={},outlier_floor_bps={}", outlier.window, outlier.k, outlier.floor_bps);
  return out;
}

std::string Counts::to_string() const {
  if (total() == 0) return "none";
  std::string out;
  for (const auto k : kAllKinds) {
    const auto i = static_cast<std::size_t>(k);
    if (count[i] == 0) continue;
    if (!out.empty()) out += ", ";
    out += fmt::format("{} {} (line{} {}{})", quality::to_string(k), count[i], count[i] > 1 ? "s" : "",
                       fmt::join(first_lines[i], ", "), count[i] > static_cast<std::int64_t>(first_lines[i].size()) ? ", ..." : "");
  }
  out += fmt::format("; dropped {}, flagged {}", dropped, flagged);
  return out;
}

Check::Check(Policy policy, std::string time_field) : policy_(std::move(policy)), time_field_(std::move(time_field)) {
  if (policy_.outlier.window < 1) throw std::invalid_argument("quality: outlier_window must be >= 1");
  if (!(policy_.outlier.k > 0)) throw std::invalid_argument("quality: outlier_k must be > 0");
  if (!(policy_.outlier.floor_bps >= 0)) throw std::invalid_argument("quality: outlier_floor_bps must be >= 0");
  if (policy_[Kind::non_positive] != Action::drop)
    throw std::invalid_argument("quality: non_positive is always drop");
}

Finding Check::record(Kind kind, std::int64_t line, std::string field, std::string_view what) {
  const auto i = static_cast<std::size_t>(kind);
  const auto action = policy_[kind];
  ++counts_.count[i];
  if (counts_.first_lines[i].size() < Counts::kLinesKept) counts_.first_lines[i].push_back(line);
  ++(action == Action::drop ? counts_.dropped : counts_.flagged);
  return Finding{.kind = kind,
                 .action = action,
                 .line = line,
                 .field = std::move(field),
                 .message = fmt::format("line {}: {} ({})", line, what, action == Action::drop ? "dropped" : "flagged")};
}

Finding Check::non_positive(const core::Error& reader_error, std::int64_t line) {
  // The Reader's message starts with "line N: "; the finding says it once.
  std::string_view what = reader_error.message;
  if (const auto prefix = fmt::format("line {}: ", line); what.starts_with(prefix)) what.remove_prefix(prefix.size());
  return record(Kind::non_positive, line, reader_error.field, what);
}

std::optional<std::pair<std::string, std::string>> Check::outlier(const core::MarketData& md) {
  int series = 0;
  double p = 0, bid = 0, ask = 0;
  std::string field;
  const std::string* symbol = nullptr;
  std::visit(Overloaded{[&](const core::Quote& q) {
                                series = 0;
                                bid = to_double(q.bid);
                                ask = to_double(q.ask);
                                p = (bid + ask) / 2;
                                symbol = &q.symbol;
                              },
                              [&](const core::Trade& t) {
                                series = 1;
                                p = to_double(t.price);
                                field = "price";
                                symbol = &t.symbol;
                              },
                              [&](const core::Bar& b) {
                                series = 2 + static_cast<int>(b.price_type);
                                p = to_double(b.close);
                                field = bar_field(b, "close");
                                symbol = &b.symbol;
                              }},
             md);
  auto& s = series_[{*symbol, series}];
  const auto w = static_cast<std::size_t>(policy_.outlier.window);
  auto accept = [&](std::optional<double> r) {
    if (r) {
      if (s.window.size() < w) {
        s.window.push_back(*r);
      } else {
        s.window[s.next] = *r;
        s.next = (s.next + 1) % w;
      }
    }
    s.ref = p;
    s.ref_bid = bid;
    s.ref_ask = ask;
    s.outlier.reset();
  };
  if (s.ref <= 0) {
    accept(std::nullopt);
    return std::nullopt;
  }
  const double r = std::fabs(p / s.ref - 1);
  if (s.window.size() < w) {  // warm-up
    accept(r);
    return std::nullopt;
  }
  double sum = 0;
  for (const double x : s.window) sum += x;  // in ring order: the same sum for the same file
  const double mean = sum / static_cast<double>(w);
  const double threshold = policy_.outlier.k * std::max(mean, policy_.outlier.floor_bps / 10'000);
  if (r <= threshold) {
    accept(r);
    return std::nullopt;
  }
  if (s.outlier) {
    const double from_outlier = std::fabs(p / *s.outlier - 1);
    if (from_outlier <= threshold) {  // a level shift: two prints agree on the new level
      accept(from_outlier);
      return std::nullopt;
    }
  }
  s.outlier = p;
  if (series == 0) field = std::fabs(bid - s.ref_bid) >= std::fabs(ask - s.ref_ask) ? "bid" : "ask";
  const auto what = series == 0 ? fmt::format("{} quote mid {}", *symbol, p) : fmt::format("{} {} {}", *symbol, field, p);
  return std::pair{field, fmt::format("outlier: {} moves {:.4g}% from {} (limit {} x mean |return| {:.4g}% of the "
                                      "last {} = {:.4g}%)",
                                      what, 100 * r, s.ref, policy_.outlier.k, 100 * mean, w, 100 * threshold)};
}

std::optional<Finding> Check::check_row(std::span<const core::MarketData> row, std::int64_t line) {
  if (row.empty()) return std::nullopt;
  const auto& symbol = std::visit([](const auto& x) -> const std::string& { return x.symbol; }, row.front());
  const auto ts = std::visit([](const auto& x) { return x.ts_event; }, row.front());
  const auto [it, fresh] = last_ts_.try_emplace(symbol, ts);
  const bool backward = !fresh && ts < it->second;
  auto move_time = [&, it = it] {
    if (!backward) it->second = ts;
  };

  // crossed
  for (const auto& md : row) {
    if (const auto* q = std::get_if<core::Quote>(&md); q && q->bid > q->ask) {
      move_time();
      return record(Kind::crossed, line, "bid", fmt::format("crossed quote: bid {} above ask {}", q->bid, q->ask));
    }
  }
  if (row.size() == 2) {
    const auto* b = std::get_if<core::Bar>(&row[0]);
    const auto* a = std::get_if<core::Bar>(&row[1]);
    if (b && a && b->price_type == core::PriceType::bid && a->price_type == core::PriceType::ask && b->close > a->close) {
      move_time();
      return record(Kind::crossed, line, "bid_close",
                    fmt::format("crossed bar: bid close {} above ask close {}", b->close, a->close));
    }
  }
  // inconsistent
  for (const auto& md : row) {
    if (const auto* b = std::get_if<core::Bar>(&md)) {
      if (auto bad = inconsistent(*b)) {
        move_time();
        return record(Kind::inconsistent, line, std::move(bad->first), bad->second);
      }
    }
  }
  // backward
  if (backward) {
    return record(Kind::backward, line, time_field_,
                  fmt::format("ts_event {} steps back from {} ({})", ts, it->second, symbol));
  }
  it->second = ts;
  // outlier: every series of the row is updated, the first outlier is reported
  std::optional<std::pair<std::string, std::string>> found;
  for (const auto& md : row) {
    auto o = outlier(md);
    if (o && !found) found = std::move(o);
  }
  if (found) return record(Kind::outlier, line, std::move(found->first), found->second);
  return std::nullopt;
}

CheckedReader::CheckedReader(const std::string& path, Policy policy)
    : reader_(path), check_(std::move(policy), reader_.format() == Format::daily_bars ? "date" : "ts_event") {}

std::optional<Row> CheckedReader::next() {
  auto rec = reader_.next();
  if (!rec) return std::nullopt;
  Row row{.line = reader_.line()};
  if (!*rec) {
    if (reader_.last_bad_row() == Reader::BadRow::non_positive_price) {
      row.finding = check_.non_positive(rec->error(), row.line);
    } else {
      row.error = std::move(rec->error());
    }
    return row;
  }
  row.records.push_back(std::move(rec->value()));
  if (reader_.format() == Format::bars_bid_ask) {  // its ask bar, from the same line
    auto ask = reader_.next();
    if (ask && *ask) row.records.push_back(std::move(ask->value()));
  }
  row.finding = check_.check_row(row.records, row.line);
  if (row.finding && row.finding->action == Action::drop) row.records.clear();
  return row;
}

}  // namespace marketdata::quality
