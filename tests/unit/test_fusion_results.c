/* test_fusion_results.c — the append-only JSONL writer: round trip of a
 * record (escapes included), refusal to overwrite, resume with a torn last
 * line dropped, one method per file, and the Feather export's row count. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "results.h"
#include "support/testlib.h"

static mj_record make(const char *id, const char *method) {
    static char *paras[2] = {"What is \"x\"?", "x\nis what?"};
    static char *ans[1] = {"y\\z"};
    mj_record r = {.id = (char *)id, .dataset = "d", .method = (char *)method, .layout = "study",
                   .paraphrases = paras, .n_paraphrases = 2, .answers = ans, .n_answers = 1,
                   .prediction = "y\\z", .generation = " y\\z\nmore\ttext", .stop = "newline",
                   .new_tokens = 4, .prompt_tokens = 77, .seconds = 0.25};
    return r;
}

int main(void) {
    char dir[] = "/tmp/mj_test_results_XXXXXX";
    if (!mkdtemp(dir)) return 1;
    char path[512], err[512];
    snprintf(path, sizeof path, "%s/out.jsonl", dir);
    mj_out o;
    mj_results done;
    CHECKF(mj_out_open(&o, path, false, "m", &done, err, sizeof err) == 0, "%s", err);
    mj_record a = make("q1", "m"), b = make("q2", "m");
    CHECK(mj_out_add(&o, &a, "\"weights\": [0.5, 0.5]") == 0 && mj_out_add(&o, &b, NULL) == 0);
    CHECK(mj_out_flush(&o, err, sizeof err) == 0);
    mj_out_close(&o);
    /* refuses to overwrite without --resume */
    CHECK(mj_out_open(&o, path, false, "m", &done, err, sizeof err) == -1);
    CHECK(strstr(err, "--resume") != NULL);
    /* a torn line (killed inside write()) */
    int fd = open(path, O_WRONLY | O_APPEND);
    const char *torn = "{\"id\": \"q3\", \"dataset\": \"d\", \"meth";
    CHECK(write(fd, torn, strlen(torn)) == (ssize_t)strlen(torn));
    close(fd);
    mj_results rs;
    CHECK(mj_results_read(&rs, path, false, err, sizeof err) == 0);
    CHECK(rs.n == 2 && rs.n_torn == 1);
    CHECK(!strcmp(rs.r[0].paraphrases[1], "x\nis what?") && !strcmp(rs.r[0].generation, " y\\z\nmore\ttext"));
    CHECK(rs.r[0].prompt_tokens == 77 && rs.r[0].new_tokens == 4 && rs.r[0].seconds == 0.25);
    mj_results_free(&rs);
    /* another method in the same file is refused */
    CHECK(mj_out_open(&o, path, true, "other", &done, err, sizeof err) == -1);
    CHECK(strstr(err, "one output file per method") != NULL);
    /* resume: the torn line goes, finished ids come back */
    CHECKF(mj_out_open(&o, path, true, "m", &done, err, sizeof err) == 0, "%s", err);
    CHECK(done.n == 2 && !strcmp(done.r[1].id, "q2"));
    mj_results_free(&done);
    mj_record c = make("q3", "m");
    CHECK(mj_out_add(&o, &c, NULL) == 0 && mj_out_flush(&o, err, sizeof err) == 0);
    mj_out_close(&o);
    CHECK(mj_results_read(&rs, path, false, err, sizeof err) == 0);
    CHECK(rs.n == 3 && rs.n_torn == 0 && !strcmp(rs.r[2].id, "q3"));
    char fpath[600];
    snprintf(fpath, sizeof fpath, "%s/out.feather", dir);
    CHECK(mj_results_write_feather(&rs, fpath, err, sizeof err) == 0);
    mj_results_free(&rs);
    if (system("python3 -c 'import pyarrow' >/dev/null 2>&1") == 0) {
        char cmd[1200];
        snprintf(cmd, sizeof cmd, "python3 -c \"import pyarrow.feather as f; t = f.read_table('%s'); "
                 "assert t.num_rows == 3 and t.column_names == ['uuid', 'paraphrases', 'answers', "
                 "'prediction', 'generation', 'method'], t; assert t.column('uuid').to_pylist() == ['q1', 'q2', 'q3']\"", fpath);
        CHECK(system(cmd) == 0);
    } else printf("SKIP pyarrow check: python3 cannot import pyarrow\n");
    /* a bad line in the middle is an error with its line number */
    fd = open(path, O_WRONLY | O_TRUNC);
    const char *bad = "{\"id\": \"q1\", \"method\": \"m\", \"prediction\": \"p\", \"paraphrases\": [], \"answers\": []}\nnot json\n{}\n";
    CHECK(write(fd, bad, strlen(bad)) == (ssize_t)strlen(bad));
    close(fd);
    CHECK(mj_results_read(&rs, path, false, err, sizeof err) == -1);
    CHECKF(strstr(err, ":2: ") != NULL, "%s", err);
    CHECK(mj_results_read(&rs, "/nonexistent/x.jsonl", true, err, sizeof err) == 0 && rs.n == 0);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd)) {}
    return mj_test_finish();
}
