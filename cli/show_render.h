/* show_render.h — the output formats of `maskjit show`: text renderings of an
 * element mask / block map, and the RGB picture behind --format png. */
#ifndef MJ_CLI_SHOW_RENDER_H
#define MJ_CLI_SHOW_RENDER_H

#include <stdint.h>
#include <stdio.h>

#include "mask_session.h"

/* n lines of n characters '1'/'0' (d: n*n, row q). */
void mj_render_dense(FILE *out, const uint8_t *d, int64_t n);
/* nb lines of nb characters E/F/P. */
void mj_render_blocks(FILE *out, const uint8_t *map, int32_t nb);
/* n lines of n numbers (%.9g): score(q, kv, h, raw) where visible, -inf elsewhere. */
void mj_render_scores(FILE *out, const mj_mask_session *s, int32_t h, float raw);
/* A picture for people: glyphs, rulers, segment boundaries, legend; large
 * sequences are downsampled (cells counted exactly with the block classifier,
 * so a 32k-token row is quick).  Returns 0, or -1 when out of memory. */
int mj_render_ascii(FILE *out, const mj_mask_session *s, const char *title);
/* RGB pixels (w x w, malloc'd) of head h's mask with blocks of `block` tokens
 * shaded by class (map: nb x nb).  *px_out: pixels per token (> 0) or minus the
 * tokens per pixel (< 0) when downsampled.  NULL when out of memory. */
uint8_t *mj_render_png_rgb(const mj_mask_session *s, const uint8_t *map, int32_t block,
                           int32_t *w_out, int32_t *px_out);

#endif
