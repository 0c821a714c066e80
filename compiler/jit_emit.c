/* jit_emit.c — LLVM IR for the scalar functions of a checked program: the
 * mask, score and position functions of mask_fns.h, with exactly the
 * semantics of mj_ir.h / mj_semantics.h Part 1:
 *   - int + - * and unary - are plain wrapping LLVM ops (no nsw/nuw);
 *   - / and % go through selects so that sdiv/srem never see 0, or -1 (and
 *     hence never INT_MIN / -1): x/0 = 0, x%0 = 0, x/-1 = -x (wrapping), x%-1 = 0;
 *   - float ops carry no fast-math flags;
 *   - int(x) is llvm.fptosi.sat (saturating, NaN -> 0, as mj_f2i);
 *   - sqrt is llvm.sqrt (correctly rounded, as sqrtf), abs is llvm.fabs;
 *   - exp/log/tanh/min/max/clamp/% on floats call host functions (mj_rt_*,
 *     bound to their addresses) that call expf/logf/tanhf/fminf/fmaxf/
 *     mj_fclamp/fmodf, so LLVM cannot constant-fold or replace them: results
 *     are bit-identical to the interpreter's calls.  (fminf/fmaxf leave the
 *     sign of a zero result open for (-0, +0), and C compilers treat them as
 *     commutative: clamp goes through mj_fclamp itself to match the
 *     interpreter's operand order.)
 * Bool values are i1; bool slots of mj_value are read as (i != 0). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "jit_internal.h"
#include "mj_semantics.h"

/* ---- memo ------------------------------------------------------------------ */

static size_t memo_slot(const void *key, size_t cap) {
    uintptr_t x = (uintptr_t)key;
    x ^= x >> 17;
    x *= (uintptr_t)0x9E3779B97F4A7C15ull;
    return (size_t)(x >> 7) & (cap - 1);
}

LLVMValueRef mj_cg_memo_get(const mj_cg *g, const void *key) {
    if (!g->memo.cap) return NULL;
    for (size_t i = memo_slot(key, g->memo.cap);; i = (i + 1) & (g->memo.cap - 1)) {
        if (!g->memo.keys[i]) return NULL;
        if (g->memo.keys[i] == key) return g->memo.vals[i];
    }
}

static int memo_grow(mj_cg *g) {
    size_t ncap = g->memo.cap ? g->memo.cap * 2 : 64;
    const void **nk = calloc(ncap, sizeof *nk);
    LLVMValueRef *nv = calloc(ncap, sizeof *nv);
    if (!nk || !nv) { free(nk); free(nv); return -1; }
    for (size_t i = 0; i < g->memo.cap; i++) {
        if (!g->memo.keys[i]) continue;
        size_t j = memo_slot(g->memo.keys[i], ncap);
        while (nk[j]) j = (j + 1) & (ncap - 1);
        nk[j] = g->memo.keys[i];
        nv[j] = g->memo.vals[i];
    }
    free(g->memo.keys);
    free(g->memo.vals);
    g->memo.keys = nk;
    g->memo.vals = nv;
    g->memo.cap = ncap;
    return 0;
}

void mj_cg_memo_put(mj_cg *g, const void *key, LLVMValueRef v) {
    if ((g->memo.n + 1) * 2 > g->memo.cap && memo_grow(g) != 0) { g->oom = 1; return; }
    size_t i = memo_slot(key, g->memo.cap);
    while (g->memo.keys[i] && g->memo.keys[i] != key) i = (i + 1) & (g->memo.cap - 1);
    if (!g->memo.keys[i]) g->memo.n++;
    g->memo.keys[i] = key;
    g->memo.vals[i] = v;
}

static void memo_clear(mj_cg *g) {
    if (g->memo.cap) {
        memset(g->memo.keys, 0, g->memo.cap * sizeof *g->memo.keys);
        g->memo.n = 0;
    }
}

/* ---- set-up ------------------------------------------------------------------ */

