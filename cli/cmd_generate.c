/* cmd_generate.c — placeholder until its owner lands the real command. */
#include <stdio.h>
#include "commands.h"
int cmd_generate(int argc, char **argv) {
    (void)argc; (void)argv;
    fputs("maskjit: this command is not built yet\n", stderr);
    return 2;
}
