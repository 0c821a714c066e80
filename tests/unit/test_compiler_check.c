/* test_compiler_check.c — the checker on good programs: the lowered IR
 * (printed as s-expressions), promotions, let sharing, def inlining, literal
 * folding, declaration arrays and param slots, used flags (std imports add
 * only what is used), imports (diamond), the mj_program_* helpers, and the
 * warnings (unused declarations, query rows with no visible key).  Every
 * examples/ *.mask must compile with no error and no warning. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "support/testlib.h"

/* ---- IR printer ---------------------------------------------------------- */

typedef struct sbuf { char s[8192]; size_t n; } sbuf;

static void put(sbuf *b, const char *t) {
    size_t k = strlen(t);
    if (b->n + k < sizeof b->s) { memcpy(b->s + b->n, t, k + 1); b->n += k; }
}

static void dump(sbuf *b, const mj_program *p, const mj_expr *e) {
    static const char *const bn[] = {"q", "kv", "h", "b", "n_heads", "prompt_len", "seq_len", "score"};
    static const char *const on[] = {"neg", "!", "+", "-", "*", "/", "%", "<", "<=", ">", ">=", "==", "!=", "&&", "||"};
    static const char *const fn[] = {"min", "max", "abs", "clamp", "exp", "log", "sqrt", "tanh"};
    char t[128];
    switch (e->kind) {
    case MJ_E_CONST:
        if (e->type == MJ_T_FLOAT) snprintf(t, sizeof t, "%gf", (double)e->v.f);
        else if (e->type == MJ_T_BOOL) snprintf(t, sizeof t, "%s", e->v.i ? "true" : "false");
        else snprintf(t, sizeof t, "%d", e->v.i);
        put(b, t);
        return;
    case MJ_E_BUILTIN: put(b, bn[e->u.builtin]); return;
    case MJ_E_PARAM: put(b, p->params[e->u.index].name); return;
    case MJ_E_PARAM_AT: case MJ_E_TOKENS_AT: case MJ_E_HEADS_AT:
        put(b, e->kind == MJ_E_PARAM_AT ? p->params[e->u.index].name
               : e->kind == MJ_E_TOKENS_AT ? p->tokens[e->u.index].name : p->heads[e->u.index].name);
        put(b, "[");
        dump(b, p, e->a[0]);
        put(b, "]");
        return;
    case MJ_E_UNARY: put(b, "("); put(b, on[e->u.op]); break;
    case MJ_E_BINARY: put(b, "("); put(b, on[e->u.op]); break;
    case MJ_E_SELECT: put(b, "(?"); break;
    case MJ_E_CALL: put(b, "("); put(b, fn[e->u.fn]); break;
    case MJ_E_TO_FLOAT: put(b, "(float"); break;
    case MJ_E_TO_INT: put(b, "(int"); break;
    }
    for (int i = 0; i < e->nargs; i++) { put(b, " "); dump(b, p, e->a[i]); }
    put(b, ")");
}

static const char *show(const mj_program *p, const mj_expr *e) {
    static sbuf b;
    b.n = 0;
    b.s[0] = 0;
    if (e) dump(&b, p, e);
    else put(&b, "NULL");
    return b.s;
}

static mj_program *compile(const char *src, mj_diags *d) {
    mj_diags_init(d);
    mj_program *p = mj_compile_string("t.mask", src, strlen(src), NULL, d);
    if (!p) mj_diags_print(d, stderr);
    return p;
}

/* Compiles SRC and checks the printed mask/score/position ("" = absent). */
static void expect_ir(const char *src, const char *mask, const char *score, const char *position) {
    mj_diags d;
    mj_program *p = compile(src, &d);
    CHECKF(p != NULL, "does not compile: %s", src);
    if (p) {
        CHECKF(!strcmp(show(p, p->mask), mask), "mask of {%s}\n   got  %s\n   want %s", src, show(p, p->mask), mask);
        const char *s = p->score ? show(p, p->score) : "";
        CHECKF(!strcmp(s, score), "score of {%s}\n   got  %s\n   want %s", src, s, score);
        const char *ps = p->position ? show(p, p->position) : "";
        CHECKF(!strcmp(ps, position), "position of {%s}\n   got  %s\n   want %s", src, ps, position);
    }
    mj_program_free(p);
    mj_diags_free(&d);
}

