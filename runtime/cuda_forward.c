/* cuda_forward.c — one engine step on the GPU (mj_engine_ops.seqs_step):
 * the rows' pending tokens in chunks of whole rows, each chunk packed into
 * T tokens and run through every layer: embedding gather, RMSNorm, fused
 * q|k|v product (+ bias), q/k norm + RoPE + KV-cache append, block-sparse
 * attention, output product + residual, RMSNorm, fused gate|up product,
 * SwiGLU, down product + residual; then the final norm of each row's last
 * token, the lm_head product (f32 logits) and one download.
 *
 * Products: cuBLASLt (bf16 in, f32 accumulate) when T > ce->skinny_max (2 rows),
 * else the memory-bound skinny kernels, which also fuse the RMSNorm (rows
 * normalised once per block into shared memory), the residual add and
 * SwiGLU, and for the q|k|v product of layers without q/k norm RoPE and the
 * KV-cache append (one kernel instead of two); the o and down products
 * split K over two warps per column (384 blocks of one warp per column
 * leave too few loads in flight).  Every kernel is a programmatic dependent
 * launch on sm_90 (the decode attention too).  Decode steps (one new token
 * per row) are captured into a CUDA graph and replayed while the
 * attention's launch shape stays the same (cuda_attn_graphable). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cuda_engine.h"
#include "cuda_fwd.h"

/* Host mirrors of the kernels' by-value parameter blocks (fwd_kernels.cu). */
typedef struct rope_args {
    mj_cu_ptr qkv, pos, slot, inv_freq, q_norm, k_norm, kc, vc;
    int32_t H, G, D;
    float eps;
} rope_args;

typedef struct gemv_args {
    mj_cu_ptr x, w, bias, y, norm;
    int64_t ldx, ldy;
    int32_t M, N, K, mode;
    float eps;
    int32_t xs, pf;
    mj_cu_ptr ids, picks, xout;   /* embedding mode (layer 0's q|k|v with the embedding fused) */
} gemv_args;

typedef struct gemv_rope_args {
    gemv_args g;
    mj_cu_ptr pos, slot, inv_freq, kc, vc;
    int32_t H, G, D, pad_;
} gemv_rope_args;

enum { GV_BF16 = 0, GV_RESID = 1, GV_F32 = 2 };

/* Launch one of the forward kernels on the engine's stream, as a
 * programmatic dependent launch when enabled (the kernels wait for their
 * predecessor themselves: fwd_kernels.cu's pdl_wait). */
static int launch_smem(mj_seqs *s, int k, unsigned gx, unsigned gy, unsigned block, unsigned smem, void **args) {
    cuda_engine *ce = s->e->impl;
    if (ce->pdl) return mj_cu_launch_pdl(ce->cu, ce->st, ce->k.fn[k], gx, gy, 1, block, smem, args);
    return mj_cu_launch_on(ce->cu, ce->st, ce->k.fn[k], gx, gy, 1, block, smem, args);
}
static int launch(mj_seqs *s, int k, unsigned gx, unsigned gy, unsigned block, void **args) {
    return launch_smem(s, k, gx, gy, block, 0, args);
}

/* Dynamic shared memory for a skinny product's normalised rows (gemv_args.xs):
 * M * K bf16 when the RMSNorm is fused, MJ_CUDA_NORM_SMEM is on and it fits
 * 40 KB (under the 48 KB a launch may take without opting in, beside the
 * kernel's static arrays); else 0 (normalised per warp in the loop). */
static unsigned norm_smem(const cuda_engine *ce, int64_t M, int64_t K, mj_cu_ptr norm) {
    int64_t b = M * K * 2;
    return norm && ce->norm_smem && b <= 40 * 1024 ? (unsigned)b : 0;
}

static int cu_fail(mj_seqs *s, const char *what) {
    cuda_engine *ce = s->e->impl;
    return mj_seqs_fail(s, "%s: %s", what, mj_cu_error(ce->cu));
}

/* ---- products ------------------------------------------------------------------------------ */

/* Offset of the skinny kernel instantiated for M rows (1, 2, 4, 8) from its
 * 1-row kernel in the FK_* table. */
static int skinny_variant(int64_t M) { return M <= 1 ? 0 : M <= 2 ? 1 : M <= 4 ? 2 : 3; }

static int skinny_fn(int M, bool glu) {
    return (glu ? FK_GLU1 : FK_GEMV1) + skinny_variant(M);
}

/* Warps per output column of a skinny product (the _k2 kernels split K in
 * two): 2 when one warp per column gives fewer than ~5 blocks of 8 warps
 * per SM (the o and down products: 384 blocks on 132 SMs), so that more
 * weight loads are in flight. */
static int skinny_ksplit(const cuda_engine *ce, int64_t N, int64_t K) {
    if (ce->ksplit == 2) return 2;
    return ce->ksplit == 1 && N / 8 < 5 * (int64_t)mj_cu_sm_count(ce->cu) && K >= 2048 ? 2 : 1;
}

/* The skinny products a decode step runs, for the prefetch switches. */
enum { PK_QKV, PK_O, PK_GU, PK_DOWN, PK_LM, PK_OTHER };

/* gemv_args.pf of a skinny product of kind pk: bit 1 when it prefetches its
 * later weight chunks into L2 after the PDL wait (ce->gemv_pf bits: 1 o,
 * 2 down, 4 lm_head, 8 the others), bit 2 when it prefetches its second
 * chunk before its RMSNorm prologue (ce->gemv_pf_next bits: 1 q|k|v,
 * 2 gate|up, 4 lm_head). */
