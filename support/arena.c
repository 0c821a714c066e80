/* arena.c — chunked bump allocator (see arena.h). */
#include "arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct chunk {
    struct chunk *next;
    size_t cap, used;
    _Alignas(16) unsigned char data[];
} chunk;

struct mj_arena {
    chunk *head;
};

mj_arena *mj_arena_new(void) {
    mj_arena *a = calloc(1, sizeof *a);
    if (!a) { fputs("maskjit: out of memory\n", stderr); abort(); }
    return a;
}

void *mj_arena_alloc(mj_arena *a, size_t n) {
    n = (n + 15u) & ~(size_t)15u;
    if (!a->head || a->head->cap - a->head->used < n) {
        size_t cap = n > 65536 ? n : 65536;
        chunk *c = malloc(sizeof *c + cap);
        if (!c) { fputs("maskjit: out of memory\n", stderr); abort(); }
        c->next = a->head; c->cap = cap; c->used = 0;
        a->head = c;
    }
    void *p = a->head->data + a->head->used;
    a->head->used += n;
    memset(p, 0, n);
    return p;
}

char *mj_arena_strndup(mj_arena *a, const char *s, size_t n) {
    char *d = mj_arena_alloc(a, n + 1);
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

char *mj_arena_strdup(mj_arena *a, const char *s) { return mj_arena_strndup(a, s, strlen(s)); }

char *mj_arena_printf(mj_arena *a, const char *fmt, ...) {
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *d = mj_arena_alloc(a, (size_t)(n < 0 ? 0 : n) + 1);
    vsnprintf(d, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    return d;
}

void mj_arena_free(mj_arena *a) {
    if (!a) return;
    for (chunk *c = a->head, *n; c; c = n) { n = c->next; free(c); }
    free(a);
}
