/* cuda_fwd.h — internals of the CUDA engine (runtime/cuda_engine.c,
 * cuda_forward.c, cuda_fwd_attn.c): the device copy of the model, the
 * per-batch state and the attention adapter.  Not a public interface.
 *
 * Device layout (all bf16 unless noted; D = head_dim, G = KV heads):
 *   weights   per layer: attn_norm [hid]; wqkv [(H+2G)D x hid] (q, k, v rows
 *             stacked) + bqkv (Qwen2); q_norm/k_norm [D] (Qwen3); wo
 *             [hid x HD]; ffn_norm [hid]; wgu [2I x hid] (gate rows then up
 *             rows); wd [hid x I].  embed [V x hid], lm_head (== embed when
 *             tied), final_norm [hid], inv_freq f32 [D/2].
 *   KV cache  kc, vc: [L][cap_total][G][D]; row r owns tokens
 *             [k_start[r], k_start[r] + cap[r]) of every layer.
 *   step      one chunk of packed new tokens (T <= t_max): x, xn [T x hid],
 *             qkv [T x (H+2G)D] (q roped in place), att [T x (H+2G)D] (the
 *             attention output uses the first HD of each token: the block-
 *             sparse kernels give q and o one token stride), tmp [T x hid],
 *             gu [T x 2I], act [T x I]; logits f32 [n_rows x V]. */
#ifndef MJ_CUDA_FWD_H
#define MJ_CUDA_FWD_H

#include <stdbool.h>
#include <stdint.h>

#include "cuda_attn.h"
#include "cuda_blas.h"
#include "cuda_driver.h"
#include "cuda_kernels.h"
#include "engine_impl.h"

/* Largest batch row count the skinny (memory-bound) matrix kernels take,
 * and the most token rows a chunk runs them for by default (above it,
 * cuBLASLt): on an H100 (Llama-3B shape, decode after 2 048 tokens) the
 * skinny products made a step of 2 rows 3.46 ms against cuBLASLt's 3.58,
 * but 4 rows 5.20 against 3.77 and 8 rows 10.39 against 4.37 (their x rows
 * are read and normalised per row and chunk; bench/RESULTS.md, session 11).
 * MJ_CUDA_SKINNY_MAX=1..CUDA_SKINNY_MAX overrides. */
#define CUDA_SKINNY_MAX 8
#define CUDA_SKINNY_DEFAULT 2
/* Blocks per row of mj_fwd_argmax (its gridDim.x): CUDA_ARGMAX_BLOCKS by
 * default, MJ_CUDA_ARGMAX_BLOCKS=1..CUDA_ARGMAX_BLOCKS_MAX (development). */
#define CUDA_ARGMAX_BLOCKS 32
#define CUDA_ARGMAX_BLOCKS_MAX 256

/* d_greedy of n rows: picks (int32 [n]) at 0, counters (uint32 [n]) at
 * cuda_greedy_cnt_offset(n), partials (float2 [n][CUDA_ARGMAX_BLOCKS_MAX]) at
 * cuda_greedy_part_offset(n) (8-aligned: 8 n bytes in), then the pick
 * sequence numbers (uint32 [n], mj_fwd_argmax's seq) at
 * cuda_greedy_seq_offset(n). */
static inline size_t cuda_greedy_cnt_offset(int64_t n) { return (size_t)n * 4; }
static inline size_t cuda_greedy_part_offset(int64_t n) { return (size_t)n * 8; }
static inline size_t cuda_greedy_seq_offset(int64_t n) {
    return cuda_greedy_part_offset(n) + (size_t)n * CUDA_ARGMAX_BLOCKS_MAX * 8;
}
static inline size_t cuda_greedy_bytes(int64_t n) { return cuda_greedy_seq_offset(n) + (size_t)n * 4; }

/* A chunk's step inputs for T tokens and n rows, packed (upload_inputs):
 * ids, pos, tok_row, tok_q (int32 [T] each), last (int32 [n]), then at
 * cuda_inputs_slot_offset (8-aligned) slot (int64 [T]); cuda_inputs_bytes
 * in all.  cuda_seqs.in_buf holds them for T = t_max and n = n_rows, then
 * kstart (int64 [n_rows]). */
static inline size_t cuda_inputs_slot_offset(int64_t T, int64_t n) {
    return ((size_t)(4 * T + n) * 4 + 7) & ~(size_t)7;
}
static inline size_t cuda_inputs_bytes(int64_t T, int64_t n) { return cuda_inputs_slot_offset(T, n) + (size_t)T * 8; }

typedef struct cuda_layer {
    mj_cu_ptr attn_norm, wqkv, bqkv, q_norm, k_norm, wo, ffn_norm, wgu, wd;
} cuda_layer;

