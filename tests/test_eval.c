/* test_eval.c: cd_eval against hand-computed examples and against a naive
 * O(n²) pair-enumeration reference on random labelings. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "copydesk/copydesk.h"
#include "support.h"

#define EPS 1e-12

#define assert_close(actual, expected)                                                             \
    do {                                                                                           \
        double a_ = (actual), e_ = (expected);                                                     \
        if (!(fabs(a_ - e_) <= EPS * (1 + fabs(e_))))                                              \
            fail_msg("%s = %.17g, expected %.17g", #actual, a_, e_);                               \
    } while (0)

#define N_OF(array) (sizeof(array) / sizeof((array)[0]))

static cd_eval_result run(const uint32_t *gold, const uint32_t *pred, size_t n)
{
    cd_eval_result r;
    assert_int_equal(cd_eval(gold, pred, n, &r), CD_OK);
    return r;
}

static void assert_same_result(const cd_eval_result *x, const cd_eval_result *y)
{
    assert_int_equal(x->items, y->items);
    assert_int_equal(x->gold_clusters, y->gold_clusters);
    assert_int_equal(x->pred_clusters, y->pred_clusters);
    assert_int_equal(x->gold_largest, y->gold_largest);
    assert_int_equal(x->pred_largest, y->pred_largest);
    assert_close(x->gold_pairs, y->gold_pairs);
    assert_close(x->pred_pairs, y->pred_pairs);
    assert_close(x->true_pairs, y->true_pairs);
    assert_close(x->precision, y->precision);
    assert_close(x->recall, y->recall);
    assert_close(x->f1, y->f1);
    assert_close(x->ari, y->ari);
    assert_close(x->bcubed_precision, y->bcubed_precision);
    assert_close(x->bcubed_recall, y->bcubed_recall);
    assert_close(x->bcubed_f1, y->bcubed_f1);
}

static void assert_all_one(const cd_eval_result *r)
{
    assert_close(r->precision, 1);
    assert_close(r->recall, 1);
    assert_close(r->f1, 1);
    assert_close(r->ari, 1);
    assert_close(r->bcubed_precision, 1);
    assert_close(r->bcubed_recall, 1);
    assert_close(r->bcubed_f1, 1);
}

/* ------------------------------------------------------------ arguments */

static void test_arguments(void **state)
{
    (void)state;
    uint32_t labels[1] = {0};
    cd_eval_result r;
    assert_int_equal(cd_eval(labels, labels, 0, &r), CD_ERR_ARG);
    assert_int_equal(cd_eval(NULL, labels, 1, &r), CD_ERR_ARG);
    assert_int_equal(cd_eval(labels, NULL, 1, &r), CD_ERR_ARG);
    assert_int_equal(cd_eval(labels, labels, 1, NULL), CD_ERR_ARG);
}

static void test_out_of_memory(void **state)
{
    (void)state;
    uint32_t gold[] = {0, 0, 1}, pred[] = {0, 1, 1};
    counting_alloc_start(1, 1); /* every allocation fails */
    cd_eval_result r;
    cd_status status = cd_eval(gold, pred, 3, &r);
    counting_alloc_stop();
    assert_int_equal(status, CD_ERR_NOMEM);
}

/* -------------------------------------------------------- hand computed */

/* sklearn's adjusted_rand_score example: ARI 0.24242424...
 *   gold {0,1,2} {3,4,5}: gold pairs 3+3 = 6
 *   pred {0,1} {2,3} {4,5}: pred pairs 3
 *   cells 2,1 | 1,2: true pairs 1+1 = 2
 *   P 2/3, R 2/6, F1 4/9; ARI (2 - 6·3/15) / (4.5 - 1.2) = 0.8/3.3
 *   B-cubed P (4/2 + 1/2 + 1/2 + 4/2)/6 = 5/6, R (4/3 + 1/3 + 1/3 + 4/3)/6 = 5/9,
 *   F1 2·(5/6)(5/9)/(5/6 + 5/9) = 2/3 */
