/* blocks.h — block analysis: which (query block x key block x head range)
 * regions of the attention matrix are EMPTY, FULL or PARTIAL, by interval
 * evaluation of the mask program over per-block summaries of the tokens
 * annotations.  Sound by construction: EMPTY/FULL only where every element
 * agrees. */
#ifndef MJ_BLOCKS_H
#define MJ_BLOCKS_H

#include <stdint.h>

#include "mj_ir.h"

/* Build per-block min/max summaries of every tokens annotation of env (block
 * size `block` >= 1).  Allocates sum->tok_min/tok_max (free with
 * mj_summary_free).  Returns 0, or -1 on bad arguments. */
int mj_summary_build(const mj_program *p, const mj_env *env, int32_t block, mj_summary *sum);
void mj_summary_free(mj_summary *sum);

/* Reference classifier: interval interpretation of p->mask over region r. */
int mj_blocks_classify(const mj_program *p, const mj_env *env, const mj_summary *sum,
                       const mj_region *r);

/* Classify the whole (seq_len x seq_len) matrix for head range [h0,h1] in
 * blocks of `block` x `block`: out[qb * nkb + kb], nkb = ceil(seq_len/block).
 * classify may be NULL (use mj_blocks_classify).  Returns 0 or -1. */
struct mj_mask_fns;
int mj_blocks_map(const mj_program *p, const struct mj_mask_fns *fns, const mj_env *env,
                  int32_t block, int32_t h0, int32_t h1, uint8_t *out);

#endif
