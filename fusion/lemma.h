/* lemma.h — the lemmatizer and answer matcher behind `maskjit eval`.
 *
 * The study lemmatized with spaCy (en_core_web_lg): tokens, lemma_, lower().
 * In C we approximate it:
 *   tokenization as spaCy's English rules do it for short answers: split on
 *   whitespace, then peel prefix punctuation (quotes, brackets, currency, #),
 *   suffix punctuation, possessive 's / ’s, clitics n't 're 've 'll 'm 'd,
 *   "%" and unit letters after digits, a final "." after a lowercase letter or
 *   digit or two capitals (so "U.S." and "e.g." stay whole); infix hyphens and
 *   "/" between letters, "," between letters;
 *   lemmas: lowercase (Latin-1, Latin Extended-A, Greek and Cyrillic capitals
 *   included), closed-class words from a table (is/was → be, has → have,
 *   n't → not, me → i ...), numbers and punctuation unchanged, then WordNet's
 *   morphology (morphstr(), libWN from Debian's wordnet-dev, dictionary from
 *   wordnet-base): plural nouns first (kept when the word looks singular:
 *   -ss -us -is -ics ...), then -ing / -ed / irregular verb forms, then -er /
 *   -est adjectives.  Without WordNet (built without MJ_HAVE_WORDNET, or its
 *   dictionary missing) only the rule part runs.
 * Its agreement with spaCy is measured by scripts/lemma_agreement.py (see
 * docs/fusion.md).  Not thread-safe (WordNet keeps global state). */
#ifndef MJ_LEMMA_H
#define MJ_LEMMA_H

#include <stdbool.h>

#include "fu_util.h"

/* Open WordNet once (later calls are no-ops).  Returns true when WordNet
 * morphology is available, false when only the rules will run. */
bool mj_lemma_init(void);
/* The tokens of text, as spaCy's tokenizer would split it (appended to out). */
int mj_lemma_tokenize(const char *text, mj_strv *out);
/* The lowercased lemma of each token of text (appended to out).  0 / -1 (OOM). */
int mj_lemmatize(const char *text, mj_strv *out);
/* Lemma of one token. malloc'd. */
char *mj_lemma_word(const char *tok);
/* True when alias (m lemmas, m >= 1) occurs contiguously in pred (n lemmas). */
bool mj_lemma_contains(char *const *pred, int64_t n, char *const *alias, int64_t m);
/* The study's rule: correct when the lemma sequence of any alias occurs
 * contiguously in the prediction's.  Lemmatizes on the fly. */
bool mj_answer_correct(const char *prediction, char *const *aliases, int n_aliases);

#endif
