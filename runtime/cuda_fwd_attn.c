/* cuda_fwd_attn.c — the attention step of the CUDA forward pass: an adapter
 * over H4's block-sparse kernels (cuda_attn.h: mj_attn_plan / mj_attn_run),
 * with a TEST / FALLBACK path of its own (fwd_attn_naive.cu.in, per-element,
 * slow) for head dims the sparse kernels do not take (other than 64 and 128)
 * and for MJ_CUDA_ATTN=naive (tests compare the two).
 *
 * Sparse path: one plan per chunk and layer.  The plan uploads the rows'
 * environments and builds the block lists; it does not depend on the layer,
 * but cuda_attn.h has no way to swap the K/V tensors of a plan, so every
 * layer re-plans (cost: a small synchronous upload and the summary/block-map
 * kernels per layer).  With MJ_ATTN_HAVE_SET_TENSORS (a requested additive
 * mj_attn_set_tensors) one plan per chunk serves every layer.
 *
 * Graphs: a decode step captured once is replayed while the key stays the
 * same: the chunk's rows and, for the sparse kernels, the plan's launch key
 * (mj_attn_launch_key: grid, cluster and parameter block).  A row growing by
 * one token keeps it unless the split count changes, so a long generation
 * replays one graph (MJ_CUDA_GRAPH_KEY=blocks: the older key, each row's
 * number of 64-key blocks, which re-captured every 64 tokens). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_fwd.h"

#define SPARSE_KEY_BLOCK 64

/* The first error message of d (or a fallback). */
static const char *first_error(const mj_diags *d, const char *fallback) {
    for (size_t i = 0; i < d->n; i++)
        if (d->items[i].sev == MJ_SEV_ERROR) return d->items[i].msg;
    return fallback;
}

typedef struct sparse_state {
    int32_t *q_len, *k_len, *k_cap;
    int64_t *k_start;
    mj_env *envs;
    mj_attn_batch b;
    bool decode;
    int32_t planned_layer;      /* layer whose tensors the last plan holds, -1: none */
} sparse_state;

static sparse_state *sparse_of(cuda_attn_ctx *a) { return (sparse_state *)a->h_envs; }

static mj_cu_ptr layer_cache(const mj_seqs *s, mj_cu_ptr base, int32_t l) {
    const cuda_engine *ce = s->e->impl;
    const cuda_seqs *cs = s->impl;
    return base + (mj_cu_ptr)((int64_t)l * cs->cap_total * ce->G * ce->D * 2);
}

/* ---- naive path -------------------------------------------------------------------------- */

