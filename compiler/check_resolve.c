/* check_resolve.c — name resolution over the AST: binds every name, index and
 * call to a built-in, a def parameter, a declaration or a built-in function;
 * reports unknown names (suggesting the closest visible name by edit
 * distance), use before declaration, wrong kinds (indexing a scalar, an array
 * without index, calling a non-function), wrong arity and out-of-range integer
 * literals.  Then marks what mask/score/position reach, and warns about the
 * main file's declarations they never reach. */
#include "check_internal.h"

#include "source.h"

#include <stdlib.h>
#include <string.h>

/* Where names are being resolved. */
typedef struct rs_scope {
    ck_file *file;
    ck_sym *owner;     /* let/def whose body this is; NULL for mask/score/position */
    mj_ast_decl *def;  /* owner's declaration when a def (its parameters are in scope) */
} rs_scope;

/* ---- did you mean ------------------------------------------------------------- */

/* Edit distance with adjacent transpositions (optimal string alignment), or a
 * large number when clearly too far apart. */
static int edit_distance(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64) return 1000;
    if ((la > lb ? la - lb : lb - la) > 3) return 1000;
    int d[65][65];
    for (size_t i = 0; i <= la; i++) d[i][0] = (int)i;
    for (size_t j = 0; j <= lb; j++) d[0][j] = (int)j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            int best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < best) best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best) best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    return d[la][lb];
}

typedef struct suggest { const char *best; int dist; const char *name; } suggest;

static void suggest_try(suggest *s, const char *cand) {
    int d = edit_distance(s->name, cand);
    size_t len = strlen(s->name);
    int limit = len <= 1 ? 0 : len <= 3 ? 1 : len <= 6 ? 2 : 3;
    if (d <= limit && d < s->dist) { s->dist = d; s->best = cand; }
}

/* Closest name visible from the scope; want_fn: functions only, else values. */
static const char *suggest_name(ck_ctx *c, rs_scope *sc, const char *name, bool want_fn) {
    suggest s = {NULL, 1000, name};
    if (!want_fn) {
        if (sc->def)
            for (int i = 0; i < sc->def->nparams; i++) suggest_try(&s, sc->def->params[i]);
        for (int b = 0; b < MJ_B_SCORE; b++) {
            static const char *const bn[] = {"q", "kv", "h", "b", "n_heads", "prompt_len", "seq_len"};
            suggest_try(&s, bn[b]);
        }
    } else {
        for (int f = 0; f < CK_FN_COUNT; f++) suggest_try(&s, ck_fn_name(f));
    }
    for (int i = 0; i < c->n_syms; i++) {
        ck_sym *y = c->syms[i];
        if (!sc->file->visible[y->file->index]) continue;
        if ((y->kind == CK_DEF) != want_fn) continue;
        if (sc->owner && y->file == sc->owner->file && (y->kind == CK_LET || y->kind == CK_DEF) &&
            y->decl_pos >= sc->owner->decl_pos)
            continue;
        suggest_try(&s, y->name);
    }
    return s.best;
}

static void report_unknown(ck_ctx *c, rs_scope *sc, mj_ast_expr *e, const char *what, bool want_fn) {
    char buf[64];
    const char *sug = suggest_name(c, sc, e->name, want_fn);
    const char *shown = mj_report_short(e->name, buf, sizeof buf);
    if (sug) mj_report_error(&c->rep, e->op_loc, "unknown %s '%s'; did you mean '%s'?", what, shown, sug);
    else mj_report_error(&c->rep, e->op_loc, "unknown %s '%s'", what, shown);
    ck_sym *hidden = ck_lookup(c, e->name);
    if (hidden && !sc->file->visible[hidden->file->index])
        mj_report_note(&c->rep, hidden->decl->name_loc, "'%s' is declared here, in a file that %s does not import",
                       shown, sc->file->display);
}

/* ---- resolution ------------------------------------------------------------------ */

/* The declaration NAME refers to from the scope, or NULL (error reported when
 * it exists but is not usable here). */
static ck_sym *find_visible(ck_ctx *c, rs_scope *sc, mj_ast_expr *e, bool *reported) {
    ck_sym *s = ck_lookup(c, e->name);
    *reported = false;
    if (!s || !sc->file->visible[s->file->index]) return NULL;
    if (sc->owner && s->file == sc->owner->file && (s->kind == CK_LET || s->kind == CK_DEF) &&
        s->decl_pos >= sc->owner->decl_pos) {
        if (s == sc->owner) {
            mj_report_error(&c->rep, e->op_loc, "'%s' is used in its own definition", s->name);
        } else {
            mj_report_error(&c->rep, e->op_loc, "'%s' is used before its declaration", s->name);
            mj_report_note(&c->rep, s->decl->name_loc, "'%s' is declared here", s->name);
        }
        *reported = true;
        return NULL;
    }
    return s;
}

