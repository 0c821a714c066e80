/* progress.c — see progress.h. */
#include "progress.h"

#include <string.h>
#include <unistd.h>

#include "fu_util.h"

void mj_progress_init(mj_progress *p, FILE *out, const char *what) {
    memset(p, 0, sizeof *p);
    p->out = out;
    p->tty = out && isatty(fileno(out));
    p->every = 10.0;
    p->last = -1e9;
    snprintf(p->what, sizeof p->what, "%s", what);
}

void mj_format_duration(double s, char *buf, size_t n) {
    if (s < 0 || s > 1e8) { snprintf(buf, n, "?"); return; }
    long t = (long)(s + 0.5);
    if (t >= 3600) snprintf(buf, n, "%ldh%02ldm", t / 3600, t / 60 % 60);
    else if (t >= 60) snprintf(buf, n, "%ldm%02lds", t / 60, t % 60);
    else snprintf(buf, n, "%lds", t);
}

void mj_progress_update(mj_progress *p, int64_t done, int64_t total, int64_t done_now, int64_t tokens,
                        double seconds) {
    if (!p->out) return;
    double now = mj_now();
    bool last = done >= total;
    if (!p->tty && !last && now - p->last < p->every) return;
    p->last = now;
    double rate = seconds > 0 ? (double)tokens / seconds : 0;
    double per_q = done_now > 0 ? seconds / (double)done_now : 0;
    char eta[32], el[32];
    mj_format_duration(per_q > 0 ? per_q * (double)(total - done) : -1, eta, sizeof eta);
    mj_format_duration(seconds, el, sizeof el);
    if (p->tty) {
        char bar[31];
        int fill = total > 0 ? (int)(30 * done / total) : 30;
        for (int i = 0; i < 30; i++) bar[i] = i < fill ? '#' : '.';
        bar[30] = 0;
        fprintf(p->out, "\r%s [%s] %lld/%lld questions  %.0f tok/s  %s elapsed  ETA %s   ", p->what, bar,
                (long long)done, (long long)total, rate, el, last ? "0s" : eta);
        p->drew = true;
    } else {
        fprintf(p->out, "%s: %lld/%lld questions, %.0f tok/s, %s elapsed, ETA %s\n", p->what, (long long)done,
                (long long)total, rate, el, last ? "0s" : eta);
    }
    fflush(p->out);
}

void mj_progress_finish(mj_progress *p) {
    if (p->tty && p->drew) fputc('\n', p->out);
    p->drew = false;
}
