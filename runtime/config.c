/* config.c — model configuration from an HF config.json (LlamaForCausalLM,
 * Qwen2ForCausalLM, Qwen3ForCausalLM; rope_scaling "llama3"; the
 * transformers-5 rope_parameters form too) plus generation_config.json EOS
 * ids, or from GGUF metadata (general.architecture llama | qwen2 | qwen3).
 * Every error names the file and what is missing or unsupported. */
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"
#include "model_internal.h"

const char *mj_arch_name(mj_arch a) {
    return a == MJ_ARCH_LLAMA ? "llama" : a == MJ_ARCH_QWEN2 ? "qwen2" : a == MJ_ARCH_QWEN3 ? "qwen3" : "?";
}

/* Integer member KEY of o: 1 found, 0 absent or null, -1 wrong type. */
static int j_int(json_object *o, const char *key, int64_t *out) {
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v) || !v) return 0;
    if (json_object_is_type(v, json_type_int)) { *out = json_object_get_int64(v); return 1; }
    if (json_object_is_type(v, json_type_double)) {
        double d = json_object_get_double(v);
        if (d == floor(d) && fabs(d) < 9e15) { *out = (int64_t)d; return 1; }
    }
    return -1;
}

static int j_num(json_object *o, const char *key, double *out) {
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v) || !v) return 0;
    if (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double)) return -1;
    *out = json_object_get_double(v);
    return 1;
}

static bool j_bool(json_object *o, const char *key, bool dflt) {
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v) || !v) return dflt;
    return json_object_get_boolean(v);
}

/* Append eos id(s) from member KEY (int or list) of o, without duplicates. */
static void add_eos(mj_model_config *cfg, json_object *o, const char *key) {
    json_object *v;
    if (!o || !json_object_object_get_ex(o, key, &v) || !v) return;
    size_t n = json_object_is_type(v, json_type_array) ? json_object_array_length(v) : 1;
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_is_type(v, json_type_array) ? json_object_array_get_idx(v, i) : v;
        if (!json_object_is_type(e, json_type_int)) continue;
        int64_t id = json_object_get_int64(e);
        if (id < 0 || id > INT32_MAX) continue;
        bool dup = false;
        for (int k = 0; k < cfg->n_eos; k++) dup |= cfg->eos_ids[k] == id;
        if (!dup && cfg->n_eos < 8) cfg->eos_ids[cfg->n_eos++] = (int32_t)id;
    }
}

/* Architecture from architectures[0] or model_type. */
static int parse_arch(json_object *j, mj_model_config *cfg, const char *path, char *err, size_t errn) {
    json_object *a;
    const char *name = NULL;
    if (json_object_object_get_ex(j, "architectures", &a) && json_object_is_type(a, json_type_array) &&
        json_object_array_length(a) > 0)
        name = json_object_get_string(json_object_array_get_idx(a, 0));
    if (!name && json_object_object_get_ex(j, "model_type", &a)) name = json_object_get_string(a);
    if (!name) { mj_err(err, errn, "%s: no 'architectures' or 'model_type'", path); return -1; }
    if (!strcmp(name, "LlamaForCausalLM") || !strcmp(name, "llama")) cfg->arch = MJ_ARCH_LLAMA;
    else if (!strcmp(name, "Qwen2ForCausalLM") || !strcmp(name, "qwen2")) cfg->arch = MJ_ARCH_QWEN2;
    else if (!strcmp(name, "Qwen3ForCausalLM") || !strcmp(name, "qwen3")) cfg->arch = MJ_ARCH_QWEN3;
    else {
        mj_err(err, errn, "%s: unsupported architecture '%s' (supported: LlamaForCausalLM, Qwen2ForCausalLM, "
                "Qwen3ForCausalLM)", path, name);
        return -1;
    }
    return 0;
}

