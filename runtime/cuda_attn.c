/* cuda_attn.c — host side of the block-sparse attention kernels (cuda_attn.h):
 * compiles the templates for one mask program through the CUDA back end,
 * loads the cubins with the driver API, lays out one device workspace per
 * call (cuda_attn_ws.c: row tables, environments, summaries, block lists,
 * split partials) and launches summary, block-map, attention and combine
 * kernels. */
#include "cuda_attn.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_attn_impl.h"
#include "hashmap.h"
#include "switches.h"

static int fail(mj_attn *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(mj_attn *a, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->err, sizeof a->err, fmt, ap);
    va_end(ap);
    return -1;
}
int attn_cu_fail(mj_attn *a, const char *what) { return fail(a, "%s: %s", what, mj_cu_error(a->cu)); }

const char *mj_attn_error(const mj_attn *a) { return a->err; }

double mj_attn_compile_ms(const mj_attn *a, int k, bool *cache_hit) {
    if (cache_hit) *cache_hit = a->cache_hit[k];
    return a->compile_ms[k];
}

/* Tuning switches (environment): MJ_ATTN_WS=0 (on sm_90a, the previous
 * prefill kernel attn_prefill instead of the warp-specialised attn_prefill_ws),
 * MJ_ATTN_QTILE=128 (attn_prefill only: 128-row tiles; default 64),
 * MJ_ATTN_NO_WGMMA=1 (mma.sync on sm_90a too), MJ_ATTN_NO_PMASK=1 (PARTIAL
 * blocks evaluate the mask in the attention kernel instead of bitmasks),
 * MJ_ATTN_TMA=0 (attn_prefill_ws copies K/V with cp.async instead of loading
 * whole blocks with the bulk tensor copy engine, the default),
 * MJ_ATTN_PERSIST=0|1 (attn_prefill_ws's persistent variant never / for
 * every prefill plan; unset or "auto": for plans of many short tiles, see
 * persist_choose), MJ_ATTN_PERSIST_CTAS=N (development, tests: at most N CTAs
 * in its grid, so that each walks many tiles),
 * MJ_ATTN_DEFINES="A=1,B=2" (development: extra -D options for the prefill
 * template, e.g. attn_prefill_ws's MJ_WS_KEYS, MJ_WS_NS, MJ_WS_PWAIT, MJ_WS_QSMEM);
 * decode: MJ_ATTN_DECODE_STAGES, MJ_ATTN_DECODE_CTAS, MJ_ATTN_DECODE_SPLITS, MJ_ATTN_DECODE_CLUSTER,
 * MJ_ATTN_COMBINE_PDL (below); MJ_ATTN_PLAN_FULL=1 uploads a decode plan's
 * whole staging image and rebuilds its summaries every time (cuda_attn_ws.c). */
static int env_qtile(void) {
    const char *qt = getenv("MJ_ATTN_QTILE");
    return qt && atoi(qt) == 128 ? 128 : 64;
}
static bool env_no_wgmma(void) { return mj_switch_flag("MJ_ATTN_NO_WGMMA", false); }
/* attn_prefill_ws loads K/V with TMA unless MJ_ATTN_TMA=0 (H100: 1.3-1.6x
 * faster from 8k tokens on; bench/RESULTS.md). */
static bool env_tma(void) { return mj_switch_flag("MJ_ATTN_TMA", true); }
/* MJ_ATTN_PERSIST: 1 on, 0 off, -1 (unset, empty or "auto") auto. */
static int env_persist(void) {
    const char *v = getenv("MJ_ATTN_PERSIST");
    return !v || !*v || !strcmp(v, "auto") ? -1 : strcmp(v, "0") != 0;
}

/* The decode kernel's K/V ring: 3 stages (two blocks in flight) unless
 * MJ_ATTN_DECODE_STAGES=2.  On an H100 (session 5, standalone, three
 * alternating runs): B=8, N=2048 0.0358-0.0366 ms against 0.0368-0.0383 with
 * 2 stages (1.83-1.87 against 1.75-1.82 TB/s), B=1, N=2048 0.0150-0.0161
 * against 0.0160-0.0166, the other shapes within 1 %; inside the forward
 * pass within noise.  (Sessions 2-3, before the cluster merge and one CTA
 * per SM, measured 3 within noise standalone.) */
static int env_decode_stages(void) { return mj_switch_range("MJ_ATTN_DECODE_STAGES", 3, 2, 3); }

/* Decode CTAs per SM the split heuristic aims at: 1 (fewer, longer splits:
 * on an H100 1.03-1.09x faster than H4's 2 at B <= 8, N = 2048, within 2%
 * elsewhere); MJ_ATTN_DECODE_CTAS=1..3 overrides. */
static int64_t decode_ctas_per_sm(void) { return mj_switch_range("MJ_ATTN_DECODE_CTAS", 1, 1, 3); }

/* A fixed decode split count (MJ_ATTN_DECODE_SPLITS=1..65535; development:
 * unset or 0 follows MJ_ATTN_DECODE_CTAS), clamped to the plan's key
 * blocks. */
