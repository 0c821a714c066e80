/* test_compiler_interp.c — the reference interpreter on hand-built programs:
 * every corner of the scalar semantics (mj_ir.h) pinned — int wrap-around,
 * division and modulo by zero, INT_MIN / -1, int() saturation and NaN,
 * out-of-range indices, fminf/fmaxf with NaN, int->float promotion, bool
 * normalisation, builtins, and the mj_mask_fns wrapper. */
#include <math.h>
#include <stdint.h>

#include "interp.h"
#include "ir_build.h"
#include "support/testlib.h"

static mj_param params[2];
static mj_tokens toks[3];
static mj_heads heads[1];
static mj_program prog;
static mj_value pvals[5];
static mj_value tvals[3 * 8];
static float hvals[2];
static mj_env env;

/* A program with: param n:int = 7; param w:float[4] = 1.5; tokens seg:int = -1;
 * tokens x:float = 0.25; tokens flag:bool = true; heads slope (2 heads);
 * tokens over 6 tokens (stride 8). */
static void setup(void) {
    memset(&prog, 0, sizeof prog);
    params[0] = (mj_param){.name = "n", .type = MJ_T_INT, .count = 1, .offset = 0, .def = {.i = 7}};
    params[1] = (mj_param){.name = "w", .type = MJ_T_FLOAT, .is_array = true, .count = 4, .offset = 1,
                           .def = {.f = 1.5f}};
    toks[0] = (mj_tokens){.name = "seg", .type = MJ_T_INT, .def = {.i = -1}};
    toks[1] = (mj_tokens){.name = "x", .type = MJ_T_FLOAT, .def = {.f = 0.25f}};
    toks[2] = (mj_tokens){.name = "flag", .type = MJ_T_BOOL, .def = {.i = 1}};
    heads[0] = (mj_heads){.name = "slope"};
    prog.params = params; prog.n_params = 2; prog.n_param_slots = 5;
    prog.tokens = toks; prog.n_tokens = 3;
    prog.heads = heads; prog.n_heads = 1;
    prog.mask = c_b(1);
    pvals[0].i = 7;
    for (int i = 1; i < 5; i++) pvals[i].f = (float)i * 0.5f;   /* w = .5 1 1.5 2 */
    for (int i = 0; i < 6; i++) {
        tvals[0 * 8 + i].i = i / 2;            /* seg 0 0 1 1 2 2 */
        tvals[1 * 8 + i].f = (float)i - 2.5f;  /* x */
        tvals[2 * 8 + i].i = (i % 3 == 0) ? 0 : (i == 4 ? 5 : 1);   /* flag; 5 means true */
    }
    hvals[0] = 0.5f; hvals[1] = -0.25f;
    env = (mj_env){.n_heads = 2, .prompt_len = 4, .seq_len = 6, .b = 3, .tokens_len = 6,
                   .tokens_stride = 8, .params = pvals, .tokens = tvals, .heads = hvals};
}

static int32_t ev_i(mj_expr *e) { prog.position = e; return mj_interp_position(&prog, &env, 0); }
static int32_t ev_i_at(mj_expr *e, int32_t q) { prog.position = e; return mj_interp_position(&prog, &env, q); }
static float ev_f(mj_expr *e) { prog.score = e; return mj_interp_score(&prog, &env, 2, 1, 1, 10.0f); }
static bool ev_b(mj_expr *e) { prog.mask = e; return mj_interp_mask(&prog, &env, 2, 1, 1); }
static int same_f(float a, float b) { return (isnan(a) && isnan(b)) || (a == b && signbit(a) == signbit(b)); }

