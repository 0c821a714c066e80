/* cuda_kernels.h — the mask-independent forward kernels
 * (kernels/templates/fwd_kernels.cu, embedded in the binary): NVRTC compile
 * at first use, a disk cache beside the mask kernels' ($XDG_CACHE_HOME/maskjit,
 * else ~/.cache/maskjit; files fwd-<key>.cubin), module load and function
 * lookup.  Internal to the CUDA engine (runtime/cuda_*.c). */
#ifndef MJ_CUDA_KERNELS_H
#define MJ_CUDA_KERNELS_H

#include <stdbool.h>
#include <stddef.h>

#include "cuda_driver.h"

enum {
    FK_EMBED, FK_ADD_RMSNORM, FK_ROPE_QKV, FK_SWIGLU, FK_F32_TO_BF16, FK_COPY_PREFIX,
    FK_GEMV1, FK_GEMV2, FK_GEMV4, FK_GEMV8,
    FK_GLU1, FK_GLU2, FK_GLU4, FK_GLU8,
    FK_GROPE1, FK_GROPE2, FK_GROPE4, FK_GROPE8,
    FK_GEMV1K2, FK_GEMV2K2, FK_GEMV4K2, FK_GEMV8K2,
    FK_ARGMAX,
    FK_GROPE1K2, FK_GROPE2K2, FK_GROPE4K2, FK_GROPE8K2,
    FK_GROPE_EMB1,
    FK_COUNT
};

typedef struct mj_fwd_kernels {
    void *mod;
    void *fn[FK_COUNT];
    bool cache_hit;
    double compile_ms;
} mj_fwd_kernels;

/* Compile fwd_kernels.cu for arch (e.g. "sm_90a") or load it from the disk
 * cache: a malloc'd cubin.  Works without a GPU.  0, or -1 with a message
 * (including the NVRTC log) in err. */
int mj_fwd_kernels_build(const char *arch, bool no_cache, char **cubin, size_t *size, bool *cache_hit,
                         char *err, size_t errn);
/* Build (or load) and load the module on cu; look every kernel up. */
int mj_fwd_kernels_load(mj_cu *cu, mj_fwd_kernels *k, char *err, size_t errn);
void mj_fwd_kernels_unload(mj_cu *cu, mj_fwd_kernels *k);

#endif