static int64_t decode_splits_env(void) { return mj_switch_range("MJ_ATTN_DECODE_SPLITS", 0, 1, 65535); }

/* How many more decode splits than one wave of CTAs a plan may take, in
 * percent of the wave's count (MJ_ATTN_DECODE_SLACK=0..100, default 50; 0:
 * the wave's count), when that shortens the chain of key blocks one split
 * streams to at most DECODE_SHORT_CHAIN blocks. */
static int64_t decode_slack_env(void) { return mj_switch_range("MJ_ATTN_DECODE_SLACK", 50, 0, 100); }

/* Where a split streams only a block or two, one block less is a large
 * part of the attention's latency: batch 1 on an H100 (Llama-3B shape,
 * capacity 2 048 + 264 keys: 19 splits of 2 blocks instead of 16 of 3;
 * 1 250 + 264: 24 of 1 instead of 16 of 2) gained 0.02 ms a decode step.
 * Longer chains lost with more splits (B=8: 3 splits instead of 2, +13 %;
 * B=1 x 8 192 keys: 22 instead of 16, +6 %; bench/RESULTS.md, session 11). */
enum { DECODE_SHORT_CHAIN = 2 };

/* The split count for kb key blocks: want (one wave), or up to slack
 * percent more where that brings the chain ceil(kb / splits) down to at
 * most DECODE_SHORT_CHAIN blocks (the fewest splits for the shortest
 * chain); never past cluster_max from at or below it (a cluster merges its
 * splits without the combine kernel). */
static int64_t decode_splits_shorter(int64_t want, int64_t kb, int64_t slack, int cluster_max) {
    int64_t best = want, top = want + want * slack / 100;
    if (cluster_max && want <= cluster_max && top > cluster_max) top = cluster_max;
    for (int64_t s = want + 1; s <= top && s <= kb; s++)
        if ((kb + s - 1) / s < (kb + best - 1) / best) best = s;
    return (kb + best - 1) / best <= DECODE_SHORT_CHAIN ? best : want;
}

/* Decode splits merged without the combine kernel: when a decode plan has
 * 2..n splits (n = MJ_ATTN_DECODE_CLUSTER, default 8, at most 16; 0: off;
 * mj_attn_set_decode_clusters changes the default), they run as one
 * thread-block cluster per (row, head chunk) and merge their partial outputs
 * through distributed shared memory (sm_90 with cuLaunchKernelEx).  On an
 * H100, standalone: B=8, N=2048 0.0407 -> 0.0376 ms, N=8192 0.1067 -> 0.1032
 * ms; clusters of 16 (B=1) were slower, standalone and in the forward pass
 * (bench/RESULTS.md).  Otherwise the combine kernel runs as a programmatic
 * dependent launch also without mj_attn_set_pdl (it waits for the decode
 * kernel itself; B=1: 0.0186 -> 0.0175 ms, N=8192 0.0270 -> 0.0247 ms),
 * unless MJ_ATTN_COMBINE_PDL=0.  -1: the variable is not set. */
static int decode_cluster_env(void) {
    if (!getenv("MJ_ATTN_DECODE_CLUSTER")) return -1;
    int n = mj_switch_int("MJ_ATTN_DECODE_CLUSTER", 8);
    return n >= 2 && n <= 16 ? n : 0;
}

/* Whether prefill for arch runs attn_prefill_ws: sm_90a unless MJ_ATTN_WS=0
 * or MJ_ATTN_NO_WGMMA is set. */
static bool use_ws(const char *arch) {
    return arch && !strcmp(arch, "sm_90a") && !env_no_wgmma() && mj_switch_flag("MJ_ATTN_WS", true);
}

/* Tensor maps of the plan's K and V for attn_prefill_ws built with MJ_WS_TMA
 * (default; MJ_ATTN_TMA=0 turns it off: 64 x 64 boxes of one kv head, 128-byte
 * swizzle).  Without them (no driver entry point, an unaligned tensor) that
 * kernel copies with cp.async. */
static void encode_tmaps(mj_attn *a) {
    const mj_attn_params *P = &a->prm;
    a->tma = 0;
    if (!a->tma_req || a->decode) return;
    uint64_t inner = (uint64_t)P->kv_tok_stride, rows = (uint64_t)(a->kv_rows > 0 ? a->kv_rows : 1);
    if (mj_cu_tensor_map_bf16(a->cu, a->tmap[0], P->k, inner, rows, inner * 2, 64, 64) == 0 &&
        mj_cu_tensor_map_bf16(a->cu, a->tmap[1], P->v, inner, rows, inner * 2, 64, 64) == 0)
        a->tma = 1;
}

/* Compile kernel k (K_PREFILL / K_DECODE) of p for arch into art; persist:
 * attn_prefill_ws's persistent variant (a define, so also a cache key). */
