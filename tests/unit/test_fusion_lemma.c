/* test_fusion_lemma.c — the lemma matcher (the study's contiguous-alias rule),
 * spaCy-like tokenization, WordNet lemmas (when libWN and its dictionary are
 * present), the Wilson interval, and the eval table over a results file. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eval.h"
#include "lemma.h"
#include "results.h"
#include "support/testlib.h"

static int lemmas_are(const char *text, const char *want) {   /* want: space-joined */
    mj_strv v;
    mj_strv_init(&v);
    mj_lemmatize(text, &v);
    mj_buf b;
    mj_buf_init(&b);
    for (int64_t i = 0; i < v.n; i++) mj_buf_printf(&b, "%s%s", i ? " " : "", v.s[i]);
    int ok = !strcmp(b.p ? b.p : "", want);
    if (!ok) fprintf(stderr, "  lemmas of '%s': '%s', want '%s'\n", text, b.p ? b.p : "", want);
    mj_buf_free(&b);
    mj_strv_free(&v);
    return ok;
}

static bool correct(const char *pred, const char *a0, const char *a1) {
    char *al[2] = {(char *)a0, (char *)a1};
    return mj_answer_correct(pred, al, a1 ? 2 : 1);
}

static void test_rules(void) {
    CHECK(lemmas_are("Paris.", "paris ."));
    CHECK(lemmas_are("  New   York City ", "new york city"));
    CHECK(lemmas_are("\"Hello\" (band)", "\" hello \" ( band )"));
    CHECK(lemmas_are("King's College", "king 's college"));
    CHECK(lemmas_are("don't", "do not"));
    CHECK(lemmas_are("Guinea-Bissau", "guinea - bissau"));
    CHECK(lemmas_are("U.S. Army", "u.s. army"));
    CHECK(lemmas_are("3.5% of $100", "3.5 % of $ 100"));
    CHECK(lemmas_are("10km", "10 km"));
    CHECK(lemmas_are("1,000", "1,000"));
    CHECK(lemmas_are("AC/DC", "ac / dc"));
    CHECK(lemmas_are("St. Louis", "st. louis"));
    CHECK(lemmas_are("KHLOÉ Æsir", "khloé æsir"));
    CHECK(lemmas_are("It was US", "it be us"));
    CHECK(lemmas_are("", ""));
    /* the contiguous rule */
    CHECK(correct("new york city", "New York", NULL));
    CHECK(!correct("york", "New York", NULL));
    CHECK(!correct("new jersey york", "New York", NULL));
    CHECK(correct("The answer is Paris.", "paris", NULL));
    CHECK(correct("Lyon", "Paris", "Lyon"));
    CHECK(!correct("", "Paris", NULL));
    CHECK(!correct("Parisian", "Paris", NULL));
    char *a[1] = {"b c"}, *p[3] = {"a", "b", "c"};
    CHECK(mj_lemma_contains(p, 3, a, 0) == false);
    char *bc[2] = {"b", "c"}, *cb[2] = {"c", "b"};
    CHECK(mj_lemma_contains(p, 3, bc, 2) && !mj_lemma_contains(p, 3, cb, 2) && !mj_lemma_contains(p, 1, bc, 2));
    (void)a;
}

static void test_wordnet(void) {
    if (!mj_lemma_init()) { printf("SKIP WordNet part: WordNet morphology unavailable\n"); return; }
    CHECK(lemmas_are("glasses", "glass"));
    CHECK(lemmas_are("children", "child"));
    CHECK(lemmas_are("violins", "violin"));
    CHECK(lemmas_are("news", "news") && lemmas_are("species", "species"));
    CHECK(lemmas_are("played the guitars", "play the guitar"));
    CHECK(lemmas_are("United States", "united states"));   /* proper-noun phrase kept */
    CHECK(lemmas_are("Netherlands", "netherland"));        /* as spaCy does */
    CHECK(correct("He played violins", "violin", NULL));
    CHECK(correct("saxophones", "saxophone", NULL));
}

static void test_eval(void) {
    double lo, hi;
    mj_wilson(81, 263, 1.96, &lo, &hi);      /* reference values (Wilson, z = 1.96) */
    CHECK(fabs(lo - 0.2553) < 1e-3 && fabs(hi - 0.3662) < 1e-3);
    mj_wilson(0, 10, 1.96, &lo, &hi);
    CHECK(lo == 0 && fabs(hi - 0.2775) < 1e-3);
    mj_wilson(0, 0, 1.96, &lo, &hi);
    CHECK(lo == 0 && hi == 1);
    char path[] = "/tmp/mj_test_eval_XXXXXX";
    int fd = mkstemp(path);
    const char *lines =
        "{\"id\": \"a\", \"dataset\": \"d\", \"method\": \"m1\", \"paraphrases\": [\"p\"], \"answers\": [\"Paris\"], \"prediction\": \"Paris.\", \"seconds\": 1.5}\n"
        "{\"id\": \"b\", \"dataset\": \"d\", \"method\": \"m1\", \"paraphrases\": [\"p\"], \"answers\": [\"x\", \"New York\"], \"prediction\": \"york\", \"seconds\": 0.5}\n"
        "{\"id\": \"a\", \"dataset\": \"d\", \"method\": \"m2\", \"paraphrases\": [\"p\"], \"answers\": [\"Paris\"], \"prediction\": \"Lyon\"}\n"
        "{\"id\": \"a\", \"dataset\": \"d\", \"method\": \"m1\", \"paraphrases\": [\"p\"], \"answers\": [\"Paris\"], \"prediction\": \"no\"}\n";
    if (write(fd, lines, strlen(lines)) < 0) perror("write");
    close(fd);
    mj_results rs;
    char err[256];
    CHECKF(mj_results_read(&rs, path, false, err, sizeof err) == 0, "%s", err);
    mj_eval_table t;
    mj_eval_init(&t);
    CHECK(mj_eval_add(&t, &rs) == 0);
    CHECK(t.n == 2);
    CHECK(!strcmp(t.rows[0].method, "m1") && t.rows[0].n == 2 && t.rows[0].correct == 1 && t.rows[0].duplicates == 1);
    CHECK(t.rows[0].seconds == 2.0 && t.rows[0].accuracy == 0.5);
    CHECK(t.rows[1].n == 1 && t.rows[1].correct == 0);
    FILE *mem = tmpfile();
    mj_eval_print(&t, MJ_EVAL_CSV, mem);
    rewind(mem);
    char buf[512];
    size_t k = fread(buf, 1, sizeof buf - 1, mem);
    buf[k] = 0;
    fclose(mem);
    CHECKF(strstr(buf, "m1,d,1,2,0.5000,") != NULL, "%s", buf);
    CHECK(mj_eval_format_parse("json") == MJ_EVAL_JSON && mj_eval_format_parse("x") == -1);
    mj_eval_free(&t);
    mj_results_free(&rs);
    unlink(path);
}

int main(void) {
    test_rules();
    test_wordnet();
    test_eval();
    return mj_test_finish();
}
