/* gpu_testutil.h — shared pieces of the GPU tests (test_runtime_cuda_*.c):
 * the list of examples, a paraphrase-fusion-like layout that fills every
 * annotation a program declares (seg, seg_start, part, example, doc,
 * doc_start, is_global; anything else random), bf16 conversion, a seeded
 * RNG and a parallel-for over worker threads.  Test-only. */
#ifndef MJ_GPU_TESTUTIL_H
#define MJ_GPU_TESTUTIL_H

#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mj_ir.h"

/* ---- RNG (splitmix64) ------------------------------------------------------------ */
static uint64_t gt_rng = 0x9e3779b97f4a7c15ULL;
static inline uint64_t gt_next(void) {
    uint64_t z = (gt_rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
static inline int gt_int(int lo, int hi) { return lo + (int)(gt_next() % (uint64_t)(hi - lo + 1)); }
static inline float gt_unit(void) { return (float)(gt_next() >> 40) / (float)(1u << 24); }

/* ---- bf16 --------------------------------------------------------------------------- */
static inline uint16_t gt_f2bf(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return 0x7fc0;
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}
static inline float gt_bf2f(uint16_t b) {
    uint32_t u = (uint32_t)b << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* ---- examples ------------------------------------------------------------------------ */
static int gt_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }
/* Sorted malloc'd paths of dir/NAME.mask; returns the count (<= max). */
static inline int gt_examples(const char *dir, char **out, int max) {
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *de;
    while (d && (de = readdir(d)) && n < max) {
        size_t k = strlen(de->d_name);
        if (k > 5 && !strcmp(de->d_name + k - 5, ".mask")) {
            out[n] = malloc(strlen(dir) + k + 2);
            sprintf(out[n++], "%s/%s", dir, de->d_name);
        }
    }
    if (d) closedir(d);
    qsort(out, (size_t)n, sizeof *out, gt_cmp);
    return n;
}

/* ---- layouts --------------------------------------------------------------------------- */
/* One row's environment and the storage behind it. */
typedef struct gt_row {
    mj_env env;
    mj_value *tokens, *params;
    float *heads;
} gt_row;

/* Fills row storage for program p: n tokens, the first prompt_len from the
 * prompt (instruction, few-shot examples, paraphrase segments), n_heads heads. */
static inline void gt_row_init(gt_row *r, const mj_program *p, int n, int prompt_len, int n_heads, int b) {
    int64_t len = n > 0 ? n : 1;
    r->tokens = calloc((size_t)(p->n_tokens ? p->n_tokens : 1) * (size_t)len, sizeof(mj_value));
    r->params = calloc((size_t)(p->n_param_slots ? p->n_param_slots : 1), sizeof(mj_value));
    r->heads = calloc((size_t)(p->n_heads ? p->n_heads : 1) * (size_t)n_heads, sizeof(float));
    mj_program_default_params(p, r->params);
    int *seg = malloc(sizeof(int) * (size_t)len), *ss = malloc(sizeof(int) * (size_t)len);
    int *part = malloc(sizeof(int) * (size_t)len), *ex = malloc(sizeof(int) * (size_t)len);
    int *doc = malloc(sizeof(int) * (size_t)len), *ds = malloc(sizeof(int) * (size_t)len);
    int instr = prompt_len / 10, n_ex = 2, ex_len = prompt_len / 10, n_seg = 5;
    int seg_len = (prompt_len - instr - n_ex * ex_len) / n_seg;
    if (seg_len < 1) seg_len = 1;
    int max_seg = 0;
    for (int i = 0, d = 0, d0 = 0; i < n; i++) {
        seg[i] = -1; ss[i] = 0; part[i] = -1; ex[i] = -1;
        if (i >= prompt_len) {
        } else if (i < instr) {
            part[i] = 0;
        } else if (i < instr + n_ex * ex_len) {
            int k = (i - instr) / (ex_len ? ex_len : 1);
            ex[i] = k; part[i] = 1 + ((i - instr) % (ex_len ? ex_len : 1) > ex_len / 2);
        } else {
            int k = (i - instr - n_ex * ex_len) / seg_len;
            int start = instr + n_ex * ex_len + k * seg_len;
            if (k < n_seg && i < start + seg_len - 1) {   /* last token: a separator */
                seg[i] = k; ss[i] = start; part[i] = 3;
                if (i - start + 1 > max_seg) max_seg = i - start + 1;
            }
        }
        if (i > 0 && gt_int(0, 150) == 0) { d++; d0 = i; }
        doc[i] = d; ds[i] = d0;
    }
    for (int32_t a = 0; a < p->n_tokens; a++) {
        const char *nm = p->tokens[a].name;
        mj_type t = p->tokens[a].type;
        for (int i = 0; i < n; i++) {
            mj_value *v = &r->tokens[(int64_t)a * len + i];
            if (!strcmp(nm, "seg")) v->i = seg[i];
            else if (!strcmp(nm, "seg_start")) v->i = ss[i];
            else if (!strcmp(nm, "part")) v->i = part[i];
            else if (!strcmp(nm, "example")) v->i = ex[i];
            else if (!strcmp(nm, "doc")) v->i = doc[i];
            else if (!strcmp(nm, "doc_start")) v->i = ds[i];
            else if (!strcmp(nm, "is_global")) v->i = gt_int(0, 40) == 0;
            else if (t == MJ_T_FLOAT) v->f = 2.0f * gt_unit();
            else if (t == MJ_T_BOOL) v->i = gt_int(0, 1);
            else v->i = gt_int(-2, 5);
        }
    }
    for (int32_t k = 0; k < p->n_params; k++) {
        const mj_param *pa = &p->params[k];
        for (int32_t j = 0; j < pa->count; j++) {
            mj_value *v = &r->params[pa->offset + j];
            if (!strcmp(pa->name, "prefix_len")) v->i = instr;
            else if (!strcmp(pa->name, "max_seg_len")) v->i = max_seg;
            else if (!strcmp(pa->name, "w")) v->f = 0.25f + 2.0f * gt_unit();
            else if (!strcmp(pa->name, "bias")) v->f = 2.0f * gt_unit() - 1.0f;
        }
    }
    for (int32_t k = 0; k < p->n_heads; k++)
        for (int j = 0; j < n_heads; j++) r->heads[k * n_heads + j] = exp2f(-8.0f * (j + 1) / n_heads);
    free(seg); free(ss); free(part); free(ex); free(doc); free(ds);
    memset(&r->env, 0, sizeof r->env);
    r->env.n_heads = n_heads;
    r->env.prompt_len = prompt_len;
    r->env.seq_len = n;
    r->env.b = b;
    r->env.tokens_len = n;
    r->env.tokens_stride = len;
    r->env.params = r->params;
    r->env.tokens = r->tokens;
    r->env.heads = r->heads;
}

static inline void gt_row_free(gt_row *r) {
    free(r->tokens);
    free(r->params);
    free(r->heads);
}

/* ---- parallel for ------------------------------------------------------------------------ */
typedef struct gt_pool {
    void (*fn)(void *ctx, int64_t i);
    void *ctx;
    int64_t n, next;
    pthread_mutex_t lock;
} gt_pool;

static void *gt_worker(void *arg) {
    gt_pool *P = arg;
    for (;;) {
        pthread_mutex_lock(&P->lock);
        int64_t i = P->next++;
        pthread_mutex_unlock(&P->lock);
        if (i >= P->n) return NULL;
        P->fn(P->ctx, i);
    }
}

/* fn(ctx, i) for i in [0, n) on up to nproc threads. */
static inline void gt_parallel_for(int64_t n, void (*fn)(void *, int64_t), void *ctx) {
    gt_pool P = {fn, ctx, n, 0, PTHREAD_MUTEX_INITIALIZER};
    long nt = sysconf(_SC_NPROCESSORS_ONLN);
    if (nt < 1) nt = 1;
    if (nt > 64) nt = 64;
    pthread_t th[64];
    int started = 0;
    for (long t = 0; t < nt; t++)
        if (pthread_create(&th[started], NULL, gt_worker, &P) == 0) started++;
    if (!started) gt_worker(&P);
    for (int t = 0; t < started; t++) pthread_join(th[t], NULL);
}

#endif
