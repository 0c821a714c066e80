/* engine.c — the device-independent front of the engine (engine.h): device
 * selection, rows of a batch (tokens, annotations with defaults for generated
 * tokens, params, heads arrays, mj_env, block summaries), rotary positions
 * from the mask's position program, prefill/append bookkeeping, and the
 * prefix-cache contract check.  Devices do the arithmetic through the
 * mj_engine_ops table (engine_impl.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "errbuf.h"
#include "blocks.h"
#include "engine_impl.h"
#include "switches.h"

#if defined(__has_include)
#if __has_include("cuda_engine.h")
#include "cuda_engine.h"
#define MJ_HAVE_CUDA_ENGINE 1
#endif
#endif

int mj_seqs_fail(mj_seqs *s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->err, sizeof s->err, fmt, ap);
    va_end(ap);
    return -1;
}

int mj_device_parse(const char *s) {
    if (!s) return -1;
    if (!strcmp(s, "cpu")) return MJ_DEVICE_CPU;
    if (!strcmp(s, "cuda") || !strcmp(s, "gpu")) return MJ_DEVICE_CUDA;
    if (!strcmp(s, "auto")) return MJ_DEVICE_AUTO;
    return -1;
}

/* ---- engine ------------------------------------------------------------------ */

mj_engine *mj_engine_init(const mj_model *m, mj_device dev, int threads, char *err, size_t errn) {
    if (!m || !m->layers || !m->embed) {
        mj_err(err, errn, "engine: no model loaded");
        return NULL;
    }
    if (dev != MJ_DEVICE_CPU && dev != MJ_DEVICE_CUDA && dev != MJ_DEVICE_AUTO) {
        mj_err(err, errn, "engine: unknown device %d", (int)dev);
        return NULL;
    }
    mj_engine *e = calloc(1, sizeof *e);
    if (!e) { mj_err(err, errn, "engine: out of memory"); return NULL; }
    e->model = m;
    if (threads <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (int)n : 1;
    }
    e->threads = threads;
    int rc = -1;
    if (dev == MJ_DEVICE_CUDA || dev == MJ_DEVICE_AUTO) {
#ifdef MJ_HAVE_CUDA_ENGINE
        e->dev = MJ_DEVICE_CUDA;
        rc = mj_cuda_engine_open(e, err, errn);
#else
        mj_err(err, errn, "CUDA engine not built yet (use --device cpu)");
#endif
        if (rc != 0 && dev == MJ_DEVICE_CUDA) { free(e); return NULL; }
    }
    if (rc != 0) {
        e->dev = MJ_DEVICE_CPU;
        rc = mj_cpu_engine_open(e, err, errn);
    }
    if (rc != 0) { free(e); return NULL; }
    return e;
}

void mj_engine_free(mj_engine *e) {
    if (!e) return;
    if (e->ops && e->ops->engine_free) e->ops->engine_free(e);
    free(e);
}

const mj_model *mj_engine_model(const mj_engine *e) { return e ? e->model : NULL; }

/* ---- rows ------------------------------------------------------------------------ */

/* Rotary positions of tokens [from, to) of row r (env.seq_len already set). */
static void row_positions(mj_seqs *s, mj_row *row, int32_t from, int32_t to) {
    for (int32_t i = from; i < to; i++)
        row->pos[i] = s->fns->position ? s->fns->position(s->fns->ctx, &row->env, i) : i;
}

