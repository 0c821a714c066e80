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
/* min/max on floats: a NaN operand is ignored (as fminf/fmaxf); when both are
 * zeros of different sign, min gives -0 and max +0.  Written out (not fminf)
 * because fminf may return either zero and compilers treat it as commutative,
 * so two back ends could disagree on the sign of a zero. */
MJ_SEM_FN float mj_fmin(float a, float b) {
    if (a != a) return b;
    if (b != b) return a;
    if (a < b) return a;
    if (b < a) return b;
    return signbit(a) ? a : b;
}
MJ_SEM_FN float mj_fmax(float a, float b) {
    if (a != a) return b;
    if (b != b) return a;
    if (a > b) return a;
    if (b > a) return b;
    return signbit(a) ? b : a;
}
MJ_SEM_FN float mj_fclamp(float x, float lo, float hi) { return mj_fmin(mj_fmax(x, lo), hi); }
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
 * Owned by the block analysis (compiler/blocks.c); see the section below.
 *
 * Abstract values for the three types, used to evaluate a program over a region
 * (a box of q, kv, h values) instead of one point:
 *   mj_ii  int interval [lo, hi] (lo <= hi);
 *   mj_fi  float interval: every non-NaN value lies in [lo, hi] (lo > hi: there
 *          is no non-NaN value), nan != 0: NaN is possible.  -0.0 and +0.0 are
 *          the same point (as for comparisons);
 *   mj_bi  bit set of the possible bool values (MJ_BI_FALSE | MJ_BI_TRUE).
 * SOUNDNESS (the contract every function keeps): for every point of the input
 * intervals, the Part 1 scalar result lies in the returned interval.  Ints
 * wrap, so an int result whose exact range leaves int32 becomes the full range.
 * Float + - * / sqrt fmod are correctly rounded in every back end, so rounding
 * is monotone and corner values are bounds; results are still widened by one
 * ulp when the corner operation was inexact, and exp/log/tanh (libm, CUDA
 * intrinsics: not correctly rounded) by MJ_FI_LIBM_ULPS ulps.
 * Float summaries (mj_summary of a float annotation): tok_min/tok_max are the
 * min/max of the non-NaN values of the block; a block holding a NaN stores
 * NaN in tok_min (and the non-NaN max, or -inf, in tok_max). */

typedef struct mj_ii { int32_t lo, hi; } mj_ii;
typedef struct mj_fi { float lo, hi; int32_t nan; } mj_fi;
typedef int32_t mj_bi;
#define MJ_BI_FALSE 1
#define MJ_BI_TRUE 2
#define MJ_BI_ANY 3
#define MJ_FI_LIBM_ULPS 4

#if defined(__CUDACC_RTC__) || defined(__CUDACC__)
#define MJ_FINF __int_as_float(0x7f800000)
#else
#define MJ_FINF __builtin_inff()
#endif

