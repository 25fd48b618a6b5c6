#!/usr/bin/env bash
# Determinism rules for the state-changing path (docs/architecture.md, "Determinism"),
# checked on the sources at every test run:
#   1. The pure domain and codec libraries use no wall or monotonic clock, no
#      unordered container (its iteration order is unspecified), and no random
#      source other than the fill model's own seeded generator.
#   2. In the workers and the tooling, the wall clock (clock().now()) appears only where
#      the allowlist below says, all of it ops data or session metadata.
# Usage: lint.sh SOURCE_DIR. Exit 1 with every violation listed.
set -u
src=${1:?usage: lint.sh SOURCE_DIR}
cd "$src" || exit 2
fail=0
report() { echo "determinism: $*"; fail=1; }

domain=(pkg/core pkg/matching pkg/risk pkg/portfolio pkg/strategy pkg/codec)
# Comments are stripped first (lines whose first non-blank characters are //).
scan() {  # scan PATTERN WHY [EXCLUDED_FILE]
  local hits
  hits=$(grep -rnE --include='*.cpp' --include='*.hpp' "$1" "${domain[@]}" | grep -vE '^[^:]+:[0-9]+:\s*//' |
         { if [[ -n ${3:-} ]]; then grep -v "^$3:"; else cat; fi; })
  [[ -z $hits ]] || report "$2:"$'\n'"$hits"
}
scan 'std::unordered_(map|set|multimap|multiset)' "unordered container in domain code (iteration order is unspecified; use std::map/std::set or a vector)"
scan '(system_clock|steady_clock|high_resolution_clock|clock_gettime|gettimeofday|[^_a-z]time\(nullptr\)|std::time\()' \
     "clock in domain code (time comes from the events)" pkg/core/time.cpp
scan '(random_device|std::rand\(|[^_a-z]rand\(|srand\(|mt19937|default_random_engine|minstd_rand)' \
     "random source in domain code (only the fill model's seeded splitmix64 is allowed)"

# The one wall clock in core is SystemClock::now, for the workers' Runtime.
n=$(grep -c 'clock_gettime' pkg/core/time.cpp)
[[ $n == 1 ]] || report "pkg/core/time.cpp: expected clock_gettime once (SystemClock::now), found $n"

# Workers and tooling: every clock().now() / clock_.now() / clock.now() / SystemClock().now() is in the allowlist (file:count), each ops data or metadata.
declare -A allowed=(
  [pkg/workers/manifest.cpp]=1   # worker.started ts_wall (session metadata)
  [pkg/workers/ops.cpp]=2   # OpsService: heartbeat ages for ops.status
  [pkg/workers/runtime.cpp]=5    # Runtime: started_ns, last_input_ns, heartbeat, dead_letter and quarantine ts (ops data)
  [pkg/workers/recorder.cpp]=2   # RecorderCheckpoints: when a checkpoint is due, its ts_wall (outside the record)
  [pkg/tooling/in_process.cpp]=1 # the in-process session's session.ended ts_wall (session metadata)
  [pkg/tooling/ctl.cpp]=1        # backtest --in-process --record: its session.started ts_wall (session metadata)
  [pkg/tooling/input_sets.cpp]=1 # an input set's session.started / session.ended ts_wall (session metadata)
)
while IFS= read -r f; do
  n=$(grep -v '^\s*//' "$f" | grep -cE 'clock(_|\(\))?\.now\(\)|SystemClock\(\)\.now\(\)')
  want=${allowed[$f]:-0}
  [[ $n == "$want" ]] || report "$f: clock().now() $n times, allowed $want (a wall-clock read in the state-changing path?)"
done < <(find pkg/workers pkg/tooling -name '*.cpp' | sort)

((fail)) || echo "determinism: ok (${#domain[@]} domain libraries, pkg/workers and pkg/tooling checked)"
exit $fail
