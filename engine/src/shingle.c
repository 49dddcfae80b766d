/* shingle.c: the shingle and hash stages (after normalise, before MinHash):
 * XXH3-64 per token, then XXH3-64 over each window of little-endian token
 * hashes: n tokens from a word token, c from a character token (Han, Kana,
 * Hangul, Thai). Changing anything here changes signatures: bump
 * CD_NORMALISE_VERSION and the golden vectors in tests/data/golden.
 *
 * Speed: short tokens (up to 16 bytes) and windows of the default 5 tokens
 * are hashed with xxhash.h's own code for those lengths inlined (its
 * XXH3_len_* functions, visible with XXH_INLINE_ALL), and with AVX-512 eight
 * at a time by a lane-wise copy of that code. Every path gives exactly
 * XXH3_64bits_withSeed (tests/test_shingle.c checks each SIMD level). */
#include "shingle.h"

#include <string.h>

#define XXH_INLINE_ALL /* short inputs: let the compiler inline XXH3 */
#include <xxhash.h>

#include "alloc.h"
#include "simd.h"

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define SHINGLE_X86 1
#endif

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

/* XXH3_64bits_withSeed(token[0..len), seed), with the library's code for
 * inputs of up to 16 bytes (nearly every token) inlined here: the same
 * function XXH3_64bits_withSeed runs for them, minus its length dispatch and
 * call. */
static inline uint64_t token_hash(const char *token, size_t len, uint64_t seed)
{
    if (len <= 16)
        return XXH3_len_0to16_64b((const xxh_u8 *)token, len, XXH3_kSecret, seed);
    return XXH3_64bits_withSeed(token, len, seed);
}

uint64_t cd__token_hash(const char *token, size_t len, uint64_t seed)
{
    return token_hash(token, len, seed);
}

/* XXH3_64bits_withSeed over the n words le[0..n) (their memory image). */
static inline uint64_t combine_le(const uint64_t *le, size_t n, uint64_t seed)
{
    return XXH3_64bits_withSeed(le, n * sizeof *le, seed);
}

/* The default shingle width (cd_params.ngram), which has the fast paths. */
#define DEFAULT_WIDTH 5

/* combine_le of a window of DEFAULT_WIDTH token hashes (40 bytes): the
 * 17..128-byte code XXH3_64bits_withSeed runs for that length, inlined with
 * the length a constant, so no length dispatch remains. */
static inline uint64_t combine5_le(const uint64_t *le, uint64_t seed)
{
    return XXH3_len_17to128_64b((const xxh_u8 *)le, DEFAULT_WIDTH * sizeof *le, XXH3_kSecret,
                                sizeof XXH3_kSecret, seed);
}

/* out[i] = the little-endian image of token i's hash; returns 1 when the
 * token starts with a byte >= 0xE0 (it may be a character token), else 0. */
static inline int hash_token(const cd__normaliser *norm, size_t i, uint64_t seed, uint64_t *out)
{
    const cd__span *t = &norm->tokens[i];
    const char *bytes = norm->bytes + t->offset;
    out[i] = to_le64(token_hash(bytes, t->len, seed));
    return (unsigned char)bytes[0] >= 0xE0;
}

/* hash_token for tokens [from, norm->count); returns 1 when any may be a
 * character token. */
static int hash_tokens_scalar(const cd__normaliser *norm, size_t from, uint64_t seed, uint64_t *out)
{
    int mixed = 0;
    for (size_t i = from; i < norm->count; i++)
        mixed |= hash_token(norm, i, seed, out);
    return mixed;
}

/* Writes out[i] = combine5_le(le + i, seed) for i in [0, count). */
static void windows5_scalar(const uint64_t *le, size_t count, uint64_t seed, uint64_t *out)
{
    for (size_t i = 0; i < count; i++)
        out[i] = combine5_le(le + i, seed);
}

#ifdef SHINGLE_X86
/* The AVX-512 twins below compute, in each 64-bit lane, exactly what the
 * library's scalar code does, so they give identical hashes. */
#define TARGET_AVX512 __attribute__((target("avx512f,avx512dq,avx512bw")))

/* v broadcast to every lane. */
TARGET_AVX512 static inline __m512i splat(uint64_t v)
{
    return _mm512_set1_epi64((long long)v);
}