static int naive_open(mj_seqs *s, char *err, size_t errn) {
    cuda_engine *ce = s->e->impl;
    cuda_seqs *cs = s->impl;
    cuda_attn_ctx *a = &cs->attn;
    const mj_program *p = s->prog;
    mj_cuda_opts o = {0};
    o.arch = mj_cu_arch(ce->cu);
    o.template_name = "fwd_attn_naive";
    mj_cuda_artifact art;
    mj_diags d;
    mj_diags_init(&d);
    int rc = mj_cuda_compile(p, &o, &art, &d);
    if (rc != 0) {
        snprintf(err, errn, "naive attention kernel: %s", first_error(&d, "NVRTC failed"));
        mj_diags_free(&d);
        return -1;
    }
    mj_diags_free(&d);
    rc = mj_cu_module_load(ce->cu, art.cubin, &a->mod);
    mj_cuda_artifact_free(&art);
    if (rc != 0 || mj_cu_function(ce->cu, a->mod, "mj_fwd_attn_naive", &a->fn) != 0) {
        snprintf(err, errn, "naive attention kernel: %s", mj_cu_error(ce->cu));
        return -1;
    }
    /* device envs: [n_rows] mj_env, then every row's annotations, params, heads */
    int64_t vals = 0;
    for (int r = 0; r < s->n_rows; r++)
        vals += (int64_t)p->n_tokens * s->rows[r].cap + p->n_param_slots + (int64_t)p->n_heads * ce->H;
    size_t env_bytes = (size_t)s->n_rows * sizeof(mj_env);
    size_t total = env_bytes + (size_t)vals * sizeof(mj_value);
    a->h_envs = calloc((size_t)s->n_rows, sizeof(mj_env));
    mj_value *img = malloc(vals > 0 ? (size_t)vals * sizeof(mj_value) : 1);
    if (!a->h_envs || !img || mj_cu_alloc(ce->cu, &a->env_buf, total) != 0 ||
        mj_cu_alloc(ce->cu, &a->klen_buf, (size_t)s->n_rows * 12) != 0) {
        free(img);
        snprintf(err, errn, "naive attention: out of memory");
        return -1;
    }
    int64_t vi = 0;
    mj_cu_ptr data = a->env_buf + env_bytes;
    for (int r = 0; r < s->n_rows; r++) {
        const mj_row *row = &s->rows[r];
        mj_env e = row->env;
        int64_t nt = (int64_t)p->n_tokens * row->cap;
        e.tokens = (const mj_value *)(uintptr_t)(data + (size_t)vi * sizeof(mj_value));
        if (nt) memcpy(img + vi, row->annot, (size_t)nt * sizeof(mj_value));
        vi += nt;
        e.params = (const mj_value *)(uintptr_t)(data + (size_t)vi * sizeof(mj_value));
        if (p->n_param_slots) memcpy(img + vi, row->params, (size_t)p->n_param_slots * sizeof(mj_value));
        vi += p->n_param_slots;
        e.heads = (const float *)(uintptr_t)(data + (size_t)vi * sizeof(mj_value));
        if (p->n_heads) memcpy(img + vi, row->heads, (size_t)(p->n_heads * ce->H) * sizeof(float));
        vi += (int64_t)p->n_heads * ce->H;
        a->h_envs[r] = e;
    }
    rc = mj_cu_upload(ce->cu, data, img, (size_t)vals * sizeof(mj_value));
    free(img);
    if (rc != 0) { snprintf(err, errn, "naive attention: %s", mj_cu_error(ce->cu)); return -1; }
    return 0;
}

/* Current seq_len / k_len of every row to the device (stream-ordered). */
static int naive_begin(mj_seqs *s) {
    cuda_engine *ce = s->e->impl;
    cuda_seqs *cs = s->impl;
    cuda_attn_ctx *a = &cs->attn;
    int n = s->n_rows;
    uint8_t *tab = malloc((size_t)n * 12);
    if (!tab) return mj_seqs_fail(s, "out of memory");
    for (int r = 0; r < n; r++) {
        a->h_envs[r].seq_len = s->rows[r].env.seq_len;
        int32_t kl = s->rows[r].len;
        memcpy(tab + (size_t)r * 8, &cs->k_start[r], 8);
        memcpy(tab + (size_t)n * 8 + (size_t)r * 4, &kl, 4);
    }
    int rc = mj_cu_upload_async(ce->cu, a->env_buf, a->h_envs, (size_t)n * sizeof(mj_env), ce->st);
    if (rc == 0) rc = mj_cu_upload_async(ce->cu, a->klen_buf, tab, (size_t)n * 12, ce->st);
    if (rc == 0) rc = mj_cu_stream_sync(ce->cu, ce->st);   /* the host images are reused */
    free(tab);
    return rc == 0 ? 0 : mj_seqs_fail(s, "attention: %s", mj_cu_error(ce->cu));
}

typedef struct naive_params {
    mj_cu_ptr q, k, v, o, tok_row, tok_q, k_start, k_len, envs;
    int64_t q_stride, kv_stride, o_stride;
    int32_t H, G, D;
    float scale;
} naive_params;

static int naive_layer(mj_seqs *s, const cuda_chunk *c, int32_t l) {
    cuda_engine *ce = s->e->impl;
    cuda_seqs *cs = s->impl;
    cuda_attn_ctx *a = &cs->attn;
    naive_params p = {cs->qkv, layer_cache(s, cs->kc, l), layer_cache(s, cs->vc, l), cs->att,
                      cs->d_row, cs->d_q, a->klen_buf, a->klen_buf + (size_t)s->n_rows * 8,
                      a->env_buf, ce->qkv_n, (int64_t)ce->G * ce->D, ce->qkv_n, ce->H, ce->G, ce->D,
                      1.0f / sqrtf((float)ce->D)};
    void *args[] = {&p};
    if (mj_cu_launch_on(ce->cu, ce->st, a->fn, (unsigned)c->T, (unsigned)ce->H, 1, 128, 0, args) != 0)
        return mj_seqs_fail(s, "naive attention: %s", mj_cu_error(ce->cu));
    return 0;
}

