/* fwd_kernels.cu — the mask-independent kernels of the CUDA forward pass
 * (runtime/cuda_forward.c), compiled by NVRTC at first use and cached on disk
 * (runtime/cuda_kernels.c).  Self-contained: no CUDA header.
 *
 * Tensors are bf16 (stored as uint16) unless named f32; rows are contiguous.
 * Rounding follows HF transformers running in bf16, so that the two agree
 * bit for bit wherever the arithmetic order allows:
 *   RMSNorm      xn = bf16(w * bf16(x * rsqrt(mean(x^2) + eps)))   (sum in f32)
 *   RoPE         bf16(bf16(x * cos) -/+ bf16(x' * sin)), cos/sin rounded to bf16
 *   SwiGLU       bf16(bf16(silu(g)) * u), silu(g) = g / (1 + exp(-g)) in f32
 *   residual     x = bf16(x + bf16(W a))
 * Kernels:
 *   mj_fwd_embed        x[t] = table[ids[t]] (ids[t] < 0: a pick of the previous greedy step)
 *   mj_fwd_add_rmsnorm  (x += delta); xn = RMSNorm(x), optionally over a row subset
 *   mj_fwd_rope_qkv     q/k norm (Qwen3), RoPE on q (in place) and k, K/V into the cache
 *   mj_fwd_swiglu       act = SwiGLU(gate, up) from a [T x 2I] gate|up buffer
 *   mj_fwd_gemv<M>      skinny Y = X W^T for M <= 8 rows (decode), memory-bound,
 *                       optionally RMSNorm(X) on the fly and a residual epilogue
 *                       (_k2: K split over two warps per column)
 *   mj_fwd_gemv_rope<M> the q|k|v product with RoPE and the KV-cache append fused
 *                       (models without q/k norm; _k2: K split over two warps)
 *   mj_fwd_gemv_glu<M>  the same over gate|up rows, SwiGLU applied
 *   mj_fwd_f32_to_bf16  weight conversion at load
 *   mj_fwd_copy_prefix  prefix-cache K/V into rows' caches */
typedef unsigned short uint16_t;
typedef int int32_t;
typedef unsigned int uint32_t;
typedef long long int64_t;
typedef unsigned long long uint64_t;

struct __align__(16) v16 { uint32_t a, b, c, d; };

static __device__ __forceinline__ float bf2f(uint32_t b) { return __uint_as_float(b << 16); }
static __device__ __forceinline__ float lo2f(uint32_t w) { return __uint_as_float(w << 16); }
static __device__ __forceinline__ float hi2f(uint32_t w) { return __uint_as_float(w & 0xffff0000u); }
static __device__ __forceinline__ uint16_t f2bf(float f) {
    uint16_t r;
    asm("cvt.rn.bf16.f32 %0, %1;\n" : "=h"(r) : "f"(f));
    return r;
}
static __device__ __forceinline__ float rbf(float f) { return bf2f(f2bf(f)); }

/* 16-byte streaming load (weights: read once, keep out of L1). */
static __device__ __forceinline__ v16 ld_stream(const uint16_t *p) {
    v16 r;
    asm volatile("ld.global.nc.L1::no_allocate.v4.u32 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r.a), "=r"(r.b), "=r"(r.c), "=r"(r.d) : "l"(p));
    return r;
}

static __device__ __forceinline__ float dot8(const v16 &w, const v16 &x, float acc) {
    acc = fmaf(lo2f(w.a), lo2f(x.a), acc);
    acc = fmaf(hi2f(w.a), hi2f(x.a), acc);
    acc = fmaf(lo2f(w.b), lo2f(x.b), acc);
    acc = fmaf(hi2f(w.b), hi2f(x.b), acc);
    acc = fmaf(lo2f(w.c), lo2f(x.c), acc);
    acc = fmaf(hi2f(w.c), hi2f(x.c), acc);
    acc = fmaf(lo2f(w.d), lo2f(x.d), acc);
    acc = fmaf(hi2f(w.d), hi2f(x.d), acc);
    return acc;
}

static __device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

/* Sum over the block (blockDim.x a multiple of 32, <= 1024); every thread gets it. */
static __device__ float block_sum(float v) {
    __shared__ float part[32];
    __shared__ float total;
    v = warp_sum(v);
    int w = threadIdx.x >> 5, nw = blockDim.x >> 5;
    if ((threadIdx.x & 31) == 0) part[w] = v;
    __syncthreads();
    if (threadIdx.x < 32) {
        float s = threadIdx.x < nw ? part[threadIdx.x] : 0.0f;
        s = warp_sum(s);
        if (threadIdx.x == 0) total = s;
    }
    __syncthreads();
    float r = total;
    __syncthreads();
    return r;
}

static __device__ __forceinline__ float silu(float g) { return g / (1.0f + expf(-g)); }

/* Programmatic dependent launch (runtime/cuda_forward.c launches these
 * kernels with it on sm_90): wait for the previous kernel's results before
 * reading them, and let the next kernel start launching.  Both are no-ops
 * in a launch without the attribute. */
static __device__ __forceinline__ void pdl_wait() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.wait;\n" ::: "memory");
#endif
}
static __device__ __forceinline__ void pdl_trigger() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.launch_dependents;\n" ::: "memory");
#endif
}

/* ---- embedding ------------------------------------------------------------------------ */

