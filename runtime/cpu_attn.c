/* cpu_attn.c — masked attention of the CPU engine.
 *
 * Plan (once per chunk, shared by every layer): the new queries of each row
 * are cut into tiles aligned to MJ_ATTN_BLOCK; for each tile and key block
 * below seq_len the mask's block classifier says EMPTY (skipped), FULL (no
 * element mask) or PARTIAL (the mask function is evaluated per element once,
 * into one bit word per query; an all-zero block is then skipped and an
 * all-one block is treated as FULL).  When the mask reads `h` the plan is
 * made per head, otherwise once for all heads.
 *
 * Kernel (per layer, per (tile, head), over the pool): logits q.k/sqrt(D) of
 * the visited blocks against the block-transposed K cache (B-wide vector
 * updates), the score function per visible element when the program has one,
 * softmax over the visible keys in float32 as torch does (max, exp(x - max),
 * sum), then P.V scaled by 1/sum.  exp is a branch-free polynomial (about
 * 1 ulp; vectorized).  A query with no visible key gets zeros. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3")
#endif
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_internal.h"

#define B MJ_ATTN_BLOCK

void cpu_plan_free(cpu_plan *p) {
    free(p->tiles);
    free(p->ents);
    free(p->bits);
    memset(p, 0, sizeof *p);
}

/* Grow *buf (elements of size sz, capacity *cap) to hold need elements. */
static int grow(void **buf, int64_t *cap, int64_t need, size_t sz) {
    if (need <= *cap) return 0;
    int64_t n = *cap ? *cap : 64;
    while (n < need) n *= 2;
    void *p = realloc(*buf, (size_t)n * sz);
    if (!p) return -1;
    *buf = p;
    *cap = n;
    return 0;
}

/* Element masks of one PARTIAL block for queries [q0, q1) and keys
 * [k0, k0 + nk): one word per query into p->bits.  Returns the OR and AND
 * of the words (over the nk valid lanes) through any/all. */
static int plan_bits(const mj_seqs *s, mj_row *row, cpu_plan *p, int32_t q0, int32_t q1,
                     int32_t k0, int32_t nk, int32_t h, uint32_t *any, uint32_t *all) {
    if (grow((void **)&p->bits, &p->cap_bits, p->n_bits + (q1 - q0), sizeof *p->bits)) return -1;
    const mj_mask_fns *f = s->fns;
    uint32_t full = nk >= 32 ? 0xffffffffu : ((1u << nk) - 1u);
    uint32_t o = 0, a = full;
    for (int32_t q = q0; q < q1; q++) {
        uint32_t w = 0;
        for (int32_t j = 0; j < nk; j++)
            if (f->mask(f->ctx, &row->env, q, k0 + j, h)) w |= 1u << j;
        p->bits[p->n_bits + (q - q0)] = w;
        o |= w;
        a &= w;
    }
    *any = o;
    *all = a;
    return 0;
}

/* Entries of one tile (row crow, queries [q0, q1), head h or -1). */
static int plan_tile(mj_seqs *s, cpu_plan *p, int crow, mj_row *row, int32_t q0, int32_t q1,
                     int32_t h) {
    if (grow((void **)&p->tiles, &p->cap_tiles, p->n_tiles + 1, sizeof *p->tiles)) return -1;
    int32_t seq = row->env.seq_len, H = row->env.n_heads;
    int32_t nkb = (seq + B - 1) / B;
    if (grow((void **)&p->ents, &p->cap_ents, p->n_ents + nkb, sizeof *p->ents)) return -1;
    cpu_tile *t = &p->tiles[p->n_tiles++];
    *t = (cpu_tile){crow, q0, q1, h, p->n_ents, 0};
    for (int32_t kb = 0; kb < nkb; kb++) {
        int32_t k0 = kb * B, nk = seq - k0 < B ? seq - k0 : B;
        mj_region rg = {q0, q1 - 1, k0, k0 + nk - 1, h < 0 ? 0 : h, h < 0 ? H - 1 : h};
        int cls = s->fns->classify(s->fns->ctx, &row->env, &row->sum, &rg);
        if (cls == MJ_BLOCK_EMPTY) continue;
        int64_t bits = -1;
        if (cls != MJ_BLOCK_FULL) {
            uint32_t any, all;
            if (plan_bits(s, row, p, q0, q1, k0, nk, h < 0 ? 0 : h, &any, &all)) return -1;
            uint32_t full = nk >= 32 ? 0xffffffffu : ((1u << nk) - 1u);
            if (!any) continue;
            if (all != full) {
                bits = p->n_bits;
                p->n_bits += q1 - q0;
            }
        }
        p->ents[p->n_ents++] = (cpu_entry){kb, nk, bits};
        t->n++;
    }
    return 0;
}

