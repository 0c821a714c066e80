/* tokenizer_regex.c — the pre-tokenizer's regexes.  HF tokenizers runs its
 * Split patterns with Oniguruma; maskjit runs them with PCRE2 (UTF + UCP).
 * The two agree on \p{L}, \p{N}, look-arounds and (?i:...), but not on some
 * shorthand classes, so those are rewritten into explicit classes before
 * compiling:
 *   \s  Oniguruma: the White_Space property (includes U+0085, excludes U+180E);
 *       PCRE2 counts U+180E as a space.
 *   \w  Oniguruma: Letter | Mark | Number | Connector_Punctuation;
 *       PCRE2 10.42: \p{L} | \p{N} | '_'.
 *   \h  Oniguruma: a hexadecimal digit; PCRE2: horizontal space.
 * (\S \W \H: the complements.  Inside a bracket class the positive forms
 * expand to their members; a negated form inside brackets is left as PCRE2
 * reads it.) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer_internal.h"

/* HF ByteLevel's regex (GPT-2), and the Llama 3 / Qwen2 split regexes as their
 * tokenizer.json files write them (used for GGUF files naming them). */
const char tok_re_gpt2[] =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
const char tok_re_llama3[] =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
    "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const char tok_re_qwen2[] =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
    "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

static const char ws_members[] =
    "\\t\\n\\x0b\\f\\r\\x20\\x{85}\\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}\\x{202f}\\x{205f}\\x{3000}";
static const char word_members[] = "\\p{L}\\p{M}\\p{N}\\p{Pc}";
static const char hex_members[] = "0-9a-fA-F";

/* Members of the class escape c ('s', 'w', 'h' or upper case), or NULL. */
static const char *class_members(char c) {
    switch (c) {
    case 's': case 'S': return ws_members;
    case 'w': case 'W': return word_members;
    case 'h': case 'H': return hex_members;
    default: return NULL;
    }
}

/* Rewrite pattern p[0,len) into a malloc'd NUL-terminated string. */
static char *rewrite_classes(const char *p, size_t len) {
    size_t cap = len * 2 + 256, o = 0;
    char *out = malloc(cap);
    if (!out) return NULL;
    bool in_class = false;
    for (size_t i = 0; i < len; i++) {
        const char *m = NULL;
        bool neg = false;
        if (p[i] == '\\' && i + 1 < len) {
            m = class_members(p[i + 1]);
            neg = p[i + 1] >= 'A' && p[i + 1] <= 'Z';
            if (m && in_class && neg) m = NULL;   /* complement inside [...]: leave it */
        }
        size_t need = m ? strlen(m) + 4 : 2;
        if (o + need + 1 > cap) {
            cap = (cap + need) * 2;
            char *n = realloc(out, cap);
            if (!n) {
                free(out);
                return NULL;
            }
            out = n;
        }
        if (m) {
            if (in_class) o += (size_t)sprintf(out + o, "%s", m);
            else o += (size_t)sprintf(out + o, neg ? "[^%s]" : "[%s]", m);
            i++;
            continue;
        }
        if (p[i] == '\\' && i + 1 < len) {   /* any other escape: copy both chars */
            out[o++] = p[i++];
            out[o++] = p[i];
            continue;
        }
        if (!in_class && p[i] == '[') {
            in_class = true;
            out[o++] = p[i];
            if (i + 1 < len && p[i + 1] == '^') out[o++] = p[++i];
            if (i + 1 < len && p[i + 1] == ']') out[o++] = p[++i];   /* leading ']' is literal */
            continue;
        }
        if (in_class && p[i] == ']') in_class = false;
        out[o++] = p[i];
    }
    out[o] = 0;
    return out;
}

int tok_add_split(mj_tokenizer *t, const char *pattern, size_t len, bool literal,
                  tok_split_kind kind, char *err, size_t errn) {
    if (t->n_splits >= TOK_MAX_SPLITS) return mj_err(err, errn, "too many pre-tokenizer splits");
    char *pat = literal ? NULL : rewrite_classes(pattern, len);
    if (!literal && !pat) return mj_err(err, errn, "out of memory");
    int ec;
    PCRE2_SIZE eo;
    uint32_t opt = PCRE2_UTF | PCRE2_NO_UTF_CHECK | (literal ? PCRE2_LITERAL : PCRE2_UCP);
    pcre2_code *re = literal ? pcre2_compile((PCRE2_SPTR)pattern, len, opt, &ec, &eo, NULL)
                             : pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED, opt, &ec, &eo, NULL);
    free(pat);
    if (!re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(ec, msg, sizeof msg);
        return mj_err(err, errn, "pre-tokenizer regex '%.*s' does not compile: %s", (int)(len > 200 ? 200 : len),
                       pattern, (char *)msg);
    }
    tok_split *sp = &t->splits[t->n_splits++];
    sp->re = re;
    sp->kind = kind;
    sp->jit = pcre2_jit_compile(re, PCRE2_JIT_COMPLETE) == 0;
    return 0;
}

int tok_compile_word_re(mj_tokenizer *t, char *err, size_t errn) {
    static const char word[] = "[\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\x{200c}\\x{200d}]";
    int ec;
    PCRE2_SIZE eo;
    t->word_re = pcre2_compile((PCRE2_SPTR)word, PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP, &ec, &eo, NULL);
    return t->word_re ? 0 : mj_err(err, errn, "PCRE2 lacks Unicode property support");
}

bool tok_is_word_cp(const mj_tokenizer *t, uint32_t cp) {
    if (cp < 128) return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || cp == '_';
    if (!t->word_re || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    uint8_t b[4];
    size_t n;
    if (cp < 0x800) {
        b[0] = (uint8_t)(0xC0 | cp >> 6), b[1] = (uint8_t)(0x80 | (cp & 63)), n = 2;
    } else if (cp < 0x10000) {
        b[0] = (uint8_t)(0xE0 | cp >> 12), b[1] = (uint8_t)(0x80 | (cp >> 6 & 63)), b[2] = (uint8_t)(0x80 | (cp & 63));
        n = 3;
    } else {
        b[0] = (uint8_t)(0xF0 | cp >> 18), b[1] = (uint8_t)(0x80 | (cp >> 12 & 63));
        b[2] = (uint8_t)(0x80 | (cp >> 6 & 63)), b[3] = (uint8_t)(0x80 | (cp & 63)), n = 4;
    }
    pcre2_match_data *md = pcre2_match_data_create(1, NULL);
    if (!md) return false;
    int rc = pcre2_match(t->word_re, b, n, 0, PCRE2_ANCHORED, md, NULL);
    pcre2_match_data_free(md);
    return rc >= 0;
}
