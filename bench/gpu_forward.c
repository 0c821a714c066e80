/* gpu_forward.c — model-level measurements of maskjit's CUDA engine for
 * bench/gpu_bench.sh (built by bench/gpu_build.sh on the GPU machine), the
 * half of each comparison that bench/gpu_parity.py's peers (HF transformers)
 * are set against.  One model load serves every measurement:
 *
 *   gpu_forward MODEL_DIR DATA_DIR OUT_DIR [parity] [decode] [e2e]
 *
 * DATA_DIR (written by gpu_parity.py prompts): parity.bin = int32 n then n
 * token ids (segments: token i is in segment i * 5 / n); e2e.bin = int32
 * rows, len, seg_len, then rows x len ids (segment i / seg_len).
 * Mask: examples/fusion_seed.mask (run from the repository root).
 *   parity  prefill of the prompt: argmax and top-2 margin after every token
 *           (OUT/<tag>top1.bin: int32 top1[n], f32 margin[n]), then 16 greedy
 *           tokens (OUT/greedy.txt) and 256 teacher-forced decode steps
 *           (OUT/forced_top1.bin, parity_forced)
 *   decode  batch 1 (MJ_BENCH_DECODE_ROWS=B: B rows of that prompt; tokens/s
 *           counts every row's, ms_per_token is a step's), the parity
 *           prompt, 256 greedy steps timed, for each
 *           engine configuration of decode_cfg (MJ_BENCH_DECODE=0,3 picks
 *           rows): the default, its switches one by one, H11's default,
 *           eager, cuBLASLt only; MJ_BENCH_DECODE_PROMPT=N shortens the
 *           prompt of the rows that name none, MJ_BENCH_DECODE_CUSTOM=
 *           "ENV;ENV" adds a row per ENV (per-seqs switches)
 *   e2e     every e2e row: prefill then 10 greedy tokens, all rows in one
 *           batch and in batches of 16 (OUT/e2e_tokens.txt)
 * Prints one JSON object per measurement on stdout. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compile.h"
#include "cuda_engine.h"
#include "engine.h"
#include "interp.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int32_t *read_ints(const char *path, int64_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    rewind(f);
    int32_t *p = malloc((size_t)sz + 4);
    *n = (int64_t)(sz / 4);
    if (p && fread(p, 4, (size_t)*n, f) != (size_t)*n) { free(p); p = NULL; }
    fclose(f);
    return p;
}

/* Greedy choice as generation makes it (mj_sample, temperature 0).  (The
 * runs recorded on 2026-11-26 used a slower loop here that re-read the best
 * logit every iteration: ~0.6 ms per token of host time in the decode
 * numbers; see bench/RESULTS.md.) */
static int32_t argmax(const float *x, int32_t n) {
    static const mj_sampling greedy = {0.0f, 0, 1.0f, 0};
    return mj_sample(x, n, &greedy, NULL);
}

typedef struct ctx {
    mj_engine *e;
    mj_program *p;
    mj_mask_fns f;
    int a_seg;
    int32_t V;
    const char *out;
} ctx;

/* Row specs for rows of len tokens each; token i is in segment
 * i * n_seg / len (gpu_parity.py's formula) when n_seg > 0, else i / seg_len. */
static void make_rows(ctx *c, int n_rows, int32_t len, int32_t seg_len, const int32_t *tok, mj_row_spec *spec,
                      mj_value *annot) {
    for (int r = 0; r < n_rows; r++) {
        for (int32_t i = 0; i < len; i++)
            annot[(int64_t)r * len + i].i = seg_len > 0 ? i / seg_len : (int32_t)((int64_t)i * -seg_len / len);
        mj_row_spec s = {tok + (int64_t)r * len, len, c->a_seg >= 0 ? annot + (int64_t)r * len : NULL, NULL, NULL,
                         len};
        spec[r] = s;
    }
}

static void write_file(const ctx *c, const char *name, const void *p, size_t bytes) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", c->out, name);
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(p, 1, bytes, f);
        fclose(f);
    }
}

