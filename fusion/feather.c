/* feather.c — see feather.h.  Schema / Message / RecordBatch / Footer tables
 * follow Arrow's format/Schema.fbs, Message.fbs and File.fbs (field ids in the
 * comments below). */
#include "feather.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flatbuf.h"
#include "fu_util.h"

enum { TYPE_UTF8 = 5, TYPE_LIST = 12 };             /* union Type */
enum { HEADER_SCHEMA = 1, HEADER_RECORD_BATCH = 3 }; /* union MessageHeader */
enum { METADATA_V5 = 4 };

/* Field { name 0, nullable 1, type_type 2, type 3, dictionary 4, children 5 } */
static fb_ref build_field(fb_builder *b, const char *name, int is_list) {
    fb_ref child = 0;
    if (is_list) child = build_field(b, "item", 0);
    fb_ref nm = fb_string(b, name);
    fb_table_start(b);                   /* Utf8 {} or List {} */
    fb_ref type = fb_table_end(b);
    fb_ref children = fb_vec_refs(b, &child, is_list ? 1 : 0);
    fb_table_start(b);
    fb_add_ref(b, 0, nm);
    fb_add_u8(b, 1, 1);
    fb_add_u8(b, 2, is_list ? TYPE_LIST : TYPE_UTF8);
    fb_add_ref(b, 3, type);
    fb_add_ref(b, 5, children);
    return fb_table_end(b);
}

/* Schema { endianness 0, fields 1 } */
static fb_ref build_schema(fb_builder *b, const mj_feather_col *cols, int n_cols) {
    fb_ref fields[64];
    for (int c = 0; c < n_cols; c++) fields[c] = build_field(b, cols[c].name, cols[c].is_list);
    fb_ref vec = fb_vec_refs(b, fields, (size_t)n_cols);
    fb_table_start(b);
    fb_add_i16(b, 0, 0);                 /* Little */
    fb_add_ref(b, 1, vec);
    return fb_table_end(b);
}

/* Message { version 0, header_type 1, header 2, bodyLength 3 } */
static fb_ref build_message(fb_builder *b, uint8_t type, fb_ref header, int64_t body_len) {
    fb_table_start(b);
    fb_add_i16(b, 0, METADATA_V5);
    fb_add_u8(b, 1, type);
    fb_add_ref(b, 2, header);
    fb_add_i64(b, 3, body_len);
    return fb_table_end(b);
}

/* ---- the record batch body -------------------------------------------------- */

typedef struct body {
    mj_buf data;
    int64_t *bufs;      /* (offset, length) pairs */
    int n_bufs, cap_bufs;
    int64_t nodes[2 * 128];   /* (length, null_count) pairs */
    int n_nodes;
} body;

static int body_add(body *B, const void *p, size_t len) {
    if (B->n_bufs == B->cap_bufs) {
        int cap = B->cap_bufs ? 2 * B->cap_bufs : 16;
        int64_t *nb = realloc(B->bufs, (size_t)cap * 2 * sizeof *nb);
        if (!nb) return -1;
        B->bufs = nb;
        B->cap_bufs = cap;
    }
    B->bufs[2 * B->n_bufs] = (int64_t)B->data.n;
    B->bufs[2 * B->n_bufs + 1] = (int64_t)len;
    B->n_bufs++;
    static const char zeros[8];
    if (mj_buf_put(&B->data, p, len)) return -1;
    return mj_buf_put(&B->data, zeros, (8 - len % 8) % 8);
}

static void body_node(body *B, int64_t len) {
    B->nodes[2 * B->n_nodes] = len;
    B->nodes[2 * B->n_nodes + 1] = 0;
    B->n_nodes++;
}

/* validity (empty), int32 offsets, bytes of n strings. */
static int body_strings(body *B, const char *const *s, int64_t n, char *err, size_t errn) {
    int32_t *off = malloc((size_t)(n + 1) * sizeof *off);
    mj_buf chars;
    mj_buf_init(&chars);
    if (!off) return mj_err(err, errn, "out of memory");
    off[0] = 0;
    int rc = 0;
    for (int64_t i = 0; i < n && !rc; i++) {
        const char *t = s[i] ? s[i] : "";
        size_t k = strlen(t);
        if (chars.n + k > INT32_MAX) rc = mj_err(err, errn, "feather: more than 2 GiB of text in one column");
        else if (mj_buf_put(&chars, t, k)) rc = mj_err(err, errn, "out of memory");
        else off[i + 1] = (int32_t)chars.n;
    }
    body_node(B, n);
    if (!rc && (body_add(B, NULL, 0) || body_add(B, off, (size_t)(n + 1) * 4) || body_add(B, chars.p, chars.n)))
        rc = mj_err(err, errn, "out of memory");
    free(off);
    mj_buf_free(&chars);
    return rc;
}

static int body_column(body *B, const mj_feather_col *c, int64_t n, char *err, size_t errn) {
    if (!c->is_list) return body_strings(B, c->str, n, err, errn);
    int64_t total = 0;
    for (int64_t i = 0; i < n; i++) total += c->list_len[i];
    if (total > INT32_MAX) return mj_err(err, errn, "feather: list column too long");
    int32_t *off = malloc((size_t)(n + 1) * sizeof *off);
    const char **flat = malloc((size_t)(total ? total : 1) * sizeof *flat);
    if (!off || !flat) { free(off); free(flat); return mj_err(err, errn, "out of memory"); }
    off[0] = 0;
    int64_t k = 0;
    for (int64_t i = 0; i < n; i++) {
        for (int32_t j = 0; j < c->list_len[i]; j++) flat[k++] = c->list[i][j];
        off[i + 1] = (int32_t)k;
    }
    body_node(B, n);
    int rc = body_add(B, NULL, 0) || body_add(B, off, (size_t)(n + 1) * 4) ? mj_err(err, errn, "out of memory") : 0;
    if (!rc) rc = body_strings(B, flat, total, err, errn);
    free(off);
    free(flat);
    return rc;
}

