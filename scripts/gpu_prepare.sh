#!/usr/bin/env bash
# gpu_prepare.sh — prepares, on THIS (build) machine, the two folders that
# scripts/gpu_verify.sh and bench/gpu_build.sh need on a GPU machine that has no
# flex/bison/json-c: a build's generated/ sources and a json-c include/ + static
# lib/ folder.  Both are git-ignored and travel with the device tool's `carry`.
# usage: scripts/gpu_prepare.sh [BUILD_DIR=build-gpu] [DEV_DIR=.h9dev]
# then, on the GPU machine (device tool, carry [BUILD_DIR/generated, DEV_DIR]):
#   scripts/gpu_verify.sh BUILD_DIR/generated DEV_DIR $OUT
set -euo pipefail
BUILD=${1:-build-gpu}
DEV=${2:-.h9dev}
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" -j "$(nproc)" --target mj_grammar mj_support >/dev/null
mkdir -p "$DEV/include" "$DEV/lib"
cp -r /usr/include/json-c "$DEV/include/"
cp /usr/lib/x86_64-linux-gnu/libjson-c.a "$DEV/lib/"
grep -qx "/$DEV/" .git/info/exclude 2>/dev/null || echo "/$DEV/" >> .git/info/exclude
echo "gpu_prepare: $BUILD/generated and $DEV are ready to carry"
