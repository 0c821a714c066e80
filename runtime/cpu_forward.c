/* cpu_forward.c — the f32 transformer forward of the CPU engine for one chunk
 * of packed tokens: embedding, RMSNorm, Q/K/V projections (one GEMM each over
 * every token of the chunk, + bias for Qwen2), per-head q/k RMSNorm (Qwen3),
 * RoPE in HF's rotate_half convention, K/V into the caches, attention
 * (cpu_attn.c), output projection, SwiGLU MLP, residuals, final norm and
 * lm_head for each row's last token.  Numerics follow HF transformers in
 * float32 (RMSNorm as x * rsqrt(mean(x^2) + eps) then * weight; SiLU as
 * x / (1 + exp(-x)); inv_freq and llama3 scaling as
 * _compute_default_rope_parameters / _compute_llama3_parameters). */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_internal.h"

/* ---- RoPE frequencies ----------------------------------------------------------------- */

float *cpu_rope_inv_freq(const mj_model_config *c) {
    int32_t half = c->head_dim / 2;
    float *f = malloc((size_t)(half > 0 ? half : 1) * sizeof *f);
    if (!f) return NULL;
    float dim = (float)c->head_dim;
    for (int32_t i = 0; i < half; i++) {
        float e = (float)(2 * i) / dim;
        f[i] = 1.0f / (float)pow((double)c->rope_theta, (double)e);
    }
    if (c->rope_type != 1) return f;
    /* llama3: transformers' _compute_llama3_parameters, in float32. */
    float factor = c->rope_factor, lo = c->rope_low_freq_factor, hi = c->rope_high_freq_factor;
    double old = (double)c->rope_orig_max_pos;
    float lo_wavelen = (float)(old / lo), hi_wavelen = (float)(old / hi);
    for (int32_t i = 0; i < half; i++) {
        float wavelen = (float)(2.0 * M_PI) / f[i];
        float inv = wavelen > lo_wavelen ? f[i] / factor : f[i];
        float smooth = ((float)old / wavelen - lo) / (hi - lo);
        float smoothed = (1.0f - smooth) * inv / factor + smooth * inv;
        bool medium = !(wavelen < hi_wavelen) && !(wavelen > lo_wavelen);
        f[i] = medium ? smoothed : inv;
    }
    return f;
}

/* ---- parallel helpers ----------------------------------------------------------------- */

typedef struct gemm_job {
    int64_t M, N, K, ldy, slice;
    const float *X, *W;
    float *Y;
    float beta;
} gemm_job;

/* Columns [i*slice, (i+1)*slice) of Y: one GEMM. */
static void gemm_task(void *ctx, int64_t i, int tid) {
    (void)tid;
    const gemm_job *g = ctx;
    int64_t n0 = i * g->slice, n1 = n0 + g->slice < g->N ? n0 + g->slice : g->N;
    if (n1 <= n0) return;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)g->M, (blasint)(n1 - n0),
                (blasint)g->K, 1.0f, g->X, (blasint)g->K, g->W + n0 * g->K, (blasint)g->K,
                g->beta, g->Y + n0, (blasint)g->ldy);
}

/* Same for a few rows of X with cpu_gemm_small (no packing of W). */
static void small_task(void *ctx, int64_t i, int tid) {
    (void)tid;
    const gemm_job *g = ctx;
    int64_t n0 = i * g->slice, n1 = n0 + g->slice < g->N ? n0 + g->slice : g->N;
    if (n1 > n0) cpu_gemm_small(g->M, n0, n1, g->K, g->X, g->W, g->Y, g->ldy, g->beta);
}

/* Rows of X up to which cpu_gemm_small is used. */
#define SMALL_MAX_ROWS 8

