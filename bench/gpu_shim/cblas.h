/* cblas.h — the few CBLAS entry points the CPU engine uses, for the GPU
 * machine's build (bench/gpu_build.sh), which has no BLAS development
 * package: plain C loops in gpu_shim/cblas_shim.c.  Only the argument
 * patterns runtime/cpu_*.c uses (row-major; sgemm with B transposed). */
#ifndef MJ_GPU_SHIM_CBLAS_H
#define MJ_GPU_SHIM_CBLAS_H

typedef int blasint;
enum CBLAS_ORDER { CblasRowMajor = 101, CblasColMajor = 102 };
enum CBLAS_TRANSPOSE { CblasNoTrans = 111, CblasTrans = 112 };

void cblas_sgemm(enum CBLAS_ORDER order, enum CBLAS_TRANSPOSE ta, enum CBLAS_TRANSPOSE tb, blasint M, blasint N,
                 blasint K, float alpha, const float *A, blasint lda, const float *B, blasint ldb, float beta,
                 float *C, blasint ldc);
void cblas_sgemv(enum CBLAS_ORDER order, enum CBLAS_TRANSPOSE ta, blasint M, blasint N, float alpha,
                 const float *A, blasint lda, const float *x, blasint incx, float beta, float *y, blasint incy);
void openblas_set_num_threads(int n);

#endif
