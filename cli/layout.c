/* layout.c — command-line prompt layouts for `show` and `explain` (layout.h):
 * parse the options, then build the mj_env (tokens annotations, params,
 * heads) for one compiled program, with clear errors for bad values. */
#include "layout.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void mj_layout_opts_init(mj_layout_opts *o) {
    memset(o, 0, sizeof *o);
    o->seq_len = o->prompt_len = o->n_heads = -1;
}

/* Strict non-negative integer option value in [lo, hi]. */
static int parse_count(const char *what, const char *s, int64_t lo, int64_t hi, int64_t *out,
                       char *err, size_t errn) {
    char *end;
    long long v;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (!*s || *end || errno || v < lo || v > hi) {
        snprintf(err, errn, "%s: bad value '%s' (expected an integer in [%lld, %lld])", what, s,
                 (long long)lo, (long long)hi);
        return -1;
    }
    *out = v;
    return 0;
}

static int push(const char **list, int *n, const char *what, const char *arg, char *err, size_t errn) {
    if (!strchr(arg, '=') || arg[0] == '=') {
        snprintf(err, errn, "%s: expected NAME=VALUE, got '%s'", what, arg);
        return -1;
    }
    if (*n >= MJ_LAYOUT_MAX_ITEMS) {
        snprintf(err, errn, "%s: too many (at most %d)", what, MJ_LAYOUT_MAX_ITEMS);
        return -1;
    }
    list[(*n)++] = arg;
    return 0;
}

int mj_layout_option(mj_layout_opts *o, int c, const char *arg, char *err, size_t errn) {
    int r = 0;
    switch (c) {
    case MJ_LO_SEQ_LEN: r = parse_count("--seq-len", arg, 1, MJ_LAYOUT_MAX_SEQ, &o->seq_len, err, errn); break;
    case MJ_LO_PROMPT_LEN: r = parse_count("--prompt-len", arg, 0, MJ_LAYOUT_MAX_SEQ, &o->prompt_len, err, errn); break;
    case MJ_LO_PREFIX: r = parse_count("--prefix", arg, 0, MJ_LAYOUT_MAX_SEQ, &o->prefix, err, errn); break;
    case MJ_LO_HEAD: r = parse_count("--head", arg, 0, 4095, &o->head, err, errn); break;
    case MJ_LO_N_HEADS: r = parse_count("--n-heads", arg, 1, 4096, &o->n_heads, err, errn); break;
    case MJ_LO_SEGMENTS: o->segments = arg; break;
    case MJ_LO_ANNOT: r = push(o->annots, &o->n_annots, "--annot", arg, err, errn); break;
    case MJ_LO_SET: r = push(o->sets, &o->n_sets, "--set", arg, err, errn); break;
    case MJ_LO_HEADS: r = push(o->heads, &o->n_heads_arrays, "--heads", arg, err, errn); break;
    default: return 0;
    }
    return r < 0 ? -1 : 1;
}

void mj_layout_print_help(FILE *out) {
    fputs("layout options:\n"
          "  --seq-len N             tokens in the row (default: prefix + segment total)\n"
          "  --prompt-len P          prompt tokens; later ones are generated (default: prefix +\n"
          "                          segment total, else N)\n"
          "  --segments L1,L2,...    consecutive segments: fills `seg` (0,0,..,1,..) and\n"
          "                          `seg_start`; params max_seg_len, n_seg, prefix_len follow\n"
          "  --prefix P              P shared tokens before the segments (seg keeps its default)\n"
          "  --annot NAME=v0,v1,...  a tokens annotation, one value per token (missing: default)\n"
          "  --set NAME=VALUE        a param (NAME[i]=V for one element of an array)\n"
          "  --head H                the head to show (default 0)\n"
          "  --heads NAME=v0,v1,...  a heads array, one value per head (missing: 0.0)\n"
          "  --n-heads N             number of heads (default max(1, H+1, longest --heads))\n",
          out);
}

/* One comma-separated item [s, s+n) as a value of type t. */
static int parse_item(mj_type t, const char *s, size_t n, mj_value *out) {
    char buf[64], *end;
    if (n == 0 || n >= sizeof buf) return -1;
    memcpy(buf, s, n);
    buf[n] = 0;
    errno = 0;
    if (t == MJ_T_BOOL) {
        if (!strcmp(buf, "true") || !strcmp(buf, "1")) { out->i = 1; return 0; }
        if (!strcmp(buf, "false") || !strcmp(buf, "0")) { out->i = 0; return 0; }
        return -1;
    }
    if (t == MJ_T_INT) {
        long long v = strtoll(buf, &end, 10);
        if (*end || errno || v < INT32_MIN || v > INT32_MAX) return -1;
        out->i = (int32_t)v;
        return 0;
    }
    if (!strcmp(buf, "inf") || !strcmp(buf, "+inf")) { out->f = INFINITY; return 0; }
    if (!strcmp(buf, "-inf")) { out->f = -INFINITY; return 0; }
    if (!((buf[0] >= '0' && buf[0] <= '9') || buf[0] == '.' || buf[0] == '-' || buf[0] == '+')) return -1;
    out->f = strtof(buf, &end);
    return (*end || !isfinite(out->f)) ? -1 : 0;
}

