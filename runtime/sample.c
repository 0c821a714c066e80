/* sample.c — the random generator (xoshiro256**, seeded through splitmix64)
 * and next-token selection as HF transformers does it: greedy argmax (lowest
 * id on ties), or temperature scaling, then top-k (every token whose logit
 * reaches the k-th largest stays, ties included), then top-p (ascending sort,
 * cumulative softmax, drop tokens whose cumulative probability is
 * <= 1 - top_p, always keep the most likely token), then a draw from the
 * softmax of what is left.
 *
 * Tokens whose scaled logit is more than 60 below the maximum (relative
 * probability < 1e-26) are never candidates: they cannot be drawn in
 * practice, and leaving them out keeps the sort short. */
#include <math.h>
#include <stdlib.h>

#include "engine.h"

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void mj_rng_seed(mj_rng *r, uint64_t seed) {
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t rng_next(mj_rng *r) {
    uint64_t *s = r->s;
    uint64_t out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

double mj_rng_uniform(mj_rng *r) { return (double)(rng_next(r) >> 11) * 0x1.0p-53; }

/* Greedy: the largest logit, lowest id among equals; NaN never wins. */
static int32_t sample_argmax(const float *logits, int32_t vocab) {
    int32_t best = 0;
    float bv = -INFINITY;
    for (int32_t i = 0; i < vocab; i++)
        if (logits[i] > bv) { bv = logits[i]; best = i; }
    return best;
}

typedef struct cand { float x; int32_t id; } cand;

/* Descending by value, then ascending id (deterministic order). */
static int cand_cmp(const void *a, const void *b) {
    const cand *x = a, *y = b;
    if (x->x != y->x) return x->x > y->x ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

int32_t mj_sample(const float *logits, int32_t vocab, const mj_sampling *sp, mj_rng *rng) {
    if (!logits || vocab < 1) return -1;
    if (!sp || sp->temperature <= 0.0f || !rng) return sample_argmax(logits, vocab);
    float m = logits[sample_argmax(logits, vocab)] / sp->temperature;
    if (!isfinite(m)) return sample_argmax(logits, vocab);
    cand *c = malloc((size_t)vocab * sizeof *c);
    if (!c) return sample_argmax(logits, vocab);
    int32_t n = 0;
    for (int32_t i = 0; i < vocab; i++) {
        float x = logits[i] / sp->temperature;
        if (x >= m - 60.0f) c[n++] = (cand){x, i};
    }
    qsort(c, (size_t)n, sizeof *c, cand_cmp);
    /* top-k: keep everything >= the k-th largest value (ties stay) */
    if (sp->top_k > 0 && sp->top_k < n) {
        float kth = c[sp->top_k - 1].x;
        int32_t k = sp->top_k;
        while (k < n && c[k].x >= kth) k++;
        n = k;
    }
    /* probabilities of the kept candidates (float32, as torch's softmax) */
    float *p = malloc((size_t)n * sizeof *p);
    if (!p) { int32_t id = c[0].id; free(c); return id; }
    float z = 0.0f;
    for (int32_t i = n - 1; i >= 0; i--) { p[i] = expf(c[i].x - m); z += p[i]; }
    for (int32_t i = 0; i < n; i++) p[i] /= z;
    /* top-p: cumulative sum in ascending order; drop cum <= 1 - top_p */
    if (sp->top_p > 0.0f && sp->top_p < 1.0f) {
        float cum = 0.0f, lim = 1.0f - sp->top_p;
        int32_t keep = n;
        for (int32_t i = n - 1; i >= 1; i--) {
            cum += p[i];
            if (cum <= lim) keep = i;
            else break;
        }
        n = keep;
    }
    double total = 0.0;
    for (int32_t i = 0; i < n; i++) total += p[i];
    double u = mj_rng_uniform(rng) * total, acc = 0.0;
    int32_t id = c[n - 1].id;
    for (int32_t i = 0; i < n; i++) {
        acc += p[i];
        if (u < acc) { id = c[i].id; break; }
    }
    free(p);
    free(c);
    return id;
}
