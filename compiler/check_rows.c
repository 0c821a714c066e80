/* check_rows.c — the warning "query rows can see no key".
 *
 * A heuristic search for a witness, not a proof (documented in
 * docs/language-notes.md).  The mask is evaluated exactly (mj_semantics.h) on
 * small synthetic rows: 4 tokens, 2 heads, params at their defaults, heads
 * arrays 1.0, prompt_len 4 (all prompt) or 1 (tokens 1..3 generated).  Every
 * used tokens annotation takes values from a small domain (its default, 0, 1,
 * and the int literals of the mask; false/true for bool; default/0/1 for
 * float); for each combination v (at most 256) two layouts are tried: every
 * token has v, or only the query token has v and the others the defaults.
 * For queries 0 and 3 and heads 0 and 1, a row where every key is masked is a
 * witness: the warning is given once, at `mask`, naming the witness.
 * The classic catch is a separator (seg = -1) in the prompt under
 *   kv <= q && (q >= prompt_len || (seg[q] == seg[kv] && seg[q] >= 0)). */
#include "check_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mj_semantics.h"

#define RW_N 4          /* tokens of the synthetic row */
#define RW_HEADS 2
#define RW_MAX_COMBOS 256
#define RW_MAX_DOMAIN 6
#define RW_MAX_NODES 5000

typedef struct rw_eval {
    const mj_program *p;
    const mj_env *env;
    int32_t q, kv, h;
    uint32_t stamp;
    uint32_t *stamps;
    mj_value *vals;
} rw_eval;

static mj_value rw_float(float f) { mj_value v; v.f = f; return v; }
static mj_value rw_int(int32_t i) { mj_value v; v.i = i; return v; }

static mj_value rw_binary(mj_op op, mj_type t, mj_value a, mj_value b) {
    if (op == MJ_OP_AND) return rw_int(a.i && b.i);
    if (op == MJ_OP_OR) return rw_int(a.i || b.i);
    if (t == MJ_T_FLOAT) {
        switch (op) {
        case MJ_OP_ADD: return rw_float(a.f + b.f);
        case MJ_OP_SUB: return rw_float(a.f - b.f);
        case MJ_OP_MUL: return rw_float(a.f * b.f);
        case MJ_OP_DIV: return rw_float(a.f / b.f);
        case MJ_OP_MOD: return rw_float(fmodf(a.f, b.f));
        case MJ_OP_LT: return rw_int(a.f < b.f);
        case MJ_OP_LE: return rw_int(a.f <= b.f);
        case MJ_OP_GT: return rw_int(a.f > b.f);
        case MJ_OP_GE: return rw_int(a.f >= b.f);
        case MJ_OP_EQ: return rw_int(a.f == b.f);
        case MJ_OP_NE: return rw_int(a.f != b.f);
        default: return rw_int(0);
        }
    }
    switch (op) {
    case MJ_OP_ADD: return rw_int(mj_iadd(a.i, b.i));
    case MJ_OP_SUB: return rw_int(mj_isub(a.i, b.i));
    case MJ_OP_MUL: return rw_int(mj_imul(a.i, b.i));
    case MJ_OP_DIV: return rw_int(mj_idiv(a.i, b.i));
    case MJ_OP_MOD: return rw_int(mj_imod(a.i, b.i));
    case MJ_OP_LT: return rw_int(a.i < b.i);
    case MJ_OP_LE: return rw_int(a.i <= b.i);
    case MJ_OP_GT: return rw_int(a.i > b.i);
    case MJ_OP_GE: return rw_int(a.i >= b.i);
    case MJ_OP_EQ: return rw_int(a.i == b.i);
    case MJ_OP_NE: return rw_int(a.i != b.i);
    default: return rw_int(0);
    }
}

static mj_value rw_call(mj_fn fn, mj_type t, const mj_value *a) {
    if (t == MJ_T_FLOAT) {
        switch (fn) {
        case MJ_FN_MIN: return rw_float(mj_fmin(a[0].f, a[1].f));
        case MJ_FN_MAX: return rw_float(mj_fmax(a[0].f, a[1].f));
        case MJ_FN_ABS: return rw_float(fabsf(a[0].f));
        case MJ_FN_CLAMP: return rw_float(mj_fclamp(a[0].f, a[1].f, a[2].f));
        case MJ_FN_EXP: return rw_float(expf(a[0].f));
        case MJ_FN_LOG: return rw_float(logf(a[0].f));
        case MJ_FN_SQRT: return rw_float(sqrtf(a[0].f));
        case MJ_FN_TANH: return rw_float(tanhf(a[0].f));
        }
    }
    switch (fn) {
    case MJ_FN_MIN: return rw_int(mj_imin(a[0].i, a[1].i));
    case MJ_FN_MAX: return rw_int(mj_imax(a[0].i, a[1].i));
    case MJ_FN_ABS: return rw_int(mj_iabs(a[0].i));
    case MJ_FN_CLAMP: return rw_int(mj_iclamp(a[0].i, a[1].i, a[2].i));
    default: return rw_int(0);
    }
}

