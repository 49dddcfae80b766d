/* html_bytes.h: byte scans shared by the extract stage (extract.c) and
 * its fast parser (html_fast.c): word-at-a-time tests on 8 bytes, and
 * U+FFFE/U+FFFF, which libxml2 drops. */
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

#endif