/* Copy spec into row (index r); fills defaults.  0 or -1 with s->err set. */
static int row_init(mj_seqs *s, int r, const mj_row_spec *spec) {
    const mj_program *p = s->prog;
    const mj_model_config *cfg = &s->e->model->cfg;
    mj_row *row = &s->rows[r];
    if (!spec->tokens || spec->n_tokens < 1)
        return mj_seqs_fail(s, "row %d: empty prompt", r);
    if ((int64_t)spec->n_tokens + s->max_new > INT32_MAX / 2)
        return mj_seqs_fail(s, "row %d: prompt plus max_new_tokens is too long", r);
    for (int32_t i = 0; i < spec->n_tokens; i++)
        if (spec->tokens[i] < 0 || spec->tokens[i] >= cfg->vocab)
            return mj_seqs_fail(s, "row %d: token %d at %d is outside the vocabulary (%d)", r,
                                spec->tokens[i], i, cfg->vocab);
    row->n_prompt = row->len = spec->n_tokens;
    row->cap = spec->n_tokens + s->max_new;
    size_t cap = (size_t)row->cap;
    row->tokens = malloc(cap * sizeof *row->tokens);
    row->pos = calloc(cap, sizeof *row->pos);
    row->annot = calloc(cap * (size_t)(p->n_tokens > 0 ? p->n_tokens : 1), sizeof *row->annot);
    row->params = calloc((size_t)(p->n_param_slots > 0 ? p->n_param_slots : 1), sizeof *row->params);
    size_t nh = (size_t)p->n_heads * (size_t)cfg->n_heads;
    row->heads = calloc(nh ? nh : 1, sizeof *row->heads);
    if (!row->tokens || !row->pos || !row->annot || !row->params || !row->heads)
        return mj_seqs_fail(s, "out of memory");
    memcpy(row->tokens, spec->tokens, (size_t)spec->n_tokens * sizeof *row->tokens);
    for (int32_t a = 0; a < p->n_tokens; a++) {
        mj_value *dst = row->annot + (size_t)a * cap;
        for (size_t i = 0; i < cap; i++) dst[i] = p->tokens[a].def;
        if (spec->annot)
            memcpy(dst, spec->annot + (size_t)a * (size_t)spec->n_tokens,
                   (size_t)spec->n_tokens * sizeof *dst);
    }
    if (spec->params) memcpy(row->params, spec->params, (size_t)p->n_param_slots * sizeof *row->params);
    else mj_program_default_params(p, row->params);
    if (spec->heads && nh) memcpy(row->heads, spec->heads, nh * sizeof *row->heads);
    mj_env *env = &row->env;
    env->n_heads = cfg->n_heads;
    env->prompt_len = spec->prompt_len > 0 ? spec->prompt_len : spec->n_tokens;
    env->seq_len = row->len;
    env->b = r;
    env->tokens_len = env->tokens_stride = row->cap;
    env->params = row->params;
    env->tokens = row->annot;
    env->heads = row->heads;
    if (mj_summary_build(p, env, MJ_ATTN_BLOCK, &row->sum) != 0)
        return mj_seqs_fail(s, "row %d: cannot build the annotation summaries", r);
    row_positions(s, row, 0, row->len);
    return 0;
}

static void row_free(mj_row *row) {
    free(row->tokens);
    free(row->pos);
    free(row->annot);
    free(row->params);
    free(row->heads);
    if (row->sum.tok_min || row->sum.tok_max) mj_summary_free(&row->sum);
}

/* ---- prefix contract -------------------------------------------------------------- */

/* Element check of one block of the prefix: mask == causal, score identity. */
static int prefix_check_block(mj_seqs *s, mj_row *row, int32_t q0, int32_t q1, int32_t k0,
                              int32_t k1, int32_t h0, int32_t h1, bool check_mask) {
    const mj_mask_fns *f = s->fns;
    for (int32_t h = h0; h <= h1; h++)
        for (int32_t q = q0; q <= q1; q++)
            for (int32_t kv = k0; kv <= k1; kv++) {
                bool m = f->mask(f->ctx, &row->env, q, kv, h);
                if (check_mask && m != (kv <= q)) return -1;
                if (f->score && kv <= q &&
                    (f->score(f->ctx, &row->env, q, kv, h, 0.5f) != 0.5f ||
                     f->score(f->ctx, &row->env, q, kv, h, -2.0f) != -2.0f))
                    return -1;
            }
    return 0;
}

