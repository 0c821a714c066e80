/* test_runtime_engine.c — the CPU engine against a direct, naive reference
 * forward (dense loops, per-element mask/score/position calls, softmax in
 * double) on small random models of the three architectures: masks with
 * empty query rows (zeros), head-dependent masks with a score, a position
 * program, a non-causal prompt; block skipping against the dense element
 * path; batched rows of different lengths against each row alone; prefill +
 * decode against full recompute; prefix caches; per-row stops. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "engine.h"
#include "interp.h"
#include "jit.h"
#include "support/test_model.h"
#include "support/testlib.h"
#include "tokenizer.h"

/* ---- the naive reference ----------------------------------------------------------- */

static void ref_norm(float *out, const float *x, const float *w, int64_t n, float eps) {
    double ss = 0;
    for (int64_t i = 0; i < n; i++) ss += (double)x[i] * x[i];
    double r = 1.0 / sqrt(ss / (double)n + eps);
    for (int64_t i = 0; i < n; i++) out[i] = (float)(w[i] * (x[i] * r));
}

static void ref_linear(float *y, const float *W, const float *bias, const float *x, int64_t out,
                       int64_t in) {
    for (int64_t o = 0; o < out; o++) {
        double s = bias ? bias[o] : 0.0;
        for (int64_t i = 0; i < in; i++) s += (double)W[o * in + i] * x[i];
        y[o] = (float)s;
    }
}

static double ref_inv_freq(const mj_model_config *c, int i) {
    double f = 1.0 / pow(c->rope_theta, 2.0 * i / c->head_dim);
    if (c->rope_type != 1) return f;
    double lo_w = c->rope_orig_max_pos / c->rope_low_freq_factor;
    double hi_w = c->rope_orig_max_pos / c->rope_high_freq_factor, w = 2 * M_PI / f;
    if (w < hi_w) return f;
    if (w > lo_w) return f / c->rope_factor;
    double sm = (c->rope_orig_max_pos / w - c->rope_low_freq_factor) /
                (c->rope_high_freq_factor - c->rope_low_freq_factor);
    return (1 - sm) * f / c->rope_factor + sm * f;
}

static void ref_rope(float *x, int64_t D, int32_t pos, const mj_model_config *c) {
    for (int64_t i = 0; i < D / 2; i++) {
        double a = ref_inv_freq(c, (int)i) * pos, x1 = x[i], x2 = x[i + D / 2];
        x[i] = (float)(x1 * cos(a) - x2 * sin(a));
        x[i + D / 2] = (float)(x2 * cos(a) + x1 * sin(a));
    }
}

