/* flatbuf.h — a minimal FlatBuffers builder (the subset the Arrow IPC
 * metadata needs: tables with scalar / offset / union fields, strings,
 * vectors of offsets and of fixed-size structs), written by hand because
 * Debian 12 packages no FlatBuffers C builder (flatcc).  Like the reference
 * builder it writes back to front: every object is built before whatever
 * refers to it, and objects are named by their distance from the buffer's
 * end ("ref").  Little-endian hosts only (checked at build time). */
#ifndef MJ_FLATBUF_H
#define MJ_FLATBUF_H

#include <stddef.h>
#include <stdint.h>

typedef uint32_t fb_ref;   /* distance from the end of the buffer; 0 = none */

typedef struct fb_builder {
    uint8_t *mem;
    size_t cap, size;      /* data is mem[cap - size, cap) */
    int oom;               /* sticky out-of-memory flag */
    size_t table_start;    /* size when the open table started */
    int n_fields;
    struct { int id; size_t at; } fields[16];
} fb_builder;

void fb_init(fb_builder *b);
void fb_free(fb_builder *b);

fb_ref fb_string(fb_builder *b, const char *s);
/* A vector of n refs (tables or strings). */
fb_ref fb_vec_refs(fb_builder *b, const fb_ref *refs, size_t n);
/* A vector of n structs of elem_size bytes each (already little-endian), align 8. */
fb_ref fb_vec_structs(fb_builder *b, const void *elems, size_t n, size_t elem_size);

void fb_table_start(fb_builder *b);
void fb_add_u8(fb_builder *b, int id, uint8_t v);
void fb_add_i16(fb_builder *b, int id, int16_t v);
void fb_add_i64(fb_builder *b, int id, int64_t v);
void fb_add_ref(fb_builder *b, int id, fb_ref r);
fb_ref fb_table_end(fb_builder *b);

/* Finish with root table r: the buffer's size becomes a multiple of 8.
 * Returns a pointer to the finished bytes (valid until fb_free) and their
 * size in *len, or NULL when memory ran out. */
const uint8_t *fb_finish(fb_builder *b, fb_ref root, size_t *len);

#endif
