#!/usr/bin/env bash
# attn_bench.sh — maskjit's attention kernels vs PyTorch FlexAttention (compiled)
# and SDPA in one run on a GPU machine (shapes of issue 4: seed fusion mask,
# 5 segments, H=24, KV heads 8, D=128; decode with one query per row).
# usage: bench/attn_bench.sh BIN_DIR OUT_DIR   (BIN_DIR holds attn_bench, built
# by scripts/gpu_tests.sh).  Writes OUT_DIR/maskjit.jsonl, peers.json, table.md.
set -euo pipefail
BIN=${1:?BIN_DIR}
OUT=${2:?OUT_DIR}
mkdir -p "$OUT"
"$BIN/attn_bench" examples/fusion_seed.mask all 30 | tee "$OUT/maskjit.jsonl"
"$BIN/attn_bench" examples/causal.mask prefill 30 | tee -a "$OUT/maskjit.jsonl"
PYTHONUNBUFFERED=1 python3 bench/attn_bench.py --maskjit "$OUT/maskjit.jsonl" --json "$OUT/peers.json" \
  | tee "$OUT/table.md"
