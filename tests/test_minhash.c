/* test_minhash.c: the MinHash stage and the signer: the reference against a
 * naive per-permutation loop, unbiased Jaccard estimates on synthetic sets
 * and on real shingle sets, seeds, empty and short documents, similarity,
 * allocation failures, and the golden signatures in
 * tests/data/golden/signatures.txt.
 *
 * After an intended change, regenerate the golden file with
 *   COPYDESK_TEST_DATA=tests/data build/tests/test_minhash --update
 * and review the diff. */
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
#include "minhash.h"

static int update_golden;

static uint64_t rng_state = 0x0DDB1A5E5BAD5EEDull;

static uint64_t rnd(void)
{
    return cd__splitmix64(&rng_state);
}

static cd_signer *make_signer(unsigned perm, unsigned ngram, uint64_t seed)
{
    cd_params p;
    cd_params_init(&p);
    p.perm = perm;
    p.ngram = ngram;
    p.seed = seed;
    cd_signer *s = NULL;
    assert_int_equal(cd_signer_create(&p, &s), CD_OK);
    return s;
}

static cd_doc text_doc(const char *text)
{
    cd_doc d = {0};
    d.text = (cd_str){text, text ? strlen(text) : 0};
    return d;
}

/* --------------------------------------------------------- reference */

static void test_splitmix64(void **state)
{
    (void)state;
    uint64_t s = 0;
    assert_int_equal(cd__splitmix64(&s), 0xE220A8397B1DCDAFull);
    assert_int_equal(cd__splitmix64(&s), 0x6E789E6AA1B965F4ull);
    cd__minhasher m;
    assert_int_equal(cd__minhash_init(&m, 3, 0), CD_OK);
    assert_int_equal(m.a[0], 0xE220A8397B1DCDAFull); /* already odd */
    assert_int_equal(m.b[0], 0x6E789E6AA1B965F4ull);
    for (unsigned i = 0; i < m.perm; i++)
        assert_true(m.a[i] & 1);
    cd__minhash_free(&m);
    assert_int_equal(cd__minhash_init(&m, 0, 0), CD_ERR_ARG);
}

/* The definition, one permutation at a time. */
static void naive_minhash(const cd__minhasher *m, const uint64_t *x, size_t n, uint32_t *sig)
{
    for (unsigned i = 0; i < m->perm; i++) {
        uint32_t best = UINT32_MAX;
        for (size_t j = 0; j < n; j++) {
            uint32_t v = (uint32_t)((m->a[i] * x[j] + m->b[i]) >> 32);
            if (v < best)
                best = v;
        }
        sig[i] = best;
    }
}

static void test_reference(void **state)
{
    (void)state;
    const char *available[8];
    size_t count = cd__minhash_variants(available, NULL, 8);
    for (size_t v = 0; v < count && v < 8; v++)
        print_message("MinHash variant on this CPU: %s\n", available[v]);
    unsigned perms[] = {1, 7, 63, 64, 65, 128, 200, 1024};
    size_t counts[] = {0, 1, 2, 17, 1000};
    uint64_t *x = malloc(1000 * sizeof *x);
    uint32_t *want = malloc(1024 * sizeof *want), *ref = malloc(1040 * sizeof *ref),
             *fast = malloc(1040 * sizeof *fast);
    assert_true(x && want && ref && fast);
    for (size_t p = 0; p < sizeof perms / sizeof *perms; p++)
        for (size_t c = 0; c < sizeof counts / sizeof *counts; c++) {
            cd__minhasher m;
            assert_int_equal(cd__minhash_init(&m, perms[p], rnd()), CD_OK);
            for (size_t j = 0; j < counts[c]; j++)
                x[j] = rnd();
            /* guard values past perm must stay untouched */
            for (unsigned i = 0; i < 1040; i++)
                ref[i] = fast[i] = 0xABABABAB;
            naive_minhash(&m, x, counts[c], want);
            cd__minhash_reference(&m, x, counts[c], ref);
            assert_memory_equal(ref, want, perms[p] * sizeof *want);
            for (unsigned i = perms[p]; i < 1040; i++)
                assert_int_equal(ref[i], 0xABABABAB);
            /* every variant this CPU runs, and the one the signer uses */
            const char *names[8];
            cd__minhash_fn fns[8];
            size_t nv = cd__minhash_variants(names, fns, 8);
            assert_true(nv >= 1 && nv <= 8);
            assert_true(fns[nv - 1] == cd__minhash_reference);
            for (size_t v = 0; v <= nv; v++) {
                for (unsigned i = 0; i < 1040; i++)
                    fast[i] = 0xABABABAB;
                if (v < nv)
                    fns[v](&m, x, counts[c], fast);
                else
                    cd__minhash(&m, x, counts[c], fast);
                if (memcmp(fast, want, perms[p] * sizeof *want) != 0)
                    fail_msg("variant %s differs from the reference (perm %u, %zu hashes)",
                             v < nv ? names[v] : "cd__minhash", perms[p], counts[c]);
                for (unsigned i = perms[p]; i < 1040; i++)
                    assert_int_equal(fast[i], 0xABABABAB);
            }
            if (counts[c] == 0)
                for (unsigned i = 0; i < perms[p]; i++)
                    assert_int_equal(ref[i], UINT32_MAX);
            cd__minhash_free(&m);
        }
    free(x);
    free(want);
    free(ref);
    free(fast);
}

