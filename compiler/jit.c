/* jit.c — the CPU back end's public side (jit.h): LLVM initialisation (once,
 * thread-safe), building and optimising (-O2, new pass manager) the module of
 * a program, and ORC LLJIT compilation into the four native functions of
 * mask_fns.h.  The IR itself comes from jit_emit.c (mask, score, position) and
 * jit_classify.c (block classifier).
 *
 * Each mj_jit owns one LLJIT instance (and through it the module's context and
 * the generated code); nothing is shared between instances but LLVM's
 * process-wide target registry. */
#include "jit.h"

#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <llvm-c/Analysis.h>
#include <llvm-c/Core.h>
#include <llvm-c/Error.h>
#include <llvm-c/LLJIT.h>
#include <llvm-c/Orc.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>
#include <llvm-c/Transforms/PassBuilder.h>

#include "jit_internal.h"

struct mj_jit {
    LLVMOrcLLJITRef jit;
    mj_mask_fns fns;
};

/* ---- one-time LLVM set-up ---------------------------------------------------- */

static pthread_once_t llvm_once = PTHREAD_ONCE_INIT;
static int llvm_ready;
/* The host's triple, CPU and features, asked once (read-only afterwards;
 * released by the OS at exit). */
static char *host_triple, *host_cpu, *host_features;

static void llvm_init_once(void) {
    llvm_ready = !LLVMInitializeNativeTarget() && !LLVMInitializeNativeAsmPrinter();
    host_triple = LLVMGetDefaultTargetTriple();
    host_cpu = LLVMGetHostCPUName();
    host_features = LLVMGetHostCPUFeatures();
    llvm_ready = llvm_ready && host_triple && host_cpu && host_features;
}

static const char *prog_path(const mj_program *p) {
    return p && p->path ? p->path : "<program>";
}

/* Append "LLVM: <what>: <message of err>" to diags and consume err. */
static void diag_llvm_error(mj_diags *diags, const mj_program *p, const char *what,
                            LLVMErrorRef err) {
    char *msg = LLVMGetErrorMessage(err);
    mj_diag_add_file(diags, MJ_SEV_ERROR, prog_path(p), "LLVM JIT: %s: %s", what,
                     msg ? msg : "unknown error");
    LLVMDisposeErrorMessage(msg);
}

static int llvm_ensure_init(const mj_program *p, mj_diags *diags) {
    pthread_once(&llvm_once, llvm_init_once);
    if (llvm_ready) return 0;
    mj_diag_add_file(diags, MJ_SEV_ERROR, prog_path(p),
                     "LLVM JIT: the native target could not be initialised");
    return -1;
}

/* A target machine for the host CPU (its features included), or NULL with an
 * error in diags. */
static LLVMTargetMachineRef host_target_machine(const mj_program *p, LLVMCodeModel cm,
                                                mj_diags *diags) {
    LLVMTargetRef target = NULL;
    char *err = NULL;
    if (LLVMGetTargetFromTriple(host_triple, &target, &err)) {
        mj_diag_add_file(diags, MJ_SEV_ERROR, prog_path(p), "LLVM JIT: no target for %s: %s",
                         host_triple, err ? err : "?");
        LLVMDisposeMessage(err);
        return NULL;
    }
    LLVMTargetMachineRef tm =
        LLVMCreateTargetMachine(target, host_triple, host_cpu, host_features,
                                LLVMCodeGenLevelDefault, LLVMRelocDefault, cm);
    if (!tm)
        mj_diag_add_file(diags, MJ_SEV_ERROR, prog_path(p),
                         "LLVM JIT: cannot create a target machine for %s", host_triple);
    return tm;
}

/* ---- the module ------------------------------------------------------------------ */

/* Build, verify and optimise (-O2) the module of p in context ctx for target
 * machine tm.  Returns the module or NULL with an error in diags. */