static void test_sklearn_example(void **state)
{
    (void)state;
    uint32_t gold[] = {0, 0, 0, 1, 1, 1}, pred[] = {0, 0, 1, 1, 2, 2};
    cd_eval_result r = run(gold, pred, 6);
    assert_int_equal(r.items, 6);
    assert_int_equal(r.gold_clusters, 2);
    assert_int_equal(r.pred_clusters, 3);
    assert_int_equal(r.gold_largest, 3);
    assert_int_equal(r.pred_largest, 2);
    assert_close(r.gold_pairs, 6);
    assert_close(r.pred_pairs, 3);
    assert_close(r.true_pairs, 2);
    assert_close(r.precision, 2.0 / 3);
    assert_close(r.recall, 1.0 / 3);
    assert_close(r.f1, 4.0 / 9);
    assert_close(r.ari, 0.8 / 3.3);
    assert_close(r.ari, 0.24242424242424243);
    assert_close(r.bcubed_precision, 5.0 / 6);
    assert_close(r.bcubed_recall, 5.0 / 9);
    assert_close(r.bcubed_f1, 2.0 / 3);
}

/* Hubert & Arabie's adjusted index is 0 when one side is a single cluster:
 *   gold {0,1} {2,3} {4}: gold pairs 2; pred one cluster of 5: pred pairs 10
 *   true pairs 2; P 0.2, R 1, F1 1/3; ARI (2 - 2·10/10) / (6 - 2) = 0
 *   B-cubed P (4 + 4 + 1)/5/5 = 9/25, R (4/2 + 4/2 + 1/1)/5 = 1 */
static void test_one_predicted_cluster(void **state)
{
    (void)state;
    uint32_t gold[] = {0, 0, 1, 1, 2}, pred[] = {7, 7, 7, 7, 7};
    cd_eval_result r = run(gold, pred, 5);
    assert_int_equal(r.gold_clusters, 3);
    assert_int_equal(r.pred_clusters, 1);
    assert_int_equal(r.gold_largest, 2);
    assert_int_equal(r.pred_largest, 5);
    assert_close(r.gold_pairs, 2);
    assert_close(r.pred_pairs, 10);
    assert_close(r.true_pairs, 2);
    assert_close(r.precision, 0.2);
    assert_close(r.recall, 1);
    assert_close(r.f1, 1.0 / 3);
    assert_close(r.ari, 0);
    assert_close(r.bcubed_precision, 9.0 / 25);
    assert_close(r.bcubed_recall, 1);
    assert_close(r.bcubed_f1, 2 * 0.36 / 1.36);
}

/* Same gold, every item alone: no predicted pairs while gold has some, so
 * precision and recall are 0 by convention; ARI (0 - 0) / (1 - 0) = 0;
 * B-cubed P 1, R (1/2·4 + 1)/5 = 3/5, F1 0.75. */
static void test_all_singletons(void **state)
{
    (void)state;
    uint32_t gold[] = {0, 0, 1, 1, 2}, pred[] = {0, 1, 2, 3, 4};
    cd_eval_result r = run(gold, pred, 5);
    assert_int_equal(r.pred_clusters, 5);
    assert_int_equal(r.pred_largest, 1);
    assert_close(r.pred_pairs, 0);
    assert_close(r.true_pairs, 0);
    assert_close(r.precision, 0);
    assert_close(r.recall, 0);
    assert_close(r.f1, 0);
    assert_close(r.ari, 0);
    assert_close(r.bcubed_precision, 1);
    assert_close(r.bcubed_recall, 0.6);
    assert_close(r.bcubed_f1, 0.75);
}

/* Gold all singletons, predicted one cluster: gold has no pairs but the
 * prediction has, so recall is 0 by convention, and precision 0/3. */
static void test_gold_singletons_pred_merged(void **state)
{
    (void)state;
    uint32_t gold[] = {0, 1, 2}, pred[] = {5, 5, 5};
    cd_eval_result r = run(gold, pred, 3);
    assert_close(r.gold_pairs, 0);
    assert_close(r.pred_pairs, 3);
    assert_close(r.precision, 0);
    assert_close(r.recall, 0);
    assert_close(r.f1, 0);
    assert_close(r.ari, 0);
    assert_close(r.bcubed_precision, 1.0 / 3);
    assert_close(r.bcubed_recall, 1);
    assert_close(r.bcubed_f1, 0.5);
}

