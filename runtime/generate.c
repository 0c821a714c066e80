/* generate.c — generation on top of the engine: prefill, then sample and
 * append token by token, with stop conditions per row (never batch-wide):
 * an EOS id (tokenizer's and model's), a stop string found in the decoded
 * text generated so far (whatever token carries it, merged tokens such as
 * "\n\n" included; the text is cut before the earliest match), or
 * max_new_tokens.  A finished row is skipped (next[r] = -1).
 *
 * Row r samples from its own generator, seeded from (seed, r), so a row's
 * draws do not depend on when other rows stop. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "tokenizer.h"

typedef struct gen_row {
    int32_t *ids;
    int32_t n;
    bool finished;
    int reason;
    size_t cut;               /* text length to keep when stopped by a string */
    mj_rng rng;
} gen_row;

static void gen_err(char *err, size_t errn, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void gen_err(char *err, size_t errn, const char *fmt, ...) {
    if (!err || !errn) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errn, fmt, ap);
    va_end(ap);
}

void mj_gen_result_free(mj_gen_result *r) {
    if (!r) return;
    free(r->tokens);
    free(r->text);
    memset(r, 0, sizeof *r);
}

int mj_generate_eos_ids(const mj_engine *e, const mj_tokenizer *tok, int32_t *out) {
    int n = 0, nt = 0;
    const int32_t *te = tok ? mj_tokenizer_eos(tok, &nt) : NULL;
    const mj_model_config *c = &mj_engine_model(e)->cfg;
    for (int i = 0; i < nt + c->n_eos && n < 16; i++) {
        int32_t id = i < nt ? te[i] : c->eos_ids[i - nt];
        bool dup = id < 0;
        for (int j = 0; j < n && !dup; j++) dup = out[j] == id;
        if (!dup) out[n++] = id;
    }
    return n;
}

/* Earliest occurrence of any stop string in text; SIZE_MAX if none. */
static size_t find_stop(const char *text, const mj_stop *stop) {
    size_t best = SIZE_MAX;
    for (int i = 0; stop && i < stop->n_strings; i++) {
        if (!stop->strings[i] || !stop->strings[i][0]) continue;
        const char *p = strstr(text, stop->strings[i]);
        if (p && (size_t)(p - text) < best) best = (size_t)(p - text);
    }
    return best;
}

/* Take token id for row g; decide whether it stops the row.  Returns -1 on
 * out of memory. */
static int gen_take(gen_row *g, int32_t id, const int32_t *eos, int n_eos,
                    const mj_tokenizer *tok, const mj_stop *stop, int32_t max_new) {
    for (int i = 0; stop->stop_on_eos && i < n_eos; i++)
        if (id == eos[i]) {
            g->finished = true;
            g->reason = MJ_STOP_EOS;
            return 0;
        }
    g->ids[g->n++] = id;
    if (tok && stop->n_strings > 0) {
        char *text = mj_tokenizer_decode(tok, g->ids, (size_t)g->n, false);
        if (!text) return -1;
        size_t at = find_stop(text, stop);
        free(text);
        if (at != SIZE_MAX) {
            g->finished = true;
            g->reason = MJ_STOP_STRING;
            g->cut = at;
            return 0;
        }
    }
    if (g->n >= max_new) {
        g->finished = true;
        g->reason = MJ_STOP_LENGTH;
    }
    return 0;
}

/* Move row g's outcome into res (text decoded and cut). */
static int gen_finish(gen_row *g, const mj_tokenizer *tok, mj_gen_result *res) {
    res->tokens = g->ids;
    res->n_tokens = g->n;
    g->ids = NULL;
    res->stop_reason = g->finished ? g->reason : MJ_STOP_LENGTH;
    res->text = tok ? mj_tokenizer_decode(tok, res->tokens, (size_t)res->n_tokens, false)
                    : strdup("");
    if (!res->text) return -1;
    if (res->stop_reason == MJ_STOP_STRING && g->cut < strlen(res->text)) res->text[g->cut] = 0;
    return 0;
}

/* The sampling loop over an initialised batch.  Greedy decoding takes its
 * picks from mj_seqs_append_greedy (on the GPU: an argmax on the device, no
 * logits download); the picks are the same as mj_sample's.  0 or -1 (err set). */
