/* test_runtime_gguf.c — the GGUF reader (runtime/gguf.h) on small files
 * written by tests/unit/support/gguf_writer: every metadata type, string
 * arrays, alignment, dequantization of F32/F16/BF16/Q8_0/Q4_0/Q4_1 against
 * hand-computed values, rejection of malformed files (every truncation,
 * random corruption: never a crash), GGUF models (llama with llama.cpp's
 * Q/K row permutation undone, qwen2 bias, qwen3 q/k norm, tied) equal to
 * the HF model they were written from, and SmolLM2-135M when models/ has it. */
#define _GNU_SOURCE
#include <ftw.h>
#include <glob.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "gguf.h"
#include "model.h"
#include "support/gguf_writer.h"
#include "support/testlib.h"

static uint16_t h16(float f) { return mj_f32_to_f16(f); }

/* A file exercising every metadata type and every dequantizable tensor type. */
static uint8_t *make_sample(size_t *len, uint32_t alignment) {
    tgw w;
    tgw_init(&w);
    w.alignment = alignment;
    if (alignment != 32) tgw_u32(&w, "general.alignment", alignment);
    tgw_str(&w, "general.architecture", "llama");
    uint8_t u8 = 200; int8_t i8 = -100; uint16_t u16 = 60000; int16_t i16 = -30000;
    uint64_t u64 = 1ull << 40; int64_t i64 = -5; double f64 = 2.5;
    tgw_raw(&w, "t.u8", 0, &u8, 1); tgw_raw(&w, "t.i8", 1, &i8, 1);
    tgw_raw(&w, "t.u16", 2, &u16, 2); tgw_raw(&w, "t.i16", 3, &i16, 2);
    tgw_u32(&w, "t.u32", 4000000000u); tgw_i32(&w, "t.i32", -7); tgw_f32(&w, "t.f32", 0.125f);
    tgw_bool(&w, "t.bool", 1);
    tgw_raw(&w, "t.u64", 10, &u64, 8); tgw_raw(&w, "t.i64", 11, &i64, 8); tgw_raw(&w, "t.f64", 12, &f64, 8);
    tgw_str(&w, "t.str", "héllo");
    const char *toks[] = {"<s>", "", "Ġworld", "日本"};
    tgw_arr_str(&w, "tokenizer.ggml.tokens", toks, 4);
    int32_t ty[] = {3, 1, 1, -2};
    tgw_arr_i32(&w, "tokenizer.ggml.token_type", ty, 4);
    float sc[] = {0.5f, -1.0f, 2.0f, 3.0f};
    tgw_arr_f32(&w, "tokenizer.ggml.scores", sc, 4);
    /* F32 [3] */
    float f32v[3] = {1.5f, -2.25f, 1e-3f};
    tgw_tensor_add(&w, "f32", MJ_GGML_F32, 1, (uint64_t[]){3}, f32v, 12);
    uint16_t f16v[5] = {0x3C00, 0xC000, 0x3555, 0x0001, 0x7BFF};
    tgw_tensor_add(&w, "f16", MJ_GGML_F16, 1, (uint64_t[]){5}, f16v, 10);
    uint16_t bf[3] = {0x3F80, 0xC040, 0x3E80};
    tgw_tensor_add(&w, "bf16", MJ_GGML_BF16, 1, (uint64_t[]){3}, bf, 6);
    /* two blocks each: block b has d = 0.5 / (b + 1) */
    uint8_t q8[2][34], q40[2][18], q41[2][20];
    for (int b = 0; b < 2; b++) {
        uint16_t d = h16(0.5f / (float)(b + 1)), m = h16(-1.0f - (float)b);
        memcpy(q8[b], &d, 2); memcpy(q40[b], &d, 2); memcpy(q41[b], &d, 2); memcpy(q41[b] + 2, &m, 2);
        for (int j = 0; j < 32; j++) q8[b][2 + j] = (uint8_t)(int8_t)(j * 8 - 128 + b);
        for (int j = 0; j < 16; j++) {
            q40[b][2 + j] = (uint8_t)(((j + b) & 15) | ((15 - j) << 4));
            q41[b][4 + j] = (uint8_t)(((j + b) & 15) | ((15 - j) << 4));
        }
    }
    tgw_tensor_add(&w, "q8_0", MJ_GGML_Q8_0, 2, (uint64_t[]){32, 2}, q8, sizeof q8);
    tgw_tensor_add(&w, "q4_0", MJ_GGML_Q4_0, 2, (uint64_t[]){32, 2}, q40, sizeof q40);
    tgw_tensor_add(&w, "q4_1", MJ_GGML_Q4_1, 1, (uint64_t[]){64}, q41, sizeof q41);
    uint8_t qk[144] = {0};
    tgw_tensor_add(&w, "q4_k", MJ_GGML_Q4_K, 1, (uint64_t[]){256}, qk, sizeof qk);
    uint8_t *buf = tgw_finish(&w, len);
    tgw_free(&w);
    return buf;
}

