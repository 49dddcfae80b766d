/* shingle.h: the shingle and hash stages, between normalise and MinHash.
 * Each token is hashed with XXH3-64; each run of n consecutive token hashes
 * (a word n-gram; c characters in Han, Kana, Hangul and Thai runs) is hashed
 * again into one 64-bit shingle hash. The bytes
 * hashed are fixed little-endian, so hashes are the same on every host. */
#ifndef CD_SHINGLE_H
#define CD_SHINGLE_H

#include <stddef.h>
#include <stdint.h>

#include "copydesk/copydesk.h"
#include "normalise.h"

/* XXH3_64bits_withSeed(token[0..len), seed). Thread-safe. */
uint64_t cd__token_hash(const char *token, size_t len, uint64_t seed);

/* Longest shingle, in tokens (the limit of cd_params.ngram). */
#define CD__MAX_NGRAM 32

/* The hash of one shingle of n tokens, 1 <= n <= CD__MAX_NGRAM (more are
 * cut to CD__MAX_NGRAM): XXH3_64bits_withSeed over the n token hashes written
 * as n little-endian uint64 (n*8 bytes), seed. token_hashes are native
 * integers. Thread-safe. */
uint64_t cd__shingle_hash(const uint64_t *token_hashes, size_t n, uint64_t seed);

/* Number of shingles of ngram tokens in a stream of tokens: 0 for none, 1
 * for 1..ngram tokens (one shingle of all of them), else tokens - ngram + 1. */
size_t cd__shingle_count(size_t tokens, unsigned ngram);

/* Scratch buffers of the shingle stage, owned by a signer and reused. */
typedef struct cd__shingler {
    uint64_t *token_le; /* token hashes as little-endian bytes */
    size_t token_cap;
    uint64_t *hashes; /* shingle hashes in text order, with repeats */
    uint32_t *starts; /* the token each shingle starts at */
    size_t count, hashes_cap, starts_cap;
    int simd; /* cd__simd_level of the token and window hashing, chosen by init */
} cd__shingler;

/* Zeroes *s and picks the fastest hashing cd__simd_level_get allows (all
 * give the same hashes); no allocation. */
void cd__shingler_init(cd__shingler *s);
void cd__shingler_free(cd__shingler *s); /* frees the buffers, not s; keeps simd */

/* 1 when token[0..len) (normalised UTF-8, one token) is a character token:
 * its first code point is in a script cd__is_char_token_script names. */
int cd__is_char_token(const char *token, size_t len);

/* Hashes the tokens of norm into s->hashes[0..s->count), in text order.
 * Each token is hashed with seed as cd__token_hash. A shingle starts at
 * token i when its window fits in the stream: char_ngram tokens when token i
 * is a character token (cd__is_char_token), else ngram tokens; it is hashed
 * as cd__shingle_hash of the window. When no window fits (fewer tokens than
 * every width), the document is one shingle of all its tokens. Without
 * character tokens (or with char_ngram == ngram) the count is
 * cd__shingle_count(tokens, ngram). s->starts[i] is the token shingle i
 * starts at. ngram, char_ngram >= 1. Returns CD_OK or CD_ERR_NOMEM (s->count
 * is then 0). Documents are limited to UINT32_MAX tokens. */
cd_status cd__shingle(cd__shingler *s, const cd__normaliser *norm, unsigned ngram,
                      unsigned char_ngram, uint64_t seed);

#endif
