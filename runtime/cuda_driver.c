/* cuda_driver.c — lazy binding of the CUDA driver API (see cuda_driver.h).
 * Only cuda.h's types and constants are used at compile time; every entry
 * point is looked up with dlsym in libcuda.so.1 when first needed.
 *
 * Written by H4 (attention kernels); extended additively by H9 (CUDA
 * forward): streams, asynchronous copies, pinned host memory, memory info
 * and graph capture (the "ext" entry points, bound separately so that a
 * driver lacking one only disables that feature), and a per-thread current
 * stream that mj_cu_launch uses (NULL, the legacy default stream, unless a
 * caller sets one: H4's code is unchanged in behaviour).  The prefill kernel
 * added cuTensorMapEncodeTiled (mj_cu_tensor_map_bf16), bound as an "ext"
 * entry point. */
#include "cuda_driver.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cuda.h>

typedef struct cu_fns {
    CUresult (*init)(unsigned);
    CUresult (*device_count)(int *);
    CUresult (*device_get)(CUdevice *, int);
    CUresult (*device_attr)(int *, CUdevice_attribute, CUdevice);
    CUresult (*device_name)(char *, int, CUdevice);
    CUresult (*ctx_retain)(CUcontext *, CUdevice);
    CUresult (*ctx_set)(CUcontext);
    CUresult (*ctx_sync)(void);
    CUresult (*mem_alloc)(CUdeviceptr *, size_t);
    CUresult (*mem_free)(CUdeviceptr);
    CUresult (*htod)(CUdeviceptr, const void *, size_t);
    CUresult (*dtoh)(void *, CUdeviceptr, size_t);
    CUresult (*memset8)(CUdeviceptr, unsigned char, size_t);
    CUresult (*mod_load)(CUmodule *, const void *);
    CUresult (*mod_unload)(CUmodule);
    CUresult (*mod_fn)(CUfunction *, CUmodule, const char *);
    CUresult (*mod_global)(CUdeviceptr *, size_t *, CUmodule, const char *);
    CUresult (*fn_attr)(CUfunction, CUfunction_attribute, int);
    CUresult (*launch)(CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned,
                       unsigned, CUstream, void **, void **);
    CUresult (*ev_create)(CUevent *, unsigned);
    CUresult (*ev_record)(CUevent, CUstream);
    CUresult (*ev_sync)(CUevent);
    CUresult (*ev_elapsed)(float *, CUevent, CUevent);
    CUresult (*ev_destroy)(CUevent);
    CUresult (*err_string)(CUresult, const char **);
} cu_fns;

/* (H9) optional entry points: streams, async copies, pinned memory, graphs. */
typedef struct cu_ext_fns {
    CUresult (*stream_create)(CUstream *, unsigned);
    CUresult (*stream_destroy)(CUstream);
    CUresult (*stream_sync)(CUstream);
    CUresult (*htod_async)(CUdeviceptr, const void *, size_t, CUstream);
    CUresult (*dtoh_async)(void *, CUdeviceptr, size_t, CUstream);
    CUresult (*dtod_async)(CUdeviceptr, CUdeviceptr, size_t, CUstream);
    CUresult (*memset8_async)(CUdeviceptr, unsigned char, size_t, CUstream);
    CUresult (*host_alloc)(void **, size_t);
    CUresult (*host_free)(void *);
    CUresult (*host_alloc_flags)(void **, size_t, unsigned);
    CUresult (*host_dev_ptr)(CUdeviceptr *, void *, unsigned);
    CUresult (*mem_info)(size_t *, size_t *);
    CUresult (*capture_begin)(CUstream, CUstreamCaptureMode);
    CUresult (*capture_end)(CUstream, CUgraph *);
    CUresult (*graph_instantiate)(CUgraphExec *, CUgraph, unsigned long long);
    CUresult (*graph_launch)(CUgraphExec, CUstream);
    CUresult (*graph_exec_destroy)(CUgraphExec);
    CUresult (*graph_destroy)(CUgraph);
    CUresult (*launch_ex)(const CUlaunchConfig *, CUfunction, void **, void **);
    CUresult (*tmap_tiled)(CUtensorMap *, CUtensorMapDataType, cuuint32_t, void *, const cuuint64_t *,
                           const cuuint64_t *, const cuuint32_t *, const cuuint32_t *, CUtensorMapInterleave,
                           CUtensorMapSwizzle, CUtensorMapL2promotion, CUtensorMapFloatOOBfill); /* (prefill) */
} cu_ext_fns;

