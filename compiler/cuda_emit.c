/* cuda_emit.c — CUDA C for a checked program: the `__device__` functions
 * mj_mask, mj_score and mj_position (mj_classify comes from cuda_classify.c),
 * plus a few macros the kernel templates read (MJ_HAS_SCORE, MJ_N_TOKENS, ...).
 *
 * Every operation is written with the scalar helpers of mj_semantics.h, so the
 * GPU computes exactly what the interpreter computes: wrap-around int
 * arithmetic, division by zero giving 0, bounds-checked reads of tokens /
 * param arrays / heads.  Float constants are emitted by their bit pattern
 * (__int_as_float(0x...)), so no decimal round trip can change them.  A DAG
 * node used more than once (a `let`) becomes one `const` local. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_backend.h"
#include "cuda_internal.h"

/* ---- node memo: pointer -> (uses, local id) ------------------------------------ */
typedef struct memo_slot {
    const mj_expr *key;
    int uses;
    int local;      /* -1 until declared */
    bool visited;
} memo_slot;

typedef struct emitter {
    memo_slot *slots;
    size_t cap, n;
    int n_locals;
    mjc_buf *out;          /* body being written */
    const mj_program *p;
} emitter;

static size_t ptr_hash(const void *p) {
    uint64_t x = (uint64_t)(uintptr_t)p;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return (size_t)x;
}

static memo_slot *memo_find(emitter *em, const mj_expr *e) {
    if (em->n * 2 + 2 > em->cap) {
        size_t cap = em->cap ? em->cap * 2 : 64;
        memo_slot *s = calloc(cap, sizeof *s);
        if (!s) abort();
        for (size_t i = 0; i < em->cap; i++) {
            if (!em->slots[i].key) continue;
            size_t j = ptr_hash(em->slots[i].key) & (cap - 1);
            while (s[j].key) j = (j + 1) & (cap - 1);
            s[j] = em->slots[i];
        }
        free(em->slots);
        em->slots = s;
        em->cap = cap;
    }
    size_t j = ptr_hash(e) & (em->cap - 1);
    while (em->slots[j].key && em->slots[j].key != e) j = (j + 1) & (em->cap - 1);
    if (!em->slots[j].key) {
        em->slots[j] = (memo_slot){e, 0, -1, false};
        em->n++;
    }
    return &em->slots[j];
}

static void memo_reset(emitter *em) {
    free(em->slots);
    em->slots = NULL;
    em->cap = em->n = 0;
    em->n_locals = 0;
}

/* Count, for every node reachable from e, how many parents reference it
 * (each node's children are walked once). */
static void count_uses(emitter *em, const mj_expr *e) {
    memo_slot *s = memo_find(em, e);
    if (s->uses++ > 0) return;
    for (int i = 0; i < e->nargs; i++) count_uses(em, e->a[i]);
}

/* Leaves are cheaper to repeat than to name. */
static bool is_leaf(const mj_expr *e) {
    return e->kind == MJ_E_CONST || e->kind == MJ_E_BUILTIN || e->kind == MJ_E_PARAM;
}

const char *mjc_type_name(mj_type t) {
    return t == MJ_T_BOOL ? "bool" : t == MJ_T_INT ? "int" : "float";
}

static void emit_int(mjc_buf *b, int32_t v) {
    if (v == INT32_MIN) mjc_buf_puts(b, "(-2147483647 - 1)");
    else if (v < 0) mjc_buf_printf(b, "(%d)", v);
    else mjc_buf_printf(b, "%d", v);
}

static void emit_float(mjc_buf *b, float f) {
    uint32_t bits;
    memcpy(&bits, &f, 4);
    mjc_buf_printf(b, "__int_as_float(0x%08xu) /* %.9g */", bits, (double)f);
}

void mjc_emit_value(mjc_buf *b, mj_type t, mj_value v) {
    if (t == MJ_T_FLOAT) {
        uint32_t bits;
        memcpy(&bits, &v.f, 4);
        mjc_buf_printf(b, "mjc_vf(0x%08xu)", bits);
    } else {
        mjc_buf_puts(b, "mjc_vi(");
        emit_int(b, v.i);
        mjc_buf_puts(b, ")");
    }
}

/* Field selector for an mj_value of type t (bool stored as int 0/1). */
static const char *value_field(mj_type t) {
    return t == MJ_T_FLOAT ? ".f" : t == MJ_T_INT ? ".i" : ".i != 0";
}

static void emit_expr(emitter *em, const mj_expr *e);

static void emit_args(emitter *em, const char *fn, const mj_expr *e) {
    mjc_buf_printf(em->out, "%s(", fn);
    for (int i = 0; i < e->nargs; i++) {
        if (i) mjc_buf_puts(em->out, ", ");
        emit_expr(em, e->a[i]);
    }
    mjc_buf_puts(em->out, ")");
}

