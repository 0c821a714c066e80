#!/usr/bin/env bash
# run_methods.sh — `maskjit run`, `eval` and `paraphrase` end to end on a tiny
# random model (Llama 3 tokenizer from ../shared/data; the model-free checks
# run without it): usage errors, every method and layout, a mask asking for an
# annotation the layout lacks, --skip-bad with FILE:LINE messages, the eval
# table in its three formats, and paraphrase generation with resume.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.bash"
Q=$SRC/examples/data/webqa_demo.jsonl

expect_rc "run --help" 0 "$M" run --help
grep -q "ensemble-max" "$tmp/out" && ok "--help lists the methods" || bad "--help lists the methods"
expect_rc "eval --help" 0 "$M" eval --help
expect_rc "paraphrase --help" 0 "$M" paraphrase --help
expect_rc "run without arguments" 2 "$M" run
expect_rc "unknown method" 2 "$M" run --model x --data "$Q" --method vote -o "$tmp/x.jsonl"
expect_rc "unknown layout" 2 "$M" run --model x --data "$Q" --method single --layout zig -o "$tmp/x.jsonl"
expect_rc "--paraphrases and --indices together" 2 "$M" run --model x --data "$Q" --method ensemble-avg --paraphrases 3 --indices 1,2 -o "$tmp/x.jsonl"
expect_rc "mask needing 'example' on shared-prefix" 1 "$M" run --model x --data "$Q" \
    --method "mask:$SRC/examples/fusion_fewshot_isolated.mask" --layout shared-prefix -o "$tmp/x.jsonl"
grep -q "it provides: seg, seg_start, part" "$tmp/err" && ok "the error lists what the layout offers" || bad "missing-annotation message: $(cat "$tmp/err")"
printf '{"id": "a", "paraphrases": ["p?"], "answers": ["x"]}\n{"id": "b", "paraphrases": []}\n' >"$tmp/bad.jsonl"
expect_rc "bad record" 1 "$M" run --model x --data "$tmp/bad.jsonl" --method single -o "$tmp/x.jsonl"
grep -q "bad.jsonl:2: " "$tmp/err" && ok "bad record reported as FILE:LINE" || bad "bad record message: $(cat "$tmp/err")"
expect_rc "eval of a missing file" 1 "$M" eval "$tmp/none.jsonl"
printf 'Paris.\nThe Beatles\n' | "$M" eval --lemmatize >"$tmp/lem"
[ "$(cat "$tmp/lem")" = "$(printf 'paris\t.\nthe\tbeatles')" ] && ok "eval --lemmatize" || bad "eval --lemmatize: $(cat "$tmp/lem")"

TOK=$DATA/tokenizers/llama3
if [ ! -f "$TOK/tokenizer.json" ]; then
  skip "$TOK absent (model runs)"
  exit $fail
fi
"$M" make-model --arch llama --layers 2 --hidden 32 --intermediate 64 --heads 4 --kv-heads 2 \
    --head-dim 8 --vocab 128256 --seed 4 --bos 128000 --eos 128001 --tokenizer "$TOK" \
    --out "$tmp/tiny" >/dev/null 2>"$tmp/err" || { cat "$tmp/err"; echo "FAIL: make-model"; exit 1; }
R=("$M" run --model "$tmp/tiny" --data "$Q" --device cpu --threads 2 --limit 4 --batch 2 --quiet)
expect_rc "single --indices 2" 0 "${R[@]}" --method single --indices 2 -o "$tmp/single2.jsonl"
python3 -c "
import json; rs = [json.loads(l) for l in open('$tmp/single2.jsonl')]
assert len(rs) == 4 and all(r['method'] == 'single[2]' and r['indices'] == [2] and len(r['paraphrases']) == 1 for r in rs)
assert all(r['stop'] in ('newline', 'eos', 'length') and r['new_tokens'] <= 10 for r in rs)
" && ok "single[2] records" || bad "single[2] records"
for m in ensemble-avg ensemble-max weighted-avg weighted-max; do
  expect_rc "$m" 0 "${R[@]}" --method $m -o "$tmp/$m.jsonl"
