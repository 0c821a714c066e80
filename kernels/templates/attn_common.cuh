/* attn_common.cuh — device helpers and small kernels shared by the attention
 * templates (attn_prefill.cu.in, attn_decode.cu.in); included after the
 * generated mask functions.  Tensor-core pieces are inline PTX for sm_80+
 * (mma.sync m16n8k16 bf16 -> f32, ldmatrix, cp.async), so no CUDA header is
 * needed.  Kernels here:
 *   mj_attn_summary    per-block min/max of every tokens annotation (as mj_summary_build)
 *   mj_attn_block_map  per (row, head group, query tile): the ordered list of
 *                      non-EMPTY key blocks, FULL ones flagged (mj_classify)
 *   mj_attn_partial_masks  the element mask of each PARTIAL block, as bits
 *   mj_attn_positions  the position program for every query token */
#ifndef MJ_ATTN_COMMON_CUH
#define MJ_ATTN_COMMON_CUH

#define MJ_NEG_INF __int_as_float(0xff800000)
#ifndef MJ_ATTN_QTILE
#define MJ_ATTN_QTILE MJ_ATTN_BLOCK   /* query rows of one prefill tile (64 or 128) */
#endif
#define MJ_LOG2E 1.4426950408889634f

/* ---- PTX wrappers ------------------------------------------------------------------ */

static __device__ __forceinline__ uint32_t mj_smem_addr(const void *p) {
    return (uint32_t)__cvta_generic_to_shared(p);
}

/* 16-byte async copy global -> shared; zero-fills when !valid. */
static __device__ __forceinline__ void mj_cp_async16(void *dst, const void *src, bool valid) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(mj_smem_addr(dst)),
                 "l"(src), "r"(valid ? 16 : 0));
}
static __device__ __forceinline__ void mj_cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int N> static __device__ __forceinline__ void mj_cp_async_wait() {
    asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
}

static __device__ __forceinline__ void mj_ldmatrix_x4(uint32_t &r0, uint32_t &r1, uint32_t &r2,
                                                      uint32_t &r3, const void *p) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r0), "=r"(r1), "=r"(r2), "=r"(r3) : "r"(mj_smem_addr(p)));
}
static __device__ __forceinline__ void mj_ldmatrix_x4_trans(uint32_t &r0, uint32_t &r1, uint32_t &r2,
                                                            uint32_t &r3, const void *p) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r0), "=r"(r1), "=r"(r2), "=r"(r3) : "r"(mj_smem_addr(p)));
}

/* c += a (16x16 bf16, row) * b (16x8 bf16, col), f32 accumulators. */
static __device__ __forceinline__ void mj_mma_bf16(float *c, const uint32_t *a, uint32_t b0, uint32_t b1) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, "
                 "{%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

/* Two floats -> packed bf16x2 (lo in the low half), round to nearest even. */
static __device__ __forceinline__ uint32_t mj_pack_bf16(float lo, float hi) {
    uint32_t r;
    asm("cvt.rn.bf16x2.f32 %0, %1, %2;\n" : "=r"(r) : "f"(hi), "f"(lo));
    return r;
}

static __device__ __forceinline__ float mj_quad_max(float x) {
    x = fmaxf(x, __shfl_xor_sync(0xffffffffu, x, 1));
    return fmaxf(x, __shfl_xor_sync(0xffffffffu, x, 2));
}
static __device__ __forceinline__ float mj_quad_sum(float x) {
    x += __shfl_xor_sync(0xffffffffu, x, 1);
    return x + __shfl_xor_sync(0xffffffffu, x, 2);
}

/* ---- small kernels ------------------------------------------------------------------ */

/* grid (ceil(n_tokens*n_blocks / 128), n_rows), 128 threads: sums[r] for every
 * annotation and block of MJ_ATTN_BLOCK tokens (float: NaN-aware, as
 * mj_summary_build).  sums[r].tok_min/tok_max must hold n_blocks entries. */
