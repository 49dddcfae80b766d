/* synth_util.c: the small machinery under copydesk-synth: fatal errors,
 * checked allocation, PRNG streams, sampling (alias tables, normal, Poisson),
 * growable buffers with JSON escaping, and UTC dates without the C library's
 * time zone state. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "synth.h"

void synth_die(int code, const char *format, ...)
{
    va_list ap;
    fflush(stdout);
    fputs("copydesk-synth: ", stderr);
    va_start(ap, format);
    vfprintf(stderr, format, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(code);
}

void *synth_xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (!p)
        synth_die(SYNTH_EXIT_IO, "out of memory (%zu bytes)", size);
    return p;
}

void *synth_xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p)
        synth_die(SYNTH_EXIT_IO, "out of memory (%zu x %zu bytes)", count, size);
    return p;
}

void *synth_xrealloc(void *ptr, size_t size)
{
    void *p = realloc(ptr, size ? size : 1);
    if (!p)
        synth_die(SYNTH_EXIT_IO, "out of memory (%zu bytes)", size);
    return p;
}

/* ------------------------------------------------------------------ PRNG */

uint64_t synth_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

uint64_t synth_derive(uint64_t seed, uint64_t tag, uint64_t index)
{
    uint64_t state = seed;
    uint64_t a = synth_splitmix64(&state);
    state = a ^ (tag * 0xD1B54A32D192ED03ull);
    uint64_t b = synth_splitmix64(&state);
    state = b ^ (index * 0xAEF17502108EF2D9ull);
    return synth_splitmix64(&state);
}

void synth_rng_seed(synth_rng *rng, uint64_t seed)
{
    uint64_t state = seed;
    for (int i = 0; i < 4; i++)
        rng->s[i] = synth_splitmix64(&state);
}

double synth_normal(synth_rng *rng)
{
    double u = 1.0 - synth_unit(rng); /* (0, 1] */
    double v = synth_unit(rng);
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

uint32_t synth_poisson(synth_rng *rng, double mean)
{
    double limit = exp(-mean), product = synth_unit(rng);
    uint32_t k = 0;
    while (product > limit && k < 32) {
        product *= synth_unit(rng);
        k++;
    }
    return k;
}

void synth_alias_build(synth_alias *alias, const double *weights, uint32_t n)
{
    double total = 0;
    for (uint32_t i = 0; i < n; i++)
        total += weights[i];
    alias->n = n;
    alias->entry = synth_xmalloc(sizeof *alias->entry * (n ? n : 1));
    double *scaled = synth_xmalloc(sizeof *scaled * n);
    uint32_t *small = synth_xmalloc(sizeof *small * n);
    uint32_t *large = synth_xmalloc(sizeof *large * n);
    uint32_t n_small = 0, n_large = 0;
    for (uint32_t i = 0; i < n; i++) {
        scaled[i] = total > 0 ? weights[i] * n / total : 1.0;
        if (scaled[i] < 1.0)
            small[n_small++] = i;
        else
            large[n_large++] = i;
    }
    while (n_small && n_large) {
        uint32_t s = small[--n_small], l = large[n_large - 1];
        double t = scaled[s] * 4294967296.0;
        alias->entry[s].threshold = t >= 4294967295.0 ? UINT32_MAX : (uint32_t)t;
        alias->entry[s].alias = l;
        scaled[l] = (scaled[l] + scaled[s]) - 1.0;
        if (scaled[l] < 1.0) {
            n_large--;
            small[n_small++] = l;
        }
    }
    while (n_large) {
        uint32_t l = large[--n_large];
        alias->entry[l].threshold = UINT32_MAX;
        alias->entry[l].alias = l;
    }
    uint32_t heaviest = 0;
    for (uint32_t i = 1; i < n; i++)
        if (weights[i] > weights[heaviest])
            heaviest = i;
    while (n_small) { /* rounding leftovers: scaled is 1 up to rounding, or 0 */
        uint32_t s = small[--n_small];
        alias->entry[s].threshold = weights[s] > 0 ? UINT32_MAX : 0;
        alias->entry[s].alias = weights[s] > 0 ? s : heaviest;
    }
    free(scaled);
    free(small);
    free(large);
}

void synth_alias_free(synth_alias *alias)
{
    free(alias->entry);
    alias->entry = NULL;
    alias->n = 0;
}

/* --------------------------------------------------------------- buffers */

void synth_buf_grow(synth_buf *buf, size_t extra)
{
    size_t need = buf->len + extra;
    if (need <= buf->cap)
        return;
    size_t cap = buf->cap ? buf->cap : 256;
    while (cap < need)
        cap *= 2;
    buf->ptr = synth_xrealloc(buf->ptr, cap);
    buf->cap = cap;
}

void synth_buf_free(synth_buf *buf)
{
    free(buf->ptr);
    buf->ptr = NULL;
    buf->len = buf->cap = 0;
}

void synth_buf_printf(synth_buf *buf, const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    int n = vsnprintf(buf->ptr ? buf->ptr + buf->len : NULL, buf->cap - buf->len, format, ap);
    va_end(ap);
    if (n < 0)
        synth_die(SYNTH_EXIT_IO, "formatting failed");
    if ((size_t)n >= buf->cap - buf->len) {
        synth_buf_grow(buf, (size_t)n + 1);
        va_start(ap, format);
        vsnprintf(buf->ptr + buf->len, buf->cap - buf->len, format, ap);
        va_end(ap);
    }
    buf->len += (size_t)n;
}

/* 1 for bytes that need escaping in a JSON string. */
static const unsigned char json_special[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
};

void synth_buf_json_string(synth_buf *buf, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    synth_buf_grow(buf, len + 2);
    buf->ptr[buf->len++] = '"';
    size_t i = 0;
    while (i < len) {
        size_t run = i;
        while (run + 8 <= len) {
            uint64_t x = synth_load64(s + run);
            if (synth_has_below(x, 0x20) | synth_has_byte(x, '"') | synth_has_byte(x, '\\'))
                break;
            run += 8;
        }
        while (run < len && !json_special[(unsigned char)s[run]])
            run++;
        synth_buf_put(buf, s + i, run - i);
        if (run == len)
            break;
        unsigned char c = (unsigned char)s[run];
        char esc[6] = {'\\', 0, 0, 0, 0, 0};
        size_t n = 2;
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\n': esc[1] = 'n'; break;
        case '\t': esc[1] = 't'; break;
        case '\r': esc[1] = 'r'; break;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            n = 6;
        }
        synth_buf_put(buf, esc, n);
        i = run + 1;
    }
    synth_buf_putc(buf, '"');
}

