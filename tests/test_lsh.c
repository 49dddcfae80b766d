/* test_lsh.c: the LSH stage: S-curve probability and midpoint, the choice
 * of bands × rows, band-key golden values, candidate pairs from sorted
 * buckets (exact lists, skip, the bucket cap, a 200k-document comparison
 * with a naive qsort reference), the radix sort, and allocation failures.
 *
 * `test_lsh --doc-table` prints the numbers shown in docs/lsh.md instead of
 * running the tests. */
#include <inttypes.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include <cmocka.h>

#include "alloc.h"
#include "lsh.h"
#include "support.h"

#define assert_near(actual, expected, tolerance)                                                   \
    do {                                                                                           \
        double a_ = (actual), e_ = (expected);                                                     \
        if (!(fabs(a_ - e_) <= (tolerance))) {                                                     \
            print_error("%s = %.17g, expected %.17g (tolerance %g)\n", #actual, a_, e_,            \
                        (double)(tolerance));                                                      \
            fail();                                                                                \
        }                                                                                          \
    } while (0)

/* xorshift64*: deterministic test data. */
static uint64_t rng_state = 88172645463325252ull;
static uint64_t rng(void) { return test_random(&rng_state); }

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x;
}

/* ------------------------------------------------------- S-curve, choice */

static void test_probability(void **state)
{
    (void)state;
    /* Hand-computed: 1 - (1 - 0.8^13)^9, 1 - (1 - 0.5^5)^25, 1 - 0.7^4, 0.7^3 */
    assert_near(cd_lsh_probability(0.8, 9, 13), 0.39884387824016365, 1e-15);
    assert_near(cd_lsh_probability(0.5, 25, 5), 0.5478392215509674, 1e-15);
    assert_near(cd_lsh_probability(0.3, 4, 1), 0.7599, 1e-15);
    assert_near(cd_lsh_probability(0.7, 1, 3), 0.343, 1e-15);
    assert_near(cd_lsh_probability(0.5, 1, 1), 0.5, 0);
    assert_near(cd_lsh_probability(0.0, 9, 13), 0.0, 0);
    assert_near(cd_lsh_probability(1.0, 9, 13), 1.0, 0);
    /* tiny s^r: keeps relative precision (b·s^r) */
    assert_near(cd_lsh_probability(1e-3, 10, 4) / (10 * 1e-12), 1.0, 1e-9);
    /* monotone in s */
    double last = -1;
    for (int i = 0; i <= 100; i++) {
        double p = cd_lsh_probability(i / 100.0, 9, 13);
        assert_true(p >= last);
        last = p;
    }
}

static void test_midpoint(void **state)
{
    (void)state;
    /* (1 - 0.5^(1/9))^(1/13) */
    assert_near(cd_lsh_midpoint(9, 13), 0.8186048961110599, 1e-15);
    assert_near(cd_lsh_midpoint(1, 1), 0.5, 1e-15);
    assert_near(cd_lsh_midpoint(1, 2), sqrt(0.5), 1e-15);
    assert_near(cd_lsh_midpoint(2, 1), 1 - sqrt(0.5), 1e-15);
    for (unsigned b = 1; b <= 40; b += 3)
        for (unsigned r = 1; r <= 40; r += 4)
            assert_near(cd_lsh_probability(cd_lsh_midpoint(b, r), b, r), 0.5, 1e-12);
}

/* The table in docs/lsh.md: perm 128, weights 0.5/0.5. */
static const struct {
    double t;
    unsigned b, r;
    double midpoint, fp, fn;
} doc_table[] = {
    // clang-format off
    {0.5, 25,  5, 0.4868, 0.053722, 0.033753},
    {0.6, 18,  7, 0.6262, 0.033447, 0.049679},
    {0.7, 14,  9, 0.7141, 0.034638, 0.037871},
    {0.8,  9, 13, 0.8186, 0.025312, 0.033282},
    {0.9,  5, 25, 0.9215, 0.011558, 0.025319},
    // clang-format on
};

