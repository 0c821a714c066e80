/* cuda_attn_ws.c — the device workspace of an attention plan (cuda_attn.h):
 * the offsets of its regions (row tables, environments, annotation data and
 * summaries, block lists, bitmasks, split partials), the host image of the
 * part the host fills and its upload.  A decode plan uploads only the bytes
 * that changed since the previous decode plan (typically the rows' lengths)
 * and asks for the summaries to be rebuilt only when the annotations
 * changed. */
#include <stdlib.h>
#include <string.h>

#include "cuda_attn_impl.h"

static size_t align256(size_t x) { return (x + 255) & ~(size_t)255; }

static int64_t env_values(const mj_program *p, const mj_env *e) {
    return (int64_t)p->n_tokens * (e->tokens_len > 0 ? e->tokens_len : 0) + p->n_param_slots +
           (int64_t)p->n_heads * (e->n_heads > 0 ? e->n_heads : 0);
}

int64_t attn_sum_blocks(const mj_env *e) {
    return e->tokens_len > 0 ? (e->tokens_len + MJ_ATTN_BLOCK - 1) / MJ_ATTN_BLOCK : 0;
}

void attn_layout_make(mj_attn *a, const mj_attn_batch *b, layout *L, int64_t total_q) {
    const mj_program *p = a->p;
    int64_t vals = 0, sblocks = 0;
    for (int r = 0; r < b->n_rows; r++) {
        vals += env_values(p, &b->envs[r]);
        sblocks += attn_sum_blocks(&b->envs[r]);
    }
    size_t off = 0;
    L->q_start = off; off = align256(off + sizeof(int32_t) * (size_t)(b->n_rows + 1));
    L->k_start = off; off = align256(off + sizeof(int64_t) * (size_t)b->n_rows);
    L->k_len = off; off = align256(off + sizeof(int32_t) * (size_t)b->n_rows);
    L->envs = off; off = align256(off + sizeof(mj_env) * (size_t)b->n_rows);
    L->sums = off; off = align256(off + sizeof(mj_summary) * (size_t)b->n_rows);
    L->pmask_count = off; off = align256(off + 16);   /* int32 pmask count; uint64 tile counter at + 8 */
    L->env_data = off; off = align256(off + sizeof(mj_value) * (size_t)vals);
    L->staged = off;
    L->sum_data = off; off = align256(off + 2 * sizeof(mj_value) * (size_t)(sblocks * p->n_tokens));
    size_t lists = a->decode ? 0 : (size_t)b->n_rows * a->prm.n_hgroups * a->prm.max_qtiles;
    L->blk_list = off; off = align256(off + sizeof(int32_t) * lists * (size_t)a->prm.max_kblocks);
    L->blk_count = off; off = align256(off + sizeof(int32_t) * lists);
    L->blk_aux = off; off = align256(off + sizeof(int32_t) * lists * (size_t)a->prm.max_kblocks);
    L->pmask = off; off = align256(off + (size_t)a->prm.pmask_cap * (size_t)a->qtile * 8);
    L->pmask_work = off; off = align256(off + (size_t)a->prm.pmask_cap * 8);
    size_t parts = a->decode && a->prm.n_splits > 1
                       ? (size_t)total_q * b->n_heads * (size_t)a->prm.n_splits : 0;
    L->o_part = off; off = align256(off + sizeof(float) * parts * (size_t)a->head_dim);
    L->lse_part = off; off = align256(off + sizeof(float) * parts);
    L->total = off;
}

/* Host image of [0, L->staged): row tables, device envs and summaries, env data. */
static void fill_staging(mj_attn *a, const mj_attn_batch *b, const layout *L, uint8_t *h) {
    const mj_program *p = a->p;
    mj_cu_ptr ws = a->ws;
    int32_t *q_start = (int32_t *)(h + L->q_start), *k_len = (int32_t *)(h + L->k_len);
    int64_t *k_start = (int64_t *)(h + L->k_start);
    mj_env *envs = (mj_env *)(h + L->envs);
    mj_summary *sums = (mj_summary *)(h + L->sums);
    mj_value *vals = (mj_value *)(h + L->env_data);
    size_t vi = 0, si = 0;
    int64_t packed = 0;
    q_start[0] = 0;
    for (int r = 0; r < b->n_rows; r++) {
        const mj_env *e = &b->envs[r];
        q_start[r + 1] = q_start[r] + b->q_len[r];
        k_len[r] = b->k_len[r];
        k_start[r] = b->k_start ? b->k_start[r] : packed;
        packed += b->k_len[r];
        mj_env de = *e;
        int64_t tl = e->tokens_len > 0 ? e->tokens_len : 0;
        de.tokens_len = tl;
        de.tokens_stride = tl;
        de.tokens = (const mj_value *)(uintptr_t)(ws + L->env_data + vi * sizeof(mj_value));
        for (int32_t t = 0; t < p->n_tokens; t++, vi += (size_t)tl)
            if (tl) memcpy(vals + vi, e->tokens + (int64_t)t * e->tokens_stride, (size_t)tl * sizeof(mj_value));
        de.params = (const mj_value *)(uintptr_t)(ws + L->env_data + vi * sizeof(mj_value));
        if (p->n_param_slots) memcpy(vals + vi, e->params, (size_t)p->n_param_slots * sizeof(mj_value));
        vi += (size_t)p->n_param_slots;
        int64_t nh = e->n_heads > 0 ? e->n_heads : 0;
        de.heads = (const float *)(uintptr_t)(ws + L->env_data + vi * sizeof(mj_value));
        if (p->n_heads && nh) memcpy(vals + vi, e->heads, (size_t)(p->n_heads * nh) * sizeof(float));
        vi += (size_t)(p->n_heads * nh);
        envs[r] = de;
        int64_t nb = attn_sum_blocks(e);
        mj_summary s = {MJ_ATTN_BLOCK, 0, nb, NULL, NULL};
        if (p->n_tokens && nb) {
            s.tok_min = (const mj_value *)(uintptr_t)(ws + L->sum_data + si * sizeof(mj_value));
            s.tok_max = s.tok_min + nb * p->n_tokens;
            si += 2 * (size_t)(nb * p->n_tokens);
        }
        sums[r] = s;
    }
}

