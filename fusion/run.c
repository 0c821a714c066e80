/* run.c — see run.h. */
#include "run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "fu_util.h"
#include "fuse.h"
#include "jit.h"
#include "results.h"

#define MAX_PARA 64

static const char *const method_names[] = {"single", "ensemble-avg", "ensemble-max", "weighted-avg",
                                           "weighted-max", "mask"};

int mj_method_parse(const char *s, const char **mask_path) {
    *mask_path = NULL;
    if (!strncmp(s, "mask:", 5)) {
        if (!s[5]) return -1;
        *mask_path = s + 5;
        return MJ_METHOD_MASK;
    }
    for (int i = 0; i < MJ_METHOD_MASK; i++)
        if (!strcmp(s, method_names[i])) return i;
    return -1;
}

const char *mj_method_name(mj_method_kind k) { return (unsigned)k <= MJ_METHOD_MASK ? method_names[k] : "?"; }

static int n_wanted(const mj_run_opts *o) {
    if (o->indices) return o->n_indices;
    if (o->n_para > 0) return o->n_para;
    return o->method == MJ_METHOD_SINGLE ? 1 : 5;
}

void mj_run_label(const mj_run_opts *o, char *buf, size_t n) {
    if (o->label) { snprintf(buf, n, "%s", o->label); return; }
    char sel[160] = "";
    int k = n_wanted(o);
    if (o->indices) {
        for (int i = 0; i < o->n_indices && strlen(sel) + 12 < sizeof sel; i++)
            snprintf(sel + strlen(sel), sizeof sel - strlen(sel), "%s%d", i ? "," : "", o->indices[i]);
    } else if (k == 1) snprintf(sel, sizeof sel, "0");
    else snprintf(sel, sizeof sel, "0-%d", k - 1);
    if (o->method == MJ_METHOD_MASK)
        snprintf(buf, n, "mask:%s@%s%s[%s]", o->mask_name ? o->mask_name : "?", mj_flayout_kind_name(o->layout),
                 o->cue == MJ_CUE_LAST_SEGMENT ? "/cue-in-segment" : "", sel);
    else snprintf(buf, n, "%s[%s]", mj_method_name(o->method), sel);
}

/* ---- tokenizer glue ------------------------------------------------------------- */

int mj_run_encode(void *ctx, const char *text, int32_t **ids, size_t *n) {
    return mj_tokenizer_encode(ctx, text, strlen(text), false, ids, n);
}

char *mj_run_decode(void *ctx, const int32_t *ids, size_t n) { return mj_tokenizer_decode(ctx, ids, n, true); }

/* ---- the state of one run -------------------------------------------------------- */

typedef struct runner {
    mj_engine *e;
    const mj_tokenizer *tok;
    const mj_dataset *d;
    const mj_prompt *pr;
    const mj_run_opts *o;
    mj_run_stats *st;
    const mj_program *prog;     /* the mask rows run under */
    mj_mask_fns fns;
    mj_program *causal;
    mj_jit *causal_jit;
    mj_prefix *prefix;
    int32_t eos[16];
    int n_eos;
    mj_out out;
    char **done;                /* sorted ids already in the output */
    int64_t n_done;
    char *err;
    size_t errn;
} runner;

/* A question's rows: its layouts and annotation/param storage. */
typedef struct qrows {
    int64_t qi;
    int n_idx;
    int idx[MAX_PARA];
    int n_rows;
    mj_flayout lay[MAX_PARA];
    mj_value *annot, *params;
    int32_t prompt_tokens;
} qrows;

static int cmp_strp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static bool is_done(const runner *R, const char *id) {
    return R->n_done && bsearch(&id, R->done, (size_t)R->n_done, sizeof *R->done, cmp_strp);
}