static void test_metadata(const mj_gguf *g) {
    uint32_t u; int32_t i; uint64_t u64; float f; bool b; size_t n;
    CHECK(mj_gguf_version(g) == 3 && mj_gguf_n_tensors(g) == 7);
    CHECK(mj_gguf_get_u32(g, "t.u8", &u) && u == 200);
    CHECK(mj_gguf_get_i32(g, "t.i8", &i) && i == -100);
    CHECK(!mj_gguf_get_u32(g, "t.i8", &u));
    CHECK(mj_gguf_get_u32(g, "t.u16", &u) && u == 60000);
    CHECK(mj_gguf_get_i32(g, "t.i16", &i) && i == -30000);
    CHECK(mj_gguf_get_u32(g, "t.u32", &u) && u == 4000000000u && !mj_gguf_get_i32(g, "t.u32", &i));
    CHECK(mj_gguf_get_i32(g, "t.i32", &i) && i == -7);
    CHECK(mj_gguf_get_f32(g, "t.f32", &f) && f == 0.125f);
    CHECK(mj_gguf_get_bool(g, "t.bool", &b) && b && !mj_gguf_get_bool(g, "t.u8", &b));
    CHECK(mj_gguf_get_u64(g, "t.u64", &u64) && u64 == (1ull << 40) && !mj_gguf_get_u32(g, "t.u64", &u));
    CHECK(mj_gguf_get_i32(g, "t.i64", &i) && i == -5 && !mj_gguf_get_u64(g, "t.i64", &u64));
    CHECK(mj_gguf_get_f32(g, "t.f64", &f) && f == 2.5f && mj_gguf_get_f32(g, "t.i32", &f) && f == -7.0f);
    const char *s = mj_gguf_get_str(g, "t.str", &n);
    CHECK(s && n == 6 && !memcmp(s, "héllo", 6));
    char *d = mj_gguf_dup_str(g, "general.architecture");
    CHECK(d && !strcmp(d, "llama"));
    free(d);
    CHECK(!mj_gguf_get_str(g, "t.u8", &n) && !mj_gguf_get_u32(g, "missing", &u) && mj_gguf_find_key(g, "missing") < 0);
    int64_t k = mj_gguf_find_key(g, "tokenizer.ggml.tokens");
    int et;
    uint64_t cnt;
    CHECK(k >= 0 && mj_gguf_key_type(g, k) == MJ_GGUF_ARRAY && !strcmp(mj_gguf_key_name(g, k), "tokenizer.ggml.tokens"));
    CHECK(mj_gguf_get_array(g, k, &et, &cnt) && et == MJ_GGUF_STRING && cnt == 4);
    s = mj_gguf_arr_str(g, k, 0, &n);
    CHECK(s && n == 3 && !memcmp(s, "<s>", 3));
    s = mj_gguf_arr_str(g, k, 1, &n);
    CHECK(s && n == 0);
    s = mj_gguf_arr_str(g, k, 3, &n);
    CHECK(s && n == 6 && !memcmp(s, "日本", 6));
    CHECK(!mj_gguf_arr_str(g, k, 4, &n) && !mj_gguf_arr_int(g, k, 0, &(int64_t){0}));
    int64_t kt = mj_gguf_find_key(g, "tokenizer.ggml.token_type"), v;
    CHECK(mj_gguf_arr_int(g, kt, 0, &v) && v == 3 && mj_gguf_arr_int(g, kt, 3, &v) && v == -2);
    CHECK(!mj_gguf_arr_int(g, kt, 4, &v) && !mj_gguf_arr_str(g, kt, 0, &n));
    int64_t ks = mj_gguf_find_key(g, "tokenizer.ggml.scores");
    CHECK(mj_gguf_arr_f32(g, ks, 3, &f) && f == 3.0f && !mj_gguf_arr_f32(g, kt, 0, &f));
    CHECK(!mj_gguf_get_array(g, mj_gguf_find_key(g, "t.u8"), &et, &cnt) && !mj_gguf_get_array(g, 999, &et, &cnt));
}

