/* cpu_gemm.c — the matrix products of decode steps: Y = X W^T for a few rows
 * of X (M <= CPU_SMALL_M) against a weight matrix W [N x K] read straight
 * from memory, once, without packing (BLAS packs W on every call, which
 * costs more than the product when M is small).  Register tiles of 4 weight
 * rows x 4 rows of X, 16-float vectors along K, FMA where the instruction
 * set has it; cloned for AVX-512 / AVX2 / baseline x86-64.
 *
 * Each Y element is one dot product accumulated in 16 lanes along K and
 * summed in a fixed order, so a row's result does not depend on M or on
 * how the columns are split between threads. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3", "fp-contract=fast")
#endif
#include <string.h>

#include "cpu_internal.h"

typedef float v16 __attribute__((vector_size(64), aligned(4)));

#define GEMM_INLINE static inline __attribute__((always_inline))

/* Sum of the 16 lanes, in a fixed order. */
GEMM_INLINE float hsum(const v16 *a) {
    float s[16];
    memcpy(s, a, sizeof s);
    float t0 = (s[0] + s[8]) + (s[4] + s[12]), t1 = (s[1] + s[9]) + (s[5] + s[13]);
    float t2 = (s[2] + s[10]) + (s[6] + s[14]), t3 = (s[3] + s[11]) + (s[7] + s[15]);
    return (t0 + t2) + (t1 + t3);
}

/* A macro, not a function: a 64-byte vector return value is ABI-dependent. */
#define ld(p) (*(const v16 *)(p))

GEMM_INLINE void store(float *y, float v, float beta) { *y = beta != 0.0f ? v + beta * *y : v; }

/* Dot products of weight rows w[0..nr) (nr <= 4) with x rows x[0..mr)
 * (mr <= 4); results to y[m * ldy + r].  Rows past nr / mr alias the first
 * ones (computed, not stored). */
GEMM_INLINE void tile(const float *w, int64_t K, int nr, const float *x, int64_t ldx, int mr,
                      float *y, int64_t ldy, float beta) {
    v16 a[4][4] = {{{0}}};
    const float *w0 = w, *w1 = w + (nr > 1) * K, *w2 = w + (nr > 2) * 2 * K,
                *w3 = w + (nr > 3) * 3 * K;
    const float *x0 = x, *x1 = x + (mr > 1) * ldx, *x2 = x + (mr > 2) * 2 * ldx,
                *x3 = x + (mr > 3) * 3 * ldx;
    int64_t k = 0;
    for (; k + 16 <= K; k += 16) {
        v16 b0 = ld(w0 + k), b1 = ld(w1 + k), b2 = ld(w2 + k), b3 = ld(w3 + k);
        v16 c = ld(x0 + k);
        a[0][0] += b0 * c; a[0][1] += b1 * c; a[0][2] += b2 * c; a[0][3] += b3 * c;
        c = ld(x1 + k);
        a[1][0] += b0 * c; a[1][1] += b1 * c; a[1][2] += b2 * c; a[1][3] += b3 * c;
        c = ld(x2 + k);
        a[2][0] += b0 * c; a[2][1] += b1 * c; a[2][2] += b2 * c; a[2][3] += b3 * c;
        c = ld(x3 + k);
        a[3][0] += b0 * c; a[3][1] += b1 * c; a[3][2] += b2 * c; a[3][3] += b3 * c;
    }
    const float *ws[4] = {w0, w1, w2, w3}, *xs[4] = {x0, x1, x2, x3};
    for (int m = 0; m < mr; m++)
        for (int r = 0; r < nr; r++) {
            float s = hsum(&a[m][r]);
            for (int64_t kk = k; kk < K; kk++) s += ws[r][kk] * xs[m][kk];
            store(y + m * ldy + r, s, beta);
        }
}

/* One x row against weight rows w[0..nr) (nr <= 4). */
GEMM_INLINE void tile1(const float *w, int64_t K, int nr, const float *x, float *y, float beta) {
    v16 a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
    const float *w0 = w, *w1 = w + (nr > 1) * K, *w2 = w + (nr > 2) * 2 * K,
                *w3 = w + (nr > 3) * 3 * K;
    int64_t k = 0;
    for (; k + 16 <= K; k += 16) {
        v16 c = ld(x + k);
        a0 += ld(w0 + k) * c; a1 += ld(w1 + k) * c; a2 += ld(w2 + k) * c; a3 += ld(w3 + k) * c;
    }
    v16 a[4] = {a0, a1, a2, a3};
    const float *ws[4] = {w0, w1, w2, w3};
    for (int r = 0; r < nr; r++) {
        float s = hsum(&a[r]);
        for (int64_t kk = k; kk < K; kk++) s += ws[r][kk] * x[kk];
        store(y + r, s, beta);
    }
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
__attribute__((target_clones("avx512f", "arch=haswell", "default")))
#endif
void cpu_gemm_small(int64_t M, int64_t n0, int64_t n1, int64_t K, const float *X,
                    const float *W, float *Y, int64_t ldy, float beta) {
    for (int64_t n = n0; n < n1; n += 4) {
        int nr = n1 - n < 4 ? (int)(n1 - n) : 4;
        for (int64_t m = 0; m < M; m += 4) {
            int mr = M - m < 4 ? (int)(M - m) : 4;
            if (mr == 1) tile1(W + n * K, K, nr, X + m * K, Y + m * ldy + n, beta);
            else tile(W + n * K, K, nr, X + m * K, K, mr, Y + m * ldy + n, ldy, beta);
        }
    }
}
