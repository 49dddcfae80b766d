/* support.h: helpers shared by the cmocka test programs (linked into each as
 * the copydesk_test_support library): a counting allocator for
 * cd_set_allocator that fails a chosen allocation and counts live blocks,
 * and the golden-file check of the golden-vector tests. Include after
 * <cmocka.h>. */
#ifndef CD_TESTS_SUPPORT_H
#define CD_TESTS_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------- counting allocator */

/* Zeroes the counters and installs the counting allocator: allocation
 * number fail_at (1-based, counting every malloc and realloc) returns NULL,
 * and with fail_after every later one too; fail_at 0 fails none. The
 * counters are atomic, so signing threads may allocate. */
void counting_alloc_start(long fail_at, int fail_after);

/* Changes which allocation fails without zeroing the counters (0: none
 * from now on, e.g. to check that a handle works once memory is back). */
void counting_alloc_fail_at(long fail_at, int fail_after);

/* Puts back the C library's allocator (cd_set_allocator(NULL)). The
 * counters keep their values. */
void counting_alloc_stop(void);

long counting_alloc_count(void);  /* allocations tried since the start */
long counting_alloc_live(void);   /* blocks allocated and not yet freed */
long counting_alloc_failed(void); /* allocations that returned NULL */

/* --------------------------------------------------------- test data */

/* The next value of a xorshift64* sequence: deterministic test data from
 * a caller-kept state, which must not be 0. */
uint64_t test_random(uint64_t *state);

/* ------------------------------------------------------- golden files */

/* Appends printf-style text to the heap string *buf of length *len and
 * capacity *cap, growing it as needed. */
void appendf(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Compares text with $COPYDESK_TEST_DATA/golden/name line by line and fails
 * at the first line that differs, showing both and saying "(what
 * changed?)"; with update set, rewrites the file with text instead. */
void check_golden(const char *name, const char *text, int update, const char *what);

#endif
