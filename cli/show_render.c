/* show_render.c — renderings of a mask for `maskjit show` (show_render.h). */
#include "show_render.h"

#include <stdlib.h>
#include <string.h>

#include "blocks.h"
#include "mj_env.h"

void mj_render_dense(FILE *out, const uint8_t *d, int64_t n) {
    char *line = malloc((size_t)n + 2);
    if (!line) return;
    for (int64_t q = 0; q < n; q++) {
        for (int64_t kv = 0; kv < n; kv++) line[kv] = d[q * n + kv] ? '1' : '0';
        line[n] = '\n';
        fwrite(line, 1, (size_t)n + 1, out);
    }
    free(line);
}

void mj_render_blocks(FILE *out, const uint8_t *map, int32_t nb) {
    static const char cls[3] = {'E', 'F', 'P'};
    for (int64_t i = 0; i < nb; i++) {
        for (int64_t j = 0; j < nb; j++) fputc(cls[map[i * nb + j] % 3], out);
        fputc('\n', out);
    }
}

void mj_render_scores(FILE *out, const mj_mask_session *s, int32_t h, float raw) {
    const mj_env *env = &s->L.env;
    int32_t n = env->seq_len;
    for (int32_t q = 0; q < n; q++) {
        for (int32_t kv = 0; kv < n; kv++) {
            if (kv) fputc(' ', out);
            if (!s->fns.mask(s->fns.ctx, env, q, kv, h)) fputs("-inf", out);
            else fprintf(out, "%.9g", s->fns.score ? s->fns.score(s->fns.ctx, env, q, kv, h, raw) : raw);
        }
        fputc('\n', out);
    }
}

/* ---- ascii --------------------------------------------------------------------------- */

#define ASCII_MAX_CELLS 96

typedef struct grid {
    int64_t n, cells;
    uint8_t *bar;          /* bar[c]: a boundary line before cell c */
} grid;

static int64_t cell_start(const grid *g, int64_t c) { return c * g->n / g->cells; }

/* Boundary lines before the cells where a segment, the prefix or the prompt ends. */
static void grid_bars(grid *g, const mj_mask_session *s) {
    int64_t marks[4096 + 2];
    int nm = 0;
    for (int32_t k = 0; k <= s->L.n_seg && nm < 4096; k++) marks[nm++] = s->L.seg_start[k];
    marks[nm++] = s->L.env.prompt_len;
    for (int i = 0; i < nm; i++) {
        int64_t t = marks[i], c;
        if (t <= 0 || t >= g->n) continue;
        c = t * g->cells / g->n;
        while (c > 0 && cell_start(g, c) > t) c--;
        while (c < g->cells && cell_start(g, c) < t) c++;
        if (c > 0 && c < g->cells) g->bar[c] = 1;
    }
}

static void ascii_ruler(FILE *out, const grid *g, int lw) {
    int64_t width = g->cells * 2 + 2, pos = 0, next_free = 0;
    char *line = malloc((size_t)width + 1);
    if (!line) return;
    memset(line, ' ', (size_t)width);
    for (int64_t c = 0; c < g->cells; c++) {
        if (g->bar[c]) pos++;
        if (c % 10 == 0 && pos >= next_free) {
            int k = snprintf(line + pos, (size_t)(width - pos), "%lld", (long long)cell_start(g, c));
            line[pos + k] = ' ';
            next_free = pos + k + 1;
        }
        pos++;
    }
    while (pos > 0 && line[pos - 1] == ' ') pos--;
    line[pos] = 0;
    fprintf(out, "%*s %s\n", lw, "", line);
    free(line);
}

