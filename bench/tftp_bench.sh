#!/usr/bin/env bash
# TFTP throughput, boot-storm time and memory: netbootd vs dnsmasq, over a veth
# pair between two network namespaces this script creates (and removes).
#
#   bench/tftp_bench.sh [BUILD_DIR]        # as root; BUILD_DIR default <repo>/build
#
# Builds a signed release with pibuild (a 64 MiB random kernel and a 4 MiB
# random initrd in boot/), then serves its boot/ directory with each server in
# turn on port 69 of the server namespace:
#   dnsmasq --no-daemon --port=0 --enable-tftp --tftp-root=<release>/boot
#   netbootd --config F   (proxy DHCP, tftp.root-fallback.default-release = the release)
# From the client namespace, atftp 0.8 fetches:
#   1. the 64 MiB kernel at blksize 1468, lock-step, RUNS times (median MB/s);
#   2. the same with RFC 7440 windowsize 16 (dnsmasq ignores windowsize, so
#      its run is lock-step again);
#   3. the 4 MiB initrd by CLIENTS concurrent clients (lock-step, blksize 1468):
#      total wall time, every copy checked against the original's SHA-256.
# netbootd's VmRSS is read when idle and VmHWM (peak RSS) after the storm.
# MB = 10^6 bytes. Waits (up to 5 min) for the 1-minute load to drop under
# QUIET_LOAD before starting and prints the load at each phase.
#
# Environment: RUNS (3), CLIENTS (200), QUIET_LOAD (1.5), SERVERS ("dnsmasq
# netbootd"), NETBOOTD, PIBUILD, KEEP_WORK=1 (keep the temporary directory).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
NETBOOTD=${NETBOOTD:-$BUILD/netbootd/netbootd}
PIBUILD=${PIBUILD:-$BUILD/builder/pibuild}
RUNS=${RUNS:-3}
SERVERS=${SERVERS:-dnsmasq netbootd}
CLIENTS=${CLIENTS:-200}
QUIET_LOAD=${QUIET_LOAD:-1.5}
for t in "$PIBUILD" $([[ $SERVERS == *netbootd* ]] && echo "$NETBOOTD"); do
  [ -x "$t" ] || { echo "tftp-bench: no $t (build it)" >&2; exit 2; }
done
for c in atftp dnsmasq ip sha256sum; do command -v "$c" >/dev/null || { echo "tftp-bench: needs $c" >&2; exit 2; }; done
# shellcheck source=bench/netns_pair.bash
. "$ROOT/bench/netns_pair.bash"
netns_pair_up tftp-bench 213
now() { date +%s.%N; }
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
cli() { ip netns exec "$CNS" "$@"; }

echo "tftp-bench: building the release (pibuild)"
make_release tftp-bench $((64 << 20)) $((4 << 20))
BIG=$(cd "$BOOT" && ls vmlinuz* | head -n 1)
SMALL=$(cd "$BOOT" && ls initrd* | head -n 1)
BIG_SHA=$(sha256sum <"$BOOT/$BIG" | cut -d' ' -f1)
SMALL_SHA=$(sha256sum <"$BOOT/$SMALL" | cut -d' ' -f1)
BIG_BYTES=$(stat -c %s "$BOOT/$BIG")
echo "tftp-bench: release $REL: $BIG ($BIG_BYTES bytes), $SMALL"

# One fetch of the big file; prints MB/s. $1 = lock (lock-step) or win (windowsize 16).
fetch_big() {
  local out=$WORK/client/big t0 t1 opts=(--option "blksize 1468" --option "tsize 0")
  [ "$1" = win ] && opts+=(--option "windowsize 16")
  rm -f "$out"
  t0=$(now)
  cli timeout 300 atftp "${opts[@]}" -g -r "$BIG" -l "$out" "$SIP" \
    >/dev/null 2>&1 || { echo "tftp-bench: atftp failed" >&2; return 1; }
  t1=$(now)
  [ "$(sha256sum <"$out" | cut -d' ' -f1)" = "$BIG_SHA" ] || { echo "tftp-bench: corrupt copy" >&2; return 1; }
  awk -v b="$BIG_BYTES" -v a="$t0" -v z="$t1" 'BEGIN { printf "%.1f\n", b / (z - a) / 1e6 }'
}