/* ---------------------------------------------------------- estimates */

static double estimate(const uint32_t *a, const uint32_t *b, unsigned k)
{
    return cd_signature_similarity(a, b, k);
}

/* Sets A, B with |A∩B| = shared, |A\B| = |B\A| = only: J = shared / (shared + 2 only).
 * Over many trials the mean estimate must be J (unbiased) and the variance
 * that of k independent trials, J(1-J)/k. */
static void check_unbiased(unsigned shared, unsigned only, int trials)
{
    const unsigned k = 128;
    double j = (double)shared / (shared + 2 * only);
    uint64_t *a = malloc((shared + only) * sizeof *a), *b = malloc((shared + only) * sizeof *b);
    uint32_t sa[128], sb[128];
    assert_true(a && b);
    double sum = 0, sum2 = 0;
    for (int t = 0; t < trials; t++) {
        cd__minhasher m;
        assert_int_equal(cd__minhash_init(&m, k, (uint64_t)t), CD_OK);
        for (unsigned i = 0; i < shared; i++)
            a[i] = b[i] = rnd();
        for (unsigned i = 0; i < only; i++) {
            a[shared + i] = rnd();
            b[shared + i] = rnd();
        }
        /* B in another order: order must not matter */
        for (unsigned i = shared + only - 1; i > 0; i--) {
            unsigned r = (unsigned)(rnd() % (i + 1));
            uint64_t tmp = b[i];
            b[i] = b[r];
            b[r] = tmp;
        }
        cd__minhash(&m, a, shared + only, sa);
        cd__minhash(&m, b, shared + only, sb);
        double e = estimate(sa, sb, k);
        sum += e;
        sum2 += e * e;
        cd__minhash_free(&m);
    }
    double mean = sum / trials, var = sum2 / trials - mean * mean;
    double theory = j * (1 - j) / k;
    print_message("J=%.3f mean %.4f (bias %+.4f), variance %.6f (theory %.6f)\n", j, mean, mean - j,
                  var, theory);
    /* 5 standard errors of the mean */
    if (fabs(mean - j) > 5 * sqrt(theory / trials))
        fail_msg("biased: J=%.3f mean estimate %.4f over %d trials", j, mean, trials);
    if (var < 0.7 * theory || var > 1.3 * theory)
        fail_msg("variance %.6f, expected about %.6f (permutations not independent?)", var, theory);
    free(a);
    free(b);
}

static void test_unbiased(void **state)
{
    (void)state;
    check_unbiased(100, 50, 2000); /* J = 0.5 */
    check_unbiased(160, 20, 2000); /* J = 0.8 */
    check_unbiased(180, 10, 2000); /* J = 0.9 */
    check_unbiased(900, 50, 500);  /* J = 0.9, larger sets */
}

static int cmp_u64(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return a < b ? -1 : a > b;
}

static size_t unique(uint64_t *h, size_t n)
{
    qsort(h, n, sizeof *h, cmp_u64);
    size_t u = 0;
    for (size_t i = 0; i < n; i++)
        if (u == 0 || h[u - 1] != h[i])
            h[u++] = h[i];
    return u;
}

