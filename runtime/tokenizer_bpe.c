/* tokenizer_bpe.c — the byte-level map (GPT-2's bytes_to_unicode) and BPE
 * merging by rank, as HF tokenizers' BPE model does it: the lowest-ranked
 * adjacent pair is merged first, the leftmost among equals. */
#include <stdlib.h>
#include <string.h>

#include "tokenizer_internal.h"

uint32_t tok_byte_to_cp(uint8_t b) {
    if (b <= 32) return 256u + b;
    if (b >= 127 && b <= 160) return 289u + (b - 127u);
    if (b == 173) return 323u;
    return b;
}

int tok_cp_to_byte(uint32_t cp) {
    if (cp < 256) {
        if (cp <= 32 || (cp >= 127 && cp <= 160) || cp == 173) return -1;
        return (int)cp;
    }
    if (cp <= 288) return (int)(cp - 256);
    if (cp <= 322) return (int)(cp - 289 + 127);
    if (cp == 323) return 173;
    return -1;
}

long tok_unmap(const char *txt, size_t len, char *out) {
    const uint8_t *s = (const uint8_t *)txt;
    size_t i = 0, o = 0;
    while (i < len) {
        size_t ok = tok_utf8_valid_prefix(s + i, len - i);
        if (ok == 0) return -1;
        uint32_t cp;
        size_t k = tok_utf8_decode(s + i, len - i, &cp);
        int b = tok_cp_to_byte(cp);
        if (b < 0) return -1;
        out[o++] = (char)b;
        i += k;
    }
    return (long)o;
}

int tok_ids_push(tok_ids *a, int32_t id) {
    if (a->n == a->cap) {
        size_t nc = a->cap ? a->cap * 2 : 64;
        int32_t *nv = realloc(a->v, nc * sizeof *nv);
        if (!nv) return -1;
        a->v = nv;
        a->cap = nc;
    }
    a->v[a->n++] = id;
    return 0;
}

/* Id of a token text as the file writes it; -1 if absent. */
static int32_t vocab_id(const mj_tokenizer *t, const char *txt, size_t len) {
    uint64_t v;
    return mj_strmap_get(&t->tok_str, txt, len, &v) ? (int32_t)v : -1;
}

int tok_add_merge(mj_tokenizer *t, const char *left, size_t llen, const char *right,
                  size_t rlen, uint32_t rank) {
    int32_t a = vocab_id(t, left, llen), b = vocab_id(t, right, rlen);
    if (a < 0 || b < 0) return 0;   /* HF refuses such a file; here the merge can never apply */
    char stackbuf[256];
    char *cat = llen + rlen <= sizeof stackbuf ? stackbuf : malloc(llen + rlen);
    if (!cat) return -1;
    memcpy(cat, left, llen);
    memcpy(cat + llen, right, rlen);
    int32_t c = vocab_id(t, cat, llen + rlen);
    if (cat != stackbuf) free(cat);
    if (c < 0) return 0;
    uint64_t key = (uint64_t)(uint32_t)a << 32 | (uint32_t)b;
    /* HF collects the merges into a map: a repeated pair keeps its last rank */
    if (mj_u64map_put(&t->merges, key, (uint64_t)rank << 32 | (uint32_t)c) != 0) return -1;
    return 1;
}

/* Rank and merged id of the pair (a, b); false when they do not merge. */
static inline bool pair_rank(const mj_tokenizer *t, int32_t a, int32_t b, uint32_t *rank,
                             int32_t *id) {
    uint64_t v;
    if (!mj_u64map_get(&t->merges, (uint64_t)(uint32_t)a << 32 | (uint32_t)b, &v)) return false;
    *rank = (uint32_t)(v >> 32);
    *id = (int32_t)(uint32_t)v;
    return true;
}

/* Symbols of one word as a doubly linked list over array slots. */
typedef struct bpe_sym {
    int32_t id;
    int32_t prev, next;   /* -1 at the ends */
    int32_t alive;
} bpe_sym;

typedef struct bpe_entry {
    uint32_t rank;
    int32_t pos;
    int32_t id;
} bpe_entry;

static inline bool entry_less(const bpe_entry *x, const bpe_entry *y) {
    return x->rank != y->rank ? x->rank < y->rank : x->pos < y->pos;
}

static void heap_push(bpe_entry *h, size_t *n, bpe_entry e) {
    size_t i = (*n)++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!entry_less(&e, &h[p])) break;
        h[i] = h[p];
        i = p;
    }
    h[i] = e;
}

