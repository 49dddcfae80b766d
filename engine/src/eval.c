/* eval.c: cd_eval, the quality measures of a clustering against a gold one.
 * Not a pipeline stage: it scores what the cluster stage produced. Everything
 * comes from the contingency table, built by sorting (gold, pred) label pairs,
 * so the cost is O(n) memory and a radix sort, never O(n²) pair enumeration.
 *
 * Arithmetic. Pair counts are integers: C(n,2) < 2^63 for n < 2^32, so every
 * pair sum is exact in uint64_t and is converted to double only in the result
 * (exact there up to 2^53 pairs, about 1.3e8 items in one cluster). The ARI is
 * computed from those exact sums in 128-bit integers when the compiler has
 * them (so the numerator and denominator are exact and only the final
 * division rounds) and in long double otherwise. B-cubed sums are
 * accumulated in long double, one term per cluster. */
#include <stdint.h>
#include <string.h>

#include "alloc.h"
#include "copydesk/copydesk.h"

/* ---------------------------------------------------------------- sorting */

/* Sorts keys[0..n) ascending with a least-significant-digit radix sort on
 * bytes, using tmp[0..n) as scratch. Byte positions where every key holds
 * the same value are skipped, so small labels cost few passes. The sorted
 * keys end up in keys. */
static void radix_sort_u64(uint64_t *keys, uint64_t *tmp, size_t n)
{
    size_t counts[8][256];
    memset(counts, 0, sizeof counts);
    for (size_t i = 0; i < n; i++) {
        uint64_t k = keys[i];
        for (int b = 0; b < 8; b++)
            counts[b][(k >> (8 * b)) & 0xff]++;
    }
    uint64_t *src = keys, *dst = tmp;
    for (int b = 0; b < 8; b++) {
        size_t *c = counts[b];
        if (c[(keys[0] >> (8 * b)) & 0xff] == n)
            continue; /* every key has the same byte here */
        size_t sum = 0;
        for (int v = 0; v < 256; v++) {
            size_t count = c[v];
            c[v] = sum;
            sum += count;
        }
        for (size_t i = 0; i < n; i++)
            dst[c[(src[i] >> (8 * b)) & 0xff]++] = src[i];
        uint64_t *swap = src;
        src = dst;
        dst = swap;
    }
    if (src != keys)
        memcpy(keys, src, n * sizeof *keys);
}

/* ------------------------------------------------------------ one margin */

/* What one pass over keys sorted by (outer label, inner label) yields: the
 * outer clusters, and the contingency cells within them. */
typedef struct margin {
    size_t clusters;     /* distinct outer labels */
    size_t largest;      /* largest outer cluster */
    size_t cells;        /* non-empty contingency cells */
    uint64_t pairs;      /* Σ C(outer size, 2) */
    uint64_t cell_pairs; /* Σ C(n_ij, 2) */
    long double bcubed;  /* Σ_outer (Σ_inner n_ij²) / outer size */
} margin;

static uint64_t choose2(uint64_t k)
{
    return k % 2 == 0 ? k / 2 * (k - 1) : (k - 1) / 2 * k;
}

static void tally(const uint64_t *keys, size_t n, margin *m)
{
    memset(m, 0, sizeof *m);
    size_t i = 0;
    while (i < n) {
        uint32_t outer = (uint32_t)(keys[i] >> 32);
        uint64_t size = 0;
        long double squares = 0; /* exact while below 2^64 */
        while (i < n && (uint32_t)(keys[i] >> 32) == outer) {
            uint64_t key = keys[i];
            uint64_t cell = 0;
            while (i < n && keys[i] == key) {
                cell++;
                i++;
            }
            size += cell;
            squares += (long double)cell * cell;
            m->cell_pairs += choose2(cell);
            m->cells++;
        }
        m->clusters++;
        if (size > m->largest)
            m->largest = (size_t)size;
        m->pairs += choose2(size);
        m->bcubed += squares / (long double)size;
    }
}

/* ------------------------------------------------------------------ ARI */

