/* test_runtime_models.c — HF model loading: safetensors in f32/f16/bf16,
 * sharded, random models from mj_model_make_random (deterministic), config
 * parsing (llama3 rope scaling, EOS lists, rope_parameters, defaults) and its
 * errors (unknown architecture, missing key, missing or misshapen tensor,
 * truncated or corrupt files), and the committed parity fixture models. */
#define _GNU_SOURCE
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gguf.h"
#include "model.h"
#include "safetensors.h"
#include "support/testlib.h"

static char tmp_root[256];

static int rm_cb(const char *p, const struct stat *s, int f, struct FTW *w) {
    (void)s; (void)f; (void)w;
    return remove(p);
}

static const char *tmp_path(const char *rel) {
    static char buf[8][512];
    static int k;
    char *b = buf[k++ & 7];
    snprintf(b, sizeof buf[0], "%s/%s", tmp_root, rel);
    return b;
}

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (!f) { CHECKF(0, "cannot write %s", path); return; }
    fputs(text, f);
    fclose(f);
}

static long file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* Copy the first n bytes of src to dst. */
static void copy_prefix(const char *src, const char *dst, long n) {
    FILE *in = fopen(src, "rb"), *out = fopen(dst, "wb");
    for (long i = 0; in && out && i < n; i++) {
        int c = fgetc(in);
        if (c == EOF) break;
        fputc(c, out);
    }
    if (in) fclose(in);
    if (out) fclose(out);
}

static bool same_file(const char *a, const char *b) {
    FILE *x = fopen(a, "rb"), *y = fopen(b, "rb");
    bool same = x && y;
    while (same) {
        int c = fgetc(x), d = fgetc(y);
        if (c != d) same = false;
        if (c == EOF || d == EOF) break;
    }
    if (x) fclose(x);
    if (y) fclose(y);
    return same;
}

static mj_make_opts small(mj_arch arch, int dtype, int shards, uint64_t seed) {
    mj_make_opts o;
    mj_make_opts_default(&o);
    o.arch = arch; o.dtype = dtype; o.shards = shards; o.seed = seed;
    return o;
}

static int make(const mj_make_opts *o, const char *rel) {
    char err[512] = "";
    int rc = mj_model_make_random(o, tmp_path(rel), err, sizeof err);
    CHECKF(rc == 0, "make %s: %s", rel, err);
    return rc;
}

/* Every weight of a equals conv(weight of b) for each element. */
static bool weights_match(const mj_model *a, const mj_model *b, int dtype) {
    const mj_model_config *c = &a->cfg;
    size_t n_embed = (size_t)c->vocab * c->hidden;
    for (size_t i = 0; i < n_embed; i++) {
        float want = b->embed[i];
        if (dtype == MJ_ST_F16) want = mj_f16_to_f32(mj_f32_to_f16(want));
        if (dtype == MJ_ST_BF16) want = mj_bf16_to_f32(mj_f32_to_bf16(want));
        if (a->embed[i] != want) return false;
    }
    size_t nq = (size_t)c->n_heads * c->head_dim * c->hidden, nd = (size_t)c->hidden * c->intermediate;
    for (int l = 0; l < c->n_layers; l++) {
        const mj_layer *x = &a->layers[l], *y = &b->layers[l];
        for (size_t i = 0; i < nq; i++) {
            float want = y->wq[i];
            if (dtype == MJ_ST_F16) want = mj_f16_to_f32(mj_f32_to_f16(want));
            if (dtype == MJ_ST_BF16) want = mj_bf16_to_f32(mj_f32_to_bf16(want));
            if (x->wq[i] != want) return false;
        }
        if (dtype == MJ_ST_F32 && memcmp(x->w_down, y->w_down, nd * sizeof(float))) return false;
    }
    return true;
}

