/* test_runtime_parity.c — the CPU forward against HF transformers (float32)
 * on the golden fixtures of tests/fixtures/<name>/ (format: its README.md):
 * logits at every prompt position under plain causal attention, the seed
 * paraphrase-fusion mask, and the fusion mask with restarted positions, to
 * 1e-4 relative (max abs diff / max |ref|); and the 32 greedy tokens (and
 * the logits that chose them) under causal and fusion, decoded with the KV
 * cache.  Masks come from examples/ (causal, fusion_seed) when present, else
 * the same text compiled here; both the interpreter and the LLVM JIT run
 * them.  Fixtures made on a real GGUF (smollm2/: next-token logits and 12
 * greedy tokens per prompt) run when the GGUF is under models/. */
#include <dirent.h>
#include <json-c/json.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "engine.h"
#include "interp.h"
#include "jit.h"
#include "support/testlib.h"

#define TOL 1e-4

static const char *SRC_CAUSAL = "mask = kv <= q\n";
static const char *SRC_FUSION =
    "tokens seg: int = -1\n"
    "let causal     = kv <= q\n"
    "let generating = q >= prompt_len\n"
    "mask = causal && (generating || seg[q] == seg[kv])\n";
static const char *SRC_FUSION_POS =
    "tokens seg: int = -1\n"
    "tokens seg_start: int = 0\n"
    "param prefix_len: int = 0\n"
    "param max_seg_len: int = 0\n"
    "mask = kv <= q && (q >= prompt_len || seg[q] == seg[kv])\n"
    "position = q >= prompt_len ? prefix_len + max_seg_len + (q - prompt_len)\n"
    "         : seg[q] >= 0    ? prefix_len + (q - seg_start[q])\n"
    "         : q\n";

typedef struct fixture {
    char dir[2048];
    int32_t vocab, n, n_gen;
    int32_t prompt[64], seg[64], seg_start[64];
    int32_t greedy_causal[32], greedy_fusion[32];
    int32_t max_seg_len;
} fixture;

static int json_ints(json_object *o, const char *key, int32_t *out, int32_t max) {
    json_object *a;
    if (!json_object_object_get_ex(o, key, &a) || !json_object_is_type(a, json_type_array)) return -1;
    int32_t n = (int32_t)json_object_array_length(a);
    if (n > max) return -1;
    for (int32_t i = 0; i < n; i++) out[i] = json_object_get_int(json_object_array_get_idx(a, i));
    return n;
}

static int fixture_load(fixture *f, const char *dir) {
    char path[2100];
    snprintf(f->dir, sizeof f->dir, "%s", dir);
    snprintf(path, sizeof path, "%s/expected.json", dir);
    json_object *o = json_object_from_file(path);
    if (!o) return -1;
    json_object *v;
    f->vocab = json_object_object_get_ex(o, "vocab", &v) ? json_object_get_int(v) : 0;
    f->n = json_ints(o, "prompt", f->prompt, 64);
    int ok = f->n > 0 && f->vocab > 0 && json_ints(o, "seg", f->seg, 64) == f->n &&
             json_ints(o, "seg_start", f->seg_start, 64) == f->n;
    f->n_gen = json_ints(o, "greedy_causal", f->greedy_causal, 32);
    ok = ok && f->n_gen > 0 && json_ints(o, "greedy_fusion", f->greedy_fusion, 32) == f->n_gen;
    int32_t lens[64];
    int nl = json_ints(o, "seg_lens", lens, 64);
    f->max_seg_len = 0;
    for (int i = 0; i < nl; i++) if (lens[i] > f->max_seg_len) f->max_seg_len = lens[i];
    json_object_put(o);
    return ok ? 0 : -1;
}

static float *read_bin(const char *dir, const char *name, int64_t n) {
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    float *p = malloc((size_t)n * sizeof *p);
    size_t got = fread(p, sizeof *p, (size_t)n, fp);
    fclose(fp);
    if ((int64_t)got != n) { free(p); return NULL; }
    return p;
}

static double rel_diff(const float *a, const float *b, int64_t n) {
    double md = 0, mr = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (!(d <= md)) md = d;
        if (fabs(b[i]) > mr) mr = fabs(b[i]);
    }
    return md / (mr > 0 ? mr : 1);
}

