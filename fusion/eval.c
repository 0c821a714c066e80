/* eval.c — see eval.h. */
#include "eval.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fu_util.h"
#include "lemma.h"

int mj_eval_format_parse(const char *s) {
    if (!strcmp(s, "markdown") || !strcmp(s, "md")) return MJ_EVAL_MARKDOWN;
    if (!strcmp(s, "csv")) return MJ_EVAL_CSV;
    if (!strcmp(s, "json")) return MJ_EVAL_JSON;
    return -1;
}

void mj_wilson(int64_t k, int64_t n, double z, double *lo, double *hi) {
    if (n <= 0) { *lo = 0; *hi = 1; return; }
    double p = (double)k / (double)n, z2 = z * z, nn = (double)n;
    double den = 1 + z2 / nn;
    double center = (p + z2 / (2 * nn)) / den;
    double half = z * sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn)) / den;
    *lo = center - half < 0 ? 0 : center - half;
    *hi = center + half > 1 ? 1 : center + half;
}

void mj_eval_init(mj_eval_table *t) { memset(t, 0, sizeof *t); }

/* Per-group id sets live beside the table while adding. */
typedef struct seen { mj_strv ids; } seen;

void mj_eval_free(mj_eval_table *t) {
    for (int i = 0; i < t->n; i++) {
        free(t->rows[i].method);
        free(t->rows[i].dataset);
    }
    free(t->rows);
    memset(t, 0, sizeof *t);
}

static int group_of(mj_eval_table *t, const char *method, const char *dataset) {
    for (int i = 0; i < t->n; i++)
        if (!strcmp(t->rows[i].method, method) && !strcmp(t->rows[i].dataset, dataset)) return i;
    if (t->n == t->cap) {
        int cap = t->cap ? 2 * t->cap : 16;
        mj_eval_row *r = realloc(t->rows, (size_t)cap * sizeof *r);
        if (!r) return -1;
        t->rows = r;
        t->cap = cap;
    }
    mj_eval_row *r = &t->rows[t->n];
    memset(r, 0, sizeof *r);
    r->method = strdup(method);
    r->dataset = strdup(dataset);
    if (!r->method || !r->dataset) { free(r->method); free(r->dataset); return -1; }
    return t->n++;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Mark duplicates within rs: dup[i] when an earlier record of the same group has the id. */
static int find_dups(const mj_results *rs, char *dup) {
    char **keys = malloc((size_t)(rs->n ? rs->n : 1) * sizeof *keys);
    if (!keys) return -1;
    int rc = 0;
    for (int64_t i = 0; i < rs->n && !rc; i++) {
        mj_buf b;
        mj_buf_init(&b);
        const mj_record *r = &rs->r[i];
        rc = mj_buf_printf(&b, "%s%c%s%c%s%c%012lld", r->method, 1, r->dataset, 1, r->id, 1, (long long)i);
        keys[i] = b.p;
    }
    if (!rc) {
        qsort(keys, (size_t)rs->n, sizeof *keys, cmp_str);
        for (int64_t i = 1; i < rs->n; i++) {
            size_t k = strlen(keys[i]) - 12, kp = strlen(keys[i - 1]) - 12;
            if (k == kp && !memcmp(keys[i], keys[i - 1], k)) dup[atoll(keys[i] + k)] = 1;
        }
    }
    for (int64_t i = 0; i < rs->n; i++) free(keys[i]);
    free(keys);
    return rc;
}

int mj_eval_add(mj_eval_table *t, const mj_results *rs) {
    mj_lemma_init();
    char *dup = calloc((size_t)(rs->n ? rs->n : 1), 1);
    if (!dup || find_dups(rs, dup)) { free(dup); return -1; }
    for (int64_t i = 0; i < rs->n; i++) {
        const mj_record *r = &rs->r[i];
        int g = group_of(t, r->method, r->dataset);
        if (g < 0) { free(dup); return -1; }
        mj_eval_row *row = &t->rows[g];
        if (dup[i]) { row->duplicates++; continue; }
        row->n++;
        row->correct += mj_answer_correct(r->prediction, r->answers, r->n_answers);
        row->seconds += r->seconds;
        row->accuracy = (double)row->correct / (double)row->n;
        mj_wilson(row->correct, row->n, 1.959963984540054, &row->lo, &row->hi);
    }
    free(dup);
    return 0;
}

static void print_json_str(FILE *out, const char *s) {
    mj_buf b;
    mj_buf_init(&b);
    if (mj_buf_json_str(&b, s) == 0) fputs(b.p, out);
    mj_buf_free(&b);
}

static void print_csv_field(FILE *out, const char *s) {
    if (!strpbrk(s, ",\"\n")) { fputs(s, out); return; }
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"') fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

void mj_eval_print(const mj_eval_table *t, mj_eval_format f, FILE *out) {
    if (f == MJ_EVAL_CSV) fputs("method,dataset,correct,n,accuracy,ci95_low,ci95_high,seconds\n", out);
    else if (f == MJ_EVAL_JSON) fputs("[", out);
    else {
        fputs("| method | dataset | accuracy | correct / n | 95 % CI | time (s) |\n", out);
        fputs("|---|---|---:|---:|---|---:|\n", out);
    }
    for (int i = 0; i < t->n; i++) {
        const mj_eval_row *r = &t->rows[i];
        if (f == MJ_EVAL_CSV) {
            print_csv_field(out, r->method);
            fputc(',', out);
            print_csv_field(out, r->dataset);
            fprintf(out, ",%lld,%lld,%.4f,%.4f,%.4f,%.1f\n", (long long)r->correct, (long long)r->n,
                    r->accuracy, r->lo, r->hi, r->seconds);
        } else if (f == MJ_EVAL_JSON) {
            fputs(i ? ",\n {\"method\": " : "\n {\"method\": ", out);
            print_json_str(out, r->method);
            fputs(", \"dataset\": ", out);
            print_json_str(out, r->dataset);
            fprintf(out, ", \"correct\": %lld, \"n\": %lld, \"accuracy\": %.6f, \"ci95\": [%.6f, %.6f], "
                    "\"seconds\": %.2f, \"duplicates\": %lld}", (long long)r->correct, (long long)r->n,
                    r->accuracy, r->lo, r->hi, r->seconds, (long long)r->duplicates);
        } else {
            fprintf(out, "| %s | %s | %.1f %% | %lld / %lld | %.1f–%.1f %% | %.1f |\n", r->method,
                    r->dataset, 100 * r->accuracy, (long long)r->correct, (long long)r->n, 100 * r->lo,
                    100 * r->hi, r->seconds);
        }
    }
    if (f == MJ_EVAL_JSON) fputs(t->n ? "\n]\n" : "]\n", out);
}
