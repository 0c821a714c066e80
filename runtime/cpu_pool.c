/* cpu_pool.c — a small fixed thread pool for the CPU engine: the caller and
 * n-1 workers take items of one job from a shared atomic counter.  Between
 * jobs a worker spins briefly (a forward pass issues jobs every few tens of
 * microseconds), then sleeps on a condition variable, so an idle engine
 * costs no CPU. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "cpu_internal.h"

/* How long a thread polls before it sleeps (a `pause` costs from ~10 to
 * ~140 cycles depending on the CPU, so the budget is time, not a count). */
#define POOL_SPIN_NS 20000

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static int64_t mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Poll until the job generation moves past `seen` (or quit), for at most
 * POOL_SPIN_NS; false if it did not. */
static bool spin_gen(atomic_ullong *v, uint64_t seen, atomic_bool *quit) {
    int64_t t0 = mono_ns();
    for (int i = 1;; i++) {
        if (atomic_load(v) != seen || atomic_load(quit)) return true;
        cpu_relax();
        if ((i & 15) == 0 && mono_ns() - t0 > POOL_SPIN_NS) return false;
    }
}

/* Poll until no worker is busy, for at most POOL_SPIN_NS; false if some is. */
static bool spin_idle(atomic_int *busy) {
    int64_t t0 = mono_ns();
    for (int i = 1;; i++) {
        if (atomic_load(busy) <= 0) return true;
        cpu_relax();
        if ((i & 15) == 0 && mono_ns() - t0 > POOL_SPIN_NS) return false;
    }
}

struct cpu_pool {
    int n;                       /* threads in all, caller included */
    pthread_t *th;
    pthread_mutex_t mu;
    pthread_cond_t wake, idle;
    atomic_ullong gen;           /* job generation, bumped per job */
    atomic_int busy;             /* workers still in the current job */
    atomic_bool quit;
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
    for (;;) {
        if (!spin_gen(&p->gen, seen, &p->quit)) {
            pthread_mutex_lock(&p->mu);
            while (!atomic_load(&p->quit) && atomic_load(&p->gen) == seen)
                pthread_cond_wait(&p->wake, &p->mu);
            pthread_mutex_unlock(&p->mu);
        }
        if (atomic_load(&p->quit)) break;
        seen = atomic_load(&p->gen);
        pool_drain(p, tid);
        if (atomic_fetch_sub(&p->busy, 1) == 1) {
            pthread_mutex_lock(&p->mu);
            pthread_cond_signal(&p->idle);
            pthread_mutex_unlock(&p->mu);
        }
    }
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
    atomic_store(&p->quit, true);
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
    p->fn = fn;
    p->ctx = ctx;
    p->n_items = n_items;
    atomic_store(&p->next, 0);
    atomic_store(&p->busy, p->n - 1);
    pthread_mutex_lock(&p->mu);
    atomic_fetch_add(&p->gen, 1);          /* publishes the job (seq_cst) */
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    pool_drain(p, 0);
    if (!spin_idle(&p->busy)) {
        pthread_mutex_lock(&p->mu);
        while (atomic_load(&p->busy) > 0) pthread_cond_wait(&p->idle, &p->mu);
        pthread_mutex_unlock(&p->mu);
    }
}
