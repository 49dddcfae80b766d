/* test_join.c: LSH grouping one band at a time (cd__lsh_group_band) and
 * verification while grouping (cluster_join.h): buckets split on the low
 * key bits, capped and skipped documents, pairs already joined or already
 * failed never verified again, and on random corpora the same components
 * as verifying every candidate pair, also under allocation failure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "alloc.h"
#include "cluster.h"
#include "cluster_join.h"
#include "lsh.h"
#include "support.h"

static uint64_t rng_state = 0x2545f4914f6cdd1dull;
static uint64_t rng(void)
{
    return test_random(&rng_state);
}

/* ------------------------------------------------------- grouping */

/* Records every bucket as text: "capped? docs...;". */
typedef struct recorder {
    char text[4096];
    size_t len;
} recorder;

static cd_status record_bucket(void *ctx, const uint32_t *docs, size_t m, int capped)
{
    recorder *r = ctx;
    r->len += (size_t)snprintf(r->text + r->len, sizeof r->text - r->len, "%s", capped ? "c" : "");
    for (size_t i = 0; i < m; i++)
        r->len += (size_t)snprintf(r->text + r->len, sizeof r->text - r->len, "%s%u", i ? "," : "",
                                   docs[i]);
    r->len += (size_t)snprintf(r->text + r->len, sizeof r->text - r->len, ";");
    return CD_OK;
}

static void test_group_buckets(void **state)
{
    (void)state;
    /* 0, 3 and 5 share a key; 1 and 4 share the high 32 bits of it but not
     * the low ones, so they are a bucket of their own; 2 and 6 are alone
     * with the same high bits as each other and different low bits. */
    const uint64_t hi = 0xabcdef0100000000u;
    uint64_t keys[7] = {hi | 7, hi | 9, 0x1111111100000001u, hi | 7,
                        hi | 9, hi | 7, 0x1111111100000002u};
    cd__lsh_grouper g = {0};
    recorder r = {0};
    size_t over = 0;
    assert_int_equal(cd__lsh_group_band(&g, keys, 1, 7, NULL, 0, record_bucket, &r, &over), CD_OK);
    assert_string_equal(r.text, "0,3,5;1,4;");
    assert_int_equal(over, 0);

    /* A cap of 2: the three-document bucket is capped and counted. */
    r = (recorder){0};
    assert_int_equal(cd__lsh_group_band(&g, keys, 1, 7, NULL, 2, record_bucket, &r, &over), CD_OK);
    assert_string_equal(r.text, "c0,3,5;1,4;");
    assert_int_equal(over, 1);

    /* Skipped documents are in no bucket; a bucket of one is not visited. */
    uint8_t skip[7] = {0, 1, 0, 0, 0, 1, 0};
    r = (recorder){0};
    assert_int_equal(cd__lsh_group_band(&g, keys, 1, 7, skip, 0, record_bucket, &r, NULL), CD_OK);
    assert_string_equal(r.text, "0,3;");

    r = (recorder){0};
    assert_int_equal(cd__lsh_group_band(&g, keys, 1, 0, NULL, 0, record_bucket, &r, NULL), CD_OK);
    assert_int_equal(r.len, 0);
    assert_int_equal(cd__lsh_group_band(&g, NULL, 1, 3, NULL, 0, record_bucket, &r, NULL),
                     CD_ERR_ARG);
    assert_int_equal(cd__lsh_group_band(&g, keys, 1, 7, NULL, 0, NULL, &r, NULL), CD_ERR_ARG);
    assert_int_equal(cd__lsh_group_band(&g, keys, 0, 7, NULL, 0, record_bucket, &r, NULL),
                     CD_ERR_ARG);
    cd__lsh_grouper_free(&g);
}

static cd_status stop_at_second(void *ctx, const uint32_t *docs, size_t m, int capped)
{
    (void)docs, (void)m, (void)capped;
    return ++*(int *)ctx == 2 ? CD_ERR_NOMEM : CD_OK;
}

