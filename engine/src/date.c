/* date.c: parses the date field of a document (ISO 8601 or RFC 2822) into
 * epoch seconds for the `earliest` keep rule. No allocation, no locale, no
 * time zone database, no timegm: days are counted with Howard Hinnant's
 * days_from_civil over the proleptic Gregorian calendar, years 1..9999.
 *
 * Accepted (surrounding ASCII whitespace is ignored; anything else fails):
 *
 * ISO 8601 / RFC 3339
 *   YYYY-MM-DD                                    midnight UTC
 *   YYYY-MM-DD(T|t| )HH:MM[:SS[(.|,)fraction]][zone]
 *   YYYYMMDD(T|t)HHMM[SS[(.|,)fraction]][zone]    basic format
 *   zone: Z | z | ±HH:MM | ±HHMM | ±HH (hours 0..23, minutes 0..59), or
 *   one space then one of those or UTC / GMT ("2026-11-27 10:44:55 UTC",
 *   "2026-11-27 10:44:55 +0000", as many databases print them);
 *   no zone means UTC (local time is not knowable here). The fraction is
 *   dropped (the result is the whole second at or before the instant).
 *   24:00[:00[.0...]] is the end of the day (= next day 00:00).
 *
 * RFC 2822 (and its obsolete forms, section 4.3)
 *   [Day ","] D Mon YYYY HH:MM[:SS] [zone] [(comment)]
 *   Day and Mon are English three-letter names, any case; the weekday is
 *   not checked against the date (feeds get it wrong often). D is 1 or 2
 *   digits. A 2-digit year is 2000+YY below 50 and 1900+YY otherwise; a
 *   3-digit year is 1900+YYY. zone: ±HHMM, UT, GMT, Z, EST/EDT, CST/CDT,
 *   MST/MDT, PST/PDT; the other single-letter military zones count as
 *   +0000, as RFC 2822 advises (their sign was historically reversed).
 *   A missing zone means UTC. One trailing parenthesised comment, as in
 *   "-0800 (PST)", is skipped.
 *
 * Ranges: month 1..12, day within the month (leap years per Gregorian
 * rules), hour 0..23 (or 24:00:00), minute 0..59, second 0..60 (a leap
 * second counts as the first second of the next minute).
 * Not accepted: other layouts such as "26-FEB-1987 15:01:01.79" (Reuters
 * SGML), "02/26/1987", week or ordinal dates, bare numbers. */
#include <stddef.h>
#include <stdint.h>

#include "copydesk/copydesk.h"

/* A cursor over the text being parsed. */
typedef struct scan {
    const char *p, *end;
} scan;

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Reads exactly count digits. */
static int digits(scan *s, int count, int *out)
{
    if (s->end - s->p < count)
        return 0;
    int v = 0;
    for (int i = 0; i < count; i++) {
        if (!is_digit(s->p[i]))
            return 0;
        v = v * 10 + (s->p[i] - '0');
    }
    s->p += count;
    *out = v;
    return 1;
}

/* Reads min..max digits (as many as there are); *count receives how many. */
static int digit_run(scan *s, int min, int max, int *out, int *count)
{
    int n = 0, v = 0;
    while (n < max && s->p + n < s->end && is_digit(s->p[n])) {
        v = v * 10 + (s->p[n] - '0');
        n++;
    }
    if (n < min || (s->p + n < s->end && is_digit(s->p[n])))
        return 0;
    s->p += n;
    *out = v;
    *count = n;
    return 1;
}

static int accept(scan *s, char c)
{
    if (s->p < s->end && *s->p == c) {
        s->p++;
        return 1;
    }
    return 0;
}

/* Skips one or more spaces or tabs; 0 if there is none. */
static int spaces(scan *s)
{
    const char *start = s->p;
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t'))
        s->p++;
    return s->p > start;
}

static int at_end(const scan *s)
{
    return s->p == s->end;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
 * (Howard Hinnant, "chrono-Compatible Low-Level Date Algorithms"). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const int64_t yoe = y - era * 400;                                   /* [0, 399] */
    const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* [0, 365] */
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* [0, 146096] */
    return era * 146097 + doe - 719468;
}

static int is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* A parsed date and time; offset in seconds east of UTC. */
typedef struct civil {
    int year, month, day, hour, minute, second, offset;
} civil;

