/* source.c — loading and validating source text (see source.h). */
#include "source.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

mj_source *mj_source_from_text(mj_arena *a, const char *name, const char *text, size_t len) {
    mj_source *s = mj_arena_alloc(a, sizeof *s);
    s->path = mj_arena_strdup(a, name);
    s->text = mj_arena_strndup(a, text, len);
    s->len = len;
    return s;
}

mj_source *mj_source_load(mj_arena *a, const char *path, bool regular_only, char *err, size_t errn) {
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errn, "cannot open '%s': %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || (regular_only && !S_ISREG(st.st_mode)) || S_ISDIR(st.st_mode)) {
        close(fd);
        snprintf(err, errn, "cannot read '%s': not a regular file", path);
        return NULL;
    }
    size_t cap = 4096, len = 0;
    char *buf = mj_arena_alloc(a, cap + 1);
    for (;;) {
        if (len == cap) {
            if (cap >= MJ_SOURCE_MAX_BYTES) {
                close(fd);
                snprintf(err, errn, "'%s' is too large (more than %zu bytes)", path, MJ_SOURCE_MAX_BYTES);
                return NULL;
            }
            char *nb = mj_arena_alloc(a, cap * 2 + 1);   /* the old chunk stays in the arena */
            memcpy(nb, buf, len);
            buf = nb;
            cap *= 2;
        }
        ssize_t k = read(fd, buf + len, cap - len);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) {
            int e = errno;
            close(fd);
            snprintf(err, errn, "cannot read '%s': %s", path,
                     e == EAGAIN ? "no data available (not a regular file?)" : strerror(e));
            return NULL;
        }
        if (k == 0) break;
        len += (size_t)k;
    }
    close(fd);
    buf[len] = 0;
    mj_source *s = mj_arena_alloc(a, sizeof *s);
    s->path = mj_arena_strdup(a, path);
    s->text = buf;
    s->len = len;
    return s;
}

/* Length of the valid UTF-8 sequence at p (n bytes left), or 0 if invalid. */
static size_t utf8_seq_len(const unsigned char *p, size_t n) {
    unsigned c = p[0];
    if (c < 0x80) return 1;
    size_t k;
    uint32_t cp, min;
    if (c >= 0xC2 && c <= 0xDF) { k = 2; cp = c & 0x1F; min = 0x80; }
    else if (c >= 0xE0 && c <= 0xEF) { k = 3; cp = c & 0x0F; min = 0x800; }
    else if (c >= 0xF0 && c <= 0xF4) { k = 4; cp = c & 0x07; min = 0x10000; }
    else return 0;
    if (n < k) return 0;
    for (size_t i = 1; i < k; i++) {
        if ((p[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return k;
}

int mj_source_validate(const mj_source *s, size_t *bad_off, char *msg, size_t msgn) {
    if (s->len > MJ_SOURCE_MAX_BYTES) {
        *bad_off = 0;
        snprintf(msg, msgn, "file too large (more than %zu bytes)", MJ_SOURCE_MAX_BYTES);
        return -1;
    }
    const unsigned char *p = (const unsigned char *)s->text;
    for (size_t i = 0; i < s->len;) {
        if (p[i] == 0) {
            *bad_off = i;
            snprintf(msg, msgn, "NUL byte in source (byte offset %zu)", i);
            return -1;
        }
        size_t k = utf8_seq_len(p + i, s->len - i);
        if (k == 0) {
            *bad_off = i;
            snprintf(msg, msgn, "invalid UTF-8 byte 0x%02x (byte offset %zu)", p[i], i);
            return -1;
        }
        i += k;
    }
    return 0;
}

mj_srcloc mj_source_loc(const mj_source *s, size_t offset, int32_t len) {
    mj_srcloc l = {s, 1, 1, len > 0 ? len : 1};
    if (offset > s->len) offset = s->len;
    size_t line_start = 0;
    for (size_t i = 0; i < offset; i++)
        if (s->text[i] == '\n') { l.line++; line_start = i + 1; }
    l.col = (int32_t)(offset - line_start + 1);
    return l;
}
