/* test_fusion_flayout.c — every layout checked token by token against
 * hand-worked tables (a one-byte-per-token tokenizer keeps them readable),
 * BOS and separators included; the answer-cue decision; binding to a
 * program's annotations/params and the error for a missing annotation. */
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "flayout.h"
#include "tokenizer.h"
#include "support/testlib.h"

/* Each byte is one token (id = byte value). */
static int byte_encode(void *ctx, const char *text, int32_t **ids, size_t *n) {
    (void)ctx;
    size_t k = strlen(text);
    *ids = malloc((k ? k : 1) * sizeof **ids);
    if (!*ids) return -1;
    for (size_t i = 0; i < k; i++) (*ids)[i] = (unsigned char)text[i];
    *n = k;
    return 0;
}

/* A run of tokens sharing annotations: count, seg, seg_start, part, example. */
typedef struct run { int count, seg, seg_start, part, example; } run;

static void check_runs(const mj_flayout *L, const run *runs, int n_runs, const char *what) {
    int i = 0;
    for (int r = 0; r < n_runs; r++)
        for (int k = 0; k < runs[r].count; k++, i++) {
            if (i >= L->n) { CHECKF(0, "%s: layout has only %d tokens", what, L->n); return; }
            CHECKF(L->ann[MJ_ANN_SEG][i] == runs[r].seg, "%s: token %d seg %d, want %d", what, i, L->ann[MJ_ANN_SEG][i], runs[r].seg);
            CHECKF(L->ann[MJ_ANN_SEG_START][i] == runs[r].seg_start, "%s: token %d seg_start %d, want %d", what, i, L->ann[MJ_ANN_SEG_START][i], runs[r].seg_start);
            CHECKF(L->ann[MJ_ANN_PART][i] == runs[r].part, "%s: token %d part %d, want %d", what, i, L->ann[MJ_ANN_PART][i], runs[r].part);
            CHECKF(L->ann[MJ_ANN_EXAMPLE][i] == runs[r].example, "%s: token %d example %d, want %d", what, i, L->ann[MJ_ANN_EXAMPLE][i], runs[r].example);
        }
    CHECKF(i == L->n, "%s: %d tokens, want %d", what, L->n, i);
}

/* ids after an optional BOS spell text. */
static void check_text(const mj_flayout *L, int32_t bos, const char *text, const char *what) {
    int off = bos >= 0;
    if (off) CHECKF(L->ids[0] == bos, "%s: token 0 is %d, want BOS", what, L->ids[0]);
    int ok = (size_t)(L->n - off) == strlen(text);
    for (int i = 0; ok && i < L->n - off; i++) ok = L->ids[i + off] == (unsigned char)text[i];
    CHECKF(ok, "%s: ids do not spell the expected text", what);
}

static mj_prompt tiny_prompt(void) {
    char err[128];
    mj_prompt p;
    if (mj_prompt_init_prefix(&p, "I\n\nQ: q\nA: a\n\n", err, sizeof err)) abort();
    return p;
}

static void build(mj_flayout *L, mj_flayout_kind kind, mj_cue_mode cue, int32_t bos, const char *sep) {
    mj_prompt p = tiny_prompt();
    const char *paras[2] = {"x", "yz"};
    mj_flayout_opts o = {kind, cue, bos, sep, byte_encode, NULL};
    char err[256];
    int rc = mj_flayout_build(L, &o, &p, paras, 2, err, sizeof err);
    CHECKF(rc == 0, "%s", err);
    mj_prompt_free(&p);
}

static void test_study(void) {
    mj_flayout L;
    build(&L, MJ_FLAYOUT_STUDY, MJ_CUE_FUSED, 1000, "|");
    /* BOS | I\n\n Q: q\n A: a\n\n Q: x\n | (seg 0: 1..20) | same + Q: yz\n (seg 1: 21..40) | A: */
    const run want[] = {{1, -1, 0, 0, -1},
                        {3, 0, 1, 0, -1}, {5, 0, 1, 1, -1}, {6, 0, 1, 2, -1}, {5, 0, 1, 3, -1}, {1, 0, 1, -1, -1},
                        {3, 1, 21, 0, -1}, {5, 1, 21, 1, -1}, {6, 1, 21, 2, -1}, {6, 1, 21, 3, -1},
                        {2, -1, 0, -1, -1}};
    check_runs(&L, want, 11, "study");
    check_text(&L, 1000, "I\n\nQ: q\nA: a\n\nQ: x\n|I\n\nQ: q\nA: a\n\nQ: yz\nA:", "study");
    CHECK(L.prompt_len == 41 && L.prefix_len == 1 && L.max_seg_len == 20 && L.n_seg == 2);
    CHECK(L.common_len == 15);   /* BOS + instruction + shot of segment 0 */
    CHECK(L.offered == 7);
    mj_flayout_free(&L);
    /* default separator, no BOS: the separator's 9 bytes close segment 0 */
    build(&L, MJ_FLAYOUT_STUDY, MJ_CUE_FUSED, -1, NULL);
    const run want2[] = {{3, 0, 0, 0, -1}, {5, 0, 0, 1, -1}, {6, 0, 0, 2, -1}, {5, 0, 0, 3, -1}, {9, 0, 0, -1, -1},
                         {3, 1, 28, 0, -1}, {5, 1, 28, 1, -1}, {6, 1, 28, 2, -1}, {6, 1, 28, 3, -1},
                         {2, -1, 0, -1, -1}};
    check_runs(&L, want2, 10, "study no BOS");
    CHECK(L.prompt_len == 48 && L.prefix_len == 0 && L.max_seg_len == 28);
    mj_flayout_free(&L);
}