/* Logits after the last of tokens[0..n) for one row (env.seq_len = n). */
static void ref_forward(const mj_model *m, const mj_mask_fns *f, mj_env env, const int32_t *tok,
                        int32_t n, float *logits) {
    const mj_model_config *c = &m->cfg;
    int64_t H = c->hidden, D = c->head_dim, NH = c->n_heads, G = c->n_kv_heads;
    int64_t QD = NH * D, KD = G * D, I = c->intermediate;
    env.seq_len = n;
    float *x = malloc((size_t)(n * H) * sizeof *x), *xn = malloc((size_t)H * sizeof *xn);
    float *q = malloc((size_t)(n * QD) * sizeof *q), *k = malloc((size_t)(n * KD) * sizeof *k);
    float *v = malloc((size_t)(n * KD) * sizeof *v), *att = malloc((size_t)QD * sizeof *att);
    float *g = malloc((size_t)I * sizeof *g), *u = malloc((size_t)I * sizeof *u);
    float *tmp = malloc((size_t)H * sizeof *tmp);
    double *p = malloc((size_t)n * sizeof *p);
    for (int32_t t = 0; t < n; t++) memcpy(x + t * H, m->embed + tok[t] * H, (size_t)H * 4);
    for (int l = 0; l < c->n_layers; l++) {
        const mj_layer *ly = &m->layers[l];
        for (int32_t t = 0; t < n; t++) {
            int32_t pos = f->position ? f->position(f->ctx, &env, t) : t;
            ref_norm(xn, x + t * H, ly->attn_norm, H, c->rms_eps);
            ref_linear(q + t * QD, ly->wq, ly->bq, xn, QD, H);
            ref_linear(k + t * KD, ly->wk, ly->bk, xn, KD, H);
            ref_linear(v + t * KD, ly->wv, ly->bv, xn, KD, H);
            for (int64_t h = 0; h < NH; h++) {
                if (ly->q_norm) ref_norm(q + t * QD + h * D, q + t * QD + h * D, ly->q_norm, D, c->rms_eps);
                ref_rope(q + t * QD + h * D, D, pos, c);
            }
            for (int64_t h = 0; h < G; h++) {
                if (ly->k_norm) ref_norm(k + t * KD + h * D, k + t * KD + h * D, ly->k_norm, D, c->rms_eps);
                ref_rope(k + t * KD + h * D, D, pos, c);
            }
        }
        float *xo = malloc((size_t)(n * H) * sizeof *xo);
        for (int32_t t = 0; t < n; t++) {
            for (int64_t h = 0; h < NH; h++) {
                int64_t gh = h / (NH / G);
                double mx = -INFINITY, sum = 0;
                for (int32_t j = 0; j < n; j++) {
                    p[j] = -INFINITY;
                    if (!f->mask(f->ctx, &env, t, j, (int32_t)h)) continue;
                    double s = 0;
                    for (int64_t d = 0; d < D; d++) s += (double)q[t * QD + h * D + d] * k[j * KD + gh * D + d];
                    float sf = (float)(s / sqrt((double)D));
                    if (f->score) sf = f->score(f->ctx, &env, t, j, (int32_t)h, sf);
                    p[j] = sf;
                    if (p[j] > mx) mx = p[j];
                }
                for (int32_t j = 0; j < n; j++) sum += p[j] == -INFINITY ? 0 : exp(p[j] - mx);
                for (int64_t d = 0; d < D; d++) {
                    double o = 0;
                    for (int32_t j = 0; j < n; j++)
                        if (p[j] != -INFINITY) o += exp(p[j] - mx) / sum * v[j * KD + gh * D + d];
                    att[h * D + d] = (float)o;
                }
            }
            ref_linear(tmp, ly->wo, NULL, att, H, QD);
            for (int64_t i = 0; i < H; i++) xo[t * H + i] = x[t * H + i] + tmp[i];
        }
        for (int32_t t = 0; t < n; t++) {
            ref_norm(xn, xo + t * H, ly->ffn_norm, H, c->rms_eps);
            ref_linear(g, ly->w_gate, NULL, xn, I, H);
            ref_linear(u, ly->w_up, NULL, xn, I, H);
            for (int64_t i = 0; i < I; i++) g[i] = (float)(g[i] / (1.0 + exp(-(double)g[i])) * u[i]);
            ref_linear(tmp, ly->w_down, NULL, g, H, I);
            for (int64_t i = 0; i < H; i++) x[t * H + i] = xo[t * H + i] + tmp[i];
        }
        free(xo);
    }
    ref_norm(xn, x + (n - 1) * H, m->final_norm, H, c->rms_eps);
    ref_linear(logits, m->lm_head, NULL, xn, c->vocab, H);
    free(x); free(xn); free(q); free(k); free(v); free(att); free(g); free(u); free(tmp); free(p);
}

/* max |a - b| / max |b| */
static double rel_diff(const float *a, const float *b, int64_t n) {
    double md = 0, mr = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (!(d <= md)) md = d;   /* NaN propagates */
        if (fabs(b[i]) > mr) mr = fabs(b[i]);
    }
    return md / (mr > 0 ? mr : 1);
}

/* ---- masks --------------------------------------------------------------------------- */

static mj_program *compile(const char *src) {
    mj_diags d;
    mj_diags_init(&d);
    mj_program *p = mj_compile_string("test.mask", src, strlen(src), NULL, &d);
    if (!p) mj_diags_print(&d, stderr);
    mj_diags_free(&d);
    return p;
}

static const char *M_CAUSAL = "mask = kv <= q\n";
static const char *M_FUSION =
    "tokens seg: int = -1\n"
    "mask = kv <= q && (q >= prompt_len || seg[q] == seg[kv])\n";
