/* cuda_classify.c — the block classifier `mj_classify` as CUDA C: the mask
 * program evaluated over a region with the interval functions of
 * mj_semantics.h Part 2 (mj_ii / mj_fi / mj_bi), exactly as the reference
 * classifier mj_blocks_classify (blocks.c) does on the CPU, so both give the
 * same EMPTY / FULL / PARTIAL answers.  (The one place they may differ is the
 * widening of exp/log/tanh bounds, which calls CUDA's libm instead of glibc's;
 * both stay sound since each is within MJ_FI_LIBM_ULPS of the exact value.)
 *
 * Straight-line code: one `const` local per DAG node, children first. */
#include <stdlib.h>
#include <string.h>

#include "cuda_internal.h"

typedef struct cls_slot {
    const mj_expr *key;
    int local;
} cls_slot;

typedef struct cls_emitter {
    cls_slot *slots;
    size_t cap, n;
    int n_locals;
    mjc_buf *out;
    const mj_program *p;
} cls_emitter;

static size_t cls_hash(const void *p) {
    uint64_t x = (uint64_t)(uintptr_t)p;
    x ^= x >> 31;
    x *= 0x9e3779b97f4a7c15ULL;
    x ^= x >> 29;
    return (size_t)x;
}

/* Local id of e, or -1 (inserting a slot when `insert`). */
static cls_slot *cls_find(cls_emitter *em, const mj_expr *e) {
    if (em->n * 2 + 2 > em->cap) {
        size_t cap = em->cap ? em->cap * 2 : 64;
        cls_slot *s = calloc(cap, sizeof *s);
        if (!s) abort();
        for (size_t i = 0; i < em->cap; i++) {
            if (!em->slots[i].key) continue;
            size_t j = cls_hash(em->slots[i].key) & (cap - 1);
            while (s[j].key) j = (j + 1) & (cap - 1);
            s[j] = em->slots[i];
        }
        free(em->slots);
        em->slots = s;
        em->cap = cap;
    }
    size_t j = cls_hash(e) & (em->cap - 1);
    while (em->slots[j].key && em->slots[j].key != e) j = (j + 1) & (em->cap - 1);
    if (!em->slots[j].key) {
        em->slots[j] = (cls_slot){e, -1};
        em->n++;
    }
    return &em->slots[j];
}

static const char *abs_type(mj_type t) {
    return t == MJ_T_FLOAT ? "mj_fi" : t == MJ_T_INT ? "mj_ii" : "mj_bi";
}
static const char *abs_prefix(mj_type t) {
    return t == MJ_T_FLOAT ? "mj_fi_" : t == MJ_T_INT ? "mj_ii_" : "mj_bi_";
}

static void cls_float(mjc_buf *b, float f) {
    uint32_t bits;
    memcpy(&bits, &f, 4);
    mjc_buf_printf(b, "__int_as_float(0x%08xu)", bits);
}

static void cls_int(mjc_buf *b, int32_t v) {
    if (v == INT32_MIN) mjc_buf_puts(b, "(-2147483647 - 1)");
    else mjc_buf_printf(b, "%d", v);
}

/* Constant abstract value of type t. */
static void cls_const(mjc_buf *b, mj_type t, mj_value v) {
    if (t == MJ_T_FLOAT) { mjc_buf_puts(b, "mj_fi_const("); cls_float(b, v.f); }
    else if (t == MJ_T_BOOL) mjc_buf_printf(b, "mj_bi_const(%d", v.i != 0);
    else { mjc_buf_puts(b, "mj_ii_const("); cls_int(b, v.i); }
    mjc_buf_puts(b, ")");
}

static void cls_builtin(mjc_buf *b, mj_builtin k) {
    switch (k) {
    case MJ_B_Q: mjc_buf_puts(b, "mj_ii_make(r.q0, r.q1)"); break;
    case MJ_B_KV: mjc_buf_puts(b, "mj_ii_make(r.kv0, r.kv1)"); break;
    case MJ_B_H: mjc_buf_puts(b, "mj_ii_make(r.h0, r.h1)"); break;
    case MJ_B_B: mjc_buf_puts(b, "mj_ii_const(env.b)"); break;
    case MJ_B_N_HEADS: mjc_buf_puts(b, "mj_ii_const(env.n_heads)"); break;
    case MJ_B_PROMPT_LEN: mjc_buf_puts(b, "mj_ii_const(env.prompt_len)"); break;
    case MJ_B_SEQ_LEN: mjc_buf_puts(b, "mj_ii_const(env.seq_len)"); break;
    default: mjc_buf_puts(b, "mj_fi_make(-MJ_FINF, MJ_FINF, 1)"); break;
    }
}

