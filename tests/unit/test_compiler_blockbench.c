/* test_compiler_blockbench.c — block-analysis time for a 32 768-token
 * paraphrase-fusion layout (examples/fusion_seed.mask, 5 segments), block 128
 * and 64, with the reference (interpreter) classifier and the LLVM JIT
 * classifier; asserts that both produce the same block map and that the
 * analysis is exact there.  Prints the numbers recorded in bench/RESULTS.md
 * (best of several runs, thread CPU time).  Cheap enough to run in every `ctest`. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "blocks.h"
#include "compile.h"
#include "interp.h"
#include "jit.h"
#include "support/testlib.h"

#define N_TOKENS 32768
#define N_SEG 5

/* CPU time of this thread (the machine is shared: wall time would count the
 * time other processes hold the core). */
static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Best-of-reps time of one block map, in ms; the map is left in out. */
static double time_map(const mj_program *p, const mj_mask_fns *fns, const mj_env *env, int32_t block,
                       uint8_t *out, int reps) {
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        double t0 = now_ms();
        CHECK(mj_blocks_map(p, fns, env, block, 0, 0, out) == 0);
        t0 = now_ms() - t0;
        if (t0 < best) best = t0;
    }
    return best;
}

static double time_summary(const mj_program *p, const mj_env *env, int32_t block) {
    double best = 1e30;
    for (int r = 0; r < 5; r++) {
        mj_summary s;
        double t0 = now_ms();
        CHECK(mj_summary_build(p, env, block, &s) == 0);
        t0 = now_ms() - t0;
        mj_summary_free(&s);
        if (t0 < best) best = t0;
    }
    return best;
}

int main(void) {
    mj_diags dg;
    mj_program *p;
    mj_jit *jit;
    mj_value *tokens, params[64];
    int32_t a, seg_len = N_TOKENS / N_SEG + 1;
    mj_env env;
    double t0;
    const char *reps_env = getenv("MJ_BENCH_REPS");
    int reps = reps_env ? atoi(reps_env) : 5;
    mj_diags_init(&dg);
    p = mj_compile_file(mj_test_path("examples/fusion_seed.mask"), NULL, &dg);
    if (!p) { mj_diags_print(&dg, stderr); CHECK(p != NULL); return mj_test_finish(); }
    a = mj_program_find_tokens(p, "seg");
    CHECK(a >= 0 && p->n_tokens >= 1);
    tokens = calloc((size_t)p->n_tokens * N_TOKENS, sizeof *tokens);
    for (int32_t i = 0; i < N_TOKENS; i++) tokens[(int64_t)a * N_TOKENS + i].i = i / seg_len;
    mj_program_default_params(p, params);
    env = (mj_env){.n_heads = 1, .prompt_len = N_TOKENS, .seq_len = N_TOKENS, .tokens_len = N_TOKENS,
                   .tokens_stride = N_TOKENS, .params = params, .tokens = tokens};
    t0 = wall_ms();
    jit = mj_jit_init(p, &dg);
    t0 = wall_ms() - t0;
    if (!jit) mj_diags_print(&dg, stderr);
    printf("block analysis, %d-token fusion layout (%d segments, fusion_seed.mask), CPU time, best of %d:\n",
           N_TOKENS, N_SEG, reps);
    if (jit) printf("  LLVM JIT compile (mask, score, position, classifier): %.2f ms wall\n", t0);
    static const int32_t blocks[] = {64, 128};
    for (int bi = 0; bi < 2; bi++) {
        int32_t block = blocks[bi];
        int32_t nb = (N_TOKENS + block - 1) / block;
        uint8_t *m_i = malloc((size_t)nb * nb), *m_j = malloc((size_t)nb * nb);
        long partial = 0;
        double ti = time_map(p, NULL, &env, block, m_i, reps);
        double ts = time_summary(p, &env, block);
        for (int64_t k = 0; k < (int64_t)nb * nb; k++) partial += m_i[k] == MJ_BLOCK_PARTIAL;
        printf("  block %3d: %d x %d blocks, PARTIAL %.2f%%; summary %.3f ms; map: interpreter "
               "classifier %.2f ms", block, nb, nb, 100.0 * (double)partial / ((double)nb * nb), ts, ti);
        if (jit) {
            mj_mask_fns fns = mj_jit_fns(jit);
            double tj = time_map(p, &fns, &env, block, m_j, reps);
            printf(", JIT classifier %.2f ms", tj);
            CHECKF(memcmp(m_i, m_j, (size_t)nb * nb) == 0, "JIT and interpreter block maps differ (block %d)", block);
        }
        printf("\n");
        /* exact here: PARTIAL only on the diagonal and where a block straddles a boundary */
        CHECK(partial <= nb + 2L * (N_SEG - 1) * nb);
        free(m_i);
        free(m_j);
    }
    if (jit) mj_jit_free(jit);
    mj_program_free(p);
    mj_diags_free(&dg);
    free(tokens);
    return mj_test_finish();
}
