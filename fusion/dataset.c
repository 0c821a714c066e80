/* dataset.c — readers for the question sets of dataset.h (json-c). */
#include "dataset.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fu_util.h"

static const char *const format_names[] = {"auto", "webquestions", "paraphrases", "myriadlama",
                                           "generic"};

int mj_data_format_parse(const char *s) {
    for (int i = 0; i < (int)(sizeof format_names / sizeof format_names[0]); i++)
        if (!strcmp(s, format_names[i])) return i;
    return -1;
}

const char *mj_data_format_name(mj_data_format f) {
    return (unsigned)f < sizeof format_names / sizeof format_names[0] ? format_names[f] : "?";
}

static void question_free(mj_question *q) {
    free(q->id);
    mj_strs_free(q->paraphrases, q->n_paraphrases);
    mj_strs_free(q->kinds, q->n_paraphrases);
    mj_strs_free(q->answers, q->n_answers);
    memset(q, 0, sizeof *q);
}

void mj_dataset_free(mj_dataset *d) {
    for (int64_t i = 0; i < d->n; i++) question_free(&d->q[i]);
    free(d->q);
    free(d->path);
    free(d->name);
    free(d->first_skip);
    memset(d, 0, sizeof *d);
}

int64_t mj_dataset_find(const mj_dataset *d, const char *id) {
    for (int64_t i = 0; i < d->n; i++)
        if (!strcmp(d->q[i].id, id)) return i;
    return -1;
}

/* ---- a string set for duplicate ids ----------------------------------------- */

typedef struct idset {
    const char **slot;
    size_t cap, n;
} idset;

static int idset_add(idset *s, const char *id) {   /* 1 added, 0 present, -1 OOM */
    if (2 * (s->n + 1) > s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 1024;
        const char **slot = calloc(cap, sizeof *slot);
        if (!slot) return -1;
        for (size_t i = 0; i < s->cap; i++) {
            if (!s->slot[i]) continue;
            size_t h = mj_hash64(0, s->slot[i], strlen(s->slot[i])) & (cap - 1);
            while (slot[h]) h = (h + 1) & (cap - 1);
            slot[h] = s->slot[i];
        }
        free(s->slot);
        s->slot = slot;
        s->cap = cap;
    }
    size_t h = mj_hash64(0, id, strlen(id)) & (s->cap - 1);
    for (; s->slot[h]; h = (h + 1) & (s->cap - 1))
        if (!strcmp(s->slot[h], id)) return 0;
    s->slot[h] = id;
    s->n++;
    return 1;
}

/* ---- record validation -------------------------------------------------------- */

/* Read obj[key] as a non-empty array of non-empty strings into out and n.
 * Returns 0 or -1 with a message (no location) in msg. */
static int get_str_array(json_object *obj, const char *key, bool required, char ***out,
                         int32_t *n, char *msg, size_t msgn) {
    json_object *a;
    *out = NULL;
    *n = 0;
    if (!json_object_object_get_ex(obj, key, &a) || json_object_is_type(a, json_type_null))
        return required ? mj_err(msg, msgn, "missing \"%s\"", key) : 0;
    if (!json_object_is_type(a, json_type_array))
        return mj_err(msg, msgn, "\"%s\" is not an array", key);
    size_t len = json_object_array_length(a);
    if (len == 0) return mj_err(msg, msgn, "\"%s\" is empty", key);
    if (len > INT32_MAX / 2) return mj_err(msg, msgn, "\"%s\" is too long", key);
    char **s = calloc(len, sizeof *s);
    if (!s) return mj_err(msg, msgn, "out of memory");
    for (size_t i = 0; i < len; i++) {
        json_object *e = json_object_array_get_idx(a, i);
        if (!json_object_is_type(e, json_type_string)) {
            mj_strs_free(s, (int64_t)len);
            return mj_err(msg, msgn, "\"%s\"[%zu] is not a string", key, i);
        }
        const char *t = json_object_get_string(e);
        size_t k = strspn(t, " \t\r\n");
        if (!t[k]) {
            mj_strs_free(s, (int64_t)len);
            return mj_err(msg, msgn, "\"%s\"[%zu] is empty", key, i);
        }
        if (strlen(t) != (size_t)json_object_get_string_len(e)) {
            mj_strs_free(s, (int64_t)len);
            return mj_err(msg, msgn, "\"%s\"[%zu] contains a NUL character", key, i);
        }
        s[i] = strdup(t);
        if (!s[i]) { mj_strs_free(s, (int64_t)len); return mj_err(msg, msgn, "out of memory"); }
    }
    *out = s;
    *n = (int32_t)len;
    return 0;
}

