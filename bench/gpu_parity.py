#!/usr/bin/env python3
"""gpu_parity.py — the HF transformers side of maskjit's model-level GPU checks
(bench/gpu_bench.sh runs it with bench/gpu_forward on the same machine).

  make    --arch llama3b|qwen25 --out DIR [--seed S] [--init maskjit|hf]
          a random-weight HF model of the Llama-3.2-3B (28 layers, hidden 3072,
          24/8 heads, intermediate 8192, vocab 128256, llama3 RoPE, tied) or
          Qwen2.5-1.5B shape (28 layers, hidden 1536, 12/2 heads, 8960, vocab
          151936, q/k/v bias, tied), saved as bf16 safetensors.
          --init maskjit (default): weights as maskjit make-model draws them:
          linear N(0, 1/fan_in), embeddings N(0, 1/hidden), norms 1 + 0.1 N,
          final norm 2 + 0.2 N, biases 0.1 N (peaked attention, logits of std
          ~2: greedy choices are separated).
          --init hf: the model transformers itself initialises:
          AutoModelForCausalLM.from_config under torch.manual_seed(S), its own
          _init_weights (linear and embeddings N(0, initializer_range = 0.02),
          biases 0, norms 1), in f32 on the GPU, then cast to bf16.
  prompts --out DIR --vocab V [--seed S]
          parity.bin (2048 random ids) and e2e.bin (64 rows of 5 x 250 ids).
  hf      --model DIR --data DIR --maskjit DIR [--decode] [--e2e] [--json F]
          HF transformers (bf16, SDPA) with the seed fusion mask given as an
          explicit 4-D mask: argmax after every prompt token (lm_head in f32 on
          HF's bf16 final hidden state, and HF's own bf16 logits), an f32 copy
          of the model as a reference for both, 16 greedy tokens with a KV
          cache; compared with maskjit's files.  --floors: how far bf16
          implementations of the same model are from each other: top-1 over
          the prompt with each SDPA backend (math, efficient, cuDNN, flash —
          those that take the 4-D mask) and eager attention, against HF's
          default, the f32 forward and maskjit.  --decode: HF generate, batch 1,
          same prompt.  --e2e: the 64 questions with a KV cache + 4-D mask
          (batches of 16), and the seed's method (no cache, the whole sequence
          recomputed per new token) on 4 questions.  Where maskjit wrote
          forced_top1.bin (256 teacher-forced decode steps: the prompt's first
          256 ids appended one by one), the argmax after each against HF bf16
          and f32 on the same sequence; --forced DIR...: more maskjit outputs
          (e.g. other switches) compared the same way.
"""
import argparse
import json
import math
import os
import struct
import sys
import time

import numpy as np
import torch

SEGS = 5
DEVICE = os.environ.get("MJ_PARITY_DEVICE", "cuda")   # "cpu": a local dry run of this script on tiny configs


def fusion_mask(n, seg, prompt_len, dtype, device, batch=1):
    """Additive 4-D mask [batch,1,n,n] of examples/fusion_seed.mask."""
    q = torch.arange(n, device=device)[:, None]
    kv = torch.arange(n, device=device)[None, :]
    s = torch.full((n,), -1, dtype=torch.long, device=device)
    s[: len(seg)] = torch.as_tensor(seg, device=device)
    ok = (kv <= q) & ((q >= prompt_len) | (s[:, None] == s[None, :]))
    m = torch.zeros(n, n, dtype=dtype, device=device)
    m.masked_fill_(~ok, torch.finfo(dtype).min)
    return m[None, None].expand(batch, 1, n, n)


def weight_stats(model):
    """Mean/std of a few tensors: shows which initialisation a model got."""
    out = {}
    for name, p in model.named_parameters():
        if any(name.endswith(k) for k in ("embed_tokens.weight", "layers.0.self_attn.q_proj.weight",
                                          "layers.0.self_attn.q_proj.bias", "layers.0.mlp.down_proj.weight",
                                          "layers.0.input_layernorm.weight", "model.norm.weight")):
            t = p.detach().float()
            out[name] = [round(float(t.mean()), 5), round(float(t.std()), 5)]
    return out