static LLVMModuleRef module_build(LLVMContextRef ctx, LLVMTargetMachineRef tm,
                                  const mj_program *p, mj_diags *diags) {
    LLVMModuleRef m = LLVMModuleCreateWithNameInContext("maskjit", ctx);
    char *triple = LLVMGetTargetMachineTriple(tm);
    LLVMSetTarget(m, triple);
    LLVMDisposeMessage(triple);
    LLVMTargetDataRef td = LLVMCreateTargetDataLayout(tm);
    LLVMSetModuleDataLayout(m, td);
    LLVMDisposeTargetData(td);

    mj_cg g;
    mj_cg_init(&g, ctx, m, p);
    int rc = mj_cg_emit_scalar_fns(&g);
    if (rc == 0) rc = mj_cg_emit_classify(&g);
    mj_cg_dispose(&g);
    if (rc != 0) {
        mj_diag_add_file(diags, MJ_SEV_ERROR, prog_path(p), "LLVM JIT: out of memory");
        LLVMDisposeModule(m);
        return NULL;
    }
    char *msg = NULL;
    if (LLVMVerifyModule(m, LLVMReturnStatusAction, &msg)) {
        mj_diag_add_file(diags, MJ_SEV_ERROR, prog_path(p),
                         "LLVM JIT: internal error, invalid IR: %s", msg ? msg : "?");
        LLVMDisposeMessage(msg);
        LLVMDisposeModule(m);
        return NULL;
    }
    LLVMDisposeMessage(msg);
    LLVMPassBuilderOptionsRef opts = LLVMCreatePassBuilderOptions();
    LLVMErrorRef err = LLVMRunPasses(m, "default<O2>", tm, opts);
    LLVMDisposePassBuilderOptions(opts);
    if (err) {
        diag_llvm_error(diags, p, "optimisation failed", err);
        LLVMDisposeModule(m);
        return NULL;
    }
    return m;
}

const char *mj_jit_backend(void) {
    return "llvm";
}

char *mj_jit_emit_ir(const mj_program *p, mj_diags *diags) {
    if (!p || !p->mask) {
        mj_diag_add_file(diags, MJ_SEV_ERROR, prog_path(p), "LLVM JIT: no program");
        return NULL;
    }
    if (llvm_ensure_init(p, diags) != 0) return NULL;
    LLVMTargetMachineRef tm = host_target_machine(p, LLVMCodeModelDefault, diags);
    if (!tm) return NULL;
    LLVMContextRef ctx = LLVMContextCreate();
    LLVMModuleRef m = module_build(ctx, tm, p, diags);
    char *out = NULL;
    if (m) {
        char *text = LLVMPrintModuleToString(m);
        out = text ? strdup(text) : NULL;
        LLVMDisposeMessage(text);
        LLVMDisposeModule(m);
        if (!out) mj_diag_add_file(diags, MJ_SEV_ERROR, prog_path(p), "LLVM JIT: out of memory");
    }
    LLVMContextDispose(ctx);
    LLVMDisposeTargetMachine(tm);
    return out;
}

/* ---- layout self-check ------------------------------------------------------------ */

/* Compare the offsets and sizes of one IR struct type with the C compiler's. */
static int layout_cmp(LLVMTargetDataRef td, LLVMTypeRef t, const char *name, const size_t *offs,
                      unsigned n, size_t size, char *msg, size_t msgn) {
    if (LLVMCountStructElementTypes(t) != n || LLVMABISizeOfType(td, t) != size) {
        snprintf(msg, msgn, "%s: %u fields / %llu bytes in IR, %u / %zu in C", name,
                 LLVMCountStructElementTypes(t), (unsigned long long)LLVMABISizeOfType(td, t), n,
                 size);
        return -1;
    }
    for (unsigned i = 0; i < n; i++) {
        if (LLVMOffsetOfElement(td, t, i) != offs[i]) {
            snprintf(msg, msgn, "%s field %u: offset %llu in IR, %zu in C", name, i,
                     (unsigned long long)LLVMOffsetOfElement(td, t, i), offs[i]);
            return -1;
        }
    }
    return 0;
}