/* Check the prefix contract of engine.h for row r (prefix of n tokens). */
static int prefix_check_row(mj_seqs *s, int r, const mj_prefix *pre) {
    mj_row *row = &s->rows[r];
    int32_t n = pre->n, B = MJ_ATTN_BLOCK;
    if (row->len < n || memcmp(row->tokens, pre->tokens, (size_t)n * sizeof *row->tokens))
        return mj_seqs_fail(s, "row %d does not start with the prefix's %d tokens", r, n);
    for (int32_t q = 0; q < n; q++)
        if (row->pos[q] != q)
            return mj_seqs_fail(s, "row %d: the position program gives %d to prefix token %d "
                                   "(a prefix cache needs positions 0..%d)", r, row->pos[q], q, n - 1);
    int32_t H = row->env.n_heads;
    int32_t hh = s->mask_uses_h ? H - 1 : 0;
    for (int32_t q0 = 0; q0 < n; q0 += B)
        for (int32_t k0 = 0; k0 < n; k0 += B) {
            int32_t q1 = q0 + B < n ? q0 + B - 1 : n - 1, k1 = k0 + B < n ? k0 + B - 1 : n - 1;
            mj_region rg = {q0, q1, k0, k1, 0, H - 1};
            int want = k1 <= q0 ? MJ_BLOCK_FULL : k0 > q1 ? MJ_BLOCK_EMPTY : MJ_BLOCK_PARTIAL;
            int got = s->fns->classify(s->fns->ctx, &row->env, &row->sum, &rg);
            bool mask_ok = want != MJ_BLOCK_PARTIAL && got == want;
            if (mask_ok && (!s->fns->score || want == MJ_BLOCK_EMPTY)) continue;
            if (prefix_check_block(s, row, q0, q1, k0, k1, 0, hh, !mask_ok) != 0)
                return mj_seqs_fail(s, "row %d: the mask is not plain causal (or the score not "
                                       "the identity) inside the %d-token prefix, so the prefix "
                                       "cache cannot be used", r, n);
        }
    return 0;
}

/* ---- seqs ------------------------------------------------------------------------- */

/* Run-ahead greedy decoding unless MJ_RUN_AHEAD=0. */
static bool env_run_ahead(void) { return mj_switch_flag("MJ_RUN_AHEAD", true); }

mj_seqs *mj_seqs_init_prefix(mj_engine *e, const mj_prefix *pre, const mj_program *prog,
                             const mj_mask_fns *fns, int n_rows, const mj_row_spec *rows,
                             int32_t max_new_tokens, char *err, size_t errn) {
    if (!e || !prog || !fns || !fns->mask || !fns->classify || n_rows < 1 || !rows) {
        mj_err(err, errn, "seqs: bad arguments (engine, program, mask functions, rows)");
        return NULL;
    }
    if (pre && pre->e != e) {
        mj_err(err, errn, "seqs: the prefix cache belongs to another engine");
        return NULL;
    }
    mj_seqs *s = calloc(1, sizeof *s);
    if (!s) { mj_err(err, errn, "out of memory"); return NULL; }
    s->e = e;
    s->prog = prog;
    s->fns = fns;
    s->n_rows = n_rows;
    s->max_new = max_new_tokens > 0 ? max_new_tokens : 0;
    s->mask_uses_h = prog->uses_builtin[MJ_B_H];
    s->prefix = pre;
    s->rows = calloc((size_t)n_rows, sizeof *s->rows);
    int rc = s->rows ? 0 : mj_seqs_fail(s, "out of memory");
    for (int r = 0; rc == 0 && r < n_rows; r++) rc = row_init(s, r, &rows[r]);
    for (int r = 0; rc == 0 && pre && r < n_rows; r++) rc = prefix_check_row(s, r, pre);
    if (rc == 0) rc = e->ops->seqs_open(s, s->err, sizeof s->err);
    if (rc == 0 && e->ops->seqs_launch_greedy && e->ops->seqs_finish_greedy && env_run_ahead()) {
        s->ahead = calloc((size_t)n_rows, sizeof *s->ahead);
        s->stepped = calloc((size_t)n_rows, sizeof *s->stepped);
        s->picks = calloc((size_t)n_rows, sizeof *s->picks);
        if (!s->ahead || !s->stepped || !s->picks) rc = mj_seqs_fail(s, "out of memory");
    }
    if (rc == 0 && pre) {
        if (!e->ops->seqs_load_prefix) rc = mj_seqs_fail(s, "this device has no prefix cache");
        else rc = e->ops->seqs_load_prefix(s, pre, s->err, sizeof s->err);
    }
    if (rc != 0) {
        mj_err(err, errn, "%s", s->err);
        mj_seqs_free(s);
        return NULL;
    }
    return s;
}