static double exact_jaccard(const uint64_t *a, size_t na, const uint64_t *b, size_t nb)
{
    size_t i = 0, j = 0, inter = 0;
    while (i < na && j < nb) {
        if (a[i] == b[j]) {
            inter++;
            i++;
            j++;
        } else if (a[i] < b[j]) {
            i++;
        } else {
            j++;
        }
    }
    size_t uni = na + nb - inter;
    return uni ? (double)inter / uni : 0;
}

/* End to end on text: random articles and edited copies; the estimate from
 * the signatures against the exact Jaccard of the shingle sets. */
static void test_unbiased_on_text(void **state)
{
    (void)state;
    const unsigned k = 128;
    cd_signer *s = make_signer(k, 5, 0);
    char a[4096], b[4096];
    uint64_t ha[1024], hb[1024];
    uint32_t sa[128], sb[128];
    double bias = 0;
    const int pairs = 400;
    for (int t = 0; t < pairs; t++) {
        size_t la = 0, lb = 0;
        int edits = 1 + t % 8;
        for (int w = 0; w < 150; w++) {
            char word[16];
            int n = snprintf(word, sizeof word, "w%u ", (unsigned)(rnd() % 2000));
            memcpy(a + la, word, (size_t)n);
            la += (size_t)n;
            if (rnd() % 150 < (uint64_t)edits) /* replace this word in the copy */
                n = snprintf(word, sizeof word, "x%u ", (unsigned)(rnd() % 2000));
            memcpy(b + lb, word, (size_t)n);
            lb += (size_t)n;
        }
        cd_doc da = {0}, db = {0};
        da.text = (cd_str){a, la};
        db.text = (cd_str){b, lb};
        const uint64_t *h;
        size_t na, nb;
        assert_int_equal(cd_signer_shingles(s, &da, &h, &na), CD_OK);
        memcpy(ha, h, na * sizeof *h);
        assert_int_equal(cd_signer_shingles(s, &db, &h, &nb), CD_OK);
        memcpy(hb, h, nb * sizeof *h);
        double exact = exact_jaccard(ha, unique(ha, na), hb, unique(hb, nb));
        assert_int_equal(cd_signer_sign(s, &da, sa, NULL), CD_OK);
        assert_int_equal(cd_signer_sign(s, &db, sb, NULL), CD_OK);
        bias += estimate(sa, sb, k) - exact;
    }
    bias /= pairs;
    print_message("text pairs: mean estimate - exact = %+.4f\n", bias);
    if (fabs(bias) > 0.01)
        fail_msg("estimates biased by %+.4f against exact Jaccard", bias);
    cd_signer_free(s);
}

/* ------------------------------------------------------------- signer */

static const char *article =
    "LONDON (PA) - The Government has announced new measures to tackle the rising cost of "
    "living, with ministers saying help will reach millions of households this winter. The "
    "Chancellor told MPs that the package would be funded by a windfall tax on energy firms.";

static void test_identical_and_seeds(void **state)
{
    (void)state;
    uint32_t x[128], y[128], z[128];
    cd_signer *s1 = make_signer(128, 5, 0), *s2 = make_signer(128, 5, 0),
              *s3 = make_signer(128, 5, 7);
    cd_doc d = text_doc(article);
    cd_sign_stats st;
    assert_int_equal(cd_signer_sign(s1, &d, x, &st), CD_OK);
    assert_int_equal(st.tokens, 43);
    assert_int_equal(st.shingles, 39);
    assert_int_equal(st.invalid_utf8, 0);
    assert_int_equal(cd_signer_sign(s2, &d, y, NULL), CD_OK);
    assert_memory_equal(x, y, sizeof x); /* same seed: same signature */
    assert_true(cd_signature_similarity(x, y, 128) == 1.0);
    assert_int_equal(cd_signer_sign(s3, &d, z, NULL), CD_OK);
    assert_memory_not_equal(x, z, sizeof x); /* another seed: another signature */
    unsigned same = 0;
    for (int i = 0; i < 128; i++)
        same += x[i] == z[i];
    assert_true(same < 8);
    /* signing again with the same signer (buffers reused) gives the same */
    cd_doc other = text_doc("Something else entirely, with \xC3\xA9 and \x80 bytes.");
    assert_int_equal(cd_signer_sign(s1, &other, y, &st), CD_OK);
    assert_int_equal(st.invalid_utf8, 1);
    assert_int_equal(cd_signer_sign(s1, &d, y, NULL), CD_OK);
    assert_memory_equal(x, y, sizeof x);
    /* a copy with other chrome, quotes and case is similar */
    char copy[1024];
    snprintf(copy, sizeof copy, "Sign up to our newsletter! %s Related Stories", article);
    d = text_doc(copy);
    assert_int_equal(cd_signer_sign(s1, &d, y, NULL), CD_OK);
    double sim = cd_signature_similarity(x, y, 128);
    assert_true(sim > 0.6 && sim < 1.0);
    cd_signer_free(s1);
    cd_signer_free(s2);
    cd_signer_free(s3);
}

