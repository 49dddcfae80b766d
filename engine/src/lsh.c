/* lsh.c: LSH banding, the stage between MinHash and verification. Chooses
 * b bands × r rows from the threshold, hashes each band of a signature to a
 * 64-bit key, and groups documents by key with a radix sort to propose
 * candidate pairs. See docs/lsh.md for the reasoning and the numbers. */
#include "lsh.h"

#include <math.h>
#include <string.h>
#define XXH_STATIC_LINKING_ONLY /* XXH3_state_t on the stack (big-endian path) */
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
 * The four grids in cd_lsh_choose take 32 KiB of stack. */
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
     * multiplication: q[i] = 1 - s_i^r, not_hit[i] = q[i]^b. */
    double q_lo[CD__LSH_STEPS + 1], q_hi[CD__LSH_STEPS + 1];
    double miss_lo[CD__LSH_STEPS + 1], miss_hi[CD__LSH_STEPS + 1];
    const double h_lo = threshold / CD__LSH_STEPS;
    const double h_hi = (1.0 - threshold) / CD__LSH_STEPS;

    unsigned best_b = 0, best_r = 0;
    double best_obj = 0.0, best_sum = 0.0;

    for (unsigned r = 1; r <= perm; r++) {
        for (int i = 0; i <= CD__LSH_STEPS; i++) {
            double s_lo = i == CD__LSH_STEPS ? threshold : h_lo * i;
            double s_hi = i == CD__LSH_STEPS ? 1.0 : threshold + h_hi * i;
            q_lo[i] = 1.0 - pow(s_lo, (double)r);
            q_hi[i] = 1.0 - pow(s_hi, (double)r);
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

/* One (key, doc) entry of a band. */
typedef struct entry {
    uint64_t key;
    uint32_t doc;
} entry;

/* Stable LSD radix sort of n entries by key, 8 bits per pass; a pass where
 * every key has the same digit is skipped. Returns whichever of a and
 * scratch holds the result. */
static entry *radix_sort_entries(entry *a, entry *scratch, size_t n)
{
    size_t count[8][256];
    memset(count, 0, sizeof count);
    for (size_t i = 0; i < n; i++) {
        uint64_t k = a[i].key;
        for (int d = 0; d < 8; d++)
            count[d][(k >> (8 * d)) & 0xff]++;
    }
    entry *src = a, *dst = scratch;
    for (int d = 0; d < 8; d++) {
        size_t *c = count[d];
        if (n == 0 || c[(src[0].key >> (8 * d)) & 0xff] == n)
            continue;
        size_t sum = 0;
        for (int v = 0; v < 256; v++) {
            size_t t = c[v];
            c[v] = sum;
            sum += t;
        }
        for (size_t i = 0; i < n; i++)
            dst[c[(src[i].key >> (8 * d)) & 0xff]++] = src[i];
        entry *t = src;
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

/* Appends the pairs of one bucket (docs ascending). Returns 0 or -1. */
static int emit_bucket(pair_list *p, const entry *e, size_t m, size_t max_bucket, size_t *oversized)
{
    uint64_t more;
    int capped = max_bucket != 0 && m > max_bucket;
    if (capped)
        more = m - 1;
    else
        more = (uint64_t)m * (m - 1) / 2;
    if (more > SIZE_MAX - p->n)
        return -1;
    if (cd__grow((void **)&p->v, &p->cap, p->n + (size_t)more, sizeof *p->v) != 0)
        return -1;
    uint64_t *out = p->v + p->n;
    if (capped) {
        uint64_t first = (uint64_t)e[0].doc << 32;
        for (size_t k = 1; k < m; k++)
            *out++ = first | e[k].doc;
        (*oversized)++;
    } else {
        for (size_t i = 0; i + 1 < m; i++) {
            uint64_t a = (uint64_t)e[i].doc << 32;
            for (size_t k = i + 1; k < m; k++)
                *out++ = a | e[k].doc;
        }
    }
    p->n += (size_t)more;
    return 0;
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
    if (!pairs || !count)
        return CD_ERR_ARG;
    if ((uint64_t)n > UINT32_MAX || (bands != 0 && n > SIZE_MAX / bands))
        return CD_ERR_ARG;
    if (n == 0 || bands == 0)
        return CD_OK;
    if (!keys)
        return CD_ERR_ARG;

    cd_status status = CD_ERR_NOMEM;
    size_t n_oversized = 0;
    pair_list p = {0};
    entry *a = NULL, *b = NULL;

    size_t live = 0;
    for (size_t doc = 0; doc < n; doc++)
        live += !(skip && skip[doc]);
    if (live < 2) {
        status = CD_OK;
        goto done;
    }
    a = cd__malloc(live * sizeof *a);
    b = cd__malloc(live * sizeof *b);
    if (!a || !b)
        goto fail;

    for (unsigned j = 0; j < bands; j++) {
        size_t m = 0;
        for (size_t doc = 0; doc < n; doc++) {
            if (skip && skip[doc])
                continue;
            a[m].key = keys[doc * bands + j];
            a[m].doc = (uint32_t)doc;
            m++;
        }
        /* Docs went in ascending and the sort is stable: within a bucket
         * they stay ascending, so a < b in every pair. */
        entry *sorted = radix_sort_entries(a, b, m);
        size_t lo = 0;
        while (lo < m) {
            size_t hi = lo + 1;
            while (hi < m && sorted[hi].key == sorted[lo].key)
                hi++;
            if (hi - lo >= 2 &&
                emit_bucket(&p, sorted + lo, hi - lo, max_bucket, &n_oversized) != 0)
                goto fail;
            lo = hi;
        }
        /* Bound the memory held by repeats across bands: dedup whenever the
         * list has doubled since the last dedup. */
        if (j + 1 < bands && p.n >= 65536 && p.n > 2 * p.unique_after_last_dedup) {
            if (pair_list_dedup(&p) != 0)
                goto fail;
        }
    }
    if (pair_list_dedup(&p) != 0)
        goto fail;
    status = CD_OK;

done:
    cd__free(a);
    cd__free(b);
    cd__free(p.scratch);
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
    return status;

fail:
    cd__free(a);
    cd__free(b);
    cd__free(p.scratch);
    cd__free(p.v);
    return CD_ERR_NOMEM;
}
