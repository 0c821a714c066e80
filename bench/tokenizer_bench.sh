#!/usr/bin/env bash
# tokenizer_bench.sh — tokenizer encode throughput (MB/s, single thread) of
# maskjit against HF `tokenizers` on the same text: every MyriadLAMA paraphrase
# (../shared/data/myriadlama/questions.jsonl), one per line, encoded line by
# line and as one text, for the Llama 3 and Qwen3 tokenizers.  Both sides time
# only the encode calls (best of 3); HF runs with RAYON_NUM_THREADS=1
# (encode_batch over the lines; encode of the whole text).
# Usage: bench/tokenizer_bench.sh [BUILD_DIR]   (default: build)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$root/build}"
M="$build/maskjit"
data="${MJ_SHARED_DATA:-$root/../shared/data}"
[ -x "$M" ] || { echo "tokenizer_bench: no $M (build first)" >&2; exit 1; }
[ -f "$data/myriadlama/questions.jsonl" ] || { echo "tokenizer_bench: $data/myriadlama absent" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 - "$data/myriadlama/questions.jsonl" >"$tmp/text.txt" <<'PY'
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    for p in json.loads(line)["paraphrases"]:
        print(p)
PY
echo "text: every MyriadLAMA paraphrase, $(wc -l <"$tmp/text.txt") lines, $(wc -c <"$tmp/text.txt") bytes"
have_hf=1
python3 -c 'import tokenizers' 2>/dev/null || { have_hf=0; echo "(python tokenizers not installed: HF numbers skipped)"; }
for name in llama3 qwen3; do
  tok="$data/tokenizers/$name"
  echo "== $name"
  "$M" tokenize --tokenizer "$tok" --bench <"$tmp/text.txt"
  if [ $have_hf = 1 ]; then
    RAYON_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false python3 - "$tok/tokenizer.json" "$tmp/text.txt" <<'PY'
import sys, time
from tokenizers import Tokenizer
tok = Tokenizer.from_file(sys.argv[1])
text = open(sys.argv[2], encoding="utf-8").read()
lines = text.split("\n")[:-1]
nbytes = len(text.encode("utf-8"))
def best(fn):
    b, r = 1e30, None
    for _ in range(3):
        t0 = time.perf_counter()
        r = fn()
        b = min(b, time.perf_counter() - t0)
    return b, r
s, r = best(lambda: tok.encode_batch(lines, add_special_tokens=False))
n = sum(len(e.ids) for e in r)
print("HF tokenizers line by line: %d bytes, %d tokens, %.4f s, %.2f MB/s" % (nbytes, n, s, nbytes / 1e6 / s))
s, r = best(lambda: tok.encode(text, add_special_tokens=False))
print("HF tokenizers as one text: %d bytes, %d tokens, %.4f s, %.2f MB/s" % (nbytes, len(r.ids), s, nbytes / 1e6 / s))
PY
  fi
done
