#!/usr/bin/env bash
# gpu_check.sh — the whole GPU check in one go on a machine with an NVIDIA GPU:
# build with scripts/gpu_tests.sh, run the GPU differential test and the
# attention test for each kernel variant, then the attention benchmark against
# FlexAttention and SDPA.  Variants (names for VARIANTS):
#   default      sm_90a: warp-specialised attn_prefill_ws (128-key steps, K/V loaded
#                by TMA), PARTIAL-block bitmasks
#   ws_cpasync   attn_prefill_ws copying K/V with cp.async instead of TMA (MJ_ATTN_TMA=0)
#   ws_k64       attn_prefill_ws with 64-key steps and Q in registers (MJ_WS_KEYS=64)
#   ws_nopmask   attn_prefill_ws evaluating the mask in the kernel (MJ_ATTN_NO_PMASK=1)
#   ws_persist   attn_prefill_ws's persistent variant for every prefill plan (MJ_ATTN_PERSIST=1)
#   ws0          the previous wgmma kernel attn_prefill, 64-row tiles (MJ_ATTN_WS=0)
#   ws0_qtile128 the same with 128-row tiles
#   mma_nopmask  mma.sync (the sm_80 kernel) evaluating the mask in the kernel
# usage: scripts/gpu_check.sh GEN_DIR OUT_DIR [tests|bench|sanitize|all]
#   VARIANTS="default ws0" limits the tested variants; `sanitize` runs
#   compute-sanitizer (memcheck, racecheck, synccheck) on the fusion_seed subset
#   of the attention test without its 16k-token rows (MJ_ATTN_NO_LONG=1).
# Logs and tables go to OUT_DIR; a short summary is printed last.
set -uo pipefail
GEN=${1:?GEN_DIR}
OUT=${2:?OUT_DIR}
WHAT=${3:-all}
VARIANTS=${VARIANTS:-default ws_cpasync ws_k64 ws_nopmask ws_persist ws0 ws0_qtile128 mma_nopmask}
BIN=/tmp/mj-gpu-build
export XDG_CACHE_HOME=${XDG_CACHE_HOME:-/tmp/mj-gpu-cache} MJ_SOURCE_DIR=$PWD
mkdir -p "$OUT"
bash scripts/gpu_tests.sh "$GEN" "$BIN" >"$OUT/build.log" 2>&1 || { tail -30 "$OUT/build.log"; exit 1; }
variant_env() {
  case $1 in
    default) echo "" ;;
    ws_k64) echo "MJ_ATTN_DEFINES=MJ_WS_KEYS=64" ;;
    ws_cpasync) echo "MJ_ATTN_TMA=0" ;;
    ws_nopmask) echo "MJ_ATTN_NO_PMASK=1" ;;
    ws_persist) echo "MJ_ATTN_PERSIST=1" ;;
    ws0) echo "MJ_ATTN_WS=0" ;;
    ws0_qtile128) echo "MJ_ATTN_WS=0 MJ_ATTN_QTILE=128" ;;
    mma_nopmask) echo "MJ_ATTN_NO_WGMMA=1 MJ_ATTN_NO_PMASK=1" ;;
  esac
}
summary=()
if [ "$WHAT" = tests ] || [ "$WHAT" = all ]; then
  timeout 200 "$BIN/test_runtime_cuda_grid" >"$OUT/grid.log" 2>&1
  summary+=("grid: rc=$? $(tail -1 "$OUT/grid.log")")
  for v in $VARIANTS; do
    env $(variant_env "$v") timeout 240 "$BIN/test_runtime_cuda_attn" >"$OUT/attn_$v.log" 2>&1
    summary+=("attn $v: rc=$? $(grep -E 'worst' "$OUT/attn_$v.log") $(tail -1 "$OUT/attn_$v.log")")
    grep -E "CHECK failed" "$OUT/attn_$v.log" | head -5
  done
fi
if [ "$WHAT" = sanitize ]; then
  for tool in memcheck racecheck synccheck; do
    MJ_ATTN_ONLY=fusion_seed MJ_ATTN_NO_LONG=1 timeout 300 compute-sanitizer --tool $tool --error-exitcode 9 \
      "$BIN/test_runtime_cuda_attn" >"$OUT/san_$tool.log" 2>&1
    summary+=("sanitize $tool: rc=$? $(grep -E 'ERROR SUMMARY' "$OUT/san_$tool.log" | tail -1) $(tail -1 "$OUT/san_$tool.log")")
  done
fi
if [ "$WHAT" = bench ] || [ "$WHAT" = all ]; then
  for v in $VARIANTS; do
    [ "$v" = default ] && continue
    env $(variant_env "$v") timeout 120 "$BIN/attn_bench" examples/fusion_seed.mask prefill 20 >"$OUT/variant.jsonl" 2>>"$OUT/bench.err"
    summary+=("$v: fusion prefill run_ms $(grep -o '"run_ms": [0-9.]*' "$OUT/variant.jsonl" | cut -d' ' -f2 | tr '\n' ' ')")
  done
  timeout 240 bash bench/attn_bench.sh "$BIN" "$OUT" >"$OUT/bench.log" 2>>"$OUT/bench.err"
  summary+=("bench: rc=$?")
fi
printf '%s\n' "${summary[@]}"
[ -f "$OUT/table.md" ] && cat "$OUT/table.md"
tail -3 "$OUT/bench.err" 2>/dev/null
exit 0
