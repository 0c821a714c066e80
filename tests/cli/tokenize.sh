#!/usr/bin/env bash
# tokenize.sh — CLI tests of `maskjit tokenize`: encode / decode one line per
# line, --bos, --skip-special, --escape, usage and input errors with their exit
# codes (1 bad input, 2 usage); on the committed toy tokenizer always, on
# Llama 3 / Qwen3 when ../shared/data is present (and against HF `tokenizers`
# when the Python package is installed), on the SmolLM2 GGUF when fetched.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.bash"
EXPECT_STDIN=$tmp/in   # expect_rc feeds $tmp/in to each command
# same DESC FILE TEXT: FILE holds exactly TEXT
same() { if [ "$(cat "$2")" = "$3" ]; then ok "$1"; else bad "$1: got '$(head -c 300 "$2")' want '$3'"; fi; }

TOY=$SRC/tests/data/tokenizer/toy
: >"$tmp/in"
expect_rc "--help" 0 "$M" tokenize --help
grep -q -- "--tokenizer" "$tmp/out" && ok "--help names --tokenizer" || bad "--help names --tokenizer"
expect_rc "no --tokenizer is a usage error" 2 "$M" tokenize
expect_rc "unknown option is a usage error" 2 "$M" tokenize --tokenizer "$TOY" --frobnicate
expect_rc "missing tokenizer file" 1 "$M" tokenize --tokenizer "$tmp/nope.json"
grep -q "nope.json" "$tmp/err" && ok "error names the file" || bad "error names the file"
echo '{"model": {"type": "Unigram"}}' >"$tmp/bad.json"
expect_rc "unsupported tokenizer" 1 "$M" tokenize --tokenizer "$tmp/bad.json"
grep -q "Unigram" "$tmp/err" && ok "error names the model type" || bad "error names the model type"

# toy tokenizer (committed): ids checked against HF tokenizers when the fixtures were made
printf 'hello world\nWhat is the capital of France? [MASK].\n\n' >"$tmp/in"
expect_rc "encode toy" 0 "$M" tokenize --tokenizer "$TOY"
same "toy ids" "$tmp/out" "376 222 427
222 56 73 66 85 222 358 222 324 222 402 222 316 222 395 32 700 222 15"
[ "$(wc -l <"$tmp/out")" = 3 ] && ok "one output line per input line" || bad "one output line per input line"
expect_rc "encode toy --bos" 0 "$M" tokenize --tokenizer "$TOY/tokenizer.json" --bos
same "toy --bos prepends <s>" "$tmp/out" "0 376 222 427
0 222 56 73 66 85 222 358 222 324 222 402 222 316 222 395 32 700 222 15
0"
printf '376 222 427\n222 56 73 66 85 222 358 222 324 222 402 222 316 222 395 32 700 222 15\n\n' >"$tmp/in"
expect_rc "decode toy" 0 "$M" tokenize --tokenizer "$TOY" --decode
same "toy decode keeps specials ([MASK] has lstrip)" "$tmp/out" "hello world
 What is the capital of France?[MASK] ."
[ "$(wc -l <"$tmp/out")" = 3 ] && ok "decode: one output line per input line" || bad "decode: one line per line"
expect_rc "decode toy --skip-special" 0 "$M" tokenize --tokenizer "$TOY" --decode --skip-special
same "toy decode skipping specials" "$tmp/out" "hello world
 What is the capital of France? ."
printf '1 2 x\n' >"$tmp/in"
expect_rc "decode of a non-id is an input error" 1 "$M" tokenize --tokenizer "$TOY" --decode
grep -q "line 1" "$tmp/err" && ok "error names the line" || bad "error names the line"

if [ -d "$DATA/tokenizers/llama3" ]; then
  L3=$DATA/tokenizers/llama3 Q3=$DATA/tokenizers/qwen3
  printf 'Hello world\nhello<|begin_of_text|>x\n' >"$tmp/in"
  expect_rc "encode llama3 dir" 0 "$M" tokenize --tokenizer "$L3"
  same "llama3 ids (special text matched)" "$tmp/out" "9906 1917