/* -- constructors, helpers -- */
MJ_SEM_FN mj_ii mj_ii_make(int32_t lo, int32_t hi) { mj_ii r; r.lo = lo; r.hi = hi; return r; }
MJ_SEM_FN mj_ii mj_ii_full(void) { return mj_ii_make(MJ_INT_MIN, MJ_INT_MAX); }
MJ_SEM_FN mj_ii mj_ii_const(int32_t c) { return mj_ii_make(c, c); }
MJ_SEM_FN mj_fi mj_fi_make(float lo, float hi, int32_t nan) {
    mj_fi r; r.lo = lo; r.hi = hi; r.nan = nan != 0; return r;
}
/* The interval with no non-NaN value (plus NaN when nan != 0). */
MJ_SEM_FN mj_fi mj_fi_none(int32_t nan) { return mj_fi_make(MJ_FINF, -MJ_FINF, nan); }
MJ_SEM_FN mj_fi mj_fi_const(float c) { return c != c ? mj_fi_none(1) : mj_fi_make(c, c, 0); }
MJ_SEM_FN mj_bi mj_bi_const(int c) { return c ? MJ_BI_TRUE : MJ_BI_FALSE; }
/* Interval from an exact int64 range: the full range when it leaves int32. */
MJ_SEM_FN mj_ii mj_ii_from64(int64_t lo, int64_t hi) {
    if (lo < (int64_t)MJ_INT_MIN || hi > (int64_t)MJ_INT_MAX) return mj_ii_full();
    return mj_ii_make((int32_t)lo, (int32_t)hi);
}
MJ_SEM_FN int mj_fi_empty(mj_fi a) { return !(a.lo <= a.hi); }
MJ_SEM_FN int mj_fi_has(mj_fi a, float x) { return a.lo <= x && x <= a.hi; }
MJ_SEM_FN int mj_fi_has_inf(mj_fi a) { return !mj_fi_empty(a) && (a.hi == MJ_FINF || a.lo == -MJ_FINF); }
/* Smallest interval holding both. */
MJ_SEM_FN mj_ii mj_ii_hull(mj_ii a, mj_ii b) {
    return mj_ii_make(a.lo < b.lo ? a.lo : b.lo, a.hi > b.hi ? a.hi : b.hi);
}
MJ_SEM_FN mj_fi mj_fi_hull(mj_fi a, mj_fi b) {
    if (mj_fi_empty(a)) return mj_fi_make(b.lo, b.hi, a.nan || b.nan);
    if (mj_fi_empty(b)) return mj_fi_make(a.lo, a.hi, a.nan || b.nan);
    return mj_fi_make(a.lo < b.lo ? a.lo : b.lo, a.hi > b.hi ? a.hi : b.hi, a.nan || b.nan);
}
/* Block class of a mask value over a region. */
MJ_SEM_FN int mj_bi_block(mj_bi m) {
    return m == MJ_BI_TRUE ? MJ_BLOCK_FULL : m == MJ_BI_FALSE ? MJ_BLOCK_EMPTY : MJ_BLOCK_PARTIAL;
}

/* -- int arithmetic -- */
/* Interval of four exact int64 corner values (full range if it leaves int32). */
MJ_SEM_FN mj_ii mj_ii_hull4_(int64_t c0, int64_t c1, int64_t c2, int64_t c3) {
    int64_t lo = c0 < c1 ? c0 : c1, hi = c0 < c1 ? c1 : c0;
    int64_t lo2 = c2 < c3 ? c2 : c3, hi2 = c2 < c3 ? c3 : c2;
    return mj_ii_from64(lo < lo2 ? lo : lo2, hi > hi2 ? hi : hi2);
}
MJ_SEM_FN mj_ii mj_ii_add(mj_ii a, mj_ii b) {
    return mj_ii_from64((int64_t)a.lo + b.lo, (int64_t)a.hi + b.hi);
}
MJ_SEM_FN mj_ii mj_ii_sub(mj_ii a, mj_ii b) {
    return mj_ii_from64((int64_t)a.lo - b.hi, (int64_t)a.hi - b.lo);
}
MJ_SEM_FN mj_ii mj_ii_mul(mj_ii a, mj_ii b) {
    return mj_ii_hull4_((int64_t)a.lo * b.lo, (int64_t)a.lo * b.hi,
                        (int64_t)a.hi * b.lo, (int64_t)a.hi * b.hi);
}
/* -x wraps: -INT_MIN == INT_MIN. */
MJ_SEM_FN mj_ii mj_ii_neg(mj_ii a) {
    if (a.lo == MJ_INT_MIN) return a.hi == MJ_INT_MIN ? a : mj_ii_full();
    return mj_ii_make(-a.hi, -a.lo);
}
/* abs(INT_MIN) == INT_MIN. */
MJ_SEM_FN mj_ii mj_ii_abs(mj_ii a) {
    if (a.lo >= 0) return a;
    if (a.hi <= 0) return mj_ii_neg(a);
    if (a.lo == MJ_INT_MIN) return mj_ii_full();
    return mj_ii_make(0, -a.lo > a.hi ? -a.lo : a.hi);
}
/* a / d for d in [d0, d1] (no zero inside, both of one sign): the quotient is
 * monotone in each operand, so the corners bound it (INT_MIN/-1 wraps, and
 * the int64 corner 2^31 makes the result the full range). */
