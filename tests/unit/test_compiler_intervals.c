/* test_compiler_intervals.c — soundness of the interval arithmetic of
 * mj_semantics.h Part 2 (used by every block classifier: interpreter, LLVM JIT,
 * CUDA): for every operation, random intervals (with INT_MIN/INT_MAX, zero,
 * ±inf, NaN, subnormals, empty float sets) and random points inside them; the
 * Part 1 scalar result must lie inside the interval result.  Plus pinned
 * precision cases (exact constants, one-block token reads, ...). */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "blocks.h"
#include "mj_semantics.h"
#include "support/testlib.h"

#define N_IV 10000  /* interval tuples per operation */
#define N_PT 8      /* points per tuple */

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng; }
static int32_t rnd_range(int32_t lo, int32_t hi) { return (int32_t)(lo + (int64_t)(rnd() % ((uint64_t)((int64_t)hi - lo) + 1))); }

static long n_cases;
static int n_fail;
/* Record one check; print only the first failures. */
#define EXPECT(ok, ...) do { n_cases++; if (!(ok)) { if (n_fail++ < 12) { fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } } while (0)

/* ---- random ints ---- */
static int32_t rnd_int(void) {
    static const int32_t edge[] = {INT32_MIN, INT32_MIN + 1, INT32_MAX, INT32_MAX - 1, -1, 0, 1, 2, -2,
                                   46341, -46341, 65536, -65536};
    switch (rnd() % 5) {
    case 0: return edge[rnd() % (sizeof edge / sizeof edge[0])];
    case 1: return rnd_range(-20, 20);
    case 2: return rnd_range(-1000, 1000);
    case 3: return (int32_t)(uint32_t)rnd();
    default: return rnd_range(-100000, 100000);
    }
}
static mj_ii rnd_ii(void) {
    int32_t a = rnd_int(), b = rnd() % 3 == 0 ? a : rnd_int();
    if (rnd() % 3 == 0 && a < INT32_MAX - 64) b = a + (int32_t)(rnd() % 64);
    return a <= b ? mj_ii_make(a, b) : mj_ii_make(b, a);
}
static int32_t pt_ii(mj_ii a) {
    uint64_t w = (uint64_t)((int64_t)a.hi - a.lo);
    switch (rnd() % 4) {
    case 0: return a.lo;
    case 1: return a.hi;
    case 2: {
        int32_t c = (int32_t)(rnd() % 3) - 1;   /* -1, 0, 1: the interesting points */
        if (a.lo <= c && c <= a.hi) return c;
    }
        /* fallthrough */
    default: return (int32_t)(a.lo + (int64_t)(rnd() % (w + 1)));
    }
}
static int in_ii(mj_ii r, int32_t x) { return r.lo <= r.hi && r.lo <= x && x <= r.hi; }

/* ---- random floats ---- */
static int32_t fkey(float f) { int32_t b; memcpy(&b, &f, 4); return b >= 0 ? b : b ^ 0x7fffffff; }
static float fkey_inv(int32_t k) { int32_t b = k >= 0 ? k : k ^ 0x7fffffff; float f; memcpy(&f, &b, 4); return f; }
static float rnd_float(void) {
    static const float edge[] = {-INFINITY, INFINITY, -FLT_MAX, FLT_MAX, 0.0f, -0.0f, 1.0f, -1.0f,
                                 0.5f, -0.5f, 2.0f, 3.0f, -3.0f, 1e-40f, -1e-40f, FLT_MIN, 1e30f,
                                 -1e30f, 88.7f, 89.0f, -104.0f, 16777216.0f, 2147483648.0f,
                                 -2147483648.0f, 100.0f, 0.1f};
    switch (rnd() % 5) {
    case 0: case 1: return edge[rnd() % (sizeof edge / sizeof edge[0])];
    case 2: return (float)rnd_range(-50, 50);
    case 3: return (float)rnd_range(-1000, 1000) / 64.0f;
    default: {
        float f = fkey_inv((int32_t)(uint32_t)rnd());
        return isnan(f) ? 1.25f : f;
    }
    }
}
static mj_fi rnd_fi(void) {
    float a = rnd_float(), b = rnd() % 4 == 0 ? a : rnd_float();
    int nan = rnd() % 4 == 0;
    if (rnd() % 40 == 0) return mj_fi_none(1);
    return a <= b ? mj_fi_make(a, b, nan) : mj_fi_make(b, a, nan);
}
static float pt_fi(mj_fi a) {
    if (a.nan && (mj_fi_empty(a) || rnd() % 6 == 0)) return NAN;
    if (mj_fi_empty(a)) return NAN;   /* unreachable: callers skip */
    switch (rnd() % 5) {
    case 0: return a.lo;
    case 1: return a.hi;
    case 2: if (a.lo <= 0.0f && a.hi >= 0.0f) return rnd() % 2 ? 0.0f : -0.0f;
            /* fallthrough */
    default: {
        int64_t k0 = fkey(a.lo), k1 = fkey(a.hi);
        if (k1 < k0) return a.lo;   /* [+0, -0] */
        float f = fkey_inv((int32_t)(k0 + (int64_t)(rnd() % (uint64_t)(k1 - k0 + 1))));
        return f;
    }
    }
}
static int in_fi(mj_fi r, float x) { return isnan(x) ? r.nan != 0 : (r.lo <= x && x <= r.hi); }
static int reachable(mj_fi a) { return !mj_fi_empty(a) || a.nan; }

