/* engine.h — running a model with a compiled mask: batches of rows of
 * different lengths, prefill of whole prompts, decode with a KV cache,
 * next-token logits for callers (logit ensembles are built on top), sampling
 * and per-row stop conditions.  One API for every device; the CPU
 * implementation is runtime/cpu_*.c, the CUDA one runtime/cuda_*.c.
 *
 * Attention for row r, head h, query q, key kv uses the row's mj_env (tokens
 * annotations from the row spec, generated tokens get the defaults; params;
 * prompt_len; seq_len = current length): per (query block, key block) the
 * block classifier says skip / no element mask / element mask, per element
 * the mask and score functions decide; a query with no visible key gives a
 * zero attention output.  RoPE positions come from the position program when
 * the mask has one, else q. */
#ifndef MJ_ENGINE_H
#define MJ_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mask_fns.h"
#include "mj_ir.h"
#include "model.h"

typedef enum mj_device { MJ_DEVICE_CPU = 0, MJ_DEVICE_CUDA = 1, MJ_DEVICE_AUTO = 2 } mj_device;

/* Parse "cpu" | "cuda" | "auto"; -1 if unknown. */
int mj_device_parse(const char *s);

typedef struct mj_engine mj_engine;

/* Bind a loaded model to a device.  The model must outlive the engine.
 * threads <= 0: all cores.  NULL with a message on failure. */
mj_engine *mj_engine_init(const mj_model *m, mj_device dev, int threads, char *err, size_t errn);
void mj_engine_free(mj_engine *e);
const mj_model *mj_engine_model(const mj_engine *e);

/* One row of a batch. */
typedef struct mj_row_spec {
    const int32_t *tokens;    /* prompt token ids (BOS included when wanted) */
    int32_t n_tokens;
    /* tokens annotations: annot[a * n_tokens + i] for annotation a of the
     * program (mj_program.tokens order), token i.  NULL: every token takes
     * the default.  Tokens appended later take the defaults. */
    const mj_value *annot;
    const mj_value *params;   /* [n_param_slots]; NULL: defaults */
    const float *heads;       /* [n_heads arrays x model n_heads]; NULL: zeros */
    int32_t prompt_len;       /* <= 0: n_tokens */
} mj_row_spec;

typedef struct mj_seqs mj_seqs;

/* A batch of sequences sharing one mask, with KV cache room for
 * max_new_tokens more tokens per row.  prog/fns must outlive it. */
mj_seqs *mj_seqs_init(mj_engine *e, const mj_program *prog, const mj_mask_fns *fns, int n_rows,
                      const mj_row_spec *rows, int32_t max_new_tokens, char *err, size_t errn);
void mj_seqs_free(mj_seqs *s);
int mj_seqs_rows(const mj_seqs *s);
int32_t mj_seqs_len(const mj_seqs *s, int row);

/* Run every row's prompt; logits [n_rows x vocab] receive the next-token
 * logits after each row's last prompt token.  Returns 0 or -1. */
int mj_seqs_prefill(mj_seqs *s, float *logits);
/* Append next[r] to row r (next[r] < 0: row r is finished and skipped; its
 * logits row is left untouched) and compute logits for the following token. */
int mj_seqs_append(mj_seqs *s, const int32_t *next, float *logits);
/* As mj_seqs_append, but returns each appended row's greedy next token in
 * ids[r] (exactly what mj_sample picks at temperature 0 from the logits
 * mj_seqs_append would give) instead of the logits; rows with next[r] < 0
 * keep ids[r].  On the GPU the pick runs on the device and only the ids are
 * downloaded. */
int mj_seqs_append_greedy(mj_seqs *s, const int32_t *next, int32_t *ids);
/* The last error message of s (empty if none). */
const char *mj_seqs_error(const mj_seqs *s);

/* ---- sampling and generation ------------------------------------------------ */

typedef struct mj_sampling {
    float temperature;        /* <= 0: greedy (argmax, lowest id on ties) */
    int32_t top_k;            /* <= 0: off */
    float top_p;              /* >= 1 or <= 0: off */
    uint64_t seed;
} mj_sampling;

