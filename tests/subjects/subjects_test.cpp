// The contract agrees with itself: subjects.hpp, the catalogue in
// subjects/README.md, the schemas and the examples name the same subjects and types.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "codec/codec.hpp"
#include "core/messages.hpp"
#include "subjects/subjects.hpp"

namespace fs = std::filesystem;

namespace {

const fs::path kRoot = TRADER_SOURCE_DIR;

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  REQUIRE(in.good());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

/// Every `...` span in `s`.
std::vector<std::string> backticked(std::string_view s) {
  std::vector<std::string> out;
  for (std::size_t a = s.find('`'); a != std::string_view::npos; a = s.find('`', a + 1)) {
    const std::size_t b = s.find('`', a + 1);
    if (b == std::string_view::npos) break;
    out.emplace_back(s.substr(a + 1, b - a - 1));
    a = b;
  }
  return out;
}

std::vector<std::string> split_cells(const std::string& row) {
  std::vector<std::string> cells;
  std::size_t start = row.find('|') + 1;
  for (std::size_t bar = row.find('|', start); bar != std::string::npos; bar = row.find('|', start)) {
    cells.push_back(row.substr(start, bar - start));
    start = bar + 1;
  }
  return cells;
}

struct Catalogue {
  std::vector<std::string> subjects;  // first column, e.g. "market.data.<symbol>"
  std::set<std::string> types;        // last column
};

/// The table under "## Catalogue": rows "| `subject` | publishers | subscribers | `type`, ... |".
Catalogue read_catalogue() {
  Catalogue c;
  bool in_section = false;
  for (const auto& line : lines_of(read_file(kRoot / "subjects" / "README.md"))) {
    if (line.rfind("## ", 0) == 0) in_section = line == "## Catalogue";
    if (!in_section || line.rfind("| `", 0) != 0) continue;
    const auto cells = split_cells(line);
    REQUIRE(cells.size() == 4);
    const auto subject = backticked(cells[0]);
    REQUIRE(subject.size() == 1);
    c.subjects.push_back(subject[0]);
    for (auto& t : backticked(cells[3])) c.types.insert(t);
  }
  return c;
}

/// Every string literal in the code (not the comments) of subjects.hpp.
std::vector<std::string> header_literals() {
  std::vector<std::string> out;
  for (auto line : lines_of(read_file(kRoot / "pkg" / "subjects" / "subjects.hpp"))) {
    if (const auto c = line.find("//"); c != std::string::npos) line.resize(c);
    for (std::size_t a = line.find('"'); a != std::string::npos; a = line.find('"', a + 1)) {
      const std::size_t b = line.find('"', a + 1);
      if (b == std::string::npos) break;
      out.push_back(line.substr(a + 1, b - a - 1));
      a = b;
    }
  }
  return out;
}

std::set<std::string> files_in(const fs::path& dir, std::string_view suffix) {
  std::set<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      out.insert(name.substr(0, name.size() - suffix.size()));
    }
  }
  return out;
}

}  // namespace

TEST_CASE("every subject string in subjects.hpp appears in subjects/README.md", "[subjects]") {
  const std::string readme = read_file(kRoot / "subjects" / "README.md");
  const auto literals = header_literals();
  CHECK(literals.size() >= 20);  // the parse found the constants
  for (const auto& s : literals) {
    INFO("subjects.hpp literal \"" << s << "\"");
    CHECK(readme.find(s) != std::string::npos);
  }
  // The same through the constants themselves.
  for (std::string_view s : {subjects::kMarketDataAll, subjects::kTradingOrders, subjects::kTradingOrdersApproved,
                             subjects::kTradingExecutions, subjects::kRiskState, subjects::kRiskManagement,
                             subjects::kPerformanceMetrics, subjects::kReportsPerformance, subjects::kOpsStatus,
                             subjects::kOpsReport, subjects::kOpsHeartbeatAll, subjects::kOpsDeadLetter,
                             subjects::kSessionLifecycle, subjects::kSessionWorkersAll, subjects::kEventStream}) {
    INFO(s);
    CHECK(readme.find(s) != std::string::npos);
  }
  for (std::string_view s : subjects::kCapturedSubjects) {
    INFO(s);
    CHECK(readme.find(std::string("`") + std::string(s) + "`") != std::string::npos);
  }
}

TEST_CASE("every subject in the catalogue is built by subjects.hpp", "[subjects]") {
  const auto cat = read_catalogue();
  REQUIRE(cat.subjects.size() >= 12);
  const auto literals = header_literals();
  const std::set<std::string> exact(literals.begin(), literals.end());
  for (const auto& s : cat.subjects) {
    INFO("catalogue subject " << s);
    if (const auto lt = s.find('<'); lt != std::string::npos) {
      CHECK(s.back() == '>');
      const auto prefix = s.substr(0, lt);
      if (prefix.ends_with(subjects::kByToken)) {  // "<base>.by.<user>": subjects::by(base, user)
        const auto base = prefix.substr(0, prefix.size() - subjects::kByToken.size());
        CHECK(exact.count(base) == 1);
        CHECK(subjects::by(base, "operator") == base + ".by.operator");
        CHECK(subjects::sender_of(subjects::by(base, "operator")) == "operator");
        CHECK(subjects::base_of(subjects::by(base, "operator")) == base);
      } else {
        CHECK(exact.count(prefix) == 1);  // the prefix constant, e.g. "market.data."
      }
    } else {
      CHECK(exact.count(s) == 1);
    }
  }
  CHECK(subjects::market_data("EURUSD") == "market.data.EURUSD");
  CHECK(subjects::ops_heartbeat("risk-state") == "ops.heartbeat.risk-state");
  CHECK(subjects::ops_ping("execution") == "ops.ping.execution");
  CHECK(subjects::session_worker("risk-state") == "session.workers.risk-state");
}

