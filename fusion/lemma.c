/* lemma.c — see lemma.h.  The tokenization rules paraphrase spaCy's English
 * punctuation rules (spacy/lang/punctuation.py, lang/en/tokenizer_exceptions)
 * for the short strings eval sees; the lemma rules mimic what spaCy's
 * rule lemmatizer does with the tags its tagger usually gives them. */
#include "lemma.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#ifdef MJ_HAVE_WORDNET
#include <wn.h>
#endif

static int wn_state;   /* 0 untried, 1 ready, -1 unavailable */

#ifdef MJ_HAVE_WORDNET
static int wn_quiet(char *msg) { (void)msg; return -1; }
#endif

bool mj_lemma_init(void) {
#ifdef MJ_HAVE_WORDNET
    if (!wn_state) {
        /* wninit prints through display_message on failure: silence it. */
        display_message = wn_quiet;
        wn_state = wninit() == 0 ? 1 : -1;
    }
#else
    wn_state = -1;
#endif
    return wn_state == 1;
}

/* ---- UTF-8 helpers -------------------------------------------------------------- */

static int utf8_decode(const unsigned char *s, uint32_t *cp) {
    if (s[0] < 0x80) { *cp = s[0]; return 1; }
    if ((s[0] & 0xE0) == 0xC0 && (s[1] & 0xC0) == 0x80) { *cp = (uint32_t)(s[0] & 0x1F) << 6 | (s[1] & 0x3F); return 2; }
    if ((s[0] & 0xF0) == 0xE0 && (s[1] & 0xC0) == 0x80 && (s[2] & 0xC0) == 0x80) {
        *cp = (uint32_t)(s[0] & 0x0F) << 12 | (uint32_t)(s[1] & 0x3F) << 6 | (s[2] & 0x3F);
        return 3;
    }
    if ((s[0] & 0xF8) == 0xF0 && (s[1] & 0xC0) == 0x80 && (s[2] & 0xC0) == 0x80 && (s[3] & 0xC0) == 0x80) {
        *cp = (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3F) << 12 | (uint32_t)(s[2] & 0x3F) << 6 | (s[3] & 0x3F);
        return 4;
    }
    *cp = s[0];
    return 1;
}

static int utf8_encode(uint32_t cp, char *out) {
    if (cp < 0x80) { out[0] = (char)cp; return 1; }
    if (cp < 0x800) { out[0] = (char)(0xC0 | cp >> 6); out[1] = (char)(0x80 | (cp & 0x3F)); return 2; }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | cp >> 12); out[1] = (char)(0x80 | (cp >> 6 & 0x3F)); out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | cp >> 18); out[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    out[2] = (char)(0x80 | (cp >> 6 & 0x3F)); out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

static uint32_t cp_lower(uint32_t c) {
    if (c < 0x80) return (uint32_t)tolower((int)c);
    if ((c >= 0xC0 && c <= 0xDE && c != 0xD7)) return c + 0x20;
    if (c >= 0x100 && c <= 0x17F && c != 0x130 && c != 0x138 && c != 0x149 && c != 0x17F) {
        bool odd_upper = (c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E);
        if (odd_upper ? (c & 1) : !(c & 1)) return c + 1;
        return c;
    }
    if (c >= 0x391 && c <= 0x3AB && c != 0x3A2) return c + 0x20;
    if (c >= 0x410 && c <= 0x42F) return c + 0x20;
    if (c >= 0x400 && c <= 0x40F) return c + 0x50;
    return c;
}

static char *utf8_lower(const char *s) {
    size_t n = strlen(s);
    char *out = malloc(n * 2 + 1);   /* lowercase never needs more than 2x */
    if (!out) return NULL;
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        uint32_t cp;
        int k = utf8_decode(p, &cp);
        o += (size_t)utf8_encode(cp_lower(cp), out + o);
        p += k;
    }
    out[o] = 0;
    return out;
}

/* ---- tokenization --------------------------------------------------------------- */

static const char *const prefixes[] = {"...", "\xe2\x80\xa6", "\xe2\x80\x9c", "\xe2\x80\x9d", "\xe2\x80\x98",
    "\xe2\x80\x99", "\xc2\xab", "\xc2\xbb", "\xc2\xa3", "\xe2\x82\xac", "\xc2\xa5", "\xc2\xbf", "\xc2\xa1",
    "\xc2\xa7", "\xe2\x80\x94", "\xe2\x80\x93", "\"", "'", "`", "(", "[", "{", "<", "$", "#", "*", "&",
    ",", ":", ";", "!", "?", "%", "=", "_", NULL};