static void test_choose_known(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof doc_table / sizeof doc_table[0]; i++) {
        unsigned b = 0, r = 0;
        assert_int_equal(cd_lsh_choose(doc_table[i].t, 128, 0.5, 0.5, &b, &r), CD_OK);
        assert_int_equal(b, doc_table[i].b);
        assert_int_equal(r, doc_table[i].r);
        assert_true(b * r <= 128);
        double fp, fn;
        cd__lsh_areas(doc_table[i].t, b, r, &fp, &fn);
        assert_near(cd_lsh_midpoint(b, r), doc_table[i].midpoint, 5e-5);
        assert_near(fp, doc_table[i].fp, 5e-7);
        assert_near(fn, doc_table[i].fn, 5e-7);
    }
    /* The default parameters resolve to the same choice (with match
     * containment, LSH aims at Jaccard t / (2 - t) instead). */
    cd_params p;
    cd_params_init(&p);
    assert_int_equal(cd_params_resolve(&p, NULL, 0), CD_OK);
    assert_int_equal(p.bands, 9);
    assert_int_equal(p.rows, 13);
    cd_params_init(&p);
    p.match = CD_MATCH_CONTAINMENT;
    assert_int_equal(cd_params_resolve(&p, NULL, 0), CD_OK);
    unsigned want_b = 0, want_r = 0;
    assert_int_equal(cd_lsh_choose(0.8 / 1.2, 128, 0.5, 0.5, &want_b, &want_r), CD_OK);
    assert_int_equal(p.bands, want_b);
    assert_int_equal(p.rows, want_r);

    /* t = 1: no false negatives possible, so the flattest curve: one band
     * of every row. */
    unsigned b, r;
    assert_int_equal(cd_lsh_choose(1.0, 128, 0.5, 0.5, &b, &r), CD_OK);
    assert_int_equal(b, 1);
    assert_int_equal(r, 128);
    /* perm 1: the only choice */
    assert_int_equal(cd_lsh_choose(0.8, 1, 0.5, 0.5, &b, &r), CD_OK);
    assert_int_equal(b, 1);
    assert_int_equal(r, 1);
    /* both weights 0: every objective ties at 0; smallest fp + fn wins,
     * which is the equal-weight answer */
    assert_int_equal(cd_lsh_choose(0.8, 128, 0.0, 0.0, &b, &r), CD_OK);
    assert_int_equal(b, 9);
    assert_int_equal(r, 13);
}

static void test_choose_bounds_and_weights(void **state)
{
    (void)state;
    unsigned perms[] = {1, 2, 7, 32, 100, 128, 256};
    for (size_t p = 0; p < sizeof perms / sizeof perms[0]; p++) {
        for (int ti = 1; ti <= 20; ti++) {
            unsigned b = 0, r = 0;
            assert_int_equal(cd_lsh_choose(ti / 20.0, perms[p], 0.5, 0.5, &b, &r), CD_OK);
            assert_true(b >= 1 && r >= 1);
            assert_true((unsigned long long)b * r <= perms[p]);
        }
    }
    /* Weighing false negatives more moves the S-curve left. */
    double weights[][2] = {{0.8, 0.2}, {0.5, 0.5}, {0.2, 0.8}, {0.05, 0.95}};
    double t[] = {0.5, 0.7, 0.8, 0.9};
    for (size_t k = 0; k < sizeof t / sizeof t[0]; k++) {
        double last = 2;
        for (size_t w = 0; w < sizeof weights / sizeof weights[0]; w++) {
            unsigned b, r;
            assert_int_equal(cd_lsh_choose(t[k], 128, weights[w][0], weights[w][1], &b, &r), CD_OK);
            double mid = cd_lsh_midpoint(b, r);
            assert_true(mid < last);
            last = mid;
        }
    }
    unsigned b, r;
    assert_int_equal(cd_lsh_choose(0.8, 128, 0.2, 0.8, &b, &r), CD_OK);
    assert_true(cd_lsh_midpoint(b, r) < cd_lsh_midpoint(9, 13));

    /* Errors */
    assert_int_equal(cd_lsh_choose(0.0, 128, 0.5, 0.5, &b, &r), CD_ERR_ARG);
    assert_int_equal(cd_lsh_choose(1.01, 128, 0.5, 0.5, &b, &r), CD_ERR_ARG);
    assert_int_equal(cd_lsh_choose(NAN, 128, 0.5, 0.5, &b, &r), CD_ERR_ARG);
    assert_int_equal(cd_lsh_choose(0.8, 0, 0.5, 0.5, &b, &r), CD_ERR_ARG);
    assert_int_equal(cd_lsh_choose(0.8, 128, -0.1, 0.5, &b, &r), CD_ERR_ARG);
    assert_int_equal(cd_lsh_choose(0.8, 128, 0.5, -1, &b, &r), CD_ERR_ARG);
    assert_int_equal(cd_lsh_choose(0.8, 128, NAN, 0.5, &b, &r), CD_ERR_ARG);
    assert_int_equal(cd_lsh_choose(0.8, 128, 0.5, 0.5, NULL, &r), CD_ERR_ARG);
}

