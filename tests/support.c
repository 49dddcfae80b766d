/* support.c: the counting allocator and golden-file check shared by the
 * test programs (support.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "copydesk/copydesk.h"
#include "support.h"

/* ------------------------------------------------- counting allocator */

/* Shared with the signing threads, hence atomic. */
static long alloc_count, alloc_fail_at, alloc_live, alloc_failed;
static int alloc_fail_after;

static int should_fail(void)
{
    long n = __atomic_add_fetch(&alloc_count, 1, __ATOMIC_SEQ_CST);
    long at = __atomic_load_n(&alloc_fail_at, __ATOMIC_SEQ_CST);
    int after = __atomic_load_n(&alloc_fail_after, __ATOMIC_SEQ_CST);
    if (at > 0 && (n == at || (after && n > at))) {
        __atomic_add_fetch(&alloc_failed, 1, __ATOMIC_SEQ_CST);
        return 1;
    }
    return 0;
}

static void *counting_malloc(size_t size)
{
    if (should_fail())
        return NULL;
    void *p = malloc(size);
    if (p)
        __atomic_add_fetch(&alloc_live, 1, __ATOMIC_SEQ_CST);
    return p;
}

static void *counting_realloc(void *ptr, size_t size)
{
    if (should_fail())
        return NULL;
    void *p = realloc(ptr, size);
    if (p && !ptr)
        __atomic_add_fetch(&alloc_live, 1, __ATOMIC_SEQ_CST);
    return p;
}

static void counting_free(void *ptr)
{
    if (ptr)
        __atomic_sub_fetch(&alloc_live, 1, __ATOMIC_SEQ_CST);
    free(ptr);
}

void counting_alloc_fail_at(long fail_at, int fail_after)
{
    __atomic_store_n(&alloc_fail_after, fail_after, __ATOMIC_SEQ_CST);
    __atomic_store_n(&alloc_fail_at, fail_at, __ATOMIC_SEQ_CST);
}

void counting_alloc_start(long fail_at, int fail_after)
{
    static const cd_allocator counting = {counting_malloc, counting_realloc, counting_free};
    __atomic_store_n(&alloc_count, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&alloc_live, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&alloc_failed, 0, __ATOMIC_SEQ_CST);
    counting_alloc_fail_at(fail_at, fail_after);
    assert_int_equal(cd_set_allocator(&counting), CD_OK);
}

void counting_alloc_stop(void)
{
    assert_int_equal(cd_set_allocator(NULL), CD_OK);
}

long counting_alloc_count(void) { return __atomic_load_n(&alloc_count, __ATOMIC_SEQ_CST); }
long counting_alloc_live(void) { return __atomic_load_n(&alloc_live, __ATOMIC_SEQ_CST); }
long counting_alloc_failed(void) { return __atomic_load_n(&alloc_failed, __ATOMIC_SEQ_CST); }

/* ------------------------------------------------------- golden files */

void appendf(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int n = vsnprintf(*buf + *len, *cap - *len, fmt, ap);
        va_end(ap);
        assert_true(n >= 0);
        if ((size_t)n < *cap - *len) {
            *len += (size_t)n;
            return;
        }
        *cap = (*cap + (size_t)n) * 2;
        *buf = realloc(*buf, *cap);
        assert_non_null(*buf);
    }
}

void check_golden(const char *name, const char *text, int update, const char *what)
{
    const char *dir = getenv("COPYDESK_TEST_DATA");
    if (!dir)
        fail_msg("COPYDESK_TEST_DATA is not set (ctest sets it to tests/data)");
    char path[4096];
    snprintf(path, sizeof path, "%s/golden/%s", dir, name);
    if (update) {
        FILE *f = fopen(path, "wb");
        if (!f)
            fail_msg("cannot write %s", path);
        fputs(text, f);
        assert_int_equal(fclose(f), 0);
        print_message("wrote %s\n", path);
        return;
    }
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot read %s (regenerate with --update)", path);
    char *want = malloc(1 << 20);
    assert_non_null(want);
    size_t n = fread(want, 1, (1 << 20) - 1, f);
    fclose(f);
    want[n] = '\0';
    /* the first line that differs, both versions */
    const char *a = text, *b = want;
    unsigned line = 1;
    while (*a || *b) {
        size_t la = strcspn(a, "\n"), lb = strcspn(b, "\n");
        if (la != lb || memcmp(a, b, la) != 0) {
            print_error("%s:%u differs (%s changed?)\n", path, line, what);
            char *got = strndup(a, la), *exp = strndup(b, lb);
            assert_string_equal(got, exp);
        }
        a += la + (a[la] == '\n');
        b += lb + (b[lb] == '\n');
        line++;
    }
    free(want);
}

uint64_t test_random(uint64_t *state)
{
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return *state * 2685821657736338717ull;
}