static int civil_to_epoch(const civil *c, int64_t *out)
{
    if (c->year < 1 || c->year > 9999 || c->month < 1 || c->month > 12 || c->day < 1 ||
        c->day > days_in_month(c->year, c->month))
        return 0;
    if (c->hour == 24) {
        if (c->minute != 0 || c->second != 0)
            return 0;
    } else if (c->hour > 23 || c->minute > 59 || c->second > 60) {
        return 0;
    }
    int64_t days = days_from_civil(c->year, c->month, c->day);
    *out = days * 86400 + c->hour * 3600 + c->minute * 60 + c->second - c->offset;
    return 1;
}

/* ------------------------------------------------------------ ISO 8601 */

/* Z, ±HH:MM, ±HHMM, ±HH, or nothing (UTC); or one space and then Z,
 * ±HH:MM, ±HHMM, ±HH, UTC or GMT. Must reach the end. */
static int iso_zone(scan *s, int *offset)
{
    *offset = 0;
    if (at_end(s))
        return 1;
    if (accept(s, ' ')) {
        if (s->end - s->p == 3) {
            char a = lower(s->p[0]), b = lower(s->p[1]), c = lower(s->p[2]);
            return (a == 'u' && b == 't' && c == 'c') || (a == 'g' && b == 'm' && c == 't');
        }
        if (at_end(s) || *s->p == ' ')
            return 0;
    }
    if (accept(s, 'Z') || accept(s, 'z'))
        return at_end(s);
    int sign = accept(s, '+') ? 1 : accept(s, '-') ? -1 : 0;
    int hh, mm = 0;
    if (!sign || !digits(s, 2, &hh))
        return 0;
    if (accept(s, ':')) {
        if (!digits(s, 2, &mm))
            return 0;
    } else if (!at_end(s) && !digits(s, 2, &mm)) {
        return 0;
    }
    if (hh > 23 || mm > 59 || !at_end(s))
        return 0;
    *offset = sign * (hh * 3600 + mm * 60);
    return 1;
}

/* HH:MM[:SS[.frac]] (extended) or HHMM[SS[.frac]] (basic), then a zone. */
static int iso_time(scan *s, int basic, civil *c, int *fraction_nonzero)
{
    *fraction_nonzero = 0;
    if (!digits(s, 2, &c->hour))
        return 0;
    if (!basic && !accept(s, ':'))
        return 0;
    if (!digits(s, 2, &c->minute))
        return 0;
    int have_seconds = basic ? digits(s, 2, &c->second) : accept(s, ':');
    if (!basic && have_seconds && !digits(s, 2, &c->second))
        return 0;
    if (have_seconds && (accept(s, '.') || accept(s, ','))) {
        int any = 0;
        while (s->p < s->end && is_digit(*s->p)) {
            *fraction_nonzero |= *s->p != '0';
            s->p++;
            any = 1;
        }
        if (!any)
            return 0;
    }
    return iso_zone(s, &c->offset);
}

static int parse_iso(scan s, int64_t *out)
{
    civil c = {0};
    int basic;
    if (!digits(&s, 4, &c.year))
        return 0;
    if (accept(&s, '-')) {
        basic = 0;
        if (!digits(&s, 2, &c.month) || !accept(&s, '-') || !digits(&s, 2, &c.day))
            return 0;
        if (at_end(&s))
            return civil_to_epoch(&c, out);
        if (!accept(&s, 'T') && !accept(&s, 't') && !accept(&s, ' '))
            return 0;
    } else {
        basic = 1;
        if (!digits(&s, 2, &c.month) || !digits(&s, 2, &c.day))
            return 0;
        if (!accept(&s, 'T') && !accept(&s, 't'))
            return 0;
    }
    int fraction_nonzero;
    if (!iso_time(&s, basic, &c, &fraction_nonzero))
        return 0;
    if (c.hour == 24 && fraction_nonzero)
        return 0;
    return civil_to_epoch(&c, out);
}

/* ------------------------------------------------------------ RFC 2822 */

/* Matches a case-insensitive three-letter name from list; returns its
 * index + 1, or 0. */
static int name3(scan *s, const char *const *list, int count)
{
    if (s->end - s->p < 3)
        return 0;
    for (int i = 0; i < count; i++) {
        const char *w = list[i];
        if (lower(s->p[0]) == w[0] && lower(s->p[1]) == w[1] && lower(s->p[2]) == w[2]) {
            s->p += 3;
            return i + 1;
        }
    }
    return 0;
}