static const char *type_name(mj_type t) {
    return t == MJ_T_BOOL ? "bool" : t == MJ_T_INT ? "int" : "float";
}

/* Parse "v0,v1,..." into out[0..cap) (empty items keep out[i]); the count is
 * returned, -1 with a message on a bad item or too many values. */
static int64_t parse_list(const char *what, const char *name, mj_type t, const char *s,
                          mj_value *out, int64_t cap, char *err, size_t errn) {
    int64_t i = 0;
    for (;;) {
        const char *comma = strchr(s, ',');
        size_t n = comma ? (size_t)(comma - s) : strlen(s);
        if (i >= cap) {
            snprintf(err, errn, "%s %s: more than %lld values", what, name, (long long)cap);
            return -1;
        }
        if (n > 0 && parse_item(t, s, n, &out[i]) != 0) {
            snprintf(err, errn, "%s %s: bad %s value '%.*s' (item %lld)", what, name, type_name(t),
                     (int)(n < 40 ? n : 40), s, (long long)i);
            return -1;
        }
        i++;
        if (!comma) return i;
        s = comma + 1;
    }
}

/* Segment lengths from "L1,L2,..." into L->seg_start (prefix first). */
static int parse_segments(const mj_layout_opts *o, mj_layout *L, char *err, size_t errn) {
    const char *s = o->segments;
    int64_t pos = o->prefix;
    int32_t n = 1;
    for (const char *c = s; *c; c++) n += *c == ',';
    L->seg_start = calloc((size_t)n + 1, sizeof *L->seg_start);
    if (!L->seg_start) { snprintf(err, errn, "out of memory"); return -1; }
    L->n_seg = 0;
    for (;;) {
        char *end;
        long long v;
        errno = 0;
        v = strtoll(s, &end, 10);
        if (end == s || (*end && *end != ',') || errno || v < 1 || pos + v > MJ_LAYOUT_MAX_SEQ) {
            snprintf(err, errn, "--segments: bad length in '%s' (expected positive integers L1,L2,...)",
                     o->segments);
            return -1;
        }
        L->seg_start[L->n_seg++] = (int32_t)pos;
        pos += v;
        if (!*end) break;
        s = end + 1;
    }
    L->seg_start[L->n_seg] = (int32_t)pos;
    return 0;
}

/* List of the program's tokens annotations, for error messages. */
static void list_tokens(const mj_program *p, char *buf, size_t n) {
    size_t k = 0;
    buf[0] = 0;
    if (p->n_tokens == 0) { snprintf(buf, n, "none"); return; }
    for (int32_t a = 0; a < p->n_tokens && k + 1 < n; a++)
        k += (size_t)snprintf(buf + k, n - k, "%s%s", a ? ", " : "", p->tokens[a].name);
}

static int fill_tokens(const mj_program *p, const mj_layout_opts *o, mj_layout *L, char *err,
                       size_t errn) {
    int64_t n = L->env.seq_len;
    int32_t aseg = mj_program_find_tokens(p, "seg"), astart = mj_program_find_tokens(p, "seg_start");
    for (int32_t a = 0; a < p->n_tokens; a++)
        for (int64_t i = 0; i < n; i++) L->tokens[a * n + i] = p->tokens[a].def;
    for (int32_t s = 0; s < L->n_seg; s++)
        for (int64_t i = L->seg_start[s]; i < L->seg_start[s + 1]; i++) {
            if (aseg >= 0 && p->tokens[aseg].type == MJ_T_INT) L->tokens[aseg * n + i].i = s;
            if (astart >= 0 && p->tokens[astart].type == MJ_T_INT) L->tokens[astart * n + i].i = L->seg_start[s];
        }
    for (int k = 0; k < o->n_annots; k++) {
        const char *eq = strchr(o->annots[k], '=');
        char name[128], have[512];
        int32_t a;
        snprintf(name, sizeof name, "%.*s", (int)(eq - o->annots[k]), o->annots[k]);
        a = mj_program_find_tokens(p, name);
        if (a < 0) {
            list_tokens(p, have, sizeof have);
            snprintf(err, errn, "--annot: '%s' is not a tokens annotation of %s (it has: %s)", name,
                     p->path ? p->path : "the program", have);
            return -1;
        }
        if (parse_list("--annot", name, p->tokens[a].type, eq + 1, L->tokens + a * n, n, err, errn) < 0)
            return -1;
    }
    return 0;
}

/* Int param NAME (when declared) := v. */
static void auto_param(const mj_program *p, mj_value *params, const char *name, int32_t v) {
    int32_t k = mj_program_find_param(p, name);
    if (k >= 0 && p->params[k].type == MJ_T_INT && !p->params[k].is_array) params[p->params[k].offset].i = v;
}

