/* paraphrase.c — see paraphrase.h. */
#include "paraphrase.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "fu_util.h"
#include "fuse.h"
#include "jit.h"
#include "results.h"
#include "run.h"

/* The study's instruction (without the leading newline and trailing spaces
 * its triple-quoted string added). */
const char mj_paraphrase_instruction[] =
    "Paraphrase the following question. Keep the original meaning, but use a different sentence "
    "structure and vocabulary. Aim to make the paraphrase sound natural and diverse.";

/* Five WebQuestions devtest questions (wqr000000, 020, 120, 260, 400), each
 * with five paraphrases written by hand for maskjit. */
static const char *const demos[MJ_PARA_DEMOS][1 + MJ_PARA_MAX_PASSES] = {
    {"what is the name of justin bieber brother?", "who is justin bieber's brother?",
     "what is justin bieber's brother called?", "can you name the brother of justin bieber?",
     "which boy is the brother of justin bieber?", "what name does justin bieber's brother go by?"},
    {"where to fly into bali?", "which airport should i fly into to reach bali?",
     "what airport serves the island of bali?", "where do flights to bali land?",
     "when traveling to bali, which airport do you arrive at?", "what is the main airport for visiting bali?"},
    {"who plays meg in family guy?", "who is the voice of meg on family guy?",
     "which actress voices meg griffin?", "in family guy, who performs the role of meg?",
     "who provides meg's voice in the show family guy?", "meg on family guy is played by whom?"},
    {"where did rihanna grow up?", "where was rihanna raised?", "in what place did rihanna spend her childhood?",
     "what is the hometown where rihanna grew up?", "where did rihanna live as a child?",
     "rihanna was brought up where?"},
    {"what state is harvard college located?", "in which state is harvard college?",
     "harvard college is in what state?", "which u.s. state is home to harvard college?",
     "where, by state, can you find harvard college?", "what state would you visit to see harvard college?"},
};

char *mj_paraphrase_prompt(int pass, const char *question) {
    mj_buf b;
    mj_buf_init(&b);
    int bad = mj_buf_puts(&b, mj_paraphrase_instruction) || mj_buf_puts(&b, "\n\n");
    for (int j = 0; j < MJ_PARA_DEMOS && !bad; j++)
        bad = mj_buf_printf(&b, "%sQ: %s\nParaphrase: %s", j ? "\n\n" : "", demos[j][0], demos[j][1 + pass]);
    bad = bad || mj_buf_printf(&b, "\n\nQ: %s\nParaphrase:", question);
    if (bad) { mj_buf_free(&b); return NULL; }
    return b.p;
}

uint64_t mj_paraphrase_seed(uint64_t base, const char *id, int pass) {
    uint64_t h = mj_hash64(0, &base, sizeof base);
    h = mj_hash64(h, id, strlen(id));
    return mj_hash64(h, &pass, sizeof pass);
}

static int cmp_strp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

typedef struct para_batch {
    int32_t *ids[64 * MJ_PARA_MAX_PASSES];
    size_t n[64 * MJ_PARA_MAX_PASSES];
    mj_row_spec rows[64 * MJ_PARA_MAX_PASSES];
    int sizes[64 * MJ_PARA_MAX_PASSES];
    uint64_t seeds[64 * MJ_PARA_MAX_PASSES];
    int n_rows;
} para_batch;

/* Rows of the questions qis[0..nq): one per (question, pass). */
static int batch_build(para_batch *B, const mj_tokenizer *tok, const mj_dataset *d, const mj_paraphrase_opts *o,
                       const int64_t *qis, int nq) {
    memset(B, 0, sizeof *B);
    for (int i = 0; i < nq; i++)
        for (int p = 0; p < o->passes; p++, B->n_rows++) {
            int r = B->n_rows;
            char *text = mj_paraphrase_prompt(p, d->q[qis[i]].paraphrases[0]);
            int32_t *ids = NULL;
            size_t n = 0;
            int rc = !text || mj_tokenizer_encode(tok, text, strlen(text), false, &ids, &n);
            free(text);
            if (rc) return -1;
            B->ids[r] = malloc((n + 1) * sizeof(int32_t));
            if (!B->ids[r]) { free(ids); return -1; }
            size_t off = o->bos >= 0;
            if (off) B->ids[r][0] = o->bos;
            memcpy(B->ids[r] + off, ids, n * sizeof *ids);
            free(ids);
            B->n[r] = n + off;
            B->rows[r] = (mj_row_spec){B->ids[r], (int32_t)B->n[r], NULL, NULL, NULL, 0};
            B->sizes[r] = 1;
            B->seeds[r] = mj_paraphrase_seed(o->seed, d->q[qis[i]].id, p);
        }
    return 0;
}

static void batch_free(para_batch *B) {
    for (int r = 0; r < B->n_rows; r++) free(B->ids[r]);
}

