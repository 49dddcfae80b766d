/* test_normalise.c: the normalise stage: UTF-8 repair, NFKC + case folding,
 * tokenisation (separators, per-character scripts), and the fast paths
 * (vectorised ASCII at every SIMD level, per-code-point non-ASCII) checked
 * against the utf8proc path on random strings and, for the context-free
 * rule, on every code point. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <utf8proc.h>

#include "copydesk/copydesk.h"
#include "normalise.h"

/* The tokens of text[0..len) in mode, joined by spaces, in a buffer the
 * caller frees; *invalid receives the replacement count. */
static char *tokens_of_mode(const char *text, size_t len, cd__normalise_mode mode, size_t *invalid)
{
    cd__normaliser n;
    cd__normaliser_init(&n);
    assert_int_equal(cd__normalise_append(&n, text, len, mode), CD_OK);
    char *out = malloc(n.bytes_len + n.count + 1);
    assert_non_null(out);
    char *o = out;
    for (size_t i = 0; i < n.count; i++) {
        if (i)
            *o++ = ' ';
        assert_true(n.tokens[i].len > 0);
        memcpy(o, n.bytes + n.tokens[i].offset, n.tokens[i].len);
        o += n.tokens[i].len;
    }
    *o = '\0';
    if (invalid)
        *invalid = n.invalid_utf8;
    cd__normaliser_free(&n);
    return out;
}

/* Checks that both modes give expected (and the same replacement count). */
static void check_len(const char *text, size_t len, const char *expected, size_t invalid_expected)
{
    size_t inv_auto = 0, inv_uni = 0;
    char *a = tokens_of_mode(text, len, CD__NORMALISE_AUTO, &inv_auto);
    char *u = tokens_of_mode(text, len, CD__NORMALISE_UNICODE, &inv_uni);
    assert_string_equal(u, expected);
    assert_string_equal(a, expected);
    assert_int_equal(inv_uni, invalid_expected);
    assert_int_equal(inv_auto, invalid_expected);
    free(a);
    free(u);
}

static void check(const char *text, const char *expected)
{
    check_len(text, strlen(text), expected, 0);
}

static void test_ascii(void **state)
{
    (void)state;
    check("", "");
    check("   ", "");
    check("Hello, World!", "hello world");
    check("  The  QUICK brown-fox_42 jumps.", "the quick brown fox 42 jumps");
    check("a1b2 C3D4", "a1b2 c3d4");
    check("tab\there\r\nnew\vline\fx", "tab here new line x");
    check("~!@#$%^&*()[]{}<>=+|\\/?;:'\"`,._-", "");
}

static void test_nfkc(void **state)
{
    (void)state;
    check("\xEF\xAC\x81nance", "finance");                    /* ﬁ ligature */
    check("\xEF\xBC\xA1\xEF\xBC\xA2\xEF\xBC\xA3", "abc");     /* full-width ＡＢＣ */
    check("x\xC2\xB2 10\xE2\x81\xB5", "x2 105");              /* ², ⁵ */
    check("\xE2\x91\xA0 \xE2\x85\xAB", "1 xii");              /* ①, Ⅻ */
    check("\xC2\xBD", "1 2");                                 /* ½ -> 1⁄2, ⁄ separates */
    check("\xE2\x84\xAA\xE2\x84\xAB", "kå");                  /* Kelvin, Ångström signs */
    check("\xEF\xBD\xB6\xEF\xBE\x80\xEF\xBD\xB6\xEF\xBE\x85", /* halfwidth ｶﾀｶﾅ */
          "\xE3\x82\xAB \xE3\x82\xBF \xE3\x82\xAB \xE3\x83\x8A");
}

