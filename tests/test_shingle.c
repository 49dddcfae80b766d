/* test_shingle.c: the shingle and hash stages: token and shingle hashes
 * against XXH3 over explicitly built little-endian bytes (on random texts at
 * every SIMD level too), shingle counts, title handling, and the golden
 * vectors in tests/data/golden/shingles.txt.
 *
 * After an intended change to normalisation or hashing (bump
 * CD_NORMALISE_VERSION too), regenerate the golden file with
 *   COPYDESK_TEST_DATA=tests/data build/tests/test_shingle --update
 * and review the diff. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <xxhash.h>

#include "copydesk/copydesk.h"
#include "shingle.h"
#include "support.h"

static int update_golden;

static cd_signer *make_signer(unsigned ngram, uint64_t seed, int with_title)
{
    cd_params p;
    cd_params_init(&p);
    p.ngram = ngram;
    p.seed = seed;
    p.with_title = with_title;
    cd_signer *s = NULL;
    assert_int_equal(cd_signer_create(&p, &s), CD_OK);
    assert_non_null(s);
    return s;
}

static cd_doc text_doc(const char *text)
{
    cd_doc d = {0};
    d.text = (cd_str){text, text ? strlen(text) : 0};
    return d;
}

/* XXH3 over n token hashes written out byte by byte, little-endian. */
static uint64_t manual_shingle(const uint64_t *h, size_t n, uint64_t seed)
{
    unsigned char bytes[32 * 8];
    assert_true(n <= 32);
    for (size_t i = 0; i < n; i++)
        for (int b = 0; b < 8; b++)
            bytes[i * 8 + b] = (unsigned char)(h[i] >> (8 * b));
    return XXH3_64bits_withSeed(bytes, n * 8, seed);
}

/* Token hashes of the space-joined tokens in joined, and whether each is a
 * character token (Han, Kana, Hangul, Thai); returns the count. */
static size_t token_hashes(const char *joined, uint64_t seed, uint64_t *out, int *is_char,
                           size_t max)
{
    size_t n = 0;
    const char *p = joined;
    while (*p) {
        const char *e = strchr(p, ' ');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        assert_true(n < max);
        is_char[n] = cd__is_char_token(p, len);
        out[n++] = XXH3_64bits_withSeed(p, len, seed);
        p += len;
        if (*p == ' ')
            p++;
    }
    return n;
}

/* The shingles of text recomputed from its tokens with the spec formula: a
 * window of ngram tokens from each word token, of char_ngram (3) tokens from
 * each character token, where it fits; one shingle of all tokens when none
 * fits. */
static void check_formula(cd_signer *s, const cd_doc *doc, cd_str stream_text, unsigned ngram,
                          uint64_t seed)
{
    const unsigned char_ngram = 3;
    const char *joined;
    size_t count;
    assert_int_equal(cd_signer_tokens(s, stream_text, &joined, &count), CD_OK);
    uint64_t th[512], want[512];
    int is_char[512];
    size_t n = token_hashes(joined, seed, th, is_char, 512);
    assert_int_equal(n, count);
    size_t expected = 0;
    int any_char = 0;
    for (size_t i = 0; i < n; i++) {
        size_t width = is_char[i] ? char_ngram : ngram;
        any_char |= is_char[i];
        if (width <= n - i)
            want[expected++] = manual_shingle(th + i, width, seed);
    }
    if (expected == 0 && n > 0)
        want[expected++] = manual_shingle(th, n, seed);
    if (!any_char)
        assert_int_equal(expected, cd__shingle_count(n, ngram));
    const uint64_t *hashes;
    size_t shingles;
    assert_int_equal(cd_signer_shingles(s, doc, &hashes, &shingles), CD_OK);
    assert_int_equal(shingles, expected);
    for (size_t i = 0; i < shingles; i++)
        assert_int_equal(hashes[i], want[i]);
}