MJ_SEM_FN mj_ii mj_ii_div_signed_(mj_ii a, int32_t d0, int32_t d1) {
    return mj_ii_hull4_((int64_t)a.lo / d0, (int64_t)a.lo / d1,
                        (int64_t)a.hi / d0, (int64_t)a.hi / d1);
}
/* x / 0 == 0. */
MJ_SEM_FN mj_ii mj_ii_div(mj_ii a, mj_ii b) {
    mj_ii r = mj_ii_const(0);
    int have = 0;
    if (b.lo <= 0 && b.hi >= 0) { r = mj_ii_const(0); have = 1; }
    if (b.lo < 0) {
        mj_ii n = mj_ii_div_signed_(a, b.lo, b.hi < -1 ? b.hi : -1);
        r = have ? mj_ii_hull(r, n) : n; have = 1;
    }
    if (b.hi > 0) {
        mj_ii p = mj_ii_div_signed_(a, b.lo > 1 ? b.lo : 1, b.hi);
        r = have ? mj_ii_hull(r, p) : p;
    }
    return r;
}
/* x % 0 == 0, x % -1 == 0, sign of the dividend, |x % d| < |d| and <= |x|. */
MJ_SEM_FN mj_ii mj_ii_mod(mj_ii a, mj_ii b) {
    int64_t mabs = 0, minabs;   /* max / min |d| over the non-zero divisors */
    int64_t blo = b.lo, bhi = b.hi, lo, hi;
    if (blo == 0 && bhi == 0) return mj_ii_const(0);
    mabs = -blo > bhi ? -blo : bhi;
    if (blo > 0) minabs = blo;
    else if (bhi < 0) minabs = -bhi;
    else minabs = 1;
    /* every divisor larger than |a|: a % d == a (and 0 when d may be 0 or -1) */
    {
        int64_t amax = -(int64_t)a.lo > (int64_t)a.hi ? -(int64_t)a.lo : (int64_t)a.hi;
        if (minabs > amax && minabs > 1) {
            mj_ii r = a;
            if (blo <= 0 && bhi >= 0) r = mj_ii_hull(r, mj_ii_const(0));
            return r;
        }
    }
    /* one positive constant divisor and a within one period of one sign */
    if (blo == bhi && blo > 1) {
        int32_t d = b.lo;
        if ((a.lo >= 0 || a.hi <= 0) && a.lo / d == a.hi / d)
            return mj_ii_make(a.lo % d, a.hi % d);
    }
    lo = a.lo < 0 ? (a.lo > -(mabs - 1) ? a.lo : -(mabs - 1)) : 0;
    hi = a.hi > 0 ? (a.hi < mabs - 1 ? a.hi : mabs - 1) : 0;
    return mj_ii_make((int32_t)lo, (int32_t)hi);
}
MJ_SEM_FN mj_ii mj_ii_min(mj_ii a, mj_ii b) {
    return mj_ii_make(a.lo < b.lo ? a.lo : b.lo, a.hi < b.hi ? a.hi : b.hi);
}
MJ_SEM_FN mj_ii mj_ii_max(mj_ii a, mj_ii b) {
    return mj_ii_make(a.lo > b.lo ? a.lo : b.lo, a.hi > b.hi ? a.hi : b.hi);
}
MJ_SEM_FN mj_ii mj_ii_clamp(mj_ii x, mj_ii lo, mj_ii hi) { return mj_ii_min(mj_ii_max(x, lo), hi); }

/* -- float arithmetic -- */
MJ_SEM_FN float mj_f_down_(float x, int n) { while (n-- > 0) x = nextafterf(x, -MJ_FINF); return x; }
MJ_SEM_FN float mj_f_up_(float x, int n) { while (n-- > 0) x = nextafterf(x, MJ_FINF); return x; }
/* Lower / upper bound of a corner result s whose rounding error is err
 * (err == 0: exact; NaN: unknown). */