static int compile_kernel(const mj_program *p, const char *arch, int head_dim, int qtile, int k, bool persist,
                          const mj_cuda_opts *cache, mj_cuda_artifact *art, mj_diags *d) {
    char defs[256];
    const bool ws = k == K_PREFILL && use_ws(arch);
    int n;
    if (k == K_PREFILL)
        n = snprintf(defs, sizeof defs, "MJ_HEAD_DIM=%d MJ_ATTN_QTILE=%d%s%s%s", head_dim, ws ? 128 : qtile,
                     env_no_wgmma() ? " MJ_NO_WGMMA=1" : "", ws && env_tma() ? " MJ_WS_TMA=1" : "",
                     ws && persist ? " MJ_WS_PERSIST=1" : "");
    else n = snprintf(defs, sizeof defs, "MJ_HEAD_DIM=%d MJ_DECODE_STAGES=%d", head_dim, env_decode_stages());
    /* development: more -D for the template, "A=1,B=2" */
    const char *extra = getenv(k == K_PREFILL ? "MJ_ATTN_DEFINES" : "MJ_ATTN_DECODE_DEFINES");
    if (extra && *extra && n > 0 && n < (int)sizeof defs) {
        int m = snprintf(defs + n, sizeof defs - (size_t)n, " %s", extra);
        for (int i = n; i < n + m && i < (int)sizeof defs; i++)
            if (defs[i] == ',') defs[i] = ' ';
    }
    mj_cuda_opts o = {0};
    if (cache) o = *cache;
    o.arch = arch;
    o.template_name = ws ? "attn_prefill_ws" : k == K_PREFILL ? "attn_prefill" : "attn_decode";
    o.defines = defs;
    return mj_cuda_compile(p, &o, art, d);
}

int mj_attn_warm(const mj_program *p, const char *arch, int head_dim, const mj_cuda_opts *cache,
                 mj_diags *d) {
    int rc = 0;
    for (int k = 0; k < K_COUNT; k++) {
        mj_cuda_artifact art;
        rc |= compile_kernel(p, arch, head_dim, env_qtile(), k, false, cache, &art, d);
        mj_cuda_artifact_free(&art);
    }
    if (env_persist() == 1 && use_ws(arch)) {   /* forced on: every prefill plan runs the persistent kernel */
        mj_cuda_artifact art;
        rc |= compile_kernel(p, arch, head_dim, env_qtile(), K_PREFILL, true, cache, &art, d);
        mj_cuda_artifact_free(&art);
    }
    return rc ? -1 : 0;
}

/* Compile kernel k and load it as module k. */
static int load_kernel(mj_attn *a, int k, const mj_cuda_opts *cache, mj_diags *d) {
    mj_cuda_artifact art;
    if (compile_kernel(a->p, mj_cu_arch(a->cu), a->head_dim, a->qtile, k, false, cache, &art, d) != 0) {
        mj_cuda_artifact_free(&art);
        return -1;
    }
    a->compile_ms[k] = art.compile_ms;
    a->cache_hit[k] = art.cache_hit;
    int rc = mj_cu_module_load(a->cu, art.cubin, &a->mod[k]);
    mj_cuda_artifact_free(&art);
    if (rc != 0) {
        mj_diag_add_file(d, MJ_SEV_ERROR, a->p->path, "loading kernel %d: %s", k, mj_cu_error(a->cu));
        return -1;
    }
    return 0;
}

/* Compile (or take from the disk cache) and load the persistent prefill
 * kernel, on the first plan that runs it. */
static int load_persist(mj_attn *a) {
    if (a->fn_persist) return 0;
    mj_diags d;
    mj_diags_init(&d);
    mj_cuda_artifact art;
    int rc = compile_kernel(a->p, mj_cu_arch(a->cu), a->head_dim, a->qtile, K_PREFILL, true, &a->cache_opts, &art, &d);
    if (rc != 0) {
        char *m = d.n ? mj_diag_format(&d.items[0]) : NULL;
        fail(a, "persistent prefill kernel: %s", m ? m : "compile failed");
        free(m);
    } else if (mj_cu_module_load(a->cu, art.cubin, &a->mod_persist) != 0 ||
               mj_cu_function(a->cu, a->mod_persist, "mj_attn_prefill", &a->fn_persist) != 0 ||
               mj_cu_module_int(a->cu, a->mod_persist, "mj_prefill_smem", &a->smem_persist) != 0 ||
               mj_cu_set_smem(a->cu, a->fn_persist, a->smem_persist) != 0) {
        rc = attn_cu_fail(a, "persistent prefill kernel");
        mj_cu_module_unload(a->cu, a->mod_persist);
        a->mod_persist = a->fn_persist = NULL;
    }
    mj_cuda_artifact_free(&art);
    mj_diags_free(&d);
    return rc;
}