struct mj_cu {
    void *lib;
    cu_fns f;
    cu_ext_fns x;          /* (H9) NULL members: feature missing */
    CUdevice dev;
    CUcontext ctx;
    int cc, sms;
    char name[128];
    char arch[16];
    char err[512];
};

static mj_cu the_cu;
static int open_state;            /* 0 not tried, 1 ok, -1 failed */
static char open_err[512];
static pthread_mutex_t open_lock = PTHREAD_MUTEX_INITIALIZER;

static void set_err(mj_cu *cu, const char *what, CUresult r) {
    const char *s = NULL;
    if (cu->f.err_string) cu->f.err_string(r, &s);
    snprintf(cu->err, sizeof cu->err, "%s: %s (CUDA error %d)", what, s ? s : "unknown", (int)r);
}

#define CU_CALL(cu, what, call) do { CUresult r_ = (call); \
    if (r_ != CUDA_SUCCESS) { set_err(cu, what, r_); return -1; } } while (0)

/* Looks up every entry point; returns the name of a missing one or NULL. */
static const char *bind_all(mj_cu *cu) {
    struct { void **slot; const char *name, *alt; } t[] = {
        {(void **)&cu->f.init, "cuInit", 0},
        {(void **)&cu->f.device_count, "cuDeviceGetCount", 0},
        {(void **)&cu->f.device_get, "cuDeviceGet", 0},
        {(void **)&cu->f.device_attr, "cuDeviceGetAttribute", 0},
        {(void **)&cu->f.device_name, "cuDeviceGetName", 0},
        {(void **)&cu->f.ctx_retain, "cuDevicePrimaryCtxRetain", 0},
        {(void **)&cu->f.ctx_set, "cuCtxSetCurrent", 0},
        {(void **)&cu->f.ctx_sync, "cuCtxSynchronize", 0},
        {(void **)&cu->f.mem_alloc, "cuMemAlloc_v2", 0},
        {(void **)&cu->f.mem_free, "cuMemFree_v2", 0},
        {(void **)&cu->f.htod, "cuMemcpyHtoD_v2", 0},
        {(void **)&cu->f.dtoh, "cuMemcpyDtoH_v2", 0},
        {(void **)&cu->f.memset8, "cuMemsetD8_v2", 0},
        {(void **)&cu->f.mod_load, "cuModuleLoadData", 0},
        {(void **)&cu->f.mod_unload, "cuModuleUnload", 0},
        {(void **)&cu->f.mod_fn, "cuModuleGetFunction", 0},
        {(void **)&cu->f.mod_global, "cuModuleGetGlobal_v2", 0},
        {(void **)&cu->f.fn_attr, "cuFuncSetAttribute", 0},
        {(void **)&cu->f.launch, "cuLaunchKernel", 0},
        {(void **)&cu->f.ev_create, "cuEventCreate", 0},
        {(void **)&cu->f.ev_record, "cuEventRecord", 0},
        {(void **)&cu->f.ev_sync, "cuEventSynchronize", 0},
        {(void **)&cu->f.ev_elapsed, "cuEventElapsedTime_v2", "cuEventElapsedTime"},
        {(void **)&cu->f.ev_destroy, "cuEventDestroy_v2", 0},
        {(void **)&cu->f.err_string, "cuGetErrorString", 0},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        *t[i].slot = dlsym(cu->lib, t[i].name);
        if (!*t[i].slot && t[i].alt) *t[i].slot = dlsym(cu->lib, t[i].alt);
        if (!*t[i].slot) return t[i].name;
    }
    return NULL;
}

