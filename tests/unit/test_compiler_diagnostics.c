/* test_compiler_diagnostics.c — bad .mask programs and the exact first error
 * each must give (line, column, message) and, where pinned, how many errors.
 * None may crash; each must fail to compile.  Cases are inline sources,
 * generated sources (deep nesting, 1 MB lines, long let/def chains) and files
 * under tests/diag/ (imports).  Set MJ_DIAG_PRINT=1 to print what each case
 * actually gives. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compile.h"
#include "support/testlib.h"

typedef struct dcase {
    const char *name;
    const char *src;        /* inline source, or NULL */
    const char *file;       /* tests/diag/FILE, or NULL */
    int gen;                /* generated source (see gen_source), 0: none */
    const char *want;       /* "FILE:LINE:COL: MESSAGE" of the first error */
    int n_errors;           /* exact error count, or -1 */
} dcase;

static const dcase cases[] = {
    /* ---- syntax ---- */
    {"eof in expression", "mask = kv <= q &&", NULL, 0,
     "t.mask:1:18: unexpected end of file, expected expression", 1},
    {"unclosed paren", "mask = (kv <= q", NULL, 0,
     "t.mask:1:16: unexpected end of file, expected ')' or operator", 1},
    {"missing =", "mask kv <= q", NULL, 0, "t.mask:1:6: unexpected identifier 'kv', expected '='", 1},
    {"two operators", "let x = 1 +* 2\nmask = kv <= q && x > 0", NULL, 0,
     "t.mask:1:12: unexpected '*', expected expression", 1},
    {"param without default", "param n: int\nmask = kv <= q", NULL, 0,
     "t.mask:2:1: unexpected 'mask', expected '=' or '['", 1},
    {"stray paren", "mask = q <= kv )", NULL, 0, "t.mask:1:16: unexpected ')', expected operator or declaration", 1},
    {"three syntax errors", "let a = (1\nlet b2 = 2 +\nmask = kv <= q )", NULL, 0,
     "t.mask:2:1: unexpected 'let', expected ')' or operator", 3},
    {"trailing comma in def", "def f(a,) = a\nmask = f(true)", NULL, 0,
     "t.mask:1:9: unexpected ')', expected identifier", 1},
    {"missing colon", "mask = kv <= q ? true", NULL, 0,
     "t.mask:1:22: unexpected end of file, expected ':' or operator", 1},
    {"missing else", "mask = if kv <= q then true", NULL, 0,
     "t.mask:1:28: unexpected end of file, expected 'else' or operator", 1},
    {"junk at top level", "foo\nmask = true", NULL, 0, "t.mask:1:1: unexpected identifier 'foo', expected declaration", 1},
    {"keyword as name", "let mask = 1\nmask = true", NULL, 0, "t.mask:1:5: 'mask' is a keyword and cannot be declared", 1},
    /* ---- lexical ---- */
    {"bad character", "mask = kv <= q $", NULL, 0, "t.mask:1:16: unexpected character '$'", 1},
    {"single ampersand", "mask = kv <= q & true", NULL, 0,
     "t.mask:1:16: unexpected character '&' (did you mean '&&'?)", 1},
    {"unterminated string", "import \"std\nmask = true", NULL, 0, "t.mask:1:8: unterminated string", -1},
    {"malformed number", "mask = kv < 1.5.2", NULL, 0, "t.mask:1:13: malformed number '1.5.2'", 1},
    {"malformed exponent", "mask = kv < 1e", NULL, 0, "t.mask:1:13: malformed number '1e'", 1},
    {"float out of range", "let x = 1e39\nmask = x > 0.0", NULL, 0, "t.mask:1:9: float literal out of range", 1},
    {"int out of range", "mask = kv < 2147483648", NULL, 0, "t.mask:1:13: integer literal out of range", 1},
    {"negative int out of range", "mask = kv > -2147483649", NULL, 0,
     "t.mask:1:14: integer literal out of range", 1},
    {"huge int literal", "mask = kv < 99999999999999999999999999", NULL, 0,
     "t.mask:1:13: integer literal out of range", 1},
    {"unicode operator", "mask = kv \xe2\x89\xa4 q", NULL, 0, "t.mask:1:11: unexpected character '\xe2\x89\xa4'", 1},
    {"invalid utf-8", "mask = true # caf\xe9\n", NULL, 0,
     "t.mask:1:18: invalid UTF-8 byte 0xe9 (byte offset 17)", 1},
    {"overlong utf-8", "# \xc0\xaf\nmask = true", NULL, 0,
     "t.mask:1:3: invalid UTF-8 byte 0xc0 (byte offset 2)", 1},
    {"nul byte", NULL, NULL, 1, "t.mask:2:3: NUL byte in source (byte offset 14)", 1},
    /* ---- names ---- */
    {"did you mean let", "let causal = kv <= q\nmask = cuasal", NULL, 0,
     "t.mask:2:8: unknown name 'cuasal'; did you mean 'causal'?", 1},
    {"did you mean builtin", "mask = kv <= q && prompt_lne > 0", NULL, 0,
     "t.mask:1:19: unknown name 'prompt_lne'; did you mean 'prompt_len'?", 1},
    {"unknown name, nothing close", "mask = kv <= q && zebra", NULL, 0, "t.mask:1:19: unknown name 'zebra'", 1},
    {"unknown function", "mask = kv <= q && foo(q)", NULL, 0, "t.mask:1:19: unknown function 'foo'", 1},
    {"did you mean function", "mask = mni(q, kv) >= 0", NULL, 0,
     "t.mask:1:8: unknown function 'mni'; did you mean 'min'?", 1},
    {"use before declaration", "let a = b2 > 1\nlet b2 = 3\nmask = a", NULL, 0,
     "t.mask:1:9: 'b2' is used before its declaration", 1},
    {"let uses itself", "let a = a || true\nmask = a", NULL, 0, "t.mask:1:9: 'a' is used in its own definition", 1},
    {"recursive def", "def f(x) = f(x)\nmask = f(true)", NULL, 0, "t.mask:1:12: 'f' is used in its own definition", 1},
    {"def param not visible outside", "def f(x) = x\nmask = f(true) && x", NULL, 0,
     "t.mask:2:19: unknown name 'x'", 1},
    /* ---- types ---- */
    {"mask is int", "mask = q", NULL, 0, "t.mask:1:8: mask must be bool, found int", 1},
    {"and with int", "mask = kv <= q && 1", NULL, 0, "t.mask:1:16: invalid operands to '&&' (bool and int)", 1},
    {"plus bool", "mask = kv + true > 0", NULL, 0, "t.mask:1:11: invalid operands to '+' (int and bool)", 1},
    {"int equals bool", "mask = q == true", NULL, 0, "t.mask:1:10: invalid operands to '==' (int and bool)", 1},
    {"tokens without index", "tokens seg: int = -1\nmask = seg == 1", NULL, 0,
     "t.mask:2:8: 'seg' is a tokens annotation; index it, as in seg[q]", 1},
    {"heads without index", "heads slope: float\nmask = kv <= q\nscore = score - slope", NULL, 0,
     "t.mask:3:17: 'slope' is a heads array; index it, as in slope[h]", 1},
    {"array param without index", "param w: float[4] = 1.0\nmask = kv <= q\nscore = score * w", NULL, 0,
     "t.mask:3:17: 'w' is an array parameter; index it, as in w[0]", 1},
    {"indexing a scalar param", "param w: float = 1.0\nmask = w[0] > 0.0", NULL, 0,
     "t.mask:2:8: 'w' is not an array (it is a parameter)", 1},
    {"indexing a builtin", "mask = q[1] > 0", NULL, 0, "t.mask:1:8: 'q' is not an array", 1},
    {"float index", "tokens seg: int = -1\nmask = seg[1.5] == 0", NULL, 0,
     "t.mask:2:12: index of 'seg' must be int, found float", 1},
    {"score is bool", "mask = kv <= q\nscore = q >= 0", NULL, 0, "t.mask:2:9: score must be float, found bool", 1},
    {"position is float", "mask = kv <= q\nposition = float(q)", NULL, 0,
     "t.mask:2:12: position must be int, found float (convert with int(...))", 1},
    {"score in mask", "mask = kv <= q && score > 0.0", NULL, 0,
     "t.mask:1:19: 'score' can only be used in 'score = ...'", 1},
    {"score in a let used by mask", "let s = score > 0.0\nmask = kv <= q && s", NULL, 0,
     "t.mask:1:9: 'score' can only be used in 'score = ...'", 1},
    {"kv in position", "mask = kv <= q\nposition = q - kv", NULL, 0,
     "t.mask:2:16: 'kv' cannot be used in 'position' (it depends only on the query token)", 1},
    {"h in position", "mask = kv <= q\nposition = h", NULL, 0,
     "t.mask:2:12: 'h' cannot be used in 'position' (it depends only on the query token)", 1},
    {"heads in position", "heads slope: float\nmask = kv <= q\nposition = int(slope[0])", NULL, 0,
     "t.mask:3:16: heads arrays cannot be used in 'position' (it depends only on the query token)", 1},
    {"branches differ", "mask = kv <= q ? 1 : false", NULL, 0,
     "t.mask:1:16: branches of '?:' have different types (int and bool)", 1},
    {"if condition int", "mask = if q then true else false", NULL, 0, "t.mask:1:11: condition must be bool, found int", 1},
    {"not of int", "mask = !q", NULL, 0, "t.mask:1:8: invalid operand to '!' (int)", 1},
    {"minus bool", "mask = -(kv <= q)", NULL, 0, "t.mask:1:8: invalid operand to '-' (bool)", 1},
    {"exp of bool", "mask = exp(true) > 0.0", NULL, 0, "t.mask:1:12: argument 1 of 'exp' must be int or float, found bool", 1},
    {"error inside def, two calls", "def f(x) = x && true\nmask = f(1) || f(2)", NULL, 0,
     "t.mask:1:14: invalid operands to '&&' (int and bool)", 1},
    /* ---- arity ---- */
    {"min arity", "mask = min(q) > 0", NULL, 0, "t.mask:1:8: 'min' takes 2 arguments, got 1", 1},
    {"def arity", "def f(a, c) = a < c\nmask = f(q)", NULL, 0, "t.mask:2:8: 'f' takes 2 arguments, got 1", 1},
    {"clamp arity", "mask = clamp(q, 0) > 0", NULL, 0, "t.mask:1:8: 'clamp' takes 3 arguments, got 2", 1},
    {"calling an annotation", "tokens seg: int = -1\nmask = seg(q) == 0", NULL, 0,
     "t.mask:2:8: 'seg' is not a function; did you mean seg[...]?", 1},
    {"function without call", "mask = kv <= q && min > 0", NULL, 0,
     "t.mask:1:19: 'min' is a function; call it with 2 arguments", 1},
    /* ---- declarations ---- */
    {"duplicate let", "let a = 1\nlet a = 2\nmask = a > q", NULL, 0, "t.mask:2:5: duplicate declaration of 'a'", 1},
    {"duplicate mask", "mask = true\nmask = false", NULL, 0, "t.mask:2:1: duplicate 'mask'", 1},
    {"builtin redeclared", "param q: int = 1\nmask = true", NULL, 0,
     "t.mask:1:7: 'q' is a built-in name and cannot be declared", 1},
    {"duplicate def parameter", "def f(a, a) = a\nmask = f(1, 2) > 0", NULL, 0,
     "t.mask:1:10: duplicate parameter 'a'", 1},
    {"clash with std", "import \"std\"\nlet causal = kv <= q\nmask = causal", NULL, 0,
     "t.mask:2:5: duplicate declaration of 'causal'", 1},
    {"missing mask", "let a = kv <= q", NULL, 0, "t.mask:1:1: missing 'mask = ...' declaration", 1},
    {"empty file", "", NULL, 0, "t.mask:1:1: missing 'mask = ...' declaration", 1},
    {"array size zero", "param w: float[0] = 1.0\nmask = kv <= q", NULL, 0,
     "t.mask:1:16: array size must be between 1 and 65536", 1},
    {"array size too big", "param w: float[70000] = 1.0\nmask = kv <= q", NULL, 0,
     "t.mask:1:16: array size must be between 1 and 65536", 1},
    {"default type", "param n: int = 1.5\nmask = kv <= q", NULL, 0,
     "t.mask:1:16: default of 'n' must be int, found float", 1},
    {"default not literal", "param n: int = q\nmask = kv <= q", NULL, 0,
     "t.mask:1:16: default of 'n' must be a literal", 1},
    {"default out of range", "param n: int = -2147483649\nmask = kv <= q", NULL, 0,
     "t.mask:1:17: integer literal out of range", 1},
    {"bool default from int", "param flag: bool = 1\nmask = kv <= q", NULL, 0,
     "t.mask:1:20: default of 'flag' must be bool, found int", 1},
    {"heads with default", "heads s: float = 1.0\nmask = kv <= q", NULL, 0,
     "t.mask:1:16: heads arrays have no default (their values are set per head)", 1},
    {"duplicate score", "mask = kv <= q\nscore = score\nscore = 2.0 * score", NULL, 0, "t.mask:3:1: duplicate 'score'", 1},
    {"score in position", "mask = kv <= q\nposition = int(score)", NULL, 0,
     "t.mask:2:16: 'score' can only be used in 'score = ...'", 1},
    {"import without string", "import std\nmask = kv <= q", NULL, 0,
     "t.mask:1:8: unexpected identifier 'std', expected string", 1},
    {"tokens array", "tokens seg: int[4] = 0\nmask = kv <= q", NULL, 0,
     "t.mask:1:17: tokens annotation 'seg' cannot be an array", 1},
    {"heads int", "heads slope: int\nmask = kv <= q", NULL, 0, "t.mask:1:14: heads arrays must be float", 1},
    {"unknown type", "param n: integer = 1\nmask = kv <= q", NULL, 0,
     "t.mask:1:10: unknown type 'integer' (expected bool, int or float)", 1},
    /* ---- imports (files under tests/diag) ---- */
    {"import cycle", NULL, "cycle_a.mask", 0,
     "cycle_b.mask:2:8: import cycle: cycle_a.mask -> cycle_b.mask -> cycle_a.mask", 1},
    {"self import", NULL, "self_import.mask", 0, "self_import.mask:2:8: import cycle: self_import.mask -> self_import.mask", 1},
    {"missing import", NULL, "missing_import.mask", 0,
     "missing_import.mask:2:8: cannot open 'no_such_file.mask': No such file or directory", 1},
    {"error in imported file", NULL, "import_bad.mask", 0, "lib_bad.mask:3:17: invalid operands to '&&' (int and bool)", 1},
    {"clash between imports", NULL, "import_clash.mask", 0, "lib_common2.mask:2:5: duplicate declaration of 'common'", 1},
    {"name from a file not imported", NULL, "import_invisible.mask", 0,
     "lib_uses_common.mask:2:12: unknown name 'common'", 1},
    {"importing a directory", NULL, "import_dir.mask", 0, "import_dir.mask:2:8: cannot import '.': not a regular file", 1},
    {"imported file not UTF-8", NULL, "import_latin1.mask", 0,
     "lib_latin1.mask:1:25: invalid UTF-8 byte 0xe9 (byte offset 24)", 1},
    /* ---- limits ---- */
    {"100000 nested parentheses", NULL, NULL, 2, "t.mask:1:10003: expression nested too deeply", 1},
    {"100000 nested nots", NULL, NULL, 3, "t.mask:1:10003: expression nested too deeply", 1},
    {"1 MB line of &&", NULL, NULL, 4, "t.mask:1:5626: expression nested too deeply", 1},
    {"1 MB identifier", NULL, NULL, 5, "t.mask:1:8: unknown name 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...'", 1},
    {"1 MB comment line, no mask", NULL, NULL, 6, "t.mask:1:1: missing 'mask = ...' declaration", 1},
    {"2000 chained lets", NULL, NULL, 7, "t.mask:1001:13: expression nested too deeply", 1},
    {"exponential def inlining", NULL, NULL, 8,
     "t.mask:41:1: program too large after inlining 'let' and 'def' (more than 1048576 nodes)", 1},
    {"300 nested def calls", NULL, NULL, 9, "t.mask:101:15: def calls nested too deeply", 1},
    {"deep ?: chain", NULL, NULL, 10, "t.mask:1:37491: expression nested too deeply", 1},
    {"many errors stop at max", NULL, NULL, 11, "t.mask:1:8: unknown name 'x0'", 50},
};

