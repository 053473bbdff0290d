#!/bin/bash
# netbootd during a fleet rollout: 1000 simulated nodes, answer latency and
# the time from a rollback to every node being served the old release.
#
#   bench/rollout_bench.sh [BUILD_DIR]      (as root)
#
# Writes a store with two signed releases A and B and an inventory of NODES
# nodes on channel stable -> A (rollout-bench setup), starts the netbootd
# binary in a server namespace and runs rollout-bench in a client namespace,
# joined by a veth pair (bench/netns_pair.bash: removed on exit with all it
# started). Per run, a rollout A -> B in waves 1,10%,50%,100% is driven by the
# simulated nodes to its third wave (half the fleet on B); SWEEPS sweeps of
# every node asking what to boot (GET /ipxe/<mac>.ipxe, one connection per
# request as on a node) give the latency figures; then `pibuild rollback
# --channel stable` runs and the time from its return until every node has
# been answered A is taken. Knobs: NODES (1000), RUNS (5), SWEEPS (3),
# THREADS (8), PIBUILD (BUILD_DIR/builder/pibuild; PIBUILD=none rolls back
# through FleetState::rollback in-process), QUIET_LOAD (1.5).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$(dirname "$here")/build}
nodes=${NODES:-1000}
runs=${RUNS:-5}
sweeps=${SWEEPS:-3}
threads=${THREADS:-8}
pibuild=${PIBUILD:-$build/builder/pibuild}
bench_bin=$build/bench/rollout-bench
netbootd_bin=$build/netbootd/netbootd
port=8080

# shellcheck source=netns_pair.bash
. "$here/netns_pair.bash"
[ -x "$bench_bin" ] || ninja -C "$build" rollout-bench >&2
[ -x "$netbootd_bin" ] || ninja -C "$build" netbootd >&2
[ "$pibuild" = none ] || [ -x "$pibuild" ] || ninja -C "$build" pibuild >&2

netns_pair_up rollout 216
wait_quiet

"$bench_bin" setup --dir "$WORK" --nodes "$nodes" --address "$SIP" --port "$port"
ip netns exec "$SNS" "$netbootd_bin" --config "$WORK/netbootd.yaml" >"$WORK/netbootd.log" 2>&1 &
PIDS+=($!)

args=(run --dir "$WORK" --netns "$CNS" --address "$SIP" --port "$port" --nodes "$nodes" --runs "$runs"
      --sweeps "$sweeps" --threads "$threads")
[ "$pibuild" = none ] || args+=(--pibuild "$pibuild")
echo "rollout_bench: $nodes nodes, $runs runs, $sweeps sweeps, $threads client threads; load at start: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
if ! "$bench_bin" "${args[@]}"; then
    echo "rollout_bench: failed; netbootd's log:" >&2
    tail -20 "$WORK/netbootd.log" >&2
    exit 1
fi
echo "rollout_bench: netbootd's last rollout lines:" >&2
grep ' rollout ' "$WORK/netbootd.log" | tail -4 >&2 || true