/* (H9) Looks up the optional entry points; a missing one stays NULL. */
static void bind_ext(mj_cu *cu) {
    struct { void **slot; const char *name; } t[] = {
        {(void **)&cu->x.stream_create, "cuStreamCreate"},
        {(void **)&cu->x.stream_destroy, "cuStreamDestroy_v2"},
        {(void **)&cu->x.stream_sync, "cuStreamSynchronize"},
        {(void **)&cu->x.htod_async, "cuMemcpyHtoDAsync_v2"},
        {(void **)&cu->x.dtoh_async, "cuMemcpyDtoHAsync_v2"},
        {(void **)&cu->x.dtod_async, "cuMemcpyDtoDAsync_v2"},
        {(void **)&cu->x.memset8_async, "cuMemsetD8Async"},
        {(void **)&cu->x.host_alloc, "cuMemAllocHost_v2"},
        {(void **)&cu->x.host_free, "cuMemFreeHost"},
        {(void **)&cu->x.host_alloc_flags, "cuMemHostAlloc"},
        {(void **)&cu->x.host_dev_ptr, "cuMemHostGetDevicePointer_v2"},
        {(void **)&cu->x.mem_info, "cuMemGetInfo_v2"},
        {(void **)&cu->x.capture_begin, "cuStreamBeginCapture_v2"},
        {(void **)&cu->x.capture_end, "cuStreamEndCapture"},
        {(void **)&cu->x.graph_instantiate, "cuGraphInstantiateWithFlags"},
        {(void **)&cu->x.graph_launch, "cuGraphLaunch"},
        {(void **)&cu->x.graph_exec_destroy, "cuGraphExecDestroy"},
        {(void **)&cu->x.graph_destroy, "cuGraphDestroy"},
        {(void **)&cu->x.launch_ex, "cuLaunchKernelEx"},
        {(void **)&cu->x.tmap_tiled, "cuTensorMapEncodeTiled"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) *t[i].slot = dlsym(cu->lib, t[i].name);
}

/* Initialises the_cu; returns 0 or -1 with open_err set. */
static int open_device(void) {
    mj_cu *cu = &the_cu;
    const char *no = getenv("MJ_CUDA_NO_DRIVER");
    if (no && *no && strcmp(no, "0") != 0) {
        snprintf(open_err, sizeof open_err, "CUDA disabled by MJ_CUDA_NO_DRIVER");
        return -1;
    }
    cu->lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!cu->lib) {
        snprintf(open_err, sizeof open_err, "no NVIDIA driver: cannot load libcuda.so.1 (%s)", dlerror());
        return -1;
    }
    const char *missing = bind_all(cu);
    if (missing) {
        snprintf(open_err, sizeof open_err, "libcuda.so.1 lacks %s (driver too old?)", missing);
        return -1;
    }
    bind_ext(cu);
    int n = 0, major = 0, minor = 0;
    CUresult r = cu->f.init(0);
    if (r == CUDA_SUCCESS) r = cu->f.device_count(&n);
    if (r != CUDA_SUCCESS || n <= 0) {
        const char *s = NULL;
        cu->f.err_string(r, &s);
        snprintf(open_err, sizeof open_err, "no CUDA GPU available (%s)", r != CUDA_SUCCESS && s ? s : "0 devices");
        return -1;
    }
    if (cu->f.device_get(&cu->dev, 0) != CUDA_SUCCESS ||
        cu->f.device_attr(&major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, cu->dev) != CUDA_SUCCESS ||
        cu->f.device_attr(&minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, cu->dev) != CUDA_SUCCESS ||
        cu->f.device_attr(&cu->sms, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, cu->dev) != CUDA_SUCCESS ||
        cu->f.device_name(cu->name, (int)sizeof cu->name, cu->dev) != CUDA_SUCCESS ||
        cu->f.ctx_retain(&cu->ctx, cu->dev) != CUDA_SUCCESS || cu->f.ctx_set(cu->ctx) != CUDA_SUCCESS) {
        snprintf(open_err, sizeof open_err, "cannot set up CUDA device 0");
        return -1;
    }
    cu->cc = major * 10 + minor;
    if (cu->cc == 90 || cu->cc == 100) snprintf(cu->arch, sizeof cu->arch, "sm_%da", cu->cc);
    else snprintf(cu->arch, sizeof cu->arch, "sm_%d", cu->cc);
    return 0;
}

mj_cu *mj_cu_open(char *err, size_t errn) {
    pthread_mutex_lock(&open_lock);
    if (open_state == 0) open_state = open_device() == 0 ? 1 : -1;
    pthread_mutex_unlock(&open_lock);
    if (open_state < 0) {
        if (err && errn) snprintf(err, errn, "%s", open_err);
        return NULL;
    }
    the_cu.f.ctx_set(the_cu.ctx);   /* current on this thread too */
    return &the_cu;
}

const char *mj_cu_error(const mj_cu *cu) { return cu->err; }
int mj_cu_cc(const mj_cu *cu) { return cu->cc; }
int mj_cu_sm_count(const mj_cu *cu) { return cu->sms; }
const char *mj_cu_name(const mj_cu *cu) { return cu->name; }
const char *mj_cu_arch(const mj_cu *cu) { return cu->arch; }

