/* session.h — what `maskjit run` and `maskjit paraphrase` set up before
 * answering: the model, its tokenizer and an engine on a device, the BOS
 * choice, and the QA prompt for a dataset. */
#ifndef MJ_SESSION_H
#define MJ_SESSION_H

#include <stddef.h>

#include "dataset.h"
#include "engine.h"
#include "model.h"
#include "prompt.h"
#include "tokenizer.h"

typedef struct mj_session {
    mj_model model;
    bool model_loaded;
    mj_tokenizer *tok;
    mj_engine *engine;
} mj_session;

/* Load the model (HF directory or .gguf), the tokenizer (tok_path, or the
 * model's own when NULL) and start an engine.  0, or -1 with a message. */
int mj_session_open(mj_session *s, const char *model_path, const char *tok_path, mj_device dev,
                    int threads, char *err, size_t errn);
void mj_session_close(mj_session *s);

/* The BOS to place first: "auto" (HF's default: the tokenizer's BOS when its
 * configuration adds one, mj_tokenizer_adds_bos; else none),
 * "none", a token string ("<|endoftext|>") or a numeric id.  -2 on error. */
int32_t mj_session_bos(const mj_session *s, const char *spec, char *err, size_t errn);

/* The QA prompt for dataset d: style "webqa" | "myriadlama" | NULL (from the
 * dataset: MyriadLAMA -> myriadlama, else webqa); prefix_file: a few-shot
 * prefix file (myriadlama style) to use instead of the built-in text;
 * train/n_train: WebQuestions train files to draw the webqa shots from
 * (random.seed(42), 5 shots) instead of the built-in draw. */
int mj_session_prompt(mj_prompt *p, const mj_dataset *d, const char *style, const char *prefix_file,
                      const char *const *train, int n_train, char *err, size_t errn);

#endif
