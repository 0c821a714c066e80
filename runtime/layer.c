/* layer.c — the runtime layer (models, tokenizers, forward passes, generation). */
const char mj_runtime_layer[] = "runtime";