int cpu_attn_plan(mj_seqs *s, const cpu_batch *b) {
    cpu_seqs *cs = s->impl;
    cpu_plan *p = &cs->plan;
    p->n_tiles = p->n_ents = p->n_bits = 0;
    int32_t H = s->e->model->cfg.n_heads;
    for (int c = 0; c < b->n; c++) {
        mj_row *row = &s->rows[b->rows[c]];
        for (int32_t q0 = b->q0[c]; q0 < b->q1[c];) {
            int32_t q1 = (q0 / B + 1) * B;
            if (q1 > b->q1[c]) q1 = b->q1[c];
            for (int32_t h = s->mask_uses_h ? 0 : -1; h < (s->mask_uses_h ? H : 0); h++)
                if (plan_tile(s, p, c, row, q0, q1, h) != 0)
                    return mj_seqs_fail(s, "out of memory for the attention plan");
            q0 = q1;
        }
    }
    return 0;
}

/* ---- kernel ------------------------------------------------------------------------ */

typedef struct attn_job {
    mj_seqs *s;
    const cpu_batch *b;
    int32_t l;
    int32_t H, G, D;
    float scale;
} attn_job;

/* srow[0..B) = sum_d q[d] * kt[d*B + j]: B-wide updates, d in order. */
#define ATTN_INLINE static inline __attribute__((always_inline))

/* srow[0..B) = sum_d q[d] * kt[d*B + j]: B-wide updates, d in order. */
ATTN_INLINE void qk_block(const float *restrict q, const float *restrict kt, int32_t D,
                          float *restrict srow) {
    float acc[B];
    for (int j = 0; j < B; j++) acc[j] = 0.0f;
    for (int32_t d = 0; d < D; d++) {
        float qd = q[d];
        const float *kr = kt + (int64_t)d * B;
        for (int j = 0; j < B; j++) acc[j] += qd * kr[j];
    }
    for (int j = 0; j < B; j++) srow[j] = acc[j];
}

/* exp(x) for x <= 0 (softmax arguments), 0 below -87 (and for -inf): the
 * Cephes expf reduction and polynomial (about 1 ulp), branch-free so that
 * it vectorizes. */
