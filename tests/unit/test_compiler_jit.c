/* test_compiler_jit.c — unit tests of the LLVM back end on programs built by
 * hand (no parser needed): struct layout of mj_env/mj_summary/mj_region in IR
 * vs C, every field read by JIT'd code, the edge cases of every operator and
 * function against mj_semantics.h (bit-identical), bounds-checked reads,
 * memoisation of shared sub-trees, textual IR, error-free init/free cycles. */
#include <float.h>
#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "arena.h"
#include "blocks.h"
#include "compile.h"
#include "interp.h"
#include "jit.h"
#include "jit_internal.h"
#include "mj_semantics.h"
#include "support/testlib.h"

/* ---- building IR by hand ---------------------------------------------------- */

static mj_arena *A;

static mj_expr *node(mj_ekind k, mj_type t, int nargs, mj_expr *a0, mj_expr *a1, mj_expr *a2) {
    mj_expr *e = mj_arena_alloc(A, sizeof *e);
    e->kind = k;
    e->type = t;
    e->nargs = nargs;
    e->a[0] = a0;
    e->a[1] = a1;
    e->a[2] = a2;
    return e;
}
static mj_expr *cnode(mj_type t, int32_t i, float f) {
    mj_expr *e = node(MJ_E_CONST, t, 0, 0, 0, 0);
    if (t == MJ_T_FLOAT) e->v.f = f;
    else e->v.i = i;
    return e;
}
static mj_expr *ci(int32_t v) { return cnode(MJ_T_INT, v, 0); }
static mj_expr *cf(float v) { return cnode(MJ_T_FLOAT, 0, v); }
static mj_expr *cb(int v) { return cnode(MJ_T_BOOL, v != 0, 0); }
static mj_expr *bi(mj_builtin b) {
    mj_expr *e = node(MJ_E_BUILTIN, b == MJ_B_SCORE ? MJ_T_FLOAT : MJ_T_INT, 0, 0, 0, 0);
    e->u.builtin = b;
    return e;
}
static mj_expr *bin(mj_op op, mj_expr *a, mj_expr *b) {
    mj_type t = op >= MJ_OP_LT ? MJ_T_BOOL : a->type;
    mj_expr *e = node(MJ_E_BINARY, t, 2, a, b, 0);
    e->u.op = op;
    return e;
}
static mj_expr *un(mj_op op, mj_expr *a) {
    mj_expr *e = node(MJ_E_UNARY, a->type, 1, a, 0, 0);
    e->u.op = op;
    return e;
}
static mj_expr *sel(mj_expr *c, mj_expr *a, mj_expr *b) {
    return node(MJ_E_SELECT, a->type, 3, c, a, b);
}
static mj_expr *fn(mj_fn f, int n, mj_expr *a, mj_expr *b, mj_expr *c) {
    mj_expr *e = node(MJ_E_CALL, a->type, n, a, b, c);
    e->u.fn = f;
    return e;
}
static mj_expr *tof(mj_expr *a) { return node(MJ_E_TO_FLOAT, MJ_T_FLOAT, 1, a, 0, 0); }
static mj_expr *toi(mj_expr *a) { return node(MJ_E_TO_INT, MJ_T_INT, 1, a, 0, 0); }
static mj_expr *idx(mj_ekind k, mj_type t, int32_t index, mj_expr *i) {
    mj_expr *e = node(k, t, i ? 1 : 0, i, 0, 0);
    e->u.index = index;
    return e;
}

/* Params: x:int, y:int, z:int, fx:float, fy:float, fz:float, arr:int[4] = 7,
 * farr: float[3] = 2.5, flag: bool.  Tokens: seg:int=-1, w:float=0.5,
 * on:bool=true.  Heads: slope, bias. */
enum { PX, PY, PZ, PFX, PFY, PFZ, PARR, PFARR, PFLAG, NPARAMS };
static mj_param params[NPARAMS] = {
    {"x", MJ_T_INT, false, 1, 0, {0}, true, {0}},
    {"y", MJ_T_INT, false, 1, 1, {0}, true, {0}},
    {"z", MJ_T_INT, false, 1, 2, {0}, true, {0}},
    {"fx", MJ_T_FLOAT, false, 1, 3, {0}, true, {0}},
    {"fy", MJ_T_FLOAT, false, 1, 4, {0}, true, {0}},
    {"fz", MJ_T_FLOAT, false, 1, 5, {0}, true, {0}},
    {"arr", MJ_T_INT, true, 4, 6, {.i = 7}, true, {0}},
    {"farr", MJ_T_FLOAT, true, 3, 10, {.f = 2.5f}, true, {0}},
    {"flag", MJ_T_BOOL, false, 1, 13, {0}, true, {0}},
};
#define NSLOTS 14
static mj_tokens tokens[3] = {{"seg", MJ_T_INT, {.i = -1}, true, {0}},
                              {"w", MJ_T_FLOAT, {.f = 0.5f}, true, {0}},
                              {"on", MJ_T_BOOL, {.i = 1}, true, {0}}};