/* Glyph of cell (r, c): all visible, none, or some. */
static const char *ascii_glyph(const grid *g, const mj_mask_session *s, const mj_summary *sum,
                               int64_t r, int64_t c) {
    int32_t q0 = (int32_t)cell_start(g, r), q1 = (int32_t)cell_start(g, r + 1) - 1;
    int32_t k0 = (int32_t)cell_start(g, c), k1 = (int32_t)cell_start(g, c + 1) - 1;
    int64_t vis = mj_mask_session_count(s, sum, q0, q1, k0, k1, s->L.head);
    int64_t tot = ((int64_t)q1 - q0 + 1) * ((int64_t)k1 - k0 + 1);
    return vis == tot ? "\u2588" : vis == 0 ? "\u00b7" : "\u2592";
}

int mj_render_ascii(FILE *out, const mj_mask_session *s, const char *title) {
    grid g;
    mj_summary sum;
    int lw = 1;
    g.n = s->L.env.seq_len;
    g.cells = g.n <= ASCII_MAX_CELLS ? g.n : ASCII_MAX_CELLS;
    g.bar = calloc((size_t)g.cells + 1, 1);
    if (!g.bar) return -1;
    if (mj_summary_build(s->p, &s->L.env, (int32_t)((g.n + g.cells - 1) / g.cells), &sum) != 0) {
        free(g.bar);
        return -1;
    }
    grid_bars(&g, s);
    for (int64_t x = g.n - 1; x >= 10; x /= 10) lw++;
    if (lw < 2) lw = 2;
    fprintf(out, "%s: seq_len %d, prompt_len %d, head %d", title, s->L.env.seq_len,
            s->L.env.prompt_len, s->L.head);
    if (g.cells < g.n) fprintf(out, " (1 cell = ~%lld x %lld tokens)", (long long)((g.n + g.cells - 1) / g.cells),
                               (long long)((g.n + g.cells - 1) / g.cells));
    fprintf(out, "\n%*s kv \u2192\n", lw, "q");
    ascii_ruler(out, &g, lw);
    for (int64_t r = 0; r < g.cells; r++) {
        if (g.bar[r]) {
            fprintf(out, "%*s ", lw, "");
            for (int64_t c = 0; c < g.cells; c++) fputs(g.bar[c] ? "\u253c\u2500" : "\u2500", out);
            fputc('\n', out);
        }
        fprintf(out, "%*lld ", lw, (long long)cell_start(&g, r));
        for (int64_t c = 0; c < g.cells; c++) {
            if (g.bar[c]) fputs("\u2502", out);
            fputs(ascii_glyph(&g, s, &sum, r, c), out);
        }
        fputc('\n', out);
    }
    fprintf(out, "legend: \u2588 visible  \u00b7 masked%s  \u2502\u2500 segment / prompt boundaries\n",
            g.cells < g.n ? "  \u2592 partly visible" : "");
    free(g.bar);
    mj_summary_free(&sum);
    return 0;
}

/* ---- png ----------------------------------------------------------------------------- */

#define PNG_MAX_SIDE 2048

/* Colours: visible in FULL, visible in PARTIAL, masked in PARTIAL, masked in
 * EMPTY, and red for an element that contradicts its block (never, if sound). */
static const uint8_t colour[5][3] = {
    {34, 120, 62}, {46, 84, 178}, {255, 230, 168}, {236, 236, 236}, {230, 0, 0}};

static int element_colour(int visible, int cls) {
    if (cls == MJ_BLOCK_FULL) return visible ? 0 : 4;
    if (cls == MJ_BLOCK_EMPTY) return visible ? 4 : 3;
    return visible ? 1 : 2;
}

typedef struct png_ctx {
    const mj_mask_session *s;
    const uint8_t *d;          /* element mask (n x n), or NULL: count with the classifier */
    const uint8_t *map;        /* block classes (nb x nb) */
    mj_summary sum;
    int64_t n, nb;
    int32_t block;
} png_ctx;

