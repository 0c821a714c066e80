/* test_fusion_masks.c — the project's fusion masks (examples/) on the fusion
 * layouts, evaluated element by element with the reference interpreter:
 * no prompt row is left without keys (separators included), paraphrase
 * segments never read each other, the answer cue (a fusion position) and
 * the answer read every earlier token, the BOS sink is visible where the mask
 * says so, positions restart as the shared-prefix program says, and a mask
 * needing an annotation the layout lacks is refused. */
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "flayout.h"
#include "interp.h"
#include "support/testlib.h"

#define GEN 3   /* generated tokens appended after the prompt */

static int byte_encode(void *ctx, const char *text, int32_t **ids, size_t *n) {
    (void)ctx;
    size_t k = strlen(text);
    *ids = malloc((k ? k : 1) * sizeof **ids);
    for (size_t i = 0; i < k; i++) (*ids)[i] = (unsigned char)text[i];
    *n = k;
    return 0;
}

typedef struct ctx {
    mj_program *p;
    mj_flayout L;
    mj_value *annot, *params;
    mj_env env;
} ctx;

static int setup(ctx *c, const char *mask, mj_flayout_kind kind, int32_t bos, char *err, size_t errn) {
    memset(c, 0, sizeof *c);
    mj_diags d;
    mj_diags_init(&d);
    c->p = mj_compile_file(mj_test_path(mask), NULL, &d);
    mj_diags_free(&d);
    if (!c->p) { snprintf(err, errn, "%s does not compile", mask); return -1; }
    mj_prompt pr;
    mj_prompt_init_prefix(&pr, "Say.\n\nQ: q1\nA: a1\n\nQ: q2\nA: a2\n\n", err, errn);
    const char *paras[3] = {"x?", "yy z?", "w"};
    mj_flayout_opts o = {kind, MJ_CUE_FUSED, bos, "|", byte_encode, NULL};
    int rc = mj_flayout_build(&c->L, &o, &pr, paras, 3, err, errn);
    mj_prompt_free(&pr);
    if (rc) return -1;
    c->annot = calloc((size_t)(c->p->n_tokens + 1) * (size_t)c->L.n, sizeof *c->annot);
    c->params = calloc((size_t)c->p->n_param_slots + 1, sizeof *c->params);
    mj_program_default_params(c->p, c->params);
    if (mj_flayout_bind(&c->L, c->p, mj_flayout_kind_name(kind), c->annot, c->params, err, errn)) return -1;
    c->env = (mj_env){1, c->L.prompt_len, c->L.n + GEN, 0, c->L.n, c->L.n, c->params, c->annot, NULL};
    return 0;
}

static void teardown(ctx *c) {
    mj_flayout_free(&c->L);
    free(c->annot);
    free(c->params);
    mj_program_free(c->p);
}

static bool vis(const ctx *c, int q, int kv) { return mj_interp_mask(c->p, &c->env, q, kv, 0); }

/* Properties every fusion mask must have on every layout. */
static void check_common(const ctx *c, const char *what, bool sink) {
    const mj_flayout *L = &c->L;
    const int32_t *seg = L->ann[MJ_ANN_SEG];
    int n = L->n, empty = 0, leak = 0, cue_blind = 0, no_sink = 0;
    for (int q = 0; q < n + GEN; q++) {
        int seen = 0;
        for (int kv = 0; kv <= q; kv++) {
            bool v = vis(c, q, kv);
            seen += v;
            if (q < n && kv < n && v && seg[q] >= 0 && seg[kv] >= 0 && seg[q] != seg[kv]) leak++;
            if (q >= L->prompt_len && !v) cue_blind++;
        }
        for (int kv = q + 1; kv < n + GEN; kv++) leak += vis(c, q, kv);   /* never the future */
        if (!seen) empty++;
        if (q < L->prompt_len && seg[q] >= 0 && sink && !vis(c, q, 0)) no_sink++;
    }
    CHECKF(empty == 0, "%s: %d rows without keys", what, empty);
    CHECKF(leak == 0, "%s: %d visible pairs across segments or into the future", what, leak);
    CHECKF(cue_blind == 0, "%s: the cue / answer misses %d earlier keys", what, cue_blind);
    CHECKF(no_sink == 0, "%s: %d segment rows cannot see the BOS sink", what, no_sink);
}

