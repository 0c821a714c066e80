/* switches.h — the runtime's development and tuning switches read from the
 * environment (MJ_CUDA_*, MJ_ATTN_*, MJ_RUN_AHEAD): one way of parsing them
 * for every runtime file (docs/engine.md lists them). */
#ifndef MJ_SWITCHES_H
#define MJ_SWITCHES_H

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* A flag: def when unset or empty, else on unless "0". */
static inline bool mj_switch_flag(const char *name, bool def) {
    const char *v = getenv(name);
    return v && *v ? strcmp(v, "0") != 0 : def;
}

/* An integer: def when unset or empty, else atoi's value. */
static inline int mj_switch_int(const char *name, int def) {
    const char *v = getenv(name);
    return v && *v ? atoi(v) : def;
}

/* An integer in [lo, hi]: def when unset, empty or out of that range. */
static inline int mj_switch_range(const char *name, int def, int lo, int hi) {
    int n = mj_switch_int(name, def);
    return n >= lo && n <= hi ? n : def;
}

#endif
