#!/usr/bin/env bash
# nollvm.sh — the CPU back end without LLVM (cmake -DMJ_WITH_LLVM=OFF, for GPU
# machines that have no LLVM 19; CMake passes MJ_WITH_LLVM=0/1).
#   Without LLVM: `compile --emit llvm` exits 1 with an error naming the build
#   option, `--emit cuda` still works, and the paths that use the CPU back end
#   (show/explain --backend cpu, run and generate with the default mask back
#   end) run on the interpreter.  With MJ_REFERENCE_MASKJIT (a maskjit built
#   with LLVM and the same BLAS; cmake -DMJ_REFERENCE_MASKJIT=PATH) their
#   outputs must equal the reference's native-code outputs byte for byte.
#   With LLVM: the same outputs through the JIT and through the interpreter
#   (--backend interp, run --interp, generate --mask-backend interp) must be
#   equal.  (That the interpreter and the JIT agree on every mask, score,
#   position and block class is test_compiler_differential's job; this test
#   checks that the CLI wires each build to them and that nothing else differs.)
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.bash"
export XDG_CACHE_HOME=$tmp/cache MJ_CUDA_NO_DRIVER=1
WITH_LLVM=${MJ_WITH_LLVM:-1}
REF=${MJ_REFERENCE_MASKJIT:-}

if [ "$WITH_LLVM" = 0 ]; then
  expect_rc "--emit llvm without LLVM" 1 "$M" compile "$SRC/examples/fusion_seed.mask" --emit llvm -o "$tmp/k.ll"
  grep -q "fusion_seed.mask: error: LLVM IR is not available" "$tmp/err" && grep -q -- "-DMJ_WITH_LLVM=ON" "$tmp/err" \
    && ok "the error names the file and the build option" || bad "--emit llvm message: $(cat "$tmp/err")"
  [ ! -s "$tmp/k.ll" ] && ok "no IR written" || bad "IR written without LLVM"
  expect_rc "--emit cuda without LLVM" 0 "$M" compile "$SRC/examples/fusion_seed.mask" --emit cuda
fi

# outputs BIN DIR CPU_BACKEND RUN_FLAG...: check/show/explain of every example
# on one fusion layout, then two fusion runs and a generation on a tiny model.
LAYOUT=(--seq-len 48 --prefix 5 --segments 9,12,8 --prompt-len 40)
outputs() {
  local bin=$1 d=$2 be=$3; shift 3
  mkdir -p "$d"
  for f in "$SRC"/examples/*.mask; do
    local n; n=$(basename "$f" .mask)
    "$bin" check "$f" >"$d/$n.check" 2>&1; echo "rc $?" >>"$d/$n.check"
    for fmt in dense blocks scores; do
      "$bin" show "$f" "${LAYOUT[@]}" --backend "$be" --format $fmt --block 8 >"$d/$n.$fmt" 2>&1
      echo "rc $?" >>"$d/$n.$fmt"
    done
    "$bin" explain "$f" "${LAYOUT[@]}" >"$d/$n.explain" 2>&1; echo "rc $?" >>"$d/$n.explain"
  done
  [ -n "${TINY:-}" ] || return 0
  local R=("$bin" run --model "$TINY" --data "$SRC/examples/data/webqa_demo.jsonl" --device cpu --threads 2
           --limit 3 --batch 3 --quiet "$@")
  "${R[@]}" --method "mask:$SRC/examples/app_fusion_aligned.mask" --layout shared-prefix -o "$d/aligned.jsonl" \
    >/dev/null 2>"$d/aligned.err" || echo "run failed: $(cat "$d/aligned.err")" >>"$d/aligned.jsonl"
  "${R[@]}" --method "mask:$SRC/examples/fusion_seed.mask" --layout study -o "$d/study.jsonl" \
    >/dev/null 2>"$d/study.err" || echo "run failed: $(cat "$d/study.err")" >>"$d/study.jsonl"
  for x in aligned study; do   # drop the wall time of each record
    sed -i 's/, "seconds": [0-9.]*//' "$d/$x.jsonl"
  done
  "$bin" generate --model "$TINY" --device cpu --threads 2 --max-new-tokens 6 --mask "$SRC/examples/fusion_seed.mask" \
    --split '|' --prompt 'a b|c d e|f g|h' ${GEN_FLAG:-} >"$d/gen.txt" 2>&1
}

TOK=$DATA/tokenizers/llama3
TINY=
if [ -f "$TOK/tokenizer.json" ]; then
  "$M" make-model --arch llama --layers 2 --hidden 32 --intermediate 64 --heads 4 --kv-heads 2 --head-dim 8 \
    --vocab 128256 --seed 7 --bos 128000 --eos 128001 --tokenizer "$TOK" --out "$tmp/tiny" >/dev/null 2>"$tmp/err" \
    && TINY=$tmp/tiny || bad "make-model: $(cat "$tmp/err")"
else
  skip "$TOK absent (run/generate comparisons)"
fi

compare() {   # compare DESC DIR_A DIR_B
  local n=0 diffs=0
  for f in "$2"/*; do
    n=$((n + 1))
    cmp -s "$f" "$3/$(basename "$f")" || { diffs=$((diffs + 1)); [ $diffs -le 3 ] && diff "$f" "$3/$(basename "$f")" | head -5; }
  done
  [ $n -gt 100 ] && [ $diffs = 0 ] && ok "$1: $n outputs identical" || bad "$1: $diffs of $n outputs differ"
  grep -l "^rc 0" "$2"/*.dense | wc -l | sed 's/^/  masks drawn: /'
}

if [ "$WITH_LLVM" = 0 ]; then
  if [ -n "$REF" ] && [ -x "$REF" ]; then
    outputs "$M" "$tmp/nollvm" cpu
    GEN_FLAG= outputs "$REF" "$tmp/ref" cpu
    compare "build without LLVM (interpreter) vs $REF (LLVM JIT)" "$tmp/nollvm" "$tmp/ref"
  else
    outputs "$M" "$tmp/nollvm" cpu
    [ "$(grep -l '^rc 0' "$tmp"/nollvm/*.dense | wc -l)" -gt 10 ] && ok "masks run on the interpreter" \
      || bad "masks on the interpreter"
    skip "MJ_REFERENCE_MASKJIT not set: no comparison with an LLVM build"
  fi
else
  outputs "$M" "$tmp/jit" cpu
  GEN_FLAG="--mask-backend interp" outputs "$M" "$tmp/interp" interp --interp
  compare "LLVM JIT vs interpreter through the CLI" "$tmp/jit" "$tmp/interp"
fi
exit $fail
