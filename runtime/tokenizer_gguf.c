/* tokenizer_gguf.c — builds a tokenizer from the vocabulary embedded in a GGUF
 * file (tokenizer.ggml.model "gpt2": byte-level BPE).  Tokens, merges
 * ("a b" strings, rank = index) and token types come from the metadata;
 * CONTROL tokens become special added tokens and USER_DEFINED ones plain
 * added tokens (llama.cpp's reading of HF's added tokens).  The split regex
 * follows tokenizer.ggml.pre, written as the HF tokenizer.json of that model
 * family writes it so that the result matches HF tokenizers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"
#include "tokenizer_internal.h"

enum { GGUF_TOK_NORMAL = 1, GGUF_TOK_CONTROL = 3, GGUF_TOK_USER = 4 };

typedef enum { PRE_GPT2, PRE_DIGITS_GPT2, PRE_LLAMA3, PRE_QWEN2 } pre_kind;

static const struct { const char *name; pre_kind kind; } pre_names[] = {
    {"gpt2", PRE_GPT2},         {"gpt-2", PRE_GPT2},         {"phi-2", PRE_GPT2},
    {"olmo", PRE_GPT2},         {"roberta-bpe", PRE_GPT2},   {"default", PRE_GPT2},
    {"smollm", PRE_DIGITS_GPT2}, {"starcoder", PRE_DIGITS_GPT2}, {"refact", PRE_DIGITS_GPT2},
    {"codeshell", PRE_DIGITS_GPT2}, {"command-r", PRE_DIGITS_GPT2},
    {"llama3", PRE_LLAMA3},     {"llama-v3", PRE_LLAMA3},    {"llama-bpe", PRE_LLAMA3},
    {"qwen2", PRE_QWEN2},       {"deepseek-r1-qwen", PRE_QWEN2},
};

/* Configure the pre-tokenizer for llama.cpp's pre-tokenizer name. */
static int gguf_pretok(mj_tokenizer *t, const char *pre, size_t len, char *err, size_t errn) {
    int found = -1;
    for (size_t i = 0; i < sizeof pre_names / sizeof pre_names[0] && pre; i++)
        if (strlen(pre_names[i].name) == len && memcmp(pre_names[i].name, pre, len) == 0) found = (int)i;
    if (pre && found < 0)
        return mj_err(err, errn, "tokenizer.ggml.pre '%.*s' is not supported", (int)len, pre);
    pre_kind kind = found < 0 ? PRE_GPT2 : pre_names[found].kind;
    const char *re = tok_re_gpt2;
    switch (kind) {
    case PRE_DIGITS_GPT2:
        if (tok_add_split(t, "\\p{N}", 5, false, TOK_SPLIT_ISOLATED, err, errn) != 0) return -1;
        break;
    case PRE_LLAMA3:
        re = tok_re_llama3;
        t->ignore_merges = true;
        break;
    case PRE_QWEN2:
        re = tok_re_qwen2;
        t->norm = TOK_NORM_NFC;
        break;
    default: break;
    }
    t->prefix_space = false;
    t->prefix_at = t->n_splits;
    return tok_add_split(t, re, strlen(re), false, TOK_SPLIT_ISOLATED, err, errn);
}

/* Tokens and token types into a new tokenizer. */
static mj_tokenizer *gguf_vocab(const mj_gguf *g, char *err, size_t errn) {
    int64_t kt = mj_gguf_find_key(g, "tokenizer.ggml.tokens");
    int64_t ky = mj_gguf_find_key(g, "tokenizer.ggml.token_type");
    int et = -1, ety = -1;
    uint64_t n = 0, ny = 0;
    if (kt < 0 || !mj_gguf_get_array(g, kt, &et, &n) || et != MJ_GGUF_STRING || n == 0 || n > INT32_MAX - 2) {
        mj_err(err, errn, "no usable tokenizer.ggml.tokens array");
        return NULL;
    }
    if (ky >= 0 && (!mj_gguf_get_array(g, ky, &ety, &ny) || ny != n)) {
        mj_err(err, errn, "tokenizer.ggml.token_type does not match the tokens");
        return NULL;
    }
    mj_tokenizer *t = tok_new((int32_t)n);
    if (!t) {
        mj_err(err, errn, "out of memory");
        return NULL;
    }
    for (uint64_t i = 0; i < n; i++) {
        size_t len;
        const char *s = mj_gguf_arr_str(g, kt, i, &len);
        int64_t type = GGUF_TOK_NORMAL;
        if (!s) {
            mj_err(err, errn, "tokenizer.ggml.tokens[%llu] is unreadable", (unsigned long long)i);
            mj_tokenizer_free(t);
            return NULL;
        }
        if (ky >= 0 && !mj_gguf_arr_int(g, ky, i, &type)) type = GGUF_TOK_NORMAL;
        int rc = tok_set_token(t, (int32_t)i, s, len, 0);
        if (rc == 0 && (type == GGUF_TOK_CONTROL || type == GGUF_TOK_USER)) {
            bool special = type == GGUF_TOK_CONTROL;
            rc = tok_add_added(t, s, len, (int32_t)i, special, false, false, false, false);
            if (rc == 0) rc = tok_set_token(t, (int32_t)i, s, len, TOK_F_ADDED | (special ? TOK_F_SPECIAL : 0));
        }
        if (rc != 0) {
            mj_err(err, errn, "out of memory");
            mj_tokenizer_free(t);
            return NULL;
        }
    }
    return t;
}