static void test_empty_and_short(void **state)
{
    (void)state;
    uint32_t x[128], y[128];
    cd_signer *s = make_signer(128, 5, 0);
    cd_sign_stats st;
    const char *empty[] = {"", " \n\t ", "-- ... !!", "\xE2\x80\x94"};
    for (size_t i = 0; i < sizeof empty / sizeof *empty; i++) {
        cd_doc d = text_doc(empty[i]);
        memset(x, 0, sizeof x);
        assert_int_equal(cd_signer_sign(s, &d, x, &st), CD_OK);
        assert_int_equal(st.tokens, 0);
        assert_int_equal(st.shingles, 0);
        for (int k = 0; k < 128; k++)
            assert_int_equal(x[k], UINT32_MAX);
    }
    cd_doc none = {0};
    assert_int_equal(cd_signer_sign(s, &none, y, &st), CD_OK);
    assert_int_equal(st.shingles, 0);
    assert_true(cd_signature_similarity(x, y, 128) == 0.0); /* two empties: not copies */
    /* fewer tokens than ngram: one shingle */
    cd_doc d = text_doc("Breaking news");
    assert_int_equal(cd_signer_sign(s, &d, y, &st), CD_OK);
    assert_int_equal(st.tokens, 2);
    assert_int_equal(st.shingles, 1);
    assert_true(cd_signature_similarity(x, y, 128) == 0.0);
    assert_true(cd_signature_similarity(y, y, 128) == 1.0);
    cd_signer_free(s);
}

static void test_similarity(void **state)
{
    (void)state;
    uint32_t a[8] = {1, 2, 3, 4, 5, 6, 7, 8}, b[8] = {1, 2, 3, 4, 0, 0, 0, 0};
    assert_true(cd_signature_similarity(a, b, 8) == 0.5);
    assert_true(cd_signature_similarity(a, a, 8) == 1.0);
    assert_true(cd_signature_similarity(a, b, 0) == 0.0);
    uint32_t e[4] = {UINT32_MAX, UINT32_MAX, UINT32_MAX, UINT32_MAX};
    uint32_t f[4] = {UINT32_MAX, UINT32_MAX, UINT32_MAX, 3};
    assert_true(cd_signature_similarity(e, e, 4) == 0.0);
    assert_true(cd_signature_similarity(e, f, 4) == 0.75);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    cd_params p;
    cd_params_init(&p);
    cd_signer *s = (cd_signer *)&p;
    p.ngram = 0;
    assert_int_equal(cd_signer_create(&p, &s), CD_ERR_ARG);
    assert_null(s);
    assert_int_equal(cd_signer_create(NULL, &s), CD_ERR_ARG);
    cd_params_init(&p);
    assert_int_equal(cd_signer_create(&p, NULL), CD_ERR_ARG);
    assert_int_equal(cd_signer_create(&p, &s), CD_OK);
    uint32_t sig[128];
    assert_int_equal(cd_signer_sign(s, NULL, sig, NULL), CD_ERR_ARG);
    assert_true(strlen(cd_signer_errmsg(s)) > 0);
    cd_signer_free(s);
}

/* ------------------------------------------------- allocation failures */

static long alloc_count, alloc_fail_at, alloc_live;

