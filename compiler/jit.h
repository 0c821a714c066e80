/* jit.h — CPU back end: LLVM IR from a checked program, compiled by ORC LLJIT
 * (LLVM 19 C API) into native mask, score, position and block-classifier
 * functions with exactly the interpreter's semantics.  A build without LLVM
 * (-DMJ_WITH_LLVM=OFF) implements this interface on the interpreter
 * (jit_interp.c). */
#ifndef MJ_JIT_H
#define MJ_JIT_H

#include "diag.h"
#include "mask_fns.h"
#include "mj_ir.h"

typedef struct mj_jit mj_jit;

/* Compile p (which must outlive the jit).  Returns NULL and appends an error
 * to diags on failure. */
mj_jit *mj_jit_init(const mj_program *p, mj_diags *diags);
/* Native functions; ctx is unused by them. */
mj_mask_fns mj_jit_fns(const mj_jit *j);
void mj_jit_free(mj_jit *j);

/* Textual LLVM IR of the module for p (malloc'd, caller frees), or NULL with
 * an error in diags (always so in a build without LLVM). */
char *mj_jit_emit_ir(const mj_program *p, mj_diags *diags);

/* "llvm" (native code, jit.c) or "interpreter" (a build with
 * -DMJ_WITH_LLVM=OFF: jit_interp.c hands out interp.h's functions). */
const char *mj_jit_backend(void);

#endif