static int32_t gemv_pf(const cuda_engine *ce, int pk) {
    int rest = pk == PK_O ? 1 : pk == PK_DOWN ? 2 : pk == PK_LM ? 4 : 8;
    int next = pk == PK_QKV ? 1 : pk == PK_GU ? 2 : pk == PK_LM ? 4 : 0;
    return ((ce->gemv_pf & rest) ? 1 : 0) | ((ce->gemv_pf_next & next) ? 2 : 0);
}

/* The kind of a product gemm_n runs (q|k|v, gate|up and lm_head with
 * their norms come from their own callers or the mode). */
static int gemm_kind(const cuda_engine *ce, int mode, int64_t K, mj_cu_ptr norm) {
    if (mode == GV_F32) return PK_LM;
    if (mode == GV_RESID) return K == ce->I ? PK_DOWN : PK_O;
    return norm ? PK_QKV : PK_OTHER;
}

/* Y[M x N] = norm(X) W^T (+ bias), mode GV_*: bf16, residual (Y += bf16(.)),
 * f32; norm (skinny only): RMSNorm weight applied to X's rows on the fly. */
static int gemm_n(mj_seqs *s, bool skinny, int64_t M, int64_t N, int64_t K, mj_cu_ptr X, int64_t ldx, mj_cu_ptr norm,
                  mj_cu_ptr W, mj_cu_ptr bias, mj_cu_ptr Y, int64_t ldy, int mode) {
    cuda_engine *ce = s->e->impl;
    if (skinny) {
        int pk = gemm_kind(ce, mode, K, norm);
        unsigned smem = norm_smem(ce, M, K, norm);
        if (!norm && pk == PK_O && (ce->gemv_xs & 1) && M * K * 2 <= 40 * 1024) smem = (unsigned)(M * K * 2);
        gemv_args a = {X, W, bias, Y, norm, ldx, ldy, (int32_t)M, (int32_t)N, (int32_t)K, mode,
                       s->e->model->cfg.rms_eps, smem > 0, gemv_pf(ce, pk), 0, 0, 0};
        void *args[] = {&a};
        int ks = skinny_ksplit(ce, N, K), fn = skinny_fn((int)M, false) + (ks == 2 ? FK_GEMV1K2 - FK_GEMV1 : 0);
        if (launch_smem(s, fn, (unsigned)((N * ks + 7) / 8), 1, 256, smem, args) != 0)
            return cu_fail(s, "skinny product");
        return cuda_debug_check(s, "skinny product");
    }
    if (mode == GV_RESID || norm) return mj_seqs_fail(s, "internal: fused product without the skinny kernels");
    if (mj_blas_gemm(ce->blas, ce->st, M, N, K, X, ldx, W, bias, Y, ldy, mode == GV_F32) != 0)
        return mj_seqs_fail(s, "%s", mj_blas_error(ce->blas));
    return cuda_debug_check(s, "cuBLASLt product");
}

static int gemm(mj_seqs *s, bool skinny, int64_t M, int64_t N, int64_t K, mj_cu_ptr X, int64_t ldx, mj_cu_ptr W,
                mj_cu_ptr bias, mj_cu_ptr Y, int64_t ldy, int mode) {
    return gemm_n(s, skinny, M, N, K, X, ldx, 0, W, bias, Y, ldy, mode);
}

/* K split of the fused q|k|v + RoPE product: as the unfused q|k|v product
 * would take it (ce->rope_ksplit, or MJ_CUDA_KSPLIT=2), else 1. */
static int qkv_ksplit(const cuda_engine *ce) {
    return ce->rope_ksplit || ce->ksplit == 2 ? skinny_ksplit(ce, ce->qkv_n, ce->hid) : 1;
}

/* Whether a fused layer's q|k|v product also does RoPE and the KV append
 * (gemm_qkv_rope; models with q/k norm take the rope kernel). */
static bool qkv_rope_fused(const cuda_engine *ce, const cuda_layer *w) {
    return ce->fuse_rope && !w->q_norm && !w->k_norm;
}

/* Whether chunk c's embedding is gathered by layer 0's fused q|k|v product
 * (mj_fwd_gemv_rope_emb1: one token, no K split, its row staged in shared
 * memory) instead of mj_fwd_embed: the layer_fused -> gemm_qkv_rope path. */
static bool embed_in_qkv(const mj_seqs *s, const cuda_chunk *c) {
    const cuda_engine *ce = s->e->impl;
    const cuda_layer *w = &ce->lw[0];
    return ce->fuse_embed && ce->skinny && c->T == 1 && ce->fuse_norm && qkv_rope_fused(ce, w) &&
           qkv_ksplit(ce) == 1 && norm_smem(ce, 1, ce->hid, w->attn_norm) > 0;
}

/* Layer l's q|k|v product of the chunk's T tokens with the RMSNorm, RoPE
 * and the KV-cache append fused (skinny, no q/k norm): the roped q into
 * cs->qkv, k and v into the caches; replaces gemm_n + rope. */
