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

/* Formats into a malloc'd string. */
static char *report_vfmt(const char *fmt, va_list ap) {
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    if (n < 0) n = 0;
    char *s = malloc((size_t)n + 1);
    if (!s) abort();
    vsnprintf(s, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    return s;
}

void mj_report_error(mj_reporter *r, mj_srcloc loc, const char *fmt, ...) {
    r->n_errors++;
    if (r->full) return;
    va_list ap;
    va_start(ap, fmt);
    char *s = report_vfmt(fmt, ap);
    va_end(ap);
    mj_diag_add(r->diags, MJ_SEV_ERROR, loc, "%s", s);
    free(s);
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
    char *s = report_vfmt(fmt, ap);
    va_end(ap);
    mj_diag_add(r->diags, MJ_SEV_WARNING, loc, "%s", s);
    free(s);
}

void mj_report_note(mj_reporter *r, mj_srcloc loc, const char *fmt, ...) {
    if (r->full) return;
    va_list ap;
    va_start(ap, fmt);
    char *s = report_vfmt(fmt, ap);
    va_end(ap);
    mj_diag_add(r->diags, MJ_SEV_NOTE, loc, "%s", s);
    free(s);
}

void mj_report_file_error(mj_reporter *r, const char *path, const char *fmt, ...) {
    r->n_errors++;
    if (r->full) return;
    va_list ap;
    va_start(ap, fmt);
    char *s = report_vfmt(fmt, ap);
    va_end(ap);
    mj_diag_add_file(r->diags, MJ_SEV_ERROR, path, "%s", s);
    free(s);
    if (r->n_errors >= r->max_errors) r->full = true;
}

const char *mj_report_short(const char *name, char *buf, int n) {
    size_t len = strlen(name);
    if (len < (size_t)n) return name;
    memcpy(buf, name, (size_t)n - 4);
    memcpy(buf + n - 4, "...", 4);
    return buf;
}
