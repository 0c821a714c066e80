/* mask_session.h — what `show` and `explain` share: compile a .mask file, build
 * its layout from the command-line options, and pick the back end that
 * evaluates it (the interpreter, or the LLVM JIT for --backend cpu). */
#ifndef MJ_CLI_MASK_SESSION_H
#define MJ_CLI_MASK_SESSION_H

#include <stdint.h>

#include "jit.h"
#include "layout.h"
#include "mask_fns.h"

typedef struct mj_mask_session {
    mj_program *p;
    mj_layout L;
    mj_jit *jit;          /* NULL for the interpreter */
    mj_mask_fns fns;
} mj_mask_session;

/* Compile path, build the layout, set up the back end ("interp" or "cpu").
 * Prints diagnostics / errors to stderr prefixed with `cmd`.  Returns 0, or
 * the exit status (1: the file has errors or the back end failed, 2: bad
 * options); the session is then already freed. */
int mj_mask_session_open(mj_mask_session *s, const char *cmd, const char *path,
                         const mj_layout_opts *lo, const char *backend);
void mj_mask_session_close(mj_mask_session *s);

/* The element mask of head h: n*n bytes (row q, column kv), malloc'd. */
uint8_t *mj_mask_session_dense(const mj_mask_session *s, int32_t h);
/* The block map of head h (block x block tiles), nb*nb bytes, malloc'd; NULL on
 * bad arguments.  *nb_out receives ceil(n / block). */
uint8_t *mj_mask_session_blocks(const mj_mask_session *s, int32_t block, int32_t h, int32_t *nb_out);

/* Visible (q, kv) pairs of head h in [q0,q1] x [k0,k1] (inclusive), exact:
 * regions the block classifier decides count at once, PARTIAL ones are split
 * in four until small, then evaluated element by element.  sum: summary of
 * s's layout (any block size). */
int64_t mj_mask_session_count(const mj_mask_session *s, const mj_summary *sum, int32_t q0, int32_t q1,
                              int32_t k0, int32_t k1, int32_t h);

#endif