static mj_heads heads[2] = {{"slope", true, {0}}, {"bias", true, {0}}};

static mj_expr *P(int k) {
    return idx(MJ_E_PARAM, params[k].type, k, NULL);
}

static mj_program prog(mj_expr *mask, mj_expr *score, mj_expr *position) {
    mj_program p;
    memset(&p, 0, sizeof p);
    p.path = "<test>";
    p.params = params;
    p.n_params = NPARAMS;
    p.n_param_slots = NSLOTS;
    p.tokens = tokens;
    p.n_tokens = 3;
    p.heads = heads;
    p.n_heads = 2;
    p.mask = mask ? mask : cb(1);
    p.score = score;
    p.position = position;
    return p;
}

static mj_jit *jit_or_fail(const mj_program *p) {
    mj_diags d;
    mj_diags_init(&d);
    mj_jit *j = mj_jit_init(p, &d);
    if (!j) mj_diags_print(&d, stderr);
    CHECK(j != NULL);
    mj_diags_free(&d);
    return j;
}

/* ---- environment ------------------------------------------------------------- */

#define TLEN 5
#define TSTRIDE 7
#define NH 3
static mj_value slots[NSLOTS];
static mj_value toks[3 * TSTRIDE];
static float hvals[2 * NH] = {0.25f, -1.5f, 3.0f, 10.0f, 20.0f, 30.0f};

static mj_env make_env(void) {
    mj_env env;
    memset(&env, 0, sizeof env);
    env.n_heads = NH;
    env.prompt_len = 11;
    env.seq_len = 13;
    env.b = 17;
    env.tokens_len = TLEN;
    env.tokens_stride = TSTRIDE;
    env.params = slots;
    env.tokens = toks;
    env.heads = hvals;
    for (int i = 0; i < 3 * TSTRIDE; i++) toks[i].i = 1000 + i;
    for (int i = 0; i < TSTRIDE; i++) toks[TSTRIDE + i].f = 0.125f * (float)i;
    for (int i = 0; i < TSTRIDE; i++) toks[2 * TSTRIDE + i].i = i & 1;
    for (int i = 0; i < 4; i++) slots[6 + i].i = 100 + i;
    for (int i = 0; i < 3; i++) slots[10 + i].f = -1.0f - (float)i;
    slots[13].i = 1;
    return env;
}

static int same_float(float a, float b) {
    if (a != a && b != b) return 1;
    uint32_t x, y;
    memcpy(&x, &a, 4);
    memcpy(&y, &b, 4);
    return x == y;
}

/* ---- layout ------------------------------------------------------------------ */

static void test_layout(void) {
    char msg[256] = "";
    CHECKF(mj_jit_check_layout(msg, sizeof msg) == 0, "%s", msg);

    /* position = [n_heads, prompt_len, seq_len, b, seg[q], seg via stride, arr[1]][x] */
    mj_expr *x = P(PX);
    mj_expr *e = idx(MJ_E_PARAM_AT, MJ_T_INT, PARR, ci(1));
    mj_expr *fields[6] = {bi(MJ_B_N_HEADS), bi(MJ_B_PROMPT_LEN), bi(MJ_B_SEQ_LEN), bi(MJ_B_B),
                          idx(MJ_E_TOKENS_AT, MJ_T_INT, 0, bi(MJ_B_Q)),
                          toi(idx(MJ_E_TOKENS_AT, MJ_T_FLOAT, 1, bi(MJ_B_Q)))};
    for (int k = 5; k >= 0; k--) e = sel(bin(MJ_OP_EQ, x, ci(k)), fields[k], e);
    mj_expr *score = bin(MJ_OP_ADD, idx(MJ_E_HEADS_AT, MJ_T_FLOAT, 1, bi(MJ_B_H)), bi(MJ_B_SCORE));
    mj_expr *mask = idx(MJ_E_TOKENS_AT, MJ_T_BOOL, 2, bi(MJ_B_KV));
    mj_program p = prog(mask, score, e);
    mj_jit *j = jit_or_fail(&p);
    if (!j) return;
    mj_mask_fns f = mj_jit_fns(j);
    CHECK(f.mask && f.score && f.position && f.classify);
    mj_env env = make_env();
    int32_t want[7] = {NH, 11, 13, 17, 1000 + 2, 0, 101};
    for (int k = 0; k < 7; k++) {
        slots[PX].i = k;
        int32_t got = f.position(NULL, &env, 2);
        CHECKF(got == want[k], "field %d: %d != %d", k, got, want[k]);
    }
    slots[PX].i = 4;
    CHECK(f.position(NULL, &env, TLEN - 1) == 1000 + TLEN - 1);
    CHECK(f.position(NULL, &env, TLEN) == -1);   /* tokens_len bounds the read */
    CHECK(f.position(NULL, &env, -1) == -1);
    slots[PX].i = 5;
    toks[TSTRIDE + 3].f = 42.75f;                /* row 1 starts at tokens_stride */
    CHECK(f.position(NULL, &env, 3) == 42);
    CHECK(same_float(f.score(NULL, &env, 0, 0, 2, 1.0f), 31.0f));
    CHECK(same_float(f.score(NULL, &env, 0, 0, NH, 1.0f), 1.0f));
    CHECK(same_float(f.score(NULL, &env, 0, 0, -1, 1.0f), 1.0f));
    CHECK(f.mask(NULL, &env, 0, 1, 0) == true && f.mask(NULL, &env, 0, 2, 0) == false);
    CHECK(f.mask(NULL, &env, 0, TLEN + 1, 0) == true); /* default true */
    mj_jit_free(j);
}