static void test_lowering(void) {
    expect_ir("mask = kv <= q", "(<= kv q)", "", "");
    expect_ir("tokens seg: int = -1\nlet causal = kv <= q\nlet generating = q >= prompt_len\n"
              "mask = causal && (generating || seg[q] == seg[kv])",
              "(&& (<= kv q) (|| (>= q prompt_len) (== seg[q] seg[kv])))", "", "");
    /* int -> float promotions are explicit; literals fold */
    expect_ir("mask = q < 1.5", "(< (float q) 1.5f)", "", "");
    expect_ir("mask = true\nscore = score + 1", "true", "(+ score 1f)", "");
    expect_ir("mask = true\nscore = score * float(q - kv)", "true", "(* score (float (- q kv)))", "");
    expect_ir("mask = true\nscore = 2", "true", "2f", "");
    expect_ir("mask = min(q, 1.5) > 0", "(> (min (float q) 1.5f) 0f)", "", "");
    expect_ir("mask = clamp(q, 0, 10) == q", "(== (clamp q 0 10) q)", "", "");
    expect_ir("mask = exp(q) > 1", "(> (exp (float q)) 1f)", "", "");
    expect_ir("mask = abs(q - kv) < 3", "(< (abs (- q kv)) 3)", "", "");
    expect_ir("mask = (true ? 1 : 2.5) > 0", "(> (? true 1f 2.5f) 0f)", "", "");
    expect_ir("mask = if q > 3 then kv <= q else true", "(? (> q 3) (<= kv q) true)", "", "");
    expect_ir("mask = float(1.5) > 0.0 && int(q) == q", "(&& (> 1.5f 0f) (== q q))", "", "");
    expect_ir("mask = int(2.5) == 2", "(== (int 2.5f) 2)", "", "");
    expect_ir("mask = -q < -2147483648", "(< (neg q) -2147483648)", "", "");
    expect_ir("mask = - -2147483648 < 0", "(< (neg -2147483648) 0)", "", "");
    expect_ir("mask = -inf < -1e3 && 2.5e-3 > 0.0", "(&& (< -inff -1000f) (> 0.0025f 0f))", "", "");
    expect_ir("mask = !(q % 2 == 0) || q / 2 > 1", "(|| (! (== (% q 2) 0)) (> (/ q 2) 1))", "", "");
    expect_ir("mask = 1.5 % 1.0 > 0.25", "(> (% 1.5f 1f) 0.25f)", "", "");
    /* precedence */
    expect_ir("mask = 1 + 2 * 3 == 7 && true || false", "(|| (&& (== (+ 1 (* 2 3)) 7) true) false)", "", "");
    expect_ir("mask = q > 1 ? true : q > 2 ? false : true", "(? (> q 1) true (? (> q 2) false true))", "", "");
    /* defs inline with arguments substituted; params shadow globals */
    expect_ir("let x = 5\ndef f(x) = x + 1\nmask = f(q) > x", "(> (+ q 1) 5)", "", "");
    expect_ir("def sliding(w) = q - kv < w\nparam window: int = 256\nmask = kv <= q && sliding(window)",
              "(&& (<= kv q) (< (- q kv) window))", "", "");
    expect_ir("def f(a, b2) = a * b2\nmask = f(1.5, q) > 0.0", "(> (* 1.5f (float q)) 0f)", "", "");
    expect_ir("def g(a, b2, c, d) = a + b2 + c + d\nmask = g(1, 2, 3, q) > 0", "(> (+ (+ (+ 1 2) 3) q) 0)", "", "");
    /* mask/score/position may come before the lets they use */
    expect_ir("mask = c\nlet c = kv <= q", "(<= kv q)", "", "");
    /* position and score */
    expect_ir("tokens seg: int = -1\ntokens seg_start: int = 0\nparam prefix_len: int = 0\n"
              "mask = kv <= q\nposition = seg[q] >= 0 ? prefix_len + (q - seg_start[q]) : q",
              "(<= kv q)", "", "(? (>= seg[q] 0) (+ prefix_len (- q seg_start[q])) q)");
    expect_ir("heads slope: float\nmask = kv <= q\nscore = score - slope[h] * float(q - kv)",
              "(<= kv q)", "(- score (* slope[h] (float (- q kv))))", "");
    expect_ir("param w: float[16] = 1.0\ntokens seg: int = -1\nmask = true\n"
              "score = q >= prompt_len && seg[kv] >= 0 ? score + log(w[seg[kv]]) : score",
              "true", "(? (&& (>= q prompt_len) (>= seg[kv] 0)) (+ score (log w[seg[kv]])) score)", "");
    /* comments, CRLF */
    expect_ir("# c1\r\nmask = kv <= q // c2\r\n# caf\xc3\xa9\r\n", "(<= kv q)", "", "");
}

