/* test_runtime_sample.c — the generator and next-token sampling: seeded
 * reproducibility, greedy ties (lowest id) and NaN, empirical distributions
 * under temperature, top-k (ties kept, as HF) and top-p (HF's ascending
 * cumulative rule, at least one token kept), and their combination. */
#include <math.h>
#include <string.h>

#include "engine.h"
#include "support/testlib.h"

#define DRAWS 40000

/* Frequencies of ids over DRAWS samples. */
static void freq(const float *lg, int32_t n, const mj_sampling *sp, double *out) {
    mj_rng r;
    mj_rng_seed(&r, sp->seed);
    for (int32_t i = 0; i < n; i++) out[i] = 0;
    for (int k = 0; k < DRAWS; k++) {
        int32_t id = mj_sample(lg, n, sp, &r);
        if (id >= 0 && id < n) out[id] += 1.0 / DRAWS;
    }
}

static bool near(double a, double b) { return fabs(a - b) < 0.012; }

int main(void) {
    /* generator */
    mj_rng a, b;
    mj_rng_seed(&a, 7);
    mj_rng_seed(&b, 7);
    double mean = 0, lo = 1, hi = 0;
    bool same = true;
    for (int i = 0; i < 100000; i++) {
        double x = mj_rng_uniform(&a), y = mj_rng_uniform(&b);
        same &= x == y;
        mean += x / 100000;
        if (x < lo) lo = x;
        if (x > hi) hi = x;
    }
    CHECK(same && lo >= 0.0 && hi < 1.0 && fabs(mean - 0.5) < 0.01);
    mj_rng_seed(&b, 8);
    CHECK(mj_rng_uniform(&a) != mj_rng_uniform(&b));

    /* greedy: lowest id on ties, NaN never wins, temperature <= 0 is greedy */
    float ties[6] = {0.5f, 2.0f, -1.0f, 2.0f, NAN, 1.0f};
    mj_sampling g = {0};
    CHECK(mj_sample(ties, 6, &g, NULL) == 1);
    CHECK(mj_sample(ties, 6, NULL, NULL) == 1);
    mj_sampling neg = {-1.0f, 0, 0.0f, 1};
    mj_rng r;
    mj_rng_seed(&r, 1);
    CHECK(mj_sample(ties, 6, &neg, &r) == 1);
    float nan_first[3] = {NAN, -5.0f, -7.0f};
    CHECK(mj_sample(nan_first, 3, &g, NULL) == 1);
    CHECK(mj_sample(ties, 0, &g, NULL) == -1);

    /* plain sampling follows softmax */
    float lg[4] = {logf(0.5f), logf(0.3f), logf(0.2f), -INFINITY};
    double f[8];
    mj_sampling t1 = {1.0f, 0, 1.0f, 42};
    freq(lg, 4, &t1, f);
    CHECKF(near(f[0], 0.5) && near(f[1], 0.3) && near(f[2], 0.2) && f[3] == 0,
           "T=1: %.3f %.3f %.3f %.3f", f[0], f[1], f[2], f[3]);
    /* temperature 2: p^(1/2) renormalised */
    mj_sampling t2 = {2.0f, 0, 0.0f, 43};
    freq(lg, 4, &t2, f);
    double z = sqrt(0.5) + sqrt(0.3) + sqrt(0.2);
    CHECKF(near(f[0], sqrt(0.5) / z) && near(f[1], sqrt(0.3) / z) && near(f[2], sqrt(0.2) / z),
           "T=2: %.3f %.3f %.3f", f[0], f[1], f[2]);
    /* top-k 2 */
    mj_sampling k2 = {1.0f, 2, 1.0f, 44};
    freq(lg, 4, &k2, f);
    CHECKF(near(f[0], 0.625) && near(f[1], 0.375) && f[2] == 0, "top-k 2: %.3f %.3f %.3f", f[0],
           f[1], f[2]);
    /* top-k keeps ties with the k-th value (HF: scores < kth are removed) */
    float tl[4] = {1.0f, 1.0f, 1.0f, 0.0f};
    mj_sampling k1 = {1.0f, 1, 1.0f, 45};
    freq(tl, 4, &k1, f);
    CHECKF(near(f[0], 1 / 3.0) && near(f[1], 1 / 3.0) && near(f[2], 1 / 3.0) && f[3] == 0,
           "top-k ties: %.3f %.3f %.3f %.3f", f[0], f[1], f[2], f[3]);
    /* top-k larger than the vocabulary is no limit */
    mj_sampling k9 = {1.0f, 9, 1.0f, 46};
    freq(lg, 4, &k9, f);
    CHECK(near(f[2], 0.2));
    /* top-p 0.6: ascending cumulative 0.2, 0.5, 1.0; drop cum <= 0.4 -> {0, 1} */
    mj_sampling p6 = {1.0f, 0, 0.6f, 47};
    freq(lg, 4, &p6, f);
    CHECKF(near(f[0], 0.625) && near(f[1], 0.375) && f[2] == 0, "top-p 0.6: %.3f %.3f %.3f",
           f[0], f[1], f[2]);
    /* top-p 0.85: drop cum <= 0.15 -> nothing dropped */
    mj_sampling p85 = {1.0f, 0, 0.85f, 48};
    freq(lg, 4, &p85, f);
    CHECKF(near(f[2], 0.2), "top-p 0.85 keeps all: %.3f", f[2]);
    /* top-p tiny: at least the most likely token */
    mj_sampling p0 = {1.0f, 0, 0.01f, 49};
    freq(lg, 4, &p0, f);
    CHECK(f[0] == 1.0 || near(f[0], 1.0));
    /* top-k then top-p: k=2 leaves {0.625, 0.375}; p=0.5 drops cum <= 0.5 -> {0} */
    mj_sampling kp = {1.0f, 2, 0.5f, 50};
    freq(lg, 4, &kp, f);
    CHECK(near(f[0], 1.0));
    /* same seed, same draws; different seed, different draws */
    mj_rng r1, r2;
    mj_rng_seed(&r1, 99);
    mj_rng_seed(&r2, 99);
    float big[1000];
    for (int i = 0; i < 1000; i++) big[i] = (float)((i * 7919) % 1000) / 300.0f;
    mj_sampling s9 = {1.0f, 50, 0.95f, 99};
    int eq = 0;
    for (int i = 0; i < 200; i++) eq += mj_sample(big, 1000, &s9, &r1) == mj_sample(big, 1000, &s9, &r2);
    CHECK(eq == 200);
    /* all -inf but one: always that one */
    float one[5] = {-INFINITY, -INFINITY, 3.0f, -INFINITY, -INFINITY};
    freq(one, 5, &t1, f);
    CHECK(f[2] > 0.999);
    return mj_test_finish();
}
