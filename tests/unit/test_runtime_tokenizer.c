/* test_runtime_tokenizer.c — parity of maskjit's byte-level BPE tokenizer with
 * HF `tokenizers` (fixtures made by tests/tokenizer/make_fixtures.py under
 * tests/data/tokenizer/), plus its own rules: invalid UTF-8, BOS/EOS, token
 * lookups, load errors.  Llama 3 / Qwen3 need ../shared/data (skipped with a
 * message when absent); SmolLM2 needs the GGUF under models/
 * (scripts/fetch-smollm2.sh). */
#include <glob.h>
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support/testlib.h"
#include "tokenizer.h"


/* ---- small helpers --------------------------------------------------------------- */

static uint32_t fnv1a32(const char *s, size_t n) {
    uint32_t h = 0x811C9DC5u;
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 0x01000193u;
    return h;
}

/* Decode hex in place; returns the byte count. */
static size_t unhex(char *s) {
    size_t n = strlen(s) / 2;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(s + 2 * i, "%2x", &v);
        s[i] = (char)v;
    }
    s[n] = 0;
    return n;
}

/* Parse space-separated ids (malloc'd array). */
static int32_t *parse_ids(const char *s, size_t *n) {
    size_t cap = 16;
    int32_t *v = malloc(cap * sizeof *v);
    *n = 0;
    while (*s) {
        char *end;
        long x = strtol(s, &end, 10);
        if (end == s) break;
        if (*n == cap) v = realloc(v, (cap *= 2) * sizeof *v);
        v[(*n)++] = (int32_t)x;
        s = end;
    }
    return v;
}

/* Split a line at tabs (in place) into at most max fields. */
static int split_tabs(char *line, char **f, int max) {
    int n = 0;
    f[n++] = line;
    for (char *p = line; *p && n < max; p++)
        if (*p == '\t') {
            *p = 0;
            f[n++] = p + 1;
        }
    return n;
}

static bool same_ids(const int32_t *a, size_t na, const int32_t *b, size_t nb) {
    return na == nb && (na == 0 || memcmp(a, b, na * sizeof *a) == 0);
}

static void print_ids(const char *what, const int32_t *v, size_t n) {
    fprintf(stderr, "  %s:", what);
    for (size_t i = 0; i < n && i < 40; i++) fprintf(stderr, " %d", (int)v[i]);
    fprintf(stderr, n > 40 ? " ...\n" : "\n");
}

/* Compare decode(ids) with the expected text; reports under `where`. */
static bool check_decode(const mj_tokenizer *t, const int32_t *ids, size_t n, bool skip, const char *want,
                         size_t wlen, const char *where) {
    size_t len;
    char *got = mj_tokenizer_decode_len(t, ids, n, skip, &len);
    bool ok = got && len == wlen && memcmp(got, want, wlen) == 0;
    if (!ok) fprintf(stderr, "%s: decode(skip_special=%d) differs: got '%s' want '%s'\n", where, skip, got, want);
    free(got);
    return ok;
}

/* ---- fixtures ----------------------------------------------------------------------- */

static FILE *open_gz(const char *path) {
    struct stat st;
    if (stat(path, &st) != 0) return NULL;
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "gzip -dc '%s'", path);
    return popen(cmd, "r");
}

