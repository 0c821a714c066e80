/* config_gguf.c — model configuration from GGUF metadata (llama.cpp key
 * names {arch}.block_count ...), for general.architecture llama | qwen2 |
 * qwen3.  A rope_freqs.weight tensor (llama.cpp's form of Llama 3 rope
 * scaling) is matched against the llama3 formula and mapped back to its
 * parameters. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"
#include "model_internal.h"

/* {arch}.SUFFIX as an int32: 1 found, 0 absent, -1 wrong type/range. */
static int arch_i32(const mj_gguf *g, const char *arch, const char *suffix, int32_t *out) {
    char key[256];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    if (mj_gguf_find_key(g, key) < 0) return 0;
    return mj_gguf_get_i32(g, key, out) ? 1 : -1;
}

static bool arch_f32(const mj_gguf *g, const char *arch, const char *suffix, float *out) {
    char key[256];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    return mj_gguf_get_f32(g, key, out);
}

/* llama3 divisor of frequency i (of dim/2) for the given parameters. */
static double llama3_divisor(const mj_model_config *c, int i) {
    double inv = pow((double)c->rope_theta, -2.0 * i / c->head_dim), wl = 2 * M_PI / inv;
    double lo_wl = c->rope_orig_max_pos / c->rope_low_freq_factor;
    double hi_wl = c->rope_orig_max_pos / c->rope_high_freq_factor;
    if (wl < hi_wl) return 1.0;
    if (wl > lo_wl) return c->rope_factor;
    double s = (c->rope_orig_max_pos / wl - c->rope_low_freq_factor) /
               (c->rope_high_freq_factor - c->rope_low_freq_factor);
    return 1.0 / ((1 - s) / c->rope_factor + s);
}

/* Map a rope_freqs.weight tensor to llama3 rope parameters. */
static int parse_rope_freqs(mj_model_config *c, const mj_gguf *g, const char *path, char *err, size_t errn) {
    const mj_gguf_tensor *t = mj_gguf_find_tensor(g, "rope_freqs.weight");
    if (!t) return 0;
    int n = c->head_dim / 2;
    if (t->type != MJ_GGML_F32 || t->n_elems != (uint64_t)n) {
        mj_err(err, errn, "%s: rope_freqs.weight has an unexpected type or size", path);
        return -1;
    }
    float f[2048], mx = 0;
    mj_gguf_dequant_row(t->type, t->data, f, (uint64_t)n);
    for (int i = 0; i < n; i++) mx = f[i] > mx ? f[i] : mx;
    c->rope_type = 1;
    c->rope_factor = mx;
    c->rope_low_freq_factor = 1.0f;
    c->rope_high_freq_factor = 4.0f;
    c->rope_orig_max_pos = 8192;
    for (int i = 0; i < n; i++)
        if (fabs(llama3_divisor(c, i) - f[i]) > 1e-3 * f[i]) {
            mj_err(err, errn, "%s: rope_freqs.weight does not match llama3 rope scaling with low/high frequency "
                    "factors 1/4 and original context 8192; unsupported", path);
            return -1;
        }
    return 0;
}

/* Token ids (bos, eos, eot, eom) from tokenizer.ggml.*. */
static void parse_special_ids(mj_model_config *c, const mj_gguf *g) {
    int32_t v;
    c->bos_id = mj_gguf_get_i32(g, "tokenizer.ggml.bos_token_id", &v) && v >= 0 ? v : -1;
    static const char *const eos_keys[] = {"tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id",
                                           "tokenizer.ggml.eom_token_id"};
    for (int k = 0; k < 3; k++) {
        if (!mj_gguf_get_i32(g, eos_keys[k], &v) || v < 0) continue;
        bool dup = false;
        for (int i = 0; i < c->n_eos; i++) dup |= c->eos_ids[i] == v;
        if (!dup && c->n_eos < 8) c->eos_ids[c->n_eos++] = v;
    }
}

int mj_config_parse_gguf(mj_model_config *c, const mj_gguf *g, const char *path, char *err, size_t errn) {
    memset(c, 0, sizeof *c);
    char arch[64];
    size_t an;
    const char *a = mj_gguf_get_str(g, "general.architecture", &an);
    if (!a) { mj_err(err, errn, "%s: GGUF metadata lacks general.architecture", path); return -1; }
    snprintf(arch, sizeof arch, "%.*s", (int)(an < 63 ? an : 63), a);
    if (!strcmp(arch, "llama")) c->arch = MJ_ARCH_LLAMA;
    else if (!strcmp(arch, "qwen2")) c->arch = MJ_ARCH_QWEN2;
    else if (!strcmp(arch, "qwen3")) c->arch = MJ_ARCH_QWEN3;
    else {
        mj_err(err, errn, "%s: unsupported GGUF architecture '%s' (supported: llama, qwen2, qwen3)", path, arch);
        return -1;
    }
    static const char *const req[] = {"block_count", "embedding_length", "feed_forward_length",
                                      "attention.head_count"};
    int32_t *dst[] = {&c->n_layers, &c->hidden, &c->intermediate, &c->n_heads};
    for (int i = 0; i < 4; i++)
        if (arch_i32(g, arch, req[i], dst[i]) != 1) {
            mj_err(err, errn, "%s: GGUF metadata lacks a valid %s.%s", path, arch, req[i]);
            return -1;
        }
    c->n_kv_heads = c->n_heads;
    if (arch_i32(g, arch, "attention.head_count_kv", &c->n_kv_heads) < 0) goto bad;
    c->head_dim = c->n_heads > 0 ? c->hidden / c->n_heads : 0;
    if (arch_i32(g, arch, "attention.key_length", &c->head_dim) < 0) goto bad;
    c->max_pos = 4096;
    if (arch_i32(g, arch, "context_length", &c->max_pos) < 0) goto bad;
    c->rms_eps = 1e-6f;
    arch_f32(g, arch, "attention.layer_norm_rms_epsilon", &c->rms_eps);
    c->rope_theta = 10000.0f;
    arch_f32(g, arch, "rope.freq_base", &c->rope_theta);
    char key[128];
    snprintf(key, sizeof key, "%s.rope.scaling.type", arch);
    size_t sn;
    const char *st = mj_gguf_get_str(g, key, &sn);
    if (st && !(sn == 4 && !memcmp(st, "none", 4))) {
        mj_err(err, errn, "%s: rope scaling type '%.*s' is not supported", path, (int)(sn < 40 ? sn : 40), st);
        return -1;
    }
    const mj_gguf_tensor *emb = mj_gguf_find_tensor(g, "token_embd.weight");
    if (!emb || emb->n_dims != 2 || emb->ne[1] > INT32_MAX) {
        mj_err(err, errn, "%s: missing or malformed tensor 'token_embd.weight'", path);
        return -1;
    }
    c->vocab = (int32_t)emb->ne[1];
    c->tie_embeddings = mj_gguf_find_tensor(g, "output.weight") == NULL;
    c->qkv_bias = c->arch == MJ_ARCH_QWEN2 || mj_gguf_find_tensor(g, "blk.0.attn_q.bias") != NULL;
    c->qk_norm = c->arch == MJ_ARCH_QWEN3;
    parse_special_ids(c, g);
    if (mj_config_validate(c, path, err, errn)) return -1;
    return parse_rope_freqs(c, g, path, err, errn);
bad:
    mj_err(err, errn, "%s: GGUF metadata has a malformed %s.* value", path, arch);
    return -1;
}