/* tokens with seg -1 in the prompt see nothing: zero rows */
static const char *M_EMPTY =
    "tokens seg: int = -1\n"
    "mask = kv <= q && (q >= prompt_len || (seg[q] >= 0 && seg[q] == seg[kv]))\n";
static const char *M_HEADS =
    "param window: int = 7\n"
    "heads slope: float\n"
    "mask = kv <= q && (q - kv < window || h == 1 || kv == 0)\n"
    "score = score - slope[h] * float(q - kv)\n";
static const char *M_SHARED =
    "tokens seg: int = -1\n"
    "tokens seg_start: int = 0\n"
    "param prefix_len: int = 0\n"
    "param max_seg_len: int = 0\n"
    "mask = kv <= q && (q >= prompt_len || seg[kv] == -1 || seg[q] == seg[kv])\n"
    "position = q >= prompt_len ? prefix_len + max_seg_len + (q - prompt_len)\n"
    "         : seg[q] >= 0    ? prefix_len + (q - seg_start[q])\n"
    "         : q\n";
static const char *M_PREFIXLM = "mask = q < prompt_len ? kv < prompt_len : kv <= q\n";

/* Always PARTIAL: forces the dense element path. */
static int classify_partial(const void *ctx, const mj_env *env, const mj_summary *sum,
                            const mj_region *r) {
    (void)ctx; (void)env; (void)sum; (void)r;
    return MJ_BLOCK_PARTIAL;
}

/* ---- rows ---------------------------------------------------------------------------- */

typedef struct row_data {
    int32_t tok[256];
    mj_value annot[2 * 256];
    mj_value params[8];
    float heads[8];
    mj_row_spec spec;
} row_data;

/* A row of n tokens: prefix of pre tokens (seg -1), then nseg segments of
 * equal length, then a tail of 3 tokens (seg -1). */
static void row_make(row_data *rd, const mj_program *p, const mj_model *m, int32_t n,
                     int32_t pre, int nseg, uint64_t seed) {
    memset(rd, 0, sizeof *rd);
    uint64_t s = seed * 2654435761u + 17;
    for (int32_t i = 0; i < n; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        rd->tok[i] = (int32_t)((s >> 33) % (uint64_t)m->cfg.vocab);
    }
    int32_t body = n - pre - 3, len = nseg ? body / nseg : 0, maxlen = 0;
    int32_t aseg = mj_program_find_tokens(p, "seg"), astart = mj_program_find_tokens(p, "seg_start");
    for (int32_t i = 0; i < n; i++) {
        int32_t sg = -1, st = 0;
        if (nseg && i >= pre && i < pre + len * nseg) {
            sg = (i - pre) / len;
            st = pre + sg * len;
        }
        if (aseg >= 0) rd->annot[aseg * n + i].i = sg;
        if (astart >= 0) rd->annot[astart * n + i].i = st;
        if (len > maxlen) maxlen = len;
    }
    mj_program_default_params(p, rd->params);
    char err[128];
    if (mj_program_find_param(p, "prefix_len") >= 0) {
        char v[16];
        snprintf(v, sizeof v, "%d", pre);
        mj_program_set_param(p, rd->params, "prefix_len", v, err, sizeof err);
        snprintf(v, sizeof v, "%d", maxlen);
        mj_program_set_param(p, rd->params, "max_seg_len", v, err, sizeof err);
    }
    for (int h = 0; h < m->cfg.n_heads; h++) rd->heads[h] = 0.05f * (float)(h + 1);
    rd->spec = (mj_row_spec){rd->tok, n, rd->annot, rd->params, rd->heads, 0};
}

static mj_env row_env(row_data *rd, int32_t n_heads, int32_t prompt_len) {
    mj_env env = {n_heads, prompt_len, rd->spec.n_tokens, 0, rd->spec.n_tokens,
                  rd->spec.n_tokens, rd->params, rd->annot, rd->heads};
    return env;
}

/* ---- tests ----------------------------------------------------------------------------- */

static int32_t argmax(const float *x, int32_t n) {
    int32_t b = 0;
    for (int32_t i = 1; i < n; i++) if (x[i] > x[b]) b = i;
    return b;
}

