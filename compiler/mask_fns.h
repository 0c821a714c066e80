/* mask_fns.h — the small C interface through which the runtime uses a compiled
 * mask on the CPU: four function pointers, backed either by the tree-walking
 * interpreter (interp.h) or by native code from the LLVM JIT (jit.h).  The
 * runtime knows masks only through this and the mj_program's lists of params,
 * tokens annotations and heads arrays. */
#ifndef MJ_MASK_FNS_H
#define MJ_MASK_FNS_H

#include <stdbool.h>
#include <stdint.h>

#include "mj_env.h"

typedef bool (*mj_mask_fn)(const void *ctx, const mj_env *env, int32_t q, int32_t kv, int32_t h);
typedef float (*mj_score_fn)(const void *ctx, const mj_env *env, int32_t q, int32_t kv, int32_t h,
                             float raw);
typedef int32_t (*mj_position_fn)(const void *ctx, const mj_env *env, int32_t q);
/* Returns MJ_BLOCK_EMPTY / MJ_BLOCK_FULL / MJ_BLOCK_PARTIAL for the region; sound:
 * EMPTY only if mask is false on every element, FULL only if true on every one. */
typedef int (*mj_classify_fn)(const void *ctx, const mj_env *env, const mj_summary *sum,
                              const mj_region *r);

typedef struct mj_mask_fns {
    const void *ctx;            /* passed back as the first argument */
    mj_mask_fn mask;            /* never NULL */
    mj_score_fn score;          /* NULL when the program has no score (identity) */
    mj_position_fn position;    /* NULL when the program has no position (= q) */
    mj_classify_fn classify;    /* never NULL */
} mj_mask_fns;

#endif
