/* safetensors.c — safetensors reader (mmap; header JSON parsed with json-c and
 * every offset validated against the file) for single files and sharded
 * directories (model.safetensors.index.json), f32 conversion of F32/F16/BF16,
 * and a writer used by `maskjit make-model` and the tests.  See safetensors.h. */
#include "errbuf.h"
#include "safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gguf.h"

typedef struct st_file { const uint8_t *base; size_t len; } st_file;

struct mj_st {
    st_file *files;
    int n_files;
    mj_st_tensor *t;
    int64_t n, cap;
};

/* Bytes per element of a safetensors dtype name; 0 if unknown. */
static int dtype_size(const char *d, int *code) {
    static const struct { const char *n; int sz, code; } tab[] = {
        {"F32", 4, MJ_ST_F32}, {"F16", 2, MJ_ST_F16}, {"BF16", 2, MJ_ST_BF16},
        {"F64", 8, MJ_ST_OTHER}, {"I64", 8, MJ_ST_OTHER}, {"U64", 8, MJ_ST_OTHER},
        {"I32", 4, MJ_ST_OTHER}, {"U32", 4, MJ_ST_OTHER}, {"I16", 2, MJ_ST_OTHER},
        {"U16", 2, MJ_ST_OTHER}, {"I8", 1, MJ_ST_OTHER}, {"U8", 1, MJ_ST_OTHER},
        {"BOOL", 1, MJ_ST_OTHER}, {"F8_E4M3", 1, MJ_ST_OTHER}, {"F8_E5M2", 1, MJ_ST_OTHER},
    };
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (!strcmp(tab[i].n, d)) { *code = tab[i].code; return tab[i].sz; }
    return 0;
}

static bool json_get_u64(json_object *o, uint64_t *out) {
    if (!o || !json_object_is_type(o, json_type_int)) return false;
    int64_t v = json_object_get_int64(o);
    if (v < 0) return false;
    *out = (uint64_t)v;
    return true;
}

/* Add one header entry (name -> {dtype, shape, data_offsets}) of file fi. */
static bool add_entry(mj_st *s, int fi, const char *path, const char *name, json_object *o, uint64_t data_len,
                      char *err, size_t errn) {
    json_object *jd, *js, *jo;
    if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, "dtype", &jd) ||
        !json_object_object_get_ex(o, "shape", &js) || !json_object_object_get_ex(o, "data_offsets", &jo) ||
        !json_object_is_type(jd, json_type_string) || !json_object_is_type(js, json_type_array) ||
        !json_object_is_type(jo, json_type_array) || json_object_array_length(jo) != 2) {
        mj_err(err, errn, "safetensors: %s: malformed header entry for '%s'", path, name);
        return false;
    }
    if (s->n == s->cap) {
        int64_t nc = s->cap ? s->cap * 2 : 64;
        mj_st_tensor *nt = realloc(s->t, (size_t)nc * sizeof *nt);
        if (!nt) { mj_err(err, errn, "safetensors: out of memory"); return false; }
        s->t = nt;
        s->cap = nc;
    }
    mj_st_tensor *t = &s->t[s->n];
    memset(t, 0, sizeof *t);
    const char *dn = json_object_get_string(jd);
    int sz = dtype_size(dn, &t->dtype);
    if (!sz) { mj_err(err, errn, "safetensors: %s: tensor '%s' has unknown dtype '%s'", path, name, dn); return false; }
    snprintf(t->dtype_name, sizeof t->dtype_name, "%s", dn);
    size_t nd = json_object_array_length(js);
    if (nd > MJ_ST_MAX_DIMS) { mj_err(err, errn, "safetensors: %s: tensor '%s' has %zu dims", path, name, nd); return false; }
    uint64_t n = 1, b, e;
    for (size_t d = 0; d < nd; d++) {
        uint64_t v;
        if (!json_get_u64(json_object_array_get_idx(js, d), &v) || v > (uint64_t)INT64_MAX ||
            __builtin_mul_overflow(n, v, &n)) {
            mj_err(err, errn, "safetensors: %s: tensor '%s' has a bad shape", path, name);
            return false;
        }
        t->shape[d] = (int64_t)v;
    }
    t->n_dims = (int)nd;
    t->n_elems = n;
    if (!json_get_u64(json_object_array_get_idx(jo, 0), &b) || !json_get_u64(json_object_array_get_idx(jo, 1), &e) ||
        e < b || e > data_len || __builtin_mul_overflow(n, (uint64_t)sz, &n) || e - b != n) {
        mj_err(err, errn, "safetensors: %s: tensor '%s' has data offsets outside the file or not matching its shape "
                "(truncated?)", path, name);
        return false;
    }
    t->n_bytes = n;
    t->data = s->files[fi].base + (s->files[fi].len - data_len) + b;
    t->file = fi;
    if (!(t->name = strdup(name))) { mj_err(err, errn, "safetensors: out of memory"); return false; }
    s->n++;
    return true;
}

