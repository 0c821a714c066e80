/* feather.h — writing Feather v2 files (the Arrow IPC file format) with utf8
 * and list<utf8> columns, readable by pyarrow.feather / pandas.read_feather.
 *
 * Why by hand: Debian 12 packages no Arrow C/C++ library (libarrow is not in
 * bookworm) and no FlatBuffers C builder, and the project builds only from
 * Debian packages.  The format is small for this subset: magic "ARROW1\0\0",
 * a Schema message, one RecordBatch message (validity buffers of length 0,
 * int32 offsets, UTF-8 data, every buffer 8-byte aligned, no compression), the
 * end-of-stream marker, the Footer flatbuffer, its int32 length and "ARROW1".
 * Metadata version V5. */
#ifndef MJ_FEATHER_H
#define MJ_FEATHER_H

#include <stddef.h>
#include <stdint.h>

typedef struct mj_feather_col {
    const char *name;
    int is_list;                  /* 0: utf8; 1: list<utf8> */
    const char *const *str;       /* utf8: [n_rows] (NULL entries written as "") */
    const char *const *const *list;  /* list: [n_rows] arrays ... */
    const int32_t *list_len;      /* ... of list_len[row] strings */
} mj_feather_col;

/* Write the table to path (through path.tmp + rename, so a reader never sees
 * a half-written file).  Returns 0, or -1 with a message. */
int mj_feather_write(const char *path, int64_t n_rows, const mj_feather_col *cols, int n_cols,
                     char *err, size_t errn);

#endif