static void *count_malloc(size_t n)
{
    if (++alloc_count == alloc_fail_at)
        return NULL;
    void *p = malloc(n);
    if (p)
        alloc_live++;
    return p;
}

static void *count_realloc(void *ptr, size_t n)
{
    if (++alloc_count == alloc_fail_at)
        return NULL;
    void *p = realloc(ptr, n);
    if (p && !ptr)
        alloc_live++;
    return p;
}

static void count_free(void *ptr)
{
    if (ptr)
        alloc_live--;
    free(ptr);
}

/* Creates a signer and signs documents that use every buffer, failing the
 * Nth allocation for N = 1, 2, ... until a run needs no failure. */
static void test_allocation_failure(void **state)
{
    (void)state;
    static char big[200000];
    size_t len = 0;
    static const char piece[] =
        "Grande \xC3\xA9tude \xE2\x80\x94 word \x80 \xE6\x97\xA5\xE6\x9C\xAC ";
    while (len + sizeof piece < sizeof big) {
        memcpy(big + len, piece, sizeof piece - 1);
        len += sizeof piece - 1;
    }
    cd_doc docs[3];
    memset(docs, 0, sizeof docs);
    docs[0].title = (cd_str){"A title", 7};
    static const char small[] = "Short \xC3\xA9 text with \xFF invalid bytes.";
    docs[0].text = (cd_str){small, sizeof small - 1};
    docs[1].text = (cd_str){big, len};
    docs[2].text = (cd_str){article, strlen(article)};
    cd_allocator counting = {count_malloc, count_realloc, count_free};
    assert_int_equal(cd_set_allocator(&counting), CD_OK);
    int completed = 0;
    long failures = 0;
    for (long nth = 1; !completed && nth < 10000; nth++) {
        alloc_fail_at = nth;
        alloc_count = 0;
        alloc_live = 0;
        cd_params p;
        cd_params_init(&p);
        p.with_title = 1;
        cd_signer *s = NULL;
        cd_status st = cd_signer_create(&p, &s);
        if (st != CD_OK) {
            assert_int_equal(st, CD_ERR_NOMEM);
            assert_null(s);
            assert_int_equal(alloc_live, 0);
            failures++;
            continue;
        }
        uint32_t sig[128];
        const char *joined;
        size_t n;
        for (int d = 0; d < 3 && st == CD_OK; d++)
            st = cd_signer_sign(s, &docs[d], sig, NULL);
        if (st == CD_OK)
            st = cd_signer_tokens(s, docs[1].text, &joined, &n);
        if (st != CD_OK) {
            assert_int_equal(st, CD_ERR_NOMEM);
            assert_true(strstr(cd_signer_errmsg(s), "out of memory") != NULL);
            /* the signer still works once memory is back */
            alloc_fail_at = -1;
            assert_int_equal(cd_signer_sign(s, &docs[2], sig, NULL), CD_OK);
            failures++;
        } else {
            completed = 1;
        }
        cd_signer_free(s);
        assert_int_equal(alloc_live, 0);
    }
    cd_set_allocator(NULL);
    assert_true(completed);
    print_message("%ld allocation failures handled\n", failures);
    assert_true(failures >= 5);
}

/* ------------------------------------------------------------- golden */

#define CASE(name, literal)                                                                        \
    {                                                                                              \
        name, literal, sizeof(literal) - 1                                                         \
    }

static const struct golden_case {
    const char *name;
    const char *text;
    size_t len;
} golden_cases[] = {
    CASE("article", "LONDON (PA) - The Government has announced new measures to tackle the "
                    "rising cost of living, with ministers saying help will reach millions of "
                    "households this winter."),
    CASE("unicode",
         "Stra\xC3\x9F"
         "e \xEF\xAC\x81nal \xE2\x80\x9Cquoted\xE2\x80\x9D \xE2\x80\x94 "
         "don\xE2\x80\x99t \xE6\x9D\xB1\xE4\xBA\xAC\xE9\x83\xBD \xED\x95\x9C\xEA\xB5\xAD "
         "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82 bad\x80"
         "byte"),
    CASE("short", "Two words"),
    CASE("empty", ""),
};

static const uint64_t golden_seeds[] = {0, 0x0123456789ABCDEFull};
static const unsigned golden_perms[] = {128, 7};

