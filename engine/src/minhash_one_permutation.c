/* minhash_one_permutation.c: the one-permutation MinHash schemes of the
 * MinHash stage (see minhash.h). One mix per shingle hash spreads the
 * shingles over k bins and the minimum of each bin is its value (Li, Owen,
 * Zhang 2012). CD_MINHASH_ONE_PERMUTATION then fills the empty bins by
 * optimal densification (Shrivastava, "Optimal Densification for Fast and
 * Accurate Minwise Hashing", ICML 2017); CD_MINHASH_ONE_PERMUTATION_ROUNDS
 * first refills them with further rounds of fresh hashes, as Fast Similarity
 * Sketching does (Dahlgaard, Knudsen, Thorup 2017), and densifies only what
 * is still empty after CD__MINHASH_ROUNDS rounds. */
#include <string.h>

#include "minhash_schemes.h"

/* The value of an empty bin while binning; real values are capped below it. */
#define EMPTY UINT32_MAX

/* Shingles mixed per step: bins and values go to small arrays first so the
 * mixing loop vectorises, then a scalar loop updates the bins. */
#define CHUNK 256

/* The key of round r >= 2 (round 1 uses key0). */
static inline uint64_t round_key(const cd__minhasher *m, unsigned r)
{
    return cd__mix64(m->key[2] + (uint64_t)r * 0x9E3779B97F4A7C15ull);
}

/* Bins and values of x[0..n) under key: the vectorisable half of a round. */
CD__ALWAYS_INLINE void bin_chunk(const uint64_t *x, size_t n, uint64_t key, uint64_t k,
                                 uint32_t *bin, uint32_t *val)
{
    for (size_t j = 0; j < n; j++) {
        uint64_t z = cd__mix64(x[j] + key);
        uint32_t v = (uint32_t)z;
        bin[j] = (uint32_t)(((z >> 32) * k) >> 32);
        val[j] = v == EMPTY ? EMPTY - 1 : v;
    }
}

/* Round 1: the bin minima of the count hashes into mins[0..perm). */
CD__ALWAYS_INLINE void first_round(const cd__minhasher *m, const uint64_t *hashes, size_t count,
                                   uint32_t *mins)
{
    uint32_t bin[CHUNK], val[CHUNK];
    for (unsigned i = 0; i < m->perm; i++)
        mins[i] = EMPTY;
    for (size_t base = 0; base < count; base += CHUNK) {
        size_t n = count - base < CHUNK ? count - base : CHUNK;
        bin_chunk(hashes + base, n, m->key[0], m->perm, bin, val);
        for (size_t j = 0; j < n; j++) {
            uint32_t b = bin[j], v = val[j];
            mins[b] = v < mins[b] ? v : mins[b];
        }
    }
}

/* Rounds 2 .. CD__MINHASH_ROUNDS while a bin is empty: each round bins every
 * hash again with a fresh key, and a bin takes the minimum of the first round
 * in which any hash lands in it. For each bin this is the minimum of i.i.d.
 * per-shingle variables (round, value) in lexicographic order, so two
 * documents agree on a bin with probability their Jaccard similarity; a bin
 * filled in an earlier round cannot change in a later one, which is why the
 * rounds may stop as soon as no bin is empty. */
CD__ALWAYS_INLINE void more_rounds(const cd__minhasher *m, const uint64_t *hashes, size_t count,
                                   uint32_t *mins)
{
    const unsigned k = m->perm;
    unsigned char filled_in[CD__MINHASH_MAX_PERM]; /* round that filled the bin, 0 = empty */
    unsigned empty = 0;
    for (unsigned i = 0; i < k; i++) {
        filled_in[i] = mins[i] != EMPTY;
        empty += mins[i] == EMPTY;
    }
    uint32_t bin[CHUNK], val[CHUNK];
    for (unsigned r = 2; r <= CD__MINHASH_ROUNDS && empty > 0; r++) {
        uint64_t key = round_key(m, r);
        for (size_t base = 0; base < count; base += CHUNK) {
            size_t n = count - base < CHUNK ? count - base : CHUNK;
            bin_chunk(hashes + base, n, key, k, bin, val);
            for (size_t j = 0; j < n; j++) {
                uint32_t b = bin[j], v = val[j];
                if (filled_in[b] == 0) {
                    filled_in[b] = (unsigned char)r;
                    mins[b] = v;
                    empty--;
                } else if (filled_in[b] == r && v < mins[b]) {
                    mins[b] = v;
                }
            }
        }
    }
}