static int gen_loop(mj_seqs *s, gen_row *g, int n_rows, const mj_tokenizer *tok,
                    const mj_sampling *sp, const mj_stop *stop, const int32_t *eos, int n_eos,
                    int32_t vocab, char *err, size_t errn) {
    float *logits = malloc((size_t)n_rows * (size_t)vocab * sizeof *logits);
    int32_t *next = malloc((size_t)n_rows * sizeof *next), *ids = malloc((size_t)n_rows * sizeof *ids);
    const bool greedy = !sp || sp->temperature <= 0.0f;
    bool have_ids = false;   /* ids[] hold the last step's greedy picks */
    int rc = 0;
    if (!logits || !next || !ids) { gen_err(err, errn, "out of memory"); rc = -1; }
    if (rc == 0 && mj_seqs_prefill(s, logits) != 0) {
        gen_err(err, errn, "%s", mj_seqs_error(s));
        rc = -1;
    }
    while (rc == 0) {
        int active = 0;
        for (int r = 0; r < n_rows; r++) {
            next[r] = -1;
            if (g[r].finished) continue;
            int32_t id = have_ids ? ids[r] : mj_sample(logits + (size_t)r * (size_t)vocab, vocab, sp, &g[r].rng);
            if (gen_take(&g[r], id, eos, n_eos, tok, stop, stop->max_new_tokens) != 0) {
                gen_err(err, errn, "out of memory");
                rc = -1;
                break;
            }
            if (!g[r].finished) { next[r] = id; active++; }
        }
        if (rc != 0 || active == 0) break;
        int st = greedy ? mj_seqs_append_greedy(s, next, ids) : mj_seqs_append(s, next, logits);
        have_ids = greedy;
        if (st != 0) {
            gen_err(err, errn, "%s", mj_seqs_error(s));
            rc = -1;
        }
    }
    free(ids);
    free(logits);
    free(next);
    return rc;
}

int mj_generate_prefix(mj_engine *e, const mj_prefix *pre, const mj_tokenizer *tok,
                       const mj_program *prog, const mj_mask_fns *fns, int n_rows,
                       const mj_row_spec *rows, const mj_sampling *sp, const mj_stop *stop,
                       mj_gen_result *results, char *err, size_t errn) {
    if (!e || !stop || !results || n_rows < 1) {
        gen_err(err, errn, "generate: bad arguments");
        return -1;
    }
    memset(results, 0, (size_t)n_rows * sizeof *results);
    int32_t max_new = stop->max_new_tokens > 0 ? stop->max_new_tokens : 0;
    int32_t vocab = mj_engine_model(e)->cfg.vocab;
    int32_t eos[16];
    int n_eos = mj_generate_eos_ids(e, tok, eos);
    gen_row *g = calloc((size_t)n_rows, sizeof *g);
    if (!g) { gen_err(err, errn, "out of memory"); return -1; }
    int rc = 0;
    for (int r = 0; r < n_rows && rc == 0; r++) {
        g[r].ids = malloc((size_t)(max_new > 0 ? max_new : 1) * sizeof *g[r].ids);
        if (!g[r].ids) { gen_err(err, errn, "out of memory"); rc = -1; }
        uint64_t seed = (sp ? sp->seed : 0) ^ (0xd1b54a32d192ed03ull * (uint64_t)(r + 1));
        mj_rng_seed(&g[r].rng, seed);
        g[r].finished = max_new == 0;
        g[r].reason = MJ_STOP_LENGTH;
    }
    if (rc == 0 && max_new > 0) {
        mj_seqs *s = mj_seqs_init_prefix(e, pre, prog, fns, n_rows, rows, max_new, err, errn);
        if (!s) rc = -1;
        else rc = gen_loop(s, g, n_rows, tok, sp, stop, eos, n_eos, vocab, err, errn);
        mj_seqs_free(s);
    }
    for (int r = 0; r < n_rows; r++) {
        if (rc == 0 && gen_finish(&g[r], tok, &results[r]) != 0) {
            gen_err(err, errn, "out of memory");
            rc = -1;
        }
        free(g[r].ids);
    }
    free(g);
    if (rc != 0)
        for (int r = 0; r < n_rows; r++) mj_gen_result_free(&results[r]);
    return rc;
}

int mj_generate(mj_engine *e, const mj_tokenizer *tok, const mj_program *prog,
                const mj_mask_fns *fns, int n_rows, const mj_row_spec *rows,
                const mj_sampling *sp, const mj_stop *stop, mj_gen_result *results,
                char *err, size_t errn) {
    return mj_generate_prefix(e, NULL, tok, prog, fns, n_rows, rows, sp, stop, results, err, errn);
}