MJ_SEM_FN float mj_f_lo_(float s, float err) { return err == 0.0f ? s : mj_f_down_(s, 1); }
MJ_SEM_FN float mj_f_hi_(float s, float err) { return err == 0.0f ? s : mj_f_up_(s, 1); }
/* Error of s = x + y (Knuth's TwoSum; NaN when it overflowed or inputs are inf). */
MJ_SEM_FN float mj_f_sum_err_(float x, float y, float s) {
    float bb = s - x;
    return (x - (s - bb)) + (y - bb);
}
/* Error of p = x * y (0 when exact; non-zero or NaN otherwise). */
MJ_SEM_FN float mj_f_mul_err_(float x, float y, float p) {
    if (p == 0.0f) return (x == 0.0f || y == 0.0f) ? 0.0f : 1.0f;   /* underflow */
    if (fabsf(p) < 1.17549435e-38f) return 1.0f;                     /* subnormal */
    return fmaf(x, y, -p);
}
/* Error of r = x / y (0 when exact). */
MJ_SEM_FN float mj_f_div_err_(float x, float y, float r) {
    if (r == 0.0f) return x == 0.0f ? 0.0f : 1.0f;
    if (!(fabsf(r) >= 1.17549435e-38f) || fabsf(r) == MJ_FINF) return 1.0f;
    return fmaf(r, y, -x);
}
MJ_SEM_FN mj_fi mj_fi_add(mj_fi a, mj_fi b) {
    int nan = a.nan || b.nan;
    float lo, hi;
    if (mj_fi_empty(a) || mj_fi_empty(b)) return mj_fi_none(nan);
    if ((mj_fi_has(a, MJ_FINF) && mj_fi_has(b, -MJ_FINF)) ||
        (mj_fi_has(a, -MJ_FINF) && mj_fi_has(b, MJ_FINF))) nan = 1;
    lo = a.lo + b.lo;
    hi = a.hi + b.hi;
    lo = lo != lo ? -MJ_FINF : mj_f_lo_(lo, mj_f_sum_err_(a.lo, b.lo, lo));
    hi = hi != hi ? MJ_FINF : mj_f_hi_(hi, mj_f_sum_err_(a.hi, b.hi, hi));
    return mj_fi_make(lo, hi, nan);
}
MJ_SEM_FN mj_fi mj_fi_neg(mj_fi a) {
    if (mj_fi_empty(a)) return a;
    return mj_fi_make(-a.hi, -a.lo, a.nan);
}
/* x - y == x + (-y) exactly in IEEE arithmetic. */
MJ_SEM_FN mj_fi mj_fi_sub(mj_fi a, mj_fi b) { return mj_fi_add(a, mj_fi_neg(b)); }
MJ_SEM_FN mj_fi mj_fi_mul(mj_fi a, mj_fi b) {
    float xs[2], ys[2], lo = MJ_FINF, hi = -MJ_FINF;
    int nan = a.nan || b.nan, i, j;
    if (mj_fi_empty(a) || mj_fi_empty(b)) return mj_fi_none(nan);
    if ((mj_fi_has(a, 0.0f) && mj_fi_has_inf(b)) || (mj_fi_has(b, 0.0f) && mj_fi_has_inf(a)))
        nan = 1;
    xs[0] = a.lo; xs[1] = a.hi; ys[0] = b.lo; ys[1] = b.hi;
    for (i = 0; i < 2; i++)
        for (j = 0; j < 2; j++) {
            float p = xs[i] * ys[j];
            if (p != p) return mj_fi_make(-MJ_FINF, MJ_FINF, 1);   /* 0 * inf corner */
            {
                float e = mj_f_mul_err_(xs[i], ys[j], p);
                float pl = mj_f_lo_(p, e), ph = mj_f_hi_(p, e);
                if (pl < lo) lo = pl;
                if (ph > hi) hi = ph;
            }
        }
    return mj_fi_make(lo, hi, nan);
}
MJ_SEM_FN mj_fi mj_fi_div(mj_fi a, mj_fi b) {
    float xs[2], ys[2], lo = MJ_FINF, hi = -MJ_FINF;
    int nan = a.nan || b.nan, i, j;
    if (mj_fi_empty(a) || mj_fi_empty(b)) return mj_fi_none(nan);
    if (mj_fi_has_inf(a) && mj_fi_has_inf(b)) nan = 1;
    if (mj_fi_has(b, 0.0f)) {            /* x / ±0: ±inf (sign of zero unknown), 0/0 NaN */
        if (mj_fi_has(a, 0.0f)) nan = 1;
        return mj_fi_make(-MJ_FINF, MJ_FINF, nan);
    }
    xs[0] = a.lo; xs[1] = a.hi; ys[0] = b.lo; ys[1] = b.hi;
    for (i = 0; i < 2; i++)
        for (j = 0; j < 2; j++) {
            float r = xs[i] / ys[j];
            if (r != r) return mj_fi_make(-MJ_FINF, MJ_FINF, 1);   /* inf / inf corner */
            {
                float e = mj_f_div_err_(xs[i], ys[j], r);
                float rl = mj_f_lo_(r, e), rh = mj_f_hi_(r, e);
                if (rl < lo) lo = rl;
                if (rh > hi) hi = rh;
            }
        }
    return mj_fi_make(lo, hi, nan);
}
/* fmodf: exact; sign of the dividend; |r| <= |x| and |r| < |y|; NaN for x inf
 * or y == 0; x when y is inf. */
