/* testlib.h — a minimal test harness: CHECK macros that record failures and a
 * closing line "N passed, N failed" that CTest output and CI read. */
#ifndef MJ_TESTLIB_H
#define MJ_TESTLIB_H

#include <stdio.h>
#include <stdlib.h>

extern int mj_test_passed, mj_test_failed;

#define CHECK(cond) do { if (cond) mj_test_passed++; else { mj_test_failed++; \
    fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); } } while (0)
#define CHECKF(cond, ...) do { if (cond) mj_test_passed++; else { mj_test_failed++; \
    fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond); \
    fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)
/* Skip the whole test binary with a reason (CTest reports it as passed; the
 * reason is printed). */
#define SKIP_ALL(...) do { printf("SKIP: "); printf(__VA_ARGS__); printf("\n"); return 0; } while (0)

/* Print the closing line and return the exit status. */
int mj_test_finish(void);
/* Path under the source tree ($MJ_SOURCE_DIR or "."), static buffer. */
const char *mj_test_path(const char *rel);
/* ../shared/data/REL if present, else NULL (tests then skip with a message). */
const char *mj_test_shared_data(const char *rel);

#endif
