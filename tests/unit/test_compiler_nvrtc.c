/* test_compiler_nvrtc.c — the CUDA back end without a GPU: SHA-256 test
 * vectors; the emitted device code (bounds-checked reads, semantics helpers,
 * exact float constants, memoised lets) for a hand-built program using every
 * node kind, compiled by NVRTC; every examples/NAME.mask compiled for sm_80 and
 * sm_90a; the disk cache (second compile is a hit with no NVRTC call; a
 * corrupted, truncated or foreign entry is detected and rebuilt); arch choice
 * and errors.  Under AddressSanitizer only a subset of the examples is
 * compiled (NVRTC is slow there) unless MJ_NVRTC_FULL=1. */
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compile.h"
#include "cuda_backend.h"
#include "cuda_internal.h"
#include "ir_build.h"
#include "support/all_ops.h"
#include "support/testlib.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

static char cache_root[256];

/* ---- helpers ------------------------------------------------------------------------ */

static void rm_tree(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *de;
    char path[1024];
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

/* The single .mjc entry of dir (static buffer), or NULL when not exactly one. */
static const char *only_entry(const char *dir) {
    static char path[1024];
    DIR *d = opendir(dir);
    int n = 0;
    if (!d) return NULL;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t k = strlen(de->d_name);
        if (k > 4 && !strcmp(de->d_name + k - 4, ".mjc")) {
            snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
            n++;
        }
    }
    closedir(d);
    return n == 1 ? path : NULL;
}

static long file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* ---- SHA-256 -------------------------------------------------------------------------- */

static void sha_hex(const char *msg, size_t n, char out[65]) {
    mjc_sha256 s;
    uint8_t d[32];
    mjc_sha256_init(&s);
    mjc_sha256_update(&s, msg, n);
    mjc_sha256_final(&s, d);
    mjc_hex(d, 32, out);
}