int mj_cu_alloc(mj_cu *cu, mj_cu_ptr *p, size_t bytes) {
    CUdeviceptr d = 0;
    CU_CALL(cu, "cuMemAlloc", cu->f.mem_alloc(&d, bytes ? bytes : 1));
    *p = (mj_cu_ptr)d;
    return 0;
}

void mj_cu_free(mj_cu *cu, mj_cu_ptr p) {
    if (p) cu->f.mem_free((CUdeviceptr)p);
}

int mj_cu_upload(mj_cu *cu, mj_cu_ptr dst, const void *src, size_t bytes) {
    if (!bytes) return 0;
    CU_CALL(cu, "cuMemcpyHtoD", cu->f.htod((CUdeviceptr)dst, src, bytes));
    return 0;
}

int mj_cu_download(mj_cu *cu, void *dst, mj_cu_ptr src, size_t bytes) {
    if (!bytes) return 0;
    CU_CALL(cu, "cuMemcpyDtoH", cu->f.dtoh(dst, (CUdeviceptr)src, bytes));
    return 0;
}

int mj_cu_memset8(mj_cu *cu, mj_cu_ptr dst, uint8_t value, size_t bytes) {
    if (!bytes) return 0;
    CU_CALL(cu, "cuMemsetD8", cu->f.memset8((CUdeviceptr)dst, value, bytes));
    return 0;
}

int mj_cu_sync(mj_cu *cu) {
    CU_CALL(cu, "cuCtxSynchronize", cu->f.ctx_sync());
    return 0;
}

int mj_cu_module_load(mj_cu *cu, const void *image, void **mod) {
    CUmodule m = NULL;
    CU_CALL(cu, "cuModuleLoadData", cu->f.mod_load(&m, image));
    *mod = m;
    return 0;
}

void mj_cu_module_unload(mj_cu *cu, void *mod) {
    if (mod) cu->f.mod_unload((CUmodule)mod);
}

int mj_cu_function(mj_cu *cu, void *mod, const char *name, void **fn) {
    CUfunction f = NULL;
    CUresult r = cu->f.mod_fn(&f, (CUmodule)mod, name);
    if (r != CUDA_SUCCESS) {
        char what[160];
        snprintf(what, sizeof what, "cuModuleGetFunction(%s)", name);
        set_err(cu, what, r);
        return -1;
    }
    *fn = f;
    return 0;
}

int mj_cu_module_int(mj_cu *cu, void *mod, const char *name, int *value) {
    CUdeviceptr p = 0;
    size_t n = 0;
    CU_CALL(cu, "cuModuleGetGlobal", cu->f.mod_global(&p, &n, (CUmodule)mod, name));
    if (n != sizeof(int)) {
        snprintf(cu->err, sizeof cu->err, "module global %s has %zu bytes, not an int", name, n);
        return -1;
    }
    CU_CALL(cu, "cuMemcpyDtoH", cu->f.dtoh(value, p, sizeof(int)));
    return 0;
}

int mj_cu_set_smem(mj_cu *cu, void *fn, int bytes) {
    CU_CALL(cu, "cuFuncSetAttribute", cu->f.fn_attr((CUfunction)fn,
            CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, bytes));
    return 0;
}

int mj_cu_allow_big_clusters(mj_cu *cu, void *fn) {
    CU_CALL(cu, "cuFuncSetAttribute", cu->f.fn_attr((CUfunction)fn,
            CU_FUNC_ATTRIBUTE_NON_PORTABLE_CLUSTER_SIZE_ALLOWED, 1));
    return 0;
}

int mj_cu_tensor_map_bf16(mj_cu *cu, void *map, mj_cu_ptr base, uint64_t inner, uint64_t rows,
                          uint64_t row_bytes, unsigned box_inner, unsigned box_rows) {
    if (!cu->x.tmap_tiled) {
        snprintf(cu->err, sizeof cu->err, "cuTensorMapEncodeTiled missing in the driver");
        return -1;
    }
    cuuint64_t dim[2] = {inner, rows}, stride[1] = {row_bytes};
    cuuint32_t box[2] = {box_inner, box_rows}, estride[2] = {1, 1};
    CU_CALL(cu, "cuTensorMapEncodeTiled",
            cu->x.tmap_tiled((CUtensorMap *)map, CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, 2, (void *)(uintptr_t)base, dim,
                             stride, box, estride, CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B,
                             CU_TENSOR_MAP_L2_PROMOTION_L2_256B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE));
    return 0;
}

