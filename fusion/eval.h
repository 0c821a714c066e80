/* eval.h — scoring the outputs of `maskjit run`: every record is judged with
 * the study's rule (lemma.h: an alias's lemma sequence occurs contiguously in
 * the prediction's), and records are grouped by (method, dataset) into one
 * table with counts, accuracy, a 95 % Wilson score interval and the summed
 * run time. */
#ifndef MJ_EVAL_H
#define MJ_EVAL_H

#include <stdint.h>
#include <stdio.h>

#include "results.h"

typedef struct mj_eval_row {
    char *method, *dataset;
    int64_t n, correct;
    double accuracy, lo, hi;   /* lo/hi: 95 % Wilson interval */
    double seconds;
    int64_t duplicates;        /* records whose id was already counted in this group */
} mj_eval_row;

typedef struct mj_eval_table {
    mj_eval_row *rows;
    int n, cap;
} mj_eval_table;

typedef enum mj_eval_format { MJ_EVAL_MARKDOWN = 0, MJ_EVAL_CSV = 1, MJ_EVAL_JSON = 2 } mj_eval_format;

/* "markdown" | "csv" | "json"; -1 if unknown. */
int mj_eval_format_parse(const char *s);

/* Wilson score interval for k successes in n trials at z (1.96 for 95 %). */
void mj_wilson(int64_t k, int64_t n, double z, double *lo, double *hi);

void mj_eval_init(mj_eval_table *t);
void mj_eval_free(mj_eval_table *t);
/* Judge and count every record of rs (groups appear in first-seen order). 0 / -1 (OOM). */
int mj_eval_add(mj_eval_table *t, const mj_results *rs);
/* Print the table. */
void mj_eval_print(const mj_eval_table *t, mj_eval_format f, FILE *out);

#endif