mj_attn *mj_attn_init(mj_cu *cu, const mj_program *p, int head_dim, const mj_cuda_opts *cache,
                      mj_diags *d) {
    if (head_dim != 64 && head_dim != 128) {
        mj_diag_add_file(d, MJ_SEV_ERROR, p->path, "attention head_dim must be 64 or 128, not %d", head_dim);
        return NULL;
    }
    mj_attn *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    a->cu = cu;
    a->p = p;
    a->head_dim = head_dim;
    a->warp_spec = use_ws(mj_cu_arch(cu));
    a->qtile = a->warp_spec ? 128 : env_qtile();
    a->tma_req = a->warp_spec && env_tma();
    a->persist_mode = env_persist();
    a->persist_ctas = getenv("MJ_ATTN_PERSIST_CTAS") ? atoi(getenv("MJ_ATTN_PERSIST_CTAS")) : 0;
    if (cache) a->cache_opts = *cache;
    a->cache_dir = cache && cache->cache_dir ? strdup(cache->cache_dir) : NULL;
    a->cache_opts.cache_dir = a->cache_dir;
    a->decode_ctas = decode_ctas_per_sm();
    a->cluster_env = decode_cluster_env();
    a->cluster_max = a->cluster_env >= 0 ? a->cluster_env : 8;
    a->decode_splits = decode_splits_env();
    a->decode_slack = decode_slack_env();
    a->plan_full = mj_switch_flag("MJ_ATTN_PLAN_FULL", false);
    a->combine_pdl = mj_switch_flag("MJ_ATTN_COMBINE_PDL", true);
    a->dev_skip_combine = mj_switch_flag("MJ_ATTN_DEV_SKIP_COMBINE", false);
    if (load_kernel(a, K_PREFILL, cache, d) != 0 || load_kernel(a, K_DECODE, cache, d) != 0)
        goto bad;
    if (mj_cu_function(cu, a->mod[K_PREFILL], "mj_attn_prefill", &a->fn_prefill) ||
        mj_cu_function(cu, a->mod[K_PREFILL], "mj_attn_summary", &a->fn_summary[K_PREFILL]) ||
        mj_cu_function(cu, a->mod[K_PREFILL], "mj_attn_block_map", &a->fn_block_map) ||
        mj_cu_function(cu, a->mod[K_PREFILL], "mj_attn_positions", &a->fn_positions) ||
        mj_cu_function(cu, a->mod[K_PREFILL], "mj_attn_partial_masks", &a->fn_partial) ||
        mj_cu_function(cu, a->mod[K_DECODE], "mj_attn_decode", &a->fn_decode) ||
        mj_cu_function(cu, a->mod[K_DECODE], "mj_attn_summary", &a->fn_summary[K_DECODE]) ||
        mj_cu_function(cu, a->mod[K_DECODE], "mj_attn_decode_combine", &a->fn_combine) ||
        mj_cu_module_int(cu, a->mod[K_PREFILL], "mj_prefill_smem", &a->smem[K_PREFILL]) ||
        mj_cu_module_int(cu, a->mod[K_DECODE], "mj_decode_smem", &a->smem[K_DECODE]) ||
        mj_cu_set_smem(cu, a->fn_prefill, a->smem[K_PREFILL]) ||
        mj_cu_set_smem(cu, a->fn_decode, a->smem[K_DECODE])) {
        mj_diag_add_file(d, MJ_SEV_ERROR, p->path, "%s", mj_cu_error(cu));
        goto bad;
    }
    return a;
bad:
    mj_attn_free(a);
    return NULL;
}

void mj_attn_free(mj_attn *a) {
    if (!a) return;
    for (int i = 0; i < 2; i++) {
        mj_cu_event_sync(a->cu, a->stage_ev[i]);
        mj_cu_event_free(a->cu, a->stage_ev[i]);
        mj_cu_host_free(a->cu, a->stage[i]);
    }
    free(a->img);
    mj_cu_free(a->cu, a->ws);
    for (int k = 0; k < K_COUNT; k++) mj_cu_module_unload(a->cu, a->mod[k]);
    mj_cu_module_unload(a->cu, a->mod_persist);
    free(a->cache_dir);
    free(a);
}

/* ---- plans ------------------------------------------------------------------------------ */

/* The kernels copy Q, K, V and write O in 16-byte pieces. */
static int check_aligned(mj_attn *a, mj_cu_ptr q, mj_cu_ptr k, mj_cu_ptr v, mj_cu_ptr o) {
    return (q | k | v | o) & 15 ? fail(a, "q, k, v and o must be 16-byte aligned device addresses") : 0;
}

/* Checks b and fills the sizes the plan needs. */
static int check_batch(mj_attn *a, const mj_attn_batch *b, int *max_q, int *max_k, int64_t *total_q) {
    if (b->n_rows <= 0 || b->n_heads <= 0 || b->n_kv_heads <= 0 || b->n_heads % b->n_kv_heads)
        return fail(a, "bad batch shape: %d rows, %d heads, %d kv heads", b->n_rows, b->n_heads, b->n_kv_heads);
    /* rows of 16-byte pieces: strides in multiples of 8 elements */
    const int64_t qs = b->q_tok_stride ? b->q_tok_stride : (int64_t)b->n_heads * a->head_dim;
    const int64_t ks = b->kv_tok_stride ? b->kv_tok_stride : (int64_t)b->n_kv_heads * a->head_dim;
    if (qs < (int64_t)b->n_heads * a->head_dim || ks < (int64_t)b->n_kv_heads * a->head_dim || qs % 8 || ks % 8)
        return fail(a, "bad token strides: q %lld, kv %lld elements (need at least heads x head_dim, multiples of 8)",
                    (long long)qs, (long long)ks);
    if (check_aligned(a, b->q, b->k, b->v, b->o) != 0) return -1;
    *max_q = 0;
    *max_k = 1;
    *total_q = 0;
    for (int r = 0; r < b->n_rows; r++) {
        int nq = b->q_len[r], nk = b->k_len[r];
        if (nq < 0 || nk < 0 || nq > nk)
            return fail(a, "row %d: %d queries for %d keys (need 0 <= q_len <= k_len)", r, nq, nk);
        *max_q = nq > *max_q ? nq : *max_q;
        *max_k = nk > *max_k ? nk : *max_k;
        *total_q += nq;
    }
    return 0;
}

