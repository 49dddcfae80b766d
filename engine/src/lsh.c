/* lsh.c: LSH banding, the stage between MinHash and verification. Chooses
 * b bands × r rows from the threshold, hashes each band of a signature to a
 * 64-bit key, and groups documents by key with a radix sort to propose
 * candidate pairs. See docs/lsh.md for the reasoning and the numbers. */
#include "lsh.h"

#include <math.h>
#include <string.h>
#define XXH_INLINE_ALL /* short band inputs: let the compiler inline XXH3; also XXH3_state_t */
#include <xxhash.h>

#include "alloc.h"

_Static_assert(sizeof(cd__pair32) == 8, "cd__pair32 is packed into 64 bits");

/* ------------------------------------------------------------ parameters */

/* s is clamped to [0, 1]; 0 bands never collide (0); 0 rows always do. */
double cd_lsh_probability(double s, unsigned bands, unsigned rows)
{
    if (bands == 0)
        return 0.0;
    if (!(s > 0.0)) /* also NaN */
        return rows == 0 ? 1.0 : 0.0;
    if (s >= 1.0)
        return 1.0;
    /* 1 - (1 - s^r)^b, written to keep precision when s^r is tiny. */
    return -expm1((double)bands * log1p(-pow(s, (double)rows)));
}

/* 0 when bands or rows is 0 (no S-curve). */
double cd_lsh_midpoint(unsigned bands, unsigned rows)
{
    if (bands == 0 || rows == 0)
        return 0.0;
    /* (1 - 0.5^(1/b))^(1/r) */
    return pow(-expm1(log(0.5) / (double)bands), 1.0 / (double)rows);
}

/* Simpson intervals on each of [0, t] and [t, 1]. With 1024 the areas of
 * every b, r chosen for t = 0.05..0.99 and perm 32..1024 are within 5e-9 of
 * those with 16384 intervals, and the choices are the same (checked when
 * this was written; the largest error is at t = 0.99 where r is large).
 * The six grids in cd_lsh_choose take 48 KiB of stack. */
#ifndef CD__LSH_STEPS
#define CD__LSH_STEPS 1024
#endif

/* Two objectives closer than this are a tie (guards against the last bits
 * of pow() differing between C libraries). */
#define CD__LSH_TIE 1e-12

/* Simpson weight of grid point i of 0..CD__LSH_STEPS, without the h/3. */
static double simpson_weight(int i)
{
    if (i == 0 || i == CD__LSH_STEPS)
        return 1.0;
    return (i & 1) ? 4.0 : 2.0;
}

/* Besides the errors in copydesk.h, CD_ERR_ARG for NaN or infinite weights
 * and NULL outputs. Both weights 0 is accepted: every objective ties and
 * the smaller fp + fn decides. */
