/* cmd_paraphrase.c — `maskjit paraphrase`: make the WebQA paraphrase JSONL
 * (the original question plus five paraphrases sampled from the model, as
 * the original study did), seeded per (question, pass) and resumable.  The
 * work is done by fusion/paraphrase.c. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "paraphrase.h"
#include "progress.h"
#include "session.h"

static void usage(FILE *out) {
    fputs("usage: maskjit paraphrase --model PATH --data QUESTIONS -o OUT.jsonl [options]\n\n"
          "Writes, for each question of QUESTIONS (WebQuestions .json, or any dataset format:\n"
          "its paraphrase 0 is used), a JSONL record with the question and PASSES paraphrases\n"
          "sampled from the model with the study's five-shot paraphrasing prompt (temperature\n"
          "1.5, top-p 0.9, 30 new tokens, first line).  Each (question, pass) has its own seed,\n"
          "so results do not depend on batching and --resume continues exactly.\n"
          "The output is a dataset for `maskjit run --data` (format: paraphrases).\n\n"
          "options:\n"
          "  --model PATH          HF model directory or .gguf (required)\n"
          "  --tokenizer PATH      default: the model's\n"
          "  --data FILE           the questions (required)\n"
          "  -o, --output OUT      the JSONL output (required)\n"
          "  --passes N            paraphrases per question, 1..5 (default 5)\n"
          "  --seed S              base seed (default 0)\n"
          "  --temperature T       default 1.5\n"
          "  --top-p P             default 0.9\n"
          "  --max-new-tokens N    default 30\n"
          "  --batch N             questions per batch, 1..64 (default 8)\n"
          "  --limit N             only the first N questions\n"
          "  --resume              continue OUT: skip the questions already in it\n"
          "  --skip-bad            skip bad input records\n"
          "  --device D            cpu, cuda or auto (default auto)\n"
          "  --threads N           CPU threads (default: all cores)\n"
          "  --bos B               auto, none, a token or an id (default none)\n"
          "  --quiet               no progress display\n", out);
}

static void show(void *ctx, int64_t done, int64_t total, int64_t done_now, int64_t tokens, double s) {
    mj_progress_update(ctx, done, total, done_now, tokens, s);
}

int cmd_paraphrase(int argc, char **argv) {
    static const struct option opts[] = {
        {"model", 1, 0, 'm'}, {"tokenizer", 1, 0, 't'}, {"data", 1, 0, 'd'}, {"output", 1, 0, 'o'},
        {"passes", 1, 0, 'p'}, {"seed", 1, 0, 's'}, {"temperature", 1, 0, 'T'}, {"top-p", 1, 0, 'P'},
        {"max-new-tokens", 1, 0, 'n'}, {"batch", 1, 0, 'b'}, {"limit", 1, 0, 'l'}, {"resume", 0, 0, 'r'},
        {"skip-bad", 0, 0, 'k'}, {"device", 1, 0, 'D'}, {"threads", 1, 0, 'j'}, {"bos", 1, 0, 'B'},
        {"quiet", 0, 0, 'q'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    const char *model = NULL, *tokp = NULL, *data = NULL, *bos = "none";
    mj_paraphrase_opts o = {5, 1.5f, 0.9f, 30, 0, 8, 0, false, -1, NULL, NULL, NULL, NULL};
    int device = MJ_DEVICE_AUTO, threads = 0, c;
    bool skip = false, quiet = false;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        char *end = NULL;
        switch (c) {
        case 'm': model = optarg; break;
        case 't': tokp = optarg; break;
        case 'd': data = optarg; break;
        case 'o': o.out_path = optarg; break;
        case 'p': o.passes = (int)strtol(optarg, &end, 10); break;
        case 's': o.seed = strtoull(optarg, &end, 10); break;
        case 'T': o.temperature = strtof(optarg, &end); break;
        case 'P': o.top_p = strtof(optarg, &end); break;
        case 'n': o.max_new_tokens = (int32_t)strtol(optarg, &end, 10); break;
        case 'b': o.batch = (int)strtol(optarg, &end, 10); break;
        case 'l': o.limit = strtoll(optarg, &end, 10); break;
        case 'r': o.resume = true; break;
        case 'k': skip = true; break;
        case 'D': device = mj_device_parse(optarg); if (device < 0) end = optarg; break;
        case 'j': threads = (int)strtol(optarg, &end, 10); break;
        case 'B': bos = optarg; break;
        case 'q': quiet = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
        if (end && *end) { fprintf(stderr, "maskjit paraphrase: bad value '%s'\n", optarg); return 2; }
    }
    if (!model || !data || !o.out_path || optind < argc) {
        fputs("maskjit paraphrase: --model, --data and -o are required (see --help)\n", stderr);
        return 2;
    }
    if (o.passes < 1 || o.passes > MJ_PARA_MAX_PASSES || o.batch < 1 || o.batch > 64 || o.max_new_tokens < 1) {
        fputs("maskjit paraphrase: --passes 1..5, --batch 1..64, --max-new-tokens >= 1\n", stderr);
        return 2;
    }
    char err[1024];
    mj_dataset d;
    if (mj_dataset_load(&d, data, MJ_DATA_AUTO, skip, err, sizeof err)) {
        fprintf(stderr, "maskjit paraphrase: %s\n", err);
        return 1;
    }
    mj_session s;
    int rc = 1;
    if (mj_session_open(&s, model, tokp, (mj_device)device, threads, err, sizeof err) == 0) {
        o.bos = mj_session_bos(&s, bos, err, sizeof err);
        const char *b = strrchr(model, '/');
        o.model_name = b && b[1] ? b + 1 : model;
        mj_progress pg;
        mj_progress_init(&pg, quiet ? NULL : stderr, "paraphrase");
        o.progress = show;
        o.progress_ctx = &pg;
        int64_t n = 0;
        if (o.bos >= -1 && mj_paraphrase_run(s.engine, s.tok, &d, &o, &n, err, sizeof err) == 0) rc = 0;
        mj_progress_finish(&pg);
        if (!quiet && !rc) fprintf(stderr, "paraphrase: %lld question(s) written to %s\n", (long long)n, o.out_path);
        mj_session_close(&s);
    }
    if (rc) fprintf(stderr, "maskjit paraphrase: %s\n", err);
    mj_dataset_free(&d);
    return rc;
}