void mj_cg_init(mj_cg *g, LLVMContextRef c, LLVMModuleRef m, const mj_program *p) {
    memset(g, 0, sizeof *g);
    g->c = c;
    g->m = m;
    g->p = p;
    g->b = LLVMCreateBuilderInContext(c);
    g->t_i1 = LLVMInt1TypeInContext(c);
    g->t_i8 = LLVMInt8TypeInContext(c);
    g->t_i32 = LLVMInt32TypeInContext(c);
    g->t_i64 = LLVMInt64TypeInContext(c);
    g->t_f32 = LLVMFloatTypeInContext(c);
    g->t_ptr = LLVMPointerTypeInContext(c, 0);
    g->t_void = LLVMVoidTypeInContext(c);
    LLVMTypeRef env_f[MJ_ENVF_COUNT] = {g->t_i32, g->t_i32, g->t_i32, g->t_i32, g->t_i64,
                                        g->t_i64, g->t_ptr, g->t_ptr, g->t_ptr};
    g->t_env = LLVMStructCreateNamed(c, "mj_env");
    LLVMStructSetBody(g->t_env, env_f, MJ_ENVF_COUNT, 0);
    LLVMTypeRef sum_f[5] = {g->t_i32, g->t_i32, g->t_i64, g->t_ptr, g->t_ptr};
    g->t_summary = LLVMStructCreateNamed(c, "mj_summary");
    LLVMStructSetBody(g->t_summary, sum_f, 5, 0);
    LLVMTypeRef reg_f[6] = {g->t_i32, g->t_i32, g->t_i32, g->t_i32, g->t_i32, g->t_i32};
    g->t_region = LLVMStructCreateNamed(c, "mj_region");
    LLVMStructSetBody(g->t_region, reg_f, 6, 0);
    LLVMTypeRef ff[2] = {g->t_f32, g->t_f32};
    g->t_f1 = LLVMFunctionType(g->t_f32, ff, 1, 0);
    g->t_f2 = LLVMFunctionType(g->t_f32, ff, 2, 0);
}

void mj_cg_dispose(mj_cg *g) {
    if (g->b) LLVMDisposeBuilder(g->b);
    free(g->memo.keys);
    free(g->memo.vals);
    memset(g, 0, sizeof *g);
}

static void add_fn_attr(mj_cg *g, LLVMValueRef fn, LLVMAttributeIndex idx, const char *name) {
    unsigned kind = LLVMGetEnumAttributeKindForName(name, strlen(name));
    LLVMAddAttributeAtIndex(fn, idx, LLVMCreateEnumAttribute(g->c, kind, 0));
}

LLVMValueRef mj_cg_begin_fn(mj_cg *g, const char *name, LLVMTypeRef fty) {
    LLVMValueRef fn = LLVMAddFunction(g->m, name, fty);
    add_fn_attr(g, fn, LLVMAttributeFunctionIndex, "nounwind");
    LLVMBasicBlockRef entry = LLVMAppendBasicBlockInContext(g->c, fn, "entry");
    LLVMBasicBlockRef body = LLVMAppendBasicBlockInContext(g->c, fn, "body");
    LLVMPositionBuilderAtEnd(g->b, entry);
    g->entry_term = LLVMBuildBr(g->b, body);
    LLVMPositionBuilderAtEnd(g->b, body);
    g->fn = fn;
    memset(g->envf, 0, sizeof g->envf);
    memo_clear(g);
    return fn;
}

LLVMValueRef mj_cg_env_field(mj_cg *g, int f) {
    if (g->envf[f]) return g->envf[f];
    static const char *names[MJ_ENVF_COUNT] = {"n_heads", "prompt_len", "seq_len", "b",
                                               "tokens_len", "tokens_stride", "params",
                                               "tokens", "heads"};
    LLVMBasicBlockRef cur = LLVMGetInsertBlock(g->b);
    LLVMPositionBuilderBefore(g->b, g->entry_term);
    LLVMValueRef gep = LLVMBuildStructGEP2(g->b, g->t_env, g->env, (unsigned)f, "");
    LLVMTypeRef ty = f < MJ_ENVF_TOKENS_LEN ? g->t_i32 : f < MJ_ENVF_PARAMS ? g->t_i64 : g->t_ptr;
    LLVMValueRef v = LLVMBuildLoad2(g->b, ty, gep, names[f]);
    LLVMPositionBuilderAtEnd(g->b, cur);
    g->envf[f] = v;
    return v;
}

