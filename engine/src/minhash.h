/* minhash.h: the MinHash stage, between shingle/hash and LSH. Classic
 * k independent permutations: k hash functions h_i(x) = top 32 bits of
 * (a_i*x + b_i) mod 2^64 with a_i odd, derived from the seed; value i of a
 * signature is the minimum of h_i over the document's shingle hashes. */
#ifndef CD_MINHASH_H
#define CD_MINHASH_H

#include <stddef.h>
#include <stdint.h>

#include "copydesk/copydesk.h"

/* Permutations are evaluated in blocks of this many; the coefficient arrays
 * are padded to a multiple of it. */
#define CD__MINHASH_BLOCK 64

typedef struct cd__minhasher cd__minhasher;

/* A MinHash implementation: writes m->perm values for count hashes. */
typedef void (*cd__minhash_fn)(const cd__minhasher *m, const uint64_t *hashes, size_t count,
                               uint32_t *sig);

/* The k hash functions of one (seed, perm) pair. */
struct cd__minhasher {
    unsigned perm;      /* k, values per signature */
    unsigned padded;    /* perm rounded up to CD__MINHASH_BLOCK */
    uint64_t *a;        /* padded multipliers, odd */
    uint64_t *b;        /* padded offsets */
    cd__minhash_fn run; /* the fastest variant this CPU runs, chosen by init */
};

/* Next value of the splitmix64 stream whose state is *state. */
uint64_t cd__splitmix64(uint64_t *state);

/* Fills *m for perm values from seed: starting from state = seed, for
 * i = 0 .. perm-1: a_i = splitmix64(&state) | 1, b_i = splitmix64(&state).
 * perm >= 1. Returns CD_OK or CD_ERR_NOMEM (*m then holds nothing to free). */
cd_status cd__minhash_init(cd__minhasher *m, unsigned perm, uint64_t seed);

/* Frees the arrays of *m (not m) and zeroes it. */
void cd__minhash_free(cd__minhasher *m);

/* The reference MinHash, the oracle every faster path is tested against:
 * sig[i] = min over j of (uint32_t)((a_i * hashes[j] + b_i) >> 32) for
 * i < m->perm, or UINT32_MAX for every i when count is 0. Plain scalar C
 * written so the compiler vectorises the loop over i. Thread-safe. */
void cd__minhash_reference(const cd__minhasher *m, const uint64_t *hashes, size_t count,
                           uint32_t *sig);

/* The MinHash the signer uses: m->run, the reference compiled for the best
 * instruction set this CPU has (AVX-512DQ has a native 64-bit multiply,
 * about 6x faster than baseline x86-64; AVX2 about 2x). Same C, same results;
 * tested equal to the reference. Thread-safe. */
void cd__minhash(const cd__minhasher *m, const uint64_t *hashes, size_t count, uint32_t *sig);

/* The variants this CPU can run, best first: up to max names and functions
 * (either array may be NULL); returns how many there are. The last is always
 * cd__minhash_reference. For tests and benchmarks. */
size_t cd__minhash_variants(const char **names, cd__minhash_fn *fns, size_t max);

#endif