/* Prefill of one row against the reference. */
static void test_prefill_ref(mj_engine *e, const mj_model *m, const char *src, const char *name,
                             const mj_mask_fns *fnsp, int32_t n, int32_t pre, int nseg) {
    mj_program *p = compile(src);
    CHECKF(p != NULL, "%s compiles", name);
    if (!p) return;
    mj_mask_fns fns = fnsp ? *fnsp : mj_interp_fns(p);
    row_data rd;
    row_make(&rd, p, m, n, pre, nseg, 7);
    char err[256] = "";
    mj_seqs *s = mj_seqs_init(e, p, &fns, 1, &rd.spec, 0, err, sizeof err);
    CHECKF(s != NULL, "%s: %s", name, err);
    float *lg = malloc((size_t)m->cfg.vocab * sizeof *lg), *ref = malloc((size_t)m->cfg.vocab * 4);
    if (s && mj_seqs_prefill(s, lg) == 0) {
        ref_forward(m, &fns, row_env(&rd, m->cfg.n_heads, n), rd.tok, n, ref);
        double d = rel_diff(lg, ref, m->cfg.vocab);
        CHECKF(d < 1e-4, "%s (n=%d): prefill vs reference rel diff %g", name, n, d);
        if (getenv("MJ_TEST_VERBOSE")) printf("%s n=%d arch=%d: rel diff %.3g\n", name, n, (int)m->cfg.arch, d);
        /* the dense element path gives the same */
        mj_mask_fns dense = fns;
        dense.classify = classify_partial;
        mj_seqs *s2 = mj_seqs_init(e, p, &dense, 1, &rd.spec, 0, err, sizeof err);
        float *lg2 = malloc((size_t)m->cfg.vocab * sizeof *lg2);
        CHECK(s2 && mj_seqs_prefill(s2, lg2) == 0);
        if (s2) CHECKF(rel_diff(lg2, lg, m->cfg.vocab) < 1e-6, "%s: block skipping == dense", name);
        free(lg2);
        mj_seqs_free(s2);
    } else {
        CHECKF(0, "%s: prefill failed: %s", name, s ? mj_seqs_error(s) : err);
    }
    free(lg);
    free(ref);
    mj_seqs_free(s);
    mj_program_free(p);
}

/* Prefill + decode of several rows in one batch vs each step recomputed. */
static void test_decode_batch(mj_engine *e, const mj_model *m, const char *src, const char *name) {
    mj_program *p = compile(src);
    if (!p) { CHECK(0); return; }
    mj_mask_fns fns = mj_interp_fns(p);
    enum { R = 3, STEPS = 4 };
    int32_t lens[R] = {45, 70, 9};
    static row_data rd[R];
    mj_row_spec specs[R];
    for (int r = 0; r < R; r++) {
        row_make(&rd[r], p, m, lens[r], r == 1 ? 10 : 2, r == 2 ? 1 : 2, 100 + (uint64_t)r);
        specs[r] = rd[r].spec;
    }
    int32_t V = m->cfg.vocab;
    char err[256] = "";
    mj_seqs *s = mj_seqs_init(e, p, &fns, R, specs, STEPS, err, sizeof err);
    CHECKF(s != NULL, "%s: %s", name, err);
    if (!s) { mj_program_free(p); return; }
    float *lg = malloc((size_t)R * V * sizeof *lg), *one = malloc((size_t)V * sizeof *one);
    CHECK(mj_seqs_prefill(s, lg) == 0);
    for (int step = 0; step <= STEPS; step++) {
        for (int r = 0; r < R; r++) {
            int32_t n = mj_seqs_len(s, r);
            /* the same row alone, all tokens as prompt, prompt_len as before */
            row_data full = rd[r];
            for (int32_t i = lens[r]; i < n; i++) full.tok[i] = rd[r].tok[i];
            mj_value fa[2 * 256];
            for (int32_t a = 0; a < p->n_tokens; a++)
                for (int32_t i = 0; i < n; i++)
                    fa[a * n + i] = i < lens[r] ? rd[r].annot[a * lens[r] + i] : p->tokens[a].def;
            mj_row_spec fs = {full.tok, n, fa, full.params, full.heads, lens[r]};
            mj_seqs *s1 = mj_seqs_init(e, p, &fns, 1, &fs, 0, err, sizeof err);
            CHECK(s1 && mj_seqs_prefill(s1, one) == 0);
            double d = rel_diff(lg + (size_t)r * V, one, V);
            CHECKF(d < 1e-5, "%s: row %d step %d: batched+cached vs alone+recomputed %g", name, r,
                   step, d);
            mj_env env = {m->cfg.n_heads, lens[r], n, r, n, n, full.params, fa, full.heads};
            float *ref = malloc((size_t)V * sizeof *ref);
            ref_forward(m, &fns, env, full.tok, n, ref);
            d = rel_diff(lg + (size_t)r * V, ref, V);
            CHECKF(d < 1e-4, "%s: row %d step %d vs reference %g", name, r, step, d);
            free(ref);
            mj_seqs_free(s1);
        }
        if (step == STEPS) break;
        int32_t next[R];
        for (int r = 0; r < R; r++) {
            next[r] = (r == 2 && step >= 2) ? -1 : argmax(lg + (size_t)r * V, V);
            if (next[r] >= 0) rd[r].tok[mj_seqs_len(s, r)] = next[r];
        }
        CHECK(mj_seqs_append(s, next, lg) == 0);
    }
    int32_t too_many[R] = {1, -1, -1};
    CHECK(mj_seqs_append(s, too_many, lg) != 0);     /* row 0 is full */
    CHECK(strstr(mj_seqs_error(s), "full") != NULL);
    free(lg);
    free(one);
    mj_seqs_free(s);
    mj_program_free(p);
}

