/* source.h — loading .mask source text into an mj_source (diag.h) and the
 * checks every source passes before scanning: not too large, no NUL byte,
 * valid UTF-8.  Also maps byte offsets to line/column locations. */
#ifndef MJ_SOURCE_H
#define MJ_SOURCE_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "diag.h"
#include "srcloc.h"

/* Sources larger than this are refused ("file too large"). */
#define MJ_SOURCE_MAX_BYTES ((size_t)64 << 20)

/* Copies TEXT[0..len) into an mj_source named NAME, allocated in A. */
mj_source *mj_source_from_text(mj_arena *a, const char *name, const char *text, size_t len);

/* Reads the whole file PATH into an mj_source named PATH, allocated in A.
 * With regular_only, anything but a regular file is refused (imports: never
 * block on a FIFO or a device); the file is opened non-blocking either way.
 * Returns NULL and writes a message (e.g. "cannot open 'x': No such file or
 * directory") into err (size errn) on failure. */
mj_source *mj_source_load(mj_arena *a, const char *path, bool regular_only, char *err, size_t errn);

/* Checks that S has no NUL byte, is valid UTF-8 (no overlong forms, no
 * surrogates, nothing above U+10FFFF) and is not too large.  Returns 0, or -1
 * with the offset of the first bad byte in *bad_off and a message in msg
 * (size msgn). */
int mj_source_validate(const mj_source *s, size_t *bad_off, char *msg, size_t msgn);

/* Location of byte OFFSET (line and byte column, 1-based), LEN bytes long. */
mj_srcloc mj_source_loc(const mj_source *s, size_t offset, int32_t len);

#endif
