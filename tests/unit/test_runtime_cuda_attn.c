/* test_runtime_cuda_attn.c — the block-sparse attention kernels on a GPU
 * against a CPU reference (f64 attention over bf16 inputs, the interpreter's
 * mask and score) for every example mask plus one with empty rows: ragged
 * prefill batches (incl. chunked prefill against a longer cache), decode with
 * 1..16 queries per row against a cache with gaps, GQA groups of 2 and 3,
 * head dims 64 and 128, long rows (16 384) with sampled queries.  Checks:
 * max |out - ref| / max |ref| <= 1e-2, no NaN, every output written, rows
 * with no visible key exactly zero, positions equal to the interpreter's, the
 * same plan on copies of the tensors (mj_attn_set_tensors) bit-identical, a
 * decode plan right after others of its shape (uploads only what changed),
 * decode splits chosen for rows that may grow (k_cap: empty splits).
 * Skips with a message where no GPU or driver is present.  MJ_ATTN_ONLY=NAME
 * runs one example; MJ_ATTN_NO_LONG=1 skips the long rows (for
 * compute-sanitizer runs).  On sm_90a (unless MJ_ATTN_PERSIST is set) the
 * fusion_seed and causal examples run a second and a third time with the
 * persistent prefill kernel forced on (MJ_ATTN_PERSIST=1), the third on 7
 * CTAs (MJ_ATTN_PERSIST_CTAS=7: each walks dozens of tiles); a case line
 * says "(persistent)" where a plan ran that kernel, e.g. by the auto rule
 * on the 8 x 2048-token rows. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "cuda_attn.h"
#include "gpu_testutil.h"
#include "interp.h"
#include "support/testlib.h"

static mj_cu *cu;
static double worst_rel;
static bool expect_persist;   /* every prefill plan must run the persistent kernel (a forced pass) */

typedef struct attn_case {
    const char *name;
    int n_rows, H, Hkv, D;
    const int *q_len, *k_len;
    bool decode, gaps;
    int sample;           /* >0: check this many queries per row at most */
} attn_case;

/* Host data of one case. */
typedef struct case_data {
    const mj_program *p;
    const attn_case *c;
    gt_row *rows;
    uint16_t *q, *k, *v, *o;
    int64_t *k_start, *q_off;
    int64_t total_q, total_kv;
    /* the checked (row, query) pairs */
    int32_t *chk_row, *chk_q;
    int64_t n_chk;
    double *err, *refmax;     /* per checked pair */
    int *bad_nan, *bad_empty; /* per checked pair */
} case_data;

/* Reference output of one (row, query) for every head; compares with GPU. */
static void ref_one(void *ctx, int64_t i) {
    case_data *cd = ctx;
    const attn_case *c = cd->c;
    int r = cd->chk_row[i], qi = cd->chk_q[i], D = c->D, G = c->H / c->Hkv;
    int nq = c->q_len[r], nk = c->k_len[r], qa = nk - nq + qi;
    const mj_env *env = &cd->rows[r].env;
    double *s = malloc(sizeof(double) * (size_t)(nk ? nk : 1)), acc[128];
    double err = 0, refmax = 0;
    int nan = 0, empty_bad = 0;
    for (int h = 0; h < c->H; h++) {
        const uint16_t *qv = cd->q + (cd->q_off[r] + qi) * (int64_t)c->H * D + (int64_t)h * D;
        double mx = -INFINITY;
        for (int kv = 0; kv < nk; kv++) {
            s[kv] = -INFINITY;
            if (!mj_interp_mask(cd->p, env, qa, kv, h)) continue;
            const uint16_t *kk = cd->k + (cd->k_start[r] + kv) * (int64_t)c->Hkv * D + (int64_t)(h / G) * D;
            double dot = 0;
            for (int d = 0; d < D; d++) dot += (double)gt_bf2f(qv[d]) * gt_bf2f(kk[d]);
            float raw = (float)(dot / sqrt((double)D));
            s[kv] = mj_interp_score(cd->p, env, qa, kv, h, raw);
            if (s[kv] > mx) mx = s[kv];
        }
        double l = 0;
        for (int d = 0; d < D; d++) acc[d] = 0;
        if (mx > -INFINITY)
            for (int kv = 0; kv < nk; kv++) {
                if (s[kv] == -INFINITY) continue;
                double w = exp(s[kv] - mx);
                l += w;
                const uint16_t *vv = cd->v + (cd->k_start[r] + kv) * (int64_t)c->Hkv * D + (int64_t)(h / G) * D;
                for (int d = 0; d < D; d++) acc[d] += w * gt_bf2f(vv[d]);
            }
        const uint16_t *ov = cd->o + (cd->q_off[r] + qi) * (int64_t)c->H * D + (int64_t)h * D;
        for (int d = 0; d < D; d++) {
            double ref = l > 0 ? acc[d] / l : 0.0, got = gt_bf2f(ov[d]);
            if (isnan(got)) nan++;
            if (l == 0 && ov[d] != 0 && ov[d] != 0x8000) empty_bad++;
            if (fabs(got - ref) > err) err = fabs(got - ref);
            if (fabs(ref) > refmax) refmax = fabs(ref);
        }
    }
    cd->err[i] = err;
    cd->refmax[i] = refmax;
    cd->bad_nan[i] = nan;
    cd->bad_empty[i] = empty_bad;
    free(s);
}

