/* gguf.c — GGUF v2/v3 reader: mmap, validation of header, metadata and tensor
 * infos with bounds checks on every read, typed accessors, and dequantization
 * of F32/F16/BF16/Q8_0/Q4_0/Q4_1 tensors to f32.  See gguf.h. */
#include "errbuf.h"
#include "gguf.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define GGUF_MAGIC 0x46554747u /* "GGUF" read as little-endian u32 */

typedef struct gguf_kv {
    char *key;
    int type;                 /* MJ_GGUF_* */
    union { uint64_t u; int64_t i; double f; } v; /* scalars (bool in u) */
    const uint8_t *ptr;       /* string bytes, or first array element */
    uint64_t len;             /* string length */
    int elem_type;            /* arrays */
    uint64_t count;           /* arrays */
    uint64_t *str_off;        /* string arrays: offset (from base) of element i's bytes */
} gguf_kv;

struct mj_gguf {
    const uint8_t *base;
    size_t len;
    bool mapped;
    uint32_t version, alignment;
    int64_t n_kv, n_tensors;
    gguf_kv *kv;
    mj_gguf_tensor *tensors;
};

typedef struct cursor {
    const uint8_t *base;
    size_t len, pos;
    const char *path;
    char *err;
    size_t errn;
} cursor;

/* Copy n bytes at the cursor into out and advance; false if past the end. */
static bool cur_read(cursor *c, void *out, size_t n) {
    if (n > c->len - c->pos) return false;
    memcpy(out, c->base + c->pos, n);
    c->pos += n;
    return true;
}

static size_t cur_left(const cursor *c) { return c->len - c->pos; }

/* Size in bytes of a scalar metadata type; 0 for string/array/unknown. */
static size_t scalar_size(int t) {
    switch (t) {
    case MJ_GGUF_UINT8: case MJ_GGUF_INT8: case MJ_GGUF_BOOL: return 1;
    case MJ_GGUF_UINT16: case MJ_GGUF_INT16: return 2;
    case MJ_GGUF_UINT32: case MJ_GGUF_INT32: case MJ_GGUF_FLOAT32: return 4;
    case MJ_GGUF_UINT64: case MJ_GGUF_INT64: case MJ_GGUF_FLOAT64: return 8;
    default: return 0;
    }
}

/* Decode a scalar of type t from p (validated size) into kv->v. */
static void scalar_decode(int t, const uint8_t *p, gguf_kv *kv) {
    uint8_t u8; int8_t i8; uint16_t u16; int16_t i16; uint32_t u32; int32_t i32; float f32;
    switch (t) {
    case MJ_GGUF_UINT8: case MJ_GGUF_BOOL: memcpy(&u8, p, 1); kv->v.u = u8; break;
    case MJ_GGUF_INT8: memcpy(&i8, p, 1); kv->v.i = i8; break;
    case MJ_GGUF_UINT16: memcpy(&u16, p, 2); kv->v.u = u16; break;
    case MJ_GGUF_INT16: memcpy(&i16, p, 2); kv->v.i = i16; break;
    case MJ_GGUF_UINT32: memcpy(&u32, p, 4); kv->v.u = u32; break;
    case MJ_GGUF_INT32: memcpy(&i32, p, 4); kv->v.i = i32; break;
    case MJ_GGUF_FLOAT32: memcpy(&f32, p, 4); kv->v.f = f32; break;
    case MJ_GGUF_UINT64: memcpy(&kv->v.u, p, 8); break;
    case MJ_GGUF_INT64: memcpy(&kv->v.i, p, 8); break;
    case MJ_GGUF_FLOAT64: memcpy(&kv->v.f, p, 8); break;
    default: break;
    }
}

/* Read a gguf_string (u64 length + bytes): *p points into the mapping. */
static bool cur_string(cursor *c, const uint8_t **p, uint64_t *n) {
    if (!cur_read(c, n, 8)) return false;
    if (*n > cur_left(c)) return false;
    *p = c->base + c->pos;
    c->pos += (size_t)*n;
    return true;
}