/* Builds generated source number G into a malloc'd buffer. */
static char *gen_source(int g, size_t *len) {
    size_t cap = 3u << 20, n = 0;
    char *s = malloc(cap);
    if (!s) abort();
#define PUT(...) (n += (size_t)snprintf(s + n, cap - n, __VA_ARGS__))
    switch (g) {
    case 1: memcpy(s, "mask = true\n# \0\n", 16); n = 16; break;
    case 2:
        PUT("mask = ");
        for (int i = 0; i < 100000; i++) s[n++] = '(';
        PUT("true");
        for (int i = 0; i < 100000; i++) s[n++] = ')';
        break;
    case 3:
        PUT("mask = ");
        for (int i = 0; i < 100000; i++) s[n++] = '!';
        PUT("true");
        break;
    case 4:
        PUT("mask = kv <= q");
        while (n < (1u << 20)) PUT(" && kv <= q");
        break;
    case 5:
        PUT("mask = ");
        for (int i = 0; i < (1 << 20); i++) s[n++] = 'a';
        PUT(" > 0");
        break;
    case 6:
        PUT("#");
        for (int i = 0; i < (1 << 20); i++) s[n++] = 'c';
        PUT("\n");
        break;
    case 7:
        PUT("let a0 = q\n");
        for (int i = 1; i < 2000; i++) PUT("let a%d = a%d + 1\n", i, i - 1);
        PUT("mask = a1999 > kv\n");
        break;
    case 8:
        PUT("def f0(x) = x + 1\n");
        for (int i = 1; i < 40; i++) PUT("def f%d(x) = f%d(x) * f%d(x)\n", i, i - 1, i - 1);
        PUT("mask = f39(q) > kv\n");
        break;
    case 9:
        PUT("def f0(x) = x\n");
        for (int i = 1; i < 300; i++) PUT("def f%d(x) = f%d(x)\n", i, i - 1);
        PUT("mask = f299(kv <= q)\n");
        break;
    case 10:
        PUT("mask = ");
        for (int i = 0; i < 20000; i++) PUT("q > %d ? true : ", i % 10);
        PUT("false");
        break;
    case 11:
        PUT("mask = x0");
        for (int i = 1; i < 200; i++) PUT(" && x%d", i);
        break;
    }
#undef PUT
    *len = n;
    return s;
}

