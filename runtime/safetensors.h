/* safetensors.h — reading (mmap) and writing of safetensors files, single or
 * sharded through model.safetensors.index.json.  Tensors of dtype F32, F16
 * and BF16 convert to f32; other dtypes are listed but not convertible. */
#ifndef MJ_SAFETENSORS_H
#define MJ_SAFETENSORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { MJ_ST_F32 = 0, MJ_ST_F16 = 1, MJ_ST_BF16 = 2, MJ_ST_OTHER = 3 };
#define MJ_ST_MAX_DIMS 8

typedef struct mj_st_tensor {
    char *name;
    int dtype;                  /* MJ_ST_* */
    char dtype_name[16];        /* as written in the header ("F32", "I64" ...) */
    int n_dims;
    int64_t shape[MJ_ST_MAX_DIMS];
    uint64_t n_elems;
    const uint8_t *data;        /* inside the mapping of its file */
    uint64_t n_bytes;
    int file;                   /* index of the shard it is in */
} mj_st_tensor;

typedef struct mj_st mj_st;

/* Open PATH: a .safetensors file, or a directory holding
 * model.safetensors.index.json (then every shard its weight_map names) or
 * model.safetensors.  NULL with a one-line message on error (missing file,
 * truncated file, bad header JSON, offsets outside the file, a shard name
 * with a path separator, duplicate tensor ...). */
mj_st *mj_st_open(const char *path, char *err, size_t errn);
void mj_st_free(mj_st *s);
int64_t mj_st_n_tensors(const mj_st *s);
const mj_st_tensor *mj_st_tensor_at(const mj_st *s, int64_t i);
/* Tensor by name, or NULL. */
const mj_st_tensor *mj_st_find(const mj_st *s, const char *name);
/* Convert t into dst[t->n_elems].  0, or -1 with a message for a dtype that
 * is not F32/F16/BF16. */
int mj_st_to_f32(const mj_st_tensor *t, float *dst, char *err, size_t errn);

/* ---- writing -------------------------------------------------------------- */
typedef struct mj_st_wtensor {
    const char *name;
    int dtype;                  /* MJ_ST_F32/F16/BF16: data is converted from f32 */
    int n_dims;
    int64_t shape[MJ_ST_MAX_DIMS];
    const float *data;          /* product(shape) values */
} mj_st_wtensor;

/* Write the n tensors (in the given order, names unique) to PATH as one
 * safetensors file.  0, or -1 with a message. */
int mj_st_write(const char *path, const mj_st_wtensor *t, int64_t n, char *err, size_t errn);

#endif
