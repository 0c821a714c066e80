/* flayout.c — see flayout.h. */
#include "flayout.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fu_util.h"

const char *const mj_flayout_ann_names[MJ_ANN_COUNT] = {"seg", "seg_start", "part", "example"};
const char mj_flayout_default_sep[] = "\n\n[SEP]\n\n";

static const char *const kind_names[] = {"study", "shared-prefix", "fewshot-isolated"};

int mj_flayout_kind_parse(const char *s) {
    for (int i = 0; i < 3; i++)
        if (!strcmp(s, kind_names[i])) return i;
    return -1;
}

const char *mj_flayout_kind_name(mj_flayout_kind k) { return (unsigned)k < 3 ? kind_names[k] : "?"; }

void mj_flayout_free(mj_flayout *L) {
    free(L->ids);
    for (int a = 0; a < MJ_ANN_COUNT; a++) free(L->ann[a]);
    memset(L, 0, sizeof *L);
}

/* ---- building ------------------------------------------------------------------ */

typedef struct builder {
    mj_flayout *L;
    int32_t cap;
    const mj_flayout_opts *o;
    char *err;
    size_t errn;
} builder;

static int grow(builder *B, int64_t need) {
    if (need <= B->cap) return 0;
    if (need > INT32_MAX / 2) return mj_err(B->err, B->errn, "layout: row too long");
    int32_t cap = B->cap ? B->cap : 256;
    while (cap < need) cap *= 2;
    int32_t *p = realloc(B->L->ids, (size_t)cap * sizeof *p);
    if (!p) return mj_err(B->err, B->errn, "out of memory");
    B->L->ids = p;
    for (int a = 0; a < MJ_ANN_COUNT; a++) {
        p = realloc(B->L->ann[a], (size_t)cap * sizeof *p);
        if (!p) return mj_err(B->err, B->errn, "out of memory");
        B->L->ann[a] = p;
    }
    B->cap = cap;
    return 0;
}

/* Append ids with the same annotations (seg_start is taken from seg_start). */
static int put_ids(builder *B, const int32_t *ids, size_t n, int32_t seg, int32_t seg_start,
                   int32_t part, int32_t example) {
    mj_flayout *L = B->L;
    if (grow(B, (int64_t)L->n + (int64_t)n)) return -1;
    for (size_t i = 0; i < n; i++, L->n++) {
        L->ids[L->n] = ids[i];
        L->ann[MJ_ANN_SEG][L->n] = seg;
        L->ann[MJ_ANN_SEG_START][L->n] = seg_start;
        L->ann[MJ_ANN_PART][L->n] = part;
        L->ann[MJ_ANN_EXAMPLE][L->n] = example;
    }
    return 0;
}

/* Tokenize text (malloc'd by the caller, freed here) and append it. */
static int put_text(builder *B, char *text, int32_t seg, int32_t seg_start, int32_t part,
                    int32_t example) {
    if (!text) return mj_err(B->err, B->errn, "out of memory");
    int32_t *ids = NULL;
    size_t n = 0;
    int rc = 0;
    if (B->o->encode(B->o->encode_ctx, text, &ids, &n)) rc = mj_err(B->err, B->errn, "layout: cannot tokenize piece");
    else rc = put_ids(B, ids, n, seg, seg_start, part, example);
    free(ids);
    free(text);
    return rc;
}

/* Instruction and few-shot shots; example annotations only when isolated. */
static int put_prefix(builder *B, const mj_prompt *pr, int32_t seg, int32_t seg_start, bool examples) {
    if (put_text(B, mj_prompt_head(pr), seg, seg_start, MJ_PART_SHARED, -1)) return -1;
    for (int j = 0; j < pr->n_shots; j++) {
        int32_t ex = examples ? j : -1;
        if (put_text(B, mj_prompt_shot_q(pr, j), seg, seg_start, MJ_PART_SHOT_Q, ex)) return -1;
        if (put_text(B, mj_prompt_shot_a(pr, j), seg, seg_start, MJ_PART_SHOT_A, ex)) return -1;
    }
    return 0;
}