/* "FILE:LINE:COL: MSG" of the first error, with FILE reduced to its base name. */
static void first_error(const mj_diags *d, char *buf, size_t n) {
    snprintf(buf, n, "(no error)");
    for (size_t i = 0; i < d->n; i++) {
        const mj_diag *g = &d->items[i];
        if (g->sev != MJ_SEV_ERROR) continue;
        const char *path = g->loc.src ? g->loc.src->path : g->path ? g->path : "?";
        const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
        snprintf(buf, n, "%s:%d:%d: %s", base, g->loc.line, g->loc.col, g->msg);
        return;
    }
}

int main(void) {
    int print = getenv("MJ_DIAG_PRINT") != NULL;
    size_t n_cases = sizeof cases / sizeof cases[0];
    CHECKF(n_cases >= 40, "only %zu cases", n_cases);
    mj_compile_opts opts = {.max_errors = 50, .warn_unused = 1};
    for (size_t i = 0; i < n_cases; i++) {
        const dcase *c = &cases[i];
        mj_diags d;
        mj_diags_init(&d);
        mj_program *p;
        if (c->file) {   /* from tests/diag, so that paths in messages are plain */
            char cwd[4096];
            CHECK(getcwd(cwd, sizeof cwd) != NULL);
            CHECK(chdir(mj_test_path("tests/diag")) == 0);
            p = mj_compile_file(c->file, &opts, &d);
            CHECK(chdir(cwd) == 0);
        } else if (c->gen) {
            size_t len;
            char *s = gen_source(c->gen, &len);
            p = mj_compile_string("t.mask", s, len, &opts, &d);
            free(s);
        } else {
            p = mj_compile_string("t.mask", c->src, strlen(c->src), &opts, &d);
        }
        char got[512];
        first_error(&d, got, sizeof got);
        if (print) printf("[%s] %s  (%zu errors)\n", c->name, got, d.n_errors);
        CHECKF(p == NULL, "[%s] compiled", c->name);
        CHECKF(d.n_errors > 0, "[%s] no error", c->name);
        CHECKF(!strcmp(got, c->want), "[%s]\n   got  %s\n   want %s", c->name, got, c->want);
        if (c->n_errors >= 0)
            CHECKF((int)d.n_errors == c->n_errors, "[%s] %zu errors, want %d", c->name, d.n_errors, c->n_errors);
        /* every diagnostic formats (source kept alive after the arena is gone) */
        for (size_t k = 0; k < d.n; k++) {
            char *s = mj_diag_format(&d.items[k]);
            CHECK(s && strlen(s) > 0 && strlen(s) < 4096);
            free(s);
        }
        mj_program_free(p);
        mj_diags_free(&d);
    }
    return mj_test_finish();
}