LLVMValueRef mj_cg_entry_alloca(mj_cg *g, uint64_t size, unsigned align) {
    LLVMBasicBlockRef cur = LLVMGetInsertBlock(g->b);
    LLVMPositionBuilderBefore(g->b, g->entry_term);
    LLVMTypeRef ty = LLVMArrayType2(g->t_i8, size);
    LLVMValueRef v = LLVMBuildAlloca(g->b, ty, "");
    LLVMSetAlignment(v, align);
    LLVMPositionBuilderAtEnd(g->b, cur);
    return v;
}

LLVMValueRef mj_cg_extern_fn(mj_cg *g, const char *name, LLVMTypeRef fty) {
    LLVMValueRef fn = LLVMGetNamedFunction(g->m, name);
    if (fn) return fn;
    fn = LLVMAddFunction(g->m, name, fty);
    add_fn_attr(g, fn, LLVMAttributeFunctionIndex, "nounwind");
    return fn;
}

/* ---- host functions ------------------------------------------------------------ */

static float rt_expf(float x) { return expf(x); }
static float rt_logf(float x) { return logf(x); }
static float rt_tanhf(float x) { return tanhf(x); }
static float rt_fminf(float a, float b) { return mj_fmin(a, b); }
static float rt_fmaxf(float a, float b) { return mj_fmax(a, b); }
static float rt_fmodf(float a, float b) { return fmodf(a, b); }
static float rt_fclamp(float x, float lo, float hi) { return mj_fclamp(x, lo, hi); }

static const mj_jit_rt_sym scalar_syms[] = {
    {"mj_rt_expf", (void *)rt_expf},   {"mj_rt_logf", (void *)rt_logf},
    {"mj_rt_tanhf", (void *)rt_tanhf}, {"mj_rt_fminf", (void *)rt_fminf},
    {"mj_rt_fmaxf", (void *)rt_fmaxf}, {"mj_rt_fmodf", (void *)rt_fmodf},
    {"mj_rt_fclamp", (void *)rt_fclamp},
};

size_t mj_jit_scalar_rt_syms(const mj_jit_rt_sym **out) {
    *out = scalar_syms;
    return sizeof scalar_syms / sizeof scalar_syms[0];
}

/* ---- value helpers -------------------------------------------------------------- */

static LLVMValueRef const_i32(mj_cg *g, int32_t v) {
    return LLVMConstInt(g->t_i32, (unsigned long long)(uint32_t)v, 0);
}

static LLVMValueRef const_f32(mj_cg *g, float f) {
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    return LLVMConstBitCast(LLVMConstInt(g->t_i32, bits, 0), g->t_f32);
}

/* Constant of type t from an mj_value slot. */
static LLVMValueRef const_value(mj_cg *g, mj_type t, mj_value v) {
    if (t == MJ_T_BOOL) return LLVMConstInt(g->t_i1, v.i != 0, 0);
    if (t == MJ_T_INT) return const_i32(g, v.i);
    return const_f32(g, v.f);
}

/* The slot type of t (bool and int are i32 slots). */
static LLVMTypeRef slot_type(mj_cg *g, mj_type t) { return t == MJ_T_FLOAT ? g->t_f32 : g->t_i32; }

/* Slot value -> scalar value of type t. */
static LLVMValueRef from_slot(mj_cg *g, mj_type t, LLVMValueRef v) {
    if (t != MJ_T_BOOL) return v;
    return LLVMBuildICmp(g->b, LLVMIntNE, v, const_i32(g, 0), "");
}

static LLVMValueRef slot_const(mj_cg *g, mj_type t, mj_value v) {
    return t == MJ_T_FLOAT ? const_f32(g, v.f) : const_i32(g, v.i);
}

