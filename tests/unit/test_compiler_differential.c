/* test_compiler_differential.c — the interpreter (reference semantics) against
 * the LLVM JIT on random cases: every examples/NAME.mask and seeded random
 * well-typed programs (source text through the whole front end), over random
 * layouts, annotations, params and heads.  mask and position must be
 * identical, score floats identical or within 1 ulp (NaN == NaN; -0 and +0 differ),
 * and the JIT'd block classifier identical to mj_blocks_classify on random
 * regions, with and without summaries.
 *
 * MJ_DIFF_SEED=<n> changes the seed (printed on failure), MJ_DIFF_PROGRAMS=<n>
 * the number of random programs, MJ_DIFF_DEBUG=1 prints every score that is
 * not bit-identical (within 1 ulp). */
#include <dirent.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blocks.h"
#include "compile.h"
#include "interp.h"
#include "jit.h"
#include "support/randprog.h"
#include "support/testlib.h"

typedef struct counts {
    long mask, score, score_exact, position, classify, programs, examples, failures;
} counts;

static counts C;

/* Distance in ulps between two floats (0 for identical values or both NaN;
 * zeros of different sign are a mismatch: mj_fmin/mj_fmax pin the sign). */
static uint32_t ulp_diff(float a, float b) {
    if ((a != a) && (b != b)) return 0;
    if (a == 0.0f && b == 0.0f && signbit(a) != signbit(b)) return UINT32_MAX;
    if (a == b) return 0;
    if ((a != a) || (b != b)) return UINT32_MAX;
    int32_t x, y;
    memcpy(&x, &a, 4);
    memcpy(&y, &b, 4);
    int64_t ox = x < 0 ? (int64_t)INT32_MIN - x : x, oy = y < 0 ? (int64_t)INT32_MIN - y : y;
    int64_t d = ox > oy ? ox - oy : oy - ox;
    return d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
}

static int same_bits(float a, float b) { return memcmp(&a, &b, sizeof a) == 0; }

