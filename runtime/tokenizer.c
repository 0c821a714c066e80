/* tokenizer.c — the public tokenizer API (tokenizer.h): loading dispatch,
 * construction helpers for the loaders, and the encode pipeline of HF
 * tokenizers for byte-level BPE:
 *   added tokens (raw text) -> normaliser -> added tokens (normalised text)
 *   -> pre-tokenizer splits (PCRE2) -> [ByteLevel prefix space] -> BPE.
 * Invalid UTF-8 (which HF cannot receive) is defined here: each maximal
 * ill-formed subsequence is cut out of the text and becomes a pre-token of
 * its own raw bytes (byte-level BPE), the valid text between is encoded as HF
 * would encode it on its own. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tokenizer_internal.h"

mj_tokenizer *tok_new(int32_t n_ids) {
    mj_tokenizer *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->n_ids = n_ids;
    t->bos = -1;
    t->dec = calloc((size_t)n_ids + 1, sizeof *t->dec);
    t->dec_len = calloc((size_t)n_ids + 1, sizeof *t->dec_len);
    t->flags = calloc((size_t)n_ids + 1, 1);
    bool ok = t->dec && t->dec_len && t->flags;
    ok = ok && mj_strmap_init(&t->raw_vocab, (size_t)n_ids) == 0;
    ok = ok && mj_strmap_init(&t->tok_str, (size_t)n_ids) == 0;
    ok = ok && mj_u64map_init(&t->merges, (size_t)n_ids * 2) == 0;
    if (!ok) {
        mj_tokenizer_free(t);
        return NULL;
    }
    return t;
}

void mj_tokenizer_free(mj_tokenizer *t) {
    if (!t) return;
    if (t->dec)
        for (int32_t i = 0; i < t->n_ids; i++) free(t->dec[i]);
    free(t->dec);
    free(t->dec_len);
    free(t->flags);
    mj_strmap_free(&t->raw_vocab);
    mj_strmap_free(&t->tok_str);
    mj_u64map_free(&t->merges);
    for (int i = 0; i < t->n_splits; i++) pcre2_code_free(t->splits[i].re);
    pcre2_code_free(t->word_re);
    for (size_t i = 0; i < t->n_added; i++) {
        free(t->added[i].content);
        free(t->added[i].norm);
    }
    free(t->added);
    tok_trie_free(&t->trie_raw);
    tok_trie_free(&t->trie_norm);
    free(t->eos);
    free(t);
}

/* Set what id decodes to from its token text; *mappable tells whether the
 * text was byte-level text. */
static int set_decode(mj_tokenizer *t, int32_t id, const char *txt, size_t len, bool *mappable) {
    char *buf = malloc(len + 1);
    if (!buf) return -1;
    long n = tok_unmap(txt, len, buf);
    *mappable = n >= 0;
    if (n < 0) {   /* not byte-level text: HF's decoder keeps the token's own bytes */
        memcpy(buf, txt, len);
        n = (long)len;
    }
    buf[n] = 0;
    free(t->dec[id]);
    t->dec[id] = buf;
    t->dec_len[id] = (uint32_t)n;
    return 0;
}

int tok_set_token(mj_tokenizer *t, int32_t id, const char *txt, size_t len, uint8_t flags) {
    bool mappable;
    if (id < 0 || id >= t->n_ids || set_decode(t, id, txt, len, &mappable) != 0) return -1;
    if (mappable && !(flags & TOK_F_ADDED) &&
        mj_strmap_put(&t->raw_vocab, t->dec[id], t->dec_len[id], (uint64_t)id) != 0)
        return -1;
    t->flags[id] = flags | TOK_F_USED;
    if ((flags & TOK_F_ADDED) && mj_strmap_get(&t->tok_str, txt, len, NULL)) return 0;   /* vocab keeps its id */
    return mj_strmap_put(&t->tok_str, txt, len, (uint64_t)id);
}