static int gemm_qkv_rope(mj_seqs *s, int64_t T, int32_t l) {
    cuda_engine *ce = s->e->impl;
    cuda_seqs *cs = s->impl;
    const cuda_layer *w = &ce->lw[l];
    int64_t layer = (int64_t)l * cs->cap_total * ce->G * ce->D * 2;
    unsigned smem = norm_smem(ce, T, ce->hid, w->attn_norm);
    const bool emb = l == 0 && cs->embed_fused;   /* input row straight from the embedding table */
    gemv_rope_args a = {{emb ? ce->embed : cs->x, w->wqkv, w->bqkv, cs->qkv, w->attn_norm, ce->hid, ce->qkv_n,
                         (int32_t)T, ce->qkv_n, ce->hid, GV_BF16, s->e->model->cfg.rms_eps, smem > 0,
                         gemv_pf(ce, PK_QKV), emb ? cs->d_ids : 0, emb ? cs->d_greedy : 0, emb ? cs->x : 0},
                        cs->d_pos, cs->d_slot, ce->inv_freq, cs->kc + (mj_cu_ptr)layer, cs->vc + (mj_cu_ptr)layer,
                        ce->H, ce->G, ce->D, 0};
    void *args[] = {&a};
    int ks = qkv_ksplit(ce);
    int fn = emb ? FK_GROPE_EMB1 : (ks == 2 ? FK_GROPE1K2 : FK_GROPE1) + skinny_variant(T);
    if (launch_smem(s, fn, (unsigned)(ce->qkv_n * ks / 8), 1, 256, smem, args) != 0)
        return cu_fail(s, "skinny q|k|v product + RoPE");
    return cuda_debug_check(s, "skinny q|k|v product + RoPE");
}

/* act[M x I] = SwiGLU(norm(X) Wgu^T) with the skinny kernel (norm may be 0). */
static int gemm_glu(mj_seqs *s, int64_t M, int64_t K, mj_cu_ptr X, mj_cu_ptr norm, mj_cu_ptr Wgu, mj_cu_ptr act) {
    cuda_engine *ce = s->e->impl;
    unsigned smem = norm_smem(ce, M, K, norm);
    gemv_args a = {X, Wgu, 0, act, norm, K, ce->I, (int32_t)M, 2 * ce->I, (int32_t)K, GV_BF16,
                   s->e->model->cfg.rms_eps, smem > 0, gemv_pf(ce, PK_GU), 0, 0, 0};
    void *args[] = {&a};
    if (launch_smem(s, skinny_fn((int)M, true), (unsigned)((ce->I + 7) / 8), 1, 256, smem, args) != 0)
        return cu_fail(s, "skinny gate/up product");
    return cuda_debug_check(s, "skinny gate/up product");
}

/* ---- element-wise kernels ---------------------------------------------------------------------- */

/* (x += delta); out = RMSNorm(x) * w over n rows (rows idx[i] of x when idx). */
static int add_rmsnorm(mj_seqs *s, int64_t n, mj_cu_ptr delta, mj_cu_ptr w, mj_cu_ptr out, mj_cu_ptr idx) {
    cuda_engine *ce = s->e->impl;
    cuda_seqs *cs = s->impl;
    float eps = s->e->model->cfg.rms_eps;
    int hid = ce->hid;
    void *args[] = {&cs->x, &delta, &w, &out, &idx, &hid, &eps};
    unsigned threads = hid >= 2048 ? 512 : hid >= 512 ? 256 : 128;
    if (launch(s, FK_ADD_RMSNORM, (unsigned)n, 1, threads, args) != 0)
        return cu_fail(s, "rmsnorm");
    return cuda_debug_check(s, "rmsnorm");
}

static int rope(mj_seqs *s, int64_t T, int32_t l) {
    cuda_engine *ce = s->e->impl;
    cuda_seqs *cs = s->impl;
    const cuda_layer *cl = &ce->lw[l];
    int64_t layer = (int64_t)l * cs->cap_total * ce->G * ce->D * 2;
    rope_args a = {cs->qkv, cs->d_pos, cs->d_slot, ce->inv_freq, cl->q_norm, cl->k_norm,
                   cs->kc + (mj_cu_ptr)layer, cs->vc + (mj_cu_ptr)layer, ce->H, ce->G, ce->D,
                   s->e->model->cfg.rms_eps};
    void *args[] = {&a};
    if (launch(s, FK_ROPE_QKV, (unsigned)T, 1, 128, args) != 0)
        return cu_fail(s, "rope");
    return cuda_debug_check(s, "rope");
}

static int swiglu(mj_seqs *s, int64_t T) {
    cuda_engine *ce = s->e->impl;
    cuda_seqs *cs = s->impl;
    int I = ce->I;
    void *args[] = {&cs->gu, &cs->act, &I};
    if (launch(s, FK_SWIGLU, (unsigned)((I + 255) / 256), (unsigned)T, 256, args) != 0)
        return cu_fail(s, "swiglu");
    return cuda_debug_check(s, "swiglu");
}

/* ---- the layers ------------------------------------------------------------------------------- */

/* Skinny layer with the RMSNorms fused into the q|k|v and gate|up products
 * (and RoPE + KV append into the q|k|v one, ce->fuse_rope) and the residual
 * adds into the o and down products (4-5 kernels + attention). */