static LLVMValueRef intrinsic(mj_cg *g, const char *name, LLVMTypeRef *tys, size_t ntys,
                              LLVMValueRef *args, unsigned nargs) {
    unsigned id = LLVMLookupIntrinsicID(name, strlen(name));
    LLVMValueRef fn = LLVMGetIntrinsicDeclaration(g->m, id, tys, ntys);
    LLVMTypeRef fty = LLVMIntrinsicGetType(g->c, id, tys, ntys);
    return LLVMBuildCall2(g->b, fty, fn, args, nargs, "");
}

static LLVMValueRef call_rt(mj_cg *g, const char *name, LLVMValueRef *args, unsigned nargs) {
    LLVMTypeRef fty = nargs == 1 ? g->t_f1 : g->t_f2;
    LLVMValueRef fn = mj_cg_extern_fn(g, name, fty);
    return LLVMBuildCall2(g->b, fty, fn, args, nargs, "");
}

/* `inrange ? <load ty at base[off]> : def`, with the load only on the
 * in-range path. */
static LLVMValueRef guarded_load(mj_cg *g, LLVMValueRef inrange, LLVMValueRef base,
                                 LLVMValueRef off64, LLVMTypeRef ty, LLVMValueRef def) {
    LLVMBasicBlockRef cur = LLVMGetInsertBlock(g->b);
    LLVMBasicBlockRef in_bb = LLVMAppendBasicBlockInContext(g->c, g->fn, "in");
    LLVMBasicBlockRef join = LLVMAppendBasicBlockInContext(g->c, g->fn, "join");
    LLVMBuildCondBr(g->b, inrange, in_bb, join);
    LLVMPositionBuilderAtEnd(g->b, in_bb);
    LLVMValueRef ptr = LLVMBuildGEP2(g->b, ty, base, &off64, 1, "");
    LLVMValueRef val = LLVMBuildLoad2(g->b, ty, ptr, "");
    LLVMBuildBr(g->b, join);
    LLVMPositionBuilderAtEnd(g->b, join);
    LLVMValueRef phi = LLVMBuildPhi(g->b, ty, "");
    LLVMValueRef vals[2] = {def, val};
    LLVMBasicBlockRef bbs[2] = {cur, in_bb};
    LLVMAddIncoming(phi, vals, bbs, 2);
    return phi;
}

/* 0 <= idx (i32) < limit (i64) */
static LLVMValueRef in_range64(mj_cg *g, LLVMValueRef idx, LLVMValueRef limit64) {
    LLVMValueRef ge0 = LLVMBuildICmp(g->b, LLVMIntSGE, idx, const_i32(g, 0), "");
    LLVMValueRef idx64 = LLVMBuildSExt(g->b, idx, g->t_i64, "");
    LLVMValueRef lt = LLVMBuildICmp(g->b, LLVMIntSLT, idx64, limit64, "");
    return LLVMBuildAnd(g->b, ge0, lt, "");
}

/* mj_tokens_at(env, a, idx, def) */
LLVMValueRef mj_cg_tokens_at(mj_cg *g, int32_t a, LLVMValueRef idx) {
    const mj_tokens *t = &g->p->tokens[a];
    LLVMValueRef len = mj_cg_env_field(g, MJ_ENVF_TOKENS_LEN);
    LLVMValueRef stride = mj_cg_env_field(g, MJ_ENVF_TOKENS_STRIDE);
    LLVMValueRef base = mj_cg_env_field(g, MJ_ENVF_TOKENS);
    LLVMValueRef inr = in_range64(g, idx, len);
    LLVMValueRef row = LLVMBuildMul(g->b, LLVMConstInt(g->t_i64, (unsigned long long)a, 0),
                                    stride, "");
    LLVMValueRef off = LLVMBuildAdd(g->b, row, LLVMBuildSExt(g->b, idx, g->t_i64, ""), "");
    LLVMValueRef v = guarded_load(g, inr, base, off, slot_type(g, t->type),
                                  slot_const(g, t->type, t->def));
    return from_slot(g, t->type, v);
}

