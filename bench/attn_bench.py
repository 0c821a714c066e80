#!/usr/bin/env python3
"""attn_bench.py — the peers of maskjit's attention kernels, measured in the same
run: PyTorch FlexAttention (torch.compile'd, block mask built beforehand) on the
seed fusion mask and SDPA dense causal, for the prefill shapes of issue 4, and
both for decode (one query per row against N cached keys).  Reads maskjit's
JSON lines (bench/attn_bench.c) with --maskjit and prints one comparison table
(markdown) with ratios; --json writes every number.

usage: attn_bench.py --maskjit FILE [--json OUT] [--rep 200] [--what all|prefill|decode]
"""
import argparse
import json
import math
import sys

import torch
import torch.nn.functional as F
from torch.nn.attention.flex_attention import create_block_mask, flex_attention
from triton.testing import do_bench

PREFILL = [(1, 2048), (8, 2048), (1, 8192), (1, 32768)]
DECODE = [(b, n) for b in (1, 8, 32) for n in (2048, 8192)]
H, HKV, D, SEGS = 24, 8, 128, 5


def seg_len(n):
    return (n + SEGS - 1) // SEGS


def fusion_pairs(n):
    """Visible (q, kv) pairs of the seed fusion mask: causal inside each segment."""
    L = seg_len(n)
    total, start = 0, 0
    while start < n:
        m = min(L, n - start)
        total += m * (m + 1) // 2
        start += m
    return total


def causal_pairs(n):
    return n * (n + 1) // 2


def bench(fn, rep):
    fn()
    torch.cuda.synchronize()
    return do_bench(fn, warmup=25, rep=rep, return_mode="median")


def prefill_peers(b, n, rep, flex):
    q = torch.randn(b, H, n, D, device="cuda", dtype=torch.bfloat16)
    k = torch.randn(b, HKV, n, D, device="cuda", dtype=torch.bfloat16)
    v = torch.randn(b, HKV, n, D, device="cuda", dtype=torch.bfloat16)
    seg = torch.arange(n, device="cuda") // seg_len(n)

    def fusion(bi, hi, qi, ki):
        return (ki <= qi) & (seg[qi] == seg[ki])

    bm = create_block_mask(fusion, B=None, H=None, Q_LEN=n, KV_LEN=n, device="cuda")
    out = {}
    out["flex_fusion_ms"] = bench(lambda: flex(q, k, v, block_mask=bm, enable_gqa=True), rep)
    out["sdpa_causal_ms"] = bench(
        lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True), rep)
    return out


def decode_peers(b, n, rep, flex):
    q = torch.randn(b, H, 1, D, device="cuda", dtype=torch.bfloat16)
    k = torch.randn(b, HKV, n, D, device="cuda", dtype=torch.bfloat16)
    v = torch.randn(b, HKV, n, D, device="cuda", dtype=torch.bfloat16)

    def gen(bi, hi, qi, ki):          # a generated token sees every cached key
        return ki <= qi + (n - 1)

    bm = create_block_mask(gen, B=None, H=None, Q_LEN=1, KV_LEN=n, device="cuda")
    return {
        "flex_ms": bench(lambda: flex(q, k, v, block_mask=bm, enable_gqa=True), rep),
        "sdpa_ms": bench(lambda: F.scaled_dot_product_attention(q, k, v, enable_gqa=True), rep),
    }


def load_maskjit(path):
    rows = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line.startswith("{"):
                continue
            r = json.loads(line)
            if r.get("mode") == "compile":
                rows[("compile", r["mask"])] = r
            else:
                rows[(r["mode"], r["mask"], r["B"], r["N"])] = r
    return rows


def tflops(pairs, b, ms):
    return 4.0 * b * H * D * pairs / (ms * 1e-3) / 1e12


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--maskjit", required=True)
    ap.add_argument("--json")
    ap.add_argument("--rep", type=int, default=200, help="do_bench rep in ms")
    ap.add_argument("--what", choices=("all", "prefill", "decode"), default="all", help="which shapes")
    a = ap.parse_args()
    torch._dynamo.config.cache_size_limit = 64
    flex = torch.compile(flex_attention)
    mj = load_maskjit(a.maskjit)
    card = torch.cuda.get_device_name()
    res = {"card": card, "torch": torch.__version__, "prefill": [], "decode": []}
    print(f"card: {card}, torch {torch.__version__}\n")
    print("| shape | maskjit fusion ms (TFLOP/s) | Flex fusion ms (TFLOP/s) | maskjit / Flex speed-up "
          "| maskjit causal ms | SDPA causal ms | maskjit / SDPA speed-up | maskjit plan ms |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for b, n in PREFILL if a.what != "decode" else []:
        p = prefill_peers(b, n, a.rep, flex)
        mf = mj.get(("prefill", "fusion_seed.mask", b, n), {})
        mc = mj.get(("prefill", "causal.mask", b, n), {})
        fp, cp = fusion_pairs(n), causal_pairs(n)
        row = dict(B=b, N=n, **p, maskjit_fusion_ms=mf.get("run_ms"), maskjit_causal_ms=mc.get("run_ms"),
                   maskjit_plan_ms=mf.get("plan_ms"))
        res["prefill"].append(row)
        def fmt(ms, pairs):
            return f"{ms:.3f} ({tflops(pairs, b, ms):.0f})" if ms else "n/a"
        sf = f"{p['flex_fusion_ms'] / mf['run_ms']:.2f}x" if mf else "n/a"
        sc = f"{p['sdpa_causal_ms'] / mc['run_ms']:.2f}x" if mc else "n/a"
        mcs = f"{mc['run_ms']:.3f}" if mc else "n/a"
        plan = f"{mf['plan_ms']:.2f}" if mf else "n/a"
        print(f"| B={b}, N={n} | {fmt(mf.get('run_ms'), fp)} | {fmt(p['flex_fusion_ms'], fp)} | {sf} "
              f"| {mcs} | {p['sdpa_causal_ms']:.3f} | {sc} | {plan} |")
        sys.stdout.flush()
    print("\n| decode shape | maskjit ms (GB/s) | Flex ms (GB/s) | SDPA ms (GB/s) | maskjit / Flex bandwidth |")
    print("| --- | --- | --- | --- | --- |")
    for b, n in DECODE:
        p = decode_peers(b, n, a.rep, flex)
        m = mj.get(("decode", "fusion_seed.mask", b, n), {})
        gb = b * n * HKV * D * 2 * 2 / 1e9
        res["decode"].append(dict(B=b, N=n, **p, maskjit_ms=m.get("run_ms"), maskjit_plan_ms=m.get("plan_ms")))
        def fmt(ms):
            return f"{ms:.4f} ({gb / (ms * 1e-3):.0f})" if ms else "n/a"
        ratio = f"{p['flex_ms'] / m['run_ms']:.2f}x" if m else "n/a"
        print(f"| B={b}, N={n} | {fmt(m.get('run_ms'))} | {fmt(p['flex_ms'])} | {fmt(p['sdpa_ms'])} | {ratio} |")
        sys.stdout.flush()
    for key in (("compile", "fusion_seed.mask"), ("compile", "causal.mask")):
        if key in mj:
            c = mj[key]
            print(f"\nmaskjit {key[1]}: cold NVRTC init (prefill+decode, D=128) {c['cold_init_ms']:.0f} ms, "
                  f"cached init {c['cached_init_ms']:.1f} ms")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