static void fill_bf16(uint16_t *x, int64_t n, float amp) {
    for (int64_t i = 0; i < n; i++) x[i] = gt_f2bf((2.0f * gt_unit() - 1.0f) * amp);
}

/* Chooses the checked queries of each row. */
static void pick_checks(case_data *cd) {
    const attn_case *c = cd->c;
    cd->chk_row = malloc(sizeof(int32_t) * (size_t)(cd->total_q + 1));
    cd->chk_q = malloc(sizeof(int32_t) * (size_t)(cd->total_q + 1));
    cd->n_chk = 0;
    for (int r = 0; r < c->n_rows; r++) {
        int nq = c->q_len[r];
        for (int qi = 0; qi < nq; qi++) {
            bool take = c->sample <= 0 || nq <= c->sample || qi == 0 || qi == nq - 1 ||
                        gt_int(0, nq - 1) < c->sample;
            if (take) { cd->chk_row[cd->n_chk] = r; cd->chk_q[cd->n_chk++] = qi; }
        }
    }
}

/* A decode plan uploads only the bytes of its staging image that differ from
 * the previous decode plan's and rebuilds the annotation summaries only when
 * the annotations differ (cuda_attn.c, staging_delta).  Before the checked
 * plan of batch b, two plans of the same shape with one key fewer per row:
 * the first with every annotation track reversed, the second with b's own
 * annotations.  The checked plan then differs from the device's image in
 * its lengths alone, and its summaries are the ones the second plan rebuilt
 * (a stale check that missed the change back would leave the reversed ones). */
static void decode_decoys(mj_attn *a, const mj_program *p, mj_attn_batch b, const char *what) {
    mj_env *de = calloc((size_t)b.n_rows, sizeof *de);
    int32_t *kl = calloc((size_t)b.n_rows, sizeof *kl);
    mj_value **rev = calloc((size_t)b.n_rows, sizeof *rev);
    for (int r = 0; r < b.n_rows; r++) {
        kl[r] = b.k_len[r] - 1 >= b.q_len[r] ? b.k_len[r] - 1 : b.k_len[r];
        de[r] = b.envs[r];
        int64_t tl = b.envs[r].tokens_len;
        if (p->n_tokens <= 0 || tl <= 0) continue;
        rev[r] = malloc((size_t)(p->n_tokens * tl) * sizeof(mj_value));
        for (int t = 0; t < p->n_tokens; t++)
            for (int64_t i = 0; i < tl; i++)
                rev[r][t * tl + i] = b.envs[r].tokens[t * b.envs[r].tokens_stride + tl - 1 - i];
        de[r].tokens = rev[r];
        de[r].tokens_stride = tl;
    }
    const mj_env *own = b.envs;
    b.k_len = kl;
    b.envs = de;
    CHECKF(mj_attn_decode(a, &b) == 0, "%s: reversed-annotation plan: %s", what, mj_attn_error(a));
    b.envs = own;
    CHECKF(mj_attn_decode(a, &b) == 0, "%s: one-key-fewer plan: %s", what, mj_attn_error(a));
    for (int r = 0; r < b.n_rows; r++) free(rev[r]);
    free(rev);
    free(kl);
    free(de);
}

