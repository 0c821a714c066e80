/* cmd_compile.c — `maskjit compile FILE --emit cuda|ptx|cubin|llvm`: compile a
 * .mask program and write the spliced CUDA source, the NVRTC PTX or cubin
 * (through the disk cache), or the LLVM IR of the CPU back end. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "compile.h"
#include "cuda_backend.h"
#include "jit.h"

static void compile_usage(FILE *out) {
    fputs("usage: maskjit compile FILE [--emit cuda|ptx|cubin|llvm] [--arch sm_90a]\n"
          "                       [--template NAME] [--define NAME=VALUE] [--no-cache]\n"
          "                       [--cache-dir DIR] [--resource-usage] [-v] [-o OUT]\n\n"
          "Compiles a .mask program and writes one of:\n"
          "  cuda   the full CUDA source given to NVRTC (template + generated functions)\n"
          "  ptx    PTX from NVRTC (default)\n"
          "  cubin  a cubin for --arch (binary: needs -o OUT or a redirected stdout)\n"
          "  llvm   LLVM IR of the CPU back end\n\n"
          "options:\n"
          "  --arch ARCH        sm_80, sm_90a, ... (default: the local GPU's, else sm_90a)\n"
          "  --template NAME    kernel template under kernels/templates/ (default mask_grid;\n"
          "                     also attn_prefill, attn_prefill_ws, attn_decode, fwd_attn_naive)\n"
          "  --define N=V       a -D option for the template (e.g. MJ_HEAD_DIM=128)\n"
          "  --no-cache         always run NVRTC; do not read or write the disk cache\n"
          "  --cache-dir DIR    cache directory (default $XDG_CACHE_HOME/maskjit,\n"
          "                     else ~/.cache/maskjit)\n"
          "  --resource-usage   print ptxas's report of every kernel (registers, spill\n"
          "                     stores and loads, shared memory) to stderr; skips the cache\n"
          "  -v, --verbose      print arch, cache hit and compile time to stderr\n"
          "  -o, --output OUT   write to OUT instead of stdout\n"
          "  -h, --help         this text\n",
          out);
}

typedef struct compile_args {
    const char *file, *emit, *arch, *tmpl, *out, *cache_dir;
    char defines[1024];
    bool no_cache, verbose, resource_usage;
} compile_args;

/* Parses argv into a; returns -1 to exit 0 (help), 0 ok, 2 usage error. */
static int parse_args(int argc, char **argv, compile_args *a) {
    static const struct option longs[] = {
        {"emit", required_argument, 0, 'e'},    {"arch", required_argument, 0, 'a'},
        {"template", required_argument, 0, 't'}, {"define", required_argument, 0, 'D'},
        {"no-cache", no_argument, 0, 'n'},      {"cache-dir", required_argument, 0, 'c'},
        {"verbose", no_argument, 0, 'v'},       {"output", required_argument, 0, 'o'},
        {"resource-usage", no_argument, 0, 'r'}, {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    memset(a, 0, sizeof *a);
    a->emit = "ptx";
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":o:vhD:", longs, NULL)) != -1) {
        switch (c) {
        case 'e': a->emit = optarg; break;
        case 'a': a->arch = optarg; break;
        case 't': a->tmpl = optarg; break;
        case 'n': a->no_cache = true; break;
        case 'c': a->cache_dir = optarg; break;
        case 'v': a->verbose = true; break;
        case 'r': a->resource_usage = true; break;
        case 'o': a->out = optarg; break;
        case 'h': compile_usage(stdout); return -1;
        case 'D': {
            size_t n = strlen(a->defines);
            if (n + strlen(optarg) + 2 > sizeof a->defines) {
                fputs("maskjit compile: too many --define options\n", stderr);
                return 2;
            }
            snprintf(a->defines + n, sizeof a->defines - n, "%s%s", n ? " " : "", optarg);
            break;
        }
        case ':':
            fprintf(stderr, "maskjit compile: option '%s' needs a value\n", argv[optind - 1]);
            return 2;
        default:
            fprintf(stderr, "maskjit compile: unknown option '%s'\n", argv[optind - 1]);
            compile_usage(stderr);
            return 2;
        }
    }
    if (optind != argc - 1) {
        fputs(optind >= argc ? "maskjit compile: missing FILE\n"
                             : "maskjit compile: exactly one FILE expected\n", stderr);
        compile_usage(stderr);
        return 2;
    }
    a->file = argv[optind];
    if (a->resource_usage && (!strcmp(a->emit, "llvm") || !strcmp(a->emit, "cuda"))) {
        fputs("maskjit compile: --resource-usage needs --emit ptx or cubin (it runs NVRTC)\n", stderr);
        return 2;
    }
    static const char *emits[] = {"cuda", "ptx", "cubin", "llvm"};
    for (size_t i = 0; i < 4; i++)
        if (!strcmp(a->emit, emits[i])) return 0;
    fprintf(stderr, "maskjit compile: --emit must be cuda, ptx, cubin or llvm, not '%s'\n", a->emit);
    return 2;
}