/* rope_scaling / rope_parameters object rs (may be NULL). */
static int parse_rope(json_object *rs, mj_model_config *cfg, const char *path, char *err, size_t errn) {
    double d;
    if (!rs || !json_object_is_type(rs, json_type_object)) return 0;
    if (j_num(rs, "rope_theta", &d) == 1) cfg->rope_theta = (float)d;
    json_object *t;
    const char *type = NULL;
    if (json_object_object_get_ex(rs, "rope_type", &t) && t) type = json_object_get_string(t);
    else if (json_object_object_get_ex(rs, "type", &t) && t) type = json_object_get_string(t);
    if (!type || !strcmp(type, "default")) return 0;
    if (strcmp(type, "llama3") != 0) {
        mj_err(err, errn, "%s: rope scaling type '%s' is not supported (only 'llama3')", path, type);
        return -1;
    }
    cfg->rope_type = 1;
    int64_t v;
    if (j_num(rs, "factor", &d) != 1) { mj_err(err, errn, "%s: llama3 rope_scaling needs 'factor'", path); return -1; }
    cfg->rope_factor = (float)d;
    cfg->rope_low_freq_factor = j_num(rs, "low_freq_factor", &d) == 1 ? (float)d : 1.0f;
    cfg->rope_high_freq_factor = j_num(rs, "high_freq_factor", &d) == 1 ? (float)d : 4.0f;
    cfg->rope_orig_max_pos = j_int(rs, "original_max_position_embeddings", &v) == 1 ? (int32_t)v : 8192;
    if (!(cfg->rope_factor > 0) || !(cfg->rope_high_freq_factor > cfg->rope_low_freq_factor) ||
        cfg->rope_orig_max_pos <= 0) {
        mj_err(err, errn, "%s: bad llama3 rope_scaling values", path);
        return -1;
    }
    return 0;
}

/* Required positive int member: 0 ok, -1 with message. */
static int req_int(json_object *j, const char *key, int32_t *out, const char *path, char *err, size_t errn) {
    int64_t v;
    int r = j_int(j, key, &v);
    if (r != 1 || v <= 0 || v > INT32_MAX) {
        mj_err(err, errn, "%s: %s '%s'", path, r == 0 ? "missing" : "bad value of", key);
        return -1;
    }
    *out = (int32_t)v;
    return 0;
}

/* Fill cfg from the parsed config.json object j. */
static int parse_config_obj(json_object *j, mj_model_config *cfg, bool *o_bias, const char *path, char *err,
                            size_t errn) {
    int64_t v;
    double d;
    memset(cfg, 0, sizeof *cfg);
    if (parse_arch(j, cfg, path, err, errn)) return -1;
    if (req_int(j, "hidden_size", &cfg->hidden, path, err, errn) ||
        req_int(j, "intermediate_size", &cfg->intermediate, path, err, errn) ||
        req_int(j, "num_hidden_layers", &cfg->n_layers, path, err, errn) ||
        req_int(j, "num_attention_heads", &cfg->n_heads, path, err, errn) ||
        req_int(j, "vocab_size", &cfg->vocab, path, err, errn))
        return -1;
    cfg->n_kv_heads = cfg->n_heads;
    if (j_int(j, "num_key_value_heads", &v) == 1) cfg->n_kv_heads = (int32_t)v;
    if (j_int(j, "head_dim", &v) == 1) cfg->head_dim = (int32_t)v;
    else cfg->head_dim = cfg->arch == MJ_ARCH_QWEN3 ? 128 : cfg->hidden / cfg->n_heads;
    cfg->max_pos = cfg->arch == MJ_ARCH_LLAMA ? 2048 : 32768;
    if (j_int(j, "max_position_embeddings", &v) == 1 && v > 0 && v <= INT32_MAX) cfg->max_pos = (int32_t)v;
    cfg->rms_eps = j_num(j, "rms_norm_eps", &d) == 1 ? (float)d : 1e-6f;
    cfg->rope_theta = j_num(j, "rope_theta", &d) == 1 ? (float)d : 10000.0f;
    json_object *rs = NULL;
    if (json_object_object_get_ex(j, "rope_parameters", &rs) && parse_rope(rs, cfg, path, err, errn)) return -1;
    if (json_object_object_get_ex(j, "rope_scaling", &rs) && parse_rope(rs, cfg, path, err, errn)) return -1;
    cfg->tie_embeddings = j_bool(j, "tie_word_embeddings", false);
    *o_bias = cfg->arch != MJ_ARCH_QWEN2 && j_bool(j, "attention_bias", false);
    cfg->qkv_bias = cfg->arch == MJ_ARCH_QWEN2 || *o_bias;
    cfg->qk_norm = cfg->arch == MJ_ARCH_QWEN3;
    if (j_bool(j, "mlp_bias", false)) { mj_err(err, errn, "%s: mlp_bias is not supported", path); return -1; }
    if (j_bool(j, "use_sliding_window", false)) {
        mj_err(err, errn, "%s: use_sliding_window is not supported", path);
        return -1;
    }
    cfg->bos_id = j_int(j, "bos_token_id", &v) == 1 && v >= 0 && v <= INT32_MAX ? (int32_t)v : -1;
    add_eos(cfg, j, "eos_token_id");
    return 0;
}

