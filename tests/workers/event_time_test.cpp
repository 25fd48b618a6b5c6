// EventTimeOrder: keys, progress, and the property it exists for: three workers that
// feed each other through one log decide the same things whatever order their
// messages reach the log in.
#include "workers/event_time.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <deque>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "codec/codec.hpp"
#include "subjects/subjects.hpp"

namespace {

using services::EventTimeOrder;
using services::LogRole;

std::string order_json(const std::string& id, std::uint64_t cause) {
  return fmt::format(R"({{"type":"order.submit","client_order_id":"{}","cause_seq":{}}})", id, cause);
}
std::string report_json(const std::string& id, const std::string& what, std::uint64_t cause) {
  return fmt::format(R"({{"type":"execution_report","client_order_id":"{}","text":"{}","cause_seq":{}}})", id, what,
                     cause);
}
std::string progress_json(const std::string& worker, services::Floor f) {
  return codec::encode(core::Progress{.worker = worker, .root_seq = f.root, .stage = f.stage});
}

TEST_CASE("keys: roots are their own root, derived messages take their cause's root and their stage", "[event-time]") {
  EventTimeOrder o("reporter",
                   {{"strategy", {1}, {}}, {"risk-state", {2, 4}, {}}, {"execution", {3}, {}}},
                   [](int) { return std::optional<int>{5}; });
  CHECK(o.push(1, "market.data.EURUSD", "{}") == LogRole::root);
  CHECK(o.push(2, "market.data.EURUSD", "{}") == LogRole::root);
  CHECK(o.push(3, "trading.orders", order_json("s-1", 1)) == LogRole::derived);
  CHECK(o.push(4, "trading.orders.approved", order_json("s-1", 3)) == LogRole::derived);
  CHECK(o.push(5, "trading.executions", report_json("s-1", "fill", 4)) == LogRole::derived);
  CHECK(o.push(6, "trading.orders.by.alice", order_json("m-1", 0)) == LogRole::root);
  CHECK(o.push(7, "trading.executions", report_json("m-1", "denied", 6)) == LogRole::derived);
  CHECK(o.push(8, "risk.state", R"({"type":"risk.state","cause_seq":5})") == LogRole::derived);
  CHECK(o.push(9, "risk.state", R"({"type":"risk.state"})") == LogRole::other);  // a start-up announcement
  CHECK(o.push(10, "session.lifecycle", R"({"type":"session.started"})") == LogRole::other);
  CHECK(o.push(11, "trading.orders", "not json") == LogRole::other);
  CHECK(o.push(12, "progress.execution", progress_json("execution", {2, 3})) == LogRole::progress);
  CHECK(o.key_of(3) == services::EventKey{1, 1, 3});
  CHECK(o.key_of(4) == services::EventKey{1, 2, 4});
  CHECK(o.key_of(5) == services::EventKey{1, 3, 5});
  CHECK(o.key_of(7) == services::EventKey{6, 2, 7});   // risk-state's denial of a person's order
  CHECK(o.key_of(8) == services::EventKey{1, 4, 8});   // risk.state caused by a report
  REQUIRE(o.progress_of("execution"));
  CHECK(*o.progress_of("execution") == services::Floor{2, 3});
  // In key order: root 1's cascade, then root 2, then the person's order and its denial.
  // Nothing from strategy or risk-state was heard yet (they take no part), and
  // execution's progress (2, 3) lets through only what sorts before its next report.
  std::vector<std::uint64_t> got;
  while (auto r = o.pop()) got.push_back(r->key.seq);
  CHECK(got == std::vector<std::uint64_t>{1, 3, 4, 5, 8, 2});
  CHECK(o.waiting_for() == "(6, 0, 6) waits for execution at (2, 3)");
  o.push(13, "progress.execution", progress_json("execution", {7, 3}));
  got.clear();
  while (auto r = o.pop()) got.push_back(r->key.seq);
  CHECK(got == std::vector<std::uint64_t>{6, 7});
}

TEST_CASE("an upstream that is not relevant is not waited for, and one that left is forgotten", "[event-time]") {
  bool live = false;
  EventTimeOrder o("strategy", {{"execution", {3}, [&] { return live; }}},
                   [](int stage) { return stage == 0 ? std::optional<int>{1} : std::nullopt; });
  o.push(1, "progress.execution", progress_json("execution", {1, 3}));
  o.push(2, "market.data.X", "{}");
  o.push(3, "market.data.X", "{}");
  REQUIRE(o.pop());  // root 2 < execution's next report (2, 3)
  live = true;
  CHECK_FALSE(o.pop());  // root 3 waits: a report for root 2 may still come
  CHECK(o.floor() == services::Floor{3, 1});
  live = false;
  CHECK(o.pop());
  live = true;
  o.push(4, "market.data.X", "{}");
  CHECK_FALSE(o.pop());
  o.push(5, "progress.execution", progress_json("execution", {0, 0}));  // stopped: it left
  CHECK(o.pop());
  CHECK_FALSE(o.progress_of("execution"));
}

// ---- three workers, one log, every interleaving ------------------------------------------

/// A toy pipeline with the real subjects: a strategy that buys on an up-tick unless an
/// order of its own is not final; a risk check that denies every third order and any order
/// while the mark is above a limit; a broker that fills odd orders at once and even ones
/// at the next quote. Each decision depends on what came before it in event time, so a
/// worker that handles the log in arrival order decides differently from run to run.
struct Sim {
  struct Msg {
    std::string subject, data, desc;  // desc: what it says, in terms of roots (same in every run)
  };
  struct Worker {
    std::string name;
    EventTimeOrder order;
    std::size_t read = 0;          // next log index to read
    std::deque<Msg> outbox;        // published, not yet in the log
    std::vector<std::string> out;  // descriptors of everything published, in order
    services::Floor published{};
  };
  std::vector<Msg> log;  // index i = stream sequence i + 1
  std::vector<int> prices;
  std::size_t fed = 0;
  bool ordered = true;  // false: hand each message to the worker as it arrives (the old behaviour)
  // strategy
  std::set<std::string> s_live;
  int s_n = 0, s_last_px = 0;
  // risk-state
  std::set<std::string> r_live;
  int r_n = 0, r_mark = 0;
  // execution
  std::vector<std::pair<std::string, std::string>> e_pending;  // id, desc
  int e_mark = 0;
  std::map<std::string, std::string> desc_of_order;
  std::vector<Worker> w;

