/* test_fusion_feather.c — the hand-written Feather v2 (Arrow IPC file) writer:
 * structure checked in C, content read back with pyarrow and pandas when
 * python3 can import them (else that part is skipped with a message). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "feather.h"
#include "fu_util.h"
#include "support/testlib.h"

static char dir[] = "/tmp/mj_test_feather_XXXXXX";

static const char *const uuids[3] = {"u1", "u\xc3\xa9-2", ""};
static const char *const preds[3] = {"Paris", "", "line \"quoted\"\\ and\ttab"};
static const char *const p0[2] = {"What is the capital of France?", "France's capital?"};
static const char *const p2[3] = {"a", "", "\xe6\x97\xa5\xe6\x9c\xac"};
static const char *const a0[1] = {"Paris"};
static const char *const a1[2] = {"x", "y"};
static const char *const a2[1] = {"z"};

static int write_table(const char *path, int64_t rows) {
    const char *const *paras[3] = {p0, NULL, p2};
    const int32_t plen[3] = {2, 0, 3};
    const char *const *ans[3] = {a0, a1, a2};
    const int32_t alen[3] = {1, 2, 1};
    mj_feather_col cols[4] = {{"uuid", 0, uuids, NULL, NULL}, {"paraphrases", 1, NULL, paras, plen},
                              {"answers", 1, NULL, ans, alen}, {"prediction", 0, preds, NULL, NULL}};
    char err[256];
    int rc = mj_feather_write(path, rows, cols, 4, err, sizeof err);
    if (rc) fprintf(stderr, "%s\n", err);
    return rc;
}

static const char script[] =
    "import sys, pyarrow.feather as f, pyarrow as pa\n"
    "t = f.read_table(sys.argv[1])\n"
    "assert t.schema.names == ['uuid', 'paraphrases', 'answers', 'prediction'], t.schema\n"
    "assert t.schema.field('paraphrases').type == pa.list_(pa.string()), t.schema\n"
    "d = t.to_pydict()\n"
    "assert d['uuid'] == ['u1', 'u\\u00e9-2', ''], d\n"
    "assert d['paraphrases'] == [['What is the capital of France?', \"France's capital?\"], [], ['a', '', '\\u65e5\\u672c']], d\n"
    "assert d['answers'] == [['Paris'], ['x', 'y'], ['z']], d\n"
    "assert d['prediction'] == ['Paris', '', 'line \"quoted\"\\\\ and\\ttab'], d\n"
    "t.validate(full=True)\n"
    "e = f.read_table(sys.argv[2]); assert e.num_rows == 0 and e.num_columns == 4\n"
    "try:\n    import pandas as pd\nexcept ImportError:\n    pd = None\n"
    "if pd is not None:\n    df = pd.read_feather(sys.argv[1]); assert list(df['answers'][1]) == ['x', 'y']\n"
    "print('pyarrow read OK')\n";

int main(void) {
    if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }
    char path[512], empty[512], py[512], cmd[2048];
    snprintf(path, sizeof path, "%s/t.feather", dir);
    snprintf(empty, sizeof empty, "%s/e.feather", dir);
    snprintf(py, sizeof py, "%s/check.py", dir);
    CHECK(write_table(path, 3) == 0);
    CHECK(write_table(empty, 0) == 0);
    size_t len;
    char err[256];
    char *s = mj_file_read(path, &len, err, sizeof err);
    CHECK(s && len > 64 && len % 2 == 0);
    if (s) {
        CHECK(!memcmp(s, "ARROW1\0\0", 8) && !memcmp(s + len - 6, "ARROW1", 6));
        int32_t flen;
        memcpy(&flen, s + len - 10, 4);
        CHECK(flen > 0 && (size_t)flen < len);
        uint32_t cont;
        memcpy(&cont, s + 8, 4);
        CHECK(cont == 0xFFFFFFFFu);
    }
    free(s);
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    CHECK(access(tmp, F_OK) != 0);
    mj_feather_col bad = {"x", 0, uuids, NULL, NULL};
    CHECK(mj_feather_write("/nonexistent-dir/x.feather", 1, &bad, 1, err, sizeof err) == -1);
    FILE *f = fopen(py, "w");
    fputs(script, f);
    fclose(f);
    if (system("python3 -c 'import pyarrow' >/dev/null 2>&1") != 0) {
        printf("SKIP pyarrow part: python3 cannot import pyarrow "
               "(MJ_PY_ORACLES=1 scripts/install-deps.sh installs them)\n");
    } else {
        snprintf(cmd, sizeof cmd, "python3 '%s' '%s' '%s'", py, path, empty);
        CHECK(system(cmd) == 0);
    }
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd)) {}
    return mj_test_finish();
}