static void test_tensors(const mj_gguf *g) {
    float out[256];
    char err[256];
    const mj_gguf_tensor *t = mj_gguf_find_tensor(g, "f32");
    CHECK(t && t->n_dims == 1 && t->ne[0] == 3 && mj_gguf_dequant(t, out, err, sizeof err) == 0);
    CHECK(out[0] == 1.5f && out[1] == -2.25f && out[2] == 1e-3f);
    t = mj_gguf_find_tensor(g, "f16");
    CHECK(t && mj_gguf_dequant(t, out, err, sizeof err) == 0);
    CHECK(out[0] == 1.0f && out[1] == -2.0f && out[2] == 0.333251953125f && out[3] == 0x1p-24f && out[4] == 65504.0f);
    t = mj_gguf_find_tensor(g, "bf16");
    CHECK(t && mj_gguf_dequant(t, out, err, sizeof err) == 0 && out[0] == 1.0f && out[1] == -3.0f && out[2] == 0.25f);
    t = mj_gguf_find_tensor(g, "q8_0");
    CHECK(t && t->n_elems == 64 && t->n_bytes == 68 && t->ne[1] == 2 && mj_gguf_dequant(t, out, err, sizeof err) == 0);
    bool ok = true;
    for (int b = 0; b < 2; b++)
        for (int j = 0; j < 32; j++) ok &= out[b * 32 + j] == (float)(j * 8 - 128 + b) * (0.5f / (float)(b + 1));
    CHECK(ok);
    t = mj_gguf_find_tensor(g, "q4_0");
    CHECK(t && mj_gguf_dequant(t, out, err, sizeof err) == 0);
    ok = true;
    for (int b = 0; b < 2; b++)
        for (int j = 0; j < 16; j++) {
            float d = 0.5f / (float)(b + 1);
            ok &= out[b * 32 + j] == (float)(((j + b) & 15) - 8) * d;     /* low nibbles: first 16 */
            ok &= out[b * 32 + 16 + j] == (float)((15 - j) - 8) * d;     /* high nibbles: next 16 */
        }
    CHECK(ok);
    t = mj_gguf_find_tensor(g, "q4_1");
    CHECK(t && t->n_bytes == 40 && mj_gguf_dequant(t, out, err, sizeof err) == 0);
    ok = true;
    for (int b = 0; b < 2; b++)
        for (int j = 0; j < 16; j++) {
            float d = 0.5f / (float)(b + 1), m = -1.0f - (float)b;
            ok &= out[b * 32 + j] == (float)((j + b) & 15) * d + m;
            ok &= out[b * 32 + 16 + j] == (float)(15 - j) * d + m;
        }
    CHECK(ok);
    t = mj_gguf_find_tensor(g, "q4_k");
    CHECK(t && !mj_gguf_can_dequant(t->type) && mj_gguf_dequant(t, out, err, sizeof err) != 0);
    CHECKF(strstr(err, "q4_k") && strstr(err, "Q4_K"), "%s", err);
    CHECK(mj_gguf_find_tensor(g, "nope") == NULL && mj_gguf_tensor_at(g, 7) == NULL);
    CHECK(!strcmp(mj_gguf_type_name(MJ_GGML_Q4_1), "Q4_1") && !strcmp(mj_gguf_type_name(99), "type99"));
    for (int64_t i = 0; i < mj_gguf_n_tensors(g); i++)
        CHECK(((uintptr_t)mj_gguf_tensor_at(g, i)->data - (uintptr_t)mj_gguf_tensor_at(g, 0)->data) %
                  mj_gguf_alignment(g) == 0);
}

