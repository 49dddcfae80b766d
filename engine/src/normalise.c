/* normalise.c: the normalise stage (after extract/boilerplate, before
 * shingle). Repairs UTF-8, applies NFKC_Casefold with utf8proc and cuts the
 * result into tokens. Two fast paths give the same tokens without utf8proc:
 * pure-ASCII stretches are classified 64 bytes at a time (AVX-512, AVX2 or
 * scalar, chosen at run time), and a non-ASCII stretch whose code points are
 * all context-free (cd__normalise_context_free) is mapped one code point at a
 * time from a cache; anything else goes through utf8proc (see ascii_cut). */
#include "normalise.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <utf8proc.h>

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define NORMALISE_X86 1
#endif

#include "alloc.h"
#include "simd.h"
#include "utf8.h"

/* NFKC_Casefold exactly as utf8proc_NFKC_Casefold defines it. COMPOSE is
 * given to the decomposition too: without COMPOSE or DECOMPOSE utf8proc skips
 * canonical decomposition, and marks would then not be reordered. IGNORE
 * drops default-ignorable code points (soft hyphen, zero-width joiners). */
#define NORMALISE_OPTIONS                                                                          \
    (UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD | UTF8PROC_COMPOSE | UTF8PROC_IGNORE)

void cd__normaliser_init(cd__normaliser *n)
{
    memset(n, 0, sizeof *n);
    n->simd = (int)cd__simd_level_get();
}

void cd__normaliser_free(cd__normaliser *n)
{
    cd__free(n->bytes);
    cd__free(n->tokens);
    cd__free(n->codepoints);
    cd__free(n->repaired);
    int simd = n->simd;
    memset(n, 0, sizeof *n);
    n->simd = simd;
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
            n->bytes_len += utf8_encode((unsigned)cp, n->bytes + n->bytes_len);
            if (push_token(n, start) != 0)
                return CD_ERR_NOMEM;
            start = n->bytes_len;
        } else if (cls == CHAR_MARK && n->bytes_len == start) {
            /* a mark with no base: drop it. NFKC turns spacing accents
             * into space + mark (U+00B4 -> U+0020 U+0301), and "don´t"
             * must tokenise like "don't". */
        } else {
            n->bytes_len += utf8_encode((unsigned)cp, n->bytes + n->bytes_len);
        }
    }
    return push_token(n, start) != 0 ? CD_ERR_NOMEM : CD_OK;
}

/* ---------------------------------------------------------- ASCII path */

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

/* Classifies the m <= 64 bytes at in: bit j of *token is set when in[j] is an
 * ASCII letter or digit, bit j of *high when in[j] >= 0x80; bits from m up
 * are 0. Writes 64 bytes at out (the caller reserved them): in[j]
 * lowercased when it is a letter; other bytes are left undefined. Three
 * implementations, identical results. */
static inline void classify_scalar(const unsigned char *in, size_t m, unsigned char *out,
                                   uint64_t *token, uint64_t *high)
{
    uint64_t t = 0, h = 0;
    for (size_t j = 0; j < m; j++) {
        unsigned char c = in[j], lo = ascii_token_byte[c];
        out[j] = lo;
        t |= (uint64_t)(lo != 0) << j;
        h |= (uint64_t)(c >> 7) << j;
    }
    *token = t;
    *high = h;
}

#ifdef NORMALISE_X86
__attribute__((target("avx2,bmi,bmi2"))) static inline uint32_t classify32_avx2(__m256i v,
                                                                                unsigned char *out)
{
    const __m256i lower = _mm256_or_si256(v, _mm256_set1_epi8(0x20));
    const __m256i letter_off = _mm256_sub_epi8(lower, _mm256_set1_epi8('a'));
    const __m256i digit_off = _mm256_sub_epi8(v, _mm256_set1_epi8('0'));
    /* unsigned x <= k  <=>  min(x, k) == x */
    __m256i letter =
        _mm256_cmpeq_epi8(_mm256_min_epu8(letter_off, _mm256_set1_epi8(25)), letter_off);
    __m256i digit = _mm256_cmpeq_epi8(_mm256_min_epu8(digit_off, _mm256_set1_epi8(9)), digit_off);
    _mm256_storeu_si256((__m256i *)out, _mm256_blendv_epi8(v, lower, letter));
    return (uint32_t)_mm256_movemask_epi8(_mm256_or_si256(letter, digit));
}