typedef struct cuda_engine {
    mj_cu *cu;
    mj_cu_stream st;
    mj_blas *blas;
    mj_fwd_kernels k;
    cuda_layer *lw;
    mj_cu_ptr embed, lm_head, final_norm, inv_freq;
    int32_t H, G, D, hid, I, V, L, qkv_n;   /* qkv_n = (H + 2G) * D */
    bool skinny;            /* MJ_CUDA_SKINNY != 0: own kernels for <= skinny_max rows */
    bool graphs;            /* MJ_CUDA_GRAPHS != 0: CUDA graphs for decode steps */
    bool fuse_norm;         /* MJ_CUDA_FUSE_NORM != 0: RMSNorm inside the skinny products */
    bool norm_smem;         /* MJ_CUDA_NORM_SMEM != 0: fused RMSNorm rows normalised once per block */
    bool fuse_rope;         /* MJ_CUDA_FUSE_ROPE != 0: RoPE + KV append inside the skinny q|k|v product
                               (layers without q/k norm, with fused norms) */
    bool pdl;               /* MJ_CUDA_PDL != 0 (sm_90): programmatic dependent launches */
    bool attn_pdl;          /* MJ_CUDA_ATTN_PDL != 0: the decode attention kernels too (with pdl) */
    int attn_mode;          /* CUDA_ATTN_* (MJ_CUDA_ATTN) */
    int ksplit;             /* MJ_CUDA_KSPLIT: two warps per column for skinny products with few
                               columns (1, default), never (0), always (2: tests) */
    bool rope_ksplit;       /* MJ_CUDA_ROPE_KSPLIT=1: the fused q|k|v + RoPE product takes the K split
                               of the unfused one (mj_fwd_gemv_rope*_k2); always with ksplit 2 */
    int gemv_pf;            /* MJ_CUDA_GEMV_PF: skinny products whose later weight chunks are
                               prefetched into L2 after the PDL wait (bits: 1 o, 2 down, 4 lm_head,
                               8 the rest; default 1) */
    int gemv_pf_next;       /* MJ_CUDA_GEMV_PF_NEXT: skinny products with an RMSNorm whose second
                               weight chunk is prefetched into L2 before the norm prologue (bits:
                               1 q|k|v, 2 gate|up, 4 lm_head; default 7) */
    int gemv_xs;            /* MJ_CUDA_GEMV_XS: skinny products without an RMSNorm whose x rows each
                               block first copies into shared memory (bits: 1 o; default 1) */
    bool debug_sync;        /* MJ_CUDA_DEBUG_SYNC=1: synchronise and check after every stage */
    bool dev_skip_attn;     /* MJ_CUDA_DEV_SKIP_ATTN=1 (benchmarks only: wrong outputs): no attention
                               kernels in the skinny layers, to time what they cost inside a step */
    int skinny_max;         /* chunks of at most this many token rows run the skinny products
                               (MJ_CUDA_SKINNY_MAX, default CUDA_SKINNY_DEFAULT) */
    int argmax_blocks;      /* mj_fwd_argmax's blocks per row (MJ_CUDA_ARGMAX_BLOCKS, default
                               CUDA_ARGMAX_BLOCKS) */
    bool fuse_embed;        /* MJ_CUDA_FUSE_EMBED (default 1): decode's embedding gathered by the first
                               layer's fused q|k|v product instead of its own kernel */
    int dev_skip_copies;    /* MJ_CUDA_DEV_SKIP_COPIES bits (benchmarks only: wrong outputs after the
                               first decode steps): 1 no download of the greedy picks, 2 no upload
                               of a decode step's inputs once graphs replay */
    mj_program *causal;     /* "mask = kv <= q", for prefix caches */
    double load_ms;
} cuda_engine;

enum { CUDA_ATTN_AUTO = 0, CUDA_ATTN_SPARSE = 1, CUDA_ATTN_NAIVE = 2 };

/* The attention of one batch: the block-sparse kernels of cuda_attn.h, or
 * the naive fallback (fwd_attn_naive.cu.in). */
typedef struct cuda_attn_ctx {
    bool naive;
    mj_attn *sparse;
    void *mod, *fn;                 /* naive kernel */
    mj_cu_ptr env_buf;              /* naive: device envs [n_rows] + their data */
    mj_env *h_envs;                 /* naive: host image of the device envs */
    mj_cu_ptr klen_buf;             /* naive: k_start [n_rows] int64, then k_len [n_rows] int32 */
    bool key_blocks;                /* MJ_CUDA_GRAPH_KEY=blocks: the decode graph keyed on the rows'
                                       64-key block counts (before mj_attn_launch_key; comparisons) */
} cuda_attn_ctx;

/* The rows of one forward chunk (as the CPU engine's cpu_batch). */
typedef struct cuda_chunk {
    int n;
    int *rows;
    int32_t *q0, *q1;
    int64_t T;
} cuda_chunk;