static char *dup_bytes(const uint8_t *p, uint64_t n) {
    char *s = malloc((size_t)n + 1);
    if (!s) return NULL;
    memcpy(s, p, (size_t)n);
    s[n] = 0;
    return s;
}

/* Parse an array value (after its KV type) into kv. */
static bool parse_array(cursor *c, gguf_kv *kv, int64_t idx) {
    uint32_t et;
    if (!cur_read(c, &et, 4) || !cur_read(c, &kv->count, 8)) {
        mj_err(c->err, c->errn, "gguf: %s: truncated array header of key '%s'", c->path, kv->key);
        return false;
    }
    kv->elem_type = (int)et;
    kv->ptr = c->base + c->pos;
    if (et == MJ_GGUF_STRING) {
        if (kv->count > cur_left(c) / 8) goto trunc;
        kv->str_off = malloc((size_t)(kv->count ? kv->count : 1) * sizeof(uint64_t));
        if (!kv->str_off) { mj_err(c->err, c->errn, "gguf: out of memory"); return false; }
        for (uint64_t i = 0; i < kv->count; i++) {
            const uint8_t *p; uint64_t n;
            if (!cur_string(c, &p, &n)) goto trunc;
            kv->str_off[i] = (uint64_t)(p - c->base) - 8;
        }
        return true;
    }
    size_t es = scalar_size((int)et);
    if (!es) {
        mj_err(c->err, c->errn, "gguf: %s: key '%s' (#%lld): unsupported array element type %u%s",
                c->path, kv->key, (long long)idx, et, et == MJ_GGUF_ARRAY ? " (nested array)" : "");
        return false;
    }
    if (kv->count > cur_left(c) / es) goto trunc;
    c->pos += (size_t)(kv->count * es);
    return true;
trunc:
    mj_err(c->err, c->errn, "gguf: %s: array of key '%s' runs past the end of the file", c->path, kv->key);
    return false;
}

/* Parse one key/value pair into g->kv[idx]. */
static bool parse_kv(cursor *c, mj_gguf *g, int64_t idx) {
    gguf_kv *kv = &g->kv[idx];
    const uint8_t *kp; uint64_t kn; uint32_t t;
    if (!cur_string(c, &kp, &kn)) {
        mj_err(c->err, c->errn, "gguf: %s: truncated key #%lld", c->path, (long long)idx);
        return false;
    }
    if (!(kv->key = dup_bytes(kp, kn))) { mj_err(c->err, c->errn, "gguf: out of memory"); return false; }
    for (int64_t j = 0; j < idx; j++)
        if (!strcmp(g->kv[j].key, kv->key)) {
            mj_err(c->err, c->errn, "gguf: %s: duplicate key '%s'", c->path, kv->key);
            return false;
        }
    if (!cur_read(c, &t, 4)) goto trunc;
    kv->type = (int)t;
    if (t == MJ_GGUF_STRING) {
        if (!cur_string(c, &kv->ptr, &kv->len)) goto trunc;
        return true;
    }
    if (t == MJ_GGUF_ARRAY) return parse_array(c, kv, idx);
    size_t es = scalar_size((int)t);
    if (!es) {
        mj_err(c->err, c->errn, "gguf: %s: key '%s' has unknown value type %u", c->path, kv->key, t);
        return false;
    }
    if (es > cur_left(c)) goto trunc;
    scalar_decode((int)t, c->base + c->pos, kv);
    c->pos += es;
    return true;
trunc:
    mj_err(c->err, c->errn, "gguf: %s: truncated value of key '%s'", c->path, kv->key);
    return false;
}

