/* gguf_writer.h — a tiny in-memory GGUF v3 writer for tests (metadata of
 * any scalar type, string and string/int32/f32 arrays; tensors with raw
 * bytes of any ggml type).  Libc only; never used by the library. */
#ifndef MJ_TEST_GGUF_WRITER_H
#define MJ_TEST_GGUF_WRITER_H

#include <stddef.h>
#include <stdint.h>

typedef struct tgw_tensor {
    char name[128];
    uint32_t type, n_dims;
    uint64_t ne[4];
    uint8_t *data;         /* owned copy */
    size_t n_bytes;
} tgw_tensor;

typedef struct tgw {
    uint8_t *kv; size_t kv_n, kv_cap;  /* serialized metadata pairs */
    uint64_t n_kv;
    tgw_tensor *t; size_t n_t, cap_t;
    uint32_t alignment;    /* 32 unless set (also write general.alignment yourself) */
} tgw;

void tgw_init(tgw *w);
void tgw_free(tgw *w);
void tgw_u32(tgw *w, const char *key, uint32_t v);
void tgw_i32(tgw *w, const char *key, int32_t v);
void tgw_f32(tgw *w, const char *key, float v);
void tgw_bool(tgw *w, const char *key, int v);
void tgw_str(tgw *w, const char *key, const char *v);
/* Scalar of any gguf type given its raw little-endian bytes. */
void tgw_raw(tgw *w, const char *key, uint32_t type, const void *bytes, size_t n);
void tgw_arr_str(tgw *w, const char *key, const char *const *v, uint64_t n);
void tgw_arr_i32(tgw *w, const char *key, const int32_t *v, uint64_t n);
void tgw_arr_f32(tgw *w, const char *key, const float *v, uint64_t n);
/* Add a tensor; ne[0] is the fastest dimension; data is copied. */
void tgw_tensor_add(tgw *w, const char *name, uint32_t type, uint32_t n_dims, const uint64_t *ne,
                    const void *data, size_t n_bytes);
/* Serialize to a malloc'd buffer (*len bytes). */
uint8_t *tgw_finish(tgw *w, size_t *len);
/* Write the serialized file to PATH; 0 or -1. */
int tgw_write_file(tgw *w, const char *path);

#endif