typedef struct cuda_seqs {
    int64_t t_max;
    int64_t cap_total;
    int64_t *k_start;       /* [n_rows] host */
    mj_cu_ptr kc, vc;
    mj_cu_ptr x, xn, qkv, att, tmp, gu, act, xl, logits;
    /* step inputs, packed for each chunk's T tokens and n rows (upload_inputs):
     * ids [T] i32, pos [T] i32, tok_row [T] i32, tok_q [T] i32, last [n] i32,
     * slot [T] i64; in_buf holds them for T = t_max, then kstart [n_rows] i64 */
    mj_cu_ptr in_buf;
    mj_cu_ptr d_ids, d_pos, d_row, d_q, d_last, d_slot;   /* the current chunk's (upload_inputs) */
    mj_cu_ptr d_kstart;     /* int64 [n_rows] behind them (prefix loads) */
    void *h_in;             /* pinned: two images of in_buf (in_bytes each), taken in turn */
    size_t in_bytes;
    mj_cu_event in_ev[2];   /* recorded after the upload from image i */
    int in_i;               /* image of the next upload */
    int32_t *prev_idx;      /* [n_rows] the row's index in the last uploaded chunk, -1: not in it (an
                               MJ_TOKEN_AHEAD token is the pick at that index of d_greedy) */
    /* run-ahead (cuda_seqs_launch_greedy / cuda_seqs_finish_greedy): launched, unfinished
       steps in slots taken in turn, pend_first the oldest */
    int32_t *h_picks;       /* pinned [2][n_rows]: slot i's picks (downloaded; without h_map) */
    /* picks the argmax kernel writes into mapped host memory itself (no
     * download after the step; MJ_CUDA_MAPPED_PICKS=0: off): [2][n_rows],
     * chunk index i of a launch in half pick_seq[i] & 1 (the kernel counts
     * the same way, in d_greedy's seq) */
    int32_t *h_map;
    mj_cu_ptr d_map;
    uint32_t *pick_seq;     /* [n_rows] greedy launches that had a chunk index i */
    uint8_t *cur_half;      /* [n_rows] the half of each chunk index of the last enqueued greedy chunk */
    uint8_t *pend_half[2];  /* [n_rows] the same for the launched steps in flight */
    mj_cu_event pick_ev[2]; /* recorded after slot i's picks download */
    int *pend_rows[2];      /* [n_rows] rows of slot i's chunk */
    int pend_n[2];
    int n_pending, pend_first;
    float *h_logits;        /* pinned [n_rows x V] (also receives the greedy ids) */
    mj_cu_ptr d_greedy;     /* int32 [n_rows]: a greedy step's picks (mj_fwd_argmax), then its scratch:
                               uint32 counters [n_rows] (zero between launches), float2 partials
                               [n_rows][CUDA_ARGMAX_BLOCKS_MAX] (cuda_greedy_bytes) */
    bool want_greedy;       /* the step in progress ends with the argmax, not a logits download */
    bool embed_fused;       /* the chunk being launched gathers its embeddings in layer 0's q|k|v product */
    cuda_attn_ctx attn;
    cuda_chunk chunk;
    /* decode graph: valid for graph_key */
    void *graph;
    uint64_t graph_key;
    int64_t graph_steps;    /* replays of the current graph */
    int64_t graph_captures;
    /* parity hook (mj_cuda_seqs_trace): per-token argmax and margin of the
     * first row of the next step's first chunk */
    double t_prep, t_launch, t_wait, t_copy;   /* host ms per phase, summed over chunks */
    int64_t n_chunks;
    int32_t *trace_top1;
    float *trace_margin;
} cuda_seqs;

/* With ce->debug_sync: synchronise the stream and turn an asynchronous
 * fault into an error naming the stage that ran last (0 or -1). */
int cuda_debug_check(mj_seqs *s, const char *stage);

/* ---- cuda_forward.c ---------------------------------------------------------------- */
/* Runs every row's pending tokens (mj_engine_ops.seqs_step). */
int cuda_seqs_step(mj_seqs *s, float *logits);
/* As cuda_seqs_step, but each stepped row's greedy pick goes to ids[r]
 * (mj_engine_ops.seqs_step_greedy): an argmax kernel after the lm_head, inside
 * the decode graph, and a download of one int32 per row. */
int cuda_seqs_step_greedy(mj_seqs *s, int32_t *ids);
/* Run-ahead pair (mj_engine_ops.seqs_launch_greedy / seqs_finish_greedy):
 * the pending rows as one chunk launched without waiting (1: they need more
 * than one chunk, a trace is pending or two steps are in flight), and the
 * oldest launched step's picks. */
int cuda_seqs_launch_greedy(mj_seqs *s);
int cuda_seqs_finish_greedy(mj_seqs *s, int32_t *ids);

/* ---- cuda_fwd_attn.c ---------------------------------------------------------------- */
/* Prepare the attention of s (after the KV cache and rows exist). */
int cuda_attn_open(mj_seqs *s, char *err, size_t errn);
void cuda_attn_close(mj_seqs *s);
/* Before the layers of chunk c: row tables and environments. */
int cuda_attn_begin(mj_seqs *s, const cuda_chunk *c);
/* Attention of layer l for chunk c: q from qkv (roped), K/V from the
 * caches, output into att. */
int cuda_attn_layer(mj_seqs *s, const cuda_chunk *c, int32_t l);
/* 1 when chunk c's attention launches can be replayed from a graph while the
 * key (*key) stays the same. */
bool cuda_attn_graphable(mj_seqs *s, const cuda_chunk *c, uint64_t *key);

#endif
