/* cuda_blas.c — cuBLASLt for the CUDA forward (cuda_blas.h): dlopen'd
 * libcublasLt, one matmul descriptor set (layouts + heuristic algorithm) per
 * distinct shape, cached round-robin.
 *
 * Row-major Y[M x N] = X[M x K] W[N x K]^T is the column-major product
 * Y^T (N x M, ld ldy) = op(A) B with A = W seen as a K x N column-major
 * matrix (ld K) transposed, and B = X seen as K x M (ld ldx). */
#include "cuda_blas.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cublasLt.h>

#define BLAS_CACHE 128

typedef struct lt_fns {
    cublasStatus_t (*create)(cublasLtHandle_t *);
    cublasStatus_t (*destroy)(cublasLtHandle_t);
    const char *(*status_string)(cublasStatus_t);
    cublasStatus_t (*matmul)(cublasLtHandle_t, cublasLtMatmulDesc_t, const void *, const void *,
                             cublasLtMatrixLayout_t, const void *, cublasLtMatrixLayout_t,
                             const void *, const void *, cublasLtMatrixLayout_t, void *,
                             cublasLtMatrixLayout_t, const cublasLtMatmulAlgo_t *, void *, size_t,
                             cudaStream_t);
    cublasStatus_t (*layout_create)(cublasLtMatrixLayout_t *, cudaDataType, uint64_t, uint64_t, int64_t);
    cublasStatus_t (*layout_destroy)(cublasLtMatrixLayout_t);
    cublasStatus_t (*desc_create)(cublasLtMatmulDesc_t *, cublasComputeType_t, cudaDataType_t);
    cublasStatus_t (*desc_destroy)(cublasLtMatmulDesc_t);
    cublasStatus_t (*desc_set)(cublasLtMatmulDesc_t, cublasLtMatmulDescAttributes_t, const void *, size_t);
    cublasStatus_t (*pref_create)(cublasLtMatmulPreference_t *);
    cublasStatus_t (*pref_destroy)(cublasLtMatmulPreference_t);
    cublasStatus_t (*pref_set)(cublasLtMatmulPreference_t, cublasLtMatmulPreferenceAttributes_t,
                               const void *, size_t);
    cublasStatus_t (*heuristic)(cublasLtHandle_t, cublasLtMatmulDesc_t, cublasLtMatrixLayout_t,
                                cublasLtMatrixLayout_t, cublasLtMatrixLayout_t, cublasLtMatrixLayout_t,
                                cublasLtMatmulPreference_t, int, cublasLtMatmulHeuristicResult_t *, int *);
} lt_fns;

typedef struct blas_entry {
    bool used;
    int64_t M, N, K, ldx, ldy;
    bool y_f32, bias;
    cublasLtMatmulDesc_t desc;
    cublasLtMatrixLayout_t a, b, c;
    cublasLtMatmulAlgo_t algo;
} blas_entry;

struct mj_blas {
    mj_cu *cu;
    void *lib;
    lt_fns f;
    cublasLtHandle_t h;
    mj_cu_ptr ws;
    size_t ws_bytes;
    blas_entry cache[BLAS_CACHE];
    int next;
    char err[512];
};

static int blas_fail(mj_blas *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int blas_fail(mj_blas *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b->err, sizeof b->err, fmt, ap);
    va_end(ap);
    return -1;
}

static int lt_fail(mj_blas *b, const char *what, cublasStatus_t st) {
    const char *s = b->f.status_string ? b->f.status_string(st) : NULL;
    return blas_fail(b, "cuBLASLt %s: %s (status %d)", what, s ? s : "error", (int)st);
}

const char *mj_blas_error(const mj_blas *b) { return b->err; }

/* dlopen libcublasLt from the usual places; NULL if none loads. */
static void *open_lib(char *why, size_t whyn) {
    const char *cands[4] = {"libcublasLt.so.13", NULL, "/usr/local/cuda/lib64/libcublasLt.so.13", NULL};
    char home[512];
    const char *ch = getenv("CUDA_HOME");
    if (ch && *ch) {
        snprintf(home, sizeof home, "%s/lib64/libcublasLt.so.13", ch);
        cands[1] = home;
    }
    for (int i = 0; i < 3; i++) {
        if (!cands[i]) continue;
        void *h = dlopen(cands[i], RTLD_NOW | RTLD_LOCAL);
        if (h) return h;
        snprintf(why, whyn, "%s", dlerror());
    }
    return NULL;
}