MJ_SEM_FN mj_fi mj_fi_mod(mj_fi a, mj_fi b) {
    int nan = a.nan || b.nan;
    float m, lo, hi;
    if (mj_fi_empty(a) || mj_fi_empty(b)) return mj_fi_none(nan);
    if (mj_fi_has_inf(a) || mj_fi_has(b, 0.0f)) nan = 1;
    if (a.lo == a.hi && b.lo == b.hi) {
        float r = fmodf(a.lo, b.lo);
        return r != r ? mj_fi_none(1) : mj_fi_make(r, r, nan);
    }
    m = fabsf(b.lo) > fabsf(b.hi) ? fabsf(b.lo) : fabsf(b.hi);
    lo = a.lo < 0.0f ? (a.lo > -m ? a.lo : -m) : 0.0f;
    hi = a.hi > 0.0f ? (a.hi < m ? a.hi : m) : 0.0f;
    return mj_fi_make(lo, hi, nan);
}
MJ_SEM_FN mj_fi mj_fi_abs(mj_fi a) {
    if (mj_fi_empty(a)) return a;
    if (a.lo >= 0.0f) return mj_fi_make(a.lo, a.hi, a.nan);
    if (a.hi <= 0.0f) return mj_fi_make(-a.hi, -a.lo, a.nan);
    return mj_fi_make(0.0f, -a.lo > a.hi ? -a.lo : a.hi, a.nan);
}
MJ_SEM_FN mj_fi mj_fi_exp(mj_fi a) {
    float lo, hi;
    if (mj_fi_empty(a)) return a;
    lo = mj_f_down_(expf(a.lo), MJ_FI_LIBM_ULPS);
    hi = mj_f_up_(expf(a.hi), MJ_FI_LIBM_ULPS);
    if (a.lo == -MJ_FINF || lo < 0.0f) lo = 0.0f;
    if (a.hi == MJ_FINF) hi = MJ_FINF;
    if (a.lo == a.hi && (a.lo == 0.0f)) lo = hi = 1.0f;
    return mj_fi_make(lo, hi, a.nan);
}
MJ_SEM_FN mj_fi mj_fi_log(mj_fi a) {
    int nan = a.nan || (!mj_fi_empty(a) && a.lo < 0.0f);
    float lo, hi;
    if (mj_fi_empty(a) || a.hi < 0.0f) return mj_fi_none(nan);
    lo = a.lo <= 0.0f ? -MJ_FINF : mj_f_down_(logf(a.lo), MJ_FI_LIBM_ULPS);
    hi = a.hi == 0.0f ? -MJ_FINF : mj_f_up_(logf(a.hi), MJ_FI_LIBM_ULPS);
    if (a.hi == MJ_FINF) hi = MJ_FINF;
    if (a.lo == 1.0f && a.hi == 1.0f) lo = hi = 0.0f;
    return mj_fi_make(lo, hi, nan);
}
MJ_SEM_FN mj_fi mj_fi_sqrt(mj_fi a) {
    int nan = a.nan || (!mj_fi_empty(a) && a.lo < 0.0f);
    float lo, hi, x;
    if (mj_fi_empty(a) || a.hi < 0.0f) return mj_fi_none(nan);
    x = a.lo > 0.0f ? a.lo : 0.0f;
    lo = sqrtf(x);
    hi = sqrtf(a.hi);
    lo = mj_f_lo_(lo, mj_f_mul_err_(lo, lo, x) == 0.0f && lo * lo == x ? 0.0f : 1.0f);
    hi = mj_f_hi_(hi, hi * hi == a.hi && mj_f_mul_err_(hi, hi, a.hi) == 0.0f ? 0.0f : 1.0f);
    if (lo < 0.0f) lo = 0.0f;
    return mj_fi_make(lo, hi, nan);
}
MJ_SEM_FN mj_fi mj_fi_tanh(mj_fi a) {
    float lo, hi;
    if (mj_fi_empty(a)) return a;
    lo = a.lo == 0.0f ? 0.0f : mj_f_down_(tanhf(a.lo), MJ_FI_LIBM_ULPS);
    hi = a.hi == 0.0f ? 0.0f : mj_f_up_(tanhf(a.hi), MJ_FI_LIBM_ULPS);
    if (lo < -1.0f) lo = -1.0f;
    if (hi > 1.0f) hi = 1.0f;
    return mj_fi_make(lo, hi, a.nan);
}
/* fminf/fmaxf return the other operand when one is NaN. */
MJ_SEM_FN mj_fi mj_fi_min(mj_fi a, mj_fi b) {
    mj_fi r = mj_fi_none(a.nan && b.nan);
    if (!mj_fi_empty(a) && !mj_fi_empty(b))
        r = mj_fi_hull(r, mj_fi_make(a.lo < b.lo ? a.lo : b.lo, a.hi < b.hi ? a.hi : b.hi, 0));
    if (a.nan) r = mj_fi_hull(r, mj_fi_make(b.lo, b.hi, 0));
    if (b.nan) r = mj_fi_hull(r, mj_fi_make(a.lo, a.hi, 0));
    return r;
}
MJ_SEM_FN mj_fi mj_fi_max(mj_fi a, mj_fi b) {
    mj_fi r = mj_fi_none(a.nan && b.nan);
    if (!mj_fi_empty(a) && !mj_fi_empty(b))
        r = mj_fi_hull(r, mj_fi_make(a.lo > b.lo ? a.lo : b.lo, a.hi > b.hi ? a.hi : b.hi, 0));
    if (a.nan) r = mj_fi_hull(r, mj_fi_make(b.lo, b.hi, 0));
    if (b.nan) r = mj_fi_hull(r, mj_fi_make(a.lo, a.hi, 0));
    return r;
}
MJ_SEM_FN mj_fi mj_fi_clamp(mj_fi x, mj_fi lo, mj_fi hi) { return mj_fi_min(mj_fi_max(x, lo), hi); }

