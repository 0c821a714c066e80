/* cpu_engine.c — the CPU device of the engine: opening (thread pool, RoPE
 * frequencies, OpenBLAS threading), per-batch state (KV caches, activation
 * buffers), splitting a step into forward chunks of whole rows, and prefix
 * caches.  The arithmetic is in cpu_forward.c and cpu_attn.c.
 *
 * Threading: OpenBLAS runs single-threaded inside each call and the engine's
 * own pool splits every matrix product by output columns (and attention by
 * (tile, head)), so exactly `threads` threads compute and nothing
 * oversubscribes the cores. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_internal.h"

/* Tokens per forward chunk (a row's new tokens are never split). */
#define CPU_CHUNK_TOKENS 1024

static void cpu_engine_free(mj_engine *e) {
    cpu_engine *ce = e->impl;
    if (!ce) return;
    cpu_pool_free(ce->pool);
    free(ce->inv_freq);
    free(ce);
    e->impl = NULL;
}

/* ---- per-batch state ---------------------------------------------------------------- */

static void *alloc_f32(int64_t n) { return calloc((size_t)(n > 0 ? n : 1), sizeof(float)); }

static void cpu_seqs_close(mj_seqs *s) {
    cpu_seqs *cs = s->impl;
    if (!cs) return;
    for (int r = 0; cs->kv && r < s->n_rows; r++) {
        free(cs->kv[r].k);
        free(cs->kv[r].v);
    }
    free(cs->kv);
    float *bufs[] = {cs->x, cs->xn, cs->q, cs->k, cs->v, cs->att, cs->gate, cs->up,
                     cs->cos, cs->sin, cs->scratch};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) free(bufs[i]);
    cpu_plan_free(&cs->plan);
    free(cs->batch.rows);
    free(cs->batch.q0);
    free(cs->batch.q1);
    free(cs->batch.off);
    free(cs);
    s->impl = NULL;
}

/* Allocate the KV cache of every row and the activation buffers. */
static int cpu_seqs_open(mj_seqs *s, char *err, size_t errn) {
    const mj_model_config *c = &s->e->model->cfg;
    cpu_engine *ce = s->e->impl;
    cpu_seqs *cs = calloc(1, sizeof *cs);
    if (!cs) { snprintf(err, errn, "out of memory"); return -1; }
    s->impl = cs;
    int64_t B = MJ_ATTN_BLOCK, D = c->head_dim, L = c->n_layers, G = c->n_kv_heads;
    cs->kv = calloc((size_t)s->n_rows, sizeof *cs->kv);
    if (!cs->kv) { snprintf(err, errn, "out of memory"); return -1; }
    int64_t longest = 1, total = 0;
    for (int r = 0; r < s->n_rows; r++) {
        const mj_row *row = &s->rows[r];
        cpu_kv *kv = &cs->kv[r];
        kv->nkb = (int32_t)((row->cap + B - 1) / B);
        kv->cap_pad = (int32_t)(kv->nkb * B);
        int64_t n = L * G * (int64_t)kv->cap_pad * D;
        kv->k = alloc_f32(n);
        kv->v = alloc_f32(n);
        if (!kv->k || !kv->v) {
            snprintf(err, errn, "out of memory for the KV cache (%d rows of up to %d tokens)",
                     s->n_rows, row->cap);
            return -1;
        }
        if (kv->cap_pad > cs->cap_max) cs->cap_max = kv->cap_pad;
        if (row->n_prompt > longest) longest = row->n_prompt;
        total += row->n_prompt;
    }
    int64_t t = total < CPU_CHUNK_TOKENS ? total : CPU_CHUNK_TOKENS;
    if (t < longest) t = longest;
    if (t < s->n_rows) t = s->n_rows;
    cs->t_max = t;
    int64_t hid = c->hidden, qd = (int64_t)c->n_heads * D, kd = G * D, NI = c->intermediate;
    cs->x = alloc_f32(t * hid);
    cs->xn = alloc_f32(t * hid);
    cs->q = alloc_f32(t * qd);
    cs->k = alloc_f32(t * kd);
    cs->v = alloc_f32(t * kd);
    cs->att = alloc_f32(t * qd);
    cs->gate = alloc_f32(t * NI);
    cs->up = alloc_f32(t * NI);
    cs->cos = alloc_f32(t * (D / 2));
    cs->sin = alloc_f32(t * (D / 2));
    cs->scratch = alloc_f32((int64_t)cpu_pool_size(ce->pool) * B * cs->cap_max);
    cs->batch.rows = calloc((size_t)s->n_rows, sizeof *cs->batch.rows);
    cs->batch.q0 = calloc((size_t)s->n_rows, sizeof *cs->batch.q0);
    cs->batch.q1 = calloc((size_t)s->n_rows, sizeof *cs->batch.q1);
    cs->batch.off = calloc((size_t)s->n_rows, sizeof *cs->batch.off);
    if (!cs->x || !cs->xn || !cs->q || !cs->k || !cs->v || !cs->att || !cs->gate || !cs->up ||
        !cs->cos || !cs->sin || !cs->scratch || !cs->batch.rows || !cs->batch.q0 ||
        !cs->batch.q1 || !cs->batch.off) {
        snprintf(err, errn, "out of memory for activations (%lld tokens per chunk)", (long long)t);
        return -1;
    }
    return 0;
}

