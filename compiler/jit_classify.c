/* jit_classify.c — LLVM IR of the block classifier
 *   int mj_classify(const void *ctx, const mj_env *env, const mj_summary *sum,
 *                   const mj_region *r)
 * the interval ("three-valued") evaluation of the mask over a region, with
 * exactly the results of mj_blocks_classify (blocks.c).
 *
 * Identity by construction: the generated code does no interval arithmetic of
 * its own; it calls, by absolute address, small wrappers around the functions
 * of mj_semantics.h Part 2 — the same functions the reference classifier
 * calls — and mirrors the reference's dispatch (which function for which node,
 * what a missing summary means).  Interval values live in stack slots passed
 * by pointer (no struct-by-value ABI between LLVM and C); mj_bi values are
 * plain i32.  Both sides of a ?: are evaluated (the reference evaluates only
 * the chosen one when the condition is definite: the functions are pure, so
 * the results agree). */
#include <stdio.h>
#include <string.h>

#include "jit_internal.h"
#include "mj_semantics.h"

/* ---- wrappers (the JIT calls these by address) ------------------------------- */

#define W_II2(op) \
    static void w_ii_##op(mj_ii *o, const mj_ii *a, const mj_ii *b) { *o = mj_ii_##op(*a, *b); }
#define W_FI2(op) \
    static void w_fi_##op(mj_fi *o, const mj_fi *a, const mj_fi *b) { *o = mj_fi_##op(*a, *b); }
#define W_II1(op) static void w_ii_##op(mj_ii *o, const mj_ii *a) { *o = mj_ii_##op(*a); }
#define W_FI1(op) static void w_fi_##op(mj_fi *o, const mj_fi *a) { *o = mj_fi_##op(*a); }
#define W_IIC(op) \
    static mj_bi w_ii_##op(const mj_ii *a, const mj_ii *b) { return mj_ii_##op(*a, *b); }
#define W_FIC(op) \
    static mj_bi w_fi_##op(const mj_fi *a, const mj_fi *b) { return mj_fi_##op(*a, *b); }
#define W_BI2(op) static mj_bi w_bi_##op(mj_bi a, mj_bi b) { return mj_bi_##op(a, b); }

W_II2(add) W_II2(sub) W_II2(mul) W_II2(div) W_II2(mod) W_II2(min) W_II2(max)
W_FI2(add) W_FI2(sub) W_FI2(mul) W_FI2(div) W_FI2(mod) W_FI2(min) W_FI2(max)
W_II1(neg) W_II1(abs)
W_FI1(neg) W_FI1(abs) W_FI1(exp) W_FI1(log) W_FI1(sqrt) W_FI1(tanh)
W_IIC(lt) W_IIC(le) W_IIC(gt) W_IIC(ge) W_IIC(eq) W_IIC(ne)
W_FIC(lt) W_FIC(le) W_FIC(gt) W_FIC(ge) W_FIC(eq) W_FIC(ne)
W_BI2(and) W_BI2(or) W_BI2(eq) W_BI2(ne)

static void w_ii_clamp(mj_ii *o, const mj_ii *x, const mj_ii *lo, const mj_ii *hi) {
    *o = mj_ii_clamp(*x, *lo, *hi);
}
static void w_fi_clamp(mj_fi *o, const mj_fi *x, const mj_fi *lo, const mj_fi *hi) {
    *o = mj_fi_clamp(*x, *lo, *hi);
}
static void w_ii_select(mj_ii *o, mj_bi c, const mj_ii *a, const mj_ii *b) {
    *o = mj_ii_select(c, *a, *b);
}
static void w_fi_select(mj_fi *o, mj_bi c, const mj_fi *a, const mj_fi *b) {
    *o = mj_fi_select(c, *a, *b);
}
static mj_bi w_bi_select(mj_bi c, mj_bi a, mj_bi b) { return mj_bi_select(c, a, b); }
static mj_bi w_bi_not(mj_bi a) { return mj_bi_not(a); }
static mj_bi w_bi_const(int32_t c) { return mj_bi_const(c != 0); }
static int32_t w_bi_block(mj_bi m) { return mj_bi_block(m); }
static void w_ii_const(mj_ii *o, int32_t c) { *o = mj_ii_const(c); }
static void w_fi_const(mj_fi *o, float c) { *o = mj_fi_const(c); }
static void w_ii_make(mj_ii *o, int32_t lo, int32_t hi) { *o = mj_ii_make(lo, hi); }
static void w_fi_any(mj_fi *o) { *o = mj_fi_make(-MJ_FINF, MJ_FINF, 1); }
static void w_ii_to_fi(mj_fi *o, const mj_ii *a) { *o = mj_ii_to_fi(*a); }
static void w_fi_to_ii(mj_ii *o, const mj_fi *a) { *o = mj_fi_to_ii(*a); }