/* The id field: a non-empty string, or an integer (written in decimal). */
static int get_id(json_object *obj, const char *key, char **out, char *msg, size_t msgn) {
    json_object *v;
    if (!json_object_object_get_ex(obj, key, &v)) return mj_err(msg, msgn, "missing \"%s\"", key);
    char num[32];
    const char *s;
    if (json_object_is_type(v, json_type_string)) s = json_object_get_string(v);
    else if (json_object_is_type(v, json_type_int)) {
        snprintf(num, sizeof num, "%lld", (long long)json_object_get_int64(v));
        s = num;
    } else return mj_err(msg, msgn, "\"%s\" is not a string or an integer", key);
    if (!*s) return mj_err(msg, msgn, "\"%s\" is empty", key);
    if (strpbrk(s, "\n\r")) return mj_err(msg, msgn, "\"%s\" contains a line break", key);
    *out = strdup(s);
    return *out ? 0 : mj_err(msg, msgn, "out of memory");
}

/* Fill q from one parsed record of format fmt.  0, or -1 with msg. */
static int record_read(json_object *obj, mj_data_format fmt, mj_question *q, char *msg, size_t msgn) {
    memset(q, 0, sizeof *q);
    if (!json_object_is_type(obj, json_type_object)) return mj_err(msg, msgn, "record is not a JSON object");
    int rc = 0;
    if (fmt == MJ_DATA_WEBQUESTIONS) {
        json_object *t;
        rc = get_id(obj, "qId", &q->id, msg, msgn);
        if (!rc && (!json_object_object_get_ex(obj, "qText", &t) || !json_object_is_type(t, json_type_string)))
            rc = mj_err(msg, msgn, "missing string \"qText\"");
        if (!rc && !json_object_get_string(t)[strspn(json_object_get_string(t), " \t\r\n")])
            rc = mj_err(msg, msgn, "\"qText\" is empty");
        if (!rc) {
            q->paraphrases = mj_strs_dup((char *const[]){(char *)json_object_get_string(t)}, 1);
            q->n_paraphrases = 1;
            if (!q->paraphrases) rc = mj_err(msg, msgn, "out of memory");
        }
    } else {
        rc = get_id(obj, fmt == MJ_DATA_MYRIADLAMA ? "uuid" : "id", &q->id, msg, msgn);
        if (!rc) rc = get_str_array(obj, "paraphrases", true, &q->paraphrases, &q->n_paraphrases, msg, msgn);
        int32_t nk = 0;
        if (!rc) rc = get_str_array(obj, "paraphrase_kinds", fmt == MJ_DATA_MYRIADLAMA, &q->kinds, &nk, msg, msgn);
        if (!rc && q->kinds && nk != q->n_paraphrases) {
            mj_strs_free(q->kinds, nk);
            q->kinds = NULL;
            rc = mj_err(msg, msgn, "\"paraphrase_kinds\" has %d entries for %d paraphrases", nk,
                        q->n_paraphrases);
        }
        if (!rc && fmt == MJ_DATA_PARAPHRASES) {
            json_object *t;
            if (!json_object_object_get_ex(obj, "question", &t) || !json_object_is_type(t, json_type_string))
                rc = mj_err(msg, msgn, "missing string \"question\"");
        }
    }
    if (!rc) rc = get_str_array(obj, "answers", true, &q->answers, &q->n_answers, msg, msgn);
    if (rc) question_free(q);
    return rc;
}

/* ---- file level ------------------------------------------------------------------ */

