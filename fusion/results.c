/* results.c — see results.h. */
#include "results.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "feather.h"

void mj_record_free(mj_record *r) {
    free(r->id);
    free(r->dataset);
    free(r->method);
    free(r->layout);
    mj_strs_free(r->paraphrases, r->n_paraphrases);
    mj_strs_free(r->answers, r->n_answers);
    free(r->prediction);
    free(r->generation);
    free(r->stop);
    memset(r, 0, sizeof *r);
}

static int put_key_str(mj_buf *b, const char *k, const char *v, bool comma) {
    return mj_buf_printf(b, "%s\"%s\": ", comma ? ", " : "", k) || mj_buf_json_str(b, v ? v : "");
}

static int put_key_strs(mj_buf *b, const char *k, char *const *v, int32_t n) {
    if (mj_buf_printf(b, ", \"%s\": [", k)) return -1;
    for (int32_t i = 0; i < n; i++)
        if ((i && mj_buf_puts(b, ", ")) || mj_buf_json_str(b, v[i])) return -1;
    return mj_buf_puts(b, "]");
}

int mj_record_to_json(const mj_record *r, const char *extra_json, mj_buf *b) {
    int bad = mj_buf_puts(b, "{") || put_key_str(b, "id", r->id, false) ||
              put_key_str(b, "dataset", r->dataset, true) || put_key_str(b, "method", r->method, true) ||
              put_key_str(b, "layout", r->layout, true) ||
              put_key_strs(b, "paraphrases", r->paraphrases, r->n_paraphrases) ||
              put_key_strs(b, "answers", r->answers, r->n_answers) ||
              put_key_str(b, "prediction", r->prediction, true) ||
              put_key_str(b, "generation", r->generation, true) ||
              mj_buf_printf(b, ", \"new_tokens\": %d", r->new_tokens) ||
              put_key_str(b, "stop", r->stop, true) ||
              mj_buf_printf(b, ", \"prompt_tokens\": %d, \"seconds\": %.4f", r->prompt_tokens, r->seconds);
    if (!bad && extra_json && *extra_json) bad = mj_buf_puts(b, ", ") || mj_buf_puts(b, extra_json);
    return bad || mj_buf_puts(b, "}\n") ? -1 : 0;
}

/* ---- reading ------------------------------------------------------------------ */

static char *get_str(json_object *o, const char *k) {
    json_object *v;
    if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_string)) return NULL;
    return strdup(json_object_get_string(v));
}

static int get_strs(json_object *o, const char *k, char ***out, int32_t *n) {
    json_object *v;
    *out = NULL;
    *n = 0;
    if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_array)) return -1;
    size_t len = json_object_array_length(v);
    if (!len) return 0;
    *out = calloc(len, sizeof **out);
    if (!*out) return -1;
    for (size_t i = 0; i < len; i++) {
        json_object *e = json_object_array_get_idx(v, i);
        (*out)[i] = strdup(json_object_is_type(e, json_type_string) ? json_object_get_string(e) : "");
        *n = (int32_t)(i + 1);
        if (!(*out)[i]) return -1;
    }
    return 0;
}

static int record_parse(json_object *o, mj_record *r) {
    memset(r, 0, sizeof *r);
    if (!json_object_is_type(o, json_type_object)) return -1;
    r->id = get_str(o, "id");
    r->dataset = get_str(o, "dataset");
    r->method = get_str(o, "method");
    r->layout = get_str(o, "layout");
    r->prediction = get_str(o, "prediction");
    r->generation = get_str(o, "generation");
    r->stop = get_str(o, "stop");
    json_object *v;
    if (json_object_object_get_ex(o, "new_tokens", &v)) r->new_tokens = json_object_get_int(v);
    if (json_object_object_get_ex(o, "prompt_tokens", &v)) r->prompt_tokens = json_object_get_int(v);
    if (json_object_object_get_ex(o, "seconds", &v)) r->seconds = json_object_get_double(v);
    int bad = get_strs(o, "paraphrases", &r->paraphrases, &r->n_paraphrases) ||
              get_strs(o, "answers", &r->answers, &r->n_answers);
    if (bad || !r->id || !r->method || !r->prediction) { mj_record_free(r); return -1; }
    if (!r->dataset) r->dataset = strdup("?");
    if (!r->generation) r->generation = strdup(r->prediction);
    return r->dataset && r->generation ? 0 : -1;
}