/* Run every row's pending tokens, in chunks of whole rows of at most t_max
 * tokens. */
static int cpu_seqs_step(mj_seqs *s, float *logits) {
    cpu_seqs *cs = s->impl;
    cpu_batch *b = &cs->batch;
    int r = 0;
    while (r < s->n_rows) {
        b->n = 0;
        b->T = 0;
        for (; r < s->n_rows; r++) {
            mj_row *row = &s->rows[r];
            int64_t n = row->len - row->done;
            if (n <= 0) continue;
            if (b->n > 0 && b->T + n > cs->t_max) break;
            b->rows[b->n] = r;
            b->q0[b->n] = row->done;
            b->q1[b->n] = row->len;
            b->off[b->n] = b->T;
            b->n++;
            b->T += n;
        }
        if (b->n == 0) break;
        if (cpu_forward_chunk(s, b, logits) != 0) return -1;
        for (int c = 0; c < b->n; c++) s->rows[b->rows[c]].done = b->q1[c];
    }
    return 0;
}

/* ---- prefix caches ------------------------------------------------------------------ */

typedef struct cpu_prefix {
    float *k, *v;           /* [L x G x n x D] each, K not transposed */
} cpu_prefix;

static bool causal_mask(const void *ctx, const mj_env *env, int32_t q, int32_t kv, int32_t h) {
    (void)ctx; (void)env; (void)h;
    return kv <= q;
}

static int causal_classify(const void *ctx, const mj_env *env, const mj_summary *sum,
                           const mj_region *r) {
    (void)ctx; (void)env; (void)sum;
    if (r->kv1 <= r->q0) return MJ_BLOCK_FULL;
    if (r->kv0 > r->q1) return MJ_BLOCK_EMPTY;
    return MJ_BLOCK_PARTIAL;
}

/* Copy the K/V of tokens [0, n) of a row cache to/from dense [L x G x n x D]. */
static void kv_copy(const mj_model_config *c, cpu_kv *kv, float *k, float *v, int32_t n,
                    bool to_dense) {
    int64_t B = MJ_ATTN_BLOCK, D = c->head_dim;
    for (int64_t lg = 0; lg < (int64_t)c->n_layers * c->n_kv_heads; lg++) {
        float *kt = kv->k + lg * kv->cap_pad * D, *vr = kv->v + lg * kv->cap_pad * D;
        float *kd = k + lg * n * D, *vd = v + lg * n * D;
        if (to_dense) memcpy(vd, vr, (size_t)(n * D) * sizeof(float));
        else memcpy(vr, vd, (size_t)(n * D) * sizeof(float));
        for (int64_t t = 0; t < n; t++)
            for (int64_t d = 0; d < D; d++) {
                float *slot = kt + (t / B) * D * B + d * B + t % B;
                if (to_dense) kd[t * D + d] = *slot;
                else *slot = kd[t * D + d];
            }
    }
}

