/* fuse.h — answer generation for groups of rows: every question is a group of
 * rows of one mj_seqs batch (one row for `single` and `mask:` methods, one row
 * per paraphrase for the logit ensembles), stepped in lockstep; at each step
 * the group's next-token logits are combined into one token that is appended
 * to every row of the group.
 *
 * Combination rules (the study's, study.md §2; logits are raw, unnormalised):
 *   FIRST      argmax of the group's only row (or sampling, see below)
 *   AVG        argmax of the mean of the rows' raw logits (ensemble-avg)
 *   MAX        argmax of the element-wise max of the rows' softmax
 *              probabilities (ensemble-max)
 *   WAVG       argmax of sum_r w_r * logits_r (weighted-avg)
 *   WMAX       argmax of the logits of the row with the largest w_r
 *              (weighted-max: the study's hard selection)
 * Weights (WAVG/WMAX) are a cheaper proxy of the study's confidence (which
 * sampled 100 answers per paraphrase): w_r = the largest softmax probability
 * of row r at the first step (how sure the paraphrase alone is of answer
 * token 1), normalised over the group and frozen for the whole answer.
 * Argmax takes the lowest id on ties.
 *
 * Stops, per group (never batch-wide): an EOS id is chosen (not kept), the
 * decoded generation (leading whitespace skipped) contains "\n" (the answer is
 * its first line), or max_new_tokens were generated. */
#ifndef MJ_FUSE_H
#define MJ_FUSE_H

#include <stddef.h>
#include <stdint.h>

#include "engine.h"

typedef enum mj_combine {
    MJ_COMBINE_FIRST = 0, MJ_COMBINE_AVG, MJ_COMBINE_MAX, MJ_COMBINE_WAVG, MJ_COMBINE_WMAX
} mj_combine;

typedef char *(*mj_decode_fn)(void *ctx, const int32_t *ids, size_t n);

typedef struct mj_fuse_opts {
    mj_combine combine;
    int32_t max_new_tokens;
    const int32_t *eos;          /* EOS ids */
    int n_eos;
    mj_decode_fn decode;         /* ids -> malloc'd text */
    void *decode_ctx;
    const mj_prefix *prefix;     /* KV cache of the rows' common prefix, or NULL */
    const mj_sampling *sampling; /* FIRST only: sample instead of argmax (NULL: greedy) */
    const uint64_t *seeds;       /* [n_groups] seeds when sampling */
} mj_fuse_opts;

typedef struct mj_fuse_out {
    int32_t *tokens;
    int32_t n_tokens;
    char *text;         /* decoded generation (raw, EOS excluded) */
    int stop;           /* MJ_STOP_EOS, MJ_STOP_STRING (newline) or MJ_STOP_LENGTH */
    float *weights;     /* [group size] for WAVG/WMAX, else NULL */
    int n_weights;
} mj_fuse_out;

/* Token chosen from the logits of n rows (row-major [n x vocab]) under rule c
 * with weights w (WAVG/WMAX; NULL: equal).  scratch: [vocab] floats. */
int32_t mj_combine_pick(mj_combine c, const float *logits, int n, int32_t vocab, const float *w,
                        float *scratch);
/* Largest softmax probability of one row of logits. */
float mj_max_prob(const float *logits, int32_t vocab);

/* Generate for n_groups groups; group g owns group_size[g] consecutive rows
 * of rows[].  out[n_groups] is filled (free each with mj_fuse_out_free).
 * *tokens_done (if not NULL) receives the prompt + generated tokens processed.
 * Returns 0, or -1 with a message. */
int mj_fuse_generate(mj_engine *e, const mj_program *prog, const mj_mask_fns *fns, int n_groups,
                     const int *group_size, const mj_row_spec *rows, const mj_fuse_opts *o,
                     mj_fuse_out *out, int64_t *tokens_done, char *err, size_t errn);
void mj_fuse_out_free(mj_fuse_out *o);

/* The study's prediction: the first line of the generation with surrounding
 * whitespace removed (generation.strip().split('\n')[0], then stripped).
 * malloc'd. */
char *mj_first_line(const char *generation);

#endif