/* Leaves.  Without a summary, a tokens read over more than one index is
 * every value of the type (as blocks.c). */
static void w_ii_tokens_at(mj_ii *o, const mj_env *env, const mj_summary *s, int32_t a,
                           const mj_ii *idx, int32_t def) {
    *o = !s && idx->lo != idx->hi ? mj_ii_full() : mj_ii_tokens_at(env, s, a, *idx, def);
}
static mj_bi w_bi_tokens_at(const mj_env *env, const mj_summary *s, int32_t a, const mj_ii *idx,
                            int32_t def) {
    return !s && idx->lo != idx->hi ? MJ_BI_ANY : mj_bi_tokens_at(env, s, a, *idx, def);
}
static void w_fi_tokens_at(mj_fi *o, const mj_env *env, const mj_summary *s, int32_t a,
                           const mj_ii *idx, float def) {
    *o = !s && idx->lo != idx->hi ? mj_fi_make(-MJ_FINF, MJ_FINF, 1)
                                  : mj_fi_tokens_at(env, s, a, *idx, def);
}
static void w_ii_param_at(mj_ii *o, const mj_env *env, int32_t off, int32_t n, const mj_ii *idx,
                          int32_t def) {
    *o = mj_ii_param_at(env, off, n, *idx, def);
}
static mj_bi w_bi_param_at(const mj_env *env, int32_t off, int32_t n, const mj_ii *idx,
                           int32_t def) {
    return mj_bi_param_at(env, off, n, *idx, def);
}
static void w_fi_param_at(mj_fi *o, const mj_env *env, int32_t off, int32_t n, const mj_ii *idx,
                          float def) {
    *o = mj_fi_param_at(env, off, n, *idx, def);
}
static void w_fi_heads_at(mj_fi *o, const mj_env *env, int32_t k, const mj_ii *idx) {
    *o = mj_fi_heads_at(env, k, *idx);
}

#define SYM(n) {"mj_rt_" #n, (void *)w_##n}
static const mj_jit_rt_sym classify_syms[] = {
    SYM(ii_add), SYM(ii_sub), SYM(ii_mul), SYM(ii_div), SYM(ii_mod), SYM(ii_min), SYM(ii_max),
    SYM(fi_add), SYM(fi_sub), SYM(fi_mul), SYM(fi_div), SYM(fi_mod), SYM(fi_min), SYM(fi_max),
    SYM(ii_neg), SYM(ii_abs), SYM(fi_neg), SYM(fi_abs), SYM(fi_exp), SYM(fi_log),
    SYM(fi_sqrt), SYM(fi_tanh), SYM(ii_lt), SYM(ii_le), SYM(ii_gt), SYM(ii_ge), SYM(ii_eq),
    SYM(ii_ne), SYM(fi_lt), SYM(fi_le), SYM(fi_gt), SYM(fi_ge), SYM(fi_eq), SYM(fi_ne),
    SYM(bi_and), SYM(bi_or), SYM(bi_eq), SYM(bi_ne), SYM(ii_clamp), SYM(fi_clamp),
    SYM(ii_select), SYM(fi_select), SYM(bi_select), SYM(bi_not), SYM(bi_const), SYM(bi_block),
    SYM(ii_const), SYM(fi_const), SYM(ii_make), SYM(fi_any), SYM(ii_to_fi), SYM(fi_to_ii),
    SYM(ii_tokens_at), SYM(bi_tokens_at), SYM(fi_tokens_at), SYM(ii_param_at),
    SYM(bi_param_at), SYM(fi_param_at), SYM(fi_heads_at),
};

size_t mj_jit_classify_rt_syms(const mj_jit_rt_sym **out) {
    *out = classify_syms;
    return sizeof classify_syms / sizeof classify_syms[0];
}

/* ---- IR helpers ----------------------------------------------------------------- */

/* Call host function mj_rt_<name> with the given arguments (its IR type is
 * taken from the arguments). */