void cpu_gemm_xwt(cpu_engine *ce, int64_t M, int64_t N, int64_t K, const float *X,
                  const float *W, float *Y, int64_t ldy, float beta) {
    int nt = cpu_pool_size(ce->pool);
    gemm_job g = {M, N, K, ldy, 0, X, W, Y, beta};
    if (M <= SMALL_MAX_ROWS) {
        /* a few slices per thread for balance; multiples of 4 rows of W */
        g.slice = (N + 4 * nt - 1) / (4 * nt);
        g.slice = (g.slice + 3) / 4 * 4;
        if (g.slice < 16) g.slice = 16;
        cpu_pool_run(ce->pool, (N + g.slice - 1) / g.slice, small_task, &g);
        return;
    }
    /* enough columns per slice to keep BLAS efficient; multiple of 16 */
    int64_t parts = nt * (M > 64 ? 1 : 2);
    int64_t slice = (N + parts - 1) / parts;
    slice = (slice + 15) / 16 * 16;
    if (slice < 64) slice = 64;
    g.slice = slice;
    cpu_pool_run(ce->pool, (N + slice - 1) / slice, gemm_task, &g);
}

/* Rows [r0, r1) of a [rows x cols] job split evenly over the pool. */
typedef void (*rows_fn)(void *ctx, int64_t r0, int64_t r1);
typedef struct rows_job { rows_fn fn; void *ctx; int64_t n, per; } rows_job;

static void rows_task(void *ctx, int64_t i, int tid) {
    (void)tid;
    rows_job *j = ctx;
    int64_t r0 = i * j->per, r1 = r0 + j->per < j->n ? r0 + j->per : j->n;
    if (r1 > r0) j->fn(j->ctx, r0, r1);
}

static void run_rows(cpu_engine *ce, int64_t n, int64_t min_per, rows_fn fn, void *ctx) {
    int nt = cpu_pool_size(ce->pool);
    int64_t per = (n + nt - 1) / nt;
    if (per < min_per) per = min_per;
    rows_job j = {fn, ctx, n, per};
    cpu_pool_run(ce->pool, (n + per - 1) / per, rows_task, &j);
}

/* ---- element-wise pieces ---------------------------------------------------------------- */

/* out = x * rsqrt(mean(x^2) + eps) * w over one vector of n. */
static void rmsnorm_vec(float *out, const float *x, const float *w, int64_t n, float eps) {
    double ss = 0.0;
    for (int64_t i = 0; i < n; i++) ss += (double)x[i] * (double)x[i];
    float r = 1.0f / sqrtf((float)(ss / (double)n) + eps);
    for (int64_t i = 0; i < n; i++) out[i] = w[i] * (x[i] * r);
}

typedef struct norm_job {
    float *out;
    const float *x, *w;
    int64_t n, stride;
    float eps;
} norm_job;

static void norm_rows(void *ctx, int64_t r0, int64_t r1) {
    norm_job *j = ctx;
    for (int64_t r = r0; r < r1; r++)
        rmsnorm_vec(j->out + r * j->stride, j->x + r * j->stride, j->w, j->n, j->eps);
}

static void rmsnorm_rows(cpu_engine *ce, float *out, const float *x, const float *w,
                         int64_t rows, int64_t n, float eps) {
    norm_job j = {out, x, w, n, n, eps};
    run_rows(ce, rows, 8, norm_rows, &j);
}

/* Rotate one head vector in place (HF rotate_half): x[i], x[i + half]. */
static void rope_vec(float *x, const float *cs, const float *sn, int64_t half) {
    for (int64_t i = 0; i < half; i++) {
        float a = x[i], b = x[i + half];
        x[i] = a * cs[i] - b * sn[i];
        x[i + half] = b * cs[i] + a * sn[i];
    }
}

typedef struct qk_job {
    const mj_model_config *c;
    const mj_layer *ly;
    float *q, *k;
    const float *cos, *sin;
} qk_job;

