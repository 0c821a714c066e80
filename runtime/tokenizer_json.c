/* tokenizer_json.c — loads an HF tokenizer.json (byte-level BPE) with json-c,
 * plus BOS/EOS from tokenizer_config.json, config.json and
 * generation_config.json found in the same directory.  Supported pieces:
 * model BPE (ignore_merges, merges as "a b" strings or [a, b] pairs),
 * normalizers NFC/NFD/NFKC/NFKD (and Sequences of them), pre-tokenizers
 * Split (Isolated/Removed), Digits, ByteLevel and Sequences of them, decoder
 * ByteLevel, post-processors ByteLevel/TemplateProcessing (the latter only
 * names the BOS).  Anything else is a clear error. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer_internal.h"

/* Member KEY of object O, or NULL (also for JSON null). */
static json_object *jget(json_object *o, const char *key) {
    json_object *v = NULL;
    if (!o || !json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v)) return NULL;
    return v;
}

static const char *jstr(json_object *o, const char *key) {
    json_object *v = jget(o, key);
    return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static bool jbool(json_object *o, const char *key, bool dflt) {
    json_object *v = jget(o, key);
    return v && json_object_is_type(v, json_type_boolean) ? json_object_get_boolean(v) : dflt;
}

/* Largest id of the vocab and the added tokens, or -1 with err on a bad id. */
static int64_t max_token_id(json_object *vocab, json_object *added, size_t na, char *err, size_t errn) {
    int64_t max_id = -1;
    json_object_object_foreach(vocab, k1, v1) {
        int64_t id = json_object_get_int64(v1);
        if (!json_object_is_type(v1, json_type_int) || id < 0 || id > INT32_MAX - 2)
            return mj_err(err, errn, "model.vocab: token '%s' has a bad id", k1);
        if (id > max_id) max_id = id;
    }
    for (size_t i = 0; i < na; i++) {
        json_object *idv = jget(json_object_array_get_idx(added, i), "id");
        int64_t id = idv ? json_object_get_int64(idv) : -1;
        if (!idv || id < 0 || id > INT32_MAX - 2) return mj_err(err, errn, "added_tokens[%zu] has a bad id", i);
        if (id > max_id) max_id = id;
    }
    return max_id;
}

/* Parse the model's vocab + added tokens into a new tokenizer. */
static mj_tokenizer *load_vocab(json_object *model, json_object *added, char *err, size_t errn) {
    json_object *vocab = jget(model, "vocab");
    if (!vocab || !json_object_is_type(vocab, json_type_object)) {
        mj_err(err, errn, "model.vocab is missing or not an object");
        return NULL;
    }
    size_t na = added && json_object_is_type(added, json_type_array) ? json_object_array_length(added) : 0;
    int64_t max_id = max_token_id(vocab, added, na, err, errn);
    if (max_id < 0) {
        if (!err || !err[0]) mj_err(err, errn, "the vocabulary is empty");
        return NULL;
    }
    mj_tokenizer *t = tok_new((int32_t)(max_id + 1));
    if (!t) {
        mj_err(err, errn, "out of memory");
        return NULL;
    }
    json_object_object_foreach(vocab, k2, v2) {
        if (tok_set_token(t, (int32_t)json_object_get_int64(v2), k2, strlen(k2), 0) != 0) goto oom;
    }
    for (size_t i = 0; i < na; i++) {
        json_object *a = json_object_array_get_idx(added, i);
        json_object *cv = jget(a, "content");
        if (!cv || !json_object_is_type(cv, json_type_string)) {
            mj_err(err, errn, "added_tokens[%zu] has no content", i);
            mj_tokenizer_free(t);
            return NULL;
        }
        const char *c = json_object_get_string(cv);
        size_t cl = (size_t)json_object_get_string_len(cv);
        int32_t id = (int32_t)json_object_get_int64(jget(a, "id"));
        bool special = jbool(a, "special", false);
        if (tok_add_added(t, c, cl, id, special, jbool(a, "lstrip", false), jbool(a, "rstrip", false),
                          jbool(a, "normalized", !special), jbool(a, "single_word", false)) != 0 ||
            tok_set_token(t, id, c, cl, TOK_F_ADDED | (special ? TOK_F_SPECIAL : 0)) != 0)
            goto oom;
    }
    return t;
oom:
    mj_err(err, errn, "out of memory");
    mj_tokenizer_free(t);
    return NULL;
}

static int load_merges(mj_tokenizer *t, json_object *model, char *err, size_t errn) {
    json_object *m = jget(model, "merges");
    if (!m) return 0;
    if (!json_object_is_type(m, json_type_array)) return mj_err(err, errn, "model.merges is not an array");
    size_t n = json_object_array_length(m);
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(m, i);
        const char *a, *b;
        size_t al, bl;
        if (json_object_is_type(e, json_type_string)) {
            a = json_object_get_string(e);
            const char *sp = strchr(a, ' ');
            if (!sp || strchr(sp + 1, ' ')) return mj_err(err, errn, "model.merges[%zu] is not \"a b\"", i);
            al = (size_t)(sp - a);
            b = sp + 1;
            bl = strlen(b);
        } else if (json_object_is_type(e, json_type_array) && json_object_array_length(e) == 2) {
            json_object *x = json_object_array_get_idx(e, 0), *y = json_object_array_get_idx(e, 1);
            if (!json_object_is_type(x, json_type_string) || !json_object_is_type(y, json_type_string))
                return mj_err(err, errn, "model.merges[%zu] is not a pair of strings", i);
            a = json_object_get_string(x);
            al = (size_t)json_object_get_string_len(x);
            b = json_object_get_string(y);
            bl = (size_t)json_object_get_string_len(y);
        } else {
            return mj_err(err, errn, "model.merges[%zu] is neither \"a b\" nor [a, b]", i);
        }
        if (tok_add_merge(t, a, al, b, bl, (uint32_t)i) < 0) return mj_err(err, errn, "out of memory");
    }
    return 0;
}

