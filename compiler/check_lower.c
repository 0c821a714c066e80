/* check_lower.c — type checking and lowering of the resolved AST to the
 * mj_expr DAG of mj_ir.h: a `let` is lowered once and shared by every use, a
 * `def` is inlined (and type-checked) at each call with its lowered arguments
 * substituted, int operands of float operations get explicit MJ_E_TO_FLOAT.
 * Also enforces where `score`, `kv`, `h` and heads arrays may appear, and the
 * size limits of check_internal.h (a limit hit stops lowering). */
#include "check_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A def being inlined: its lowered arguments. */
typedef struct lw_env {
    mj_expr **args;
    ck_sym *def;
    mj_srcloc call_loc;
    int inline_depth;
} lw_env;

/* ---- errors ------------------------------------------------------------------------ */

/* Reports an error; inside an inlined def the same error is reported once (not
 * once per call), with a note at the call. */
static void lw_error(ck_ctx *c, const lw_env *env, mj_srcloc loc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void lw_error(ck_ctx *c, const lw_env *env, mj_srcloc loc, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (env && env->def) {
        char *key = mj_arena_printf(c->arena, "%p:%d:%d:%s", (const void *)loc.src, loc.line, loc.col, msg);
        for (int i = 0; i < c->reported.n; i++)
            if (!strcmp(c->reported.items[i], key)) return;
        mj_ast_list_push(c->arena, &c->reported, key);
    }
    mj_report_error(&c->rep, loc, "%s", msg);
    if (env && env->def) mj_report_note(&c->rep, env->call_loc, "in this call of '%s'", env->def->name);
}

static void lw_fatal(ck_ctx *c, mj_srcloc loc, const char *msg) {
    if (!c->fatal) mj_report_error(&c->rep, loc, "%s", msg);
    c->fatal = true;
}

static const char *too_large = "program too large after inlining 'let' and 'def' (more than 1048576 nodes)";

/* Limits that concern the whole program are reported at the declaration being
 * lowered. */
static void lw_too_large(ck_ctx *c) { lw_fatal(c, c->cur_decl, too_large); }

/* ---- nodes ---------------------------------------------------------------------------- */

static mj_expr *node_new(ck_ctx *c, mj_ekind k, mj_type t, mj_srcloc loc, int nargs, mj_expr *a0,
                         mj_expr *a1, mj_expr *a2) {
    if (c->fatal) return NULL;
    ck_node *n = mj_arena_alloc(c->arena, sizeof *n);
    n->e.kind = k;
    n->e.type = t;
    n->e.loc = loc;
    n->e.nargs = nargs;
    n->e.a[0] = a0;
    n->e.a[1] = a1;
    n->e.a[2] = a2;
    n->id = c->n_nodes++;
    n->depth = 1;
    n->tree = 1;
    for (int i = 0; i < nargs; i++) {
        ck_node *ch = CK_NODE(n->e.a[i]);
        if (ch->depth + 1 > n->depth) n->depth = ch->depth + 1;
        n->tree += ch->tree;
        n->flags |= ch->flags;
    }
    if (n->depth > CK_MAX_IR_DEPTH) {
        lw_fatal(c, loc, "expression nested too deeply");
        return NULL;
    }
    if (n->tree > CK_MAX_TREE) {
        lw_too_large(c);
        return NULL;
    }
    return &n->e;
}

static mj_expr *mk_const(ck_ctx *c, mj_type t, mj_value v, mj_srcloc loc) {
    mj_expr *e = node_new(c, MJ_E_CONST, t, loc, 0, NULL, NULL, NULL);
    if (e) e->v = v;
    return e;
}

static mj_expr *mk_builtin(ck_ctx *c, mj_builtin b, mj_srcloc loc) {
    mj_expr *e = node_new(c, MJ_E_BUILTIN, b == MJ_B_SCORE ? MJ_T_FLOAT : MJ_T_INT, loc, 0, NULL, NULL, NULL);
    if (!e) return NULL;
    e->u.builtin = b;
    CK_NODE(e)->flags |= CK_USES_BUILTIN(b);
    return e;
}

/* A node naming a declaration: u.index is the sym order until check_build.c
 * renumbers it. */
static mj_expr *mk_ref(ck_ctx *c, mj_ekind k, ck_sym *s, mj_expr *index, mj_srcloc loc) {
    mj_expr *e = node_new(c, k, s->type, loc, index ? 1 : 0, index, NULL, NULL);
    if (!e) return NULL;
    e->u.index = s->order;
    if (k == MJ_E_HEADS_AT) CK_NODE(e)->flags |= CK_USES_HEADS;
    mj_ast_list_push(c->arena, &c->index_nodes, e);
    return e;
}

static mj_expr *mk_to_float(ck_ctx *c, mj_expr *x) {
    if (!x || x->type == MJ_T_FLOAT) return x;
    if (x->kind == MJ_E_CONST) {
        mj_value v;
        v.f = (float)x->v.i;
        return mk_const(c, MJ_T_FLOAT, v, x->loc);
    }
    return node_new(c, MJ_E_TO_FLOAT, MJ_T_FLOAT, x->loc, 1, x, NULL, NULL);
}

static bool numeric(const mj_expr *x) { return x->type != MJ_T_BOOL; }

/* ---- expressions ------------------------------------------------------------------------ */

static mj_expr *lower(ck_ctx *c, const lw_env *env, mj_ast_expr *e);
static mj_expr *lower_expr(ck_ctx *c, const lw_env *env, mj_ast_expr *e);

static mj_op map_op(mj_ast_op op) {
    static const mj_op m[] = {MJ_OP_NEG, MJ_OP_NOT, MJ_OP_ADD, MJ_OP_SUB, MJ_OP_MUL, MJ_OP_DIV,
                              MJ_OP_MOD, MJ_OP_LT, MJ_OP_LE, MJ_OP_GT, MJ_OP_GE, MJ_OP_EQ,
                              MJ_OP_NE, MJ_OP_AND, MJ_OP_OR};
    return m[op];
}

static mj_expr *lower_unary(ck_ctx *c, const lw_env *env, mj_ast_expr *e, mj_expr *x) {
    bool ok = e->op == MJ_AOP_NOT ? x->type == MJ_T_BOOL : numeric(x);
    if (!ok) {
        lw_error(c, env, e->op_loc, "invalid operand to '%s' (%s)", mj_ast_op_name(e->op), ck_type_name(x->type));
        return NULL;
    }
    mj_expr *n = node_new(c, MJ_E_UNARY, x->type, e->loc, 1, x, NULL, NULL);
    if (n) n->u.op = map_op(e->op);
    return n;
}

static mj_expr *lower_binary(ck_ctx *c, const lw_env *env, mj_ast_expr *e, mj_expr *x, mj_expr *y) {
    mj_ast_op op = e->op;
    bool logic = op == MJ_AOP_AND || op == MJ_AOP_OR;
    bool eq = op == MJ_AOP_EQ || op == MJ_AOP_NE;
    bool cmp = eq || (op >= MJ_AOP_LT && op <= MJ_AOP_GE);
    bool ok;
    if (logic) ok = x->type == MJ_T_BOOL && y->type == MJ_T_BOOL;
    else if (eq) ok = (x->type == MJ_T_BOOL) == (y->type == MJ_T_BOOL);
    else ok = numeric(x) && numeric(y);
    if (!ok) {
        lw_error(c, env, e->op_loc, "invalid operands to '%s' (%s and %s)", mj_ast_op_name(op),
                 ck_type_name(x->type), ck_type_name(y->type));
        return NULL;
    }
    if (numeric(x) && x->type != y->type) {
        x = mk_to_float(c, x);
        y = mk_to_float(c, y);
        if (!x || !y) return NULL;
    }
    mj_expr *n = node_new(c, MJ_E_BINARY, cmp || logic ? MJ_T_BOOL : x->type, e->loc, 2, x, y, NULL);
    if (n) n->u.op = map_op(op);
    return n;
}

static mj_expr *lower_cond(ck_ctx *c, const lw_env *env, mj_ast_expr *e, mj_expr **v) {
    if (v[0]->type != MJ_T_BOOL) {
        lw_error(c, env, e->args[0]->loc, "condition must be bool, found %s", ck_type_name(v[0]->type));
        return NULL;
    }
    if ((v[1]->type == MJ_T_BOOL) != (v[2]->type == MJ_T_BOOL)) {
        lw_error(c, env, e->op_loc, "branches of '%s' have different types (%s and %s)",
                 e->is_if ? "if" : "?:", ck_type_name(v[1]->type), ck_type_name(v[2]->type));
        return NULL;
    }
    if (v[1]->type != v[2]->type) {
        v[1] = mk_to_float(c, v[1]);
        v[2] = mk_to_float(c, v[2]);
        if (!v[1] || !v[2]) return NULL;
    }
    return node_new(c, MJ_E_SELECT, v[1]->type, e->loc, 3, v[0], v[1], v[2]);
}

static mj_expr *lower_fn(ck_ctx *c, const lw_env *env, mj_ast_expr *e, mj_expr **v) {
    int fn = e->ref_index;
    bool any_float = false;
    for (int i = 0; i < e->nargs; i++) {
        if (!numeric(v[i])) {
            lw_error(c, env, e->args[i]->loc, "argument %d of '%s' must be int or float, found bool", i + 1,
                     ck_fn_name(fn));
            return NULL;
        }
        any_float |= v[i]->type == MJ_T_FLOAT;
    }
    if (fn == CK_FN_FLOAT) return mk_to_float(c, v[0]);
    if (fn == CK_FN_INT)
        return v[0]->type == MJ_T_INT ? v[0] : node_new(c, MJ_E_TO_INT, MJ_T_INT, e->loc, 1, v[0], NULL, NULL);
    if (fn == MJ_FN_EXP || fn == MJ_FN_LOG || fn == MJ_FN_SQRT || fn == MJ_FN_TANH) any_float = true;
    if (any_float)
        for (int i = 0; i < e->nargs; i++)
            if (!(v[i] = mk_to_float(c, v[i]))) return NULL;
    mj_expr *n = node_new(c, MJ_E_CALL, any_float ? MJ_T_FLOAT : MJ_T_INT, e->loc, e->nargs,
                          v[0], e->nargs > 1 ? v[1] : NULL, e->nargs > 2 ? v[2] : NULL);
    if (n) n->u.fn = (mj_fn)fn;
    return n;
}

static mj_expr *lower_def_call(ck_ctx *c, const lw_env *env, mj_ast_expr *e, mj_expr **v) {
    ck_sym *s = e->ref;
    int depth = env ? env->inline_depth + 1 : 1;
    if (depth > CK_MAX_INLINE) {
        lw_fatal(c, e->op_loc, "def calls nested too deeply");
        return NULL;
    }
    lw_env inner = {v, s, e->op_loc, depth};
    return lower(c, &inner, s->decl->init);
}

static mj_expr *lower_index(ck_ctx *c, const lw_env *env, mj_ast_expr *e, mj_expr *ix) {
    ck_sym *s = e->ref;
    if (s->bad) return NULL;
    if (ix->type != MJ_T_INT) {
        lw_error(c, env, e->args[0]->loc, "index of '%s' must be int, found %s", s->name, ck_type_name(ix->type));
        return NULL;
    }
    mj_ekind k = s->kind == CK_TOKENS ? MJ_E_TOKENS_AT : s->kind == CK_HEADS ? MJ_E_HEADS_AT : MJ_E_PARAM_AT;
    return mk_ref(c, k, s, ix, e->loc);
}

static mj_expr *lower_name(ck_ctx *c, const lw_env *env, mj_ast_expr *e) {
    switch (e->ref_kind) {
    case CK_REF_BUILTIN: return mk_builtin(c, (mj_builtin)e->ref_index, e->loc);
    case CK_REF_LOCAL: return env && env->args ? env->args[e->ref_index] : NULL;
    case CK_REF_SYM: {
        ck_sym *s = e->ref;
        if (s->kind == CK_LET) return s->ir;
        if (s->bad) return NULL;
        return mk_ref(c, MJ_E_PARAM, s, NULL, e->loc);
    }
    default: return NULL;
    }
}

/* Lowers E in ENV; NULL after an error (reported once, here or below). */
static mj_expr *lower(ck_ctx *c, const lw_env *env, mj_ast_expr *e) {
    if (c->fatal || c->rep.full) return NULL;
    if (++c->work > CK_MAX_WORK) {
        lw_too_large(c);
        return NULL;
    }
    if (c->lower_depth >= CK_MAX_LOWER_DEPTH) {   /* bounds the C stack (defs nest bodies) */
        lw_fatal(c, e->loc, "expression nested too deeply");
        return NULL;
    }
    c->lower_depth++;
    mj_expr *r = lower_expr(c, env, e);
    c->lower_depth--;
    return r;
}

/* lower() without the guards. */
static mj_expr *lower_expr(ck_ctx *c, const lw_env *env, mj_ast_expr *e) {
    mj_value val;
    switch (e->kind) {
    case MJ_AST_INT:
        if (e->ival < INT32_MIN || e->ival > INT32_MAX) return NULL;
        val.i = (int32_t)e->ival;
        return mk_const(c, MJ_T_INT, val, e->loc);
    case MJ_AST_FLOAT: val.f = (float)e->fval; return mk_const(c, MJ_T_FLOAT, val, e->loc);
    case MJ_AST_BOOL: val.i = (int32_t)e->ival; return mk_const(c, MJ_T_BOOL, val, e->loc);
    case MJ_AST_SCORE: return mk_builtin(c, MJ_B_SCORE, e->loc);
    case MJ_AST_NAME: return lower_name(c, env, e);
    case MJ_AST_ERROR: return NULL;
    default: break;
    }
    if (e->ref_kind == CK_REF_ERROR) return NULL;
    mj_expr *v[3] = {NULL, NULL, NULL};
    bool bad = false;
    for (int i = 0; i < e->nargs && i < 3; i++) bad |= !(v[i] = lower(c, env, e->args[i]));
    if (e->kind == MJ_AST_CALL && e->ref_kind == CK_REF_SYM && e->nargs > 3) {
        /* defs may take any number of arguments */
        mj_expr **many = mj_arena_alloc(c->arena, sizeof *many * (size_t)e->nargs);
        for (int i = 0; i < e->nargs; i++) bad |= !(many[i] = i < 3 ? v[i] : lower(c, env, e->args[i]));
        return bad ? NULL : lower_def_call(c, env, e, many);
    }
    if (bad) return NULL;
    switch (e->kind) {
    case MJ_AST_UNARY: return lower_unary(c, env, e, v[0]);
    case MJ_AST_BINARY: return lower_binary(c, env, e, v[0], v[1]);
    case MJ_AST_COND: return lower_cond(c, env, e, v);
    case MJ_AST_INDEX: return lower_index(c, env, e, v[0]);
    case MJ_AST_CALL:
        if (e->ref_kind == CK_REF_FN) return lower_fn(c, env, e, v);
        if (e->ref_kind == CK_REF_SYM) {
            mj_expr **args = mj_arena_alloc(c->arena, sizeof *args * 3);
            memcpy(args, v, sizeof v);
            return lower_def_call(c, env, e, args);
        }
        return NULL;
    default: return NULL;
    }
}

/* ---- roots -------------------------------------------------------------------------------- */

/* First node of the DAG under E that itself uses FLAG (a leaf), or NULL. */
static mj_expr *find_use(mj_expr *e, uint32_t flag, unsigned char *seen) {
    ck_node *n = CK_NODE(e);
    if (!(n->flags & flag) || seen[n->id]) return NULL;
    seen[n->id] = 1;
    for (int i = 0; i < e->nargs; i++) {
        mj_expr *u = find_use(e->a[i], flag, seen);
        if (u) return u;
    }
    return e;
}

/* Reports every FORBIDDEN use under root E (one error per kind). */
static void check_uses(ck_ctx *c, mj_expr *e, uint32_t forbidden, const char *root) {
    for (int b = 0; b <= MJ_B_COUNT; b++) {
        uint32_t flag = 1u << b;
        if (!(forbidden & flag) || !(CK_NODE(e)->flags & flag)) continue;
        unsigned char *seen = calloc(c->n_nodes ? c->n_nodes : 1, 1);
        if (!seen) abort();
        mj_expr *u = find_use(e, flag, seen);
        free(seen);
        if (!u) continue;
        if (b == MJ_B_SCORE)
            mj_report_error(&c->rep, u->loc, "'score' can only be used in 'score = ...'");
        else if (b == MJ_B_COUNT)
            mj_report_error(&c->rep, u->loc, "heads arrays cannot be used in '%s' (it depends only on the query token)",
                            root);
        else
            mj_report_error(&c->rep, u->loc, "'%s' cannot be used in '%s' (it depends only on the query token)",
                            b == MJ_B_KV ? "kv" : "h", root);
    }
}

static void lower_roots(ck_ctx *c) {
    static const char *const names[3] = {"mask", "score", "position"};
    static const mj_type want[3] = {MJ_T_BOOL, MJ_T_FLOAT, MJ_T_INT};
    for (int r = 0; r < 3 && !c->fatal; r++) {
        mj_ast_decl *d = c->roots[r];
        if (!d || !d->init) continue;
        c->cur_decl = d->loc;
        mj_expr *e = lower(c, NULL, d->init);
        if (!e) continue;
        if (r == 1 && e->type == MJ_T_INT) e = mk_to_float(c, e);
        if (!e) continue;
        if (e->type != want[r]) {
            mj_report_error(&c->rep, d->init->loc, "%s must be %s, found %s%s", names[r], ck_type_name(want[r]),
                            ck_type_name(e->type), r == 2 && e->type == MJ_T_FLOAT ? " (convert with int(...))" : "");
            continue;
        }
        uint32_t forbidden = r == 0 ? CK_USES_BUILTIN(MJ_B_SCORE)
                             : r == 2 ? CK_USES_BUILTIN(MJ_B_SCORE) | CK_USES_BUILTIN(MJ_B_KV) |
                                            CK_USES_BUILTIN(MJ_B_H) | CK_USES_HEADS
                                      : 0;
        if (CK_NODE(e)->flags & forbidden) {
            check_uses(c, e, forbidden, names[r]);
            continue;
        }
        c->ir_roots[r] = e;
    }
}

void ck_lower_all(ck_ctx *c) {
    for (int i = 0; i < c->n_syms && !c->fatal && !c->rep.full; i++) {
        ck_sym *s = c->syms[i];
        if (s->kind != CK_LET || !s->decl->init) continue;
        c->cur_decl = s->decl->loc;
        s->ir = lower(c, NULL, s->decl->init);
    }
    lower_roots(c);
}
