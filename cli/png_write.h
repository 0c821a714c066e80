/* png_write.h — writing an 8-bit RGB image as a PNG file (libpng). */
#ifndef MJ_CLI_PNG_WRITE_H
#define MJ_CLI_PNG_WRITE_H

#include <stddef.h>
#include <stdint.h>

/* Write w x h pixels of rgb (3 bytes per pixel, rows top to bottom) to path
 * ("-" = stdout).  Returns 0, or -1 with a message in err. */
int mj_png_write_rgb(const char *path, int w, int h, const uint8_t *rgb, char *err, size_t errn);

#endif