static const char *const suffixes[] = {"...", "\xe2\x80\xa6", "\xe2\x80\x9c", "\xe2\x80\x9d", "\xe2\x80\x98",
    "\xe2\x80\x99", "\xc2\xab", "\xc2\xbb", "\xe2\x80\x94", "\xe2\x80\x93", "\"", "'", "`", ")", "]", "}",
    ">", ",", ":", ";", "!", "?", "_", "#", "*", "&", NULL};
static const char *const clitics[] = {"'s", "'S", "\xe2\x80\x99s", "\xe2\x80\x99S", "n't", "N'T",
    "n\xe2\x80\x99t", "'re", "'ve", "'ll", "'m", "'d", "'RE", "'VE", "'LL", "'M", "'D", NULL};
/* spaCy's LIST_UNITS (ASCII ones), matched case-sensitively after digits. */
static const char *const units[] = {"km", "dm", "cm", "mm", "ha", "nm", "yd", "in", "ft", "kg", "mg",
    "lb", "oz", "mph", "hPa", "Pa", "mbar", "mb", "MB", "kb", "KB", "gb", "GB", "tb", "TB", "m", "g",
    "t", "T", "G", "M", "K", NULL};
static const char *const abbrevs[] = {"mr.", "mrs.", "ms.", "dr.", "st.", "jr.", "sr.", "prof.", "inc.",
    "ltd.", "co.", "corp.", "vs.", "etc.", "mt.", "ft.", "no.", "gen.", "gov.", "sen.", "rep.", "rev.",
    "jan.", "feb.", "mar.", "apr.", "jun.", "jul.", "aug.", "sep.", "sept.", "oct.", "nov.", "dec.",
    "bros.", "ala.", "ariz.", "ark.", "calif.", "colo.", "conn.", "del.", "fla.", "ga.", "ill.", "ind.",
    "kan.", "kans.", "ky.", "la.", "md.", "mass.", "mich.", "minn.", "miss.", "mo.", "mont.", "neb.",
    "nev.", "okla.", "ore.", "pa.", "tenn.", "tex.", "va.", "vt.", "wash.", "wis.", "wyo.", NULL};

static bool starts_with(const char *s, size_t n, const char *p) {
    size_t k = strlen(p);
    return k <= n && !memcmp(s, p, k);
}

static bool ends_with(const char *s, size_t n, const char *p) {
    size_t k = strlen(p);
    return k <= n && !memcmp(s + n - k, p, k);
}

static bool is_alpha_byte(unsigned char c) { return isalpha(c) || c >= 0x80; }

static size_t match_list(const char *s, size_t n, const char *const *list, bool at_end) {
    for (int i = 0; list[i]; i++)
        if (at_end ? ends_with(s, n, list[i]) : starts_with(s, n, list[i])) return strlen(list[i]);
    return 0;
}

static bool is_abbrev(const char *s, size_t n) {
    if (n < 2 || s[n - 1] != '.') return false;
    if (memchr(s, '.', n - 1)) return true;          /* U.S. e.g. a.m. */
    char low[16];
    if (n >= sizeof low) return false;
    for (size_t i = 0; i < n; i++) low[i] = (char)tolower((unsigned char)s[i]);
    low[n] = 0;
    for (int i = 0; abbrevs[i]; i++)
        if (!strcmp(low, abbrevs[i])) return true;
    return n == 2 && isupper((unsigned char)s[0]);  /* initials: "J." */
}

/* Length of a suffix to split off s[0..n), or 0. */
static size_t suffix_len(const char *s, size_t n) {
    size_t k = match_list(s, n, suffixes, true);
    if (k && k < n) return k;
    k = match_list(s, n, clitics, true);
    if (k && k < n) return k;
    if (n >= 2 && s[n - 1] == '%' && isdigit((unsigned char)s[n - 2])) return 1;
    if (n >= 2 && s[n - 1] == '.' && !is_abbrev(s, n)) {
        unsigned char c = (unsigned char)s[n - 2];
        if (islower(c) || isdigit(c) || c >= 0x80 || strchr(")]}\"'", c)) return 1;
        if (n >= 3 && isupper(c) && isupper((unsigned char)s[n - 3])) return 1;
    }
    for (int i = 0; units[i]; i++) {
        size_t u = strlen(units[i]);
        if (n > u && isdigit((unsigned char)s[n - u - 1]) && ends_with(s, n, units[i])) {
            size_t j = 0;
            while (j < n - u && (isdigit((unsigned char)s[j]) || s[j] == '.' || s[j] == ',')) j++;
            if (j == n - u) return u;
        }
    }
    return 0;
}