/* The chooser's incremental evaluation agrees with a brute force over
 * cd__lsh_areas (a separate evaluation of the same integrals). */
static void test_choose_brute_force(void **state)
{
    (void)state;
    const unsigned perm = 40;
    for (int ti = 6; ti <= 19; ti++) {
        double t = ti / 20.0;
        for (int w = 0; w < 3; w++) {
            double fpw = (w + 1) * 0.25, fnw = 1 - fpw;
            unsigned best_b = 0, best_r = 0;
            double best = INFINITY;
            for (unsigned r = 1; r <= perm; r++) {
                for (unsigned b = 1; b * r <= perm; b++) {
                    double fp, fn;
                    cd__lsh_areas(t, b, r, &fp, &fn);
                    double obj = fpw * fp + fnw * fn;
                    if (obj < best) {
                        best = obj;
                        best_b = b;
                        best_r = r;
                    }
                }
            }
            unsigned b, r;
            assert_int_equal(cd_lsh_choose(t, perm, fpw, fnw, &b, &r), CD_OK);
            assert_int_equal(b, best_b);
            assert_int_equal(r, best_r);
        }
    }
}

/* -------------------------------------------------------------- band keys */

static void golden_signature(uint32_t *sig, size_t n)
{
    uint32_t x = 0x12345678u;
    for (size_t i = 0; i < n; i++) {
        x = x * 1664525u + 1013904223u;
        sig[i] = x;
    }
}

static void test_band_keys_golden(void **state)
{
    (void)state;
    uint32_t sig[128];
    golden_signature(sig, 128);
    assert_int_equal(sig[0], 1967335287u);

    static const uint64_t expect_9x13_seed0[9] = {
        0x460e2f4017553037u, 0x122ea0357ec0a6d9u, 0x9b2671454d25b1bdu,
        0x413ae440ed0a781au, 0xb2d61d5bc3d004b5u, 0xe1f8b56a0589d611u,
        0x7e0e9d4c509699dbu, 0xc6fff198f84f6466u, 0xed58bf8dbaf0696au,
    };
    static const uint64_t expect_4x32_seed[4] = {
        0xcbd8f4a85aa440ffu,
        0xa52b091d8e66088cu,
        0x534a3bf29c67743eu,
        0x86a2fc0c38a1fb3bu,
    };
    uint64_t keys[9];
    cd__lsh_band_keys(sig, 9, 13, 0, keys);
    for (int j = 0; j < 9; j++)
        assert_int_equal(keys[j], expect_9x13_seed0[j]);
    cd__lsh_band_keys(sig, 4, 32, 0x9e3779b97f4a7c15u, keys);
    for (int j = 0; j < 4; j++)
        assert_int_equal(keys[j], expect_4x32_seed[j]);
    cd__lsh_band_keys(sig, 1, 1, 0, keys);
    assert_int_equal(keys[0], 0x10e9eae9744348dcu);
    /* long bands (512 and 256 bytes: the big-endian path hashes in chunks) */
    cd__lsh_band_keys(sig, 1, 128, 5, keys);
    assert_int_equal(keys[0], 0x80e8fa12a6b39636u);
    cd__lsh_band_keys(sig, 2, 64, 5, keys);
    assert_int_equal(keys[0], 0x726c02c859833860u);
    assert_int_equal(keys[1], 0x4988af6056d9918bu);

    /* The definition, spelled out with explicit little-endian bytes. */
    unsigned char bytes[13 * 4];
    cd__lsh_band_keys(sig, 9, 13, 77, keys);
    for (unsigned j = 0; j < 9; j++) {
        for (unsigned i = 0; i < 13; i++) {
            uint32_t v = sig[j * 13 + i];
            bytes[4 * i] = (unsigned char)v;
            bytes[4 * i + 1] = (unsigned char)(v >> 8);
            bytes[4 * i + 2] = (unsigned char)(v >> 16);
            bytes[4 * i + 3] = (unsigned char)(v >> 24);
        }
        assert_int_equal(keys[j], XXH3_64bits_withSeed(bytes, sizeof bytes, 77 + j));
    }
}