/* mmap PATH as file number s->n_files and register its tensors. */
static bool open_file(mj_st *s, const char *path, char *err, size_t errn) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) { mj_err(err, errn, "safetensors: cannot open %s: %s", path, strerror(errno)); return false; }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 8) {
        mj_err(err, errn, "safetensors: %s: not a safetensors file (too short)", path);
        close(fd);
        return false;
    }
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED) { mj_err(err, errn, "safetensors: cannot mmap %s: %s", path, strerror(errno)); return false; }
    st_file *nf = realloc(s->files, (size_t)(s->n_files + 1) * sizeof *nf);
    if (!nf) { munmap(p, (size_t)st.st_size); mj_err(err, errn, "safetensors: out of memory"); return false; }
    s->files = nf;
    int fi = s->n_files++;
    s->files[fi].base = p;
    s->files[fi].len = (size_t)st.st_size;
    uint64_t hl;
    memcpy(&hl, p, 8);
    if (hl > (uint64_t)st.st_size - 8 || hl > 100u * 1024 * 1024) {
        mj_err(err, errn, "safetensors: %s: header length %llu exceeds the file (truncated?)", path,
                (unsigned long long)hl);
        return false;
    }
    json_tokener *tok = json_tokener_new_ex(64);
    if (!tok) { mj_err(err, errn, "safetensors: out of memory"); return false; }
    json_object *h = json_tokener_parse_ex(tok, (const char *)p + 8, (int)hl);
    bool ok = h && json_tokener_get_error(tok) == json_tokener_success && json_object_is_type(h, json_type_object);
    json_tokener_free(tok);
    if (!ok) {
        json_object_put(h);
        mj_err(err, errn, "safetensors: %s: header is not a JSON object", path);
        return false;
    }
    uint64_t data_len = (uint64_t)st.st_size - 8 - hl;
    json_object_object_foreach(h, key, val) {
        if (!strcmp(key, "__metadata__")) continue;
        if (mj_st_find(s, key)) {
            mj_err(err, errn, "safetensors: %s: duplicate tensor '%s'", path, key);
            ok = false;
        } else ok = add_entry(s, fi, path, key, val, data_len, err, errn);
        if (!ok) break;
    }
    json_object_put(h);
    return ok;
}

/* Open every shard named by the index file INDEX in directory DIR. */
static bool open_index(mj_st *s, const char *dir, const char *index, char *err, size_t errn) {
    json_object *j = json_object_from_file(index), *wm;
    if (!j || !json_object_object_get_ex(j, "weight_map", &wm) || !json_object_is_type(wm, json_type_object)) {
        json_object_put(j);
        mj_err(err, errn, "safetensors: %s: not a JSON object with a weight_map", index);
        return false;
    }
    bool ok = true;
    char **names = NULL;
    int nn = 0;
    json_object_object_foreach(wm, tname, fval) {
        (void)tname;
        const char *f = json_object_is_type(fval, json_type_string) ? json_object_get_string(fval) : NULL;
        if (!f || !*f || strchr(f, '/') || !strcmp(f, "..")) {
            mj_err(err, errn, "safetensors: %s: bad shard file name for tensor '%s'", index, tname);
            ok = false;
            break;
        }
        int k = 0;
        while (k < nn && strcmp(names[k], f)) k++;
        if (k < nn) continue;
        char **nx = realloc(names, (size_t)(nn + 1) * sizeof *nx);
        if (!nx || !(nx[nn] = strdup(f))) { names = nx ? nx : names; ok = false; mj_err(err, errn, "out of memory"); break; }
        names = nx;
        nn++;
    }
    for (int k = 0; ok && k < nn; k++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[k]);
        ok = open_file(s, path, err, errn);
    }
    if (ok) {
        json_object_object_foreach(wm, tn, fv) {
            (void)fv;
            if (!mj_st_find(s, tn)) {
                mj_err(err, errn, "safetensors: %s: tensor '%s' is missing from shard %s", index, tn,
                        json_object_get_string(fv));
                ok = false;
                break;
            }
        }
    }
    for (int k = 0; k < nn; k++) free(names[k]);
    free(names);
    json_object_put(j);
    return ok;
}

mj_st *mj_st_open(const char *path, char *err, size_t errn) {
    mj_st *s = calloc(1, sizeof *s);
    if (!s) { mj_err(err, errn, "safetensors: out of memory"); return NULL; }
    struct stat st;
    bool ok;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        char p[4096];
        snprintf(p, sizeof p, "%s/model.safetensors.index.json", path);
        if (access(p, R_OK) == 0) ok = open_index(s, path, p, err, errn);
        else {
            snprintf(p, sizeof p, "%s/model.safetensors", path);
            if (access(p, R_OK) != 0) {
                mj_err(err, errn, "safetensors: %s has neither model.safetensors nor model.safetensors.index.json", path);
                ok = false;
            } else ok = open_file(s, p, err, errn);
        }
    } else ok = open_file(s, path, err, errn);
    if (!ok) { mj_st_free(s); return NULL; }
    return s;
}