/* ---- sparse path ------------------------------------------------------------------------- */

static int sparse_open(mj_seqs *s, char *err, size_t errn) {
    cuda_engine *ce = s->e->impl;
    cuda_attn_ctx *a = &((cuda_seqs *)s->impl)->attn;
    mj_diags d;
    mj_diags_init(&d);
    a->sparse = mj_attn_init(ce->cu, s->prog, ce->D, NULL, &d);
    if (!a->sparse) {
        snprintf(err, errn, "attention kernels: %s", first_error(&d, "cannot build"));
        mj_diags_free(&d);
        return -1;
    }
    mj_diags_free(&d);
    mj_attn_set_pdl(a->sparse, ce->pdl && ce->attn_pdl);
    mj_attn_set_decode_clusters(a->sparse, 0);   /* lost between the products (cuda_attn.h) */
    sparse_state *st = calloc(1, sizeof *st);
    int n = s->n_rows;
    if (st) {
        st->q_len = calloc((size_t)n, sizeof *st->q_len);
        st->k_len = calloc((size_t)n, sizeof *st->k_len);
        st->k_cap = calloc((size_t)n, sizeof *st->k_cap);
        st->k_start = calloc((size_t)n, sizeof *st->k_start);
        st->envs = calloc((size_t)n, sizeof *st->envs);
    }
    a->h_envs = (mj_env *)st;   /* the sparse path keeps its state here */
    if (!st || !st->q_len || !st->k_len || !st->k_cap || !st->k_start || !st->envs) {
        snprintf(err, errn, "out of memory");
        return -1;
    }
    return 0;
}

static void sparse_close(cuda_attn_ctx *a) {
    sparse_state *st = sparse_of(a);
    if (st) {
        free(st->q_len);
        free(st->k_len);
        free(st->k_cap);
        free(st->k_start);
        free(st->envs);
        free(st);
    }
    a->h_envs = NULL;
    mj_attn_free(a->sparse);
    a->sparse = NULL;
}

static int sparse_plan(mj_seqs *s, int32_t l) {
    cuda_seqs *cs = s->impl;
    sparse_state *st = sparse_of(&cs->attn);
    st->b.k = layer_cache(s, cs->kc, l);
    st->b.v = layer_cache(s, cs->vc, l);
    if (mj_attn_plan(cs->attn.sparse, &st->b, st->decode) != 0)
        return mj_seqs_fail(s, "attention plan: %s", mj_attn_error(cs->attn.sparse));
    st->planned_layer = l;
    return 0;
}

static int sparse_begin(mj_seqs *s, const cuda_chunk *c) {
    cuda_engine *ce = s->e->impl;
    cuda_seqs *cs = s->impl;
    sparse_state *st = sparse_of(&cs->attn);
    int32_t max_q = 0;
    for (int i = 0; i < c->n; i++) {
        const mj_row *row = &s->rows[c->rows[i]];
        st->q_len[i] = c->q1[i] - c->q0[i];
        st->k_len[i] = c->q1[i];
        st->k_cap[i] = row->cap;
        st->k_start[i] = cs->k_start[c->rows[i]];
        st->envs[i] = row->env;
        if (st->q_len[i] > max_q) max_q = st->q_len[i];
    }
    mj_attn_batch b = {c->n, ce->H, ce->G, st->q_len, st->k_len, st->k_start, cs->qkv, 0, 0,
                       cs->att, ce->qkv_n, (int64_t)ce->G * ce->D, st->envs, st->k_cap};
    st->b = b;
    st->decode = max_q <= CUDA_SKINNY_MAX;
    return sparse_plan(s, 0);
}