cd_status cd_lsh_choose(double threshold, unsigned perm, double fp_weight, double fn_weight,
                        unsigned *bands, unsigned *rows)
{
    if (!(threshold > 0.0 && threshold <= 1.0) || perm == 0 || !(fp_weight >= 0.0) ||
        !(fn_weight >= 0.0) || isinf(fp_weight) || isinf(fn_weight) || !bands || !rows)
        return CD_ERR_ARG;

    /* For a fixed r, (1 - s^r)^b is computed for b = 1, 2, ... by repeated
     * multiplication: q[i] = 1 - s_i^r, not_hit[i] = q[i]^b; and s_i^r from
     * s_i^(r-1), not by pow() (4x faster; the same choice for every t of
     * 0.01..1.00, perm 1..1024 and weights tried when this was written). */
    double power_lo[CD__LSH_STEPS + 1], power_hi[CD__LSH_STEPS + 1];
    double q_lo[CD__LSH_STEPS + 1], q_hi[CD__LSH_STEPS + 1];
    double miss_lo[CD__LSH_STEPS + 1], miss_hi[CD__LSH_STEPS + 1];
    const double h_lo = threshold / CD__LSH_STEPS;
    const double h_hi = (1.0 - threshold) / CD__LSH_STEPS;

    unsigned best_b = 0, best_r = 0;
    double best_obj = 0.0, best_sum = 0.0;

    for (int i = 0; i <= CD__LSH_STEPS; i++)
        power_lo[i] = power_hi[i] = 1.0;
    for (unsigned r = 1; r <= perm; r++) {
        for (int i = 0; i <= CD__LSH_STEPS; i++) {
            power_lo[i] *= i == CD__LSH_STEPS ? threshold : h_lo * i;
            power_hi[i] *= i == CD__LSH_STEPS ? 1.0 : threshold + h_hi * i;
            q_lo[i] = 1.0 - power_lo[i];
            q_hi[i] = 1.0 - power_hi[i];
            miss_lo[i] = 1.0;
            miss_hi[i] = 1.0;
        }
        for (unsigned b = 1; b <= perm / r; b++) {
            double fp = 0.0, fn = 0.0;
            for (int i = 0; i <= CD__LSH_STEPS; i++) {
                double w = simpson_weight(i);
                miss_lo[i] *= q_lo[i];
                miss_hi[i] *= q_hi[i];
                fp += w * (1.0 - miss_lo[i]); /* P(s) below the threshold */
                fn += w * miss_hi[i];         /* 1 - P(s) above it */
            }
            fp *= h_lo / 3.0;
            fn *= h_hi / 3.0;
            double obj = fp_weight * fp + fn_weight * fn;
            double sum = fp + fn;
            int better;
            if (best_b == 0 || obj < best_obj - CD__LSH_TIE) {
                better = 1;
            } else if (obj > best_obj + CD__LSH_TIE) {
                better = 0;
            } else if (sum < best_sum - CD__LSH_TIE) {
                better = 1;
            } else if (sum > best_sum + CD__LSH_TIE) {
                better = 0;
            } else {
                unsigned long long br = (unsigned long long)b * r;
                unsigned long long best_br = (unsigned long long)best_b * best_r;
                better = br > best_br || (br == best_br && b < best_b);
            }
            if (better) {
                best_b = b;
                best_r = r;
                best_obj = obj;
                best_sum = sum;
            }
        }
    }
    *bands = best_b;
    *rows = best_r;
    return CD_OK;
}

void cd__lsh_areas(double threshold, unsigned bands, unsigned rows, double *fp, double *fn)
{
    const double h_lo = threshold / CD__LSH_STEPS;
    const double h_hi = (1.0 - threshold) / CD__LSH_STEPS;
    double lo = 0.0, hi = 0.0;
    for (int i = 0; i <= CD__LSH_STEPS; i++) {
        double w = simpson_weight(i);
        double s_lo = i == CD__LSH_STEPS ? threshold : h_lo * i;
        double s_hi = i == CD__LSH_STEPS ? 1.0 : threshold + h_hi * i;
        lo += w * cd_lsh_probability(s_lo, bands, rows);
        hi += w * (1.0 - cd_lsh_probability(s_hi, bands, rows));
    }
    *fp = lo * h_lo / 3.0;
    *fn = hi * h_hi / 3.0;
}

/* -------------------------------------------------------------- band keys */

static int host_is_little_endian(void)
{
    const uint32_t one = 1;
    unsigned char first;
    memcpy(&first, &one, 1);
    return first == 1;
}

void cd__lsh_band_keys(const uint32_t *sig, unsigned bands, unsigned rows, uint64_t seed,
                       uint64_t *keys)
{
    if (host_is_little_endian()) {
        for (unsigned j = 0; j < bands; j++)
            keys[j] = XXH3_64bits_withSeed(sig + (size_t)j * rows, (size_t)rows * 4, seed + j);
        return;
    }
    /* Big-endian host: hash the same little-endian bytes, in chunks. */
    for (unsigned j = 0; j < bands; j++) {
        XXH3_state_t state;
        unsigned char buf[256];
        XXH3_64bits_reset_withSeed(&state, seed + j);
        const uint32_t *band = sig + (size_t)j * rows;
        size_t used = 0;
        for (unsigned i = 0; i < rows; i++) {
            uint32_t v = band[i];
            buf[used++] = (unsigned char)v;
            buf[used++] = (unsigned char)(v >> 8);
            buf[used++] = (unsigned char)(v >> 16);
            buf[used++] = (unsigned char)(v >> 24);
            if (used == sizeof buf) {
                XXH3_64bits_update(&state, buf, used);
                used = 0;
            }
        }
        XXH3_64bits_update(&state, buf, used);
        keys[j] = XXH3_64bits_digest(&state);
    }
}

/* ----------------------------------------------------------- radix sorts */

/* Entries of a band are packed as (key >> 32) << 32 | doc: sorting by the
 * high 32 bits with a stable sort keeps the documents of a run ascending. */