/* ---- bools ---- */
static mj_bi rnd_bi(void) { return (mj_bi)(1 + rnd() % 3); }
static int pt_bi(mj_bi a) { if (a == MJ_BI_ANY) return (int)(rnd() % 2); return a == MJ_BI_TRUE; }
static int in_bi(mj_bi r, int x) { return (r & (x ? MJ_BI_TRUE : MJ_BI_FALSE)) != 0; }

/* ---- int ops ---- */
typedef mj_ii (*ii2_fn)(mj_ii, mj_ii);
typedef int32_t (*i2_fn)(int32_t, int32_t);
static void check_ii2(const char *name, ii2_fn f, i2_fn s) {
    n_fail = 0;
    for (int t = 0; t < N_IV; t++) {
        mj_ii a = rnd_ii(), b = rnd_ii(), r = f(a, b);
        for (int k = 0; k < N_PT; k++) {
            int32_t x = pt_ii(a), y = pt_ii(b), z = s(x, y);
            EXPECT(in_ii(r, z), "%s([%d,%d],[%d,%d]) = [%d,%d] misses %s(%d,%d) = %d", name, a.lo,
                   a.hi, b.lo, b.hi, r.lo, r.hi, name, x, y, z);
        }
    }
    CHECKF(n_fail == 0, "%s: %d unsound", name, n_fail);
}
static int32_t s_min(int32_t a, int32_t b) { return mj_imin(a, b); }
static int32_t s_max(int32_t a, int32_t b) { return mj_imax(a, b); }

typedef mj_bi (*iicmp_fn)(mj_ii, mj_ii);
static int c_lt(int32_t a, int32_t b) { return a < b; }
static int c_le(int32_t a, int32_t b) { return a <= b; }
static int c_gt(int32_t a, int32_t b) { return a > b; }
static int c_ge(int32_t a, int32_t b) { return a >= b; }
static int c_eq(int32_t a, int32_t b) { return a == b; }
static int c_ne(int32_t a, int32_t b) { return a != b; }
static void check_iicmp(const char *name, iicmp_fn f, int (*s)(int32_t, int32_t)) {
    n_fail = 0;
    for (int t = 0; t < N_IV; t++) {
        mj_ii a = rnd_ii(), b = rnd() % 4 == 0 ? a : rnd_ii();
        mj_bi r = f(a, b);
        for (int k = 0; k < N_PT; k++) {
            int32_t x = pt_ii(a), y = pt_ii(b);
            EXPECT(in_bi(r, s(x, y)), "%s([%d,%d],[%d,%d]) = %d misses %d,%d", name, a.lo, a.hi,
                   b.lo, b.hi, r, x, y);
        }
    }
    CHECKF(n_fail == 0, "%s: %d unsound", name, n_fail);
}