__attribute__((target("avx2,bmi,bmi2"))) static inline void
classify_avx2(const unsigned char *in, size_t m, unsigned char *out, uint64_t *token,
              uint64_t *high)
{
    __m256i a, b;
    if (m == 64) {
        a = _mm256_loadu_si256((const __m256i *)in);
        b = _mm256_loadu_si256((const __m256i *)(in + 32));
    } else {
        unsigned char pad[64] = {0}; /* NUL: a separator */
        memcpy(pad, in, m);
        a = _mm256_loadu_si256((const __m256i *)pad);
        b = _mm256_loadu_si256((const __m256i *)(pad + 32));
    }
    uint64_t t = classify32_avx2(a, out) | (uint64_t)classify32_avx2(b, out + 32) << 32;
    uint64_t h = (uint32_t)_mm256_movemask_epi8(a) | (uint64_t)(uint32_t)_mm256_movemask_epi8(b)
                                                         << 32;
    *token = t;
    *high = h;
}

__attribute__((target("avx2,bmi,bmi2,avx512f,avx512bw,avx512vl"))) static inline void
classify_avx512(const unsigned char *in, size_t m, unsigned char *out, uint64_t *token,
                uint64_t *high)
{
    __m512i v = m == 64 ? _mm512_loadu_si512(in)
                        : _mm512_maskz_loadu_epi8(_bzhi_u64(~0ull, (unsigned)m), in);
    const __m512i lower = _mm512_or_si512(v, _mm512_set1_epi8(0x20));
    __mmask64 letter =
        _mm512_cmple_epu8_mask(_mm512_sub_epi8(lower, _mm512_set1_epi8('a')), _mm512_set1_epi8(25));
    __mmask64 digit =
        _mm512_cmple_epu8_mask(_mm512_sub_epi8(v, _mm512_set1_epi8('0')), _mm512_set1_epi8(9));
    _mm512_storeu_si512(out, _mm512_mask_blend_epi8(letter, v, lower));
    *token = letter | digit;
    *high = _mm512_movepi8_mask(v);
}
#endif

static inline unsigned lowest_bit(uint64_t x)
{
    return (unsigned)__builtin_ctzll(x);
}

/* Makes room for the tokens one 64-byte block can close (at most 32, plus the
 * one open before it). */
static inline int reserve_block_tokens(cd__normaliser *n)
{
    if (n->tokens_cap - n->count >= 33)
        return 0;
    return cd__grow((void **)&n->tokens, &n->tokens_cap, n->count + 33, sizeof *n->tokens);
}

/* Tokens of the ASCII bytes of t[pos..len), 64 bytes at a time, up to the
 * first byte >= 0x80: runs of [A-Za-z0-9], lowercased, which is what
 * NFKC_Casefold and the token rule give for ASCII. The bytes are written 1:1
 * at n->bytes + n->bytes_len. Returns the position of the first non-ASCII
 * byte, or len; *open is then the start of the token still open there, or
 * SIZE_MAX. Returns SIZE_MAX when memory runs out. */
#define ASCII_RUN(name, classify, target)                                                          \
    target static size_t name(cd__normaliser *n, const unsigned char *t, size_t pos, size_t len,   \
                              size_t *open)                                                        \
    {                                                                                              \
        if (reserve_bytes(n, len - pos + 64) != 0)                                                 \
            return SIZE_MAX;                                                                       \
        const size_t base = n->bytes_len;                                                          \
        unsigned char *out = (unsigned char *)n->bytes + base;                                     \
        size_t start = SIZE_MAX;                                                                   \
        for (size_t i = pos; i < len; i += 64) {                                                   \
            size_t m = len - i < 64 ? len - i : 64;                                                \
            if (len - i > 512) /* the text 8 blocks on, while this one is classified */            \
                __builtin_prefetch(t + i + 512);                                                   \
            if (reserve_block_tokens(n) != 0)                                                      \
                return SIZE_MAX;                                                                   \
            uint64_t token, high;                                                                  \
            classify(t + i, m, out + (i - pos), &token, &high);                                    \
            uint64_t keep = high ? (((uint64_t)1 << lowest_bit(high)) - 1) : ~(uint64_t)0;         \
            token &= keep;                                                                         \
            /* bit j of starts / ends: a token starts at / ends just before i + j */               \
            uint64_t before = (token << 1) | (start != SIZE_MAX);                                  \
            uint64_t starts = token & ~before, ends = ~token & before & keep;                      \
            cd__span *spans = n->tokens;                                                           \
            size_t count = n->count;                                                               \
            if (start != SIZE_MAX && ends) { /* the token open before the block */                 \
                spans[count++] = (cd__span){base + (start - pos), i + lowest_bit(ends) - start};   \
                ends &= ends - 1;                                                                  \
                start = SIZE_MAX;                                                                  \
            }                                                                                      \
            for (; ends; ends &= ends - 1, starts &= starts - 1) { /* each one starts and ends */  \
                size_t from = i + lowest_bit(starts);                                              \
                spans[count++] = (cd__span){base + (from - pos), i + lowest_bit(ends) - from};     \
            }                                                                                      \
            if (starts) /* one left, still open at the end of the block */                         \
                start = i + lowest_bit(starts);                                                    \
            n->count = count;                                                                      \
            if (high) {                                                                            \
                size_t stop = i + lowest_bit(high);                                                \
                n->bytes_len = base + (stop - pos);                                                \
                *open = start;                                                                     \
                return stop;                                                                       \
            }                                                                                      \
        }                                                                                          \
        n->bytes_len = base + (len - pos);                                                         \
        if (start != SIZE_MAX) { /* a token up to the end of a full block */                       \
            if (reserve_block_tokens(n) != 0)                                                      \
                return SIZE_MAX;                                                                   \
            n->tokens[n->count++] = (cd__span){base + (start - pos), len - start};                 \
        }                                                                                          \
        *open = SIZE_MAX;                                                                          \
        return len;                                                                                \
    }

