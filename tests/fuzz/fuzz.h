/* fuzz.h: what every fuzz target in tests/fuzz shares. A target defines
 * LLVMFuzzerTestOneInput; it is linked either with libFuzzer (COPYDESK_FUZZ
 * builds, clang -fsanitize=fuzzer) or with replay.c, which runs it over the
 * saved corpus under ctest in every build. A broken invariant aborts. */
#ifndef CD_FUZZ_H
#define CD_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts with the failed condition when cond is false. */
#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);              \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* Consumes the input from the front: parameters first, the rest as data. */
typedef struct fuzz_input {
    const uint8_t *p;
    size_t left;
} fuzz_input;

/* The next byte, or 0 when the input is used up. */
static inline uint8_t fuzz_byte(fuzz_input *in)
{
    if (in->left == 0)
        return 0;
    in->left--;
    return *in->p++;
}

/* The next n bytes (n <= 8) as a little-endian integer; missing bytes are 0. */
static inline uint64_t fuzz_uint(fuzz_input *in, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v |= (uint64_t)fuzz_byte(in) << (8 * i);
    return v;
}

#endif