# CLIENTS concurrent fetches of the small file; prints "seconds ok_count".
storm() {
  local dir=$WORK/client/storm t0 t1 ok=0 i
  rm -rf "$dir"
  mkdir -p "$dir"
  t0=$(now)
  cli bash -c '
    for i in $(seq "$1"); do
      timeout 300 atftp --option "blksize 1468" -g -r "$2" -l "$3/$i" "$4" >/dev/null 2>&1 &
    done
    wait' storm "$CLIENTS" "$SMALL" "$dir" "$SIP" || true
  t1=$(now)
  for i in $(seq "$CLIENTS"); do
    [ -f "$dir/$i" ] && [ "$(sha256sum <"$dir/$i" | cut -d' ' -f1)" = "$SMALL_SHA" ] && ok=$((ok + 1))
  done
  rm -rf "$dir"
  awk -v a="$t0" -v z="$t1" -v ok="$ok" 'BEGIN { printf "%.2f %d\n", z - a, ok }'
}

# Runs the three measurements against whatever serves port 69 now.
# Sets LOCK, WIN, STORM_S, STORM_OK.
measure() {
  local name=$1 i lock=() win=()
  mkdir -p "$WORK/client"
  for i in $(seq "$RUNS"); do lock+=("$(fetch_big lock)"); done
  for i in $(seq "$RUNS"); do win+=("$(fetch_big win)"); done
  LOCK=$(printf '%s\n' "${lock[@]}" | median)
  WIN=$(printf '%s\n' "${win[@]}" | median)
  read -r STORM_S STORM_OK < <(storm)
  echo "tftp-bench: $name lock-step ${lock[*]} MB/s; windowsize 16 ${win[*]} MB/s;" \
    "$CLIENTS clients ${STORM_S}s ($STORM_OK ok); load $(load)"
}

run_dnsmasq() {
  ip netns exec "$SNS" dnsmasq --no-daemon --conf-file=/dev/null --port=0 --enable-tftp \
    --tftp-root="$BOOT" --listen-address="$SIP" --bind-interfaces --user=root \
    --tftp-max=$((CLIENTS + 50)) --pid-file= --log-facility="$WORK/dnsmasq.log" 2>>"$WORK/dnsmasq.log" &
  local pid=$!
  PIDS+=("$pid")
  wait_udp_port 69
  measure dnsmasq
  D_LOCK=$LOCK D_WIN=$WIN D_STORM=$STORM_S D_OK=$STORM_OK
  kill "$pid"
  wait "$pid" 2>/dev/null || true
}

run_netbootd() {
  netbootd_config 69 8069 >"$WORK/netbootd.yaml"
  ip netns exec "$SNS" "$NETBOOTD" --config "$WORK/netbootd.yaml" 2>"$WORK/netbootd.log" &
  local pid=$!
  PIDS+=("$pid")
  wait_udp_port 69 || { cat "$WORK/netbootd.log" >&2; return 1; }
  sleep 1
  rss() { awk -v k="$1:" '$1 == k { printf "%.1f", $2 / 1024 }' "/proc/$pid/status"; }
  IDLE_RSS=$(rss VmRSS)
  measure netbootd
  N_LOCK=$LOCK N_WIN=$WIN N_STORM=$STORM_S N_OK=$STORM_OK
  PEAK_RSS=$(rss VmHWM)
  kill "$pid"
  wait "$pid" 2>/dev/null || true
}

D_LOCK=- D_WIN=- D_STORM=- D_OK=- N_LOCK=- N_WIN=- N_STORM=- N_OK=- IDLE_RSS=- PEAK_RSS=-
LOADS=()
for server in $SERVERS; do
  wait_quiet
  LOADS+=("$server $(load)")
  "run_$server"
done

# ---- the table ---------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2fx", a / b; else print "-" }'; }
echo
echo "TFTP over veth: $((BIG_BYTES >> 20)) MiB at blksize 1468 (atftp 0.8), median of $RUNS," \
  "MB/s = 10^6 B/s; $CLIENTS concurrent clients x $(($(stat -c %s "$BOOT/$SMALL") >> 20)) MiB" \
  "lock-step. 1-min load at each server's start: ${LOADS[*]}"
echo
echo "| | dnsmasq 2.90 | netbootd | netbootd / dnsmasq |"
echo "|---|---:|---:|---:|"
echo "| lock-step, MB/s | $D_LOCK | $N_LOCK | $(ratio "$N_LOCK" "$D_LOCK") |"
echo "| windowsize 16, MB/s | $D_WIN (ignores it) | $N_WIN | $(ratio "$N_WIN" "$D_LOCK") of dnsmasq lock-step |"
echo "| $CLIENTS clients, s (intact copies) | $D_STORM ($D_OK) | $N_STORM ($N_OK) | $(ratio "$D_STORM" "$N_STORM") as fast |"
echo "| RSS idle / peak, MiB | | $IDLE_RSS / $PEAK_RSS | |"
for ok in $D_OK $N_OK; do [ "$ok" = - ] || [ "$ok" = "$CLIENTS" ]; done
