/* attn_prefill_ws_persist.cuh — the persistent schedule of the sm_90a
 * prefill kernel (attn_prefill_ws.cu.in built with MJ_WS_PERSIST=1):
 * included by that template only, inside its MJ_WS_PERSIST block, after
 * the producer and consumer pieces it drives (mj_ws_produce, mj_ws_consume,
 * mj_ws_load_q) and before the kernel.  Not a standalone header. */
/* ---- the persistent schedule (MJ_WS_PERSIST=1; runtime/cuda_attn.c builds it
 * as a second module for plans of many short tiles) ----
 * Work items L = h + n_heads * (r + n_rows * z) over (query head h, row r,
 * tile rank z): the order of the one-CTA-per-tile grid, longest lists first.
 * A 1-D grid of G CTAs (at most one wave; the host keeps n_heads * n_rows *
 * max_qtiles below 2^31): CTA b starts with item b, the items from G on go
 * to the CTAs in the order they ask (next_tile: the plan's counter), skipping
 * items without a tile.  Every thread finds the CTA's first tile itself (so that the
 * consumers' Q copies start before the set-up, as in the default kernel)
 * and thread 0 stores its facts in tinfo[2]; producer thread 0 finds the
 * later ones and hands them over in tinfo[0..1] (hand_over).  The K/V ring
 * runs on across tiles (its steps counted over the CTA: mj_ws_produce's and
 * mj_ws_consume's g), so that a tile's first steps load under the previous
 * tile's tail.  Both roles read their first tile's facts back from tinfo[2]
 * after the split: a value of the set-up that lives on into both roles is
 * kept in one place for both register budgets by ptxas (it spilled). */

/* The next work item with a tile from the plan's counter (dynamic
 * schedule: items G, G + 1, ... in order, each to the CTA that asks first,
 * so that CTAs whose tiles were short take more; L set to it, its facts in
 * t); false when none is left.  One thread of the CTA calls it.  Each launch
 * takes exactly n_heads * n_rows * max_qtiles counts (the items from G on
 * once, one past the end per CTA): the host advances p.tile_base by that.
 * (The shape is read here, each time: in the producer, terms of it kept
 * across tiles spilled.) */
static __device__ __forceinline__ bool next_tile(const mj_attn_params &p, uint32_t &L, ws::tile_info &t) {
    uint32_t H = (uint32_t)p.n_heads, R = (uint32_t)p.n_rows;
    asm volatile("" : "+r"(H), "+r"(R));
    const uint32_t total = H * R * (uint32_t)p.max_qtiles;
    for (;;) {
        const uint64_t v = atomicAdd((unsigned long long *)p.tile_ctr, 1ull) - p.tile_base;
        if (v >= (uint64_t)(total - gridDim.x)) return false;
        L = gridDim.x + (uint32_t)v;
        const uint32_t rz = L / H;
        if (ws::tile_setup_at(p, (int)(L - rz * H), (int)(rz % R), (int)(rz / R), t)) return true;
    }
}

/* The CTA's first tile: work item blockIdx.x, found by every thread (so
 * that the consumers' Q copies start before the set-up); thread 0 stores
 * its facts in tinfo[2].  When that item has no tile (a short row), thread
 * 0 takes one from the counter and shares it (tinfo[2], *Ls) before a
 * barrier; tinfo[2] is not written again (a second, same-value store after
 * the readers' loads was a shared-memory race: compute-sanitizer
 * racecheck).  false: none left (the whole CTA returns). */
static __device__ __forceinline__ bool first_tile(const mj_attn_params &p, uint32_t &L, ws::tile_info &t,
                                                  ws::tile_info *tinfo, uint32_t *Ls) {
    const uint32_t H = (uint32_t)p.n_heads, R = (uint32_t)p.n_rows, rz = L / H;
    if (ws::tile_setup_at(p, (int)(L - rz * H), (int)(rz % R), (int)(rz / R), t)) {
        if (threadIdx.x == 0) tinfo[2] = t;   /* read back after the split (see mj_ws_produce_all) */
        return true;
    }
    if (threadIdx.x == 0) {   /* the same branch in every thread: it depends on blockIdx only */
        if (!next_tile(p, L, tinfo[2])) tinfo[2].tile = -1;
        *Ls = L;
    }
    __syncthreads();
    t = tinfo[2];
    L = *Ls;
    return t.tile >= 0;
}

/* Hand-over j, by producer thread 0: once every warp released the previous
 * hand-over in slot tinfo[j & 1] (tempty[j & 1], phase j / 2 - 1: 8
 * consumer and 4 producer warps), the CTA's next tile (next_tile) written
 * into the slot, or the stop mark tile = -1 when none is left; then the
 * arrival on tfull[j & 1] (count 1), whose release orders the writes before
 * the readers' waits. */
static __device__ __forceinline__ void hand_over(const mj_attn_params &p, uint32_t &L, ws::tile_info *tinfo,
                                                 uint32_t tfull, uint32_t tempty, int j) {
    const uint32_t b = (uint32_t)j & 1u;
    if (j >= 2) ws::mbar_wait(tempty + 8 * b, (uint32_t)((j >> 1) - 1) & 1u);
    if (!next_tile(p, L, tinfo[b])) tinfo[b].tile = -1;
    ws::mbar_arrive(tfull + 8 * b);
}

