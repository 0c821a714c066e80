/* mask_session.c — see mask_session.h. */
#include "mask_session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blocks.h"
#include "compile.h"
#include "interp.h"

int mj_mask_session_open(mj_mask_session *s, const char *cmd, const char *path,
                         const mj_layout_opts *lo, const char *backend) {
    mj_diags dg;
    char err[512];
    memset(s, 0, sizeof *s);
    if (strcmp(backend, "interp") && strcmp(backend, "cpu")) {
        fprintf(stderr, "maskjit %s: --backend must be interp or cpu, not '%s'\n", cmd, backend);
        return 2;
    }
    mj_diags_init(&dg);
    s->p = mj_compile_file(path, NULL, &dg);
    if (!s->p) {
        mj_diags_print(&dg, stderr);
        mj_diags_free(&dg);
        return 1;
    }
    mj_diags_free(&dg);
    if (mj_layout_build(s->p, lo, &s->L, err, sizeof err) != 0) {
        fprintf(stderr, "maskjit %s: %s\n", cmd, err);
        mj_program_free(s->p);
        s->p = NULL;
        return 2;
    }
    if (!strcmp(backend, "cpu")) {
        mj_diags_init(&dg);
        s->jit = mj_jit_init(s->p, &dg);
        if (!s->jit) {
            mj_diags_print(&dg, stderr);
            fprintf(stderr, "maskjit %s: the CPU back end (LLVM JIT) is not available; "
                    "use --backend interp\n", cmd);
            mj_diags_free(&dg);
            mj_mask_session_close(s);
            return 1;
        }
        mj_diags_free(&dg);
        s->fns = mj_jit_fns(s->jit);
    } else {
        s->fns = mj_interp_fns(s->p);
    }
    return 0;
}

void mj_mask_session_close(mj_mask_session *s) {
    if (s->jit) mj_jit_free(s->jit);
    mj_layout_free(&s->L);
    if (s->p) mj_program_free(s->p);
    memset(s, 0, sizeof *s);
}

uint8_t *mj_mask_session_dense(const mj_mask_session *s, int32_t h) {
    int64_t n = s->L.env.seq_len;
    uint8_t *d = malloc((size_t)(n * n > 0 ? n * n : 1));
    if (!d) return NULL;
    for (int64_t q = 0; q < n; q++)
        for (int64_t kv = 0; kv < n; kv++)
            d[q * n + kv] = s->fns.mask(s->fns.ctx, &s->L.env, (int32_t)q, (int32_t)kv, h) ? 1 : 0;
    return d;
}

uint8_t *mj_mask_session_blocks(const mj_mask_session *s, int32_t block, int32_t h, int32_t *nb_out) {
    int64_t n = s->L.env.seq_len, nb;
    uint8_t *m;
    if (block < 1) return NULL;
    nb = (n + block - 1) / block;
    m = malloc((size_t)(nb * nb > 0 ? nb * nb : 1));
    if (!m) return NULL;
    if (mj_blocks_map(s->p, &s->fns, &s->L.env, block, h, h, m) != 0) { free(m); return NULL; }
    *nb_out = (int32_t)nb;
    return m;
}

int64_t mj_mask_session_count(const mj_mask_session *s, const mj_summary *sum, int32_t q0, int32_t q1,
                              int32_t k0, int32_t k1, int32_t h) {
    mj_region r = {q0, q1, k0, k1, h, h};
    int64_t area = ((int64_t)q1 - q0 + 1) * ((int64_t)k1 - k0 + 1), n = 0;
    int cls;
    if (q0 > q1 || k0 > k1) return 0;
    cls = s->fns.classify(s->fns.ctx, &s->L.env, sum, &r);
    if (cls == MJ_BLOCK_FULL) return area;
    if (cls == MJ_BLOCK_EMPTY) return 0;
    if (area <= 256) {
        for (int32_t q = q0; q <= q1; q++)
            for (int32_t kv = k0; kv <= k1; kv++) n += s->fns.mask(s->fns.ctx, &s->L.env, q, kv, h) ? 1 : 0;
        return n;
    }
    {
        int32_t qm = q0 + (q1 - q0) / 2, km = k0 + (k1 - k0) / 2;
        if (q0 == q1) return mj_mask_session_count(s, sum, q0, q1, k0, km, h) +
                             mj_mask_session_count(s, sum, q0, q1, km + 1, k1, h);
        if (k0 == k1) return mj_mask_session_count(s, sum, q0, qm, k0, k1, h) +
                             mj_mask_session_count(s, sum, qm + 1, q1, k0, k1, h);
        return mj_mask_session_count(s, sum, q0, qm, k0, km, h) + mj_mask_session_count(s, sum, q0, qm, km + 1, k1, h) +
               mj_mask_session_count(s, sum, qm + 1, q1, k0, km, h) +
               mj_mask_session_count(s, sum, qm + 1, q1, km + 1, k1, h);
    }
}