/* Prefill of the prompt (prompt_len = n) under program p with attention
 * MJ_CUDA_ATTN=attn: every token's argmax/margin (top1_<tag>.bin) and the
 * last token's logits (last_<tag>.bin); with greedy, 16 greedy tokens. */
static int parity_run(ctx *c, const mj_program *p, const char *tag, const char *attn, const int32_t *tok, int32_t n,
                      bool greedy_too) {
    mj_mask_fns f = mj_interp_fns(p);
    int a_seg = mj_program_find_tokens(p, "seg");
    mj_value *annot = malloc((size_t)n * sizeof *annot);
    for (int32_t i = 0; i < n; i++) annot[i].i = (int32_t)((int64_t)i * 5 / n);
    mj_row_spec spec = {tok, n, a_seg >= 0 ? annot : NULL, NULL, NULL, n};
    setenv("MJ_CUDA_ATTN", attn, 1);
    char err[512];
    mj_seqs *s = mj_seqs_init(c->e, p, &f, 1, &spec, 16, err, sizeof err);
    unsetenv("MJ_CUDA_ATTN");
    if (!s) { fprintf(stderr, "parity %s: %s\n", tag, err); free(annot); return -1; }
    int32_t *top1 = malloc((size_t)n * 4), greedy[16];
    float *margin = malloc((size_t)n * 4), *logits = malloc((size_t)c->V * 4);
    mj_cuda_seqs_trace(s, top1, margin);
    double t0 = now_s();
    int rc = mj_seqs_prefill(s, logits);
    double t_pre = now_s() - t0;
    char name[128];
    if (rc == 0) {
        int32_t *buf = malloc((size_t)n * 8);
        memcpy(buf, top1, (size_t)n * 4);
        memcpy(buf + n, margin, (size_t)n * 4);
        snprintf(name, sizeof name, "top1_%s.bin", tag);
        write_file(c, name, buf, (size_t)n * 8);
        free(buf);
        snprintf(name, sizeof name, "last_%s.bin", tag);
        write_file(c, name, logits, (size_t)c->V * 4);
    }
    for (int k = 0; greedy_too && rc == 0 && k < 16; k++) {
        greedy[k] = argmax(logits, c->V);
        if (k < 15) rc = mj_seqs_append(s, &greedy[k], logits);
    }
    if (rc != 0) fprintf(stderr, "parity %s: %s\n", tag, mj_seqs_error(s));
    if (greedy_too && rc == 0) {
        char path[1024];
        snprintf(path, sizeof path, "%s/greedy.txt", c->out);
        FILE *g = fopen(path, "w");
        for (int k = 0; g && k < 16; k++) fprintf(g, "%d%c", greedy[k], k == 15 ? '\n' : ' ');
        if (g) fclose(g);
    }
    if (rc == 0)
        printf("{\"what\": \"parity\", \"tag\": \"%s\", \"tokens\": %d, \"prefill_s\": %.4f, \"last_top1\": %d, "
               "\"trace_last_top1\": %d}\n", tag, n, t_pre, argmax(logits, c->V), top1[n - 1]);
    fflush(stdout);
    mj_seqs_free(s);
    free(top1); free(margin); free(logits); free(annot);
    return rc;
}

/* The last prompt position's logits through the decode path under the
 * causal mask (appended tokens take the annotation defaults, so the fusion
 * mask would differ): prefill of n - 1 tokens, then token n - 1 appended
 * (last_viadecode.bin, against last_causal.bin); and position 0 alone under
 * the fusion mask (p0.bin). */