15339 128000 87"
  expect_rc "encode llama3 --bos" 0 "$M" tokenize --tokenizer "$L3/tokenizer.json" --bos
  same "llama3 --bos" "$tmp/out" "128000 9906 1917
128000 15339 128000 87"
  printf '<|im_start|>user\n' >"$tmp/in"
  expect_rc "encode qwen3 --bos (it has none)" 0 "$M" tokenize --tokenizer "$Q3" --bos
  same "qwen3 ids" "$tmp/out" "151644 872"
  # a decoded text holding a newline: raw by default, escaped with --escape
  printf '151644 872 198 13048\n' >"$tmp/in"
  expect_rc "decode qwen3 raw" 0 "$M" tokenize --tokenizer "$Q3" --decode
  same "raw decode prints the newline" "$tmp/out" "<|im_start|>user
Hi"
  expect_rc "decode qwen3 --escape" 0 "$M" tokenize --tokenizer "$Q3" --decode --escape
  same "escaped decode is one line" "$tmp/out" '<|im_start|>user\nHi'
  # invalid UTF-8 in, U+FFFD out; a line's '\r' is part of its text
  printf 'a\xffb\nx\r\n' >"$tmp/in"
  expect_rc "encode invalid UTF-8 and CR" 0 "$M" tokenize --tokenizer "$L3"
  same "invalid byte and CR kept as bytes" "$tmp/out" "64 187 65
87 201"
  cp "$tmp/out" "$tmp/in"
  expect_rc "decode invalid UTF-8" 0 "$M" tokenize --tokenizer "$L3" --decode --escape
  same "decode gives U+FFFD" "$tmp/out" $'a\xef\xbf\xbdb\nx\\r'
  # round trip and HF parity on WebQuestions' test questions
  python3 -c 'import json,sys; [print(q["qText"]) for q in json.load(open(sys.argv[1]))]' \
    "$DATA/webquestions/test.json" >"$tmp/q.txt"
  for T in "$L3" "$Q3"; do
    n=$(basename "$T")
    "$M" tokenize --tokenizer "$T" <"$tmp/q.txt" >"$tmp/ids.$n" || bad "encode questions ($n)"
    "$M" tokenize --tokenizer "$T" --decode <"$tmp/ids.$n" >"$tmp/back.$n" || bad "decode questions ($n)"
    cmp -s "$tmp/q.txt" "$tmp/back.$n" && ok "round trip of $(wc -l <"$tmp/q.txt") questions ($n)" \
      || bad "round trip ($n)"
    if python3 -c 'import tokenizers' 2>/dev/null; then
      python3 - "$T/tokenizer.json" "$tmp/q.txt" >"$tmp/hf.$n" <<'PY'
import sys
from tokenizers import Tokenizer
t = Tokenizer.from_file(sys.argv[1])
for line in open(sys.argv[2], encoding="utf-8").read().split("\n")[:-1]:
    print(" ".join(map(str, t.encode(line, add_special_tokens=False).ids)))
PY
      cmp -s "$tmp/hf.$n" "$tmp/ids.$n" && ok "ids identical to HF tokenizers ($n)" || bad "ids differ from HF ($n)"
    else
      skip "python tokenizers not installed (HF comparison)"
    fi
  done
else
  skip "$DATA absent (Llama 3 / Qwen3 checks)"
fi

GGUF=$SRC/models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf
if [ -f "$GGUF" ]; then
  printf 'hello world\n<|im_start|>user\n' >"$tmp/in"
  expect_rc "encode with the SmolLM2 GGUF" 0 "$M" tokenize --tokenizer "$GGUF" --bos
  same "SmolLM2 ids (BOS <|im_start|>)" "$tmp/out" "1 28120 905
1 1 4093"
else
  skip "no SmolLM2 GGUF (scripts/fetch-smollm2.sh)"
fi
exit $fail
