/* test_fusion_dataset.c — every dataset reader: good records, auto-detection,
 * bad records reported as FILE:LINE or skipped and counted, and the shared
 * MyriadLAMA / WebQuestions files when ../shared/data is present. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dataset.h"
#include "support/testlib.h"

static char tmpdir[] = "/tmp/mj_test_dataset_XXXXXX";

static const char *write_file(const char *name, const char *text) {
    static char path[4][512];
    static int k;
    char *p = path[k++ & 3];
    snprintf(p, sizeof path[0], "%s/%s", tmpdir, name);
    FILE *f = fopen(p, "wb");
    fputs(text, f);
    fclose(f);
    return p;
}

/* Load text expecting an error that contains want (FILE:LINE: part included). */
static void expect_error(const char *text, mj_data_format fmt, int line, const char *want) {
    const char *p = write_file("bad.jsonl", text);
    mj_dataset d;
    char err[512] = "";
    int rc = mj_dataset_load(&d, p, fmt, false, err, sizeof err);
    char loc[600];
    snprintf(loc, sizeof loc, "%s:%d: ", p, line);
    CHECKF(rc == -1, "expected an error for %s", text);
    CHECKF(strstr(err, loc) == err, "'%s' should start with '%s'", err, loc);
    CHECKF(strstr(err, want) != NULL, "'%s' should mention '%s'", err, want);
}

static void test_generic(void) {
    const char *p = write_file("g.jsonl",
        "{\"id\": \"a\", \"paraphrases\": [\"Who wrote Hamlet?\", \"Hamlet's author?\"], \"answers\": [\"Shakespeare\"], \"x\": 1}\n"
        "\n"
        "{\"id\": 7, \"paraphrases\": [\"p\"], \"answers\": [\"a1\", \"a2\"], \"paraphrase_kinds\": [\"manual\"]}\n");
    mj_dataset d;
    char err[512];
    CHECK(mj_dataset_load(&d, p, MJ_DATA_AUTO, false, err, sizeof err) == 0);
    CHECK(d.format == MJ_DATA_GENERIC);
    CHECK(!strcmp(d.name, "g"));
    CHECK(d.n == 2);
    CHECK(!strcmp(d.q[0].id, "a") && d.q[0].n_paraphrases == 2 && d.q[0].kinds == NULL);
    CHECK(!strcmp(d.q[0].paraphrases[1], "Hamlet's author?"));
    CHECK(d.q[0].line == 1 && d.q[1].line == 3);
    CHECK(!strcmp(d.q[1].id, "7") && d.q[1].n_answers == 2 && !strcmp(d.q[1].kinds[0], "manual"));
    CHECK(mj_dataset_find(&d, "7") == 1 && mj_dataset_find(&d, "zz") == -1);
    mj_dataset_free(&d);
}

static void test_myriadlama_and_paraphrases(void) {
    const char *p = write_file("m.jsonl",
        "{\"uuid\": \"u1\", \"paraphrases\": [\"[MASK] is big.\", \"Big is [MASK].\"], "
        "\"paraphrase_kinds\": [\"manual\", \"auto\"], \"answers\": [\"x\"], \"reference\": []}\n");
    mj_dataset d;
    char err[512];
    CHECK(mj_dataset_load(&d, p, MJ_DATA_AUTO, false, err, sizeof err) == 0);
    CHECK(d.format == MJ_DATA_MYRIADLAMA && !strcmp(d.name, "myriadlama"));
    CHECK(d.n == 1 && !strcmp(d.q[0].kinds[1], "auto"));
    mj_dataset_free(&d);
    p = write_file("p.jsonl",
        "{\"id\": \"wqs1\", \"question\": \"what is x?\", \"paraphrases\": [\"what is x?\", \"x is what?\"], "
        "\"paraphrase_kinds\": [\"original\", \"generated\"], \"answers\": [\"y\"]}\n");
    CHECK(mj_dataset_load(&d, p, MJ_DATA_AUTO, false, err, sizeof err) == 0);
    CHECK(d.format == MJ_DATA_PARAPHRASES && !strcmp(d.name, "webqa") && d.q[0].n_paraphrases == 2);
    mj_dataset_free(&d);
    expect_error("{\"uuid\": \"u\", \"paraphrases\": [\"a\"], \"answers\": [\"x\"]}\n", MJ_DATA_MYRIADLAMA, 1,
                 "missing \"paraphrase_kinds\"");
    expect_error("{\"id\": \"u\", \"paraphrases\": [\"a\"], \"answers\": [\"x\"]}\n", MJ_DATA_PARAPHRASES, 1,
                 "missing string \"question\"");
}