static void test_int_arith(void) {
    CHECK(ev_i(bin(MJ_OP_ADD, c_i(INT32_MAX), c_i(1))) == INT32_MIN);
    CHECK(ev_i(bin(MJ_OP_SUB, c_i(INT32_MIN), c_i(1))) == INT32_MAX);
    CHECK(ev_i(bin(MJ_OP_MUL, c_i(65536), c_i(65536))) == 0);
    CHECK(ev_i(bin(MJ_OP_MUL, c_i(INT32_MAX), c_i(2))) == -2);
    CHECK(ev_i(un(MJ_OP_NEG, c_i(INT32_MIN))) == INT32_MIN);
    CHECK(ev_i(bin(MJ_OP_DIV, c_i(7), c_i(0))) == 0);
    CHECK(ev_i(bin(MJ_OP_MOD, c_i(7), c_i(0))) == 0);
    CHECK(ev_i(bin(MJ_OP_DIV, c_i(INT32_MIN), c_i(-1))) == INT32_MIN);
    CHECK(ev_i(bin(MJ_OP_MOD, c_i(INT32_MIN), c_i(-1))) == 0);
    CHECK(ev_i(bin(MJ_OP_DIV, c_i(-7), c_i(2))) == -3);
    CHECK(ev_i(bin(MJ_OP_MOD, c_i(-7), c_i(2))) == -1);
    CHECK(ev_i(bin(MJ_OP_MOD, c_i(7), c_i(-2))) == 1);
    CHECK(ev_i(call(MJ_FN_ABS, c_i(INT32_MIN), NULL, NULL)) == INT32_MIN);
    CHECK(ev_i(call(MJ_FN_ABS, c_i(-5), NULL, NULL)) == 5);
    CHECK(ev_i(call(MJ_FN_MIN, c_i(-5), c_i(3), NULL)) == -5);
    CHECK(ev_i(call(MJ_FN_MAX, c_i(-5), c_i(3), NULL)) == 3);
    CHECK(ev_i(call(MJ_FN_CLAMP, c_i(9), c_i(0), c_i(4))) == 4);
    CHECK(ev_i(call(MJ_FN_CLAMP, c_i(-9), c_i(0), c_i(4))) == 0);
    CHECK(ev_i(call(MJ_FN_CLAMP, c_i(2), c_i(5), c_i(4))) == 4);   /* lo > hi: min(max) */
}

static void test_float_and_conv(void) {
    CHECK(ev_i(to_i(c_f(3e9f))) == INT32_MAX);
    CHECK(ev_i(to_i(c_f(-3e9f))) == INT32_MIN);
    CHECK(ev_i(to_i(c_f(INFINITY))) == INT32_MAX);
    CHECK(ev_i(to_i(c_f(-INFINITY))) == INT32_MIN);
    CHECK(ev_i(to_i(c_f(NAN))) == 0);
    CHECK(ev_i(to_i(bin(MJ_OP_DIV, c_f(0.0f), c_f(0.0f)))) == 0);
    CHECK(ev_i(to_i(c_f(-1.7f))) == -1);
    CHECK(ev_i(to_i(c_f(2147483520.0f))) == 2147483520);
    CHECK(same_f(ev_f(bin(MJ_OP_DIV, c_f(1.0f), c_f(0.0f))), INFINITY));
    CHECK(same_f(ev_f(bin(MJ_OP_DIV, c_f(1.0f), c_f(-0.0f))), -INFINITY));
    CHECK(isnan(ev_f(bin(MJ_OP_SUB, c_f(INFINITY), c_f(INFINITY)))));
    CHECK(isnan(ev_f(bin(MJ_OP_MUL, c_f(0.0f), c_f(INFINITY)))));
    CHECK(same_f(ev_f(bin(MJ_OP_MOD, c_f(-7.5f), c_f(2.0f))), -1.5f));
    CHECK(isnan(ev_f(bin(MJ_OP_MOD, c_f(1.0f), c_f(0.0f)))));
    CHECK(same_f(ev_f(call(MJ_FN_MIN, c_f(NAN), c_f(1.0f), NULL)), 1.0f));
    CHECK(same_f(ev_f(call(MJ_FN_MAX, c_f(2.0f), c_f(NAN), NULL)), 2.0f));
    CHECK(isnan(ev_f(call(MJ_FN_MAX, c_f(NAN), c_f(NAN), NULL))));
    CHECK(same_f(ev_f(call(MJ_FN_CLAMP, c_f(NAN), c_f(0.0f), c_f(1.0f))), 0.0f));
    CHECK(isnan(ev_f(call(MJ_FN_LOG, c_f(-1.0f), NULL, NULL))));
    CHECK(same_f(ev_f(call(MJ_FN_LOG, c_f(0.0f), NULL, NULL)), -INFINITY));
    CHECK(isnan(ev_f(call(MJ_FN_SQRT, c_f(-1.0f), NULL, NULL))));
    CHECK(same_f(ev_f(call(MJ_FN_EXP, c_f(0.0f), NULL, NULL)), 1.0f));
    CHECK(same_f(ev_f(call(MJ_FN_TANH, c_f(100.0f), NULL, NULL)), 1.0f));
    CHECK(same_f(ev_f(call(MJ_FN_ABS, c_f(-0.0f), NULL, NULL)), 0.0f));
    /* promotion: int operands wrapped in TO_FLOAT */
    CHECK(same_f(ev_f(bin(MJ_OP_ADD, to_f(c_i(16777217)), c_f(0.0f))), 16777216.0f));
    CHECK(same_f(ev_f(bin(MJ_OP_DIV, to_f(c_i(1)), to_f(c_i(3)))), 1.0f / 3.0f));
    /* NaN comparisons */
    CHECK(!ev_b(bin(MJ_OP_EQ, c_f(NAN), c_f(NAN))));
    CHECK(ev_b(bin(MJ_OP_NE, c_f(NAN), c_f(NAN))));
    CHECK(!ev_b(bin(MJ_OP_LT, c_f(NAN), c_f(1.0f))));
    CHECK(!ev_b(bin(MJ_OP_GE, c_f(NAN), c_f(1.0f))));
    CHECK(ev_b(bin(MJ_OP_EQ, c_f(-0.0f), c_f(0.0f))));
    /* score builtin and the raw score */
    CHECK(same_f(ev_f(bin(MJ_OP_ADD, bt(MJ_B_SCORE), c_f(1.0f))), 11.0f));
}

