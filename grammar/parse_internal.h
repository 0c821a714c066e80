/* parse_internal.h — state shared by the flex scanner (mask.l), the bison
 * parser (mask.y) and the tree builders (ast.c).  Not for other layers. */
#ifndef MJ_PARSE_INTERNAL_H
#define MJ_PARSE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "ast.h"

/* Bison location: lines 1-based, columns 1-based; last_column is exclusive. */
typedef struct mj_yyltype {
    int first_line, first_column;
    int last_line, last_column;
} mj_yyltype;

/* `T` or `T[N]` as written in a declaration. */
typedef struct mj_parse_type {
    mj_ast_type type;
    mj_srcloc loc;
    bool is_array;
    int64_t size;
    mj_srcloc size_loc;
} mj_parse_type;

typedef struct mj_parse_ctx {
    mj_arena *arena;
    mj_reporter *rep;
    const mj_source *src;
    mj_ast_file *file;
    mj_ast_list decls;
    int32_t line, col;           /* position of the next unread byte */
    int32_t end_line, end_col;   /* just after the last token returned */
    bool in_bad_run;             /* the last thing scanned was a bad character */
    bool depth_reported;         /* "nested too deeply" already said for this declaration */
    char last_text[48];          /* text of the last token (shortened), for messages */
} mj_parse_ctx;

/* Location helpers. */
mj_srcloc mj_parse_loc(const mj_parse_ctx *c, const mj_yyltype *l);
/* Syntax or lexical error: counts into the file's n_syntax_errors. */
void mj_parse_error(mj_parse_ctx *c, mj_srcloc loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Tree builders (ast.c).  Each returns a node in the context's arena; when the
 * new node would be deeper than MJ_AST_MAX_DEPTH it reports once per
 * declaration and returns an ERROR node instead. */
mj_ast_expr *mj_ast_leaf(mj_parse_ctx *c, mj_ast_ekind k, mj_srcloc loc);
mj_ast_expr *mj_ast_unary(mj_parse_ctx *c, mj_ast_op op, mj_srcloc op_loc, mj_ast_expr *x,
                          mj_srcloc loc);
mj_ast_expr *mj_ast_binary(mj_parse_ctx *c, mj_ast_op op, mj_srcloc op_loc, mj_ast_expr *x,
                           mj_ast_expr *y, mj_srcloc loc);
mj_ast_expr *mj_ast_cond(mj_parse_ctx *c, bool is_if, mj_srcloc op_loc, mj_ast_expr *x,
                         mj_ast_expr *y, mj_ast_expr *z, mj_srcloc loc);
mj_ast_expr *mj_ast_call(mj_parse_ctx *c, mj_ast_ekind k, const char *name, mj_srcloc name_loc,
                         mj_ast_list *args, mj_srcloc loc);
mj_ast_decl *mj_ast_decl_new(mj_parse_ctx *c, mj_ast_dkind k, mj_srcloc loc);
/* Ends a declaration: appends it (when not NULL) and resets per-declaration state. */
void mj_ast_decl_end(mj_parse_ctx *c, mj_ast_decl *d);

#endif