static int check_model(json_object *model, char *err, size_t errn) {
    const char *type = jstr(model, "type");
    if (type && strcmp(type, "BPE") != 0)
        return mj_err(err, errn, "model type '%s' is not supported (only byte-level BPE)", type);
    json_object *d = jget(model, "dropout");
    if (d && json_object_get_double(d) != 0.0) return mj_err(err, errn, "BPE dropout is not supported");
    if (jbool(model, "byte_fallback", false)) return mj_err(err, errn, "BPE byte_fallback is not supported");
    const char *p = jstr(model, "continuing_subword_prefix"), *s = jstr(model, "end_of_word_suffix");
    if ((p && *p) || (s && *s))
        return mj_err(err, errn, "BPE continuing_subword_prefix / end_of_word_suffix are not supported");
    return 0;
}

static int load_normalizer(mj_tokenizer *t, json_object *n, char *err, size_t errn) {
    if (!n) return 0;
    const char *type = jstr(n, "type");
    if (!type) return mj_err(err, errn, "normalizer without a type");
    if (strcmp(type, "Sequence") == 0) {
        json_object *list = jget(n, "normalizers");
        size_t k = list && json_object_is_type(list, json_type_array) ? json_object_array_length(list) : 0;
        for (size_t i = 0; i < k; i++)
            if (load_normalizer(t, json_object_array_get_idx(list, i), err, errn) != 0) return -1;
        return 0;
    }
    static const struct { const char *name; tok_norm norm; } forms[] = {
        {"NFC", TOK_NORM_NFC}, {"NFD", TOK_NORM_NFD}, {"NFKC", TOK_NORM_NFKC}, {"NFKD", TOK_NORM_NFKD}};
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        if (strcmp(type, forms[i].name) != 0) continue;
        if (t->norm != TOK_NORM_NONE) return mj_err(err, errn, "more than one Unicode normalizer");
        t->norm = forms[i].norm;
        return 0;
    }
    return mj_err(err, errn, "normalizer '%s' is not supported", type);
}

