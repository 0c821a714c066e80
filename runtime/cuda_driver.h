/* cuda_driver.h — the CUDA driver API, loaded lazily with dlopen("libcuda.so.1")
 * so that the maskjit binary runs (with a clear message) on machines without
 * an NVIDIA driver or GPU; libcuda is never linked.  One process-wide handle
 * on device 0 with its primary context.  Every call returns 0, or -1 with a
 * message in mj_cu_error() (the last error of the handle; not thread-safe). */
#ifndef MJ_CUDA_DRIVER_H
#define MJ_CUDA_DRIVER_H

#include <stddef.h>
#include <stdint.h>

typedef struct mj_cu mj_cu;
typedef uint64_t mj_cu_ptr;    /* a device address */

/* The process-wide handle (opened on first use), or NULL with the reason in
 * err: no libcuda.so.1, cuInit failed, no GPU. */
mj_cu *mj_cu_open(char *err, size_t errn);
const char *mj_cu_error(const mj_cu *cu);

int mj_cu_cc(const mj_cu *cu);               /* compute capability, major*10+minor */
int mj_cu_sm_count(const mj_cu *cu);
const char *mj_cu_name(const mj_cu *cu);
/* "sm_90a" for 9.0 / "sm_100a" for 10.0, else "sm_NN": the arch to compile for. */
const char *mj_cu_arch(const mj_cu *cu);

int mj_cu_alloc(mj_cu *cu, mj_cu_ptr *p, size_t bytes);
void mj_cu_free(mj_cu *cu, mj_cu_ptr p);
int mj_cu_upload(mj_cu *cu, mj_cu_ptr dst, const void *src, size_t bytes);
int mj_cu_download(mj_cu *cu, void *dst, mj_cu_ptr src, size_t bytes);
int mj_cu_memset8(mj_cu *cu, mj_cu_ptr dst, uint8_t value, size_t bytes);
int mj_cu_sync(mj_cu *cu);

/* Modules and kernels (opaque driver handles). */
int mj_cu_module_load(mj_cu *cu, const void *image, void **mod);
void mj_cu_module_unload(mj_cu *cu, void *mod);
int mj_cu_function(mj_cu *cu, void *mod, const char *name, void **fn);
/* Allow `bytes` of dynamic shared memory (needed above 48 KB). */
int mj_cu_set_smem(mj_cu *cu, void *fn, int bytes);
/* Launch on the default stream; args as for cuLaunchKernel. */
int mj_cu_launch(mj_cu *cu, void *fn, unsigned gx, unsigned gy, unsigned gz, unsigned block,
                 unsigned smem, void **args);

/* Timing with events on the default stream (milliseconds between the two). */
typedef struct mj_cu_timer { void *start, *stop; } mj_cu_timer;
int mj_cu_timer_init(mj_cu *cu, mj_cu_timer *t);
int mj_cu_timer_start(mj_cu *cu, mj_cu_timer *t);
int mj_cu_timer_stop(mj_cu *cu, mj_cu_timer *t, float *ms);
void mj_cu_timer_free(mj_cu *cu, mj_cu_timer *t);

#endif
