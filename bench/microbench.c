/* microbench.c: copydesk-microbench, per-stage timings of the signature path
 * on one core: read (JSONL parsing), normalise, shingle + hash, each MinHash
 * scheme and variant, the whole signer per scheme, and LSH grouping. Not part
 * of the engine: it uses the engine's private stage headers. Every timing is
 * printed beside a checksum of what the stage produced, so a speed-up cannot
 * hide a wrong answer; the best of --repeat runs is reported.
 *
 *   copydesk-microbench [--docs N] [--repeat R] [--perm K] [--lsh-docs M] [--only STAGE]
 *                       FILE.jsonl[.gz|.zst]
 *
 * `--only pipeline` also times the floor on the same texts: scripts/bench.sh
 * reports the two lines as the signature stage and its ratio to the floor. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "copydesk/copydesk.h"
#include "lsh.h"
#include "minhash.h"
#include "normalise.h"
#include "shingle.h"
#include "simd.h"

#define XXH_INLINE_ALL /* the floor inlines XXH3, as bench/floor.c does */
#include <xxhash.h>

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "copydesk-microbench: out of memory\n");
        exit(3);
    }
    return p;
}

typedef struct corpus {
    char **text;
    size_t *len;
    size_t n, bytes;
} corpus;

static uint64_t fold(uint64_t sum, uint64_t v)
{
    return (sum ^ v) * 0x100000001B3ull + (v >> 7);
}

static void report(const char *stage, double seconds, size_t docs, size_t bytes, uint64_t check)
{
    printf("%-34s %8.3f s %10.0f docs/s %8.0f MB/s  check %016" PRIx64 "\n", stage, seconds,
           docs / seconds, bytes / 1e6 / seconds, check);
    fflush(stdout);
}

/* read: the reader alone (open, decompress, split lines, parse JSON). */
static corpus read_corpus(const char *path, size_t max_docs, int repeat)
{
    corpus c = {0};
    double best = 1e30;
    uint64_t check = 0;
    size_t raw_bytes = 0;
    for (int r = 0; r < repeat; r++) {
        char err[512];
        cd_reader *reader;
        if (cd_reader_open(path, NULL, &reader, err, sizeof err) != CD_OK) {
            fprintf(stderr, "copydesk-microbench: %s\n", err);
            exit(3);
        }
        int keep = r == 0;
        size_t cap = 0;
        check = 0;
        raw_bytes = 0;
        size_t docs = 0;
        double t0 = now_seconds();
        cd_record rec;
        cd_status st;
        while (docs < max_docs && (st = cd_reader_next(reader, &rec)) != CD_END) {
            if (st != CD_OK) {
                fprintf(stderr, "copydesk-microbench: %s\n", cd_reader_errmsg(reader));
                exit(1);
            }
            raw_bytes += rec.raw.len + 1;
            check = fold(check, rec.doc.text.len);
            if (keep) {
                if (c.n == cap) {
                    cap = cap ? cap * 2 : 1024;
                    c.text = realloc(c.text, cap * sizeof *c.text);
                    c.len = realloc(c.len, cap * sizeof *c.len);
                    if (!c.text || !c.len)
                        exit(3);
                }
                c.text[c.n] = xmalloc(rec.doc.text.len + 1);
                memcpy(c.text[c.n], rec.doc.text.ptr, rec.doc.text.len);
                c.len[c.n] = rec.doc.text.len;
                c.bytes += rec.doc.text.len;
                c.n++;
            }
            docs++;
        }
        double t = now_seconds() - t0;
        cd_reader_free(reader);
        if (!keep && t < best)
            best = t;
        if (repeat == 1)
            best = t;
    }
    report("read (cd_reader_next)", best, c.n, raw_bytes, check);
    return c;
}

static void bench_normalise(const corpus *c, int repeat, cd__normalise_mode mode, const char *name)
{
    cd__normaliser n;
    cd__normaliser_init(&n);
    double best = 1e30;
    uint64_t check = 0;
    for (int r = 0; r < repeat; r++) {
        check = 0;
        double t0 = now_seconds();
        for (size_t d = 0; d < c->n; d++) {
            cd__normaliser_reset(&n);
            if (cd__normalise_append(&n, c->text[d], c->len[d], mode) != CD_OK)
                exit(3);
            check = fold(check, n.count);
            if (n.count)
                check = fold(check, (unsigned char)n.bytes[n.tokens[n.count - 1].offset]);
        }
        double t = now_seconds() - t0;
        if (t < best)
            best = t;
    }
    report(name, best, c->n, c->bytes, check);
    cd__normaliser_free(&n);
}

