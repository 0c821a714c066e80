/* cpu_bench.c — CPU engine throughput: model load time, prefill tokens/s and
 * decode tokens/s (greedy, KV cache) for batches of rows, causal mask (JIT
 * functions), optionally the seed fusion mask.  Built and run by
 * bench/cpu_bench.sh; prints one line per measurement.
 *
 * usage: cpu_bench MODEL [--prompt-len P] [--rows R1,R2,...] [--decode N]
 *                        [--threads T] [--mask FILE] [--segments K] [--reps N]
 * With --reps N each measurement is repeated N times and the fastest is
 * printed (the machine is shared: the best run is the least disturbed). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compile.h"
#include "engine.h"
#include "jit.h"
#include "model.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double cpu_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int32_t argmax(const float *x, int32_t n) {
    int32_t b = 0;
    for (int32_t i = 1; i < n; i++) if (x[i] > x[b]) b = i;
    return b;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: cpu_bench MODEL [--prompt-len P] [--rows R1,R2] [--decode N] "
                        "[--threads T] [--mask FILE] [--segments K]\n");
        return 2;
    }
    const char *model = argv[1], *rows_s = "1,8", *mask = NULL;
    int P = 128, N = 32, T = 0, K = 4, reps = 1;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--prompt-len")) P = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--rows")) rows_s = argv[i + 1];
        else if (!strcmp(argv[i], "--decode")) N = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--threads")) T = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--mask")) mask = argv[i + 1];
        else if (!strcmp(argv[i], "--segments")) K = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--reps")) reps = atoi(argv[i + 1]) > 0 ? atoi(argv[i + 1]) : 1;
    }
    char err[512];
    mj_model m;
    double t0 = now_s();
    if (mj_model_load(&m, model, err, sizeof err) != 0) { fprintf(stderr, "%s\n", err); return 1; }
    printf("load: %.2f s (%s)\n", now_s() - t0, model);
    mj_diags d;
    mj_diags_init(&d);
    mj_program *p = mask ? mj_compile_file(mask, NULL, &d)
                         : mj_compile_string("causal", "mask = kv <= q\n", 15, NULL, &d);
    mj_jit *j = p ? mj_jit_init(p, &d) : NULL;
    if (!j) { mj_diags_print(&d, stderr); return 1; }
    mj_mask_fns fns = mj_jit_fns(j);
    mj_engine *e = mj_engine_init(&m, MJ_DEVICE_CPU, T, err, sizeof err);
    if (!e) { fprintf(stderr, "%s\n", err); return 1; }
    int32_t V = m.cfg.vocab, aseg = mj_program_find_tokens(p, "seg");
    for (const char *r = rows_s; r && *r;) {
        int R = atoi(r);
        r = strchr(r, ',');
        if (r) r++;
        if (R < 1) continue;
        int32_t *tok = malloc((size_t)R * P * sizeof *tok);
        mj_value *annot = calloc((size_t)R * P * (p->n_tokens ? p->n_tokens : 1), sizeof *annot);
        mj_row_spec *specs = calloc((size_t)R, sizeof *specs);
        uint64_t s = 88172645463325252ull;
        for (int i = 0; i < R * P; i++) {
            s ^= s << 13; s ^= s >> 7; s ^= s << 17;
            tok[i] = (int32_t)(s % (uint64_t)(V - 10)) + 5;
        }
        for (int k = 0; k < R; k++) {
            mj_value *a = annot + (size_t)k * P * (p->n_tokens ? p->n_tokens : 1);
            for (int32_t t = 0; t < p->n_tokens; t++)
                for (int i = 0; i < P; i++) a[t * P + i] = p->tokens[t].def;
            if (aseg >= 0)
                for (int i = 0; i < P; i++) a[aseg * P + i].i = i * K / P;
            specs[k] = (mj_row_spec){tok + (size_t)k * P, P, a, NULL, NULL, 0};
        }
        float *lg = malloc((size_t)R * V * sizeof *lg);
        int32_t *next = malloc((size_t)R * sizeof *next);
        double best_pre = 1e30, best_dec = 1e30, cpre = 0, cdec = 0;
        for (int rep = 0; rep < reps; rep++) {
            mj_seqs *sq = mj_seqs_init(e, p, &fns, R, specs, N, err, sizeof err);
            if (!sq) { fprintf(stderr, "%s\n", err); return 1; }
            double a0 = now_s(), c0 = cpu_s();
            if (mj_seqs_prefill(sq, lg) != 0) { fprintf(stderr, "%s\n", mj_seqs_error(sq)); return 1; }
            double a1 = now_s(), c1 = cpu_s();
            for (int step = 0; step < N; step++) {
                for (int k = 0; k < R; k++) next[k] = argmax(lg + (size_t)k * V, V);
                if (mj_seqs_append(sq, next, lg) != 0) { fprintf(stderr, "%s\n", mj_seqs_error(sq)); return 1; }
            }
            double a2 = now_s(), c2 = cpu_s();
            if (a1 - a0 < best_pre) { best_pre = a1 - a0; cpre = c1 - c0; }
            if (a2 - a1 < best_dec) { best_dec = a2 - a1; cdec = c2 - c1; }
            mj_seqs_free(sq);
        }
        printf("rows %d x prompt %d: prefill %.2f s = %.1f tokens/s; decode %d steps %.2f s = "
               "%.1f tokens/s (%.1f ms/step); cpu time prefill %.2f s, decode %.1f ms/step%s\n", R,
               P, best_pre, R * P / best_pre, N, best_dec, R * N / best_dec, 1e3 * best_dec / N,
               cpre, 1e3 * cdec / N, reps > 1 ? " (best of reps)" : "");
        fflush(stdout);
        free(tok); free(annot); free(specs); free(lg); free(next);
    }
    mj_engine_free(e);
    mj_jit_free(j);
    mj_program_free(p);
    mj_diags_free(&d);
    mj_model_free(&m);
    return 0;
}