/* ---- operators against mj_semantics.h ------------------------------------------- */

enum {
    I_ADD, I_SUB, I_MUL, I_DIV, I_MOD, I_MIN, I_MAX, I_ABS, I_NEG, I_CLAMP, I_TOF,
    I_LT, I_LE, I_GT, I_GE, I_EQ, I_NE,
    F_ADD, F_SUB, F_MUL, F_DIV, F_MOD, F_MIN, F_MAX, F_ABS, F_NEG, F_CLAMP, F_EXP, F_LOG,
    F_SQRT, F_TANH, F_TOI, F_LT, F_LE, F_GT, F_GE, F_EQ, F_NE, N_OPS
};
static const mj_op cmp_ops[6] = {MJ_OP_LT, MJ_OP_LE, MJ_OP_GT, MJ_OP_GE, MJ_OP_EQ, MJ_OP_NE};
static const mj_op arith_ops[5] = {MJ_OP_ADD, MJ_OP_SUB, MJ_OP_MUL, MJ_OP_DIV, MJ_OP_MOD};

static int op_is_float(int op) { return op >= F_ADD; }
/* result type of op */
static mj_type op_type(int op) {
    if ((op >= I_LT && op <= I_NE) || op >= F_LT) return MJ_T_BOOL;
    if (op == I_TOF) return MJ_T_FLOAT;
    if (op == F_TOI) return MJ_T_INT;
    return op_is_float(op) ? MJ_T_FLOAT : MJ_T_INT;
}

static mj_expr *build_op(int op, mj_expr *a, mj_expr *b, mj_expr *c) {
    int base = op_is_float(op) ? F_ADD : I_ADD;
    int k = op - base;
    if (k <= 4) return bin(arith_ops[k], a, b);
    if (op >= I_LT && op <= I_NE) return bin(cmp_ops[op - I_LT], a, b);
    if (op >= F_LT) return bin(cmp_ops[op - F_LT], a, b);
    switch (op) {
    case I_MIN: case F_MIN: return fn(MJ_FN_MIN, 2, a, b, NULL);
    case I_MAX: case F_MAX: return fn(MJ_FN_MAX, 2, a, b, NULL);
    case I_ABS: case F_ABS: return fn(MJ_FN_ABS, 1, a, NULL, NULL);
    case I_NEG: case F_NEG: return un(MJ_OP_NEG, a);
    case I_CLAMP: case F_CLAMP: return fn(MJ_FN_CLAMP, 3, a, b, c);
    case I_TOF: return tof(a);
    case F_TOI: return toi(a);
    case F_EXP: return fn(MJ_FN_EXP, 1, a, NULL, NULL);
    case F_LOG: return fn(MJ_FN_LOG, 1, a, NULL, NULL);
    case F_SQRT: return fn(MJ_FN_SQRT, 1, a, NULL, NULL);
    case F_TANH: return fn(MJ_FN_TANH, 1, a, NULL, NULL);
    }
    return NULL;
}

