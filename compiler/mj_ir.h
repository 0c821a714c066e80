/* mj_ir.h — the checked program: what every back end (interpreter, block
 * analysis, LLVM JIT, CUDA emitter) consumes.
 *
 * The checker (compiler/check.c) turns the parsed AST (grammar/ast.h) into an
 * mj_program: names are resolved, `let` and `def` are inlined (a `let` becomes a
 * shared sub-tree, so the result is a DAG; back ends may memoise by node
 * pointer), every node is typed, and int operands of a float operation are
 * wrapped in explicit MJ_E_TO_FLOAT casts.  Back ends therefore never look at
 * names or do type inference.
 *
 * Semantics (the contract, mask-language.md, plus the choices written down in
 * docs/language-notes.md):
 *   - int is 32-bit two's complement with wrap-around (+ - * and unary -);
 *     x / 0 == 0, x % 0 == 0, INT_MIN / -1 == INT_MIN, INT_MIN % -1 == 0;
 *     division truncates toward zero, % has the sign of the dividend (C).
 *   - float is IEEE binary32, no contraction; float % is fmodf.
 *   - int(x) truncates toward zero, saturates to [INT_MIN, INT_MAX], NaN -> 0.
 *   - min/max on floats ignore a NaN operand (as fminf/fmaxf) and order
 *     -0 < +0 (mj_fmin/mj_fmax); abs is wrap-around on int
 *     (abs(INT_MIN) == INT_MIN) and fabsf on float; exp/log/sqrt/tanh take and
 *     return float (expf, logf, sqrtf, tanhf).
 *   - && || ?: evaluate both sides (no side effects exist).
 *   - Out-of-range index: tokens/param arrays give their default, heads 0.0f.
 *
 * All nodes live in the program's arena and are freed with it.
 */
#ifndef MJ_IR_H
#define MJ_IR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mj_env.h"
#include "srcloc.h"

typedef enum mj_type { MJ_T_BOOL = 0, MJ_T_INT = 1, MJ_T_FLOAT = 2 } mj_type;

typedef enum mj_ekind {
    MJ_E_CONST,      /* literal: value in e->v (bool as i 0/1) */
    MJ_E_BUILTIN,    /* q kv h b n_heads prompt_len seq_len score: e->builtin */
    MJ_E_PARAM,      /* scalar param: e->index into program->params */
    MJ_E_PARAM_AT,   /* array param element: e->index, a[0] = index (int) */
    MJ_E_TOKENS_AT,  /* tokens annotation element: e->index, a[0] = index (int) */
    MJ_E_HEADS_AT,   /* heads array element: e->index, a[0] = index (int) */
    MJ_E_UNARY,      /* e->op in {MJ_OP_NEG, MJ_OP_NOT}, a[0] */
    MJ_E_BINARY,     /* e->op, a[0], a[1]; operands have equal type except
                        comparisons/logic produce bool */
    MJ_E_SELECT,     /* a[0] ? a[1] : a[2]  (a[0] bool, a[1] and a[2] same type) */
    MJ_E_CALL,       /* e->fn, a[0..nargs-1], already promoted */
    MJ_E_TO_FLOAT,   /* int -> float conversion (implicit promotion or float(x)) */
    MJ_E_TO_INT      /* float -> int conversion, int(x) */
} mj_ekind;

typedef enum mj_builtin {
    MJ_B_Q, MJ_B_KV, MJ_B_H, MJ_B_B, MJ_B_N_HEADS, MJ_B_PROMPT_LEN, MJ_B_SEQ_LEN,
    MJ_B_SCORE, MJ_B_COUNT
} mj_builtin;

typedef enum mj_op {
    MJ_OP_NEG, MJ_OP_NOT,
    MJ_OP_ADD, MJ_OP_SUB, MJ_OP_MUL, MJ_OP_DIV, MJ_OP_MOD,
    MJ_OP_LT, MJ_OP_LE, MJ_OP_GT, MJ_OP_GE, MJ_OP_EQ, MJ_OP_NE,
    MJ_OP_AND, MJ_OP_OR
} mj_op;

typedef enum mj_fn {
    MJ_FN_MIN, MJ_FN_MAX, MJ_FN_ABS, MJ_FN_CLAMP,
    MJ_FN_EXP, MJ_FN_LOG, MJ_FN_SQRT, MJ_FN_TANH
} mj_fn;

typedef struct mj_expr mj_expr;
struct mj_expr {
    mj_ekind kind;
    mj_type type;          /* type of this node's value */
    mj_srcloc loc;         /* where it came from (the use site for inlined lets) */
    union {
        mj_builtin builtin;
        mj_op op;
        mj_fn fn;
        int32_t index;     /* PARAM / PARAM_AT / TOKENS_AT / HEADS_AT */
    } u;
    mj_value v;            /* MJ_E_CONST */
    int nargs;
    mj_expr *a[3];
};

typedef struct mj_param {
    const char *name;
    mj_type type;
    bool is_array;
    int32_t count;         /* 1 for scalars, N for T[N] */
    int32_t offset;        /* first slot in mj_env.params */
    mj_value def;          /* default of every element */
    bool used;             /* reachable from mask/score/position */
    mj_srcloc loc;
} mj_param;

typedef struct mj_tokens {
    const char *name;
    mj_type type;
    mj_value def;          /* value for tokens that have none */
    bool used;
    mj_srcloc loc;
} mj_tokens;

typedef struct mj_heads {
    const char *name;      /* always float */
    bool used;
    mj_srcloc loc;
} mj_heads;

/* A checked program.  Arrays are in declaration order (imports first, in
 * import order); indices in expressions refer to them.  `tokens` index a is
 * annotation a of mj_env.tokens; `heads` index k is array k of mj_env.heads. */
typedef struct mj_program {
    const char *path;          /* the main file */
    mj_param *params;   int32_t n_params;  int32_t n_param_slots;
    mj_tokens *tokens;  int32_t n_tokens;
    mj_heads *heads;    int32_t n_heads;
    mj_expr *mask;             /* bool, never NULL */
    mj_expr *score;            /* float, NULL when absent (identity) */
    mj_expr *position;         /* int, NULL when absent (position = q) */
    bool uses_builtin[MJ_B_COUNT];
    struct mj_arena *arena;    /* owns everything above */
} mj_program;

/* Fill params[0..n_param_slots) with every param's default. */
void mj_program_default_params(const mj_program *p, mj_value *params);

/* Index of a declared name, or -1. */
int32_t mj_program_find_param(const mj_program *p, const char *name);
int32_t mj_program_find_tokens(const mj_program *p, const char *name);
int32_t mj_program_find_heads(const mj_program *p, const char *name);

/* Parse VALUE (as written on a command line: 3, -1.5, inf, true) for param
 * NAME (scalar, or "NAME[i]" for one element of an array) into params.
 * Returns 0, or -1 with a message in err (size errn). */
int mj_program_set_param(const mj_program *p, mj_value *params, const char *name,
                         const char *value, char *err, size_t errn);

void mj_program_free(mj_program *p);

#endif /* MJ_IR_H */
