/* cpu_pool.c — a small fixed thread pool for the CPU engine: the caller and
 * n-1 workers take items of one job from a shared atomic counter.  Workers
 * sleep on a condition variable between jobs (no spinning, so they never
 * steal the cores from BLAS or from other processes while idle). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "cpu_internal.h"

struct cpu_pool {
    int n;                       /* threads in all, caller included */
    pthread_t *th;
    pthread_mutex_t mu;
    pthread_cond_t wake, idle;
    uint64_t gen;                /* job generation, bumped per job */
    int busy;                    /* workers still in the current job */
    bool quit;
    /* the current job */
    cpu_task_fn fn;
    void *ctx;
    int64_t n_items;
    atomic_llong next;
};

typedef struct worker_arg { cpu_pool *p; int tid; } worker_arg;

/* Take items of the current job until none is left. */
static void pool_drain(cpu_pool *p, int tid) {
    for (;;) {
        int64_t i = atomic_fetch_add(&p->next, 1);
        if (i >= p->n_items) break;
        p->fn(p->ctx, i, tid);
    }
}

static void *pool_worker(void *arg) {
    worker_arg *wa = arg;
    cpu_pool *p = wa->p;
    int tid = wa->tid;
    free(wa);
    uint64_t seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->quit && p->gen == seen) pthread_cond_wait(&p->wake, &p->mu);
        if (p->quit) break;
        seen = p->gen;
        pthread_mutex_unlock(&p->mu);
        pool_drain(p, tid);
        pthread_mutex_lock(&p->mu);
        if (--p->busy == 0) pthread_cond_signal(&p->idle);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

cpu_pool *cpu_pool_init(int n) {
    if (n < 1) n = 1;
    cpu_pool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->n = 1;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->idle, NULL);
    p->th = calloc((size_t)n, sizeof *p->th);
    if (!p->th) { cpu_pool_free(p); return NULL; }
    for (int t = 1; t < n; t++) {
        worker_arg *wa = malloc(sizeof *wa);
        if (!wa) break;
        wa->p = p;
        wa->tid = t;
        if (pthread_create(&p->th[t], NULL, pool_worker, wa) != 0) { free(wa); break; }
        p->n++;
    }
    return p;
}

void cpu_pool_free(cpu_pool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->quit = true;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    for (int t = 1; t < p->n; t++) pthread_join(p->th[t], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->idle);
    free(p->th);
    free(p);
}

int cpu_pool_size(const cpu_pool *p) { return p ? p->n : 1; }

void cpu_pool_run(cpu_pool *p, int64_t n_items, cpu_task_fn fn, void *ctx) {
    if (n_items <= 0) return;
    if (!p || p->n == 1 || n_items == 1) {
        for (int64_t i = 0; i < n_items; i++) fn(ctx, i, 0);
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->ctx = ctx;
    p->n_items = n_items;
    atomic_store(&p->next, 0);
    p->busy = p->n - 1;
    p->gen++;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    pool_drain(p, 0);
    pthread_mutex_lock(&p->mu);
    while (p->busy > 0) pthread_cond_wait(&p->idle, &p->mu);
    pthread_mutex_unlock(&p->mu);
}
