/* hashmap.c — open-addressing hash maps; see hashmap.h. */
#include "hashmap.h"

#include <stdlib.h>
#include <string.h>

uint64_t mj_hash_u64(uint64_t x) {
    /* splitmix64 finaliser */
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

static inline uint64_t hm_rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

uint64_t mj_hash_bytes(const void *data, size_t len) {
    const uint8_t *p = data;
    uint64_t h = 0x9e3779b97f4a7c15ull ^ ((uint64_t)len * 0xff51afd7ed558ccdull);
    while (len >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        h = hm_rotl(h ^ (v * 0x87c37b91114253d5ull), 31) * 0x4cf5ad432745937full;
        p += 8;
        len -= 8;
    }
    uint64_t t = 0;
    for (size_t i = 0; i < len; i++) t |= (uint64_t)p[i] << (8 * i);
    h ^= t * 0x87c37b91114253d5ull;
    return mj_hash_u64(h);
}

/* ---- key pool --------------------------------------------------------------- */

typedef struct mj_strmap_block {
    struct mj_strmap_block *next;
    size_t used, cap;
    char data[];
} mj_strmap_block;

/* Copy LEN bytes into the pool; NULL on OOM. */
static const char *pool_copy(mj_strmap *m, const void *key, size_t len) {
    mj_strmap_block *b = m->pool;
    if (!b || b->cap - b->used < len) {
        size_t cap = len > 65536 ? len : 65536;
        mj_strmap_block *nb = malloc(sizeof *nb + cap);
        if (!nb) return NULL;
        nb->next = b;
        nb->used = 0;
        nb->cap = cap;
        m->pool = b = nb;
    }
    char *dst = b->data + b->used;
    if (len) memcpy(dst, key, len);
    b->used += len;
    return dst;
}

static void pool_free(mj_strmap *m) {
    for (mj_strmap_block *b = m->pool, *nx; b; b = nx) {
        nx = b->next;
        free(b);
    }
    m->pool = NULL;
}

/* Power-of-two capacity holding EXPECTED entries at load <= 1/2. */
static size_t hm_cap_for(size_t expected) {
    size_t cap = 16;
    while (cap / 2 < expected) cap *= 2;
    return cap;
}

/* ---- mj_strmap ---------------------------------------------------------------- */

int mj_strmap_init(mj_strmap *m, size_t expected) {
    memset(m, 0, sizeof *m);
    m->cap = hm_cap_for(expected);
    m->slots = calloc(m->cap, sizeof *m->slots);
    if (!m->slots) {
        m->cap = 0;
        return -1;
    }
    return 0;
}

void mj_strmap_free(mj_strmap *m) {
    free(m->slots);
    pool_free(m);
    memset(m, 0, sizeof *m);
}

void mj_strmap_clear(mj_strmap *m) {
    if (m->slots) memset(m->slots, 0, m->cap * sizeof *m->slots);
    pool_free(m);
    m->n = 0;
}

static inline uint64_t strmap_hash(const void *key, size_t len) {
    uint64_t h = mj_hash_bytes(key, len);
    return h ? h : 1;
}

/* Slot index holding KEY, or the empty slot where it would go. */
static size_t strmap_find(const mj_strmap *m, uint64_t h, const void *key, size_t len) {
    size_t mask = m->cap - 1, i = (size_t)h & mask;
    for (;;) {
        const mj_strmap_slot *s = &m->slots[i];
        if (s->hash == 0) return i;
        if (s->hash == h && s->len == len && (len == 0 || memcmp(s->key, key, len) == 0)) return i;
        i = (i + 1) & mask;
    }
}

static int strmap_grow(mj_strmap *m) {
    size_t ncap = m->cap ? m->cap * 2 : 16;
    mj_strmap_slot *ns = calloc(ncap, sizeof *ns);
    if (!ns) return -1;
    for (size_t i = 0; i < m->cap; i++) {
        mj_strmap_slot *s = &m->slots[i];
        if (!s->hash) continue;
        size_t j = (size_t)s->hash & (ncap - 1);
        while (ns[j].hash) j = (j + 1) & (ncap - 1);
        ns[j] = *s;
    }
    free(m->slots);
    m->slots = ns;
    m->cap = ncap;
    return 0;
}

int mj_strmap_put(mj_strmap *m, const void *key, size_t len, uint64_t val) {
    if ((m->n + 1) * 2 > m->cap && strmap_grow(m) != 0) return -1;
    uint64_t h = strmap_hash(key, len);
    size_t i = strmap_find(m, h, key, len);
    mj_strmap_slot *s = &m->slots[i];
    if (s->hash) {
        s->val = val;
        return 0;
    }
    const char *copy = pool_copy(m, key, len);
    if (!copy) return -1;
    s->hash = h;
    s->key = copy;
    s->len = len;
    s->val = val;
    m->n++;
    return 0;
}

bool mj_strmap_get(const mj_strmap *m, const void *key, size_t len, uint64_t *val) {
    if (!m->cap) return false;
    uint64_t h = strmap_hash(key, len);
    size_t i = strmap_find(m, h, key, len);
    if (!m->slots[i].hash) return false;
    if (val) *val = m->slots[i].val;
    return true;
}

bool mj_strmap_next(const mj_strmap *m, size_t *pos, const char **key, size_t *len, uint64_t *val) {
    for (size_t i = *pos; i < m->cap; i++) {
        const mj_strmap_slot *s = &m->slots[i];
        if (!s->hash) continue;
        if (key) *key = s->key;
        if (len) *len = s->len;
        if (val) *val = s->val;
        *pos = i + 1;
        return true;
    }
    *pos = m->cap;
    return false;
}

/* ---- mj_u64map ------------------------------------------------------------------ */

#define U64_EMPTY UINT64_MAX

/* Slot array of CAP empty slots, or NULL. */
static mj_u64map_slot *u64_slots(size_t cap) {
    mj_u64map_slot *s = malloc(cap * sizeof *s);
    if (s) memset(s, 0xff, cap * sizeof *s);   /* every key = U64_EMPTY */
    return s;
}

int mj_u64map_init(mj_u64map *m, size_t expected) {
    memset(m, 0, sizeof *m);
    size_t cap = hm_cap_for(expected);
    m->slots = u64_slots(cap);
    if (!m->slots) return -1;
    m->cap = cap;
    return 0;
}

void mj_u64map_free(mj_u64map *m) {
    free(m->slots);
    memset(m, 0, sizeof *m);
}

void mj_u64map_clear(mj_u64map *m) {
    if (m->slots) memset(m->slots, 0xff, m->cap * sizeof *m->slots);
    m->n = 0;
    m->has_max = false;
}

/* Slot holding KEY (not U64_EMPTY) or the empty slot where it would go. */
static inline size_t u64map_find(const mj_u64map *m, uint64_t key) {
    size_t mask = m->cap - 1, i = (size_t)mj_hash_u64(key) & mask;
    while (m->slots[i].key != key && m->slots[i].key != U64_EMPTY) i = (i + 1) & mask;
    return i;
}

static int u64map_grow(mj_u64map *m) {
    size_t ncap = m->cap ? m->cap * 2 : 16;
    mj_u64map_slot *ns = u64_slots(ncap), *old = m->slots;
    if (!ns) return -1;
    size_t ocap = m->cap;
    m->slots = ns;
    m->cap = ncap;
    for (size_t i = 0; i < ocap; i++)
        if (old[i].key != U64_EMPTY) m->slots[u64map_find(m, old[i].key)] = old[i];
    free(old);
    return 0;
}

int mj_u64map_put(mj_u64map *m, uint64_t key, uint64_t val) {
    if (key == U64_EMPTY) {
        m->n += !m->has_max;
        m->has_max = true;
        m->max_val = val;
        return 0;
    }
    if ((m->n + 1) * 2 > m->cap && u64map_grow(m) != 0) return -1;
    size_t i = u64map_find(m, key);
    if (m->slots[i].key == U64_EMPTY) {
        m->slots[i].key = key;
        m->n++;
    }
    m->slots[i].val = val;
    return 0;
}

bool mj_u64map_get(const mj_u64map *m, uint64_t key, uint64_t *val) {
    if (key == U64_EMPTY) {
        if (m->has_max && val) *val = m->max_val;
        return m->has_max;
    }
    if (!m->cap) return false;
    size_t i = u64map_find(m, key);
    if (m->slots[i].key == U64_EMPTY) return false;
    if (val) *val = m->slots[i].val;
    return true;
}

bool mj_u64map_next(const mj_u64map *m, size_t *pos, uint64_t *key, uint64_t *val) {
    for (size_t i = *pos; i < m->cap; i++) {
        if (m->slots[i].key == U64_EMPTY) continue;
        if (key) *key = m->slots[i].key;
        if (val) *val = m->slots[i].val;
        *pos = i + 1;
        return true;
    }
    if (*pos <= m->cap && m->has_max) {   /* the reserved key comes last */
        if (key) *key = U64_EMPTY;
        if (val) *val = m->max_val;
        *pos = m->cap + 1;
        return true;
    }
    *pos = m->cap + 1;
    return false;
}
