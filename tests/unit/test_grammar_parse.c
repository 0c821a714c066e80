/* test_grammar_parse.c — the parser alone: declarations and their fields,
 * source locations (line, byte column, length) of names, operators and whole
 * expressions, literal folding, precedence, depth limits, and error recovery
 * (how many errors, and that declarations after an error survive). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ast.h"
#include "source.h"
#include "support/testlib.h"

typedef struct parsed {
    mj_arena *a;
    mj_diags d;
    mj_reporter r;
    mj_ast_file *f;
} parsed;

static void parse(parsed *p, const char *text) {
    p->a = mj_arena_new();
    mj_diags_init(&p->d);
    mj_reporter_init(&p->r, &p->d, 50);
    const mj_source *src = mj_source_from_text(p->a, "t.mask", text, strlen(text));
    p->f = mj_parse(p->a, src, &p->r);
}

static void done(parsed *p) {
    mj_diags_free(&p->d);
    mj_arena_free(p->a);
}

static int at(mj_srcloc l, int line, int col, int len) { return l.line == line && l.col == col && l.len == len; }

static void test_decls(void) {
    parsed p;
    parse(&p, "# header\n"
              "param w: float[16] = 1.0\n"
              "tokens seg: int = -1\n"
              "heads slope: float\n"
              "import \"std\"\n"
              "def sliding(w, d) = q - kv < w * d\n"
              "let c = kv <= q\n"
              "mask  = c && sliding(4, 2)\n"
              "score = score - slope[h]\n"
              "position = q\n");
    CHECK(p.d.n == 0 && p.f->n_syntax_errors == 0 && p.f->n_decls == 9);
    mj_ast_decl **d = p.f->decls;
    CHECK(d[0]->kind == MJ_DECL_PARAM && !strcmp(d[0]->name, "w") && d[0]->type == MJ_ATYPE_FLOAT &&
          d[0]->is_array && d[0]->array_size == 16 && d[0]->init->kind == MJ_AST_FLOAT && d[0]->init->fval == 1.0);
    CHECK(at(d[0]->loc, 2, 1, 5) && at(d[0]->name_loc, 2, 7, 1) && at(d[0]->type_loc, 2, 10, 5) &&
          at(d[0]->size_loc, 2, 16, 2));
    CHECK(d[1]->kind == MJ_DECL_TOKENS && d[1]->init->kind == MJ_AST_INT && d[1]->init->ival == -1 &&
          at(d[1]->init->loc, 3, 19, 2));
    CHECK(d[2]->kind == MJ_DECL_HEADS && !d[2]->init);
    CHECK(d[3]->kind == MJ_DECL_IMPORT && !strcmp(d[3]->path, "std") && at(d[3]->path_loc, 5, 8, 5));
    CHECK(d[4]->kind == MJ_DECL_DEF && d[4]->nparams == 2 && !strcmp(d[4]->params[1], "d") &&
          at(d[4]->param_locs[1], 6, 16, 1));
    mj_ast_expr *body = d[4]->init;   /* q - kv < w * d */
    CHECK(body->kind == MJ_AST_BINARY && body->op == MJ_AOP_LT && at(body->op_loc, 6, 28, 1) &&
          at(body->loc, 6, 21, 14) && body->depth == 3);
    CHECK(body->args[1]->op == MJ_AOP_MUL && body->args[0]->op == MJ_AOP_SUB);
    mj_ast_expr *m = d[6]->init;      /* c && sliding(4, 2) */
    CHECK(d[6]->kind == MJ_DECL_MASK && m->op == MJ_AOP_AND && m->args[1]->kind == MJ_AST_CALL &&
          m->args[1]->nargs == 2 && at(m->args[1]->op_loc, 8, 14, 7) && at(m->args[1]->loc, 8, 14, 13));
    mj_ast_expr *s = d[7]->init;      /* score - slope[h] */
    CHECK(s->args[0]->kind == MJ_AST_SCORE && s->args[1]->kind == MJ_AST_INDEX &&
          !strcmp(s->args[1]->name, "slope") && s->args[1]->args[0]->kind == MJ_AST_NAME);
    CHECK(d[8]->kind == MJ_DECL_POSITION);
    done(&p);
}

