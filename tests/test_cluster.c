/* test_cluster.c: union-find clustering and the keep-rule representative:
 * chains, ties, empty input, bad edges, random graphs against a naive BFS,
 * and allocation failure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "alloc.h"
#include "cluster.h"
#include "support.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng(void) { return test_random(&rng_state); }

static void test_chain(void **state)
{
    (void)state;
    cd__edge edges[] = {{0, 1, 0.9f}, {1, 2, 0.8f}};
    uint32_t rep[5];
    assert_int_equal(cd__cluster(5, edges, 2, NULL, rep), CD_OK);
    uint32_t want[5] = {0, 0, 0, 3, 4};
    assert_memory_equal(rep, want, sizeof want);

    /* Edges given backwards and out of order, repeats and a self-loop. */
    cd__edge messy[] = {{4, 2, 1}, {2, 1, 1}, {3, 3, 1}, {4, 2, 1}, {1, 4, 1}};
    assert_int_equal(cd__cluster(5, messy, 5, NULL, rep), CD_OK);
    uint32_t want2[5] = {0, 1, 1, 3, 1};
    assert_memory_equal(rep, want2, sizeof want2);
}

static void test_keep_rules(void **state)
{
    (void)state;
    /* Two components: {0, 2, 4, 5} and {1, 3}; 6 alone. */
    cd__edge edges[] = {{0, 2, 1}, {4, 5, 1}, {2, 5, 1}, {3, 1, 1}};
    uint32_t rep[7];

    /* earliest: epoch dates, undated last */
    int64_t dates[7] = {900, INT64_MAX, 500, 100, 500, INT64_MAX, 0};
    assert_int_equal(cd__cluster(7, edges, 4, dates, rep), CD_OK);
    uint32_t want_earliest[7] = {2, 3, 2, 3, 2, 2, 6}; /* 2 and 4 tie at 500: 2 */
    assert_memory_equal(rep, want_earliest, sizeof want_earliest);

    /* every member undated: the smallest number */
    int64_t undated[7] = {INT64_MAX, INT64_MAX, INT64_MAX, INT64_MAX,
                          INT64_MAX, INT64_MAX, INT64_MAX};
    assert_int_equal(cd__cluster(7, edges, 4, undated, rep), CD_OK);
    uint32_t want_first[7] = {0, 1, 0, 1, 0, 0, 6};
    assert_memory_equal(rep, want_first, sizeof want_first);

    /* longest: -length, ties to the smallest number */
    int64_t neg_len[7] = {-10, -3, -40, -3, -12, -40, -1};
    assert_int_equal(cd__cluster(7, edges, 4, neg_len, rep), CD_OK);
    uint32_t want_longest[7] = {2, 1, 2, 1, 2, 2, 6};
    assert_memory_equal(rep, want_longest, sizeof want_longest);

    /* first: all 0, same as NULL */
    int64_t zero[7] = {0};
    assert_int_equal(cd__cluster(7, edges, 4, zero, rep), CD_OK);
    assert_memory_equal(rep, want_first, sizeof want_first);
    assert_int_equal(cd__cluster(7, edges, 4, NULL, rep), CD_OK);
    assert_memory_equal(rep, want_first, sizeof want_first);

    /* negative dates (before 1970) and INT64_MIN sort first */
    int64_t old[7] = {5, 0, -86400, 0, INT64_MIN, 3, 0};
    assert_int_equal(cd__cluster(7, edges, 4, old, rep), CD_OK);
    uint32_t want_old[7] = {4, 1, 4, 1, 4, 4, 6};
    assert_memory_equal(rep, want_old, sizeof want_old);
}

static void test_empty_and_errors(void **state)
{
    (void)state;
    uint32_t rep[4] = {9, 9, 9, 9};
    assert_int_equal(cd__cluster(4, NULL, 0, NULL, rep), CD_OK);
    uint32_t want[4] = {0, 1, 2, 3};
    assert_memory_equal(rep, want, sizeof want);
    assert_int_equal(cd__cluster(0, NULL, 0, NULL, NULL), CD_OK);

    cd__edge bad[] = {{0, 1, 1}, {1, 4, 1}};
    uint32_t untouched[4] = {7, 7, 7, 7};
    memcpy(rep, untouched, sizeof rep);
    assert_int_equal(cd__cluster(4, bad, 2, NULL, rep), CD_ERR_ARG);
    assert_memory_equal(rep, untouched, sizeof rep); /* nothing written */
    assert_int_equal(cd__cluster(4, NULL, 1, NULL, rep), CD_ERR_ARG);
    assert_int_equal(cd__cluster(4, NULL, 0, NULL, NULL), CD_ERR_ARG);
}