/* -- conversions -- */
/* int -> float rounds to nearest: monotone. */
MJ_SEM_FN mj_fi mj_ii_to_fi(mj_ii a) { return mj_fi_make((float)a.lo, (float)a.hi, 0); }
/* int(x) is monotone on non-NaN values; NaN -> 0. */
MJ_SEM_FN mj_ii mj_fi_to_ii(mj_fi a) {
    mj_ii r;
    if (mj_fi_empty(a)) return mj_ii_const(0);
    r = mj_ii_make(mj_f2i(a.lo), mj_f2i(a.hi));
    return a.nan ? mj_ii_hull(r, mj_ii_const(0)) : r;
}

/* -- comparisons -- */
MJ_SEM_FN mj_bi mj_bi_from_(int can_true, int can_false) {
    mj_bi r = (can_true ? MJ_BI_TRUE : 0) | (can_false ? MJ_BI_FALSE : 0);
    return r ? r : MJ_BI_ANY;   /* unreachable inputs: any answer is sound */
}
MJ_SEM_FN mj_bi mj_ii_lt(mj_ii a, mj_ii b) { return mj_bi_from_(a.lo < b.hi, a.hi >= b.lo); }
MJ_SEM_FN mj_bi mj_ii_le(mj_ii a, mj_ii b) { return mj_bi_from_(a.lo <= b.hi, a.hi > b.lo); }
MJ_SEM_FN mj_bi mj_ii_gt(mj_ii a, mj_ii b) { return mj_ii_lt(b, a); }
MJ_SEM_FN mj_bi mj_ii_ge(mj_ii a, mj_ii b) { return mj_ii_le(b, a); }
MJ_SEM_FN mj_bi mj_ii_eq(mj_ii a, mj_ii b) {
    return mj_bi_from_(a.lo <= b.hi && b.lo <= a.hi,
                       !(a.lo == a.hi && b.lo == b.hi && a.lo == b.lo));
}
MJ_SEM_FN mj_bi mj_ii_ne(mj_ii a, mj_ii b) { mj_bi e = mj_ii_eq(a, b); return ((e & 1) << 1) | (e >> 1); }
/* Float: a possibly-NaN operand makes FALSE possible (TRUE for !=). */
MJ_SEM_FN mj_bi mj_fi_lt(mj_fi a, mj_fi b) {
    int both = !mj_fi_empty(a) && !mj_fi_empty(b);
    return mj_bi_from_(both && a.lo < b.hi, (both && a.hi >= b.lo) || a.nan || b.nan);
}
MJ_SEM_FN mj_bi mj_fi_le(mj_fi a, mj_fi b) {
    int both = !mj_fi_empty(a) && !mj_fi_empty(b);
    return mj_bi_from_(both && a.lo <= b.hi, (both && a.hi > b.lo) || a.nan || b.nan);
}
MJ_SEM_FN mj_bi mj_fi_gt(mj_fi a, mj_fi b) { return mj_fi_lt(b, a); }
MJ_SEM_FN mj_bi mj_fi_ge(mj_fi a, mj_fi b) { return mj_fi_le(b, a); }
MJ_SEM_FN mj_bi mj_fi_eq(mj_fi a, mj_fi b) {
    int both = !mj_fi_empty(a) && !mj_fi_empty(b);
    return mj_bi_from_(both && a.lo <= b.hi && b.lo <= a.hi,
                       (both && !(a.lo == a.hi && b.lo == b.hi && a.lo == b.lo)) || a.nan || b.nan);
}
MJ_SEM_FN mj_bi mj_fi_ne(mj_fi a, mj_fi b) { mj_bi e = mj_fi_eq(a, b); return ((e & 1) << 1) | (e >> 1); }
MJ_SEM_FN mj_bi mj_bi_eq(mj_bi a, mj_bi b) {
    return mj_bi_from_((a & b) != 0, ((a & 1) && (b & 2)) || ((a & 2) && (b & 1)));
}
MJ_SEM_FN mj_bi mj_bi_ne(mj_bi a, mj_bi b) { mj_bi e = mj_bi_eq(a, b); return ((e & 1) << 1) | (e >> 1); }

