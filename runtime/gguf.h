/* gguf.h — a bounds-checked reader of GGUF files (llama.cpp's model format,
 * versions 2 and 3, little-endian).  The file is mmapped read-only; the
 * header, every metadata key/value (all value types, arrays included) and
 * every tensor info are validated at open, so later accessors never read
 * outside the file.  Tensors of types F32, F16, BF16, Q8_0, Q4_0, Q4_1 can
 * be dequantized to f32 (block layouts exactly as ggml defines them).
 *
 * Strings inside the file (string values, string array elements) are NOT
 * NUL-terminated: accessors return a pointer into the mapping plus a length.
 * Key names and tensor names are NUL-terminated copies.  Every pointer
 * returned stays valid until mj_gguf_free.
 *
 * Typical use (tokenizer):
 *   int64_t k = mj_gguf_find_key(g, "tokenizer.ggml.tokens");
 *   uint64_t n; int et;
 *   if (k >= 0 && mj_gguf_get_array(g, k, &et, &n) && et == MJ_GGUF_STRING)
 *       for (uint64_t i = 0; i < n; i++) {
 *           size_t len; const char *s = mj_gguf_arr_str(g, k, i, &len); ... }
 */
#ifndef MJ_GGUF_H
#define MJ_GGUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Metadata value types (gguf_type). */
enum {
    MJ_GGUF_UINT8 = 0, MJ_GGUF_INT8 = 1, MJ_GGUF_UINT16 = 2, MJ_GGUF_INT16 = 3,
    MJ_GGUF_UINT32 = 4, MJ_GGUF_INT32 = 5, MJ_GGUF_FLOAT32 = 6, MJ_GGUF_BOOL = 7,
    MJ_GGUF_STRING = 8, MJ_GGUF_ARRAY = 9, MJ_GGUF_UINT64 = 10, MJ_GGUF_INT64 = 11,
    MJ_GGUF_FLOAT64 = 12
};

/* Tensor types (ggml_type); only those listed are dequantizable, the others
 * are recognised by size so files containing them still open. */
enum {
    MJ_GGML_F32 = 0, MJ_GGML_F16 = 1, MJ_GGML_Q4_0 = 2, MJ_GGML_Q4_1 = 3,
    MJ_GGML_Q5_0 = 6, MJ_GGML_Q5_1 = 7, MJ_GGML_Q8_0 = 8, MJ_GGML_Q8_1 = 9,
    MJ_GGML_Q2_K = 10, MJ_GGML_Q3_K = 11, MJ_GGML_Q4_K = 12, MJ_GGML_Q5_K = 13,
    MJ_GGML_Q6_K = 14, MJ_GGML_Q8_K = 15, MJ_GGML_I8 = 24, MJ_GGML_I16 = 25,
    MJ_GGML_I32 = 26, MJ_GGML_I64 = 27, MJ_GGML_F64 = 28, MJ_GGML_BF16 = 30
};

#define MJ_GGUF_MAX_DIMS 4
#define MJ_GGUF_DEFAULT_ALIGNMENT 32

typedef struct mj_gguf_tensor {
    const char *name;          /* NUL-terminated */
    uint32_t type;             /* MJ_GGML_* */
    uint32_t n_dims;           /* 1..4 */
    uint64_t ne[MJ_GGUF_MAX_DIMS]; /* ne[0] is the fastest (contiguous) dimension;
                                * unused dims are 1.  HF shape [out, in] is
                                * ne = {in, out}. */
    uint64_t n_elems;
    uint64_t n_bytes;
    const uint8_t *data;       /* inside the mapping; n_bytes readable */
} mj_gguf_tensor;

typedef struct mj_gguf mj_gguf;

/* Open and validate PATH.  NULL with a one-line message in err (naming the
 * file and what is wrong) on any error: not GGUF, unsupported version, big
 * endian, truncated, counts/lengths beyond the file, bad alignment, tensor
 * data outside the file, duplicate keys or tensor names. */
mj_gguf *mj_gguf_open(const char *path, char *err, size_t errn);
/* Same, on a caller-owned buffer (not copied; must outlive g).  For tests. */
mj_gguf *mj_gguf_open_mem(const void *buf, size_t len, char *err, size_t errn);
void mj_gguf_free(mj_gguf *g);