/* Value of E at (q, kv, h), memoised per evaluation by node id. */
static mj_value rw_eval_expr(rw_eval *x, const mj_expr *e) {
    uint32_t id = CK_NODE(e)->id;
    if (x->stamps[id] == x->stamp) return x->vals[id];
    mj_value a[3] = {{0}, {0}, {0}};
    for (int i = 0; i < e->nargs; i++) a[i] = rw_eval_expr(x, e->a[i]);
    mj_value r = {0};
    const mj_env *env = x->env;
    switch (e->kind) {
    case MJ_E_CONST: r = e->v; break;
    case MJ_E_BUILTIN: {
        int32_t b[MJ_B_COUNT] = {x->q, x->kv, x->h, env->b, env->n_heads, env->prompt_len, env->seq_len, 0};
        r = e->u.builtin == MJ_B_SCORE ? rw_float(0.0f) : rw_int(b[e->u.builtin]);
        break;
    }
    case MJ_E_PARAM: r = env->params[x->p->params[e->u.index].offset]; break;
    case MJ_E_PARAM_AT: {
        const mj_param *pa = &x->p->params[e->u.index];
        r = mj_param_at(env, pa->offset, pa->count, a[0].i, pa->def);
        break;
    }
    case MJ_E_TOKENS_AT: r = mj_tokens_at(env, e->u.index, a[0].i, x->p->tokens[e->u.index].def); break;
    case MJ_E_HEADS_AT: r = rw_float(mj_heads_at(env, e->u.index, a[0].i)); break;
    case MJ_E_UNARY:
        if (e->u.op == MJ_OP_NOT) r = rw_int(!a[0].i);
        else r = e->type == MJ_T_FLOAT ? rw_float(-a[0].f) : rw_int(mj_ineg(a[0].i));
        break;
    case MJ_E_BINARY: r = rw_binary(e->u.op, e->a[0]->type, a[0], a[1]); break;
    case MJ_E_SELECT: r = a[0].i ? a[1] : a[2]; break;
    case MJ_E_CALL: r = rw_call(e->u.fn, e->type, a); break;
    case MJ_E_TO_FLOAT: r = rw_float((float)a[0].i); break;
    case MJ_E_TO_INT: r = rw_int(mj_f2i(a[0].f)); break;
    }
    x->stamps[id] = x->stamp;
    x->vals[id] = r;
    return r;
}

/* Collects the distinct int literals of the DAG (at most max). */
static void rw_int_consts(const mj_expr *e, unsigned char *seen, int32_t *out, int *n, int max) {
    uint32_t id = CK_NODE(e)->id;
    if (seen[id]) return;
    seen[id] = 1;
    if (e->kind == MJ_E_CONST && e->type == MJ_T_INT) {
        bool dup = false;
        for (int i = 0; i < *n; i++) dup |= out[i] == e->v.i;
        if (!dup && *n < max) out[(*n)++] = e->v.i;
    }
    for (int i = 0; i < e->nargs; i++) rw_int_consts(e->a[i], seen, out, n, max);
}

static int rw_count(const mj_expr *e, unsigned char *seen) {
    uint32_t id = CK_NODE(e)->id;
    if (seen[id]) return 0;
    seen[id] = 1;
    int n = 1;
    for (int i = 0; i < e->nargs; i++) n += rw_count(e->a[i], seen);
    return n;
}

/* Domain of values tried for annotation a. */
static int rw_domain(const mj_tokens *t, const int32_t *lits, int n_lits, mj_value *dom) {
    int n = 0;
    if (t->type == MJ_T_BOOL) { dom[0].i = 0; dom[1].i = 1; return 2; }
    if (t->type == MJ_T_FLOAT) { dom[0] = t->def; dom[1].f = 0.0f; dom[2].f = 1.0f; return 3; }
    int32_t cand[3 + RW_MAX_DOMAIN];
    int nc = 0;
    cand[nc++] = t->def.i;
    cand[nc++] = 0;
    cand[nc++] = 1;
    for (int i = 0; i < n_lits; i++) cand[nc++] = lits[i];
    for (int i = 0; i < nc && n < RW_MAX_DOMAIN; i++) {
        bool dup = false;
        for (int k = 0; k < n; k++) dup |= dom[k].i == cand[i];
        if (!dup) dom[n++].i = cand[i];
    }
    return n;
}

/* Is row q (head h) empty in ENV? */
static bool rw_row_empty(rw_eval *x, int32_t q, int32_t h) {
    for (int32_t kv = 0; kv < RW_N; kv++) {
        x->q = q; x->kv = kv; x->h = h;
        x->stamp++;
        if (rw_eval_expr(x, x->p->mask).i) return false;
    }
    return true;
}