/* Rows started from a prefix cache equal rows computed whole. */
static void test_prefix(mj_engine *e, const mj_model *m) {
    mj_program *p = compile(M_SHARED);
    if (!p) { CHECK(0); return; }
    mj_mask_fns fns = mj_interp_fns(p);
    enum { R = 2, P = 40 };
    static row_data rd[R];
    mj_row_spec specs[R];
    for (int r = 0; r < R; r++) {
        row_make(&rd[r], p, m, 70 + 5 * r, P, 2, 300);
        specs[r] = rd[r].spec;
    }
    for (int32_t i = 0; i < P; i++) rd[1].tok[i] = rd[0].tok[i];   /* shared prefix */
    char err[256] = "";
    mj_prefix *pre = mj_prefix_init(e, rd[0].tok, P, err, sizeof err);
    CHECKF(pre != NULL, "prefix: %s", err);
    int32_t V = m->cfg.vocab;
    float *a = malloc((size_t)R * V * 4), *b = malloc((size_t)R * V * 4);
    mj_seqs *s1 = mj_seqs_init_prefix(e, pre, p, &fns, R, specs, 3, err, sizeof err);
    mj_seqs *s2 = mj_seqs_init(e, p, &fns, R, specs, 3, err, sizeof err);
    CHECKF(s1 && s2, "prefix seqs: %s", err);
    if (s1 && s2) {
        CHECK(mj_seqs_prefill(s1, a) == 0 && mj_seqs_prefill(s2, b) == 0);
        CHECKF(rel_diff(a, b, (int64_t)R * V) < 1e-5, "prefix prefill %g", rel_diff(a, b, (int64_t)R * V));
        int32_t next[R] = {5, 6};
        CHECK(mj_seqs_append(s1, next, a) == 0 && mj_seqs_append(s2, next, b) == 0);
        CHECKF(rel_diff(a, b, (int64_t)R * V) < 1e-5, "prefix decode");
    }
    mj_seqs_free(s1);
    mj_seqs_free(s2);
    /* a row that is exactly the prefix gets the prefix's logits */
    mj_row_spec only = {rd[0].tok, P, NULL, NULL, NULL, 0};
    mj_program *pc = compile(M_CAUSAL);
    mj_mask_fns cf = mj_interp_fns(pc);
    s1 = mj_seqs_init_prefix(e, pre, pc, &cf, 1, &only, 1, err, sizeof err);
    s2 = mj_seqs_init(e, pc, &cf, 1, &only, 1, err, sizeof err);
    CHECK(s1 && s2 && mj_seqs_prefill(s1, a) == 0 && mj_seqs_prefill(s2, b) == 0);
    CHECK(rel_diff(a, b, V) < 1e-5);
    mj_seqs_free(s1);
    mj_seqs_free(s2);
    /* contract violations are errors */
    mj_program *plm = compile(M_PREFIXLM);
    mj_mask_fns lf = mj_interp_fns(plm);
    s1 = mj_seqs_init_prefix(e, pre, plm, &lf, 1, &specs[0], 1, err, sizeof err);
    CHECKF(s1 == NULL && strstr(err, "causal"), "non-causal prefix rejected: %s", err);
    mj_seqs_free(s1);
    rd[1].tok[3] ^= 1;
    s1 = mj_seqs_init_prefix(e, pre, p, &fns, 1, &rd[1].spec, 1, err, sizeof err);
    CHECKF(s1 == NULL && strstr(err, "prefix"), "other tokens rejected: %s", err);
    mj_seqs_free(s1);
    mj_program_free(plm);
    mj_program_free(pc);
    mj_prefix_free(pre);
    free(a);
    free(b);
    mj_program_free(p);
}

