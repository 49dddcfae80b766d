/* normalise.c: the normalise stage (after extract/boilerplate, before
 * shingle). Repairs UTF-8, applies NFKC_Casefold with utf8proc and cuts the
 * result into tokens; pure-ASCII stretches skip utf8proc (see ascii_cut). */
#include "normalise.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <utf8proc.h>

#include "alloc.h"

/* NFKC_Casefold exactly as utf8proc_NFKC_Casefold defines it. COMPOSE is
 * given to the decomposition too: without COMPOSE or DECOMPOSE utf8proc skips
 * canonical decomposition, and marks would then not be reordered. IGNORE
 * drops default-ignorable code points (soft hyphen, zero-width joiners). */
#define NORMALISE_OPTIONS                                                                          \
    (UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD | UTF8PROC_COMPOSE | UTF8PROC_IGNORE)

void cd__normaliser_init(cd__normaliser *n)
{
    memset(n, 0, sizeof *n);
}

void cd__normaliser_free(cd__normaliser *n)
{
    cd__free(n->bytes);
    cd__free(n->tokens);
    cd__free(n->codepoints);
    cd__free(n->repaired);
    cd__normaliser_init(n);
}

void cd__normaliser_reset(cd__normaliser *n)
{
    n->bytes_len = 0;
    n->count = 0;
    n->invalid_utf8 = 0;
}

/* ------------------------------------------------------------ classes */

int cd__is_char_token_script(int32_t cp)
{
    if (cp < 0x0E00)
        return 0;
    return (cp >= 0x0E00 && cp <= 0x0E7F)       /* Thai */
           || (cp >= 0x1100 && cp <= 0x11FF)    /* Hangul Jamo */
           || (cp >= 0x3040 && cp <= 0x309F)    /* Hiragana */
           || (cp >= 0x30A0 && cp <= 0x30FF)    /* Katakana */
           || (cp >= 0x3130 && cp <= 0x318F)    /* Hangul Compatibility Jamo */
           || (cp >= 0x31F0 && cp <= 0x31FF)    /* Katakana Phonetic Extensions */
           || (cp >= 0x3400 && cp <= 0x4DBF)    /* CJK Unified Ideographs Extension A */
           || (cp >= 0x4E00 && cp <= 0x9FFF)    /* CJK Unified Ideographs */
           || (cp >= 0xA960 && cp <= 0xA97F)    /* Hangul Jamo Extended-A */
           || (cp >= 0xAC00 && cp <= 0xD7AF)    /* Hangul Syllables */
           || (cp >= 0xD7B0 && cp <= 0xD7FF)    /* Hangul Jamo Extended-B */
           || (cp >= 0xF900 && cp <= 0xFAFF)    /* CJK Compatibility Ideographs */
           || (cp >= 0xFF66 && cp <= 0xFF9F)    /* Halfwidth Katakana */
           || (cp >= 0xFFA0 && cp <= 0xFFDC)    /* Halfwidth Hangul */
           || (cp >= 0x1B000 && cp <= 0x1B16F)  /* Kana Supplement, Extended-A, Small Kana */
           || (cp >= 0x20000 && cp <= 0x2FA1F)  /* Extensions B-F, I; Compatibility Supplement */
           || (cp >= 0x30000 && cp <= 0x323AF); /* Extensions G, H */
}

/* What a normalised code point is to the tokeniser. */
enum { CHAR_SEPARATOR, CHAR_WORD, CHAR_MARK };

static int char_class(int32_t cp)
{
    switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
        return CHAR_WORD;
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
        return CHAR_MARK;
    default:
        return CHAR_SEPARATOR;
    }
}

int cd__is_token_char(int32_t cp)
{
    return char_class(cp) != CHAR_SEPARATOR;
}

static inline int ascii_alnum(unsigned char c)
{
    return (unsigned)((c | 0x20) - 'a') < 26u || (unsigned)(c - '0') < 10u;
}

/* An ASCII byte that is not a letter or digit: always a separator, and
 * unchanged by NFKC_Casefold. */
static inline int ascii_separator(unsigned char c)
{
    return c < 0x80 && !ascii_alnum(c);
}

/* ------------------------------------------------------------- output */

static int reserve_bytes(cd__normaliser *n, size_t more)
{
    if (more > SIZE_MAX - n->bytes_len)
        return -1;
    return cd__grow((void **)&n->bytes, &n->bytes_cap, n->bytes_len + more, 1);
}

/* Closes the token that started at bytes[start]; empty tokens are dropped. */
static int push_token(cd__normaliser *n, size_t start)
{
    if (n->bytes_len == start)
        return 0;
    if (n->count == n->tokens_cap &&
        cd__grow((void **)&n->tokens, &n->tokens_cap, n->count + 1, sizeof *n->tokens) != 0)
        return -1;
    n->tokens[n->count++] = (cd__span){start, n->bytes_len - start};
    return 0;
}

/* ---------------------------------------------------------- fast path */

