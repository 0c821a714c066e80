/* cuda_driver.h — the CUDA driver API, loaded lazily with dlopen("libcuda.so.1")
 * so that the maskjit binary runs (with a clear message) on machines without
 * an NVIDIA driver or GPU; libcuda is never linked.  One process-wide handle
 * on device 0 with its primary context.  Every call returns 0, or -1 with a
 * message in mj_cu_error() (the last error of the handle; not thread-safe).
 *
 * Written by H4; the section "streams, asynchronous copies, pinned memory,
 * graphs" at the end was added by H9 (CUDA forward).  mj_cu_launch now runs
 * on the calling thread's current stream (mj_cu_set_stream), which is NULL —
 * the legacy default stream, as before — unless a caller sets one.
 *
 * (H9's request for an additive mj_attn_set_tensors is in cuda_attn.h, with
 * MJ_ATTN_HAVE_SET_TENSORS.) */
#ifndef MJ_CUDA_DRIVER_H
#define MJ_CUDA_DRIVER_H

#include <stddef.h>
#include <stdbool.h>
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
/* Value of the module's `__device__ const int NAME`. */
int mj_cu_module_int(mj_cu *cu, void *mod, const char *name, int *value);
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

/* ---- (H9) streams, asynchronous copies, pinned memory, graphs ----------------------
 * Streams are created non-blocking (no implicit ordering with the legacy
 * default stream).  Graph capture uses the relaxed mode. */
typedef void *mj_cu_stream;
/* The calling thread's stream for mj_cu_launch (NULL: legacy default). */
void mj_cu_set_stream(mj_cu *cu, mj_cu_stream s);
mj_cu_stream mj_cu_get_stream(const mj_cu *cu);
int mj_cu_launch_on(mj_cu *cu, mj_cu_stream s, void *fn, unsigned gx, unsigned gy, unsigned gz,
                    unsigned block, unsigned smem, void **args);
int mj_cu_stream_create(mj_cu *cu, mj_cu_stream *s);
void mj_cu_stream_destroy(mj_cu *cu, mj_cu_stream s);
int mj_cu_stream_sync(mj_cu *cu, mj_cu_stream s);
int mj_cu_upload_async(mj_cu *cu, mj_cu_ptr dst, const void *src, size_t bytes, mj_cu_stream s);
int mj_cu_download_async(mj_cu *cu, void *dst, mj_cu_ptr src, size_t bytes, mj_cu_stream s);
int mj_cu_copy_async(mj_cu *cu, mj_cu_ptr dst, mj_cu_ptr src, size_t bytes, mj_cu_stream s);
int mj_cu_memset8_async(mj_cu *cu, mj_cu_ptr dst, uint8_t value, size_t bytes, mj_cu_stream s);
/* Page-locked host memory (for asynchronous copies). */
int mj_cu_host_alloc(mj_cu *cu, void **p, size_t bytes);
/* Page-locked host memory that kernels can also read and write: *p for the
 * host, *dev for the device (written by a kernel, visible to the host once
 * the kernel has completed, e.g. after an event behind it).  Free with
 * mj_cu_host_free. */
int mj_cu_host_alloc_mapped(mj_cu *cu, void **p, mj_cu_ptr *dev, size_t bytes);
void mj_cu_host_free(mj_cu *cu, void *p);
int mj_cu_mem_info(mj_cu *cu, size_t *free_bytes, size_t *total_bytes);
/* Graphs: 1 when the driver has every graph entry point. */
int mj_cu_graphs_available(const mj_cu *cu);
int mj_cu_capture_begin(mj_cu *cu, mj_cu_stream s);
/* Ends the capture on s and instantiates it (*exec; free with mj_cu_graph_free). */
int mj_cu_capture_end(mj_cu *cu, mj_cu_stream s, void **exec);
int mj_cu_graph_launch(mj_cu *cu, void *exec, mj_cu_stream s);
/* Programmatic dependent launch (sm_90+): the kernel may start while the
 * previous kernel of s finishes; it must execute griddepcontrol.wait before
 * reading what that kernel wrote.  Falls back to mj_cu_launch_on when the
 * driver or GPU lacks it (mj_cu_pdl_available). */
int mj_cu_pdl_available(const mj_cu *cu);
int mj_cu_launch_pdl(mj_cu *cu, mj_cu_stream s, void *fn, unsigned gx, unsigned gy, unsigned gz, unsigned block,
                     unsigned smem, void **args);
/* mj_cu_launch_pdl generalised: pdl as there, and with cluster_x > 1
 * thread-block clusters of cluster_x x 1 x 1 CTAs (sm_90; -1 without
 * cuLaunchKernelEx; above 8 CTAs after mj_cu_allow_big_clusters). */
int mj_cu_launch_ex(mj_cu *cu, mj_cu_stream s, void *fn, unsigned gx, unsigned gy, unsigned gz, unsigned block,
                    unsigned smem, void **args, bool pdl, unsigned cluster_x);
/* Lets fn be launched in clusters of more than 8 CTAs (up to 16 on an H100). */
int mj_cu_allow_big_clusters(mj_cu *cu, void *fn);
/* Event timing on stream s (mj_cu_timer_start/stop use the legacy stream). */
int mj_cu_timer_start_on(mj_cu *cu, mj_cu_timer *t, mj_cu_stream s);
int mj_cu_timer_stop_on(mj_cu *cu, mj_cu_timer *t, mj_cu_stream s, float *ms);
void mj_cu_graph_free(mj_cu *cu, void *exec);
/* Events for ordering without timing: record on a stream, wait on the host
 * (mj_cu_event_sync of a never-recorded or NULL event returns at once). */
typedef void *mj_cu_event;
int mj_cu_event_init(mj_cu *cu, mj_cu_event *ev);
int mj_cu_event_record(mj_cu *cu, mj_cu_event ev, mj_cu_stream s);
int mj_cu_event_sync(mj_cu *cu, mj_cu_event ev);
void mj_cu_event_free(mj_cu *cu, mj_cu_event ev);
/* (prefill, sm_90) A 2-D bf16 tensor map for the bulk tensor copy engine into
 * map (128 bytes, 64-byte aligned): `rows` rows of `inner` elements,
 * row_bytes apart, from base; boxes of box_inner x box_rows elements, 128-byte
 * swizzle, zeros out of bounds.  Returns 0, or -1 (entry point missing or the
 * driver refused; mj_cu_error says which). */
int mj_cu_tensor_map_bf16(mj_cu *cu, void *map, mj_cu_ptr base, uint64_t inner, uint64_t rows,
                          uint64_t row_bytes, unsigned box_inner, unsigned box_rows);

#endif
