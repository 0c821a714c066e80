/* randprog.c — random well-typed .mask programs and environments (see
 * randprog.h).  The generator keeps a table of what it declared (params,
 * annotations, heads, lets, defs with typed parameters) and grows typed
 * expressions top-down, fully parenthesised, within a depth limit; every
 * let/def records which context-restricted names it uses (kv, h, heads,
 * score) so that it is only referenced where the checker allows them
 * (position: no kv/h/heads/score; mask: no score). */
#include "randprog.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- random numbers ----------------------------------------------------------- */

void mj_rp_seed(mj_rp_rng *r, uint64_t seed) { r->s = seed ? seed : 0x9E3779B97F4A7C15ull; }

uint64_t mj_rp_next(mj_rp_rng *r) {
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 0x2545F4914F6CDD1Dull;
}

int32_t mj_rp_range(mj_rp_rng *r, int32_t lo, int32_t hi) {
    uint64_t span = (uint64_t)((int64_t)hi - lo) + 1;
    return (int32_t)(lo + (int64_t)(mj_rp_next(r) % span));
}

int mj_rp_chance(mj_rp_rng *r, int num, int den) { return mj_rp_range(r, 0, den - 1) < num; }

int32_t mj_rp_int(mj_rp_rng *r) {
    static const int32_t special[] = {0, 1, -1, 2, -2, 3, 7, 16, 100, INT32_MIN, INT32_MAX,
                                      INT32_MIN + 1, INT32_MAX - 1, 46341, -46341, 65536};
    switch (mj_rp_range(r, 0, 5)) {
    case 0: case 1: return special[mj_rp_range(r, 0, (int)(sizeof special / sizeof *special) - 1)];
    case 2: return (int32_t)(uint32_t)mj_rp_next(r);
    default: return mj_rp_range(r, -5, 40);
    }
}

float mj_rp_float(mj_rp_rng *r) {
    static const float special[] = {0.0f, -0.0f, 1.0f, -1.0f, 0.5f, 2.0f, -2.5f, 1e-45f, -1e-45f,
                                    1.17549435e-38f, FLT_MAX, -FLT_MAX, 3e9f, -3e9f,
                                    2147483648.0f, -2147483648.0f, 88.72f, -103.9f, 1e-3f};
    switch (mj_rp_range(r, 0, 9)) {
    case 0: case 1: return special[mj_rp_range(r, 0, (int)(sizeof special / sizeof *special) - 1)];
    case 2: return mj_rp_chance(r, 1, 2) ? INFINITY : -INFINITY;
    case 3: {
        uint32_t bits = (uint32_t)mj_rp_next(r);
        float f;
        memcpy(&f, &bits, sizeof f);
        return f;   /* any value, NaN included */
    }
    case 4: return NAN;
    default: return (float)mj_rp_range(r, -4000, 4000) / 64.0f;
    }
}

/* ---- output buffer -------------------------------------------------------------- */

typedef struct sbuf {
    char *s;
    size_t n, cap;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...) {
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int k = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (k < 0) { va_end(ap2); return; }
    if (b->n + (size_t)k + 1 > b->cap) {
        size_t cap = (b->cap ? b->cap * 2 : 1024) + (size_t)k;
        char *s = realloc(b->s, cap);
        if (!s) { va_end(ap2); abort(); }
        b->s = s;
        b->cap = cap;
    }
    vsnprintf(b->s + b->n, (size_t)k + 1, fmt, ap2);
    va_end(ap2);
    b->n += (size_t)k;
}

/* ---- generator state ------------------------------------------------------------------ */

/* Context-restricted things an expression may use. */
enum { U_KV = 1, U_H = 2, U_HEADS = 4, U_SCORE = 8 };

typedef struct g_param { char name[16]; mj_type t; int count; } g_param;  /* count 0: scalar */
typedef struct g_named { char name[16]; mj_type t; unsigned uses; } g_named;
typedef struct g_def {
    char name[16];
    int nargs;
    mj_type argt[3], ret;
    unsigned uses;
} g_def;

typedef struct gen {
    mj_rp_rng *r;
    sbuf out;
    g_param params[12]; int np;
    g_named toks[6]; int nt;
    int nheads;
    g_named lets[6]; int nl;
    g_def defs[4]; int nd;
    unsigned allow;                /* U_* allowed here */
    unsigned used;                 /* U_* used by what was generated */
    const g_def *in_def;           /* generating this def's body: a0.. are its args */
    int budget;                    /* nodes left for this expression */
} gen;