/* grid (T), block 128: x[t] = table[id], id = ids[t], or for ids[t] < 0
 * (a run-ahead step's token) the previous step's greedy pick
 * picks[-1 - ids[t]]; hidden % 8 == 0. */
extern "C" __global__ void mj_fwd_embed(const int32_t *ids, const int32_t *picks, const uint16_t *table, uint16_t *x,
                                        int hidden) {
    pdl_wait();
    pdl_trigger();
    const int t = blockIdx.x;
    const int32_t id = ids[t] >= 0 ? ids[t] : picks[-1 - ids[t]];
    const v16 *src = (const v16 *)(table + (int64_t)id * hidden);
    v16 *dst = (v16 *)(x + (int64_t)t * hidden);
    for (int i = threadIdx.x; i < hidden / 8; i += blockDim.x) dst[i] = src[i];
}

/* ---- RMSNorm ---------------------------------------------------------------------------- */

/* grid (n), block 256.  Row i reads row s = idx ? idx[i] : i of x; with delta,
 * x[s] = bf16(x[s] + delta[s]) is stored first.  xn[i] = RMSNorm(x[s]) * w. */
extern "C" __global__ void mj_fwd_add_rmsnorm(uint16_t *x, const uint16_t *delta, const uint16_t *w,
                                              uint16_t *xn, const int32_t *idx, int hidden, float eps) {
    pdl_wait();
    pdl_trigger();
    const int i = blockIdx.x;
    const int64_t s = idx ? idx[i] : i;
    uint16_t *xr = x + s * hidden;
    float ss = 0.0f;
    if (delta) {
        const uint16_t *dr = delta + s * hidden;
        for (int j = threadIdx.x; j < hidden; j += blockDim.x) {
            float v = rbf(bf2f(xr[j]) + bf2f(dr[j]));
            xr[j] = f2bf(v);
            ss = fmaf(v, v, ss);
        }
    } else {
        for (int j = threadIdx.x; j < hidden; j += blockDim.x) {
            float v = bf2f(xr[j]);
            ss = fmaf(v, v, ss);
        }
    }
    ss = block_sum(ss);
    const float r = rsqrtf(ss / (float)hidden + eps);
    uint16_t *out = xn + (int64_t)i * hidden;
    for (int j = threadIdx.x; j < hidden; j += blockDim.x)
        out[j] = f2bf(bf2f(w[j]) * rbf(bf2f(xr[j]) * r));
}

/* ---- RoPE, q/k norm, KV cache append ------------------------------------------------------ */

typedef struct rope_args {
    uint16_t *qkv;            /* [T][(H + 2G) * D]: q heads, k heads, v heads */
    const int32_t *pos;       /* [T] rotary positions */
    const int64_t *slot;      /* [T] cache token index (row start + token index) */
    const float *inv_freq;    /* [D / 2] */
    const uint16_t *q_norm;   /* [D] or null */
    const uint16_t *k_norm;   /* [D] or null */
    uint16_t *kc, *vc;        /* this layer's caches, token slot at slot * G * D */
    int32_t H, G, D;
    float eps;
} rope_args;

/* HF's RoPE of the pair (x0, x1) = (x[i], x[i + D/2]) at angle ang, with its
 * bf16 roundings (cos, sin and every product rounded): rope_lo gives the new
 * x[i], rope_hi the new x[i + D/2].  Shared by mj_fwd_rope_qkv and the q|k|v
 * GEMV's epilogue (rope_epilogue), which must agree bit for bit. */
struct rope_cs {
    float c, s;
};
static __device__ __forceinline__ rope_cs rope_angle(float ang) {
    rope_cs k;
    k.c = rbf(cosf(ang));
    k.s = rbf(sinf(ang));
    return k;
}
static __device__ __forceinline__ float rope_lo(float x0, float x1, rope_cs k) {
    return rbf(rbf(x0 * k.c) - rbf(x1 * k.s));
}
static __device__ __forceinline__ float rope_hi(float x0, float x1, rope_cs k) {
    return rbf(rbf(x1 * k.c) + rbf(x0 * k.s));
}

/* grid (T), block 128 (4 warps).  Warp w rotates heads w, w + 4, ... of the
 * H + G q and k heads; then every thread copies V into the cache. */
extern "C" __global__ void mj_fwd_rope_qkv(const rope_args a) {
    pdl_wait();
    pdl_trigger();
    const int t = blockIdx.x, warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int D = a.D, half = D / 2, stride = (a.H + 2 * a.G) * D;
    uint16_t *row = a.qkv + (int64_t)t * stride;
    const float p = (float)a.pos[t];
    const int64_t slot = a.slot[t];
    for (int h = warp; h < a.H + a.G; h += 4) {
        uint16_t *x = row + h * D;
        const bool is_q = h < a.H;
        const uint16_t *nw = is_q ? a.q_norm : a.k_norm;
        float r = 1.0f;
        if (nw) {
            float ss = 0.0f;
            for (int i = lane; i < D; i += 32) { float v = bf2f(x[i]); ss = fmaf(v, v, ss); }
            ss = warp_sum(ss);
            r = rsqrtf(ss / (float)D + a.eps);
        }
        uint16_t *dst = is_q ? x : a.kc + (slot * a.G + (h - a.H)) * D;
        for (int i = lane; i < half; i += 32) {
            float x0 = bf2f(x[i]), x1 = bf2f(x[i + half]);
            if (nw) {
                x0 = rbf(bf2f(nw[i]) * rbf(x0 * r));
                x1 = rbf(bf2f(nw[i + half]) * rbf(x1 * r));
            }
            const rope_cs k = rope_angle(p * a.inv_freq[i]);
            dst[i] = f2bf(rope_lo(x0, x1, k));
            dst[i + half] = f2bf(rope_hi(x0, x1, k));
        }
    }
    const uint16_t *v = row + (a.H + a.G) * D;
    uint16_t *vd = a.vc + slot * a.G * D;
    for (int i = threadIdx.x; i < a.G * D; i += blockDim.x) vd[i] = v[i];
}