/* XXH3_mul128_fold64: the low and high halves of the 128-bit product a*b
 * xored, the product built from 32x32-bit ones as the library's portable
 * XXH_mult64to128 builds it. */
TARGET_AVX512 static inline __m512i mul128_fold64_x8(__m512i a, __m512i b)
{
    const __mmask16 low32 = 0x5555; /* the low 32-bit half of each lane */
    __m512i a_hi = _mm512_srli_epi64(a, 32), b_hi = _mm512_srli_epi64(b, 32);
    __m512i lo_lo = _mm512_mul_epu32(a, b), hi_lo = _mm512_mul_epu32(a_hi, b);
    __m512i lo_hi = _mm512_mul_epu32(a, b_hi), hi_hi = _mm512_mul_epu32(a_hi, b_hi);
    __m512i cross = _mm512_add_epi64(_mm512_add_epi64(_mm512_srli_epi64(lo_lo, 32), lo_hi),
                                     _mm512_maskz_mov_epi32(low32, hi_lo));
    __m512i upper = _mm512_add_epi64(_mm512_add_epi64(_mm512_srli_epi64(hi_lo, 32), hi_hi),
                                     _mm512_srli_epi64(cross, 32));
    __m512i lower = _mm512_mask_blend_epi32(low32, _mm512_slli_epi64(cross, 32), lo_lo);
    return _mm512_xor_si512(lower, upper);
}

/* h ^ (h >> shift). */
TARGET_AVX512 static inline __m512i xorshift_x8(__m512i h, unsigned shift)
{
    return _mm512_xor_si512(h, _mm512_srli_epi64(h, shift));
}

/* XXH3_avalanche. */
TARGET_AVX512 static inline __m512i avalanche_x8(__m512i h)
{
    h = _mm512_mullo_epi64(xorshift_x8(h, 37), splat(0x165667919E3779F9ull));
    return xorshift_x8(h, 32);
}

/* XXH64_avalanche. */
TARGET_AVX512 static inline __m512i avalanche64_x8(__m512i h)
{
    h = _mm512_mullo_epi64(xorshift_x8(h, 33), splat(XXH_PRIME64_2));
    h = _mm512_mullo_epi64(xorshift_x8(h, 29), splat(XXH_PRIME64_3));
    return xorshift_x8(h, 32);
}

/* XXH3_rrmxmx of h, for inputs of len bytes. */
TARGET_AVX512 static inline __m512i rrmxmx_x8(__m512i h, __m512i len)
{
    const __m512i mul = splat(0x9FB21C651E98DF25ull);
    h = _mm512_ternarylogic_epi64(h, _mm512_rol_epi64(h, 49), _mm512_rol_epi64(h, 24), 0x96);
    h = _mm512_mullo_epi64(h, mul);
    h = _mm512_xor_si512(h, _mm512_add_epi64(_mm512_srli_epi64(h, 35), len));
    return xorshift_x8(_mm512_mullo_epi64(h, mul), 28);
}

/* Each 64-bit lane with its bytes reversed (XXH_swap64). */
TARGET_AVX512 static inline __m512i swap64_x8(__m512i v)
{
    const __m128i reverse = _mm_setr_epi8(7, 6, 5, 4, 3, 2, 1, 0, 15, 14, 13, 12, 11, 10, 9, 8);
    return _mm512_shuffle_epi8(v, _mm512_broadcast_i32x4(reverse));
}

/* XXH3_len_0to16_64b in each lane, for a token of len bytes (1..16) whose
 * first 8 bytes are head and last 8 are tail (bytes of head past the token
 * are ignored; tail matters only when len > 8): the formulas for 1..3, 4..8
 * and 9..16 bytes all computed, and the one for len kept. */