static void test_perfect(void **state)
{
    (void)state;
    /* The same partition under other label numbers. */
    uint32_t gold[] = {3, 3, 1, 9, 9, 9, 0},
             pred[] = {100, 100, 0, 4000000000u, 4000000000u, 4000000000u, 7};
    cd_eval_result r = run(gold, pred, 7);
    assert_int_equal(r.gold_clusters, 4);
    assert_int_equal(r.pred_clusters, 4);
    assert_int_equal(r.gold_largest, 3);
    assert_close(r.true_pairs, 4);
    assert_all_one(&r);
}

/* Degenerate partitions where expected index == max index: ARI is 1 when
 * the clusterings agree. */
static void test_degenerate_identical(void **state)
{
    (void)state;
    uint32_t singles_gold[] = {0, 1, 2, 3}, singles_pred[] = {9, 8, 7, 6};
    cd_eval_result r = run(singles_gold, singles_pred, 4);
    assert_close(r.gold_pairs, 0);
    assert_close(r.pred_pairs, 0);
    assert_all_one(&r);

    uint32_t one_gold[] = {1, 1, 1, 1}, one_pred[] = {0, 0, 0, 0};
    r = run(one_gold, one_pred, 4);
    assert_close(r.true_pairs, 6);
    assert_all_one(&r);

    uint32_t single_item = 42;
    r = run(&single_item, &single_item, 1);
    assert_int_equal(r.items, 1);
    assert_int_equal(r.gold_clusters, 1);
    assert_all_one(&r);
}

/* Renumbering labels (a bijection per side) changes nothing; swapping the
 * sides swaps precision and recall and keeps ARI. */
static void test_label_numbering(void **state)
{
    (void)state;
    uint32_t gold[] = {0, 0, 0, 1, 1, 1, 2, 2, 3, 4, 4, 4, 4};
    uint32_t pred[] = {5, 5, 6, 6, 6, 1, 2, 2, 2, 9, 9, 9, 0};
    size_t n = N_OF(gold);
    uint32_t gold2[N_OF(gold)], pred2[N_OF(gold)];
    for (size_t i = 0; i < n; i++) {
        gold2[i] = 0xffffffffu - gold[i] * 2654435761u;
        pred2[i] = (pred[i] + 17) << 24 | 0x00abcdefu;
    }
    cd_eval_result a = run(gold, pred, n), b = run(gold2, pred2, n);
    assert_same_result(&a, &b);

    cd_eval_result s = run(pred, gold, n);
    assert_close(s.precision, a.recall);
    assert_close(s.recall, a.precision);
    assert_close(s.f1, a.f1);
    assert_close(s.ari, a.ari);
    assert_close(s.bcubed_precision, a.bcubed_recall);
    assert_close(s.bcubed_recall, a.bcubed_precision);
    assert_int_equal(s.gold_clusters, a.pred_clusters);
    assert_int_equal(s.pred_largest, a.gold_largest);

    /* Item order does not matter either. */
    uint32_t gold3[N_OF(gold)], pred3[N_OF(gold)];
    for (size_t i = 0; i < n; i++) {
        gold3[i] = gold[n - 1 - i];
        pred3[i] = pred[n - 1 - i];
    }
    cd_eval_result c = run(gold3, pred3, n);
    assert_same_result(&a, &c);
}

/* ------------------------------------------------------------ reference */

/* The definitions, item by item and pair by pair. */
static cd_eval_result naive_eval(const uint32_t *gold, const uint32_t *pred, size_t n)
{
    cd_eval_result r;
    memset(&r, 0, sizeof r);
    r.items = n;
    double gp = 0, pp = 0, tp = 0, bp = 0, br = 0;
    for (size_t i = 0; i < n; i++) {
        size_t same_gold = 0, same_pred = 0, same_both = 0, first_gold = 1, first_pred = 1;
        for (size_t j = 0; j < n; j++) {
            int g = gold[i] == gold[j], p = pred[i] == pred[j];
            same_gold += g;
            same_pred += p;
            same_both += g && p;
            if (j < i && g)
                first_gold = 0;
            if (j < i && p)
                first_pred = 0;
            if (j > i) {
                gp += g;
                pp += p;
                tp += g && p;
            }
        }
        r.gold_clusters += first_gold;
        r.pred_clusters += first_pred;
        if (same_gold > r.gold_largest)
            r.gold_largest = same_gold;
        if (same_pred > r.pred_largest)
            r.pred_largest = same_pred;
        bp += (double)same_both / same_pred;
        br += (double)same_both / same_gold;
    }
    r.gold_pairs = gp;
    r.pred_pairs = pp;
    r.true_pairs = tp;
    r.precision = pp > 0 ? tp / pp : (gp > 0 ? 0 : 1);
    r.recall = gp > 0 ? tp / gp : (pp > 0 ? 0 : 1);
    r.f1 = r.precision + r.recall > 0 ? 2 * r.precision * r.recall / (r.precision + r.recall) : 0;
    double total = n * (n - 1) / 2.0;
    double expected = n > 1 ? gp * pp / total : 0, max = (gp + pp) / 2;
    if (max == expected) {
        int identical = 1;
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++)
                if ((gold[i] == gold[j]) != (pred[i] == pred[j]))
                    identical = 0;
        r.ari = identical ? 1 : 0;
    } else {
        r.ari = (tp - expected) / (max - expected);
    }
    r.bcubed_precision = bp / n;
    r.bcubed_recall = br / n;
    r.bcubed_f1 = 2 * r.bcubed_precision * r.bcubed_recall / (r.bcubed_precision + r.bcubed_recall);
    return r;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t next_random(void)
{
    /* splitmix64 */
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return (uint32_t)((z ^ (z >> 31)) >> 32);
}