static void run_case(const mj_program *p, const char *pname, mj_attn *a, const attn_case *c) {
    case_data cd = {.p = p, .c = c};
    int D = c->D;
    cd.rows = calloc((size_t)c->n_rows, sizeof *cd.rows);
    cd.k_start = calloc((size_t)c->n_rows, sizeof(int64_t));
    cd.q_off = calloc((size_t)c->n_rows + 1, sizeof(int64_t));
    mj_env *envs = calloc((size_t)c->n_rows, sizeof *envs);
    for (int r = 0; r < c->n_rows; r++) {
        int nk = c->k_len[r], nq = c->q_len[r];
        int prompt = c->decode && (r & 1) == 0 ? nk - nq : nk * 3 / 4;
        gt_row_init(&cd.rows[r], p, nk, prompt, c->H, r);
        envs[r] = cd.rows[r].env;
        cd.k_start[r] = cd.total_kv + (c->gaps ? 37 : 0);
        cd.total_kv = cd.k_start[r] + nk;
        cd.q_off[r + 1] = cd.q_off[r] + nq;
    }
    cd.total_q = cd.q_off[c->n_rows];
    int64_t nqe = cd.total_q * c->H * D, nke = (cd.total_kv + 1) * c->Hkv * D;
    cd.q = malloc((size_t)(nqe + 1) * 2);
    cd.o = malloc((size_t)(nqe + 1) * 2);
    cd.k = malloc((size_t)nke * 2);
    cd.v = malloc((size_t)nke * 2);
    fill_bf16(cd.q, nqe, 2.0f);
    fill_bf16(cd.k, nke, 1.0f);
    fill_bf16(cd.v, nke, 1.0f);
    mj_cu_ptr dq, dk, dv, dout, dpos;
    CHECK(mj_cu_alloc(cu, &dq, (size_t)(nqe + 1) * 2) == 0 && mj_cu_alloc(cu, &dk, (size_t)nke * 2) == 0 &&
          mj_cu_alloc(cu, &dv, (size_t)nke * 2) == 0 && mj_cu_alloc(cu, &dout, (size_t)(nqe + 1) * 2) == 0 &&
          mj_cu_alloc(cu, &dpos, (size_t)(cd.total_q + 1) * 4) == 0);
    mj_cu_upload(cu, dq, cd.q, (size_t)nqe * 2);
    mj_cu_upload(cu, dk, cd.k, (size_t)nke * 2);
    mj_cu_upload(cu, dv, cd.v, (size_t)nke * 2);
    mj_cu_memset8(cu, dout, 0xff, (size_t)nqe * 2);   /* poison: NaN where unwritten */
    int32_t *kl = malloc(sizeof(int32_t) * (size_t)c->n_rows);
    memcpy(kl, c->k_len, sizeof(int32_t) * (size_t)c->n_rows);
    /* rows of the cases with gaps in the cache may grow by 3 blocks (k_cap): their
     * split count is chosen for that, the splits past the rows' keys are empty */
    int32_t *kc = malloc(sizeof(int32_t) * (size_t)c->n_rows);
    for (int r = 0; r < c->n_rows; r++) kc[r] = c->k_len[r] + 3 * 64;
    mj_attn_batch b = {c->n_rows, c->H, c->Hkv, c->q_len, kl, cd.k_start, dq, dk, dv, dout, 0, 0, envs,
                       c->gaps ? kc : NULL};
    if (c->decode) {
        decode_decoys(a, p, b, c->name);
        CHECK(mj_cu_sync(cu) == 0 && mj_cu_memset8(cu, dout, 0xff, (size_t)nqe * 2) == 0);   /* poison again */
    }
    int rc = c->decode ? mj_attn_decode(a, &b) : mj_attn_prefill(a, &b);
    CHECKF(rc == 0, "%s %s: %s", pname, c->name, mj_attn_error(a));
    const bool persistent = rc == 0 && mj_attn_persistent(a);
    CHECKF(c->decode || rc != 0 || !expect_persist || persistent, "%s %s: not the persistent kernel", pname,
           c->name);
    if (rc == 0 && !c->decode) CHECKF(mj_attn_positions(a, dpos) == 0, "%s", mj_attn_error(a));
    CHECKF(mj_cu_sync(cu) == 0, "%s %s: %s", pname, c->name, mj_cu_error(cu));
    mj_cu_download(cu, cd.o, dout, (size_t)nqe * 2);
    /* the same plan on copies of the tensors (mj_attn_set_tensors): identical output */
    mj_cu_ptr dk2 = 0, dv2 = 0, dout2 = 0;
    if (rc == 0 && mj_cu_alloc(cu, &dk2, (size_t)nke * 2) == 0 && mj_cu_alloc(cu, &dv2, (size_t)nke * 2) == 0 &&
        mj_cu_alloc(cu, &dout2, (size_t)(nqe + 1) * 2) == 0) {
        uint16_t *o2 = malloc((size_t)(nqe + 1) * 2);
        mj_cu_upload(cu, dk2, cd.k, (size_t)nke * 2);
        mj_cu_upload(cu, dv2, cd.v, (size_t)nke * 2);
        mj_cu_memset8(cu, dout2, 0xff, (size_t)nqe * 2);
        CHECK(mj_attn_set_tensors(a, dq, dk2, dv2, dout2) == 0 && mj_attn_run(a) == 0 && mj_cu_sync(cu) == 0);
        mj_cu_download(cu, o2, dout2, (size_t)nqe * 2);
        CHECKF(!memcmp(o2, cd.o, (size_t)nqe * 2), "%s %s: set_tensors changed the output", pname, c->name);
        free(o2);
    }
    mj_cu_free(cu, dk2); mj_cu_free(cu, dv2); mj_cu_free(cu, dout2);
    if (rc == 0 && !c->decode) {
        int32_t *pos = malloc(sizeof(int32_t) * (size_t)(cd.total_q + 1));
        mj_cu_download(cu, pos, dpos, (size_t)cd.total_q * 4);
        int64_t bad = 0;
        for (int r = 0; r < c->n_rows; r++)
            for (int qi = 0; qi < c->q_len[r]; qi++)
                bad += pos[cd.q_off[r] + qi] != mj_interp_position(p, &cd.rows[r].env, c->k_len[r] - c->q_len[r] + qi);
        CHECKF(bad == 0, "%s %s: %lld positions differ", pname, c->name, (long long)bad);
        free(pos);
    }
    pick_checks(&cd);
    cd.err = calloc((size_t)cd.n_chk + 1, sizeof(double));
    cd.refmax = calloc((size_t)cd.n_chk + 1, sizeof(double));
    cd.bad_nan = calloc((size_t)cd.n_chk + 1, sizeof(int));
    cd.bad_empty = calloc((size_t)cd.n_chk + 1, sizeof(int));
    gt_parallel_for(cd.n_chk, ref_one, &cd);
    double err = 0, refmax = 0;
    int64_t nan = 0, empty = 0;
    for (int64_t i = 0; i < cd.n_chk; i++) {
        err = cd.err[i] > err ? cd.err[i] : err;
        refmax = cd.refmax[i] > refmax ? cd.refmax[i] : refmax;
        nan += cd.bad_nan[i];
        empty += cd.bad_empty[i];
    }
    double rel = refmax > 0 ? err / refmax : err;
    if (rel > worst_rel) worst_rel = rel;
    CHECKF(rel <= 1e-2, "%s %s D=%d: rel err %.3g (max abs %.3g, max ref %.3g)", pname, c->name, D, rel, err, refmax);
    CHECKF(nan == 0, "%s %s D=%d: %lld NaN / unwritten outputs", pname, c->name, D, (long long)nan);
    CHECKF(empty == 0, "%s %s D=%d: %lld outputs of empty rows not zero", pname, c->name, D, (long long)empty);
    printf("  %-28s %-14s D=%3d  rel err %.2e  (%lld queries checked)%s\n", pname, c->name, D, rel,
           (long long)cd.n_chk, persistent ? " (persistent)" : "");
    mj_cu_free(cu, dq); mj_cu_free(cu, dk); mj_cu_free(cu, dv); mj_cu_free(cu, dout); mj_cu_free(cu, dpos);
    for (int r = 0; r < c->n_rows; r++) gt_row_free(&cd.rows[r]);
    free(cd.rows); free(cd.k_start); free(cd.q_off); free(envs); free(kl); free(kc);
    free(cd.q); free(cd.k); free(cd.v); free(cd.o);
    free(cd.chk_row); free(cd.chk_q); free(cd.err); free(cd.refmax); free(cd.bad_nan); free(cd.bad_empty);
}