ASCII_RUN(ascii_run_scalar, classify_scalar, )
#ifdef NORMALISE_X86
ASCII_RUN(ascii_run_avx2, classify_avx2, __attribute__((target("avx2,bmi,bmi2"))))
ASCII_RUN(ascii_run_avx512, classify_avx512,
          __attribute__((target("avx2,bmi,bmi2,avx512f,avx512bw,avx512vl"))))
#endif

static size_t ascii_run(cd__normaliser *n, const unsigned char *t, size_t pos, size_t len,
                        size_t *open)
{
#ifdef NORMALISE_X86
    if (n->simd >= CD__SIMD_AVX512)
        return ascii_run_avx512(n, t, pos, len, open);
    if (n->simd >= CD__SIMD_AVX2)
        return ascii_run_avx2(n, t, pos, len, open);
#endif
    return ascii_run_scalar(n, t, pos, len, open);
}

/* ------------------------------------------------ context-free code points */

/* Cache of cd__normalise_context_free for code points below CF_LIMIT, one
 * word each: 0 = not computed yet; else CF_DONE, plus CF_FREE when context-
 * free, with the class of what it becomes and that code point. A word is
 * computed from utf8proc alone, so threads that race on it store the same
 * value. */
#define CF_LIMIT 0x40000
#define CF_DONE 0x80000000u
#define CF_FREE 0x40000000u
#define CF_CLASS_SHIFT 24 /* 2 bits: enum below */
#define CF_CP_MASK 0x1FFFFFu

enum { CF_REMOVED, CF_SEPARATOR, CF_WORD, CF_CHAR_TOKEN };

static _Atomic uint32_t cf_cache[CF_LIMIT];

/* Hangul vowel and trailing jamo: they compose with what precedes them
 * (algorithmically, so no decomposition property says so). */
static int is_jamo_second(int32_t cp)
{
    return (cp >= 0x1161 && cp <= 0x1175) || (cp >= 0x11A8 && cp <= 0x11C2);
}

static uint32_t cf_compute(int32_t cp)
{
    uint8_t utf8[4];
    utf8proc_ssize_t len = utf8proc_encode_char(cp, utf8);
    utf8proc_int32_t buf[32];
    utf8proc_ssize_t got = len > 0 ? utf8proc_decompose(utf8, len, buf, 32, NORMALISE_OPTIONS) : -1;
    if (got < 0 || got > 32)
        return CF_DONE;
    if (got == 0)
        return CF_DONE | CF_FREE | (uint32_t)CF_REMOVED << CF_CLASS_SHIFT;
    /* What precedes cp meets the first code point of its decomposition. */
    const utf8proc_property_t *first = utf8proc_get_property(buf[0]);
    if (first->combining_class != 0 || char_class(buf[0]) == CHAR_MARK || is_jamo_second(buf[0]))
        return CF_DONE;
    got = utf8proc_normalize_utf32(buf, got, NORMALISE_OPTIONS);
    if (got != 1)
        return CF_DONE; /* removed after all, or several code points */
    int32_t mapped = buf[0];
    int cls = char_class(mapped);
    uint32_t kind;
    if (cls == CHAR_MARK)
        return CF_DONE;
    if (cls == CHAR_SEPARATOR)
        kind = CF_SEPARATOR;
    else if (cd__is_char_token_script(mapped))
        kind = CF_CHAR_TOKEN;
    else
        kind = CF_WORD;
    return CF_DONE | CF_FREE | kind << CF_CLASS_SHIFT | ((uint32_t)mapped & CF_CP_MASK);
}

