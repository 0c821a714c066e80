/* tokenizer.h — byte-level BPE tokenizers as HF `tokenizers` runs them:
 * tokenizer.json (pre-tokenizer split regex through PCRE2 with Unicode
 * properties, byte-level mapping, merges by rank, added/special tokens) and the
 * vocabulary embedded in GGUF files.  Encode/decode are bit-identical to HF. */
#ifndef MJ_TOKENIZER_H
#define MJ_TOKENIZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct mj_tokenizer mj_tokenizer;
/* (A loaded tokenizer is read-only: encode/decode may run on it from several
 * threads at once.) */

/* PATH: a tokenizer.json, a model directory holding one (tokenizer_config.json
 * beside it gives BOS/EOS), or a .gguf file.  NULL with a message in err. */
mj_tokenizer *mj_tokenizer_load(const char *path, char *err, size_t errn);
void mj_tokenizer_free(mj_tokenizer *t);

/* Encode UTF-8 (or arbitrary bytes) text; special-token text inside it is
 * matched as the special token (as HF does).  When add_bos and the tokenizer
 * has a BOS, it is prepended.  *ids is malloc'd (caller frees).  Returns 0/-1. */
int mj_tokenizer_encode(const mj_tokenizer *t, const char *text, size_t len, bool add_bos,
                        int32_t **ids, size_t *n_ids);
/* Decode ids to a malloc'd NUL-terminated string (invalid UTF-8 sequences
 * become U+FFFD as in HF); skip_special drops special tokens. */
char *mj_tokenizer_decode(const mj_tokenizer *t, const int32_t *ids, size_t n, bool skip_special);
/* Same, also giving the byte length in *len (the text may hold NUL chars). */
char *mj_tokenizer_decode_len(const mj_tokenizer *t, const int32_t *ids, size_t n, bool skip_special,
                              size_t *len);

int32_t mj_tokenizer_vocab_size(const mj_tokenizer *t);
int32_t mj_tokenizer_bos(const mj_tokenizer *t);                 /* -1 if none */
/* Whether HF tokenizers adds BOS by default (encode with add_special_tokens):
 * the post-processor template / tokenizer_config.json add_bos_token, or GGUF
 * tokenizer.ggml.add_bos_token.  Callers use it as the default for add_bos. */
bool mj_tokenizer_adds_bos(const mj_tokenizer *t);
/* EOS ids (end of text / end of turn), count in *n. */
const int32_t *mj_tokenizer_eos(const mj_tokenizer *t, int *n);
/* Id of an exact token string (special or normal), or -1. */
int32_t mj_tokenizer_token_id(const mj_tokenizer *t, const char *token);

#endif
