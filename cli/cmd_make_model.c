/* cmd_make_model.c — `maskjit make-model`: writes a small random-weight HF
 * model directory (config.json, safetensors, generation_config.json,
 * optional tokenizer copy) of any supported architecture, deterministic for
 * a seed.  The work is done by mj_model_make_random (runtime/model_make.c). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "model.h"
#include "safetensors.h"

static void make_model_usage(FILE *out) {
    fputs("usage: maskjit make-model --arch llama|qwen2|qwen3 --out DIR [options]\n"
          "  --layers N          decoder layers (2)\n"
          "  --hidden H          hidden size (64)\n"
          "  --intermediate I    MLP size (128)\n"
          "  --heads H           attention heads (4)\n"
          "  --kv-heads K        key/value heads (2)\n"
          "  --head-dim D        head dimension (16)\n"
          "  --vocab V           vocabulary size (512)\n"
          "  --seed S            PRNG seed (0)\n"
          "  --dtype f32|bf16|f16  stored dtype (f32)\n"
          "  --rope-scaling llama3  llama3 rope scaling (factor 8, 1, 4, original 64)\n"
          "  --tie | --no-tie    tie lm_head to the embeddings (default: untied)\n"
          "  --shards N          write N shards + model.safetensors.index.json (1)\n"
          "  --bos ID --eos ID   special ids in the config (1, 2; -1: none)\n"
          "  --tokenizer PATH    copy tokenizer.json (+ tokenizer_config.json) from a file or dir\n",
          out);
}

/* Parse a bounded integer option value; false on junk. */
static bool parse_int(const char *s, long lo, long hi, int32_t *out) {
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < lo || v > hi) return false;
    *out = (int32_t)v;
    return true;
}

int cmd_make_model(int argc, char **argv) {
    static const struct option opts[] = {
        {"arch", 1, 0, 'a'}, {"out", 1, 0, 'o'}, {"layers", 1, 0, 'L'}, {"hidden", 1, 0, 'H'},
        {"intermediate", 1, 0, 'I'}, {"heads", 1, 0, 'n'}, {"kv-heads", 1, 0, 'k'}, {"head-dim", 1, 0, 'd'},
        {"vocab", 1, 0, 'V'}, {"seed", 1, 0, 's'}, {"dtype", 1, 0, 't'}, {"rope-scaling", 1, 0, 'r'},
        {"tie", 0, 0, 'T'}, {"no-tie", 0, 0, 'U'}, {"shards", 1, 0, 'S'}, {"tokenizer", 1, 0, 'z'},
        {"bos", 1, 0, 'b'}, {"eos", 1, 0, 'e'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    mj_make_opts o;
    mj_make_opts_default(&o);
    const char *out = NULL;
    bool have_arch = false;
    int c, shards = 1, li = -1;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, &li)) != -1) {
        bool ok = true;
        switch (c) {
        case 'a':
            have_arch = true;
            if (!strcmp(optarg, "llama")) o.arch = MJ_ARCH_LLAMA;
            else if (!strcmp(optarg, "qwen2")) o.arch = MJ_ARCH_QWEN2;
            else if (!strcmp(optarg, "qwen3")) o.arch = MJ_ARCH_QWEN3;
            else ok = false;
            break;
        case 'o': out = optarg; break;
        case 'L': ok = parse_int(optarg, 1, 1024, &o.layers); break;
        case 'H': ok = parse_int(optarg, 1, 1 << 16, &o.hidden); break;
        case 'I': ok = parse_int(optarg, 1, 1 << 18, &o.intermediate); break;
        case 'n': ok = parse_int(optarg, 1, 1024, &o.heads); break;
        case 'k': ok = parse_int(optarg, 1, 1024, &o.kv_heads); break;
        case 'd': ok = parse_int(optarg, 2, 1024, &o.head_dim); break;
        case 'V': ok = parse_int(optarg, 1, 1 << 22, &o.vocab); break;
        case 's': { char *end; o.seed = strtoull(optarg, &end, 10); ok = *optarg && !*end; break; }
        case 't':
            if (!strcmp(optarg, "f32")) o.dtype = MJ_ST_F32;
            else if (!strcmp(optarg, "f16")) o.dtype = MJ_ST_F16;
            else if (!strcmp(optarg, "bf16")) o.dtype = MJ_ST_BF16;
            else ok = false;
            break;
        case 'r': ok = !strcmp(optarg, "llama3"); o.rope_llama3 = ok; break;
        case 'T': o.tie = true; break;
        case 'U': o.tie = false; break;
        case 'S': { int32_t v; ok = parse_int(optarg, 1, 99, &v); shards = v; break; }
        case 'z': o.tokenizer = optarg; break;
        case 'b': ok = parse_int(optarg, -1, 1 << 24, &o.bos_id); break;
        case 'e': ok = parse_int(optarg, -1, 1 << 24, &o.eos_id); break;
        case 'h': make_model_usage(stdout); return 0;
        default: make_model_usage(stderr); return 2;
        }
        if (!ok) {
            fprintf(stderr, "maskjit make-model: bad value '%s' for --%s\n", optarg ? optarg : "",
                    li >= 0 ? opts[li].name : "?");
            return 2;
        }
    }
    if (!have_arch || !out || optind < argc) {
        fputs("maskjit make-model: --arch and --out are required (and nothing else)\n", stderr);
        make_model_usage(stderr);
        return 2;
    }
    o.shards = shards;
    char err[1024];
    if (mj_model_make_random(&o, out, err, sizeof err)) {
        fprintf(stderr, "maskjit make-model: %s\n", err);
        return 1;
    }
    return 0;
}
