/* prompt.h — the study's QA prompts (study.md §1), as text and as pieces.
 *
 * A prompt is  INSTRUCTION "\n\n" SHOT_1 "\n\n" ... SHOT_k "\n\n" "Q: " Q "\nA:"
 * with SHOT_j = "Q: " q_j "\nA: " a_j.  Both styles have this shape:
 *   webqa       instruction "Answer the question based on general world
 *               knowledge. Provide a short and direct answer.", five shots drawn
 *               from the WebQuestions train split (the 3 778 questions of
 *               trainmodel + val + devtest ordered by qId, as HF's train split)
 *               with Python's random.seed(42); random.sample(range(3778), 5),
 *               the answer being answers[0];
 *   myriadlama  the study's few-shot prefix (../shared/data/myriadlama/
 *               few_shot_prefix.txt, also built in), split back into its
 *               instruction and five shots.
 * The layouts (layout.h) tokenize the pieces separately; the pieces are cut
 * where the text is cut by every byte-level BPE pre-tokenizer (before "\n" and
 * after "\n\n"), so concatenating their ids equals encoding the whole text. */
#ifndef MJ_PROMPT_H
#define MJ_PROMPT_H

#include <stddef.h>
#include <stdint.h>

typedef enum mj_prompt_style { MJ_PROMPT_WEBQA = 0, MJ_PROMPT_MYRIADLAMA = 1 } mj_prompt_style;

typedef struct mj_prompt {
    char *instruction;
    int32_t n_shots;
    char **shot_q, **shot_a;
} mj_prompt;

/* "webqa" | "myriadlama"; -1 if unknown. */
int mj_prompt_style_parse(const char *s);
const char *mj_prompt_style_name(mj_prompt_style s);

/* The built-in prompt of a style (the study's exact text). 0 / -1. */
int mj_prompt_init_builtin(mj_prompt *p, mj_prompt_style s, char *err, size_t errn);
/* Parse a few-shot prefix (instruction, shots, each followed by "\n\n"). */
int mj_prompt_init_prefix(mj_prompt *p, const char *text, char *err, size_t errn);
/* WebQA prompt whose shots are drawn from the WebQuestions train files (JSON
 * arrays of {qId, qText, answers}), concatenated and ordered by qId, with
 * Python's random.seed(seed); random.sample(range(n), k). */
int mj_prompt_init_webq_train(mj_prompt *p, const char *const *paths, int n_paths, uint64_t seed,
                              int k, char *err, size_t errn);
void mj_prompt_free(mj_prompt *p);

/* Pieces, malloc'd (caller frees).  head = INSTRUCTION "\n\n"; shot j =
 * "Q: " q_j "\n" then "A: " a_j "\n\n"; question = "Q: " Q "\n"; cue = "A:". */
char *mj_prompt_head(const mj_prompt *p);
char *mj_prompt_shot_q(const mj_prompt *p, int j);
char *mj_prompt_shot_a(const mj_prompt *p, int j);
char *mj_prompt_question(const char *q);
extern const char mj_prompt_cue[];     /* "A:" */
/* The whole few-shot prefix: head + all shots. */
char *mj_prompt_prefix(const mj_prompt *p);
/* The whole prompt for one question: prefix + question + cue. */
char *mj_prompt_full(const mj_prompt *p, const char *q);

/* The study's MyriadLAMA prefix text (equal to few_shot_prefix.txt). */
extern const char mj_prompt_myriadlama_prefix[];

#endif