static void test_sharing(void) {
    mj_diags d;
    mj_program *p = compile("let c = kv <= q\nmask = c && c", &d);
    CHECK(p && p->mask->kind == MJ_E_BINARY && p->mask->a[0] == p->mask->a[1]);
    mj_program_free(p);
    mj_diags_free(&d);
    p = compile("def f(x) = x * x\nmask = f(q + 1) > kv", &d);
    CHECK(p && p->mask->a[0]->a[0] == p->mask->a[0]->a[1]);   /* the argument is shared */
    mj_program_free(p);
    mj_diags_free(&d);
    /* 500 chained lets (depth 500) compile */
    char *s = malloc(1 << 16);
    size_t n = (size_t)sprintf(s, "let a0 = q\n");
    for (int i = 1; i < 500; i++) n += (size_t)sprintf(s + n, "let a%d = a%d + 1\n", i, i - 1);
    sprintf(s + n, "mask = a499 > kv\n");
    p = compile(s, &d);
    CHECK(p != NULL);
    mj_program_free(p);
    mj_diags_free(&d);
    free(s);
}

static void test_declarations(void) {
    mj_diags d;
    mj_program *p = compile("param a: int[3] = -1\nparam b2: float = 2.5\nparam c: bool = true\n"
                            "param unused_p: float = -inf\ntokens t1: float = 0.5\ntokens t0: bool = false\n"
                            "heads s: float\nmask = a[q] == -1 && b2 > 0.0 && c && (t1[q] > 0.0 || t0[kv] || kv <= q)\n"
                            "score = score * s[h]", &d);
    CHECK(p != NULL);
    if (!p) return;
    CHECK(p->n_params == 4 && p->n_param_slots == 6);
    CHECK(!strcmp(p->params[0].name, "a") && p->params[0].is_array && p->params[0].count == 3 &&
          p->params[0].offset == 0 && p->params[0].def.i == -1 && p->params[0].type == MJ_T_INT && p->params[0].used);
    CHECK(!strcmp(p->params[1].name, "b2") && p->params[1].offset == 3 && p->params[1].def.f == 2.5f);
    CHECK(p->params[2].type == MJ_T_BOOL && p->params[2].def.i == 1 && p->params[2].offset == 4);
    CHECK(p->params[3].offset == 5 && !p->params[3].used && isinf(p->params[3].def.f) && p->params[3].def.f < 0);
    CHECK(p->n_tokens == 2 && !strcmp(p->tokens[0].name, "t1") && p->tokens[0].def.f == 0.5f &&
          p->tokens[1].type == MJ_T_BOOL && p->tokens[1].used);
    CHECK(p->n_heads == 1 && p->heads[0].used);
    CHECK(p->uses_builtin[MJ_B_Q] && p->uses_builtin[MJ_B_KV] && p->uses_builtin[MJ_B_H] &&
          p->uses_builtin[MJ_B_SCORE] && !p->uses_builtin[MJ_B_PROMPT_LEN]);
    CHECK(mj_program_find_param(p, "b2") == 1 && mj_program_find_param(p, "zz") == -1);
    CHECK(mj_program_find_tokens(p, "t0") == 1 && mj_program_find_heads(p, "s") == 0);
    /* one warning: unused_p */
    CHECK(d.n_warnings == 1);
    mj_value v[6];
    mj_program_default_params(p, v);
    CHECK(v[0].i == -1 && v[2].i == -1 && v[3].f == 2.5f && v[4].i == 1);
    char err[128];
    CHECK(mj_program_set_param(p, v, "b2", "0.25", err, sizeof err) == 0 && v[3].f == 0.25f);
    CHECK(mj_program_set_param(p, v, "a", "7", err, sizeof err) == 0 && v[0].i == 7 && v[2].i == 7);
    CHECK(mj_program_set_param(p, v, "a[1]", "-3", err, sizeof err) == 0 && v[1].i == -3 && v[0].i == 7);
    CHECK(mj_program_set_param(p, v, "a", "1,2", err, sizeof err) == 0 && v[0].i == 1 && v[1].i == 2 && v[2].i == 7);
    CHECK(mj_program_set_param(p, v, "a", "1,2,3,4", err, sizeof err) == -1);
    CHECK(mj_program_set_param(p, v, "a[3]", "1", err, sizeof err) == -1);
    CHECK(mj_program_set_param(p, v, "a", "1.5", err, sizeof err) == -1);
    CHECK(mj_program_set_param(p, v, "a", "9999999999", err, sizeof err) == -1);
    CHECK(mj_program_set_param(p, v, "c", "false", err, sizeof err) == 0 && v[4].i == 0);
    CHECK(mj_program_set_param(p, v, "c", "maybe", err, sizeof err) == -1);
    CHECK(mj_program_set_param(p, v, "unused_p", "-inf", err, sizeof err) == 0 && isinf(v[5].f));
    CHECK(mj_program_set_param(p, v, "unused_p", "nan", err, sizeof err) == -1);
    CHECK(mj_program_set_param(p, v, "nope", "1", err, sizeof err) == -1 && strstr(err, "unknown param"));
    mj_program_free(p);
    mj_diags_free(&d);
}