static void cpu_prefix_close(mj_prefix *p) {
    cpu_prefix *cp = p->impl;
    if (!cp) return;
    free(cp->k);
    free(cp->v);
    free(cp);
    p->impl = NULL;
}

/* Prefill the prefix alone under a causal mask and keep its K/V and logits. */
static int cpu_prefix_open(mj_prefix *p, char *err, size_t errn) {
    const mj_model_config *c = &p->e->model->cfg;
    static const mj_program causal_prog;   /* no declarations: causal needs none */
    mj_mask_fns fns = {NULL, causal_mask, NULL, NULL, causal_classify};
    mj_row_spec spec = {.tokens = p->tokens, .n_tokens = p->n};
    mj_seqs *s = mj_seqs_init(p->e, &causal_prog, &fns, 1, &spec, 0, err, errn);
    if (!s) return -1;
    int rc = mj_seqs_prefill(s, p->logits);
    if (rc != 0) snprintf(err, errn, "prefix: %s", mj_seqs_error(s));
    cpu_prefix *cp = rc == 0 ? calloc(1, sizeof *cp) : NULL;
    if (rc == 0 && cp) {
        int64_t n = (int64_t)c->n_layers * c->n_kv_heads * p->n * c->head_dim;
        cp->k = alloc_f32(n);
        cp->v = alloc_f32(n);
        p->impl = cp;
        if (cp->k && cp->v) kv_copy(c, &((cpu_seqs *)s->impl)->kv[0], cp->k, cp->v, p->n, true);
        else rc = -1;
    } else if (rc == 0) {
        rc = -1;
    }
    if (rc != 0 && !err[0]) snprintf(err, errn, "out of memory");
    if (rc != 0) cpu_prefix_close(p);
    mj_seqs_free(s);
    return rc;
}

static int cpu_seqs_load_prefix(mj_seqs *s, const mj_prefix *p, char *err, size_t errn) {
    cpu_seqs *cs = s->impl;
    const cpu_prefix *cp = p->impl;
    for (int r = 0; r < s->n_rows; r++) {
        kv_copy(&s->e->model->cfg, &cs->kv[r], cp->k, cp->v, p->n, false);
        s->rows[r].done = p->n;
    }
    return 0;
}

/* ---- opening ------------------------------------------------------------------------- */

static const mj_engine_ops cpu_ops = {
    .name = "cpu",
    .engine_free = cpu_engine_free,
    .seqs_open = cpu_seqs_open,
    .seqs_close = cpu_seqs_close,
    .seqs_step = cpu_seqs_step,
    .prefix_open = cpu_prefix_open,
    .prefix_close = cpu_prefix_close,
    .seqs_load_prefix = cpu_seqs_load_prefix,
};

int mj_cpu_engine_open(mj_engine *e, char *err, size_t errn) {
    const mj_model_config *c = &e->model->cfg;
    if (c->head_dim < 2 || c->head_dim % 2 || c->n_kv_heads < 1 || c->n_heads % c->n_kv_heads) {
        snprintf(err, errn, "cpu engine: unsupported head layout (%d heads, %d KV heads, head_dim %d)",
                 c->n_heads, c->n_kv_heads, c->head_dim);
        return -1;
    }
    cpu_engine *ce = calloc(1, sizeof *ce);
    if (!ce) { snprintf(err, errn, "out of memory"); return -1; }
    ce->m = e->model;
    ce->threads = e->threads;
    ce->pool = cpu_pool_init(e->threads);
    ce->inv_freq = cpu_rope_inv_freq(c);
    if (!ce->pool || !ce->inv_freq) {
        cpu_pool_free(ce->pool);
        free(ce->inv_freq);
        free(ce);
        snprintf(err, errn, "cpu engine: cannot start %d threads", e->threads);
        return -1;
    }
    openblas_set_num_threads(1);
    e->impl = ce;
    e->ops = &cpu_ops;
    return 0;
}