/* ---- SwiGLU -------------------------------------------------------------------------------- */

/* grid (ceil(I / 256), T), block 256: act[t][j] = bf16(bf16(silu(g)) * u). */
extern "C" __global__ void mj_fwd_swiglu(const uint16_t *gu, uint16_t *act, int I) {
    pdl_wait();
    pdl_trigger();
    const int t = blockIdx.y, j = blockIdx.x * blockDim.x + threadIdx.x;
    if (j >= I) return;
    const uint16_t *r = gu + (int64_t)t * 2 * I;
    float g = bf2f(r[j]), u = bf2f(r[I + j]);
    act[(int64_t)t * I + j] = f2bf(rbf(silu(g)) * u);
}

/* ---- skinny matrix products (decode) ------------------------------------------------------- */

enum { GV_BF16 = 0, GV_RESID = 1, GV_F32 = 2 };

#ifndef GV_UNROLL       /* -DGV_UNROLL=8 from MJ_CUDA_GEMV_UNROLL (cuda_kernels.c) */
#define GV_UNROLL 4     /* 16-byte loads per lane in flight per weight row */
#endif

typedef struct gemv_args {
    const uint16_t *x;        /* [M][ldx] */
    const uint16_t *w;        /* [N][K] */
    const uint16_t *bias;     /* [N] or null (GV_BF16 only) */
    void *y;                  /* [M][ldy] bf16 or f32 */
    const uint16_t *norm;     /* [K] RMSNorm weight or null: x rows are normalised on the fly */
    int64_t ldx, ldy;
    int32_t M, N, K;          /* K % 8 == 0; glu: N = 2 * I, outputs I columns */
    int32_t mode;             /* GV_* */
    float eps;
    int32_t xs;               /* 1 when the launch gives M * K * 2 bytes of dynamic shared memory for
                                 the x rows, normalised with norm (gemv_norm_prologue) */
    int32_t pf;               /* bits: 1 L2 prefetch of the later weight chunks after the PDL wait
                                 (gemv_prefetch_rest), 2 of the second chunk before the RMSNorm
                                 prologue (gemv_prefetch_next) */
    const int32_t *ids;       /* non-null: embedding mode (the first layer's q|k|v product): x is the
                                 embedding table and row m of the product's input is its row ids[m],
                                 or for ids[m] < 0 the previous step's pick picks[-1 - ids[m]] */
    const int32_t *picks;
    uint16_t *xout;           /* embedding mode: block 0 also stores the input rows there (the
                                 residual stream, as mj_fwd_embed would) */
} gemv_args;

/* Row m of a product's input x; with EMB (embedding mode, a kernel of its
 * own so that the other products' code stays as it is) row ids[m] of the
 * table a.x, read after the PDL wait (the ids may be the previous kernel's
 * picks). */
template <bool EMB>
static __device__ __forceinline__ const uint16_t *gemv_xrow(const gemv_args &a, int m) {
    if (!EMB) return a.x + m * a.ldx;
    const int32_t id = a.ids[m] >= 0 ? a.ids[m] : a.picks[-1 - a.ids[m]];
    return a.x + (int64_t)id * a.ldx;
}

/* Embedding mode: block 0 keeps the input chunk v of row m at k in the
 * residual stream. */
template <bool EMB>
static __device__ __forceinline__ void gemv_xkeep(const gemv_args &a, int m, int k, const v16 &v) {
    if (EMB && blockIdx.x == 0) *(v16 *)(a.xout + (int64_t)m * a.K + k) = v;
}

extern __shared__ __align__(16) uint16_t gemv_xs[];   /* [M][K] (normalised) x (a.xs) */

/* HF's RMSNorm of 8 elements: bf16(g * bf16(x * r)). */
static __device__ __forceinline__ uint32_t norm2(uint32_t x, uint32_t g, float r) {
    float lo = rbf(lo2f(g) * rbf(lo2f(x) * r)), hi = rbf(hi2f(g) * rbf(hi2f(x) * r));
    return (__float_as_uint(hi) & 0xffff0000u) | (__float_as_uint(lo) >> 16);
}
static __device__ __forceinline__ v16 norm8(const v16 &x, const v16 &g, float r) {
    v16 o;
    o.a = norm2(x.a, g.a, r);
    o.b = norm2(x.b, g.b, r);
    o.c = norm2(x.c, g.c, r);
    o.d = norm2(x.d, g.d, r);
    return o;
}

/* Before the wait for the previous kernel: the RMSNorm weights, which
 * gemv_norm_prologue reads for every row, into L1 once per block (they do
 * not depend on that kernel). */
