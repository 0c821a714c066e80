/* blocks.c — block analysis: per-block summaries of the tokens annotations, the
 * reference block classifier (interval interpretation of the mask over a
 * region with the Part 2 functions of mj_semantics.h — the JIT and CUDA
 * classifiers call the same functions, so all three agree), and the block map
 * of a whole sequence. */
#include "blocks.h"

#include <math.h>
#include <stdlib.h>

#include "mask_fns.h"
#include "mj_semantics.h"

/* ---- summaries ------------------------------------------------------------------ */

/* Min/max of tokens [j0, j1) of one annotation of type t into *mn, *mx.  Float:
 * min/max of the non-NaN values; a NaN in the block stores NaN in *mn (and -inf
 * in *mx when every value is NaN), as mj_fi_tokens_at expects. */
static void summary_block(const mj_value *col, int64_t j0, int64_t j1, mj_type t, mj_value *mn,
                          mj_value *mx) {
    if (t != MJ_T_FLOAT) {
        int32_t lo = col[j0].i, hi = col[j0].i;
        for (int64_t i = j0 + 1; i < j1; i++) {
            if (col[i].i < lo) lo = col[i].i;
            if (col[i].i > hi) hi = col[i].i;
        }
        mn->i = lo;
        mx->i = hi;
    } else {
        float lo = INFINITY, hi = -INFINITY;
        int nan = 0;
        for (int64_t i = j0; i < j1; i++) {
            float v = col[i].f;
            if (isnan(v)) { nan = 1; continue; }
            if (v < lo) lo = v;
            if (v > hi) hi = v;
        }
        mn->f = nan ? NAN : lo;
        mx->f = hi;
    }
}

int mj_summary_build(const mj_program *p, const mj_env *env, int32_t block, mj_summary *sum) {
    int64_t nb, n;
    mj_value *mn, *mx;
    if (!p || !env || !sum || block < 1 || env->tokens_len < 0) return -1;
    if (p->n_tokens > 0 && env->tokens_len > 0 &&
        (!env->tokens || env->tokens_stride < env->tokens_len)) return -1;
    nb = (env->tokens_len + block - 1) / block;
    n = (int64_t)p->n_tokens * nb;
    mn = malloc((size_t)(n > 0 ? n : 1) * sizeof *mn);
    mx = malloc((size_t)(n > 0 ? n : 1) * sizeof *mx);
    if (!mn || !mx) { free(mn); free(mx); return -1; }
    for (int32_t a = 0; a < p->n_tokens; a++) {
        const mj_value *col = env->tokens + (int64_t)a * env->tokens_stride;
        for (int64_t j = 0; j < nb; j++) {
            int64_t j0 = j * block, j1 = j0 + block < env->tokens_len ? j0 + block : env->tokens_len;
            summary_block(col, j0, j1, p->tokens[a].type, &mn[a * nb + j], &mx[a * nb + j]);
        }
    }
    sum->block = block;
    sum->pad_ = 0;
    sum->n_blocks = nb;
    sum->tok_min = mn;
    sum->tok_max = mx;
    return 0;
}

void mj_summary_free(mj_summary *sum) {
    if (!sum) return;
    free((void *)sum->tok_min);
    free((void *)sum->tok_max);
    sum->tok_min = sum->tok_max = NULL;
    sum->n_blocks = 0;
}

/* ---- interval interpreter --------------------------------------------------------- */

/* The abstract value of a node; the member that matches the node's type is set. */
typedef struct absval {
    mj_ii i;
    mj_fi f;
    mj_bi b;
} absval;

typedef struct absctx {
    const mj_program *p;
    const mj_env *env;
    const mj_summary *sum;
    const mj_region *r;
} absctx;

static absval aeval(const absctx *c, const mj_expr *e);

static absval av_i(mj_ii i) { absval v = {i, {0, 0, 0}, 0}; return v; }
static absval av_f(mj_fi f) { absval v = {{0, 0}, f, 0}; return v; }
static absval av_b(mj_bi b) { absval v = {{0, 0}, {0, 0, 0}, b}; return v; }