mj_seqs *mj_seqs_init(mj_engine *e, const mj_program *prog, const mj_mask_fns *fns, int n_rows,
                      const mj_row_spec *rows, int32_t max_new_tokens, char *err, size_t errn) {
    return mj_seqs_init_prefix(e, NULL, prog, fns, n_rows, rows, max_new_tokens, err, errn);
}

void mj_seqs_free(mj_seqs *s) {
    if (!s) return;
    if (s->impl && s->e->ops->seqs_close) s->e->ops->seqs_close(s);   /* waits for launched steps */
    for (int r = 0; s->rows && r < s->n_rows; r++) row_free(&s->rows[r]);
    free(s->rows);
    free(s->ahead);
    free(s->stepped);
    free(s->picks);
    free(s->greedy_logits);
    free(s);
}

int mj_seqs_rows(const mj_seqs *s) { return s ? s->n_rows : 0; }

int32_t mj_seqs_len(const mj_seqs *s, int row) {
    if (!s || row < 0 || row >= s->n_rows) return -1;
    return s->rows[row].len - (s->ahead && s->ahead[row] ? 1 : 0);
}

const char *mj_seqs_error(const mj_seqs *s) { return s ? s->err : "no seqs"; }

int mj_seqs_prefill(mj_seqs *s, float *logits) {
    if (!s || !logits) return -1;
    if (s->prefilled) return mj_seqs_fail(s, "prefill: already done");
    s->err[0] = 0;
    int32_t vocab = s->e->model->cfg.vocab;
    for (int r = 0; r < s->n_rows; r++) {
        mj_row *row = &s->rows[r];
        row->env.seq_len = row->len;
        if (row->done == row->len && s->prefix)   /* the row is the prefix itself */
            memcpy(logits + (size_t)r * (size_t)vocab, s->prefix->logits,
                   (size_t)vocab * sizeof *logits);
    }
    if (s->e->ops->seqs_step(s, logits) != 0) return -1;
    s->prefilled = true;
    return 0;
}

/* Validate next[] and append it to the rows (positions, seq_len).  0 or -1. */
static int append_tokens(mj_seqs *s, const int32_t *next) {
    if (!s->prefilled) return mj_seqs_fail(s, "append: prefill first");
    s->err[0] = 0;
    int32_t vocab = s->e->model->cfg.vocab;
    for (int r = 0; r < s->n_rows; r++) {
        if (next[r] < 0) continue;
        mj_row *row = &s->rows[r];
        if (next[r] >= vocab)
            return mj_seqs_fail(s, "append: token %d of row %d is outside the vocabulary", next[r], r);
        if (row->len >= row->cap)
            return mj_seqs_fail(s, "append: row %d is full (max_new_tokens %d reached)", r, s->max_new);
    }
    for (int r = 0; r < s->n_rows; r++) {
        if (next[r] < 0) continue;
        mj_row *row = &s->rows[r];
        row->tokens[row->len++] = next[r];
        row->env.seq_len = row->len;
        row_positions(s, row, row->len - 1, row->len);
    }
    return 0;
}