static void test_random_vs_naive(void **state)
{
    (void)state;
    enum { N = 300 };
    static uint32_t gold[N], pred[N];
    /* Cluster counts from few (large clusters) to many (mostly singletons);
     * the prediction is the gold label with some items moved, so scores
     * cover the whole range. */
    const uint32_t label_ranges[] = {2, 5, 20, 60, 150, 300, 100000};
    for (size_t round = 0; round < 40; round++) {
        uint32_t range = label_ranges[round % N_OF(label_ranges)];
        unsigned noise = (unsigned)(round * 7 % 101); /* percent of items moved */
        for (size_t i = 0; i < N; i++) {
            gold[i] = next_random() % range;
            pred[i] = next_random() % 100 < noise ? next_random() % range : gold[i] * 3 + 1;
            if (round % 3 == 1)
                pred[i] ^= 0xdead0000u; /* labels using the high bytes */
        }
        cd_eval_result fast = run(gold, pred, N), slow = naive_eval(gold, pred, N);
        assert_same_result(&fast, &slow);
    }
}

/* Agreement on a larger input where the radix sort runs every pass. */
static void test_large_labels(void **state)
{
    (void)state;
    enum { N = 200000 };
    uint32_t *gold = malloc(N * sizeof *gold), *pred = malloc(N * sizeof *pred);
    assert_non_null(gold);
    assert_non_null(pred);
    for (size_t i = 0; i < N; i++) {
        gold[i] = (uint32_t)(i / 4) * 2654435761u; /* clusters of 4, scattered labels */
        pred[i] = (uint32_t)(i / 2) * 40503u;      /* each split in halves */
    }
    cd_eval_result r = run(gold, pred, N);
    assert_int_equal(r.gold_clusters, N / 4);
    assert_int_equal(r.pred_clusters, N / 2);
    assert_close(r.gold_pairs, N / 4 * 6.0);
    assert_close(r.pred_pairs, N / 2 * 1.0);
    assert_close(r.true_pairs, N / 2 * 1.0);
    assert_close(r.precision, 1);
    assert_close(r.recall, 1.0 / 3);
    /* B-cubed: each item shares its predicted cluster (2) with its gold
     * cluster: P 1, R 2/4. */
    assert_close(r.bcubed_precision, 1);
    assert_close(r.bcubed_recall, 0.5);
    /* ARI from the formula with the exact sums. */
    double total = N * (N - 1.0) / 2, gp = N / 4 * 6.0, pp = N / 2.0, tp = pp;
    double expected = gp * pp / total;
    assert_close(r.ari, (tp - expected) / ((gp + pp) / 2 - expected));
    free(gold);
    free(pred);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arguments),       cmocka_unit_test(test_out_of_memory),
        cmocka_unit_test(test_sklearn_example), cmocka_unit_test(test_one_predicted_cluster),
        cmocka_unit_test(test_all_singletons),  cmocka_unit_test(test_gold_singletons_pred_merged),
        cmocka_unit_test(test_perfect),         cmocka_unit_test(test_degenerate_identical),
        cmocka_unit_test(test_label_numbering), cmocka_unit_test(test_random_vs_naive),
        cmocka_unit_test(test_large_labels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