static void test_case_fold(void **state)
{
    (void)state;
    check("Stra\xC3\x9F"
          "e STRASSE",
          "strasse strasse");                                         /* Straße */
    check("\xC4\xB0stanbul", "i\xCC\x87stanbul");                     /* İ -> i + U+0307 */
    check("\xCE\xA3\xCE\x8A\xCE\xA3\xCE\xA5\xCE\xA6\xCE\x9F\xCE\xA3 " /* ΣΊΣΥΦΟΣ σίσυφος */
          "\xCF\x83\xCE\xAF\xCF\x83\xCF\x85\xCF\x86\xCE\xBF\xCF\x82",
          "\xCF\x83\xCE\xAF\xCF\x83\xCF\x85\xCF\x86\xCE\xBF\xCF\x83 "
          "\xCF\x83\xCE\xAF\xCF\x83\xCF\x85\xCF\x86\xCE\xBF\xCF\x83");
    check("\xC3\x89T\xC3\x89", "\xC3\xA9t\xC3\xA9"); /* ÉTÉ */
}

static void test_composition(void **state)
{
    (void)state;
    /* precomposed é and e + U+0301 give the same (precomposed) token */
    check("caf\xC3\xA9", "caf\xC3\xA9");
    check("cafe\xCC\x81", "caf\xC3\xA9");
    check("CAFE\xCC\x81", "caf\xC3\xA9");
    /* marks in another order: canonical reordering (dot below before dot
     * above) makes them equal */
    check("q\xCC\x87\xCC\xA3", "q\xCC\xA3\xCC\x87");
    /* Hangul jamo compose into a syllable */
    check("\xE1\x84\x80\xE1\x85\xA1", "\xEA\xB0\x80");
    /* < + U+0338 composes to ≮, a symbol: no token at all */
    check("a <\xCC\xB8 b", "a b");
    check("a<\xCC\xB8"
          "b",
          "a b");
    /* a mark with no base letter is dropped */
    check("a \xCC\x81", "a");
    check("a.\xCC\x81\xCC\x81"
          "b",
          "a b");
    check("don\xC2\xB4t \xC2\xA8x", "don t x"); /* ´ and ¨ are space + mark under NFKC */
    /* default-ignorable code points vanish: soft hyphen, zero-width space */
    check("news\xC2\xAD"
          "paper zero\xE2\x80\x8Bwidth",
          "newspaper zerowidth");
}

static void test_invalid_utf8(void **state)
{
    (void)state;
    check_len("a\x80"
              "b",
              3, "a b", 1); /* lone continuation byte */
    check_len("a\xC0\xAF"
              "b",
              4, "a b", 2); /* overlong '/' : C0, then AF */
    check_len("a\xE0\x80\xAF"
              "b",
              5, "a b", 3); /* overlong 3-byte */
    check_len("a\xE2\x82"
              "b",
              4, "a b", 1);                       /* truncated € */
    check_len("abc\xE2\x82", 5, "abc", 1);        /* truncated at the end */
    check_len("\xED\xA0\x80x", 4, "x", 3);        /* surrogate U+D800 */
    check_len("x\xF4\x90\x80\x80y", 6, "x y", 4); /* U+110000 */
    check_len("\xF5\x80\x80\x80", 4, "", 4);      /* F5 lead */
    check_len("\xFF\xFE", 2, "", 2);
    check_len("\xF0\x9F\x98", 3, "", 1);         /* truncated 4-byte */
    check_len("caf\xE9 ol\xE9", 8, "caf ol", 2); /* Latin-1 é */
    check_len("\xC3\xA9\x80\xC3\xA9", 5, "\xC3\xA9 \xC3\xA9", 1);
    /* valid non-characters and private use are kept as code points */
    check_len("a\xEF\xBF\xBE"
              "b",
              5, "a b", 0);
    /* NUL bytes are separators */
    check_len("ab\0cd\0", 6, "ab cd", 0);
    check_len("\0\0\0", 3, "", 0);
    check_len("\xC3\xA9\0\xC3\xA9", 5, "\xC3\xA9 \xC3\xA9", 0);
}

