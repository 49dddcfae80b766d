/* read_json.c: the reader's fast path for JSON (see read_json.h), under
 * read.c in the read stage. A validating scanner for the subset of JSON that
 * news dumps are made of, matching cJSON 1.7's results on that subset; it
 * copies only strings that hold escapes. Every construct it is unsure of
 * makes it decline, so cJSON has the last word on anything unusual. */
#include "read_json.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "alloc.h"
#include "utf8.h"

/* Deeper nesting is left to cJSON (whose limit and message apply). */
#define MAX_DEPTH 64

void cd__json_scanner_free(cd__json_scanner *s)
{
    cd__free(s->buf);
    s->buf = NULL;
    s->cap = 0;
}

typedef struct cursor {
    const unsigned char *p, *end;
    char *out; /* next free byte of the scanner's buffer */
} cursor;

/* The kinds of value a field can have. */
enum { ABSENT, STRING, NUMBER, OTHER };

/* The first '"', '\\' or NUL byte in [p, end), or end. */
static inline const unsigned char *find_special(const unsigned char *p, const unsigned char *end)
{
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\'),
                  zero = _mm_setzero_si128();
    while (end - p >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)p);
        __m128i hit =
            _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
                         _mm_cmpeq_epi8(v, zero));
        int mask = _mm_movemask_epi8(hit);
        if (mask)
            return p + __builtin_ctz((unsigned)mask);
        p += 16;
    }
#endif
    while (p < end && *p != '"' && *p != '\\' && *p != 0)
        p++;
    return p;
}

static inline void skip_space(cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\r' || *c->p == '\n'))
        c->p++;
}

/* Four hex digits, or -1 (cJSON reads a bad digit as the code point 0,
 * which becomes a NUL: declined either way). */
static long hex4(const unsigned char *h)
{
    long v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned char d = h[i];
        v <<= 4;
        if (d >= '0' && d <= '9')
            v |= d - '0';
        else if (d >= 'a' && d <= 'f')
            v |= d - 'a' + 10;
        else if (d >= 'A' && d <= 'F')
            v |= d - 'A' + 10;
        else
            return -1;
    }
    return v;
}

/* Copies the bytes from p up to the first '"', '\\' or NUL to o, 16 at a time
 * (o has 16 bytes of slack); returns that byte's position, or end, and
 * advances *o past the copy. */
static inline const unsigned char *copy_plain(const unsigned char *p, const unsigned char *end,
                                              char **o)
{
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\'),
                  zero = _mm_setzero_si128();
    char *out = *o;
    while (end - p >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)p);
        _mm_storeu_si128((__m128i *)out, v);
        __m128i hit =
            _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
                         _mm_cmpeq_epi8(v, zero));
        int mask = _mm_movemask_epi8(hit);
        if (mask) {
            unsigned k = (unsigned)__builtin_ctz((unsigned)mask);
            *o = out + k;
            return p + k;
        }
        p += 16;
        out += 16;
    }
    *o = out;
#endif
    const unsigned char *q = find_special(p, end);
    memcpy(*o, p, (size_t)(q - p));
    *o += q - p;
    return q;
}

/* A string at c->p (its opening quote), unescaped as cJSON does. *value is
 * its text: when capture is set, a NUL-terminated copy in the scanner's
 * buffer (as cJSON's strings are); else, when it has no escapes, in the line.
 * Returns 0 to decline. */