enum { HIGH_DIGIT_BITS = 11, HIGH_DIGITS = 1 << HIGH_DIGIT_BITS, HIGH_PASSES = 3 };

/* Stable LSD radix sort of n packed entries by their high 32 bits, 11 bits
 * per pass; a pass where every entry has the same digit is skipped. Returns
 * whichever of a and scratch holds the result. */
static uint64_t *radix_sort_high32(uint64_t *a, uint64_t *scratch, size_t n)
{
    uint32_t counts[HIGH_PASSES][HIGH_DIGITS];
    memset(counts, 0, sizeof counts);
    for (size_t i = 0; i < n; i++) {
        uint64_t k = a[i] >> 32;
        counts[0][k & (HIGH_DIGITS - 1)]++;
        counts[1][(k >> HIGH_DIGIT_BITS) & (HIGH_DIGITS - 1)]++;
        counts[2][k >> (2 * HIGH_DIGIT_BITS)]++;
    }
    uint64_t *src = a, *dst = scratch;
    for (int d = 0; d < HIGH_PASSES; d++) {
        unsigned shift = 32 + d * HIGH_DIGIT_BITS;
        uint32_t *c = counts[d];
        if (n == 0 || c[(src[0] >> shift) & (HIGH_DIGITS - 1)] == n)
            continue;
        uint32_t sum = 0;
        for (int v = 0; v < HIGH_DIGITS; v++) {
            uint32_t t = c[v];
            c[v] = sum;
            sum += t;
        }
        for (size_t i = 0; i < n; i++)
            dst[c[(src[i] >> shift) & (HIGH_DIGITS - 1)]++] = src[i];
        uint64_t *t = src;
        src = dst;
        dst = t;
    }
    return src;
}

static uint64_t *radix_sort_values(uint64_t *a, uint64_t *scratch, size_t n)
{
    size_t count[8][256];
    memset(count, 0, sizeof count);
    for (size_t i = 0; i < n; i++) {
        uint64_t k = a[i];
        for (int d = 0; d < 8; d++)
            count[d][(k >> (8 * d)) & 0xff]++;
    }
    uint64_t *src = a, *dst = scratch;
    for (int d = 0; d < 8; d++) {
        size_t *c = count[d];
        if (n == 0 || c[(src[0] >> (8 * d)) & 0xff] == n)
            continue;
        size_t sum = 0;
        for (int v = 0; v < 256; v++) {
            size_t t = c[v];
            c[v] = sum;
            sum += t;
        }
        for (size_t i = 0; i < n; i++)
            dst[c[(src[i] >> (8 * d)) & 0xff]++] = src[i];
        uint64_t *t = src;
        src = dst;
        dst = t;
    }
    return src;
}

void cd__radix_sort_u64(uint64_t *values, uint64_t *scratch, size_t n)
{
    uint64_t *sorted = radix_sort_values(values, scratch, n);
    if (sorted != values)
        memcpy(values, sorted, n * sizeof *values);
}

/* ------------------------------------------------------------- candidates */

/* Candidate pairs packed as (a << 32 | b), so sorting the packed values
 * sorts by (a, b). */
typedef struct pair_list {
    uint64_t *v;
    size_t n, cap;
    uint64_t *scratch;
    size_t scratch_cap;
    size_t unique_after_last_dedup;
} pair_list;

/* Sorts the list and drops repeats. Returns 0, or -1 on allocation failure. */
static int pair_list_dedup(pair_list *p)
{
    if (p->n < 2)
        return 0;
    if (cd__grow((void **)&p->scratch, &p->scratch_cap, p->n, sizeof *p->scratch) != 0)
        return -1;
    uint64_t *sorted = radix_sort_values(p->v, p->scratch, p->n);
    if (sorted != p->v) { /* keep p->v the owned, sorted buffer */
        uint64_t *t = p->v;
        size_t tc = p->cap;
        p->v = p->scratch;
        p->cap = p->scratch_cap;
        p->scratch = t;
        p->scratch_cap = tc;
    }
    size_t out = 1;
    for (size_t i = 1; i < p->n; i++)
        if (p->v[i] != p->v[out - 1])
            p->v[out++] = p->v[i];
    p->n = out;
    p->unique_after_last_dedup = out;
    return 0;
}