static void test_leaves(void) {
    CHECK(ev_i(par(0, MJ_T_INT)) == 7);
    CHECK(same_f(ev_f(par_at(1, MJ_T_FLOAT, c_i(2))), 1.5f));
    CHECK(same_f(ev_f(par_at(1, MJ_T_FLOAT, c_i(0))), 0.5f));
    CHECK(same_f(ev_f(par_at(1, MJ_T_FLOAT, c_i(4))), 1.5f));   /* default */
    pvals[3].f = 9.0f;
    CHECK(same_f(ev_f(par_at(1, MJ_T_FLOAT, c_i(2))), 9.0f));
    CHECK(same_f(ev_f(par_at(1, MJ_T_FLOAT, c_i(-1))), 1.5f));
    CHECK(same_f(ev_f(par_at(1, MJ_T_FLOAT, c_i(INT32_MIN))), 1.5f));
    CHECK(ev_i(tok(0, MJ_T_INT, c_i(3))) == 1);
    CHECK(ev_i(tok(0, MJ_T_INT, c_i(6))) == -1);                /* == tokens_len */
    CHECK(ev_i(tok(0, MJ_T_INT, c_i(7))) == -1);                /* inside stride, outside len */
    CHECK(ev_i(tok(0, MJ_T_INT, c_i(-1))) == -1);
    CHECK(ev_i(tok(0, MJ_T_INT, c_i(INT32_MAX))) == -1);
    CHECK(ev_i_at(tok(0, MJ_T_INT, bt(MJ_B_Q)), 5) == 2);
    CHECK(same_f(ev_f(tok(1, MJ_T_FLOAT, c_i(0))), -2.5f));
    CHECK(same_f(ev_f(tok(1, MJ_T_FLOAT, c_i(100))), 0.25f));
    CHECK(!ev_b(tok(2, MJ_T_BOOL, c_i(0))));
    CHECK(ev_b(tok(2, MJ_T_BOOL, c_i(4))));                     /* stored 5: true */
    CHECK(ev_b(bin(MJ_OP_EQ, tok(2, MJ_T_BOOL, c_i(4)), c_b(1))));
    CHECK(ev_b(tok(2, MJ_T_BOOL, c_i(-3))));                    /* default true */
    CHECK(same_f(ev_f(heads_at(0, c_i(1))), -0.25f));
    CHECK(same_f(ev_f(heads_at(0, bt(MJ_B_H))), -0.25f));       /* h = 1 */
    CHECK(same_f(ev_f(heads_at(0, c_i(2))), 0.0f));
    CHECK(same_f(ev_f(heads_at(0, c_i(-1))), 0.0f));
}

