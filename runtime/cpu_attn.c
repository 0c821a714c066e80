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
 * Kernel (per layer, per (tile, head), over the pool; key blocks outer and
 * the tile's queries inner, so each K/V block is read once per tile): logits
 * q.k/sqrt(D) against the block-transposed K cache (B-wide FMAs, four queries
 * per K load), the score function per visible element when the program has one,
 * softmax over the visible keys in float32 as torch does (max, exp(x - max),
 * sum), then P.V scaled by 1/sum.  exp is a branch-free polynomial (about
 * 1 ulp; vectorized).  A query with no visible key gets zeros. */
#if defined(__GNUC__) && !defined(__clang__)
/* O3 for the vectorizer; fused multiply-add where the clone's ISA has it
 * (the project builds with -ffp-contract=off so that the mask programs'
 * float arithmetic is the same everywhere; attention arithmetic is not a
 * mask semantic, and HF's kernels fuse too). */
#pragma GCC optimize("O3", "fp-contract=fast")
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
    int32_t crow;           /* set per task: the tile's chunk row */
} attn_job;

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

/* 16 floats in one vector (unaligned access allowed); GCC lowers it to the
 * clone's register width. */
typedef float v16 __attribute__((vector_size(64), aligned(4)));

/* The same for four queries at once (q + k*qs, out + k*ss): each K row is
 * loaded once for four queries; the 8 accumulators stay in registers. */
