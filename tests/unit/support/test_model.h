/* test_model.h — helpers for runtime tests that build an mj_model by hand
 * (weights malloc'ed one tensor at a time, no loader storage).  Header-only
 * (static inline) so that only the tests including it see runtime types:
 * every unit test links the .c files of tests/unit/support, lower layers too. */
#ifndef MJ_TEST_MODEL_H
#define MJ_TEST_MODEL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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

/* Uniform in [-1, 1) from the LCG stream *state (advanced). */
static inline float mj_test_lcg(uint64_t *state) {
    *state = *state * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((*state >> 40) * (1.0 / 16777216.0)) * 2.0f - 1.0f;
}

/* Uniform in [-1, 1) from one fixed-seed stream per test program. */
static inline float mj_test_frand(void) {
    static uint64_t state = 12345;
    return mj_test_lcg(&state);
}

/* n values offset + scale * mj_test_frand() (malloc'ed). */
static inline float *mj_test_rnd(int64_t n, float scale, float offset) {
    float *p = malloc((size_t)n * sizeof *p);
    for (int64_t i = 0; i < n; i++) p[i] = offset + scale * mj_test_frand();
    return p;
}

/* The config of a 2-layer test model: arch, sizes, vocab and eps as given;
 * Llama 3 RoPE scaling (factor 8, low/high frequency factors 1 / 4, original
 * context 64) with llama3; Qwen2's q/k/v biases, Qwen3's q/k norms; max_pos
 * 4096, RoPE theta 10000, no BOS. */
static inline void mj_test_model_config(mj_model_config *c, mj_arch arch, bool llama3, int32_t hidden,
                                        int32_t intermediate, int32_t n_heads, int32_t n_kv_heads,
                                        int32_t head_dim, int32_t vocab, float rms_eps) {
    c->arch = arch;
    c->n_layers = 2;
    c->hidden = hidden;
    c->intermediate = intermediate;
    c->n_heads = n_heads;
    c->n_kv_heads = n_kv_heads;
    c->head_dim = head_dim;
    c->vocab = vocab;
    c->max_pos = 4096;
    c->rms_eps = rms_eps;
    c->rope_theta = 10000.0f;
    if (llama3) {
        c->rope_type = 1;
        c->rope_factor = 8.0f;
        c->rope_low_freq_factor = 1.0f;
        c->rope_high_freq_factor = 4.0f;
        c->rope_orig_max_pos = 64;
    }
    c->qkv_bias = arch == MJ_ARCH_QWEN2;
    c->qk_norm = arch == MJ_ARCH_QWEN3;
    c->bos_id = -1;
}

/* A small random model of arch (2 layers, hidden 64, 4 heads / 2 kv heads of
 * 16, intermediate 96; Llama 3 RoPE scaling with llama3; Qwen2 biases, Qwen3
 * q/k norms); free with mj_test_model_release. */
static inline void mj_test_model_make(mj_model *m, mj_arch arch, bool llama3, int32_t vocab) {
    memset(m, 0, sizeof *m);
    mj_model_config *c = &m->cfg;
    mj_test_model_config(c, arch, llama3, 64, 96, 4, 2, 16, vocab, 1e-6f);
    int64_t H = c->hidden, D = c->head_dim, QD = c->n_heads * D, KD = c->n_kv_heads * D;
    int64_t I = c->intermediate;
    m->embed = mj_test_rnd((int64_t)vocab * H, 1.0f, 0.0f);
    m->final_norm = mj_test_rnd(H, 0.2f, 1.0f);
    m->lm_head = mj_test_rnd((int64_t)vocab * H, 0.3f, 0.0f);
    m->layers = calloc((size_t)c->n_layers, sizeof *m->layers);
    for (int l = 0; l < c->n_layers; l++) {
        mj_layer *ly = &m->layers[l];
        ly->attn_norm = mj_test_rnd(H, 0.2f, 1.0f);
        ly->ffn_norm = mj_test_rnd(H, 0.2f, 1.0f);
        ly->wq = mj_test_rnd(QD * H, 0.4f, 0.0f);
        ly->wk = mj_test_rnd(KD * H, 0.4f, 0.0f);
        ly->wv = mj_test_rnd(KD * H, 0.3f, 0.0f);
        ly->wo = mj_test_rnd(H * QD, 0.2f, 0.0f);
        ly->w_gate = mj_test_rnd(I * H, 0.2f, 0.0f);
        ly->w_up = mj_test_rnd(I * H, 0.2f, 0.0f);
        ly->w_down = mj_test_rnd(H * I, 0.2f, 0.0f);
        if (c->qkv_bias) {
            ly->bq = mj_test_rnd(QD, 0.5f, 0.0f);
            ly->bk = mj_test_rnd(KD, 0.5f, 0.0f);
            ly->bv = mj_test_rnd(KD, 0.5f, 0.0f);
        }
        if (c->qk_norm) {
            ly->q_norm = mj_test_rnd(D, 0.2f, 1.0f);
            ly->k_norm = mj_test_rnd(D, 0.2f, 1.0f);
        }
    }
}

#endif
