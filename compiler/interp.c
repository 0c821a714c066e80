/* interp.c — the tree-walking interpreter: the reference semantics of a
 * checked program (mj_ir.h, Part 1 of mj_semantics.h).  Obviously right before
 * fast: the DAG is evaluated as a tree, every operation goes through the shared
 * scalar functions.  Bool values are int 0/1; a bool read from a `tokens` or
 * `param` slot is true iff the stored int is non-zero. */
#include "interp.h"

#include <math.h>

#include "blocks.h"
#include "mj_semantics.h"

/* The point at which an expression is evaluated. */
typedef struct interp_pt {
    const mj_env *env;
    int32_t q, kv, h;
    float score;
} interp_pt;

static mj_value eval(const mj_program *p, const interp_pt *pt, const mj_expr *e);

static mj_value val_i(int32_t i) { mj_value v; v.i = i; return v; }
static mj_value val_f(float f) { mj_value v; v.f = f; return v; }

static mj_value eval_builtin(const interp_pt *pt, mj_builtin b) {
    switch (b) {
    case MJ_B_Q: return val_i(pt->q);
    case MJ_B_KV: return val_i(pt->kv);
    case MJ_B_H: return val_i(pt->h);
    case MJ_B_B: return val_i(pt->env->b);
    case MJ_B_N_HEADS: return val_i(pt->env->n_heads);
    case MJ_B_PROMPT_LEN: return val_i(pt->env->prompt_len);
    case MJ_B_SEQ_LEN: return val_i(pt->env->seq_len);
    case MJ_B_SCORE: return val_f(pt->score);
    default: return val_i(0);
    }
}

/* A bool read from storage: non-zero is true. */
static mj_value norm_leaf(mj_type t, mj_value v) { return t == MJ_T_BOOL ? val_i(v.i != 0) : v; }

static mj_value eval_leaf(const mj_program *p, const interp_pt *pt, const mj_expr *e) {
    int32_t i;
    switch (e->kind) {
    case MJ_E_PARAM: {
        const mj_param *pa = &p->params[e->u.index];
        return norm_leaf(e->type, pt->env->params[pa->offset]);
    }
    case MJ_E_PARAM_AT: {
        const mj_param *pa = &p->params[e->u.index];
        i = eval(p, pt, e->a[0]).i;
        return norm_leaf(e->type, mj_param_at(pt->env, pa->offset, pa->count, i, pa->def));
    }
    case MJ_E_TOKENS_AT:
        i = eval(p, pt, e->a[0]).i;
        return norm_leaf(e->type, mj_tokens_at(pt->env, e->u.index, i, p->tokens[e->u.index].def));
    case MJ_E_HEADS_AT:
        i = eval(p, pt, e->a[0]).i;
        return val_f(mj_heads_at(pt->env, e->u.index, i));
    default:
        return val_i(0);
    }
}

static mj_value eval_int_binary(mj_op op, int32_t x, int32_t y) {
    switch (op) {
    case MJ_OP_ADD: return val_i(mj_iadd(x, y));
    case MJ_OP_SUB: return val_i(mj_isub(x, y));
    case MJ_OP_MUL: return val_i(mj_imul(x, y));
    case MJ_OP_DIV: return val_i(mj_idiv(x, y));
    case MJ_OP_MOD: return val_i(mj_imod(x, y));
    case MJ_OP_LT: return val_i(x < y);
    case MJ_OP_LE: return val_i(x <= y);
    case MJ_OP_GT: return val_i(x > y);
    case MJ_OP_GE: return val_i(x >= y);
    case MJ_OP_EQ: return val_i(x == y);
    case MJ_OP_NE: return val_i(x != y);
    case MJ_OP_AND: return val_i(x && y);
    case MJ_OP_OR: return val_i(x || y);
    default: return val_i(0);
    }
}

static mj_value eval_float_binary(mj_op op, float x, float y) {
    switch (op) {
    case MJ_OP_ADD: return val_f(x + y);
    case MJ_OP_SUB: return val_f(x - y);
    case MJ_OP_MUL: return val_f(x * y);
    case MJ_OP_DIV: return val_f(x / y);
    case MJ_OP_MOD: return val_f(fmodf(x, y));
    case MJ_OP_LT: return val_i(x < y);
    case MJ_OP_LE: return val_i(x <= y);
    case MJ_OP_GT: return val_i(x > y);
    case MJ_OP_GE: return val_i(x >= y);
    case MJ_OP_EQ: return val_i(x == y);
    case MJ_OP_NE: return val_i(x != y);
    default: return val_i(0);
    }
}

