/* model_make.c — writes small random-weight HF models (config.json,
 * generation_config.json, model.safetensors or N shards + index, optional
 * tokenizer copy) for tests and `maskjit make-model`.  Weights come from a
 * fixed-seed PRNG (xoshiro256** + Box-Muller): linear weights and
 * embeddings normal with std 1/sqrt(fan_in) (hidden for embeddings), norms
 * 1 + 0.1 N(0,1) (final norm 2 + 0.2 N(0,1): logits of std ~2), biases
 * 0.1 N(0,1) — large enough that attention is peaked and greedy choices are
 * well separated, so parity tests are meaningful. */
#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errbuf.h"
#include "model_internal.h"
#include "safetensors.h"

void mj_make_opts_default(mj_make_opts *o) {
    memset(o, 0, sizeof *o);
    o->arch = MJ_ARCH_LLAMA;
    o->layers = 2; o->hidden = 64; o->intermediate = 128; o->heads = 4; o->kv_heads = 2;
    o->head_dim = 16; o->vocab = 512;
    o->dtype = MJ_ST_F32;
    o->shards = 1;
    o->bos_id = 1; o->eos_id = 2;
}

/* ---- PRNG -------------------------------------------------------------------- */
typedef struct prng { uint64_t s[4]; bool has_spare; double spare; } prng;