/* ------------------------------------------------------------------ dates */

/* Howard Hinnant's days_from_civil / civil_from_days. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void synth_civil(int64_t seconds, int *year, int *month, int *day, int *hour, int *minute,
                 int *second)
{
    int64_t days = seconds >= 0 ? seconds / 86400 : -((-seconds + 86399) / 86400);
    int64_t rem = seconds - days * 86400;
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int d = (int)(doy - (153 * mp + 2) / 5 + 1);
    int m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *year = (int)(yoe + era * 400 + (m <= 2));
    *month = m;
    *day = d;
    *hour = (int)(rem / 3600);
    *minute = (int)(rem / 60 % 60);
    *second = (int)(rem % 60);
}

void synth_format_date(int64_t seconds, char out[32])
{
    int y, mo, d, h, mi, s;
    synth_civil(seconds, &y, &mo, &d, &h, &mi, &s);
    snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, mo, d, h, mi, s);
}

int synth_parse_date(const char *text, int64_t *seconds)
{
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, used = 0;
    if (sscanf(text, "%4d-%2d-%2d%n", &y, &mo, &d, &used) != 3 || used != 10)
        return -1;
    const char *p = text + used;
    if (*p == 'T' || *p == ' ') {
        int n = 0;
        if (sscanf(p + 1, "%2d:%2d%n", &h, &mi, &n) != 2 || n != 5)
            return -1;
        p += 1 + n;
        if (*p == ':') {
            if (sscanf(p + 1, "%2d%n", &s, &n) != 1 || n != 2)
                return -1;
            p += 1 + n;
        }
    }
    if (*p == 'Z')
        p++;
    if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59 || h < 0 ||
        mi < 0 || s < 0)
        return -1;
    *seconds = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
    return 0;
}

uint64_t synth_hash(const void *ptr, size_t len, uint64_t seed)
{
    const unsigned char *p = ptr;
    uint64_t h = 0xcbf29ce484222325ull ^ seed;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return synth_splitmix64(&h);
}
