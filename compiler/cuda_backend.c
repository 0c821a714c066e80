/* cuda_backend.c — the front of the CUDA back end (cuda_backend.h): splice the
 * emitted device functions into a kernel template, key the compile by SHA-256
 * of everything that affects its output, and either load the PTX/cubin from
 * the disk cache or compile with NVRTC and store the result.
 *
 * Cache key = SHA-256 over length-prefixed fields: a format tag, the full
 * spliced source, every NVRTC option (arch included), the template name and
 * text, the NVRTC version, and the name and text of every header NVRTC may
 * include (mj_env.h, mj_semantics.h, attn_params.h, attn_common.cuh,
 * attn_prefill_ws_persist.cuh, attn_ws_ptx.cuh). */
#include "cuda_backend.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cuda_internal.h"
#include "embedded.h"

#define MJ_CUDA_MARKER "//@MASK_FUNCTIONS@"
#define MJ_CUDA_DEFAULT_TEMPLATE "mask_grid"

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Text of template NAME ("attn_prefill" or "attn_prefill.cu.in"), or NULL. */
static const char *template_text(const char *name, char *full, size_t fulln) {
    if (!name || !*name) name = MJ_CUDA_DEFAULT_TEMPLATE;
    size_t n = strlen(name);
    if (n > 6 && strcmp(name + n - 6, ".cu.in") == 0) snprintf(full, fulln, "%s", name);
    else snprintf(full, fulln, "%s.cu.in", name);
    if (strchr(full, '/')) return NULL;
    return mj_embedded_get(full);
}

char *mj_cuda_source(const mj_program *p, const char *template_name, mj_diags *diags) {
    char full[256];
    const char *t = template_text(template_name, full, sizeof full);
    const char *path = p && p->path ? p->path : "<program>";
    if (!t) {
        mj_diag_add_file(diags, MJ_SEV_ERROR, path, "unknown kernel template '%s'",
                         template_name ? template_name : MJ_CUDA_DEFAULT_TEMPLATE);
        return NULL;
    }
    const char *at = strstr(t, MJ_CUDA_MARKER);
    if (!at) {
        mj_diag_add_file(diags, MJ_SEV_ERROR, path, "kernel template '%s' has no %s marker",
                         full, MJ_CUDA_MARKER);
        return NULL;
    }
    char *fns = mj_cuda_emit(p);
    if (!fns) {
        mj_diag_add_file(diags, MJ_SEV_ERROR, path, "cannot emit CUDA code for this program");
        return NULL;
    }
    mjc_buf b = {0};
    mjc_buf_append(&b, t, (size_t)(at - t));
    mjc_buf_puts(&b, fns);
    mjc_buf_puts(&b, at + strlen(MJ_CUDA_MARKER));
    free(fns);
    return mjc_buf_take(&b);
}

static void compute_key(const char *source, const mjc_options *o, const char *tname,
                        uint8_t key[32]) {
    char full[256];
    const char *ttext = template_text(tname, full, sizeof full);
    mjc_sha256 s;
    mjc_sha256_init(&s);
    static const char tag[] = "maskjit-nvrtc-cache-v1";
    mjc_sha256_field(&s, tag, sizeof tag - 1);
    mjc_sha256_field(&s, source, strlen(source));
    for (int i = 0; i < o->argc; i++) mjc_sha256_field(&s, o->argv[i], strlen(o->argv[i]));
    mjc_sha256_field(&s, full, strlen(full));
    mjc_sha256_field(&s, ttext ? ttext : "", ttext ? strlen(ttext) : 0);
    const char *ver = mjc_nvrtc_version();
    mjc_sha256_field(&s, ver, strlen(ver));
    const char *hn[8], *ht[8];
    int nh = mjc_headers(hn, ht, 8);
    for (int i = 0; i < nh; i++) {
        mjc_sha256_field(&s, hn[i], strlen(hn[i]));
        mjc_sha256_field(&s, ht[i], strlen(ht[i]));
    }
    mjc_sha256_final(&s, key);
}

/* Compile with NVRTC into a, storing into the cache at cpath (may be NULL). */
static int compile_fresh(const mj_program *p, const mjc_options *o, const char *cpath,
                         const uint8_t key[32], mj_cuda_artifact *a, mj_diags *diags) {
    const char *path = p->path ? p->path : "<program>";
    if (mjc_nvrtc_compile(a->source, "maskjit.cu", o, &a->ptx, &a->ptx_size, &a->cubin,
                          &a->cubin_size, &a->log) != 0) {
        mj_diag_add_file(diags, MJ_SEV_ERROR, path, "NVRTC compile for %s failed: %s", a->arch,
                         a->log ? a->log : "(no log)");
        return -1;
    }
    if (cpath && mjc_cache_store(cpath, key, a->ptx, a->ptx_size, a->cubin, a->cubin_size) != 0)
        mj_diag_add_file(diags, MJ_SEV_WARNING, path, "cannot write the kernel cache entry %s",
                         cpath);
    return 0;
}

int mj_cuda_compile(const mj_program *p, const mj_cuda_opts *opts, mj_cuda_artifact *out,
                    mj_diags *diags) {
    static const mj_cuda_opts defaults = {0};
    double t0 = now_ms();
    memset(out, 0, sizeof *out);
    if (!opts) opts = &defaults;
    const char *path = p && p->path ? p->path : "<program>";
    char err[256];
    if (mjc_pick_arch(opts->arch, out->arch, sizeof out->arch, err, sizeof err) != 0) {
        mj_diag_add_file(diags, MJ_SEV_ERROR, path, "%s", err);
        return -1;
    }
    mjc_options o;
    if (mjc_options_build(&o, out->arch, opts->defines, opts->resource_usage, err, sizeof err) != 0) {
        mj_diag_add_file(diags, MJ_SEV_ERROR, path, "%s", err);
        return -1;
    }
    out->source = mj_cuda_source(p, opts->template_name, diags);
    if (!out->source) return -1;
    uint8_t key[32];
    compute_key(out->source, &o, opts->template_name, key);
    char *dir = opts->no_cache || opts->resource_usage ? NULL : mjc_cache_dir(opts->cache_dir);
    char *cpath = dir ? mjc_cache_path(dir, key) : NULL;
    int rc = 0;
    if (cpath && mjc_cache_load(cpath, key, &out->ptx, &out->ptx_size, &out->cubin,
                                &out->cubin_size) == MJC_CACHE_HIT) {
        out->cache_hit = true;
        out->log = calloc(1, 1);
        if (!out->log) abort();
    } else {
        rc = compile_fresh(p, &o, cpath, key, out, diags);
    }
    free(cpath);
    free(dir);
    out->compile_ms = now_ms() - t0;
    return rc;
}

int mj_cuda_compile_source(const char *name, const char *src, const char *arch, const char *defines,
                           char **cubin, size_t *cubin_size, char *err, size_t errn) {
    *cubin = NULL;
    *cubin_size = 0;
    mjc_options o;
    if (mjc_options_build(&o, arch, defines, false, err, errn) != 0) return -1;
    char *ptx = NULL, *log = NULL;
    size_t np = 0;
    int rc = mjc_nvrtc_compile(src, name, &o, &ptx, &np, cubin, cubin_size, &log);
    if (rc != 0) snprintf(err, errn, "NVRTC failed on %s: %s", name, log ? log : "(no log)");
    free(ptx);
    free(log);
    return rc;
}

void mj_cuda_artifact_free(mj_cuda_artifact *a) {
    if (!a) return;
    free(a->source);
    free(a->ptx);
    free(a->cubin);
    free(a->log);
    memset(a, 0, sizeof *a);
}