def make_hf_init(cfg, seed):
    """The model as transformers initialises it (from_config + _init_weights),
    in f32 on the GPU under torch.manual_seed(seed), cast to bf16.  Returns
    (model, how): how says whether from_config alone initialised the weights
    (checked on a projection's std against initializer_range)."""
    from transformers import AutoModelForCausalLM
    torch.manual_seed(seed)
    with torch.device(DEVICE):
        model = AutoModelForCausalLM.from_config(cfg, dtype=torch.float32)
    std = float(model.model.layers[0].self_attn.q_proj.weight.float().std())
    how = "from_config"
    if abs(std / cfg.initializer_range - 1) > 0.1:   # weights left uninitialised: run HF's init explicitly
        torch.manual_seed(seed)
        with torch.no_grad():
            model.apply(model._init_weights)
        how = f"from_config + apply(_init_weights) (q_proj std was {std:.4g})"
    model.tie_weights()
    return model.to(torch.bfloat16), how


def cmd_make(a):
    from transformers import AutoModelForCausalLM, LlamaConfig, Qwen2Config
    if a.arch == "llama3b":
        cls, kw = LlamaConfig, dict(vocab_size=128256, hidden_size=3072, intermediate_size=8192, num_hidden_layers=28,
                                    num_attention_heads=24, num_key_value_heads=8, head_dim=128,
                                    max_position_embeddings=131072, rms_norm_eps=1e-5, rope_theta=500000.0,
                                    rope_scaling={"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0,
                                                  "high_freq_factor": 4.0, "original_max_position_embeddings": 8192},
                                    tie_word_embeddings=True, bos_token_id=128000, eos_token_id=128001)
    else:
        cls, kw = Qwen2Config, dict(vocab_size=151936, hidden_size=1536, intermediate_size=8960, num_hidden_layers=28,
                                    num_attention_heads=12, num_key_value_heads=2, max_position_embeddings=32768,
                                    rms_norm_eps=1e-6, rope_theta=1000000.0, tie_word_embeddings=True,
                                    use_sliding_window=False, bos_token_id=151643, eos_token_id=151643)
    if os.environ.get("MJ_PARITY_TINY"):   # a local dry run: the same architecture, 2 small layers
        kw.update(num_hidden_layers=2, hidden_size=256, intermediate_size=512, num_attention_heads=4,
                  num_key_value_heads=2, vocab_size=4096)
    cfg = cls(**kw)
    t0 = time.time()
    if a.init == "hf":
        model, how = make_hf_init(cfg, a.seed)
        model.save_pretrained(a.out, safe_serialization=True)
        print(json.dumps({"what": "make", "arch": a.arch, "init": "hf", "how": how, "out": a.out,
                          "seconds": round(time.time() - t0, 2), "params": sum(p.numel() for p in model.parameters()),
                          "initializer_range": cfg.initializer_range, "stats": weight_stats(model)}), flush=True)
        return
    torch.manual_seed(a.seed)
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(cfg, dtype=torch.bfloat16)
    model = model.to_empty(device=DEVICE)
    model.tie_weights()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                if name == "model.norm.weight":
                    p.copy_(2.0 + 0.2 * torch.randn_like(p, dtype=torch.float32))
                else:
                    p.copy_(1.0 + 0.1 * torch.randn_like(p, dtype=torch.float32))
            elif name.endswith(".bias"):
                p.copy_(0.1 * torch.randn_like(p, dtype=torch.float32))
            else:
                fan_in = p.shape[1]
                p.copy_(torch.randn_like(p, dtype=torch.float32) / math.sqrt(fan_in))
    model.save_pretrained(a.out, safe_serialization=True)
    print(json.dumps({"what": "make", "arch": a.arch, "init": "maskjit", "out": a.out,
                      "seconds": round(time.time() - t0, 2), "params": sum(p.numel() for p in model.parameters()),
                      "stats": weight_stats(model)}), flush=True)


def cmd_prompts(a):
    os.makedirs(a.out, exist_ok=True)
    g = np.random.default_rng(a.seed)
    n = 2048
    ids = g.integers(0, a.vocab, size=n, dtype=np.int32)
    with open(os.path.join(a.out, "parity.bin"), "wb") as f:
        f.write(struct.pack("<i", n))
        f.write(ids.astype("<i4").tobytes())
    rows, seg_len = 64, 250
    e = g.integers(0, a.vocab, size=(rows, SEGS * seg_len), dtype=np.int32)
    with open(os.path.join(a.out, "e2e.bin"), "wb") as f:
        f.write(struct.pack("<iii", rows, SEGS * seg_len, seg_len))
        f.write(e.astype("<i4").tobytes())
    print(json.dumps({"what": "prompts", "out": a.out}), flush=True)


def read_parity(data):
    raw = np.fromfile(os.path.join(data, "parity.bin"), dtype="<i4")
    return raw[1:1 + raw[0]]


