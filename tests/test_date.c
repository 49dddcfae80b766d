/* test_date.c: cd_parse_date, ISO 8601 and RFC 2822 forms with exact epoch
 * values (cross-checked with GNU `date -u -d ... +%s` when written), range
 * checks, and text that must be refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "copydesk/copydesk.h"

static cd_str str(const char *s)
{
    return (cd_str){s, strlen(s)};
}

static const struct {
    const char *text;
    int64_t epoch;
} valid[] = {
    /* ISO 8601, extended */
    {"1987-02-26 15:01:01", 541350061},
    {"1970-01-01", 0},
    {"1970-01-01T00:00:00Z", 0},
    {"1969-12-31 23:59:59", -1},
    {"1969-12-31T23:59:59.999Z", -1}, /* the fraction is dropped (floor) */
    {"2026-11-27", 1795737600},
    {"2026-11-27T10:44:55Z", 1795776295},
    {"2026-11-27t10:44:55z", 1795776295},
    {"2026-11-27 10:44:55", 1795776295},
    {"2026-11-27T10:44:55.5+01:00", 1795772695},
    {"2026-11-27T10:44:55,123456789+01:00", 1795772695},
    {"2026-11-27T10:44:55+0100", 1795772695},
    {"2026-11-27T10:44:55+01", 1795772695},
    {"2026-11-27T10:44:55-05:30", 1795796095},
    {"2026-11-27T10:44:55-0530", 1795796095},
    {"2026-11-27T10:44:55-00:00", 1795776295},
    {"2026-11-27T10:44Z", 1795776240},
    {"2026-11-27T10:44", 1795776240},
    {"2026-11-27T23:59:60Z", 1795824000}, /* leap second = next minute */
    {"2026-11-27T24:00:00Z", 1795824000}, /* end of day */
    {"2026-11-27T24:00", 1795824000},
    {"2026-11-27T24:00:00.000", 1795824000},
    {"2024-02-29", 1709164800},
    {"2000-02-29", 951782400},
    {"2000-03-01", 951868800},
    {"1900-03-01", -2203891200},
    {"2016-12-31 23:59:59", 1483228799},
    {"0001-01-01", -62135596800},
    {"9999-12-31 23:59:59", 253402300799},
    {"2026-11-27T10:44:55+14:00", 1795725895},
    {"2026-11-27 10:44:55 UTC", 1795776295},
    {"2026-11-27 10:44:55 gmt", 1795776295},
    {"2026-11-27T10:44:55 Z", 1795776295},
    {"2026-11-27 10:44:55.123 +0100", 1795772695},
    {"2026-11-27 10:44:55 -05:30", 1795796095},
    {"  \t2026-11-27\r\n", 1795737600},
    /* ISO 8601, basic */
    {"20261127T104455Z", 1795776295},
    {"20261127T104455+0100", 1795772695},
    {"20261127T104455.25-05:30", 1795796095},
    {"20261127T1044", 1795776240},
    /* RFC 2822 */
    {"Fri, 27 Nov 2026 10:44:55 GMT", 1795776295},
    {"Fri, 27 Nov 2026 10:44:55 +0000", 1795776295},
    {"Fri, 27 Nov 2026 10:44:55 UT", 1795776295},
    {"Fri, 27 Nov 2026 10:44:55 Z", 1795776295},
    {"fri, 27 nov 2026 10:44:55 gmt", 1795776295},
    {"FRI,27 NOV 2026 10:44:55 GMT", 1795776295},
    {"Fri , 27 Nov 2026 10:44:55 GMT", 1795776295},
    {"27 Nov 2026 10:44:55 -0800", 1795805095},
    {"27 Nov 2026 10:44:55 PST", 1795805095},
    {"27 Nov 2026 10:44:55 PDT", 1795801495},
    {"27 Nov 2026 10:44:55 -0800 (PST)", 1795805095},
    {"27 Nov 2026 10:44:55 (no zone)", 1795776295},
    {"27 Nov 2026 10:44:55", 1795776295},
    {"Thu,  1 Jan 1999 00:00 EST", 915166800}, /* weekday not checked */
    {"1 Jan 1999 00:00 EST", 915166800},
    {"1 Jan 1999 00:00 EDT", 915163200},
    {"1 Jan 1999 00:00 CST", 915170400},
    {"1 Jan 1999 00:00 CDT", 915166800},
    {"1 Jan 1999 00:00 MST", 915174000},
    {"1 Jan 1999 00:00 MDT", 915170400},
    {"1 Jan 1999 00:00 A", 915148800},    /* military: +0000 */
    {"1 Jan 99 00:00 GMT", 915148800},    /* obsolete 2-digit year, >= 50 */
    {"1 Jan 49 00:00 GMT", 2493072000},   /* < 50: 2049 */
    {"1 Jan 999 00:00 GMT", 29316470400}, /* obsolete 3-digit year: 1900 + 999 */
    {"29 Feb 2024 12:00:00 +0000", 1709208000},
    {"Sat, 31 Dec 2016 23:59:60 +0000", 1483228800},
};

static void test_valid(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++) {
        int64_t got = 12345;
        int ok = cd_parse_date(str(valid[i].text), &got);
        if (!ok || got != valid[i].epoch) {
            print_error("\"%s\": ok=%d got %lld, expected %lld\n", valid[i].text, ok,
                        (long long)got, (long long)valid[i].epoch);
            fail();
        }
    }
}