static mj_value ref_op(int op, mj_value a, mj_value b, mj_value c) {
    mj_value r;
    r.i = 0;
    float x = a.f, y = b.f;
    switch (op) {
    case I_ADD: r.i = mj_iadd(a.i, b.i); break;
    case I_SUB: r.i = mj_isub(a.i, b.i); break;
    case I_MUL: r.i = mj_imul(a.i, b.i); break;
    case I_DIV: r.i = mj_idiv(a.i, b.i); break;
    case I_MOD: r.i = mj_imod(a.i, b.i); break;
    case I_MIN: r.i = mj_imin(a.i, b.i); break;
    case I_MAX: r.i = mj_imax(a.i, b.i); break;
    case I_ABS: r.i = mj_iabs(a.i); break;
    case I_NEG: r.i = mj_ineg(a.i); break;
    case I_CLAMP: r.i = mj_iclamp(a.i, b.i, c.i); break;
    case I_TOF: r.f = (float)a.i; break;
    case I_LT: r.i = a.i < b.i; break;
    case I_LE: r.i = a.i <= b.i; break;
    case I_GT: r.i = a.i > b.i; break;
    case I_GE: r.i = a.i >= b.i; break;
    case I_EQ: r.i = a.i == b.i; break;
    case I_NE: r.i = a.i != b.i; break;
    case F_ADD: r.f = x + y; break;
    case F_SUB: r.f = x - y; break;
    case F_MUL: r.f = x * y; break;
    case F_DIV: r.f = x / y; break;
    case F_MOD: r.f = fmodf(x, y); break;
    case F_MIN: r.f = fminf(x, y); break;
    case F_MAX: r.f = fmaxf(x, y); break;
    case F_ABS: r.f = fabsf(x); break;
    case F_NEG: r.f = -x; break;
    case F_CLAMP: r.f = mj_fclamp(x, y, c.f); break;
    case F_EXP: r.f = expf(x); break;
    case F_LOG: r.f = logf(x); break;
    case F_SQRT: r.f = sqrtf(x); break;
    case F_TANH: r.f = tanhf(x); break;
    case F_TOI: r.i = mj_f2i(x); break;
    case F_LT: r.i = x < y; break;
    case F_LE: r.i = x <= y; break;
    case F_GT: r.i = x > y; break;
    case F_GE: r.i = x >= y; break;
    case F_EQ: r.i = x == y; break;
    case F_NE: r.i = x != y; break;
    }
    return r;
}

static const int32_t ivals[] = {0, 1, -1, 2, -2, 3, 7, -7, 100, INT32_MIN, INT32_MAX,
                                INT32_MIN + 1, INT32_MAX - 1, 65536, -46341};
#define NIV ((int)(sizeof ivals / sizeof ivals[0]))
static float fvals[] = {0.0f, -0.0f, 1.0f, -1.0f, 0.5f, 1.5f, -2.5f, 3.0f, INFINITY, -INFINITY,
                        NAN, FLT_MIN, 1e-45f, FLT_MAX, -FLT_MAX, 3e9f, -3e9f, 2147483648.0f,
                        -2147483648.0f, 2147483520.0f, 88.7f, -104.0f, 1e-3f, 0.1f, 7.0f};
#define NFV ((int)(sizeof fvals / sizeof fvals[0]))

static mj_value nth_val(int is_float, int i) {
    mj_value v;
    if (is_float) v.f = fvals[i % NFV];
    else v.i = ivals[i % NIV];
    return v;
}

static mj_expr *const_of(int is_float, mj_value v) { return is_float ? cf(v.f) : ci(v.i); }

/* Run the JIT'd program's function for the op's result type. */
static mj_value run_fn(const mj_mask_fns *f, mj_type t, mj_env *env) {
    mj_value r;
    r.i = 0;
    if (t == MJ_T_BOOL) r.i = f->mask(NULL, env, 0, 0, 0);
    else if (t == MJ_T_FLOAT) r.f = f->score(NULL, env, 0, 0, 0, 0.0f);
    else r.i = f->position(NULL, env, 0);
    return r;
}

/* fminf/fmaxf may return either zero for (-0, +0): the C compiler treats them
 * as commutative and may swap the operands of the interpreter's call, so only
 * the value (not the sign of a zero result) is defined for min/max/clamp. */
static int same_value(int op, mj_type t, mj_value a, mj_value b) {
    if (op == F_MIN || op == F_MAX || op == F_CLAMP) return a.f == b.f || same_float(a.f, b.f);
    return t == MJ_T_FLOAT ? same_float(a.f, b.f) : a.i == b.i;
}

static mj_program prog_for(mj_type t, mj_expr *e) {
    if (t == MJ_T_BOOL) return prog(e, NULL, NULL);
    if (t == MJ_T_FLOAT) return prog(NULL, e, NULL);
    return prog(NULL, NULL, e);
}

/* Every op over every pair of table values: operands from params (run-time
 * values), then the same pairs as constants (what LLVM may fold). */