/* ---- the cases ------------------------------------------------------------------------------ */
static const int pf_q[] = {1, 63, 64, 65, 300, 1000, 200, 5}, pf_k[] = {1, 63, 64, 65, 300, 1000, 700, 129};
static const int dc_q[] = {1, 1, 3, 1, 8, 16}, dc_k[] = {1, 100, 1500, 5000, 777, 300};
static const int g3_q[] = {1, 5, 16}, g3_k[] = {2048, 600, 300};
static const int lg_q[] = {16384}, lg_k[] = {16384};
/* 8 rows of 2048 tokens (queries = keys), 16 heads: 2048 (tile, head) pairs, the short-tile shape of the
 * persistent prefill kernel */
static const int b82[] = {2048, 2048, 2048, 2048, 2048, 2048, 2048, 2048};
static const int ld_q[] = {1, 2}, ld_k[] = {16384, 9000};
/* one row on 2 kv heads: a wave of 66 splits or more (79 with the slack
 * for a one-block chain), past the combine kernel's first 32 */
static const int one_q[] = {1}, one_k[] = {5000};
/* 8 rows x 8 kv heads: 2 splits of 132 SMs (a cluster of 2 with MJ_ATTN_DECODE_CLUSTER) */
static const int b8_q[] = {1, 1, 1, 1, 1, 1, 2, 1}, b8_k[] = {2048, 2000, 1500, 64, 1, 700, 4097, 3000};