/* The floor on the same texts: split on white space and control bytes,
 * XXH3-64 each token (what bench/floor.c times, minus finding the text). */
static void bench_floor(const corpus *c, int repeat)
{
    double best = 1e30;
    uint64_t check = 0;
    for (int r = 0; r < repeat; r++) {
        check = 0;
        double t0 = now_seconds();
        for (size_t d = 0; d < c->n; d++) {
            const unsigned char *t = (const unsigned char *)c->text[d];
            size_t len = c->len[d], i = 0;
            while (i < len) {
                while (i < len && t[i] <= ' ')
                    i++;
                size_t start = i;
                while (i < len && t[i] > ' ')
                    i++;
                if (i > start)
                    check += XXH3_64bits(t + start, i - start);
            }
        }
        double t = now_seconds() - t0;
        if (t < best)
            best = t;
    }
    report("floor (split + XXH3 per token)", best, c->n, c->bytes, check);
}

/* Read and sign in one pass, one document at a time, as one thread of the
 * tool does: the signature stage the target is about. */
static void bench_pipeline(const char *path, size_t max_docs, int repeat, unsigned perm)
{
    cd_params p;
    cd_params_init(&p);
    p.perm = perm;
    p.extract_html = 0;
    cd_signer *s;
    if (cd_signer_create(&p, &s) != CD_OK)
        exit(3);
    uint32_t sig[CD__MINHASH_MAX_PERM];
    double best = 1e30;
    uint64_t check = 0;
    size_t docs = 0, bytes = 0;
    for (int r = 0; r < repeat; r++) {
        char err[512];
        cd_reader *reader;
        if (cd_reader_open(path, NULL, &reader, err, sizeof err) != CD_OK)
            exit(3);
        check = 0;
        docs = bytes = 0;
        cd_record rec;
        double t0 = now_seconds();
        while (docs < max_docs && cd_reader_next(reader, &rec) == CD_OK) {
            if (cd_signer_sign(s, &rec.doc, sig, NULL) != CD_OK)
                exit(3);
            check = fold(check, sig[docs % perm]);
            bytes += rec.raw.len + 1;
            docs++;
        }
        double t = now_seconds() - t0;
        cd_reader_free(reader);
        if (t < best)
            best = t;
    }
    report("read + sign, one pass (default)", best, docs, bytes, check);
    cd_signer_free(s);
}

/* normalise + shingle/hash; keeps every document's shingle hashes. */
static uint64_t *bench_shingle(const corpus *c, int repeat, size_t **offsets_out)
{
    cd__normaliser n;
    cd__shingler s;
    cd__normaliser_init(&n);
    cd__shingler_init(&s);
    size_t *offsets = xmalloc((c->n + 1) * sizeof *offsets);
    uint64_t *all = NULL;
    size_t all_len = 0, all_cap = 0;
    double best = 1e30;
    uint64_t check = 0;
    for (int r = 0; r < repeat; r++) {
        check = 0;
        double t0 = now_seconds();
        for (size_t d = 0; d < c->n; d++) {
            cd__normaliser_reset(&n);
            if (cd__normalise_append(&n, c->text[d], c->len[d], CD__NORMALISE_AUTO) != CD_OK ||
                cd__shingle(&s, &n, 5, 3, 0) != CD_OK)
                exit(3);
            check = fold(check, s.count ? s.hashes[s.count / 2] : 0);
            if (r == 0) {
                offsets[d] = all_len;
                if (all_len + s.count > all_cap) {
                    all_cap = (all_len + s.count) * 2;
                    all = realloc(all, all_cap * sizeof *all);
                    if (!all)
                        exit(3);
                }
                memcpy(all + all_len, s.hashes, s.count * sizeof *all);
                all_len += s.count;
            }
        }
        double t = now_seconds() - t0;
        if (t < best)
            best = t;
    }
    offsets[c->n] = all_len;
    report("normalise + shingle/hash", best, c->n, c->bytes, check);
    printf("%-34s %.1f shingles per document\n", "", (double)all_len / c->n);
    cd__normaliser_free(&n);
    cd__shingler_free(&s);
    *offsets_out = offsets;
    return all;
}