static void check_int_ops(void) {
    check_ii2("mj_ii_add", mj_ii_add, mj_iadd);
    check_ii2("mj_ii_sub", mj_ii_sub, mj_isub);
    check_ii2("mj_ii_mul", mj_ii_mul, mj_imul);
    check_ii2("mj_ii_div", mj_ii_div, mj_idiv);
    check_ii2("mj_ii_mod", mj_ii_mod, mj_imod);
    check_ii2("mj_ii_min", mj_ii_min, s_min);
    check_ii2("mj_ii_max", mj_ii_max, s_max);
    check_iicmp("mj_ii_lt", mj_ii_lt, c_lt);
    check_iicmp("mj_ii_le", mj_ii_le, c_le);
    check_iicmp("mj_ii_gt", mj_ii_gt, c_gt);
    check_iicmp("mj_ii_ge", mj_ii_ge, c_ge);
    check_iicmp("mj_ii_eq", mj_ii_eq, c_eq);
    check_iicmp("mj_ii_ne", mj_ii_ne, c_ne);
    n_fail = 0;
    for (int t = 0; t < N_IV; t++) {
        mj_ii a = rnd_ii(), b = rnd_ii(), c = rnd_ii();
        mj_ii rn = mj_ii_neg(a), ra = mj_ii_abs(a), rc = mj_ii_clamp(a, b, c);
        mj_fi rf = mj_ii_to_fi(a);
        for (int k = 0; k < N_PT; k++) {
            int32_t x = pt_ii(a), y = pt_ii(b), z = pt_ii(c);
            EXPECT(in_ii(rn, mj_ineg(x)), "neg [%d,%d] misses %d", a.lo, a.hi, x);
            EXPECT(in_ii(ra, mj_iabs(x)), "abs [%d,%d] misses %d", a.lo, a.hi, x);
            EXPECT(in_ii(rc, mj_iclamp(x, y, z)), "clamp misses %d %d %d", x, y, z);
            EXPECT(in_fi(rf, (float)x), "to_fi [%d,%d] misses %d", a.lo, a.hi, x);
        }
    }
    CHECKF(n_fail == 0, "int unary: %d unsound", n_fail);
}

/* ---- float ops ---- */
typedef mj_fi (*fi2_fn)(mj_fi, mj_fi);
static float s_fadd(float a, float b) { return a + b; }
static float s_fsub(float a, float b) { return a - b; }
static float s_fmul(float a, float b) { return a * b; }
static float s_fdiv(float a, float b) { return a / b; }
static float s_fmod(float a, float b) { return fmodf(a, b); }
static float s_fmin(float a, float b) { return fminf(a, b); }
static float s_fmax(float a, float b) { return fmaxf(a, b); }
static void check_fi2(const char *name, fi2_fn f, float (*s)(float, float)) {
    n_fail = 0;
    for (int t = 0; t < N_IV; t++) {
        mj_fi a = rnd_fi(), b = rnd_fi(), r = f(a, b);
        if (!reachable(a) || !reachable(b)) continue;
        for (int k = 0; k < N_PT; k++) {
            float x = pt_fi(a), y = pt_fi(b), z = s(x, y);
            EXPECT(in_fi(r, z), "%s([%g,%g|%d],[%g,%g|%d]) = [%g,%g|%d] misses %s(%g,%g) = %g", name,
                   a.lo, a.hi, a.nan, b.lo, b.hi, b.nan, r.lo, r.hi, r.nan, name, x, y, z);
        }
    }
    CHECKF(n_fail == 0, "%s: %d unsound", name, n_fail);
}
typedef mj_fi (*fi1_fn)(mj_fi);
static float s_fneg(float a) { return -a; }
static void check_fi1(const char *name, fi1_fn f, float (*s)(float)) {
    n_fail = 0;
    for (int t = 0; t < N_IV; t++) {
        mj_fi a = rnd_fi(), r = f(a);
        if (!reachable(a)) continue;
        for (int k = 0; k < N_PT; k++) {
            float x = pt_fi(a), z = s(x);
            EXPECT(in_fi(r, z), "%s([%g,%g|%d]) = [%g,%g|%d] misses %s(%g) = %g", name, a.lo, a.hi,
                   a.nan, r.lo, r.hi, r.nan, name, x, z);
        }
    }
    CHECKF(n_fail == 0, "%s: %d unsound", name, n_fail);
}
typedef mj_bi (*ficmp_fn)(mj_fi, mj_fi);
static int f_lt(float a, float b) { return a < b; }
static int f_le(float a, float b) { return a <= b; }
static int f_gt(float a, float b) { return a > b; }
static int f_ge(float a, float b) { return a >= b; }
static int f_eq(float a, float b) { return a == b; }
static int f_ne(float a, float b) { return a != b; }
static void check_ficmp(const char *name, ficmp_fn f, int (*s)(float, float)) {
    n_fail = 0;
    for (int t = 0; t < N_IV; t++) {
        mj_fi a = rnd_fi(), b = rnd() % 4 == 0 ? a : rnd_fi();
        mj_bi r = f(a, b);
        if (!reachable(a) || !reachable(b)) continue;
        for (int k = 0; k < N_PT; k++) {
            float x = pt_fi(a), y = pt_fi(b);
            EXPECT(in_bi(r, s(x, y)), "%s([%g,%g|%d],[%g,%g|%d]) = %d misses %g,%g", name, a.lo,
                   a.hi, a.nan, b.lo, b.hi, b.nan, r, x, y);
        }
    }
    CHECKF(n_fail == 0, "%s: %d unsound", name, n_fail);
}

