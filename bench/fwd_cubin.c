/* fwd_cubin.c — writes the cubin of the forward pass's kernels
 * (kernels/templates/fwd_kernels.cu, compiled by NVRTC exactly as the CUDA
 * engine compiles it, cache bypassed) for an architecture, without a GPU:
 * the input of `cuobjdump -sass` / `-res-usage` (scripts/sass_check.sh --fwd).
 * usage: fwd_cubin OUT.cubin [ARCH (default sm_90a)] */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "cuda_kernels.h"

int main(int argc, char **argv) {
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: fwd_cubin OUT.cubin [ARCH]\n");
        return 2;
    }
    char *cubin = NULL, err[4096];
    size_t n = 0;
    bool hit = false;
    if (mj_fwd_kernels_build(argc > 2 ? argv[2] : "sm_90a", true, &cubin, &n, &hit, err, sizeof err) != 0) {
        fprintf(stderr, "fwd_cubin: %s\n", err);
        return 1;
    }
    FILE *f = fopen(argv[1], "wb");
    int rc = f && fwrite(cubin, 1, n, f) == n ? 0 : 1;
    if (f && fclose(f) != 0) rc = 1;
    if (rc) fprintf(stderr, "fwd_cubin: cannot write %s\n", argv[1]);
    free(cubin);
    return rc;
}
