/* fuse.c — see fuse.h. */
#include "fuse.h"

#include <ctype.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fu_util.h"

static int32_t argmax(const float *x, int32_t n) {
    int32_t best = 0;
    for (int32_t i = 1; i < n; i++)
        if (x[i] > x[best] || (isnan(x[best]) && !isnan(x[i]))) best = i;
    return best;
}

float mj_max_prob(const float *logits, int32_t vocab) {
    float m = logits[argmax(logits, vocab)];
    double z = 0;
    for (int32_t i = 0; i < vocab; i++) z += exp((double)(logits[i] - m));
    return z > 0 ? (float)(1.0 / z) : 0.0f;
}

/* softmax of one row into out (float, as torch does in float32). */
static void softmax(const float *x, int32_t n, float *out) {
    float m = x[argmax(x, n)];
    double z = 0;
    for (int32_t i = 0; i < n; i++) z += exp((double)(x[i] - m));
    for (int32_t i = 0; i < n; i++) out[i] = (float)(exp((double)(x[i] - m)) / z);
}

int32_t mj_combine_pick(mj_combine c, const float *logits, int n, int32_t vocab, const float *w,
                        float *scratch) {
    if (n <= 1 || c == MJ_COMBINE_FIRST) return argmax(logits, vocab);
    if (c == MJ_COMBINE_WMAX) {
        int best = 0;
        for (int r = 1; w && r < n; r++)
            if (w[r] > w[best]) best = r;
        return argmax(logits + (size_t)best * (size_t)vocab, vocab);
    }
    if (c == MJ_COMBINE_MAX) {
        float *p = malloc((size_t)vocab * sizeof *p);
        if (!p) return argmax(logits, vocab);
        for (int32_t i = 0; i < vocab; i++) scratch[i] = 0.0f;
        for (int r = 0; r < n; r++) {
            softmax(logits + (size_t)r * (size_t)vocab, vocab, p);
            for (int32_t i = 0; i < vocab; i++)
                if (p[i] > scratch[i]) scratch[i] = p[i];
        }
        free(p);
        return argmax(scratch, vocab);
    }
    /* AVG: the mean of raw logits (sum in row order, then divide, as torch.mean
     * would); WAVG: the weighted sum. */
    for (int32_t i = 0; i < vocab; i++) {
        float s = 0.0f;
        for (int r = 0; r < n; r++) {
            float x = logits[(size_t)r * (size_t)vocab + (size_t)i];
            s += c == MJ_COMBINE_WAVG && w ? w[r] * x : x;
        }
        scratch[i] = c == MJ_COMBINE_AVG ? s / (float)n : s;
    }
    return argmax(scratch, vocab);
}

void mj_fuse_out_free(mj_fuse_out *o) {
    free(o->tokens);
    free(o->text);
    free(o->weights);
    memset(o, 0, sizeof *o);
}

char *mj_first_line(const char *g) {
    while (*g && isspace((unsigned char)*g)) g++;
    size_t n = strcspn(g, "\n");
    while (n && isspace((unsigned char)g[n - 1])) n--;
    return strndup(g, n);
}

/* ---- the loop ------------------------------------------------------------------ */

typedef struct group_state {
    int first, size;      /* rows [first, first + size) */
    bool done;
    mj_rng rng;
} group_state;

static bool is_eos(const mj_fuse_opts *o, int32_t t) {
    for (int i = 0; i < o->n_eos; i++)
        if (o->eos[i] == t) return true;
    return false;
}

/* One decision for group g from the current logits: picks a token, updates
 * out[g]; returns the token to append, or -1 when the group is finished. */
static int32_t group_step(const mj_fuse_opts *o, group_state *gs, mj_fuse_out *out,
                          const float *logits, int32_t vocab, float *scratch, int *oom) {
    const float *lg = logits + (size_t)gs->first * (size_t)vocab;
    int32_t t;
    if (o->combine == MJ_COMBINE_FIRST && o->sampling && o->sampling->temperature > 0)
        t = mj_sample(lg, vocab, o->sampling, &gs->rng);
    else t = mj_combine_pick(o->combine, lg, gs->size, vocab, out->weights, scratch);
    if (is_eos(o, t)) { out->stop = MJ_STOP_EOS; return -1; }
    out->tokens[out->n_tokens++] = t;
    free(out->text);
    out->text = o->decode(o->decode_ctx, out->tokens, (size_t)out->n_tokens);
    if (!out->text) { *oom = 1; return -1; }
    const char *s = out->text;
    while (*s && isspace((unsigned char)*s)) s++;
    if (strchr(s, '\n')) { out->stop = MJ_STOP_STRING; return -1; }
    if (out->n_tokens >= o->max_new_tokens) { out->stop = MJ_STOP_LENGTH; return -1; }
    return t;
}