/* Producer thread i: its query row of tile t into L2, so that the
 * consumers' Q copies, which can only start once the previous output has
 * left their buffers, find it there. */
static __device__ __forceinline__ void prefetch_q(const mj_attn_params &p, const ws::tile_info &t, int i) {
    using namespace ws;
    const int row = t.tile * BM + i;
    if (row >= t.nq) return;
    const uint16_t *q = (const uint16_t *)p.q + (int64_t)(t.q0 + row) * p.q_tok_stride + (int64_t)t.h * D;
#pragma unroll
    for (int a = 0; a < D / 64; a++) asm volatile("prefetch.global.L2 [%0];\n" ::"l"(q + a * 64));
}

/* The producer warpgroup over the CTA's tiles (the first one: work item L).
 * Per tile: its K/V steps (mj_ws_produce, the facts read where used from
 * their slot in shared memory: the 40 registers hold no copy), the slot of
 * the facts released (one lane per warp), hand-over j by thread 0, and,
 * once it is in (tfull[j & 1], phase j / 2), the next Q rows prefetched. */
static __device__ __forceinline__ void mj_ws_produce_all(const mj_attn_params &p, uint32_t L, uint32_t kv0,
                                                         uint32_t full, uint32_t empty, uint32_t tbar,
                                                         ws::tile_info *tinfo MJ_WS_TMA_PARAMS) {
    using namespace ws;
    const tile_info *cur = &tinfo[2];
    int g = 0;
    for (int j = 0;; j++) {
        int i;   /* the thread index, read again for each tile: no address term of it is kept across tiles */
        asm volatile("mov.u32 %0, %%tid.x;\n" : "=r"(i));
#ifdef MJ_WS_TMA
        mj_ws_produce(p, *cur, kv0, full, empty, g, i, tk, tv, use_tma);
#else
        mj_ws_produce(p, *cur, kv0, full, empty, g, i);
#endif
        g += (cur->cnt + NB - 1) / NB;
        __syncwarp();
        if (j >= 1 && (i & 31) == 0) mbar_arrive(tbar + 16 + 8 * ((uint32_t)(j - 1) & 1u));
        if (i == 0) hand_over(p, L, tinfo, tbar, tbar + 16, j);
        mbar_wait(tbar + 8 * ((uint32_t)j & 1u), (uint32_t)(j >> 1) & 1u);
        cur = &tinfo[j & 1];
        if (cur->tile < 0) break;
        prefetch_q(p, *cur, i);
    }
    asm volatile("cp.async.wait_all;\n" ::: "memory");
}

/* t with its block-list pointers rebased on the plan's arrays: read from
 * shared memory they are generic pointers, and the consumers' loads through
 * them generic loads; rebased, the compiler sees global ones (LDG, as in
 * the default kernel). */
static __device__ __forceinline__ void rebase_lists(const mj_attn_params &p, ws::tile_info &t) {
    int64_t off = t.list - (const int32_t *)p.blk_list;
    asm("" : "+l"(off));
    t.list = (const int32_t *)p.blk_list + off;
    t.aux = (const int32_t *)p.blk_aux + off;
}

/* Consumer warpgroup c over the CTA's tiles (the first one's facts in
 * tinfo[2], its Q copies issued).  The turns run on across tiles, so that
 * warpgroup 0 may issue a tile's first products while warpgroup 1 finishes
 * the previous tile: warpgroup 1 gives warpgroup 0 the first turn once
 * (before the tiles), every issue gives the other its turn, and warpgroup 0
 * takes the turn given after the last issue at the end (so that both
 * barriers end complete).  Per tile: mj_ws_consume (which issues the next
 * tile's Q copies at its last step where the hand-over is already in:
 * issue_next_q); the next facts (tfull[j & 1], phase j / 2; copied to
 * registers, the slot released by one lane of each warp) and, where not
 * issued yet, the next Q copies into the buffer (free: the last S of every
 * warp completed before the barrier of the last step; a tile without steps
 * never read it). */
static __device__ __forceinline__ void mj_ws_consume_all(const mj_attn_params &p, uint32_t qs, uint32_t kv0,
                                                         uint32_t full, uint32_t empty, uint32_t sink, uint32_t tbar,
                                                         const ws::tile_info *tinfo, int c) {
    using namespace ws;
    tile_info t = tinfo[2];
    rebase_lists(p, t);
    int g = 0;
    if (c == 1) turn_end(BAR_TURN);                     /* warpgroup 0 goes first */
    for (int j = 0;; j++) {
        bool q_issued = false;
        mj_ws_consume(p, t, qs, kv0, full, empty, sink, c, g, true, tbar, tinfo, j, q_issued);
        g += (t.cnt + NB - 1) / NB;
        const uint32_t b = (uint32_t)j & 1u;
        mbar_wait(tbar + 8 * b, (uint32_t)(j >> 1) & 1u);
        t = tinfo[b];
        __syncwarp();
        if ((threadIdx.x & 31) == 0) mbar_arrive(tbar + 16 + 8 * b);
        if (t.tile < 0) break;
        rebase_lists(p, t);
        if (!q_issued) mj_ws_load_q(p, t, qs, c);
    }
    if (c == 0) turn_begin(BAR_TURN);                   /* the turn warpgroup 1 gave last */
}
