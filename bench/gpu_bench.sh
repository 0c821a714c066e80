#!/usr/bin/env bash
# gpu_bench.sh — the CUDA forward's checks and model-level benchmarks in one
# run on a GPU machine: build (bench/gpu_build.sh), the unit test
# (test_runtime_cuda_forward: CUDA engine vs CPU engine on small models),
# then for random-weight models of the Llama-3.2-3B and Qwen2.5-1.5B shapes
# (bench/gpu_parity.py make) maskjit (bench/gpu_forward) and HF transformers
# on the same weights, prompts and seed fusion mask: top-1 agreement over a
# 2048-token prompt, 16 greedy tokens, batch-1 decode speed against HF
# generate, and 64 questions of 5 x 250 tokens (10 new tokens) against
# transformers with a KV cache + 4-D mask and the seed's recompute method.
# usage: bench/gpu_bench.sh GEN_DIR DEV_DIR OUT_DIR [steps...]
#   steps: unit llama qwen (default: all); also
#     decode  Llama-3B shape: parity + the decode configurations of
#             gpu_forward (no e2e) with HF's parity and generate peers
#             (BENCH_DECODE_WHAT="decode": no parity; BENCH_HF=0: no HF;
#             BENCH_EXTRA: see below; MJ_BENCH_TORCH_DECODE=1 adds
#             bench/torch_decode_peer.py: HF generate with a static cache,
#             compiled, and cuBLAS's product pass in a CUDA graph)
#     attn    the decode attention: test_runtime_cuda_attn, attn_bench decode
#             by default (3-stage K/V ring), with a 2-stage one (MJ_ATTN_DECODE_STAGES=2) and
#             with H4's splits for 2 CTAs per SM (MJ_ATTN_DECODE_CTAS=2)
#             (ATTN_VARIANTS="default old ..." picks others: cl16/cl8 clusters
#             up to 16/8 splits, cpdl combine as PDL, cl16s3, cl16c2, nocl no
#             cluster, old = before clusters and the combine's PDL)
#             (built by scripts/gpu_tests.sh); attnpeers: the same plus
#             bench/attn_bench.py's Flex/SDPA peers (ATTN_PEERS_ARGS: e.g.
#             "--what decode --rep 100")
# Logs and JSON under OUT_DIR; the last lines are a summary.
set -uo pipefail
GEN=${1:?GEN_DIR}
DEV=${2:?DEV_DIR}
OUT=${3:?OUT_DIR}
shift 3
steps=${*:-unit llama qwen}
B=/tmp/mjfwd-build
M=/tmp/mjfwd-models
D=/tmp/mjfwd-data
R=/tmp/mjfwd-out   # maskjit's per-token files (OUT keeps logs and JSON only)
mkdir -p "$OUT" "$M" "$D" "$R"
export XDG_CACHE_HOME=/tmp/mjfwd-cache PYTHONUNBUFFERED=1 MJ_SOURCE_DIR=$PWD
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$OUT/card.txt"
bash bench/gpu_build.sh "$GEN" "$DEV" "$B" > "$OUT/build.log" 2>&1 || { tail -30 "$OUT/build.log"; exit 1; }
for s in $steps; do
  case $s in
  unit)
    # the full test; on a failure, one small case per attention path, each in
    # its own process (a device fault poisons the process's context),
    # synchronising after every stage so that a fault names its kernel, and
    # compute-sanitizer on it
    if timeout 240 "$B/test_runtime_cuda_forward" > "$OUT/unit.log" 2>&1; then tail -48 "$OUT/unit.log"
    else
      tail -30 "$OUT/unit.log"
      for a in naive sparse; do
        if MJ_TEST_QUICK=1 MJ_TEST_ATTN=$a MJ_CUDA_DEBUG_SYNC=1 timeout 120 "$B/test_runtime_cuda_forward" \
            > "$R/quick_$a.log" 2>&1; then echo "quick $a: ok"; tail -3 "$R/quick_$a.log"
        else
          echo "quick $a: FAILED"; tail -12 "$R/quick_$a.log"
          [ $a = sparse ] && export MJ_CUDA_ATTN=naive
          MJ_TEST_QUICK=1 MJ_TEST_ATTN=$a timeout 150 compute-sanitizer --print-limit 4 \
            "$B/test_runtime_cuda_forward" 2>&1 | grep -v "^=========     Host Frame" | head -45
        fi
      done
    fi
    echo "attention for the rest: ${MJ_CUDA_ATTN:-auto}" ;;
  attn|attnpeers)
    AB=/tmp/mj-gpu-build
    bash scripts/gpu_tests.sh "$GEN" "$AB" > "$OUT/attn_build.log" 2>&1 || { tail -20 "$OUT/attn_build.log"; continue; }
    timeout 200 "$AB/test_runtime_cuda_attn" > "$OUT/attn_test.log" 2>&1
    echo "attn test: rc=$? $(grep -E 'worst' "$OUT/attn_test.log" | head -1) $(tail -1 "$OUT/attn_test.log")"
    grep -E "CHECK failed" "$OUT/attn_test.log" | head -5
    # ATTN_VARIANTS: which attn_bench runs (default: default stages2 ctas2); each sets the
    # decode switches it names and clears the others (an exported MJ_ATTN_DECODE_CLUSTER
    # or MJ_ATTN_COMBINE_PDL applies to the test above only)
    for v in ${ATTN_VARIANTS:-default stages2 ctas2}; do
      e=$(case $v in stages3) echo MJ_ATTN_DECODE_STAGES=3 ;; stages2) echo MJ_ATTN_DECODE_STAGES=2 ;; ctas2) echo MJ_ATTN_DECODE_CTAS=2 ;;
          cl16) echo MJ_ATTN_DECODE_CLUSTER=16 ;; cl8) echo MJ_ATTN_DECODE_CLUSTER=8 ;;
          cpdl) echo MJ_ATTN_COMBINE_PDL=1 ;; cl16s3) echo MJ_ATTN_DECODE_CLUSTER=16 MJ_ATTN_DECODE_STAGES=3 ;;
          nocl) echo MJ_ATTN_DECODE_CLUSTER=0 ;; old) echo MJ_ATTN_DECODE_CLUSTER=0 MJ_ATTN_COMBINE_PDL=0 ;; cl16c2) echo MJ_ATTN_DECODE_CLUSTER=16 MJ_ATTN_DECODE_CTAS=2 ;;
          *) echo MJ_ATTN_DECODE_STAGES= ;; esac)
      env MJ_ATTN_DECODE_CLUSTER= MJ_ATTN_COMBINE_PDL= MJ_ATTN_DECODE_STAGES= MJ_ATTN_DECODE_CTAS= $e \
        timeout 100 "$AB/attn_bench" examples/fusion_seed.mask decode 30 > "$OUT/attn_decode_$v.jsonl"
      echo "attn_bench decode $v (B N run_ms GB/s):"
      python3 -c "
