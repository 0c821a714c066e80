#!/usr/bin/env bash
# compile.sh — CLI tests of `maskjit compile`: every --emit kind, arch choice,
# the disk cache seen from the command line (-v), templates, diagnostics and
# usage errors with their exit codes (1 bad file, 2 usage).
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.bash"
export XDG_CACHE_HOME=$tmp/cache
export MJ_CUDA_NO_DRIVER=1
has() { if grep -q -- "$2" "$3"; then ok "$1"; else bad "$1 (no '$2' in $3)"; fi; }

cat >"$tmp/fusion.mask" <<'MASK'
# the seed fusion mask
tokens seg: int = -1
param w: float[4] = 1.0
let causal = kv <= q
let generating = q >= prompt_len
mask = causal && (generating || seg[q] == seg[kv])
score = generating && seg[kv] >= 0 ? score + log(w[seg[kv]]) : score
MASK
printf 'mask = kv <= q &&\n' >"$tmp/broken.mask"

expect_rc "--help" 0 "$M" compile --help
has "--help prints usage" "usage: maskjit compile" "$tmp/out"
expect_rc "no file" 2 "$M" compile
expect_rc "two files" 2 "$M" compile "$tmp/fusion.mask" "$tmp/fusion.mask"
expect_rc "bad --emit" 2 "$M" compile "$tmp/fusion.mask" --emit exe
expect_rc "unknown option" 2 "$M" compile "$tmp/fusion.mask" --frobnicate
expect_rc "missing value" 2 "$M" compile "$tmp/fusion.mask" --arch
expect_rc "missing file" 1 "$M" compile "$tmp/nope.mask"
expect_rc "syntax error" 1 "$M" compile "$tmp/broken.mask" --emit cuda
has "syntax error is a diagnostic" "broken.mask:.*error" "$tmp/err"

expect_rc "--emit cuda" 0 "$M" compile "$tmp/fusion.mask" --emit cuda
has "cuda has mj_mask" "__device__ __forceinline__ bool mj_mask" "$tmp/out"
has "cuda reads tokens with bounds checks" "mj_tokens_at(&env, 0, q," "$tmp/out"
has "cuda has the classifier" "mj_classify" "$tmp/out"
has "cuda is the spliced template" "mj_grid_eval" "$tmp/out"

expect_rc "--emit ptx sm_80" 0 "$M" compile "$tmp/fusion.mask" --emit ptx --arch sm_80 -v
has "ptx targets sm_80" "^.target sm_80" "$tmp/out"
has "ptx has the grid kernel" ".entry mj_grid_eval" "$tmp/out"
has "first compile runs NVRTC" "sm_80, compiled" "$tmp/err"
expect_rc "--emit ptx again" 0 "$M" compile "$tmp/fusion.mask" --emit ptx --arch sm_80 -v
has "second compile hits the cache" "sm_80, cache hit" "$tmp/err"
expect_rc "--no-cache" 0 "$M" compile "$tmp/fusion.mask" --emit ptx --arch sm_80 -v --no-cache
has "--no-cache compiles" "sm_80, compiled" "$tmp/err"
expect_rc "default arch" 0 "$M" compile "$tmp/fusion.mask" -v
has "default arch without a GPU is sm_90a" "sm_90a" "$tmp/err"

expect_rc "--emit cubin -o" 0 "$M" compile "$tmp/fusion.mask" --emit cubin --arch sm_90a -o "$tmp/k.cubin"
if [ "$(head -c 4 "$tmp/k.cubin" | od -An -c | tr -d ' ')" = "177ELF" ]; then ok "cubin is ELF"; else bad "cubin is ELF"; fi
expect_rc "--emit cubin to a pipe" 0 "$M" compile "$tmp/fusion.mask" --emit cubin --arch sm_90a
expect_rc "bad arch" 1 "$M" compile "$tmp/fusion.mask" --emit ptx --arch sm_12
has "bad arch message" "not supported" "$tmp/err"
expect_rc "malformed arch" 1 "$M" compile "$tmp/fusion.mask" --emit ptx --arch gfx90a
expect_rc "unknown template" 1 "$M" compile "$tmp/fusion.mask" --emit cuda --template nope
has "unknown template message" "unknown kernel template" "$tmp/err"
for t in attn_prefill attn_decode; do
  if "$M" compile "$tmp/fusion.mask" --emit cuda --template $t >/dev/null 2>&1; then
    expect_rc "template $t ptx" 0 "$M" compile "$tmp/fusion.mask" --emit ptx --template $t --arch sm_90a
  fi
done
if [ "${MJ_WITH_LLVM:-1}" = 1 ]; then
  expect_rc "--emit llvm" 0 "$M" compile "$tmp/fusion.mask" --emit llvm -o "$tmp/k.ll"
  has "llvm IR defines mj_mask" "define.*mj_mask" "$tmp/k.ll"
else
  skip "--emit llvm in a build without LLVM (tests/cli/nollvm.sh)"
fi

# --resource-usage: ptxas's per-kernel report (what a kernel author checks for spills)
expect_rc "--resource-usage" 0 "$M" compile "$SRC/examples/fusion_seed.mask" --template attn_prefill_ws \
  --arch sm_90a --define MJ_HEAD_DIM=128 --define MJ_ATTN_QTILE=128 --resource-usage -o "$tmp/ws.ptx"
has "--resource-usage names the kernel" "entry function 'mj_attn_prefill'" "$tmp/err"
has "--resource-usage gives registers" "Used [0-9]* registers" "$tmp/err"
has "--resource-usage gives spills" "bytes spill stores" "$tmp/err"
has "--resource-usage still writes the ptx" "^.target sm_90a" "$tmp/ws.ptx"
# the persistent prefill kernel (MJ_WS_PERSIST=1, picked by runtime/cuda_attn.c): no spills, own cache entry
ws_defs=(--template attn_prefill_ws --arch sm_90a --define MJ_HEAD_DIM=128 --define MJ_ATTN_QTILE=128
         --define MJ_WS_TMA=1)
expect_rc "persistent prefill --resource-usage" 0 "$M" compile "$SRC/examples/fusion_seed.mask" "${ws_defs[@]}" \
  --define MJ_WS_PERSIST=1 --resource-usage -o "$tmp/wsp.ptx"
grep -A1 "Function properties for mj_attn_prefill" "$tmp/err" >"$tmp/wsp_spills"
has "persistent prefill kernel does not spill" " 0 bytes spill stores, 0 bytes spill loads" "$tmp/wsp_spills"
expect_rc "prefill kernel -v" 0 "$M" compile "$SRC/examples/fusion_seed.mask" "${ws_defs[@]}" --emit cubin -v \
  -o "$tmp/ws.cubin"
expect_rc "persistent prefill kernel -v" 0 "$M" compile "$SRC/examples/fusion_seed.mask" "${ws_defs[@]}" \
  --define MJ_WS_PERSIST=1 --emit cubin -v -o "$tmp/wsp.cubin"
has "the persistent kernel has its own cache entry" "sm_90a, compiled" "$tmp/err"
expect_rc "--resource-usage with --emit cuda" 2 "$M" compile "$tmp/fusion.mask" --emit cuda --resource-usage
has "--resource-usage needs NVRTC" "needs --emit ptx or cubin" "$tmp/err"

n=0
for f in "$SRC"/examples/*.mask; do
  [ -e "$f" ] || continue
  "$M" compile "$f" --emit ptx --arch sm_80 >/dev/null 2>"$tmp/err" || { bad "example $(basename "$f")"; cat "$tmp/err"; }
  n=$((n + 1))
done
echo "compiled $n examples"
exit $fail
