/* minhash.h: the MinHash stage, between shingle/hash and LSH. A signature is
 * k 32-bit values drawn from a document's 64-bit shingle hashes by one of
 * three schemes (cd_minhash_scheme); for each, two documents agree on a value
 * with probability (about) their Jaccard similarity.
 *
 * CD_MINHASH_CLASSIC: k hash functions h_i(x) = top 32 bits of
 *   (a_i*x + b_i) mod 2^64, a_i odd, from the seed; value i is the minimum of
 *   h_i over the shingle hashes. k multiply-adds per shingle.
 *
 * CD_MINHASH_ONE_PERMUTATION (Li, Owen, Zhang 2012, with the optimal
 *   densification of Shrivastava 2017): each shingle hash x is mixed once,
 *   z = mix64(x + key0); its top 32 bits pick bin (z >> 32) * k >> 32 and
 *   its low 32 bits, capped at UINT32_MAX - 1, are its value there; value i
 *   is the minimum over the shingles in bin i. An empty bin i then copies the
 *   value of bin j_1, j_2, ... (the first one that is not empty), where
 *   j_t = (mix64((t << 32 | i) + key1) >> 32) * k >> 32 for t = 1, 2, ...
 *   (after 64*k misses, the next non-empty bin after i, cyclically). One mix
 *   per shingle plus O(k): the fast scheme.
 *
 * CD_MINHASH_ONE_PERMUTATION_ROUNDS: as CD_MINHASH_ONE_PERMUTATION, but
 *   while a bin is empty after round r (round 1 is the binning above), round
 *   r+1, up to CD__MINHASH_ROUNDS, bins every shingle again with
 *   z = mix64(x + key_r), key_r = mix64(key2 + r * 0x9E3779B97F4A7C15), and
 *   each bin still empty takes the minimum value of the shingles that land in
 *   it in that round; bins empty after the last round are densified as above.
 *   Like Fast Similarity Sketching (Dahlgaard, Knudsen, Thorup 2017), it
 *   spreads the shingles over the bins almost without repeats, so its
 *   variance is below classic MinHash's at every set size (densification
 *   alone is up to 1.4x above it for sets of a few dozen shingles). About 1.8
 *   mixes per shingle on news articles: the default.
 *
 * CD_MINHASH_CIRCULANT (C-MinHash, Li and Li 2021): two permutations of the
 *   32-bit integers, sigma(x) = mix64(x + key0) >> 32 and
 *   pi(y) = lowbias32(y ^ key2); value i is the minimum over the shingles of
 *   pi((sigma(x) + i) mod 2^32), pi shifted circularly by i. k cheap 32-bit
 *   mixes per shingle.
 *
 * mix64 is the splitmix64 finaliser; lowbias32 is x ^= x >> 16,
 * x *= 0x7feb352d, x ^= x >> 15, x *= 0x846ca68b, x ^= x >> 16; key0, key1,
 * key2 are the first splitmix64 outputs from the seed (key2 truncated).
 *
 * Every scheme has a scalar reference (cd__minhash_reference) and variants
 * compiled for AVX2 and AVX-512, chosen at run time (simd.h); all give
 * identical signatures, checked by tests/test_minhash.c together with the
 * golden signatures of each scheme in tests/data/golden/signatures.txt. */
#ifndef CD_MINHASH_H
#define CD_MINHASH_H

#include <stddef.h>
#include <stdint.h>

#include "copydesk/copydesk.h"

/* Classic and circulant values are computed in blocks of this many; the
 * classic coefficient arrays are padded to a multiple of it. */
#define CD__MINHASH_BLOCK 64

/* Largest k (cd_params.perm is at most 1024). */
#define CD__MINHASH_MAX_PERM 1024

/* Rounds of CD_MINHASH_ONE_PERMUTATION_ROUNDS before densification. Part of
 * the scheme's definition: changing it changes signatures. */
#define CD__MINHASH_ROUNDS 64

typedef struct cd__minhasher cd__minhasher;

/* A MinHash implementation: writes m->perm values for count hashes. */
typedef void (*cd__minhash_fn)(const cd__minhasher *m, const uint64_t *hashes, size_t count,
                               uint32_t *sig);

/* The hash functions of one (scheme, seed, perm). Read-only once made, so
 * one minhasher may be used by several threads at once. */
struct cd__minhasher {
    cd_minhash_scheme scheme;
    unsigned perm;       /* k, values per signature */
    unsigned padded;     /* classic: perm rounded up to CD__MINHASH_BLOCK */
    uint64_t *a;         /* classic: padded multipliers, odd; else NULL */
    uint64_t *b;         /* classic: padded offsets; else NULL */
    uint64_t key[3];     /* one-permutation and circulant: key0, key1, key2 */
    cd__minhash_fn run;  /* the fastest variant allowed here, chosen by init */
    const char *variant; /* its name: "avx512", "avx2" or "scalar" */
};

/* Next value of the splitmix64 stream whose state is *state. */
uint64_t cd__splitmix64(uint64_t *state);

/* Fills *m for scheme, perm values and seed. Classic: starting from
 * state = seed, for i = 0 .. perm-1: a_i = splitmix64(&state) | 1,
 * b_i = splitmix64(&state). The others: key0, key1, key2 = the first three
 * splitmix64(&state). The variant is the best one cd__simd_level_get allows.
 * Returns CD_OK, CD_ERR_ARG (perm 0 or over CD__MINHASH_MAX_PERM, unknown
 * scheme) or CD_ERR_NOMEM; on error *m holds nothing to free. */
cd_status cd__minhash_init(cd__minhasher *m, cd_minhash_scheme scheme, unsigned perm,
                           uint64_t seed);

/* Frees the arrays of *m (not m) and zeroes it. */
void cd__minhash_free(cd__minhasher *m);

/* The reference of m's scheme, the oracle every faster path is tested
 * against: plain C compiled for the baseline instruction set, as defined at
 * the top of this file. A document without shingles (count 0) gets
 * UINT32_MAX for every value; any other gets none. Thread-safe. */
void cd__minhash_reference(const cd__minhasher *m, const uint64_t *hashes, size_t count,
                           uint32_t *sig);

/* The MinHash the signer uses: m->run, the same results as the reference.
 * Thread-safe. */
void cd__minhash(const cd__minhasher *m, const uint64_t *hashes, size_t count, uint32_t *sig);

/* The variants of scheme this process may run (this CPU, capped by
 * COPYDESK_SIMD), best first: up to max names and functions (either array
 * may be NULL); returns how many there are. The last is always the scalar
 * reference, named "scalar". For tests and benchmarks. */
size_t cd__minhash_variants(cd_minhash_scheme scheme, const char **names, cd__minhash_fn *fns,
                            size_t max);

/* "classic", "one-permutation", "circulant" or "one-permutation-rounds"
 * ("unknown" otherwise). */
const char *cd__minhash_scheme_name(cd_minhash_scheme scheme);

#endif