/* Constant of type t from a scalar slot (bool: non-zero is true). */
static absval av_const(mj_type t, mj_value v) {
    if (t == MJ_T_FLOAT) return av_f(mj_fi_const(v.f));
    if (t == MJ_T_BOOL) return av_b(mj_bi_const(v.i != 0));
    return av_i(mj_ii_const(v.i));
}

static absval aeval_builtin(const absctx *c, mj_builtin b) {
    const mj_region *r = c->r;
    switch (b) {
    case MJ_B_Q: return av_i(mj_ii_make(r->q0, r->q1));
    case MJ_B_KV: return av_i(mj_ii_make(r->kv0, r->kv1));
    case MJ_B_H: return av_i(mj_ii_make(r->h0, r->h1));
    case MJ_B_B: return av_i(mj_ii_const(c->env->b));
    case MJ_B_N_HEADS: return av_i(mj_ii_const(c->env->n_heads));
    case MJ_B_PROMPT_LEN: return av_i(mj_ii_const(c->env->prompt_len));
    case MJ_B_SEQ_LEN: return av_i(mj_ii_const(c->env->seq_len));
    default: return av_f(mj_fi_make(-INFINITY, INFINITY, 1));   /* score: anything */
    }
}

/* Range of tokens annotation a over idx when no summary is available: every
 * value the type allows. */
static absval aeval_tokens_nosum(const absctx *c, const mj_expr *e) {
    if (e->type == MJ_T_FLOAT) return av_f(mj_fi_make(-INFINITY, INFINITY, 1));
    if (e->type == MJ_T_BOOL) return av_b(MJ_BI_ANY);
    (void)c;
    return av_i(mj_ii_full());
}

static absval aeval_leaf(const absctx *c, const mj_expr *e) {
    const mj_env *env = c->env;
    mj_ii idx;
    if (e->kind == MJ_E_PARAM) {
        const mj_param *pa = &c->p->params[e->u.index];
        return av_const(e->type, env->params[pa->offset]);
    }
    idx = aeval(c, e->a[0]).i;
    if (e->kind == MJ_E_PARAM_AT) {
        const mj_param *pa = &c->p->params[e->u.index];
        if (e->type == MJ_T_FLOAT)
            return av_f(mj_fi_param_at(env, pa->offset, pa->count, idx, pa->def.f));
        if (e->type == MJ_T_BOOL)
            return av_b(mj_bi_param_at(env, pa->offset, pa->count, idx, pa->def.i));
        return av_i(mj_ii_param_at(env, pa->offset, pa->count, idx, pa->def.i));
    }
    if (e->kind == MJ_E_TOKENS_AT) {
        mj_value def = c->p->tokens[e->u.index].def;
        if (!c->sum && idx.lo != idx.hi) return aeval_tokens_nosum(c, e);
        if (e->type == MJ_T_FLOAT)
            return av_f(mj_fi_tokens_at(env, c->sum, e->u.index, idx, def.f));
        if (e->type == MJ_T_BOOL)
            return av_b(mj_bi_tokens_at(env, c->sum, e->u.index, idx, def.i));
        return av_i(mj_ii_tokens_at(env, c->sum, e->u.index, idx, def.i));
    }
    return av_f(mj_fi_heads_at(env, e->u.index, idx));
}

