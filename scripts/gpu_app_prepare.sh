#!/usr/bin/env bash
# gpu_app_prepare.sh — prepares, on THIS (Debian build) machine, the one
# git-ignored folder that a GPU machine without development packages needs to
# build the whole maskjit CLI (scripts/gpu_app.sh) and to run the GPU parity
# driver (scripts/gpu_parity.sh):
#   DEV/include, DEV/lib   headers + static libraries of json-c, PCRE2,
#                          utf8proc, libpng and zlib (Debian 12; they link
#                          against any newer glibc)
#   DEV/generated          the parser that flex/bison generate (mask.lex.*, mask.tab.*)
#   DEV/data/q400.jsonl    every 5th MyriadLAMA question (bench/fusion_experiment.sh's set)
#   DEV/data/llama3-tok.tgz  the Llama 3 tokenizer (for random models of the smoke step)
# With MODEL given, also the model split in two halves for two device calls
# (each call carries at most 64 MiB): MODEL_DIR/a/part.aa, MODEL_DIR/b/part.ab
# and MODEL_DIR/{a,b}/model.sha256.
# usage: scripts/gpu_app_prepare.sh [DEV=.gpuapp] [BUILD=build-a] [MODEL MODEL_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
DEV=${1:-.gpuapp}
BUILD=${2:-build-a}
MODEL=${3:-}
MODEL_DIR=${4:-}
shared="${MJ_SHARED_DATA:-$PWD/../shared/data}"
lib=/usr/lib/x86_64-linux-gnu
for f in "$lib"/libjson-c.a "$lib"/libpcre2-8.a "$lib"/libutf8proc.a "$lib"/libpng16.a "$lib"/libz.a; do
  [ -f "$f" ] || { echo "gpu_app_prepare: $f missing (scripts/install-deps.sh installs it)" >&2; exit 1; }
done
if [ ! -f "$BUILD/generated/mask.tab.c" ]; then
  cmake -S . -B "$BUILD" >/dev/null
  cmake --build "$BUILD" --target mj_grammar >/dev/null
fi
rm -rf "$DEV"
mkdir -p "$DEV/include" "$DEV/lib" "$DEV/generated" "$DEV/data"
cp -r /usr/include/json-c "$DEV/include/"
cp /usr/include/pcre2.h /usr/include/utf8proc.h /usr/include/zlib.h /usr/include/zconf.h "$DEV/include/"
cp /usr/include/libpng16/png.h /usr/include/libpng16/pngconf.h /usr/include/libpng16/pnglibconf.h "$DEV/include/"
cp "$lib"/libjson-c.a "$lib"/libpcre2-8.a "$lib"/libutf8proc.a "$lib"/libpng16.a "$lib"/libz.a "$DEV/lib/"
cp "$BUILD"/generated/mask.lex.[ch] "$BUILD"/generated/mask.tab.[ch] "$DEV/generated/"
python3 - "$shared/myriadlama/questions.jsonl" "$DEV/data/q400.jsonl" <<'PY'
import sys
lines = [l for l in open(sys.argv[1], encoding="utf-8") if l.strip()]
open(sys.argv[2], "w", encoding="utf-8").writelines(lines[::5])
PY
tar czf "$DEV/data/llama3-tok.tgz" -C "$shared/tokenizers/llama3" .
if [ -n "$MODEL" ]; then
  : "${MODEL_DIR:?MODEL_DIR}"
  rm -rf "$MODEL_DIR"
  mkdir -p "$MODEL_DIR/a" "$MODEL_DIR/b"
  half=$(( ($(stat -c %s "$MODEL") + 1) / 2 ))
  split -b "$half" -a 2 "$MODEL" "$MODEL_DIR/a/part."
  mv "$MODEL_DIR/a/part.ab" "$MODEL_DIR/b/"
  (cd "$(dirname "$MODEL")" && sha256sum "$(basename "$MODEL")") | tee "$MODEL_DIR/a/model.sha256" > "$MODEL_DIR/b/model.sha256"
fi
# keep DEV out of git (.gitignore already names .gpuapp; another name goes to info/exclude)
if ! git check-ignore -q "$DEV" 2>/dev/null; then
  ex=$(git rev-parse --git-path info/exclude 2>/dev/null) && echo "/$DEV/" >> "$ex"
fi
du -sh "$DEV" ${MODEL_DIR:+"$MODEL_DIR"/a "$MODEL_DIR"/b}
echo "gpu_app_prepare: $DEV is ready to carry"