/* Adversarial fixture: encode + both decodes of every E line, decodes of D lines. */
static void run_adv(const mj_tokenizer *t, const char *name) {
    char path[512];
    snprintf(path, sizeof path, "tests/data/tokenizer/adv_%s.txt.gz", name);
    FILE *f = open_gz(mj_test_path(path));
    CHECKF(f != NULL, "%s missing (run tests/tokenizer/make_fixtures.py)", path);
    if (!f) return;
    char *line = NULL;
    size_t cap = 0, n_enc = 0, n_enc_ok = 0, n_dec = 0, n_dec_ok = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) > 0) {
        if (line[len - 1] == '\n') line[len - 1] = 0;
        char *fl[5];
        int nf = split_tabs(line, fl, 5);
        bool enc = fl[0][0] == 'E' && nf == 5, dec = fl[0][0] == 'D' && nf == 4;
        if (!enc && !dec) continue;
        char **g = enc ? fl + 1 : fl;   /* g[1] ids, g[2] decode, g[3] decode skipping specials */
        size_t tlen = enc ? unhex(g[0]) : 0, n_want;
        int32_t *want = parse_ids(g[1], &n_want);
        size_t d0 = unhex(g[2]), d1 = unhex(g[3]);
        bool ok = true;
        if (enc) {
            int32_t *got;
            size_t n_got;
            n_enc++;
            ok = mj_tokenizer_encode(t, g[0], tlen, false, &got, &n_got) == 0 && same_ids(got, n_got, want, n_want);
            if (!ok) {
                fprintf(stderr, "%s: encode differs on '%s'\n", name, g[0]);
                print_ids("want", want, n_want);
                print_ids("got ", got, n_got);
            }
            n_enc_ok += ok;
            free(got);
        }
        n_dec++;
        ok = check_decode(t, want, n_want, false, g[2], d0, name);
        ok = check_decode(t, want, n_want, true, g[3], d1, name) && ok;
        n_dec_ok += ok;
        free(want);
    }
    free(line);
    pclose(f);
    printf("%s adversarial: encode %zu/%zu identical, decode %zu/%zu identical\n", name, n_enc_ok, n_enc, n_dec_ok,
           n_dec);
    CHECKF(n_enc >= 1000 && n_enc_ok == n_enc, "%s: %zu of %zu encodes identical", name, n_enc_ok, n_enc);
    CHECKF(n_dec_ok == n_dec, "%s: %zu of %zu decodes identical", name, n_dec_ok, n_dec);
}

typedef struct text_list {
    char **v;
    size_t n, cap;
} text_list;

static void texts_push(text_list *l, const char *s) {
    if (l->n == l->cap) l->v = realloc(l->v, (l->cap = l->cap ? l->cap * 2 : 1024) * sizeof *l->v);
    l->v[l->n++] = strdup(s);
}

/* The real-data texts, in make_fixtures.py's order; false if data is absent. */
static bool real_texts(text_list *l) {
    const char *wq = mj_test_shared_data("webquestions"), *ml = mj_test_shared_data("myriadlama/questions.jsonl");
    if (!wq || !ml) return false;
    char pat[4200];
    snprintf(pat, sizeof pat, "%s/*.json", wq);
    glob_t gl;
    if (glob(pat, 0, NULL, &gl) != 0) return false;
    for (size_t i = 0; i < gl.gl_pathc; i++) {
        json_object *arr = json_object_from_file(gl.gl_pathv[i]);
        for (size_t k = 0; arr && k < json_object_array_length(arr); k++) {
            json_object *q;
            if (json_object_object_get_ex(json_object_array_get_idx(arr, k), "qText", &q))
                texts_push(l, json_object_get_string(q));
        }
        json_object_put(arr);
    }
    globfree(&gl);
    FILE *f = fopen(ml, "r");
    char *line = NULL;
    size_t cap = 0;
    while (f && getline(&line, &cap, f) > 0) {
        json_object *o = json_tokener_parse(line), *p;
        if (o && json_object_object_get_ex(o, "paraphrases", &p))
            for (size_t k = 0; k < json_object_array_length(p); k++)
                texts_push(l, json_object_get_string(json_object_array_get_idx(p, k)));
        json_object_put(o);
    }
    free(line);
    if (f) fclose(f);
    return true;
}

static void run_real(const mj_tokenizer *t, const char *name, const text_list *texts) {
    char path[512];
    snprintf(path, sizeof path, "tests/data/tokenizer/real_%s.txt.gz", name);
    FILE *f = open_gz(mj_test_path(path));
    CHECKF(f != NULL, "%s missing", path);
    if (!f) return;
    char *line = NULL;
    size_t cap = 0, i = 0, n_ok = 0, n_dec_ok = 0, bytes = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) > 0 && i < texts->n) {
        if (line[len - 1] == '\n') line[len - 1] = 0;
        char *fl[3];
        int nf = split_tabs(line, fl, 3);
        const char *s = texts->v[i++];
        size_t sl = strlen(s), n_want, n_got;
        bytes += sl;
        if (strtoul(fl[0], NULL, 16) != fnv1a32(s, sl)) {
            CHECKF(0, "%s: real text %zu is not the one the fixture was made from", name, i);
            break;
        }
        int32_t *want = parse_ids(nf > 1 ? fl[1] : "", &n_want), *got;
        bool ok = mj_tokenizer_encode(t, s, sl, false, &got, &n_got) == 0 && same_ids(got, n_got, want, n_want);
        if (!ok) {
            fprintf(stderr, "%s: encode differs on real text '%s'\n", name, s);
            print_ids("want", want, n_want);
            print_ids("got ", got, n_got);
        }
        n_ok += ok;
        size_t dl = nf > 2 ? unhex(fl[2]) : sl;
        n_dec_ok += check_decode(t, want, n_want, false, nf > 2 ? fl[2] : s, dl, name);
        free(got);
        free(want);
    }
    free(line);
    pclose(f);
    printf("%s real data: encode %zu/%zu identical, decode %zu/%zu identical (%zu bytes)\n", name, n_ok, i,
           n_dec_ok, i, bytes);
    CHECKF(i == texts->n && n_ok == i && n_dec_ok == i, "%s: real-data parity %zu/%zu of %zu", name, n_ok, i,
           texts->n);
}