typedef struct mj_rng { uint64_t s[4]; } mj_rng;
void mj_rng_seed(mj_rng *r, uint64_t seed);
double mj_rng_uniform(mj_rng *r);   /* [0, 1) */
/* Pick a token from logits (not modified) under the sampling settings. */
int32_t mj_sample(const float *logits, int32_t vocab, const mj_sampling *sp, mj_rng *rng);

struct mj_tokenizer;
typedef struct mj_stop {
    int32_t max_new_tokens;
    bool stop_on_eos;               /* tokenizer/model EOS ids */
    const char *const *strings;     /* stop when the decoded generation contains one */
    int n_strings;
} mj_stop;

enum { MJ_STOP_NONE = 0, MJ_STOP_EOS = 1, MJ_STOP_STRING = 2, MJ_STOP_LENGTH = 3 };

typedef struct mj_gen_result {
    int32_t *tokens;   int32_t n_tokens;  /* generated ids (EOS excluded) */
    char *text;        /* decoded generation, cut before a matched stop string */
    int stop_reason;
} mj_gen_result;

/* Generate for every row independently (stops are per row, never batch-wide).
 * results[n_rows] are filled (free each with mj_gen_result_free).  Returns 0/-1
 * with a message in err. */
int mj_generate(mj_engine *e, const struct mj_tokenizer *tok, const mj_program *prog,
                const mj_mask_fns *fns, int n_rows, const mj_row_spec *rows,
                const mj_sampling *sp, const mj_stop *stop, mj_gen_result *results,
                char *err, size_t errn);
void mj_gen_result_free(mj_gen_result *r);
/* (additive, clean-up) The EOS ids mj_generate stops on: the tokenizer's (tok
 * may be NULL), then the model config's, negatives and duplicates dropped,
 * written to out (room for 16; more are ignored).  Returns how many. */
int mj_generate_eos_ids(const mj_engine *e, const struct mj_tokenizer *tok, int32_t *out);

/* ---- prefix KV cache (additive) ----------------------------------------------
 * Compute the K/V of a shared prompt prefix (e.g. the instruction and few-shot
 * examples every prompt of a dataset starts with) once, and start many rows
 * from it: their prefill then runs only the tokens after the prefix.
 *
 * Contract (checked at mj_seqs_init_prefix; a violation is an error, never a
 * silently wrong result): every row's tokens start with the prefix tokens and
 * are longer than or equal to it; inside the prefix the row's mask is plain
 * causal (query q < n attends key kv < n exactly when kv <= q, for every head),
 * its score is the identity there, and its position program gives position q
 * to every prefix token q.  Prefix tokens then see only earlier prefix tokens
 * under the same positions, so their K/V do not depend on the row.  The mask
 * may do anything for queries at or after the prefix (they may attend prefix
 * keys or not).  The prefix must outlive the seqs started from it. */
typedef struct mj_prefix mj_prefix;
mj_prefix *mj_prefix_init(mj_engine *e, const int32_t *tokens, int32_t n_tokens, char *err,
                          size_t errn);
void mj_prefix_free(mj_prefix *p);
int32_t mj_prefix_len(const mj_prefix *p);
/* mj_seqs_init whose rows start from the prefix cache pre (NULL: same as
 * mj_seqs_init). */
mj_seqs *mj_seqs_init_prefix(mj_engine *e, const mj_prefix *pre, const mj_program *prog,
                             const mj_mask_fns *fns, int n_rows, const mj_row_spec *rows,
                             int32_t max_new_tokens, char *err, size_t errn);
/* mj_generate whose rows start from the prefix cache pre (NULL allowed). */
int mj_generate_prefix(mj_engine *e, const mj_prefix *pre, const struct mj_tokenizer *tok,
                       const mj_program *prog, const mj_mask_fns *fns, int n_rows,
                       const mj_row_spec *rows, const mj_sampling *sp, const mj_stop *stop,
                       mj_gen_result *results, char *err, size_t errn);

#endif