/* Paraphrase indices of question q; -1 when it has too few. */
static int select_paras(const mj_run_opts *o, const mj_question *q, int *idx) {
    int k = n_wanted(o);
    if (k < 1 || k > MAX_PARA) return -1;
    for (int i = 0; i < k; i++) {
        idx[i] = o->indices ? o->indices[i] : i;
        if (idx[i] < 0 || idx[i] >= q->n_paraphrases) return -1;
    }
    return k;
}

static void qrows_free(qrows *q) {
    for (int i = 0; i < q->n_rows; i++) mj_flayout_free(&q->lay[i]);
    free(q->annot);
    free(q->params);
    memset(q, 0, sizeof *q);
}

static mj_flayout_opts layout_opts(const runner *R, bool plain) {
    mj_flayout_opts lo = {plain ? MJ_FLAYOUT_STUDY : R->o->layout, plain ? MJ_CUE_FUSED : R->o->cue,
                          R->o->bos, R->o->sep, mj_run_encode, (void *)R->tok};
    return lo;
}

/* Layouts, annotations and params of one question. */
static int qrows_build(runner *R, qrows *Q, int64_t qi) {
    const mj_question *q = &R->d->q[qi];
    const mj_run_opts *o = R->o;
    Q->qi = qi;
    Q->n_idx = select_paras(o, q, Q->idx);
    const char *paras[MAX_PARA];
    for (int i = 0; i < Q->n_idx; i++) paras[i] = q->paraphrases[Q->idx[i]];
    if (o->method != MJ_METHOD_MASK) {
        mj_flayout_opts lo = layout_opts(R, true);
        for (int i = 0; i < Q->n_idx; i++, Q->n_rows++) {
            if (mj_flayout_build(&Q->lay[i], &lo, R->pr, &paras[i], 1, R->err, R->errn)) return -1;
            Q->prompt_tokens += Q->lay[i].n;
        }
        return 0;
    }
    mj_flayout_opts lo = layout_opts(R, false);
    if (mj_flayout_build(&Q->lay[0], &lo, R->pr, paras, Q->n_idx, R->err, R->errn)) return -1;
    Q->n_rows = 1;
    Q->prompt_tokens = Q->lay[0].n;
    const mj_program *p = R->prog;
    Q->annot = calloc((size_t)(p->n_tokens ? p->n_tokens : 1) * (size_t)Q->lay[0].n, sizeof *Q->annot);
    Q->params = calloc((size_t)(p->n_param_slots ? p->n_param_slots : 1), sizeof *Q->params);
    if (!Q->annot || !Q->params) return mj_err(R->err, R->errn, "out of memory");
    mj_program_default_params(p, Q->params);
    if (mj_flayout_bind(&Q->lay[0], p, mj_flayout_kind_name(o->layout), Q->annot, Q->params, R->err, R->errn))
        return -1;
    for (int i = 0; i < o->n_sets; i++) {
        char name[128];
        const char *eq = strchr(o->sets[i], '=');
        if (!eq || eq == o->sets[i] || (size_t)(eq - o->sets[i]) >= sizeof name)
            return mj_err(R->err, R->errn, "--set %s: expected NAME=VALUE", o->sets[i]);
        memcpy(name, o->sets[i], (size_t)(eq - o->sets[i]));
        name[eq - o->sets[i]] = 0;
        if (mj_program_set_param(p, Q->params, name, eq + 1, R->err, R->errn)) return -1;
    }
    return 0;
}

int mj_run_layout(const mj_tokenizer *tok, const mj_dataset *d, const mj_prompt *pr, const mj_run_opts *o,
                  int64_t qi, mj_flayout *L, char *err, size_t errn) {
    int idx[MAX_PARA];
    if (qi < 0 || qi >= d->n) return mj_err(err, errn, "no question %lld", (long long)qi);
    int n = select_paras(o, &d->q[qi], idx);
    if (n < 0) return mj_err(err, errn, "question %s has too few paraphrases", d->q[qi].id);
    const char *paras[MAX_PARA];
    for (int i = 0; i < n; i++) paras[i] = d->q[qi].paraphrases[idx[i]];
    mj_flayout_opts lo = {o->layout, o->cue, o->bos, o->sep, mj_run_encode, (void *)tok};
    return mj_flayout_build(L, &lo, pr, paras, n, err, errn);
}

