/* cpu_internal.h — internals of the CPU engine (cpu_*.c): the thread pool,
 * the per-engine and per-batch state, the KV cache layout and the attention
 * plan.  Not a public interface.
 *
 * KV cache of one row, for layer l and KV head g (D = head_dim, B =
 * MJ_ATTN_BLOCK, cap_pad = cap rounded up to B):
 *   K: transposed blocks  k[((l*KVH + g)*nkb + kb)*D*B + d*B + j] = K[kb*B+j][d]
 *      so that one query's logits against a key block are B-wide vector
 *      updates (no horizontal reductions);
 *   V: rows               v[((l*KVH + g)*cap_pad + t)*D + d].
 * Both are zero-initialised, so lanes past the row's length are finite. */
#ifndef MJ_CPU_INTERNAL_H
#define MJ_CPU_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine_impl.h"

/* ---- thread pool (cpu_pool.c) ---------------------------------------------- */
typedef struct cpu_pool cpu_pool;
typedef void (*cpu_task_fn)(void *ctx, int64_t item, int tid);
/* n threads in all, the caller included (n - 1 workers).  NULL on failure. */
cpu_pool *cpu_pool_init(int n);
void cpu_pool_free(cpu_pool *p);
int cpu_pool_size(const cpu_pool *p);
/* Run fn(ctx, i, tid) for every i in [0, n_items) on the pool's threads
 * (tid in [0, size)); returns when all are done.  Not reentrant. */
void cpu_pool_run(cpu_pool *p, int64_t n_items, cpu_task_fn fn, void *ctx);

/* ---- engine and rows -------------------------------------------------------- */
typedef struct cpu_engine {
    const mj_model *m;
    cpu_pool *pool;
    int threads;
    float *inv_freq;        /* [head_dim / 2], HF's (incl. llama3 scaling) */
} cpu_engine;

typedef struct cpu_kv {
    float *k, *v;
    int32_t cap_pad;        /* multiple of MJ_ATTN_BLOCK */
    int32_t nkb;            /* cap_pad / MJ_ATTN_BLOCK */
} cpu_kv;

/* One block of keys a query tile visits. */
typedef struct cpu_entry {
    int32_t kb;             /* key block */
    int32_t nk;             /* keys of the block below seq_len */
    int64_t bits;           /* index of the tile's per-query bit masks, -1: FULL */
} cpu_entry;

/* A tile of queries of one row (and one head, or all heads). */
typedef struct cpu_tile {
    int32_t crow;           /* row within the chunk */
    int32_t q0, q1;         /* absolute query indices [q0, q1), q1 - q0 <= B */
    int32_t h;              /* head, or -1 when the plan is shared by all heads */
    int64_t first, n;       /* entries [first, first + n) */
} cpu_tile;

typedef struct cpu_plan {
    cpu_tile *tiles;   int64_t n_tiles, cap_tiles;
    cpu_entry *ents;   int64_t n_ents, cap_ents;
    uint32_t *bits;    int64_t n_bits, cap_bits;   /* one word per query of a PARTIAL tile */
} cpu_plan;

/* The rows of one forward chunk: chunk row c is batch row rows[c]; its new
 * tokens [q0[c], q1[c]) are packed at off[c] .. off[c] + q1[c] - q0[c]. */
typedef struct cpu_batch {
    int n;
    int *rows;
    int32_t *q0, *q1;
    int64_t *off;
    int64_t T;
} cpu_batch;

typedef struct cpu_seqs {
    cpu_kv *kv;             /* [n_rows] */
    int64_t t_max;          /* tokens per forward chunk */
    int32_t cap_max;        /* largest cap_pad */
    /* activations [t_max x ...] */
    float *x, *xn, *q, *k, *v, *att, *gate, *up;
    float *cos, *sin;       /* [t_max x head_dim/2] */
    float *scratch;         /* [threads x B x cap_max] attention logits */
    cpu_plan plan;
    cpu_batch batch;
} cpu_seqs;

/* ---- forward (cpu_forward.c) ----------------------------------------------- */
/* HF inv_freq for cfg (default or llama3 rope scaling); [head_dim/2] malloc'd. */
float *cpu_rope_inv_freq(const mj_model_config *cfg);
/* Run one chunk: all layers for the packed new tokens of b, K/V stored in the
 * rows' caches, logits of each chunk row's last token to logits + row*vocab. */
int cpu_forward_chunk(mj_seqs *s, const cpu_batch *b, float *logits);
/* Y[M x N] (ldy) = X[M x K] * W[N x K]^T + beta * Y, over the pool. */
void cpu_gemm_xwt(cpu_engine *ce, int64_t M, int64_t N, int64_t K, const float *X,
                  const float *W, float *Y, int64_t ldy, float beta);

/* ---- small products (cpu_gemm.c) -------------------------------------------- */
/* Columns [n0, n1) of Y[M x N] (ldy) = X[M x K] W[N x K]^T + beta * Y, for a
 * few rows of X (decode steps); W is read once, unpacked. */
void cpu_gemm_small(int64_t M, int64_t n0, int64_t n1, int64_t K, const float *X,
                    const float *W, float *Y, int64_t ldy, float beta);

/* ---- attention (cpu_attn.c) ------------------------------------------------- */
/* Build the block plan of chunk b (depends on the mask, not on the layer). */
int cpu_attn_plan(mj_seqs *s, const cpu_batch *b);
/* Attention of layer l for the chunk: q [T x H*D] (RoPE applied), caches
 * holding the chunk's K/V, output att [T x H*D]. */
void cpu_attn_layer(mj_seqs *s, const cpu_batch *b, int32_t l);
void cpu_plan_free(cpu_plan *p);

#endif