static int layer_fused(mj_seqs *s, const cuda_chunk *c, int32_t l) {
    cuda_engine *ce = s->e->impl;
    cuda_seqs *cs = s->impl;
    const cuda_layer *w = &ce->lw[l];
    int64_t T = c->T, hid = ce->hid, HD = (int64_t)ce->H * ce->D, I = ce->I;
    if (qkv_rope_fused(ce, w)) {
        if (gemm_qkv_rope(s, T, l) != 0) return -1;
    } else if (gemm_n(s, true, T, ce->qkv_n, hid, cs->x, hid, w->attn_norm, w->wqkv, w->bqkv, cs->qkv, ce->qkv_n,
                      GV_BF16) ||
               rope(s, T, l)) {
        return -1;
    }
    if ((!ce->dev_skip_attn && cuda_attn_layer(s, c, l)) ||
        gemm(s, true, T, hid, HD, cs->att, ce->qkv_n, w->wo, 0, cs->x, hid, GV_RESID) ||
        gemm_glu(s, T, hid, cs->x, w->ffn_norm, w->wgu, cs->act) ||
        gemm(s, true, T, hid, I, cs->act, I, w->wd, 0, cs->x, hid, GV_RESID))
        return -1;
    return 0;
}

static int layer(mj_seqs *s, const cuda_chunk *c, int32_t l, bool sk, mj_cu_ptr *delta) {
    cuda_engine *ce = s->e->impl;
    cuda_seqs *cs = s->impl;
    const cuda_layer *w = &ce->lw[l];
    int64_t T = c->T, hid = ce->hid, HD = (int64_t)ce->H * ce->D, I = ce->I;
    if (sk && ce->fuse_norm && !*delta) return layer_fused(s, c, l);
    if (add_rmsnorm(s, T, *delta, w->attn_norm, cs->xn, 0) ||
        gemm(s, sk, T, ce->qkv_n, hid, cs->xn, hid, w->wqkv, w->bqkv, cs->qkv, ce->qkv_n, GV_BF16) ||
        rope(s, T, l) || cuda_attn_layer(s, c, l))
        return -1;
    if (sk ? gemm(s, true, T, hid, HD, cs->att, ce->qkv_n, w->wo, 0, cs->x, hid, GV_RESID)
           : gemm(s, false, T, hid, HD, cs->att, ce->qkv_n, w->wo, 0, cs->tmp, hid, GV_BF16))
        return -1;
    if (add_rmsnorm(s, T, sk ? 0 : cs->tmp, w->ffn_norm, cs->xn, 0)) return -1;
    if (sk) {
        if (gemm_glu(s, T, hid, cs->xn, 0, w->wgu, cs->act) ||
            gemm(s, true, T, hid, I, cs->act, I, w->wd, 0, cs->x, hid, GV_RESID))
            return -1;
        *delta = 0;
        return 0;
    }
    if (gemm(s, false, T, 2 * I, hid, cs->xn, hid, w->wgu, 0, cs->gu, 2 * I, GV_BF16) || swiglu(s, T) ||
        gemm(s, false, T, hid, I, cs->act, I, w->wd, 0, cs->tmp, hid, GV_BF16))
        return -1;
    *delta = cs->tmp;
    return 0;
}

/* Every kernel of a chunk after its inputs are on the device, up to the
 * logits [c->n x V] in cs->logits.  Graph-capturable. */
static int launch_chunk(mj_seqs *s, const cuda_chunk *c) {
    cuda_engine *ce = s->e->impl;
    cuda_seqs *cs = s->impl;
    bool sk = ce->skinny && c->T <= ce->skinny_max;
    int hid = ce->hid;
    cs->embed_fused = embed_in_qkv(s, c);
    void *eargs[] = {&cs->d_ids, &cs->d_greedy, &ce->embed, &cs->x, &hid};
    if (!cs->embed_fused && launch(s, FK_EMBED, (unsigned)c->T, 1, 128, eargs) != 0)
        return cu_fail(s, "embedding");
    if (cuda_debug_check(s, "embedding") != 0) return -1;
    mj_cu_ptr delta = 0;
    for (int32_t l = 0; l < ce->L; l++)
        if (layer(s, c, l, sk, &delta) != 0) return -1;
    if (cs->trace_top1) {   /* every token's final norm, for mj_cuda_seqs_trace */
        if (add_rmsnorm(s, c->T, delta, ce->final_norm, cs->xn, 0)) return -1;
        delta = 0;
    }
    bool skl = ce->skinny && c->n <= ce->skinny_max;
    if (add_rmsnorm(s, c->n, delta, ce->final_norm, cs->xl, cs->d_last) ||
        gemm(s, skl, c->n, ce->V, hid, cs->xl, hid, ce->lm_head, 0, cs->logits, ce->V, GV_F32))
        return -1;
    if (cs->want_greedy) {
        int V = (int)ce->V;
        mj_cu_ptr cnt = cs->d_greedy + (mj_cu_ptr)cuda_greedy_cnt_offset(s->n_rows);
        mj_cu_ptr part = cs->d_greedy + (mj_cu_ptr)cuda_greedy_part_offset(s->n_rows);
        mj_cu_ptr seq = cs->d_greedy + (mj_cu_ptr)cuda_greedy_seq_offset(s->n_rows);
        int hstride = s->n_rows;
        void *gargs[] = {&cs->logits, &cs->d_greedy, &cnt, &part, &V, &cs->d_map, &seq, &hstride};
        if (launch(s, FK_ARGMAX, (unsigned)ce->argmax_blocks, (unsigned)c->n, 256, gargs) != 0)
            return cu_fail(s, "greedy pick");
        if (cuda_debug_check(s, "greedy pick") != 0) return -1;
    }
    return 0;
}

/* ---- a chunk ------------------------------------------------------------------------------------ */

