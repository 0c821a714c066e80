/* ast.h — the abstract syntax tree of a .mask file, as the parser builds it.
 *
 * Every node keeps the mj_srcloc of its source text.  All nodes live in the
 * arena given to mj_parse.  The checker (compiler/check*.c) reads the tree,
 * fills the resolution fields (ref_*) and lowers it to mj_program. */
#ifndef MJ_AST_H
#define MJ_AST_H

#include <stdbool.h>
#include <stdint.h>

#include "arena.h"
#include "diag.h"
#include "report.h"
#include "srcloc.h"

/* Expressions deeper than this (operators, indexing, calls; parentheses do not
 * count) are rejected with "expression nested too deeply". */
#define MJ_AST_MAX_DEPTH 512

typedef enum mj_ast_ekind {
    MJ_AST_INT,      /* ival (int64: out-of-range literals are diagnosed by the checker) */
    MJ_AST_FLOAT,    /* fval */
    MJ_AST_BOOL,     /* ival 0/1 */
    MJ_AST_NAME,     /* name */
    MJ_AST_SCORE,    /* the keyword `score` used as a value */
    MJ_AST_INDEX,    /* name[args[0]] */
    MJ_AST_CALL,     /* name(args[0..nargs)) */
    MJ_AST_UNARY,    /* op args[0] */
    MJ_AST_BINARY,   /* args[0] op args[1] */
    MJ_AST_COND,     /* args[0] ? args[1] : args[2]  (is_if: if-then-else) */
    MJ_AST_ERROR     /* placeholder after a reported error */
} mj_ast_ekind;

typedef enum mj_ast_op {
    MJ_AOP_NEG, MJ_AOP_NOT,
    MJ_AOP_ADD, MJ_AOP_SUB, MJ_AOP_MUL, MJ_AOP_DIV, MJ_AOP_MOD,
    MJ_AOP_LT, MJ_AOP_LE, MJ_AOP_GT, MJ_AOP_GE, MJ_AOP_EQ, MJ_AOP_NE,
    MJ_AOP_AND, MJ_AOP_OR
} mj_ast_op;

typedef struct mj_ast_expr mj_ast_expr;
struct mj_ast_expr {
    mj_ast_ekind kind;
    mj_srcloc loc;       /* the whole expression (first token .. last token on its line) */
    mj_srcloc op_loc;    /* operator token, '?' / 'if', or the name token of INDEX/CALL */
    int depth;           /* 1 for leaves */
    mj_ast_op op;
    bool is_if;
    bool float_overflow; /* FLOAT literal beyond float range */
    int64_t ival;
    double fval;
    const char *name;
    int nargs;
    mj_ast_expr **args;
    /* Filled by the checker's name resolution. */
    int ref_kind;
    int ref_index;
    void *ref;
};

typedef enum mj_ast_dkind {
    MJ_DECL_PARAM, MJ_DECL_TOKENS, MJ_DECL_HEADS, MJ_DECL_LET, MJ_DECL_DEF,
    MJ_DECL_IMPORT, MJ_DECL_MASK, MJ_DECL_SCORE, MJ_DECL_POSITION
} mj_ast_dkind;

typedef enum mj_ast_type { MJ_ATYPE_BOOL, MJ_ATYPE_INT, MJ_ATYPE_FLOAT, MJ_ATYPE_ERROR } mj_ast_type;

typedef struct mj_ast_decl {
    mj_ast_dkind kind;
    mj_srcloc loc;          /* the keyword */
    const char *name;       /* param/tokens/heads/let/def */
    mj_srcloc name_loc;
    mj_ast_type type;       /* param/tokens/heads */
    mj_srcloc type_loc;
    bool is_array;          /* T[N] was written */
    int64_t array_size;     /* N (unchecked) */
    mj_srcloc size_loc;
    mj_ast_expr *init;      /* default (param/tokens) or body (let/def/mask/score/position) */
    int nparams;            /* def */
    const char **params;
    mj_srcloc *param_locs;
    const char *path;       /* import */
    mj_srcloc path_loc;
    bool broken;            /* def whose parameter list did not parse */
} mj_ast_decl;

typedef struct mj_ast_file {
    const mj_source *src;
    mj_ast_decl **decls;
    int n_decls;
    int n_syntax_errors;    /* lexical + syntax errors of this file */
} mj_ast_file;

/* A growable pointer list in an arena (for the parser's lists). */
typedef struct mj_ast_list {
    void **items;
    int n, cap;
} mj_ast_list;

void mj_ast_list_push(mj_arena *a, mj_ast_list *l, void *item);

/* Parses SRC into a tree allocated in A.  Lexical and syntax errors go to R.
 * Never returns NULL: on errors the tree holds the declarations that parsed
 * (and `n_syntax_errors` > 0). */
mj_ast_file *mj_parse(mj_arena *a, const mj_source *src, mj_reporter *r);

/* Human-readable operator spelling ("+", "&&", ...). */
const char *mj_ast_op_name(mj_ast_op op);

#endif
