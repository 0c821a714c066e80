/* mask.y — the grammar of the .mask language (bison, pure, with locations).
 *
 * A file is a sequence of declarations; no separators are needed because every
 * declaration starts with a keyword that cannot continue an expression.
 * Error recovery: a broken expression after `=` keeps its declaration (with an
 * ERROR body, so that its name stays known); any other error skips to the next
 * declaration keyword.  Syntax errors are phrased by yyreport_syntax_error as
 * "unexpected X, expected Y".  Bison's stack limit doubles as the guard
 * against absurd nesting (100000 parentheses): "expression nested too deeply". */
%code requires {
#include "parse_internal.h"
#ifndef YY_TYPEDEF_YY_SCANNER_T
#define YY_TYPEDEF_YY_SCANNER_T
typedef void *yyscan_t;
#endif
}

%code provides {
int mjyylex(MJYYSTYPE *lvalp, MJYYLTYPE *llocp, yyscan_t scanner);
}

%code {
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
static void mjyyerror(MJYYLTYPE *loc, yyscan_t scanner, mj_parse_ctx *ctx, const char *msg);
#define L(x) mj_parse_loc(ctx, &(x))
}

%define api.prefix {mjyy}
%define api.pure full
%define api.location.type {mj_yyltype}
%define parse.error custom
%define parse.lac full
%locations
%param {yyscan_t scanner}
%parse-param {mj_parse_ctx *ctx}

%union {
    int64_t ival;
    double fval;
    char *str;
    const char *cstr;
    mj_ast_expr *expr;
    mj_ast_decl *decl;
    mj_ast_list list;
    mj_parse_type ty;
}

%token <str> IDENT "identifier" STRING "string"
%token <ival> INT "integer"
%token <fval> FLOAT "float"
%token PARAM "param" TOKENS "tokens" HEADS "heads" LET "let" DEF "def" IMPORT "import"
%token MASK "mask" SCORE "score" POSITION "position"
%token IF "if" THEN "then" ELSE "else" TRUE "true" FALSE "false" INF "inf"
%token LE "<=" GE ">=" EQ "==" NE "!=" AND "&&" OR "||"

%type <expr> expr primary
%type <str> name
%type <cstr> keyword
%type <decl> decl
%type <list> args args_opt names names_opt
%type <ty> type

%precedence IFELSE
%right '?' ':'
%left OR
%left AND
%left EQ NE
%left '<' LE '>' GE
%left '+' '-'
%left '*' '/' '%'
%precedence UNARY

%%

program:
    %empty
  | program decl                         { mj_ast_decl_end(ctx, $2); if (ctx->rep->full) YYABORT; }
  ;

