/* fu_util.h — small helpers shared by the fusion layer: a growable vector of
 * owned strings, a growable byte buffer, whole-file reading, JSON string
 * escaping, and formatted error messages into caller buffers.  Library code:
 * nothing here prints or exits. */
#ifndef MJ_FU_UTIL_H
#define MJ_FU_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "errbuf.h"

/* A vector of owned, NUL-terminated strings. */
typedef struct mj_strv {
    char **s;
    int64_t n, cap;
} mj_strv;

void mj_strv_init(mj_strv *v);
void mj_strv_free(mj_strv *v);
/* Append a copy of s (len bytes; s need not be NUL-terminated).  0 / -1 (OOM). */
int mj_strv_pushn(mj_strv *v, const char *s, size_t len);
int mj_strv_push(mj_strv *v, const char *s);
/* Deep copy of n strings into a fresh malloc'd array (NULL on OOM or n == 0). */
char **mj_strs_dup(char *const *s, int64_t n);
void mj_strs_free(char **s, int64_t n);

/* A growable byte buffer, always NUL-terminated after the last byte. */
typedef struct mj_buf {
    char *p;
    size_t n, cap;
} mj_buf;

void mj_buf_init(mj_buf *b);
void mj_buf_free(mj_buf *b);
int mj_buf_put(mj_buf *b, const void *data, size_t len);
int mj_buf_puts(mj_buf *b, const char *s);
int mj_buf_printf(mj_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append s as a JSON string literal (quotes included, control characters and
 * quotes escaped, UTF-8 passed through). */
int mj_buf_json_str(mj_buf *b, const char *s);

/* Read a whole file into a malloc'd NUL-terminated buffer; *len excludes the
 * NUL.  NULL with a message in err (naming path) on failure. */
char *mj_file_read(const char *path, size_t *len, char *err, size_t errn);

/* (error messages: mj_err of support/errbuf.h, `return mj_err(err, errn, ...)`) */

/* Monotonic clock in seconds. */
double mj_now(void);

/* 64-bit FNV-1a hash of bytes, chained from h (start with 0). */
uint64_t mj_hash64(uint64_t h, const void *data, size_t len);

#endif
