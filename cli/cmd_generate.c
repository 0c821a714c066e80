/* cmd_generate.c — `maskjit generate`: load a model (HF directory or GGUF)
 * and its tokenizer, compile a .mask (default: causal), lay the prompt out
 * (segments and annotations, from --split or the layout options of
 * layout.h), generate with the engine and print the text.
 *
 * --split SEP cuts the prompt text into PREFIX SEP SEG_0 SEP ... SEP SEG_k SEP
 * SUFFIX; every piece is tokenized on its own (BOS before the prefix), and
 * the token counts give `seg` / `seg_start` and the params prefix_len,
 * max_seg_len, n_seg, exactly as --prefix/--segments would. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "compile.h"
#include "engine.h"
#include "interp.h"
#include "jit.h"
#include "layout.h"
#include "model.h"
#include "tokenizer.h"

#define GEN_MAX_STOPS 16

static const char CAUSAL_SRC[] = "mask = kv <= q\n";

typedef struct gen_opts {
    const char *model, *tokenizer, *mask, *prompt, *prompt_file, *split, *device, *backend;
    const char *stops[GEN_MAX_STOPS];
    int n_stops;
    int32_t max_new;
    mj_sampling sp;
    int bos;                  /* -1: default (tokenizer's), 0, 1 */
    bool ignore_eos, verbose;
    int threads;
    mj_layout_opts lo;
} gen_opts;

static void generate_usage(FILE *out) {
    fputs("usage: maskjit generate --model PATH (--prompt TEXT | --prompt-file F) [options]\n"
          "\n"
          "Generates text from a prompt with a compiled attention mask and prints it.\n"
          "\n"
          "model and mask:\n"
          "  --model PATH            HF model directory (config.json + safetensors) or .gguf file\n"
          "  --tokenizer PATH        tokenizer.json, a directory holding one, or a .gguf\n"
          "                          (default: the model's)\n"
          "  --mask FILE.mask        the attention mask (default: causal, `mask = kv <= q`)\n"
          "  --mask-backend jit|interp  mask functions from the LLVM JIT (default) or the\n"
          "                          interpreter\n"
          "  --device cpu|cuda|auto  where to run (default auto: CUDA when built, else CPU)\n"
          "  --threads N             CPU threads (default: all cores)\n"
          "\n"
          "prompt:\n"
          "  --prompt TEXT           the prompt (escapes \\n \\t \\r \\\\ are NOT interpreted here)\n"
          "  --prompt-file F         read the prompt from F (taken verbatim, final newline included)\n"
          "  --split SEP             cut the prompt into PREFIX SEP SEG_0 SEP ... SEG_k SEP SUFFIX\n"
          "                          (at least two separators; SEP takes escapes \\n \\t): each piece\n"
          "                          is tokenized alone; SEG_i's tokens get seg = i and seg_start =\n"
          "                          its first index; prefix (with BOS) and suffix keep the\n"
          "                          defaults; params prefix_len, max_seg_len, n_seg are set when\n"
          "                          declared and not given with --set\n"
          "  --bos | --no-bos        add the tokenizer's BOS (default: as HF does for this tokenizer)\n"
          "\n"
          "layout (token-level, over the tokenized prompt, BOS included; see `maskjit show`):\n"
          "  --prefix P --segments L1,L2,...   segments by token counts (instead of --split)\n"
          "  --annot NAME=v0,v1,...  a tokens annotation, one value per prompt token\n"
          "  --set NAME=VALUE        a param of the mask (NAME[i]=V for an array element)\n"
          "  --heads NAME=v0,v1,...  a heads array, one value per attention head\n"
          "  --prompt-len P          tokens counted as prompt by the mask (default: all)\n"
          "\n"
          "generation:\n"
          "  --max-new-tokens N      at most N new tokens (default 64)\n"
          "  --temperature T         0 (default): greedy; > 0: sampling\n"
          "  --top-k K --top-p P     sampling filters as in HF transformers (off by default)\n"
          "  --seed S                sampling seed (default 0)\n"
          "  --stop STR              stop when the generated text contains STR (escapes \\n \\t\n"
          "                          \\r \\\\; repeatable); the text is cut before it\n"
          "  --ignore-eos            do not stop at the model's end-of-sequence tokens\n"
          "  --verbose               token counts, stop reason and speed on standard error\n"
          "  -h, --help              this help\n"
          "\n"
          "example (seed paraphrase fusion):\n"
          "  maskjit generate --model models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf \\\n"
          "    --mask examples/fusion_seed.mask --split '|' --stop '\\n' --prompt \\\n"
          "    \"$(printf 'Answer briefly.\\n|Q: capital of France?\\n|Q: the French capital?\\n|A:')\"\n",
          out);
}

