#!/usr/bin/env bash
# sass_check.sh — the machine code of maskjit's GPU kernels on the build
# machine, no GPU needed.
#   scripts/sass_check.sh [MASK=examples/fusion_seed.mask] [--define X=Y ...]
#     disassembles the sm_90a prefill kernel (attn_prefill_ws) of a mask and
#     reports what a kernel change must keep: instruction count, local-memory
#     spills, MUFU.EX2 in total and between the main loop's two product waits
#     (WARPGROUP.DEPBAR.LE gsb0, 0x1 ... 0x0: the softmax of step t runs while
#     P(t-1) V(t-1) is on the tensor cores; 66 = 64 exponentials + 2 rescale
#     factors for 128-key steps, 34 for 64).  The defines go to maskjit compile
#     (head dim 128 unless one sets MJ_HEAD_DIM).
#   scripts/sass_check.sh --fwd [KERNEL]
#     the forward pass's kernels (fwd_kernels.cu, as the CUDA engine compiles
#     them; build/fwd_cubin): registers, spills and shared memory of every
#     kernel, and with KERNEL (e.g. mj_fwd_gemv_rope1) its SASS on stdout.
# cuobjdump/nvdisasm: from PATH, else NVIDIA's CUDA component wheels on PyPI
# (nvidia-cuda-cuobjdump, nvidia-cuda-nvdisasm), unpacked once under
# build/tools — the CUDA toolkit's own tools, which the build machine lacks.
set -euo pipefail
cd "$(dirname "$0")/.."
TOOLS=$PWD/build/tools
if ! command -v cuobjdump >/dev/null || ! command -v nvdisasm >/dev/null; then
  if [ ! -x "$TOOLS/bin/nvdisasm" ]; then
    mkdir -p "$TOOLS/whl" "$TOOLS/bin"
    python3 -m pip download --no-deps -q -d "$TOOLS/whl" nvidia-cuda-cuobjdump nvidia-cuda-nvdisasm
    for w in "$TOOLS"/whl/*.whl; do python3 -m zipfile -e "$w" "$TOOLS/x"; done
    find "$TOOLS/x" -type f \( -name cuobjdump -o -name nvdisasm \) -exec cp {} "$TOOLS/bin/" \;
    chmod +x "$TOOLS"/bin/*
  fi
  export PATH="$TOOLS/bin:$PATH"
fi
CUBIN=$(mktemp --suffix=.cubin)
trap 'rm -f "$CUBIN"' EXIT

if [ "${1:-}" = "--fwd" ]; then
  [ -x build/fwd_cubin ] || { echo "sass_check: build/fwd_cubin missing (make build first)" >&2; exit 1; }
  ./build/fwd_cubin "$CUBIN"
  if [ -n "${2:-}" ]; then
    cuobjdump -sass -fun "$2" "$CUBIN"
  else
    cuobjdump -res-usage "$CUBIN" | awk '/Function/ {f = $2} /REG:/ {print f, $1, $2, $3, $4}'
  fi
  exit 0
fi

MASK=${1:-examples/fusion_seed.mask}
[ $# -gt 0 ] && shift
[ -x build/maskjit ] || { echo "sass_check: build/maskjit missing (make build first)" >&2; exit 1; }
./build/maskjit compile "$MASK" --emit cubin --template attn_prefill_ws --arch sm_90a --define MJ_HEAD_DIM=128 \
  --define MJ_ATTN_QTILE=128 --define MJ_WS_TMA=1 "$@" --no-cache -o "$CUBIN"
cuobjdump -sass -fun mj_attn_prefill "$CUBIN" | awk -v mask="$MASK" '
  /\/\*[0-9a-f]+\*\/ +[@A-Z]/ {
    n++
    if (/MUFU\.EX2/) { ex2++; if (inside) cnt++ }
    if (/STL|LDL/) spill++
    if (/DEPBAR\.LE gsb0, 0x1/) { inside = 1; cnt = 0 }
    else if (/DEPBAR\.LE gsb0, 0x0/ && inside) { between = between " " cnt; inside = 0 }
  }
  END {
    printf "%s: %d instructions, %d local loads/stores, %d MUFU.EX2\n", mask, n, spill, ex2
    printf "  EX2 between the product waits of the main loop:%s (66 expected for 128-key steps, 34 for 64)\n", between
  }'