static __device__ __forceinline__ void gemv_norm_prefetch(const gemv_args &a) {
    if (!a.norm || !a.xs) return;
    for (int k = threadIdx.x * 8; k < a.K; k += blockDim.x * 8)
        asm volatile("prefetch.global.L1 [%0];\n" ::"l"(a.norm + k));
}

/* With a.norm: rs[m] = rsqrt(mean(x[m]^2) + eps) for the M <= 8 rows, every
 * thread of the block summing its 16-byte chunks of each row (all its loads
 * in flight at once: the previous one-warp-per-row loop waited for a load
 * round trip per 256 elements, ~3 us of a q|k|v product's 16), then the
 * warps' sums added in warp order; with a.xs the normalised rows into gemv_xs
 * (once per block instead of once per warp and chunk in gemv_dot; same
 * values).  Every thread of the block must call it. */
template <bool EMB = false>
static __device__ __forceinline__ void gemv_norm_prologue(const gemv_args &a, float *rs) {
    if (!a.norm) {
        if (!a.xs) return;
        /* no RMSNorm, a.xs (MJ_CUDA_GEMV_XS): the x rows as they are, read
         * once per block instead of once per warp and chunk in gemv_dot */
        for (int i = threadIdx.x * 8; i < a.M * a.K; i += blockDim.x * 8) {
            const int m = i / a.K, k = i - m * a.K;
            *(v16 *)(gemv_xs + i) = *(const v16 *)(a.x + m * a.ldx + k);
        }
        __syncthreads();
        return;
    }
#ifdef GV_DEV_NO_NORM   /* timing only (MJ_CUDA_FWD_DEFINES=GV_DEV_NO_NORM=1): wrong outputs */
    if (threadIdx.x < a.M) rs[threadIdx.x] = 1.0f;
    __syncthreads();
    return;
#endif
    __shared__ float part[8][8];                       /* [warp][row] */
    const int w = threadIdx.x >> 5, lane = threadIdx.x & 31;
#ifndef GV_NORM_2PASS   /* MJ_CUDA_FWD_DEFINES=GV_NORM_2PASS=1: the general path below for every shape */
    if (a.xs && a.M == 1 && a.K <= 2 * (int)blockDim.x * 8) {
        /* One row of at most two 16-byte chunks a thread (batch-1 decode): x
         * stays in registers between the sum and the normalisation, and every
         * thread adds the warps' sums itself (same order, same value), which
         * saves the general path's second barrier and second read of x. */
        v16 v[2];
        float ss = 0.0f;
        const uint16_t *xr = gemv_xrow<EMB>(a, 0);
#pragma unroll
        for (int q = 0; q < 2; q++) {
            const int k = (int)threadIdx.x * 8 + q * (int)blockDim.x * 8;
            if (k < a.K) {
                v[q] = *(const v16 *)(xr + k);
                gemv_xkeep<EMB>(a, 0, k, v[q]);
            } else {
                v[q].a = v[q].b = v[q].c = v[q].d = 0u;
            }
        }
#pragma unroll
        for (int q = 0; q < 2; q++) ss = dot8(v[q], v[q], ss);
        ss = warp_sum(ss);
        if (lane == 0) part[w][0] = ss;
        __syncthreads();
        float t = 0.0f;
        for (int j = 0; j < (int)(blockDim.x >> 5); j++) t += part[j][0];
        const float r = rsqrtf(t / (float)a.K + a.eps);
        if (threadIdx.x == 0) rs[0] = r;
#pragma unroll
        for (int q = 0; q < 2; q++) {
            const int k = (int)threadIdx.x * 8 + q * (int)blockDim.x * 8;
            if (k < a.K) *(v16 *)(gemv_xs + k) = norm8(v[q], *(const v16 *)(a.norm + k), r);
        }
        __syncthreads();
        return;
    }
#endif
    for (int m = 0; m < a.M; m++) {
        const uint16_t *xr = gemv_xrow<EMB>(a, m);
        float ss = 0.0f;
        for (int k0 = threadIdx.x * 8; k0 < a.K; k0 += 4 * blockDim.x * 8) {
            v16 v[4];                                  /* four loads in flight, then their sums */
#pragma unroll
            for (int q = 0; q < 4; q++) {
                const int k = k0 + q * blockDim.x * 8;
                if (k < a.K) {
                    v[q] = *(const v16 *)(xr + k);
                    gemv_xkeep<EMB>(a, m, k, v[q]);
                } else {
                    v[q].a = v[q].b = v[q].c = v[q].d = 0u;
                }
            }
#pragma unroll
            for (int q = 0; q < 4; q++) ss = dot8(v[q], v[q], ss);
        }
        ss = warp_sum(ss);
        if (lane == 0) part[w][m] = ss;
    }
    __syncthreads();
    if (threadIdx.x < a.M) {
        float ss = 0.0f;
        for (int j = 0; j < (int)(blockDim.x >> 5); j++) ss += part[j][threadIdx.x];
        rs[threadIdx.x] = rsqrtf(ss / (float)a.K + a.eps);
    }
    __syncthreads();
    if (!a.xs) return;
    for (int i = threadIdx.x * 8; i < a.M * a.K; i += blockDim.x * 8) {
        const int m = i / a.K, k = i - m * a.K;   /* K % 8 == 0: a chunk stays in its row */
        *(v16 *)(gemv_xs + i) = norm8(*(const v16 *)(gemv_xrow<EMB>(a, m) + k), *(const v16 *)(a.norm + k), rs[m]);
    }
    __syncthreads();
}