int mj_seqs_append(mj_seqs *s, const int32_t *next, float *logits) {
    if (!s || !next || !logits) return -1;
    if (mj_seqs_settle(s) != 0 || append_tokens(s, next) != 0) return -1;
    return s->e->ops->seqs_step(s, logits);
}

/* ---- run-ahead greedy decoding ------------------------------------------------------
 * While the caller looks at step k's picks, step k+1 already runs on the
 * device: mj_seqs_append_greedy launches the step for next[], then one for
 * the same rows' own greedy picks (placeholder tokens, filled on the
 * device), and only then waits for the first.  The next call finds that
 * second step running: if next[] holds exactly those picks, it stands (rows
 * that stop, next[r] < 0, are dropped from it: their extra K/V lies past
 * their length, never read); otherwise it is drained and undone and the call
 * steps as usual.  It hides the host's share of a decode step (between two
 * steps the GPU no longer waits for the host). */

static void ahead_undo_row(mj_seqs *s, int r) {
    mj_row *row = &s->rows[r];
    row->len--;
    if (row->done > row->len) row->done = row->len;
    row->env.seq_len = row->len;
    s->ahead[r] = false;
}

/* Every row holding a placeholder back to the caller's tokens. */
static void ahead_undo_all(mj_seqs *s) {
    for (int r = 0; r < s->n_rows; r++)
        if (s->ahead[r]) ahead_undo_row(s, r);
    s->n_ahead = 0;
}

int mj_seqs_settle(mj_seqs *s) {
    if (!s || !s->n_ahead) return 0;
    int rc = s->e->ops->seqs_finish_greedy(s, s->picks);   /* drain: its picks are not wanted */
    ahead_undo_all(s);
    return rc;
}

/* A placeholder on every stepped row, and their step launched.  0, 1 (not
 * launched: a row is full or the device declined; rows unchanged), -1. */
static int ahead_launch(mj_seqs *s) {
    int n = 0;
    for (int r = 0; r < s->n_rows; r++) {
        if (!s->stepped[r]) continue;
        if (s->rows[r].len >= s->rows[r].cap) return 1;
        n++;
    }
    if (n == 0) return 1;
    for (int r = 0; r < s->n_rows; r++) {
        if (!s->stepped[r]) continue;
        mj_row *row = &s->rows[r];
        row->tokens[row->len++] = MJ_TOKEN_AHEAD;
        row->env.seq_len = row->len;
        row_positions(s, row, row->len - 1, row->len);
        s->ahead[r] = true;
    }
    s->n_ahead = n;
    int st = s->e->ops->seqs_launch_greedy(s);
    if (st != 0) ahead_undo_all(s);
    return st;
}

/* The step of the stepped rows is launched: launch the next one ahead, then
 * wait for this one and give its picks (stepped rows only).  On an error no
 * step is left launched. */
static int ahead_continue(mj_seqs *s, int32_t *ids) {
    if (ahead_launch(s) < 0) {
        s->e->ops->seqs_finish_greedy(s, s->picks);   /* drain the caller's step; the error stays */
        return -1;
    }
    if (s->e->ops->seqs_finish_greedy(s, s->picks) != 0) return -1;
    for (int r = 0; r < s->n_rows; r++)
        if (s->stepped[r]) ids[r] = s->picks[r];
    return 0;
}

/* next[] against the step launched ahead: 1 when it stands (placeholders
 * become next[r], rows with next[r] < 0 are undone), 0 when it was drained
 * and undone (a row's token differs from its pick, or a row not in it asks
 * for a step), -1 on error. */