static void test_literals(void) {
    parsed p;
    parse(&p, "mask = -2147483648 < 2147483648 && -inf < 2.5e-3 && 1e3 > -1.5 && 99999999999999999999 > - -7");
    CHECK(p.d.n == 0);
    mj_ast_expr *e = p.f->decls[0]->init;
    /* ((((a < b) && (c < d)) && (e > f)) && (g > h)) */
    mj_ast_expr *c1 = e->args[0]->args[0]->args[0];
    CHECK(c1->args[0]->kind == MJ_AST_INT && c1->args[0]->ival == INT32_MIN && at(c1->args[0]->loc, 1, 8, 11));
    CHECK(c1->args[1]->ival == 2147483648LL);   /* out of range: the checker says so */
    mj_ast_expr *c2 = e->args[0]->args[0]->args[1];
    CHECK(c2->args[0]->kind == MJ_AST_FLOAT && isinf(c2->args[0]->fval) && c2->args[0]->fval < 0);
    CHECK(fabs(c2->args[1]->fval - 2.5e-3) < 1e-12);
    mj_ast_expr *c3 = e->args[0]->args[1];
    CHECK(c3->args[0]->fval == 1000.0 && c3->args[1]->fval == -1.5);
    mj_ast_expr *c4 = e->args[1];
    CHECK(c4->args[0]->ival == (int64_t)1 << 40);            /* saturated */
    CHECK(c4->args[1]->kind == MJ_AST_INT && c4->args[1]->ival == 7);   /* - -7 folds twice */
    done(&p);
}

static void test_precedence(void) {
    parsed p;
    parse(&p, "mask = a || b && c == d < e + f * -g ? x : if y then z else w");
    CHECK(p.d.n == 0);
    mj_ast_expr *e = p.f->decls[0]->init;
    CHECK(e->kind == MJ_AST_COND && !e->is_if && e->args[2]->kind == MJ_AST_COND && e->args[2]->is_if);
    mj_ast_expr *o = e->args[0];
    CHECK(o->op == MJ_AOP_OR && o->args[1]->op == MJ_AOP_AND && o->args[1]->args[1]->op == MJ_AOP_EQ);
    mj_ast_expr *lt = o->args[1]->args[1]->args[1];
    CHECK(lt->op == MJ_AOP_LT && lt->args[1]->op == MJ_AOP_ADD && lt->args[1]->args[1]->op == MJ_AOP_MUL &&
          lt->args[1]->args[1]->args[1]->kind == MJ_AST_UNARY);
    done(&p);
}

static void test_recovery(void) {
    parsed p;
    parse(&p, "let a = (1 +\nlet b = )\nparam n: int = 3\nmask = q $ kv\nlet ok = true\n");
    CHECK(p.f->n_syntax_errors == 3 && p.d.n_errors == 3);
    /* a and b are kept with error bodies; n, the mask and ok survive */
    CHECK(p.f->n_decls == 5);
    if (p.f->n_decls == 5) {
        CHECK(!strcmp(p.f->decls[0]->name, "a") && p.f->decls[0]->init->kind == MJ_AST_ERROR);
        CHECK(!strcmp(p.f->decls[2]->name, "n") && p.f->decls[2]->init->ival == 3);
        CHECK(p.f->decls[3]->kind == MJ_DECL_MASK && p.f->decls[3]->init->kind == MJ_AST_ERROR);
        CHECK(!strcmp(p.f->decls[4]->name, "ok"));
    }
    done(&p);
}

static void test_depth(void) {
    char src[4096];
    int n = sprintf(src, "mask = ");
    for (int i = 0; i < 600; i++) n += sprintf(src + n, "!");
    sprintf(src + n, "x\nlet ok = 1");
    parsed p;
    parse(&p, src);
    CHECK(p.d.n_errors == 1 && strstr(p.d.items[0].msg, "nested too deeply"));
    CHECK(p.f->n_decls == 2 && p.f->decls[0]->init->depth <= MJ_AST_MAX_DEPTH);
    done(&p);
    /* parentheses alone add no depth */
    n = sprintf(src, "mask = ");
    for (int i = 0; i < 1000; i++) src[n++] = '(';
    n += sprintf(src + n, "x");
    for (int i = 0; i < 1000; i++) src[n++] = ')';
    src[n] = 0;
    parse(&p, src);
    CHECK(p.d.n == 0 && p.f->decls[0]->init->kind == MJ_AST_NAME && at(p.f->decls[0]->init->loc, 1, 1008, 1));
    done(&p);
}

int main(void) {
    test_decls();
    test_literals();
    test_precedence();
    test_recovery();
    test_depth();
    return mj_test_finish();
}
