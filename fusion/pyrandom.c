/* pyrandom.c — see pyrandom.h.  MT19937 as in Matsumoto & Nishimura's
 * reference code (which CPython's _randommodule.c uses), and the selection
 * algorithms of CPython's Lib/random.py. */
#include "pyrandom.h"

#include <math.h>
#include <stdlib.h>

static void init_genrand(mj_pyrand *r, uint32_t s) {
    r->mt[0] = s;
    for (int i = 1; i < 624; i++)
        r->mt[i] = 1812433253U * (r->mt[i - 1] ^ (r->mt[i - 1] >> 30)) + (uint32_t)i;
    r->mti = 624;
}

static void init_by_array(mj_pyrand *r, const uint32_t *key, int klen) {
    init_genrand(r, 19650218U);
    int i = 1, j = 0;
    for (int k = 624 > klen ? 624 : klen; k; k--) {
        r->mt[i] = (r->mt[i] ^ ((r->mt[i - 1] ^ (r->mt[i - 1] >> 30)) * 1664525U)) + key[j] + (uint32_t)j;
        i++, j++;
        if (i >= 624) { r->mt[0] = r->mt[623]; i = 1; }
        if (j >= klen) j = 0;
    }
    for (int k = 623; k; k--) {
        r->mt[i] = (r->mt[i] ^ ((r->mt[i - 1] ^ (r->mt[i - 1] >> 30)) * 1566083941U)) - (uint32_t)i;
        i++;
        if (i >= 624) { r->mt[0] = r->mt[623]; i = 1; }
    }
    r->mt[0] = 0x80000000U;
}

void mj_pyrand_seed(mj_pyrand *r, uint64_t seed) {
    /* CPython: the absolute value as little-endian 32-bit words, at least one. */
    uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    init_by_array(r, key, key[1] ? 2 : 1);
}

uint32_t mj_pyrand_u32(mj_pyrand *r) {
    static const uint32_t mag01[2] = {0, 0x9908b0dfU};
    if (r->mti >= 624) {
        int k;
        for (k = 0; k < 624 - 397; k++) {
            uint32_t y = (r->mt[k] & 0x80000000U) | (r->mt[k + 1] & 0x7fffffffU);
            r->mt[k] = r->mt[k + 397] ^ (y >> 1) ^ mag01[y & 1];
        }
        for (; k < 623; k++) {
            uint32_t y = (r->mt[k] & 0x80000000U) | (r->mt[k + 1] & 0x7fffffffU);
            r->mt[k] = r->mt[k + (397 - 624)] ^ (y >> 1) ^ mag01[y & 1];
        }
        uint32_t y = (r->mt[623] & 0x80000000U) | (r->mt[0] & 0x7fffffffU);
        r->mt[623] = r->mt[396] ^ (y >> 1) ^ mag01[y & 1];
        r->mti = 0;
    }
    uint32_t y = r->mt[r->mti++];
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680U;
    y ^= (y << 15) & 0xefc60000U;
    y ^= y >> 18;
    return y;
}

uint32_t mj_pyrand_bits(mj_pyrand *r, int k) {
    if (k <= 0) return 0;
    if (k > 32) k = 32;
    return mj_pyrand_u32(r) >> (32 - k);
}

uint32_t mj_pyrand_below(mj_pyrand *r, uint32_t n) {
    if (n <= 1) return 0;
    int k = 0;   /* n.bit_length() */
    for (uint32_t t = n; t; t >>= 1) k++;
    uint32_t v = mj_pyrand_bits(r, k);
    while (v >= n) v = mj_pyrand_bits(r, k);
    return v;
}

int mj_pyrand_sample(mj_pyrand *r, uint32_t n, uint32_t k, uint32_t *out) {
    if (k > n) return -1;
    /* random.py: setsize = 21, plus 4 ** ceil(log(3k, 4)) when k > 5. */
    double setsize = 21;
    if (k > 5) setsize += pow(4.0, ceil(log(3.0 * k) / log(4.0)));
    if ((double)n <= setsize) {
        uint32_t *pool = malloc((n ? n : 1) * sizeof *pool);
        if (!pool) return -1;
        for (uint32_t i = 0; i < n; i++) pool[i] = i;
        for (uint32_t i = 0; i < k; i++) {
            uint32_t j = mj_pyrand_below(r, n - i);
            out[i] = pool[j];
            pool[j] = pool[n - i - 1];
        }
        free(pool);
        return 0;
    }
    for (uint32_t i = 0; i < k; i++) {   /* rejection on a set (k is small here) */
        uint32_t j;
        for (;;) {
            j = mj_pyrand_below(r, n);
            uint32_t t = 0;
            while (t < i && out[t] != j) t++;
            if (t == i) break;
        }
        out[i] = j;
    }
    return 0;
}
