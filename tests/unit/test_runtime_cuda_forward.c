/* test_runtime_cuda_forward.c — the CUDA engine (bf16) against the CPU engine
 * (f32) on small random models whose weights are bf16 values (so only the
 * activations' rounding differs): Llama with llama3 RoPE scaling, Qwen2 with
 * q/k/v bias, Qwen3 with q/k norm; masks with annotations (fusion_seed), a
 * position program and params (fusion_shared_prefix), a score over a heads
 * array (alibi) and plain causal; three batched rows of different lengths,
 * prefill then greedy decode steps.  Also: the block-sparse attention
 * against the naive fallback (MJ_CUDA_ATTN), decode graphs against eager
 * steps (bit-identical), cuBLASLt against the skinny kernels for decode
 * (MJ_CUDA_SKINNY), a prefix cache, and head_dim 32 (naive path); the
 * fused RoPE, attention PDL and block-normalised rows bit-identical to H11's
 * path, and the
 * K-split skinny products (MJ_CUDA_KSPLIT=2); one row alone (the one-row
 * products of batch-1 decode).
 * One row (short, long) whose decode steps cross a 64-key block boundary:
 * one graph for the whole generation, replays bit-identical to eager steps,
 * and to steps with the embedding kernel instead of the embedding gathered
 * by layer 0's q|k|v product.
 * The greedy-pick kernel alone (mj_fwd_argmax, 32 blocks per row): ties across
 * blocks, NaN, rows of -inf, vocabularies that do not divide evenly, twice
 * in a row (its counters must reset), against mj_sample at temperature 0.
 * Without a GPU (or driver) the test checks that --device cuda fails with a
 * message and auto falls back to the CPU, then skips.
 * GPU debugging: MJ_TEST_QUICK=1 runs one model, mask and setting;
 * MJ_TEST_ATTN=naive|sparse forces the attention path of every setting. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "cuda_engine.h"
#include "cuda_fwd.h"
#include "cuda_kernels.h"
#include "engine.h"
#include "interp.h"
#include "support/test_chain.h"
#include "support/test_model.h"
#include "support/testlib.h"

#define STEPS 5

static uint64_t rng = 0x1234567;
static float frand(void) { return mj_test_lcg(&rng); }   /* this test's own stream */

/* Round to bf16 (nearest even), kept in f32. */
static float bf16r(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    u += 0x7fffu + ((u >> 16) & 1u);
    u &= 0xffff0000u;
    memcpy(&f, &u, 4);
    return f;
}

static float *rnd(int64_t n, float scale, float offset) {
    float *p = malloc((size_t)n * sizeof *p);
    for (int64_t i = 0; i < n; i++) p[i] = bf16r(offset + scale * frand());
    return p;
}

static void model_make(mj_model *m, mj_arch arch, int32_t D, int32_t H, int32_t G) {
    memset(m, 0, sizeof *m);
    mj_model_config *c = &m->cfg;
    mj_test_model_config(c, arch, arch == MJ_ARCH_LLAMA, 256, 512, H, G, D, 512, 1e-5f);
    int64_t hid = c->hidden, QD = (int64_t)H * D, KD = (int64_t)G * D, I = c->intermediate;
    float s = 1.0f / sqrtf((float)hid) * 1.7f;
    m->embed = rnd((int64_t)c->vocab * hid, 1.0f, 0.0f);
    m->final_norm = rnd(hid, 0.2f, 1.0f);
    m->lm_head = rnd((int64_t)c->vocab * hid, s * 3.0f, 0.0f);
    m->layers = calloc((size_t)c->n_layers, sizeof *m->layers);
    for (int l = 0; l < c->n_layers; l++) {
        mj_layer *ly = &m->layers[l];
        ly->attn_norm = rnd(hid, 0.2f, 1.0f);
        ly->ffn_norm = rnd(hid, 0.2f, 1.0f);
        ly->wq = rnd(QD * hid, s * 2.0f, 0.0f);
        ly->wk = rnd(KD * hid, s * 2.0f, 0.0f);
        ly->wv = rnd(KD * hid, s, 0.0f);
        ly->wo = rnd(hid * QD, 1.0f / sqrtf((float)QD), 0.0f);
        ly->w_gate = rnd(I * hid, s, 0.0f);
        ly->w_up = rnd(I * hid, s, 0.0f);
        ly->w_down = rnd(hid * I, 1.0f / sqrtf((float)I), 0.0f);
        if (c->qkv_bias) {
            ly->bq = rnd(QD, 0.5f, 0.0f);
            ly->bk = rnd(KD, 0.5f, 0.0f);
            ly->bv = rnd(KD, 0.5f, 0.0f);
        }
        if (c->qk_norm) {
            ly->q_norm = rnd(D, 0.2f, 1.0f);
            ly->k_norm = rnd(D, 0.2f, 1.0f);
        }
    }
}

