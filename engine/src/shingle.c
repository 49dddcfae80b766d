/* shingle.c: the shingle and hash stages (after normalise, before MinHash):
 * XXH3-64 per token, then XXH3-64 over each window of n little-endian token
 * hashes. Changing anything here changes signatures: bump
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
    cd__shingler_init(s);
}

cd_status cd__shingle(cd__shingler *s, const cd__normaliser *norm, unsigned ngram, uint64_t seed)
{
    size_t tokens = norm->count;
    size_t shingles = cd__shingle_count(tokens, ngram);
    s->count = 0;
    if (shingles == 0)
        return CD_OK;
    if (cd__grow((void **)&s->token_le, &s->token_cap, tokens, sizeof *s->token_le) != 0 ||
        cd__grow((void **)&s->hashes, &s->hashes_cap, shingles, sizeof *s->hashes) != 0)
        return CD_ERR_NOMEM;
    for (size_t i = 0; i < tokens; i++) {
        const cd__span *t = &norm->tokens[i];
        s->token_le[i] = to_le64(cd__token_hash(norm->bytes + t->offset, t->len, seed));
    }
    size_t width = tokens < ngram ? tokens : ngram;
    for (size_t i = 0; i < shingles; i++)
        s->hashes[i] = combine_le(s->token_le + i, width, seed);
    s->count = shingles;
    return CD_OK;
}
