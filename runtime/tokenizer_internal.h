/* tokenizer_internal.h — the in-memory form of a byte-level BPE tokenizer,
 * shared by the tokenizer's source files (tokenizer.c: public API and the
 * encode pipeline; tokenizer_bpe.c: byte-level map and merges;
 * tokenizer_text.c: UTF-8, normalisation, added-token matching;
 * tokenizer_json.c / tokenizer_gguf.c: loaders).  Not a public header. */
#ifndef MJ_TOKENIZER_INTERNAL_H
#define MJ_TOKENIZER_INTERNAL_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "errbuf.h"
#include "hashmap.h"
#include "tokenizer.h"

#define TOK_MAX_SPLITS 4

/* An added token (HF AddedToken): matched in the text before the model runs. */
typedef struct tok_added {
    char *content;
    size_t len;
    char *norm;          /* normalized tokens: the normalised content (matched on normalised text) */
    size_t norm_len;
    int32_t id;
    bool special, lstrip, rstrip, normalized, single_word;
} tok_added;

/* Byte trie over added-token contents: leftmost-longest matching. */
typedef struct tok_trie_node {
    int32_t child;     /* first child index or -1 */
    int32_t sibling;   /* next sibling index or -1 */
    int32_t added;     /* index into added[] of a token ending here, or -1 */
    uint8_t byte;
} tok_trie_node;

typedef struct tok_trie {
    tok_trie_node *nodes;   /* node 0 is the root */
    size_t n, cap;
    int32_t first[256];     /* child of the root per first byte, or -1 */
} tok_trie;

typedef enum tok_norm { TOK_NORM_NONE, TOK_NORM_NFC, TOK_NORM_NFD, TOK_NORM_NFKC, TOK_NORM_NFKD } tok_norm;

/* Split behaviours of HF's Split pre-tokenizer that are supported. */
typedef enum tok_split_kind { TOK_SPLIT_ISOLATED, TOK_SPLIT_REMOVED } tok_split_kind;

typedef struct tok_split {
    pcre2_code *re;
    tok_split_kind kind;
    bool jit;
} tok_split;

struct mj_tokenizer {
    /* ids: model vocabulary and added tokens share one id space [0, n_ids) */
    int32_t n_ids;
    char **dec;              /* dec[id]: bytes the id decodes to (NULL: unused id) */
    uint32_t *dec_len;
    uint8_t *flags;          /* TOK_F_* per id */
    mj_strmap raw_vocab;     /* model token as raw bytes (byte-level unmapped) -> id */
    mj_strmap tok_str;       /* token text as written in the file -> id (token_id lookups) */
    mj_u64map merges;        /* (left << 32 | right) -> (rank << 32 | merged id) */
    int32_t byte_id[256];    /* id of the single-byte token per byte, -1 if absent */
    bool ignore_merges;

    /* normaliser + pre-tokenizer */
    tok_norm norm;
    tok_split splits[TOK_MAX_SPLITS];
    int n_splits;
    bool prefix_space;       /* ByteLevel add_prefix_space ... */
    int prefix_at;           /* ... applied to pieces entering split stage prefix_at */

    /* added tokens */
    tok_added *added;
    size_t n_added;
    tok_trie trie_raw;       /* normalized == false: matched on the raw text */
    tok_trie trie_norm;      /* normalized == true: matched after normalisation */
    bool has_norm_added;
    pcre2_code *word_re;     /* one word char (for single_word tokens), or NULL */

    int32_t bos;
    bool add_bos;            /* whether HF adds BOS by default (add_special_tokens) */
    int32_t *eos;
    int n_eos;
};

enum { TOK_F_USED = 1, TOK_F_ADDED = 2, TOK_F_SPECIAL = 4 };

/* Regexes of the ByteLevel pre-tokenizer (use_regex) and the others llama.cpp
 * names in GGUF files. */
extern const char tok_re_gpt2[];
extern const char tok_re_llama3[];
extern const char tok_re_qwen2[];

/* ---- tokenizer.c ---- */
/* Empty tokenizer with N_IDS id slots (all unused), or NULL on OOM. */
mj_tokenizer *tok_new(int32_t n_ids);
/* Set id's decoded bytes from the token text TXT (byte-level unmapped when
 * every char maps, else TXT's own bytes, as HF's ByteLevel decoder). */
int tok_set_token(mj_tokenizer *t, int32_t id, const char *txt, size_t len, uint8_t flags);
/* Register an added token (content copied).  0 or -1 on OOM. */
int tok_add_added(mj_tokenizer *t, const char *content, size_t len, int32_t id, bool special,
                  bool lstrip, bool rstrip, bool normalized, bool single_word);