/* ---- rows: a prefix (seg -1) then segments, as a fusion layout ------------------- */

#define ROWS 3
static const int32_t row_len[ROWS] = {97, 160, 41};
#define PREFIX 7

typedef struct rows {
    int32_t *tok[ROWS];
    mj_value *annot[ROWS];
    mj_value *params[ROWS];
    float *heads;
    mj_row_spec spec[ROWS];
} rows;

static void rows_make(rows *R, const mj_program *p, int32_t n_heads, int32_t vocab) {
    memset(R, 0, sizeof *R);
    int a_seg = mj_program_find_tokens(p, "seg"), a_start = mj_program_find_tokens(p, "seg_start");
    R->heads = calloc((size_t)(p->n_heads > 0 ? p->n_heads : 1) * (size_t)n_heads, sizeof(float));
    for (int k = 0; k < p->n_heads; k++)
        for (int h = 0; h < n_heads; h++) R->heads[k * n_heads + h] = 0.05f * (float)(h + 1);
    for (int r = 0; r < ROWS; r++) {
        int32_t n = row_len[r], nseg = 3, seg_len = (n - PREFIX + nseg - 1) / nseg;
        R->tok[r] = malloc((size_t)n * sizeof(int32_t));
        for (int32_t i = 0; i < n; i++) R->tok[r][i] = i < PREFIX ? 3 + i : (int32_t)((frand() + 1.0f) * 0.5f * (float)(vocab - 1));
        R->annot[r] = calloc((size_t)(p->n_tokens > 0 ? p->n_tokens : 1) * (size_t)(n > 0 ? n : 1), sizeof(mj_value));
        for (int32_t i = 0; i < n; i++) {
            int32_t seg = i < PREFIX ? -1 : (i - PREFIX) / seg_len;
            if (a_seg >= 0) R->annot[r][a_seg * n + i].i = seg;
            if (a_start >= 0) R->annot[r][a_start * n + i].i = seg < 0 ? 0 : PREFIX + seg * seg_len;
        }
        R->params[r] = calloc((size_t)(p->n_param_slots > 0 ? p->n_param_slots : 1), sizeof(mj_value));
        mj_program_default_params(p, R->params[r]);
        char v[32], err[128];
        snprintf(v, sizeof v, "%d", PREFIX);
        if (mj_program_find_param(p, "prefix_len") >= 0) mj_program_set_param(p, R->params[r], "prefix_len", v, err, sizeof err);
        snprintf(v, sizeof v, "%d", seg_len);
        if (mj_program_find_param(p, "max_seg_len") >= 0) mj_program_set_param(p, R->params[r], "max_seg_len", v, err, sizeof err);
        mj_row_spec s = {R->tok[r], n, R->annot[r], R->params[r], R->heads, n};
        R->spec[r] = s;
    }
}

static void rows_free(rows *R) {
    for (int r = 0; r < ROWS; r++) {
        free(R->tok[r]);
        free(R->annot[r]);
        free(R->params[r]);
    }
    free(R->heads);
}

/* ---- runs --------------------------------------------------------------------------- */

static int32_t argmax(const float *x, int32_t n) {
    int32_t b = 0;
    for (int32_t i = 1; i < n; i++)
        if (x[i] > x[b]) b = i;
    return b;
}

/* Logits of prefill + STEPS decode steps: out[(step * ROWS + r) * V].  With
 * tok_in, the appended tokens are taken from it (else the argmax, recorded in
 * tok_out).  With greedy (and tok_in), the steps run through
 * mj_seqs_append_greedy instead: out receives the prefill logits only and
 * greedy[(step - 1) * ROWS + r] each step's pick.  pre: prefix cache or NULL.
 * Returns 0 or -1. */
static int run(mj_engine *e, const mj_prefix *pre, const mj_program *p, const mj_mask_fns *f, const rows *R,
               float *out, const int32_t *tok_in, int32_t *tok_out, int32_t *greedy) {
    int32_t V = mj_engine_model(e)->cfg.vocab;
    char err[512] = "";
    mj_seqs *s = mj_seqs_init_prefix(e, pre, p, f, ROWS, R->spec, STEPS, err, sizeof err);
    if (!s) { fprintf(stderr, "seqs: %s\n", err); return -1; }
    int rc = mj_seqs_prefill(s, out);
    for (int st = 1; rc == 0 && st <= STEPS; st++) {
        int32_t next[ROWS];
        for (int r = 0; r < ROWS; r++) {
            next[r] = tok_in ? tok_in[(st - 1) * ROWS + r] : argmax(out + ((size_t)(st - 1) * ROWS + r) * V, V);
            if (tok_out) tok_out[(st - 1) * ROWS + r] = next[r];
        }
        rc = greedy ? mj_seqs_append_greedy(s, next, greedy + (st - 1) * ROWS)
                    : mj_seqs_append(s, next, out + (size_t)st * ROWS * V);
    }
    if (rc != 0) fprintf(stderr, "run: %s\n", mj_seqs_error(s));
    mj_seqs_free(s);
    return rc;
}

