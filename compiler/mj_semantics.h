/* mj_semantics.h — the scalar semantics of the .mask language, shared verbatim
 * by the interpreter (C), the LLVM back end (which calls or mirrors these) and
 * the CUDA back end (embedded into every NVRTC compile).  See mj_ir.h for the
 * rules.  Part 2 (below) holds the interval arithmetic of the block analysis.
 *
 * Portable C11 / CUDA C++: every function is MJ_SEM_FN (static inline on the
 * host, __device__ __forceinline__ under NVRTC). */
#ifndef MJ_SEMANTICS_H
#define MJ_SEMANTICS_H

#if defined(__CUDACC_RTC__) || defined(__CUDACC__)
#define MJ_SEM_FN static __device__ __forceinline__
#define MJ_INT_MIN (-2147483647 - 1)
#define MJ_INT_MAX 2147483647
#else
#include <math.h>
#include <stdint.h>
#define MJ_SEM_FN static inline
#define MJ_INT_MIN INT32_MIN
#define MJ_INT_MAX INT32_MAX
#endif

#include "mj_env.h"

/* ---- Part 1: scalars --------------------------------------------------------- */

/* Wrap-around int arithmetic (computed in unsigned, no UB). */
MJ_SEM_FN int32_t mj_iadd(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }
MJ_SEM_FN int32_t mj_isub(int32_t a, int32_t b) { return (int32_t)((uint32_t)a - (uint32_t)b); }
MJ_SEM_FN int32_t mj_imul(int32_t a, int32_t b) { return (int32_t)((uint32_t)a * (uint32_t)b); }
MJ_SEM_FN int32_t mj_ineg(int32_t a) { return (int32_t)(0u - (uint32_t)a); }
MJ_SEM_FN int32_t mj_iabs(int32_t a) { return a < 0 ? mj_ineg(a) : a; }
/* x / 0 == 0; INT_MIN / -1 == INT_MIN; truncation toward zero. */
MJ_SEM_FN int32_t mj_idiv(int32_t a, int32_t b) {
    if (b == 0) return 0;
    if (b == -1) return mj_ineg(a);
    return a / b;
}
/* x % 0 == 0; x % -1 == 0; sign of the dividend. */
MJ_SEM_FN int32_t mj_imod(int32_t a, int32_t b) {
    if (b == 0 || b == -1) return 0;
    return a % b;
}
MJ_SEM_FN int32_t mj_imin(int32_t a, int32_t b) { return a < b ? a : b; }
MJ_SEM_FN int32_t mj_imax(int32_t a, int32_t b) { return a > b ? a : b; }
MJ_SEM_FN int32_t mj_iclamp(int32_t x, int32_t lo, int32_t hi) { return mj_imin(mj_imax(x, lo), hi); }
MJ_SEM_FN float mj_fclamp(float x, float lo, float hi) { return fminf(fmaxf(x, lo), hi); }
/* int(x): truncate toward zero, saturate, NaN -> 0. */
MJ_SEM_FN int32_t mj_f2i(float x) {
    if (x != x) return 0;
    if (x >= 2147483648.0f) return MJ_INT_MAX;
    if (x <= -2147483648.0f) return MJ_INT_MIN;
    return (int32_t)x;
}

/* Bounds-checked reads (out of range: the declared default / 0.0f). */
MJ_SEM_FN mj_value mj_tokens_at(const mj_env *env, int32_t a, int32_t i, mj_value def) {
    if (i < 0 || (int64_t)i >= env->tokens_len) return def;
    return env->tokens[(int64_t)a * env->tokens_stride + i];
}
MJ_SEM_FN mj_value mj_param_at(const mj_env *env, int32_t offset, int32_t count, int32_t i,
                               mj_value def) {
    if (i < 0 || i >= count) return def;
    return env->params[offset + i];
}
MJ_SEM_FN float mj_heads_at(const mj_env *env, int32_t k, int32_t j) {
    if (j < 0 || j >= env->n_heads) return 0.0f;
    return env->heads[(int64_t)k * env->n_heads + j];
}

/* ---- Part 2: intervals (block analysis) --------------------------------------
 * Owned by the block analysis (compiler/blocks.c); see the section below. */

#endif