/* Per-head q/k norm (Qwen3) then RoPE for tokens [r0, r1). */
static void qk_rows(void *ctx, int64_t r0, int64_t r1) {
    qk_job *j = ctx;
    int64_t D = j->c->head_dim, half = D / 2, H = j->c->n_heads, G = j->c->n_kv_heads;
    for (int64_t t = r0; t < r1; t++) {
        const float *cs = j->cos + t * half, *sn = j->sin + t * half;
        for (int64_t h = 0; h < H + G; h++) {
            float *x = h < H ? j->q + (t * H + h) * D : j->k + (t * G + h - H) * D;
            if (j->ly->q_norm && h < H) rmsnorm_vec(x, x, j->ly->q_norm, D, j->c->rms_eps);
            if (j->ly->k_norm && h >= H) rmsnorm_vec(x, x, j->ly->k_norm, D, j->c->rms_eps);
            rope_vec(x, cs, sn, half);
        }
    }
}

typedef struct swiglu_job { float *gate; const float *up; int64_t n; } swiglu_job;

static void swiglu_rows(void *ctx, int64_t r0, int64_t r1) {
    swiglu_job *j = ctx;
    for (int64_t i = r0 * j->n; i < r1 * j->n; i++) {
        float g = j->gate[i];
        j->gate[i] = g / (1.0f + expf(-g)) * j->up[i];
    }
}

/* Broadcast a bias row into Y[M x N] (the GEMM then adds with beta = 1). */
static void bias_rows(float *Y, const float *bias, int64_t M, int64_t N) {
    for (int64_t m = 0; m < M; m++) memcpy(Y + m * N, bias, (size_t)N * sizeof *Y);
}

/* ---- the chunk ---------------------------------------------------------------------------- */

/* cos/sin of every packed token's rotary position. */
static void chunk_rope_tables(mj_seqs *s, const cpu_batch *b) {
    cpu_engine *ce = s->e->impl;
    cpu_seqs *cs = s->impl;
    int64_t half = s->e->model->cfg.head_dim / 2;
    for (int c = 0; c < b->n; c++) {
        const mj_row *row = &s->rows[b->rows[c]];
        for (int32_t qa = b->q0[c]; qa < b->q1[c]; qa++) {
            int64_t t = b->off[c] + (qa - b->q0[c]);
            float pos = (float)row->pos[qa];
            for (int64_t i = 0; i < half; i++) {
                float fr = ce->inv_freq[i] * pos;
                cs->cos[t * half + i] = (float)cos((double)fr);
                cs->sin[t * half + i] = (float)sin((double)fr);
            }
        }
    }
}

/* K/V of the chunk's tokens into the row caches (K transposed by blocks). */
static void chunk_store_kv(mj_seqs *s, const cpu_batch *b, int32_t l) {
    const mj_model_config *c = &s->e->model->cfg;
    cpu_seqs *cs = s->impl;
    int64_t B = MJ_ATTN_BLOCK, D = c->head_dim, G = c->n_kv_heads;
    for (int ci = 0; ci < b->n; ci++) {
        cpu_kv *kv = &cs->kv[b->rows[ci]];
        for (int32_t qa = b->q0[ci]; qa < b->q1[ci]; qa++) {
            int64_t t = b->off[ci] + (qa - b->q0[ci]);
            for (int64_t g = 0; g < G; g++) {
                int64_t base = ((int64_t)l * G + g) * kv->cap_pad * D;
                const float *ks = cs->k + (t * G + g) * D, *vs = cs->v + (t * G + g) * D;
                float *kt = kv->k + base + (qa / B) * D * B + qa % B;
                for (int64_t d = 0; d < D; d++) kt[d * B] = ks[d];
                memcpy(kv->v + base + (int64_t)qa * D, vs, (size_t)D * sizeof *vs);
            }
        }
    }
}

