/* model.c — mj_model_load / mj_model_free / mj_model_load_config: an HF
 * directory (config.json + safetensors, single or sharded; a path to one of
 * its config.json / safetensors files means the directory) or a GGUF file,
 * converted once into one 64-byte-aligned f32 buffer owned by the model
 * (tied embeddings share one matrix).  Shapes are checked against the
 * config; a missing tensor is an error naming it.  GGUF Llama Q/K rows
 * (permuted by llama.cpp's converter for its interleaved RoPE) are permuted
 * back to HF order. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "errbuf.h"
#include "model_internal.h"
#include "safetensors.h"

typedef struct model_priv { float *buf; size_t n_floats; } model_priv;

/* Where weights come from: exactly one of st / gg is set. */
typedef struct wsrc {
    mj_st *st;
    mj_gguf *gg;
    const char *path;
    bool unpermute;            /* GGUF llama: undo llama.cpp's Q/K row permutation */
    char *err;
    size_t errn;
} wsrc;

static bool is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Reorder the rows of w ([n_head*hd x cols]) from llama.cpp's interleaved
 * order (row 2i+s of a head) to HF's (row s*hd/2+i). */
static int unpermute_rows(float *w, int64_t n_head, int64_t hd, int64_t cols) {
    float *tmp = malloc((size_t)(hd * cols) * sizeof *tmp);
    if (!tmp) return -1;
    int64_t half = hd / 2;
    for (int64_t h = 0; h < n_head; h++) {
        float *blk = w + h * hd * cols;
        memcpy(tmp, blk, (size_t)(hd * cols) * sizeof *tmp);
        for (int64_t i = 0; i < half; i++)
            for (int64_t s = 0; s < 2; s++)
                memcpy(blk + (s * half + i) * cols, tmp + (2 * i + s) * cols, (size_t)cols * sizeof *tmp);
    }
    free(tmp);
    return 0;
}

/* Load tensor hf/gg (names per source) of HF shape [rows] (cols == 0) or
 * [rows x cols] into dst.  perm_heads > 0: a Q/K tensor of that many heads.
 * Missing: *found = false and 0 when optional, else -1 naming it. */
static int load_w(wsrc *s, const char *hf, const char *gg, int64_t rows, int64_t cols, int64_t perm_heads,
                  bool optional, bool *found, float *dst) {
    const char *name = s->st ? hf : gg;
    if (found) *found = true;
    if (s->st) {
        const mj_st_tensor *t = mj_st_find(s->st, hf);
        if (!t) goto missing;
        bool ok = cols ? t->n_dims == 2 && t->shape[0] == rows && t->shape[1] == cols
                       : t->n_dims == 1 && t->shape[0] == rows;
        if (!ok) goto shape;
        if (mj_st_to_f32(t, dst, s->err, s->errn)) return -1;
        return 0;
    }
    const mj_gguf_tensor *t = mj_gguf_find_tensor(s->gg, gg);
    if (!t) goto missing;
    bool ok = cols ? t->n_dims == 2 && t->ne[0] == (uint64_t)cols && t->ne[1] == (uint64_t)rows
                   : t->n_dims == 1 && t->ne[0] == (uint64_t)rows;
    if (!ok) goto shape;
    if (mj_gguf_dequant(t, dst, s->err, s->errn)) return -1;
    if (perm_heads > 0 && s->unpermute &&
        unpermute_rows(dst, perm_heads, rows / perm_heads, cols ? cols : 1)) {
        mj_err(s->err, s->errn, "out of memory");
        return -1;
    }
    return 0;
missing:
    if (optional) { *found = false; return 0; }
    mj_err(s->err, s->errn, "%s: missing tensor '%s'", s->path, name);
    return -1;
shape:;
    char want[64];
    if (cols) snprintf(want, sizeof want, "[%lld, %lld]", (long long)rows, (long long)cols);
    else snprintf(want, sizeof want, "[%lld]", (long long)rows);
    mj_err(s->err, s->errn, "%s: tensor '%s' does not have the shape %s that the config implies", s->path, name,
            want);
    return -1;
}