static void test_all(void) {
    enum { N_MASKS = 6 };
    const char *masks[N_MASKS] = {"examples/fusion_seed.mask", "examples/app_fusion_sink.mask",
                                  "examples/fusion_shared_prefix.mask", "examples/app_fusion_shared_prefix.mask",
                                  "examples/app_fusion_lognorm.mask", "examples/app_fusion_aligned.mask"};
    const bool sinks[N_MASKS] = {false, true, true, true, true, true};
    for (int m = 0; m < N_MASKS; m++)
        for (int k = 0; k < 3; k++)
            for (int b = 0; b < 2; b++) {
                ctx c;
                char err[512], what[256];
                snprintf(what, sizeof what, "%s on %s%s", masks[m], mj_flayout_kind_name((mj_flayout_kind)k), b ? " with BOS" : "");
                if (setup(&c, masks[m], (mj_flayout_kind)k, b ? 1 : -1, err, sizeof err)) {
                    CHECKF(0, "%s: %s", what, err);
                    teardown(&c);
                    continue;
                }
                check_common(&c, what, sinks[m] && b);
                teardown(&c);
            }
}

/* fusion_seed on the study layout with BOS: BOS is read by no segment (the
 * study's intent) — which is why app_fusion_sink.mask exists. */
static void test_seed_has_no_sink(void) {
    ctx c;
    char err[512];
    if (setup(&c, "examples/fusion_seed.mask", MJ_FLAYOUT_STUDY, 1, err, sizeof err)) { CHECKF(0, "%s", err); teardown(&c); return; }
    CHECK(!vis(&c, 5, 0) && vis(&c, 0, 0) && vis(&c, c.L.prompt_len, 0));
    teardown(&c);
}

static void test_positions(void) {
    ctx c;
    char err[512];
    if (setup(&c, "examples/app_fusion_shared_prefix.mask", MJ_FLAYOUT_SHARED_PREFIX, 1, err, sizeof err)) {
        CHECKF(0, "%s", err);
        teardown(&c);
        return;
    }
    const mj_flayout *L = &c.L;
    int pl = L->prefix_len, bad = 0;
    for (int q = 0; q < L->n + GEN; q++) {
        int32_t want = q < pl ? q
                     : q < L->prompt_len ? pl + (q - L->ann[MJ_ANN_SEG_START][q])
                     : pl + L->max_seg_len + (q - L->prompt_len);
        bad += mj_interp_position(c.p, &c.env, q) != want;
    }
    CHECKF(bad == 0, "%d positions differ", bad);
    /* each paraphrase starts right after the prefix, the cue after the longest */
    CHECK(mj_interp_position(c.p, &c.env, pl) == pl);
    CHECK(mj_interp_position(c.p, &c.env, L->prompt_len) == pl + L->max_seg_len);
    teardown(&c);
}

static void test_fewshot(void) {
    const char *masks[2] = {"examples/fusion_fewshot_isolated.mask", "examples/app_fewshot_isolated.mask"};
    for (int m = 0; m < 2; m++) {
        ctx c;
        char err[512];
        if (setup(&c, masks[m], MJ_FLAYOUT_FEWSHOT_ISOLATED, 1, err, sizeof err)) { CHECKF(0, "%s", err); teardown(&c); continue; }
        check_common(&c, masks[m], false);
        const mj_flayout *L = &c.L;
        const int32_t *part = L->ann[MJ_ANN_PART], *ex = L->ann[MJ_ANN_EXAMPLE];
        int para_blind = 0, instr_blind = 0, ex_leak = 0;
        for (int q = 0; q < L->prompt_len; q++)
            for (int kv = 0; kv <= q; kv++) {
                bool v = vis(&c, q, kv);
                if (part[q] == MJ_PART_MAIN && (part[kv] == 1 || part[kv] == 2) && !v) para_blind++;
                if (part[kv] == MJ_PART_SHARED && !v) instr_blind++;
                if (m == 0 && ex[q] >= 0 && ex[kv] >= 0 && ex[q] != ex[kv] && v) ex_leak++;
            }
        CHECKF(para_blind == 0, "%s: paraphrases miss %d few-shot keys", masks[m], para_blind);
        CHECKF(instr_blind == 0, "%s: %d rows miss the instruction", masks[m], instr_blind);
        CHECKF(ex_leak == 0, "%s: few-shot examples read each other (%d pairs)", masks[m], ex_leak);
        teardown(&c);
    }
    /* the fewshot mask needs `example`, which shared-prefix does not offer */
    ctx c;
    char err[512];
    CHECK(setup(&c, "examples/fusion_fewshot_isolated.mask", MJ_FLAYOUT_SHARED_PREFIX, 1, err, sizeof err) == -1);
    CHECKF(strstr(err, "needs tokens annotation 'example'") && strstr(err, "it provides: seg, seg_start, part"), "%s", err);
    teardown(&c);
}

int main(void) {
    test_all();
    test_seed_has_no_sink();
    test_positions();
    test_fewshot();
    return mj_test_finish();
}