done
python3 -c "
import json; rs = [json.loads(l) for l in open('$tmp/weighted-avg.jsonl')]
assert all(len(r['weights']) == 5 and abs(sum(r['weights']) - 1) < 1e-3 for r in rs), rs[0]
" && ok "weighted runs record their weights" || bad "weights"
for lay in study shared-prefix fewshot-isolated; do
  for mask in fusion_seed app_fusion_sink app_fusion_shared_prefix; do
    expect_rc "mask:$mask on $lay" 0 "${R[@]}" --method "mask:$SRC/examples/$mask.mask" --layout $lay -o "$tmp/$mask-$lay.jsonl"
  done
done
expect_rc "fewshot mask on fewshot-isolated" 0 "${R[@]}" --method "mask:$SRC/examples/app_fewshot_isolated.mask" \
    --layout fewshot-isolated -o "$tmp/fewshot.jsonl"
expect_rc "cue in the last segment (ablation)" 0 "${R[@]}" --method "mask:$SRC/examples/fusion_seed.mask" --cue segment \
    -o "$tmp/cue.jsonl"
grep -q '"method": "mask:fusion_seed@study/cue-in-segment\[0-4\]"' "$tmp/cue.jsonl" && ok "ablation label" || bad "ablation label"
expect_rc "weighted mask with --set" 0 "${R[@]}" --method "mask:$SRC/examples/fusion_weighted.mask" --set 'w[1]=2.5' \
    -o "$tmp/w.jsonl"
expect_rc "--set of an unknown param" 1 "${R[@]}" --method "mask:$SRC/examples/fusion_weighted.mask" --set nope=1 \
    -o "$tmp/w2.jsonl"
expect_rc "eval markdown" 0 "$M" eval "$tmp/single2.jsonl" "$tmp/ensemble-avg.jsonl" "$tmp/app_fusion_sink-study.jsonl"
[ "$(grep -c '| webqa_demo |' "$tmp/out")" = 3 ] && grep -q "95 % CI" "$tmp/out" && ok "markdown table: 3 rows" || bad "markdown table: $(cat "$tmp/out")"
expect_rc "eval csv" 0 "$M" eval --format csv "$tmp/ensemble-max.jsonl"
head -1 "$tmp/out" | grep -q "^method,dataset,correct,n,accuracy,ci95_low,ci95_high,seconds$" && grep -q ",4," "$tmp/out" \
    && ok "csv table" || bad "csv table: $(cat "$tmp/out")"
expect_rc "eval json" 0 "$M" eval --format json "$tmp/ensemble-max.jsonl"
python3 -c "import json; t = json.load(open('$tmp/out')); assert t[0]['n'] == 4 and len(t[0]['ci95']) == 2" \
    && ok "json table" || bad "json table"
# paraphrase: 2 questions, 2 passes; resume adds the third without redoing the first two
W=$DATA/webquestions/test.json
if [ -f "$W" ]; then
  P=("$M" paraphrase --model "$tmp/tiny" --data "$W" --passes 2 --max-new-tokens 6 --device cpu --threads 2 --quiet)
  expect_rc "paraphrase 2 questions" 0 "${P[@]}" --limit 2 -o "$tmp/para.jsonl"
  cp "$tmp/para.jsonl" "$tmp/para2.jsonl"
  expect_rc "paraphrase resume to 3" 0 "${P[@]}" --limit 3 --resume -o "$tmp/para.jsonl"
  expect_rc "paraphrase 3 at once" 0 "${P[@]}" --limit 3 --batch 3 -o "$tmp/para3.jsonl"
  python3 -c "
import json
a = [json.loads(l) for l in open('$tmp/para.jsonl')]; b = [json.loads(l) for l in open('$tmp/para3.jsonl')]
assert [r['id'] for r in a] == ['wqs000000', 'wqs000001', 'wqs000002'], a
assert [r['paraphrases'] for r in a] == [r['paraphrases'] for r in b], 'seeded per question: batching must not matter'
assert all(len(r['paraphrases']) == 3 and r['paraphrase_kinds'][0] == 'original' for r in a)
assert a[0]['paraphrases'][0] == 'what does jamaican people speak?'
" && ok "paraphrases: resumable, seeded per question" || bad "paraphrase output"
  expect_rc "run on the paraphrase file" 0 "${R[@]}" --data "$tmp/para.jsonl" --method ensemble-avg --paraphrases 3 \
      -o "$tmp/on_para.jsonl"
  grep -q '"dataset": "webqa"' "$tmp/on_para.jsonl" && ok "paraphrase file read as webqa" || bad "paraphrase dataset name"
fi
[ $fail = 0 ] && echo "all run_methods checks passed"
exit $fail
