/* alloc.c: the allocator hook (cd_set_allocator), its wrappers, status
 * strings and small shared helpers. cJSON is pointed at the same hook. */
#include "alloc.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static cd_allocator current = {malloc, realloc, free};

/* Allocations refused on this thread (see cd__alloc_failures). */
static _Thread_local size_t failures;

/* cJSON's malloc: the hook, counting refusals, since cJSON reports a failed
 * allocation as a parse error. */
static void *cjson_malloc(size_t size)
{
    void *p = current.malloc_fn(size);
    failures += p == NULL;
    return p;
}

cd_status cd_set_allocator(const cd_allocator *allocator)
{
    if (allocator == NULL) {
        current = (cd_allocator){malloc, realloc, free};
    } else {
        if (!allocator->malloc_fn || !allocator->realloc_fn || !allocator->free_fn)
            return CD_ERR_ARG;
        current = *allocator;
    }
    cJSON_Hooks hooks = {cjson_malloc, current.free_fn};
    cJSON_InitHooks(&hooks);
    return CD_OK;
}

size_t cd__alloc_failures(void) { return failures; }

void *cd__malloc(size_t size)
{
    void *p = current.malloc_fn(size ? size : 1);
    failures += p == NULL;
    return p;
}

void *cd__calloc(size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size)
        return NULL;
    void *p = cd__malloc(count * size);
    if (p)
        memset(p, 0, count * size);
    return p;
}

void *cd__realloc(void *ptr, size_t size)
{
    void *p = current.realloc_fn(ptr, size ? size : 1);
    failures += p == NULL;
    return p;
}

void cd__free(void *ptr)
{
    if (ptr)
        current.free_fn(ptr);
}

int cd__grow(void **array, size_t *capacity, size_t needed, size_t elem_size)
{
    if (needed <= *capacity)
        return 0;
    size_t cap = *capacity ? *capacity : 16;
    while (cap < needed) {
        if (cap > SIZE_MAX / 2)
            return -1;
        cap *= 2;
    }
    if (elem_size != 0 && cap > SIZE_MAX / elem_size)
        return -1;
    void *p = cd__realloc(*array, cap * elem_size);
    if (!p)
        return -1;
    *array = p;
    *capacity = cap;
    return 0;
}

char *cd__strndup(const char *s, size_t len)
{
    char *p = cd__malloc(len + 1);
    if (!p)
        return NULL;
    if (len)
        memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

void cd__set_error(char *errmsg, const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    vsnprintf(errmsg, CD_ERRMSG_SIZE, format, ap);
    va_end(ap);
}

double cd__now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

const char *cd_strerror(cd_status status)
{
    switch (status) {
    case CD_OK: return "ok";
    case CD_END: return "end of input";
    case CD_ERR_NOMEM: return "out of memory";
    case CD_ERR_ARG: return "invalid argument";
    case CD_ERR_INPUT: return "bad input record";
    case CD_ERR_DUPLICATE_ID: return "duplicate document id";
    case CD_ERR_LIMIT: return "input over a size limit";
    case CD_ERR_FORMAT: return "corrupt or truncated stream";
    case CD_ERR_IO: return "input/output error";
    case CD_ERR_STATE: return "call made in the wrong order";
    }
    return "unknown status";
}

const char *cd_version(void) { return CD_VERSION_STRING; }

uint32_t *cd__empty_slots(size_t *slot_count, size_t needed)
{
    size_t count = *slot_count ? *slot_count : 1024;
    while (count < needed) {
        if (count > SIZE_MAX / 2 / sizeof(uint32_t))
            return NULL;
        count *= 2;
    }
    uint32_t *slots = cd__malloc(count * sizeof *slots);
    if (!slots)
        return NULL;
    memset(slots, 0xff, count * sizeof *slots);
    *slot_count = count;
    return slots;
}