/* One decoder layer over the chunk. */
static void chunk_layer(mj_seqs *s, const cpu_batch *b, int32_t l) {
    const mj_model_config *c = &s->e->model->cfg;
    const mj_layer *ly = &s->e->model->layers[l];
    cpu_engine *ce = s->e->impl;
    cpu_seqs *cs = s->impl;
    int64_t T = b->T, Hd = c->hidden, D = c->head_dim;
    int64_t QD = (int64_t)c->n_heads * D, KD = (int64_t)c->n_kv_heads * D, NI = c->intermediate;

    rmsnorm_rows(ce, cs->xn, cs->x, ly->attn_norm, T, Hd, c->rms_eps);
    if (ly->bq) bias_rows(cs->q, ly->bq, T, QD);
    if (ly->bk) bias_rows(cs->k, ly->bk, T, KD);
    if (ly->bv) bias_rows(cs->v, ly->bv, T, KD);
    cpu_gemm_xwt(ce, T, QD, Hd, cs->xn, ly->wq, cs->q, QD, ly->bq ? 1.0f : 0.0f);
    cpu_gemm_xwt(ce, T, KD, Hd, cs->xn, ly->wk, cs->k, KD, ly->bk ? 1.0f : 0.0f);
    cpu_gemm_xwt(ce, T, KD, Hd, cs->xn, ly->wv, cs->v, KD, ly->bv ? 1.0f : 0.0f);
    qk_job qj = {c, ly, cs->q, cs->k, cs->cos, cs->sin};
    run_rows(ce, T, 4, qk_rows, &qj);
    chunk_store_kv(s, b, l);
    cpu_attn_layer(s, b, l);
    cpu_gemm_xwt(ce, T, Hd, QD, cs->att, ly->wo, cs->x, Hd, 1.0f);

    rmsnorm_rows(ce, cs->xn, cs->x, ly->ffn_norm, T, Hd, c->rms_eps);
    cpu_gemm_xwt(ce, T, NI, Hd, cs->xn, ly->w_gate, cs->gate, NI, 0.0f);
    cpu_gemm_xwt(ce, T, NI, Hd, cs->xn, ly->w_up, cs->up, NI, 0.0f);
    swiglu_job sj = {cs->gate, cs->up, NI};
    run_rows(ce, T, 4, swiglu_rows, &sj);
    cpu_gemm_xwt(ce, T, Hd, NI, cs->gate, ly->w_down, cs->x, Hd, 1.0f);
}

/* Final norm and lm_head for each chunk row's last token, written straight
 * into logits rows (runs of consecutive batch rows share one GEMM). */
static void chunk_logits(mj_seqs *s, const cpu_batch *b, float *logits) {
    const mj_model *m = s->e->model;
    cpu_engine *ce = s->e->impl;
    cpu_seqs *cs = s->impl;
    int64_t Hd = m->cfg.hidden, V = m->cfg.vocab;
    for (int c = 0; c < b->n; c++) {
        int64_t last = b->off[c] + (b->q1[c] - b->q0[c]) - 1;
        rmsnorm_vec(cs->xn + c * Hd, cs->x + last * Hd, m->final_norm, Hd, m->cfg.rms_eps);
    }
    for (int c0 = 0; c0 < b->n;) {
        int c1 = c0 + 1;
        while (c1 < b->n && b->rows[c1] == b->rows[c1 - 1] + 1) c1++;
        cpu_gemm_xwt(ce, c1 - c0, V, Hd, cs->xn + c0 * Hd, m->lm_head,
                     logits + (int64_t)b->rows[c0] * V, V, 0.0f);
        c0 = c1;
    }
}

int cpu_forward_chunk(mj_seqs *s, const cpu_batch *b, float *logits) {
    const mj_model *m = s->e->model;
    cpu_seqs *cs = s->impl;
    int64_t Hd = m->cfg.hidden;
    for (int c = 0; c < b->n; c++) {
        const mj_row *row = &s->rows[b->rows[c]];
        for (int32_t qa = b->q0[c]; qa < b->q1[c]; qa++)
            memcpy(cs->x + (b->off[c] + qa - b->q0[c]) * Hd,
                   m->embed + (int64_t)row->tokens[qa] * Hd, (size_t)Hd * sizeof(float));
    }
    if (cpu_attn_plan(s, b) != 0) return -1;
    chunk_rope_tables(s, b);
    for (int32_t l = 0; l < m->cfg.n_layers; l++) chunk_layer(s, b, l);
    chunk_logits(s, b, logits);
    return 0;
}