static int results_push(mj_results *rs, mj_record *r) {
    if (rs->n == rs->cap) {
        int64_t cap = rs->cap ? 2 * rs->cap : 256;
        mj_record *p = realloc(rs->r, (size_t)cap * sizeof *p);
        if (!p) return -1;
        rs->r = p;
        rs->cap = cap;
    }
    rs->r[rs->n++] = *r;
    return 0;
}

void mj_results_free(mj_results *rs) {
    for (int64_t i = 0; i < rs->n; i++) mj_record_free(&rs->r[i]);
    free(rs->r);
    memset(rs, 0, sizeof *rs);
}

int mj_results_read(mj_results *rs, const char *path, bool missing_ok, char *err, size_t errn) {
    memset(rs, 0, sizeof *rs);
    if (missing_ok && access(path, F_OK) != 0 && errno == ENOENT) return 0;
    size_t len;
    char *s = mj_file_read(path, &len, err, errn);
    if (!s) return -1;
    int64_t line = 0;
    int rc = 0;
    for (size_t i = 0; i < len && !rc;) {
        const char *nl = memchr(s + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - s) : len;
        line++;
        bool last = !nl;   /* only a line without its newline can be torn */
        json_object *o = NULL;
        if (nl) {
            s[end] = 0;
            o = json_tokener_parse(s + i);
        }
        mj_record r;
        bool blank = nl && !s[i + strspn(s + i, " \t\r")];
        if (blank) { /* ignore */
        } else if (o && record_parse(o, &r) == 0) {
            if (results_push(rs, &r)) { mj_record_free(&r); rc = mj_err(err, errn, "out of memory"); }
        } else if (last) {
            rs->n_torn = 1;
            rs->torn_at = (int64_t)i;
        } else rc = mj_err(err, errn, "%s:%lld: not a result record", path, (long long)line);
        json_object_put(o);
        i = end + 1;
    }
    free(s);
    if (rc) mj_results_free(rs);
    return rc;
}

/* ---- writing ------------------------------------------------------------------ */

int mj_out_open(mj_out *o, const char *path, bool resume, const char *method, mj_results *done,
                char *err, size_t errn) {
    memset(o, 0, sizeof *o);
    o->fd = -1;
    memset(done, 0, sizeof *done);
    struct stat st;
    bool exists = stat(path, &st) == 0;
    if (exists && st.st_size > 0 && !resume)
        return mj_err(err, errn, "%s already exists: pass --resume to continue it, or remove it", path);
    if (exists && resume) {
        if (mj_results_read(done, path, false, err, errn)) return -1;
        for (int64_t i = 0; i < done->n; i++)
            if (strcmp(done->r[i].method, method)) {
                int rc = mj_err(err, errn, "%s holds results of method '%s', not '%s' (one output file per method)",
                                path, done->r[i].method, method);
                mj_results_free(done);
                return rc;
            }
    }
    o->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (o->fd < 0) { mj_results_free(done); return mj_err(err, errn, "%s: %s", path, strerror(errno)); }
    if (done->n_torn && ftruncate(o->fd, (off_t)done->torn_at)) {
        int e = errno;
        mj_out_close(o);
        mj_results_free(done);
        return mj_err(err, errn, "%s: cannot drop the torn last line: %s", path, strerror(e));
    }
    o->path = strdup(path);
    mj_buf_init(&o->pending);
    return 0;
}

