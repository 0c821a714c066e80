#!/usr/bin/env bash
# gpu_tests.sh — builds the GPU tests and the attention benchmark without the
# full CMake dependency set, for a lent GPU machine that has CUDA and a C
# compiler but no flex/bison/LLVM: support/, grammar/ (with the parser that
# flex/bison generated on the build machine, from GEN), compiler/ minus the
# LLVM JIT, runtime/cuda_driver.c, runtime/cuda_attn.c and cuda_attn_ws.c.  The embedded
# templates are regenerated here with cmake -P (cmake/embed.cmake).
# usage: scripts/gpu_tests.sh GEN_DIR OUT_DIR   (GEN_DIR: a build's generated/)
# Produces OUT_DIR/test_runtime_cuda_attn, test_runtime_cuda_grid, attn_bench.
set -euo pipefail
GEN=${1:?GEN_DIR with mask.lex.c and mask.tab.c}
OUT=${2:?OUT_DIR}
CC=${CC:-cc}
CUDA=${CUDA_HOME:-/usr/local/cuda}
mkdir -p "$OUT/obj" "$OUT/gen"
cp "$GEN"/mask.lex.[ch] "$GEN"/mask.tab.[ch] "$OUT/gen/"
files=$(ls kernels/templates/* compiler/mj_env.h compiler/mj_semantics.h compiler/std.mask 2>/dev/null | sed "s|^|$PWD/|" | tr '\n' '|')
cmake -DOUT_DIR="$OUT/gen" "-DFILES=${files%|}" -P cmake/embed.cmake
flags="-O2 -g -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare -Wno-unused-function
       -ffp-contract=off -fno-strict-aliasing -I. -Isupport -Igrammar -Icompiler -Iruntime -Ifusion
       -Itests/unit -I$OUT/gen -I$CUDA/include"
flags=$(echo $flags)
srcs="$(ls support/*.c grammar/*.c) $OUT/gen/mask.lex.c $OUT/gen/mask.tab.c $OUT/gen/embedded.c
      $(ls compiler/*.c | grep -v '/jit') runtime/cuda_driver.c runtime/cuda_attn.c runtime/cuda_attn_ws.c tests/unit/support/testlib.c"
echo "$srcs" | tr ' ' '\n' | grep . | xargs -P "$(nproc)" -I{} sh -c \
  "$CC $flags -c {} -o $OUT/obj/\$(echo {} | tr '/' '_').o"
ar rcs "$OUT/libmj_gpu.a" "$OUT"/obj/*.o
libs="-L$CUDA/lib64 -L$CUDA/lib -Wl,-rpath,$CUDA/lib64 -Wl,-rpath,$CUDA/lib -lnvrtc -ldl -lm -lpthread"
for t in test_runtime_cuda_attn test_runtime_cuda_grid; do
  $CC $flags tests/unit/$t.c "$OUT/libmj_gpu.a" $libs -o "$OUT/$t"
done
$CC $flags bench/attn_bench.c "$OUT/libmj_gpu.a" $libs -o "$OUT/attn_bench"
echo "gpu_tests.sh: built in $OUT"
