/* compile.h — front door of the compiler: .mask source to a checked mj_program.
 * Implemented by compiler/check.c on top of grammar/ (parser) and support/
 * (diagnostics).  Library code: never prints, never exits. */
#ifndef MJ_COMPILE_H
#define MJ_COMPILE_H

#include <stddef.h>

#include "diag.h"
#include "mj_ir.h"

typedef struct mj_compile_opts {
    int max_errors;      /* stop collecting after this many errors (0: 50) */
    int warn_unused;     /* warn for unused declarations of the main file (default on: 1) */
} mj_compile_opts;

/* Parse, resolve imports (relative to the file; "std" is built in), check and
 * lower PATH.  On success returns the program (free with mj_program_free); on
 * error returns NULL.  Errors and warnings are appended to diags either way.
 * opts may be NULL for defaults. */
mj_program *mj_compile_file(const char *path, const mj_compile_opts *opts, mj_diags *diags);

/* Same for in-memory text; NAME is used in diagnostics and as the base for
 * relative imports (its directory). */
mj_program *mj_compile_string(const char *name, const char *text, size_t len,
                              const mj_compile_opts *opts, mj_diags *diags);

#endif