/* ---- maskjit's own rules -------------------------------------------------------------- */

static int32_t *enc(const mj_tokenizer *t, const char *s, size_t len, bool bos, size_t *n) {
    int32_t *ids = NULL;
    if (mj_tokenizer_encode(t, s, len, bos, &ids, n) != 0) *n = 0;
    return ids;
}

/* True when every byte of s has its byte-level token (SmolLM2 lacks some). */
static bool has_byte_tokens(const mj_tokenizer *t, const char *s) {
    for (; *s; s++) {
        unsigned b = (uint8_t)*s, cp = b;
        if (b <= 32) cp = 256 + b;
        else if (b >= 127 && b <= 160) cp = 289 + (b - 127);
        else if (b == 173) cp = 323;
        char u[3] = {(char)(0xC0 | (cp >> 6)), (char)(0x80 | (cp & 0x3F)), 0};
        if (cp < 128) u[0] = (char)cp, u[1] = 0;
        if (mj_tokenizer_token_id(t, u) < 0) return false;
    }
    return true;
}

/* Invalid UTF-8: cut out as byte pre-tokens; the valid text around encodes
 * as on its own; decoding gives U+FFFD per maximal ill-formed subpart. */
static void test_invalid_utf8(const mj_tokenizer *t, const char *name, bool check_decodes) {
    static const struct { const char *in; const char *dec; } cases[] = {
        {"a\xff" "b", "a\xEF\xBF\xBD" "b"},
        {"\xe4\xb8", "\xEF\xBF\xBD"},                              /* truncated 中 */
        {"\xe4\xb8" "a", "\xEF\xBF\xBD" "a"},
        {"\xed\xa0\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},  /* surrogate: 3 subparts */
        {"\xf0\x9f\x98", "\xEF\xBF\xBD"},                          /* truncated emoji */
        {"\xc0\xaf", "\xEF\xBF\xBD\xEF\xBF\xBD"},
        {"\xf4\x90\x80\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},
        {"hello \x80\x80 world's", "hello \xEF\xBF\xBD\xEF\xBF\xBD world's"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        /* HF drops bytes without a token; prefix spaces (toys) change the decode */
        if (!check_decodes || !has_byte_tokens(t, cases[i].in)) continue;
        size_t n;
        int32_t *ids = enc(t, cases[i].in, strlen(cases[i].in), false, &n);
        CHECKF(n > 0, "%s: invalid UTF-8 case %zu encodes", name, i);
        char *d = mj_tokenizer_decode(t, ids, n, false);
        CHECKF(d && strcmp(d, cases[i].dec) == 0, "%s: invalid UTF-8 case %zu decodes to '%s'", name, i, d);
        free(d);
        free(ids);
    }
    /* encode(A + bad + B) == encode(A) + bytes(bad) + encode(B) */
    const char *a = "The capital", *b = " of France is";
    char buf[64];
    snprintf(buf, sizeof buf, "%s\xff\xfe%s", a, b);
    size_t na, nb, nx, nbad;
    int32_t *ia = enc(t, a, strlen(a), false, &na), *ib = enc(t, b, strlen(b), false, &nb);
    int32_t *ix = enc(t, buf, strlen(buf), false, &nx), *ibad = enc(t, "\xff\xfe", 2, false, &nbad);
    bool ok = nx == na + nbad + nb && !memcmp(ix, ia, na * 4) && !memcmp(ix + na, ibad, nbad * 4) &&
              !memcmp(ix + na + nbad, ib, nb * 4);
    CHECKF(ok, "%s: invalid bytes split the text without changing its valid parts", name);
    free(ia);
    free(ib);
    free(ix);
    free(ibad);
}

static void test_api_llama3(const mj_tokenizer *t) {
    CHECK(mj_tokenizer_bos(t) == 128000);
    CHECK(!mj_tokenizer_adds_bos(t));  /* this tokenizer.json has no TemplateProcessing: HF adds no BOS */
    int ne;
    const int32_t *eos = mj_tokenizer_eos(t, &ne);
    CHECK(ne >= 1 && eos[0] == 128001);
    CHECK(mj_tokenizer_vocab_size(t) == 128256);
    CHECK(mj_tokenizer_token_id(t, "<|eot_id|>") == 128009);
    CHECK(mj_tokenizer_token_id(t, "Hello") == 9906);
    CHECK(mj_tokenizer_token_id(t, "no such token, surely") == -1);
    size_t n;
    int32_t *ids = enc(t, "Hello world", 11, true, &n);
    CHECK(n == 3 && ids[0] == 128000 && ids[1] == 9906 && ids[2] == 1917);
    char *d = mj_tokenizer_decode(t, ids, n, false), *ds = mj_tokenizer_decode(t, ids, n, true);
    CHECK(d && strcmp(d, "<|begin_of_text|>Hello world") == 0);
    CHECK(ds && strcmp(ds, "Hello world") == 0);
    free(d);
    free(ds);
    free(ids);
    ids = enc(t, "", 0, false, &n);
    CHECK(ids != NULL && n == 0);
    free(ids);
    ids = enc(t, "", 0, true, &n);
    CHECK(n == 1 && ids[0] == 128000);
    free(ids);
    /* partial UTF-8 across tokens: 中 split into single-byte tokens decodes whole */
    int32_t bytes[3] = {mj_tokenizer_token_id(t, "ä"), mj_tokenizer_token_id(t, "¸"), mj_tokenizer_token_id(t, "Ń")};
    d = mj_tokenizer_decode(t, bytes, 3, false);
    CHECKF(d && strcmp(d, "中") == 0, "byte tokens of 中 decode to '%s'", d);
    free(d);
    d = mj_tokenizer_decode(t, bytes, 2, false);
    CHECK(d && strcmp(d, "\xEF\xBF\xBD") == 0);
    free(d);
}

static void test_api_qwen3(const mj_tokenizer *t) {
    CHECK(mj_tokenizer_bos(t) == -1);
    CHECK(!mj_tokenizer_adds_bos(t));
    int ne;
    const int32_t *eos = mj_tokenizer_eos(t, &ne);
    CHECK(ne >= 1 && eos[0] == 151645);
    CHECK(mj_tokenizer_token_id(t, "<|im_start|>") == 151644);
    size_t n;
    int32_t *ids = enc(t, "hi", 2, true, &n);   /* no BOS to add */
    CHECK(n == 1);
    free(ids);
    /* NFC: decomposed é encodes as the composed one */
    size_t n1, n2;
    int32_t *a = enc(t, "e\xcc\x81", 3, false, &n1), *b = enc(t, "\xc3\xa9", 2, false, &n2);
    CHECK(same_ids(a, n1, b, n2));
    free(a);
    free(b);
}

static void test_load_errors(void) {
    char err[512] = "";
    CHECK(mj_tokenizer_load("/nonexistent/tokenizer.json", err, sizeof err) == NULL && strstr(err, "nonexistent"));
    char path[] = "/tmp/mj_tok_test_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    static const char *bad[] = {
        "{ not json",
        "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {}}}",
        "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [\"a\"]}}",
        "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": -3}, \"merges\": []}}",
        "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}, "
        "\"pre_tokenizer\": {\"type\": \"Metaspace\"}}",
        "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}, \"pre_tokenizer\": "
        "{\"type\": \"Split\", \"pattern\": {\"Regex\": \"(\"}, \"behavior\": \"Isolated\"}}",
        "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}}",   /* no ByteLevel */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        FILE *f = fopen(path, "w");
        fputs(bad[i], f);
        fclose(f);
        err[0] = 0;
        mj_tokenizer *t = mj_tokenizer_load(path, err, sizeof err);
        CHECKF(t == NULL && err[0], "bad tokenizer %zu is refused (err '%s')", i, err);
        mj_tokenizer_free(t);
    }
    unlink(path);
    if (fd >= 0) close(fd);
}

/* Write a GGUF v3 file whose metadata holds string values (val) or, where
 * arr_n > 0, one string array of arr_n copies of "a". */
static void write_gguf(const char *path, int n, const char **keys, const char **vals) {
    FILE *f = fopen(path, "wb");
    uint32_t ver = 3, t_str = 8, t_arr = 9;
    uint64_t zero = 0, nkv = (uint64_t)n;
    fwrite("GGUF", 1, 4, f);
    fwrite(&ver, 4, 1, f);
    fwrite(&zero, 8, 1, f);
    fwrite(&nkv, 8, 1, f);
    for (int i = 0; i < n; i++) {
        uint64_t kl = strlen(keys[i]), vl = vals[i] ? strlen(vals[i]) : 1, one = 1;
        fwrite(&kl, 8, 1, f);
        fwrite(keys[i], 1, kl, f);
        if (vals[i]) {
            fwrite(&t_str, 4, 1, f);
            fwrite(&vl, 8, 1, f);
            fwrite(vals[i], 1, vl, f);
        } else {   /* array of one string "a" */
            fwrite(&t_arr, 4, 1, f);
            fwrite(&t_str, 4, 1, f);
            fwrite(&one, 8, 1, f);
            fwrite(&vl, 8, 1, f);
            fwrite("a", 1, 1, f);
        }
    }
    fclose(f);
}

static void test_gguf_errors(void) {
    char path[] = "/tmp/mj_tok_gguf_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0) return;
    close(fd);
    static const char *k1[] = {"general.architecture"}, *v1[] = {"llama"};
    static const char *k2[] = {"tokenizer.ggml.model", "tokenizer.ggml.tokens"}, *v2[] = {"llama", NULL};
    static const char *k3[] = {"tokenizer.ggml.model", "tokenizer.ggml.pre", "tokenizer.ggml.tokens"},
                      *v3[] = {"gpt2", "no-such-pre", NULL}, *v4[] = {"gpt2", "qwen2", NULL};
    static const char *k5[] = {"tokenizer.ggml.model"}, *v5[] = {"gpt2"};
    struct { int n; const char **k, **v; const char *want; } cases[] = {
        {1, k1, v1, "no tokenizer.ggml.model"}, {2, k2, v2, "'llama' is not supported"},
        {3, k3, v3, "'no-such-pre' is not supported"}, {1, k5, v5, "tokenizer.ggml.tokens"}};
    char err[512];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_gguf(path, cases[i].n, cases[i].k, cases[i].v);
        err[0] = 0;
        mj_tokenizer *t = mj_tokenizer_load(path, err, sizeof err);
        CHECKF(!t && strstr(err, cases[i].want), "GGUF case %zu refused with '%s' (got '%s')", i, cases[i].want, err);
        mj_tokenizer_free(t);
    }
    write_gguf(path, 3, k3, v4);   /* one token "a", no merges: loads, encodes "aa" as two "a" */
    mj_tokenizer *t = mj_tokenizer_load(path, err, sizeof err);
    CHECKF(t != NULL, "minimal GGUF tokenizer loads: %s", err);
    if (t) {
        size_t n;
        int32_t *ids = enc(t, "aab", 3, true, &n);   /* no BOS; 'b' has no token: dropped as HF */
        CHECK(n == 2 && ids[0] == 0 && ids[1] == 0 && mj_tokenizer_bos(t) == -1);
        free(ids);
        mj_tokenizer_free(t);
    }
    unlink(path);
}