static const char *builtin_text(mj_builtin b) {
    switch (b) {
    case MJ_B_Q: return "q";
    case MJ_B_KV: return "kv";
    case MJ_B_H: return "h";
    case MJ_B_B: return "env.b";
    case MJ_B_N_HEADS: return "env.n_heads";
    case MJ_B_PROMPT_LEN: return "env.prompt_len";
    case MJ_B_SEQ_LEN: return "env.seq_len";
    case MJ_B_SCORE: return "raw";
    default: return "0";
    }
}

static void emit_read(emitter *em, const mj_expr *e) {
    mjc_buf *b = em->out;
    const mj_program *p = em->p;
    int32_t k = e->u.index;
    if (e->kind == MJ_E_HEADS_AT) {
        mjc_buf_printf(b, "mj_heads_at(&env, %d, ", k);
        emit_expr(em, e->a[0]);
        mjc_buf_puts(b, ")");
        return;
    }
    mj_type t = e->kind == MJ_E_TOKENS_AT ? p->tokens[k].type : p->params[k].type;
    mjc_buf_puts(b, "(");
    if (e->kind == MJ_E_TOKENS_AT) mjc_buf_printf(b, "mj_tokens_at(&env, %d, ", k);
    else mjc_buf_printf(b, "mj_param_at(&env, %d, %d, ", p->params[k].offset, p->params[k].count);
    emit_expr(em, e->a[0]);
    mjc_buf_puts(b, ", ");
    mjc_emit_value(b, t, e->kind == MJ_E_TOKENS_AT ? p->tokens[k].def : p->params[k].def);
    mjc_buf_printf(b, ")%s)", value_field(t));
}

static void emit_binary(emitter *em, const mj_expr *e) {
    static const char *ifn[] = {[MJ_OP_ADD] = "mj_iadd", [MJ_OP_SUB] = "mj_isub",
                                [MJ_OP_MUL] = "mj_imul", [MJ_OP_DIV] = "mj_idiv",
                                [MJ_OP_MOD] = "mj_imod"};
    static const char *cop[] = {[MJ_OP_ADD] = "+", [MJ_OP_SUB] = "-", [MJ_OP_MUL] = "*",
                                [MJ_OP_DIV] = "/", [MJ_OP_LT] = "<", [MJ_OP_LE] = "<=",
                                [MJ_OP_GT] = ">", [MJ_OP_GE] = ">=", [MJ_OP_EQ] = "==",
                                [MJ_OP_NE] = "!=", [MJ_OP_AND] = "&&", [MJ_OP_OR] = "||"};
    mj_op op = e->u.op;
    mj_type ot = e->a[0]->type;
    if (op <= MJ_OP_MOD && ot == MJ_T_INT) { emit_args(em, ifn[op], e); return; }
    if (op == MJ_OP_MOD) { emit_args(em, "fmodf", e); return; }
    mjc_buf_puts(em->out, "(");
    emit_expr(em, e->a[0]);
    mjc_buf_printf(em->out, " %s ", cop[op]);
    emit_expr(em, e->a[1]);
    mjc_buf_puts(em->out, ")");
}

static void emit_call(emitter *em, const mj_expr *e) {
    bool fl = e->type == MJ_T_FLOAT;
    const char *fn = "?";
    switch (e->u.fn) {
    case MJ_FN_MIN: fn = fl ? "mj_fmin" : "mj_imin"; break;
    case MJ_FN_MAX: fn = fl ? "mj_fmax" : "mj_imax"; break;
    case MJ_FN_ABS: fn = fl ? "fabsf" : "mj_iabs"; break;
    case MJ_FN_CLAMP: fn = fl ? "mj_fclamp" : "mj_iclamp"; break;
    case MJ_FN_EXP: fn = "expf"; break;
    case MJ_FN_LOG: fn = "logf"; break;
    case MJ_FN_SQRT: fn = "sqrtf"; break;
    case MJ_FN_TANH: fn = "tanhf"; break;
    }
    emit_args(em, fn, e);
}