static void test_separators(void **state)
{
    (void)state;
    /* apostrophes: straight, curly, modifier-free variants all split */
    const char *dont[] = {"don't", "don\xE2\x80\x99t", "don\xE2\x80\x98t",
                          "don`t", "don\xC2\xB4t",     "DON'T"};
    for (size_t i = 0; i < sizeof dont / sizeof *dont; i++)
        check(dont[i], "don t");
    /* hyphen, en dash, em dash, Unicode hyphen, minus, non-breaking hyphen */
    const char *dash[] = {"well-known",
                          "well\xE2\x80\x93known",
                          "well\xE2\x80\x94known",
                          "well\xE2\x80\x90known",
                          "well\xE2\x88\x92known",
                          "well\xE2\x80\x91known",
                          "well -- known"};
    for (size_t i = 0; i < sizeof dash / sizeof *dash; i++)
        check(dash[i], "well known");
    /* spaces: NBSP, thin, ideographic, narrow NBSP, line separator */
    const char *space[] = {"a b",
                           "a\xC2\xA0"
                           "b",
                           "a\xE2\x80\x89"
                           "b",
                           "a\xE3\x80\x80"
                           "b",
                           "a\xE2\x80\xAF"
                           "b",
                           "a\xE2\x80\xA8"
                           "b",
                           "a\n\n b"};
    for (size_t i = 0; i < sizeof space / sizeof *space; i++)
        check(space[i], "a b");
    /* quotes */
    const char *quoted[] = {"\"quoted\"",
                            "\xE2\x80\x9Cquoted\xE2\x80\x9D",
                            "\xC2\xABquoted\xC2\xBB",
                            "\xE2\x80\x9Equoted\xE2\x80\x9C",
                            "'quoted'",
                            "\xE3\x80\x8Cquoted\xE3\x80\x8D"};
    for (size_t i = 0; i < sizeof quoted / sizeof *quoted; i++)
        check(quoted[i], "quoted");
    check("\xE2\x80\xA6"
          "end\xE2\x80\xA2 \xE2\x82\xAC"
          "5",
          "end 5"); /* … • € */
}

static void test_scripts(void **state)
{
    (void)state;
    /* Han + Hiragana + Katakana: one token per character */
    check("\xE6\x9D\xB1\xE4\xBA\xAC\xE3\x81\xAF\xE3\x83\x86\xE3\x82\xB9\xE3\x83\x88",
          "\xE6\x9D\xB1 \xE4\xBA\xAC \xE3\x81\xAF \xE3\x83\x86 \xE3\x82\xB9 \xE3\x83\x88");
    /* ideographic full stop and comma are separators */
    check("\xE6\x97\xA5\xE3\x80\x82\xE6\x9C\xAC\xE3\x80\x81", "\xE6\x97\xA5 \xE6\x9C\xAC");
    /* Han next to Latin and digits */
    check("Tokyo\xE6\x9D\xB1\xE4\xBA\xAC"
          "2024",
          "tokyo \xE6\x9D\xB1 \xE4\xBA\xAC 2024");
    /* CJK extension B (U+20000) */
    check("\xF0\xA0\x80\x80\xF0\xA0\x80\x81", "\xF0\xA0\x80\x80 \xF0\xA0\x80\x81");
    /* Hangul syllables, one token each; the space is still a separator */
    check("\xED\x95\x9C\xEA\xB5\xAD\xEC\x96\xB4 \xEB\x89\xB4\xEC\x8A\xA4",
          "\xED\x95\x9C \xEA\xB5\xAD \xEC\x96\xB4 \xEB\x89\xB4 \xEC\x8A\xA4");
    /* Thai: ภาษา, one token per code point (marks included) */
    check("\xE0\xB8\xA0\xE0\xB8\xB2\xE0\xB8\xA9\xE0\xB8\xB2",
          "\xE0\xB8\xA0 \xE0\xB8\xB2 \xE0\xB8\xA9 \xE0\xB8\xB2");
    check("\xE0\xB8\x81\xE0\xB9\x88", "\xE0\xB8\x81 \xE0\xB9\x88"); /* ก + mai ek */
    /* Arabic: words, diacritics (harakat) stay inside */
    check(
        "\xD8\xA7\xD9\x84\xD9\x84\xD8\xBA\xD8\xA9 \xD8\xA7\xD9\x84\xD8\xB9\xD8\xB1\xD8\xA8\xD9\x8A"
        "\xD8\xA9\xD8\x8C",
        "\xD8\xA7\xD9\x84\xD9\x84\xD8\xBA\xD8\xA9 \xD8\xA7\xD9\x84\xD8\xB9\xD8\xB1\xD8\xA8\xD9\x8A"
        "\xD8\xA9");
    check("\xD9\x83\xD9\x8E\xD8\xAA\xD9\x8E\xD8\xA8\xD9\x8E",
          "\xD9\x83\xD9\x8E\xD8\xAA\xD9\x8E\xD8\xA8\xD9\x8E");
    /* Arabic presentation form ﻻ becomes لا */
    check("\xEF\xBB\xBB", "\xD9\x84\xD8\xA7");
    /* Russian */
    check("\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82, \xD0\x9C\xD0\x98\xD0\xA0!",
          "\xD0\xBF\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82 \xD0\xBC\xD0\xB8\xD1\x80");
    /* German */
    check("\xC3\x9C"
          "ber die Br\xC3\xBC"
          "cke, Gr\xC3\xB6\xC3\x9F"
          "e",
          "\xC3\xBC"
          "ber die br\xC3\xBC"
          "cke gr\xC3\xB6ss"
          "e");
    /* Hindi: combining vowel signs and virama stay in the word */
    check("\xE0\xA4\xB9\xE0\xA4\xBF\xE0\xA4\xA8\xE0\xA5\x8D\xE0\xA4\xA6\xE0\xA5\x80 "
          "\xE0\xA4\xAD\xE0\xA4\xBE\xE0\xA4\xB7\xE0\xA4\xBE",
          "\xE0\xA4\xB9\xE0\xA4\xBF\xE0\xA4\xA8\xE0\xA5\x8D\xE0\xA4\xA6\xE0\xA5\x80 "
          "\xE0\xA4\xAD\xE0\xA4\xBE\xE0\xA4\xB7\xE0\xA4\xBE");
}

