#!/bin/bash
# Squashfs writer vs mksquashfs on a Debian root, same threads, level, block size.
#
#   bench/squashfs_bench.sh [BUILD_DIR]      (as root)
#
# Builds (once, cached) a minbase bookworm root with systemd and a kernel
# (~400 MB), builds sqfs-pack if BUILD_DIR lacks it, then runs each writer
# RUNS times, alternating so that cache and thermal drift hit both alike, and
# prints a markdown table of medians: wall time, user+sys CPU, peak RSS
# (/usr/bin/time -v) and image size. Environment knobs: PIB_BENCH_CACHE,
# THREADS, LEVEL, BLOCK, RUNS, QUIET_LOAD / QUIET_WAIT (see quiet()).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src_dir=$(dirname "$here")
build=${1:-/tmp/build-sqfs}
cache=${PIB_BENCH_CACHE:-/var/tmp/pibuild-bench}
root=$cache/root
threads=${THREADS:-2}
level=${LEVEL:-15}
block=${BLOCK:-131072}
runs=${RUNS:-3}
quiet_load=${QUIET_LOAD:-0.5}
quiet_wait=${QUIET_WAIT:-900}

[ "$(id -u)" = 0 ] || { echo "squashfs_bench: run as root (device nodes, owners)" >&2; exit 1; }

if [ ! -x "$root/usr/bin/systemctl" ]; then
    echo "squashfs_bench: building the Debian root in $root (once)" >&2
    rm -rf "$root.tmp"
    mkdir -p "$cache"
    mmdebstrap --variant=minbase --include=systemd,linux-image-amd64 bookworm "$root.tmp" >&2
    rm -rf "$root"
    mv "$root.tmp" "$root"
fi

if [ ! -x "$build/bench/sqfs-pack" ]; then
    cmake -S "$src_dir" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >&2
fi
ninja -C "$build" sqfs-pack >&2
pack=$build/bench/sqfs-pack

work=$(mktemp -d "$cache/run.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Warm the page cache so that neither writer pays for the first read.
tar -C "$root" -cf - . | cat >/dev/null

# Wall time on a shared 2-core machine means nothing while others compile:
# wait (up to QUIET_WAIT s) for the 1-minute load to drop under QUIET_LOAD
# and record the load each run started at; CPU time is the robust figure.
quiet() {
    local waited=0
    while awk -v max="$quiet_load" '{ exit !($1 >= max) }' /proc/loadavg && [ "$waited" -lt "$quiet_wait" ]; do
        sleep 10
        waited=$((waited + 10))
    done
    cut -d' ' -f1 /proc/loadavg
}

# run NAME CMD... : one timed run; appends "wall cpu rss size load" to $work/NAME.
run() {
    local name=$1 out=$work/$1.sqfs load
    shift
    rm -f "$out"
    load=$(quiet)
    /usr/bin/time -v -o "$work/time" "$@" >/dev/null 2>"$work/stderr" || {
        cat "$work/stderr" >&2
        exit 1
    }
    awk -v size="$(stat -c %s "$out")" -v startload="$load" '
        /Elapsed \(wall clock\)/ { n = split($NF, t, ":"); wall = 0; for (i = 1; i <= n; i++) wall = wall * 60 + t[i] }
        /User time/   { cpu += $NF }
        /System time/ { cpu += $NF }
        /Maximum resident set size/ { rss = $NF }
        END { printf "%.2f %.2f %d %d %s\n", wall, cpu, rss, size, startload }' "$work/time" >>"$work/$name"
    echo "squashfs_bench: $name $(tail -1 "$work/$name") (wall cpu rss_kb bytes load)" >&2
}

for i in $(seq "$runs"); do
    echo "squashfs_bench: run $i/$runs" >&2
    run ours "$pack" "$root" "$work/ours.sqfs" --workers "$threads" --level "$level" --block-size "$block"
    run mksquashfs mksquashfs "$root" "$work/mksquashfs.sqfs" -comp zstd -Xcompression-level "$level" \
        -b "$block" -processors "$threads" -noappend -no-progress
done

# median COLUMN FILE
median() { cut -d' ' -f"$1" "$2" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

tree_bytes=$(du -sb "$root" | cut -f1)
inodes=$(find "$root" -xdev | wc -l)
echo
echo "Tree: $root, $((tree_bytes / 1000000)) MB, $inodes names; threads $threads, zstd level $level," \
     "block $block; median of $runs runs, page cache warm."
echo
echo "| writer | wall s | user+sys s | peak RSS MiB | image bytes | load at start |"
echo "|---|---:|---:|---:|---:|---:|"
for name in ours mksquashfs; do
    label=$name
    [ "$name" = ours ] && label="pib_squashfs (sqfs-pack)"
    printf "| %s | %s | %s | %.1f | %s | %s |\n" "$label" "$(median 1 "$work/$name")" "$(median 2 "$work/$name")" \
        "$(echo "$(median 3 "$work/$name") / 1024" | bc -l)" "$(median 4 "$work/$name")" \
        "$(cut -d' ' -f5 "$work/$name" | sort -n | tr '\n' ' ' | sed 's/ $//')"
done