/* RecordBatch { length 0, nodes 1, buffers 2 } */
static fb_ref build_batch(fb_builder *b, const body *B, int64_t n_rows) {
    fb_ref nodes = fb_vec_structs(b, B->nodes, (size_t)B->n_nodes, 16);
    fb_ref bufs = fb_vec_structs(b, B->bufs, (size_t)B->n_bufs, 16);
    fb_table_start(b);
    fb_add_i64(b, 0, n_rows);
    fb_add_ref(b, 1, nodes);
    fb_add_ref(b, 2, bufs);
    return fb_table_end(b);
}

/* ---- the file ------------------------------------------------------------------- */

/* Encapsulated message: 0xFFFFFFFF, int32 metadata size (padded to 8), flatbuffer. */
static int put_message(mj_buf *out, const uint8_t *fb, size_t len, int64_t *meta_len) {
    static const char zeros[8];
    size_t padded = (len + 7) / 8 * 8;
    uint32_t cont = 0xFFFFFFFFu;
    int32_t sz = (int32_t)padded;
    *meta_len = (int64_t)(8 + padded);
    return mj_buf_put(out, &cont, 4) || mj_buf_put(out, &sz, 4) || mj_buf_put(out, fb, len) ||
           mj_buf_put(out, zeros, padded - len);
}

static int assemble(mj_buf *out, const mj_feather_col *cols, int n_cols, const body *B, int64_t n_rows) {
    fb_builder b;
    size_t len;
    const uint8_t *fb;
    int64_t meta;
    int bad = mj_buf_put(out, "ARROW1\0\0", 8);
    fb_init(&b);
    fb = fb_finish(&b, build_message(&b, HEADER_SCHEMA, build_schema(&b, cols, n_cols), 0), &len);
    bad = bad || !fb || put_message(out, fb, len, &meta);
    fb_free(&b);
    int64_t block[3] = {(int64_t)out->n, 0, (int64_t)B->data.n};   /* Block {offset, metaDataLength, bodyLength} */
    fb_init(&b);
    fb = fb_finish(&b, build_message(&b, HEADER_RECORD_BATCH, build_batch(&b, B, n_rows), (int64_t)B->data.n), &len);
    bad = bad || !fb || put_message(out, fb, len, &meta) || mj_buf_put(out, B->data.p ? B->data.p : "", B->data.n);
    fb_free(&b);
    block[1] = meta;                     /* int32 + 4 bytes of padding: low word, high word 0 */
    uint32_t eos[2] = {0xFFFFFFFFu, 0};
    bad = bad || mj_buf_put(out, eos, 8);
    /* Footer { version 0, schema 1, dictionaries 2, recordBatches 3 } */
    fb_init(&b);
    fb_ref schema = build_schema(&b, cols, n_cols);
    fb_ref dicts = fb_vec_structs(&b, NULL, 0, 24);
    fb_ref batches = fb_vec_structs(&b, block, 1, 24);
    fb_table_start(&b);
    fb_add_i16(&b, 0, METADATA_V5);
    fb_add_ref(&b, 1, schema);
    fb_add_ref(&b, 2, dicts);
    fb_add_ref(&b, 3, batches);
    fb = fb_finish(&b, fb_table_end(&b), &len);
    int32_t flen = (int32_t)len;
    bad = bad || !fb || mj_buf_put(out, fb, len) || mj_buf_put(out, &flen, 4) || mj_buf_put(out, "ARROW1", 6);
    fb_free(&b);
    return bad ? -1 : 0;
}

static int write_all(const char *path, const mj_buf *data, char *err, size_t errn) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) return mj_err(err, errn, "%s: %s", tmp, strerror(errno));
    bool ok = fwrite(data->p, 1, data->n, f) == data->n && fflush(f) == 0 && fsync(fileno(f)) == 0;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path)) {
        int e = errno;
        unlink(tmp);
        return mj_err(err, errn, "%s: %s", path, strerror(e));
    }
    return 0;
}

int mj_feather_write(const char *path, int64_t n_rows, const mj_feather_col *cols, int n_cols,
                     char *err, size_t errn) {
    if (n_cols < 1 || n_cols > 64) return mj_err(err, errn, "feather: 1..64 columns");
    if (n_rows < 0 || n_rows > INT32_MAX) return mj_err(err, errn, "feather: bad row count");
    body B;
    memset(&B, 0, sizeof B);
    mj_buf_init(&B.data);
    int rc = 0;
    for (int c = 0; c < n_cols && !rc; c++) rc = body_column(&B, &cols[c], n_rows, err, errn);
    mj_buf out;
    mj_buf_init(&out);
    if (!rc && assemble(&out, cols, n_cols, &B, n_rows)) rc = mj_err(err, errn, "out of memory");
    if (!rc) rc = write_all(path, &out, err, errn);
    mj_buf_free(&out);
    mj_buf_free(&B.data);
    free(B.bufs);
    return rc;
}