/* Raises *md to the largest |x - y| (a NaN propagates) and *mb to the largest
 * |y| over the V values of one logits row. */
static void diff_row(const float *x, const float *y, int32_t V, double *md, double *mb) {
    for (int32_t i = 0; i < V; i++) {
        double d = fabs((double)x[i] - y[i]);
        if (!(d <= *md)) *md = d;
        if (fabs(y[i]) > *mb) *mb = fabs(y[i]);
    }
}

/* max |a - b| / max |b| over every step, and the share of argmax agreement
 * where b's top-2 margin is clear. */
static double compare(const float *a, const float *b, int32_t V, double *agree) {
    double md = 0, mb = 0;
    int n = 0, same = 0;
    for (int k = 0; k < (STEPS + 1) * ROWS; k++) {
        const float *x = a + (size_t)k * V, *y = b + (size_t)k * V;
        diff_row(x, y, V, &md, &mb);
        int32_t t = argmax(y, V);
        float second = -INFINITY;
        for (int32_t i = 0; i < V; i++)
            if (i != t && y[i] > second) second = y[i];
        if (y[t] - second > 0.02f * (float)mb) {
            n++;
            same += argmax(x, V) == t;
        }
    }
    *agree = n ? (double)same / n : 1.0;
    return mb > 0 ? md / mb : md;
}

/* Row 0 alone through prefill and STEPS decode steps (the tokens of toks):
 * logits [(STEPS + 1) x V].  One row takes the one-row skinny products (as
 * batch-1 decode), which the three-row runs never do. */
static int run_one_row(mj_engine *e, const mj_program *p, const mj_mask_fns *f, const rows *R, float *out,
                       const int32_t *toks) {
    int32_t V = mj_engine_model(e)->cfg.vocab;
    char err[512] = "";
    mj_seqs *s = mj_seqs_init_prefix(e, NULL, p, f, 1, R->spec, STEPS, err, sizeof err);
    if (!s) { fprintf(stderr, "seqs: %s\n", err); return -1; }
    int rc = mj_seqs_prefill(s, out);
    for (int st = 1; rc == 0 && st <= STEPS; st++) rc = mj_seqs_append(s, &toks[(st - 1) * ROWS], out + (size_t)st * V);
    if (rc != 0) fprintf(stderr, "run: %s\n", mj_seqs_error(s));
    mj_seqs_free(s);
    return rc;
}

/* One row against row 0 of the CPU reference (same tolerance as the batch). */
static void check_one_row(mj_engine *gpu, const mj_program *p, const mj_mask_fns *f, const rows *R, const float *ref,
                          const int32_t *toks, int32_t V, const char *what, const char *mask) {
    float *a = malloc((size_t)(STEPS + 1) * V * sizeof *a);
    int rc = run_one_row(gpu, p, f, R, a, toks);
    CHECKF(rc == 0, "%s %s: one row", what, mask);
    if (rc == 0) {
        double md = 0, mb = 0;
        for (int st = 0; st <= STEPS; st++) diff_row(a + (size_t)st * V, ref + (size_t)st * ROWS * V, V, &md, &mb);
        double rel = mb > 0 ? md / mb : md;
        printf("  %-27s %-20s one row: rel err %.2e\n", what, mask, rel);
        CHECKF(rel <= 3e-2, "%s %s one row: rel err %.3e", what, mask, rel);
    }
    free(a);
}

/* Greedy picks fed back as the next tokens for CHAIN appends (row 0 takes
 * its own tokens from append 3 on, each unlike the pick: the step launched
 * ahead is undone; row 2 stops at append 4), with run-ahead (MJ_RUN_AHEAD
 * unset) or without (0): out[k][r] the picks, -5 where a stopped row's id
 * is kept.  0 or -1. */