/* ------------------------------------------------------------- candidates */

static void assert_pairs(const cd__pair32 *got, size_t got_n, const uint32_t (*want)[2],
                         size_t want_n)
{
    assert_int_equal(got_n, want_n);
    for (size_t i = 0; i < want_n; i++) {
        assert_int_equal(got[i].a, want[i][0]);
        assert_int_equal(got[i].b, want[i][1]);
    }
}

#define K1 0x1111111111111111u
#define K2 0x2222222222222222u
#define K3 0x0000000100000000u

/* keys[doc*2 + band] for 6 documents, 2 bands:
 *   band 0: {0,1,2} share K1, {3,4} share K2, 5 alone
 *   band 1: {1,2} share K2 (a repeat of a band-0 pair), {0,5} share K3,
 *           3 alone, 4 alone with K1 (the band-0 key of docs 0-2, which it
 *           must not meet: buckets are per band). */
static const uint64_t small_keys[6 * 2] = {
    /* doc 0 */ K1, K3,
    /* doc 1 */ K1, K2,
    /* doc 2 */ K1, K2,
    /* doc 3 */ K2, 31,
    /* doc 4 */ K2, K1, /* K1 in band 1: must not meet docs 0-2 (band 0) */
    /* doc 5 */ 55, K3,
};

static void test_candidates_exact(void **state)
{
    (void)state;
    cd__pair32 *pairs = NULL;
    size_t count = 99, oversized = 99;
    assert_int_equal(cd__lsh_candidates(small_keys, 6, 2, NULL, 0, &pairs, &count, &oversized),
                     CD_OK);
    static const uint32_t want[][2] = {{0, 1}, {0, 2}, {0, 5}, {1, 2}, {3, 4}};
    assert_pairs(pairs, count, want, 5);
    assert_int_equal(oversized, 0);
    cd__free(pairs);

    /* skip doc 1 and doc 5 */
    uint8_t skip[6] = {0, 1, 0, 0, 0, 1};
    assert_int_equal(cd__lsh_candidates(small_keys, 6, 2, skip, 0, &pairs, &count, NULL), CD_OK);
    static const uint32_t want_skip[][2] = {{0, 2}, {3, 4}};
    assert_pairs(pairs, count, want_skip, 2);
    cd__free(pairs);

    /* one band only */
    uint64_t band0[6] = {K1, K1, K1, K2, K2, 55};
    assert_int_equal(cd__lsh_candidates(band0, 6, 1, NULL, 0, &pairs, &count, NULL), CD_OK);
    static const uint32_t want_band0[][2] = {{0, 1}, {0, 2}, {1, 2}, {3, 4}};
    assert_pairs(pairs, count, want_band0, 4);
    cd__free(pairs);

    /* no pairs: NULL output */
    uint64_t distinct[4] = {1, 2, 3, 4};
    pairs = (cd__pair32 *)1;
    assert_int_equal(cd__lsh_candidates(distinct, 4, 1, NULL, 0, &pairs, &count, &oversized),
                     CD_OK);
    assert_null(pairs);
    assert_int_equal(count, 0);
    assert_int_equal(cd__lsh_candidates(NULL, 0, 9, NULL, 0, &pairs, &count, NULL), CD_OK);
    assert_null(pairs);
    assert_int_equal(cd__lsh_candidates(distinct, 4, 0, NULL, 0, &pairs, &count, NULL), CD_OK);
    assert_null(pairs);
    /* every doc skipped */
    uint8_t all[4] = {1, 1, 1, 1};
    uint64_t same[4] = {7, 7, 7, 7};
    assert_int_equal(cd__lsh_candidates(same, 4, 1, all, 0, &pairs, &count, NULL), CD_OK);
    assert_int_equal(count, 0);
    /* bad arguments */
    assert_int_equal(cd__lsh_candidates(NULL, 4, 1, NULL, 0, &pairs, &count, NULL), CD_ERR_ARG);
    assert_int_equal(cd__lsh_candidates(same, 4, 1, NULL, 0, NULL, &count, NULL), CD_ERR_ARG);
    assert_int_equal(cd__lsh_candidates(same, 4, 1, NULL, 0, &pairs, NULL, NULL), CD_ERR_ARG);
}

