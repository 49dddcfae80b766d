/* minhash_schemes.h: private to the MinHash stage (minhash.c,
 * minhash_one_permutation.c, minhash_circulant.c). Each scheme hands out its
 * implementation for an instruction-set level; minhash.c dispatches. */
#ifndef CD_MINHASH_SCHEMES_H
#define CD_MINHASH_SCHEMES_H

#include <stdint.h>

#include "minhash.h"
#include "simd.h"

/* The variant of each scheme compiled for level, or NULL when there is none
 * for that level (the caller then tries the level below). CD__SIMD_SCALAR
 * always has one: the reference. */
cd__minhash_fn cd__minhash_classic_fn(cd__simd_level level);
cd__minhash_fn cd__minhash_one_permutation_fn(cd__simd_level level);
cd__minhash_fn cd__minhash_circulant_fn(cd__simd_level level);
cd__minhash_fn cd__minhash_one_permutation_rounds_fn(cd__simd_level level);

/* The splitmix64 finaliser: a bijection of the 64-bit integers. */
static inline uint64_t cd__mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Whether this compiler can build the AVX2 / AVX-512 variants. */
#if defined(__GNUC__) && defined(__x86_64__)
#define CD__MINHASH_X86 1
#define CD__TARGET_AVX2 __attribute__((target("avx2,bmi2")))
#define CD__TARGET_AVX512 __attribute__((target("avx2,bmi2,avx512f,avx512dq,avx512bw,avx512vl")))
#endif

#define CD__ALWAYS_INLINE static inline __attribute__((always_inline))

#endif
