/* cmd_explain.c — `maskjit explain`: what a mask does on one layout — visible
 * pairs against dense causal attention, the share of EMPTY / FULL / PARTIAL
 * blocks, query rows that see no key, and what the program needs (tokens
 * annotations, params, heads arrays, builtins, score / position programs). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "mask_session.h"

static void explain_usage(FILE *out) {
    fputs("usage: maskjit explain FILE [layout options] [--block B] [--backend interp|cpu]\n"
          "Sparsity and needs of the mask in FILE on one layout: visible (query, key) pairs\n"
          "against dense causal attention, EMPTY/FULL/PARTIAL blocks (--block, default 16),\n"
          "query rows with no visible key, and the annotations and params it uses.\n",
          out);
    mj_layout_print_help(out);
}

static const char *tname(mj_type t) { return t == MJ_T_BOOL ? "bool" : t == MJ_T_INT ? "int" : "float"; }

static void print_value(FILE *out, mj_type t, mj_value v) {
    if (t == MJ_T_BOOL) fputs(v.i ? "true" : "false", out);
    else if (t == MJ_T_INT) fprintf(out, "%d", v.i);
    else fprintf(out, "%.9g", v.f);
}

/* Visible keys of every query row from the block map: FULL blocks count whole,
 * PARTIAL ones element by element.  Returns the n counts (malloc'd) or NULL. */
static int64_t *row_counts(const mj_mask_session *s, const uint8_t *map, int32_t nb, int32_t block) {
    int64_t n = s->L.env.seq_len;
    int64_t *rows = calloc((size_t)(n > 0 ? n : 1), sizeof *rows);
    if (!rows) return NULL;
    for (int64_t qb = 0; qb < nb; qb++)
        for (int64_t kb = 0; kb < nb; kb++) {
            int cls = map[qb * nb + kb];
            int64_t q1 = (qb + 1) * block < n ? (qb + 1) * block : n;
            int64_t k0 = kb * block, k1 = (kb + 1) * block < n ? (kb + 1) * block : n;
            for (int64_t q = qb * block; q < q1 && cls != MJ_BLOCK_EMPTY; q++) {
                if (cls == MJ_BLOCK_FULL) { rows[q] += k1 - k0; continue; }
                for (int64_t kv = k0; kv < k1; kv++)
                    rows[q] += s->fns.mask(s->fns.ctx, &s->L.env, (int32_t)q, (int32_t)kv, s->L.head) ? 1 : 0;
            }
        }
    return rows;
}

/* Visible pairs, blocks by class, rows without a visible key. */
static int explain_counts(FILE *out, const mj_mask_session *s, int32_t block) {
    int64_t n = s->L.env.seq_len, visible = 0, causal = n * (n + 1) / 2, empty_rows = 0;
    int64_t cnt[3] = {0, 0, 0}, tot, first[8];
    int32_t nb = 0;
    uint8_t *m = mj_mask_session_blocks(s, block, s->L.head, &nb);
    int64_t *rows = m ? row_counts(s, m, nb, block) : NULL;
    if (!rows) { free(m); fprintf(stderr, "maskjit explain: out of memory\n"); return 1; }
    for (int64_t q = 0; q < n; q++) {
        visible += rows[q];
        if (!rows[q] && empty_rows < 8) first[empty_rows] = q;
        if (!rows[q]) empty_rows++;
    }
    fprintf(out, "visible pairs: %lld of %lld dense causal pairs (%.2f%%); %.2f%% of all %lld pairs\n",
            (long long)visible, (long long)causal, causal ? 100.0 * (double)visible / (double)causal : 0.0,
            n ? 100.0 * (double)visible / ((double)n * (double)n) : 0.0, (long long)(n * n));
    tot = (int64_t)nb * nb;
    for (int64_t i = 0; i < tot; i++) cnt[m[i] % 3]++;
    fprintf(out, "blocks of %d x %d: %lld; EMPTY %.1f%%, FULL %.1f%%, PARTIAL %.1f%%\n", block, block,
            (long long)tot, 100.0 * (double)cnt[MJ_BLOCK_EMPTY] / (double)tot,
            100.0 * (double)cnt[MJ_BLOCK_FULL] / (double)tot, 100.0 * (double)cnt[MJ_BLOCK_PARTIAL] / (double)tot);
    fprintf(out, "rows with no visible key: %lld", (long long)empty_rows);
    for (int64_t i = 0; i < empty_rows && i < 8; i++) fprintf(out, "%s%lld", i ? ", " : " (q = ", (long long)first[i]);
    fputs(empty_rows > 8 ? ", ...)" : empty_rows ? ")" : "", out);
    fputs(empty_rows ? "  -- such rows output zeros\n" : "\n", out);
    free(rows);
    free(m);
    return 0;
}

