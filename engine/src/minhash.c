/* minhash.c: the MinHash stage (after shingle/hash, before LSH): set-up of a
 * scheme's hash functions, run-time choice of its fastest variant, and the
 * classic k-permutation scheme. The other schemes are in
 * minhash_one_permutation.c and minhash_circulant.c. */
#include "minhash.h"

#include <string.h>

#include "alloc.h"
#include "minhash_schemes.h"

uint64_t cd__splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    return cd__mix64(z);
}

const char *cd__minhash_scheme_name(cd_minhash_scheme scheme)
{
    switch (scheme) {
    case CD_MINHASH_CLASSIC:
        return "classic";
    case CD_MINHASH_ONE_PERMUTATION:
        return "one-permutation";
    case CD_MINHASH_CIRCULANT:
        return "circulant";
    case CD_MINHASH_ONE_PERMUTATION_ROUNDS:
        return "one-permutation-rounds";
    }
    return "unknown";
}

/* The variant of scheme for level, or NULL. */
static cd__minhash_fn scheme_fn(cd_minhash_scheme scheme, cd__simd_level level)
{
    switch (scheme) {
    case CD_MINHASH_CLASSIC:
        return cd__minhash_classic_fn(level);
    case CD_MINHASH_ONE_PERMUTATION:
        return cd__minhash_one_permutation_fn(level);
    case CD_MINHASH_CIRCULANT:
        return cd__minhash_circulant_fn(level);
    case CD_MINHASH_ONE_PERMUTATION_ROUNDS:
        return cd__minhash_one_permutation_rounds_fn(level);
    }
    return NULL;
}

size_t cd__minhash_variants(cd_minhash_scheme scheme, const char **names, cd__minhash_fn *fns,
                            size_t max)
{
    size_t n = 0;
    for (int level = (int)cd__simd_level_get(); level >= CD__SIMD_SCALAR; level--) {
        cd__minhash_fn fn = scheme_fn(scheme, (cd__simd_level)level);
        if (!fn)
            continue;
        if (n < max && names)
            names[n] = cd__simd_level_name((cd__simd_level)level);
        if (n < max && fns)
            fns[n] = fn;
        n++;
    }
    return n;
}

cd_status cd__minhash_init(cd__minhasher *m, cd_minhash_scheme scheme, unsigned perm, uint64_t seed)
{
    memset(m, 0, sizeof *m);
    if (perm == 0 || perm > CD__MINHASH_MAX_PERM || !scheme_fn(scheme, CD__SIMD_SCALAR))
        return CD_ERR_ARG;
    uint64_t state = seed;
    if (scheme == CD_MINHASH_CLASSIC) {
        unsigned padded = (perm + CD__MINHASH_BLOCK - 1) / CD__MINHASH_BLOCK * CD__MINHASH_BLOCK;
        uint64_t *a = cd__calloc(padded, sizeof *a);
        uint64_t *b = cd__calloc(padded, sizeof *b);
        if (!a || !b) {
            cd__free(a);
            cd__free(b);
            return CD_ERR_NOMEM;
        }
        for (unsigned i = 0; i < perm; i++) {
            a[i] = cd__splitmix64(&state) | 1;
            b[i] = cd__splitmix64(&state);
        }
        for (unsigned i = perm; i < padded; i++)
            a[i] = 1; /* padding: computed, never written out */
        m->padded = padded;
        m->a = a;
        m->b = b;
    } else {
        for (int i = 0; i < 3; i++)
            m->key[i] = cd__splitmix64(&state);
    }
    m->scheme = scheme;
    m->perm = perm;
    const char *name = "scalar";
    cd__minhash_fn best = scheme_fn(scheme, CD__SIMD_SCALAR);
    cd__minhash_variants(scheme, &name, &best, 1);
    m->run = best;
    m->variant = name;
    return CD_OK;
}

void cd__minhash_free(cd__minhasher *m)
{
    cd__free(m->a);
    cd__free(m->b);
    memset(m, 0, sizeof *m);
}

void cd__minhash_reference(const cd__minhasher *m, const uint64_t *hashes, size_t count,
                           uint32_t *sig)
{
    scheme_fn(m->scheme, CD__SIMD_SCALAR)(m, hashes, count, sig);
}

void cd__minhash(const cd__minhasher *m, const uint64_t *hashes, size_t count, uint32_t *sig)
{
    m->run(m, hashes, count, sig);
}

/* ---------------------------------------------------------------- classic */

/* Blocks of CD__MINHASH_BLOCK permutations, shingles in the middle loop,
 * permutations innermost: the inner loop has a fixed trip count over
 * contiguous arrays and a local minimum array, so the compiler vectorises it;
 * each variant is this same code compiled for another instruction set. */
CD__ALWAYS_INLINE void classic_blocks(const cd__minhasher *m, const uint64_t *hashes, size_t count,
                                      uint32_t *sig)
{
    for (unsigned base = 0; base < m->perm; base += CD__MINHASH_BLOCK) {
        const uint64_t *restrict a = m->a + base;
        const uint64_t *restrict b = m->b + base;
        uint32_t mins[CD__MINHASH_BLOCK];
        for (unsigned i = 0; i < CD__MINHASH_BLOCK; i++)
            mins[i] = UINT32_MAX;
        for (size_t j = 0; j < count; j++) {
            uint64_t x = hashes[j];
            for (unsigned i = 0; i < CD__MINHASH_BLOCK; i++) {
                uint32_t v = (uint32_t)((a[i] * x + b[i]) >> 32);
                mins[i] = v < mins[i] ? v : mins[i];
            }
        }
        unsigned n = m->perm - base < CD__MINHASH_BLOCK ? m->perm - base : CD__MINHASH_BLOCK;
        memcpy(sig + base, mins, n * sizeof *sig);
    }
}

static void classic_scalar(const cd__minhasher *m, const uint64_t *hashes, size_t count,
                           uint32_t *sig)
{
    classic_blocks(m, hashes, count, sig);
}

#ifdef CD__MINHASH_X86
CD__TARGET_AVX2 static void classic_avx2(const cd__minhasher *m, const uint64_t *hashes,
                                         size_t count, uint32_t *sig)
{
    classic_blocks(m, hashes, count, sig);
}

/* AVX-512DQ has a native 64-bit multiply: about 6x the baseline. */
CD__TARGET_AVX512 static void classic_avx512(const cd__minhasher *m, const uint64_t *hashes,
                                             size_t count, uint32_t *sig)
{
    classic_blocks(m, hashes, count, sig);
}
#endif

cd__minhash_fn cd__minhash_classic_fn(cd__simd_level level)
{
    switch (level) {
#ifdef CD__MINHASH_X86
    case CD__SIMD_AVX512:
        return classic_avx512;
    case CD__SIMD_AVX2:
        return classic_avx2;
#endif
    case CD__SIMD_SCALAR:
        return classic_scalar;
    default:
        return NULL;
    }
}
