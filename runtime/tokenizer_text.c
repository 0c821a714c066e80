/* tokenizer_text.c — text helpers of the tokenizer: UTF-8 validation and the
 * lossy decoding of Rust's String::from_utf8_lossy (each maximal ill-formed
 * subpart becomes one U+FFFD), Unicode normalisation (utf8proc), and the
 * added-token matcher (a byte trie; HF's leftmost-longest Aho-Corasick
 * semantics with the single_word / lstrip / rstrip rules). */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "tokenizer_internal.h"

/* Expected length of a sequence starting with lead byte c (0: invalid lead),
 * and the allowed range of its second byte. */
static int utf8_lead(uint8_t c, uint8_t *lo, uint8_t *hi) {
    *lo = 0x80;
    *hi = 0xBF;
    if (c < 0x80) return 1;
    if (c < 0xC2) return 0;
    if (c < 0xE0) return 2;
    if (c < 0xF0) {
        if (c == 0xE0) *lo = 0xA0;
        if (c == 0xED) *hi = 0x9F;
        return 3;
    }
    if (c < 0xF5) {
        if (c == 0xF0) *lo = 0x90;
        if (c == 0xF4) *hi = 0x8F;
        return 4;
    }
    return 0;
}

/* Length of the well-formed sequence at s, or 0 when ill-formed. */
static size_t utf8_seq_len(const uint8_t *s, size_t len) {
    uint8_t lo, hi;
    int need = utf8_lead(s[0], &lo, &hi);
    if (need == 0 || (size_t)need > len) return 0;
    if (need >= 2 && (s[1] < lo || s[1] > hi)) return 0;
    for (int k = 2; k < need; k++)
        if (s[k] < 0x80 || s[k] > 0xBF) return 0;
    return (size_t)need;
}

size_t tok_utf8_valid_prefix(const uint8_t *s, size_t len) {
    size_t i = 0;
    while (i < len) {
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        size_t k = utf8_seq_len(s + i, len - i);
        if (k == 0) break;
        i += k;
    }
    return i;
}

size_t tok_utf8_bad_len(const uint8_t *s, size_t len) {
    uint8_t lo, hi;
    int need = utf8_lead(s[0], &lo, &hi);
    if (need <= 1) return 1;
    size_t k = 1;
    if (k < len && s[k] >= lo && s[k] <= hi) {
        k++;
        while (k < (size_t)need && k < len && s[k] >= 0x80 && s[k] <= 0xBF) k++;
    }
    return k;
}

size_t tok_utf8_decode(const uint8_t *s, size_t len, uint32_t *cp) {
    (void)len;
    uint8_t c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c < 0xE0) {
        *cp = (uint32_t)(c & 0x1F) << 6 | (s[1] & 0x3F);
        return 2;
    }
    if (c < 0xF0) {
        *cp = (uint32_t)(c & 0x0F) << 12 | (uint32_t)(s[1] & 0x3F) << 6 | (s[2] & 0x3F);
        return 3;
    }
    *cp = (uint32_t)(c & 0x07) << 18 | (uint32_t)(s[1] & 0x3F) << 12 | (uint32_t)(s[2] & 0x3F) << 6 |
          (s[3] & 0x3F);
    return 4;
}

char *tok_utf8_lossy(const uint8_t *s, size_t len, size_t *out_len) {
    /* worst case: every byte becomes U+FFFD (3 bytes) */
    char *out = malloc(len * 3 + 1);
    if (!out) return NULL;
    size_t i = 0, o = 0;
    while (i < len) {
        size_t ok = tok_utf8_valid_prefix(s + i, len - i);
        memcpy(out + o, s + i, ok);
        o += ok;
        i += ok;
        if (i < len) {
            i += tok_utf8_bad_len(s + i, len - i);
            memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3;
        }
    }
    out[o] = 0;
    *out_len = o;
    return out;
}

/* Append n bytes to *o (length *olen, capacity *cap).  0 / -1. */
static int buf_append(uint8_t **o, size_t *olen, size_t *cap, const uint8_t *src, size_t n) {
    if (*olen + n + 1 > *cap) {
        size_t nc = (*olen + n + 1) * 2;
        uint8_t *nb = realloc(*o, nc);
        if (!nb) return -1;
        *o = nb;
        *cap = nc;
    }
    memcpy(*o + *olen, src, n);
    *olen += n;
    return 0;
}