/* Each token of a letters-only word equals utf8proc's own NFKC_Casefold. */
static void test_matches_utf8proc(void **state)
{
    (void)state;
    const char *words[] = {"Stra\xC3\x9F"
                           "e",
                           "\xEF\xAC\x81"
                           "nal",
                           "\xC4\xB0stanbul",
                           "cafe\xCC\x81",
                           "\xE1\xBA\xB8\xCC\x82",
                           "\xC7\x85"
                           "ungla",
                           "\xEF\xBC\xA1\xEF\xBC\xA2",
                           "\xD0\x9F\xD0\xA0\xD0\x98",
                           "\xE1\xBE\x88",
                           "\xCE\x90"};
    for (size_t i = 0; i < sizeof words / sizeof *words; i++) {
        utf8proc_uint8_t *ref = utf8proc_NFKC_Casefold((const utf8proc_uint8_t *)words[i]);
        assert_non_null(ref);
        check(words[i], (const char *)ref);
        free(ref);
    }
}

/* ------------------------------------------- fast path == Unicode path */

static uint64_t rng_state = 0x1234567887654321ull;

static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void compare_modes(const char *text, size_t len)
{
    size_t inv_a = 0, inv_u = 0;
    char *a = tokens_of_mode(text, len, CD__NORMALISE_AUTO, &inv_a);
    char *u = tokens_of_mode(text, len, CD__NORMALISE_UNICODE, &inv_u);
    if (strcmp(a, u) != 0 || inv_a != inv_u) {
        print_error("input (%zu bytes):", len);
        for (size_t i = 0; i < len; i++)
            print_error(" %02x", (unsigned char)text[i]);
        print_error("\nfast:    [%s] invalid %zu\nunicode: [%s] invalid %zu\n", a, inv_a, u, inv_u);
        fail();
    }
    free(a);
    free(u);
}

static void test_fast_path_ascii_random(void **state)
{
    (void)state;
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                                   "     ,.;:'\"!?-_()[]{}<>/\\|@#$%^&*+=~`\t\n\r\v\f";
    char buf[300];
    for (int trial = 0; trial < 20000; trial++) {
        size_t len = rnd() % sizeof buf;
        for (size_t i = 0; i < len; i++) {
            uint64_t r = rnd();
            /* mostly the alphabet; now and then any ASCII byte, NUL included */
            buf[i] = (r & 15) == 0 ? (char)((r >> 8) & 0x7F)
                                   : alphabet[(r >> 8) % (sizeof alphabet - 1)];
        }
        compare_modes(buf, len);
    }
}

