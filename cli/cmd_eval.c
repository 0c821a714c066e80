/* cmd_eval.c — `maskjit eval OUT.jsonl...`: score the outputs of `maskjit
 * run` with the study's lemma rule and print one table, method x dataset x
 * accuracy with counts and a 95 % Wilson interval (fusion/eval.h).
 * `--lemmatize` turns it into a filter (one text per input line, its lemmas
 * tab-separated per output line) used by scripts/lemma_agreement.py. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "eval.h"
#include "lemma.h"
#include "results.h"

static void usage(FILE *out) {
    fputs("usage: maskjit eval [--format markdown|csv|json] OUT.jsonl...\n"
          "       maskjit eval --lemmatize  < lines\n\n"
          "Scores every record of the given `maskjit run` outputs: a prediction is correct when\n"
          "the lemma sequence of one of the answer aliases occurs contiguously in the lemma\n"
          "sequence of the prediction (lowercased; WordNet morphology plus spaCy-like rules).\n"
          "Prints one table: method, dataset, accuracy, correct / n, 95 % Wilson interval and\n"
          "the summed run time.  A record repeated in a group is counted once.\n\n"
          "options:\n"
          "  --format F     markdown (default), csv or json\n"
          "  --lemmatize    read text lines on stdin, print their lemmas (tab-separated)\n", out);
}

static int lemmatize_stdin(void) {
    mj_lemma_init();
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, stdin)) >= 0) {
        if (n && line[n - 1] == '\n') line[n - 1] = 0;
        mj_strv v;
        mj_strv_init(&v);
        if (mj_lemmatize(line, &v)) { free(line); fputs("maskjit eval: out of memory\n", stderr); return 1; }
        for (int64_t i = 0; i < v.n; i++) printf("%s%s", i ? "\t" : "", v.s[i]);
        putchar('\n');
        mj_strv_free(&v);
    }
    free(line);
    return 0;
}

int cmd_eval(int argc, char **argv) {
    static const struct option opts[] = {{"format", 1, 0, 'f'}, {"lemmatize", 0, 0, 'l'},
                                         {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    int fmt = MJ_EVAL_MARKDOWN, c;
    bool lem = false;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
        if (c == 'f') {
            if ((fmt = mj_eval_format_parse(optarg)) < 0) {
                fprintf(stderr, "maskjit eval: unknown format '%s' (markdown, csv, json)\n", optarg);
                return 2;
            }
        } else if (c == 'l') lem = true;
        else if (c == 'h') { usage(stdout); return 0; }
        else { usage(stderr); return 2; }
    }
    if (lem) return lemmatize_stdin();
    if (optind >= argc) { usage(stderr); return 2; }
    if (!mj_lemma_init())
        fputs("maskjit eval: warning: WordNet is not available, lemmas come from rules only\n", stderr);
    mj_eval_table t;
    mj_eval_init(&t);
    char err[1024];
    int rc = 0;
    for (int i = optind; i < argc && !rc; i++) {
        mj_results rs;
        if (mj_results_read(&rs, argv[i], false, err, sizeof err)) {
            fprintf(stderr, "maskjit eval: %s\n", err);
            rc = 1;
            break;
        }
        if (rs.n_torn) fprintf(stderr, "maskjit eval: %s: ignoring a torn last line (run --resume drops it)\n", argv[i]);
        if (mj_eval_add(&t, &rs)) { fputs("maskjit eval: out of memory\n", stderr); rc = 1; }
        mj_results_free(&rs);
    }
    if (!rc) {
        mj_eval_print(&t, (mj_eval_format)fmt, stdout);
        for (int i = 0; i < t.n; i++)
            if (t.rows[i].duplicates)
                fprintf(stderr, "maskjit eval: %s / %s: %lld repeated record(s) counted once\n", t.rows[i].method,
                        t.rows[i].dataset, (long long)t.rows[i].duplicates);
    }
    mj_eval_free(&t);
    return rc;
}