static int parity_paths(ctx *c, const mj_program *causal, const int32_t *tok, int32_t n) {
    mj_value *annot = malloc((size_t)n * sizeof *annot);
    for (int32_t i = 0; i < n; i++) annot[i].i = (int32_t)((int64_t)i * 5 / n);
    float *logits = malloc((size_t)c->V * 4);
    mj_row_spec spec = {tok, n - 1, NULL, NULL, NULL, 0};
    mj_mask_fns cf = mj_interp_fns(causal);
    char err[512] = "";
    mj_seqs *s = mj_seqs_init(c->e, causal, &cf, 1, &spec, 2, err, sizeof err);
    int rc = s ? mj_seqs_prefill(s, logits) : -1;
    if (rc == 0) rc = mj_seqs_append(s, &tok[n - 1], logits);
    if (rc == 0) write_file(c, "last_viadecode.bin", logits, (size_t)c->V * 4);
    if (s) mj_seqs_free(s);
    mj_row_spec one = {tok, 1, c->a_seg >= 0 ? annot : NULL, NULL, NULL, n};
    s = rc == 0 ? mj_seqs_init(c->e, c->p, &c->f, 1, &one, 1, err, sizeof err) : NULL;
    rc = s ? mj_seqs_prefill(s, logits) : -1;
    if (rc == 0) write_file(c, "p0.bin", logits, (size_t)c->V * 4);
    if (s) mj_seqs_free(s);
    if (rc != 0) fprintf(stderr, "parity paths: %s\n", err);
    free(annot);
    free(logits);
    return rc;
}

/* Teacher-forced decode after the fusion prompt: the FORCED_STEPS tokens
 * tok[0..FORCED_STEPS) (fixed, whatever either model would pick) appended
 * one by one; after each, the argmax and top-2 margin of the f32 logits
 * (OUT/forced_top1.bin: int32 top1[FORCED_STEPS], f32 margin[FORCED_STEPS]),
 * for bench/gpu_parity.py to compare with HF on the same sequence: decode
 * parity over many steps instead of one greedy chain. */
enum { FORCED_STEPS = 256 };
static int parity_forced(ctx *c, const int32_t *tok, int32_t n) {
    mj_value *annot = malloc((size_t)n * sizeof *annot);
    mj_row_spec spec;
    make_rows(c, 1, n, -5, tok, &spec, annot);
    char err[512] = "";
    mj_seqs *s = mj_seqs_init(c->e, c->p, &c->f, 1, &spec, FORCED_STEPS, err, sizeof err);
    float *logits = malloc((size_t)c->V * 4);
    int32_t *buf = malloc((size_t)FORCED_STEPS * 8);
    int rc = s ? mj_seqs_prefill(s, logits) : -1;
    for (int k = 0; rc == 0 && k < FORCED_STEPS; k++) {
        rc = mj_seqs_append(s, &tok[k % n], logits);
        int32_t b = argmax(logits, c->V);
        float second = -INFINITY;
        for (int32_t v = 0; v < c->V; v++)
            if (v != b && logits[v] > second) second = logits[v];
        buf[k] = b;
        ((float *)buf)[FORCED_STEPS + k] = logits[b] - second;
    }
    if (rc == 0) write_file(c, "forced_top1.bin", buf, (size_t)FORCED_STEPS * 8);
    else fprintf(stderr, "parity forced: %s\n", s ? mj_seqs_error(s) : err);
    if (s) mj_seqs_free(s);
    free(buf);
    free(logits);
    free(annot);
    return rc;
}

static int do_parity(ctx *c, const int32_t *tok, int32_t n) {
    mj_diags d;
    mj_diags_init(&d);
    mj_program *causal = mj_compile_file("examples/causal.mask", NULL, &d);
    mj_diags_free(&d);
    int rc = parity_run(c, c->p, "fusion", "", tok, n, true);
    rc |= parity_forced(c, tok, n);
    rc |= parity_run(c, c->p, "fusion_naive", "naive", tok, n, false);
    if (causal) rc |= parity_run(c, causal, "causal", "", tok, n, false);
    if (causal) rc |= parity_paths(c, causal, tok, n);
    mj_program_free(causal);
    return rc;
}

/* Batch-1 decode: steps timed after 8 warm-up steps. */
/* The decode rows' batch: MJ_BENCH_DECODE_ROWS (1..64, default 1). */
static int bench_decode_rows(void) {
    const char *v = getenv("MJ_BENCH_DECODE_ROWS");
    int b = v ? atoi(v) : 1;
    return b >= 1 && b <= 64 ? b : 1;
}