typedef struct loader {
    mj_dataset *d;
    idset ids;
    bool skip_bad;
    char *err;
    size_t errn;
} loader;

/* Add one record (obj may be NULL when parse_msg says why).  0 or -1 (stop). */
static int loader_add(loader *L, json_object *obj, const char *parse_msg, int64_t line) {
    char msg[512];
    mj_question q;
    int rc = parse_msg ? mj_err(msg, sizeof msg, "%s", parse_msg)
                       : record_read(obj, L->d->format, &q, msg, sizeof msg);
    if (!rc) {
        int added = idset_add(&L->ids, q.id);
        if (added < 0) { question_free(&q); return mj_err(L->err, L->errn, "out of memory"); }
        if (!added) {
            rc = mj_err(msg, sizeof msg, "duplicate id \"%s\"", q.id);
            question_free(&q);
        }
    }
    if (rc) {
        if (!L->skip_bad) return mj_err(L->err, L->errn, "%s:%lld: %s", L->d->path, (long long)line, msg);
        if (!L->d->first_skip) {
            char full[700];
            snprintf(full, sizeof full, "%s:%lld: %s", L->d->path, (long long)line, msg);
            L->d->first_skip = strdup(full);
        }
        L->d->n_skipped++;
        return 0;
    }
    if (L->d->n == L->d->cap) {
        int64_t cap = L->d->cap ? 2 * L->d->cap : 256;
        mj_question *p = realloc(L->d->q, (size_t)cap * sizeof *p);
        if (!p) { question_free(&q); return mj_err(L->err, L->errn, "out of memory"); }
        L->d->q = p;
        L->d->cap = cap;
    }
    q.line = line;
    L->d->q[L->d->n++] = q;
    return 0;
}

static int64_t count_lines(const char *s, size_t from, size_t to, int64_t line) {
    for (size_t i = from; i < to; i++) line += s[i] == '\n';
    return line;
}

/* A JSON array of records: each element is parsed on its own so that its line
 * is known and one bad element does not lose the others. */
static int load_array(loader *L, const char *s, size_t len) {
    json_tokener *tok = json_tokener_new();
    if (!tok) return mj_err(L->err, L->errn, "out of memory");
    size_t i = strspn(s, " \t\r\n") + 1;   /* past '[' */
    size_t last = 0;
    int64_t line = count_lines(s, 0, i, 1);
    int rc = 0;
    for (bool first = true;; first = false) {
        size_t j = i;
        while (j < len && strchr(" \t\r\n", s[j])) j++;
        line = count_lines(s, i, j, line);
        if (j < len && s[j] == ']') { i = j + 1; break; }
        if (!first) {
            if (j >= len || s[j] != ',') { rc = mj_err(L->err, L->errn, "%s:%lld: expected ',' or ']' in the top-level array", L->d->path, (long long)line); break; }
            j++;
            size_t k = j;
            while (k < len && strchr(" \t\r\n", s[k])) k++;
            line = count_lines(s, j, k, line);
            j = k;
        }
        if (j >= len) { rc = mj_err(L->err, L->errn, "%s:%lld: unterminated top-level array", L->d->path, (long long)line); break; }
        json_tokener_reset(tok);
        json_object *obj = json_tokener_parse_ex(tok, s + j, (int)(len - j > INT32_MAX ? INT32_MAX : len - j));
        enum json_tokener_error e = json_tokener_get_error(tok);
        if (!obj && e != json_tokener_success) {
            /* The array cannot be resynchronised after a syntax error. */
            rc = mj_err(L->err, L->errn, "%s:%lld: invalid JSON: %s", L->d->path,
                        (long long)count_lines(s, j, j + json_tokener_get_parse_end(tok), line),
                        e == json_tokener_continue ? "unexpected end of file" : json_tokener_error_desc(e));
            break;
        }
        rc = loader_add(L, obj, NULL, line);
        json_object_put(obj);
        if (rc) break;
        last = j + json_tokener_get_parse_end(tok);
        line = count_lines(s, j, last, line);
        i = last;
    }
    json_tokener_free(tok);
    if (!rc && i < len && s[i + strspn(s + i, " \t\r\n")])
        rc = mj_err(L->err, L->errn, "%s:%lld: text after the top-level array", L->d->path, (long long)line);
    return rc;
}

