#!/usr/bin/env bash
# make_model.sh — `maskjit make-model`: each architecture and dtype writes a
# loadable directory, output is deterministic for a seed, sharding writes an
# index, a tokenizer is copied, bad options exit 2.
set -euo pipefail
M="${MASKJIT:-build/maskjit}"
t="$(mktemp -d)"
trap 'rm -rf "$t"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
for a in llama qwen2 qwen3; do
  "$M" make-model --arch "$a" --out "$t/$a" --seed 3 --layers 2 --vocab 300 || fail "make-model $a"
  for f in config.json generation_config.json model.safetensors; do [ -s "$t/$a/$f" ] || fail "$a: no $f"; done
  grep -q "\"model_type\": \"$a\"" "$t/$a/config.json" || fail "$a: model_type"
done
"$M" make-model --arch llama --out "$t/again" --seed 3 --layers 2 --vocab 300
cmp -s "$t/llama/model.safetensors" "$t/again/model.safetensors" || fail "not deterministic"
"$M" make-model --arch llama --out "$t/other" --seed 4 --layers 2 --vocab 300
! cmp -s "$t/llama/model.safetensors" "$t/other/model.safetensors" || fail "seed ignored"
"$M" make-model --arch qwen3 --out "$t/sh" --shards 2 --dtype bf16 --rope-scaling llama3 --tie
[ -s "$t/sh/model.safetensors.index.json" ] && [ -s "$t/sh/model-00002-of-00002.safetensors" ] || fail "shards"
grep -q '"rope_type": "llama3"' "$t/sh/config.json" || fail "rope scaling"
grep -q '"tie_word_embeddings": true' "$t/sh/config.json" || fail "tie"
printf '{"version": "1.0", "model": {}}' > "$t/tokenizer.json"
printf '{"bos_token": "<s>"}' > "$t/tokenizer_config.json"
"$M" make-model --arch qwen2 --out "$t/tok" --tokenizer "$t/tokenizer.json"
cmp -s "$t/tokenizer.json" "$t/tok/tokenizer.json" && cmp -s "$t/tokenizer_config.json" "$t/tok/tokenizer_config.json" \
  || fail "tokenizer copy"
set +e
"$M" make-model --arch gpt2 --out "$t/x" 2>/dev/null; [ $? = 2 ] || fail "bad arch should exit 2"
"$M" make-model --out "$t/x" 2>/dev/null; [ $? = 2 ] || fail "missing --arch should exit 2"
"$M" make-model --arch llama --out "$t/y" --heads 3 --kv-heads 2 2>/dev/null; [ $? = 1 ] || fail "bad heads should exit 1"
echo "make_model: ok"