decl:
    PARAM name ':' type '=' expr        { $$ = mj_ast_decl_new(ctx, MJ_DECL_PARAM, L(@1));
                                           $$->name = $2; $$->name_loc = L(@2);
                                           $$->type = $4.type; $$->type_loc = $4.loc;
                                           $$->is_array = $4.is_array; $$->array_size = $4.size;
                                           $$->size_loc = $4.size_loc; $$->init = $6; }
  | TOKENS name ':' type '=' expr       { $$ = mj_ast_decl_new(ctx, MJ_DECL_TOKENS, L(@1));
                                           $$->name = $2; $$->name_loc = L(@2);
                                           $$->type = $4.type; $$->type_loc = $4.loc;
                                           $$->is_array = $4.is_array; $$->array_size = $4.size;
                                           $$->size_loc = $4.size_loc; $$->init = $6; }
  | HEADS name ':' type                 { $$ = mj_ast_decl_new(ctx, MJ_DECL_HEADS, L(@1));
                                           $$->name = $2; $$->name_loc = L(@2);
                                           $$->type = $4.type; $$->type_loc = $4.loc;
                                           $$->is_array = $4.is_array; $$->array_size = $4.size;
                                           $$->size_loc = $4.size_loc; }
  | HEADS name ':' type '=' expr        { $$ = mj_ast_decl_new(ctx, MJ_DECL_HEADS, L(@1));
                                           $$->name = $2; $$->name_loc = L(@2);
                                           $$->type = $4.type; $$->type_loc = $4.loc;
                                           $$->is_array = $4.is_array; $$->array_size = $4.size;
                                           $$->size_loc = $4.size_loc;
                                           mj_parse_error(ctx, L(@5), "heads arrays have no default (their values are set per head)"); }
  | LET name '=' expr                   { $$ = mj_ast_decl_new(ctx, MJ_DECL_LET, L(@1));
                                           $$->name = $2; $$->name_loc = L(@2); $$->init = $4; }
  | DEF name '(' names_opt ')' '=' expr { $$ = mj_ast_decl_new(ctx, MJ_DECL_DEF, L(@1));
                                           $$->name = $2; $$->name_loc = L(@2); $$->init = $7;
                                           $$->nparams = $4.n / 2;
                                           $$->params = mj_arena_alloc(ctx->arena, sizeof(char *) * (size_t)($4.n / 2 + 1));
                                           $$->param_locs = mj_arena_alloc(ctx->arena, sizeof(mj_srcloc) * (size_t)($4.n / 2 + 1));
                                           for (int i = 0; i < $4.n / 2; i++) {
                                               $$->params[i] = $4.items[2 * i];
                                               $$->param_locs[i] = *(mj_srcloc *)$4.items[2 * i + 1];
                                           } }
  | DEF name '(' error ')' '=' expr     { $$ = mj_ast_decl_new(ctx, MJ_DECL_DEF, L(@1));
                                           $$->name = $2; $$->name_loc = L(@2); $$->init = $7;
                                           $$->broken = true; }
  | IMPORT STRING                        { $$ = mj_ast_decl_new(ctx, MJ_DECL_IMPORT, L(@1));
                                           $$->path = $2; $$->path_loc = L(@2); }
  | MASK '=' expr                        { $$ = mj_ast_decl_new(ctx, MJ_DECL_MASK, L(@1)); $$->init = $3; }
  | SCORE '=' expr                       { $$ = mj_ast_decl_new(ctx, MJ_DECL_SCORE, L(@1)); $$->init = $3; }
  | POSITION '=' expr                    { $$ = mj_ast_decl_new(ctx, MJ_DECL_POSITION, L(@1)); $$->init = $3; }
    /* Recovery that keeps the declared name known. */
  | LET name '=' error                  { $$ = mj_ast_decl_new(ctx, MJ_DECL_LET, L(@1));
                                           $$->name = $2; $$->name_loc = L(@2);
                                           $$->init = mj_ast_leaf(ctx, MJ_AST_ERROR, L(@4)); }
  | PARAM name ':' type '=' error       { $$ = mj_ast_decl_new(ctx, MJ_DECL_PARAM, L(@1));
                                           $$->name = $2; $$->name_loc = L(@2); $$->type = MJ_ATYPE_ERROR;
                                           $$->init = mj_ast_leaf(ctx, MJ_AST_ERROR, L(@6)); }
  | TOKENS name ':' type '=' error      { $$ = mj_ast_decl_new(ctx, MJ_DECL_TOKENS, L(@1));
                                           $$->name = $2; $$->name_loc = L(@2); $$->type = MJ_ATYPE_ERROR;
                                           $$->init = mj_ast_leaf(ctx, MJ_AST_ERROR, L(@6)); }
  | MASK '=' error                       { $$ = mj_ast_decl_new(ctx, MJ_DECL_MASK, L(@1));
                                           $$->init = mj_ast_leaf(ctx, MJ_AST_ERROR, L(@3)); }
  | SCORE '=' error                      { $$ = mj_ast_decl_new(ctx, MJ_DECL_SCORE, L(@1));
                                           $$->init = mj_ast_leaf(ctx, MJ_AST_ERROR, L(@3)); }
  | POSITION '=' error                   { $$ = mj_ast_decl_new(ctx, MJ_DECL_POSITION, L(@1));
                                           $$->init = mj_ast_leaf(ctx, MJ_AST_ERROR, L(@3)); }
  | error                                { $$ = NULL; }
  ;

/* A declared name; a keyword there is an error, but the declaration is kept. */
name:
    IDENT                                { $$ = $1; }
  | keyword                              { $$ = mj_arena_strdup(ctx->arena, $1);
                                           mj_parse_error(ctx, L(@1), "'%s' is a keyword and cannot be declared", $1); }
  ;

keyword:
    PARAM { $$ = "param"; } | TOKENS { $$ = "tokens"; } | HEADS { $$ = "heads"; } | LET { $$ = "let"; }
  | DEF { $$ = "def"; } | IMPORT { $$ = "import"; } | MASK { $$ = "mask"; } | SCORE { $$ = "score"; }
  | POSITION { $$ = "position"; } | IF { $$ = "if"; } | THEN { $$ = "then"; } | ELSE { $$ = "else"; }
  | TRUE { $$ = "true"; } | FALSE { $$ = "false"; } | INF { $$ = "inf"; }
  ;