int mj_cu_launch(mj_cu *cu, void *fn, unsigned gx, unsigned gy, unsigned gz, unsigned block,
                 unsigned smem, void **args) {
    return mj_cu_launch_on(cu, mj_cu_get_stream(cu), fn, gx, gy, gz, block, smem, args);
}

int mj_cu_timer_init(mj_cu *cu, mj_cu_timer *t) {
    CUevent a = NULL, b = NULL;
    CU_CALL(cu, "cuEventCreate", cu->f.ev_create(&a, CU_EVENT_DEFAULT));
    CU_CALL(cu, "cuEventCreate", cu->f.ev_create(&b, CU_EVENT_DEFAULT));
    t->start = a;
    t->stop = b;
    return 0;
}

int mj_cu_timer_start(mj_cu *cu, mj_cu_timer *t) {
    CU_CALL(cu, "cuEventRecord", cu->f.ev_record((CUevent)t->start, NULL));
    return 0;
}

int mj_cu_timer_stop(mj_cu *cu, mj_cu_timer *t, float *ms) {
    CU_CALL(cu, "cuEventRecord", cu->f.ev_record((CUevent)t->stop, NULL));
    CU_CALL(cu, "cuEventSynchronize", cu->f.ev_sync((CUevent)t->stop));
    CU_CALL(cu, "cuEventElapsedTime", cu->f.ev_elapsed(ms, (CUevent)t->start, (CUevent)t->stop));
    return 0;
}

void mj_cu_timer_free(mj_cu *cu, mj_cu_timer *t) {
    if (t->start) cu->f.ev_destroy((CUevent)t->start);
    if (t->stop) cu->f.ev_destroy((CUevent)t->stop);
    t->start = t->stop = NULL;
}

/* ---- (H9) streams, asynchronous copies, pinned memory, graphs ------------------------- */

static __thread void *cur_stream;    /* per thread; NULL: the legacy default stream */

#define CU_NEED(cu, fn, what) do { if (!(cu)->x.fn) { \
    snprintf((cu)->err, sizeof (cu)->err, "%s: not in this libcuda.so.1 (driver too old?)", what); \
    return -1; } } while (0)

void mj_cu_set_stream(mj_cu *cu, mj_cu_stream s) { (void)cu; cur_stream = s; }
mj_cu_stream mj_cu_get_stream(const mj_cu *cu) { (void)cu; return cur_stream; }

int mj_cu_launch_on(mj_cu *cu, mj_cu_stream s, void *fn, unsigned gx, unsigned gy, unsigned gz,
                    unsigned block, unsigned smem, void **args) {
    if (!gx || !gy || !gz) return 0;
    CU_CALL(cu, "cuLaunchKernel", cu->f.launch((CUfunction)fn, gx, gy, gz, block, 1, 1, smem,
                                               (CUstream)s, args, NULL));
    return 0;
}

int mj_cu_stream_create(mj_cu *cu, mj_cu_stream *s) {
    CU_NEED(cu, stream_create, "cuStreamCreate");
    CUstream st = NULL;
    CU_CALL(cu, "cuStreamCreate", cu->x.stream_create(&st, CU_STREAM_NON_BLOCKING));
    *s = st;
    return 0;
}

void mj_cu_stream_destroy(mj_cu *cu, mj_cu_stream s) {
    if (s && cu->x.stream_destroy) cu->x.stream_destroy((CUstream)s);
}

int mj_cu_stream_sync(mj_cu *cu, mj_cu_stream s) {
    CU_NEED(cu, stream_sync, "cuStreamSynchronize");
    CU_CALL(cu, "cuStreamSynchronize", cu->x.stream_sync((CUstream)s));
    return 0;
}

int mj_cu_upload_async(mj_cu *cu, mj_cu_ptr dst, const void *src, size_t bytes, mj_cu_stream s) {
    if (!bytes) return 0;
    CU_NEED(cu, htod_async, "cuMemcpyHtoDAsync");
    CU_CALL(cu, "cuMemcpyHtoDAsync", cu->x.htod_async((CUdeviceptr)dst, src, bytes, (CUstream)s));
    return 0;
}

