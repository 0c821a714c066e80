/* commands.h — the subcommands of the `maskjit` executable.  Each lives in
 * cli/cmd_NAME.c, parses its own options (getopt_long), prints its own --help,
 * and returns the process exit status (0 ok, 1 user error / diagnostics,
 * 2 usage error). */
#ifndef MJ_COMMANDS_H
#define MJ_COMMANDS_H

int cmd_check(int argc, char **argv);
int cmd_compile(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_explain(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_make_model(int argc, char **argv);
int cmd_generate(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_paraphrase(int argc, char **argv);

#endif
