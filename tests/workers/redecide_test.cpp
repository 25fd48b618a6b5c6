// services::Redecide: a worker that rebuilds by deciding again publishes nothing twice
// and loses nothing its previous instance owed.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "workers/event_log.hpp"

namespace {

using Strings = std::vector<std::string>;

/// What a worker publishes for each output produced, live or held.
struct Worker {
  services::Redecide<std::string> r;
  Strings published;
  int encoded = 0;
  void produce(const std::string& id) {
    if (auto out = r.produced(id, [&] {
          ++encoded;
          return "{" + id + "}";
        }))
      published.push_back(*out);
  }
  void finish() {
    for (auto& out : r.finish()) published.push_back(out);
  }
};

}  // namespace

TEST_CASE("a rebuild publishes what the log lacks, in production order, and nothing it holds", "[redecide]") {
  Worker w;
  // The log holds o1 and o3 (published by the previous instance); the rebuild produces
  // o1, o2, o3, o4 again: o2 and o4 were decided but never published (killed before).
  w.r.in_log("o1");
  w.produce("o1");
  w.produce("o2");
  w.produce("o3");
  w.r.in_log("o3");
  w.produce("o4");
  CHECK(w.published.empty());  // held while replaying
  CHECK(w.r.replaying());
  w.finish();
  CHECK(w.published == Strings{"{o2}", "{o4}"});
  CHECK_FALSE(w.r.replaying());
  w.produce("o5");  // live: at once
  CHECK(w.published == Strings{"{o2}", "{o4}", "{o5}"});
}

TEST_CASE("an output in the log before the rebuild reaches it is not published live either", "[redecide]") {
  Worker w;
  w.r.in_log("o1");
  w.r.in_log("o2");  // the previous instance got further than the history the rebuild read
  w.produce("o1");
  w.finish();
  CHECK(w.published.empty());
  w.produce("o2");  // produced live after the rebuild: the log has it already
  CHECK(w.published.empty());
  CHECK(w.encoded == 0);  // what the log holds is not even encoded
  w.produce("o3");
  CHECK(w.published == Strings{"{o3}"});
}

TEST_CASE("its own progress marker forgets what was logged and not produced again", "[redecide]") {
  Worker w;
  w.r.in_log("o1");  // e.g. produced under other settings: this rebuild never produces it
  w.r.own_marker();  // everything before the marker was produced again by now
  w.finish();
  w.produce("o1");  // an id used again later is a new output
  CHECK(w.published == Strings{"{o1}"});
}