int mj_cu_download_async(mj_cu *cu, void *dst, mj_cu_ptr src, size_t bytes, mj_cu_stream s) {
    if (!bytes) return 0;
    CU_NEED(cu, dtoh_async, "cuMemcpyDtoHAsync");
    CU_CALL(cu, "cuMemcpyDtoHAsync", cu->x.dtoh_async(dst, (CUdeviceptr)src, bytes, (CUstream)s));
    return 0;
}

int mj_cu_copy_async(mj_cu *cu, mj_cu_ptr dst, mj_cu_ptr src, size_t bytes, mj_cu_stream s) {
    if (!bytes) return 0;
    CU_NEED(cu, dtod_async, "cuMemcpyDtoDAsync");
    CU_CALL(cu, "cuMemcpyDtoDAsync", cu->x.dtod_async((CUdeviceptr)dst, (CUdeviceptr)src, bytes, (CUstream)s));
    return 0;
}

int mj_cu_memset8_async(mj_cu *cu, mj_cu_ptr dst, uint8_t value, size_t bytes, mj_cu_stream s) {
    if (!bytes) return 0;
    CU_NEED(cu, memset8_async, "cuMemsetD8Async");
    CU_CALL(cu, "cuMemsetD8Async", cu->x.memset8_async((CUdeviceptr)dst, value, bytes, (CUstream)s));
    return 0;
}

int mj_cu_host_alloc(mj_cu *cu, void **p, size_t bytes) {
    CU_NEED(cu, host_alloc, "cuMemAllocHost");
    CU_CALL(cu, "cuMemAllocHost", cu->x.host_alloc(p, bytes ? bytes : 1));
    return 0;
}

int mj_cu_host_alloc_mapped(mj_cu *cu, void **p, mj_cu_ptr *dev, size_t bytes) {
    CU_NEED(cu, host_alloc_flags, "cuMemHostAlloc");
    CU_NEED(cu, host_dev_ptr, "cuMemHostGetDevicePointer");
    CUdeviceptr d = 0;
    CU_CALL(cu, "cuMemHostAlloc", cu->x.host_alloc_flags(p, bytes ? bytes : 1, 0x02 /* DEVICEMAP */));
    CUresult r = cu->x.host_dev_ptr(&d, *p, 0);
    if (r != CUDA_SUCCESS) {
        set_err(cu, "cuMemHostGetDevicePointer", r);
        cu->x.host_free(*p);
        *p = NULL;
        return -1;
    }
    *dev = (mj_cu_ptr)d;
    return 0;
}

void mj_cu_host_free(mj_cu *cu, void *p) {
    if (p && cu->x.host_free) cu->x.host_free(p);
}

int mj_cu_mem_info(mj_cu *cu, size_t *free_bytes, size_t *total_bytes) {
    CU_NEED(cu, mem_info, "cuMemGetInfo");
    CU_CALL(cu, "cuMemGetInfo", cu->x.mem_info(free_bytes, total_bytes));
    return 0;
}

int mj_cu_graphs_available(const mj_cu *cu) {
    return cu->x.capture_begin && cu->x.capture_end && cu->x.graph_instantiate &&
           cu->x.graph_launch && cu->x.graph_exec_destroy && cu->x.graph_destroy;
}

int mj_cu_capture_begin(mj_cu *cu, mj_cu_stream s) {
    CU_NEED(cu, capture_begin, "cuStreamBeginCapture");
    CU_CALL(cu, "cuStreamBeginCapture", cu->x.capture_begin((CUstream)s, CU_STREAM_CAPTURE_MODE_RELAXED));
    return 0;
}

int mj_cu_capture_end(mj_cu *cu, mj_cu_stream s, void **exec) {
    *exec = NULL;
    if (!mj_cu_graphs_available(cu)) {
        snprintf(cu->err, sizeof cu->err, "CUDA graphs: not in this libcuda.so.1");
        return -1;
    }
    CUgraph g = NULL;
    CU_CALL(cu, "cuStreamEndCapture", cu->x.capture_end((CUstream)s, &g));
    CUgraphExec ge = NULL;
    CUresult r = cu->x.graph_instantiate(&ge, g, 0);
    cu->x.graph_destroy(g);
    if (r != CUDA_SUCCESS) { set_err(cu, "cuGraphInstantiate", r); return -1; }
    *exec = ge;
    return 0;
}