static LLVMValueRef rt(mj_cg *g, const char *name, LLVMTypeRef ret, LLVMValueRef *args,
                       unsigned n) {
    char full[64];
    LLVMTypeRef tys[8];
    for (unsigned i = 0; i < n && i < 8; i++) tys[i] = LLVMTypeOf(args[i]);
    LLVMTypeRef fty = LLVMFunctionType(ret, tys, n, 0);
    snprintf(full, sizeof full, "mj_rt_%s", name);
    LLVMValueRef fn = mj_cg_extern_fn(g, full, fty);
    return LLVMBuildCall2(g->b, fty, fn, args, n, "");
}

/* A fresh stack slot for an interval of type t (int: mj_ii, float: mj_fi). */
static LLVMValueRef slot(mj_cg *g, mj_type t) {
    if (t == MJ_T_FLOAT) return mj_cg_entry_alloca(g, sizeof(mj_fi), _Alignof(mj_fi));
    return mj_cg_entry_alloca(g, sizeof(mj_ii), _Alignof(mj_ii));
}

/* Call mj_rt_<name>(out, args...) writing a new interval of type t; returns out. */
static LLVMValueRef rt_out(mj_cg *g, mj_type t, const char *name, LLVMValueRef *args, unsigned n) {
    LLVMValueRef all[8];
    all[0] = slot(g, t);
    for (unsigned i = 0; i < n && i < 7; i++) all[i + 1] = args[i];
    rt(g, name, g->t_void, all, n + 1);
    return all[0];
}

static LLVMValueRef i32c(mj_cg *g, int32_t v) {
    return LLVMConstInt(g->t_i32, (unsigned long long)(uint32_t)v, 0);
}

static LLVMValueRef f32c(mj_cg *g, float f) {
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    return LLVMConstBitCast(LLVMConstInt(g->t_i32, bits, 0), g->t_f32);
}

static const char *tpfx(mj_type t) { return t == MJ_T_FLOAT ? "fi" : t == MJ_T_BOOL ? "bi" : "ii"; }

/* Interval [c, c] of an int (for a type mismatch the reference reads a zeroed
 * member: [0, 0]). */
static LLVMValueRef ii_const(mj_cg *g, LLVMValueRef c) {
    return rt_out(g, MJ_T_INT, "ii_const", &c, 1);
}

/* ---- abstract evaluation ------------------------------------------------------------ */

static LLVMValueRef aval(mj_cg *g, const mj_expr *e);

static LLVMValueRef a_const(mj_cg *g, mj_type t, mj_value v) {
    if (t == MJ_T_BOOL) return i32c(g, mj_bi_const(v.i != 0));
    if (t == MJ_T_INT) return ii_const(g, i32c(g, v.i));
    LLVMValueRef c = f32c(g, v.f);
    return rt_out(g, MJ_T_FLOAT, "fi_const", &c, 1);
}

static LLVMValueRef a_builtin(mj_cg *g, mj_builtin b) {
    LLVMValueRef lh[2];
    switch (b) {
    case MJ_B_Q: case MJ_B_KV: case MJ_B_H: {
        unsigned f = b == MJ_B_Q ? 0 : b == MJ_B_KV ? 2 : 4;
        for (unsigned i = 0; i < 2; i++) {
            LLVMValueRef p = LLVMBuildStructGEP2(g->b, g->t_region, g->region, f + i, "");
            lh[i] = LLVMBuildLoad2(g->b, g->t_i32, p, "");
        }
        return rt_out(g, MJ_T_INT, "ii_make", lh, 2);
    }
    case MJ_B_B: return ii_const(g, mj_cg_env_field(g, MJ_ENVF_B));
    case MJ_B_N_HEADS: return ii_const(g, mj_cg_env_field(g, MJ_ENVF_N_HEADS));
    case MJ_B_PROMPT_LEN: return ii_const(g, mj_cg_env_field(g, MJ_ENVF_PROMPT_LEN));
    case MJ_B_SEQ_LEN: return ii_const(g, mj_cg_env_field(g, MJ_ENVF_SEQ_LEN));
    default: return rt_out(g, MJ_T_FLOAT, "fi_any", NULL, 0);
    }
}