static void test_token_hash(void **state)
{
    (void)state;
    assert_int_equal(cd__token_hash("abc", 3, 0), XXH3_64bits_withSeed("abc", 3, 0));
    assert_int_equal(cd__token_hash("abc", 3, 7), XXH3_64bits_withSeed("abc", 3, 7));
    assert_int_not_equal(cd__token_hash("abc", 3, 0), cd__token_hash("abc", 3, 1));
    uint64_t h[5] = {1, 0x0102030405060708ull, UINT64_MAX, 0, 0x8000000000000000ull};
    for (size_t n = 1; n <= 5; n++) {
        assert_int_equal(cd__shingle_hash(h, n, 0), manual_shingle(h, n, 0));
        assert_int_equal(cd__shingle_hash(h, n, 99), manual_shingle(h, n, 99));
    }
}

/* Deterministic test data. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void) { return test_random(&rng_state); }

/* cd__token_hash is XXH3_64bits_withSeed for every length up to past the
 * library's 16-, 128- and 240-byte boundaries, and any seed. */
static void test_token_hash_lengths(void **state)
{
    (void)state;
    unsigned char buf[300];
    const uint64_t seeds[] = {0, 7, 0x0123456789ABCDEFull, UINT64_MAX, 0xFFFFFFFFull};
    for (size_t len = 0; len <= 260; len++)
        for (int round = 0; round < 8; round++) {
            for (size_t i = 0; i < len; i++)
                buf[i] = (unsigned char)rnd();
            uint64_t seed = round < 5 ? seeds[round] : rnd();
            assert_int_equal(cd__token_hash((const char *)buf, len, seed),
                             XXH3_64bits_withSeed(buf, len, seed));
        }
}

/* A random text of up to max - 1 bytes: words of 1..40 letters and digits,
 * some with accented letters, Cyrillic, or (when cjk) Han and Kana
 * characters, between spaces and punctuation. */
static size_t random_text(char *buf, size_t max, int cjk)
{
    static const char *const pieces[] = {"\xC3\xA9", "\xD0\xB4", "\xE6\x9D\xB1", "\xE3\x81\xAF"};
    size_t len = 0, words = rnd() % 300;
    for (size_t w = 0; w < words && len + 200 < max; w++) {
        size_t letters = 1 + (rnd() % 100 < 90 ? rnd() % 12 : rnd() % 40);
        for (size_t i = 0; i < letters; i++) {
            uint64_t r = rnd();
            if (r % 50 == 0) {
                const char *p = pieces[(r >> 8) % (cjk ? 4 : 2)];
                memcpy(buf + len, p, strlen(p));
                len += strlen(p);
            } else {
                buf[len++] = "abcdefghijklmnopqrstuvwxyzABCXYZ0123456789"[(r >> 8) % 42];
            }
        }
        buf[len++] = " ,. \n"[rnd() % 5];
    }
    if (rnd() % 2 && len > 0)
        len--; /* end on a word */
    buf[len] = '\0';
    return len;
}

/* The shingles cd__shingle gives norm, recomputed from its token spans with
 * XXH3_64bits_withSeed and the spec formula (as check_formula). */
static void check_shingler(cd__shingler *s, const cd__normaliser *norm, unsigned ngram,
                           unsigned char_ngram, uint64_t seed)
{
    static uint64_t th[4096], want[4096];
    size_t n = norm->count, expected = 0;
    assert_true(n <= 4096);
    for (size_t i = 0; i < n; i++)
        th[i] =
            XXH3_64bits_withSeed(norm->bytes + norm->tokens[i].offset, norm->tokens[i].len, seed);
    for (size_t i = 0; i < n; i++) {
        const cd__span *t = &norm->tokens[i];
        size_t width = cd__is_char_token(norm->bytes + t->offset, t->len) ? char_ngram : ngram;
        if (width <= n - i)
            want[expected++] = manual_shingle(th + i, width, seed);
    }
    if (expected == 0 && n > 0)
        want[expected++] = manual_shingle(th, n, seed);
    assert_int_equal(cd__shingle(s, norm, ngram, char_ngram, seed), CD_OK);
    assert_int_equal(s->count, expected);
    for (size_t i = 0; i < expected; i++)
        assert_int_equal(s->hashes[i], want[i]);
}

/* Random texts through cd__shingle at every vector level (the vectorised
 * token and window hashing and their scalar twins), with the default and
 * other n-gram widths, against the formula. */