/* Inputs the kernels cannot take are refused by the plan with a message
 * (never a misaligned access on the GPU). */
static void check_bad_inputs(mj_attn *a, const char *name, int D) {
    static const int ql[] = {4}, kl[] = {4};
    mj_env env;
    memset(&env, 0, sizeof env);
    const mj_cu_ptr base = 0x10000;   /* never dereferenced: the checks come first */
    mj_attn_batch b = {1, 4, 2, ql, kl, NULL, base, base, base, base + 2, 0, 0, &env, NULL};
    CHECKF(mj_attn_plan(a, &b, false) != 0, "%s D=%d: misaligned o accepted", name, D);
    CHECKF(!strcmp(mj_attn_error(a), "q, k, v and o must be 16-byte aligned device addresses"), "%s",
           mj_attn_error(a));
    b.o = base;
    b.q_tok_stride = 4 * D + 4;
    CHECKF(mj_attn_plan(a, &b, true) != 0, "%s D=%d: odd token stride accepted", name, D);
    char want[160];
    snprintf(want, sizeof want,
             "bad token strides: q %d, kv %d elements (need at least heads x head_dim, multiples of 8)", 4 * D + 4,
             2 * D);
    CHECKF(!strcmp(mj_attn_error(a), want), "got \"%s\"", mj_attn_error(a));
    b.q_tok_stride = 2 * D;   /* rows overlapping their neighbours' heads */
    CHECKF(mj_attn_plan(a, &b, false) != 0, "%s D=%d: short token stride accepted", name, D);
}

static void run_program(const mj_program *p, const char *name, bool long_rows) {
    for (int D = 64; D <= 128; D += 64) {
        mj_diags d;
        mj_diags_init(&d);
        mj_attn *a = mj_attn_init(cu, p, D, NULL, &d);
        if (!a) mj_diags_print(&d, stderr);
        CHECKF(a != NULL, "%s D=%d: kernels do not compile/load", name, D);
        mj_diags_free(&d);
        if (!a) continue;
        check_bad_inputs(a, name, D);
        attn_case cases[] = {
            {"prefill-ragged", 8, 4, 2, D, pf_q, pf_k, false, false, 0},
            {"decode", 6, 4, 2, D, dc_q, dc_k, true, true, 0},
            {"decode-gqa3", 3, 6, 2, D, g3_q, g3_k, true, false, 0},
            {"decode-b8", 8, 24, 8, D, b8_q, b8_k, true, false, 0},
            {"decode-1row", 1, 4, 2, D, one_q, one_k, true, false, 0},
            {"prefill-16k", 1, 2, 1, D, lg_q, lg_k, false, false, 96},
            {"decode-16k", 2, 8, 2, D, ld_q, ld_k, true, true, 0},
            {"prefill-b8-2k", 8, 16, 8, D, b82, b82, false, false, 24},
        };
        int n = long_rows && D == 128 ? 8 : 5;
        for (int i = 0; i < n; i++) run_case(p, name, a, &cases[i]);
        mj_attn_free(a);
    }
}

/* The fusion_seed and causal examples with the persistent prefill kernel
 * forced on (sm_90a only, and only where MJ_ATTN_PERSIST is not set
 * already): on one CTA per SM, then on 7 CTAs walking dozens of tiles each
 * (K/V ring phases, fact hand-overs and Q buffers reused across tiles,
 * tiles without steps in between). */
