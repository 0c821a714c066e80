/* prompt.c — see prompt.h. */
#include "prompt.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "fu_util.h"
#include "pyrandom.h"

const char mj_prompt_cue[] = "A:";

const char mj_prompt_myriadlama_prefix[] =
    "Based on the context, predict the [MASK] in the sentence in one word.\n\n"
    "Q: [MASK] is the higher-level concept of adit.\nA: tunnel\n\n"
    "Q: Marty Ehrlich became known as a [MASK] player.\nA: saxophone\n\n"
    "Q: Officially, the people living in Basel use the language [MASK] for communication.\nA: German\n\n"
    "Q: [MASK] consists of Mount Makiling.\nA: Luzon\n\n"
    "Q: Iowa and [MASK] are neighboring countries.\nA: Wisconsin\n\n";

static const char webqa_instruction[] =
    "Answer the question based on general world knowledge. Provide a short and direct answer.";

/* What random.seed(42); random.sample(range(3778), 5) picks from the train split
 * ordered by qId (wqr002619, wqr000456, wqr000102, wqr003037, wqr001126);
 * tests/unit/test_fusion_prompt.c re-draws them from ../shared/data. */
static const char *const webqa_shots[5][2] = {
    {"who is lamar odom married too?", "Khlo\xc3\xa9 Kardashian"},
    {"what do they speak in iran?", "Turkmen Language"},
    {"what awards has louis sachar won?", "National Book Award for Young People's Literature"},
    {"where do most of the people in egypt live?", "Cairo"},
    {"who is the speaker of the house of representatives currently?", "Nancy Pelosi"},
};

int mj_prompt_style_parse(const char *s) {
    if (!strcmp(s, "webqa")) return MJ_PROMPT_WEBQA;
    if (!strcmp(s, "myriadlama")) return MJ_PROMPT_MYRIADLAMA;
    return -1;
}

const char *mj_prompt_style_name(mj_prompt_style s) {
    return s == MJ_PROMPT_MYRIADLAMA ? "myriadlama" : "webqa";
}

void mj_prompt_free(mj_prompt *p) {
    free(p->instruction);
    mj_strs_free(p->shot_q, p->n_shots);
    mj_strs_free(p->shot_a, p->n_shots);
    memset(p, 0, sizeof *p);
}

static int prompt_alloc(mj_prompt *p, const char *instruction, int k) {
    memset(p, 0, sizeof *p);
    p->instruction = strdup(instruction);
    p->shot_q = calloc((size_t)(k ? k : 1), sizeof(char *));
    p->shot_a = calloc((size_t)(k ? k : 1), sizeof(char *));
    p->n_shots = k;
    return p->instruction && p->shot_q && p->shot_a ? 0 : -1;
}

int mj_prompt_init_builtin(mj_prompt *p, mj_prompt_style s, char *err, size_t errn) {
    if (s == MJ_PROMPT_MYRIADLAMA) return mj_prompt_init_prefix(p, mj_prompt_myriadlama_prefix, err, errn);
    if (prompt_alloc(p, webqa_instruction, 5)) { mj_prompt_free(p); return mj_err(err, errn, "out of memory"); }
    for (int j = 0; j < 5; j++) {
        p->shot_q[j] = strdup(webqa_shots[j][0]);
        p->shot_a[j] = strdup(webqa_shots[j][1]);
        if (!p->shot_q[j] || !p->shot_a[j]) { mj_prompt_free(p); return mj_err(err, errn, "out of memory"); }
    }
    return 0;
}

int mj_prompt_init_prefix(mj_prompt *p, const char *text, char *err, size_t errn) {
    memset(p, 0, sizeof *p);
    size_t len = strlen(text);
    if (len < 2 || strcmp(text + len - 2, "\n\n"))
        return mj_err(err, errn, "few-shot prefix: must end with a blank line (\"\\n\\n\")");
    const char *sep = strstr(text, "\n\n");
    int k = 0;
    for (const char *s = sep + 2; *s; k++) s = strstr(s, "\n\n") + 2;
    if (prompt_alloc(p, "", k)) { mj_prompt_free(p); return mj_err(err, errn, "out of memory"); }
    free(p->instruction);
    p->instruction = strndup(text, (size_t)(sep - text));
    const char *s = sep + 2;
    for (int j = 0; j < k; j++) {
        const char *e = strstr(s, "\n\n");
        const char *nl = memchr(s, '\n', (size_t)(e - s));
        if (strncmp(s, "Q: ", 3) || !nl || nl + 1 >= e || strncmp(nl + 1, "A: ", 3)) {
            p->n_shots = j;
            mj_prompt_free(p);
            return mj_err(err, errn, "few-shot prefix: block %d is not \"Q: ...\\nA: ...\"", j + 1);
        }
        p->shot_q[j] = strndup(s + 3, (size_t)(nl - s - 3));
        p->shot_a[j] = strndup(nl + 4, (size_t)(e - nl - 4));
        s = e + 2;
    }
    if (!p->instruction[0]) { mj_prompt_free(p); return mj_err(err, errn, "few-shot prefix: empty instruction"); }
    return 0;
}

