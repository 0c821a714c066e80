/* cmd_show.c — `maskjit show`: draw a mask program for a prompt layout, as
 * text for machines (dense, blocks, scores), as a picture for people (ascii)
 * or as a PNG image with the block classes shaded. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "mask_session.h"
#include "png_write.h"
#include "show_render.h"

static void show_usage(FILE *out) {
    fputs("usage: maskjit show FILE --seq-len N [layout options] [--backend interp|cpu]\n"
          "                 [--format ascii|dense|blocks|scores|png] [--block B]\n"
          "                 [--raw-score X] [-o FILE]\n"
          "Draws the mask of FILE for one layout (row = query q, column = key kv).\n"
          "  --format ascii          a picture for people (default)\n"
          "  --format dense          N lines of N characters: 1 visible, 0 masked\n"
          "  --format blocks         one line per query block: E(mpty) F(ull) P(artial) per\n"
          "                          key block, from the block classifier\n"
          "  --format scores         N lines of N numbers: the score program applied to the raw\n"
          "                          score X (--raw-score, default 0); -inf where masked\n"
          "  --format png            an image: visible / masked tokens, blocks shaded by class\n"
          "                          (needs -o FILE)\n"
          "  --block B               block size for blocks and png (default 16)\n"
          "  --backend interp|cpu    the reference interpreter (default) or the LLVM JIT\n"
          "  -o FILE                 write to FILE instead of standard output\n",
          out);
    mj_layout_print_help(out);
}

typedef struct show_opts {
    const char *format, *backend, *out, *file;
    int64_t block;
    float raw;
} show_opts;

/* Parses argv into *so and *lo; returns -1 to continue, else an exit status. */
static int show_parse(int argc, char **argv, show_opts *so, mj_layout_opts *lo) {
    enum { O_BACKEND = 1, O_FORMAT, O_BLOCK, O_RAW };
    static const struct option opts[] = {
        MJ_LAYOUT_LONG_OPTIONS,
        {"backend", required_argument, NULL, O_BACKEND}, {"format", required_argument, NULL, O_FORMAT},
        {"block", required_argument, NULL, O_BLOCK}, {"raw-score", required_argument, NULL, O_RAW},
        {"output", required_argument, NULL, 'o'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    char err[512], *end;
    int c;
    *so = (show_opts){.format = "ascii", .backend = "interp", .block = 16};
    mj_layout_opts_init(lo);
    optind = 0;
    argv[0] = (char *)"maskjit show";   /* getopt's messages name the command */
    while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
        int r = mj_layout_option(lo, c, optarg, err, sizeof err);
        if (r < 0) { fprintf(stderr, "maskjit show: %s\n", err); return 2; }
        if (r > 0) continue;
        switch (c) {
        case 'h': show_usage(stdout); return 0;
        case 'o': so->out = optarg; break;
        case O_BACKEND: so->backend = optarg; break;
        case O_FORMAT: so->format = optarg; break;
        case O_BLOCK:
            so->block = strtoll(optarg, &end, 10);
            if (*end || end == optarg || so->block < 1 || so->block > (1 << 20)) {
                fprintf(stderr, "maskjit show: --block: bad value '%s' (expected 1..1048576)\n", optarg);
                return 2;
            }
            break;
        case O_RAW:
            so->raw = strtof(optarg, &end);
            if (*end || end == optarg) {
                fprintf(stderr, "maskjit show: --raw-score: bad number '%s'\n", optarg);
                return 2;
            }
            break;
        default: fputs("see: maskjit show --help\n", stderr); return 2;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "maskjit show: expected exactly one FILE (see maskjit show --help)\n");
        return 2;
    }
    so->file = argv[optind];
    if (strcmp(so->format, "ascii") && strcmp(so->format, "dense") && strcmp(so->format, "blocks") &&
        strcmp(so->format, "scores") && strcmp(so->format, "png")) {
        fprintf(stderr, "maskjit show: --format must be ascii, dense, blocks, scores or png, not '%s'\n",
                so->format);
        return 2;
    }
    if (!strcmp(so->format, "png") && !so->out) {
        fprintf(stderr, "maskjit show: --format png needs -o FILE.png\n");
        return 2;
    }
    return -1;
}

static int show_text(const show_opts *so, const mj_mask_session *s, FILE *out) {
    int32_t h = s->L.head;
    if (!strcmp(so->format, "blocks")) {
        int32_t nb = 0;
        uint8_t *m = mj_mask_session_blocks(s, (int32_t)so->block, h, &nb);
        if (!m) { fprintf(stderr, "maskjit show: out of memory\n"); return 1; }
        mj_render_blocks(out, m, nb);
        free(m);
        return 0;
    }
    if (!strcmp(so->format, "scores")) {
        mj_render_scores(out, s, h, so->raw);
        return 0;
    }
    if (!strcmp(so->format, "ascii")) {
        if (mj_render_ascii(out, s, so->file) != 0) { fprintf(stderr, "maskjit show: out of memory\n"); return 1; }
        return 0;
    }
    {
        uint8_t *d = mj_mask_session_dense(s, h);
        if (!d) { fprintf(stderr, "maskjit show: out of memory\n"); return 1; }
        mj_render_dense(out, d, s->L.env.seq_len);
        free(d);
    }
    return 0;
}

static int show_png(const show_opts *so, const mj_mask_session *s) {
    int32_t nb = 0, w = 0, px = 0;
    uint8_t *m = mj_mask_session_blocks(s, (int32_t)so->block, s->L.head, &nb);
    uint8_t *rgb = m ? mj_render_png_rgb(s, m, (int32_t)so->block, &w, &px) : NULL;
    char err[512];
    int rc = 1;
    if (!rgb) fprintf(stderr, "maskjit show: out of memory\n");
    else if (mj_png_write_rgb(so->out, w, w, rgb, err, sizeof err) != 0)
        fprintf(stderr, "maskjit show: %s\n", err);
    else {
        rc = 0;
        if (strcmp(so->out, "-"))
            fprintf(stderr, "wrote %s (%dx%d px, %s%d %s): green = visible in FULL blocks, "
                    "blue = visible in PARTIAL, amber = masked in PARTIAL, grey = EMPTY\n",
                    so->out, w, w, px > 0 ? "" : "1 px = ", px > 0 ? px : -px,
                    px > 0 ? "px per token" : "tokens");
    }
    free(m);
    free(rgb);
    return rc;
}

int cmd_show(int argc, char **argv) {
    show_opts so;
    mj_layout_opts lo;
    mj_mask_session s;
    FILE *out = stdout;
    int rc = show_parse(argc, argv, &so, &lo);
    if (rc >= 0) return rc;
    rc = mj_mask_session_open(&s, "show", so.file, &lo, so.backend);
    if (rc) return rc;
    if (!strcmp(so.format, "png")) {
        rc = show_png(&so, &s);
    } else {
        if (so.out && strcmp(so.out, "-") && !(out = fopen(so.out, "w"))) {
            fprintf(stderr, "maskjit show: cannot write '%s'\n", so.out);
            mj_mask_session_close(&s);
            return 1;
        }
        rc = show_text(&so, &s, out);
        if (out != stdout && fclose(out) != 0) {
            fprintf(stderr, "maskjit show: error writing '%s'\n", so.out);
            rc = 1;
        }
    }
    mj_mask_session_close(&s);
    return rc;
}
