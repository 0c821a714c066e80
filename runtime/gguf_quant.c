/* gguf_quant.c — ggml tensor type table (block sizes, names), half/bfloat16
 * conversions, and dequantization of F32/F16/BF16/Q8_0/Q4_0/Q4_1 blocks to
 * f32, with the block layouts ggml defines:
 *   Q4_0: f16 d, 16 bytes nibbles; y[j] = (lo(q[j]) - 8) d, y[j+16] = (hi(q[j]) - 8) d
 *   Q4_1: f16 d, f16 m, 16 bytes;  y[j] = lo(q[j]) d + m,   y[j+16] = hi(q[j]) d + m
 *   Q8_0: f16 d, 32 int8;          y[j] = q[j] d */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "gguf.h"

typedef struct type_row { uint32_t type; const char *name; uint32_t block, bytes; } type_row;

static const type_row type_table[] = {
    {MJ_GGML_F32, "F32", 1, 4},      {MJ_GGML_F16, "F16", 1, 2},
    {MJ_GGML_Q4_0, "Q4_0", 32, 18},  {MJ_GGML_Q4_1, "Q4_1", 32, 20},
    {MJ_GGML_Q5_0, "Q5_0", 32, 22},  {MJ_GGML_Q5_1, "Q5_1", 32, 24},
    {MJ_GGML_Q8_0, "Q8_0", 32, 34},  {MJ_GGML_Q8_1, "Q8_1", 32, 36},
    {MJ_GGML_Q2_K, "Q2_K", 256, 84}, {MJ_GGML_Q3_K, "Q3_K", 256, 110},
    {MJ_GGML_Q4_K, "Q4_K", 256, 144}, {MJ_GGML_Q5_K, "Q5_K", 256, 176},
    {MJ_GGML_Q6_K, "Q6_K", 256, 210}, {MJ_GGML_Q8_K, "Q8_K", 256, 292},
    {MJ_GGML_I8, "I8", 1, 1},        {MJ_GGML_I16, "I16", 1, 2},
    {MJ_GGML_I32, "I32", 1, 4},      {MJ_GGML_I64, "I64", 1, 8},
    {MJ_GGML_F64, "F64", 1, 8},      {MJ_GGML_BF16, "BF16", 1, 2},
};

static const type_row *type_find(uint32_t t) {
    for (size_t i = 0; i < sizeof type_table / sizeof type_table[0]; i++)
        if (type_table[i].type == t) return &type_table[i];
    return NULL;
}

const char *mj_gguf_type_name(uint32_t t) {
    static _Thread_local char buf[24];
    const type_row *r = type_find(t);
    if (r) return r->name;
    snprintf(buf, sizeof buf, "type%u", t);
    return buf;
}

bool mj_gguf_type_info(uint32_t t, uint32_t *block_elems, uint32_t *block_bytes) {
    const type_row *r = type_find(t);
    if (!r) return false;
    if (block_elems) *block_elems = r->block;
    if (block_bytes) *block_bytes = r->bytes;
    return true;
}

bool mj_gguf_can_dequant(uint32_t t) {
    return t == MJ_GGML_F32 || t == MJ_GGML_F16 || t == MJ_GGML_BF16 || t == MJ_GGML_Q8_0 ||
           t == MJ_GGML_Q4_0 || t == MJ_GGML_Q4_1;
}

float mj_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu, bits;
    if (exp == 0) {
        float f = (float)mant * 0x1p-24f; /* zero or subnormal */
        return sign ? -f : f;
    }
    if (exp == 31) bits = sign | 0x7f800000u | (mant << 13);
    else bits = sign | ((exp + 112u) << 23) | (mant << 13);
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

float mj_bf16_to_f32(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

uint16_t mj_f32_to_f16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
    uint32_t ax = x & 0x7fffffffu;
    if (ax > 0x7f800000u) return sign | 0x7e00u;         /* NaN */
    if (ax >= 0x477ff000u) return sign | 0x7c00u;        /* >= 65520: inf */
    if (ax < 0x38800000u) {                              /* below 2^-14: subnormal */
        float af;
        memcpy(&af, &ax, 4);
        return sign | (uint16_t)nearbyintf(af * 0x1p24f);
    }
    uint32_t h = ((((ax >> 23) - 112u) << 10) | ((ax & 0x7fffffu) >> 13));
    uint32_t rem = ax & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) h++;
    return sign | (uint16_t)h;
}

uint16_t mj_f32_to_bf16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40u); /* quiet NaN */
    x += 0x7fffu + ((x >> 16) & 1u);
    return (uint16_t)(x >> 16);
}

static float rd_half(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return mj_f16_to_f32(h);
}

static void deq_q4_0(const uint8_t *b, float *y, uint64_t nb) {
    for (uint64_t i = 0; i < nb; i++, b += 18, y += 32) {
        float d = rd_half(b);
        for (int j = 0; j < 16; j++) {
            y[j] = (float)((int)(b[2 + j] & 0x0f) - 8) * d;
            y[j + 16] = (float)((int)(b[2 + j] >> 4) - 8) * d;
        }
    }
}

static void deq_q4_1(const uint8_t *b, float *y, uint64_t nb) {
    for (uint64_t i = 0; i < nb; i++, b += 20, y += 32) {
        float d = rd_half(b), m = rd_half(b + 2);
        for (int j = 0; j < 16; j++) {
            y[j] = (float)(b[4 + j] & 0x0f) * d + m;
            y[j + 16] = (float)(b[4 + j] >> 4) * d + m;
        }
    }
}

static void deq_q8_0(const uint8_t *b, float *y, uint64_t nb) {
    for (uint64_t i = 0; i < nb; i++, b += 34, y += 32) {
        float d = rd_half(b);
        for (int j = 0; j < 32; j++) y[j] = (float)(int8_t)b[2 + j] * d;
    }
}

int mj_gguf_dequant_row(uint32_t type, const void *src, float *dst, uint64_t n) {
    const uint8_t *s = src;
    uint16_t h;
    switch (type) {
    case MJ_GGML_F32: memcpy(dst, s, (size_t)n * 4); return 0;
    case MJ_GGML_F16:
        for (uint64_t i = 0; i < n; i++) { memcpy(&h, s + 2 * i, 2); dst[i] = mj_f16_to_f32(h); }
        return 0;
    case MJ_GGML_BF16:
        for (uint64_t i = 0; i < n; i++) { memcpy(&h, s + 2 * i, 2); dst[i] = mj_bf16_to_f32(h); }
        return 0;
    case MJ_GGML_Q4_0: if (n % 32) return -1; deq_q4_0(s, dst, n / 32); return 0;
    case MJ_GGML_Q4_1: if (n % 32) return -1; deq_q4_1(s, dst, n / 32); return 0;
    case MJ_GGML_Q8_0: if (n % 32) return -1; deq_q8_0(s, dst, n / 32); return 0;
    default: return -1;
    }
}

int mj_gguf_dequant(const mj_gguf_tensor *t, float *dst, char *err, size_t errn) {
    if (!mj_gguf_can_dequant(t->type) || mj_gguf_dequant_row(t->type, t->data, dst, t->n_elems) != 0) {
        if (err && errn)
            snprintf(err, errn, "gguf: tensor '%s' has type %s, which cannot be dequantized "
                     "(supported: F32, F16, BF16, Q8_0, Q4_0, Q4_1)", t->name, mj_gguf_type_name(t->type));
        return -1;
    }
    return 0;
}