static const char *bind(mj_blas *b) {
    struct { void **slot; const char *name; } t[] = {
        {(void **)&b->f.create, "cublasLtCreate"},
        {(void **)&b->f.destroy, "cublasLtDestroy"},
        {(void **)&b->f.status_string, "cublasLtGetStatusString"},
        {(void **)&b->f.matmul, "cublasLtMatmul"},
        {(void **)&b->f.layout_create, "cublasLtMatrixLayoutCreate"},
        {(void **)&b->f.layout_destroy, "cublasLtMatrixLayoutDestroy"},
        {(void **)&b->f.desc_create, "cublasLtMatmulDescCreate"},
        {(void **)&b->f.desc_destroy, "cublasLtMatmulDescDestroy"},
        {(void **)&b->f.desc_set, "cublasLtMatmulDescSetAttribute"},
        {(void **)&b->f.pref_create, "cublasLtMatmulPreferenceCreate"},
        {(void **)&b->f.pref_destroy, "cublasLtMatmulPreferenceDestroy"},
        {(void **)&b->f.pref_set, "cublasLtMatmulPreferenceSetAttribute"},
        {(void **)&b->f.heuristic, "cublasLtMatmulAlgoGetHeuristic"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        *t[i].slot = dlsym(b->lib, t[i].name);
        if (!*t[i].slot) return t[i].name;
    }
    return NULL;
}

mj_blas *mj_blas_init(mj_cu *cu, size_t workspace_bytes, char *err, size_t errn) {
    mj_blas *b = calloc(1, sizeof *b);
    if (!b) { snprintf(err, errn, "out of memory"); return NULL; }
    b->cu = cu;
    char why[300] = "not found";
    b->lib = open_lib(why, sizeof why);
    if (!b->lib) {
        snprintf(err, errn, "cannot load libcublasLt.so.13 (%s)", why);
        free(b);
        return NULL;
    }
    const char *missing = bind(b);
    cublasStatus_t st = missing ? CUBLAS_STATUS_NOT_INITIALIZED : b->f.create(&b->h);
    if (missing || st != CUBLAS_STATUS_SUCCESS) {
        if (missing) snprintf(err, errn, "libcublasLt lacks %s", missing);
        else snprintf(err, errn, "cublasLtCreate failed (status %d)", (int)st);
        free(b);            /* the library stays loaded (see mj_blas_free) */
        return NULL;
    }
    b->ws_bytes = workspace_bytes ? workspace_bytes : (size_t)32 << 20;
    if (mj_cu_alloc(cu, &b->ws, b->ws_bytes) != 0) {
        snprintf(err, errn, "cuBLASLt workspace: %s", mj_cu_error(cu));
        mj_blas_free(b);
        return NULL;
    }
    return b;
}

static void entry_clear(mj_blas *b, blas_entry *e) {
    if (!e->used) return;
    if (e->a) b->f.layout_destroy(e->a);
    if (e->b) b->f.layout_destroy(e->b);
    if (e->c) b->f.layout_destroy(e->c);
    if (e->desc) b->f.desc_destroy(e->desc);
    memset(e, 0, sizeof *e);
}

void mj_blas_free(mj_blas *b) {
    if (!b) return;
    for (int i = 0; i < BLAS_CACHE; i++) entry_clear(b, &b->cache[i]);
    if (b->ws) mj_cu_free(b->cu, b->ws);
    if (b->h) b->f.destroy(b->h);
    /* libcublasLt stays loaded: it carries a static CUDA runtime, and unloading
     * and reloading that within a process is not supported. */
    free(b);
}

/* Descriptors, layouts and the heuristic's best algorithm for one shape. */
static int entry_build(mj_blas *b, blas_entry *e) {
    cublasStatus_t st;
    cudaDataType_t yt = e->y_f32 ? CUDA_R_32F : CUDA_R_16BF;
    if ((st = b->f.desc_create(&e->desc, CUBLAS_COMPUTE_32F, CUDA_R_32F)) != CUBLAS_STATUS_SUCCESS)
        return lt_fail(b, "MatmulDescCreate", st);
    cublasOperation_t ta = CUBLAS_OP_T, tb = CUBLAS_OP_N;
    cublasLtEpilogue_t epi = e->bias ? CUBLASLT_EPILOGUE_BIAS : CUBLASLT_EPILOGUE_DEFAULT;
    if ((st = b->f.desc_set(e->desc, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof ta)) ||
        (st = b->f.desc_set(e->desc, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof tb)) ||
        (st = b->f.desc_set(e->desc, CUBLASLT_MATMUL_DESC_EPILOGUE, &epi, sizeof epi)))
        return lt_fail(b, "MatmulDescSetAttribute", st);
    if ((st = b->f.layout_create(&e->a, CUDA_R_16BF, (uint64_t)e->K, (uint64_t)e->N, e->K)) ||
        (st = b->f.layout_create(&e->b, CUDA_R_16BF, (uint64_t)e->K, (uint64_t)e->M, e->ldx)) ||
        (st = b->f.layout_create(&e->c, yt, (uint64_t)e->N, (uint64_t)e->M, e->ldy)))
        return lt_fail(b, "MatrixLayoutCreate", st);
    cublasLtMatmulPreference_t pref = NULL;
    if ((st = b->f.pref_create(&pref)) != CUBLAS_STATUS_SUCCESS) return lt_fail(b, "PreferenceCreate", st);
    uint64_t ws = b->ws_bytes;
    st = b->f.pref_set(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws);
    cublasLtMatmulHeuristicResult_t res;
    int n = 0;
    if (st == CUBLAS_STATUS_SUCCESS)
        st = b->f.heuristic(b->h, e->desc, e->a, e->b, e->c, e->c, pref, 1, &res, &n);
    b->f.pref_destroy(pref);
    if (st != CUBLAS_STATUS_SUCCESS) return lt_fail(b, "AlgoGetHeuristic", st);
    if (n < 1)
        return blas_fail(b, "cuBLASLt has no algorithm for %lld x %lld x %lld", (long long)e->M,
                         (long long)e->N, (long long)e->K);
    e->algo = res.algo;
    return 0;
}

/* The cached entry of a shape, built on first use (NULL on error). */
static blas_entry *entry_get(mj_blas *b, int64_t M, int64_t N, int64_t K, int64_t ldx, int64_t ldy,
                             bool y_f32, bool bias) {
    for (int i = 0; i < BLAS_CACHE; i++) {
        blas_entry *e = &b->cache[i];
        if (e->used && e->M == M && e->N == N && e->K == K && e->ldx == ldx && e->ldy == ldy &&
            e->y_f32 == y_f32 && e->bias == bias)
            return e;
    }
    blas_entry *e = &b->cache[b->next];
    b->next = (b->next + 1) % BLAS_CACHE;
    entry_clear(b, e);
    e->used = true;
    e->M = M; e->N = N; e->K = K; e->ldx = ldx; e->ldy = ldy; e->y_f32 = y_f32; e->bias = bias;
    if (entry_build(b, e) != 0) {
        entry_clear(b, e);
        return NULL;
    }
    return e;
}

int mj_blas_gemm(mj_blas *b, mj_cu_stream s, int64_t M, int64_t N, int64_t K, mj_cu_ptr X,
                 int64_t ldx, mj_cu_ptr W, mj_cu_ptr bias, mj_cu_ptr Y, int64_t ldy, bool y_f32) {
    if (M <= 0 || N <= 0 || K <= 0 || ldx < K || ldy < N || (bias && y_f32))
        return blas_fail(b, "bad gemm shape %lld x %lld x %lld (ldx %lld, ldy %lld)", (long long)M,
                         (long long)N, (long long)K, (long long)ldx, (long long)ldy);
    blas_entry *e = entry_get(b, M, N, K, ldx, ldy, y_f32, bias != 0);
    if (!e) return -1;
    cublasStatus_t st;
    if (bias) {
        const void *bp = (const void *)(uintptr_t)bias;
        if ((st = b->f.desc_set(e->desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bp, sizeof bp)))
            return lt_fail(b, "set bias", st);
    }
    float alpha = 1.0f, beta = 0.0f;
    void *y = (void *)(uintptr_t)Y;
    st = b->f.matmul(b->h, e->desc, &alpha, (const void *)(uintptr_t)W, e->a, (const void *)(uintptr_t)X,
                     e->b, &beta, y, e->c, y, e->c, &e->algo, (void *)(uintptr_t)b->ws, b->ws_bytes,
                     (cudaStream_t)s);
    if (st != CUBLAS_STATUS_SUCCESS) return lt_fail(b, "Matmul", st);
    return 0;
}