static void write_file(const char *dir, const char *name, const char *text) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* A model directory: BOS/EOS from tokenizer_config.json, config.json and
 * generation_config.json (EOS ids are the union, in that order). */
static void test_model_dir(void) {
    char dir[] = "/tmp/mj_tok_dir_XXXXXX", link[600], p[600];
    if (!mkdtemp(dir)) return;
    snprintf(link, sizeof link, "%s/tokenizer.json", dir);
    char *target = realpath(mj_test_path("tests/data/tokenizer/toy/tokenizer.json"), NULL);
    CHECK(target && symlink(target, link) == 0);
    free(target);
    write_file(dir, "tokenizer_config.json", "{\"bos_token\": {\"content\": \"</s>\"}, \"eos_token\": \"</s>\"}");
    write_file(dir, "config.json", "{\"bos_token_id\": 0, \"eos_token_id\": [1, 701]}");
    write_file(dir, "generation_config.json", "{\"eos_token_id\": 702}");
    char err[512];
    mj_tokenizer *t = mj_tokenizer_load(dir, err, sizeof err);
    CHECKF(t != NULL, "model dir loads: %s", err);
    if (t) {
        int ne;
        const int32_t *eos = mj_tokenizer_eos(t, &ne);
        CHECK(mj_tokenizer_bos(t) == 1);   /* tokenizer_config.json wins over the template */
        CHECK(ne == 3 && eos[0] == 1 && eos[1] == 701 && eos[2] == 702);
        mj_tokenizer_free(t);
    }
    write_file(dir, "tokenizer_config.json", "{\"bos_token\": null}");   /* explicitly none */
    t = mj_tokenizer_load(dir, err, sizeof err);
    CHECK(t && mj_tokenizer_bos(t) == -1);
    mj_tokenizer_free(t);
    static const char *names[] = {"tokenizer.json", "tokenizer_config.json", "config.json", "generation_config.json"};
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        unlink(p);
    }
    rmdir(dir);
}