static void test_halves(void) {
    int bad = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        float f = mj_f16_to_f32((uint16_t)h);
        if (isnan(f)) continue;
        if (mj_f32_to_f16(f) != h) bad++;
        if (mj_f32_to_bf16(mj_bf16_to_f32((uint16_t)h)) != h) bad++;
    }
    CHECK(bad == 0);
    CHECK(mj_f32_to_f16(65520.0f) == 0x7C00 && mj_f32_to_f16(65519.0f) == 0x7BFF);
    CHECK(mj_f32_to_f16(1.0f + 0x1p-11f) == 0x3C00 && mj_f32_to_f16(1.0f + 3 * 0x1p-11f) == 0x3C02);
    CHECK(mj_f32_to_bf16(1.0f + 0x1p-8f) == 0x3F80 && isnan(mj_bf16_to_f32(mj_f32_to_bf16(NAN))));
}

/* Patch helpers on a serialized buffer. */
static void set_u32(uint8_t *b, size_t off, uint32_t v) { memcpy(b + off, &v, 4); }

static void test_malformed(const uint8_t *good, size_t len) {
    char err[256];
    int accepted = 0;
    for (size_t n = 0; n < len; n++) {   /* every truncation fails cleanly */
        err[0] = 0;
        mj_gguf *g = mj_gguf_open_mem(good, n, err, sizeof err);
        if (g) { accepted++; mj_gguf_free(g); }
        else if (!err[0]) accepted += 1000;
    }
    CHECKF(accepted == 0, "%d truncations accepted or silent", accepted);
    uint8_t *b = malloc(len);
    memcpy(b, good, len);
    b[0] = 'X';
    CHECK(!mj_gguf_open_mem(b, len, err, sizeof err) && strstr(err, "magic"));
    memcpy(b, good, len);
    set_u32(b, 4, 1);
    CHECK(!mj_gguf_open_mem(b, len, err, sizeof err) && strstr(err, "version 1"));
    set_u32(b, 4, 0x03000000);
    CHECK(!mj_gguf_open_mem(b, len, err, sizeof err) && strstr(err, "big-endian"));
    memcpy(b, good, len);
    uint64_t huge = 1ull << 60;
    memcpy(b + 16, &huge, 8);   /* n_kv */
    CHECK(!mj_gguf_open_mem(b, len, err, sizeof err) && strstr(err, "cannot fit"));
    /* deterministic random corruption: never a crash (ASan checks reads) */
    uint64_t x = 88172645463325252ull;
    int opened = 0;
    for (int it = 0; it < 3000; it++) {
        memcpy(b, good, len);
        for (int k = 0; k < 1 + it % 4; k++) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            size_t pos = (size_t)(x % len);
            b[pos] = (uint8_t)(x >> 32);
        }
        mj_gguf *g = mj_gguf_open_mem(b, len, err, sizeof err);
        if (!g) continue;
        opened++;
        for (int64_t i = 0; i < mj_gguf_n_tensors(g); i++) {
            const mj_gguf_tensor *t = mj_gguf_tensor_at(g, i);
            if (mj_gguf_can_dequant(t->type) && t->n_elems <= 4096) {
                float *out = malloc(t->n_elems * sizeof(float) + 4);
                mj_gguf_dequant(t, out, err, sizeof err);
                free(out);
            }
        }
        for (int64_t i = 0; i < mj_gguf_n_keys(g); i++) {
            int et;
            uint64_t cnt;
            size_t n;
            if (mj_gguf_get_array(g, i, &et, &cnt))
                for (uint64_t j = 0; j < cnt && j < 8; j++) mj_gguf_arr_str(g, i, j, &n);
        }
        mj_gguf_free(g);
    }
    CHECK(opened > 0);
    free(b);
    /* structural errors */
    tgw w;
    tgw_init(&w);
    tgw_u32(&w, "k", 1);
    tgw_u32(&w, "k", 2);
    size_t n;
    uint8_t *d = tgw_finish(&w, &n);
    CHECK(!mj_gguf_open_mem(d, n, err, sizeof err) && strstr(err, "duplicate key 'k'"));
    free(d);
    tgw_free(&w);
    tgw_init(&w);
    tgw_u32(&w, "general.alignment", 3);
    d = tgw_finish(&w, &n);
    CHECK(!mj_gguf_open_mem(d, n, err, sizeof err) && strstr(err, "power of two"));
    free(d);
    tgw_free(&w);
    tgw_init(&w);
    uint8_t q[18] = {0};
    tgw_tensor_add(&w, "odd", MJ_GGML_Q4_0, 1, (uint64_t[]){16}, q, 9);
    d = tgw_finish(&w, &n);
    CHECK(!mj_gguf_open_mem(d, n, err, sizeof err) && strstr(err, "block size"));
    free(d);
    tgw_free(&w);
    tgw_init(&w);
    tgw_tensor_add(&w, "five", MJ_GGML_F32, 4, (uint64_t[]){1, 1, 1, 1}, q, 4);
    d = tgw_finish(&w, &n);
    size_t ndims_off = (size_t)((uint8_t *)memmem(d, n, "five", 4) - d) + 4; /* the tensor info's n_dims */
    set_u32(d, ndims_off, 5);
    CHECK(!mj_gguf_open_mem(d, n, err, sizeof err) && strstr(err, "dimensions"));
    set_u32(d, ndims_off, 4);
    set_u32(d, ndims_off + 4 + 32, 77);  /* type */
    CHECK(!mj_gguf_open_mem(d, n, err, sizeof err) && strstr(err, "unsupported type 77"));
    free(d);
    tgw_free(&w);
    CHECK(!mj_gguf_open("/nonexistent.gguf", err, sizeof err) && strstr(err, "/nonexistent.gguf"));
}

