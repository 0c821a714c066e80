/* cuda_nvrtc.c — the NVRTC side of the CUDA back end: picking the target arch
 * (the local GPU's through a lazily dlopen'd libcuda.so.1, else sm_90a), the
 * compile options (no fast math, no FMA contraction: results must match the
 * CPU), the embedded headers NVRTC may include, and the compile itself.
 * libcuda is never linked: a machine without a driver still compiles. */
#include "cuda_internal.h"

#include <ctype.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nvrtc.h>

#include "embedded.h"

static int64_t nvrtc_calls;

int64_t mjc_nvrtc_calls(void) { return __atomic_load_n(&nvrtc_calls, __ATOMIC_RELAXED); }

const char *mjc_nvrtc_version(void) {
    static char buf[32];
    int major = 0, minor = 0;
    if (nvrtcVersion(&major, &minor) != NVRTC_SUCCESS) return "unknown";
    snprintf(buf, sizeof buf, "%d.%d", major, minor);
    return buf;
}

/* Minimal driver API types for the dlopen'd libcuda (values from cuda.h). */
typedef int (*cu_init_fn)(unsigned);
typedef int (*cu_count_fn)(int *);
typedef int (*cu_get_fn)(int *, int);
typedef int (*cu_attr_fn)(int *, int, int);
enum { CU_ATTR_CC_MAJOR = 75, CU_ATTR_CC_MINOR = 76 };

int mjc_local_compute_capability(void) {
    static int cached = -2;
    if (cached != -2) return cached;
    cached = -1;
    const char *force = getenv("MJ_CUDA_NO_DRIVER");   /* tests: pretend no GPU */
    if (force && *force && strcmp(force, "0") != 0) return cached;
    void *h = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_LOCAL);
    if (!h) return cached;
    cu_init_fn init = (cu_init_fn)dlsym(h, "cuInit");
    cu_count_fn count = (cu_count_fn)dlsym(h, "cuDeviceGetCount");
    cu_get_fn get = (cu_get_fn)dlsym(h, "cuDeviceGet");
    cu_attr_fn attr = (cu_attr_fn)dlsym(h, "cuDeviceGetAttribute");
    int n = 0, dev = 0, major = 0, minor = 0;
    if (init && count && get && attr && init(0) == 0 && count(&n) == 0 && n > 0 &&
        get(&dev, 0) == 0 && attr(&major, CU_ATTR_CC_MAJOR, dev) == 0 &&
        attr(&minor, CU_ATTR_CC_MINOR, dev) == 0)
        cached = major * 10 + minor;
    /* libcuda stays loaded: unloading a driver library is not supported. */
    return cached;
}

/* Is sm_NN supported by the linked NVRTC? */
static bool nvrtc_supports(int nn) {
    int n = 0;
    if (nvrtcGetNumSupportedArchs(&n) != NVRTC_SUCCESS || n <= 0 || n > 256) return false;
    int archs[256];
    if (nvrtcGetSupportedArchs(archs) != NVRTC_SUCCESS) return false;
    for (int i = 0; i < n; i++)
        if (archs[i] == nn) return true;
    return false;
}

int mjc_pick_arch(const char *arch, char *out, size_t outn, char *err, size_t errn) {
    if (!arch || !*arch) {
        int cc = mjc_local_compute_capability();
        if (cc < 0 || !nvrtc_supports(cc)) snprintf(out, outn, "sm_90a");
        else if (cc == 90 || cc == 100) snprintf(out, outn, "sm_%da", cc);
        else snprintf(out, outn, "sm_%d", cc);
        return 0;
    }
    const char *s = arch;
    if (strncmp(s, "sm_", 3) != 0) goto bad;
    s += 3;
    int nn = 0, digits = 0;
    while (isdigit((unsigned char)*s) && digits < 4) nn = nn * 10 + (*s++ - '0'), digits++;
    if (digits < 2 || (*s && !((*s == 'a' || *s == 'f') && s[1] == '\0'))) goto bad;
    if (!nvrtc_supports(nn)) {
        snprintf(err, errn, "architecture '%s' is not supported by NVRTC %s", arch,
                 mjc_nvrtc_version());
        return -1;
    }
    snprintf(out, outn, "%s", arch);
    return 0;
bad:
    snprintf(err, errn, "bad architecture '%s' (expected sm_NN, sm_NNa or sm_NNf, e.g. sm_80, sm_90a)",
             arch);
    return -1;
}