static int32_t argmax(const float *x, int32_t n) {
    int32_t b = 0;
    for (int32_t i = 1; i < n; i++) if (x[i] > x[b]) b = i;
    return b;
}

/* A program from examples/FILE when present, else from src. */
static mj_program *program_get(const char *file, const char *src) {
    mj_diags d;
    mj_diags_init(&d);
    const char *path = file ? mj_test_path(file) : NULL;
    FILE *fp = path ? fopen(path, "r") : NULL;
    mj_program *p = NULL;
    if (fp) {
        fclose(fp);
        p = mj_compile_file(path, NULL, &d);
    }
    if (!p) p = mj_compile_string("parity.mask", src, strlen(src), NULL, &d);
    if (!p) mj_diags_print(&d, stderr);
    mj_diags_free(&d);
    return p;
}

/* Row spec of the first n prompt tokens with the fixture's annotations. */
static void spec_make(const fixture *f, const mj_program *p, int32_t n, mj_value *annot,
                      mj_value *params, mj_row_spec *spec) {
    int32_t aseg = mj_program_find_tokens(p, "seg"), ast = mj_program_find_tokens(p, "seg_start");
    for (int32_t a = 0; a < p->n_tokens; a++)
        for (int32_t i = 0; i < n; i++) annot[a * n + i] = p->tokens[a].def;
    for (int32_t i = 0; i < n; i++) {
        if (aseg >= 0) annot[aseg * n + i].i = f->seg[i];
        if (ast >= 0) annot[ast * n + i].i = f->seg_start[i];
    }
    mj_program_default_params(p, params);
    char err[128], v[16];
    snprintf(v, sizeof v, "%d", f->max_seg_len);
    if (mj_program_find_param(p, "max_seg_len") >= 0)
        mj_program_set_param(p, params, "max_seg_len", v, err, sizeof err);
    *spec = (mj_row_spec){f->prompt, n, annot, params, NULL, f->n};
}

/* Logits at every prompt position: one prefill per prefix length, all rows
 * of one batch (prompt_len stays the full prompt's). */
static void check_logits(mj_engine *e, const fixture *f, const mj_program *p,
                         const mj_mask_fns *fns, const char *file, const char *what) {
    float *ref = read_bin(f->dir, file, (int64_t)f->n * f->vocab);
    CHECKF(ref != NULL, "%s/%s readable", f->dir, file);
    if (!ref) return;
    mj_row_spec *specs = calloc((size_t)f->n, sizeof *specs);
    mj_value *annot = calloc((size_t)f->n * 64 * 2, sizeof *annot);
    mj_value *params = calloc((size_t)f->n * 16, sizeof *params);
    for (int32_t i = 0; i < f->n; i++)
        spec_make(f, p, i + 1, annot + (size_t)i * 128, params + (size_t)i * 16, &specs[i]);
    char err[256] = "";
    mj_seqs *s = mj_seqs_init(e, p, fns, f->n, specs, 0, err, sizeof err);
    float *lg = malloc((size_t)f->n * f->vocab * sizeof *lg);
    CHECKF(s && mj_seqs_prefill(s, lg) == 0, "%s: %s", what, s ? mj_seqs_error(s) : err);
    double d = rel_diff(lg, ref, (int64_t)f->n * f->vocab);
    CHECKF(d <= TOL, "%s %s: rel diff %g", f->dir, what, d);
    printf("  %-28s rel diff %.2e\n", what, d);
    mj_seqs_free(s);
    free(lg);
    free(specs);
    free(annot);
    free(params);
    free(ref);
}