static void test_candidates_cap(void **state)
{
    (void)state;
    /* 8 docs, 2 bands. Band 0: docs 1,2,4,6,7 share a key (bucket of 5),
     * 0 and 3 share another (2). Band 1: docs 2..7 share a key (6). */
    uint64_t keys[8 * 2];
    for (int d = 0; d < 8; d++) {
        keys[d * 2] = (d == 1 || d == 2 || d == 4 || d == 6 || d == 7) ? 500
                      : (d == 0 || d == 3)                             ? 300
                                                                       : 1000 + d;
        keys[d * 2 + 1] = d >= 2 ? 500 : 2000 + d;
    }
    cd__pair32 *pairs;
    size_t count, oversized;

    /* cap 6: everything complete: C(5,2) + 1 + C(6,2) minus repeats */
    assert_int_equal(cd__lsh_candidates(keys, 8, 2, NULL, 6, &pairs, &count, &oversized), CD_OK);
    assert_int_equal(oversized, 0);
    /* union of {1,2,4,6,7} pairs, {0,3}, {2..7} pairs */
    size_t expect = 0;
    for (uint32_t a = 0; a < 8; a++)
        for (uint32_t b = a + 1; b < 8; b++) {
            int in0 = ((a == 1 || a == 2 || a == 4 || a == 6 || a == 7) &&
                       (b == 1 || b == 2 || b == 4 || b == 6 || b == 7)) ||
                      (a == 0 && b == 3);
            int in1 = a >= 2 && b >= 2;
            expect += in0 || in1;
        }
    assert_int_equal(count, expect);
    cd__free(pairs);
    /* cap 0 = no limit: the same */
    assert_int_equal(cd__lsh_candidates(keys, 8, 2, NULL, 0, &pairs, &count, &oversized), CD_OK);
    assert_int_equal(count, expect);
    assert_int_equal(oversized, 0);
    cd__free(pairs);

    /* cap 5: the 5-bucket is complete, the 6-bucket is capped to
     * (2, 3..7). */
    assert_int_equal(cd__lsh_candidates(keys, 8, 2, NULL, 5, &pairs, &count, &oversized), CD_OK);
    assert_int_equal(oversized, 1);
    static const uint32_t want5[][2] = {{0, 3}, {1, 2}, {1, 4}, {1, 6}, {1, 7}, {2, 3}, {2, 4},
                                        {2, 5}, {2, 6}, {2, 7}, {4, 6}, {4, 7}, {6, 7}};
    assert_pairs(pairs, count, want5, sizeof want5 / sizeof want5[0]);
    cd__free(pairs);

    /* cap 2: both big buckets capped: (1, 2 4 6 7) and (2, 3..7) */
    assert_int_equal(cd__lsh_candidates(keys, 8, 2, NULL, 2, &pairs, &count, &oversized), CD_OK);
    assert_int_equal(oversized, 2);
    static const uint32_t want2[][2] = {{0, 3}, {1, 2}, {1, 4}, {1, 6}, {1, 7},
                                        {2, 3}, {2, 4}, {2, 5}, {2, 6}, {2, 7}};
    assert_pairs(pairs, count, want2, sizeof want2 / sizeof want2[0]);
    cd__free(pairs);

    /* cap 2 with doc 2 skipped: band 0 gives (1, 4 6 7) and the complete
     * (0, 3); band 1's bucket now starts at 3: (3, 4..7). */
    uint8_t skip[8] = {0, 0, 1, 0, 0, 0, 0, 0};
    assert_int_equal(cd__lsh_candidates(keys, 8, 2, skip, 2, &pairs, &count, &oversized), CD_OK);
    assert_int_equal(oversized, 2);
    static const uint32_t want_skip[][2] = {{0, 3}, {1, 4}, {1, 6}, {1, 7},
                                            {3, 4}, {3, 5}, {3, 6}, {3, 7}};
    assert_pairs(pairs, count, want_skip, sizeof want_skip / sizeof want_skip[0]);
    cd__free(pairs);
}