/* cd__bucket_fn: appends the pairs of one bucket to the pair_list ctx. */
static cd_status emit_bucket(void *ctx, const uint32_t *docs, size_t m, int capped)
{
    pair_list *p = ctx;
    uint64_t more = capped ? m - 1 : (uint64_t)m * (m - 1) / 2;
    if (more > SIZE_MAX - p->n ||
        cd__grow((void **)&p->v, &p->cap, p->n + (size_t)more, sizeof *p->v) != 0)
        return CD_ERR_NOMEM;
    uint64_t *out = p->v + p->n;
    size_t firsts = capped ? 1 : m - 1;
    for (size_t i = 0; i < firsts; i++) {
        uint64_t a = (uint64_t)docs[i] << 32;
        for (size_t k = i + 1; k < m; k++)
            *out++ = a | docs[k];
    }
    p->n += (size_t)more;
    return CD_OK;
}

/* ------------------------------------------------------------- grouping */

void cd__lsh_grouper_free(cd__lsh_grouper *g)
{
    cd__free(g->sorted);
    cd__free(g->scratch);
    cd__free(g->bucket);
    *g = (cd__lsh_grouper){0};
}

/* Sorts docs[0..m) by (keys[doc * stride], doc): an insertion sort, as
 * the documents of all but a few keys are already in order. */
static void sort_by_full_key(uint32_t *docs, size_t m, const uint64_t *keys, size_t stride)
{
    for (size_t i = 1; i < m; i++) {
        uint32_t doc = docs[i];
        uint64_t key = keys[doc * stride];
        size_t j = i;
        while (j > 0 && (keys[docs[j - 1] * stride] > key ||
                         (keys[docs[j - 1] * stride] == key && docs[j - 1] > doc))) {
            docs[j] = docs[j - 1];
            j--;
        }
        docs[j] = doc;
    }
}

/* Visits docs[0..m) (ascending, one key) as a bucket when m >= 2. */
static cd_status visit_bucket(const uint32_t *docs, size_t m, size_t max_bucket,
                              cd__bucket_fn visit, void *ctx, size_t *oversized)
{
    if (m < 2)
        return CD_OK;
    int capped = max_bucket != 0 && m > max_bucket;
    if (capped && oversized)
        (*oversized)++;
    return visit(ctx, docs, m, capped);
}

/* One run of m >= 2 entries sharing the high 32 bits of their keys: one
 * bucket, or (rarely) several when the low bits differ. */
static cd_status visit_run(cd__lsh_grouper *g, const uint64_t *run, size_t m,
                           const uint64_t *keys, size_t stride, size_t max_bucket,
                           cd__bucket_fn visit, void *ctx, size_t *oversized)
{
    if (cd__grow((void **)&g->bucket, &g->bucket_capacity, m, sizeof *g->bucket) != 0)
        return CD_ERR_NOMEM;
    uint32_t *docs = g->bucket;
    int one_key = 1;
    for (size_t i = 0; i < m; i++) {
        docs[i] = (uint32_t)run[i];
        one_key &= keys[docs[i] * stride] == keys[docs[0] * stride];
    }
    if (one_key)
        return visit_bucket(docs, m, max_bucket, visit, ctx, oversized);
    sort_by_full_key(docs, m, keys, stride);
    size_t lo = 0;
    while (lo < m) {
        size_t hi = lo + 1;
        while (hi < m && keys[docs[hi] * stride] == keys[docs[lo] * stride])
            hi++;
        cd_status st = visit_bucket(docs + lo, hi - lo, max_bucket, visit, ctx, oversized);
        if (st != CD_OK)
            return st;
        lo = hi;
    }
    return CD_OK;
}