type:
    IDENT                                { $$.loc = L(@1); $$.is_array = false; $$.size = 0;
                                           $$.size_loc = L(@1);
                                           $$.type = !strcmp($1, "bool") ? MJ_ATYPE_BOOL
                                                   : !strcmp($1, "int") ? MJ_ATYPE_INT
                                                   : !strcmp($1, "float") ? MJ_ATYPE_FLOAT : MJ_ATYPE_ERROR;
                                           if ($$.type == MJ_ATYPE_ERROR) {
                                               char buf[48];
                                               mj_parse_error(ctx, L(@1), "unknown type '%s' (expected bool, int or float)",
                                                              mj_report_short($1, buf, sizeof buf));
                                           } }
  | IDENT '[' INT ']'                    { $$.loc = L(@1); $$.is_array = true; $$.size = $3;
                                           $$.size_loc = L(@3);
                                           $$.type = !strcmp($1, "bool") ? MJ_ATYPE_BOOL
                                                   : !strcmp($1, "int") ? MJ_ATYPE_INT
                                                   : !strcmp($1, "float") ? MJ_ATYPE_FLOAT : MJ_ATYPE_ERROR;
                                           if ($$.type == MJ_ATYPE_ERROR) {
                                               char buf[48];
                                               mj_parse_error(ctx, L(@1), "unknown type '%s' (expected bool, int or float)",
                                                              mj_report_short($1, buf, sizeof buf));
                                           } }
  ;

names_opt:
    %empty                               { memset(&$$, 0, sizeof $$); }
  | names                                { $$ = $1; }
  ;

/* Pairs (name, mj_srcloc *) flattened into one list. */
names:
    name                                 { memset(&$$, 0, sizeof $$);
                                           mj_srcloc *l = mj_arena_alloc(ctx->arena, sizeof *l); *l = L(@1);
                                           mj_ast_list_push(ctx->arena, &$$, $1);
                                           mj_ast_list_push(ctx->arena, &$$, l); }
  | names ',' name                       { $$ = $1;
                                           mj_srcloc *l = mj_arena_alloc(ctx->arena, sizeof *l); *l = L(@3);
                                           mj_ast_list_push(ctx->arena, &$$, $3);
                                           mj_ast_list_push(ctx->arena, &$$, l); }
  ;

expr:
    expr '?' expr ':' expr               { $$ = mj_ast_cond(ctx, false, L(@2), $1, $3, $5, L(@$)); }
  | IF expr THEN expr ELSE expr %prec IFELSE
                                         { $$ = mj_ast_cond(ctx, true, L(@1), $2, $4, $6, L(@$)); }
  | expr OR expr                         { $$ = mj_ast_binary(ctx, MJ_AOP_OR, L(@2), $1, $3, L(@$)); }
  | expr AND expr                        { $$ = mj_ast_binary(ctx, MJ_AOP_AND, L(@2), $1, $3, L(@$)); }
  | expr EQ expr                         { $$ = mj_ast_binary(ctx, MJ_AOP_EQ, L(@2), $1, $3, L(@$)); }
  | expr NE expr                         { $$ = mj_ast_binary(ctx, MJ_AOP_NE, L(@2), $1, $3, L(@$)); }
  | expr '<' expr                        { $$ = mj_ast_binary(ctx, MJ_AOP_LT, L(@2), $1, $3, L(@$)); }
  | expr LE expr                         { $$ = mj_ast_binary(ctx, MJ_AOP_LE, L(@2), $1, $3, L(@$)); }
  | expr '>' expr                        { $$ = mj_ast_binary(ctx, MJ_AOP_GT, L(@2), $1, $3, L(@$)); }
  | expr GE expr                         { $$ = mj_ast_binary(ctx, MJ_AOP_GE, L(@2), $1, $3, L(@$)); }
  | expr '+' expr                        { $$ = mj_ast_binary(ctx, MJ_AOP_ADD, L(@2), $1, $3, L(@$)); }
  | expr '-' expr                        { $$ = mj_ast_binary(ctx, MJ_AOP_SUB, L(@2), $1, $3, L(@$)); }
  | expr '*' expr                        { $$ = mj_ast_binary(ctx, MJ_AOP_MUL, L(@2), $1, $3, L(@$)); }
  | expr '/' expr                        { $$ = mj_ast_binary(ctx, MJ_AOP_DIV, L(@2), $1, $3, L(@$)); }
  | expr '%' expr                        { $$ = mj_ast_binary(ctx, MJ_AOP_MOD, L(@2), $1, $3, L(@$)); }
  | '-' expr %prec UNARY                 { $$ = mj_ast_unary(ctx, MJ_AOP_NEG, L(@1), $2, L(@$)); }
  | '!' expr %prec UNARY                 { $$ = mj_ast_unary(ctx, MJ_AOP_NOT, L(@1), $2, L(@$)); }
  | primary                              { $$ = $1; }
  ;

