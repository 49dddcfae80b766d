/* shingle.c: the shingle and hash stages (after normalise, before MinHash):
 * XXH3-64 per token, then XXH3-64 over each window of little-endian token
 * hashes: n tokens from a word token, c from a character token (Han, Kana,
 * Hangul, Thai). Changing anything here changes signatures: bump
 * CD_NORMALISE_VERSION and the golden vectors in tests/data/golden. */
#include "shingle.h"

#include <string.h>

#define XXH_INLINE_ALL /* short inputs: let the compiler inline XXH3 */
#include <xxhash.h>

#include "alloc.h"

/* x with its bytes in little-endian order, as a native integer whose memory
 * image is those bytes. */
static inline uint64_t to_le64(uint64_t x)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return x;
#else
    unsigned char b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(x >> (8 * i));
    uint64_t y;
    memcpy(&y, b, 8);
    return y;
#endif
}

uint64_t cd__token_hash(const char *token, size_t len, uint64_t seed)
{
    return XXH3_64bits_withSeed(token, len, seed);
}

static inline uint64_t combine_le(const uint64_t *le, size_t n, uint64_t seed)
{
    return XXH3_64bits_withSeed(le, n * sizeof *le, seed);
}

uint64_t cd__shingle_hash(const uint64_t *token_hashes, size_t n, uint64_t seed)
{
    uint64_t le[CD__MAX_NGRAM];
    if (n > CD__MAX_NGRAM)
        n = CD__MAX_NGRAM;
    for (size_t i = 0; i < n; i++)
        le[i] = to_le64(token_hashes[i]);
    return combine_le(le, n, seed);
}

size_t cd__shingle_count(size_t tokens, unsigned ngram)
{
    if (tokens == 0)
        return 0;
    return tokens <= ngram ? 1 : tokens - ngram + 1;
}

void cd__shingler_init(cd__shingler *s)
{
    memset(s, 0, sizeof *s);
}

void cd__shingler_free(cd__shingler *s)
{
    cd__free(s->token_le);
    cd__free(s->hashes);
    cd__free(s->starts);
    cd__shingler_init(s);
}

int cd__is_char_token(const char *token, size_t len)
{
    const unsigned char *b = (const unsigned char *)token;
    if (len < 3 || b[0] < 0xE0)
        return 0; /* every character-token script is at U+0E00 or above */
    int32_t cp;
    if (b[0] < 0xF0)
        cp = ((int32_t)(b[0] & 0x0F) << 12) | ((int32_t)(b[1] & 0x3F) << 6) | (b[2] & 0x3F);
    else if (len >= 4)
        cp = ((int32_t)(b[0] & 0x07) << 18) | ((int32_t)(b[1] & 0x3F) << 12) |
             ((int32_t)(b[2] & 0x3F) << 6) | (b[3] & 0x3F);
    else
        return 0;
    return cd__is_char_token_script(cp);
}

cd_status cd__shingle(cd__shingler *s, const cd__normaliser *norm, unsigned ngram,
                      unsigned char_ngram, uint64_t seed)
{
    size_t tokens = norm->count;
    s->count = 0;
    if (tokens == 0)
        return CD_OK;
    if (cd__grow((void **)&s->token_le, &s->token_cap, tokens, sizeof *s->token_le) != 0 ||
        cd__grow((void **)&s->hashes, &s->hashes_cap, tokens, sizeof *s->hashes) != 0 ||
        cd__grow((void **)&s->starts, &s->starts_cap, tokens, sizeof *s->starts) != 0)
        return CD_ERR_NOMEM;
    int mixed = 0;
    for (size_t i = 0; i < tokens; i++) {
        const cd__span *t = &norm->tokens[i];
        const char *bytes = norm->bytes + t->offset;
        s->token_le[i] = to_le64(cd__token_hash(bytes, t->len, seed));
        mixed |= (unsigned char)bytes[0] >= 0xE0;
    }
    size_t count = 0;
    if (!mixed || char_ngram == ngram) {
        /* one width: word n-grams (the common, fast path) */
        size_t shingles = cd__shingle_count(tokens, ngram);
        size_t width = tokens < ngram ? tokens : ngram;
        for (size_t i = 0; i < shingles; i++) {
            s->hashes[i] = combine_le(s->token_le + i, width, seed);
            s->starts[i] = (uint32_t)i;
        }
        count = shingles;
    } else {
        /* A shingle starts at every token whose window fits: char_ngram
         * tokens from a character token, ngram from any other. */
        for (size_t i = 0; i < tokens; i++) {
            const cd__span *t = &norm->tokens[i];
            size_t width = cd__is_char_token(norm->bytes + t->offset, t->len) ? char_ngram : ngram;
            if (width <= tokens - i) {
                s->starts[count] = (uint32_t)i;
                s->hashes[count++] = combine_le(s->token_le + i, width, seed);
            }
        }
        if (count == 0) { /* shorter than every window: one shingle of all tokens */
            s->starts[count] = 0;
            s->hashes[count++] = combine_le(s->token_le, tokens, seed);
        }
    }
    s->count = count;
    return CD_OK;
}