/* Writes n bytes to OUT (or stdout); returns 0 or 1 with a message. */
static int write_output(const char *out, const void *data, size_t n) {
    FILE *f = out ? fopen(out, "wb") : stdout;
    if (!f) {
        perror(out);
        return 1;
    }
    int bad = n && fwrite(data, 1, n, f) != n;
    if (out) bad |= fclose(f) != 0;
    else bad |= fflush(f) != 0;
    if (bad) {
        fprintf(stderr, "maskjit compile: cannot write %s\n", out ? out : "stdout");
        return 1;
    }
    return 0;
}

/* Produces the text/binary for a->emit into *data (malloc'd); returns 0 or 1. */
static int produce(const compile_args *a, const mj_program *p, mj_diags *d, char **data,
                   size_t *n) {
    if (!strcmp(a->emit, "llvm")) {
        *data = mj_jit_emit_ir(p, d);
        *n = *data ? strlen(*data) : 0;
        return *data ? 0 : 1;
    }
    if (!strcmp(a->emit, "cuda")) {
        *data = mj_cuda_source(p, a->tmpl, d);
        *n = *data ? strlen(*data) : 0;
        return *data ? 0 : 1;
    }
    mj_cuda_opts o = {.arch = a->arch, .template_name = a->tmpl, .no_cache = a->no_cache,
                      .cache_dir = a->cache_dir, .defines = a->defines[0] ? a->defines : NULL,
                      .resource_usage = a->resource_usage};
    mj_cuda_artifact art;
    if (mj_cuda_compile(p, &o, &art, d) != 0) {
        mj_cuda_artifact_free(&art);
        return 1;
    }
    if (a->verbose)
        fprintf(stderr, "maskjit compile: %s, %s, %.1f ms, ptx %zu bytes, cubin %zu bytes\n",
                art.arch, art.cache_hit ? "cache hit" : "compiled", art.compile_ms,
                art.ptx_size, art.cubin_size);
    if (a->resource_usage && art.log) fputs(art.log, stderr);
    bool cubin = !strcmp(a->emit, "cubin");
    *data = cubin ? art.cubin : art.ptx;
    *n = cubin ? art.cubin_size : art.ptx_size;
    if (cubin) art.cubin = NULL;
    else art.ptx = NULL;
    mj_cuda_artifact_free(&art);
    return 0;
}

int cmd_compile(int argc, char **argv) {
    compile_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc) return rc < 0 ? 0 : rc;
    if (!strcmp(a.emit, "cubin") && !a.out && isatty(STDOUT_FILENO)) {
        fputs("maskjit compile: refusing to write a binary cubin to a terminal; use -o OUT\n", stderr);
        return 2;
    }
    mj_diags d;
    mj_diags_init(&d);
    mj_program *p = mj_compile_file(a.file, NULL, &d);
    char *data = NULL;
    size_t n = 0;
    rc = p ? produce(&a, p, &d, &data, &n) : 1;
    mj_diags_print(&d, stderr);
    if (rc == 0) rc = write_output(a.out, data, n);
    free(data);
    mj_diags_free(&d);
    if (p) mj_program_free(p);
    return rc;
}
