/* cuda_attn.h — block-sparse attention on the GPU for one compiled mask program:
 * the NVRTC-compiled templates kernels/templates/attn_prefill.cu.in and
 * attn_decode.cu.in (mask, score, classifier spliced in), loaded with the
 * driver API (cuda_driver.h) and launched on the default stream.
 *
 * A call is split in two so that the mask work can be timed (and reused)
 * apart from the attention itself:
 *   mj_attn_plan  uploads the rows' environments (annotations, params, heads),
 *                 builds per-block annotation summaries on the GPU and, for
 *                 prefill, the per-query-tile lists of non-EMPTY key blocks
 *                 (mj_classify per tile x key block x head group);
 *   mj_attn_run   launches the attention kernels of the last plan.
 * Errors: every call returns 0, or -1 with a message in mj_attn_error().
 * The prefill query tile is 64 rows (one warpgroup, two CTAs per SM);
 * MJ_ATTN_QTILE=128 in the environment selects 128-row tiles. */
#ifndef MJ_CUDA_ATTN_H
#define MJ_CUDA_ATTN_H

#include <stdbool.h>
#include <stdint.h>

#include "cuda_backend.h"
#include "cuda_driver.h"
#include "diag.h"
#include "mj_ir.h"

typedef struct mj_attn mj_attn;

/* A batch of rows (host-side description; tensors are device bf16).
 * q and o: the new query tokens of every row, packed row after row,
 * [sum q_len][n_heads][head_dim] with token stride q_tok_stride.  Row r's
 * queries are its last q_len[r] tokens.  k and v: row r's key token t is at
 * (k_start[r] + t) * kv_tok_stride + kv_head * head_dim.  The kernels move
 * 16-byte pieces: q, k, v and o must be 16-byte aligned and the token strides
 * multiples of 8 elements, at least heads x head_dim (mj_attn_plan and
 * mj_attn_set_tensors refuse others with an error). */
typedef struct mj_attn_batch {
    int32_t n_rows, n_heads, n_kv_heads;
    const int32_t *q_len;      /* [n_rows] */
    const int32_t *k_len;      /* [n_rows]: keys (= the row's seq_len) */
    const int64_t *k_start;    /* [n_rows], or NULL: rows packed one after another */
    mj_cu_ptr q, k, v, o;
    int64_t q_tok_stride;      /* 0: n_heads * head_dim */
    int64_t kv_tok_stride;     /* 0: n_kv_heads * head_dim */
    const mj_env *envs;        /* [n_rows], host pointers inside */
    const int32_t *k_cap;      /* [n_rows] or NULL: keys each row may grow to; a decode plan picks its
                                  split count for them, so that the launch (mj_attn_launch_key) stays
                                  the same while the rows grow */
} mj_attn_batch;

/* Compile (or load from the disk cache) and load both kernels of p for
 * head_dim 64 or 128.  cache may be NULL (defaults; its arch, template and
 * defines are ignored: the GPU's arch is used).  NULL on error (in diags). */
mj_attn *mj_attn_init(mj_cu *cu, const mj_program *p, int head_dim, const mj_cuda_opts *cache,
                      mj_diags *diags);
void mj_attn_free(mj_attn *a);
/* Compile both kernels of p for arch into the disk cache without a GPU
 * (thread-safe: several programs can be warmed in parallel). */
int mj_attn_warm(const mj_program *p, const char *arch, int head_dim, const mj_cuda_opts *cache,
                 mj_diags *diags);
const char *mj_attn_error(const mj_attn *a);
/* NVRTC time and cache hit of kernel k (0 prefill, 1 decode). */
double mj_attn_compile_ms(const mj_attn *a, int k, bool *cache_hit);

/* Prepare a prefill (decode = false) or decode call for batch b. */
int mj_attn_plan(mj_attn *a, const mj_attn_batch *b, bool decode);
/* Launch the attention of the last plan (asynchronous, on the calling
 * thread's current stream, see mj_cu_set_stream). */
int mj_attn_run(mj_attn *a);
/* Swap the q, k, v, o tensors of the last plan (same rows, shapes and strides:
 * e.g. another layer's KV cache), so that one plan serves every layer. */
#define MJ_ATTN_HAVE_SET_TENSORS 1
int mj_attn_set_tensors(mj_attn *a, mj_cu_ptr q, mj_cu_ptr k, mj_cu_ptr v, mj_cu_ptr o);
/* Launch the decode kernels as programmatic dependent launches (sm_90; off
 * by default): they may start while the previous kernel on the stream runs,
 * classify their key blocks and load the first one (unless it holds a new
 * token) before waiting for it.  Only for callers whose plan (mj_attn_plan's
 * summary kernel) completed before that previous kernel started, as in the
 * CUDA forward pass, which launches all its kernels this way. */
void mj_attn_set_pdl(mj_attn *a, bool on);
/* The most decode splits merged in one thread-block cluster instead of by
 * the combine kernel (2..16; 0 or other values: never; default 8), for the
 * plans that follow, unless MJ_ATTN_DECODE_CLUSTER sets it.  The CUDA
 * forward pass sets 0: between its products, clusters lost at every batch
 * (H100, Llama-3B shape, B=1..8: up to 12 % of a decode step, bench/RESULTS.md
 * session 11), while standalone they win at B=8. */
void mj_attn_set_decode_clusters(mj_attn *a, int max);
/* A fingerprint of everything the last decode plan's launches capture (grid
 * and cluster shape, shared memory, launch attributes and the parameter
 * block, except max_kblocks, which the decode kernels do not read; 0 for a
 * prefill plan or no plan).  Two decode plans with the same key launch the
 * same kernels with the same arguments; what differs between them (lengths,
 * environments, summaries) lives in the workspace that each plan re-uploads,
 * so a CUDA graph captured under one replays the other correctly. */
uint64_t mj_attn_launch_key(const mj_attn *a);
/* plan + run. */
int mj_attn_prefill(mj_attn *a, const mj_attn_batch *b);
int mj_attn_decode(mj_attn *a, const mj_attn_batch *b);
/* positions (int32 per query token) of the last plan's batch by the program's
 * position rule. */
int mj_attn_positions(mj_attn *a, mj_cu_ptr out);
/* Whether the last plan runs the persistent prefill kernel (attn_prefill_ws
 * built with MJ_WS_PERSIST=1; MJ_ATTN_PERSIST, cuda_attn.c). */
bool mj_attn_persistent(const mj_attn *a);
/* Visited / total key blocks of the last prefill plan (synchronises). */
int mj_attn_block_stats(mj_attn *a, int64_t *visited, int64_t *full, int64_t *total);

#endif
