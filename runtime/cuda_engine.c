/* cuda_engine.c — the CUDA device of the engine (cuda_engine.h): opening
 * (driver, stream, cuBLASLt, forward kernels, the model uploaded as bf16 with
 * fused q|k|v and gate|up matrices), per-batch state (KV caches, activation
 * buffers, pinned staging, attention), prefix caches, and the ops table that
 * engine.c drives.  The forward itself is cuda_forward.c; attention is
 * cuda_fwd_attn.c over H4's kernels (cuda_attn.h).
 *
 * Settings read from the environment when a seqs opens (benchmarks and
 * tests flip them): MJ_CUDA_SKINNY=0 uses cuBLASLt for decode steps too
 * (MJ_CUDA_SKINNY_MAX=N: the skinny kernels up to N rows, default 2),
 * MJ_CUDA_FUSE_NORM=0 keeps the RMSNorms out of the skinny products,
 * MJ_CUDA_FUSE_ROPE=0 keeps RoPE and the KV append out of the q|k|v product,
 * MJ_CUDA_NORM_SMEM=0 re-normalises x per warp inside the fused-norm products,
 * MJ_CUDA_PDL=0 turns programmatic dependent launches off (sm_90),
 * MJ_CUDA_ATTN_PDL=0 keeps them for the forward kernels but not attention,
 * MJ_CUDA_GRAPHS=0 turns decode graphs off, MJ_CUDA_ATTN=naive|sparse picks
 * the attention path (default: sparse when head_dim is 64 or 128),
 * MJ_CUDA_KSPLIT=0 keeps one warp per column in every skinny product (2
 * splits K in every one but gate|up: tests), MJ_CUDA_GEMV_PF=BITS picks the
 * skinny products that prefetch their later weight chunks into L2 after the
 * PDL wait (1 o, 2 down, 4 lm_head, 8 the others; default 1: on an H100 the
 * o product gained 0.015 ms a step, the others lost or stayed),
 * MJ_CUDA_GEMV_PF_NEXT=BITS those with an RMSNorm that prefetch their
 * second weight chunk before the norm prologue (1 q|k|v, 2 gate|up, 4
 * lm_head; default 7), MJ_CUDA_GEMV_XS=BITS those without an RMSNorm
 * whose blocks first copy their x rows into shared memory (1 o; default 1).
 * Both measured on an H100 in bench/RESULTS.md, session 9. */
#include "cuda_engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compile.h"
#include "cpu_internal.h"
#include "cuda_fwd.h"
#include "interp.h"
#include "switches.h"

/* Tokens per forward chunk (a row's new tokens are never split). */
#define CUDA_CHUNK_TOKENS 8192
/* Floats converted per upload piece while loading weights. */
#define LOAD_PIECE ((int64_t)1 << 24)

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int attn_mode_env(void) {
    const char *v = getenv("MJ_CUDA_ATTN");
    if (v && !strcmp(v, "naive")) return CUDA_ATTN_NAIVE;
    if (v && !strcmp(v, "sparse")) return CUDA_ATTN_SPARSE;
    return CUDA_ATTN_AUTO;
}

/* ---- weights ------------------------------------------------------------------------------ */

typedef struct loader {
    cuda_engine *ce;
    mj_cu_ptr stage;        /* f32 [LOAD_PIECE] */
    char *err;
    size_t errn;
} loader;

/* dst[0..n) (bf16) = src (f32), through the staging buffer on the stream. */
static int load_bf16(loader *ld, mj_cu_ptr dst, const float *src, int64_t n) {
    cuda_engine *ce = ld->ce;
    for (int64_t off = 0; off < n; off += LOAD_PIECE) {
        int64_t m = n - off < LOAD_PIECE ? n - off : LOAD_PIECE;
        mj_cu_ptr d = dst + (mj_cu_ptr)(off * 2);
        void *args[] = {&ld->stage, &d, &m};
        unsigned blocks = (unsigned)((m + 255) / 256 < 4096 ? (m + 255) / 256 : 4096);
        if (mj_cu_upload_async(ce->cu, ld->stage, src + off, (size_t)m * sizeof(float), ce->st) != 0 ||
            mj_cu_launch_on(ce->cu, ce->st, ce->k.fn[FK_F32_TO_BF16], blocks, 1, 1, 256, 0, args) != 0) {
            snprintf(ld->err, ld->errn, "loading weights: %s", mj_cu_error(ce->cu));
            return -1;
        }
    }
    return 0;
}