static inline uint32_t cf_lookup(int32_t cp)
{
    if (cp < 0 || cp >= CF_LIMIT)
        return CF_DONE;
    uint32_t v = atomic_load_explicit(&cf_cache[cp], memory_order_relaxed);
    if (v == 0) {
        v = cf_compute(cp);
        atomic_store_explicit(&cf_cache[cp], v, memory_order_relaxed);
    }
    return v;
}

int cd__normalise_context_free(int32_t cp, int32_t *mapped)
{
    uint32_t v = cf_lookup(cp);
    if (!(v & CF_FREE))
        return 0;
    if (mapped)
        *mapped = ((v >> CF_CLASS_SHIFT) & 3) == CF_REMOVED ? -1 : (int32_t)(v & CF_CP_MASK);
    return 1;
}

/* Tokens of a stretch between two cuts that holds non-ASCII bytes: one code
 * point at a time when every code point is context-free and the UTF-8 is
 * valid (then NFKC_Casefold of the stretch is the concatenation of each code
 * point's, and the loop below is tokenise_unicode's), else through utf8proc.
 * Same tokens either way. */
static cd_status tokenise_stretch(cd__normaliser *n, const unsigned char *text, size_t len)
{
    const size_t undo_bytes = n->bytes_len, undo_count = n->count;
    if (len > (SIZE_MAX - 8) / 2 || reserve_bytes(n, len * 2 + 8) != 0)
        return CD_ERR_NOMEM;
    size_t start = n->bytes_len;
    for (size_t i = 0; i < len;) {
        unsigned char c = text[i];
        uint32_t v;
        if (c < 0x80) {
            unsigned char lo = ascii_token_byte[c];
            v = CF_DONE | CF_FREE | lo | (uint32_t)(lo ? CF_WORD : CF_SEPARATOR) << CF_CLASS_SHIFT;
            i++;
        } else {
            size_t bad, ok = utf8_sequence(text + i, len - i, &bad);
            if (!ok)
                goto slow;
            int32_t cp;
            if (ok == 2)
                cp = (int32_t)(c & 0x1F) << 6 | (text[i + 1] & 0x3F);
            else if (ok == 3)
                cp = (int32_t)(c & 0x0F) << 12 | (int32_t)(text[i + 1] & 0x3F) << 6 |
                     (text[i + 2] & 0x3F);
            else
                cp = (int32_t)(c & 0x07) << 18 | (int32_t)(text[i + 1] & 0x3F) << 12 |
                     (int32_t)(text[i + 2] & 0x3F) << 6 | (text[i + 3] & 0x3F);
            v = cf_lookup(cp);
            if (!(v & CF_FREE))
                goto slow;
            i += ok;
        }
        switch ((v >> CF_CLASS_SHIFT) & 3) {
        case CF_REMOVED:
            break;
        case CF_SEPARATOR:
            if (push_token(n, start) != 0)
                return CD_ERR_NOMEM;
            start = n->bytes_len;
            break;
        case CF_CHAR_TOKEN:
            if (push_token(n, start) != 0)
                return CD_ERR_NOMEM;
            start = n->bytes_len;
            n->bytes_len += utf8_encode((unsigned)(v & CF_CP_MASK), n->bytes + n->bytes_len);
            if (push_token(n, start) != 0)
                return CD_ERR_NOMEM;
            start = n->bytes_len;
            break;
        default:
            n->bytes_len += utf8_encode((unsigned)(v & CF_CP_MASK), n->bytes + n->bytes_len);
            break;
        }
    }
    return push_token(n, start) != 0 ? CD_ERR_NOMEM : CD_OK;
slow:
    n->bytes_len = undo_bytes;
    n->count = undo_count;
    return tokenise_unicode(n, text, len);
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
        size_t base = n->bytes_len, open;
        size_t i = ascii_run(n, t, pos, len, &open);
        if (i == SIZE_MAX)
            return CD_ERR_NOMEM;
        if (i == len)
            return CD_OK;
        /* t[i] is not ASCII: the stretch between the nearest cuts around it,
         * [s, e), takes the Unicode path; pos is a cut already. Every token
         * the ASCII run closed ends at or before s (a token's end is a cut),
         * and a token still open started at s (its start is a cut and no cut
         * lies inside it), so dropping it and the bytes from s on leaves the
         * stream as it was at s. */
        size_t s = i > pos ? i - 1 : pos;
        while (s > pos && !ascii_cut(t, s))
            s--;
        (void)open; /* SIZE_MAX or s */
        n->bytes_len = base + (s - pos);
        size_t e = i + 1;
        while (e < len && !ascii_cut(t, e))
            e++;
        cd_status st = tokenise_stretch(n, t + s, e - s);
        if (st != CD_OK)
            return st;
        pos = e;
    }
    return CD_OK;
}
