/* layer.c — the fusion application layer (datasets, layouts, methods, eval). */
const char mj_fusion_layer[] = "fusion";