/* Allocate n bf16 and fill them from src (NULL: zeros). */
static int alloc_load(loader *ld, mj_cu_ptr *dst, const float *src, int64_t n) {
    cuda_engine *ce = ld->ce;
    if (mj_cu_alloc(ce->cu, dst, (size_t)n * 2) != 0) {
        snprintf(ld->err, ld->errn, "out of GPU memory for the weights: %s", mj_cu_error(ce->cu));
        return -1;
    }
    if (!src) return mj_cu_memset8_async(ce->cu, *dst, 0, (size_t)n * 2, ce->st) == 0 ? 0 : -1;
    return load_bf16(ld, *dst, src, n);
}

/* The stacked q|k|v matrix (and bias) and gate|up matrix of layer l. */
static int load_layer(loader *ld, const mj_layer *ly, cuda_layer *cl) {
    cuda_engine *ce = ld->ce;
    int64_t hid = ce->hid, qd = (int64_t)ce->H * ce->D, kd = (int64_t)ce->G * ce->D, I = ce->I;
    if (alloc_load(ld, &cl->attn_norm, ly->attn_norm, hid) || alloc_load(ld, &cl->ffn_norm, ly->ffn_norm, hid) ||
        alloc_load(ld, &cl->wo, ly->wo, hid * qd) || alloc_load(ld, &cl->wd, ly->w_down, hid * I))
        return -1;
    if (mj_cu_alloc(ce->cu, &cl->wqkv, (size_t)(ce->qkv_n * hid) * 2) != 0 ||
        mj_cu_alloc(ce->cu, &cl->wgu, (size_t)(2 * I * hid) * 2) != 0) {
        snprintf(ld->err, ld->errn, "out of GPU memory for the weights: %s", mj_cu_error(ce->cu));
        return -1;
    }
    if (load_bf16(ld, cl->wqkv, ly->wq, qd * hid) ||
        load_bf16(ld, cl->wqkv + (mj_cu_ptr)(qd * hid * 2), ly->wk, kd * hid) ||
        load_bf16(ld, cl->wqkv + (mj_cu_ptr)((qd + kd) * hid * 2), ly->wv, kd * hid) ||
        load_bf16(ld, cl->wgu, ly->w_gate, I * hid) ||
        load_bf16(ld, cl->wgu + (mj_cu_ptr)(I * hid * 2), ly->w_up, I * hid))
        return -1;
    if (ly->bq || ly->bk || ly->bv) {
        if (alloc_load(ld, &cl->bqkv, NULL, ce->qkv_n) ||
            (ly->bq && load_bf16(ld, cl->bqkv, ly->bq, qd)) ||
            (ly->bk && load_bf16(ld, cl->bqkv + (mj_cu_ptr)(qd * 2), ly->bk, kd)) ||
            (ly->bv && load_bf16(ld, cl->bqkv + (mj_cu_ptr)((qd + kd) * 2), ly->bv, kd)))
            return -1;
    }
    if ((ly->q_norm && alloc_load(ld, &cl->q_norm, ly->q_norm, ce->D)) ||
        (ly->k_norm && alloc_load(ld, &cl->k_norm, ly->k_norm, ce->D)))
        return -1;
    return 0;
}