static void test_ops(void) {
    mj_env env = make_env();
    long checked = 0;
    for (int op = 0; op < N_OPS; op++) {
        int fl = op_is_float(op);
        mj_type t = op_type(op);
        int n = fl ? NFV : NIV;
        mj_expr *e = fl ? build_op(op, P(PFX), P(PFY), P(PFZ)) : build_op(op, P(PX), P(PY), P(PZ));
        mj_program p = prog_for(t, e);
        mj_jit *j = jit_or_fail(&p);
        if (!j) continue;
        mj_mask_fns f = mj_jit_fns(j);
        int bad = 0;
        for (int a = 0; a < n; a++) {
            for (int b = 0; b < n; b++) {
                mj_value va = nth_val(fl, a), vb = nth_val(fl, b), vc = nth_val(fl, a + b + 3);
                slots[fl ? PFX : PX] = va;
                slots[fl ? PFY : PY] = vb;
                slots[fl ? PFZ : PZ] = vc;
                mj_value got = run_fn(&f, t, &env), want = ref_op(op, va, vb, vc);
                checked++;
                if (!same_value(op, t, got, want) && bad++ < 3)
                    CHECKF(0, "op %d (a=%08x b=%08x c=%08x): got %08x want %08x", op,
                           (unsigned)va.i, (unsigned)vb.i, (unsigned)vc.i, (unsigned)got.i,
                           (unsigned)want.i);
            }
        }
        CHECKF(bad == 0, "op %d: %d mismatches with run-time operands", op, bad);
        mj_jit_free(j);

        /* constants: x selects the pair (a third of the float pairs: the
         * select chains are large) */
        e = NULL;
        for (int k = n * n - 1; k >= 0; k--) {
            if (fl && k % 3 != op % 3) continue;
            mj_value va = nth_val(fl, k / n), vb = nth_val(fl, k % n), vc = nth_val(fl, k + 3);
            mj_expr *ek = build_op(op, const_of(fl, va), const_of(fl, vb), const_of(fl, vc));
            e = e ? sel(bin(MJ_OP_EQ, P(PX), ci(k)), ek, e) : ek;
        }
        p = prog_for(t, e);
        j = jit_or_fail(&p);
        if (!j) continue;
        f = mj_jit_fns(j);
        bad = 0;
        for (int k = 0; k < n * n; k++) {
            if (fl && k % 3 != op % 3) continue;
            mj_value va = nth_val(fl, k / n), vb = nth_val(fl, k % n), vc = nth_val(fl, k + 3);
            slots[PX].i = k;
            mj_value got = run_fn(&f, t, &env), want = ref_op(op, va, vb, vc);
            checked++;
            if (!same_value(op, t, got, want) && bad++ < 3)
                CHECKF(0, "op %d const (a=%08x b=%08x): got %08x want %08x", op, (unsigned)va.i,
                       (unsigned)vb.i, (unsigned)got.i, (unsigned)want.i);
        }
        CHECKF(bad == 0, "op %d: %d mismatches with constant operands", op, bad);
        mj_jit_free(j);
    }
    printf("operator cases checked: %ld\n", checked);
}

/* Bounds-checked reads of every kind, with indices in and out of range. */
static void test_reads(void) {
    mj_env env = make_env();
    mj_expr *x = P(PX);
    mj_expr *pos = bin(MJ_OP_ADD, idx(MJ_E_PARAM_AT, MJ_T_INT, PARR, x),
                       bin(MJ_OP_MUL, idx(MJ_E_TOKENS_AT, MJ_T_INT, 0, x), ci(1000)));
    mj_expr *score = bin(MJ_OP_ADD, idx(MJ_E_PARAM_AT, MJ_T_FLOAT, PFARR, x),
                         bin(MJ_OP_ADD, idx(MJ_E_TOKENS_AT, MJ_T_FLOAT, 1, x),
                             idx(MJ_E_HEADS_AT, MJ_T_FLOAT, 0, x)));
    mj_expr *mask = bin(MJ_OP_AND, idx(MJ_E_TOKENS_AT, MJ_T_BOOL, 2, x), P(PFLAG));
    mj_program p = prog(mask, score, pos);
    mj_jit *j = jit_or_fail(&p);
    if (!j) return;
    mj_mask_fns f = mj_jit_fns(j);
    int32_t xs[] = {INT32_MIN, -100, -1, 0, 1, 2, 3, 4, 5, 6, 7, 100, INT32_MAX};
    for (size_t k = 0; k < sizeof xs / sizeof xs[0]; k++) {
        int32_t i = xs[k];
        slots[PX].i = i;
        mj_value pd = params[PARR].def, pf = params[PFARR].def;
        int32_t want_i = mj_iadd(mj_param_at(&env, 6, 4, i, pd).i,
                                 mj_imul(mj_tokens_at(&env, 0, i, tokens[0].def).i, 1000));
        float want_f = mj_param_at(&env, 10, 3, i, pf).f +
                       (mj_tokens_at(&env, 1, i, tokens[1].def).f + mj_heads_at(&env, 0, i));
        bool want_b = mj_tokens_at(&env, 2, i, tokens[2].def).i != 0 && slots[PFLAG].i != 0;
        CHECKF(f.position(NULL, &env, 0) == want_i, "position at %d", i);
        CHECKF(same_float(f.score(NULL, &env, 0, 0, 0, 0.0f), want_f), "score at %d", i);
        CHECKF(f.mask(NULL, &env, 0, 0, 0) == want_b, "mask at %d", i);
    }
    /* no annotations at all: every read is the default */
    env.tokens_len = 0;
    env.tokens = NULL;
    env.n_heads = 0;
    env.heads = NULL;
    slots[PX].i = 0;
    CHECK(f.position(NULL, &env, 0) == 100 - 1000);
    CHECK(same_float(f.score(NULL, &env, 0, 0, 0, 0.0f), -1.0f + 0.5f));
    mj_jit_free(j);
}

