/* cuda_blas.h — the matrix products of the CUDA forward pass through
 * cuBLASLt, loaded lazily with dlopen (libcublasLt.so.13, from the loader's
 * path or the CUDA toolkit's lib64), so that the binary runs without it.
 * Only bf16 inputs with fp32 accumulation, the one shape the forward needs:
 *
 *     Y[M x N] = X[M x K] * W[N x K]^T (+ bias[N])
 *
 * all row-major (W as HF's nn.Linear stores it), Y in bf16 or f32.  The
 * algorithm of each shape is chosen once by cuBLASLt's heuristic and cached.
 * Errors: 0, or -1 with a message in mj_blas_error().  Not thread-safe. */
#ifndef MJ_CUDA_BLAS_H
#define MJ_CUDA_BLAS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cuda_driver.h"

typedef struct mj_blas mj_blas;

/* A handle with a workspace of workspace_bytes on the device (0: 32 MB).
 * NULL with the reason in err (no libcublasLt, init failure). */
mj_blas *mj_blas_init(mj_cu *cu, size_t workspace_bytes, char *err, size_t errn);
void mj_blas_free(mj_blas *b);
const char *mj_blas_error(const mj_blas *b);

/* Y = X W^T (+ bias) on stream s.  ldx, ldy in elements (>= K, >= N); bias
 * (bf16 [N]) may be 0; y_f32 selects an f32 Y (no bias then).  Pointers must
 * be 16-byte aligned, K, ldx, ldy multiples of 8. */
int mj_blas_gemm(mj_blas *b, mj_cu_stream s, int64_t M, int64_t N, int64_t K, mj_cu_ptr X,
                 int64_t ldx, mj_cu_ptr W, mj_cu_ptr bias, mj_cu_ptr Y, int64_t ldy, bool y_f32);

#endif