/* -- logic, select -- */
MJ_SEM_FN mj_bi mj_bi_and(mj_bi a, mj_bi b) {
    return mj_bi_from_((a & 2) && (b & 2), (a & 1) || (b & 1));
}
MJ_SEM_FN mj_bi mj_bi_or(mj_bi a, mj_bi b) {
    return mj_bi_from_((a & 2) || (b & 2), (a & 1) && (b & 1));
}
MJ_SEM_FN mj_bi mj_bi_not(mj_bi a) { return ((a & 1) << 1) | ((a >> 1) & 1); }
MJ_SEM_FN mj_ii mj_ii_select(mj_bi c, mj_ii a, mj_ii b) {
    return c == MJ_BI_TRUE ? a : c == MJ_BI_FALSE ? b : mj_ii_hull(a, b);
}
MJ_SEM_FN mj_fi mj_fi_select(mj_bi c, mj_fi a, mj_fi b) {
    return c == MJ_BI_TRUE ? a : c == MJ_BI_FALSE ? b : mj_fi_hull(a, b);
}
MJ_SEM_FN mj_bi mj_bi_select(mj_bi c, mj_bi a, mj_bi b) {
    return c == MJ_BI_TRUE ? a : c == MJ_BI_FALSE ? b : (a | b);
}

/* -- leaves: array reads over an index interval -- */
/* Range of int-typed summary values of annotation a for indices [lo, hi]
 * (inside [0, tokens_len)): a single index is read exactly, a range through the
 * per-block min/max of the summary blocks it touches (O(blocks covered)). */
