/* test_chain.h — the greedy chain the run-ahead tests share (CPU:
 * test_runtime_ahead, GPU: test_runtime_cuda_forward).  Header-only (static
 * inline) so that only the tests including it see runtime types. */
#ifndef MJ_TEST_CHAIN_H
#define MJ_TEST_CHAIN_H

#include <stdint.h>

#include "engine.h"

/* `steps` calls of mj_seqs_append_greedy on s's 3 rows from their first
 * picks next[3] (changed): each row's pick is fed back as its next token,
 * except that row 0 takes its own tokens from step 3 on, each unlike the
 * pick (a step launched ahead is undone), and row 2 stops (token -1) from
 * step 4 on.  out[k * 3 + r]: step k's pick of row r (-5 where a stopped
 * row's id is left alone); lens (NULL: not kept) the same for mj_seqs_len.
 * Returns 0, or the first failing append's -1. */
static inline int mj_test_greedy_chain(mj_seqs *s, int32_t next[3], int32_t vocab, int steps, int32_t *out,
                                       int32_t *lens) {
    int32_t ids[3];
    int rc = 0;
    for (int k = 0; rc == 0 && k < steps; k++) {
        if (k >= 3) next[0] = (next[0] + 1 + k) % vocab;
        if (k >= 4) next[2] = -1;
        for (int r = 0; r < 3; r++) ids[r] = -5;
        rc = mj_seqs_append_greedy(s, next, ids);
        for (int r = 0; r < 3; r++) {
            out[k * 3 + r] = ids[r];
            if (lens) lens[k * 3 + r] = mj_seqs_len(s, r);
            if (next[r] >= 0) next[r] = ids[r];
        }
    }
    return rc;
}

#endif
