/* errbuf.h — the one helper every layer uses to fill a caller's error buffer
 * (char *err, size_t errn) with a one-line printf-style message. */
#ifndef MJ_ERRBUF_H
#define MJ_ERRBUF_H

#include <stddef.h>

/* Format a message into err (at most errn bytes, always NUL-terminated; err
 * may be NULL or errn 0, then nothing is written).  Returns -1, so a failing
 * function can `return mj_err(err, errn, "...", ...);`. */
int mj_err(char *err, size_t errn, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