static int load_model(cuda_engine *ce, const mj_model *m, char *err, size_t errn) {
    size_t need = 0, free_b = 0, total_b = 0;
    int64_t hid = ce->hid, I = ce->I;
    need += (size_t)ce->L * (size_t)(ce->qkv_n * hid + hid * (int64_t)ce->H * ce->D + 3 * hid * I + 2 * hid) * 2;
    need += (size_t)ce->V * (size_t)hid * 2 * (m->lm_head != m->embed ? 2 : 1);
    if (mj_cu_mem_info(ce->cu, &free_b, &total_b) == 0 && need + ((size_t)1 << 28) > free_b) {
        snprintf(err, errn, "the model needs %.2f GB of GPU memory in bf16, %.2f GB are free",
                 (double)need / 1e9, (double)free_b / 1e9);
        return -1;
    }
    loader ld = {ce, 0, err, errn};
    if (mj_cu_alloc(ce->cu, &ld.stage, (size_t)LOAD_PIECE * sizeof(float)) != 0) {
        snprintf(err, errn, "GPU memory: %s", mj_cu_error(ce->cu));
        return -1;
    }
    int rc = alloc_load(&ld, &ce->embed, m->embed, (int64_t)ce->V * hid) ||
             alloc_load(&ld, &ce->final_norm, m->final_norm, hid);
    if (rc == 0 && m->lm_head && m->lm_head != m->embed)
        rc = alloc_load(&ld, &ce->lm_head, m->lm_head, (int64_t)ce->V * hid);
    else
        ce->lm_head = ce->embed;
    for (int32_t l = 0; rc == 0 && l < ce->L; l++) rc = load_layer(&ld, &m->layers[l], &ce->lw[l]);
    float *inv = rc == 0 ? cpu_rope_inv_freq(&m->cfg) : NULL;
    if (rc == 0 && (!inv || mj_cu_alloc(ce->cu, &ce->inv_freq, (size_t)(ce->D / 2) * sizeof(float)) != 0 ||
                    mj_cu_upload_async(ce->cu, ce->inv_freq, inv, (size_t)(ce->D / 2) * sizeof(float), ce->st) != 0)) {
        snprintf(err, errn, "RoPE table: %s", inv ? mj_cu_error(ce->cu) : "out of memory");
        rc = -1;
    }
    if (mj_cu_stream_sync(ce->cu, ce->st) != 0 && rc == 0) {
        snprintf(err, errn, "loading weights: %s", mj_cu_error(ce->cu));
        rc = -1;
    }
    free(inv);
    mj_cu_free(ce->cu, ld.stage);
    return rc ? -1 : 0;
}

/* ---- engine ------------------------------------------------------------------------------- */

static void cuda_engine_free(mj_engine *e) {
    cuda_engine *ce = e->impl;
    if (!ce) return;
    mj_cu *cu = ce->cu;
    if (ce->st) mj_cu_stream_sync(cu, ce->st);
    for (int32_t l = 0; ce->lw && l < ce->L; l++) {
        cuda_layer *c = &ce->lw[l];
        mj_cu_ptr ps[] = {c->attn_norm, c->wqkv, c->bqkv, c->q_norm, c->k_norm, c->wo, c->ffn_norm, c->wgu, c->wd};
        for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) mj_cu_free(cu, ps[i]);
    }
    free(ce->lw);
    if (ce->lm_head != ce->embed) mj_cu_free(cu, ce->lm_head);
    mj_cu_free(cu, ce->embed);
    mj_cu_free(cu, ce->final_norm);
    mj_cu_free(cu, ce->inv_freq);
    mj_fwd_kernels_unload(cu, &ce->k);
    mj_blas_free(ce->blas);
    if (mj_cu_get_stream(cu) == ce->st) mj_cu_set_stream(cu, NULL);
    mj_cu_stream_destroy(cu, ce->st);
    if (ce->causal) mj_program_free(ce->causal);
    free(ce);
    e->impl = NULL;
}

/* ---- per-batch state ------------------------------------------------------------------------ */

