/* cuda_engine.h — the CUDA device of the engine (engine.h), opened by
 * engine.c for MJ_DEVICE_CUDA and MJ_DEVICE_AUTO (which falls back to the CPU
 * when this fails: no driver, no GPU, no cuBLASLt, unsupported shape).
 * Implemented by runtime/cuda_engine.c, cuda_forward.c, cuda_fwd_attn.c. */
#ifndef MJ_CUDA_ENGINE_H
#define MJ_CUDA_ENGINE_H

#include <stddef.h>

#include "engine_impl.h"

/* Open the CUDA engine on e (e->model set): uploads the model in bf16, sets
 * e->ops and e->impl.  0, or -1 with the reason in err. */
int mj_cuda_engine_open(mj_engine *e, char *err, size_t errn);

/* Statistics of the last seqs for benchmarks (0 when not CUDA): graph
 * captures and replays of decode steps, and the engine's load time. */
typedef struct mj_cuda_stats {
    long long graph_captures, graph_replays;
    double load_ms, kernels_ms;
    int kernels_cache_hit;
    int attn_naive;
    int pdl;
    /* host time per phase over every chunk run so far (ms): inputs + attention
     * plan, launches, waiting for the GPU, copying logits out */
    long long chunks;
    double host_prep_ms, host_launch_ms, wait_ms, host_copy_ms;
} mj_cuda_stats;
void mj_cuda_seqs_stats(const mj_seqs *s, mj_cuda_stats *out);

/* Parity hook for tests and benchmarks: the next step of s (prefill or
 * append) also records, for the first row with new tokens, the argmax
 * (top1[i]) and the top-1 minus top-2 logit (margin[i]) after each of its
 * new tokens i (arrays of at least that many).  -1 when s is not on the
 * CUDA engine. */
int mj_cuda_seqs_trace(mj_seqs *s, int32_t *top1, float *margin);

/* Benchmark hook (GPU time alone, CUDA events): the decode step graph of s
 * (captured by its appends) replayed reps times back to back (*graph_ms per
 * replay, 0 when s has no graph), and the skinny products of one row over
 * every layer's weights and the lm_head (*gemv_ms per pass, *gemv_gbs of
 * weights read).  -1 when s is not on the CUDA engine. */
int mj_cuda_seqs_bench(mj_seqs *s, int reps, double *graph_ms, double *gemv_ms, double *gemv_gbs);

/* Benchmark hook: each kind of skinny product of one row (q|k|v with the
 * RMSNorm, o, gate|up with the RMSNorm and SwiGLU, down; every layer's, in
 * that order; then the lm_head) timed alone, reps passes: ms per pass and
 * GB/s of weights read.  -1 when s is not on the CUDA engine. */
#define MJ_CUDA_PRODUCTS 5
int mj_cuda_seqs_bench_products(mj_seqs *s, int reps, double ms[MJ_CUDA_PRODUCTS], double gbs[MJ_CUDA_PRODUCTS]);

#endif