extern "C" __global__ void mj_attn_summary(const mj_attn_params p) {
    const int r = blockIdx.y;
    const mj_env &env = ((const mj_env *)p.envs)[r];
    const mj_summary &s = ((const mj_summary *)p.sums)[r];
    int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (int64_t)MJ_N_TOKENS * s.n_blocks) return;
    int a = (int)(i / s.n_blocks);
    int64_t lo = (i % s.n_blocks) * s.block, hi = lo + s.block;
    if (hi > env.tokens_len) hi = env.tokens_len;
    const mj_value *t = env.tokens + (int64_t)a * env.tokens_stride;
    mj_value mn, mx;
    if (mj_tokens_type[a] == 2) {
        float fl = MJ_FINF, fh = -MJ_FINF;
        bool nan = false;
        for (int64_t k = lo; k < hi; k++) {
            float v = t[k].f;
            if (v != v) { nan = true; continue; }
            fl = v < fl ? v : fl;
            fh = v > fh ? v : fh;
        }
        mn.f = nan ? __int_as_float(0x7fc00000) : fl;
        mx.f = fh;
    } else {
        mn = t[lo];
        mx = t[lo];
        for (int64_t k = lo + 1; k < hi; k++) {
            mn.i = min(mn.i, t[k].i);
            mx.i = max(mx.i, t[k].i);
        }
    }
    ((mj_value *)s.tok_min)[i] = mn;
    ((mj_value *)s.tok_max)[i] = mx;
}

#ifndef MJ_ATTN_NO_BLOCK_MAP
/* grid (max_qtiles, n_hgroups, n_rows), 32 threads (one warp): classify every
 * key block for query tile blockIdx.x (MJ_ATTN_QTILE queries) of row
 * blockIdx.z and heads of group blockIdx.y; write the non-EMPTY ones in order
 * (FULL flagged) and their count.  Each PARTIAL entry takes a bitmask slot
 * (blk_aux; -1 once the pmask_cap slots are used up). */
extern "C" __global__ void mj_attn_block_map(const mj_attn_params p) {
    const int r = blockIdx.z, g = blockIdx.y, tile = blockIdx.x, lane = threadIdx.x;
    const int q0 = ((const int32_t *)p.q_start)[r];
    const int nq = ((const int32_t *)p.q_start)[r + 1] - q0;
    const int klen = ((const int32_t *)p.k_len)[r];
    const int64_t slot = ((int64_t)r * p.n_hgroups + g) * p.max_qtiles + tile;
    int32_t *list = (int32_t *)p.blk_list + slot * p.max_kblocks;
    int32_t *aux = (int32_t *)p.blk_aux + slot * p.max_kblocks;
    int32_t *count = (int32_t *)p.blk_count + slot;
    if (tile * MJ_ATTN_QTILE >= nq || klen <= 0) {
        if (lane == 0) *count = 0;
        return;
    }
    const mj_env &env = ((const mj_env *)p.envs)[r];
    const mj_summary &sum = ((const mj_summary *)p.sums)[r];
    mj_region reg;
    reg.q0 = klen - nq + tile * MJ_ATTN_QTILE;
    reg.q1 = min(reg.q0 + MJ_ATTN_QTILE, klen) - 1;
    reg.h0 = g * p.heads_per_group;
    reg.h1 = min(reg.h0 + p.heads_per_group, p.n_heads) - 1;
    const int nkb = (klen + MJ_ATTN_BLOCK - 1) / MJ_ATTN_BLOCK;
    const unsigned below = (1u << lane) - 1;
    int n = 0;
    for (int base = 0; base < nkb; base += 32) {
        int kb = base + lane, cls = MJ_BLOCK_EMPTY;
        if (kb < nkb) {
            mj_region rr = reg;
            rr.kv0 = kb * MJ_ATTN_BLOCK;
            rr.kv1 = min(rr.kv0 + MJ_ATTN_BLOCK, klen) - 1;
            cls = mj_classify(env, sum, rr);
        }
        unsigned vis = __ballot_sync(0xffffffffu, cls != MJ_BLOCK_EMPTY);
        unsigned part = __ballot_sync(0xffffffffu, cls == MJ_BLOCK_PARTIAL);
        int pbase = 0;
        if (lane == 0 && part && p.pmask_cap > 0) pbase = atomicAdd((int32_t *)p.pmask_count, __popc(part));
        pbase = __shfl_sync(0xffffffffu, pbase, 0);
        if (cls != MJ_BLOCK_EMPTY) {
            int at = n + __popc(vis & below);
            list[at] = kb | (cls == MJ_BLOCK_FULL ? MJ_BLK_FULL_BIT : 0);
            int ps = pbase + __popc(part & below);
            bool owns = cls == MJ_BLOCK_PARTIAL && ps < p.pmask_cap;
            aux[at] = owns ? ps : -1;
            if (owns) {
                ((int32_t *)p.pmask_work)[2 * ps] = (int32_t)slot;
                ((int32_t *)p.pmask_work)[2 * ps + 1] = at;
            }
        }
        n += __popc(vis);
    }
    if (lane == 0) *count = n;
}