static int build_rows(builder *B, const mj_prompt *pr, const char *const *paras, int n_para) {
    mj_flayout *L = B->L;
    const mj_flayout_opts *o = B->o;
    if (o->bos >= 0 && put_ids(B, &o->bos, 1, -1, 0, MJ_PART_SHARED, -1)) return -1;
    if (o->kind != MJ_FLAYOUT_STUDY && put_prefix(B, pr, -1, 0, o->kind == MJ_FLAYOUT_FEWSHOT_ISOLATED))
        return -1;
    L->prefix_len = L->n;
    int32_t start = 0;
    for (int i = 0; i < n_para; i++) {
        start = L->n;
        if (o->kind == MJ_FLAYOUT_STUDY && put_prefix(B, pr, i, start, false)) return -1;
        if (i == 0) L->common_len = o->kind == MJ_FLAYOUT_STUDY ? L->n : L->prefix_len;
        if (put_text(B, mj_prompt_question(paras[i]), i, start, MJ_PART_MAIN, -1)) return -1;
        if (o->kind == MJ_FLAYOUT_STUDY && i + 1 < n_para &&
            put_text(B, strdup(o->sep ? o->sep : mj_flayout_default_sep), i, start, MJ_PART_OTHER, -1))
            return -1;
        if (L->n - start > L->max_seg_len) L->max_seg_len = L->n - start;
    }
    L->n_seg = n_para;
    int32_t cue_start = L->n;
    if (o->cue == MJ_CUE_LAST_SEGMENT) {
        if (put_text(B, strdup(mj_prompt_cue), n_para - 1, start, MJ_PART_MAIN, -1)) return -1;
        if (L->n - start > L->max_seg_len) L->max_seg_len = L->n - start;
        L->prompt_len = L->n;
    } else {
        if (put_text(B, strdup(mj_prompt_cue), -1, 0, MJ_PART_OTHER, -1)) return -1;
        L->prompt_len = cue_start;
    }
    return 0;
}

int mj_flayout_build(mj_flayout *L, const mj_flayout_opts *o, const mj_prompt *pr,
                    const char *const *paras, int n_para, char *err, size_t errn) {
    memset(L, 0, sizeof *L);
    if (n_para < 1) return mj_err(err, errn, "layout: no paraphrase");
    if ((unsigned)o->kind > MJ_FLAYOUT_FEWSHOT_ISOLATED) return mj_err(err, errn, "layout: unknown kind");
    builder B = {L, 0, o, err, errn};
    if (build_rows(&B, pr, paras, n_para)) { mj_flayout_free(L); return -1; }
    L->offered = mj_flayout_offered(o->kind);
    return 0;
}

unsigned mj_flayout_offered(mj_flayout_kind k) {
    unsigned m = 1u << MJ_ANN_SEG | 1u << MJ_ANN_SEG_START | 1u << MJ_ANN_PART;
    return k == MJ_FLAYOUT_FEWSHOT_ISOLATED ? m | 1u << MJ_ANN_EXAMPLE : m;
}

/* ---- binding to a program ---------------------------------------------------- */

static int ann_index(const char *name) {
    for (int a = 0; a < MJ_ANN_COUNT; a++)
        if (!strcmp(name, mj_flayout_ann_names[a])) return a;
    return -1;
}

int mj_flayout_check(const mj_program *p, unsigned offered, const char *layout_name, char *err,
                    size_t errn) {
    for (int32_t t = 0; t < p->n_tokens; t++) {
        int a = ann_index(p->tokens[t].name);
        if (a >= 0 && (offered >> a & 1)) continue;
        char list[128] = "";
        for (int b = 0; b < MJ_ANN_COUNT; b++) {
            if (!(offered >> b & 1)) continue;
            if (list[0]) strcat(list, ", ");
            strcat(list, mj_flayout_ann_names[b]);
        }
        return mj_err(err, errn, "mask %s needs tokens annotation '%s', which layout '%s' does not "
                      "provide (it provides: %s)", p->path ? p->path : "(string)", p->tokens[t].name,
                      layout_name, list);
    }
    return 0;
}

static mj_value as_type(int32_t v, mj_type t) {
    mj_value x;
    if (t == MJ_T_FLOAT) x.f = (float)v;
    else if (t == MJ_T_BOOL) x.i = v != 0;
    else x.i = v;
    return x;
}

int mj_flayout_bind(const mj_flayout *L, const mj_program *p, const char *layout_name, mj_value *annot,
                   mj_value *params, char *err, size_t errn) {
    if (mj_flayout_check(p, L->offered, layout_name, err, errn)) return -1;
    for (int32_t t = 0; t < p->n_tokens; t++) {
        const int32_t *src = L->ann[ann_index(p->tokens[t].name)];
        mj_value *dst = annot + (int64_t)t * L->n;
        for (int32_t i = 0; i < L->n; i++) dst[i] = as_type(src[i], p->tokens[t].type);
    }
    const char *names[3] = {"prefix_len", "max_seg_len", "n_seg"};
    int32_t vals[3] = {L->prefix_len, L->max_seg_len, L->n_seg};
    for (int32_t k = 0; k < p->n_params; k++) {
        const mj_param *pa = &p->params[k];
        for (int j = 0; j < 3; j++) {
            if (strcmp(pa->name, names[j])) continue;
            if (pa->is_array) return mj_err(err, errn, "mask %s: param '%s' must be a scalar (the layout binds it)",
                                             p->path ? p->path : "(string)", pa->name);
            params[pa->offset] = as_type(vals[j], pa->type);
        }
    }
    return 0;
}
