/* test_runtime_ahead.c — run-ahead greedy decoding (engine.c): the engine
 * launches the step for the rows' own picks before the caller has seen
 * them, and keeps or undoes it when the caller's tokens arrive.  The GPU
 * engine runs it for real (tests/unit/test_runtime_cuda_forward.c); here a
 * device that wraps the CPU engine in the launch / finish pair (each
 * "launch" computes its step at once and queues the picks; an MJ_TOKEN_AHEAD
 * token is replaced by the row's pick of the step launched before) checks
 * the engine's side on every machine:
 *   - generation with run-ahead gives exactly the tokens and stop reasons of
 *     generation without it, rows stopping at different steps (EOS, length);
 *   - a caller's token that differs from the pick undoes the step launched
 *     ahead (the picks stay those of the caller's tokens), and a row that
 *     stops is dropped from it; mj_seqs_len counts the caller's tokens only;
 *   - the steps launched ahead are really used (launch count). */
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "engine.h"
#include "engine_impl.h"
#include "interp.h"
#include "support/test_chain.h"
#include "support/test_model.h"
#include "support/testlib.h"

enum { ROWS = 3, VOCAB = 97 };

/* ---- a device with the launch / finish pair over the CPU engine ------------------- */

static const mj_engine_ops *cpu_ops;
static mj_engine_ops ahead_ops;
static struct {
    int32_t picks[2][ROWS];
    bool has[2][ROWS];
    int first, count;
    int32_t prev[ROWS];       /* each row's pick in the step launched last (-1: not in it) */
    int launches, finishes, ahead;   /* launches; finishes; launches with MJ_TOKEN_AHEAD tokens */
} q;

static int wrap_launch(mj_seqs *s) {
    if (q.count >= 2) return 1;
    int32_t V = s->e->model->cfg.vocab;
    bool in[ROWS], filled[ROWS];
    for (int r = 0; r < s->n_rows; r++) {
        mj_row *row = &s->rows[r];
        in[r] = row->len > row->done;
        filled[r] = in[r] && row->tokens[row->len - 1] == MJ_TOKEN_AHEAD;
        if (filled[r]) {
            if (q.prev[r] < 0) return mj_seqs_fail(s, "ahead token of row %d without a pick before it", r);
            row->tokens[row->len - 1] = q.prev[r];
        }
    }
    float *lg = malloc((size_t)s->n_rows * (size_t)V * sizeof *lg);
    int rc = lg ? cpu_ops->seqs_step(s, lg) : -1;
    const int slot = (q.first + q.count) % 2;
    for (int r = 0; r < s->n_rows; r++) {
        if (filled[r]) s->rows[r].tokens[s->rows[r].len - 1] = MJ_TOKEN_AHEAD;
        q.has[slot][r] = in[r];
        q.picks[slot][r] = in[r] && rc == 0 ? mj_sample(lg + (size_t)r * (size_t)V, V, NULL, NULL) : -1;
        q.prev[r] = q.picks[slot][r];
    }
    free(lg);
    if (rc != 0) return -1;
    q.count++;
    q.launches++;
    for (int r = 0; r < s->n_rows; r++)
        if (filled[r]) {
            q.ahead++;
            break;
        }
    return 0;
}

static int wrap_finish(mj_seqs *s, int32_t *ids) {
    if (!q.count) return mj_seqs_fail(s, "finish without a launch");
    for (int r = 0; r < s->n_rows; r++)
        if (q.has[q.first][r]) ids[r] = q.picks[q.first][r];
    q.first ^= 1;
    q.count--;
    q.finishes++;
    return 0;
}

/* Swap the engine's operations for the wrapped ones (on) or back. */
static void use_ahead(mj_engine *e, bool on) {
    if (!cpu_ops) {
        cpu_ops = e->ops;
        ahead_ops = *cpu_ops;
        ahead_ops.seqs_launch_greedy = wrap_launch;
        ahead_ops.seqs_finish_greedy = wrap_finish;
    }
    e->ops = on ? &ahead_ops : cpu_ops;
    memset(&q, 0, sizeof q);
    for (int r = 0; r < ROWS; r++) q.prev[r] = -1;
}

/* ---- tests ------------------------------------------------------------------------- */

typedef struct rows {
    int32_t tok[ROWS][40];
    mj_row_spec spec[ROWS];
} rows;

static void rows_make(rows *R) {
    uint64_t x = 99;
    for (int r = 0; r < ROWS; r++) {
        int32_t n = 12 + 9 * r;
        for (int32_t i = 0; i < n; i++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            R->tok[r][i] = (int32_t)((x >> 33) % VOCAB);
        }
        R->spec[r] = (mj_row_spec){R->tok[r], n, NULL, NULL, NULL, 0};
    }
}

/* mj_generate with and without run-ahead: the same tokens and stops, rows
 * ending at different steps. */