static void check_float_ops(void) {
    check_fi2("mj_fi_add", mj_fi_add, s_fadd);
    check_fi2("mj_fi_sub", mj_fi_sub, s_fsub);
    check_fi2("mj_fi_mul", mj_fi_mul, s_fmul);
    check_fi2("mj_fi_div", mj_fi_div, s_fdiv);
    check_fi2("mj_fi_mod", mj_fi_mod, s_fmod);
    check_fi2("mj_fi_min", mj_fi_min, s_fmin);
    check_fi2("mj_fi_max", mj_fi_max, s_fmax);
    check_fi1("mj_fi_neg", mj_fi_neg, s_fneg);
    check_fi1("mj_fi_abs", mj_fi_abs, fabsf);
    check_fi1("mj_fi_exp", mj_fi_exp, expf);
    check_fi1("mj_fi_log", mj_fi_log, logf);
    check_fi1("mj_fi_sqrt", mj_fi_sqrt, sqrtf);
    check_fi1("mj_fi_tanh", mj_fi_tanh, tanhf);
    check_ficmp("mj_fi_lt", mj_fi_lt, f_lt);
    check_ficmp("mj_fi_le", mj_fi_le, f_le);
    check_ficmp("mj_fi_gt", mj_fi_gt, f_gt);
    check_ficmp("mj_fi_ge", mj_fi_ge, f_ge);
    check_ficmp("mj_fi_eq", mj_fi_eq, f_eq);
    check_ficmp("mj_fi_ne", mj_fi_ne, f_ne);
    n_fail = 0;
    for (int t = 0; t < N_IV; t++) {
        mj_fi a = rnd_fi(), b = rnd_fi(), c = rnd_fi();
        mj_fi rc;
        mj_ii ri;
        if (!reachable(a) || !reachable(b) || !reachable(c)) continue;
        rc = mj_fi_clamp(a, b, c);
        ri = mj_fi_to_ii(a);
        for (int k = 0; k < N_PT; k++) {
            float x = pt_fi(a), y = pt_fi(b), z = pt_fi(c);
            EXPECT(in_fi(rc, mj_fclamp(x, y, z)), "fclamp misses %g %g %g", x, y, z);
            EXPECT(in_ii(ri, mj_f2i(x)), "to_ii [%g,%g|%d] = [%d,%d] misses %g", a.lo, a.hi, a.nan,
                   ri.lo, ri.hi, x);
        }
    }
    CHECKF(n_fail == 0, "float clamp/to_ii: %d unsound", n_fail);
}