import json,sys
for l in open(sys.argv[1]):
    r=json.loads(l)
    if r.get('mode')!='decode': continue
    gb=2*r['B']*r['N']*r['HKV']*r['D']*2/(r['run_ms']*1e-3)/1e9
    print('  ', r['B'], r['N'], r['run_ms'], round(gb))" "$OUT/attn_decode_$v.jsonl"
    done
    if [ $s = attnpeers ]; then
      timeout 300 python3 bench/attn_bench.py ${ATTN_PEERS_ARGS:-} --maskjit "$OUT/attn_decode_default.jsonl" \
        --json "$OUT/attn_peers.json" > "$OUT/attn_table.md" 2>> "$OUT/attn_peers.err"
      sed -n '/decode shape/,$p' "$OUT/attn_table.md"
    fi ;;
  llama|qwen|decode)
    arch=$([ $s = qwen ] && echo qwen25 || echo llama3b)
    vocab=$([ $s = qwen ] && echo 151936 || echo 128256)
    what=$(case $s in llama) echo "parity decode e2e" ;; decode) echo "${BENCH_DECODE_WHAT:-parity decode}" ;;
           *) echo parity ;; esac)
    hfx=$(case $s in llama) echo "--decode --e2e" ;; decode) echo "--decode" ;; *) echo "" ;; esac)
    mkdir -p "$R/$s"
    timeout 240 python3 bench/gpu_parity.py make --arch $arch --out "$M/$s" 2>&1 | tail -3
    python3 bench/gpu_parity.py prompts --out "$D/$s" --vocab $vocab | tail -1
    timeout 240 "$B/gpu_forward" "$M/$s" "$D/$s" "$R/$s" $what 2>&1 | tee "$OUT/${s}_maskjit.jsonl"
    # BENCH_EXTRA="NAME=VALUE ...": the default decode configuration once more under
    # engine-open switches (e.g. MJ_CUDA_GEMV_UNROLL=8), in a process of its own
    [ $s = decode ] && [ -n "${BENCH_EXTRA:-}" ] && env $BENCH_EXTRA MJ_BENCH_DECODE=0 timeout 120 \
      "$B/gpu_forward" "$M/$s" "$D/$s" "$R/$s" decode 2>&1 | sed "s/\"config\": \"/&[$BENCH_EXTRA] /" \
      | tee -a "$OUT/${s}_maskjit.jsonl"
    [ "${BENCH_HF:-1}" = 0 ] || timeout 300 python3 bench/gpu_parity.py hf --model "$M/$s" --data "$D/$s" --maskjit "$R/$s" $hfx \
      --json "$OUT/${s}_hf.json" 2>&1 | grep -v Warning | tail -6
    # MJ_BENCH_TORCH_DECODE=1: the compiled-PyTorch decode peers (bench/torch_decode_peer.py)
    [ "${MJ_BENCH_TORCH_DECODE:-0}" = 1 ] && [ $s != qwen ] && timeout 420 python3 bench/torch_decode_peer.py \
      --model "$M/$s" --data "$D/$s" 2>&1 | grep '^{' | tee "$OUT/${s}_torch_decode.jsonl"
    rm -rf "$M/$s" ;;
  esac
done
echo "gpu_bench.sh: done"
