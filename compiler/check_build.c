/* check_build.c — assembles the mj_program from the lowered roots: which
 * declarations are used (reachable from mask/score/position through the DAG),
 * which become part of the program (every declaration of the main file, and
 * the used ones of imported files), their indices and param slot offsets, and
 * the renumbering of every PARAM / *_AT node from declaration order to those
 * indices. */
#include "check_internal.h"

#include <stdlib.h>
#include <string.h>

/* Marks the syms and built-ins reachable from E (DAG walk, each node once). */
static void mark_used(mj_program *p, mj_expr *e, unsigned char *seen, bool *used) {
    ck_node *n = CK_NODE(e);
    if (seen[n->id]) return;
    seen[n->id] = 1;
    switch (e->kind) {
    case MJ_E_BUILTIN: p->uses_builtin[e->u.builtin] = true; break;
    case MJ_E_PARAM: case MJ_E_PARAM_AT: case MJ_E_TOKENS_AT: case MJ_E_HEADS_AT:
        used[e->u.index] = true;
        break;
    default: break;
    }
    for (int i = 0; i < e->nargs; i++) mark_used(p, e->a[i], seen, used);
}

mj_program *ck_build_program(ck_ctx *c) {
    mj_program *p = mj_arena_alloc(c->arena, sizeof *p);
    p->arena = c->arena;
    p->path = c->main->display;
    p->mask = c->ir_roots[0];
    p->score = c->ir_roots[1];
    p->position = c->ir_roots[2];
    bool *used = calloc((size_t)c->n_syms + 1, sizeof *used);
    unsigned char *seen = calloc((size_t)c->n_nodes + 1, 1);
    if (!used || !seen) abort();
    for (int r = 0; r < 3; r++)
        if (c->ir_roots[r]) mark_used(p, c->ir_roots[r], seen, used);
    free(seen);
    int np = 0, nt = 0, nh = 0;
    for (int i = 0; i < c->n_syms; i++) {
        ck_sym *s = c->syms[i];
        if (!(s->file->is_main || used[i])) continue;
        if (s->kind == CK_PARAM) s->final_index = np++;
        else if (s->kind == CK_TOKENS) s->final_index = nt++;
        else if (s->kind == CK_HEADS) s->final_index = nh++;
    }
    p->params = mj_arena_alloc(c->arena, sizeof *p->params * (size_t)(np + 1));
    p->tokens = mj_arena_alloc(c->arena, sizeof *p->tokens * (size_t)(nt + 1));
    p->heads = mj_arena_alloc(c->arena, sizeof *p->heads * (size_t)(nh + 1));
    int32_t slots = 0;
    for (int i = 0; i < c->n_syms; i++) {
        ck_sym *s = c->syms[i];
        if (s->final_index < 0) continue;
        if (s->kind == CK_PARAM) {
            mj_param *x = &p->params[s->final_index];
            x->name = s->name;
            x->type = s->type;
            x->is_array = s->decl->is_array;
            x->count = s->count;
            x->offset = slots;
            x->def = s->def;
            x->used = used[i];
            x->loc = s->decl->name_loc;
            slots += s->count;
        } else if (s->kind == CK_TOKENS) {
            mj_tokens *x = &p->tokens[s->final_index];
            x->name = s->name;
            x->type = s->type;
            x->def = s->def;
            x->used = used[i];
            x->loc = s->decl->name_loc;
        } else if (s->kind == CK_HEADS) {
            mj_heads *x = &p->heads[s->final_index];
            x->name = s->name;
            x->used = used[i];
            x->loc = s->decl->name_loc;
        }
    }
    p->n_params = np;
    p->n_tokens = nt;
    p->n_heads = nh;
    p->n_param_slots = slots;
    for (int i = 0; i < c->index_nodes.n; i++) {
        mj_expr *e = c->index_nodes.items[i];
        e->u.index = c->syms[e->u.index]->final_index;
    }
    free(used);
    return p;
}