static int write_question(mj_out *out, const mj_question *q, const mj_paraphrase_opts *o, const mj_fuse_out *fo,
                          const uint64_t *seeds) {
    mj_buf b;
    mj_buf_init(&b);
    int bad = mj_buf_puts(&b, "{\"id\": ") || mj_buf_json_str(&b, q->id) || mj_buf_puts(&b, ", \"question\": ") ||
              mj_buf_json_str(&b, q->paraphrases[0]) || mj_buf_puts(&b, ", \"paraphrases\": [") ||
              mj_buf_json_str(&b, q->paraphrases[0]);
    const char *kinds[MJ_PARA_MAX_PASSES];
    for (int p = 0; p < o->passes && !bad; p++) {
        char *line = mj_first_line(fo[p].text);
        kinds[p] = line && *line ? "generated" : "original-fallback";
        bad = !line || mj_buf_puts(&b, ", ") || mj_buf_json_str(&b, *line ? line : q->paraphrases[0]);
        free(line);
    }
    bad = bad || mj_buf_puts(&b, "], \"paraphrase_kinds\": [\"original\"");
    for (int p = 0; p < o->passes && !bad; p++) bad = mj_buf_printf(&b, ", \"%s\"", kinds[p]);
    bad = bad || mj_buf_puts(&b, "], \"answers\": [");
    for (int a = 0; a < q->n_answers && !bad; a++) bad = (a && mj_buf_puts(&b, ", ")) || mj_buf_json_str(&b, q->answers[a]);
    bad = bad || mj_buf_puts(&b, "], \"seeds\": [");
    for (int p = 0; p < o->passes && !bad; p++) bad = mj_buf_printf(&b, "%s%llu", p ? ", " : "", (unsigned long long)seeds[p]);
    bad = bad || mj_buf_puts(&b, "], \"model\": ") || mj_buf_json_str(&b, o->model_name ? o->model_name : "") ||
          mj_buf_puts(&b, "}\n") || mj_out_add_raw(out, b.p);
    mj_buf_free(&b);
    return bad ? -1 : 0;
}

typedef struct para_ctx {
    mj_engine *e;
    const mj_tokenizer *tok;
    const mj_dataset *d;
    const mj_paraphrase_opts *o;
    mj_program *prog;
    mj_jit *jit;
    mj_mask_fns fns;
    int32_t eos[16];
    int n_eos;
    mj_out out;
} para_ctx;

static int para_batch_run(para_ctx *C, const int64_t *qis, int nq, int64_t *tokens, char *err, size_t errn) {
    para_batch *B = malloc(sizeof *B);
    mj_fuse_out *fo = calloc((size_t)nq * (size_t)C->o->passes, sizeof *fo);
    if (!B || !fo) { free(B); free(fo); return mj_err(err, errn, "out of memory"); }
    int rc = batch_build(B, C->tok, C->d, C->o, qis, nq) ? mj_err(err, errn, "cannot tokenize a prompt") : 0;
    mj_sampling sp = {C->o->temperature, 0, C->o->top_p, C->o->seed};
    mj_fuse_opts fopt = {MJ_COMBINE_FIRST, C->o->max_new_tokens, C->eos, C->n_eos, mj_run_decode, (void *)C->tok,
                         NULL, &sp, B->seeds};
    int64_t toks = 0;
    if (!rc) rc = mj_fuse_generate(C->e, C->prog, &C->fns, B->n_rows, B->sizes, B->rows, &fopt, fo, &toks, err, errn);
    for (int i = 0; i < nq && !rc; i++)
        if (write_question(&C->out, &C->d->q[qis[i]], C->o, fo + (size_t)i * C->o->passes, B->seeds + (size_t)i * C->o->passes))
            rc = mj_err(err, errn, "out of memory");
    if (!rc) rc = mj_out_flush(&C->out, err, errn);
    *tokens += toks;
    for (int r = 0; r < nq * C->o->passes; r++) mj_fuse_out_free(&fo[r]);
    batch_free(B);
    free(B);
    free(fo);
    return rc;
}

int mj_paraphrase_run(mj_engine *e, const mj_tokenizer *tok, const mj_dataset *d,
                      const mj_paraphrase_opts *o, int64_t *answered, char *err, size_t errn) {
    *answered = 0;
    if (o->passes < 1 || o->passes > MJ_PARA_MAX_PASSES || o->batch < 1 || o->batch > 64)
        return mj_err(err, errn, "paraphrase: passes must be 1..5 and batch 1..64");
    para_ctx C = {.e = e, .tok = tok, .d = d, .o = o};
    C.out.fd = -1;
    static const char src[] = "mask = kv <= q\n";
    mj_diags dg;
    mj_diags_init(&dg);
    C.prog = mj_compile_string("<causal>", src, sizeof src - 1, NULL, &dg);
    if (C.prog) C.jit = mj_jit_init(C.prog, &dg);
    mj_diags_free(&dg);
    char **done = NULL;
    int64_t n_done = 0, *todo = NULL, n_todo = 0;
    int rc = C.jit ? 0 : mj_err(err, errn, "cannot compile the causal mask");
    if (!rc) {
        C.fns = mj_jit_fns(C.jit);
        C.n_eos = mj_generate_eos_ids(e, tok, C.eos);
        rc = mj_out_open_ids(&C.out, o->out_path, o->resume, &done, &n_done, err, errn);
    }
    int64_t scope = o->limit > 0 && o->limit < d->n ? o->limit : d->n;
    if (!rc && !(todo = malloc((size_t)(scope ? scope : 1) * sizeof *todo))) rc = mj_err(err, errn, "out of memory");
    if (!rc) {
        qsort(done, (size_t)n_done, sizeof *done, cmp_strp);
        for (int64_t i = 0; i < scope; i++) {
            const char *id = d->q[i].id;
            if (!n_done || !bsearch(&id, done, (size_t)n_done, sizeof *done, cmp_strp)) todo[n_todo++] = i;
        }
    }
    double t0 = mj_now();
    int64_t tokens = 0;
    for (int64_t i = 0; !rc && i < n_todo; i += o->batch) {
        int nq = (int)(n_todo - i < o->batch ? n_todo - i : o->batch);
        rc = para_batch_run(&C, todo + i, nq, &tokens, err, errn);
        if (!rc) *answered += nq;
        if (!rc && o->progress)
            o->progress(o->progress_ctx, scope - n_todo + i + nq, scope, i + nq, tokens, mj_now() - t0);
    }
    free(todo);
    mj_strs_free(done, n_done);
    mj_out_close(&C.out);
    mj_jit_free(C.jit);
    mj_program_free(C.prog);
    return rc;
}
