/* flayout.h — prompt layouts: how one question's paraphrases become one row of
 * token ids plus the per-token annotations and params a .mask reads.
 *
 * Pieces of text (prompt.h) are tokenized one by one and their ids
 * concatenated (never decoded and re-tokenized, so spans are exact).  BOS, when
 * the tokenizer has one, is token 0 and belongs to no segment (seg -1, part 0):
 * a mask that lets every row see seg -1 keys gives every segment that sink
 * (examples/app_fusion_sink.mask).
 *
 * Annotations (values for prompt tokens; generated tokens take the mask's
 * defaults):
 *   seg        paraphrase index 0..n_seg-1 of the token's segment, -1 elsewhere
 *              (BOS, shared prefix, few-shot examples, the answer cue)
 *   seg_start  index of the first token of the token's segment; 0 where seg = -1
 *   part       0 instruction / BOS / shared, 1 few-shot question, 2 few-shot
 *              answer, 3 main paraphrase, -1 separator and answer cue
 *   example    few-shot example index 0..k-1 on few-shot tokens, -1 elsewhere
 *              (offered by fewshot-isolated only)
 * Params: prefix_len (tokens before the first segment), max_seg_len (longest
 * segment), n_seg (number of segments).
 *
 * Layouts (P_i = paraphrase i, PRE = instruction + few-shot shots):
 *   study            [BOS] | PRE "Q: P_0\n" SEP | PRE "Q: P_1\n" SEP | ... |
 *                    PRE "Q: P_n-1\n" | "A:"        (SEP = "\n\n[SEP]\n\n",
 *                    attached to the end of the segment before it, so that no
 *                    separator row is left without keys); offers seg,
 *                    seg_start, part.
 *   shared-prefix    [BOS] PRE | "Q: P_0\n" | ... | "Q: P_n-1\n" | "A:"
 *                    (PRE once, seg -1); offers seg, seg_start, part.
 *   fewshot-isolated the tokens of shared-prefix, with each few-shot example a
 *                    unit of its own (part 1/2, example j); offers seg,
 *                    seg_start, part, example.
 *
 * The answer cue (the decision study.md §8 item 2 asks for): "A:" is shared,
 * after every segment, and is a FUSION position: the row's prompt_len (the
 * mask builtin; mj_row_spec.prompt_len) is set to the cue's first index, so a
 * mask's `q >= prompt_len` branch (generated tokens attend to everything)
 * covers the cue too, and the logits that choose answer token 1 already read
 * every paraphrase.  Read through its own segment, each paraphrase is exactly
 * its own study prompt "PRE Q: P_i\nA:".  MJ_CUE_LAST_SEGMENT instead puts the
 * cue inside the last segment (prompt_len = n): answer token 1 then reads only
 * the last paraphrase — the study's accident, kept as an ablation. */
#ifndef MJ_FLAYOUT_H
#define MJ_FLAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include "mj_ir.h"
#include "prompt.h"

typedef enum mj_flayout_kind {
    MJ_FLAYOUT_STUDY = 0,
    MJ_FLAYOUT_SHARED_PREFIX = 1,
    MJ_FLAYOUT_FEWSHOT_ISOLATED = 2
} mj_flayout_kind;

typedef enum mj_cue_mode { MJ_CUE_FUSED = 0, MJ_CUE_LAST_SEGMENT = 1 } mj_cue_mode;

enum { MJ_ANN_SEG = 0, MJ_ANN_SEG_START, MJ_ANN_PART, MJ_ANN_EXAMPLE, MJ_ANN_COUNT };
enum { MJ_PART_OTHER = -1, MJ_PART_SHARED = 0, MJ_PART_SHOT_Q = 1, MJ_PART_SHOT_A = 2, MJ_PART_MAIN = 3 };

/* "study" | "shared-prefix" | "fewshot-isolated"; -1 if unknown. */
int mj_flayout_kind_parse(const char *s);
const char *mj_flayout_kind_name(mj_flayout_kind k);
extern const char *const mj_flayout_ann_names[MJ_ANN_COUNT];
extern const char mj_flayout_default_sep[];

/* Tokenization callback: ids of text without BOS, *ids malloc'd.  0 / -1. */
typedef int (*mj_encode_fn)(void *ctx, const char *text, int32_t **ids, size_t *n);

typedef struct mj_flayout_opts {
    mj_flayout_kind kind;
    mj_cue_mode cue;
    int32_t bos;           /* BOS id to place at index 0, or -1 for none */
    const char *sep;       /* study separator; NULL: mj_flayout_default_sep */
    mj_encode_fn encode;
    void *encode_ctx;
} mj_flayout_opts;

typedef struct mj_flayout {
    int32_t *ids;
    int32_t n;
    int32_t *ann[MJ_ANN_COUNT];   /* [n] each */
    unsigned offered;             /* bit a set: annotation a is offered */
    int32_t prompt_len;           /* first fusion position (the cue), or n */
    int32_t prefix_len, max_seg_len, n_seg;
    int32_t common_len;           /* leading tokens that depend only on the prompt
                                     (BOS + instruction + shots): the same in every
                                     question's row, hence cacheable */
} mj_flayout;

/* Build the row of n_para paraphrases (n_para >= 1) under prompt pr.
 * Returns 0, or -1 with a message. */
int mj_flayout_build(mj_flayout *L, const mj_flayout_opts *o, const mj_prompt *pr,
                    const char *const *paras, int n_para, char *err, size_t errn);
void mj_flayout_free(mj_flayout *L);

/* The annotations (bit a = annotation a) a layout kind offers. */
unsigned mj_flayout_offered(mj_flayout_kind k);
/* Check that every `tokens` annotation program p declares is offered by the
 * layout (else -1 and "mask FILE needs tokens annotation 'x', which layout
 * 'NAME' does not provide (it provides: seg, seg_start, part)"). */
int mj_flayout_check(const mj_program *p, unsigned offered, const char *layout_name, char *err,
                    size_t errn);
/* Fill annot[a * L->n + i] for every annotation a of p and token i, converted
 * to the declared type, and set the params prefix_len / max_seg_len / n_seg in
 * params[] when p declares them (scalars).  Other params are left alone.
 * Same errors as mj_flayout_check. */
int mj_flayout_bind(const mj_flayout *L, const mj_program *p, const char *layout_name, mj_value *annot,
                   mj_value *params, char *err, size_t errn);

#endif
