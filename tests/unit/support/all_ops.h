/* all_ops.h — what the hand-built "every node kind" programs of
 * test_compiler_nvrtc.c and test_runtime_cuda_grid.c share: three tokens
 * annotations (int, float, bool), four params (int, float array, int array,
 * bool), one heads array, and the program's header.  The expressions stay in
 * each test and differ on purpose: the GPU test compares grids against the
 * interpreter, so it uses tamer constants than the compile-only test.
 * Include after ir_build.h. */
#ifndef MJ_TEST_ALL_OPS_H
#define MJ_TEST_ALL_OPS_H

#include <string.h>

static mj_tokens all_ops_toks[3] = {{"seg", MJ_T_INT, {.i = -1}, true, {0}},
                                    {"w", MJ_T_FLOAT, {.f = 0.5f}, true, {0}},
                                    {"flag", MJ_T_BOOL, {.i = 0}, true, {0}}};
static mj_param all_ops_params[4] = {{"n", MJ_T_INT, false, 1, 0, {.i = 3}, true, {0}},
                                     {"arr", MJ_T_FLOAT, true, 4, 1, {.f = 1.0f}, true, {0}},
                                     {"ia", MJ_T_INT, true, 2, 5, {.i = -7}, true, {0}},
                                     {"on", MJ_T_BOOL, false, 1, 7, {.i = 1}, true, {0}}};
static mj_heads all_ops_heads[1] = {{"slope", true, {0}}};

/* Resets the IR builder and p, and gives p the tables above (tokens 0..2,
 * params 0..3 in slots 0..7, heads 0) and uses of h. */
static inline void all_ops_header(mj_program *p, const char *path) {
    irb_reset();
    memset(p, 0, sizeof *p);
    p->path = path;
    p->tokens = all_ops_toks;
    p->n_tokens = 3;
    p->params = all_ops_params;
    p->n_params = 4;
    p->n_param_slots = 8;
    p->heads = all_ops_heads;
    p->n_heads = 1;
    p->uses_builtin[MJ_B_H] = true;
}

#endif