/* Bits of bitmask slot ps (see mj_attn_partial_masks). */
static __device__ __forceinline__ void mj_attn_partial_mask_one(const mj_attn_params &p, int ps) {
    const int64_t slot = ((const int32_t *)p.pmask_work)[2 * ps];
    const int j = ((const int32_t *)p.pmask_work)[2 * ps + 1];
    const int tile = (int)(slot % p.max_qtiles);
    const int g = (int)(slot / p.max_qtiles % p.n_hgroups), r = (int)(slot / p.max_qtiles / p.n_hgroups);
    const int kb = ((const int32_t *)p.blk_list)[slot * p.max_kblocks + j] & ~MJ_BLK_FULL_BIT;
    const int q0 = ((const int32_t *)p.q_start)[r];
    const int nq = ((const int32_t *)p.q_start)[r + 1] - q0;
    const int klen = ((const int32_t *)p.k_len)[r];
    const mj_env &env = ((const mj_env *)p.envs)[r];
    const int row = threadIdx.x, q = klen - nq + tile * MJ_ATTN_QTILE + row, h = g * p.heads_per_group;
    uint32_t w[2] = {0u, 0u};
    if (tile * MJ_ATTN_QTILE + row < nq)
        for (int c = 0; c < MJ_ATTN_BLOCK; c++) {
            int kv = kb * MJ_ATTN_BLOCK + c;
            if (kv < klen && mj_mask(env, q, kv, h)) w[c >> 5] |= 1u << (c & 31);
        }
    uint32_t *dst = (uint32_t *)p.pmask + ((int64_t)ps * MJ_ATTN_QTILE + row) * 2;
    dst[0] = w[0];
    dst[1] = w[1];
}

/* Grid-stride over the bitmask slots handed out by mj_attn_block_map (any
 * grid), MJ_ATTN_QTILE threads: thread i writes the 64 mask bits of query row
 * i of the PARTIAL block owning the slot (keys past the row: 0) — the mask is
 * evaluated once per head group instead of once per head. */
extern "C" __global__ void mj_attn_partial_masks(const mj_attn_params p) {
    int n = *(const int32_t *)p.pmask_count;
    n = n < p.pmask_cap ? n : p.pmask_cap;
    for (int ps = blockIdx.x; ps < n; ps += gridDim.x)
        mj_attn_partial_mask_one(p, ps);
}
#endif

/* grid (ceil(max_q / 128), n_rows), 128 threads: positions[t] = mj_position of
 * every query token t. */
extern "C" __global__ void mj_attn_positions(const mj_attn_params p) {
    const int r = blockIdx.y;
    const int q0 = ((const int32_t *)p.q_start)[r];
    const int nq = ((const int32_t *)p.q_start)[r + 1] - q0;
    const int qi = blockIdx.x * blockDim.x + threadIdx.x;
    if (qi >= nq) return;
    const int klen = ((const int32_t *)p.k_len)[r];
    ((int32_t *)p.positions)[q0 + qi] = mj_position(((const mj_env *)p.envs)[r], klen - nq + qi);
}

#endif
