/* fuzz_check.c — libFuzzer entry for the front end: compiles the input bytes
 * as a .mask source (parser + checker + lowering + warnings), formats every
 * diagnostic, frees everything.  tests/fuzz/run.sh builds it and runs it in an
 * empty directory, so relative imports find nothing (imports only ever open
 * regular files, without blocking). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "compile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    mj_diags d;
    mj_diags_init(&d);
    mj_compile_opts opts = {.max_errors = 20, .warn_unused = 1};
    mj_program *p = mj_compile_string("fuzz.mask", (const char *)data, size, &opts, &d);
    if (p && (!p->mask || p->mask->type != MJ_T_BOOL)) abort();   /* the IR contract */
    if (!p && d.n_errors == 0) abort();                            /* failure must say why */
    for (size_t i = 0; i < d.n; i++) free(mj_diag_format(&d.items[i]));
    mj_program_free(p);
    mj_diags_free(&d);
    return 0;
}