int mjc_options_build(mjc_options *o, const char *arch, const char *defines, bool resource_usage,
                      char *err, size_t errn) {
    memset(o, 0, sizeof *o);
    snprintf(o->arch_opt, sizeof o->arch_opt, "--gpu-architecture=%s", arch);
    static const char *fixed[] = {
        "-std=c++17", "-default-device", "--fmad=false", "--ftz=false", "--prec-div=true",
        "--prec-sqrt=true", NULL};
    o->argv[o->argc++] = o->arch_opt;
    for (int i = 0; fixed[i]; i++) o->argv[o->argc++] = fixed[i];
    if (resource_usage) o->argv[o->argc++] = "--ptxas-options=-v";   /* the register report, in the log */
    if (!defines) return 0;
    size_t used = 0;
    const char *s = defines;
    while (*s) {
        while (*s == ' ' || *s == ',') s++;
        size_t n = strcspn(s, " ,");
        if (!n) break;
        for (size_t i = 0; i < n; i++)
            if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == '=' || s[i] == '-' ||
                  s[i] == '.')) {
                snprintf(err, errn, "bad define '%.*s'", (int)n, s);
                return -1;
            }
        if (used + n + 3 > sizeof o->defs_store || o->argc + 2 >= (int)(sizeof o->argv / sizeof o->argv[0])) {
            snprintf(err, errn, "too many defines");
            return -1;
        }
        char *d = o->defs_store + used;
        memcpy(d, "-D", 2);
        memcpy(d + 2, s, n);
        d[n + 2] = '\0';
        o->argv[o->argc++] = d;
        used += n + 3;
        s += n;
    }
    return 0;
}

int mjc_headers(const char **names, const char **texts, int max) {
    static const char *wanted[] = {"mj_env.h", "mj_semantics.h", "attn_params.h",
                                   "attn_common.cuh", "attn_prefill_ws_persist.cuh", "attn_ws_ptx.cuh"};
    int n = 0;
    for (size_t i = 0; i < sizeof wanted / sizeof wanted[0] && n < max; i++) {
        const char *t = mj_embedded_get(wanted[i]);
        if (!t) continue;
        names[n] = wanted[i];
        texts[n] = t;
        n++;
    }
    return n;
}

static char *program_log(nvrtcProgram prog) {
    size_t n = 0;
    if (nvrtcGetProgramLogSize(prog, &n) != NVRTC_SUCCESS) n = 0;
    char *log = malloc(n + 1);
    if (!log) abort();
    log[0] = '\0';
    if (n && nvrtcGetProgramLog(prog, log) != NVRTC_SUCCESS) log[0] = '\0';
    log[n] = '\0';
    return log;
}

/* Fetches PTX and cubin of a compiled program; returns 0 or -1. */
static int fetch_outputs(nvrtcProgram prog, char **ptx, size_t *ptx_size, char **cubin,
                         size_t *cubin_size) {
    size_t np = 0, nc = 0;
    if (nvrtcGetPTXSize(prog, &np) != NVRTC_SUCCESS ||
        nvrtcGetCUBINSize(prog, &nc) != NVRTC_SUCCESS)
        return -1;
    *ptx = malloc(np + 1);
    *cubin = malloc(nc + 1);
    if (!*ptx || !*cubin) abort();
    if ((np && nvrtcGetPTX(prog, *ptx) != NVRTC_SUCCESS) ||
        (nc && nvrtcGetCUBIN(prog, *cubin) != NVRTC_SUCCESS)) {
        free(*ptx);
        free(*cubin);
        *ptx = *cubin = NULL;
        return -1;
    }
    /* NVRTC's PTX size counts its terminating NUL; keep the text length. */
    (*ptx)[np] = '\0';
    *ptx_size = strlen(*ptx);
    (*cubin)[nc] = '\0';
    *cubin_size = nc;
    return 0;
}

int mjc_nvrtc_compile(const char *source, const char *name, const mjc_options *o, char **ptx,
                      size_t *ptx_size, char **cubin, size_t *cubin_size, char **log) {
    const char *hnames[8], *htexts[8];
    int nh = mjc_headers(hnames, htexts, 8);
    nvrtcProgram prog;
    *ptx = *cubin = *log = NULL;
    nvrtcResult r = nvrtcCreateProgram(&prog, source, name, nh, htexts, hnames);
    if (r != NVRTC_SUCCESS) {
        mjc_buf b = {0};
        mjc_buf_printf(&b, "nvrtcCreateProgram: %s", nvrtcGetErrorString(r));
        *log = mjc_buf_take(&b);
        return -1;
    }
    __atomic_fetch_add(&nvrtc_calls, 1, __ATOMIC_RELAXED);
    r = nvrtcCompileProgram(prog, o->argc, o->argv);
    *log = program_log(prog);
    int rc = -1;
    if (r == NVRTC_SUCCESS) rc = fetch_outputs(prog, ptx, ptx_size, cubin, cubin_size);
    if (r != NVRTC_SUCCESS || rc != 0) {
        mjc_buf b = {0};
        mjc_buf_printf(&b, "nvrtcCompileProgram: %s\n%s", nvrtcGetErrorString(r), *log);
        free(*log);
        *log = mjc_buf_take(&b);
    }
    nvrtcDestroyProgram(&prog);
    return rc;
}
