/* program.c — helpers over a checked mj_program (mj_ir.h): defaults, lookups,
 * binding a param from command-line text, freeing. */
#include "mj_ir.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"

void mj_program_default_params(const mj_program *p, mj_value *params) {
    for (int32_t i = 0; i < p->n_params; i++)
        for (int32_t k = 0; k < p->params[i].count; k++) params[p->params[i].offset + k] = p->params[i].def;
}

int32_t mj_program_find_param(const mj_program *p, const char *name) {
    for (int32_t i = 0; i < p->n_params; i++)
        if (!strcmp(p->params[i].name, name)) return i;
    return -1;
}

int32_t mj_program_find_tokens(const mj_program *p, const char *name) {
    for (int32_t i = 0; i < p->n_tokens; i++)
        if (!strcmp(p->tokens[i].name, name)) return i;
    return -1;
}

int32_t mj_program_find_heads(const mj_program *p, const char *name) {
    for (int32_t i = 0; i < p->n_heads; i++)
        if (!strcmp(p->heads[i].name, name)) return i;
    return -1;
}

/* Parses one value of type T from [s, s+n) (trimmed of spaces). */
static int parse_value(mj_type t, const char *s, size_t n, mj_value *out, char *err, size_t errn) {
    while (n && (*s == ' ' || *s == '\t')) { s++; n--; }
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
    char buf[64];
    if (n == 0 || n >= sizeof buf) {
        snprintf(err, errn, "bad %s value '%.*s'", t == MJ_T_BOOL ? "bool" : t == MJ_T_INT ? "int" : "float",
                 (int)(n < 40 ? n : 40), s);
        return -1;
    }
    memcpy(buf, s, n);
    buf[n] = 0;
    char *end;
    errno = 0;
    if (t == MJ_T_BOOL) {
        if (!strcmp(buf, "true") || !strcmp(buf, "1")) { out->i = 1; return 0; }
        if (!strcmp(buf, "false") || !strcmp(buf, "0")) { out->i = 0; return 0; }
        snprintf(err, errn, "bad bool value '%s' (expected true or false)", buf);
        return -1;
    }
    if (t == MJ_T_INT) {
        long long v = strtoll(buf, &end, 10);
        if (*end || end == buf || errno || v < INT32_MIN || v > INT32_MAX) {
            snprintf(err, errn, "bad int value '%s' (expected a 32-bit integer)", buf);
            return -1;
        }
        out->i = (int32_t)v;
        return 0;
    }
    const char *b = buf;
    int sign = 1;
    if (*b == '-' || *b == '+') { sign = *b == '-' ? -1 : 1; b++; }
    if (!strcmp(b, "inf")) { out->f = sign * INFINITY; return 0; }
    if (!((*b >= '0' && *b <= '9') || *b == '.')) {   /* refuse strtof's nan, infinity, hex ... */
        snprintf(err, errn, "bad float value '%s'", buf);
        return -1;
    }
    float f = strtof(buf, &end);
    if (*end || end == buf || !isfinite(f)) {
        snprintf(err, errn, "bad float value '%s'", buf);
        return -1;
    }
    out->f = f;
    return 0;
}

int mj_program_set_param(const mj_program *p, mj_value *params, const char *name, const char *value,
                         char *err, size_t errn) {
    char base[128];
    const char *br = strchr(name, '[');
    size_t blen = br ? (size_t)(br - name) : strlen(name);
    if (blen >= sizeof base) blen = sizeof base - 1;
    memcpy(base, name, blen);
    base[blen] = 0;
    int32_t k = mj_program_find_param(p, base);
    if (k < 0) {
        snprintf(err, errn, "unknown param '%s'", base);
        return -1;
    }
    const mj_param *x = &p->params[k];
    if (br) {   /* NAME[i]=VALUE */
        char *end;
        errno = 0;
        long i = strtol(br + 1, &end, 10);
        if (!x->is_array || end == br + 1 || strcmp(end, "]") || errno || i < 0 || i >= x->count) {
            snprintf(err, errn, "bad element '%s' (param '%s' has %d element%s)", name, base, x->count,
                     x->count == 1 ? "" : "s");
            return -1;
        }
        return parse_value(x->type, value, strlen(value), &params[x->offset + i], err, errn);
    }
    /* NAME=VALUE sets every element; NAME=v0,v1,... sets the first ones. */
    if (!strchr(value, ',')) {
        mj_value v;
        if (parse_value(x->type, value, strlen(value), &v, err, errn)) return -1;
        for (int32_t i = 0; i < x->count; i++) params[x->offset + i] = v;
        return 0;
    }
    const char *s = value;
    for (int32_t i = 0;; i++) {
        const char *comma = strchr(s, ',');
        size_t n = comma ? (size_t)(comma - s) : strlen(s);
        if (i >= x->count) {
            snprintf(err, errn, "too many values for param '%s' (it has %d element%s)", base, x->count,
                     x->count == 1 ? "" : "s");
            return -1;
        }
        if (parse_value(x->type, s, n, &params[x->offset + i], err, errn)) return -1;
        if (!comma) break;
        s = comma + 1;
    }
    return 0;
}

void mj_program_free(mj_program *p) {
    if (p) mj_arena_free(p->arena);   /* p itself lives in its arena */
}