static void test_dtypes_and_shards(void) {
    mj_make_opts o = small(MJ_ARCH_LLAMA, MJ_ST_F32, 1, 5);
    make(&o, "f32");
    o.dtype = MJ_ST_F16; make(&o, "f16");
    o.dtype = MJ_ST_BF16; make(&o, "bf16");
    o.dtype = MJ_ST_F32; o.shards = 3; make(&o, "sharded");
    CHECK(access(tmp_path("sharded/model.safetensors.index.json"), R_OK) == 0);
    CHECK(access(tmp_path("sharded/model-00003-of-00003.safetensors"), R_OK) == 0);
    mj_model ref, m;
    char err[512] = "";
    CHECKF(mj_model_load(&ref, tmp_path("f32"), err, sizeof err) == 0, "%s", err);
    const char *dirs[] = {"f16", "bf16", "sharded"};
    int dts[] = {MJ_ST_F16, MJ_ST_BF16, MJ_ST_F32};
    for (int i = 0; i < 3; i++) {
        int rc = mj_model_load(&m, tmp_path(dirs[i]), err, sizeof err);
        CHECKF(rc == 0, "%s: %s", dirs[i], err);
        if (rc) continue;
        CHECKF(weights_match(&m, &ref, dts[i]), "%s weights differ", dirs[i]);
        CHECK(m.cfg.n_layers == 2 && m.cfg.hidden == 64 && !m.from_gguf);
        CHECK(m.lm_head != m.embed);
        mj_model_free(&m);
    }
    /* determinism: same seed, same bytes; other seed, other bytes */
    o = small(MJ_ARCH_LLAMA, MJ_ST_F32, 1, 5);
    make(&o, "f32b");
    CHECK(same_file(tmp_path("f32/model.safetensors"), tmp_path("f32b/model.safetensors")));
    o.seed = 6;
    make(&o, "f32c");
    CHECK(!same_file(tmp_path("f32/model.safetensors"), tmp_path("f32c/model.safetensors")));
    mj_model_free(&ref);
}

static void test_architectures(void) {
    char err[512] = "";
    mj_make_opts o = small(MJ_ARCH_QWEN2, MJ_ST_F32, 1, 9);
    o.tie = true;
    o.head_dim = 32;
    make(&o, "qwen2");
    mj_model m;
    int rc = mj_model_load(&m, tmp_path("qwen2"), err, sizeof err);
    CHECKF(rc == 0, "%s", err);
    if (!rc) {
        CHECK(m.cfg.arch == MJ_ARCH_QWEN2 && m.cfg.qkv_bias && !m.cfg.qk_norm && m.cfg.tie_embeddings);
        CHECK(m.lm_head == m.embed && m.layers[1].bq && m.layers[1].bv && !m.layers[0].q_norm);
        CHECK(m.cfg.head_dim == 32);
        mj_model_free(&m);
    }
    o = small(MJ_ARCH_QWEN3, MJ_ST_BF16, 2, 10);
    o.rope_llama3 = true;
    make(&o, "qwen3");
    rc = mj_model_load(&m, tmp_path("qwen3"), err, sizeof err);
    CHECKF(rc == 0, "%s", err);
    if (!rc) {
        CHECK(m.cfg.arch == MJ_ARCH_QWEN3 && m.cfg.qk_norm && !m.cfg.qkv_bias && m.layers[1].k_norm);
        CHECK(m.cfg.rope_type == 1 && m.cfg.rope_factor == 8.0f && m.cfg.rope_orig_max_pos == 64);
        CHECK(m.cfg.bos_id == 1 && m.cfg.n_eos == 1 && m.cfg.eos_ids[0] == 2);
        CHECK(fabsf(m.layers[0].q_norm[0] - 1.0f) < 0.5f);
        mj_model_free(&m);
    }
}

/* Write DIR/config.json with TEXT and parse it; returns rc, err filled. */
static int parse_cfg(const char *text, mj_model_config *c, char *err, size_t errn) {
    mkdir(tmp_path("cfg"), 0777);
    remove(tmp_path("cfg/generation_config.json"));
    write_text(tmp_path("cfg/config.json"), text);
    err[0] = 0;
    return mj_model_load_config(c, tmp_path("cfg"), err, errn);
}

#define BASE "\"hidden_size\": 64, \"intermediate_size\": 128, \"num_hidden_layers\": 2, " \
             "\"num_attention_heads\": 4, \"vocab_size\": 100"

