/* cmd_run.c — `maskjit run`: answer every question of a dataset with one
 * method (a baseline, a logit ensemble or a fusion mask) and append the
 * answers to a JSONL file (resumable), optionally exported to Feather.  The
 * work is done by the fusion layer (fusion/run.h). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "compile.h"
#include "flayout.h"
#include "interp.h"
#include "jit.h"
#include "progress.h"
#include "run.h"
#include "session.h"

static void usage(FILE *out) {
    fputs("usage: maskjit run --model PATH --data FILE --method METHOD -o OUT.jsonl [options]\n\n"
          "Answers each question of FILE (greedy, at most 10 new tokens, the first line of the\n"
          "generation is the prediction) and appends one JSON line per question to OUT.jsonl.\n\n"
          "methods:\n"
          "  single                 one paraphrase (--indices I, default 0)\n"
          "  ensemble-avg           mean of the paraphrases' raw next-token logits\n"
          "  ensemble-max           element-wise max of their softmax probabilities\n"
          "  weighted-avg           logits weighted by each paraphrase's confidence (its largest\n"
          "                         first-step probability, normalised, frozen)\n"
          "  weighted-max           logits of the most confident paraphrase\n"
          "  mask:FILE.mask         all paraphrases in one row, attention ruled by the mask\n\n"
          "options:\n"
          "  --model PATH           HF model directory or .gguf file (required)\n"
          "  --tokenizer PATH       tokenizer.json / directory / .gguf (default: the model's)\n"
          "  --data FILE            questions: WebQuestions .json, paraphrase / MyriadLAMA /\n"
          "                         generic JSONL (required; see docs/fusion.md)\n"
          "  --data-format F        auto (default), webquestions, paraphrases, myriadlama, generic\n"
          "  --skip-bad             skip bad records (counted) instead of stopping at the first\n"
          "  --layout L             study (default), shared-prefix, fewshot-isolated (mask methods)\n"
          "  --cue C                fused (default: the final \"A:\" attends to every paraphrase)\n"
          "                         or segment (it belongs to the last paraphrase: ablation)\n"
          "  --paraphrases K        use the first K paraphrases (default 5; 1 for single)\n"
          "  --indices I,J,...      use these paraphrases (0-based), e.g. --indices 2\n"
          "  --batch N              questions per batch (default 8)\n"
          "  --device D             cpu, cuda or auto (default auto)\n"
          "  --threads N            CPU threads (default: all cores)\n"
          "  --limit N              only the first N questions of FILE\n"
          "  --resume               continue OUT.jsonl: skip the questions already in it\n"
          "  -o, --output OUT       the JSONL output (required)\n"
          "  --feather OUT.feather  also write every record of OUT.jsonl as Feather v2\n"
          "  --prompt P             webqa or myriadlama (default: from the dataset)\n"
          "  --fewshot-prefix FILE  a few-shot prefix file instead of the built-in one\n"
          "  --train FILE           WebQuestions train file(s) to draw the webqa shots from\n"
          "                         (repeat; default: the built-in draw, see docs/fusion.md)\n"
          "  --bos B                auto (the BOS when the tokenizer adds one, as HF does),\n"
          "                         none, a token string (\"<|im_start|>\") or an id\n"
          "  --sep TEXT             study-layout separator (default \"\\n\\n[SEP]\\n\\n\")\n"
          "  --set NAME=VALUE       a param of the mask\n"
          "  --label TEXT           method label in the outputs (default: derived)\n"
          "  --max-new-tokens N     default 10\n"
          "  --no-prefix-cache      do not reuse the few-shot prefix's KV cache\n"
          "  --interp               run the mask through the interpreter, not the LLVM JIT\n"
          "  --quiet                no progress display\n"
          "  --print-layout         print the first question's layout as `maskjit show` options\n"
          "                         (--prefix, --segments, --prompt-len, --seq-len) and exit\n", out);
}

enum { O_MODEL = 0x100, O_TOK, O_DATA, O_FMT, O_SKIP, O_METHOD, O_LAYOUT, O_CUE, O_PARA, O_IDX, O_BATCH,
       O_DEV, O_THREADS, O_LIMIT, O_RESUME, O_FEATHER, O_PROMPT, O_PREFIX, O_TRAIN, O_BOS, O_SEP,
       O_SET, O_LABEL, O_MAXNEW, O_NOPRE, O_INTERP, O_QUIET, O_PRINT, O_HELP };

typedef struct run_args {
    const char *model, *tok, *data, *method, *out, *feather, *prompt, *prefix, *bos, *sep, *label;
    const char *train[8], *sets[64];
    int n_train, n_sets;
    int fmt, layout, cue, para, batch, device, threads, max_new;
    int indices[64], n_indices;
    long long limit;
    bool skip, resume, no_prefix, interp, quiet, print_layout;
} run_args;

static int parse_int(const char *opt, const char *s, long long lo, long long hi, long long *out) {
    char *end;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || v < lo || v > hi) {
        fprintf(stderr, "maskjit run: %s: bad value '%s' (an integer in [%lld, %lld])\n", opt, s, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_indices(run_args *a, const char *s) {
    char buf[512];
    snprintf(buf, sizeof buf, "%s", s);
    a->n_indices = 0;
    for (char *save, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        long long v;
        if (a->n_indices >= 64 || parse_int("--indices", t, 0, 1000, &v)) return -1;
        a->indices[a->n_indices++] = (int)v;
    }
    return a->n_indices ? 0 : -1;
}

static int parse_args(int argc, char **argv, run_args *a) {
    static const struct option opts[] = {
        {"model", 1, 0, O_MODEL}, {"tokenizer", 1, 0, O_TOK}, {"data", 1, 0, O_DATA},
        {"data-format", 1, 0, O_FMT}, {"skip-bad", 0, 0, O_SKIP}, {"method", 1, 0, O_METHOD},
        {"layout", 1, 0, O_LAYOUT}, {"cue", 1, 0, O_CUE}, {"paraphrases", 1, 0, O_PARA},
        {"indices", 1, 0, O_IDX}, {"batch", 1, 0, O_BATCH}, {"device", 1, 0, O_DEV},
        {"threads", 1, 0, O_THREADS}, {"limit", 1, 0, O_LIMIT}, {"resume", 0, 0, O_RESUME},
        {"output", 1, 0, 'o'}, {"feather", 1, 0, O_FEATHER}, {"prompt", 1, 0, O_PROMPT},
        {"fewshot-prefix", 1, 0, O_PREFIX}, {"train", 1, 0, O_TRAIN}, {"bos", 1, 0, O_BOS},
        {"sep", 1, 0, O_SEP}, {"set", 1, 0, O_SET}, {"label", 1, 0, O_LABEL},
        {"max-new-tokens", 1, 0, O_MAXNEW}, {"no-prefix-cache", 0, 0, O_NOPRE},
        {"interp", 0, 0, O_INTERP}, {"quiet", 0, 0, O_QUIET}, {"print-layout", 0, 0, O_PRINT},
        {"help", 0, 0, O_HELP}, {0, 0, 0, 0}};
    memset(a, 0, sizeof *a);
    a->batch = 8, a->device = MJ_DEVICE_AUTO, a->max_new = 10;
    optind = 1;
    int c;
    long long v;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case O_MODEL: a->model = optarg; break;
        case O_TOK: a->tok = optarg; break;
        case O_DATA: a->data = optarg; break;
        case O_FMT: bad = (a->fmt = mj_data_format_parse(optarg)) < 0; break;
        case O_SKIP: a->skip = true; break;
        case O_METHOD: a->method = optarg; break;
        case O_LAYOUT: bad = (a->layout = mj_flayout_kind_parse(optarg)) < 0; break;
        case O_CUE: a->cue = !strcmp(optarg, "segment") ? MJ_CUE_LAST_SEGMENT : !strcmp(optarg, "fused") ? MJ_CUE_FUSED : -1; bad = a->cue < 0; break;
        case O_PARA: bad = parse_int("--paraphrases", optarg, 1, 64, &v); a->para = (int)v; break;
        case O_IDX: bad = parse_indices(a, optarg); break;
        case O_BATCH: bad = parse_int("--batch", optarg, 1, 4096, &v); a->batch = (int)v; break;
        case O_DEV: bad = (a->device = mj_device_parse(optarg)) < 0; break;
        case O_THREADS: bad = parse_int("--threads", optarg, 0, 1024, &v); a->threads = (int)v; break;
        case O_LIMIT: bad = parse_int("--limit", optarg, 1, 1LL << 40, &a->limit); break;
        case O_RESUME: a->resume = true; break;
        case 'o': a->out = optarg; break;
        case O_FEATHER: a->feather = optarg; break;
        case O_PROMPT: a->prompt = optarg; break;
        case O_PREFIX: a->prefix = optarg; break;
        case O_TRAIN: bad = a->n_train >= 8; if (!bad) a->train[a->n_train++] = optarg; break;
        case O_BOS: a->bos = optarg; break;
        case O_SEP: a->sep = optarg; break;
        case O_SET: bad = a->n_sets >= 64; if (!bad) a->sets[a->n_sets++] = optarg; break;
        case O_LABEL: a->label = optarg; break;
        case O_MAXNEW: bad = parse_int("--max-new-tokens", optarg, 1, 4096, &v); a->max_new = (int)v; break;
        case O_NOPRE: a->no_prefix = true; break;
        case O_INTERP: a->interp = true; break;
        case O_QUIET: a->quiet = true; break;
        case O_PRINT: a->print_layout = true; break;
        case O_HELP: case 'h': usage(stdout); return 1;
        default: usage(stderr); return 2;
        }
        if (bad) { fprintf(stderr, "maskjit run: bad value for --%s: '%s'\n", argv[optind - 1] + 2, optarg ? optarg : ""); return 2; }
    }
    if (optind < argc) { fprintf(stderr, "maskjit run: unexpected argument '%s'\n", argv[optind]); return 2; }
    if (a->print_layout && !a->out) a->out = "-";
    if (!a->model || !a->data || !a->method || !a->out) {
        fputs("maskjit run: --model, --data, --method and -o are required (see --help)\n", stderr);
        return 2;
    }
    if (a->para && a->n_indices) { fputs("maskjit run: give --paraphrases or --indices, not both\n", stderr); return 2; }
    return 0;
}

static void show_progress(void *ctx, const mj_run_progress *p) {
    mj_progress_update(ctx, p->done, p->total, p->done_now, p->tokens, p->seconds);
}

/* Compile the mask of a mask: method (diagnostics on stderr) and its functions. */
static int load_mask(const char *path, const run_args *a, mj_program **prog, mj_jit **jit, mj_mask_fns *fns) {
    mj_diags d;
    mj_diags_init(&d);
    *prog = mj_compile_file(path, NULL, &d);
    if (*prog && !a->interp) *jit = mj_jit_init(*prog, &d);
    if (d.n_errors || d.n_warnings) mj_diags_print(&d, stderr);
    mj_diags_free(&d);
    if (!*prog || (!a->interp && !*jit)) return -1;
    *fns = a->interp ? mj_interp_fns(*prog) : mj_jit_fns(*jit);
    char err[512];
    if (mj_flayout_check(*prog, mj_flayout_offered((mj_flayout_kind)a->layout), mj_flayout_kind_name((mj_flayout_kind)a->layout), err, sizeof err)) {
        fprintf(stderr, "maskjit run: %s\n", err);
        return -1;
    }
    return 0;
}

