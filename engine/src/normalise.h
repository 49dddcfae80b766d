/* normalise.h: the normalise stage, between extract/boilerplate and shingle.
 * Turns raw document bytes into a stream of normalised tokens: invalid UTF-8
 * repaired (U+FFFD, counted), NFKC_Casefold via utf8proc, tokens = runs of
 * letters, marks and digits, one token per character for Han/Kana/Hangul/Thai.
 * Pure-ASCII stretches take a vectorised fast path, and non-ASCII stretches
 * of context-free code points a per-code-point one; both yield the same
 * tokens as utf8proc. */
#ifndef CD_NORMALISE_H
#define CD_NORMALISE_H

#include <stddef.h>
#include <stdint.h>

#include "copydesk/copydesk.h"

/* One token: bytes[offset .. offset+len) of its normaliser, UTF-8. */
typedef struct cd__span {
    size_t offset;
    size_t len;
} cd__span;

/* The token stream of one document plus the scratch buffers that produce it.
 * Owned by a signer and reused between documents: buffers only grow, so after
 * the first few documents signing allocates nothing. */
typedef struct cd__normaliser {
    char *bytes; /* normalised text holding the tokens; every byte below
                    bytes_len is written (the shingle stage reads past a
                    token's end, up to bytes_len), but only the spans in
                    tokens mean anything */
    size_t bytes_len, bytes_cap;
    cd__span *tokens; /* the tokens in text order */
    size_t count, tokens_cap;
    size_t invalid_utf8; /* invalid sequences replaced since the last reset */
    /* scratch for the Unicode path */
    int32_t *codepoints;
    size_t codepoints_cap;
    char *repaired; /* UTF-8 with invalid sequences replaced */
    size_t repaired_cap;
    int simd; /* cd__simd_level of the ASCII tokeniser, chosen by init */
} cd__normaliser;

/* How cd__normalise_append treats its input. */
typedef enum cd__normalise_mode {
    CD__NORMALISE_AUTO = 0,   /* ASCII stretches on the fast path (production) */
    CD__NORMALISE_UNICODE = 1 /* everything through utf8proc (the oracle for tests) */
} cd__normalise_mode;

/* Zeroes *n and picks the fastest ASCII tokeniser cd__simd_level_get
 * allows (all give the same tokens); no allocation. */
void cd__normaliser_init(cd__normaliser *n);

/* Frees the buffers of *n (not n itself) and zeroes it. */
void cd__normaliser_free(cd__normaliser *n);

/* Empties the token stream and the invalid_utf8 counter; keeps the buffers. */
void cd__normaliser_reset(cd__normaliser *n);

/* Appends the tokens of text[0..len) to the stream of n (text may be NULL
 * when len is 0; it may hold any bytes, including NUL and invalid UTF-8).
 * Each maximal ill-formed subsequence (Unicode 3.9, "substitution of maximal
 * subparts") becomes one U+FFFD, a separator, and adds 1 to invalid_utf8.
 * Both modes give identical results. Returns CD_OK or CD_ERR_NOMEM (the stream
 * may then hold part of text's tokens). Not thread-safe on one n. */
cd_status cd__normalise_append(cd__normaliser *n, const char *text, size_t len,
                               cd__normalise_mode mode);

/* 1 when codepoint cp (already normalised) is a token character: Unicode
 * category L*, M* or N*. */
int cd__is_token_char(int32_t cp);

/* 1 when NFKC_Casefold maps cp to at most one code point without looking
 * at its neighbours, so a text of such code points normalises one code point
 * at a time (the fast path for non-ASCII text); *mapped receives the code
 * point it becomes, or -1 when it is removed (default ignorable). The rule:
 * the decomposition of cp begins with a starter (combining class 0) that is
 * not a mark and not a Hangul vowel or trailing jamo, hence not the second
 * code point of any canonical composition, so nothing before cp composes or
 * reorders with it (checked against utf8proc for every code point in
 * tests/test_normalise.c); and it maps to one code point or none. Code points
 * from U+40000 up are never context-free here. Computed with utf8proc on
 * first use and cached process-wide; thread-safe. */
int cd__normalise_context_free(int32_t cp, int32_t *mapped);

/* 1 when cp belongs to a script written without spaces whose token
 * characters each form a token of their own: Han (unified ideographs with
 * extensions, compatibility ideographs), Hiragana, Katakana (with halfwidth
 * forms), Hangul (syllables and jamo) and Thai. */
int cd__is_char_token_script(int32_t cp);

#endif