/* A shared sub-tree (a `let`) is emitted once; the IR text is sane. */
static void test_memo_and_ir(void) {
    mj_expr *shared = fn(MJ_FN_EXP, 1, P(PFX), NULL, NULL);
    mj_expr *score = bin(MJ_OP_ADD, bin(MJ_OP_MUL, shared, shared),
                         fn(MJ_FN_TANH, 1, shared, 0, 0));
    mj_program p = prog(bin(MJ_OP_LT, bi(MJ_B_KV), bi(MJ_B_Q)), score, bi(MJ_B_Q));
    mj_diags d;
    mj_diags_init(&d);
    char *ir = mj_jit_emit_ir(&p, &d);
    CHECK(ir != NULL);
    if (ir) {
        int calls = 0;
        for (const char *s = ir; (s = strstr(s, "call float @mj_rt_expf")); s++) calls++;
        CHECKF(calls == 1, "%d calls of expf", calls);
        CHECK(strstr(ir, "define") && strstr(ir, "@mj_mask") && strstr(ir, "@mj_score") &&
              strstr(ir, "@mj_position") && strstr(ir, "@mj_classify"));
        CHECK(!strstr(ir, " fast ") && !strstr(ir, "contract") && !strstr(ir, "reassoc") &&
              !strstr(ir, " afn "));
        free(ir);
    }
    CHECK(mj_jit_init(NULL, &d) == NULL && d.n_errors > 0);
    mj_diags_free(&d);
    /* no score/position: NULL pointers */
    p = prog(bin(MJ_OP_LT, bi(MJ_B_KV), bi(MJ_B_Q)), NULL, NULL);
    mj_jit *j = jit_or_fail(&p);
    if (j) {
        mj_mask_fns f = mj_jit_fns(j);
        CHECK(f.mask && f.classify && !f.score && !f.position);
        mj_env env = make_env();
        CHECK(f.mask(NULL, &env, 3, 2, 0) && !f.mask(NULL, &env, 2, 2, 0));
        mj_jit_free(j);
    }
    mj_jit_free(NULL);
}

/* ---- block classifier vs mj_blocks_classify ------------------------------------------ */

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 11);
}
static int32_t rnd_in(int32_t lo, int32_t hi) {
    return lo + (int32_t)(rnd() % (uint32_t)(hi - lo + 1));
}

/* Masks over every kind of node, classified on random regions with and
 * without summaries. */