/* Per-row stops: EOS for one row, length for the other; bad input errors. */
/* mj_seqs_append_greedy picks what mj_sample picks at temperature 0 from the
 * logits mj_seqs_append gives, and leaves finished rows' ids alone. */
static void test_append_greedy(mj_engine *e, const mj_model *m) {
    mj_program *p = compile(M_FUSION);
    if (!p) { CHECK(0); return; }
    mj_mask_fns fns = mj_interp_fns(p);
    enum { R = 3 };
    static row_data rd[R];
    mj_row_spec specs[R];
    for (int r = 0; r < R; r++) {
        row_make(&rd[r], p, m, 30 + 7 * r, 12 + 5 * r, 3, 400 + r);
        specs[r] = rd[r].spec;
    }
    char err[256] = "";
    int32_t V = m->cfg.vocab;
    float *a = malloc((size_t)R * V * 4);
    mj_seqs *s1 = mj_seqs_init(e, p, &fns, R, specs, 4, err, sizeof err);
    mj_seqs *s2 = mj_seqs_init(e, p, &fns, R, specs, 4, err, sizeof err);
    CHECKF(s1 && s2 && a, "greedy seqs: %s", err);
    if (s1 && s2 && a) {
        CHECK(mj_seqs_prefill(s1, a) == 0 && mj_seqs_prefill(s2, a) == 0);
        int32_t next[R], ids[R];
        for (int r = 0; r < R; r++) next[r] = mj_sample(a + (size_t)r * V, V, NULL, NULL);
        for (int k = 0; k < 3; k++) {
            if (k == 2) next[1] = -1;                 /* row 1 finished: its id stays */
            ids[1] = -7;
            CHECK(mj_seqs_append(s1, next, a) == 0);
            CHECKF(mj_seqs_append_greedy(s2, next, ids) == 0, "greedy append: %s", mj_seqs_error(s2));
            for (int r = 0; r < R; r++) {
                if (next[r] < 0) { CHECKF(ids[r] == -7, "finished row's id kept (%d)", ids[r]); continue; }
                int32_t want = mj_sample(a + (size_t)r * V, V, NULL, NULL);
                CHECKF(ids[r] == want, "step %d row %d: greedy %d, argmax of logits %d", k, r, ids[r], want);
                next[r] = want;
            }
        }
        int32_t bad[R] = {V, -1, -1};
        CHECK(mj_seqs_append_greedy(s2, bad, ids) != 0 && strstr(mj_seqs_error(s2), "outside the vocabulary"));
    }
    mj_seqs_free(s1);
    mj_seqs_free(s2);
    free(a);
    mj_program_free(p);
}