static void cuda_seqs_close(mj_seqs *s) {
    cuda_seqs *cs = s->impl;
    if (!cs) return;
    cuda_engine *ce = s->e->impl;
    mj_cu *cu = ce->cu;
    mj_cu_stream_sync(cu, ce->st);
    cuda_attn_close(s);
    if (cs->graph) mj_cu_graph_free(cu, cs->graph);
    mj_cu_ptr ps[] = {cs->kc, cs->vc, cs->x, cs->xn, cs->qkv, cs->att, cs->tmp, cs->gu, cs->act,
                      cs->xl, cs->logits, cs->in_buf, cs->d_greedy};
    for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) mj_cu_free(cu, ps[i]);
    mj_cu_host_free(cu, cs->h_in);
    mj_cu_host_free(cu, cs->h_logits);
    mj_cu_host_free(cu, cs->h_picks);
    mj_cu_host_free(cu, cs->h_map);
    for (int i = 0; i < 2; i++) {
        mj_cu_event_free(cu, cs->in_ev[i]);
        mj_cu_event_free(cu, cs->pick_ev[i]);
        free(cs->pend_rows[i]);
        free(cs->pend_half[i]);
    }
    free(cs->pick_seq);
    free(cs->cur_half);
    free(cs->prev_idx);
    free(cs->k_start);
    free(cs->chunk.rows);
    free(cs->chunk.q0);
    free(cs->chunk.q1);
    free(cs);
    s->impl = NULL;
}

/* Chunk capacity: the longest prompt, else up to CUDA_CHUNK_TOKENS. */
static int64_t chunk_tokens(const mj_seqs *s) {
    int64_t longest = 1, total = 0;
    for (int r = 0; r < s->n_rows; r++) {
        const mj_row *row = &s->rows[r];
        int64_t n = row->n_prompt - row->done;
        if (n < 1) n = 1;
        if (row->n_prompt > longest) longest = row->n_prompt;
        total += n;
    }
    int64_t t = total < CUDA_CHUNK_TOKENS ? total : CUDA_CHUNK_TOKENS;
    if (t < longest) t = longest;
    if (t < s->n_rows) t = s->n_rows;
    return t;
}