/* One L2 bulk prefetch per row of the R rows' 2 * 256 * GV_UNROLL-byte
 * chunk at k0 < a.K (sm_90; the caller is one lane). */
template <int R>
static __device__ __forceinline__ void gemv_prefetch_chunk(const gemv_args &a, const int64_t *rows, int k0) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    constexpr int CH = 256 * GV_UNROLL;
    const unsigned bytes = (unsigned)((a.K - k0 < CH ? a.K - k0 : CH) * 2);
#pragma unroll
    for (int r = 0; r < R; r++)
        asm volatile("cp.async.bulk.prefetch.L2.global [%0], %1;\n" ::"l"(a.w + rows[r] * a.K + k0), "r"(bytes)
                     : "memory");
#endif
}

/* a.pf & 1: lane 0 asks L2 for each 2 * 256 * GV_UNROLL-byte chunk of the
 * warp's R rows that gemv_dot loads after its first (k_first, stride 256 *
 * GV_UNROLL * KS), right after the PDL wait, so that those loads find them
 * on chip or in flight (the host sets it for the products it helps). */
template <int R, int KS>
static __device__ __forceinline__ void gemv_prefetch_rest(const gemv_args &a, const int64_t *rows, int kp) {
    if (!(a.pf & 1) || (threadIdx.x & 31) != 0) return;
    constexpr int CH = 256 * GV_UNROLL;
    for (int k0 = (kp + KS) * CH; k0 < a.K; k0 += CH * KS) gemv_prefetch_chunk<R>(a, rows, k0);
}

/* a.pf & 2, with an RMSNorm: lane 0 asks L2 for the warp's second weight
 * chunk (the one gemv_dot loads after the first) before the RMSNorm
 * prologue.  The first chunk, loaded into registers before the PDL wait,
 * has usually arrived by then, and the prologue's x loads take a long
 * round trip (x was just written by the previous kernel): without this HBM
 * idles for that time (H100, bench/RESULTS.md session 9: -0.04 ms a
 * decode step; the whole rest instead of one chunk was slower, session 8). */
template <int R, int KS>
static __device__ __forceinline__ void gemv_prefetch_next(const gemv_args &a, const int64_t *rows, int kp) {
    if (!(a.pf & 2) || !a.norm || (threadIdx.x & 31) != 0) return;
    const int k0 = (kp + KS) * 256 * GV_UNROLL;
    if (k0 < a.K) gemv_prefetch_chunk<R>(a, rows, k0);
}

/* This warp's R weight rows at k0 + u * 256, u < GV_UNROLL (zeros past K). */
template <int R>
static __device__ __forceinline__ void gemv_load(const gemv_args &a, const int64_t *rows, int k0, v16 (&w)[R][GV_UNROLL]) {
#pragma unroll
    for (int u = 0; u < GV_UNROLL; u++) {
        const int k = k0 + u * 256;
#pragma unroll
        for (int r = 0; r < R; r++) {
            if (k < a.K) w[r][u] = ld_stream(a.w + rows[r] * a.K + k);
            else w[r][u].a = w[r][u].b = w[r][u].c = w[r][u].d = 0u;
        }
    }
}

/* acc[m][r] = x[m] . w[row_r] over this warp's share of K (warp-reduced):
 * chunks of 256 * GV_UNROLL elements, chunk c taken by K-part c % KS; kp is
 * this warp's part, w holds its first chunk (k0 = kp * 1024 + lane * 8)
 * already. */
template <int MB, int R, int KS>
static __device__ __forceinline__ void gemv_dot(const gemv_args &a, const int64_t *rows, const float *rs, int kp,
                                                v16 (&w)[R][GV_UNROLL], float (&acc)[MB][R]) {
    const int lane = threadIdx.x & 31, k_first = kp * 256 * GV_UNROLL + lane * 8;
#pragma unroll
    for (int m = 0; m < MB; m++)
#pragma unroll
        for (int r = 0; r < R; r++) acc[m][r] = 0.0f;
    for (int k0 = k_first; k0 < a.K; k0 += 256 * GV_UNROLL * KS) {
        if (k0 != k_first) gemv_load<R>(a, rows, k0, w);
#pragma unroll
        for (int u = 0; u < GV_UNROLL; u++) {
            const int k = k0 + u * 256;
            if (k >= a.K) break;
            v16 g;
            if (a.norm && !a.xs) g = *(const v16 *)(a.norm + k);
#pragma unroll
            for (int m = 0; m < MB; m++) {
                if (m >= a.M) break;
                v16 xv;
                if (a.xs) {
                    xv = *(const v16 *)(gemv_xs + m * a.K + k);
                } else {
                    xv = *(const v16 *)(a.x + m * a.ldx + k);
                    if (a.norm) xv = norm8(xv, g, rs[m]);
                }
#pragma unroll
                for (int r = 0; r < R; r++) acc[m][r] = dot8(w[r][u], xv, acc[m][r]);
            }
        }
    }
#pragma unroll
    for (int m = 0; m < MB; m++)
#pragma unroll
        for (int r = 0; r < R; r++) acc[m][r] = warp_sum(acc[m][r]);
}