/* ASCII letters and digits to themselves lowercased; every other byte to 0. */
/* clang-format off */
static const unsigned char ascii_token_byte[256] = {
    ['0'] = '0', ['1'] = '1', ['2'] = '2', ['3'] = '3', ['4'] = '4',
    ['5'] = '5', ['6'] = '6', ['7'] = '7', ['8'] = '8', ['9'] = '9',
#define L(c) [c] = c, [c - 32] = c
    L('a'), L('b'), L('c'), L('d'), L('e'), L('f'), L('g'), L('h'), L('i'),
    L('j'), L('k'), L('l'), L('m'), L('n'), L('o'), L('p'), L('q'), L('r'),
    L('s'), L('t'), L('u'), L('v'), L('w'), L('x'), L('y'), L('z'),
#undef L
};
/* clang-format on */

/* Tokens of pure-ASCII text[0..len): runs of [A-Za-z0-9], lowercased. This
 * is what NFKC_Casefold and the token rule give for ASCII. */
static cd_status tokenise_ascii(cd__normaliser *n, const unsigned char *text, size_t len)
{
    if (reserve_bytes(n, len) != 0)
        return CD_ERR_NOMEM;
    char *out = n->bytes;
    size_t o = n->bytes_len, start = o;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = ascii_token_byte[text[i]];
        if (c) {
            out[o++] = (char)c;
        } else if (o != start) {
            n->bytes_len = o;
            if (push_token(n, start) != 0)
                return CD_ERR_NOMEM;
            start = o;
        }
    }
    n->bytes_len = o;
    return push_token(n, start) != 0 ? CD_ERR_NOMEM : CD_OK;
}

/* -------------------------------------------------------- UTF-8 repair */

/* Length of the well-formed UTF-8 sequence at s[0..len) (Unicode Table 3-7),
 * or 0 when it is ill-formed, with *bad set to the length of its maximal
 * subpart (>= 1): the bytes that one U+FFFD replaces. */
static size_t utf8_sequence(const unsigned char *s, size_t len, size_t *bad)
{
    unsigned char c = s[0];
    size_t need;
    unsigned char lo = 0x80, hi = 0xBF; /* range of the second byte */
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 3;
        if (c == 0xE0)
            lo = 0xA0; /* no overlong forms */
        else if (c == 0xED)
            hi = 0x9F; /* no surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4;
        if (c == 0xF0)
            lo = 0x90; /* no overlong forms */
        else if (c == 0xF4)
            hi = 0x8F; /* nothing above U+10FFFF */
    } else {
        *bad = 1; /* continuation byte, C0, C1 or F5..FF */
        return 0;
    }
    for (size_t k = 1; k < need; k++) {
        unsigned char min = k == 1 ? lo : 0x80, max = k == 1 ? hi : 0xBF;
        if (k >= len || s[k] < min || s[k] > max) {
            *bad = k;
            return 0;
        }
    }
    return need;
}

/* Counts the ill-formed subsequences of s[0..len) and, in *codepoints, the
 * code points it decodes to once each of them is replaced by U+FFFD. */
static size_t count_invalid(const unsigned char *s, size_t len, size_t *codepoints)
{
    size_t invalid = 0, cps = 0, i = 0;
    while (i < len) {
        cps++;
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        size_t bad = 0, ok = utf8_sequence(s + i, len - i, &bad);
        if (ok) {
            i += ok;
        } else {
            invalid++;
            i += bad;
        }
    }
    *codepoints = cps;
    return invalid;
}

/* Copies s[0..len) into n->repaired with each ill-formed subsequence
 * replaced by U+FFFD; returns its length, or SIZE_MAX on allocation failure. */
static size_t repair(cd__normaliser *n, const unsigned char *s, size_t len)
{
    if (len > SIZE_MAX / 3 || cd__grow((void **)&n->repaired, &n->repaired_cap, len * 3, 1) != 0)
        return SIZE_MAX;
    unsigned char *out = (unsigned char *)n->repaired;
    size_t o = 0, i = 0;
    while (i < len) {
        size_t bad = 0, ok = utf8_sequence(s + i, len - i, &bad);
        if (ok) {
            memcpy(out + o, s + i, ok);
            o += ok;
            i += ok;
        } else {
            out[o++] = 0xEF;
            out[o++] = 0xBF;
            out[o++] = 0xBD;
            i += bad;
        }
    }
    return o;
}

/* -------------------------------------------------------- Unicode path */

