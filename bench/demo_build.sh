#!/usr/bin/env bash
# Full `pibuild build` of recipes/demo-x86.yaml, broken down by stage, built
# twice into separate outputs to check that the Debian-based release is
# byte-identical across builds. Figures go in docs/performance.md.
#   usage: bench/demo_build.sh [BUILD_DIR]     (run as root)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
PIBUILD=$BUILD/builder/pibuild
OUT=$(mktemp -d /var/tmp/pibuild-demo-bench.XXXXXX)
trap 'rm -rf "$OUT"' EXIT

"$PIBUILD" keygen -o "$OUT/key" >/dev/null
for run in 1 2; do
  /usr/bin/time -f "%e %U %S %M" -o "$OUT/time$run" \
    "$PIBUILD" build recipes/demo-x86.yaml -o "$OUT/out$run" --key "$OUT/key.key" --json \
    > "$OUT/summary$run.json" 2> "$OUT/log$run"
done

python3 - "$OUT" <<'PY'
import json, sys, os
out = sys.argv[1]
rows = []
for run in (1, 2):
    s = json.load(open(f"{out}/summary{run}.json"))
    wall, user, sys_, rss = open(f"{out}/time{run}").read().split()
    rows.append((s, float(wall), float(user) + float(sys_), int(rss)))
s1, s2 = rows[0][0], rows[1][0]
print(f"release {s1['release_id']}  (second build: {s2['release_id']})")
print(f"byte-identical across builds: {s1['release_id'] == s2['release_id']}")
sq = {a['path']: a for a in s1['artifacts']}['root.squashfs']
print(f"root.squashfs {sq['size']/1e6:.1f} MB, {s1['squashfs']['inodes']} inodes, "
      f"{s1['squashfs']['bytes_in']/1e6:.1f} MB of file content")
print()
print("| stage | run 1 (s) | run 2 (s) |")
print("|---|---:|---:|")
for a, b in zip(s1['stages'], s2['stages']):
    print(f"| {a['stage']} | {a['ms']/1000:.1f} | {b['ms']/1000:.1f} |")
print(f"| **total wall** | {rows[0][1]:.1f} | {rows[1][1]:.1f} |")
print(f"| CPU (user+sys) | {rows[0][2]:.1f} | {rows[1][2]:.1f} |")
print(f"| peak RSS of pibuild or its largest child (apt, dpkg), MiB | {rows[0][3]/1024:.0f} | {rows[1][3]/1024:.0f} |")
print(f"\nload average when done: {open('/proc/loadavg').read().split()[0]}")
PY