static int seqs_alloc(mj_seqs *s, cuda_seqs *cs, char *err, size_t errn) {
    cuda_engine *ce = s->e->impl;
    mj_cu *cu = ce->cu;
    int64_t T = cs->t_max, gd = (int64_t)ce->G * ce->D, n = s->n_rows;
    size_t kv = (size_t)ce->L * (size_t)cs->cap_total * (size_t)gd * 2;
    struct { mj_cu_ptr *p; size_t bytes; } a[] = {
        {&cs->kc, kv}, {&cs->vc, kv},
        {&cs->x, (size_t)(T * ce->hid) * 2}, {&cs->xn, (size_t)(T * ce->hid) * 2},
        {&cs->qkv, (size_t)(T * ce->qkv_n) * 2}, {&cs->att, (size_t)(T * ce->qkv_n) * 2},
        {&cs->tmp, (size_t)(T * ce->hid) * 2}, {&cs->gu, (size_t)(T * 2 * ce->I) * 2},
        {&cs->act, (size_t)(T * ce->I) * 2}, {&cs->xl, (size_t)(n * ce->hid) * 2},
        {&cs->logits, (size_t)(n * ce->V) * 4}, {&cs->d_greedy, cuda_greedy_bytes(n)},
    };
    for (size_t i = 0; i < sizeof a / sizeof a[0]; i++)
        if (mj_cu_alloc(cu, a[i].p, a[i].bytes) != 0) {
            snprintf(err, errn, "out of GPU memory (%d rows, %lld cache tokens, %lld tokens per chunk): %s",
                     s->n_rows, (long long)cs->cap_total, (long long)T, mj_cu_error(cu));
            return -1;
        }
    if (mj_cu_memset8_async(cu, cs->kc, 0, kv, ce->st) || mj_cu_memset8_async(cu, cs->vc, 0, kv, ce->st) ||
        mj_cu_memset8_async(cu, cs->d_greedy, 0, cuda_greedy_bytes(n), ce->st)) {
        snprintf(err, errn, "%s", mj_cu_error(cu));
        return -1;
    }
    /* step inputs (cuda_inputs_bytes for T = t_max, n = n_rows), then kstart [n] int64 */
    cs->in_bytes = cuda_inputs_bytes(T, n) + (size_t)n * 8;
    if (mj_cu_alloc(cu, &cs->in_buf, cs->in_bytes) != 0 || mj_cu_host_alloc(cu, &cs->h_in, 2 * cs->in_bytes) != 0 ||
        mj_cu_host_alloc(cu, (void **)&cs->h_logits, (size_t)(n * ce->V) * 4) != 0 ||
        mj_cu_host_alloc(cu, (void **)&cs->h_picks, (size_t)(2 * n) * 4) != 0 ||
        mj_cu_event_init(cu, &cs->in_ev[0]) || mj_cu_event_init(cu, &cs->in_ev[1]) ||
        mj_cu_event_init(cu, &cs->pick_ev[0]) || mj_cu_event_init(cu, &cs->pick_ev[1])) {
        snprintf(err, errn, "memory for step inputs: %s", mj_cu_error(cu));
        return -1;
    }
    cs->prev_idx = malloc((size_t)n * sizeof *cs->prev_idx);
    cs->pend_rows[0] = malloc((size_t)n * sizeof *cs->pend_rows[0]);
    cs->pend_rows[1] = malloc((size_t)n * sizeof *cs->pend_rows[1]);
    cs->pend_half[0] = calloc((size_t)n, 1);
    cs->pend_half[1] = calloc((size_t)n, 1);
    cs->cur_half = calloc((size_t)n, 1);
    cs->pick_seq = calloc((size_t)n, sizeof *cs->pick_seq);
    if (!cs->prev_idx || !cs->pend_rows[0] || !cs->pend_rows[1] || !cs->pend_half[0] || !cs->pend_half[1] ||
        !cs->cur_half || !cs->pick_seq) {
        snprintf(err, errn, "out of memory");
        return -1;
    }
    for (int r = 0; r < n; r++) cs->prev_idx[r] = -1;
    /* picks written by the argmax kernel into mapped host memory; without
     * (an old driver, or MJ_CUDA_MAPPED_PICKS=0) they are downloaded */
    if (mj_switch_flag("MJ_CUDA_MAPPED_PICKS", true) &&
        mj_cu_host_alloc_mapped(cu, (void **)&cs->h_map, &cs->d_map, (size_t)(2 * n) * 4) != 0) {
        cs->h_map = NULL;
        cs->d_map = 0;
    }
    /* the step arrays are packed for each chunk's T and n by upload_inputs
     * (cuda_forward.c), which sets d_ids .. d_slot; kstart stays behind the
     * largest packing */
    cs->d_kstart = cs->in_buf + cuda_inputs_bytes(T, n);
    return 0;
}

