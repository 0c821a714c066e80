#!/usr/bin/env bash
# run.sh — build and run the front-end fuzzer (tests/fuzz/fuzz_check.c).
#   tests/fuzz/run.sh [BUILD_DIR] [SECONDS]      (defaults: build-fuzz 30)
# Configures BUILD_DIR with clang and -DMJ_FUZZ=ON, builds only fuzz_check
# (libFuzzer + ASan + UBSan), and runs it for SECONDS seconds with inputs of at
# most 4096 bytes on a fresh copy of tests/fuzz/corpus plus examples/*.mask
# (the committed corpus is never modified).  Runs in an empty directory so
# that relative imports find nothing.  Exits non-zero when the fuzzer finds a
# crash, a leak, a timeout or runs out of memory; the input is then kept under
# BUILD_DIR/fuzz-artifacts/.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-build-fuzz}
SECS=${2:-30}
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
CC_FUZZ=${CC_FUZZ:-clang}
command -v "$CC_FUZZ" >/dev/null || { echo "fuzz: $CC_FUZZ not found (install clang and libclang-rt-14-dev)" >&2; exit 1; }

cmake -S "$ROOT" -B "$BUILD" -DCMAKE_C_COMPILER="$CC_FUZZ" -DMJ_FUZZ=ON \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" --target fuzz_check -j "$(nproc)" >/dev/null

work="$BUILD/fuzz-corpus"
rm -rf "$work" "$BUILD/fuzz-run"
mkdir -p "$work" "$BUILD/fuzz-artifacts" "$BUILD/fuzz-run"
cp "$ROOT"/tests/fuzz/corpus/* "$work"/
for f in "$ROOT"/examples/*.mask; do cp "$f" "$work/example_$(basename "$f")"; done   # new examples too

echo "fuzz: running fuzz_check for ${SECS}s on $(ls "$work" | wc -l) seed inputs"
cd "$BUILD/fuzz-run"
status=0
ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  "$BUILD/fuzz_check" -max_len=4096 -max_total_time="$SECS" -timeout=20 -rss_limit_mb=2048 \
  -print_final_stats=1 -artifact_prefix="$BUILD/fuzz-artifacts/" "$work" \
  >"$BUILD/fuzz.log" 2>&1 || status=$?
tail -n 15 "$BUILD/fuzz.log"
if [ $status -ne 0 ]; then
  echo "fuzz: FAILED (exit $status); artifacts in $BUILD/fuzz-artifacts/, log in $BUILD/fuzz.log" >&2
  exit 1
fi
echo "fuzz: ok"
