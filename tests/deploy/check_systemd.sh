#!/usr/bin/env bash
# The systemd unit deploy/systemd/install writes is one systemd accepts (systemd-analyze verify),
# and it runs this checkout's deploy/compose/stack (executable) with the settings file it was given.
set -euo pipefail
repo=$1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$repo/deploy/systemd/install" --dest "$out" --env-file /etc/trader/test.env --no-enable
unit=$out/trader-compose.service
systemd-analyze verify "$unit"
grep -qx "ExecStart=$repo/deploy/compose/stack up -d" "$unit"
grep -qx "ExecStop=$repo/deploy/compose/stack down" "$unit"
grep -qx "EnvironmentFile=-/etc/trader/test.env" "$unit"
grep -qx "WantedBy=multi-user.target" "$unit"
test -x "$repo/deploy/compose/stack"
if grep -n '@[A-Z_]*@' "$unit"; then echo "check_systemd: placeholders left in the unit" >&2; exit 1; fi
# A path a unit cannot hold is refused, not written half-right.
if "$repo/deploy/systemd/install" --dest "$out/bad" --env-file "/etc/with space.env" --no-enable 2>/dev/null; then
  echo "check_systemd: a path with a space was accepted" >&2; exit 1
fi
echo "check_systemd: ok"