static void test_every_simd_level(void **state)
{
    (void)state;
    static const char *levels[] = {"scalar", "avx2", "avx512"};
    static const unsigned widths[][2] = {{5, 3}, {5, 5}, {3, 3}, {1, 2}, {9, 3}};
    static char text[8192];
    for (size_t l = 0; l < sizeof levels / sizeof *levels; l++) {
        assert_int_equal(setenv("COPYDESK_SIMD", levels[l], 1), 0);
        cd__normaliser norm;
        cd__shingler s;
        cd__normaliser_init(&norm);
        cd__shingler_init(&s);
        print_message("shingler level %d (cap %s)\n", s.simd, levels[l]);
        for (int round = 0; round < 400; round++) {
            size_t len = random_text(text, sizeof text, round % 4 == 3);
            cd__normaliser_reset(&norm);
            assert_int_equal(cd__normalise_append(&norm, text, len, CD__NORMALISE_AUTO), CD_OK);
            uint64_t seed = round % 3 == 0 ? 0 : rnd();
            const unsigned *w = widths[round % (sizeof widths / sizeof *widths)];
            check_shingler(&s, &norm, w[0], w[1], seed);
        }
        cd__shingler_free(&s);
        cd__normaliser_free(&norm);
    }
    unsetenv("COPYDESK_SIMD");
}

static void test_counts(void **state)
{
    (void)state;
    assert_int_equal(cd__shingle_count(0, 5), 0);
    assert_int_equal(cd__shingle_count(1, 5), 1);
    assert_int_equal(cd__shingle_count(4, 5), 1);
    assert_int_equal(cd__shingle_count(5, 5), 1);
    assert_int_equal(cd__shingle_count(6, 5), 2);
    assert_int_equal(cd__shingle_count(100, 5), 96);
    assert_int_equal(cd__shingle_count(3, 1), 3);
    assert_int_equal(cd__shingle_count(0, 1), 0);
}

static void test_formula(void **state)
{
    (void)state;
    const char *texts[] = {
        "The quick brown fox jumps over the lazy dog and runs away.",
        "Two words",
        "One",
        "\xE6\x9D\xB1\xE4\xBA\xAC\xE9\x83\xBD\xE3\x81\xAF\xE6\x97\xA5\xE6\x9C\xAC", /* 東京都は日本
                                                                                     */
        "Stra\xC3\x9F"
        "e, caf\xC3\xA9 \xE2\x80\x94 don\xE2\x80\x99t stop",
        /* mixed: 東京都は2024年にiPhone 15を発売した, Korean words, Thai */
        "\xE6\x9D\xB1\xE4\xBA\xAC\xE9\x83\xBD\xE3\x81\xAF" "2024\xE5\xB9\xB4\xE3\x81\xAB"
        "iPhone 15\xE3\x82\x92\xE7\x99\xBA\xE5\xA3\xB2\xE3\x81\x97\xE3\x81\x9F "
        "\xED\x95\x9C\xEA\xB5\xAD\xEC\x96\xB4 \xE0\xB8\xA0\xE0\xB8\xB2\xE0\xB8\xA9\xE0\xB8\xB2 the end",
    };
    unsigned ngrams[] = {1, 2, 5, 9};
    uint64_t seeds[] = {0, 12345};
    for (size_t t = 0; t < sizeof texts / sizeof *texts; t++)
        for (size_t g = 0; g < sizeof ngrams / sizeof *ngrams; g++)
            for (size_t k = 0; k < 2; k++) {
                cd_signer *s = make_signer(ngrams[g], seeds[k], 0);
                cd_doc d = text_doc(texts[t]);
                check_formula(s, &d, d.text, ngrams[g], seeds[k]);
                cd_signer_free(s);
            }
}

static void test_short_and_empty(void **state)
{
    (void)state;
    cd_signer *s = make_signer(5, 0, 0);
    const uint64_t *hashes;
    size_t count;
    cd_doc d = text_doc("Two words.");
    assert_int_equal(cd_signer_shingles(s, &d, &hashes, &count), CD_OK);
    assert_int_equal(count, 1);
    uint64_t th[2] = {XXH3_64bits_withSeed("two", 3, 0), XXH3_64bits_withSeed("words", 5, 0)};
    assert_int_equal(hashes[0], manual_shingle(th, 2, 0));

    const char *empty[] = {"", "   ", "... -- !!!",
                           "\xE2\x80\x94 \xC2\xA0 \xE2\x80\x9C\xE2\x80\x9D"};
    for (size_t i = 0; i < sizeof empty / sizeof *empty; i++) {
        d = text_doc(empty[i]);
        assert_int_equal(cd_signer_shingles(s, &d, &hashes, &count), CD_OK);
        assert_int_equal(count, 0);
    }
    d = text_doc(NULL);
    assert_int_equal(cd_signer_shingles(s, &d, &hashes, &count), CD_OK);
    assert_int_equal(count, 0);
    cd_signer_free(s);
}