def read_e2e(data):
    raw = np.fromfile(os.path.join(data, "e2e.bin"), dtype="<i4")
    rows, n, seg_len = raw[:3]
    return raw[3:3 + rows * n].reshape(rows, n), int(seg_len)


def head32(model, h):
    return h.float() @ model.lm_head.weight.float().t()


@torch.no_grad()
def prompt_top1(model, ids, mask):
    """argmax after every token (f32 head on the bf16 final state, and HF's bf16
    logits), and the f32 logits at the first and last positions."""
    h = model.model(input_ids=ids, attention_mask=mask).last_hidden_state[0]
    t32, t16, mg = [], [], []
    for i in range(0, h.shape[0], 512):
        top = head32(model, h[i:i + 512]).topk(2, dim=-1)
        t32.append(top.indices[:, 0])
        mg.append(top.values[:, 0] - top.values[:, 1])
        t16.append(model.lm_head(h[i:i + 512]).argmax(-1))
    ends = head32(model, h[[0, -1]]).cpu().numpy()
    prompt_top1.margins = torch.cat(mg).cpu().numpy()
    return torch.cat(t32).cpu().numpy(), torch.cat(t16).cpu().numpy(), ends[0], ends[1]


def rel_err(a, ref):
    return float(np.abs(a - ref).max() / max(np.abs(ref).max(), 1e-30))


def read_top1(d, tag, n):
    path = os.path.join(d, f"top1_{tag}.bin")
    if not os.path.exists(path):
        return None, None
    raw = np.fromfile(path, dtype="<i4")
    return raw[:n], raw[n:2 * n].view("<f4")


def read_vec(d, name):
    path = os.path.join(d, name)
    return np.fromfile(path, dtype="<f4") if os.path.exists(path) else None


def agreement(res, key, mine, ref, n):
    seg = np.arange(n) * SEGS // n
    res[key] = float((mine == ref).mean())
    res[key + "_per_segment"] = [round(float((mine[seg == k] == ref[seg == k]).mean()), 4) for k in range(SEGS)]
    res[key + "_first16"] = [int(x) for x in (mine[:16] == ref[:16])]


FORCED = 256   # gpu_forward's FORCED_STEPS


def read_forced(d):
    """maskjit's teacher-forced decode steps (gpu_forward parity_forced): top1, margin."""
    path = os.path.join(d, "forced_top1.bin")
    if not os.path.exists(path):
        return None
    raw = np.fromfile(path, dtype="<i4")
    return raw[:FORCED], raw[FORCED:2 * FORCED].view("<f4")


@torch.no_grad()
def forced_top1(model, ids_np, seg):
    """The argmax and top-2 margin (f32 head) at the FORCED positions after the
    prompt when ids_np[:FORCED] are appended: the appended tokens attend to
    everything before them (the fusion mask's generated rows)."""
    n = len(ids_np)
    full = np.concatenate([ids_np, ids_np[np.arange(FORCED) % n]])
    ids = torch.as_tensor(full, dtype=torch.long, device=DEVICE)[None]
    mask = fusion_mask(n + FORCED, seg, n, model.dtype, DEVICE)
    h = model.model(input_ids=ids, attention_mask=mask).last_hidden_state[0, n:]
    top = head32(model, h).topk(2, dim=-1)
    return top.indices[:, 0].cpu().numpy(), (top.values[:, 0] - top.values[:, 1]).cpu().numpy()


def forced_compare(res, key, dirs, ref, ref_margin):
    """Teacher-forced decode agreement of each maskjit output dir with ref."""
    out = res.setdefault("forced", {})
    for d in dirs:
        got = read_forced(d)
        if got is None:
            continue
        sel = ref_margin > 0.1
        e = out.setdefault(os.path.basename(os.path.normpath(d)), {})
        e[key] = float((got[0] == ref).mean())
        e[key + "_where_margin_gt_0.1"] = [float((got[0][sel] == ref[sel]).mean()), int(sel.sum())]