static void test_fast_path_mixed_random(void **state)
{
    (void)state;
    /* ASCII pieces and non-ASCII pieces that interact with their neighbours
     * (combining marks, U+0338, jamo, ligatures) or are invalid UTF-8 */
    static const char *pieces[] = {
        "a",
        "B",
        "z",
        "0",
        "9",
        " ",
        ",",
        "<",
        "=",
        ">",
        "'",
        "-",
        "\0",
        "\n",
        "e",
        "K",
        "i",
        "\xCC\x81",         /* combining acute */
        "\xCC\xB8",         /* combining long solidus overlay */
        "\xCC\xA3",         /* combining dot below */
        "\xC3\xA9",         /* é */
        "\xC3\x9F",         /* ß */
        "\xEF\xAC\x81",     /* ﬁ */
        "\xE2\x80\x99",     /* ’ */
        "\xE2\x80\x94",     /* — */
        "\xC2\xA0",         /* NBSP */
        "\xC2\xAD",         /* soft hyphen */
        "\xE6\x97\xA5",     /* 日 */
        "\xE1\x84\x80",     /* jamo L */
        "\xE1\x85\xA1",     /* jamo V */
        "\xE0\xB8\x81",     /* ก */
        "\xE0\xA4\xBF",     /* Devanagari vowel sign i */
        "\xEF\xBC\xA1",     /* Ａ */
        "\xE2\x84\xAA",     /* Kelvin sign */
        "\xC4\xB0",         /* İ */
        "\x80",             /* invalid: continuation */
        "\xE2\x82",         /* invalid: truncated */
        "\xC0",             /* invalid: C0 */
        "\xED\xA0",         /* invalid: surrogate start */
        "\xF0\x9F\x98\x80", /* emoji */
    };
    static size_t piece_len[sizeof pieces / sizeof *pieces];
    for (size_t p = 0; p < sizeof pieces / sizeof *pieces; p++)
        piece_len[p] = pieces[p][0] ? strlen(pieces[p]) : 1;
    char buf[512];
    for (int trial = 0; trial < 20000; trial++) {
        size_t len = 0, want = rnd() % 120;
        int ascii_heavy = trial & 1;
        while (len < want) {
            uint64_t r = rnd();
            size_t p = (size_t)((r >> 8) % (sizeof pieces / sizeof *pieces));
            if (ascii_heavy && (r & 3) != 0)
                p = (size_t)((r >> 8) % 17); /* the ASCII pieces */
            memcpy(buf + len, pieces[p], piece_len[p]);
            len += piece_len[p];
        }
        compare_modes(buf, len);
    }
}

/* Arbitrary bytes: no crash, both paths agree, every token non-empty. */
static void test_random_bytes(void **state)
{
    (void)state;
    unsigned char buf[256];
    for (int trial = 0; trial < 20000; trial++) {
        size_t len = rnd() % sizeof buf;
        for (size_t i = 0; i < len; i++) {
            uint64_t r = rnd();
            /* half the bytes ASCII, the rest spread over lead and
             * continuation bytes */
            buf[i] = (unsigned char)((r & 1) ? (r >> 8) & 0x7F : 0x80 | ((r >> 8) & 0x7F));
        }
        compare_modes((const char *)buf, len);
    }
}

/* A long ASCII text with one non-ASCII character in the middle: the fast
 * path cuts around it. */
