/* diag.h — collected diagnostics and the one function that formats them.
 *
 * Library code never prints or exits: it appends to an mj_diags list; the CLI
 * (or a test) formats the list with mj_diags_print, which writes
 *   FILE:LINE:COL: error: MESSAGE
 *    LINE | source line
 *         |     ^~~~
 * for every entry, as chibicc's verror_at does. */
#ifndef MJ_DIAG_H
#define MJ_DIAG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "srcloc.h"

/* A loaded source file; text is NUL-terminated, len excludes the NUL. */
typedef struct mj_source {
    const char *path;
    const char *text;
    size_t len;
} mj_source;

typedef enum mj_severity { MJ_SEV_ERROR, MJ_SEV_WARNING, MJ_SEV_NOTE } mj_severity;

typedef struct mj_diag {
    mj_severity sev;
    mj_srcloc loc;      /* loc.src may be NULL for file-level errors (then path is used) */
    const char *path;   /* file name when loc.src is NULL */
    char *msg;
} mj_diag;

typedef struct mj_diags {
    mj_diag *items;
    size_t n, cap;
    size_t n_errors, n_warnings;
    /* (added by the front end) copies of sources kept alive for printing */
    mj_source **kept;
    size_t n_kept, cap_kept;
} mj_diags;

void mj_diags_init(mj_diags *d);
void mj_diags_free(mj_diags *d);
/* Append a diagnostic (printf-style message, no trailing newline). */
void mj_diag_add(mj_diags *d, mj_severity sev, mj_srcloc loc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Same, for a file that has no usable location (cannot open, not UTF-8 ...). */
void mj_diag_add_file(mj_diags *d, mj_severity sev, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* (added by the clean-up) va_list forms of the two above, for wrappers that
 * take their own printf-style arguments (grammar/report.c).  AP is used once
 * and not va_end'ed (the caller does). */
void mj_diag_vadd(mj_diags *d, mj_severity sev, mj_srcloc loc, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));
void mj_diag_vadd_file(mj_diags *d, mj_severity sev, const char *path, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));
/* (added by the front end) Copy SRC (path and text) into memory owned by d,
 * freed by mj_diags_free, and return the copy: diagnostics can then point at it
 * after the compiler's arena is gone. */
const mj_source *mj_diags_keep_source(mj_diags *d, const mj_source *src);
/* Format every diagnostic to out (with source line and caret when color is false,
 * plain text). */
void mj_diags_print(const mj_diags *d, FILE *out);
/* Format one diagnostic into a malloc'd string (caller frees). */
char *mj_diag_format(const mj_diag *g);

#endif