ATTN_INLINE void qk_block4(const float *restrict q, int64_t qs, const float *restrict kt,
                           int32_t D, float *restrict out, int64_t ss) {
    _Static_assert(B == 32, "qk_block4 is written for 32-key blocks");
    v16 a00 = {0}, a01 = {0}, a10 = {0}, a11 = {0}, a20 = {0}, a21 = {0}, a30 = {0}, a31 = {0};
    for (int32_t d = 0; d < D; d++) {
        const float *kr = kt + (int64_t)d * B;
        v16 k0 = *(const v16 *)kr, k1 = *(const v16 *)(kr + 16);
        float x0 = q[d], x1 = q[qs + d], x2 = q[2 * qs + d], x3 = q[3 * qs + d];
        a00 += x0 * k0; a01 += x0 * k1;
        a10 += x1 * k0; a11 += x1 * k1;
        a20 += x2 * k0; a21 += x2 * k1;
        a30 += x3 * k0; a31 += x3 * k1;
    }
    *(v16 *)out = a00;            *(v16 *)(out + 16) = a01;
    *(v16 *)(out + ss) = a10;     *(v16 *)(out + ss + 16) = a11;
    *(v16 *)(out + 2 * ss) = a20; *(v16 *)(out + 2 * ss + 16) = a21;
    *(v16 *)(out + 3 * ss) = a30; *(v16 *)(out + 3 * ss + 16) = a31;
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

/* out[0..D) += sum over the block's keys j < nk of p[j] * v[j][0..D).
 * D = 64 and 128 keep the accumulators in registers. */
ATTN_INLINE void pv_block(float *restrict out, const float *restrict p,
                          const float *restrict v, int32_t nk, int32_t D) {
    if (D == 64) {
        v16 c0 = {0}, c1 = {0}, c2 = {0}, c3 = {0};
        for (int32_t j = 0; j < nk; j++) {
            const float *vj = v + (int64_t)j * 64;
            float pj = p[j];
            c0 += pj * *(const v16 *)vj;        c1 += pj * *(const v16 *)(vj + 16);
            c2 += pj * *(const v16 *)(vj + 32); c3 += pj * *(const v16 *)(vj + 48);
        }
        *(v16 *)out += c0; *(v16 *)(out + 16) += c1;
        *(v16 *)(out + 32) += c2; *(v16 *)(out + 48) += c3;
        return;
    }
    if (D == 128) {
        v16 c[8] = {{0}};
        for (int32_t j = 0; j < nk; j++) {
            const float *vj = v + (int64_t)j * 128;
            float pj = p[j];
            for (int k = 0; k < 8; k++) c[k] += pj * *(const v16 *)(vj + 16 * k);
        }
        for (int k = 0; k < 8; k++) *(v16 *)(out + 16 * k) += c[k];
        return;
    }
    for (int32_t j = 0; j < nk; j++)
        for (int32_t d = 0; d < D; d++) out[d] += p[j] * v[(int64_t)j * D + d];
}

/* Finish the raw dot products srow[0..B) of one key block for query i
 * (absolute qa): scaled, score applied, masked lanes -inf; the lane maxima
 * folded into mx. */
ATTN_INLINE void block_logits(const attn_job *a, const cpu_entry *en, const uint32_t *bits,
                              int32_t i, int32_t qa, int32_t h, float *srow, float *mx) {
    const mj_mask_fns *f = a->s->fns;
    uint32_t w = en->bits < 0 ? 0xffffffffu : bits[en->bits + i];
    if (en->nk < B) w &= (1u << en->nk) - 1u;
    for (int j = 0; j < B; j++) {
        float x = srow[j] * a->scale;
        srow[j] = ((w >> j) & 1u) ? x : -INFINITY;
    }
    if (f->score) {
        const mj_env *env = &a->s->rows[a->b->rows[a->crow]].env;
        for (int j = 0; j < en->nk; j++)
            if ((w >> j) & 1u) srow[j] = f->score(f->ctx, env, qa, en->kb * B + j, h, srow[j]);
    }
    for (int j = 0; j < B; j++) mx[j] = srow[j] > mx[j] ? srow[j] : mx[j];
}

/* exp(s - m) over the visited blocks of one query in place; returns the sum. */
ATTN_INLINE float row_exp(const cpu_plan *p, const cpu_tile *t, float *srow, float m) {
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

/* One (tile, head): key blocks in the outer loop and the tile's queries
 * inside, so that each K and V block is read once per tile (from L1)
 * rather than once per query.  Cloned per instruction set (the default
 * x86-64 build has only SSE2); the helpers above inline into each clone. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
static void attn_task(void *ctx, int64_t item, int tid) {
    attn_job a = *(const attn_job *)ctx;
    const cpu_seqs *cs = a.s->impl;
    const cpu_plan *p = &cs->plan;
    bool shared = !a.s->mask_uses_h;
    const cpu_tile *t = &p->tiles[shared ? item / a.H : item];
    int32_t h = shared ? (int32_t)(item % a.H) : t->h, nq = t->q1 - t->q0;
    a.crow = t->crow;
    const cpu_kv *kv = &cs->kv[a.b->rows[t->crow]];
    int64_t g = h / (a.H / a.G), D = a.D, QD = (int64_t)a.H * D, ld = cs->cap_max;
    int64_t base = ((int64_t)a.l * a.G + g) * kv->cap_pad * D;
    const float *kbase = kv->k + base, *vbase = kv->v + base;
    float *S = cs->scratch + (int64_t)tid * B * ld;
    int64_t tok0 = a.b->off[t->crow] + (t->q0 - a.b->q0[t->crow]);
    float mx[B][B], inv[B];
    for (int32_t i = 0; i < nq; i++)
        for (int j = 0; j < B; j++) mx[i][j] = -INFINITY;
    for (int64_t e = t->first; e < t->first + t->n; e++) {
        const cpu_entry *en = &p->ents[e];
        const float *kt = kbase + (int64_t)en->kb * D * B;
        float *sb = S + (int64_t)en->kb * B;
        const float *qb = cs->q + tok0 * QD + h * D;
        int32_t i = 0;
        for (; i + 4 <= nq; i += 4) qk_block4(qb + i * QD, QD, kt, (int32_t)D, sb + i * ld, ld);
        for (; i < nq; i++) qk_block(qb + i * QD, kt, (int32_t)D, sb + i * ld);
        for (i = 0; i < nq; i++) block_logits(&a, en, p->bits, i, t->q0 + i, h, sb + i * ld, mx[i]);
    }
    for (int32_t i = 0; i < nq; i++) {
        float m = -INFINITY;
        for (int j = 0; j < B; j++) m = mx[i][j] > m ? mx[i][j] : m;
        inv[i] = m == -INFINITY ? 0.0f : 1.0f / row_exp(p, t, S + i * ld, m);
        memset(cs->att + (tok0 + i) * QD + h * D, 0, (size_t)D * sizeof(float));
    }
    for (int64_t e = t->first; e < t->first + t->n; e++) {
        const cpu_entry *en = &p->ents[e];
        const float *vb = vbase + (int64_t)en->kb * B * D;
        for (int32_t i = 0; i < nq; i++) {
            if (inv[i] == 0.0f) continue;             /* no visible key: zeros */
            float *out = cs->att + (tok0 + i) * QD + h * D;
            const float *sr = S + i * ld + (int64_t)en->kb * B;
            pv_block(out, sr, vb, en->nk, (int32_t)D);
        }
    }
    for (int32_t i = 0; i < nq; i++) {
        float *out = cs->att + (tok0 + i) * QD + h * D;
        for (int64_t d = 0; d < D; d++) out[d] *= inv[i];
    }
}

void cpu_attn_layer(mj_seqs *s, const cpu_batch *b, int32_t l) {
    const mj_model_config *c = &s->e->model->cfg;
    cpu_engine *ce = s->e->impl;
    const cpu_plan *p = &((cpu_seqs *)s->impl)->plan;
    attn_job a = {s, b, l, c->n_heads, c->n_kv_heads, c->head_dim,
                  (float)(1.0 / sqrt((double)c->head_dim)), 0};
    int64_t items = s->mask_uses_h ? p->n_tiles : p->n_tiles * c->n_heads;
    cpu_pool_run(ce->pool, items, attn_task, &a);
}