ATTN_INLINE float exp_nonpos(float x) {
    float xc = x < -87.0f ? -87.0f : x;
    /* n = nearest integer to xc*log2(e), by the 1.5*2^23 shift (no
     * float<->int conversion: GCC does not vectorize that round trip) */
    float shifted = xc * 1.44269504088896341f + 12582912.0f;
    float n = shifted - 12582912.0f;
    int32_t ni;
    memcpy(&ni, &shifted, sizeof ni);
    ni -= 0x4b400000;
    float r = xc - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float z = r * r;
    float y = (((((1.9875691500e-4f * r + 1.3981999507e-3f) * r + 8.3334519073e-3f) * r +
                 4.1665795894e-2f) * r + 1.6666665459e-1f) * r + 5.0000001201e-1f) * z + r + 1.0f;
    int32_t bits = (ni + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return x < -87.0f ? 0.0f : y * scale;
}

/* out[0..D) += sum over the block's keys j < nk of p[j] * v[j][0..D), four
 * keys per pass over out (lanes past nk have p = 0 and finite v). */
ATTN_INLINE void pv_block(float *restrict out, const float *restrict p,
                          const float *restrict v, int32_t nk, int32_t D) {
    for (int32_t j = 0; j < nk; j += 4) {
        float p0 = p[j], p1 = p[j + 1], p2 = p[j + 2], p3 = p[j + 3];
        if (p0 == 0.0f && p1 == 0.0f && p2 == 0.0f && p3 == 0.0f) continue;
        const float *v0 = v + (int64_t)j * D, *v1 = v0 + D, *v2 = v1 + D, *v3 = v2 + D;
        for (int32_t d = 0; d < D; d++) out[d] += (p0 * v0[d] + p1 * v1[d]) + (p2 * v2[d] + p3 * v3[d]);
    }
}

/* Logits of query i (absolute qa) of tile t against every visited block,
 * masked lanes set to -inf; returns the maximum. */
ATTN_INLINE float tile_logits(const attn_job *a, const cpu_tile *t, int32_t h, int32_t i,
                              const float *qv, const float *kbase, float *srow) {
    const mj_seqs *s = a->s;
    const cpu_plan *p = &((cpu_seqs *)s->impl)->plan;
    const mj_mask_fns *f = s->fns;
    const mj_row *row = &s->rows[a->b->rows[t->crow]];
    int32_t qa = t->q0 + i;
    float mx[B];
    for (int j = 0; j < B; j++) mx[j] = -INFINITY;
    for (int64_t e = t->first; e < t->first + t->n; e++) {
        const cpu_entry *en = &p->ents[e];
        float *sr = srow + (int64_t)en->kb * B;
        qk_block(qv, kbase + (int64_t)en->kb * a->D * B, a->D, sr);
        uint32_t w = en->bits < 0 ? 0xffffffffu : p->bits[en->bits + i];
        if (en->nk < B) w &= (1u << en->nk) - 1u;
        for (int j = 0; j < B; j++) {
            float x = sr[j] * a->scale;
            sr[j] = ((w >> j) & 1u) ? x : -INFINITY;
        }
        if (f->score)
            for (int j = 0; j < en->nk; j++)
                if ((w >> j) & 1u) sr[j] = f->score(f->ctx, &row->env, qa, en->kb * B + j, h, sr[j]);
        for (int j = 0; j < B; j++) mx[j] = sr[j] > mx[j] ? sr[j] : mx[j];
    }
    float m = -INFINITY;
    for (int j = 0; j < B; j++) m = mx[j] > m ? mx[j] : m;
    return m;
}

/* exp(s - m) over the visited blocks in place; returns the sum. */
ATTN_INLINE float tile_exp(const cpu_plan *p, const cpu_tile *t, float *srow, float m) {
    float part[B];
    for (int j = 0; j < B; j++) part[j] = 0.0f;
    for (int64_t e = t->first; e < t->first + t->n; e++) {
        float *sr = srow + (int64_t)p->ents[e].kb * B;
        for (int j = 0; j < B; j++) {
            sr[j] = exp_nonpos(sr[j] - m);
            part[j] += sr[j];
        }
    }
    float sum = 0.0f;
    for (int j = 0; j < B; j++) sum += part[j];
    return sum;
}

/* Cloned per instruction set (the default x86-64 build has only SSE2); the
 * helpers above inline into each clone. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
static void attn_task(void *ctx, int64_t item, int tid) {
    const attn_job *a = ctx;
    const mj_seqs *s = a->s;
    const cpu_seqs *cs = s->impl;
    const cpu_plan *p = &cs->plan;
    bool shared = !s->mask_uses_h;
    const cpu_tile *t = &p->tiles[shared ? item / a->H : item];
    int32_t h = shared ? (int32_t)(item % a->H) : t->h;
    int32_t row_id = a->b->rows[t->crow];
    const cpu_kv *kv = &cs->kv[row_id];
    int64_t g = h / (a->H / a->G), D = a->D, QD = (int64_t)a->H * D;
    int64_t base = ((int64_t)a->l * a->G + g) * kv->cap_pad * D;
    const float *kbase = kv->k + base, *vbase = kv->v + base;
    float *srow = cs->scratch + (int64_t)tid * B * cs->cap_max;
    int64_t tok0 = a->b->off[t->crow] + (t->q0 - a->b->q0[t->crow]);
    for (int32_t i = 0; i < t->q1 - t->q0; i++) {
        const float *qv = cs->q + (tok0 + i) * QD + h * D;
        float *out = cs->att + (tok0 + i) * QD + h * D;
        memset(out, 0, (size_t)D * sizeof *out);
        float m = tile_logits(a, t, h, i, qv, kbase, srow);
        if (m == -INFINITY) continue;                 /* no visible key: zeros */
        float inv = 1.0f / tile_exp(p, t, srow, m);
        for (int64_t e = t->first; e < t->first + t->n; e++) {
            const cpu_entry *en = &p->ents[e];
            const float *sr = srow + (int64_t)en->kb * B;
            const float *vb = vbase + (int64_t)en->kb * B * D;
            int32_t nk4 = (en->nk + 3) & ~3;
            if (D == 64) pv_block(out, sr, vb, nk4, 64);
            else if (D == 128) pv_block(out, sr, vb, nk4, 128);
            else pv_block(out, sr, vb, nk4, (int32_t)D);
        }
        for (int64_t d = 0; d < D; d++) out[d] *= inv;
    }
}

void cpu_attn_layer(mj_seqs *s, const cpu_batch *b, int32_t l) {
    const mj_model_config *c = &s->e->model->cfg;
    cpu_engine *ce = s->e->impl;
    const cpu_plan *p = &((cpu_seqs *)s->impl)->plan;
    attn_job a = {s, b, l, c->n_heads, c->n_kv_heads, c->head_dim,
                  (float)(1.0 / sqrt((double)c->head_dim))};
    int64_t items = s->mask_uses_h ? p->n_tiles : p->n_tiles * c->n_heads;
    cpu_pool_run(ce->pool, items, attn_task, &a);
}
