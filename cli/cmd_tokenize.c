/* cmd_tokenize.c — `maskjit tokenize`: encodes lines of standard input to
 * space-separated token ids, one output line per input line, or (--decode)
 * decodes lines of space-separated ids to text.
 *
 * Input lines lose only their final '\n' (a '\r' before it is kept, as part of
 * the text).  Decoded text is printed raw followed by '\n', so the output has
 * one line per input line only when the decoded text holds no newline; with
 * --escape the text is printed C-escaped (\n \r \t \\ and \xNN for other
 * control bytes), always one line per input line. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "tokenizer.h"

static void tokenize_usage(FILE *out) {
    fputs("usage: maskjit tokenize --tokenizer PATH [--bos] [--decode [--skip-special] [--escape]]\n"
          "\n"
          "Reads lines on standard input and prints one line per input line:\n"
          "  encode (default): the line's token ids, space-separated\n"
          "  --decode:         the text of a line of space-separated ids\n"
          "\n"
          "options:\n"
          "  --tokenizer PATH  a tokenizer.json, a model directory holding one, or a .gguf file\n"
          "  --bos             prepend the model's BOS id when encoding (if it has one)\n"
          "  --decode          decode ids to text instead of encoding\n"
          "  --skip-special    when decoding, drop special tokens\n"
          "  --escape          when decoding, print the text C-escaped (\\n \\r \\t \\\\ \\xNN) so that\n"
          "                    text holding newlines still gives one output line per input line;\n"
          "                    without it the text is printed raw\n"
          "  --bench           read all of standard input, encode it line by line and then as one\n"
          "                    text (best of 3 runs each), print the throughput instead of ids\n"
          "  -h, --help        this help\n"
          "\n"
          "Input lines lose only their final newline.  Text is encoded exactly as HF `tokenizers`\n"
          "encodes it (special-token text is matched as the special token); invalid UTF-8 bytes are\n"
          "encoded as their byte-level tokens.  Decoding replaces invalid UTF-8 with U+FFFD.\n",
          out);
}

/* Print s[0..n) C-escaped. */
static void print_escaped(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n') fputs("\\n", stdout);
        else if (c == '\r') fputs("\\r", stdout);
        else if (c == '\t') fputs("\\t", stdout);
        else if (c == '\\') fputs("\\\\", stdout);
        else if (c < 0x20 || c == 0x7f) printf("\\x%02x", c);
        else putchar(c);
    }
}

static int encode_line(const mj_tokenizer *t, const char *line, size_t len, bool bos) {
    int32_t *ids;
    size_t n;
    if (mj_tokenizer_encode(t, line, len, bos, &ids, &n) != 0) {
        fputs("maskjit tokenize: out of memory\n", stderr);
        return 1;
    }
    for (size_t i = 0; i < n; i++) printf(i ? " %d" : "%d", (int)ids[i]);
    putchar('\n');
    free(ids);
    return 0;
}

/* Parse a line of space-separated ids into *ids (malloc'd).  -1 on bad input. */
static int parse_ids(const char *line, int32_t **ids, size_t *n) {
    size_t cap = 16;
    *n = 0;
    *ids = malloc(cap * sizeof **ids);
    if (!*ids) return -1;
    const char *p = line;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\r') p++;
        if (!*p) return 0;
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (end == p || errno || v < INT32_MIN || v > INT32_MAX || (*end && *end != ' ' && *end != '\t' && *end != '\r'))
            return -1;
        if (*n == cap) {
            int32_t *nv = realloc(*ids, cap * 2 * sizeof *nv);
            if (!nv) return -1;
            *ids = nv;
            cap *= 2;
        }
        (*ids)[(*n)++] = (int32_t)v;
        p = end;
    }
}