static void appendf(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int n = vsnprintf(*buf + *len, *cap - *len, fmt, ap);
        va_end(ap);
        assert_true(n >= 0);
        if ((size_t)n < *cap - *len) {
            *len += (size_t)n;
            return;
        }
        *cap = (*cap + (size_t)n) * 2;
        *buf = realloc(*buf, *cap);
        assert_non_null(*buf);
    }
}

static char *golden_text(void)
{
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    appendf(&buf, &len, &cap,
            "# copydesk golden MinHash signatures (classic k-permutation), "
            "CD_NORMALISE_VERSION %d.\n"
            "# Generated by COPYDESK_TEST_DATA=tests/data build/tests/test_minhash --update\n"
            "# (inputs in tests/test_minhash.c); asserted by test_minhash. Per case: its\n"
            "# parameters, then its perm values in order, 8 to a line.\n",
            CD_NORMALISE_VERSION);
    for (size_t p = 0; p < sizeof golden_perms / sizeof *golden_perms; p++)
        for (size_t k = 0; k < sizeof golden_seeds / sizeof *golden_seeds; k++) {
            cd_signer *s = make_signer(golden_perms[p], 5, golden_seeds[k]);
            for (size_t c = 0; c < sizeof golden_cases / sizeof *golden_cases; c++) {
                const struct golden_case *gc = &golden_cases[c];
                cd_doc d = {0};
                d.text = (cd_str){gc->text, gc->len};
                uint32_t sig[128];
                cd_sign_stats st;
                assert_int_equal(cd_signer_sign(s, &d, sig, &st), CD_OK);
                appendf(&buf, &len, &cap,
                        "case %s seed %016llx ngram 5 perm %u tokens %zu shingles %zu\n", gc->name,
                        (unsigned long long)golden_seeds[k], golden_perms[p], st.tokens,
                        st.shingles);
                for (unsigned i = 0; i < golden_perms[p]; i++)
                    appendf(&buf, &len, &cap, "%08lx%s", (unsigned long)sig[i],
                            (i % 8 == 7 || i + 1 == golden_perms[p]) ? "\n" : " ");
            }
            cd_signer_free(s);
        }
    return buf;
}

static void check_golden(const char *name, const char *text)
{
    const char *dir = getenv("COPYDESK_TEST_DATA");
    if (!dir)
        fail_msg("COPYDESK_TEST_DATA is not set (ctest sets it to tests/data)");
    char path[4096];
    snprintf(path, sizeof path, "%s/golden/%s", dir, name);
    if (update_golden) {
        FILE *f = fopen(path, "wb");
        if (!f)
            fail_msg("cannot write %s", path);
        fputs(text, f);
        assert_int_equal(fclose(f), 0);
        print_message("wrote %s\n", path);
        return;
    }
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot read %s (regenerate with --update)", path);
    char *want = malloc(1 << 20);
    assert_non_null(want);
    size_t n = fread(want, 1, (1 << 20) - 1, f);
    fclose(f);
    want[n] = '\0';
    const char *a = text, *b = want;
    unsigned line = 1;
    while (*a || *b) {
        size_t la = strcspn(a, "\n"), lb = strcspn(b, "\n");
        if (la != lb || memcmp(a, b, la) != 0) {
            print_error("%s:%u differs (hashing or MinHash changed?)\n", path, line);
            char *got = strndup(a, la), *exp = strndup(b, lb);
            assert_string_equal(got, exp);
        }
        a += la + (a[la] == '\n');
        b += lb + (b[lb] == '\n');
        line++;
    }
    free(want);
}

static void test_golden(void **state)
{
    (void)state;
    char *text = golden_text();
    check_golden("signatures.txt", text);
    free(text);
}

int main(int argc, char **argv)
{
    update_golden = argc > 1 && strcmp(argv[1], "--update") == 0;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_splitmix64),
        cmocka_unit_test(test_reference),
        cmocka_unit_test(test_unbiased),
        cmocka_unit_test(test_unbiased_on_text),
        cmocka_unit_test(test_identical_and_seeds),
        cmocka_unit_test(test_empty_and_short),
        cmocka_unit_test(test_similarity),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_allocation_failure),
        cmocka_unit_test(test_golden),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