int tok_add_added(mj_tokenizer *t, const char *content, size_t len, int32_t id, bool special,
                  bool lstrip, bool rstrip, bool normalized, bool single_word) {
    tok_added *na = realloc(t->added, (t->n_added + 1) * sizeof *na);
    if (!na) return -1;
    t->added = na;
    char *c = malloc(len + 1);
    if (!c) return -1;
    memcpy(c, content, len);
    c[len] = 0;
    t->added[t->n_added++] = (tok_added){c, len, NULL, 0, id, special, lstrip, rstrip, normalized, single_word};
    return 0;
}

int tok_add_eos(mj_tokenizer *t, int32_t id) {
    if (id < 0) return 0;
    for (int i = 0; i < t->n_eos; i++)
        if (t->eos[i] == id) return 0;
    int32_t *ne = realloc(t->eos, (size_t)(t->n_eos + 1) * sizeof *ne);
    if (!ne) return -1;
    t->eos = ne;
    t->eos[t->n_eos++] = id;
    return 0;
}

int tok_finish(mj_tokenizer *t, char *err, size_t errn) {
    for (int b = 0; b < 256; b++) {
        uint8_t c = (uint8_t)b;
        uint64_t v;
        t->byte_id[b] = mj_strmap_get(&t->raw_vocab, &c, 1, &v) ? (int32_t)v : -1;
    }
    t->has_norm_added = false;
    for (size_t i = 0; i < t->n_added; i++) {
        if (t->added[i].id < 0 || t->added[i].id >= t->n_ids)
            return mj_err(err, errn, "added token '%s' has id %d outside the vocabulary",
                           t->added[i].content, (int)t->added[i].id);
        tok_added *a = &t->added[i];
        if (!a->normalized || t->norm == TOK_NORM_NONE) {
            a->normalized = false;   /* no normaliser: raw == normalised text */
            continue;
        }
        /* HF matches a normalized token by its normalised content */
        uint8_t *nc;
        size_t nl = 0;
        if (tok_utf8_valid_prefix((const uint8_t *)a->content, a->len) != a->len ||
            tok_normalize(t->norm, (const uint8_t *)a->content, a->len, &nc, &nl) != 0)
            return mj_err(err, errn, "added token '%s' cannot be normalised", a->content);
        free(a->norm);
        a->norm = (char *)nc;
        a->norm_len = nl;
        t->has_norm_added = true;
        bool mappable;   /* HF decodes it as its normalised content too */
        if (set_decode(t, a->id, a->norm, a->norm_len, &mappable) != 0) return mj_err(err, errn, "out of memory");
    }
    for (size_t i = 0; i < t->n_added; i++)
        if (t->added[i].single_word && !t->word_re && tok_compile_word_re(t, err, errn) != 0) return -1;
    if (tok_trie_build(&t->trie_raw, t->added, t->n_added, false) != 0 ||
        tok_trie_build(&t->trie_norm, t->added, t->n_added, true) != 0)
        return mj_err(err, errn, "out of memory");
    return 0;
}

/* ---- encode ------------------------------------------------------------------- */

typedef struct enc_ctx {
    const mj_tokenizer *t;
    tok_ids *out;
    pcre2_match_data *md;
} enc_ctx;

static int enc_split(enc_ctx *c, int k, const uint8_t *s, size_t len);

/* Enter pre-tokenizer stage k with piece s: where the ByteLevel stage starts
 * (k == prefix_at), its add_prefix_space prepends ' ' to every piece that
 * does not start with one. */
static int enc_stage(enc_ctx *c, int k, const uint8_t *s, size_t len) {
    if (len == 0) return 0;
    if (!c->t->prefix_space || k != c->t->prefix_at || s[0] == ' ') return enc_split(c, k, s, len);
    uint8_t *buf = malloc(len + 1);
    if (!buf) return -1;
    buf[0] = ' ';
    memcpy(buf + 1, s, len);
    int rc = enc_split(c, k, buf, len + 1);
    free(buf);
    return rc;
}

/* Next match of split k in s[0,len) from offset `at`: 1 with [*ms,*me), 0 if
 * none, -1 on a matching error. */
