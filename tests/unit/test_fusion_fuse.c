/* test_fusion_fuse.c — the generation core of the fusion methods on a tiny
 * random model: ensemble-avg / ensemble-max / weighted variants checked token
 * by token against a direct computation (each paraphrase in its own
 * sequence, logits combined here in double precision), per-group stops (EOS,
 * newline, length; never batch-wide), the prefix cache giving the same
 * answers, and the combine rules on hand-made logits. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compile.h"
#include "fuse.h"
#include "interp.h"
#include "model.h"
#include "support/testlib.h"

#define MAXNEW 6

static int32_t newline_id = -1;

/* id -> one letter; newline_id -> "\n". */
static char *decode(void *ctx, const int32_t *ids, size_t n) {
    (void)ctx;
    char *s = malloc(n + 1);
    for (size_t i = 0; i < n; i++) s[i] = ids[i] == newline_id ? '\n' : (char)('a' + ids[i] % 26);
    s[n] = 0;
    return s;
}

static void test_pick(void) {
    float lg[2 * 4] = {1, 3, 2, 0,    /* row 0 */
                       0, 0, 5, 0};   /* row 1 */
    float scratch[4], w[2] = {0.9f, 0.1f};
    CHECK(mj_combine_pick(MJ_COMBINE_FIRST, lg, 2, 4, NULL, scratch) == 1);
    CHECK(mj_combine_pick(MJ_COMBINE_AVG, lg, 2, 4, NULL, scratch) == 2);      /* means 0.5 1.5 3.5 0 */
    CHECK(mj_combine_pick(MJ_COMBINE_MAX, lg, 2, 4, NULL, scratch) == 2);      /* row 1's p(2) ~ 0.98 */
    CHECK(mj_combine_pick(MJ_COMBINE_WAVG, lg, 2, 4, w, scratch) == 1);        /* 0.9 2.7 2.3 0 */
    CHECK(mj_combine_pick(MJ_COMBINE_WMAX, lg, 2, 4, w, scratch) == 1);
    w[0] = 0.1f, w[1] = 0.9f;
    CHECK(mj_combine_pick(MJ_COMBINE_WMAX, lg, 2, 4, w, scratch) == 2);
    float tie[3] = {2, 2, 1};
    CHECK(mj_combine_pick(MJ_COMBINE_FIRST, tie, 1, 3, NULL, scratch) == 0);   /* lowest id on ties */
    float u[4] = {0, 0, 0, 0};
    CHECK(fabsf(mj_max_prob(u, 4) - 0.25f) < 1e-6f);
    char *l = mj_first_line("  \n Paris is\tnice \nsecond");
    CHECK(!strcmp(l, "Paris is\tnice"));
    free(l);
}

typedef struct fixture {
    mj_model m;
    mj_engine *e;
    mj_program *causal;
    mj_mask_fns fns;
    int32_t toks[3][12];
    int32_t len[3];
    mj_row_spec rows[3];
} fixture;

