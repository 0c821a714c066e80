/* arena.h — bump allocator owning every allocation of one compilation
 * (sources, AST, IR, strings).  One owner, one free. */
#ifndef MJ_ARENA_H
#define MJ_ARENA_H

#include <stddef.h>

typedef struct mj_arena mj_arena;

mj_arena *mj_arena_new(void);
/* Zeroed, 16-byte aligned memory; aborts only on out-of-memory. */
void *mj_arena_alloc(mj_arena *a, size_t n);
char *mj_arena_strndup(mj_arena *a, const char *s, size_t n);
char *mj_arena_strdup(mj_arena *a, const char *s);
char *mj_arena_printf(mj_arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void mj_arena_free(mj_arena *a);

#endif
