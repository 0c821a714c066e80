/* mj_env.h — the plain-C run-time environment shared by host code, the LLVM-JIT
 * functions and the CUDA kernel templates (as flash-attention's flash.h).
 *
 * Everything a compiled mask program reads at run time lives here: the built-in
 * scalars (n_heads, prompt_len, seq_len, b), the bound `param` values, the
 * per-token `tokens` annotations and the per-head `heads` arrays.  The layout is
 * fixed (no padding surprises between gcc, clang/LLVM and NVRTC): only 4- and
 * 8-byte members, pointers last.
 *
 * This header must compile as C11 on the host and as CUDA C++ under NVRTC, so it
 * includes nothing but <stdint.h> when not under NVRTC.
 */
#ifndef MJ_ENV_H
#define MJ_ENV_H

#if !defined(__CUDACC_RTC__)
#include <stdint.h>
#endif

/* One scalar slot: int, float or bool (stored as int 0/1). */
typedef union mj_value {
    int32_t i;
    float f;
} mj_value;

/* The run-time environment of one row (one sequence of the batch).
 *
 * params:  flattened `param` values; param k occupies slots
 *          [mj_param.offset, mj_param.offset + mj_param.count).
 * tokens:  annotation a, token i is tokens[a * tokens_stride + i], valid for
 *          0 <= i < tokens_len; any other index reads the annotation's default.
 * heads:   `heads` array k, head j is heads[k * n_heads + j], valid for
 *          0 <= j < n_heads; any other index reads 0.0f.
 */
typedef struct mj_env {
    int32_t n_heads;
    int32_t prompt_len;
    int32_t seq_len;
    int32_t b;
    int64_t tokens_len;
    int64_t tokens_stride;
    const mj_value *params;
    const mj_value *tokens;
    const float *heads;
} mj_env;

/* Per-block summaries of the `tokens` annotations, for the block classifier.
 * For annotation a and summary block j (tokens [j*block, (j+1)*block) clipped to
 * tokens_len): tok_min[a * n_blocks + j], tok_max[a * n_blocks + j], stored as
 * int or float bits following the annotation's type (bool as int 0/1).
 * n_blocks = ceil(tokens_len / block). */
typedef struct mj_summary {
    int32_t block;
    int32_t pad_;
    int64_t n_blocks;
    const mj_value *tok_min;
    const mj_value *tok_max;
} mj_summary;

/* A region of the attention matrix: queries [q0,q1], keys [kv0,kv1], heads
 * [h0,h1], all inclusive. */
typedef struct mj_region {
    int32_t q0, q1;
    int32_t kv0, kv1;
    int32_t h0, h1;
} mj_region;

/* Block classes returned by every block classifier. */
enum { MJ_BLOCK_EMPTY = 0, MJ_BLOCK_FULL = 1, MJ_BLOCK_PARTIAL = 2 };

#endif /* MJ_ENV_H */
