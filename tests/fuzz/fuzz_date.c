/* fuzz_date.c: fuzz target for the date parser (cd_parse_date), which reads
 * the untrusted date field of every document for the `earliest` keep rule.
 * Oracle: an accepted date lies in years 1..9999 (give or take a zone and
 * the end of day), and printing it back as ISO 8601 UTC parses to the same
 * second. */
#include <inttypes.h>

#include "copydesk/copydesk.h"
#include "fuzz.h"

/* Howard Hinnant's civil_from_days: the date of day z since 1970-01-01. */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const int64_t doe = z - era * 146097;
    const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const int64_t mp = (5 * doy + 2) / 153;
    *d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    *m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int64_t t = 0;
    if (!cd_parse_date((cd_str){(const char *)data, size}, &t))
        return 0;
    /* 0001-01-01T00:00 - 24h .. 9999-12-31T24:00 + 24h */
    const int64_t lo = -62135596800 - 86400, hi = 253402300800 + 86400;
    FUZZ_CHECK(t >= lo && t <= hi);

    int64_t days = floor_div(t, 86400), secs = t - days * 86400;
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    if (y < 1 || y > 9999)
        return 0; /* the zone moved it out of the printable range */
    char iso[64];
    snprintf(iso, sizeof iso, "%04" PRId64 "-%02u-%02uT%02u:%02u:%02uZ", y, m, d,
             (unsigned)(secs / 3600), (unsigned)(secs / 60 % 60), (unsigned)(secs % 60));
    int64_t again = 0;
    FUZZ_CHECK(cd_parse_date((cd_str){iso, strlen(iso)}, &again));
    FUZZ_CHECK(again == t);
    /* Surrounding whitespace is ignored. */
    char padded[80];
    int n = snprintf(padded, sizeof padded, " \t%s\r\n", iso);
    FUZZ_CHECK(cd_parse_date((cd_str){padded, (size_t)n}, &again) && again == t);
    return 0;
}