static void test_config(void) {
    mj_model_config c;
    char err[512];
    int rc = parse_cfg("{\"architectures\": [\"LlamaForCausalLM\"], " BASE ", \"num_key_value_heads\": 2, "
                       "\"rope_theta\": 500000.0, \"rms_norm_eps\": 1e-05, \"tie_word_embeddings\": true, "
                       "\"bos_token_id\": 128000, \"eos_token_id\": [128001, 128008, 128009], "
                       "\"rope_scaling\": {\"factor\": 32.0, \"high_freq_factor\": 4.0, \"low_freq_factor\": 1.0, "
                       "\"original_max_position_embeddings\": 8192, \"rope_type\": \"llama3\"}, "
                       "\"max_position_embeddings\": 131072}", &c, err, sizeof err);
    CHECKF(rc == 0, "%s", err);
    CHECK(c.arch == MJ_ARCH_LLAMA && c.n_kv_heads == 2 && c.head_dim == 16 && c.rope_theta == 500000.0f);
    CHECK(c.rope_type == 1 && c.rope_factor == 32.0f && c.rope_low_freq_factor == 1.0f &&
          c.rope_high_freq_factor == 4.0f && c.rope_orig_max_pos == 8192 && c.max_pos == 131072);
    CHECK(c.tie_embeddings && c.bos_id == 128000 && c.n_eos == 3 && c.eos_ids[2] == 128009);
    CHECK(!c.qkv_bias && !c.qk_norm && fabsf(c.rms_eps - 1e-5f) < 1e-9f);
    /* generation_config adds EOS ids without duplicates */
    write_text(tmp_path("cfg/generation_config.json"), "{\"eos_token_id\": [128009, 7]}");
    rc = mj_model_load_config(&c, tmp_path("cfg"), err, sizeof err);
    CHECK(rc == 0 && c.n_eos == 4 && c.eos_ids[3] == 7);
    /* transformers-5 rope_parameters form; qwen3 default head_dim 128 */
    rc = parse_cfg("{\"model_type\": \"qwen3\", " BASE ", \"rope_parameters\": {\"rope_theta\": 1000000.0, "
                   "\"rope_type\": \"default\"}}", &c, err, sizeof err);
    CHECKF(rc == 0, "%s", err);
    CHECK(c.arch == MJ_ARCH_QWEN3 && c.head_dim == 128 && c.rope_theta == 1e6f && c.rope_type == 0 && c.qk_norm);
    CHECK(c.bos_id == -1 && c.n_eos == 0 && c.n_kv_heads == 4);
    rc = parse_cfg("{\"architectures\": [\"Qwen2ForCausalLM\"], " BASE ", \"eos_token_id\": 5}", &c, err, sizeof err);
    CHECK(rc == 0 && c.qkv_bias && c.head_dim == 16 && c.n_eos == 1 && c.eos_ids[0] == 5);
    /* errors */
    rc = parse_cfg("{\"architectures\": [\"GPT2LMHeadModel\"], " BASE "}", &c, err, sizeof err);
    CHECKF(rc != 0 && strstr(err, "GPT2LMHeadModel") && strstr(err, "unsupported architecture"), "%s", err);
    rc = parse_cfg("{\"model_type\": \"llama\", \"intermediate_size\": 1, \"num_hidden_layers\": 1, "
                   "\"num_attention_heads\": 1, \"vocab_size\": 4}", &c, err, sizeof err);
    CHECKF(rc != 0 && strstr(err, "hidden_size"), "%s", err);
    rc = parse_cfg("{\"model_type\": \"llama\", " BASE ", \"rope_scaling\": {\"type\": \"yarn\", \"factor\": 4}}",
                   &c, err, sizeof err);
    CHECKF(rc != 0 && strstr(err, "yarn"), "%s", err);
    rc = parse_cfg("{\"model_type\": \"llama\", " BASE ", \"num_key_value_heads\": 3}", &c, err, sizeof err);
    CHECKF(rc != 0 && strstr(err, "multiple"), "%s", err);
    rc = parse_cfg("{\"model_type\": \"llama\", " BASE, &c, err, sizeof err);
    CHECKF(rc != 0 && strstr(err, "config.json"), "%s", err);
    rc = parse_cfg("{\"model_type\": \"llama\", " BASE ", \"hidden_size\": -4}", &c, err, sizeof err);
    CHECKF(rc != 0, "negative hidden accepted");
    rc = mj_model_load_config(&c, tmp_path("nonexistent"), err, sizeof err);
    CHECKF(rc != 0 && strstr(err, "nonexistent"), "%s", err);
}

/* Rewrite DIR/model.safetensors without tensor DROP (and with SHAPE_OF
 * given a wrong shape when non-NULL). */