static int decode_run(ctx *c, const int32_t *tok, int32_t n, int steps, const char *label) {
    /* MJ_BENCH_DECODE_ROWS=B (1..64): B rows of the same prompt decoded together */
    const int B = bench_decode_rows();
    mj_value *annot = malloc((size_t)B * (size_t)n * sizeof *annot);
    int32_t *toks = malloc((size_t)B * (size_t)n * sizeof *toks), next[64], picks[64];
    mj_row_spec spec[64];
    for (int r = 0; r < B; r++) memcpy(toks + (int64_t)r * n, tok, (size_t)n * sizeof *toks);
    make_rows(c, B, n, -5, toks, spec, annot);
    char err[512];
    mj_seqs *s = mj_seqs_init(c->e, c->p, &c->f, B, spec, steps + 8, err, sizeof err);
    if (!s) { fprintf(stderr, "decode: %s\n", err); free(annot); free(toks); return -1; }
    float *logits = malloc((size_t)B * (size_t)c->V * 4);
    int rc = mj_seqs_prefill(s, logits);
    double t0 = 0;
    mj_cuda_stats st0 = {0};
    /* greedy picks on the device (mj_seqs_append_greedy), unless MJ_BENCH_LOGITS=1:
     * every step's logits downloaded and the argmax taken here */
    const char *lg = getenv("MJ_BENCH_LOGITS");
    const bool host_pick = lg && !strcmp(lg, "1");
    for (int k = 0; rc == 0 && k < steps + 8; k++) {
        if (k == 8) {
            t0 = now_s();
            mj_cuda_seqs_stats(s, &st0);
        }
        for (int r = 0; r < B && (k == 0 || host_pick); r++) next[r] = argmax(logits + (int64_t)r * c->V, c->V);
        rc = host_pick ? mj_seqs_append(s, next, logits) : mj_seqs_append_greedy(s, next, picks);
        if (!host_pick) memcpy(next, picks, (size_t)B * sizeof *next);
    }
    double dt = now_s() - t0;
    mj_cuda_stats st;
    mj_cuda_seqs_stats(s, &st);
    double g_ms = 0, v_ms = 0, v_gbs = 0;
    if (rc == 0 && mj_cuda_seqs_bench(s, 50, &g_ms, &v_ms, &v_gbs) == 0)
        printf("{\"what\": \"decode_gpu_time\", \"config\": \"%s\", \"graph_step_ms\": %.4f, "
               "\"gemv_pass_ms\": %.4f, \"gemv_GBps\": %.1f}\n", label, g_ms, v_ms, v_gbs);
    double pms[MJ_CUDA_PRODUCTS], pgb[MJ_CUDA_PRODUCTS];
    if (rc == 0 && mj_cuda_seqs_bench_products(s, 20, pms, pgb) == 0)
        printf("{\"what\": \"decode_products\", \"config\": \"%s\", \"ms\": [%.4f, %.4f, %.4f, %.4f, %.4f], "
               "\"GBps\": [%.0f, %.0f, %.0f, %.0f, %.0f]}\n", label, pms[0], pms[1], pms[2], pms[3], pms[4],
               pgb[0], pgb[1], pgb[2], pgb[3], pgb[4]);
    if (rc != 0) fprintf(stderr, "decode: %s\n", mj_seqs_error(s));
    else
        printf("{\"what\": \"decode\", \"config\": \"%s\", \"rows\": %d, \"prompt\": %d, \"steps\": %d, "
               "\"seconds\": %.4f, \"tokens_per_s\": %.1f, \"ms_per_token\": %.3f, \"graph_captures\": %lld, \"graph_replays\": %lld, "
               "\"pdl\": %d, \"per_step_ms\": {\"prep\": %.4f, \"launch\": %.4f, \"wait\": %.4f, \"copy\": %.4f}}\n",
               label, B, n, steps, dt, B * steps / dt, 1e3 * dt / steps, st.graph_captures, st.graph_replays, st.pdl,
               (st.host_prep_ms - st0.host_prep_ms) / steps, (st.host_launch_ms - st0.host_launch_ms) / steps,
               (st.wait_ms - st0.wait_ms) / steps, (st.host_copy_ms - st0.host_copy_ms) / steps);
    fflush(stdout);
    mj_seqs_free(s);
    free(logits);
    free(annot);
    free(toks);
    return rc;
}