static void test_shared_prefix(void) {
    mj_flayout L;
    build(&L, MJ_FLAYOUT_SHARED_PREFIX, MJ_CUE_FUSED, 1000, NULL);
    const run want[] = {{1, -1, 0, 0, -1}, {3, -1, 0, 0, -1}, {5, -1, 0, 1, -1}, {6, -1, 0, 2, -1},
                        {5, 0, 15, 3, -1}, {6, 1, 20, 3, -1}, {2, -1, 0, -1, -1}};
    check_runs(&L, want, 7, "shared-prefix");
    check_text(&L, 1000, "I\n\nQ: q\nA: a\n\nQ: x\nQ: yz\nA:", "shared-prefix");
    CHECK(L.prompt_len == 26 && L.prefix_len == 15 && L.max_seg_len == 6 && L.n_seg == 2 && L.n == 28);
    CHECK(L.common_len == 15);
    CHECK(L.offered == 7);
    mj_flayout_free(&L);
    /* ablation: the cue belongs to the last segment, nothing is fused before generation */
    build(&L, MJ_FLAYOUT_SHARED_PREFIX, MJ_CUE_LAST_SEGMENT, 1000, NULL);
    const run want2[] = {{1, -1, 0, 0, -1}, {3, -1, 0, 0, -1}, {5, -1, 0, 1, -1}, {6, -1, 0, 2, -1},
                         {5, 0, 15, 3, -1}, {6, 1, 20, 3, -1}, {2, 1, 20, 3, -1}};
    check_runs(&L, want2, 7, "shared-prefix, cue in last segment");
    CHECK(L.prompt_len == 28 && L.max_seg_len == 8);
    mj_flayout_free(&L);
}

static void test_fewshot_isolated(void) {
    mj_flayout L;
    build(&L, MJ_FLAYOUT_FEWSHOT_ISOLATED, MJ_CUE_FUSED, -1, NULL);
    const run want[] = {{3, -1, 0, 0, -1}, {5, -1, 0, 1, 0}, {6, -1, 0, 2, 0},
                        {5, 0, 14, 3, -1}, {6, 1, 19, 3, -1}, {2, -1, 0, -1, -1}};
    check_runs(&L, want, 6, "fewshot-isolated");
    CHECK(L.prompt_len == 25 && L.prefix_len == 14 && L.offered == 15);
    mj_flayout_free(&L);
    /* two shots: example indices 0 and 1 */
    char err[128];
    mj_prompt p;
    CHECK(mj_prompt_init_prefix(&p, "I\n\nQ: q\nA: a\n\nQ: r\nA: b\n\n", err, sizeof err) == 0);
    const char *paras[1] = {"x"};
    mj_flayout_opts o = {MJ_FLAYOUT_FEWSHOT_ISOLATED, MJ_CUE_FUSED, 7, NULL, byte_encode, NULL};
    CHECK(mj_flayout_build(&L, &o, &p, paras, 1, err, sizeof err) == 0);
    const run want2[] = {{1, -1, 0, 0, -1}, {3, -1, 0, 0, -1}, {5, -1, 0, 1, 0}, {6, -1, 0, 2, 0},
                         {5, -1, 0, 1, 1}, {6, -1, 0, 2, 1}, {5, 0, 26, 3, -1}, {2, -1, 0, -1, -1}};
    check_runs(&L, want2, 8, "fewshot-isolated, 2 shots");
    mj_flayout_free(&L);
    CHECK(mj_flayout_build(&L, &o, &p, paras, 0, err, sizeof err) == -1);
    mj_prompt_free(&p);
}