static const cd_minhash_scheme schemes[] = {CD_MINHASH_CLASSIC, CD_MINHASH_ONE_PERMUTATION,
                                            CD_MINHASH_CIRCULANT,
                                            CD_MINHASH_ONE_PERMUTATION_ROUNDS};

static void bench_minhash(const corpus *c, const uint64_t *all, const size_t *offsets, int repeat,
                          unsigned perm)
{
    uint32_t sig[CD__MINHASH_MAX_PERM];
    for (size_t k = 0; k < sizeof schemes / sizeof *schemes; k++) {
        cd__minhasher m;
        if (cd__minhash_init(&m, schemes[k], perm, 0) != CD_OK)
            exit(3);
        const char *names[4];
        cd__minhash_fn fns[4];
        size_t nv = cd__minhash_variants(schemes[k], names, fns, 4);
        for (size_t v = 0; v < nv && v < 4; v++) {
            double best = 1e30;
            uint64_t check = 0;
            for (int r = 0; r < repeat; r++) {
                check = 0;
                double t0 = now_seconds();
                for (size_t d = 0; d < c->n; d++) {
                    fns[v](&m, all + offsets[d], offsets[d + 1] - offsets[d], sig);
                    check = fold(check, sig[d % perm]);
                }
                double t = now_seconds() - t0;
                if (t < best)
                    best = t;
            }
            char label[64];
            snprintf(label, sizeof label, "minhash %s k=%u %s", cd__minhash_scheme_name(schemes[k]),
                     perm, names[v]);
            report(label, best, c->n, c->bytes, check);
        }
        cd__minhash_free(&m);
    }
}

/* The whole signer per scheme; returns the signatures of the default scheme. */
static uint32_t *bench_signer(const corpus *c, int repeat, unsigned perm)
{
    uint32_t *keep = xmalloc(c->n * perm * sizeof *keep);
    cd_params defaults;
    cd_params_init(&defaults);
    for (size_t k = 0; k < sizeof schemes / sizeof *schemes; k++) {
        cd_params p;
        cd_params_init(&p);
        p.perm = perm;
        p.minhash_scheme = schemes[k];
        cd_signer *s;
        if (cd_signer_create(&p, &s) != CD_OK)
            exit(3);
        uint32_t sig[CD__MINHASH_MAX_PERM];
        double best = 1e30;
        uint64_t check = 0;
        for (int r = 0; r < repeat; r++) {
            check = 0;
            double t0 = now_seconds();
            for (size_t d = 0; d < c->n; d++) {
                cd_doc doc = {0};
                doc.text = (cd_str){c->text[d], c->len[d]};
                if (cd_signer_sign(s, &doc, sig, NULL) != CD_OK)
                    exit(3);
                check = fold(check, sig[d % perm]);
                if (r == 0 && schemes[k] == defaults.minhash_scheme)
                    memcpy(keep + d * perm, sig, perm * sizeof *sig);
            }
            double t = now_seconds() - t0;
            if (t < best)
                best = t;
        }
        char label[64];
        snprintf(label, sizeof label, "signer %s%s", cd__minhash_scheme_name(schemes[k]),
                 schemes[k] == defaults.minhash_scheme ? " (default)" : "");
        report(label, best, c->n, c->bytes, check);
        cd_signer_free(s);
    }
    return keep;
}

/* LSH: band keys and candidate pairs over lsh_docs signatures, the corpus's
 * signatures repeated with a few values changed per copy so that repeats
 * collide only as often as near-duplicates would. */
