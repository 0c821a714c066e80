/* ir_build.h — building checked mj_program trees by hand in unit tests (no
 * parser needed): typed node constructors over a static node pool, and a
 * program with caller-provided params/tokens/heads tables.  Test-only. */
#ifndef MJ_TEST_IR_BUILD_H
#define MJ_TEST_IR_BUILD_H

#include <stdlib.h>
#include <string.h>

#include "mj_ir.h"

#define IRB_POOL 65536
static mj_expr irb_pool[IRB_POOL];
static int irb_used;

static inline void irb_reset(void) { irb_used = 0; memset(irb_pool, 0, sizeof irb_pool); }

static inline mj_expr *irb_node(mj_ekind k, mj_type t) {
    mj_expr *e;
    if (irb_used >= IRB_POOL) abort();
    e = &irb_pool[irb_used++];
    memset(e, 0, sizeof *e);
    e->kind = k;
    e->type = t;
    return e;
}
static inline mj_expr *c_i(int32_t v) { mj_expr *e = irb_node(MJ_E_CONST, MJ_T_INT); e->v.i = v; return e; }
static inline mj_expr *c_f(float v) { mj_expr *e = irb_node(MJ_E_CONST, MJ_T_FLOAT); e->v.f = v; return e; }
static inline mj_expr *c_b(int v) { mj_expr *e = irb_node(MJ_E_CONST, MJ_T_BOOL); e->v.i = v != 0; return e; }
static inline mj_expr *bt(mj_builtin b) {
    mj_expr *e = irb_node(MJ_E_BUILTIN, b == MJ_B_SCORE ? MJ_T_FLOAT : MJ_T_INT);
    e->u.builtin = b;
    return e;
}
static inline mj_expr *un(mj_op op, mj_expr *a) {
    mj_expr *e = irb_node(MJ_E_UNARY, op == MJ_OP_NOT ? MJ_T_BOOL : a->type);
    e->u.op = op; e->nargs = 1; e->a[0] = a;
    return e;
}
static inline mj_expr *bin(mj_op op, mj_expr *a, mj_expr *b) {
    mj_type t = op >= MJ_OP_LT ? MJ_T_BOOL : a->type;
    mj_expr *e = irb_node(MJ_E_BINARY, t);
    e->u.op = op; e->nargs = 2; e->a[0] = a; e->a[1] = b;
    return e;
}
static inline mj_expr *sel(mj_expr *c, mj_expr *a, mj_expr *b) {
    mj_expr *e = irb_node(MJ_E_SELECT, a->type);
    e->nargs = 3; e->a[0] = c; e->a[1] = a; e->a[2] = b;
    return e;
}
static inline mj_expr *call(mj_fn fn, mj_expr *a, mj_expr *b, mj_expr *c) {
    mj_expr *e = irb_node(MJ_E_CALL, a->type);
    e->u.fn = fn; e->a[0] = a; e->a[1] = b; e->a[2] = c;
    e->nargs = c ? 3 : b ? 2 : 1;
    return e;
}
static inline mj_expr *to_f(mj_expr *a) { mj_expr *e = irb_node(MJ_E_TO_FLOAT, MJ_T_FLOAT); e->nargs = 1; e->a[0] = a; return e; }
static inline mj_expr *to_i(mj_expr *a) { mj_expr *e = irb_node(MJ_E_TO_INT, MJ_T_INT); e->nargs = 1; e->a[0] = a; return e; }
static inline mj_expr *leaf(mj_ekind k, mj_type t, int32_t index, mj_expr *idx) {
    mj_expr *e = irb_node(k, t);
    e->u.index = index;
    if (idx) { e->nargs = 1; e->a[0] = idx; }
    return e;
}
static inline mj_expr *tok(int32_t a, mj_type t, mj_expr *idx) { return leaf(MJ_E_TOKENS_AT, t, a, idx); }
static inline mj_expr *par(int32_t k, mj_type t) { return leaf(MJ_E_PARAM, t, k, NULL); }
static inline mj_expr *par_at(int32_t k, mj_type t, mj_expr *idx) { return leaf(MJ_E_PARAM_AT, t, k, idx); }
static inline mj_expr *heads_at(int32_t k, mj_expr *idx) { return leaf(MJ_E_HEADS_AT, MJ_T_FLOAT, k, idx); }

#endif