/* Build tries / byte table after everything is loaded.  0 or -1 with err. */
int tok_finish(mj_tokenizer *t, char *err, size_t errn);
/* Append an EOS id if not present. */
int tok_add_eos(mj_tokenizer *t, int32_t id);
/* (error messages: mj_err of support/errbuf.h, NULL-safe, returns -1) */

/* ---- tokenizer_regex.c ---- */
/* Add a pre-tokenizer split: an Oniguruma-syntax regex (as HF writes them),
 * compiled with PCRE2 (UTF + UCP, JIT when available) after rewriting the
 * classes whose meaning differs (\s \S \w \W \h \H), or a literal string.
 * 0, or -1 with a message in err. */
int tok_add_split(mj_tokenizer *t, const char *pattern, size_t len, bool literal,
                  tok_split_kind kind, char *err, size_t errn);
/* Compile t->word_re: HF's word characters (regex-syntax's \w: Alphabetic,
 * marks, decimal digits, connector punctuation, joiners). */
int tok_compile_word_re(mj_tokenizer *t, char *err, size_t errn);
/* True when code point cp is a word character (t->word_re must be set). */
bool tok_is_word_cp(const mj_tokenizer *t, uint32_t cp);

/* ---- tokenizer_bpe.c ---- */
/* Byte-level map (GPT-2 bytes_to_unicode): code point of byte b. */
uint32_t tok_byte_to_cp(uint8_t b);
/* Inverse: byte of code point cp, or -1. */
int tok_cp_to_byte(uint32_t cp);
/* Unmap byte-level text TXT into OUT (room for len bytes); returns the byte
 * count, or -1 when some char is not in the byte-level map. */
long tok_unmap(const char *txt, size_t len, char *out);
/* Register merge LEFT+RIGHT (byte-level token texts) with RANK.  Returns 1 if
 * added, 0 if some part is not in the vocabulary (skipped), -1 on OOM. */
int tok_add_merge(mj_tokenizer *t, const char *left, size_t llen, const char *right,
                  size_t rlen, uint32_t rank);
/* BPE of one pre-token (raw bytes); appends ids to the growing array. */
typedef struct tok_ids {
    int32_t *v;
    size_t n, cap;
} tok_ids;
int tok_ids_push(tok_ids *a, int32_t id);
int tok_bpe(const mj_tokenizer *t, const uint8_t *s, size_t len, tok_ids *out);

/* ---- tokenizer_text.c ---- */
/* Length of the valid UTF-8 prefix of s[0..len) (stops at the first ill-formed
 * subsequence). */
size_t tok_utf8_valid_prefix(const uint8_t *s, size_t len);
/* Length of the maximal ill-formed subpart at s (>= 1), as from_utf8_lossy. */
size_t tok_utf8_bad_len(const uint8_t *s, size_t len);
/* Decode one UTF-8 char (valid input assumed); returns its length. */
size_t tok_utf8_decode(const uint8_t *s, size_t len, uint32_t *cp);
/* Copy replacing ill-formed sequences by U+FFFD; returns a malloc'd
 * NUL-terminated string (its length in *out_len) or NULL on OOM. */
char *tok_utf8_lossy(const uint8_t *s, size_t len, size_t *out_len);
/* Normalise valid UTF-8 s; *out malloc'd (caller frees).  0 / -1. */
int tok_normalize(tok_norm norm, const uint8_t *s, size_t len, uint8_t **out, size_t *out_len);
/* Trie of added tokens: build from those with normalized == NORMALIZED. */
int tok_trie_build(tok_trie *tr, const tok_added *added, size_t n, bool normalized);
void tok_trie_free(tok_trie *tr);
/* One added-token match: bytes [start, stop) are token added[idx]. */
typedef struct tok_match {
    size_t start, stop;
    int32_t idx;
} tok_match;
/* Find the added-token matches in s as HF's AddedVocabulary::find_matches
 * (leftmost-longest, non-overlapping, with single_word/lstrip/rstrip).  *out
 * malloc'd.  Returns the count, or -1 on OOM. */
long tok_find_added(const mj_tokenizer *t, const tok_trie *tr, const uint8_t *s, size_t len,
                    tok_match **out);

/* ---- loaders ---- */
mj_tokenizer *tok_load_json(const char *json_path, const char *dir, char *err, size_t errn);
mj_tokenizer *tok_load_gguf(const char *path, char *err, size_t errn);

#endif