int mj_jit_check_layout(char *msg, size_t msgn) {
    mj_diags d;
    mj_diags_init(&d);
    int rc = llvm_ensure_init(NULL, &d);
    LLVMTargetMachineRef tm = rc == 0 ? host_target_machine(NULL, LLVMCodeModelDefault, &d) : NULL;
    mj_diags_free(&d);
    if (!tm) {
        snprintf(msg, msgn, "no LLVM target machine");
        return -1;
    }
    LLVMTargetDataRef td = LLVMCreateTargetDataLayout(tm);
    LLVMContextRef ctx = LLVMContextCreate();
    LLVMModuleRef m = LLVMModuleCreateWithNameInContext("layout", ctx);
    mj_cg g;
    mj_cg_init(&g, ctx, m, NULL);
    static const size_t env_off[] = {
        offsetof(mj_env, n_heads), offsetof(mj_env, prompt_len), offsetof(mj_env, seq_len),
        offsetof(mj_env, b), offsetof(mj_env, tokens_len), offsetof(mj_env, tokens_stride),
        offsetof(mj_env, params), offsetof(mj_env, tokens), offsetof(mj_env, heads)};
    static const size_t sum_off[] = {offsetof(mj_summary, block), offsetof(mj_summary, pad_),
                                     offsetof(mj_summary, n_blocks), offsetof(mj_summary, tok_min),
                                     offsetof(mj_summary, tok_max)};
    static const size_t reg_off[] = {offsetof(mj_region, q0), offsetof(mj_region, q1),
                                     offsetof(mj_region, kv0), offsetof(mj_region, kv1),
                                     offsetof(mj_region, h0), offsetof(mj_region, h1)};
    rc = layout_cmp(td, g.t_env, "mj_env", env_off, 9, sizeof(mj_env), msg, msgn);
    if (rc == 0)
        rc = layout_cmp(td, g.t_summary, "mj_summary", sum_off, 5, sizeof(mj_summary), msg, msgn);
    if (rc == 0)
        rc = layout_cmp(td, g.t_region, "mj_region", reg_off, 6, sizeof(mj_region), msg, msgn);
    mj_cg_dispose(&g);
    LLVMDisposeModule(m);
    LLVMContextDispose(ctx);
    LLVMDisposeTargetData(td);
    LLVMDisposeTargetMachine(tm);
    return rc;
}

/* ---- the JIT ------------------------------------------------------------------------ */

/* Bind every mj_rt_* name to its host address, and let the JIT resolve any
 * other external (e.g. a libm function the back end lowers to) in the
 * process. */
static LLVMErrorRef jit_define_runtime(LLVMOrcLLJITRef jit) {
    const mj_jit_rt_sym *a, *b;
    size_t na = mj_jit_scalar_rt_syms(&a), nb = mj_jit_classify_rt_syms(&b);
    LLVMOrcCSymbolMapPair *pairs = calloc(na + nb + 1, sizeof *pairs);
    if (!pairs) return LLVMCreateStringError("out of memory");
    for (size_t i = 0; i < na + nb; i++) {
        const mj_jit_rt_sym *s = i < na ? &a[i] : &b[i - na];
        pairs[i].Name = LLVMOrcLLJITMangleAndIntern(jit, s->name);
        pairs[i].Sym.Address = (LLVMOrcExecutorAddress)(uintptr_t)s->addr;
        pairs[i].Sym.Flags.GenericFlags =
            LLVMJITSymbolGenericFlagsExported | LLVMJITSymbolGenericFlagsCallable;
        pairs[i].Sym.Flags.TargetFlags = 0;
    }
    LLVMOrcJITDylibRef jd = LLVMOrcLLJITGetMainJITDylib(jit);
    LLVMOrcMaterializationUnitRef mu = LLVMOrcAbsoluteSymbols(pairs, na + nb);
    free(pairs);
    LLVMErrorRef err = LLVMOrcJITDylibDefine(jd, mu);
    if (err) {
        LLVMOrcDisposeMaterializationUnit(mu);
        return err;
    }
    LLVMOrcDefinitionGeneratorRef gen = NULL;
    err = LLVMOrcCreateDynamicLibrarySearchGeneratorForProcess(
        &gen, LLVMOrcLLJITGetGlobalPrefix(jit), NULL, NULL);
    if (err) return err;
    LLVMOrcJITDylibAddGenerator(jd, gen);
    return NULL;
}