enum { CHAIN = 8 };
static int greedy_chain(mj_engine *gpu, const mj_program *p, const mj_mask_fns *f, const rows *R, bool ahead,
                        int32_t out[CHAIN][ROWS]) {
    int32_t V = mj_engine_model(gpu)->cfg.vocab;
    char err[512] = "";
    setenv("MJ_RUN_AHEAD", ahead ? "" : "0", 1);
    mj_seqs *s = mj_seqs_init(gpu, p, f, ROWS, R->spec, CHAIN + 2, err, sizeof err);
    unsetenv("MJ_RUN_AHEAD");
    if (!s) { fprintf(stderr, "chain: %s\n", err); return -1; }
    float *lg = malloc((size_t)ROWS * V * sizeof *lg);
    int rc = lg ? mj_seqs_prefill(s, lg) : -1;
    int32_t next[ROWS];
    for (int r = 0; rc == 0 && r < ROWS; r++) next[r] = argmax(lg + (size_t)r * V, V);
    if (rc == 0) rc = mj_test_greedy_chain(s, next, V, CHAIN, &out[0][0], NULL);
    if (rc != 0) fprintf(stderr, "chain: %s\n", mj_seqs_error(s));
    mj_seqs_free(s);
    free(lg);
    return rc;
}

/* Run-ahead greedy decoding (engine.c) gives the picks of plain stepping. */
static void check_run_ahead(mj_engine *gpu, const mj_program *p, const mj_mask_fns *f, const rows *R,
                            const char *what, const char *mask) {
    int32_t a[CHAIN][ROWS], b[CHAIN][ROWS];
    int rc = greedy_chain(gpu, p, f, R, false, a) || greedy_chain(gpu, p, f, R, true, b);
    CHECKF(rc == 0, "%s %s: greedy chain", what, mask);
    if (rc != 0) return;
    int bad = 0;
    for (int k = 0; k < CHAIN; k++)
        for (int r = 0; r < ROWS; r++) bad += a[k][r] != b[k][r];
    printf("  %-27s %-20s run-ahead greedy chain: %d of %d picks differ\n", what, mask, bad, CHAIN * ROWS);
    CHECKF(bad == 0, "%s %s: run-ahead picks differ from plain stepping (%d)", what, mask, bad);
    CHECKF(b[CHAIN - 1][2] == -5, "%s %s: a stopped row's id is kept", what, mask);
}

static mj_program *load_mask(const char *name) {
    char rel[128];
    snprintf(rel, sizeof rel, "examples/%s.mask", name);
    mj_diags d;
    mj_diags_init(&d);
    mj_program *p = mj_compile_file(mj_test_path(rel), NULL, &d);
    if (!p) mj_diags_print(&d, stderr);
    mj_diags_free(&d);
    return p;
}

static bool quick;