static void test_builtins_logic(void) {
    prog.mask = NULL;
    CHECK(ev_i(bt(MJ_B_B)) == 3);
    CHECK(ev_i(bt(MJ_B_N_HEADS)) == 2);
    CHECK(ev_i(bt(MJ_B_PROMPT_LEN)) == 4);
    CHECK(ev_i(bt(MJ_B_SEQ_LEN)) == 6);
    CHECK(ev_i_at(bt(MJ_B_Q), 5) == 5);
    CHECK(ev_b(bin(MJ_OP_EQ, bt(MJ_B_KV), c_i(1))));
    CHECK(ev_b(bin(MJ_OP_EQ, bt(MJ_B_H), c_i(1))));
    CHECK(ev_b(bin(MJ_OP_AND, c_b(1), un(MJ_OP_NOT, c_b(0)))));
    CHECK(!ev_b(bin(MJ_OP_AND, c_b(1), c_b(0))));
    CHECK(ev_b(bin(MJ_OP_OR, c_b(0), c_b(1))));
    CHECK(ev_b(bin(MJ_OP_NE, c_b(0), c_b(1))));
    CHECK(ev_i(sel(c_b(1), c_i(4), c_i(5))) == 4);
    CHECK(ev_i(sel(c_b(0), c_i(4), c_i(5))) == 5);
    CHECK(ev_i(sel(c_b(0), bin(MJ_OP_DIV, c_i(1), c_i(0)), c_i(5))) == 5);
}

static void test_fns(void) {
    mj_mask_fns f;
    prog.mask = bin(MJ_OP_LE, bt(MJ_B_KV), bt(MJ_B_Q));
    prog.score = NULL;
    prog.position = NULL;
    f = mj_interp_fns(&prog);
    CHECK(f.mask && f.classify && !f.score && !f.position);
    CHECK(f.mask(f.ctx, &env, 3, 2, 0));
    CHECK(!f.mask(f.ctx, &env, 2, 3, 0));
    CHECK(mj_interp_position(&prog, &env, 9) == 9);
    CHECK(mj_interp_score(&prog, &env, 1, 1, 0, 2.5f) == 2.5f);
    prog.score = bin(MJ_OP_MUL, bt(MJ_B_SCORE), c_f(2.0f));
    prog.position = bin(MJ_OP_ADD, bt(MJ_B_Q), c_i(1));
    f = mj_interp_fns(&prog);
    CHECK(f.score && f.position);
    CHECK(f.score(f.ctx, &env, 1, 1, 0, 2.5f) == 5.0f);
    CHECK(f.position(f.ctx, &env, 4) == 5);
    {
        mj_summary s = {0};
        mj_region r = {4, 5, 0, 1, 0, 0};
        CHECK(f.classify(f.ctx, &env, &s, &r) == MJ_BLOCK_FULL);
        r = (mj_region){0, 1, 4, 5, 0, 0};
        CHECK(f.classify(f.ctx, &env, &s, &r) == MJ_BLOCK_EMPTY);
        r = (mj_region){0, 5, 0, 5, 0, 1};
        CHECK(f.classify(f.ctx, &env, &s, &r) == MJ_BLOCK_PARTIAL);
    }
}

int main(void) {
    irb_reset();
    setup();
    test_int_arith();
    test_float_and_conv();
    test_leaves();
    test_builtins_logic();
    test_fns();
    return mj_test_finish();
}
