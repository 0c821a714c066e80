/* check.c — the front door of the compiler (compile.h): loads the main source
 * and its imports (relative to the importing file; "std" is the embedded
 * standard library), detects import cycles, deduplicates diamond imports by
 * canonical path, collects declarations (duplicates, reserved names, defaults,
 * array sizes), then runs resolution, lowering and program assembly
 * (check_resolve.c, check_lower.c, check_build.c) and the warnings. */
#include "check_internal.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "embedded.h"
#include "source.h"

/* ---- names --------------------------------------------------------------- */

static const char *const builtin_names[MJ_B_COUNT] = {"q", "kv", "h", "b", "n_heads", "prompt_len",
                                                      "seq_len", "score"};
static const char *const fn_names[CK_FN_COUNT] = {"min", "max", "abs", "clamp", "exp", "log",
                                                  "sqrt", "tanh", "float", "int"};
static const int fn_arity[CK_FN_COUNT] = {2, 2, 1, 3, 1, 1, 1, 1, 1, 1};

int ck_builtin_index(const char *name) {
    for (int i = 0; i < MJ_B_SCORE; i++)
        if (!strcmp(name, builtin_names[i])) return i;
    return -1;
}

int ck_fn_index(const char *name) {
    for (int i = 0; i < CK_FN_COUNT; i++)
        if (!strcmp(name, fn_names[i])) return i;
    return -1;
}

int ck_fn_arity(int fn) { return fn_arity[fn]; }
const char *ck_fn_name(int fn) { return fn_names[fn]; }

const char *ck_type_name(mj_type t) {
    return t == MJ_T_BOOL ? "bool" : t == MJ_T_INT ? "int" : "float";
}

bool ck_is_reserved(const char *name) {
    return ck_builtin_index(name) >= 0 || ck_fn_index(name) >= 0 || !strcmp(name, "bool");
}

/* ---- symbol table ---------------------------------------------------------- */