/* Copies in other quotes, dashes, spaces and case have the same shingles. */
static void test_variants_equal(void **state)
{
    (void)state;
    cd_signer *s = make_signer(3, 0, 0);
    const char *a = "\xE2\x80\x9C"
                    "Don\xE2\x80\x99t\xE2\x80\x9D stop \xE2\x80\x94 the\xC2\xA0well\xE2\x80\x90"
                    "known caf\xC3\xA9 story";
    const char *b = "\"don't\" STOP - the well-known  CAFE\xCC\x81 Story...";
    const uint64_t *h;
    size_t na, nb;
    cd_doc d = text_doc(a);
    assert_int_equal(cd_signer_shingles(s, &d, &h, &na), CD_OK);
    uint64_t *copy = malloc(na * sizeof *copy);
    assert_non_null(copy);
    memcpy(copy, h, na * sizeof *copy);
    d = text_doc(b);
    assert_int_equal(cd_signer_shingles(s, &d, &h, &nb), CD_OK);
    assert_int_equal(na, nb);
    assert_int_equal(na, 6); /* don t stop the well known café story: 8 tokens */
    assert_memory_equal(copy, h, na * sizeof *copy);
    free(copy);
    cd_signer_free(s);
}

static size_t shingles_of(cd_signer *s, const cd_doc *d, uint64_t *out, size_t max)
{
    const uint64_t *h;
    size_t n;
    assert_int_equal(cd_signer_shingles(s, d, &h, &n), CD_OK);
    assert_true(n <= max);
    memcpy(out, h, n * sizeof *h);
    return n;
}

static void test_title(void **state)
{
    (void)state;
    uint64_t x[64], y[64];
    size_t nx, ny;
    cd_doc joined = text_doc("Big Title one two three four five");
    cd_doc with = {0};
    with.title = (cd_str){"Big Title", 9};
    with.text = (cd_str){"one two three four five", 23};
    cd_doc text_only = text_doc("one two three four five");

    /* with_title: the title's tokens precede the text's in one stream */
    cd_signer *s = make_signer(5, 0, 1);
    nx = shingles_of(s, &joined, x, 64);
    ny = shingles_of(s, &with, y, 64);
    assert_int_equal(nx, 3);
    assert_int_equal(ny, nx);
    assert_memory_equal(x, y, nx * sizeof *x);
    cd_signer_free(s);

    /* without: the title is ignored... */
    s = make_signer(5, 0, 0);
    nx = shingles_of(s, &text_only, x, 64);
    ny = shingles_of(s, &with, y, 64);
    assert_int_equal(nx, 1);
    assert_int_equal(ny, nx);
    assert_memory_equal(x, y, nx * sizeof *x);
    /* ...unless the text is empty (length 0 or NULL): the title stands in */
    cd_doc title_only = {0};
    title_only.title = (cd_str){"Big Title", 9};
    cd_doc title_as_text = text_doc("Big Title");
    nx = shingles_of(s, &title_as_text, x, 64);
    ny = shingles_of(s, &title_only, y, 64);
    assert_int_equal(nx, 1);
    assert_int_equal(ny, nx);
    assert_memory_equal(x, y, nx * sizeof *x);
    title_only.text = (cd_str){"", 0};
    ny = shingles_of(s, &title_only, y, 64);
    assert_int_equal(ny, 1);
    assert_memory_equal(x, y, sizeof *x);
    /* a text with no tokens is not empty: the title does not stand in */
    title_only.text = (cd_str){"...", 3};
    ny = shingles_of(s, &title_only, y, 64);
    assert_int_equal(ny, 0);
    cd_signer_free(s);
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
    CASE("ascii", "The quick brown fox jumps over the lazy dog. LONDON (PA) - Police said on "
                  "Tuesday 42 people were arrested."),
    CASE("unicode", "Stra\xC3\x9F"
                    "e \xEF\xAC\x81nal \xE2\x80\x9Cquoted\xE2\x80\x9D \xE2\x80\x94 "
                    "don\xE2\x80\x99t \xEF\xBC\xA1\xEF\xBC\xA2\xEF\xBC\xA3\xC2\xB2 cafe\xCC\x81 "
                    "\xC4\xB0stanbul \xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82"),
    CASE("cjk", "\xE6\x9D\xB1\xE4\xBA\xAC\xE9\x83\xBD\xE3\x81\xAF\xE6\x97\xA5\xE6\x9C\xAC\xE3\x81"
                "\xAE\xE9\xA6\x96\xE9\x83\xBD\xE3\x81\xA7\xE3\x81\x99\xE3\x80\x82 \xED\x95\x9C"
                "\xEA\xB5\xAD\xEC\x96\xB4 \xE0\xB8\xA0\xE0\xB8\xB2\xE0\xB8\xA9\xE0\xB8\xB2"),
    CASE("invalid", "ok \x80\xC0\xAF bytes \xED\xA0\x80 and\0nul end\xE2\x82"),
    CASE("short", "Two words"),
    CASE("empty", "  \xE2\x80\x94  "),
};