/* Carve the weight pointers out of base (NULL: only count); returns floats. */
static size_t assign(mj_model *m, float *base) {
    const mj_model_config *c = &m->cfg;
    size_t off = 0;
    int64_t H = c->hidden, I = c->intermediate, q = (int64_t)c->n_heads * c->head_dim,
            kv = (int64_t)c->n_kv_heads * c->head_dim;
#define TAKE(ptr, n) do { if (base) (ptr) = base + off; off += ((size_t)(n) + 15) / 16 * 16; } while (0)
    TAKE(m->embed, (int64_t)c->vocab * H);
    TAKE(m->final_norm, H);
    if (c->tie_embeddings) { if (base) m->lm_head = m->embed; }
    else TAKE(m->lm_head, (int64_t)c->vocab * H);
    for (int l = 0; l < c->n_layers; l++) {
        mj_layer *L = base ? &m->layers[l] : &(mj_layer){0};
        TAKE(L->attn_norm, H); TAKE(L->wq, q * H); TAKE(L->wk, kv * H); TAKE(L->wv, kv * H);
        if (c->qkv_bias) { TAKE(L->bq, q); TAKE(L->bk, kv); TAKE(L->bv, kv); }
        if (c->qk_norm) { TAKE(L->q_norm, c->head_dim); TAKE(L->k_norm, c->head_dim); }
        TAKE(L->wo, H * q); TAKE(L->ffn_norm, H);
        TAKE(L->w_gate, I * H); TAKE(L->w_up, I * H); TAKE(L->w_down, H * I);
    }
#undef TAKE
    return off;
}

/* An o_proj bias (Llama/Qwen3 attention_bias) is accepted only when zero. */
static int check_o_bias(wsrc *s, int l, int64_t H) {
    char hf[160];
    snprintf(hf, sizeof hf, "model.layers.%d.self_attn.o_proj.bias", l);
    const mj_st_tensor *t = s->st ? mj_st_find(s->st, hf) : NULL;
    if (!t) return 0;
    float *b = malloc((size_t)H * sizeof *b);
    int rc = t->n_elems == (uint64_t)H && b && !mj_st_to_f32(t, b, s->err, s->errn) ? 0 : -1;
    for (int64_t i = 0; rc == 0 && i < H; i++)
        if (b[i] != 0.0f) rc = -1;
    free(b);
    if (rc) mj_err(s->err, s->errn, "%s: '%s' is non-zero: an o_proj bias is not supported", s->path, hf);
    return rc;
}

/* Load every tensor of layer l. */
static int load_layer(wsrc *s, const mj_model_config *c, int l, mj_layer *L) {
    int64_t H = c->hidden, I = c->intermediate, hd = c->head_dim, q = c->n_heads * hd, kv = c->n_kv_heads * hd;
    struct { const char *hf, *gg; float *dst; int64_t rows, cols, perm; } t[] = {
        {"input_layernorm.weight", "attn_norm.weight", L->attn_norm, H, 0, 0},
        {"self_attn.q_proj.weight", "attn_q.weight", L->wq, q, H, c->n_heads},
        {"self_attn.k_proj.weight", "attn_k.weight", L->wk, kv, H, c->n_kv_heads},
        {"self_attn.v_proj.weight", "attn_v.weight", L->wv, kv, H, 0},
        {"self_attn.o_proj.weight", "attn_output.weight", L->wo, H, q, 0},
        {"post_attention_layernorm.weight", "ffn_norm.weight", L->ffn_norm, H, 0, 0},
        {"mlp.gate_proj.weight", "ffn_gate.weight", L->w_gate, I, H, 0},
        {"mlp.up_proj.weight", "ffn_up.weight", L->w_up, I, H, 0},
        {"mlp.down_proj.weight", "ffn_down.weight", L->w_down, H, I, 0},
        {"self_attn.q_proj.bias", "attn_q.bias", L->bq, q, 0, c->n_heads},
        {"self_attn.k_proj.bias", "attn_k.bias", L->bk, kv, 0, c->n_kv_heads},
        {"self_attn.v_proj.bias", "attn_v.bias", L->bv, kv, 0, 0},
        {"self_attn.q_norm.weight", "attn_q_norm.weight", L->q_norm, hd, 0, 0},
        {"self_attn.k_norm.weight", "attn_k_norm.weight", L->k_norm, hd, 0, 0},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        if (!t[i].dst) continue; /* bias / qk-norm not in this architecture */
        char hf[160], gg[160];
        snprintf(hf, sizeof hf, "model.layers.%d.%s", l, t[i].hf);
        snprintf(gg, sizeof gg, "blk.%d.%s", l, t[i].gg);
        if (load_w(s, hf, gg, t[i].rows, t[i].cols, t[i].perm, false, NULL, t[i].dst)) return -1;
    }
    return 0;
}