static const char *const invalid[] = {
    "",
    "   ",
    "2023-02-29", /* not a leap year */
    "1900-02-29", /* century, not a leap year */
    "2026-13-01",
    "2026-00-10",
    "2026-11-00",
    "2026-11-31",
    "2026-04-31",
    "0000-01-01", /* years 1..9999 */
    "2026-11-27T25:00:00Z",
    "2026-11-27T24:00:01Z",
    "2026-11-27T24:30Z",
    "2026-11-27T24:00:00.5Z",
    "2026-11-27T10:60:00Z",
    "2026-11-27T10:44:61Z",
    "2026-11-27T10:44:55+24:00",
    "2026-11-27T10:44:55+01:60",
    "2026-11-27T10:44:55+1",
    "2026-11-27T10:44:55+01:0",
    "2026-11-27T10:44:55  Z",  /* one space at most before the zone */
    "2026-11-27T10:44:55 EST", /* named zones are RFC 2822 only */
    "2026-11-27T10:44:55 UTCX",
    "2026-11-27T10:44:55UTC",
    "2026-11-27 UTC",
    "2026-11-27T10:44:55ZZ",
    "2026-11-27T10:44:55.", /* empty fraction */
    "2026-11-27T10:44.5",   /* fraction of a minute */
    "2026-11-27T10",
    "2026-11-27T",
    "2026-11-27 ", /* trimmed: fine */
    "2026-11-27X10:44:55",
    "2026-11-27garbage",
    "2026-1-27",
    "2026/11/27",
    "26-11-27",
    "20261127",          /* basic date without time: refused */
    "20261127T10:44:55", /* basic date, extended time */
    "2026-11-27T104455", /* extended date, basic time */
    "+2026-11-27",
    "12026-11-27",
    "26-FEB-1987 15:01:01.79", /* Reuters SGML layout: not supported */
    "02/26/1987",
    "1795776295",
    "Fri, 27 Nov 2026", /* RFC 2822 needs a time */
    "Fri, 27 Nov 2026 10:44:55 XYZ",
    "Fri, 27 Nov 2026 10:44:55 J",
    "Fri, 27 Nov 2026 10:44:55 +01",
    "Fri, 27 Nov 2026 10:44:55 +2400",
    "Fri, 27 Nov 2026 10:44:55 GMT extra",
    "Fri, 27 Nov 2026 10:44:55 GMT (unclosed",
    "Fri, 27 Nov 2026 10:44:55GMT",
    "Fri 27 Nov 2026 10:44:55 GMT", /* weekday without its comma */
    "Fry, 27 Nov 2026 10:44:55 GMT",
    "Fri, 27 Nox 2026 10:44:55 GMT",
    "Fri, 27 November 2026 10:44:55 GMT",
    "Fri, 127 Nov 2026 10:44:55 GMT",
    "Fri, 31 Nov 2026 10:44:55 GMT",
    "Fri, 27 Nov 20266 10:44:55 GMT",
    "Fri, 27 Nov 2 10:44:55 GMT",
    "Fri, 27 Nov 2026 24:00:00 GMT",
    "Fri, 27 Nov 2026 10:4:55 GMT",
    "Fri, 27 Nov 2026 10:44: GMT",
    "Fri, 27Nov 2026 10:44:55 GMT",
    ", 27 Nov 2026 10:44:55 GMT",
    "29 Feb 2023 12:00:00 +0000",
};

static void test_invalid(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++) {
        int64_t got = 777;
        int ok = cd_parse_date(str(invalid[i]), &got);
        int expect_ok = strcmp(invalid[i], "2026-11-27 ") == 0;
        if (ok != expect_ok) {
            print_error("\"%s\": ok=%d, expected %d\n", invalid[i], ok, expect_ok);
            fail();
        }
        if (!ok)
            assert_int_equal(got, 777); /* untouched on failure */
    }
}

static void test_edges(void **state)
{
    (void)state;
    int64_t t;
    /* Not NUL-terminated: only len bytes count. */
    const char buf[] = "2026-11-27T10:44:55Zjunk";
    assert_int_equal(cd_parse_date((cd_str){buf, 20}, &t), 1);
    assert_int_equal(t, 1795776295);
    assert_int_equal(cd_parse_date((cd_str){buf, 10}, &t), 1);
    assert_int_equal(t, 1795737600);
    assert_int_equal(cd_parse_date((cd_str){buf, 9}, &t), 0);
    assert_int_equal(cd_parse_date((cd_str){buf, 24}, &t), 0);
    /* Embedded NUL */
    assert_int_equal(cd_parse_date((cd_str){"2026-11-27\0", 11}, &t), 0);
    /* NULL string, NULL output */
    assert_int_equal(cd_parse_date((cd_str){NULL, 0}, &t), 0);
    assert_int_equal(cd_parse_date(str("2026-11-27"), NULL), 1);

    /* Every day from 1970 to 2100 round-trips against a day counter, and
     * the RFC 2822 and ISO forms agree. */
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    int64_t day = 0;
    for (int y = 1970; y <= 2100; y++) {
        for (int m = 1; m <= 12; m++) {
            static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
            int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
            int days = dim[m - 1] + (m == 2 && leap);
            for (int d = 1; d <= days; d++, day++) {
                char iso[64], rfc[64];
                snprintf(iso, sizeof iso, "%04d-%02d-%02dT12:34:56Z", y, m, d);
                snprintf(rfc, sizeof rfc, "%d %s %d 12:34:56 +0000", d, months[m - 1], y);
                int64_t a = 0, b = 0;
                assert_int_equal(cd_parse_date(str(iso), &a), 1);
                assert_int_equal(cd_parse_date(str(rfc), &b), 1);
                assert_int_equal(a, day * 86400 + 12 * 3600 + 34 * 60 + 56);
                assert_int_equal(b, a);
            }
            char bad[64];
            snprintf(bad, sizeof bad, "%04d-%02d-%02d", y, m, days + 1);
            assert_int_equal(cd_parse_date(str(bad), &t), 0);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