static void test_bind(void) {
    mj_flayout L;
    build(&L, MJ_FLAYOUT_SHARED_PREFIX, MJ_CUE_FUSED, 1000, NULL);
    mj_tokens toks[2] = {{.name = "part", .type = MJ_T_FLOAT}, {.name = "seg", .type = MJ_T_INT}};
    mj_param params[3] = {{.name = "w", .type = MJ_T_FLOAT, .is_array = true, .count = 4, .offset = 0},
                          {.name = "prefix_len", .type = MJ_T_INT, .count = 1, .offset = 4},
                          {.name = "n_seg", .type = MJ_T_FLOAT, .count = 1, .offset = 5}};
    mj_program p = {.path = "m.mask", .params = params, .n_params = 3, .n_param_slots = 6,
                    .tokens = toks, .n_tokens = 2};
    mj_value *annot = calloc((size_t)(2 * L.n), sizeof *annot);
    mj_value pv[6];
    for (int i = 0; i < 6; i++) pv[i].f = 0.5f;
    char err[512];
    CHECKF(mj_flayout_bind(&L, &p, "shared-prefix", annot, pv, err, sizeof err) == 0, "%s", err);
    CHECK(annot[0].f == 0.0f && annot[5].f == 1.0f && annot[27].f == -1.0f);   /* part */
    CHECK(annot[L.n + 0].i == -1 && annot[L.n + 15].i == 0 && annot[L.n + 20].i == 1 && annot[L.n + 26].i == -1);
    CHECK(pv[0].f == 0.5f && pv[3].f == 0.5f);          /* w untouched */
    CHECK(pv[4].i == 15 && pv[5].f == 2.0f);
    toks[0].name = "example";
    CHECK(mj_flayout_bind(&L, &p, "shared-prefix", annot, pv, err, sizeof err) == -1);
    CHECKF(!strcmp(err, "mask m.mask needs tokens annotation 'example', which layout 'shared-prefix' does not "
                        "provide (it provides: seg, seg_start, part)"), "%s", err);
    toks[0].name = "seg_start";
    params[1].is_array = true;
    CHECK(mj_flayout_bind(&L, &p, "shared-prefix", annot, pv, err, sizeof err) == -1);
    CHECK(strstr(err, "must be a scalar") != NULL);
    free(annot);
    mj_flayout_free(&L);
    CHECK(mj_flayout_kind_parse("fewshot-isolated") == MJ_FLAYOUT_FEWSHOT_ISOLATED && mj_flayout_kind_parse("x") == -1);
}

static int tok_encode(void *ctx, const char *text, int32_t **ids, size_t *n) {
    return mj_tokenizer_encode(ctx, text, strlen(text), false, ids, n);
}

/* With a real BPE tokenizer, the ids of the separately tokenized pieces equal
 * the ids of the whole prompt text (pieces are cut at pre-token boundaries),
 * for every MyriadLAMA paraphrase of 100 questions and both prompt styles. */
static void test_real_tokenizer(void) {
    const char *tp = mj_test_shared_data("tokenizers/llama3/tokenizer.json");
    const char *qp = mj_test_shared_data("myriadlama/questions.jsonl");
    if (!tp || !qp) { printf("SKIP real-tokenizer part: ../shared/data absent\n"); return; }
    char err[512];
    mj_tokenizer *t = mj_tokenizer_load(tp, err, sizeof err);
    mj_dataset d;
    if (!t || mj_dataset_load(&d, qp, MJ_DATA_AUTO, false, err, sizeof err)) {
        CHECKF(0, "%s", err);
        mj_tokenizer_free(t);
        return;
    }
    int bad = 0, total = 0;
    for (int style = 0; style < 2; style++) {
        mj_prompt pr;
        mj_prompt_init_builtin(&pr, (mj_prompt_style)style, err, sizeof err);
        for (int64_t qi = 0; qi < 100 && qi < d.n; qi++)
            for (int i = 0; i < d.q[qi].n_paraphrases; i++) {
                const char *para = d.q[qi].paraphrases[i];
                mj_flayout L;
                mj_flayout_opts o = {MJ_FLAYOUT_STUDY, MJ_CUE_FUSED, mj_tokenizer_bos(t), NULL, tok_encode, t};
                char *full = mj_prompt_full(&pr, para);
                int32_t *ids = NULL;
                size_t n = 0;
                if (mj_flayout_build(&L, &o, &pr, &para, 1, err, sizeof err) ||
                    mj_tokenizer_encode(t, full, strlen(full), true, &ids, &n)) { bad++; continue; }
                total++;
                if ((size_t)L.n != n || memcmp(L.ids, ids, n * sizeof *ids)) {
                    if (bad++ < 3) fprintf(stderr, "  pieces differ from the whole text for: %s\n", para);
                }
                free(ids);
                free(full);
                mj_flayout_free(&L);
            }
        mj_prompt_free(&pr);
    }
    CHECKF(bad == 0 && total > 2000, "%d of %d prompts tokenize differently in pieces", bad, total);
    mj_dataset_free(&d);
    mj_tokenizer_free(t);
}

int main(void) {
    test_study();
    test_shared_prefix();
    test_fewshot_isolated();
    test_bind();
    test_real_tokenizer();
    return mj_test_finish();
}