/* mj_param_at(env, offset, count, idx, def) */
LLVMValueRef mj_cg_param_at(mj_cg *g, int32_t k, LLVMValueRef idx) {
    const mj_param *pr = &g->p->params[k];
    LLVMValueRef base = mj_cg_env_field(g, MJ_ENVF_PARAMS);
    LLVMValueRef ge0 = LLVMBuildICmp(g->b, LLVMIntSGE, idx, const_i32(g, 0), "");
    LLVMValueRef lt = LLVMBuildICmp(g->b, LLVMIntSLT, idx, const_i32(g, pr->count), "");
    LLVMValueRef inr = LLVMBuildAnd(g->b, ge0, lt, "");
    LLVMValueRef off = LLVMBuildAdd(g->b, LLVMConstInt(g->t_i64, (unsigned long long)pr->offset, 0),
                                    LLVMBuildSExt(g->b, idx, g->t_i64, ""), "");
    LLVMValueRef v = guarded_load(g, inr, base, off, slot_type(g, pr->type),
                                  slot_const(g, pr->type, pr->def));
    return from_slot(g, pr->type, v);
}

/* mj_heads_at(env, k, idx) */
LLVMValueRef mj_cg_heads_at(mj_cg *g, int32_t k, LLVMValueRef idx) {
    LLVMValueRef nh = mj_cg_env_field(g, MJ_ENVF_N_HEADS);
    LLVMValueRef base = mj_cg_env_field(g, MJ_ENVF_HEADS);
    LLVMValueRef nh64 = LLVMBuildSExt(g->b, nh, g->t_i64, "");
    LLVMValueRef inr = in_range64(g, idx, nh64);
    LLVMValueRef kc = LLVMConstInt(g->t_i64, (unsigned long long)k, 0);
    LLVMValueRef row = LLVMBuildMul(g->b, kc, nh64, "");
    LLVMValueRef off = LLVMBuildAdd(g->b, row, LLVMBuildSExt(g->b, idx, g->t_i64, ""), "");
    return guarded_load(g, inr, base, off, g->t_f32, const_f32(g, 0.0f));
}

static LLVMValueRef scalar_param(mj_cg *g, int32_t k) {
    const mj_param *pr = &g->p->params[k];
    LLVMValueRef base = mj_cg_env_field(g, MJ_ENVF_PARAMS);
    LLVMValueRef off = LLVMConstInt(g->t_i64, (unsigned long long)pr->offset, 0);
    LLVMValueRef ptr = LLVMBuildGEP2(g->b, slot_type(g, pr->type), base, &off, 1, "");
    return from_slot(g, pr->type, LLVMBuildLoad2(g->b, slot_type(g, pr->type), ptr, pr->name));
}

static LLVMValueRef builtin(mj_cg *g, mj_builtin bi) {
    switch (bi) {
    case MJ_B_Q: return g->q;
    case MJ_B_KV: return g->kv;
    case MJ_B_H: return g->h;
    case MJ_B_SCORE: return g->raw;
    case MJ_B_B: return mj_cg_env_field(g, MJ_ENVF_B);
    case MJ_B_N_HEADS: return mj_cg_env_field(g, MJ_ENVF_N_HEADS);
    case MJ_B_PROMPT_LEN: return mj_cg_env_field(g, MJ_ENVF_PROMPT_LEN);
    case MJ_B_SEQ_LEN: return mj_cg_env_field(g, MJ_ENVF_SEQ_LEN);
    default: return const_i32(g, 0);
    }
}

/* ---- operators -------------------------------------------------------------------- */