static void test_group_stops(void **state)
{
    (void)state;
    uint64_t keys[6] = {1ull << 40, 2ull << 40, 3ull << 40, 1ull << 40, 2ull << 40, 3ull << 40};
    cd__lsh_grouper g = {0};
    int calls = 0;
    assert_int_equal(cd__lsh_group_band(&g, keys, 1, 6, NULL, 0, stop_at_second, &calls, NULL),
                     CD_ERR_NOMEM);
    assert_int_equal(calls, 2);
    cd__lsh_grouper_free(&g);
}

/* ------------------------------------------------------- joining */

/* Documents of one group are similar (0.9), others not (0.1), except the
 * listed extra pairs; every call is counted per pair. */
typedef struct world {
    size_t n;
    const uint32_t *group;
    unsigned calls[16][16];
} world;

static double world_similarity(const void *ctx, uint32_t a, uint32_t b)
{
    world *w = (world *)ctx;
    assert_true(a < b);
    if (a < 16 && b < 16)
        w->calls[a][b]++;
    return w->group[a] == w->group[b] ? 0.9 : 0.1;
}

static void test_join_skips(void **state)
{
    (void)state;
    uint32_t group[6] = {0, 0, 0, 1, 1, 2};
    world w = {.n = 6, .group = group};
    cd__joiner j;
    assert_int_equal(cd__joiner_init(&j, 6, 0.8, world_similarity, &w), CD_OK);
    uint32_t bucket[6] = {0, 1, 2, 3, 4, 5};
    assert_int_equal(cd__joiner_bucket(&j, bucket, 6, 0), CD_OK);
    /* Again, as another band would: nothing is verified twice. */
    assert_int_equal(cd__joiner_bucket(&j, bucket, 6, 0), CD_OK);
    for (int a = 0; a < 6; a++)
        for (int b = a + 1; b < 6; b++)
            assert_true(w.calls[a][b] <= 1);
    /* 0-2 joined through 0-1 and 0-2 (1-2 is then inside one cluster). */
    assert_int_equal(w.calls[1][2], 0);
    assert_int_equal(j.edge_count, 3); /* 0-1, 0-2, 3-4 */
    assert_int_equal(j.checked, 15 - 1);

    /* A capped bucket compares its first document to the others only. */
    cd__joiner k;
    memset(w.calls, 0, sizeof w.calls);
    assert_int_equal(cd__joiner_init(&k, 6, 0.8, world_similarity, &w), CD_OK);
    assert_int_equal(cd__joiner_bucket(&k, bucket, 6, 1), CD_OK);
    assert_int_equal(k.checked, 5);
    assert_int_equal(w.calls[3][4], 0);
    cd__joiner_free(&k);
    cd__joiner_free(&j);
    cd__joiner_free(&j); /* freeing twice is harmless */

    assert_int_equal(cd__joiner_init(&j, 3, 0.8, NULL, &w), CD_ERR_ARG);
    cd__joiner_free(&j);
}

/* Similarity of a random corpus: a document's group decides, with a few
 * pairs across groups that are similar all the same. */
typedef struct random_world {
    const uint32_t *group;
} random_world;

static double random_similarity(const void *ctx, uint32_t a, uint32_t b)
{
    const random_world *w = ctx;
    uint64_t h = ((uint64_t)a * 0x9e3779b97f4a7c15u) ^ ((uint64_t)b * 0xc2b2ae3d27d4eb4fu);
    if (w->group[a] == w->group[b])
        return (h >> 60) == 0 ? 0.5 : 0.9; /* some copies miss */
    return (h >> 58) == 0 ? 0.85 : 0.2;    /* some bridges across groups */
}

enum { RANDOM_DOCS = 400, RANDOM_BANDS = 6 };

/* Band keys: documents of one group mostly share each band's key; some
 * keys collide across groups; a few documents are skipped. */
static void random_corpus(uint32_t *group, uint64_t *keys, uint8_t *skip)
{
    for (size_t d = 0; d < RANDOM_DOCS; d++) {
        group[d] = (uint32_t)(rng() % 60);
        skip[d] = rng() % 40 == 0;
    }
    for (size_t d = 0; d < RANDOM_DOCS; d++)
        for (unsigned b = 0; b < RANDOM_BANDS; b++) {
            uint64_t r = rng();
            uint64_t key = (uint64_t)group[d] * 1000003u + b;
            if (r % 5 == 0)
                key = r; /* this band differs */
            else if (r % 23 == 0)
                key = (uint64_t)(r % 60) * 1000003u + b; /* collides with another group */
            keys[d * RANDOM_BANDS + b] = key * 0x9e3779b97f4a7c15u;
        }
}

