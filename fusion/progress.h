/* progress.h — a progress display for long runs on a stream the caller owns
 * (the CLI passes stderr): on a terminal one line redrawn in place with a bar,
 * questions done / total, tokens per second and the ETA; elsewhere (a log
 * file, a pipe) plain lines, at most one per `every` seconds, plus the last. */
#ifndef MJ_PROGRESS_H
#define MJ_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct mj_progress {
    FILE *out;
    bool tty;
    double every;        /* seconds between plain lines */
    double last;         /* time of the last line (plain mode) */
    char what[64];       /* prefix, e.g. "run" */
    bool drew;           /* a bar is on screen (tty) */
} mj_progress;

void mj_progress_init(mj_progress *p, FILE *out, const char *what);
/* done/total questions (done includes resumed ones), done_now by this process,
 * tokens processed by this process, seconds elapsed in this process. */
void mj_progress_update(mj_progress *p, int64_t done, int64_t total, int64_t done_now, int64_t tokens,
                        double seconds);
/* End the bar's line (tty). */
void mj_progress_finish(mj_progress *p);
/* "1h02m", "3m12s", "45s" */
void mj_format_duration(double s, char *buf, size_t n);

#endif