/* Parse one tensor info (offset still relative to the data section). */
static bool parse_tensor_info(cursor *c, mj_gguf *g, int64_t idx, uint64_t *offset) {
    mj_gguf_tensor *t = &g->tensors[idx];
    const uint8_t *np; uint64_t nn;
    if (!cur_string(c, &np, &nn)) {
        mj_err(c->err, c->errn, "gguf: %s: truncated tensor info #%lld", c->path, (long long)idx);
        return false;
    }
    char *name = dup_bytes(np, nn);
    if (!name) { mj_err(c->err, c->errn, "gguf: out of memory"); return false; }
    t->name = name;
    if (!cur_read(c, &t->n_dims, 4)) goto trunc;
    if (t->n_dims < 1 || t->n_dims > MJ_GGUF_MAX_DIMS) {
        mj_err(c->err, c->errn, "gguf: %s: tensor '%s' has %u dimensions (1..4 supported)", c->path, name, t->n_dims);
        return false;
    }
    for (int d = 0; d < MJ_GGUF_MAX_DIMS; d++) t->ne[d] = 1;
    for (uint32_t d = 0; d < t->n_dims; d++)
        if (!cur_read(c, &t->ne[d], 8)) goto trunc;
    if (!cur_read(c, &t->type, 4) || !cur_read(c, offset, 8)) goto trunc;
    uint32_t be, bb;
    if (!mj_gguf_type_info(t->type, &be, &bb)) {
        mj_err(c->err, c->errn, "gguf: %s: tensor '%s' has unsupported type %u", c->path, name, t->type);
        return false;
    }
    uint64_t n = 1;
    for (int d = 0; d < MJ_GGUF_MAX_DIMS; d++)
        if (t->ne[d] > (uint64_t)INT64_MAX || __builtin_mul_overflow(n, t->ne[d], &n) || n > (uint64_t)INT64_MAX) {
            mj_err(c->err, c->errn, "gguf: %s: tensor '%s' has an absurd shape", c->path, name);
            return false;
        }
    if (t->ne[0] % be) {
        mj_err(c->err, c->errn, "gguf: %s: tensor '%s': row length %llu is not a multiple of the %s block size %u",
                c->path, name, (unsigned long long)t->ne[0], mj_gguf_type_name(t->type), be);
        return false;
    }
    t->n_elems = n;
    if (__builtin_mul_overflow(n / be, (uint64_t)bb, &t->n_bytes)) {
        mj_err(c->err, c->errn, "gguf: %s: tensor '%s' is too large", c->path, name);
        return false;
    }
    for (int64_t j = 0; j < idx; j++)
        if (!strcmp(g->tensors[j].name, name)) {
            mj_err(c->err, c->errn, "gguf: %s: duplicate tensor '%s'", c->path, name);
            return false;
        }
    return true;
trunc:
    mj_err(c->err, c->errn, "gguf: %s: truncated tensor info of '%s'", c->path, name);
    return false;
}