int attn_workspace_ensure(mj_attn *a, size_t bytes) {
    if (bytes <= a->ws_cap) return 0;
    if (a->ws && mj_cu_sync(a->cu) != 0) return attn_cu_fail(a, "workspace");   /* no kernel still reads it */
    mj_cu_free(a->cu, a->ws);
    a->ws = 0;
    a->ws_cap = 0;
    size_t cap = bytes + bytes / 2;
    if (mj_cu_alloc(a->cu, &a->ws, cap) != 0) return attn_cu_fail(a, "workspace");
    a->ws_cap = cap;
    return 0;
}

/* Whether the summary kernel's inputs differ between the device's image
 * a->img and the new one h (same layout), given that their last differing
 * byte is below end: the summaries' descriptors or the annotation data (both
 * from L->sums on), or an environment's annotation table (the rows'
 * environments differ every step in their lengths anyway). */
static bool summaries_stale(const mj_attn *a, const layout *L, const uint8_t *h, int n_rows, size_t end) {
    if (end > L->sums) return true;
    for (int r = 0; r < n_rows; r++) {
        const mj_env *x = (const mj_env *)(a->img + L->envs) + r, *y = (const mj_env *)(h + L->envs) + r;
        if (x->tokens != y->tokens || x->tokens_len != y->tokens_len || x->tokens_stride != y->tokens_stride)
            return true;
    }
    return false;
}

/* The byte range [*lo, *hi) of the new image h (L->staged bytes) that
 * differs from what the device holds (a->img), widened to 16-byte
 * boundaries, and whether the summaries must be rebuilt (*stale); the whole
 * image and true when a->img does not describe the device's bytes for this
 * layout.  Afterwards a->img is h. */
static void staging_delta(mj_attn *a, const layout *L, const uint8_t *h, int n_rows, size_t *lo, size_t *hi,
                          bool *stale) {
    const size_t n = L->staged;
    *lo = 0;
    *hi = n;
    *stale = true;
    const layout *o = &a->img_layout;   /* the regions of [0, staged) and the summaries' data */
    const bool same = o->q_start == L->q_start && o->k_start == L->k_start && o->k_len == L->k_len &&
                      o->envs == L->envs && o->sums == L->sums && o->pmask_count == L->pmask_count &&
                      o->env_data == L->env_data && o->sum_data == L->sum_data && o->staged == L->staged;
    if (a->decode && !a->plan_full && a->img_ok && a->img_ws == a->ws && same) {
        size_t f = 0, e = n;
        while (f < n && a->img[f] == h[f]) f++;
        while (e > f && a->img[e - 1] == h[e - 1]) e--;
        *lo = f & ~(size_t)15;
        *hi = f == e ? *lo : (e + 15) / 16 * 16 < n ? (e + 15) / 16 * 16 : n;
        *stale = summaries_stale(a, L, h, n_rows, f == e ? 0 : e);   /* e: end of the differing bytes */
    }
    a->img_ok = false;
    if (!a->decode || n > a->img_cap) {   /* prefill kernels write into [0, staged): no copy */
        if (!a->decode) return;
        free(a->img);
        a->img = malloc(n);
        a->img_cap = a->img ? n : 0;
        if (!a->img) return;
    }
    memcpy(a->img, h, n);
    a->img_ok = true;
    a->img_layout = *L;
    a->img_ws = a->ws;
}

/* Fills the next pinned staging image and uploads what the device lacks of
 * it (staging_delta); *env_changed: whether the summaries must be rebuilt. */
int attn_staging_upload(mj_attn *a, const mj_attn_batch *b, const layout *L, bool *env_changed) {
    const int i = a->stage_i;
    a->stage_i ^= 1;
    if (!a->stage_ev[i] && mj_cu_event_init(a->cu, &a->stage_ev[i]) != 0) return attn_cu_fail(a, "staging event");
    if (mj_cu_event_sync(a->cu, a->stage_ev[i]) != 0) return attn_cu_fail(a, "staging");
    size_t need = L->staged ? L->staged : 1;
    if (need > a->stage_cap[i]) {
        mj_cu_host_free(a->cu, a->stage[i]);
        a->stage[i] = NULL;
        a->stage_cap[i] = 0;
        size_t cap = need + need / 2;
        if (mj_cu_host_alloc(a->cu, &a->stage[i], cap) != 0) return attn_cu_fail(a, "staging buffer");
        a->stage_cap[i] = cap;
    }
    memset(a->stage[i], 0, need);
    fill_staging(a, b, L, a->stage[i]);
    size_t lo, hi;
    staging_delta(a, L, a->stage[i], b->n_rows, &lo, &hi, env_changed);
    mj_cu_stream st = mj_cu_get_stream(a->cu);
    if ((hi > lo && mj_cu_upload_async(a->cu, a->ws + lo, (uint8_t *)a->stage[i] + lo, hi - lo, st) != 0) ||
        mj_cu_event_record(a->cu, a->stage_ev[i], st) != 0)
        return attn_cu_fail(a, "upload");
    return 0;
}