/* The C expression of e, using the locals already declared for shared nodes. */
static void emit_expr(emitter *em, const mj_expr *e) {
    mjc_buf *b = em->out;
    memo_slot *s = memo_find(em, e);
    if (s->local >= 0) { mjc_buf_printf(b, "t%d", s->local); return; }
    switch (e->kind) {
    case MJ_E_CONST:
        if (e->type == MJ_T_BOOL) mjc_buf_puts(b, e->v.i ? "true" : "false");
        else if (e->type == MJ_T_INT) emit_int(b, e->v.i);
        else emit_float(b, e->v.f);
        break;
    case MJ_E_BUILTIN: mjc_buf_puts(b, builtin_text(e->u.builtin)); break;
    case MJ_E_PARAM: {
        const mj_param *pr = &em->p->params[e->u.index];
        mjc_buf_printf(b, "(env.params[%d]%s)", pr->offset, value_field(pr->type));
        break;
    }
    case MJ_E_PARAM_AT: case MJ_E_TOKENS_AT: case MJ_E_HEADS_AT: emit_read(em, e); break;
    case MJ_E_UNARY:
        if (e->u.op == MJ_OP_NOT) mjc_buf_puts(b, "(!");
        else mjc_buf_puts(b, e->type == MJ_T_INT ? "mj_ineg(" : "(-");
        emit_expr(em, e->a[0]);
        mjc_buf_puts(b, ")");
        break;
    case MJ_E_BINARY: emit_binary(em, e); break;
    case MJ_E_SELECT:
        mjc_buf_puts(b, "(");
        emit_expr(em, e->a[0]);
        mjc_buf_puts(b, " ? ");
        emit_expr(em, e->a[1]);
        mjc_buf_puts(b, " : ");
        emit_expr(em, e->a[2]);
        mjc_buf_puts(b, ")");
        break;
    case MJ_E_CALL: emit_call(em, e); break;
    case MJ_E_TO_FLOAT: mjc_buf_puts(b, "((float)"); emit_expr(em, e->a[0]); mjc_buf_puts(b, ")"); break;
    case MJ_E_TO_INT: emit_args(em, "mj_f2i", e); break;
    }
}

/* Declare, children first, one `const` local per shared non-leaf node. */
static void declare_shared(emitter *em, const mj_expr *e) {
    memo_slot *s = memo_find(em, e);
    if (s->visited) return;
    s->visited = true;
    for (int i = 0; i < e->nargs; i++) declare_shared(em, e->a[i]);
    s = memo_find(em, e);
    if (s->uses < 2 || is_leaf(e)) return;
    mjc_buf_printf(em->out, "    const %s t%d = ", mjc_type_name(e->type), em->n_locals);
    emit_expr(em, e);
    mjc_buf_puts(em->out, ";\n");
    memo_find(em, e)->local = em->n_locals++;
}

/* One function: header, memoised locals, return of root (or `fallback`). */
static void emit_function(emitter *em, const char *head, const char *preamble,
                          const mj_expr *root, const char *fallback) {
    mjc_buf_printf(em->out, "%s {\n%s", head, preamble);
    if (!root) {
        mjc_buf_printf(em->out, "    return %s;\n}\n\n", fallback);
        return;
    }
    memo_reset(em);
    count_uses(em, root);
    declare_shared(em, root);
    mjc_buf_puts(em->out, "    return ");
    emit_expr(em, root);
    mjc_buf_puts(em->out, ";\n}\n\n");
    memo_reset(em);
}

static void emit_metadata(mjc_buf *b, const mj_program *p) {
    mjc_buf_printf(b, "#define MJ_HAS_SCORE %d\n#define MJ_HAS_POSITION %d\n", p->score != NULL,
                   p->position != NULL);
    mjc_buf_printf(b, "#define MJ_USES_H %d\n#define MJ_N_TOKENS %d\n#define MJ_N_PARAM_SLOTS %d\n",
                   p->uses_builtin[MJ_B_H] || p->n_heads > 0, p->n_tokens, p->n_param_slots);
    /* Type of each tokens annotation (0 bool, 1 int, 2 float), for summaries. */
    mjc_buf_puts(b, "__device__ const int mj_tokens_type[] = {");
    for (int32_t a = 0; a < p->n_tokens; a++) mjc_buf_printf(b, "%s%d", a ? ", " : "", (int)p->tokens[a].type);
    mjc_buf_puts(b, p->n_tokens ? "};\n\n" : "0};\n\n");
}

char *mj_cuda_emit(const mj_program *p) {
    if (!p || !p->mask) return NULL;
    mjc_buf out = {0};
    emitter em = {.out = &out, .p = p};
    mjc_buf_printf(&out, "/* generated by maskjit from %s: do not edit */\n", p->path ? p->path : "<memory>");
    emit_metadata(&out, p);
    mjc_buf_puts(&out,
                 "static __device__ __forceinline__ mj_value mjc_vi(int x) { mj_value v; v.i = x; return v; }\n"
                 "static __device__ __forceinline__ mj_value mjc_vf(unsigned x) { mj_value v; v.i = (int)x; return v; }\n\n");
    emit_function(&em, "static __device__ __forceinline__ bool mj_mask(const mj_env &env, int q, int kv, int h)",
                  "    const float raw = 0.0f; (void)raw;\n", p->mask, "false");
    emit_function(&em, "static __device__ __forceinline__ float mj_score(const mj_env &env, int q, int kv, int h, float raw)",
                  "", p->score, "raw");
    /* position uses only q and annotations; kv and h read as 0 like the interpreter. */
    emit_function(&em, "static __device__ __forceinline__ int mj_position(const mj_env &env, int q)",
                  "    const int kv = 0, h = 0; (void)kv; (void)h;\n", p->position, "q");
    mjc_emit_classify(&out, p);
    return mjc_buf_take(&out);
}