/* The zone names of RFC 2822 section 4.3, offsets in hours. */
typedef struct named_zone {
    const char *name;
    int hours;
} named_zone;

static int rfc_zone(scan *s, int *offset)
{
    static const named_zone zones[] = {
        {"ut", 0},   {"gmt", 0},  {"est", -5}, {"edt", -4}, {"cst", -6},
        {"cdt", -5}, {"mst", -7}, {"mdt", -6}, {"pst", -8}, {"pdt", -7},
    };
    *offset = 0;
    if (s->p < s->end && (*s->p == '+' || *s->p == '-')) {
        int sign = *s->p == '+' ? 1 : -1;
        int hh, mm;
        s->p++;
        if (!digits(s, 2, &hh) || !digits(s, 2, &mm) || hh > 23 || mm > 59)
            return 0;
        *offset = sign * (hh * 3600 + mm * 60);
        return 1;
    }
    const char *start = s->p;
    while (s->p < s->end && lower(*s->p) >= 'a' && lower(*s->p) <= 'z')
        s->p++;
    size_t len = (size_t)(s->p - start);
    for (size_t i = 0; i < sizeof zones / sizeof zones[0]; i++) {
        const char *name = zones[i].name;
        size_t k = 0;
        while (k < len && name[k] && lower(start[k]) == name[k])
            k++;
        if (k == len && name[k] == '\0') {
            *offset = zones[i].hours * 3600;
            return 1;
        }
    }
    /* Military zones: any single letter but J, taken as +0000. */
    return len == 1 && lower(start[0]) != 'j';
}

static int parse_rfc2822(scan s, int64_t *out)
{
    static const char *const day_names[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
    static const char *const month_names[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                              "jul", "aug", "sep", "oct", "nov", "dec"};
    civil c = {0};
    int n;

    if (s.p < s.end && !is_digit(*s.p)) {
        if (!name3(&s, day_names, 7))
            return 0;
        spaces(&s);
        if (!accept(&s, ','))
            return 0;
        spaces(&s);
    }
    if (!digit_run(&s, 1, 2, &c.day, &n) || !spaces(&s))
        return 0;
    if (!(c.month = name3(&s, month_names, 12)) || !spaces(&s))
        return 0;
    if (!digit_run(&s, 2, 4, &c.year, &n) || !spaces(&s))
        return 0;
    if (n == 2)
        c.year += c.year < 50 ? 2000 : 1900;
    else if (n == 3)
        c.year += 1900;
    if (!digits(&s, 2, &c.hour) || !accept(&s, ':') || !digits(&s, 2, &c.minute))
        return 0;
    if (accept(&s, ':') && !digits(&s, 2, &c.second))
        return 0;
    if (c.hour == 24) /* no end-of-day form in RFC 2822 */
        return 0;
    if (spaces(&s) && !at_end(&s) && *s.p != '(') {
        if (!rfc_zone(&s, &c.offset))
            return 0;
        spaces(&s);
    }
    if (accept(&s, '(')) {
        while (s.p < s.end && *s.p != '(' && *s.p != ')')
            s.p++;
        if (!accept(&s, ')'))
            return 0;
    }
    if (!at_end(&s))
        return 0;
    return civil_to_epoch(&c, out);
}

/* ---------------------------------------------------------------- entry */

int cd_parse_date(cd_str text, int64_t *epoch_seconds)
{
    if (!text.ptr || text.len == 0)
        return 0;
    scan s = {text.ptr, text.ptr + text.len};
    while (s.p < s.end && is_space(*s.p))
        s.p++;
    while (s.end > s.p && is_space(s.end[-1]))
        s.end--;
    if (s.p == s.end)
        return 0;

    int64_t value;
    /* Four digits then '-' or four digits and 'T' is ISO; else RFC 2822. */
    int ok = (s.end - s.p >= 5 && is_digit(s.p[0]) && is_digit(s.p[1]) && is_digit(s.p[2]) &&
              is_digit(s.p[3]))
                 ? parse_iso(s, &value)
                 : parse_rfc2822(s, &value);
    if (!ok)
        return 0;
    if (epoch_seconds)
        *epoch_seconds = value;
    return 1;
}