static int scan_string(cursor *c, cd_str *value, int capture)
{
    const unsigned char *p = c->p + 1, *end = c->end;
    if (!capture) {
        const unsigned char *q = find_special(p, end);
        if (q == end || *q == 0)
            return 0;
        if (*q == '"') {
            *value = (cd_str){(const char *)p, (size_t)(q - p)};
            c->p = q + 1;
            return 1;
        }
    }
    char *o = c->out, *first = o;
    for (;;) {
        p = copy_plain(p, end, &o);
        if (p == end || *p == 0)
            return 0;
        if (*p == '"')
            break;
        if (end - p < 2)
            return 0;
        /* an escape */
        switch (p[1]) {
        case 'b':
            *o++ = '\b';
            p += 2;
            break;
        case 'f':
            *o++ = '\f';
            p += 2;
            break;
        case 'n':
            *o++ = '\n';
            p += 2;
            break;
        case 'r':
            *o++ = '\r';
            p += 2;
            break;
        case 't':
            *o++ = '\t';
            p += 2;
            break;
        case '"':
        case '\\':
        case '/':
            *o++ = (char)p[1];
            p += 2;
            break;
        case 'u': {
            if (end - p < 6)
                return 0;
            long cp = hex4(p + 2);
            if (cp <= 0 || (cp >= 0xDC00 && cp <= 0xDFFF))
                return 0; /* NUL, bad digits or a lone low surrogate */
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (end - p < 12 || p[6] != '\\' || p[7] != 'u')
                    return 0;
                long low = hex4(p + 8);
                if (low < 0xDC00 || low > 0xDFFF)
                    return 0;
                cp = 0x10000 + (((cp & 0x3FF) << 10) | (low & 0x3FF));
                p += 12;
            } else {
                p += 6;
            }
            o += utf8_encode((unsigned)cp, o);
            break;
        }
        default:
            return 0;
        }
    }
    *value = (cd_str){first, (size_t)(o - first)};
    if (capture)
        *o++ = '\0';
    c->out = o;
    c->p = p + 1;
    return 1;
}

/* A number in strict JSON form, at most 63 characters (cJSON reads only that
 * many); *number receives its value when number is not NULL. */
static int scan_number(cursor *c, double *number)
{
    const unsigned char *p = c->p, *end = c->end, *start = p;
    if (p < end && *p == '-')
        p++;
    if (p == end || *p < '0' || *p > '9')
        return 0;
    if (*p == '0')
        p++;
    else
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    if (p < end && *p == '.') {
        p++;
        if (p == end || *p < '0' || *p > '9')
            return 0;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p == end || *p < '0' || *p > '9')
            return 0;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    /* cJSON would go on reading digits, signs, 'e' and '.' */
    if (p - start > 63 || (p < end && ((*p >= '0' && *p <= '9') || *p == '+' || *p == '-' ||
                                       *p == 'e' || *p == 'E' || *p == '.')))
        return 0;
    if (number) {
        char copy[64];
        memcpy(copy, start, (size_t)(p - start));
        copy[p - start] = '\0';
        *number = strtod(copy, NULL);
    }
    c->p = p;
    return 1;
}

static int scan_literal(cursor *c, const char *word, size_t n)
{
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0)
        return 0;
    c->p += n;
    return 1;
}

static int scan_value(cursor *c, int depth, int *kind, cd_str *string, int capture, double *number);

/* An object or array at c->p, its contents skipped. */
static int scan_container(cursor *c, int depth)
{
    if (depth >= MAX_DEPTH)
        return 0;
    unsigned char close = *c->p == '{' ? '}' : ']';
    c->p++;
    skip_space(c);
    if (c->p < c->end && *c->p == close) {
        c->p++;
        return 1;
    }
    for (;;) {
        int kind;
        cd_str ignored;
        if (close == '}') {
            if (c->p == c->end || *c->p != '"' || !scan_string(c, &ignored, 0))
                return 0;
            skip_space(c);
            if (c->p == c->end || *c->p != ':')
                return 0;
            c->p++;
            skip_space(c);
        }
        if (!scan_value(c, depth + 1, &kind, &ignored, 0, NULL))
            return 0;
        skip_space(c);
        if (c->p == c->end)
            return 0;
        if (*c->p == ',') {
            c->p++;
            skip_space(c);
            continue;
        }
        if (*c->p != close)
            return 0;
        c->p++;
        return 1;
    }
}