/* ---- bools and select ---- */
static void check_bool_ops(void) {
    n_fail = 0;
    for (int t = 0; t < N_IV; t++) {
        mj_bi a = rnd_bi(), b = rnd_bi(), c = rnd_bi();
        mj_ii ia = rnd_ii(), ib = rnd_ii();
        mj_fi fa = rnd_fi(), fb = rnd_fi();
        mj_ii ri = mj_ii_select(c, ia, ib);
        mj_fi rf = mj_fi_select(c, fa, fb);
        mj_bi rb = mj_bi_select(c, a, b);
        for (int k = 0; k < N_PT; k++) {
            int x = pt_bi(a), y = pt_bi(b), z = pt_bi(c);
            EXPECT(in_bi(mj_bi_and(a, b), x && y), "and %d %d", a, b);
            EXPECT(in_bi(mj_bi_or(a, b), x || y), "or %d %d", a, b);
            EXPECT(in_bi(mj_bi_not(a), !x), "not %d", a);
            EXPECT(in_bi(mj_bi_eq(a, b), x == y), "eq %d %d", a, b);
            EXPECT(in_bi(mj_bi_ne(a, b), x != y), "ne %d %d", a, b);
            EXPECT(in_bi(rb, z ? x : y), "bi_select");
            {
                int32_t u = pt_ii(ia), v = pt_ii(ib);
                EXPECT(in_ii(ri, z ? u : v), "ii_select");
            }
            if (reachable(fa) && reachable(fb)) {
                float u = pt_fi(fa), v = pt_fi(fb);
                EXPECT(in_fi(rf, z ? u : v), "fi_select");
            }
        }
        /* precision: a known condition picks one side */
        EXPECT(mj_bi_and(MJ_BI_FALSE, c) == MJ_BI_FALSE && mj_bi_or(MJ_BI_TRUE, c) == MJ_BI_TRUE,
               "and/or with a known side");
    }
    CHECKF(n_fail == 0, "bool ops: %d unsound", n_fail);
}

/* ---- leaves ---- */
static void check_leaves(void) {
    enum { LEN = 300, STRIDE = 320 };
    static mj_value tv[3 * STRIDE];
    static mj_value pv[40];
    static float hv[2 * 8];
    mj_tokens tk[3] = {{.type = MJ_T_INT, .def = {.i = -1}}, {.type = MJ_T_FLOAT, .def = {.f = 0.5f}},
                       {.type = MJ_T_BOOL, .def = {.i = 0}}};
    mj_program p = {.tokens = tk, .n_tokens = 3};
    n_fail = 0;
    for (int round = 0; round < 60; round++) {
        int64_t len = rnd() % 4 == 0 ? (int64_t)(rnd() % 5) : LEN - (int64_t)(rnd() % 50);
        int32_t block = 1 + (int32_t)(rnd() % 64), nh = (int32_t)(rnd() % 8);
        int32_t cnt = (int32_t)(rnd() % 20);
        mj_env env = {.n_heads = nh, .tokens_len = len, .tokens_stride = STRIDE, .params = pv,
                      .tokens = tv, .heads = hv};
        mj_summary s;
        for (int i = 0; i < STRIDE; i++) {
            tv[i].i = rnd() % 3 == 0 ? rnd_range(-3, 3) : (i / 37);
            tv[STRIDE + i].f = rnd() % 50 == 0 ? NAN : (float)rnd_range(-100, 100) / 8.0f;
            tv[2 * STRIDE + i].i = rnd() % 5 == 0 ? rnd_range(0, 2) : (i / 50) % 2;
        }
        for (int i = 0; i < 40; i++) pv[i].i = rnd() % 4 == 0 ? rnd_range(-9, 9) : i % 2;
        for (int i = 0; i < 16; i++) hv[i] = rnd() % 20 == 0 ? NAN : (float)rnd_range(-8, 8) / 4.0f;
        if (mj_summary_build(&p, &env, block, &s) != 0) { CHECK(0); return; }
        for (int t = 0; t < 200; t++) {
            mj_ii idx = rnd() % 2 ? mj_ii_make(rnd_range(-5, 310), 0) : rnd_ii();
            mj_ii ri, rpi; mj_fi rf, rh, rpf; mj_bi rb, rpb;
            if (rnd() % 2 == 0) {
                int64_t h = (int64_t)idx.lo + rnd_range(0, 140);
                idx.hi = h > INT32_MAX ? INT32_MAX : (int32_t)h;
            }
            else if (idx.hi < idx.lo) idx.hi = idx.lo;
            ri = mj_ii_tokens_at(&env, &s, 0, idx, -1);
            rf = mj_fi_tokens_at(&env, &s, 1, idx, 0.5f);
            rb = mj_bi_tokens_at(&env, &s, 2, idx, 0);
            rpi = mj_ii_param_at(&env, 3, cnt, idx, 42);
            rpf = mj_fi_param_at(&env, 3, cnt, idx, -2.0f);
            rpb = mj_bi_param_at(&env, 3, cnt, idx, 1);
            rh = mj_fi_heads_at(&env, 1, idx);
            for (int k = 0; k < N_PT; k++) {
                int32_t i = pt_ii(idx);
                mj_value dv = {.i = -1}, df = {.f = 0.5f}, db = {.i = 0}, d42 = {.i = 42}, dm2 = {.f = -2.0f}, d1 = {.i = 1};
                EXPECT(in_ii(ri, mj_tokens_at(&env, 0, i, dv).i), "ii_tokens_at idx %d", i);
                EXPECT(in_fi(rf, mj_tokens_at(&env, 1, i, df).f), "fi_tokens_at idx %d", i);
                EXPECT(in_bi(rb, mj_tokens_at(&env, 2, i, db).i != 0), "bi_tokens_at idx %d", i);
                EXPECT(in_ii(rpi, mj_param_at(&env, 3, cnt, i, d42).i), "ii_param_at idx %d", i);
                EXPECT(in_fi(rpf, mj_param_at(&env, 3, cnt, i, dm2).f), "fi_param_at idx %d", i);
                EXPECT(in_bi(rpb, mj_param_at(&env, 3, cnt, i, d1).i != 0), "bi_param_at idx %d", i);
                EXPECT(in_fi(rh, mj_heads_at(&env, 1, i)), "heads_at idx %d", i);
            }
        }
        mj_summary_free(&s);
    }
    CHECKF(n_fail == 0, "leaves: %d unsound", n_fail);
}