/* Load a tokenizer or skip with a message. */
static mj_tokenizer *load_or_skip(const char *path, const char *name) {
    if (!path) {
        printf("SKIP %s: not present\n", name);
        return NULL;
    }
    char err[512];
    mj_tokenizer *t = mj_tokenizer_load(path, err, sizeof err);
    CHECKF(t != NULL, "%s loads: %s", name, err);
    return t;
}

int main(void) {
    test_load_errors();
    test_gguf_errors();
    test_model_dir();
    text_list texts = {0};
    bool have_real = real_texts(&texts);
    if (!have_real) printf("SKIP real-data parity: ../shared/data is absent\n");
    struct stat st;
    const char *gguf = mj_test_path("models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf");
    /* (mj_test_path / mj_test_shared_data return rotating static buffers: copy) */
    const char *l3 = mj_test_shared_data("tokenizers/llama3"), *q3 = mj_test_shared_data("tokenizers/qwen3");
    enum { N_TOK = 8 };
    static const char *names[N_TOK] = {"llama3", "qwen3", "smollm2", "toy", "toy2",
                                       "gguf_qwen2", "gguf_llama-bpe", "gguf_smollm"};
    char *paths[N_TOK] = {l3 ? strdup(l3) : NULL, q3 ? strdup(q3) : NULL,
                          stat(gguf, &st) == 0 ? strdup(gguf) : NULL,
                          strdup(mj_test_path("tests/data/tokenizer/toy")),
                          strdup(mj_test_path("tests/data/tokenizer/toy2/tokenizer.json")),
                          strdup(mj_test_path("tests/data/tokenizer/toy_qwen2.gguf")),
                          strdup(mj_test_path("tests/data/tokenizer/toy_llama-bpe.gguf")),
                          strdup(mj_test_path("tests/data/tokenizer/toy_smollm.gguf"))};
    for (int k = 0; k < N_TOK; k++) {
        mj_tokenizer *t = load_or_skip(paths[k], names[k]);
        if (!t) continue;
        run_adv(t, names[k]);
        if (have_real && k < 3) run_real(t, names[k], &texts);
        test_invalid_utf8(t, names[k], k < 3 || k >= 5);   /* toys 3, 4 add prefix spaces */
        if (k == 0) test_api_llama3(t);
        if (k == 1) test_api_qwen3(t);
        if (k == 3) CHECK(mj_tokenizer_bos(t) == 0 && mj_tokenizer_adds_bos(t));   /* from TemplateProcessing */
        if (k >= 5) {                                  /* from the GGUF metadata */
            int ne;
            const int32_t *eos = mj_tokenizer_eos(t, &ne);
            CHECK(mj_tokenizer_bos(t) == 0 && ne == 1 && eos[0] == 1);
        }
        mj_tokenizer_free(t);
    }
    for (int k = 0; k < N_TOK; k++) free(paths[k]);
    for (size_t i = 0; i < texts.n; i++) free(texts.v[i]);
    free(texts.v);
    return mj_test_finish();
}