int mj_cu_graph_launch(mj_cu *cu, void *exec, mj_cu_stream s) {
    CU_NEED(cu, graph_launch, "cuGraphLaunch");
    CU_CALL(cu, "cuGraphLaunch", cu->x.graph_launch((CUgraphExec)exec, (CUstream)s));
    return 0;
}

void mj_cu_graph_free(mj_cu *cu, void *exec) {
    if (exec && cu->x.graph_exec_destroy) cu->x.graph_exec_destroy((CUgraphExec)exec);
}

int mj_cu_timer_start_on(mj_cu *cu, mj_cu_timer *t, mj_cu_stream s) {
    CU_CALL(cu, "cuEventRecord", cu->f.ev_record((CUevent)t->start, (CUstream)s));
    return 0;
}

int mj_cu_timer_stop_on(mj_cu *cu, mj_cu_timer *t, mj_cu_stream s, float *ms) {
    CU_CALL(cu, "cuEventRecord", cu->f.ev_record((CUevent)t->stop, (CUstream)s));
    CU_CALL(cu, "cuEventSynchronize", cu->f.ev_sync((CUevent)t->stop));
    CU_CALL(cu, "cuEventElapsedTime", cu->f.ev_elapsed(ms, (CUevent)t->start, (CUevent)t->stop));
    return 0;
}

int mj_cu_event_init(mj_cu *cu, mj_cu_event *ev) {
    CUevent e = NULL;
    CU_CALL(cu, "cuEventCreate", cu->f.ev_create(&e, CU_EVENT_DISABLE_TIMING));
    *ev = e;
    return 0;
}

int mj_cu_event_record(mj_cu *cu, mj_cu_event ev, mj_cu_stream s) {
    CU_CALL(cu, "cuEventRecord", cu->f.ev_record((CUevent)ev, (CUstream)s));
    return 0;
}

int mj_cu_event_sync(mj_cu *cu, mj_cu_event ev) {
    if (!ev) return 0;
    CU_CALL(cu, "cuEventSynchronize", cu->f.ev_sync((CUevent)ev));
    return 0;
}

void mj_cu_event_free(mj_cu *cu, mj_cu_event ev) {
    if (ev) cu->f.ev_destroy((CUevent)ev);
}

int mj_cu_pdl_available(const mj_cu *cu) { return cu->x.launch_ex && cu->cc >= 90; }

int mj_cu_launch_pdl(mj_cu *cu, mj_cu_stream s, void *fn, unsigned gx, unsigned gy, unsigned gz, unsigned block,
                     unsigned smem, void **args) {
    return mj_cu_launch_ex(cu, s, fn, gx, gy, gz, block, smem, args, true, 1);
}

int mj_cu_launch_ex(mj_cu *cu, mj_cu_stream s, void *fn, unsigned gx, unsigned gy, unsigned gz, unsigned block,
                    unsigned smem, void **args, bool pdl, unsigned cluster_x) {
    if (!gx || !gy || !gz) return 0;
    if (!mj_cu_pdl_available(cu)) {
        if (cluster_x > 1) {
            snprintf(cu->err, sizeof cu->err, "thread-block clusters need cuLaunchKernelEx and sm_90");
            return -1;
        }
        return mj_cu_launch_on(cu, s, fn, gx, gy, gz, block, smem, args);
    }
    CUlaunchAttribute at[2];
    unsigned nat = 0;
    memset(at, 0, sizeof at);
    if (pdl) {
        at[nat].id = CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION;
        at[nat++].value.programmaticStreamSerializationAllowed = 1;
    }
    if (cluster_x > 1) {
        at[nat].id = CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION;
        at[nat].value.clusterDim.x = cluster_x;
        at[nat].value.clusterDim.y = 1;
        at[nat++].value.clusterDim.z = 1;
    }
    CUlaunchConfig cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.gridDimX = gx;
    cfg.gridDimY = gy;
    cfg.gridDimZ = gz;
    cfg.blockDimX = block;
    cfg.blockDimY = 1;
    cfg.blockDimZ = 1;
    cfg.sharedMemBytes = smem;
    cfg.hStream = (CUstream)s;
    cfg.attrs = at;
    cfg.numAttrs = nat;
    CU_CALL(cu, "cuLaunchKernelEx", cu->x.launch_ex(&cfg, (CUfunction)fn, args, NULL));
    return 0;
}
