#!/usr/bin/env bash
# cpu_bench.sh — CPU prefill / decode throughput of SmolLM2-135M-Instruct
# (the Q4_1 GGUF, dequantized to f32) with maskjit's CPU engine, and the same
# model with PyTorch/transformers on the CPU when python3 has torch,
# transformers and gguf.  Prints the numbers (paste them into bench/RESULTS.md).
#
# usage: bench/cpu_bench.sh [BUILD_DIR (default build)] [extra cpu_bench args]
# env:   THREADS (default: all cores), PROMPT_LEN (128), DECODE (32), ROWS (1,8),
#        REPS (3: each measurement repeated, the fastest printed)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$root/build}"
shift || true
gguf=$(ls "$root"/models/smollm2-135m-instruct/*.gguf 2>/dev/null | head -n1 || true)
[ -n "$gguf" ] || gguf=$(bash "$root/scripts/fetch-smollm2.sh")
threads=${THREADS:-$(nproc)}
plen=${PROMPT_LEN:-128}
dec=${DECODE:-32}
rows=${ROWS:-1,8}
reps=${REPS:-3}
llvm_lib=$(llvm-config-19 --libdir)
cuda=${CUDA_HOME:-/usr/local/cuda}
bin="$build/cpu_bench"
cc -O2 -std=gnu11 -I"$root" -I"$root/support" -I"$root/compiler" -I"$root/runtime" \
   "$root/bench/cpu_bench.c" -o "$bin" \
   "$build/libmj_runtime.a" "$build/libmj_compiler.a" "$build/libmj_grammar.a" "$build/libmj_support.a" \
   -L"$llvm_lib" -lLLVM-19 -L"$cuda/lib64" -lnvrtc -ljson-c -lpcre2-8 -lpng -lopenblas -lm -lpthread -ldl \
   -Wl,-rpath,"$llvm_lib" -Wl,-rpath,"$cuda/lib64"
echo "== load average before: $(cut -d" " -f1-3 /proc/loadavg)"
echo "== maskjit CPU engine ($threads threads, $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs))"
"$bin" "$gguf" --prompt-len "$plen" --rows "$rows" --decode "$dec" --threads "$threads" --reps "$reps" "$@"
if python3 -c 'import torch, transformers, gguf' 2>/dev/null; then
  echo "== PyTorch/transformers CPU (float32, $threads threads)"
  python3 "$root/bench/torch_bench.py" "$gguf" --prompt-len "$plen" --rows "$rows" --decode "$dec" \
    --threads "$threads" --reps "$reps" 2>&1 | grep -E '^(load|rows)'
  echo "== load average after the run: $(cut -d' ' -f1-3 /proc/loadavg)"
else
  echo "== PyTorch/transformers: not installed (python3 lacks torch, transformers or gguf)"
fi