/* Decode configurations: a label and the engine switches it sets (every
 * MJ_CUDA_* / MJ_ATTN_* switch named in any row is unset for the others).
 * The rows share one engine, so switches read when the engine opens
 * (MJ_CUDA_FWD_DEFINES, MJ_CUDA_GEMV_UNROLL: the forward kernels' build)
 * belong on the command line, not in a row. */
static const struct { const char *label, *env; int prompt; } decode_cfg[] = {
    {"warm-up (default)", "", 0},
    {"default (graphs+skinny+pdl, fused rope, K-split o/down, norm rows in smem, attention pdl, greedy on the device)",
     "", 0},
    {"norm per warp", "MJ_CUDA_NORM_SMEM=0", 0},
    {"no K-split", "MJ_CUDA_KSPLIT=0", 0},
    {"rope unfused", "MJ_CUDA_FUSE_ROPE=0", 0},
    {"attention without pdl", "MJ_CUDA_ATTN_PDL=0", 0},
    {"attention 3-stage K/V pipeline", "MJ_ATTN_DECODE_STAGES=3", 0},
    {"attention splits for 2 CTAs/SM (H4)", "MJ_ATTN_DECODE_CTAS=2", 0},
    {"H11 path (no K-split, rope kernel, norm per warp, attention without pdl, H4 splits)",
     "MJ_CUDA_KSPLIT=0 MJ_CUDA_FUSE_ROPE=0 MJ_CUDA_NORM_SMEM=0 MJ_CUDA_ATTN_PDL=0 MJ_ATTN_DECODE_CTAS=2", 0},
    {"graphs+skinny, no pdl", "MJ_CUDA_PDL=0", 0},
    {"graphs+skinny, norms unfused", "MJ_CUDA_FUSE_NORM=0", 0},
    {"eager+skinny+pdl", "MJ_CUDA_GRAPHS=0", 0},
    {"eager+cublasLt", "MJ_CUDA_GRAPHS=0 MJ_CUDA_SKINNY=0 MJ_CUDA_PDL=0", 0},
    {"default, 128-token prompt", "", 128},
    {"logits downloaded, argmax on the host (before mj_seqs_append_greedy)", "MJ_BENCH_LOGITS=1", 0},
    {"q|k|v + RoPE with K split", "MJ_CUDA_ROPE_KSPLIT=1", 0},
    {"attention splits as one cluster (no combine kernel)", "MJ_ATTN_DECODE_CLUSTER=16", 0},
    {"q|k|v K split + attention cluster", "MJ_CUDA_ROPE_KSPLIT=1 MJ_ATTN_DECODE_CLUSTER=16", 0},
    {"before decode2 (no clusters, combine without forced pdl)", "MJ_ATTN_DECODE_CLUSTER=0 MJ_ATTN_COMBINE_PDL=0", 0},
    {"run-ahead off (the host waits for each step's pick before launching the next)", "MJ_RUN_AHEAD=0", 0},
    {"attention kernels skipped (timing only: wrong outputs)", "MJ_CUDA_DEV_SKIP_ATTN=1", 0},
    {"default, 1 250-token prompt (5 x 250, the end-to-end shape)", "", 1250},
    {"attention 2-stage K/V ring", "MJ_ATTN_DECODE_STAGES=2", 0},
    {"combine kernel skipped (timing only: wrong outputs)", "MJ_ATTN_DEV_SKIP_COMBINE=1", 0},
    {"attention without K/V blocks (timing only: wrong outputs)", "MJ_ATTN_DECODE_DEFINES=MJ_DECODE_DEV_NOLOOP=1", 0},
    {"attention without K/V blocks, no combine (timing only)",
     "MJ_ATTN_DECODE_DEFINES=MJ_DECODE_DEV_NOLOOP=1 MJ_ATTN_DEV_SKIP_COMBINE=1", 0},
    {"attention: K/V blocks computed but not loaded (timing only)", "MJ_ATTN_DECODE_DEFINES=MJ_DECODE_DEV_NOLOAD=1", 0},
    {"attention: K/V blocks loaded, no math (timing only)", "MJ_ATTN_DECODE_DEFINES=MJ_DECODE_DEV_NOMATH=1", 0},
    {"graph keyed on the rows' 64-key block counts (re-captured every 64 tokens; before session 10)",
     "MJ_CUDA_GRAPH_KEY=blocks", 0},
    {"attention: 17 splits", "MJ_ATTN_DECODE_SPLITS=17", 0},
    {"attention: 8 splits (one cluster, no combine kernel)", "MJ_ATTN_DECODE_SPLITS=8 MJ_ATTN_DECODE_CLUSTER=8", 0},
    {"attention splits for 3 CTAs/SM", "MJ_ATTN_DECODE_CTAS=3", 0},
    {"attention plans upload everything and rebuild the summaries each step (before session 10)",
     "MJ_ATTN_PLAN_FULL=1", 0},
    {"greedy picks downloaded after each step (before session 10)", "MJ_CUDA_MAPPED_PICKS=0", 0},
    {"embedding by its own kernel (before session 10)", "MJ_CUDA_FUSE_EMBED=0", 0},
};
/* Each NAME=VALUE word of env (the name ends at the first '='): set, or
 * with unset, removed from the environment. */
