/* cuda_kernels.c — NVRTC compile, disk cache and loading of the forward
 * kernels (cuda_kernels.h).  The compile is compiler/'s
 * mj_cuda_compile_source (the mask kernels' NVRTC options).  The compiler's
 * cache (compiler/cuda_cache.c) is internal to compiler/, so this keeps its
 * own small entries in the same directory: "fwd-<32 hex>.cubin" = magic
 * "MJFWD\0\0\1", u64 cubin size, u64 checksum of the cubin, the cubin.  The
 * key hashes the source, the arch, the -D defines and the NVRTC version (two
 * 64-bit FNV-1a passes with different seeds); entries are written to a
 * temporary file and renamed into place, and a short or damaged entry is
 * rebuilt. */
#include "cuda_kernels.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <nvrtc.h>

#include "cuda_backend.h"
#include "embedded.h"

static const char *const fk_names[FK_COUNT] = {
    "mj_fwd_embed", "mj_fwd_add_rmsnorm", "mj_fwd_rope_qkv", "mj_fwd_swiglu", "mj_fwd_f32_to_bf16",
    "mj_fwd_copy_prefix", "mj_fwd_gemv1", "mj_fwd_gemv2", "mj_fwd_gemv4", "mj_fwd_gemv8",
    "mj_fwd_gemv_glu1", "mj_fwd_gemv_glu2", "mj_fwd_gemv_glu4", "mj_fwd_gemv_glu8",
    "mj_fwd_gemv_rope1", "mj_fwd_gemv_rope2", "mj_fwd_gemv_rope4", "mj_fwd_gemv_rope8",
    "mj_fwd_gemv1_k2", "mj_fwd_gemv2_k2", "mj_fwd_gemv4_k2", "mj_fwd_gemv8_k2",
    "mj_fwd_argmax",
    "mj_fwd_gemv_rope1_k2", "mj_fwd_gemv_rope2_k2", "mj_fwd_gemv_rope4_k2", "mj_fwd_gemv_rope8_k2",
    "mj_fwd_gemv_rope_emb1",
};

static const char MAGIC[8] = {'M', 'J', 'F', 'W', 'D', 0, 0, 1};

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n) {
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) h = (h ^ s[i]) * 0x100000001b3ull;
    return h;
}

/* Field-separated hash (length first) so that boundaries cannot shift. */
static uint64_t fnv_field(uint64_t h, const char *s) {
    uint64_t n = strlen(s);
    h = fnv(h, &n, sizeof n);
    return fnv(h, s, (size_t)n);
}

/* mkdir -p of a writable copy of path; 0 when it is a directory. */
static int make_dirs(char *path) {
    for (char *s = path + 1; *s; s++) {
        if (*s != '/') continue;
        *s = '\0';
        int rc = mkdir(path, 0755);
        *s = '/';
        if (rc != 0 && errno != EEXIST) return -1;
    }
    if (mkdir(path, 0755) != 0 && errno != EEXIST) return -1;
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode) ? 0 : -1;
}

/* The cache file for key (malloc'd), or NULL when no directory is usable. */
static char *cache_file(const uint64_t key[2]) {
    char dir[1024];
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (xdg && *xdg == '/') snprintf(dir, sizeof dir, "%s/maskjit", xdg);
    else if (home && *home) snprintf(dir, sizeof dir, "%s/.cache/maskjit", home);
    else return NULL;
    if (make_dirs(dir) != 0) return NULL;
    size_t n = strlen(dir) + 64;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/fwd-%016llx%016llx.cubin", dir, (unsigned long long)key[0],
                    (unsigned long long)key[1]);
    return p;
}

static void put64(unsigned char *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> 8 * i); }
static uint64_t get64(const unsigned char *p) { uint64_t v = 0; for (int i = 7; i >= 0; i--) v = v << 8 | p[i]; return v; }

/* A valid entry's cubin (malloc'd), or NULL. */
static char *cache_load(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    unsigned char h[24];
    char *buf = NULL;
    if (fread(h, 1, 24, f) == 24 && memcmp(h, MAGIC, 8) == 0) {
        uint64_t n = get64(h + 8), sum = get64(h + 16);
        if (n > 0 && n < ((uint64_t)1 << 30) && (buf = malloc((size_t)n + 1))) {
            int extra = 0;
            if (fread(buf, 1, (size_t)n, f) != n || fread(&extra, 1, 1, f) != 0 ||
                fnv(0xcbf29ce484222325ull, buf, (size_t)n) != sum) {
                free(buf);
                buf = NULL;
            } else {
                *size = (size_t)n;
            }
        }
    }
    fclose(f);
    return buf;
}