/* Parse header, metadata and tensor infos of g (base/len set). */
static bool parse_all(mj_gguf *g, const char *path, char *err, size_t errn) {
    cursor c = {g->base, g->len, 0, path, err, errn};
    uint32_t magic;
    uint64_t n_t, n_kv;
    if (!cur_read(&c, &magic, 4) || magic != GGUF_MAGIC) {
        mj_err(err, errn, "gguf: %s: not a GGUF file (bad magic)", path);
        return false;
    }
    if (!cur_read(&c, &g->version, 4)) goto trunc;
    if (g->version != 2 && g->version != 3) {
        if (g->version > 0xffff) mj_err(err, errn, "gguf: %s: big-endian GGUF files are not supported", path);
        else mj_err(err, errn, "gguf: %s: unsupported GGUF version %u (2 and 3 supported)", path, g->version);
        return false;
    }
    if (!cur_read(&c, &n_t, 8) || !cur_read(&c, &n_kv, 8)) goto trunc;
    if (n_kv > cur_left(&c) / 13 || n_t > cur_left(&c) / 32) {
        mj_err(err, errn, "gguf: %s: %llu keys / %llu tensors cannot fit in the file (truncated?)", path,
                (unsigned long long)n_kv, (unsigned long long)n_t);
        return false;
    }
    g->kv = calloc((size_t)n_kv + 1, sizeof *g->kv);
    g->tensors = calloc((size_t)n_t + 1, sizeof *g->tensors);
    if (!g->kv || !g->tensors) { mj_err(err, errn, "gguf: out of memory"); return false; }
    for (uint64_t i = 0; i < n_kv; i++) {
        g->n_kv = (int64_t)i + 1;
        if (!parse_kv(&c, g, (int64_t)i)) return false;
    }
    g->alignment = MJ_GGUF_DEFAULT_ALIGNMENT;
    int64_t ak = mj_gguf_find_key(g, "general.alignment");
    if (ak >= 0) {
        uint32_t a;
        if (!mj_gguf_get_u32(g, "general.alignment", &a) || a == 0 || (a & (a - 1))) {
            mj_err(err, errn, "gguf: %s: general.alignment must be a power of two", path);
            return false;
        }
        g->alignment = a;
    }
    uint64_t *offs = calloc((size_t)n_t + 1, sizeof *offs);
    if (!offs) { mj_err(err, errn, "gguf: out of memory"); return false; }
    for (uint64_t i = 0; i < n_t; i++) {
        g->n_tensors = (int64_t)i + 1;
        if (!parse_tensor_info(&c, g, (int64_t)i, &offs[i])) { free(offs); return false; }
    }
    uint64_t data = ((uint64_t)c.pos + g->alignment - 1) / g->alignment * g->alignment;
    for (uint64_t i = 0; i < n_t; i++) {
        mj_gguf_tensor *t = &g->tensors[i];
        uint64_t end;
        if (offs[i] % g->alignment || __builtin_add_overflow(data, offs[i], &end) ||
            __builtin_add_overflow(end, t->n_bytes, &end) || end > g->len) {
            mj_err(err, errn, "gguf: %s: data of tensor '%s' lies outside the file or is misaligned (truncated?)",
                    path, t->name);
            free(offs);
            return false;
        }
        t->data = g->base + data + offs[i];
    }
    free(offs);
    return true;
trunc:
    mj_err(err, errn, "gguf: %s: truncated header", path);
    return false;
}

mj_gguf *mj_gguf_open_mem(const void *buf, size_t len, char *err, size_t errn) {
    mj_gguf *g = calloc(1, sizeof *g);
    if (!g) { mj_err(err, errn, "gguf: out of memory"); return NULL; }
    g->base = buf;
    g->len = len;
    if (!parse_all(g, "<memory>", err, errn)) { mj_gguf_free(g); return NULL; }
    return g;
}

mj_gguf *mj_gguf_open(const char *path, char *err, size_t errn) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) { mj_err(err, errn, "gguf: cannot open %s: %s", path, strerror(errno)); return NULL; }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        mj_err(err, errn, "gguf: %s is not a regular file", path);
        close(fd);
        return NULL;
    }
    if (st.st_size < 24) {
        mj_err(err, errn, "gguf: %s: file too short (%lld bytes) for a GGUF header", path, (long long)st.st_size);
        close(fd);
        return NULL;
    }
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED) { mj_err(err, errn, "gguf: cannot mmap %s: %s", path, strerror(errno)); return NULL; }
    mj_gguf *g = calloc(1, sizeof *g);
    if (!g) { munmap(p, (size_t)st.st_size); mj_err(err, errn, "gguf: out of memory"); return NULL; }
    g->base = p;
    g->len = (size_t)st.st_size;
    g->mapped = true;
    if (!parse_all(g, path, err, errn)) { mj_gguf_free(g); return NULL; }
    return g;
}

