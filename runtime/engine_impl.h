/* engine_impl.h — internals of the engine: the structures shared by the
 * device-independent front (engine.c: rows, annotations, positions, prefix
 * checks; generate.c) and the device back ends (cpu_*.c now, cuda_*.c later),
 * and the table of operations through which the front drives a device.
 *
 * Plugging in a device: implement an mj_engine_ops table and an opener
 *     int mj_cuda_engine_open(mj_engine *e, char *err, size_t errn);
 * declared in runtime/cuda_engine.h.  engine.c includes that header when it
 * exists (__has_include) and calls the opener for MJ_DEVICE_CUDA/AUTO; the
 * opener sets e->ops and e->impl.  Without it, CUDA requests fail with
 * "CUDA engine not built yet" (AUTO falls back to the CPU).
 *
 * Not a public interface: only runtime/ includes it. */
#ifndef MJ_ENGINE_IMPL_H
#define MJ_ENGINE_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"

/* Block size of the attention tiles, the block classifier's regions and the
 * per-block annotation summaries (mj_summary.block). */
#define MJ_ATTN_BLOCK 32

typedef struct mj_prefix mj_prefix;

typedef struct mj_engine_ops {
    const char *name;                                   /* "cpu", "cuda" */
    void (*engine_free)(mj_engine *e);                  /* frees e->impl */
    /* Allocate the device state of s (KV caches sized rows[r].cap): s->impl. */
    int (*seqs_open)(mj_seqs *s, char *err, size_t errn);
    void (*seqs_close)(mj_seqs *s);
    /* Run the tokens [rows[r].done, rows[r].len) of every row r with
     * n_new[r] = len - done > 0 (positions in rows[r].pos, env.seq_len = len
     * already set), store their K/V, set done = len, and write the next-token
     * logits after each such row's last token to logits + r * vocab.  Rows
     * with nothing new are untouched.  0, or -1 with a message in s->err. */
    int (*seqs_step)(mj_seqs *s, float *logits);
    /* Optional: as seqs_step, but instead of logits write each stepped row's
     * greedy next token (what mj_sample picks at temperature 0: the largest
     * logit, lowest id among equals, NaN never wins) to ids[r].  NULL: the
     * generic path steps with logits and picks on the host. */
    int (*seqs_step_greedy)(mj_seqs *s, int32_t *ids);
    /* Optional pair, for run-ahead greedy decoding (engine.c): launch
     * enqueues the step seqs_step_greedy would run and returns without
     * waiting for it (0; 1 when it cannot, nothing changed: the caller steps
     * with seqs_step_greedy; -1 error).  A token MJ_TOKEN_AHEAD in a row's
     * tokens stands for that row's greedy pick of the step launched just
     * before, taken on the device.  finish waits for the oldest launched,
     * unfinished step and writes its rows' picks to ids[r].  At most two
     * steps are launched and unfinished at a time. */
    int (*seqs_launch_greedy)(mj_seqs *s);
    int (*seqs_finish_greedy)(mj_seqs *s, int32_t *ids);
    /* Prefix caches (optional: NULL when the device has none). */
    int (*prefix_open)(mj_prefix *p, char *err, size_t errn);   /* computes p's K/V */
    void (*prefix_close)(mj_prefix *p);
    /* Copy p's K/V into every row of s (rows[r].done becomes p->n). */
    int (*seqs_load_prefix)(mj_seqs *s, const mj_prefix *p, char *err, size_t errn);
} mj_engine_ops;

struct mj_engine {
    const mj_engine_ops *ops;
    const mj_model *model;
    mj_device dev;
    int threads;
    void *impl;
};

/* rows[r].tokens entry of a step launched ahead: the device's greedy pick of
 * the step before (seqs_launch_greedy). */
#define MJ_TOKEN_AHEAD (-1)

/* One row of a batch, as the front keeps it. */
typedef struct mj_row {
    int32_t *tokens;        /* [cap] */
    int32_t len;            /* tokens so far (prompt + appended) */
    int32_t done;           /* tokens whose K/V are in the cache */
    int32_t n_prompt;       /* tokens given at init */
    int32_t cap;            /* n_prompt + max_new_tokens */
    int32_t *pos;           /* [cap] rotary positions, valid below len */
    mj_value *annot;        /* [n_annot x cap]: prompt values, defaults after */
    mj_value *params;       /* [n_param_slots] */
    float *heads;           /* [n_heads_arrays x model n_heads] */
    mj_env env;             /* tokens_len = tokens_stride = cap */
    mj_summary sum;         /* block summaries over all cap tokens (block MJ_ATTN_BLOCK) */
} mj_row;

struct mj_seqs {
    mj_engine *e;
    const mj_program *prog;
    const mj_mask_fns *fns;
    int n_rows;
    int32_t max_new;
    mj_row *rows;
    bool prefilled;
    bool mask_uses_h;       /* classify/mask per head instead of once for all */
    const mj_prefix *prefix;/* when started from a prefix cache (not owned) */
    float *greedy_logits;   /* [n_rows x vocab] host scratch of mj_seqs_append_greedy's generic path */
    /* run-ahead greedy decoding (engine.c; MJ_RUN_AHEAD=0 turns it off): the arrays are
       allocated only when it is on (the device has seqs_launch_greedy / seqs_finish_greedy) */
    int n_ahead;            /* rows whose last token is the placeholder of a launched, unfinished step */
    bool *ahead;            /* [n_rows] that row's last token is such a placeholder */
    bool *stepped;          /* [n_rows] rows of the step the current call launched for the caller */
    int32_t *picks;         /* [n_rows] picks of the last finished step */
    void *impl;             /* device state */
    char err[256];
};

struct mj_prefix {
    mj_engine *e;
    int32_t *tokens;
    int32_t n;
    float *logits;          /* [vocab]: next-token logits after the prefix */
    void *impl;             /* device K/V */
};

/* Undo a step launched ahead, if any (after waiting for it): every row
 * back to the caller's tokens.  Hooks that read or reuse the device state
 * between mj_seqs_append_greedy calls call it first.  0 or -1. */
int mj_seqs_settle(mj_seqs *s);

/* Set s->err (printf-style); returns -1. */
int mj_seqs_fail(mj_seqs *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Open the CPU engine on e (e->model, e->threads set): sets e->ops, e->impl. */
int mj_cpu_engine_open(mj_engine *e, char *err, size_t errn);

#endif
