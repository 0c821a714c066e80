/* cblas_shim.c — plain-loop CBLAS for the GPU machine's build (see cblas.h
 * beside it): row-major, A not transposed; sgemm's B transposed or not.
 * Slow but exact enough for the CPU reference of small test models. */
#include "cblas.h"

#include <stddef.h>

void cblas_sgemm(enum CBLAS_ORDER order, enum CBLAS_TRANSPOSE ta, enum CBLAS_TRANSPOSE tb, blasint M, blasint N,
                 blasint K, float alpha, const float *A, blasint lda, const float *B, blasint ldb, float beta,
                 float *C, blasint ldc) {
    (void)order;
    (void)ta;
    for (blasint m = 0; m < M; m++)
        for (blasint n = 0; n < N; n++) {
            float s = 0.0f;
            const float *a = A + (size_t)m * lda;
            if (tb == CblasTrans) {
                const float *b = B + (size_t)n * ldb;
                for (blasint k = 0; k < K; k++) s += a[k] * b[k];
            } else {
                for (blasint k = 0; k < K; k++) s += a[k] * B[(size_t)k * ldb + n];
            }
            float *c = C + (size_t)m * ldc + n;
            *c = alpha * s + (beta != 0.0f ? beta * *c : 0.0f);
        }
}

void cblas_sgemv(enum CBLAS_ORDER order, enum CBLAS_TRANSPOSE ta, blasint M, blasint N, float alpha,
                 const float *A, blasint lda, const float *x, blasint incx, float beta, float *y, blasint incy) {
    (void)order;
    (void)ta;
    for (blasint m = 0; m < M; m++) {
        float s = 0.0f;
        for (blasint n = 0; n < N; n++) s += A[(size_t)m * lda + n] * x[(size_t)n * incx];
        float *o = y + (size_t)m * incy;
        *o = alpha * s + (beta != 0.0f ? beta * *o : 0.0f);
    }
}

void openblas_set_num_threads(int n) { (void)n; }
