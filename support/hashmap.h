/* hashmap.h — small open-addressing hash maps (linear probing, power-of-two
 * capacity, load factor <= 1/2) for two key kinds:
 *   mj_strmap: byte-string keys (any bytes, copied into the map) -> uint64
 *   mj_u64map: 64-bit integer keys -> uint64
 * Entries are only added or overwritten (no removal); mj_*_clear empties a map
 * keeping its memory.  Allocation failures are returned, never fatal.
 *
 *   mj_strmap m; mj_strmap_init(&m, 0);
 *   mj_strmap_put(&m, "abc", 3, 42);
 *   uint64_t v; if (mj_strmap_get(&m, "abc", 3, &v)) ...
 *   mj_strmap_free(&m);
 */
#ifndef MJ_HASHMAP_H
#define MJ_HASHMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* 64-bit hash of LEN bytes (also handy for fingerprints in tests). */
uint64_t mj_hash_bytes(const void *data, size_t len);
/* 64-bit mix of an integer (bijective). */
uint64_t mj_hash_u64(uint64_t x);

typedef struct mj_strmap_slot {
    uint64_t hash;     /* 0 marks an empty slot (real hashes are forced non-zero) */
    const char *key;   /* points into the map's key pool */
    size_t len;
    uint64_t val;
} mj_strmap_slot;

typedef struct mj_strmap {
    mj_strmap_slot *slots;
    size_t cap, n;     /* cap is 0 or a power of two */
    struct mj_strmap_block *pool;   /* key storage */
} mj_strmap;

/* Empty map sized for about EXPECTED entries (0 = small).  0, or -1 on OOM. */
int mj_strmap_init(mj_strmap *m, size_t expected);
void mj_strmap_free(mj_strmap *m);
/* Remove every entry (keeps the slot array; releases the key pool). */
void mj_strmap_clear(mj_strmap *m);
/* Insert KEY -> VAL, or overwrite the value of an existing KEY.  0, -1 on OOM. */
int mj_strmap_put(mj_strmap *m, const void *key, size_t len, uint64_t val);
/* True and *val set when KEY is present (val may be NULL). */
bool mj_strmap_get(const mj_strmap *m, const void *key, size_t len, uint64_t *val);
static inline size_t mj_strmap_count(const mj_strmap *m) { return m->n; }
/* Iterate: start with *pos = 0; returns false at the end.  Order is unspecified. */
bool mj_strmap_next(const mj_strmap *m, size_t *pos, const char **key, size_t *len, uint64_t *val);

typedef struct mj_u64map_slot {
    uint64_t key;      /* UINT64_MAX marks an empty slot ... */
    uint64_t val;
} mj_u64map_slot;

typedef struct mj_u64map {
    mj_u64map_slot *slots;
    size_t cap, n;
    bool has_max;      /* ... so the key UINT64_MAX itself is kept here */
    uint64_t max_val;
} mj_u64map;

int mj_u64map_init(mj_u64map *m, size_t expected);
void mj_u64map_free(mj_u64map *m);
void mj_u64map_clear(mj_u64map *m);
int mj_u64map_put(mj_u64map *m, uint64_t key, uint64_t val);
bool mj_u64map_get(const mj_u64map *m, uint64_t key, uint64_t *val);
static inline size_t mj_u64map_count(const mj_u64map *m) { return m->n; }
bool mj_u64map_next(const mj_u64map *m, size_t *pos, uint64_t *key, uint64_t *val);

#endif