/* Packs the chunk's token ids, positions, rows, query indices, last-token
 * indices and cache slots (int32 [T] x 4, int32 [n], int64 [T], laid out
 * for this chunk's T and n, which the decode graph's key includes) into the
 * next pinned image (after its previous upload has completed), uploads
 * those bytes alone and points d_ids .. d_slot at them.  An MJ_TOKEN_AHEAD
 * token goes up as -1 - i: the embedding takes pick i of d_greedy, the
 * row's index in the chunk uploaded before this one. */
static int upload_inputs(mj_seqs *s, const cuda_chunk *c) {
    cuda_engine *ce = s->e->impl;
    cuda_seqs *cs = s->impl;
    const int64_t T = c->T;
    const size_t off64 = cuda_inputs_slot_offset(T, c->n), bytes = cuda_inputs_bytes(T, c->n);
    const int img = cs->in_i;
    cs->in_i ^= 1;
    if (mj_cu_event_sync(ce->cu, cs->in_ev[img]) != 0) return cu_fail(s, "step inputs");
    void *h = (char *)cs->h_in + (size_t)img * cs->in_bytes;
    int32_t *ids = h, *pos = ids + T, *row = pos + T, *qi = row + T, *last = qi + T;
    int64_t *slot = (int64_t *)((char *)h + off64);
    cs->d_ids = cs->in_buf;
    cs->d_pos = cs->in_buf + (mj_cu_ptr)(T * 4);
    cs->d_row = cs->in_buf + (mj_cu_ptr)(T * 8);
    cs->d_q = cs->in_buf + (mj_cu_ptr)(T * 12);
    cs->d_last = cs->in_buf + (mj_cu_ptr)(T * 16);
    cs->d_slot = cs->in_buf + off64;
    int64_t t = 0;
    for (int i = 0; i < c->n; i++) {
        int r = c->rows[i];
        const mj_row *rw = &s->rows[r];
        for (int32_t q = c->q0[i]; q < c->q1[i]; q++, t++) {
            ids[t] = rw->tokens[q];
            if (ids[t] == MJ_TOKEN_AHEAD) {
                if (q != c->q1[i] - 1 || cs->prev_idx[r] < 0)
                    return mj_seqs_fail(s, "internal: row %d's run-ahead token has no pick before it", r);
                ids[t] = -1 - cs->prev_idx[r];
            }
            pos[t] = rw->pos[q];
            row[t] = r;
            qi[t] = q;
            slot[t] = cs->k_start[r] + q;
        }
        last[i] = (int32_t)(t - 1);
    }
    for (int r = 0; r < s->n_rows; r++) cs->prev_idx[r] = -1;
    for (int i = 0; i < c->n; i++) cs->prev_idx[c->rows[i]] = i;
    const bool skip = (ce->dev_skip_copies & 2) && cs->graph_steps > 0;   /* timing only */
    if ((!skip && mj_cu_upload_async(ce->cu, cs->in_buf, h, bytes, ce->st) != 0) ||
        mj_cu_event_record(ce->cu, cs->in_ev[img], ce->st) != 0)
        return cu_fail(s, "step inputs");
    return 0;
}

/* Run the chunk through a graph when it is a decode step (captured on a key
 * change), else eagerly. */
static int run_layers(mj_seqs *s, const cuda_chunk *c) {
    cuda_engine *ce = s->e->impl;
    cuda_seqs *cs = s->impl;
    uint64_t key = 0;
    if (!ce->graphs || cs->trace_top1 || !cuda_attn_graphable(s, c, &key)) return launch_chunk(s, c);
    key = key * 0x100000001b3ull ^ (uint64_t)c->T ^ ((uint64_t)ce->skinny << 63) ^ ((uint64_t)cs->want_greedy << 62);
    if (key != cs->graph_key) {
        /* a new shape: one eager step first (the attention plans settle their
         * workspace outside any capture), the capture on the next step */
        if (cs->graph) mj_cu_graph_free(ce->cu, cs->graph);
        cs->graph = NULL;
        cs->graph_key = key;
        return launch_chunk(s, c);
    }
    if (!cs->graph) {
        if (mj_cu_capture_begin(ce->cu, ce->st) != 0) {
            ce->graphs = false;
            return launch_chunk(s, c);
        }
        int rc = launch_chunk(s, c);
        void *g = NULL;
        int rc2 = mj_cu_capture_end(ce->cu, ce->st, &g);
        if (rc != 0 || rc2 != 0) {
            /* capture not possible here: run eagerly from now on (this seqs) */
            if (g) mj_cu_graph_free(ce->cu, g);
            ce->graphs = false;
            s->err[0] = '\0';
            return launch_chunk(s, c);
        }
        cs->graph = g;
        cs->graph_captures++;
    } else {
        cs->graph_steps++;
    }
    if (mj_cu_graph_launch(ce->cu, cs->graph, ce->st) != 0) return cu_fail(s, "graph launch");
    return 0;
}

/* Argmax and top-2 margin of every new token of the chunk's first row, from
 * the final-normed states left in cs->xn (mj_cuda_seqs_trace). */
