#!/bin/bash
# netbootd's HttpServer vs nginx serving one 512 MiB file over a veth pair.
#
#   bench/http_bench.sh [BUILD_DIR]      (as root)
#
# Creates two network namespaces joined by a veth (names carry this script's
# PID; removed with everything else by the EXIT trap), serves a 512 MiB file
# from the server namespace with bench/http-serve (HttpServer on one EventLoop
# thread, as in netbootd) and with nginx (sendfile on, 2 workers, its own
# temporary config), and drives both with wrk from the client namespace:
# 1 connection and 64 connections, DURATION s each, RUNS runs, alternating
# servers so that drift hits both alike. Prints every run and a markdown table
# of medians in MB/s (10^6 bytes/s). Knobs: RUNS (3), DURATION (10), SIZE_MIB
# (512), SERVER_BIN (default BUILD_DIR/bench/http-serve), QUIET_LOAD (1.5) and
# QUIET_WAIT (600 s): wait for the 1-minute load to drop below QUIET_LOAD first.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src_dir=$(dirname "$here")
build=${1:-$src_dir/build}
runs=${RUNS:-3}
duration=${DURATION:-10}
size_mib=${SIZE_MIB:-512}
server_bin=${SERVER_BIN:-$build/bench/http-serve}
quiet_load=${QUIET_LOAD:-1.5}
quiet_wait=${QUIET_WAIT:-600}

[ "$(id -u)" = 0 ] || { echo "http_bench: run as root (network namespaces)" >&2; exit 1; }
for tool in wrk nginx ip; do
    command -v "$tool" >/dev/null || { echo "http_bench: $tool not installed" >&2; exit 1; }
done
if [ ! -x "$server_bin" ]; then
    ninja -C "$build" http-serve >&2
fi

ns_s=pibhttp-s-$$
ns_c=pibhttp-c-$$
veth_s=vhs$$
veth_c=vhc$$
ip_s=10.214.0.1
ip_c=10.214.0.2
work=$(mktemp -d /var/tmp/pib-http-bench.XXXXXX)
pids=()

cleanup() {
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    ip netns del "$ns_c" 2>/dev/null || true
    ip netns del "$ns_s" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# A shared 2-core machine: numbers taken while others compile mean little.
waited=0
while awk -v max="$quiet_load" '{ exit !($1 >= max) }' /proc/loadavg && [ "$waited" -lt "$quiet_wait" ]; do
    [ "$waited" = 0 ] && echo "http_bench: waiting for load < $quiet_load ($(cut -d' ' -f1 /proc/loadavg))" >&2
    sleep 10
    waited=$((waited + 10))
done

ip netns add "$ns_s"
ip netns add "$ns_c"
ip link add "$veth_s" type veth peer name "$veth_c"
ip link set "$veth_s" netns "$ns_s"
ip link set "$veth_c" netns "$ns_c"
ip -n "$ns_s" addr add "$ip_s/24" dev "$veth_s"
ip -n "$ns_c" addr add "$ip_c/24" dev "$veth_c"
for ns in "$ns_s" "$ns_c"; do ip -n "$ns" link set lo up; done
ip -n "$ns_s" link set "$veth_s" up
ip -n "$ns_c" link set "$veth_c" up

mkdir -p "$work/www" "$work/nginx"
chmod 755 "$work" "$work/www"  # nginx workers run as www-data
head -c "$((size_mib << 20))" /dev/urandom >"$work/www/big.bin"
cat "$work/www/big.bin" >/dev/null  # page cache: both servers read from memory

ip netns exec "$ns_s" "$server_bin" --root "$work/www" --address "$ip_s" --port 8080 \
    >"$work/http-serve.log" 2>&1 &
pids+=($!)

cat >"$work/nginx/nginx.conf" <<EOF
daemon off;
worker_processes 2;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 1024; }
http {
    sendfile on;
    tcp_nopush on;
    access_log off;
    client_body_temp_path $work/nginx/body;
    proxy_temp_path $work/nginx/proxy;
    fastcgi_temp_path $work/nginx/fastcgi;
    uwsgi_temp_path $work/nginx/uwsgi;
    scgi_temp_path $work/nginx/scgi;
    types { application/octet-stream bin; }
    server {
        listen $ip_s:8081;
        root $work/www;
    }
}
EOF
ip netns exec "$ns_s" nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" 2>>"$work/nginx/error.log" &
pids+=($!)

# Both must answer with the whole file before we measure.
for port in 8080 8081; do
    for _ in $(seq 50); do
        got=$(ip netns exec "$ns_c" curl -s -o /dev/null -w '%{size_download}' "http://$ip_s:$port/big.bin" || true)
        [ "$got" = "$((size_mib << 20))" ] && break
        sleep 0.2
    done
    [ "$got" = "$((size_mib << 20))" ] || { echo "http_bench: port $port not serving ($got bytes)" >&2; cat "$work"/*.log "$work/nginx/error.log" >&2; exit 1; }
done

# wrk's "Transfer/sec: 1.23GB" (binary units) -> MB/s (decimal).
wrk_mbs() {
    local conns=$1 port=$2 threads=1
    [ "$conns" -gt 1 ] && threads=2
    ip netns exec "$ns_c" wrk -t"$threads" -c"$conns" -d"${duration}s" "http://$ip_s:$port/big.bin" |
        awk '/^Transfer\/sec:/ {
                v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[A-Za-z]+$/, "", v);
                m = (u == "GB") ? 1073741824 : (u == "MB") ? 1048576 : (u == "KB") ? 1024 : 1;
                printf "%.0f\n", v * m / 1e6 }'
}

median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

declare -A results
echo "http_bench: ${size_mib} MiB file, ${duration} s per run, $runs runs; load at start: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for run in $(seq "$runs"); do
    for conns in 1 64; do
        for server in netbootd nginx; do
            port=8080
            [ "$server" = nginx ] && port=8081
            mbs=$(wrk_mbs "$conns" "$port")
            results[$server-$conns]+="$mbs "
            echo "run $run  conns $conns  $server  ${mbs} MB/s  (load $(cut -d' ' -f1 /proc/loadavg))" >&2
        done
    done
done

echo
echo "| connections | netbootd HttpServer MB/s | nginx MB/s | ratio |"
echo "|---|---|---|---|"
for conns in 1 64; do
    a=$(echo "${results[netbootd-$conns]}" | tr ' ' '\n' | grep . | median)
    b=$(echo "${results[nginx-$conns]}" | tr ' ' '\n' | grep . | median)
    ratio=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }')
    echo "| $conns | $a (runs: ${results[netbootd-$conns]% }) | $b (runs: ${results[nginx-$conns]% }) | $ratio |"
done
echo
echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg)"
