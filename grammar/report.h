/* report.h — error reporting with a budget, shared by the parser (grammar/)
 * and the checker (compiler/).  Wraps an mj_diags list: counts the errors of
 * one compilation, drops errors past max_errors (adding one note that it
 * stopped), and lets each phase ask whether it should stop. */
#ifndef MJ_REPORT_H
#define MJ_REPORT_H

#include <stdarg.h>
#include <stdbool.h>

#include "diag.h"

typedef struct mj_reporter {
    mj_diags *diags;
    int max_errors;   /* > 0 */
    int n_errors;     /* errors reported through this reporter (incl. dropped) */
    int n_warnings;
    bool full;        /* max_errors reached: phases should stop */
} mj_reporter;

void mj_reporter_init(mj_reporter *r, mj_diags *d, int max_errors);
void mj_report_error(mj_reporter *r, mj_srcloc loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void mj_report_warning(mj_reporter *r, mj_srcloc loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A note attached to the previous diagnostic; dropped when that one was. */
void mj_report_note(mj_reporter *r, mj_srcloc loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Error for a file without a usable location. */
void mj_report_file_error(mj_reporter *r, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Writes NAME into buf (size n >= 16) shortened to at most n-1 bytes, with
 * "..." at the end when cut, so that messages about 1 MB identifiers stay short. */
const char *mj_report_short(const char *name, char *buf, int n);

#endif
