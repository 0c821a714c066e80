/* jit_interp.c — the CPU back end of a build without LLVM (cmake
 * -DMJ_WITH_LLVM=OFF; CMakeLists.txt compiles this file instead of jit.c,
 * jit_emit.c and jit_classify.c).  It keeps jit.h's interface so every caller
 * (CLI, fusion runs, tests) works unchanged: mj_jit_init wraps the program,
 * mj_jit_fns hands out the tree-walking interpreter's functions (interp.h;
 * the reference semantics, which the LLVM build's differential test shows
 * bit-identical to the JIT), and mj_jit_emit_ir fails with an error that names
 * the build option.  Masks run slower on the CPU (no native code); the CUDA
 * back end (NVRTC) is unaffected. */
#include "jit.h"

#include <stdlib.h>

#include "interp.h"

struct mj_jit {
    mj_mask_fns fns;
};

static const char *prog_path(const mj_program *p) {
    return p && p->path ? p->path : "<program>";
}

mj_jit *mj_jit_init(const mj_program *p, mj_diags *diags) {
    mj_jit *j = calloc(1, sizeof *j);
    if (!j) {
        mj_diag_add_file(diags, MJ_SEV_ERROR, prog_path(p), "out of memory");
        return NULL;
    }
    j->fns = mj_interp_fns(p);
    return j;
}

mj_mask_fns mj_jit_fns(const mj_jit *j) {
    return j->fns;
}

void mj_jit_free(mj_jit *j) {
    free(j);
}

char *mj_jit_emit_ir(const mj_program *p, mj_diags *diags) {
    mj_diag_add_file(diags, MJ_SEV_ERROR, prog_path(p),
                     "LLVM IR is not available: this maskjit was built without LLVM "
                     "(cmake -DMJ_WITH_LLVM=OFF; masks run on the interpreter); rebuild with "
                     "-DMJ_WITH_LLVM=ON and LLVM 19 installed to use --emit llvm");
    return NULL;
}

const char *mj_jit_backend(void) {
    return "interpreter";
}