uint32_t mj_gguf_version(const mj_gguf *g);
uint32_t mj_gguf_alignment(const mj_gguf *g);

/* ---- metadata ------------------------------------------------------------- */
int64_t mj_gguf_n_keys(const mj_gguf *g);
/* Index of KEY or -1. */
int64_t mj_gguf_find_key(const mj_gguf *g, const char *key);
const char *mj_gguf_key_name(const mj_gguf *g, int64_t idx);
/* MJ_GGUF_* type of key idx, or -1 for a bad index. */
int mj_gguf_key_type(const mj_gguf *g, int64_t idx);

/* Typed getters by key name: true and *out set when KEY exists and its value
 * converts exactly (integers: any integer type whose value fits; f32: from
 * f32, f64 or any integer type; bool: only from bool); false otherwise (out
 * untouched). */
bool mj_gguf_get_u32(const mj_gguf *g, const char *key, uint32_t *out);
bool mj_gguf_get_i32(const mj_gguf *g, const char *key, int32_t *out);
bool mj_gguf_get_u64(const mj_gguf *g, const char *key, uint64_t *out);
bool mj_gguf_get_f32(const mj_gguf *g, const char *key, float *out);
bool mj_gguf_get_bool(const mj_gguf *g, const char *key, bool *out);
/* String value of KEY (not NUL-terminated; *len its length), or NULL. */
const char *mj_gguf_get_str(const mj_gguf *g, const char *key, size_t *len);
/* Same as a malloc'd NUL-terminated copy (caller frees), or NULL. */
char *mj_gguf_dup_str(const mj_gguf *g, const char *key);

/* Array value of key idx: true with *elem_type (MJ_GGUF_*) and *count, or
 * false when idx is not an array.  (Nested arrays are rejected at open, as
 * llama.cpp does.) */
bool mj_gguf_get_array(const mj_gguf *g, int64_t key_idx, int *elem_type, uint64_t *count);
/* Element i of a string array (pointer into the mapping, *len bytes, not
 * NUL-terminated); NULL if not a string array or i out of range.  O(1). */
const char *mj_gguf_arr_str(const mj_gguf *g, int64_t key_idx, uint64_t i, size_t *len);
/* Element i of an integer (or bool) array as int64 (uint64 values above
 * INT64_MAX fail); false if not such an array or i out of range. */
bool mj_gguf_arr_int(const mj_gguf *g, int64_t key_idx, uint64_t i, int64_t *out);
/* Element i of a float32/float64 array as float. */
bool mj_gguf_arr_f32(const mj_gguf *g, int64_t key_idx, uint64_t i, float *out);

/* ---- tensors -------------------------------------------------------------- */
int64_t mj_gguf_n_tensors(const mj_gguf *g);
const mj_gguf_tensor *mj_gguf_tensor_at(const mj_gguf *g, int64_t i);
/* Tensor named NAME or NULL. */
const mj_gguf_tensor *mj_gguf_find_tensor(const mj_gguf *g, const char *name);

/* "F32", "Q4_1" ... or "type<N>" for unknown ones (static buffer for those). */
const char *mj_gguf_type_name(uint32_t ggml_type);
/* Block size (elements) and bytes per block of a ggml type; false if unknown. */
bool mj_gguf_type_info(uint32_t ggml_type, uint32_t *block_elems, uint32_t *block_bytes);
/* True when mj_gguf_dequant supports the type. */
bool mj_gguf_can_dequant(uint32_t ggml_type);

/* Dequantize N elements (a multiple of the block size) of type TYPE stored
 * at SRC (N / block * block_bytes bytes) into DST.  Returns 0, or -1 for an
 * unsupported type or bad n. */
int mj_gguf_dequant_row(uint32_t type, const void *src, float *dst, uint64_t n);
/* Dequantize the whole tensor into dst[t->n_elems].  0, or -1 with a message
 * naming the tensor and its type. */
int mj_gguf_dequant(const mj_gguf_tensor *t, float *dst, char *err, size_t errn);

/* IEEE half / bfloat16 to float (shared with the safetensors loader). */
float mj_f16_to_f32(uint16_t h);
float mj_bf16_to_f32(uint16_t h);
uint16_t mj_f32_to_f16(float f);   /* round to nearest even */
uint16_t mj_f32_to_bf16(float f);  /* round to nearest even */

#endif