/* Allocate the buffer and load all weights of m (cfg already set). */
static int load_weights(mj_model *m, wsrc *s, bool o_bias) {
    const mj_model_config *c = &m->cfg;
    size_t n = assign(m, NULL);
    model_priv *p = calloc(1, sizeof *p);
    m->layers = calloc((size_t)c->n_layers, sizeof *m->layers);
    if (!p || !m->layers || posix_memalign((void **)&p->buf, 64, n * sizeof(float))) {
        free(p);
        mj_err(s->err, s->errn, "%s: out of memory (the model needs %.2f GiB as f32)", s->path,
                (double)n * 4 / (1u << 30));
        return -1;
    }
    p->n_floats = n;
    m->priv = p;
    assign(m, p->buf);
    if (load_w(s, "model.embed_tokens.weight", "token_embd.weight", c->vocab, c->hidden, 0, false, NULL, m->embed) ||
        load_w(s, "model.norm.weight", "output_norm.weight", c->hidden, 0, 0, false, NULL, m->final_norm))
        return -1;
    if (!c->tie_embeddings &&
        load_w(s, "lm_head.weight", "output.weight", c->vocab, c->hidden, 0, false, NULL, m->lm_head))
        return -1;
    for (int l = 0; l < c->n_layers; l++) {
        if (load_layer(s, c, l, &m->layers[l])) return -1;
        if (o_bias && check_o_bias(s, l, c->hidden)) return -1;
    }
    return 0;
}

/* PATH names a file inside an HF directory (config.json, *.safetensors,
 * model.safetensors.index.json): its directory into dir, true.  Else false. */
static bool hf_file_dir(const char *path, char *dir, size_t n) {
    size_t len = strlen(path);
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    bool hf = !strcmp(base, "config.json") || !strcmp(base, "model.safetensors.index.json") ||
              (len > 12 && !strcmp(path + len - 12, ".safetensors"));
    if (!hf) return false;
    if (!slash) snprintf(dir, n, ".");
    else snprintf(dir, n, "%.*s", (int)(slash - path), path);
    return is_dir(dir);
}

int mj_model_load_config(mj_model_config *cfg, const char *path, char *err, size_t errn) {
    bool o_bias;
    char dir[4096];
    if (hf_file_dir(path, dir, sizeof dir)) path = dir;
    if (is_dir(path)) return mj_config_parse_hf(cfg, path, &o_bias, err, errn);
    mj_gguf *g = mj_gguf_open(path, err, errn);
    if (!g) return -1;
    int rc = mj_config_parse_gguf(cfg, g, path, err, errn);
    mj_gguf_free(g);
    return rc;
}

int mj_model_load(mj_model *m, const char *path, char *err, size_t errn) {
    memset(m, 0, sizeof *m);
    char dir[4096];
    if (hf_file_dir(path, dir, sizeof dir)) path = dir;
    wsrc s = {.path = path, .err = err, .errn = errn};
    bool o_bias = false;
    int rc = -1;
    if (is_dir(path)) {
        if (mj_config_parse_hf(&m->cfg, path, &o_bias, err, errn)) return -1;
        if (!(s.st = mj_st_open(path, err, errn))) return -1;
    } else {
        if (!(s.gg = mj_gguf_open(path, err, errn))) return -1;
        if (mj_config_parse_gguf(&m->cfg, s.gg, path, err, errn)) goto done;
        s.unpermute = m->cfg.arch == MJ_ARCH_LLAMA;
        m->from_gguf = true;
    }
    if (!(m->path = strdup(path))) { mj_err(err, errn, "out of memory"); goto done; }
    rc = load_weights(m, &s, o_bias);
done:
    mj_st_free(s.st);
    mj_gguf_free(s.gg);
    if (rc) mj_model_free(m);
    return rc;
}

void mj_model_free(mj_model *m) {
    if (!m) return;
    model_priv *p = m->priv;
    if (p) free(p->buf);
    free(p);
    free(m->layers);
    free(m->path);
    memset(m, 0, sizeof *m);
}
