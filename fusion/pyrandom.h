/* pyrandom.h — CPython's `random` module, bit for bit, for the few calls the
 * original study made: random.seed(INT) (MT19937 seeded with init_by_array),
 * random.getrandbits(k <= 32), random.randrange(n) (= _randbelow) and
 * random.sample(range(n), k).  Used to draw the same WebQuestions few-shot
 * examples as the study (random.seed(42); random.sample(range(len(train)), 5)). */
#ifndef MJ_PYRANDOM_H
#define MJ_PYRANDOM_H

#include <stdint.h>

typedef struct mj_pyrand {
    uint32_t mt[624];
    int mti;
} mj_pyrand;

/* random.seed(seed) for a non-negative integer seed < 2^64. */
void mj_pyrand_seed(mj_pyrand *r, uint64_t seed);
uint32_t mj_pyrand_u32(mj_pyrand *r);
/* random.getrandbits(k), 1 <= k <= 32. */
uint32_t mj_pyrand_bits(mj_pyrand *r, int k);
/* random._randbelow(n), 1 <= n < 2^32. */
uint32_t mj_pyrand_below(mj_pyrand *r, uint32_t n);
/* random.sample(range(n), k) into out[k]; 0 <= k <= n < 2^32.  Returns 0, or
 * -1 on bad arguments or out of memory. */
int mj_pyrand_sample(mj_pyrand *r, uint32_t n, uint32_t k, uint32_t *out);

#endif