static void cache_store(const char *path, const char *cubin, size_t n) {
    size_t pn = strlen(path) + 32;
    char *tmp = malloc(pn);
    if (!tmp) return;
    snprintf(tmp, pn, "%s.tmp%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    unsigned char h[24];
    memcpy(h, MAGIC, 8);
    put64(h + 8, n);
    put64(h + 16, fnv(0xcbf29ce484222325ull, cubin, n));
    bool ok = f && fwrite(h, 1, 24, f) == 24 && fwrite(cubin, 1, n, f) == n;
    if (f && fclose(f) != 0) ok = false;
    if (!ok || rename(tmp, path) != 0) unlink(tmp);
    free(tmp);
}

int mj_fwd_kernels_build(const char *arch, bool no_cache, char **cubin, size_t *size, bool *cache_hit,
                         char *err, size_t errn) {
    const char *src = mj_embedded_get("fwd_kernels.cu");
    *cubin = NULL;
    *cache_hit = false;
    if (!src) { snprintf(err, errn, "fwd_kernels.cu is not embedded in this binary"); return -1; }
    /* MJ_CUDA_GEMV_UNROLL=2|8: 16-byte weight loads per lane in flight in the
     * skinny products (default 4; a tuning switch, read at engine open);
     * MJ_CUDA_FWD_DEFINES="A=1,B=2": more -D for the kernels (development) */
    const char *un = getenv("MJ_CUDA_GEMV_UNROLL"), *fd = getenv("MJ_CUDA_FWD_DEFINES");
    const char *unroll = un && !strcmp(un, "8") ? "GV_UNROLL=8" : un && !strcmp(un, "2") ? "GV_UNROLL=2" : "";
    char defs[512];
    if (snprintf(defs, sizeof defs, "%s %s", unroll, fd ? fd : "") >= (int)sizeof defs) {
        snprintf(err, errn, "MJ_CUDA_FWD_DEFINES is too long");
        return -1;
    }
    int major = 0, minor = 0;
    nvrtcVersion(&major, &minor);
    char ver[32];
    snprintf(ver, sizeof ver, "nvrtc %d.%d fwd-v2", major, minor);
    uint64_t key[2] = {0xcbf29ce484222325ull, 0x84222325cbf29ce4ull};
    for (int k = 0; k < 2; k++) {
        key[k] = fnv_field(key[k], ver);
        key[k] = fnv_field(key[k], src);
        key[k] = fnv_field(key[k], arch);
        key[k] = fnv_field(key[k], defs);
    }
    char *path = no_cache ? NULL : cache_file(key);
    if (path && (*cubin = cache_load(path, size))) {
        *cache_hit = true;
        free(path);
        return 0;
    }
    if (mj_cuda_compile_source("fwd_kernels.cu", src, arch, defs, cubin, size, err, errn) == 0 && path)
        cache_store(path, *cubin, *size);
    free(path);
    return *cubin ? 0 : -1;
}

int mj_fwd_kernels_load(mj_cu *cu, mj_fwd_kernels *k, char *err, size_t errn) {
    memset(k, 0, sizeof *k);
    double t0 = now_ms();
    char *cubin = NULL;
    size_t size = 0;
    if (mj_fwd_kernels_build(mj_cu_arch(cu), false, &cubin, &size, &k->cache_hit, err, errn) != 0)
        return -1;
    k->compile_ms = now_ms() - t0;
    int rc = mj_cu_module_load(cu, cubin, &k->mod);
    free(cubin);
    if (rc != 0) {
        snprintf(err, errn, "loading the forward kernels: %s", mj_cu_error(cu));
        return -1;
    }
    for (int i = 0; i < FK_COUNT; i++)
        if (mj_cu_function(cu, k->mod, fk_names[i], &k->fn[i]) != 0) {
            snprintf(err, errn, "%s", mj_cu_error(cu));
            mj_fwd_kernels_unload(cu, k);
            return -1;
        }
    return 0;
}

void mj_fwd_kernels_unload(mj_cu *cu, mj_fwd_kernels *k) {
    if (k->mod) mj_cu_module_unload(cu, k->mod);
    memset(k, 0, sizeof *k);
}
