/* model_internal.h — shared between the model loader files (config.c,
 * model.c, model_make.c): configuration parsing from HF config.json or GGUF
 * metadata.  Not a public interface. */
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

/* (the random-model maker, mj_make_opts / mj_model_make_random, is public:
 * see model.h) */

#endif