/* `maskjit show` options that draw the first question's layout. */
static int print_layout(const mj_session *s, const mj_dataset *d, const mj_prompt *pr, const mj_run_opts *o) {
    mj_flayout L;
    char err[512];
    if (mj_run_layout(s->tok, d, pr, o, 0, &L, err, sizeof err)) {
        fprintf(stderr, "maskjit run: %s\n", err);
        return 1;
    }
    printf("--prefix %d --segments ", L.prefix_len);
    for (int32_t i = L.prefix_len, first = 1; i < L.prompt_len;) {
        int32_t j = i;
        while (j < L.prompt_len && L.ann[MJ_ANN_SEG][j] == L.ann[MJ_ANN_SEG][i]) j++;
        printf("%s%d", first ? "" : ",", j - i);
        first = 0;
        i = j;
    }
    printf(" --prompt-len %d --seq-len %d\n", L.prompt_len, L.n + o->max_new_tokens);
    mj_flayout_free(&L);
    return 0;
}

static void print_summary(const mj_run_stats *st) {
    fprintf(stderr, "run: %s: %lld answered, %lld already done, %lld in scope", st->label,
            (long long)st->answered, (long long)st->resumed, (long long)st->in_scope);
    if (st->too_few_paraphrases) fprintf(stderr, ", %lld skipped (too few paraphrases)", (long long)st->too_few_paraphrases);
    fprintf(stderr, "; %.1f s, %.0f tok/s", st->seconds, st->seconds > 0 ? (double)st->tokens / st->seconds : 0.0);
    if (st->prefix_cache_used) fprintf(stderr, "; prefix cache of %d tokens", st->prefix_len);
    fputc('\n', stderr);
    if (st->note[0]) fprintf(stderr, "run: note: %s\n", st->note);
}

