#!/usr/bin/env bash
# attn_variants.sh — maskjit prefill run times (fusion_seed and causal, the
# issue-4 shapes) for several kernel variants in one go, no peers; one line per
# (variant, mask): median ms for B=1/2048, B=8/2048, B=1/8192, B=1/32768.
# usage: bench/attn_variants.sh BIN_DIR OUT_DIR 'label:ENV=V ENV2=W' ...
#   e.g. 'ws:' 'old:MJ_ATTN_WS=0' 'qsmem:MJ_ATTN_DEFINES=MJ_WS_QSMEM=1'
# (inside one variant, spaces separate variables; MJ_ATTN_DEFINES takes one
# define per variant here).  Writes OUT_DIR/variants.jsonl.
set -uo pipefail
BIN=${1:?BIN_DIR}
OUT=${2:?OUT_DIR}
shift 2
mkdir -p "$OUT"
for spec in "$@"; do
  label=${spec%%:*}
  envs=${spec#*:}
  for m in fusion_seed causal; do
    line=$(env $envs timeout 90 "$BIN/attn_bench" "examples/$m.mask" prefill 20 2>>"$OUT/variants.err" |
      grep '"prefill"' | sed "s/^{/{\"variant\": \"$label\", /" | tee -a "$OUT/variants.jsonl" |
      grep -o '"run_ms": [0-9.]*' | cut -d' ' -f2 | tr '\n' ' ')
    printf '%-14s %-12s %s\n' "$label" "$m" "$line"
  done
done
