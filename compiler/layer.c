/* layer.c — the mask compiler layer (checker, interpreter, block analysis, back ends). */
const char mj_compiler_layer[] = "compiler";
