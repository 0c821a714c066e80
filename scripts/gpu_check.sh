#!/usr/bin/env bash
# gpu_check.sh — the whole GPU check in one go on a machine with an NVIDIA GPU:
# build with scripts/gpu_tests.sh, run the GPU differential test and the
# attention test for each kernel variant (wgmma 64- and 128-row tiles with
# PARTIAL-block bitmasks; mma.sync evaluating the mask in-kernel), then the attention benchmark against FlexAttention and SDPA.
# usage: scripts/gpu_check.sh GEN_DIR OUT_DIR [tests|bench|all]
# Logs and tables go to OUT_DIR; a short summary is printed last.
set -uo pipefail
GEN=${1:?GEN_DIR}
OUT=${2:?OUT_DIR}
WHAT=${3:-all}
BIN=/tmp/mj-gpu-build
export XDG_CACHE_HOME=${XDG_CACHE_HOME:-/tmp/mj-gpu-cache} MJ_SOURCE_DIR=$PWD
mkdir -p "$OUT"
bash scripts/gpu_tests.sh "$GEN" "$BIN" >"$OUT/build.log" 2>&1 || { tail -30 "$OUT/build.log"; exit 1; }
summary=()
if [ "$WHAT" = tests ] || [ "$WHAT" = all ]; then
  timeout 200 "$BIN/test_runtime_cuda_grid" >"$OUT/grid.log" 2>&1
  summary+=("grid: rc=$? $(tail -1 "$OUT/grid.log")")
  for v in default qtile128 mma_nopmask; do
    case $v in
      default) env= ;;
      qtile128) env="MJ_ATTN_QTILE=128" ;;
      mma_nopmask) env="MJ_ATTN_NO_WGMMA=1 MJ_ATTN_NO_PMASK=1" ;;
    esac
    env $env timeout 240 "$BIN/test_runtime_cuda_attn" >"$OUT/attn_$v.log" 2>&1
    summary+=("attn $v: rc=$? $(grep -E 'worst' "$OUT/attn_$v.log") $(tail -1 "$OUT/attn_$v.log")")
    grep -E "CHECK failed" "$OUT/attn_$v.log" | head -5
  done
fi
if [ "$WHAT" = bench ] || [ "$WHAT" = all ]; then
  for v in "MJ_ATTN_NO_WGMMA=1" "MJ_ATTN_QTILE=128" "MJ_ATTN_NO_PMASK=1"; do
    env $v timeout 120 "$BIN/attn_bench" examples/fusion_seed.mask prefill 20 >"$OUT/variant.jsonl" 2>>"$OUT/bench.err"
    summary+=("$v: fusion prefill run_ms $(grep -o '"run_ms": [0-9.]*' "$OUT/variant.jsonl" | cut -d' ' -f2 | tr '\n' ' ')")
  done
  timeout 240 bash bench/attn_bench.sh "$BIN" "$OUT" >"$OUT/bench.log" 2>>"$OUT/bench.err"
  summary+=("bench: rc=$?")
fi
printf '%s\n' "${summary[@]}"
[ -f "$OUT/table.md" ] && cat "$OUT/table.md"
tail -3 "$OUT/bench.err" 2>/dev/null
exit 0