static void env_words(const char *env, bool unset) {
    char buf[256];
    snprintf(buf, sizeof buf, "%s", env);
    for (char *save = NULL, *w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
        char *eq = strchr(w, '=');
        if (!eq) continue;
        *eq = '\0';
        if (unset) unsetenv(w);
        else setenv(w, eq + 1, 1);
    }
}

/* Sets the NAME=VALUE words of env after unsetting every variable that any
 * decode_cfg row names. */
static void set_decode_env(const char *env) {
    for (size_t i = 0; i < sizeof decode_cfg / sizeof decode_cfg[0]; i++) env_words(decode_cfg[i].env, true);
    env_words(env, false);
}

/* The switch of env (NAME=VALUE words) that the engine reads only when it
 * opens (the forward kernels' build), as "NAME=", or NULL: a decode row
 * setting it would measure the default kernels under its label. */
static const char *engine_open_switch(const char *env) {
    static const char *const names[] = {"MJ_CUDA_FWD_DEFINES=", "MJ_CUDA_GEMV_UNROLL="};
    for (size_t j = 0; j < sizeof names / sizeof names[0]; j++)
        if (strstr(env, names[j])) return names[j];
    return NULL;
}

/* MJ_BENCH_DECODE_CUSTOM="ENV;ENV...": one more decode row per ENV
 * (NAME=VALUE words of per-seqs switches), labelled by it, each with every
 * custom row's switches unset first. */
static int decode_custom(ctx *c, const int32_t *tok, int32_t prompt) {
    const char *cust = getenv("MJ_BENCH_DECODE_CUSTOM");
    char buf[1024], all[1024];
    snprintf(buf, sizeof buf, "%s", cust ? cust : "");
    snprintf(all, sizeof all, "%s", buf);
    for (char *q = all; *q; q++)
        if (*q == ';') *q = ' ';
    int rc = 0;
    for (char *save = NULL, *e = strtok_r(buf, ";", &save); e; e = strtok_r(NULL, ";", &save)) {
        const char *eo = engine_open_switch(e);
        if (eo) {
            fprintf(stderr, "gpu_forward: custom decode row '%s' sets %.*s, which the engine reads when it opens\n",
                    e, (int)strlen(eo) - 1, eo);
            rc = 1;
            continue;
        }
        char label[300];
        snprintf(label, sizeof label, "custom: %s", e);
        env_words(all, true);
        set_decode_env(e);
        rc |= decode_run(c, tok, prompt, 256, label);
    }
    return rc;
}