/* CPU reference once, then the CUDA engine under several settings. */
static void check_model(const char *what, mj_arch arch, int32_t D, int32_t H, int32_t G, const char *mask) {
    mj_model m;
    model_make(&m, arch, D, H, G);
    int32_t V = m.cfg.vocab;
    mj_program *p = load_mask(mask);
    CHECK(p != NULL);
    if (!p) { mj_test_model_release(&m); return; }
    mj_mask_fns f = mj_interp_fns(p);
    rows R;
    rows_make(&R, p, H, V);
    size_t n = (size_t)(STEPS + 1) * ROWS * V;
    float *ref = malloc(n * sizeof *ref), *got = malloc(n * sizeof *got), *got2 = malloc(n * sizeof *got2);
    float *got3 = malloc(n * sizeof *got3);
    int32_t toks[STEPS * ROWS];
    char err[512];
    mj_engine *cpu = mj_engine_init(&m, MJ_DEVICE_CPU, 2, err, sizeof err);
    mj_engine *gpu = mj_engine_init(&m, MJ_DEVICE_CUDA, 0, err, sizeof err);
    CHECKF(cpu && gpu, "%s: %s", what, err);
    if (cpu && gpu && run(cpu, NULL, p, &f, &R, ref, NULL, toks, NULL) == 0) {
        /* graphs, skinny, attention, fused norms, programmatic dependent launch */
        /* mode n_legacy: the default with the fused RoPE, the attention's PDL and
         * the once-per-block normalised rows off (H11's decode path):
         * bit-identical to mode 0; the last mode: every
         * skinny product but gate|up with K split over two warps */
        const char *modes[][5] = {{"1", "1", "", "1", "1"}, {"0", "1", "", "1", "1"}, {"1", "0", "", "1", "1"},
                                  {"1", "1", "naive", "1", "1"}, {"1", "1", "", "0", "1"}, {"1", "1", "", "1", "0"},
                                  {"1", "1", "", "1", "1"}, {"1", "1", "", "1", "1"}};
        const char *legacy[] = {"MJ_CUDA_FUSE_ROPE", "MJ_CUDA_ATTN_PDL", "MJ_CUDA_NORM_SMEM"};
        size_t n_legacy = sizeof modes / sizeof modes[0] - 2;
        const char *force = getenv("MJ_TEST_ATTN");
        size_t n_modes = quick ? 1 : sizeof modes / sizeof modes[0];
        /* the skinny kernels for the ROWS-row decode steps too (by default
         * chunks of more than 2 rows run cuBLASLt, as mode 2 and the greedy
         * run below do) */
        setenv("MJ_CUDA_SKINNY_MAX", "8", 1);
        for (size_t k = 0; k < n_modes; k++) {
            setenv("MJ_CUDA_GRAPHS", modes[k][0], 1);
            setenv("MJ_CUDA_SKINNY", modes[k][1], 1);
            setenv("MJ_CUDA_ATTN", force && *force ? force : modes[k][2], 1);
            setenv("MJ_CUDA_FUSE_NORM", modes[k][3], 1);
            setenv("MJ_CUDA_PDL", modes[k][4], 1);
            for (size_t j = 0; j < sizeof legacy / sizeof legacy[0]; j++)
                setenv(legacy[j], k == n_legacy ? "0" : "", 1);
            setenv("MJ_CUDA_KSPLIT", k == n_legacy + 1 ? "2" : "", 1);
            float *dst = k == 1 || k == n_legacy ? got2 : got;
            int rc = run(gpu, NULL, p, &f, &R, dst, toks, NULL, NULL);
            CHECKF(rc == 0, "%s mode %zu", what, k);
            if (rc != 0) continue;
            double agree, rel = compare(dst, ref, V, &agree);
            printf("  %-27s %-20s graphs=%s skinny=%s fuse=%s pdl=%s attn=%-5s%s rel err %.2e top-1 %.1f%%\n", what,
                   mask, modes[k][0], modes[k][1], modes[k][3], modes[k][4], modes[k][2][0] ? modes[k][2] : "auto",
                   k == n_legacy ? " H11" : k == n_legacy + 1 ? " k2" : "", rel, 100 * agree);
            CHECKF(rel <= 3e-2, "%s %s mode %zu: rel err %.3e", what, mask, k, rel);
            CHECKF(agree >= 0.95, "%s %s mode %zu: top-1 %.3f", what, mask, k, agree);
            if (k == 0) memcpy(got3, got, n * sizeof *got);
            if (k == 1) CHECKF(memcmp(got, got2, n * sizeof *got) == 0, "%s: graph replay differs from eager", what);
            if (k == n_legacy)
                CHECKF(memcmp(got3, got2, n * sizeof *got) == 0, "%s: decode differs from H11's path",
                       what);
        }
        for (size_t j = 0; j < sizeof legacy / sizeof legacy[0]; j++) unsetenv(legacy[j]);
        unsetenv("MJ_CUDA_KSPLIT");
        unsetenv("MJ_CUDA_GRAPHS");
        unsetenv("MJ_CUDA_SKINNY");
        unsetenv("MJ_CUDA_ATTN");
        unsetenv("MJ_CUDA_FUSE_NORM");
        unsetenv("MJ_CUDA_PDL");
        /* greedy picks on the device (default settings, graphs on, mode 0's
         * skinny products): the host's argmax of mode 0's logits */
        int32_t picks[STEPS * ROWS];
        int bad = run(gpu, NULL, p, &f, &R, got2, toks, NULL, picks) != 0 ? -1 : 0;
        for (int k = 0; bad >= 0 && k < STEPS * ROWS; k++)
            bad += picks[k] != mj_sample(got3 + ((size_t)ROWS + k) * V, V, NULL, NULL);
        printf("  %-27s %-20s greedy on the device: %d of %d picks differ\n", what, mask, bad, STEPS * ROWS);
        CHECKF(bad == 0, "%s %s: device greedy picks differ from the logits' argmax (%d)", what, mask, bad);
        unsetenv("MJ_CUDA_SKINNY_MAX");
        check_one_row(gpu, p, &f, &R, ref, toks, V, what, mask);
        check_run_ahead(gpu, p, &f, &R, what, mask);
        /* prefix cache: the PREFIX tokens every row starts with (causal, positions q inside) */
        mj_prefix *pre = strcmp(mask, "alibi") && !quick ? mj_prefix_init(gpu, R.tok[0], PREFIX, err, sizeof err) : NULL;
        if (strcmp(mask, "alibi") && !quick) CHECKF(pre != NULL, "%s prefix: %s", what, err);
        if (pre && run(gpu, pre, p, &f, &R, got2, toks, NULL, NULL) == 0) {
            double agree, rel = compare(got2, ref, V, &agree);
            printf("  %-27s %-20s prefix cache                                 rel err %.2e  top-1 %.1f%%\n", what, mask, rel, 100 * agree);
            CHECKF(rel <= 3e-2 && agree >= 0.95, "%s prefix: rel %.3e top-1 %.3f", what, rel, agree);
        }
        mj_prefix_free(pre);
    }
    mj_engine_free(cpu);
    mj_engine_free(gpu);
    free(ref);
    free(got);
    free(got2);
    free(got3);
    rows_free(&R);
    mj_program_free(p);
    mj_test_model_release(&m);
}

