/* minhash_circulant.c: the C-MinHash scheme of the MinHash stage (see
 * minhash.h; Li and Li, "C-MinHash: Rigorously Reducing K Permutations to
 * Two", 2021): sigma maps each shingle hash to a 32-bit position, and value i
 * is the minimum of pi over the positions shifted by i. */
#include <string.h>

#include "minhash_schemes.h"

/* Positions computed per round, so sigma is evaluated once per shingle. */
#define CHUNK 256

/* A bijection of the 32-bit integers with strong avalanche (Wellons'
 * "lowbias32"): neighbouring inputs give unrelated outputs. */
CD__ALWAYS_INLINE uint32_t lowbias32(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7feb352du;
    x ^= x >> 15;
    x *= 0x846ca68bu;
    x ^= x >> 16;
    return x;
}

/* Blocks of CD__MINHASH_BLOCK values, positions in the middle loop, values
 * innermost (a fixed trip count of 32-bit lanes, which the compiler
 * vectorises); each variant is this code for another instruction set. */
CD__ALWAYS_INLINE void circulant(const cd__minhasher *m, const uint64_t *hashes, size_t count,
                                 uint32_t *sig)
{
    const uint64_t key0 = m->key[0];
    const uint32_t key2 = (uint32_t)m->key[2];
    uint32_t pos[CHUNK];
    uint32_t mins[CD__MINHASH_MAX_PERM];
    const unsigned padded =
        (m->perm + CD__MINHASH_BLOCK - 1) / CD__MINHASH_BLOCK * CD__MINHASH_BLOCK;
    for (unsigned i = 0; i < padded; i++)
        mins[i] = UINT32_MAX;
    for (size_t base = 0; base < count; base += CHUNK) {
        size_t n = count - base < CHUNK ? count - base : CHUNK;
        for (size_t j = 0; j < n; j++)
            pos[j] = (uint32_t)(cd__mix64(hashes[base + j] + key0) >> 32);
        for (unsigned block = 0; block < padded; block += CD__MINHASH_BLOCK) {
            uint32_t *restrict out = mins + block;
            uint32_t local[CD__MINHASH_BLOCK];
            memcpy(local, out, sizeof local);
            for (size_t j = 0; j < n; j++) {
                uint32_t p = pos[j] + block;
                for (unsigned i = 0; i < CD__MINHASH_BLOCK; i++) {
                    uint32_t v = lowbias32((p + i) ^ key2);
                    local[i] = v < local[i] ? v : local[i];
                }
            }
            memcpy(out, local, sizeof local);
        }
    }
    memcpy(sig, mins, m->perm * sizeof *sig);
}

static void circulant_scalar(const cd__minhasher *m, const uint64_t *hashes, size_t count,
                             uint32_t *sig)
{
    circulant(m, hashes, count, sig);
}

#ifdef CD__MINHASH_X86
CD__TARGET_AVX2 static void circulant_avx2(const cd__minhasher *m, const uint64_t *hashes,
                                           size_t count, uint32_t *sig)
{
    circulant(m, hashes, count, sig);
}

CD__TARGET_AVX512 static void circulant_avx512(const cd__minhasher *m, const uint64_t *hashes,
                                               size_t count, uint32_t *sig)
{
    circulant(m, hashes, count, sig);
}
#endif

cd__minhash_fn cd__minhash_circulant_fn(cd__simd_level level)
{
    switch (level) {
#ifdef CD__MINHASH_X86
    case CD__SIMD_AVX512:
        return circulant_avx512;
    case CD__SIMD_AVX2:
        return circulant_avx2;
#endif
    case CD__SIMD_SCALAR:
        return circulant_scalar;
    default:
        return NULL;
    }
}