/* A scalar param: the constant interval of its bound value. */
static LLVMValueRef a_param(mj_cg *g, const mj_expr *e) {
    const mj_param *pa = &g->p->params[e->u.index];
    LLVMTypeRef st = e->type == MJ_T_FLOAT ? g->t_f32 : g->t_i32;
    LLVMValueRef off = LLVMConstInt(g->t_i64, (unsigned long long)pa->offset, 0);
    LLVMValueRef ptr = LLVMBuildGEP2(g->b, st, mj_cg_env_field(g, MJ_ENVF_PARAMS), &off, 1, "");
    LLVMValueRef v = LLVMBuildLoad2(g->b, st, ptr, pa->name);
    if (e->type == MJ_T_BOOL) return rt(g, "bi_const", g->t_i32, &v, 1);
    if (e->type == MJ_T_INT) return ii_const(g, v);
    return rt_out(g, MJ_T_FLOAT, "fi_const", &v, 1);
}

static LLVMValueRef a_leaf(mj_cg *g, const mj_expr *e) {
    LLVMValueRef idx = aval(g, e->a[0]), env = g->env;
    int fl = e->type == MJ_T_FLOAT, bo = e->type == MJ_T_BOOL;
    char name[32];
    if (e->kind == MJ_E_HEADS_AT) {
        LLVMValueRef args[3] = {env, i32c(g, e->u.index), idx};
        return rt_out(g, MJ_T_FLOAT, "fi_heads_at", args, 3);
    }
    if (e->kind == MJ_E_PARAM_AT) {
        const mj_param *pa = &g->p->params[e->u.index];
        LLVMValueRef def = fl ? f32c(g, pa->def.f) : i32c(g, pa->def.i);
        LLVMValueRef args[5] = {env, i32c(g, pa->offset), i32c(g, pa->count), idx, def};
        snprintf(name, sizeof name, "%s_param_at", tpfx(e->type));
        return bo ? rt(g, name, g->t_i32, args, 5) : rt_out(g, e->type, name, args, 5);
    }
    const mj_tokens *t = &g->p->tokens[e->u.index];
    LLVMValueRef def = fl ? f32c(g, t->def.f) : i32c(g, t->def.i);
    LLVMValueRef args[5] = {env, g->sum, i32c(g, e->u.index), idx, def};
    snprintf(name, sizeof name, "%s_tokens_at", tpfx(e->type));
    return bo ? rt(g, name, g->t_i32, args, 5) : rt_out(g, e->type, name, args, 5);
}

static const char *op_name(mj_op op) {
    static const char *names[] = {"neg", "not", "add", "sub", "mul", "div", "mod", "lt", "le",
                                  "gt", "ge", "eq", "ne", "and", "or"};
    return names[op];
}

static LLVMValueRef a_binary(mj_cg *g, const mj_expr *e) {
    LLVMValueRef xy[2] = {aval(g, e->a[0]), aval(g, e->a[1])};
    mj_type t = e->a[0]->type;
    mj_op op = e->u.op;
    char name[32];
    snprintf(name, sizeof name, "%s_%s", tpfx(t), op_name(op));
    if (t == MJ_T_BOOL) {
        if (op == MJ_OP_AND || op == MJ_OP_OR || op == MJ_OP_EQ || op == MJ_OP_NE)
            return rt(g, name, g->t_i32, xy, 2);
        return i32c(g, MJ_BI_ANY);
    }
    if (op >= MJ_OP_LT && op <= MJ_OP_NE) return rt(g, name, g->t_i32, xy, 2);
    if (op >= MJ_OP_ADD && op <= MJ_OP_MOD) return rt_out(g, t, name, xy, 2);
    return i32c(g, MJ_BI_ANY);
}

static LLVMValueRef a_call(mj_cg *g, const mj_expr *e) {
    static const char *names[] = {"min", "max", "abs", "clamp", "exp", "log", "sqrt", "tanh"};
    LLVMValueRef a[3];
    int n = e->nargs < 1 ? 1 : e->nargs > 3 ? 3 : e->nargs;
    for (int i = 0; i < n; i++) a[i] = aval(g, e->a[i]);
    mj_type t = e->a[0]->type == MJ_T_FLOAT ? MJ_T_FLOAT : MJ_T_INT;
    char name[32];
    if (e->u.fn >= MJ_FN_EXP) {
        snprintf(name, sizeof name, "fi_%s", names[e->u.fn]);
        return rt_out(g, MJ_T_FLOAT, name, a, 1);
    }
    snprintf(name, sizeof name, "%s_%s", tpfx(t), names[e->u.fn]);
    unsigned want = e->u.fn == MJ_FN_ABS ? 1 : e->u.fn == MJ_FN_CLAMP ? 3 : 2;
    for (int i = n; i < (int)want; i++) a[i] = a[0];   /* malformed arity: mirror blocks.c */
    return rt_out(g, t, name, a, want);
}