/* The components of every verified candidate pair (the reference). */
static void reference_components(const uint64_t *keys, const uint8_t *skip, size_t max_bucket,
                                 const random_world *w, uint32_t *rep)
{
    cd__pair32 *pairs;
    size_t count;
    assert_int_equal(
        cd__lsh_candidates(keys, RANDOM_DOCS, RANDOM_BANDS, skip, max_bucket, &pairs, &count, NULL),
        CD_OK);
    cd__edge *edges = malloc((count + 1) * sizeof *edges);
    size_t kept = 0;
    for (size_t i = 0; i < count; i++) {
        double s = random_similarity(w, pairs[i].a, pairs[i].b);
        if (s + 1e-9 >= 0.8)
            edges[kept++] = (cd__edge){pairs[i].a, pairs[i].b, (float)s};
    }
    assert_int_equal(cd__cluster(RANDOM_DOCS, edges, kept, NULL, rep), CD_OK);
    free(edges);
    cd__free(pairs);
}

/* The components found by joining band by band; CD_OK or the failure. */
static cd_status joined_components(const uint64_t *keys, const uint8_t *skip, size_t max_bucket,
                                   const random_world *w, uint32_t *rep, size_t *checked)
{
    cd__joiner j;
    cd__lsh_grouper g = {0};
    cd_status st = cd__joiner_init(&j, RANDOM_DOCS, 0.8, random_similarity, w);
    for (unsigned b = 0; b < RANDOM_BANDS && st == CD_OK; b++)
        st = cd__lsh_group_band(&g, keys + b, RANDOM_BANDS, RANDOM_DOCS, skip, max_bucket,
                                cd__joiner_bucket, &j, NULL);
    if (st == CD_OK)
        st = cd__cluster(RANDOM_DOCS, j.edges, j.edge_count, NULL, rep);
    if (checked)
        *checked = j.checked;
    cd__joiner_free(&j);
    cd__lsh_grouper_free(&g);
    return st;
}

/* One random corpus: its groups, band keys and skipped documents. */
typedef struct random_corpus_data {
    uint32_t group[RANDOM_DOCS];
    uint64_t keys[RANDOM_DOCS * RANDOM_BANDS];
    uint8_t skip[RANDOM_DOCS];
} random_corpus_data;

static void test_join_random(void **state)
{
    (void)state;
    static random_corpus_data c;
    uint32_t want[RANDOM_DOCS], got[RANDOM_DOCS];
    for (int round = 0; round < 30; round++) {
        random_corpus(c.group, c.keys, c.skip);
        random_world w = {c.group};
        size_t max_bucket = round % 3 == 0 ? 3 : 0;
        reference_components(c.keys, c.skip, max_bucket, &w, want);
        size_t checked;
        assert_int_equal(joined_components(c.keys, c.skip, max_bucket, &w, got, &checked), CD_OK);
        assert_memory_equal(got, want, sizeof want);
        assert_true(checked > 0);
    }
}

static void test_join_out_of_memory(void **state)
{
    (void)state;
    static random_corpus_data c;
    uint32_t want[RANDOM_DOCS], got[RANDOM_DOCS];
    random_corpus(c.group, c.keys, c.skip);
    random_world w = {c.group};
    reference_components(c.keys, c.skip, 0, &w, want);
    int failed = 0;
    for (long n = 1; n < 400; n++) {
        counting_alloc_start(n, 0);
        cd_status st = joined_components(c.keys, c.skip, 0, &w, got, NULL);
        counting_alloc_stop();
        assert_int_equal(counting_alloc_live(), 0);
        if (st == CD_OK) {
            assert_memory_equal(got, want, sizeof want);
            if (counting_alloc_failed() == 0)
                break; /* past the last allocation */
        } else {
            assert_int_equal(st, CD_ERR_NOMEM);
            failed++;
        }
    }
    assert_true(failed > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_group_buckets),      cmocka_unit_test(test_group_stops),
        cmocka_unit_test(test_join_skips),         cmocka_unit_test(test_join_random),
        cmocka_unit_test(test_join_out_of_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
