#include "tooling/sweep.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <atomic>
#include <set>
#include <stdexcept>
#include <thread>
#include <utility>

#include <fmt/format.h>

#include "tooling/report.hpp"

namespace services {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

double to_double(core::Decimal d) { return static_cast<double>(d.raw()) / static_cast<double>(core::Decimal::kOne); }

/// A CSV cell: quoted when it holds a comma, a quote or a line break.
std::string csv_cell(std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + '"';
}

std::string opt(const std::optional<double>& v) { return v ? fmt::format("{:.6g}", *v) : std::string(); }

/// The statistics the CSV and the table show, by name, as text.
struct Column {
  const char* name;
  std::string (*text)(const analytics::Stats&);
};
const Column kColumns[] = {
    {"sharpe", [](const analytics::Stats& s) { return opt(s.sharpe); }},
    {"sortino", [](const analytics::Stats& s) { return opt(s.sortino); }},
    {"calmar", [](const analytics::Stats& s) { return opt(s.calmar); }},
    {"pnl_total", [](const analytics::Stats& s) { return s.pnl_total.to_string(); }},
    {"return_pct", [](const analytics::Stats& s) { return opt(s.return_pct); }},
    {"max_drawdown", [](const analytics::Stats& s) { return s.max_drawdown.to_string(); }},
    {"max_drawdown_pct", [](const analytics::Stats& s) { return fmt::format("{:.6g}", s.max_drawdown_pct); }},
    {"round_trips", [](const analytics::Stats& s) { return std::to_string(s.round_trips); }},
    {"win_rate", [](const analytics::Stats& s) { return opt(s.win_rate); }},
    {"profit_factor", [](const analytics::Stats& s) { return opt(s.profit_factor); }},
    {"expectancy", [](const analytics::Stats& s) { return s.expectancy.to_string(); }},
    {"commission", [](const analytics::Stats& s) { return s.commission.to_string(); }},
    {"fills", [](const analytics::Stats& s) { return std::to_string(s.fills); }},
    {"orders_rejected", [](const analytics::Stats& s) { return std::to_string(s.orders_rejected); }},
};

}  // namespace

SweepAxis parse_axis(std::string_view text) {
  const auto eq = text.find('=');
  if (eq == std::string_view::npos) throw std::invalid_argument(fmt::format("--param {:?}: need KEY=V1,V2,...", text));
  SweepAxis a{std::string(trim(text.substr(0, eq))), {}};
  if (a.key.empty()) throw std::invalid_argument(fmt::format("--param {:?}: empty key", text));
  std::string_view rest = text.substr(eq + 1);
  std::set<std::string, std::less<>> seen;
  for (;;) {
    const auto comma = rest.find(',');
    const auto v = trim(rest.substr(0, comma));
    if (v.empty()) throw std::invalid_argument(fmt::format("--param {}: an empty value in {:?}", a.key, text));
    if (!seen.emplace(v).second) throw std::invalid_argument(fmt::format("--param {}: {} given twice", a.key, v));
    a.values.emplace_back(v);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return a;
}

std::vector<strategy::Params> expand_grid(const std::vector<SweepAxis>& axes, const strategy::Params& fixed,
                                          std::size_t max_runs) {
  std::set<std::string> keys;
  std::size_t total = 1;
  for (const auto& a : axes) {
    if (!keys.insert(a.key).second) throw std::invalid_argument(fmt::format("--param {}: swept twice", a.key));
    if (a.values.empty()) throw std::invalid_argument(fmt::format("--param {}: no values", a.key));
    if (total > max_runs / a.values.size())
      throw std::invalid_argument(fmt::format("the grid has more than {} combinations", max_runs));
    total *= a.values.size();
  }
  std::vector<strategy::Params> out;
  out.reserve(total);
  std::vector<std::size_t> at(axes.size(), 0);
  for (std::size_t n = 0; n < total; ++n) {
    strategy::Params p = fixed;
    for (std::size_t i = 0; i < axes.size(); ++i) p.set(axes[i].key, axes[i].values[at[i]]);
    out.push_back(std::move(p));
    for (std::size_t i = axes.size(); i-- > 0;) {  // the last axis varies fastest
      if (++at[i] < axes[i].values.size()) break;
      at[i] = 0;
    }
  }
  return out;
}

RankStat rank_stat(std::string_view name) {
  static const char* kHigher[] = {"sharpe",        "sortino",  "calmar",     "pnl_total", "pnl_realized",
                                  "return_pct",    "annualized_return_pct", "win_rate", "profit_factor",
                                  "expectancy"};
  static const char* kLower[] = {"max_drawdown", "max_drawdown_pct", "commission"};
  for (const char* n : kHigher)
    if (name == n) return {std::string(name), true};
  for (const char* n : kLower)
    if (name == n) return {std::string(name), false};
  std::string known;
  for (const char* n : kHigher) known += std::string(known.empty() ? "" : ", ") + n;
  for (const char* n : kLower) known += std::string(", ") + n;
  throw std::invalid_argument(fmt::format("--rank {:?}: one of {}", name, known));
}

std::optional<double> stat_value(const analytics::Stats& s, const RankStat& stat) {
  const auto& n = stat.name;
  if (n == "sharpe") return s.sharpe;
  if (n == "sortino") return s.sortino;
  if (n == "calmar") return s.calmar;
  if (n == "pnl_total") return to_double(s.pnl_total);
  if (n == "pnl_realized") return to_double(s.pnl_realized);
  if (n == "return_pct") return s.return_pct;
  if (n == "annualized_return_pct") return s.annualized_return_pct;
  if (n == "win_rate") return s.win_rate;
  if (n == "profit_factor") return s.profit_factor;
  if (n == "expectancy") return s.round_trips > 0 ? std::optional<double>(to_double(s.expectancy)) : std::nullopt;
  if (n == "max_drawdown") return to_double(s.max_drawdown);
  if (n == "max_drawdown_pct") return s.max_drawdown_pct;
  if (n == "commission") return to_double(s.commission);
  return std::nullopt;
}

std::vector<SweepRow> run_sweep(const SweepConfig& cfg) {
  if (cfg.grid.empty()) throw std::invalid_argument("sweep: an empty grid");
  std::vector<SweepRow> rows(cfg.grid.size());
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (std::size_t i = next++; i < rows.size(); i = next++) {
      SweepRow& row = rows[i];
      row.index = i;
      row.params = cfg.grid[i];
      try {
        InProcessConfig c = cfg.base;
        c.session.reset();  // a sweep records nothing
        c.strategies = {strategy::Choice{.name = cfg.strategy, .strategy_id = cfg.strategy, .params = row.params}};
        EventTimeLog log;
        c.on_logged = [&log](std::uint64_t seq, std::string_view subject, std::string_view json) {
          log.add(seq, subject, json);
        };
        const auto res = run_in_process(c);
        auto settings = cfg.settings;
        use_valuation(settings, c.valuation);
        analytics::Analyzer an(settings);
        log.feed(an);
        an.on_session_ended();  // as backtest --in-process does (ctl.cpp)
        row.totals = an.analysis().totals;
      } catch (const std::exception& e) {
        row.error = e.what();
      }
    }
  };
  unsigned jobs = cfg.jobs != 0 ? cfg.jobs : std::max(1u, std::thread::hardware_concurrency());
  jobs = static_cast<unsigned>(std::min<std::size_t>(jobs, rows.size()));
  std::vector<std::thread> threads;
  for (unsigned t = 1; t < jobs; ++t) threads.emplace_back(work);
  work();
  for (auto& t : threads) t.join();
  return rows;
}

