/* test_fusion_prompt.c — Python-compatible sampling (values printed by CPython
 * 3.11), the study's prompts as text, the MyriadLAMA prefix against the shared
 * file, and the WebQA few-shot draw against the shared train split. */
#include <stdlib.h>
#include <string.h>

#include "fu_util.h"
#include "prompt.h"
#include "pyrandom.h"
#include "support/testlib.h"

static void test_pyrandom(void) {
    mj_pyrand r;
    mj_pyrand_seed(&r, 42);
    CHECK(mj_pyrand_u32(&r) == 2746317213U);
    CHECK(mj_pyrand_u32(&r) == 478163327U);
    CHECK(mj_pyrand_u32(&r) == 107420369U);
    uint32_t s[12];
    mj_pyrand_seed(&r, 42);
    CHECK(mj_pyrand_sample(&r, 3778, 5, s) == 0);
    CHECK(s[0] == 2619 && s[1] == 456 && s[2] == 102 && s[3] == 3037 && s[4] == 1126);
    mj_pyrand_seed(&r, 7);   /* pool algorithm (n <= setsize) */
    CHECK(mj_pyrand_sample(&r, 10, 4, s) == 0);
    CHECK(s[0] == 5 && s[1] == 2 && s[2] == 6 && s[3] == 9);
    mj_pyrand_seed(&r, 0);   /* k > 5 */
    CHECK(mj_pyrand_sample(&r, 100000, 12, s) == 0);
    CHECK(s[0] == 50494 && s[5] == 67013 && s[11] == 76465);
    mj_pyrand_seed(&r, (1ULL << 40) + 5);   /* two-word key */
    CHECK(mj_pyrand_bits(&r, 32) == 2166296868U);
    CHECK(mj_pyrand_sample(&r, 3, 4, s) == -1);
}

static void test_text(void) {
    mj_prompt p;
    char err[256];
    CHECK(mj_prompt_init_builtin(&p, MJ_PROMPT_MYRIADLAMA, err, sizeof err) == 0);
    CHECK(p.n_shots == 5);
    CHECK(!strcmp(p.instruction, "Based on the context, predict the [MASK] in the sentence in one word."));
    CHECK(!strcmp(p.shot_q[2], "Officially, the people living in Basel use the language [MASK] for communication."));
    CHECK(!strcmp(p.shot_a[4], "Wisconsin"));
    char *pre = mj_prompt_prefix(&p);
    CHECK(!strcmp(pre, mj_prompt_myriadlama_prefix));
    char *full = mj_prompt_full(&p, "X is a [MASK].");
    char want[2048];
    snprintf(want, sizeof want, "%sQ: X is a [MASK].\nA:", mj_prompt_myriadlama_prefix);
    CHECK(!strcmp(full, want));
    /* pieces concatenate to the full prompt */
    mj_buf b;
    mj_buf_init(&b);
    char *t = mj_prompt_head(&p);
    mj_buf_puts(&b, t);
    free(t);
    for (int j = 0; j < p.n_shots; j++) {
        t = mj_prompt_shot_q(&p, j); mj_buf_puts(&b, t); free(t);
        t = mj_prompt_shot_a(&p, j); mj_buf_puts(&b, t); free(t);
    }
    t = mj_prompt_question("X is a [MASK].");
    mj_buf_puts(&b, t);
    free(t);
    mj_buf_puts(&b, mj_prompt_cue);
    CHECK(!strcmp(b.p, full));
    mj_buf_free(&b);
    free(pre);
    free(full);
    mj_prompt_free(&p);

    CHECK(mj_prompt_init_builtin(&p, MJ_PROMPT_WEBQA, err, sizeof err) == 0);
    full = mj_prompt_full(&p, "who is x?");
    CHECK(strstr(full, "Answer the question based on general world knowledge. Provide a short and direct answer.\n\n"
                       "Q: who is lamar odom married too?\nA: Khlo\xc3\xa9 Kardashian\n\nQ: what do they speak") == full);
    CHECK(strstr(full, "\nA: Nancy Pelosi\n\nQ: who is x?\nA:") != NULL);
    CHECK(full[strlen(full) - 1] == ':');
    free(full);
    mj_prompt_free(&p);

    CHECK(mj_prompt_init_prefix(&p, "Instr.\n\nQ: a\nA: b\n\n", err, sizeof err) == 0);
    CHECK(p.n_shots == 1 && !strcmp(p.shot_q[0], "a") && !strcmp(p.shot_a[0], "b"));
    mj_prompt_free(&p);
    CHECK(mj_prompt_init_prefix(&p, "Instr.\n\nQ: a\nA: b", err, sizeof err) == -1);
    CHECK(mj_prompt_init_prefix(&p, "Instr.\n\nfoo\n\n", err, sizeof err) == -1);
    CHECK(strstr(err, "block 1") != NULL);
    CHECK(mj_prompt_style_parse("myriadlama") == MJ_PROMPT_MYRIADLAMA && mj_prompt_style_parse("x") == -1);
}

static void test_shared(void) {
    const char *pf = mj_test_shared_data("myriadlama/few_shot_prefix.txt");
    const char *tm = mj_test_shared_data("webquestions/trainmodel.json");
    const char *va = mj_test_shared_data("webquestions/val.json");
    const char *dt = mj_test_shared_data("webquestions/devtest.json");
    if (!pf || !tm || !va || !dt) { printf("SKIP shared-data part: ../shared/data absent\n"); return; }
    char err[256];
    size_t len;
    char *text = mj_file_read(pf, &len, err, sizeof err);
    CHECK(text && !strcmp(text, mj_prompt_myriadlama_prefix));
    free(text);
    mj_prompt drawn, builtin;
    const char *paths[3] = {tm, va, dt};
    CHECKF(mj_prompt_init_webq_train(&drawn, paths, 3, 42, 5, err, sizeof err) == 0, "%s", err);
    CHECK(mj_prompt_init_builtin(&builtin, MJ_PROMPT_WEBQA, err, sizeof err) == 0);
    char *a = mj_prompt_prefix(&drawn), *b = mj_prompt_prefix(&builtin);
    CHECKF(!strcmp(a, b), "drawn:\n%s\nbuilt in:\n%s", a, b);
    free(a);
    free(b);
    mj_prompt_free(&drawn);
    mj_prompt_free(&builtin);
}

int main(void) {
    test_pyrandom();
    test_text();
    test_shared();
    return mj_test_finish();
}
