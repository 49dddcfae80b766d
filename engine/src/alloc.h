/* alloc.h: the engine's one allocation path. Every allocation in engine/src
 * goes through these wrappers so tests can fail the Nth one (see
 * cd_set_allocator). Also a growable byte buffer and an error-message helper. */
#ifndef CD_ALLOC_H
#define CD_ALLOC_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "copydesk/copydesk.h"

void *cd__malloc(size_t size);
void *cd__calloc(size_t count, size_t size); /* zeroed; NULL on overflow */
void *cd__realloc(void *ptr, size_t size);
void cd__free(void *ptr);

/* How many allocations the hook has refused on the calling thread so far
 * (cJSON's included): a change across a call that failed means it failed
 * for want of memory. */
size_t cd__alloc_failures(void);

/* Grows *array (of *capacity elements of elem_size bytes) to hold at least
 * needed elements, at least doubling. Returns 0 on success, -1 on overflow
 * or allocation failure (the array is then unchanged). */
int cd__grow(void **array, size_t *capacity, size_t needed, size_t elem_size);

/* A new slot array for an open-addressing table that must hold needed
 * slots: *slot_count (the current count, or 0) doubled from 1024 until it
 * is at least needed, every slot set to all-ones bits (UINT32_MAX: empty).
 * On success *slot_count is the new count; NULL on failure (*slot_count
 * unchanged). The caller moves the old entries in and frees the old array. */
uint32_t *cd__empty_slots(size_t *slot_count, size_t needed);

/* A copy of s[0..len) with a NUL appended; NULL on failure. */
char *cd__strndup(const char *s, size_t len);

/* Error-message buffer size used by every handle. */
#define CD_ERRMSG_SIZE 512

/* snprintf into a handle's message buffer (size CD_ERRMSG_SIZE). */
void cd__set_error(char *errmsg, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

/* Seconds from a monotonic clock, for stage timings. */
double cd__now(void);

#endif
