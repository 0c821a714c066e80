#!/usr/bin/env python3
"""torch_bench.py — the PyTorch/transformers side of bench/cpu_bench.sh: the
same model (a GGUF loaded with transformers' gguf_file=, dequantized to
float32), the same shapes (rows x prompt-len random token ids, then greedy
decode steps with the KV cache), on the CPU with the given thread count.
Prints lines in cpu_bench's format.

usage: torch_bench.py MODEL.gguf [--prompt-len P] [--rows 1,8] [--decode N] [--threads T] [--reps N]
(--reps N: repeat each measurement, print the fastest)
"""
import argparse
import inspect
import os
import time

import torch
from transformers import AutoModelForCausalLM


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("gguf")
    ap.add_argument("--prompt-len", type=int, default=128)
    ap.add_argument("--rows", default="1,8")
    ap.add_argument("--decode", type=int, default=32)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--reps", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    t0 = time.perf_counter()
    model = AutoModelForCausalLM.from_pretrained(
        os.path.dirname(os.path.abspath(a.gguf)), gguf_file=os.path.basename(a.gguf),
        torch_dtype=torch.float32)
    model.eval()
    print(f"load: {time.perf_counter() - t0:.2f} s (transformers {__import__('transformers').__version__}, "
          f"torch {torch.__version__}, attn {model.config._attn_implementation})", flush=True)
    vocab = model.config.vocab_size
    params = inspect.signature(model.forward).parameters
    cache_kw = "cache" if "cache" in params else "past_key_values"   # transformers 5 renamed it
    keep = {"logits_to_keep": 1} if "logits_to_keep" in params else {}

    def step(ids, cache):
        kw = dict(keep)
        if cache is not None:
            kw[cache_kw] = cache
        out = model(input_ids=ids, use_cache=True, **kw)
        cache = getattr(out, "cache", None) or getattr(out, "past_key_values", None)
        return out.logits[:, -1, :].argmax(-1, keepdim=True), cache

    g = torch.Generator().manual_seed(0)
    for rows in [int(r) for r in a.rows.split(",") if r]:
        ids = torch.randint(5, vocab - 5, (rows, a.prompt_len), generator=g)
        pre = dec = float("inf")
        for _ in range(max(1, a.reps)):
            with torch.inference_mode():
                t0 = time.perf_counter()
                nxt, cache = step(ids, None)
                t1 = time.perf_counter()
                for _ in range(a.decode):
                    nxt, cache = step(nxt, cache)
                t2 = time.perf_counter()
            pre, dec = min(pre, t1 - t0), min(dec, t2 - t1)
        t0, t1, t2 = 0.0, pre, pre + dec
        print(f"rows {rows} x prompt {a.prompt_len}: prefill {t1 - t0:.2f} s = "
              f"{rows * a.prompt_len / (t1 - t0):.1f} tokens/s; decode {a.decode} steps {t2 - t1:.2f} s = "
              f"{rows * a.decode / (t2 - t1):.1f} tokens/s ({1e3 * (t2 - t1) / a.decode:.1f} ms/step)"
              + (" (best of reps)" if a.reps > 1 else ""),
              flush=True)


if __name__ == "__main__":
    main()
