#!/usr/bin/env bash
# gpu_parity.sh — forward parity of maskjit's CUDA engine with HF transformers
# (bf16) on random-weight models of the Llama-3.2-3B and Qwen2.5-1.5B shapes,
# the seed fusion mask as an explicit 4-D mask on the HF side, with the noise
# floors (HF bf16 vs HF f32, SDPA backends and eager attention against each
# other): bench/gpu_parity.py make (--init INIT) -> prompts -> bench/gpu_forward
# parity (built by bench/gpu_build.sh, called as it is) -> gpu_parity.py hf
# --floors.  Runs on a GPU machine with torch + transformers.
# usage: scripts/gpu_parity.sh DEV OUT INIT... ; INIT: hf (transformers'
#   own initialisation) or maskjit (make-model-style draw); SHAPES (env,
#   default "llama qwen").  DEV: a folder with generated/ (flex/bison output),
#   include/json-c and lib/libjson-c.a (scripts/gpu_app_prepare.sh).
# Writes OUT/<shape>_<init>_{make.json,maskjit.jsonl,hf.json} and a summary.
set -uo pipefail
DEV=$(cd "${1:?DEV}" && pwd)
OUT=${2:?OUT}
shift 2
inits=${*:-hf maskjit}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
cd "$(dirname "${BASH_SOURCE[0]}")/.."
B=${PARITY_BUILD:-/tmp/mjpar-build}
M=/tmp/mjpar-models
D=/tmp/mjpar-data
R=/tmp/mjpar-out
mkdir -p "$M" "$D" "$R"
export XDG_CACHE_HOME=${XDG_CACHE_HOME:-/tmp/mjpar-cache} PYTHONUNBUFFERED=1 MJ_SOURCE_DIR=$PWD
if [ ! -x "$B/gpu_forward" ]; then
  bash bench/gpu_build.sh "$DEV/generated" "$DEV" "$B" > "$OUT/gpu_build.log" 2>&1 \
    || { echo "gpu_parity: bench/gpu_build.sh failed"; tail -20 "$OUT/gpu_build.log"; exit 1; }
fi
for init in $inits; do
  for s in ${SHAPES:-llama qwen}; do
    arch=$([ "$s" = llama ] && echo llama3b || echo qwen25)
    vocab=$([ "$s" = llama ] && echo 128256 || echo 151936)
    t=${s}_${init}
    rm -rf "${M:?}/$t" "${R:?}/$t"; mkdir -p "$R/$t"
    echo "== $t $(date -u +%T)"
    timeout 240 python3 bench/gpu_parity.py make --arch $arch --init "$init" --out "$M/$t" 2>&1 \
      | grep '"what"' | tee "$OUT/${t}_make.json"
    python3 bench/gpu_parity.py prompts --out "$D/$s" --vocab $vocab > /dev/null
    timeout 240 "$B/gpu_forward" "$M/$t" "$D/$s" "$R/$t" parity > "$OUT/${t}_maskjit.jsonl" 2> "$OUT/${t}_maskjit.err"
    echo "maskjit rc $?: $(tail -c 300 "$OUT/${t}_maskjit.jsonl")"
    timeout 300 python3 bench/gpu_parity.py hf --model "$M/$t" --data "$D/$s" --maskjit "$R/$t" --floors \
      --json "$OUT/${t}_hf.json" > "$OUT/${t}_hf.log" 2>&1
    echo "hf rc $?"
    rm -rf "${M:?}/$t"
  done
done
python3 - "$OUT" <<'PY'
import glob, json, os, sys
rows = []
for p in sorted(glob.glob(os.path.join(sys.argv[1], "*_hf.json"))):
    r = json.load(open(p))
    fl = r.get("floors", {})
    def f(k):
        v = fl.get(k, {})
        return "err" if "error" in v else f"{v.get('top1_vs_hf_default', float('nan')):.4f}/{v.get('greedy_prefix_vs_hf_default', '-')}"
    print(os.path.basename(p)[:-8], "top1", r.get("top1_agree_fusion"), "greedy_prefix", r.get("greedy_common_prefix"),
          "| hf bf16 vs f32", r.get("f32ref_vs_hf_bf16"), "mj vs f32", r.get("f32ref_vs_maskjit"),
          "| f32 greedy prefix vs hf bf16", r.get("greedy_common_prefix_hf_f32_vs_hf_bf16"),
          "| margin med", round(r.get("hf_margin_median", 0), 3), "echo", r.get("hf_top1_equals_input_token"),
          "fusion-vs-causal", r.get("hf_top1_fusion_vs_causal"),
          "| floors math", f("sdpa_math"), "eff", f("sdpa_efficient"), "cudnn", f("sdpa_cudnn"),
          "flash", f("sdpa_flash"), "eager", f("eager"))
PY