  explicit Sim(std::vector<int> px) : prices(std::move(px)) {
    auto out = [](std::vector<std::pair<int, int>> m) {
      return [m](int stage) -> std::optional<int> {
        for (auto [in, o] : m)
          if (in == stage) return o < 0 ? std::nullopt : std::optional<int>(o);
        return std::nullopt;
      };
    };
    w.push_back({"strategy",
                 EventTimeOrder("strategy",
                                {{"risk-state", {2}, [this] { return !s_live.empty(); }},
                                 {"execution", {3}, [this] { return !s_live.empty(); }}},
                                out({{0, 1}, {2, -1}, {3, -1}}))});
    w.push_back({"risk-state",
                 EventTimeOrder("risk-state",
                                {{"strategy", {1}, {}}, {"execution", {3}, [this] { return !r_live.empty(); }}},
                                out({{0, 2}, {1, 2}, {3, 4}}))});
    w.push_back({"execution", EventTimeOrder("execution", {{"risk-state", {2}, {}}}, out({{0, 3}, {2, 3}}))});
  }

  std::string desc(std::uint64_t seq) const { return log.at(seq - 1).desc; }

  void publish(Worker& wk, std::string subject, std::string data, std::string d) {
    wk.out.push_back(d);
    wk.outbox.push_back({std::move(subject), std::move(data), std::move(d)});
  }

  void handle(Worker& wk, std::uint64_t seq, const std::string& subject, const std::string& data) {
    const auto env = codec::peek(data);
    const std::string id = env && env->client_order_id ? *env->client_order_id : "";
    const bool quote = subject.starts_with("market.data.");
    const int px = quote ? std::stoi(data) : 0;
    if (wk.name == "strategy") {
      if (quote) {
        if (s_live.empty() && px > s_last_px) {
          const auto oid = fmt::format("s-{}", ++s_n);
          s_live.insert(oid);
          publish(wk, "trading.orders", order_json(oid, seq), fmt::format("{} on {}", oid, desc(seq)));
        }
        s_last_px = px;
      } else if (subject == "trading.executions") {
        s_live.erase(id);
      }
    } else if (wk.name == "risk-state") {
      if (quote) r_mark = px;
      if (subject == "trading.orders") {
        ++r_n;
        if (r_n % 3 == 0 || r_mark > 105) {
          publish(wk, "trading.executions", report_json(id, "denied", seq),
                  fmt::format("deny {} at mark {}", id, r_mark));
        } else {
          r_live.insert(id);
          publish(wk, "trading.orders.approved", order_json(id, seq), fmt::format("approve {} at mark {}", id, r_mark));
        }
      } else if (subject == "trading.executions" && env && data.find("\"denied\"") == std::string::npos) {
        r_live.erase(id);
      }
    } else {
      if (quote) {
        e_mark = px;
        for (auto& [oid, d] : e_pending)
          publish(wk, "trading.executions", report_json(oid, "fill", seq), fmt::format("fill {} at {}", oid, e_mark));
        e_pending.clear();
      } else if (subject == "trading.orders.approved") {
        if ((id.back() - '0') % 2 == 1)
          publish(wk, "trading.executions", report_json(id, "fill", seq), fmt::format("fill {} at {}", id, e_mark));
        else
          e_pending.push_back({id, ""});
      }
    }
  }