/* Array reads: args = local id of the index. */
static void cls_read(cls_emitter *em, const mj_expr *e, int idx) {
    mjc_buf *b = em->out;
    const mj_program *p = em->p;
    int32_t k = e->u.index;
    const char *pre = abs_prefix(e->type);
    if (e->kind == MJ_E_HEADS_AT) {
        mjc_buf_printf(b, "mj_fi_heads_at(&env, %d, c%d)", k, idx);
        return;
    }
    if (e->kind == MJ_E_PARAM_AT) {
        const mj_param *pa = &p->params[k];
        mjc_buf_printf(b, "%sparam_at(&env, %d, %d, c%d, ", pre, pa->offset, pa->count, idx);
        if (e->type == MJ_T_FLOAT) cls_float(b, pa->def.f);
        else cls_int(b, pa->def.i);
        mjc_buf_puts(b, ")");
        return;
    }
    /* tokens: without summaries a range read is unknown (as blocks.c). */
    mjc_buf_printf(b, "(s.tok_min == 0 && c%d.lo != c%d.hi) ? ", idx, idx);
    if (e->type == MJ_T_FLOAT) mjc_buf_puts(b, "mj_fi_make(-MJ_FINF, MJ_FINF, 1)");
    else if (e->type == MJ_T_BOOL) mjc_buf_puts(b, "MJ_BI_ANY");
    else mjc_buf_puts(b, "mj_ii_full()");
    mjc_buf_printf(b, " : %stokens_at(&env, &s, %d, c%d, ", pre, k, idx);
    if (e->type == MJ_T_FLOAT) cls_float(b, p->tokens[k].def.f);
    else cls_int(b, p->tokens[k].def.i);
    mjc_buf_puts(b, ")");
}

static const char *op_name(mj_op op) {
    switch (op) {
    case MJ_OP_ADD: return "add"; case MJ_OP_SUB: return "sub"; case MJ_OP_MUL: return "mul";
    case MJ_OP_DIV: return "div"; case MJ_OP_MOD: return "mod"; case MJ_OP_LT: return "lt";
    case MJ_OP_LE: return "le"; case MJ_OP_GT: return "gt"; case MJ_OP_GE: return "ge";
    case MJ_OP_EQ: return "eq"; case MJ_OP_NE: return "ne"; case MJ_OP_AND: return "and";
    case MJ_OP_OR: return "or"; default: return "?";
    }
}

static const char *fn_name(mj_fn f) {
    switch (f) {
    case MJ_FN_MIN: return "min"; case MJ_FN_MAX: return "max"; case MJ_FN_ABS: return "abs";
    case MJ_FN_CLAMP: return "clamp"; case MJ_FN_EXP: return "exp"; case MJ_FN_LOG: return "log";
    case MJ_FN_SQRT: return "sqrt"; default: return "tanh";
    }
}

/* Emit e's children, then `const T cN = ...;` for e; returns N. */
static int cls_node(cls_emitter *em, const mj_expr *e) {
    cls_slot *s = cls_find(em, e);
    if (s->local >= 0) return s->local;
    int c[3] = {-1, -1, -1};
    for (int i = 0; i < e->nargs && i < 3; i++) c[i] = cls_node(em, e->a[i]);
    mjc_buf *b = em->out;
    int id = em->n_locals++;
    mjc_buf_printf(b, "    const %s c%d = ", abs_type(e->type), id);
    mj_type at = e->nargs ? e->a[0]->type : e->type;
    switch (e->kind) {
    case MJ_E_CONST: cls_const(b, e->type, e->v); break;
    case MJ_E_BUILTIN: cls_builtin(b, e->u.builtin); break;
    case MJ_E_PARAM: {
        const mj_param *pa = &em->p->params[e->u.index];
        mjc_buf_printf(b, e->type == MJ_T_FLOAT ? "mj_fi_const(env.params[%d].f)"
                          : e->type == MJ_T_BOOL ? "mj_bi_const(env.params[%d].i != 0)"
                                                 : "mj_ii_const(env.params[%d].i)", pa->offset);
        break;
    }
    case MJ_E_PARAM_AT: case MJ_E_TOKENS_AT: case MJ_E_HEADS_AT: cls_read(em, e, c[0]); break;
    case MJ_E_UNARY:
        mjc_buf_printf(b, "%s%s(c%d)", abs_prefix(e->type), e->u.op == MJ_OP_NOT ? "not" : "neg", c[0]);
        break;
    case MJ_E_BINARY: mjc_buf_printf(b, "%s%s(c%d, c%d)", abs_prefix(at), op_name(e->u.op), c[0], c[1]); break;
    case MJ_E_SELECT: mjc_buf_printf(b, "%sselect(c%d, c%d, c%d)", abs_prefix(e->type), c[0], c[1], c[2]); break;
    case MJ_E_CALL:
        mjc_buf_printf(b, "%s%s(c%d", abs_prefix(at), fn_name(e->u.fn), c[0]);
        for (int i = 1; i < e->nargs; i++) mjc_buf_printf(b, ", c%d", c[i]);
        mjc_buf_puts(b, ")");
        break;
    case MJ_E_TO_FLOAT: mjc_buf_printf(b, "mj_ii_to_fi(c%d)", c[0]); break;
    case MJ_E_TO_INT: mjc_buf_printf(b, "mj_fi_to_ii(c%d)", c[0]); break;
    }
    mjc_buf_puts(b, ";\n");
    cls_find(em, e)->local = id;
    return id;
}

void mjc_emit_classify(mjc_buf *b, const mj_program *p) {
    cls_emitter em = {.out = b, .p = p};
    mjc_buf_puts(b,
                 "static __device__ __forceinline__ int mj_classify(const mj_env &env, const mj_summary &s,\n"
                 "                                                  const mj_region &r) {\n"
                 "    if (r.q0 > r.q1 || r.kv0 > r.kv1 || r.h0 > r.h1) return MJ_BLOCK_EMPTY;\n");
    int root = cls_node(&em, p->mask);
    mjc_buf_printf(b, "    return mj_bi_block(c%d);\n}\n\n", root);
    free(em.slots);
}
