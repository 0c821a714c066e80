/* test_support_hashmap.c — mj_strmap / mj_u64map: insert, overwrite, lookup
 * of present and absent keys across many growths, binary and empty keys, the
 * reserved u64 key UINT64_MAX, iteration and clear. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "hashmap.h"
#include "support/testlib.h"

static void test_strmap(void) {
    mj_strmap m;
    CHECK(mj_strmap_init(&m, 0) == 0);
    char key[32];
    bool ok = true;
    for (int i = 0; i < 50000; i++) {
        int n = snprintf(key, sizeof key, "k%d", i);
        ok = ok && mj_strmap_put(&m, key, (size_t)n, (uint64_t)i * 3) == 0;
    }
    CHECK(ok && mj_strmap_count(&m) == 50000);
    for (int i = 0; i < 50000 && ok; i++) {
        int n = snprintf(key, sizeof key, "k%d", i);
        uint64_t v = 0;
        ok = mj_strmap_get(&m, key, (size_t)n, &v) && v == (uint64_t)i * 3;
    }
    CHECK(ok);
    CHECK(!mj_strmap_get(&m, "k50000", 6, NULL) && !mj_strmap_get(&m, "k1", 1, NULL));
    /* overwrite keeps the count; binary and empty keys */
    CHECK(mj_strmap_put(&m, "k7", 2, 99) == 0 && mj_strmap_count(&m) == 50000);
    uint64_t v = 0;
    CHECK(mj_strmap_get(&m, "k7", 2, &v) && v == 99);
    CHECK(mj_strmap_put(&m, "a\0b", 3, 5) == 0 && mj_strmap_put(&m, "", 0, 6) == 0);
    CHECK(mj_strmap_get(&m, "a\0b", 3, &v) && v == 5 && !mj_strmap_get(&m, "a\0c", 3, NULL));
    CHECK(mj_strmap_get(&m, "", 0, &v) && v == 6);
    size_t pos = 0, seen = 0, len;
    const char *k;
    while (mj_strmap_next(&m, &pos, &k, &len, &v)) seen++;
    CHECK(seen == mj_strmap_count(&m));
    mj_strmap_clear(&m);
    CHECK(mj_strmap_count(&m) == 0 && !mj_strmap_get(&m, "k7", 2, NULL));
    CHECK(mj_strmap_put(&m, "k7", 2, 1) == 0 && mj_strmap_get(&m, "k7", 2, &v) && v == 1);
    mj_strmap_free(&m);
}

static void test_u64map(void) {
    mj_u64map m;
    CHECK(mj_u64map_init(&m, 4) == 0);
    bool ok = true;
    for (uint64_t i = 0; i < 100000; i++) ok = ok && mj_u64map_put(&m, i * 0x9E3779B97F4A7C15ull, i) == 0;
    CHECK(ok && mj_u64map_count(&m) == 100000);
    for (uint64_t i = 0; i < 100000 && ok; i++) {
        uint64_t v;
        ok = mj_u64map_get(&m, i * 0x9E3779B97F4A7C15ull, &v) && v == i;
    }
    CHECK(ok);
    CHECK(!mj_u64map_get(&m, 12345, NULL));
    uint64_t v = 0;
    CHECK(!mj_u64map_get(&m, UINT64_MAX, NULL));
    CHECK(mj_u64map_put(&m, UINT64_MAX, 7) == 0 && mj_u64map_get(&m, UINT64_MAX, &v) && v == 7);
    CHECK(mj_u64map_count(&m) == 100001);
    size_t pos = 0, seen = 0;
    uint64_t k;
    bool saw_max = false;
    while (mj_u64map_next(&m, &pos, &k, &v)) {
        seen++;
        saw_max |= k == UINT64_MAX;
    }
    CHECK(seen == 100001 && saw_max);
    mj_u64map_clear(&m);
    CHECK(mj_u64map_count(&m) == 0 && !mj_u64map_get(&m, 0, NULL) && !mj_u64map_get(&m, UINT64_MAX, NULL));
    mj_u64map_free(&m);
    CHECK(mj_hash_bytes("abc", 3) != mj_hash_bytes("abd", 3));
}

int main(void) {
    test_strmap();
    test_u64map();
    return mj_test_finish();
}