/* Frozen confidence weights from the first step's logits. */
static int set_weights(group_state *gs, mj_fuse_out *out, const float *logits, int32_t vocab) {
    out->weights = malloc((size_t)gs->size * sizeof *out->weights);
    if (!out->weights) return -1;
    out->n_weights = gs->size;
    double sum = 0;
    for (int r = 0; r < gs->size; r++) {
        out->weights[r] = mj_max_prob(logits + (size_t)(gs->first + r) * (size_t)vocab, vocab);
        sum += out->weights[r];
    }
    for (int r = 0; r < gs->size; r++) out->weights[r] = sum > 0 ? (float)(out->weights[r] / sum) : 1.0f / (float)gs->size;
    return 0;
}

static int setup(const mj_fuse_opts *o, int n_groups, const int *group_size, int n_rows,
                 group_state *gs, mj_fuse_out *out) {
    int row = 0;
    for (int g = 0; g < n_groups; g++) {
        gs[g].first = row;
        gs[g].size = group_size[g];
        row += group_size[g];
        if (o->sampling) mj_rng_seed(&gs[g].rng, o->seeds ? o->seeds[g] : o->sampling->seed);
        out[g].tokens = malloc((size_t)(o->max_new_tokens > 0 ? o->max_new_tokens : 1) * sizeof *out[g].tokens);
        if (!out[g].tokens) return -1;
    }
    return row == n_rows ? 0 : -1;
}

int mj_fuse_generate(mj_engine *e, const mj_program *prog, const mj_mask_fns *fns, int n_groups,
                     const int *group_size, const mj_row_spec *rows, const mj_fuse_opts *o,
                     mj_fuse_out *out, int64_t *tokens_done, char *err, size_t errn) {
    memset(out, 0, (size_t)n_groups * sizeof *out);
    int n_rows = 0;
    for (int g = 0; g < n_groups; g++) n_rows += group_size[g];
    if (n_groups < 1 || o->max_new_tokens < 1 || !o->decode) return mj_err(err, errn, "fuse: bad arguments");
    int32_t vocab = mj_engine_model(e)->cfg.vocab;
    group_state *gs = calloc((size_t)n_groups, sizeof *gs);
    float *logits = malloc((size_t)n_rows * (size_t)vocab * sizeof *logits);
    float *scratch = malloc((size_t)vocab * sizeof *scratch);
    int32_t *next = malloc((size_t)n_rows * sizeof *next);
    mj_seqs *s = NULL;
    int rc = 0, oom = 0;
    if (!gs || !logits || !scratch || !next || setup(o, n_groups, group_size, n_rows, gs, out))
        rc = mj_err(err, errn, "out of memory");
    if (!rc) {
        s = mj_seqs_init_prefix(e, o->prefix, prog, fns, n_rows, rows, o->max_new_tokens, err, errn);
        if (!s) rc = -1;
    }
    int64_t toks = 0;
    for (int r = 0; r < n_rows; r++) toks += rows[r].n_tokens - (o->prefix ? mj_prefix_len(o->prefix) : 0);
    if (!rc && mj_seqs_prefill(s, logits)) rc = mj_err(err, errn, "prefill: %s", mj_seqs_error(s));
    for (int g = 0; !rc && (o->combine == MJ_COMBINE_WAVG || o->combine == MJ_COMBINE_WMAX) && g < n_groups; g++)
        if (set_weights(&gs[g], &out[g], logits, vocab)) rc = mj_err(err, errn, "out of memory");
    for (bool any = true; !rc && any;) {
        any = false;
        for (int g = 0; g < n_groups; g++) {
            int32_t t = -1;
            if (!gs[g].done) t = group_step(o, &gs[g], &out[g], logits, vocab, scratch, &oom);
            if (t < 0) gs[g].done = true;
            else any = true;
            for (int r = 0; r < gs[g].size; r++) next[gs[g].first + r] = t;
            if (t >= 0) toks += gs[g].size;
        }
        if (oom) rc = mj_err(err, errn, "out of memory (decode)");
        else if (any && mj_seqs_append(s, next, logits)) rc = mj_err(err, errn, "decode: %s", mj_seqs_error(s));
    }
    for (int g = 0; !rc && g < n_groups; g++)
        if (!out[g].text && !(out[g].text = strdup(""))) rc = mj_err(err, errn, "out of memory");
    if (rc)
        for (int g = 0; g < n_groups; g++) mj_fuse_out_free(&out[g]);
    if (tokens_done) *tokens_done = toks;
    mj_seqs_free(s);
    free(gs);
    free(logits);
    free(scratch);
    free(next);
    return rc;
}
