#!/usr/bin/env bash
# generate.sh — CLI tests of `maskjit generate`: usage errors (exit 2), bad
# model / mask (exit 1), greedy determinism and --max-new-tokens on a tiny
# random model written by `maskjit make-model` with the Llama 3 tokenizer of
# ../shared/data (skipped when absent), stop strings (\n and a string taken
# from the output: the text is cut before it), seeded sampling, --split with
# the seed fusion mask, both mask back ends; and a few-shot factual answer
# from SmolLM2-135M-Instruct when models/ holds its GGUF.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.bash"

expect_rc "--help" 0 "$M" generate --help
grep -q -- "--split" "$tmp/out" && ok "--help documents --split" || bad "--help documents --split"
expect_rc "no --model is a usage error" 2 "$M" generate --prompt hi
expect_rc "no prompt is a usage error" 2 "$M" generate --model x
expect_rc "bad --top-p is a usage error" 2 "$M" generate --model x --prompt hi --top-p 3
expect_rc "bad --device is a usage error" 2 "$M" generate --model x --prompt hi --device tpu
expect_rc "--split with --segments is a usage error" 2 "$M" generate --model x --prompt hi --split '|' --segments 1,2
expect_rc "missing model is an error" 1 "$M" generate --model "$tmp/nope" --prompt hi

TOK=$DATA/tokenizers/llama3
if [ ! -f "$TOK/tokenizer.json" ]; then
  skip "$TOK absent (tiny-model generation tests)"
else
  "$M" make-model --arch llama --layers 2 --hidden 32 --intermediate 64 --heads 4 --kv-heads 2 \
      --head-dim 8 --vocab 128256 --seed 5 --bos 128000 --eos 128001 --tokenizer "$TOK" \
      --out "$tmp/tiny" >/dev/null 2>"$tmp/err" && ok "make-model" || { bad "make-model"; cat "$tmp/err"; }
  G=("$M" generate --model "$tmp/tiny" --threads 2)
  expect_rc "greedy, 5 tokens" 0 "${G[@]}" --prompt "The capital of France is" --max-new-tokens 5 --verbose
  cp "$tmp/out" "$tmp/greedy1"
  grep -q "generated 5 tokens" "$tmp/err" && ok "--max-new-tokens 5 gives 5 tokens" || bad "5 tokens: $(cat "$tmp/err")"
  expect_rc "greedy again" 0 "${G[@]}" --prompt "The capital of France is" --max-new-tokens 5
  cmp -s "$tmp/out" "$tmp/greedy1" && ok "greedy is deterministic" || bad "greedy differs"
  expect_rc "interpreter back end" 0 "${G[@]}" --prompt "The capital of France is" --max-new-tokens 5 --mask-backend interp
  cmp -s "$tmp/out" "$tmp/greedy1" && ok "interp == jit" || bad "interp output differs"
  expect_rc "explicit causal mask" 0 "${G[@]}" --mask "$SRC/examples/causal.mask" --prompt "The capital of France is" --max-new-tokens 5
  cmp -s "$tmp/out" "$tmp/greedy1" && ok "causal.mask == default" || bad "causal.mask differs"
  # a stop string taken from the output: the text is cut right before it
  text=$(cat "$tmp/greedy1")
  if [ ${#text} -ge 4 ]; then
    stop=${text:2:2}
    want=${text%%"$stop"*}
    expect_rc "--stop from the output" 0 "${G[@]}" --prompt "The capital of France is" --max-new-tokens 5 --stop "$stop" --verbose
    [ "$(cat "$tmp/out")" = "$want" ] && ok "cut before the stop string" || bad "stop cut: got '$(cat "$tmp/out")' want '$want'"
    grep -q "stop: stop string" "$tmp/err" && ok "stop reason reported" || bad "stop reason: $(cat "$tmp/err")"
  fi
  expect_rc "--stop '\\n'" 0 "${G[@]}" --prompt "$(printf 'a\nb\nc\nd\n')" --max-new-tokens 12 --stop '\n'
  [ "$(wc -l <"$tmp/out")" = 1 ] && ok "no newline in the text" || bad "newline leaked: $(cat "$tmp/out")"
  expect_rc "sampling seed 1" 0 "${G[@]}" --prompt "Hello" --max-new-tokens 8 --temperature 1.0 --top-p 0.9 --top-k 50 --seed 1
  cp "$tmp/out" "$tmp/s1"
  expect_rc "sampling seed 1 again" 0 "${G[@]}" --prompt "Hello" --max-new-tokens 8 --temperature 1.0 --top-p 0.9 --top-k 50 --seed 1
  cmp -s "$tmp/out" "$tmp/s1" && ok "seeded sampling is reproducible" || bad "seeded sampling differs"
  expect_rc "--split with fusion_seed.mask" 0 "${G[@]}" --mask "$SRC/examples/fusion_seed.mask" --split '|' \
      --prompt "Answer.|Q: one?|Q: two?|A:" --max-new-tokens 4
  expect_rc "--split needs two separators" 2 "${G[@]}" --mask "$SRC/examples/fusion_seed.mask" --split '|' --prompt "a|b"
  expect_rc "--set of an unknown param" 2 "${G[@]}" --prompt hi --set nope=1
  printf 'broken mask = = \n' >"$tmp/bad.mask"
  expect_rc "mask with errors" 1 "${G[@]}" --mask "$tmp/bad.mask" --prompt hi
  grep -q "error" "$tmp/err" && ok "mask diagnostics printed" || bad "no diagnostics"
fi

GGUF=$(ls "$SRC"/models/smollm2-135m-instruct/*.gguf 2>/dev/null | head -n1)
if [ -z "$GGUF" ]; then
  skip "SmolLM2 GGUF absent (scripts/fetch-smollm2.sh)"
else
  P=$(printf 'Q: What is the capital of Germany?\nA: Berlin\nQ: What is the capital of Italy?\nA: Rome\nQ: What is the capital of France?\nA:')
  expect_rc "SmolLM2 few-shot" 0 "$M" generate --model "$GGUF" --prompt "$P" --stop '\n' --max-new-tokens 8
  [ "$(cat "$tmp/out")" = " Paris" ] && ok "SmolLM2 answers Paris and stops at the newline" || bad "SmolLM2: '$(cat "$tmp/out")'"
fi
exit $fail