/* Rows must fit the model's context with their answer. */
static int check_context(const runner *R, const qrows *Q) {
    int32_t max_pos = mj_engine_model(R->e)->cfg.max_pos;
    for (int i = 0; i < Q->n_rows; i++)
        if (max_pos > 0 && (int64_t)Q->lay[i].n + R->o->max_new_tokens > max_pos)
            return mj_err(R->err, R->errn, "question %s: a row of %d prompt tokens plus %d new ones exceeds the "
                          "model's context of %d positions", R->d->q[Q->qi].id, Q->lay[i].n,
                          R->o->max_new_tokens, max_pos);
    return 0;
}

static void row_specs(const runner *R, qrows *Q, mj_row_spec *rows) {
    for (int i = 0; i < Q->n_rows; i++) {
        mj_flayout *L = &Q->lay[i];
        bool mask = R->o->method == MJ_METHOD_MASK;
        rows[i] = (mj_row_spec){L->ids, L->n, mask ? Q->annot : NULL, mask ? Q->params : NULL, NULL,
                                mask ? L->prompt_len : L->n};
    }
}

/* The prefix cache from the first question's common tokens. */
static void prefix_setup(runner *R, const qrows *Q) {
    const mj_flayout *L = &Q->lay[0];
    if (R->o->no_prefix_cache) { snprintf(R->st->note, sizeof R->st->note, "prefix cache off (--no-prefix-cache)"); return; }
    if (L->common_len < 1 || L->common_len >= L->n) return;
    char perr[256];
    R->prefix = mj_prefix_init(R->e, L->ids, L->common_len, perr, sizeof perr);
    if (!R->prefix) snprintf(R->st->note, sizeof R->st->note, "no prefix cache: %s", perr);
    else R->st->prefix_len = L->common_len;
}

/* ---- one batch -------------------------------------------------------------------- */

static const char *stop_name(int s) {
    return s == MJ_STOP_EOS ? "eos" : s == MJ_STOP_STRING ? "newline" : s == MJ_STOP_LENGTH ? "length" : "none";
}

static int write_record(runner *R, const qrows *Q, const mj_fuse_out *fo, double seconds) {
    const mj_question *q = &R->d->q[Q->qi];
    char *paras[MAX_PARA];
    for (int i = 0; i < Q->n_idx; i++) paras[i] = q->paraphrases[Q->idx[i]];
    char *pred = mj_first_line(fo->text);
    if (!pred) return mj_err(R->err, R->errn, "out of memory");
    const char *layout = R->o->method == MJ_METHOD_MASK ? mj_flayout_kind_name(R->o->layout) : "separate";
    mj_record r = {q->id, R->d->name, R->st->label, (char *)layout, paras, Q->n_idx, q->answers,
                   q->n_answers, pred, fo->text, (char *)stop_name(fo->stop), fo->n_tokens,
                   Q->prompt_tokens, seconds};
    mj_buf extra;
    mj_buf_init(&extra);
    int rc = mj_buf_puts(&extra, "\"indices\": [");
    for (int i = 0; i < Q->n_idx && !rc; i++) rc = mj_buf_printf(&extra, "%s%d", i ? ", " : "", Q->idx[i]);
    rc = rc || mj_buf_puts(&extra, "]");
    if (fo->weights) {
        rc = rc || mj_buf_puts(&extra, ", \"weights\": [");
        for (int i = 0; i < fo->n_weights && !rc; i++) rc = mj_buf_printf(&extra, "%s%.5f", i ? ", " : "", fo->weights[i]);
        rc = rc || mj_buf_puts(&extra, "]");
    }
    rc = rc || mj_out_add(&R->out, &r, extra.p);
    mj_buf_free(&extra);
    free(pred);
    return rc ? mj_err(R->err, R->errn, "out of memory") : 0;
}

