/* main.c — the `maskjit` executable: dispatches to one subcommand. */
#include <stdio.h>
#include <string.h>

#include "commands.h"

typedef struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"check", cmd_check, "check .mask files and print diagnostics"},
    {"compile", cmd_compile, "compile a .mask to CUDA C, PTX, cubin or LLVM IR"},
    {"show", cmd_show, "draw a mask for a layout (ascii, dense, blocks, scores, png)"},
    {"explain", cmd_explain, "sparsity, block classes and needs of a mask for a layout"},
    {"tokenize", cmd_tokenize, "encode lines of text to token ids (or decode ids)"},
    {"make-model", cmd_make_model, "write a small random-weight HF model for tests"},
    {"generate", cmd_generate, "generate text from a prompt with a compiled mask"},
    {"run", cmd_run, "answer a dataset with a fusion method or baseline"},
    {"eval", cmd_eval, "score outputs of `run` and print the accuracy table"},
    {"paraphrase", cmd_paraphrase, "generate WebQuestions paraphrases with a model"},
};

static void usage(FILE *out) {
    fputs("usage: maskjit COMMAND [options]   (maskjit COMMAND --help for details)\n\ncommands:\n", out);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-11s %s\n", commands[i].name, commands[i].summary);
}

int main(int argc, char **argv) {
    if (argc < 2) { usage(stderr); return 2; }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "maskjit: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
