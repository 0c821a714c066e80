/* interp.h — the tree-walking interpreter: the reference semantics of a checked
 * program (mj_ir.h), and the interval ("three-valued") evaluator behind the
 * reference block classifier. */
#ifndef MJ_INTERP_H
#define MJ_INTERP_H

#include <stdbool.h>
#include <stdint.h>

#include "mask_fns.h"
#include "mj_ir.h"

bool mj_interp_mask(const mj_program *p, const mj_env *env, int32_t q, int32_t kv, int32_t h);
/* raw: the scaled logit q.k/sqrt(d); returns raw when the program has no score. */
float mj_interp_score(const mj_program *p, const mj_env *env, int32_t q, int32_t kv, int32_t h,
                      float raw);
/* Returns q when the program has no position program. */
int32_t mj_interp_position(const mj_program *p, const mj_env *env, int32_t q);

/* mj_mask_fns backed by the interpreter (ctx = p). */
mj_mask_fns mj_interp_fns(const mj_program *p);

#endif