/* ---- GGUF models written from HF models ---------------------------------------- */
static char tmp_root[256];

static int rm_cb(const char *p, const struct stat *s, int f, struct FTW *w) {
    (void)s; (void)f; (void)w;
    return remove(p);
}

/* llama.cpp's convert permutation: GGUF row h*hd + 2i + s = HF row h*hd + s*hd/2 + i. */
static float *permute_rows(const float *w, int64_t n_head, int64_t hd, int64_t cols) {
    float *out = malloc((size_t)(n_head * hd * cols) * sizeof *out);
    for (int64_t h = 0; h < n_head; h++)
        for (int64_t i = 0; i < hd / 2; i++)
            for (int64_t s = 0; s < 2; s++)
                memcpy(out + (h * hd + 2 * i + s) * cols, w + (h * hd + s * (hd / 2) + i) * cols,
                       (size_t)cols * sizeof *out);
    return out;
}

/* Add f32 tensor NAME of HF shape [rows x cols] (cols 0: 1-D); perm > 0 permutes. */
static void add_f32(tgw *w, const char *name, const float *data, int64_t rows, int64_t cols, int64_t perm) {
    float *p = perm ? permute_rows(data, perm, rows / perm, cols ? cols : 1) : NULL;
    const float *src = p ? p : data;
    if (cols) tgw_tensor_add(w, name, MJ_GGML_F32, 2, (uint64_t[]){(uint64_t)cols, (uint64_t)rows}, src,
                             (size_t)(rows * cols) * 4);
    else tgw_tensor_add(w, name, MJ_GGML_F32, 1, (uint64_t[]){(uint64_t)rows}, src, (size_t)rows * 4);
    free(p);
}

/* Q8_0-quantize [rows x cols] (cols % 32 == 0). */
static void add_q8(tgw *w, const char *name, const float *x, int64_t rows, int64_t cols) {
    int64_t nb = rows * cols / 32;
    uint8_t *q = malloc((size_t)nb * 34);
    for (int64_t b = 0; b < nb; b++) {
        float amax = 0;
        for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(x[b * 32 + j]));
        float d = amax / 127;
        uint16_t dh = mj_f32_to_f16(d);
        memcpy(q + b * 34, &dh, 2);
        for (int j = 0; j < 32; j++) q[b * 34 + 2 + j] = (uint8_t)(int8_t)lrintf(d ? x[b * 32 + j] / d : 0);
    }
    tgw_tensor_add(w, name, MJ_GGML_Q8_0, 2, (uint64_t[]){(uint64_t)cols, (uint64_t)rows}, q, (size_t)nb * 34);
    free(q);
}