/* Naive reference: adjacency lists, BFS per component, then the best
 * member by scanning the component. */
static void naive_cluster(size_t n, const cd__edge *edges, size_t m, const int64_t *rank,
                          uint32_t *rep)
{
    size_t *deg = calloc(n + 1, sizeof *deg);
    uint32_t *adj = malloc(2 * m * sizeof *adj + 1);
    for (size_t e = 0; e < m; e++) {
        deg[edges[e].a + 1]++;
        deg[edges[e].b + 1]++;
    }
    for (size_t i = 0; i < n; i++)
        deg[i + 1] += deg[i];
    size_t *fill = malloc((n + 1) * sizeof *fill);
    memcpy(fill, deg, (n + 1) * sizeof *fill);
    for (size_t e = 0; e < m; e++) {
        adj[fill[edges[e].a]++] = edges[e].b;
        adj[fill[edges[e].b]++] = edges[e].a;
    }
    int64_t *comp = malloc(n * sizeof *comp);
    uint32_t *queue = malloc(n * sizeof *queue + 1);
    for (size_t i = 0; i < n; i++)
        comp[i] = -1;
    for (size_t s = 0; s < n; s++) {
        if (comp[s] >= 0)
            continue;
        size_t head = 0, tail = 0;
        queue[tail++] = (uint32_t)s;
        comp[s] = (int64_t)s;
        while (head < tail) {
            uint32_t x = queue[head++];
            for (size_t k = deg[x]; k < deg[x + 1]; k++)
                if (comp[adj[k]] < 0) {
                    comp[adj[k]] = (int64_t)s;
                    queue[tail++] = adj[k];
                }
        }
        uint32_t best = queue[0];
        for (size_t k = 1; k < tail; k++) {
            uint32_t x = queue[k];
            if (rank[x] < rank[best] || (rank[x] == rank[best] && x < best))
                best = x;
        }
        for (size_t k = 0; k < tail; k++)
            rep[queue[k]] = best;
    }
    free(deg);
    free(adj);
    free(fill);
    free(comp);
    free(queue);
}

static void test_random_graphs(void **state)
{
    (void)state;
    const size_t n = 3000;
    uint32_t *rep = malloc(n * sizeof *rep), *want = malloc(n * sizeof *want);
    int64_t *rank = malloc(n * sizeof *rank);
    cd__edge *edges = malloc(3 * n * sizeof *edges);
    size_t sizes[] = {0, 1, n / 4, n / 2, n, 3 * n};
    for (int round = 0; round < 24; round++) {
        size_t m = sizes[round % 6];
        for (size_t e = 0; e < m; e++) {
            edges[e].a = (uint32_t)(rng() % n);
            edges[e].b = (uint32_t)(rng() % n);
            edges[e].similarity = 1;
        }
        unsigned range = round < 12 ? 5 : 1000000; /* many ties, then few */
        for (size_t i = 0; i < n; i++)
            rank[i] = (int64_t)(rng() % range) - (int64_t)range / 2;
        assert_int_equal(cd__cluster(n, edges, m, rank, rep), CD_OK);
        naive_cluster(n, edges, m, rank, want);
        assert_memory_equal(rep, want, n * sizeof *rep);
    }
    free(rep);
    free(want);
    free(rank);
    free(edges);
}

static void test_nomem(void **state)
{
    (void)state;
    cd__edge edges[] = {{0, 1, 1}, {2, 3, 1}};
    uint32_t rep[4];
    counting_alloc_start(1, 1); /* every allocation fails */
    cd_status st = cd__cluster(4, edges, 2, NULL, rep);
    long live = counting_alloc_live();
    counting_alloc_start(2, 1); /* the first succeeds, every later one fails */
    cd_status st2 = cd__cluster(4, edges, 2, NULL, rep);
    live += counting_alloc_live();
    counting_alloc_stop();
    assert_int_equal(st, CD_ERR_NOMEM);
    assert_int_equal(st2, CD_OK);
    assert_int_equal(live, 0);
    uint32_t want[4] = {0, 0, 2, 2};
    assert_memory_equal(rep, want, sizeof want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chain),
        cmocka_unit_test(test_keep_rules),
        cmocka_unit_test(test_empty_and_errors),
        cmocka_unit_test(test_random_graphs),
        cmocka_unit_test(test_nomem),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