static mj_combine combine_of(mj_method_kind k) {
    switch (k) {
    case MJ_METHOD_ENS_AVG: return MJ_COMBINE_AVG;
    case MJ_METHOD_ENS_MAX: return MJ_COMBINE_MAX;
    case MJ_METHOD_W_AVG: return MJ_COMBINE_WAVG;
    case MJ_METHOD_W_MAX: return MJ_COMBINE_WMAX;
    default: return MJ_COMBINE_FIRST;
    }
}

/* Generate for the questions of Qs, falling back to no prefix cache when the
 * engine refuses it for this mask. */
static int generate(runner *R, qrows *Qs, int nq, mj_fuse_out *fo, int64_t *toks) {
    int n_rows = 0, sizes[4096];
    for (int i = 0; i < nq; i++) n_rows += Qs[i].n_rows;
    mj_row_spec *rows = malloc((size_t)n_rows * sizeof *rows);
    if (!rows) return mj_err(R->err, R->errn, "out of memory");
    int r = 0;
    for (int i = 0; i < nq; i++) {
        row_specs(R, &Qs[i], rows + r);
        r += Qs[i].n_rows;
        sizes[i] = Qs[i].n_rows;
    }
    mj_fuse_opts fopt = {combine_of(R->o->method), R->o->max_new_tokens, R->eos, R->n_eos, mj_run_decode,
                         (void *)R->tok, R->prefix, NULL, NULL};
    int rc = mj_fuse_generate(R->e, R->prog, &R->fns, nq, sizes, rows, &fopt, fo, toks, R->err, R->errn);
    if (rc && R->prefix) {
        snprintf(R->st->note, sizeof R->st->note, "prefix cache not used: %s", R->err);
        mj_prefix_free(R->prefix);
        R->prefix = NULL;
        R->st->prefix_len = 0;
        fopt.prefix = NULL;
        rc = mj_fuse_generate(R->e, R->prog, &R->fns, nq, sizes, rows, &fopt, fo, toks, R->err, R->errn);
    }
    free(rows);
    return rc;
}

static int run_batch(runner *R, const int64_t *qis, int nq) {
    double t0 = mj_now();
    qrows *Qs = calloc((size_t)nq, sizeof *Qs);
    mj_fuse_out *fo = calloc((size_t)nq, sizeof *fo);
    int rc = Qs && fo ? 0 : mj_err(R->err, R->errn, "out of memory");
    for (int i = 0; i < nq && !rc; i++) rc = qrows_build(R, &Qs[i], qis[i]) || check_context(R, &Qs[i]) ? -1 : 0;
    if (!rc && !R->prefix && R->st->answered == 0 && !R->st->note[0]) prefix_setup(R, &Qs[0]);
    int64_t toks = 0;
    if (!rc) rc = generate(R, Qs, nq, fo, &toks);
    double dt = mj_now() - t0;
    for (int i = 0; i < nq && !rc; i++) rc = write_record(R, &Qs[i], &fo[i], dt / nq);
    if (!rc) rc = mj_out_flush(&R->out, R->err, R->errn);
    if (!rc) {
        R->st->answered += nq;
        R->st->tokens += toks;
        R->st->prefix_cache_used = R->prefix != NULL;
    }
    for (int i = 0; Qs && i < nq; i++) qrows_free(&Qs[i]);
    for (int i = 0; fo && i < nq; i++) mj_fuse_out_free(&fo[i]);
    free(Qs);
    free(fo);
    return rc;
}

/* ---- the run -------------------------------------------------------------------- */