static uint64_t name_hash(const char *s) {
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

ck_sym *ck_lookup(ck_ctx *c, const char *name) {
    if (!c->table_cap) return NULL;
    for (size_t i = name_hash(name) & (c->table_cap - 1);; i = (i + 1) & (c->table_cap - 1)) {
        ck_sym *s = c->table[i];
        if (!s) return NULL;
        if (!strcmp(s->name, name)) return s;
    }
}

static void table_put(ck_ctx *c, ck_sym *s) {
    if ((size_t)(c->n_syms + 1) * 2 > c->table_cap) {
        size_t cap = c->table_cap ? c->table_cap * 2 : 64;
        ck_sym **t = calloc(cap, sizeof *t);
        if (!t) abort();
        for (size_t k = 0; k < c->table_cap; k++) {
            ck_sym *o = c->table[k];
            if (!o) continue;
            size_t i = name_hash(o->name) & (cap - 1);
            while (t[i]) i = (i + 1) & (cap - 1);
            t[i] = o;
        }
        free(c->table);
        c->table = t;
        c->table_cap = cap;
    }
    size_t i = name_hash(s->name) & (c->table_cap - 1);
    while (c->table[i]) i = (i + 1) & (c->table_cap - 1);
    c->table[i] = s;
}

static void *grow(void *p, int *cap, int need, size_t elem) {
    if (need <= *cap) return p;
    int n = *cap ? *cap * 2 : 16;
    while (n < need) n *= 2;
    p = realloc(p, (size_t)n * elem);
    if (!p) abort();
    *cap = n;
    return p;
}

/* ---- sources and imports ----------------------------------------------------- */

/* Validates and parses SRC as a new file. */
static ck_file *file_new(ck_ctx *c, const char *display, const char *canon, const mj_source *src) {
    ck_file *f = mj_arena_alloc(c->arena, sizeof *f);
    f->display = display;
    f->canon = canon;
    f->src = src;
    c->files = grow(c->files, &c->cap_files, c->n_files + 1, sizeof *c->files);
    f->index = -1;
    size_t bad;
    char msg[160];
    if (mj_source_validate(src, &bad, msg, sizeof msg) != 0) {
        mj_report_error(&c->rep, mj_source_loc(src, bad, 1), "%s", msg);
        f->ast = mj_arena_alloc(c->arena, sizeof *f->ast);
        f->ast->src = src;
        f->ast->n_syntax_errors = 1;
        return f;
    }
    f->ast = mj_parse(c->arena, src, &c->rep);
    return f;
}

static ck_file *find_file(ck_ctx *c, const char *canon) {
    for (int i = 0; i < c->n_files; i++)
        if (!strcmp(c->files[i]->canon, canon)) return c->files[i];
    for (int i = 0; i < c->n_stack; i++)
        if (!strcmp(c->stack[i]->canon, canon)) return c->stack[i];
    return NULL;
}

/* Directory part of PATH with a trailing '/', or "" when it has none. */
static char *dir_of(mj_arena *a, const char *path) {
    const char *slash = strrchr(path, '/');
    return slash ? mj_arena_strndup(a, path, (size_t)(slash - path + 1)) : mj_arena_strdup(a, "");
}

static void load_imports(ck_ctx *c, ck_file *f);

/* Reports "import cycle: a -> b -> a" at the import of TARGET. */
static void report_cycle(ck_ctx *c, mj_ast_decl *d, ck_file *target) {
    size_t n = 64;
    int from = 0;
    for (int i = 0; i < c->n_stack; i++) {
        if (c->stack[i] == target) from = i;
    }
    for (int i = from; i < c->n_stack; i++) n += strlen(c->stack[i]->display) + 4;
    char *msg = malloc(n + strlen(target->display));
    if (!msg) abort();
    strcpy(msg, "import cycle: ");
    for (int i = from; i < c->n_stack; i++) {
        strcat(msg, c->stack[i]->display);
        strcat(msg, " -> ");
    }
    strcat(msg, target->display);
    mj_report_error(&c->rep, d->path_loc, "%s", msg);
    free(msg);
}

/* Resolves and loads the file of one import declaration of F. */
static ck_file *import_one(ck_ctx *c, ck_file *f, mj_ast_decl *d) {
    if (!strcmp(d->path, "std")) {
        ck_file *g = find_file(c, "<std>");
        if (g) return g;
        const char *text = mj_embedded_get("std.mask");
        if (!text) text = "";
        mj_source *src = mj_source_from_text(c->arena, "<std>", text, strlen(text));
        return file_new(c, "<std>", "<std>", src);
    }
    const char *display = d->path[0] == '/' ? d->path
                          : mj_arena_printf(c->arena, "%s%s", dir_of(c->arena, f->display), d->path);
    struct stat st;
    if (stat(display, &st) != 0 && !strchr(strrchr(display, '/') ? strrchr(display, '/') : display, '.')) {
        const char *with_ext = mj_arena_printf(c->arena, "%s.mask", display);
        if (stat(with_ext, &st) == 0) display = with_ext;
    }
    char canon[PATH_MAX];
    if (!realpath(display, canon)) {
        mj_report_error(&c->rep, d->path_loc, "cannot open '%s': %s", display, strerror(errno));
        return NULL;
    }
    if (stat(canon, &st) != 0 || !S_ISREG(st.st_mode)) {
        mj_report_error(&c->rep, d->path_loc, "cannot import '%s': not a regular file", display);
        return NULL;
    }
    ck_file *g = find_file(c, canon);
    if (g) return g;
    char err[PATH_MAX + 128];
    mj_source *src = mj_source_load(c->arena, display, true, err, sizeof err);
    if (!src) {
        mj_report_error(&c->rep, d->path_loc, "%s", err);
        return NULL;
    }
    return file_new(c, src->path, mj_arena_strdup(c->arena, canon), src);
}

/* Loads F's imports depth first; appends F to c->files after them. */
static void load_imports(ck_ctx *c, ck_file *f) {
    f->state = 1;
    c->stack = grow(c->stack, &c->cap_stack, c->n_stack + 1, sizeof *c->stack);
    c->stack[c->n_stack++] = f;
    for (int i = 0; i < f->ast->n_decls && !c->rep.full; i++) {
        mj_ast_decl *d = f->ast->decls[i];
        if (d->kind != MJ_DECL_IMPORT) continue;
        ck_file *g = import_one(c, f, d);
        if (!g) continue;
        if (g->state == 1) { report_cycle(c, d, g); continue; }
        bool seen = false;
        for (int k = 0; k < f->imports.n; k++) seen |= f->imports.items[k] == g;
        if (!seen) mj_ast_list_push(c->arena, &f->imports, g);
        if (g->state == 0) load_imports(c, g);
    }
    c->n_stack--;
    f->state = 2;
    c->files = grow(c->files, &c->cap_files, c->n_files + 1, sizeof *c->files);
    f->index = c->n_files;
    c->files[c->n_files++] = f;
}

/* visible[j] of each file: itself and everything it imports, transitively. */
static void compute_visibility(ck_ctx *c) {
    for (int i = 0; i < c->n_files; i++) {
        ck_file *f = c->files[i];
        f->visible = mj_arena_alloc(c->arena, (size_t)c->n_files);
        f->visible[i] = 1;
        for (int k = 0; k < f->imports.n; k++) {
            ck_file *g = f->imports.items[k];   /* earlier in files: already complete */
            for (int j = 0; j < c->n_files; j++) f->visible[j] |= g->visible[j];
        }
    }
}

/* ---- declarations ------------------------------------------------------------- */

/* Value of a literal default, or false with an error. */
static bool decl_default(ck_ctx *c, ck_sym *s) {
    mj_ast_decl *d = s->decl;
    mj_ast_expr *e = d->init;
    if (!e || e->kind == MJ_AST_ERROR || d->type == MJ_ATYPE_ERROR) return false;
    mj_type want = d->type == MJ_ATYPE_BOOL ? MJ_T_BOOL : d->type == MJ_ATYPE_INT ? MJ_T_INT : MJ_T_FLOAT;
    mj_type got;
    if (e->kind == MJ_AST_INT) got = MJ_T_INT;
    else if (e->kind == MJ_AST_FLOAT) got = MJ_T_FLOAT;
    else if (e->kind == MJ_AST_BOOL) got = MJ_T_BOOL;
    else if (e->kind == MJ_AST_UNARY && e->op == MJ_AOP_NEG && e->args[0]->kind == MJ_AST_INT) {
        return false;   /* -LITERAL that did not fold: out of range (reported by resolution) */
    } else {
        mj_report_error(&c->rep, e->loc, "default of '%s' must be a literal", s->name);
        return false;
    }
    if (got == MJ_T_INT && (e->ival < INT32_MIN || e->ival > INT32_MAX)) return false; /* reported */
    if (got != want && !(got == MJ_T_INT && want == MJ_T_FLOAT)) {
        mj_report_error(&c->rep, e->loc, "default of '%s' must be %s, found %s", s->name,
                        ck_type_name(want), ck_type_name(got));
        return false;
    }
    s->type = want;
    if (want == MJ_T_FLOAT) s->def.f = got == MJ_T_INT ? (float)e->ival : (float)e->fval;
    else s->def.i = (int32_t)e->ival;
    return true;
}

/* Checks the type part of a param/tokens/heads declaration. */
static void decl_storage(ck_ctx *c, ck_sym *s) {
    mj_ast_decl *d = s->decl;
    s->count = 1;
    if (d->type == MJ_ATYPE_ERROR) { s->bad = true; return; }
    if (s->kind == CK_HEADS) {
        s->type = MJ_T_FLOAT;
        if (d->type != MJ_ATYPE_FLOAT) {
            mj_report_error(&c->rep, d->type_loc, "heads arrays must be float");
            s->bad = true;
        }
        if (d->is_array) {
            mj_report_error(&c->rep, d->size_loc, "heads array '%s' has one value per head; write 'heads %s: float'",
                            s->name, s->name);
            s->bad = true;
        }
        return;
    }
    if (d->is_array && s->kind == CK_TOKENS) {
        mj_report_error(&c->rep, d->size_loc, "tokens annotation '%s' cannot be an array", s->name);
        s->bad = true;
    } else if (d->is_array && (d->array_size < 1 || d->array_size > 65536)) {
        mj_report_error(&c->rep, d->size_loc, "array size must be between 1 and 65536");
        s->bad = true;
    } else if (d->is_array) {
        s->count = (int32_t)d->array_size;
    }
    if (!decl_default(c, s)) s->bad = true;
}

/* Adds one named declaration (reports duplicates and reserved names). */
static void declare(ck_ctx *c, ck_file *f, mj_ast_decl *d, int pos) {
    char buf[64];
    if (!d->name) return;
    if (ck_is_reserved(d->name) || !strcmp(d->name, "int") || !strcmp(d->name, "float")) {
        mj_report_error(&c->rep, d->name_loc, "'%s' is a built-in name and cannot be declared", d->name);
        return;
    }
    ck_sym *old = ck_lookup(c, d->name);
    if (old) {
        mj_report_error(&c->rep, d->name_loc, "duplicate declaration of '%s'",
                        mj_report_short(d->name, buf, sizeof buf));
        mj_report_note(&c->rep, old->decl->name_loc, "'%s' was first declared here",
                       mj_report_short(d->name, buf, sizeof buf));
        return;
    }
    ck_sym *s = mj_arena_alloc(c->arena, sizeof *s);
    s->name = d->name;
    s->decl = d;
    s->file = f;
    s->decl_pos = pos;
    s->final_index = -1;
    s->kind = d->kind == MJ_DECL_PARAM ? CK_PARAM : d->kind == MJ_DECL_TOKENS ? CK_TOKENS
              : d->kind == MJ_DECL_HEADS ? CK_HEADS : d->kind == MJ_DECL_LET ? CK_LET : CK_DEF;
    c->syms = grow(c->syms, &c->cap_syms, c->n_syms + 1, sizeof *c->syms);
    s->order = c->n_syms;
    table_put(c, s);
    c->syms[c->n_syms++] = s;
    if (s->kind == CK_PARAM || s->kind == CK_TOKENS || s->kind == CK_HEADS) decl_storage(c, s);
    if (s->kind == CK_DEF) {
        for (int i = 0; i < d->nparams; i++) {
            if (ck_is_reserved(d->params[i]))
                mj_report_error(&c->rep, d->param_locs[i], "'%s' is a built-in name and cannot be a parameter",
                                d->params[i]);
            for (int j = 0; j < i; j++)
                if (!strcmp(d->params[i], d->params[j]))
                    mj_report_error(&c->rep, d->param_locs[i], "duplicate parameter '%s'",
                                    mj_report_short(d->params[i], buf, sizeof buf));
        }
    }
}

static void collect_decls(ck_ctx *c) {
    static const char *const root_names[3] = {"mask", "score", "position"};
    for (int i = 0; i < c->n_files; i++) {
        ck_file *f = c->files[i];
        for (int k = 0; k < f->ast->n_decls; k++) {
            mj_ast_decl *d = f->ast->decls[k];
            int root = d->kind == MJ_DECL_MASK ? 0 : d->kind == MJ_DECL_SCORE ? 1
                       : d->kind == MJ_DECL_POSITION ? 2 : -1;
            if (root < 0) { declare(c, f, d, k); continue; }
            if (!f->is_main) continue;   /* imported files' mask/score/position are not imported */
            if (c->roots[root]) {
                mj_report_error(&c->rep, d->loc, "duplicate '%s'", root_names[root]);
                mj_report_note(&c->rep, c->roots[root]->loc, "'%s' was first defined here", root_names[root]);
                continue;
            }
            c->roots[root] = d;
        }
    }
    if (!c->roots[0] && c->main->ast->n_syntax_errors == 0) {
        mj_srcloc loc = mj_source_loc(c->main->src, c->main->src->len, 1);
        loc.line = 1;
        loc.col = 1;
        mj_report_error(&c->rep, loc, "missing 'mask = ...' declaration");
    }
}

/* ---- driver -------------------------------------------------------------------- */

static void ctx_free(ck_ctx *c) {
    free(c->files);
    free(c->stack);
    free(c->syms);
    free(c->table);
}

/* Runs every phase on the loaded main file; returns the program or NULL. */
static mj_program *compile_main(ck_ctx *c) {
    load_imports(c, c->main);
    compute_visibility(c);
    collect_decls(c);
    if (!c->rep.full) ck_resolve_all(c);
    if (!c->rep.full) ck_mark_reached(c);
    if (!c->rep.full) ck_lower_all(c);
    if (c->rep.n_errors > 0) return NULL;
    mj_program *p = ck_build_program(c);
    if (c->opts.warn_unused) ck_warn_unused(c);
    ck_warn_empty_rows(c, p);
    return p;
}

static void ctx_init(ck_ctx *c, const mj_compile_opts *opts, mj_diags *diags) {
    memset(c, 0, sizeof *c);
    c->opts.max_errors = opts && opts->max_errors > 0 ? opts->max_errors : 50;
    c->opts.warn_unused = opts ? opts->warn_unused : 1;
    mj_reporter_init(&c->rep, diags, c->opts.max_errors);
    c->arena = mj_arena_new();
}

/* Diagnostics must outlive the arena (and the program): point them at copies
 * of the sources they show, owned by the diagnostics list. */
static void keep_sources(mj_diags *diags, size_t first) {
    const mj_source *orig[16], *copy[16];
    int n = 0;
    for (size_t i = first; i < diags->n; i++) {
        const mj_source *s = diags->items[i].loc.src;
        if (!s) continue;
        const mj_source *k = NULL;
        for (int j = 0; j < n && !k; j++)
            if (orig[j] == s) k = copy[j];
        if (!k) {
            k = mj_diags_keep_source(diags, s);
            if (n < 16) { orig[n] = s; copy[n] = k; n++; }
        }
        diags->items[i].loc.src = k;
        diags->items[i].path = k->path;
    }
}

/* A run of diagnostics: one error/warning and its notes. */
typedef struct diag_group { long rank; int32_t line, col; size_t start, end; } diag_group;

static int group_cmp(const void *x, const void *y) {
    const diag_group *a = x, *b = y;
    if (a->rank != b->rank) return a->rank < b->rank ? -1 : 1;
    if (a->line != b->line) return a->line < b->line ? -1 : 1;
    if (a->col != b->col) return a->col < b->col ? -1 : 1;
    return a->start < b->start ? -1 : a->start > b->start;   /* stable */
}

/* Orders the diagnostics of one compilation by source (in order of first
 * appearance), line and column; each note stays after its diagnostic. */
static void sort_diags(mj_diags *d, size_t first) {
    size_t n = d->n - first;
    if (n < 2) return;
    mj_diag *g = d->items + first;
    diag_group *grp = malloc(sizeof *grp * n);
    const mj_source **srcs = malloc(sizeof *srcs * n);
    mj_diag *out = malloc(sizeof *out * n);
    if (!grp || !srcs || !out) abort();
    size_t ng = 0, ns = 0;
    for (size_t i = 0; i < n; i++) {
        if (g[i].sev == MJ_SEV_NOTE && i > 0) { grp[ng - 1].end = i + 1; continue; }
        long r = -1;
        for (size_t k = 0; k < ns && r < 0; k++) if (srcs[k] == g[i].loc.src) r = (long)k;
        if (r < 0 && ns < 64) { srcs[ns] = g[i].loc.src; r = (long)ns++; }
        grp[ng++] = (diag_group){r < 0 ? 64 : r, g[i].loc.line, g[i].loc.col, i, i + 1};
    }
    qsort(grp, ng, sizeof *grp, group_cmp);
    size_t k = 0;
    for (size_t i = 0; i < ng; i++)
        for (size_t j = grp[i].start; j < grp[i].end; j++) out[k++] = g[j];
    memcpy(g, out, sizeof *out * n);
    free(grp); free(srcs); free(out);
}

static mj_program *compile_finish(ck_ctx *c, mj_diags *diags, size_t first, mj_program *p) {
    sort_diags(diags, first);
    keep_sources(diags, first);
    if (!p) mj_arena_free(c->arena);
    ctx_free(c);
    return p;
}

mj_program *mj_compile_file(const char *path, const mj_compile_opts *opts, mj_diags *diags) {
    ck_ctx c;
    ctx_init(&c, opts, diags);
    size_t first = diags->n;
    char err[PATH_MAX + 128];
    mj_source *src = mj_source_load(c.arena, path, false, err, sizeof err);
    if (!src) {
        mj_report_file_error(&c.rep, path, "%s", err);
        return compile_finish(&c, diags, first, NULL);
    }
    char canon[PATH_MAX];
    const char *key = realpath(path, canon) ? canon : path;
    c.main = file_new(&c, src->path, mj_arena_strdup(c.arena, key), src);
    c.main->is_main = true;
    return compile_finish(&c, diags, first, compile_main(&c));
}

mj_program *mj_compile_string(const char *name, const char *text, size_t len,
                              const mj_compile_opts *opts, mj_diags *diags) {
    ck_ctx c;
    ctx_init(&c, opts, diags);
    size_t first = diags->n;
    if (!name) name = "<string>";
    mj_source *src = mj_source_from_text(c.arena, name, text ? text : "", text ? len : 0);
    char canon[PATH_MAX];
    const char *key = realpath(name, canon) ? canon : name;
    c.main = file_new(&c, src->path, mj_arena_strdup(c.arena, key), src);
    c.main->is_main = true;
    return compile_finish(&c, diags, first, compile_main(&c));
}