static int gguf_merges(mj_tokenizer *t, const mj_gguf *g, char *err, size_t errn) {
    int64_t km = mj_gguf_find_key(g, "tokenizer.ggml.merges");
    int et;
    uint64_t n;
    if (km < 0) return 0;
    if (!mj_gguf_get_array(g, km, &et, &n) || et != MJ_GGUF_STRING)
        return mj_err(err, errn, "tokenizer.ggml.merges is not a string array");
    for (uint64_t i = 0; i < n; i++) {
        size_t len;
        const char *s = mj_gguf_arr_str(g, km, i, &len);
        const char *sp = s && len > 1 ? memchr(s + 1, ' ', len - 1) : NULL;
        if (!sp) return mj_err(err, errn, "tokenizer.ggml.merges[%llu] is not \"a b\"", (unsigned long long)i);
        size_t al = (size_t)(sp - s);
        if (tok_add_merge(t, s, al, sp + 1, len - al - 1, (uint32_t)i) < 0) return mj_err(err, errn, "out of memory");
    }
    return 0;
}

static int gguf_special_ids(mj_tokenizer *t, const mj_gguf *g) {
    uint32_t v;
    if (mj_gguf_get_u32(g, "tokenizer.ggml.bos_token_id", &v) && v < (uint32_t)t->n_ids) t->bos = (int32_t)v;
    bool ab = false;   /* byte-level BPE vocabularies add no BOS unless the file says so */
    t->add_bos = t->bos >= 0 && mj_gguf_get_bool(g, "tokenizer.ggml.add_bos_token", &ab) && ab;
    static const char *eos_keys[] = {"tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id",
                                     "tokenizer.ggml.eom_token_id"};
    for (size_t i = 0; i < 3; i++)
        if (mj_gguf_get_u32(g, eos_keys[i], &v) && v < (uint32_t)t->n_ids && tok_add_eos(t, (int32_t)v) != 0)
            return -1;
    return 0;
}

mj_tokenizer *tok_load_gguf(const char *path, char *err, size_t errn) {
    char e[400] = "";
    mj_gguf *g = mj_gguf_open(path, e, sizeof e);
    if (!g) {
        mj_err(err, errn, "%s", e);
        return NULL;
    }
    mj_tokenizer *t = NULL;
    size_t ml = 0, pl = 0;
    const char *model = mj_gguf_get_str(g, "tokenizer.ggml.model", &ml);
    const char *pre = mj_gguf_get_str(g, "tokenizer.ggml.pre", &pl);
    if (!model) snprintf(e, sizeof e, "no tokenizer.ggml.model (the file carries no tokenizer)");
    else if (ml != 4 || memcmp(model, "gpt2", 4) != 0)
        snprintf(e, sizeof e, "tokenizer.ggml.model '%.*s' is not supported (only \"gpt2\" byte-level BPE)",
                 (int)ml, model);
    else if ((t = gguf_vocab(g, e, sizeof e))) {
        if (gguf_pretok(t, pre, pl, e, sizeof e) != 0 || gguf_merges(t, g, e, sizeof e) != 0 ||
            tok_finish(t, e, sizeof e) != 0 || gguf_special_ids(t, g) != 0) {
            if (!e[0]) snprintf(e, sizeof e, "out of memory");
            mj_tokenizer_free(t);
            t = NULL;
        }
    }
    if (!t) mj_err(err, errn, "%s: %s", path, e);
    mj_gguf_free(g);
    return t;
}