/* Greedy decoding with the KV cache: every token and the logits that chose it. */
static void check_greedy(mj_engine *e, const fixture *f, const mj_program *p,
                         const mj_mask_fns *fns, const int32_t *want, const char *file,
                         const char *what) {
    float *ref = read_bin(f->dir, file, (int64_t)f->n_gen * f->vocab);
    CHECKF(ref != NULL, "%s/%s readable", f->dir, file);
    if (!ref) return;
    mj_value annot[128], params[16];
    mj_row_spec spec;
    spec_make(f, p, f->n, annot, params, &spec);
    char err[256] = "";
    mj_seqs *s = mj_seqs_init(e, p, fns, 1, &spec, f->n_gen, err, sizeof err);
    float *lg = malloc((size_t)f->vocab * sizeof *lg);
    int rc = s ? mj_seqs_prefill(s, lg) : -1;
    CHECKF(rc == 0, "%s: %s", what, s ? mj_seqs_error(s) : err);
    int same = 0;
    double worst = 0;
    for (int32_t i = 0; rc == 0 && i < f->n_gen; i++) {
        int32_t tok = argmax(lg, f->vocab);
        double d = rel_diff(lg, ref + (size_t)i * f->vocab, f->vocab);
        if (d > worst) worst = d;
        same += tok == want[i];
        if (tok != want[i]) break;
        if (i + 1 < f->n_gen) rc = mj_seqs_append(s, &tok, lg);
    }
    CHECKF(same == f->n_gen, "%s %s: %d of %d greedy tokens equal", f->dir, what, same, f->n_gen);
    CHECKF(worst <= TOL, "%s %s: greedy logits rel diff %g", f->dir, what, worst);
    printf("  %-28s %d/%d tokens, logits rel diff %.2e\n", what, same, f->n_gen, worst);
    mj_seqs_free(s);
    free(lg);
    free(ref);
}

/* Every check of one fixture with one kind of mask functions. */
static void run_fixture(const fixture *f, mj_program *const progs[3], bool jit) {
    char path[2100], err[512] = "";
    snprintf(path, sizeof path, "%s/model", f->dir);
    mj_model m;
    if (mj_model_load(&m, path, err, sizeof err) != 0) {
        CHECKF(0, "load %s: %s", path, err);
        return;
    }
    CHECK(m.cfg.vocab == f->vocab);
    mj_engine *e = mj_engine_init(&m, MJ_DEVICE_CPU, 2, err, sizeof err);
    CHECKF(e != NULL, "engine: %s", err);
    mj_mask_fns fns[3];
    mj_jit *jits[3] = {NULL, NULL, NULL};
    mj_diags d;
    mj_diags_init(&d);
    for (int k = 0; k < 3; k++) {
        if (jit) jits[k] = mj_jit_init(progs[k], &d);
        fns[k] = jits[k] ? mj_jit_fns(jits[k]) : mj_interp_fns(progs[k]);
        if (jit && !jits[k]) mj_diags_print(&d, stderr);
    }
    printf("%s (%s masks):\n", f->dir, jit ? "jit" : "interpreter");
    if (e) {
        check_logits(e, f, progs[0], &fns[0], "logits_causal.bin", "causal logits");
        check_logits(e, f, progs[1], &fns[1], "logits_fusion.bin", "fusion logits");
        check_logits(e, f, progs[2], &fns[2], "logits_fusion_pos.bin", "fusion+positions logits");
        check_greedy(e, f, progs[0], &fns[0], f->greedy_causal, "greedy_causal_logits.bin",
                     "causal greedy");
        check_greedy(e, f, progs[1], &fns[1], f->greedy_fusion, "greedy_fusion_logits.bin",
                     "fusion greedy");
    }
    for (int k = 0; k < 3; k++) mj_jit_free(jits[k]);
    mj_diags_free(&d);
    mj_engine_free(e);
    mj_model_free(&m);
}

/* A fixture made on a real GGUF model (expected.json has "gguf"): the
 * next-token logits of each prompt and its greedy continuation, with the
 * GGUF from models/smollm2-135m-instruct/ or $MJ_MODELS_DIR (skip when absent). */