static void test_webquestions(void) {
    const char *p = write_file("w.json",
        "[\n {\"qId\": \"wqr1\", \"answers\": [\"A\", \"B\"], \"qText\": \"q one?\"},\n"
        " {\"qId\": \"wqr2\", \"answers\": [\"C\"],\n  \"qText\": \"q two?\"},\n"
        " {\"qId\": \"wqr3\", \"answers\": [\"D\"], \"qText\": \"q three?\"}\n]\n");
    mj_dataset d;
    char err[512];
    CHECK(mj_dataset_load(&d, p, MJ_DATA_AUTO, false, err, sizeof err) == 0);
    CHECK(d.format == MJ_DATA_WEBQUESTIONS && !strcmp(d.name, "webqa"));
    CHECK(d.n == 3 && d.q[1].line == 3 && d.q[2].line == 5);
    CHECK(!strcmp(d.q[2].paraphrases[0], "q three?") && d.q[0].n_answers == 2);
    mj_dataset_free(&d);
    /* bad element on line 3 is reported there; skipped with --skip-bad */
    const char *bad = "[\n {\"qId\": \"a\", \"answers\": [\"x\"], \"qText\": \"ok?\"},\n"
                      " {\"qId\": \"b\", \"answers\": [], \"qText\": \"no answers?\"},\n"
                      " {\"qId\": \"c\", \"answers\": [\"z\"], \"qText\": \"\"}\n]";
    expect_error(bad, MJ_DATA_WEBQUESTIONS, 3, "\"answers\" is empty");
    p = write_file("w2.json", bad);
    CHECK(mj_dataset_load(&d, p, MJ_DATA_AUTO, true, err, sizeof err) == 0);
    CHECK(d.n == 1 && d.n_skipped == 2 && d.first_skip && strstr(d.first_skip, ":3: "));
    mj_dataset_free(&d);
    expect_error("[\n {\"qId\": \"a\", \"answers\": [\"x\"], \"qText\": \"ok?\"}\n {\"qId\": \"b\"}]",
                 MJ_DATA_WEBQUESTIONS, 3, "expected ',' or ']'");
    expect_error("[\n {\"qId\": \"a\", \"answers\": [\"x\"], \"qText\": \"ok?\"},\n {\"qId\": ", MJ_DATA_WEBQUESTIONS,
                 3, "invalid JSON");
}

