/* check_internal.h — state shared by the checker's files:
 *   check.c          driver: sources, imports, declarations (mj_compile_*)
 *   check_resolve.c  name resolution, "did you mean", reachability, unused warnings
 *   check_lower.c    typing and lowering of the AST to mj_expr DAGs
 *   check_build.c    assembling the mj_program (indices, used flags)
 *   check_rows.c     the "rows with no visible key" warning
 * Not for other modules: back ends see only mj_ir.h. */
#ifndef MJ_CHECK_INTERNAL_H
#define MJ_CHECK_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "arena.h"
#include "ast.h"
#include "compile.h"
#include "mj_ir.h"
#include "report.h"

/* Limits that keep every later phase (and every back end, which may recurse
 * over the DAG or expand it as a tree) safe.  See docs/language-notes.md. */
#define CK_MAX_IR_DEPTH 1000           /* depth of the lowered DAG */
#define CK_MAX_TREE ((int64_t)1 << 20) /* nodes of mask/score/position expanded as trees */
#define CK_MAX_WORK (1 << 22)          /* lowering steps (inlining work) */
#define CK_MAX_INLINE 200              /* nested def calls */
#define CK_MAX_LOWER_DEPTH 3000        /* recursion of the lowering (C stack) */
#define CK_MAX_UNUSED_WARNINGS 20      /* then one note with the count */

typedef enum ck_sym_kind { CK_PARAM, CK_TOKENS, CK_HEADS, CK_LET, CK_DEF } ck_sym_kind;

/* What an AST name node refers to (mj_ast_expr.ref_kind). */
enum { CK_REF_NONE, CK_REF_ERROR, CK_REF_BUILTIN, CK_REF_LOCAL, CK_REF_SYM, CK_REF_FN };

/* Built-in functions (ref_index of CK_REF_FN): MJ_FN_* then these two. */
enum { CK_FN_FLOAT = MJ_FN_TANH + 1, CK_FN_INT, CK_FN_COUNT };

typedef struct ck_file {
    const char *display;        /* path as shown in messages */
    const char *canon;          /* identity for deduplication (realpath, or "<std>") */
    const mj_source *src;
    mj_ast_file *ast;
    int index;                  /* position in ck_ctx.files (imports first) */
    int state;                  /* 0 new, 1 being loaded (on the import stack), 2 done */
    bool is_main;
    mj_ast_list imports;        /* ck_file * imported directly */
    unsigned char *visible;     /* visible[j]: file j's names are in scope here */
} ck_file;

typedef struct ck_sym {
    const char *name;
    ck_sym_kind kind;
    mj_ast_decl *decl;
    ck_file *file;
    int order;                  /* index in ck_ctx.syms (declaration order) */
    int decl_pos;               /* index of the declaration in its file */
    bool reached;               /* named from mask/score/position, directly or not */
    bool bad;                   /* its declaration had an error */
    mj_type type;               /* param/tokens/heads */
    mj_value def;
    int32_t count;              /* param: 1 or N */
    mj_expr *ir;                /* let: its lowered body (NULL on error) */
    int final_index;            /* index in the program's arrays, -1 when dropped */
} ck_sym;

typedef struct ck_ctx {
    mj_arena *arena;            /* the program's arena (sources, AST, IR) */
    mj_reporter rep;
    mj_compile_opts opts;
    ck_file **files;
    int n_files, cap_files;
    ck_file **stack;            /* import stack, for cycle messages */
    int n_stack, cap_stack;
    ck_sym **syms;
    int n_syms, cap_syms;
    ck_sym **table;             /* open addressing by name */
    size_t table_cap;
    ck_file *main;
    mj_ast_decl *roots[3];      /* mask, score, position of the main file */
    /* lowering */
    mj_expr *ir_roots[3];
    mj_ast_list index_nodes;    /* PARAM / *_AT nodes, whose u.index is a sym order */
    uint32_t n_nodes;
    int64_t work;
    int lower_depth;
    bool fatal;                 /* a limit was hit: stop lowering */
    mj_srcloc cur_decl;         /* keyword of the let/mask/score/position being lowered */
    mj_ast_list reported;       /* "line:col:msg" of errors inside defs (dedup) */
} ck_ctx;

/* check.c */
ck_sym *ck_lookup(ck_ctx *c, const char *name);
bool ck_is_reserved(const char *name);
int ck_builtin_index(const char *name);   /* mj_builtin or -1 (not "score") */
int ck_fn_index(const char *name);        /* MJ_FN_* / CK_FN_*, or -1 */
int ck_fn_arity(int fn);
const char *ck_fn_name(int fn);
const char *ck_type_name(mj_type t);

/* check_resolve.c */
void ck_resolve_all(ck_ctx *c);
void ck_mark_reached(ck_ctx *c);
void ck_warn_unused(ck_ctx *c);

/* check_lower.c */
void ck_lower_all(ck_ctx *c);
/* Extra per-node data kept next to every mj_expr the checker creates. */
typedef struct ck_node {
    mj_expr e;                  /* first: an mj_expr * is a ck_node * */
    uint32_t id;                /* 0 .. ck_ctx.n_nodes-1 */
    uint32_t flags;             /* CK_USES_* of the whole sub-DAG */
    int32_t depth;
    int64_t tree;               /* size as a tree (saturating) */
} ck_node;
#define CK_NODE(ex) ((ck_node *)(ex))
#define CK_USES_BUILTIN(b) (1u << (b))
#define CK_USES_HEADS (1u << MJ_B_COUNT)

/* check_build.c */
mj_program *ck_build_program(ck_ctx *c);

/* check_rows.c: warning for query rows that can see no key. */
void ck_warn_empty_rows(ck_ctx *c, const mj_program *p);

#endif