static void explain_needs(FILE *out, const mj_mask_session *s) {
    static const char *bnames[MJ_B_COUNT] = {"q", "kv", "h", "b", "n_heads", "prompt_len", "seq_len", "score"};
    const mj_program *p = s->p;
    int any = 0;
    fputs("needs:\n", out);
    for (int32_t a = 0; a < p->n_tokens; a++) {
        if (!p->tokens[a].used) continue;
        fprintf(out, "  tokens %s: %s = ", p->tokens[a].name, tname(p->tokens[a].type));
        print_value(out, p->tokens[a].type, p->tokens[a].def);
        fputc('\n', out);
        any = 1;
    }
    for (int32_t k = 0; k < p->n_params; k++) {
        const mj_param *pa = &p->params[k];
        if (!pa->used) continue;
        fprintf(out, "  param %s: %s", pa->name, tname(pa->type));
        if (pa->is_array) fprintf(out, "[%d]", pa->count);
        fputs(" = ", out);
        print_value(out, pa->type, pa->def);
        if (!pa->is_array) {
            fputs("  (here: ", out);
            print_value(out, pa->type, s->L.params[pa->offset]);
            fputc(')', out);
        }
        fputc('\n', out);
        any = 1;
    }
    for (int32_t k = 0; k < p->n_heads; k++)
        if (p->heads[k].used) { fprintf(out, "  heads %s: float[n_heads]\n", p->heads[k].name); any = 1; }
    if (!any) fputs("  no annotations, params or heads\n", out);
    fputs("  builtins:", out);
    for (int b = 0; b < MJ_B_COUNT; b++)
        if (p->uses_builtin[b]) fprintf(out, " %s", bnames[b]);
    fprintf(out, "\nscore program: %s\nposition program: %s\n", p->score ? "yes" : "no (raw score)",
            p->position ? "yes" : "no (position = q)");
}

int cmd_explain(int argc, char **argv) {
    enum { O_BLOCK = 1, O_BACKEND };
    static const struct option opts[] = {
        MJ_LAYOUT_LONG_OPTIONS, {"block", required_argument, NULL, O_BLOCK},
        {"backend", required_argument, NULL, O_BACKEND}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    mj_layout_opts lo;
    mj_mask_session s;
    const char *backend = "interp";
    char err[512], *end;
    long long block = 16;
    int c, rc;
    mj_layout_opts_init(&lo);
    optind = 0;
    argv[0] = (char *)"maskjit explain";   /* getopt's messages name the command */
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int r = mj_layout_option(&lo, c, optarg, err, sizeof err);
        if (r < 0) { fprintf(stderr, "maskjit explain: %s\n", err); return 2; }
        if (r > 0) continue;
        if (c == 'h') { explain_usage(stdout); return 0; }
        if (c == O_BACKEND) { backend = optarg; continue; }
        if (c == O_BLOCK) {
            block = strtoll(optarg, &end, 10);
            if (*end || end == optarg || block < 1 || block > (1 << 20)) {
                fprintf(stderr, "maskjit explain: --block: bad value '%s' (expected 1..1048576)\n", optarg);
                return 2;
            }
            continue;
        }
        fputs("see: maskjit explain --help\n", stderr);
        return 2;
    }
    if (optind != argc - 1) {
        fprintf(stderr, "maskjit explain: expected exactly one FILE (see maskjit explain --help)\n");
        return 2;
    }
    rc = mj_mask_session_open(&s, "explain", argv[optind], &lo, backend);
    if (rc) return rc;
    printf("%s: seq_len %d, prompt_len %d, head %d of %d\n", argv[optind], s.L.env.seq_len,
           s.L.env.prompt_len, s.L.head, s.L.env.n_heads);
    rc = explain_counts(stdout, &s, (int32_t)block);
    explain_needs(stdout, &s);
    mj_mask_session_close(&s);
    return rc;
}
