#!/usr/bin/env bash
# run_resume.sh — crash safety of `maskjit run`: a run on a tiny random model
# (Llama 3 tokenizer from ../shared/data; skipped when absent) is SIGKILLed
# twice mid-way and resumed; the output must then hold every question exactly
# once, with the same answers as an uninterrupted run.  A torn last line
# (a write cut short) is dropped on resume; without --resume an existing
# output is refused; another method cannot be appended to the same file.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.bash"
pid=
trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT

TOK=$DATA/tokenizers/llama3
if [ ! -f "$TOK/tokenizer.json" ]; then
  skip "$TOK absent (needs a tokenizer for the tiny model)"
  exit 0
fi
"$M" make-model --arch llama --layers 2 --hidden 32 --intermediate 64 --heads 4 --kv-heads 2 \
    --head-dim 8 --vocab 128256 --seed 3 --bos 128000 --eos 128001 --tokenizer "$TOK" \
    --out "$tmp/tiny" >/dev/null 2>"$tmp/err" || { cat "$tmp/err"; echo "FAIL: make-model"; exit 1; }

# 120 questions: the demo questions under distinct ids
python3 - "$SRC/examples/data/webqa_demo.jsonl" "$tmp/q.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
with open(sys.argv[2], "w") as f:
    for k in range(10):
        for r in rows:
            r = dict(r, id=f"{r['id']}-{k}")
            f.write(json.dumps(r) + "\n")
PY
R=("$M" run --model "$tmp/tiny" --data "$tmp/q.jsonl" --method ensemble-avg --paraphrases 3 --device cpu
   --threads 1 --batch 2 --quiet)

"${R[@]}" -o "$tmp/clean.jsonl" 2>"$tmp/err" && ok "uninterrupted run" || { bad "uninterrupted run"; cat "$tmp/err"; }

lines() { [ -f "$1" ] && wc -l <"$1" || echo 0; }
# start, wait for some finished questions, SIGKILL
kill_midway() {
  "${R[@]}" "$@" -o "$tmp/out.jsonl" 2>>"$tmp/kill.err" &
  pid=$!
  local start; start=$(lines "$tmp/out.jsonl")
  for _ in $(seq 1 600); do
    [ "$(lines "$tmp/out.jsonl")" -ge $((start + 6)) ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid"; wait "$pid" 2>/dev/null; pid=; return 0; fi
  wait "$pid"; pid=; return 1
}
kill_midway && ok "first run killed mid-way ($(lines "$tmp/out.jsonl") lines)" || bad "the run ended before it could be killed"
kill_midway --resume && ok "resumed run killed mid-way ($(lines "$tmp/out.jsonl") lines)" || bad "the resumed run ended before it could be killed"
# a torn line, as if killed inside write()
printf '{"id": "wqs000077-9", "dataset": "q", "meth' >>"$tmp/out.jsonl"
"${R[@]}" -o "$tmp/out.jsonl" 2>"$tmp/err"; rc=$?
[ $rc != 0 ] && grep -q -- "--resume" "$tmp/err" && ok "existing output refused without --resume" || bad "existing output not refused (rc $rc)"
"${R[@]}" --resume -o "$tmp/out.jsonl" --feather "$tmp/out.feather" 2>"$tmp/err" && ok "final resume" || { bad "final resume"; cat "$tmp/err"; }

python3 - "$tmp/clean.jsonl" "$tmp/out.jsonl" <<'PY' && ok "120 questions, each once, same answers as the clean run" || bad "resumed output differs"
import json, sys
clean = [json.loads(l) for l in open(sys.argv[1])]
raw = open(sys.argv[2]).read()
assert raw.endswith("\n"), "output does not end with a newline"
out = [json.loads(l) for l in raw.splitlines()]
ids = [r["id"] for r in out]
assert len(ids) == len(set(ids)) == 120, (len(ids), len(set(ids)))
want = {r["id"]: (r["prediction"], r["generation"]) for r in clean}
assert len(want) == 120
for r in out:
    assert want[r["id"]] == (r["prediction"], r["generation"]), r["id"]
PY
"$M" run --model "$tmp/tiny" --data "$tmp/q.jsonl" --method ensemble-max --paraphrases 3 --device cpu \
    --limit 2 --resume -o "$tmp/out.jsonl" --quiet 2>"$tmp/err"
[ $? = 1 ] && grep -q "one output file per method" "$tmp/err" && ok "another method refused in the same file" || bad "another method not refused"
if python3 -c 'import pyarrow' 2>/dev/null; then
  python3 -c "
import pyarrow.feather as f, sys
t = f.read_table('$tmp/out.feather')
assert t.num_rows == 120 and t.column_names == ['uuid', 'paraphrases', 'answers', 'prediction', 'generation', 'method'], t.schema
assert len(set(t.column('uuid').to_pylist())) == 120
assert set(t.column('method').to_pylist()) == {'ensemble-avg[0-2]'}
" && ok "Feather export read by pyarrow" || bad "Feather export"
else
  skip "pyarrow not importable (Feather check)"
fi
[ $fail = 0 ] && echo "all run_resume checks passed"
exit $fail