void mj_st_free(mj_st *s) {
    if (!s) return;
    for (int64_t i = 0; i < s->n; i++) free(s->t[i].name);
    for (int i = 0; i < s->n_files; i++) munmap((void *)s->files[i].base, s->files[i].len);
    free(s->t);
    free(s->files);
    free(s);
}

int64_t mj_st_n_tensors(const mj_st *s) { return s->n; }
const mj_st_tensor *mj_st_tensor_at(const mj_st *s, int64_t i) { return i >= 0 && i < s->n ? &s->t[i] : NULL; }

const mj_st_tensor *mj_st_find(const mj_st *s, const char *name) {
    for (int64_t i = 0; i < s->n; i++)
        if (!strcmp(s->t[i].name, name)) return &s->t[i];
    return NULL;
}

int mj_st_to_f32(const mj_st_tensor *t, float *dst, char *err, size_t errn) {
    uint16_t h;
    switch (t->dtype) {
    case MJ_ST_F32: memcpy(dst, t->data, (size_t)t->n_bytes); return 0;
    case MJ_ST_F16:
        for (uint64_t i = 0; i < t->n_elems; i++) { memcpy(&h, t->data + 2 * i, 2); dst[i] = mj_f16_to_f32(h); }
        return 0;
    case MJ_ST_BF16:
        for (uint64_t i = 0; i < t->n_elems; i++) { memcpy(&h, t->data + 2 * i, 2); dst[i] = mj_bf16_to_f32(h); }
        return 0;
    default:
        mj_err(err, errn, "safetensors: tensor '%s' has dtype %s (supported: F32, F16, BF16)", t->name, t->dtype_name);
        return -1;
    }
}

static const char *dtype_str(int d) { return d == MJ_ST_F16 ? "F16" : d == MJ_ST_BF16 ? "BF16" : "F32"; }

/* Write t's values converted to its dtype. */
static bool write_data(FILE *f, const mj_st_wtensor *t, uint64_t n) {
    if (t->dtype == MJ_ST_F32) return fwrite(t->data, 4, (size_t)n, f) == (size_t)n;
    for (uint64_t i = 0; i < n; i++) {
        uint16_t h = t->dtype == MJ_ST_F16 ? mj_f32_to_f16(t->data[i]) : mj_f32_to_bf16(t->data[i]);
        if (fwrite(&h, 2, 1, f) != 1) return false;
    }
    return true;
}

static uint64_t wt_elems(const mj_st_wtensor *t) {
    uint64_t n = 1;
    for (int d = 0; d < t->n_dims; d++) n *= (uint64_t)t->shape[d];
    return n;
}

int mj_st_write(const char *path, const mj_st_wtensor *t, int64_t n, char *err, size_t errn) {
    json_object *h = json_object_new_object();
    uint64_t off = 0;
    for (int64_t i = 0; i < n; i++) {
        json_object *e = json_object_new_object(), *sh = json_object_new_array(), *of = json_object_new_array();
        for (int d = 0; d < t[i].n_dims; d++) json_object_array_add(sh, json_object_new_int64(t[i].shape[d]));
        uint64_t nb = wt_elems(&t[i]) * (t[i].dtype == MJ_ST_F32 ? 4 : 2);
        json_object_array_add(of, json_object_new_int64((int64_t)off));
        json_object_array_add(of, json_object_new_int64((int64_t)(off + nb)));
        off += nb;
        json_object_object_add(e, "dtype", json_object_new_string(dtype_str(t[i].dtype)));
        json_object_object_add(e, "shape", sh);
        json_object_object_add(e, "data_offsets", of);
        json_object_object_add(h, t[i].name, e);
    }
    json_object *meta = json_object_new_object();
    json_object_object_add(meta, "format", json_object_new_string("pt"));
    json_object_object_add(h, "__metadata__", meta);
    const char *js = json_object_to_json_string_ext(h, JSON_C_TO_STRING_PLAIN);
    uint64_t hl = strlen(js), padded = (hl + 7) / 8 * 8;
    FILE *f = fopen(path, "wb");
    bool ok = f != NULL;
    if (ok) ok = fwrite(&padded, 8, 1, f) == 1 && fwrite(js, 1, (size_t)hl, f) == (size_t)hl;
    for (uint64_t k = hl; ok && k < padded; k++) ok = fputc(' ', f) != EOF;
    for (int64_t i = 0; ok && i < n; i++) ok = write_data(f, &t[i], wt_elems(&t[i]));
    if (f && fclose(f) != 0) ok = false;
    json_object_put(h);
    if (!ok) mj_err(err, errn, "safetensors: cannot write %s: %s", path, strerror(errno));
    return ok ? 0 : -1;
}