static absval aeval_int_binary(mj_op op, mj_ii x, mj_ii y) {
    switch (op) {
    case MJ_OP_ADD: return av_i(mj_ii_add(x, y));
    case MJ_OP_SUB: return av_i(mj_ii_sub(x, y));
    case MJ_OP_MUL: return av_i(mj_ii_mul(x, y));
    case MJ_OP_DIV: return av_i(mj_ii_div(x, y));
    case MJ_OP_MOD: return av_i(mj_ii_mod(x, y));
    case MJ_OP_LT: return av_b(mj_ii_lt(x, y));
    case MJ_OP_LE: return av_b(mj_ii_le(x, y));
    case MJ_OP_GT: return av_b(mj_ii_gt(x, y));
    case MJ_OP_GE: return av_b(mj_ii_ge(x, y));
    case MJ_OP_EQ: return av_b(mj_ii_eq(x, y));
    case MJ_OP_NE: return av_b(mj_ii_ne(x, y));
    default: return av_b(MJ_BI_ANY);
    }
}

static absval aeval_float_binary(mj_op op, mj_fi x, mj_fi y) {
    switch (op) {
    case MJ_OP_ADD: return av_f(mj_fi_add(x, y));
    case MJ_OP_SUB: return av_f(mj_fi_sub(x, y));
    case MJ_OP_MUL: return av_f(mj_fi_mul(x, y));
    case MJ_OP_DIV: return av_f(mj_fi_div(x, y));
    case MJ_OP_MOD: return av_f(mj_fi_mod(x, y));
    case MJ_OP_LT: return av_b(mj_fi_lt(x, y));
    case MJ_OP_LE: return av_b(mj_fi_le(x, y));
    case MJ_OP_GT: return av_b(mj_fi_gt(x, y));
    case MJ_OP_GE: return av_b(mj_fi_ge(x, y));
    case MJ_OP_EQ: return av_b(mj_fi_eq(x, y));
    case MJ_OP_NE: return av_b(mj_fi_ne(x, y));
    default: return av_b(MJ_BI_ANY);
    }
}

static absval aeval_bool_binary(mj_op op, mj_bi x, mj_bi y) {
    switch (op) {
    case MJ_OP_AND: return av_b(mj_bi_and(x, y));
    case MJ_OP_OR: return av_b(mj_bi_or(x, y));
    case MJ_OP_EQ: return av_b(mj_bi_eq(x, y));
    case MJ_OP_NE: return av_b(mj_bi_ne(x, y));
    default: return av_b(MJ_BI_ANY);
    }
}

static absval aeval_call(const absctx *c, const mj_expr *e) {
    absval x = aeval(c, e->a[0]), y = x, z = x;
    int fl = e->a[0]->type == MJ_T_FLOAT;
    if (e->nargs > 1) y = aeval(c, e->a[1]);
    if (e->nargs > 2) z = aeval(c, e->a[2]);
    switch (e->u.fn) {
    case MJ_FN_MIN: return fl ? av_f(mj_fi_min(x.f, y.f)) : av_i(mj_ii_min(x.i, y.i));
    case MJ_FN_MAX: return fl ? av_f(mj_fi_max(x.f, y.f)) : av_i(mj_ii_max(x.i, y.i));
    case MJ_FN_ABS: return fl ? av_f(mj_fi_abs(x.f)) : av_i(mj_ii_abs(x.i));
    case MJ_FN_CLAMP: return fl ? av_f(mj_fi_clamp(x.f, y.f, z.f)) : av_i(mj_ii_clamp(x.i, y.i, z.i));
    case MJ_FN_EXP: return av_f(mj_fi_exp(x.f));
    case MJ_FN_LOG: return av_f(mj_fi_log(x.f));
    case MJ_FN_SQRT: return av_f(mj_fi_sqrt(x.f));
    case MJ_FN_TANH: return av_f(mj_fi_tanh(x.f));
    default: return av_f(mj_fi_make(-INFINITY, INFINITY, 1));
    }
}

static absval aeval_select(const absctx *c, const mj_expr *e) {
    mj_bi cond = aeval(c, e->a[0]).b;
    absval x, y;
    if (cond == MJ_BI_TRUE) return aeval(c, e->a[1]);
    if (cond == MJ_BI_FALSE) return aeval(c, e->a[2]);
    x = aeval(c, e->a[1]);
    y = aeval(c, e->a[2]);
    if (e->type == MJ_T_FLOAT) return av_f(mj_fi_select(cond, x.f, y.f));
    if (e->type == MJ_T_BOOL) return av_b(mj_bi_select(cond, x.b, y.b));
    return av_i(mj_ii_select(cond, x.i, y.i));
}

