/* cmd_check.c — `maskjit check FILE...`: compiles each .mask file and prints
 * every diagnostic (errors, warnings, notes) with source line and caret.
 * Exit status 0 when no file has an error, 1 otherwise, 2 on usage errors. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "compile.h"

static void check_usage(FILE *out) {
    fputs("usage: maskjit check [options] FILE...\n"
          "\n"
          "Parse and check .mask files; print every error and warning as\n"
          "FILE:LINE:COL: error: MESSAGE with the source line and a caret.\n"
          "Exit status: 0 if no file has an error, 1 otherwise.\n"
          "\n"
          "options:\n"
          "  -W no-unused, -Wno-unused   do not warn about unused declarations\n"
          "  -W error, -Werror           treat warnings as errors (exit 1)\n"
          "  --max-errors N              stop a file after N errors (default 50)\n"
          "  -q, --quiet                 print nothing; only the exit status\n"
          "  -h, --help                  show this help\n", out);
}

/* Applies one -W option; returns 0 or -1 when unknown. */
static int check_wflag(const char *w, int *unused, int *werror) {
    if (!strcmp(w, "no-unused")) *unused = 0;
    else if (!strcmp(w, "unused")) *unused = 1;
    else if (!strcmp(w, "error")) *werror = 1;
    else return -1;
    return 0;
}

int cmd_check(int argc, char **argv) {
    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'},
        {"quiet", no_argument, NULL, 'q'},
        {"max-errors", required_argument, NULL, 'm'},
        {NULL, 0, NULL, 0},
    };
    int unused = 1, werror = 0, quiet = 0, max_errors = 50, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "hqW:", longopts, NULL)) != -1) {
        switch (c) {
        case 'h': check_usage(stdout); return 0;
        case 'q': quiet = 1; break;
        case 'W':
            if (check_wflag(optarg, &unused, &werror)) {
                fprintf(stderr, "maskjit check: unknown warning option '-W%s'\n", optarg);
                return 2;
            }
            break;
        case 'm': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || v < 1 || v > 100000) {
                fprintf(stderr, "maskjit check: bad --max-errors '%s'\n", optarg);
                return 2;
            }
            max_errors = (int)v;
            break;
        }
        default: check_usage(stderr); return 2;
        }
    }
    if (optind >= argc) {
        fputs("maskjit check: no input files\n", stderr);
        check_usage(stderr);
        return 2;
    }
    mj_compile_opts opts = {.max_errors = max_errors, .warn_unused = unused};
    int status = 0;
    for (int i = optind; i < argc; i++) {
        mj_diags diags;
        mj_diags_init(&diags);
        mj_program *p = mj_compile_file(argv[i], &opts, &diags);
        if (!quiet) mj_diags_print(&diags, stderr);
        if (!p || diags.n_errors > 0 || (werror && diags.n_warnings > 0)) status = 1;
        mj_program_free(p);
        mj_diags_free(&diags);
    }
    return status;
}
