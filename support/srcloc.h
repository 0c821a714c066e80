/* srcloc.h — source locations carried by every AST node and IR node. */
#ifndef MJ_SRCLOC_H
#define MJ_SRCLOC_H

#include <stdint.h>

struct mj_source;

/* A position in a source file: 1-based line and column (column counts bytes).
 * `src` points at the loaded source so that diagnostics can print the line. */
typedef struct mj_srcloc {
    const struct mj_source *src;
    int32_t line;
    int32_t col;
    int32_t len;    /* length of the offending token in bytes (>= 1 for a caret) */
} mj_srcloc;

#endif