void mj_gguf_free(mj_gguf *g) {
    if (!g) return;
    for (int64_t i = 0; i < g->n_kv; i++) { free(g->kv[i].key); free(g->kv[i].str_off); }
    for (int64_t i = 0; i < g->n_tensors; i++) free((char *)g->tensors[i].name);
    free(g->kv);
    free(g->tensors);
    if (g->mapped) munmap((void *)g->base, g->len);
    free(g);
}

uint32_t mj_gguf_version(const mj_gguf *g) { return g->version; }
uint32_t mj_gguf_alignment(const mj_gguf *g) { return g->alignment; }
int64_t mj_gguf_n_keys(const mj_gguf *g) { return g->n_kv; }

int64_t mj_gguf_find_key(const mj_gguf *g, const char *key) {
    for (int64_t i = 0; i < g->n_kv; i++)
        if (g->kv[i].key && !strcmp(g->kv[i].key, key)) return i;
    return -1;
}

const char *mj_gguf_key_name(const mj_gguf *g, int64_t idx) {
    return idx >= 0 && idx < g->n_kv ? g->kv[idx].key : NULL;
}

int mj_gguf_key_type(const mj_gguf *g, int64_t idx) {
    return idx >= 0 && idx < g->n_kv ? g->kv[idx].type : -1;
}

static const gguf_kv *kv_get(const mj_gguf *g, const char *key) {
    int64_t i = mj_gguf_find_key(g, key);
    return i < 0 ? NULL : &g->kv[i];
}

static bool is_signed_int(int t) {
    return t == MJ_GGUF_INT8 || t == MJ_GGUF_INT16 || t == MJ_GGUF_INT32 || t == MJ_GGUF_INT64;
}
static bool is_unsigned_int(int t) {
    return t == MJ_GGUF_UINT8 || t == MJ_GGUF_UINT16 || t == MJ_GGUF_UINT32 || t == MJ_GGUF_UINT64;
}

/* Integer value of a decoded scalar as (negative?, magnitude); false if not an int. */
static bool kv_int(const gguf_kv *kv, int t, bool *neg, uint64_t *mag) {
    if (is_unsigned_int(t)) { *neg = false; *mag = kv->v.u; return true; }
    if (!is_signed_int(t)) return false;
    *neg = kv->v.i < 0;
    *mag = *neg ? (uint64_t)(-(kv->v.i + 1)) + 1 : (uint64_t)kv->v.i;
    return true;
}

bool mj_gguf_get_u32(const mj_gguf *g, const char *key, uint32_t *out) {
    const gguf_kv *kv = kv_get(g, key);
    bool neg; uint64_t m;
    if (!kv || !kv_int(kv, kv->type, &neg, &m) || neg || m > UINT32_MAX) return false;
    *out = (uint32_t)m;
    return true;
}

bool mj_gguf_get_i32(const mj_gguf *g, const char *key, int32_t *out) {
    const gguf_kv *kv = kv_get(g, key);
    bool neg; uint64_t m;
    if (!kv || !kv_int(kv, kv->type, &neg, &m) || m > (neg ? (uint64_t)1 << 31 : (uint64_t)INT32_MAX)) return false;
    *out = neg ? (int32_t)(-(int64_t)m) : (int32_t)m;
    return true;
}

bool mj_gguf_get_u64(const mj_gguf *g, const char *key, uint64_t *out) {
    const gguf_kv *kv = kv_get(g, key);
    bool neg; uint64_t m;
    if (!kv || !kv_int(kv, kv->type, &neg, &m) || neg) return false;
    *out = m;
    return true;
}

bool mj_gguf_get_f32(const mj_gguf *g, const char *key, float *out) {
    const gguf_kv *kv = kv_get(g, key);
    bool neg; uint64_t m;
    if (!kv) return false;
    if (kv->type == MJ_GGUF_FLOAT32 || kv->type == MJ_GGUF_FLOAT64) { *out = (float)kv->v.f; return true; }
    if (!kv_int(kv, kv->type, &neg, &m)) return false;
    *out = neg ? -(float)m : (float)m;
    return true;
}

