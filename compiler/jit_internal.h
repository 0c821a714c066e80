/* jit_internal.h — private interface between the files of the LLVM back end
 * (jit.c: LLVM set-up, ORC LLJIT, public API; jit_emit.c: IR of the mask,
 * score and position functions; jit_classify.c: IR of the block classifier).
 *
 * Code generation state lives in one mj_cg per module.  Every function is
 * straight-line code except the bounds-checked reads, which branch around the
 * load and join with a phi; values are memoised per function by IR node
 * pointer (a `let` is a shared sub-tree), and every memoised value is created
 * on the main line of the function so that it dominates all later uses. */
#ifndef MJ_JIT_INTERNAL_H
#define MJ_JIT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <llvm-c/Core.h>

#include "mj_ir.h"

/* Names of the functions the module defines (looked up after JIT). */
#define MJ_JIT_SYM_MASK "mj_mask"
#define MJ_JIT_SYM_SCORE "mj_score"
#define MJ_JIT_SYM_POSITION "mj_position"
#define MJ_JIT_SYM_CLASSIFY "mj_classify"

/* Fields of mj_env in IR order (mirrors mj_env.h exactly). */
enum {
    MJ_ENVF_N_HEADS, MJ_ENVF_PROMPT_LEN, MJ_ENVF_SEQ_LEN, MJ_ENVF_B, MJ_ENVF_TOKENS_LEN,
    MJ_ENVF_TOKENS_STRIDE, MJ_ENVF_PARAMS, MJ_ENVF_TOKENS, MJ_ENVF_HEADS, MJ_ENVF_COUNT
};

/* A host function the generated code calls by name; the JIT binds the name to
 * the address as an absolute symbol. */
typedef struct mj_jit_rt_sym {
    const char *name;
    void *addr;
} mj_jit_rt_sym;

/* Memo table: node pointer -> LLVM value (open addressing, power-of-2 size). */
typedef struct mj_cg_memo {
    const void **keys;
    LLVMValueRef *vals;
    size_t cap, n;
} mj_cg_memo;

typedef struct mj_cg {
    LLVMContextRef c;
    LLVMModuleRef m;
    LLVMBuilderRef b;
    const mj_program *p;
    LLVMTypeRef t_i1, t_i8, t_i32, t_i64, t_f32, t_ptr, t_void;
    LLVMTypeRef t_env, t_summary, t_region;
    LLVMTypeRef t_f1, t_f2;       /* float(float), float(float, float) */
    /* current function */
    LLVMValueRef fn;
    LLVMValueRef entry_term;      /* `br` ending the entry block: hoisted loads go before it */
    LLVMValueRef env;             /* const mj_env * argument */
    LLVMValueRef q, kv, h, raw;   /* arguments, or constants where absent */
    LLVMValueRef sum, region;     /* classifier: const mj_summary *, const mj_region * */
    LLVMValueRef envf[MJ_ENVF_COUNT];
    mj_cg_memo memo;
    int oom;                      /* an allocation failed */
} mj_cg;

/* Set up types for module m of context c (the module's data layout must
 * already be set). */
void mj_cg_init(mj_cg *g, LLVMContextRef c, LLVMModuleRef m, const mj_program *p);
void mj_cg_dispose(mj_cg *g);

/* Start a new function NAME of type FTY: creates entry and body blocks,
 * clears the memo and env cache, positions the builder in the body. */
LLVMValueRef mj_cg_begin_fn(mj_cg *g, const char *name, LLVMTypeRef fty);
/* Load field f of *env, hoisted into the entry block (emitted once). */
LLVMValueRef mj_cg_env_field(mj_cg *g, int f);
/* Allocate stack storage of `size` bytes aligned to `align` in the entry block. */
LLVMValueRef mj_cg_entry_alloca(mj_cg *g, uint64_t size, unsigned align);

LLVMValueRef mj_cg_memo_get(const mj_cg *g, const void *key);
void mj_cg_memo_put(mj_cg *g, const void *key, LLVMValueRef v);

/* Declare (once) an external function NAME of type FTY, nounwind. */
LLVMValueRef mj_cg_extern_fn(mj_cg *g, const char *name, LLVMTypeRef fty);

/* Scalar value of e (i1 for bool, i32 for int, float for float), emitted in
 * the current function. */
LLVMValueRef mj_cg_expr(mj_cg *g, const mj_expr *e);
/* Bounds-checked reads (shared with the classifier, which reads the defaults
 * and bounds the same way). */
LLVMValueRef mj_cg_tokens_at(mj_cg *g, int32_t a, LLVMValueRef idx);
LLVMValueRef mj_cg_param_at(mj_cg *g, int32_t k, LLVMValueRef idx);
LLVMValueRef mj_cg_heads_at(mj_cg *g, int32_t k, LLVMValueRef idx);

/* Emit mj_mask / mj_score / mj_position (score and position only when the
 * program has them).  Return 0, -1 on failure. */
int mj_cg_emit_scalar_fns(mj_cg *g);
/* Emit mj_classify.  Returns 0, -1 on failure. */
int mj_cg_emit_classify(mj_cg *g);

/* Host functions called by generated code: scalar ones (jit_emit.c) and the
 * interval wrappers (jit_classify.c). */
size_t mj_jit_scalar_rt_syms(const mj_jit_rt_sym **out);
size_t mj_jit_classify_rt_syms(const mj_jit_rt_sym **out);

/* Self-check for tests: the IR struct types of mj_env, mj_summary and
 * mj_region have the C compiler's offsets and sizes under the host data
 * layout.  Returns 0, or -1 with a message in msg. */
int mj_jit_check_layout(char *msg, size_t msgn);

#endif /* MJ_JIT_INTERNAL_H */
