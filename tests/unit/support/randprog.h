/* randprog.h — seeded random well-typed .mask programs (as source text, so the
 * whole front end is exercised) and random run-time environments for them,
 * for differential tests of the back ends (interpreter vs LLVM JIT vs CUDA).
 *
 * Programs use every operator and function, ?: and if-then-else, lets, defs
 * (with parameters), scalar and array params of the three types, tokens
 * annotations of the three types, heads arrays, score and position programs,
 * extreme constants (INT_MIN, INT_MAX, 0, -1, inf, -inf, -0.0, subnormals),
 * division and modulo by values that are often 0 or -1, and indices that are
 * often out of range.  Only plain C: this file is linked into every test
 * binary, so it calls nothing of the compiler layer. */
#ifndef MJ_RANDPROG_H
#define MJ_RANDPROG_H

#include <stdint.h>

#include "mj_env.h"
#include "mj_ir.h"

/* xorshift64* generator; any non-zero seed. */
typedef struct mj_rp_rng {
    uint64_t s;
} mj_rp_rng;

void mj_rp_seed(mj_rp_rng *r, uint64_t seed);
uint64_t mj_rp_next(mj_rp_rng *r);
/* Uniform in [lo, hi] (inclusive, hi >= lo). */
int32_t mj_rp_range(mj_rp_rng *r, int32_t lo, int32_t hi);
/* True with probability num/den. */
int mj_rp_chance(mj_rp_rng *r, int num, int den);
/* An "interesting" int / float: extremes, small values, random bits. */
int32_t mj_rp_int(mj_rp_rng *r);
float mj_rp_float(mj_rp_rng *r);

/* What the generated program contains. */
typedef struct mj_rp_opts {
    int max_depth;      /* expression depth (default 5 when 0) */
    int want_score;     /* -1: random, 0: no score program, 1: always */
    int want_position;  /* -1: random, 0: none, 1: always */
} mj_rp_opts;

/* A random well-typed program; malloc'd NUL-terminated text (caller frees).
 * opts may be NULL (random everything). */
char *mj_rp_program(mj_rp_rng *r, const mj_rp_opts *opts);

/* A random environment for program p: params (every slot), annotations over
 * tokens_len <= seq_len tokens (segment-like patterns mixed with extreme
 * values), heads arrays. */
typedef struct mj_rp_env {
    mj_env env;
    mj_value *params;
    mj_value *tokens;
    float *heads;
} mj_rp_env;

/* Returns 0, -1 on out-of-memory. */
int mj_rp_env_init(mj_rp_env *e, const mj_program *p, mj_rp_rng *r, int32_t max_seq_len);
void mj_rp_env_free(mj_rp_env *e);
/* A query/key index for env: mostly inside [0, seq_len), sometimes outside. */
int32_t mj_rp_index(mj_rp_rng *r, const mj_env *env);
/* A head index: mostly inside [0, n_heads), sometimes outside. */
int32_t mj_rp_head(mj_rp_rng *r, const mj_env *env);

#endif