static int load_pretok(mj_tokenizer *t, json_object *p, bool *byte_level, char *err, size_t errn) {
    const char *type = jstr(p, "type");
    if (!type) return mj_err(err, errn, "pre_tokenizer without a type");
    if (*byte_level) return mj_err(err, errn, "pre-tokenizer '%s' after ByteLevel is not supported", type);
    if (strcmp(type, "Sequence") == 0) {
        json_object *list = jget(p, "pretokenizers");
        size_t k = list && json_object_is_type(list, json_type_array) ? json_object_array_length(list) : 0;
        for (size_t i = 0; i < k; i++)
            if (load_pretok(t, json_object_array_get_idx(list, i), byte_level, err, errn) != 0) return -1;
        return 0;
    }
    if (strcmp(type, "Split") == 0) {
        json_object *pat = jget(p, "pattern");
        const char *re = jstr(pat, "Regex"), *lit = jstr(pat, "String");
        const char *beh = jstr(p, "behavior");
        if (!re && !lit) return mj_err(err, errn, "Split pre-tokenizer without a pattern");
        if (jbool(p, "invert", false)) return mj_err(err, errn, "Split with invert is not supported");
        tok_split_kind kind;
        if (beh && strcmp(beh, "Isolated") == 0) kind = TOK_SPLIT_ISOLATED;
        else if (beh && strcmp(beh, "Removed") == 0) kind = TOK_SPLIT_REMOVED;
        else return mj_err(err, errn, "Split behavior '%s' is not supported", beh ? beh : "(none)");
        const char *s = re ? re : lit;
        return tok_add_split(t, s, strlen(s), lit != NULL, kind, err, errn);
    }
    if (strcmp(type, "Digits") == 0) {
        const char *re = jbool(p, "individual_digits", false) ? "\\p{N}" : "\\p{N}+";
        return tok_add_split(t, re, strlen(re), false, TOK_SPLIT_ISOLATED, err, errn);
    }
    if (strcmp(type, "ByteLevel") == 0) {
        *byte_level = true;
        t->prefix_space = jbool(p, "add_prefix_space", true);
        t->prefix_at = t->n_splits;
        if (jbool(p, "use_regex", true))
            return tok_add_split(t, tok_re_gpt2, strlen(tok_re_gpt2), false, TOK_SPLIT_ISOLATED, err, errn);
        return 0;
    }
    return mj_err(err, errn, "pre-tokenizer '%s' is not supported", type);
}

/* Id of the first special token of a TemplateProcessing "single" template. */
static int32_t template_bos(mj_tokenizer *t, json_object *pp) {
    const char *type = jstr(pp, "type");
    if (!type) return -1;
    if (strcmp(type, "Sequence") == 0) {
        json_object *list = jget(pp, "processors");
        size_t k = list && json_object_is_type(list, json_type_array) ? json_object_array_length(list) : 0;
        for (size_t i = 0; i < k; i++) {
            int32_t id = template_bos(t, json_object_array_get_idx(list, i));
            if (id >= 0) return id;
        }
        return -1;
    }
    if (strcmp(type, "TemplateProcessing") != 0) return -1;
    json_object *single = jget(pp, "single");
    if (!single || !json_object_is_type(single, json_type_array) || json_object_array_length(single) == 0)
        return -1;
    const char *name = jstr(jget(json_object_array_get_idx(single, 0), "SpecialToken"), "id");
    return name ? mj_tokenizer_token_id(t, name) : -1;
}

static int check_decoder(json_object *d, char *err, size_t errn) {
    const char *type = jstr(d, "type");
    if (!d) return 0;   /* none: ids still decode through the byte-level map */
    if (type && strcmp(type, "ByteLevel") == 0) return 0;
    return mj_err(err, errn, "decoder '%s' is not supported (only ByteLevel)", type ? type : "?");
}

/* Token id named by a config value: "text" or {"content": "text"}. */
static int32_t config_token(mj_tokenizer *t, json_object *v) {
    if (v && json_object_is_type(v, json_type_object)) v = jget(v, "content");
    if (!v || !json_object_is_type(v, json_type_string)) return -1;
    return mj_tokenizer_token_id(t, json_object_get_string(v));
}