/* Normalise one segment with utf8proc, appending it to *o. */
static int norm_segment(int opt, const uint8_t *s, size_t len, uint8_t **o, size_t *olen, size_t *cap) {
    utf8proc_uint8_t *dst = NULL;
    utf8proc_ssize_t n = utf8proc_map(s, (utf8proc_ssize_t)len, &dst, (utf8proc_option_t)opt);
    if (n < 0) return -1;
    int rc = buf_append(o, olen, cap, dst, (size_t)n);
    free(dst);
    return rc;
}

/* Every normal form leaves ASCII alone, and no ASCII char composes with or
 * reorders around what precedes it; so the text is cut before ASCII chars and
 * only the non-ASCII runs (with the ASCII char before each, a possible base
 * for combining marks) go through utf8proc. */
int tok_normalize(tok_norm norm, const uint8_t *s, size_t len, uint8_t **out, size_t *out_len) {
    int opt = UTF8PROC_STABLE;
    switch (norm) {
    case TOK_NORM_NFC: opt |= UTF8PROC_COMPOSE; break;
    case TOK_NORM_NFD: opt |= UTF8PROC_DECOMPOSE; break;
    case TOK_NORM_NFKC: opt |= UTF8PROC_COMPOSE | UTF8PROC_COMPAT; break;
    case TOK_NORM_NFKD: opt |= UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT; break;
    default: break;
    }
    size_t cap = len + 16, o = 0, i = 0;
    uint8_t *buf = malloc(cap);
    if (!buf) return -1;
    while (i < len) {
        size_t j = i;
        while (j < len && s[j] < 0x80) j++;
        size_t k = (j < len && j > i) ? j - 1 : j;   /* start of the segment to normalise */
        size_t e = j;
        while (e < len && s[e] >= 0x80) e++;
        int rc = buf_append(&buf, &o, &cap, s + i, k - i);
        if (rc == 0 && k < e)
            rc = norm == TOK_NORM_NONE ? buf_append(&buf, &o, &cap, s + k, e - k)
                                       : norm_segment(opt, s + k, e - k, &buf, &o, &cap);
        if (rc != 0) {
            free(buf);
            return -1;
        }
        i = e;
    }
    buf[o] = 0;
    *out = buf;
    *out_len = o;
    return 0;
}

/* ---- added-token trie --------------------------------------------------------- */

static int32_t trie_node(tok_trie *tr, uint8_t byte) {
    if (tr->n == tr->cap) {
        size_t nc = tr->cap ? tr->cap * 2 : 256;
        tok_trie_node *nn = realloc(tr->nodes, nc * sizeof *nn);
        if (!nn) return -1;
        tr->nodes = nn;
        tr->cap = nc;
    }
    tr->nodes[tr->n] = (tok_trie_node){-1, -1, -1, byte};
    return (int32_t)tr->n++;
}

/* Child of node `at` for byte b, created when missing; -1 on OOM. */
static int32_t trie_child(tok_trie *tr, int32_t at, uint8_t b) {
    if (at == 0) {
        if (tr->first[b] >= 0) return tr->first[b];
        int32_t c = trie_node(tr, b);
        if (c >= 0) tr->first[b] = c;
        return c;
    }
    for (int32_t c = tr->nodes[at].child; c >= 0; c = tr->nodes[c].sibling)
        if (tr->nodes[c].byte == b) return c;
    int32_t c = trie_node(tr, b);
    if (c < 0) return -1;
    tr->nodes[c].sibling = tr->nodes[at].child;
    tr->nodes[at].child = c;
    return c;
}

int tok_trie_build(tok_trie *tr, const tok_added *added, size_t n, bool normalized) {
    memset(tr, 0, sizeof *tr);
    for (int b = 0; b < 256; b++) tr->first[b] = -1;
    if (trie_node(tr, 0) < 0) return -1;
    for (size_t i = 0; i < n; i++) {
        const char *c = normalized ? added[i].norm : added[i].content;
        size_t len = normalized ? added[i].norm_len : added[i].len;
        if (added[i].normalized != normalized || len == 0) continue;
        int32_t at = 0;
        for (size_t k = 0; k < len && at >= 0; k++) at = trie_child(tr, at, (uint8_t)c[k]);
        if (at < 0) return -1;
        if (tr->nodes[at].added < 0) tr->nodes[at].added = (int32_t)i;   /* first wins */
    }
    return 0;
}