/* Every decode_cfg row (MJ_BENCH_DECODE=i,j,... picks rows by index; a row
 * that sets an engine-open switch is refused), then the custom rows. */
static int do_decode(ctx *c, const int32_t *tok, int32_t n) {
    for (size_t i = 0; i < sizeof decode_cfg / sizeof decode_cfg[0]; i++) {
        const char *eo = engine_open_switch(decode_cfg[i].env);
        if (eo) {
            fprintf(stderr, "gpu_forward: decode row %zu sets %.*s, which the engine reads when it opens: "
                            "set it on the command line instead\n",
                    i, (int)strlen(eo) - 1, eo);
            return 1;
        }
    }
    const char *pick = getenv("MJ_BENCH_DECODE");
    /* MJ_BENCH_DECODE_PROMPT=N: the prompt of every row that names none */
    const char *pv = getenv("MJ_BENCH_DECODE_PROMPT");
    const int32_t prompt = pv && atoi(pv) > 0 && atoi(pv) < n ? atoi(pv) : n;
    int rc = 0;
    for (size_t i = 0; i < sizeof decode_cfg / sizeof decode_cfg[0]; i++) {
        if (pick && *pick) {
            char key[16];
            snprintf(key, sizeof key, "%zu", i);
            bool found = false;
            for (const char *p = pick; *p;) {
                size_t len = strcspn(p, ",");
                if (len == strlen(key) && !strncmp(p, key, len)) found = true;
                p += len + (p[len] == ',');
            }
            if (!found) continue;
        }
        set_decode_env(decode_cfg[i].env);
        int32_t len = decode_cfg[i].prompt > 0 && decode_cfg[i].prompt < n ? decode_cfg[i].prompt : prompt;
        rc |= decode_run(c, tok, len, 256, decode_cfg[i].label);
    }
    rc |= decode_custom(c, tok, prompt);
    set_decode_env("");
    return rc;
}

/* All rows generate new tokens greedily in batches of `batch` rows. */
static int e2e_run(ctx *c, const int32_t *tok, int rows, int32_t len, int32_t seg_len, int batch, int new_tok,
                   int32_t *out_tok) {
    mj_value *annot = malloc((size_t)rows * (size_t)len * sizeof *annot);
    mj_row_spec *spec = malloc((size_t)rows * sizeof *spec);
    make_rows(c, rows, len, seg_len, tok, spec, annot);
    float *logits = malloc((size_t)batch * (size_t)c->V * 4);
    int32_t *next = malloc((size_t)batch * 4);
    int rc = 0;
    double t0 = now_s();
    for (int r0 = 0; rc == 0 && r0 < rows; r0 += batch) {
        int nb = rows - r0 < batch ? rows - r0 : batch;
        char err[512];
        mj_seqs *s = mj_seqs_init(c->e, c->p, &c->f, nb, spec + r0, new_tok, err, sizeof err);
        if (!s) { fprintf(stderr, "e2e: %s\n", err); rc = -1; break; }
        rc = mj_seqs_prefill(s, logits);
        for (int k = 0; rc == 0 && k < new_tok; k++) {
            for (int r = 0; r < nb; r++) {
                next[r] = argmax(logits + (size_t)r * c->V, c->V);
                out_tok[(int64_t)(r0 + r) * new_tok + k] = next[r];
            }
            if (k + 1 < new_tok) rc = mj_seqs_append(s, next, logits);
        }
        if (rc != 0) fprintf(stderr, "e2e: %s\n", mj_seqs_error(s));
        mj_seqs_free(s);
    }
    double dt = now_s() - t0;
    if (rc == 0)
        printf("{\"what\": \"e2e\", \"rows\": %d, \"len\": %d, \"batch\": %d, \"new_tokens\": %d, \"seconds\": %.4f, "
               "\"s_per_question\": %.5f}\n", rows, len, batch, new_tok, dt, dt / rows);
    fflush(stdout);
    free(annot); free(spec); free(logits); free(next);
    return rc;
}

