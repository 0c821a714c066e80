/* cuda_internal.h — pieces of the CUDA back end shared between its files
 * (cuda_emit.c, cuda_classify.c, cuda_hash.c, cuda_cache.c, cuda_nvrtc.c,
 * cuda_backend.c) and with its unit tests.  Not part of the fixed interface
 * (cuda_backend.h); nothing outside compiler/ and tests should rely on it. */
#ifndef MJ_CUDA_INTERNAL_H
#define MJ_CUDA_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "mj_ir.h"

/* ---- growable text buffer (aborts on out-of-memory like the arena) ---------- */
typedef struct mjc_buf {
    char *p;        /* NUL-terminated once anything was appended */
    size_t n, cap;
} mjc_buf;

void mjc_buf_append(mjc_buf *b, const char *s, size_t n);
void mjc_buf_puts(mjc_buf *b, const char *s);
void mjc_buf_printf(mjc_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hands the text over (malloc'd, never NULL) and resets b. */
char *mjc_buf_take(mjc_buf *b);
void mjc_buf_free(mjc_buf *b);

/* ---- expression emission (cuda_emit.c) ---------------------------------------- */
/* A C expression for an mj_value holding constant v of type t. */
void mjc_emit_value(mjc_buf *b, mj_type t, mj_value v);
/* The CUDA C type name of t ("bool", "int", "float"). */
const char *mjc_type_name(mj_type t);

/* The block classifier `mj_classify` (cuda_classify.c), appended to b. */
void mjc_emit_classify(mjc_buf *b, const mj_program *p);

/* ---- SHA-256 (cuda_hash.c; FIPS 180-4) ------------------------------------------ */
typedef struct mjc_sha256 {
    uint32_t h[8];
    uint64_t len;          /* bytes hashed so far */
    uint8_t block[64];
    size_t fill;
} mjc_sha256;

void mjc_sha256_init(mjc_sha256 *s);
void mjc_sha256_update(mjc_sha256 *s, const void *data, size_t n);
void mjc_sha256_final(mjc_sha256 *s, uint8_t out[32]);
/* Hash a length-prefixed field (8-byte little-endian length, then bytes) so
 * that concatenated fields can never collide by shifting a boundary. */
void mjc_sha256_field(mjc_sha256 *s, const void *data, size_t n);
void mjc_hex(const uint8_t *in, size_t n, char *out);   /* out: 2n+1 chars */

/* ---- disk cache (cuda_cache.c) ---------------------------------------------------- */
/* Entry layout (little-endian), written atomically (temp file + rename):
 *   0  char[8]  magic "MJCUDA\0\1"
 *   8  u32      format version (MJC_CACHE_VERSION)
 *  12  u32      header size (MJC_CACHE_HEADER)
 *  16  u8[32]   key (SHA-256 of the compile inputs, also the file name)
 *  48  u64      ptx size
 *  56  u64      cubin size
 *  64  u8[32]   SHA-256 of the payload (ptx bytes then cubin bytes)
 *  96  payload
 * A file that is short, long, has a wrong magic/version/key or a payload whose
 * checksum differs is reported as corrupt and the caller rebuilds it. */
enum { MJC_CACHE_VERSION = 1, MJC_CACHE_HEADER = 96 };

typedef enum mjc_cache_status { MJC_CACHE_MISS, MJC_CACHE_HIT, MJC_CACHE_CORRUPT } mjc_cache_status;

/* The cache directory: dir if given, else $XDG_CACHE_HOME/maskjit, else
 * $HOME/.cache/maskjit; created (with parents) if missing.  Returns a malloc'd
 * path, or NULL if no directory can be used. */
char *mjc_cache_dir(const char *dir);
/* Path of the entry for key inside dir (malloc'd). */
char *mjc_cache_path(const char *dir, const uint8_t key[32]);
/* Load the entry at path into malloc'd ptx/cubin (each NUL-terminated beyond
 * its size).  On MISS/CORRUPT nothing is allocated. */
mjc_cache_status mjc_cache_load(const char *path, const uint8_t key[32], char **ptx,
                                size_t *ptx_size, char **cubin, size_t *cubin_size);
/* Write the entry atomically; returns 0 or -1 (errno kept). */
int mjc_cache_store(const char *path, const uint8_t key[32], const char *ptx, size_t ptx_size,
                    const char *cubin, size_t cubin_size);

/* ---- NVRTC (cuda_nvrtc.c) ------------------------------------------------------- */
/* Number of nvrtcCompileProgram calls made by this process (tests assert that a
 * cache hit makes none). */
int64_t mjc_nvrtc_calls(void);
/* "MAJOR.MINOR" of the linked NVRTC. */
const char *mjc_nvrtc_version(void);
/* Compute capability of GPU 0 through a lazily dlopen'd libcuda.so.1, as
 * major*10+minor, or -1 when no driver or no GPU is present. */
int mjc_local_compute_capability(void);
/* The arch to compile for: arch if given (validated: sm_NN, sm_NNa, sm_NNf),
 * else the local GPU's ("sm_90a" for 9.0, "sm_100a" for 10.0, "sm_NN"
 * otherwise), else "sm_90a".  Writes into out (size outn); returns 0 or -1
 * with a message in err. */
int mjc_pick_arch(const char *arch, char *out, size_t outn, char *err, size_t errn);

/* The NVRTC options for arch, NULL-terminated, in a static table that lives
 * as long as the process; `defines` (space-separated NAME=VALUE, may be NULL)
 * become -D options, written into the caller's storage `defs`. */
typedef struct mjc_options {
    const char *argv[32];
    int argc;
    char arch_opt[48];
    char defs_store[1024];
} mjc_options;
int mjc_options_build(mjc_options *o, const char *arch, const char *defines, bool resource_usage,
                      char *err, size_t errn);

/* The headers NVRTC may include ("mj_env.h", "mj_semantics.h",
 * "attn_params.h", "attn_common.cuh"): names and texts from the embedded files. */
int mjc_headers(const char **names, const char **texts, int max);

/* Compile source with NVRTC.  Returns 0 with malloc'd ptx/cubin/log, or -1 with
 * a malloc'd log (may be NULL) explaining the failure. */
int mjc_nvrtc_compile(const char *source, const char *name, const mjc_options *o, char **ptx,
                      size_t *ptx_size, char **cubin, size_t *cubin_size, char **log);

#endif
