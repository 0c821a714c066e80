/* run.h — answering a dataset with one method (the engine behind `maskjit
 * run`): paraphrase selection, prompts and layouts per question, batches of
 * questions through mj_fuse_generate, records appended to the output JSONL
 * (fsync'ed per batch, resumable), the Feather export at the end.
 *
 * Methods:
 *   single        one paraphrase (--indices i, default 0) in the plain prompt
 *   ensemble-avg  / ensemble-max / weighted-avg / weighted-max: one plain
 *                 prompt per paraphrase, stepped in lockstep (fuse.h)
 *   mask:FILE     all selected paraphrases in one row laid out by the chosen
 *                 layout (flayout.h), attention ruled by FILE
 * The plain prompt is the study layout with one paraphrase under a causal
 * mask: [BOS] instruction, shots, "Q: p\n", "A:" — the study's prompt.
 * A prefix KV cache (engine.h) of the tokens every row starts with (BOS +
 * instruction + shots) is computed once and reused when the mask is causal
 * there; otherwise the run goes on without it (said in the stats). */
#ifndef MJ_RUN_H
#define MJ_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dataset.h"
#include "engine.h"
#include "flayout.h"
#include "mask_fns.h"
#include "prompt.h"
#include "tokenizer.h"

typedef enum mj_method_kind {
    MJ_METHOD_SINGLE = 0, MJ_METHOD_ENS_AVG, MJ_METHOD_ENS_MAX, MJ_METHOD_W_AVG, MJ_METHOD_W_MAX,
    MJ_METHOD_MASK
} mj_method_kind;

/* "single" | "ensemble-avg" | "ensemble-max" | "weighted-avg" | "weighted-max" |
 * "mask:FILE"; *mask_path points into s for mask:.  -1 if unknown. */
int mj_method_parse(const char *s, const char **mask_path);
const char *mj_method_name(mj_method_kind k);

typedef struct mj_run_progress {
    int64_t done, total;      /* questions finished (resumed ones included) / in scope */
    int64_t done_now;         /* finished by this process */
    int64_t tokens;           /* prompt + generated tokens processed by this process */
    double seconds;           /* wall time of this process so far */
} mj_run_progress;

typedef struct mj_run_opts {
    mj_method_kind method;
    const mj_program *prog;       /* mask methods: the compiled mask ... */
    const mj_mask_fns *fns;       /* ... and its functions */
    const char *mask_name;        /* for the label ("fusion_seed") */
    mj_flayout_kind layout;
    mj_cue_mode cue;
    int32_t bos;                  /* BOS id placed first, or -1 */
    const char *sep;              /* study layout separator (NULL: default) */
    int n_para;                   /* --paraphrases K (0: 1 for single, else 5) */
    const int *indices;           /* --indices (NULL: 0..K-1) */
    int n_indices;
    int batch;                    /* questions per batch (>= 1) */
    int32_t max_new_tokens;       /* 10 */
    int64_t limit;                /* first N questions (0: all) */
    bool resume;
    bool no_prefix_cache;
    const char *label;            /* method label (NULL: derived) */
    const char *const *sets;      /* --set NAME=VALUE for the mask's params */
    int n_sets;
    const char *out_path;
    const char *feather_path;     /* NULL: none */
    void (*progress)(void *ctx, const mj_run_progress *p);
    void *progress_ctx;
} mj_run_opts;

typedef struct mj_run_stats {
    char label[256];
    int64_t in_scope, resumed, answered, too_few_paraphrases;
    int64_t tokens;
    double seconds;
    bool prefix_cache_used;
    int32_t prefix_len;
    char note[512];               /* e.g. why the prefix cache was not used */
} mj_run_stats;

/* Build the default label of a run into buf ("single[2]", "ensemble-avg[0-4]",
 * "mask:fusion_seed@shared-prefix[0-4]"). */
void mj_run_label(const mj_run_opts *o, char *buf, size_t n);

/* Run.  Returns 0, or -1 with a message (the output file keeps every batch
 * finished before the error). */
int mj_run(mj_engine *e, const mj_tokenizer *tok, const mj_dataset *d, const mj_prompt *pr,
           const mj_run_opts *o, mj_run_stats *st, char *err, size_t errn);

/* The layout (o->layout, o->cue, o->bos) of question qi's selected
 * paraphrases, as a mask method would run it.  0, or -1 with a message. */
int mj_run_layout(const mj_tokenizer *tok, const mj_dataset *d, const mj_prompt *pr, const mj_run_opts *o,
                  int64_t qi, mj_flayout *L, char *err, size_t errn);

/* Tokenizer glue for layouts and fuse: encode without BOS / decode without
 * special tokens (ctx = the mj_tokenizer). */
int mj_run_encode(void *ctx, const char *text, int32_t **ids, size_t *n);
char *mj_run_decode(void *ctx, const int32_t *ids, size_t n);
/* (EOS ids: mj_generate_eos_ids of runtime/engine.h) */

#endif