cd_status cd__lsh_group_band(cd__lsh_grouper *g, const uint64_t *keys, size_t stride, size_t n,
                             const uint8_t *skip, size_t max_bucket, cd__bucket_fn visit,
                             void *ctx, size_t *oversized)
{
    if ((uint64_t)n > UINT32_MAX || (n > 0 && !keys) || stride == 0 || !visit || !g)
        return CD_ERR_ARG;
    if (n > g->capacity) {
        cd__free(g->sorted);
        cd__free(g->scratch);
        g->sorted = cd__malloc(n * sizeof *g->sorted);
        g->scratch = cd__malloc(n * sizeof *g->scratch);
        g->capacity = g->sorted && g->scratch ? n : 0;
        if (!g->capacity)
            return CD_ERR_NOMEM;
    }
    size_t m = 0;
    for (size_t doc = 0; doc < n; doc++)
        if (!(skip && skip[doc]))
            g->sorted[m++] = (keys[doc * stride] & 0xffffffff00000000u) | doc;
    const uint64_t *v = radix_sort_high32(g->sorted, g->scratch, m);
    size_t lo = 0;
    while (lo < m) {
        size_t hi = lo + 1;
        while (hi < m && (v[hi] >> 32) == (v[lo] >> 32))
            hi++;
        if (hi - lo >= 2) {
            cd_status st =
                visit_run(g, v + lo, hi - lo, keys, stride, max_bucket, visit, ctx, oversized);
            if (st != CD_OK)
                return st;
        }
        lo = hi;
    }
    return CD_OK;
}

cd_status cd__lsh_candidates_banded(const uint64_t *const *band_keys, unsigned bands,
                                    size_t stride, size_t n, const uint8_t *skip,
                                    size_t max_bucket, cd__pair32 **pairs, size_t *count,
                                    size_t *oversized)
{
    if (pairs)
        *pairs = NULL;
    if (count)
        *count = 0;
    if (oversized)
        *oversized = 0;
    if (!pairs || !count || stride == 0)
        return CD_ERR_ARG;
    if ((uint64_t)n > UINT32_MAX)
        return CD_ERR_ARG;
    if (n == 0 || bands == 0)
        return CD_OK;
    if (!band_keys)
        return CD_ERR_ARG;

    cd_status status;
    size_t n_oversized = 0;
    pair_list p = {0};
    cd__lsh_grouper g = {0};
    for (unsigned j = 0; j < bands; j++) {
        status = cd__lsh_group_band(&g, band_keys[j], stride, n, skip, max_bucket, emit_bucket,
                                    &p, &n_oversized);
        if (status != CD_OK)
            goto fail;
        /* Bound the memory held by repeats across bands: dedup whenever the
         * list has doubled since the last dedup. */
        if (j + 1 < bands && p.n >= 65536 && p.n > 2 * p.unique_after_last_dedup &&
            pair_list_dedup(&p) != 0)
            goto nomem;
    }
    if (pair_list_dedup(&p) != 0)
        goto nomem;
    cd__free(p.scratch);
    cd__lsh_grouper_free(&g);
    if (p.n == 0) {
        cd__free(p.v);
        p.v = NULL;
    } else {
        /* Repack (a << 32 | b) as cd__pair32 in place: same size. */
        unsigned char *bytes = (unsigned char *)p.v;
        for (size_t i = 0; i < p.n; i++) {
            uint64_t v;
            memcpy(&v, bytes + i * 8, 8);
            cd__pair32 pr = {(uint32_t)(v >> 32), (uint32_t)v};
            memcpy(bytes + i * 8, &pr, 8);
        }
        if (p.cap > p.n) { /* give back the slack; keep the block on failure */
            void *shrunk = cd__realloc(p.v, p.n * sizeof(cd__pair32));
            if (shrunk)
                p.v = shrunk;
        }
    }
    *pairs = (cd__pair32 *)(void *)p.v;
    *count = p.n;
    if (oversized)
        *oversized = n_oversized;
    return CD_OK;

nomem:
    status = CD_ERR_NOMEM;
fail:
    cd__free(p.scratch);
    cd__free(p.v);
    cd__lsh_grouper_free(&g);
    return status;
}

cd_status cd__lsh_candidates(const uint64_t *keys, size_t n, unsigned bands, const uint8_t *skip,
                             size_t max_bucket, cd__pair32 **pairs, size_t *count,
                             size_t *oversized)
{
    if (pairs)
        *pairs = NULL;
    if (count)
        *count = 0;
    if (oversized)
        *oversized = 0;
    if ((bands != 0 && n > SIZE_MAX / bands) || (!keys && n > 0 && bands > 0))
        return CD_ERR_ARG;
    enum { MAX_BANDS = 1024 };
    const uint64_t *band_keys[MAX_BANDS];
    if (bands > MAX_BANDS)
        return CD_ERR_ARG;
    for (unsigned j = 0; j < bands; j++)
        band_keys[j] = keys ? keys + j : NULL;
    return cd__lsh_candidates_banded(band_keys, bands, bands ? bands : 1, n, skip, max_bucket,
                                     pairs, count, oversized);
}
