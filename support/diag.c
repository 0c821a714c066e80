/* diag.c — diagnostic collection and formatting (see diag.h). */
#include "diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void mj_diags_init(mj_diags *d) { memset(d, 0, sizeof *d); }

void mj_diags_free(mj_diags *d) {
    for (size_t i = 0; i < d->n; i++) free(d->items[i].msg);
    free(d->items);
    for (size_t i = 0; i < d->n_kept; i++) free(d->kept[i]);
    free(d->kept);
    memset(d, 0, sizeof *d);
}

static char *vformat(const char *fmt, va_list ap) {
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

static void push(mj_diags *d, mj_diag g) {
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 8;
        d->items = realloc(d->items, d->cap * sizeof *d->items);
        if (!d->items) abort();
    }
    d->items[d->n++] = g;
    if (g.sev == MJ_SEV_ERROR) d->n_errors++;
    else if (g.sev == MJ_SEV_WARNING) d->n_warnings++;
}

void mj_diag_vadd(mj_diags *d, mj_severity sev, mj_srcloc loc, const char *fmt, va_list ap) {
    mj_diag g = {sev, loc, loc.src ? loc.src->path : NULL, vformat(fmt, ap)};
    push(d, g);
}

void mj_diag_vadd_file(mj_diags *d, mj_severity sev, const char *path, const char *fmt, va_list ap) {
    mj_diag g = {sev, {0}, path, vformat(fmt, ap)};
    push(d, g);
}

void mj_diag_add(mj_diags *d, mj_severity sev, mj_srcloc loc, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    mj_diag_vadd(d, sev, loc, fmt, ap);
    va_end(ap);
}

void mj_diag_add_file(mj_diags *d, mj_severity sev, const char *path, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    mj_diag_vadd_file(d, sev, path, fmt, ap);
    va_end(ap);
}

const mj_source *mj_diags_keep_source(mj_diags *d, const mj_source *src) {
    size_t plen = strlen(src->path);
    mj_source *s = malloc(sizeof *s + plen + 1 + src->len + 1);
    if (!s) abort();
    char *path = (char *)(s + 1), *text = path + plen + 1;
    memcpy(path, src->path, plen + 1);
    memcpy(text, src->text, src->len);
    text[src->len] = 0;
    s->path = path;
    s->text = text;
    s->len = src->len;
    if (d->n_kept == d->cap_kept) {
        d->cap_kept = d->cap_kept ? d->cap_kept * 2 : 4;
        d->kept = realloc(d->kept, d->cap_kept * sizeof *d->kept);
        if (!d->kept) abort();
    }
    d->kept[d->n_kept++] = s;
    return s;
}

static const char *sev_name(mj_severity s) {
    return s == MJ_SEV_ERROR ? "error" : s == MJ_SEV_WARNING ? "warning" : "note";
}

/* Appends printf output to a growing buffer. */
typedef struct sbuf { char *p; size_t n, cap; } sbuf;
static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *s = vformat(fmt, ap);
    va_end(ap);
    size_t k = strlen(s);
    if (b->n + k + 1 > b->cap) {
        b->cap = (b->n + k + 1) * 2;
        b->p = realloc(b->p, b->cap);
        if (!b->p) abort();
    }
    memcpy(b->p + b->n, s, k + 1);
    b->n += k;
    free(s);
}

/* Length of the valid UTF-8 sequence at p (n bytes available), 1 for ASCII
 * and for anything invalid. */
static size_t utf8_len(const unsigned char *p, size_t n) {
    unsigned c = p[0];
    size_t k = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 1;
    if (k == 1 || k > n) return 1;
    for (size_t i = 1; i < k; i++)
        if ((p[i] & 0xC0) != 0x80) return 1;
    return k;
}

/* Prints at most this many bytes of a source line around the caret, so that a
 * 1 MB single line does not flood the terminal. */
enum { MAX_SHOWN = 160 };

char *mj_diag_format(const mj_diag *g) {
    sbuf b = {0};
    const mj_source *src = g->loc.src;
    if (!src) {
        sb_printf(&b, "%s: %s: %s\n", g->path ? g->path : "<input>", sev_name(g->sev), g->msg);
        return b.p;
    }
    sb_printf(&b, "%s:%d:%d: %s: %s\n", src->path, g->loc.line, g->loc.col, sev_name(g->sev), g->msg);
    /* find the line */
    const char *p = src->text, *end = src->text + src->len;
    for (int32_t l = 1; l < g->loc.line && p < end; p++)
        if (*p == '\n') l++;
    const char *le = p;
    while (le < end && *le != '\n') le++;
    size_t linelen = (size_t)(le - p);
    if (linelen && p[linelen - 1] == '\r') linelen--;   /* CRLF */
    size_t col0 = g->loc.col > 0 ? (size_t)g->loc.col - 1 : 0;
    if (col0 > linelen) col0 = linelen;
    size_t from = 0;
    if (col0 > MAX_SHOWN / 2) from = col0 - MAX_SHOWN / 2;
    while (from > 0 && ((unsigned char)p[from] & 0xC0) == 0x80) from--;   /* whole characters */
    size_t to = from + MAX_SHOWN < linelen ? from + MAX_SHOWN : linelen;
    while (to < linelen && ((unsigned char)p[to] & 0xC0) == 0x80) to++;
    char gutter[32];
    int gw = snprintf(gutter, sizeof gutter, "%5d", g->loc.line);
    sb_printf(&b, "%s | %s", gutter, from ? "..." : "");
    /* one output column per character: tabs become spaces, control characters and
     * bytes that are not valid UTF-8 become '?' (and count as one character) */
    unsigned char *valid = calloc(to - from + 1, 1);
    if (!valid) abort();
    for (size_t i = from; i < to;) {
        size_t k = utf8_len((const unsigned char *)p + i, to - i);
        if (k > 1) {
            sb_printf(&b, "%.*s", (int)k, p + i);
            for (size_t j = 0; j < k; j++) valid[i - from + j] = j == 0 ? 1 : 2;
            i += k;
            continue;
        }
        unsigned char c = (unsigned char)p[i];
        sb_printf(&b, "%c", c == '\t' ? ' ' : (c < 0x20 || c >= 0x7f) ? '?' : (char)c);
        valid[i - from] = 1;
        i++;
    }
    sb_printf(&b, "%s\n%*s | %s", to < linelen ? "..." : "", gw, "", from ? "   " : "");
    for (size_t i = from; i < col0 && i < to; i++)
        if (valid[i - from] == 1) sb_printf(&b, " ");
    sb_printf(&b, "^");
    int32_t len = g->loc.len > 1 ? g->loc.len : 1;
    for (size_t i = col0 + 1; i < col0 + (size_t)len && i < to; i++)
        if (valid[i - from] == 1) sb_printf(&b, "~");
    free(valid);
    sb_printf(&b, "\n");
    return b.p;
}

void mj_diags_print(const mj_diags *d, FILE *out) {
    for (size_t i = 0; i < d->n; i++) {
        char *s = mj_diag_format(&d->items[i]);
        fputs(s, out);
        free(s);
    }
}