static int ahead_settle(mj_seqs *s, const int32_t *next) {
    bool stands = true, any = false;
    for (int r = 0; r < s->n_rows; r++) {
        if (next[r] < 0) continue;
        any = true;
        if (!s->ahead[r] || next[r] != s->picks[r]) stands = false;
    }
    if (!stands || !any) return mj_seqs_settle(s) != 0 ? -1 : 0;
    for (int r = 0; r < s->n_rows; r++) {
        s->stepped[r] = s->ahead[r] && next[r] >= 0;
        if (s->stepped[r]) {
            s->rows[r].tokens[s->rows[r].len - 1] = next[r];
            s->ahead[r] = false;
        } else if (s->ahead[r]) {
            ahead_undo_row(s, r);
        }
    }
    s->n_ahead = 0;
    return 1;
}

int mj_seqs_append_greedy(mj_seqs *s, const int32_t *next, int32_t *ids) {
    if (!s || !next || !ids) return -1;
    if (s->n_ahead) {
        int st = ahead_settle(s, next);
        if (st < 0) return -1;
        if (st == 1) return ahead_continue(s, ids);
    }
    if (append_tokens(s, next) != 0) return -1;
    if (s->ahead) {   /* run-ahead on */
        for (int r = 0; r < s->n_rows; r++) s->stepped[r] = next[r] >= 0;
        int st = s->e->ops->seqs_launch_greedy(s);
        if (st < 0) return -1;
        if (st == 0) return ahead_continue(s, ids);
    }
    if (s->e->ops->seqs_step_greedy) return s->e->ops->seqs_step_greedy(s, ids);
    size_t vocab = (size_t)s->e->model->cfg.vocab;
    if (!s->greedy_logits && !(s->greedy_logits = malloc((size_t)s->n_rows * vocab * sizeof(float))))
        return mj_seqs_fail(s, "append: out of memory");
    if (s->e->ops->seqs_step(s, s->greedy_logits) != 0) return -1;
    for (int r = 0; r < s->n_rows; r++)
        if (next[r] >= 0) ids[r] = mj_sample(s->greedy_logits + (size_t)r * vocab, (int32_t)vocab, NULL, NULL);
    return 0;
}

/* ---- prefix caches -------------------------------------------------------------------- */

mj_prefix *mj_prefix_init(mj_engine *e, const int32_t *tokens, int32_t n_tokens, char *err,
                          size_t errn) {
    if (!e || !tokens || n_tokens < 1) {
        mj_err(err, errn, "prefix: bad arguments (need at least one token)");
        return NULL;
    }
    if (!e->ops->prefix_open) {
        mj_err(err, errn, "prefix: the %s engine has no prefix cache", e->ops->name);
        return NULL;
    }
    int32_t vocab = e->model->cfg.vocab;
    for (int32_t i = 0; i < n_tokens; i++)
        if (tokens[i] < 0 || tokens[i] >= vocab) {
            mj_err(err, errn, "prefix: token %d at %d is outside the vocabulary", tokens[i], i);
            return NULL;
        }
    mj_prefix *p = calloc(1, sizeof *p);
    if (!p) { mj_err(err, errn, "out of memory"); return NULL; }
    p->e = e;
    p->n = n_tokens;
    p->tokens = malloc((size_t)n_tokens * sizeof *p->tokens);
    p->logits = malloc((size_t)vocab * sizeof *p->logits);
    if (!p->tokens || !p->logits) {
        mj_err(err, errn, "out of memory");
        mj_prefix_free(p);
        return NULL;
    }
    memcpy(p->tokens, tokens, (size_t)n_tokens * sizeof *tokens);
    if (e->ops->prefix_open(p, err, errn) != 0) { mj_prefix_free(p); return NULL; }
    return p;
}

void mj_prefix_free(mj_prefix *p) {
    if (!p) return;
    if (p->impl && p->e->ops->prefix_close) p->e->ops->prefix_close(p);
    free(p->tokens);
    free(p->logits);
    free(p);
}

int32_t mj_prefix_len(const mj_prefix *p) { return p ? p->n : 0; }
