#!/usr/bin/env bash
# proxyDHCP answers per second and latency: netbootd vs dnsmasq, driven by
# perfdhcp (Debian kea-admin) over a veth pair between two network namespaces
# this script creates (and removes).
#
#   bench/dhcp_bench.sh [BUILD_DIR]        # as root; BUILD_DIR default <repo>/build
#
# Each server in turn answers in proxy mode on the server end of the pair:
#   dnsmasq --port=0 --dhcp-range=10.216.0.0,proxy --pxe-service=0,"Raspberry Pi Boot"
#   netbootd --config F   (dhcp.mode proxy; unknown clients get a default release
#                          built here with pibuild, so they are answered)
# The client is a Raspberry Pi 4 as perfdhcp plays it: DISCOVERs only (-i),
# each from one of CLIENTS MAC addresses, with option 60
# "PXEClient:Arch:00000:UNDI:002001", 93 (arch 0), 94 (UNDI 2.1) and 97 (a
# GUID), which is what makes both servers answer. For each rate in RATES
# (DISCOVERs/s) it runs SECONDS_PER_RATE and reports the OFFERs received per
# second, the share of DISCOVERs without an OFFER, and the p50/p99
# DISCOVER->OFFER latency computed from perfdhcp's per-exchange timestamps
# (-x t). The fastest rate with no
# loss is the figure to compare. Waits (up to 5 min) for the 1-minute load to
# drop under QUIET_LOAD before each server and prints the load.
#
# Environment: RATES ("1000 5000 10000 20000 30000 40000"), SECONDS_PER_RATE (10),
# CLIENTS (10000), QUIET_LOAD (1.5), SERVERS ("dnsmasq netbootd"), NETBOOTD,
# PIBUILD, KEEP_WORK=1.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
NETBOOTD=${NETBOOTD:-$BUILD/netbootd/netbootd}
PIBUILD=${PIBUILD:-$BUILD/builder/pibuild}
RATES=${RATES:-1000 5000 10000 20000 30000 40000}
SECS=${SECONDS_PER_RATE:-10}
CLIENTS=${CLIENTS:-10000}
QUIET_LOAD=${QUIET_LOAD:-1.5}
SERVERS=${SERVERS:-dnsmasq netbootd}
for c in perfdhcp dnsmasq ip; do command -v "$c" >/dev/null || { echo "dhcp-bench: needs $c" >&2; exit 2; }; done
if [[ $SERVERS == *netbootd* ]]; then
  for t in "$NETBOOTD" "$PIBUILD"; do [ -x "$t" ] || { echo "dhcp-bench: no $t (build it)" >&2; exit 2; }; done
fi
# shellcheck source=bench/netns_pair.bash
. "$ROOT/bench/netns_pair.bash"
netns_pair_up dhcp-bench 216

# The Pi 4 bootloader's DISCOVER options (DESIGN.md), as perfdhcp -o wants them.
VENDOR=$(printf 'PXEClient:Arch:00000:UNDI:002001' | od -An -tx1 | tr -d ' \n')
PI_OPTS=(-o "60,$VENDOR" -o 93,0000 -o 94,010201 -o 97,00000102030405060708090a0b0c0d0e0f)

# One perfdhcp run at $1 DISCOVERs/s; prints "offers_per_s loss_% p50_ms p99_ms".
drive() {
  local rate=$1 log=$WORK/perfdhcp-$2-$1.log
  ip netns exec "$CNS" timeout $((SECS + 60)) perfdhcp -4 -l "$CIF" -i -r "$rate" -R "$CLIENTS" \
    -p "$SECS" -W 500000 "${PI_OPTS[@]}" -x t >"$log" 2>&1 || true  # exit 3 = some drops
  # DISCOVER->OFFER latencies in ms, sorted, from the "sent / received:" lines.
  awk '/^sent \/ received:/ { printf "%.3f\n", ($6 - $4) * 1000 }' "$log" | sort -g >"$log.lat"
  local n p50 p99
  n=$(wc -l <"$log.lat")
  p50=$(sed -n "$(((n * 50 + 99) / 100))p" "$log.lat")
  p99=$(sed -n "$(((n * 99 + 99) / 100))p" "$log.lat")
  awk -v secs="$SECS" -v p50="${p50:--}" -v p99="${p99:--}" '
    /^sent packets:/ { sent = $3 }
    /^received packets:/ { recv = $3 }
    END {
      if (sent == 0) { print "- - - -"; exit }
      printf "%d %.2f %s %s\n", recv / secs, 100 * (sent - recv) / sent, p50, p99
    }' "$log"
}

declare -A RESULT=()
LOADS=()
sweep() {
  local name=$1 rate r
  for rate in $RATES; do
    r=$(drive "$rate" "$name")
    RESULT[$name,$rate]=$r
    echo "dhcp-bench: $name at $rate/s: offers/s loss% p50ms p99ms = $r (load $(load))"
  done
}

run_dnsmasq() {
  ip netns exec "$SNS" dnsmasq --no-daemon --conf-file=/dev/null --port=0 \
    --dhcp-range=10.216.0.0,proxy --pxe-service=0,"Raspberry Pi Boot" --interface="$SIF" \
    --bind-interfaces --user=root --pid-file= --quiet-dhcp --dhcp-leasefile="$WORK/leases" \
    --log-facility="$WORK/dnsmasq.log" 2>>"$WORK/dnsmasq.log" &
  local pid=$!
  PIDS+=("$pid")
  wait_udp_port 67
  sweep dnsmasq
  kill "$pid"
  wait "$pid" 2>/dev/null || true
}

run_netbootd() {
  # A release for unknown clients, without which netbootd answers nobody.
  make_release dhcp-bench 4096 4096
  netbootd_config 6969 8067 >"$WORK/netbootd.yaml"
  ip netns exec "$SNS" "$NETBOOTD" --config "$WORK/netbootd.yaml" 2>"$WORK/netbootd.log" &
  local pid=$!
  PIDS+=("$pid")
  wait_udp_port 67 || { cat "$WORK/netbootd.log" >&2; return 1; }
  sleep 1
  sweep netbootd
  kill "$pid"
  wait "$pid" 2>/dev/null || true
}

for server in $SERVERS; do
  wait_quiet
  LOADS+=("$server $(load)")
  "run_$server"
done

# ---- the table ---------------------------------------------------------------
echo
echo "proxyDHCP, Pi 4 DISCOVER -> OFFER, perfdhcp -i -R $CLIENTS, ${SECS}s per rate;" \
  "1-min load at each server's start: ${LOADS[*]}"
echo
echo "| DISCOVER/s asked | dnsmasq 2.90: OFFERs/s, loss, p50 / p99 ms | netbootd: OFFERs/s, loss, p50 / p99 ms |"
echo "|---:|---|---|"
cell() {
  local r=${RESULT[$1,$2]:-}
  [ -n "$r" ] || { echo "-"; return; }
  set -- $r
  echo "$1, $2 %, $3 / $4"
}
best() {  # the highest rate asked with no loss
  local name=$1 b=- rate loss
  for rate in $RATES; do
    read -r _ loss _ _ <<<"${RESULT[$name,$rate]:-- - - -}"
    [ "$loss" = 0.00 ] && b=$rate
  done
  echo "$b"
}
for rate in $RATES; do
  echo "| $rate | $(cell dnsmasq "$rate") | $(cell netbootd "$rate") |"
done
echo "| **max rate without loss** | $(best dnsmasq) | $(best netbootd) |"