static void rewrite_without(const char *dir, const char *drop, const char *bad_shape) {
    char err[256], p[512];
    snprintf(p, sizeof p, "%s/model.safetensors", dir);
    mj_st *s = mj_st_open(p, err, sizeof err);
    CHECKF(s != NULL, "%s", err);
    if (!s) return;
    int64_t n = mj_st_n_tensors(s), k = 0;
    mj_st_wtensor *w = calloc((size_t)n, sizeof *w);
    float **bufs = calloc((size_t)n, sizeof *bufs);
    for (int64_t i = 0; i < n; i++) {
        const mj_st_tensor *t = mj_st_tensor_at(s, i);
        if (drop && !strcmp(t->name, drop)) continue;
        bufs[k] = malloc(t->n_elems * sizeof(float));
        mj_st_to_f32(t, bufs[k], err, sizeof err);
        w[k] = (mj_st_wtensor){.name = t->name, .dtype = MJ_ST_F32, .n_dims = t->n_dims, .data = bufs[k]};
        memcpy(w[k].shape, t->shape, sizeof t->shape);
        if (bad_shape && !strcmp(t->name, bad_shape)) { w[k].shape[0] = 1; w[k].shape[1] = (int64_t)t->n_elems; }
        k++;
    }
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.new", p);
    CHECK(mj_st_write(tmp, w, k, err, sizeof err) == 0);
    mj_st_free(s);
    rename(tmp, p);
    for (int64_t i = 0; i < k; i++) free(bufs[i]);
    free(bufs);
    free(w);
}

static void test_load_errors(void) {
    char err[512];
    mj_model m;
    mj_make_opts o = small(MJ_ARCH_LLAMA, MJ_ST_F32, 1, 1);
    make(&o, "miss");
    rewrite_without(tmp_path("miss"), "model.layers.1.mlp.up_proj.weight", NULL);
    CHECK(mj_model_load(&m, tmp_path("miss"), err, sizeof err) != 0);
    CHECKF(strstr(err, "missing tensor 'model.layers.1.mlp.up_proj.weight'") != NULL, "%s", err);
    make(&o, "shape");
    rewrite_without(tmp_path("shape"), NULL, "model.layers.0.self_attn.k_proj.weight");
    CHECK(mj_model_load(&m, tmp_path("shape"), err, sizeof err) != 0);
    CHECKF(strstr(err, "model.layers.0.self_attn.k_proj.weight") && strstr(err, "[32, 64]"), "%s", err);
    make(&o, "nolm");  /* untied config, no lm_head */
    rewrite_without(tmp_path("nolm"), "lm_head.weight", NULL);
    CHECK(mj_model_load(&m, tmp_path("nolm"), err, sizeof err) != 0 && strstr(err, "lm_head.weight"));
    /* truncated / corrupt safetensors files */
    make(&o, "trunc");
    char full[512], whole[512];
    snprintf(full, sizeof full, "%s", tmp_path("trunc/model.safetensors"));
    snprintf(whole, sizeof whole, "%s", tmp_path("trunc/full.bin"));
    long n = file_size(full);
    rename(full, whole);
    long cuts[] = {0, 3, 8, 20, 200, n / 2, n - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        copy_prefix(whole, full, cuts[i]);
        err[0] = 0;
        CHECKF(mj_model_load(&m, tmp_path("trunc"), err, sizeof err) != 0 && err[0], "cut %ld accepted", cuts[i]);
    }
    FILE *f = fopen(full, "wb");
    uint64_t huge = 1ull << 62;
    fwrite(&huge, 8, 1, f);
    fputs("{}", f);
    fclose(f);
    CHECK(mj_model_load(&m, tmp_path("trunc"), err, sizeof err) != 0 && strstr(err, "header length"));
    f = fopen(full, "wb");
    const char *hdr = "{\"a\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, 1600]}}";
    uint64_t hl = strlen(hdr);
    fwrite(&hl, 8, 1, f);
    fputs(hdr, f);
    fclose(f);
    CHECK(mj_st_open(full, err, sizeof err) == NULL && strstr(err, "'a'"));
    /* shard index naming a missing shard, or escaping the directory */
    o.shards = 2;
    make(&o, "shardbad");
    remove(tmp_path("shardbad/model-00002-of-00002.safetensors"));
    CHECK(mj_model_load(&m, tmp_path("shardbad"), err, sizeof err) != 0 && strstr(err, "model-00002-of-00002"));
    write_text(tmp_path("shardbad/model.safetensors.index.json"),
               "{\"weight_map\": {\"model.norm.weight\": \"../x.safetensors\"}}");
    CHECK(mj_model_load(&m, tmp_path("shardbad"), err, sizeof err) != 0 && strstr(err, "bad shard"));
    mkdir(tmp_path("empty"), 0777);
    write_text(tmp_path("empty/config.json"), "{\"model_type\": \"llama\", " BASE "}");
    CHECK(mj_model_load(&m, tmp_path("empty"), err, sizeof err) != 0 && strstr(err, "model.safetensors"));
}

