/* attn_params.h — the plain-C parameter block of the attention kernels, shared
 * by the host (runtime/cuda_attn.c) and the NVRTC-compiled templates
 * (attn_prefill.cu.in, attn_decode.cu.in), as flash-attention's flash.h.
 * Only 4- and 8-byte members; pointers are device addresses (uint64 on the
 * host side so that C and CUDA agree on the layout without CUDA types).
 *
 * Tensors (bf16, row-major):
 *   q, o   [tokens][n_heads][head_dim], token stride q_tok_stride elements,
 *          head stride head_dim; row r owns tokens [q_start[r], q_start[r+1]).
 *   k, v   token t of row r is at (k_start[r] + t) * kv_tok_stride +
 *          kv_head * head_dim, t in [0, k_len[r]) (a packed batch: k_start is
 *          the running sum; a KV cache: any start with room behind it).
 * Row r's queries are its last (q_start[r+1] - q_start[r]) tokens: query i is
 * absolute token k_len[r] - n_q + i, so prefill without cache has n_q = k_len.
 * envs[r] is row r's mj_env (device pointers inside, seq_len = k_len[r]);
 * sums[r] its per-block annotation summaries (block = MJ_ATTN_BLOCK).
 * Prefill lists: for query tile i of row r and head group g, the non-EMPTY
 * key blocks in order (FULL flagged); a PARTIAL entry may own a bitmask slot
 * (bit c of row word pair = mask of query row, key c of the block), filled
 * once per head group by mj_attn_partial_masks from the work list. */
#ifndef MJ_ATTN_PARAMS_H
#define MJ_ATTN_PARAMS_H

#if !defined(__CUDACC_RTC__) && !defined(__CUDACC__)
#include <stdint.h>
#endif

#define MJ_ATTN_BLOCK 64          /* query tile = key block = summary block */
#define MJ_ATTN_DECODE_ROWS 16    /* (heads x queries) rows of one decode CTA */
#define MJ_BLK_FULL_BIT 0x40000000 /* set in a block-list entry: FULL block */

typedef struct mj_attn_params {
    uint64_t q, k, v, o;          /* bf16 tensors */
    uint64_t q_start;             /* int32 [n_rows + 1] */
    uint64_t k_start;             /* int64 [n_rows] */
    uint64_t k_len;               /* int32 [n_rows] */
    uint64_t envs;                /* mj_env [n_rows] */
    uint64_t sums;                /* mj_summary [n_rows] */
    uint64_t blk_list;            /* int32 [n_rows][n_hgroups][max_qtiles][max_kblocks] */
    uint64_t blk_count;           /* int32 [n_rows][n_hgroups][max_qtiles] */
    uint64_t o_part;              /* f32 [q tokens][n_heads][n_splits][head_dim] (decode) */
    uint64_t lse_part;            /* f32 [q tokens][n_heads][n_splits] (decode) */
    uint64_t positions;           /* int32 [q tokens] (mj_attn_positions) */
    uint64_t blk_aux;             /* int32, shaped as blk_list: bitmask slot of a PARTIAL entry, or -1 */
    uint64_t pmask;               /* uint32 [pmask_cap][MJ_ATTN_QTILE rows][2]: mask bits of PARTIAL blocks */
    uint64_t pmask_count;         /* int32: slots handed out by mj_attn_block_map */
    uint64_t pmask_work;          /* int32 [pmask_cap][2]: (list slot, entry) owning bitmask slot i */
    int64_t q_tok_stride;         /* elements between consecutive tokens of q and o */
    int64_t kv_tok_stride;        /* elements between consecutive tokens of k and v */
    int32_t n_rows, n_heads, n_kv_heads, head_dim;
    int32_t heads_per_group;      /* heads sharing one block list (n_heads, or 1 when the mask uses h) */
    int32_t n_hgroups;
    int32_t max_qtiles, max_kblocks;
    int32_t n_splits;             /* decode: key splits per (row, head chunk) */
    int32_t heads_per_chunk;      /* decode: query heads of one CTA (chunk of a GQA group) */
    int32_t max_q;                /* decode: most queries of a row */
    int32_t pmask_cap;            /* bitmask slots available (0: evaluate mj_mask in the kernel) */
    float scale;                  /* 1/sqrt(head_dim) */
    float pad2_;
    uint64_t tile_ctr;            /* uint64: the persistent prefill kernel's work counter (zero at the plan) */
    uint64_t tile_base;           /* its value when this launch starts (each launch takes the plan's item count) */
} mj_attn_params;

#endif