TARGET_AVX512 static inline __m512i short_hash_x8(__m512i head, __m512i tail, __m512i len,
                                                  uint64_t seed)
{
    const xxh_u8 *k = XXH3_kSecret;
    const __m512i byte = splat(0xFF), bits = _mm512_slli_epi64(len, 3);
    /* XXH3_len_1to3_64b: bytes 0, len / 2 and len - 1 */
    __m512i c1 = _mm512_and_si512(head, byte);
    __m512i c2 = _mm512_and_si512(
        _mm512_srlv_epi64(head, _mm512_slli_epi64(_mm512_srli_epi64(len, 1), 3)), byte);
    __m512i c3 = _mm512_and_si512(_mm512_srlv_epi64(head, _mm512_sub_epi64(bits, splat(8))), byte);
    __m512i combined =
        _mm512_or_si512(_mm512_or_si512(_mm512_slli_epi64(c1, 16), _mm512_slli_epi64(c2, 24)),
                        _mm512_or_si512(c3, _mm512_slli_epi64(len, 8)));
    __m512i h3 = avalanche64_x8(
        _mm512_xor_si512(combined, splat((XXH_readLE32(k) ^ XXH_readLE32(k + 4)) + seed)));
    /* XXH3_len_4to8_64b: the first 4 bytes above the last 4 */
    uint64_t seed8 = seed ^ (uint64_t)XXH_swap32((uint32_t)seed) << 32;
    __m512i last4 = _mm512_and_si512(_mm512_srlv_epi64(head, _mm512_sub_epi64(bits, splat(32))),
                                     splat(0xFFFFFFFF));
    __m512i input64 = _mm512_add_epi64(last4, _mm512_slli_epi64(head, 32));
    __m512i h8 = rrmxmx_x8(
        _mm512_xor_si512(input64, splat((XXH_readLE64(k + 8) ^ XXH_readLE64(k + 16)) - seed8)),
        len);
    /* XXH3_len_9to16_64b: the first 8 bytes and the last 8 */
    __m512i lo =
        _mm512_xor_si512(head, splat((XXH_readLE64(k + 24) ^ XXH_readLE64(k + 32)) + seed));
    __m512i hi =
        _mm512_xor_si512(tail, splat((XXH_readLE64(k + 40) ^ XXH_readLE64(k + 48)) - seed));
    __m512i acc = _mm512_add_epi64(_mm512_add_epi64(len, swap64_x8(lo)),
                                   _mm512_add_epi64(hi, mul128_fold64_x8(lo, hi)));
    __m512i h16 = avalanche_x8(acc);
    __m512i h = _mm512_mask_blend_epi64(_mm512_cmple_epu64_mask(len, splat(8)), h16, h8);
    return _mm512_mask_blend_epi64(_mm512_cmple_epu64_mask(len, splat(3)), h, h3);
}

/* hash_tokens_scalar from token 0, eight tokens at a time: the first and
 * last 8 bytes of each token of 1..16 bytes are gathered (every byte of
 * norm->bytes below bytes_len is written, so 8 bytes can be read from a
 * token's start unless it is within 8 bytes of the end) and hashed by
 * short_hash_x8; other tokens, and the last few, go through hash_token. */
TARGET_AVX512 static int hash_tokens_avx512(const cd__normaliser *norm, uint64_t seed,
                                            uint64_t *out)
{
    if (norm->bytes_len < 8)
        return hash_tokens_scalar(norm, 0, seed, out);
    const __m512i even = _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14);
    const __m512i odd = _mm512_setr_epi64(1, 3, 5, 7, 9, 11, 13, 15);
    const __m512i last_head = splat(norm->bytes_len - 8), eight = splat(8);
    __mmask8 first_bytes = 0; /* lanes whose token starts with a byte >= 0xE0 */
    int mixed = 0;
    size_t i = 0;
    for (; i + 8 <= norm->count; i += 8) {
        const cd__span *t = norm->tokens + i;
        __m512i a = _mm512_loadu_si512(t), b = _mm512_loadu_si512(t + 4);
        __m512i off = _mm512_permutex2var_epi64(a, even, b);
        __m512i len = _mm512_permutex2var_epi64(a, odd, b);
        __mmask8 fast = _mm512_cmple_epu64_mask(_mm512_sub_epi64(len, splat(1)), splat(15)) &
                        _mm512_cmple_epu64_mask(off, last_head);
        __m512i tail_off =
            _mm512_sub_epi64(_mm512_add_epi64(off, _mm512_max_epu64(len, eight)), eight);
        __m512i head =
            _mm512_mask_i64gather_epi64(_mm512_setzero_si512(), fast, off, norm->bytes, 1);
        __m512i tail =
            _mm512_mask_i64gather_epi64(_mm512_setzero_si512(), fast, tail_off, norm->bytes, 1);
        _mm512_storeu_si512(out + i, short_hash_x8(head, tail, len, seed));
        first_bytes |=
            _mm512_mask_cmpge_epu64_mask(fast, _mm512_and_si512(head, splat(0xFF)), splat(0xE0));
        for (unsigned slow = (uint8_t)~fast; slow; slow &= slow - 1)
            mixed |= hash_token(norm, i + (unsigned)__builtin_ctz(slow), seed, out);
    }
    return hash_tokens_scalar(norm, i, seed, out) | mixed | (first_bytes != 0);
}