/* Abstract value of e over the region of c. */
static absval aeval(const absctx *c, const mj_expr *e) {
    absval x, y;
    switch (e->kind) {
    case MJ_E_CONST: return av_const(e->type, e->v);
    case MJ_E_BUILTIN: return aeval_builtin(c, e->u.builtin);
    case MJ_E_PARAM: case MJ_E_PARAM_AT: case MJ_E_TOKENS_AT: case MJ_E_HEADS_AT:
        return aeval_leaf(c, e);
    case MJ_E_UNARY:
        x = aeval(c, e->a[0]);
        if (e->u.op == MJ_OP_NOT) return av_b(mj_bi_not(x.b));
        return e->type == MJ_T_FLOAT ? av_f(mj_fi_neg(x.f)) : av_i(mj_ii_neg(x.i));
    case MJ_E_BINARY:
        x = aeval(c, e->a[0]);
        /* pure operands: a decided && / || needs no right side (same result) */
        if ((e->u.op == MJ_OP_AND && x.b == MJ_BI_FALSE) || (e->u.op == MJ_OP_OR && x.b == MJ_BI_TRUE))
            return x;
        y = aeval(c, e->a[1]);
        if (e->a[0]->type == MJ_T_FLOAT) return aeval_float_binary(e->u.op, x.f, y.f);
        if (e->a[0]->type == MJ_T_BOOL) return aeval_bool_binary(e->u.op, x.b, y.b);
        return aeval_int_binary(e->u.op, x.i, y.i);
    case MJ_E_SELECT: return aeval_select(c, e);
    case MJ_E_CALL: return aeval_call(c, e);
    case MJ_E_TO_FLOAT: return av_f(mj_ii_to_fi(aeval(c, e->a[0]).i));
    case MJ_E_TO_INT: return av_i(mj_fi_to_ii(aeval(c, e->a[0]).f));
    }
    return av_b(MJ_BI_ANY);
}

int mj_blocks_classify(const mj_program *p, const mj_env *env, const mj_summary *sum,
                       const mj_region *r) {
    absctx c = {p, env, sum, r};
    if (r->q0 > r->q1 || r->kv0 > r->kv1 || r->h0 > r->h1) return MJ_BLOCK_EMPTY;
    return mj_bi_block(aeval(&c, p->mask).b);
}

/* ---- block map ------------------------------------------------------------------- */

int mj_blocks_map(const mj_program *p, const struct mj_mask_fns *fns, const mj_env *env,
                  int32_t block, int32_t h0, int32_t h1, uint8_t *out) {
    mj_summary sum;
    int64_t n, nb;
    if (!p || !env || !out || block < 1 || env->seq_len < 0 || h0 > h1) return -1;
    if (mj_summary_build(p, env, block, &sum) != 0) return -1;
    n = env->seq_len;
    nb = (n + block - 1) / block;
    for (int64_t qb = 0; qb < nb; qb++) {
        for (int64_t kb = 0; kb < nb; kb++) {
            mj_region r;
            int64_t q1 = qb * block + block - 1, k1 = kb * block + block - 1;
            r.q0 = (int32_t)(qb * block);
            r.q1 = (int32_t)(q1 < n ? q1 : n - 1);
            r.kv0 = (int32_t)(kb * block);
            r.kv1 = (int32_t)(k1 < n ? k1 : n - 1);
            r.h0 = h0;
            r.h1 = h1;
            out[qb * nb + kb] = (uint8_t)(fns && fns->classify
                                          ? fns->classify(fns->ctx, env, &sum, &r)
                                          : mj_blocks_classify(p, env, &sum, &r));
        }
    }
    mj_summary_free(&sum);
    return 0;
}