static void run_persistent(mj_program **progs, const char **names, int np, const char *only, bool no_long) {
    const char *ws = getenv("MJ_ATTN_WS"), *nw = getenv("MJ_ATTN_NO_WGMMA");
    if (strcmp(mj_cu_arch(cu), "sm_90a") != 0 || getenv("MJ_ATTN_PERSIST") || (ws && !strcmp(ws, "0")) ||
        (nw && *nw && strcmp(nw, "0") != 0))
        return;
    static const char *ctas[] = {NULL, "7"};
    setenv("MJ_ATTN_PERSIST", "1", 1);
    expect_persist = true;
    for (int v = 0; v < 2; v++) {
        if (ctas[v]) setenv("MJ_ATTN_PERSIST_CTAS", ctas[v], 1);
        else unsetenv("MJ_ATTN_PERSIST_CTAS");
        for (int i = 0; i < np; i++) {
            if (!strstr(names[i], "fusion_seed") && !strstr(names[i], "causal")) continue;
            if (only && !strstr(names[i], only)) continue;
            char label[64];
            snprintf(label, sizeof label, "%s/persist%s%s", names[i], ctas[v] ? "-ctas" : "", ctas[v] ? ctas[v] : "");
            run_program(progs[i], label, !no_long);
        }
    }
    unsetenv("MJ_ATTN_PERSIST_CTAS");
    unsetenv("MJ_ATTN_PERSIST");
    expect_persist = false;
}

/* Warm the disk cache for every (program, head dim) in parallel. */
typedef struct warm_ctx { mj_program **progs; int n; } warm_ctx;
static void warm_one(void *ctx, int64_t i) {
    warm_ctx *w = ctx;
    mj_diags d;
    mj_diags_init(&d);
    mj_attn_warm(w->progs[i / 2], mj_cu_arch(cu), i % 2 ? 128 : 64, NULL, &d);
    mj_diags_free(&d);
}

int main(void) {
    char err[512];
    cu = mj_cu_open(err, sizeof err);
    if (!cu) SKIP_ALL("no GPU: %s", err);
    printf("GPU: %s (%s, %d SMs)\n", mj_cu_name(cu), mj_cu_arch(cu), mj_cu_sm_count(cu));
    char *ex[128];
    int n = gt_examples(mj_test_path("examples"), ex, 128);
    CHECKF(n >= 14, "only %d examples", n);
    mj_program *progs[130];
    const char *names[130];
    int np = 0;
    static const char empty_src[] =
        "tokens seg: int = -1\nmask = kv < q && seg[q] >= 0 && seg[q] == seg[kv]\n";
    mj_diags d;
    mj_diags_init(&d);
    progs[np] = mj_compile_string("empty_rows.mask", empty_src, sizeof empty_src - 1, NULL, &d);
    names[np] = "empty_rows.mask";
    CHECK(progs[np] != NULL);
    if (progs[np]) np++;
    for (int i = 0; i < n; i++) {
        progs[np] = mj_compile_file(ex[i], NULL, &d);
        names[np] = strrchr(ex[i], '/') + 1;
        CHECKF(progs[np] != NULL, "%s", ex[i]);
        if (progs[np]) np++;
    }
    mj_diags_print(&d, stderr);
    mj_diags_free(&d);
    const char *only = getenv("MJ_ATTN_ONLY");   /* development: one example */
    const char *no_long = getenv("MJ_ATTN_NO_LONG");
    warm_ctx w = {progs, np};
    gt_parallel_for((int64_t)np * 2, warm_one, &w);
    for (int i = 0; i < np; i++) {
        if (only && !strstr(names[i], only)) continue;
        bool long_rows = strstr(names[i], "fusion_seed") || strstr(names[i], "causal") ||
                         strstr(names[i], "sliding_window") || strstr(names[i], "empty_rows");
        if (no_long && *no_long == '1') long_rows = false;   /* compute-sanitizer runs */
        run_program(progs[i], names[i], long_rows);
    }
    run_persistent(progs, names, np, only, no_long && *no_long == '1');
    printf("worst relative error %.3g\n", worst_rel);
    for (int i = 0; i < np; i++) mj_program_free(progs[i]);
    for (int i = 0; i < n; i++) free(ex[i]);
    return mj_test_finish();
}
