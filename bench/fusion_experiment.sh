#!/usr/bin/env bash
# fusion_experiment.sh BUILD_DIR [STRIDE] — the fusion experiment of
# bench/RESULTS.md: SmolLM2-135M-Instruct (Q4_1 GGUF, scripts/fetch-smollm2.sh)
# on the CPU over every STRIDE-th MyriadLAMA question of
# ../shared/data/myriadlama/questions.jsonl (default 5: 400 questions spread
# over all relations), first five paraphrases (the manual ones; 4 manual + 1
# auto for the 7 % of questions that have only four): single on each of the
# five, ensemble-avg, ensemble-max, the study's fusion (fusion_seed.mask on the
# study layout), the same with a BOS sink (app_fusion_sink.mask) and
# shared-prefix fusion (app_fusion_shared_prefix.mask).  SmolLM2's tokenizer
# adds no BOS (HF default); its BOS token <|im_start|> is placed first anyway,
# in every method, so that the sink masks have a shared sink.  Every run is
# resumable: run the script again after an interruption.  Writes
# OUT/*.jsonl and OUT/table.md (OUT = BUILD_DIR/fusion-experiment).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$(cd "${1:-$root/build}" && pwd)"
stride=${2:-5}
M="$build/maskjit"
shared="${MJ_SHARED_DATA:-$root/../shared/data}"
out="$build/fusion-experiment"
mkdir -p "$out"
model=$(bash "$root/scripts/fetch-smollm2.sh")
python3 - "$shared/myriadlama/questions.jsonl" "$out/questions.jsonl" "$stride" <<'PY'
import sys
lines = [l for l in open(sys.argv[1], encoding="utf-8") if l.strip()]
with open(sys.argv[2], "w", encoding="utf-8") as f:
    f.writelines(lines[:: int(sys.argv[3])])
PY
n=$(wc -l <"$out/questions.jsonl")
echo "fusion-experiment: $n questions, model $model"
run() {   # run NAME ARGS...
  local name=$1; shift
  echo "fusion-experiment: $name" >&2
  "$M" run --model "$model" --data "$out/questions.jsonl" --device cpu --batch 8 --bos '<|im_start|>' \
      --resume -o "$out/$name.jsonl" "$@"
}
for i in 0 1 2 3 4; do run "single$i" --method single --indices "$i"; done
run ens_avg --method ensemble-avg --paraphrases 5
run ens_max --method ensemble-max --paraphrases 5
run fusion_shared --method "mask:$root/examples/app_fusion_shared_prefix.mask" --layout shared-prefix --paraphrases 5
run fusion_study --method "mask:$root/examples/fusion_seed.mask" --layout study --paraphrases 5
run fusion_sink --method "mask:$root/examples/app_fusion_sink.mask" --layout study --paraphrases 5
"$M" eval "$out"/single[0-4].jsonl "$out"/ens_avg.jsonl "$out"/ens_max.jsonl "$out"/fusion_study.jsonl \
    "$out"/fusion_sink.jsonl "$out"/fusion_shared.jsonl | tee "$out/table.md"