/* The t-th bin (t >= 1) that empty bin i borrows from, if it is not empty. */
static inline unsigned probe(uint64_t key1, unsigned i, uint64_t t, uint64_t k)
{
    uint64_t z = cd__mix64(((t << 32) | i) + key1);
    return (unsigned)(((z >> 32) * k) >> 32);
}

/* Writes the signature from the bins: filled bins as they are, each empty
 * one from the first filled bin on its own probe sequence. The sequence
 * depends only on (seed, i), so two documents borrow from the same bin
 * whenever the bins before it on the sequence are empty in both. */
static void densify(const cd__minhasher *m, const uint32_t *mins, uint32_t *sig)
{
    const unsigned k = m->perm;
    const uint64_t key1 = m->key[1];
    unsigned empty = 0;
    for (unsigned i = 0; i < k; i++) {
        sig[i] = mins[i];
        empty += mins[i] == EMPTY;
    }
    if (empty == 0)
        return;
    const uint64_t tries = (uint64_t)64 * k; /* P(no hit) < (1 - 1/k)^(64k) < e^-64 */
    for (unsigned i = 0; i < k; i++) {
        if (mins[i] != EMPTY)
            continue;
        unsigned j = i;
        uint64_t t;
        for (t = 1; t <= tries; t++) {
            j = probe(key1, i, t, k);
            if (mins[j] != EMPTY)
                break;
        }
        if (t > tries) /* never in practice: the next filled bin */
            do
                j = j + 1 == k ? 0 : j + 1;
            while (mins[j] == EMPTY);
        sig[i] = mins[j];
    }
}

CD__ALWAYS_INLINE void one_permutation(const cd__minhasher *m, const uint64_t *hashes, size_t count,
                                       uint32_t *sig, int rounds)
{
    if (count == 0) {
        for (unsigned i = 0; i < m->perm; i++)
            sig[i] = UINT32_MAX;
        return;
    }
    uint32_t mins[CD__MINHASH_MAX_PERM];
    first_round(m, hashes, count, mins);
    if (rounds)
        more_rounds(m, hashes, count, mins);
    densify(m, mins, sig);
}

/* Each variant: the same code compiled for another instruction set. */
#define VARIANTS(suffix, target)                                                                   \
    target static void one_permutation_##suffix(const cd__minhasher *m, const uint64_t *hashes,    \
                                                size_t count, uint32_t *sig)                       \
    {                                                                                              \
        one_permutation(m, hashes, count, sig, 0);                                                 \
    }                                                                                              \
    target static void rounds_##suffix(const cd__minhasher *m, const uint64_t *hashes,             \
                                       size_t count, uint32_t *sig)                                \
    {                                                                                              \
        one_permutation(m, hashes, count, sig, 1);                                                 \
    }

VARIANTS(scalar, )
#ifdef CD__MINHASH_X86
VARIANTS(avx2, CD__TARGET_AVX2)
VARIANTS(avx512, CD__TARGET_AVX512)
#endif

cd__minhash_fn cd__minhash_one_permutation_fn(cd__simd_level level)
{
    switch (level) {
#ifdef CD__MINHASH_X86
    case CD__SIMD_AVX512:
        return one_permutation_avx512;
    case CD__SIMD_AVX2:
        return one_permutation_avx2;
#endif
    case CD__SIMD_SCALAR:
        return one_permutation_scalar;
    default:
        return NULL;
    }
}

cd__minhash_fn cd__minhash_one_permutation_rounds_fn(cd__simd_level level)
{
    switch (level) {
#ifdef CD__MINHASH_X86
    case CD__SIMD_AVX512:
        return rounds_avx512;
    case CD__SIMD_AVX2:
        return rounds_avx2;
#endif
    case CD__SIMD_SCALAR:
        return rounds_scalar;
    default:
        return NULL;
    }
}