  /// The worker reads one message of the log, handles what may be handled, and says how far it got.
  void step(Worker& wk) {
    const std::uint64_t seq = wk.read + 1;
    const auto& m = log[wk.read++];
    if (!ordered) {
      if (!m.subject.starts_with("progress.")) handle(wk, seq, m.subject, m.data);
      return;
    }
    if (wk.order.push(seq, m.subject, m.data) == LogRole::other) return;
    while (auto r = wk.order.pop()) handle(wk, r->key.seq, std::string(r->subject), std::string(r->data));
    const auto f = wk.order.floor();
    if (f > wk.published) {
      wk.published = f;
      wk.outbox.push_back({subjects::progress(wk.name), progress_json(wk.name, f), ""});
    }
  }

  void append(Msg m) {
    if (m.desc.empty() && !m.subject.starts_with("progress.")) m.desc = m.data;
    log.push_back(std::move(m));
  }

  /// Runs to the end with random choices; returns each worker's outputs.
  std::vector<std::vector<std::string>> run(std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    // Every worker says where it stands before the feed starts (the sandbox waits for
    // that): one that never spoke is not waited for.
    for (auto& wk : w) append({subjects::progress(wk.name), progress_json(wk.name, {1, 0}), ""});
    for (;;) {
      std::vector<int> can;  // 0: feed, 1..3: a worker publishes, 4..6: a worker reads
      if (fed < prices.size()) can.push_back(0);
      for (int i = 0; i < 3; ++i) {
        if (!w[i].outbox.empty()) can.push_back(1 + i);
        if (w[i].read < log.size()) can.push_back(4 + i);
      }
      if (can.empty()) break;
      const int a = can[rng() % can.size()];
      if (a == 0) {
        const auto i = fed++;
        append({"market.data.X", std::to_string(prices[i]), fmt::format("quote {}", i)});
      } else if (a <= 3) {
        append(std::move(w[a - 1].outbox.front()));
        w[a - 1].outbox.pop_front();
      } else {
        step(w[a - 4]);
      }
    }
    for (auto& wk : w) {
      INFO(wk.name << ": " << wk.order.waiting_for());
      CHECK(wk.order.buffered() == 0);  // nobody stuck: every message was handled
    }
    return {w[0].out, w[1].out, w[2].out};
  }
};

const std::vector<int> kPrices = {100, 101, 102, 101, 103, 104, 102, 106, 107, 103, 104, 105,
                                  101, 102, 108, 100, 101, 103, 104, 105, 99,  100, 102, 103};

TEST_CASE("three workers decide the same things in every interleaving of the log", "[event-time]") {
  const auto first = Sim(kPrices).run(1);
  REQUIRE(first[0].size() >= 4);  // the strategy traded
  REQUIRE(first[2].size() >= 2);  // and something filled
  for (std::uint64_t seed = 2; seed <= 300; ++seed) {
    INFO("seed " << seed);
    REQUIRE(Sim(kPrices).run(seed) == first);
  }
}

TEST_CASE("handled in arrival order, the same toy pipeline decides differently between interleavings",
          "[event-time]") {
  // The control for the test above: the log's interleavings do change the outcome.
  std::set<std::vector<std::vector<std::string>>> outcomes;
  for (std::uint64_t seed = 1; seed <= 100; ++seed) {
    Sim s(kPrices);
    s.ordered = false;
    outcomes.insert(s.run(seed));
  }
  CHECK(outcomes.size() > 1);
}

}  // namespace

TEST_CASE("holding at its own progress releases a message only once its own reactions to it are in the log",
          "[event-time]") {
  // risk-state's view while it rebuilds: it reacts to roots and the strategy's orders at stage 2.
  EventTimeOrder o("risk-state", {{"strategy", {1}, {}}}, [](int stage) -> std::optional<int> {
    if (stage == 0 || stage == 1) return 2;
    return std::nullopt;
  });
  o.hold_at_own_progress(true);
  auto drain = [&] {
    std::vector<std::uint64_t> out;
    while (auto r = o.pop()) out.push_back(r->key.seq);
    return out;
  };
  o.push(1, "market.data.X", "{}");
  o.push(2, "trading.orders", order_json("s-1", 1));
  CHECK(drain().empty());  // no own marker yet: nothing is vouched for
  CHECK(o.waiting_for().find("risk-state") != std::string::npos);
  // Its own marker (1, 2): reactions at (1, 2) may still come, so root 1 waits.
  o.push(3, "progress.risk-state", progress_json("risk-state", {1, 2}));
  CHECK(drain().empty());
  o.push(4, "trading.orders.approved", order_json("s-1", 2));  // its decision on s-1
  // (2, 2): everything it published about root 1 is in the log; its approval (stage 2,
  // to which it does not react) waits until (1, 3) is vouched for too.
  o.push(5, "progress.risk-state", progress_json("risk-state", {2, 2}));
  CHECK(drain() == std::vector<std::uint64_t>{1, 2, 4});
  o.push(6, "market.data.X", "{}");
  o.push(7, "progress.risk-state", progress_json("risk-state", {0, 0}));  // an orderly stop vouches for nothing more
  CHECK(drain().empty());
  CHECK(o.own_progress() == services::Floor{2, 2});
  o.hold_at_own_progress(false);  // the whole history is read
  CHECK(drain() == std::vector<std::uint64_t>{6});
}