static void test_bad_jsonl(void) {
    expect_error("{\"id\": \"a\", \"paraphrases\": [\"p\"], \"answers\": [\"x\"]}\n{\"id\": \"b\", \"paraphrases\": [\"p\"]\n",
                 MJ_DATA_GENERIC, 2, "invalid JSON");
    expect_error("\n\n{\"id\": \"a\", \"paraphrases\": \"p\", \"answers\": [\"x\"]}\n", MJ_DATA_GENERIC, 3,
                 "\"paraphrases\" is not an array");
    expect_error("{\"id\": \"a\", \"paraphrases\": [\"p\", 3], \"answers\": [\"x\"]}\n", MJ_DATA_GENERIC, 1,
                 "\"paraphrases\"[1] is not a string");
    expect_error("{\"id\": \"a\", \"paraphrases\": [\"p\"], \"answers\": [\"  \"]}\n", MJ_DATA_GENERIC, 1,
                 "\"answers\"[0] is empty");
    expect_error("{\"paraphrases\": [\"p\"], \"answers\": [\"x\"]}\n", MJ_DATA_GENERIC, 1, "missing \"id\"");
    expect_error("[1, 2]\n", MJ_DATA_GENERIC, 1, "not a JSON object");
    expect_error("{\"id\": \"a\", \"paraphrases\": [\"p\"], \"answers\": [\"x\"]}\n{\"id\": \"a\", \"paraphrases\": [\"q\"], \"answers\": [\"y\"]}\n",
                 MJ_DATA_GENERIC, 2, "duplicate id \"a\"");
    expect_error("{\"id\": \"a\", \"paraphrases\": [\"p\"], \"answers\": [\"x\"]} {}\n", MJ_DATA_GENERIC, 1,
                 "text after the record");
    expect_error("{\"id\": \"a\", \"paraphrases\": [\"p\", \"q\"], \"paraphrase_kinds\": [\"manual\"], \"answers\": [\"x\"]}\n",
                 MJ_DATA_GENERIC, 1, "has 1 entries for 2 paraphrases");
    /* skip-bad keeps the good ones and counts the rest */
    const char *p = write_file("s.jsonl",
        "{\"id\": \"a\", \"paraphrases\": [\"p\"], \"answers\": [\"x\"]}\nnot json\n"
        "{\"id\": \"b\", \"paraphrases\": [], \"answers\": [\"x\"]}\n{\"id\": \"c\", \"paraphrases\": [\"p\"], \"answers\": [\"x\"]}\n");
    mj_dataset d;
    char err[512];
    CHECK(mj_dataset_load(&d, p, MJ_DATA_GENERIC, true, err, sizeof err) == 0);
    CHECK(d.n == 2 && d.n_skipped == 2 && !strcmp(d.q[1].id, "c") && d.q[1].line == 4);
    mj_dataset_free(&d);
    /* missing file, all-bad file */
    CHECK(mj_dataset_load(&d, "/nonexistent/x.jsonl", MJ_DATA_AUTO, false, err, sizeof err) == -1);
    CHECK(strstr(err, "/nonexistent/x.jsonl") != NULL);
    p = write_file("allbad.jsonl", "nope\n");
    CHECK(mj_dataset_load(&d, p, MJ_DATA_GENERIC, true, err, sizeof err) == -1);
    CHECK(strstr(err, "no usable question") != NULL);
}

static void test_shared(void) {
    const char *ml = mj_test_shared_data("myriadlama/questions.jsonl");
    const char *wq = mj_test_shared_data("webquestions/test.json");
    if (!ml || !wq) { printf("SKIP shared-data part: ../shared/data absent\n"); return; }
    mj_dataset d;
    char err[512];
    CHECKF(mj_dataset_load(&d, ml, MJ_DATA_AUTO, false, err, sizeof err) == 0, "%s", err);
    CHECK(d.format == MJ_DATA_MYRIADLAMA && d.n == 2000 && d.n_skipped == 0);
    CHECK(!strcmp(d.q[0].id, "04dc00943c6cc89-03c2db8f35e8577") && !strcmp(d.q[0].answers[0], "violin"));
    CHECK(!strcmp(d.q[0].kinds[0], "manual"));
    mj_dataset_free(&d);
    CHECKF(mj_dataset_load(&d, wq, MJ_DATA_AUTO, false, err, sizeof err) == 0, "%s", err);
    CHECK(d.format == MJ_DATA_WEBQUESTIONS && d.n == 2032);
    CHECK(!strcmp(d.q[0].id, "wqs000000") && !strcmp(d.q[0].paraphrases[0], "what does jamaican people speak?"));
    mj_dataset_free(&d);
}

int main(void) {
    if (!mkdtemp(tmpdir)) { perror("mkdtemp"); return 1; }
    test_generic();
    test_myriadlama_and_paraphrases();
    test_webquestions();
    test_bad_jsonl();
    test_shared();
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd)) {}
    return mj_test_finish();
}