static int def_param_index(rs_scope *sc, const char *name) {
    if (!sc->def) return -1;
    for (int i = sc->def->nparams - 1; i >= 0; i--)
        if (!strcmp(sc->def->params[i], name)) return i;
    return -1;
}

static const char *kind_phrase(ck_sym *s) {
    switch (s->kind) {
    case CK_TOKENS: return "a tokens annotation";
    case CK_HEADS: return "a heads array";
    case CK_PARAM: return s->decl->is_array ? "an array parameter" : "a parameter";
    case CK_LET: return "a let";
    default: return "a function";
    }
}

static void resolve_expr(ck_ctx *c, rs_scope *sc, mj_ast_expr *e);

static void resolve_name(ck_ctx *c, rs_scope *sc, mj_ast_expr *e) {
    e->ref_kind = CK_REF_ERROR;
    int k = def_param_index(sc, e->name);
    if (k >= 0) { e->ref_kind = CK_REF_LOCAL; e->ref_index = k; return; }
    if ((k = ck_builtin_index(e->name)) >= 0) { e->ref_kind = CK_REF_BUILTIN; e->ref_index = k; return; }
    if ((k = ck_fn_index(e->name)) >= 0) {
        mj_report_error(&c->rep, e->op_loc, "'%s' is a function; call it with %d argument%s",
                        e->name, ck_fn_arity(k), ck_fn_arity(k) == 1 ? "" : "s");
        return;
    }
    bool reported;
    ck_sym *s = find_visible(c, sc, e, &reported);
    if (reported) return;
    if (!s) { report_unknown(c, sc, e, "name", false); return; }
    if (s->kind == CK_TOKENS)
        mj_report_error(&c->rep, e->op_loc, "'%s' is a tokens annotation; index it, as in %s[q]", s->name, s->name);
    else if (s->kind == CK_HEADS)
        mj_report_error(&c->rep, e->op_loc, "'%s' is a heads array; index it, as in %s[h]", s->name, s->name);
    else if (s->kind == CK_PARAM && s->decl->is_array)
        mj_report_error(&c->rep, e->op_loc, "'%s' is an array parameter; index it, as in %s[0]", s->name, s->name);
    else if (s->kind == CK_DEF)
        mj_report_error(&c->rep, e->op_loc, "'%s' is a function; call it with %d argument%s", s->name,
                        s->decl->nparams, s->decl->nparams == 1 ? "" : "s");
    else { e->ref_kind = CK_REF_SYM; e->ref = s; }
}

static void resolve_index(ck_ctx *c, rs_scope *sc, mj_ast_expr *e) {
    e->ref_kind = CK_REF_ERROR;
    if (def_param_index(sc, e->name) >= 0) {
        mj_report_error(&c->rep, e->op_loc, "'%s' is not an array (it is a parameter of '%s')", e->name,
                        sc->def->name);
        return;
    }
    if (ck_builtin_index(e->name) >= 0) {
        mj_report_error(&c->rep, e->op_loc, "'%s' is not an array", e->name);
        return;
    }
    if (ck_fn_index(e->name) >= 0) {
        mj_report_error(&c->rep, e->op_loc, "'%s' is a function, not an array; call it with ( )", e->name);
        return;
    }
    bool reported;
    ck_sym *s = find_visible(c, sc, e, &reported);
    if (reported) return;
    if (!s) { report_unknown(c, sc, e, "name", false); return; }
    if (s->kind == CK_TOKENS || s->kind == CK_HEADS || (s->kind == CK_PARAM && s->decl->is_array)) {
        e->ref_kind = CK_REF_SYM;
        e->ref = s;
    } else if (s->kind == CK_DEF) {
        mj_report_error(&c->rep, e->op_loc, "'%s' is a function, not an array; call it with ( )", s->name);
    } else {
        mj_report_error(&c->rep, e->op_loc, "'%s' is not an array (it is %s)", s->name, kind_phrase(s));
    }
}

static void report_arity(ck_ctx *c, mj_ast_expr *e, const char *name, int want) {
    mj_report_error(&c->rep, e->op_loc, "'%s' takes %d argument%s, got %d", name, want,
                    want == 1 ? "" : "s", e->nargs);
}