/* The naive reference: (band, key, doc) triples through qsort. */
typedef struct triple {
    uint32_t band;
    uint64_t key;
    uint32_t doc;
} triple;

static int cmp_triple(const void *x, const void *y)
{
    const triple *a = x, *b = y;
    if (a->band != b->band)
        return a->band < b->band ? -1 : 1;
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    return (a->doc > b->doc) - (a->doc < b->doc);
}

static int cmp_u64(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return (a > b) - (a < b);
}

static uint64_t *naive_candidates(const uint64_t *keys, size_t n, unsigned bands,
                                  const uint8_t *skip, size_t cap, size_t *count, size_t *oversized)
{
    triple *t = malloc(n * bands * sizeof *t);
    size_t m = 0;
    for (size_t d = 0; d < n; d++)
        for (unsigned j = 0; j < bands; j++)
            if (!(skip && skip[d]))
                t[m++] = (triple){j, keys[d * bands + j], (uint32_t)d};
    qsort(t, m, sizeof *t, cmp_triple);
    size_t cap_out = 1024, out = 0;
    uint64_t *pairs = malloc(cap_out * sizeof *pairs);
    *oversized = 0;
    for (size_t lo = 0; lo < m;) {
        size_t hi = lo + 1;
        while (hi < m && t[hi].band == t[lo].band && t[hi].key == t[lo].key)
            hi++;
        size_t size = hi - lo;
        int capped = cap && size > cap;
        *oversized += capped;
        for (size_t i = lo; i < hi; i++)
            for (size_t k = i + 1; k < hi; k++) {
                if (capped && i != lo)
                    break;
                if (out == cap_out)
                    pairs = realloc(pairs, (cap_out *= 2) * sizeof *pairs);
                pairs[out++] = (uint64_t)t[i].doc << 32 | t[k].doc;
            }
        lo = hi;
    }
    free(t);
    qsort(pairs, out, sizeof *pairs, cmp_u64);
    size_t u = 0;
    for (size_t i = 0; i < out; i++)
        if (u == 0 || pairs[i] != pairs[u - 1])
            pairs[u++] = pairs[i];
    *count = u;
    return pairs;
}

static void compare_with_naive(const uint64_t *keys, size_t n, unsigned bands, const uint8_t *skip,
                               size_t cap)
{
    size_t want_n, want_over;
    uint64_t *want = naive_candidates(keys, n, bands, skip, cap, &want_n, &want_over);
    cd__pair32 *got;
    size_t got_n, got_over;
    assert_int_equal(cd__lsh_candidates(keys, n, bands, skip, cap, &got, &got_n, &got_over), CD_OK);
    assert_int_equal(got_n, want_n);
    assert_int_equal(got_over, want_over);
    for (size_t i = 0; i < want_n; i++) {
        if (got[i].a != (uint32_t)(want[i] >> 32) || got[i].b != (uint32_t)want[i]) {
            print_error("pair %zu: got (%u, %u), expected (%u, %u)\n", i, got[i].a, got[i].b,
                        (unsigned)(want[i] >> 32), (unsigned)want[i]);
            fail();
        }
    }
    cd__free(got);
    free(want);
}