static int cuda_seqs_open(mj_seqs *s, char *err, size_t errn) {
    cuda_engine *ce = s->e->impl;
    cuda_seqs *cs = calloc(1, sizeof *cs);
    if (!cs) { snprintf(err, errn, "out of memory"); return -1; }
    s->impl = cs;
    ce->skinny = mj_switch_flag("MJ_CUDA_SKINNY", true);
    ce->skinny_max = mj_switch_range("MJ_CUDA_SKINNY_MAX", CUDA_SKINNY_DEFAULT, 1, CUDA_SKINNY_MAX);
    ce->fuse_norm = mj_switch_flag("MJ_CUDA_FUSE_NORM", true);
    ce->fuse_rope = mj_switch_flag("MJ_CUDA_FUSE_ROPE", true) && ce->D % 8 == 0;
    ce->norm_smem = mj_switch_flag("MJ_CUDA_NORM_SMEM", true);
    ce->pdl = mj_switch_flag("MJ_CUDA_PDL", true) && mj_cu_pdl_available(ce->cu);
    ce->attn_pdl = mj_switch_flag("MJ_CUDA_ATTN_PDL", true);
    ce->graphs = mj_switch_flag("MJ_CUDA_GRAPHS", true) && mj_cu_graphs_available(ce->cu);
    ce->attn_mode = attn_mode_env();
    ce->ksplit = mj_switch_int("MJ_CUDA_KSPLIT", 1);
    ce->rope_ksplit = mj_switch_flag("MJ_CUDA_ROPE_KSPLIT", false);
    ce->gemv_pf = mj_switch_int("MJ_CUDA_GEMV_PF", 1);
    ce->gemv_pf_next = mj_switch_int("MJ_CUDA_GEMV_PF_NEXT", 7);
    ce->gemv_xs = mj_switch_int("MJ_CUDA_GEMV_XS", 1);
    ce->debug_sync = mj_switch_flag("MJ_CUDA_DEBUG_SYNC", false);
    ce->dev_skip_attn = mj_switch_flag("MJ_CUDA_DEV_SKIP_ATTN", false);
    ce->dev_skip_copies = mj_switch_int("MJ_CUDA_DEV_SKIP_COPIES", 0);
    ce->fuse_embed = mj_switch_flag("MJ_CUDA_FUSE_EMBED", true);
    ce->argmax_blocks = mj_switch_range("MJ_CUDA_ARGMAX_BLOCKS", CUDA_ARGMAX_BLOCKS, 1, CUDA_ARGMAX_BLOCKS_MAX);
    if (ce->debug_sync) ce->graphs = false;   /* no synchronisation inside a capture */
    int n = s->n_rows;
    cs->k_start = calloc((size_t)n, sizeof *cs->k_start);
    cs->chunk.rows = calloc((size_t)n, sizeof *cs->chunk.rows);
    cs->chunk.q0 = calloc((size_t)n, sizeof *cs->chunk.q0);
    cs->chunk.q1 = calloc((size_t)n, sizeof *cs->chunk.q1);
    if (!cs->k_start || !cs->chunk.rows || !cs->chunk.q0 || !cs->chunk.q1) {
        snprintf(err, errn, "out of memory");
        return -1;
    }
    for (int r = 0; r < n; r++) {
        cs->k_start[r] = cs->cap_total;
        cs->cap_total += s->rows[r].cap;
    }
    cs->t_max = chunk_tokens(s);
    if (cs->t_max > 65535) {
        snprintf(err, errn, "a prompt of %lld tokens is above the CUDA engine's 65535", (long long)cs->t_max);
        return -1;
    }
    if (seqs_alloc(s, cs, err, errn) != 0 || cuda_attn_open(s, err, errn) != 0) return -1;
    if (mj_cu_stream_sync(ce->cu, ce->st) != 0) {
        snprintf(err, errn, "%s", mj_cu_error(ce->cu));
        return -1;
    }
    return 0;
}

int cuda_debug_check(mj_seqs *s, const char *stage) {
    cuda_engine *ce = s->e->impl;
    if (!ce->debug_sync) return 0;
    if (mj_cu_stream_sync(ce->cu, ce->st) != 0)
        return mj_seqs_fail(s, "after %s: %s", stage, mj_cu_error(ce->cu));
    return 0;
}

void mj_cuda_seqs_stats(const mj_seqs *s, mj_cuda_stats *out) {
    memset(out, 0, sizeof *out);
    if (!s || !s->e->ops || strcmp(s->e->ops->name, "cuda") != 0 || !s->impl) return;
    const cuda_seqs *cs = s->impl;
    const cuda_engine *ce = s->e->impl;
    out->graph_captures = cs->graph_captures;
    out->graph_replays = cs->graph_steps;
    out->load_ms = ce->load_ms;
    out->kernels_ms = ce->k.compile_ms;
    out->kernels_cache_hit = ce->k.cache_hit;
    out->attn_naive = cs->attn.naive;
    out->pdl = ce->pdl;
    out->chunks = cs->n_chunks;
    out->host_prep_ms = cs->t_prep;
    out->host_launch_ms = cs->t_launch;
    out->wait_ms = cs->t_wait;
    out->host_copy_ms = cs->t_copy;
}

int mj_cuda_seqs_trace(mj_seqs *s, int32_t *top1, float *margin) {
    if (!s || !s->e->ops || strcmp(s->e->ops->name, "cuda") != 0 || !s->impl || !top1 || !margin) return -1;
    cuda_seqs *cs = s->impl;
    if (mj_seqs_settle(s) != 0) return -1;   /* the traced step is the caller's next one */
    cs->trace_top1 = top1;
    cs->trace_margin = margin;
    return 0;
}

