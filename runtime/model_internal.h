/* model_internal.h — shared between the model loader files (config.c,
 * model.c, model_make.c): configuration parsing from HF config.json or GGUF
 * metadata, and random model creation for tests.  Not a public interface. */
#ifndef MJ_MODEL_INTERNAL_H
#define MJ_MODEL_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gguf.h"
#include "model.h"

/* Parse DIR/config.json (+ DIR/generation_config.json for extra EOS ids)
 * into cfg.  *o_bias: attention_bias was set (Llama/Qwen3: q/k/v and o_proj
 * biases; the loader accepts an o_proj bias only when it is all zeros). */
int mj_config_parse_hf(mj_model_config *cfg, const char *dir, bool *o_bias, char *err, size_t errn);
/* Parse GGUF metadata (and the shapes of a few tensors) into cfg. */
int mj_config_parse_gguf(mj_model_config *cfg, const mj_gguf *g, const char *path, char *err, size_t errn);
/* Check cfg's numbers for sanity (positive, heads divisible, bounded). */
int mj_config_validate(const mj_model_config *cfg, const char *path, char *err, size_t errn);
const char *mj_arch_name(mj_arch a);

/* Options of a random-weight HF model (make-model). */
typedef struct mj_make_opts {
    mj_arch arch;
    int32_t layers, hidden, intermediate, heads, kv_heads, head_dim, vocab;
    uint64_t seed;
    int dtype;                 /* MJ_ST_F32/F16/BF16 */
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
