/* fuzz_eval.c: fuzz target for cd_eval, the clustering quality measures.
 * Each pair of input bytes labels one item (gold, predicted), widened over
 * the label space so the radix sort sees every byte position. Oracle:
 * every measure is in range; swapping gold and predicted swaps precision
 * and recall and keeps the ARI; renaming the labels changes nothing;
 * comparing a clustering with itself is perfect. */
#include <math.h>

#include "copydesk/copydesk.h"
#include "fuzz.h"

static void check_ranges(const cd_eval_result *r, size_t n)
{
    FUZZ_CHECK(r->items == n);
    FUZZ_CHECK(r->gold_clusters >= 1 && r->gold_clusters <= n);
    FUZZ_CHECK(r->pred_clusters >= 1 && r->pred_clusters <= n);
    FUZZ_CHECK(r->gold_largest >= 1 && r->gold_largest <= n);
    FUZZ_CHECK(r->true_pairs <= r->gold_pairs && r->true_pairs <= r->pred_pairs);
    const double unit[] = {r->precision,        r->recall,        r->f1,
                           r->bcubed_precision, r->bcubed_recall, r->bcubed_f1};
    for (size_t i = 0; i < sizeof unit / sizeof unit[0]; i++)
        FUZZ_CHECK(unit[i] >= 0.0 && unit[i] <= 1.0 + 1e-12);
    FUZZ_CHECK(isfinite(r->ari) && r->ari >= -1.0 - 1e-12 && r->ari <= 1.0 + 1e-12);
}

static int close_to(double a, double b)
{
    return fabs(a - b) <= 1e-9 * (1.0 + fabs(a) + fabs(b));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t n = size / 2;
    if (n == 0) {
        cd_eval_result r;
        uint32_t one = 0;
        FUZZ_CHECK(cd_eval(&one, &one, 0, &r) == CD_ERR_ARG);
        return 0;
    }
    uint32_t *gold = malloc(n * sizeof *gold), *pred = malloc(n * sizeof *pred);
    uint32_t *gold2 = malloc(n * sizeof *gold2), *pred2 = malloc(n * sizeof *pred2);
    FUZZ_CHECK(gold && pred && gold2 && pred2);
    /* The first byte picks how labels are spread over 32 bits. */
    unsigned shift = data[0] % 25;
    for (size_t i = 0; i < n; i++) {
        gold[i] = (uint32_t)data[2 * i] << shift;
        pred[i] = (uint32_t)data[2 * i + 1] << shift;
        /* A bijection of uint32 (odd multiplier, then xor): same partitions. */
        gold2[i] = gold[i] * 2654435761u ^ 0x5bd1e995u;
        pred2[i] = pred[i] * 40503u ^ 0xdeadbeefu;
    }
    cd_eval_result r, swapped, renamed, self;
    FUZZ_CHECK(cd_eval(gold, pred, n, &r) == CD_OK);
    check_ranges(&r, n);
    FUZZ_CHECK(cd_eval(pred, gold, n, &swapped) == CD_OK);
    check_ranges(&swapped, n);
    FUZZ_CHECK(swapped.precision == r.recall && swapped.recall == r.precision);
    FUZZ_CHECK(swapped.bcubed_precision == r.bcubed_recall);
    FUZZ_CHECK(close_to(swapped.ari, r.ari));
    FUZZ_CHECK(cd_eval(gold2, pred2, n, &renamed) == CD_OK);
    FUZZ_CHECK(renamed.gold_clusters == r.gold_clusters && renamed.pred_clusters == r.pred_clusters);
    FUZZ_CHECK(renamed.true_pairs == r.true_pairs && renamed.f1 == r.f1);
    FUZZ_CHECK(close_to(renamed.ari, r.ari) && close_to(renamed.bcubed_f1, r.bcubed_f1));
    FUZZ_CHECK(cd_eval(gold, gold, n, &self) == CD_OK);
    FUZZ_CHECK(self.precision == 1.0 && self.recall == 1.0 && self.ari == 1.0);
    FUZZ_CHECK(close_to(self.bcubed_f1, 1.0));
    free(gold);
    free(pred);
    free(gold2);
    free(pred2);
    return 0;
}