/* K-split reduction: the KS warps of one column (consecutive warps) add
 * their sums (every thread of the block calls it); afterwards acc of the
 * part-0 warp holds the column's total, in a fixed order. */
template <int MB, int KS>
static __device__ __forceinline__ void gemv_ksum(float (&acc)[MB][1]) {
    if (KS == 1) return;
    __shared__ float part[8][MB];
    const int w = threadIdx.x >> 5, lane = threadIdx.x & 31;
#pragma unroll
    for (int m = 0; m < MB; m++)
        if (lane == m) part[w][m] = acc[m][0];
    __syncthreads();
#pragma unroll
    for (int m = 0; m < MB; m++) {
        float t = part[w - w % KS][m];
#pragma unroll
        for (int j = 1; j < KS; j++) t += part[w - w % KS + j][m];
        acc[m][0] = t;
    }
}

/* The q|k|v product with RoPE and the KV-cache append in its epilogue
 * (models without q/k norm): gemv_plain's a.y is the [M][ldy] qkv buffer. */
typedef struct gemv_rope_args {
    gemv_args g;              /* mode GV_BF16 (+ bias), N = (H + 2G) * D */
    const int32_t *pos;       /* [M] rotary positions */
    const int64_t *slot;      /* [M] cache token index */
    const float *inv_freq;    /* [D / 2] */
    uint16_t *kc, *vc;        /* this layer's caches, token slot at slot * G * D */
    int32_t H, G, D, pad_;
} gemv_rope_args;

/* Output column of the warp's column c = w / KS (KS warps per column, K
 * parts w % KS): with ROPE (D % 8 == 0) the block holds CB = 8 / KS columns
 * of head blockIdx.x / (D / CB), j0 = CB/2 * (blockIdx.x % (D / CB)):
 * columns j0 + c (c < CB/2) and D/2 + j0 + c - CB/2, so that each RoPE pair
 * (i, i + D/2) sits in warps w and w ^ 4 of one block (same K part). */
template <int KS>
static __device__ __forceinline__ int64_t gemv_col_rope(int D) {
    constexpr int CB = 8 / KS, HB = CB / 2;
    const int c = (threadIdx.x >> 5) / KS;
    const int per = D / CB;
    const int j0 = (int)(blockIdx.x % per) * HB;
    return (int64_t)(blockIdx.x / per) * D + (c < HB ? j0 + c : D / 2 + j0 + c - HB);
}

/* RoPE epilogue (every thread of the block): lane m of warp w holds row m's
 * sum of column n.  Rounds as gemv_plain + mj_fwd_rope_qkv do: bf16(v +
 * bias), then rope_lo / rope_hi; q in place, k and v into the caches. */
static __device__ __forceinline__ void rope_epilogue(const gemv_rope_args &r, int64_t n, float v, bool has) {
    __shared__ float xv[8][8];
    const gemv_args &a = r.g;
    const int w = threadIdx.x >> 5, m = threadIdx.x & 31;
    if (has && m < a.M) {
        if (a.bias) v += bf2f(a.bias[n]);
        xv[w][m] = rbf(v);
    }
    __syncthreads();
    if (!has || m >= a.M) return;
    const float self = xv[w][m], other = xv[w ^ 4][m];
    const int D = r.D, half = D / 2, h = (int)(n / D), i = (int)(n % D);
    const int64_t slot = r.slot[m];
    if (h >= r.H + r.G) {
        r.vc[(slot * r.G + (h - r.H - r.G)) * D + i] = f2bf(self);
        return;
    }
    const rope_cs k = rope_angle((float)r.pos[m] * r.inv_freq[i < half ? i : i - half]);
    const float y = i < half ? rope_lo(self, other, k) : rope_hi(other, self, k);
    if (h < r.H) ((uint16_t *)a.y)[m * a.ldy + n] = f2bf(y);
    else r.kc[(slot * r.G + (h - r.H)) * D + i] = f2bf(y);
}

/* grid (ceil(N * KS / 8)), block 256: one output column n per KS warps
 * (each a share of K, gemv_dot), M <= MB rows.  The first weight chunk is
 * loaded before waiting for the previous kernel.  ROPE: the q|k|v product
 * of gemv_rope_args (r; N % 8 == 0, D % 8 == 0), else r.g alone. */
