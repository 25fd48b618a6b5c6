#!/usr/bin/env bash
# The Prometheus files of both stacks, checked by promtool (Debian's prometheus):
#  - the alert rules (check rules) and their unit tests on synthetic series (test rules);
#  - the compose stack's configuration and the one deploy/local/up writes (check config).
# usage: check_prometheus.sh SOURCE_DIR
set -euo pipefail
src=${1:?usage: check_prometheus.sh SOURCE_DIR}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$src/deploy/prometheus"
promtool check rules alerts.yml
promtool test rules alerts_test.yml
# The compose configuration names the rules at their path in the image.
sed "s|/etc/prometheus/alerts.yml|$src/deploy/prometheus/alerts.yml|" prometheus-compose.yml >"$tmp/compose.yml"
promtool check config "$tmp/compose.yml"
bash -c "source '$src/deploy/local/lib.sh' && prometheus_config" >"$tmp/local.yml"
promtool check config "$tmp/local.yml"
grep -q 'targets: \["127.0.0.1:9465"\]' "$tmp/local.yml"  # every worker, strategy last
echo "prometheus files: ok"