void tok_trie_free(tok_trie *tr) {
    free(tr->nodes);
    memset(tr, 0, sizeof *tr);
}

/* Longest added token starting at s[i]: its index (or -1) and *end. */
static int32_t trie_longest(const tok_trie *tr, const uint8_t *s, size_t len, size_t i, size_t *end) {
    int32_t at = tr->first[s[i]], best = -1;
    size_t k = i;
    while (at >= 0) {
        k++;
        if (tr->nodes[at].added >= 0) {
            best = tr->nodes[at].added;
            *end = k;
        }
        if (k >= len) break;
        int32_t c = tr->nodes[at].child;
        while (c >= 0 && tr->nodes[c].byte != s[k]) c = tr->nodes[c].sibling;
        at = c;
    }
    return best;
}

/* Rust's char::is_whitespace (the White_Space property). */
static bool cp_is_space(uint32_t c) {
    return (c >= 9 && c <= 13) || c == 32 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
           c == 0x205F || c == 0x3000;
}

/* Char at s[i] (invalid bytes read as U+FFFD, one byte). */
static size_t char_at(const uint8_t *s, size_t len, size_t i, uint32_t *cp) {
    size_t k = utf8_seq_len(s + i, len - i);
    if (k == 0) {
        *cp = 0xFFFD;
        return 1;
    }
    return tok_utf8_decode(s + i, len - i, cp);
}

/* Last char of s[from, to) (to > from). */
static uint32_t char_before(const uint8_t *s, size_t from, size_t to) {
    size_t i = to - 1;
    while (i > from && (s[i] & 0xC0) == 0x80 && to - i < 4) i--;
    uint32_t cp;
    if (char_at(s, to, i, &cp) != to - i) return 0xFFFD;
    return cp;
}

/* Start of the whitespace run that ends at `to`, not before `from`. */
static size_t space_run_start(const uint8_t *s, size_t from, size_t to) {
    size_t run = to, i = from;
    bool in = false;
    while (i < to) {
        uint32_t cp;
        size_t k = char_at(s, to, i, &cp);
        if (cp_is_space(cp)) {
            if (!in) run = i;
            in = true;
        } else {
            in = false;
            run = to;
        }
        i += k;
    }
    return in ? run : to;
}

/* End of the whitespace run starting at `from`. */
static size_t space_run_end(const uint8_t *s, size_t len, size_t from) {
    size_t i = from;
    while (i < len) {
        uint32_t cp;
        size_t k = char_at(s, len, i, &cp);
        if (!cp_is_space(cp)) break;
        i += k;
    }
    return i;
}

/* Apply single_word / lstrip / rstrip to a raw match; false when rejected. */
static bool match_adjust(const mj_tokenizer *t, const tok_added *a, const uint8_t *s, size_t len,
                         size_t prev_end, size_t *start, size_t *stop) {
    if (a->single_word) {
        uint32_t cp;
        bool start_space = *start == 0 || !tok_is_word_cp(t, char_before(s, 0, *start));
        bool stop_space = *stop == len || (char_at(s, len, *stop, &cp), !tok_is_word_cp(t, cp));
        if (!start_space || !stop_space) return false;
    }
    if (a->lstrip) *start = space_run_start(s, prev_end, *start);
    if (a->rstrip) *stop = space_run_end(s, len, *stop);
    return true;
}

long tok_find_added(const mj_tokenizer *t, const tok_trie *tr, const uint8_t *s, size_t len,
                    tok_match **out) {
    tok_match *m = NULL;
    size_t n = 0, cap = 0, prev_end = 0, i = 0;
    *out = NULL;
    if (!tr->nodes || tr->n <= 1) return 0;
    while (i < len) {
        size_t end = 0;
        int32_t idx = tr->first[s[i]] >= 0 ? trie_longest(tr, s, len, i, &end) : -1;
        if (idx < 0) {
            i++;
            continue;
        }
        size_t start = i, stop = end;
        i = end;   /* non-overlapping: scanning resumes after the raw match */
        if (!match_adjust(t, &t->added[idx], s, len, prev_end, &start, &stop)) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            tok_match *nm = realloc(m, cap * sizeof *nm);
            if (!nm) {
                free(m);
                return -1;
            }
            m = nm;
        }
        m[n++] = (tok_match){start, stop, idx};
        prev_end = stop;
        if (stop > i) i = stop;
    }
    *out = m;
    return (long)n;
}
