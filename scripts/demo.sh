#!/usr/bin/env bash
# demo.sh BUILD_DIR — `make demo`: the whole fusion pipeline on the built-in
# example questions (examples/data/webqa_demo.jsonl: 12 WebQuestions questions
# with hand-written paraphrases).  Uses SmolLM2-135M-Instruct when models/ has
# it (scripts/fetch-smollm2.sh fetches it; a failure there is tolerated), else
# a tiny random model (`maskjit make-model`) with the Llama 3 tokenizer of
# ../shared/data, else SmolLM2's GGUF tokenizer.  Runs the baselines, the
# logit ensembles and two fusion masks, prints the accuracy table and writes
# a PNG of the fusion mask on the first question's layout.
# Outputs: BUILD_DIR/demo/*.jsonl, *.feather, results.md, fusion_mask.png.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$(cd "${1:-$root/build}" && pwd)"
M="$build/maskjit"
[ -x "$M" ] || { echo "demo: $M is not built (make build)" >&2; exit 1; }
out="$build/demo"
mkdir -p "$out"
rm -f "$out"/*.jsonl "$out"/*.feather
data="$root/examples/data/webqa_demo.jsonl"
shared="${MJ_SHARED_DATA:-$root/../shared/data}"

gguf=$(bash "$root/scripts/fetch-smollm2.sh" 2>/dev/null || true)
[ -n "$gguf" ] && [ -f "$gguf" ] || gguf=$(ls "$root"/models/smollm2-135m-instruct/*.gguf 2>/dev/null | head -n1 || true)
if [ -n "$gguf" ] && [ -f "$gguf" ]; then
  model="$gguf"
  echo "demo: model SmolLM2-135M-Instruct ($model)"
else
  tok=""
  if [ -f "$shared/tokenizers/llama3/tokenizer.json" ]; then tok="$shared/tokenizers/llama3"; vocab=128256
  else echo "demo: no SmolLM2 GGUF and no tokenizer under $shared/tokenizers: nothing to run" >&2; exit 1; fi
  model="$out/tiny-model"
  rm -rf "$model"
  "$M" make-model --arch llama --layers 2 --hidden 64 --intermediate 128 --heads 4 --kv-heads 2 \
      --head-dim 16 --vocab "$vocab" --bos 128000 --eos 128001 --tokenizer "$tok" --out "$model" >/dev/null
  echo "demo: SmolLM2 is not available: a tiny RANDOM model ($model), so the answers are noise"
fi

run() {   # run NAME ARGS...: one method over the demo questions
  local name=$1; shift
  echo "demo: run $name"
  "$M" run --model "$model" --data "$data" --device auto --batch 4 -o "$out/$name.jsonl" \
      --feather "$out/$name.feather" "$@"
}
run single0 --method single --indices 0
run single2 --method single --indices 2
run ens_avg --method ensemble-avg
run ens_max --method ensemble-max
run weighted_avg --method weighted-avg
run fusion_study --method "mask:$root/examples/app_fusion_sink.mask" --layout study
run fusion_shared --method "mask:$root/examples/app_fusion_shared_prefix.mask" --layout shared-prefix
run fusion_aligned --method "mask:$root/examples/app_fusion_aligned.mask" --layout shared-prefix

echo
"$M" eval "$out"/single0.jsonl "$out"/single2.jsonl "$out"/ens_avg.jsonl "$out"/ens_max.jsonl \
    "$out"/weighted_avg.jsonl "$out"/fusion_study.jsonl "$out"/fusion_shared.jsonl \
    "$out"/fusion_aligned.jsonl | tee "$out/results.md"

mask="$root/examples/app_fusion_shared_prefix.mask"
read -r -a layout < <("$M" run --model "$model" --data "$data" --method "mask:$mask" --layout shared-prefix \
                        --print-layout)
"$M" show "$mask" "${layout[@]}" --format png --block 16 -o "$out/fusion_mask.png"
echo
echo "demo: fusion mask of the first question (shared-prefix layout: ${layout[*]}): $out/fusion_mask.png"
echo "demo: outputs (JSONL + Feather) in $out"