int mj_config_validate(const mj_model_config *c, const char *path, char *err, size_t errn) {
    const int32_t big = 1 << 20;
    if (c->n_layers <= 0 || c->n_layers > 4096 || c->hidden <= 0 || c->hidden > big || c->intermediate <= 0 ||
        c->intermediate > big || c->n_heads <= 0 || c->n_heads > 4096 || c->n_kv_heads <= 0 || c->head_dim <= 0 ||
        c->head_dim > 4096 || (c->head_dim & 1) || c->vocab <= 0 || c->vocab > (1 << 24)) {
        mj_err(err, errn, "%s: implausible model dimensions (layers %d, hidden %d, intermediate %d, heads %d/%d, "
                "head_dim %d, vocab %d)", path, c->n_layers, c->hidden, c->intermediate, c->n_heads, c->n_kv_heads,
                c->head_dim, c->vocab);
        return -1;
    }
    if (c->n_heads % c->n_kv_heads) {
        mj_err(err, errn, "%s: num_attention_heads %d is not a multiple of num_key_value_heads %d", path,
                c->n_heads, c->n_kv_heads);
        return -1;
    }
    if (!(c->rms_eps > 0) || !(c->rope_theta > 0)) {
        mj_err(err, errn, "%s: rms_norm_eps and rope_theta must be positive", path);
        return -1;
    }
    return 0;
}

int mj_config_parse_hf(mj_model_config *cfg, const char *dir, bool *o_bias, char *err, size_t errn) {
    char path[4096];
    snprintf(path, sizeof path, "%s/config.json", dir);
    json_object *j = json_object_from_file(path);
    if (!j || !json_object_is_type(j, json_type_object)) {
        mj_err(err, errn, "%s: cannot read or parse (%s)", path, json_util_get_last_err());
        json_object_put(j);
        return -1;
    }
    int rc = parse_config_obj(j, cfg, o_bias, path, err, errn);
    json_object_put(j);
    if (rc) return -1;
    snprintf(path, sizeof path, "%s/generation_config.json", dir);
    json_object *gc = json_object_from_file(path);
    if (gc && json_object_is_type(gc, json_type_object)) {
        add_eos(cfg, gc, "eos_token_id");
        int64_t v;
        if (cfg->bos_id < 0 && j_int(gc, "bos_token_id", &v) == 1 && v >= 0 && v <= INT32_MAX) cfg->bos_id = (int32_t)v;
    }
    json_object_put(gc);
    snprintf(path, sizeof path, "%s/config.json", dir);
    return mj_config_validate(cfg, path, err, errn);
}
