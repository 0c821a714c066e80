/* cuda_backend.h — GPU back end: CUDA C `__device__` functions (mask, score,
 * position, block classifier) emitted from a checked program, spliced into a
 * kernel template (kernels/templates/NAME.cu.in), compiled by NVRTC to PTX and
 * cubin, cached on disk under $XDG_CACHE_HOME/maskjit (fallback
 * ~/.cache/maskjit).  Works without a GPU. */
#ifndef MJ_CUDA_BACKEND_H
#define MJ_CUDA_BACKEND_H

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"
#include "mj_ir.h"

/* The device functions for p as CUDA C (malloc'd).  Signatures:
 *   __device__ bool    mj_mask(const mj_env &env, int q, int kv, int h);
 *   __device__ float   mj_score(const mj_env &env, int q, int kv, int h, float raw);
 *   __device__ int     mj_position(const mj_env &env, int q);
 *   __device__ int     mj_classify(const mj_env &env, const mj_summary &s, const mj_region &r); */
char *mj_cuda_emit(const mj_program *p);

typedef struct mj_cuda_artifact {
    char *source;        /* full CUDA source given to NVRTC */
    char *ptx;  size_t ptx_size;
    char *cubin; size_t cubin_size;
    char arch[16];       /* e.g. "sm_90a" */
    bool cache_hit;      /* loaded from the disk cache */
    double compile_ms;   /* wall time of this call */
    char *log;           /* NVRTC log (may be empty) */
} mj_cuda_artifact;

typedef struct mj_cuda_opts {
    const char *arch;          /* "sm_80", "sm_90a", ...; NULL: local GPU's, else sm_90a */
    const char *template_name; /* file under kernels/templates/, NULL: the default */
    bool no_cache;             /* skip the disk cache */
    const char *cache_dir;     /* NULL: $XDG_CACHE_HOME/maskjit or ~/.cache/maskjit */
    const char *defines;       /* (added by H4) NULL, or "NAME=VALUE ..." passed as -D options
                                  (e.g. "MJ_HEAD_DIM=128"); part of the cache key */
    bool resource_usage;       /* (added in session 3) ptxas reports each kernel's registers,
                                  spills and shared memory into the artifact's log; skips the
                                  disk cache (a cached entry has no log) */
} mj_cuda_opts;

/* Emit, splice and compile (or load from cache).  Returns 0, or -1 with an
 * error (including the NVRTC log) in diags. */
int mj_cuda_compile(const mj_program *p, const mj_cuda_opts *opts, mj_cuda_artifact *out,
                    mj_diags *diags);
void mj_cuda_artifact_free(mj_cuda_artifact *a);

/* (added by H4) The full CUDA source for p spliced into template_name (NULL:
 * the default, "mask_grid"): what mj_cuda_compile gives NVRTC.  malloc'd, or
 * NULL with an error in diags. */
char *mj_cuda_source(const mj_program *p, const char *template_name, mj_diags *diags);

/* (added in session 8) NVRTC compile of a whole CUDA source with no mask
 * program spliced in (the forward kernels: runtime/cuda_kernels.c) with the
 * options mj_cuda_compile uses: arch, the fixed flags, and a -D for each
 * NAME=VALUE of defines (space- or comma-separated, checked; may be NULL).
 * No disk cache (the caller keeps its own).  Returns 0 with a malloc'd cubin,
 * or -1 with the reason (the NVRTC log included) in err. */
int mj_cuda_compile_source(const char *name, const char *src, const char *arch, const char *defines,
                           char **cubin, size_t *cubin_size, char *err, size_t errn);

#endif