@torch.no_grad()
def greedy_cached(model, ids, seg, n_new, batch_mask=None):
    """Greedy decoding with a KV cache and explicit 4-D masks (prompt: fusion)."""
    from transformers import DynamicCache
    B, n = ids.shape
    dt = model.dtype
    cache = DynamicCache()
    mask = fusion_mask(n, seg, n, dt, ids.device, B)
    h = model.model(input_ids=ids, attention_mask=mask, past_key_values=cache, use_cache=True).last_hidden_state
    out, mg = [], []
    for k in range(n_new):
        top = head32(model, h[:, -1]).topk(2, dim=-1)
        nxt = top.indices[:, 0]
        mg.append(top.values[:, 0] - top.values[:, 1])
        out.append(nxt)
        if k + 1 == n_new:
            break
        m = torch.zeros(B, 1, 1, n + k + 1, dtype=dt, device=ids.device)
        h = model.model(input_ids=nxt[:, None], attention_mask=m, past_key_values=cache, use_cache=True,
                        position_ids=torch.full((B, 1), n + k, device=ids.device)).last_hidden_state
    greedy_cached.margins = torch.stack(mg, 1).cpu().numpy()
    return torch.stack(out, 1).cpu().numpy()


@torch.no_grad()
def greedy_recompute(model, ids, seg, n_new):
    """The seed's method: no cache, the whole sequence with its 4-D mask per new token."""
    n = ids.shape[1]
    cur = ids
    out = []
    for k in range(n_new):
        m = fusion_mask(n + k, seg, n, model.dtype, ids.device)
        h = model.model(input_ids=cur, attention_mask=m).last_hidden_state[:, -1]
        nxt = head32(model, h).argmax(-1)
        out.append(nxt)
        cur = torch.cat([cur, nxt[:, None]], 1)
    return torch.stack(out, 1).cpu().numpy()


def common_prefix(x, y):
    x, y = list(x), list(y)
    return next((i for i, (u, v) in enumerate(zip(x, y)) if u != v), min(len(x), len(y)))


@torch.no_grad()
def floor_variants(model, ids, mask, seg):
    """Top-1 over the prompt (f32 head on the bf16 state, as for HF's default)
    and 16 greedy tokens with each SDPA backend forced, and with eager
    attention.  Returns {name: (top1, greedy)} or {name: error text} where a
    backend refuses the 4-D mask."""
    from torch.nn.attention import SDPBackend, sdpa_kernel
    out = {}
    for name, be in (("sdpa_math", SDPBackend.MATH), ("sdpa_efficient", SDPBackend.EFFICIENT_ATTENTION),
                     ("sdpa_cudnn", SDPBackend.CUDNN_ATTENTION), ("sdpa_flash", SDPBackend.FLASH_ATTENTION)):
        try:
            with sdpa_kernel([be]):
                t = prompt_top1(model, ids, mask)[0]
                g = greedy_cached(model, ids, seg, 16)[0]
            out[name] = (t, g)
        except Exception as exc:   # a backend that does not take this mask / dtype
            out[name] = f"{type(exc).__name__}: {str(exc)[:160]}"
    try:
        model.set_attn_implementation("eager")
        out["eager"] = (prompt_top1(model, ids, mask)[0], greedy_cached(model, ids, seg, 16)[0])
    except Exception as exc:
        out["eager"] = f"{type(exc).__name__}: {str(exc)[:160]}"
    finally:
        try:
            model.set_attn_implementation("sdpa")
        except Exception:
            model.config._attn_implementation = "sdpa"
    return out


def sync():
    if DEVICE == "cuda":
        torch.cuda.synchronize()


def sync_time(fn):
    sync()
    t0 = time.time()
    r = fn()
    sync()
    return r, time.time() - t0