static void bench_lsh(const corpus *c, const uint32_t *sigs, unsigned perm, size_t lsh_docs,
                      int repeat)
{
    cd_params p;
    cd_params_init(&p);
    p.perm = perm;
    if (cd_params_resolve(&p, NULL, 0) != CD_OK)
        exit(3);
    uint32_t *big = xmalloc(lsh_docs * perm * sizeof *big);
    uint64_t rng = 42;
    for (size_t d = 0; d < lsh_docs; d++) {
        memcpy(big + d * perm, sigs + (d % c->n) * perm, perm * sizeof *big);
        if (d >= c->n) /* a variant: change every value, as another document */
            for (unsigned i = 0; i < perm; i++)
                big[d * perm + i] = (uint32_t)cd__splitmix64(&rng);
    }
    uint64_t *keys = xmalloc(lsh_docs * p.bands * sizeof *keys);
    double best_keys = 1e30, best_pairs = 1e30;
    size_t count = 0;
    uint64_t check = 0;
    for (int r = 0; r < repeat; r++) {
        double t0 = now_seconds();
        for (size_t d = 0; d < lsh_docs; d++)
            cd__lsh_band_keys(big + d * perm, p.bands, p.rows, 0, keys + d * p.bands);
        double t1 = now_seconds();
        cd__pair32 *pairs;
        size_t oversized;
        if (cd__lsh_candidates(keys, lsh_docs, p.bands, NULL, p.max_bucket, &pairs, &count,
                               &oversized) != CD_OK)
            exit(3);
        double t2 = now_seconds();
        check = 0;
        for (size_t i = 0; i < count; i++)
            check = fold(check, (uint64_t)pairs[i].a << 32 | pairs[i].b);
        free(pairs);
        if (t1 - t0 < best_keys)
            best_keys = t1 - t0;
        if (t2 - t1 < best_pairs)
            best_pairs = t2 - t1;
    }
    char label[64];
    snprintf(label, sizeof label, "lsh band keys %ux%u", p.bands, p.rows);
    report(label, best_keys, lsh_docs, 0, 0);
    snprintf(label, sizeof label, "lsh candidates (%zu pairs)", count);
    report(label, best_pairs, lsh_docs, 0, check);
    free(big);
    free(keys);
}

int main(int argc, char **argv)
{
    size_t max_docs = 20000, lsh_docs = 1000000;
    int repeat = 3;
    unsigned perm = 128;
    const char *path = NULL;
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--docs") == 0 && i + 1 < argc)
            max_docs = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc)
            repeat = atoi(argv[++i]);
        else if (strcmp(argv[i], "--lsh-docs") == 0 && i + 1 < argc)
            lsh_docs = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--perm") == 0 && i + 1 < argc)
            perm = (unsigned)atoi(argv[++i]);
        else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc)
            only = argv[++i];
        else if (argv[i][0] != '-' && !path)
            path = argv[i];
        else {
            fprintf(stderr,
                    "usage: copydesk-microbench [--docs N] [--repeat R] [--perm K] "
                    "[--lsh-docs M] [--only "
                    "read|floor|pipeline|normalise|normalise-utf8proc|shingle|minhash|signer|lsh] "
                    "FILE.jsonl\n");
            return 2;
        }
    }
    if (!path || repeat < 1 || perm < 1 || perm > CD__MINHASH_MAX_PERM) {
        fprintf(stderr, "copydesk-microbench: a JSONL file is required\n");
        return 2;
    }
    printf("copydesk-microbench: simd level %s, one core\n",
           cd__simd_level_name(cd__simd_level_get()));
    corpus c = read_corpus(path, max_docs, repeat + 1);
    printf("%-34s %zu documents, %.0f bytes of text per document\n", "", c.n,
           (double)c.bytes / (c.n ? c.n : 1));
    if (c.n == 0)
        return 1;
#define RUN(stage) (!only || strcmp(only, stage) == 0)
    if (RUN("floor") || RUN("pipeline"))
        bench_floor(&c, repeat);
    if (RUN("pipeline"))
        bench_pipeline(path, max_docs, repeat, perm);
    if (RUN("normalise"))
        bench_normalise(&c, repeat, CD__NORMALISE_AUTO, "normalise");
    if (only && strcmp(only, "normalise-utf8proc") == 0)
        bench_normalise(&c, repeat, CD__NORMALISE_UNICODE, "normalise (all through utf8proc)");
    size_t *offsets = NULL;
    uint64_t *all = NULL;
    if (RUN("shingle") || RUN("minhash"))
        all = bench_shingle(&c, repeat, &offsets);
    if (RUN("minhash"))
        bench_minhash(&c, all, offsets, repeat, perm);
    uint32_t *sigs = NULL;
    if (RUN("signer") || RUN("lsh"))
        sigs = bench_signer(&c, repeat, perm);
    if (RUN("lsh") && lsh_docs > 0)
        bench_lsh(&c, sigs, perm, lsh_docs, repeat);
    free(all);
    free(offsets);
    free(sigs);
    for (size_t d = 0; d < c.n; d++)
        free(c.text[d]);
    free(c.text);
    free(c.len);
    return 0;
}