/* Hubert–Arabie adjusted Rand index from the pair sums:
 *   expected = gold·pred / total,  max = (gold + pred) / 2,
 *   ARI = (index - expected) / (max - expected)
 * multiplied through by 2·total so that only integers appear:
 *   ARI = 2(index·total - gold·pred) / ((gold + pred)·total - 2·gold·pred). */
static double adjusted_rand(uint64_t index, uint64_t gold, uint64_t pred, uint64_t total,
                            int identical)
{
#ifdef __SIZEOF_INT128__
    /* total < 2^63 and gold + pred < 2^64 keep every product below 2^127
     * when n < 2^32; beyond that, fall through to long double. */
    if (total < ((uint64_t)1 << 62)) {
        __int128 num = 2 * ((__int128)index * total - (__int128)gold * pred);
        __int128 den = (__int128)(gold + pred) * total - 2 * (__int128)gold * pred;
        if (den == 0)
            return identical ? 1.0 : 0.0;
        return (double)((long double)num / (long double)den);
    }
#endif
    long double g = gold, p = pred, t = total, x = index;
    long double expected = g * p / t;
    long double den = (g + p) / 2 - expected;
    if (total == 0 || den == 0)
        return identical ? 1.0 : 0.0;
    return (double)((x - expected) / den);
}

/* A ratio with the convention of the header: with nothing to count, 1 when
 * the other side has nothing either, else 0. */
static double ratio(uint64_t hits, uint64_t of, uint64_t other)
{
    if (of == 0)
        return other == 0 ? 1.0 : 0.0;
    return (double)((long double)hits / (long double)of);
}

static double harmonic(double p, double r)
{
    return p + r > 0 ? 2 * p * r / (p + r) : 0.0;
}

/* ----------------------------------------------------------------- public */

cd_status cd_eval(const uint32_t *gold, const uint32_t *pred, size_t n, cd_eval_result *out)
{
    if (gold == NULL || pred == NULL || out == NULL || n == 0)
        return CD_ERR_ARG;
    if (n > SIZE_MAX / 2 / sizeof(uint64_t))
        return CD_ERR_NOMEM;
    uint64_t *keys = cd__malloc(2 * n * sizeof *keys);
    if (keys == NULL)
        return CD_ERR_NOMEM;
    uint64_t *tmp = keys + n;

    /* By gold cluster: gold margins and B-cubed recall. */
    margin by_gold, by_pred;
    for (size_t i = 0; i < n; i++)
        keys[i] = (uint64_t)gold[i] << 32 | pred[i];
    radix_sort_u64(keys, tmp, n);
    tally(keys, n, &by_gold);

    /* By predicted cluster: predicted margins and B-cubed precision. */
    for (size_t i = 0; i < n; i++)
        keys[i] = (uint64_t)pred[i] << 32 | gold[i];
    radix_sort_u64(keys, tmp, n);
    tally(keys, n, &by_pred);
    cd__free(keys);

    uint64_t true_pairs = by_gold.cell_pairs; /* == by_pred.cell_pairs */
    /* Same partition: every gold cluster is one cell and so is every
     * predicted one. */
    int identical = by_gold.cells == by_gold.clusters && by_pred.cells == by_pred.clusters;

    memset(out, 0, sizeof *out);
    out->items = n;
    out->gold_clusters = by_gold.clusters;
    out->pred_clusters = by_pred.clusters;
    out->gold_largest = by_gold.largest;
    out->pred_largest = by_pred.largest;
    out->gold_pairs = (double)by_gold.pairs;
    out->pred_pairs = (double)by_pred.pairs;
    out->true_pairs = (double)true_pairs;
    out->precision = ratio(true_pairs, by_pred.pairs, by_gold.pairs);
    out->recall = ratio(true_pairs, by_gold.pairs, by_pred.pairs);
    out->f1 = harmonic(out->precision, out->recall);
    out->ari = adjusted_rand(true_pairs, by_gold.pairs, by_pred.pairs, choose2(n), identical);
    out->bcubed_precision = (double)(by_pred.bcubed / (long double)n);
    out->bcubed_recall = (double)(by_gold.bcubed / (long double)n);
    out->bcubed_f1 = harmonic(out->bcubed_precision, out->bcubed_recall);
    return CD_OK;
}