/* One row (fusion_seed, 5 segments) through LONG_STEPS appends of the
 * given tokens, its key count crossing a 64-key block boundary while the
 * decode split count stays the same: logits [LONG_STEPS x V] and the seqs'
 * graph captures.  0 or -1. */
enum { LONG_STEPS = 12 };
static int run_long(mj_engine *e, const mj_program *p, const mj_mask_fns *f, const int32_t *tok, const mj_value *annot,
                    int32_t n, float *out, long long *captures) {
    int32_t V = mj_engine_model(e)->cfg.vocab;
    char err[512] = "";
    mj_row_spec spec = {tok, n, annot, NULL, NULL, n};
    mj_seqs *s = mj_seqs_init(e, p, f, 1, &spec, LONG_STEPS, err, sizeof err);
    if (!s) { fprintf(stderr, "row of %d: %s\n", n, err); return -1; }
    int rc = mj_seqs_prefill(s, out);
    for (int st = 0; rc == 0 && st < LONG_STEPS; st++) rc = mj_seqs_append(s, &tok[st], out + (size_t)st * V);
    if (rc != 0) fprintf(stderr, "row of %d: %s\n", n, mj_seqs_error(s));
    mj_cuda_stats stats;
    mj_cuda_seqs_stats(s, &stats);
    *captures = stats.graph_captures;
    mj_seqs_free(s);
    return rc;
}

/* A generation replays one decode graph: the graph's key is the attention
 * plan's launch shape (split count chosen for the row's capacity), not the
 * row's key block count, so a row growing past a 64-key boundary keeps its
 * graph (the older key re-captured: MJ_CUDA_GRAPH_KEY=blocks) and the
 * replayed steps equal eager ones bit for bit across the boundary.  n: the
 * prompt, 6 keys short of a block boundary. */
static void check_long_graph(int32_t n) {
    mj_model m;
    model_make(&m, MJ_ARCH_LLAMA, 64, 4, 2);
    int32_t V = m.cfg.vocab;
    mj_program *p = load_mask("fusion_seed");
    int a_seg = p ? mj_program_find_tokens(p, "seg") : -1;
    CHECK(p != NULL && a_seg >= 0);
    int32_t *tok = malloc((size_t)n * sizeof *tok);
    mj_value *annot = calloc((size_t)p->n_tokens * (size_t)n, sizeof *annot);
    for (int32_t i = 0; i < n; i++) {
        tok[i] = 1 + (int32_t)((frand() + 1.0f) * 0.5f * (float)(V - 2));
        annot[(size_t)a_seg * (size_t)n + (size_t)i].i = (int32_t)((int64_t)i * 5 / n);
    }
    char err[512] = "";
    mj_engine *e = mj_engine_init(&m, MJ_DEVICE_CUDA, 0, err, sizeof err);
    CHECKF(e != NULL, "row of %d: %s", n, err);
    mj_mask_fns f = mj_interp_fns(p);
    size_t nl = (size_t)(LONG_STEPS) * (size_t)V;
    float *a = malloc(nl * sizeof *a), *b = malloc(nl * sizeof *b), *c = malloc(nl * sizeof *c);
    long long cap_a = -1, cap_b = -1, cap_c = -1;
    int rc = e ? run_long(e, p, &f, tok, annot, n, a, &cap_a) : -1;
    setenv("MJ_CUDA_GRAPHS", "0", 1);
    rc |= e ? run_long(e, p, &f, tok, annot, n, b, &cap_b) : -1;
    unsetenv("MJ_CUDA_GRAPHS");
    setenv("MJ_CUDA_GRAPH_KEY", "blocks", 1);
    rc |= e ? run_long(e, p, &f, tok, annot, n, c, &cap_c) : -1;
    unsetenv("MJ_CUDA_GRAPH_KEY");
    /* the embedding by its own kernel instead of layer 0's q|k|v product: the same values */
    float *d = malloc(nl * sizeof *d);
    long long cap_d = -1;
    setenv("MJ_CUDA_FUSE_EMBED", "0", 1);
    rc |= e ? run_long(e, p, &f, tok, annot, n, d, &cap_d) : -1;
    unsetenv("MJ_CUDA_FUSE_EMBED");
    CHECKF(rc == 0, "row of %d: runs", n);
    if (rc == 0) {
        printf("  row of %d + %d tokens: graph captures %lld (key: blocks %lld, eager %lld)\n", n, LONG_STEPS,
               cap_a, cap_c, cap_b);
        CHECKF(cap_a == 1, "row of %d: %lld graph captures, expected one for the whole generation", n, cap_a);
        CHECKF(cap_c == 2, "row of %d: the block-count key captured %lld graphs, expected 2 (one boundary)", n, cap_c);
        CHECKF(memcmp(a, b, nl * sizeof *a) == 0, "row of %d: replayed steps differ from eager ones", n);
        CHECKF(memcmp(c, b, nl * sizeof *c) == 0, "row of %d: the block-count key's steps differ from eager ones", n);
        CHECKF(memcmp(d, a, nl * sizeof *d) == 0, "row of %d: the embedding kernel gives other logits than the "
                                                  "embedding gathered by layer 0's q|k|v product", n);
    }
    free(d);
    mj_engine_free(e);
    free(a);
    free(b);
    free(c);
    free(tok);
    free(annot);
    mj_program_free(p);
    mj_test_model_release(&m);
}