/* windows5_scalar, eight windows at a time: lane j of the vector loaded at
 * le + i + w is word w of window i + j. For 40 bytes XXH3_len_17to128_64b
 * adds XXH3_mix16B of words (2,3), (1,2), (0,1) and (3,4) (input + 16,
 * + len - 32, + 0, + len - 16) with the secret at 32, 48, 0 and 16. */
TARGET_AVX512 static void windows5_avx512(const uint64_t *le, size_t count, uint64_t seed,
                                          uint64_t *out)
{
    const xxh_u8 *k = XXH3_kSecret;
    const __m512i start = splat(DEFAULT_WIDTH * 8 * XXH_PRIME64_1);
    const unsigned pair_key[4] = {32, 48, 0, 16}; /* secret offset of pair (2,3), (1,2), ... */
    const unsigned pair_word[4] = {2, 1, 0, 3};   /* the first word of each pair */
    __m512i key_lo[4], key_hi[4];
    for (int p = 0; p < 4; p++) {
        key_lo[p] = splat(XXH_readLE64(k + pair_key[p]) + seed);
        key_hi[p] = splat(XXH_readLE64(k + pair_key[p] + 8) - seed);
    }
    size_t i = 0;
    for (; i + 8 <= count; i += 8) {
        __m512i acc = start;
        for (int p = 0; p < 4; p++) {
            __m512i lo = _mm512_loadu_si512(le + i + pair_word[p]);
            __m512i hi = _mm512_loadu_si512(le + i + pair_word[p] + 1);
            acc = _mm512_add_epi64(acc, mul128_fold64_x8(_mm512_xor_si512(lo, key_lo[p]),
                                                         _mm512_xor_si512(hi, key_hi[p])));
        }
        _mm512_storeu_si512(out + i, avalanche_x8(acc));
    }
    windows5_scalar(le + i, count - i, seed, out + i);
}
#endif

/* Hashes every token of norm into out (as hash_tokens_scalar), with the
 * fastest of the identical implementations simd allows; returns 1 when a
 * token may be a character token. */
static int hash_tokens(int simd, const cd__normaliser *norm, uint64_t seed, uint64_t *out)
{
#ifdef SHINGLE_X86
    if (simd >= CD__SIMD_AVX512)
        return hash_tokens_avx512(norm, seed, out);
#endif
    (void)simd;
    return hash_tokens_scalar(norm, 0, seed, out);
}

/* Writes the hash of each window of DEFAULT_WIDTH token hashes, out[i] =
 * combine5_le(le + i, seed) for i in [0, count), with the fastest of the
 * identical implementations simd allows. */
static void windows5(int simd, const uint64_t *le, size_t count, uint64_t seed, uint64_t *out)
{
#ifdef SHINGLE_X86
    if (simd >= CD__SIMD_AVX512) {
        windows5_avx512(le, count, seed, out);
        return;
    }
#endif
    (void)simd;
    windows5_scalar(le, count, seed, out);
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
    s->simd = (int)cd__simd_level_get();
}

void cd__shingler_free(cd__shingler *s)
{
    cd__free(s->token_le);
    cd__free(s->hashes);
    cd__free(s->starts);
    int simd = s->simd;
    memset(s, 0, sizeof *s);
    s->simd = simd;
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
    int mixed = hash_tokens(s->simd, norm, seed, s->token_le);
    size_t count = 0;
    if (!mixed || char_ngram == ngram) {
        /* one width: word n-grams (the common, fast path) */
        size_t shingles = cd__shingle_count(tokens, ngram);
        size_t width = tokens < ngram ? tokens : ngram;
        if (width == DEFAULT_WIDTH) {
            windows5(s->simd, s->token_le, shingles, seed, s->hashes);
        } else {
            for (size_t i = 0; i < shingles; i++)
                s->hashes[i] = combine_le(s->token_le + i, width, seed);
        }
        for (size_t i = 0; i < shingles; i++)
            s->starts[i] = (uint32_t)i;
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