static int trace_chunk(mj_seqs *s, const cuda_chunk *c) {
    cuda_engine *ce = s->e->impl;
    cuda_seqs *cs = s->impl;
    const int64_t P = 256, V = ce->V, n = c->q1[0] - c->q0[0];
    mj_cu_ptr buf = 0;
    float *h = malloc((size_t)(P * V) * sizeof *h);
    int rc = h && mj_cu_alloc(ce->cu, &buf, (size_t)(P * V) * sizeof(float)) == 0 ? 0 : -1;
    for (int64_t t0 = 0; rc == 0 && t0 < n; t0 += P) {
        int64_t m = n - t0 < P ? n - t0 : P;
        rc = gemm(s, false, m, V, ce->hid, cs->xn + (mj_cu_ptr)(t0 * ce->hid * 2), ce->hid, ce->lm_head, 0, buf, V,
                  GV_F32);
        if (rc == 0 && (mj_cu_download_async(ce->cu, h, buf, (size_t)(m * V) * sizeof(float), ce->st) != 0 ||
                        mj_cu_stream_sync(ce->cu, ce->st) != 0))
            rc = cu_fail(s, "trace");
        for (int64_t i = 0; rc == 0 && i < m; i++) {
            const float *x = h + i * V;
            int32_t b = 0;
            float second = -INFINITY;
            for (int32_t j = 1; j < V; j++)
                if (x[j] > x[b]) b = j;
            for (int32_t j = 0; j < V; j++)
                if (j != b && x[j] > second) second = x[j];
            cs->trace_top1[t0 + i] = b;
            cs->trace_margin[t0 + i] = x[b] - second;
        }
    }
    if (!h || (rc != 0 && !s->err[0])) mj_seqs_fail(s, "trace: out of memory");
    free(h);
    mj_cu_free(ce->cu, buf);
    cs->trace_top1 = NULL;
    cs->trace_margin = NULL;
    return rc;
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Chunk index i's pick in half `half` of the mapped picks (after the
 * launch that wrote it has completed). */
static int32_t pick_at(const mj_seqs *s, int half, int i) {
    const cuda_seqs *cs = s->impl;
    return ((const volatile int32_t *)cs->h_map)[(size_t)half * (size_t)s->n_rows + (size_t)i];
}

/* Chunk c on the stream, without waiting: inputs, attention plan, layers,
 * then the download of its results into dst (the rows' greedy picks with
 * cs->want_greedy, unless the argmax kernel writes them into h_map itself;
 * else their logits rows). */
static int enqueue_chunk(mj_seqs *s, const cuda_chunk *c, void *dst) {
    cuda_engine *ce = s->e->impl;
    cuda_seqs *cs = s->impl;
    double t0 = now_ms();
    if (upload_inputs(s, c) != 0 || cuda_debug_check(s, "step inputs") != 0 || cuda_attn_begin(s, c) != 0 ||
        cuda_debug_check(s, "attention plan") != 0)
        return -1;
    double t1 = now_ms();
    if (run_layers(s, c) != 0) return -1;
    if (cs->want_greedy && cs->h_map)   /* the argmax kernel writes the picks into h_map (pick_at) */
        for (int i = 0; i < c->n; i++) cs->cur_half[i] = (uint8_t)(cs->pick_seq[i]++ & 1u);
    int dl = 0;
    if (!cs->want_greedy)
        dl = mj_cu_download_async(ce->cu, dst, cs->logits, (size_t)c->n * (size_t)ce->V * sizeof(float), ce->st);
    else if (!cs->h_map && !(ce->dev_skip_copies & 1))   /* bit 1: timing only */
        dl = mj_cu_download_async(ce->cu, dst, cs->d_greedy, (size_t)c->n * sizeof(int32_t), ce->st);
    if (dl != 0) return cu_fail(s, cs->want_greedy ? "greedy picks" : "logits");
    cs->t_prep += t1 - t0;
    cs->t_launch += now_ms() - t1;
    return 0;
}

/* One chunk: inputs, attention plan, layers; then either the logits rows
 * (logits + r * V) or, with cs->want_greedy, the rows' greedy picks (ids[r]). */
static int run_chunk(mj_seqs *s, const cuda_chunk *c, float *logits, int32_t *ids) {
    cuda_engine *ce = s->e->impl;
    cuda_seqs *cs = s->impl;
    size_t row_bytes = (size_t)ce->V * sizeof(float);
    if (enqueue_chunk(s, c, cs->h_logits) != 0) return -1;
    double t2 = now_ms();
    if (mj_cu_stream_sync(ce->cu, ce->st) != 0) return cu_fail(s, "logits");
    double t3 = now_ms();
    if (cs->want_greedy) {
        const int32_t *h = (const int32_t *)cs->h_logits;
        for (int i = 0; i < c->n; i++) ids[c->rows[i]] = cs->h_map ? pick_at(s, cs->cur_half[i], i) : h[i];
    } else {
        for (int i = 0; i < c->n; i++)
            memcpy(logits + (size_t)c->rows[i] * (size_t)ce->V, cs->h_logits + (size_t)i * (size_t)ce->V,
                   row_bytes);
    }
    cs->t_wait += t3 - t2;
    cs->t_copy += now_ms() - t3;
    cs->n_chunks++;
    return cs->trace_top1 ? trace_chunk(s, c) : 0;
}

/* The next chunk of whole rows with pending tokens from row *r on (c->n
 * == 0: none left); *r moves past them.  0, or -1 for a row above the
 * chunk size. */