TEST_CASE("session subjects are captured by the EVENTS stream and the README says so", "[subjects]") {
  const auto& cap = subjects::kCapturedSubjects;
  CHECK(std::find(std::begin(cap), std::end(cap), std::string_view("session.>")) != std::end(cap));
  // session.> covers both session subjects.
  CHECK(subjects::kSessionLifecycle.rfind("session.", 0) == 0);
  CHECK(subjects::session_worker("feed").rfind("session.", 0) == 0);
  const std::string readme = read_file(kRoot / "subjects" / "README.md");
  const auto section = readme.substr(readme.find("### What the recorder captures"));
  CHECK(section.substr(0, section.find("\n## ")).find("`session.>`") != std::string::npos);
}

TEST_CASE("session ids are 1-128 characters from A-Z a-z 0-9 _ . : -", "[subjects]") {
  CHECK(subjects::is_valid_session_id("live-20251121T075500Z-trader-1:4187"));
  CHECK(subjects::is_valid_session_id("a"));
  CHECK(subjects::is_valid_session_id("bt_1.2"));
  CHECK(subjects::is_valid_session_id(std::string(128, 'x')));
  CHECK_FALSE(subjects::is_valid_session_id(""));
  CHECK_FALSE(subjects::is_valid_session_id(std::string(129, 'x')));
  for (std::string_view bad : {"a b", "a/b", "a*", "a>", "caf\xc3\xa9", "a\tb", "$SYS", "a,b"}) {
    INFO(bad);
    CHECK_FALSE(subjects::is_valid_session_id(bad));
  }
}

TEST_CASE("catalogue message types, schemas and examples are the same set", "[subjects]") {
  const auto cat = read_catalogue();
  const auto schemas = files_in(kRoot / "subjects" / "schemas", ".schema.json");
  const auto examples = files_in(kRoot / "subjects" / "examples", ".json");
  CHECK(cat.types.size() == 24);
  for (const auto& t : cat.types) {
    INFO("catalogue type " << t);
    CHECK(schemas.count(t) == 1);
    CHECK(examples.count(t) == 1);
  }
  for (const auto& t : schemas) {
    INFO("schema " << t << ".schema.json");
    CHECK(cat.types.count(t) == 1);
  }
  for (const auto& t : examples) {
    INFO("example " << t << ".json");
    CHECK(cat.types.count(t) == 1);
  }
}

TEST_CASE("every C++ message type string is in the catalogue", "[subjects]") {
  const auto cat = read_catalogue();
  for (std::string_view t : {core::Quote::kType, core::Trade::kType, core::Bar::kType, core::OrderSubmit::kType,
                             core::OrderCancel::kType, core::OrderReplace::kType, core::ExecutionReport::kType, core::RiskStateChanged::kType,
                             core::SetTradingState::kType, core::SetRiskPolicy::kType,
                             core::RiskPolicyChanged::kType, core::InstrumentStatus::kType,
                             core::PerformanceReport::kMetricsType,
                             core::PerformanceReport::kReportType, core::Heartbeat::kType,
                             core::DeadLetter::kType, core::OpsStatus::kType, core::SessionStarted::kType,
                             core::SessionEnded::kType, core::WorkerStarted::kType}) {
    INFO(t);
    CHECK(cat.types.count(std::string(t)) == 1);
  }
}

TEST_CASE("each example's type is its file name and each schema pins that type", "[subjects]") {
  for (const auto& t : files_in(kRoot / "subjects" / "examples", ".json")) {
    INFO("example " << t);
    auto env = codec::peek(read_file(kRoot / "subjects" / "examples" / (t + ".json")));
    REQUIRE(env.ok());
    CHECK(env->type == t);
    const std::string schema = read_file(kRoot / "subjects" / "schemas" / (t + ".schema.json"));
    CHECK(schema.find("\"const\": \"" + t + "\"") != std::string::npos);
    CHECK(schema.find("https://json-schema.org/draft/2020-12/schema") != std::string::npos);
  }
}

TEST_CASE("subjects::matches follows NATS wildcards", "[subjects]") {
  CHECK(subjects::matches("market.data.>", "market.data.EURUSD"));
  CHECK(subjects::matches("market.data.>", "market.data.a.b"));
  CHECK_FALSE(subjects::matches("market.data.>", "market.data"));
  CHECK(subjects::matches("trading.orders.by.*", "trading.orders.by.alice"));
  CHECK_FALSE(subjects::matches("trading.orders.by.*", "trading.orders.by.alice.x"));
  CHECK_FALSE(subjects::matches("trading.orders.by.*", "trading.orders"));
  CHECK(subjects::matches("trading.orders", "trading.orders"));
  CHECK_FALSE(subjects::matches("trading.orders", "trading.orders.approved"));
  CHECK(subjects::matches("*.state", "risk.state"));
}
