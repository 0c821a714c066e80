/* test_runtime_smollm2.c — the real model end to end on the CPU:
 * SmolLM2-135M-Instruct (Q4_1 GGUF from scripts/fetch-smollm2.sh, under
 * models/; skipped when absent) answers few-shot capital-city questions,
 * all rows in one batch of different lengths, greedy, stopping at "\n";
 * the same rows started from a prefix cache of the shared few-shot prefix
 * give the same answers and (nearly) the same first-step logits. */
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "engine.h"
#include "interp.h"
#include "support/testlib.h"
#include "tokenizer.h"

static const char *FEWSHOT =
    "Q: What is the capital of Germany?\nA: Berlin\n"
    "Q: What is the capital of Canada?\nA: Ottawa\n";

static const struct { const char *country, *capital; } QA[] = {
    {"France", "Paris"}, {"Japan", "Tokyo"}, {"Italy", "Rome"}, {"Egypt", "Cairo"},
    {"Spain", "Madrid"},
};
#define NQ ((int)(sizeof QA / sizeof QA[0]))

/* The GGUF under models/smollm2-135m-instruct/, or NULL. */
static const char *find_gguf(void) {
    static char path[2048];
    const char *dir = mj_test_path("models/smollm2-135m-instruct");
    DIR *d = opendir(dir);
    if (!d) return NULL;
    struct dirent *e;
    const char *found = NULL;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n > 5 && !strcmp(e->d_name + n - 5, ".gguf")) {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            found = path;
            break;
        }
    }
    closedir(d);
    return found;
}

int main(void) {
    const char *gguf = find_gguf();
    if (!gguf) SKIP_ALL("SmolLM2 GGUF absent (run scripts/fetch-smollm2.sh)");
    char err[512] = "";
    mj_model m;
    if (mj_model_load(&m, gguf, err, sizeof err) != 0) {
        CHECKF(0, "load %s: %s", gguf, err);
        return mj_test_finish();
    }
    mj_tokenizer *tok = mj_tokenizer_load(gguf, err, sizeof err);
    CHECKF(tok != NULL, "tokenizer: %s", err);
    mj_engine *e = mj_engine_init(&m, MJ_DEVICE_CPU, 0, err, sizeof err);
    CHECKF(e != NULL, "engine: %s", err);
    mj_diags d;
    mj_diags_init(&d);
    mj_program *p = mj_compile_string("causal", "mask = kv <= q\n", 15, NULL, &d);
    mj_diags_free(&d);
    if (!tok || !e || !p) return mj_test_finish();
    mj_mask_fns fns = mj_interp_fns(p);

    /* prompts: few-shot prefix (tokenized alone, no BOS: the GGUF says
     * add_bos_token false) + the question */
    int32_t *pre, *rows_tok[NQ];
    size_t n_pre;
    CHECK(mj_tokenizer_encode(tok, FEWSHOT, strlen(FEWSHOT), false, &pre, &n_pre) == 0);
    mj_row_spec specs[NQ];
    for (int i = 0; i < NQ; i++) {
        char q[256];
        snprintf(q, sizeof q, "Q: What is the capital of %s?\nA:", QA[i].country);
        int32_t *ids;
        size_t n;
        CHECK(mj_tokenizer_encode(tok, q, strlen(q), false, &ids, &n) == 0);
        rows_tok[i] = malloc((n_pre + n) * sizeof(int32_t));
        memcpy(rows_tok[i], pre, n_pre * sizeof(int32_t));
        memcpy(rows_tok[i] + n_pre, ids, n * sizeof(int32_t));
        specs[i] = (mj_row_spec){rows_tok[i], (int32_t)(n_pre + n), NULL, NULL, NULL, 0};
        free(ids);
    }
    const char *stops[] = {"\n"};
    mj_stop st = {8, true, stops, 1};
    mj_sampling greedy = {0};
    mj_gen_result res[NQ], res2[NQ];
    CHECK(mj_generate(e, tok, p, &fns, NQ, specs, &greedy, &st, res, err, sizeof err) == 0);
    for (int i = 0; i < NQ; i++) {
        printf("%s -> '%s' (%d tokens, stop %d)\n", QA[i].country, res[i].text ? res[i].text : "",
               res[i].n_tokens, res[i].stop_reason);
        CHECKF(res[i].text && strstr(res[i].text, QA[i].capital), "capital of %s: '%s'",
               QA[i].country, res[i].text ? res[i].text : "");
        CHECK(res[i].stop_reason == MJ_STOP_STRING);
    }
    /* the same from a prefix cache */
    mj_prefix *px = mj_prefix_init(e, pre, (int32_t)n_pre, err, sizeof err);
    CHECKF(px != NULL, "prefix: %s", err);
    if (px) {
        CHECK(mj_generate_prefix(e, px, tok, p, &fns, NQ, specs, &greedy, &st, res2, err,
                                 sizeof err) == 0);
        for (int i = 0; i < NQ; i++) {
            CHECKF(res2[i].text && res[i].text && !strcmp(res[i].text, res2[i].text),
                   "prefix cache answer for %s: '%s'", QA[i].country, res2[i].text);
            mj_gen_result_free(&res2[i]);
        }
        int32_t V = m.cfg.vocab;
        float *a = malloc((size_t)V * 4), *b = malloc((size_t)V * 4);
        mj_seqs *s1 = mj_seqs_init_prefix(e, px, p, &fns, 1, &specs[0], 0, err, sizeof err);
        mj_seqs *s2 = mj_seqs_init(e, p, &fns, 1, &specs[0], 0, err, sizeof err);
        CHECK(s1 && s2 && mj_seqs_prefill(s1, a) == 0 && mj_seqs_prefill(s2, b) == 0);
        double md = 0, mr = 0;
        for (int32_t i = 0; i < V; i++) {
            md = fmax(md, fabs((double)a[i] - b[i]));
            mr = fmax(mr, fabs((double)b[i]));
        }
        CHECKF(md / mr < 1e-5, "prefix logits rel diff %g", md / mr);
        mj_seqs_free(s1);
        mj_seqs_free(s2);
        free(a);
        free(b);
        mj_prefix_free(px);
    }
    for (int i = 0; i < NQ; i++) {
        mj_gen_result_free(&res[i]);
        free(rows_tok[i]);
    }
    free(pre);
    mj_program_free(p);
    mj_engine_free(e);
    mj_tokenizer_free(tok);
    mj_model_free(&m);
    return mj_test_finish();
}