/* Visible elements of [q0,q1) x [k0,k1), which lies inside one block of class cls. */
static int64_t png_visible(const png_ctx *c, int cls, int64_t q0, int64_t q1, int64_t k0, int64_t k1) {
    int64_t vis = 0;
    if (c->d) {
        for (int64_t q = q0; q < q1; q++)
            for (int64_t kv = k0; kv < k1; kv++) vis += c->d[q * c->n + kv];
        return vis;
    }
    if (cls == MJ_BLOCK_FULL) return (q1 - q0) * (k1 - k0);
    if (cls == MJ_BLOCK_EMPTY) return 0;
    return mj_mask_session_count(c->s, &c->sum, (int32_t)q0, (int32_t)q1 - 1, (int32_t)k0,
                                 (int32_t)k1 - 1, c->s->L.head);
}

/* Mean colour of the tokens [q0,q1) x [k0,k1) into px. */
static void pixel_mean(const png_ctx *c, int64_t q0, int64_t q1, int64_t k0, int64_t k1, uint8_t *px) {
    int64_t acc[3] = {0, 0, 0}, cnt = 0, B = c->block;
    for (int64_t qb = q0 / B; qb * B < q1; qb++)
        for (int64_t kb = k0 / B; kb * B < k1; kb++) {
            int64_t a0 = qb * B > q0 ? qb * B : q0, a1 = (qb + 1) * B < q1 ? (qb + 1) * B : q1;
            int64_t b0 = kb * B > k0 ? kb * B : k0, b1 = (kb + 1) * B < k1 ? (kb + 1) * B : k1;
            int cls = c->map[qb * c->nb + kb];
            int64_t area = (a1 - a0) * (b1 - b0), vis = png_visible(c, cls, a0, a1, b0, b1);
            const uint8_t *cv = colour[element_colour(1, cls)], *cm = colour[element_colour(0, cls)];
            for (int i = 0; i < 3; i++) acc[i] += vis * cv[i] + (area - vis) * cm[i];
            cnt += area;
        }
    for (int i = 0; i < 3; i++) px[i] = (uint8_t)(cnt ? acc[i] / cnt : 255);
}

uint8_t *mj_render_png_rgb(const mj_mask_session *s, const uint8_t *map, int32_t block,
                           int32_t *w_out, int32_t *px_out) {
    png_ctx c = {.s = s, .map = map, .n = s->L.env.seq_len, .block = block};
    int64_t n = c.n, scale = n > 0 ? PNG_MAX_SIDE / n : 1, w;
    uint8_t *rgb, *dense = NULL;
    c.nb = (n + block - 1) / block;
    if (scale > 32) scale = 32;
    w = scale >= 1 ? n * scale : PNG_MAX_SIDE;
    if (scale >= 1 && !(dense = mj_mask_session_dense(s, s->L.head))) return NULL;
    c.d = dense;
    if (mj_summary_build(s->p, &s->L.env, block, &c.sum) != 0) { free(dense); return NULL; }
    rgb = malloc((size_t)(w * w * 3));
    for (int64_t y = 0; rgb && y < w; y++)
        for (int64_t x = 0; x < w; x++) {
            uint8_t *px = rgb + (y * w + x) * 3;
            int64_t q0 = scale >= 1 ? y / scale : y * n / w, q1 = scale >= 1 ? q0 + 1 : (y + 1) * n / w;
            int64_t k0 = scale >= 1 ? x / scale : x * n / w, k1 = scale >= 1 ? k0 + 1 : (x + 1) * n / w;
            pixel_mean(&c, q0, q1, k0, k1, px);
            /* block grid lines where they are at least 8 px apart */
            if (scale >= 1 && block * scale >= 8 && (x % (block * scale) == 0 || y % (block * scale) == 0))
                for (int i = 0; i < 3; i++) px[i] = (uint8_t)(px[i] * 3 / 4 + 255 / 4);
        }
    mj_summary_free(&c.sum);
    free(dense);
    *w_out = (int32_t)w;
    *px_out = scale >= 1 ? (int32_t)scale : -(int32_t)((n + w - 1) / w);
    return rgb;
}