static void test_generate_same(mj_engine *e, mj_model *m, const mj_program *p, const mj_mask_fns *f,
                               const rows *R) {
    mj_sampling greedy = {0};
    mj_stop st = {9, true, NULL, 0};
    mj_gen_result a[ROWS], b[ROWS];
    char err[256] = "";
    use_ahead(e, false);
    CHECKF(mj_generate(e, NULL, p, f, ROWS, R->spec, &greedy, &st, a, err, sizeof err) == 0, "%s", err);
    /* row 1's fourth token becomes an EOS: rows stop at different steps */
    m->cfg.eos_ids[0] = a[1].tokens[3];
    m->cfg.n_eos = 1;
    for (int r = 0; r < ROWS; r++) mj_gen_result_free(&a[r]);
    CHECKF(mj_generate(e, NULL, p, f, ROWS, R->spec, &greedy, &st, a, err, sizeof err) == 0, "%s", err);
    use_ahead(e, true);
    CHECKF(mj_generate(e, NULL, p, f, ROWS, R->spec, &greedy, &st, b, err, sizeof err) == 0, "%s", err);
    int steps = 0;
    for (int r = 0; r < ROWS; r++) {
        CHECKF(a[r].n_tokens == b[r].n_tokens && a[r].stop_reason == b[r].stop_reason &&
                   !memcmp(a[r].tokens, b[r].tokens, (size_t)a[r].n_tokens * sizeof(int32_t)),
               "row %d: %d tokens (stop %d) with run-ahead, %d (stop %d) without", r, b[r].n_tokens,
               b[r].stop_reason, a[r].n_tokens, a[r].stop_reason);
        if (a[r].n_tokens > steps) steps = a[r].n_tokens;
    }
    CHECKF(a[1].stop_reason == MJ_STOP_EOS && a[1].n_tokens < steps, "row 1 stops early (%d of %d tokens)",
           a[1].n_tokens, steps);
    /* the first append launches its step and the next; every later one finds
     * its step launched (none undone: the caller's tokens are the picks) and
     * launches one more, the last of them never used */
    CHECKF(q.launches == steps && q.ahead == steps - 1, "run-ahead: %d launches, %d ahead, for %d appends",
           q.launches, q.ahead, steps - 1);
    CHECKF(q.finishes == q.launches - q.count, "every launch finished or pending (%d, %d, %d)", q.launches,
           q.finishes, q.count);
    m->cfg.n_eos = 0;
    for (int r = 0; r < ROWS; r++) {
        mj_gen_result_free(&a[r]);
        mj_gen_result_free(&b[r]);
    }
    use_ahead(e, false);
}

/* Picks along a chain of appends: the caller's own tokens from step 3 on
 * for row 0 (each differs from the pick: the step launched ahead is undone),
 * row 2 stops at step 4; with run-ahead the same picks as without. */
static int chain(mj_engine *e, const mj_program *p, const mj_mask_fns *f, const rows *R, bool ahead,
                 int32_t out[8][ROWS], int32_t lens[8][ROWS]) {
    char err[256] = "";
    use_ahead(e, ahead);
    mj_seqs *s = mj_seqs_init(e, p, f, ROWS, R->spec, 10, err, sizeof err);
    if (!s) { fprintf(stderr, "chain: %s\n", err); return -1; }
    float *lg = malloc((size_t)ROWS * VOCAB * sizeof *lg);
    int rc = lg ? mj_seqs_prefill(s, lg) : -1;
    int32_t next[ROWS];
    for (int r = 0; r < ROWS; r++) next[r] = mj_sample(lg + (size_t)r * VOCAB, VOCAB, NULL, NULL);
    if (rc == 0) rc = mj_test_greedy_chain(s, next, VOCAB, 8, &out[0][0], &lens[0][0]);
    if (rc != 0) fprintf(stderr, "chain: %s\n", mj_seqs_error(s));
    mj_seqs_free(s);
    free(lg);
    use_ahead(e, false);
    return rc;
}

static void test_chain_same(mj_engine *e, const mj_program *p, const mj_mask_fns *f, const rows *R) {
    int32_t a[8][ROWS], b[8][ROWS], la[8][ROWS], lb[8][ROWS];
    CHECK(chain(e, p, f, R, false, a, la) == 0);
    CHECK(chain(e, p, f, R, true, b, lb) == 0);
    CHECK(!memcmp(a, b, sizeof a));
    CHECK(!memcmp(la, lb, sizeof la));
    CHECKF(b[5][2] == -5, "a stopped row keeps its id (%d)", b[5][2]);
    CHECKF(lb[7][0] == R->spec[0].n_tokens + 8 && lb[7][2] == R->spec[2].n_tokens + 4,
           "lengths count the caller's tokens (%d, %d)", lb[7][0], lb[7][2]);
    for (int k = 0; k < 8; k++)
        for (int r = 0; r < ROWS; r++)
            if (a[k][r] != b[k][r]) {
                printf("  step %d row %d: %d with run-ahead, %d without\n", k, r, b[k][r], a[k][r]);
                return;
            }
}

int main(void) {
    char err[256] = "";
    mj_model m;
    mj_test_model_make(&m, MJ_ARCH_LLAMA, false, VOCAB);
    mj_engine *e = mj_engine_init(&m, MJ_DEVICE_CPU, 2, err, sizeof err);
    CHECKF(e != NULL, "engine: %s", err);
    mj_diags d;
    mj_diags_init(&d);
    static const char src[] = "tokens seg: int = -1\nmask = kv <= q && (q >= prompt_len || seg[q] == seg[kv])\n";
    mj_program *p = mj_compile_string("ahead.mask", src, strlen(src), NULL, &d);
    mj_diags_free(&d);
    CHECK(p != NULL);
    if (e && p) {
        mj_mask_fns f = mj_interp_fns(p);
        rows R;
        rows_make(&R);
        test_generate_same(e, &m, p, &f, &R);
        test_chain_same(e, p, &f, &R);
    }
    mj_program_free(p);
    mj_engine_free(e);
    mj_test_model_release(&m);
    return mj_test_finish();
}