static int load_lines(loader *L, const char *s, size_t len) {
    json_tokener *tok = json_tokener_new();
    if (!tok) return mj_err(L->err, L->errn, "out of memory");
    int64_t line = 0;
    int rc = 0;
    for (size_t i = 0; i < len && !rc;) {
        const char *nl = memchr(s + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - s) : len;
        line++;
        size_t b = i;
        while (b < end && strchr(" \t\r", s[b])) b++;
        if (b < end) {
            json_tokener_reset(tok);
            json_object *obj = json_tokener_parse_ex(tok, s + b, (int)(end - b));
            enum json_tokener_error e = json_tokener_get_error(tok);
            char pm[256] = "";
            if (!obj || e != json_tokener_success) {
                snprintf(pm, sizeof pm, "invalid JSON: %s", e == json_tokener_continue
                         ? "incomplete record" : json_tokener_error_desc(e));
            } else {
                size_t used = b + json_tokener_get_parse_end(tok);
                while (used < end && strchr(" \t\r", s[used])) used++;
                if (used < end) snprintf(pm, sizeof pm, "invalid JSON: text after the record");
            }
            rc = loader_add(L, pm[0] ? NULL : obj, pm[0] ? pm : NULL, line);
            if (obj) json_object_put(obj);
        }
        i = end + 1;
    }
    json_tokener_free(tok);
    return rc;
}

/* Detect the format of a JSONL file from its first record's keys. */
static mj_data_format detect_jsonl(const char *s, size_t len) {
    size_t b = strspn(s, " \t\r\n");
    const char *nl = memchr(s + b, '\n', len - b);
    size_t end = nl ? (size_t)(nl - s) : len;
    char *first = strndup(s + b, end - b);
    json_object *o = first ? json_tokener_parse(first) : NULL;
    free(first);
    mj_data_format f = MJ_DATA_GENERIC;
    if (o && json_object_is_type(o, json_type_object)) {
        if (json_object_object_get_ex(o, "uuid", NULL)) f = MJ_DATA_MYRIADLAMA;
        else if (json_object_object_get_ex(o, "id", NULL) && json_object_object_get_ex(o, "question", NULL))
            f = MJ_DATA_PARAPHRASES;
    }
    json_object_put(o);
    return f;
}

static char *stem_of(const char *path) {
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    const char *dot = strchr(b, '.');
    return strndup(b, dot && dot > b ? (size_t)(dot - b) : strlen(b));
}

int mj_dataset_load(mj_dataset *d, const char *path, mj_data_format fmt, bool skip_bad, char *err,
                    size_t errn) {
    memset(d, 0, sizeof *d);
    size_t len;
    char *s = mj_file_read(path, &len, err, errn);
    if (!s) return -1;
    d->path = strdup(path);
    size_t b = strspn(s, " \t\r\n");
    if (fmt == MJ_DATA_AUTO) fmt = b < len && s[b] == '[' ? MJ_DATA_WEBQUESTIONS : detect_jsonl(s, len);
    d->format = fmt;
    d->name = fmt == MJ_DATA_MYRIADLAMA ? strdup("myriadlama")
            : fmt == MJ_DATA_GENERIC    ? stem_of(path) : strdup("webqa");
    loader L = {d, {0}, skip_bad, err, errn};
    int rc;
    if (!d->path || !d->name) rc = mj_err(err, errn, "out of memory");
    else if (fmt == MJ_DATA_WEBQUESTIONS) {
        rc = b < len && s[b] == '[' ? load_array(&L, s, len)
                                    : mj_err(err, errn, "%s:1: a WebQuestions file is a JSON array", path);
    } else rc = load_lines(&L, s, len);
    free(L.ids.slot);
    free(s);
    if (!rc && d->n == 0) rc = mj_err(err, errn, "%s: no usable question in the file", path);
    if (rc) mj_dataset_free(d);
    return rc;
}