static void resolve_call(ck_ctx *c, rs_scope *sc, mj_ast_expr *e) {
    e->ref_kind = CK_REF_ERROR;
    int k;
    if (def_param_index(sc, e->name) >= 0 || ck_builtin_index(e->name) >= 0) {
        mj_report_error(&c->rep, e->op_loc, "'%s' is not a function", e->name);
        return;
    }
    if ((k = ck_fn_index(e->name)) >= 0) {
        if (e->nargs != ck_fn_arity(k)) { report_arity(c, e, e->name, ck_fn_arity(k)); return; }
        e->ref_kind = CK_REF_FN;
        e->ref_index = k;
        return;
    }
    bool reported;
    ck_sym *s = find_visible(c, sc, e, &reported);
    if (reported) return;
    if (!s) { report_unknown(c, sc, e, "function", true); return; }
    if (s->kind != CK_DEF) {
        bool arr = s->kind == CK_TOKENS || s->kind == CK_HEADS || (s->kind == CK_PARAM && s->decl->is_array);
        if (arr) mj_report_error(&c->rep, e->op_loc, "'%s' is not a function; did you mean %s[...]?", s->name, s->name);
        else mj_report_error(&c->rep, e->op_loc, "'%s' is not a function (it is %s)", s->name, kind_phrase(s));
        return;
    }
    if (s->decl->broken) return;   /* its parameter list did not parse (reported) */
    if (e->nargs != s->decl->nparams) { report_arity(c, e, s->name, s->decl->nparams); return; }
    e->ref_kind = CK_REF_SYM;
    e->ref = s;
}

/* Resolves E and its sub-expressions (recursion bounded by MJ_AST_MAX_DEPTH). */
static void resolve_expr(ck_ctx *c, rs_scope *sc, mj_ast_expr *e) {
    if (c->rep.full) return;
    for (int i = 0; i < e->nargs; i++) resolve_expr(c, sc, e->args[i]);
    switch (e->kind) {
    case MJ_AST_INT:
        if (e->ival < INT32_MIN || e->ival > INT32_MAX)
            mj_report_error(&c->rep, e->loc, "integer literal out of range");
        break;
    case MJ_AST_NAME: resolve_name(c, sc, e); break;
    case MJ_AST_INDEX: resolve_index(c, sc, e); break;
    case MJ_AST_CALL: resolve_call(c, sc, e); break;
    default: break;
    }
}

void ck_resolve_all(ck_ctx *c) {
    for (int i = 0; i < c->n_syms && !c->rep.full; i++) {
        ck_sym *s = c->syms[i];
        if (!s->decl->init || s->decl->broken) continue;
        rs_scope sc = {s->file, NULL, NULL};
        if (s->kind == CK_LET || s->kind == CK_DEF) sc.owner = s;
        if (s->kind == CK_DEF) sc.def = s->decl;
        if (s->kind == CK_PARAM || s->kind == CK_TOKENS) {
            /* defaults are literals; only the range check applies */
            mj_ast_expr *e = s->decl->init;
            if (e->kind == MJ_AST_UNARY && e->op == MJ_AOP_NEG) e = e->args[0];
            if (e->kind == MJ_AST_INT) resolve_expr(c, &sc, e);
            continue;
        }
        resolve_expr(c, &sc, s->decl->init);
    }
    for (int r = 0; r < 3 && !c->rep.full; r++) {
        if (!c->roots[r] || !c->roots[r]->init) continue;
        rs_scope sc = {c->main, NULL, NULL};
        resolve_expr(c, &sc, c->roots[r]->init);
    }
}

/* ---- reachability ---------------------------------------------------------------- */

static void mark_expr(ck_sym ***work, int *n, int *cap, mj_ast_expr *e) {
    for (int i = 0; i < e->nargs; i++) mark_expr(work, n, cap, e->args[i]);
    if (e->ref_kind != CK_REF_SYM) return;
    ck_sym *s = e->ref;
    if (s->reached) return;
    s->reached = true;
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 64;
        *work = realloc(*work, (size_t)*cap * sizeof **work);
        if (!*work) abort();
    }
    (*work)[(*n)++] = s;
}

void ck_mark_reached(ck_ctx *c) {
    ck_sym **work = NULL;
    int n = 0, cap = 0;
    for (int r = 0; r < 3; r++)
        if (c->roots[r] && c->roots[r]->init) mark_expr(&work, &n, &cap, c->roots[r]->init);
    while (n > 0) {
        ck_sym *s = work[--n];
        if ((s->kind == CK_LET || s->kind == CK_DEF) && s->decl->init)
            mark_expr(&work, &n, &cap, s->decl->init);
    }
    free(work);
}

void ck_warn_unused(ck_ctx *c) {
    static const char *const what[] = {"param", "tokens annotation", "heads array", "let", "def"};
    int n = 0;
    for (int i = 0; i < c->n_syms; i++) {
        ck_sym *s = c->syms[i];
        if (s->file != c->main || s->reached) continue;
        if (++n <= CK_MAX_UNUSED_WARNINGS)
            mj_report_warning(&c->rep, s->decl->name_loc, "%s '%s' is never used", what[s->kind], s->name);
    }
    if (n > CK_MAX_UNUSED_WARNINGS)
        mj_report_note(&c->rep, mj_source_loc(c->main->src, 0, 1), "%d more unused declarations not shown",
                       n - CK_MAX_UNUSED_WARNINGS);
}