std::vector<std::size_t> rank_rows(const std::vector<SweepRow>& rows, const RankStat& stat) {
  std::vector<std::size_t> order(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) order[i] = i;
  auto key = [&](std::size_t i) -> std::optional<double> {
    if (!rows[i].error.empty()) return std::nullopt;
    return stat_value(rows[i].totals, stat);
  };
  // Rows with the value first (best first), then those without it, then failed ones.
  auto tier = [&](std::size_t i) { return !rows[i].error.empty() ? 2 : key(i) ? 0 : 1; };
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    if (tier(a) != tier(b)) return tier(a) < tier(b);
    const auto ka = key(a), kb = key(b);
    if (!ka || !kb) return false;
    return stat.higher_is_better ? *ka > *kb : *ka < *kb;
  });
  return order;
}

std::string sweep_csv(const std::vector<SweepRow>& rows, const std::vector<std::size_t>& order,
                      const std::vector<std::string>& keys) {
  std::string out = "rank";
  for (const auto& k : keys) out += "," + csv_cell(k);
  for (const auto& c : kColumns) out += std::string(",") + c.name;
  out += ",error\n";
  std::size_t rank = 0;
  for (const auto i : order) {
    const auto& r = rows[i];
    out += std::to_string(++rank);
    for (const auto& k : keys) out += "," + csv_cell(r.params.has(k) ? r.params.text(k) : std::string());
    for (const auto& c : kColumns) out += "," + (r.error.empty() ? c.text(r.totals) : std::string());
    out += "," + csv_cell(r.error) + "\n";
  }
  return out;
}

std::string sweep_table(const std::vector<SweepRow>& rows, const std::vector<std::size_t>& order,
                        const std::vector<std::string>& keys, std::size_t limit) {
  const char* shown[] = {"sharpe", "sortino", "pnl_total", "max_drawdown", "round_trips", "win_rate", "fills"};
  std::string out = fmt::format("{:>4}", "rank");
  for (const auto& k : keys) out += fmt::format(" {:>10}", k);
  for (const char* s : shown) out += fmt::format(" {:>12}", s);
  out += "\n";
  std::size_t rank = 0;
  for (const auto i : order) {
    if (limit != 0 && rank >= limit) break;
    const auto& r = rows[i];
    out += fmt::format("{:>4}", ++rank);
    for (const auto& k : keys) out += fmt::format(" {:>10}", r.params.has(k) ? r.params.text(k) : std::string());
    if (!r.error.empty()) {
      out += "  failed: " + r.error + "\n";
      continue;
    }
    for (const char* s : shown)
      for (const auto& c : kColumns)
        if (std::string_view(c.name) == s) {
          const auto t = c.text(r.totals);
          out += fmt::format(" {:>12}", t.empty() ? "-" : t);
        }
    out += "\n";
  }
  if (limit != 0 && order.size() > limit) out += fmt::format("({} more rows in the CSV)\n", order.size() - limit);
  return out;
}

