#!/usr/bin/env bash
# gpu_app.sh — the maskjit CLI on a GPU machine that has CUDA, a C compiler
# and cmake but no LLVM, flex/bison or library development packages: builds
# the CLI against what scripts/gpu_app_prepare.sh carried in DEV, then runs
# the paraphrase-fusion application with --device cuda.  The same steps run
# on any machine (DEVICE=cpu MASKJIT=build/maskjit for the CPU side).
# usage: scripts/gpu_app.sh DEV OUT STEP...
#   build     cmake + build the CLI in $BUILD (default /tmp/mjapp-build):
#             MJ_WITH_LLVM auto (OFF without LLVM 19), parser from DEV/generated,
#             libraries from DEV/include + DEV/lib (OpenBLAS: the machine's);
#             sets MASKJIT
#   smoke     a small random model (maskjit make-model): generate and one run per
#             method on 16 questions, --device cuda and --device cpu, predictions compared
#   generate  maskjit generate on $MODEL (--device $DEVICE), plain and with the seed
#             fusion mask over --split paraphrases
#   fusion    maskjit run on DEV/data/q400.jsonl (first $LIMIT questions, default
#             all 400) with $MODEL and --device $DEVICE (default cuda): single
#             (paraphrase 0), ensemble-avg, ensemble-max, the study's fusion
#             (fusion_seed.mask, study layout), app_fusion_aligned.mask
#             (shared-prefix layout); 5 paraphrases, batch $BATCH (default 8),
#             BOS '<|im_start|>', <= 10 new tokens; each method timed (wall, model
#             load included) into OUT/fusion/times.tsv; OUT/fusion/eval.md from
#             maskjit eval
# Logs under OUT; every step goes on after a failure of another.
set -uo pipefail
DEV=$(cd "${1:?DEV}" && pwd)
OUT=${2:?OUT}
shift 2
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BUILD=${BUILD:-/tmp/mjapp-build}
DEVICE=${DEVICE:-cuda}
BATCH=${BATCH:-8}
export XDG_CACHE_HOME=${XDG_CACHE_HOME:-/tmp/mjapp-cache}
now() { date +%s.%N; }
secs() { python3 -c "print(f'{$2 - $1:.2f}')"; }

step_build() {
  local t0; t0=$(now)
  cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMJ_GENERATED_DIR="$DEV/generated" \
    -DMJ_DEPS_PREFIX="$DEV" -DMJ_USE_PKGCONFIG=OFF > "$OUT/cmake.log" 2>&1 \
    && cmake --build "$BUILD" -j "$(nproc)" --target maskjit > "$OUT/build.log" 2>&1
  local rc=$?
  grep -E '^-- maskjit' "$OUT/cmake.log"
  if [ $rc -ne 0 ]; then
    echo "gpu_app: build FAILED (rc $rc)"; tail -25 "$OUT/cmake.log" "$OUT/build.log"; return 1
  fi
  grep -c 'warning:' "$OUT/build.log" | sed 's/^/gpu_app: compiler warnings: /'
  MASKJIT=$BUILD/maskjit
  echo "gpu_app: built $MASKJIT in $(secs "$t0" "$(now)") s"
  "$MASKJIT" compile examples/fusion_seed.mask --emit llvm > /dev/null 2> "$OUT/emit_llvm.err"
  echo "gpu_app: compile --emit llvm: rc $? ($(head -c 160 "$OUT/emit_llvm.err"))"
}

# run_method NAME DATA MODEL DEVICE OUTDIR ARGS...: one maskjit run, timed.
run_method() {
  local name=$1 data=$2 model=$3 dev=$4 od=$5; shift 5
  local t0 rc; t0=$(now)
  "$MASKJIT" run --model "$model" --data "$data" --device "$dev" --batch "$BATCH" --bos "${BOS:-<|im_start|>}" \
    --resume -o "$od/$name.jsonl" "$@" > "$od/$name.log" 2>&1
  rc=$?
  printf '%s\t%s\t%s\t%s\n' "$name" "$dev" "$(secs "$t0" "$(now)")" "$rc" | tee -a "$od/times.tsv"
  [ $rc -eq 0 ] || tail -5 "$od/$name.log"
}

methods() {   # methods DATA MODEL DEVICE OUTDIR
  run_method single "$@" --method single --indices 0
  run_method ens_avg "$@" --method ensemble-avg --paraphrases 5
  run_method ens_max "$@" --method ensemble-max --paraphrases 5
  run_method fusion_study "$@" --method mask:examples/fusion_seed.mask --layout study --paraphrases 5
  run_method fusion_aligned "$@" --method mask:examples/app_fusion_aligned.mask --layout shared-prefix \
    --paraphrases 5
}