static bpe_entry heap_pop(bpe_entry *h, size_t *n) {
    bpe_entry top = h[0], last = h[--*n];
    size_t i = 0, m = *n;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= m) break;
        if (c + 1 < m && entry_less(&h[c + 1], &h[c])) c++;
        if (!entry_less(&h[c], &last)) break;
        h[i] = h[c];
        i = c;
    }
    if (m) h[i] = last;
    return top;
}

/* Merge the pair starting at symbol i with its successor into id. */
static void sym_merge(bpe_sym *sy, int32_t i, int32_t id) {
    int32_t j = sy[i].next;
    sy[i].id = id;
    sy[i].next = sy[j].next;
    if (sy[j].next >= 0) sy[sy[j].next].prev = i;
    sy[j].alive = 0;
}

/* Merge with a priority queue (any length): HF's Word::merge_all. */
static void bpe_merge_heap(const mj_tokenizer *t, bpe_sym *sy, int32_t n, bpe_entry *heap) {
    size_t hn = 0;
    for (int32_t i = 0; i + 1 < n; i++) {
        uint32_t r;
        int32_t id;
        if (pair_rank(t, sy[i].id, sy[i + 1].id, &r, &id))
            heap_push(heap, &hn, (bpe_entry){r, i, id});
    }
    while (hn) {
        bpe_entry e = heap_pop(heap, &hn);
        bpe_sym *s = &sy[e.pos];
        if (!s->alive || s->next < 0) continue;
        uint32_t r;
        int32_t id;
        if (!pair_rank(t, s->id, sy[s->next].id, &r, &id) || id != e.id) continue;
        sym_merge(sy, e.pos, id);
        if (s->prev >= 0 && pair_rank(t, sy[s->prev].id, s->id, &r, &id))
            heap_push(heap, &hn, (bpe_entry){r, s->prev, id});
        if (s->next >= 0 && pair_rank(t, s->id, sy[s->next].id, &r, &id))
            heap_push(heap, &hn, (bpe_entry){r, e.pos, id});
    }
}

/* Merge by scanning for the minimum (short words): same order as the heap. */
static void bpe_merge_scan(const mj_tokenizer *t, bpe_sym *sy, int32_t n) {
    uint32_t rank[64];
    int32_t nid[64];
    for (int32_t i = 0; i < n; i++)
        if (i + 1 >= n || !pair_rank(t, sy[i].id, sy[i + 1].id, &rank[i], &nid[i]))
            rank[i] = UINT32_MAX;
    for (;;) {
        int32_t best = -1;
        uint32_t br = UINT32_MAX;
        for (int32_t i = 0; i >= 0; i = sy[i].next)
            if (rank[i] < br) br = rank[i], best = i;
        if (best < 0) break;
        sym_merge(sy, best, nid[best]);
        int32_t p = sy[best].prev, q = sy[best].next;
        if (q < 0 || !pair_rank(t, sy[best].id, sy[q].id, &rank[best], &nid[best]))
            rank[best] = UINT32_MAX;
        if (p >= 0 && !pair_rank(t, sy[p].id, sy[best].id, &rank[p], &nid[p])) rank[p] = UINT32_MAX;
    }
}

int tok_bpe(const mj_tokenizer *t, const uint8_t *s, size_t len, tok_ids *out) {
    if (len == 0) return 0;
    uint64_t v;
    if (t->ignore_merges && mj_strmap_get(&t->raw_vocab, s, len, &v)) return tok_ids_push(out, (int32_t)v);
    bpe_sym stack_sy[64];
    bpe_sym *sy = len <= 64 ? stack_sy : malloc(len * sizeof *sy);
    if (!sy) return -1;
    int32_t n = 0;
    for (size_t i = 0; i < len; i++) {
        int32_t id = t->byte_id[s[i]];
        if (id < 0) continue;   /* no token for this byte: dropped, as HF without unk */
        sy[n] = (bpe_sym){id, n - 1, n + 1, 1};
        n++;
    }
    int rc = 0;
    if (n > 0) {
        sy[n - 1].next = -1;
        if (n <= 64) {
            bpe_merge_scan(t, sy, n);
        } else {
            bpe_entry *heap = malloc((size_t)n * 3 * sizeof *heap);
            if (!heap) rc = -1;
            else bpe_merge_heap(t, sy, n, heap);
            free(heap);
        }
        for (int32_t i = 0; rc == 0 && i >= 0; i = sy[i].next) rc = tok_ids_push(out, sy[i].id);
    }
    if (sy != stack_sy) free(sy);
    return rc;
}