static size_t encode_utf8(int32_t cp, char *out)
{
    unsigned u = (unsigned)cp;
    if (u < 0x80) {
        out[0] = (char)u;
        return 1;
    }
    if (u < 0x800) {
        out[0] = (char)(0xC0 | (u >> 6));
        out[1] = (char)(0x80 | (u & 0x3F));
        return 2;
    }
    if (u < 0x10000) {
        out[0] = (char)(0xE0 | (u >> 12));
        out[1] = (char)(0x80 | ((u >> 6) & 0x3F));
        out[2] = (char)(0x80 | (u & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (u >> 18));
    out[1] = (char)(0x80 | ((u >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((u >> 6) & 0x3F));
    out[3] = (char)(0x80 | (u & 0x3F));
    return 4;
}

/* Tokens of text[0..len), any bytes, through utf8proc. */
static cd_status tokenise_unicode(cd__normaliser *n, const unsigned char *text, size_t len)
{
    const unsigned char *src = text;
    size_t src_len = len;
    size_t codepoints = 0;
    size_t invalid = count_invalid(text, len, &codepoints);
    if (invalid) {
        src_len = repair(n, text, len);
        if (src_len == SIZE_MAX)
            return CD_ERR_NOMEM;
        src = (const unsigned char *)n->repaired;
        n->invalid_utf8 += invalid;
    }
    if (src_len > (size_t)PTRDIFF_MAX / 8)
        return CD_ERR_NOMEM; /* more than utf8proc can count */

    /* Decompose (NFKD + case fold); grow and retry when the first guess of
     * the output size is short, which happens only for expanding mappings. */
    size_t want = codepoints + codepoints / 4 + 16;
    utf8proc_ssize_t got;
    for (;;) {
        if (cd__grow((void **)&n->codepoints, &n->codepoints_cap, want, sizeof *n->codepoints) != 0)
            return CD_ERR_NOMEM;
        got = utf8proc_decompose(src, (utf8proc_ssize_t)src_len, n->codepoints,
                                 (utf8proc_ssize_t)n->codepoints_cap, NORMALISE_OPTIONS);
        if (got < 0)
            return CD_ERR_NOMEM; /* cannot happen: src is valid UTF-8 */
        if ((size_t)got <= n->codepoints_cap)
            break;
        want = (size_t)got;
    }
    got = utf8proc_normalize_utf32(n->codepoints, got, NORMALISE_OPTIONS);
    if (got < 0)
        return CD_ERR_NOMEM; /* cannot happen with these options */

    size_t count = (size_t)got;
    if (count > SIZE_MAX / 4 || reserve_bytes(n, count * 4) != 0)
        return CD_ERR_NOMEM;
    size_t start = n->bytes_len;
    for (size_t i = 0; i < count; i++) {
        int32_t cp = n->codepoints[i];
        int cls = char_class(cp);
        if (cls == CHAR_SEPARATOR) {
            if (push_token(n, start) != 0)
                return CD_ERR_NOMEM;
            start = n->bytes_len;
        } else if (cd__is_char_token_script(cp)) {
            if (push_token(n, start) != 0)
                return CD_ERR_NOMEM;
            start = n->bytes_len;
            n->bytes_len += encode_utf8(cp, n->bytes + n->bytes_len);
            if (push_token(n, start) != 0)
                return CD_ERR_NOMEM;
            start = n->bytes_len;
        } else if (cls == CHAR_MARK && n->bytes_len == start) {
            /* a mark with no base: drop it. NFKC turns spacing accents
             * into space + mark (U+00B4 -> U+0020 U+0301), and "don´t"
             * must tokenise like "don't". */
        } else {
            n->bytes_len += encode_utf8(cp, n->bytes + n->bytes_len);
        }
    }
    return push_token(n, start) != 0 ? CD_ERR_NOMEM : CD_OK;
}

/* ------------------------------------------------------------- driver */

/* Where text may be cut so that both sides normalise and tokenise on their
 * own exactly as the whole would: between two ASCII bytes at least one of
 * which is a separator. Two ASCII bytes never compose or reorder with each
 * other, an ASCII byte never composes with what precedes it, and an ASCII
 * byte is never composed with what follows unless that is non-ASCII (as in
 * "<" + U+0338 -> U+226E), so such a cut changes no normalisation; the
 * separator keeps tokens from spanning it. */
static inline int ascii_cut(const unsigned char *t, size_t p)
{
    return t[p - 1] < 0x80 && t[p] < 0x80 && (ascii_separator(t[p - 1]) || ascii_separator(t[p]));
}

cd_status cd__normalise_append(cd__normaliser *n, const char *text, size_t len,
                               cd__normalise_mode mode)
{
    const unsigned char *t = (const unsigned char *)text;
    if (len == 0)
        return CD_OK;
    if (mode == CD__NORMALISE_UNICODE)
        return tokenise_unicode(n, t, len);

    size_t pos = 0;
    while (pos < len) {
        size_t i = pos;
        while (i < len && t[i] < 0x80)
            i++;
        if (i == len)
            return tokenise_ascii(n, t + pos, len - pos);
        /* t[i] is not ASCII: the Unicode path takes [s, e), the stretch
         * between the nearest cuts around it; pos is a cut already. */
        size_t s = i > pos ? i - 1 : pos;
        while (s > pos && !ascii_cut(t, s))
            s--;
        size_t e = i + 1;
        while (e < len && !ascii_cut(t, e))
            e++;
        cd_status st = tokenise_ascii(n, t + pos, s - pos);
        if (st == CD_OK)
            st = tokenise_unicode(n, t + s, e - s);
        if (st != CD_OK)
            return st;
        pos = e;
    }
    return CD_OK;
}