template <int MB, int KS, bool ROPE, bool EMB = false>
static __device__ void gemv_plain(const gemv_rope_args &r) {
    __shared__ float rs[8];
    const gemv_args &a = r.g;
    const int64_t n = ROPE ? gemv_col_rope<KS>(r.D) : ((int64_t)blockIdx.x * 8 + (threadIdx.x >> 5)) / KS;
    const int lane = threadIdx.x & 31, kp = (threadIdx.x >> 5) % KS;
    const int64_t rows[1] = {n < a.N ? n : 0};
    v16 w[1][GV_UNROLL];
    gemv_load<1>(a, rows, kp * 256 * GV_UNROLL + lane * 8, w);
    gemv_norm_prefetch(a);
    pdl_wait();
    pdl_trigger();
    gemv_prefetch_rest<1, KS>(a, rows, kp);
    gemv_prefetch_next<1, KS>(a, rows, kp);
    gemv_norm_prologue<EMB>(a, rs);
    if (KS == 1 && !ROPE && n >= a.N) return;
    float acc[MB][1];
    gemv_dot<MB, 1, KS>(a, rows, rs, kp, w, acc);
    gemv_ksum<MB, KS>(acc);
    if constexpr (ROPE) {   /* every warp reaches the epilogue's barrier; part 0 holds the sums */
        float v = 0.0f;
#pragma unroll
        for (int m = 0; m < MB; m++)
            if (lane == m) v = acc[m][0];
        rope_epilogue(r, n, v, kp == 0);
        return;
    }
    if (n >= a.N || kp != 0) return;
    if constexpr (!ROPE) {
#pragma unroll
        for (int m = 0; m < MB; m++) {
            if (m >= a.M || lane != m) continue;
            float v = acc[m][0];
            if (a.mode == GV_F32) {
                ((float *)a.y)[m * a.ldy + n] = v;
            } else if (a.mode == GV_RESID) {
                uint16_t *y = (uint16_t *)a.y + m * a.ldy + n;
                *y = f2bf(bf2f(*y) + rbf(v));
            } else {
                if (a.bias) v += bf2f(a.bias[n]);
                ((uint16_t *)a.y)[m * a.ldy + n] = f2bf(v);
            }
        }
    }
}

/* grid (ceil(I / 8)), block 256: warp j computes gate row j and up row I + j
 * and writes SwiGLU(g, u) to column j. */
template <int MB>
static __device__ void gemv_glu(const gemv_args &a) {
    __shared__ float rs[8];
    const int I = a.N / 2;
    const int64_t j = (int64_t)blockIdx.x * 8 + (threadIdx.x >> 5);
    const int lane = threadIdx.x & 31;
    const int64_t jj = j < I ? j : 0;
    const int64_t rows[2] = {jj, jj + I};
    v16 w[2][GV_UNROLL];
    gemv_load<2>(a, rows, lane * 8, w);
    gemv_norm_prefetch(a);
    pdl_wait();
    pdl_trigger();
    gemv_prefetch_rest<2, 1>(a, rows, 0);
    gemv_prefetch_next<2, 1>(a, rows, 0);
    gemv_norm_prologue(a, rs);
    if (j >= I) return;
    float acc[MB][2];
    gemv_dot<MB, 2, 1>(a, rows, rs, 0, w, acc);
#pragma unroll
    for (int m = 0; m < MB; m++) {
        if (m >= a.M || lane != m) continue;
        float g = rbf(acc[m][0]), u = rbf(acc[m][1]);
        ((uint16_t *)a.y)[m * a.ldy + j] = f2bf(rbf(silu(g)) * u);
    }
}

/* mj_fwd_gemv<MB>_k2: two warps per column (K split in two), for products
 * with few columns.  OCC: resident blocks per SM asked of ptxas (6 keeps
 * one-row products at <= 42 registers: 48 warps per SM). */
#define GV_INST(MB, OCC)                                                                          \
    extern "C" __global__ void __launch_bounds__(256, OCC) mj_fwd_gemv##MB(const gemv_args a) {   \
        gemv_rope_args r;                                                                         \
        r.g = a;                                                                                  \
        r.D = 8;                                                                                  \
        gemv_plain<MB, 1, false>(r);                                                              \
    }                                                                                             \
    extern "C" __global__ void __launch_bounds__(256, OCC) mj_fwd_gemv##MB##_k2(const gemv_args a) { \
        gemv_rope_args r;                                                                         \
        r.g = a;                                                                                  \
        r.D = 8;                                                                                  \
        gemv_plain<MB, 2, false>(r);                                                              \
    }                                                                                             \
    extern "C" __global__ void __launch_bounds__(256) mj_fwd_gemv_rope##MB(const gemv_rope_args r) {      \
        gemv_plain<MB, 1, true>(r);                                                               \
    }                                                                                             \
    extern "C" __global__ void __launch_bounds__(256, OCC) mj_fwd_gemv_rope##MB##_k2(const gemv_rope_args r) { \
        gemv_plain<MB, 2, true>(r);                                                               \
    }                                                                                             \
    extern "C" __global__ void __launch_bounds__(256) mj_fwd_gemv_glu##MB(const gemv_args a) { gemv_glu<MB>(a); }
GV_INST(1, GV_UNROLL > 4 ? 4 : 6)
/* Batch-1 decode's first q|k|v product with the embedding gathered in its
 * prologue (gemv_args.ids: embedding mode) instead of mj_fwd_embed; 5
 * blocks per SM asked of ptxas keep it at mj_fwd_gemv_rope1's 48 registers
 * (one wave of blocks for the Llama-3B shape). */
extern "C" __global__ void __launch_bounds__(256, 5) mj_fwd_gemv_rope_emb1(const gemv_rope_args r) {
    gemv_plain<1, 1, true, true>(r);
}
GV_INST(2, 1)
GV_INST(4, 1)
GV_INST(8, 1)

/* ---- load and prefix helpers ------------------------------------------------------------------ */

/* grid-stride: dst[i] = bf16(src[i]). */
extern "C" __global__ void mj_fwd_f32_to_bf16(const float *src, uint16_t *dst, int64_t n) {
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
        dst[i] = f2bf(src[i]);
}