int cmd_run(int argc, char **argv) {
    run_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc) return rc == 1 ? 0 : rc;
    const char *mask_path = NULL;
    int method = mj_method_parse(a.method, &mask_path);
    if (method < 0) { fprintf(stderr, "maskjit run: unknown method '%s' (see --help)\n", a.method); return 2; }
    if (method == MJ_METHOD_SINGLE && (a.n_indices > 1 || a.para > 1)) {
        fputs("maskjit run: single uses one paraphrase (--indices I)\n", stderr);
        return 2;
    }
    mj_program *prog = NULL;
    mj_jit *jit = NULL;
    mj_mask_fns fns;
    char mask_name[128] = "";
    if (method == MJ_METHOD_MASK) {
        if (load_mask(mask_path, &a, &prog, &jit, &fns)) { mj_jit_free(jit); mj_program_free(prog); return 1; }
        const char *b = strrchr(mask_path, '/');
        snprintf(mask_name, sizeof mask_name, "%s", b ? b + 1 : mask_path);
        char *dot = strstr(mask_name, ".mask");
        if (dot) *dot = 0;
    }
    char err[1024];
    mj_dataset d;
    mj_session s;
    mj_prompt pr;
    bool have_d = false, have_s = false, have_p = false;
    rc = 1;
    if (mj_dataset_load(&d, a.data, (mj_data_format)a.fmt, a.skip, err, sizeof err)) goto fail;
    have_d = true;
    if (d.n_skipped) fprintf(stderr, "run: skipped %lld bad record(s); the first: %s\n", (long long)d.n_skipped, d.first_skip);
    if (mj_session_prompt(&pr, &d, a.prompt, a.prefix, a.train, a.n_train, err, sizeof err)) goto fail;
    have_p = true;
    if (mj_session_open(&s, a.model, a.tok, (mj_device)a.device, a.threads, err, sizeof err)) goto fail;
    have_s = true;
    int32_t bos = mj_session_bos(&s, a.bos, err, sizeof err);
    if (bos < -1) goto fail;
    if (a.print_layout) {
        mj_run_opts lo = {.layout = (mj_flayout_kind)a.layout, .cue = (mj_cue_mode)a.cue, .bos = bos, .sep = a.sep,
                          .n_para = a.para, .indices = a.n_indices ? a.indices : NULL, .n_indices = a.n_indices,
                          .method = (mj_method_kind)method, .max_new_tokens = a.max_new};
        rc = print_layout(&s, &d, &pr, &lo);
        goto done;
    }
    mj_progress prog_bar;
    mj_progress_init(&prog_bar, a.quiet ? NULL : stderr, "run");
    mj_run_opts o = {(mj_method_kind)method, prog, method == MJ_METHOD_MASK ? &fns : NULL, mask_name,
                     (mj_flayout_kind)a.layout, (mj_cue_mode)a.cue, bos, a.sep, a.para,
                     a.n_indices ? a.indices : NULL, a.n_indices, a.batch, a.max_new, a.limit, a.resume,
                     a.no_prefix, a.label, a.sets, a.n_sets, a.out, a.feather, show_progress, &prog_bar};
    mj_run_stats st;
    int r = mj_run(s.engine, s.tok, &d, &pr, &o, &st, err, sizeof err);
    mj_progress_finish(&prog_bar);
    if (!a.quiet || r) print_summary(&st);
    if (r) goto fail;
    rc = 0;
    goto done;
fail:
    fprintf(stderr, "maskjit run: %s\n", err);
done:
    if (have_s) mj_session_close(&s);
    if (have_p) mj_prompt_free(&pr);
    if (have_d) mj_dataset_free(&d);
    mj_jit_free(jit);
    mj_program_free(prog);
    return rc;
}
