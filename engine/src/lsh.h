/* lsh.h: locality-sensitive hashing over MinHash signatures, the stage
 * between MinHash and verification. Each signature is cut into b bands of r
 * rows; each band is hashed to a 64-bit key; documents sharing a key in the
 * same band become candidate pairs. Grouping is done by sorting, not hashing
 * (see docs/lsh.md). The public parameter choice, cd_lsh_choose, is in
 * copydesk.h. */
#ifndef CD_LSH_H
#define CD_LSH_H

#include <stddef.h>
#include <stdint.h>

#include "copydesk/copydesk.h"

/* A candidate pair of document numbers, a < b. */
typedef struct cd__pair32 {
    uint32_t a, b;
} cd__pair32;

/* Writes the bands band keys of one signature of bands*rows values:
 *   keys[j] = XXH3_64bits_withSeed(sig[j*rows .. j*rows+rows) as rows
 *             little-endian uint32 values (rows*4 bytes), seed + j)
 * for j in [0, bands). The bytes hashed are the same on every host, so keys
 * are portable (golden values in tests/test_lsh.c). Never fails; no
 * allocation. Thread-safe. */
void cd__lsh_band_keys(const uint32_t *sig, unsigned bands, unsigned rows, uint64_t seed,
                       uint64_t *keys);

/* Called once per bucket (documents sharing one band's key) of m >= 2
 * documents, docs ascending. capped: m is over the caller's max_bucket, so
 * only the pairs (docs[0], docs[i]) should be used. A status other than
 * CD_OK stops the grouping, which returns it. */
typedef cd_status (*cd__bucket_fn)(void *ctx, const uint32_t *docs, size_t m, int capped);

/* Buffers for grouping one band after another; zero-initialise, free with
 * cd__lsh_grouper_free. */
typedef struct cd__lsh_grouper {
    uint64_t *sorted, *scratch; /* (key >> 32) << 32 | doc, for the radix sort */
    size_t capacity;            /* entries in each */
    uint32_t *bucket;           /* the documents of one bucket */
    size_t bucket_capacity;
} cd__lsh_grouper;

void cd__lsh_grouper_free(cd__lsh_grouper *g);

/* Visits the buckets of one band.
 *   keys        doc's key in this band is keys[doc * stride] (stride >= 1:
 *               the keys of every band of a document may lie together).
 *   skip        NULL, or n flags: a document with skip[doc] != 0 is in no
 *               bucket (empty documents).
 *   max_bucket  0 (no cap), or the size over which a bucket is passed to
 *               visit as capped and counted in *oversized.
 *   oversized   incremented per capped bucket; may be NULL.
 * Buckets are visited in the order of their keys' high 32 bits, each with
 * its documents ascending; two keys that share their high 32 bits are
 * still separate buckets. Entries are sorted by a radix sort on the high
 * 32 bits of the key (3 passes of 11 bits), so memory is 16 bytes per
 * document plus one bucket's documents.
 * Errors: CD_ERR_ARG (n over UINT32_MAX, NULL keys with n > 0, stride 0,
 * NULL visit), CD_ERR_NOMEM, or what visit returned. Thread-safe for distinct
 * groupers. */
cd_status cd__lsh_group_band(cd__lsh_grouper *g, const uint64_t *keys, size_t stride, size_t n,
                             const uint8_t *skip, size_t max_bucket, cd__bucket_fn visit,
                             void *ctx, size_t *oversized);

/* Finds the candidate pairs of n documents from their band keys.
 *   keys        n*bands keys, keys[doc*bands + j] = key of band j of doc.
 *   skip        NULL, or n flags: a document with skip[doc] != 0 never
 *               appears in a pair (empty documents).
 *   max_bucket  a bucket (one band, one key) of m documents with
 *               m <= max_bucket, or any m when max_bucket is 0, yields all
 *               its m(m-1)/2 pairs; a larger bucket yields only the m-1
 *               pairs (first, other), first being its smallest document
 *               number, and is counted in *oversized.
 *   pairs       receives the distinct pairs sorted by (a, b), a < b,
 *               allocated with cd__malloc (free with cd__free); NULL when
 *               *count is 0.
 *   count       number of pairs.
 *   oversized   number of buckets over max_bucket, over all bands (a
 *               bucket is counted once per band it occurs in); may be NULL.
 * Groups one band at a time with cd__lsh_group_band, so memory is about
 * 16 bytes per non-skipped document plus 16 bytes per candidate pair
 * (before duplicates across bands are removed).
 * Errors: CD_ERR_ARG (n over UINT32_MAX, n*bands overflows, or NULL keys
 * with n*bands > 0, or NULL pairs/count), CD_ERR_NOMEM. On error *pairs is
 * NULL, *count and *oversized are 0 and nothing is leaked. Thread-safe
 * (no shared state). */
cd_status cd__lsh_candidates(const uint64_t *keys, size_t n, unsigned bands, const uint8_t *skip,
                             size_t max_bucket, cd__pair32 **pairs, size_t *count,
                             size_t *oversized);

/* cd__lsh_candidates with the keys of band j at band_keys[j][doc * stride]
 * (each of the bands arrays holds n keys, stride apart). Same errors, plus
 * CD_ERR_ARG for stride 0 or a NULL band array with n > 0. */
cd_status cd__lsh_candidates_banded(const uint64_t *const *band_keys, unsigned bands,
                                    size_t stride, size_t n, const uint8_t *skip,
                                    size_t max_bucket, cd__pair32 **pairs, size_t *count,
                                    size_t *oversized);

/* The two areas cd_lsh_choose weighs, by the same Simpson rule:
 *   *fp = ∫_0^t P(s) ds       (pairs below the threshold that collide)
 *   *fn = ∫_t^1 1 - P(s) ds   (pairs at or above it that never collide)
 * with P = cd_lsh_probability(s, bands, rows). For docs and tests. */
void cd__lsh_areas(double threshold, unsigned bands, unsigned rows, double *fp, double *fn);

/* Sorts values[0..n) ascending with an LSD radix sort (8-bit digits; passes
 * where every value has the same digit are skipped). scratch holds n
 * values. Stable. Exposed for tests. */
void cd__radix_sort_u64(uint64_t *values, uint64_t *scratch, size_t n);

#endif
