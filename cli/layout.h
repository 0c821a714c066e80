/* layout.h — the prompt-layout options shared by `maskjit show` and
 * `maskjit explain` (and usable by tests): they turn command-line text into
 * the mj_env a compiled mask program reads (sequence length, prompt length,
 * per-token annotations, params, heads).
 *
 *   --seq-len N            tokens in the row (default: prefix + segment total)
 *   --prompt-len P         prompt tokens (default: prefix + segment total, else N)
 *   --segments L1,L2,...   consecutive segments: `seg` = 0,0,..,1,..; `seg_start` =
 *                          each token's segment start; tokens beyond them keep defaults
 *   --prefix P             P shared tokens before the segments (seg stays default)
 *   --annot NAME=v0,v1,... one value per token (missing/empty: the default)
 *   --set NAME=VALUE       a param (NAME[i]=V for one element, v0,v1,... for several)
 *   --head H               the head shown (default 0)
 *   --heads NAME=v0,v1,... a heads array (missing heads: 0.0)
 *   --n-heads N            heads (default max(1, H+1, longest --heads list))
 * With --segments, params `max_seg_len`, `n_seg` and `prefix_len` are filled
 * when the program declares them (int) and --set does not set them. */
#ifndef MJ_CLI_LAYOUT_H
#define MJ_CLI_LAYOUT_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mj_ir.h"

enum {
    MJ_LO_SEQ_LEN = 0x1000, MJ_LO_PROMPT_LEN, MJ_LO_SEGMENTS, MJ_LO_PREFIX, MJ_LO_ANNOT,
    MJ_LO_SET, MJ_LO_HEAD, MJ_LO_HEADS, MJ_LO_N_HEADS
};

/* Entries for a getopt_long option table. */
#define MJ_LAYOUT_LONG_OPTIONS                                                         \
    {"seq-len", required_argument, NULL, MJ_LO_SEQ_LEN},                               \
    {"prompt-len", required_argument, NULL, MJ_LO_PROMPT_LEN},                         \
    {"segments", required_argument, NULL, MJ_LO_SEGMENTS},                             \
    {"prefix", required_argument, NULL, MJ_LO_PREFIX},                                 \
    {"annot", required_argument, NULL, MJ_LO_ANNOT},                                   \
    {"set", required_argument, NULL, MJ_LO_SET},                                       \
    {"head", required_argument, NULL, MJ_LO_HEAD},                                     \
    {"heads", required_argument, NULL, MJ_LO_HEADS},                                   \
    {"n-heads", required_argument, NULL, MJ_LO_N_HEADS}

#define MJ_LAYOUT_MAX_ITEMS 64
#define MJ_LAYOUT_MAX_SEQ (1 << 24)

/* Options as given (strings point into argv). */
typedef struct mj_layout_opts {
    int64_t seq_len, prompt_len, prefix, head, n_heads;   /* -1: not given (prefix, head: 0) */
    const char *segments;
    const char *annots[MJ_LAYOUT_MAX_ITEMS];
    int n_annots;
    const char *sets[MJ_LAYOUT_MAX_ITEMS];
    int n_sets;
    const char *heads[MJ_LAYOUT_MAX_ITEMS];
    int n_heads_arrays;
} mj_layout_opts;

/* A built layout: env points into the owned arrays. */
typedef struct mj_layout {
    mj_env env;
    int32_t head;
    mj_value *params;
    mj_value *tokens;
    float *heads;
    int32_t prefix;
    int32_t n_seg;
    int32_t *seg_start;      /* n_seg + 1 entries: starts, then the end of the last */
} mj_layout;

void mj_layout_opts_init(mj_layout_opts *o);
/* Handles one getopt_long result c with argument arg: returns 1 if it was a
 * layout option, 0 if not, -1 (message in err) for a bad value. */
int mj_layout_option(mj_layout_opts *o, int c, const char *arg, char *err, size_t errn);
/* Help text of the layout options (indented lines). */
void mj_layout_print_help(FILE *out);
/* Builds the layout for p.  Returns 0, or -1 with a message in err. */
int mj_layout_build(const mj_program *p, const mj_layout_opts *o, mj_layout *L, char *err,
                    size_t errn);
void mj_layout_free(mj_layout *L);

#endif