static int split_next(enc_ctx *c, int k, const uint8_t *s, size_t len, size_t at, size_t *ms, size_t *me) {
    const tok_split *sp = &c->t->splits[k];
    int rc = -1;
    if (sp->jit) rc = pcre2_jit_match(sp->re, s, len, at, PCRE2_NO_UTF_CHECK, c->md, NULL);
    if (!sp->jit || rc == PCRE2_ERROR_JIT_STACKLIMIT)
        rc = pcre2_match(sp->re, s, len, at, PCRE2_NO_UTF_CHECK, c->md, NULL);
    if (rc == PCRE2_ERROR_NOMATCH) return 0;
    if (rc < 0) return -1;
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(c->md);
    *ms = ov[0];
    *me = ov[1];
    return 1;
}

/* Apply pre-tokenizer split k (and the following ones) to s, then BPE. */
static int enc_split(enc_ctx *c, int k, const uint8_t *s, size_t len) {
    if (k >= c->t->n_splits) return tok_bpe(c->t, s, len, c->out);
    size_t pos = 0, at = 0;
    while (at <= len) {
        size_t ms, me;
        int r = split_next(c, k, s, len, at, &ms, &me);
        if (r < 0) return -1;
        if (r == 0) break;
        if (me == ms) {   /* empty match: no piece; step over one char */
            if (ms >= len) break;
            uint32_t cp;
            at = ms + tok_utf8_decode(s + ms, len - ms, &cp);
            continue;
        }
        if (ms > pos && enc_stage(c, k + 1, s + pos, ms - pos) != 0) return -1;
        if (c->t->splits[k].kind == TOK_SPLIT_ISOLATED && enc_stage(c, k + 1, s + ms, me - ms) != 0)
            return -1;
        pos = at = me;
    }
    return pos < len ? enc_stage(c, k + 1, s + pos, len - pos) : 0;
}

/* Text between added tokens, split again on the added tokens of trie tr. */
typedef int (*enc_fn)(enc_ctx *c, const uint8_t *s, size_t len);

static int enc_with_added(enc_ctx *c, const tok_trie *tr, const uint8_t *s, size_t len, enc_fn fn) {
    tok_match *m;
    long n = tok_find_added(c->t, tr, s, len, &m);
    if (n < 0) return -1;
    size_t pos = 0;
    int rc = 0;
    for (long i = 0; rc == 0 && i < n; i++) {
        if (m[i].start > pos) rc = fn(c, s + pos, m[i].start - pos);
        if (rc == 0) rc = tok_ids_push(c->out, c->t->added[m[i].idx].id);
        pos = m[i].stop;
    }
    if (rc == 0 && pos < len) rc = fn(c, s + pos, len - pos);
    free(m);
    return rc;
}

static int enc_pretok(enc_ctx *c, const uint8_t *s, size_t len) { return enc_stage(c, 0, s, len); }

/* Valid UTF-8 text: normalise, split on normalised added tokens, pre-tokenize. */
static int enc_valid(enc_ctx *c, const uint8_t *s, size_t len) {
    if (c->t->norm == TOK_NORM_NONE) return enc_pretok(c, s, len);
    uint8_t *nt;
    size_t nl;
    if (tok_normalize(c->t->norm, s, len, &nt, &nl) != 0) return -1;
    int rc = c->t->has_norm_added ? enc_with_added(c, &c->t->trie_norm, nt, nl, enc_pretok)
                                  : enc_pretok(c, nt, nl);
    free(nt);
    return rc;
}

/* Raw text between added tokens: cut out ill-formed UTF-8. */
static int enc_raw(enc_ctx *c, const uint8_t *s, size_t len) {
    size_t i = 0;
    while (i < len) {
        size_t ok = tok_utf8_valid_prefix(s + i, len - i);
        if (ok && enc_valid(c, s + i, ok) != 0) return -1;
        i += ok;
        if (i < len) {
            size_t bad = tok_utf8_bad_len(s + i, len - i);
            if (tok_bpe(c->t, s + i, bad, c->out) != 0) return -1;
            i += bad;
        }
    }
    return 0;
}