/* 200k documents, 5 bands. Half the documents belong to groups that share
 * their keys in every band (so the same pairs repeat across bands and the
 * in-between deduplication runs); the rest draw keys at random from a
 * range small enough to collide; 2000 documents share one hot key in band
 * 0 (over the cap); 5% are skipped. */
static void test_candidates_large(void **state)
{
    (void)state;
    const size_t n = 200000;
    const unsigned bands = 5;
    uint64_t *keys = malloc(n * bands * sizeof *keys);
    uint8_t *skip = malloc(n);
    assert_non_null(keys);
    assert_non_null(skip);
    rng_state = 12345;
    for (size_t d = 0; d < n; d++) {
        uint64_t group = rng() % (n / 2);
        int grouped = d % 2 == 0;
        for (unsigned j = 0; j < bands; j++) {
            uint64_t v = grouped ? group : (1ull << 40) + rng() % 150000;
            keys[d * bands + j] = mix(v + ((uint64_t)j << 48));
        }
        if (d % 100 == 1)
            keys[d * bands] = 0xdeadbeefull; /* 2000 docs in one band-0 bucket */
        skip[d] = rng() % 20 == 0;
    }
    compare_with_naive(keys, n, bands, skip, 500);
    compare_with_naive(keys, n, bands, NULL, 0);
    free(keys);
    free(skip);
}

/* Random small inputs with many ties. */
static void test_candidates_random_small(void **state)
{
    (void)state;
    rng_state = 777;
    for (int round = 0; round < 200; round++) {
        size_t n = rng() % 60;
        unsigned bands = 1 + rng() % 5;
        uint64_t keys[60 * 5];
        uint8_t skip[60];
        unsigned range = 1 + rng() % 8;
        for (size_t i = 0; i < n * bands; i++)
            keys[i] = rng() % range * 0x0101010101010101ull;
        for (size_t d = 0; d < n; d++)
            skip[d] = rng() % 4 == 0;
        compare_with_naive(keys, n, bands, round % 2 ? skip : NULL, rng() % 6);
    }
}

/* ------------------------------------------------------------- radix sort */

static void test_radix_sort(void **state)
{
    (void)state;
    const size_t n = 100000;
    uint64_t *v = malloc(n * sizeof *v), *want = malloc(n * sizeof *v),
             *scratch = malloc(n * sizeof *v);
    rng_state = 99;
    for (int kind = 0; kind < 4; kind++) {
        for (size_t i = 0; i < n; i++) {
            switch (kind) {
            case 0:
                v[i] = rng();
                break; /* full range */
            case 1:
                v[i] = rng() % 1000;
                break; /* duplicates, low digits */
            case 2:
                v[i] = (rng() % 50) << 56 | (rng() % 3);
                break; /* sparse digits */
            default:
                v[i] = 42;
                break; /* all equal */
            }
        }
        memcpy(want, v, n * sizeof *v);
        qsort(want, n, sizeof *want, cmp_u64);
        cd__radix_sort_u64(v, scratch, n);
        assert_memory_equal(v, want, n * sizeof *v);
    }
    cd__radix_sort_u64(v, scratch, 0);
    v[0] = 5;
    cd__radix_sort_u64(v, scratch, 1);
    assert_int_equal(v[0], 5);
    uint64_t two[2] = {UINT64_MAX, 0};
    cd__radix_sort_u64(two, scratch, 2);
    assert_int_equal(two[0], 0);
    assert_int_equal(two[1], UINT64_MAX);
    free(v);
    free(want);
    free(scratch);
}

/* ------------------------------------------------------ allocation failure */