step_smoke() {
  local d=$OUT/smoke; mkdir -p "$d/cuda" "$d/cpu"
  mkdir -p "$d/tok" && tar xzf "$DEV/data/llama3-tok.tgz" -C "$d/tok"
  # head_dim 64: the CUDA attention kernels take 64 and 128
  "$MASKJIT" make-model --arch llama --layers 4 --hidden 256 --intermediate 512 --heads 4 --kv-heads 2 --head-dim 64 \
    --vocab 128256 --seed 3 --bos 128000 --eos 128001 --tokenizer "$d/tok" --out "$d/model" > "$d/make.log" 2>&1 \
    || { echo "smoke: make-model failed"; tail -5 "$d/make.log"; return 1; }
  head -16 "$DEV/data/q400.jsonl" > "$d/q40.jsonl"
  for dev in cuda cpu; do
    "$MASKJIT" generate --model "$d/model" --device $dev --max-new-tokens 8 --prompt $'Q: a b c\nA:' \
      > "$d/gen_$dev.txt" 2> "$d/gen_$dev.log"; echo "smoke: generate $dev rc $? $(tr '\n' ' ' < "$d/gen_$dev.txt" | head -c 100)"
    BOS=auto methods "$d/q40.jsonl" "$d/model" $dev "$d/$dev"
  done
  python3 - "$d" <<'PY'
import json, sys, os
d = sys.argv[1]
for name in ("single", "ens_avg", "ens_max", "fusion_study", "fusion_aligned"):
    def load(dev):
        p = os.path.join(d, dev, name + ".jsonl")
        if not os.path.exists(p): return {}
        return {r.get("id"): r.get("prediction") for r in map(json.loads, open(p)) if "id" in r}
    a, b = load("cuda"), load("cpu")
    common = set(a) & set(b)
    same = sum(a[k] == b[k] for k in common)
    print(f"smoke: {name}: cuda vs cpu identical predictions {same}/{len(common)}")
PY
}

step_generate() {
  local d=$OUT/generate; mkdir -p "$d"
  local p=$'Q: What is the capital of France?\nA:'
  local t0; t0=$(now)
  "$MASKJIT" generate --model "$MODEL" --device "$DEVICE" --no-bos --max-new-tokens 16 --prompt "$p" \
    > "$d/plain.txt" 2> "$d/plain.log"
  echo "generate ($DEVICE, $(secs "$t0" "$(now)") s) rc $?: $(tr '\n' ' ' < "$d/plain.txt" | head -c 200)"
  t0=$(now)
  "$MASKJIT" generate --model "$MODEL" --device "$DEVICE" --max-new-tokens 16 --mask examples/fusion_seed.mask \
    --split '|' --prompt $'Answer briefly.|Q: Where is the Eiffel Tower?\n|Q: In which city is the Eiffel Tower?\n|A:' \
    > "$d/fusion.txt" 2> "$d/fusion.log"
  echo "generate fusion ($DEVICE, $(secs "$t0" "$(now)") s) rc $?: $(tr '\n' ' ' < "$d/fusion.txt" | head -c 200)"
}

step_fusion() {
  local d=$OUT/fusion data=$DEV/data/q400.jsonl; mkdir -p "$d"
  : "${MODEL:?MODEL must name the model for the fusion step}"
  if [ -n "${LIMIT:-}" ]; then head -n "$LIMIT" "$data" > "$d/questions.jsonl"; data=$d/questions.jsonl; fi
  echo "fusion: $(wc -l < "$data") questions, model $MODEL, device $DEVICE, batch $BATCH"
  methods "$data" "$MODEL" "$DEVICE" "$d"
  "$MASKJIT" eval "$d"/single.jsonl "$d"/ens_avg.jsonl "$d"/ens_max.jsonl "$d"/fusion_study.jsonl \
    "$d"/fusion_aligned.jsonl > "$d/eval.md" 2> "$d/eval.log"; cat "$d/eval.md"
}

if [ -z "${MASKJIT:-}" ] && [ -x "$BUILD/maskjit" ]; then MASKJIT=$BUILD/maskjit; fi
for s in "$@"; do
  case $s in
  build) step_build ;;
  smoke|generate|fusion)
    [ -n "${MASKJIT:-}" ] || { echo "gpu_app: no maskjit (run the build step or set MASKJIT)"; continue; }
    "step_$s" ;;
  *) echo "gpu_app: unknown step '$s'" >&2 ;;
  esac
done
