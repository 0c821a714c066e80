/* paraphrase.h — generating WebQA paraphrases with the model itself, as the
 * original study did (study.md §1), for `maskjit paraphrase`.
 *
 * Pass i (0..passes-1) prompts
 *   INSTRUCTION "\n\n" DEMO_1 "\n\n" ... DEMO_5 "\n\nQ: " QUESTION "\nParaphrase:"
 * with DEMO_j = "Q: " demo question j "\nParaphrase: " its i-th hand-written
 * paraphrase (five WebQuestions devtest questions, paraphrased by hand for this
 * project; see paraphrase.c), samples at temperature 1.5 with top-p 0.9 for at
 * most 30 new tokens and keeps the first line.  Unlike the study (whose
 * sampling was not seeded per question), every (question, pass) draws from its
 * own generator seeded with hash(seed, question id, pass), so a paraphrase
 * does not depend on the batch it was made in, and a resumed run makes the
 * same text.  An empty first line is replaced by the original question (kind
 * "original-fallback").
 *
 * Output: one JSONL record per question, written when all its passes are done
 * (the paraphrases format of dataset.h):
 *   {"id", "question", "paraphrases": [question, p_1 .. p_passes],
 *    "paraphrase_kinds": ["original", "generated", ...], "answers",
 *    "seeds": [...], "model"} */
#ifndef MJ_PARAPHRASE_H
#define MJ_PARAPHRASE_H

#include <stdbool.h>
#include <stdint.h>

#include "dataset.h"
#include "engine.h"
#include "tokenizer.h"

#define MJ_PARA_DEMOS 5
#define MJ_PARA_MAX_PASSES 5

extern const char mj_paraphrase_instruction[];

typedef struct mj_paraphrase_opts {
    int passes;               /* 1..5 (default 5) */
    float temperature;        /* 1.5 */
    float top_p;              /* 0.9 */
    int32_t max_new_tokens;   /* 30 */
    uint64_t seed;            /* base seed (default 0) */
    int batch;                /* questions per batch */
    int64_t limit;            /* 0: all */
    bool resume;
    int32_t bos;              /* -1: none */
    const char *model_name;   /* recorded in the output */
    const char *out_path;
    void (*progress)(void *ctx, int64_t done, int64_t total, int64_t done_now, int64_t tokens, double s);
    void *progress_ctx;
} mj_paraphrase_opts;

/* The prompt text of pass `pass` for question q (malloc'd). */
char *mj_paraphrase_prompt(int pass, const char *question);
/* The seed of (question id, pass). */
uint64_t mj_paraphrase_seed(uint64_t base, const char *id, int pass);

/* Paraphrase every question of d (its paraphrase 0) into o->out_path.
 * *answered receives the number of questions written.  0 / -1. */
int mj_paraphrase_run(mj_engine *e, const mj_tokenizer *tok, const mj_dataset *d,
                      const mj_paraphrase_opts *o, int64_t *answered, char *err, size_t errn);

#endif
