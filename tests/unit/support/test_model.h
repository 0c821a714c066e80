/* test_model.h — helpers for runtime tests that build an mj_model by hand
 * (weights malloc'ed one tensor at a time, no loader storage).  Header-only
 * (static inline) so that only the tests including it see runtime types:
 * every unit test links the .c files of tests/unit/support, lower layers too. */
#ifndef MJ_TEST_MODEL_H
#define MJ_TEST_MODEL_H

#include <stdlib.h>

#include "model.h"

/* Free every weight of a hand-built model M (each a separate malloc; NULL
 * biases / norms are fine) and its layer array.  Not for loaded models: use
 * mj_model_free for those. */
static inline void mj_test_model_release(mj_model *m) {
    for (int l = 0; l < m->cfg.n_layers; l++) {
        mj_layer *ly = &m->layers[l];
        float *p[] = {ly->attn_norm, ly->ffn_norm, ly->wq, ly->wk, ly->wv, ly->wo, ly->w_gate,
                      ly->w_up, ly->w_down, ly->bq, ly->bk, ly->bv, ly->q_norm, ly->k_norm};
        for (size_t i = 0; i < sizeof p / sizeof p[0]; i++) free(p[i]);
    }
    free(m->layers);
    free(m->embed);
    free(m->final_norm);
    free(m->lm_head);
}

#endif