/* ---- precision pins ---- */
static void check_precision(void) {
    mj_fi a = mj_fi_add(mj_fi_const(1.0f), mj_fi_const(2.0f));
    CHECK(a.lo == 3.0f && a.hi == 3.0f && !a.nan);
    a = mj_fi_mul(mj_fi_const(0.5f), mj_fi_make(2.0f, 4.0f, 0));
    CHECK(a.lo == 1.0f && a.hi == 2.0f && !a.nan);
    a = mj_fi_div(mj_fi_const(1.0f), mj_fi_const(3.0f));
    CHECK(a.lo < 1.0f / 3.0f && a.hi > 1.0f / 3.0f && a.hi == nextafterf(nextafterf(a.lo, 1), 1));
    CHECK(mj_fi_eq(mj_fi_const(3.0f), mj_fi_add(mj_fi_const(1.0f), mj_fi_const(2.0f))) == MJ_BI_TRUE);
    CHECK(mj_fi_lt(mj_fi_make(0, 1, 1), mj_fi_const(2.0f)) == MJ_BI_ANY);
    CHECK(mj_fi_lt(mj_fi_make(0, 1, 0), mj_fi_const(2.0f)) == MJ_BI_TRUE);
    CHECK(mj_fi_ne(mj_fi_none(1), mj_fi_const(2.0f)) == MJ_BI_TRUE);
    CHECK(mj_ii_le(mj_ii_make(0, 63), mj_ii_make(64, 127)) == MJ_BI_TRUE);
    CHECK(mj_ii_le(mj_ii_make(64, 127), mj_ii_make(0, 63)) == MJ_BI_FALSE);
    CHECK(mj_ii_le(mj_ii_make(0, 63), mj_ii_make(0, 63)) == MJ_BI_ANY);
    CHECK(mj_ii_eq(mj_ii_const(2), mj_ii_const(2)) == MJ_BI_TRUE);
    {
        mj_ii d = mj_ii_div(mj_ii_make(0, 100), mj_ii_const(10));
        mj_ii m = mj_ii_mod(mj_ii_make(3, 5), mj_ii_const(8));
        mj_ii m2 = mj_ii_mod(mj_ii_make(17, 19), mj_ii_const(8));
        CHECK(d.lo == 0 && d.hi == 10);
        CHECK(m.lo == 3 && m.hi == 5);
        CHECK(m2.lo == 1 && m2.hi == 3);
        CHECK(mj_ii_add(mj_ii_const(INT32_MAX), mj_ii_const(1)).lo == INT32_MIN);
    }
    CHECK(mj_bi_block(MJ_BI_TRUE) == MJ_BLOCK_FULL && mj_bi_block(MJ_BI_FALSE) == MJ_BLOCK_EMPTY &&
          mj_bi_block(MJ_BI_ANY) == MJ_BLOCK_PARTIAL);
}

int main(void) {
    check_int_ops();
    check_float_ops();
    check_bool_ops();
    check_leaves();
    check_precision();
    printf("%ld interval cases\n", n_cases);
    return mj_test_finish();
}