static void add_f16(tgw *w, const char *name, const float *x, int64_t rows, int64_t cols) {
    uint16_t *h = malloc((size_t)(rows * cols) * 2);
    for (int64_t i = 0; i < rows * cols; i++) h[i] = mj_f32_to_f16(x[i]);
    tgw_tensor_add(w, name, MJ_GGML_F16, 2, (uint64_t[]){(uint64_t)cols, (uint64_t)rows}, h, (size_t)(rows * cols) * 2);
    free(h);
}

/* Write m as a GGUF file the way llama.cpp's converter lays it out (ffn_up
 * in Q8_0, attn_v in F16, everything else F32).  DROP: a tensor to leave out. */
static void write_gguf(const mj_model *m, const char *path, const char *arch, const char *drop) {
    const mj_model_config *c = &m->cfg;
    tgw w;
    tgw_init(&w);
    char k[128], n[128];
    tgw_str(&w, "general.architecture", arch);
#define KEY(s) (snprintf(k, sizeof k, "%s.%s", arch, s), k)
    tgw_u32(&w, KEY("block_count"), (uint32_t)c->n_layers);
    tgw_u32(&w, KEY("context_length"), (uint32_t)c->max_pos);
    tgw_u32(&w, KEY("embedding_length"), (uint32_t)c->hidden);
    tgw_u32(&w, KEY("feed_forward_length"), (uint32_t)c->intermediate);
    tgw_u32(&w, KEY("attention.head_count"), (uint32_t)c->n_heads);
    tgw_u32(&w, KEY("attention.head_count_kv"), (uint32_t)c->n_kv_heads);
    tgw_u32(&w, KEY("attention.key_length"), (uint32_t)c->head_dim);
    tgw_f32(&w, KEY("attention.layer_norm_rms_epsilon"), c->rms_eps);
    tgw_f32(&w, KEY("rope.freq_base"), c->rope_theta);
#undef KEY
    tgw_u32(&w, "tokenizer.ggml.bos_token_id", 1);
    tgw_u32(&w, "tokenizer.ggml.eos_token_id", 2);
    int64_t H = c->hidden, I = c->intermediate, hd = c->head_dim, q = c->n_heads * hd, kv = c->n_kv_heads * hd;
    bool perm = !strcmp(arch, "llama");
    add_f32(&w, "token_embd.weight", m->embed, c->vocab, H, 0);
    add_f32(&w, "output_norm.weight", m->final_norm, H, 0, 0);
    if (!c->tie_embeddings) add_f32(&w, "output.weight", m->lm_head, c->vocab, H, 0);
    for (int l = 0; l < c->n_layers; l++) {
        const mj_layer *L = &m->layers[l];
#define NM(s) (snprintf(n, sizeof n, "blk.%d.%s", l, s), n)
#define SKIP(s) (drop && !strcmp(NM(s), drop))
        if (!SKIP("attn_norm.weight")) add_f32(&w, NM("attn_norm.weight"), L->attn_norm, H, 0, 0);
        if (!SKIP("attn_q.weight")) add_f32(&w, NM("attn_q.weight"), L->wq, q, H, perm ? c->n_heads : 0);
        if (!SKIP("attn_k.weight")) add_f32(&w, NM("attn_k.weight"), L->wk, kv, H, perm ? c->n_kv_heads : 0);
        if (!SKIP("attn_v.weight")) add_f16(&w, NM("attn_v.weight"), L->wv, kv, H);
        if (L->bq) {
            add_f32(&w, NM("attn_q.bias"), L->bq, q, 0, perm ? c->n_heads : 0);
            add_f32(&w, NM("attn_k.bias"), L->bk, kv, 0, perm ? c->n_kv_heads : 0);
            add_f32(&w, NM("attn_v.bias"), L->bv, kv, 0, 0);
        }
        if (L->q_norm) {
            add_f32(&w, NM("attn_q_norm.weight"), L->q_norm, hd, 0, 0);
            add_f32(&w, NM("attn_k_norm.weight"), L->k_norm, hd, 0, 0);
        }
        if (!SKIP("attn_output.weight")) add_f32(&w, NM("attn_output.weight"), L->wo, H, q, 0);
        if (!SKIP("ffn_norm.weight")) add_f32(&w, NM("ffn_norm.weight"), L->ffn_norm, H, 0, 0);
        if (!SKIP("ffn_gate.weight")) add_f32(&w, NM("ffn_gate.weight"), L->w_gate, I, H, 0);
        if (!SKIP("ffn_up.weight")) add_q8(&w, NM("ffn_up.weight"), L->w_up, I, H);
        if (!SKIP("ffn_down.weight")) add_f32(&w, NM("ffn_down.weight"), L->w_down, H, I, 0);
#undef SKIP
#undef NM
    }
    CHECK(tgw_write_file(&w, path) == 0);
    tgw_free(&w);
}