static void test_classify(void) {
    mj_expr *q = bi(MJ_B_Q), *kv = bi(MJ_B_KV), *h = bi(MJ_B_H);
    mj_expr *segq = idx(MJ_E_TOKENS_AT, MJ_T_INT, 0, q);
    mj_expr *segk = idx(MJ_E_TOKENS_AT, MJ_T_INT, 0, kv);
    mj_expr *causal = bin(MJ_OP_LE, kv, q);
    mj_expr *masks[6];
    masks[0] = bin(MJ_OP_AND, causal, bin(MJ_OP_OR, bin(MJ_OP_GE, q, bi(MJ_B_PROMPT_LEN)),
                                          bin(MJ_OP_EQ, segq, segk)));
    masks[1] = bin(MJ_OP_AND, causal, bin(MJ_OP_LT, bin(MJ_OP_SUB, q, kv), P(PX)));
    masks[2] = bin(MJ_OP_GT, bin(MJ_OP_ADD, idx(MJ_E_HEADS_AT, MJ_T_FLOAT, 0, h),
                                 idx(MJ_E_TOKENS_AT, MJ_T_FLOAT, 1, kv)), P(PFX));
    masks[3] = sel(idx(MJ_E_TOKENS_AT, MJ_T_BOOL, 2, q), un(MJ_OP_NOT, causal),
                   bin(MJ_OP_NE, bin(MJ_OP_MOD, q, P(PY)), bin(MJ_OP_DIV, kv, P(PY))));
    masks[4] = bin(MJ_OP_OR, bin(MJ_OP_LT, fn(MJ_FN_EXP, 1, tof(bin(MJ_OP_SUB, kv, q)), 0, 0),
                                 fn(MJ_FN_CLAMP, 3, P(PFX), cf(-1.0f), P(PFY))),
                   bin(MJ_OP_EQ, idx(MJ_E_PARAM_AT, MJ_T_INT, PARR, segk),
                       toi(fn(MJ_FN_SQRT, 1, tof(fn(MJ_FN_ABS, 1, segq, 0, 0)), 0, 0))));
    masks[5] = bin(MJ_OP_AND, P(PFLAG), bin(MJ_OP_GE, fn(MJ_FN_MAX, 2, q, P(PZ), 0),
                                            fn(MJ_FN_MIN, 2, un(MJ_OP_NEG, kv), ci(3), 0)));
    mj_env env = make_env();
    enum { N = 64 };
    static mj_value big[3 * N];
    env.tokens = big;
    env.tokens_len = N;
    env.tokens_stride = N;
    long checked = 0, partial = 0;
    for (int m = 0; m < 6; m++) {
        mj_program p = prog(masks[m], NULL, NULL);
        mj_jit *j = jit_or_fail(&p);
        if (!j) continue;
        mj_mask_fns f = mj_jit_fns(j);
        int bad = 0;
        for (int trial = 0; trial < 200; trial++) {
            int seglen = rnd_in(1, 20);
            for (int i = 0; i < N; i++) {
                big[i].i = i / seglen - (i % 7 == 0);
                big[N + i].f = (float)rnd_in(-8, 8) * 0.25f;
                big[2 * N + i].i = (i / seglen) & 1;
            }
            slots[PX].i = rnd_in(-3, 20);
            slots[PY].i = rnd_in(-2, 3);
            slots[PZ].i = rnd_in(-5, 70);
            slots[PFX].f = (float)rnd_in(-8, 8) * 0.5f;
            slots[PFY].f = (float)rnd_in(-8, 8) * 0.5f;
            slots[PFLAG].i = rnd_in(0, 1);
            mj_summary sum;
            if (mj_summary_build(&p, &env, rnd_in(1, 16), &sum) != 0) { CHECK(0); continue; }
            for (int k = 0; k < 20; k++) {
                mj_region r;
                r.q0 = rnd_in(-2, N + 2); r.q1 = r.q0 + rnd_in(-1, 20);
                r.kv0 = rnd_in(-2, N + 2); r.kv1 = r.kv0 + rnd_in(-1, 20);
                r.h0 = rnd_in(-1, NH); r.h1 = r.h0 + rnd_in(0, 2);
                const mj_summary *sp = k % 5 == 4 ? NULL : &sum;
                int want = mj_blocks_classify(&p, &env, sp, &r);
                int got = f.classify(NULL, &env, sp, &r);
                checked++;
                partial += want == MJ_BLOCK_PARTIAL;
                if (got != want && bad++ < 3)
                    CHECKF(0, "mask %d region q[%d,%d] kv[%d,%d] h[%d,%d]: jit %d ref %d", m, r.q0,
                           r.q1, r.kv0, r.kv1, r.h0, r.h1, got, want);
            }
            mj_summary_free(&sum);
        }
        CHECKF(bad == 0, "mask %d: %d classifier mismatches", m, bad);
        mj_jit_free(j);
    }
    printf("classifier cases checked: %ld (%ld partial)\n", checked, partial);
}

/* ---- threads: independent JITs built and used concurrently ---------------------------- */

typedef struct thread_arg {
    const mj_program *p;
    int ok;
} thread_arg;

static void *thread_main(void *arg) {
    thread_arg *t = arg;
    mj_env env = make_env();
    for (int round = 0; round < 3; round++) {
        mj_diags d;
        mj_diags_init(&d);
        mj_jit *j = mj_jit_init(t->p, &d);
        mj_diags_free(&d);
        if (!j) return NULL;
        mj_mask_fns f = mj_jit_fns(j);
        for (int q = 0; q < 8; q++)
            for (int kv = 0; kv < 8; kv++)
                if (f.mask(NULL, &env, q, kv, 0) != (kv <= q && q - kv < 3)) {
                    mj_jit_free(j);
                    return NULL;
                }
        mj_jit_free(j);
    }
    t->ok = 1;
    return NULL;
}

static void test_threads(void) {
    mj_expr *q = bi(MJ_B_Q), *kv = bi(MJ_B_KV);
    mj_expr *window = bin(MJ_OP_LT, bin(MJ_OP_SUB, q, kv), ci(3));
    mj_program p = prog(bin(MJ_OP_AND, bin(MJ_OP_LE, kv, q), window), NULL, NULL);
    enum { NT = 4 };
    pthread_t th[NT];
    thread_arg args[NT];
    for (int i = 0; i < NT; i++) {
        args[i].p = &p;
        args[i].ok = 0;
        CHECK(pthread_create(&th[i], NULL, thread_main, &args[i]) == 0);
    }
    for (int i = 0; i < NT; i++) {
        pthread_join(th[i], NULL);
        CHECKF(args[i].ok, "thread %d", i);
    }
}

/* ---- timings (printed for bench/RESULTS.md) ---------------------------------------------- */

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Nodes of the tree under e (lets counted at every use): a size measure. */
static long tree_size(const mj_expr *e) {
    long n = 1;
    for (int i = 0; e && i < e->nargs && i < 3; i++) n += tree_size(e->a[i]);
    return n;
}