static void test_fast_path_long(void **state)
{
    (void)state;
    size_t words = 20000;
    char *text = malloc(words * 6 + 16);
    assert_non_null(text);
    size_t len = 0;
    for (size_t i = 0; i < words; i++) {
        if (i == words / 2) {
            memcpy(text + len, "caf\xC3\xA9 ", 6);
            len += 6;
        } else {
            memcpy(text + len, "Word, ", 6);
            len += 6;
        }
    }
    compare_modes(text, len);
    cd__normaliser n;
    cd__normaliser_init(&n);
    assert_int_equal(cd__normalise_append(&n, text, len, CD__NORMALISE_AUTO), CD_OK);
    assert_int_equal(n.count, words);
    /* reuse: reset and append twice, the stream concatenates */
    cd__normaliser_reset(&n);
    assert_int_equal(cd__normalise_append(&n, "One two", 7, CD__NORMALISE_AUTO), CD_OK);
    assert_int_equal(cd__normalise_append(&n,
                                          "thr\xC3\xA9"
                                          "e",
                                          6, CD__NORMALISE_AUTO),
                     CD_OK);
    assert_int_equal(n.count, 3);
    assert_memory_equal(n.bytes + n.tokens[2].offset,
                        "thr\xC3\xA9"
                        "e",
                        6);
    cd__normaliser_free(&n);
    free(text);
}

/* ------------------------------------------- non-ASCII fast path */

/* The rule behind the per-code-point path, checked against utf8proc for
 * every code point: a context-free code point's decomposition starts with a
 * starter that is never the second code point of a canonical composition
 * (so nothing before it composes or reorders with it), and what it maps to is
 * utf8proc's NFKC_Casefold of it alone. */
static void test_context_free_rule(void **state)
{
    (void)state;
    /* every code point that follows another in a canonical decomposition */
    unsigned char *second = calloc(0x110000 / 8, 1);
    assert_non_null(second);
    for (int32_t x = 0; x < 0x110000; x++) {
        if (x >= 0xD800 && x <= 0xDFFF)
            continue;
        utf8proc_int32_t d[32];
        utf8proc_ssize_t n = utf8proc_decompose_char(x, d, 32, UTF8PROC_DECOMPOSE, NULL);
        assert_true(n >= 0 && n <= 32);
        for (utf8proc_ssize_t i = 1; i < n; i++)
            second[d[i] >> 3] |= (unsigned char)(1u << (d[i] & 7));
    }
    const utf8proc_option_t options =
        UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD | UTF8PROC_COMPOSE | UTF8PROC_IGNORE;
    size_t free_count = 0;
    for (int32_t cp = 0; cp < 0x110000; cp++) {
        int32_t mapped = -2;
        if (!cd__normalise_context_free(cp, &mapped))
            continue;
        assert_true(cp < 0xD800 || cp > 0xDFFF);
        free_count++;
        utf8proc_int32_t d[32];
        utf8proc_ssize_t n = utf8proc_decompose_char(cp, d, 32, options, NULL);
        assert_true(n >= 0 && n <= 32);
        if (n > 0) {
            if ((second[d[0] >> 3] >> (d[0] & 7)) & 1)
                fail_msg("U+%04X is context-free but its decomposition starts with U+%04X, "
                         "which composes with what precedes it",
                         (unsigned)cp, (unsigned)d[0]);
            assert_int_equal(utf8proc_get_property(d[0])->combining_class, 0);
        }
        uint8_t utf8[4];
        utf8proc_ssize_t len = utf8proc_encode_char(cp, utf8);
        utf8proc_uint8_t *ref = NULL;
        assert_true(utf8proc_map(utf8, len, &ref, options) >= 0);
        uint8_t want[5] = {0};
        if (mapped >= 0)
            want[utf8proc_encode_char(mapped, want)] = 0;
        if (strcmp((const char *)ref, (const char *)want) != 0)
            fail_msg("U+%04X maps to [%s], utf8proc says [%s]", (unsigned)cp, want, ref);
        free(ref);
    }
    print_message("%zu context-free code points\n", free_count);
    assert_true(free_count > 100000); /* Han, Hangul, Latin, Cyrillic, ... */
    free(second);
}

/* Text of context-free and other non-ASCII code points between ASCII: the
 * per-code-point path against utf8proc, and its fallback. */