static void rw_describe(char *buf, size_t n, const mj_program *p, const mj_value *v, int32_t q, int32_t P) {
    snprintf(buf, n, "query %d of %d tokens, prompt_len = %d", q, RW_N, P);
    for (int32_t a = 0; a < p->n_tokens; a++) {
        if (!p->tokens[a].used) continue;
        size_t k = strlen(buf);
        const mj_tokens *t = &p->tokens[a];
        if (t->type == MJ_T_FLOAT) snprintf(buf + k, n - k, ", %s[q] = %g", t->name, (double)v[a].f);
        else if (t->type == MJ_T_BOOL) snprintf(buf + k, n - k, ", %s[q] = %s", t->name, v[a].i ? "true" : "false");
        else snprintf(buf + k, n - k, ", %s[q] = %d", t->name, v[a].i);
    }
}

/* Searches the synthetic rows for an empty one; fills buf and returns true. */
static bool rw_search(rw_eval *x, mj_env *env, mj_value *tok, mj_value doms[][RW_MAX_DOMAIN], const int *ndom,
                      char *buf, size_t n) {
    const mj_program *p = x->p;
    int na = p->n_tokens;
    mj_value v[64];
    for (int combo = 0; combo < RW_MAX_COMBOS; combo++) {
        int rest = combo;
        for (int a = 0; a < na; a++) {   /* mixed radix digits of combo */
            v[a] = doms[a][rest % ndom[a]];
            rest /= ndom[a];
        }
        if (rest > 0 && combo > 0) break;   /* all combinations done */
        static const int32_t prompt_lens[2] = {RW_N, 1};
        for (int pi = 0; pi < 2; pi++)
            for (int layout = 0; layout < 2; layout++)
                for (int qi = 0; qi < 2; qi++) {
                    int32_t q = qi ? RW_N - 1 : 0;
                    env->prompt_len = prompt_lens[pi];
                    for (int a = 0; a < na; a++)
                        for (int i = 0; i < RW_N; i++)
                            tok[a * RW_N + i] = layout == 0 || i == q ? v[a] : p->tokens[a].def;
                    for (int32_t h = 0; h < RW_HEADS; h++)
                        if (rw_row_empty(x, q, h)) {
                            rw_describe(buf, n, p, v, q, env->prompt_len);
                            return true;
                        }
                }
    }
    return false;
}

void ck_warn_empty_rows(ck_ctx *c, const mj_program *p) {
    if (!p->mask || !c->roots[0] || p->n_tokens > 64) return;
    unsigned char *seen = calloc(c->n_nodes + 1, 1);
    if (!seen) abort();
    int nodes = rw_count(p->mask, seen);
    int32_t lits[RW_MAX_DOMAIN];
    int n_lits = 0;
    memset(seen, 0, c->n_nodes + 1);
    rw_int_consts(p->mask, seen, lits, &n_lits, RW_MAX_DOMAIN);
    free(seen);
    if (nodes > RW_MAX_NODES) return;
    mj_value *params = calloc((size_t)p->n_param_slots + 1, sizeof *params);
    mj_value *tok = calloc((size_t)p->n_tokens * RW_N + 1, sizeof *tok);
    float *heads = calloc((size_t)p->n_heads * RW_HEADS + 1, sizeof *heads);
    uint32_t *stamps = calloc(c->n_nodes + 1, sizeof *stamps);
    mj_value *vals = calloc(c->n_nodes + 1, sizeof *vals);
    mj_value (*doms)[RW_MAX_DOMAIN] = calloc((size_t)p->n_tokens + 1, sizeof *doms);
    int *ndom = calloc((size_t)p->n_tokens + 1, sizeof *ndom);
    if (!params || !tok || !heads || !stamps || !vals || !doms || !ndom) abort();
    mj_program_default_params(p, params);
    for (int i = 0; i < p->n_heads * RW_HEADS; i++) heads[i] = 1.0f;
    for (int a = 0; a < p->n_tokens; a++) {
        if (p->tokens[a].used) ndom[a] = rw_domain(&p->tokens[a], lits, n_lits, doms[a]);
        else { ndom[a] = 1; doms[a][0] = p->tokens[a].def; }
    }
    mj_env env = {RW_HEADS, RW_N, RW_N, 0, RW_N, RW_N, params, tok, heads};
    rw_eval x = {p, &env, 0, 0, 0, 0, stamps, vals};
    char buf[512];
    if (rw_search(&x, &env, tok, doms, ndom, buf, sizeof buf))
        mj_report_warning(&c->rep, c->roots[0]->loc,
                          "some query rows can see no key (e.g. %s); their attention output is zeros", buf);
    free(params); free(tok); free(heads); free(stamps); free(vals); free(doms); free(ndom);
}