/* Create the LLJIT for target machine tm (consumed). */
static LLVMErrorRef jit_create(LLVMTargetMachineRef tm, LLVMOrcLLJITRef *out) {
    LLVMOrcJITTargetMachineBuilderRef jtmb =
        LLVMOrcJITTargetMachineBuilderCreateFromTargetMachine(tm);
    LLVMOrcLLJITBuilderRef builder = LLVMOrcCreateLLJITBuilder();
    LLVMOrcLLJITBuilderSetJITTargetMachineBuilder(builder, jtmb);
    LLVMErrorRef err = LLVMOrcCreateLLJIT(out, builder);
    if (err) return err;
    err = jit_define_runtime(*out);
    if (err) {
        LLVMConsumeError(LLVMOrcDisposeLLJIT(*out));
        *out = NULL;
    }
    return err;
}

static LLVMErrorRef jit_lookup(LLVMOrcLLJITRef jit, const char *name, void **fn) {
    LLVMOrcExecutorAddress addr = 0;
    LLVMErrorRef err = LLVMOrcLLJITLookup(jit, &addr, name);
    *fn = err ? NULL : (void *)(uintptr_t)addr;
    return err;
}

/* Look up the functions the program has into j->fns. */
static LLVMErrorRef jit_lookup_all(mj_jit *j, const mj_program *p) {
    void *fn = NULL;
    LLVMErrorRef err = jit_lookup(j->jit, MJ_JIT_SYM_MASK, &fn);
    if (err) return err;
    j->fns.mask = (mj_mask_fn)fn;
    if ((err = jit_lookup(j->jit, MJ_JIT_SYM_CLASSIFY, &fn))) return err;
    j->fns.classify = (mj_classify_fn)fn;
    if (p->score) {
        if ((err = jit_lookup(j->jit, MJ_JIT_SYM_SCORE, &fn))) return err;
        j->fns.score = (mj_score_fn)fn;
    }
    if (p->position) {
        if ((err = jit_lookup(j->jit, MJ_JIT_SYM_POSITION, &fn))) return err;
        j->fns.position = (mj_position_fn)fn;
    }
    return NULL;
}

mj_jit *mj_jit_init(const mj_program *p, mj_diags *diags) {
    if (!p || !p->mask) {
        mj_diag_add_file(diags, MJ_SEV_ERROR, prog_path(p), "LLVM JIT: no program");
        return NULL;
    }
    if (llvm_ensure_init(p, diags) != 0) return NULL;
    mj_jit *j = calloc(1, sizeof *j);
    LLVMTargetMachineRef tm = j ? host_target_machine(p, LLVMCodeModelJITDefault, diags) : NULL;
    if (!tm) {
        if (!j) mj_diag_add_file(diags, MJ_SEV_ERROR, prog_path(p), "LLVM JIT: out of memory");
        free(j);
        return NULL;
    }
    LLVMOrcThreadSafeContextRef tsc = LLVMOrcCreateNewThreadSafeContext();
    LLVMModuleRef m = module_build(LLVMOrcThreadSafeContextGetContext(tsc), tm, p, diags);
    if (!m) {
        LLVMOrcDisposeThreadSafeContext(tsc);
        LLVMDisposeTargetMachine(tm);
        free(j);
        return NULL;
    }
    LLVMOrcThreadSafeModuleRef tsm = LLVMOrcCreateNewThreadSafeModule(m, tsc);
    LLVMOrcDisposeThreadSafeContext(tsc);
    LLVMErrorRef err = jit_create(tm, &j->jit);
    if (err) {
        LLVMOrcDisposeThreadSafeModule(tsm);
        diag_llvm_error(diags, p, "cannot create the JIT", err);
        free(j);
        return NULL;
    }
    err = LLVMOrcLLJITAddLLVMIRModule(j->jit, LLVMOrcLLJITGetMainJITDylib(j->jit), tsm);
    if (err) { /* the module was consumed either way */
        diag_llvm_error(diags, p, "cannot add the module", err);
        mj_jit_free(j);
        return NULL;
    }
    err = jit_lookup_all(j, p);
    if (err) {
        diag_llvm_error(diags, p, "code generation failed", err);
        mj_jit_free(j);
        return NULL;
    }
    return j;
}

mj_mask_fns mj_jit_fns(const mj_jit *j) {
    mj_mask_fns f;
    memset(&f, 0, sizeof f);
    if (j) f = j->fns;
    return f;
}

void mj_jit_free(mj_jit *j) {
    if (!j) return;
    if (j->jit) LLVMConsumeError(LLVMOrcDisposeLLJIT(j->jit));
    free(j);
}
