#!/usr/bin/env bash
# A short run of every libFuzzer target in fuzz/, for the test command (./run test).
#
#   scripts/fuzz_smoke.sh            # each fuzzer FUZZ_SECONDS (default 20) on its seed corpus
#
# Configures and builds a separate clang build (build-fuzz: -DPIB_FUZZ=ON, no
# tests), then runs each fuzz/<name>_fuzz target on a temporary copy of
# fuzz/corpus/<name>/ (the repository is never written), FUZZ_JOBS at a time
# (default: the number of cores). Any crash, sanitizer report, leak, timeout
# or out-of-memory fails the run; the reproducer is kept in
# build-fuzz/artifacts/<name>/ and its path printed.
#
# Environment: FUZZ_SECONDS, FUZZ_JOBS, FUZZ_BUILD_DIR (default <repo>/build-fuzz).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${FUZZ_BUILD_DIR:-$ROOT/build-fuzz}
SECS=${FUZZ_SECONDS:-20}
JOBS=${FUZZ_JOBS:-$(nproc)}

start=$(date +%s)
names=()
for src in "$ROOT"/fuzz/*_fuzz.cpp; do names+=("$(basename "$src" .cpp)"); done
[ ${#names[@]} -gt 0 ] || { echo "fuzz_smoke: no fuzz/*_fuzz.cpp" >&2; exit 1; }

cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPIB_FUZZ=ON -DPIB_BUILD_TESTS=OFF >/dev/null
cmake --build "$BUILD" -j "$JOBS" --target "${names[@]}"
built=$(date +%s)

rm -rf "$BUILD/artifacts"
work=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-smoke.XXXXXX")
trap 'rm -rf "$work"' EXIT
# UBSan reports are not fatal by default; here they are.
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}

run_one() {
  local name=$1 dir=$work/$1
  mkdir -p "$dir/corpus" "$dir/artifacts"
  local seeds=$ROOT/fuzz/corpus/${name%_fuzz}
  [ -d "$seeds" ] && cp -r "$seeds"/. "$dir/corpus/"
  # -timeout: one input may take 10 s; the outer timeout catches a fuzzer
  # that hangs in its own crash handling (ASan's memory profile on an OOM).
  (cd "$dir" && timeout -k 10 $((SECS + 120)) "$BUILD/fuzz/$name" -max_total_time="$SECS" \
    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$dir/artifacts/" \
    "$dir/corpus" >"$dir/log" 2>&1)
}

declare -A pid_of=()
failed=()
finish() {  # name: wait for it, report
  local name=$1 rc=0
  wait "${pid_of[$name]}" || rc=$?
  local execs
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/$name/log" | grep -o '[0-9]*$' || echo '?')
  if [ "$rc" = 0 ]; then
    printf 'fuzz_smoke: %-22s ok     %8s runs in %ss\n' "$name" "$execs" "$SECS"
  else
    failed+=("$name")
    local keep=$BUILD/artifacts/$name
    mkdir -p "$keep"
    cp -r "$work/$name/artifacts/." "$keep/" 2>/dev/null || true
    cp "$work/$name/log" "$keep/log"
    printf 'fuzz_smoke: %-22s FAILED (exit %s); log and reproducer in %s\n' "$name" "$rc" "$keep"
    grep -v '^#\|NEW_FUNC' "$work/$name/log" | tail -n 40 | sed 's/^/    /'
    ls "$keep" | sed "s|^|    reproducer: $keep/|" | grep -v '/log$' || true
  fi
}

running=()
for name in "${names[@]}"; do
  run_one "$name" &
  pid_of[$name]=$!
  running+=("$name")
  if [ ${#running[@]} -ge "$JOBS" ]; then
    finish "${running[0]}"
    running=("${running[@]:1}")
  fi
done
for name in "${running[@]}"; do finish "$name"; done

end=$(date +%s)
echo "fuzz_smoke: ${#names[@]} fuzzers, build $((built - start))s, runs $((end - built))s"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz_smoke: FAILED: ${failed[*]}" >&2
  exit 1
fi