def cmd_hf(a):
    from transformers import AutoModelForCausalLM
    res = {"card": torch.cuda.get_device_name(0) if DEVICE == "cuda" else DEVICE, "model": a.model}
    t0 = time.time()
    model = AutoModelForCausalLM.from_pretrained(a.model, dtype=torch.bfloat16, attn_implementation="sdpa").to(DEVICE).eval()
    res["hf_load_s"] = round(time.time() - t0, 2)
    ids_np = read_parity(a.data)
    n = len(ids_np)
    seg = [i * SEGS // n for i in range(n)]
    ids = torch.as_tensor(ids_np, dtype=torch.long, device=DEVICE)[None]
    mask = fusion_mask(n, seg, n, torch.bfloat16, DEVICE)
    (t32, t16, p0_hf, last_hf), dt = sync_time(lambda: prompt_top1(model, ids, mask))
    hf_margin = prompt_top1.margins
    c32, _, _, last_hf_causal = prompt_top1(model, ids, None)
    res["prefill_hf_s"] = round(dt, 4)
    res["hf_f32head_vs_hf_bf16logits"] = float((t32 == t16).mean())
    mj_top1, mj_margin = read_top1(a.maskjit, "fusion", n)
    for tag, ref, last_ref in (("fusion", t32, last_hf), ("fusion_naive", t32, last_hf),
                               ("causal", c32, last_hf_causal)):
        mine, margin = read_top1(a.maskjit, tag, n)
        if mine is None:
            continue
        agreement(res, f"top1_agree_{tag}", mine, ref, n)
        if tag == "fusion":
            res["top1_agree_fusion_vs_hf_bf16logits"] = float((mine == t16).mean())
            for th in (0.02, 0.05, 0.1):
                sel = hf_margin > th
                res[f"top1_agree_fusion_where_hf_margin_gt_{th}"] = [float((mine[sel] == ref[sel]).mean()),
                                                                     int(sel.sum())]
            res["maskjit_margin_median"] = float(np.median(margin))
            dis = np.nonzero(mine != ref)[0]
            res["disagreements_margins"] = [round(float(margin[i]), 4) for i in dis[:12]]
        last = read_vec(a.maskjit, f"last_{tag}.bin")
        if last is not None:
            res[f"last_logits_rel_err_{tag}"] = rel_err(last, last_ref)
    for name, ref in (("p0.bin", p0_hf), ("last_viadecode.bin", last_hf_causal)):
        v = read_vec(a.maskjit, name)
        if v is not None:
            res["rel_err_" + name.split(".")[0]] = rel_err(v, ref)
    v, w = read_vec(a.maskjit, "last_viadecode.bin"), read_vec(a.maskjit, "last_causal.bin")
    if v is not None and w is not None:
        res["maskjit_causal_prefill_vs_decode_last_rel_err"] = rel_err(v, w)
    res["hf_last_logit_std"] = float(last_hf.std())
    res["hf_margin_median"] = float(np.median(hf_margin))
    res["hf_margin_frac_lt_0.05"] = float((hf_margin < 0.05).mean())
    res["hf_top1_fusion_vs_causal"] = float((t32 == c32).mean())   # how much the mask moves the argmax
    res["hf_top1_equals_input_token"] = float((t32 == ids_np).mean())
    mj_top1 = mj_top1 if mj_top1 is not None else np.zeros(n, dtype=np.int32)
    greedy = greedy_cached(model, ids, seg, 16)[0]
    with open(os.path.join(a.maskjit, "greedy.txt")) as f:
        mj_greedy = [int(x) for x in f.read().split()]
    res["greedy_hf"] = greedy.tolist()
    res["greedy_hf_margins"] = [round(float(x), 4) for x in greedy_cached.margins[0]]
    res["greedy_maskjit"] = mj_greedy
    res["greedy_equal"] = greedy.tolist() == mj_greedy
    res["greedy_common_prefix"] = next((i for i, (x, y) in enumerate(zip(greedy.tolist(), mj_greedy)) if x != y), 16)
    fdirs = [a.maskjit] + (a.forced or [])
    f16 = None
    if any(read_forced(d) is not None for d in fdirs):
        f16 = forced_top1(model, ids_np, seg)
        forced_compare(res, "vs_hf_bf16", fdirs, *f16)
    print(json.dumps(res), flush=True)
    if a.decode:
        def gen(k):
            return model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=k, min_new_tokens=k,
                                  do_sample=False, pad_token_id=0)
        gen(4)
        _, t1 = sync_time(lambda: gen(1))
        _, t65 = sync_time(lambda: gen(65))
        res["hf_generate_tokens_per_s"] = round(64 / (t65 - t1), 2)
        res["hf_generate_65_s"] = round(t65, 3)
        print(json.dumps({"what": "hf_decode", "tokens_per_s": res["hf_generate_tokens_per_s"]}), flush=True)
    if a.e2e:
        e2e, seg_len = read_e2e(a.data)
        rows, m = e2e.shape
        eseg = [i // seg_len for i in range(m)]
        E = torch.as_tensor(e2e, dtype=torch.long, device=DEVICE)
        greedy_cached(model, E[:2], eseg, 2)   # warm-up
        def all_cached():
            return np.concatenate([greedy_cached(model, E[i:i + 16], eseg, 10) for i in range(0, rows, 16)])
        toks, dt = sync_time(all_cached)
        res["e2e_hf_cache_s"] = round(dt, 3)
        res["e2e_hf_cache_s_per_q"] = round(dt / rows, 5)
        nq = 4
        _, dts = sync_time(lambda: [greedy_recompute(model, E[i:i + 1], eseg, 10) for i in range(nq)])
        res["e2e_seed_s_per_q"] = round(dts / nq, 4)
        res["e2e_seed_questions_timed"] = nq
        with open(os.path.join(a.maskjit, "e2e_tokens.txt")) as f:
            mj = np.array([[int(x) for x in line.split()] for line in f if line.strip()])
        if mj.shape == toks.shape:
            res["e2e_token_agree"] = float((mj == toks).mean())
            res["e2e_first_token_agree"] = float((mj[:, 0] == toks[:, 0]).mean())
        print(json.dumps({"what": "hf_e2e", "cache_s": res["e2e_hf_cache_s"], "seed_s_per_q": res["e2e_seed_s_per_q"]}),
              flush=True)
    floors = floor_variants(model, ids, mask, seg) if a.floors else {}
    # f32 reference: how far bf16 itself is from it (HF's and maskjit's)
    ref = None
    try:
        del mask
        if DEVICE == "cuda":
            torch.cuda.empty_cache()
        model32 = model.float()
        mask32 = fusion_mask(n, seg, n, torch.float32, DEVICE)
        with torch.no_grad():
            h = model32.model(input_ids=ids, attention_mask=mask32).last_hidden_state[0]
            ref = torch.cat([(h[i:i + 512] @ model32.lm_head.weight.t()).argmax(-1) for i in range(0, n, 512)])
        ref = ref.cpu().numpy()
        res["f32ref_vs_hf_bf16"] = float((t32 == ref).mean())
        res["f32ref_vs_maskjit"] = float((mj_top1 == ref).mean())
        g32 = greedy_cached(model32, ids, seg, 16)[0]
        res["greedy_hf_f32"] = g32.tolist()
        res["greedy_common_prefix_hf_f32_vs_hf_bf16"] = common_prefix(g32, greedy)
        res["greedy_common_prefix_hf_f32_vs_maskjit"] = common_prefix(g32, mj_greedy)
        if f16 is not None:
            f32 = forced_top1(model32, ids_np, seg)
            forced_compare(res, "vs_hf_f32", fdirs, *f32)
            res.setdefault("forced", {})["hf_bf16"] = {
                "vs_hf_f32": float((f16[0] == f32[0]).mean()),
                "vs_hf_f32_where_margin_gt_0.1": [float((f16[0][f32[1] > 0.1] == f32[0][f32[1] > 0.1]).mean()),
                                                  int((f32[1] > 0.1).sum())]}
        del model32
    except Exception as exc:   # memory: report and go on
        res["f32ref_error"] = str(exc)[:200]
    if floors:
        fl = res["floors"] = {}
        for name, v in floors.items():
            if isinstance(v, str):
                fl[name] = {"error": v}
                continue
            t, g = v
            fl[name] = {"top1_vs_hf_default": float((t == t32).mean()), "top1_vs_maskjit": float((t == mj_top1).mean()),
                        "greedy_prefix_vs_hf_default": common_prefix(g, greedy),
                        "greedy_prefix_vs_maskjit": common_prefix(g, mj_greedy), "greedy": g.tolist()}
            if ref is not None:
                fl[name]["top1_vs_f32"] = float((t == ref).mean())
        ok = [k for k, v in floors.items() if not isinstance(v, str)]
        fl["pairwise_top1"] = {f"{x}|{y}": float((floors[x][0] == floors[y][0]).mean())
                               for i, x in enumerate(ok) for y in ok[i + 1:]}
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1)
    print(json.dumps(res), flush=True)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("make")
    m.add_argument("--arch", choices=["llama3b", "qwen25"], required=True)
    m.add_argument("--out", required=True)
    m.add_argument("--seed", type=int, default=0)
    m.add_argument("--init", choices=["maskjit", "hf"], default="maskjit")
    p = sub.add_parser("prompts")
    p.add_argument("--out", required=True)
    p.add_argument("--vocab", type=int, required=True)
    p.add_argument("--seed", type=int, default=1)
    h = sub.add_parser("hf")
    h.add_argument("--model", required=True)
    h.add_argument("--data", required=True)
    h.add_argument("--maskjit", required=True)
    h.add_argument("--decode", action="store_true")
    h.add_argument("--e2e", action="store_true")
    h.add_argument("--floors", action="store_true")
    h.add_argument("--forced", nargs="*", help="more maskjit output dirs whose forced_top1.bin to compare")
    h.add_argument("--json")
    a = ap.parse_args()
    {"make": cmd_make, "prompts": cmd_prompts, "hf": cmd_hf}[a.cmd](a)


if __name__ == "__main__":
    main()