static bool eq(const float *a, const float *b, int64_t n) {
    return (a == NULL) == (b == NULL) && (!a || !memcmp(a, b, (size_t)n * sizeof *a));
}

/* g (from GGUF) equals h (from HF): exact except attn_v (f16) and ffn_up (Q8_0). */
static void compare_models(const mj_model *g, const mj_model *h) {
    const mj_model_config *c = &h->cfg;
    int64_t H = c->hidden, I = c->intermediate, hd = c->head_dim, q = c->n_heads * hd, kv = c->n_kv_heads * hd;
    CHECK(g->cfg.arch == c->arch && g->cfg.n_layers == c->n_layers && g->cfg.hidden == H && g->cfg.vocab == c->vocab);
    CHECK(g->cfg.n_heads == c->n_heads && g->cfg.n_kv_heads == c->n_kv_heads && g->cfg.head_dim == hd);
    CHECK(g->cfg.intermediate == I && g->cfg.rms_eps == c->rms_eps && g->cfg.rope_theta == c->rope_theta);
    CHECK(g->cfg.tie_embeddings == c->tie_embeddings && g->cfg.qkv_bias == c->qkv_bias && g->cfg.qk_norm == c->qk_norm);
    CHECK(g->cfg.bos_id == 1 && g->cfg.n_eos == 1 && g->cfg.eos_ids[0] == 2 && g->from_gguf);
    CHECK(eq(g->embed, h->embed, c->vocab * H) && eq(g->final_norm, h->final_norm, H));
    CHECK(eq(g->lm_head, h->lm_head, c->vocab * H) && (g->lm_head == g->embed) == c->tie_embeddings);
    for (int l = 0; l < c->n_layers; l++) {
        const mj_layer *a = &g->layers[l], *b = &h->layers[l];
        CHECKF(eq(a->wq, b->wq, q * H) && eq(a->wk, b->wk, kv * H), "layer %d q/k rows not in HF order", l);
        CHECK(eq(a->bq, b->bq, q) && eq(a->bk, b->bk, kv) && eq(a->bv, b->bv, kv));
        CHECK(eq(a->q_norm, b->q_norm, hd) && eq(a->k_norm, b->k_norm, hd));
        CHECK(eq(a->wo, b->wo, H * q) && eq(a->attn_norm, b->attn_norm, H) && eq(a->ffn_norm, b->ffn_norm, H));
        CHECK(eq(a->w_gate, b->w_gate, I * H) && eq(a->w_down, b->w_down, H * I));
        bool ok = true;
        for (int64_t i = 0; i < kv * H; i++) ok &= a->wv[i] == mj_f16_to_f32(mj_f32_to_f16(b->wv[i]));
        float amax = 0, maxerr = 0;
        for (int64_t i = 0; i < I * H; i++) {
            amax = fmaxf(amax, fabsf(b->w_up[i]));
            maxerr = fmaxf(maxerr, fabsf(a->w_up[i] - b->w_up[i]));
        }
        CHECKF(ok && maxerr <= amax / 127 * 0.51f + 1e-3f * amax, "layer %d: f16/q8_0 mismatch (%g)", l, maxerr);
    }
}