static int do_e2e(ctx *c, const int32_t *buf, int64_t nbuf) {
    if (nbuf < 3) return -1;
    int rows = buf[0];
    int32_t len = buf[1], seg_len = buf[2];
    if ((int64_t)rows * len + 3 > nbuf) return -1;
    const int new_tok = 10;
    int32_t *toks = malloc((size_t)rows * new_tok * 4), *toks16 = malloc((size_t)rows * new_tok * 4);
    int rc = e2e_run(c, buf + 3, rows, len, seg_len, rows, new_tok, toks);   /* warm-up + all rows */
    rc |= e2e_run(c, buf + 3, rows, len, seg_len, rows, new_tok, toks);
    rc |= e2e_run(c, buf + 3, rows, len, seg_len, 16, new_tok, toks16);
    char path[1024];
    snprintf(path, sizeof path, "%s/e2e_tokens.txt", c->out);
    FILE *f = fopen(path, "w");
    for (int r = 0; f && rc == 0 && r < rows; r++)
        for (int k = 0; k < new_tok; k++) fprintf(f, "%d%c", toks[r * new_tok + k], k + 1 == new_tok ? '\n' : ' ');
    if (f) fclose(f);
    int same = 0;
    for (int i = 0; i < rows * new_tok; i++) same += toks[i] == toks16[i];
    printf("{\"what\": \"e2e_batch_consistency\", \"same_tokens\": %d, \"of\": %d}\n", same, rows * new_tok);
    free(toks);
    free(toks16);
    return rc;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: gpu_forward MODEL_DIR DATA_DIR OUT_DIR [parity] [decode] [e2e]\n");
        return 2;
    }
    bool want[3] = {argc == 4, argc == 4, argc == 4};
    for (int i = 4; i < argc; i++) {
        if (!strcmp(argv[i], "parity")) want[0] = true;
        else if (!strcmp(argv[i], "decode")) want[1] = true;
        else if (!strcmp(argv[i], "e2e")) want[2] = true;
    }
    ctx c = {0};
    c.out = argv[3];
    char err[1024];
    mj_model m;
    double t0 = now_s();
    if (mj_model_load(&m, argv[1], err, sizeof err) != 0) { fprintf(stderr, "load: %s\n", err); return 1; }
    double t_load = now_s() - t0;
    t0 = now_s();
    c.e = mj_engine_init(&m, MJ_DEVICE_CUDA, 0, err, sizeof err);
    if (!c.e) { fprintf(stderr, "engine: %s\n", err); return 1; }
    printf("{\"what\": \"load\", \"model\": \"%s\", \"host_load_s\": %.2f, \"gpu_upload_s\": %.2f}\n", argv[1], t_load,
           now_s() - t0);
    mj_diags d;
    mj_diags_init(&d);
    c.p = mj_compile_file("examples/fusion_seed.mask", NULL, &d);
    if (!c.p) { mj_diags_print(&d, stderr); return 1; }
    mj_diags_free(&d);
    c.f = mj_interp_fns(c.p);
    c.a_seg = mj_program_find_tokens(c.p, "seg");
    c.V = m.cfg.vocab;
    char path[1024];
    int64_t n = 0;
    int rc = 0;
    snprintf(path, sizeof path, "%s/parity.bin", argv[2]);
    int32_t *par = read_ints(path, &n);
    if (!par || n < 2 || par[0] != n - 1) { fprintf(stderr, "bad %s\n", path); return 1; }
    if (want[0]) rc |= do_parity(&c, par + 1, par[0]);
    if (want[1]) rc |= do_decode(&c, par + 1, par[0]);
    if (want[2]) {
        snprintf(path, sizeof path, "%s/e2e.bin", argv[2]);
        int32_t *e2e = read_ints(path, &n);
        rc |= e2e ? do_e2e(&c, e2e, n) : -1;
        free(e2e);
    }
    free(par);
    mj_program_free(c.p);
    mj_engine_free(c.e);
    mj_model_free(&m);
    return rc ? 1 : 0;
}