primary:
    INT                                  { $$ = mj_ast_leaf(ctx, MJ_AST_INT, L(@1)); $$->ival = $1; }
  | FLOAT                                { $$ = mj_ast_leaf(ctx, MJ_AST_FLOAT, L(@1)); $$->fval = $1; }
  | INF                                  { $$ = mj_ast_leaf(ctx, MJ_AST_FLOAT, L(@1)); $$->fval = 1.0 / 0.0; }
  | TRUE                                 { $$ = mj_ast_leaf(ctx, MJ_AST_BOOL, L(@1)); $$->ival = 1; }
  | FALSE                                { $$ = mj_ast_leaf(ctx, MJ_AST_BOOL, L(@1)); $$->ival = 0; }
  | SCORE                                { $$ = mj_ast_leaf(ctx, MJ_AST_SCORE, L(@1)); }
  | IDENT                                { $$ = mj_ast_leaf(ctx, MJ_AST_NAME, L(@1)); $$->name = $1; }
  | IDENT '[' expr ']'                   { mj_ast_list l = {0};
                                           mj_ast_list_push(ctx->arena, &l, $3);
                                           $$ = mj_ast_call(ctx, MJ_AST_INDEX, $1, L(@1), &l, L(@$)); }
  | IDENT '(' args_opt ')'               { $$ = mj_ast_call(ctx, MJ_AST_CALL, $1, L(@1), &$3, L(@$)); }
  | '(' expr ')'                         { $$ = $2; }
  ;

args_opt:
    %empty                               { memset(&$$, 0, sizeof $$); }
  | args                                 { $$ = $1; }
  ;

args:
    expr                                 { memset(&$$, 0, sizeof $$); mj_ast_list_push(ctx->arena, &$$, $1); }
  | args ',' expr                        { $$ = $1; mj_ast_list_push(ctx->arena, &$$, $3); }
  ;

%%

/* Called by bison only when its stack is exhausted (every syntax error goes
 * through yyreport_syntax_error): that happens for absurdly deep nesting. */
static void mjyyerror(MJYYLTYPE *loc, yyscan_t scanner, mj_parse_ctx *ctx, const char *msg) {
    (void)scanner; (void)msg;
    mj_parse_error(ctx, mj_parse_loc(ctx, loc), "expression nested too deeply");
}

/* The spelling of a token for messages: 'let', '(', identifier, ... */
static void token_spelling(yysymbol_kind_t k, char *buf, size_t n) {
    const char *name = yysymbol_name(k);   /* parse.error custom: aliases unquoted */
    if (k == YYSYMBOL_YYEOF) snprintf(buf, n, "end of file");
    else if (k == YYSYMBOL_IDENT || k == YYSYMBOL_INT || k == YYSYMBOL_FLOAT || k == YYSYMBOL_STRING ||
             name[0] == '\'')
        snprintf(buf, n, "%s", name);
    else snprintf(buf, n, "'%s'", name);
}

/* Token classes used to phrase what was expected. */
static bool is_expr_start(const char *sp) {
    static const char *const set[] = {"identifier", "integer", "float", "'true'", "'false'", "'inf'",
                                      "'score'", "'if'", "'-'", "'!'", "'('"};
    for (size_t i = 0; i < sizeof set / sizeof set[0]; i++) if (!strcmp(sp, set[i])) return true;
    return false;
}

