/* png_write.c — PNG output through libpng's simplified write API. */
#include "png_write.h"

#include <png.h>
#include <stdio.h>
#include <string.h>

int mj_png_write_rgb(const char *path, int w, int h, const uint8_t *rgb, char *err, size_t errn) {
    png_image img;
    int ok;
    if (w < 1 || h < 1) { snprintf(err, errn, "empty image"); return -1; }
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    img.width = (png_uint_32)w;
    img.height = (png_uint_32)h;
    img.format = PNG_FORMAT_RGB;
    if (!strcmp(path, "-")) ok = png_image_write_to_stdio(&img, stdout, 0, rgb, 0, NULL);
    else ok = png_image_write_to_file(&img, path, 0, rgb, 0, NULL);
    if (!ok) {
        snprintf(err, errn, "cannot write PNG '%s': %s", path, img.message);
        png_image_free(&img);
        return -1;
    }
    return 0;
}