static void test_sha256(void) {
    char h[65];
    sha_hex("", 0, h);
    CHECK(!strcmp(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
    sha_hex("abc", 3, h);
    CHECK(!strcmp(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    sha_hex(m, strlen(m), h);
    CHECK(!strcmp(h, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"));
    /* one million 'a', fed in uneven pieces */
    mjc_sha256 s;
    uint8_t d[32];
    char chunk[997];
    memset(chunk, 'a', sizeof chunk);
    mjc_sha256_init(&s);
    size_t left = 1000000;
    while (left) {
        size_t k = left < sizeof chunk ? left : sizeof chunk;
        mjc_sha256_update(&s, chunk, k);
        left -= k;
    }
    mjc_sha256_final(&s, d);
    mjc_hex(d, 32, h);
    CHECK(!strcmp(h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"));
}

/* ---- a hand-built program that uses every node kind ----------------------------------- */

static void build_all_ops(mj_program *p) {
    all_ops_header(p, "all_ops.mask");
    mj_expr *q = bt(MJ_B_Q), *kv = bt(MJ_B_KV), *h = bt(MJ_B_H);
    mj_expr *d = bin(MJ_OP_SUB, q, kv);                     /* shared: a `let` */
    mj_expr *ints = bin(MJ_OP_ADD, bin(MJ_OP_MUL, bin(MJ_OP_DIV, d, par(0, MJ_T_INT)),
                                        bin(MJ_OP_MOD, d, c_i(INT32_MIN))),
                        un(MJ_OP_NEG, call(MJ_FN_ABS, d, NULL, NULL)));
    ints = call(MJ_FN_CLAMP, call(MJ_FN_MAX, ints, par_at(2, MJ_T_INT, d), NULL), c_i(-5),
                call(MJ_FN_MIN, bt(MJ_B_SEQ_LEN), bt(MJ_B_N_HEADS), NULL));
    mj_expr *fl = bin(MJ_OP_ADD, to_f(d), bin(MJ_OP_MOD, tok(1, MJ_T_FLOAT, kv), c_f(0.1f)));
    fl = bin(MJ_OP_DIV, bin(MJ_OP_MUL, fl, call(MJ_FN_EXP, par_at(1, MJ_T_FLOAT, h), NULL, NULL)),
             call(MJ_FN_SQRT, call(MJ_FN_ABS, heads_at(0, h), NULL, NULL), NULL, NULL));
    fl = call(MJ_FN_CLAMP, call(MJ_FN_TANH, fl, NULL, NULL), c_f(-INFINITY), c_f(1e-3f));
    mj_expr *cond = bin(MJ_OP_AND, bin(MJ_OP_LE, kv, q),
                        bin(MJ_OP_OR, bin(MJ_OP_EQ, tok(0, MJ_T_INT, q), tok(0, MJ_T_INT, kv)),
                            un(MJ_OP_NOT, tok(2, MJ_T_BOOL, kv))));
    cond = bin(MJ_OP_AND, cond, bin(MJ_OP_NE, par(3, MJ_T_BOOL), bin(MJ_OP_GT, fl, c_f(-2.0f))));
    cond = bin(MJ_OP_OR, cond, bin(MJ_OP_GE, ints, bt(MJ_B_PROMPT_LEN)));
    p->mask = sel(bin(MJ_OP_LT, bt(MJ_B_B), c_i(0)), c_b(0), cond);
    p->score = bin(MJ_OP_SUB, bt(MJ_B_SCORE), un(MJ_OP_NEG, fl));
    p->position = to_i(call(MJ_FN_LOG, to_f(bin(MJ_OP_ADD, q, c_i(1))), NULL, NULL));
}

static void test_emit(void) {
    mj_program p;
    build_all_ops(&p);
    char *src = mj_cuda_emit(&p);
    CHECK(src != NULL);
    if (!src) return;
    /* bounds-checked reads and defined integer semantics */
    CHECK(strstr(src, "mj_tokens_at(&env, 0, q, mjc_vi((-1)))") != NULL);
    CHECK(strstr(src, "mj_param_at(&env, 5, 2, ") != NULL);
    CHECK(strstr(src, "mj_heads_at(&env, 0, h)") != NULL);
    CHECK(strstr(src, "mj_idiv(") && strstr(src, "mj_imod(") && strstr(src, "mj_ineg("));
    CHECK(strstr(src, "mj_f2i(") && strstr(src, "fmodf(") && strstr(src, "mj_fclamp("));
    CHECK(strstr(src, "env.params[") != NULL);
    /* the interval classifier reads through the bounded summary helpers */
    CHECK(strstr(src, "mj_ii_tokens_at(&env, &s, 0,") != NULL);
    CHECK(strstr(src, "mj_fi_heads_at(&env, 0,") != NULL);
    /* exact constants: 0.1f and INT_MIN by bit pattern / without overflow */
    CHECK(strstr(src, "__int_as_float(0x3dcccccdu)") != NULL);
    CHECK(strstr(src, "(-2147483647 - 1)") != NULL);
    CHECK(strstr(src, "__int_as_float(0xff800000u)") != NULL);
    /* q - kv is used many times: exactly one local for it in mj_mask */
    CHECK(strstr(src, "const int t0 = mj_isub(q, kv);") != NULL);
    CHECK(strstr(src, "#define MJ_HAS_SCORE 1") && strstr(src, "#define MJ_USES_H 1"));
    free(src);
    mj_diags d;
    mj_diags_init(&d);
    mj_cuda_opts o = {.arch = "sm_80", .no_cache = true};
    mj_cuda_artifact a;
    int rc = mj_cuda_compile(&p, &o, &a, &d);
    CHECKF(rc == 0, "%s", a.log ? a.log : "");
    CHECK(a.ptx_size > 0 && a.cubin_size > 0 && !a.cache_hit);
    CHECK(a.ptx && strstr(a.ptx, ".entry mj_grid_eval") != NULL);
    CHECK(a.cubin_size > 4 && !memcmp(a.cubin, "\177ELF", 4));
    mj_cuda_artifact_free(&a);
    mj_diags_free(&d);
}

/* ---- cache ------------------------------------------------------------------------------ */

static int compile_into(const mj_program *p, const char *dir, const char *arch,
                        mj_cuda_artifact *a) {
    mj_diags d;
    mj_diags_init(&d);
    mj_cuda_opts o = {.arch = arch, .cache_dir = dir};
    int rc = mj_cuda_compile(p, &o, a, &d);
    if (rc) mj_diags_print(&d, stderr);
    mj_diags_free(&d);
    return rc;
}

/* Damage the entry with f, then check the next compile rebuilds it and the
 * one after that hits again. */
static void check_rebuild(const mj_program *p, const char *dir, const char *what,
                          void (*damage)(const char *path)) {
    const char *entry = only_entry(dir);
    CHECKF(entry != NULL, "%s: no single entry", what);
    if (!entry) return;
    char path[1024];
    snprintf(path, sizeof path, "%s", entry);
    long good = file_size(path);
    damage(path);
    mj_cuda_artifact a;
    int64_t calls = mjc_nvrtc_calls();
    CHECK(compile_into(p, dir, "sm_80", &a) == 0);
    CHECKF(!a.cache_hit && mjc_nvrtc_calls() == calls + 1, "%s not detected", what);
    CHECKF(file_size(path) == good, "%s: entry not rewritten", what);
    mj_cuda_artifact_free(&a);
    calls = mjc_nvrtc_calls();
    CHECK(compile_into(p, dir, "sm_80", &a) == 0);
    CHECKF(a.cache_hit && mjc_nvrtc_calls() == calls, "%s: rebuilt entry not hit", what);
    mj_cuda_artifact_free(&a);
}

static void flip_payload(const char *path) {
    FILE *f = fopen(path, "r+b");
    if (!f) return;
    fseek(f, -100, SEEK_END);
    int c = fgetc(f);
    fseek(f, -100, SEEK_END);
    fputc(c ^ 0x5a, f);
    fclose(f);
}
static void flip_header(const char *path) {
    FILE *f = fopen(path, "r+b");
    if (!f) return;
    fseek(f, 50, SEEK_SET);   /* inside the ptx size field */
    fputc(0x7f, f);
    fclose(f);
}
static void truncate_to(const char *path, long size) {
    CHECKF(truncate(path, size) == 0, "truncate %s to %ld bytes", path, size);
}
static void truncate_half(const char *path) { truncate_to(path, (long)(file_size(path) / 2)); }
static void truncate_header(const char *path) { truncate_to(path, 40); }
static void make_empty(const char *path) { truncate_to(path, 0); }
static void append_junk(const char *path) {
    FILE *f = fopen(path, "ab");
    if (f) { fputs("junk", f); fclose(f); }
}

static void test_cache(void) {
    mj_program p;
    build_all_ops(&p);
    char dir[512];
    snprintf(dir, sizeof dir, "%s/cache1", cache_root);
    mj_cuda_artifact a, b;
    int64_t calls = mjc_nvrtc_calls();
    CHECK(compile_into(&p, dir, "sm_80", &a) == 0);
    CHECK(!a.cache_hit && mjc_nvrtc_calls() == calls + 1);
    CHECK(compile_into(&p, dir, "sm_80", &b) == 0);
    CHECK(b.cache_hit && mjc_nvrtc_calls() == calls + 1);
    CHECK(b.ptx_size == a.ptx_size && b.cubin_size == a.cubin_size);
    CHECK(b.ptx && a.ptx && !memcmp(a.ptx, b.ptx, a.ptx_size));
    CHECK(b.cubin && a.cubin && !memcmp(a.cubin, b.cubin, a.cubin_size));
    CHECK(b.source && a.source && !strcmp(a.source, b.source));
    CHECKF(b.compile_ms < 50.0, "cache hit took %.1f ms", b.compile_ms);
    printf("all_ops sm_80: cold %.1f ms, cache hit %.2f ms\n", a.compile_ms, b.compile_ms);
    mj_cuda_artifact_free(&a);
    mj_cuda_artifact_free(&b);
    check_rebuild(&p, dir, "flipped payload byte", flip_payload);
    check_rebuild(&p, dir, "damaged header", flip_header);
    check_rebuild(&p, dir, "truncated entry", truncate_half);
    check_rebuild(&p, dir, "truncated header", truncate_header);
    check_rebuild(&p, dir, "empty entry", make_empty);
    check_rebuild(&p, dir, "trailing junk", append_junk);
    /* a different arch or define is a different key */
    calls = mjc_nvrtc_calls();
    CHECK(compile_into(&p, dir, "sm_90a", &a) == 0);
    CHECK(!a.cache_hit && mjc_nvrtc_calls() == calls + 1);
    mj_cuda_artifact_free(&a);
    /* --no-cache never reads */
    mj_diags d;
    mj_diags_init(&d);
    mj_cuda_opts o = {.arch = "sm_80", .cache_dir = dir, .no_cache = true};
    CHECK(mj_cuda_compile(&p, &o, &a, &d) == 0 && !a.cache_hit);
    mj_cuda_artifact_free(&a);
    mj_diags_free(&d);
    rm_tree(dir);
}

/* ---- options and errors ------------------------------------------------------------------ */

static void test_errors(void) {
    mj_program p;
    build_all_ops(&p);
    char arch[16], err[256];
    CHECK(mjc_pick_arch(NULL, arch, sizeof arch, err, sizeof err) == 0 && !strcmp(arch, "sm_90a"));
    CHECK(mjc_pick_arch("sm_80", arch, sizeof arch, err, sizeof err) == 0 && !strcmp(arch, "sm_80"));
    CHECK(mjc_pick_arch("sm_9", arch, sizeof arch, err, sizeof err) != 0);
    CHECK(mjc_pick_arch("compute_90", arch, sizeof arch, err, sizeof err) != 0);
    CHECK(mjc_pick_arch("sm_90ab", arch, sizeof arch, err, sizeof err) != 0);
    CHECK(mjc_pick_arch("sm_12", arch, sizeof arch, err, sizeof err) != 0 && strstr(err, "not supported"));
    mj_diags d;
    mj_diags_init(&d);
    mj_cuda_artifact a;
    mj_cuda_opts o = {.arch = "sm_77x", .no_cache = true};
    CHECK(mj_cuda_compile(&p, &o, &a, &d) != 0 && d.n_errors == 1);
    mj_cuda_artifact_free(&a);
    o = (mj_cuda_opts){.arch = "sm_80", .template_name = "no_such_template", .no_cache = true};
    CHECK(mj_cuda_compile(&p, &o, &a, &d) != 0 && d.n_errors == 2);
    mj_cuda_artifact_free(&a);
    o = (mj_cuda_opts){.arch = "sm_80", .defines = "A=1 B;rm", .no_cache = true};
    CHECK(mj_cuda_compile(&p, &o, &a, &d) != 0 && d.n_errors == 3);
    mj_cuda_artifact_free(&a);
    /* a define that breaks the template: the NVRTC log comes back as an error */
    o = (mj_cuda_opts){.arch = "sm_80", .defines = "mj_env=1", .no_cache = true};
    CHECK(mj_cuda_compile(&p, &o, &a, &d) != 0 && d.n_errors == 4);
    CHECK(a.log && strlen(a.log) > 0);
    mj_cuda_artifact_free(&a);
    mj_diags_free(&d);
}

/* ---- every example, both archs ------------------------------------------------------------ */

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_examples(void) {
    const char *dir = mj_test_path("examples");
    DIR *d = opendir(dir);
    char *names[256];
    int n = 0;
    struct dirent *de;
    while (d && (de = readdir(d)) && n < 256) {
        size_t k = strlen(de->d_name);
        if (k > 5 && !strcmp(de->d_name + k - 5, ".mask")) names[n++] = strdup(de->d_name);
    }
    if (d) closedir(d);
    qsort(names, (size_t)n, sizeof *names, cmp_str);
    CHECKF(n >= 14, "only %d examples", n);
    const char *full = getenv("MJ_NVRTC_FULL");
    int limit = UNDER_ASAN && !(full && *full == '1') ? 3 : n;
    if (limit < n) printf("ASan build: compiling %d of %d examples (MJ_NVRTC_FULL=1 for all)\n", limit, n);
    char cdir[512];
    snprintf(cdir, sizeof cdir, "%s/examples", cache_root);
    double cold = 0, hit = 0;
    int compiled = 0;
    for (int i = 0; i < n; i++) {
        if (i < limit) {
            char path[1024];
            snprintf(path, sizeof path, "%s/%s", dir, names[i]);
            mj_diags dg;
            mj_diags_init(&dg);
            mj_program *p = mj_compile_file(path, NULL, &dg);
            CHECKF(p != NULL, "%s does not compile", names[i]);
            if (!p) mj_diags_print(&dg, stderr);
            mj_diags_free(&dg);
            static const char *archs[] = {"sm_80", "sm_90a"};
            for (int k = 0; p && k < 2; k++) {
                mj_cuda_artifact a, b;
                int64_t calls = mjc_nvrtc_calls();
                CHECKF(compile_into(p, cdir, archs[k], &a) == 0, "%s %s", names[i], archs[k]);
                CHECKF(!a.cache_hit && a.cubin_size > 0 && a.ptx_size > 0, "%s %s", names[i], archs[k]);
                CHECKF(compile_into(p, cdir, archs[k], &b) == 0 && b.cache_hit &&
                       mjc_nvrtc_calls() == calls + 1, "%s %s: no cache hit", names[i], archs[k]);
                CHECK(b.cubin_size == a.cubin_size && !memcmp(a.cubin, b.cubin, a.cubin_size));
                cold += a.compile_ms;
                hit += b.compile_ms;
                compiled++;
                mj_cuda_artifact_free(&a);
                mj_cuda_artifact_free(&b);
            }
            if (p) mj_program_free(p);
        }
        free(names[i]);
    }
    if (compiled)
        printf("examples: %d compiles, mean cold %.1f ms, mean cache hit %.2f ms (NVRTC %s)\n",
               compiled, cold / compiled, hit / compiled, mjc_nvrtc_version());
    rm_tree(cdir);
}

int main(void) {
    setenv("MJ_CUDA_NO_DRIVER", "1", 1);   /* the default arch must not depend on this machine */
    const char *base = getenv("MJ_BUILD_DIR");
    snprintf(cache_root, sizeof cache_root, "%s/nvrtc-test.XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(cache_root)) {
        snprintf(cache_root, sizeof cache_root, "/tmp/nvrtc-test.XXXXXX");
        if (!mkdtemp(cache_root)) { perror("mkdtemp"); return 1; }
    }
    test_sha256();
    test_emit();
    test_cache();
    test_errors();
    test_examples();
    rm_tree(cache_root);
    return mj_test_finish();
}