static int R(gen *g, int lo, int hi) { return mj_rp_range(g->r, lo, hi); }
static int P(gen *g, int num, int den) { return mj_rp_chance(g->r, num, den); }
static const char *tname(mj_type t) {
    return t == MJ_T_BOOL ? "bool" : t == MJ_T_INT ? "int" : "float";
}

static void gen_expr(gen *g, mj_type t, int depth);

static void put_param(gen *g, int i) { sb_printf(&g->out, "%s", g->params[i].name); }

/* "(PREFIX<expr of type t>)" */
static void gen_wrapped(gen *g, const char *prefix, mj_type t, int depth) {
    sb_printf(&g->out, "(%s", prefix);
    gen_expr(g, t, depth);
    sb_printf(&g->out, ")");
}

static void put_int(gen *g, int32_t v) {
    if (v < 0) sb_printf(&g->out, "(%lld)", (long long)v);
    else sb_printf(&g->out, "%d", v);
}

/* A float literal in the lexer's form: D.D[e[+-]D] or inf, negated in parens. */
static void put_float_lit(sbuf *b, float f) {
    if (f != f) f = 0.0f;
    int neg = signbit(f) != 0;
    float a = fabsf(f);
    if (a == INFINITY) sb_printf(b, neg ? "(-inf)" : "inf");
    else sb_printf(b, neg ? "(-%.9e)" : "%.9e", (double)a);
}

static void put_float(gen *g, float f) { put_float_lit(&g->out, f); }

static float lit_float(gen *g) {
    static const float special[] = {0.0f, -0.0f, 1.0f, -1.0f, 0.5f, 1.5f, 2.5e-3f, 1e-45f,
                                    1e-38f, 3.4e38f, 100.0f, 88.0f, -104.0f, 2147483648.0f};
    if (P(g, 1, 8)) return P(g, 1, 2) ? INFINITY : -INFINITY;
    if (P(g, 1, 2)) return special[R(g, 0, (int)(sizeof special / sizeof *special) - 1)];
    return (float)R(g, -800, 800) / 16.0f;
}

static int32_t lit_int(gen *g) {
    static const int32_t special[] = {0, 1, -1, 2, -2, 3, INT32_MIN, INT32_MAX, 65536, -46341};
    if (P(g, 1, 3)) return special[R(g, 0, (int)(sizeof special / sizeof *special) - 1)];
    return R(g, -4, 24);
}

/* ---- leaves ------------------------------------------------------------------------------ */

/* A def argument of type t, or -1. */
static int pick_def_arg(gen *g, mj_type t) {
    if (!g->in_def) return -1;
    int start = R(g, 0, 2);
    for (int k = 0; k < g->in_def->nargs; k++) {
        int i = (start + k) % g->in_def->nargs;
        if (g->in_def->argt[i] == t) return i;
    }
    return -1;
}

static int pick_param(gen *g, mj_type t, int array) {
    int start = R(g, 0, 11);
    for (int k = 0; k < g->np; k++) {
        int i = (start + k) % g->np;
        if (g->params[i].t == t && (g->params[i].count > 0) == array) return i;
    }
    return -1;
}

static int pick_tokens(gen *g, mj_type t) {
    int start = R(g, 0, 5);
    for (int k = 0; k < g->nt; k++) {
        int i = (start + k) % g->nt;
        if (g->toks[i].t == t) return i;
    }
    return -1;
}

static int allowed(const gen *g, unsigned uses) { return (uses & ~g->allow) == 0; }

static int pick_let(gen *g, mj_type t) {
    if (g->in_def) return -1;       /* keep def bodies closed over their arguments */
    int start = R(g, 0, 5);
    for (int k = 0; k < g->nl; k++) {
        int i = (start + k) % g->nl;
        if (g->lets[i].t == t && allowed(g, g->lets[i].uses)) return i;
    }
    return -1;
}

