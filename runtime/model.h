/* model.h — a decoder-only transformer's configuration and f32 weights in host
 * memory, loaded from an HF model directory (config.json + safetensors, single
 * or sharded) or a GGUF file.  Architectures: Llama (incl. llama3 rope
 * scaling), Qwen2/2.5 (q/k/v bias), Qwen3 (q_norm/k_norm).
 *
 * Weight layout follows HF nn.Linear: a [out x in] row-major matrix, so
 * y = W x is cblas_sgemv(RowMajor, NoTrans, out, in, W, x).  Q/K head order is
 * HF's (rotate_half RoPE convention); GGUF's interleaved Q/K rows are permuted
 * back to HF order at load. */
#ifndef MJ_MODEL_H
#define MJ_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum mj_arch { MJ_ARCH_LLAMA = 0, MJ_ARCH_QWEN2 = 1, MJ_ARCH_QWEN3 = 2 } mj_arch;

typedef struct mj_model_config {
    mj_arch arch;
    int32_t n_layers;
    int32_t hidden;          /* hidden_size */
    int32_t intermediate;    /* intermediate_size */
    int32_t n_heads;         /* num_attention_heads */
    int32_t n_kv_heads;      /* num_key_value_heads */
    int32_t head_dim;        /* head_dim (default hidden / n_heads) */
    int32_t vocab;           /* vocab_size */
    int32_t max_pos;         /* max_position_embeddings */
    float rms_eps;           /* rms_norm_eps */
    float rope_theta;
    /* rope_scaling of type "llama3" (rope_type == 1), else none (0) */
    int32_t rope_type;
    float rope_factor, rope_low_freq_factor, rope_high_freq_factor;
    int32_t rope_orig_max_pos;
    bool tie_embeddings;     /* lm_head = embed_tokens */
    bool qkv_bias;           /* Qwen2 */
    bool qk_norm;            /* Qwen3 */
    int32_t bos_id;          /* -1 if none */
    int32_t eos_ids[8];      /* from config / generation_config; n_eos may be 0 */
    int32_t n_eos;
} mj_model_config;

typedef struct mj_layer {
    float *attn_norm;            /* [hidden] */
    float *wq, *wk, *wv;         /* [n_heads*hd x hidden], [n_kv*hd x hidden] x2 */
    float *bq, *bk, *bv;         /* biases or NULL */
    float *q_norm, *k_norm;      /* [head_dim] or NULL */
    float *wo;                   /* [hidden x n_heads*hd] */
    float *ffn_norm;             /* [hidden] */
    float *w_gate, *w_up;        /* [intermediate x hidden] */
    float *w_down;               /* [hidden x intermediate] */
} mj_layer;

typedef struct mj_model {
    mj_model_config cfg;
    float *embed;                /* [vocab x hidden] */
    float *final_norm;           /* [hidden] */
    float *lm_head;              /* [vocab x hidden]; == embed when tied */
    mj_layer *layers;            /* [n_layers] */
    char *path;                  /* where it came from */
    bool from_gguf;
    void *priv;                  /* loader-owned storage (freed by mj_model_free) */
} mj_model;

/* Load PATH: an HF directory (config.json + model.safetensors or
 * model.safetensors.index.json + shards), or a .gguf file.  Weights are
 * converted to f32 once.  Returns 0, or -1 with a one-line message in err
 * naming what is wrong (missing tensor, unsupported architecture/dtype ...). */
int mj_model_load(mj_model *m, const char *path, char *err, size_t errn);
void mj_model_free(mj_model *m);

/* Read only config.json (or GGUF metadata) into cfg. Same errors. */
int mj_model_load_config(mj_model_config *cfg, const char *path, char *err, size_t errn);

/* ---- random models (public since the clean-up; used by `maskjit make-model`
 * and by tests that need a small model on disk) ------------------------------ */

/* Options of a random-weight HF model directory. */
typedef struct mj_make_opts {
    mj_arch arch;
    int32_t layers, hidden, intermediate, heads, kv_heads, head_dim, vocab;
    uint64_t seed;
    int dtype;                 /* MJ_ST_F32/F16/BF16 of safetensors.h */
    bool rope_llama3;          /* rope_scaling llama3 (factor 8, 1, 4, orig 64) */
    bool tie;                  /* tie_word_embeddings (no lm_head.weight written) */
    int shards;                /* 1: model.safetensors; N > 1: index + N shards */
    const char *tokenizer;     /* dir or tokenizer.json to copy, or NULL */
    int32_t bos_id, eos_id;    /* -1: none */
} mj_make_opts;

/* Defaults: llama, 2 layers, hidden 64, intermediate 128, 4 heads, 2 kv,
 * head_dim 16, vocab 512, seed 0, f32, no scaling, untied, 1 shard. */
void mj_make_opts_default(mj_make_opts *o);
/* Write config.json, generation_config.json, safetensors (sharded when
 * asked) and copy the tokenizer files into OUT (created).  Deterministic
 * for a seed.  0, or -1 with a message. */
int mj_model_make_random(const mj_make_opts *o, const char *out, char *err, size_t errn);

#endif