static void test_gguf_models(void) {
    snprintf(tmp_root, sizeof tmp_root, "/tmp/mj_gguf_XXXXXX");
    if (!mkdtemp(tmp_root)) { CHECK(0); return; }
    static const struct { mj_arch arch; const char *name; bool tie; } cases[] = {
        {MJ_ARCH_LLAMA, "llama", false}, {MJ_ARCH_LLAMA, "llama", true},
        {MJ_ARCH_QWEN2, "qwen2", true}, {MJ_ARCH_QWEN3, "qwen3", false}};
    char dir[400], gpath[400], err[512];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mj_make_opts o;
        mj_make_opts_default(&o);
        o.arch = cases[i].arch; o.tie = cases[i].tie; o.seed = 40 + i;
        o.head_dim = i == 2 ? 32 : 16;
        snprintf(dir, sizeof dir, "%s/hf%zu", tmp_root, i);
        snprintf(gpath, sizeof gpath, "%s/m%zu.gguf", tmp_root, i);
        mj_model h, g;
        if (mj_model_make_random(&o, dir, err, sizeof err) || mj_model_load(&h, dir, err, sizeof err)) {
            CHECKF(0, "%s", err);
            continue;
        }
        write_gguf(&h, gpath, cases[i].name, NULL);
        int rc = mj_model_load(&g, gpath, err, sizeof err);
        CHECKF(rc == 0, "%s: %s", cases[i].name, err);
        if (!rc) { compare_models(&g, &h); mj_model_free(&g); }
        mj_model_config cfg;
        CHECK(mj_model_load_config(&cfg, gpath, err, sizeof err) == 0 && cfg.arch == cases[i].arch);
        if (i == 0) {
            write_gguf(&h, gpath, "llama", "blk.1.ffn_down.weight");
            CHECK(mj_model_load(&g, gpath, err, sizeof err) != 0);
            CHECKF(strstr(err, "missing tensor 'blk.1.ffn_down.weight'"), "%s", err);
            write_gguf(&h, gpath, "gpt2", NULL);
            CHECK(mj_model_load(&g, gpath, err, sizeof err) != 0);
            CHECKF(strstr(err, "unsupported GGUF architecture 'gpt2'"), "%s", err);
        }
        mj_model_free(&h);
    }
    nftw(tmp_root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

/* SmolLM2-135M-Instruct (Q4_1 GGUF) from scripts/fetch-smollm2.sh, when present. */
static void test_smollm2(void) {
    const char *models = getenv("MJ_MODELS_DIR");
    char pat[4096];
    snprintf(pat, sizeof pat, "%s/smollm2-135m-instruct/*.gguf", models ? models : mj_test_path("models"));
    glob_t gl;
    if (glob(pat, 0, NULL, &gl) != 0 || gl.gl_pathc == 0) {
        printf("SKIP: SmolLM2 GGUF not found (%s); run scripts/fetch-smollm2.sh\n", pat);
        globfree(&gl);
        return;
    }
    mj_model m;
    char err[512];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = mj_model_load(&m, gl.gl_pathv[0], err, sizeof err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CHECKF(rc == 0, "%s", err);
    if (!rc) {
        const mj_model_config *c = &m.cfg;
        CHECK(c->arch == MJ_ARCH_LLAMA && c->n_layers == 30 && c->hidden == 576 && c->intermediate == 1536);
        CHECK(c->n_heads == 9 && c->n_kv_heads == 3 && c->head_dim == 64 && c->vocab == 49152);
        CHECK(c->tie_embeddings && c->rope_theta == 100000.0f && c->bos_id == 1 && c->n_eos >= 1);
        CHECK(m.lm_head == m.embed && isfinite(m.layers[29].w_down[0]));
        printf("SmolLM2-135M GGUF loaded in %.3f s\n", (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9);
        mj_model_free(&m);
    }
    globfree(&gl);
}

int main(void) {
    size_t len;
    char err[256];
    uint8_t *buf = make_sample(&len, 32);
    mj_gguf *g = mj_gguf_open_mem(buf, len, err, sizeof err);
    CHECKF(g != NULL, "%s", err);
    if (g) { test_metadata(g); test_tensors(g); mj_gguf_free(g); }
    test_malformed(buf, len);
    free(buf);
    buf = make_sample(&len, 64);
    g = mj_gguf_open_mem(buf, len, err, sizeof err);
    CHECKF(g != NULL && mj_gguf_alignment(g) == 64, "%s", err);
    if (g) { test_tensors(g); mj_gguf_free(g); }
    free(buf);
    test_halves();
    test_gguf_models();
    test_smollm2();
    return mj_test_finish();
}