/* An index expression: often q/kv/h, small, or out of range. */
static void gen_index(gen *g, int depth) {
    switch (R(g, 0, 9)) {
    case 0: case 1: sb_printf(&g->out, "q"); return;
    case 2:
        if (g->allow & U_KV) { sb_printf(&g->out, "kv"); g->used |= U_KV; return; }
        sb_printf(&g->out, "(q - 1)");
        return;
    case 3: put_int(g, R(g, -3, 70)); return;
    case 4: put_int(g, P(g, 1, 2) ? INT32_MIN : INT32_MAX); return;
    case 5:
        if (g->allow & U_H) { sb_printf(&g->out, "h"); g->used |= U_H; return; }
        sb_printf(&g->out, "(q + 1)");
        return;
    default: gen_expr(g, MJ_T_INT, depth - 1); return;
    }
}

/* A read of an array of element type t (param array, tokens, heads), or 0. */
static int gen_read(gen *g, mj_type t, int depth) {
    int kind = R(g, 0, 2);
    for (int k = 0; k < 3; k++, kind = (kind + 1) % 3) {
        int i;
        if (kind == 0 && (i = pick_param(g, t, 1)) >= 0) {
            sb_printf(&g->out, "%s[", g->params[i].name);
        } else if (kind == 1 && (i = pick_tokens(g, t)) >= 0) {
            sb_printf(&g->out, "%s[", g->toks[i].name);
        } else if (kind == 2 && t == MJ_T_FLOAT && g->nheads > 0 && (g->allow & U_HEADS)) {
            sb_printf(&g->out, "hd%d[", R(g, 0, g->nheads - 1));
            g->used |= U_HEADS;
        } else {
            continue;
        }
        gen_index(g, depth);
        sb_printf(&g->out, "]");
        return 1;
    }
    return 0;
}

static void gen_int_leaf(gen *g) {
    static const char *builtins[] = {"q", "kv", "h", "b", "n_heads", "prompt_len", "seq_len"};
    int i;
    switch (R(g, 0, 5)) {
    case 0: put_int(g, lit_int(g)); return;
    case 1:
        if ((i = pick_param(g, MJ_T_INT, 0)) >= 0) { put_param(g, i); return; }
        break;
    case 2:
        if ((i = pick_def_arg(g, MJ_T_INT)) >= 0) { sb_printf(&g->out, "a%d", i); return; }
        break;
    default: break;
    }
    i = R(g, 0, 6);
    if (i == 1 && !(g->allow & U_KV)) i = 0;
    if (i == 2 && !(g->allow & U_H)) i = 5;
    g->used |= i == 1 ? U_KV : i == 2 ? U_H : 0;
    sb_printf(&g->out, "%s", builtins[i]);
}

static void gen_float_leaf(gen *g) {
    int i;
    switch (R(g, 0, 4)) {
    case 0:
        if ((i = pick_param(g, MJ_T_FLOAT, 0)) >= 0) { put_param(g, i); return; }
        break;
    case 1:
        if ((i = pick_def_arg(g, MJ_T_FLOAT)) >= 0) { sb_printf(&g->out, "a%d", i); return; }
        break;
    case 2:
        if (g->allow & U_SCORE) { sb_printf(&g->out, "score"); g->used |= U_SCORE; return; }
        break;
    default: break;
    }
    put_float(g, lit_float(g));
}

static void gen_bool_leaf(gen *g) {
    int i;
    switch (R(g, 0, 4)) {
    case 0:
        if ((i = pick_param(g, MJ_T_BOOL, 0)) >= 0) { put_param(g, i); return; }
        break;
    case 1:
        if ((i = pick_def_arg(g, MJ_T_BOOL)) >= 0) { sb_printf(&g->out, "a%d", i); return; }
        break;
    case 2:
        if (g->allow & U_KV) { sb_printf(&g->out, "(kv <= q)"); g->used |= U_KV; return; }
        break;
    default: break;
    }
    sb_printf(&g->out, P(g, 1, 2) ? "true" : "false");
}

static void gen_leaf(gen *g, mj_type t) {
    int i;
    if (g->in_def && P(g, 1, 2) && (i = pick_def_arg(g, t)) >= 0) {
        sb_printf(&g->out, "a%d", i);
        return;
    }
    if (t == MJ_T_INT) gen_int_leaf(g);
    else if (t == MJ_T_FLOAT) gen_float_leaf(g);
    else gen_bool_leaf(g);
}

/* ---- composite expressions ---------------------------------------------------------------- */