/* mj_idiv / mj_imod: sdiv/srem only ever see divisors other than 0 and -1. */
static LLVMValueRef int_divmod(mj_cg *g, mj_op op, LLVMValueRef a, LLVMValueRef b) {
    LLVMValueRef zero = const_i32(g, 0);
    LLVMValueRef is0 = LLVMBuildICmp(g->b, LLVMIntEQ, b, zero, "");
    LLVMValueRef ism1 = LLVMBuildICmp(g->b, LLVMIntEQ, b, const_i32(g, -1), "");
    LLVMValueRef special = LLVMBuildOr(g->b, is0, ism1, "");
    LLVMValueRef safe = LLVMBuildSelect(g->b, special, const_i32(g, 1), b, "");
    if (op == MJ_OP_MOD) {
        LLVMValueRef r = LLVMBuildSRem(g->b, a, safe, "");
        return LLVMBuildSelect(g->b, special, zero, r, "");
    }
    LLVMValueRef qv = LLVMBuildSDiv(g->b, a, safe, "");
    LLVMValueRef neg = LLVMBuildSub(g->b, zero, a, "");
    LLVMValueRef r = LLVMBuildSelect(g->b, ism1, neg, qv, "");
    return LLVMBuildSelect(g->b, is0, zero, r, "");
}

static LLVMValueRef compare(mj_cg *g, mj_op op, mj_type t, LLVMValueRef a, LLVMValueRef b) {
    if (t == MJ_T_FLOAT) {
        LLVMRealPredicate pr = op == MJ_OP_LT ? LLVMRealOLT : op == MJ_OP_LE ? LLVMRealOLE
                             : op == MJ_OP_GT ? LLVMRealOGT : op == MJ_OP_GE ? LLVMRealOGE
                             : op == MJ_OP_EQ ? LLVMRealOEQ : LLVMRealUNE;
        return LLVMBuildFCmp(g->b, pr, a, b, "");
    }
    int u = t == MJ_T_BOOL; /* false < true */
    LLVMIntPredicate pr = op == MJ_OP_LT ? (u ? LLVMIntULT : LLVMIntSLT)
                        : op == MJ_OP_LE ? (u ? LLVMIntULE : LLVMIntSLE)
                        : op == MJ_OP_GT ? (u ? LLVMIntUGT : LLVMIntSGT)
                        : op == MJ_OP_GE ? (u ? LLVMIntUGE : LLVMIntSGE)
                        : op == MJ_OP_EQ ? LLVMIntEQ : LLVMIntNE;
    return LLVMBuildICmp(g->b, pr, a, b, "");
}

static LLVMValueRef binary(mj_cg *g, const mj_expr *e) {
    LLVMValueRef a = mj_cg_expr(g, e->a[0]);
    LLVMValueRef b = mj_cg_expr(g, e->a[1]);
    mj_type t = e->a[0]->type;
    int fl = t == MJ_T_FLOAT;
    switch (e->u.op) {
    case MJ_OP_ADD: return fl ? LLVMBuildFAdd(g->b, a, b, "") : LLVMBuildAdd(g->b, a, b, "");
    case MJ_OP_SUB: return fl ? LLVMBuildFSub(g->b, a, b, "") : LLVMBuildSub(g->b, a, b, "");
    case MJ_OP_MUL: return fl ? LLVMBuildFMul(g->b, a, b, "") : LLVMBuildMul(g->b, a, b, "");
    case MJ_OP_DIV: return fl ? LLVMBuildFDiv(g->b, a, b, "") : int_divmod(g, MJ_OP_DIV, a, b);
    case MJ_OP_MOD: {
        LLVMValueRef ab[2] = {a, b};
        return fl ? call_rt(g, "mj_rt_fmodf", ab, 2) : int_divmod(g, MJ_OP_MOD, a, b);
    }
    case MJ_OP_AND: return LLVMBuildAnd(g->b, a, b, "");
    case MJ_OP_OR: return LLVMBuildOr(g->b, a, b, "");
    default: return compare(g, e->u.op, t, a, b);
    }
}

static LLVMValueRef unary(mj_cg *g, const mj_expr *e) {
    LLVMValueRef a = mj_cg_expr(g, e->a[0]);
    if (e->u.op == MJ_OP_NOT) return LLVMBuildXor(g->b, a, LLVMConstInt(g->t_i1, 1, 0), "");
    if (e->type == MJ_T_FLOAT) return LLVMBuildFNeg(g->b, a, "");
    return LLVMBuildSub(g->b, const_i32(g, 0), a, "");
}