/* Launch the summary kernel (and for prefill the block map) of the plan. */
static int launch_mask_work(mj_attn *a, int max_sblocks) {
    void *args[] = {&a->prm};
    int k = a->decode ? K_DECODE : K_PREFILL;
    int64_t n = (int64_t)a->p->n_tokens * max_sblocks;
    if (n > 0 && mj_cu_launch(a->cu, a->fn_summary[k], (unsigned)((n + 127) / 128), (unsigned)a->prm.n_rows, 1,
                              128, 0, args) != 0)
        return attn_cu_fail(a, "summary kernel");
    if (a->decode) return 0;
    if (mj_cu_launch(a->cu, a->fn_block_map, (unsigned)a->prm.max_qtiles, (unsigned)a->prm.n_hgroups,
                     (unsigned)a->prm.n_rows, 32, 0, args) != 0)
        return attn_cu_fail(a, "block-map kernel");
    int grid = a->prm.pmask_cap < 8 * mj_cu_sm_count(a->cu) ? a->prm.pmask_cap : 8 * mj_cu_sm_count(a->cu);
    if (grid > 0 && mj_cu_launch(a->cu, a->fn_partial, (unsigned)grid, 1, 1, (unsigned)a->qtile, 0, args) != 0)
        return attn_cu_fail(a, "partial-mask kernel");
    return 0;
}

/* Shape parameters of the plan that the layout depends on. */
static int plan_shape(mj_attn *a, const mj_attn_batch *b, int max_q, int max_k) {
    mj_attn_params *P = &a->prm;
    const mj_program *p = a->p;
    int D = a->head_dim;
    memset(P, 0, sizeof *P);
    P->n_rows = b->n_rows;
    P->n_heads = b->n_heads;
    P->n_kv_heads = b->n_kv_heads;
    P->head_dim = D;
    P->q_tok_stride = b->q_tok_stride ? b->q_tok_stride : (int64_t)b->n_heads * D;
    P->kv_tok_stride = b->kv_tok_stride ? b->kv_tok_stride : (int64_t)b->n_kv_heads * D;
    bool uses_h = p->uses_builtin[MJ_B_H] || p->n_heads > 0;
    P->heads_per_group = uses_h ? 1 : b->n_heads;
    P->n_hgroups = (b->n_heads + P->heads_per_group - 1) / P->heads_per_group;
    P->max_qtiles = (max_q + a->qtile - 1) / a->qtile;
    P->max_kblocks = (max_k + MJ_ATTN_BLOCK - 1) / MJ_ATTN_BLOCK;
    P->max_q = max_q;
    P->scale = 1.0f / sqrtf((float)D);
    P->n_splits = 1;
    if (!a->decode) {
        /* bitmask slots for PARTIAL blocks: at most one per list entry, at most 64 MB */
        int64_t entries = (int64_t)b->n_rows * P->n_hgroups * P->max_qtiles * P->max_kblocks;
        int64_t cap = ((int64_t)64 << 20) / ((int64_t)a->qtile * 8);
        P->pmask_cap = mj_switch_flag("MJ_ATTN_NO_PMASK", false) ? 0 : (int32_t)(entries < cap ? entries : cap);
        return 0;
    }
    if (max_q > MJ_ATTN_DECODE_ROWS)
        return fail(a, "decode handles at most %d new queries per row (got %d): use prefill",
                    MJ_ATTN_DECODE_ROWS, max_q);
    int G = b->n_heads / b->n_kv_heads;
    int hpc = max_q ? MJ_ATTN_DECODE_ROWS / max_q : 1;
    P->heads_per_chunk = hpc < 1 ? 1 : hpc > G ? G : hpc;
    int chunks = (G + P->heads_per_chunk - 1) / P->heads_per_chunk;
    int64_t ctas = (int64_t)b->n_rows * b->n_kv_heads * chunks;
    /* the splits are chosen for the rows' capacities (b->k_cap) where given,
     * so that a growing row keeps its launch shape; a split's share of the
     * key blocks is counted from the row's current length by the kernel */
    int64_t kb = P->max_kblocks;
    for (int r = 0; b->k_cap && r < b->n_rows; r++)
        if ((b->k_cap[r] + MJ_ATTN_BLOCK - 1) / MJ_ATTN_BLOCK > kb) kb = (b->k_cap[r] + MJ_ATTN_BLOCK - 1) / MJ_ATTN_BLOCK;
    /* about one wave of resident CTAs: splits beyond a wave only add a tail */
    int64_t want = a->decode_splits ? a->decode_splits : a->decode_ctas * mj_cu_sm_count(a->cu) / ctas;
    if (!a->decode_splits && want >= 1) want = decode_splits_shorter(want, kb, a->decode_slack, a->cluster_max);
    int64_t min_splits = (kb + 255) / 256;    /* MAXB in attn_decode.cu.in */
    if (want > kb) want = kb;
    if (want < min_splits) want = min_splits;
    if (want > 65535) want = 65535;
    P->n_splits = (int32_t)(want < 1 ? 1 : want);
    if (a->cluster_max && P->n_splits > 1 && P->n_splits <= a->cluster_max && mj_cu_pdl_available(a->cu)) {
        if (P->n_splits > 8 && !a->big_clusters) {
            if (mj_cu_allow_big_clusters(a->cu, a->fn_decode) != 0) return attn_cu_fail(a, "decode cluster size");
            a->big_clusters = true;
        }
        a->cluster = P->n_splits;
    }
    return 0;
}

