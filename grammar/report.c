/* report.c — error reporting with a budget (see report.h). */
#include "report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mj_reporter_init(mj_reporter *r, mj_diags *d, int max_errors) {
    memset(r, 0, sizeof *r);
    r->diags = d;
    r->max_errors = max_errors > 0 ? max_errors : 50;
}

void mj_report_error(mj_reporter *r, mj_srcloc loc, const char *fmt, ...) {
    r->n_errors++;
    if (r->full) return;
    va_list ap;
    va_start(ap, fmt);
    mj_diag_vadd(r->diags, MJ_SEV_ERROR, loc, fmt, ap);
    va_end(ap);
    if (r->n_errors >= r->max_errors) {
        r->full = true;
        mj_diag_add(r->diags, MJ_SEV_NOTE, loc, "too many errors (%d); stopping", r->max_errors);
    }
}

void mj_report_warning(mj_reporter *r, mj_srcloc loc, const char *fmt, ...) {
    if (r->full) return;
    r->n_warnings++;
    va_list ap;
    va_start(ap, fmt);
    mj_diag_vadd(r->diags, MJ_SEV_WARNING, loc, fmt, ap);
    va_end(ap);
}

void mj_report_note(mj_reporter *r, mj_srcloc loc, const char *fmt, ...) {
    if (r->full) return;
    va_list ap;
    va_start(ap, fmt);
    mj_diag_vadd(r->diags, MJ_SEV_NOTE, loc, fmt, ap);
    va_end(ap);
}

void mj_report_file_error(mj_reporter *r, const char *path, const char *fmt, ...) {
    r->n_errors++;
    if (r->full) return;
    va_list ap;
    va_start(ap, fmt);
    mj_diag_vadd_file(r->diags, MJ_SEV_ERROR, path, fmt, ap);
    va_end(ap);
    if (r->n_errors >= r->max_errors) r->full = true;
}

const char *mj_report_short(const char *name, char *buf, int n) {
    size_t len = strlen(name);
    if (len < (size_t)n) return name;
    memcpy(buf, name, (size_t)n - 4);
    memcpy(buf + n - 4, "...", 4);
    return buf;
}