static LLVMValueRef imin_max(mj_cg *g, int is_max, LLVMValueRef a, LLVMValueRef b) {
    LLVMValueRef c = LLVMBuildICmp(g->b, is_max ? LLVMIntSGT : LLVMIntSLT, a, b, "");
    return LLVMBuildSelect(g->b, c, a, b, "");
}

static LLVMValueRef call(mj_cg *g, const mj_expr *e) {
    LLVMValueRef a[3] = {NULL, NULL, NULL};
    for (int i = 0; i < e->nargs && i < 3; i++) a[i] = mj_cg_expr(g, e->a[i]);
    int fl = e->type == MJ_T_FLOAT;
    LLVMTypeRef ft = g->t_f32;
    switch (e->u.fn) {
    case MJ_FN_MIN: return fl ? call_rt(g, "mj_rt_fminf", a, 2) : imin_max(g, 0, a[0], a[1]);
    case MJ_FN_MAX: return fl ? call_rt(g, "mj_rt_fmaxf", a, 2) : imin_max(g, 1, a[0], a[1]);
    case MJ_FN_CLAMP: {
        if (!fl) return imin_max(g, 0, imin_max(g, 1, a[0], a[1]), a[2]);
        LLVMTypeRef f3[3] = {g->t_f32, g->t_f32, g->t_f32};
        LLVMTypeRef fty = LLVMFunctionType(g->t_f32, f3, 3, 0);
        return LLVMBuildCall2(g->b, fty, mj_cg_extern_fn(g, "mj_rt_fclamp", fty), a, 3, "");
    }
    case MJ_FN_ABS: {
        if (fl) return intrinsic(g, "llvm.fabs", &ft, 1, a, 1);
        LLVMValueRef neg = LLVMBuildICmp(g->b, LLVMIntSLT, a[0], const_i32(g, 0), "");
        return LLVMBuildSelect(g->b, neg, LLVMBuildSub(g->b, const_i32(g, 0), a[0], ""), a[0], "");
    }
    case MJ_FN_EXP: return call_rt(g, "mj_rt_expf", a, 1);
    case MJ_FN_LOG: return call_rt(g, "mj_rt_logf", a, 1);
    case MJ_FN_TANH: return call_rt(g, "mj_rt_tanhf", a, 1);
    case MJ_FN_SQRT: return intrinsic(g, "llvm.sqrt", &ft, 1, a, 1);
    }
    return const_f32(g, 0.0f);
}

static LLVMValueRef to_float(mj_cg *g, const mj_expr *e) {
    LLVMValueRef a = mj_cg_expr(g, e->a[0]);
    if (e->a[0]->type == MJ_T_FLOAT) return a;
    if (e->a[0]->type == MJ_T_BOOL) return LLVMBuildUIToFP(g->b, a, g->t_f32, "");
    return LLVMBuildSIToFP(g->b, a, g->t_f32, "");
}

static LLVMValueRef to_int(mj_cg *g, const mj_expr *e) {
    LLVMValueRef a = mj_cg_expr(g, e->a[0]);
    if (e->a[0]->type == MJ_T_INT) return a;
    if (e->a[0]->type == MJ_T_BOOL) return LLVMBuildZExt(g->b, a, g->t_i32, "");
    LLVMTypeRef tys[2] = {g->t_i32, g->t_f32};
    return intrinsic(g, "llvm.fptosi.sat", tys, 2, &a, 1);
}