static int fill_params(const mj_program *p, const mj_layout_opts *o, mj_layout *L, char *err,
                       size_t errn) {
    mj_program_default_params(p, L->params);
    if (o->segments) {
        int32_t mx = 0;
        for (int32_t s = 0; s < L->n_seg; s++)
            if (L->seg_start[s + 1] - L->seg_start[s] > mx) mx = L->seg_start[s + 1] - L->seg_start[s];
        auto_param(p, L->params, "max_seg_len", mx);
        auto_param(p, L->params, "n_seg", L->n_seg);
        auto_param(p, L->params, "prefix_len", L->prefix);
    }
    for (int k = 0; k < o->n_sets; k++) {
        const char *eq = strchr(o->sets[k], '=');
        char name[128], msg[256];
        snprintf(name, sizeof name, "%.*s", (int)(eq - o->sets[k]), o->sets[k]);
        if (mj_program_set_param(p, L->params, name, eq + 1, msg, sizeof msg) != 0) {
            snprintf(err, errn, "--set %s: %s", o->sets[k], msg);
            return -1;
        }
    }
    return 0;
}

/* n_heads and the heads arrays (values after n_heads are an error). */
static int fill_heads(const mj_program *p, const mj_layout_opts *o, mj_layout *L, char *err,
                      size_t errn) {
    int64_t nh = o->n_heads, longest = 0;
    for (int k = 0; k < o->n_heads_arrays; k++) {
        int64_t c = 1;
        for (const char *s = strchr(o->heads[k], '='); *s; s++) c += *s == ',';
        if (c > longest) longest = c;
    }
    if (nh < 0) {
        nh = o->head + 1 > longest ? o->head + 1 : longest;
        if (nh < 1) nh = 1;
        if (nh > 4096) { snprintf(err, errn, "--heads: too many values (at most 4096)"); return -1; }
    }
    if (o->head >= nh) {
        snprintf(err, errn, "--head %lld: out of range for --n-heads %lld", (long long)o->head, (long long)nh);
        return -1;
    }
    L->env.n_heads = (int32_t)nh;
    L->head = (int32_t)o->head;
    L->heads = calloc((size_t)(p->n_heads ? p->n_heads : 1) * (size_t)nh, sizeof *L->heads);
    if (!L->heads) { snprintf(err, errn, "out of memory"); return -1; }
    for (int k = 0; k < o->n_heads_arrays; k++) {
        const char *eq = strchr(o->heads[k], '=');
        char name[128];
        int32_t h;
        mj_value *tmp;
        int64_t cnt;
        snprintf(name, sizeof name, "%.*s", (int)(eq - o->heads[k]), o->heads[k]);
        h = mj_program_find_heads(p, name);
        if (h < 0) { snprintf(err, errn, "--heads: '%s' is not a heads array of the program", name); return -1; }
        tmp = calloc((size_t)nh, sizeof *tmp);
        if (!tmp) { snprintf(err, errn, "out of memory"); return -1; }
        cnt = parse_list("--heads", name, MJ_T_FLOAT, eq + 1, tmp, nh, err, errn);
        for (int64_t j = 0; j < cnt; j++) L->heads[h * nh + j] = tmp[j].f;
        free(tmp);
        if (cnt < 0) return -1;
    }
    return 0;
}

static int build(const mj_program *p, const mj_layout_opts *o, mj_layout *L, char *err, size_t errn) {
    int64_t n, end_of_segments = o->prefix;
    L->prefix = (int32_t)o->prefix;
    if (o->segments) {
        if (parse_segments(o, L, err, errn) != 0) return -1;
        end_of_segments = L->seg_start[L->n_seg];
    }
    n = o->seq_len >= 0 ? o->seq_len : end_of_segments;
    if (n < 1) { snprintf(err, errn, "--seq-len N is required (or --segments)"); return -1; }
    if (end_of_segments > n) {
        snprintf(err, errn, "prefix and segments cover %lld tokens, more than --seq-len %lld",
                 (long long)end_of_segments, (long long)n);
        return -1;
    }
    L->env.seq_len = (int32_t)n;
    L->env.prompt_len = (int32_t)(o->prompt_len >= 0 ? o->prompt_len
                                  : (o->segments || o->prefix) ? end_of_segments : n);
    L->env.tokens_len = n;
    L->env.tokens_stride = n;
    L->tokens = calloc((size_t)(p->n_tokens ? p->n_tokens : 1) * (size_t)n, sizeof *L->tokens);
    L->params = calloc((size_t)(p->n_param_slots ? p->n_param_slots : 1), sizeof *L->params);
    if (!L->tokens || !L->params) { snprintf(err, errn, "out of memory"); return -1; }
    if (fill_tokens(p, o, L, err, errn) || fill_params(p, o, L, err, errn) ||
        fill_heads(p, o, L, err, errn))
        return -1;
    L->env.params = L->params;
    L->env.tokens = L->tokens;
    L->env.heads = L->heads;
    return 0;
}

int mj_layout_build(const mj_program *p, const mj_layout_opts *o, mj_layout *L, char *err,
                    size_t errn) {
    memset(L, 0, sizeof *L);
    if (build(p, o, L, err, errn) == 0) return 0;
    mj_layout_free(L);
    return -1;
}

void mj_layout_free(mj_layout *L) {
    if (!L) return;
    free(L->params);
    free(L->tokens);
    free(L->heads);
    free(L->seg_start);
    memset(L, 0, sizeof *L);
}