static int scan_value(cursor *c, int depth, int *kind, cd_str *string, int capture, double *number)
{
    if (c->p == c->end)
        return 0;
    switch (*c->p) {
    case '"':
        *kind = STRING;
        return scan_string(c, string, capture);
    case '{':
    case '[':
        *kind = OTHER;
        return scan_container(c, depth);
    case 't':
        *kind = OTHER;
        return scan_literal(c, "true", 4);
    case 'f':
        *kind = OTHER;
        return scan_literal(c, "false", 5);
    case 'n':
        *kind = OTHER;
        return scan_literal(c, "null", 4);
    default:
        *kind = NUMBER;
        return scan_number(c, number);
    }
}

int cd__json_scan(cd__json_scanner *s, const char *line, size_t len,
                  const char *const names[CD__JSON_FIELDS], cd__json_fields *out)
{
    /* the strings, unescaped or copied, are never longer than the line; the
     * fields' NULs and the 16 bytes a block copy may overrun are the extra */
    if (len > SIZE_MAX - CD__JSON_FIELDS - 17 ||
        cd__grow((void **)&s->buf, &s->cap, len + CD__JSON_FIELDS + 17, 1) != 0)
        return -1;
    size_t name_len[CD__JSON_FIELDS];
    for (int f = 0; f < CD__JSON_FIELDS; f++)
        name_len[f] = names[f] ? strlen(names[f]) : 0;
    int kind[CD__JSON_FIELDS] = {ABSENT, ABSENT, ABSENT, ABSENT, ABSENT, ABSENT};
    memset(out, 0, sizeof *out);

    cursor c = {(const unsigned char *)line, (const unsigned char *)line + len, s->buf};
    while (c.p < c.end && (*c.p == ' ' || *c.p == '\t' || *c.p == '\r'))
        c.p++;
    if (c.p == c.end || *c.p != '{')
        return 0;
    c.p++;
    skip_space(&c);
    if (c.p < c.end && *c.p == '}') {
        c.p++;
    } else {
        for (;;) {
            cd_str key;
            if (c.p == c.end || *c.p != '"' || !scan_string(&c, &key, 0))
                return 0;
            if (key.ptr < line || key.ptr >= line + len)
                return 0; /* an escaped key: leave the comparison to cJSON */
            skip_space(&c);
            if (c.p == c.end || *c.p != ':')
                return 0;
            c.p++;
            skip_space(&c);
            int field = -1;
            for (int f = 0; f < CD__JSON_FIELDS; f++)
                if (names[f] && kind[f] == ABSENT && name_len[f] == key.len &&
                    memcmp(names[f], key.ptr, key.len) == 0) {
                    field = f;
                    break;
                }
            int k;
            cd_str value = {NULL, 0};
            double number = 0;
            if (!scan_value(&c, 1, &k, &value, field >= 0, field == CD__JSON_ID ? &number : NULL))
                return 0;
            /* the first occurrence of a key is the one cJSON finds, for every
             * field of that name (--id-field text gives the text twice) */
            for (int f = field; f >= 0 && f < CD__JSON_FIELDS; f++) {
                if (f != field && !(names[f] && kind[f] == ABSENT && name_len[f] == key.len &&
                                    memcmp(names[f], key.ptr, key.len) == 0))
                    continue;
                kind[f] = k;
                if (k == STRING)
                    out->value[f] = value;
                if (f == CD__JSON_ID && k == NUMBER) {
                    out->id_is_number = 1;
                    out->id_number = number;
                }
            }
            skip_space(&c);
            if (c.p == c.end)
                return 0;
            if (*c.p == ',') {
                c.p++;
                skip_space(&c);
                continue;
            }
            if (*c.p != '}')
                return 0;
            c.p++;
            break;
        }
    }
    /* after the object, what the reader allows */
    for (; c.p < c.end; c.p++)
        if (*c.p != ' ' && *c.p != '\t' && *c.p != '\r')
            return 0;
    /* the fields the reader would reject: cJSON's path says why */
    if (kind[CD__JSON_TEXT] != STRING)
        return 0;
    if (kind[CD__JSON_ID] == OTHER)
        return 0;
    /* a key that cJSON compares as a C string: a NUL in it was declined */
    return 1;
}