/* A divisor that is often 0 or -1. */
static void gen_divisor(gen *g, int depth) {
    int i;
    switch (R(g, 0, 7)) {
    case 0: sb_printf(&g->out, "0"); return;
    case 1: sb_printf(&g->out, "(-1)"); return;
    case 2: sb_printf(&g->out, "1"); return;
    case 3: sb_printf(&g->out, "(q %% 3 - 1)"); return;
    case 4:
        if (g->allow & U_KV) { sb_printf(&g->out, "(kv - q)"); g->used |= U_KV; return; }
        sb_printf(&g->out, "(q - prompt_len)");
        return;
    case 5:
        if ((i = pick_param(g, MJ_T_INT, 0)) >= 0) { put_param(g, i); return; }
        break;
    default: break;
    }
    gen_expr(g, MJ_T_INT, depth - 1);
}

/* An operand of a float operation: float, or (sometimes) int to be promoted. */
static void gen_num(gen *g, int depth) { gen_expr(g, P(g, 1, 4) ? MJ_T_INT : MJ_T_FLOAT, depth); }

static void gen_call(gen *g, const char *fn, int nargs, mj_type t, int depth, int mixed) {
    sb_printf(&g->out, "%s(", fn);
    for (int i = 0; i < nargs; i++) {
        if (i) sb_printf(&g->out, ", ");
        if (mixed && i > 0) gen_num(g, depth - 1);
        else gen_expr(g, t, depth - 1);
    }
    sb_printf(&g->out, ")");
}

static void gen_binop(gen *g, const char *op, mj_type lt, mj_type rt, int depth) {
    int swap = P(g, 1, 2);
    sb_printf(&g->out, "(");
    gen_expr(g, swap ? rt : lt, depth - 1);
    sb_printf(&g->out, " %s ", op);
    gen_expr(g, swap ? lt : rt, depth - 1);
    sb_printf(&g->out, ")");
}

static void gen_int_op(gen *g, int depth) {
    static const char *ar[] = {"+", "-", "*"};
    switch (R(g, 0, 8)) {
    case 0: case 1: gen_binop(g, ar[R(g, 0, 2)], MJ_T_INT, MJ_T_INT, depth); return;
    case 2:
        sb_printf(&g->out, "(");
        gen_expr(g, MJ_T_INT, depth - 1);
        sb_printf(&g->out, P(g, 1, 2) ? " / " : " %% ");
        gen_divisor(g, depth);
        sb_printf(&g->out, ")");
        return;
    case 3: gen_wrapped(g, "-", MJ_T_INT, depth - 1); return;
    case 4: gen_call(g, P(g, 1, 2) ? "min" : "max", 2, MJ_T_INT, depth, 0); return;
    case 5: gen_call(g, "abs", 1, MJ_T_INT, depth, 0); return;
    case 6: gen_call(g, "clamp", 3, MJ_T_INT, depth, 0); return;
    case 7: gen_call(g, "int", 1, MJ_T_FLOAT, depth, 0); return;
    default: gen_binop(g, ar[R(g, 0, 2)], MJ_T_INT, MJ_T_INT, depth); return;
    }
}

static void gen_float_op(gen *g, int depth) {
    static const char *ar[] = {"+", "-", "*", "/", "%"};
    static const char *fns[] = {"exp", "log", "sqrt", "tanh"};
    switch (R(g, 0, 8)) {
    case 0: case 1: case 2:
        gen_binop(g, ar[R(g, 0, 4)], MJ_T_FLOAT, P(g, 1, 3) ? MJ_T_INT : MJ_T_FLOAT, depth);
        return;
    case 3: gen_wrapped(g, "-", MJ_T_FLOAT, depth - 1); return;
    case 4: gen_call(g, P(g, 1, 2) ? "min" : "max", 2, MJ_T_FLOAT, depth, 1); return;
    case 5: gen_call(g, "abs", 1, MJ_T_FLOAT, depth, 0); return;
    case 6: gen_call(g, "clamp", 3, MJ_T_FLOAT, depth, 1); return;
    case 7:
        sb_printf(&g->out, "%s(", fns[R(g, 0, 3)]);
        gen_num(g, depth - 1);
        sb_printf(&g->out, ")");
        return;
    default: gen_call(g, "float", 1, MJ_T_INT, depth, 0); return;
    }
}