/* The auto rule of the persistent prefill kernel: plans of at least one
 * (query tile, head) pair per SM whose tiles visit at most
 * PERSIST_MEAN_STEPS steps of 128 keys on average.  There a tile's fixed
 * costs (Q load, first product, last product, stores) weigh as much as its
 * steps, and one CTA per SM taking tiles from a counter overlaps them with
 * the neighbouring tiles' work.  H100, session 5, fusion mask (mean steps
 * 2.9 / 7.7 at 2k / 8k tokens): B=8 x 2k -12 %, forced at B=1 x 2k -4 % and
 * B=1 x 8k -3.5 %; dense causal (8.5 steps at 2k, 32.5 at 8k) and 32k fusion
 * (26.9) were as fast or slower persistent (bench/RESULTS.md). */
enum { PERSIST_TILES_PER_SM = 1, PERSIST_MEAN_STEPS = 8 };

/* Mean 128-key steps per query tile of the prefill plan, from its block
 * lists' counts (downloaded: synchronises the current stream); tiles: the
 * query tiles of its rows.  -1 on error. */
static double plan_mean_steps(mj_attn *a, int64_t tiles) {
    const mj_attn_params *P = &a->prm;
    size_t lists = (size_t)P->n_rows * P->n_hgroups * P->max_qtiles;   /* absent tiles: count 0 */
    int32_t *cnt = malloc(lists * sizeof *cnt);
    mj_cu_stream s = mj_cu_get_stream(a->cu);
    double mean = -1;
    if (cnt && mj_cu_download_async(a->cu, cnt, P->blk_count, lists * sizeof *cnt, s) == 0 &&
        mj_cu_stream_sync(a->cu, s) == 0) {
        int64_t steps = 0;
        for (size_t i = 0; i < lists; i++) steps += (cnt[i] + 1) / 2;
        mean = tiles > 0 ? (double)steps / (double)(tiles * P->n_hgroups) : 0.0;
    }
    free(cnt);
    return mean;
}

/* Sets a->persist (and a->persist_grid) for a prefill plan of batch b and
 * loads the persistent kernel when it is chosen: MJ_ATTN_PERSIST=1 whenever
 * attn_prefill_ws runs (and the work items fit the kernel's 32-bit index),
 * 0 never, else the auto rule above. */
static int persist_choose(mj_attn *a, const mj_attn_batch *b) {
    const mj_attn_params *P = &a->prm;
    const int64_t sms = mj_cu_sm_count(a->cu);
    int64_t tiles = 0;   /* query tiles of the rows; x n_heads: the kernel's work */
    for (int r = 0; r < b->n_rows; r++) tiles += (b->q_len[r] + a->qtile - 1) / a->qtile;
    if (!a->warp_spec || a->persist_mode == 0 || tiles == 0 ||
        (int64_t)P->n_heads * P->n_rows * P->max_qtiles > INT32_MAX)
        return 0;
    if (a->persist_mode < 0) {
        if (tiles * P->n_heads < PERSIST_TILES_PER_SM * sms) return 0;
        double mean = plan_mean_steps(a, tiles);
        if (mean < 0) return attn_cu_fail(a, "persistent prefill: block counts");
        if (mean > PERSIST_MEAN_STEPS) return 0;
    }
    if (load_persist(a) != 0) return -1;
    int64_t grid = tiles * P->n_heads < sms ? tiles * P->n_heads : sms;
    if (a->persist_ctas > 0 && grid > a->persist_ctas) grid = a->persist_ctas;
    a->persist_grid = (unsigned)grid;
    a->persist = true;
    return 0;
}

