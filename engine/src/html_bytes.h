/* html_bytes.h: byte scans shared by the extract stage (extract.c) and
 * its fast parser (html_fast.c): word-at-a-time tests on 8 bytes, and
 * the characters libxml2 keeps. */
#ifndef CD_HTML_BYTES_H
#define CD_HTML_BYTES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "utf8.h"

/* Each test sets the top bit of exactly the bytes that pass it (no carry
 * crosses a byte). Only "no byte passes" is relied on, so the byte order
 * does not matter. */
enum { WORD = 8 };
#define ONES UINT64_C(0x0101010101010101)
#define HIGHS (ONES * 0x80)
#define LOW7 (ONES * 0x7F)

static inline uint64_t word_at(const unsigned char *s)
{
    uint64_t v;
    memcpy(&v, s, WORD);
    return v;
}

/* The bytes of v equal to c. */
static inline uint64_t bytes_equal(uint64_t v, unsigned char c)
{
    uint64_t x = v ^ (ONES * c);
    return ~(((x & LOW7) + LOW7) | x) & HIGHS;
}

/* The bytes of v below c (c <= 0x80). */
static inline uint64_t bytes_below(uint64_t v, unsigned char c)
{
    return ~(((v & LOW7) + ONES * (0x80u - c)) | v) & HIGHS;
}

/* 1 for U+FFFE or U+FFFF (n bytes at s), which libxml2 drops. */
static inline int utf8_nonchar(const unsigned char *s, size_t n)
{
    return n == 3 && s[0] == 0xEF && s[1] == 0xBF && s[2] >= 0xBE;
}

/* 1 when html[0..len) is well-formed UTF-8 whose every character libxml2
 * keeps as it is: no control character but tab, line feed and carriage
 * return, no U+FFFE or U+FFFF, no byte-order mark. */
static inline int cd__html_plain_bytes(const char *html, size_t len)
{
    const unsigned char *s = (const unsigned char *)html, *end = s + len;
    if (len >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF)
        return 0;
    while (s < end) {
        if (end - s >= WORD) {
            uint64_t v = word_at(s);
            if (!((v & HIGHS) |
                  (bytes_below(v, 0x20) & ~(bytes_equal(v, '\n') | bytes_equal(v, '\t'))))) {
                s += WORD;
                continue;
            }
        }
        if (*s < 0x80) {
            if (*s < 0x20 && *s != '\n' && *s != '\t' && *s != '\r')
                return 0;
            s++;
            continue;
        }
        size_t n = utf8_length(s, (size_t)(end - s));
        if (n == 0 || utf8_nonchar(s, n))
            return 0;
        s += n;
    }
    return 1;
}

/* The first '<' or '&' in s[0..end), end if none. */
static inline const char *cd__html_find_markup(const char *s, const char *end)
{
    while (end - s >= WORD) {
        uint64_t v = word_at((const unsigned char *)s);
        if (bytes_equal(v, '<') | bytes_equal(v, '&'))
            break;
        s += WORD;
    }
    while (s < end && *s != '<' && *s != '&')
        s++;
    return s;
}

#endif