/* Copy s with the escapes \n \t \r \\ interpreted (any other backslash
 * stays as written); malloc'd. */
static char *unescape(const char *s) {
    size_t n = strlen(s);
    char *o = malloc(n + 1), *p = o;
    if (!o) return NULL;
    for (size_t i = 0; i < n; i++) {
        char c = i + 1 < n && s[i] == '\\' ? s[i + 1] : 0;
        char r = c == 'n' ? '\n' : c == 't' ? '\t' : c == 'r' ? '\r' : c == '\\' ? '\\' : 0;
        if (r) { *p++ = r; i++; }
        else *p++ = s[i];
    }
    *p = 0;
    return o;
}

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    char *b = malloc(cap);
    for (size_t k; b && (k = fread(b + n, 1, cap - n - 1, f)) > 0;) {
        n += k;
        if (cap - n - 1 == 0) {
            char *nb = realloc(b, cap * 2);
            if (!nb) { free(b); b = NULL; break; }
            b = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (b) b[n] = 0;
    return b;
}

static bool parse_num(const char *s, double lo, double hi, double *out) {
    char *end;
    double v = strtod(s, &end);
    if (!*s || *end || !(v >= lo && v <= hi)) return false;
    *out = v;
    return true;
}

/* Options into o.  0 ok, 1 help printed, 2 usage error. */
static int generate_parse(int argc, char **argv, gen_opts *o) {
    enum { O_MODEL = 1, O_TOK, O_MASK, O_BACKEND, O_DEVICE, O_THREADS, O_PROMPT, O_PFILE, O_SPLIT,
           O_BOS, O_NOBOS, O_MAXNEW, O_TEMP, O_TOPK, O_TOPP, O_SEED, O_STOP, O_NOEOS, O_VERB };
    static const struct option opts[] = {
        {"model", 1, 0, O_MODEL}, {"tokenizer", 1, 0, O_TOK}, {"mask", 1, 0, O_MASK},
        {"mask-backend", 1, 0, O_BACKEND}, {"device", 1, 0, O_DEVICE}, {"threads", 1, 0, O_THREADS},
        {"prompt", 1, 0, O_PROMPT}, {"prompt-file", 1, 0, O_PFILE}, {"split", 1, 0, O_SPLIT},
        {"bos", 0, 0, O_BOS}, {"no-bos", 0, 0, O_NOBOS}, {"max-new-tokens", 1, 0, O_MAXNEW},
        {"temperature", 1, 0, O_TEMP}, {"top-k", 1, 0, O_TOPK}, {"top-p", 1, 0, O_TOPP},
        {"seed", 1, 0, O_SEED}, {"stop", 1, 0, O_STOP}, {"ignore-eos", 0, 0, O_NOEOS},
        {"verbose", 0, 0, O_VERB}, {"help", 0, 0, 'h'},
        {"prefix", 1, 0, MJ_LO_PREFIX}, {"segments", 1, 0, MJ_LO_SEGMENTS},
        {"annot", 1, 0, MJ_LO_ANNOT}, {"set", 1, 0, MJ_LO_SET}, {"heads", 1, 0, MJ_LO_HEADS},
        {"prompt-len", 1, 0, MJ_LO_PROMPT_LEN}, {0, 0, 0, 0}};
    memset(o, 0, sizeof *o);
    o->max_new = 64;
    o->bos = -1;
    o->device = "auto";
    o->backend = "jit";
    mj_layout_opts_init(&o->lo);
    optind = 1;
    int c, li = -1;
    double v = 0;
    char err[256];
    while ((c = getopt_long(argc, argv, "h", opts, &li)) != -1) {
        bool ok = true;
        switch (c) {
        case O_MODEL: o->model = optarg; break;
        case O_TOK: o->tokenizer = optarg; break;
        case O_MASK: o->mask = optarg; break;
        case O_BACKEND: o->backend = optarg; ok = !strcmp(optarg, "jit") || !strcmp(optarg, "interp"); break;
        case O_DEVICE: o->device = optarg; ok = mj_device_parse(optarg) >= 0; break;
        case O_THREADS: ok = parse_num(optarg, 1, 1024, &v); o->threads = (int)v; break;
        case O_PROMPT: o->prompt = optarg; break;
        case O_PFILE: o->prompt_file = optarg; break;
        case O_SPLIT: o->split = optarg; ok = optarg[0] != 0; break;
        case O_BOS: o->bos = 1; break;
        case O_NOBOS: o->bos = 0; break;
        case O_MAXNEW: ok = parse_num(optarg, 0, 1 << 20, &v); o->max_new = (int32_t)v; break;
        case O_TEMP: ok = parse_num(optarg, 0, 1e6, &v); o->sp.temperature = (float)v; break;
        case O_TOPK: ok = parse_num(optarg, 0, 1 << 30, &v); o->sp.top_k = (int32_t)v; break;
        case O_TOPP: ok = parse_num(optarg, 0, 1, &v); o->sp.top_p = (float)v; break;
        case O_SEED: ok = parse_num(optarg, 0, 1.8e19, &v); o->sp.seed = (uint64_t)v; break;
        case O_STOP:
            ok = o->n_stops < GEN_MAX_STOPS && optarg[0];
            if (ok) o->stops[o->n_stops++] = optarg;
            break;
        case O_NOEOS: o->ignore_eos = true; break;
        case O_VERB: o->verbose = true; break;
        case 'h': generate_usage(stdout); return 1;
        default: {
            int r = mj_layout_option(&o->lo, c, optarg, err, sizeof err);
            if (r < 0) { fprintf(stderr, "maskjit generate: %s\n", err); return 2; }
            if (r == 0) { generate_usage(stderr); return 2; }
        }
        }
        if (!ok) {
            fprintf(stderr, "maskjit generate: bad value '%s' for --%s\n", optarg ? optarg : "",
                    li >= 0 ? opts[li].name : "?");
            return 2;
        }
    }
    if (optind < argc) { fprintf(stderr, "maskjit generate: unexpected argument '%s'\n", argv[optind]); return 2; }
    if (!o->model) { fputs("maskjit generate: --model PATH is required\n", stderr); return 2; }
    if (!o->prompt == !o->prompt_file) {
        fputs("maskjit generate: give exactly one of --prompt TEXT and --prompt-file F\n", stderr);
        return 2;
    }
    if (o->split && (o->lo.segments || o->lo.prefix)) {
        fputs("maskjit generate: --split computes the segments; do not combine it with "
              "--segments/--prefix\n", stderr);
        return 2;
    }
    return 0;
}

/* Append ids[0..n) to the growing token list. */
static int push_ids(int32_t **all, size_t *n_all, const int32_t *ids, size_t n) {
    int32_t *p = realloc(*all, (*n_all + n + 1) * sizeof *p);
    if (!p) return -1;
    memcpy(p + *n_all, ids, n * sizeof *ids);
    *all = p;
    *n_all += n;
    return 0;
}

/* Tokenize text (split on sep when given) into *toks; with sep, the
 * segment lengths go to segs ("L1,L2,...", malloc'd) and the prefix length
 * to *prefix.  0, or 2 (message printed). */
static int prompt_tokens(const mj_tokenizer *tok, const char *text, const char *sep, bool bos,
                         int32_t **toks, size_t *n, char **segs, int64_t *prefix) {
    *toks = NULL;
    *n = 0;
    *segs = NULL;
    size_t seplen = sep ? strlen(sep) : 0;
    const char *pieces[4096];
    size_t lens[4096];
    int np = 0;
    for (const char *p = text;; ) {
        const char *q = sep ? strstr(p, sep) : NULL;
        if (np == 4096) { fputs("maskjit generate: too many --split pieces\n", stderr); return 2; }
        pieces[np] = p;
        lens[np++] = q ? (size_t)(q - p) : strlen(p);
        if (!q) break;
        p = q + seplen;
    }
    if (sep && np < 3) {
        fprintf(stderr, "maskjit generate: --split: the prompt needs at least two separators "
                        "(PREFIX SEP SEGMENT SEP SUFFIX); found %d\n", np - 1);
        return 2;
    }
    size_t cap = 16 * (size_t)np + 16, used = 0;
    if (sep && !(*segs = calloc(cap, 1))) return 2;
    for (int i = 0; i < np; i++) {
        int32_t *ids;
        size_t k;
        if (mj_tokenizer_encode(tok, pieces[i], lens[i], bos && i == 0, &ids, &k) != 0 ||
            push_ids(toks, n, ids, k) != 0) {
            fputs("maskjit generate: out of memory\n", stderr);
            return 2;
        }
        free(ids);
        if (!sep) continue;
        if (i == 0) *prefix = (int64_t)k;
        else if (i < np - 1) {
            if (k == 0) {
                fprintf(stderr, "maskjit generate: --split: segment %d is empty\n", i - 1);
                return 2;
            }
            used += (size_t)snprintf(*segs + used, cap - used, "%s%zu", i > 1 ? "," : "", k);
        }
    }
    if (*n == 0) { fputs("maskjit generate: the prompt has no tokens\n", stderr); return 2; }
    return 0;
}

/* Compile the mask (or the built-in causal one); diagnostics to stderr. */
static mj_program *generate_program(const char *path) {
    mj_diags d;
    mj_diags_init(&d);
    mj_program *p = path ? mj_compile_file(path, NULL, &d)
                         : mj_compile_string("<causal>", CAUSAL_SRC, strlen(CAUSAL_SRC), NULL, &d);
    mj_diags_print(&d, stderr);
    mj_diags_free(&d);
    return p;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Everything after option parsing; returns the exit status. */
static int generate_run(gen_opts *o) {
    char err[1024] = "";
    int rc = 1;
    mj_model m;
    memset(&m, 0, sizeof m);
    mj_tokenizer *tok = NULL;
    mj_program *p = NULL;
    mj_jit *jit = NULL;
    mj_engine *e = NULL;
    mj_layout L;
    memset(&L, 0, sizeof L);
    char *text = NULL, *sep = NULL, *segs = NULL, *stops[GEN_MAX_STOPS] = {0};
    int32_t *toks = NULL;
    size_t n = 0;
    bool model_ok = false;
    double t0 = now_s();

    if (!(p = generate_program(o->mask))) goto out;
    text = o->prompt ? strdup(o->prompt) : read_file(o->prompt_file);
    if (!text) { fprintf(stderr, "maskjit generate: cannot read %s\n", o->prompt_file); goto out; }
    if (!(tok = mj_tokenizer_load(o->tokenizer ? o->tokenizer : o->model, err, sizeof err))) {
        fprintf(stderr, "maskjit generate: tokenizer: %s\n", err);
        goto out;
    }
    if (mj_model_load(&m, o->model, err, sizeof err) != 0) {
        fprintf(stderr, "maskjit generate: %s\n", err);
        goto out;
    }
    model_ok = true;
    double t_load = now_s() - t0;
    if (o->split && !(sep = unescape(o->split))) goto out;
    bool bos = o->bos < 0 ? mj_tokenizer_adds_bos(tok) : o->bos == 1;
    if ((rc = prompt_tokens(tok, text, sep, bos, &toks, &n, &segs, &o->lo.prefix)) != 0) goto out;
    rc = 2;
    if (segs) o->lo.segments = segs;
    o->lo.seq_len = (int64_t)n;
    if (o->lo.prompt_len < 0) o->lo.prompt_len = (int64_t)n;
    o->lo.n_heads = m.cfg.n_heads;
    if (mj_layout_build(p, &o->lo, &L, err, sizeof err) != 0) {
        fprintf(stderr, "maskjit generate: %s\n", err);
        goto out;
    }
    rc = 1;
    mj_mask_fns fns = mj_interp_fns(p);
    if (!strcmp(o->backend, "jit")) {
        mj_diags d;
        mj_diags_init(&d);
        jit = mj_jit_init(p, &d);
        if (!jit) {
            mj_diags_print(&d, stderr);
            fputs("maskjit generate: the LLVM JIT failed; try --mask-backend interp\n", stderr);
            mj_diags_free(&d);
            goto out;
        }
        mj_diags_free(&d);
        fns = mj_jit_fns(jit);
    }
    if (!(e = mj_engine_init(&m, (mj_device)mj_device_parse(o->device), o->threads, err, sizeof err))) {
        fprintf(stderr, "maskjit generate: %s\n", err);
        goto out;
    }
    for (int i = 0; i < o->n_stops; i++)
        if (!(stops[i] = unescape(o->stops[i]))) goto out;
    mj_row_spec spec = {toks, (int32_t)n, L.tokens, L.params, L.heads, L.env.prompt_len};
    mj_stop st = {o->max_new, !o->ignore_eos, (const char *const *)stops, o->n_stops};
    mj_gen_result res;
    double t1 = now_s();
    if (mj_generate(e, tok, p, &fns, 1, &spec, &o->sp, &st, &res, err, sizeof err) != 0) {
        fprintf(stderr, "maskjit generate: %s\n", err);
        goto out;
    }
    double t2 = now_s();
    fputs(res.text, stdout);
    fputc('\n', stdout);
    if (o->verbose) {
        static const char *why[] = {"none", "eos", "stop string", "max tokens"};
        fprintf(stderr, "prompt %zu tokens, generated %d tokens (stop: %s); load %.2f s, "
                "generate %.2f s (%.1f tokens/s)\n", n, res.n_tokens,
                why[res.stop_reason & 3], t_load, t2 - t1, res.n_tokens / (t2 - t1 + 1e-12));
    }
    mj_gen_result_free(&res);
    rc = 0;
out:
    for (int i = 0; i < GEN_MAX_STOPS; i++) free(stops[i]);
    mj_engine_free(e);
    mj_jit_free(jit);
    mj_layout_free(&L);
    if (model_ok) mj_model_free(&m);
    mj_tokenizer_free(tok);
    mj_program_free(p);
    free(toks);
    free(segs);
    free(sep);
    free(text);
    return rc;
}

int cmd_generate(int argc, char **argv) {
    gen_opts o;
    int r = generate_parse(argc, argv, &o);
    if (r) return r == 1 ? 0 : 2;
    return generate_run(&o);
}