int mj_attn_plan(mj_attn *a, const mj_attn_batch *b, bool decode) {
    int max_q = 0, max_k = 1;
    int64_t total_q = 0;
    a->planned = false;
    a->decode = decode;
    a->cluster = 0;
    if (check_batch(a, b, &max_q, &max_k, &total_q) != 0 || plan_shape(a, b, max_q, max_k) != 0)
        return -1;
    layout L;
    attn_layout_make(a, b, &L, total_q);
    if (attn_workspace_ensure(a, L.total) != 0) return -1;
    bool env_changed = true;
    if (attn_staging_upload(a, b, &L, &env_changed) != 0) return -1;
    mj_attn_params *P = &a->prm;
    P->q = b->q; P->k = b->k; P->v = b->v; P->o = b->o;
    P->q_start = a->ws + L.q_start;
    P->k_start = a->ws + L.k_start;
    P->k_len = a->ws + L.k_len;
    P->envs = a->ws + L.envs;
    P->sums = a->ws + L.sums;
    P->blk_list = a->ws + L.blk_list;
    P->blk_count = a->ws + L.blk_count;
    P->blk_aux = a->ws + L.blk_aux;
    P->pmask = a->ws + L.pmask;
    P->pmask_count = a->ws + L.pmask_count;
    P->tile_ctr = a->ws + L.pmask_count + 8;   /* zero: uploaded with the staged region */
    a->tile_base = 0;
    P->pmask_work = a->ws + L.pmask_work;
    P->o_part = a->ws + L.o_part;
    a->kv_rows = 0;
    int64_t packed = 0;
    for (int r = 0; r < b->n_rows; r++) {
        int64_t end = (b->k_start ? b->k_start[r] : packed) + b->k_len[r];
        if (end > a->kv_rows) a->kv_rows = end;
        packed += b->k_len[r];
    }
    encode_tmaps(a);
    P->lse_part = a->ws + L.lse_part;
    int max_sblocks = 0;
    for (int r = 0; r < b->n_rows; r++)
        if (attn_sum_blocks(&b->envs[r]) > max_sblocks) max_sblocks = (int)attn_sum_blocks(&b->envs[r]);
    a->max_q = max_q;
    a->total_q = (int)total_q;
    a->total_pairs = 0;
    for (int r = 0; r < b->n_rows; r++)
        a->total_pairs += (int64_t)((b->q_len[r] + a->qtile - 1) / a->qtile) *
                          ((b->k_len[r] + MJ_ATTN_BLOCK - 1) / MJ_ATTN_BLOCK) * a->prm.n_hgroups;
    if ((!decode || env_changed) && launch_mask_work(a, max_sblocks) != 0) return -1;
    a->persist = false;
    if (!decode && persist_choose(a, b) != 0) return -1;
    a->planned = true;
    return 0;
}

/* A decode kernel on the current stream, as a programmatic dependent launch
 * with mj_attn_set_pdl (the decode kernels wait for their predecessor). */
static int decode_launch(mj_attn *a, void *fn, unsigned gx, unsigned gy, unsigned gz, unsigned block,
                         unsigned smem, void **args) {
    if (a->pdl) return mj_cu_launch_pdl(a->cu, mj_cu_get_stream(a->cu), fn, gx, gy, gz, block, smem, args);
    return mj_cu_launch(a->cu, fn, gx, gy, gz, block, smem, args);
}

int mj_attn_run(mj_attn *a) {
    if (!a->planned) return fail(a, "mj_attn_run without a plan");
    mj_attn_params *P = &a->prm;
    void *args[] = {P};
    if (!a->decode) {
        /* attn_prefill_ws: 384 threads, grid (heads, rows, tiles) so that the tile
         * index (longest list first) is the slowest dimension */
        void *ws_args[] = {P, a->tmap[0], a->tmap[1], &a->tma};   /* the maps: MJ_WS_TMA builds only */
        if (a->persist) {   /* MJ_WS_PERSIST: a 1-D grid of at most one CTA per SM walking the tiles */
            /* its work counter runs on from launch to launch: this one starts at tile_base
             * and takes one count per work item (attn_prefill_ws.cu.in's next_tile) */
            P->tile_base = a->tile_base;
            a->tile_base += (uint64_t)P->n_heads * (uint64_t)P->n_rows * (uint64_t)P->max_qtiles;
            return mj_cu_launch(a->cu, a->fn_persist, a->persist_grid, 1, 1, 384, (unsigned)a->smem_persist,
                                a->tma_req ? ws_args : args) != 0 ? attn_cu_fail(a, "persistent prefill kernel") : 0;
        }
        int rc = a->warp_spec ? mj_cu_launch(a->cu, a->fn_prefill, (unsigned)P->n_heads, (unsigned)P->n_rows,
                                      (unsigned)P->max_qtiles, 384, (unsigned)a->smem[K_PREFILL],
                                      a->tma_req ? ws_args : args)
                       : mj_cu_launch(a->cu, a->fn_prefill, (unsigned)P->max_qtiles, (unsigned)P->n_heads,
                                      (unsigned)P->n_rows, (unsigned)a->qtile * 2, (unsigned)a->smem[K_PREFILL], args);
        return rc != 0 ? attn_cu_fail(a, "prefill kernel") : 0;
    }
    int G = P->n_heads / P->n_kv_heads;
    int chunks = (G + P->heads_per_chunk - 1) / P->heads_per_chunk;
    if (a->cluster > 1) {   /* splits merged inside their cluster */
        if (mj_cu_launch_ex(a->cu, mj_cu_get_stream(a->cu), a->fn_decode, (unsigned)P->n_splits,
                            (unsigned)(P->n_kv_heads * chunks), (unsigned)P->n_rows, 128,
                            (unsigned)a->smem[K_DECODE], args, a->pdl, (unsigned)a->cluster) != 0)
            return attn_cu_fail(a, "decode kernel (cluster)");
        return 0;
    }
    if (decode_launch(a, a->fn_decode, (unsigned)P->n_splits, (unsigned)(P->n_kv_heads * chunks),
                      (unsigned)P->n_rows, 128, (unsigned)a->smem[K_DECODE], args) != 0)
        return attn_cu_fail(a, "decode kernel");
    if (P->n_splits > 1 && a->total_q > 0 && !a->dev_skip_combine &&
        (a->combine_pdl && !a->pdl
             ? mj_cu_launch_pdl(a->cu, mj_cu_get_stream(a->cu), a->fn_combine, (unsigned)a->total_q,
                                (unsigned)P->n_heads, 1, (unsigned)a->head_dim, 0, args)
             : decode_launch(a, a->fn_combine, (unsigned)a->total_q, (unsigned)P->n_heads, 1,
                             (unsigned)a->head_dim, 0, args)) != 0)
        return attn_cu_fail(a, "decode combine kernel");
    return 0;
}