static void test_st_roundtrip(void) {
    float a[6] = {1, -2, 3.5f, 0.1f, 65504, -0.0f}, b[3] = {1e-8f, 2, 3};
    mj_st_wtensor w[3] = {
        {.name = "x.\"quoted\"\\name", .dtype = MJ_ST_F32, .n_dims = 2, .shape = {2, 3}, .data = a},
        {.name = "half", .dtype = MJ_ST_F16, .n_dims = 1, .shape = {6}, .data = a},
        {.name = "scalar3", .dtype = MJ_ST_BF16, .n_dims = 1, .shape = {3}, .data = b},
    };
    char err[256];
    const char *p = tmp_path("rt.safetensors");
    CHECK(mj_st_write(p, w, 3, err, sizeof err) == 0);
    mj_st *s = mj_st_open(p, err, sizeof err);
    CHECKF(s != NULL, "%s", err);
    if (!s) return;
    CHECK(mj_st_n_tensors(s) == 3);
    const mj_st_tensor *t = mj_st_find(s, "x.\"quoted\"\\name");
    float out[6];
    CHECK(t && t->n_dims == 2 && t->shape[1] == 3 && mj_st_to_f32(t, out, err, sizeof err) == 0 && !memcmp(out, a, 24));
    t = mj_st_find(s, "half");
    CHECK(t && t->dtype == MJ_ST_F16 && !strcmp(t->dtype_name, "F16") && mj_st_to_f32(t, out, err, sizeof err) == 0);
    CHECK(out[0] == 1 && out[2] == 3.5f && fabsf(out[3] - 0.1f) < 1e-4f && out[4] == 65504 && signbit(out[5]));
    t = mj_st_find(s, "scalar3");
    CHECK(t && mj_st_to_f32(t, out, err, sizeof err) == 0 && out[1] == 2 && fabsf(out[0] - 1e-8f) < 1e-10f);
    CHECK(mj_st_find(s, "nope") == NULL);
    mj_st_free(s);
}

static void test_fixture_models(void) {
    static const struct { const char *dir; mj_arch arch; int rope; bool tie; int layers; } fx[] = {
        {"tests/fixtures/llama/model", MJ_ARCH_LLAMA, 1, false, 2},
        {"tests/fixtures/qwen2/model", MJ_ARCH_QWEN2, 0, true, 2},
        {"tests/fixtures/qwen3/model", MJ_ARCH_QWEN3, 0, false, 3},
    };
    for (size_t i = 0; i < sizeof fx / sizeof fx[0]; i++) {
        mj_model m;
        char err[512];
        int rc = mj_model_load(&m, mj_test_path(fx[i].dir), err, sizeof err);
        CHECKF(rc == 0, "%s: %s", fx[i].dir, err);
        if (rc) continue;
        CHECK(m.cfg.arch == fx[i].arch && m.cfg.rope_type == fx[i].rope && m.cfg.tie_embeddings == fx[i].tie);
        CHECK(m.cfg.n_layers == fx[i].layers && m.cfg.vocab == 512 && m.cfg.n_kv_heads == 2);
        mj_model_free(&m);
        char p[600];
        mj_model_config c;
        snprintf(p, sizeof p, "%s/config.json", mj_test_path(fx[i].dir));   /* a file inside means the dir */
        CHECKF(mj_model_load_config(&c, p, err, sizeof err) == 0 && c.arch == fx[i].arch, "%s", err);
    }
}

int main(void) {
    snprintf(tmp_root, sizeof tmp_root, "/tmp/mj_models_XXXXXX");
    if (!mkdtemp(tmp_root)) SKIP_ALL("cannot create a temporary directory");
    test_st_roundtrip();
    test_dtypes_and_shards();
    test_architectures();
    test_config();
    test_load_errors();
    test_fixture_models();
    nftw(tmp_root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    return mj_test_finish();
}
