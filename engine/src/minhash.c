/* minhash.c: the MinHash stage (after shingle/hash, before LSH): k values
 * per document, each the minimum of one seeded hash function over the
 * document's shingle hashes. */
#include "minhash.h"

#include <string.h>

#include "alloc.h"

uint64_t cd__splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

cd_status cd__minhash_init(cd__minhasher *m, unsigned perm, uint64_t seed)
{
    memset(m, 0, sizeof *m);
    if (perm == 0)
        return CD_ERR_ARG;
    unsigned padded = (perm + CD__MINHASH_BLOCK - 1) / CD__MINHASH_BLOCK * CD__MINHASH_BLOCK;
    uint64_t *a = cd__calloc(padded, sizeof *a);
    uint64_t *b = cd__calloc(padded, sizeof *b);
    if (!a || !b) {
        cd__free(a);
        cd__free(b);
        return CD_ERR_NOMEM;
    }
    uint64_t state = seed;
    for (unsigned i = 0; i < perm; i++) {
        a[i] = cd__splitmix64(&state) | 1;
        b[i] = cd__splitmix64(&state);
    }
    for (unsigned i = perm; i < padded; i++)
        a[i] = 1; /* padding: computed, never written out */
    cd__minhash_fn best = cd__minhash_reference;
    cd__minhash_variants(NULL, &best, 1);
    *m = (cd__minhasher){perm, padded, a, b, best};
    return CD_OK;
}

void cd__minhash_free(cd__minhasher *m)
{
    cd__free(m->a);
    cd__free(m->b);
    memset(m, 0, sizeof *m);
}

/* The reference loop. Blocks of CD__MINHASH_BLOCK permutations, shingles in
 * the middle loop, permutations innermost: the inner loop has a fixed trip
 * count over contiguous arrays and a local minimum array, so the compiler
 * vectorises it; each variant below is this same code compiled for another
 * instruction set. */
static inline __attribute__((always_inline)) void
minhash_blocks(const cd__minhasher *m, const uint64_t *hashes, size_t count, uint32_t *sig)
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

void cd__minhash_reference(const cd__minhasher *m, const uint64_t *hashes, size_t count,
                           uint32_t *sig)
{
    minhash_blocks(m, hashes, count, sig);
}

#if defined(__GNUC__) && defined(__x86_64__)
#define CD_MINHASH_X86 1

__attribute__((target("avx2"))) static void
minhash_avx2(const cd__minhasher *m, const uint64_t *hashes, size_t count, uint32_t *sig)
{
    minhash_blocks(m, hashes, count, sig);
}

__attribute__((target("avx512f,avx512dq,avx512vl"))) static void
minhash_avx512(const cd__minhasher *m, const uint64_t *hashes, size_t count, uint32_t *sig)
{
    minhash_blocks(m, hashes, count, sig);
}
#endif

size_t cd__minhash_variants(const char **names, cd__minhash_fn *fns, size_t max)
{
    size_t n = 0;
#define ADD(name, fn)                                                                              \
    do {                                                                                           \
        if (n < max && names)                                                                      \
            names[n] = name;                                                                       \
        if (n < max && fns)                                                                        \
            fns[n] = fn;                                                                           \
        n++;                                                                                       \
    } while (0)
#ifdef CD_MINHASH_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512vl"))
        ADD("avx512", minhash_avx512);
    if (__builtin_cpu_supports("avx2"))
        ADD("avx2", minhash_avx2);
#endif
    ADD("reference", cd__minhash_reference);
#undef ADD
    return n;
}

void cd__minhash(const cd__minhasher *m, const uint64_t *hashes, size_t count, uint32_t *sig)
{
    m->run(m, hashes, count, sig);
}