static void gen_bool_op(gen *g, int depth) {
    static const char *cmp[] = {"<", "<=", ">", ">=", "==", "!="};
    switch (R(g, 0, 7)) {
    case 0: case 1: gen_binop(g, cmp[R(g, 0, 5)], MJ_T_INT, MJ_T_INT, depth); return;
    case 2: gen_binop(g, cmp[R(g, 0, 5)], MJ_T_FLOAT, MJ_T_FLOAT, depth); return;
    case 3: gen_binop(g, cmp[R(g, 0, 5)], MJ_T_INT, MJ_T_FLOAT, depth); return;
    case 4: gen_binop(g, P(g, 1, 2) ? "==" : "!=", MJ_T_BOOL, MJ_T_BOOL, depth); return;
    case 5: case 6: gen_binop(g, P(g, 1, 2) ? "&&" : "||", MJ_T_BOOL, MJ_T_BOOL, depth); return;
    default: gen_wrapped(g, "!", MJ_T_BOOL, depth - 1); return;
    }
}

static void gen_cond(gen *g, mj_type t, int depth) {
    /* float results may mix an int branch (promoted) */
    mj_type t1 = t, t2 = t;
    if (t == MJ_T_FLOAT && P(g, 1, 4)) *(P(g, 1, 2) ? &t1 : &t2) = MJ_T_INT;
    if (P(g, 1, 2)) {
        sb_printf(&g->out, "(");
        gen_expr(g, MJ_T_BOOL, depth - 1);
        sb_printf(&g->out, " ? ");
        gen_expr(g, t1, depth - 1);
        sb_printf(&g->out, " : ");
        gen_expr(g, t2, depth - 1);
        sb_printf(&g->out, ")");
    } else {
        sb_printf(&g->out, "(if ");
        gen_expr(g, MJ_T_BOOL, depth - 1);
        sb_printf(&g->out, " then ");
        gen_expr(g, t1, depth - 1);
        sb_printf(&g->out, " else ");
        gen_expr(g, t2, depth - 1);
        sb_printf(&g->out, ")");
    }
}

/* A call of a def returning t usable here, or 0. */
static int gen_def_call(gen *g, mj_type t, int depth) {
    int start = R(g, 0, 3);
    for (int k = 0; k < g->nd; k++) {
        const g_def *d = &g->defs[(start + k) % g->nd];
        if (d->ret != t || !allowed(g, d->uses) || (g->in_def && d >= g->in_def)) continue;
        sb_printf(&g->out, "%s(", d->name);
        for (int i = 0; i < d->nargs; i++) {
            if (i) sb_printf(&g->out, ", ");
            gen_expr(g, d->argt[i], depth - 1);
        }
        sb_printf(&g->out, ")");
        g->used |= d->uses;
        return 1;
    }
    return 0;
}

static void gen_composite(gen *g, mj_type t, int depth);

static void gen_expr(gen *g, mj_type t, int depth) {
    if (depth <= 0 || --g->budget <= 0 || P(g, 1, 8)) gen_leaf(g, t);
    else gen_composite(g, t, depth);
}

static void gen_composite(gen *g, mj_type t, int depth) {
    int i;
    switch (R(g, 0, 11)) {
    case 0:
        if ((i = pick_let(g, t)) >= 0) {
            sb_printf(&g->out, "%s", g->lets[i].name);
            g->used |= g->lets[i].uses;
            return;
        }
        break;
    case 1:
        if (gen_def_call(g, t, depth)) return;
        break;
    case 2: gen_cond(g, t, depth); return;
    case 3: case 4:
        if (gen_read(g, t, depth)) return;
        break;
    default: break;
    }
    if (t == MJ_T_INT) gen_int_op(g, depth);
    else if (t == MJ_T_FLOAT) gen_float_op(g, depth);
    else gen_bool_op(g, depth);
}

/* ---- declarations and the program -------------------------------------------------------- */

static mj_type rand_type(gen *g) { return (mj_type)R(g, 0, 2); }

static void put_default(gen *g, mj_type t) {
    if (t == MJ_T_BOOL) sb_printf(&g->out, P(g, 1, 2) ? "true" : "false");
    else if (t == MJ_T_INT || P(g, 1, 5)) put_int(g, lit_int(g));   /* int literal for float too */
    else put_float(g, lit_float(g));
}

static const unsigned levels[3] = {0, U_KV | U_H | U_HEADS, U_KV | U_H | U_HEADS | U_SCORE};