/* ---- prefix caches -------------------------------------------------------------------------- */

typedef struct cuda_prefix { mj_cu_ptr k, v; } cuda_prefix;   /* [L][n][G*D] each */

static void cuda_prefix_close(mj_prefix *p) {
    cuda_prefix *cp = p->impl;
    if (!cp) return;
    cuda_engine *ce = p->e->impl;
    mj_cu_free(ce->cu, cp->k);
    mj_cu_free(ce->cu, cp->v);
    free(cp);
    p->impl = NULL;
}

/* Prefill the prefix alone under a causal mask and keep its K/V and logits. */
static int cuda_prefix_open(mj_prefix *p, char *err, size_t errn) {
    cuda_engine *ce = p->e->impl;
    if (!ce->causal) {
        static const char src[] = "mask = kv <= q\n";
        mj_diags d;
        mj_diags_init(&d);
        ce->causal = mj_compile_string("<prefix causal>", src, sizeof src - 1, NULL, &d);
        mj_diags_free(&d);
        if (!ce->causal) { snprintf(err, errn, "prefix: cannot compile the causal mask"); return -1; }
    }
    mj_mask_fns fns = mj_interp_fns(ce->causal);
    mj_row_spec spec = {.tokens = p->tokens, .n_tokens = p->n};
    mj_seqs *s = mj_seqs_init(p->e, ce->causal, &fns, 1, &spec, 0, err, errn);
    if (!s) return -1;
    int rc = mj_seqs_prefill(s, p->logits);
    if (rc != 0) snprintf(err, errn, "prefix: %s", mj_seqs_error(s));
    cuda_prefix *cp = rc == 0 ? calloc(1, sizeof *cp) : NULL;
    int64_t gd = (int64_t)ce->G * ce->D, per = (int64_t)p->n * gd * 2;
    if (rc == 0 && cp) {
        p->impl = cp;
        const cuda_seqs *cs = s->impl;
        if (mj_cu_alloc(ce->cu, &cp->k, (size_t)(per * ce->L)) || mj_cu_alloc(ce->cu, &cp->v, (size_t)(per * ce->L)))
            rc = -1;
        for (int32_t l = 0; rc == 0 && l < ce->L; l++) {
            mj_cu_ptr src = (mj_cu_ptr)((int64_t)l * cs->cap_total * gd * 2);
            if (mj_cu_copy_async(ce->cu, cp->k + (mj_cu_ptr)(l * per), cs->kc + src, (size_t)per, ce->st) ||
                mj_cu_copy_async(ce->cu, cp->v + (mj_cu_ptr)(l * per), cs->vc + src, (size_t)per, ce->st))
                rc = -1;
        }
        if (rc == 0 && mj_cu_stream_sync(ce->cu, ce->st) != 0) rc = -1;
        if (rc != 0) snprintf(err, errn, "prefix: %s", mj_cu_error(ce->cu));
    } else if (rc == 0) {
        snprintf(err, errn, "out of memory");
        rc = -1;
    }
    if (rc != 0) cuda_prefix_close(p);
    mj_seqs_free(s);
    return rc;
}

static int cuda_seqs_load_prefix(mj_seqs *s, const mj_prefix *p, char *err, size_t errn) {
    cuda_engine *ce = s->e->impl;
    cuda_seqs *cs = s->impl;
    const cuda_prefix *cp = p->impl;
    int64_t *ks = (int64_t *)((char *)cs->h_in + (cs->d_kstart - cs->in_buf));
    mj_cu_ptr d_ks = cs->d_kstart;
    memcpy(ks, cs->k_start, (size_t)s->n_rows * sizeof *ks);
    int64_t n = p->n, gd = (int64_t)ce->G * ce->D, lt = cs->cap_total;
    void *args[] = {(void *)&cp->k, (void *)&cp->v, &cs->kc, &cs->vc, &d_ks, &n, &gd, &lt};
    if (mj_cu_upload_async(ce->cu, d_ks, ks, (size_t)s->n_rows * 8, ce->st) != 0 ||
        mj_cu_launch_on(ce->cu, ce->st, ce->k.fn[FK_COPY_PREFIX], (unsigned)s->n_rows, (unsigned)ce->L, 1, 256,
                        0, args) != 0 ||
        mj_cu_stream_sync(ce->cu, ce->st) != 0) {
        snprintf(err, errn, "prefix: %s", mj_cu_error(ce->cu));
        return -1;
    }
    for (int r = 0; r < s->n_rows; r++) s->rows[r].done = p->n;
    return 0;
}