int mj_out_open_ids(mj_out *o, const char *path, bool resume, char ***ids, int64_t *n_ids, char *err,
                    size_t errn) {
    memset(o, 0, sizeof *o);
    o->fd = -1;
    *ids = NULL;
    *n_ids = 0;
    struct stat st;
    bool exists = stat(path, &st) == 0;
    if (exists && st.st_size > 0 && !resume)
        return mj_err(err, errn, "%s already exists: pass --resume to continue it, or remove it", path);
    mj_strv v;
    mj_strv_init(&v);
    int64_t torn_at = -1;
    if (exists && resume) {
        size_t len;
        char *s = mj_file_read(path, &len, err, errn);
        if (!s) return -1;
        int64_t line = 0;
        for (size_t i = 0; i < len;) {
            const char *nl = memchr(s + i, '\n', len - i);
            size_t end = nl ? (size_t)(nl - s) : len;
            line++;
            if (!nl) { torn_at = (int64_t)i; break; }
            s[end] = 0;
            json_object *obj = json_tokener_parse(s + i), *id;
            int bad = !obj || !json_object_object_get_ex(obj, "id", &id) || !json_object_is_type(id, json_type_string) ||
                      mj_strv_push(&v, json_object_get_string(id));
            json_object_put(obj);
            if (bad && s[i + strspn(s + i, " \t\r")]) {
                free(s);
                mj_strv_free(&v);
                return mj_err(err, errn, "%s:%lld: not a record with a string \"id\"", path, (long long)line);
            }
            i = end + 1;
        }
        free(s);
    }
    o->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (o->fd < 0 || (torn_at >= 0 && ftruncate(o->fd, (off_t)torn_at))) {
        int rc = mj_err(err, errn, "%s: %s", path, strerror(errno));
        mj_out_close(o);
        mj_strv_free(&v);
        return rc;
    }
    o->path = strdup(path);
    mj_buf_init(&o->pending);
    *ids = v.s;
    *n_ids = v.n;
    return 0;
}

int mj_out_add_raw(mj_out *o, const char *line) { return mj_buf_puts(&o->pending, line); }

int mj_out_add(mj_out *o, const mj_record *r, const char *extra_json) {
    return mj_record_to_json(r, extra_json, &o->pending);
}

int mj_out_flush(mj_out *o, char *err, size_t errn) {
    size_t off = 0;
    while (off < o->pending.n) {
        ssize_t k = write(o->fd, o->pending.p + off, o->pending.n - off);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return mj_err(err, errn, "%s: write failed: %s", o->path, strerror(errno));
        off += (size_t)k;
    }
    o->pending.n = 0;
    if (fsync(o->fd)) return mj_err(err, errn, "%s: fsync failed: %s", o->path, strerror(errno));
    return 0;
}

void mj_out_close(mj_out *o) {
    if (o->fd >= 0) close(o->fd);
    free(o->path);
    mj_buf_free(&o->pending);
    memset(o, 0, sizeof *o);
    o->fd = -1;
}

int mj_results_write_feather(const mj_results *rs, const char *path, char *err, size_t errn) {
    int64_t n = rs->n;
    size_t m = (size_t)(n ? n : 1);
    const char **uuid = malloc(m * sizeof *uuid), **pred = malloc(m * sizeof *pred);
    const char **gen = malloc(m * sizeof *gen), **meth = malloc(m * sizeof *meth);
    const char *const **paras = malloc(m * sizeof *paras), *const **ans = malloc(m * sizeof *ans);
    int32_t *np = malloc(m * sizeof *np), *na = malloc(m * sizeof *na);
    int rc = -1;
    if (uuid && pred && gen && meth && paras && ans && np && na) {
        for (int64_t i = 0; i < n; i++) {
            const mj_record *r = &rs->r[i];
            uuid[i] = r->id;
            pred[i] = r->prediction;
            gen[i] = r->generation;
            meth[i] = r->method;
            paras[i] = (const char *const *)r->paraphrases;
            np[i] = r->n_paraphrases;
            ans[i] = (const char *const *)r->answers;
            na[i] = r->n_answers;
        }
        mj_feather_col cols[6] = {{"uuid", 0, uuid, NULL, NULL}, {"paraphrases", 1, NULL, paras, np},
                                  {"answers", 1, NULL, ans, na}, {"prediction", 0, pred, NULL, NULL},
                                  {"generation", 0, gen, NULL, NULL}, {"method", 0, meth, NULL, NULL}};
        rc = mj_feather_write(path, n, cols, 6, err, errn);
    } else mj_err(err, errn, "out of memory");
    free(uuid); free(pred); free(gen); free(meth); free(paras); free(ans); free(np); free(na);
    return rc;
}
