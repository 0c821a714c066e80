/* gguf_writer.c — see gguf_writer.h. */
#include "gguf_writer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void put(uint8_t **b, size_t *n, size_t *cap, const void *p, size_t k) {
    if (!k) return;
    if (*n + k > *cap) {
        size_t nc = (*cap ? *cap * 2 : 256);
        while (nc < *n + k) nc *= 2;
        *b = realloc(*b, nc);
        if (!*b) abort();
        *cap = nc;
    }
    memcpy(*b + *n, p, k);
    *n += k;
}

static void kv_put(tgw *w, const void *p, size_t k) { put(&w->kv, &w->kv_n, &w->kv_cap, p, k); }

static void kv_string(tgw *w, const char *s) {
    uint64_t n = strlen(s);
    kv_put(w, &n, 8);
    kv_put(w, s, (size_t)n);
}

static void kv_head(tgw *w, const char *key, uint32_t type) {
    kv_string(w, key);
    kv_put(w, &type, 4);
    w->n_kv++;
}

void tgw_init(tgw *w) { memset(w, 0, sizeof *w); w->alignment = 32; }

void tgw_free(tgw *w) {
    for (size_t i = 0; i < w->n_t; i++) free(w->t[i].data);
    free(w->t);
    free(w->kv);
    memset(w, 0, sizeof *w);
}

void tgw_raw(tgw *w, const char *key, uint32_t type, const void *bytes, size_t n) {
    kv_head(w, key, type);
    kv_put(w, bytes, n);
}
void tgw_u32(tgw *w, const char *key, uint32_t v) { tgw_raw(w, key, 4, &v, 4); }
void tgw_i32(tgw *w, const char *key, int32_t v) { tgw_raw(w, key, 5, &v, 4); }
void tgw_f32(tgw *w, const char *key, float v) { tgw_raw(w, key, 6, &v, 4); }
void tgw_bool(tgw *w, const char *key, int v) { uint8_t b = (uint8_t)(v != 0); tgw_raw(w, key, 7, &b, 1); }
void tgw_str(tgw *w, const char *key, const char *v) { kv_head(w, key, 8); kv_string(w, v); }

static void arr_head(tgw *w, const char *key, uint32_t et, uint64_t n) {
    kv_head(w, key, 9);
    kv_put(w, &et, 4);
    kv_put(w, &n, 8);
}

void tgw_arr_str(tgw *w, const char *key, const char *const *v, uint64_t n) {
    arr_head(w, key, 8, n);
    for (uint64_t i = 0; i < n; i++) kv_string(w, v[i]);
}
void tgw_arr_i32(tgw *w, const char *key, const int32_t *v, uint64_t n) { arr_head(w, key, 5, n); kv_put(w, v, (size_t)n * 4); }
void tgw_arr_f32(tgw *w, const char *key, const float *v, uint64_t n) { arr_head(w, key, 6, n); kv_put(w, v, (size_t)n * 4); }

void tgw_tensor_add(tgw *w, const char *name, uint32_t type, uint32_t n_dims, const uint64_t *ne,
                    const void *data, size_t n_bytes) {
    if (w->n_t == w->cap_t) {
        w->cap_t = w->cap_t ? w->cap_t * 2 : 16;
        w->t = realloc(w->t, w->cap_t * sizeof *w->t);
        if (!w->t) abort();
    }
    tgw_tensor *t = &w->t[w->n_t++];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->type = type;
    t->n_dims = n_dims;
    for (uint32_t d = 0; d < 4; d++) t->ne[d] = d < n_dims ? ne[d] : 1;
    t->data = malloc(n_bytes ? n_bytes : 1);
    if (!t->data) abort();
    memcpy(t->data, data, n_bytes);
    t->n_bytes = n_bytes;
}

uint8_t *tgw_finish(tgw *w, size_t *len) {
    uint8_t *b = NULL;
    size_t n = 0, cap = 0;
    uint32_t magic = 0x46554747u, version = 3;
    uint64_t nt = w->n_t;
    put(&b, &n, &cap, &magic, 4);
    put(&b, &n, &cap, &version, 4);
    put(&b, &n, &cap, &nt, 8);
    put(&b, &n, &cap, &w->n_kv, 8);
    put(&b, &n, &cap, w->kv, w->kv_n);
    uint64_t off = 0, a = w->alignment;
    for (size_t i = 0; i < w->n_t; i++) {
        tgw_tensor *t = &w->t[i];
        uint64_t nl = strlen(t->name);
        put(&b, &n, &cap, &nl, 8);
        put(&b, &n, &cap, t->name, (size_t)nl);
        put(&b, &n, &cap, &t->n_dims, 4);
        put(&b, &n, &cap, t->ne, 8 * (size_t)t->n_dims);
        put(&b, &n, &cap, &t->type, 4);
        put(&b, &n, &cap, &off, 8);
        off = (off + t->n_bytes + a - 1) / a * a;
    }
    static const uint8_t zeros[64];
    while (n % a) put(&b, &n, &cap, zeros, 1);
    for (size_t i = 0; i < w->n_t; i++) {
        put(&b, &n, &cap, w->t[i].data, w->t[i].n_bytes);
        while (i + 1 < w->n_t && n % a) put(&b, &n, &cap, zeros, 1);
    }
    *len = n;
    return b;
}

int tgw_write_file(tgw *w, const char *path) {
    size_t n;
    uint8_t *b = tgw_finish(w, &n);
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(b, 1, n, f) == n;
    if (f && fclose(f)) ok = 0;
    free(b);
    return ok ? 0 : -1;
}