/* Add the ids of an int or int array value as EOS. */
static int add_eos_ids(mj_tokenizer *t, json_object *v) {
    if (!v) return 0;
    if (json_object_is_type(v, json_type_int)) return tok_add_eos(t, (int32_t)json_object_get_int64(v));
    if (!json_object_is_type(v, json_type_array)) return 0;
    for (size_t i = 0; i < json_object_array_length(v); i++) {
        json_object *e = json_object_array_get_idx(v, i);
        if (json_object_is_type(e, json_type_int) && tok_add_eos(t, (int32_t)json_object_get_int64(e)) != 0)
            return -1;
    }
    return 0;
}

static json_object *load_side(const char *dir, const char *name) {
    char *p = malloc(strlen(dir) + strlen(name) + 2);
    if (!p) return NULL;
    sprintf(p, "%s/%s", dir, name);
    FILE *f = fopen(p, "rb");
    json_object *o = NULL;
    if (f) {
        fclose(f);
        o = json_object_from_file(p);
    }
    free(p);
    return o;
}

/* BOS / EOS from the configs beside the tokenizer and its post-processor. */
static int load_special_ids(mj_tokenizer *t, json_object *root, const char *dir) {
    json_object *tc = load_side(dir, "tokenizer_config.json");
    json_object *cfg = load_side(dir, "config.json");
    json_object *gen = load_side(dir, "generation_config.json");
    json_object *v = NULL;
    int rc = 0;
    if (tc && json_object_object_get_ex(tc, "bos_token", &v)) t->bos = config_token(t, v);
    else {
        t->bos = template_bos(t, jget(root, "post_processor"));
        json_object *b = jget(cfg, "bos_token_id");
        if (t->bos < 0 && b && json_object_is_type(b, json_type_int)) t->bos = (int32_t)json_object_get_int64(b);
    }
    if (t->bos >= t->n_ids) t->bos = -1;
    /* HF adds BOS by default when the post-processor's template has it, unless
     * tokenizer_config.json says add_bos_token (LlamaTokenizerFast rewrites the
     * template from that flag). */
    t->add_bos = t->bos >= 0 && template_bos(t, jget(root, "post_processor")) == t->bos;
    json_object *ab = jget(tc, "add_bos_token");
    if (ab && json_object_is_type(ab, json_type_boolean)) t->add_bos = json_object_get_boolean(ab) && t->bos >= 0;
    rc |= tok_add_eos(t, config_token(t, jget(tc, "eos_token")));
    rc |= add_eos_ids(t, jget(cfg, "eos_token_id"));
    rc |= add_eos_ids(t, jget(gen, "eos_token_id"));
    json_object_put(tc);
    json_object_put(cfg);
    json_object_put(gen);
    return rc;
}

mj_tokenizer *tok_load_json(const char *json_path, const char *dir, char *err, size_t errn) {
    json_object *root = json_object_from_file(json_path);
    if (!root) {
        mj_err(err, errn, "%s: cannot read as JSON: %s", json_path, json_util_get_last_err());
        return NULL;
    }
    char e[400] = "";
    mj_tokenizer *t = NULL;
    json_object *model = jget(root, "model");
    bool byte_level = false;
    if (!model) snprintf(e, sizeof e, "no \"model\"");
    else if (check_model(model, e, sizeof e) == 0 && (t = load_vocab(model, jget(root, "added_tokens"), e, sizeof e))) {
        t->ignore_merges = jbool(model, "ignore_merges", false);
        if (load_merges(t, model, e, sizeof e) != 0 || load_normalizer(t, jget(root, "normalizer"), e, sizeof e) != 0 ||
            (jget(root, "pre_tokenizer") && load_pretok(t, jget(root, "pre_tokenizer"), &byte_level, e, sizeof e) != 0) ||
            check_decoder(jget(root, "decoder"), e, sizeof e) != 0 || tok_finish(t, e, sizeof e) != 0 ||
            load_special_ids(t, root, dir) != 0) {
            if (!e[0]) snprintf(e, sizeof e, "out of memory");
            mj_tokenizer_free(t);
            t = NULL;
        } else if (!byte_level) {
            snprintf(e, sizeof e, "no ByteLevel pre-tokenizer (only byte-level BPE is supported)");
            mj_tokenizer_free(t);
            t = NULL;
        }
    }
    if (!t) mj_err(err, errn, "%s: %s", json_path, e);
    json_object_put(root);
    return t;
}
