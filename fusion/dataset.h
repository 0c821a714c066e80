/* dataset.h — question sets for the fusion application, read from disk.
 *
 * Formats (json-c; every record is checked, a bad one is an error naming
 * FILE:LINE, or is skipped and counted when skip_bad is set):
 *   webquestions  a JSON array of {"qId", "qText", "answers": [..]} (the
 *                 WebQuestions splits); the question is paraphrase 0 and the
 *                 only one.
 *   paraphrases   JSONL as `maskjit paraphrase` writes it: {"id", "question",
 *                 "paraphrases": [original, p1, ...], "answers": [..],
 *                 "paraphrase_kinds": ["original", "generated", ...], ...}.
 *   myriadlama    JSONL {"uuid", "paraphrases": [..], "paraphrase_kinds":
 *                 ["manual"|"auto"|"unknown", ..], "answers": [..], ...}.
 *   generic       JSONL {"id": STRING|NUMBER, "paraphrases": [STRING, ...],
 *                 "answers": [STRING, ...]} plus optional "paraphrase_kinds"
 *                 (same length as paraphrases); other keys are ignored.
 * Blank lines in JSONL files are ignored.  Auto-detection: a file whose first
 * non-blank byte is '[' is webquestions; a JSONL file is myriadlama if its
 * first record has "uuid", paraphrases if it has "id" and "question", else
 * generic. */
#ifndef MJ_DATASET_H
#define MJ_DATASET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum mj_data_format {
    MJ_DATA_AUTO = 0,
    MJ_DATA_WEBQUESTIONS,
    MJ_DATA_PARAPHRASES,
    MJ_DATA_MYRIADLAMA,
    MJ_DATA_GENERIC
} mj_data_format;

/* "auto" | "webquestions" | "paraphrases" | "myriadlama" | "generic"; -1 if unknown. */
int mj_data_format_parse(const char *s);
const char *mj_data_format_name(mj_data_format f);

typedef struct mj_question {
    char *id;
    char **paraphrases;
    int32_t n_paraphrases;
    char **kinds;          /* [n_paraphrases] or NULL when the file has none */
    char **answers;
    int32_t n_answers;
    int64_t line;          /* 1-based line of the record in its file */
} mj_question;

typedef struct mj_dataset {
    char *path;
    mj_data_format format;  /* the detected format, never AUTO */
    char *name;             /* "webqa", "myriadlama" or the file's stem (generic) */
    mj_question *q;
    int64_t n, cap;
    int64_t n_skipped;      /* bad records skipped (skip_bad) */
    char *first_skip;       /* message of the first skipped record, or NULL */
} mj_dataset;

/* Read PATH in format fmt (MJ_DATA_AUTO: detect).  Returns 0, or -1 with
 * "FILE:LINE: message" in err.  With skip_bad, bad records are counted in
 * d->n_skipped instead (a file that cannot be read or parsed as a whole is
 * still an error).  Duplicate ids are bad records. */
int mj_dataset_load(mj_dataset *d, const char *path, mj_data_format fmt, bool skip_bad, char *err,
                    size_t errn);
void mj_dataset_free(mj_dataset *d);

/* Index of the question with id, or -1 (linear). */
int64_t mj_dataset_find(const mj_dataset *d, const char *id);

#endif
