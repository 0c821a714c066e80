#!/usr/bin/env bash
# gpu_verify.sh — the whole GPU verification in one run on a machine with an
# NVIDIA GPU: the card, every GPU unit test (test_runtime_cuda_grid,
# test_runtime_cuda_attn for its three kernel variants via scripts/gpu_check.sh,
# test_compiler_nvrtc linked against the same library, test_runtime_cuda_forward
# via bench/gpu_bench.sh), then the model-level benchmarks of bench/gpu_bench.sh
# (default step: llama = Llama-3.2-3B shape parity, batch-1 decode and the
# 64-question end-to-end run, each with its HF transformers peer).
# usage: scripts/gpu_verify.sh GEN_DIR DEV_DIR OUT_DIR [bench steps...]
#   GEN_DIR: a build's generated/ (flex/bison output); DEV_DIR: json-c include/ + lib/
# Logs go to /tmp/mjv-logs, bundled at the end as OUT_DIR/logs.tgz (one file, for
# the device tool's few-files limit); the summary (pass counts, decode tokens/s,
# HF peers) is printed last.
set -uo pipefail
GEN=${1:?GEN_DIR}
DEV=${2:?DEV_DIR}
OUT=${3:?OUT_DIR}
shift 3
steps=${*:-llama}
L=/tmp/mjv-logs
rm -rf "$L"; mkdir -p "$L" "$OUT"
export XDG_CACHE_HOME=/tmp/mjv-cache MJ_SOURCE_DIR=$PWD PYTHONUNBUFFERED=1
CUDA=${CUDA_HOME:-/usr/local/cuda}
date -u '+start %F %T UTC'
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$L/card.txt"

echo "== grid + attention tests (scripts/gpu_check.sh tests)"
bash scripts/gpu_check.sh "$GEN" "$L/check" tests

echo "== test_compiler_nvrtc"
B=/tmp/mj-gpu-build   # gpu_check.sh's build (libmj_gpu.a has compiler/ and testlib)
flags="-O2 -g -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare -Wno-unused-function
       -ffp-contract=off -fno-strict-aliasing -I. -Isupport -Igrammar -Icompiler -Iruntime
       -Itests/unit -I$B/gen -I$CUDA/include"
cc $(echo $flags) tests/unit/test_compiler_nvrtc.c "$B/libmj_gpu.a" -L$CUDA/lib64 -L$CUDA/lib \
  -Wl,-rpath,$CUDA/lib64 -Wl,-rpath,$CUDA/lib -lnvrtc -ldl -lm -lpthread -o "$B/test_compiler_nvrtc" \
  && timeout 240 "$B/test_compiler_nvrtc" > "$L/nvrtc.log" 2>&1
echo "nvrtc: rc=$? $(tail -1 "$L/nvrtc.log" 2>/dev/null)"
grep -E "CHECK failed" "$L/nvrtc.log" | head -5

echo "== forward unit test + benchmarks (bench/gpu_bench.sh unit $steps)"
bash bench/gpu_bench.sh "$GEN" "$DEV" "$L/bench" unit $steps

echo "== summary"
cat "$L/card.txt"
for f in "$L"/check/grid.log "$L"/check/attn_*.log "$L"/nvrtc.log "$L"/bench/unit.log; do
  [ -f "$f" ] && echo "$(basename "$f"): $(grep -E '[0-9]+ passed' "$f" | tail -1)"
done
grep -h -E '"what": "(decode|e2e)"' "$L"/bench/*_maskjit.jsonl 2>/dev/null
grep -h -o -E '"(hf_generate_tokens_per_s|e2e_hf_cache_s|e2e_seed_s_per_q|top1_agree_fusion)": [0-9.]+' \
  "$L"/bench/*_hf.json 2>/dev/null
date -u '+end %F %T UTC'
tar czf "$OUT/logs.tgz" -C "$L" .
