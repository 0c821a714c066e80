/* fu_util.c — see fu_util.h. */
#include "fu_util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void mj_strv_init(mj_strv *v) { memset(v, 0, sizeof *v); }

void mj_strv_free(mj_strv *v) {
    mj_strs_free(v->s, v->n);
    memset(v, 0, sizeof *v);
}

int mj_strv_pushn(mj_strv *v, const char *s, size_t len) {
    if (v->n == v->cap) {
        int64_t cap = v->cap ? v->cap * 2 : 8;
        char **p = realloc(v->s, (size_t)cap * sizeof *p);
        if (!p) return -1;
        v->s = p;
        v->cap = cap;
    }
    char *c = malloc(len + 1);
    if (!c) return -1;
    memcpy(c, s, len);
    c[len] = 0;
    v->s[v->n++] = c;
    return 0;
}

int mj_strv_push(mj_strv *v, const char *s) { return mj_strv_pushn(v, s, strlen(s)); }

char **mj_strs_dup(char *const *s, int64_t n) {
    if (n <= 0) return NULL;
    char **d = calloc((size_t)n, sizeof *d);
    if (!d) return NULL;
    for (int64_t i = 0; i < n; i++) {
        d[i] = strdup(s[i] ? s[i] : "");
        if (!d[i]) { mj_strs_free(d, i); return NULL; }
    }
    return d;
}

void mj_strs_free(char **s, int64_t n) {
    if (!s) return;
    for (int64_t i = 0; i < n; i++) free(s[i]);
    free(s);
}

void mj_buf_init(mj_buf *b) { memset(b, 0, sizeof *b); }

void mj_buf_free(mj_buf *b) {
    free(b->p);
    memset(b, 0, sizeof *b);
}

static int buf_reserve(mj_buf *b, size_t extra) {
    if (b->n + extra + 1 <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->n + extra + 1) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) return -1;
    b->p = p;
    b->cap = cap;
    return 0;
}

int mj_buf_put(mj_buf *b, const void *data, size_t len) {
    if (buf_reserve(b, len)) return -1;
    if (len) memcpy(b->p + b->n, data, len);
    b->n += len;
    b->p[b->n] = 0;
    return 0;
}

int mj_buf_puts(mj_buf *b, const char *s) { return mj_buf_put(b, s, strlen(s)); }

int mj_buf_printf(mj_buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (k < 0 || buf_reserve(b, (size_t)k)) return -1;
    va_start(ap, fmt);
    vsnprintf(b->p + b->n, (size_t)k + 1, fmt, ap);
    va_end(ap);
    b->n += (size_t)k;
    return 0;
}

int mj_buf_json_str(mj_buf *b, const char *s) {
    if (mj_buf_put(b, "\"", 1)) return -1;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[8];
        const char *e = NULL;
        switch (*p) {
        case '"': e = "\\\""; break;
        case '\\': e = "\\\\"; break;
        case '\n': e = "\\n"; break;
        case '\r': e = "\\r"; break;
        case '\t': e = "\\t"; break;
        default:
            if (*p < 0x20) { snprintf(esc, sizeof esc, "\\u%04x", *p); e = esc; }
        }
        if (e ? mj_buf_puts(b, e) : mj_buf_put(b, p, 1)) return -1;
    }
    return mj_buf_put(b, "\"", 1);
}

char *mj_file_read(const char *path, size_t *len, char *err, size_t errn) {
    FILE *f = fopen(path, "rb");
    if (!f) { mj_err(err, errn, "%s: %s", path, strerror(errno)); return NULL; }
    mj_buf b;
    mj_buf_init(&b);
    char chunk[65536];
    size_t k;
    while ((k = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (mj_buf_put(&b, chunk, k)) { fclose(f); mj_buf_free(&b); mj_err(err, errn, "%s: out of memory", path); return NULL; }
    int bad = ferror(f);
    fclose(f);
    if (bad) { mj_buf_free(&b); mj_err(err, errn, "%s: read error", path); return NULL; }
    if (!b.p && mj_buf_put(&b, "", 0)) { mj_err(err, errn, "%s: out of memory", path); return NULL; }
    *len = b.n;
    return b.p;
}

double mj_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

uint64_t mj_hash64(uint64_t h, const void *data, size_t len) {
    if (!h) h = 1469598103934665603ULL;
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) { h ^= p[i]; h *= 1099511628211ULL; }
    return h;
}