static void test_std(void) {
    mj_diags d;
    /* only what is used comes from std */
    mj_program *p = compile("import \"std\"\nmask = fusion", &d);
    CHECK(p && p->n_tokens == 1 && !strcmp(p->tokens[0].name, "seg") && p->n_params == 0 && d.n == 0);
    mj_program_free(p);
    mj_diags_free(&d);
    p = compile("import \"std\"\nmask = causal\nscore = softcap(score, 30.0)", &d);
    CHECK(p && p->n_tokens == 0 && d.n == 0);
    if (p) CHECK(!strcmp(show(p, p->score), "(* 30f (tanh (/ score 30f)))"));
    mj_program_free(p);
    mj_diags_free(&d);
    p = compile("import \"std\"\nmask = sliding_window(4) || prefix_lm(2) || dilated(3, 2) || document ||"
                " global_local(8) || full || (in_prompt && fusion_shared_prefix)", &d);
    CHECK(p && p->n_tokens == 3 && d.n_errors == 0);
    mj_program_free(p);
    mj_diags_free(&d);
    /* std imported twice and by a name: one copy */
    p = compile("import \"std\"\nimport \"std\"\nmask = causal", &d);
    CHECK(p != NULL);
    mj_program_free(p);
    mj_diags_free(&d);
}

static void test_imports(void) {
    mj_diags d;
    mj_diags_init(&d);
    mj_program *p = mj_compile_file(mj_test_path("tests/diag/diamond.mask"), NULL, &d);
    CHECK(p != NULL && d.n_errors == 0);
    mj_program_free(p);
    mj_diags_free(&d);
    mj_diags_init(&d);
    p = mj_compile_file(mj_test_path("tests/diag/import_noext.mask"), NULL, &d);
    CHECK(p != NULL && d.n == 0);
    mj_program_free(p);
    mj_diags_free(&d);
}

/* Number of warnings for SRC (which must compile). */
static int warnings_of(const char *src, const char *needle) {
    mj_diags d;
    mj_program *p = compile(src, &d);
    int n = p ? (int)d.n_warnings : -1;
    if (needle && n > 0 && !strstr(d.items[0].msg, needle)) n = -2;
    mj_program_free(p);
    mj_diags_free(&d);
    return n;
}

static void test_warnings(void) {
    CHECK(warnings_of("param n: int = 1\nmask = kv <= q", "param 'n' is never used") == 1);
    CHECK(warnings_of("let a = 1\nlet b2 = a\ndef f(x) = x\ntokens t: int = 0\nheads s: float\nmask = kv <= q",
                      NULL) == 5);
    mj_compile_opts o = {.max_errors = 50, .warn_unused = 0};
    mj_diags d;
    mj_diags_init(&d);
    mj_program *p = mj_compile_string("t.mask", "param n: int = 1\nmask = kv <= q", 31, &o, &d);
    CHECK(p && d.n_warnings == 0);
    mj_program_free(p);
    mj_diags_free(&d);
    /* rows with no visible key */
    CHECK(warnings_of("tokens seg: int = -1\nmask = kv <= q && (q >= prompt_len || (seg[q] == seg[kv] && seg[q] >= 0))",
                      "some query rows can see no key (e.g. query 0 of 4 tokens, prompt_len = 4, seg[q] = -1)") == 1);
    CHECK(warnings_of("mask = kv < q", "query 0 of 4 tokens") == 1);
    CHECK(warnings_of("mask = false", "some query rows") == 1);
    CHECK(warnings_of("tokens seg: int = -1\nmask = kv <= q && (q >= prompt_len || seg[q] == seg[kv])", NULL) == 0);
    CHECK(warnings_of("param window: int = 4\nmask = kv <= q && q - kv < window", NULL) == 0);
    CHECK(warnings_of("tokens g: bool = false\nmask = kv <= q && g[kv]", "g[q] = false") == 1);
}

static void test_examples(void) {
    DIR *dir = opendir(mj_test_path("examples"));
    CHECK(dir != NULL);
    if (!dir) return;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(dir))) {
        size_t len = strlen(de->d_name);
        if (len < 6 || strcmp(de->d_name + len - 5, ".mask")) continue;
        char rel[512];
        snprintf(rel, sizeof rel, "examples/%s", de->d_name);
        mj_diags d;
        mj_diags_init(&d);
        mj_program *p = mj_compile_file(mj_test_path(rel), NULL, &d);
        CHECKF(p && d.n == 0, "%s: %zu errors, %zu warnings", rel, d.n_errors, d.n_warnings);
        if (d.n) mj_diags_print(&d, stderr);
        mj_program_free(p);
        mj_diags_free(&d);
        n++;
    }
    closedir(dir);
    CHECKF(n >= 14, "only %d examples", n);
}

int main(void) {
    test_lowering();
    test_sharing();
    test_declarations();
    test_std();
    test_imports();
    test_warnings();
    test_examples();
    return mj_test_finish();
}
