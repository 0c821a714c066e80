#!/usr/bin/env bash
# gpu_build.sh — builds the CUDA forward's test and benchmark driver on a GPU
# machine that has CUDA and a C compiler but none of the project's other
# development packages (flex/bison, LLVM, json-c, OpenBLAS, PCRE2, utf8proc):
# support/, grammar/ with the parser flex/bison generated on the build
# machine (GEN), compiler/ without the LLVM JIT, runtime/ without the
# tokenizer and generate.c, the CPU engine over a plain-loop CBLAS
# (bench/gpu_shim), json-c from DEV (include/ and lib/libjson-c.a copied from
# a Debian machine).  Embedded templates are regenerated with cmake -P.
# usage: bench/gpu_build.sh GEN_DIR DEV_DIR OUT_DIR
# Produces OUT_DIR/test_runtime_cuda_forward and OUT_DIR/gpu_forward.
set -euo pipefail
GEN=${1:?GEN_DIR with mask.lex.c and mask.tab.c}
DEV=${2:?DEV_DIR with include/json-c and lib/libjson-c.a}
OUT=${3:?OUT_DIR}
CC=${CC:-cc}
CUDA=${CUDA_HOME:-/usr/local/cuda}
rm -rf "$OUT/obj"
mkdir -p "$OUT/obj" "$OUT/gen"
cp "$GEN"/mask.lex.[ch] "$GEN"/mask.tab.[ch] "$OUT/gen/"
files=$(ls kernels/templates/* compiler/mj_env.h compiler/mj_semantics.h compiler/std.mask | sed "s|^|$PWD/|" | tr '\n' '|')
cmake -DOUT_DIR="$OUT/gen" "-DFILES=${files%|}" -P cmake/embed.cmake
flags="-O2 -g -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare -Wno-unused-function
       -ffp-contract=off -fno-strict-aliasing -I. -Isupport -Igrammar -Icompiler -Iruntime -Ifusion
       -Itests/unit -Ibench/gpu_shim -I$OUT/gen -I$DEV/include -I$CUDA/include"
flags=$(echo $flags)
srcs="$(ls support/*.c grammar/*.c) $OUT/gen/mask.lex.c $OUT/gen/mask.tab.c $OUT/gen/embedded.c
      $(ls compiler/*.c | grep -v '/jit') $(ls runtime/*.c | grep -v -e '/tokenizer' -e '/generate.c')
      bench/gpu_shim/cblas_shim.c tests/unit/support/testlib.c"
echo "$srcs" | tr ' ' '\n' | grep . | xargs -P "$(nproc)" -I{} sh -c \
  "$CC $flags -c {} -o $OUT/obj/\$(echo {} | tr '/' '_').o"
rm -f "$OUT/libmj_fwd.a"
ar rcs "$OUT/libmj_fwd.a" "$OUT"/obj/*.o
libs="$DEV/lib/libjson-c.a -L$CUDA/lib64 -Wl,-rpath,$CUDA/lib64 -lnvrtc -ldl -lm -lpthread"
$CC $flags tests/unit/test_runtime_cuda_forward.c "$OUT/libmj_fwd.a" $libs -o "$OUT/test_runtime_cuda_forward"
$CC $flags bench/gpu_forward.c "$OUT/libmj_fwd.a" $libs -o "$OUT/gpu_forward"
echo "gpu_build.sh: built in $OUT"