static void test_generate(mj_engine *e, mj_model *m) {
    mj_program *p = compile(M_CAUSAL);
    if (!p) { CHECK(0); return; }
    mj_mask_fns fns = mj_interp_fns(p);
    static row_data rd[2];
    mj_row_spec specs[2];
    for (int r = 0; r < 2; r++) {
        row_make(&rd[r], p, m, 12 + r * 7, 0, 0, 500 + (uint64_t)r);
        specs[r] = rd[r].spec;
    }
    mj_sampling greedy = {0};
    mj_stop st = {6, true, NULL, 0};
    mj_gen_result res[2], res2[2];
    char err[256] = "";
    CHECK(mj_generate(e, NULL, p, &fns, 2, specs, &greedy, &st, res, err, sizeof err) == 0);
    CHECK(res[0].n_tokens == 6 && res[1].n_tokens == 6 && res[0].stop_reason == MJ_STOP_LENGTH);
    /* make row 0's third token the EOS */
    int32_t eos = res[0].tokens[2];
    bool in1 = false;
    for (int i = 0; i < 6; i++) in1 |= res[1].tokens[i] == eos;
    m->cfg.eos_ids[0] = eos;
    m->cfg.n_eos = 1;
    CHECK(mj_generate(e, NULL, p, &fns, 2, specs, &greedy, &st, res2, err, sizeof err) == 0);
    CHECK(res2[0].n_tokens == 2 && res2[0].stop_reason == MJ_STOP_EOS);
    if (!in1) CHECK(res2[1].n_tokens == 6 && res2[1].stop_reason == MJ_STOP_LENGTH &&
                    !memcmp(res2[1].tokens, res[1].tokens, 6 * sizeof(int32_t)));
    m->cfg.n_eos = 0;
    for (int r = 0; r < 2; r++) { mj_gen_result_free(&res[r]); mj_gen_result_free(&res2[r]); }
    /* sampling with a seed is reproducible */
    mj_sampling samp = {0.8f, 20, 0.9f, 42};
    CHECK(mj_generate(e, NULL, p, &fns, 2, specs, &samp, &st, res, err, sizeof err) == 0);
    CHECK(mj_generate(e, NULL, p, &fns, 2, specs, &samp, &st, res2, err, sizeof err) == 0);
    CHECK(res[1].n_tokens == res2[1].n_tokens &&
          !memcmp(res[1].tokens, res2[1].tokens, (size_t)res[1].n_tokens * sizeof(int32_t)));
    for (int r = 0; r < 2; r++) { mj_gen_result_free(&res[r]); mj_gen_result_free(&res2[r]); }
    /* bad tokens are an error, not a crash */
    rd[0].tok[1] = m->cfg.vocab + 3;
    CHECK(mj_generate(e, NULL, p, &fns, 1, specs, &greedy, &st, res, err, sizeof err) != 0);
    CHECK(strstr(err, "vocabulary") != NULL);
    mj_program_free(p);
}

/* Stop strings on decoded text with a real tokenizer (skips without it). */
static void test_stop_strings(void) {
    const char *dir = mj_test_shared_data("tokenizers/llama3");
    if (!dir) { printf("SKIP stop strings: ../shared/data/tokenizers/llama3 absent\n"); return; }
    char err[256] = "";
    mj_tokenizer *tok = mj_tokenizer_load(dir, err, sizeof err);
    CHECKF(tok != NULL, "tokenizer: %s", err);
    if (!tok) return;
    mj_model m;
    mj_test_model_make(&m, MJ_ARCH_LLAMA, false, mj_tokenizer_vocab_size(tok));
    /* lm_head favouring one token: "\n\n" merged (id of "ĊĊ") after a word */
    int32_t nl2 = mj_tokenizer_token_id(tok, "\xc4\x8a\xc4\x8a");
    CHECK(nl2 >= 0);
    mj_engine *e = mj_engine_init(&m, MJ_DEVICE_CPU, 2, err, sizeof err);
    mj_program *p = compile(M_CAUSAL);
    mj_mask_fns fns = mj_interp_fns(p);
    int32_t *ids;
    size_t n;
    CHECK(mj_tokenizer_encode(tok, "Hello world", 11, true, &ids, &n) == 0);
    mj_row_spec spec = {ids, (int32_t)n, NULL, NULL, NULL, 0};
    for (int64_t i = 0; i < m.cfg.hidden; i++) m.lm_head[(int64_t)nl2 * m.cfg.hidden + i] = 0;
    mj_sampling greedy = {0};
    const char *stops[] = {"\n"};
    mj_stop st = {8, true, stops, 1};
    mj_gen_result res;
    CHECK(mj_generate(e, tok, p, &fns, 1, &spec, &greedy, &st, &res, err, sizeof err) == 0);
    /* force: find what greedy produced, then make its 3rd token "\n\n" */
    int32_t third = res.n_tokens >= 3 ? res.tokens[2] : -1;
    mj_gen_result_free(&res);
    if (third >= 0) {
        memcpy(m.lm_head + (int64_t)nl2 * m.cfg.hidden, m.lm_head + (int64_t)third * m.cfg.hidden,
               (size_t)m.cfg.hidden * sizeof(float));
        for (int64_t i = 0; i < m.cfg.hidden; i++) m.lm_head[(int64_t)nl2 * m.cfg.hidden + i] *= 1.5f;
        CHECK(mj_generate(e, tok, p, &fns, 1, &spec, &greedy, &st, &res, err, sizeof err) == 0);
        CHECKF(res.stop_reason == MJ_STOP_STRING && strchr(res.text, '\n') == NULL,
               "stop on a merged newline token: reason %d text '%s'", res.stop_reason, res.text);
        CHECK(res.n_tokens >= 1 && res.tokens[res.n_tokens - 1] == nl2);
        mj_gen_result_free(&res);
    }
    free(ids);
    mj_program_free(p);
    mj_engine_free(e);
    mj_test_model_release(&m);
    mj_tokenizer_free(tok);
}

