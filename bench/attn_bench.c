/* attn_bench.c — times maskjit's NVRTC-compiled block-sparse attention on the
 * GPU for the shapes of issue 4 and prints one JSON line per shape:
 *   prefill: B rows of N tokens, the prompt made of `segments` equal
 *            paraphrase segments (annotation `seg`), H heads, HKV kv heads;
 *   decode:  one new query per row against N cached keys.
 * Times (CUDA events, median of --iters runs after warm-up): `run_ms` is the
 * attention kernels alone (what FlexAttention's compiled call does with a
 * ready block mask), `plan_ms` the host upload + summary + block-map kernels.
 * Also prints the cold and cached compile times of the kernels.
 * Built by scripts/gpu_tests.sh; run by bench/attn_bench.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compile.h"
#include "cuda_attn.h"

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_f(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y;
}

static uint16_t rnd_bf16(uint64_t *s) {
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    float f = ((float)(*s >> 40) / (float)(1 << 24)) * 2.0f - 1.0f;
    uint32_t u;
    memcpy(&u, &f, 4);
    return (uint16_t)((u + 0x7fff + ((u >> 16) & 1)) >> 16);
}

typedef struct shape { const char *mode; int B, N, H, HKV, D, segments; } shape;

/* Runs one shape; prints its JSON line.  Returns 0 or -1. */
static int bench_shape(mj_cu *cu, mj_attn *a, const mj_program *p, const char *mask, shape s, int iters) {
    int dec = !strcmp(s.mode, "decode");
    int nq = dec ? 1 : s.N;
    int64_t tq = (int64_t)s.B * nq, tk = (int64_t)s.B * s.N;
    size_t qb = (size_t)tq * s.H * s.D * 2, kb = (size_t)tk * s.HKV * s.D * 2;
    uint16_t *h = malloc(kb > qb ? kb : qb);
    uint64_t seed = 42;
    mj_cu_ptr q, k, v, o;
    if (mj_cu_alloc(cu, &q, qb) || mj_cu_alloc(cu, &k, kb) || mj_cu_alloc(cu, &v, kb) || mj_cu_alloc(cu, &o, qb)) {
        fprintf(stderr, "alloc: %s\n", mj_cu_error(cu));
        return -1;
    }
    for (size_t i = 0; i < qb / 2; i++) h[i] = rnd_bf16(&seed);
    mj_cu_upload(cu, q, h, qb);
    for (size_t i = 0; i < kb / 2; i++) h[i] = rnd_bf16(&seed);
    mj_cu_upload(cu, k, h, kb);
    for (size_t i = 0; i < kb / 2; i++) h[i] = rnd_bf16(&seed);
    mj_cu_upload(cu, v, h, kb);
    free(h);
    /* layout: `segments` equal segments over the whole prompt */
    int32_t seg_idx = mj_program_find_tokens(p, "seg");
    int nt = p->n_tokens;
    mj_value *tok = calloc((size_t)(nt ? nt : 1) * s.N, sizeof(mj_value));
    int seglen = (s.N + s.segments - 1) / s.segments;
    for (int32_t t = 0; t < nt; t++)
        for (int i = 0; i < s.N; i++) tok[(int64_t)t * s.N + i] = p->tokens[t].def;
    if (seg_idx >= 0)
        for (int i = 0; i < s.N; i++) tok[(int64_t)seg_idx * s.N + i].i = i / seglen;
    mj_value *prm = calloc((size_t)p->n_param_slots + 1, sizeof(mj_value));
    mj_program_default_params(p, prm);
    float *heads = calloc((size_t)(p->n_heads + 1) * s.H, sizeof(float));
    mj_env *envs = calloc((size_t)s.B, sizeof *envs);
    int32_t *ql = calloc((size_t)s.B, 4), *kl = calloc((size_t)s.B, 4);
    for (int r = 0; r < s.B; r++) {
        envs[r] = (mj_env){s.H, dec ? s.N - 1 : s.N, s.N, r, s.N, s.N, prm, tok, heads};
        ql[r] = nq;
        kl[r] = s.N;
    }
    mj_attn_batch b = {s.B, s.H, s.HKV, ql, kl, NULL, q, k, v, o, 0, 0, envs, NULL};
    double t0 = now_ms();
    int rc = mj_attn_plan(a, &b, dec);
    if (rc == 0) rc = mj_cu_sync(cu);
    double plan_ms = now_ms() - t0;
    int64_t visited = 0, full = 0, total = 0;
    if (rc == 0 && !dec) rc = mj_attn_block_stats(a, &visited, &full, &total);
    mj_cu_timer tm;
    float *ms = calloc((size_t)iters, sizeof(float));
    rc = rc ? rc : mj_cu_timer_init(cu, &tm);
    for (int i = 0; rc == 0 && i < 5; i++) rc = mj_attn_run(a);   /* warm-up */
    for (int i = 0; rc == 0 && i < iters; i++) {
        rc = mj_cu_timer_start(cu, &tm) || mj_attn_run(a) || mj_cu_timer_stop(cu, &tm, &ms[i]);
    }
    if (rc == 0) rc = mj_cu_sync(cu);
    if (rc) fprintf(stderr, "%s: %s / %s\n", mask, mj_attn_error(a), mj_cu_error(cu));
    qsort(ms, (size_t)iters, sizeof *ms, cmp_f);
    if (rc == 0)
        printf("{\"impl\": \"maskjit\", \"mask\": \"%s\", \"mode\": \"%s\", \"B\": %d, \"N\": %d, \"H\": %d, "
               "\"HKV\": %d, \"D\": %d, \"segments\": %d, \"qtile\": \"%s\", \"run_ms\": %.4f, \"run_ms_min\": %.4f, "
               "\"plan_ms\": %.3f, \"blocks_visited\": %lld, \"blocks_full\": %lld, \"blocks_total\": %lld}\n",
               mask, s.mode, s.B, s.N, s.H, s.HKV, s.D, s.segments,
               getenv("MJ_ATTN_QTILE") ? getenv("MJ_ATTN_QTILE") : "64", ms[iters / 2], ms[0], plan_ms,
               (long long)visited, (long long)full, (long long)total);
    fflush(stdout);
    mj_cu_timer_free(cu, &tm);
    mj_cu_free(cu, q); mj_cu_free(cu, k); mj_cu_free(cu, v); mj_cu_free(cu, o);
    free(ms); free(tok); free(prm); free(heads); free(envs); free(ql); free(kl);
    return rc;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: attn_bench MASK.mask prefill|decode|all [iters]\n");
        return 2;
    }
    int iters = argc > 3 ? atoi(argv[3]) : 30;
    if (iters < 1) iters = 1;
    char err[512];
    mj_cu *cu = mj_cu_open(err, sizeof err);
    if (!cu) { fprintf(stderr, "attn_bench: %s\n", err); return 1; }
    mj_diags d;
    mj_diags_init(&d);
    mj_program *p = mj_compile_file(argv[1], NULL, &d);
    mj_diags_print(&d, stderr);
    if (!p) return 1;
    const char *mask = strrchr(argv[1], '/') ? strrchr(argv[1], '/') + 1 : argv[1];
    mj_cuda_opts nocache = {.no_cache = true};
    double t0 = now_ms();
    mj_attn *a = mj_attn_init(cu, p, 128, &nocache, &d);   /* cold: NVRTC for both templates */
    double cold = now_ms() - t0;
    if (!a) { mj_diags_print(&d, stderr); return 1; }
    mj_attn_free(a);
    mj_attn_free(mj_attn_init(cu, p, 128, NULL, &d));   /* fill the cache */
    t0 = now_ms();
    a = mj_attn_init(cu, p, 128, NULL, &d);
    double hit = now_ms() - t0;
    bool h0, h1;
    double c0 = mj_attn_compile_ms(a, 0, &h0), c1 = mj_attn_compile_ms(a, 1, &h1);
    printf("{\"impl\": \"maskjit\", \"mask\": \"%s\", \"mode\": \"compile\", \"cold_init_ms\": %.1f, "
           "\"cached_init_ms\": %.2f, \"prefill_cache_hit_ms\": %.3f, \"decode_cache_hit_ms\": %.3f, "
           "\"hits\": %d, \"card\": \"%s\"}\n", mask, cold, hit, c0, c1, h0 && h1, mj_cu_name(cu));
    const char *what = argv[2];
    int rc = 0;
    if (!strcmp(what, "prefill") || !strcmp(what, "all")) {
        shape sh[] = {{"prefill", 1, 2048, 24, 8, 128, 5}, {"prefill", 8, 2048, 24, 8, 128, 5},
                      {"prefill", 1, 8192, 24, 8, 128, 5}, {"prefill", 1, 32768, 24, 8, 128, 5}};
        for (size_t i = 0; i < sizeof sh / sizeof sh[0]; i++) rc |= bench_shape(cu, a, p, mask, sh[i], iters);
    }
    if (!strcmp(what, "decode") || !strcmp(what, "all")) {
        int Bs[] = {1, 8, 32}, Ns[] = {2048, 8192};
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 2; j++) {
                shape s = {"decode", Bs[i], Ns[j], 24, 8, 128, 5};
                rc |= bench_shape(cu, a, p, mask, s, iters);
            }
    }
    mj_attn_free(a);
    mj_program_free(p);
    mj_diags_free(&d);
    return rc ? 1 : 0;
}