static void test_fast_path_non_ascii_random(void **state)
{
    (void)state;
    /* slow: a code point the per-code-point path hands to utf8proc */
    static const struct {
        const char *text;
        int slow;
    } pieces[] = {
        {"a", 0},
        {"Z", 0},
        {"7", 0},
        {" ", 0},
        {".", 0},
        {"-", 0},
        {"'", 0},
        {"<", 0},
        {"\n", 0},
        {"\xC3\xA9", 0},         /* é */
        {"\xC3\x89", 0},         /* É */
        {"\xC3\x9C", 0},         /* Ü */
        {"\xC3\x9F", 1},         /* ß: two code points */
        {"\xC2\xA0", 0},         /* NBSP */
        {"\xC2\xAD", 0},         /* soft hyphen: removed */
        {"\xC2\xBD", 1},         /* ½ */
        {"\xCE\xA3", 0},         /* Σ */
        {"\xCF\x82", 0},         /* ς */
        {"\xCE\xAC", 0},         /* ά */
        {"\xD0\x94", 0},         /* Д */
        {"\xD0\xB4", 0},         /* д */
        {"\xD7\x90", 0},         /* א */
        {"\xD8\xB9", 0},         /* ع */
        {"\xD9\x8E", 1},         /* Arabic fatha: a mark */
        {"\xE0\xB8\x81", 0},     /* ก */
        {"\xE0\xA4\x95", 0},     /* क */
        {"\xE0\xA4\xBF", 1},     /* Devanagari vowel sign i: a mark */
        {"\xE1\x84\x80", 0},     /* jamo L: composes only with what follows */
        {"\xE1\x85\xA1", 1},     /* jamo V */
        {"\xE2\x80\x8D", 0},     /* ZWJ: removed */
        {"\xE2\x80\x99", 0},     /* ’ */
        {"\xE2\x80\x9C", 0},     /* “ */
        {"\xE2\x80\x94", 0},     /* — */
        {"\xE2\x84\xA6", 0},     /* ohm sign -> ω */
        {"\xE2\x84\xAA", 0},     /* Kelvin sign -> k */
        {"\xE2\x85\xAB", 1},     /* Ⅻ -> xii */
        {"\xE3\x81\x82", 0},     /* あ */
        {"\xE3\x82\xAB", 0},     /* カ */
        {"\xE3\x82\x99", 1},     /* combining voiced mark */
        {"\xE6\x97\xA5", 0},     /* 日 */
        {"\xEA\xB0\x80", 0},     /* 가 */
        {"\xEF\xAC\x81", 1},     /* ﬁ */
        {"\xEF\xBC\xA1", 0},     /* Ａ */
        {"\xEF\xBD\xB6", 0},     /* halfwidth カ */
        {"\xCC\x81", 1},         /* combining acute */
        {"\xC4\xB0", 1},         /* İ -> i + dot above */
        {"\xF0\x9F\x98\x80", 0}, /* emoji */
        {"\xF0\xA0\x80\x80", 0}, /* CJK extension B */
        {"\xED\xA0\x80", 1},     /* invalid: surrogate */
        {"\xE2\x82", 1},         /* invalid: truncated */
    };
    const size_t count = sizeof pieces / sizeof *pieces;
    char buf[1024];
    for (int trial = 0; trial < 20000; trial++) {
        size_t len = 0, want = rnd() % 200;
        int only_fast = trial % 3 != 0; /* mostly stretches the fast path takes whole */
        while (len < want) {
            size_t p = (size_t)((rnd() >> 8) % count);
            if (only_fast && pieces[p].slow)
                continue;
            size_t n = strlen(pieces[p].text);
            memcpy(buf + len, pieces[p].text, n);
            len += n;
        }
        compare_modes(buf, len);
    }
    for (size_t p = 0; p < count; p++) {
        int32_t cp = -1, mapped;
        utf8proc_iterate((const utf8proc_uint8_t *)pieces[p].text, -1, &cp);
        if (cp >= 0x80 && strlen(pieces[p].text) > 1 && !pieces[p].slow)
            if (!cd__normalise_context_free(cp, &mapped))
                fail_msg("U+%04X (piece %zu) is not context-free", (unsigned)cp, p);
    }
}

