/* testlib.c — see testlib.h. */
#include "testlib.h"

#include <string.h>
#include <sys/stat.h>

int mj_test_passed, mj_test_failed;

int mj_test_finish(void) {
    printf("%d passed, %d failed\n", mj_test_passed, mj_test_failed);
    return mj_test_failed ? 1 : 0;
}

const char *mj_test_path(const char *rel) {
    static char buf[4][4096];
    static int k;
    const char *root = getenv("MJ_SOURCE_DIR");
    char *b = buf[k++ & 3];
    snprintf(b, sizeof buf[0], "%s/%s", root ? root : ".", rel);
    return b;
}

const char *mj_test_shared_data(const char *rel) {
    static char buf[4][4096];
    static int k;
    char *b = buf[k++ & 3];
    const char *env = getenv("MJ_SHARED_DATA");
    struct stat st;
    if (env) snprintf(b, sizeof buf[0], "%s/%s", env, rel);
    else snprintf(b, sizeof buf[0], "%s/../shared/data/%s", getenv("MJ_SOURCE_DIR") ? getenv("MJ_SOURCE_DIR") : ".", rel);
    return stat(b, &st) == 0 ? b : NULL;
}