static int gather_chunk(mj_seqs *s, cuda_chunk *c, int *r) {
    cuda_seqs *cs = s->impl;
    c->n = 0;
    c->T = 0;
    for (; *r < s->n_rows; (*r)++) {
        const mj_row *row = &s->rows[*r];
        int64_t n = row->len - row->done;
        if (n <= 0) continue;
        if (c->n > 0 && c->T + n > cs->t_max) break;
        if (n > cs->t_max)
            return mj_seqs_fail(s, "row %d has %lld new tokens, above the chunk size %lld", *r, (long long)n,
                                (long long)cs->t_max);
        c->rows[c->n] = *r;
        c->q0[c->n] = row->done;
        c->q1[c->n] = row->len;
        c->n++;
        c->T += n;
    }
    return 0;
}

/* Every row's pending tokens in chunks of whole rows (cuda_seqs_step and
 * cuda_seqs_step_greedy). */
static int step_rows(mj_seqs *s, float *logits, int32_t *ids) {
    cuda_engine *ce = s->e->impl;
    cuda_seqs *cs = s->impl;
    cuda_chunk *c = &cs->chunk;
    if (cs->n_pending) return mj_seqs_fail(s, "internal: a step while run-ahead steps are in flight");
    mj_cu_set_stream(ce->cu, ce->st);
    int r = 0;
    while (r < s->n_rows) {
        if (gather_chunk(s, c, &r) != 0) return -1;
        if (c->n == 0) break;
        if (run_chunk(s, c, logits, ids) != 0) return -1;
        for (int i = 0; i < c->n; i++) s->rows[c->rows[i]].done = c->q1[i];
    }
    return 0;
}

int cuda_seqs_launch_greedy(mj_seqs *s) {
    cuda_engine *ce = s->e->impl;
    cuda_seqs *cs = s->impl;
    cuda_chunk *c = &cs->chunk;
    if (cs->trace_top1 || cs->n_pending >= 2) return 1;
    int r = 0;
    if (gather_chunk(s, c, &r) != 0) return -1;
    if (c->n == 0) return 1;
    for (; r < s->n_rows; r++)   /* one chunk must hold them all */
        if (s->rows[r].len > s->rows[r].done) return 1;
    mj_cu_set_stream(ce->cu, ce->st);
    const int slot = (cs->pend_first + cs->n_pending) % 2;
    cs->want_greedy = true;
    int rc = enqueue_chunk(s, c, cs->h_picks + (size_t)slot * (size_t)s->n_rows);
    cs->want_greedy = false;
    if (rc != 0) return -1;
    if (mj_cu_event_record(ce->cu, cs->pick_ev[slot], ce->st) != 0) return cu_fail(s, "greedy picks");
    for (int i = 0; i < c->n; i++) {
        cs->pend_rows[slot][i] = c->rows[i];
        cs->pend_half[slot][i] = cs->cur_half[i];
        s->rows[c->rows[i]].done = c->q1[i];
    }
    cs->pend_n[slot] = c->n;
    cs->n_pending++;
    cs->n_chunks++;
    return 0;
}

int cuda_seqs_finish_greedy(mj_seqs *s, int32_t *ids) {
    cuda_engine *ce = s->e->impl;
    cuda_seqs *cs = s->impl;
    if (!cs->n_pending) return mj_seqs_fail(s, "internal: no launched step to finish");
    const int slot = cs->pend_first;
    double t0 = now_ms();
    cs->pend_first ^= 1;
    cs->n_pending--;
    if (mj_cu_event_sync(ce->cu, cs->pick_ev[slot]) != 0) return cu_fail(s, "greedy picks");
    cs->t_wait += now_ms() - t0;
    const int32_t *h = cs->h_picks + (size_t)slot * (size_t)s->n_rows;
    for (int i = 0; i < cs->pend_n[slot]; i++)
        ids[cs->pend_rows[slot][i]] = cs->h_map ? pick_at(s, cs->pend_half[slot][i], i) : h[i];
    return 0;
}

int cuda_seqs_step(mj_seqs *s, float *logits) {
    cuda_seqs *cs = s->impl;
    cs->want_greedy = false;
    return step_rows(s, logits, NULL);
}

int cuda_seqs_step_greedy(mj_seqs *s, int32_t *ids) {
    cuda_seqs *cs = s->impl;
    cs->want_greedy = true;
    int rc = step_rows(s, NULL, ids);
    cs->want_greedy = false;
    return rc;
}

/* ---- benchmark hook -------------------------------------------------------------------------- */

/* One row's skinny products over every layer's weights and the lm_head. */
static int gemv_pass(mj_seqs *s) {
    cuda_engine *ce = s->e->impl;
    cuda_seqs *cs = s->impl;
    int64_t hid = ce->hid, HD = (int64_t)ce->H * ce->D, I = ce->I;
    for (int32_t l = 0; l < ce->L; l++) {
        const cuda_layer *w = &ce->lw[l];
        if (gemm(s, true, 1, ce->qkv_n, hid, cs->xn, hid, w->wqkv, w->bqkv, cs->qkv, ce->qkv_n, GV_BF16) ||
            gemm(s, true, 1, hid, HD, cs->att, ce->qkv_n, w->wo, 0, cs->tmp, hid, GV_BF16) ||
            gemm_glu(s, 1, hid, cs->xn, 0, w->wgu, cs->act) ||
            gemm(s, true, 1, hid, I, cs->act, I, w->wd, 0, cs->tmp, hid, GV_BF16))
            return -1;
    }
    return gemm(s, true, 1, ce->V, hid, cs->xl, hid, ce->lm_head, 0, cs->logits, ce->V, GV_F32);
}