int sweep_command(const std::vector<std::string>& args) {
  std::string file, name, csv, actions;
  std::vector<SweepAxis> axes;
  RankStat rank = rank_stat("sharpe");
  unsigned jobs = 0;
  std::int64_t limit = 0;
  ReportFlags flags;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto& f = args[i];
    auto value = [&]() -> const std::string& {
      if (i + 1 >= args.size()) throw std::invalid_argument(f + " needs a value");
      return args[++i];
    };
    auto count = [&](const char* what) {
      const auto& v = value();
      char* end = nullptr;
      const long long n = std::strtoll(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || n < 0 || n > 1'000'000'000)
        throw std::invalid_argument(fmt::format("{}: an integer >= 0, got {}", what, v));
      return n;
    };
    if (f == "--strategy") {
      if (!name.empty()) throw std::invalid_argument("--strategy: one strategy per sweep");
      name = value();
    } else if (f == "--param") {
      axes.push_back(parse_axis(value()));
    } else if (f == "--rank") {
      rank = rank_stat(value());
    } else if (f == "--csv") {
      csv = value();
    } else if (f == "--jobs") {
      jobs = static_cast<unsigned>(std::min<long long>(count("--jobs"), 256));
    } else if (f == "--limit") {
      limit = count("--limit");
    } else if (f == "--actions") {
      actions = std::filesystem::absolute(value()).string();
    } else if (f == "--capital" || f == "--periods-per-year") {
      parse_report_flag(args, i, flags);
    } else if (f.starts_with("--")) {
      throw std::invalid_argument("unknown option " + f);
    } else if (file.empty()) {
      file = f;
    } else {
      throw std::invalid_argument("one data file, got " + file + " and " + f);
    }
  }
  if (file.empty()) throw std::invalid_argument("give the data FILE");
  if (name.empty()) throw std::invalid_argument("give --strategy NAME");
  if (axes.empty()) throw std::invalid_argument("give at least one --param KEY=V1,V2,...");
  const auto data = std::filesystem::absolute(file).string();
  if (!std::filesystem::exists(data)) throw std::runtime_error("no such data file: " + data);

  SweepConfig cfg{.base = in_process_config_from_environment(data, limit), .strategy = name,
                  .grid = expand_grid(axes), .settings = flags.settings, .jobs = jobs};
  cfg.base.actions_path = actions;
  // Every combination is checked before any runs: an unknown name or a bad value is an
  // argument error (exit 2), not a failed row.
  for (const auto& p : cfg.grid)
    (void)cfg.base.registry.check({strategy::Choice{.name = name, .strategy_id = name, .params = p}});
  std::vector<std::string> keys;
  for (const auto& a : axes) keys.push_back(a.key);
  const unsigned threads = jobs != 0 ? jobs : std::max(1u, std::thread::hardware_concurrency());
  fmt::print(stderr, "sweep: {} in-process backtests of {} on {}, {} at a time\n", cfg.grid.size(), name, data,
             std::min<std::size_t>(threads, cfg.grid.size()));
  const auto t0 = std::chrono::steady_clock::now();
  const auto rows = run_sweep(cfg);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const auto order = rank_rows(rows, rank);
  std::size_t failed = 0;
  for (const auto& r : rows) failed += r.error.empty() ? 0 : 1;
  std::FILE* out = csv == "-" ? stderr : stdout;
  fmt::print(out, "sweep: {} runs in {:.2f} s, ranked by {} ({} is better){}\n", rows.size(), secs, rank.name,
             rank.higher_is_better ? "higher" : "lower", failed ? fmt::format("; {} failed", failed) : "");
  fmt::print(out, "{}", sweep_table(rows, order, keys));
  if (!order.empty() && rows[order.front()].error.empty()) {
    const auto& best = rows[order.front()];
    if (!stat_value(best.totals, rank))
      fmt::print(out, "sweep: no run has a {} (e.g. Sharpe needs 2 daily returns): kept in grid order\n", rank.name);
    std::string cmd = fmt::format("traderctl backtest {} --in-process --strategy {}", file, name);
    for (const auto& [k, v] : best.params.values()) cmd += fmt::format(" --param {}={}", k, v);
    if (!actions.empty()) cmd += " --actions " + actions;
    fmt::print(out, "best: {}\n  the same run alone: {}\n", best.params.describe(), cmd);
  }
  const std::string path = csv.empty() ? "sweep-" + name + ".csv" : csv;
  const auto text = sweep_csv(rows, order, keys);
  if (path == "-") {
    fmt::print("{}", text);
  } else {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f << text;
    f.close();
    if (!f) throw std::runtime_error("cannot write " + path);
    fmt::print(out, "sweep: table written to {}\n", path);
  }
  return failed == rows.size() ? 1 : 0;
}

}  // namespace services
