/* cuda_attn_impl.h — internals shared by cuda_attn.c (kernels, plans,
 * launches) and cuda_attn_ws.c (the plan's device workspace: its layout,
 * the host staging image and its uploads).  Not part of cuda_attn.h. */
#ifndef MJ_CUDA_ATTN_IMPL_H
#define MJ_CUDA_ATTN_IMPL_H

#include "cuda_attn.h"
#include "kernels/templates/attn_params.h"

enum { K_PREFILL, K_DECODE, K_COUNT };

/* Offsets of a plan's regions in the workspace (attn_layout_make). */
typedef struct layout {
    size_t q_start, k_start, k_len, envs, sums, pmask_count, env_data, sum_data, blk_list, blk_count, blk_aux;
    size_t pmask, pmask_work;
    size_t o_part, lse_part, total, staged;   /* [0, staged) is uploaded from the host */
} layout;

struct mj_attn {
    mj_cu *cu;
    const mj_program *p;
    int head_dim;
    int qtile;                 /* query rows of one prefill tile: 64 or 128 */
    _Alignas(64) unsigned char tmap[2][128];   /* attn_prefill_ws: CUtensorMaps of K and V */
    bool tma_req;              /* attn_prefill_ws built with MJ_WS_TMA (takes the maps; MJ_ATTN_TMA=0: not) */
    int tma;                   /* 1: tmap valid, the producer loads whole blocks by TMA */
    int64_t kv_rows;           /* tokens of the K/V buffers the plan may touch */
    bool warp_spec;            /* prefill by attn_prefill_ws (sm_90a, warp-specialised, 128-row tiles) */
    /* the persistent attn_prefill_ws (MJ_WS_PERSIST=1), a second module loaded on first use */
    int persist_mode;          /* MJ_ATTN_PERSIST: 1 on, 0 off, -1 auto (persist_choose) */
    int persist_ctas;          /* MJ_ATTN_PERSIST_CTAS: most CTAs of its grid (0: one per SM) */
    bool persist;              /* the last plan runs it, on persist_grid CTAs */
    unsigned persist_grid;
    uint64_t tile_base;        /* the persistent kernel's work counter at the next launch (0 at a plan) */
    void *mod_persist, *fn_persist;
    int smem_persist;
    mj_cuda_opts cache_opts;   /* mj_attn_init's cache options (cache_dir copied) for its compile */
    char *cache_dir;
    void *mod[K_COUNT];
    void *fn_prefill, *fn_decode, *fn_combine, *fn_summary[K_COUNT], *fn_block_map, *fn_positions, *fn_partial;
    int smem[K_COUNT];
    double compile_ms[K_COUNT];
    bool cache_hit[K_COUNT];
    mj_cu_ptr ws;              /* workspace */
    size_t ws_cap;
    /* the plans' host images: two pinned buffers taken in turn, each with an
     * event recorded after its upload, so that a plan never waits for the
     * kernels before it (stream-ordered) nor overwrites an image in flight */
    void *stage[2];
    size_t stage_cap[2];
    mj_cu_event stage_ev[2];
    int stage_i;
    /* what the device's [0, staged) holds after the decode plans' uploads (a
     * host copy), valid for img_layout and workspace img_ws: a decode plan
     * uploads only the bytes that differ from it, and runs the summary
     * kernel only when the annotations differ (MJ_ATTN_PLAN_FULL=1: always
     * everything, as before session 10) */
    uint8_t *img;
    size_t img_cap;
    bool img_ok, plan_full;
    layout img_layout;
    mj_cu_ptr img_ws;
    mj_attn_params prm;        /* the last plan */
    bool planned, decode;
    bool pdl;                  /* decode kernels as programmatic dependent launches (mj_attn_set_pdl) */
    int cluster;               /* > 1: decode splits launched as one cluster, merged in it (no combine kernel) */
    /* decode switches, read from the environment once by mj_attn_init */
    int64_t decode_ctas;       /* CTAs per SM the split count aims at (MJ_ATTN_DECODE_CTAS) */
    int cluster_max;           /* most splits merged in a cluster, 0: never (MJ_ATTN_DECODE_CLUSTER) */
    int cluster_env;           /* MJ_ATTN_DECODE_CLUSTER as set (0 off), -1 unset */
    int64_t decode_splits;     /* fixed decode split count, 0: by decode_ctas (MJ_ATTN_DECODE_SPLITS) */
    int64_t decode_slack;      /* percent more splits allowed for a shorter chain (MJ_ATTN_DECODE_SLACK) */
    bool combine_pdl;          /* the combine kernel as a programmatic dependent launch without a->pdl */
    bool dev_skip_combine;     /* MJ_ATTN_DEV_SKIP_COMBINE=1: no combine kernel (timing only: wrong outputs) */
    bool big_clusters;         /* fn_decode may take clusters of more than 8 CTAs */
    int max_q, total_q;
    int64_t total_pairs;       /* (query tile, key block, head group) triples of the plan */
    char err[768];
};

/* cuda_attn.c */
int attn_cu_fail(mj_attn *a, const char *what);   /* "what: <driver error>" into a->err; -1 */

/* cuda_attn_ws.c: the plan's workspace */
int64_t attn_sum_blocks(const mj_env *e);          /* summary blocks of e's annotations */
/* The regions of a plan of batch b (a->prm's shape fields set) in the workspace. */
void attn_layout_make(mj_attn *a, const mj_attn_batch *b, layout *L, int64_t total_q);
/* A workspace of at least bytes (a larger one after a sync when it grows). 0 or -1. */
int attn_workspace_ensure(mj_attn *a, size_t bytes);
/* Fills the next pinned staging image with [0, L->staged) of the plan of b
 * and uploads what the device lacks of it on the current stream (a decode
 * plan: only the bytes that differ from the last decode plan's, when the
 * layout and workspace are the same); *env_changed: whether the summaries
 * must be rebuilt.  0 or -1. */
int attn_staging_upload(mj_attn *a, const mj_attn_batch *b, const layout *L, bool *env_changed);

#endif