/* Product kind k (MJ_CUDA_PRODUCTS order) of every layer, or the lm_head;
 * *bytes: its weight bytes. */
static int product_pass(mj_seqs *s, int k, double *bytes) {
    cuda_engine *ce = s->e->impl;
    cuda_seqs *cs = s->impl;
    int64_t hid = ce->hid, HD = (int64_t)ce->H * ce->D, I = ce->I;
    const int64_t n[4] = {ce->qkv_n, hid, 2 * I, hid}, kk[4] = {hid, HD, hid, I};
    if (k == 4) {
        *bytes = 2.0 * ce->V * hid;
        return gemm(s, true, 1, ce->V, hid, cs->xl, hid, ce->lm_head, 0, cs->logits, ce->V, GV_F32);
    }
    *bytes = 2.0 * ce->L * n[k] * kk[k];
    for (int32_t l = 0; l < ce->L; l++) {
        const cuda_layer *w = &ce->lw[l];
        int rc = k == 0   ? gemm_n(s, true, 1, ce->qkv_n, hid, cs->x, hid, w->attn_norm, w->wqkv, w->bqkv, cs->qkv,
                                   ce->qkv_n, GV_BF16)
                 : k == 1 ? gemm(s, true, 1, hid, HD, cs->att, ce->qkv_n, w->wo, 0, cs->tmp, hid, GV_BF16)
                 : k == 2 ? gemm_glu(s, 1, hid, cs->xn, w->ffn_norm, w->wgu, cs->act)
                          : gemm(s, true, 1, hid, I, cs->act, I, w->wd, 0, cs->tmp, hid, GV_BF16);
        if (rc != 0) return -1;
    }
    return 0;
}

int mj_cuda_seqs_bench_products(mj_seqs *s, int reps, double ms[MJ_CUDA_PRODUCTS], double gbs[MJ_CUDA_PRODUCTS]) {
    if (!s || !s->e->ops || strcmp(s->e->ops->name, "cuda") != 0 || !s->impl || reps < 1) return -1;
    cuda_engine *ce = s->e->impl;
    mj_cu_timer t = {0};
    if (mj_seqs_settle(s) != 0) return -1;
    if (mj_cu_timer_init(ce->cu, &t) != 0) return cu_fail(s, "timer");
    int rc = 0;
    for (int k = 0; rc == 0 && k < MJ_CUDA_PRODUCTS; k++) {
        double bytes = 0;
        float f = 0;
        rc = product_pass(s, k, &bytes) || mj_cu_timer_start_on(ce->cu, &t, ce->st);
        for (int i = 0; rc == 0 && i < reps; i++) rc = product_pass(s, k, &bytes);
        if (rc == 0) rc = mj_cu_timer_stop_on(ce->cu, &t, ce->st, &f);
        ms[k] = f / reps;
        gbs[k] = ms[k] > 0 ? bytes / (ms[k] * 1e-3) / 1e9 : 0;
    }
    mj_cu_timer_free(ce->cu, &t);
    return rc != 0 ? cu_fail(s, "bench") : 0;
}

int mj_cuda_seqs_bench(mj_seqs *s, int reps, double *graph_ms, double *gemv_ms, double *gemv_gbs) {
    if (!s || !s->e->ops || strcmp(s->e->ops->name, "cuda") != 0 || !s->impl || reps < 1) return -1;
    cuda_engine *ce = s->e->impl;
    cuda_seqs *cs = s->impl;
    mj_cu_timer t = {0};
    float ms = 0;
    *graph_ms = *gemv_ms = *gemv_gbs = 0;
    if (mj_seqs_settle(s) != 0) return -1;
    if (mj_cu_timer_init(ce->cu, &t) != 0) return cu_fail(s, "timer");
    int rc = 0;
    if (cs->graph) {
        rc = mj_cu_graph_launch(ce->cu, cs->graph, ce->st) || mj_cu_timer_start_on(ce->cu, &t, ce->st);
        for (int i = 0; rc == 0 && i < reps; i++) rc = mj_cu_graph_launch(ce->cu, cs->graph, ce->st);
        if (rc == 0) rc = mj_cu_timer_stop_on(ce->cu, &t, ce->st, &ms);
        *graph_ms = ms / reps;
        /* the replays counted the argmax's pick numbers on: the host's copy follows */
        if (rc == 0 && cs->h_map)
            rc = mj_cu_download_async(ce->cu, cs->pick_seq, cs->d_greedy + (mj_cu_ptr)cuda_greedy_seq_offset(s->n_rows),
                                      (size_t)s->n_rows * sizeof *cs->pick_seq, ce->st) ||
                 mj_cu_stream_sync(ce->cu, ce->st);
    }
    if (rc == 0) rc = gemv_pass(s) || mj_cu_timer_start_on(ce->cu, &t, ce->st);
    for (int i = 0; rc == 0 && i < reps; i++) rc = gemv_pass(s);
    if (rc == 0) rc = mj_cu_timer_stop_on(ce->cu, &t, ce->st, &ms);
    mj_cu_timer_free(ce->cu, &t);
    if (rc != 0) return cu_fail(s, "bench");
    double hid = ce->hid, bytes = (double)ce->L * 2.0 * (ce->qkv_n * hid + hid * ce->H * ce->D + 3.0 * hid * ce->I) +
                                 2.0 * ce->V * hid;
    *gemv_ms = ms / reps;
    *gemv_gbs = bytes / (*gemv_ms * 1e-3) / 1e9;
    return 0;
}