static int cmp_qid(const void *a, const void *b) {
    return strcmp((*(const mj_question *const *)a)->id, (*(const mj_question *const *)b)->id);
}

int mj_prompt_init_webq_train(mj_prompt *p, const char *const *paths, int n_paths, uint64_t seed,
                              int k, char *err, size_t errn) {
    memset(p, 0, sizeof *p);
    mj_dataset *sets = calloc((size_t)(n_paths ? n_paths : 1), sizeof *sets);
    if (!sets) return mj_err(err, errn, "out of memory");
    int rc = 0, loaded = 0;
    int64_t total = 0;
    for (; loaded < n_paths && !rc; loaded++) {
        rc = mj_dataset_load(&sets[loaded], paths[loaded], MJ_DATA_WEBQUESTIONS, false, err, errn);
        if (rc) break;
        total += sets[loaded].n;
    }
    const mj_question **all = NULL;
    uint32_t *pick = NULL;
    if (!rc && (total < k || total > UINT32_MAX)) rc = mj_err(err, errn, "train split: %lld questions for %d shots", (long long)total, k);
    if (!rc) {
        all = malloc((size_t)total * sizeof *all);
        pick = malloc((size_t)(k ? k : 1) * sizeof *pick);
        if (!all || !pick || prompt_alloc(p, webqa_instruction, k)) rc = mj_err(err, errn, "out of memory");
    }
    if (!rc) {
        int64_t t = 0;
        for (int i = 0; i < loaded; i++)
            for (int64_t j = 0; j < sets[i].n; j++) all[t++] = &sets[i].q[j];
        qsort(all, (size_t)total, sizeof *all, cmp_qid);
        mj_pyrand r;
        mj_pyrand_seed(&r, seed);
        rc = mj_pyrand_sample(&r, (uint32_t)total, (uint32_t)k, pick) ? mj_err(err, errn, "sampling failed") : 0;
        for (int j = 0; !rc && j < k; j++) {
            p->shot_q[j] = strdup(all[pick[j]]->paraphrases[0]);
            p->shot_a[j] = strdup(all[pick[j]]->answers[0]);
            if (!p->shot_q[j] || !p->shot_a[j]) rc = mj_err(err, errn, "out of memory");
        }
    }
    if (rc) mj_prompt_free(p);
    free(all);
    free(pick);
    for (int i = 0; i < loaded; i++) mj_dataset_free(&sets[i]);
    free(sets);
    return rc;
}

static char *cat3(const char *a, const char *b, const char *c) {
    mj_buf out;
    mj_buf_init(&out);
    if (mj_buf_puts(&out, a) || mj_buf_puts(&out, b) || mj_buf_puts(&out, c) || (!out.p && mj_buf_put(&out, "", 0))) {
        mj_buf_free(&out);
        return NULL;
    }
    return out.p;
}

char *mj_prompt_head(const mj_prompt *p) { return cat3(p->instruction, "\n\n", ""); }
char *mj_prompt_shot_q(const mj_prompt *p, int j) { return cat3("Q: ", p->shot_q[j], "\n"); }
char *mj_prompt_shot_a(const mj_prompt *p, int j) { return cat3("A: ", p->shot_a[j], "\n\n"); }
char *mj_prompt_question(const char *q) { return cat3("Q: ", q, "\n"); }

char *mj_prompt_prefix(const mj_prompt *p) {
    mj_buf b;
    mj_buf_init(&b);
    bool bad = mj_buf_puts(&b, p->instruction) || mj_buf_puts(&b, "\n\n");
    for (int j = 0; j < p->n_shots && !bad; j++)
        bad = mj_buf_printf(&b, "Q: %s\nA: %s\n\n", p->shot_q[j], p->shot_a[j]);
    if (bad) { mj_buf_free(&b); return NULL; }
    return b.p;
}

char *mj_prompt_full(const mj_prompt *p, const char *q) {
    char *pre = mj_prompt_prefix(p);
    if (!pre) return NULL;
    char *s = cat3(pre, "Q: ", q);
    free(pre);
    if (!s) return NULL;
    char *t = cat3(s, "\n", mj_prompt_cue);
    free(s);
    return t;
}