static int runner_open(runner *R) {
    const mj_run_opts *o = R->o;
    if (o->method == MJ_METHOD_MASK) {
        if (!o->prog || !o->fns) return mj_err(R->err, R->errn, "mask method without a compiled mask");
        R->prog = o->prog;
        R->fns = *o->fns;
    } else {
        static const char src[] = "# the plain prompt: causal attention\nmask = kv <= q\n";
        mj_diags dg;
        mj_diags_init(&dg);
        R->causal = mj_compile_string("<causal>", src, sizeof src - 1, NULL, &dg);
        if (R->causal) R->causal_jit = mj_jit_init(R->causal, &dg);
        mj_diags_free(&dg);
        if (!R->causal_jit) return mj_err(R->err, R->errn, "cannot compile the causal mask");
        R->prog = R->causal;
        R->fns = mj_jit_fns(R->causal_jit);
    }
    if (o->batch < 1 || o->batch > 4096 || o->max_new_tokens < 1)
        return mj_err(R->err, R->errn, "bad batch size or max new tokens");
    if (n_wanted(o) * o->batch > 4096) return mj_err(R->err, R->errn, "too many rows in a batch (batch x paraphrases > 4096)");
    R->n_eos = mj_generate_eos_ids(R->e, R->tok, R->eos);
    mj_results done;
    if (mj_out_open(&R->out, o->out_path, o->resume, R->st->label, &done, R->err, R->errn)) return -1;
    R->done = malloc((size_t)(done.n ? done.n : 1) * sizeof *R->done);
    if (!R->done) { mj_results_free(&done); return mj_err(R->err, R->errn, "out of memory"); }
    for (int64_t i = 0; i < done.n; i++) {
        R->done[i] = done.r[i].id;
        done.r[i].id = NULL;
    }
    R->n_done = done.n;
    mj_results_free(&done);
    qsort(R->done, (size_t)R->n_done, sizeof *R->done, cmp_strp);
    return 0;
}

static void runner_close(runner *R) {
    mj_out_close(&R->out);
    for (int64_t i = 0; i < R->n_done; i++) free(R->done[i]);
    free(R->done);
    mj_prefix_free(R->prefix);
    mj_jit_free(R->causal_jit);
    mj_program_free(R->causal);
}

static int export_feather(runner *R) {
    mj_results all;
    if (mj_results_read(&all, R->o->out_path, false, R->err, R->errn)) return -1;
    int rc = mj_results_write_feather(&all, R->o->feather_path, R->err, R->errn);
    mj_results_free(&all);
    return rc;
}

int mj_run(mj_engine *e, const mj_tokenizer *tok, const mj_dataset *d, const mj_prompt *pr,
           const mj_run_opts *o, mj_run_stats *st, char *err, size_t errn) {
    memset(st, 0, sizeof *st);
    mj_run_label(o, st->label, sizeof st->label);
    runner R = {.e = e, .tok = tok, .d = d, .pr = pr, .o = o, .st = st, .err = err, .errn = errn};
    R.out.fd = -1;
    int rc = runner_open(&R);
    int64_t scope = o->limit > 0 && o->limit < d->n ? o->limit : d->n;
    int64_t *todo = rc ? NULL : malloc((size_t)(scope ? scope : 1) * sizeof *todo);
    int64_t n_todo = 0;
    if (!rc && !todo) rc = mj_err(err, errn, "out of memory");
    for (int64_t i = 0; !rc && i < scope; i++) {
        int idx[MAX_PARA];
        if (select_paras(o, &d->q[i], idx) < 0) { st->too_few_paraphrases++; continue; }
        st->in_scope++;
        if (is_done(&R, d->q[i].id)) st->resumed++;
        else todo[n_todo++] = i;
    }
    double t0 = mj_now();
    for (int64_t i = 0; !rc && i < n_todo; i += o->batch) {
        int nq = (int)(n_todo - i < o->batch ? n_todo - i : o->batch);
        rc = run_batch(&R, todo + i, nq);
        st->seconds = mj_now() - t0;
        if (!rc && o->progress) {
            mj_run_progress p = {st->resumed + st->answered, st->in_scope, st->answered, st->tokens, st->seconds};
            o->progress(o->progress_ctx, &p);
        }
    }
    free(todo);
    if (!rc && o->feather_path) rc = export_feather(&R);
    runner_close(&R);
    return rc;
}