static const uint64_t golden_seeds[] = {0, 0x0123456789ABCDEFull};
static const unsigned golden_ngrams[] = {5, 1, 3};

static char *golden_text(void)
{
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    buf[0] = '\0';
    appendf(&buf, &len, &cap,
            "# copydesk golden shingle hashes, CD_NORMALISE_VERSION %d. Generated by\n"
            "#   COPYDESK_TEST_DATA=tests/data build/tests/test_shingle --update\n"
            "# (inputs in tests/test_shingle.c); asserted by test_shingle. Per case: its\n"
            "# parameters, its normalised tokens, then its shingle hashes in text order.\n",
            CD_NORMALISE_VERSION);
    for (size_t g = 0; g < sizeof golden_ngrams / sizeof *golden_ngrams; g++)
        for (size_t k = 0; k < sizeof golden_seeds / sizeof *golden_seeds; k++) {
            cd_signer *s = make_signer(golden_ngrams[g], golden_seeds[k], 0);
            for (size_t c = 0; c < sizeof golden_cases / sizeof *golden_cases; c++) {
                const struct golden_case *gc = &golden_cases[c];
                if (g > 0 && strcmp(gc->name, "ascii") != 0 && strcmp(gc->name, "cjk") != 0)
                    continue; /* other ngrams: a few cases are enough */
                const char *joined;
                size_t ntok;
                assert_int_equal(cd_signer_tokens(s, (cd_str){gc->text, gc->len}, &joined, &ntok),
                                 CD_OK);
                appendf(&buf, &len, &cap, "case %s seed %016llx ngram %u tokens %zu\ntokens%s%s\n",
                        gc->name, (unsigned long long)golden_seeds[k], golden_ngrams[g], ntok,
                        ntok ? " " : "", joined);
                cd_doc d = {0};
                d.text = (cd_str){gc->text, gc->len};
                const uint64_t *h;
                size_t n;
                assert_int_equal(cd_signer_shingles(s, &d, &h, &n), CD_OK);
                appendf(&buf, &len, &cap, "shingles %zu\n", n);
                for (size_t i = 0; i < n; i++)
                    appendf(&buf, &len, &cap, "%016llx%s", (unsigned long long)h[i],
                            (i % 4 == 3 || i + 1 == n) ? "\n" : " ");
            }
            cd_signer_free(s);
        }
    return buf;
}

static void test_golden(void **state)
{
    (void)state;
    char *text = golden_text();
    check_golden("shingles.txt", text, update_golden, "hashing or normalisation");
    free(text);
}

int main(int argc, char **argv)
{
    update_golden = argc > 1 && strcmp(argv[1], "--update") == 0;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_token_hash),       cmocka_unit_test(test_token_hash_lengths),
        cmocka_unit_test(test_every_simd_level), cmocka_unit_test(test_counts),
        cmocka_unit_test(test_formula),          cmocka_unit_test(test_short_and_empty),
        cmocka_unit_test(test_variants_equal),   cmocka_unit_test(test_title),
        cmocka_unit_test(test_golden),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