static mj_value eval_call(const mj_program *p, const interp_pt *pt, const mj_expr *e) {
    mj_value x = eval(p, pt, e->a[0]), y = val_i(0), z = val_i(0);
    int fl = e->a[0]->type == MJ_T_FLOAT;
    if (e->nargs > 1) y = eval(p, pt, e->a[1]);
    if (e->nargs > 2) z = eval(p, pt, e->a[2]);
    switch (e->u.fn) {
    case MJ_FN_MIN: return fl ? val_f(mj_fmin(x.f, y.f)) : val_i(mj_imin(x.i, y.i));
    case MJ_FN_MAX: return fl ? val_f(mj_fmax(x.f, y.f)) : val_i(mj_imax(x.i, y.i));
    case MJ_FN_ABS: return fl ? val_f(fabsf(x.f)) : val_i(mj_iabs(x.i));
    case MJ_FN_CLAMP: return fl ? val_f(mj_fclamp(x.f, y.f, z.f)) : val_i(mj_iclamp(x.i, y.i, z.i));
    case MJ_FN_EXP: return val_f(expf(x.f));
    case MJ_FN_LOG: return val_f(logf(x.f));
    case MJ_FN_SQRT: return val_f(sqrtf(x.f));
    case MJ_FN_TANH: return val_f(tanhf(x.f));
    default: return val_i(0);
    }
}

/* Value of e at the point pt (bool as int 0/1). */
static mj_value eval(const mj_program *p, const interp_pt *pt, const mj_expr *e) {
    mj_value x, y;
    switch (e->kind) {
    case MJ_E_CONST: return e->v;
    case MJ_E_BUILTIN: return eval_builtin(pt, e->u.builtin);
    case MJ_E_PARAM: case MJ_E_PARAM_AT: case MJ_E_TOKENS_AT: case MJ_E_HEADS_AT:
        return eval_leaf(p, pt, e);
    case MJ_E_UNARY:
        x = eval(p, pt, e->a[0]);
        if (e->u.op == MJ_OP_NOT) return val_i(!x.i);
        return e->type == MJ_T_FLOAT ? val_f(-x.f) : val_i(mj_ineg(x.i));
    case MJ_E_BINARY:
        x = eval(p, pt, e->a[0]);
        y = eval(p, pt, e->a[1]);
        if (e->a[0]->type == MJ_T_FLOAT) return eval_float_binary(e->u.op, x.f, y.f);
        return eval_int_binary(e->u.op, x.i, y.i);
    case MJ_E_SELECT:
        /* both sides are pure: evaluating only the chosen one is equivalent */
        return eval(p, pt, e->a[0]).i ? eval(p, pt, e->a[1]) : eval(p, pt, e->a[2]);
    case MJ_E_CALL: return eval_call(p, pt, e);
    case MJ_E_TO_FLOAT: return val_f((float)eval(p, pt, e->a[0]).i);
    case MJ_E_TO_INT: return val_i(mj_f2i(eval(p, pt, e->a[0]).f));
    }
    return val_i(0);
}

bool mj_interp_mask(const mj_program *p, const mj_env *env, int32_t q, int32_t kv, int32_t h) {
    interp_pt pt = {env, q, kv, h, 0.0f};
    return eval(p, &pt, p->mask).i != 0;
}

float mj_interp_score(const mj_program *p, const mj_env *env, int32_t q, int32_t kv, int32_t h,
                      float raw) {
    interp_pt pt = {env, q, kv, h, raw};
    if (!p->score) return raw;
    return eval(p, &pt, p->score).f;
}

int32_t mj_interp_position(const mj_program *p, const mj_env *env, int32_t q) {
    interp_pt pt = {env, q, 0, 0, 0.0f};
    if (!p->position) return q;
    return eval(p, &pt, p->position).i;
}

static bool fn_mask(const void *ctx, const mj_env *env, int32_t q, int32_t kv, int32_t h) {
    return mj_interp_mask(ctx, env, q, kv, h);
}
static float fn_score(const void *ctx, const mj_env *env, int32_t q, int32_t kv, int32_t h,
                      float raw) {
    return mj_interp_score(ctx, env, q, kv, h, raw);
}
static int32_t fn_position(const void *ctx, const mj_env *env, int32_t q) {
    return mj_interp_position(ctx, env, q);
}
static int fn_classify(const void *ctx, const mj_env *env, const mj_summary *sum,
                       const mj_region *r) {
    return mj_blocks_classify(ctx, env, sum, r);
}

mj_mask_fns mj_interp_fns(const mj_program *p) {
    mj_mask_fns f;
    f.ctx = p;
    f.mask = fn_mask;
    f.score = p->score ? fn_score : NULL;
    f.position = p->position ? fn_position : NULL;
    f.classify = fn_classify;
    return f;
}