static LLVMValueRef expr_uncached(mj_cg *g, const mj_expr *e) {
    switch (e->kind) {
    case MJ_E_CONST: return const_value(g, e->type, e->v);
    case MJ_E_BUILTIN: return builtin(g, e->u.builtin);
    case MJ_E_PARAM: return scalar_param(g, e->u.index);
    case MJ_E_PARAM_AT: return mj_cg_param_at(g, e->u.index, mj_cg_expr(g, e->a[0]));
    case MJ_E_TOKENS_AT: return mj_cg_tokens_at(g, e->u.index, mj_cg_expr(g, e->a[0]));
    case MJ_E_HEADS_AT: return mj_cg_heads_at(g, e->u.index, mj_cg_expr(g, e->a[0]));
    case MJ_E_UNARY: return unary(g, e);
    case MJ_E_BINARY: return binary(g, e);
    case MJ_E_SELECT: {
        LLVMValueRef c = mj_cg_expr(g, e->a[0]);
        LLVMValueRef x = mj_cg_expr(g, e->a[1]);
        LLVMValueRef y = mj_cg_expr(g, e->a[2]);
        return LLVMBuildSelect(g->b, c, x, y, "");
    }
    case MJ_E_CALL: return call(g, e);
    case MJ_E_TO_FLOAT: return to_float(g, e);
    case MJ_E_TO_INT: return to_int(g, e);
    }
    return const_i32(g, 0);
}

LLVMValueRef mj_cg_expr(mj_cg *g, const mj_expr *e) {
    LLVMValueRef v = mj_cg_memo_get(g, e);
    if (v) return v;
    v = expr_uncached(g, e);
    mj_cg_memo_put(g, e, v);
    return v;
}

/* ---- the three functions ------------------------------------------------------------ */

/* bool mj_mask(const void *ctx, const mj_env *env, int32_t q, int32_t kv, int32_t h) */
static void emit_mask(mj_cg *g) {
    LLVMTypeRef args[5] = {g->t_ptr, g->t_ptr, g->t_i32, g->t_i32, g->t_i32};
    LLVMValueRef fn = mj_cg_begin_fn(g, MJ_JIT_SYM_MASK, LLVMFunctionType(g->t_i1, args, 5, 0));
    add_fn_attr(g, fn, LLVMAttributeReturnIndex, "zeroext");
    g->env = LLVMGetParam(fn, 1);
    g->q = LLVMGetParam(fn, 2);
    g->kv = LLVMGetParam(fn, 3);
    g->h = LLVMGetParam(fn, 4);
    g->raw = const_f32(g, 0.0f);
    LLVMBuildRet(g->b, mj_cg_expr(g, g->p->mask));
}

/* float mj_score(ctx, env, q, kv, h, float raw) */
static void emit_score(mj_cg *g) {
    LLVMTypeRef args[6] = {g->t_ptr, g->t_ptr, g->t_i32, g->t_i32, g->t_i32, g->t_f32};
    LLVMValueRef fn = mj_cg_begin_fn(g, MJ_JIT_SYM_SCORE, LLVMFunctionType(g->t_f32, args, 6, 0));
    g->env = LLVMGetParam(fn, 1);
    g->q = LLVMGetParam(fn, 2);
    g->kv = LLVMGetParam(fn, 3);
    g->h = LLVMGetParam(fn, 4);
    g->raw = LLVMGetParam(fn, 5);
    LLVMBuildRet(g->b, mj_cg_expr(g, g->p->score));
}

/* int32_t mj_position(ctx, env, q); kv and h read as 0. */
static void emit_position(mj_cg *g) {
    LLVMTypeRef args[3] = {g->t_ptr, g->t_ptr, g->t_i32};
    LLVMValueRef fn = mj_cg_begin_fn(g, MJ_JIT_SYM_POSITION,
                                     LLVMFunctionType(g->t_i32, args, 3, 0));
    g->env = LLVMGetParam(fn, 1);
    g->q = LLVMGetParam(fn, 2);
    g->kv = const_i32(g, 0);
    g->h = const_i32(g, 0);
    g->raw = const_f32(g, 0.0f);
    LLVMBuildRet(g->b, mj_cg_expr(g, g->p->position));
}

int mj_cg_emit_scalar_fns(mj_cg *g) {
    emit_mask(g);
    if (g->p->score) emit_score(g);
    if (g->p->position) emit_position(g);
    return g->oom ? -1 : 0;
}
