/* ast.c — tree builders used by the parser actions, and the parse driver
 * mj_parse (scanner + parser over one loaded source). */
#include "ast.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse_internal.h"
#include "mask.tab.h"
#include "mask.lex.h"

void mj_ast_list_push(mj_arena *a, mj_ast_list *l, void *item) {
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 4;
        void **items = mj_arena_alloc(a, sizeof(void *) * (size_t)cap);
        if (l->n) memcpy(items, l->items, sizeof(void *) * (size_t)l->n);
        l->items = items;
        l->cap = cap;
    }
    l->items[l->n++] = item;
}

const char *mj_ast_op_name(mj_ast_op op) {
    static const char *const names[] = {"-", "!", "+", "-", "*", "/", "%", "<", "<=", ">", ">=",
                                        "==", "!=", "&&", "||"};
    return (unsigned)op < sizeof names / sizeof names[0] ? names[op] : "?";
}

mj_srcloc mj_parse_loc(const mj_parse_ctx *c, const mj_yyltype *l) {
    mj_srcloc s;
    s.src = c->src;
    s.line = l->first_line;
    s.col = l->first_column;
    if (l->last_line == l->first_line && l->last_column > l->first_column)
        s.len = l->last_column - l->first_column;
    else if (l->last_line > l->first_line)
        s.len = 1 << 24;   /* to the end of the first line (diag.c clips) */
    else
        s.len = 1;
    return s;
}

void mj_parse_error(mj_parse_ctx *c, mj_srcloc loc, const char *fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    c->file->n_syntax_errors++;
    mj_report_error(c->rep, loc, "%s", buf);
}

static mj_ast_expr *ast_new(mj_parse_ctx *c, mj_ast_ekind k, mj_srcloc loc) {
    mj_ast_expr *e = mj_arena_alloc(c->arena, sizeof *e);
    e->kind = k;
    e->loc = loc;
    e->op_loc = loc;
    e->depth = 1;
    return e;
}

mj_ast_expr *mj_ast_leaf(mj_parse_ctx *c, mj_ast_ekind k, mj_srcloc loc) {
    return ast_new(c, k, loc);
}

/* Gives the node its depth; too deep: report once per declaration and return
 * an ERROR leaf so that nothing downstream recurses that far. */
static mj_ast_expr *ast_finish(mj_parse_ctx *c, mj_ast_expr *e) {
    int d = 0;
    for (int i = 0; i < e->nargs; i++)
        if (e->args[i]->depth > d) d = e->args[i]->depth;
    e->depth = d + 1;
    if (e->depth <= MJ_AST_MAX_DEPTH) return e;
    if (!c->depth_reported) {
        c->depth_reported = true;
        mj_parse_error(c, e->op_loc, "expression nested too deeply");
    }
    mj_ast_expr *err = ast_new(c, MJ_AST_ERROR, e->loc);
    return err;
}

static mj_ast_expr **ast_args(mj_parse_ctx *c, int n) {
    return mj_arena_alloc(c->arena, sizeof(mj_ast_expr *) * (size_t)(n ? n : 1));
}

mj_ast_expr *mj_ast_unary(mj_parse_ctx *c, mj_ast_op op, mj_srcloc op_loc, mj_ast_expr *x,
                          mj_srcloc loc) {
    /* `-LITERAL` folds, so that -2147483648 and -inf are literals. */
    if (op == MJ_AOP_NEG && x->kind == MJ_AST_INT && -x->ival >= INT32_MIN && -x->ival <= INT32_MAX) {
        mj_ast_expr *e = ast_new(c, MJ_AST_INT, loc);
        e->ival = -x->ival;
        return e;
    }
    if (op == MJ_AOP_NEG && x->kind == MJ_AST_FLOAT) {
        mj_ast_expr *e = ast_new(c, MJ_AST_FLOAT, loc);
        e->fval = -x->fval;
        return e;
    }
    mj_ast_expr *e = ast_new(c, MJ_AST_UNARY, loc);
    e->op = op;
    e->op_loc = op_loc;
    e->nargs = 1;
    e->args = ast_args(c, 1);
    e->args[0] = x;
    return ast_finish(c, e);
}

mj_ast_expr *mj_ast_binary(mj_parse_ctx *c, mj_ast_op op, mj_srcloc op_loc, mj_ast_expr *x,
                           mj_ast_expr *y, mj_srcloc loc) {
    mj_ast_expr *e = ast_new(c, MJ_AST_BINARY, loc);
    e->op = op;
    e->op_loc = op_loc;
    e->nargs = 2;
    e->args = ast_args(c, 2);
    e->args[0] = x;
    e->args[1] = y;
    return ast_finish(c, e);
}

mj_ast_expr *mj_ast_cond(mj_parse_ctx *c, bool is_if, mj_srcloc op_loc, mj_ast_expr *x,
                         mj_ast_expr *y, mj_ast_expr *z, mj_srcloc loc) {
    mj_ast_expr *e = ast_new(c, MJ_AST_COND, loc);
    e->is_if = is_if;
    e->op_loc = op_loc;
    e->nargs = 3;
    e->args = ast_args(c, 3);
    e->args[0] = x;
    e->args[1] = y;
    e->args[2] = z;
    return ast_finish(c, e);
}

mj_ast_expr *mj_ast_call(mj_parse_ctx *c, mj_ast_ekind k, const char *name, mj_srcloc name_loc,
                         mj_ast_list *args, mj_srcloc loc) {
    mj_ast_expr *e = ast_new(c, k, loc);
    e->name = name;
    e->op_loc = name_loc;
    e->nargs = args->n;
    e->args = ast_args(c, args->n);
    for (int i = 0; i < args->n; i++) e->args[i] = args->items[i];
    return ast_finish(c, e);
}

mj_ast_decl *mj_ast_decl_new(mj_parse_ctx *c, mj_ast_dkind k, mj_srcloc loc) {
    mj_ast_decl *d = mj_arena_alloc(c->arena, sizeof *d);
    d->kind = k;
    d->loc = loc;
    d->name_loc = loc;
    d->type_loc = loc;
    d->size_loc = loc;
    d->path_loc = loc;
    return d;
}

void mj_ast_decl_end(mj_parse_ctx *c, mj_ast_decl *d) {
    if (d) mj_ast_list_push(c->arena, &c->decls, d);
    c->depth_reported = false;
}

mj_ast_file *mj_parse(mj_arena *a, const mj_source *src, mj_reporter *r) {
    mj_parse_ctx c;
    memset(&c, 0, sizeof c);
    c.arena = a;
    c.rep = r;
    c.src = src;
    c.file = mj_arena_alloc(a, sizeof *c.file);
    c.file->src = src;
    c.line = c.col = 1;
    c.end_line = c.end_col = 1;
    yyscan_t scanner;
    if (mjyylex_init_extra(&c, &scanner) != 0) abort();
    YY_BUFFER_STATE buf = mjyy_scan_bytes(src->text, (int)src->len, scanner);
    mjyyparse(scanner, &c);
    mjyy_delete_buffer(buf, scanner);
    mjyylex_destroy(scanner);
    c.file->decls = (mj_ast_decl **)c.decls.items;
    c.file->n_decls = c.decls.n;
    return c.file;
}