static void run_gguf_fixture(const char *dir, json_object *o, const mj_program *causal) {
    json_object *v, *prompts;
    if (!json_object_object_get_ex(o, "gguf", &v)) return;
    const char *name = json_object_get_string(v), *md = getenv("MJ_MODELS_DIR");
    char path[2048], err[512] = "";
    snprintf(path, sizeof path, "%s/smollm2-135m-instruct/%s", md ? md : mj_test_path("models"), name);
    FILE *fp = fopen(path, "rb");
    if (!fp) { printf("SKIP %s: %s absent (scripts/fetch-smollm2.sh)\n", dir, path); return; }
    fclose(fp);
    mj_model m;
    if (mj_model_load(&m, path, err, sizeof err) != 0) { CHECKF(0, "load %s: %s", path, err); return; }
    mj_engine *e = mj_engine_init(&m, MJ_DEVICE_CPU, 0, err, sizeof err);
    mj_mask_fns fns = mj_interp_fns(causal);
    int32_t V = m.cfg.vocab;
    float *lg = malloc((size_t)V * sizeof *lg);
    printf("%s (%s):\n", dir, name);
    CHECK(e != NULL && json_object_object_get_ex(o, "prompts", &prompts));
    for (size_t k = 0; e && k < json_object_array_length(prompts); k++) {
        json_object *pr = json_object_array_get_idx(prompts, k), *lf;
        int32_t ids[512], greedy[64];
        int32_t n = json_ints(pr, "ids", ids, 512), ng = json_ints(pr, "greedy", greedy, 64);
        CHECK(n > 0 && ng > 0 && json_object_object_get_ex(pr, "logits_file", &lf));
        if (n <= 0 || ng <= 0) continue;
        float *ref = read_bin(dir, json_object_get_string(lf), V);
        mj_row_spec spec = {ids, n, NULL, NULL, NULL, 0};
        mj_seqs *s = mj_seqs_init(e, causal, &fns, 1, &spec, ng, err, sizeof err);
        int rc = s ? mj_seqs_prefill(s, lg) : -1;
        CHECKF(rc == 0 && ref, "%s prompt %zu: %s", dir, k, s ? mj_seqs_error(s) : err);
        double d = rc == 0 && ref ? rel_diff(lg, ref, V) : 1.0;
        CHECKF(d <= TOL, "%s prompt %zu: logits rel diff %g", dir, k, d);
        int same = 0;
        for (int32_t i = 0; rc == 0 && i < ng; i++) {
            int32_t t = argmax(lg, V);
            if (t != greedy[i]) break;
            same++;
            if (i + 1 < ng) rc = mj_seqs_append(s, &t, lg);
        }
        CHECKF(same == ng, "%s prompt %zu: %d of %d greedy tokens equal", dir, k, same, ng);
        printf("  prompt %zu (%d tokens): logits rel diff %.2e, greedy %d/%d\n", k, n, d, same, ng);
        mj_seqs_free(s);
        free(ref);
    }
    free(lg);
    mj_engine_free(e);
    mj_model_free(&m);
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void) {
    const char *root = mj_test_path("tests/fixtures");
    DIR *dp = opendir(root);
    if (!dp) SKIP_ALL("no tests/fixtures directory");
    char *names[64];
    int nn = 0;
    struct dirent *de;
    while ((de = readdir(dp)) && nn < 64) {
        char p[2048];
        snprintf(p, sizeof p, "%s/%s/expected.json", root, de->d_name);
        FILE *fp = de->d_name[0] != '.' ? fopen(p, "r") : NULL;
        if (fp) { fclose(fp); names[nn++] = strdup(de->d_name); }
    }
    closedir(dp);
    if (!nn) SKIP_ALL("no fixtures under %s", root);
    qsort(names, (size_t)nn, sizeof *names, cmp_str);
    mj_program *progs[3] = {program_get("examples/causal.mask", SRC_CAUSAL),
                            program_get("examples/fusion_seed.mask", SRC_FUSION),
                            program_get(NULL, SRC_FUSION_POS)};
    CHECK(progs[0] && progs[1] && progs[2]);
    for (int i = 0; i < nn && progs[0] && progs[1] && progs[2]; i++) {
        char dir[2048];
        snprintf(dir, sizeof dir, "%s/%s", root, names[i]);
        char jp[2100];
        snprintf(jp, sizeof jp, "%s/expected.json", dir);
        json_object *o = json_object_from_file(jp);
        json_object *gv;
        bool gguf = o && json_object_object_get_ex(o, "gguf", &gv);
        if (gguf) run_gguf_fixture(dir, o, progs[0]);
        if (o) json_object_put(o);
        if (gguf) continue;
        fixture *f = calloc(1, sizeof *f);
        CHECKF(fixture_load(f, dir) == 0, "%s/expected.json readable", dir);
        if (f->n > 0) {
            run_fixture(f, progs, false);
            run_fixture(f, progs, true);
        }
        free(f);
    }
    for (int k = 0; k < 3; k++) mj_program_free(progs[k]);
    for (int i = 0; i < nn; i++) free(names[i]);
    return mj_test_finish();
}