/* grid (n_rows, L), block 256: for layer l and row r, copy the prefix's
 * n tokens (src [L][n][G*D] for K and V) to the row's cache slots
 * [start[r], start[r] + n) of layer l (dst [L][layer_tokens][G*D]). */
extern "C" __global__ void mj_fwd_copy_prefix(const uint16_t *ks, const uint16_t *vs, uint16_t *kc, uint16_t *vc,
                                              const int64_t *start, int64_t n, int64_t gd, int64_t layer_tokens) {
    const int r = blockIdx.x, l = blockIdx.y;
    const int64_t cnt = n * gd / 8;
    const v16 *sk = (const v16 *)(ks + (int64_t)l * n * gd), *sv = (const v16 *)(vs + (int64_t)l * n * gd);
    v16 *dk = (v16 *)(kc + ((int64_t)l * layer_tokens + start[r]) * gd);
    v16 *dv = (v16 *)(vc + ((int64_t)l * layer_tokens + start[r]) * gd);
    for (int64_t i = threadIdx.x; i < cnt; i += blockDim.x) {
        dk[i] = sk[i];
        dv[i] = sv[i];
    }
}

/* ---- greedy pick ----------------------------------------------------------------------------- */

/* (v, i) beats (w, j): larger value, then lower index; i == V marks "none". */
static __device__ __forceinline__ bool argmax_better(float v, int i, float w, int j) {
    return v > w || (v == w && i < j);
}

/* The best (value, index) of the block's threads (bv, bi of each), by
 * argmax_better; the result is valid in warp 0.  Every thread calls it. */
static __device__ __forceinline__ void argmax_block(float &bv, int &bi, int V) {
    __shared__ float sv[32];
    __shared__ int si[32];
    for (int o = 16; o > 0; o >>= 1) {
        const float w = __shfl_xor_sync(0xffffffffu, bv, o);
        const int j = __shfl_xor_sync(0xffffffffu, bi, o);
        if (argmax_better(w, j, bv, bi)) { bv = w; bi = j; }
    }
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    if (lane == 0) { sv[warp] = bv; si[warp] = bi; }
    __syncthreads();
    if (warp == 0) {
        const int nw = (int)(blockDim.x >> 5);
        bv = lane < nw ? sv[lane] : __int_as_float(0xff800000);
        bi = lane < nw ? si[lane] : V;
        for (int o = 16; o > 0; o >>= 1) {
            const float w = __shfl_xor_sync(0xffffffffu, bv, o);
            const int j = __shfl_xor_sync(0xffffffffu, bi, o);
            if (argmax_better(w, j, bv, bi)) { bv = w; bi = j; }
        }
    }
}

/* grid (B <= CUDA_ARGMAX_BLOCKS_MAX of runtime/cuda_fwd.h, n), block 256: ids[b] = the
 * index of the largest of logits[b][0..V), lowest index among equals, NaN never wins, 0 when no value
 * beats -inf — exactly runtime/sample.c's host argmax (mj_sample at
 * temperature 0).  Block x of row b reduces its slice into part[b][x]; the
 * last block of the row to finish (counter cnt[b], left at 0 again for the
 * next launch) merges the slices in order.  With host (mapped host memory,
 * [2][hstride]) it also writes the pick to host[(seq[b] & 1) * hstride + b]
 * and counts seq[b] up: the host reads it after the launch without a copy. */
extern "C" __global__ void __launch_bounds__(256) mj_fwd_argmax(const float *logits, int32_t *ids, uint32_t *cnt,
                                                                float2 *part, int V, int32_t *host, uint32_t *seq,
                                                                int hstride) {
    pdl_wait();
    pdl_trigger();
    __shared__ bool last;
    const int b = blockIdx.y;
    const float *x = logits + (int64_t)b * V;
    const int per = (V + (int)gridDim.x - 1) / (int)gridDim.x;
    const int i0 = (int)blockIdx.x * per, i1 = min(i0 + per, V);
    float bv = __int_as_float(0xff800000);
    int bi = V;
#pragma unroll 4
    for (int i = i0 + (int)threadIdx.x; i < i1; i += (int)blockDim.x) {
        const float v = x[i];
        if (v > bv) { bv = v; bi = i; }   /* strict: the first of equals; NaN fails the test */
    }
    argmax_block(bv, bi, V);
    if (threadIdx.x == 0) {
        part[(int64_t)b * gridDim.x + blockIdx.x] = make_float2(bv, __int_as_float(bi));
        __threadfence();
        last = atomicAdd(&cnt[b], 1u) == gridDim.x - 1;
    }
    __syncthreads();
    if (!last) return;
    __threadfence();
    bv = __int_as_float(0xff800000);
    bi = V;
    for (int i = (int)threadIdx.x; i < (int)gridDim.x; i += (int)blockDim.x) {
        const float2 pv = __ldcg(part + (int64_t)b * gridDim.x + i);
        const int j = __float_as_int(pv.y);
        if (argmax_better(pv.x, j, bv, bi)) { bv = pv.x; bi = j; }
    }
    argmax_block(bv, bi, V);
    if (threadIdx.x == 0) {
        const int32_t pick = bi == V ? 0 : bi;
        ids[b] = pick;
        cnt[b] = 0u;
        if (host) {
            const uint32_t q = seq[b];
            host[(int64_t)(q & 1u) * hstride + b] = pick;
            seq[b] = q + 1u;
        }
    }
}