/* mj_fwd_argmax on crafted rows of V logits against mj_sample (greedy):
 * the largest value, lowest index among equals, NaN never wins, 0 when no
 * value beats -inf; with the default grid, one block a row and the most
 * blocks MJ_CUDA_ARGMAX_BLOCKS allows (more blocks than logits at small V). */
static void check_argmax(int32_t V) {
    enum { NR = 6 };
    char err[512] = "";
    mj_cu *cu = mj_cu_open(err, sizeof err);
    mj_fwd_kernels k;
    if (!cu || mj_fwd_kernels_load(cu, &k, err, sizeof err) != 0) {
        CHECKF(0, "argmax V=%d: kernels: %s", V, err);
        return;
    }
    const float ninf = -INFINITY, nan = NAN;
    float *x = malloc((size_t)NR * (size_t)V * sizeof(float));
    for (int64_t i = 0; i < (int64_t)NR * V; i++) x[i] = frand();
    float *r1 = x + V, *r2 = x + 2 * (int64_t)V, *r3 = x + 3 * (int64_t)V, *r4 = x + 4 * (int64_t)V,
          *r5 = x + 5 * (int64_t)V;
    if (V >= 3) { r1[V - 3] = 5.0f; r1[V / 2] = 5.0f; r1[7 % V] = 5.0f; }   /* ties in different blocks: the lowest */
    for (int32_t i = 0; i < V; i++) r2[i] = i % 3 ? nan : -2.0f;   /* NaN never wins */
    r2[V - 1] = 0.5f;
    for (int32_t i = 0; i < V; i++) r3[i] = ninf;                  /* nothing beats -inf: 0 */
    for (int32_t i = 0; i < V; i++) r4[i] = i == V / 3 ? nan : ninf;
    for (int32_t i = 0; i < V; i++) r5[i] = 1.0f;                  /* all equal: 0 */
    const int32_t want[NR] = {-1, V >= 3 ? 7 % V : -1, V - 1, 0, 0, 0};
    static const mj_sampling greedy = {0.0f, 0, 1.0f, 0};
    mj_cu_ptr d_x = 0, d_g = 0;
    int rc = mj_cu_alloc(cu, &d_x, (size_t)NR * (size_t)V * 4) || mj_cu_alloc(cu, &d_g, cuda_greedy_bytes(NR)) ||
             mj_cu_upload(cu, d_x, x, (size_t)NR * (size_t)V * 4) || mj_cu_memset8(cu, d_g, 0, cuda_greedy_bytes(NR));
    mj_cu_ptr cnt = d_g + cuda_greedy_cnt_offset(NR), part = d_g + cuda_greedy_part_offset(NR), host = 0;
    mj_cu_ptr seq = d_g + cuda_greedy_seq_offset(NR);
    int hstride = NR;
    void *args[] = {&d_x, &d_g, &cnt, &part, &V, &host, &seq, &hstride};
    int32_t *hmap = NULL;
    mj_cu_ptr dmap = 0;
    rc = rc || mj_cu_host_alloc_mapped(cu, (void **)&hmap, &dmap, 2 * NR * sizeof(int32_t));
    /* passes 1-4 also write the picks into mapped host memory, halves 0, 1,
     * 0, 1; passes 3 and 4 with one block a row and with the most */
    static const unsigned grids[] = {CUDA_ARGMAX_BLOCKS, CUDA_ARGMAX_BLOCKS, CUDA_ARGMAX_BLOCKS, 1,
                                     CUDA_ARGMAX_BLOCKS_MAX};
    for (int pass = 0; rc == 0 && pass < 5; pass++) {
        int32_t ids[NR];
        const int half = (pass - 1) & 1;
        host = pass ? dmap : 0;
        if (pass) memset(hmap + half * NR, 0x7f, NR * sizeof(int32_t));
        rc = mj_cu_memset8(cu, d_g, 0xff, cuda_greedy_cnt_offset(NR)) ||   /* picks only: counters stay as left */
             mj_cu_launch(cu, k.fn[FK_ARGMAX], grids[pass], NR, 1, 256, 0, args) || mj_cu_sync(cu) ||
             mj_cu_download(cu, ids, d_g, sizeof ids);
        for (int r = 0; rc == 0 && r < NR; r++) {
            int32_t host_pick = mj_sample(x + (int64_t)r * V, V, &greedy, NULL);
            CHECKF(ids[r] == host_pick, "argmax V=%d pass %d (%u blocks) row %d: device %d, host %d", V, pass,
                   grids[pass], r, ids[r], host_pick);
            if (want[r] >= 0)
                CHECKF(host_pick == want[r], "argmax V=%d row %d: host %d, expected %d", V, r, host_pick, want[r]);
            if (pass)
                CHECKF(hmap[half * NR + r] == ids[r], "argmax V=%d pass %d row %d: mapped pick %d, not %d", V,
                       pass, r, hmap[half * NR + r], ids[r]);
        }
    }
    mj_cu_host_free(cu, hmap);
    CHECKF(rc == 0, "argmax V=%d: %s", V, mj_cu_error(cu));
    mj_cu_free(cu, d_x);
    mj_cu_free(cu, d_g);
    mj_fwd_kernels_unload(cu, &k);
    free(x);
}

