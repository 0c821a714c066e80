#!/usr/bin/env python3
"""torch_decode_peer.py — the strongest PyTorch batch-1 decode set up on the GPU
machine, as a peer for maskjit's decode target (bench/gpu_bench.sh runs it when
MJ_BENCH_TORCH_DECODE=1; bench/RESULTS.md records it):

  compiled  HF transformers generate with a static KV cache, which transformers
            compiles itself (torch.compile of the forward, CUDA graphs), batch 1,
            greedy, after the 2 048-token parity prompt (causal: generate takes no
            4-D mask): tokens/s over 64 new tokens (the 65-token run minus the
            1-token run, as gpu_parity.py times plain generate).
  products  the weight products of one decode step alone: one token through the
            seven projections of every layer and the lm_head as
            torch.nn.functional.linear (cuBLAS), replayed from a CUDA graph — no
            attention, norms or other kernels between them.  Its GB/s is the rate
            at which cuBLAS streams these weights at batch 1, the counterpart of
            gpu_forward's "gemv pass".

usage: torch_decode_peer.py --model DIR --data DIR [--new 64] [--skip-compiled]
Prints one JSON line per measurement ({"what": "torch_compiled_decode", ...},
{"what": "torch_product_pass", ...}); a failing measurement prints its error
instead and the others still run.
"""
import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gpu_parity import read_parity  # noqa: E402  (same directory)


def timed(fn):
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    r = fn()
    torch.cuda.synchronize()
    return r, time.perf_counter() - t0


def product_pass(model, reps=20):
    """Every decode-step weight of the model, one token each, in a CUDA graph."""
    ws = []
    for layer in model.model.layers:
        a, m = layer.self_attn, layer.mlp
        ws += [a.q_proj.weight, a.k_proj.weight, a.v_proj.weight, a.o_proj.weight,
               m.gate_proj.weight, m.up_proj.weight, m.down_proj.weight]
    ws.append(model.lm_head.weight)
    xs = {}
    for w in ws:
        k = w.shape[1]
        if k not in xs:
            xs[k] = torch.randn(1, 1, k, dtype=w.dtype, device=w.device)
    outs = [None] * len(ws)

    def run():
        for i, w in enumerate(ws):
            outs[i] = torch.nn.functional.linear(xs[w.shape[1]], w)

    s = torch.cuda.Stream()
    s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):
        for _ in range(3):
            run()
    torch.cuda.current_stream().wait_stream(s)
    g = torch.cuda.CUDAGraph()
    with torch.cuda.graph(g):
        run()
    g.replay()
    best = None
    for _ in range(3):
        _, dt = timed(lambda: [g.replay() for _ in range(reps)])
        best = dt if best is None or dt < best else best
    ms = best / reps * 1e3
    nbytes = sum(w.numel() * w.element_size() for w in ws)
    return {"what": "torch_product_pass", "ms": round(ms, 4), "gb": round(nbytes / 1e9, 3),
            "gb_per_s": round(nbytes / (ms * 1e-3) / 1e9, 1), "products": len(ws)}


def compiled_decode(model, ids, new):
    """HF generate with a static cache (transformers compiles the forward)."""
    model.generation_config.cache_implementation = "static"

    def gen(k):
        return model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=k, min_new_tokens=k,
                              do_sample=False, pad_token_id=0)

    t0 = time.perf_counter()
    gen(new + 1)   # compiles prefill and decode
    gen(new + 1)
    warm = time.perf_counter() - t0
    best = None
    for _ in range(3):
        _, t1 = timed(lambda: gen(1))
        _, tn = timed(lambda: gen(new + 1))
        tps = new / (tn - t1)
        best = tps if best is None or tps > best else best
    return {"what": "torch_compiled_decode", "tokens_per_s": round(best, 2), "new_tokens": new,
            "prompt": int(ids.shape[1]), "warmup_and_compile_s": round(warm, 1)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--new", type=int, default=64)
    ap.add_argument("--skip-compiled", action="store_true")
    a = ap.parse_args()
    from transformers import AutoModelForCausalLM
    model = AutoModelForCausalLM.from_pretrained(a.model, dtype=torch.bfloat16,
                                                 attn_implementation="sdpa").to("cuda").eval()
    card = torch.cuda.get_device_name(0)
    ids = torch.as_tensor(read_parity(a.data), dtype=torch.long, device="cuda")[None]
    jobs = [("products", lambda: product_pass(model))]
    if not a.skip_compiled:
        jobs.append(("compiled", lambda: compiled_decode(model, ids, a.new)))
    for name, fn in jobs:
        try:
            with torch.no_grad():
                r = fn()
        except Exception as exc:   # report and go on with the next measurement
            r = {"what": "torch_" + name, "error": f"{type(exc).__name__}: {str(exc)[:300]}"}
        r["card"] = card
        r["torch"] = torch.__version__
        print(json.dumps(r), flush=True)


if __name__ == "__main__":
    main()