/* Long ASCII texts with tokens across the 64-byte blocks of the vector path,
 * lengths around multiples of 64 and a non-ASCII byte at every offset. */
static void test_fast_path_blocks(void **state)
{
    (void)state;
    char buf[400];
    for (size_t len = 0; len < 300; len++) {
        for (int variant = 0; variant < 6; variant++) {
            for (size_t i = 0; i < len; i++) {
                uint64_t r = rnd();
                switch (variant) {
                case 0: /* one long token */
                    buf[i] = "aB9"[r % 3];
                    break;
                case 1: /* alternating */
                    buf[i] = (i & 1) ? ' ' : 'x';
                    break;
                default: /* words */
                    buf[i] = (r % 7 == 0) ? " ,.\t"[(r >> 8) % 4] : "abcXYZ019"[(r >> 8) % 9];
                    break;
                }
            }
            compare_modes(buf, len);
            if (len > 0 && variant >= 2) { /* one é somewhere, then a byte 0x80 */
                size_t at = rnd() % len;
                char copy[400];
                memcpy(copy, buf, len);
                copy[at] = (char)0xC3;
                if (at + 1 < len)
                    copy[at + 1] = (char)0xA9;
                compare_modes(copy, len);
                copy[at] = (char)0x80;
                compare_modes(copy, len);
            }
        }
    }
}

/* Every random comparison again with each vector level forced. */
static void test_every_simd_level(void **state)
{
    static const char *levels[] = {"scalar", "avx2", "avx512"};
    for (size_t l = 0; l < sizeof levels / sizeof *levels; l++) {
        assert_int_equal(setenv("COPYDESK_SIMD", levels[l], 1), 0);
        cd__normaliser n;
        cd__normaliser_init(&n);
        print_message("normaliser level %d (cap %s)\n", n.simd, levels[l]);
        cd__normaliser_free(&n);
        test_fast_path_ascii_random(state);
        test_fast_path_mixed_random(state);
        test_random_bytes(state);
        test_fast_path_long(state);
        test_fast_path_blocks(state);
        test_fast_path_non_ascii_random(state);
    }
    unsetenv("COPYDESK_SIMD");
}

/* The public view of the same: cd_signer_tokens. */
static void test_signer_tokens(void **state)
{
    (void)state;
    cd_params p;
    cd_params_init(&p);
    p.bands = 16;
    p.rows = 8;
    cd_signer *s = NULL;
    assert_int_equal(cd_signer_create(&p, &s), CD_OK);
    const char *joined = NULL;
    size_t count = 99;
    const char *text = "\xE2\x80\x9C"
                       "Don\xE2\x80\x99t\xE2\x80\x9D \xE2\x80\x94 she said.";
    assert_int_equal(cd_signer_tokens(s, (cd_str){text, strlen(text)}, &joined, &count), CD_OK);
    assert_string_equal(joined, "don t she said");
    assert_int_equal(count, 4);
    assert_int_equal(cd_signer_tokens(s, (cd_str){NULL, 0}, &joined, &count), CD_OK);
    assert_string_equal(joined, "");
    assert_int_equal(count, 0);
    assert_int_equal(cd_signer_tokens(s, (cd_str){"...", 3}, &joined, &count), CD_OK);
    assert_string_equal(joined, "");
    assert_int_equal(count, 0);
    cd_signer_free(s);
    cd_signer_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ascii),
        cmocka_unit_test(test_nfkc),
        cmocka_unit_test(test_case_fold),
        cmocka_unit_test(test_composition),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_separators),
        cmocka_unit_test(test_scripts),
        cmocka_unit_test(test_matches_utf8proc),
        cmocka_unit_test(test_fast_path_ascii_random),
        cmocka_unit_test(test_fast_path_mixed_random),
        cmocka_unit_test(test_random_bytes),
        cmocka_unit_test(test_fast_path_long),
        cmocka_unit_test(test_context_free_rule),
        cmocka_unit_test(test_fast_path_non_ascii_random),
        cmocka_unit_test(test_fast_path_blocks),
        cmocka_unit_test(test_every_simd_level),
        cmocka_unit_test(test_signer_tokens),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