static void gen_decls(gen *g, int depth) {
    int n = R(g, 0, 7);
    for (int k = 0; k < n; k++) {
        g_param *pa = &g->params[g->np];
        snprintf(pa->name, sizeof pa->name, "p%d", g->np++);
        pa->t = rand_type(g);
        pa->count = P(g, 1, 3) ? R(g, 1, 6) : 0;
        sb_printf(&g->out, "param %s: %s", pa->name, tname(pa->t));
        if (pa->count) sb_printf(&g->out, "[%d]", pa->count);
        sb_printf(&g->out, " = ");
        put_default(g, pa->t);
        sb_printf(&g->out, "\n");
    }
    n = R(g, 0, 3);
    for (int k = 0; k < n; k++) {
        g_named *t = &g->toks[g->nt];
        snprintf(t->name, sizeof t->name, "t%d", g->nt++);
        t->t = rand_type(g);
        sb_printf(&g->out, "tokens %s: %s = ", t->name, tname(t->t));
        put_default(g, t->t);
        sb_printf(&g->out, "\n");
    }
    g->nheads = R(g, 0, 2);
    for (int k = 0; k < g->nheads; k++) sb_printf(&g->out, "heads hd%d: float\n", k);
    n = R(g, 0, 4);
    for (int k = 0; k < n; k++) {
        g_named *l = &g->lets[g->nl];
        snprintf(l->name, sizeof l->name, "l%d", g->nl);
        l->t = rand_type(g);
        g->allow = levels[R(g, 0, 2)];
        g->used = 0;
        g->budget = 12;
        sb_printf(&g->out, "let %s = ", l->name);
        gen_expr(g, l->t, depth - 1);
        sb_printf(&g->out, "\n");
        l->uses = g->used;
        g->nl++;
    }
    n = R(g, 0, 3);
    for (int k = 0; k < n; k++) {
        g_def *d = &g->defs[g->nd];
        snprintf(d->name, sizeof d->name, "d%d", g->nd);
        d->nargs = R(g, 0, 3);
        for (int i = 0; i < d->nargs; i++) d->argt[i] = rand_type(g);
        d->ret = rand_type(g);
        g->allow = levels[R(g, 0, 2)];
        g->used = 0;
        g->budget = 12;
        g->in_def = d;
        sb_printf(&g->out, "def %s(", d->name);
        for (int i = 0; i < d->nargs; i++) sb_printf(&g->out, "%sa%d", i ? ", " : "", i);
        sb_printf(&g->out, ") = ");
        gen_expr(g, d->ret, depth - 1);
        sb_printf(&g->out, "\n");
        g->in_def = NULL;
        d->uses = g->used;
        g->nd++;
    }
}

/* One root: NAME = EXPR of type t with context allowance allow. */
static void gen_root(gen *g, const char *name, mj_type t, unsigned allow, int depth) {
    g->allow = allow;
    g->used = 0;
    g->budget = 40;
    sb_printf(&g->out, "%s = ", name);
    gen_composite(g, t, depth);
    sb_printf(&g->out, "\n");
}

char *mj_rp_program(mj_rp_rng *r, const mj_rp_opts *opts) {
    gen g;
    memset(&g, 0, sizeof g);
    g.r = r;
    int depth = opts && opts->max_depth > 0 ? opts->max_depth : 5;
    int want_score = opts ? opts->want_score : -1, want_pos = opts ? opts->want_position : -1;
    sb_printf(&g.out, "# random program\n");
    gen_decls(&g, depth);
    gen_root(&g, "mask", MJ_T_BOOL, levels[1], depth);
    if (want_score == 1 || (want_score < 0 && P(&g, 2, 3)))
        gen_root(&g, "score", P(&g, 1, 10) ? MJ_T_INT : MJ_T_FLOAT, levels[2], depth);
    if (want_pos == 1 || (want_pos < 0 && P(&g, 2, 3)))
        gen_root(&g, "position", MJ_T_INT, levels[0], depth);
    return g.out.s;
}

/* ---- environments ---------------------------------------------------------------------------- */

/* A random slot value of type t. */
static mj_value rand_value(mj_rp_rng *r, mj_type t) {
    mj_value v;
    if (t == MJ_T_FLOAT) v.f = mj_rp_float(r);
    else if (t == MJ_T_INT) v.i = mj_rp_int(r);
    else v.i = mj_rp_chance(r, 1, 8) ? (mj_rp_chance(r, 1, 2) ? 2 : -1) : mj_rp_range(r, 0, 1);
    return v;
}