uint64_t mj_attn_launch_key(const mj_attn *a) {
    if (!a->planned || !a->decode) return 0;
    /* the decode kernels do not read max_kblocks (they count their blocks from
     * k_len); everything else of the params block goes into the launches */
    struct {
        mj_attn_params P;
        int32_t cluster, total_q, smem, pdl, combine_pdl, skip_combine;
    } k;
    memset(&k, 0, sizeof k);
    k.P = a->prm;
    k.P.max_kblocks = 0;
    k.cluster = a->cluster;
    k.total_q = a->total_q;
    k.smem = a->smem[K_DECODE];
    k.pdl = a->pdl;
    k.combine_pdl = a->combine_pdl;
    k.skip_combine = a->dev_skip_combine;
    return mj_hash_bytes(&k, sizeof k) | 1;   /* never 0 */
}

void mj_attn_set_pdl(mj_attn *a, bool on) { a->pdl = on; }

void mj_attn_set_decode_clusters(mj_attn *a, int max) {
    if (a->cluster_env < 0) a->cluster_max = max >= 2 && max <= 16 ? max : 0;
}

bool mj_attn_persistent(const mj_attn *a) { return a->planned && a->persist; }

int mj_attn_set_tensors(mj_attn *a, mj_cu_ptr q, mj_cu_ptr k, mj_cu_ptr v, mj_cu_ptr o) {
    if (!a->planned) return fail(a, "mj_attn_set_tensors without a plan");
    if (check_aligned(a, q, k, v, o) != 0) return -1;
    a->prm.q = q;
    a->prm.k = k;
    a->prm.v = v;
    a->prm.o = o;
    encode_tmaps(a);
    return 0;
}

int mj_attn_prefill(mj_attn *a, const mj_attn_batch *b) {
    return mj_attn_plan(a, b, false) != 0 ? -1 : mj_attn_run(a);
}

int mj_attn_decode(mj_attn *a, const mj_attn_batch *b) {
    return mj_attn_plan(a, b, true) != 0 ? -1 : mj_attn_run(a);
}

int mj_attn_positions(mj_attn *a, mj_cu_ptr out) {
    if (!a->planned) return fail(a, "mj_attn_positions without a plan");
    mj_attn_params P = a->prm;
    P.positions = out;
    void *args[] = {&P};
    if (mj_cu_launch(a->cu, a->fn_positions, (unsigned)((a->max_q + 127) / 128), (unsigned)P.n_rows, 1, 128, 0,
                     args) != 0)
        return attn_cu_fail(a, "positions kernel");
    return 0;
}

int mj_attn_block_stats(mj_attn *a, int64_t *visited, int64_t *full, int64_t *total) {
    if (!a->planned || a->decode) return fail(a, "block stats need a prefill plan");
    const mj_attn_params *P = &a->prm;
    size_t lists = (size_t)P->n_rows * P->n_hgroups * P->max_qtiles;
    int32_t *cnt = malloc(lists * sizeof *cnt);
    int32_t *lst = malloc(lists * (size_t)P->max_kblocks * sizeof *lst);
    int rc = -1;
    if (cnt && lst && mj_cu_download(a->cu, cnt, P->blk_count, lists * sizeof *cnt) == 0 &&
        mj_cu_download(a->cu, lst, P->blk_list, lists * (size_t)P->max_kblocks * sizeof *lst) == 0) {
        *visited = *full = 0;
        for (size_t i = 0; i < lists; i++) {
            *visited += cnt[i];
            for (int j = 0; j < cnt[i]; j++) *full += (lst[i * (size_t)P->max_kblocks + (size_t)j] & MJ_BLK_FULL_BIT) != 0;
        }
        *total = a->total_pairs;
        rc = 0;
    } else if (cnt && lst) {
        attn_cu_fail(a, "block stats");
    }
    free(cnt);
    free(lst);
    return rc;
}