static int sparse_layer(mj_seqs *s, int32_t l) {
    cuda_seqs *cs = s->impl;
    sparse_state *st = sparse_of(&cs->attn);
#ifdef MJ_ATTN_HAVE_SET_TENSORS
    if (st->planned_layer != l &&
        mj_attn_set_tensors(cs->attn.sparse, st->b.q, layer_cache(s, cs->kc, l), layer_cache(s, cs->vc, l),
                            st->b.o) != 0)
        return mj_seqs_fail(s, "attention: %s", mj_attn_error(cs->attn.sparse));
    st->planned_layer = l;
#else
    if (st->planned_layer != l && sparse_plan(s, l) != 0) return -1;
#endif
    if (mj_attn_run(cs->attn.sparse) != 0)
        return mj_seqs_fail(s, "attention: %s", mj_attn_error(cs->attn.sparse));
    return 0;
}

/* ---- the adapter ------------------------------------------------------------------------------ */

int cuda_attn_open(mj_seqs *s, char *err, size_t errn) {
    cuda_engine *ce = s->e->impl;
    cuda_seqs *cs = s->impl;
    bool sparse_ok = ce->D == 64 || ce->D == 128;
    cs->attn.naive = ce->attn_mode == CUDA_ATTN_NAIVE || (!sparse_ok && ce->attn_mode != CUDA_ATTN_SPARSE);
    if (!cs->attn.naive && !sparse_ok) {
        snprintf(err, errn, "the block-sparse attention kernels take head_dim 64 or 128, not %d", ce->D);
        return -1;
    }
    if (cs->attn.naive && ce->D > 256) {
        snprintf(err, errn, "attention: head_dim %d is above 256", ce->D);
        return -1;
    }
    const char *gk = getenv("MJ_CUDA_GRAPH_KEY");
    cs->attn.key_blocks = gk && !strcmp(gk, "blocks");
    mj_cu_set_stream(ce->cu, ce->st);   /* the sparse kernels launch on the engine's stream */
    return cs->attn.naive ? naive_open(s, err, errn) : sparse_open(s, err, errn);
}

void cuda_attn_close(mj_seqs *s) {
    cuda_engine *ce = s->e->impl;
    cuda_seqs *cs = s->impl;
    cuda_attn_ctx *a = &cs->attn;
    if (a->naive) {
        free(a->h_envs);
        a->h_envs = NULL;
        if (a->mod) mj_cu_module_unload(ce->cu, a->mod);
        mj_cu_free(ce->cu, a->env_buf);
        mj_cu_free(ce->cu, a->klen_buf);
    } else {
        sparse_close(a);
    }
    memset(a, 0, sizeof *a);
}

int cuda_attn_begin(mj_seqs *s, const cuda_chunk *c) {
    cuda_engine *ce = s->e->impl;
    mj_cu_set_stream(ce->cu, ce->st);
    return ((cuda_seqs *)s->impl)->attn.naive ? naive_begin(s) : sparse_begin(s, c);
}

int cuda_attn_layer(mj_seqs *s, const cuda_chunk *c, int32_t l) {
    bool naive = ((cuda_seqs *)s->impl)->attn.naive;
    if ((naive ? naive_layer(s, c, l) : sparse_layer(s, l)) != 0) return -1;
    return cuda_debug_check(s, naive ? "naive attention" : "block-sparse attention");
}

bool cuda_attn_graphable(mj_seqs *s, const cuda_chunk *c, uint64_t *key) {
    cuda_seqs *cs = s->impl;
    const bool sparse = !cs->attn.naive;
    uint64_t h = 0xcbf29ce484222325ull;
#define MIX(v) (h = (h ^ (uint64_t)(v)) * 0x100000001b3ull)
    MIX(c->n);
    for (int i = 0; i < c->n; i++) {
        if (c->q1[i] - c->q0[i] != 1) return false;
        MIX(c->rows[i]);
        if (sparse && cs->attn.key_blocks) MIX((c->q1[i] + SPARSE_KEY_BLOCK - 1) / SPARSE_KEY_BLOCK);
    }
    if (sparse && !cs->attn.key_blocks) MIX(mj_attn_launch_key(cs->attn.sparse));   /* the plan of this step */
#undef MIX
    *key = h;
    return true;
}