static void test_candidates_nomem(void **state)
{
    (void)state;
    /* Enough pairs to grow the list several times and dedup in between. */
    const size_t n = 30000;
    const unsigned bands = 4;
    uint64_t *keys = malloc(n * bands * sizeof *keys);
    rng_state = 4242;
    for (size_t d = 0; d < n; d++) {
        uint64_t group = rng() % (n / 8);
        for (unsigned j = 0; j < bands; j++)
            keys[d * bands + j] = mix(group + j);
    }
    cd__pair32 *ref;
    size_t ref_n, ref_over;
    assert_int_equal(cd__lsh_candidates(keys, n, bands, NULL, 0, &ref, &ref_n, &ref_over), CD_OK);
    assert_true(ref_n > 65536);

    int succeeded = 0;
    for (long budget = 0; budget < 1000 && !succeeded; budget++) {
        counting_alloc_start(budget + 1, 1); /* budget allocations succeed, then none */
        cd__pair32 *pairs = (cd__pair32 *)1;
        size_t count = 1, over = 1;
        cd_status st = cd__lsh_candidates(keys, n, bands, NULL, 0, &pairs, &count, &over);
        if (st == CD_OK) {
            succeeded = 1;
            assert_int_equal(count, ref_n);
            assert_memory_equal(pairs, ref, ref_n * sizeof *ref);
            cd__free(pairs);
        } else {
            assert_int_equal(st, CD_ERR_NOMEM);
            assert_null(pairs);
            assert_int_equal(count, 0);
            assert_int_equal(over, 0);
        }
        counting_alloc_stop();
        assert_int_equal(counting_alloc_live(), 0);
    }
    assert_true(succeeded);
    cd__free(ref);
    free(keys);
}

/* --------------------------------------------------------------- doc table */

static void print_doc_table(void)
{
    printf("| t | b | r | b·r | midpoint | fp area | fn area | P(t) |\n");
    printf("|---|---|---|---|---|---|---|---|\n");
    for (int i = 5; i <= 9; i++) {
        double t = i / 10.0, fp, fn;
        unsigned b, r;
        cd_lsh_choose(t, 128, 0.5, 0.5, &b, &r);
        cd__lsh_areas(t, b, r, &fp, &fn);
        printf("| %.1f | %u | %u | %u | %.4f | %.6f | %.6f | %.4f |\n", t, b, r, b * r,
               cd_lsh_midpoint(b, r), fp, fn, cd_lsh_probability(t, b, r));
    }
    printf("\nfn weight at t = 0.8, perm 128:\n\n| fp_weight | fn_weight | b | r | midpoint | "
           "fp area | fn area |\n|---|---|---|---|---|---|---|\n");
    double w[] = {0.8, 0.5, 0.2, 0.05};
    for (int i = 0; i < 4; i++) {
        unsigned b, r;
        double fp, fn;
        cd_lsh_choose(0.8, 128, w[i], 1 - w[i], &b, &r);
        cd__lsh_areas(0.8, b, r, &fp, &fn);
        printf("| %.2f | %.2f | %u | %u | %.4f | %.6f | %.6f |\n", w[i], 1 - w[i], b, r,
               cd_lsh_midpoint(b, r), fp, fn);
    }
    printf("\nS-curve, b = 9, r = 13:\n\n");
    for (int i = 1; i <= 20; i++) {
        double s = i / 20.0, p = cd_lsh_probability(s, 9, 13);
        int bar = (int)lround(p * 50);
        printf("%.2f %8.6f |%.*s\n", s, p, bar,
               "##################################################");
    }
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--doc-table") == 0) {
        print_doc_table();
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_probability),
        cmocka_unit_test(test_midpoint),
        cmocka_unit_test(test_choose_known),
        cmocka_unit_test(test_choose_bounds_and_weights),
        cmocka_unit_test(test_choose_brute_force),
        cmocka_unit_test(test_band_keys_golden),
        cmocka_unit_test(test_candidates_exact),
        cmocka_unit_test(test_candidates_cap),
        cmocka_unit_test(test_candidates_random_small),
        cmocka_unit_test(test_candidates_large),
        cmocka_unit_test(test_radix_sort),
        cmocka_unit_test(test_candidates_nomem),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