int main(void) {
    mj_model m;
    model_make(&m, MJ_ARCH_LLAMA, 64, 4, 2);
    char err[512] = "";
    mj_engine *e = mj_engine_init(&m, MJ_DEVICE_CUDA, 0, err, sizeof err);
    if (!e) {
        CHECKF(err[0] != '\0', "no message when the CUDA engine cannot open");
        mj_engine *a = mj_engine_init(&m, MJ_DEVICE_AUTO, 1, err, sizeof err);
        CHECKF(a != NULL, "auto does not fall back to the CPU: %s", err);
        mj_engine_free(a);
        mj_test_model_release(&m);
        mj_test_finish();
        SKIP_ALL("no usable GPU for the CUDA engine (%s)", err);
    }
    mj_engine_free(e);
    mj_test_model_release(&m);
    const char *qv = getenv("MJ_TEST_QUICK");
    quick = qv && *qv == '1';
    const int32_t vocabs[] = {1, 31, 1000, 128256, 151936};
    for (size_t i = 0; i < sizeof vocabs / sizeof vocabs[0]; i++) check_argmax(vocabs[i]);
    mj_cu *cu = mj_cu_open(err, sizeof err);
    int sms = cu ? mj_cu_sm_count(cu) : 0;   /* the process-wide handle: nothing to close */
    CHECKF(sms > 0, "SM count: %s", err);
    if (sms > 0) {
        check_long_graph(64 * 3 - 6);              /* fewer key blocks than splits would fill */
        check_long_graph(64 * (sms / 2 + 2) - 6);  /* 2 KV heads: more blocks than SMs / 2 splits */
    }
    const char *masks[] = {"fusion_seed", "causal", "fusion_shared_prefix", "alibi"};
    if (quick) {
        check_model("llama D64 H4/2 llama3-rope", MJ_ARCH_LLAMA, 64, 4, 2, masks[0]);
        return mj_test_finish();
    }
    for (size_t i = 0; i < sizeof masks / sizeof masks[0]; i++)
        check_model("llama D64 H4/2 llama3-rope", MJ_ARCH_LLAMA, 64, 4, 2, masks[i]);
    check_model("qwen2 D128 H4/1 bias", MJ_ARCH_QWEN2, 128, 4, 1, "fusion_seed");
    check_model("qwen3 D64 H8/2 qk-norm", MJ_ARCH_QWEN3, 64, 8, 2, "fusion_shared_prefix");
    check_model("llama D32 H8/4 (naive attn)", MJ_ARCH_LLAMA, 32, 8, 4, "fusion_seed");
    return mj_test_finish();
}