int mj_tokenizer_encode(const mj_tokenizer *t, const char *text, size_t len, bool add_bos,
                        int32_t **ids, size_t *n_ids) {
    tok_ids out = {0};
    *ids = NULL;
    *n_ids = 0;
    enc_ctx c = {t, &out, pcre2_match_data_create(4, NULL)};
    int rc = c.md ? 0 : -1;
    if (rc == 0 && add_bos && t->bos >= 0) rc = tok_ids_push(&out, t->bos);
    if (rc == 0 && len) rc = enc_with_added(&c, &t->trie_raw, (const uint8_t *)text, len, enc_raw);
    if (rc == 0 && !out.v) rc = tok_ids_push(&out, 0), out.n = 0;   /* non-NULL empty result */
    pcre2_match_data_free(c.md);
    if (rc != 0) {
        free(out.v);
        return -1;
    }
    *ids = out.v;
    *n_ids = out.n;
    return 0;
}

/* ---- decode and queries --------------------------------------------------------- */

char *mj_tokenizer_decode(const mj_tokenizer *t, const int32_t *ids, size_t n, bool skip_special) {
    size_t len;
    return mj_tokenizer_decode_len(t, ids, n, skip_special, &len);
}

char *mj_tokenizer_decode_len(const mj_tokenizer *t, const int32_t *ids, size_t n, bool skip_special,
                              size_t *len) {
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        if (ids[i] >= 0 && ids[i] < t->n_ids) total += t->dec_len[ids[i]];
    uint8_t *buf = malloc(total + 1);
    if (!buf) return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int32_t id = ids[i];
        if (id < 0 || id >= t->n_ids || !(t->flags[id] & TOK_F_USED)) continue;   /* HF drops unknown ids */
        if (skip_special && (t->flags[id] & TOK_F_SPECIAL)) continue;
        memcpy(buf + o, t->dec[id], t->dec_len[id]);
        o += t->dec_len[id];
    }
    char *s = tok_utf8_lossy(buf, o, len);
    free(buf);
    return s;
}

int32_t mj_tokenizer_vocab_size(const mj_tokenizer *t) { return t->n_ids; }
int32_t mj_tokenizer_bos(const mj_tokenizer *t) { return t->bos; }
bool mj_tokenizer_adds_bos(const mj_tokenizer *t) { return t->add_bos; }

const int32_t *mj_tokenizer_eos(const mj_tokenizer *t, int *n) {
    *n = t->n_eos;
    return t->eos;
}

int32_t mj_tokenizer_token_id(const mj_tokenizer *t, const char *token) {
    uint64_t v;
    for (size_t i = 0; i < t->n_added; i++)
        if (strcmp(t->added[i].content, token) == 0) return t->added[i].id;
    return mj_strmap_get(&t->tok_str, token, strlen(token), &v) ? (int32_t)v : -1;
}

static bool has_suffix(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

mj_tokenizer *mj_tokenizer_load(const char *path, char *err, size_t errn) {
    struct stat st;
    if (!path || stat(path, &st) != 0) {
        mj_err(err, errn, "%s: no such file or directory", path ? path : "(null)");
        return NULL;
    }
    if (S_ISDIR(st.st_mode)) {
        char *jp = malloc(strlen(path) + 32);
        if (!jp) return NULL;
        sprintf(jp, "%s/tokenizer.json", path);
        if (stat(jp, &st) != 0) {
            free(jp);
            mj_err(err, errn, "%s: the directory holds no tokenizer.json", path);
            return NULL;
        }
        mj_tokenizer *t = tok_load_json(jp, path, err, errn);
        free(jp);
        return t;
    }
    if (has_suffix(path, ".gguf")) return tok_load_gguf(path, err, errn);
    FILE *f = fopen(path, "rb");
    char magic[4] = {0};
    if (f) {
        size_t got = fread(magic, 1, 4, f);
        fclose(f);
        if (got == 4 && memcmp(magic, "GGUF", 4) == 0) return tok_load_gguf(path, err, errn);
    }
    /* tokenizer.json: configs are looked for in its directory */
    char *dir = strdup(path);
    if (!dir) return NULL;
    char *slash = strrchr(dir, '/');
    if (slash) *slash = 0;
    else strcpy(dir, ".");
    mj_tokenizer *t = tok_load_json(path, dir, err, errn);
    free(dir);
    return t;
}