/* ---- opening ---------------------------------------------------------------------------------- */

static const mj_engine_ops cuda_ops = {
    .name = "cuda",
    .engine_free = cuda_engine_free,
    .seqs_open = cuda_seqs_open,
    .seqs_close = cuda_seqs_close,
    .seqs_step = cuda_seqs_step,
    .seqs_step_greedy = cuda_seqs_step_greedy,
    .seqs_launch_greedy = cuda_seqs_launch_greedy,
    .seqs_finish_greedy = cuda_seqs_finish_greedy,
    .prefix_open = cuda_prefix_open,
    .prefix_close = cuda_prefix_close,
    .seqs_load_prefix = cuda_seqs_load_prefix,
};

/* Shapes the kernels take: 16-byte rows, even head_dim up to 256, GQA. */
static int check_shape(const mj_model_config *c, char *err, size_t errn) {
    if (c->head_dim < 2 || c->head_dim % 2 || c->head_dim > 256 || c->n_kv_heads < 1 ||
        c->n_heads % c->n_kv_heads || c->hidden % 8 || c->intermediate % 8 ||
        ((int64_t)c->n_heads * c->head_dim) % 8 || ((int64_t)c->n_kv_heads * c->head_dim) % 8) {
        snprintf(err, errn, "CUDA engine: unsupported shape (hidden %d, intermediate %d, %d heads, %d KV heads, "
                 "head_dim %d; needs multiples of 8 and an even head_dim <= 256)", c->hidden, c->intermediate,
                 c->n_heads, c->n_kv_heads, c->head_dim);
        return -1;
    }
    return 0;
}

int mj_cuda_engine_open(mj_engine *e, char *err, size_t errn) {
    const mj_model *m = e->model;
    const mj_model_config *c = &m->cfg;
    if (check_shape(c, err, errn) != 0) return -1;
    char why[512];
    mj_cu *cu = mj_cu_open(why, sizeof why);
    if (!cu) { snprintf(err, errn, "CUDA: %s", why); return -1; }
    double t0 = now_ms();
    cuda_engine *ce = calloc(1, sizeof *ce);
    if (!ce) { snprintf(err, errn, "out of memory"); return -1; }
    ce->cu = cu;
    ce->H = c->n_heads; ce->G = c->n_kv_heads; ce->D = c->head_dim; ce->hid = c->hidden;
    ce->I = c->intermediate; ce->V = c->vocab; ce->L = c->n_layers;
    ce->qkv_n = (ce->H + 2 * ce->G) * ce->D;
    e->impl = ce;
    ce->lw = calloc((size_t)ce->L, sizeof *ce->lw);
    int rc = ce->lw ? 0 : -1;
    if (rc != 0) snprintf(err, errn, "out of memory");
    if (rc == 0 && mj_cu_stream_create(cu, &ce->st) != 0) {
        snprintf(err, errn, "CUDA stream: %s", mj_cu_error(cu));
        rc = -1;
    }
    if (rc == 0 && !(ce->blas = mj_blas_init(cu, 0, why, sizeof why))) {
        snprintf(err, errn, "CUDA: %s", why);
        rc = -1;
    }
    if (rc == 0) rc = mj_fwd_kernels_load(cu, &ce->k, err, errn);
    if (rc == 0) rc = load_model(ce, m, err, errn);
    if (rc != 0) {
        cuda_engine_free(e);
        return -1;
    }
    ce->load_ms = now_ms() - t0;
    e->ops = &cuda_ops;
    return 0;
}
