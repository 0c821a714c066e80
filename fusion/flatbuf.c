/* flatbuf.c — see flatbuf.h.  Layout rules (flatbuffers.dev, "Internals"):
 * a table starts with an int32 soffset to its vtable (vtable = table - soffset),
 * the vtable is [u16 vtable size, u16 table size, u16 field offsets...], a
 * uoffset points forward (target = field address + value), strings and
 * vectors start with a u32 count, strings end with a NUL. */
#include "flatbuf.h"

#include <stdlib.h>
#include <string.h>

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "flatbuf.c assumes a little-endian host");

void fb_init(fb_builder *b) { memset(b, 0, sizeof *b); }

void fb_free(fb_builder *b) {
    free(b->mem);
    memset(b, 0, sizeof *b);
}

static int reserve(fb_builder *b, size_t n) {
    if (b->oom) return -1;
    if (b->size + n <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 1024;
    while (cap < b->size + n) cap *= 2;
    uint8_t *m = malloc(cap);
    if (!m) { b->oom = 1; return -1; }
    if (b->size) memcpy(m + cap - b->size, b->mem + b->cap - b->size, b->size);
    free(b->mem);
    b->mem = m;
    b->cap = cap;
    return 0;
}

static void push(fb_builder *b, const void *data, size_t n) {
    if (!n || reserve(b, n)) return;
    b->size += n;
    if (data) memcpy(b->mem + b->cap - b->size, data, n);
    else memset(b->mem + b->cap - b->size, 0, n);
}

/* Pad so that after `extra` more bytes the size is a multiple of align. */
static void prep(fb_builder *b, size_t align, size_t extra) {
    size_t pad = (align - ((b->size + extra) % align)) % align;
    push(b, NULL, pad);
}

static void push_u32(fb_builder *b, uint32_t v) { push(b, &v, 4); }

/* A uoffset field placed at the current front, pointing at ref r. */
static void push_uoffset(fb_builder *b, fb_ref r) {
    prep(b, 4, 0);
    push_u32(b, (uint32_t)(b->size + 4 - r));
}

fb_ref fb_string(fb_builder *b, const char *s) {
    size_t n = strlen(s);
    prep(b, 4, n + 1);
    push(b, NULL, 1);
    push(b, s, n);
    push_u32(b, (uint32_t)n);
    return (fb_ref)b->size;
}

fb_ref fb_vec_refs(fb_builder *b, const fb_ref *refs, size_t n) {
    prep(b, 4, 4 * n);
    for (size_t i = n; i-- > 0;) push_uoffset(b, refs[i]);
    push_u32(b, (uint32_t)n);
    return (fb_ref)b->size;
}

fb_ref fb_vec_structs(fb_builder *b, const void *elems, size_t n, size_t elem_size) {
    prep(b, 4, elem_size * n);
    prep(b, 8, elem_size * n);
    push(b, elems, elem_size * n);
    push_u32(b, (uint32_t)n);
    return (fb_ref)b->size;
}

void fb_table_start(fb_builder *b) {
    b->table_start = b->size;
    b->n_fields = 0;
}

static void field_at(fb_builder *b, int id) {
    if (b->n_fields < 16) {
        b->fields[b->n_fields].id = id;
        b->fields[b->n_fields].at = b->size;
        b->n_fields++;
    }
}

void fb_add_u8(fb_builder *b, int id, uint8_t v) { push(b, &v, 1); field_at(b, id); }

void fb_add_i16(fb_builder *b, int id, int16_t v) {
    prep(b, 2, 2);
    push(b, &v, 2);
    field_at(b, id);
}

void fb_add_i64(fb_builder *b, int id, int64_t v) {
    prep(b, 8, 8);
    push(b, &v, 8);
    field_at(b, id);
}

void fb_add_ref(fb_builder *b, int id, fb_ref r) {
    push_uoffset(b, r);
    field_at(b, id);
}

fb_ref fb_table_end(fb_builder *b) {
    prep(b, 4, 4);
    push_u32(b, 0);                      /* soffset, patched below */
    size_t table = b->size;
    int max_id = -1;
    for (int i = 0; i < b->n_fields; i++)
        if (b->fields[i].id > max_id) max_id = b->fields[i].id;
    uint16_t vt[2 + 16] = {0};
    vt[0] = (uint16_t)(2 * (2 + max_id + 1));
    vt[1] = (uint16_t)(table - b->table_start);
    for (int i = 0; i < b->n_fields; i++)
        vt[2 + b->fields[i].id] = (uint16_t)(table - b->fields[i].at);
    push(b, vt, vt[0]);                  /* vtable right in front of the table */
    if (!b->oom) {
        int32_t so = (int32_t)(b->size - table);
        memcpy(b->mem + b->cap - table, &so, 4);
    }
    return (fb_ref)table;
}

const uint8_t *fb_finish(fb_builder *b, fb_ref root, size_t *len) {
    prep(b, 8, 4);
    push_uoffset(b, root);
    if (b->oom) return NULL;
    *len = b->size;
    return b->mem + b->cap - b->size;
}