static int decode_line(const mj_tokenizer *t, const char *line, long lineno, bool skip, bool esc) {
    int32_t *ids;
    size_t n;
    if (parse_ids(line, &ids, &n) != 0) {
        free(ids);
        fprintf(stderr, "maskjit tokenize: line %ld: expected space-separated integer ids\n", lineno);
        return 1;
    }
    size_t len;
    char *s = mj_tokenizer_decode_len(t, ids, n, skip, &len);
    free(ids);
    if (!s) {
        fputs("maskjit tokenize: out of memory\n", stderr);
        return 1;
    }
    if (esc) print_escaped(s, len);
    else fwrite(s, 1, len, stdout);
    putchar('\n');
    free(s);
    return 0;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Encode buf line by line (mode 0) or whole (mode 1); seconds taken, or -1. */
static double bench_once(const mj_tokenizer *t, const char *buf, size_t len, int mode, size_t *n_tokens) {
    double t0 = now_s();
    *n_tokens = 0;
    size_t pos = 0;
    while (pos < len) {
        const char *nl = mode == 0 ? memchr(buf + pos, '\n', len - pos) : NULL;
        size_t end = nl ? (size_t)(nl - buf) : len;
        int32_t *ids;
        size_t n;
        if (mj_tokenizer_encode(t, buf + pos, end - pos, false, &ids, &n) != 0) return -1;
        free(ids);
        *n_tokens += n;
        pos = end + 1;
    }
    return now_s() - t0;
}

/* --bench: throughput of encoding standard input. */
static int run_bench(const mj_tokenizer *t) {
    size_t cap = 1 << 20, len = 0, got;
    char *buf = malloc(cap);
    while (buf && (got = fread(buf + len, 1, cap - len, stdin)) > 0) {
        len += got;
        if (len == cap) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb) free(buf);
            buf = nb;
        }
    }
    if (!buf) {
        fputs("maskjit tokenize: out of memory\n", stderr);
        return 1;
    }
    static const char *modes[2] = {"line by line", "as one text"};
    for (int mode = 0; mode < 2; mode++) {
        double best = 1e30;
        size_t n_tokens = 0;
        for (int rep = 0; rep < 3; rep++) {
            double s = bench_once(t, buf, len, mode, &n_tokens);
            if (s < 0) {
                free(buf);
                fputs("maskjit tokenize: out of memory\n", stderr);
                return 1;
            }
            if (s < best) best = s;
        }
        printf("maskjit %s: %zu bytes, %zu tokens, %.4f s, %.2f MB/s\n", modes[mode], len, n_tokens, best,
               (double)len / 1e6 / (best > 0 ? best : 1e-9));
    }
    free(buf);
    return 0;
}

int cmd_tokenize(int argc, char **argv) {
    static const struct option opts[] = {
        {"tokenizer", required_argument, 0, 't'}, {"decode", no_argument, 0, 'd'},
        {"bos", no_argument, 0, 'b'},             {"skip-special", no_argument, 0, 's'},
        {"escape", no_argument, 0, 'e'},          {"help", no_argument, 0, 'h'},
        {"bench", no_argument, 0, 'B'},
        {0, 0, 0, 0}};
    const char *path = NULL;
    bool decode = false, bos = false, skip = false, esc = false, bench = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 't': path = optarg; break;
        case 'd': decode = true; break;
        case 'b': bos = true; break;
        case 's': skip = true; break;
        case 'e': esc = true; break;
        case 'B': bench = true; break;
        case 'h': tokenize_usage(stdout); return 0;
        default: tokenize_usage(stderr); return 2;
        }
    }
    if (!path || optind < argc) {
        fputs(!path ? "maskjit tokenize: --tokenizer PATH is required\n" : "maskjit tokenize: unexpected argument\n",
              stderr);
        tokenize_usage(stderr);
        return 2;
    }
    char err[512];
    mj_tokenizer *t = mj_tokenizer_load(path, err, sizeof err);
    if (!t) {
        fprintf(stderr, "maskjit tokenize: %s\n", err);
        return 1;
    }
    if (bench) {
        int brc = run_bench(t);
        mj_tokenizer_free(t);
        return brc;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long lineno = 0;
    int rc = 0;
    while (rc == 0 && (len = getline(&line, &cap, stdin)) >= 0) {
        lineno++;
        if (len > 0 && line[len - 1] == '\n') line[--len] = 0;
        rc = decode ? decode_line(t, line, lineno, skip, esc) : encode_line(t, line, (size_t)len, bos);
    }
    free(line);
    mj_tokenizer_free(t);
    if (fflush(stdout) != 0) rc = 1;
    return rc;
}