static int fixture_init(fixture *f, const char *dir) {
    mj_make_opts o;
    mj_make_opts_default(&o);
    o.vocab = 97;
    o.seed = 7;
    char err[512];
    if (mj_model_make_random(&o, dir, err, sizeof err) || mj_model_load(&f->m, dir, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    f->e = mj_engine_init(&f->m, MJ_DEVICE_CPU, 1, err, sizeof err);
    mj_diags d;
    mj_diags_init(&d);
    const char *src = "mask = kv <= q\n";
    f->causal = mj_compile_string("causal.mask", src, strlen(src), NULL, &d);
    mj_diags_free(&d);
    if (!f->e || !f->causal) return -1;
    f->fns = mj_interp_fns(f->causal);
    int32_t lens[3] = {7, 11, 5};
    for (int r = 0; r < 3; r++) {
        f->len[r] = lens[r];
        for (int i = 0; i < lens[r]; i++) f->toks[r][i] = (i < 4 ? 3 * i + 1 : 13 * r + 5 * i) % 97;
        f->rows[r] = (mj_row_spec){f->toks[r], lens[r], NULL, NULL, NULL, 0};
    }
    return 0;
}

/* Direct computation: each row in its own sequence, combined in double. */
static void direct(fixture *f, mj_combine c, int32_t *want, int *n_want) {
    int32_t V = f->m.cfg.vocab;
    mj_seqs *s[3];
    float *lg = malloc(3 * (size_t)V * sizeof *lg);
    double *acc = malloc((size_t)V * sizeof *acc);
    for (int r = 0; r < 3; r++) {
        s[r] = mj_seqs_init(f->e, f->causal, &f->fns, 1, &f->rows[r], MAXNEW, NULL, 0);
        mj_seqs_prefill(s[r], lg + (size_t)r * V);
    }
    double w[3], wsum = 0;
    for (int r = 0; r < 3; r++) {   /* max softmax prob at the first step */
        const float *x = lg + (size_t)r * V;
        double m = x[0], z = 0;
        for (int i = 1; i < V; i++) m = x[i] > m ? x[i] : m;
        for (int i = 0; i < V; i++) z += exp(x[i] - m);
        w[r] = 1.0 / z;
        wsum += w[r];
    }
    *n_want = 0;
    for (int step = 0; step < MAXNEW; step++) {
        for (int i = 0; i < V; i++) acc[i] = c == MJ_COMBINE_MAX ? 0 : 0.0;
        int best_row = 0;
        for (int r = 1; r < 3; r++) best_row = w[r] > w[best_row] ? r : best_row;
        for (int r = 0; r < 3; r++) {
            const float *x = lg + (size_t)r * V;
            double m = x[0], z = 0;
            for (int i = 1; i < V; i++) m = x[i] > m ? x[i] : m;
            for (int i = 0; i < V; i++) z += exp(x[i] - m);
            for (int i = 0; i < V; i++) {
                if (c == MJ_COMBINE_AVG) acc[i] += x[i] / 3.0;
                else if (c == MJ_COMBINE_WAVG) acc[i] += w[r] / wsum * x[i];
                else if (c == MJ_COMBINE_MAX) acc[i] = fmax(acc[i], exp(x[i] - m) / z);
                else if (r == best_row) acc[i] = x[i];
            }
        }
        int32_t t = 0;
        for (int i = 1; i < V; i++) t = acc[i] > acc[t] ? i : t;
        want[(*n_want)++] = t;
        if (step + 1 == MAXNEW) break;
        for (int r = 0; r < 3; r++) mj_seqs_append(s[r], &t, lg + (size_t)r * V);
    }
    for (int r = 0; r < 3; r++) mj_seqs_free(s[r]);
    free(lg);
    free(acc);
}

static void test_ensembles(fixture *f) {
    const mj_combine cs[4] = {MJ_COMBINE_AVG, MJ_COMBINE_MAX, MJ_COMBINE_WAVG, MJ_COMBINE_WMAX};
    const char *names[4] = {"avg", "max", "wavg", "wmax"};
    for (int k = 0; k < 4; k++) {
        int32_t want[MAXNEW];
        int n_want;
        direct(f, cs[k], want, &n_want);
        /* two groups in one batch: the ensemble of 3 rows, then row 1 alone */
        mj_row_spec rows[4] = {f->rows[0], f->rows[1], f->rows[2], f->rows[1]};
        int sizes[2] = {3, 1};
        mj_fuse_opts o = {cs[k], MAXNEW, NULL, 0, decode, NULL, NULL, NULL, NULL};
        mj_fuse_out out[2];
        char err[256];
        int rc = mj_fuse_generate(f->e, f->causal, &f->fns, 2, sizes, rows, &o, out, NULL, err, sizeof err);
        CHECKF(rc == 0, "%s", err);
        if (rc) continue;
        CHECKF(out[0].n_tokens == n_want && !memcmp(out[0].tokens, want, sizeof want), "%s differs from the direct computation", names[k]);
        CHECK(out[0].stop == MJ_STOP_LENGTH);
        CHECK((out[0].weights != NULL) == (k >= 2));
        if (k >= 2) CHECK(fabsf(out[0].weights[0] + out[0].weights[1] + out[0].weights[2] - 1.0f) < 1e-5f);
        mj_fuse_out_free(&out[0]);
        mj_fuse_out_free(&out[1]);
    }
}

static void test_stops(fixture *f) {
    int sizes[3] = {1, 1, 1};
    mj_fuse_opts o = {MJ_COMBINE_FIRST, MAXNEW, NULL, 0, decode, NULL, NULL, NULL, NULL};
    mj_fuse_out ref[3], out[3];
    char err[256];
    CHECK(mj_fuse_generate(f->e, f->causal, &f->fns, 3, sizes, f->rows, &o, ref, NULL, err, sizeof err) == 0);
    /* EOS: a token of row 0 that no other row generates; newline: one of row 1's */
    int ie = -1, in = -1;
    for (int i = 1; i < MAXNEW && ie < 0; i++) {
        bool other = false;
        for (int j = 0; j < MAXNEW; j++)
            other |= (j < i && ref[0].tokens[j] == ref[0].tokens[i]) || ref[1].tokens[j] == ref[0].tokens[i] ||
                     ref[2].tokens[j] == ref[0].tokens[i];
        if (!other) ie = i;
    }
    for (int i = 1; i < MAXNEW && in < 0; i++) {
        bool other = false;
        for (int j = 0; j < MAXNEW; j++)
            other |= (j < i && ref[1].tokens[j] == ref[1].tokens[i]) || ref[0].tokens[j] == ref[1].tokens[i] ||
                     ref[2].tokens[j] == ref[1].tokens[i];
        if (!other) in = i;
    }
    if (ie < 0 || in < 0) printf("SKIP stop part: the random model repeats its tokens\n");
    else {
        int32_t eos = ref[0].tokens[ie];
        newline_id = ref[1].tokens[in];
        o.eos = &eos;
        o.n_eos = 1;
        int64_t toks = 0;
        CHECK(mj_fuse_generate(f->e, f->causal, &f->fns, 3, sizes, f->rows, &o, out, &toks, err, sizeof err) == 0);
        CHECK(out[0].stop == MJ_STOP_EOS && out[0].n_tokens == ie);
        CHECK(out[1].stop == MJ_STOP_STRING && out[1].n_tokens == in + 1 && out[1].text[in] == '\n');
        CHECK(out[2].stop == MJ_STOP_LENGTH && out[2].n_tokens == MAXNEW);   /* not stopped by the others */
        CHECK(!memcmp(out[2].tokens, ref[2].tokens, MAXNEW * sizeof(int32_t)));
        CHECK(toks == 7 + 11 + 5 + (out[0].n_tokens + out[1].n_tokens + out[2].n_tokens) - 2);
        for (int g = 0; g < 3; g++) mj_fuse_out_free(&out[g]);
    }
    newline_id = -1;
    /* a prefix cache of the common first 4 tokens gives the same answers */
    char perr[256];
    mj_prefix *pre = mj_prefix_init(f->e, f->toks[0], 4, perr, sizeof perr);
    if (!pre) printf("SKIP prefix part: %s\n", perr);
    else {
        o.eos = NULL;
        o.n_eos = 0;
        o.prefix = pre;
        CHECKF(mj_fuse_generate(f->e, f->causal, &f->fns, 3, sizes, f->rows, &o, out, NULL, err, sizeof err) == 0, "%s", err);
        for (int g = 0; g < 3; g++) {
            CHECK(out[g].n_tokens == ref[g].n_tokens && !memcmp(out[g].tokens, ref[g].tokens, (size_t)ref[g].n_tokens * 4));
            mj_fuse_out_free(&out[g]);
        }
        mj_prefix_free(pre);
    }
    /* sampling is reproducible per seed */
    mj_sampling sp = {1.5f, 0, 0.9f, 0};
    uint64_t seeds[3] = {11, 12, 13};
    mj_fuse_opts so = {MJ_COMBINE_FIRST, MAXNEW, NULL, 0, decode, NULL, NULL, &sp, seeds};
    mj_fuse_out a[3], b[3];
    CHECK(mj_fuse_generate(f->e, f->causal, &f->fns, 3, sizes, f->rows, &so, a, NULL, err, sizeof err) == 0);
    int s2[2] = {1, 1};
    uint64_t seeds2[2] = {13, 12};
    mj_row_spec r2[2] = {f->rows[2], f->rows[1]};
    so.seeds = seeds2;
    CHECK(mj_fuse_generate(f->e, f->causal, &f->fns, 2, s2, r2, &so, b, NULL, err, sizeof err) == 0);
    CHECK(b[0].n_tokens == a[2].n_tokens && !memcmp(b[0].tokens, a[2].tokens, (size_t)a[2].n_tokens * 4));
    CHECK(b[1].n_tokens == a[1].n_tokens && !memcmp(b[1].tokens, a[1].tokens, (size_t)a[1].n_tokens * 4));
    for (int g = 0; g < 3; g++) { mj_fuse_out_free(&a[g]); mj_fuse_out_free(&ref[g]); }
    for (int g = 0; g < 2; g++) mj_fuse_out_free(&b[g]);
}

int main(void) {
    test_pick();
    char dir[] = "/tmp/mj_test_fuse_XXXXXX";
    if (!mkdtemp(dir)) return 1;
    fixture f;
    memset(&f, 0, sizeof f);
    if (fixture_init(&f, dir) == 0) {
        test_ensembles(&f);
        test_stops(&f);
    } else CHECKF(0, "cannot build the tiny model / engine / causal mask");
    mj_program_free(f.causal);
    mj_engine_free(f.e);
    mj_model_free(&f.m);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd)) {}
    return mj_test_finish();
}