MJ_SEM_FN mj_ii mj_tokens_range_i_(const mj_env *env, const mj_summary *s, int32_t a,
                                   int32_t lo, int32_t hi) {
    int64_t j, j0, j1, base;
    mj_ii r;
    if (lo == hi) return mj_ii_const(env->tokens[(int64_t)a * env->tokens_stride + lo].i);
    j0 = lo / s->block; j1 = hi / s->block; base = (int64_t)a * s->n_blocks;
    r = mj_ii_make(s->tok_min[base + j0].i, s->tok_max[base + j0].i);
    for (j = j0 + 1; j <= j1; j++)
        r = mj_ii_hull(r, mj_ii_make(s->tok_min[base + j].i, s->tok_max[base + j].i));
    return r;
}
MJ_SEM_FN mj_ii mj_ii_tokens_at(const mj_env *env, const mj_summary *s, int32_t a, mj_ii idx,
                                int32_t def) {
    int64_t len = env->tokens_len;
    int32_t lo = idx.lo < 0 ? 0 : idx.lo;
    int64_t hi = (int64_t)idx.hi >= len ? len - 1 : idx.hi;
    int outside = idx.lo < 0 || (int64_t)idx.hi >= len;
    mj_ii r;
    if ((int64_t)lo > hi) return mj_ii_const(def);
    r = mj_tokens_range_i_(env, s, a, lo, (int32_t)hi);
    return outside ? mj_ii_hull(r, mj_ii_const(def)) : r;
}
MJ_SEM_FN mj_bi mj_bi_tokens_at(const mj_env *env, const mj_summary *s, int32_t a, mj_ii idx,
                                int32_t def) {
    mj_ii v = mj_ii_tokens_at(env, s, a, idx, def);
    return mj_bi_from_(v.lo != 0 || v.hi != 0, v.lo <= 0 && v.hi >= 0);
}
/* Float summary value pair -> interval (NaN in min: the block holds a NaN). */
MJ_SEM_FN mj_fi mj_fi_from_summary_(float mn, float mx) {
    if (mn != mn) return mj_fi_make(-MJ_FINF, mx, 1);
    return mj_fi_make(mn, mx, 0);
}
MJ_SEM_FN mj_fi mj_fi_tokens_at(const mj_env *env, const mj_summary *s, int32_t a, mj_ii idx,
                                float def) {
    int64_t len = env->tokens_len, j, j0, j1, base;
    int32_t lo = idx.lo < 0 ? 0 : idx.lo;
    int64_t hi = (int64_t)idx.hi >= len ? len - 1 : idx.hi;
    mj_fi r = (idx.lo < 0 || (int64_t)idx.hi >= len) ? mj_fi_const(def) : mj_fi_none(0);
    if ((int64_t)lo > hi) return r;
    if ((int64_t)lo == hi)
        return mj_fi_hull(r, mj_fi_const(env->tokens[(int64_t)a * env->tokens_stride + lo].f));
    j0 = lo / s->block; j1 = hi / s->block; base = (int64_t)a * s->n_blocks;
    for (j = j0; j <= j1; j++)
        r = mj_fi_hull(r, mj_fi_from_summary_(s->tok_min[base + j].f, s->tok_max[base + j].f));
    return r;
}
/* Param arrays are short: the covered slots are scanned. */
MJ_SEM_FN mj_ii mj_ii_param_at(const mj_env *env, int32_t offset, int32_t count, mj_ii idx,
                               int32_t def) {
    int32_t lo = idx.lo < 0 ? 0 : idx.lo, hi = idx.hi >= count ? count - 1 : idx.hi, i;
    int outside = idx.lo < 0 || idx.hi >= count;
    mj_ii r = mj_ii_const(def);
    if (lo > hi) return r;
    if (!outside) r = mj_ii_const(env->params[offset + lo].i);
    for (i = lo; i <= hi; i++) r = mj_ii_hull(r, mj_ii_const(env->params[offset + i].i));
    return r;
}
MJ_SEM_FN mj_bi mj_bi_param_at(const mj_env *env, int32_t offset, int32_t count, mj_ii idx,
                               int32_t def) {
    mj_ii v = mj_ii_param_at(env, offset, count, idx, def);
    return mj_bi_from_(v.lo != 0 || v.hi != 0, v.lo <= 0 && v.hi >= 0);
}
MJ_SEM_FN mj_fi mj_fi_param_at(const mj_env *env, int32_t offset, int32_t count, mj_ii idx,
                               float def) {
    int32_t lo = idx.lo < 0 ? 0 : idx.lo, hi = idx.hi >= count ? count - 1 : idx.hi, i;
    mj_fi r = (idx.lo < 0 || idx.hi >= count) ? mj_fi_const(def) : mj_fi_none(0);
    for (i = lo; i <= hi; i++) r = mj_fi_hull(r, mj_fi_const(env->params[offset + i].f));
    return r;
}
/* heads array k over heads idx; 0.0f outside [0, n_heads). */
MJ_SEM_FN mj_fi mj_fi_heads_at(const mj_env *env, int32_t k, mj_ii idx) {
    int32_t lo = idx.lo < 0 ? 0 : idx.lo, hi = idx.hi >= env->n_heads ? env->n_heads - 1 : idx.hi, i;
    mj_fi r = (idx.lo < 0 || idx.hi >= env->n_heads) ? mj_fi_const(0.0f) : mj_fi_none(0);
    for (i = lo; i <= hi; i++)
        r = mj_fi_hull(r, mj_fi_const(env->heads[(int64_t)k * env->n_heads + i]));
    return r;
}

#endif