static LLVMValueRef a_uncached(mj_cg *g, const mj_expr *e) {
    switch (e->kind) {
    case MJ_E_CONST: return a_const(g, e->type, e->v);
    case MJ_E_BUILTIN: return a_builtin(g, e->u.builtin);
    case MJ_E_PARAM: return a_param(g, e);
    case MJ_E_PARAM_AT: case MJ_E_TOKENS_AT: case MJ_E_HEADS_AT: return a_leaf(g, e);
    case MJ_E_UNARY: {
        LLVMValueRef x = aval(g, e->a[0]);
        if (e->u.op == MJ_OP_NOT) return rt(g, "bi_not", g->t_i32, &x, 1);
        return rt_out(g, e->type, e->type == MJ_T_FLOAT ? "fi_neg" : "ii_neg", &x, 1);
    }
    case MJ_E_BINARY: return a_binary(g, e);
    case MJ_E_SELECT: {
        LLVMValueRef cxy[3] = {aval(g, e->a[0]), aval(g, e->a[1]), aval(g, e->a[2])};
        if (e->type == MJ_T_BOOL) return rt(g, "bi_select", g->t_i32, cxy, 3);
        return rt_out(g, e->type, e->type == MJ_T_FLOAT ? "fi_select" : "ii_select", cxy, 3);
    }
    case MJ_E_CALL: return a_call(g, e);
    case MJ_E_TO_FLOAT: {
        LLVMValueRef x = e->a[0]->type == MJ_T_INT ? aval(g, e->a[0]) : ii_const(g, i32c(g, 0));
        return rt_out(g, MJ_T_FLOAT, "ii_to_fi", &x, 1);
    }
    case MJ_E_TO_INT: {
        if (e->a[0]->type != MJ_T_FLOAT) return ii_const(g, i32c(g, 0));
        LLVMValueRef x = aval(g, e->a[0]);
        return rt_out(g, MJ_T_INT, "fi_to_ii", &x, 1);
    }
    }
    return i32c(g, MJ_BI_ANY);
}

/* Abstract value of e: an i32 mj_bi for bool, else a pointer to its slot. */
static LLVMValueRef aval(mj_cg *g, const mj_expr *e) {
    LLVMValueRef v = mj_cg_memo_get(g, e);
    if (v) return v;
    v = a_uncached(g, e);
    mj_cg_memo_put(g, e, v);
    return v;
}

int mj_cg_emit_classify(mj_cg *g) {
    LLVMTypeRef args[4] = {g->t_ptr, g->t_ptr, g->t_ptr, g->t_ptr};
    LLVMTypeRef fty = LLVMFunctionType(g->t_i32, args, 4, 0);
    LLVMValueRef fn = mj_cg_begin_fn(g, MJ_JIT_SYM_CLASSIFY, fty);
    g->env = LLVMGetParam(fn, 1);
    g->sum = LLVMGetParam(fn, 2);
    g->region = LLVMGetParam(fn, 3);
    /* an empty region is EMPTY */
    LLVMValueRef bad = LLVMConstInt(g->t_i1, 0, 0);
    for (unsigned f = 0; f < 6; f += 2) {
        LLVMValueRef p0 = LLVMBuildStructGEP2(g->b, g->t_region, g->region, f, "");
        LLVMValueRef p1 = LLVMBuildStructGEP2(g->b, g->t_region, g->region, f + 1, "");
        LLVMValueRef lo = LLVMBuildLoad2(g->b, g->t_i32, p0, "");
        LLVMValueRef hi = LLVMBuildLoad2(g->b, g->t_i32, p1, "");
        bad = LLVMBuildOr(g->b, bad, LLVMBuildICmp(g->b, LLVMIntSGT, lo, hi, ""), "");
    }
    LLVMBasicBlockRef empty = LLVMAppendBasicBlockInContext(g->c, fn, "empty");
    LLVMBasicBlockRef eval = LLVMAppendBasicBlockInContext(g->c, fn, "eval");
    LLVMBuildCondBr(g->b, bad, empty, eval);
    LLVMPositionBuilderAtEnd(g->b, empty);
    LLVMBuildRet(g->b, i32c(g, MJ_BLOCK_EMPTY));
    LLVMPositionBuilderAtEnd(g->b, eval);
    LLVMValueRef m = aval(g, g->p->mask);
    LLVMBuildRet(g->b, rt(g, "bi_block", g->t_i32, &m, 1));
    return g->oom ? -1 : 0;
}