/* Annotation a over n tokens: segments (int), ramps (float), runs (bool), with
 * a few extreme values. */
static void fill_tokens(mj_rp_rng *r, mj_type t, mj_value *col, int64_t n) {
    int32_t seglen = mj_rp_range(r, 1, 12), sep = mj_rp_chance(r, 1, 2);
    float base = (float)mj_rp_range(r, -8, 8) * 0.25f, step = (float)mj_rp_range(r, -4, 4) * 0.125f;
    for (int64_t i = 0; i < n; i++) {
        if (mj_rp_chance(r, 1, 16)) {
            col[i] = rand_value(r, t);
            continue;
        }
        int32_t seg = (int32_t)(i / seglen);
        if (t == MJ_T_INT) col[i].i = sep && i % seglen == seglen - 1 ? -1 : seg;
        else if (t == MJ_T_FLOAT) col[i].f = base + step * (float)i;
        else col[i].i = seg & 1;
    }
}

int mj_rp_env_init(mj_rp_env *e, const mj_program *p, mj_rp_rng *r, int32_t max_seq_len) {
    memset(e, 0, sizeof *e);
    mj_env *env = &e->env;
    env->seq_len = mj_rp_range(r, 1, max_seq_len > 1 ? max_seq_len : 1);
    env->prompt_len = mj_rp_chance(r, 1, 8) ? env->seq_len : mj_rp_range(r, 0, env->seq_len);
    env->n_heads = mj_rp_range(r, 1, 8);
    env->b = mj_rp_range(r, 0, 3);
    env->tokens_len = mj_rp_chance(r, 3, 4) ? env->seq_len : mj_rp_range(r, 0, env->seq_len);
    env->tokens_stride = env->tokens_len + mj_rp_range(r, 0, 3);
    size_t np = (size_t)(p->n_param_slots > 0 ? p->n_param_slots : 1);
    size_t nt = (size_t)((int64_t)(p->n_tokens > 0 ? p->n_tokens : 1) * (env->tokens_stride + 1));
    size_t nh = (size_t)((p->n_heads > 0 ? p->n_heads : 1) * env->n_heads);
    e->params = calloc(np, sizeof *e->params);
    e->tokens = calloc(nt, sizeof *e->tokens);
    e->heads = calloc(nh, sizeof *e->heads);
    if (!e->params || !e->tokens || !e->heads) { mj_rp_env_free(e); return -1; }
    for (int32_t k = 0; k < p->n_params; k++) {
        const mj_param *pa = &p->params[k];
        for (int32_t i = 0; i < pa->count; i++)
            e->params[pa->offset + i] = mj_rp_chance(r, 1, 6) ? pa->def : rand_value(r, pa->type);
    }
    for (int32_t a = 0; a < p->n_tokens; a++)
        fill_tokens(r, p->tokens[a].type, e->tokens + (int64_t)a * env->tokens_stride,
                    env->tokens_len);
    for (size_t i = 0; i < nh; i++)
        e->heads[i] = mj_rp_chance(r, 3, 4) ? (float)mj_rp_range(r, 1, 64) / 64.0f : mj_rp_float(r);
    env->params = e->params;
    env->tokens = e->tokens;
    env->heads = e->heads;
    return 0;
}

void mj_rp_env_free(mj_rp_env *e) {
    free(e->params);
    free(e->tokens);
    free(e->heads);
    memset(e, 0, sizeof *e);
}

int32_t mj_rp_index(mj_rp_rng *r, const mj_env *env) {
    static const int32_t odd[] = {-1, -2, -100, INT32_MIN, INT32_MAX};
    if (mj_rp_chance(r, 7, 8)) return mj_rp_range(r, 0, env->seq_len - 1);
    if (mj_rp_chance(r, 1, 2)) return env->seq_len + mj_rp_range(r, 0, 4);
    return odd[mj_rp_range(r, 0, 4)];
}

int32_t mj_rp_head(mj_rp_rng *r, const mj_env *env) {
    if (mj_rp_chance(r, 7, 8)) return mj_rp_range(r, 0, env->n_heads - 1);
    return mj_rp_chance(r, 1, 2) ? env->n_heads : -1;
}
