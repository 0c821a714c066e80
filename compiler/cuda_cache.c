/* cuda_cache.c — the on-disk cache of NVRTC results (PTX + cubin), one file
 * per key under $XDG_CACHE_HOME/maskjit (fallback ~/.cache/maskjit).  The entry
 * format is described in cuda_internal.h; entries are written to a temporary
 * file in the same directory and renamed into place, so a reader never sees a
 * half-written entry, and a damaged entry is detected by its checksum. */
#include "cuda_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char MAGIC[8] = {'M', 'J', 'C', 'U', 'D', 'A', 0, 1};

/* mkdir -p; returns 0 if path is (now) a directory. */
static int mkdir_parents(char *path) {
    for (char *s = path + 1; *s; s++) {
        if (*s != '/') continue;
        *s = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST) { *s = '/'; return -1; }
        *s = '/';
    }
    if (mkdir(path, 0755) != 0 && errno != EEXIST) return -1;
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode) ? 0 : -1;
}

char *mjc_cache_dir(const char *dir) {
    mjc_buf b = {0};
    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    if (dir && *dir) mjc_buf_puts(&b, dir);
    else if (xdg && *xdg == '/') mjc_buf_printf(&b, "%s/maskjit", xdg);
    else if (home && *home) mjc_buf_printf(&b, "%s/.cache/maskjit", home);
    else return NULL;
    char *path = mjc_buf_take(&b);
    if (mkdir_parents(path) != 0) { free(path); return NULL; }
    return path;
}

char *mjc_cache_path(const char *dir, const uint8_t key[32]) {
    char hex[65];
    mjc_hex(key, 32, hex);
    mjc_buf b = {0};
    mjc_buf_printf(&b, "%s/%s.mjc", dir, hex);
    return mjc_buf_take(&b);
}

static void put_u32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> 8 * i); }
static void put_u64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> 8 * i); }
static uint32_t get_u32(const uint8_t *p) { uint32_t v = 0; for (int i = 3; i >= 0; i--) v = v << 8 | p[i]; return v; }
static uint64_t get_u64(const uint8_t *p) { uint64_t v = 0; for (int i = 7; i >= 0; i--) v = v << 8 | p[i]; return v; }

static void payload_hash(const char *ptx, size_t np, const char *cubin, size_t nc, uint8_t out[32]) {
    mjc_sha256 s;
    mjc_sha256_init(&s);
    if (np) mjc_sha256_update(&s, ptx, np);
    if (nc) mjc_sha256_update(&s, cubin, nc);
    mjc_sha256_final(&s, out);
}

/* Reads exactly n bytes (n may be 0); returns 0 or -1 (short file, error). */
static int read_all(int fd, void *buf, size_t n) {
    uint8_t *p = buf;
    while (n > 0) {
        ssize_t k = read(fd, p, n);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

static char *dup_bytes(const uint8_t *p, size_t n) {
    char *s = malloc(n + 1);
    if (!s) abort();
    if (n) memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

/* Checks the header of an entry of total size fsize; sets the payload sizes. */
static int header_ok(const uint8_t *h, uint64_t fsize, const uint8_t key[32], uint64_t *np,
                     uint64_t *nc) {
    if (memcmp(h, MAGIC, 8) != 0) return 0;
    if (get_u32(h + 8) != MJC_CACHE_VERSION || get_u32(h + 12) != MJC_CACHE_HEADER) return 0;
    if (memcmp(h + 16, key, 32) != 0) return 0;
    *np = get_u64(h + 48);
    *nc = get_u64(h + 56);
    uint64_t body = fsize - MJC_CACHE_HEADER;
    return *np <= body && *nc <= body && *np + *nc == body;
}

mjc_cache_status mjc_cache_load(const char *path, const uint8_t key[32], char **ptx,
                                size_t *ptx_size, char **cubin, size_t *cubin_size) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return MJC_CACHE_MISS;
    struct stat st;
    uint8_t h[MJC_CACHE_HEADER];
    uint64_t np = 0, nc = 0;
    if (fstat(fd, &st) != 0 || (uint64_t)st.st_size < MJC_CACHE_HEADER ||
        (uint64_t)st.st_size > ((uint64_t)1 << 32) || read_all(fd, h, sizeof h) != 0 ||
        !header_ok(h, (uint64_t)st.st_size, key, &np, &nc)) {
        close(fd);
        return MJC_CACHE_CORRUPT;
    }
    uint8_t *body = malloc(np + nc + 1);
    if (!body) abort();
    int bad = read_all(fd, body, np + nc) != 0;
    close(fd);
    uint8_t sum[32];
    if (!bad) {
        payload_hash((const char *)body, np, (const char *)body + np, nc, sum);
        bad = memcmp(sum, h + 64, 32) != 0;
    }
    if (bad) { free(body); return MJC_CACHE_CORRUPT; }
    *ptx = dup_bytes(body, np);
    *ptx_size = np;
    *cubin = dup_bytes(body + np, nc);
    *cubin_size = nc;
    free(body);
    return MJC_CACHE_HIT;
}

static int write_all(int fd, const void *buf, size_t n) {
    const uint8_t *p = buf;
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

int mjc_cache_store(const char *path, const uint8_t key[32], const char *ptx, size_t ptx_size,
                    const char *cubin, size_t cubin_size) {
    static unsigned counter;
    uint8_t h[MJC_CACHE_HEADER] = {0};
    memcpy(h, MAGIC, 8);
    put_u32(h + 8, MJC_CACHE_VERSION);
    put_u32(h + 12, MJC_CACHE_HEADER);
    memcpy(h + 16, key, 32);
    put_u64(h + 48, ptx_size);
    put_u64(h + 56, cubin_size);
    payload_hash(ptx, ptx_size, cubin, cubin_size, h + 64);
    mjc_buf tb = {0};
    mjc_buf_printf(&tb, "%s.tmp.%ld.%u", path, (long)getpid(), __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED));
    char *tmp = mjc_buf_take(&tb);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    int rc = -1;
    if (fd >= 0) {
        rc = write_all(fd, h, sizeof h) || write_all(fd, ptx, ptx_size) ||
             write_all(fd, cubin, cubin_size) ? -1 : 0;
        if (close(fd) != 0) rc = -1;
        if (rc == 0 && rename(tmp, path) != 0) rc = -1;
        if (rc != 0) unlink(tmp);
    }
    free(tmp);
    return rc;
}