/* Width of an infix separator at s[i] (given the byte before), or 0. */
static size_t infix_at(const char *s, size_t n, size_t i) {
    if (i == 0 || i + 1 >= n) return 0;
    unsigned char prev = (unsigned char)s[i - 1];
    static const char *const hyphens[] = {"---", "--", "-", "~", "\xe2\x80\x94", "\xe2\x80\x93", NULL};
    for (int h = 0; hyphens[h]; h++) {
        size_t k = strlen(hyphens[h]);
        if (i + k < n && !memcmp(s + i, hyphens[h], k)) {
            unsigned char next = (unsigned char)s[i + k];
            if ((is_alpha_byte(prev) || isdigit(prev)) && is_alpha_byte(next)) return k;
            if (k == 1 && s[i] == '-' && isdigit(prev) && (isdigit(next) || next == '-')) return 1;
            return 0;
        }
    }
    unsigned char next = (unsigned char)s[i + 1];
    if (strchr(":<>=/", s[i]) && (is_alpha_byte(prev) || isdigit(prev)) && is_alpha_byte(next)) return 1;
    if (s[i] == ',' && is_alpha_byte(prev) && is_alpha_byte(next)) return 1;
    if (strchr("+*^", s[i]) && isdigit(prev) && (isdigit(next) || next == '-')) return 1;
    if (s[i] == '.' && islower(prev) && isupper(next)) return 1;
    return 0;
}

static int push_infixed(mj_strv *out, const char *s, size_t n) {
    size_t start = 0;
    for (size_t i = 1; i < n; i++) {
        size_t k = infix_at(s, n, i);
        if (!k) continue;
        if (mj_strv_pushn(out, s + start, i - start) || mj_strv_pushn(out, s + i, k)) return -1;
        start = i + k;
        i = start;
    }
    return mj_strv_pushn(out, s + start, n - start);
}

static int tokenize_chunk(const char *s, size_t n, mj_strv *out) {
    mj_strv tail;   /* suffixes, in reverse order */
    mj_strv_init(&tail);
    int rc = 0;
    while (n && !rc) {
        size_t k = is_abbrev(s, n) ? 0 : match_list(s, n, prefixes, false);
        if (k && !(s[0] == '$' && n == 1)) {
            rc = mj_strv_pushn(out, s, k);
            s += k, n -= k;
            continue;
        }
        k = suffix_len(s, n);
        if (!k) break;
        rc = mj_strv_pushn(&tail, s + n - k, k);
        n -= k;
    }
    if (!rc && n == 6 && !strncasecmp(s, "cannot", 6))   /* spaCy's exception: can + not */
        rc = mj_strv_pushn(out, s, 3) || mj_strv_pushn(out, s + 3, 3) ? -1 : 0;
    else if (!rc && n) rc = push_infixed(out, s, n);
    for (int64_t i = tail.n - 1; i >= 0 && !rc; i--) rc = mj_strv_push(out, tail.s[i]);
    mj_strv_free(&tail);
    return rc;
}

int mj_lemma_tokenize(const char *text, mj_strv *out) {
    const char *p = text;
    while (*p) {
        while (*p && isspace((unsigned char)*p)) p++;
        const char *b = p;
        while (*p && !isspace((unsigned char)*p)) p++;
        if (p > b && tokenize_chunk(b, (size_t)(p - b), out)) return -1;
    }
    return 0;
}

/* ---- lemmas --------------------------------------------------------------------- */

static const char *const closed[][2] = {
    {"is", "be"}, {"are", "be"}, {"was", "be"}, {"were", "be"}, {"am", "be"}, {"been", "be"},
    {"being", "be"}, {"'re", "be"}, {"'m", "be"}, {"has", "have"}, {"had", "have"},
    {"having", "have"}, {"'ve", "have"}, {"does", "do"}, {"did", "do"}, {"done", "do"},
    {"doing", "do"}, {"n't", "not"}, {"n\xe2\x80\x99t", "not"}, {"wo", "will"}, {"'ll", "will"},
    {"ca", "can"}, {"'d", "would"}, {"me", "i"}, {"us", "we"}, {"him", "he"}, {"her", "she"},
    {"them", "they"}, {"an", "an"}, {"as", "as"}, {"its", "its"}, {"his", "his"}, {"this", "this"},
    {"thus", "thus"}, {"yes", "yes"}, {"less", "less"}, {"was", "be"}, {"'s", "'s"},
};

static bool all_alpha_ascii(const char *s) {
    for (; *s; s++)
        if (!isalpha((unsigned char)*s)) return false;
    return true;
}

/* Words spaCy's tagger reads as singular although they end in s. */
static bool looks_singular(const char *w) {
    size_t n = strlen(w);
    static const char *const ends[] = {"ss", "us", "is", "os", "as", "ews", "ies", NULL};
    for (int i = 0; ends[i]; i++)
        if (ends_with(w, n, ends[i])) return true;
    return w[n - 1] != 's';
}