static bool is_operator(const char *sp) {
    static const char *const set[] = {"'||'", "'&&'", "'=='", "'!='", "'<'", "'<='", "'>'", "'>='",
                                      "'+'", "'-'", "'*'", "'/'", "'%'", "'?'"};
    for (size_t i = 0; i < sizeof set / sizeof set[0]; i++) if (!strcmp(sp, set[i])) return true;
    return false;
}

static bool is_decl_start(const char *sp) {
    static const char *const set[] = {"'param'", "'tokens'", "'heads'", "'let'", "'def'", "'import'",
                                      "'mask'", "'score'", "'position'", "end of file"};
    for (size_t i = 0; i < sizeof set / sizeof set[0]; i++) if (!strcmp(sp, set[i])) return true;
    return false;
}

/* Appends "X" / ", X" / " or X" phrasing to buf. */
static void phrase_add(char *buf, size_t n, int *count, const char *what, bool last) {
    size_t k = strlen(buf);
    snprintf(buf + k, n - k, "%s%s", *count == 0 ? "" : last ? " or " : ", ", what);
    (*count)++;
}

/* "unexpected X, expected Y or Z": expression-start tokens are summarised as
 * "expression", binary operators as "operator", declaration keywords (and end
 * of file next to them) as "declaration". */
static int yyreport_syntax_error(const yypcontext_t *yctx, yyscan_t scanner, mj_parse_ctx *ctx) {
    (void)scanner;
    yysymbol_kind_t tok = yypcontext_token(yctx);
    mj_srcloc loc = mj_parse_loc(ctx, yypcontext_location(yctx));
    char got[96];
    switch (tok) {
    case YYSYMBOL_YYEOF: snprintf(got, sizeof got, "end of file"); break;
    case YYSYMBOL_IDENT: snprintf(got, sizeof got, "identifier '%s'", ctx->last_text); break;
    case YYSYMBOL_INT: case YYSYMBOL_FLOAT: snprintf(got, sizeof got, "number '%s'", ctx->last_text); break;
    case YYSYMBOL_STRING: snprintf(got, sizeof got, "string \"%s\"", ctx->last_text); break;
    default: snprintf(got, sizeof got, "'%s'", ctx->last_text); break;
    }
    yysymbol_kind_t exp[64];
    int n = yypcontext_expected_tokens(yctx, exp, 64);
    if (n < 0) n = 0;
    char sp[64][32];
    bool expr_possible = false, decl_possible = false, op_possible = false;
    for (int i = 0; i < n; i++) {
        token_spelling(exp[i], sp[i], sizeof sp[i]);
        if (!strcmp(sp[i], "'let'")) decl_possible = true;
        if (!strcmp(sp[i], "'&&'")) op_possible = true;
    }
    for (int i = 0; i < n; i++)   /* after an operand, '(' and '[' only continue a name */
        if (!strcmp(sp[i], "'('") && !op_possible) expr_possible = true;
    /* where a name is declared, keywords are accepted only to be reported */
    bool name_only = false;
    for (int i = 0; i < n; i++)
        if (!strcmp(sp[i], "identifier") && !expr_possible && !op_possible) name_only = true;
    bool has_expr = false, has_op = false, has_decl = false;
    const char *singles[64];
    int n_single = 0;
    for (int i = 0; i < n; i++) {
        if (op_possible && is_operator(sp[i])) { has_op = true; continue; }
        if (op_possible && (!strcmp(sp[i], "'('") || !strcmp(sp[i], "'['"))) continue;
        if (name_only && sp[i][0] == '\'' && sp[i][1] >= 'a' && sp[i][1] <= 'z') continue;
        if (expr_possible && is_expr_start(sp[i])) { has_expr = true; continue; }
        if (decl_possible && is_decl_start(sp[i])) { has_decl = true; continue; }
        singles[n_single++] = sp[i];
    }
    char want[256] = "";
    int count = 0, total = n_single + has_expr + has_op + has_decl;
    if (total <= 6) {
        for (int i = 0; i < n_single; i++)
            phrase_add(want, sizeof want, &count, singles[i], count == total - 1);
        if (has_expr) phrase_add(want, sizeof want, &count, "expression", count == total - 1);
        if (has_op) phrase_add(want, sizeof want, &count, "operator", count == total - 1);
        if (has_decl) phrase_add(want, sizeof want, &count, "declaration", count == total - 1);
    }
    if (count) mj_parse_error(ctx, loc, "unexpected %s, expected %s", got, want);
    else mj_parse_error(ctx, loc, "unexpected %s", got);
    return 0;
}