static long program_size(const mj_program *p) {
    return tree_size(p->mask) + (p->score ? tree_size(p->score) : 0) +
           (p->position ? tree_size(p->position) : 0);
}

/* Median time of mj_jit_init (IR, -O2, LLJIT, native code of mask, score,
 * position and classifier) over `runs` runs; ns per call of the JIT'd and the
 * interpreted mask on a 5-segment layout. */
static void time_example(const char *rel, int runs) {
    mj_diags d;
    mj_diags_init(&d);
    mj_program *p = mj_compile_file(mj_test_path(rel), NULL, &d);
    mj_diags_free(&d);
    if (!p) { printf("timing: %s not compiled\n", rel); return; }
    double t[32];
    mj_jit *j = NULL;
    for (int r = 0; r < runs && r < 32; r++) {
        mj_diags_init(&d);
        double t0 = now_s();
        j = mj_jit_init(p, &d);
        t[r] = now_s() - t0;
        mj_diags_free(&d);
        CHECK(j != NULL);
        if (!j) break;
        if (r + 1 < runs) mj_jit_free(j);
    }
    if (j) {
        qsort(t, (size_t)runs, sizeof t[0], cmp_double);
        /* per-call cost on 5 segments of 200 tokens */
        enum { N = 1000 };
        size_t ntok = (size_t)N * (size_t)(p->n_tokens > 0 ? p->n_tokens : 1);
        mj_value *tok = calloc(ntok, sizeof *tok);
        mj_value *pv = calloc((size_t)(p->n_param_slots > 0 ? p->n_param_slots : 1), sizeof *pv);
        float hv[8] = {0.5f, 0.25f, 0.125f, 0.0625f, 1, 1, 1, 1};
        mj_program_default_params(p, pv);
        for (int a = 0; a < p->n_tokens; a++)
            for (int i = 0; i < N; i++) tok[a * N + i].i = i / 200;
        mj_env env = {8, N, N, 0, N, N, pv, tok, hv};
        mj_mask_fns f = mj_jit_fns(j);
        volatile int sink = 0;
        double t0 = now_s();
        for (int q = 0; q < N; q++)
            for (int kv = 0; kv < N; kv++) sink += f.mask(NULL, &env, q, kv, 0);
        double tj = now_s() - t0;
        t0 = now_s();
        for (int q = 0; q < N; q++)
            for (int kv = 0; kv < N; kv++) sink += mj_interp_mask(p, &env, q, kv, 0);
        double ti = now_s() - t0;
        printf("timing: %s (%ld tree nodes): LLVM JIT time median %.2f ms (min %.2f, max %.2f, "
               "%d runs); mask call %.1f ns JIT vs %.1f ns interpreter\n",
               rel, program_size(p), t[runs / 2] * 1e3, t[0] * 1e3, t[runs - 1] * 1e3, runs,
               tj / ((double)N * N) * 1e9, ti / ((double)N * N) * 1e9);
        free(tok);
        free(pv);
        mj_jit_free(j);
    }
    mj_program_free(p);
}

/* The seed fusion example, the largest example (by tree size), and the
 * largest ones with a score and with a position program. */
static void test_timings(void) {
    time_example("examples/fusion_seed.mask", 9);
    DIR *dp = opendir(mj_test_path("examples"));
    char best[3][512] = {"", "", ""};
    long best_n[3] = {-1, -1, -1};
    struct dirent *de;
    while (dp && (de = readdir(dp))) {
        size_t n = strlen(de->d_name);
        if (n < 6 || strcmp(de->d_name + n - 5, ".mask")) continue;
        char rel[512];
        snprintf(rel, sizeof rel, "examples/%s", de->d_name);
        mj_diags d;
        mj_diags_init(&d);
        mj_program *p = mj_compile_file(mj_test_path(rel), NULL, &d);
        mj_diags_free(&d);
        if (!p) continue;
        long size = program_size(p);
        int has[3] = {1, p->score != NULL, p->position != NULL};
        for (int k = 0; k < 3; k++) {
            if (has[k] && size > best_n[k]) {
                best_n[k] = size;
                snprintf(best[k], sizeof best[k], "%s", rel);
            }
        }
        mj_program_free(p);
    }
    if (dp) closedir(dp);
    for (int k = 0; k < 3; k++) {
        int dup = !best[k][0];
        for (int m = 0; m < k; m++) dup |= !strcmp(best[k], best[m]);
        if (!dup) time_example(best[k], 9);
    }
}

int main(void) {
    A = mj_arena_new();
    test_layout();
    test_ops();
    test_reads();
    test_memo_and_ir();
    test_classify();
    test_threads();
    test_timings();
    mj_arena_free(A);
    return mj_test_finish();
}