#ifdef MJ_HAVE_WORDNET
/* First base form WordNet's morphology gives for word in pos, or NULL.  Copied. */
static char *wn_base(const char *word, int pos) {
    char buf[256];
    if (strlen(word) >= sizeof buf) return NULL;
    strcpy(buf, word);
    char *r = morphstr(buf, pos);
    if (!r || !strcmp(r, word) || strchr(r, '_') || strchr(r, ' ')) return NULL;
    return strdup(r);
}

static bool wn_is(const char *word, int pos) {
    char buf[256];
    if (strlen(word) >= sizeof buf) return false;
    strcpy(buf, word);
    return in_wn(buf, pos) != 0;
}

/* WordNet first; a plural WordNet does not know loses its "s" (or "men" ->
 * "man"), as spaCy's rule lemmatizer does with an out-of-vocabulary plural. */
static char *noun_lemma(const char *low, bool noun) {
    size_t n = strlen(low);
    bool plural = low[n - 1] == 's' && !looks_singular(low);
    if (!plural && noun && low[n - 1] == 's') return NULL;   /* physics, species, news */
    char *r = wn_base(low, NOUN);
    if (r || !plural) return r;
    return strndup(low, n - 1);
}

static char *wn_lemma(const char *low) {
    size_t n = strlen(low);
    bool noun = wn_is(low, NOUN);
    char *r = noun_lemma(low, noun);
    if (r) return r;
    if (!noun || ends_with(low, n, "ing") || ends_with(low, n, "ed")) {
        r = wn_base(low, VERB);
        if (r) return r;
    }
    if (!noun && (ends_with(low, n, "er") || ends_with(low, n, "est"))) r = wn_base(low, ADJ);
    return r;
}
#endif

/* Lemma of one token; multi: the text has several word tokens, where spaCy
 * reads capitalized words as proper nouns and leaves them alone. */
static char *lemma_of(const char *tok, bool multi) {
    char *low = utf8_lower(tok);
    if (!low) return NULL;
    int letters = 0, lower = 0;
    for (const char *p = tok; *p; p++) letters += isalpha((unsigned char)*p) != 0, lower += islower((unsigned char)*p) != 0;
    if (letters >= 2 && !lower) return low;                   /* US, CA, NYS: acronyms */
    for (size_t i = 0; i < sizeof closed / sizeof closed[0]; i++)
        if (!strcmp(low, closed[i][0])) {
            free(low);
            return strdup(closed[i][1]);
        }
    if (!all_alpha_ascii(low) || strlen(low) < 3) return low;
    if (multi && isupper((unsigned char)tok[0])) return low;
#ifdef MJ_HAVE_WORDNET
    if (wn_state == 1) {
        char *r = wn_lemma(low);
        if (r) { free(low); return r; }
    }
#else
    size_t n = strlen(low);
    if (low[n - 1] == 's' && !looks_singular(low)) low[n - 1] = 0;
#endif
    return low;
}

char *mj_lemma_word(const char *tok) { return lemma_of(tok, false); }

int mj_lemmatize(const char *text, mj_strv *out) {
    mj_strv toks;
    mj_strv_init(&toks);
    int rc = mj_lemma_tokenize(text, &toks);
    int words = 0;
    for (int64_t i = 0; i < toks.n; i++) {
        bool w = false;
        for (const char *p = toks.s[i]; *p && !w; p++) w = isalpha((unsigned char)*p) != 0;
        words += w;
    }
    for (int64_t i = 0; i < toks.n && !rc; i++) {
        char *l = lemma_of(toks.s[i], words >= 2);
        rc = !l || mj_strv_push(out, l) ? -1 : 0;
        free(l);
    }
    mj_strv_free(&toks);
    return rc;
}

bool mj_lemma_contains(char *const *pred, int64_t n, char *const *alias, int64_t m) {
    if (m < 1 || m > n) return false;
    for (int64_t i = 0; i + m <= n; i++) {
        int64_t j = 0;
        while (j < m && !strcmp(pred[i + j], alias[j])) j++;
        if (j == m) return true;
    }
    return false;
}

bool mj_answer_correct(const char *prediction, char *const *aliases, int n_aliases) {
    mj_strv p;
    mj_strv_init(&p);
    bool ok = false;
    if (mj_lemmatize(prediction, &p) == 0)
        for (int a = 0; a < n_aliases && !ok; a++) {
            mj_strv al;
            mj_strv_init(&al);
            if (mj_lemmatize(aliases[a], &al) == 0) ok = mj_lemma_contains(p.s, p.n, al.s, al.n);
            mj_strv_free(&al);
        }
    mj_strv_free(&p);
    return ok;
}
