/* results.h — the outputs of `maskjit run`: one JSON object per question in
 * an append-only JSONL file, plus a Feather export.
 *
 * Record keys: id, dataset, method (the label shown by eval), layout,
 * paraphrases (those used), answers, prediction (first line of the
 * generation, stripped), generation (raw decoded text), new_tokens, stop
 * ("newline" | "eos" | "length"), prompt_tokens, seconds, and optional extras
 * (e.g. weights).
 *
 * Crash safety: records are appended in one write() per batch, then
 * fsync'ed.  A line counts only when it ends with '\n' and parses; on resume
 * a torn last line (the process was killed inside write()) is cut off with
 * ftruncate, and the ids of the complete lines are skipped, so killing the
 * process at any moment loses no finished question and duplicates none. */
#ifndef MJ_RESULTS_H
#define MJ_RESULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fu_util.h"

typedef struct mj_record {
    char *id, *dataset, *method, *layout;
    char **paraphrases;
    int32_t n_paraphrases;
    char **answers;
    int32_t n_answers;
    char *prediction, *generation, *stop;
    int32_t new_tokens, prompt_tokens;
    double seconds;       /* wall time spent on this question (its batch's time / batch size) */
} mj_record;

void mj_record_free(mj_record *r);
/* Append r as one JSON line (with '\n') to b; extra_json, when not NULL, is
 * spliced in as additional members ("\"k\": v, ..."). */
int mj_record_to_json(const mj_record *r, const char *extra_json, mj_buf *b);

typedef struct mj_results {
    mj_record *r;
    int64_t n, cap;
    int64_t n_torn;       /* 1 when the file ended in a torn line */
    int64_t torn_at;      /* byte offset where the torn line starts */
} mj_results;

/* Read every complete record of path.  A last line without '\n' or that
 * does not parse is a torn line (counted, not an error); a bad line elsewhere
 * is an error "FILE:LINE: ...".  A missing file is an error unless
 * missing_ok (then 0 records). */
int mj_results_read(mj_results *rs, const char *path, bool missing_ok, char *err, size_t errn);
void mj_results_free(mj_results *rs);

/* The append-only writer. */
typedef struct mj_out {
    int fd;
    char *path;
    mj_buf pending;
} mj_out;

/* Open path for appending.  Without resume the file must not exist or be
 * empty.  With resume a torn last line is truncated away and *done receives
 * the records already there (caller frees with mj_results_free); every one
 * must carry method label `method` (else an error: one file, one method). */
int mj_out_open(mj_out *o, const char *path, bool resume, const char *method, mj_results *done,
                char *err, size_t errn);
/* Open path for appending records of any JSONL schema with a string "id":
 * like mj_out_open, but on resume *ids / *n_ids receive the ids of the
 * complete lines (caller frees with mj_strs_free). */
int mj_out_open_ids(mj_out *o, const char *path, bool resume, char ***ids, int64_t *n_ids, char *err,
                    size_t errn);
/* Queue one raw JSON line (its '\n' included). */
int mj_out_add_raw(mj_out *o, const char *line);
/* Queue one record (written by the next flush). */
int mj_out_add(mj_out *o, const mj_record *r, const char *extra_json);
/* write() the queued records in one call, then fsync.  0 / -1. */
int mj_out_flush(mj_out *o, char *err, size_t errn);
void mj_out_close(mj_out *o);

/* Write the records as Feather v2: uuid, paraphrases, answers, prediction,
 * generation, method. */
int mj_results_write_feather(const mj_results *rs, const char *path, char *err, size_t errn);

#endif