int main(void) {
    char err[256] = "";
    CHECK(mj_device_parse("cpu") == MJ_DEVICE_CPU && mj_device_parse("x") == -1);
    const mj_arch archs[] = {MJ_ARCH_LLAMA, MJ_ARCH_QWEN2, MJ_ARCH_QWEN3};
    for (int ai = 0; ai < 3; ai++) {
        mj_model m;
        mj_test_model_make(&m, archs[ai], ai == 0, 101);
        mj_engine *e = mj_engine_init(&m, MJ_DEVICE_CPU, 2, err, sizeof err);
        CHECKF(e != NULL, "engine: %s", err);
        if (!e) { mj_test_model_release(&m); continue; }
        test_prefill_ref(e, &m, M_CAUSAL, "causal", NULL, 80, 0, 0);
        test_prefill_ref(e, &m, M_FUSION, "fusion", NULL, 75, 5, 3);
        test_prefill_ref(e, &m, M_EMPTY, "empty rows", NULL, 70, 6, 2);
        test_prefill_ref(e, &m, M_HEADS, "heads+score", NULL, 66, 0, 0);
        test_prefill_ref(e, &m, M_SHARED, "shared prefix positions", NULL, 90, 20, 3);
        test_prefill_ref(e, &m, M_PREFIXLM, "prefix-LM (non-causal)", NULL, 40, 0, 0);
        if (ai == 0) {
            mj_diags d;
            mj_diags_init(&d);
            mj_program *p = compile(M_SHARED);
            mj_jit *j = p ? mj_jit_init(p, &d) : NULL;
            if (j) {
                mj_mask_fns jf = mj_jit_fns(j);
                test_prefill_ref(e, &m, M_SHARED, "shared prefix (jit)", &jf, 90, 20, 3);
            } else {
                printf("SKIP jit mask functions: not available\n");
            }
            mj_jit_free(j);
            mj_program_free(p);
            mj_diags_free(&d);
            test_decode_batch(e, &m, M_FUSION, "fusion decode");
            test_decode_batch(e, &m, M_HEADS, "heads decode");
            test_decode_batch(e, &m, M_PREFIXLM, "prefix-LM decode");
            test_prefix(e, &m);
            test_append_greedy(e, &m);
            test_generate(e, &m);
        }
        mj_engine_free(e);
        mj_test_model_release(&m);
    }
    /* CUDA where it cannot open is an error with a message; AUTO falls back */
    mj_model m;
    mj_test_model_make(&m, MJ_ARCH_LLAMA, false, 50);
    err[0] = 0;
    mj_engine *e = mj_engine_init(&m, MJ_DEVICE_CUDA, 1, err, sizeof err);
    if (!e) CHECK(err[0] != 0);
    mj_engine_free(e);
    e = mj_engine_init(&m, MJ_DEVICE_AUTO, 1, err, sizeof err);
    CHECKF(e != NULL, "auto: %s", err);
    mj_engine_free(e);
    mj_test_model_release(&m);
    test_stop_strings();
    return mj_test_finish();
}
