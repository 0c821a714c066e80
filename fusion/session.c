/* session.c — see session.h. */
#include "session.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fu_util.h"

int mj_session_open(mj_session *s, const char *model_path, const char *tok_path, mj_device dev,
                    int threads, char *err, size_t errn) {
    memset(s, 0, sizeof *s);
    if (mj_model_load(&s->model, model_path, err, errn)) return -1;
    s->model_loaded = true;
    s->tok = mj_tokenizer_load(tok_path ? tok_path : model_path, err, errn);
    if (!s->tok) { mj_session_close(s); return -1; }
    if (mj_tokenizer_vocab_size(s->tok) > s->model.cfg.vocab) {
        int rc = mj_err(err, errn, "the tokenizer has %d tokens but the model only %d", mj_tokenizer_vocab_size(s->tok),
                        s->model.cfg.vocab);
        mj_session_close(s);
        return rc;
    }
    s->engine = mj_engine_init(&s->model, dev, threads, err, errn);
    if (!s->engine) { mj_session_close(s); return -1; }
    return 0;
}

void mj_session_close(mj_session *s) {
    mj_engine_free(s->engine);
    mj_tokenizer_free(s->tok);
    if (s->model_loaded) mj_model_free(&s->model);
    memset(s, 0, sizeof *s);
}

int32_t mj_session_bos(const mj_session *s, const char *spec, char *err, size_t errn) {
    if (!spec || !strcmp(spec, "auto"))   /* HF's default: only when the tokenizer adds one */
        return mj_tokenizer_adds_bos(s->tok) && mj_tokenizer_bos(s->tok) >= 0 ? mj_tokenizer_bos(s->tok) : -1;
    if (!strcmp(spec, "none")) return -1;
    char *end;
    errno = 0;
    long v = strtol(spec, &end, 10);
    if (*spec && !*end && !errno) {
        if (v < 0 || v >= s->model.cfg.vocab) { mj_err(err, errn, "--bos %s: no such token id", spec); return -2; }
        return (int32_t)v;
    }
    int32_t id = mj_tokenizer_token_id(s->tok, spec);
    if (id < 0) { mj_err(err, errn, "--bos %s: the tokenizer has no such token", spec); return -2; }
    return id;
}

int mj_session_prompt(mj_prompt *p, const mj_dataset *d, const char *style, const char *prefix_file,
                      const char *const *train, int n_train, char *err, size_t errn) {
    int st = style ? mj_prompt_style_parse(style) : d->format == MJ_DATA_MYRIADLAMA ? MJ_PROMPT_MYRIADLAMA : MJ_PROMPT_WEBQA;
    if (st < 0) return mj_err(err, errn, "--prompt %s: expected webqa or myriadlama", style);
    if (prefix_file) {
        size_t len;
        char *text = mj_file_read(prefix_file, &len, err, errn);
        if (!text) return -1;
        int rc = mj_prompt_init_prefix(p, text, err, errn);
        free(text);
        return rc;
    }
    if (st == MJ_PROMPT_WEBQA && n_train > 0) return mj_prompt_init_webq_train(p, train, n_train, 42, 5, err, errn);
    return mj_prompt_init_builtin(p, (mj_prompt_style)st, err, errn);
}