static uint64_t splitmix(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t prng_next(prng *r) {
    uint64_t *s = r->s, res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t; s[3] = rotl(s[3], 45);
    return res;
}

/* Standard normal (Box-Muller, both values used). */
static double prng_normal(prng *r) {
    if (r->has_spare) { r->has_spare = false; return r->spare; }
    double u = ((double)(prng_next(r) >> 11) + 1.0) * 0x1p-53, v = (double)(prng_next(r) >> 11) * 0x1p-53;
    double m = sqrt(-2.0 * log(u));
    r->spare = m * sin(2 * M_PI * v);
    r->has_spare = true;
    return m * cos(2 * M_PI * v);
}

/* ---- tensor list ---------------------------------------------------------------- */
typedef struct wlist { mj_st_wtensor *t; float **bufs; char **names; int64_t n, cap; } wlist;

/* Append a tensor of shape [rows] or [rows x cols] filled with mean + std N(0,1). */
static int wl_add(wlist *w, prng *r, int dtype, const char *name, int64_t rows, int64_t cols, double mean, double std) {
    if (w->n == w->cap) {
        int64_t nc = w->cap ? w->cap * 2 : 32;
        mj_st_wtensor *nt = realloc(w->t, (size_t)nc * sizeof *nt);
        if (nt) w->t = nt;
        float **nb = realloc(w->bufs, (size_t)nc * sizeof *nb);
        if (nb) w->bufs = nb;
        char **nn = realloc(w->names, (size_t)nc * sizeof *nn);
        if (nn) w->names = nn;
        if (!nt || !nb || !nn) return -1;
        w->cap = nc;
    }
    int64_t n = rows * (cols ? cols : 1);
    float *b = malloc((size_t)n * sizeof *b);
    char *nm = strdup(name);
    if (!b || !nm) { free(b); free(nm); return -1; }
    for (int64_t i = 0; i < n; i++) b[i] = (float)(mean + std * prng_normal(r));
    mj_st_wtensor *t = &w->t[w->n];
    memset(t, 0, sizeof *t);
    t->name = nm; t->dtype = dtype; t->data = b;
    t->n_dims = cols ? 2 : 1;
    t->shape[0] = rows; t->shape[1] = cols;
    w->bufs[w->n] = b; w->names[w->n] = nm;
    w->n++;
    return 0;
}

static void wl_free(wlist *w) {
    for (int64_t i = 0; i < w->n; i++) { free(w->bufs[i]); free(w->names[i]); }
    free(w->t); free(w->bufs); free(w->names);
}

/* Generate every tensor of the model in HF order. */
static int make_tensors(const mj_make_opts *o, wlist *w) {
    prng r = {{0}, false, 0};
    uint64_t x = o->seed ^ 0x6d61736b6a6974ull;
    for (int i = 0; i < 4; i++) r.s[i] = splitmix(&x);
    int64_t H = o->hidden, I = o->intermediate, q = (int64_t)o->heads * o->head_dim,
            kv = (int64_t)o->kv_heads * o->head_dim;
    int dt = o->dtype;
    char nm[160];
    int rc = wl_add(w, &r, dt, "model.embed_tokens.weight", o->vocab, H, 0, 1 / sqrt((double)H));
    for (int l = 0; !rc && l < o->layers; l++) {
#define ADD(suffix, rows, cols, mean, std) \
    (snprintf(nm, sizeof nm, "model.layers.%d.%s", l, suffix), rc = rc ? rc : wl_add(w, &r, dt, nm, rows, cols, mean, std))
        ADD("input_layernorm.weight", H, 0, 1.0, 0.1);
        ADD("self_attn.q_proj.weight", q, H, 0, 1 / sqrt((double)H));
        ADD("self_attn.k_proj.weight", kv, H, 0, 1 / sqrt((double)H));
        ADD("self_attn.v_proj.weight", kv, H, 0, 1 / sqrt((double)H));
        if (o->arch == MJ_ARCH_QWEN2) {
            ADD("self_attn.q_proj.bias", q, 0, 0, 0.1);
            ADD("self_attn.k_proj.bias", kv, 0, 0, 0.1);
            ADD("self_attn.v_proj.bias", kv, 0, 0, 0.1);
        }
        if (o->arch == MJ_ARCH_QWEN3) {
            ADD("self_attn.q_norm.weight", o->head_dim, 0, 1.0, 0.1);
            ADD("self_attn.k_norm.weight", o->head_dim, 0, 1.0, 0.1);
        }
        ADD("self_attn.o_proj.weight", H, q, 0, 1 / sqrt((double)q));
        ADD("post_attention_layernorm.weight", H, 0, 1.0, 0.1);
        ADD("mlp.gate_proj.weight", I, H, 0, 1 / sqrt((double)H));
        ADD("mlp.up_proj.weight", I, H, 0, 1 / sqrt((double)H));
        ADD("mlp.down_proj.weight", H, I, 0, 1 / sqrt((double)I));
#undef ADD
    }
    if (!rc) rc = wl_add(w, &r, dt, "model.norm.weight", H, 0, 2.0, 0.2);
    if (!rc && !o->tie) rc = wl_add(w, &r, dt, "lm_head.weight", o->vocab, H, 0, 1 / sqrt((double)H));
    return rc;
}

/* ---- JSON files -------------------------------------------------------------- */
static void j_add_int(json_object *o, const char *k, int64_t v) { json_object_object_add(o, k, json_object_new_int64(v)); }

static void j_add_dbl(json_object *o, const char *k, double v, const char *text) {
    json_object_object_add(o, k, json_object_new_double_s(v, text));
}

static json_object *config_json(const mj_make_opts *o) {
    static const char *const archs[] = {"LlamaForCausalLM", "Qwen2ForCausalLM", "Qwen3ForCausalLM"};
    json_object *j = json_object_new_object(), *a = json_object_new_array();
    json_object_array_add(a, json_object_new_string(archs[o->arch]));
    json_object_object_add(j, "architectures", a);
    json_object_object_add(j, "model_type", json_object_new_string(mj_arch_name(o->arch)));
    j_add_int(j, "hidden_size", o->hidden);
    j_add_int(j, "intermediate_size", o->intermediate);
    j_add_int(j, "num_hidden_layers", o->layers);
    j_add_int(j, "num_attention_heads", o->heads);
    j_add_int(j, "num_key_value_heads", o->kv_heads);
    j_add_int(j, "head_dim", o->head_dim);
    j_add_int(j, "vocab_size", o->vocab);
    j_add_int(j, "max_position_embeddings", 4096);
    j_add_dbl(j, "rms_norm_eps", 1e-5, "1e-05");
    j_add_dbl(j, "rope_theta", 10000.0, "10000.0");
    if (o->rope_llama3) {
        json_object *rs = json_object_new_object();
        json_object_object_add(rs, "rope_type", json_object_new_string("llama3"));
        j_add_dbl(rs, "factor", 8.0, "8.0");
        j_add_dbl(rs, "low_freq_factor", 1.0, "1.0");
        j_add_dbl(rs, "high_freq_factor", 4.0, "4.0");
        j_add_int(rs, "original_max_position_embeddings", 64);
        json_object_object_add(j, "rope_scaling", rs);
    }
    json_object_object_add(j, "hidden_act", json_object_new_string("silu"));
    json_object_object_add(j, "tie_word_embeddings", json_object_new_boolean(o->tie));
    if (o->arch != MJ_ARCH_QWEN2) json_object_object_add(j, "attention_bias", json_object_new_boolean(0));
    if (o->arch == MJ_ARCH_LLAMA) json_object_object_add(j, "mlp_bias", json_object_new_boolean(0));
    if (o->arch != MJ_ARCH_LLAMA) json_object_object_add(j, "use_sliding_window", json_object_new_boolean(0));
    j_add_dbl(j, "attention_dropout", 0.0, "0.0");
    j_add_dbl(j, "initializer_range", 0.02, "0.02");
    if (o->bos_id >= 0) j_add_int(j, "bos_token_id", o->bos_id);
    if (o->eos_id >= 0) j_add_int(j, "eos_token_id", o->eos_id);
    json_object_object_add(j, "torch_dtype", json_object_new_string(
        o->dtype == MJ_ST_F16 ? "float16" : o->dtype == MJ_ST_BF16 ? "bfloat16" : "float32"));
    json_object_object_add(j, "use_cache", json_object_new_boolean(1));
    return j;
}

static int write_json(json_object *j, const char *dir, const char *name, char *err, size_t errn) {
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    int rc = json_object_to_file_ext(p, j, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED);
    json_object_put(j);
    if (rc) mj_err(err, errn, "cannot write %s: %s", p, json_util_get_last_err());
    return rc ? -1 : 0;
}

/* Write w as N shards + model.safetensors.index.json (N > 1) or one file. */
static int write_weights(const wlist *w, int shards, const char *dir, char *err, size_t errn) {
    char p[4096];
    if (shards <= 1) {
        snprintf(p, sizeof p, "%s/model.safetensors", dir);
        return mj_st_write(p, w->t, w->n, err, errn);
    }
    json_object *idx = json_object_new_object(), *meta = json_object_new_object(), *wm = json_object_new_object();
    int64_t total = 0;
    for (int k = 0; k < shards; k++) {
        int64_t a = w->n * k / shards, b = w->n * (k + 1) / shards;
        char fname[64];
        snprintf(fname, sizeof fname, "model-%05d-of-%05d.safetensors", k + 1, shards);
        snprintf(p, sizeof p, "%s/%s", dir, fname);
        if (mj_st_write(p, w->t + a, b - a, err, errn)) { json_object_put(idx); json_object_put(meta); json_object_put(wm); return -1; }
        for (int64_t i = a; i < b; i++) {
            json_object_object_add(wm, w->t[i].name, json_object_new_string(fname));
            int64_t n = w->t[i].shape[0] * (w->t[i].n_dims == 2 ? w->t[i].shape[1] : 1);
            total += n * (w->t[i].dtype == MJ_ST_F32 ? 4 : 2);
        }
    }
    j_add_int(meta, "total_size", total);
    json_object_object_add(idx, "metadata", meta);
    json_object_object_add(idx, "weight_map", wm);
    return write_json(idx, dir, "model.safetensors.index.json", err, errn);
}

/* Copy file SRC to DIR/NAME. */
static int copy_file(const char *src, const char *dir, const char *name, char *err, size_t errn) {
    char dst[4096];
    snprintf(dst, sizeof dst, "%s/%s", dir, name);
    FILE *in = fopen(src, "rb"), *out = in ? fopen(dst, "wb") : NULL;
    bool ok = in && out;
    char buf[65536];
    size_t n;
    while (ok && (n = fread(buf, 1, sizeof buf, in)) > 0) ok = fwrite(buf, 1, n, out) == n;
    if (in) fclose(in);
    if (out && fclose(out)) ok = false;
    if (!ok) mj_err(err, errn, "cannot copy %s to %s: %s", src, dst, strerror(errno));
    return ok ? 0 : -1;
}

/* Copy tokenizer.json (+ tokenizer_config.json, special_tokens_map.json when
 * present) from a model dir or from beside a tokenizer.json path. */
static int copy_tokenizer(const char *path, const char *out, char *err, size_t errn) {
    struct stat st;
    char dir[4096], p[4200];
    bool is_dir = stat(path, &st) == 0 && S_ISDIR(st.st_mode);
    if (is_dir) snprintf(dir, sizeof dir, "%s", path);
    else {
        snprintf(dir, sizeof dir, "%s", path);
        char *slash = strrchr(dir, '/');
        if (slash) *slash = 0; else snprintf(dir, sizeof dir, ".");
        if (copy_file(path, out, "tokenizer.json", err, errn)) return -1;
    }
    static const char *const names[] = {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"};
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        if (i == 0 && !is_dir) continue;
        if (access(p, R_OK) != 0) {
            if (i == 0) { mj_err(err, errn, "no tokenizer.json in %s", dir); return -1; }
            continue;
        }
        if (copy_file(p, out, names[i], err, errn)) return -1;
    }
    return 0;
}

int mj_model_make_random(const mj_make_opts *o, const char *out, char *err, size_t errn) {
    mj_model_config c = {.arch = o->arch, .n_layers = o->layers, .hidden = o->hidden, .intermediate = o->intermediate,
                         .n_heads = o->heads, .n_kv_heads = o->kv_heads, .head_dim = o->head_dim, .vocab = o->vocab,
                         .rms_eps = 1e-5f, .rope_theta = 1e4f};
    if (mj_config_validate(&c, "make-model", err, errn)) return -1;
    if (o->shards < 1 || o->shards > 99) { mj_err(err, errn, "make-model: --shards must be 1..99"); return -1; }
    if (mkdir(out, 0777) != 0 && errno != EEXIST) {
        mj_err(err, errn, "cannot create %s: %s", out, strerror(errno));
        return -1;
    }
    wlist w = {0};
    int rc = make_tensors(o, &w);
    if (rc) mj_err(err, errn, "make-model: out of memory");
    if (!rc) rc = write_weights(&w, o->shards, out, err, errn);
    wl_free(&w);
    if (!rc) rc = write_json(config_json(o), out, "config.json", err, errn);
    if (!rc) {
        json_object *g = json_object_new_object();
        if (o->bos_id >= 0) j_add_int(g, "bos_token_id", o->bos_id);
        if (o->eos_id >= 0) j_add_int(g, "eos_token_id", o->eos_id);
        rc = write_json(g, out, "generation_config.json", err, errn);
    }
    if (!rc && o->tokenizer) rc = copy_tokenizer(o->tokenizer, out, err, errn);
    return rc;
}