/* Print the program and the failing case once per program. */
static void report(const char *what, const char *src, const char *path, const mj_env *env,
                   int *reported, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static void report(const char *what, const char *src, const char *path, const mj_env *env,
                   int *reported, const char *fmt, ...) {
    C.failures++;
    if (C.failures > 8) return;
    if (!*reported) {
        fprintf(stderr, "=== %s mismatch in %s\n", what, path);
        if (src) fprintf(stderr, "%s", src);
        fprintf(stderr, "env: seq_len %d prompt_len %d n_heads %d b %d tokens_len %lld\n",
                env->seq_len, env->prompt_len, env->n_heads, env->b, (long long)env->tokens_len);
        *reported = 1;
    }
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* Where a failure is reported. */
typedef struct where {
    const char *src, *path;
    const mj_env *env;
    int *reported;
} where;

#define FAIL(w, what, ...) report(what, (w)->src, (w)->path, (w)->env, (w)->reported, __VA_ARGS__)

static void check_score(const mj_program *p, const mj_mask_fns *f, const where *w, mj_rp_rng *r,
                        int32_t q, int32_t kv, int32_t h) {
    const mj_env *env = w->env;
    float raw = mj_rp_chance(r, 3, 4) ? (float)mj_rp_range(r, -4000, 4000) / 256.0f
                                      : mj_rp_float(r);
    float si = mj_interp_score(p, env, q, kv, h, raw), sj = f->score(NULL, env, q, kv, h, raw);
    int exact = same_bits(si, sj) || (si != si && sj != sj);
    C.score++;
    C.score_exact += exact;
    if (!exact && getenv("MJ_DIFF_DEBUG"))
        fprintf(stderr, "inexact: %a vs %a\n%s\n", (double)si, (double)sj,
                w->src ? w->src : w->path);
    if (ulp_diff(si, sj) > 1)
        FAIL(w, "score", "score(q=%d, kv=%d, h=%d, raw=%a): interp %a jit %a", q, kv, h,
             (double)raw, (double)si, (double)sj);
}

/* Point checks of mask, score and position on one environment. */
static void check_points(const mj_program *p, const mj_mask_fns *f, const where *w,
                         mj_rp_rng *r, int npts) {
    const mj_env *env = w->env;
    for (int k = 0; k < npts; k++) {
        int32_t q = mj_rp_index(r, env), kv = mj_rp_index(r, env), h = mj_rp_head(r, env);
        if (mj_rp_chance(r, 1, 2) && q >= 0 && q < env->seq_len) kv = mj_rp_range(r, 0, q);
        bool mi = mj_interp_mask(p, env, q, kv, h), mj = f->mask(NULL, env, q, kv, h);
        C.mask++;
        if (mi != mj)
            FAIL(w, "mask", "mask(q=%d, kv=%d, h=%d): interp %d jit %d", q, kv, h, mi, mj);
        if (p->score) check_score(p, f, w, r, q, kv, h);
        if (p->position && k % 2 == 0) {
            int32_t pi = mj_interp_position(p, env, q), pj = f->position(NULL, env, q);
            C.position++;
            if (pi != pj) FAIL(w, "position", "position(q=%d): interp %d jit %d", q, pi, pj);
        }
    }
}

/* A random region near the sequence (sometimes empty, sometimes outside). */
static mj_region rand_region(mj_rp_rng *r, const mj_env *env, int32_t block) {
    mj_region g;
    int32_t n = env->seq_len;
    if (mj_rp_chance(r, 3, 4)) {
        int32_t nb = (n + block - 1) / block;
        g.q0 = mj_rp_range(r, 0, nb - 1) * block;
        g.kv0 = mj_rp_range(r, 0, nb - 1) * block;
        g.q1 = g.q0 + block - 1 < n ? g.q0 + block - 1 : n - 1;
        g.kv1 = g.kv0 + block - 1 < n ? g.kv0 + block - 1 : n - 1;
    } else {
        g.q0 = mj_rp_range(r, -3, n + 3);
        g.q1 = g.q0 + mj_rp_range(r, -1, n);
        g.kv0 = mj_rp_range(r, -3, n + 3);
        g.kv1 = g.kv0 + mj_rp_range(r, -1, n);
    }
    g.h0 = mj_rp_chance(r, 1, 2) ? 0 : mj_rp_range(r, -1, env->n_heads);
    g.h1 = mj_rp_chance(r, 1, 2) ? env->n_heads - 1 : g.h0 + mj_rp_range(r, 0, 2);
    return g;
}

static void check_classify(const mj_program *p, const mj_mask_fns *f, const where *w,
                           mj_rp_rng *r, int nreg) {
    const mj_env *env = w->env;
    int32_t block = mj_rp_range(r, 1, 16);
    mj_summary sum;
    if (mj_summary_build(p, env, block, &sum) != 0) {
        CHECKF(0, "mj_summary_build failed for %s", w->path);
        return;
    }
    for (int k = 0; k < nreg; k++) {
        mj_region g = rand_region(r, env, block);
        const mj_summary *s = mj_rp_chance(r, 1, 8) ? NULL : &sum;
        int ci = mj_blocks_classify(p, env, s, &g), cj = f->classify(NULL, env, s, &g);
        C.classify++;
        if (ci != cj)
            FAIL(w, "classify", "classify(q[%d,%d] kv[%d,%d] h[%d,%d] block %d%s): ref %d jit %d",
                 g.q0, g.q1, g.kv0, g.kv1, g.h0, g.h1, block, s ? "" : " no summary", ci, cj);
    }
    mj_summary_free(&sum);
}

/* JIT p and compare it with the interpreter on nenv random environments. */
static void check_program(const mj_program *p, mj_rp_rng *r, int nenv, int npts, int nreg,
                          int32_t max_len, const char *src, const char *path) {
    mj_diags d;
    mj_diags_init(&d);
    mj_jit *j = mj_jit_init(p, &d);
    CHECKF(j != NULL, "JIT of %s failed", path);
    if (!j) {
        mj_diags_print(&d, stderr);
        if (src) fprintf(stderr, "%s", src);
        mj_diags_free(&d);
        return;
    }
    mj_diags_free(&d);
    mj_mask_fns f = mj_jit_fns(j);
    CHECK((f.score != NULL) == (p->score != NULL) && (f.position != NULL) == (p->position != NULL));
    int rep = 0;
    for (int e = 0; e < nenv; e++) {
        mj_rp_env env;
        if (mj_rp_env_init(&env, p, r, max_len) != 0) { CHECK(0); break; }
        where w = {src, path, &env.env, &rep};
        check_points(p, &f, &w, r, npts);
        check_classify(p, &f, &w, r, nreg);
        mj_rp_env_free(&env);
    }
    CHECKF(!rep, "%s: interpreter and JIT differ", path);
    mj_jit_free(j);
}

static int ends_with(const char *s, const char *suf) {
    size_t n = strlen(s), k = strlen(suf);
    return n >= k && !strcmp(s + n - k, suf);
}

static void test_examples(mj_rp_rng *r) {
    const char *dir = mj_test_path("examples");
    DIR *dp = opendir(dir);
    if (!dp) {
        printf("no examples directory (%s)\n", dir);
        return;
    }
    struct dirent *de;
    while ((de = readdir(dp))) {
        if (!ends_with(de->d_name, ".mask")) continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        mj_diags d;
        mj_diags_init(&d);
        mj_program *p = mj_compile_file(path, NULL, &d);
        CHECKF(p != NULL, "example %s does not compile", path);
        if (!p) mj_diags_print(&d, stderr);
        mj_diags_free(&d);
        if (!p) continue;
        C.examples++;
        check_program(p, r, 12, 200, 60, 96, NULL, path);
        mj_program_free(p);
    }
    closedir(dp);
}

/* Spellings every run of random programs must contain at least once. */
static const char *const features[] = {
    " + ", " - ", " * ", " / ", " % ", "(-", "(!", " && ", " || ", " == ", " != ", " < ",
    " <= ", " > ", " >= ", " ? ", "if ", "min(", "max(", "abs(", "clamp(", "exp(", "log(",
    "sqrt(", "tanh(", "float(", "int(", "let ", "def ", ": int[", ": float[", ": bool[",
    "tokens t", ": int = ", ": float = ", ": bool = ", "heads ", "hd0[", "score =",
    "position =", "(-2147483648)", "2147483647", "inf", "1.401298464e-45", " / 0)", " % (-1))",
    "score", "kv", "h]", "b", "n_heads", "prompt_len", "seq_len",
};
#define N_FEATURES (sizeof features / sizeof features[0])

static void test_random(mj_rp_rng *r, int nprog) {
    int seen[N_FEATURES] = {0};
    for (int i = 0; i < nprog; i++) {
        char *src = mj_rp_program(r, NULL);
        for (size_t k = 0; k < N_FEATURES; k++) seen[k] |= strstr(src, features[k]) != NULL;
        mj_diags d;
        mj_diags_init(&d);
        mj_compile_opts o = {0, 0};
        mj_program *p = mj_compile_string("random.mask", src, strlen(src), &o, &d);
        CHECKF(p != NULL, "random program %d does not compile", i);
        if (!p) {
            fprintf(stderr, "%s", src);
            mj_diags_print(&d, stderr);
        }
        mj_diags_free(&d);
        if (p) {
            C.programs++;
            check_program(p, r, 4, 24, 8, 48, src, "random.mask");
            mj_program_free(p);
        }
        free(src);
    }
    for (size_t k = 0; k < N_FEATURES && nprog >= 100; k++)
        CHECKF(seen[k], "no random program contains \"%s\"", features[k]);
}

int main(void) {
    uint64_t seed = 20250611;
    const char *s = getenv("MJ_DIFF_SEED");
    if (s && *s) seed = strtoull(s, NULL, 10);
    int nprog = 300;
    s = getenv("MJ_DIFF_PROGRAMS");
    if (s && *s) nprog = atoi(s);
    mj_rp_rng r;
    mj_rp_seed(&r, seed);
    test_examples(&r);
    test_random(&r, nprog);
    long cases = C.mask + C.score + C.position + C.classify;
    printf("differential (seed %llu): %ld examples + %ld random programs, %ld cases: "
           "mask %ld, score %ld (%ld bit-identical), position %ld, classify %ld\n",
           (unsigned long long)seed, C.examples, C.programs, cases, C.mask, C.score,
           C.score_exact, C.position, C.classify);
    CHECKF(cases >= 10000, "only %ld cases", cases);
    CHECKF(C.failures == 0, "%ld mismatching cases", C.failures);
    return mj_test_finish();
}