bool mj_gguf_get_bool(const mj_gguf *g, const char *key, bool *out) {
    const gguf_kv *kv = kv_get(g, key);
    if (!kv || kv->type != MJ_GGUF_BOOL) return false;
    *out = kv->v.u != 0;
    return true;
}

const char *mj_gguf_get_str(const mj_gguf *g, const char *key, size_t *len) {
    const gguf_kv *kv = kv_get(g, key);
    if (!kv || kv->type != MJ_GGUF_STRING) return NULL;
    if (len) *len = (size_t)kv->len;
    return (const char *)kv->ptr;
}

char *mj_gguf_dup_str(const mj_gguf *g, const char *key) {
    size_t n;
    const char *s = mj_gguf_get_str(g, key, &n);
    return s ? dup_bytes((const uint8_t *)s, n) : NULL;
}

static const gguf_kv *kv_array(const mj_gguf *g, int64_t idx) {
    if (idx < 0 || idx >= g->n_kv || g->kv[idx].type != MJ_GGUF_ARRAY) return NULL;
    return &g->kv[idx];
}

bool mj_gguf_get_array(const mj_gguf *g, int64_t key_idx, int *elem_type, uint64_t *count) {
    const gguf_kv *kv = kv_array(g, key_idx);
    if (!kv) return false;
    if (elem_type) *elem_type = kv->elem_type;
    if (count) *count = kv->count;
    return true;
}

const char *mj_gguf_arr_str(const mj_gguf *g, int64_t key_idx, uint64_t i, size_t *len) {
    const gguf_kv *kv = kv_array(g, key_idx);
    if (!kv || kv->elem_type != MJ_GGUF_STRING || i >= kv->count) return NULL;
    uint64_t n;
    memcpy(&n, g->base + kv->str_off[i], 8);
    if (len) *len = (size_t)n;
    return (const char *)g->base + kv->str_off[i] + 8;
}

bool mj_gguf_arr_int(const mj_gguf *g, int64_t key_idx, uint64_t i, int64_t *out) {
    const gguf_kv *kv = kv_array(g, key_idx);
    if (!kv || i >= kv->count) return false;
    int t = kv->elem_type;
    if (!is_signed_int(t) && !is_unsigned_int(t) && t != MJ_GGUF_BOOL) return false;
    size_t es = scalar_size(t);
    gguf_kv tmp;
    scalar_decode(t, kv->ptr + i * es, &tmp);
    bool neg; uint64_t m;
    if (t == MJ_GGUF_BOOL) { *out = tmp.v.u != 0; return true; }
    kv_int(&tmp, t, &neg, &m);
    if (!neg && m > (uint64_t)INT64_MAX) return false;
    *out = neg ? (int64_t)(0 - m) : (int64_t)m;
    return true;
}

bool mj_gguf_arr_f32(const mj_gguf *g, int64_t key_idx, uint64_t i, float *out) {
    const gguf_kv *kv = kv_array(g, key_idx);
    if (!kv || i >= kv->count) return false;
    int t = kv->elem_type;
    if (t != MJ_GGUF_FLOAT32 && t != MJ_GGUF_FLOAT64) return false;
    gguf_kv tmp;
    scalar_decode(t, kv->ptr + i * scalar_size(t), &tmp);
    *out = (float)tmp.v.f;
    return true;
}

int64_t mj_gguf_n_tensors(const mj_gguf *g) { return g->n_tensors; }

const mj_gguf_tensor *mj_gguf_tensor_at(const mj_gguf *g, int64_t i) {
    return i >= 0 && i < g->n_tensors ? &g->tensors[i] : NULL;
}

const mj_gguf_tensor *mj_gguf_find_tensor(const mj_gguf *g, const char *name) {
    for (int64_t i = 0; i < g->n_tensors; i++)
        if (!strcmp(g->tensors[i].name, name)) return &g->tensors[i];
    return NULL;
}
